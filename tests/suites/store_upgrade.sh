#!/usr/bin/env bash
# store_upgrade.sh: the upgrade path from version 0.1.0 to 0.2.0 (the store)
# and on to 0.3.0 (stored load-test runs), and
# pg_dump/restore of a populated store.
#
# Runs against the throwaway cluster (PG* from tests/run.sh; by hand:
# scripts/pgcluster.sh start && eval "$(scripts/pgcluster.sh env)") with the
# psql, pg_dump and pg_restore of $PERFSTORE_PGBIN.  Creates the databases
# perfstore_upgrade_old_PID, perfstore_upgrade_new_PID and
# perfstore_upgrade_restore_PID
# (each dropped first if it exists, and at the end).
#
# Checks: perfstore--0.2.0.sql is perfstore--0.1.0.sql followed by the
# upgrade script (so a fresh install and an upgrade cannot drift apart);
# a database on 0.1.0 with a table of sketches and stats updates to 0.2.0,
# its data intact (text forms and accessors identical) and the store
# working (record, batch ingest, the workflow API, maintain(), the views),
# then to 0.3.0 (data still intact; store_run(), a run group and
# compare_runs() work); the 0.3.0 grant_reader and grant_writer are their
# 0.2.0 bodies plus the grants of the runs; then to 0.4.0, 0.5.0 and 0.6.0
# (every samples partition's index is without deduplication afterwards, and
# so is a new partition's) and 0.7.0 (perfstore.ingest a foreign table that
# stores what is written to it); the upgraded and a fresh database
# list the same extension objects with the same definitions; a populated
# store survives pg_dump and pg_restore (rows, partitions, rollups, stored
# runs, sequences: record(), start_run() and store_run() work after the
# restore, and a driver joins a restored run group).
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
OLD=perfstore_upgrade_old_$$
NEW=perfstore_upgrade_new_$$
RESTORE=perfstore_upgrade_restore_$$

TMP=$(mktemp -d /tmp/perfstore_upgrade.XXXXXX)

psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

