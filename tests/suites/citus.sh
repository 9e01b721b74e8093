#!/usr/bin/env bash
# citus.sh: the store distributed with Citus gives the answers of a single
# node (docs/scale-out.md).
#
# Starts three throwaway clusters of the PostgreSQL under test (its bin
# directory: $PERFSTORE_PGBIN, else pg_config's) in a temporary directory,
# on 127.0.0.1 and three free ports of their own (never PERFSTORE_PORT or
# 54329): a coordinator and two workers, each with shared_preload_libraries
# = 'citus, perfstore'.  On the coordinator, database "single" holds a plain
# perfstore and database "dist" a perfstore on Citus with both workers.
#
# Checks: distribute()'s errors (no Citus, a worker, a role without the
# right, a bad shard count, a second call); what it distributes and what it
# makes reference tables; then the same load on both databases (record(),
# the ingest view as a writer role, new series, days without a partition,
# maintain(), late data from both paths, retention) and, after each step,
# the exact answers of both compared: samples per series (count, exact sum,
# the sketch's text, p50/p95/p99), the rollup tables' rows, the real-time
# views (with late data logged and after maintain(); as a reader granted
# before distribute() and one granted after it), partitions, the late-data
# log, maintain()'s counters, the workflow runs and the load-test runs
# stored by store_run() (a run group of two drivers among them) with their
# summaries, and every query of the shipped Grafana dashboards as the
# reader role.  On the distributed side: no row lands in the coordinator's
# local tables (the ingest view's rows reach the shards), the rollup
# refreshes are INSERT ... SELECTs that run on the shards (the statements
# the coordinator sends to the workers), and the maintenance worker
# maintains through the coordinator while the workers' workers stay out of
# it, logging that once.
#
# Skips (a "# skipped:" line with the reason, then 0 passed, 0 failed, which
# tests/run.sh lists as skipped) when Citus is not installed in that
# PostgreSQL.  The clusters are stopped and
# removed on exit, whatever happens.  The last line of output is "N passed,
# N failed"; the exit status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}

. "$ROOT/tests/citus_cluster.sh"
if ! citus_installed; then
	echo "# skipped: Citus is not installed in the PostgreSQL under test ($("$PGBIN/pg_config" --pkglibdir)); .ci/run builds it from ../shared/vendor/ (docs/scale-out.md)"
	finish
fi

if citus_cluster_start perfstore-citus $((55400 + $$ % 500)); then
	ok "coordinator and two workers started on 127.0.0.1 ports ${PORTS[*]} with shared_preload_libraries = 'citus, perfstore'"
else
	not_ok "coordinator and two workers start" "$BASE/start.err"
	finish
fi
TMP="$BASE/work"
mkdir -p "$TMP"

W1=${PORTS[1]}
W2=${PORTS[2]}

# ---- the cluster -----------------------------------------------------------
if citus_cluster_databases >"$TMP/setup.out" 2>&1; then
	ok "Citus with two workers in database dist, perfstore in dist (and on the workers) and in single"
else
	not_ok "Citus cluster and perfstore set up" "$TMP/setup.out"
	finish
fi

# ---- distribute(): its errors ---------------------------------------------
# expect_error NAME PORT DB SQL WANT: the statement fails with WANT
# (SQLSTATE and message, as VERBOSITY verbose prints them)
expect_error() {
	local name=$1 p=$2 d=$3 sql=$4 want=$5 out
	out=$("$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$p" -U postgres -d "$d" \
		-c '\set VERBOSITY verbose' -c "$sql" 2>&1)
	if printf '%s\n' "$out" | grep -qF "ERROR:  $want"; then
		ok "$name"
	else
		not_ok "$name" "want: ERROR:  $want" "got:  $out"
	fi
}
expect_error "distribute() without Citus: 55000 with the reason" "$CPORT" single \
	"SELECT perfstore.distribute()" \
	'55000: cannot distribute the store: the Citus extension is not installed in database "single"'
expect_error "distribute() on a worker: 55000, not a coordinator" "$W1" dist \
	"SELECT perfstore.distribute()" \
	'55000: cannot distribute the store: this node is not a Citus coordinator'
expect_error "distribute(0): 22023" "$CPORT" dist \
	"SELECT perfstore.distribute(0)" '22023: shard_count must be at least 1, not 0'
