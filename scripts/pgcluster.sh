#!/usr/bin/env bash
# pgcluster.sh: a throwaway PostgreSQL cluster for the demo, the tests and
# the benchmarks.
#
# Owns: the cluster's data directory, its unix socket directory and its log.
# The cluster lives under .perfstore/ in the checkout, or in a private
# temporary directory when the server's user cannot reach the checkout.  It is
# started as the postgres user when this runs as root.  It never touches a
# system cluster.
#
# Usage: scripts/pgcluster.sh start|stop|restart|status|env|psql [psql args]
#   PERFSTORE_PORT   port to listen on; always wins
#   PERFSTORE_PGBIN  PostgreSQL bin directory (default: pg_config --bindir)
#
# The port: PERFSTORE_PORT when set; else the port this checkout remembers
# in .perfstore/port; else 54329.  When start finds that port taken (another
# checkout's cluster, or any other listener on 127.0.0.1) and PERFSTORE_PORT
# is not set, it picks a free port from 54330 on and remembers it in
# .perfstore/port, so that env, psql and the next start use it too.  A
# taken PERFSTORE_PORT is an error.  env, psql and status of a running
# cluster use the port it runs on.
#
# "env" prints shell assignments (PGHOST, PGPORT, PGUSER, PGDATABASE) to eval.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE="$ROOT/.perfstore"
DEFAULT_PORT=54329
PORT_FILE="$STATE/port"
if [ -n "${PERFSTORE_PORT:-}" ]; then
	PORT=$PERFSTORE_PORT
elif [ -s "$PORT_FILE" ]; then
	PORT=$(cat "$PORT_FILE")
else
	PORT=$DEFAULT_PORT
fi

