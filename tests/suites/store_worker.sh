#!/usr/bin/env bash
# store_worker.sh: the optional maintenance background worker
# that runs maintain() when the library is preloaded.
#
# Needs a server started with shared_preload_libraries = 'perfstore', so it
# runs its own private cluster (initdb in a temporary directory, unix socket
# only, port $STORE_WORKER_PORT, default 54339), as the postgres user when
# run as root, with the binaries of $PERFSTORE_PGBIN; the shared throwaway
# cluster is not touched.  The cluster is stopped and removed at the end.
#
# Checks: the worker runs (pg_stat_activity lists it); with
# perfstore.maintenance_interval = 1 it calls maintain() by itself (day
# partitions appear, the rollup watermark moves, rows in the default
# partition are moved) in the database perfstore.maintenance_database
# names; a reload with interval 0 stops its calls; without the extension
# installed it only waits.
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
PORT=${STORE_WORKER_PORT:-54339}

BASE=$(mktemp -d /tmp/perfstore_worker.XXXXXX)
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
q() { "$PGBIN/psql" -X -q -At -h "$SOCK" -p "$PORT" -U postgres -d worker "$@"; }

# ---- a private cluster with the library preloaded ----------------------
if as_server "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth-local=trust \
	>"$BASE/initdb.log" 2>&1; then
	as_server tee -a "$DATA/postgresql.conf" >/dev/null <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $PORT
shared_buffers = 32MB
fsync = off
shared_preload_libraries = 'perfstore'
perfstore.maintenance_interval = 1
perfstore.maintenance_database = 'worker'
CONF
	if as_server "$PGBIN/pg_ctl" -D "$DATA" -l "$BASE/server.log" -w -t 60 start >/dev/null 2>&1; then
		started=1
	fi
fi
if [ "$started" -eq 1 ]; then
	ok "private cluster with shared_preload_libraries = 'perfstore' started on port $PORT"
else
	cat "$BASE/initdb.log" "$BASE/server.log" 2>/dev/null >"$BASE/err"
	not_ok "private cluster with the library preloaded started" "$BASE/err"
	finish
fi

# The worker starts before its database exists: it must survive that
# (it is restarted by the postmaster after bgw_restart_time) and then wait
# for the extension.
# let the launcher look a few times first: it logs the wait once
sleep 3.5
"$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U postgres -d postgres -c "CREATE DATABASE worker"
sleep 1

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

if wait_for "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker' AND datname = 'worker'"; then
	ok "the maintenance worker runs, connected to perfstore.maintenance_database"
else
	q -c "SELECT backend_type, datname FROM pg_stat_activity" >"$BASE/act" 2>&1
	tail -n 20 "$BASE/server.log" >>"$BASE/act"
	not_ok "the maintenance worker runs" "$BASE/act"
fi
sleep 1.5
if [ "$(q -c "SELECT count(*) FROM pg_extension WHERE extname = 'perfstore'")" = 0 ] &&
	! grep -q "perfstore maintenance worker: maintain() failed" "$BASE/server.log"; then
	ok "without the extension installed it only waits"
else
	not_ok "without the extension installed it only waits" "$BASE/server.log"
fi

# ---- with the extension: it maintains by itself -----------------------
q -c "SET client_min_messages = warning" -c "CREATE EXTENSION perfstore" \
	-c "SELECT perfstore.record('worker', 1, ts => now() - interval '1 day')" >/dev/null
if wait_for "SELECT (SELECT count(*) FROM perfstore.partitions WHERE NOT is_default) >= 4
	AND (SELECT count(*) FROM perfstore.rollup_state) = 1
	AND (SELECT count(*) FROM perfstore.samples_default) = 0"; then
	ok "maintain() ran by itself: partitions created, the stranded row moved, the watermark set"
else
	q -c "SELECT * FROM perfstore.partitions" >"$BASE/parts" 2>&1
	tail -n 20 "$BASE/server.log" >>"$BASE/parts"
	not_ok "maintain() ran by itself" "$BASE/parts"
fi
q -c "SELECT perfstore.record('worker', 2, ts => now() - interval '10 days')" >/dev/null
if wait_for "SELECT (SELECT count(*) FROM perfstore.samples_default) = 0
	AND (SELECT count(*) FROM perfstore.samples) = 2"; then
	ok "it keeps running: a row stranded later is moved too"
else
	q -c "SELECT count(*) AS in_default FROM perfstore.samples_default" -c "SELECT count(*) AS samples FROM perfstore.samples" >"$BASE/later" 2>&1
	tail -n 20 "$BASE/server.log" >>"$BASE/later"
	not_ok "it keeps running: a row stranded later was not moved" "$BASE/later"