dropdbs() {
	psql -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $OLD" \
		-c "DROP DATABASE IF EXISTS $NEW" \
		-c "DROP DATABASE IF EXISTS $RESTORE" >/dev/null 2>&1
}
cleanup() {
	dropdbs
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- the install script is the old one plus the upgrade ---------------
{
	cat perfstore--0.1.0.sql
	echo
	grep -v '^\\echo Use "ALTER EXTENSION' perfstore--0.1.0--0.2.0.sql
} >"$TMP/expected-0.2.0.sql"
if diff -u "$TMP/expected-0.2.0.sql" perfstore--0.2.0.sql >"$TMP/install.diff"; then
	ok "perfstore--0.2.0.sql is perfstore--0.1.0.sql plus perfstore--0.1.0--0.2.0.sql"
else
	not_ok "perfstore--0.2.0.sql differs from 0.1.0 plus the upgrade script" "$TMP/install.diff"
fi
if grep -q "^default_version = '0.7.0'" perfstore.control; then
	ok "default_version is 0.7.0"
else
	not_ok "default_version is 0.7.0"
fi

# ---- 0.1.0 with data, then ALTER EXTENSION UPDATE ---------------------
dropdbs
cat >"$TMP/old.sql" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION perfstore VERSION '0.1.0';
SELECT setseed(0.75);
CREATE TABLE latencies (id int PRIMARY KEY, s perfstore.sketch, st perfstore.stats);
INSERT INTO latencies
SELECT g, perfstore.sketch_agg(v), perfstore.stats_agg(v)
FROM (SELECT i % 10 AS g, exp(random() * 8) AS v FROM generate_series(1, 20000) i) x
GROUP BY g;
INSERT INTO latencies SELECT 100, perfstore.sketch_agg(s), perfstore.stats_agg(st) FROM latencies;
SQL
SNAP_SQL="SET extra_float_digits = 1;
SELECT id, s::text, st::text, perfstore.quantiles(s, '{0,0.5,0.95,0.99,1}'),
	perfstore.count(s), perfstore.sum(s), perfstore.mean(st), perfstore.stddev_samp(st)
FROM latencies ORDER BY id"
if psql -d postgres -c "CREATE DATABASE $OLD" &&
	psql -d "$OLD" -f "$TMP/old.sql" >"$TMP/old.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.1.0 ] &&
	psql -d "$OLD" -c "$SNAP_SQL" >"$TMP/before.snap" 2>>"$TMP/old.out"; then
	ok "version 0.1.0 installed with a table of sketches and stats ($(wc -l <"$TMP/before.snap") rows)"
else
	not_ok "version 0.1.0 installed with a table of sketches and stats" "$TMP/old.out"
	finish
fi
if psql -d "$OLD" -c "SELECT to_regclass('perfstore.samples') IS NULL" | grep -qx t &&
	psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE TO '0.2.0'" >"$TMP/update.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.2.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE TO '0.2.0'"
else
	not_ok "ALTER EXTENSION perfstore UPDATE TO '0.2.0'" "$TMP/update.out"
fi
psql -d "$OLD" -c "$SNAP_SQL" >"$TMP/after.snap" 2>&1
if diff "$TMP/before.snap" "$TMP/after.snap" >"$TMP/snap.diff"; then
	ok "old sketches and stats intact: text forms, quantiles, count, sum, mean, stddev identical"
else
	not_ok "old sketches and stats changed by the update" "$TMP/snap.diff"
fi

# the store works on the upgraded database
STORE_SQL="SET client_min_messages = warning;
SELECT count(perfstore.record('upgrade.latency', i, '{\"host\": \"a\"}', now() - i * interval '1 second'))
FROM generate_series(1, 500) i;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'upgrade.latency', '{\"host\": \"b\"}', now() - i * interval '1 second', i FROM generate_series(1, 500) i;
SELECT perfstore.start_run('upgrade') AS run \\gset
SELECT perfstore.start_task(:run, 'a', 'step') AS task \\gset
SELECT perfstore.finish_task(:task);
SELECT perfstore.finish_run(:run);
SELECT perfstore.maintain() IS NOT NULL;
SELECT sum(perfstore.count(sketch)), abs(perfstore.quantile(perfstore.sketch_agg(sketch), 0.5) - 250) <= 2.5
FROM perfstore.samples_1m;
SELECT runs, succeeded FROM perfstore.workflow_summary;
SELECT count(*) FROM perfstore.partitions WHERE NOT is_default;"
store_check() {
	local db=$1 what=$2
	# 0.4.0 names the workflow functions start_workflow_run and finish_workflow_run
	if [ "$(psql -d "$db" -c "SELECT extversion >= '0.4.0' FROM pg_extension WHERE extname = 'perfstore'")" = t ]; then
		echo "$STORE_SQL" | sed 's/perfstore\.start_run(/perfstore.start_workflow_run(/; s/perfstore\.finish_run(/perfstore.finish_workflow_run(/; s/perfstore\.count(/perfstore.num_vals(/g' >"$TMP/store.sql"
	else
		echo "$STORE_SQL" >"$TMP/store.sql"
	fi
	if psql -d "$db" -f "$TMP/store.sql" >"$TMP/$db.store" 2>&1 &&
		[ "$(tail -n 3 "$TMP/$db.store" | head -n 2 | tr '\n' ' ')" = "1000|t 1|1 " ] &&
		[ "$(tail -n 1 "$TMP/$db.store")" -ge 4 ]; then
		ok "$what: record, batch ingest, workflow API, maintain() and the views work"
	else
		not_ok "$what: the store works" "$TMP/$db.store"
	fi
}
store_check "$OLD" "database upgraded to 0.2.0"

# ---- ALTER EXTENSION UPDATE TO '0.3.0' ------------------------------------
# the bodies of grant_reader and grant_writer in 0.2.0 (without the final END)
body_sql() {
	echo "SELECT regexp_replace(prosrc, '\\mEND\\s*\$', '') FROM pg_proc WHERE oid = 'perfstore.$1(regrole)'::regprocedure"
}
old_reader=$(psql -d "$OLD" -c "$(body_sql grant_reader)" 2>&1)
old_writer=$(psql -d "$OLD" -c "$(body_sql grant_writer)" 2>&1)
if psql -d "$OLD" -c "SELECT to_regclass('perfstore.bench_runs') IS NULL" | grep -qx t &&
	psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE TO '0.3.0'" >"$TMP/update3.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.3.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE TO '0.3.0'"
else
	not_ok "ALTER EXTENSION perfstore UPDATE TO '0.3.0'" "$TMP/update3.out"
fi
psql -d "$OLD" -c "$SNAP_SQL" >"$TMP/after3.snap" 2>&1
if diff "$TMP/before.snap" "$TMP/after3.snap" >"$TMP/snap3.diff"; then
	ok "after 0.3.0: old sketches and stats still identical"
else
	not_ok "old sketches and stats changed by the update to 0.3.0" "$TMP/snap3.diff"
fi
# two drivers of one run group, and a later run compared with them
RUNS_SQL="SET client_min_messages = warning;
CREATE TEMP TABLE docs AS
SELECT i, jsonb_build_object('name', 'upgrade', 'run_group', CASE WHEN i < 3 THEN 'g1' END,
	'host', 'h' || i, 'labels', jsonb_build_object('commit', 'c' || i),
	'started_at', '2026-01-01T00:00:00+00:00'::timestamptz + i * interval '1 hour',
	'finished_at', '2026-01-01T00:00:10+00:00'::timestamptz + i * interval '1 hour',
	'tps', 100, 'transactions', 1000, 'failed_transactions', 0,
	'latency_sketch', (SELECT perfstore.sketch_agg(x * i)::text FROM generate_series(1, 100) x),
	'statements', jsonb_build_array(jsonb_build_object('fingerprint', 'f', 'query', 'SELECT 1', 'calls', 10,
		'latency_sketch', (SELECT perfstore.sketch_agg(x * i)::text FROM generate_series(1, 100) x)))) AS d
FROM generate_series(1, 3) i;
SELECT count(DISTINCT perfstore.store_run(d)) FROM (SELECT d FROM docs ORDER BY i) x;
SELECT drivers, transactions FROM perfstore.bench_runs WHERE run_group = 'g1';
SELECT verdict FROM perfstore.compare_to_history((SELECT max(id) FROM perfstore.bench_runs), 1)
WHERE scope = 'run' AND metric = 'p95_ms';"
runs_check() {
	local db=$1 what=$2
	echo "$RUNS_SQL" >"$TMP/runs.sql"
	if psql -d "$db" -f "$TMP/runs.sql" >"$TMP/$db.runs" 2>&1 &&
		[ "$(tr '\n' ' ' <"$TMP/$db.runs")" = "2 2|2000 regression " ]; then
		ok "$what: store_run, a run group of two drivers and compare_to_history work"
	else
		not_ok "$what: store_run, run groups and compare_to_history" "$TMP/$db.runs"
	fi
}
runs_check "$OLD" "database upgraded to 0.3.0"
# 0.3.0 adds grants at the end of grant_reader and grant_writer and keeps
# every statement of their 0.2.0 bodies
echo "SELECT starts_with(r.prosrc, :'r') AND starts_with(w.prosrc, :'w')
	AND r.prosrc LIKE '%perfstore.bench_run_summary%' AND w.prosrc LIKE '%perfstore.store_run(jsonb)%'
FROM pg_proc r, pg_proc w
WHERE r.oid = 'perfstore.grant_reader(regrole)'::regprocedure AND w.oid = 'perfstore.grant_writer(regrole)'::regprocedure" |
	psql -d "$OLD" -v r="$old_reader" -v w="$old_writer" -f - >"$TMP/grants.out" 2>&1
if [ "$(cat "$TMP/grants.out")" = t ] && [[ "$old_reader" == *"GRANT SELECT ON perfstore.series"* ]] &&
	[[ "$old_writer" == *"perfstore.start_run"* ]]; then
	ok "0.3.0 grant_reader and grant_writer: their 0.2.0 bodies plus the grants of the runs"
else
	printf '%s\n%s\n' "$old_reader" "$old_writer" >>"$TMP/grants.out"
	not_ok "0.3.0 grant_reader and grant_writer keep their 0.2.0 bodies" "$TMP/grants.out"
fi

# ---- ALTER EXTENSION UPDATE to 0.4.0, then to the current version ------
if psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE TO '0.4.0'" >"$TMP/update4.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.4.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE TO '0.4.0'"
else
	not_ok "ALTER EXTENSION perfstore UPDATE TO '0.4.0'" "$TMP/update4.out"
fi
if psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE TO '0.5.0'" >"$TMP/update5.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.5.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE TO '0.5.0'"
else
	not_ok "ALTER EXTENSION perfstore UPDATE TO '0.5.0'" "$TMP/update5.out"
fi
# the samples indexes of the partitions that exist before 0.6.0
DEDUP_SQL="SELECT count(*) FILTER (WHERE coalesce(c.reloptions::text, '') LIKE '%deduplicate_items=off%') || '/' || count(*)
	FROM pg_inherits h JOIN pg_index i ON i.indrelid = h.inhrelid JOIN pg_class c ON c.oid = i.indexrelid
	WHERE h.inhparent = 'perfstore.samples'::regclass"
parts_before=$(psql -d "$OLD" -c "$DEDUP_SQL")
if psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE TO '0.6.0'" >"$TMP/update6.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.6.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE TO '0.6.0'"
else
	not_ok "ALTER EXTENSION perfstore UPDATE TO '0.6.0'" "$TMP/update6.out"
fi
# every partition's (series_id, ts) index is without deduplication after
# the update, and so is the index of a partition created afterwards
n_parts=${parts_before#*/}
parts_after=$(psql -d "$OLD" -c "$DEDUP_SQL")
if [ "$n_parts" -ge 2 ] && [ "${parts_before%/*}" = 0 ] && [ "$parts_after" = "$n_parts/$n_parts" ]; then
	ok "0.6.0: the $n_parts existing samples partitions' indexes are without deduplication (before: $parts_before)"
else
	not_ok "0.6.0: existing samples partitions' indexes without deduplication (before $parts_before, after $parts_after)"
fi
psql -d "$OLD" -c "SELECT perfstore.create_partition(date '2150-01-01')" >/dev/null 2>&1
if [ "$(psql -d "$OLD" -c "SELECT reloptions::text FROM pg_class WHERE relname = 'samples_p21500101_series_ts'")" = '{deduplicate_items=off}' ]; then
	ok "0.6.0: a new partition's index is without deduplication"
else
	not_ok "0.6.0: a new partition's index is without deduplication"
fi
psql -d "$OLD" -c "DROP TABLE perfstore.samples_p21500101" >/dev/null 2>&1
# 0.7.0: perfstore.ingest becomes a foreign table; a batch through it
# stores every row
if psql -d "$OLD" -c "ALTER EXTENSION perfstore UPDATE" >"$TMP/update7.out" 2>&1 &&
	[ "$(psql -d "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")" = 0.7.0 ]; then
	ok "ALTER EXTENSION perfstore UPDATE (to 0.7.0)"
else
	not_ok "ALTER EXTENSION perfstore UPDATE (to 0.7.0)" "$TMP/update7.out"
fi
got=$(seq 1 1000 | awk '{printf "upgrade.fdw\t{}\t2026-01-05 00:%02d:%02d\t%d\n", $1 / 60, $1 % 60, $1}' |
	psql -d "$OLD" -c "SELECT relkind FROM pg_class WHERE oid = 'perfstore.ingest'::regclass" \
	-c "\\copy perfstore.ingest (metric, labels, ts, value) FROM STDIN" \
	-c "SELECT count(*) || ' ' || sum(s.value) FROM perfstore.samples s JOIN perfstore.series r ON r.id = s.series_id WHERE r.metric = 'upgrade.fdw'" 2>&1 | tr '\n' ' ')
if [ "$got" = "f 1000 500500 " ]; then
	ok "0.7.0: perfstore.ingest is a foreign table; a COPY of 1000 rows through it stores 1000 rows"
else
	echo "$got" >"$TMP/fdw.out"
	not_ok "0.7.0: perfstore.ingest a foreign table that stores its rows" "$TMP/fdw.out"
fi

# ---- fresh install: the same objects as the upgraded one ---------------
CATALOG_SQL="SET extra_float_digits = 0;
SELECT line FROM (
WITH obj AS (
	SELECT d.classid, d.objid FROM pg_depend d
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'perfstore'
	WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
)
SELECT pg_describe_object(classid, objid, 0) || ' | ' || coalesce(
	CASE classid
	WHEN 'pg_proc'::regclass THEN (SELECT concat_ws(' ', p.provolatile, p.proparallel, p.proisstrict,
		p.prosecdef, p.proconfig::text, p.proacl::text, md5(p.prosrc), pg_get_function_result(p.oid),
		pg_get_function_arguments(p.oid)) FROM pg_proc p WHERE p.oid = objid)
	WHEN 'pg_class'::regclass THEN (SELECT concat_ws(' ', c.relkind, c.relpersistence, c.relacl::text,
		(SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
		        || a.attnotnull || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''), ', ' ORDER BY a.attnum)
		 FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
		(SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname) FROM pg_constraint k
		 WHERE k.conrelid = c.oid),
		(SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1) FROM pg_index i
		 WHERE i.indrelid = c.oid),
		(SELECT string_agg(t.tgname || ' ' || pg_get_triggerdef(t.oid), ', ') FROM pg_trigger t
		 WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
		CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) END)
		FROM pg_class c WHERE c.oid = objid)
	WHEN 'pg_type'::regclass THEN (SELECT concat_ws(' ', t.typlen, t.typalign, t.typstorage, t.typinput::text,
		t.typoutput::text, t.typreceive::text, t.typsend::text) FROM pg_type t WHERE t.oid = objid)
	END, '') || ' | ' || coalesce(obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)), '') AS line
