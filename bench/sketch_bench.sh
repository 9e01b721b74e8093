#!/usr/bin/env bash
# sketch_bench.sh: the quantile sketch against its anchors, side by side in
# one run, on 10M lognormal float8 rows (median of BENCH_REPEAT runs each,
# measured in rounds so that every query sees the same machine noise).
#
# Anchors: avg(v) (the floor: a scan plus one call per row),
# percentile_cont(0.95) and tdigest_percentile(v, 100, 0.95).
set -euo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/bench/lib.sh"
ROWS=${BENCH_SKETCH_ROWS:-10000000}
REPEAT=${BENCH_REPEAT:-5}

ensure_bench_db
bpsql <<SQL
CREATE EXTENSION IF NOT EXISTS perfstore;
CREATE EXTENSION IF NOT EXISTS tdigest;
SQL
have=$(bpsql -c "SELECT count(*) FROM pg_class WHERE relname = 'sketch_bench_data'")
if [ "$have" = 0 ] || [ "$(bpsql -c "SELECT reltuples::bigint FROM pg_class WHERE relname = 'sketch_bench_data'")" != "$ROWS" ]; then
	echo "generating $ROWS lognormal rows..."
	bpsql <<SQL
DROP TABLE IF EXISTS sketch_bench_data;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE sketch_bench_data AS
	SELECT (i % 100000)::int AS g,
		   exp(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) * 0.8 + 1.5) AS v
	FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE sketch_bench_data;
SQL
fi

serial="SET max_parallel_workers_per_gather = 0; SET work_mem = '1GB';"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET work_mem = '1GB';"
declare -A Q=(
	[avg]="SELECT avg(v) FROM sketch_bench_data"
	[approx]="SELECT perfstore.approx_percentile(v, 0.95) FROM sketch_bench_data"
	[approx3]="SELECT perfstore.approx_percentiles(v, '{.5,.95,.99}') FROM sketch_bench_data"
	[sketch]="SELECT perfstore.quantile(perfstore.sketch_agg(v), 0.95) FROM sketch_bench_data"
	[cont]="SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY v) FROM sketch_bench_data"
	[tdigest]="SELECT tdigest_percentile(v, 100, 0.95) FROM sketch_bench_data"
)
order=(avg approx approx3 sketch cont tdigest)
declare -A T PT
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# warm the cache once
exec_ms "$serial" "${Q[avg]}" >/dev/null
for ((r = 1; r <= REPEAT; r++)); do
	for k in "${order[@]}"; do
		exec_ms "$serial" "${Q[$k]}" >>"$tmp/$k"
	done
	for k in avg approx tdigest; do
		exec_ms "$parallel" "${Q[$k]}" >>"$tmp/p_$k"
	done
done
for k in "${order[@]}"; do T[$k]=$(median <"$tmp/$k"); done
for k in avg approx tdigest; do PT[$k]=$(median <"$tmp/p_$k"); done

printf 'sketch: %s lognormal float8 rows, one process, median of %s (ms)\n' "$ROWS" "$REPEAT"
printf '  %-44s %10s  %s\n' "query" "ms" "ratio"
printf '  %-44s %10.1f  %s\n' "avg(v)  [floor]" "${T[avg]}" "1.00"
printf '  %-44s %10.1f  %s x avg   (goal <= 1.25)\n' "approx_percentile(v, 0.95)" "${T[approx]}" "$(ratio "${T[approx]}" "${T[avg]}")"
printf '  %-44s %10.1f  %s x approx_percentile   (goal ~ 1.0)\n' "approx_percentiles(v, '{.5,.95,.99}')" "${T[approx3]}" "$(ratio "${T[approx3]}" "${T[approx]}")"
printf '  %-44s %10.1f  %s x avg\n' "quantile(sketch_agg(v), 0.95)" "${T[sketch]}" "$(ratio "${T[sketch]}" "${T[avg]}")"
printf '  %-44s %10.1f  approx_percentile is %s x faster   (goal >= 5)\n' "percentile_cont(0.95)" "${T[cont]}" "$(ratio "${T[cont]}" "${T[approx]}")"
printf '  %-44s %10.1f  approx_percentile is %s x faster   (goal >= 2.5)\n' "tdigest_percentile(v, 100, 0.95)" "${T[tdigest]}" "$(ratio "${T[tdigest]}" "${T[approx]}")"
printf '  with 2 parallel workers (ms, speed-up over one process):\n'
printf '  %-44s %10.1f  %s x\n' "avg(v)" "${PT[avg]}" "$(ratio "${T[avg]}" "${PT[avg]}")"
printf '  %-44s %10.1f  %s x   (goal: like avg)\n' "approx_percentile(v, 0.95)" "${PT[approx]}" "$(ratio "${T[approx]}" "${PT[approx]}")"
printf '  %-44s %10.1f  %s x\n' "tdigest_percentile(v, 100, 0.95)" "${PT[tdigest]}" "$(ratio "${T[tdigest]}" "${PT[tdigest]}")"

echo "  relative error against exact percentile_disc:"
bpsql -F ' ' <<'SQL' | awk '{printf "    q=%-6s exact %-12.6g perfstore %.5f%%   tdigest %.5f%%\n", $1, $2, $3, $4}'
SET max_parallel_workers_per_gather = 0;
SET work_mem = '1GB';
WITH q(q) AS (VALUES (0.5::float8), (0.95), (0.99), (0.999)),
exact AS (SELECT q.q, (SELECT percentile_disc(q.q) WITHIN GROUP (ORDER BY v)
						FROM sketch_bench_data) AS e FROM q),
s AS (SELECT perfstore.sketch_agg(v) AS s, tdigest(v, 100) AS t FROM sketch_bench_data)
SELECT q, e,
	   100 * abs(perfstore.quantile(s.s, q) - e) / e,
	   100 * abs(tdigest_percentile(s.t, q) - e) / e
FROM exact CROSS JOIN s ORDER BY q;
SQL

echo "  GROUP BY over 100,000 groups ($((ROWS / 100000)) rows each), hash aggregate memory:"
for agg in "avg(v)" "perfstore.approx_percentile(v, 0.95)" "perfstore.sketch_agg(v)" "tdigest_percentile(v, 100, 0.95)"; do
	line=$(bpsql -c "$serial SET enable_sort = off; SET work_mem = '4GB';" -c "EXPLAIN (ANALYZE, TIMING OFF) SELECT g, $agg FROM sketch_bench_data GROUP BY g" |
		grep -m1 -E 'Memory Usage|Batches' | sed -E 's/^ +//')
	printf '    %-40s %s\n' "$agg" "$line"
done

size=$(bpsql -c "SELECT octet_length(perfstore.sketch_agg(v)::bytea) FROM (SELECT v FROM sketch_bench_data LIMIT 1000000) t")
printf '  packed size of a sketch of 1M lognormal latencies at alpha 0.01: %s bytes (goal < 2048)\n' "$size"
