#!/usr/bin/env bash
# store_concurrency.sh: 16 concurrent writers (pgbench with a custom script
# calling record() and the workflow API) while maintain() runs every second
# (docs/store.md, "Concurrency").
#
# Runs against the throwaway cluster (PG* from tests/run.sh; by hand:
# scripts/pgcluster.sh start && eval "$(scripts/pgcluster.sh env)") with the
# pgbench and psql of $PERFSTORE_PGBIN.  Creates the database
# perfstore_concurrency_PID (dropped first if it exists, and at the end).
#
# First, two sessions call maintain() at the same time: the second returns
# "busy" at once instead of waiting or colliding.  During the run two
# maintenance loops call maintain() once a second each, one of them also moving the
# partitions-ahead horizon forward, so that partitions are created while
# writers insert rows for those days into the default partition; a day
# partition older than the retention is dropped under load.
#
# Checks: pgbench exits 0 and reports no failed transaction; the store holds
# exactly one sample, one finished run and one finished task per API
# transaction and 10 samples per batch transaction pgbench reports; no maintain() call failed, some did real
# work and some found the other one busy; no deadlock in the server log;
# after a last maintain() the real-time view counts every sample; the
# expired partition is gone and the rows inside the window are all there.
#   STORE_CONCURRENCY_SECONDS  pgbench duration (default 30)
#   STORE_CONCURRENCY_CLIENTS  pgbench clients (default 16)
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
DB=perfstore_concurrency_$$
SECONDS_RUN=${STORE_CONCURRENCY_SECONDS:-30}
CLIENTS=${STORE_CONCURRENCY_CLIENTS:-16}

TMP=$(mktemp -d /tmp/perfstore_conc.XXXXXX)
loop_pids=()

psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
	local p
	for p in "${loop_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null
	psql -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- set-up ------------------------------------------------------------
psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" >/dev/null
cat >"$TMP/setup.sql" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION perfstore;
SELECT perfstore.set_partitions_ahead(1);
SELECT perfstore.set_retention('3 days');
-- a day partition that is past the retention window, one that reaches into
-- it, and their rows (the first is dropped under load, the second kept)
SELECT perfstore.create_partition(((now() AT TIME ZONE 'UTC')::date - 5));
SELECT perfstore.create_partition(((now() AT TIME ZONE 'UTC')::date - 3));
SELECT perfstore.record('old', i, ts => ((now() AT TIME ZONE 'UTC')::date - 5)::timestamp AT TIME ZONE 'UTC' + i * interval '1 minute')
FROM generate_series(1, 100) i;
SELECT perfstore.record('kept', i, ts => now() - interval '3 days' + i * interval '1 minute')
FROM generate_series(1, 100) i;
SQL
if psql -d postgres -c "CREATE DATABASE $DB" >/dev/null &&
	psql -d "$DB" -f "$TMP/setup.sql" >"$TMP/setup.out" 2>&1; then
	ok "database $DB with an expired and a straddling partition"
else
	not_ok "database $DB set up" "$TMP/setup.out"
	finish
fi

# ---- two maintain() calls at once: the second one is "busy" ------------
psql -d "$DB" -c "BEGIN" -c "SELECT perfstore.maintain()" -c "SELECT pg_sleep(3)" \
	-c "COMMIT" >/dev/null 2>"$TMP/holder.err" &
holder=$!
sleep 1
second=$(psql -d "$DB" -c "SELECT perfstore.maintain()->>'busy', clock_timestamp() - now() < interval '1 second'" 2>&1)
wait "$holder"
check_eq "a second maintain() while one runs returns busy at once" "true|t" "$second"

# The workload, 9 to 1: record() and the workflow API, or a batch.
# One transaction of the first: a sample (for today up to 6 days ahead:
# rows for days without a partition yet land in the default partition) and
# a workflow run with one task, each call in autocommit as an application
# would make it.
cat >"$TMP/workload.sql" <<'SQL'
\set m random(1, 20)
\set v random(1, 100000)
\set d random(0, 6)
SELECT perfstore.record('conc.m' || :m, :v / 100.0, jsonb_build_object('client', :client_id % 4), now() + :d * interval '1 day');
SELECT perfstore.start_workflow_run('conc.wf', jsonb_build_object('client', :client_id)) AS run \gset
SELECT perfstore.start_task(:run, 'agent' || (:client_id % 8), 'step') AS task \gset
SELECT perfstore.finish_task(:task);
SELECT perfstore.finish_workflow_run(:run);
SQL
# One transaction of the batch path: 10 rows for label sets drawn from 50,
# so that concurrent batches create the same new series at the same time.
cat >"$TMP/batch.sql" <<'SQL'
\set h random(1, 50)
INSERT INTO perfstore.ingest (metric, labels, value)
SELECT 'conc.batch', jsonb_build_object('h', (:h + i) % 50), i FROM generate_series(1, 10) i;
SQL

