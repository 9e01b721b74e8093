# lib.sh: helpers shared by the benchmark scripts (sourced, not run).

BENCH_DB=${BENCH_DB:-perfstore_bench}

# psql on the benchmark database, quiet, unaligned, no psqlrc
bpsql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$BENCH_DB" "$@"
}

ensure_bench_db() {
	if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1; then
		psql -X -q -d postgres -c "CREATE DATABASE $BENCH_DB"
	fi
}

# exec_ms SETTINGS QUERY: server-side execution time of one run, in ms
exec_ms() {
	bpsql -c "$1" -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) $2" |
		awk '/Execution Time/ {print $3}'
}

# session_ms SETTINGS QUERY...: the time of each query, in ms, one per line,
# as a client sees it (psql's \timing), all in one session as a dashboard or
# application runs them: no per-row instrumentation and no connection set-up
# inside the measure.  The session first loads the libraries the queries
# need (JIT, the extension's), so that no query pays for that.
session_ms() {
	local setting=$1 q
	shift
	{
		printf '%s\n' "$setting"
		printf 'SET jit_above_cost = 0;\nSELECT count(*) FROM (VALUES (1.0::float8)) v(x) WHERE x > random();\nRESET jit_above_cost;\n'
		printf '%s\n' "${BENCH_SESSION_WARM:-}"
		printf '\\o /dev/null\n\\timing on\n'
		for q in "$@"; do
			printf '%s;\n' "$q"
		done
	} | bpsql | awk '/^Time:/ {print $2}'
}

# median of the numbers on stdin
median() {
	sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}

# ratio A B: A / B with two decimals
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "nan"; else printf "%.2f", a / b}'
}