find_pgbin() {
	if [ -n "${PERFSTORE_PGBIN:-}" ]; then
		echo "$PERFSTORE_PGBIN"
	elif [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
		echo /usr/lib/postgresql/15/bin
	elif command -v pg_config >/dev/null 2>&1; then
		pg_config --bindir
	else
		echo "pgcluster: error: no PostgreSQL server found; run scripts/install-deps.sh" >&2
		exit 2
	fi
}
PGBIN=$(find_pgbin)

# as_server CMD...: run CMD as the user that owns the server.
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Pick (once) where the cluster lives and remember it in $STATE/location.
locate() {
	mkdir -p "$STATE"
	if [ -f "$STATE/location" ]; then
		BASE=$(cat "$STATE/location")
		if [ -d "$BASE" ]; then
			return
		fi
	fi
	BASE="$STATE/cluster"
	mkdir -p "$BASE"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$BASE"
		# The checkout may sit below a directory the server's user cannot
		# enter; fall back to a private temporary directory then.
		if ! as_server test -w "$BASE" || [ ${#BASE} -gt 80 ]; then
			rmdir "$BASE" 2>/dev/null || true
			BASE=$(mktemp -d /tmp/perfstore.XXXXXX)
			chown postgres: "$BASE"
		fi
	elif [ ${#BASE} -gt 80 ]; then
		BASE=$(mktemp -d /tmp/perfstore.XXXXXX)
	fi
	echo "$BASE" >"$STATE/location"
}

DATA() { echo "$BASE/data"; }
SOCK() { echo "$BASE/sock"; }
LOG() { echo "$BASE/server.log"; }

init_cluster() {
	if [ -f "$(DATA)/PG_VERSION" ]; then
		return
	fi
	as_server mkdir -p "$(SOCK)"
	as_server "$PGBIN/initdb" -D "$(DATA)" -U postgres -E UTF8 --locale=C \
		--auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 || {
		cat "$STATE/initdb.log" >&2
		echo "pgcluster: error: initdb failed" >&2
		exit 2
	}
	as_server tee -a "$(DATA)/postgresql.conf" >/dev/null <<CONF
# throwaway cluster for perfstore's demo, tests and benchmarks
listen_addresses = '127.0.0.1'
unix_socket_directories = '$(SOCK)'
max_connections = 200
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 256MB
fsync = off
full_page_writes = off
max_wal_size = 4GB
max_worker_processes = 8
max_parallel_workers = 4
max_parallel_workers_per_gather = 2
log_min_messages = warning
log_line_prefix = '%m [%p] '
CONF
}

# preload: pg_stat_statements must be loaded at server start for
# "perfdriver run --observe" (docs/perfdriver.md, "Server-side evidence").
# Also added to clusters made before it was part of the configuration; it
# takes effect at their next start.
preload() {
	if ! as_server grep -q '^shared_preload_libraries' "$(DATA)/postgresql.conf"; then
		echo "shared_preload_libraries = 'pg_stat_statements'" |
			as_server tee -a "$(DATA)/postgresql.conf" >/dev/null
	fi
}

running() {
	[ -f "$(DATA)/postmaster.pid" ] && as_server "$PGBIN/pg_ctl" -D "$(DATA)" status >/dev/null 2>&1
}

# use_running_port: a running cluster answers on the port it was started
# with (line 4 of postmaster.pid), whatever PERFSTORE_PORT says now.
use_running_port() {
	local p
	if running; then
		p=$(as_server sed -n 4p "$(DATA)/postmaster.pid" 2>/dev/null || true)
		case "$p" in
		'' | *[!0-9]*) ;;
		*) PORT=$p ;;
		esac
	fi
}

# port_taken PORT: true when something accepts connections on 127.0.0.1:PORT
# (where the cluster listens besides its own socket directory).
port_taken() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port: when PORT is taken, choose a free one and remember it; a taken
# PERFSTORE_PORT is an error.
pick_port() {
	local p
	if ! port_taken "$PORT"; then
		return
	fi
	if [ -n "${PERFSTORE_PORT:-}" ]; then
		echo "pgcluster: error: port $PORT (PERFSTORE_PORT) is in use" >&2
		echo "hint: another server listens there; set PERFSTORE_PORT to a free port, or unset it to let this script pick one" >&2
		exit 2
	fi
	for ((p = DEFAULT_PORT + 1; p < DEFAULT_PORT + 200; p++)); do
		if [ "$p" != "$PORT" ] && ! port_taken "$p"; then
			echo "pgcluster: port $PORT is in use; this checkout's cluster uses port $p (remembered in $PORT_FILE)" >&2
			PORT=$p
			echo "$PORT" >"$PORT_FILE"
			return
		fi
	done
	echo "pgcluster: error: port $PORT and the 199 ports after $DEFAULT_PORT are in use" >&2
	echo "hint: set PERFSTORE_PORT to a free port" >&2
	exit 2
}

start() {
	locate
	init_cluster
	preload
	if running; then
		return 0
	fi
	pick_port
	as_server "$PGBIN/pg_ctl" -D "$(DATA)" -l "$(LOG)" -w -t 60 \
		-o "-p $PORT" start >/dev/null || {
		tail -n 20 "$(LOG)" >&2 || true
		echo "pgcluster: error: could not start the cluster on port $PORT" >&2
		echo "hint: another server may have taken that port meanwhile; run start again, or set PERFSTORE_PORT" >&2
		exit 2
	}
}

stop() {
	locate
	if running; then
		as_server "$PGBIN/pg_ctl" -D "$(DATA)" -m fast -w stop >/dev/null
	fi
}

cmd=${1:-status}
shift || true
case "$cmd" in
start) start ;;
stop) stop ;;
restart) stop; start ;;
status)
	locate
	use_running_port
	if running; then
		echo "running: port $PORT, socket $(SOCK), data $(DATA), log $(LOG)"
	else
		echo "stopped (data $(DATA))"
		exit 3
	fi
	;;
env)
	locate
	use_running_port
	printf 'export PGHOST=%q PGPORT=%q PGUSER=postgres PGDATABASE=postgres PERFSTORE_PGBIN=%q PERFSTORE_LOG=%q PERFSTORE_DATA=%q\n' \
		"$(SOCK)" "$PORT" "$PGBIN" "$(LOG)" "$(DATA)"
	;;
psql)
	locate
	use_running_port
	exec "$PGBIN/psql" -h "$(SOCK)" -p "$PORT" -U postgres "$@"
	;;
*)
	echo "usage: $0 start|stop|restart|status|env|psql [args]" >&2
	exit 2
	;;
esac
