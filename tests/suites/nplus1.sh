#!/usr/bin/env bash
# nplus1.sh: N+1 detection in "perfdriver run" and "perfdriver analyze".
#
# Runs with PGHOST, PGPORT, PGUSER, PGDATABASE, PERFSTORE_LOG (the throwaway
# cluster's stderr log, log_line_prefix '%m [%p] ') and PERFSTORE_PGBIN set
# by tests/run.sh.  Parts:
#   1. run: the scripts in tests/nplus1/scripts (N+1, its batched form, a
#      repetition below the threshold) in every protocol;
#   2. analyze on the logs the cluster writes while those scripts run
#      (ALTER DATABASE ... SET log_statement / log_min_duration_statement on
#      a database of this suite; the lines are sliced from PERFSTORE_LOG by
#      byte offset), simple and extended protocol;
#   2b. the workflow built-ins (workflow-init, workflow-nplus1 with its
#      finding, workflow-batched without) on the store's workflow tables;
#   3. analyze on a real csvlog: a second, private cluster in a temporary
#      directory (logging_collector = on, log_destination = 'csvlog', its
#      own port and socket), started and stopped here;
#   4. the labelled cases in tests/nplus1/cases (precision and recall, both
#      must be 1.0) and robustness: malformed, truncated, random input.
# The last line is "N passed, N failed"; the exit status is non-zero on
# failure.  Part 0 builds (tests/unit/unit.mk) and runs
# tests/nplus1/test_nplus1.c, the detector alone, as one check.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
. "$ROOT/tests/lib.sh"
PD="$ROOT/driver/perfdriver"
SCRIPTS="$ROOT/tests/nplus1/scripts"
CASES="$ROOT/tests/nplus1/cases"
TMP=$(mktemp -d /tmp/pd_nplus1.XXXXXX)
PGBIN=${PERFSTORE_PGBIN:-/usr/lib/postgresql/15/bin}
DB=pd_nplus1_$$			# per run: suites may run concurrently
PRIV_DATA=""

as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	if [ -n "$PRIV_DATA" ] && [ -f "$PRIV_DATA/postmaster.pid" ]; then
		as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m immediate -w stop >/dev/null 2>&1
	fi
	dropdb --if-exists "$DB" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# jget FILE EXPR: evaluate a Python expression on the JSON report j
jget() {
	python3 -S -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v)' "$1" "$2" 2>/dev/null
}

# expect_finding NAME JSON OCCURRENCES REPEATS_MAX: one finding, these counts
expect_finding() {
	local got
	got=$(jget "$2" '"%d %s %s %s" % (len(j["nplus1_findings"]), j["nplus1_findings"][0]["occurrences"], j["nplus1_findings"][0]["repeats_max"], j["nplus1_findings"][0]["repeats_total"]) if j["nplus1_findings"] else "0"')
	if [ "$got" = "1 $3 $4 $(($3 * $4))" ]; then
		ok "$1"
	else
		not_ok "$1" "want 1 finding with occurrences $3, repeats_max $4; got (findings occ max total): $got"
	fi
}

