/* perfstore--0.3.0--0.4.0.sql: hardening, clearer names and the store at scale
 *
 * Sections, each with its own header below: the hardening of the store's
 * write paths and maintenance (docs/security.md); the renamed accessors and
 * the internal helpers moved out of the user's way (docs/sketch.md); the
 * aggregates' transition space; late data in the rollups (docs/store.md).
 *
 * Every function written in SQL or plpgsql sets search_path = pg_catalog,
 * pg_temp and qualifies every name; internal calls pass typed arguments
 * (docs/security.md says why that is enough, and where operators are
 * qualified too).
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.4.0'" to load this file. \quit

--
-- hardening
--
-- docs/security.md holds the trust model these rules implement.
--
-- 1. The schema.  perfstore's functions run as their owner (the write
-- paths) or are called by superusers (maintain() from the worker or
-- pg_cron).  A schema perfstore that another role owns, or in which
-- another role may CREATE, would let that role plant an overload or an
-- operator that such a call then resolves to.  The install script refuses
-- it; perfstore--0.4.0.sql starts with this same check, before any object
-- is created.
DO $guard$
DECLARE
	nsp record;
BEGIN
	SELECT n.oid, n.nspowner, n.nspacl,
	       (SELECT e.extowner FROM pg_catalog.pg_extension e
	        WHERE e.extname OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.name) AS extowner
	INTO nsp
	FROM pg_catalog.pg_namespace n
	WHERE n.nspname OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.name;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF nsp.nspowner OPERATOR(pg_catalog.<>) COALESCE(nsp.extowner, nsp.nspowner)
	   AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r
	            WHERE r.oid OPERATOR(pg_catalog.=) nsp.nspowner) THEN
		RAISE EXCEPTION 'schema "perfstore" is owned by role "%", not by the role that installs the extension',
			nsp.nspowner::pg_catalog.regrole
			USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'The owner of that schema could replace the functions that perfstore runs with elevated rights.',
			HINT = 'Drop the schema, or make the installing role its owner with ALTER SCHEMA perfstore OWNER TO, and try again.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_catalog.aclexplode(nsp.nspacl) a
	           WHERE a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'::pg_catalog.text
	             AND a.grantee OPERATOR(pg_catalog.<>) nsp.nspowner) THEN
		RAISE EXCEPTION 'roles other than its owner may create objects in schema "perfstore"'
			USING ERRCODE = 'insufficient_privilege',
			DETAIL = 'Such a role could add functions or operators that perfstore''s own calls would resolve to.',
			HINT = 'Revoke CREATE ON SCHEMA perfstore from every role but its owner, and try again.';
	END IF;
END
$guard$;

-- 2. The accepted range of a sample (docs/store.md, "Accepted samples").
-- Timestamps from 1970-01-01 to the end of 2199 UTC: every day of that
-- range has one partition name, and nothing older or later is a
-- performance sample.  Values between -1e100 and 1e100: stats_agg's sum of
-- squares then stays finite for any count that fits in a bigint.  The
-- series key (metric and labels) at most 2000 bytes: the unique index on
-- series (metric, labels) cannot hold much larger keys.  Batch ingest
-- (src/ingest.c) applies the same bounds.
CREATE FUNCTION perfstore.check_sample(metric text, labels jsonb, ts timestamptz, value float8)
	RETURNS void
	LANGUAGE plpgsql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF metric IS NULL OR value IS NULL OR labels IS NULL OR ts IS NULL THEN
		RAISE EXCEPTION 'metric, value, labels and ts must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT (value OPERATOR(pg_catalog.>=) (-1e100)::float8 AND value OPERATOR(pg_catalog.<=) 1e100::float8) THEN
		RAISE EXCEPTION 'cannot record value % for metric "%"', value, metric
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'Samples must be finite numbers from -1e100 to 1e100.';
	END IF;
	IF NOT (ts OPERATOR(pg_catalog.>=) '1970-01-01 00:00:00+00'::timestamptz
	        AND ts OPERATOR(pg_catalog.<) '2200-01-01 00:00:00+00'::timestamptz) THEN
		RAISE EXCEPTION 'cannot record a sample at % for metric "%"', ts, metric
			USING ERRCODE = 'datetime_field_overflow',
			DETAIL = 'Samples must have timestamps from 1970-01-01 up to 2200-01-01 UTC.';
	END IF;
	IF pg_catalog.jsonb_typeof(labels) OPERATOR(pg_catalog.<>) 'object'::text THEN
		RAISE EXCEPTION 'labels must be a JSON object, not %', pg_catalog.jsonb_typeof(labels)
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass labels like ''{"host": "db1"}''.';
	END IF;
	IF pg_catalog.octet_length(metric) OPERATOR(pg_catalog.+) pg_catalog.pg_column_size(labels)
	   OPERATOR(pg_catalog.>) 2000 THEN
		RAISE EXCEPTION 'labels of metric "%" are too large', pg_catalog.left(metric, 64)
			USING ERRCODE = 'program_limit_exceeded',
			DETAIL = pg_catalog.format('The metric name and labels take %s bytes; at most 2000 are allowed.',
				pg_catalog.octet_length(metric) OPERATOR(pg_catalog.+) pg_catalog.pg_column_size(labels));
	END IF;
END
$$;
COMMENT ON FUNCTION perfstore.check_sample(text, jsonb, timestamptz, float8) IS
	'raise an error unless a sample is within the accepted range: finite value within 1e100, timestamp from 1970 to 2199 UTC, labels a JSON object, metric and labels at most 2000 bytes';

-- 3. The write paths.  Writers get no DML on the tables: record(), the
-- batch ingest view, the workflow functions and store_run() are the only
-- ways in, and they run as the extension's owner (SECURITY DEFINER with a
-- pinned search_path; the ingest view's C trigger switches to the owner
-- itself).  Baselines can then not be rewritten, and every sample has a
-- series.
-- record() runs as the owner and checks every sample: its final body is in
-- the late-data section below, which also logs late samples.
ALTER FUNCTION perfstore.start_run(text, jsonb, timestamptz) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION perfstore.finish_run(bigint, text, timestamptz) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION perfstore.start_task(bigint, text, text, integer, jsonb, timestamptz) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION perfstore.finish_task(bigint, text, timestamptz) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION perfstore.store_run(jsonb) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;

-- Roles that were granted writing before 0.4.0 lose their direct DML.
DO $do$
DECLARE
	g record;
BEGIN
	FOR g IN
		SELECT DISTINCT c.oid::pg_catalog.regclass AS rel, a.grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.regnamespace
		  AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'S']::"char"[])
		  AND a.privilege_type OPERATOR(pg_catalog.=) ANY (ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'USAGE']::text[])
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
	LOOP
		EXECUTE pg_catalog.format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE %s FROM %s', g.rel,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END);
	END LOOP;
	FOR g IN
		SELECT DISTINCT c.oid::pg_catalog.regclass AS rel, a.grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.relnamespace OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.regnamespace
		  AND c.relkind OPERATOR(pg_catalog.=) 'S'::"char"
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
	LOOP
		EXECUTE pg_catalog.format('REVOKE USAGE, UPDATE ON SEQUENCE %s FROM %s', g.rel,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END);
	END LOOP;
END
$do$;

-- 4. Maintenance that no row can stop.  A day outside the accepted range
-- has no partition name, so create_partition() refuses it; maintain()
-- never asks for one.
CREATE OR REPLACE FUNCTION perfstore.create_partition(day date) RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
	hi timestamptz := (day OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'UTC';
	part text;
	moved bigint;
BEGIN
	IF NOT (day OPERATOR(pg_catalog.>=) '1970-01-01'::date AND day OPERATOR(pg_catalog.<) '2200-01-01'::date) THEN
		RAISE EXCEPTION 'cannot create a partition for day %', day
			USING ERRCODE = 'datetime_field_overflow',
			DETAIL = 'Partitions cover days from 1970-01-01 up to 2200-01-01 UTC, the accepted range of samples.';
	END IF;
	part := 'samples_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(day, 'YYYYMMDD');
	IF EXISTS (SELECT 1 FROM perfstore.partitions p
	           WHERE NOT p.is_default
	             AND COALESCE(p.range_start, '-infinity'::timestamptz) OPERATOR(pg_catalog.<) hi
	             AND COALESCE(p.range_end, 'infinity'::timestamptz) OPERATOR(pg_catalog.>) lo) THEN
		RETURN NULL;
	END IF;
	LOCK TABLE perfstore.samples, perfstore.samples_default IN ACCESS EXCLUSIVE MODE;
	EXECUTE pg_catalog.format('CREATE TABLE perfstore.%I (LIKE perfstore.samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	EXECUTE pg_catalog.format('CREATE INDEX %I ON perfstore.%I (series_id, ts)', part OPERATOR(pg_catalog.||) '_series_ts', part);
	EXECUTE pg_catalog.format('WITH m AS (DELETE FROM perfstore.samples_default
	                                      WHERE ts OPERATOR(pg_catalog.>=) $1 AND ts OPERATOR(pg_catalog.<) $2
	                                      RETURNING series_id, ts, value)
	                           INSERT INTO perfstore.%I (series_id, ts, value) SELECT series_id, ts, value FROM m', part)
		USING lo, hi;
	GET DIAGNOSTICS moved = ROW_COUNT;
	EXECUTE pg_catalog.format('ALTER TABLE perfstore.samples ATTACH PARTITION perfstore.%I FOR VALUES FROM (%L) TO (%L)',
	               part, lo, hi);
	RETURN moved;
END
$$;
COMMENT ON FUNCTION perfstore.create_partition(date) IS
	'create the samples partition of one UTC day (1970 to 2199), moving its rows out of samples_default; NULL when one exists';

-- refresh_rollups over a range, skipping what cannot be aggregated: on an
-- error the range is halved (left half first, so the 5-minute and hourly
-- buckets see their minutes), down to single minutes, which are skipped
-- with a WARNING.  Returns the 1-minute buckets written and those skipped.
CREATE FUNCTION perfstore.refresh_rollups_skipping(from_ts timestamptz, to_ts timestamptz,
	OUT written bigint, OUT skipped bigint)
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := pg_catalog.date_trunc('minute', from_ts, 'UTC');
	hi timestamptz := pg_catalog.date_trunc('minute', to_ts, 'UTC');
	mid timestamptz;
	l record;
	r record;
	msg text;
	state text;
BEGIN
	written := 0;
	skipped := 0;
	IF lo OPERATOR(pg_catalog.>=) hi THEN
		RETURN;
	END IF;
	BEGIN
		written := perfstore.refresh_rollups(lo, hi);
		RETURN;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
	END;
	IF hi OPERATOR(pg_catalog.-) lo OPERATOR(pg_catalog.<=) '1 minute'::interval THEN
		RAISE WARNING 'perfstore maintain(): skipped the rollups of the minute starting at %', lo
			USING ERRCODE = state,
			DETAIL = pg_catalog.format('Aggregating its samples failed: %s.', msg);
		skipped := 1;
		RETURN;
	END IF;
	mid := pg_catalog.date_trunc('minute',
		lo OPERATOR(pg_catalog.+) ((hi OPERATOR(pg_catalog.-) lo) OPERATOR(pg_catalog./) 2::float8), 'UTC');
	IF mid OPERATOR(pg_catalog.<=) lo THEN
		mid := lo OPERATOR(pg_catalog.+) '1 minute'::interval;
	END IF;
	l := perfstore.refresh_rollups_skipping(lo, mid);
	r := perfstore.refresh_rollups_skipping(mid, hi);
	written := l.written OPERATOR(pg_catalog.+) r.written;
	skipped := l.skipped OPERATOR(pg_catalog.+) r.skipped;
END
$$;
COMMENT ON FUNCTION perfstore.refresh_rollups_skipping(timestamptz, timestamptz) IS
	'refresh_rollups over a range, skipping (with a WARNING) the minutes whose samples cannot be aggregated';

-- The partition step of maintain(): at most max_partitions partitions
-- (stranded days first, then today and the days ahead), each under
-- lock_timeout_ms; a partition that fails for another reason is skipped
-- with a WARNING.  "pending" counts the days still without a partition.
CREATE FUNCTION perfstore.maintain_partitions(lock_timeout_ms integer DEFAULT 200,
	max_partitions integer DEFAULT 8)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	ahead integer := COALESCE((SELECT s.value::integer FROM perfstore.settings s
	                                      WHERE s.name OPERATOR(pg_catalog.=) 'partitions_ahead'::text), 3);
	today date := (pg_catalog.now() AT TIME ZONE 'UTC')::date;
	old_lock_timeout text := pg_catalog.current_setting('lock_timeout');
	created integer := 0;
	moved bigint := 0;
	skipped integer := 0;
	failed integer := 0;
	pending integer := 0;
	n bigint;
	d date;
	msg text;
	state text;
BEGIN
	IF lock_timeout_ms IS NULL OR lock_timeout_ms OPERATOR(pg_catalog.<) 1
	   OR max_partitions IS NULL OR max_partitions OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'lock_timeout_ms and max_partitions must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.set_config('lock_timeout', lock_timeout_ms::text OPERATOR(pg_catalog.||) 'ms', true);
	FOR d IN
		SELECT x.day FROM (
			SELECT DISTINCT (s.ts AT TIME ZONE 'UTC')::date AS day
			FROM perfstore.samples_default s
			WHERE s.ts OPERATOR(pg_catalog.>=) '1970-01-01 00:00:00+00'::timestamptz
			  AND s.ts OPERATOR(pg_catalog.<) LEAST('2200-01-01 00:00:00+00'::timestamptz,
			          ((today OPERATOR(pg_catalog.+) ahead OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'UTC'))
			UNION
			SELECT today OPERATOR(pg_catalog.+) i FROM pg_catalog.generate_series(0, ahead) i) x
		WHERE NOT EXISTS (SELECT 1 FROM perfstore.partitions p
		                  WHERE NOT p.is_default
		                    AND p.range_start OPERATOR(pg_catalog.<=) (x.day::timestamp AT TIME ZONE 'UTC')
		                    AND p.range_end OPERATOR(pg_catalog.>) (x.day::timestamp AT TIME ZONE 'UTC'))
		ORDER BY 1
	LOOP
		IF created OPERATOR(pg_catalog.+) failed OPERATOR(pg_catalog.>=) max_partitions THEN
			pending := pending OPERATOR(pg_catalog.+) 1;
			CONTINUE;
		END IF;
		BEGIN
			n := perfstore.create_partition(d);
			IF n IS NOT NULL THEN
				created := created OPERATOR(pg_catalog.+) 1;
				moved := moved OPERATOR(pg_catalog.+) n;
			END IF;
		EXCEPTION
			WHEN lock_not_available THEN
				skipped := skipped OPERATOR(pg_catalog.+) 1;
			WHEN OTHERS THEN
				GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
				RAISE WARNING 'perfstore maintain(): skipped the partition of %', d
					USING ERRCODE = state,
					DETAIL = pg_catalog.format('Creating it failed: %s.', msg);
				failed := failed OPERATOR(pg_catalog.+) 1;
		END;
	END LOOP;
	PERFORM pg_catalog.set_config('lock_timeout', old_lock_timeout, true);
	RETURN pg_catalog.jsonb_build_object('partitions_created', created, 'rows_moved', moved,
		'skipped', skipped, 'partitions_failed', failed, 'partitions_pending', pending);
END
$$;
COMMENT ON FUNCTION perfstore.maintain_partitions(integer, integer) IS
	'the partition step of maintain(): create at most max_partitions missing day partitions; reports how many days are still pending';

DROP FUNCTION perfstore.maintain(integer);
-- maintain(lock_timeout_ms, max_partitions): its body is in the late-data
-- section below (rollups skipping what cannot be aggregated, late data,
-- bounded partitions, retention that skips what it cannot drop).

REVOKE EXECUTE ON FUNCTION
	perfstore.maintain_partitions(integer, integer),
	perfstore.refresh_rollups_skipping(timestamptz, timestamptz)
FROM PUBLIC;

-- 5. Aggregate memory.  A hash aggregate sizes its groups by the declared
-- transition space: without one it assumed a few bytes, kept every group
-- in memory and let the states grow after their groups existed (300 groups
-- at alpha 0.0001 took 660 MB at work_mem = 4MB).  With SSPACE declared it
-- holds only as many groups as work_mem has room for at that size and
-- spills the rest to disk.  The default alpha's states (at most 2 x 3072
-- buckets) are typically a few hundred buckets; a state with a given alpha
-- can hold up to 2 x 1.5 x max_buckets(alpha), and its memory is up to
-- twice its slots (docs/sketch.md, "Memory").
CREATE OR REPLACE AGGREGATE perfstore.sketch_agg(float8) (
	SFUNC = perfstore.sketch_add,
	STYPE = perfstore.sketch,
	SSPACE = 2048,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE perfstore.sketch_agg(float8, float8) (
	SFUNC = perfstore.sketch_add,
	STYPE = perfstore.sketch,
	SSPACE = 1048576,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE perfstore.sketch_agg(perfstore.sketch) (
	SFUNC = perfstore.sketch_combine,
	STYPE = perfstore.sketch,
	SSPACE = 2048,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE perfstore.approx_percentile(float8, float8) (
	SFUNC = perfstore.sketch_add_quantile,
	STYPE = perfstore.sketch,
	SSPACE = 2048,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.approx_percentile_final,
	PARALLEL = SAFE
);
CREATE OR REPLACE AGGREGATE perfstore.approx_percentiles(float8, float8[]) (
	SFUNC = perfstore.sketch_add_quantiles,
	STYPE = perfstore.sketch,
	SSPACE = 2048,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.approx_percentiles_final,
	PARALLEL = SAFE
);

--
-- names
--
-- Accessors that shadowed built-in aggregates: with perfstore on the
-- search_path, count(s) over a sketch column called the scalar count of
-- each sketch, one row per input row, instead of the count aggregate.
-- They are num_vals, min_val and max_val now, as in Timescale's toolkit.
-- sum, mean, stddev and the variances keep their names: PostgreSQL has no
-- aggregate of those names that takes a sketch or a stats, so a call on
-- one cannot change meaning (docs/sketch.md, "Names").
ALTER FUNCTION perfstore.count(perfstore.sketch) RENAME TO num_vals;
ALTER FUNCTION perfstore.min(perfstore.sketch) RENAME TO min_val;
ALTER FUNCTION perfstore.max(perfstore.sketch) RENAME TO max_val;
ALTER FUNCTION perfstore.count(perfstore.stats) RENAME TO num_vals;
ALTER FUNCTION perfstore.min(perfstore.stats) RENAME TO min_val;
ALTER FUNCTION perfstore.max(perfstore.stats) RENAME TO max_val;

-- "Run" means a load-test run (store_run, compare_runs, bench_runs); the
-- workflow API says workflow: start_workflow_run and finish_workflow_run.
-- Their bodies are the old ones under the new name (plpgsql qualifies
-- parameters by the function's name); writers keep their grants.
DO $do$
DECLARE
	f record;
	def text;
	g record;
BEGIN
	FOR f IN
		SELECT * FROM (VALUES
			('start_run', 'start_workflow_run', 'text, jsonb, timestamp with time zone'),
			('finish_run', 'finish_workflow_run', 'bigint, text, timestamp with time zone')) v(old, new, args)
	LOOP
		def := pg_catalog.pg_get_functiondef(pg_catalog.to_regprocedure(
			'perfstore.' OPERATOR(pg_catalog.||) f.old OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||) f.args OPERATOR(pg_catalog.||) ')'));
		EXECUTE pg_catalog.regexp_replace(def, '\m' OPERATOR(pg_catalog.||) f.old OPERATOR(pg_catalog.||) '\M', f.new, 'g');
		EXECUTE pg_catalog.format('REVOKE EXECUTE ON FUNCTION perfstore.%I(%s) FROM PUBLIC', f.new, f.args);
		FOR g IN
			SELECT a.grantee FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
			WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(
				'perfstore.' OPERATOR(pg_catalog.||) f.old OPERATOR(pg_catalog.||) '(' OPERATOR(pg_catalog.||) f.args OPERATOR(pg_catalog.||) ')')
			  AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'::text
			  AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
			  AND a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
		LOOP
			EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION perfstore.%I(%s) TO %s', f.new, f.args,
				g.grantee::pg_catalog.regrole::pg_catalog.text);
		END LOOP;
		EXECUTE pg_catalog.format('DROP FUNCTION perfstore.%I(%s)', f.old, f.args);
	END LOOP;
END
$do$;
COMMENT ON FUNCTION perfstore.start_workflow_run(text, jsonb, timestamptz) IS
	'start a workflow run; returns its id';
COMMENT ON FUNCTION perfstore.finish_workflow_run(bigint, text, timestamptz) IS
	'finish a workflow run with success, failed or cancelled';

-- The internal helpers move out of the user's way, into the schema
-- perfstore_internal, with EXECUTE for no one but the owner.  The
-- functions that call them run as the owner (compare_runs and
-- compare_to_history run as their definer for that: they only read) and
-- are recreated with the new qualified names.
CREATE SCHEMA perfstore_internal;
COMMENT ON SCHEMA perfstore_internal IS
	'perfstore''s internal helpers: not for direct use, and executable by the extension''s owner only';
REVOKE ALL ON SCHEMA perfstore_internal FROM PUBLIC;
DO $do$
DECLARE
	moved text[] := ARRAY['run_doc_text', 'run_doc_number', 'run_doc_count', 'run_doc_time',
		'run_doc_sketch', 'run_doc_fail', 'compare_verdict', 'compare_run_sets',
		'compare_check_run', 'compare_check_threshold', 'setting_interval', 'check_sample',
		'refresh_rollups_skipping'];
	f record;
	def text;
	n text;
BEGIN
	FOR f IN
		SELECT p.oid FROM pg_catalog.pg_proc p
		WHERE p.pronamespace OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.regnamespace
		  AND p.proname OPERATOR(pg_catalog.=) ANY (moved::pg_catalog.name[])
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.oid::pg_catalog.regprocedure);
		EXECUTE pg_catalog.format('ALTER FUNCTION %s SET SCHEMA perfstore_internal', f.oid::pg_catalog.regprocedure);
	END LOOP;
	-- every function whose body calls one of them, in either schema
	FOR f IN
		SELECT p.oid FROM pg_catalog.pg_proc p
		WHERE p.pronamespace OPERATOR(pg_catalog.=) ANY (ARRAY['perfstore'::pg_catalog.regnamespace,
		                                                      'perfstore_internal'::pg_catalog.regnamespace]::pg_catalog.oid[])
		  AND p.prosrc OPERATOR(pg_catalog.~) ('perfstore\.(' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(moved, '|') OPERATOR(pg_catalog.||) ')\M')
		ORDER BY p.oid
	LOOP
		def := pg_catalog.pg_get_functiondef(f.oid);
		FOREACH n IN ARRAY moved LOOP
			def := pg_catalog.regexp_replace(def, 'perfstore\.' OPERATOR(pg_catalog.||) n OPERATOR(pg_catalog.||) '\M',
				'perfstore_internal.' OPERATOR(pg_catalog.||) n, 'g');
		END LOOP;
		EXECUTE def;
	END LOOP;
END
$do$;
ALTER FUNCTION perfstore.compare_runs(bigint, bigint, float8) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION perfstore.compare_to_history(bigint, integer, float8) SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION perfstore.ingest_trigger() FROM PUBLIC;

-- grant_writer grants the renamed workflow functions
CREATE OR REPLACE FUNCTION perfstore.grant_writer(role regrole) RETURNS void
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM perfstore.grant_reader(role);
	-- the batch ingest view; its trigger stores the rows as the owner
	EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON perfstore.ingest TO %s', role);
	-- everything else through functions that run as the owner
	EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz),
		perfstore.start_workflow_run(text, jsonb, timestamptz),
		perfstore.finish_workflow_run(bigint, text, timestamptz),
		perfstore.start_task(bigint, text, text, integer, jsonb, timestamptz),
		perfstore.finish_task(bigint, text, timestamptz),
		perfstore.store_run(jsonb) TO %s', role);
END
$$;
COMMENT ON FUNCTION perfstore.grant_writer(regrole) IS
	'let a role write the store through its functions and the ingest view only: record(), batch ingest, the workflow API and store_run(), plus everything grant_reader gives; no direct DML on any table, no maintain()';

--
-- load-test runs: verdicts, diagnosis and profiles
--

--
-- the store at scale
--
--
-- Late data (docs/store.md, "Late data").  Samples written below the rollup
-- watermark, by record() or by the batch ingest, are logged in
-- rollup_invalidations (per series, within one UTC hour) by the transaction
-- that writes them; the real-time views read the logged minutes from the
-- raw samples, so they stay exact; and maintain() refreshes exactly the
-- logged buckets, at most a bounded number of series-hours per pass,
-- leaving the rest of the log to the next pass.
CREATE TABLE perfstore.rollup_invalidations (
	series_id bigint NOT NULL,
	lo timestamptz NOT NULL,
	hi timestamptz NOT NULL,
	CONSTRAINT rollup_invalidations_one_hour CHECK (
		lo <= hi AND pg_catalog.isfinite(lo) AND pg_catalog.isfinite(hi)
		AND pg_catalog.date_trunc('hour', lo, 'UTC') = pg_catalog.date_trunc('hour', hi, 'UTC'))
);
COMMENT ON TABLE perfstore.rollup_invalidations IS
	'samples written below the rollup watermark, per series and UTC hour: [lo, hi] holds their timestamps (maintain() refreshes these buckets and deletes the rows)';
CREATE INDEX rollup_invalidations_series_lo ON perfstore.rollup_invalidations (series_id, lo);
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_invalidations', '');

CREATE FUNCTION perfstore_internal.late_watermark() RETURNS timestamptz
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_late_watermark_sql';
COMMENT ON FUNCTION perfstore_internal.late_watermark() IS
	'the rollup watermark as the write paths see it: cached per session until maintain() moves it (a sample below it is logged in rollup_invalidations)';

CREATE FUNCTION perfstore_internal.rollup_state_changed() RETURNS trigger
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_rollup_state_changed';
COMMENT ON FUNCTION perfstore_internal.rollup_state_changed() IS
	'the trigger on rollup_state: every session drops its cached watermark (late_watermark()) when the change commits';
REVOKE ALL ON FUNCTION perfstore_internal.late_watermark(), perfstore_internal.rollup_state_changed()
	FROM PUBLIC;
CREATE TRIGGER rollup_state_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON perfstore.rollup_state
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore_internal.rollup_state_changed();

-- record(): the hardened function of the section above, and a sample
-- below the watermark is logged (as the owner, like the sample).
CREATE OR REPLACE FUNCTION perfstore.record(metric text, value float8,
	labels jsonb DEFAULT '{}', ts timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	sid bigint;
BEGIN
	PERFORM perfstore_internal.check_sample(record.metric, record.labels, record.ts, record.value);
	SELECT s.id INTO sid FROM perfstore.series s
	WHERE s.metric OPERATOR(pg_catalog.=) record.metric
	  AND s.labels OPERATOR(pg_catalog.=) record.labels;
	IF NOT FOUND THEN
		INSERT INTO perfstore.series (metric, labels)
		VALUES (record.metric, record.labels)
		ON CONFLICT ON CONSTRAINT series_metric_labels DO NOTHING
		RETURNING id INTO sid;
		IF sid IS NULL THEN
			-- created concurrently: committed by now, visible to this statement
			SELECT s.id INTO STRICT sid FROM perfstore.series s
			WHERE s.metric OPERATOR(pg_catalog.=) record.metric
			  AND s.labels OPERATOR(pg_catalog.=) record.labels;
		END IF;
	END IF;
	INSERT INTO perfstore.samples (series_id, ts, value) VALUES (sid, record.ts, record.value);
	IF record.ts OPERATOR(pg_catalog.<) perfstore_internal.late_watermark() THEN
		INSERT INTO perfstore.rollup_invalidations (series_id, lo, hi)
		VALUES (sid, record.ts, record.ts);
	END IF;
END
$$;
COMMENT ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz) IS
	'store one sample of a metric (series created on first use; below the rollup watermark it is logged for the next maintain()); values, timestamps and labels outside the accepted range raise an error (docs/store.md)';

-- Refreshes the rollups of the oldest logged series-hours (at most
-- series_hours of them) and deletes their log rows: the 1-minute buckets
-- from the raw samples, then the 5-minute and 1-hour buckets holding them
-- from the 1-minute rollups, all below the watermark (the views read the
-- raw tail above it).  The log rows are claimed by one DELETE, so a row
-- logged meanwhile by a concurrent writer stays for the next call; their
-- samples are committed and visible to the statements that re-aggregate.
-- Log rows of hours before now() - retention are dropped unrefreshed
-- (their samples are about to go; the rollups keep what they hold).
-- Returns the number of series-hours refreshed.  Waits for a maintain()
-- in progress (the same advisory lock).
CREATE FUNCTION perfstore.refresh_late_data(series_hours integer DEFAULT 1000)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
	retention interval := perfstore_internal.setting_interval('retention'::text, NULL::interval);
	w timestamptz;
	ids bigint[];
	los timestamptz[];
	his timestamptz[];
BEGIN
	IF series_hours OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'series_hours must be at least 1, not %', series_hours
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(1886679653, 1);
	w := perfstore.rollup_watermark();

	WITH pick AS (
		SELECT i.series_id, pg_catalog.date_trunc('hour', i.lo, 'UTC') AS hour
		FROM perfstore.rollup_invalidations i
		GROUP BY 1, 2
		ORDER BY 2, 1
		LIMIT series_hours
	), claimed AS (
		DELETE FROM perfstore.rollup_invalidations i
		USING pick p
		WHERE i.series_id OPERATOR(pg_catalog.=) p.series_id
		  AND pg_catalog.date_trunc('hour', i.lo, 'UTC') OPERATOR(pg_catalog.=) p.hour
		RETURNING i.series_id, i.lo, i.hi
	), grouped AS (
		SELECT c.series_id, pg_catalog.min(c.lo) AS lo, pg_catalog.max(c.hi) AS hi
		FROM claimed c
		GROUP BY c.series_id, pg_catalog.date_trunc('hour', c.lo, 'UTC')
	)
	SELECT pg_catalog.array_agg(g.series_id), pg_catalog.array_agg(g.lo), pg_catalog.array_agg(g.hi)
	INTO ids, los, his
	FROM grouped g
	WHERE retention IS NULL
	   OR g.hi OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) retention);
	IF ids IS NULL THEN
		RETURN 0;
	END IF;

	-- 1-minute buckets, from the raw samples
	DELETE FROM perfstore.rollup_1m r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('minute', g.lo, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_trunc('minute', g.hi, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<) w;
	INSERT INTO perfstore.rollup_1m (series_id, bucket, sketch, stats)
	SELECT s.series_id, pg_catalog.date_trunc('minute', s.ts, 'UTC'),
	       perfstore.sketch_agg(s.value), perfstore.stats_agg(s.value)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.samples s
	  ON s.series_id OPERATOR(pg_catalog.=) g.sid
	 AND s.ts OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('minute', g.lo, 'UTC')
	 AND s.ts OPERATOR(pg_catalog.<) least(
	         pg_catalog.date_trunc('minute', g.hi, 'UTC') OPERATOR(pg_catalog.+) interval '1 minute', w)
	GROUP BY 1, 2;

	-- 5-minute buckets holding them, from the 1-minute rollups
	DELETE FROM perfstore.rollup_5m r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes', g.lo, origin)
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_bin('5 minutes', g.hi, origin)
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin('5 minutes', w, origin);
	INSERT INTO perfstore.rollup_5m (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_bin('5 minutes', r.bucket, origin),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.sid
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes', g.lo, origin)
	 AND r.bucket OPERATOR(pg_catalog.<) least(
	         pg_catalog.date_bin('5 minutes', g.hi, origin) OPERATOR(pg_catalog.+) interval '5 minutes',
	         pg_catalog.date_bin('5 minutes', w, origin))
	GROUP BY 1, 2;

	-- the hour, from the 1-minute rollups
	DELETE FROM perfstore.rollup_1h r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.=) pg_catalog.date_trunc('hour', g.lo, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_trunc('hour', w, 'UTC');
	INSERT INTO perfstore.rollup_1h (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_trunc('hour', r.bucket, 'UTC'),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.sid
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('hour', g.lo, 'UTC')
	 AND r.bucket OPERATOR(pg_catalog.<) (pg_catalog.date_trunc('hour', g.lo, 'UTC') OPERATOR(pg_catalog.+) interval '1 hour')
	WHERE pg_catalog.date_trunc('hour', g.lo, 'UTC') OPERATOR(pg_catalog.<) pg_catalog.date_trunc('hour', w, 'UTC')
	GROUP BY 1, 2;

	RETURN pg_catalog.cardinality(ids);
END
$$;
COMMENT ON FUNCTION perfstore.refresh_late_data(integer) IS
	'roll up logged late samples: refresh the buckets of at most series_hours logged series-hours, oldest first, and delete their log rows (maintain() calls it)';
REVOKE EXECUTE ON FUNCTION perfstore.refresh_late_data(integer) FROM PUBLIC;

-- maintain(): the pass of the hardening section with one step more after
-- the rollups: the late data logged below the watermark, at most 1,000
-- series-hours (60,000 1-minute buckets) per pass; the rest stays logged
-- for the next pass, and the report says how many log rows wait
-- ("late_pending").
CREATE OR REPLACE FUNCTION perfstore.maintain(lock_timeout_ms integer DEFAULT 200,
	max_partitions integer DEFAULT 8)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := pg_catalog.clock_timestamp();
	retention interval := perfstore_internal.setting_interval('retention'::text, NULL::interval);
	late_window interval := perfstore_internal.setting_interval('late_window'::text, '10 minutes'::interval);
	old_lock_timeout text := pg_catalog.current_setting('lock_timeout');
	w timestamptz;
	lo timestamptz;
	hi timestamptz := pg_catalog.date_trunc('minute', pg_catalog.now(), 'UTC');
	refreshed record;
	late bigint;
	late_pending bigint;
	parts jsonb;
	dropped integer := 0;
	skipped integer := 0;
	failed integer := 0;
	p record;
	msg text;
	state text;
BEGIN
	IF lock_timeout_ms IS NULL OR lock_timeout_ms OPERATOR(pg_catalog.<) 1
	   OR max_partitions IS NULL OR max_partitions OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'lock_timeout_ms and max_partitions must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT pg_catalog.pg_try_advisory_xact_lock(1886679653, 1) THEN
		RETURN pg_catalog.jsonb_build_object('busy', true);
	END IF;

	-- 1. rollups
	SELECT r.watermark INTO w FROM perfstore.rollup_state r;
	IF w IS NULL THEN
		lo := (SELECT pg_catalog.min(s.ts) FROM perfstore.samples s);
	ELSE
		lo := LEAST(w, hi OPERATOR(pg_catalog.-) late_window);
	END IF;
	refreshed := perfstore_internal.refresh_rollups_skipping(COALESCE(lo, hi), hi);
	INSERT INTO perfstore.rollup_state (watermark) VALUES (hi)
	ON CONFLICT (singleton) DO UPDATE
		SET watermark = GREATEST(perfstore.rollup_state.watermark, excluded.watermark);

	-- 1b. late data: the logged series-hours below the watermark, bounded
	late := perfstore.refresh_late_data(1000);
	late_pending := (SELECT pg_catalog.count(*) FROM perfstore.rollup_invalidations);

	-- 2. partitions
	parts := perfstore.maintain_partitions(lock_timeout_ms, max_partitions);

	-- 3. retention: whole partitions that end before the window
	IF retention IS NOT NULL THEN
		PERFORM pg_catalog.set_config('lock_timeout', lock_timeout_ms::text OPERATOR(pg_catalog.||) 'ms', true);
		FOR p IN
			SELECT pt.partition FROM perfstore.partitions pt
			WHERE NOT pt.is_default
			  AND pt.range_end OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) retention)
			ORDER BY pt.range_end
		LOOP
			BEGIN
				EXECUTE pg_catalog.format('DROP TABLE %s', p.partition);
				dropped := dropped OPERATOR(pg_catalog.+) 1;
			EXCEPTION
				WHEN lock_not_available THEN
					skipped := skipped OPERATOR(pg_catalog.+) 1;
				WHEN OTHERS THEN
					GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
					RAISE WARNING 'perfstore maintain(): could not drop partition %', p.partition
						USING ERRCODE = state,
						DETAIL = pg_catalog.format('Dropping it failed: %s.', msg);
					failed := failed OPERATOR(pg_catalog.+) 1;
			END;
		END LOOP;
		PERFORM pg_catalog.set_config('lock_timeout', old_lock_timeout, true);
	END IF;

	RETURN pg_catalog.jsonb_build_object(
		'busy', false,
		'rollup_from', lo,
		'watermark', hi,
		'rollup_buckets', refreshed.written,
		'rollup_buckets_skipped', refreshed.skipped,
		'late_series_hours', late,
		'late_pending', late_pending,
		'partitions_created', (parts OPERATOR(pg_catalog.->>) 'partitions_created'::text)::integer,
		'rows_moved', (parts OPERATOR(pg_catalog.->>) 'rows_moved'::text)::bigint,
		'partitions_dropped', dropped,
		'partitions_failed', (parts OPERATOR(pg_catalog.->>) 'partitions_failed'::text)::integer
			OPERATOR(pg_catalog.+) failed,
		'partitions_pending', (parts OPERATOR(pg_catalog.->>) 'partitions_pending'::text)::integer,
		'skipped', (parts OPERATOR(pg_catalog.->>) 'skipped'::text)::integer OPERATOR(pg_catalog.+) skipped,
		'ms', pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)::numeric
			OPERATOR(pg_catalog.*) 1000::numeric, 1));
END
$$;
COMMENT ON FUNCTION perfstore.maintain(integer, integer) IS
	'one maintenance pass: refresh rollups from the watermark (skipping minutes that cannot be aggregated) and the logged late data, create at most max_partitions partitions, drop partitions past the retention; safe with concurrent ingest and concurrent calls';
REVOKE EXECUTE ON FUNCTION perfstore.maintain(integer, integer) FROM PUBLIC;

-- The buckets of a width (1 minute, 5 minutes, 1 hour) that hold a logged
-- late sample and lie wholly below the watermark, once each.  A function
-- rather than a subquery for its row estimate: the log is small between
-- passes, and the views' plans stay cheap (no JIT, nested index lookups);
-- plpgsql with a generic plan, so that a session plans its query once.
-- The views call it as their reader, who may not read the log itself: it
-- runs as the owner (it only reads).
CREATE FUNCTION perfstore.late_buckets(width interval)
	RETURNS TABLE (series_id bigint, bucket timestamptz)
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10 SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
	RETURN QUERY
	SELECT DISTINCT i.series_id, b.bucket
	FROM perfstore.rollup_invalidations i,
	     pg_catalog.generate_series(
	         pg_catalog.date_bin(width, i.lo, timestamptz '2000-01-01 00:00+00'),
	         pg_catalog.date_bin(width, i.hi, timestamptz '2000-01-01 00:00+00'),
	         width) AS b(bucket)
	WHERE b.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin(width, perfstore.rollup_watermark(),
	                                                          timestamptz '2000-01-01 00:00+00');
END
$$;
COMMENT ON FUNCTION perfstore.late_buckets(interval) IS
	'the buckets of a width that hold logged late samples and lie below the watermark (the real-time views read them from the raw samples)';

-- The real-time views, exact with late data: a rollup row of a bucket that
-- holds a logged minute is left out, and that bucket is aggregated instead
-- from the raw samples (1 minute) or from samples_1m (5 minutes, 1 hour),
-- driven by the log (a one-time check skips that branch while the log is
-- empty), with the rest as in 0.3.0.
CREATE OR REPLACE VIEW perfstore.samples_1m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1m r
WHERE r.bucket < perfstore.rollup_watermark()
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND r.bucket >= pg_catalog.date_trunc('minute', i.lo, 'UTC')
                    AND r.bucket <= pg_catalog.date_trunc('minute', i.hi, 'UTC'))
UNION ALL
SELECT s.series_id, pg_catalog.date_trunc('minute', s.ts, 'UTC') AS bucket,
       perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
FROM perfstore.samples s
WHERE s.ts >= perfstore.rollup_watermark()
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '1 minute') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
	FROM perfstore.samples s
	WHERE s.series_id = g.series_id AND s.ts >= g.bucket AND s.ts < g.bucket + interval '1 minute') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_1m IS
	'per series and UTC minute, up to now: the 1-minute rollups before the watermark and the raw samples after it and in the minutes of logged late samples';

CREATE OR REPLACE VIEW perfstore.samples_5m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_5m r
WHERE r.bucket < pg_catalog.date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '5 minutes')
UNION ALL
SELECT m.series_id, pg_catalog.date_bin('5 minutes', m.bucket, timestamptz '2000-01-01 00:00+00') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= pg_catalog.date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '5 minutes') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
	FROM perfstore.samples_1m m
	WHERE m.series_id = g.series_id AND m.bucket >= g.bucket AND m.bucket < g.bucket + interval '5 minutes') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_5m IS
	'per series and 5 UTC minutes, up to now: the 5-minute rollups before the watermark''s 5 minutes, samples_1m after them and in the buckets of logged late samples';

CREATE OR REPLACE VIEW perfstore.samples_1h AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1h r
WHERE r.bucket < pg_catalog.date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '1 hour')
UNION ALL
SELECT m.series_id, pg_catalog.date_trunc('hour', m.bucket, 'UTC') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= pg_catalog.date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '1 hour') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
	FROM perfstore.samples_1m m
	WHERE m.series_id = g.series_id AND m.bucket >= g.bucket AND m.bucket < g.bucket + interval '1 hour') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_1h IS
	'per series and UTC hour, up to now: the 1-hour rollups before the watermark''s hour, samples_1m after it and in the hours of logged late samples';
