#!/usr/bin/env bash
# bench_concurrency.sh: concurrent drivers of one run group
# (run groups, docs/runs.md): store_run() from many sessions at once must neither lose an
# update nor deadlock.
#
# Runs against the throwaway cluster (PG* from tests/run.sh; by hand:
# scripts/pgcluster.sh start && eval "$(scripts/pgcluster.sh env)") with the
# pgbench and psql of $PERFSTORE_PGBIN.  Creates the database
# perfstore_bench_conc_PID (dropped first if it exists, and at the end).
#
# pgbench runs BENCH_CONCURRENCY_CLIENTS sessions (default 8) for
# BENCH_CONCURRENCY_TRANSACTIONS transactions each (default 25); each
# transaction stores one driver document into one of three run groups (the
# groups do not exist at the start, so the first stores race to create
# them), with two statements (one shared by all sessions, one per session),
# two intervals and one N+1 finding, each document carrying 10 transactions,
# 1 failed, 2 errors 40001 and a latency sketch of 10 values.
# Checks: pgbench exits 0 with every transaction done and none failed; the
# three groups hold exactly: drivers = documents stored, transactions,
# failed transactions, errors and sketch counts = documents x their values,
# the shared statement's calls and the intervals' transactions likewise, one
# statement row per session plus the shared one, the N+1 occurrences.
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
DB=perfstore_bench_conc_$$
CLIENTS=${BENCH_CONCURRENCY_CLIENTS:-8}
XACTS=${BENCH_CONCURRENCY_TRANSACTIONS:-25}

TMP=$(mktemp -d /tmp/perfstore_bench_conc.XXXXXX)
psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
	psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" >/dev/null
if psql -d postgres -c "CREATE DATABASE $DB" >"$TMP/setup.out" 2>&1 &&
	psql -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" >>"$TMP/setup.out" 2>&1; then
	ok "database with perfstore $(psql -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")"
else
	not_ok "database with perfstore" "$TMP/setup.out"
	finish
fi

# one driver document per transaction, in one of three groups
cat >"$TMP/store.sql" <<'SQL'
\set g random(1, 3)
SELECT perfstore.store_run(jsonb_build_object(
	'name', 'concurrent', 'run_group', 'group' || :g, 'host', 'client' || :client_id,
	'labels', jsonb_build_object('commit', 'abc'),
	'started_at', '2026-03-01T10:00:00.000000+00:00', 'finished_at', '2026-03-01T10:00:10.000000+00:00',
	'tps', 1, 'transactions', 10, 'failed_transactions', 1, 'retries', 0, 'clients', 1,
	'errors', '{"40001": 2}'::jsonb,
	'latency_sketch', (SELECT perfstore.sketch_agg(x::float8)::text FROM generate_series(1, 10) x),
	'statements', jsonb_build_array(
		jsonb_build_object('fingerprint', 'shared', 'query', 'SELECT 1', 'calls', 10, 'rows', 10, 'errors', 0,
		                   'latency_sketch', (SELECT perfstore.sketch_agg(x::float8)::text FROM generate_series(1, 10) x)),
		jsonb_build_object('fingerprint', 'client' || :client_id, 'query', 'SELECT 2', 'calls', 1, 'rows', 1,
		                   'errors', 0)),
	'intervals', jsonb_build_array(
		jsonb_build_object('length_s', 5, 'tps', 1, 'transactions', 5, 'failed', 0, 'errors', 0,
		                   'latency_sketch', (SELECT perfstore.sketch_agg(x::float8)::text FROM generate_series(1, 5) x)),
		jsonb_build_object('length_s', 5, 'tps', 1, 'transactions', 5, 'failed', 1, 'errors', 2,
		                   'latency_sketch', (SELECT perfstore.sketch_agg(x::float8)::text FROM generate_series(6, 10) x))),
	'nplus1_findings', jsonb_build_array(
		jsonb_build_object('source_fingerprint', 's', 'repeated_fingerprint', 'r', 'occurrences', 1,
		                   'repeats_total', 10, 'repeats_max', 10, 'time_ms', 1))));
SQL
"$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -t "$XACTS" -f "$TMP/store.sql" "$DB" >"$TMP/pgbench.out" 2>&1
rc=$?
done_x=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$TMP/pgbench.out")
failed_x=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$TMP/pgbench.out")
n=$((CLIENTS * XACTS))
if [ "$rc" -eq 0 ] && [ "${done_x:-0}" -eq "$n" ] && [ "${failed_x:-0}" -eq 0 ]; then
	ok "pgbench: $CLIENTS sessions stored $done_x documents into 3 run groups, none failed"
else
	not_ok "pgbench: $CLIENTS sessions storing $n documents (exit $rc)" "$TMP/pgbench.out"
fi

check() {
	local what=$1 sql=$2 expected=$3
	local got
	got=$(psql -d "$DB" -c "$sql" 2>&1)
	if [ "$got" = "$expected" ]; then
		ok "$what: $got"
	else
		echo "expected: $expected" >"$TMP/check.out"
		echo "got:      $got" >>"$TMP/check.out"
		not_ok "$what" "$TMP/check.out"
	fi
}
check "three runs, one per group, every driver counted" \
	"SELECT count(*), sum(drivers), sum(clients), sum(cardinality(hosts)) FROM perfstore.bench_runs" \
	"3|$n|$n|$n"
check "no lost update of the run counters" \
	"SELECT sum(transactions), sum(failed_transactions), sum(tps), sum((errors->>'40001')::bigint), sum(perfstore.num_vals(latency)) FROM perfstore.bench_runs" \
	"$((n * 10))|$n|$n|$((n * 2))|$((n * 10))"
check "the group's sketch is the merge of its drivers' sketches" \
	"SELECT bool_and(perfstore.max_val(latency) = 10 AND perfstore.min_val(latency) = 1 AND perfstore.sum(latency) = drivers * 55) FROM perfstore.bench_runs" \
	"t"
check "statements merged by fingerprint: the shared one, one per session and group" \
	"SELECT sum(calls) FILTER (WHERE fingerprint = 'shared'), sum(perfstore.num_vals(latency)), count(*) FILTER (WHERE fingerprint = 'shared'), sum(calls) FILTER (WHERE fingerprint <> 'shared') FROM perfstore.bench_statements" \
	"$((n * 10))|$((n * 10))|3|$n"
check "intervals merged by position" \
	"SELECT count(*), sum(transactions), sum(failed), sum(perfstore.num_vals(latency)) FROM perfstore.bench_intervals" \
	"6|$((n * 10))|$n|$((n * 10))"
check "N+1 findings merged by fingerprint pair" \
	"SELECT count(*), sum(occurrences), sum(repeats_total), max(repeats_max) FROM perfstore.nplus1_findings" \
	"3|$n|$((n * 10))|10"

finish