q "$CPORT" dist -c "CREATE ROLE app_writer LOGIN" -c "CREATE ROLE app_reader LOGIN" \
	-c "SELECT perfstore.grant_writer('app_writer')" -c "SELECT perfstore.grant_reader('app_reader')" \
	>"$TMP/roles.out" 2>&1 || not_ok "roles app_writer and app_reader" "$TMP/roles.out"
q "$CPORT" single -c "SELECT perfstore.grant_writer('app_writer')" -c "SELECT perfstore.grant_reader('app_reader')" \
	>>"$TMP/roles.out" 2>&1 || not_ok "grants in single" "$TMP/roles.out"
expect_error "distribute() as a writer: 42501, no EXECUTE" "$CPORT" dist \
	"SET ROLE app_writer; SELECT perfstore.distribute()" \
	'42501: permission denied for function distribute'

# ---- distribute() -----------------------------------------------------------
# a few samples before distributing: they must move to the shards
for d in single dist; do
	q "$CPORT" "$d" -c "SELECT perfstore.record('pre.metric', 7.5, '{\"host\": \"h0\"}', '$(date -u -d '-3 hours' '+%Y-%m-%d %H:00:00+00')')" \
		>"$TMP/pre.out" 2>&1 || not_ok "record() before distribute() in $d" "$TMP/pre.out"
done
if q "$CPORT" dist -c "SET client_min_messages = warning" -c "SELECT perfstore.distribute(4)" >"$TMP/dist.out" 2>&1; then
	ok "distribute(4): $(cat "$TMP/dist.out")"
else
	not_ok "distribute(4)" "$TMP/dist.out"
	finish
fi
got=$(q "$CPORT" dist -c "SELECT string_agg(logicalrelid::text || ':' || partmethod::text || ':' || colocationid::text, ' ' ORDER BY logicalrelid::text)
	FROM pg_dist_partition
	WHERE logicalrelid::text IN ('perfstore.samples', 'perfstore.rollup_1m', 'perfstore.rollup_5m', 'perfstore.rollup_1h',
	                             'perfstore.rollup_invalidations', 'perfstore_internal.late_claims')")
coloc=$(q "$CPORT" dist -c "SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = 'perfstore.samples'::regclass")
want="perfstore.rollup_1h:h:$coloc perfstore.rollup_1m:h:$coloc perfstore.rollup_5m:h:$coloc perfstore.rollup_invalidations:h:$coloc perfstore.samples:h:$coloc perfstore_internal.late_claims:h:$coloc"
check_eq "samples, the rollups, the late-data log and claims: hash-distributed by series_id, co-located" "$want" "$got"
check_eq "samples has 4 shards" "4" "$(q "$CPORT" dist -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'perfstore.samples'::regclass")"
check_eq "distribution column of samples is series_id" "series_id" \
	"$(q "$CPORT" dist -c "SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE logicalrelid = 'perfstore.samples'::regclass")"
got=$(q "$CPORT" dist -c "SELECT string_agg(logicalrelid::text, ' ' ORDER BY logicalrelid::text) FROM pg_dist_partition WHERE partmethod = 'n' AND repmodel = 't'")
check_eq "reference tables: series, settings, watermark, workflow and load-test run tables" \
	"perfstore.bench_intervals perfstore.bench_runs perfstore.bench_statements perfstore.nplus1_findings perfstore.rollup_state perfstore.series perfstore.settings perfstore.task_executions perfstore.workflow_runs" "$got"
check_eq "the foreign keys of the run tables are back" "4" \
	"$(q "$CPORT" dist -c "SELECT count(*) FROM pg_constraint c JOIN pg_dist_partition p ON p.logicalrelid = c.conrelid WHERE c.contype = 'f'")"
expect_error "distribute() twice: 42710" "$CPORT" dist \
	"SELECT perfstore.distribute()" '42710: the store is distributed already'
check_eq "the sample recorded before distribute() is on the shards" "1|7.5" \
	"$(q "$CPORT" dist -c "SELECT count(*), sum(value) FROM perfstore.samples")"
