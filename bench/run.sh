#!/usr/bin/env bash
# run.sh: run every benchmark (bench/*_bench.sh) against the throwaway
# cluster and print their reports.  Each benchmark measures its anchors in the
# same run and prints ratios; none of them fails on speed.
#
#   BENCH_ONLY=sketch bench/run.sh     run one benchmark
#   BENCH_REPEAT=5                     repetitions per measurement (median)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PERFSTORE_ROOT="$ROOT"
export BENCH_REPEAT=${BENCH_REPEAT:-5}

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

rc=0
for b in bench/*_bench.sh; do
	name=$(basename "$b" _bench.sh)
	if [ -n "${BENCH_ONLY:-}" ] && [[ ",$BENCH_ONLY," != *",$name,"* ]]; then
		continue
	fi
	echo "== bench: $name"
	"$b" || rc=1
	echo
done
exit $rc
