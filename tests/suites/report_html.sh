#!/usr/bin/env bash
# report_html.sh: the HTML reports (run --html, report --store/--input,
# analyze --html) as a person sees them, in headless Chromium.
#
# Runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at the throwaway
# cluster (tests/run.sh sets them) and the perfstore extension installed.
# Renders the reports of real runs: stored, with and without a baseline
# (a run id and last:N), one with an N+1 finding, one with errors, an empty
# run (no transaction); a document with the keys of the other capabilities
# (assertions, waits, lock waits, server statistics, plans, index advice, a
# flame graph) made by hand from a real run's document; and analyze --log.
# Each page is opened by tests/html_check.py (Chromium over the DevTools
# protocol on a pipe) and must: run its script, log no console message,
# request nothing, draw every chart with its data points (counted from the
# DOM and compared with the JSON), not be blank in a screenshot, not scroll
# sideways at 380 px, and apply its print stylesheet and print to a PDF.  Two control pages (one
# that fetches, one that logs an error) show that the checker catches both.
# Screenshots of the last run stay in .perfstore/test-output/report_html/.
# Skips (0 passed, 0 failed, with the reason) when Chromium is missing.
# The last line is "N passed, N failed"; the exit status is non-zero on
# failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
PD="$ROOT/driver/perfdriver"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
OUT="$ROOT/.perfstore/test-output/report_html"
TMP=$(mktemp -d /tmp/pd_html.XXXXXX)
STORE=pd_html_store_$$
APP=pd_html_app_$$
READER=pd_html_reader_$$

pass=0
fail=0

ok() {
	echo "ok - $1"
	pass=$((pass + 1))
}

not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do
		echo "    $line"
	done
	fail=$((fail + 1))
}

cleanup() {
	dropdb --if-exists --force "$STORE" >/dev/null 2>&1
	dropdb --if-exists --force "$APP" >/dev/null 2>&1
	psql -X -q -d postgres -c "DROP ROLE IF EXISTS $READER" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -x "$CHROMIUM" ]; then
	echo "# skipped: no Chromium at $CHROMIUM (scripts/install-deps.sh installs the chromium package)"
	echo "0 passed, 0 failed"
	exit 0
fi
if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	echo "$pass passed, $fail failed"
	exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"

# --- the runs ----------------------------------------------------------------
createdb "$STORE" && psql -X -q -d "$STORE" -c "CREATE EXTENSION perfstore" >/dev/null || {
	not_ok "a store database" "could not create $STORE"
	echo "$pass passed, $fail failed"
	exit 1
}
createdb "$APP"
"$PD" init -d "$APP" -s 1 >/dev/null 2>&1
psql -X -q -d "$APP" -c "CREATE TABLE np_items (id int PRIMARY KEY, v text);
	INSERT INTO np_items SELECT g, 'v' || g FROM generate_series(1, 1000) g" >/dev/null
printf 'SELECT 1 / (random() * 1.5)::int;\n' >"$TMP/errors.sql"

# run NAME ARGS...: a stored run; its id in $TMP/NAME.id, its JSON in NAME.json
run() {
	local name=$1
	shift
	"$PD" run -d "$APP" --store "$STORE" --json "$TMP/$name.json" "$@" >"$TMP/$name.out" 2>&1
	sed -nE 's/^stored: +run ([0-9]+).*/\1/p' "$TMP/$name.out" >"$TMP/$name.id"
	if [ -s "$TMP/$name.id" ]; then
		ok "run $name is stored (run $(cat "$TMP/$name.id"))"
	else
		not_ok "run $name is stored" "$(tail -5 "$TMP/$name.out")"
	fi
}
run base1 --name html -b tpcb-like -c 2 -j 1 -T 3
run base2 --name html -b tpcb-like -c 2 -j 1 -T 3
run cand --name html -b tpcb-like -c 2 -j 1 -T 3
run nplus1 --name html-nplus1 -f tests/nplus1/scripts/nplus1.sql -c 2 -j 1 -T 2
run errors --name html-errors -f "$TMP/errors.sql" -c 2 -j 1 -T 2 --continue-on-error
run empty --name html-empty -b select-only -c 1 -R 0.001 -T 1

