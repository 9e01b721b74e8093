--
-- store_metrics: series, samples, record() and the batch ingest path
-- (docs/store.md, "Metrics")
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

-- the tables and their indexes
SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid) AS partition_key
FROM pg_class c
WHERE c.relnamespace = 'perfstore'::regnamespace
  AND c.relname IN ('series', 'samples', 'samples_default', 'ingest')
ORDER BY c.relname COLLATE "C";
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
FROM pg_index
WHERE indrelid IN ('perfstore.series'::regclass, 'perfstore.samples_default'::regclass)
ORDER BY indexrelid::regclass::text COLLATE "C";
-- every partition has its index on (series_id, ts), without deduplication
-- (offenders: none)
SELECT p.partition AS without_index
FROM perfstore.partitions p
WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = p.partition
                  AND pg_get_indexdef(i.indexrelid) LIKE '%(series_id, ts) WITH (deduplicate_items=off)')
ORDER BY p.partition::text COLLATE "C";

-- record(): one series per (metric, labels), created on first use
SELECT perfstore.record('http.latency', 12.5, '{"host": "a", "path": "/"}',
                        '2026-01-10 10:00:00+00');
SELECT perfstore.record('http.latency', 13.5, '{"path": "/", "host": "a"}',
                        '2026-01-10 10:00:01+00');
SELECT perfstore.record('http.latency', 20, '{"host": "b"}', '2026-01-10 10:00:02+00');
SELECT perfstore.record('queue.depth', 3, ts => '2026-01-10 10:00:03+00');
SELECT perfstore.record('queue.depth', 4);  -- now()
SELECT metric, labels::text, unit FROM perfstore.series ORDER BY id;
SELECT sr.metric, sr.labels::text, s.ts > '2026-01-10 10:00:03+00' AS recent, s.value
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
ORDER BY s.ts, s.value;
SELECT perfstore.set_unit('http.latency', 'ms');
SELECT metric, unit FROM perfstore.series ORDER BY id;

-- bad input: a clear error with SQLSTATE, nothing stored
SELECT pg_temp.err($$SELECT perfstore.record('x', 'NaN')$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', 'Infinity')$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', '-Infinity')$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', 1, '[1, 2]')$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', 1, '"host"')$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', 1, 'null')$$);
SELECT pg_temp.err($$SELECT perfstore.record(NULL, 1)$$);
SELECT pg_temp.err($$SELECT perfstore.record('x', NULL)$$);
-- the table constraints hold for direct inserts too
SELECT pg_temp.err($$INSERT INTO perfstore.samples VALUES (1, '1999-01-01', 'NaN')$$);
SELECT pg_temp.err($$INSERT INTO perfstore.series (metric, labels) VALUES ('x', '[]')$$);
SELECT (SELECT count(*) FROM perfstore.series) AS series,
       (SELECT count(*) FROM perfstore.samples) AS samples;

-- timestamps outside every partition are stored, not refused, within the
-- accepted range: 1970-01-01 up to 2200-01-01 UTC
SELECT perfstore.record('far', 1, ts => '1970-01-01 00:00:00+00');
SELECT perfstore.record('far', 2, ts => '2199-12-31 23:59:59.999999+00');
SELECT pg_temp.err($$SELECT perfstore.record('far', 3, ts => '-infinity')$$);
SELECT pg_temp.err($$SELECT perfstore.record('far', 4, ts => 'infinity')$$);
SELECT pg_temp.err($$SELECT perfstore.record('far', 5, ts => '1969-12-31 23:59:59.999999+00')$$);
SELECT pg_temp.err($$SELECT perfstore.record('far', 6, ts => '2200-01-01 00:00:00+00')$$);
SELECT pg_temp.err($$SELECT perfstore.record('far', 7, ts => '0044-03-15 BC')$$);
-- values: finite and within 1e100, so that stats stay finite
SELECT perfstore.record('big', 1e100);
SELECT perfstore.record('big', -1e100);
SELECT pg_temp.err($$SELECT perfstore.record('big', 1e101)$$);
SELECT pg_temp.err($$SELECT perfstore.record('big', -1e200)$$);
SELECT pg_temp.err($$SELECT perfstore.record('big', 'NaN')$$);
SELECT perfstore.stddev(perfstore.stats_agg(s.value)) > 0 AS finite_stats
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'big';
-- the series key: at most 2000 bytes of metric and labels
SELECT pg_temp.err($$SELECT perfstore.record('wide', 1, jsonb_build_object('k', repeat('x', 3000)))$$);
SELECT perfstore.record('wide', 1, jsonb_build_object('k', repeat('x', 1900)));
-- the same bounds for batch ingest
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('far', 'infinity', 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('far', '0044-03-15 BC', 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('big', 1e200)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, value) VALUES ('wide', jsonb_build_object('k', repeat('x', 3000)), 1)$$);
SELECT s.ts, s.value, s.tableoid::regclass AS stored_in
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'far' ORDER BY s.ts;