FROM obj
UNION ALL
SELECT 'config ' || c::regclass::text || ' ' || coalesce(f, '')
FROM pg_extension e, unnest(e.extconfig, e.extcondition) x(c, f)
WHERE e.extname = 'perfstore'
) x ORDER BY line COLLATE \"C\";"
if psql -d postgres -c "CREATE DATABASE $NEW" &&
	psql -d "$NEW" -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" >"$TMP/new.out" 2>&1 &&
	psql -d "$NEW" -c "$CATALOG_SQL" >"$TMP/new.catalog" 2>>"$TMP/new.out" &&
	psql -d "$OLD" -c "$CATALOG_SQL" >"$TMP/old.catalog" 2>>"$TMP/new.out"; then
	if diff "$TMP/new.catalog" "$TMP/old.catalog" >"$TMP/catalog.diff"; then
		ok "fresh 0.7.0 and 0.1.0 upgraded through 0.2.0, 0.3.0, 0.4.0, 0.5.0, 0.6.0 and 0.7.0 have the same $(wc -l <"$TMP/new.catalog") objects, definitions, privileges and comments"
	else
		not_ok "fresh 0.7.0 and upgraded 0.1.0 differ (< fresh, > upgraded)" "$TMP/catalog.diff"
	fi
else
	not_ok "catalog listings of a fresh and an upgraded database" "$TMP/new.out"
