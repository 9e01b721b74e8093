#!/usr/bin/env bash
# citus_bench.sh: the store on one node against the store distributed on a
# Citus coordinator and two workers, on this machine (docs/scale-out.md,
# "Measurements").
#
# Starts three throwaway clusters of the PostgreSQL under test (as
# tests/suites/citus.sh does: 127.0.0.1, ports of their own, removed on
# exit).  On the coordinator, database "single" holds a plain perfstore and
# database "dist" a perfstore distributed over both workers
# (distribute(BENCH_CITUS_SHARDS)).  On each, the median of BENCH_REPEAT
# runs of:
#   1. batch ingest: INSERT of BENCH_CITUS_ROWS rows (BENCH_CITUS_SERIES
#      series, on time) through the ingest view, in rows/s;
#   2. record(): BENCH_CITUS_RECORDS calls in one statement, in rows/s;
#   3. the latency dashboard: every query of
#      grafana/dashboards/perfstore-latency.json over the last 6 hours for
#      one metric, after maintain(), in ms per refresh of the dashboard
#      (the sum of its queries).
# Every node shares the machine's cores, so 1+2 nodes compete for the CPUs
# one node has to itself: the figures show the coordinator's overhead, not
# a speed-up.  Prints "# skipped: REASON" and exits 0 when Citus is not
# installed in that PostgreSQL.  It never fails on speed.
#   BENCH_CITUS_ROWS (200000), BENCH_CITUS_SERIES (100),
#   BENCH_CITUS_RECORDS (5000), BENCH_CITUS_SHARDS (8), BENCH_REPEAT (5)
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
ROWS=${BENCH_CITUS_ROWS:-200000}
SERIES=${BENCH_CITUS_SERIES:-100}
RECORDS=${BENCH_CITUS_RECORDS:-5000}
SHARDS=${BENCH_CITUS_SHARDS:-8}
REPEAT=${BENCH_REPEAT:-5}

. "$ROOT/tests/citus_cluster.sh"
if ! citus_installed; then
	echo "# skipped: Citus is not installed in the PostgreSQL under test ($("$PGBIN/pg_config" --pkglibdir))"
	exit 0
fi
if ! citus_cluster_start perfstore-citus-bench $((55900 + $$ % 400)); then
	echo "citus bench: the nodes did not start" >&2
	cat "$BASE/start.err" >&2
	exit 1
fi
if ! citus_cluster_databases >/dev/null; then
	echo "citus bench: setting up Citus and perfstore failed" >&2
	exit 1
fi
q "$CPORT" dist -c "SET client_min_messages = warning" -c "SELECT perfstore.distribute($SHARDS)" >/dev/null || exit 1

# the median of a list of numbers, one per line
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# elapsed_ms DB SQL: the statement's time as psql's \timing shows it
elapsed_ms() {
	printf '\\timing on\n%s;\n' "$2" | q "$CPORT" "$1" | awk '/^Time:/ { t = $2 } END { print t }'
}

NOW=$(date -u +%s)
echo "citus: 1 node (database single) against a coordinator and 2 workers ($SHARDS shards) on this machine's $(nproc) cores; median of $REPEAT"

# 1. batch ingest, on time: the last hour, a new minute per round
printf '%-44s %14s %14s %8s\n' "measure" "1 node" "1+2 nodes" "ratio"
declare -A med
for d in single dist; do
	for r in $(seq 1 "$REPEAT"); do
		elapsed_ms "$d" "INSERT INTO perfstore.ingest (metric, labels, ts, value)
			SELECT 'api.latency_ms', jsonb_build_object('host', 'h' || (i % $SERIES)),
			       to_timestamp($NOW) - interval '1 hour' + (i * 3600.0 / $ROWS) * interval '1 second' + $r * interval '1 ms',
			       (i % 997)::float8
			FROM generate_series(1, $ROWS) i"
	done >"$BASE/ingest.$d"
	med[ingest.$d]=$(median <"$BASE/ingest.$d")
done
# 2. record()
for d in single dist; do
	for r in $(seq 1 "$REPEAT"); do
		elapsed_ms "$d" "SELECT count(perfstore.record('api.latency_ms', (i % 991)::float8,
			jsonb_build_object('host', 'h' || (i % $SERIES)), to_timestamp($NOW) - interval '30 minutes' + i * interval '1 ms'))
			FROM generate_series(1, $RECORDS) i"
	done >"$BASE/record.$d"
	med[record.$d]=$(median <"$BASE/record.$d")
done
for d in single dist; do
	q "$CPORT" "$d" -c "SET client_min_messages = warning" -c "SELECT perfstore.maintain()" >/dev/null
	q "$CPORT" "$d" -c "ANALYZE" >/dev/null 2>&1
done
# 3. the latency dashboard over the last 6 hours
out="$BASE/dash"
mkdir -p "$out"
perl tests/grafana_expand.pl grafana/dashboards/perfstore-latency.json "$out" "$((NOW - 6 * 3600))" "$NOW" \
	metric api.latency_ms label "'*'" >/dev/null
nq=$(ls "$out"/*.sql | wc -l)
for d in single dist; do
	for r in $(seq 1 "$REPEAT"); do
		{
			printf '\\o /dev/null\n\\timing on\n'
			cat "$out"/*.sql
		} | q "$CPORT" "$d" 2>>"$BASE/dash.err" | awk -v nq="$nq" '/^Time:/ { t += $2; n++ } END { if (n == nq) print t }'
	done >"$BASE/dash.$d"
	if [ "$(grep -c . "$BASE/dash.$d")" -ne "$REPEAT" ]; then
		echo "citus bench: a dashboard query failed in $d" >&2
		cat "$BASE/dash.err" >&2
		exit 1
	fi
	med[dash.$d]=$(median <"$BASE/dash.$d")
done

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n / (ms / 1000) }'; }
row() {
	awk -v name="$1" -v a="$2" -v b="$3" -v u="$4" 'BEGIN { printf "%-44s %12s %-3s %12s %-3s %8.2f\n", name, a, u, b, u, b / a }'
}
for m in ingest.single ingest.dist record.single record.dist; do
	if [ -z "${med[$m]}" ]; then
		echo "citus bench: $m failed" >&2
		exit 1
	fi
done
row "batch ingest ($ROWS rows, ingest view)" "$(rate "$ROWS" "${med[ingest.single]}")" "$(rate "$ROWS" "${med[ingest.dist]}")" "r/s"
row "record() ($RECORDS calls, one statement)" "$(rate "$RECORDS" "${med[record.single]}")" "$(rate "$RECORDS" "${med[record.dist]}")" "r/s"
row "latency dashboard, 6 h ($nq queries)" "${med[dash.single]}" "${med[dash.dist]}" "ms"
echo "(ratio = 1+2 nodes / 1 node; all nodes on the same $(nproc) cores: overhead, not speed-up)"
