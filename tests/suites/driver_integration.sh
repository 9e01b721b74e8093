#!/usr/bin/env bash
# driver_integration.sh: perfdriver against the throwaway cluster.
#
# Runs with PGHOST, PGPORT, PGUSER and PGDATABASE pointing at the cluster
# (tests/run.sh sets them; by hand: scripts/pgcluster.sh start && eval
# "$(scripts/pgcluster.sh env)").  Every test creates its own database.  One
# test restarts the cluster with scripts/pgcluster.sh restart.  The last line
# of output is "N passed, N failed"; the exit status is non-zero on failure.
# The only timing assertions are the latency accuracy checks (pg_sleep mix
# within 15%, the stall visible in p99 and schedule lag).
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PD="$ROOT/driver/perfdriver"
TMP=$(mktemp -d /tmp/pd_integration.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# newdb NAME: a fresh database
newdb() {
	dropdb --if-exists "$1" >/dev/null 2>&1
	createdb "$1"
}

# jget FILE EXPR: evaluate a Python expression on the JSON report j
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v)' "$1" "$2"
}

# fcmp A OP B: floating-point comparison
fcmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (op == "<") exit !(a < b); if (op == "<=") exit !(a <= b);
		if (op == ">") exit !(a > b); if (op == ">=") exit !(a >= b);
		exit 1 }'
}

psqlv() {
	psql -X -A -t -q "$@"
}

if [ ! -x "$PD" ]; then
	not_ok "perfdriver is built" "missing $PD: run make"
	finish
fi

# --- init creates pgbench-compatible tables and data ----------------------
newdb pd_init_a
newdb pd_init_b
"$PD" init -q -s 2 -d pd_init_a >"$TMP/init.out" 2>&1
check "init exits 0" test $? -eq 0
pgbench -q -i -s 2 pd_init_b >/dev/null 2>&1
sum_q="select (select count(*) from pgbench_accounts) || ':' ||
	(select sum(hashtext(a::text)) from pgbench_accounts a) || ':' ||
	(select sum(hashtext(t::text)) from pgbench_tellers t) || ':' ||
	(select sum(hashtext(b::text)) from pgbench_branches b) || ':' ||
	(select count(*) from pgbench_history) || ':' ||
	(select string_agg(c.relname || coalesce(array_to_string(c.reloptions, ','), ''), ' ' order by c.relname)
	 from pg_class c where c.relname like 'pgbench%')"
a=$(psqlv -d pd_init_a -c "$sum_q")
b=$(psqlv -d pd_init_b -c "$sum_q")
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "init data equals pgbench -i"; else not_ok "init data equals pgbench -i" "perfdriver: $a" "pgbench:    $b"; fi
a=$(psqlv -d pd_init_a -c "select string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, '') || is_nullable, ',' order by table_name, ordinal_position) from information_schema.columns where table_name like 'pgbench%'")
b=$(psqlv -d pd_init_b -c "select string_agg(table_name || '.' || column_name || ':' || data_type || coalesce(character_maximum_length::text, '') || is_nullable, ',' order by table_name, ordinal_position) from information_schema.columns where table_name like 'pgbench%'")
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "init table definitions equal pgbench -i"; else not_ok "init table definitions equal pgbench -i" "$a" "$b"; fi
pgbench -n -t 5 pd_init_a >/dev/null 2>&1
check "pgbench runs on perfdriver init data" test $? -eq 0
"$PD" run -t 5 -d pd_init_b >/dev/null 2>&1
check "perfdriver runs on pgbench -i data" test $? -eq 0

