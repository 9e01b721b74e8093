#!/usr/bin/env bash
# driver_bench.sh: perfdriver against its anchor, pgbench, on the same
# server: TPS, client CPU seconds per 1,000 transactions, and peak RSS at
# -c 50 for a short and a long run (memory must not grow with run length).
#
# Each case runs rounds of one pgbench run and one perfdriver run, back to
# back (the order alternates between rounds) so both see the same machine
# noise.  On a 2-core virtual machine both tools land in one of two
# scheduling modes (the client threads and the backends they wake sharing
# CPUs or not) whose throughput differs by about 1.7x; a mode lasts seconds
# and changes within runs, for pgbench as for perfdriver.  A tool's median
# over a few runs then lands in either mode by chance.  The two runs of a
# round mostly share a mode, so the verdict takes the median of the rounds'
# ratios (rounds that straddle a change give ratios far from 1 on either
# side, and the median sets them aside); the medians of each tool's runs
# are printed too.  Select-only runs at -c 1, 4 and 16 (and at 16 with
# -M prepared), tpcb-like at -c 4.  Both tools run with their defaults:
# perfdriver's --cpu-affinity=auto binds its threads one per CPU (the
# server is local; -j 2 on 2 CPUs, or the single thread of -c 1), which keeps each backend on its client's CPU and the
# runs mostly in the faster mode; pgbench has no such setting.  It never
# fails on speed: it prints the numbers, the goals and a verdict
# per figure.
#
#   BENCH_DRIVER_ROUNDS    rounds per case (default: BENCH_REPEAT, at least 15)
#   BENCH_DRIVER_SECONDS   length of each run (default 3)
#   BENCH_DRIVER_RSS_LONG  length of the long RSS run (default 60)
set -uo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/bench/lib.sh"
PD="$ROOT/driver/perfdriver"
REPEAT=${BENCH_DRIVER_ROUNDS:-${BENCH_REPEAT:-7}}
if [ "$REPEAT" -lt 15 ] && [ -z "${BENCH_DRIVER_ROUNDS:-}" ]; then
	REPEAT=15
fi
SECS=${BENCH_DRIVER_SECONDS:-3}
LONG=${BENCH_DRIVER_RSS_LONG:-60}
DB=perfstore_bench_driver
TMP=$(mktemp -d /tmp/pd_bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TIME=/usr/bin/time

if [ ! -x "$PD" ] || ! command -v pgbench >/dev/null || [ ! -x "$TIME" ]; then
	echo "driver_vs_pgbench: needs driver/perfdriver, pgbench and /usr/bin/time" >&2
	exit 2
fi
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
	createdb "$DB"
	"$PD" init -q -s 10 -d "$DB" || exit 2
fi

# run_pgbench ARGS...: prints "tps cpu_s txns"
run_pgbench() {
	$TIME -f "%U %S %M" -o "$TMP/time" pgbench -n "$@" "$DB" >"$TMP/out" 2>&1
	awk '/^tps =/ {tps = $3} /actually processed/ {split($0, a, ": "); split(a[2], b, "/"); n = b[1]}
		END {print tps, n}' "$TMP/out" >"$TMP/r"
	read -r tps n <"$TMP/r"
	read -r u s rss <"$TMP/time"
	echo "$tps $(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}') $n $rss"
}

# run_driver ARGS...: prints "tps cpu_s txns rss_kb"
run_driver() {
	$TIME -f "%U %S %M" -o "$TMP/time" "$PD" run "$@" -d "$DB" --json "$TMP/j" >"$TMP/out" 2>&1
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["tps"], j["transactions"] + j["failed_transactions"])' "$TMP/j" >"$TMP/r"
	read -r tps n <"$TMP/r"
	read -r u s rss <"$TMP/time"
	echo "$tps $(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}') $n $rss"
}

# verdict FIGURE VALUE OP GOAL: one summary line with PASS or FAIL
verdict() {
	local ok
	ok=$(awk -v v="$2" -v g="$4" -v op="$3" 'BEGIN {
		if (v == "nan") print "FAIL"; else if (op == ">=") print (v + 0 >= g + 0 ? "PASS" : "FAIL");
		else print (v + 0 <= g + 0 ? "PASS" : "FAIL") }')
	printf "    %-58s %6s  %-8s %s" "$1" "$2" "$3 $4" "$ok"
}

