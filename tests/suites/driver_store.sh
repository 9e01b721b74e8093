#!/usr/bin/env bash
# driver_store.sh: "perfdriver run --store" and "perfdriver compare" against
# the throwaway cluster.
#
# Runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at the cluster
# (tests/run.sh sets them; by hand: scripts/pgcluster.sh start && eval
# "$(scripts/pgcluster.sh env)").  Needs the perfstore extension at 0.3.0 or
# later installed (make install).  Every test creates its own database
# (pd_store_*) and drops it at the end.  The last line of output is
# "N passed, N failed"; the exit status is non-zero on failure.
#
# What it shows:
#  1. a stored run reads back with the numbers of its JSON report;
#  2. the regression gate (--baseline last:5 --fail-on-regression) flags a
#     slower candidate (exit 3, JUnit failure) and passes an equal one;
#  3. two drivers in one run group merge: transactions add up and the
#     group's p95 is the quantile of the combined sketches;
#  4. an unreachable store or a store session killed mid-write gives exit
#     4, the JSON report, and no rows at all.
# No assertion depends on wall-clock time; the gate's settings leave wide
# margins (see test 2).
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PD="$ROOT/driver/perfdriver"
TMP=$(mktemp -d /tmp/pd_store.XXXXXX)
DBS=(pd_store_back pd_store_gate pd_store_group pd_store_fail pd_store_cmp)
locker_pid=
cleanup() {
	if [ -n "$locker_pid" ]; then
		kill "$locker_pid" 2>/dev/null
	fi
	for db in "${DBS[@]}"; do
		dropdb --if-exists --force "$db" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# newdb NAME: a fresh database with the extension
newdb() {
	dropdb --if-exists --force "$1" >/dev/null 2>&1
	createdb "$1" && psql -X -q -d "$1" -c "CREATE EXTENSION perfstore" >/dev/null
}

psqlv() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	finish
fi

# --- 0. the extension has the store functions -------------------------------
newdb pd_store_back
ver=$(psqlv -d pd_store_back -c "SELECT extversion FROM pg_extension WHERE extname = 'perfstore'")
if ! psqlv -d pd_store_back -c "SELECT 'perfstore.store_run(jsonb)'::regprocedure" >/dev/null 2>&1; then
	not_ok "the extension ($ver) has perfstore.store_run" "run make install"
	finish
fi
ok "the extension ($ver) has perfstore.store_run"

# --- 1. stored = JSON report ------------------------------------------------
# Two statements, one of which fails now and then (division by zero), so
# that errors and failed transactions are compared too.
cat >"$TMP/mix.sql" <<'EOF'
SELECT pg_sleep(0.001);
SELECT 1 / ((random() * 6)::int);
EOF
"$PD" run -d pd_store_back -f "$TMP/mix.sql" -c 3 -j 2 -t 150 -P 0.5 \
	--json "$TMP/back.json" --store pd_store_back --name readback \
	--label "branch=main" --label 'odd"key=a\b<c>' >"$TMP/back.out" 2>&1
rc=$?
check "stored run: exit 1 (the run had failed transactions)" test "$rc" -eq 1
check "stored run: prints its id" grep -qE '^stored: +run [0-9]+ as "readback"' "$TMP/back.out"
id=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/back.out")
psqlv -d pd_store_back -F ' ' -c "
	SELECT json_build_object(
		'run', (SELECT row_to_json(s) FROM perfstore.bench_run_summary s WHERE s.id = ${id:-0}),
		'errors', (SELECT errors FROM perfstore.bench_runs WHERE id = ${id:-0}),
		'labels', (SELECT labels FROM perfstore.bench_runs WHERE id = ${id:-0}),
		'intervals', (SELECT count(*) FROM perfstore.bench_intervals WHERE run_id = ${id:-0}),
		'interval_txns', (SELECT sum(transactions) FROM perfstore.bench_intervals WHERE run_id = ${id:-0}),
		'statements', (SELECT json_agg(row_to_json(s)) FROM perfstore.bench_statement_summary s
					   WHERE s.run_id = ${id:-0}))" >"$TMP/back.db.json" 2>"$TMP/back.db.err"
cmp_out=$(python3 - "$TMP/back.json" "$TMP/back.db.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
bad = []
def close(what, a, b):
    # the JSON report prints 6 decimals; the database has every digit
    if a is None or b is None:
        if a is not b:
            bad.append(f"{what}: report {a}, stored {b}")
    elif abs(a - b) > 2e-6 + 1e-9 * abs(b):
        bad.append(f"{what}: report {a}, stored {b}")
r = d["run"]
if r is None:
    print("no stored run"); sys.exit(1)
close("tps", j["tps"], r["tps"])
close("transactions", j["transactions"], r["transactions"])
close("failed", j["failed_transactions"], r["failed_transactions"])
for q in ("p50", "p95", "p99"):
    close(q, j["latency_ms"][q], r[q + "_ms"])
if j["errors"] != d["errors"]:
    bad.append(f"errors: report {j['errors']}, stored {d['errors']}")
if d["labels"] != {"branch": "main", 'odd"key': "a\\b<c>"}:
    bad.append(f"labels: {d['labels']}")
if d["intervals"] != len(j["intervals"]):
    bad.append(f"intervals: report {len(j['intervals'])}, stored {d['intervals']}")
if d["interval_txns"] != sum(i["transactions"] for i in j["intervals"]):
    bad.append("interval transactions differ")
stored = {s["fingerprint"]: s for s in d["statements"] or []}
if len(stored) != len(j["statements"]) or len(stored) != 2:
    bad.append(f"statements: report {len(j['statements'])}, stored {len(stored)}")
for s in j["statements"]:
    t = stored.get(s["fingerprint"])
    if t is None:
        bad.append(f"statement {s['query']} not stored"); continue
    close(s["query"] + " calls", s["calls"], t["calls"])
    close(s["query"] + " errors", s["errors"], t["errors"])
    for q in ("p50", "p95", "p99"):
        close(s["query"] + " " + q, s["latency_ms"][q], t[q + "_ms"])
if j["errors"] == {} or j["failed_transactions"] == 0:
    bad.append("the run had no errors to compare")
print("\n".join(bad) if bad else "same")
EOF
)
check "stored run: tps, transactions, errors, p50/p95/p99 overall and per statement equal the JSON report" \
	test "$cmp_out" = "same"
[ "$cmp_out" = "same" ] || { echo "    $cmp_out" | head -n 12; cat "$TMP/back.db.err"; }
check "stored run: the JSON report names the run and carries its sketch" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["name"] == "readback" and j["latency_sketch"].startswith("{") and all("latency_sketch" in i and "started_at" in i for i in j["intervals"])))' "$TMP/back.json"
check "stored run: without --store the JSON report has no sketches" \
	bash -c '"$1" run -d pd_store_back -f "$2" -t 5 --json "$3" >/dev/null 2>&1; ! grep -q latency_sketch "$3"' _ "$PD" "$TMP/mix.sql" "$TMP/plain.json"