fi
store_check "$NEW" "fresh 0.7.0 database"
runs_check "$NEW" "fresh 0.7.0 database"

# ---- pg_dump and pg_restore of a populated store ------------------------
COUNT_SQL="SELECT (SELECT count(*) FROM perfstore.samples), (SELECT count(*) FROM perfstore.series),
	(SELECT count(*) FROM perfstore.workflow_runs), (SELECT count(*) FROM perfstore.task_executions),
	(SELECT count(*) FROM perfstore.rollup_1m), (SELECT count(*) FROM perfstore.rollup_1h),
	(SELECT count(*) FROM perfstore.rollup_state), (SELECT count(*) FROM perfstore.partitions),
	(SELECT md5(string_agg(s.series_id || ' ' || s.ts || ' ' || s.value, ',' ORDER BY s.series_id, s.ts, s.value))
	 FROM perfstore.samples s),
	(SELECT md5(string_agg(r.sketch::text, ',' ORDER BY r.series_id, r.bucket)) FROM perfstore.rollup_1m r),
	(SELECT count(*) FROM latencies),
	(SELECT md5(string_agg(concat_ws(' ', b.id, b.name, b.run_group, b.labels, b.hosts, b.drivers, b.started_at,
	                                 b.transactions, b.latency, b.report), ',' ORDER BY b.id)) FROM perfstore.bench_runs b),
	(SELECT md5(string_agg(concat_ws(' ', s.run_id, s.fingerprint, s.calls, s.latency), ',' ORDER BY s.run_id, s.fingerprint))
	 FROM perfstore.bench_statements s)"