log_lines_before=$(wc -l <"${PERFSTORE_LOG:-/dev/null}" 2>/dev/null || echo 0)

# maintain_loop TAG [advance]: maintain() once a second until told to stop;
# with "advance", every other second one more day of partitions ahead
maintain_loop() {
	local tag=$1 advance=${2:-} i=0 ahead=1
	while [ ! -e "$TMP/stop" ]; do
		i=$((i + 1))
		if [ -n "$advance" ] && [ $((i % 2)) -eq 0 ] && [ "$ahead" -lt 6 ]; then
			ahead=$((ahead + 1))
			psql -d "$DB" -c "SELECT perfstore.set_partitions_ahead($ahead)" >/dev/null 2>>"$TMP/$tag.err"
		fi
		if ! psql -d "$DB" -c "SELECT perfstore.maintain()" >>"$TMP/$tag.out" 2>>"$TMP/$tag.err"; then
			echo "maintain() failed" >>"$TMP/$tag.err"
		fi
		sleep 1
	done
}
: >"$TMP/m1.err"
: >"$TMP/m2.err"
maintain_loop m1 advance &
loop_pids+=($!)
sleep 0.5
maintain_loop m2 &
loop_pids+=($!)

echo "# pgbench -n -c $CLIENTS -j 2 -T $SECONDS_RUN with maintain() every second in two loops"
"$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -T "$SECONDS_RUN" -f "$TMP/workload.sql@9" -f "$TMP/batch.sql@1" "$DB" \
	>"$TMP/pgbench.out" 2>&1
rc=$?
touch "$TMP/stop"
for p in "${loop_pids[@]}"; do
	wait "$p" 2>/dev/null
done
loop_pids=()
grep -E 'number of (transactions|failed)|tps|latency average' "$TMP/pgbench.out" | sed 's/^/# /'

tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$TMP/pgbench.out")
# per script: "SQL script 1: .../workload.sql" then " - N transactions (...)"
api_tx=$(awk '/^SQL script [0-9]+: .*workload.sql/ {s = 1; next} s && /transactions/ {print $2; exit}' "$TMP/pgbench.out")
batch_tx=$(awk '/^SQL script [0-9]+: .*batch.sql/ {s = 1; next} s && /transactions/ {print $2; exit}' "$TMP/pgbench.out")
failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$TMP/pgbench.out")
if [ "$rc" -eq 0 ] && [ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "${failed:-0}" -eq 0 ] &&
	! grep -qiE 'error|abort' "$TMP/pgbench.out"; then
	ok "pgbench: $tx transactions, no error, no failed transaction"
else
	not_ok "pgbench exited $rc with $tx transactions and ${failed:-?} failed" "$TMP/pgbench.out"
	tx=${tx:-0}
fi

# ---- the store holds exactly what pgbench reports ----------------------
api_tx=${api_tx:-0}
batch_tx=${batch_tx:-0}
echo "# $api_tx transactions of record() and the workflow API, $batch_tx batches of 10 rows"
counts=$(psql -d "$DB" -F ' ' -c "SELECT
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	 WHERE sr.metric LIKE 'conc.m%'),
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	 WHERE sr.metric = 'conc.batch'),
	(SELECT count(*) FROM perfstore.series WHERE metric = 'conc.batch'),
	(SELECT count(*) FROM perfstore.ingest),
	(SELECT count(*) FROM perfstore.workflow_runs WHERE workflow = 'conc.wf' AND status = 'success'),
	(SELECT count(*) FROM perfstore.task_executions WHERE status = 'success'),
	(SELECT count(*) FROM perfstore.workflow_runs WHERE finished_at IS NULL)
	 + (SELECT count(*) FROM perfstore.task_executions WHERE finished_at IS NULL)" 2>&1)
