#!/usr/bin/env bash
# observe.sh: server-side evidence and index advice (docs/perfdriver.md,
# "Server-side evidence" and "Index advice"), and the top statements of
# "perfdriver analyze".
#
# Runs against the throwaway cluster (PG* from tests/run.sh), which loads
# pg_stat_statements (scripts/pgcluster.sh).  Creates two databases, dropped
# at the end: pd_observe_<pid> with pg_stat_statements and hypopg (in schema
# hypopg), a one-row counter, a 100000-row orders table without an index
# on customer_id and an indexed customers table; and pd_observe_bare_<pid>
# with neither extension, for the "not installed" cases.  Checks:
#   - lock contention: 8 clients updating one row inside a transaction:
#     Lock waits are most of that UPDATE's active samples, and lock_waits
#     names it as waiter (and blocker);
#   - pg_stat_statements deltas matched by fingerprint in the simple,
#     extended and prepared protocols: server calls equal client calls;
#   - the missing index: advice on public.orders leading with customer_id,
#     the cost at least halved, the plan points out the seq scan; the
#     indexed lookup gets no advice, alone or beside it;
#   - --observe=analyze: measured rows removed by the filter;
#   - --advise=verify: p95 before and after, the index dropped again;
#   - "perfdriver advise --from-json" and "--from-log";
#   - without pg_stat_statements (not installed; and created but not loaded,
#     on a private cluster started here without shared_preload_libraries),
#     hypopg or pg_read_all_stats, with a backend terminated mid-run: one
#     note each, the run goes on;
#   - analyze --log: top statements by total and by p95 with calls,
#     application, user, database and time range, on a log with known
#     durations; N+1 findings carry the same fields.
# The last line is "N passed, N failed"; the exit status is non-zero on
# failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 2
PD="$ROOT/driver/perfdriver"
PGBIN=${PERFSTORE_PGBIN:-/usr/lib/postgresql/15/bin}
DB=pd_observe_$$
BARE=pd_observe_bare_$$
ROLE=pd_observe_role_$$
TMP=$(mktemp -d /tmp/pd_observe.XXXXXX)
PRIV_DATA=""
as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

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
		echo "$line" | head -n 15 | sed 's/^/    /'
	done
	fail=$((fail + 1))
}
check() {
	local name=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		ok "$name"
	else
		not_ok "$name" "$(cat "$TMP/check.out")"
	fi
}
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
	if [ -n "$PRIV_DATA" ] && [ -f "$PRIV_DATA/postmaster.pid" ]; then
		as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m immediate -w stop >/dev/null 2>&1
	fi
	psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS $BARE WITH (FORCE)" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
# jcheck FILE EXPR: a Python expression on the JSON report j must be true
jcheck() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); sys.exit(0 if r else 1)' "$1" "$2" ||
		{ echo "false: $2"; python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps({k: j[k] for k in j if k in ("statements","index_advice","advise_notes","observe_notes","lock_waits","waits","top_statements_by_total","top_statements_by_p95","nplus1_findings")})[:1500])' "$1"; return 1; }
}
# jget FILE EXPR: print a Python expression on the JSON report j
jget() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
stmt() { echo "[s for s in j['statements'] if s['query'].startswith('$1')][0]"; }

# ---- set-up ------------------------------------------------------------------
if ! psql -d postgres -c "CREATE DATABASE $DB" -c "CREATE DATABASE $BARE" >"$TMP/setup.out" 2>&1 ||
	! psql -d "$DB" >>"$TMP/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE SCHEMA hypopg;
CREATE EXTENSION hypopg SCHEMA hypopg;
CREATE TABLE counter (id int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO counter VALUES (1, 0);
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 5000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric);
INSERT INTO orders SELECT g, g % 5000, g FROM generate_series(1, 100000) g;
ANALYZE;
SQL
then
	not_ok "set-up" "$(cat "$TMP/setup.out")"
	finish
fi
ok "set-up: $DB with pg_stat_statements and hypopg, $BARE without"

cat >"$TMP/lock.sql" <<'EOF'
BEGIN;
UPDATE counter SET n = n + 1 WHERE id = 1;
SELECT pg_sleep(0.002);
END;
EOF
cat >"$TMP/orders.sql" <<'EOF'
\set c random(1, 4999)
SELECT count(*) FROM orders WHERE customer_id = :c;
SELECT name FROM customers WHERE id = :c;
EOF
cat >"$TMP/lookup.sql" <<'EOF'
\set c random(1, 4999)
SELECT name FROM customers WHERE id = :c;
EOF

