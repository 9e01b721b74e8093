#!/usr/bin/env bash
# driver_verdicts.sh: the verdicts a CI job reads from perfdriver: target
# assertions (--assert, exit 5), the regression gate's noise model on
# stored series, and the exit codes and their precedence.
#
# Runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at the cluster
# (tests/run.sh sets them).  Needs the perfstore extension installed (make
# install).  Every test database is pd_verdict_* and is dropped at the end.
# The last line of output is "N passed, N failed".
#
# What it shows:
#  1. run --assert: one line per assertion, exit 5 on a missed target (and 5
#     over 1), the JSON "assertions" list, JUnit testcases, the stored run
#     keeps its assertions, "no data" and "too few samples";
#  2. a malformed assertion is exit 2 and points where parsing stopped;
#  3. the gate on synthetic stored series (tests/verdicts/synth_runs.sql,
#     3% run-to-run noise): 20 unchanged runs against their last 5 give no
#     regression; the UPDATE's p95 +30% is caught and listed first; scope,
#     per-metric thresholds and improvements; a truthful header;
#  4. compare --assert (exit 5 over 3), exit 4's hint names the JSON file
#     only when one was written, -r is accepted, -R shortfall note;
#  5. the error policy (a script on a missing table: clients aborted, the
#     server log stays small; --continue-on-error backs off), and -l / -L
#     against pgbench's own log of the same script;
#  6. --confirm: a burst in one run is not confirmed by the rerun (exit 0),
#     a real regression is (exit 3).
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PD="$ROOT/driver/perfdriver"
TMP=$(mktemp -d /tmp/pd_verdict.XXXXXX)
DBS=(pd_verdict_run pd_verdict_syn)
cleanup() {
	for db in "${DBS[@]}"; do
		dropdb --if-exists --force "$db" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

newdb() {
	dropdb --if-exists --force "$1" >/dev/null 2>&1
	createdb "$1" && psql -X -q -d "$1" -c "CREATE EXTENSION perfstore" >/dev/null
}
psqlv() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"
}
# pyjson FILE EXPR: exit 0 when the Python expression on j (the JSON) is true
pyjson() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	finish
fi
newdb pd_verdict_run

# --- 1. run --assert ---------------------------------------------------------
cat >"$TMP/sleep.sql" <<'EOF'
SELECT pg_sleep(0.001);
SELECT count(*) FROM generate_series(1, 10) g WHERE g > 3;
EOF
"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -c 2 -t 100 -r \
	--assert 'p95<2s' --assert 'tps>0.5' --assert 'error_rate<1%' --assert 'failed<=0' \
	--assert 'script:sleep.sql.p50<1s' --assert 'statements.max<5s' \
	--json "$TMP/pass.json" --junit "$TMP/pass.xml" >"$TMP/pass.out" 2>&1
rc=$?
check "assert: every target met is exit 0 (and -r is accepted)" test "$rc" -eq 0
check "assert: one line per assertion with value and pass" \
	bash -c 'grep -qE "^  p95<2s +[0-9.]+ ms +pass$" "$1" && grep -qE "^  error_rate<1% +0\.00% +pass$" "$1" && grep -q "^  every target met$" "$1"' _ "$TMP/pass.out"
check "assert: JSON assertions list with its fields" pyjson "$TMP/pass.json" \
	'len(j["assertions"]) == 6 and all(set(a) >= {"expr","scope","metric","op","target","value","passed"} and a["passed"] is True for a in j["assertions"]) and j["assertions"][0] == {**j["assertions"][0], "expr": "p95<2s", "scope": "run", "metric": "p95", "op": "<", "target": 2000.0} and j["assertions"][4]["scope"] == "script:sleep.sql"'
check "assert: JUnit has one passing testcase per assertion" \
	python3 -c 'import sys, xml.etree.ElementTree as ET; t=ET.parse(sys.argv[1]).getroot(); c=t.findall(".//testcase"); sys.exit(not (t.get("tests") == "6" and t.get("failures") == "0" and [x.get("name") for x in c][0] == "p95<2s" and all(x.get("classname") == "perfdriver.default.assertions" for x in c)))' "$TMP/pass.xml"

