#!/usr/bin/env bash
# run.sh: build the libFuzzer targets and run each for a bounded time.
#
#   tests/fuzz/run.sh                 fuzz every target for FUZZ_SECONDS each
#                                     (default 60)
#   FUZZ_TARGETS="script_expr" tests/fuzz/run.sh
#                                     only the named targets
#   tests/fuzz/run.sh FILE...         replay inputs (for example a crash file)
#                                     with the target whose working directory
#                                     holds them, else the one FUZZ_TARGETS names
#
# Targets:
#   sketch_decode  the sketch decoders (sketch_decode_fuzz.c, the sketch core
#                  src/sketch*.c but the SQL face)
#   script_expr    perfdriver's script parser and expression evaluator
#                  (script_expr_fuzz.c, driver/script.c, driver/expr.c)
#   analyze_log    perfdriver analyze --log: the log reader and the analysis
#                  (analyze_log_fuzz.c, driver/logparse.c, driver/cmd_analyze.c)
#
# Builds with clang's libFuzzer, AddressSanitizer and UBSan (every UBSan
# report aborts) into tests/bin/.  Each target's working corpus is
# tests/fuzz/corpus-run/TARGET/ (git-ignored); its checked-in seeds
# (tests/fuzz/corpus/ for the sketch, tests/fuzz/corpus-TARGET/ for the
# others) are read too, and for the sketch freshly generated ones
# (tests/fuzz/make_seeds.c, so the seeds follow the current format).  A
# crash, a sanitizer report or a violated property leaves crash-* in the
# target's working directory and makes this exit 1; each target ends with
# a summary line:
#   fuzz: N runs in T s (E exec/s), corpus C inputs, crashes: K (TARGET)
# Exit status: 0 clean, 1 crash found, 2 could not build or run.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ="$ROOT/tests/fuzz"
BIN="$ROOT/tests/bin"
RUNDIR="$FUZZ/corpus-run"
SECONDS_BUDGET=${FUZZ_SECONDS:-60}
ALL_TARGETS="sketch_decode script_expr analyze_log"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}

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
PGC=${PD_PG_CONFIG:-$(command -v pg_config)}
PQ_INCLUDE=$("$PGC" --includedir 2>/dev/null || pg_config --includedir)

CFLAGS=(-std=gnu11 -O1 -g -Wall -Wextra -Werror -I"$ROOT/include" -I"$ROOT/driver")
# the sketch core, as driver/driver.mk links it: every src/sketch*.c but the
# SQL face
CORE=()
for f in "$ROOT"/src/sketch*.c; do
	case "$f" in *_sql.c) ;; *) CORE+=("$f") ;; esac
done
SAN=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