# ---- lock contention ------------------------------------------------------------
"$PD" run -d "$DB" -f "$TMP/lock.sql" -c 8 -j 2 -T 3 --observe --json "$TMP/lock.json" >"$TMP/lock.out" 2>&1
rc=$?
check "lock: the run succeeds (exit $rc)" test $rc -eq 0
U="$(stmt 'UPDATE counter')"
check "lock: Lock waits dominate the UPDATE's profile" \
	jcheck "$TMP/lock.json" "sum(v for k, v in $U['waits'].items() if k.startswith('Lock:')) > 0.5 and $U['wait_samples'] >= 20"
check "lock: the UPDATE waits on Lock:transactionid most" \
	jcheck "$TMP/lock.json" "max($U['waits'], key=$U['waits'].get) == 'Lock:transactionid'"
check "lock: pg_sleep's profile is Timeout:PgSleep, not Lock" \
	jcheck "$TMP/lock.json" "$(stmt 'SELECT pg_sleep')['waits'].get('Timeout:PgSleep', 0) > 0.5"
check "lock: lock_waits has the UPDATE as waiter, and its blockers are statements of the run" \
	jcheck "$TMP/lock.json" "any(p['waiter'].startswith('UPDATE counter') and p['samples'] > 0 for p in j['lock_waits']) and all(p['blocker'] is not None for p in j['lock_waits'] if p['samples'] > 5)"
check "lock: whole-run waits sum to 1" \
	jcheck "$TMP/lock.json" "abs(sum(j['waits'].values()) - 1) < 1e-3 and j['observe']['active_samples'] > 0"
check "lock: BEGIN cannot be EXPLAINed, said once" \
	jcheck "$TMP/lock.json" "sum('\"BEGIN\" cannot be EXPLAINed: a utility statement' in n for n in j['observe_notes']) == 1"
check "lock: wait_timeline slices add up to the active samples" \
	jcheck "$TMP/lock.json" "sum(sum(s['samples'].values()) for s in j['wait_timeline']) == j['observe']['active_samples']"
check "lock: report sections" grep -q '^lock contention (blocker -> waiter, samples):' "$TMP/lock.out"

# ---- fingerprint matching in every protocol --------------------------------------
for m in simple extended prepared; do
	"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -T 2 -M "$m" --observe --json "$TMP/o_$m.json" >"$TMP/o_$m.out" 2>&1
	rc=$?
	check "pg_stat_statements -M $m: server calls equal client calls for each statement (exit $rc)" \
		jcheck "$TMP/o_$m.json" "all(s['server']['calls'] == s['calls'] and s['calls'] > 0 for s in j['statements'])"
done
O="$(stmt 'SELECT count(*) FROM orders')"
check "server figures: rows, blocks, mean and the client gap" \
	jcheck "$TMP/o_prepared.json" "$O['server']['rows'] == $O['calls'] and $O['server']['shared_blks_hit'] + $O['server']['shared_blks_read'] > 0 and $O['server']['mean_exec_ms'] > 0 and $O['server']['client_gap_ms'] is not None"
check "plan: the seq scan over orders is pointed out, with the slow call's value" \
	jcheck "$TMP/o_simple.json" "any(f.startswith('Seq Scan on public.orders (about 100000 rows) removes about') for f in $O['plan_findings']) and len($O['plan_params']) == 1 and $O['plan'][0]['Plan']['Node Type'] in ('Aggregate', 'Finalize Aggregate')"
check "plan: the indexed lookup has no finding" \
	jcheck "$TMP/o_simple.json" "$(stmt 'SELECT name FROM customers')['plan_findings'] == []"

# ---- index advice ---------------------------------------------------------------------
"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -T 2 -M extended --advise --json "$TMP/adv.json" >"$TMP/adv.out" 2>&1
rc=$?
check "advise: exit $rc" test $rc -eq 0
A="[a for a in j['index_advice'] if a['table'] == 'orders'][0]"
check "advise: public.orders, leading column customer_id, runnable CREATE INDEX" \
	jcheck "$TMP/adv.json" "len(j['index_advice']) == 1 and $A['schema'] == 'public' and $A['columns'].split(', ')[0] == 'customer_id' and $A['create_index'].startswith('CREATE INDEX ON public.orders (customer_id')"