"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -c 2 -t 100 \
	--assert 'p95<2s' --assert 'p50<1us' --assert 'statement:generate_series.p99<1s' \
	--assert 'statement:no_such_thing.p95<1s' \
	--json "$TMP/miss.json" --junit "$TMP/miss.xml" \
	--store pd_verdict_run --name asserted >"$TMP/miss.out" 2>&1
rc=$?
check "assert: a missed target is exit 5" test "$rc" -eq 5
check "assert: the miss prints FAIL with the measured value" \
	grep -qE "^  p50<1us +[0-9.]+ ms +FAIL$" "$TMP/miss.out"
check "assert: p99 over 200 calls is fine, over fewer than 100 is too few samples" \
	bash -c 'grep -qE "^  statement:generate_series.p99<1s +[0-9.]+ ms +pass \(SELECT count\(\*\) FROM generate_series\(\\\$1, \\\$2\) g WHERE g > \\\$3\)$" "$1"' _ "$TMP/miss.out"
check "assert: a scope without samples fails with no data" \
	grep -qE '^  statement:no_such_thing.p95<1s +no data \(no statement contains "no_such_thing"\) +FAIL$' "$TMP/miss.out"
check "assert: JUnit marks the two misses" \
	python3 -c 'import sys, xml.etree.ElementTree as ET; t=ET.parse(sys.argv[1]).getroot(); f=[c.get("name") for c in t.findall(".//testcase") if c.find("failure") is not None]; sys.exit(not (t.get("failures") == "2" and f == ["p50<1us", "statement:no_such_thing.p95<1s"]))' "$TMP/miss.xml"
id=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$TMP/miss.out")
stored=$(psqlv -d pd_verdict_run -c "SELECT jsonb_array_length(report->'assertions') || ' ' || (report->'assertions'->1->>'passed') || ' ' || (report->'assertions'->1->>'expr') FROM perfstore.bench_runs WHERE id = ${id:-0}")
check "assert: the stored run keeps its assertions in bench_runs.report" test "$stored" = "4 false p50<1us"

# 5 wins over 1 (failed transactions)
cat >"$TMP/div.sql" <<'EOF'
SELECT 1 / ((random() * 3)::int);
EOF
"$PD" run -d pd_verdict_run -f "$TMP/div.sql" -t 200 --continue-on-error --assert 'error_rate<0.001' >"$TMP/div.out" 2>&1
check "assert: a missed error_rate target with failed transactions is exit 5, not 1" test $? -eq 5
"$PD" run -d pd_verdict_run -f "$TMP/div.sql" -t 200 --continue-on-error --assert 'error_rate<100%' >"$TMP/div2.out" 2>&1
check "assert: met targets leave exit 1 for failed transactions" test $? -eq 1

# too few samples, and --assert-min-samples
"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -t 30 --assert 'p99<10s' >"$TMP/few.out" 2>&1
rc=$?
check "assert: p99 over 30 transactions fails with too few samples" \
	bash -c 'test "$1" -eq 5 && grep -qE "^  p99<10s +[0-9.]+ ms, too few samples \(30, p99 needs 100\) +FAIL$" "$2"' _ "$rc" "$TMP/few.out"
"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -t 30 --assert 'p99<10s' --assert-min-samples 30 >"$TMP/few2.out" 2>&1
check "assert: --assert-min-samples 30 accepts it" test $? -eq 0

# --- 2. malformed assertions: exit 2, where parsing stopped -----------------
"$PD" run -d pd_verdict_run -t 1 --assert 'p95<<50ms' >"$TMP/bad.out" 2>&1
rc=$?
check "assert: a malformed expression is exit 2" test "$rc" -eq 2
check "assert: the error names the position and shows a caret under it" \
	bash -c 'grep -qx "perfdriver: error: invalid --assert at character 5: expected a number" "$1" && grep -qx "  p95<<50ms" "$1" && grep -qx "      ^" "$1" && grep -q "^hint: An assertion reads" "$1"' _ "$TMP/bad.out"
"$PD" compare --store pd_verdict_run --assert 'tps>5%' 1 2 >"$TMP/bad2.out" 2>&1
check "compare: a malformed expression is exit 2 before the store is read" \
	bash -c 'test "$1" -eq 2 && grep -qx "perfdriver: error: invalid --assert at character 6: tps takes no unit, not \"%\"" "$2"' _ $? "$TMP/bad2.out"