id() { cat "$TMP/$1.id"; }

# render NAME CMD...: a report; says whether it was written
render() {
	local name=$1
	shift
	if "$@" >"$TMP/$name.render.out" 2>&1 && [ -s "$OUT/$name.html" ]; then
		ok "$name.html is written"
	else
		not_ok "$name.html is written" "$*" "$(tail -5 "$TMP/$name.render.out")"
	fi
}
render no_baseline "$PD" report --store "$STORE" "$(id cand)" --html "$OUT/no_baseline.html" --json "$TMP/cand.doc.json"
render baseline "$PD" report --store "$STORE" "$(id cand)" --baseline "$(id base1)" --html "$OUT/baseline.html"
render history "$PD" report --store="$STORE" "$(id cand)" --baseline last:2 --html="$OUT/history.html"
render nplus1 "$PD" report --store "$STORE" "$(id nplus1)" --html "$OUT/nplus1.html" --json "$TMP/nplus1.doc.json"
render errors "$PD" report --store "$STORE" "$(id errors)" --html "$OUT/errors.html" --json "$TMP/errors.doc.json"
render empty "$PD" report --store "$STORE" "$(id empty)" --html "$OUT/empty.html" --json "$TMP/empty.doc.json"
"$PD" compare --store "$STORE" "$(id base1)" "$(id cand)" --json "$TMP/cmp.json" >/dev/null 2>&1

# the other capabilities' keys, added by hand to a real run's document
python3 - "$TMP/cand.doc.json" "$TMP/keys.json" "$TMP/stacks.folded" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
st = d["statements"]
d["assertions"] = [
    {"expr": "p95<50ms", "scope": "run", "metric": "p95", "op": "<", "target": 50, "value": d["latency_ms"]["p95"], "passed": True},
    {"expr": "tps>1000000", "scope": "run", "metric": "tps", "op": ">", "target": 1000000, "value": d["tps"], "passed": False},
    {"expr": "statements.p999<1ms", "scope": "statements", "metric": "p999", "op": "<", "target": 1, "value": None, "passed": False, "reason": "too few samples"},
]
st[0]["waits"] = {"CPU": 0.6, "Lock:transactionid": 0.3, "IO:DataFileRead": 0.1}
st[1]["server"] = {"calls": 10, "total_exec_ms": 5.5, "mean_exec_ms": 0.55, "rows": 10, "shared_blks_hit": 40, "shared_blks_read": 2, "temp_blks_written": 0, "wal_bytes": 1200}
st[1]["plan"] = "Update on pgbench_accounts  (cost=0.29..8.31 rows=0 width=0)\n  ->  Index Scan using pgbench_accounts_pkey on pgbench_accounts"
st[2]["plan"] = [{"Plan": {"Node Type": "Index Scan", "Total Cost": 8.3}}]
d["waits"] = {"CPU": 0.55, "Lock:transactionid": 0.25, "IO:DataFileRead": 0.12, "Client:ClientRead": 0.08}
d["lock_waits"] = [{"blocker_pid": 101, "waiter_pid": 102, "wait_event": "Lock:transactionid", "samples": 7,
                    "blocker_query": "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2",
                    "waiter_query": "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2"}]
d["observe_notes"] = ["pg_stat_statements is not installed in the target database: no server statistics"]
d["index_advice"] = [
    {"fingerprint": "1", "query": "SELECT v FROM t WHERE a = $1", "create_index": "CREATE INDEX ON public.t (a)", "cost_before": 1693.0, "cost_after": 8.3, "statements": ["1"]},
    {"fingerprint": "2", "query": "SELECT v FROM t WHERE b = $1 AND c = $2", "create_index": "CREATE INDEX ON public.t (b, c)", "cost_before": 420.0, "cost_after": 12.5, "statements": ["2"], "p95_before_ms": 4.1, "p95_after_ms": 0.2},
]
lines = []
for i in range(40):
    lines.append("perfdriver;main;run_threads;client_step;pgconn_send;send %d" % (5 + i % 3))
    lines.append("postgres;PostgresMain;exec_simple_query;PortalRun;ExecutorRun;ExecScan;IndexNext;btgettuple %d" % (3 + i % 5))
    lines.append("postgres;PostgresMain;exec_simple_query;pg_plan_queries;planner;subquery_planner fn%d %d" % (i, 2))
