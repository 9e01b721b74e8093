#!/usr/bin/env bash
# driver_unit.sh: build and run perfdriver's unit tests (no server needed).
#
# Builds tests/unit/test_*.c with tests/unit/unit.mk into tests/bin/, runs
# each, then the same again built with AddressSanitizer and UBSan into
# tests/bin/asan/ (a memory error or undefined behaviour fails that run), and
# adds up their "N passed, N failed" lines.  A test that does not build or
# does not report counts as one failure.  When pgbench is
# installed, also checks that each built-in script is byte-for-byte
# pgbench's own (--show-script).  The last line is "N passed, N failed";
# the exit status is non-zero when anything failed.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. tests/lib.sh

if ! out=$(make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" all 2>&1); then
	not_ok "build the unit tests" "$out"
fi
if ! out=$(make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" SANITIZE=1 all 2>&1); then
	not_ok "build the unit tests with AddressSanitizer and UBSan" "$out"
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for variant in plain asan; do
	for src in tests/unit/test_*.c; do
		name=$(basename "$src" .c)
		bin=tests/bin/$name
		[ "$variant" = plain ] || bin=tests/bin/$variant/$name
		if [ ! -x "$bin" ]; then
			not_ok "$name ($variant): not built"
			continue
		fi
		# debug() output goes to stderr; keep it out of the log
		out=$("$bin" 2>/dev/null)
		rc=$?
		echo "$out" | grep -v '^test_.*: [0-9]* passed' || true
		line=$(echo "$out" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" | tail -n 1)
		if [ -n "$line" ]; then
			echo "$line ($variant)"
		else
			echo "$name ($variant): exited $rc without a summary line"
		fi
		count_summary "$line" "$rc"
	done
done

# the built-ins must be pgbench's scripts exactly
PGBENCH=$(command -v pgbench || true)
if [ -n "$PGBENCH" ] && [ -x tests/bin/test_script ]; then
	for b in tpcb-like simple-update select-only; do
		# pgbench prints a "-- name: description" header and a final newline
		want=$("$PGBENCH" --show-script="$b" 2>&1 | sed '1d')
		got=$(tests/bin/test_script --show "$b")
		if [ "$want" = "$got" ]; then
			ok "built-in $b is pgbench --show-script=$b"
		else
			not_ok "built-in $b differs from pgbench --show-script=$b" \
				"$(diff <(echo "$want") <(echo "$got") | head -n 20)"
		fi
	done
fi

finish