# --- every built-in runs, in every protocol -------------------------------
newdb pd_builtin
"$PD" init -q -d pd_builtin >/dev/null 2>&1
for b in tpcb-like simple-update select-only; do
	for m in simple extended prepared; do
		"$PD" run -d pd_builtin -b "$b" -M "$m" -c 3 -j 2 -t 20 --json "$TMP/b.json" >"$TMP/b.out" 2>&1
		rc=$?
		n=$(jget "$TMP/b.json" 'j["transactions"]' 2>/dev/null)
		if [ $rc -eq 0 ] && [ "$n" = "60" ]; then
			ok "builtin $b -M $m"
		else
			not_ok "builtin $b -M $m" "exit $rc, transactions $n" "$(tail -n 5 "$TMP/b.out")"
		fi
	done
done

# --- committed tpcb-like transactions equal the rows added to history -----
newdb pd_history
"$PD" init -q -d pd_history >/dev/null 2>&1
before=$(psqlv -d pd_history -c "select count(*) from pgbench_history")
"$PD" run -d pd_history -c 4 -j 2 -T 2 --json "$TMP/h.json" >"$TMP/h.out" 2>&1
rc=$?
after=$(psqlv -d pd_history -c "select count(*) from pgbench_history")
n=$(jget "$TMP/h.json" 'j["transactions"]')
if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && [ $((after - before)) -eq "$n" ]; then
	ok "tpcb-like committed ($n) equals rows added to pgbench_history"
else
	not_ok "tpcb-like committed equals rows added to pgbench_history" "exit $rc, committed $n, history +$((after - before))"
fi
stmts=$(jget "$TMP/h.json" 'len(j["statements"])')
check "tpcb-like reports its 7 statements" test "$stmts" = "7"
calls=$(jget "$TMP/h.json" '[s["calls"] for s in j["statements"] if s["query"].startswith("INSERT")][0]')
check "per-statement calls match the inserts" test "$calls" -ge "$n"

# --- pipelines and \gset ----------------------------------------------------
cat >"$TMP/pipe.sql" <<'EOF'
\set aid random(1, 100000 * :scale)
\set delta random(-5000, 5000)
\startpipeline
BEGIN;
UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;
SELECT abalance, :aid AS echoed FROM pgbench_accounts WHERE aid = :aid \gset
END;
\endpipeline
\if :echoed != :aid
SELECT 1/0;
\endif
EOF
for m in extended prepared; do
	"$PD" run -d pd_builtin -M "$m" -f "$TMP/pipe.sql" -c 2 -t 30 --json "$TMP/p.json" >"$TMP/p.out" 2>&1
	rc=$?
	n=$(jget "$TMP/p.json" 'j["transactions"]')
	if [ $rc -eq 0 ] && [ "$n" = "60" ]; then ok "pipeline and \\gset, -M $m"; else not_ok "pipeline and \\gset, -M $m" "exit $rc, transactions $n" "$(tail -n 5 "$TMP/p.out")"; fi
done

# --- the store's built-ins: workflow and ingest ----------------------------
# They run on a database with the extension; the rows each reports (the rows
# of start_workflow_run and start_task, of record() and of the INSERT into
# perfstore.ingest) must be the rows it added, with no error, in every
# protocol, and with -T (transactions under way at the deadline finish).
newdb pd_store_builtins
if psql -X -q -v ON_ERROR_STOP=1 -d pd_store_builtins -c "CREATE EXTENSION perfstore" >"$TMP/ext.out" 2>&1; then
	ok "CREATE EXTENSION perfstore for the store built-ins"
else
	not_ok "CREATE EXTENSION perfstore for the store built-ins" "$(cat "$TMP/ext.out")"
fi
wf_counts="select (select count(*) from perfstore.workflow_runs) || ' ' ||
	(select count(*) from perfstore.task_executions) || ' ' ||
	(select count(*) from perfstore.workflow_runs where status = 'running') || ' ' ||
	(select count(*) from perfstore.task_executions where status = 'running')"
