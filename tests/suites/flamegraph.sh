#!/usr/bin/env bash
# flamegraph.sh: perfdriver run --flamegraph and perfdriver flamegraph
# against the throwaway cluster, with the real perf.
#
# Runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at the cluster
# (tests/run.sh sets them).  Covers: a CPU-heavy statement whose stacks hold
# PostgreSQL's executor and whose SVG is well-formed with one rect per frame;
# perf missing (PATH without it) and not permitted (a user other than root
# while kernel.perf_event_paranoid > 1), each one warning line and a normal
# report with exit 0; a run shorter than one sample period; backends that
# exit mid-run (the new ones are sampled); --flamegraph-self; --store and
# "perfdriver flamegraph" on stored runs, with --diff; the differential
# graph of two synthetic folded files.  When perf cannot sample at all on
# this machine, the tests that need samples are reported as skipped.  The
# last line is "N passed, N failed".
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
PD="$ROOT/driver/perfdriver"
TMP=$(mktemp -d /tmp/pd_flame.XXXXXX)
chmod 755 "$TMP"
DBS=(pd_flame pd_flame_store)
cleanup() {
	for db in "${DBS[@]}"; do
		dropdb --if-exists --force "$db" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

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

check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

skip() {
	echo "skip - $1: $2"
}

jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v)' "$1" "$2"
}

# xcount FILE XPATH: an XPath count() over an SVG (namespace-blind)
xcount() {
	xmllint --xpath "$2" "$1" 2>/dev/null
}

# nodes FILE.folded: the frames a flame graph of it has (distinct prefixes)
nodes() {
	awk '{ sub(/ [0-9]+$/, ""); n = split($0, f, ";"); p = "";
	       for (i = 1; i <= n; i++) { p = p ";" f[i]; seen[p] = 1 } }
	     END { c = 0; for (k in seen) c++; print c }' "$1"
}

