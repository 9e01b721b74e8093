#!/usr/bin/env bash
# sketch_bench.sh: the quantile sketch against its anchors, side by side in
# one run, on 10M lognormal float8 rows (median of BENCH_REPEAT runs each,
# measured in rounds so that every query sees the same machine noise).
#
# Anchors: avg(v) (the floor: a scan plus one call per row),
# percentile_cont(0.95) and tdigest_percentile(v, 100, 0.95).  Every query
# runs with work_mem = 1GB, so that percentile_cont sorts in memory (its
# fastest); percentile_cont runs again with PostgreSQL's default 4MB, where
# its sort spills, and both ratios are reported.
#
# Reports, then summarises with a goal and PASS/FAIL per figure:
#   - time ratios, one process: approx_percentile / avg, percentile_cont /
#     approx_percentile, tdigest / approx_percentile, approx_percentiles with
#     three quantiles / approx_percentile;
#   - the speed-up of 2 parallel workers for approx_percentile and for avg;
#   - relative errors of approx_percentile and tdigest against the exact
#     percentile_disc at p50, p95, p99 (one table);
#   - peak memory of a GROUP BY over 100,000 groups (see peak_mem below);
#   - many small groups: sketch_agg against avg over 100,000 groups of 50
#     values, at both work_mem settings, and the bytes per group;
#   - the codecs (reported, no goal): reading 100,000 packed sketches of 50
#     values (quantile), writing them as text (sketch_out) and reading that
#     text back (sketch_in, which packs).
#
#   BENCH_REPEAT=5  BENCH_SKETCH_ROWS=10000000  bench/sketch_bench.sh
# Needs the server on this host (it reads /proc/<backend pid>/status).
set -euo pipefail
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
# A database of its own: the extension there is recreated at the installed
# default version when it is older, which nothing else depends on.
BENCH_DB=${BENCH_SKETCH_DB:-perfstore_bench_sketch}
. "$ROOT/bench/lib.sh"
ROWS=${BENCH_SKETCH_ROWS:-10000000}
REPEAT=${BENCH_REPEAT:-5}
NGROUPS=100000
if [ "$REPEAT" -lt 3 ]; then
	REPEAT=3					# medians of fewer runs mean little here
fi

ensure_bench_db
bpsql <<SQL
SET client_min_messages = warning;
DO \$\$
BEGIN
	IF (SELECT extversion FROM pg_extension WHERE extname = 'perfstore') IS DISTINCT FROM
	   (SELECT default_version FROM pg_available_extensions WHERE name = 'perfstore') THEN
		DROP EXTENSION IF EXISTS perfstore;
		CREATE EXTENSION perfstore;
	END IF;
END
\$\$;
CREATE EXTENSION IF NOT EXISTS tdigest;
SQL
# The table is tagged with what generated it (reltuples is only an estimate).
tag="sketch_bench rows=$ROWS groups=$NGROUPS seed=0.42 v1"
have=$(bpsql -c "SELECT coalesce(obj_description(to_regclass('sketch_bench_data'), 'pg_class'), '')")
if [ "$have" != "$tag" ]; then
	echo "generating $ROWS lognormal rows..."
	bpsql <<SQL
DROP TABLE IF EXISTS sketch_bench_data;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE sketch_bench_data AS
	SELECT (i % $NGROUPS)::int AS g,
		   exp(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) * 0.8 + 1.5) AS v
	FROM generate_series(1, $ROWS) AS i;
VACUUM ANALYZE sketch_bench_data;
COMMENT ON TABLE sketch_bench_data IS '$tag';
SQL
fi