check "advise: the cost at least halves" \
	jcheck "$TMP/adv.json" "$A['cost_after'] <= $A['cost_before'] / 2 and $A['cost_before'] >= 100"
check "advise: the advice lists the count statement, not the indexed lookup" \
	jcheck "$TMP/adv.json" "$A['statements'] == [$O['fingerprint']] and $(stmt 'SELECT name FROM customers')['fingerprint'] not in $A['statements']"
check "advise: writes nothing (orders keeps its one index)" \
	test "$(psql -At -d "$DB" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'")" = 1
psql -d "$DB" -c "$(jget "$TMP/adv.json" "$A['create_index']")" >"$TMP/create.out" 2>&1
check "advise: the advised CREATE INDEX runs" test $? -eq 0
psql -d "$DB" -c "DROP INDEX IF EXISTS orders_customer_id_idx" >/dev/null 2>&1

"$PD" run -d "$DB" -f "$TMP/lookup.sql" -c 2 -T 1 --advise --json "$TMP/lookup.json" >"$TMP/lookup.out" 2>&1
check "advise: an indexed lookup gets no advice" jcheck "$TMP/lookup.json" "j['index_advice'] == [] and j['advise_notes'] == []"

"$PD" advise -d "$DB" --from-json "$TMP/o_simple.json" --json "$TMP/from_json.json" >"$TMP/from_json.out" 2>&1
rc=$?
check "advise --from-json: the same advice (exit $rc)" \
	jcheck "$TMP/from_json.json" "[a['create_index'] for a in j['index_advice']] == ['CREATE INDEX ON public.orders (customer_id)']"
cat >"$TMP/slow.log" <<'EOF'
2026-01-01 10:00:00.000 UTC [42] user=app,db=shop,app=web LOG:  duration: 31.500 ms  statement: SELECT total FROM orders WHERE customer_id = 17
2026-01-01 10:00:01.000 UTC [42] user=app,db=shop,app=web LOG:  duration: 0.100 ms  statement: SELECT name FROM customers WHERE id = 17
2026-01-01 10:00:02.000 UTC [43] user=app,db=shop,app=web LOG:  duration: 30.100 ms  execute <unnamed>: SELECT total FROM orders WHERE customer_id = $1
2026-01-01 10:00:02.000 UTC [43] user=app,db=shop,app=web DETAIL:  parameters: $1 = '18'
EOF
"$PD" advise -d "$DB" --from-log "$TMP/slow.log" --json "$TMP/from_log.json" >"$TMP/from_log.out" 2>&1
rc=$?
check "advise --from-log: orders (customer_id), nothing for the indexed lookup (exit $rc)" \
	jcheck "$TMP/from_log.json" "[a['create_index'] for a in j['index_advice']] == ['CREATE INDEX ON public.orders (customer_id)'] and j['statements_considered'] == 2"
"$PD" advise -d "$DB" --from-json "$TMP/nonexistent.json" >"$TMP/bad.out" 2>&1
rc=$?
check "advise: an unreadable report is exit 2 with one error line" \
	bash -c "[ $rc -eq 2 ] && grep -q '^perfdriver: error: could not read JSON report' '$TMP/bad.out'"

# ---- --observe=analyze and --advise=verify ------------------------------------------
"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -T 1 --observe=analyze --json "$TMP/an.json" >"$TMP/an.out" 2>&1
check "observe=analyze: measured rows removed by the filter" \
	jcheck "$TMP/an.json" "any('removes 99980 rows by filter' in f for f in $O['plan_findings']) and 'Actual Rows' in json.dumps($O['plan'])"
"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -T 2 --advise=verify --json "$TMP/verify.json" >"$TMP/verify.out" 2>&1
rc=$?
check "advise=verify: p95 before and after, faster after (exit $rc)" \
	jcheck "$TMP/verify.json" "len(j['index_advice']) == 1 and j['index_advice'][0]['p95_after_ms'] < j['index_advice'][0]['p95_before_ms'] and j['index_advice'][0]['kept'] is False"
check "advise=verify: the rerun's own figures in advise_verify (its transactions over its duration, latencies)" \
	jcheck "$TMP/verify.json" "j['advise_verify']['transactions'] > 0 and 1.5 < j['advise_verify']['duration_s'] < 3 and abs(j['advise_verify']['tps'] - j['advise_verify']['transactions'] / j['advise_verify']['duration_s']) < 1e-3 * j['advise_verify']['tps'] and 0 < j['advise_verify']['latency_ms']['p50'] <= j['advise_verify']['latency_ms']['p95'] <= j['advise_verify']['latency_ms']['max'] and j['advise_verify']['failed_transactions'] == 0"