# folded_total FILE.folded: the sum of the counts
folded_total() {
	awk '{ s += $NF } END { print s + 0 }' "$1"
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	echo "$pass passed, $fail failed"
	exit 1
fi
for tool in perf xmllint; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "$tool is installed" "scripts/install-deps.sh installs it"
	fi
done

dropdb --if-exists --force pd_flame >/dev/null 2>&1
createdb pd_flame
cat >"$TMP/cpu.sql" <<'EOF'
select sum(i), count(*) from generate_series(1, 400000) i;
EOF

# --- a CPU-heavy statement -------------------------------------------------
"$PD" run -d pd_flame -f "$TMP/cpu.sql" -c 2 -j 2 -T 3 --flamegraph "$TMP/cpu.svg" \
	--json "$TMP/cpu.json" >"$TMP/cpu.out" 2>"$TMP/cpu.err"
rc=$?
check "a profiled run exits 0" test "$rc" -eq 0
if [ "$(jget "$TMP/cpu.json" "j['flamegraph']['unavailable']")" != "None" ]; then
	not_ok "perf samples the backends on this machine" \
		"$(jget "$TMP/cpu.json" "j['flamegraph']['unavailable']")"
	PERF_OK=0
else
	PERF_OK=1
fi
if [ "$PERF_OK" = 1 ]; then
	check "FILE.folded beside FILE.svg" test -s "$TMP/cpu.folded"
	check "the folded stacks hold the executor (standard_ExecutorRun)" \
		grep -q ';standard_ExecutorRun;' "$TMP/cpu.folded"
	check "the folded stacks hold the function scan (ExecMakeTableFunctionResult)" \
		grep -q ';ExecMakeTableFunctionResult' "$TMP/cpu.folded"
	check "every line is 'frame;...;frame COUNT'" \
		test "$(grep -cvE '^[^ ].*[^;] [0-9]+$' "$TMP/cpu.folded")" -eq 0
	check "every stack starts at the root 'postgres'" \
		test "$(grep -cv '^postgres;' "$TMP/cpu.folded")" -eq 0
	check "PostgresMain is below the executor" \
		grep -q ';PostgresMain;.*;standard_ExecutorRun;' "$TMP/cpu.folded"
	total=$(folded_total "$TMP/cpu.folded")
	check "the JSON's samples are the folded counts ($total)" \
		test "$(jget "$TMP/cpu.json" "j['flamegraph']['samples']")" = "$total"
	check "samples were taken ($total)" test "$total" -gt 0
	check "the sampled event is named" \
		grep -qE '^(cycles|cpu-clock)$' <(jget "$TMP/cpu.json" "j['flamegraph']['event']")
	check "99 Hz by default" test "$(jget "$TMP/cpu.json" "j['flamegraph']['frequency_hz']")" = 99
	check "two backends" test "$(jget "$TMP/cpu.json" "j['flamegraph']['backends']")" = 2
	check "the report names the graph" grep -q "^flame graph: $TMP/cpu.svg, $total samples" "$TMP/cpu.out"
	check "the SVG is well-formed XML" xmllint --noout "$TMP/cpu.svg"
	want=$(nodes "$TMP/cpu.folded")
	got=$(xcount "$TMP/cpu.svg" "count(//*[local-name()='g'][@class='f'])")
	check "one frame group per frame of the folded stacks ($want)" test "$got" = "$want"
	got=$(xcount "$TMP/cpu.svg" "count(//*[local-name()='g'][@class='f']/*[local-name()='rect'])")
	check "one rect per frame ($want)" test "$got" = "$want"
	got=$(xcount "$TMP/cpu.svg" "count(//*[local-name()='g'][@class='f']/*[local-name()='title'])")
	check "a title (hover) per frame" test "$got" = "$want"
	check "the SVG shows the sample count" grep -q ">$total samples, " "$TMP/cpu.svg"
	check "a hover title has the full name and share" \
		grep -qE '<title>standard_ExecutorRun$' "$TMP/cpu.svg"
	check "no external resource" test "$(grep -cE '(href|src)=' "$TMP/cpu.svg")" -eq 0
	check "no warning on stderr" test ! -s "$TMP/cpu.err"
fi

# --- perf missing: one line, the report, exit 0 ----------------------------
PATH=/nonexistent "$PD" run -d pd_flame -f "$TMP/cpu.sql" -c 1 -t 2 --flamegraph "$TMP/np.svg" \
	--json "$TMP/np.json" >"$TMP/np.out" 2>"$TMP/np.err"
rc=$?
check "without perf the run exits 0" test "$rc" -eq 0
check "without perf: exactly one line on stderr" test "$(wc -l <"$TMP/np.err")" -eq 1
check "without perf: the line gives the reason and the fix" \
	grep -q '^perfdriver: warning: no flame graph: perf is not installed (not found on PATH); to fix: apt-get install linux-perf$' "$TMP/np.err"
check "without perf: the report is printed" grep -q '^  transactions:  2 committed' "$TMP/np.out"
check "without perf: the JSON report is written, transactions counted" \
	test "$(jget "$TMP/np.json" "j['transactions']")" = 2
check "without perf: the JSON says why" \
	grep -q 'perf is not installed' <(jget "$TMP/np.json" "j['flamegraph']['unavailable']")
check "without perf: no SVG is written" test ! -e "$TMP/np.svg"

# --- not permitted: a user other than root, perf_event_paranoid > 1 -------
paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)
if [ "$(id -u)" -ne 0 ]; then
	skip "perf not permitted to another user" "needs root to switch users"
elif [ "$paranoid" -le 1 ]; then
	skip "perf not permitted to another user" "kernel.perf_event_paranoid is $paranoid here"
elif ! setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" psql -X -q -d pd_flame -c 'select 1' >/dev/null 2>&1; then
	skip "perf not permitted to another user" "user nobody cannot reach the cluster's socket"
else
	chmod 777 "$TMP"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$PD" run -d pd_flame -f "$TMP/cpu.sql" -c 1 -t 2 --flamegraph "$TMP/nobody.svg" \
		--json "$TMP/nobody.json" >"$TMP/nobody.out" 2>"$TMP/nobody.err"
	rc=$?
	check "as nobody (paranoid $paranoid) the run exits 0" test "$rc" -eq 0
	check "as nobody: exactly one line on stderr" test "$(wc -l <"$TMP/nobody.err")" -eq 1
	check "as nobody: the line names perf_event_paranoid and the fix" \
		grep -qE "^perfdriver: warning: no flame graph: kernel.perf_event_paranoid is $paranoid, .*; to fix: sudo sysctl kernel.perf_event_paranoid=1" "$TMP/nobody.err"
	check "as nobody: the report is written" \
		test "$(jget "$TMP/nobody.json" "j['transactions']")" = 2
	check "as nobody: no SVG" test ! -e "$TMP/nobody.svg"
	chmod 755 "$TMP"
fi

