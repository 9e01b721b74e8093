--
-- store_workflow: workflow runs and task executions, their API and summary
-- views (docs/store.md, "Workflow executions")
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET timezone = 'UTC';
-- the store tests share the database: start from an empty store
TRUNCATE perfstore.series, perfstore.samples, perfstore.rollup_1m, perfstore.rollup_1h,
	perfstore.rollup_state, perfstore.settings, perfstore.task_executions,
	perfstore.workflow_runs RESTART IDENTITY;

-- run a statement, return its SQLSTATE and message ('ok' when it works)
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
	state text;
	msg text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN state || ': ' || msg;
END
$$;

--
-- A crafted data set with known answers.  Workflow "build":
--   run 1  10:00:00 + 10 s, success; tasks a 6 s, b 8 s          (14 s)
--   run 2  11:00:00 + 20 s, failed;  task  a 20 s                (20 s)
--   run 3  12:00:00 + 30 s, success; tasks a 10 s, b 20 s, c 30 s (60 s)
--   run 4  13:00:00, still running;  task  c running
-- runs 4, running 1, succeeded 2, failed 1, success rate 2/3,
-- duration p50 20, p95 30, p99 30, parallelism (14+20+60)/(10+20+30).
--
SELECT perfstore.start_workflow_run('build', '{"branch": "main"}', '2026-02-01 10:00:00+00') AS r1 \gset
SELECT perfstore.start_task(:r1, 'a', 'compile', 1, '{}', '2026-02-01 10:00:00+00') AS t1a \gset
SELECT perfstore.start_task(:r1, 'b', 'test', 2, '{"shard": 1}', '2026-02-01 10:00:01+00') AS t1b \gset
SELECT perfstore.finish_task(:t1a, 'success', '2026-02-01 10:00:06+00');
SELECT perfstore.finish_task(:t1b, 'success', '2026-02-01 10:00:09+00');
SELECT perfstore.finish_workflow_run(:r1, 'success', '2026-02-01 10:00:10+00');

SELECT perfstore.start_workflow_run('build', started_at => '2026-02-01 11:00:00+00') AS r2 \gset
SELECT perfstore.start_task(:r2, 'a', 'compile', started_at => '2026-02-01 11:00:00+00') AS t2a \gset
SELECT perfstore.finish_task(:t2a, 'failed', '2026-02-01 11:00:20+00');
SELECT perfstore.finish_workflow_run(:r2, 'failed', '2026-02-01 11:00:20+00');

SELECT perfstore.start_workflow_run('build', started_at => '2026-02-01 12:00:00+00') AS r3 \gset
SELECT perfstore.start_task(:r3, 'a', 'compile', started_at => '2026-02-01 12:00:00+00') AS t3a \gset
SELECT perfstore.start_task(:r3, 'b', 'test', started_at => '2026-02-01 12:00:10+00') AS t3b \gset
SELECT perfstore.start_task(:r3, 'c', 'lint', started_at => '2026-02-01 12:00:00+00') AS t3c \gset
SELECT perfstore.finish_task(:t3a, finished_at => '2026-02-01 12:00:10+00');
SELECT perfstore.finish_task(:t3b, finished_at => '2026-02-01 12:00:30+00');
SELECT perfstore.finish_task(:t3c, finished_at => '2026-02-01 12:00:30+00');
SELECT perfstore.finish_workflow_run(:r3, finished_at => '2026-02-01 12:00:30+00');

SELECT perfstore.start_workflow_run('build', started_at => '2026-02-01 13:00:00+00') AS r4 \gset
SELECT perfstore.start_task(:r4, 'c', 'lint', started_at => '2026-02-01 13:00:00+00') AS t4c \gset

SELECT id, workflow, started_at, finished_at, status, labels::text FROM perfstore.workflow_runs ORDER BY id;
SELECT id, run_id, agent, task, started_at, finished_at, status, parallel, attrs::text
FROM perfstore.task_executions ORDER BY id;

SELECT workflow, runs, running, succeeded, failed, round(success_rate::numeric, 6) AS success_rate,
       round(duration_p50::numeric) AS p50, round(duration_p95::numeric) AS p95,
       round(duration_p99::numeric) AS p99,
       abs(duration_p50 - 20) <= 0.01 * 20 AND abs(duration_p95 - 30) <= 0.01 * 30
           AND abs(duration_p99 - 30) <= 0.01 * 30 AS within_alpha,
       round(parallelism::numeric, 6) AS parallelism, round(94 / 60.0, 6) AS expected_parallelism
