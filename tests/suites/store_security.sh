#!/usr/bin/env bash
# store_security.sh: installing into a schema someone else controls, and
# the upgrade of a store whose writer role's name needs quoting
# (docs/security.md).
#
# Runs against the throwaway cluster (PGHOST, PGPORT, PGUSER from
# tests/run.sh) in databases of its own, dropped at the end.
# The last line of output is "N passed, N failed".
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
TMP=$(mktemp -d)
psql() { command psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
	for db in regress_sec_squat regress_sec_create regress_sec_upgrade regress_sec_grants regress_sec_grantor regress_sec_dep regress_sec_secdef; do
		psql -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	done
	psql -d postgres -c 'DROP ROLE IF EXISTS regress_squatter, "Regress Writer", regress_colw, regress_gw, regress_lead, regress_member, regress_colmember' >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
cleanup
TMP=$(mktemp -d)
psql -d postgres -c "CREATE ROLE regress_squatter" >/dev/null

# ---- a schema perfstore owned by another role: refused, nothing created --
psql -d postgres -c "CREATE DATABASE regress_sec_squat" >/dev/null
psql -d regress_sec_squat -c "CREATE SCHEMA perfstore AUTHORIZATION regress_squatter" >/dev/null
if psql -d regress_sec_squat -c "CREATE EXTENSION perfstore" >"$TMP/squat.out" 2>&1; then
	not_ok "CREATE EXTENSION into a schema owned by another role must fail" "$TMP/squat.out"
elif grep -q 'ERROR:  schema "perfstore" is owned by role "regress_squatter", not by the role that installs the extension' "$TMP/squat.out" &&
	grep -q 'HINT:  Drop the schema, or make the installing role its owner' "$TMP/squat.out" &&
	[ "$(psql -d regress_sec_squat -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'perfstore'::regnamespace")" = 0 ]; then
	ok "CREATE EXTENSION refuses a schema perfstore owned by another role, with a hint, and creates nothing"
else
	not_ok "the refusal names the schema's owner and gives the hint" "$TMP/squat.out"
fi

# ---- CREATE on the schema for another role: refused ---------------------
psql -d postgres -c "CREATE DATABASE regress_sec_create" >/dev/null
psql -d regress_sec_create -c "CREATE SCHEMA perfstore" -c "GRANT CREATE ON SCHEMA perfstore TO regress_squatter" >/dev/null
if psql -d regress_sec_create -c "CREATE EXTENSION perfstore" >"$TMP/create.out" 2>&1; then
	not_ok "CREATE EXTENSION into a schema others may create in must fail" "$TMP/create.out"
elif grep -q 'ERROR:  roles other than its owner may create objects in schema "perfstore"' "$TMP/create.out"; then
	ok "CREATE EXTENSION refuses a schema perfstore in which another role may create objects"
else
	not_ok "the refusal says that others may create objects there" "$TMP/create.out"
fi
psql -d regress_sec_create -c "REVOKE CREATE ON SCHEMA perfstore FROM regress_squatter" >/dev/null
if psql -d regress_sec_create -c "CREATE EXTENSION perfstore" >"$TMP/create2.out" 2>&1; then
	ok "after REVOKE CREATE the same schema is accepted"
else
	not_ok "after REVOKE CREATE the schema is accepted" "$TMP/create2.out"
fi

# ---- upgrade from 0.2.0 with a writer whose name needs quoting ----------
psql -d postgres -c "CREATE DATABASE regress_sec_upgrade" >/dev/null
if psql -d regress_sec_upgrade -c "CREATE ROLE \"Regress Writer\"" \
	-c "CREATE EXTENSION perfstore VERSION '0.2.0'" \
	-c "SELECT perfstore.grant_writer('\"Regress Writer\"')" >"$TMP/up.out" 2>&1 &&
	psql -d regress_sec_upgrade -c "ALTER EXTENSION perfstore UPDATE TO '0.3.0'" >>"$TMP/up.out" 2>&1 &&
	psql -d regress_sec_upgrade -c "ALTER EXTENSION perfstore UPDATE" >>"$TMP/up.out" 2>&1; then
	ok "0.2.0 to 0.3.0 to the current version with a writer role named \"Regress Writer\""
else
	not_ok "upgrade with a writer role whose name needs quoting" "$TMP/up.out"
fi
# after the upgrade the writer writes through the API only
out=$(psql -d regress_sec_upgrade -c 'SET ROLE "Regress Writer"' \
	-c "SELECT perfstore.record('sec', 1)" \
	-c "INSERT INTO perfstore.ingest (metric, value) VALUES ('sec', 2)" 2>&1 &&
	psql -d regress_sec_upgrade -c 'SET ROLE "Regress Writer"' \
	-c "INSERT INTO perfstore.samples SELECT id, now(), 3 FROM perfstore.series" 2>&1)
if echo "$out" | grep -q 'permission denied for table samples' &&
	[ "$(psql -d regress_sec_upgrade -c "SELECT count(*) FROM perfstore.samples")" = 2 ]; then
	ok "the upgraded writer keeps record() and batch ingest and loses direct INSERT on samples"
else
	echo "$out" >"$TMP/w.out"
	not_ok "the upgraded writer's rights" "$TMP/w.out"
fi

# ---- record()'s series cache across sessions ------------------------------
# A writer's session caches series ids (src/record.c).  The owner deletes a
# series in another session and commits; the writer's next record() must
# create the series again, never store a sample under the deleted id.  The
# writer session runs the owner's session in between with \!.
psql -d regress_sec_upgrade -c "DELETE FROM perfstore.samples" >/dev/null
out=$(psql -d regress_sec_upgrade -v ON_ERROR_STOP=1 2>&1 <<SQL
SET ROLE "Regress Writer";
SELECT perfstore.record('sec.cache', 1, '{"h": "a"}');
SELECT perfstore.record('sec.cache', 2, '{"h": "a"}');
\! psql -X -q -d regress_sec_upgrade -c "DELETE FROM perfstore.series WHERE metric = 'sec.cache'"
SELECT perfstore.record('sec.cache', 3, '{"h": "a"}');
SQL
)
got=$(psql -d regress_sec_upgrade -c "SELECT count(*) FILTER (WHERE sr.id IS NULL) || ' ' ||
	coalesce(string_agg(s.value::text, ',') FILTER (WHERE sr.id IS NOT NULL), '-')
	FROM perfstore.samples s LEFT JOIN perfstore.series sr ON sr.id = s.series_id")
if [ "$got" = "2 3" ]; then
	ok "a series deleted by the owner in another session: the writer's next record() creates it again"
else
	printf '%s\nsamples without series, values with: %s\n' "$out" "$got" >"$TMP/cache.out"
	not_ok "record() after a series was deleted in another session" "$TMP/cache.out"
fi

# ---- record()'s cache under attack (a hostile review's findings) ---------
# The series table renamed away under a session that has a cache: two
# calls give a clear error (no crash), and the store works once it is back.
out=$(psql -d regress_sec_upgrade -v ON_ERROR_STOP=0 2>&1 <<SQL
SET ROLE "Regress Writer";
SELECT perfstore.record('sec.rename', 1, '{"h": "a"}');
\! psql -X -q -d regress_sec_upgrade -c "ALTER TABLE perfstore.series RENAME TO series_away"
SELECT perfstore.record('sec.rename', 2, '{"h": "a"}');
SELECT perfstore.record('sec.rename', 3, '{"h": "a"}');
\! psql -X -q -d regress_sec_upgrade -c "ALTER TABLE perfstore.series_away RENAME TO series"
SELECT perfstore.record('sec.rename', 4, '{"h": "a"}');
SQL
)
got=$(psql -d regress_sec_upgrade -c "SELECT string_agg(s.value::text, ',' ORDER BY s.value)
	FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'sec.rename'")
if [ "$(grep -c 'ERROR:  table perfstore.series does not exist' <<<"$out")" = 2 ] && [ "$got" = "1,4" ] &&
	[ "$(psql -d regress_sec_upgrade -c 'SELECT 1')" = 1 ]; then
	ok "series renamed away: record() raises 42P01 twice (no crash) and works again once it is back"
else
	printf '%s\nstored: %s\n' "$out" "$got" >"$TMP/rename.out"
	not_ok "record() while perfstore.series is renamed away" "$TMP/rename.out"
fi

# Labels that compress well pass the stored-size check at 160 kB each; a
# writer calling record() with many of them, or with thousands of ordinary
# label sets, must not grow the session's cache past its budget (8 MB).
got=$(psql -d regress_sec_upgrade 2>&1 <<'SQL'
CREATE TEMP TABLE big AS
	SELECT i, pg_catalog.jsonb_build_object('i', i, 'k', pg_catalog.repeat('x', 160000)) AS l
	FROM generate_series(1, 300) i;
SELECT count(perfstore.record('sec.mem', 1, l)) FROM big;
SELECT count(perfstore.record('sec.mem2', 1,
	pg_catalog.jsonb_build_object('i', i, 'k', pg_catalog.md5(i::text) || pg_catalog.repeat(pg_catalog.md5((i + 1)::text), 50))))
FROM generate_series(1, 6000) i;
SELECT (pg_catalog.sum(total_bytes) < 12 * 1024 * 1024 AND pg_catalog.count(*) > 0)::text
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'perfstore record series cache';
SQL
)
if [ "$(tail -n 1 <<<"$got")" = true ] && [ "$(sed -n 1,2p <<<"$got" | tr '\n' ' ')" = "300 6000 " ]; then
	ok "record()'s cache stays within its budget: 300 labels of 160 kB and 6,000 of 1.7 kB stored, cache under 12 MB"
else
	printf '%s\n' "$got" >"$TMP/mem.out"
	not_ok "record()'s cache within its budget" "$TMP/mem.out"
fi

# A trigger of the owner's on series that calls record() itself runs in
# the middle of the outer call: each sample still lands under its own series.
out=$(psql -d regress_sec_upgrade 2>&1 <<'SQL'
CREATE FUNCTION public.note_series() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.metric <> 'sec.nested' THEN
		PERFORM perfstore.record('sec.nested', 1, '{}');
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER note_series AFTER INSERT ON perfstore.series FOR EACH ROW EXECUTE FUNCTION public.note_series();
SET ROLE "Regress Writer";
SELECT perfstore.record('sec.outer1', 5, '{}');
SELECT perfstore.record('sec.nested', 100, '{}');
SELECT perfstore.record('sec.outer1', 6, '{}');
RESET ROLE;
DROP TRIGGER note_series ON perfstore.series;
DROP FUNCTION public.note_series();
SQL
)
got=$(psql -d regress_sec_upgrade -c "SELECT string_agg(sr.metric || '=' || s.value, ',' ORDER BY sr.metric, s.value)
	FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	WHERE sr.metric IN ('sec.outer1', 'sec.nested')")
if [ "$got" = "sec.nested=1,sec.nested=100,sec.outer1=5,sec.outer1=6" ]; then
	ok "record() called again by a trigger on series: every sample under its own series"
else
	printf '%s\nstored: %s\n' "$out" "$got" >"$TMP/nested.out"
	not_ok "record() nested in a trigger on series" "$TMP/nested.out"
fi

# The owner replaces a series with session_replication_role = replica (as
# a restore with --disable-triggers does): caches still see it.
out=$(psql -d regress_sec_upgrade -v ON_ERROR_STOP=1 2>&1 <<SQL
SET ROLE "Regress Writer";
SELECT perfstore.record('sec.rep.a', 1, '{}');
\! psql -X -q -d regress_sec_upgrade -c "BEGIN" -c "SET LOCAL session_replication_role = replica" -c "DELETE FROM perfstore.samples WHERE series_id = (SELECT id FROM perfstore.series WHERE metric = 'sec.rep.a')" -c "UPDATE perfstore.series SET metric = 'sec.rep.b' WHERE metric = 'sec.rep.a'" -c "COMMIT"
SELECT perfstore.record('sec.rep.a', 2, '{}');
SQL
)
got=$(psql -d regress_sec_upgrade -c "SELECT string_agg(sr.metric || '=' || s.value, ',' ORDER BY sr.metric)
	FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric LIKE 'sec.rep.%'")
if [ "$got" = "sec.rep.a=2" ]; then
	ok "a series changed under session_replication_role = replica: record() does not reuse the old id"
else
	printf '%s\nstored: %s\n' "$out" "$got" >"$TMP/replica.out"
	not_ok "record() after a change under session_replication_role = replica" "$TMP/replica.out"
fi

# With series_changed disabled (distribute() drops it), nothing tells the
# sessions of a change: record() then caches nothing.
out=$(psql -d regress_sec_upgrade -v ON_ERROR_STOP=1 2>&1 <<SQL
SET ROLE "Regress Writer";
SELECT perfstore.record('sec.dis.a', 1, '{}');
\! psql -X -q -d regress_sec_upgrade -c "ALTER TABLE perfstore.series DISABLE TRIGGER series_changed"
SELECT perfstore.record('sec.dis.a', 2, '{}');
\! psql -X -q -d regress_sec_upgrade -c "UPDATE perfstore.series SET metric = 'sec.dis.b' WHERE metric = 'sec.dis.a'"
SELECT perfstore.record('sec.dis.a', 3, '{}');
\! psql -X -q -d regress_sec_upgrade -c "ALTER TABLE perfstore.series ENABLE ALWAYS TRIGGER series_changed"
SQL
)
got=$(psql -d regress_sec_upgrade -c "SELECT string_agg(sr.metric || '=' || s.value, ',' ORDER BY sr.metric, s.value)
	FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric LIKE 'sec.dis.%'")
if [ "$got" = "sec.dis.a=3,sec.dis.b=1,sec.dis.b=2" ]; then
	ok "series_changed disabled: record() caches nothing, a changed series is looked up again"
else
	printf '%s\nstored: %s\n' "$out" "$got" >"$TMP/disabled.out"
	not_ok "record() with series_changed disabled" "$TMP/disabled.out"
fi

# ---- the upgrades rebuild perfstore.ingest (a new view in 0.5.0, a
# foreign table in 0.7.0): its grants survive, as grants of this database
# that pg_dump keeps (no initial privileges of the extension) --
psql -d postgres -c "CREATE DATABASE regress_sec_grants" >/dev/null
psql -d postgres -c "CREATE ROLE regress_colw" -c "CREATE ROLE regress_gw" >/dev/null 2>&1
out=$(psql -d regress_sec_grants -c "CREATE EXTENSION perfstore VERSION '0.4.0'" \
	-c "GRANT USAGE ON SCHEMA perfstore TO regress_colw, regress_gw" \
	-c "GRANT INSERT (metric, labels, ts, value) ON perfstore.ingest TO regress_colw" \
	-c "GRANT INSERT ON perfstore.ingest TO regress_gw WITH GRANT OPTION" \
	-c "ALTER EXTENSION perfstore UPDATE" 2>&1)
got=$(psql -d regress_sec_grants -c "SELECT has_column_privilege('regress_colw', 'perfstore.ingest', 'labels', 'INSERT')
	AND NOT has_table_privilege('regress_colw', 'perfstore.ingest', 'INSERT')
	AND has_table_privilege('regress_gw', 'perfstore.ingest', 'INSERT WITH GRANT OPTION')
	AND (SELECT relkind FROM pg_class WHERE oid = 'perfstore.ingest'::regclass) = 'f'
	AND NOT EXISTS (SELECT FROM pg_init_privs WHERE objoid = 'perfstore.ingest'::regclass)" 2>&1)
if [ "$got" = t ]; then
	ok "0.4.0 to the current version: the rebuilt perfstore.ingest keeps column grants and grant options"
else
	printf '%s\n%s\n' "$out" "$got" >"$TMP/grants.out"
	not_ok "the rebuilt ingest view keeps its grants" "$TMP/grants.out"
fi


# ---- 0.6.0 to 0.7.0: a grant made by a holder of a grant option is made
# again by it (its grantor kept, on columns too), so that revoking the
# option with CASCADE still takes it away
psql -d postgres -c "CREATE DATABASE regress_sec_grantor" >/dev/null
psql -d postgres -c "CREATE ROLE regress_lead" -c "CREATE ROLE regress_member" \
	-c "CREATE ROLE regress_colmember" >/dev/null 2>&1
out=$(psql -d regress_sec_grantor -c "CREATE EXTENSION perfstore VERSION '0.6.0'" \
	-c "GRANT USAGE ON SCHEMA perfstore TO regress_lead" \
	-c "GRANT INSERT ON perfstore.ingest TO regress_lead WITH GRANT OPTION" \
	-c "SET ROLE regress_lead" \
	-c "GRANT INSERT ON perfstore.ingest TO regress_member" \
	-c "GRANT INSERT (metric, value) ON perfstore.ingest TO regress_colmember" \
	-c "RESET ROLE" \
	-c "ALTER EXTENSION perfstore UPDATE TO '0.7.0'" 2>&1)
got=$(psql -d regress_sec_grantor -c "SELECT (SELECT relkind FROM pg_class WHERE oid = 'perfstore.ingest'::regclass) = 'f'
	AND has_table_privilege('regress_member', 'perfstore.ingest', 'INSERT')
	AND has_column_privilege('regress_colmember', 'perfstore.ingest', 'value', 'INSERT')
	AND (SELECT bool_and(a.grantor = 'regress_lead'::regrole) AND count(*) = 2
		FROM pg_attribute att, aclexplode(att.attacl) a
		WHERE att.attrelid = 'perfstore.ingest'::regclass AND a.grantee = 'regress_colmember'::regrole)
	AND current_user = 'postgres' AND current_setting('role') = 'none'" \
	-c "REVOKE INSERT ON perfstore.ingest FROM regress_lead CASCADE" \
	-c "SELECT NOT has_table_privilege('regress_member', 'perfstore.ingest', 'INSERT')" 2>&1 | tr '\n' ' ')
if [ "$got" = "t t " ]; then
	ok "0.6.0 to 0.7.0: grants made by a grant option's holder keep their grantor (REVOKE ... CASCADE reaches them)"
else
	printf '%s\n%s\n' "$out" "$got" >"$TMP/grantor.out"
	not_ok "0.6.0 to 0.7.0: grants keep their grantor" "$TMP/grantor.out"
fi
psql -d postgres -c "DROP DATABASE regress_sec_grantor" >/dev/null 2>&1

# ---- 0.6.0 to 0.7.0 with a view and a function of the database's own over
# the ingest view: refused with what to do, then done once they are dropped
psql -d postgres -c "CREATE DATABASE regress_sec_dep" >/dev/null
out=$(psql -d regress_sec_dep -c "CREATE EXTENSION perfstore VERSION '0.6.0'" \
	-c "CREATE VIEW public.my_ingest AS SELECT metric, value FROM perfstore.ingest" \
	-c "CREATE FUNCTION public.put(m text) RETURNS void LANGUAGE sql BEGIN ATOMIC INSERT INTO perfstore.ingest (metric, value) VALUES (m, 1); END" 2>&1
	psql -d regress_sec_dep -c "ALTER EXTENSION perfstore UPDATE TO '0.7.0'" 2>&1
	psql -d regress_sec_dep -c "DROP VIEW public.my_ingest" -c "DROP FUNCTION public.put(text)" -c "ALTER EXTENSION perfstore UPDATE TO '0.7.0'" \
	-c "CREATE VIEW public.my_ingest AS SELECT metric, value FROM perfstore.ingest" \
	-c "INSERT INTO public.my_ingest VALUES ('dep.view', 1)" \
	-c "SELECT count(*) FROM perfstore.samples" 2>&1)
if [[ "$out" == *"ERROR:  cannot update perfstore to 0.7.0 while other objects depend on the view perfstore.ingest"* &&
	"$out" == *"Depending on it: function public.put(text), view public.my_ingest."* && "$out" == *"HINT:  Drop them, run ALTER EXTENSION"* &&
	"$out" == *$'\n1' ]]; then
	ok "0.6.0 to 0.7.0: a view over perfstore.ingest stops the update with a hint, and it runs once the view is dropped"
else
	echo "$out" >"$TMP/dep.out"
	not_ok "0.6.0 to 0.7.0 with a view over perfstore.ingest" "$TMP/dep.out"
fi

# ---- the same update from a SECURITY DEFINER function, where SET ROLE is
# refused: it runs, the grants given by the owner
psql -d postgres -c "CREATE DATABASE regress_sec_secdef" >/dev/null
out=$(psql -d regress_sec_secdef -c "CREATE EXTENSION perfstore VERSION '0.6.0'" \
	-c "GRANT USAGE ON SCHEMA perfstore TO regress_lead" \
	-c "GRANT INSERT ON perfstore.ingest TO regress_lead WITH GRANT OPTION" \
	-c "SET ROLE regress_lead" -c "GRANT INSERT ON perfstore.ingest TO regress_member" -c "RESET ROLE" \
	-c "CREATE FUNCTION pg_temp.upd() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS \$\$BEGIN ALTER EXTENSION perfstore UPDATE TO '0.7.0'; END\$\$" \
	-c "SELECT pg_temp.upd()" \
	-c "SELECT extversion = '0.7.0' AND has_table_privilege('regress_member', 'perfstore.ingest', 'INSERT')
		FROM pg_extension WHERE extname = 'perfstore'" 2>&1)
if [ "$(echo "$out" | tail -1)" = t ]; then
	ok "0.6.0 to 0.7.0 from a SECURITY DEFINER function: updated, the grants kept"
else
	echo "$out" >"$TMP/secdef.out"
	not_ok "0.6.0 to 0.7.0 from a SECURITY DEFINER function" "$TMP/secdef.out"
fi

finish
