#!/usr/bin/env bash
# store_record_async.sh: record() with perfstore.record_async = on, whose
# samples go through a queue in shared memory that the maintenance worker
# writes (docs/store.md, "Asynchronous record()").
#
# Needs a server started with shared_preload_libraries = 'perfstore', so it
# runs its own private cluster (initdb in a temporary directory, unix socket
# only, port $STORE_RECORD_ASYNC_PORT, default 54341), as the postgres user
# when run as root, with the binaries of $PERFSTORE_PGBIN; the worker runs in
# the database postgres.  The shared throwaway cluster (PGHOST/PGPORT, which
# does not preload perfstore) is used for one check only: there the setting
# changes nothing.  The private cluster is stopped and removed at the end.
#
# Checks: calls over several sessions store exactly the rows and values of a
# synchronous run; before a flush the rows are not visible (the path is
# asynchronous), with async off they are at once; a rollback keeps queued
# samples, while a new series' first call is synchronous and rolls back;
# a full queue falls back to synchronous writes and loses nothing; another
# database, a read-only transaction and a cluster without the library
# preloaded write synchronously; late samples are logged and rolled up;
# pg_ctl stop -m smart and -m fast right after a burst lose nothing;
# pg_terminate_backend on the worker cancels a maintain() call waiting for a
# lock, writes the queue and exits, after which calls are synchronous; a
# store without the trigger series_changed (as on Citus) caches nothing and
# stays synchronous; maintenance_interval 0 keeps the queue written; the
# worker's failing flushes keep the samples, log once and let a full queue
# fall back to synchronous writes; the errors are
# unchanged and queue nothing; hostile roles and settings (no EXECUTE, the
# worker's GUCs, a series deleted and the extension dropped while samples
# are queued, re-created with the same series ids) cannot store a sample
# where it does not belong, nor does a series id given to another series
# (the sequence set back) while samples are queued; pg_cancel_backend on the idle
# worker does not stop it; a fast stop ends while a prepared transaction
# holds a lock the flush needs, logging what it could not write; the
# database's default_transaction_read_only does not stop the worker.
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
PORT=${STORE_RECORD_ASYNC_PORT:-54341}

BASE=$(mktemp -d /tmp/perfstore_record_async.XXXXXX)
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$BASE"
fi
chmod 755 "$BASE"
DATA="$BASE/data"
SOCK="$BASE"

started=0
cleanup() {
	if [ "$started" -eq 1 ]; then
		as_server "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
	fi
	rm -rf "$BASE"
}
trap cleanup EXIT
# q [psql args]: the private cluster's database postgres, as the superuser
q() { "$PGBIN/psql" -X -q -At -h "$SOCK" -p "$PORT" -U postgres -d postgres "$@"; }
# qa [psql args]: the same with perfstore.record_async on
qa() { PGOPTIONS="-c perfstore.record_async=on" q "$@"; }
bench() { "$PGBIN/pgbench" -n -h "$SOCK" -p "$PORT" -U postgres "$@"; }

# wait_for SQL: poll (up to 30 s) until SQL returns t
wait_for() {
	local i
	for i in $(seq 1 60); do
		if [ "$(q -c "$1" 2>/dev/null)" = t ]; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}
worker_up() {
	wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'"
}
# set_conf NAME VALUE: ALTER SYSTEM and reload
set_conf() {
	q -c "ALTER SYSTEM SET $1 = '$2'" -c "SELECT pg_reload_conf()" >/dev/null
	sleep 0.5
}
start_server() {
	as_server "$PGBIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 start >/dev/null 2>&1
}

# ---- a private cluster with the library preloaded ----------------------
if as_server "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth-local=trust \
	>"$BASE/initdb.log" 2>&1; then
	as_server tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $PORT
shared_buffers = 32MB
fsync = off
max_connections = 40
max_prepared_transactions = 2
shared_preload_libraries = 'perfstore'
perfstore.maintenance_interval = 3600
perfstore.maintenance_database = 'postgres'
CONF
	if start_server; then
		started=1
	fi
fi
if [ "$started" -eq 1 ] && worker_up; then
	ok "private cluster with shared_preload_libraries = 'perfstore' started on port $PORT, its worker in database postgres"
else
	cat "$BASE/initdb.log" "$BASE/server.log" 2>/dev/null >"$BASE/err"
	not_ok "private cluster with the library preloaded started" "$BASE/err"
	finish
