#!/usr/bin/env bash
# observe_bench.sh: what "perfdriver run --observe" costs the run: TPS of
# select-only at -c 16 -j 2 with and without --observe (50 Hz, the
# default), in rounds of two runs back to back whose order alternates, so
# that both see the same machine noise.  The verdict takes the median of the
# rounds' ratios (as bench/driver_bench.sh does, for the same reason: a
# 2-core machine switches between scheduling modes within seconds); the
# medians of each side are printed too.  The target: at most 2 % fewer TPS
# (docs/diagnosis.md, "Overhead").  It never fails on speed.
#
#   BENCH_OBSERVE_ROUNDS   rounds (default: BENCH_REPEAT, at least 10)
#   BENCH_OBSERVE_SECONDS  length of each run (default 5)
#   BENCH_OBSERVE_ARGS     the observed side's options (default --observe)
set -uo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/bench/lib.sh"
PD="$ROOT/driver/perfdriver"
ROUNDS=${BENCH_OBSERVE_ROUNDS:-${BENCH_REPEAT:-10}}
if [ "$ROUNDS" -lt 10 ] && [ -z "${BENCH_OBSERVE_ROUNDS:-}" ]; then
	ROUNDS=10
fi
SECS=${BENCH_OBSERVE_SECONDS:-5}
ARGS=${BENCH_OBSERVE_ARGS:---observe}
DB=perfstore_bench_observe
TMP=$(mktemp -d /tmp/pd_obench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$PD" ]; then
	echo "observe_bench: needs driver/perfdriver (make)" >&2
	exit 2
fi
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
	createdb "$DB"
	"$PD" init -q -s 10 -d "$DB" || exit 2
	psql -X -q -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" || exit 2
fi

# tps ARGS...: one run's TPS
tps() {
	"$PD" run -d "$DB" -b select-only -c 16 -j 2 -T "$SECS" --json "$TMP/r.json" "$@" >/dev/null 2>&1 &&
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tps"])' "$TMP/r.json"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

: >"$TMP/off"
: >"$TMP/on"
: >"$TMP/ratio"
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		off=$(tps)
		on=$(tps $ARGS)
	else
		on=$(tps $ARGS)
		off=$(tps)
	fi
	if [ -z "$off" ] || [ -z "$on" ]; then
		echo "observe_bench: a run failed" >&2
		exit 2
	fi
	echo "$off" >>"$TMP/off"
	echo "$on" >>"$TMP/on"
	awk -v a="$on" -v b="$off" 'BEGIN {printf "%.6f\n", a / b}' >>"$TMP/ratio"
	printf '  round %2d: without %9.1f tps, with --observe %9.1f tps\n' "$r" "$off" "$on"
done
m_off=$(median <"$TMP/off")
m_on=$(median <"$TMP/on")
m_ratio=$(median <"$TMP/ratio")
cost=$(awk -v r="$m_ratio" 'BEGIN {printf "%.2f", (1 - r) * 100}')
printf 'select-only -c 16 -j 2, %s rounds of %s s: without %.1f tps, with %s %.1f tps (medians)\n' \
	"$ROUNDS" "$SECS" "$m_off" "$ARGS" "$m_on"
printf 'TPS cost of '"$ARGS"': %s %% (median of the rounds'"'"' ratios; target <= 2 %%): %s\n' "$cost" \
	"$(awk -v c="$cost" 'BEGIN {print (c <= 2) ? "met" : "NOT met"}')"