lines.append("this line has no count")
open(sys.argv[3], "w").write("\n".join(lines) + "\n")
json.dump(d, open(sys.argv[2], "w"))
# the same flame graph kept inside the document
d["flamegraph"] = {"folded": "\n".join(lines[:30]) + "\n"}
json.dump(d, open(sys.argv[2].replace(".json", ".embedded.json"), "w"))
EOF
# an hour-long run (3600 intervals with their sketches) of 40 statements
python3 - "$TMP/cand.doc.json" "$TMP/long.json" <<'EOF'
import copy, json, sys
d = json.load(open(sys.argv[1]))
iv = d["intervals"][:2]
d["intervals"] = [dict(copy.deepcopy(iv[i % 2]), t_s=i + 1.0, length_s=1.0) for i in range(3600)]
st = d["statements"]
d["statements"] = [dict(copy.deepcopy(st[i % len(st)]), fingerprint="%016x" % i,
                        query=st[i % len(st)]["query"] + " -- %d" % i) for i in range(40)]
json.dump(d, open(sys.argv[2], "w"))
EOF
render long "$PD" report --input "$TMP/long.json" --html "$OUT/long.html"
render keys "$PD" report --input "$TMP/keys.json" --flamegraph "$TMP/stacks.svg" --html "$OUT/keys.html"
render keys_embedded "$PD" report --input "$TMP/keys.embedded.json" --html "$OUT/keys_embedded.html"
# run --html: the run's own document, and a stored run read back with its baseline
render run_html "$PD" run -d "$APP" -b tpcb-like -c 2 -j 1 -T 2 --json "$TMP/run_html.json" --html "$OUT/run_html.html"
render run_baseline "$PD" run -d "$APP" -b tpcb-like -c 2 -j 1 -T 2 --store "$STORE" --name html \
	--baseline "$(id base1)" --html "$OUT/run_baseline.html"
# run --assert --html: a missed target exits 5 and the report shows the verdicts
"$PD" run -d "$APP" -b tpcb-like -c 2 -j 1 -T 2 --assert 'p95<100000ms' --assert 'tps>100000000' \
	--json "$TMP/run_assert.json" --html "$OUT/run_assert.html" >"$TMP/run_assert.out" 2>&1
rc=$?
if [ $rc -eq 5 ] && [ -s "$OUT/run_assert.html" ]; then
	ok "run_assert.html is written (exit 5: a target missed)"
else
	not_ok "run_assert.html is written (exit 5: a target missed)" "exit $rc" "$(tail -5 "$TMP/run_assert.out")"
fi
render analyze "$PD" analyze --log tests/nplus1/cases/05_stderr_durations.log --json "$TMP/analyze.json" --html "$OUT/analyze.html"
# a real log: the cluster's own, while an N+1 script runs for 3 s
if [ -n "${PERFSTORE_LOG:-}" ] && [ -r "${PERFSTORE_LOG:-}" ]; then
	# the N+1 suite slices the same log: take turns
	exec 9>/tmp/perfstore_nplus1_log.lock
	flock -w 600 9 || true
	psql -X -q -d "$APP" -c "ALTER DATABASE $APP SET log_min_duration_statement = 0" >/dev/null
	off=$(stat -c %s "$PERFSTORE_LOG")
	"$PD" run -d "$APP" -f tests/nplus1/scripts/nplus1.sql -c 2 -j 1 -T 3 >/dev/null 2>&1
	tail -c +$((off + 1)) "$PERFSTORE_LOG" >"$TMP/real.log"
	psql -X -q -d "$APP" -c "ALTER DATABASE $APP RESET ALL" >/dev/null
	flock -u 9
	render analyze_real "$PD" analyze --log "$TMP/real.log" --json "$TMP/analyze_real.json" --html "$OUT/analyze_real.html"
