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
	for db in regress_sec_squat regress_sec_create regress_sec_upgrade; do
		psql -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
	done
	psql -d postgres -c 'DROP ROLE IF EXISTS regress_squatter, "Regress Writer"' >/dev/null 2>&1
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

finish