FROM perfstore.workflow_summary ORDER BY workflow COLLATE "C";

-- Per agent (finished tasks only for durations and parallelism):
--   a: runs 1,2,3; tasks 6, 20, 10 s; 2 of 3 succeeded; span 10:00:00-12:00:10
--   b: runs 1,3;   tasks 8, 20 s;     2 of 2;           span 10:00:01-12:00:30
--   c: runs 3,4;   task 30 s + 1 running; 1 of 1;       span 12:00:00-12:00:30
SELECT agent, runs, tasks, running, succeeded, failed,
       round(success_rate::numeric, 6) AS success_rate,
       round(duration_p50::numeric) AS p50, round(duration_p95::numeric) AS p95,
       round(duration_p99::numeric) AS p99, round(parallelism::numeric, 6) AS parallelism
FROM perfstore.agent_summary ORDER BY agent COLLATE "C";
SELECT round(36 / 7210.0, 6) AS expected_a, round(28 / 7229.0, 6) AS expected_b,
       round(30 / 30.0, 6) AS expected_c;

-- Quantiles on a larger workflow: durations 1..100 s, compared with the
-- exact percentile_disc within the sketch's relative error 0.01
INSERT INTO perfstore.workflow_runs (workflow, started_at, finished_at, status)
SELECT 'deploy', t, t + i * interval '1 second', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'success' END
FROM generate_series(1, 100) i, LATERAL (SELECT '2026-02-02 00:00:00+00'::timestamptz + i * interval '1 hour') x(t);
WITH exact AS (
	SELECT percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
	           ORDER BY EXTRACT(epoch FROM finished_at - started_at)::float8) AS q
	FROM perfstore.workflow_runs WHERE workflow = 'deploy'
)
SELECT w.runs, w.success_rate, e.q AS exact,
       abs(w.duration_p50 - e.q[1]) <= 0.01 * e.q[1] AS p50_ok,
       abs(w.duration_p95 - e.q[2]) <= 0.01 * e.q[2] AS p95_ok,
       abs(w.duration_p99 - e.q[3]) <= 0.01 * e.q[3] AS p99_ok,
       w.parallelism
FROM perfstore.workflow_summary w, exact e WHERE w.workflow = 'deploy';

--
-- Bad calls: a clear error with SQLSTATE, nothing changed
--
CREATE TEMP TABLE before_runs AS SELECT * FROM perfstore.workflow_runs;
CREATE TEMP TABLE before_tasks AS SELECT * FROM perfstore.task_executions;
SELECT pg_temp.err('SELECT perfstore.finish_workflow_run(999999)');
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s)', :r1));
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s, ''failed'')', :r2));
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s, ''running'')', :r4));
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s, ''done'')', :r4));
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s, ''success'', ''2026-01-01'')', :r4));
SELECT pg_temp.err('SELECT perfstore.finish_task(999999)');
SELECT pg_temp.err(format('SELECT perfstore.finish_task(%s)', :t1a));
SELECT pg_temp.err(format('SELECT perfstore.finish_task(%s, ''bogus'')', :t4c));
SELECT pg_temp.err(format('SELECT perfstore.finish_task(%s, ''success'', ''2026-01-01'')', :t4c));
SELECT pg_temp.err('SELECT perfstore.start_task(999999, ''a'', ''x'')');
SELECT pg_temp.err(format('SELECT perfstore.start_task(%s, ''a'', ''x'')', :r1));
SELECT pg_temp.err(format('SELECT perfstore.start_task(%s, ''a'', ''x'', 0)', :r4));
SELECT pg_temp.err(format('SELECT perfstore.start_task(%s, ''a'', ''x'', 1, ''[]'')', :r4));
SELECT pg_temp.err('SELECT perfstore.start_workflow_run(''x'', ''"no"'')');
SELECT pg_temp.err('SELECT perfstore.start_workflow_run(NULL)');
SELECT (SELECT count(*) FROM (SELECT * FROM perfstore.workflow_runs EXCEPT ALL SELECT * FROM before_runs) x)
     + (SELECT count(*) FROM (SELECT * FROM before_runs EXCEPT ALL SELECT * FROM perfstore.workflow_runs) x)
       AS runs_changed,
       (SELECT count(*) FROM (SELECT * FROM perfstore.task_executions EXCEPT ALL SELECT * FROM before_tasks) x)
     + (SELECT count(*) FROM (SELECT * FROM before_tasks EXCEPT ALL SELECT * FROM perfstore.task_executions) x)
       AS tasks_changed;

