#!/usr/bin/env bash
# sketch_core: unit tests of the shared sketch core (tests/core/
# sketch_core_test.c), no server needed.  Built by tests/unit/unit.mk with
# AddressSanitizer and UBSan and the core's invariant checks, so that a
# decoder bug fails loudly.  The last line is "N passed, N failed"; the exit
# status is non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
BIN="$ROOT/tests/bin/asan/sketch_core_test"

if ! out=$(make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" SANITIZE=1 "$BIN" 2>&1); then
	not_ok "build the sketch core tests" "$out"
	finish
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$BIN" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^sketch_core_test: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
[ -n "$line" ] || echo "sketch_core_test: exited $rc without a summary line"
count_summary "$line" "$rc"
finish