cpu_per_k() {
	awk -v c="$1" -v n="$2" 'BEGIN {if (n == 0) print "nan"; else printf "%.4f\n", c / (n / 1000)}'
}

# The table shows the medians of each tool's runs, the median of the rounds'
# ratios (two runs made back to back), and in brackets the ratio of the
# tools' medians.
summary=""
printf "%-34s %11s %11s %13s %11s %11s %13s\n" case pgbench_tps driver_tps "ratio [med]" \
	pgb_cpu/1k drv_cpu/1k "ratio [med]"
for spec in "select-only:1:-S:simple" "select-only:4:-S:simple" "select-only:16:-S:simple" \
	"select-only:16:-S:prepared" "tpcb-like:4::simple"; do
	IFS=: read -r name c popt mode <<<"$spec"
	: >"$TMP/p_tps"; : >"$TMP/d_tps"; : >"$TMP/p_cpu"; : >"$TMP/d_cpu"; : >"$TMP/r_tps"; : >"$TMP/r_cpu"
	for r in $(seq 1 "$REPEAT"); do
		for who in p d; do
			if [ $((r % 2)) -eq 0 ]; then who=$([ $who = p ] && echo d || echo p); fi
			if [ $who = p ]; then
				# shellcheck disable=SC2086
				read -r tps cpu n _ <<<"$(run_pgbench $popt -M "$mode" -c "$c" -j 2 -T "$SECS")"
			else
				read -r tps cpu n _ <<<"$(run_driver -b "$name" -M "$mode" -c "$c" -j 2 -T "$SECS")"
			fi
			echo "$tps" >>"$TMP/${who}_tps"
			cpu_per_k "$cpu" "$n" >>"$TMP/${who}_cpu"
		done
		echo "$(ratio "$(tail -n 1 "$TMP/d_tps")" "$(tail -n 1 "$TMP/p_tps")")" >>"$TMP/r_tps"
		echo "$(ratio "$(tail -n 1 "$TMP/d_cpu")" "$(tail -n 1 "$TMP/p_cpu")")" >>"$TMP/r_cpu"
	done
	pt=$(median <"$TMP/p_tps"); dt=$(median <"$TMP/d_tps")
	pc=$(median <"$TMP/p_cpu"); dc=$(median <"$TMP/d_cpu")
	rt=$(median <"$TMP/r_tps"); rc=$(median <"$TMP/r_cpu")
	printf "%-34s %11.1f %11.1f %6s [%4s] %11s %11s %6s [%4s]\n" "$name -c $c -j 2 -M $mode" \
		"$pt" "$dt" "$rt" "$(ratio "$dt" "$pt")" "$pc" "$dc" "$rc" "$(ratio "$dc" "$pc")"
	summary="$summary$(verdict "TPS $name -c $c -M $mode: driver / pgbench" "$rt" ">=" 1.00)
$(verdict "CPU/1k txn $name -c $c -M $mode: driver / pgbench" "$rc" "<=" 1.00)
"
done
echo "$REPEAT rounds of ${SECS} s runs; ratio: median of the rounds' ratios; CPU is the client's user+sys seconds per 1,000 transactions"

short=$SECS
if [ "$short" -lt 10 ]; then
	short=10
fi
read -r _ _ _ rss_short <<<"$(run_driver -b select-only -c 50 -j 2 -T "$short")"
read -r _ _ _ rss_long <<<"$(run_driver -b select-only -c 50 -j 2 -T "$LONG")"
rr=$(ratio "$rss_long" "$rss_short")
echo "peak RSS at -c 50: ${rss_short} kB after ${short} s, ${rss_long} kB after ${LONG} s"
summary="$summary$(verdict "peak RSS at -c 50: ${LONG} s run / ${short} s run" "$rr" "<=" 1.10)
"
echo
echo "  summary (median of $REPEAT rounds' ratios, runs alternating)"
printf "    %-58s %6s  %-8s %s\n" figure value goal verdict
printf "%s" "$summary"