fi
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" >/dev/null

# ---- N calls over several sessions: the same rows as a synchronous run ----
# 8 sessions of 625 calls, each value once (i = 1..5000), in 10 series; the
# same script once with async off into metric sync.N, once on into async.N.
cat >"$BASE/calls.sql" <<'SQL'
\set i random(1, 1000000000)
SELECT perfstore.record(':metric', (:client_id * 625 + nextval('seq_' || :client_id) - 1)::float8 / 4,
	jsonb_build_object('host', 'h' || (:client_id * 625 + currval('seq_' || :client_id)) % 10),
	'2026-01-01 00:00:00+00'::timestamptz + (:client_id * 625 + currval('seq_' || :client_id)) * interval '1 second');
SQL
reset_seqs() {
	local c
	for c in 0 1 2 3 4 5 6 7; do
		q -c "SET client_min_messages = warning" -c "DROP SEQUENCE IF EXISTS seq_$c" -c "CREATE SEQUENCE seq_$c"
	done
}
q -c "SELECT perfstore.create_partition('2026-01-01')" >/dev/null
reset_seqs
bench -c 8 -j 2 -t 625 -D metric=sync -f "$BASE/calls.sql" postgres >"$BASE/sync.out" 2>&1
reset_seqs
PGOPTIONS="-c perfstore.record_async=on" bench -c 8 -j 2 -t 625 -D metric=async -f "$BASE/calls.sql" postgres \
	>"$BASE/async.out" 2>&1
rows_of() { # METRIC: count, sum of values, sum of epoch
	q -c "SELECT count(*) || ' ' || sum(x.value) || ' ' || sum(extract(epoch FROM x.ts))::bigint
		FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = '$1'"
}
if wait_for "SELECT count(*) = 5000 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'async'"; then
	:
fi
sleep 0.5
check_eq "5000 calls in 8 sessions with async on: 5000 rows with the sums of values and times of the synchronous run" \
	"$(rows_of sync)" "$(rows_of async)"
diff_rows=$(q -c "SELECT count(*) FROM (
	(SELECT s.labels, x.ts, x.value FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'async'
	 EXCEPT ALL
	 SELECT s.labels, x.ts, x.value FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'sync')
	UNION ALL
	(SELECT s.labels, x.ts, x.value FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'sync'
	 EXCEPT ALL
	 SELECT s.labels, x.ts, x.value FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'async')) d")
check_eq "row for row (labels, ts, value) the same as the synchronous run" "0" "$diff_rows"
check_eq "both runs made 5000 transactions without an error" "2 0" \
	"$(grep -c 'number of transactions actually processed: 5000/5000' "$BASE/sync.out" "$BASE/async.out" | awk -F: '{s += $2} END {print s}') $(grep -ci 'error' "$BASE/async.out")"

# ---- asynchronous: not visible before a flush ----------------------------
set_conf perfstore.record_flush_interval 600000
sleep 1
# the series exists and is in the session's cache after the first call,
# which is synchronous; the 20 calls after it (one transaction each) queue
count_metric() {
	q -c "SELECT count(*) FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = '$1'"
}
qa -c "SELECT perfstore.record('vis', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('vis', i); COMMIT; END LOOP; END \$\$" \
	-c "SELECT count(*) FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'vis'" \
	>"$BASE/vis" 2>&1
check_eq "with async on, right after 21 calls only the first (a new series: synchronous) is visible" "1" "$(tail -n 1 "$BASE/vis")"
sleep 1
check_eq "a second later, with a 10-minute flush interval, still only the first" "1" "$(count_metric vis)"
q -c "SELECT perfstore.record('vis_sync', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('vis_sync', i); COMMIT; END LOOP; END \$\$" >/dev/null
check_eq "with async off, all 21 are visible at once" "21" "$(count_metric vis_sync)"
set_conf perfstore.record_flush_interval 100
if wait_for "SELECT count(*) = 21 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'vis'"; then
	ok "after a reload to 100 ms the 20 queued samples are written"
else
	not_ok "after a reload to 100 ms the 20 queued samples are written" "rows: $(count_metric vis)"
fi