"$PD" run -d pd_verdict_run -t 1 --threshold p95=10 >"$TMP/bad3.out" 2>&1
check "run: --threshold without --baseline is exit 2" \
	bash -c 'test "$1" -eq 2 && grep -q "perfdriver: error: --threshold needs --baseline" "$2"' _ $? "$TMP/bad3.out"
"$PD" compare --store pd_verdict_run --threshold p97=10 1 2 >"$TMP/bad4.out" 2>&1
check "compare: an unknown --threshold metric is exit 2" \
	bash -c 'test "$1" -eq 2 && grep -qx "perfdriver: error: invalid --threshold \"p97=10\": unrecognized metric \"p97\"" "$2"' _ $? "$TMP/bad4.out"

# --- 3. the gate on synthetic stored series ----------------------------------
newdb pd_verdict_syn
psqlv -d pd_verdict_syn >"$TMP/syn.ids" 2>"$TMP/syn.err" <<'EOF'
\i tests/verdicts/synth_runs.sql
SELECT setseed(0.25);
SELECT pg_temp.synth_run('syn', k, 0.03, 1) FROM generate_series(1, 25) k;
SELECT pg_temp.synth_run('syn', 26, 0.03, 1.3);
SELECT pg_temp.synth_run('few', k, 0.03, 1) FROM generate_series(1, 3) k;
SELECT pg_temp.synth_run('few', 4, 0.03, 1);
EOF
check "synthetic series stored (30 runs)" test "$(grep -c . "$TMP/syn.ids")" -eq 30
alarms=0
for id in $(seq 6 25); do
	"$PD" compare --store pd_verdict_syn --history 5 "$id" >"$TMP/rerun.out" 2>&1 || alarms=$((alarms + 1))
done
check "gate: 20 unchanged runs against their last 5: 0 false alarms" test "$alarms" -eq 0
"$PD" compare --store pd_verdict_syn --history 5 26 --json "$TMP/shift.json" >"$TMP/shift.out" 2>&1
rc=$?
check "gate: the UPDATE's p95 +30% is caught (exit 3)" test "$rc" -eq 3
check "gate: the header says against the median of 5 runs and shows their noise" \
	bash -c 'grep -qx "comparison: run 26 against the median of 5 runs named \"syn\"" "$1" && grep -qE "^baseline:   runs 25, 24, 23, 22, 21; run-to-run noise \(sd / median\): tps [0-9.]+% p50" "$1"' _ "$TMP/shift.out"
check "gate: the worst regression comes first" \
	bash -c 'sed -n "/^  metric /{n;p;q}" "$1" | grep -qE "^  p95_ms .* regression +\[1\] UPDATE"' _ "$TMP/shift.out"
check "gate: the statement is printed in full below the table" \
	grep -qx '  \[1\] UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2' "$TMP/shift.out"
check "gate: only the UPDATE's tail regressed; its p50 and the run did not" pyjson "$TMP/shift.json" \
	'sorted((r["scope"], r["metric"]) for r in j["rows"] if r["verdict"] == "regression") == [("statement","p95_ms"),("statement","p99_ms")] and j["regressions"] == 2 and j["baseline_runs"] == [25,24,23,22,21] and all("noise" in r and "severity" in r for r in j["rows"])'
"$PD" compare --store pd_verdict_syn --history 5 26 --gate-scope run >"$TMP/scope.out" 2>&1
check "gate: --gate-scope run ignores statement regressions (exit 0), still shows them" \
	bash -c 'test "$1" -eq 0 && grep -q " regression " "$2" && grep -q "no regression (counting the whole run only)" "$2"' _ $? "$TMP/scope.out"
"$PD" compare --store pd_verdict_syn --history 5 26 --threshold p95=40,p99=40 >"$TMP/thr.out" 2>&1
check "gate: per-metric thresholds (p95=40,p99=40) let +30% pass" \
	bash -c 'test "$1" -eq 0 && grep -q "^gate:       threshold tps 10.0%, p50 10.0%, p95 40.0%, p99 40.0%, error_rate 10.0%" "$2"' _ $? "$TMP/thr.out"
