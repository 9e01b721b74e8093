#!/usr/bin/env bash
# demo.sh: the main job on the embedded default.  Starts the throwaway
# cluster, creates the extension in database perfstore_demo, loads a sample
# latency data set and shows what the sketch answers next to the exact
# values, then runs the load driver against the same cluster (when built).
#
# The cluster keeps running afterwards so the data can be explored:
#   scripts/pgcluster.sh psql -d perfstore_demo
#   scripts/pgcluster.sh stop
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
scripts/pgcluster.sh start
eval "$(scripts/pgcluster.sh env)"
DB=perfstore_demo

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
p() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

echo "== perfstore demo: 1,000,000 request latencies over three endpoints"
p <<'SQL'
CREATE EXTENSION perfstore;
SELECT setseed(0.7) \gset
-- lognormal service times with a slow tail (2% of requests wait on a lock)
CREATE TABLE request_latency AS
SELECT (ARRAY['GET /orders', 'GET /orders/:id', 'POST /checkout'])[1 + i % 3] AS endpoint,
	   now() - (i % 86400) * interval '1 second' AS ts,
	   CASE WHEN random() < 0.02 THEN 150 + 100 * random()
			ELSE exp(ln(4 + 6 * (i % 3)) + 0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
	   END AS ms
FROM generate_series(1, 1000000) AS i;
ANALYZE request_latency;
SQL

echo
echo "-- p50 / p95 / p99 per endpoint: approx_percentiles() next to exact percentile_disc()"
p <<'SQL'
\pset footer off
SELECT endpoint,
	   round(e[1]::numeric, 2) AS exact_p50, round(a[1]::numeric, 2) AS sketch_p50,
	   round(e[2]::numeric, 2) AS exact_p95, round(a[2]::numeric, 2) AS sketch_p95,
	   round(e[3]::numeric, 2) AS exact_p99, round(a[3]::numeric, 2) AS sketch_p99,
	   round(100 * greatest(abs(a[1] - e[1]) / e[1], abs(a[2] - e[2]) / e[2],
							abs(a[3] - e[3]) / e[3])::numeric, 3) AS "max error %"
FROM (SELECT endpoint,
			 perfstore.approx_percentiles(ms, '{0.5,0.95,0.99}') AS a,
			 percentile_disc('{0.5,0.95,0.99}'::float8[]) WITHIN GROUP (ORDER BY ms) AS e
	  FROM request_latency GROUP BY endpoint) t
ORDER BY endpoint;
SQL

echo "-- the same from stored per-hour sketches, merged (what a rollup does)"
p <<'SQL'
\pset footer off
CREATE TABLE latency_hourly AS
SELECT endpoint, date_trunc('hour', ts) AS hour,
	   perfstore.sketch_agg(ms) AS sketch, perfstore.stats_agg(ms) AS stats
FROM request_latency GROUP BY 1, 2;
SELECT endpoint, count(*) AS hours,
	   round(perfstore.quantile(perfstore.sketch_agg(sketch), 0.99)::numeric, 2) AS p99_from_rollup,
	   round(perfstore.mean(perfstore.stats_agg(stats))::numeric, 3) AS mean,
	   round(perfstore.stddev(perfstore.stats_agg(stats))::numeric, 3) AS stddev,
	   round(avg(octet_length(sketch::bytea))) AS "avg sketch bytes"
FROM latency_hourly GROUP BY endpoint ORDER BY endpoint;
SQL

echo "-- latency histogram of POST /checkout from buckets() (one bar per power of two)"
p <<'SQL'
\pset footer off
WITH b AS (
	SELECT b.* FROM (SELECT perfstore.sketch_agg(ms) AS s FROM request_latency
					 WHERE endpoint = 'POST /checkout') t,
				   perfstore.buckets(t.s) AS b),
bins AS (
	SELECT floor(ln(lower) / ln(2))::int AS k, sum(count) AS n FROM b GROUP BY 1)
SELECT format('%8s - %-8s ms', 2 ^ k, 2 ^ (k + 1)) AS range, n AS requests,
	   repeat('#', ceil(60.0 * n / max(n) OVER ())::int) AS histogram
FROM bins ORDER BY k;
SQL

if [ -x driver/perfdriver ] && [ -f scripts/demo_driver.sh ]; then
	echo
	scripts/demo_driver.sh
fi

echo
echo "The cluster is still running. Explore with: scripts/pgcluster.sh psql -d $DB"
echo "Stop it with: scripts/pgcluster.sh stop"