check "advise=verify: the report has one line for the rerun" \
	grep -q '^  rerun with the indexes: [0-9]* transactions in [0-9.]* s, [0-9.]* tps, p95 [0-9.]* ms$' "$TMP/verify.out"
check "advise=verify: the index is dropped again" \
	test "$(psql -At -d "$DB" -c "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'perfdriver_advice_%'")" = 0
"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -t 20 --advise=verify --keep-indexes --json "$TMP/keep.json" >"$TMP/keep.out" 2>&1
kept=$(psql -At -d "$DB" -c "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE indexname LIKE 'perfdriver_advice_%'")
check "advise=verify --keep-indexes: one index perfdriver_advice_* on public.orders (customer_id) is left, kept is true" \
	bash -c "[[ '$kept' == 'perfdriver_advice_'*'CREATE INDEX perfdriver_advice_'*' ON public.orders USING btree (customer_id)' ]] && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))[\"index_advice\"][0][\"kept\"] is True else 1)' '$TMP/keep.json'"
check "advise=verify -c 2 -t 20: the rerun ran 40 transactions too" \
	jcheck "$TMP/keep.json" "j['advise_verify']['transactions'] == 40 and j['transactions'] == 40"
psql -d "$DB" -c "DROP INDEX IF EXISTS $(echo "$kept" | cut -d' ' -f1)" >/dev/null 2>&1

# ---- the overhead benchmark's alternate seconds ---------------------------------------
# PERFDRIVER_OBSERVE_ALTERNATE=1 samples in every other second only
# (bench/observe_bench.sh): about half the ticks of a run without it
"$PD" run -d "$DB" -f "$TMP/lookup.sql" -c 2 -j 1 -T 4 --observe --json "$TMP/full.json" >"$TMP/full.out" 2>&1
PERFDRIVER_OBSERVE_ALTERNATE=1 "$PD" run -d "$DB" -f "$TMP/lookup.sql" -c 2 -j 1 -T 4 --observe \
	--json "$TMP/alt.json" >"$TMP/alt.out" 2>&1
check "alternate seconds: 4 s at 50 Hz take about 200 ticks, about 100 with every other second idle" \
	python3 -c 'import json, sys
f = json.load(open(sys.argv[1]))["observe"]["ticks"]
a = json.load(open(sys.argv[2]))["observe"]["ticks"]
print(f, a)
sys.exit(0 if 160 <= f <= 210 and 80 <= a <= 120 else 1)' "$TMP/full.json" "$TMP/alt.json"

