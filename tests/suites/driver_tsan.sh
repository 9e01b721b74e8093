#!/usr/bin/env bash
# driver_tsan.sh: perfdriver and the sketch core under ThreadSanitizer.
#
# Builds the sketch core's thread test (tests/core/sketch_threads_test.c,
# by tests/unit/unit.mk SANITIZE=thread) and perfdriver (tests/sanbuild.sh
# thread) with -fsanitize=thread, then
# runs multi-threaded loads against the throwaway cluster: 8 clients over
# 2 threads for a few seconds, the built-ins and a script with \set and the
# random functions, under each protocol, with progress lines, a rate limit,
# retries and a JSON report.  Any ThreadSanitizer report fails the test it
# appears in (the report is printed).  Needs the cluster (tests/run.sh sets
# PGHOST and friends).  The last line is "N passed, N failed".
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
TMP=$(mktemp -d /tmp/pd_tsan.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SECS=${DRIVER_TSAN_SECONDS:-3}
# report every race (not only the first), keep going, and exit 66 if any
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 history_size=4"

# tsan_check NAME LOG RC WANT_RC...: no report in LOG and RC one of WANT_RC
tsan_check() {
	local name=$1 log=$2 rc=$3
	shift 3
	local n
	n=$(grep -c 'WARNING: ThreadSanitizer' "$log")
	if [ "$n" -gt 0 ]; then
		not_ok "$name: no ThreadSanitizer report" "$n reports; the first:" \
			"$(grep -m1 -A40 'WARNING: ThreadSanitizer' "$log" | sed 's/^/    /')"
		return
	fi
	for want in "$@"; do
		if [ "$rc" -eq "$want" ]; then
			ok "$name: no ThreadSanitizer report (exit $rc)"
			return
		fi
	done
	not_ok "$name: exit status $rc, wanted one of $*" "$(tail -n 15 "$log")"
}

# 1. the sketch core's mapping cache, built lazily by racing threads
BIN="$ROOT/tests/bin/thread/sketch_threads_test"
if make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" SANITIZE=thread "$BIN" \
	>"$TMP/cc.log" 2>&1; then
	"$BIN" >"$TMP/core.log" 2>&1
	rc=$?
	tsan_check "sketch core: 6 threads build 12 alphas' mappings at once" "$TMP/core.log" "$rc" 0
	line=$(tail -n 1 "$TMP/core.log")
	if [ "$line" = "sketch_threads_test: 12 passed, 0 failed" ]; then
		ok "sketch core: every thread's sketches equal the serial ones"
	else
		not_ok "sketch core: every thread's sketches equal the serial ones" "$(grep 'not ok' "$TMP/core.log")" "$line"
	fi
else
	not_ok "sketch core thread test builds with -fsanitize=thread" "$(cat "$TMP/cc.log")"
fi

# 2. perfdriver itself
PD=$(tests/sanbuild.sh thread 2>"$TMP/build.log")
if [ -z "$PD" ] || [ ! -x "$PD" ]; then
	not_ok "perfdriver builds with -fsanitize=thread" "$(cat "$TMP/build.log")"
	finish
fi
ok "perfdriver builds with -fsanitize=thread"

db=pd_tsan
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
if ! driver/perfdriver init -q -s 1 -d "$db" >"$TMP/init.log" 2>&1; then
	not_ok "init the tsan database" "$(cat "$TMP/init.log")"
	finish
fi
cat >"$TMP/rand.sql" <<'SQL'
\set aid random(1, 100000 * :scale)
\set g random_gaussian(1, 1000, 3.0)
\set z random_zipfian(1, 100, 1.5)
\set e random_exponential(1, 100, 2.0) + permute(:aid, 1000)
\if :g > 500
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
\else
SELECT :g::int + :z::int + :e::int AS s \gset
\endif
SQL

run_load() {
	local name=$1
	shift
	local log="$TMP/run.log"
	timeout 180 "$PD" run -d "$db" -c 8 -j 2 -T "$SECS" -b tpcb-like@2 -b select-only \
		-b simple-update -f "$TMP/rand.sql" "$@" >"$log" 2>&1
	local rc=$?
	tsan_check "$name" "$log" "$rc" 0
	if ! grep -q 'transactions: *[1-9][0-9]* committed, 0 failed' "$log"; then
		not_ok "$name: transactions committed, none failed" "$(grep -m3 'transactions:\|error' "$log")"
	else
		ok "$name: transactions committed, none failed"
	fi
}
run_load "-c 8 -j 2, simple protocol, progress lines" -M simple -P 1
run_load "-c 8 -j 2, extended protocol, rate limit" -M extended -R 1500
run_load "-c 8 -j 2, prepared protocol, retries and a JSON report" -M prepared \
	--max-tries=3 --json="$TMP/report.json"
dropdb --if-exists "$db" >/dev/null 2>&1

finish