--
-- batch ingest: INSERT ... SELECT and COPY into perfstore.ingest
--
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'batch.latency', jsonb_build_object('host', 'h' || (i % 3)),
       '2026-01-11 00:00:00+00'::timestamptz + i * interval '1 second', i
FROM generate_series(1, 3000) i;
COPY perfstore.ingest (metric, labels, ts, value) FROM stdin;
batch.latency	{"host": "h0"}	2026-01-11 02:00:00+00	0.5
batch.latency	{"host": "h9"}	2026-01-11 02:00:01+00	0.25
copy.only	{}	2026-01-11 02:00:02+00	-7
\.
-- the staging table is left empty, every row reached samples
SELECT count(*) AS staged FROM perfstore.ingest;
SELECT sr.metric, sr.labels::text, count(*), sum(s.value), min(s.ts), max(s.ts)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric IN ('batch.latency', 'copy.only')
GROUP BY 1, 2 ORDER BY sr.metric COLLATE "C", sr.labels::text COLLATE "C";
-- one series per label set, whichever path created it
SELECT metric, count(*) FROM perfstore.series GROUP BY 1 ORDER BY metric COLLATE "C";
-- a batch with one bad row stores none of its rows
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('batch.latency', '{"host": "h0"}', '2026-01-12', 1),
	       ('bad.batch', '{}', '2026-01-12', 'NaN')$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('bad.batch', '{}', '2026-01-12', 1), ('bad.batch', '["a"]', '2026-01-12', 2)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, ts, value)
	VALUES ('bad.batch', '2026-01-12', NULL)$$);
SELECT count(*) AS bad_series FROM perfstore.series WHERE metric = 'bad.batch';
SELECT count(*) AS batch_samples FROM perfstore.samples s
JOIN perfstore.series sr ON sr.id = s.series_id WHERE sr.metric = 'batch.latency';
-- the defaults of the staging table: labels '{}' and ts now()
INSERT INTO perfstore.ingest (metric, value) VALUES ('defaults', 1);
SELECT sr.labels::text, s.ts BETWEEN now() - interval '1 hour' AND now() AS ts_now
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'defaults';
-- a batch rolled back with its savepoint leaves nothing, and the next batch
-- in the same transaction is stored whole
BEGIN;
SAVEPOINT a;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('sub.batch', '{"k": 1}', '2026-01-12', 1), ('sub.new', '{}', '2026-01-12', 2);
ROLLBACK TO a;
SAVEPOINT b;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('sub.batch', '{"k": 1}', '2026-01-12', 3), ('sub.batch', '{}', '2026-01-12', 'Infinity')$$);
ROLLBACK TO b;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('sub.batch', '{"k": 1}', '2026-01-12', 4);
COMMIT;
SELECT sr.metric, sr.labels::text, count(*), sum(s.value)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric LIKE 'sub.%' GROUP BY 1, 2;
-- label sets equal as jsonb but written differently are one series
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('eq.labels', '{"a": 1, "b": "x"}', '2026-01-12', 1),
       ('eq.labels', '{"b": "x", "a": 1.0}', '2026-01-12', 2),
       ('eq.labels', '{"b":"x","a":1}', '2026-01-12', 3);
SELECT count(DISTINCT sr.id) AS series, count(*) AS samples
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'eq.labels';
-- a batch larger than the ingest buffer (flushed along the way) with new
-- and existing series mixed: every row arrives once
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'big.batch', jsonb_build_object('n', i % 7), '2026-01-13'::timestamptz + i * interval '1 ms', i
FROM generate_series(1, 300000) i;
SELECT count(DISTINCT s.series_id) AS series, count(*) AS samples, sum(s.value) = 300000::numeric * 300001 / 2 AS sum_ok
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'big.batch';
-- memory stays bounded however many rows one statement sends: measured at
-- the end of a 20,000-row and a 200,000-row statement (each row left behind
-- would cost about 100 bytes, 18 MB in all; the rows come from a join of two
-- small function scans, which keep no copy of them)
CREATE TABLE public.ingest_mem (stmt int, bytes bigint);
CREATE FUNCTION public.ingest_mem() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.ingest_mem
	SELECT (SELECT count(*) + 1 FROM public.ingest_mem), sum(total_bytes)
	FROM pg_backend_memory_contexts;
	RETURN NULL;