else
	not_ok "PERFSTORE_LOG is readable" "PERFSTORE_LOG=${PERFSTORE_LOG:-unset}"
fi

# the controls: the checker must see a fetch and a console error
printf '<!DOCTYPE html><html><head><title>c</title></head><body><img src="http://127.0.0.1:9/x.png" alt=""><script>document.documentElement.setAttribute("data-ready","1")</script></body></html>\n' >"$OUT/control_fetch.html"
printf '<!DOCTYPE html><html><head><title>c</title></head><body><p>x</p><script>console.error("broken");document.documentElement.setAttribute("data-ready","1")</script></body></html>\n' >"$OUT/control_console.html"

# --- the browser ---------------------------------------------------------------
files=()
for f in no_baseline baseline history nplus1 errors empty long keys keys_embedded run_html run_baseline run_assert analyze analyze_real control_fetch control_console; do
	[ -f "$OUT/$f.html" ] && files+=("$OUT/$f.html")
done
timeout 300 python3 tests/html_check.py "$OUT" "${files[@]}" >"$TMP/check.jsonl" 2>"$TMP/check.err"
rc=$?
if [ $rc -ne 0 ] || [ ! -s "$TMP/check.jsonl" ]; then
	not_ok "Chromium opens the reports" "exit $rc" "$(tail -5 "$TMP/check.err")"
	echo "$pass passed, $fail failed"
	exit 1
fi
cp "$TMP/check.jsonl" "$OUT/check.jsonl"

# --- what the pages show ---------------------------------------------------------
python3 - "$TMP" "$OUT" >"$TMP/verdicts" <<'EOF'
import json, os, sys
tmp, out = sys.argv[1], sys.argv[2]
pages = {}
for line in open(os.path.join(tmp, "check.jsonl")):
    p = json.loads(line)
    pages[os.path.splitext(os.path.basename(p["file"]))[0]] = p

def check(name, cond, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond else "\n    " + str(detail)))

def doc(name):
    return json.load(open(os.path.join(tmp, name)))

def chart(p, cid):
    return next((c for c in p.get("charts", []) if c["id"] == cid), None)

def drawn_intervals(d):
    iv = d["intervals"]
    n = len(iv)
    if n > 1 and iv[-1]["length_s"] < 0.5 * iv[0]["length_s"]:
        n -= 1
    return n

reports = ["no_baseline", "baseline", "history", "nplus1", "errors", "empty", "long", "keys", "keys_embedded",
           "run_html", "run_baseline", "run_assert", "analyze", "analyze_real"]
for name in reports:
    p = pages.get(name)
    if p is None or "error" in p:
        check("%s: Chromium loads the page" % name, False, p and p.get("error"))
        continue
    check("%s: the page's script ran" % name, p["ready"])
    check("%s: no console message" % name, p["console"] == [], p["console"])
    check("%s: no network request" % name, p["requests"] == [] and p["csp"] == [], p["requests"] + p["csp"])
    check("%s: the screenshot is not blank (%d colours)" % (name, p["colours"]), p["colours"] >= 8, p["colours"])
    check("%s: under 1 MB" % name, os.path.getsize(os.path.join(out, name + ".html")) < 1 << 20)
    check("%s: no sideways scrolling at 380 px" % name, p["narrow_overflow"] is False)
    check("%s: the print stylesheet applies" % name, p["print_ok"] is True)
    check("%s: prints to an A4 PDF (%d pages)" % (name, p["pdf_pages"]), p["pdf_pages"] >= 1 and p["pdf_bytes"] > 10000,
          (p["pdf_pages"], p["pdf_bytes"]))
    check("%s: SQL text is selectable" % name, p["counts"]["sql_selectable"] in (True, None))
    check("%s: times are UTC with the offset" % name, p["counts"]["times_utc"])
    units = ("(s", "(ms", "(%)", "/s")
    bad = [c["id"] for c in p["charts"] if c["kind"] in ("time", "histogram")
           and not all(any(u in l for u in units) for l in c["axis_labels"])]
    check("%s: every axis names its unit" % name, bad == [], bad)
    if p["counts"]["comparison_rows"] + p["counts"]["statement_rows"] + p["counts"]["top_rows"] >= 2:
        check("%s: a sortable table sorts both ways" % name, p["sort_ok"] is True, p["sort_ok"])