# ---- stored with the run -----------------------------------------------------------
if psql -d "$BARE" -c "CREATE EXTENSION perfstore" >"$TMP/ext.out" 2>&1; then
	"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -T 1 --advise --store "dbname=$BARE" --name diag >"$TMP/store.out" 2>&1
	rc=$?
	got=$(psql -At -d "$BARE" -c "SELECT jsonb_typeof(report->'waits') || ' ' || jsonb_typeof(report->'lock_waits') || ' ' ||
		jsonb_array_length(report->'index_advice') || ' ' || (report->'index_advice'->0->>'create_index') || ' ' ||
		((SELECT count(*) FROM jsonb_array_elements(report->'statements') s WHERE s ? 'waits' AND s ? 'server' AND s ? 'plan'))
		FROM perfstore.bench_runs WHERE name = 'diag'")
	check "--store keeps waits, lock_waits, advice and each statement's waits, server figures and plan (exit $rc)" \
		test "$got" = "object array 1 CREATE INDEX ON public.orders (customer_id) 2"
	check "--advise without verify: no advise_verify" \
		test "$(psql -At -d "$BARE" -c "SELECT report ? 'advise_verify' FROM perfstore.bench_runs WHERE name = 'diag'")" = f
	"$PD" run -d "$DB" -f "$TMP/orders.sql" -c 2 -t 10 --advise=verify --store "dbname=$BARE" --name diagv >"$TMP/storev.out" 2>&1
	rc=$?
	got=$(psql -At -d "$BARE" -c "SELECT (report->>'transactions') || ' ' || (report->'advise_verify'->>'transactions') || ' ' ||
		(report->'advise_verify'->>'failed_transactions') || ' ' || (report->'advise_verify'->>'tps' IS NOT NULL) || ' ' ||
		(report->'advise_verify'->'latency_ms'->>'p95' IS NOT NULL) || ' ' ||
		(report->'index_advice'->0->>'p95_after_ms' IS NOT NULL)
		FROM perfstore.bench_runs WHERE name = 'diagv'")
	check "--store with --advise=verify keeps the rerun's figures beside the first run's (exit $rc)" \
		test "$got" = "20 20 0 true true true"
	psql -d "$BARE" -c "DROP EXTENSION perfstore CASCADE" >/dev/null 2>&1
else
	not_ok "--store: CREATE EXTENSION perfstore (run make install)" "$(cat "$TMP/ext.out")"
fi

# ---- what the server lacks -------------------------------------------------------------
cat >"$TMP/bare.sql" <<'EOF'
SELECT pg_sleep(0.01);
EOF
"$PD" run -d "$BARE" -f "$TMP/bare.sql" -c 2 -T 1 --observe --advise --json "$TMP/bare.json" >"$TMP/bare.out" 2>&1
rc=$?
check "no pg_stat_statements: one note with the hint, waits still given, no server figures (exit $rc)" \
	jcheck "$TMP/bare.json" "sum('pg_stat_statements is not installed' in n and 'shared_preload_libraries' in n for n in j['observe_notes']) == 1 and j['statements'][0]['waits'].get('Timeout:PgSleep', 0) > 0.5 and 'server' not in j['statements'][0] and j['observe']['pg_stat_statements'] is False"
check "no hypopg: one advise note with the hint" \
	jcheck "$TMP/bare.json" "len(j['advise_notes']) == 1 and 'hypopg is not installed' in j['advise_notes'][0] and 'CREATE EXTENSION hypopg' in j['advise_notes'][0] and j['index_advice'] == []"

psql -d postgres -c "CREATE ROLE $ROLE LOGIN" >/dev/null 2>&1
"$PD" run -d "dbname=$DB user=$ROLE" -f "$TMP/bare.sql" -c 1 -T 1 --observe --json "$TMP/role.json" >"$TMP/role.out" 2>&1
rc=$?
check "no pg_read_all_stats: one note, the run goes on (exit $rc)" \
	jcheck "$TMP/role.json" "sum('not a member of pg_read_all_stats' in n for n in j['observe_notes']) == 1 and j['transactions'] > 0"

# pg_stat_statements created but not loaded: a private cluster without
# shared_preload_libraries
priv_port=$((${PGPORT:-54329} + 200 + $$ % 900))
mkdir -p "$TMP/priv/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$TMP"
chmod 755 "$TMP"
if as_server "$PGBIN/initdb" -D "$TMP/priv/data" -U postgres -E UTF8 --locale=C --auth-local=trust >"$TMP/initdb.log" 2>&1; then
	PRIV_DATA="$TMP/priv/data"
	cat >>"$PRIV_DATA/postgresql.conf" <<EOF
port = $priv_port
listen_addresses = ''
unix_socket_directories = '$TMP/priv/sock'
fsync = off
shared_buffers = 16MB
EOF
	if as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -l "$TMP/priv.out" -w -t 60 start >/dev/null 2>&1; then
		P="host=$TMP/priv/sock port=$priv_port user=postgres dbname=postgres"
		psql -d "$P" -c "CREATE EXTENSION pg_stat_statements" >/dev/null 2>&1
		"$PD" run -d "$P" -f "$TMP/bare.sql" -c 2 -T 1 --observe --json "$TMP/noload.json" >"$TMP/noload.out" 2>&1
		rc=$?
		check "pg_stat_statements not loaded: one note with the server's reason and the hint, waits still given (exit $rc)" \
			jcheck "$TMP/noload.json" "sum('pg_stat_statements cannot be read' in n and 'shared_preload_libraries' in n for n in j['observe_notes']) == 1 and j['statements'][0]['waits'].get('Timeout:PgSleep', 0) > 0.5 and 'server' not in j['statements'][0]"
		as_server "$PGBIN/pg_ctl" -D "$PRIV_DATA" -m fast -w stop >/dev/null 2>&1
	else
		not_ok "private cluster without preload started" "$(tail -n 5 "$TMP/priv.out" 2>/dev/null)"
	fi
else
	not_ok "private cluster initdb" "$(tail -n 5 "$TMP/initdb.log")"
fi

# a backend that vanishes mid-run: the client reconnects, one note
"$PD" run -d "$DB" -f "$TMP/lookup.sql" -c 2 -T 3 --observe --json "$TMP/kill.json" >"$TMP/kill.out" 2>&1 &
runpid=$!
sleep 1.2
psql -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'perfdriver'" >/dev/null
wait $runpid
check "vanishing backends: one note, the run completes" \
	jcheck "$TMP/kill.json" "sum('ended during it' in n for n in j['observe_notes']) == 1 and j['reconnects'] >= 1 and j['observe']['active_samples'] >= 0"

"$PD" run -d "$DB" -f "$TMP/lookup.sql" --observe=plans -T 1 >"$TMP/usage.out" 2>&1
rc=$?
check "usage: an unknown --observe mode is exit 2" bash -c "[ $rc -eq 2 ] && grep -q 'unrecognized --observe mode' '$TMP/usage.out'"

# ---- analyze --log: top statements ----------------------------------------------
cat >"$TMP/top.log" <<'EOF'
2026-01-01 10:00:00.000 UTC [100] user=alice,db=shop,app=web LOG:  duration: 10.000 ms  statement: SELECT * FROM orders WHERE id = 1
2026-01-01 10:00:01.000 UTC [100] user=alice,db=shop,app=web LOG:  duration: 20.000 ms  statement: SELECT * FROM orders WHERE id = 2
2026-01-01 10:00:02.000 UTC [101] user=bob,db=shop,app=batch LOG:  duration: 45.000 ms  statement: SELECT count(*) FROM orders
2026-01-01 10:00:03.000 UTC [100] user=alice,db=shop,app=web LOG:  duration: 30.000 ms  statement: SELECT * FROM orders WHERE id = 3
2026-01-01 10:00:04.000 UTC [102] user=carol,db=crm,app=web LOG:  duration: 5.000 ms  statement: SELECT 1
EOF
"$PD" analyze --log "$TMP/top.log" --json "$TMP/top.json" >"$TMP/top.out" 2>&1
rc=$?
check "analyze: top by total: 60 ms over 3 calls first, then 45, then 5 (exit $rc)" \
	jcheck "$TMP/top.json" "[(t['calls'], round(t['total_ms'], 3)) for t in j['top_statements_by_total']] == [(3, 60.0), (1, 45.0), (1, 5.0)]"
check "analyze: top by p95: 45 ms first, then about 30 (1 % accuracy)" \
	jcheck "$TMP/top.json" "j['top_statements_by_p95'][0]['p95_ms'] == 45.0 and abs(j['top_statements_by_p95'][1]['p95_ms'] - 30) <= 0.3"
check "analyze: application, user, database and time range of a statement" \
	jcheck "$TMP/top.json" "[(t['application'], t['user'], t['database'], t['first_seen'], t['last_seen']) for t in j['top_statements_by_total']][0] == ('web', 'alice', 'shop', '2026-01-01 10:00:00.000', '2026-01-01 10:00:03.000')"
check "analyze: the human report shows who and when" grep -q 'app batch, user bob, db shop, 2026-01-01 10:00:02.000' "$TMP/top.out"
{
	for u in 1 2; do
		echo "2026-01-01 11:00:0$u.000 UTC [20$u] user=dave,db=shop,app=api LOG:  duration: 1.000 ms  statement: SELECT id FROM customers WHERE name = 'x'"
		for k in 1 2 3 4 5 6; do
			echo "2026-01-01 11:00:0$u.00$k UTC [20$u] user=dave,db=shop,app=api LOG:  duration: 0.500 ms  statement: SELECT * FROM orders WHERE customer_id = $k$u"
		done
		echo "2026-01-01 11:00:0$u.009 UTC [20$u] user=dave,db=shop,app=api LOG:  disconnection: session time: 0:00:00.010"
	done
} >"$TMP/np.log"
"$PD" analyze --log "$TMP/np.log" --json "$TMP/np.json" >"$TMP/np.out" 2>&1
check "analyze: an N+1 finding carries application, user, database and time range" \
	jcheck "$TMP/np.json" "len(j['nplus1_findings']) == 1 and (j['nplus1_findings'][0]['application'], j['nplus1_findings'][0]['user'], j['nplus1_findings'][0]['database'], j['nplus1_findings'][0]['first_seen'], j['nplus1_findings'][0]['last_seen']) == ('api', 'dave', 'shop', '2026-01-01 11:00:01.001', '2026-01-01 11:00:02.006')"

finish
