/* perfstore--0.2.0--0.3.0.sql: stored load-test runs and
 * regression verdicts (docs/runs.md)
 *
 * Tables for perfdriver's results (bench_runs, bench_statements,
 * bench_intervals, nplus1_findings) and their summary views; store_run(),
 * which stores one driver's JSON report in one call and merges the drivers
 * of a run group; compare_runs() and compare_to_history(), the regression
 * verdicts; and the reader and writer roles extended to all of it.
 * Before those, the store's revisions: batch ingest through a view with C
 * triggers instead of a staging table, 5-minute rollups, an index by bucket
 * on every rollup, and a STABLE watermark function for the real-time views.
 * docs/runs.md documents the document, the merge and the verdict rules.
 *
 * Every function written in SQL or plpgsql sets search_path and qualifies
 * every name.  The tables and their sequence are registered with
 * pg_extension_config_dump.
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.3.0'" to load this file. \quit

--
-- the store, revised
--
-- Batch ingest: the staging table perfstore.ingest and its plpgsql
-- statement trigger give way to a view of the same columns whose C triggers
-- (src/store.c) resolve each row's series through a hash table of the
-- statement's label sets, create the missing series at the end of the
-- statement (in a fixed order, so that concurrent batches cannot deadlock)
-- and hand the rows to COPY FROM into samples in its binary format.  The
-- table was always empty between statements, so nothing is moved.  The view
-- is built under a temporary name, takes over the INSERT grants of the
-- table, and then its name.
CREATE VIEW perfstore.ingest_0_3_0 AS
SELECT NULL::text AS metric, NULL::jsonb AS labels,
       NULL::timestamptz AS ts, NULL::float8 AS value
WHERE false;
ALTER VIEW perfstore.ingest_0_3_0 ALTER COLUMN labels SET DEFAULT '{}';
ALTER VIEW perfstore.ingest_0_3_0 ALTER COLUMN ts SET DEFAULT pg_catalog.now();
COMMENT ON VIEW perfstore.ingest_0_3_0 IS
	'batch ingest: COPY or INSERT (metric, labels, ts, value) rows here; each statement stores them in samples (always empty when read)';

CREATE FUNCTION perfstore.ingest_trigger() RETURNS trigger
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_ingest_trigger';
COMMENT ON FUNCTION perfstore.ingest_trigger() IS
	'the triggers of perfstore.ingest: open a batch per statement, validate and buffer each row, store the batch in samples at the end of the statement';
CREATE TRIGGER ingest_begin BEFORE INSERT ON perfstore.ingest_0_3_0
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER ingest_row INSTEAD OF INSERT ON perfstore.ingest_0_3_0
	FOR EACH ROW EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER ingest_end AFTER INSERT ON perfstore.ingest_0_3_0
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();

DO $do$
DECLARE
	g record;
BEGIN
	FOR g IN
		SELECT DISTINCT a.grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid = 'perfstore.ingest'::pg_catalog.regclass
		  AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner
	LOOP
		EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON perfstore.ingest_0_3_0 TO %s',
			CASE WHEN g.grantee = 0 THEN 'PUBLIC'
			     ELSE g.grantee::pg_catalog.regrole::text END);
	END LOOP;
END
$do$;
DROP TRIGGER ingest_move ON perfstore.ingest;
DROP FUNCTION perfstore.ingest_move();
DROP TABLE perfstore.ingest;
ALTER VIEW perfstore.ingest_0_3_0 RENAME TO ingest;

-- Rollups: 5-minute buckets, so that a 5-minute panel reads one row per
-- point instead of merging five, filled from the 1-minute rollups already
-- there; and an index by bucket on each rollup, since every refresh deletes
-- and re-aggregates a time range.
CREATE INDEX rollup_1m_bucket ON perfstore.rollup_1m (bucket);
CREATE TABLE perfstore.rollup_5m (
	series_id bigint NOT NULL,
	bucket timestamptz NOT NULL,
	sketch perfstore.sketch NOT NULL,
	stats perfstore.stats NOT NULL,
	PRIMARY KEY (series_id, bucket)
);
COMMENT ON TABLE perfstore.rollup_5m IS
	'per series and 5 UTC minutes: a sketch and stats of the samples (maintain() refreshes it)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_5m', '');
CREATE INDEX rollup_5m_bucket ON perfstore.rollup_5m (bucket);
CREATE INDEX rollup_1h_bucket ON perfstore.rollup_1h (bucket);
INSERT INTO perfstore.rollup_5m (series_id, bucket, sketch, stats)
SELECT r.series_id, pg_catalog.date_bin('5 minutes', r.bucket, timestamptz '2000-01-01 00:00+00'),
       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
FROM perfstore.rollup_1m r
GROUP BY 1, 2;

-- Re-aggregates the 1-minute rollups of [from_ts, to_ts) from the raw
-- samples, and the 5-minute and 1-hour rollups of the buckets the range
-- touches from the 1-minute rollups (both ends truncated to whole buckets:
-- the bucket holding to_ts is left to the next refresh).  Returns the
-- number of 1-minute buckets written.
CREATE OR REPLACE FUNCTION perfstore.refresh_rollups(from_ts timestamptz, to_ts timestamptz)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := date_trunc('minute', from_ts, 'UTC');
	lo_5 timestamptz := date_bin('5 minutes', from_ts, timestamptz '2000-01-01 00:00+00');
	lo_h timestamptz := date_trunc('hour', from_ts, 'UTC');
	hi timestamptz := date_trunc('minute', to_ts, 'UTC');
	hi_5 timestamptz := date_bin('5 minutes', to_ts, timestamptz '2000-01-01 00:00+00');
	hi_h timestamptz := date_trunc('hour', to_ts, 'UTC');
	written bigint;
BEGIN
	IF lo >= hi THEN
		RETURN 0;
	END IF;
	DELETE FROM perfstore.rollup_1m WHERE bucket >= lo AND bucket < hi;
	INSERT INTO perfstore.rollup_1m (series_id, bucket, sketch, stats)
	SELECT s.series_id, date_trunc('minute', s.ts, 'UTC'),
	       perfstore.sketch_agg(s.value), perfstore.stats_agg(s.value)
	FROM perfstore.samples s
	WHERE s.ts >= lo AND s.ts < hi
	GROUP BY 1, 2;
	GET DIAGNOSTICS written = ROW_COUNT;
	IF lo_5 < hi_5 THEN
		DELETE FROM perfstore.rollup_5m WHERE bucket >= lo_5 AND bucket < hi_5;
		INSERT INTO perfstore.rollup_5m (series_id, bucket, sketch, stats)
		SELECT r.series_id, date_bin('5 minutes', r.bucket, timestamptz '2000-01-01 00:00+00'),
		       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
		FROM perfstore.rollup_1m r
		WHERE r.bucket >= lo_5 AND r.bucket < hi_5
		GROUP BY 1, 2;
	END IF;
	IF lo_h < hi_h THEN
		DELETE FROM perfstore.rollup_1h WHERE bucket >= lo_h AND bucket < hi_h;
		INSERT INTO perfstore.rollup_1h (series_id, bucket, sketch, stats)
		SELECT r.series_id, date_trunc('hour', r.bucket, 'UTC'),
		       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
		FROM perfstore.rollup_1m r
		WHERE r.bucket >= lo_h AND r.bucket < hi_h
		GROUP BY 1, 2;
	END IF;
	RETURN written;
END
$$;
COMMENT ON FUNCTION perfstore.refresh_rollups(timestamptz, timestamptz) IS
	're-aggregate the 1-minute, 5-minute and 1-hour rollups of a time range from the raw samples (for backfills older than the late window)';

-- Real-time views: rollups before the watermark, the raw tail after it.
CREATE FUNCTION perfstore.rollup_watermark() RETURNS timestamptz
	LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(max(st.watermark), '-infinity') FROM perfstore.rollup_state st
$$;
COMMENT ON FUNCTION perfstore.rollup_watermark() IS
	'the rollup watermark: rollups hold every sample before it, the views read raw samples from it on (-infinity before the first maintain())';

-- Real-time views: rollups before the watermark, the raw tail after it.
CREATE OR REPLACE VIEW perfstore.samples_1m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1m r
WHERE r.bucket < perfstore.rollup_watermark()
UNION ALL
SELECT s.series_id, date_trunc('minute', s.ts, 'UTC') AS bucket,
       perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
FROM perfstore.samples s
WHERE s.ts >= perfstore.rollup_watermark()
GROUP BY 1, 2;
COMMENT ON VIEW perfstore.samples_1m IS
	'per series and UTC minute, up to now: the 1-minute rollups before the watermark and the raw samples after it';

CREATE VIEW perfstore.samples_5m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_5m r
WHERE r.bucket < date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
UNION ALL
SELECT m.series_id, date_bin('5 minutes', m.bucket, timestamptz '2000-01-01 00:00+00') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
GROUP BY 1, 2;
COMMENT ON VIEW perfstore.samples_5m IS
	'per series and 5 UTC minutes, up to now: the 5-minute rollups before the watermark''s 5 minutes and samples_1m after it';

CREATE OR REPLACE VIEW perfstore.samples_1h AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1h r
WHERE r.bucket < date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
UNION ALL
SELECT m.series_id, date_trunc('hour', m.bucket, 'UTC') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
GROUP BY 1, 2;
COMMENT ON VIEW perfstore.samples_1h IS
	'per series and UTC hour, up to now: the 1-hour rollups before the watermark''s hour and samples_1m after it';


--
-- tables
--
CREATE SEQUENCE perfstore.bench_runs_id_seq;
CREATE TABLE perfstore.bench_runs (
	id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('perfstore.bench_runs_id_seq'),
	name text NOT NULL CHECK (name <> ''),
	run_group text CHECK (run_group <> ''),
	labels jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(labels) = 'object'),
	config jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(config) = 'object'),
	hosts text[] NOT NULL DEFAULT '{}',
	drivers integer NOT NULL DEFAULT 1 CHECK (drivers >= 1),
	clients integer,
	started_at timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	duration_s float8,
	tps float8,
	transactions bigint,
	failed_transactions bigint,
	retries bigint,
	errors jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(errors) = 'object'),
	latency perfstore.sketch,
	report jsonb NOT NULL DEFAULT '{}',
	CONSTRAINT bench_runs_group UNIQUE (name, run_group),
	CONSTRAINT bench_runs_finished CHECK (finished_at >= started_at)
);
ALTER SEQUENCE perfstore.bench_runs_id_seq OWNED BY perfstore.bench_runs.id;
CREATE INDEX bench_runs_name_started ON perfstore.bench_runs (name, started_at);
CREATE INDEX bench_runs_started ON perfstore.bench_runs (started_at);
CREATE INDEX bench_runs_labels ON perfstore.bench_runs USING gin (labels jsonb_path_ops);
COMMENT ON TABLE perfstore.bench_runs IS
	'one row per load-test run (store_run); the drivers of a run group (name, run_group) share one row';
SELECT pg_catalog.pg_extension_config_dump('perfstore.bench_runs', '');
SELECT pg_catalog.pg_extension_config_dump('perfstore.bench_runs_id_seq', '');

CREATE TABLE perfstore.bench_statements (
	run_id bigint NOT NULL REFERENCES perfstore.bench_runs (id) ON DELETE CASCADE,
	fingerprint text NOT NULL,
	query text,
	calls bigint,
	rows bigint,
	errors bigint,
	latency perfstore.sketch,
	PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX bench_statements_fingerprint ON perfstore.bench_statements (fingerprint);
COMMENT ON TABLE perfstore.bench_statements IS
	'per run and normalized statement (fingerprint): calls, rows, errors and the latency sketch in ms';
SELECT pg_catalog.pg_extension_config_dump('perfstore.bench_statements', '');

CREATE TABLE perfstore.bench_intervals (
	run_id bigint NOT NULL REFERENCES perfstore.bench_runs (id) ON DELETE CASCADE,
	seq integer NOT NULL CHECK (seq >= 1),
	started_at timestamptz,
	length_s float8,
	transactions bigint,
	failed bigint,
	errors bigint,
	tps float8,
	latency perfstore.sketch,
	PRIMARY KEY (run_id, seq)
);
COMMENT ON TABLE perfstore.bench_intervals IS
	'per run and progress interval (seq 1 is the first): transactions, failures, TPS and the latency sketch in ms';
SELECT pg_catalog.pg_extension_config_dump('perfstore.bench_intervals', '');

CREATE TABLE perfstore.nplus1_findings (
	run_id bigint NOT NULL REFERENCES perfstore.bench_runs (id) ON DELETE CASCADE,
	source_fingerprint text NOT NULL,
	repeated_fingerprint text NOT NULL,
	source text,
	repeated text,
	occurrences bigint,
	repeats_total bigint,
	repeats_max bigint,
	time_ms float8,
	example_params text[],
	suggestion text,
	PRIMARY KEY (run_id, source_fingerprint, repeated_fingerprint)
);
COMMENT ON TABLE perfstore.nplus1_findings IS
	'N+1 query patterns the driver found in a run: a statement repeated once per row of a source statement';
SELECT pg_catalog.pg_extension_config_dump('perfstore.nplus1_findings', '');

--
-- summaries
--
CREATE VIEW perfstore.bench_run_summary AS
SELECT r.id, r.name, r.labels, r.started_at, r.finished_at, r.tps, r.transactions,
       r.failed_transactions,
       CASE WHEN coalesce(r.transactions, 0) + coalesce(r.failed_transactions, 0) > 0
            THEN coalesce(r.failed_transactions, 0)::float8
                 / (coalesce(r.transactions, 0) + coalesce(r.failed_transactions, 0))
       END AS error_rate,
       q.q[1] AS p50_ms, q.q[2] AS p95_ms, q.q[3] AS p99_ms, q.q[4] AS p999_ms,
       perfstore.max(r.latency) AS max_ms, perfstore.mean(r.latency) AS mean_ms
FROM perfstore.bench_runs r
CROSS JOIN LATERAL (SELECT perfstore.quantiles(r.latency, '{0.5,0.95,0.99,0.999}') AS q) q;
COMMENT ON VIEW perfstore.bench_run_summary IS
	'one row per run: TPS, counts, error rate (failed / (committed + failed)) and transaction latency quantiles in ms';

CREATE VIEW perfstore.bench_statement_summary AS
SELECT s.run_id, s.fingerprint, s.query, s.calls, s.rows, s.errors,
       CASE WHEN coalesce(s.calls, 0) + coalesce(s.errors, 0) > 0
            THEN coalesce(s.errors, 0)::float8 / (coalesce(s.calls, 0) + coalesce(s.errors, 0))
       END AS error_rate,
       q.q[1] AS p50_ms, q.q[2] AS p95_ms, q.q[3] AS p99_ms,
       perfstore.max(s.latency) AS max_ms, perfstore.mean(s.latency) AS mean_ms
FROM perfstore.bench_statements s
CROSS JOIN LATERAL (SELECT perfstore.quantiles(s.latency, '{0.5,0.95,0.99}') AS q) q;
COMMENT ON VIEW perfstore.bench_statement_summary IS
	'one row per run and statement: calls, rows, errors, error rate (errors / (calls + errors)) and latency quantiles in ms';

--
-- reading the run document: each helper takes one JSON value (NULL when
-- the field is absent) and the field's name for the error message
--
CREATE FUNCTION perfstore.run_doc_text(value jsonb, field text) RETURNS text
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF value IS NULL OR pg_catalog.jsonb_typeof(value) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
		RAISE EXCEPTION 'field "%" of the run document must be a string, not %',
			field, pg_catalog.jsonb_typeof(value)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN value #>> '{}';
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_text(jsonb, text) IS
	'a string field of a run document (NULL when absent or null; 22023 naming the field otherwise)';

CREATE FUNCTION perfstore.run_doc_number(value jsonb, field text) RETURNS float8
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n numeric;
BEGIN
	IF value IS NULL OR pg_catalog.jsonb_typeof(value) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(value) <> 'number' THEN
		RAISE EXCEPTION 'field "%" of the run document must be a number, not %',
			field, pg_catalog.jsonb_typeof(value)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	n := (value #>> '{}')::numeric;
	IF n < 0 THEN
		RAISE EXCEPTION 'field "%" of the run document must not be negative: %', field, value #>> '{}'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- what float8 cannot hold (checked here: no subtransaction per value)
	IF n > 1e308 OR (n > 0 AND n < 1e-307) THEN
		RAISE EXCEPTION 'field "%" of the run document is out of range', field
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'A float8 holds magnitudes from 1e-307 to 1e308.';
	END IF;
	RETURN n::float8;
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_number(jsonb, text) IS
	'a non-negative number field of a run document (NULL when absent or null; 22023 naming the field otherwise)';

CREATE FUNCTION perfstore.run_doc_count(value jsonb, field text) RETURNS bigint
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n numeric;
BEGIN
	IF value IS NULL OR pg_catalog.jsonb_typeof(value) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(value) <> 'number' THEN
		RAISE EXCEPTION 'field "%" of the run document must be a number, not %',
			field, pg_catalog.jsonb_typeof(value)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	n := (value #>> '{}')::numeric;
	IF n < 0 OR n <> pg_catalog.trunc(n) OR n > 9223372036854775807 THEN
		RAISE EXCEPTION 'field "%" of the run document must be a count (a whole number from 0), not %',
			field, value #>> '{}'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN n::bigint;
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_count(jsonb, text) IS
	'a count field (whole number >= 0) of a run document (NULL when absent or null; 22023 naming the field otherwise)';

CREATE FUNCTION perfstore.run_doc_time(value jsonb, field text) RETURNS timestamptz
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t timestamptz;
BEGIN
	IF value IS NULL OR pg_catalog.jsonb_typeof(value) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
		RAISE EXCEPTION 'field "%" of the run document must be a timestamp string, not %',
			field, pg_catalog.jsonb_typeof(value)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	BEGIN
		t := (value #>> '{}')::timestamptz;
	EXCEPTION WHEN data_exception THEN
		RAISE EXCEPTION 'field "%" of the run document is not a valid timestamp: "%"',
			field, value #>> '{}'
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use ISO 8601 with an offset, like 2026-01-31T12:00:00.000001+00:00.';
	END;
	IF NOT pg_catalog.isfinite(t) THEN
		RAISE EXCEPTION 'field "%" of the run document must be a finite timestamp, not "%"',
			field, value #>> '{}'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN t;
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_time(jsonb, text) IS
	'a timestamptz field of a run document (NULL when absent or null; 22023 naming the field otherwise)';

-- A bad sketch keeps the sketch type's own SQLSTATE and message; the
-- field is named in the HINT.
CREATE FUNCTION perfstore.run_doc_sketch(value jsonb, field text) RETURNS perfstore.sketch
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	state text;
	msg text;
	det text;
BEGIN
	IF value IS NULL OR pg_catalog.jsonb_typeof(value) = 'null' THEN
		RETURN NULL;
	END IF;
	IF pg_catalog.jsonb_typeof(value) <> 'string' THEN
		RAISE EXCEPTION 'field "%" of the run document must be a string holding a sketch''s text form, not %',
			field, pg_catalog.jsonb_typeof(value)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN (value #>> '{}')::perfstore.sketch;
EXCEPTION WHEN data_exception THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
	IF state = '22023' THEN
		RAISE;
	END IF;
	RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = det,
		HINT = format('In field "%s" of the run document.', field);
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_sketch(jsonb, text) IS
	'a sketch field of a run document, given as the sketch''s text form in a JSON string (NULL when absent or null)';

-- STABLE, not IMMUTABLE: the planner must not call it ahead of time when
-- its arguments are constants in a CASE branch that is never taken
CREATE FUNCTION perfstore.run_doc_fail(field text, problem text) RETURNS void
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION 'field "%" of the run document %', field, problem
		USING ERRCODE = 'invalid_parameter_value';
END
$$;
COMMENT ON FUNCTION perfstore.run_doc_fail(text, text) IS
	'raise 22023: field "<field>" of the run document <problem>';

--
-- storing a run
--
-- Validates the document's fields, then writes (the sketches and the
-- intervals' timestamps are parsed as they are written; a bad one raises
-- like a bad field, and the error undoes every write of the call).  The
-- run row comes first: INSERT ... ON CONFLICT (name, run_group) DO UPDATE either
-- creates the group's row or merges into it, and in both cases holds the
-- row lock until commit.  Every driver of a group takes that one lock
-- before touching the group's statements, intervals and findings, so
-- concurrent drivers of a group queue on it: no lost update, no deadlock.
-- The child rows are written in key order all the same.
CREATE FUNCTION perfstore.store_run(report jsonb) RETURNS bigint
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	doc jsonb := store_run.report;
	v_name text;
	v_group text;
	v_labels jsonb;
	v_config jsonb;
	v_host text;
	v_started timestamptz;
	v_finished timestamptz;
	v_errors jsonb;
	v_latency perfstore.sketch;
	stored jsonb;
	rid bigint;
	i integer;
	k text;
	f text;
	val jsonb;
	state text;
	msg text;
	det text;
	hnt text;
BEGIN
	IF doc IS NULL OR pg_catalog.jsonb_typeof(doc) <> 'object' THEN
		RAISE EXCEPTION 'the run document must be a JSON object, not %',
			coalesce(pg_catalog.jsonb_typeof(doc), 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- the run
	v_name := perfstore.run_doc_text(doc -> 'name', 'name');
	IF v_name IS NULL OR v_name = '' THEN
		RAISE EXCEPTION 'field "name" of the run document is missing or empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_group := perfstore.run_doc_text(doc -> 'run_group', 'run_group');
	IF v_group = '' THEN
		RAISE EXCEPTION 'field "run_group" of the run document must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave it out or make it null for a run without a group.';
	END IF;
	v_labels := coalesce(doc -> 'labels', '{}');
	IF pg_catalog.jsonb_typeof(v_labels) = 'null' THEN
		v_labels := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_labels) <> 'object' THEN
		RAISE EXCEPTION 'field "labels" of the run document must be an object, not %',
			pg_catalog.jsonb_typeof(v_labels)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR k, val IN SELECT j.key, j.value FROM pg_catalog.jsonb_each(v_labels) j LOOP
		IF pg_catalog.jsonb_typeof(val) <> 'string' THEN
			RAISE EXCEPTION 'field "labels.%" of the run document must be a string, not %',
				k, pg_catalog.jsonb_typeof(val)
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	v_config := coalesce(doc -> 'config', '{}');
	IF pg_catalog.jsonb_typeof(v_config) = 'null' THEN
		v_config := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_config) <> 'object' THEN
		RAISE EXCEPTION 'field "config" of the run document must be an object, not %',
			pg_catalog.jsonb_typeof(v_config)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_host := perfstore.run_doc_text(doc -> 'host', 'host');
	v_started := perfstore.run_doc_time(doc -> 'started_at', 'started_at');
	v_finished := perfstore.run_doc_time(doc -> 'finished_at', 'finished_at');
	IF v_started IS NULL OR v_finished IS NULL THEN
		RAISE EXCEPTION 'field "%" of the run document is missing',
			CASE WHEN v_started IS NULL THEN 'started_at' ELSE 'finished_at' END
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_finished < v_started THEN
		RAISE EXCEPTION 'field "finished_at" of the run document (%) is before "started_at" (%)',
			v_finished, v_started
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM perfstore.run_doc_number(doc -> 'tps', 'tps'),
		perfstore.run_doc_number(doc -> 'duration_s', 'duration_s'),
		perfstore.run_doc_count(doc -> 'transactions', 'transactions'),
		perfstore.run_doc_count(doc -> 'failed_transactions', 'failed_transactions'),
		perfstore.run_doc_count(doc -> 'retries', 'retries'),
		perfstore.run_doc_count(doc -> 'clients', 'clients');
	IF perfstore.run_doc_count(doc -> 'clients', 'clients') > 2147483647 THEN
		RAISE EXCEPTION 'field "clients" of the run document is out of range'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_errors := coalesce(doc -> 'errors', '{}');
	IF pg_catalog.jsonb_typeof(v_errors) = 'null' THEN
		v_errors := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_errors) <> 'object' THEN
		RAISE EXCEPTION 'field "errors" of the run document must be an object (SQLSTATE to count), not %',
			pg_catalog.jsonb_typeof(v_errors)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR k, val IN SELECT j.key, j.value FROM pg_catalog.jsonb_each(v_errors) j LOOP
		IF perfstore.run_doc_count(val, 'errors.' || k) IS NULL THEN
			RAISE EXCEPTION 'field "errors.%" of the run document must be a count, not null', k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	v_latency := perfstore.run_doc_sketch(doc -> 'latency_sketch', 'latency_sketch');

	-- the arrays: each element an object, then every field (set-based;
	-- the sketches are parsed once, when they are inserted)
	FOREACH f IN ARRAY ARRAY['statements', 'intervals', 'nplus1_findings'] LOOP
		IF doc -> f IS NOT NULL AND pg_catalog.jsonb_typeof(doc -> f) NOT IN ('array', 'null') THEN
			RAISE EXCEPTION 'field "%" of the run document must be an array, not %',
				f, pg_catalog.jsonb_typeof(doc -> f)
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT x.o - 1, pg_catalog.jsonb_typeof(x.e) INTO i, k
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> f) = 'array' THEN doc -> f ELSE '[]' END)
			WITH ORDINALITY x(e, o)
		WHERE pg_catalog.jsonb_typeof(x.e) <> 'object'
		ORDER BY x.o LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'field "%[%]" of the run document must be an object, not %', f, i, k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	-- The array elements' fields, then every insert, in one block: the
	-- timestamps and sketches of the elements are cast without a
	-- subtransaction each, and when a cast fails the handler finds the field
	-- (the slow way) and names it.
	BEGIN
	-- every field goes into the aggregate, so that none is optimized away
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN coalesce(perfstore.run_doc_text(x.e -> 'fingerprint', pg_catalog.format('statements[%s].fingerprint', x.o - 1)), '') = ''
		            THEN perfstore.run_doc_fail(pg_catalog.format('statements[%s].fingerprint', x.o - 1), 'is missing or empty') END,
		       perfstore.run_doc_text(x.e -> 'query', pg_catalog.format('statements[%s].query', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'calls', pg_catalog.format('statements[%s].calls', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'rows', pg_catalog.format('statements[%s].rows', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'errors', pg_catalog.format('statements[%s].errors', x.o - 1)),
		       perfstore.run_doc_text(x.e -> 'latency_sketch', pg_catalog.format('statements[%s].latency_sketch', x.o - 1))))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN NOT pg_catalog.isfinite(perfstore.run_doc_text(x.e -> 'started_at',
		                          pg_catalog.format('intervals[%s].started_at', x.o - 1))::timestamptz)
		            THEN perfstore.run_doc_fail(pg_catalog.format('intervals[%s].started_at', x.o - 1),
		                                        'must be a finite timestamp') END,
		       perfstore.run_doc_text(x.e -> 'latency_sketch', pg_catalog.format('intervals[%s].latency_sketch', x.o - 1)),
		       perfstore.run_doc_number(x.e -> 'length_s', pg_catalog.format('intervals[%s].length_s', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'transactions', pg_catalog.format('intervals[%s].transactions', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'failed', pg_catalog.format('intervals[%s].failed', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'errors', pg_catalog.format('intervals[%s].errors', x.o - 1)),
		       perfstore.run_doc_number(x.e -> 'tps', pg_catalog.format('intervals[%s].tps', x.o - 1))))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN coalesce(perfstore.run_doc_text(x.e -> 'source_fingerprint', pg_catalog.format('nplus1_findings[%s].source_fingerprint', x.o - 1)), '') = ''
		            THEN perfstore.run_doc_fail(pg_catalog.format('nplus1_findings[%s].source_fingerprint', x.o - 1), 'is missing or empty') END,
		       CASE WHEN coalesce(perfstore.run_doc_text(x.e -> 'repeated_fingerprint', pg_catalog.format('nplus1_findings[%s].repeated_fingerprint', x.o - 1)), '') = ''
		            THEN perfstore.run_doc_fail(pg_catalog.format('nplus1_findings[%s].repeated_fingerprint', x.o - 1), 'is missing or empty') END,
		       perfstore.run_doc_text(x.e -> 'source', pg_catalog.format('nplus1_findings[%s].source', x.o - 1)),
		       perfstore.run_doc_text(x.e -> 'repeated', pg_catalog.format('nplus1_findings[%s].repeated', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'occurrences', pg_catalog.format('nplus1_findings[%s].occurrences', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'repeats_total', pg_catalog.format('nplus1_findings[%s].repeats_total', x.o - 1)),
		       perfstore.run_doc_count(x.e -> 'repeats_max', pg_catalog.format('nplus1_findings[%s].repeats_max', x.o - 1)),
		       perfstore.run_doc_number(x.e -> 'time_ms', pg_catalog.format('nplus1_findings[%s].time_ms', x.o - 1)),
		       perfstore.run_doc_text(x.e -> 'suggestion', pg_catalog.format('nplus1_findings[%s].suggestion', x.o - 1)),
		       CASE WHEN pg_catalog.jsonb_typeof(x.e -> 'example_params') NOT IN ('array', 'null')
		            THEN perfstore.run_doc_fail(pg_catalog.format('nplus1_findings[%s].example_params', x.o - 1),
		                                        'must be an array, not ' || pg_catalog.jsonb_typeof(x.e -> 'example_params'))
		            WHEN pg_catalog.jsonb_typeof(x.e -> 'example_params') = 'array'
		                 AND EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(x.e -> 'example_params') p(v)
		                             WHERE pg_catalog.jsonb_typeof(p.v) NOT IN ('string', 'null'))
		            THEN perfstore.run_doc_fail(pg_catalog.format('nplus1_findings[%s].example_params', x.o - 1),
		                                        'must hold strings') END))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'nplus1_findings') = 'array' THEN doc -> 'nplus1_findings' ELSE '[]' END)
			WITH ORDINALITY x(e, o);

	-- the document as received, without its sketches
	stored := doc - 'latency_sketch';
	FOREACH f IN ARRAY ARRAY['statements', 'intervals'] LOOP
		IF pg_catalog.jsonb_typeof(doc -> f) = 'array' THEN
			stored := pg_catalog.jsonb_set(stored, ARRAY[f],
				(SELECT coalesce(pg_catalog.jsonb_agg(x.e - 'latency_sketch' ORDER BY x.o), '[]')
				 FROM pg_catalog.jsonb_array_elements(doc -> f) WITH ORDINALITY x(e, o)));
		END IF;
	END LOOP;

	-- the run row: created, or merged into the group's row (locked)
	INSERT INTO perfstore.bench_runs AS r (name, run_group, labels, config, hosts, drivers, clients,
		started_at, finished_at, duration_s, tps, transactions, failed_transactions, retries,
		errors, latency, report)
	VALUES (v_name, v_group, v_labels, v_config,
		CASE WHEN coalesce(v_host, '') = '' THEN '{}' ELSE ARRAY[v_host] END, 1,
		perfstore.run_doc_count(doc -> 'clients', 'clients')::integer,
		v_started, v_finished,
		perfstore.run_doc_number(doc -> 'duration_s', 'duration_s'),
		perfstore.run_doc_number(doc -> 'tps', 'tps'),
		perfstore.run_doc_count(doc -> 'transactions', 'transactions'),
		perfstore.run_doc_count(doc -> 'failed_transactions', 'failed_transactions'),
		perfstore.run_doc_count(doc -> 'retries', 'retries'),
		v_errors, v_latency, stored)
	ON CONFLICT ON CONSTRAINT bench_runs_group DO UPDATE SET
		labels = excluded.labels || r.labels,
		hosts = r.hosts || excluded.hosts,
		drivers = r.drivers + 1,
		clients = CASE WHEN r.clients IS NULL THEN excluded.clients
		               WHEN excluded.clients IS NULL THEN r.clients
		               ELSE r.clients + excluded.clients END,
		started_at = LEAST(r.started_at, excluded.started_at),
		finished_at = GREATEST(r.finished_at, excluded.finished_at),
		duration_s = GREATEST(r.duration_s, excluded.duration_s),
		tps = CASE WHEN r.tps IS NULL THEN excluded.tps WHEN excluded.tps IS NULL THEN r.tps
		           ELSE r.tps + excluded.tps END,
		transactions = CASE WHEN r.transactions IS NULL THEN excluded.transactions
		                    WHEN excluded.transactions IS NULL THEN r.transactions
		                    ELSE r.transactions + excluded.transactions END,
		failed_transactions = CASE WHEN r.failed_transactions IS NULL THEN excluded.failed_transactions
		                           WHEN excluded.failed_transactions IS NULL THEN r.failed_transactions
		                           ELSE r.failed_transactions + excluded.failed_transactions END,
		retries = CASE WHEN r.retries IS NULL THEN excluded.retries
		               WHEN excluded.retries IS NULL THEN r.retries
		               ELSE r.retries + excluded.retries END,
		errors = (SELECT coalesce(pg_catalog.jsonb_object_agg(x.key, x.n ORDER BY x.key), '{}')
		          FROM (SELECT u.key, sum(u.value::bigint) AS n
		                FROM (SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(r.errors) j
		                      UNION ALL
		                      SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(excluded.errors) j) u
		                GROUP BY u.key) x),
		latency = perfstore.sketch_combine(r.latency, excluded.latency)
	RETURNING r.id INTO rid;

	INSERT INTO perfstore.bench_statements AS s (run_id, fingerprint, query, calls, rows, errors, latency)
	SELECT rid, x.e ->> 'fingerprint', min(x.e ->> 'query'),
	       sum((x.e ->> 'calls')::numeric::bigint),
	       sum((x.e ->> 'rows')::numeric::bigint),
	       sum((x.e ->> 'errors')::numeric::bigint),
	       perfstore.sketch_agg((x.e ->> 'latency_sketch')::perfstore.sketch)
	FROM pg_catalog.jsonb_array_elements(
		CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
		WITH ORDINALITY x(e, o)
	GROUP BY x.e ->> 'fingerprint'
	ORDER BY x.e ->> 'fingerprint'
	ON CONFLICT (run_id, fingerprint) DO UPDATE SET
		query = coalesce(s.query, excluded.query),
		calls = CASE WHEN s.calls IS NULL THEN excluded.calls WHEN excluded.calls IS NULL THEN s.calls
		             ELSE s.calls + excluded.calls END,
		rows = CASE WHEN s.rows IS NULL THEN excluded.rows WHEN excluded.rows IS NULL THEN s.rows
		            ELSE s.rows + excluded.rows END,
		errors = CASE WHEN s.errors IS NULL THEN excluded.errors WHEN excluded.errors IS NULL THEN s.errors
		              ELSE s.errors + excluded.errors END,
		latency = perfstore.sketch_combine(s.latency, excluded.latency);

	INSERT INTO perfstore.bench_intervals AS b (run_id, seq, started_at, length_s, transactions, failed,
		errors, tps, latency)
	SELECT rid, x.o::integer, (x.e ->> 'started_at')::timestamptz,
	       (x.e ->> 'length_s')::float8,
	       (x.e ->> 'transactions')::numeric::bigint,
	       (x.e ->> 'failed')::numeric::bigint,
	       (x.e ->> 'errors')::numeric::bigint,
	       (x.e ->> 'tps')::float8,
	       (x.e ->> 'latency_sketch')::perfstore.sketch
	FROM pg_catalog.jsonb_array_elements(
		CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
		WITH ORDINALITY x(e, o)
	ORDER BY x.o
	ON CONFLICT (run_id, seq) DO UPDATE SET
		started_at = LEAST(b.started_at, excluded.started_at),
		length_s = GREATEST(b.length_s, excluded.length_s),
		transactions = CASE WHEN b.transactions IS NULL THEN excluded.transactions
		                    WHEN excluded.transactions IS NULL THEN b.transactions
		                    ELSE b.transactions + excluded.transactions END,
		failed = CASE WHEN b.failed IS NULL THEN excluded.failed WHEN excluded.failed IS NULL THEN b.failed
		              ELSE b.failed + excluded.failed END,
		errors = CASE WHEN b.errors IS NULL THEN excluded.errors WHEN excluded.errors IS NULL THEN b.errors
		              ELSE b.errors + excluded.errors END,
		tps = CASE WHEN b.tps IS NULL THEN excluded.tps WHEN excluded.tps IS NULL THEN b.tps
		           ELSE b.tps + excluded.tps END,
		latency = perfstore.sketch_combine(b.latency, excluded.latency);

	INSERT INTO perfstore.nplus1_findings AS n (run_id, source_fingerprint, repeated_fingerprint, source,
		repeated, occurrences, repeats_total, repeats_max, time_ms, example_params, suggestion)
	SELECT rid, g.source_fingerprint, g.repeated_fingerprint, g.source, g.repeated, g.occurrences,
	       g.repeats_total, g.repeats_max, g.time_ms,
	       (SELECT pg_catalog.array_agg(p.v ORDER BY p.o)
	        FROM pg_catalog.jsonb_array_elements_text(
	            CASE WHEN pg_catalog.jsonb_typeof(g.params) = 'array' THEN g.params END)
	            WITH ORDINALITY p(v, o)),
	       g.suggestion
	FROM (SELECT x.e ->> 'source_fingerprint' AS source_fingerprint,
	             x.e ->> 'repeated_fingerprint' AS repeated_fingerprint,
	             min(x.e ->> 'source') AS source, min(x.e ->> 'repeated') AS repeated,
	             sum((x.e ->> 'occurrences')::numeric::bigint) AS occurrences,
	             sum((x.e ->> 'repeats_total')::numeric::bigint) AS repeats_total,
	             max((x.e ->> 'repeats_max')::numeric::bigint) AS repeats_max,
	             sum((x.e ->> 'time_ms')::float8) AS time_ms,
	             (pg_catalog.array_agg(x.e -> 'example_params' ORDER BY x.o))[1] AS params,
	             min(x.e ->> 'suggestion') AS suggestion
	      FROM pg_catalog.jsonb_array_elements(
	          CASE WHEN pg_catalog.jsonb_typeof(doc -> 'nplus1_findings') = 'array'
	               THEN doc -> 'nplus1_findings' ELSE '[]' END) WITH ORDINALITY x(e, o)
	      GROUP BY 1, 2) g
	ORDER BY 2, 3
	ON CONFLICT (run_id, source_fingerprint, repeated_fingerprint) DO UPDATE SET
		source = coalesce(n.source, excluded.source),
		repeated = coalesce(n.repeated, excluded.repeated),
		occurrences = CASE WHEN n.occurrences IS NULL THEN excluded.occurrences
		                   WHEN excluded.occurrences IS NULL THEN n.occurrences
		                   ELSE n.occurrences + excluded.occurrences END,
		repeats_total = CASE WHEN n.repeats_total IS NULL THEN excluded.repeats_total
		                     WHEN excluded.repeats_total IS NULL THEN n.repeats_total
		                     ELSE n.repeats_total + excluded.repeats_total END,
		repeats_max = GREATEST(n.repeats_max, excluded.repeats_max),
		time_ms = CASE WHEN n.time_ms IS NULL THEN excluded.time_ms
		               WHEN excluded.time_ms IS NULL THEN n.time_ms
		               ELSE n.time_ms + excluded.time_ms END,
		example_params = coalesce(n.example_params, excluded.example_params),
		suggestion = coalesce(n.suggestion, excluded.suggestion);

	EXCEPTION WHEN data_exception THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
		-- which element: these raise naming the field
		PERFORM perfstore.run_doc_time(x.e -> 'started_at', pg_catalog.format('intervals[%s].started_at', x.o - 1)),
			perfstore.run_doc_sketch(x.e -> 'latency_sketch', pg_catalog.format('intervals[%s].latency_sketch', x.o - 1))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
		PERFORM perfstore.run_doc_sketch(x.e -> 'latency_sketch', pg_catalog.format('statements[%s].latency_sketch', x.o - 1))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
		RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = coalesce(det, ''), HINT = coalesce(hnt, '');
	END;

	RETURN rid;
END
$$;
COMMENT ON FUNCTION perfstore.store_run(jsonb) IS
	'store one driver''s run document (docs/runs.md) with its statements, intervals and N+1 findings; drivers with the same name and run_group merge into one run; returns the run id; a malformed document raises 22023 naming the field and stores nothing';

--
-- comparing runs
--
-- The verdict of one metric (docs/runs.md "Verdicts").  spread is the
-- relative spread of the baseline runs (NULL: none, or a median of 0);
-- spread_abs the same in the metric's unit (used when the baseline is 0).
CREATE FUNCTION perfstore.compare_verdict(metric text, baseline float8, candidate float8,
	threshold float8, spread float8 DEFAULT NULL, spread_abs float8 DEFAULT NULL)
	RETURNS text
	LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
		WHEN $2 IS NULL OR $3 IS NULL OR $3 = $2 THEN 'unchanged'
		-- the change must exceed the threshold and the noise
		WHEN NOT CASE
			WHEN $2 = 0 THEN
				(pg_catalog.abs($3 - $2) > coalesce($6, 0))
				AND ($1 <> 'error_rate' OR pg_catalog.abs($3 - $2) > $4 / 100)
			ELSE
				(pg_catalog.abs($3 / $2 - 1) > $4)
				AND (pg_catalog.abs($3 / $2 - 1) > coalesce($5, 0))
				AND ($1 <> 'error_rate' OR pg_catalog.abs($3 - $2) > $4 / 100)
			END THEN 'unchanged'
		WHEN ($3 > $2) = ($1 = 'tps') THEN 'improvement'
		ELSE 'regression'
	END
$$;
COMMENT ON FUNCTION perfstore.compare_verdict(text, float8, float8, float8, float8, float8) IS
	'regression, improvement or unchanged for one metric (tps: higher is better; latencies and error_rate: lower is better), by the rules of docs/runs.md';

-- The comparison itself: the candidate against the median of the baseline
-- runs (one run for compare_runs, whose spread is then NULL).
CREATE FUNCTION perfstore.compare_run_sets(candidate_id bigint, baseline_ids bigint[],
	threshold float8, with_spread boolean)
	RETURNS TABLE(scope text, fingerprint text, query text, metric text,
	              baseline float8, candidate float8, change float8, spread float8,
	              verdict text)
	LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	WITH vals AS (
		SELECT 'run'::text AS scope, NULL::text AS fingerprint, NULL::text AS query,
		       r.id = $1 AS is_candidate, m.metric, m.value
		FROM perfstore.bench_run_summary r
		CROSS JOIN LATERAL (VALUES ('tps', r.tps), ('p50_ms', r.p50_ms), ('p95_ms', r.p95_ms),
		                           ('p99_ms', r.p99_ms), ('error_rate', r.error_rate)) m(metric, value)
		WHERE r.id = $1 OR r.id = ANY ($2)
		UNION ALL
		SELECT 'statement', s.fingerprint, s.query, s.run_id = $1, m.metric, m.value
		FROM perfstore.bench_statement_summary s
		CROSS JOIN LATERAL (VALUES ('p50_ms', s.p50_ms), ('p95_ms', s.p95_ms),
		                           ('p99_ms', s.p99_ms), ('error_rate', s.error_rate)) m(metric, value)
		WHERE s.run_id = $1 OR s.run_id = ANY ($2)
	),
	grouped AS (
		SELECT v.scope, v.fingerprint, v.metric,
		       coalesce(min(v.query) FILTER (WHERE v.is_candidate), min(v.query)) AS query,
		       bool_or(v.is_candidate) AS in_candidate,
		       bool_or(NOT v.is_candidate) AS in_baseline,
		       max(v.value) FILTER (WHERE v.is_candidate) AS candidate,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY v.value)
		           FILTER (WHERE NOT v.is_candidate) AS baseline
		FROM vals v
		GROUP BY v.scope, v.fingerprint, v.metric
	),
	spreads AS (
		SELECT g.*,
		       (SELECT max(abs(v.value - g.baseline)) FROM vals v
		        WHERE NOT v.is_candidate AND v.scope = g.scope AND v.metric = g.metric
		          AND v.fingerprint IS NOT DISTINCT FROM g.fingerprint) AS spread_abs
		FROM grouped g
	)
	SELECT s.scope, s.fingerprint, s.query, s.metric, s.baseline, s.candidate,
	       CASE WHEN s.baseline <> 0 THEN s.candidate / s.baseline - 1 END AS change,
	       CASE WHEN $4 AND s.baseline <> 0 THEN s.spread_abs / abs(s.baseline) END AS spread,
	       CASE WHEN NOT s.in_candidate THEN 'gone'
	            WHEN NOT s.in_baseline THEN 'new'
	            ELSE perfstore.compare_verdict(s.metric, s.baseline, s.candidate, $3,
	                     CASE WHEN $4 AND s.baseline <> 0 THEN s.spread_abs / abs(s.baseline) END,
	                     CASE WHEN $4 THEN s.spread_abs END)
	       END AS verdict
	FROM spreads s
	-- a statement on one side only: one row, p95_ms
	WHERE (s.in_candidate AND s.in_baseline) OR s.metric = 'p95_ms'
	ORDER BY s.scope, s.query COLLATE "C", s.metric, s.fingerprint COLLATE "C"
$$;
COMMENT ON FUNCTION perfstore.compare_run_sets(bigint, bigint[], float8, boolean) IS
	'the rows of compare_runs and compare_to_history: a candidate run against the median of baseline runs';

CREATE FUNCTION perfstore.compare_check_run(run_id bigint, what text) RETURNS void
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF run_id IS NULL THEN
		RAISE EXCEPTION '% run id must not be NULL', what
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM perfstore.bench_runs r WHERE r.id = compare_check_run.run_id) THEN
		RAISE EXCEPTION '% run % does not exist', what, run_id
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
END
$$;
COMMENT ON FUNCTION perfstore.compare_check_run(bigint, text) IS
	'raise 22023 unless bench_runs holds this run id (argument check of the compare functions)';

CREATE FUNCTION perfstore.compare_check_threshold(threshold float8) RETURNS void
	LANGUAGE plpgsql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF threshold IS NULL OR threshold = 'NaN'::float8 OR threshold < 0 OR threshold = 'Infinity'::float8 THEN
		RAISE EXCEPTION 'threshold % is not a finite number from 0', coalesce(threshold::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'The threshold is a relative change: 0.10 is 10%.';
	END IF;
END
$$;
COMMENT ON FUNCTION perfstore.compare_check_threshold(float8) IS
	'raise 22023 unless the threshold is a finite number >= 0 (argument check of the compare functions)';

CREATE FUNCTION perfstore.compare_runs(baseline_id bigint, candidate_id bigint,
	threshold float8 DEFAULT 0.10)
	RETURNS TABLE(scope text, fingerprint text, query text, metric text,
	              baseline float8, candidate float8, change float8, spread float8,
	              verdict text)
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM perfstore.compare_check_run(baseline_id, 'baseline');
	PERFORM perfstore.compare_check_run(candidate_id, 'candidate');
	PERFORM perfstore.compare_check_threshold(threshold);
	RETURN QUERY SELECT * FROM perfstore.compare_run_sets(candidate_id, ARRAY[baseline_id], threshold, false);
END
$$;
COMMENT ON FUNCTION perfstore.compare_runs(bigint, bigint, float8) IS
	'compare a candidate run with a baseline run: per metric of the run and of each statement, the change and a verdict (regression, improvement, unchanged, new, gone)';

CREATE FUNCTION perfstore.compare_to_history(candidate_id bigint, last_n integer DEFAULT 5,
	threshold float8 DEFAULT 0.10)
	RETURNS TABLE(scope text, fingerprint text, query text, metric text,
	              baseline float8, candidate float8, change float8, spread float8,
	              verdict text)
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cand record;
	ids bigint[];
BEGIN
	PERFORM perfstore.compare_check_run(candidate_id, 'candidate');
	IF last_n IS NULL OR last_n < 1 THEN
		RAISE EXCEPTION 'last_n % must be at least 1', coalesce(last_n::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM perfstore.compare_check_threshold(threshold);
	SELECT r.name, r.started_at INTO cand FROM perfstore.bench_runs r WHERE r.id = candidate_id;
	SELECT pg_catalog.array_agg(b.id) INTO ids
	FROM (SELECT r.id FROM perfstore.bench_runs r
	      WHERE r.name = cand.name AND r.started_at < cand.started_at AND r.id <> candidate_id
	      ORDER BY r.started_at DESC, r.id DESC
	      LIMIT last_n) b;
	IF ids IS NULL THEN
		RAISE EXCEPTION 'no baseline runs for run %: no run named "%" started before %',
			candidate_id, cand.name, cand.started_at
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY SELECT * FROM perfstore.compare_run_sets(candidate_id, ids, threshold, true);
END
$$;
COMMENT ON FUNCTION perfstore.compare_to_history(bigint, integer, float8) IS
	'compare a run with the median of the last_n earlier runs of the same name: a change counts only when it exceeds both the threshold and the spread of those runs';

--
-- roles: the new tables and functions
--
-- grant_reader and grant_writer keep their 0.2.0 bodies, whatever those
-- grant, with the grants of the run tables and functions added before the
-- body's final END.  CREATE OR REPLACE keeps their privileges (revoked from
-- PUBLIC) and their membership of the extension.
DO $do$
DECLARE
	f record;
	src text;
BEGIN
	FOR f IN
		SELECT * FROM (VALUES
			('grant_reader', $add$
	EXECUTE format('GRANT SELECT ON perfstore.rollup_5m, perfstore.samples_5m TO %s', role);
	EXECUTE format('GRANT SELECT ON perfstore.bench_runs, perfstore.bench_statements,
		perfstore.bench_intervals, perfstore.nplus1_findings, perfstore.bench_run_summary,
		perfstore.bench_statement_summary TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION perfstore.compare_runs(bigint, bigint, float8),
		perfstore.compare_to_history(bigint, integer, float8) TO %s', role);
$add$),
			('grant_writer', $add$
	-- store_run runs with the caller's rights: it inserts and, for a run
	-- group, updates (ON CONFLICT DO UPDATE) these tables
	EXECUTE format('GRANT INSERT, UPDATE ON perfstore.bench_runs, perfstore.bench_statements,
		perfstore.bench_intervals, perfstore.nplus1_findings TO %s', role);
	EXECUTE format('GRANT USAGE ON SEQUENCE perfstore.bench_runs_id_seq TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION perfstore.store_run(jsonb) TO %s', role);
$add$)) v(name, additions)
	LOOP
		SELECT p.prosrc INTO STRICT src FROM pg_catalog.pg_proc p
		WHERE p.oid = pg_catalog.to_regprocedure('perfstore.' || f.name || '(regrole)');
		IF src !~ '\mEND\s*$' THEN
			RAISE EXCEPTION 'perfstore.%(regrole) does not end with END', f.name;
		END IF;
		src := pg_catalog.regexp_replace(src, '\mEND\s*$', '') || pg_catalog.ltrim(f.additions, E'\n') || E'END\n';
		EXECUTE pg_catalog.format('CREATE OR REPLACE FUNCTION perfstore.%I(role regrole) RETURNS void
			LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
			SET search_path = pg_catalog, pg_temp
			AS %L', f.name, src);
	END LOOP;
END
$do$;
COMMENT ON FUNCTION perfstore.grant_reader(regrole) IS
	'let a role (Grafana''s) read the store: SELECT on its tables and views and the compare functions, nothing else';
COMMENT ON FUNCTION perfstore.grant_writer(regrole) IS
	'let a role write the store: record(), batch ingest, the workflow API and store_run(), plus everything grant_reader gives; no DELETE, TRUNCATE, DDL or maintain()';

REVOKE EXECUTE ON FUNCTION perfstore.store_run(jsonb) FROM PUBLIC;
