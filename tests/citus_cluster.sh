# citus_cluster.sh: a throwaway Citus cluster (a coordinator and two
# workers of the PostgreSQL under test, on 127.0.0.1) for
# tests/suites/citus.sh and bench/citus_bench.sh.  Sourced, not run.
#
# Owns: the nodes' directories, ports, configuration and lifetime.
# Must not: touch any cluster but its own, or take PERFSTORE_PORT or 54329.
#
# Needs PGBIN.  citus_cluster_start PREFIX PORT_BASE starts the nodes in a
# new directory /tmp/PREFIX.XXXXXX and sets:
#   BASE    that directory (each node's log: $BASE/NODE.log)
#   NODES   coordinator worker1 worker2
#   PORTS   their ports (free ones from PORT_BASE on); CPORT the first
# and stops and removes them on exit.  It returns 1 with the logs of the
# node that failed in $BASE/start.err.  citus_cluster_databases creates
# database "single" (a plain perfstore) and database "dist" (Citus with both
# workers and perfstore, not yet distributed) on the coordinator; it
# returns 1 at the first failing statement, with psql's output on stderr.

# citus_installed: whether Citus is installed in the PostgreSQL under test
citus_installed() {
	local libdir sharedir
	libdir=$("$PGBIN/pg_config" --pkglibdir 2>/dev/null)
	sharedir=$("$PGBIN/pg_config" --sharedir 2>/dev/null)
	[ -f "$libdir/citus.so" ] && [ -f "$sharedir/extension/citus.control" ]
}

# as_server CMD...: run a server command as postgres when we are root
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# q PORT DB ARGS...: psql on a node, unaligned, tuples only, stopping at errors
q() {
	local p=$1 d=$2
	shift 2
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$p" -U postgres -d "$d" "$@"
}

citus_cluster_stop() {
	local n
	for n in "${NODES[@]}"; do
		if [ -f "$BASE/$n/postmaster.pid" ]; then
			as_server "$PGBIN/pg_ctl" -D "$BASE/$n" -m immediate -w stop >/dev/null 2>&1
		fi
	done
	rm -rf "$BASE"
}

# a port nothing listens on, from $1 on
citus_free_port() {
	local p=$1
	while [ "$p" -eq "${PERFSTORE_PORT:-0}" ] || [ "$p" -eq 54329 ] ||
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do
		p=$((p + 1))
	done
	echo "$p"
}

citus_cluster_start() {
	local prefix=$1 port=$2 i n
	BASE=$(mktemp -d "/tmp/$prefix.XXXXXX")
	[ "$(id -u)" -eq 0 ] && chown postgres: "$BASE"
	NODES=(coordinator worker1 worker2)
	PORTS=()
	trap citus_cluster_stop EXIT
	for n in "${NODES[@]}"; do
		port=$(citus_free_port "$port")
		PORTS+=("$port")
		port=$((port + 1))
	done
	CPORT=${PORTS[0]}
	for i in 0 1 2; do
		n=${NODES[$i]}
		if ! as_server "$PGBIN/initdb" -D "$BASE/$n" -U postgres -E UTF8 --locale=C --auth=trust \
			>"$BASE/initdb-$n.log" 2>&1; then
			cat "$BASE/initdb-$n.log" >"$BASE/start.err"
			return 1
		fi
		as_server tee -a "$BASE/$n/postgresql.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = ${PORTS[$i]}
unix_socket_directories = '$BASE'
shared_preload_libraries = 'citus, perfstore'
perfstore.maintenance_database = 'dist'
perfstore.maintenance_interval = 0
max_connections = 100
max_worker_processes = 16
shared_buffers = 64MB
fsync = off
full_page_writes = off
timezone = 'UTC'
log_min_messages = warning
log_line_prefix = '%m [%p] '
CONF
		if ! as_server "$PGBIN/pg_ctl" -D "$BASE/$n" -l "$BASE/$n.log" -w -t 60 start \
			>"$BASE/start-$n.log" 2>&1; then
			cat "$BASE/start-$n.log" "$BASE/$n.log" >"$BASE/start.err" 2>/dev/null
			return 1
		fi
	done
}

citus_cluster_databases() {
	q "$CPORT" postgres -c "CREATE DATABASE single" -c "CREATE DATABASE dist" &&
		q "${PORTS[1]}" postgres -c "CREATE DATABASE dist" &&
		q "${PORTS[2]}" postgres -c "CREATE DATABASE dist" &&
		q "${PORTS[1]}" dist -c "CREATE EXTENSION citus" &&
		q "${PORTS[2]}" dist -c "CREATE EXTENSION citus" &&
		q "$CPORT" dist -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" \
			-c "SELECT citus_set_coordinator_host('127.0.0.1', $CPORT)" \
			-c "SELECT citus_add_node('127.0.0.1', ${PORTS[1]})" \
			-c "SELECT citus_add_node('127.0.0.1', ${PORTS[2]})" \
			-c "CREATE EXTENSION perfstore" >/dev/null &&
		q "$CPORT" single -c "CREATE EXTENSION perfstore"
}