psql -d "$OLD" -c "SELECT perfstore.record('upgrade.far', 1, ts => '2999-01-01')" >/dev/null 2>&1
psql -d "$OLD" -c "SELECT perfstore.set_retention('30 days')" >/dev/null 2>&1
psql -d "$OLD" -c "$COUNT_SQL" >"$TMP/dump.before" 2>&1
if "$PGBIN/pg_dump" -Fc -d "$OLD" -f "$TMP/store.dump" 2>"$TMP/dump.err" &&
	psql -d postgres -c "CREATE DATABASE $RESTORE" &&
	"$PGBIN/pg_restore" --exit-on-error -d "$RESTORE" "$TMP/store.dump" >"$TMP/restore.out" 2>&1 &&
	psql -d "$RESTORE" -c "$COUNT_SQL" >"$TMP/dump.after" 2>&1 &&
	diff "$TMP/dump.before" "$TMP/dump.after" >"$TMP/dump.diff"; then
	ok "pg_dump and pg_restore keep samples, series, runs, tasks, rollups, partitions and settings ($(cut -c 1-60 "$TMP/dump.after"))"
else
	cat "$TMP/dump.err" "$TMP/restore.out" "$TMP/dump.diff" 2>/dev/null >"$TMP/dump.log"
	not_ok "pg_dump and pg_restore of a populated store" "$TMP/dump.log"