# a reader granted after distribute(): grant_reader() alone lets it read
# the views, whose queries on the shards run as the reader
if q "$CPORT" dist -c "CREATE ROLE app_reader_late LOGIN" -c "SELECT perfstore.grant_reader('app_reader_late')" >"$TMP/late_reader.out" 2>&1 &&
	q "$CPORT" single -c "SELECT perfstore.grant_reader('app_reader_late')" >>"$TMP/late_reader.out" 2>&1; then
	ok "grant_reader() of a role created after distribute()"
else
	not_ok "grant_reader() of a role created after distribute()" "$TMP/late_reader.out"
fi

# ---- the same load on both ------------------------------------------------------
# Timestamps from one base, whole minutes, so that both databases get the
# same rows; all data older than the late window, so that both roll up the
# same buckets whichever minute maintain() runs in.
NOW=$(date -u +%s)
BASE_TS=$(date -u -d "@$((NOW / 60 * 60 - 1800))" '+%Y-%m-%d %H:%M:%S+00')
FROM_EPOCH=$((NOW - 3 * 86400))
TO_EPOCH=$NOW

# run_both NAME FILE [ROLE]: run a SQL file on both databases (as ROLE);
# output in $TMP/NAME.single and $TMP/NAME.dist
run_both() {
	local name=$1 file=$2 role=${3:-postgres} d rc=0
	for d in single dist; do
		"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -v base="$BASE_TS" -h 127.0.0.1 -p "$CPORT" -U "$role" -d "$d" \
			-f "$file" >"$TMP/$name.$d" 2>&1 || rc=1
	done
	return $rc
}

cat >"$TMP/load1.sql" <<'SQL'
SET client_min_messages = warning;
SELECT setseed(0.25);
-- record(): 3 series, every 30 s over the last 3 hours before base, and 3 days back
SELECT count(perfstore.record('api.latency_ms', round((exp(1 + h * 0.4 + random() * 2))::numeric, 3)::float8,
	jsonb_build_object('host', 'h' || h), :'base'::timestamptz - i * interval '30 seconds'))
FROM generate_series(1, 3) h, generate_series(0, 359) i;
SELECT count(perfstore.record('api.latency_ms', 100 + i, '{"host": "h1"}', :'base'::timestamptz - interval '3 days' - i * interval '1 minute'))
FROM generate_series(0, 29) i;
SQL
cat >"$TMP/load2.sql" <<'SQL'
SET client_min_messages = warning;
SELECT setseed(0.5);
-- the ingest view: 40 series (most of them new), every 20 s over 4 hours,
-- and a day without a partition yet
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'db.query_ms', jsonb_build_object('host', 'db' || (k % 8), 'route', 'r' || (k / 8)),
       :'base'::timestamptz - i * interval '20 seconds', round((random() * 50 + k)::numeric, 2)::float8
FROM generate_series(0, 39) k, generate_series(0, 719) i;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'db.query_ms', '{"host": "db1", "route": "r0"}', :'base'::timestamptz - interval '2 days' - i * interval '1 minute', i
FROM generate_series(0, 99) i;
SQL
if run_both load1 "$TMP/load1.sql" && run_both load2 "$TMP/load2.sql" app_writer; then
	ok "record() (1110 samples) and the ingest view as a writer role (28900 rows, 40 new series) on both"
else
	cat "$TMP/load1.single" "$TMP/load1.dist" "$TMP/load2.single" "$TMP/load2.dist" >"$TMP/load.err"
	not_ok "record() and the ingest view on both" "$TMP/load.err"
fi