END $$;
CREATE TRIGGER zz_ingest_mem AFTER INSERT ON perfstore.ingest
	FOR EACH STATEMENT EXECUTE FUNCTION public.ingest_mem();
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'mem.batch', '{}', '2026-01-14'::timestamptz + (a * 1000 + b) * interval '1 ms', b
FROM generate_series(1, 20) a, generate_series(1, 1000) b;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'mem.batch', '{}', '2026-01-15'::timestamptz + (a * 1000 + b) * interval '1 ms', b
FROM generate_series(1, 200) a, generate_series(1, 1000) b;
SELECT count(*) AS statements,
       max(bytes) - min(bytes) < 4 * 1024 * 1024 AS memory_bounded
FROM public.ingest_mem;
-- the same through COPY
TRUNCATE public.ingest_mem;
\copy perfstore.ingest (metric, value) FROM PROGRAM 'seq 1 20000 | sed -e "s/^/mem.copy,/"' WITH (FORMAT csv)
\copy perfstore.ingest (metric, value) FROM PROGRAM 'seq 1 200000 | sed -e "s/^/mem.copy,/"' WITH (FORMAT csv)
SELECT count(*) AS statements,
       max(bytes) - min(bytes) < 4 * 1024 * 1024 AS memory_bounded
FROM public.ingest_mem;
SELECT count(*) AS copied, sum(s.value) AS copied_sum
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'mem.copy';
DROP TRIGGER zz_ingest_mem ON perfstore.ingest;
DROP FUNCTION public.ingest_mem();
DROP TABLE public.ingest_mem;
-- the trigger function refuses a relation that is not shaped like
-- perfstore.ingest before reading a row of it
CREATE VIEW public.fake_ingest AS SELECT 1::int AS metric, 2::int AS labels, 3::int AS ts, 4::int AS value;
CREATE TRIGGER fake_row INSTEAD OF INSERT ON public.fake_ingest
	FOR EACH ROW EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER fake_begin BEFORE INSERT ON public.fake_ingest
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();
SELECT pg_temp.err($$INSERT INTO public.fake_ingest VALUES (1, 2, 3, 4)$$);
CREATE VIEW public.fake_ingest2 AS
	SELECT 'm'::text AS metric, '{}'::jsonb AS labels, 'x'::text AS ts, 1::float8 AS value;
CREATE TRIGGER fake_row INSTEAD OF INSERT ON public.fake_ingest2
	FOR EACH ROW EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER fake_begin BEFORE INSERT ON public.fake_ingest2
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();
SELECT pg_temp.err($$INSERT INTO public.fake_ingest2 VALUES ('m', '{}', 'not a time', 1)$$);
DROP VIEW public.fake_ingest, public.fake_ingest2;
-- a batch started by a trigger while another batch is being stored (a
-- derived metric): both arrive whole
CREATE FUNCTION public.derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.series_id = (SELECT id FROM perfstore.series WHERE metric = 'nest.src') THEN
		INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('nest.derived', NEW.ts, 2 * NEW.value);
	END IF;
	RETURN NEW;
END $$;
SELECT perfstore.record('nest.src', 0, ts => '2026-01-16');
CREATE TRIGGER derive BEFORE INSERT ON perfstore.samples
	FOR EACH ROW EXECUTE FUNCTION public.derive();
INSERT INTO perfstore.ingest (metric, ts, value)
SELECT 'nest.src', '2026-01-16'::timestamptz + i * interval '1 s', i FROM generate_series(1, 100) i;
DROP TRIGGER derive ON perfstore.samples;
DROP FUNCTION public.derive();
SELECT sr.metric, count(*), sum(s.value)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric LIKE 'nest.%' GROUP BY 1 ORDER BY sr.metric COLLATE "C";
-- a hostile search_path does not change where the batch goes
CREATE SCHEMA hostile;
CREATE TABLE hostile.series (id bigint, metric text, labels jsonb);
CREATE TABLE hostile.samples (series_id bigint, ts timestamptz, value float8);
SET search_path = hostile, public;
INSERT INTO perfstore.ingest (metric, labels, ts, value) VALUES ('hostile.path', '{}', '2026-01-12', 1);
RESET search_path;
SELECT (SELECT count(*) FROM hostile.series) + (SELECT count(*) FROM hostile.samples) AS hijacked,
       (SELECT count(*) FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
        WHERE sr.metric = 'hostile.path') AS stored;