fi
after_restore=$(psql -d "$RESTORE" -c "SELECT perfstore.record('upgrade.latency', 1, '{\"host\": \"new\"}')" \
	-c "SELECT perfstore.start_workflow_run('after.restore') > 1" \
	-c "SELECT value FROM perfstore.settings WHERE name = 'retention'" \
	-c "SELECT (perfstore.maintain()->>'busy')" \
	-c "SELECT perfstore.store_run((SELECT report || jsonb_build_object('host', 'late', 'latency_sketch', latency::text)
	        FROM perfstore.bench_runs WHERE run_group = 'g1')) = (SELECT id FROM perfstore.bench_runs WHERE run_group = 'g1')" \
	-c "SELECT drivers FROM perfstore.bench_runs WHERE run_group = 'g1'" \
	-c "SELECT perfstore.store_run(report) > 3 FROM perfstore.bench_runs WHERE run_group IS NULL" 2>&1)
if [ "$after_restore" = "$(printf '\nt\n30 days\nfalse\nt\n3\nt')" ]; then
	ok "after the restore: sequences continue, settings kept, maintain() works, a driver joins a restored run group"
else
	echo "$after_restore" >"$TMP/after_restore"
	not_ok "after the restore: record(), start_workflow_run(), settings, maintain() and store_run()" "$TMP/after_restore"
fi

finish
