--
-- store_roles: the read-only role for Grafana and the writer role
-- (docs/store.md, "Roles")
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
DROP ROLE IF EXISTS regress_perfstore_reader;
DROP ROLE IF EXISTS regress_perfstore_writer;
RESET client_min_messages;
SET timezone = 'UTC';
TRUNCATE perfstore.series, perfstore.samples, perfstore.rollup_1m, perfstore.rollup_1h,
	perfstore.rollup_state, perfstore.settings, perfstore.task_executions,
	perfstore.workflow_runs RESTART IDENTITY;

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
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

CREATE ROLE regress_perfstore_reader;
CREATE ROLE regress_perfstore_writer;
SELECT perfstore.grant_reader('regress_perfstore_reader');
SELECT perfstore.grant_writer('regress_perfstore_writer');
SELECT perfstore.record('roles', 1, '{"k": "v"}', now() - interval '1 minute');
SELECT perfstore.start_workflow_run('roles') AS run \gset

-- the writer writes through the API and the batch path, and reads
SET ROLE regress_perfstore_writer;
SELECT pg_temp.err($$SELECT perfstore.record('roles', 2, '{"k": "v"}')$$);
SELECT pg_temp.err($$SELECT perfstore.record('roles.new', 3)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('roles', 4), ('roles.batch', 5)$$);
COPY perfstore.ingest (metric, value) FROM stdin;
roles.copy	6
\.
SELECT pg_temp.err(format('SELECT perfstore.start_task(%s, ''w'', ''t'')', :run));
SELECT pg_temp.err('SELECT perfstore.finish_task(1)');
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s)', :run));
SELECT count(*) AS samples FROM perfstore.samples;
SELECT count(*) AS minutes FROM perfstore.samples_1m;
SELECT runs, succeeded FROM perfstore.workflow_summary;
-- it cannot drop, alter, delete, truncate or run maintenance
SELECT pg_temp.err('DROP TABLE perfstore.samples');
SELECT pg_temp.err('DROP TABLE perfstore.series CASCADE');
SELECT pg_temp.err('ALTER TABLE perfstore.samples ADD COLUMN x int');
SELECT pg_temp.err('ALTER TABLE perfstore.workflow_runs DROP CONSTRAINT workflow_runs_finished');
SELECT pg_temp.err('DROP VIEW perfstore.workflow_summary');
SELECT pg_temp.err('DROP FUNCTION perfstore.record(text, float8, jsonb, timestamptz)');
SELECT pg_temp.err('DROP EXTENSION perfstore CASCADE');
SELECT pg_temp.err('DELETE FROM perfstore.samples');
SELECT pg_temp.err('TRUNCATE perfstore.workflow_runs CASCADE');
SELECT pg_temp.err('SELECT perfstore.maintain()');
SELECT pg_temp.err($$SELECT perfstore.set_retention('1 day')$$);
SELECT pg_temp.err('CREATE TABLE perfstore.mine (x int)');
RESET ROLE;