expect_none() {
	local got
	got=$(jget "$2" 'len(j["nplus1_findings"])')
	if [ "$got" = "0" ]; then ok "$1"; else not_ok "$1" "want no finding, got: ${got:-unreadable JSON}"; fi
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	finish
fi

# ------------------------------------------- 0. the detector alone (no server)
if make --no-print-directory -s -f tests/unit/unit.mk ROOT="$ROOT" \
	"$ROOT/tests/bin/test_nplus1" >"$TMP/cc.out" 2>&1; then
	"$ROOT/tests/bin/test_nplus1" >"$TMP/t.out" 2>&1
	rc=$?
	line=$(grep -E '^test_nplus1: [0-9]+ passed, [0-9]+ failed$' "$TMP/t.out")
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
	if [ -n "$line" ] && [ $rc -eq 0 ] && [ "$f" = 0 ]; then
		ok "detector unit tests ($p checks)"
	else
		not_ok "detector unit tests (exit $rc)" "$TMP/t.out"
	fi
else
	not_ok "detector unit tests build" "$TMP/cc.out"
fi

# ------------------------------------------------------------- 1. run
dropdb --if-exists "$DB" >/dev/null 2>&1
out=$(createdb "$DB" 2>&1) || { not_ok "create database $DB" "$out"; finish; }
psql -X -q -d "$DB" -c "CREATE TABLE np_items (id int PRIMARY KEY, v text);
	INSERT INTO np_items SELECT g, 'v' || g FROM generate_series(1, 1000) g" >/dev/null

for m in simple extended prepared; do
	"$PD" run -d "$DB" -f "$SCRIPTS/nplus1.sql" -M $m -c 2 -t 3 --json "$TMP/r.json" >"$TMP/r.out" 2>&1
	expect_finding "run -M $m: N+1 found (6 occurrences of 10 repeats)" "$TMP/r.json" 6 10
	s=$(jget "$TMP/r.json" 'j["nplus1_findings"][0]["suggestion"]')
	case "$s" in
		*"WHERE id = ANY(\$1)"*) ok "run -M $m: suggests = ANY" ;;
		*) not_ok "run -M $m: suggests = ANY" "got: $s" ;;
	esac
	e=$(jget "$TMP/r.json" 'len(j["nplus1_findings"][0]["example_params"])')
	t=$(jget "$TMP/r.json" 'j["nplus1_findings"][0]["time_ms"] > 0')
	if [ "$e" = "3" ] && [ "$t" = "True" ]; then ok "run -M $m: example parameters and time"; else not_ok "run -M $m: example parameters and time" "examples $e, time>0 $t"; fi
	if grep -q "N+1 patterns (1;" "$TMP/r.out" && grep -q "repeated: SELECT v FROM np_items WHERE id = \$1" "$TMP/r.out"; then
		ok "run -M $m: finding in the human report"
	else
		not_ok "run -M $m: finding in the human report" "$(tail -n 6 "$TMP/r.out")"
	fi
	"$PD" run -d "$DB" -f "$SCRIPTS/batched.sql" -M $m -c 2 -t 3 --json "$TMP/r.json" >/dev/null 2>&1
	expect_none "run -M $m: batched = ANY form not found" "$TMP/r.json"
	"$PD" run -d "$DB" -f "$SCRIPTS/below.sql" -M $m -c 2 -t 3 --json "$TMP/r.json" >/dev/null 2>&1
	expect_none "run -M $m: 3 repeats (below 5) not found" "$TMP/r.json"
done
"$PD" run -d "$DB" -f "$SCRIPTS/nplus1.sql" -c 2 -t 3 --nplus1-min-repeats 11 --json "$TMP/r.json" >/dev/null 2>&1
expect_none "run: --nplus1-min-repeats 11 hides 10 repeats" "$TMP/r.json"
"$PD" run -d "$DB" -f "$SCRIPTS/nplus1.sql" -c 2 -t 3 --nplus1-min-time 100000 --json "$TMP/r.json" >/dev/null 2>&1
expect_none "run: --nplus1-min-time 100000 hides a fast pattern" "$TMP/r.json"
"$PD" run -d "$DB" -f "$SCRIPTS/nplus1.sql" -c 4 -j 2 -t 5 --json "$TMP/r.json" >/dev/null 2>&1
expect_finding "run -c 4 -j 2: findings merged over threads" "$TMP/r.json" 20 10
"$PD" run -d "$DB" -f "$SCRIPTS/nplus1.sql" --nplus1-min-repeats 1 >"$TMP/u.out" 2>&1
if [ $? -eq 2 ] && grep -q "invalid --nplus1-min-repeats" "$TMP/u.out"; then ok "run: --nplus1-min-repeats 1 is a usage error"; else not_ok "run: --nplus1-min-repeats 1 is a usage error" "$(cat "$TMP/u.out")"; fi

# --------------------------------------------- 2. analyze, the server's stderr log
# log_slice NAME SCRIPT MODE: run SCRIPT and keep the log lines it wrote
log_slice() {
	local off
	off=$(stat -c %s "$PERFSTORE_LOG")
	"$PD" run -d "$DB" -f "$SCRIPTS/$2.sql" -M "$3" -c 2 -t 3 >/dev/null 2>&1
	tail -c +$((off + 1)) "$PERFSTORE_LOG" >"$TMP/$1.log"
}