DROP SCHEMA hostile CASCADE;

-- perfstore.ingest is a foreign table of the extension's own wrapper
-- (docs/store.md): INSERT and COPY only, always empty when read
SELECT c.relkind, w.fdwname, s.srvname
FROM pg_class c JOIN pg_foreign_table f ON f.ftrelid = c.oid
JOIN pg_foreign_server s ON s.oid = f.ftserver
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE c.oid = 'perfstore.ingest'::regclass;
SELECT pg_temp.err($$UPDATE perfstore.ingest SET value = 1$$);
SELECT pg_temp.err($$DELETE FROM perfstore.ingest$$);
SELECT pg_temp.err($$TRUNCATE perfstore.ingest$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, value) VALUES ('c', 1) ON CONFLICT DO NOTHING$$);
SELECT pg_temp.err($$ALTER FOREIGN TABLE perfstore.ingest OPTIONS (ADD table_name 'x')$$);
SELECT pg_temp.err($$ALTER SERVER perfstore_ingest OPTIONS (ADD host 'x')$$);
SELECT count(*) AS rows_read FROM perfstore.ingest WHERE value > 0;
-- EXPLAIN alone stores nothing; EXPLAIN ANALYZE stores the rows
EXPLAIN (COSTS OFF) INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.explain', '2026-01-12', 1);
SELECT count(*) AS explained FROM perfstore.series WHERE metric = 'fdw.explain';
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.analyzed', '2026-01-12', 1), ('fdw.analyzed', '2026-01-12 00:00:01', 2);
-- two inserts in one statement, RETURNING, a prepared statement run twice,
-- and a batch inside a function and a rolled-back savepoint
WITH a AS (INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.with1', '2026-01-12', 1) RETURNING value),
     b AS (INSERT INTO perfstore.ingest (metric, ts, value)
           SELECT 'fdw.with2', '2026-01-12'::timestamptz + i * interval '1 s', i FROM generate_series(1, 3) i RETURNING value)
SELECT (SELECT sum(value) FROM a) AS a_sum, (SELECT sum(value) FROM b) AS b_sum;
PREPARE fdw_ins(float8) AS INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.prepared', '2026-01-12'::timestamptz + $1 * interval '1 s', $1);
EXECUTE fdw_ins(1);
EXECUTE fdw_ins(2);
DEALLOCATE fdw_ins;
DO $$
BEGIN
	INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.plpgsql', '2026-01-12', 5);
	BEGIN
		INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.plpgsql', '2026-01-12 00:00:01', 6), (NULL, '2026-01-12', 7);
	EXCEPTION WHEN invalid_parameter_value THEN
		RAISE NOTICE 'second batch refused: %', SQLSTATE;
	END;
	INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.plpgsql', '2026-01-12 00:00:02', 8);
END $$;
SELECT sr.metric, count(*), sum(s.value)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric LIKE 'fdw.%' GROUP BY 1 ORDER BY sr.metric COLLATE "C";
-- no other table can be put behind the wrapper: a role needs USAGE on its
-- server, which only the extension's owner has; and even the owner's own
-- other table is refused before a row is read
CREATE ROLE regress_fdw_user;
GRANT CREATE ON SCHEMA public TO regress_fdw_user;
SET ROLE regress_fdw_user;
SELECT pg_temp.err($$CREATE FOREIGN TABLE public.my_ingest (metric text, labels text, ts timestamptz, value float8) SERVER perfstore_ingest$$);
SELECT pg_temp.err($$CREATE SERVER my_ingest FOREIGN DATA WRAPPER perfstore_ingest$$);
RESET ROLE;
CREATE FOREIGN TABLE public.my_ingest (metric text, labels text, ts timestamptz, value float8) SERVER perfstore_ingest;
SELECT pg_temp.err($$INSERT INTO public.my_ingest VALUES ('m', '{}', '2026-01-12', 1)$$);
CREATE SCHEMA other;
CREATE FOREIGN TABLE other.ingest (metric int, labels int, ts int, value int) SERVER perfstore_ingest;
SELECT pg_temp.err($$INSERT INTO other.ingest VALUES (1, 2, 3, 4)$$);
SELECT pg_temp.err($$COPY other.ingest FROM PROGRAM 'echo 1,2,3,4' WITH (FORMAT csv)$$);
DROP SCHEMA other CASCADE;
DROP FOREIGN TABLE public.my_ingest;
-- perfstore.ingest altered by its owner: refused with what it lacks
BEGIN;
ALTER FOREIGN TABLE perfstore.ingest ADD COLUMN extra int;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.altered', '2026-01-12', 1)$$);
ROLLBACK;
BEGIN;
ALTER FOREIGN TABLE perfstore.ingest DROP COLUMN value;
ALTER FOREIGN TABLE perfstore.ingest ADD COLUMN value float8;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, ts, value) VALUES ('fdw.altered', '2026-01-12', 1)$$);
ROLLBACK;
REVOKE CREATE ON SCHEMA public FROM regress_fdw_user;
DROP ROLE regress_fdw_user;