# flush_now: a reload to 100 ms, then wait until nothing is queued for METRIC
# to reach COUNT rows
flush_wait() { # METRIC COUNT
	set_conf perfstore.record_flush_interval 100
	wait_for "SELECT count(*) = $2 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = '$1'"
}
# hold: a 10-minute flush interval, given time to reach the worker (which
# reads it when its current wait ends, at most 100 ms on)
hold() {
	set_conf perfstore.record_flush_interval 600000
	sleep 1
}

# ---- a rollback keeps queued samples; a new series' first call is not queued ----
hold
qa -v ON_ERROR_STOP=1 >"$BASE/rb" 2>&1 <<'SQL'
SELECT perfstore.record('rb', 1);
BEGIN;
SELECT perfstore.record('rb', 2);
SELECT perfstore.record('rb', 3);
ROLLBACK;
BEGIN;
SELECT perfstore.record('rb_new', 1);
SELECT perfstore.record('rb_new', 2);
ROLLBACK;
SQL
check_eq "right after: the rolled-back series rb_new and its two samples are gone, rb has its first sample" \
	"0 0 1" "$(q -c "SELECT (SELECT count(*) FROM perfstore.series WHERE metric = 'rb_new') || ' ' || (SELECT count(*) FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'rb_new') || ' ' || (SELECT count(*) FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'rb')")"
if flush_wait rb 3; then
	ok "after the flush the two samples queued by the rolled-back transaction are stored (rb: 3 rows)"
else
	not_ok "the samples queued by a rolled-back transaction are kept" "rb rows: $(count_metric rb)" "$BASE/rb"
fi
check_eq "and rb_new has no series and no sample" "0" "$(q -c "SELECT count(*) FROM perfstore.series WHERE metric = 'rb_new'")"

# ---- errors unchanged with async on, nothing queued ------------------------
hold
errs() { # the SQLSTATE and message of each bad call, after one good call
	"$@" -v VERBOSITY=verbose 2>&1 <<'SQL' | grep -E '^ERROR' | sed 's/^ERROR: *//'
SELECT perfstore.record('errs', 1);
SELECT perfstore.record('errs', NULL);
SELECT perfstore.record('errs', 'NaN');
SELECT perfstore.record('errs', 1e200);
SELECT perfstore.record('errs', 1, '{}', '1960-01-01');
SELECT perfstore.record('errs', 1, '[1]');
SELECT perfstore.record('errs', 1, jsonb_build_object('k', repeat('x', 3000)));
SQL
}
errs qa >"$BASE/errs_async"
q -c "DELETE FROM perfstore.samples x USING perfstore.series s WHERE s.id = x.series_id AND s.metric = 'errs'"
errs q >"$BASE/errs_sync"
check_eq "with async on: 22004, 22023, 22023, 22008, 22023, 54000, in that order" \
	"22004 22023 22023 22008 22023 54000" "$(cut -d: -f1 "$BASE/errs_async" | tr '\n' ' ' | sed 's/ $//')"
if cmp -s "$BASE/errs_async" "$BASE/errs_sync" && [ -s "$BASE/errs_sync" ]; then
	ok "the errors are word for word those of async off"
else
	not_ok "the errors are word for word those of async off" "$BASE/errs_async" "$BASE/errs_sync"
fi
flush_wait errs 1 >/dev/null
sleep 0.5
check_eq "after a flush: only the good call's row, nothing queued by the bad calls" "1" "$(count_metric errs)"

# ---- a read-only transaction writes (and fails) as before --------------------
qa -v VERBOSITY=verbose >"$BASE/ro" 2>&1 <<'SQL'
SELECT perfstore.record('ro', 1);
BEGIN READ ONLY;
SELECT perfstore.record('ro', 2);
ROLLBACK;
SQL
sleep 0.5
check_eq "in a read-only transaction with async on: 25006, and no row stored" \
	"ERROR:  25006: cannot execute INSERT in a read-only transaction 1" \
	"$(grep -m1 '^ERROR' "$BASE/ro") $(count_metric ro)"

# ---- another database: synchronous -----------------------------------------
hold
q -c "CREATE DATABASE other" >/dev/null
"$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U postgres -d other -c "SET client_min_messages = warning" \
	-c "CREATE EXTENSION perfstore" >/dev/null