check "run: --baseline without --store is a usage error (exit 2)" \
	bash -c '"$1" run -d pd_store_back -t 1 --baseline last:3 >/dev/null 2>&1; test $? -eq 2' _ "$PD"
check "run: a malformed --label is a usage error (exit 2)" \
	bash -c '"$1" run -d pd_store_back -t 1 --store pd_store_back --label novalue >/dev/null 2>&1; test $? -eq 2' _ "$PD"

# --- 2. the regression gate -------------------------------------------------
# Baseline: five runs of pg_sleep(2 ms); candidates: 2 ms again, and 3 ms
# (pg_sleep rounds up to the timer: +45% to +90% in p50).  Each run has 600
# transactions from one client.  The gate counts p50 only
# (--gate-metrics p50_ms): on this shared 2-core machine a burst of load
# from elsewhere during one run has moved an equal run's p95, p99 and TPS
# by several hundred percent, while p50 moved by less than 10%.  The
# threshold, 35%, sits between that noise and the slow candidate's change.
# The table still shows every metric's verdict.
newdb pd_store_gate
echo 'SELECT pg_sleep(0.002);' >"$TMP/sleep2.sql"
echo 'SELECT pg_sleep(0.003);' >"$TMP/sleep3.sql"
gate_ok=1
for i in 1 2 3 4 5; do
	"$PD" run -d pd_store_gate -f "$TMP/sleep2.sql" -c 1 -t 600 --store pd_store_gate \
		--name gate >"$TMP/base$i.out" 2>&1 || gate_ok=0