# compare NAME SQL [ROLE [EMPTY_OK [UNORDERED]]]: the same rows from both
# databases (as ROLE, postgres by default); a query that fails on either
# side fails the check, and so does one without rows unless EMPTY_OK is 1.
# With UNORDERED 1 the rows are compared as sets (a dashboard's ORDER BY
# "time" leaves the order of rows with the same time open).
compare() {
	local name=$1 sql=$2 role=${3:-postgres} empty_ok=${4:-0} unordered=${5:-0} d rc=0
	for d in single dist; do
		"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$CPORT" -U "$role" -d "$d" \
			-c "SET extra_float_digits = 3" -c "$sql" >"$TMP/cmp.$d" 2>&1 || rc=1
		if [ "$unordered" -eq 1 ]; then
			LC_ALL=C sort -o "$TMP/cmp.$d" "$TMP/cmp.$d"
		fi
	done
	if [ "$rc" -ne 0 ]; then
		grep -h -A3 'ERROR' "$TMP/cmp.single" "$TMP/cmp.dist" >"$TMP/cmp.err"
		not_ok "$name: runs on both" "$sql" "$TMP/cmp.err"
	elif [ ! -s "$TMP/cmp.single" ] && [ "$empty_ok" -ne 1 ]; then
		not_ok "$name: rows on the single node" "$sql"
	elif cmp -s "$TMP/cmp.single" "$TMP/cmp.dist"; then
		ok "$name: $(wc -l <"$TMP/cmp.single") rows, identical"
	else
		# the lines' ends: where long sketch lines differ
		diff <(rev "$TMP/cmp.single" | cut -c 1-200 | rev) <(rev "$TMP/cmp.dist" | cut -c 1-200 | rev) |
			head -n 20 >"$TMP/cmp.diff"
		not_ok "$name: identical" "$TMP/cmp.diff"
	fi
}

SERIES="s.metric || ' ' || s.labels::text"
# a stats value as compared: its floating-point sum and second moment
# depend on the order in which rows are added, which differs between a
# single node and the shards' partial aggregates in the last bits
stats() {
	echo "perfstore.num_vals($1), round(perfstore.sum($1)::numeric, 6), round(perfstore.stddev($1)::numeric, 6), perfstore.min_val($1), perfstore.max_val($1)"
}
per_series() {
	compare "$1: samples per series (count, exact sum, sketch text, p50/p95/p99)" \
		"SELECT $SERIES, count(*), sum(x.value::numeric), perfstore.sketch_agg(x.value)::text,
		        perfstore.quantiles(perfstore.sketch_agg(x.value), ARRAY[0.5, 0.95, 0.99])
		 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id
		 GROUP BY s.metric, s.labels ORDER BY ($SERIES) COLLATE \"C\""
	compare "$1: all samples (count, exact sum, sketch)" \
		"SELECT count(*), sum(value::numeric), perfstore.sketch_agg(value)::text, $(stats 'perfstore.stats_agg(value)') FROM perfstore.samples"
}
# views NAME [ROLE]: the real-time views, as ROLE (app_reader by default)
views() {
	local v role=${2:-app_reader}
	for v in samples_1m samples_5m samples_1h; do
		compare "$1: $v as $role" \
			"SELECT $SERIES, v.bucket, v.sketch::text, $(stats v.stats)
			 FROM perfstore.$v v JOIN perfstore.series s ON s.id = v.series_id ORDER BY ($SERIES) COLLATE \"C\", 2" "$role"
	done
}
rollups() {
	local r
	for r in rollup_1m rollup_5m rollup_1h; do
		compare "$1: $r rows" \
			"SELECT $SERIES, r.bucket, r.sketch::text, $(stats r.stats)
			 FROM perfstore.$r r JOIN perfstore.series s ON s.id = r.series_id ORDER BY ($SERIES) COLLATE \"C\", 2"
	done
}
compare "series" "SELECT metric, labels::text, id FROM perfstore.series ORDER BY metric COLLATE \"C\", labels::text COLLATE \"C\""
per_series "after ingest"
views "before maintain()"

