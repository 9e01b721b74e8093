#!/usr/bin/env bash
# pgcluster_port.sh: two checkouts on one machine.  scripts/pgcluster.sh,
# copied into a scratch checkout (its own .perfstore/), starts while a
# listener holds the default port 54329, as another checkout's cluster
# would: it must pick a free port, remember it in .perfstore/port, and env,
# psql and status must use it; a later start must reuse it, and pick again
# when the remembered port is taken; PERFSTORE_PORT must still win, and a
# taken PERFSTORE_PORT must be an error.
#
# Needs the PostgreSQL binaries (PERFSTORE_PGBIN, as tests/run.sh sets) and
# python3 for the listeners; not the suite's cluster.  The last line is
# "N passed, N failed"; the exit status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
DEFAULT_PORT=54329

TMP=$(mktemp -d /tmp/pd_port.XXXXXX)
chmod 755 "$TMP"				# the server's user creates the cluster below it
CO="$TMP/checkout"
mkdir -p "$CO/scripts"
cp scripts/pgcluster.sh "$CO/scripts/"
PGC="$CO/scripts/pgcluster.sh"
listeners=()

# pgc ARGS...: the scratch checkout's pgcluster.sh, without PERFSTORE_PORT
pgc() { env -u PERFSTORE_PORT "$PGC" "$@"; }

cleanup() {
	local p loc
	pgc stop >/dev/null 2>&1
	for p in "${listeners[@]}"; do
		kill "$p" 2>/dev/null
	done
	loc=$(cat "$CO/.perfstore/location" 2>/dev/null)
	case "$loc" in
	/tmp/perfstore.*) rm -rf "$loc" ;;
	esac
	rm -rf "$TMP"
}
trap cleanup EXIT

# listen PORT: hold PORT on 127.0.0.1 until the suite ends; true when the
# port is taken afterwards (by this listener or by anyone else)
listen() {
	python3 -c '
import socket, sys, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
s.listen(8)
print("listening", flush=True)
time.sleep(600)' "$1" >"$TMP/listen.$1" 2>&1 &
	listeners+=($!)
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# a free port from the end of the range the script picks from
free_port() {
	local p
	for ((p = DEFAULT_PORT + 199; p > DEFAULT_PORT; p--)); do
		if ! taken "$p"; then
			echo "$p"
			return
		fi
	done
}

# ---- the default port is taken: pick, remember, use ----------------------
# (not through check: its command runs in a subshell, and the listener's
# pid must reach cleanup)
if listen "$DEFAULT_PORT"; then
	ok "a listener holds the default port $DEFAULT_PORT"
else
	not_ok "a listener holds the default port $DEFAULT_PORT" "$TMP/listen.$DEFAULT_PORT"
fi
pgc start >"$TMP/start1.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	ok "start succeeds although port $DEFAULT_PORT is taken"
else
	not_ok "start succeeds although port $DEFAULT_PORT is taken (exit $rc)" "$TMP/start1.out"
fi
port=$(cat "$CO/.perfstore/port" 2>/dev/null)
check "the chosen port is remembered in .perfstore/port and is not $DEFAULT_PORT" \
	test -n "$port" -a "$port" != "$DEFAULT_PORT"
check "start says which port it chose and why" \
	grep -q "port $DEFAULT_PORT is in use; this checkout's cluster uses port ${port:-?}" "$TMP/start1.out"
check_eq "the server answers on the chosen port (psql)" "${port:-?}" \
	"$(pgc psql -X -At -d postgres -c 'SHOW port' 2>&1)"
env_out=$(pgc env 2>&1)
check "env exports the chosen port" grep -q "PGPORT=${port:-?} " <<<"$env_out"
check_eq "a client using env's settings reaches the server" "${port:-?}" \
	"$(eval "$env_out" && "$PERFSTORE_PGBIN/psql" -X -At -c 'SHOW port' 2>&1)"
check "status shows the chosen port" grep -q "^running: port ${port:-?}," <<<"$(pgc status 2>&1)"

# ---- a second start reuses the remembered port ---------------------------
pgc stop >/dev/null 2>&1
pgc start >"$TMP/start2.out" 2>&1
check_eq "after a restart the cluster runs on the remembered port" "${port:-?}" \
	"$(pgc psql -X -At -d postgres -c 'SHOW port' 2>&1)"
check "the restart chose nothing new (no message)" test ! -s "$TMP/start2.out"

# ---- the remembered port is taken: pick again -----------------------------
pgc stop >/dev/null 2>&1
if [ -n "$port" ] && listen "$port"; then
	ok "a listener holds the remembered port $port"
else
	not_ok "a listener holds the remembered port ${port:-?}" "$TMP/listen.${port:-?}"
fi
pgc start >"$TMP/start3.out" 2>&1
port2=$(cat "$CO/.perfstore/port" 2>/dev/null)
check "start picks another free port and remembers it" \
	test -n "$port2" -a "$port2" != "${port:-?}" -a "$port2" != "$DEFAULT_PORT"
check_eq "the server answers on it" "${port2:-?}" \
	"$(pgc psql -X -At -d postgres -c 'SHOW port' 2>&1)"

# ---- PERFSTORE_PORT wins ---------------------------------------------------
pgc stop >/dev/null 2>&1
want=$(free_port)
PERFSTORE_PORT=$want "$PGC" start >"$TMP/start4.out" 2>&1
check_eq "PERFSTORE_PORT=$want wins over the remembered port" "$want" \
	"$(PERFSTORE_PORT=$want "$PGC" psql -X -At -d postgres -c 'SHOW port' 2>&1)"
check_eq "PERFSTORE_PORT does not change the remembered port" "${port2:-?}" \
	"$(cat "$CO/.perfstore/port" 2>/dev/null)"
check "env of the running cluster exports its port" grep -q "PGPORT=$want " <<<"$(pgc env 2>&1)"
pgc stop >/dev/null 2>&1

# ---- a taken PERFSTORE_PORT is an error ------------------------------------
PERFSTORE_PORT=$DEFAULT_PORT "$PGC" start >"$TMP/start5.out" 2>&1
rc=$?
check_eq "a taken PERFSTORE_PORT: start exits 2" 2 "$rc"
check "a taken PERFSTORE_PORT: the error names the port, the hint says what to do" \
	grep -qz "pgcluster: error: port $DEFAULT_PORT (PERFSTORE_PORT) is in use.*hint: " "$TMP/start5.out"
check "a taken PERFSTORE_PORT: the cluster did not start" bash -c '! "$1" status' _ "$PGC"

finish