PGOPTIONS="-c perfstore.record_async=on" "$PGBIN/psql" -X -q -At -h "$SOCK" -p "$PORT" -U postgres -d other \
	-c "SELECT perfstore.record('other', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('other', i); COMMIT; END LOOP; END \$\$" \
	-c "SHOW perfstore.record_async" \
	-c "SELECT count(*) FROM perfstore.samples" >"$BASE/other" 2>&1
check_eq "in a database the worker does not run in, async on writes synchronously: 21 rows at once" \
	"on 21" "$(tail -n 2 "$BASE/other" | tr '\n' ' ' | sed 's/ $//')"

# ---- no cache (the trigger series_changed off, as on a Citus-distributed store): synchronous ----
hold
q -c "ALTER TABLE perfstore.series DISABLE TRIGGER series_changed" >/dev/null
qa -c "SELECT perfstore.record('nocache', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('nocache', i); COMMIT; END LOOP; END \$\$" >/dev/null
check_eq "without the trigger series_changed nothing is cached, so async on writes synchronously: 21 rows at once" \
	"21" "$(count_metric nocache)"
q -c "ALTER TABLE perfstore.series ENABLE ALWAYS TRIGGER series_changed" >/dev/null

# ---- perfstore.maintenance_interval = 0 after the start: the queue is still written ----
set_conf perfstore.maintenance_interval 0
hold
qa -c "SELECT perfstore.record('paused', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('paused', i); COMMIT; END LOOP; END \$\$" >/dev/null
before=$(count_metric paused)
if flush_wait paused 21; then
	ok "with maintenance_interval set to 0 after the start, queued samples are still written (1 row before the flush: $before)"
else
	not_ok "with maintenance_interval 0 the queue is still written" "before: $before, after: $(count_metric paused)"
fi
set_conf perfstore.maintenance_interval 3600

# ---- late samples: logged, and rolled up by maintain() ----------------------
q -c "SELECT perfstore.maintain() IS NOT NULL" >/dev/null
hold
# all in one UTC hour two days back: the first call synchronous, 10 queued
late_hour=$(q -c "SELECT date_trunc('hour', now() - interval '2 days', 'UTC')")
qa -c "SELECT perfstore.record('late', 0, '{}', '$late_hour'::timestamptz + interval '1 minute')" \
	-c "DO \$\$ BEGIN FOR i IN 1..10 LOOP
		PERFORM perfstore.record('late', i, '{}', '$late_hour'::timestamptz + i * interval '3 minutes'); COMMIT;
	END LOOP; END \$\$" >/dev/null
late_sql="SELECT count(*) FROM perfstore.rollup_invalidations i JOIN perfstore.series s ON s.id = i.series_id WHERE s.metric = 'late'"
check_eq "before the flush: one log row (the synchronous call's)" "1 1" "$(count_metric late) $(q -c "$late_sql")"
flush_wait late 11 >/dev/null
sleep 0.5
check_eq "after the flush: 11 rows; the 10 queued ones logged in one row (one series, one hour) covering them" \
	"11 2 t" "$(count_metric late) $(q -c "$late_sql") $(q -c "SELECT bool_and(EXISTS (SELECT 1 FROM perfstore.rollup_invalidations i
		WHERE i.series_id = x.series_id AND x.ts BETWEEN i.lo AND i.hi))
		FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'late'")"
q -c "SELECT perfstore.maintain() IS NOT NULL" >/dev/null
check_eq "after maintain(): the log is empty and rollup_1m holds the 11 samples (sum 55)" "0 11 55" \
	"$(q -c "$late_sql") $(q -c "SELECT sum(perfstore.num_vals(r.stats)) || ' ' || sum(perfstore.sum(r.stats))
		FROM perfstore.rollup_1m r JOIN perfstore.series s ON s.id = r.series_id WHERE s.metric = 'late'")"

# ---- hostile roles and settings ---------------------------------------------
q -c "CREATE ROLE regress_reader LOGIN" -c "SELECT perfstore.grant_reader('regress_reader')" \
	-c "CREATE ROLE regress_writer LOGIN" -c "SELECT perfstore.grant_writer('regress_writer')" >/dev/null