-- the functions a hostile search_path cannot hijack (offenders: none)
SELECT p.oid::regprocedure AS not_pinned
FROM pg_proc p
JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'perfstore'
WHERE p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
  AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false)
ORDER BY p.oid::regprocedure::text COLLATE "C";
-- the user data tables that pg_dump keeps
SELECT c.oid::regclass AS config_table
FROM pg_extension e, unnest(e.extconfig) c(oid)
WHERE e.extname = 'perfstore'
ORDER BY c.oid::regclass::text COLLATE "C";

-- record() caches series ids per session: a series deleted, truncated or
-- created by a write that rolled back is never used again (docs/store.md)
SELECT perfstore.record('cache.del', 1, '{"h": 1}', '2026-01-20');
DELETE FROM perfstore.samples WHERE series_id IN (SELECT id FROM perfstore.series WHERE metric = 'cache.del');
DELETE FROM perfstore.series WHERE metric = 'cache.del';
SELECT perfstore.record('cache.del', 2, '{"h": 1}', '2026-01-20');
BEGIN;
SELECT perfstore.record('cache.rollback', 1, ts => '2026-01-20');
ROLLBACK;
SELECT perfstore.record('cache.rollback', 2, ts => '2026-01-20');
BEGIN;
SAVEPOINT s;
SELECT perfstore.record('cache.savepoint', 1, ts => '2026-01-20');
ROLLBACK TO SAVEPOINT s;
SELECT perfstore.record('cache.savepoint', 2, ts => '2026-01-20');
COMMIT;
-- a series renamed: the old key makes a new series
SELECT perfstore.record('cache.renamed', 1, ts => '2026-01-20');
UPDATE perfstore.series SET metric = 'cache.renamed.new' WHERE metric = 'cache.renamed';
SELECT perfstore.record('cache.renamed', 2, ts => '2026-01-20');
SELECT sr.metric, s.value
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric LIKE 'cache.%' ORDER BY sr.metric COLLATE "C", s.value;
SELECT count(*) AS samples_without_series
FROM perfstore.samples s WHERE NOT EXISTS (SELECT 1 FROM perfstore.series sr WHERE sr.id = s.series_id);

-- batch ingest takes labels as text: jsonb values are cast on assignment,
-- the same object written differently is one series, text that is not
-- JSON is refused with jsonb's own error
SELECT format_type(atttypid, atttypmod) AS labels_type
FROM pg_attribute WHERE attrelid = 'perfstore.ingest'::regclass AND attname = 'labels';
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('text.labels', '{"b": 2, "a": 1}', '2026-01-20', 1),
       ('text.labels', '{"a":1,"b":2}', '2026-01-20', 2),
       ('text.labels', ' {"a": 1.0, "b": 2} ', '2026-01-20', 3);
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'text.labels', jsonb_build_object('a', 1, 'b', 2), '2026-01-20', 4;
SELECT sr.labels, count(*), sum(s.value)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'text.labels' GROUP BY 1;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value) VALUES ('text.bad', '{"a": ', '2026-01-20', 1)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value) VALUES ('text.bad', '[{"a": 1}]', '2026-01-20', 1)$$);
-- a binary COPY written for the jsonb column (jsonb's binary format) loads
SELECT '/tmp/perfstore_regress_ingest_' || pg_backend_pid() || '.bin' AS binfile \gset
COPY (SELECT 'bin.copy'::text, '{"host": "b1"}'::jsonb, '2026-01-20'::timestamptz + i * interval '1 s', i::float8
      FROM generate_series(1, 3) i) TO :'binfile' (FORMAT binary);
COPY perfstore.ingest (metric, labels, ts, value) FROM :'binfile' (FORMAT binary);
SELECT sr.labels, count(*), sum(s.value)
FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'bin.copy' GROUP BY 1;