fi

# ---- a missing database: one line, no FATAL restarts ---------------------
waits=$(grep -c 'database "worker" does not exist, waiting for it' "$BASE/server.log")
if [ "$waits" = 1 ] && ! grep -q 'FATAL:.*database "worker" does not exist' "$BASE/server.log"; then
	ok "while its database is missing the worker waits quietly: one log line, no FATAL"
else
	grep -E 'worker|FATAL' "$BASE/server.log" >"$BASE/waits"
	not_ok "while its database is missing the worker waits quietly ($waits lines)" "$BASE/waits"
fi

# ---- the database's owner cannot make the worker run its code -------------
# A non-superuser owns the database, puts its own schema first in the
# database's search_path and plants operators and functions there that
# would make it superuser if a superuser ran them.
q -c "CREATE ROLE regress_mallory LOGIN" >/dev/null
q -c "ALTER DATABASE worker OWNER TO regress_mallory" >/dev/null
"$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U regress_mallory -d worker -v ON_ERROR_STOP=1 >"$BASE/plant" 2>&1 <<'SQL'
CREATE SCHEMA evil;
CREATE TABLE evil.hits (who text, at timestamptz DEFAULT now());
GRANT INSERT ON evil.hits TO PUBLIC;
CREATE FUNCTION evil.pwn(a name, b name) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO evil.hits (who) VALUES (current_user);
	BEGIN
		ALTER ROLE regress_mallory SUPERUSER;
	EXCEPTION WHEN OTHERS THEN NULL;
	END;
	RETURN a::text = b::text;
END $$;
CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = evil.pwn);
CREATE FUNCTION evil.pwn2(a text, b text) RETURNS bool LANGUAGE sql AS $$
	INSERT INTO evil.hits (who) VALUES (current_user) RETURNING a = b $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.pwn2);
ALTER DATABASE worker SET search_path = evil, pg_catalog, public;
SQL
if [ $? -ne 0 ]; then
	not_ok "the database owner's objects are planted" "$BASE/plant"
fi
# this script's own sessions keep a safe search_path from here on
export PGOPTIONS='-c search_path=pg_catalog,public'
# the worker reads the database's settings when it connects: restart it
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'perfstore maintenance worker'" >/dev/null
sleep 4
q -c "DELETE FROM perfstore.rollup_state" >/dev/null
if wait_for "SELECT count(*) = 1 FROM perfstore.rollup_state" &&
	[ "$(q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_mallory'")" = f ] &&
	[ "$(q -c "SELECT count(*) FROM evil.hits")" = 0 ]; then
	ok "a database owner's search_path and operators do not run in the worker: maintain() ran, no hit, no superuser"
else
	q -c "SELECT rolsuper, (SELECT count(*) FROM evil.hits), (SELECT string_agg(who, ',') FROM evil.hits) FROM pg_roles WHERE rolname = 'regress_mallory'" >"$BASE/pwn" 2>&1
	grep -E "worker|ERROR|WARNING" "$BASE/server.log" | tail -n 10 >>"$BASE/pwn"
	not_ok "the worker must not run the database owner's operators" "$BASE/pwn"
fi

# ---- interval 0: no more calls ------------------------------------------
as_server sed -i 's/^perfstore.maintenance_interval = 1$/perfstore.maintenance_interval = 0/' "$DATA/postgresql.conf"
q -c "SELECT pg_reload_conf()" >/dev/null
# the worker rereads the configuration when its current wait ends
sleep 2.5
q -c "DELETE FROM perfstore.rollup_state" >/dev/null
sleep 3
if [ "$(q -c "SHOW perfstore.maintenance_interval")" = 0 ] &&
	[ "$(q -c "SELECT count(*) FROM perfstore.rollup_state")" = 0 ]; then
	ok "after a reload with perfstore.maintenance_interval = 0 it makes no more calls"
else
	not_ok "after a reload with perfstore.maintenance_interval = 0 it makes no more calls" \
		"maintenance_interval: $(q -c "SHOW perfstore.maintenance_interval" 2>&1)" \
		"rollup_state rows: $(q -c "SELECT count(*) FROM perfstore.rollup_state" 2>&1)"
fi

if grep -qE "terminated by signal|PANIC" "$BASE/server.log"; then
	not_ok "no crash in the server log" "$BASE/server.log"
else
	ok "no crash in the server log"
fi

finish