as_role() { # ROLE [psql args]: async on, verbose errors
	local r=$1
	shift
	PGOPTIONS="-c perfstore.record_async=on" "$PGBIN/psql" -X -q -At -v VERBOSITY=verbose -h "$SOCK" -p "$PORT" -U "$r" -d postgres "$@" 2>&1
}
check_eq "a role without EXECUTE on record(), async on: 42501 twice (also after a call that would hit the cache)" \
	"42501 42501" "$(as_role regress_reader -c "SELECT perfstore.record('rb', 9)" -c "SELECT perfstore.record('rb', 9)" |
		sed -nE 's/^ERROR:  ([0-9A-Z]{5}):.*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
check_eq "a writer cannot change the flush interval or the queue size (55P02), nor ALTER SYSTEM (42501); a bad boolean is 22023" \
	"55P02 55P02 42501 22023" "$(as_role regress_writer -c "SET perfstore.record_flush_interval = 10" \
		-c "SET perfstore.record_queue_size = 16" -c "ALTER SYSTEM SET perfstore.record_flush_interval = 10" \
		-c "SET perfstore.record_async = 'maybe'" | sed -nE 's/^ERROR:  ([0-9A-Z]{5}):.*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
check_eq "huge or zero settings are refused (22023): flush interval 0 and 10^10, queue size 10^8" \
	"22023 22023 22023" "$(q -v VERBOSITY=verbose -c "ALTER SYSTEM SET perfstore.record_flush_interval = 0" \
		-c "ALTER SYSTEM SET perfstore.record_flush_interval = 10000000000" \
		-c "ALTER SYSTEM SET perfstore.record_queue_size = 100000000" 2>&1 |
		sed -nE 's/^ERROR:  ([0-9A-Z]{5}):.*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
hold
as_role regress_writer -c "SELECT perfstore.record('writer', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..5 LOOP PERFORM perfstore.record('writer', i); COMMIT; END LOOP; END \$\$" >"$BASE/writer"
check_eq "a writer's calls queue too: 1 row before the flush" "1" "$(count_metric writer)"
if flush_wait writer 6; then
	ok "and 6 after it, written by the worker as the extension's owner"
else
	not_ok "a writer's queued samples are written" "$(count_metric writer)" "$BASE/writer"
fi

# a series deleted while its samples are queued: they are skipped, logged once
hold
qa -c "SELECT perfstore.record('del', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..5 LOOP PERFORM perfstore.record('del', i); COMMIT; END LOOP; END \$\$" >/dev/null
del_id=$(q -c "SELECT id FROM perfstore.series WHERE metric = 'del'")
q -c "DELETE FROM perfstore.series WHERE metric = 'del'" >/dev/null
set_conf perfstore.record_flush_interval 100
sleep 1
check_eq "a series deleted while 5 of its samples were queued: they are skipped (only the synchronous row), one LOG line" \
	"1 1" "$(q -c "SELECT count(*) FROM perfstore.samples WHERE series_id = $del_id") $(grep -c 'skipped 5 queued samples of record() whose series no longer exists' "$BASE/server.log")"

# a series deleted while its samples are queued, and its id given at once to
# a new series (the sequence set back, as TRUNCATE ... RESTART IDENTITY also
# does): the samples must not land in that other series
hold
qa -c "SELECT perfstore.record('reuse', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..4 LOOP PERFORM perfstore.record('reuse', i); COMMIT; END LOOP; END \$\$" >/dev/null
reuse_id=$(q -c "SELECT id FROM perfstore.series WHERE metric = 'reuse'")
q -c "DELETE FROM perfstore.samples WHERE series_id = $reuse_id" -c "DELETE FROM perfstore.series WHERE id = $reuse_id" \
	-c "SELECT setval('perfstore.series_id_seq', $reuse_id - 1)" -c "SELECT perfstore.record('reuser', 42)" >/dev/null
set_conf perfstore.record_flush_interval 100
sleep 1
check_eq "a series deleted while 4 samples were queued and its id given to a new series: that one gets none of them, one LOG line" \
	"reuser 1 42 1" "$(q -c "SELECT metric FROM perfstore.series WHERE id = $reuse_id") $(q -c "SELECT count(*) || ' ' || sum(value) FROM perfstore.samples WHERE series_id = $reuse_id") $(grep -c 'skipped 4 queued samples of record() whose series no longer exists' "$BASE/server.log")"

