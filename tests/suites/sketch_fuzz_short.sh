#!/usr/bin/env bash
# sketch_fuzz_short.sh: a short run of the sketch decoder fuzz target
# (tests/fuzz/run.sh, libFuzzer with ASan and UBSan) as part of make test.
#
# No server needed.  Runs with FUZZ_SECONDS=20 (SKETCH_FUZZ_SHORT_SECONDS
# overrides it; make fuzz runs longer).  Prints an ok line and the fuzzer's
# summary line, or a not ok line with the fuzzer's report; then "1 passed,
# 0 failed" or "0 passed, 1 failed" as the last line; the exit status is
# non-zero on a crash, a sanitizer report or when the target cannot be
# built or run.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export FUZZ_SECONDS=${SKETCH_FUZZ_SHORT_SECONDS:-20}
# the driver's targets have their own suite (driver_fuzz_short)
export FUZZ_TARGETS=sketch_decode

. "$ROOT/tests/lib.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$ROOT/tests/fuzz/run.sh" >"$out" 2>&1
rc=$?
summary=$(grep -E '^fuzz: [0-9]+ runs in ' "$out" | tail -n 1)

if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
	ok "sketch decoder fuzzed for ${FUZZ_SECONDS} s without a crash"
	echo "$summary"
else
	# the report (violated property, sanitizer output, crash input in hex)
	not_ok "sketch decoder fuzzed for ${FUZZ_SECONDS} s (run.sh exited $rc)" \
		"$(grep -v '^fuzz: [0-9]* runs in ' "$out" | tail -n 60)" \
		"${summary:-fuzz: no summary (run.sh exited $rc)}"
fi
finish