--
-- Every API call is an index lookup, never a scan.  On a store of 20000
-- runs, 60000 tasks and 2000 series: EXPLAIN of the statements the
-- functions run shows index access, and the statistics of a transaction
-- that calls each function once count no sequential scan.
--
INSERT INTO perfstore.workflow_runs (workflow, started_at, finished_at, status)
SELECT 'bulk' || (i % 20), t, t + interval '1 minute', 'success'
FROM generate_series(1, 20000) i, LATERAL (SELECT '2026-03-01'::timestamptz + i * interval '1 minute') x(t);
INSERT INTO perfstore.task_executions (run_id, agent, task, started_at, finished_at, status)
SELECT r.id, 'agent' || (r.id % 50), 'task' || k, r.started_at, r.finished_at, 'success'
FROM perfstore.workflow_runs r, generate_series(1, 3) k WHERE r.workflow LIKE 'bulk%';
INSERT INTO perfstore.series (metric, labels)
SELECT 'm' || (i % 100), jsonb_build_object('host', 'h' || i) FROM generate_series(1, 2000) i;
ANALYZE perfstore.workflow_runs, perfstore.task_executions, perfstore.series;

-- the statements of the functions, as they run them
EXPLAIN (COSTS OFF) SELECT r.started_at, r.finished_at FROM perfstore.workflow_runs r WHERE r.id = 5000 FOR UPDATE;
EXPLAIN (COSTS OFF) UPDATE perfstore.workflow_runs r SET finished_at = now(), status = 'success' WHERE r.id = 5000;
EXPLAIN (COSTS OFF) SELECT r.finished_at FROM perfstore.workflow_runs r WHERE r.id = 5000;
EXPLAIN (COSTS OFF) SELECT t.started_at, t.finished_at FROM perfstore.task_executions t WHERE t.id = 5000 FOR UPDATE;
EXPLAIN (COSTS OFF) UPDATE perfstore.task_executions t SET finished_at = now(), status = 'success' WHERE t.id = 5000;
EXPLAIN (COSTS OFF) SELECT s.id FROM perfstore.series s WHERE s.metric = 'm7' AND s.labels = '{"host": "h7"}';
-- the lookups by run, by agent and time, and of open tasks
EXPLAIN (COSTS OFF) SELECT * FROM perfstore.task_executions WHERE run_id = 5000;
EXPLAIN (COSTS OFF) SELECT * FROM perfstore.task_executions
WHERE agent = 'agent7' AND started_at >= '2026-03-05' AND started_at < '2026-03-06';
EXPLAIN (COSTS OFF) SELECT * FROM perfstore.task_executions WHERE finished_at IS NULL AND run_id = 5000;

-- each API function once, in one transaction: no sequential scan (the
-- counters of pg_stat_xact_user_tables, before and after: they may hold
-- counts of earlier transactions not flushed yet)
BEGIN;
CREATE TEMP TABLE scans_before AS
SELECT relname, seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE schemaname = 'perfstore';
SELECT perfstore.start_workflow_run('bulk1') AS br \gset
SELECT perfstore.start_task(:br, 'agent1', 'compile') AS bt \gset
SELECT perfstore.finish_task(:bt);
SELECT perfstore.finish_workflow_run(:br);
SELECT perfstore.record('m7', 1, '{"host": "h7"}', '2026-03-05');
SELECT perfstore.record('m7', 2, '{"host": "new"}', '2026-03-05');
SELECT a.relname, a.seq_scan - coalesce(b.seq_scan, 0) AS seq_scans,
       a.idx_scan - coalesce(b.idx_scan, 0) > 0 AS used_index
FROM pg_stat_xact_user_tables a LEFT JOIN scans_before b USING (relname)
WHERE a.schemaname = 'perfstore' AND a.relname IN ('workflow_runs', 'task_executions', 'series')
ORDER BY a.relname COLLATE "C";
ROLLBACK;