# runs read back from the store
for name, docname in (("no_baseline", "cand.doc.json"), ("nplus1", "nplus1.doc.json"), ("errors", "errors.doc.json"),
                      ("run_html", "run_html.json")):
    p, d = pages.get(name), doc(docname)
    if p is None or "error" in p:
        continue
    tps = chart(p, "chart-tps")
    lat = chart(p, "chart-latency")
    n = drawn_intervals(d)
    check("%s: throughput has a point per interval (%d)" % (name, n), tps and tps["points"] == n, tps)
    check("%s: p50, p95 and p99 have a point per interval" % name, lat and lat["points"] == 3 * n, lat)
    h = chart(p, "hist-run")
    check("%s: the histogram holds every transaction (%d)" % (name, d["transactions"]),
          h and h["bar_total"] == d["transactions"] == h["total"] and h["bars"] > 3, h)
    check("%s: the histogram marks p50, p95 and p99" % name, h and h["marks"] == ["p50", "p95", "p99"], h)
    for i, s in enumerate(d["statements"]):
        hs = chart(p, "hist-stmt-%d" % (i + 1))
        check("%s: statement %d's histogram holds its %d calls" % (name, i + 1, s["calls"]),
              hs and hs["bar_total"] == s["calls"], hs)
    check("%s: a table row per statement" % name, p["counts"]["statement_rows"] == len(d["statements"]))
    check("%s: no baseline drawn" % name, all(c["baseline"] == 0 for c in p["charts"]))
    check("%s: no comparison section" % name, "comparison" not in p["sections"])

p, d = pages.get("nplus1"), doc("nplus1.doc.json")
if p and "error" not in p:
    check("nplus1: the finding is shown (%d)" % len(d["nplus1_findings"]),
          len(d["nplus1_findings"]) >= 1 and p["counts"]["findings"] == len(d["nplus1_findings"]))
p = pages.get("no_baseline")
if p and "error" not in p:
    check("no_baseline: a tpcb-like run shows no N+1 finding", p["counts"]["findings"] == 0 and "nplus1" in p["sections"])
    check("no_baseline: no sections of absent keys",
          not set(p["sections"]) & {"assertions", "waits", "index-advice", "flamegraph"}, p["sections"])

p, d = pages.get("errors"), doc("errors.doc.json")
if p and "error" not in p:
    witherr = sum(1 for i in d["intervals"][:drawn_intervals(d)] if i["failed"] + i["errors"] > 0)
    tps = chart(p, "chart-tps")
    check("errors: %d intervals with errors are marked" % witherr, witherr > 0 and tps and tps["errmarks"] == witherr, tps)
p = pages.get("no_baseline")
if p and "error" not in p:
    check("no_baseline: no error marks without errors", chart(p, "chart-tps")["errmarks"] == 0)

# with a baseline
cmp = doc("cmp.json")
for name in ("baseline", "history", "run_baseline"):
    p = pages.get(name)
    if p is None or "error" in p:
        continue
    check("%s: the comparison section" % name, "comparison" in p["sections"])
    lat = chart(p, "chart-latency")
    check("%s: the baseline's p50, p95 and p99 overlaid over time" % name, lat and lat["baseline"] == 3, lat)
    check("%s: the baseline's throughput overlaid" % name, chart(p, "chart-tps")["baseline"] == 1)
    check("%s: the baseline's histogram overlaid" % name, chart(p, "hist-run")["baseline"] == 1)
p = pages.get("baseline")
if p and "error" not in p:
    regs = sum(1 for r in cmp["rows"] if r["verdict"] == "regression")
    check("baseline: a row per comparison row (%d)" % len(cmp["rows"]), p["counts"]["comparison_rows"] == len(cmp["rows"]))
    check("baseline: its %d regressions are marked" % regs, p["counts"]["regressions"] == regs)

