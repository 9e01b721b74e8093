#!/usr/bin/env bash
# store_grafana.sh: the Grafana dashboards and datasource provisioning in
# grafana/ (docs/store.md).
#
# Runs against the throwaway cluster (PG* from tests/run.sh; by hand:
# scripts/pgcluster.sh start && eval "$(scripts/pgcluster.sh env)") with the
# psql of $PERFSTORE_PGBIN, and perl (JSON::PP, part of perl) to read the
# dashboards.  Creates the database perfstore_grafana (dropped first if it
# exists, and at the end; the suffix is the process id, so that two runs on
# one cluster do not collide) and fills it: two metrics with three series each,
# a sample every 20 s over the last 2 days (rolled up by maintain(), plus a
# raw tail), workflow runs with tasks on four agents, and stored load-test
# runs (store_run: 12 runs of one name over the last day, one of them a run
# group of two drivers, with statements, intervals and N+1 findings).
#
# Checks: each dashboard is valid JSON with a uid, a title and panels whose
# targets use the perfstore datasource and carry rawSql; the provisioning
# files name the datasource the dashboards use.  Then every panel's SQL
# (and every template variable's query) has its template variables replaced
# ($label, the latency dashboard's label filter, as Grafana formats one
# chosen value: 'host=h1') and Grafana's PostgreSQL macros expanded exactly
# as the data source does
# for a time range of the last 24 hours ($__timeFilter(c) becomes
# c BETWEEN '<from RFC3339>' AND '<to RFC3339>', $__timeGroupAlias(c,'5m')
# becomes floor(extract(epoch from c)/300)*300 AS "time", $__timeFrom() and
# $__timeTo() the quoted RFC3339 bounds, $__interval 1m) and runs as the
# read-only role: each returns rows, with a "time" column.
# The last line of output is "N passed, N failed"; the exit status is
# non-zero on failure.
set -u
ROOT=${PERFSTORE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
. "$ROOT/tests/lib.sh"
PGBIN=${PERFSTORE_PGBIN:-$(pg_config --bindir)}
DB=perfstore_grafana_$$
READER=perfstore_grafana_reader_$$

TMP=$(mktemp -d /tmp/perfstore_grafana.XXXXXX)
psql() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
	psql -d postgres -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS $READER" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

# ---- the files -----------------------------------------------------------
dashboards=(grafana/dashboards/*.json)
if [ ! -e "${dashboards[0]}" ]; then
	not_ok "grafana/dashboards holds dashboards"
	finish
fi
for f in "${dashboards[@]}"; do
	if perl -MJSON::PP -e '
		local $/; open my $fh, "<", $ARGV[0] or die "cannot open: $!\n";
		my $d = JSON::PP->new->decode(<$fh>);
		die "no uid or title\n" unless $d->{uid} && $d->{title};
		my @p = @{ $d->{panels} || [] };
		die "no panels\n" unless @p;
		for my $p (@p) {
			die "panel without title\n" unless $p->{title};
			my @t = @{ $p->{targets} || [] };
			die "panel \"$p->{title}\" has no target\n" unless @t;
			for my $t (@t) {
				die "panel \"$p->{title}\": no rawSql\n" unless $t->{rawSql};
				die "panel \"$p->{title}\": not the perfstore datasource\n"
					unless ($t->{datasource}{uid} // "") eq "perfstore" && ($p->{datasource}{uid} // "") eq "perfstore";
			}
		}
		printf "%d panels\n", scalar @p;
	' "$f" >"$TMP/json.out" 2>&1; then
		ok "$f: valid JSON dashboard, $(cat "$TMP/json.out") with rawSql on the perfstore datasource"
	else
		not_ok "$f: valid dashboard JSON" "$TMP/json.out"
	fi
done
if grep -q 'uid: perfstore' grafana/provisioning/datasources/*.yaml &&
	grep -q 'type: postgres' grafana/provisioning/datasources/*.yaml &&
	grep -q 'path:' grafana/provisioning/dashboards/*.yaml; then
	ok "provisioning: the postgres datasource with uid perfstore, and a dashboards provider"
else
	not_ok "provisioning files for the datasource (uid perfstore) and the dashboards" \
		"$(grep -H -E 'uid:|type:|path:' grafana/provisioning/*/*.yaml 2>&1)"
fi

# ---- a populated store -----------------------------------------------------
psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
	-c "DROP ROLE IF EXISTS $READER" >/dev/null
cat >"$TMP/setup.sql" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION perfstore;
CREATE ROLE $READER;
SELECT perfstore.grant_reader('$READER');
SELECT setseed(0.125);
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT m, jsonb_build_object('host', 'h' || h), t, exp(1 + h * 0.3 + random() * 2)
FROM unnest(ARRAY['http.latency_ms', 'db.query_ms']) m, generate_series(1, 3) h,
     generate_series(now() - interval '2 days', now() - interval '2 minutes', interval '20 seconds') t;
SELECT perfstore.maintain() IS NOT NULL;
-- the raw tail after the watermark
INSERT INTO perfstore.ingest (metric, labels, value)
SELECT 'http.latency_ms', '{"host": "h1"}', i FROM generate_series(1, 100) i;
-- workflow runs with tasks on four agents, 10% failed
INSERT INTO perfstore.workflow_runs (workflow, started_at, finished_at, status)
SELECT 'wf' || (i % 3), t, t + (30 + i % 50) * interval '1 second',
       CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END
FROM generate_series(1, 500) i, LATERAL (SELECT now() - i * interval '5 minutes') x(t);
INSERT INTO perfstore.task_executions (run_id, agent, task, started_at, finished_at, status)
SELECT r.id, 'agent' || ((r.id + k) % 4), 'step' || k, r.started_at, r.finished_at - k * interval '1 second', r.status
FROM perfstore.workflow_runs r, generate_series(1, 3) k;
SELECT perfstore.start_workflow_run('wf0') AS run \gset
SELECT perfstore.start_task(:run, 'agent1', 'open');
-- load-test runs: one every 110 minutes, the latest a group of two drivers;
-- statement "SELECT b" slows down from the 8th run on, N+1 in even runs
SELECT count(DISTINCT perfstore.store_run(jsonb_build_object(
	'name', 'checkout', 'run_group', CASE WHEN i = 1 THEN 'latest' END, 'host', 'loadgen' || d,
	'labels', jsonb_build_object('commit', 'c' || lpad((13 - i)::text, 2, '0'), 'branch', 'main'),
	'config', jsonb_build_object('clients', 4, 'duration', 60),
	'started_at', now() - i * interval '110 minutes', 'finished_at', now() - i * interval '110 minutes' + interval '60 s',
	'tps', 100 + i % 3, 'transactions', 6000 + i, 'failed_transactions', i % 2, 'duration_s', 60, 'clients', 4,
	'errors', CASE WHEN i % 2 = 1 THEN '{"40001": 1}'::jsonb ELSE '{}'::jsonb END,
	'latency_sketch', (SELECT perfstore.sketch_agg(x * (1 + i % 3 * 0.05))::text FROM generate_series(1, 200) x),
	'statements', jsonb_build_array(
		jsonb_build_object('fingerprint', 'a1', 'query', 'SELECT a FROM t WHERE id = ?', 'calls', 6000, 'rows', 6000,
		                   'errors', 0, 'latency_sketch', (SELECT perfstore.sketch_agg(x * 0.1)::text FROM generate_series(1, 100) x)),
		jsonb_build_object('fingerprint', 'b2', 'query', 'SELECT b FROM u WHERE t_id = ?', 'calls', 6000, 'rows', 60000,
		                   'errors', 0, 'latency_sketch', (SELECT perfstore.sketch_agg(x * CASE WHEN i <= 5 THEN 0.3 ELSE 0.2 END)::text
		                                                   FROM generate_series(1, 100) x))),
	'intervals', (SELECT jsonb_agg(jsonb_build_object('started_at', now() - i * interval '110 minutes' + k * interval '10 s',
	                                                   'length_s', 10, 'tps', 100 + k, 'transactions', 1000 + k * 10,
	                                                   'failed', 0, 'errors', 0,
	                                                   'latency_sketch', (SELECT perfstore.sketch_agg(x + k)::text FROM generate_series(1, 50) x))
	                               ORDER BY k) FROM generate_series(0, 5) k),
	'nplus1_findings', CASE WHEN i % 2 = 0 THEN jsonb_build_array(jsonb_build_object(
		'source', 'SELECT id FROM t WHERE cat = ?', 'source_fingerprint', 'a1',
		'repeated', 'SELECT b FROM u WHERE t_id = ?', 'repeated_fingerprint', 'b2',
		'occurrences', 60, 'repeats_total', 600, 'repeats_max', 10, 'time_ms', 42.5,
		'example_params', jsonb_build_array('17', '18', '19'),
		'suggestion', 'SELECT b FROM u WHERE t_id = ANY (?)')) ELSE '[]'::jsonb END,
	'waits', jsonb_build_object('CPU', 0.7, 'Lock:transactionid', 0.2, 'IO:DataFileRead', 0.1),
	'wait_timeline', (SELECT jsonb_agg(jsonb_build_object('t_s', k * 10, 'length_s', 10,
	                                   'samples', jsonb_build_object('CPU', 70 + k, 'Lock:transactionid', 20 - k))
	                                   ORDER BY k) FROM generate_series(0, 5) k),
	'lock_waits', jsonb_build_array(jsonb_build_object('blocker', 'UPDATE t SET n = n + ? WHERE id = ?',
		'blocker_fingerprint', 'c3', 'waiter', 'UPDATE t SET n = n + ? WHERE id = ?', 'waiter_fingerprint', 'c3',
		'samples', 40 + i)),
	'index_advice', jsonb_build_array(jsonb_build_object('fingerprint', 'b2', 'query', 'SELECT b FROM u WHERE t_id = ?',
		'create_index', 'CREATE INDEX ON public.u (t_id)', 'cost_before', 3971.0, 'cost_after', 145.1,
		'statements', jsonb_build_array('b2'))))))
FROM generate_series(1, 12) i, generate_series(1, CASE WHEN i = 1 THEN 2 ELSE 1 END) d;
SQL
if psql -d postgres -c "CREATE DATABASE $DB" >/dev/null &&
	psql -d "$DB" -f "$TMP/setup.sql" >"$TMP/setup.out" 2>&1; then
	ok "store populated: 2 metrics x 3 series over 2 days, 500 workflow runs on 4 agents, 12 stored load-test runs"
else
	not_ok "store populated" "$TMP/setup.out"
	finish
fi

# ---- expand and run every panel's SQL -------------------------------------
# from/to: the last 24 hours, whole seconds, as Grafana sends them
to_epoch=$(date -u +%s)
from_epoch=$((to_epoch - 86400))
metric=$(psql -At -d "$DB" -c "SELECT min(metric) FROM perfstore.series")
workflow=$(psql -At -d "$DB" -c "SELECT min(workflow) FROM perfstore.workflow_runs")
run_name=$(psql -At -d "$DB" -c "SELECT min(name) FROM perfstore.bench_runs")

# tests/grafana_expand.pl writes one file per query (panel targets and
# variable queries), named NN.sql, with the title in NN.title
cp "$ROOT/tests/grafana_expand.pl" "$TMP/expand.pl"

# Grafana's documented macro examples, as a check of the expansion itself
mkdir -p "$TMP/self"
cat >"$TMP/self/d.json" <<'JSON'
{"panels": [{"title": "t", "targets": [{"rawSql": "SELECT $__timeGroupAlias(ts,'1m'), v FROM x WHERE $__timeFilter(ts) AND a < $__timeTo() AND a > $__timeFrom()"}]}]}
JSON
perl "$TMP/expand.pl" "$TMP/self/d.json" "$TMP/self" 1492750877 1492751177 >"$TMP/self.err" 2>&1
expected="SELECT floor(extract(epoch from ts)/60)*60 AS \"time\", v FROM x WHERE ts BETWEEN '2017-04-21T05:01:17Z' AND '2017-04-21T05:06:17Z' AND a < '2017-04-21T05:06:17Z' AND a > '2017-04-21T05:01:17Z';"
if [ "$(cat "$TMP/self/01.sql" 2>/dev/null)" = "$expected" ]; then
	ok "macro expansion matches Grafana's documented forms"
else
	cat "$TMP/self.err" "$TMP/self/01.sql" >"$TMP/self.out" 2>/dev/null
	not_ok "macro expansion matches Grafana's documented forms" "$TMP/self.out"
fi

for f in "${dashboards[@]}"; do
	name=$(basename "$f" .json)
	out="$TMP/$name"
	mkdir -p "$out"
	if ! perl "$TMP/expand.pl" "$f" "$out" "$from_epoch" "$to_epoch" \
		metric "$metric" workflow "$workflow" run_name "$run_name" label "'host=h1'" >"$out/expand.err" 2>&1; then
		not_ok "$name: macros expand" "$out/expand.err"
		continue
	fi
	for q in "$out"/*.sql; do
		base=${q%.sql}
		title=$(cat "$base.title")
		kind=$(cat "$base.kind")
		# as the read-only role Grafana uses; header line and rows, unaligned
		if psql -A -F '|' -d "$DB" -c "SET ROLE $READER" -f "$q" >"$base.out" 2>&1; then
			rows=$(($(wc -l <"$base.out") - 2))
			header=$(head -n 1 "$base.out")
			if [ "$rows" -lt 1 ]; then
				not_ok "$name: $title returns rows" "$q"
			elif [ "$kind" = panel ] && [[ "|$header|" != *"|time|"* ]]; then
				not_ok "$name: $title has a \"time\" column (columns: $header)" "$q"
			else
				suffix=""
				if [ "$kind" = panel ]; then
					suffix=", columns $header"
				fi
				ok "$name: $title: $rows rows$suffix"
			fi
		else
			cat "$q" "$base.out" >"$base.err"
			not_ok "$name: $title runs" "$base.err"
		fi
	done
done

# the runs dashboard's verdict table: the first run has no history (no
# verdict, and no error), every later run has one
vq=$(grep -l 'verdict' "$TMP"/perfstore-runs/*.title 2>/dev/null | head -n 1)
vout=${vq%.title}.out
if [ -n "$vq" ] && [ -s "$vout" ] &&
	[ "$(grep -c '|$' "$vout")" -eq 1 ] &&
	[ "$(grep -cE '\|(unchanged|regression|improvement)\|(unchanged|regression|improvement)\|(unchanged|regression|improvement)$' "$vout")" -eq "$(($(wc -l <"$vout") - 3))" ]; then
	ok "perfstore-runs: verdict table: no verdict for the first run, tps/p95/error-rate verdicts for the $(($(wc -l <"$vout") - 3)) later ones"
else
	not_ok "perfstore-runs: verdict table has no verdict for the first run and verdicts for the others" "$vout"
fi

finish