if [ -n "${PERFSTORE_LOG:-}" ] && [ -r "${PERFSTORE_LOG:-}" ]; then
	# another run of this suite slicing the same log at the same time would
	# add its own statements to the slices: take turns
	exec 9>/tmp/perfstore_nplus1_log.lock
	flock -w 600 9 || true
	psql -X -q -d "$DB" -c "ALTER DATABASE $DB SET log_statement = 'all'" >/dev/null
	for m in simple extended; do
		log_slice "s_$m" nplus1 $m
		log_slice "b_$m" batched $m
		log_slice "w_$m" below $m
		"$PD" analyze --log "$TMP/s_$m.log" --json "$TMP/a.json" >"$TMP/a.out" 2>&1
		expect_finding "stderr log_statement, -M $m: N+1 found (6 x 10)" "$TMP/a.json" 6 10
		f=$(jget "$TMP/a.json" 'j["format"] + " " + str(j["unparsed_lines"]) + " " + str(j["statements"])')
		if [ "$f" = "stderr 0 66" ]; then ok "stderr -M $m: format detected, 66 statements, no unparsed line"; else not_ok "stderr -M $m: format detected, 66 statements, no unparsed line" "got $f"; fi
		"$PD" analyze --log "$TMP/b_$m.log" --format stderr --json "$TMP/a.json" >/dev/null 2>&1
		expect_none "stderr log_statement, -M $m: batched not found" "$TMP/a.json"
		"$PD" analyze --log "$TMP/w_$m.log" --json "$TMP/a.json" >/dev/null 2>&1
		expect_none "stderr log_statement, -M $m: below threshold not found" "$TMP/a.json"
	done
	e=$(jget "$TMP/a.json" 'j["statements"]')
	x=$(grep -c "DETAIL:  parameters" "$TMP/s_extended.log")
	if [ "$x" -ge 60 ]; then ok "extended protocol log has parameters ($x)"; else not_ok "extended protocol log has parameters" "got $x"; fi
	psql -X -q -d "$DB" -c "ALTER DATABASE $DB SET log_statement = 'none'" \
		-c "ALTER DATABASE $DB SET log_min_duration_statement = 0" >/dev/null
	for m in simple extended; do
		log_slice "d_$m" nplus1 $m
		"$PD" analyze --log "$TMP/d_$m.log" --json "$TMP/a.json" >/dev/null 2>&1
		expect_finding "stderr log_min_duration_statement, -M $m: N+1 found" "$TMP/a.json" 6 10
		t=$(jget "$TMP/a.json" 'j["durations_logged"] and j["nplus1_findings"][0]["time_ms"] > 0')
		if [ "$t" = "True" ]; then ok "stderr durations, -M $m: time in the repeats"; else not_ok "stderr durations, -M $m: time in the repeats" "got $t"; fi
	done
	psql -X -q -d "$DB" -c "ALTER DATABASE $DB SET log_statement = 'all'" >/dev/null
	log_slice "both" nplus1 extended
	"$PD" analyze --log "$TMP/both.log" --json "$TMP/a.json" >/dev/null 2>&1
	expect_finding "stderr log_statement + durations, extended: N+1 found" "$TMP/a.json" 6 10
	psql -X -q -d "$DB" -c "ALTER DATABASE $DB RESET ALL" >/dev/null
	flock -u 9
else
	not_ok "PERFSTORE_LOG is readable" "PERFSTORE_LOG=${PERFSTORE_LOG:-unset}"
fi

# ------------------------------------------- workflow built-ins
# The store's workflow tables come from the extension itself.
WFDB=pd_nplus1_wf_$$
dropdb --if-exists "$WFDB" >/dev/null 2>&1
createdb "$WFDB"
if psql -X -q -v ON_ERROR_STOP=1 -d "$WFDB" -c "CREATE EXTENSION perfstore" >/dev/null 2>"$TMP/ext.err"; then
	ok "CREATE EXTENSION perfstore for the workflow built-ins"
else
	not_ok "CREATE EXTENSION perfstore for the workflow built-ins" "$(cat "$TMP/ext.err")"