-- no direct DML: every write goes through the functions and the ingest
-- view, which run as the extension's owner (docs/security.md)
SET ROLE regress_perfstore_writer;
SELECT pg_temp.err($$INSERT INTO perfstore.samples VALUES (999999, now(), 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.series (metric) VALUES ('roles.direct')$$);
SELECT pg_temp.err($$UPDATE perfstore.workflow_runs SET status = 'failed'$$);
SELECT pg_temp.err($$INSERT INTO perfstore.bench_runs (name, started_at, finished_at) VALUES ('x', now(), now())$$);
SELECT pg_temp.err($$UPDATE perfstore.bench_runs SET tps = tps * 10$$);
SELECT pg_temp.err($$UPDATE perfstore.bench_statements SET calls = 0$$);
SELECT pg_temp.err($$SELECT nextval('perfstore.series_id_seq')$$);
-- the ingest trigger writes as the owner only for perfstore.ingest: on a
-- view of the writer's own it refuses to run
SELECT pg_temp.err($$CREATE TEMP VIEW mine AS SELECT 'm'::text AS metric, '{}'::jsonb AS labels, now() AS ts, 1::float8 AS value$$);
SELECT pg_temp.err($$CREATE TRIGGER b BEFORE INSERT ON mine FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger()$$);
SELECT pg_temp.err($$CREATE TRIGGER r INSTEAD OF INSERT ON mine FOR EACH ROW EXECUTE FUNCTION perfstore.ingest_trigger()$$);
SELECT pg_temp.err($$INSERT INTO mine VALUES ('roles.hijack', '{}', now(), 1)$$);
-- a hostile search_path and operator do not reach the owner's statements
SELECT pg_temp.err($$CREATE FUNCTION pg_temp.eq(text, text) RETURNS bool LANGUAGE sql AS 'SELECT true'$$);
SET search_path = pg_temp, pg_catalog;
SELECT pg_temp.err($$SELECT perfstore.record('roles.sp', 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('roles.sp', 2)$$);
RESET search_path;
RESET ROLE;
-- record() is C that runs its statements as its owner: the writer can
-- neither bind that code to a function of its own nor reach the helper
-- that drops the series cache, and same-named temp tables first on its
-- search_path do not catch record()'s rows
SET ROLE regress_perfstore_writer;
SELECT pg_temp.err($$CREATE FUNCTION pg_temp.rec(text, float8, jsonb, timestamptz) RETURNS void
	LANGUAGE C AS '$libdir/perfstore', 'perfstore_record'$$);
SELECT pg_temp.err($$CREATE TEMP TABLE own (x int)$$);
SELECT pg_temp.err($$CREATE TRIGGER c AFTER DELETE ON own FOR EACH STATEMENT
	EXECUTE FUNCTION perfstore_internal.series_changed()$$);
SELECT pg_temp.err($$CREATE TEMP TABLE samples (series_id bigint, ts timestamptz, value float8)$$);
SELECT pg_temp.err($$CREATE TEMP TABLE series (id bigint, metric text, labels jsonb, unit text)$$);
SET search_path = pg_temp, pg_catalog;
SELECT pg_temp.err($$SELECT perfstore.record('roles.temp', 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('roles.temp', 2)$$);
SELECT (SELECT count(*) FROM pg_temp.samples) + (SELECT count(*) FROM pg_temp.series) AS caught_in_temp;
RESET search_path;
-- a series that record() created in a transaction or savepoint that rolled
-- back is not used again: no sample is ever stored without its series
BEGIN;
SELECT pg_temp.err($$SELECT perfstore.record('roles.rolledback', 1)$$);
ROLLBACK;
SELECT pg_temp.err($$SELECT perfstore.record('roles.rolledback', 2)$$);
BEGIN;
SAVEPOINT s;
SELECT pg_temp.err($$SELECT perfstore.record('roles.savepoint', 1)$$);
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.err($$SELECT perfstore.record('roles.savepoint', 2)$$);
COMMIT;
-- record() switches back: the writer is itself again afterwards
SELECT current_user AS after_record;
RESET ROLE;
SELECT sr.metric, s.value FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric IN ('roles.temp', 'roles.rolledback', 'roles.savepoint')
ORDER BY sr.metric COLLATE "C", s.value;
SELECT count(*) AS samples_without_series
FROM perfstore.samples s WHERE NOT EXISTS (SELECT 1 FROM perfstore.series sr WHERE sr.id = s.series_id);
SET ROLE regress_perfstore_writer;
DROP TABLE pg_temp.samples, pg_temp.series, pg_temp.own;
RESET ROLE;
SELECT count(*) AS hijacked FROM perfstore.series WHERE metric IN ('roles.hijack', 'roles.direct');
SELECT count(*) AS sp_rows FROM perfstore.samples s
JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'roles.sp';

-- the reader reads the tables and views Grafana uses, and nothing else
SET ROLE regress_perfstore_reader;
SELECT count(*) AS samples FROM perfstore.samples;
SELECT count(*) AS series FROM perfstore.series;
SELECT count(*) > 0 AS minutes FROM perfstore.samples_1m;
SELECT count(*) > 0 AS hours FROM perfstore.samples_1h;
SELECT runs FROM perfstore.workflow_summary;
SELECT tasks FROM perfstore.agent_summary;
SELECT count(*) > 0 AS partitions FROM perfstore.partitions;
SELECT round(perfstore.quantile(perfstore.sketch_agg(value), 0.5)::numeric, 1) AS median
FROM perfstore.samples;
SELECT pg_temp.err($$SELECT perfstore.record('roles', 9)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.samples VALUES (1, now(), 9)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('roles', 9)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.series (metric) VALUES ('x')$$);
SELECT pg_temp.err('UPDATE perfstore.series SET unit = ''s''');
SELECT pg_temp.err('DELETE FROM perfstore.workflow_runs');
SELECT pg_temp.err('SELECT perfstore.start_workflow_run(''x'')');
SELECT pg_temp.err(format('SELECT perfstore.finish_workflow_run(%s)', :run));
SELECT pg_temp.err('SELECT perfstore.maintain()');
SELECT pg_temp.err('DROP TABLE perfstore.samples');
SELECT pg_temp.err('ALTER TABLE perfstore.series ADD COLUMN x int');
RESET ROLE;
-- nothing the reader tried changed anything
SELECT count(*) AS samples FROM perfstore.samples;
SELECT count(*) AS series FROM perfstore.series;

-- PUBLIC cannot write either (no grants, the write functions revoked)
SELECT p.oid::regprocedure AS public_can_execute
FROM pg_proc p
WHERE p.pronamespace = 'perfstore'::regnamespace
  AND p.proname IN ('record', 'start_workflow_run', 'finish_workflow_run', 'start_task', 'finish_task',
                    'maintain', 'set_retention', 'refresh_rollups', 'create_partition')
  AND has_function_privilege('public', p.oid, 'EXECUTE')
ORDER BY p.oid::regprocedure::text COLLATE "C";

DROP OWNED BY regress_perfstore_reader, regress_perfstore_writer;
DROP ROLE regress_perfstore_reader;
DROP ROLE regress_perfstore_writer;