"$PD" compare --store pd_verdict_syn 26 25 >"$TMP/impr.out" 2>&1
check "gate: the reverse (an improvement) never fails" \
	bash -c 'test "$1" -eq 0 && grep -qE "^  p95_ms .* improvement +\[1\] UPDATE" "$2"' _ $? "$TMP/impr.out"
"$PD" compare --store pd_verdict_syn --history 5 30 >"$TMP/few.out" 2>&1
check "gate: with 3 earlier runs the header says 3, not 5" \
	bash -c 'test "$1" -eq 0 && grep -qx "comparison: run 30 against the median of 3 runs named \"few\" (5 asked for, 3 found)" "$2"' _ $? "$TMP/few.out"
"$PD" compare --store pd_verdict_syn --history 5 26 --assert 'statements.p95<5ms' >"$TMP/both.out" 2>&1
check "compare --assert: a missed target and a regression give exit 5 (5 over 3)" \
	bash -c 'test "$1" -eq 5 && grep -qE "^  statements.p95<5ms +6\.[0-9]+ ms +FAIL \(UPDATE" "$2"' _ $? "$TMP/both.out"
"$PD" compare --store pd_verdict_syn --history 5 25 --assert 'p95<50ms' --assert 'tps>500' --junit "$TMP/cmp.xml" >"$TMP/cmpok.out" 2>&1
check "compare --assert: met targets and no regression give exit 0" test $? -eq 0
check "compare --assert: JUnit has the comparison's cases and the assertions" \
	python3 -c 'import sys, xml.etree.ElementTree as ET; t=ET.parse(sys.argv[1]).getroot(); sys.exit(not (t.get("tests") == "5" and t.get("failures") == "0"))' "$TMP/cmp.xml"

# --- 4. exit 4's hint, -R note ------------------------------------------------
"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -t 5 --store "host=/nonexistent/socket dbname=x" --json "$TMP/s4.json" >"$TMP/s4.out" 2>&1
check "exit 4 with --json: the hint names the JSON file" \
	bash -c 'test "$1" -eq 4 && grep -q "^hint: .*the JSON report \"$3\" holds the whole run" "$2"' _ $? "$TMP/s4.out" "$TMP/s4.json"
"$PD" run -d pd_verdict_run -f "$TMP/sleep.sql" -t 5 --store "host=/nonexistent/socket dbname=x" >"$TMP/s4b.out" 2>&1
check "exit 4 without --json: the hint does not mention --json" \
	bash -c 'test "$1" -eq 4 && grep -q "^hint: The store was" "$2" && ! grep -qi "json" "$2"' _ $? "$TMP/s4b.out"
cat >"$TMP/slow.sql" <<'EOF'
SELECT pg_sleep(0.02);
EOF
"$PD" run -d pd_verdict_run -f "$TMP/slow.sql" -c 1 -R 500 -T 2 >"$TMP/rate.out" 2>&1
check "-R above capacity: a note says the achieved rate fell short" \
	grep -qE "^note: the achieved rate, [0-9.]+ tps, fell short of the target -R 500.0" "$TMP/rate.out"
"$PD" run -d pd_verdict_run -f "$TMP/slow.sql" -c 2 -R 5 -T 2 >"$TMP/rate2.out" 2>&1
check "-R within capacity: no note" bash -c '! grep -q "^note: the achieved rate" "$1"' _ "$TMP/rate2.out"

# --- 5. pgbench's habits: the error policy, -l and -L ------------------------
# A statement on a missing table fails on every call.  The server logs each
# error (about 170 bytes with its statement); before the policy one such run
# wrote 31 MB in 2 s.
echo 'SELECT * FROM pd_verdict_no_such_table;' >"$TMP/missing.sql"
srvlog=$(scripts/pgcluster.sh status 2>/dev/null | sed -n 's/.*, log //p')
logsize() { if [ -r "$srvlog" ]; then stat -c %s "$srvlog"; else echo 0; fi; }
s0=$(logsize)
"$PD" run -d pd_verdict_run -f "$TMP/missing.sql" -c 4 -T 2 --json "$TMP/abort.json" >"$TMP/abort.out" 2>&1
rc=$?
s1=$(logsize)
check "error policy: a non-retryable error aborts every client (exit 1, 4 aborted, 4 failed)" \
	bash -c 'test "$1" -eq 1 && python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j[\"aborted_clients\"] == 4 and j[\"failed_transactions\"] == 4 and j[\"duration_s\"] < 1.5))" "$2"' _ "$rc" "$TMP/abort.json"
