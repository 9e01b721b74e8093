--
-- store_write: batch ingest writes its rows straight into the partitions of
-- samples, maintaining their indexes and checking their constraints, and
-- leaves to COPY what only COPY does: triggers, partitions whose columns
-- need converting (docs/store.md, "Batch ingest")
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET timezone = 'UTC';
-- the store tests share the database: start from an empty store
TRUNCATE perfstore.series, perfstore.samples, perfstore.rollup_1m, perfstore.rollup_5m,
	perfstore.rollup_1h, perfstore.rollup_state, perfstore.rollup_invalidations,
	perfstore.settings, perfstore.task_executions, perfstore.workflow_runs RESTART IDENTITY;

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

-- the rows of metric m as stored: label h, ts, value, and the partition
CREATE FUNCTION pg_temp.stored(m text)
RETURNS TABLE (h text, ts timestamptz, value float8, part text) LANGUAGE sql
AS $$
	SELECT sr.labels->>'h', s.ts, s.value, s.tableoid::regclass::text
	FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
	WHERE sr.metric = m
$$;

-- day partitions for 2030-03-01 to 2030-03-03; 2030-03-04 goes to
-- samples_default
SELECT count(perfstore.create_partition('2030-03-01'::date + d)) AS created
FROM generate_series(0, 2) d;

--
-- rows over three day partitions and the default one, five series
-- interleaved: every row arrives once, with its values, in its partition
--
CREATE TABLE public.w_sent AS
SELECT (i % 5)::text AS h, '2030-03-01'::timestamptz + i * interval '1 minute' AS ts, i / 4.0 AS value
FROM generate_series(0, 4 * 1440 - 1) i;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.multi', jsonb_build_object('h', h), ts, value FROM public.w_sent;
SELECT part, count(*), sum(value), min(ts), max(ts)
FROM pg_temp.stored('w.multi') GROUP BY part ORDER BY part COLLATE "C";
SELECT (SELECT count(*) FROM (SELECT h, ts, value FROM public.w_sent
                              EXCEPT ALL SELECT h, ts, value FROM pg_temp.stored('w.multi')) d) AS not_stored,
       (SELECT count(*) FROM (SELECT h, ts, value FROM pg_temp.stored('w.multi')
                              EXCEPT ALL SELECT h, ts, value FROM public.w_sent) d) AS not_sent;
-- the same through COPY into the view
COPY perfstore.ingest (metric, labels, ts, value) FROM stdin;
w.copy	{"h": "a"}	2030-03-01 10:00:00+00	1.5
w.copy	{"h": "b"}	2030-03-02 10:00:00+00	-2.25
w.copy	{"h": "a"}	2030-03-04 10:00:00+00	1e100
w.copy	{"h": "b"}	2031-01-01 00:00:00+00	-1e100
\.
SELECT h, ts, value, part FROM pg_temp.stored('w.copy') ORDER BY ts;

--
-- a batch larger than the ingest buffer (262,144 rows), flushed along the
-- way, over every partition
--
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.big', jsonb_build_object('h', i % 3), '2030-03-01'::timestamptz + i * interval '1 second', i
FROM generate_series(0, 299999) i;
SELECT part, count(*), sum(value)
FROM pg_temp.stored('w.big') GROUP BY part ORDER BY part COLLATE "C";
SELECT count(*) AS samples, count(DISTINCT (h, ts)) AS distinct_keys,
       sum(value) = 299999::numeric * 300000 / 2 AS sum_ok
FROM pg_temp.stored('w.big');

--
-- an index a user adds on samples is maintained: an index scan finds the
-- rows
--
CREATE INDEX w_value_idx ON perfstore.samples (value);
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.indexed', jsonb_build_object('h', i % 2), '2030-03-02'::timestamptz + i * interval '12 hours', 777000 + i
FROM generate_series(0, 5) i;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
-- (other tests may leave day partitions of other days: leave them out)
EXPLAIN (COSTS OFF) SELECT count(*) FROM perfstore.samples
WHERE value BETWEEN 777000 AND 777999 AND ts >= '2030-03-01';
SELECT count(*), sum(value) FROM perfstore.samples
WHERE value BETWEEN 777000 AND 777999 AND ts >= '2030-03-01';
SELECT value, tableoid::regclass AS part FROM perfstore.samples
WHERE value BETWEEN 777000 AND 777999 AND ts >= '2030-03-01' ORDER BY value;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX perfstore.w_value_idx;