# DROP EXTENSION while samples are queued, then CREATE EXTENSION with series
# ids starting again at 1: the queued samples must not land in the new store
hold
qa -c "SELECT perfstore.record('gone', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..7 LOOP PERFORM perfstore.record('gone', i); COMMIT; END LOOP; END \$\$" >/dev/null
gone_id=$(q -c "SELECT id FROM perfstore.series WHERE metric = 'gone'")
q -c "SET client_min_messages = warning" -c "DROP EXTENSION perfstore CASCADE" -c "CREATE EXTENSION perfstore" \
	-c "INSERT INTO perfstore.series (metric, labels) SELECT 'new' || i, '{}' FROM generate_series(1, $gone_id) i" >/dev/null
set_conf perfstore.record_flush_interval 100
sleep 1
check_eq "after DROP and CREATE EXTENSION, series $gone_id exists again but gets none of the 7 queued samples; one WARNING with the count" \
	"1 0 1" "$(q -c "SELECT count(*) FROM perfstore.series WHERE id = $gone_id") $(q -c "SELECT count(*) FROM perfstore.samples") $(grep -c 'WARNING:  perfstore maintenance worker: discarded 7 queued samples of record()' "$BASE/server.log")"

# ---- a failing flush keeps the rows; a full queue writes synchronously -------
# A trigger on samples that fails only in the worker: its flushes fail, the
# queue (16 entries after a restart) fills, and later calls write
# synchronously; once the trigger is gone every sample is there.
q -c "ALTER SYSTEM SET perfstore.record_queue_size = 16" >/dev/null
as_server "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1
start_server
worker_up >/dev/null
q -c "SELECT perfstore.create_partition(current_date)" >/dev/null 2>&1
q >/dev/null <<'SQL'
CREATE FUNCTION public.fail_in_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT backend_type FROM pg_catalog.pg_stat_activity WHERE pid = pg_catalog.pg_backend_pid())
		= 'perfstore maintenance worker' THEN
		RAISE EXCEPTION 'the worker may not write now' USING ERRCODE = 'P0001';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER fail_in_worker BEFORE INSERT ON perfstore.samples FOR EACH ROW EXECUTE FUNCTION public.fail_in_worker();
SQL
set_conf perfstore.record_flush_interval 100
check_eq "the queue size is 16 after the restart" "16" "$(q -c "SHOW perfstore.record_queue_size")"
qa -c "SELECT perfstore.record('full', 0)" \
	-c "DO \$\$ BEGIN FOR i IN 1..100 LOOP PERFORM perfstore.record('full', i); COMMIT; END LOOP; END \$\$" >/dev/null
sleep 1
check_eq "the worker cannot write: of 101 calls 85 are stored (16 queued), one WARNING for many failed flushes" \
	"85 1" "$(count_metric full) $(grep -c 'could not write the queued samples of record(): the worker may not write now' "$BASE/server.log")"
q -c "DROP TRIGGER fail_in_worker ON perfstore.samples" >/dev/null
if wait_for "SELECT count(*) = 101 AND sum(x.value) = 5050 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'full'"; then
	ok "once it can write again, all 101 samples are there (sum 5050), and it logs that once"
else
	not_ok "after the failing flushes all 101 samples are there" "$(count_metric full)"
fi
check_eq "one LOG line: writing succeeded again" "1" "$(grep -c 'writing the queued samples of record() succeeded again' "$BASE/server.log")"

# a burst much larger than the queue: nothing lost, nothing twice
PGOPTIONS="-c perfstore.record_async=on" bench -c 8 -j 2 -t 500 -f /dev/stdin postgres >"$BASE/burst16.out" 2>&1 <<'SQL'
\set v random(1, 1000)
SELECT perfstore.record('full16', :v, jsonb_build_object('c', :client_id));
SQL
if wait_for "SELECT count(*) = 4000 FROM perfstore.samples x JOIN perfstore.series s ON s.id = x.series_id WHERE s.metric = 'full16'"; then
	ok "4000 calls through a queue of 16: 4000 rows"
else
	not_ok "4000 calls through a queue of 16" "$(count_metric full16)" "$BASE/burst16.out"
fi

# ---- pg_cancel_backend on the worker between calls: it keeps reading the queue ----
hold
qa -c "SELECT perfstore.record('cancel', 0)" \
	-c "DO \$\$ BEGIN FOR i IN 1..3 LOOP PERFORM perfstore.record('cancel', i); COMMIT; END LOOP; END \$\$" >/dev/null