check "error policy: the run ends when no client is left, each abort is printed" \
	test "$(grep -c 'aborted after a non-retryable error (SQLSTATE 42P01)' "$TMP/abort.out")" -eq 4
"$PD" run -d pd_verdict_run -f "$TMP/missing.sql" -c 4 -T 2 --continue-on-error --json "$TMP/cont.json" >"$TMP/cont.out" 2>&1
rc=$?
s2=$(logsize)
echo "    server log: $((s1 - s0)) bytes when aborting, $((s2 - s1)) bytes with --continue-on-error (2 s, 4 clients)"
if [ -r "$srvlog" ]; then
	check "error policy: the server log grew by less than 4 kB when aborting ($((s1 - s0)) bytes)" \
		test $((s1 - s0)) -lt 4096
	check "error policy: --continue-on-error backs off: less than 32 kB of server log in 2 s ($((s2 - s1)) bytes)" \
		test $((s2 - s1)) -lt 32768
else
	not_ok "error policy: the server log is readable" "no log at \"$srvlog\""
fi
check "error policy: --continue-on-error keeps all clients, at most 15 errors each in 2 s" \
	bash -c 'test "$1" -eq 1 && python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j[\"aborted_clients\"] == 0 and 8 <= j[\"errors\"][\"42P01\"] <= 60 and j[\"duration_s\"] >= 1.9))" "$2"' _ "$rc" "$TMP/cont.json"

# -l against pgbench's own log, on the same script
if command -v pgbench >/dev/null 2>&1; then
	echo 'SELECT 1;' >"$TMP/one.sql"
	echo 'SELECT pg_sleep(0.02);' >"$TMP/slow20.sql"
	mkdir -p "$TMP/logs"
	(cd "$TMP/logs" &&
		pgbench -n -f "$TMP/one.sql" -t 5 -c 2 -j 2 -l --log-prefix=pgb pd_verdict_run >/dev/null 2>&1 &&
		"$PD" run -d pd_verdict_run -f "$TMP/one.sql" -t 5 -c 2 -j 2 -l --log-prefix=pd >/dev/null 2>&1 &&
		pgbench -n -f "$TMP/slow20.sql" -T 1 -R 200 -L 5 -c 1 -l --log-prefix=pgbr --max-tries 2 pd_verdict_run >/dev/null 2>&1 &&
		"$PD" run -d pd_verdict_run -f "$TMP/slow20.sql" -T 1 -R 200 -L 5 -c 1 -l --log-prefix=pdr --max-tries 2 >"$TMP/pdr.out" 2>&1)
	check "-l: the same file names as pgbench (PREFIX.PID and PREFIX.PID.1 with -j 2)" \
		bash -c 'cd "$1" && ls pgb.* | sed -E "s/^pgb\.[0-9]+/X/" | sort >a && ls pd.* | sed -E "s/^pd\.[0-9]+/X/" | sort >b && cmp -s a b && test "$(tr "\n" " " <a)" = "X X.1 "' _ "$TMP/logs"
	cat >"$TMP/logshape.py" <<'PYEND'
import glob, os, sys
d, pa, pb, mode = sys.argv[1:5]
def rows(prefix):
    return [l.split() for f in sorted(glob.glob(os.path.join(d, prefix + ".*"))) for l in open(f)]
a, b = rows(pa), rows(pb)
if mode == "plain":
    # client_id transaction_no time script_no time_epoch time_us, numbered from 1
    def ok(rs):
        by = {}
        for r in rs:
            by.setdefault(r[0], []).append(r[1])
        return (sorted(by) == ["0", "1"] and all(v == ["1", "2", "3", "4", "5"] for v in by.values())
                and all(len(r) == 6 and all(x.isdigit() for x in r) and len(r[5]) <= 6 for r in rs))
    good = ok(a) and ok(b) and abs(int(a[0][4]) - int(b[0][4])) < 120
