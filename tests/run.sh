#!/usr/bin/env bash
# run.sh: run every test suite against the throwaway cluster and print one
# summary line, "N passed, N failed", over all of them.
#
# Suites: pg_regress (sql/, expected/), then every executable
# tests/suites/*.sh in name order.  A suite runs with PGHOST, PGPORT, PGUSER
# and PGDATABASE pointing at the cluster and PERFSTORE_ROOT at the checkout;
# its last line of output must be "N passed, N failed".  A suite that prints
# no such line counts as one failure.  A suite that cannot run here (a
# missing optional dependency) prints "# skipped: REASON" and "0 passed, 0
# failed": it is listed as skipped, with its reason, before the summary line.
# The cluster is stopped at the end if this script started it, even when a
# suite fails.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PERFSTORE_ROOT="$ROOT"

started=0
if ! scripts/pgcluster.sh status >/dev/null 2>&1; then
	scripts/pgcluster.sh start || exit 2
	started=1
fi
cleanup() {
	if [ "$started" -eq 1 ]; then
		scripts/pgcluster.sh stop || true
	fi
}
trap cleanup EXIT
eval "$(scripts/pgcluster.sh env)"
. tests/lib.sh

total_pass=0
total_fail=0
skipped=()
only=${PERFSTORE_TESTS:-}

# pg_regress, through PGXS's installcheck
if [ -z "$only" ] || [[ ",$only," == *",regress,"* ]]; then
	echo "== suite: regress"
	out=$(make --no-print-directory installcheck 2>&1)
	echo "$out" | grep -E '^(not )?ok |\.\.\. |tests? (passed|failed)' || true
	p=$(echo "$out" | grep -cE '(^ok |\.\.\. ok)')
	f=$(echo "$out" | grep -cE '(^not ok |\.\.\. FAILED|\.\.\. failed)')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "$out" | tail -n 20
		f=1
	fi
	if [ "$f" -gt 0 ] && [ -f regression.diffs ]; then
		head -n 200 regression.diffs
	fi
	echo "regress: $p passed, $f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
fi

for suite in tests/suites/*.sh; do
	[ -x "$suite" ] || continue
	name=$(basename "$suite" .sh)
	if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
		continue
	fi
	echo "== suite: $name"
	log=$(mktemp)
	"$suite" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	[ -n "$last" ] || echo "$name: exited $rc without a summary line"
	read -r p f <<<"$(summary_counts "$last" "$rc")"
	reason=$(sed -n 's/^# skipped: //p' "$log" | head -n 1)
	if [ -n "$reason" ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		skipped+=("$name: $reason")
	fi
	rm -f "$log"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
done

for s in "${skipped[@]}"; do
	echo "skipped: $s"
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