worker_pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'")
q -c "SELECT pg_cancel_backend($worker_pid)" >/dev/null
sleep 1
check_eq "pg_cancel_backend on the idle worker: the same worker runs on, 1 row visible (3 queued, under the quarter of 16 that wakes it)" \
	"$worker_pid 1" "$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'") $(count_metric cancel)"
if flush_wait cancel 4; then
	ok "and it writes the 3 queued samples at its next flush"
else
	not_ok "after pg_cancel_backend the worker writes the queued samples" "rows: $(count_metric cancel)" "$(tail -n 5 "$BASE/server.log")"
fi

# ---- pg_ctl stop -m fast right after a burst: nothing lost ------------------
q -c "ALTER SYSTEM SET perfstore.record_queue_size = 65536" -c "ALTER SYSTEM SET perfstore.record_flush_interval = 600000" >/dev/null
as_server "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1
start_server
worker_up >/dev/null
for mode in smart fast; do
	PGOPTIONS="-c perfstore.record_async=on" bench -c 8 -j 2 -t 500 -f /dev/stdin postgres >"$BASE/burst.out" 2>&1 <<SQL
\\set v random(1, 1000)
SELECT perfstore.record('burst_$mode', :v, jsonb_build_object('c', :client_id));
SQL
	queued_rows=$(count_metric "burst_$mode")
	as_server "$PGBIN/pg_ctl" -D "$DATA" -m "$mode" -w stop >/dev/null 2>&1
	start_server
	check_eq "4000 calls, $queued_rows rows visible before pg_ctl stop -m $mode (8: each session's first call), 4000 after the restart" \
		"8 4000" "$queued_rows $(count_metric "burst_$mode")"
	worker_up >/dev/null
done
if grep -q "could not be written before it stopped" "$BASE/server.log"; then
	not_ok "no queued sample lost at shutdown" "$BASE/server.log"
else
	ok "no queued sample lost at shutdown (no WARNING)"
fi
worker_up >/dev/null

# ---- pg_terminate_backend on the worker: it writes what is queued, then stops accepting ----
hold
qa -c "SELECT perfstore.record('term', 1)" \
	-c "DO \$\$ BEGIN FOR i IN 1..10 LOOP PERFORM perfstore.record('term', i); COMMIT; END LOOP; END \$\$" >/dev/null
before=$(count_metric term)
# the worker in a maintain() call that waits for a lock held by another
# session, which SIGTERM cancels; the lock is still held when it has gone
q -c "BEGIN" -c "LOCK TABLE perfstore.rollup_1m IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" \
	>/dev/null 2>&1 &
locker=$!
set_conf perfstore.maintenance_interval 1
if wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker' AND wait_event_type = 'Lock'"; then
	ok "the worker waits in maintain() for the lock on rollup_1m"
else
	not_ok "the worker waits in maintain() for the lock on rollup_1m" \
		"$(q -c "SELECT backend_type, state, wait_event_type, wait_event, query FROM pg_stat_activity" 2>&1)"
fi
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'" >/dev/null
if wait_for "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'" &&
	[ "$(q -c "SELECT count(*) FROM pg_locks WHERE relation = 'perfstore.rollup_1m'::regclass AND mode = 'AccessExclusiveLock' AND granted")" = 1 ]; then
	ok "pg_terminate_backend cancels that maintain() call: the worker exits while the lock is still held"
else
	not_ok "pg_terminate_backend cancels a maintain() call in progress" "$(tail -n 5 "$BASE/server.log")"
fi
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'" >/dev/null
wait "$locker" 2>/dev/null
if grep -q "maintain() failed" "$BASE/server.log"; then
	not_ok "a maintain() call cancelled by SIGTERM is not logged as a failure" "$(grep 'maintain() failed' "$BASE/server.log")"
else
	ok "a maintain() call cancelled by SIGTERM is not logged as a failure"
fi
qa -c "SELECT perfstore.record('term', 100)" -c "SELECT perfstore.record('term', 100)" >/dev/null
check_eq "pg_terminate_backend on the worker: 1 row before, the 10 queued written as it stops, then calls are synchronous (13)" \
	"1 13" "$before $(count_metric term)"