p = pages.get("run_assert")
if p and "error" not in p:
    a = doc("run_assert.json")["assertions"]
    check("run_assert: the run's 2 assertions, 1 missed", len(a) == 2 and sum(not x["passed"] for x in a) == 1, a)
    check("run_assert: the page shows 1 FAIL and 1 pass", p["counts"]["assertions_failed"] == 1 and p["counts"]["assertions_passed"] == 1, p["counts"])

# an hour-long run: merged to 600 points, 20 statement histograms, under 1 MB (checked above)
p = pages.get("long")
if p and "error" not in p:
    tps = chart(p, "chart-tps")
    check("long: 3600 intervals drawn as 600 points", tps and tps["points"] == 600, tps)
    check("long: 20 statement histograms", sum(1 for c in p["charts"] if c["id"].startswith("hist-stmt-")) == 20)
    check("long: a table row per statement (40)", p["counts"]["statement_rows"] == 40)
    print("# long.html: %d bytes" % os.path.getsize(os.path.join(out, "long.html")))

# the empty run
p = pages.get("empty")
if p and "error" not in p:
    d = doc("empty.doc.json")
    check("empty: the run had no transaction", d["transactions"] == 0)
    check("empty: no histogram of nothing", not any(c["kind"] == "histogram" for c in p["charts"]), p["charts"])
    tps = chart(p, "chart-tps")
    check("empty: throughput drawn at zero", tps is not None and tps["points"] == drawn_intervals(d), tps)

# the other capabilities' keys
for name in ("keys", "keys_embedded"):
    p = pages.get(name)
    if p is None or "error" in p:
        continue
    for sec in ("assertions", "waits", "index-advice", "flamegraph"):
        check("%s: the %s section" % (name, sec), sec in p["sections"], p["sections"])
    c = p["counts"]
    check("%s: 2 failed and 1 passed assertion" % name, c["assertions_failed"] == 2 and c["assertions_passed"] == 1, c)
    check("%s: 2 index advice rows" % name, c["advice_rows"] == 2, c)
    check("%s: 1 lock wait row" % name, c["lock_rows"] == 1, c)
    check("%s: 2 plans" % name, c["plans"] == 2, c)
    w = chart(p, "chart-waits")
    check("%s: 4 wait bars" % name, w and w["bars"] == 4, w)
    fl = chart(p, "flame-cpu")
    check("%s: the flame graph has its frames" % name, fl and fl["frames"] > 10, fl)
    check("%s: the flame graph zooms on click and back" % name, p["zoom_ok"] is True, p["zoom_ok"])
p = pages.get("keys")
if p and "error" not in p:
    fl = chart(p, "flame-cpu")
    total = sum(int(l.rsplit(" ", 1)[1]) for l in open(os.path.join(tmp, "stacks.folded")) if l.rsplit(" ", 1)[-1].strip().isdigit())
    check("keys: the flame graph counts every sample (%d)" % total, fl and fl["total"] == total, fl)

# analyze --log
p, d = pages.get("analyze"), doc("analyze.json")
if p and "error" not in p:
    for sec in ("timeline", "top-statements", "nplus1"):
        check("analyze: the %s section" % sec, sec in p["sections"], p["sections"])
    check("analyze: a row per top statement by total (%d)" % len(d["top_statements_by_total"]),
          p["counts"]["top_rows"] == len(d["top_statements_by_total"]) > 0)
    check("analyze: a row per top statement by p95 (%d)" % len(d["top_statements_by_p95"]),
          p["counts"]["top_p95_rows"] == len(d["top_statements_by_p95"]))
    check("analyze: the JSON has one source of top statements", "top_statements" not in d, sorted(d))
    check("analyze: the finding is shown", p["counts"]["findings"] == len(d["nplus1_findings"]) == 1)
    r = chart(p, "chart-rate")
    check("analyze: the rate has a point per bucket", r and r["points"] == len(d["timeline"]["counts"]), r)