done
check "gate: five baseline runs stored" test "$gate_ok" -eq 1
# the equal candidate first, so that the baseline is the five 2 ms runs
cp "$TMP/sleep2.sql" "$TMP/sleep.sql"
"$PD" run -d pd_store_gate -f "$TMP/sleep.sql" -c 1 -t 600 --store pd_store_gate --name gate \
	--baseline last:5 --fail-on-regression 35 --gate-metrics p50_ms --junit "$TMP/same.xml" >"$TMP/same.out" 2>&1
rc=$?
check "gate: another 2 ms run is not flagged (exit 0)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || sed -n '/^comparison/,$p' "$TMP/same.out"
check "gate: its JUnit file has no failure" \
	python3 -c 'import sys, xml.etree.ElementTree as ET; t=ET.parse(sys.argv[1]).getroot(); sys.exit(not (t.get("failures") == "0" and len(t.findall(".//testcase")) == 2))' "$TMP/same.xml"
# then the slow one (its last five are all 2 ms runs)
cp "$TMP/sleep3.sql" "$TMP/sleep.sql"
"$PD" run -d pd_store_gate -f "$TMP/sleep.sql" -c 1 -t 600 --store pd_store_gate --name gate \
	--baseline last:5 --fail-on-regression 35 --gate-metrics p50_ms --junit "$TMP/slow.xml" >"$TMP/slow.out" 2>&1
rc=$?
check "gate: a 3 ms candidate is flagged (exit 3)" test "$rc" -eq 3
[ "$rc" -eq 3 ] || sed -n '/^comparison/,$p' "$TMP/slow.out"
check "gate: the comparison table shows a regression" grep -qE '^  p50_ms .* regression +\(whole run\)' "$TMP/slow.out"
check "gate: JUnit file has a failure for the statement" \
	python3 -c '
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]).getroot()
cases = t.findall(".//testcase")
names = [c.get("name") for c in cases]
failed = [c.get("name") for c in cases if c.find("failure") is not None]
sys.exit(not ("run" in names and "SELECT pg_sleep($1)" in failed and "run" in failed
              and t.get("failures") == str(len(failed)) and "p50_ms" in t.find(".//failure").get("message")))' "$TMP/slow.xml"
# the same comparisons through "perfdriver compare"
slow_id=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/slow.out")
same_id=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/same.out")
"$PD" compare --store pd_store_gate "${same_id:-0}" "${slow_id:-0}" --threshold 35 \
	--json "$TMP/cmp.json" --junit "$TMP/cmp.xml" >"$TMP/cmp.out" 2>&1
rc=$?
check "compare: two runs, the slower as candidate: exit 3" test "$rc" -eq 3
check "compare: --json lists the regressions" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["regressions"] > 0 and any(r["verdict"] == "regression" and r["metric"] == "p50_ms" for r in j["rows"])))' "$TMP/cmp.json"
"$PD" compare --store pd_store_gate --history 5 "${slow_id:-0}" >"$TMP/hist.out" 2>&1
check "compare --history 5: exit 3 for the slow run" test $? -eq 3
"$PD" compare --store pd_store_gate "${slow_id:-0}" "${same_id:-0}" --threshold 35 \
	--json "$TMP/cmp2.json" >"$TMP/cmp2.out" 2>&1
check "compare: the faster as candidate improves p50" \
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v={r["metric"]: r["verdict"] for r in j["rows"] if r["scope"] == "run"}; sys.exit(not (v["p50_ms"] == "improvement"))' "$TMP/cmp2.json"
"$PD" compare --store pd_store_gate 1 999999 >"$TMP/unknown.out" 2>&1
rc=$?
check "compare: an unknown run is exit 2 with the server's message" \
	bash -c 'test "$1" -eq 2 && grep -q "perfdriver: error: could not compare: .*999999" "$2"' _ "$rc" "$TMP/unknown.out"