--
-- a CHECK constraint a user adds on samples is enforced (23514) and the
-- batch stores nothing, in a day partition and in the default one
--
ALTER TABLE perfstore.samples ADD CONSTRAINT w_small CHECK (value < 1e6) NOT VALID;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('w.check', '{"h": "1"}', '2030-03-01 01:00', 1), ('w.check', '{"h": "2"}', '2030-03-01 02:00', 2e6),
	       ('w.check', '{"h": "1"}', '2030-03-02 01:00', 3)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('w.check', '{"h": "1"}', '2030-03-01 01:00', 1), ('w.check', '{"h": "1"}', '2030-03-04 02:00', 5e6)$$);
SELECT (SELECT count(*) FROM pg_temp.stored('w.check')) AS stored,
       (SELECT count(*) FROM perfstore.series WHERE metric = 'w.check') AS series;
-- rows that pass it are stored
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('w.check', '{"h": "1"}', '2030-03-01 01:00', 1), ('w.check', '{"h": "1"}', '2030-03-04 02:00', 5);
SELECT h, ts, value, part FROM pg_temp.stored('w.check') ORDER BY ts;
ALTER TABLE perfstore.samples DROP CONSTRAINT w_small;

--
-- a unique index a user adds on samples: a row that repeats a stored key,
-- or another row of the batch, fails with 23505 and the batch stores
-- nothing
--
CREATE UNIQUE INDEX w_unique ON perfstore.samples (series_id, ts);
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('w.unique', '{}', '2030-03-01 05:00', 1), ('w.unique', '{}', '2030-03-04 05:00', 2);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('w.unique', '{}', '2030-03-01 06:00', 3), ('w.unique', '{}', '2030-03-01 05:00', 4)$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('w.unique', '{}', '2030-03-04 06:00', 5), ('w.unique', '{}', '2030-03-04 06:00', 6)$$);
SELECT h, ts, value, part FROM pg_temp.stored('w.unique') ORDER BY ts;
DROP INDEX perfstore.w_unique;
-- a deferred unique constraint is checked by a trigger: the batch goes to
-- COPY, which cannot queue that trigger in the batch's security-restricted
-- write (as before the direct write), rather than have the check skipped
ALTER TABLE perfstore.samples ADD CONSTRAINT w_deferred UNIQUE (series_id, ts)
	DEFERRABLE INITIALLY DEFERRED;
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('w.unique', '{}', '2030-03-01 07:00', 7), ('w.unique', '{}', '2030-03-01 07:00', 8)$$);
SELECT count(*) AS stored FROM pg_temp.stored('w.unique') WHERE ts = '2030-03-01 07:00';
ALTER TABLE perfstore.samples DROP CONSTRAINT w_deferred;

--
-- a rolled-back transaction leaves nothing
--
BEGIN;
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.rollback', jsonb_build_object('h', i % 4), '2030-03-01'::timestamptz + i * interval '1 minute', i
FROM generate_series(0, 4 * 1440 - 1) i;
SELECT count(*) AS inside FROM pg_temp.stored('w.rollback');
ROLLBACK;
SELECT (SELECT count(*) FROM pg_temp.stored('w.rollback')) AS after_rollback,
       (SELECT count(*) FROM perfstore.series WHERE metric = 'w.rollback') AS series;

--
-- a trigger on samples still fires: the batch goes to COPY
--
CREATE TABLE public.w_fired (relname text, value float8);
CREATE FUNCTION public.w_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.w_fired VALUES (TG_TABLE_NAME, NEW.value);
	NEW.value := NEW.value + 0.5;
	RETURN NEW;
END $$;
CREATE TRIGGER w_note BEFORE INSERT ON perfstore.samples
	FOR EACH ROW EXECUTE FUNCTION public.w_note();
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.trigger', jsonb_build_object('h', i % 2), '2030-03-01'::timestamptz + i * interval '12 hours', i
FROM generate_series(0, 7) i;
DROP TRIGGER w_note ON perfstore.samples;
SELECT relname, count(*), sum(value) FROM public.w_fired GROUP BY 1 ORDER BY relname COLLATE "C";
SELECT part, count(*), sum(value) FROM pg_temp.stored('w.trigger') GROUP BY part ORDER BY part COLLATE "C";
-- a statement trigger on samples fires once per batch
TRUNCATE public.w_fired;
CREATE FUNCTION public.w_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.w_fired VALUES (TG_TABLE_NAME || ' statement', NULL);
	RETURN NULL;