serial="SET max_parallel_workers_per_gather = 0; SET work_mem = '1GB';"
# percentile_cont also with PostgreSQL's default work_mem, where its sort of
# 10M values spills to disk: the setting most servers run with
pgdefault="SET max_parallel_workers_per_gather = 0; SET work_mem = '4MB';"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET work_mem = '1GB';"
declare -A Q=(
	[avg]="SELECT avg(v) FROM sketch_bench_data"
	[approx]="SELECT perfstore.approx_percentile(v, 0.95) FROM sketch_bench_data"
	[approx3]="SELECT perfstore.approx_percentiles(v, '{.5,.95,.99}') FROM sketch_bench_data"
	[sketch]="SELECT perfstore.quantile(perfstore.sketch_agg(v), 0.95) FROM sketch_bench_data"
	[cont]="SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY v) FROM sketch_bench_data"
	[tdigest]="SELECT tdigest_percentile(v, 100, 0.95) FROM sketch_bench_data"
)
order=(avg approx approx3 sketch cont tdigest)
porder=(avg approx tdigest)
declare -A T PT
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Each round is one session per setting (see session_ms in lib.sh), every
# query once; a first, shorter round only warms the cache.
BENCH_SESSION_WARM="SELECT perfstore.approx_percentile(1.0, 0.5), tdigest_percentile(1.0, 100, 0.5);"
export BENCH_SESSION_WARM
run_round() {	# SETTING KEY...: append each query's time to $tmp/PREFIX$KEY
	local setting=$1 prefix=$2 k i=0 ms
	shift 2
	local qs=()
	for k in "$@"; do qs+=("${Q[$k]}"); done
	mapfile -t ms < <(session_ms "$setting" "${qs[@]}")
	if [ "${#ms[@]}" -ne "$#" ]; then
		echo "sketch_bench: a timed query failed" >&2
		exit 1
	fi
	for k in "$@"; do
		echo "${ms[$i]}" >>"$tmp/$prefix$k"
		i=$((i + 1))
	done
}
run_round "$serial" "warm_" avg approx
for ((r = 1; r <= REPEAT; r++)); do
	run_round "$serial" "" "${order[@]}"
	run_round "$parallel" "p_" "${porder[@]}"
	run_round "$pgdefault" "d_" cont
done
for k in "${order[@]}"; do T[$k]=$(median <"$tmp/$k"); done
for k in "${porder[@]}"; do PT[$k]=$(median <"$tmp/p_$k"); done
T[cont_default]=$(median <"$tmp/d_cont")
workers=$(bpsql -c "$parallel" -c "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) ${Q[approx]}" |
	awk '/Workers Launched/ {print $3; exit}')

printf 'sketch: %s lognormal float8 rows, one process, median of %s (ms)\n' "$ROWS" "$REPEAT"
printf '  %-44s %10s  %s\n' "query" "ms" "ratio"
printf '  %-44s %10.1f  %s\n' "avg(v)  [floor]" "${T[avg]}" "1.00"
printf '  %-44s %10.1f  %s x avg\n' "approx_percentile(v, 0.95)" "${T[approx]}" "$(ratio "${T[approx]}" "${T[avg]}")"
printf '  %-44s %10.1f  %s x approx_percentile\n' "approx_percentiles(v, '{.5,.95,.99}')" "${T[approx3]}" "$(ratio "${T[approx3]}" "${T[approx]}")"
printf '  %-44s %10.1f  %s x avg\n' "quantile(sketch_agg(v), 0.95)" "${T[sketch]}" "$(ratio "${T[sketch]}" "${T[avg]}")"
printf '  %-44s %10.1f  %s x approx_percentile\n' "percentile_cont(0.95)" "${T[cont]}" "$(ratio "${T[cont]}" "${T[approx]}")"
printf '  %-44s %10.1f  %s x approx_percentile\n' "percentile_cont(0.95), work_mem 4MB" "${T[cont_default]}" "$(ratio "${T[cont_default]}" "${T[approx]}")"
printf '  %-44s %10.1f  %s x approx_percentile\n' "tdigest_percentile(v, 100, 0.95)" "${T[tdigest]}" "$(ratio "${T[tdigest]}" "${T[approx]}")"
printf '  with 2 parallel workers (%s launched; ms, speed-up over one process):\n' "${workers:-?}"
for k in "${porder[@]}"; do
	case $k in
		avg) name="avg(v)" ;;
		approx) name="approx_percentile(v, 0.95)" ;;
		tdigest) name="tdigest_percentile(v, 100, 0.95)" ;;
	esac
	printf '  %-44s %10.1f  %s x\n' "$name" "${PT[$k]}" "$(ratio "${T[$k]}" "${PT[$k]}")"
done

# Relative errors against the exact percentile_disc, one scan for the
# estimates and one sort for the exact values.
echo "  relative error against exact percentile_disc (%):"
bpsql -F ' ' <<'SQL' >"$tmp/err"
SET max_parallel_workers_per_gather = 0;
SET work_mem = '1GB';
WITH est AS (
	SELECT perfstore.approx_percentile(v, 0.5) AS a50,
		   perfstore.approx_percentile(v, 0.95) AS a95,
		   perfstore.approx_percentile(v, 0.99) AS a99,
		   tdigest_percentile(v, 100, 0.5) AS t50,
		   tdigest_percentile(v, 100, 0.95) AS t95,
		   tdigest_percentile(v, 100, 0.99) AS t99,
		   percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY v) AS e
	FROM sketch_bench_data)