fi
"$PD" run -d "$WFDB" -b workflow-init -t 1 >/dev/null 2>&1
"$PD" run -d "$WFDB" -b workflow-init -t 1 >/dev/null 2>&1
n=$(psql -X -A -t -q -d "$WFDB" -c "SELECT (SELECT count(*) FROM perfstore.workflow_runs) || ' ' || (SELECT count(*) FROM perfstore.task_executions)")
if [ "$n" = "200 1600" ]; then ok "workflow-init fills 200 runs, 1600 tasks (once)"; else not_ok "workflow-init fills 200 runs, 1600 tasks" "got $n"; fi
for m in simple extended prepared; do
	"$PD" run -d "$WFDB" -b workflow-nplus1 -M $m -c 2 -t 4 --json "$TMP/w.json" >"$TMP/w.out" 2>&1
	expect_finding "workflow-nplus1 -M $m: N+1 found (8 x 10)" "$TMP/w.json" 8 10
	t=$(jget "$TMP/w.json" 'j["failed_transactions"] == 0 and j["nplus1_findings"][0]["time_ms"] > 0')
	if [ "$t" = True ] && grep -q "N+1 patterns (1;" "$TMP/w.out"; then ok "workflow-nplus1 -M $m: cost shown"; else not_ok "workflow-nplus1 -M $m: cost shown" "$(tail -n 5 "$TMP/w.out")"; fi
	"$PD" run -d "$WFDB" -b workflow-batched -M $m -c 2 -t 4 --json "$TMP/w.json" >/dev/null 2>&1
	t=$(jget "$TMP/w.json" 'j["failed_transactions"]')
	expect_none "workflow-batched -M $m: no finding" "$TMP/w.json"
	if [ "$t" = 0 ]; then ok "workflow-batched -M $m: runs without errors"; else not_ok "workflow-batched -M $m: runs without errors" "failed $t"; fi
done
dropdb --if-exists "$WFDB" >/dev/null 2>&1

# ---------------------------------------------- 3. analyze, a real csvlog
priv_port=$((${PGPORT:-54329} + 100 + $$ % 900))	# per run, like the databases
PRIV="$TMP/priv"
mkdir -p "$PRIV/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$TMP"
chmod 755 "$TMP"
if as_server "$PGBIN/initdb" -D "$PRIV/data" -U postgres -E UTF8 --locale=C --auth-local=trust >"$TMP/initdb.log" 2>&1; then
	PRIV_DATA="$PRIV/data"
	cat >>"$PRIV_DATA/postgresql.conf" <<EOF
port = $priv_port
listen_addresses = ''
unix_socket_directories = '$PRIV/sock'
logging_collector = on
log_destination = 'csvlog'
log_directory = 'log'
log_filename = 'pg'
log_rotation_age = 0
log_rotation_size = 0
fsync = off
shared_buffers = 16MB
EOF
	if as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -l "$TMP/priv.out" -w -t 60 start >/dev/null 2>&1; then
		ok "private csvlog cluster started (port $priv_port)"
		P="host=$PRIV/sock port=$priv_port user=postgres dbname=postgres"
		psql -X -q -d "$P" -c "CREATE TABLE np_items (id int PRIMARY KEY, v text);
			INSERT INTO np_items SELECT g, 'v' || g FROM generate_series(1, 1000) g" \
			-c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
		sleep 0.5
		CSV="$PRIV_DATA/log/pg.csv"
		# csv_slice NAME SCRIPT MODE: run SCRIPT and keep the records it wrote
		csv_slice() {
			local off n prev=-1 tries=0
			off=$(as_server stat -c %s "$CSV")
			"$PD" run -d "$P" -f "$SCRIPTS/$2.sql" -M "$3" -c 2 -t 3 >/dev/null 2>&1
			# the logging collector writes asynchronously: wait until it settles
			while [ $tries -lt 50 ]; do
				n=$(as_server stat -c %s "$CSV")
				[ "$n" = "$prev" ] && break
				prev=$n
				tries=$((tries + 1))
				sleep 0.1
			done
			as_server tail -c +$((off + 1)) "$CSV" >"$TMP/$1.csv"
		}
		for m in simple extended; do
			csv_slice "cs_$m" nplus1 $m
			csv_slice "cb_$m" batched $m
			csv_slice "cw_$m" below $m
			"$PD" analyze --log "$TMP/cs_$m.csv" --json "$TMP/a.json" >/dev/null 2>&1
			expect_finding "csvlog, -M $m: N+1 found (6 x 10)" "$TMP/a.json" 6 10
			f=$(jget "$TMP/a.json" 'j["format"] + " " + str(j["unparsed_lines"]) + " " + str(j["statements"])')
			if [ "$f" = "csvlog 0 66" ]; then ok "csvlog -M $m: format detected, 66 statements, no unparsed line"; else not_ok "csvlog -M $m: format detected, 66 statements, no unparsed line" "got $f"; fi
			"$PD" analyze --log "$TMP/cb_$m.csv" --format csvlog --json "$TMP/a.json" >/dev/null 2>&1
			expect_none "csvlog, -M $m: batched not found" "$TMP/a.json"
			"$PD" analyze --log "$TMP/cw_$m.csv" --json "$TMP/a.json" >/dev/null 2>&1
			expect_none "csvlog, -M $m: below threshold not found" "$TMP/a.json"
		done
		as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m fast -w stop >/dev/null 2>&1
	else
		not_ok "private csvlog cluster started" "$(tail -n 5 "$TMP/priv.out" 2>/dev/null)"
	fi