# --- the server's OS user with perf_event_paranoid 2: user space, per process
if [ "$PERF_OK" = 1 ] && [ "$(id -u)" -eq 0 ] && [ "$paranoid" -eq 2 ] && id postgres >/dev/null 2>&1 &&
	setpriv --reuid=postgres --regid=postgres --clear-groups \
		env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" psql -X -q -d pd_flame -c 'select 1' >/dev/null 2>&1; then
	chmod 777 "$TMP"
	printf '%s\n' '\set r random(1, 3)' 'select sum(i) from generate_series(1, 200000) i;' \
		'select case when :r = 1 then pg_terminate_backend(pg_backend_pid()) end;' >"$TMP/term_pp.sql"
	setpriv --reuid=postgres --regid=postgres --clear-groups \
		env PATH="$PATH" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		"$PD" run -d pd_flame -f "$TMP/term_pp.sql" -c 2 -j 1 -T 3 --flamegraph "$TMP/pg.svg" \
		--json "$TMP/pg.json" >"$TMP/pg.out" 2>"$TMP/pg.err"
	rc=$?
	chmod 755 "$TMP"
	check "as the server's OS user: the run completes" test "$rc" -le 1
	check "as the server's OS user: user space only (cpu-clock:u)" \
		test "$(jget "$TMP/pg.json" "j['flamegraph']['event']")" = "cpu-clock:u"
	check "as the server's OS user: one perf per batch of backends" \
		test "$(jget "$TMP/pg.json" "j['flamegraph']['sampling']")" = "per-process"
	check "as the server's OS user: the note says kernel frames are missing" \
		grep -q 'kernel frames not sampled' <(jget "$TMP/pg.json" "j['flamegraph']['note']")
	check "as the server's OS user: no kernel frame" test "$(grep -c '_\[k\]' "$TMP/pg.folded")" -eq 0
	check "as the server's OS user: the executor is there" grep -q ';standard_ExecutorRun;' "$TMP/pg.folded"
	rec=$(jget "$TMP/pg.json" "j['reconnects']")
	backends=$(jget "$TMP/pg.json" "j['flamegraph']['backends']")
	check "as the server's OS user: backends after reconnects are sampled ($backends of 2 + $rec)" \
		test "$backends" -gt 2 -a "$backends" -le $((2 + rec))
else
	skip "the server's OS user" "needs root, perf, paranoid 2 and a postgres user that reaches the cluster"
fi

if [ "$PERF_OK" = 1 ]; then
	# --- a run shorter than one sample period --------------------------------
	echo 'select 1;' >"$TMP/one.sql"
	"$PD" run -d pd_flame -f "$TMP/one.sql" -c 1 -t 1 --flamegraph "$TMP/short.svg" \
		--json "$TMP/short.json" >"$TMP/short.out" 2>"$TMP/short.err"
	rc=$?
	check "a run shorter than a sample period exits 0" test "$rc" -eq 0
	n=$(jget "$TMP/short.json" "j['flamegraph']['samples']")
	check "a short run has at most one sample ($n)" test "$n" -le 1
	check "a short run: its folded file agrees ($n)" test "$(folded_total "$TMP/short.folded")" = "$n"
	check "a short run: the SVG is well-formed" xmllint --noout "$TMP/short.svg"
	check "a short run: the SVG gives the count" grep -q ">$n samples, " "$TMP/short.svg"
	if [ "$n" = 0 ]; then
		check "a short run: the report explains the empty graph" \
			grep -q 'no samples: the window was shorter than one sample period' "$TMP/short.out"
	fi

	# --- backends that exit mid-run ------------------------------------------
	cat >"$TMP/term.sql" <<'EOF'