SELECT x.q, x.ex, 100 * abs(x.a - x.ex) / x.ex, 100 * abs(x.t - x.ex) / x.ex
FROM est, LATERAL (VALUES ('p50', est.e[1], a50, t50), ('p95', est.e[2], a95, t95),
						  ('p99', est.e[3], a99, t99)) AS x(q, ex, a, t);
SQL
printf '    %-5s %14s %18s %18s\n' "q" "exact" "approx_percentile" "tdigest(100)"
awk '{printf "    %-5s %14.6g %17.4f%% %17.4f%%\n", $1, $2, $3, $4}' "$tmp/err"
maxerr=$(awk 'BEGIN {m = 0} {if ($3 > m) m = $3} END {printf "%.4f", m}' "$tmp/err")

# Peak memory of a GROUP BY over $NGROUPS groups.  The measure is the growth of
# the backend's private memory: RssAnon of /proc/<pid>/status, sampled every
# 20 ms during the query, minus its value just before.  VmHWM would be the
# kernel's own peak, but it also counts the shared buffers the scan touches,
# which are the same for every aggregate and not the aggregate's cost.  The
# sketch and tdigest run as a hash aggregate (sorting is disabled); the
# ordered-set percentile_cont can only run sorted, so its figure includes
# the sort it needs.  One process, work_mem = 1GB so nothing spills.
peak_mem() {
	local setting=$1 query=$2 pid base peak v k rest client
	rm -f "$tmp/pid" "$tmp/plan"
	{
		printf 'SELECT pg_backend_pid() \\g %s\n' "$tmp/pid"
		printf 'SELECT pg_sleep(0.3);\n%s\n' "$setting"
		printf 'EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) %s \\g %s\n' "$query" "$tmp/plan"
	} | bpsql >/dev/null &
	client=$!
	while [ ! -s "$tmp/pid" ] && kill -0 "$client" 2>/dev/null; do sleep 0.01; done
	pid=$(cat "$tmp/pid" 2>/dev/null || true)
	base=""
	peak=0
	while [ -n "$pid" ] && kill -0 "$client" 2>/dev/null; do
		v=""
		while read -r k rest; do
			if [ "$k" = "RssAnon:" ]; then
				v=${rest%% *}
				break
			fi
		done <"/proc/$pid/status" 2>/dev/null || break
		[ -n "$v" ] || break
		[ -n "$base" ] || base=$v
		[ "$v" -gt "$peak" ] && peak=$v
		sleep 0.02
	done
	wait "$client"
	printf '%s %s %s\n' "$(( (peak - ${base:-0}) / 1024 ))" \
		"$(awk '/Execution Time/ {print $3}' "$tmp/plan")" \
		"$(grep -m1 -oE '(HashAggregate|GroupAggregate|MixedAggregate)' "$tmp/plan" || echo '?')"
}

echo "  GROUP BY over $NGROUPS groups ($((ROWS / NGROUPS)) rows each), one process:"
printf '    %-40s %12s %10s  %s\n' "aggregate" "peak MB" "ms" "plan"
hash="$serial SET enable_sort = off;"
declare -A M
for agg in "avg(v)" "perfstore.sketch_agg(v)" "perfstore.approx_percentile(v, 0.95)" \
		   "tdigest(v, 100)" "tdigest_percentile(v, 100, 0.95)" \
		   "percentile_cont(0.95) WITHIN GROUP (ORDER BY v)"; do
	case $agg in
		percentile_cont*) set -- "$serial" ;;
		*) set -- "$hash" ;;
	esac
	read -r mb ms plan < <(peak_mem "$1" "SELECT g, $agg FROM sketch_bench_data GROUP BY g")
	M[$agg]=$mb
	printf '    %-40s %12s %10.1f  %s\n' "$agg" "$mb" "$ms" "$plan"
done

# Many small groups, the rollup pattern: $NGROUPS groups of $SMALL values
# each (a sketch per series per minute).  Server execution times (EXPLAIN
# ANALYZE, no timing per row; the final function, which packs each sketch,
# included; no output), in rounds against avg(v), at work_mem 1GB (one hash
# table in memory) and 4MB (PostgreSQL's default: the hash table spills),
# and the bytes per group of the in-memory hash table (its Memory Usage at
# 1GB: keys, states and all).
SMALL=50
stag="sketch_bench groups=$NGROUPS values=$SMALL seed=0.42 v1"
have=$(bpsql -c "SELECT coalesce(obj_description(to_regclass('sketch_bench_groups'), 'pg_class'), '')")
if [ "$have" != "$stag" ]; then
	echo "generating $((NGROUPS * SMALL)) lognormal rows in $NGROUPS groups..."
	bpsql <<SQL