# ---- a prepared transaction holds a lock the flush needs: a fast stop still ends ----
set_conf perfstore.maintenance_interval 3600
worker_up >/dev/null
hold
qa -c "SELECT perfstore.record('prep', 0)" \
	-c "DO \$\$ BEGIN FOR i IN 1..5 LOOP PERFORM perfstore.record('prep', i); COMMIT; END LOOP; END \$\$" >/dev/null
q -c "BEGIN" -c "LOCK TABLE perfstore.rollup_invalidations IN ACCESS EXCLUSIVE MODE" -c "PREPARE TRANSACTION 'regress_lock'" >/dev/null
set_conf perfstore.record_flush_interval 100
if wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker' AND wait_event_type = 'Lock'"; then
	ok "the worker's flush waits for the lock of a prepared transaction"
else
	not_ok "the worker's flush waits for the lock of a prepared transaction" \
		"$(q -c "SELECT backend_type, state, wait_event_type, wait_event, query FROM pg_stat_activity" 2>&1)"
fi
SECONDS_BEFORE=$SECONDS
if as_server "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 40 stop >/dev/null 2>&1; then
	ok "pg_ctl stop -m fast ends while a prepared transaction holds that lock ($((SECONDS - SECONDS_BEFORE)) s)"
else
	not_ok "pg_ctl stop -m fast ends while a prepared transaction holds the flush's lock" "$(tail -n 5 "$BASE/server.log")"
	as_server "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1
fi
check_eq "the 5 samples it could not write are logged in one WARNING" "1" \
	"$(grep -c 'WARNING:  perfstore maintenance worker: 5 queued samples of record() could not be written before it stopped' "$BASE/server.log")"
start_server
q -c "ROLLBACK PREPARED 'regress_lock'" >/dev/null
worker_up >/dev/null

# ---- the database's owner sets default_transaction_read_only: the worker still writes ----
# (a non-superuser owning the store's database may; callers turn it off)
q -c "ALTER DATABASE postgres SET default_transaction_read_only = on" >/dev/null
as_server "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1
start_server
worker_up >/dev/null
PGOPTIONS="-c default_transaction_read_only=off" hold
PGOPTIONS="-c perfstore.record_async=on -c default_transaction_read_only=off" q -c "SELECT perfstore.record('dbro', 0)" \
	-c "DO \$\$ BEGIN FOR i IN 1..3 LOOP PERFORM perfstore.record('dbro', i); COMMIT; END LOOP; END \$\$" >/dev/null
if PGOPTIONS="-c default_transaction_read_only=off" flush_wait dbro 4; then
	ok "ALTER DATABASE SET default_transaction_read_only = on: the worker writes the 3 queued samples"
else
	not_ok "with default_transaction_read_only on in the database the worker writes the queue" "rows: $(count_metric dbro)" \
		"$(grep WARNING "$BASE/server.log" | tail -n 3)"
fi
PGOPTIONS="-c default_transaction_read_only=off" q -c "ALTER DATABASE postgres RESET default_transaction_read_only" >/dev/null

# ---- the shared cluster, which does not preload perfstore -------------------
if [ -n "${PGPORT:-}" ] && psql -X -q -At -d postgres -c "SELECT 1" >/dev/null 2>&1; then
	sdb=perfstore_record_async_shared
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $sdb" -c "CREATE DATABASE $sdb" >/dev/null 2>&1
	psql -X -q -d "$sdb" -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" >/dev/null
	got=$(PGOPTIONS="-c perfstore.record_async=on" psql -X -q -At -d "$sdb" -c "SELECT perfstore.record('shared', 1)" \
		-c "DO \$\$ BEGIN FOR i IN 1..20 LOOP PERFORM perfstore.record('shared', i); COMMIT; END LOOP; END \$\$" \
		-c "SHOW perfstore.record_async" -c "SELECT count(*) FROM perfstore.samples" 2>&1 | tail -n 2 | tr '\n' ' ')
	check_eq "library not preloaded (the shared cluster): async on writes synchronously, 21 rows at once" "on 21 " "$got"
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $sdb" >/dev/null
else
	echo "# the shared cluster is not reachable (run through tests/run.sh): its check is left out"
fi

if grep -qE "terminated by signal|PANIC|TRAP" "$BASE/server.log"; then
	not_ok "no crash in the server log" "$(grep -E 'terminated by signal|PANIC|TRAP' "$BASE/server.log")"
else
	ok "no crash in the server log"
fi

finish