else:
    # ... schedule_lag retries, and "skipped" in the time field
    def ok(rs):
        return (len(rs) > 20 and all(len(r) == 8 for r in rs)
                and any(r[2] == "skipped" for r in rs)
                and all(r[2] == "skipped" or r[2].isdigit() for r in rs)
                and all(r[7] == "0" for r in rs))
    good = ok(a) and ok(b)
sys.exit(0 if good else 1)
PYEND
	check "-l: the same fields as pgbench: client_id transaction_no time script_no time_epoch time_us" \
		python3 "$TMP/logshape.py" "$TMP/logs" pgb pd plain
	check "-l with -R -L --max-tries: lag and retries fields, skipped lines, as in pgbench's" \
		python3 "$TMP/logshape.py" "$TMP/logs" pgbr pdr rate
	check "-L with -R: skipped and late transactions are reported" \
		bash -c 'grep -qE "^  skipped: +[0-9]+ \([0-9.]+%\): would have started more than 5.0 ms late" "$1" && grep -qE "^  above -L: +[0-9]+ of [0-9]+ committed above the 5.0 ms latency limit" "$1"' _ "$TMP/pdr.out"
else
	not_ok "pgbench is installed (for the -l comparison)"
fi

# --- 6. --confirm: a rerun decides -------------------------------------------
# The first 200 calls after setval(1) sleep 20 ms, later ones 10 ms (long
# enough that a loaded machine's scheduling delays stay well inside the 30 %
# threshold): a run
# that starts right after the reset is slow, its rerun is not (a burst);
# with a limit the rerun cannot reach, both are slow (a real regression).
psqlv -d pd_verdict_run -c "CREATE SEQUENCE pd_burst" >/dev/null
echo "SELECT pg_sleep(CASE WHEN nextval('pd_burst') <= :limit THEN 0.020 ELSE 0.010 END);" >"$TMP/burst.sql"
psqlv -d pd_verdict_run -c "SELECT setval('pd_burst', 1000000)" >/dev/null
for i in 1 2 3 4 5; do
	"$PD" run -d pd_verdict_run -f "$TMP/burst.sql" -D limit=200 -c 1 -t 200 --store pd_verdict_run --name burst >/dev/null 2>&1
done
psqlv -d pd_verdict_run -c "SELECT setval('pd_burst', 1, false)" >/dev/null
"$PD" run -d pd_verdict_run -f "$TMP/burst.sql" -D limit=200 -c 1 -t 200 --store pd_verdict_run --name burst \
	--baseline last:5 --fail-on-regression 30 --gate-metrics p50_ms --confirm >"$TMP/burst.out" 2>&1
rc=$?
check "--confirm: a slow run whose rerun is fast is counted as noise (exit 0)" \
	bash -c 'test "$1" -eq 0 && grep -qE "^confirmation: run [0-9]+ looked like a regression; running the workload once more$" "$2" && grep -qE "^confirmation: run [0-9]+ does not confirm the regression of run [0-9]+: counted as noise$" "$2"' _ "$rc" "$TMP/burst.out"
check "--confirm: the rerun is stored with the label confirms=ID" \
	test "$(psqlv -d pd_verdict_run -c "SELECT count(*) FROM perfstore.bench_runs WHERE name = 'burst' AND labels ? 'confirms'")" -eq 1
psqlv -d pd_verdict_run -c "SELECT setval('pd_burst', 1, false)" >/dev/null
"$PD" run -d pd_verdict_run -f "$TMP/burst.sql" -D limit=100000 -c 1 -t 200 --store pd_verdict_run --name burst \
	--baseline last:5 --fail-on-regression 30 --gate-metrics p50_ms --confirm >"$TMP/burst2.out" 2>&1
rc=$?
check "--confirm: a regression the rerun shows too is exit 3" \
	bash -c 'test "$1" -eq 3 && grep -qE "^confirmation: run [0-9]+ confirms the regression of run [0-9]+$" "$2"' _ "$rc" "$TMP/burst2.out"
check "--confirm: the rerun's baseline leaves the suspect run out" \
	bash -c 'test "$(grep -c "^baseline:   runs" "$1")" -eq 2 && test "$(grep "^baseline:   runs" "$1" | sort -u | wc -l)" -eq 1' _ "$TMP/burst2.out"

finish