DROP TABLE IF EXISTS sketch_bench_groups;
SELECT setseed(0.42);
CREATE UNLOGGED TABLE sketch_bench_groups AS
	SELECT (i % $NGROUPS)::int AS g,
		   exp(sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) * 0.8 + 1.5) AS v
	FROM generate_series(1, $NGROUPS * $SMALL) AS i;
VACUUM ANALYZE sketch_bench_groups;
COMMENT ON TABLE sketch_bench_groups IS '$stag';
SQL
fi
groups_round() {	# WORK_MEM: one EXPLAIN ANALYZE each of avg and sketch_agg
	{
		printf "SET max_parallel_workers_per_gather = 0; SET work_mem = '%s';\n" "$1"
		printf '%s\n' "$BENCH_SESSION_WARM"
		for agg in "avg(v)" "perfstore.sketch_agg(v)"; do
			printf 'EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) SELECT g, %s FROM sketch_bench_groups GROUP BY g;\n' "$agg"
		done
	} | bpsql | awk -v dir="$tmp" -v wm="$1" '
		/Memory Usage/ { for (i = 1; i <= NF; i++) if ($i == "Usage:") mem = $(i + 1) }
		/Aggregate/ && plan == "" { plan = $1 }
		/Disk Usage|Disk: / { spill = ", spills" }
		/Execution Time/ { n++; name = (n == 1) ? "avg" : "sketch";
			print $3 >> (dir "/g_" wm "_" name);
			sub(/kB/, "", mem); print mem > (dir "/gmem_" wm "_" name);
			print plan spill > (dir "/gplan_" wm "_" name); mem = ""; plan = ""; spill = "" }'
}
for ((r = 1; r <= REPEAT; r++)); do
	groups_round 1GB
	groups_round 4MB
done
echo "  GROUP BY over $NGROUPS groups of $SMALL values, execution ms (median of $REPEAT):"
printf '    %-10s %12s %12s %8s %14s %14s\n' "work_mem" "avg(v)" "sketch_agg" "ratio" "avg B/group" "sketch B/group"
declare -A GR GB
for wm in 1GB 4MB; do
	ga=$(median <"$tmp/g_${wm}_avg")
	gs=$(median <"$tmp/g_${wm}_sketch")
	GR[$wm]=$(ratio "$gs" "$ga")
	ma=$(cat "$tmp/gmem_${wm}_avg")
	ms=$(cat "$tmp/gmem_${wm}_sketch")
	GB[$wm]=$(awk -v m="$ms" -v n="$NGROUPS" 'BEGIN {if (m == "") print "nan"; else printf "%.0f", m * 1024 / n}')
	plan=$(cat "$tmp/gplan_${wm}_sketch")
	printf '    %-10s %12.1f %12.1f %8s %14s %14s  %s\n' "$wm" "$ga" "$gs" "${GR[$wm]}" \
		"$(awk -v m="$ma" -v n="$NGROUPS" 'BEGIN {printf "%.0f", m * 1024 / n}')" \
		"${GB[$wm]}" "$plan"
done

# The codecs on the sketches of those groups: the packed decoder (quantile
# of each stored sketch), the text encoder (each one as text) and the text
# decoder with the packed encoder (the text read back into a sketch datum).
ctag="sketch_bench codec groups=$NGROUPS values=$SMALL seed=0.42 v1"
have=$(bpsql -c "SELECT coalesce(obj_description(to_regclass('sketch_bench_codec'), 'pg_class'), '')")
if [ "$have" != "$ctag" ]; then
	bpsql <<SQL
DROP TABLE IF EXISTS sketch_bench_codec;
CREATE UNLOGGED TABLE sketch_bench_codec AS
	SELECT g, s, s::text AS t
	FROM (SELECT g, perfstore.sketch_agg(v) AS s FROM sketch_bench_groups GROUP BY g) x;
