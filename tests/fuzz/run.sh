#!/usr/bin/env bash
# run.sh: build the sketch decoder fuzz target and run it for a bounded time.
#
#   tests/fuzz/run.sh                 fuzz for FUZZ_SECONDS (default 60)
#   tests/fuzz/run.sh FILE...         replay inputs (for example a crash file)
#
# Builds with clang's libFuzzer, AddressSanitizer and UBSan (every UBSan
# report aborts) into tests/bin/.  The working corpus is tests/fuzz/corpus-run/
# (git-ignored); the checked-in seeds in tests/fuzz/corpus/ and freshly
# generated ones (tests/fuzz/make_seeds.c, so the seeds follow the current
# format) are read too.  A crash, a sanitizer report or a violated property
# leaves crash-* in tests/fuzz/corpus-run/ and makes this exit 1; the last
# line is a summary:
#   fuzz: N runs in T s (E exec/s), corpus C inputs, crashes: K
# Exit status: 0 clean, 1 crash found, 2 could not build or run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ="$ROOT/tests/fuzz"
BIN="$ROOT/tests/bin"
WORK="$FUZZ/corpus-run"
SECONDS_BUDGET=${FUZZ_SECONDS:-60}

CLANG=
for c in clang-14 clang; do
	if command -v "$c" >/dev/null 2>&1; then
		CLANG=$c
		break
	fi
done
if [ -z "$CLANG" ]; then
	echo "fuzz: error: clang not found (Debian packages clang-14 and libclang-rt-14-dev)" >&2
	exit 2
fi

mkdir -p "$BIN" "$WORK/queue" "$WORK/seeds"
CFLAGS=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -DSKETCH_CHECK_INVARIANTS -I"$ROOT/include")
"$CLANG" "${CFLAGS[@]}" -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	"$ROOT/src/sketch.c" "$FUZZ/sketch_decode_fuzz.c" -lm \
	-o "$BIN/sketch_decode_fuzz" || {
	echo "fuzz: error: could not build the fuzz target" >&2
	exit 2
}
"$CLANG" "${CFLAGS[@]}" "$ROOT/src/sketch.c" "$FUZZ/make_seeds.c" -lm \
	-o "$BIN/make_seeds" && "$BIN/make_seeds" "$WORK/seeds" || {
	echo "fuzz: error: could not generate the seed corpus" >&2
	exit 2
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Replay mode: run the given inputs once each.
if [ $# -gt 0 ]; then
	exec "$BIN/sketch_decode_fuzz" -runs=1 "$@"
fi

log="$WORK/last.log"
before=$(ls "$WORK" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
"$BIN/sketch_decode_fuzz" \
	-max_total_time="$SECONDS_BUDGET" \
	-timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-dict="$FUZZ/sketch.dict" \
	-artifact_prefix="$WORK/" \
	-print_final_stats=1 \
	"$WORK/queue" "$FUZZ/corpus" "$WORK/seeds" >"$log" 2>&1
rc=$?
after=$(ls "$WORK" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
crashes=$((after - before))

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
corpus=$(ls "$WORK/queue" | wc -l)

if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
	[ "$crashes" -gt 0 ] || crashes=1
	# the report: the violated property or sanitizer output, and the input
	grep -E 'property violated|^input \(|ERROR: |SUMMARY|runtime error|^    #[0-9]+ .* in ' "$log" | head -n 40
	for f in $(ls -t "$WORK" | grep '^crash-\|^leak-\|^timeout-\|^oom-' | head -n 3); do
		echo "fuzz: input $WORK/$f (hex): $(od -An -tx1 -v "$WORK/$f" | tr -d ' \n' | head -c 2000)"
	done
	echo "fuzz: replay with: tests/fuzz/run.sh $WORK/<file>; full log in $log"
fi
echo "fuzz: ${runs:-0} runs in ${secs:-?} s (${eps:-0} exec/s), corpus $corpus inputs, crashes: $crashes"
[ "$crashes" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
exit 1