"$PD" compare --store pd_store_gate 1 >"$TMP/usage.out" 2>&1
check "compare: one run id without --history is exit 2" test $? -eq 2

# --- 3. two drivers in one run group ----------------------------------------
newdb pd_store_group
"$PD" run -d pd_store_group -f "$TMP/sleep2.sql" -c 2 -t 200 --json "$TMP/g1.json" \
	--store pd_store_group --name grp --run-group g1 --label driver=a >"$TMP/g1.out" 2>&1 &
p1=$!
"$PD" run -d pd_store_group -f "$TMP/sleep3.sql" -c 1 -t 300 --json "$TMP/g2.json" \
	--store pd_store_group --name grp --run-group g1 --label driver=b >"$TMP/g2.out" 2>&1 &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
check "group: both drivers exit 0" test "$r1$r2" = "00"
id1=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/g1.out")
id2=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/g2.out")
check "group: both drivers stored into the same run" test -n "$id1" -a "$id1" = "$id2"
s1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_sketch"])' "$TMP/g1.json")
s2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["latency_sketch"])' "$TMP/g2.json")
t1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transactions"])' "$TMP/g1.json")
t2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["transactions"])' "$TMP/g2.json")
res=$(psqlv -d pd_store_group -v s1="$s1" -v s2="$s2" -F ' ' <<EOF
SELECT r.transactions, r.drivers,
       s.p95_ms = perfstore.quantile(perfstore.sketch_combine(:'s1'::perfstore.sketch, :'s2'::perfstore.sketch), 0.95),
       s.p50_ms = perfstore.quantile(perfstore.sketch_combine(:'s1'::perfstore.sketch, :'s2'::perfstore.sketch), 0.5),
       (SELECT sum(calls) FROM perfstore.bench_statements WHERE run_id = r.id)
FROM perfstore.bench_runs r JOIN perfstore.bench_run_summary s USING (id)
WHERE r.name = 'grp' AND r.run_group = 'g1';
EOF
)
read -r g_txns g_drivers g_p95 g_p50 g_calls <<<"$res"
check "group: transactions add up ($t1 + $t2 = ${g_txns:-?})" test "${g_txns:-x}" = "$((t1 + t2))"
check "group: two drivers merged" test "${g_drivers:-x}" = 2
check "group: stored p95 = quantile(sketch_combine(driver sketches), 0.95)" test "${g_p95:-x}" = t
check "group: stored p50 = quantile(sketch_combine(driver sketches), 0.5)" test "${g_p50:-x}" = t
check "group: statement calls add up (two scripts, two statements: $g_calls)" test "${g_calls:-x}" = "$((t1 + t2))"

# --- 4. the store fails -----------------------------------------------------
newdb pd_store_fail
rm -f "$TMP/f1.json"
"$PD" run -d pd_store_fail -f "$TMP/sleep2.sql" -t 20 --json "$TMP/f1.json" \
	--store "host=$PGHOST port=1 dbname=pd_store_fail password=Sekrit-Pw-123" --name fail1 \
	>"$TMP/f1.out" 2>&1
rc=$?
check "unreachable store: exit 4" test "$rc" -eq 4
check "unreachable store: \"could not store the run\" with libpq's message" \
	grep -qE '^perfdriver: error: could not store the run: .*(failed|refused|No such file)' "$TMP/f1.out"
check "unreachable store: the password is not printed" bash -c '! grep -q Sekrit "$1"' _ "$TMP/f1.out"
check "unreachable store: the JSON report exists" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["transactions"] != 20)' "$TMP/f1.json"
check "unreachable store: no run row" test "$(psqlv -d pd_store_fail -c "SELECT count(*) FROM perfstore.bench_runs")" = 0
"$PD" run -d pd_store_fail -f "$TMP/sleep2.sql" -t 2 \
	--store "host=$PGHOST port=1 password=Sekrit-Pw-123 bogus" >"$TMP/f2.out" 2>&1