# pgbench's per-script counts can miss a few transactions that end as the
# run ends; its total does not: check the total exactly, each script's
# share within 1%
read -r s_api s_batch s_series s_staged s_runs s_tasks s_open <<<"$counts"
if [ -n "$s_open" ] && [ "$s_api" = "$s_runs" ] && [ "$s_api" = "$s_tasks" ] &&
	[ $((s_batch % 10)) -eq 0 ] && [ $((s_api + s_batch / 10)) -eq "$tx" ] &&
	[ "$s_series" = 50 ] && [ "$s_staged" = 0 ] && [ "$s_open" = 0 ] &&
	[ $(((s_api - api_tx) * 100)) -le "$tx" ] && [ $(((s_batch / 10 - batch_tx) * 100)) -le "$tx" ]; then
	ok "the store holds exactly the $tx transactions pgbench reports: $s_api samples, runs and tasks from the API, $s_batch batch samples in 50 series; none left open or staged"
else
	echo "pgbench: $tx transactions ($api_tx API, $batch_tx batches)" >"$TMP/counts"
	echo "store: API samples, batch samples, batch series, staged, runs, tasks, open: $counts" >>"$TMP/counts"
	not_ok "the store holds exactly the transactions pgbench reports" "$TMP/counts"
fi

# ---- maintenance under load --------------------------------------------
if [ ! -s "$TMP/m1.err" ] && [ ! -s "$TMP/m2.err" ]; then
	ok "no maintain() call failed ($(cat "$TMP/m1.out" "$TMP/m2.out" | wc -l) calls)"
else
	cat "$TMP/m1.err" "$TMP/m2.err" >"$TMP/merr"
	not_ok "maintain() calls failed" "$TMP/merr"
fi
worked=$(cat "$TMP/m1.out" "$TMP/m2.out" | grep -c '"busy": false')
busy=$(cat "$TMP/m1.out" "$TMP/m2.out" | grep -c '"busy": true')
created=$(cat "$TMP/m1.out" "$TMP/m2.out" | sed -nE 's/.*"partitions_created": ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}')
moved=$(cat "$TMP/m1.out" "$TMP/m2.out" | sed -nE 's/.*"rows_moved": ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}')
skipped=$(cat "$TMP/m1.out" "$TMP/m2.out" | sed -nE 's/.*"skipped": ([0-9]+).*/\1/p' | awk '{s += $1} END {print s + 0}')
echo "# maintain(): $worked passes, $busy found the other busy, $created partitions created, $moved rows moved out of the default partition, $skipped steps skipped on lock timeout"
if [ "$worked" -gt 0 ] && [ "${created:-0}" -gt 0 ]; then
	ok "maintain() did its work under load (partitions created while writers insert)"
else
	not_ok "maintain() did its work under load: $worked passes, ${created:-0} partitions created"
fi
if [ -n "${PERFSTORE_LOG:-}" ] && [ -r "$PERFSTORE_LOG" ]; then
	tail -n +"$((log_lines_before + 1))" "$PERFSTORE_LOG" | grep -iE 'deadlock detected' >"$TMP/log" || true
	if [ -s "$TMP/log" ]; then
		not_ok "no deadlock in the server log during the run" "$TMP/log"
	else
		ok "no deadlock in the server log during the run"
	fi
fi

# ---- afterwards: rollups, retention ------------------------------------
after=$(psql -d "$DB" -F ' ' -c "SELECT perfstore.set_partitions_ahead(7);" -c "SELECT
	(perfstore.maintain()->>'busy')" -c "SELECT
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	 WHERE sr.metric LIKE 'conc.m%' AND s.ts < (SELECT watermark FROM perfstore.rollup_state)) =
	(SELECT coalesce(sum(perfstore.num_vals(r.sketch)), 0) FROM perfstore.rollup_1m r
	 JOIN perfstore.series sr ON sr.id = r.series_id WHERE sr.metric LIKE 'conc.m%'),
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	 WHERE sr.metric LIKE 'conc.m%') =
	(SELECT sum(perfstore.num_vals(m.sketch)) FROM perfstore.samples_1m m
	 JOIN perfstore.series sr ON sr.id = m.series_id WHERE sr.metric LIKE 'conc.m%'),
	(SELECT count(*) FROM perfstore.samples_default WHERE ts < now() + interval '7 days')" 2>&1)
check_eq "after a last maintain(): rollups count every sample before the watermark, the real-time view every sample, no row stranded in the default partition" \
	"$(printf '\nfalse\nt t 0')" "$after"
ret=$(psql -d "$DB" -F ' ' -c "SELECT
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'old'),
	(SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'kept'),
	(SELECT count(*) FROM perfstore.partitions WHERE range_end <= now() - interval '3 days')" 2>&1)
check_eq "retention under load: the expired day partition dropped, every row of the straddling day kept" \
	"0 100 0" "$ret"

finish
