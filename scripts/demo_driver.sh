#!/usr/bin/env bash
# demo_driver.sh: the load driver's part of "make demo" (called by
# scripts/demo.sh when driver/perfdriver is built).  Creates pgbench's tables
# and the perfstore extension in database perfstore_demo_driver with
# "perfdriver init", then runs the tpcb-like built-in for 5 seconds on 4
# connections with progress lines, prints the report (per-statement latency
# percentiles, JSON in /tmp), stores the run in the same database with
# --store, and reads it back from perfstore.bench_run_summary.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
eval "$(scripts/pgcluster.sh env)"
DB=perfstore_demo_driver

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION perfstore"
echo "== perfdriver: pgbench's tpcb-like workload, 4 connections over 2 threads, 5 s, stored in perfstore"
driver/perfdriver init -q -s 1 -d "$DB"
json=$(mktemp /tmp/perfdriver_demo.XXXXXX.json)
out=$(mktemp /tmp/perfdriver_demo.XXXXXX.out)
set +e
driver/perfdriver run -d "$DB" -b tpcb-like -c 4 -j 2 -T 5 -P 1 --json "$json" \
	--store "$DB" --name demo --label source=make-demo | tee "$out"
rc=${PIPESTATUS[0]}
set -e
id=$(sed -nE 's/^stored: +run ([0-9]+) .*/\1/p' "$out")
rm -f "$out"
echo
echo "JSON report: $json (exit code $rc)"
if [ -n "$id" ]; then
	echo "stored run id: $id; read back from perfstore.bench_run_summary:"
	psql -X -A -t -d "$DB" -v id="$id" <<'SQL'
SELECT format('  run %s "%s": %s transactions, %s tps, error rate %s, p50 %s ms, p95 %s ms, p99 %s ms',
			  id, name, transactions, round(tps::numeric, 1), round(error_rate::numeric, 4),
			  round(p50_ms::numeric, 3), round(p95_ms::numeric, 3), round(p99_ms::numeric, 3))
FROM perfstore.bench_run_summary WHERE id = :id;
SQL
	echo "  explore: scripts/pgcluster.sh psql -d $DB -c 'SELECT * FROM perfstore.bench_statement_summary'"
else
	echo "the run was not stored" >&2
	exit 1
fi