else
	not_ok "private csvlog cluster initdb" "$(tail -n 5 "$TMP/initdb.log")"
fi

# ------------------------------------------------ 4. labelled cases
tp=0
fp=0
fn=0
tn=0
ncases=0
for f in "$CASES"/*.log "$CASES"/*.csv; do
	[ -f "$f" ] || continue
	base=${f%.*}
	name=$(basename "$base")
	want=$(head -n 1 "$base.expect")
	args=$(sed -n 's/^args //p' "$base.expect")
	# shellcheck disable=SC2086
	"$PD" analyze --log "$f" $args --json "$TMP/c.json" >"$TMP/c.out" 2>&1
	rc=$?
	ncases=$((ncases + 1))
	# one line: the number of findings, then the mismatches with the expectations
	res=$(python3 -S - "$TMP/c.json" "$base.expect" <<'PY' 2>/dev/null
import json, sys
j = json.load(open(sys.argv[1]))
f = j["nplus1_findings"]
bad = []
for line in open(sys.argv[2]).read().splitlines()[1:]:
    key, _, val = line.partition(" ")
    if key == "args" or not key:
        continue
    if key in ("occurrences", "repeats_max", "repeats_total", "time_ms"):
        got = f[0][key] if f else None
    elif key == "truncated":
        got = str(j["truncated"]).lower()
    else:
        got = j.get(key)
    if str(got) != val and str(got) != val + ".0":
        bad.append("%s: want %s, got %s" % (key, val, got))
if f and open(sys.argv[2]).readline().strip() == "none":
    bad.append("false positive: " + f[0]["repeated"])
print(len(f), "; ".join(bad))
PY
)
	n=${res%% *}
	if [ $rc -ne 0 ] || [ -z "$res" ]; then
		not_ok "case $name: analyze exits 0 with a report" "exit $rc" "$(tail -n 3 "$TMP/c.out")"
		[ "$want" = finding ] && fn=$((fn + 1)) || fp=$((fp + 1))
		continue
	fi
	if [ "$want" = finding ]; then
		if [ "$n" -gt 0 ]; then tp=$((tp + 1)); else fn=$((fn + 1)); fi
	else
		if [ "$n" -gt 0 ]; then fp=$((fp + 1)); else tn=$((tn + 1)); fi
	fi
	bad=${res#* }
	[ "$want" = finding ] && [ "$n" -eq 0 ] && bad="missed $bad"
	if [ -z "$bad" ]; then ok "case $name ($want)"; else not_ok "case $name ($want)" "$bad"; fi
done
precision=$(awk -v tp=$tp -v fp=$fp 'BEGIN { printf "%.3f", (tp + fp) ? tp / (tp + fp) : 1 }')
recall=$(awk -v tp=$tp -v fn=$fn 'BEGIN { printf "%.3f", (tp + fn) ? tp / (tp + fn) : 1 }')
echo "# labelled cases: $ncases (tp $tp, fp $fp, fn $fn, tn $tn): precision $precision, recall $recall"
if [ "$ncases" -ge 20 ] && [ "$precision" = "1.000" ] && [ "$recall" = "1.000" ]; then
	ok "labelled set: $ncases cases, precision 1.0 and recall 1.0"
else
	not_ok "labelled set: at least 20 cases, precision 1.0 and recall 1.0" "$ncases cases, precision $precision, recall $recall"
fi

# ------------------------------------------------ robustness and exit codes
: >"$TMP/empty.log"
"$PD" analyze --log "$TMP/empty.log" --json "$TMP/a.json" >/dev/null 2>&1
rc=$?
n=$(jget "$TMP/a.json" 'len(j["nplus1_findings"])')
if [ $rc -eq 0 ] && [ "$n" = 0 ]; then ok "empty log: exit 0, no finding"; else not_ok "empty log: exit 0, no finding" "exit $rc, $n"; fi
"$PD" analyze --log "$TMP/does-not-exist.log" >"$TMP/e.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "perfdriver: error: could not open log file" "$TMP/e.out"; then ok "missing file: exit 2 with an error"; else not_ok "missing file: exit 2 with an error" "exit $rc: $(cat "$TMP/e.out")"; fi
"$PD" analyze --log "$TMP" >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "directory: exit 2"; else not_ok "directory: exit 2" "exit $rc"; fi
"$PD" analyze --log "$CASES/01_stderr_simple.log" --format xml >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "unrecognized --format: exit 2"; else not_ok "unrecognized --format: exit 2" "exit $rc"; fi
"$PD" analyze --log "$CASES/01_stderr_simple.log" --fail-on-findings >/dev/null 2>&1
rc1=$?
"$PD" analyze --log "$CASES/16_stderr_batched_any.log" --fail-on-findings >/dev/null 2>&1
rc2=$?
if [ $rc1 -eq 1 ] && [ $rc2 -eq 0 ]; then ok "--fail-on-findings: exit 1 on a finding, 0 without"; else not_ok "--fail-on-findings" "exit $rc1 / $rc2"; fi
"$PD" analyze --log - --json "$TMP/a.json" <"$CASES/03_csv_transactions.csv" >/dev/null 2>&1
expect_finding "csvlog from stdin" "$TMP/a.json" 2 10
"$PD" analyze --log "$CASES/01_stderr_simple.log" --json - 2>/dev/null >"$TMP/stdout.json"
n=$(jget "$TMP/stdout.json" 'len(j["nplus1_findings"])')
if [ "$n" = 1 ]; then ok "--json - writes the JSON alone on stdout"; else not_ok "--json - writes the JSON alone on stdout" "got $n"; fi

# a csvlog that starts in the middle of an entry: still detected as csvlog
(echo 'line two of an entry cut at the start",,,,,,,,,"psql",client backend,,0'
	cat "$CASES/03_csv_transactions.csv") >"$TMP/mid.csv"
"$PD" analyze --log "$TMP/mid.csv" --json "$TMP/a.json" >/dev/null 2>&1
t=$(jget "$TMP/a.json" 'j["format"] + " " + str(j["unparsed_lines"]) + " " + str(len(j["nplus1_findings"]))')
if [ "$t" = "csvlog 1 1" ]; then ok "csvlog cut at the start: detected, 1 unparsed line, finding kept"; else not_ok "csvlog cut at the start" "got $t"; fi

# random bytes, both formats, and every truncation of a csvlog and a stderr log
head -c 300000 /dev/urandom >"$TMP/random.bin"
crashes=0
for fmt in csvlog stderr; do
	"$PD" analyze --log "$TMP/random.bin" --format $fmt >/dev/null 2>&1 || crashes=$((crashes + 1))
done
for src in "$CASES/15_csv_quoted_newlines_truncated.csv" "$CASES/07_stderr_multiline.log"; do
	size=$(stat -c %s "$src")
	for ((cut = 1; cut < size; cut += 37)); do
		head -c $cut "$src" >"$TMP/cut"
		"$PD" analyze --log "$TMP/cut" >/dev/null 2>&1 || crashes=$((crashes + 1))
	done
done
if [ $crashes -eq 0 ]; then ok "random and truncated input: always exit 0 with a report"; else not_ok "random and truncated input: always exit 0" "$crashes failures"; fi
# a truncated copy of a finding still reports it
head -c $(($(stat -c %s "$CASES/01_stderr_simple.log") - 20)) "$CASES/01_stderr_simple.log" >"$TMP/cut.log"
"$PD" analyze --log "$TMP/cut.log" --json "$TMP/a.json" >/dev/null 2>&1
t=$(jget "$TMP/a.json" 'str(j["truncated"]) + " " + str(len(j["nplus1_findings"]))')
if [ "$t" = "True 1" ]; then ok "truncated stderr log: flagged, finding kept"; else not_ok "truncated stderr log: flagged, finding kept" "got $t"; fi
# one entry longer than the read buffer
python3 -c "
import sys
sys.stdout.write('2026-11-18 00:00:00.000 UTC [9] LOG:  statement: SELECT ' + 'x' * (9 << 20) + '\n')
sys.stdout.write(open('$CASES/01_stderr_simple.log').read())" >"$TMP/long.log"
"$PD" analyze --log "$TMP/long.log" --json "$TMP/a.json" >/dev/null 2>&1
rc=$?
n=$(jget "$TMP/a.json" 'len(j["nplus1_findings"])')
if [ $rc -eq 0 ] && [ "$n" = 1 ]; then ok "a 9 MB statement: parsed, finding after it kept"; else not_ok "a 9 MB statement" "exit $rc, findings $n"; fi

finish
