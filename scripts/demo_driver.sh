#!/usr/bin/env bash
# demo_driver.sh: the load driver's part of "make demo" (called by
# scripts/demo.sh when driver/perfdriver is built).  Creates pgbench's tables
# in database perfstore_demo_driver with "perfdriver init", then runs the
# tpcb-like built-in for 5 seconds on 4 connections with progress lines and
# prints the report (per-statement latency percentiles, JSON in /tmp).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
eval "$(scripts/pgcluster.sh env)"
DB=perfstore_demo_driver

psql -X -q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
echo "== perfdriver: pgbench's tpcb-like workload, 4 connections over 2 threads, 5 s"
driver/perfdriver init -q -s 1 -d "$DB"
json=$(mktemp /tmp/perfdriver_demo.XXXXXX.json)
rc=0
driver/perfdriver run -d "$DB" -b tpcb-like -c 4 -j 2 -T 5 -P 1 --json "$json" || rc=$?
echo
echo "JSON report: $json (exit code $rc)"