END $$;
CREATE TRIGGER w_statement AFTER INSERT ON perfstore.samples
	FOR EACH STATEMENT EXECUTE FUNCTION public.w_statement();
INSERT INTO perfstore.ingest (metric, labels, ts, value)
VALUES ('w.statement', '{}', '2030-03-01 01:00', 1), ('w.statement', '{}', '2030-03-04 01:00', 2);
DROP TRIGGER w_statement ON perfstore.samples;
DROP FUNCTION public.w_statement();
SELECT relname, count(*) FROM public.w_fired GROUP BY 1;
SELECT count(*) AS stored FROM pg_temp.stored('w.statement');
-- a trigger on one partition: the rows of the others are written straight,
-- the rest from that partition's first row on go to COPY, and the trigger
-- fires for the rows of its partition only
TRUNCATE public.w_fired;
CREATE TRIGGER w_note BEFORE INSERT ON perfstore.samples_p20300302
	FOR EACH ROW EXECUTE FUNCTION public.w_note();
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.part.trigger', jsonb_build_object('h', i % 3), '2030-03-01'::timestamptz + i * interval '1 hour', i
FROM generate_series(0, 95) i;
DROP TRIGGER w_note ON perfstore.samples_p20300302;
SELECT relname, count(*), sum(value) FROM public.w_fired GROUP BY 1 ORDER BY relname COLLATE "C";
SELECT part, count(*), sum(value) FROM pg_temp.stored('w.part.trigger') GROUP BY part ORDER BY part COLLATE "C";
DROP FUNCTION public.w_note();
DROP TABLE public.w_fired;

--
-- a partition whose columns are laid out otherwise than samples' (a dropped
-- column first): its rows go to COPY, which converts them
--
CREATE TABLE perfstore.w_p20300305 (dropped int, LIKE perfstore.samples INCLUDING CONSTRAINTS);
ALTER TABLE perfstore.w_p20300305 DROP COLUMN dropped;
ALTER TABLE perfstore.samples ATTACH PARTITION perfstore.w_p20300305
	FOR VALUES FROM ('2030-03-05 00:00+00') TO ('2030-03-06 00:00+00');
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.layout', jsonb_build_object('h', i % 2), '2030-03-04'::timestamptz + i * interval '6 hours', i
FROM generate_series(0, 11) i;
SELECT part, count(*), sum(value) FROM pg_temp.stored('w.layout') GROUP BY part ORDER BY part COLLATE "C";
DROP TABLE perfstore.w_p20300305;

--
-- a foreign partition (postgres_fdw, back into this database): its rows go
-- to COPY, which hands them to the foreign data wrapper
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS postgres_fdw;
RESET client_min_messages;
DO $$
BEGIN
	EXECUTE format('CREATE SERVER w_loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host %L, port %L, dbname %L)',
				   split_part(current_setting('unix_socket_directories'), ',', 1),
				   current_setting('port'), current_database());
END $$;
CREATE USER MAPPING FOR CURRENT_USER SERVER w_loopback;
CREATE TABLE public.w_remote (series_id bigint NOT NULL, ts timestamptz NOT NULL, value float8 NOT NULL);
CREATE FOREIGN TABLE perfstore.w_f20300308 PARTITION OF perfstore.samples
	FOR VALUES FROM ('2030-03-08 00:00+00') TO ('2030-03-09 00:00+00')
	SERVER w_loopback OPTIONS (schema_name 'public', table_name 'w_remote');
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'w.foreign', jsonb_build_object('h', i % 2), '2030-03-07'::timestamptz + i * interval '6 hours', i
FROM generate_series(0, 11) i;
SELECT part, count(*), sum(value) FROM pg_temp.stored('w.foreign') GROUP BY part ORDER BY part COLLATE "C";
SELECT count(*) AS remote, sum(value) AS remote_sum FROM public.w_remote;
DROP FOREIGN TABLE perfstore.w_f20300308;
DROP TABLE public.w_remote;
DROP USER MAPPING FOR CURRENT_USER SERVER w_loopback;
DROP SERVER w_loopback;
DROP EXTENSION postgres_fdw;

-- leave the store as found: no rows, no day partitions of these tests
DROP TABLE public.w_sent;
TRUNCATE perfstore.series, perfstore.samples RESTART IDENTITY;
DROP TABLE perfstore.samples_p20300301, perfstore.samples_p20300302, perfstore.samples_p20300303;