p = pages.get("analyze_real")
if p and "error" not in p:
    d = doc("analyze_real.json")
    counts = d["timeline"]["counts"]
    check("analyze_real: the timeline counts every statement (%d)" % d["statements"], sum(counts) == d["statements"] > 100)
    check("analyze_real: the top statements count every call", sum(s["calls"] for s in d["top_statements_by_total"]) == d["statements"])
    check("analyze_real: the repeated lookup ranks first by time",
          d["top_statements_by_total"][0]["query"] == "SELECT v FROM np_items WHERE id = $1", d["top_statements_by_total"][0])
    check("analyze_real: a row per top statement by total and by p95 (%d, %d)"
          % (len(d["top_statements_by_total"]), len(d["top_statements_by_p95"])),
          p["counts"]["top_rows"] == len(d["top_statements_by_total"]) > 0 and
          p["counts"]["top_p95_rows"] == len(d["top_statements_by_p95"]))
    r = chart(p, "chart-rate")
    check("analyze_real: the rate has a point per second (%d)" % len(counts), r and r["points"] == len(counts) >= 3, r)
    check("analyze_real: the N+1 finding is shown", p["counts"]["findings"] == len(d["nplus1_findings"]) >= 1)

# the controls
p = pages.get("control_fetch", {})
check("the checker sees a page's network request", len(p.get("requests", [])) >= 1, p.get("requests"))
p = pages.get("control_console", {})
check("the checker sees a console error", any(m["level"] == "error" for m in p.get("console", [])), p.get("console"))
EOF
while IFS= read -r line; do
	case "$line" in
		"ok - "*) echo "$line"; pass=$((pass + 1)) ;;
		"not ok - "*) echo "$line"; fail=$((fail + 1)) ;;
		*) echo "$line" ;;
	esac
done <"$TMP/verdicts"
if ! grep -q . "$TMP/verdicts"; then
	not_ok "the page checks ran"
fi

# --- a reader role (Grafana's kind of access) can render a stored run -------------
psql -X -q -d postgres -c "CREATE ROLE $READER LOGIN" >/dev/null 2>&1
psql -X -q -d "$STORE" -c "SELECT perfstore.grant_reader('$READER')" >/dev/null 2>&1
if "$PD" report --store "dbname=$STORE user=$READER" "$(id cand)" --baseline last:2 --html "$TMP/reader.html" >"$TMP/reader.out" 2>&1 &&
	cmp -s <(grep -v "Written by perfdriver on" "$TMP/reader.html") <(grep -v "Written by perfdriver on" "$OUT/history.html"); then
	ok "a reader role renders the same report"
else
	not_ok "a reader role renders the same report" "$(tail -3 "$TMP/reader.out")"
fi

# --- errors ---------------------------------------------------------------------
"$PD" report --store "$STORE" 999999 --html "$TMP/x.html" >"$TMP/e1.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "perfdriver: error: could not read run 999999: run 999999 does not exist" "$TMP/e1.out" && [ ! -e "$TMP/x.html" ]; then
	ok "an unknown run: exit 2, a clear error, no file"
else
	not_ok "an unknown run: exit 2, a clear error, no file" "exit $rc" "$(cat "$TMP/e1.out")"
fi
printf '{"tps": ' >"$TMP/bad.json"
"$PD" report --input "$TMP/bad.json" --html "$TMP/x.html" >"$TMP/e2.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "perfdriver: error: .*bad.json is not valid JSON: line 1" "$TMP/e2.out"; then
	ok "a malformed JSON report: exit 2 and where it broke"
else
	not_ok "a malformed JSON report: exit 2 and where it broke" "exit $rc" "$(cat "$TMP/e2.out")"
fi
"$PD" report --input "$TMP/keys.json" --baseline 1 --html "$TMP/x.html" >"$TMP/e3.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "perfdriver: error: --baseline needs --store" "$TMP/e3.out"; then
	ok "--baseline without --store: a usage error"
else
	not_ok "--baseline without --store: a usage error" "exit $rc" "$(cat "$TMP/e3.out")"
fi
"$PD" report --store "$STORE" "$(id cand)" --html /nonexistent/dir/x.html >"$TMP/e4.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'perfdriver: error: could not open "/nonexistent/dir/x.html" for writing' "$TMP/e4.out"; then
	ok "an unwritable file: exit 2"
else
	not_ok "an unwritable file: exit 2" "exit $rc" "$(cat "$TMP/e4.out")"
fi

echo "# screenshots: $OUT"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