\set r random(1, 3)
select sum(i) from generate_series(1, 200000) i;
select case when :r = 1 then pg_terminate_backend(pg_backend_pid()) end;
EOF
	"$PD" run -d pd_flame -f "$TMP/term.sql" -c 2 -j 1 -T 3 --flamegraph "$TMP/term.svg" \
		--json "$TMP/term.json" >"$TMP/term.out" 2>"$TMP/term.err"
	rc=$?
	rec=$(jget "$TMP/term.json" "j['reconnects']")
	backends=$(jget "$TMP/term.json" "j['flamegraph']['backends']")
	check "terminated backends: the run completes (exit 1 for the failed transactions)" test "$rc" -eq 1
	check "terminated backends: there were reconnects ($rec)" test "$rec" -gt 0
	check "terminated backends: every backend, old and new, is sampled ($backends = 2 + $rec)" \
		test "$backends" -eq $((2 + rec))
	check "terminated backends: samples were kept" \
		test "$(jget "$TMP/term.json" "j['flamegraph']['samples']")" -gt 0
	check "terminated backends: the SVG is well-formed" xmllint --noout "$TMP/term.svg"

	# --- --observe: statements as roots, and the wait-event graph ------------
	printf '%s\n' 'select sum(i) from generate_series(1, 300000) i;' 'select pg_sleep(0.02);' >"$TMP/mix.sql"
	"$PD" run -d pd_flame -f "$TMP/mix.sql" -c 2 -T 3 --observe --flamegraph "$TMP/obs.svg" \
		--json "$TMP/obs.json" >"$TMP/obs.out" 2>"$TMP/obs.err"
	check "--observe --flamegraph exits 0" test $? -eq 0
	check "--observe: the CPU-heavy statement is a root" \
		grep -q '^select sum(i) from generate_series(\$1, \$2) i;' "$TMP/obs.folded"
	check "--observe: FILE.waits.folded has the sleep's wait" \
		grep -qE '^select pg_sleep\(\$1\);Timeout;PgSleep [0-9]+$' "$TMP/obs.waits.folded"
	check "--observe: FILE.waits.folded has the CPU time" \
		grep -qE '^select sum\(i\) from generate_series\(\$1, \$2\) i;CPU [0-9]+$' "$TMP/obs.waits.folded"
	check "--observe: FILE.waits.svg is well-formed" xmllint --noout "$TMP/obs.waits.svg"
	check "--observe: the JSON names the waits graph" \
		test "$(jget "$TMP/obs.json" "j['flamegraph']['waits_svg']")" = "$TMP/obs.waits.svg"

	# --- --flamegraph-self ---------------------------------------------------
	"$PD" run -d pd_flame -f "$TMP/one.sql" -c 2 -j 1 -T 2 --flamegraph "$TMP/self.svg" \
		--flamegraph-self --json "$TMP/self.json" >/dev/null 2>"$TMP/self.err"
	check "--flamegraph-self: the driver's own stacks are under 'perfdriver'" \
		grep -q '^perfdriver;' "$TMP/self.folded"
	check "--flamegraph-self: the backends' stacks are under 'postgres'" \
		grep -q '^postgres;' "$TMP/self.folded"
	check "--flamegraph-self: the JSON says so" \
		test "$(jget "$TMP/self.json" "j['flamegraph']['driver_sampled']")" = True

	# --- stored runs: perfdriver flamegraph --store [--diff] -----------------
	dropdb --if-exists --force pd_flame_store >/dev/null 2>&1
	createdb pd_flame_store && psql -X -q -d pd_flame_store -c "CREATE EXTENSION perfstore" >/dev/null
	"$PD" run -d pd_flame -f "$TMP/cpu.sql" -c 2 -T 2 --flamegraph "$TMP/s1.svg" \
		--store pd_flame_store --name flame >"$TMP/s1.out" 2>&1
	"$PD" run -d pd_flame -f "$TMP/cpu.sql" -c 2 -T 2 --flamegraph "$TMP/s2.svg" \
		--store pd_flame_store --name flame >"$TMP/s2.out" 2>&1
	"$PD" run -d pd_flame -f "$TMP/one.sql" -c 1 -t 1 --store pd_flame_store --name plain \
		>/dev/null 2>&1
	ids=$(psql -X -A -t -q -d pd_flame_store -c "select string_agg(id::text, ' ' order by id) from perfstore.bench_runs")
	read -r id1 id2 id3 <<<"$ids"
	check "three runs stored" test -n "$id3"
	enc=$(psql -X -A -t -q -d pd_flame_store -c "select report->'flamegraph'->'folded'->>'encoding' from perfstore.bench_runs where id = $id1")
	check "the stored report keeps the stacks zlib+base64" test "$enc" = "zlib+base64"
	"$PD" flamegraph --store pd_flame_store "$id1" -o "$TMP/r1.svg" --folded "$TMP/r1.folded"
	check "flamegraph --store renders a stored run (exit 0)" test $? -eq 0
	check "the stored stacks are the run's own" cmp -s "$TMP/r1.folded" "$TMP/s1.folded"
	check "the stored run's SVG is well-formed" xmllint --noout "$TMP/r1.svg"
	check "the stored run's SVG has one rect per frame" \
		test "$(xcount "$TMP/r1.svg" "count(//*[local-name()='g'][@class='f']/*[local-name()='rect'])")" = "$(nodes "$TMP/r1.folded")"
	"$PD" flamegraph --store pd_flame_store "$id2" --diff "$id1" -o "$TMP/d12.svg"
	check "flamegraph --diff on stored runs (exit 0)" test $? -eq 0
	check "the differential SVG is well-formed" xmllint --noout "$TMP/d12.svg"
	"$PD" flamegraph --store pd_flame_store "$id3" -o "$TMP/r3.svg" 2>"$TMP/r3.err"
	check "a run stored without --flamegraph: exit 2" test $? -eq 2
	check "a run stored without --flamegraph: says so" \
		grep -q "^perfdriver: error: run $id3 has no flame graph stacks stored$" "$TMP/r3.err"
	# the HTML report of a stored run embeds its stored flame graph, and one
	# of a run stored without stacks has no such section
	"$PD" report --store pd_flame_store "$id1" --html "$TMP/r1.html" >"$TMP/r1h.out" 2>&1
	check "report --store of a run with stacks: the flame graph section" \
		grep -q "<h2>Flame graph</h2>" "$TMP/r1.html"
	"$PD" report --store pd_flame_store "$id3" --html "$TMP/r3.html" >"$TMP/r3h.out" 2>&1
	check "report --store of a run without stacks: no flame graph section" \
		test "$(grep -c "<h2>Flame graph</h2>" "$TMP/r3.html")" = 0
	"$PD" flamegraph --store pd_flame_store 999999 -o "$TMP/r4.svg" 2>"$TMP/r4.err"
	check "an unknown run: exit 2 and its id" \
		grep -q '^perfdriver: error: run 999999 is not in the store$' "$TMP/r4.err"
fi

# --- the differential graph of two synthetic folded files -----------------
printf 'a;b 10\na;c 10\na;gone 5\n' >"$TMP/base.folded"
printf 'a;b 30\na;c 10\n' >"$TMP/cand.folded"
"$PD" flamegraph "$TMP/cand.folded" --diff "$TMP/base.folded" -o "$TMP/diff.svg"
check "offline diff exits 0" test $? -eq 0
check "offline diff: well-formed" xmllint --noout "$TMP/diff.svg"
fill() {
	xmllint --xpath "string(//*[local-name()='g'][starts-with(*[local-name()='title'], '$2
')]/*[local-name()='rect']/@fill)" "$1" 2>/dev/null
}
check "offline diff: b grew (30 against 10 scaled to 16): red" grep -q '^rgb(255,' <(fill "$TMP/diff.svg" b)
check "offline diff: c shrank (10 against 16): blue" grep -q ',255)$' <(fill "$TMP/diff.svg" c)
check "offline diff: a is unchanged: neutral" test "$(fill "$TMP/diff.svg" a)" = "rgb(225,225,225)"
check "offline diff: a frame only in the base has no width" \
	test "$(xcount "$TMP/diff.svg" "count(//*[local-name()='g'][@class='f'])")" = 3
check "offline diff: the change is on hover" \
	grep -q 'base: 16.0 (scaled), change: +14.0 (+87.5%)' "$TMP/diff.svg"
"$PD" flamegraph "$TMP/cand.folded" -o "$TMP/plain.svg"
check "a folded file renders on its own" xmllint --noout "$TMP/plain.svg"
printf 'a;b x\n' >"$TMP/bad.folded"
"$PD" flamegraph "$TMP/bad.folded" -o "$TMP/bad.svg" 2>"$TMP/bad.err"
check "a malformed folded file: exit 2" test $? -eq 2
check "a malformed folded file: names the line" grep -q 'line 1' "$TMP/bad.err"

# --- option errors ----------------------------------------------------------
"$PD" run -d pd_flame -f "$TMP/cpu.sql" -t 1 --flamegraph-hz 99 >/dev/null 2>"$TMP/o1.err"
check "--flamegraph-hz without --flamegraph: exit 2" test $? -eq 2
check "--flamegraph-hz without --flamegraph: says so" \
	grep -q '^perfdriver: error: --flamegraph-hz needs --flamegraph$' "$TMP/o1.err"
"$PD" run -d pd_flame -f "$TMP/cpu.sql" -t 1 --flamegraph "$TMP/x.svg" --flamegraph-hz 0 \
	>/dev/null 2>"$TMP/o2.err"
check "--flamegraph-hz 0: exit 2" test $? -eq 2
check "--flamegraph-hz 0: names the value" grep -q 'invalid --flamegraph-hz: "0"' "$TMP/o2.err"
"$PD" flamegraph -o "$TMP/x.svg" 2>"$TMP/o3.err"
check "flamegraph without input: exit 2" test $? -eq 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