# build TARGET: compile tests/bin/TARGET_fuzz; false after a message
build() {
	local t=$1
	local srcs=() libs=(-lm)
	case "$t" in
		sketch_decode)
			srcs=("${CORE[@]}" "$FUZZ/sketch_decode_fuzz.c")
			;;
		script_expr)
			# the workload layer, as tests/unit/unit.mk links it
			for f in expr script builtin normalize vars prng util; do
				[ -f "$ROOT/driver/$f.c" ] && srcs+=("$ROOT/driver/$f.c")
			done
			srcs+=("$FUZZ/script_expr_fuzz.c")
			libs=(-lpg_query -lm)
			;;
		analyze_log)
			# the whole driver but its main(), which libFuzzer provides
			for f in "$ROOT"/driver/*.c; do
				case "$(basename "$f")" in main.c | unit_*) ;; *) srcs+=("$f") ;; esac
			done
			srcs+=("${CORE[@]}" "$FUZZ/analyze_log_fuzz.c")
			libs=(-I"$PQ_INCLUDE" -DPD_VERSION="\"$PD_VERSION\"" -lpq -lpg_query -ljansson -lpthread -lm -lz)
			;;
		*)
			echo "fuzz: error: unknown target \"$t\" (targets: $ALL_TARGETS)" >&2
			return 1
			;;
	esac
	"$CLANG" "${CFLAGS[@]}" -DSKETCH_CHECK_INVARIANTS "${SAN[@]}" -pthread \
		"${srcs[@]}" "${libs[@]}" -o "$BIN/${t}_fuzz" || {
		echo "fuzz: error: could not build the fuzz target $t" >&2
		return 1
	}
}

# the driver's version, as driver/driver.mk passes it to version.c
PD_VERSION=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$ROOT/perfstore.control")
mkdir -p "$BIN"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Replay mode: run the given inputs once each.
if [ $# -gt 0 ]; then
	t=
	case "$1" in
		*/corpus-run/*/*)
			t=${1#*/corpus-run/}
			t=${t%%/*}
			;;
	esac
	case " $ALL_TARGETS " in *" $t "*) ;; *) t=${TARGETS%% *} ;; esac
	build "$t" || exit 2
	exec "$BIN/${t}_fuzz" -runs=1 "$@"
fi

status=0
for t in $TARGETS; do
	work="$RUNDIR/$t"
	mkdir -p "$work/queue"
	build "$t" || exit 2
	corpora=("$work/queue")
	maxlen=8192
	dict=
	case "$t" in
		sketch_decode)
			mkdir -p "$work/seeds"
			"$CLANG" "${CFLAGS[@]}" -DSKETCH_CHECK_INVARIANTS "${CORE[@]}" \
				"$FUZZ/make_seeds.c" -lm -o "$BIN/make_seeds" &&
				"$BIN/make_seeds" "$work/seeds" || {
				echo "fuzz: error: could not generate the seed corpus" >&2
				exit 2
			}
			corpora+=("$FUZZ/corpus" "$work/seeds")
			dict="$FUZZ/sketch.dict"
			;;
		script_expr)
			# generated seeds: the inputs that once overflowed the stack
			mkdir -p "$work/seeds"
			rep() { local i; for ((i = 0; i < $2; i++)); do printf '%s' "$1"; done; }
			{ printf '\\set x '; rep '(' 50000; printf 1; rep ')' 50000; printf '\nSELECT :x;\n'; } >"$work/seeds/deep-parens.sql"
			{ printf '\\set x '; rep '-' 100000; printf '1\n'; } >"$work/seeds/deep-minus.sql"
			{ printf '\\set x '; rep 'abs(' 20000; printf -- '-1'; rep ')' 20000; printf '\n'; } >"$work/seeds/deep-abs.sql"
			{ printf '\\set x '; rep '1 + ' 19999; printf '1\nSELECT :x;\n'; } >"$work/seeds/flat-sum.sql"
			# room for those seeds
			corpora+=("$FUZZ/corpus-script_expr" "$work/seeds")
			dict="$FUZZ/script.dict"
			maxlen=131072
			;;
		analyze_log)
			corpora+=("$FUZZ/corpus-analyze_log")
			dict="$FUZZ/analyze.dict"
			maxlen=65536
			;;
	esac

	log="$work/last.log"
	before=$(ls "$work" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
	"$BIN/${t}_fuzz" \
		-max_total_time="$SECONDS_BUDGET" \
		-timeout=10 -rss_limit_mb=2048 -max_len="$maxlen" \
		-dict="$dict" \
		-artifact_prefix="$work/" \
		-print_final_stats=1 \
		"${corpora[@]}" >"$log" 2>&1
	rc=$?
	after=$(ls "$work" | grep -c '^crash-\|^leak-\|^timeout-\|^oom-')
	crashes=$((after - before))

	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
	corpus=$(ls "$work/queue" | wc -l)

	if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
		[ "$crashes" -gt 0 ] || crashes=1
		# the report: the violated property or sanitizer output, and the input
		grep -E 'property violated|^input \(|ERROR: |SUMMARY|runtime error|^    #[0-9]+ .* in ' "$log" | head -n 40
		for f in $(ls -t "$work" | grep '^crash-\|^leak-\|^timeout-\|^oom-' | head -n 3); do
			echo "fuzz: input $work/$f (hex): $(od -An -tx1 -v "$work/$f" | tr -d ' \n' | head -c 2000)"
		done
		echo "fuzz: replay with: tests/fuzz/run.sh $work/<file>; full log in $log"
		status=1
	fi
	echo "fuzz: ${runs:-0} runs in ${secs:-?} s (${eps:-0} exec/s), corpus $corpus inputs, crashes: $crashes ($t)"
done
exit $status
