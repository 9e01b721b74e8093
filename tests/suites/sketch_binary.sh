#!/usr/bin/env bash
# sketch_binary.sh: push random and mutated sketch encodings through every
# decoder path of the server (binary receive, text input, bytea cast) and
# the stats binary receive, over libpq, and check that the server survives.
#
# Builds tests/clients/sketch_binary_client.c with tests/unit/unit.mk into
# tests/bin/ (git-ignored) and runs it against a fresh database on the
# throwaway cluster (PG* from tests/run.sh; by hand: scripts/pgcluster.sh
# start && eval "$(scripts/pgcluster.sh env)").  The client prints its own test cases
# (per path: pushed, accepted, rejected by SQLSTATE); this script adds the
# build and the server log check (no "terminated by signal" written during
# the run).  Reproducible: the client's PRNG seed is fixed.
#   SKETCH_BINARY_INPUTS  inputs per decoder path (default 10000)
#   SKETCH_BINARY_SEED    PRNG seed (default: the client's fixed seed)
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
DB=perfstore_sketch_binary
BIN="$ROOT/tests/bin/sketch_binary_client"
INPUTS=${SKETCH_BINARY_INPUTS:-10000}

if out=$(make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" "$BIN" 2>&1); then
	ok "build the client"
else
	not_ok "build the client" "$out"
	finish
fi

psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
if setup_out=$(psql -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>&1 &&
	psql -d "$DB" -c "CREATE EXTENSION perfstore" 2>&1); then
	ok "fresh database with the extension"
else
	not_ok "fresh database with the extension" "$setup_out"
	finish
fi

log=${PERFSTORE_LOG:-}
log_before=0
if [ -n "$log" ] && [ -r "$log" ]; then
	log_before=$(wc -l <"$log")
fi

out=$(mktemp)
"$BIN" "$DB" "$INPUTS" ${SKETCH_BINARY_SEED:+"$SKETCH_BINARY_SEED"} | tee "$out"
rc=${PIPESTATUS[0]}
last=$(grep -E '^sketch_binary_client: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
rm -f "$out"
[ -n "$last" ] || echo "sketch_binary_client: exited $rc without a summary line"
count_summary "$last" "$rc"

# Crashes show in the server log even when the postmaster recovered.
if [ -z "$log" ] || [ ! -r "$log" ]; then
	not_ok "server log readable (PERFSTORE_LOG=${log:-unset})"
else
	crashes=$(tail -n "+$((log_before + 1))" "$log" | grep -c 'terminated by signal')
	if [ "$crashes" -eq 0 ]; then
		ok "server log: no backend terminated by signal during the run"
	else
		not_ok "server log: $crashes backend(s) terminated by signal during the run" \
			"$(tail -n "+$((log_before + 1))" "$log" | grep -B 2 -A 2 'terminated by signal' | head -n 40)"
	fi
fi

check_eq "server up after the suite: a new psql answers SELECT 1" 1 \
	"$(psql -At -d postgres -c 'SELECT 1' 2>&1)"
psql -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
finish