for spec in "simple:-t 40" "extended:-t 40" "prepared:-t 40" "prepared:-T 2"; do
	m=${spec%%:*}
	len=${spec#*:}
	read -r runs0 tasks0 _ _ <<<"$(psqlv -d pd_store_builtins -c "$wf_counts")"
	# shellcheck disable=SC2086
	"$PD" run -d pd_store_builtins -b workflow -M "$m" -c 4 -j 2 $len --json "$TMP/wf.json" >"$TMP/wf.out" 2>&1
	rc=$?
	read -r runs1 tasks1 open_runs open_tasks <<<"$(psqlv -d pd_store_builtins -c "$wf_counts")"
	rep=$(jget "$TMP/wf.json" '"%d %d %d %d %d" % (j["transactions"], j["failed_transactions"], sum(j["errors"].values()),
		sum(s["rows"] for s in j["statements"] if "perfstore.start_workflow_run(" in s["query"]),
		sum(s["rows"] for s in j["statements"] if "perfstore.start_task(" in s["query"]))' 2>/dev/null)
	read -r n failed errs rep_runs rep_tasks <<<"$rep"
	if [ $rc -eq 0 ] && [ "${n:-0}" -gt 0 ] && [ "$failed" = 0 ] && [ "$errs" = 0 ]; then
		ok "builtin workflow -M $m $len: $n transactions, no error"
	else
		not_ok "builtin workflow -M $m $len: no error" "exit $rc, report: $rep" "$(tail -n 5 "$TMP/wf.out")"
	fi
	if [ "${rep_runs:-0}" -gt 0 ] && [ "$rep_runs" -eq $((runs1 - runs0)) ] && [ "$rep_tasks" -eq $((tasks1 - tasks0)) ] &&
		[ "$rep_tasks" -eq $((4 * rep_runs)) ] && [ "$open_runs $open_tasks" = "0 0" ]; then
		ok "builtin workflow -M $m $len: reported rows equal rows added ($rep_runs runs, $rep_tasks tasks)"
	else
		not_ok "builtin workflow -M $m $len: reported rows equal rows added" \
			"reported runs $rep_runs tasks $rep_tasks; added runs $((runs1 - runs0)) tasks $((tasks1 - tasks0)); still running: $open_runs $open_tasks"
	fi
done
for spec in "simple:-t 40" "extended:-t 40" "prepared:-t 40" "simple:-T 2"; do
	m=${spec%%:*}
	len=${spec#*:}
	s0=$(psqlv -d pd_store_builtins -c "select count(*) from perfstore.samples")
	# shellcheck disable=SC2086
	"$PD" run -d pd_store_builtins -b ingest -M "$m" -c 4 -j 2 $len --json "$TMP/in.json" >"$TMP/in.out" 2>&1
	rc=$?
	s1=$(psqlv -d pd_store_builtins -c "select count(*) from perfstore.samples")
	staged=$(psqlv -d pd_store_builtins -c "select count(*) from perfstore.ingest")
	rep=$(jget "$TMP/in.json" '"%d %d %d %d %d" % (j["transactions"], j["failed_transactions"], sum(j["errors"].values()),
		sum(s["rows"] for s in j["statements"] if "perfstore.record(" in s["query"]),
		sum(s["rows"] for s in j["statements"] if s["query"].startswith("INSERT INTO perfstore.ingest")))' 2>/dev/null)
	read -r n failed errs rep_rec rep_batch <<<"$rep"
	if [ $rc -eq 0 ] && [ "${n:-0}" -gt 0 ] && [ "$failed" = 0 ] && [ "$errs" = 0 ]; then
		ok "builtin ingest -M $m $len: $n transactions, no error"
	else
		not_ok "builtin ingest -M $m $len: no error" "exit $rc, report: $rep" "$(tail -n 5 "$TMP/in.out")"
	fi
	if [ "${rep_rec:-0}" -eq $((3 * n)) ] && [ $((rep_rec + rep_batch)) -eq $((s1 - s0)) ] && [ "$staged" = 0 ]; then
		ok "builtin ingest -M $m $len: reported rows equal samples added ($rep_rec recorded, $rep_batch batched)"
	else
		not_ok "builtin ingest -M $m $len: reported rows equal samples added" \
			"reported record() $rep_rec, batch $rep_batch; samples added $((s1 - s0)); left in perfstore.ingest $staged"
	fi
done

# --- script errors name file and line, exit 2 -----------------------------
printf 'SELECT 1;\n\\foo bar\n' >"$TMP/bad.sql"
"$PD" run -d pd_builtin -f "$TMP/bad.sql" -t 1 >"$TMP/bad.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "bad.sql:2" "$TMP/bad.out"; then ok "script syntax error: exit 2 with file:line"; else not_ok "script syntax error: exit 2 with file:line" "exit $rc" "$(cat "$TMP/bad.out")"; fi
"$PD" run -d pd_builtin --no-such-option >"$TMP/u.out" 2>&1
check "unknown option exits 2" test $? -eq 2

# --- SQL errors are counted by SQLSTATE, exit 1 ---------------------------
# A non-retryable error aborts the client, as in pgbench; with
# --continue-on-error every transaction runs (and fails).
printf 'SELECT 1/0;\n' >"$TMP/div.sql"
"$PD" run -d pd_builtin -f "$TMP/div.sql" -t 3 --json "$TMP/d.json" >"$TMP/d.out" 2>&1
rc=$?
e=$(jget "$TMP/d.json" 'j["errors"].get("22012")')
f=$(jget "$TMP/d.json" 'j["failed_transactions"]')
a=$(jget "$TMP/d.json" 'j["aborted_clients"]')
if [ $rc -eq 1 ] && [ "$e" = "1" ] && [ "$f" = "1" ] && [ "$a" = "1" ]; then ok "SQL error aborts the client, counted by SQLSTATE, exit 1"; else not_ok "SQL error aborts the client, counted by SQLSTATE, exit 1" "exit $rc, 22012=$e, failed=$f, aborted=$a"; fi
"$PD" run -d pd_builtin -f "$TMP/div.sql" -t 3 --continue-on-error --json "$TMP/d.json" >"$TMP/d.out" 2>&1
rc=$?
e=$(jget "$TMP/d.json" 'j["errors"].get("22012")')
f=$(jget "$TMP/d.json" 'j["failed_transactions"]')
if [ $rc -eq 1 ] && [ "$e" = "3" ] && [ "$f" = "3" ]; then ok "--continue-on-error: SQL errors counted by SQLSTATE, exit 1"; else not_ok "--continue-on-error: SQL errors counted by SQLSTATE, exit 1" "exit $rc, 22012=$e, failed=$f"; fi

# --- serialization failures are retried with --max-tries -----------------
cat >"$TMP/ser.sql" <<'EOF'
\set aid random(1, 9)
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT sum(abalance) FROM pgbench_accounts WHERE aid < 10;
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
END;
EOF
before=$(psqlv -d pd_builtin -c "select sum(abalance) from pgbench_accounts where aid < 10")
"$PD" run -d pd_builtin -f "$TMP/ser.sql" -c 4 -j 2 -t 100 --max-tries 1000 --json "$TMP/ser.json" >"$TMP/ser.out" 2>&1
rc=$?
after=$(psqlv -d pd_builtin -c "select sum(abalance) from pgbench_accounts where aid < 10")
n=$(jget "$TMP/ser.json" 'j["transactions"]')
if [ $rc -eq 0 ] && [ "$n" = "400" ] && [ $((after - before)) -eq 400 ]; then
	ok "--max-tries retries 40001 until committed ($(jget "$TMP/ser.json" 'j["retries"]') retries)"
else
	not_ok "--max-tries retries 40001 until committed" "exit $rc, committed $n, updates $((after - before))" "$(tail -n 3 "$TMP/ser.out")"
fi

# --- \sleep and -D ------------------------------------------------------------
printf '\\sleep :ms ms\nSELECT 1;\n' >"$TMP/sl.sql"
"$PD" run -d pd_builtin -f "$TMP/sl.sql" -D ms=20 -t 10 --json "$TMP/sl.json" >"$TMP/sl.out" 2>&1
rc=$?
p50=$(jget "$TMP/sl.json" 'j["latency_ms"]["p50"]')
if [ $rc -eq 0 ] && fcmp "$p50" ">=" 19 && fcmp "$p50" "<" 40; then ok "\\sleep with a -D variable ($p50 ms)"; else not_ok "\\sleep with a -D variable" "exit $rc, p50 $p50" "$(cat "$TMP/sl.out")"; fi

# --- latency accuracy: 90% pg_sleep(0.005), 10% pg_sleep(0.020) -----------
newdb pd_sleep
echo 'SELECT pg_sleep(0.005);' >"$TMP/s5.sql"
echo 'SELECT pg_sleep(0.020);' >"$TMP/s20.sql"
"$PD" run -d pd_sleep -f "$TMP/s5.sql@90" -f "$TMP/s20.sql@10" -c 4 -j 2 -T 5 \
	--json "$TMP/s.json" >"$TMP/s.out" 2>&1
rc=$?
p50=$(jget "$TMP/s.json" 'j["latency_ms"]["p50"]')
p95=$(jget "$TMP/s.json" 'j["latency_ms"]["p95"]')
if [ $rc -eq 0 ] && fcmp "$p50" ">=" 4.25 && fcmp "$p50" "<=" 5.75; then ok "p50 near 5 ms ($p50)"; else not_ok "p50 near 5 ms" "exit $rc, p50 $p50"; fi
if [ $rc -eq 0 ] && fcmp "$p95" ">=" 17 && fcmp "$p95" "<=" 23; then ok "p95 near 20 ms ($p95)"; else not_ok "p95 near 20 ms" "exit $rc, p95 $p95"; fi

# --- -R with a stalled server: the stall shows in p99 and schedule lag ----
newdb pd_stall
"$PD" init -q -d pd_stall >/dev/null 2>&1
echo 'SELECT abalance FROM pgbench_accounts WHERE aid = 1;' >"$TMP/one.sql"
"$PD" run -d pd_stall -f "$TMP/one.sql" -c 2 -R 200 -T 5 --json "$TMP/r.json" >"$TMP/r.out" 2>&1 &
pid=$!
sleep 1.5
psql -X -q -d pd_stall -c "begin; lock table pgbench_accounts in access exclusive mode; select pg_sleep(1); commit;" >/dev/null
wait $pid
rc=$?
p99=$(jget "$TMP/r.json" 'j["latency_ms"]["p99"]')
lagmax=$(jget "$TMP/r.json" 'j["schedule_lag_ms"]["max"]')
lagp99=$(jget "$TMP/r.json" 'j["schedule_lag_ms"]["p99"]')
if [ $rc -eq 0 ] && fcmp "$p99" ">=" 500; then ok "-R stall shows in p99 ($p99 ms)"; else not_ok "-R stall shows in p99" "exit $rc, p99 $p99"; fi
if fcmp "$lagmax" ">=" 500 && fcmp "$lagp99" ">=" 100; then ok "-R stall shows in schedule lag (max $lagmax ms)"; else not_ok "-R stall shows in schedule lag" "lag max $lagmax, p99 $lagp99"; fi

# --- sessions closed while the clients wait for their -R start ------------
# The server ends idle sessions (pg_terminate_backend): the clients are not
# waiting for results then; each finds out at its next statement, counts the
# error under the server's SQLSTATE, reconnects, and the run goes on.
"$PD" run -d pd_stall -f "$TMP/one.sql" -c 4 -j 2 -R 40 -T 4 -P 1 --json "$TMP/ik.json" >"$TMP/ik.out" 2>&1 &
pid=$!
sleep 1.5
killed=$(psqlv -d postgres -c "select count(pg_terminate_backend(pid)) from pg_stat_activity
	where datname = 'pd_stall' and application_name = 'perfdriver'")
wait $pid
rc=$?
rep=$(jget "$TMP/ik.json" '"%d %d %d %s" % (j["reconnects"], j["failed_transactions"], j["intervals"][-1]["transactions"] + j["intervals"][-2]["transactions"], ",".join(sorted(j["errors"].keys())))' 2>/dev/null)
read -r rec failed late errs <<<"$rep"
if [ $rc -eq 1 ] && [ "$killed" = 4 ] && [ "${rec:-0}" -eq 4 ] && [ "$failed" -ge 1 ] && [ "$late" -gt 0 ] &&
	echo "$errs" | grep -qE '57P01|08006'; then
	ok "idle sessions terminated under -R: reconnected, errors counted ($errs), run went on"
else
	not_ok "idle sessions terminated under -R: reconnected, errors counted, run went on" \
		"exit $rc, terminated $killed, report: $rep" "$(tail -n 5 "$TMP/ik.out")"
fi

# --- a server restart during a run is survived ----------------------------
newdb pd_restart
"$PD" init -q -d pd_restart >/dev/null 2>&1
"$PD" run -d pd_restart -c 4 -j 2 -T 8 -P 1 --json "$TMP/rs.json" >"$TMP/rs.out" 2>"$TMP/rs.err" &
pid=$!
sleep 2
scripts/pgcluster.sh restart >/dev/null 2>&1
wait $pid
rc=$?
rec=$(jget "$TMP/rs.json" 'j["reconnects"]')
errs=$(jget "$TMP/rs.json" '",".join(sorted(j["errors"].keys()))')
late=$(jget "$TMP/rs.json" 'j["intervals"][-1]["transactions"] + j["intervals"][-2]["transactions"]')
if [ $rc -eq 1 ]; then ok "restart: exit code 1"; else not_ok "restart: exit code 1" "exit $rc" "$(tail -n 5 "$TMP/rs.err")"; fi
if [ "$rec" -ge 4 ] 2>/dev/null; then ok "restart: connections came back ($rec reconnects)"; else not_ok "restart: connections came back" "reconnects $rec"; fi
if echo "$errs" | grep -qE '57P01|08006|57P02|57P03'; then ok "restart: errors counted by SQLSTATE ($errs)"; else not_ok "restart: errors counted by SQLSTATE" "errors: $errs"; fi
if [ "$late" -gt 0 ] 2>/dev/null; then ok "restart: transactions after the restart"; else not_ok "restart: transactions after the restart" "last intervals: $late"; fi
check "restart: report printed" grep -q "^perfdriver run" "$TMP/rs.out"

# --- connection errors: exit 2 with libpq's message, no password ----------
psqlv -c "drop role if exists pd_pw_role" >/dev/null 2>&1
psqlv -c "create role pd_pw_role login password 'right-horse-battery'" >/dev/null
"$PD" run -d "host=127.0.0.1 port=$PGPORT user=pd_pw_role dbname=postgres password=Wr0ngSecretPw" \
	-f "$TMP/s5.sql" -t 1 >"$TMP/pw.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "password authentication failed" "$TMP/pw.out"; then ok "wrong password: exit 2 and libpq's message"; else not_ok "wrong password: exit 2 and libpq's message" "exit $rc" "$(cat "$TMP/pw.out")"; fi
if ! grep -q "Wr0ngSecretPw" "$TMP/pw.out"; then ok "wrong password: the password is not printed"; else not_ok "wrong password: the password is not printed" "$(cat "$TMP/pw.out")"; fi
PGPASSWORD=Wr0ngSecretPw "$PD" run -d "postgresql://pd_pw_role:Wr0ngSecretPw@127.0.0.1:$PGPORT/postgres" -f "$TMP/s5.sql" -t 1 >"$TMP/pw2.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && ! grep -q "Wr0ngSecretPw" "$TMP/pw2.out"; then ok "URI with a password: exit 2, not printed"; else not_ok "URI with a password: exit 2, not printed" "exit $rc" "$(cat "$TMP/pw2.out")"; fi
"$PD" run -d "host=127.0.0.1 port=$PGPORT user=pd_pw_role dbname=postgres password=right-horse-battery" -f "$TMP/s5.sql" -t 2 >"$TMP/pw3.out" 2>&1
check "right password over TCP works" test $? -eq 0
psqlv -c "drop role if exists pd_pw_role" >/dev/null 2>&1
"$PD" run -d "host=127.0.0.1 port=1 dbname=postgres connect_timeout=5" -f "$TMP/s5.sql" -t 1 >"$TMP/h.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "perfdriver: error: could not connect" "$TMP/h.out" && grep -qi "refused" "$TMP/h.out"; then ok "bad port: exit 2 and libpq's message"; else not_ok "bad port: exit 2 and libpq's message" "exit $rc" "$(cat "$TMP/h.out")"; fi
"$PD" run -d "host=no-such-host.invalid dbname=postgres connect_timeout=5" -f "$TMP/s5.sql" -t 1 >"$TMP/h2.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "could not translate host name" "$TMP/h2.out"; then ok "bad host: exit 2 and libpq's message"; else not_ok "bad host: exit 2 and libpq's message" "exit $rc" "$(cat "$TMP/h2.out")"; fi

# --- --cpu-affinity: worker threads bound one per CPU ----------------------
# cpus_of PID: the Cpus_allowed_list of each of its threads but the main one
cpus_of() {
	for t in /proc/"$1"/task/*; do
		[ "${t##*/}" = "$1" ] && continue
		awk '/^Cpus_allowed_list/ {print $2}' "$t/status"
	done | sort | tr '\n' ' '
}
ncpu=$(nproc)
jt=2
[ "$ncpu" -ge 2 ] || jt=1
"$PD" run -d pd_builtin -b select-only -c 4 -j $jt -T 3 --json "$TMP/af.json" >"$TMP/af.out" 2>&1 &
pid=$!
sleep 1.5
seen=$(cpus_of $pid)
wait $pid
rc=$?
want=$(jget "$TMP/af.json" '" ".join(sorted(str(c) for c in j["thread_cpus"])) + " " if j["thread_cpus"] else "null"')
distinct=$(jget "$TMP/af.json" 'len(set(j["thread_cpus"] or []))')
if [ $rc -eq 0 ] && [ "$seen" = "$want" ] && [ "$distinct" = "$jt" ] && grep -q "over $jt threads\? on CPU" "$TMP/af.out"; then
	ok "cpu-affinity auto, Unix socket: $jt threads on CPUs $seen"
else
	not_ok "cpu-affinity auto, Unix socket: one CPU per thread" "exit $rc, threads run on '$seen', report says '$want', distinct $distinct" "$(sed -n 3p "$TMP/af.out")"
fi
"$PD" run -d pd_builtin -b select-only -c 4 -j $jt -T 3 --cpu-affinity=none --json "$TMP/af.json" >"$TMP/af.out" 2>&1 &
pid=$!
sleep 1.5
seen=$(cpus_of $pid)
all=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/$pid/status)
wait $pid
rc=$?
n_all=$(echo "$seen" | tr ' ' '\n' | grep -c "^$all\$")
if [ $rc -eq 0 ] && [ "$(jget "$TMP/af.json" 'j["thread_cpus"]')" = "None" ] && [ "$n_all" = "$jt" ]; then
	ok "cpu-affinity none: threads not bound"
else
	not_ok "cpu-affinity none: threads not bound" "exit $rc, threads '$seen', process '$all'" "$(grep thread_cpus "$TMP/af.json")"
fi
"$PD" run -d pd_builtin -b select-only -c $((ncpu + 1)) -j $((ncpu + 1)) -t 5 --json "$TMP/af.json" >"$TMP/af.out" 2>&1
check "cpu-affinity auto: more threads than CPUs, none bound" test "$(jget "$TMP/af.json" 'j["thread_cpus"]')" = "None"
if [ "$ncpu" -ge 2 ]; then
	# fewer threads than CPUs, several connections per thread: left free
	"$PD" run -d pd_builtin -b select-only -c 4 -j 1 -t 5 --json "$TMP/af.json" >"$TMP/af.out" 2>&1
	check "cpu-affinity auto: one thread with 4 connections on $ncpu CPUs, not bound" \
		test "$(jget "$TMP/af.json" 'j["thread_cpus"]')" = "None"
	"$PD" run -d pd_builtin -b select-only -c 1 -j 1 -t 5 --json "$TMP/af.json" >"$TMP/af.out" 2>&1
	check "cpu-affinity auto: one thread with one connection, bound" \
		test "$(jget "$TMP/af.json" 'j["thread_cpus"]')" != "None"
fi
first=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
"$PD" run -d pd_builtin -b select-only -c 3 -j 3 -t 5 --cpu-affinity="$first" --json "$TMP/af.json" >"$TMP/af.out" 2>&1
check "cpu-affinity list: every thread on the listed CPU" test "$(jget "$TMP/af.json" 'j["thread_cpus"]')" = "[$first, $first, $first]"
psqlv -c "drop role if exists pd_af_role" >/dev/null 2>&1
psqlv -c "create role pd_af_role login password 'affinity-pw'" >/dev/null
"$PD" run -d "host=127.0.0.1 port=$PGPORT user=pd_af_role dbname=postgres password=affinity-pw" \
	-c 1 -j 1 -t 5 -f "$TMP/s5.sql" --json "$TMP/af.json" >"$TMP/af.out" 2>&1
rc=$?
tc=$(jget "$TMP/af.json" 'j["thread_cpus"]')
if [ $rc -eq 0 ] && [ "$tc" != "None" ]; then ok "cpu-affinity auto, TCP to this host: bound ($tc)"; else not_ok "cpu-affinity auto, TCP to this host: bound" "exit $rc, thread_cpus $tc" "$(tail -n 3 "$TMP/af.out")"; fi
psqlv -c "drop role if exists pd_af_role" >/dev/null 2>&1
"$PD" run -d pd_builtin -t 1 --cpu-affinity=1023 >"$TMP/af.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "CPU 1023 is not available to perfdriver (it may use" "$TMP/af.out"; then ok "cpu-affinity: a CPU not available, exit 2"; else not_ok "cpu-affinity: a CPU not available, exit 2" "exit $rc" "$(cat "$TMP/af.out")"; fi
"$PD" run -d pd_builtin -t 1 --cpu-affinity=2-1 >"$TMP/af.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'invalid --cpu-affinity "2-1"' "$TMP/af.out"; then ok "cpu-affinity: a reversed range, exit 2"; else not_ok "cpu-affinity: a reversed range, exit 2" "exit $rc" "$(cat "$TMP/af.out")"; fi

# --- SIGINT stops the run and still reports --------------------------------
"$PD" run -d pd_builtin -b select-only -c 2 -T 60 --json "$TMP/i.json" >"$TMP/i.out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
intr=$(jget "$TMP/i.json" 'j["interrupted"]')
dur=$(jget "$TMP/i.json" 'j["duration_s"]')
if [ $rc -eq 130 ] && [ "$intr" = "True" ] && fcmp "$dur" "<" 60 && grep -q "^perfdriver run (interrupted)" "$TMP/i.out"; then
	ok "SIGINT: report printed, exit 130"
else
	not_ok "SIGINT: report printed, exit 130" "exit $rc, interrupted $intr, duration $dur"
fi

for db in pd_init_a pd_init_b pd_builtin pd_history pd_store_builtins pd_sleep pd_stall pd_restart; do
	dropdb --if-exists "$db" >/dev/null 2>&1
done

finish