VACUUM ANALYZE sketch_bench_codec;
COMMENT ON TABLE sketch_bench_codec IS '$ctag';
SQL
fi
declare -A CQ=(
	[unpack]="SELECT sum(perfstore.quantile(s, 0.95)) FROM sketch_bench_codec"
	[to_text]="SELECT sum(length(s::text)) FROM sketch_bench_codec"
	[from_text]="SELECT sum(octet_length(t::perfstore.sketch::bytea)) FROM sketch_bench_codec"
)
corder=(unpack to_text from_text)
for ((r = 1; r <= REPEAT; r++)); do
	qs=()
	for k in "${corder[@]}"; do qs+=("${CQ[$k]}"); done
	mapfile -t ms < <(session_ms "$serial" "${qs[@]}")
	if [ "${#ms[@]}" -ne "${#corder[@]}" ]; then
		echo "sketch_bench: a timed codec query failed" >&2
		exit 1
	fi
	for i in "${!corder[@]}"; do echo "${ms[$i]}" >>"$tmp/c_${corder[$i]}"; done
done
echo "  codecs over $NGROUPS sketches of $SMALL values, ms (median of $REPEAT):"
printf '    %-52s %10.1f\n' "packed -> quantile (sketch_unpack)" "$(median <"$tmp/c_unpack")"
printf '    %-52s %10.1f\n' "packed -> text (sketch_unpack, sketch_to_text)" "$(median <"$tmp/c_to_text")"
printf '    %-52s %10.1f\n' "text -> packed (sketch_from_text, sketch_pack)" "$(median <"$tmp/c_from_text")"

# the first 1M rows of the table: a synchronized scan would start where the
# last scan stopped, and take other rows each run
size=$(bpsql -c "SET synchronize_seqscans = off" \
	-c "SELECT octet_length(perfstore.sketch_agg(v)::bytea) FROM (SELECT v FROM sketch_bench_data LIMIT 1000000) t")
printf '  packed size of a sketch of 1M lognormal latencies at alpha 0.01: %s bytes\n' "$size"

# Summary: every goal of the benchmark, PASS or FAIL.
verdict() {	# value op goal
	awk -v v="$1" -v op="$2" -v g="$3" 'BEGIN {
		ok = (op == "<=") ? (v <= g) : (v >= g);
		print ok ? "PASS" : "FAIL" }'
}
r_avg=$(ratio "${T[approx]}" "${T[avg]}")
r_cont=$(ratio "${T[cont]}" "${T[approx]}")
r_cont_default=$(ratio "${T[cont_default]}" "${T[approx]}")
r_td=$(ratio "${T[tdigest]}" "${T[approx]}")
r_3=$(ratio "${T[approx3]}" "${T[approx]}")
su_avg=$(ratio "${T[avg]}" "${PT[avg]}")
su_approx=$(ratio "${T[approx]}" "${PT[approx]}")
r_su=$(ratio "$su_approx" "$su_avg")
r_mem_td=$(ratio "${M[tdigest(v, 100)]}" "${M[perfstore.sketch_agg(v)]}")
r_mem_cont=$(ratio "${M[percentile_cont(0.95) WITHIN GROUP (ORDER BY v)]}" "${M[perfstore.sketch_agg(v)]}")
echo
echo "  summary (medians of $REPEAT; ratios of times unless stated)"
printf '    %-52s %8s  %-8s %s\n' "figure" "value" "goal" "verdict"
row() { printf '    %-52s %8s  %-8s %s\n' "$1" "$2" "$3 $4" "$(verdict "$2" "$3" "$4")"; }
row "approx_percentile / avg" "$r_avg" "<=" 1.25
row "percentile_cont / approx_percentile (work_mem 1GB)" "$r_cont" ">=" 5
row "percentile_cont / approx_percentile (work_mem 4MB)" "$r_cont_default" ">=" 5
row "tdigest_percentile / approx_percentile" "$r_td" ">=" 2.5
row "approx_percentiles(3 q) / approx_percentile" "$r_3" "<=" 1.15
row "2-worker speed-up: approx_percentile / avg's" "$r_su" ">=" 0.85
row "max relative error of approx_percentile (%)" "$maxerr" "<=" 1
row "packed size, 1M lognormal (bytes)" "$size" "<=" 2048
row "GROUP BY $NGROUPS x $SMALL: sketch_agg / avg, work_mem 1GB" "${GR[1GB]}" "<=" 1.5
row "GROUP BY $NGROUPS x $SMALL: sketch_agg / avg, work_mem 4MB" "${GR[4MB]}" "<=" 1.5
row "GROUP BY $NGROUPS x $SMALL: bytes per group in memory" "${GB[1GB]}" "<=" 1024
printf '    %-52s %8s  %-8s %s\n' "GROUP BY peak memory: tdigest / sketch_agg" "$r_mem_td" "" "(report)"
printf '    %-52s %8s  %-8s %s\n' "GROUP BY peak memory: percentile_cont / sketch_agg" "$r_mem_cont" "" "(report)"