rc=$?
check "malformed store conninfo: exit 4, password scrubbed" \
	bash -c 'test "$1" -eq 4 && grep -q "could not store the run" "$2" && ! grep -q Sekrit "$2"' _ "$rc" "$TMP/f2.out"

# Killed mid-write: a session holds an exclusive lock on nplus1_findings,
# which store_run() writes last, so the store session waits after it has
# written bench_runs, bench_statements and bench_intervals (uncommitted).
# The test kills it there.
PGAPPNAME=pd_store_locker psql -X -q -d pd_store_fail \
	-c "BEGIN" -c "LOCK TABLE perfstore.nplus1_findings IN ACCESS EXCLUSIVE MODE" \
	-c "SELECT pg_sleep(300)" >/dev/null 2>&1 &
locker_pid=$!
for _ in $(seq 1 300); do
	n=$(psqlv -d pd_store_fail -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pd_store_locker' AND wait_event = 'PgSleep'")
	[ "$n" = 1 ] && break
	sleep 0.1
done
rm -f "$TMP/f3.json"
"$PD" run -d pd_store_fail -f "$TMP/sleep2.sql" -c 2 -t 50 -P 0.2 --json "$TMP/f3.json" \
	--store pd_store_fail --name fail2 >"$TMP/f3.out" 2>&1 &
drv=$!
store_pid=
for _ in $(seq 1 600); do
	store_pid=$(psqlv -d pd_store_fail -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'perfdriver store' AND wait_event_type = 'Lock'")
	[ -n "$store_pid" ] && break
	sleep 0.1
done
check "mid-write: the store session waits inside store_run" test -n "$store_pid"
wrote=$(psqlv -d pd_store_fail -c "
	SELECT count(DISTINCT relation::regclass) FROM pg_locks
	WHERE pid = ${store_pid:-0} AND mode = 'RowExclusiveLock' AND granted
	  AND relation IN ('perfstore.bench_runs'::regclass, 'perfstore.bench_statements'::regclass,
					   'perfstore.bench_intervals'::regclass)")
check "mid-write: it has already written bench_runs, bench_statements, bench_intervals" test "$wrote" = 3
psqlv -d pd_store_fail -c "SELECT pg_terminate_backend(${store_pid:-0})" >/dev/null
wait $drv
rc=$?
psqlv -d pd_store_fail -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pd_store_locker'" >/dev/null
wait "$locker_pid" 2>/dev/null
locker_pid=
check "mid-write: exit 4" test "$rc" -eq 4
check "mid-write: \"could not store the run\" with libpq's message" \
	grep -qE '^perfdriver: error: could not store the run: .*(terminat|closed the connection)' "$TMP/f3.out"
grep -qE '^perfdriver: error: could not store the run: .*(terminat|closed the connection)' "$TMP/f3.out" ||
	grep -A2 'error' "$TMP/f3.out" | sed 's/^/    /'
check "mid-write: the JSON report exists" python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["transactions"] != 100)' "$TMP/f3.json"
left=$(psqlv -d pd_store_fail -c "SELECT (SELECT count(*) FROM perfstore.bench_runs) + (SELECT count(*) FROM perfstore.bench_statements) + (SELECT count(*) FROM perfstore.bench_intervals) + (SELECT count(*) FROM perfstore.nplus1_findings)")
check "mid-write: no rows in any bench_* table" test "$left" = 0
# the JSON report is the document: storing it by hand afterwards works
echo "SELECT perfstore.store_run(:'doc'::jsonb)" |
	psqlv -d pd_store_fail -v doc="$(cat "$TMP/f3.json")" >"$TMP/by_hand.out" 2>&1 ||
	cat "$TMP/by_hand.out"
check "mid-write: the JSON report can be stored afterwards" \
	test "$(psqlv -d pd_store_fail -c "SELECT transactions FROM perfstore.bench_runs WHERE name = 'fail2'")" = 100

finish
