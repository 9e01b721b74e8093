#!/usr/bin/env bash
# flamegraph_bench.sh: what profiling with --flamegraph at 99 Hz costs in
# TPS.
#
# Each case runs rounds of two perfdriver runs back to back, one without and
# one with --flamegraph (the order alternates between rounds), so both see
# the same machine noise; the verdict takes the median of the rounds' ratios
# (profiled / plain), as the driver benchmark does against pgbench (see
# docs/development.md, "Benchmarks", for why on a 2-core machine).  TPS is
# the measured window's: perf's start before the clock and perf script
# after it are not in it, but perf record's own work while sampling is.
# Cases: select-only -c 4 (many short statements: the most wake-ups per
# sample) and tpcb-like -c 4.  It never fails on speed: it prints the
# figures and a verdict against the goal of docs/flamegraph.md (at most 5%
# fewer TPS).
#
#   BENCH_FLAME_ROUNDS   rounds per case (default: BENCH_REPEAT, at least 7)
#   BENCH_FLAME_SECONDS  length of each run (default 3)
set -uo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/bench/lib.sh"
PD="$ROOT/driver/perfdriver"
REPEAT=${BENCH_FLAME_ROUNDS:-${BENCH_REPEAT:-7}}
if [ "$REPEAT" -lt 7 ] && [ -z "${BENCH_FLAME_ROUNDS:-}" ]; then
	REPEAT=7
fi
SECS=${BENCH_FLAME_SECONDS:-3}
DB=perfstore_bench_driver
TMP=$(mktemp -d /tmp/pd_bench_flame.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if [ ! -x "$PD" ] || ! command -v perf >/dev/null; then
	echo "flamegraph: needs driver/perfdriver and perf (linux-perf)" >&2
	exit 2
fi
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
	createdb "$DB"
	"$PD" init -q -s 10 -d "$DB" || exit 2
fi

# run ARGS...: prints "tps samples" (samples "-" without --flamegraph)
run() {
	"$PD" run "$@" -d "$DB" --json "$TMP/j" >"$TMP/out" 2>"$TMP/err"
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
f = j.get("flamegraph")
print(j["tps"], "-" if f is None else (f.get("samples") if f.get("unavailable") is None else "unavailable"))' "$TMP/j"
}

verdict() {
	local ok
	ok=$(awk -v v="$2" -v g="$4" -v op="$3" 'BEGIN {
		if (v == "nan") print "FAIL"; else if (op == ">=") print (v + 0 >= g + 0 ? "PASS" : "FAIL");
		else print (v + 0 <= g + 0 ? "PASS" : "FAIL") }')
	printf "    %-58s %6s  %-8s %s" "$1" "$2" "$3 $4" "$ok"
}

summary=""
printf "%-28s %11s %11s %13s %9s\n" case plain_tps profiled_tps "ratio [med]" samples
for spec in "select-only:4" "tpcb-like:4"; do
	IFS=: read -r name c <<<"$spec"
	rm -f "$TMP"/p_tps "$TMP"/f_tps "$TMP"/r_tps "$TMP"/samples
	for r in $(seq 1 "$REPEAT"); do
		for who in p f; do
			if [ $((r % 2)) -eq 0 ]; then who=$([ $who = p ] && echo f || echo p); fi
			if [ $who = p ]; then
				read -r tps _ <<<"$(run -b "$name" -c "$c" -j 2 -T "$SECS")"
			else
				read -r tps s <<<"$(run -b "$name" -c "$c" -j 2 -T "$SECS" \
					--flamegraph "$TMP/g.svg" --flamegraph-hz 99)"
				if [ "$s" = unavailable ]; then
					echo "flamegraph: perf cannot sample here: $(head -n 1 "$TMP/err")" >&2
					exit 2
				fi
				echo "$s" >>"$TMP/samples"
			fi
			echo "$tps" >>"$TMP/${who}_tps"
		done
		ratio "$(tail -n 1 "$TMP/f_tps")" "$(tail -n 1 "$TMP/p_tps")" >>"$TMP/r_tps"
		echo >>"$TMP/r_tps"
	done
	pt=$(median <"$TMP/p_tps"); ft=$(median <"$TMP/f_tps")
	rt=$(grep . "$TMP/r_tps" | median)
	printf "%-28s %11.1f %11.1f %6s [%4s] %9s\n" "$name -c $c -j 2" "$pt" "$ft" "$rt" \
		"$(ratio "$ft" "$pt")" "$(median <"$TMP/samples")"
	summary="$summary$(verdict "TPS $name -c $c at 99 Hz: profiled / plain" "$rt" ">=" 0.95)
"
done
echo "$REPEAT rounds of ${SECS} s runs; ratio: median of the rounds' ratios; samples: median per profiled run"
echo
echo "  summary (median of $REPEAT rounds' ratios, runs alternating)"
printf "    %-58s %6s  %-8s %s\n" figure value goal verdict
printf "%s" "$summary"