# no row in the coordinator's own (shell) tables: they all went to shards
local_bytes=$(q "$CPORT" dist -c "SELECT coalesce(sum(pg_relation_size(c.oid)), 0)
	FROM pg_class c WHERE c.relnamespace IN ('perfstore'::regnamespace, 'perfstore_internal'::regnamespace) AND c.relkind = 'r'")
check_eq "the coordinator's local tables hold no rows (0 bytes): record() and the ingest view wrote to the shards" "0" "$local_bytes"

# ---- maintain() ------------------------------------------------------------------
MAINTAIN_KEYS="late_series_hours late_pending partitions_created rows_moved partitions_dropped partitions_failed rollup_buckets_skipped"
maintain_both() {
	local name=$1 d
	for d in single dist; do
		q "$CPORT" "$d" -c "SET client_min_messages = warning" \
			-c "SELECT string_agg(k || '=' || coalesce(m ->> k, 'NULL'), ' ') FROM perfstore.maintain() m, unnest(string_to_array('$MAINTAIN_KEYS', ' ')) k" \
			>"$TMP/m.$d" 2>&1
	done
	if cmp -s "$TMP/m.single" "$TMP/m.dist" && grep -q 'partitions_failed=0' "$TMP/m.dist"; then
		ok "$name: maintain() reports the same on both: $(cat "$TMP/m.dist")"
	else
		not_ok "$name: maintain() reports the same on both" "single: $(cat "$TMP/m.single")" "dist:   $(cat "$TMP/m.dist")"
	fi
}
maintain_both "first pass"
compare "partitions" "SELECT partition::text, is_default, range_start, range_end FROM perfstore.partitions ORDER BY 1"
check_eq "every partition of samples is distributed, co-located" "0" \
	"$(q "$CPORT" dist -c "SELECT count(*) FROM perfstore.partitions p WHERE NOT EXISTS (SELECT FROM pg_dist_partition d WHERE d.logicalrelid = p.partition AND d.colocationid = $coloc)")"
rollups "after maintain()"
views "after maintain()"
per_series "after maintain()"
check_eq "the coordinator's local tables still hold no rows after the partitions were created" "0" \
	"$(q "$CPORT" dist -c "SELECT coalesce(sum(pg_relation_size(c.oid)), 0) FROM pg_class c WHERE c.relnamespace IN ('perfstore'::regnamespace, 'perfstore_internal'::regnamespace) AND c.relkind = 'r'")"

# ---- late data ---------------------------------------------------------------------
cat >"$TMP/late.sql" <<'SQL'
SET client_min_messages = warning;
SELECT count(perfstore.record('api.latency_ms', 1000 + i, '{"host": "h2"}', :'base'::timestamptz - interval '95 minutes' + i * interval '7 seconds'))
FROM generate_series(0, 19) i;
SELECT count(perfstore.record('late.only', i, '{}', :'base'::timestamptz - interval '150 minutes' + i * interval '1 second'))
FROM generate_series(0, 4) i;
SQL
cat >"$TMP/late2.sql" <<'SQL'
SET client_min_messages = warning;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'db.query_ms', jsonb_build_object('host', 'db' || (k % 8), 'route', 'r' || (k / 8)),
       :'base'::timestamptz - interval '3 hours' + i * interval '3 seconds', 500 + k + i
FROM generate_series(0, 9) k, generate_series(0, 199) i;
SQL
if run_both late "$TMP/late.sql" && run_both late2 "$TMP/late2.sql" app_writer; then
	ok "late data below the watermark: record() (25 samples, a new series) and the ingest view (2000 rows)"
else
	cat "$TMP/late.single" "$TMP/late.dist" "$TMP/late2.single" "$TMP/late2.dist" >"$TMP/late.err"
	not_ok "late data on both" "$TMP/late.err"
fi
compare "the late-data log" "SELECT $SERIES, i.lo, i.hi FROM perfstore.rollup_invalidations i JOIN perfstore.series s ON s.id = i.series_id ORDER BY ($SERIES) COLLATE \"C\", 2, 3"
views "late data logged, before maintain()"
views "late data logged, before maintain()" app_reader_late

# the refreshes' statements as the coordinator sends them to the workers
# (citus.log_remote_commands), with Citus's planner messages (DEBUG1): every
# rollup is written by INSERT ... SELECT statements on the shards (the
# late-data ones joining the shards of late_claims and samples or rollup_1m),
# and no sample or rollup row is collected on the coordinator.  The one
# INSERT ... SELECT that Citus runs through the coordinator is the claims'
# (its rows are the coordinator's arrays of claimed series-hours).
q "$CPORT" dist -c "SET citus.log_remote_commands = on" -c "SET client_min_messages = debug1" \
	-c "SELECT perfstore.refresh_late_data(1000)" \
	-c "SELECT perfstore.refresh_rollups('$BASE_TS'::timestamptz - interval '4 hours', '$BASE_TS'::timestamptz)" \
	>"$TMP/remote.out" 2>&1
rc=$?
shard_inserts() {
	grep -cE "issuing INSERT INTO perfstore\.$1_[0-9]+ .*SELECT .* FROM .*$2" "$TMP/remote.out"
}
late_ins="$(shard_inserts rollup_1m 'late_claims_[0-9]+ g JOIN perfstore\.samples_[0-9]+ s') $(shard_inserts rollup_5m 'late_claims_[0-9]+ g JOIN perfstore\.rollup_1m_[0-9]+ r') $(shard_inserts rollup_1h 'late_claims_[0-9]+ g JOIN perfstore\.rollup_1m_[0-9]+ r')"
range_ins="$(shard_inserts rollup_1m 'perfstore\.samples_[0-9]+ s WHERE') $(shard_inserts rollup_5m 'perfstore\.rollup_1m_[0-9]+ r WHERE') $(shard_inserts rollup_1h 'perfstore\.rollup_1m_[0-9]+ r WHERE')"
# each "Collecting ... on coordinator": the statement sent next is the COPY of the claims
pulls=$(awk '/Collecting INSERT ... SELECT results on coordinator/ { want = 1; next }
	want && /issuing/ { if ($0 !~ /issuing COPY perfstore_internal\.late_claims_[0-9]+ /) n++; want = 0 }
	END { print n + 0 }' "$TMP/remote.out")
if [ "$rc" -eq 0 ] && [[ " $late_ins $range_ins " != *" 0 "* ]] && [ "$pulls" -eq 0 ] &&
	! grep -qiE 'repartition|pull to coordinator' "$TMP/remote.out"; then
	ok "rollup refreshes are INSERT ... SELECTs on the shards (late data: $late_ins shard statements for 1m/5m/1h, ranges: $range_ins), no rollup or sample collected on the coordinator"
else
	grep -E 'ERROR|Collecting|issuing INSERT' "$TMP/remote.out" | cut -c 1-200 | head -n 30 >"$TMP/remote.err"
	not_ok "rollup refreshes run as INSERT ... SELECTs on the shards (exit $rc; late data: $late_ins, ranges: $range_ins; other statements collected on the coordinator: $pulls)" "$TMP/remote.err"
fi
q "$CPORT" single -c "SELECT perfstore.refresh_late_data(1000)" \
	-c "SELECT perfstore.refresh_rollups('$BASE_TS'::timestamptz - interval '4 hours', '$BASE_TS'::timestamptz)" >/dev/null 2>&1
maintain_both "after late data"
check_eq "the late-data log is empty on the distributed store" "0" "$(q "$CPORT" dist -c "SELECT count(*) FROM perfstore.rollup_invalidations")"
rollups "late data rolled up"
views "late data rolled up"
per_series "late data rolled up"

# ---- retention --------------------------------------------------------------------
for d in single dist; do
	q "$CPORT" "$d" -c "SELECT perfstore.set_retention('36 hours')" >/dev/null 2>&1
done
maintain_both "retention of 36 hours"
compare "partitions after retention" "SELECT partition::text, is_default FROM perfstore.partitions ORDER BY 1"
per_series "after retention"

# ---- workflow and load-test runs, the dashboards -------------------------------------
# store_grafana.sh's set-up of workflow runs with tasks and of load-test
# runs (store_run(), a run group of two drivers among them), with base for
# now() (the open run and task are left out: their durations run with
# now()).  Its INSERT of the tasks selects from workflow_runs joined with
# generate_series(): Citus 13.0 inserts no row from such a join into a
# reference table, so the tasks' rows are selected in a materialized CTE
# first, on both databases alike.
sed -n '/^-- workflow runs with tasks/,/^SQL$/p' tests/suites/store_grafana.sh |
	grep -v '^SQL$' | grep -v 'start_workflow_run\|start_task' |
	sed -e 's/now()/:'"'"'base'"'"'::timestamptz/g' |
	perl -0pe 's/INSERT INTO perfstore\.task_executions \(([^)]*)\)\nSELECT (.*?)\nFROM ([^;]*);/WITH t AS MATERIALIZED (\n\tSELECT $2\n\tFROM $3)\nINSERT INTO perfstore.task_executions ($1) SELECT * FROM t;/s' \
	>"$TMP/runs.sql"
if grep -q 'AS MATERIALIZED' "$TMP/runs.sql" && grep -q 'store_run' "$TMP/runs.sql" && run_both runs "$TMP/runs.sql"; then
	ok "workflow runs with tasks and load-test runs through store_run() (store_grafana.sh's set-up) on both"
else
	cat "$TMP/runs.sql" "$TMP/runs.single" "$TMP/runs.dist" >"$TMP/runs.err" 2>/dev/null
	not_ok "workflow runs and load-test runs on both" "$TMP/runs.err"
fi
compare "load-test runs" "SELECT name, run_group, labels::text, hosts, drivers, clients, started_at, finished_at, tps, transactions,
	failed_transactions, errors::text, latency::text FROM perfstore.bench_runs ORDER BY started_at, name COLLATE \"C\""
compare "load-test run statements, intervals and N+1 findings" "SELECT r.started_at, s.fingerprint, s.calls, s.rows, s.latency::text,
	(SELECT count(*) FROM perfstore.bench_intervals i WHERE i.run_id = r.id),
	(SELECT count(*) FROM perfstore.nplus1_findings n WHERE n.run_id = r.id)
	FROM perfstore.bench_runs r JOIN perfstore.bench_statements s ON s.run_id = r.id ORDER BY 1, 2"
compare "bench_run_summary" "SELECT name, labels::text, started_at, tps, error_rate, p50_ms, p95_ms, p99_ms, max_ms, mean_ms
	FROM perfstore.bench_run_summary ORDER BY started_at, name COLLATE \"C\"" app_reader
compare "workflow_summary" "SELECT * FROM perfstore.workflow_summary ORDER BY 1"
compare "agent_summary" "SELECT * FROM perfstore.agent_summary ORDER BY 1"

metric=$(q "$CPORT" single -c "SELECT min(metric) FROM perfstore.series")
workflow=$(q "$CPORT" single -c "SELECT min(workflow) FROM perfstore.workflow_runs")
run_name=$(q "$CPORT" single -c "SELECT min(name) FROM perfstore.bench_runs")
nq=0
for f in grafana/dashboards/*.json; do
	name=$(basename "$f" .json)
	out="$TMP/dash-$name"
	mkdir -p "$out"
	if ! perl tests/grafana_expand.pl "$f" "$out" "$FROM_EPOCH" "$TO_EPOCH" \
		metric "$metric" workflow "$workflow" run_name "$run_name" label "'host=h1'" >"$out/expand.err" 2>&1; then
		not_ok "$name: macros expand" "$out/expand.err"
		continue
	fi
	for sqlf in "$out"/*.sql; do
		compare "dashboard $name: $(cat "${sqlf%.sql}.title")" "$(cat "$sqlf")" app_reader 1 1
		nq=$((nq + 1))
	done
done
[ "$nq" -gt 0 ] || not_ok "the dashboards have queries"

# ---- the maintenance worker ------------------------------------------------------------
q "$CPORT" dist -c "SELECT perfstore.record('api.latency_ms', 1, '{\"host\": \"h3\"}', '$BASE_TS'::timestamptz - interval '100 minutes')" >/dev/null 2>&1
for p in "$CPORT" "$W1" "$W2"; do
	q "$p" postgres -c "ALTER SYSTEM SET perfstore.maintenance_interval = 1" -c "SELECT pg_reload_conf()" >/dev/null 2>&1
done
pending=1
for _ in $(seq 1 30); do
	pending=$(q "$CPORT" dist -c "SELECT count(*) FROM perfstore.rollup_invalidations")
	[ "$pending" = 0 ] && break
	sleep 1
done
check_eq "the coordinator's maintenance worker rolls up the late sample through the coordinator" "0" "$pending"
sleep 4
for i in 1 2; do
	n=${NODES[$i]}
	warned=$(grep -c 'maintain() runs on the Citus coordinator, not on a worker' "$BASE/$n.log")
	fatal=$(grep -c 'FATAL' "$BASE/$n.log")
	if [ "$warned" -eq 1 ] && [ "$fatal" -eq 0 ]; then
		ok "$n: its maintenance worker stays out of the shards and says so once (after 5+ rounds), no FATAL"
	else
		not_ok "$n: maintenance worker says once that maintain() runs on the coordinator ($warned times, $fatal FATAL)" "$BASE/$n.log"
	fi
done
if grep -qE 'FATAL|maintain\(\) failed' "$BASE/coordinator.log"; then
	not_ok "coordinator: no FATAL and no failed maintain() in its log" "$BASE/coordinator.log"
else
	ok "coordinator: no FATAL and no failed maintain() in its log"
fi

finish
