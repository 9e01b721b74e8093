#!/usr/bin/env bash
# driver_fuzz_short.sh: short runs of perfdriver's fuzz targets (the script
# parser and expression evaluator, and analyze --log; tests/fuzz/run.sh,
# libFuzzer with ASan and UBSan) as part of make test, and a replay of every
# input that once crashed a target (tests/fuzz/regress/TARGET/, one test
# each).
#
# No server needed.  Each target runs DRIVER_FUZZ_SHORT_SECONDS (default 15;
# make fuzz runs longer).  Prints ok / not ok lines (after the fuzzer's
# report on a failure) and the fuzzer's summary lines; the last line is
# "N passed, N failed"; the exit status is non-zero on a crash, a sanitizer
# report or when a target cannot be built or run.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$ROOT/tests/lib.sh"
SECS=${DRIVER_FUZZ_SHORT_SECONDS:-15}
TARGETS="script_expr analyze_log"

out=$(mktemp)
trap 'rm -f "$out"' EXIT

for t in $TARGETS; do
	# replay the inputs that once crashed this target
	for f in "$ROOT"/tests/fuzz/regress/"$t"/*; do
		[ -f "$f" ] || continue
		FUZZ_TARGETS=$t "$ROOT/tests/fuzz/run.sh" "$f" >"$out" 2>&1
		rc=$?
		if [ "$rc" -eq 0 ]; then
			ok "$t: regression input $(basename "$f") runs clean"
		else
			not_ok "$t: regression input $(basename "$f") (exit $rc)" \
				"$(grep -E 'ERROR|SUMMARY|runtime error|property violated|^    #[0-9]+ ' "$out" | head -n 30)"
		fi
	done

	FUZZ_SECONDS=$SECS FUZZ_TARGETS=$t "$ROOT/tests/fuzz/run.sh" >"$out" 2>&1
	rc=$?
	summary=$(grep -E '^fuzz: [0-9]+ runs in ' "$out" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$summary" ]; then
		ok "$t fuzzed for $SECS s without a crash"
		echo "$summary"
	else
		not_ok "$t fuzzed for $SECS s (run.sh exited $rc)" \
			"$(grep -v '^fuzz: [0-9]* runs in ' "$out" | tail -n 60)" \
			"${summary:-fuzz: no summary (run.sh exited $rc)}"
	fi
done
finish
