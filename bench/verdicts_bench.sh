#!/usr/bin/env bash
# verdicts_bench.sh: false alarms of the regression gate (docs/runs.md, "The
# regression gate's noise model"), measured with real runs on this machine.
#
#   1. 5 runs build a history; 20 more runs of the same workload each
#      compare with their last 5 at a 10% threshold (perfdriver run
#      --baseline last:5 --fail-on-regression 10): every exit 3 among the 20
#      is a false alarm (target: 0);
#   2. one run in which a single statement's slowest tenth is 30% slower
#      (its p95 +30%, its p50 unchanged) must be caught: exit 3, with that
#      statement's p95_ms a regression;
#   3. the anchor: the same 21 candidates judged by the SQL function
#      perfstore.compare_to_history(id, 5, 0.10) (threshold and spread only).
# The workload: two statements (two fingerprints: an alias alone would not
# make a different one) whose latency is pg_sleep (5 ms, or 20 ms for
# one call in ten; 10 ms, or 30 ms for one call in ten, 39 ms in the
# changed run), so that the change is known exactly and the machine's noise
# is what the gate must ignore.  (Sleeps of 1 or 2 ms move by a whole
# millisecond on a loaded machine, the timer's granularity: that is a
# different benchmark, of the timer.)
#   BENCH_VERDICTS_SECONDS (3) per run, BENCH_VERDICTS_CLIENTS (4)
set -euo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
PD="$ROOT/driver/perfdriver"
DB=perfstore_verdicts_bench
SECONDS_PER_RUN=${BENCH_VERDICTS_SECONDS:-3}
CLIENTS=${BENCH_VERDICTS_CLIENTS:-4}

tmp=$(mktemp -d /tmp/perfstore_verdicts_bench.XXXXXX)
trap 'rm -rf "$tmp"; dropdb --if-exists --force "$DB" >/dev/null 2>&1' EXIT
dropdb --if-exists --force "$DB" >/dev/null 2>&1
createdb "$DB"
psql -X -q -d "$DB" -c "CREATE EXTENSION perfstore"

cat >"$tmp/w.sql" <<'EOF'
\set r random(1, 100)
SELECT pg_sleep(CASE WHEN :r > 90 THEN 0.020 ELSE 0.005 END) AS lookup;
SELECT 1 AS apply, pg_sleep(CASE WHEN :r > 90 THEN :tail ELSE 0.010 END);
EOF

# run TAIL [GATE...]: one stored run; prints the exit code
run() {
	local rc=0 tail=$1
	shift
	"$PD" run -d "$DB" -f "$tmp/w.sql" -D tail="$tail" -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" \
		--store "$DB" --name verdicts "$@" >"$tmp/run.out" 2>&1 || rc=$?
	echo "$rc"
}
gate=(--baseline last:5 --fail-on-regression 10)

# the history: stored without a gate
for i in 1 2 3 4 5; do
	rc=$(run 0.030)
	[ "$rc" -eq 0 ] || { echo "history run $i: exit $rc"; cat "$tmp/run.out"; exit 1; }
done
alarms=0
for i in $(seq 1 20); do
	rc=$(run 0.030 "${gate[@]}")
	if [ "$rc" -eq 3 ]; then
		alarms=$((alarms + 1))
		echo "false alarm in rerun $i:"
		sed -n '/^comparison/,$p' "$tmp/run.out" | grep -E 'comparison|baseline|regression'
	elif [ "$rc" -ne 0 ]; then
		echo "rerun $i: exit $rc"
		cat "$tmp/run.out"
		exit 1
	fi
done
rc=$(run 0.039 "${gate[@]}")
cp "$tmp/run.out" "$tmp/shift.out"

old=$(psql -X -At -d "$DB" -c "
	SELECT count(*) FILTER (WHERE n > 0 AND id < max_id), bool_or(n > 0 AND id = max_id)
	FROM (SELECT k.id, k.max_id,
	             (SELECT count(*) FROM perfstore.compare_to_history(k.id, 5, 0.10) c
	              WHERE c.verdict = 'regression') AS n
	      FROM (SELECT r.id, max(r.id) OVER () AS max_id FROM perfstore.bench_runs r
	            ORDER BY r.started_at OFFSET 5) k) s")

echo "workload: 2 statements, $CLIENTS clients, ${SECONDS_PER_RUN} s per run, threshold 10%, baseline last:5"
echo "noise model: false alarms in 20 unchanged reruns: $alarms (target 0)"
# the p95_ms regression row names the statement by its note, [N] TEXT
note=$(sed -nE 's/^  p95_ms .* regression +\[([0-9]+)\] SELECT.*/\1/p' "$tmp/shift.out" | head -n 1)
if [ "$rc" -eq 3 ] && [ -n "$note" ] && grep -qE "^  \[$note\] SELECT "'\$[0-9]+ AS apply, pg_sleep\(.*\)$' "$tmp/shift.out"; then
	echo "noise model: +30% on one statement's p95: caught (exit 3)"
else
	echo "noise model: +30% on one statement's p95: NOT caught (exit $rc)"
fi
sed -n '/^comparison/,$p' "$tmp/shift.out"
echo "anchor, compare_to_history (threshold and spread): false alarms in the 20 reruns: ${old%%|*}; +30% caught: $([ "${old##*|}" = t ] && echo yes || echo no)"
