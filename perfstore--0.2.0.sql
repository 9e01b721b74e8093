/* perfstore--0.1.0.sql: the quantile sketch and stats types and aggregates */

\echo Use "CREATE EXTENSION perfstore" to load this file. \quit

--
-- perfstore.sketch: a mergeable relative-error quantile sketch
--

CREATE TYPE perfstore.sketch;

CREATE FUNCTION perfstore.sketch_in(cstring) RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION perfstore.sketch_out(perfstore.sketch) RETURNS cstring
	AS 'MODULE_PATHNAME', 'perfstore_sketch_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION perfstore.sketch_recv(internal) RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION perfstore.sketch_send(perfstore.sketch) RETURNS bytea
	AS 'MODULE_PATHNAME', 'perfstore_sketch_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION perfstore.sketch_in(cstring) IS
	'parse and validate the text form of a sketch';
COMMENT ON FUNCTION perfstore.sketch_out(perfstore.sketch) IS
	'canonical text form of a sketch (JSON)';
COMMENT ON FUNCTION perfstore.sketch_recv(internal) IS
	'validate and decode the binary form of a sketch';
COMMENT ON FUNCTION perfstore.sketch_send(perfstore.sketch) IS
	'binary form of a sketch (the packed form)';

CREATE TYPE perfstore.sketch (
	INPUT = perfstore.sketch_in,
	OUTPUT = perfstore.sketch_out,
	RECEIVE = perfstore.sketch_recv,
	SEND = perfstore.sketch_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);
COMMENT ON TYPE perfstore.sketch IS
	'mergeable relative-error quantile sketch (logarithmic buckets, exact count, sum, min and max)';

CREATE FUNCTION perfstore.sketch_to_bytea(perfstore.sketch) RETURNS bytea
	AS 'MODULE_PATHNAME', 'perfstore_sketch_to_bytea'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_to_bytea(perfstore.sketch) IS
	'packed binary form of a sketch (the cast sketch::bytea)';
CREATE FUNCTION perfstore.sketch_from_bytea(bytea) RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_from_bytea'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_from_bytea(bytea) IS
	'validate and decode a packed sketch (the cast bytea::sketch)';
CREATE CAST (perfstore.sketch AS bytea)
	WITH FUNCTION perfstore.sketch_to_bytea(perfstore.sketch);
CREATE CAST (bytea AS perfstore.sketch)
	WITH FUNCTION perfstore.sketch_from_bytea(bytea);

-- transition, combine and final functions of the aggregates
CREATE FUNCTION perfstore.sketch_add(perfstore.sketch, float8)
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_add'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_add(perfstore.sketch, float8) IS
	'transition function of sketch_agg(float8): add a value (NULL ignored)';
CREATE FUNCTION perfstore.sketch_add(perfstore.sketch, float8, float8)
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_add_alpha'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_add(perfstore.sketch, float8, float8) IS
	'transition function of sketch_agg(float8, alpha)';
CREATE FUNCTION perfstore.sketch_add_quantile(perfstore.sketch, float8, float8)
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_add_quantile'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_add_quantile(perfstore.sketch, float8, float8) IS
	'transition function of approx_percentile: the state carries q';
CREATE FUNCTION perfstore.sketch_add_quantiles(perfstore.sketch, float8, float8[])
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_add_quantiles'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_add_quantiles(perfstore.sketch, float8, float8[]) IS
	'transition function of approx_percentiles: the state carries the qs';
CREATE FUNCTION perfstore.sketch_combine(perfstore.sketch, perfstore.sketch)
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_combine(perfstore.sketch, perfstore.sketch) IS
	'merge two sketches (combine function; NULL on either side is allowed)';
CREATE FUNCTION perfstore.sketch_final(perfstore.sketch)
	RETURNS perfstore.sketch
	AS 'MODULE_PATHNAME', 'perfstore_sketch_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sketch_final(perfstore.sketch) IS
	'final function of sketch_agg: the compact, canonical form';
CREATE FUNCTION perfstore.approx_percentile_final(perfstore.sketch)
	RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_percentile_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.approx_percentile_final(perfstore.sketch) IS
	'final function of approx_percentile: the quantile carried in the state';
CREATE FUNCTION perfstore.approx_percentiles_final(perfstore.sketch)
	RETURNS float8[]
	AS 'MODULE_PATHNAME', 'perfstore_sketch_percentiles_final'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.approx_percentiles_final(perfstore.sketch) IS
	'final function of approx_percentiles: the quantiles carried in the state';

CREATE AGGREGATE perfstore.sketch_agg(float8) (
	SFUNC = perfstore.sketch_add,
	STYPE = perfstore.sketch,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.sketch_agg(float8) IS
	'quantile sketch of the values, relative error 0.01';
CREATE AGGREGATE perfstore.sketch_agg(float8, float8) (
	SFUNC = perfstore.sketch_add,
	STYPE = perfstore.sketch,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.sketch_agg(float8, float8) IS
	'quantile sketch of the values with relative error alpha (0.0001 to 0.1)';
CREATE AGGREGATE perfstore.sketch_agg(perfstore.sketch) (
	SFUNC = perfstore.sketch_combine,
	STYPE = perfstore.sketch,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.sketch_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.sketch_agg(perfstore.sketch) IS
	'merge sketches (rollups): identical to the sketch of all their values';
CREATE AGGREGATE perfstore.approx_percentile(float8, float8) (
	SFUNC = perfstore.sketch_add_quantile,
	STYPE = perfstore.sketch,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.approx_percentile_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.approx_percentile(float8, float8) IS
	'quantile q of the values, within relative error 0.01 of percentile_disc(q)';
CREATE AGGREGATE perfstore.approx_percentiles(float8, float8[]) (
	SFUNC = perfstore.sketch_add_quantiles,
	STYPE = perfstore.sketch,
	COMBINEFUNC = perfstore.sketch_combine,
	FINALFUNC = perfstore.approx_percentiles_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.approx_percentiles(float8, float8[]) IS
	'several quantiles of the values at once, within relative error 0.01';

-- readers
CREATE FUNCTION perfstore.quantile(perfstore.sketch, float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_quantile'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.quantile(perfstore.sketch, float8) IS
	'estimate of quantile q (0 gives the exact min, 1 the exact max)';
CREATE FUNCTION perfstore.quantiles(perfstore.sketch, float8[]) RETURNS float8[]
	AS 'MODULE_PATHNAME', 'perfstore_sketch_quantiles'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.quantiles(perfstore.sketch, float8[]) IS
	'estimates of several quantiles';
CREATE FUNCTION perfstore.rank(perfstore.sketch, float8) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_rank'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.rank(perfstore.sketch, float8) IS
	'estimated fraction of the values that are <= x';
CREATE FUNCTION perfstore.count(perfstore.sketch) RETURNS bigint
	AS 'MODULE_PATHNAME', 'perfstore_sketch_count'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.count(perfstore.sketch) IS 'exact number of values';
CREATE FUNCTION perfstore.sum(perfstore.sketch) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_sum'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sum(perfstore.sketch) IS
	'exact sum of the values, correctly rounded';
CREATE FUNCTION perfstore.mean(perfstore.sketch) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_mean'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.mean(perfstore.sketch) IS 'exact sum divided by count';
CREATE FUNCTION perfstore.min(perfstore.sketch) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_min'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.min(perfstore.sketch) IS 'exact smallest value';
CREATE FUNCTION perfstore.max(perfstore.sketch) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_max'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.max(perfstore.sketch) IS 'exact largest value';
CREATE FUNCTION perfstore.alpha(perfstore.sketch) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_sketch_alpha'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.alpha(perfstore.sketch) IS
	'the relative error the sketch guarantees';
CREATE FUNCTION perfstore.collapsed(perfstore.sketch) RETURNS bigint
	AS 'MODULE_PATHNAME', 'perfstore_sketch_collapsed'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.collapsed(perfstore.sketch) IS
	'values folded into the lowest-magnitude bucket because of max_buckets (0 when the guarantee holds everywhere)';
CREATE FUNCTION perfstore.buckets(perfstore.sketch,
								  OUT lower float8, OUT upper float8, OUT count bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'perfstore_sketch_buckets'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION perfstore.buckets(perfstore.sketch) IS
	'non-empty buckets in ascending order: lower and upper bound and count (histograms, heatmaps)';

-- BEGIN stats (owned by src/stats.c)

--
-- perfstore.stats: count, sum, mean, variance, min and max of float8 values,
-- numerically stable (Welford/Chan) and mergeable
--

CREATE TYPE perfstore.stats;

CREATE FUNCTION perfstore.stats_in(cstring) RETURNS perfstore.stats
	AS 'MODULE_PATHNAME', 'perfstore_stats_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_in(cstring) IS
	'input function of perfstore.stats: (count:N,sum:S,sumc:C,m2:M,min:A,max:B)';
CREATE FUNCTION perfstore.stats_out(perfstore.stats) RETURNS cstring
	AS 'MODULE_PATHNAME', 'perfstore_stats_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_out(perfstore.stats) IS
	'output function of perfstore.stats: canonical text that reads back bit for bit';
CREATE FUNCTION perfstore.stats_recv(internal) RETURNS perfstore.stats
	AS 'MODULE_PATHNAME', 'perfstore_stats_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_recv(internal) IS
	'binary input function of perfstore.stats (validates every field)';
CREATE FUNCTION perfstore.stats_send(perfstore.stats) RETURNS bytea
	AS 'MODULE_PATHNAME', 'perfstore_stats_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_send(perfstore.stats) IS
	'binary output function of perfstore.stats';

CREATE TYPE perfstore.stats (
	INPUT = perfstore.stats_in,
	OUTPUT = perfstore.stats_out,
	RECEIVE = perfstore.stats_recv,
	SEND = perfstore.stats_send,
	INTERNALLENGTH = 48,
	ALIGNMENT = double,
	STORAGE = plain
);
COMMENT ON TYPE perfstore.stats IS
	'count, compensated sum, sum of squared deviations, min and max of float8 values: mergeable, numerically stable summary statistics';

-- transition and combine functions of the aggregates
CREATE FUNCTION perfstore.stats_add(perfstore.stats, float8)
	RETURNS perfstore.stats
	AS 'MODULE_PATHNAME', 'perfstore_stats_add'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_add(perfstore.stats, float8) IS
	'transition function of stats_agg(float8): add a value (NULL ignored, NaN and infinity rejected)';
CREATE FUNCTION perfstore.stats_combine(perfstore.stats, perfstore.stats)
	RETURNS perfstore.stats
	AS 'MODULE_PATHNAME', 'perfstore_stats_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stats_combine(perfstore.stats, perfstore.stats) IS
	'merge two stats values (combine function; NULL on either side is allowed)';

CREATE AGGREGATE perfstore.stats_agg(float8) (
	SFUNC = perfstore.stats_add,
	STYPE = perfstore.stats,
	COMBINEFUNC = perfstore.stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.stats_agg(float8) IS
	'count, sum, mean, variance, min and max of the values (NULLs ignored)';
CREATE AGGREGATE perfstore.stats_agg(perfstore.stats) (
	SFUNC = perfstore.stats_combine,
	STYPE = perfstore.stats,
	COMBINEFUNC = perfstore.stats_combine,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE perfstore.stats_agg(perfstore.stats) IS
	'merge stats values (rollups): the stats of all their values';

-- readers
CREATE FUNCTION perfstore.count(perfstore.stats) RETURNS bigint
	AS 'MODULE_PATHNAME', 'perfstore_stats_count'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.count(perfstore.stats) IS 'number of values';
CREATE FUNCTION perfstore.sum(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_sum'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.sum(perfstore.stats) IS
	'sum of the values (compensated summation; NULL when count is 0)';
CREATE FUNCTION perfstore.mean(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_mean'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.mean(perfstore.stats) IS
	'arithmetic mean of the values (NULL when count is 0)';
CREATE FUNCTION perfstore.var_pop(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_var_pop'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.var_pop(perfstore.stats) IS
	'population variance of the values (NULL when count is 0)';
CREATE FUNCTION perfstore.var_samp(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_var_samp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.var_samp(perfstore.stats) IS
	'sample variance of the values (NULL when count is below 2)';
CREATE FUNCTION perfstore.variance(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_var_samp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.variance(perfstore.stats) IS
	'sample variance of the values, like var_samp (NULL when count is below 2)';
CREATE FUNCTION perfstore.stddev_pop(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_stddev_pop'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stddev_pop(perfstore.stats) IS
	'population standard deviation of the values (NULL when count is 0)';
CREATE FUNCTION perfstore.stddev_samp(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_stddev_samp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stddev_samp(perfstore.stats) IS
	'sample standard deviation of the values (NULL when count is below 2)';
CREATE FUNCTION perfstore.stddev(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_stddev_samp'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.stddev(perfstore.stats) IS
	'sample standard deviation of the values, like stddev_samp (NULL when count is below 2)';
CREATE FUNCTION perfstore.min(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_min'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.min(perfstore.stats) IS
	'smallest value (NULL when count is 0)';
CREATE FUNCTION perfstore.max(perfstore.stats) RETURNS float8
	AS 'MODULE_PATHNAME', 'perfstore_stats_max'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION perfstore.max(perfstore.stats) IS
	'largest value (NULL when count is 0)';

-- END stats

/* perfstore--0.1.0--0.2.0.sql: the store (docs/store.md)
 *
 * Metrics (series, samples partitioned by day, record(), the COPY-able
 * ingest table), workflow executions (workflow_runs, task_executions and
 * their API and summaries), the lifecycle (maintain(): partitions ahead,
 * retention, 1-minute and 1-hour rollups, real-time views) and the reader
 * and writer roles.  perfstore--0.2.0.sql is perfstore--0.1.0.sql followed
 * by this file without its \echo line (tests/suites/store_upgrade.sh checks).
 *
 * Every function written in SQL or plpgsql sets search_path and qualifies
 * every name.  Tables holding user data are registered with
 * pg_extension_config_dump; the day partitions maintain() creates are not
 * members of the extension, so pg_dump dumps them and their rows as it does
 * any table.
 */


--
-- settings of the lifecycle (empty: every setting has its default)
--
CREATE TABLE perfstore.settings (
	name text PRIMARY KEY
		CHECK (name IN ('retention', 'late_window', 'partitions_ahead')),
	value text NOT NULL
);
COMMENT ON TABLE perfstore.settings IS
	'lifecycle settings changed from their defaults (set_retention, set_late_window, set_partitions_ahead)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.settings', '');

--
-- metrics
--
CREATE SEQUENCE perfstore.series_id_seq;
CREATE TABLE perfstore.series (
	id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('perfstore.series_id_seq'),
	metric text NOT NULL,
	labels jsonb NOT NULL DEFAULT '{}',
	unit text,
	CONSTRAINT series_labels_object CHECK (pg_catalog.jsonb_typeof(labels) = 'object'),
	CONSTRAINT series_metric_labels UNIQUE (metric, labels)
);
ALTER SEQUENCE perfstore.series_id_seq OWNED BY perfstore.series.id;
COMMENT ON TABLE perfstore.series IS
	'one row per metric and label set; samples refer to it by id';
SELECT pg_catalog.pg_extension_config_dump('perfstore.series', '');
SELECT pg_catalog.pg_extension_config_dump('perfstore.series_id_seq', '');

-- The value check keeps NaN and infinities out: the rollups build sketches
-- of these values and a sketch refuses them.
CREATE TABLE perfstore.samples (
	series_id bigint NOT NULL,
	ts timestamptz NOT NULL,
	value float8 NOT NULL,
	CONSTRAINT samples_value_finite
		CHECK (value > '-Infinity'::float8 AND value < 'Infinity'::float8)
) PARTITION BY RANGE (ts);
COMMENT ON TABLE perfstore.samples IS
	'metric samples, one partition per UTC day (maintain() creates them); rows outside every partition land in samples_default';
-- rows whose day has no partition yet: stored here, moved by maintain()
CREATE TABLE perfstore.samples_default PARTITION OF perfstore.samples DEFAULT;
-- Each partition has its own index on (series_id, ts), and the partitioned
-- table none: an index on it would be an extension member that pg_restore
-- creates with the extension, and attaching the restored day partitions
-- would then build indexes that collide with the ones pg_dump restores.
CREATE INDEX samples_default_series_ts ON perfstore.samples_default (series_id, ts);
COMMENT ON TABLE perfstore.samples_default IS
	'samples whose day has no partition yet; maintain() moves them into day partitions';
SELECT pg_catalog.pg_extension_config_dump('perfstore.samples_default', '');

-- The batch path: COPY or INSERT ... SELECT rows here; a statement trigger
-- moves the whole statement's rows into samples with one INSERT ... SELECT
-- (creating missing series first) and removes them again.
CREATE UNLOGGED TABLE perfstore.ingest (
	metric text,
	labels jsonb DEFAULT '{}',
	ts timestamptz DEFAULT pg_catalog.now(),
	value float8
);
COMMENT ON TABLE perfstore.ingest IS
	'batch ingest: COPY (metric, labels, ts, value) rows here; they are moved into samples at the end of each statement';

CREATE FUNCTION perfstore.ingest_move() RETURNS trigger
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	staged_rows bigint;
	bad_rows bigint;
	moved_rows bigint;
	bad record;
BEGIN
	SELECT count(*),
	       count(*) FILTER (WHERE st.metric IS NULL OR st.ts IS NULL OR st.value IS NULL
	                           OR NOT (st.value > '-Infinity'::float8 AND st.value < 'Infinity'::float8)
	                           OR st.labels IS NULL OR pg_catalog.jsonb_typeof(st.labels) <> 'object')
	INTO staged_rows, bad_rows
	FROM staged st;
	IF staged_rows = 0 THEN
		RETURN NULL;
	END IF;
	IF bad_rows > 0 THEN
		SELECT st.* INTO bad FROM staged st
		WHERE st.metric IS NULL OR st.ts IS NULL OR st.value IS NULL
		   OR NOT (st.value > '-Infinity'::float8 AND st.value < 'Infinity'::float8)
		   OR st.labels IS NULL OR pg_catalog.jsonb_typeof(st.labels) <> 'object'
		LIMIT 1;
		RAISE EXCEPTION 'invalid row in batch ingest: metric %, labels %, ts %, value %',
			coalesce(bad.metric, 'NULL'), coalesce(bad.labels::text, 'NULL'),
			coalesce(bad.ts::text, 'NULL'), coalesce(bad.value::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('%s of %s rows are invalid: metric, ts and value must not be NULL, the value must be finite and the labels a JSON object.', bad_rows, staged_rows),
			HINT = 'No row of this statement was stored.';
	END IF;
	-- Fast path, every series exists: one join.  When some do not, the
	-- join's rows are rolled back (a subtransaction) and the slow path
	-- creates the missing series first.
	BEGIN
		INSERT INTO perfstore.samples (series_id, ts, value)
		SELECT s.id, st.ts, st.value
		FROM staged st
		JOIN perfstore.series s ON s.metric = st.metric AND s.labels = st.labels;
		GET DIAGNOSTICS moved_rows = ROW_COUNT;
		IF moved_rows <> staged_rows THEN
			RAISE EXCEPTION 'new series in batch' USING ERRCODE = 'PS001';
		END IF;
	EXCEPTION WHEN SQLSTATE 'PS001' THEN
		-- in a fixed order, so that concurrent batches creating the same
		-- series cannot deadlock
		INSERT INTO perfstore.series (metric, labels)
		SELECT DISTINCT st.metric, st.labels FROM staged st
		WHERE NOT EXISTS (SELECT 1 FROM perfstore.series s
		                  WHERE s.metric = st.metric AND s.labels = st.labels)
		ORDER BY 1, 2
		ON CONFLICT (metric, labels) DO NOTHING;
		INSERT INTO perfstore.samples (series_id, ts, value)
		SELECT s.id, st.ts, st.value
		FROM staged st
		JOIN perfstore.series s ON s.metric = st.metric AND s.labels = st.labels;
		GET DIAGNOSTICS moved_rows = ROW_COUNT;
	END;
	IF moved_rows <> staged_rows THEN
		RAISE EXCEPTION 'could not resolve the series of % of % ingested rows',
			staged_rows - moved_rows, staged_rows
			USING ERRCODE = 'serialization_failure',
			HINT = 'Retry the statement; in REPEATABLE READ a series created concurrently is not visible.';
	END IF;
	-- our own rows (and no one else's: uncommitted rows of other sessions
	-- are invisible, and every session removes its rows before commit)
	DELETE FROM perfstore.ingest;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION perfstore.ingest_move() IS
	'statement trigger of perfstore.ingest: moves the statement''s rows into samples';
CREATE TRIGGER ingest_move AFTER INSERT ON perfstore.ingest
	REFERENCING NEW TABLE AS staged
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_move();

CREATE FUNCTION perfstore.record(metric text, value float8,
	labels jsonb DEFAULT '{}', ts timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	sid bigint;
BEGIN
	IF metric IS NULL OR value IS NULL OR labels IS NULL OR ts IS NULL THEN
		RAISE EXCEPTION 'metric, value, labels and ts must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT (value > '-Infinity'::float8 AND value < 'Infinity'::float8) THEN
		RAISE EXCEPTION 'cannot record value % for metric "%"', value, metric
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'Samples must be finite numbers.';
	END IF;
	IF pg_catalog.jsonb_typeof(labels) <> 'object' THEN
		RAISE EXCEPTION 'labels must be a JSON object, not %', pg_catalog.jsonb_typeof(labels)
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass labels like ''{"host": "db1"}''.';
	END IF;
	SELECT s.id INTO sid FROM perfstore.series s
	WHERE s.metric = record.metric AND s.labels = record.labels;
	IF NOT FOUND THEN
		INSERT INTO perfstore.series (metric, labels)
		VALUES (record.metric, record.labels)
		ON CONFLICT ON CONSTRAINT series_metric_labels DO NOTHING
		RETURNING id INTO sid;
		IF sid IS NULL THEN
			-- created concurrently: committed by now, visible to this statement
			SELECT s.id INTO STRICT sid FROM perfstore.series s
			WHERE s.metric = record.metric AND s.labels = record.labels;
		END IF;
	END IF;
	INSERT INTO perfstore.samples (series_id, ts, value) VALUES (sid, record.ts, record.value);
END
$$;
COMMENT ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz) IS
	'store one sample of a metric (series created on first use); NaN, infinities and labels that are not a JSON object raise 22023';

CREATE FUNCTION perfstore.set_unit(metric text, unit text) RETURNS bigint
	LANGUAGE sql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	WITH u AS (UPDATE perfstore.series s SET unit = $2 WHERE s.metric = $1 RETURNING 1)
	SELECT count(*) FROM u
$$;
COMMENT ON FUNCTION perfstore.set_unit(text, text) IS
	'set the unit of every series of a metric; returns how many series changed';

--
-- workflow executions
--
CREATE SEQUENCE perfstore.workflow_runs_id_seq;
CREATE TABLE perfstore.workflow_runs (
	id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('perfstore.workflow_runs_id_seq'),
	workflow text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'success', 'failed', 'cancelled')),
	labels jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(labels) = 'object'),
	CONSTRAINT workflow_runs_finished CHECK
		((finished_at IS NULL) = (status = 'running') AND finished_at >= started_at)
);
ALTER SEQUENCE perfstore.workflow_runs_id_seq OWNED BY perfstore.workflow_runs.id;
CREATE INDEX workflow_runs_workflow_started ON perfstore.workflow_runs (workflow, started_at);
CREATE INDEX workflow_runs_open ON perfstore.workflow_runs (started_at) WHERE finished_at IS NULL;
COMMENT ON TABLE perfstore.workflow_runs IS
	'one row per workflow run (start_run, finish_run)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.workflow_runs', '');
SELECT pg_catalog.pg_extension_config_dump('perfstore.workflow_runs_id_seq', '');

CREATE SEQUENCE perfstore.task_executions_id_seq;
CREATE TABLE perfstore.task_executions (
	id bigint PRIMARY KEY DEFAULT pg_catalog.nextval('perfstore.task_executions_id_seq'),
	run_id bigint NOT NULL REFERENCES perfstore.workflow_runs (id) ON DELETE CASCADE,
	agent text NOT NULL,
	task text NOT NULL,
	started_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	finished_at timestamptz,
	status text NOT NULL DEFAULT 'running'
		CHECK (status IN ('running', 'success', 'failed', 'cancelled')),
	parallel integer NOT NULL DEFAULT 1 CHECK (parallel >= 1),
	attrs jsonb NOT NULL DEFAULT '{}'
		CHECK (pg_catalog.jsonb_typeof(attrs) = 'object'),
	CONSTRAINT task_executions_finished CHECK
		((finished_at IS NULL) = (status = 'running') AND finished_at >= started_at)
);
ALTER SEQUENCE perfstore.task_executions_id_seq OWNED BY perfstore.task_executions.id;
CREATE INDEX task_executions_run ON perfstore.task_executions (run_id);
CREATE INDEX task_executions_agent_started ON perfstore.task_executions (agent, started_at);
CREATE INDEX task_executions_open ON perfstore.task_executions (run_id) WHERE finished_at IS NULL;
COMMENT ON TABLE perfstore.task_executions IS
	'one row per task execution of a run (start_task, finish_task); parallel is the number of workers the task used';
SELECT pg_catalog.pg_extension_config_dump('perfstore.task_executions', '');
SELECT pg_catalog.pg_extension_config_dump('perfstore.task_executions_id_seq', '');

CREATE FUNCTION perfstore.start_run(workflow text, labels jsonb DEFAULT '{}',
	started_at timestamptz DEFAULT pg_catalog.now())
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	rid bigint;
BEGIN
	IF workflow IS NULL OR labels IS NULL OR started_at IS NULL THEN
		RAISE EXCEPTION 'workflow, labels and started_at must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pg_catalog.jsonb_typeof(labels) <> 'object' THEN
		RAISE EXCEPTION 'labels must be a JSON object, not %', pg_catalog.jsonb_typeof(labels)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO perfstore.workflow_runs (workflow, labels, started_at)
	VALUES (start_run.workflow, start_run.labels, start_run.started_at)
	RETURNING id INTO rid;
	RETURN rid;
END
$$;
COMMENT ON FUNCTION perfstore.start_run(text, jsonb, timestamptz) IS
	'start a workflow run; returns its id';

CREATE FUNCTION perfstore.finish_run(run_id bigint, status text DEFAULT 'success',
	finished_at timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	prev record;
BEGIN
	IF status IS NULL OR status NOT IN ('success', 'failed', 'cancelled') THEN
		RAISE EXCEPTION 'unrecognized final status "%"', coalesce(status, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use success, failed or cancelled.';
	END IF;
	IF finished_at IS NULL THEN
		RAISE EXCEPTION 'finished_at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- the primary key, row-locked: a concurrent finish waits and then fails
	SELECT r.started_at, r.finished_at INTO prev
	FROM perfstore.workflow_runs r WHERE r.id = finish_run.run_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow run % does not exist', run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF prev.finished_at IS NOT NULL THEN
		RAISE EXCEPTION 'workflow run % is already finished', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			DETAIL = format('It finished at %s.', prev.finished_at);
	END IF;
	IF finish_run.finished_at < prev.started_at THEN
		RAISE EXCEPTION 'workflow run % cannot finish before it started', run_id
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('It started at %s, the finish time given is %s.', prev.started_at, finish_run.finished_at);
	END IF;
	UPDATE perfstore.workflow_runs r
	SET finished_at = finish_run.finished_at, status = finish_run.status
	WHERE r.id = finish_run.run_id;
END
$$;
COMMENT ON FUNCTION perfstore.finish_run(bigint, text, timestamptz) IS
	'finish a running workflow run with status success, failed or cancelled; an unknown run raises P0002, a finished one 55000';

CREATE FUNCTION perfstore.start_task(run_id bigint, agent text, task text,
	parallel integer DEFAULT 1, attrs jsonb DEFAULT '{}',
	started_at timestamptz DEFAULT pg_catalog.now())
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run_finished timestamptz;
	tid bigint;
BEGIN
	IF run_id IS NULL OR agent IS NULL OR task IS NULL OR parallel IS NULL
	   OR attrs IS NULL OR started_at IS NULL THEN
		RAISE EXCEPTION 'run_id, agent, task, parallel, attrs and started_at must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pg_catalog.jsonb_typeof(attrs) <> 'object' THEN
		RAISE EXCEPTION 'attrs must be a JSON object, not %', pg_catalog.jsonb_typeof(attrs)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF parallel < 1 THEN
		RAISE EXCEPTION 'parallel must be at least 1, not %', parallel
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT r.finished_at INTO run_finished
	FROM perfstore.workflow_runs r WHERE r.id = start_task.run_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'workflow run % does not exist', run_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF run_finished IS NOT NULL THEN
		RAISE EXCEPTION 'workflow run % is already finished', run_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'Start tasks before finishing their run.';
	END IF;
	INSERT INTO perfstore.task_executions (run_id, agent, task, parallel, attrs, started_at)
	VALUES (start_task.run_id, start_task.agent, start_task.task, start_task.parallel,
	        start_task.attrs, start_task.started_at)
	RETURNING id INTO tid;
	RETURN tid;
END
$$;
COMMENT ON FUNCTION perfstore.start_task(bigint, text, text, integer, jsonb, timestamptz) IS
	'start a task execution of a running workflow run on an agent; returns its id';

CREATE FUNCTION perfstore.finish_task(task_id bigint, status text DEFAULT 'success',
	finished_at timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	prev record;
BEGIN
	IF status IS NULL OR status NOT IN ('success', 'failed', 'cancelled') THEN
		RAISE EXCEPTION 'unrecognized final status "%"', coalesce(status, 'NULL')
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use success, failed or cancelled.';
	END IF;
	IF finished_at IS NULL THEN
		RAISE EXCEPTION 'finished_at must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	SELECT t.started_at, t.finished_at INTO prev
	FROM perfstore.task_executions t WHERE t.id = finish_task.task_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'task execution % does not exist', task_id
			USING ERRCODE = 'no_data_found';
	END IF;
	IF prev.finished_at IS NOT NULL THEN
		RAISE EXCEPTION 'task execution % is already finished', task_id
			USING ERRCODE = 'object_not_in_prerequisite_state',
			DETAIL = format('It finished at %s.', prev.finished_at);
	END IF;
	IF finish_task.finished_at < prev.started_at THEN
		RAISE EXCEPTION 'task execution % cannot finish before it started', task_id
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('It started at %s, the finish time given is %s.', prev.started_at, finish_task.finished_at);
	END IF;
	UPDATE perfstore.task_executions t
	SET finished_at = finish_task.finished_at, status = finish_task.status
	WHERE t.id = finish_task.task_id;
END
$$;
COMMENT ON FUNCTION perfstore.finish_task(bigint, text, timestamptz) IS
	'finish a running task execution with status success, failed or cancelled; an unknown task raises P0002, a finished one 55000';

-- Durations in seconds.  Only finished runs and tasks count for durations,
-- success rates and parallelism.
CREATE VIEW perfstore.workflow_summary AS
WITH task_time AS (
	SELECT t.run_id,
	       sum(EXTRACT(epoch FROM t.finished_at - t.started_at))::float8 AS task_seconds
	FROM perfstore.task_executions t
	WHERE t.finished_at IS NOT NULL
	GROUP BY t.run_id
), runs AS (
	SELECT r.workflow, r.status, r.finished_at,
	       EXTRACT(epoch FROM r.finished_at - r.started_at)::float8 AS seconds,
	       coalesce(tt.task_seconds, 0) AS task_seconds
	FROM perfstore.workflow_runs r
	LEFT JOIN task_time tt ON tt.run_id = r.id
)
SELECT workflow,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'success') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'success')::float8
           / nullif(count(*) FILTER (WHERE finished_at IS NOT NULL), 0) AS success_rate,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.5) AS duration_p50,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.95) AS duration_p95,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.99) AS duration_p99,
       sum(task_seconds) FILTER (WHERE finished_at IS NOT NULL)
           / nullif(sum(seconds), 0) AS parallelism
FROM runs
GROUP BY workflow;
COMMENT ON VIEW perfstore.workflow_summary IS
	'per workflow: runs, success rate (of finished runs), duration p50/p95/p99 in seconds (sketch, relative error 0.01), parallelism = summed task time / summed run wall time';

CREATE VIEW perfstore.agent_summary AS
WITH tasks AS (
	SELECT t.agent, t.run_id, t.status, t.started_at, t.finished_at,
	       EXTRACT(epoch FROM t.finished_at - t.started_at)::float8 AS seconds
	FROM perfstore.task_executions t
)
SELECT agent,
       count(DISTINCT run_id) AS runs,
       count(*) AS tasks,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'success') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'success')::float8
           / nullif(count(*) FILTER (WHERE finished_at IS NOT NULL), 0) AS success_rate,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.5) AS duration_p50,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.95) AS duration_p95,
       perfstore.quantile(perfstore.sketch_agg(seconds), 0.99) AS duration_p99,
       sum(seconds) / nullif(EXTRACT(epoch FROM max(finished_at) - min(started_at))::float8, 0)
           AS parallelism
FROM tasks
GROUP BY agent;
COMMENT ON VIEW perfstore.agent_summary IS
	'per agent: runs and tasks, success rate (of finished tasks), task duration p50/p95/p99 in seconds, parallelism = summed task time / wall time from its first start to its last finish';

--
-- lifecycle: partitions, retention, rollups
--
CREATE TABLE perfstore.rollup_1m (
	series_id bigint NOT NULL,
	bucket timestamptz NOT NULL,
	sketch perfstore.sketch NOT NULL,
	stats perfstore.stats NOT NULL,
	PRIMARY KEY (series_id, bucket)
);
COMMENT ON TABLE perfstore.rollup_1m IS
	'per series and UTC minute: a sketch and stats of the samples (maintain() refreshes it)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_1m', '');
CREATE TABLE perfstore.rollup_1h (
	series_id bigint NOT NULL,
	bucket timestamptz NOT NULL,
	sketch perfstore.sketch NOT NULL,
	stats perfstore.stats NOT NULL,
	PRIMARY KEY (series_id, bucket)
);
COMMENT ON TABLE perfstore.rollup_1h IS
	'per series and UTC hour: a sketch and stats of the samples (maintain() refreshes it)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_1h', '');

-- at most one row: rollups are complete for samples before watermark
CREATE TABLE perfstore.rollup_state (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	watermark timestamptz NOT NULL
);
COMMENT ON TABLE perfstore.rollup_state IS
	'the rollup watermark: rollups hold every sample older than it (late data: see set_late_window)';
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_state', '');

CREATE VIEW perfstore.partitions AS
SELECT c.oid::regclass AS partition,
       b.bound = 'DEFAULT' AS is_default,
       (regexp_match(b.bound, 'FROM \(''([^'']*)''\)'))[1]::timestamptz AS range_start,
       (regexp_match(b.bound, 'TO \(''([^'']*)''\)'))[1]::timestamptz AS range_end,
       c.reltuples::bigint AS estimated_rows
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound) b
WHERE i.inhparent = 'perfstore.samples'::regclass;
COMMENT ON VIEW perfstore.partitions IS
	'the partitions of perfstore.samples with their time ranges (NULL for MINVALUE/MAXVALUE and the default partition)';

CREATE FUNCTION perfstore.setting_interval(name text, fallback interval)
	RETURNS interval
	LANGUAGE sql STABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce((SELECT s.value::interval FROM perfstore.settings s WHERE s.name = $1), $2)
$$;
COMMENT ON FUNCTION perfstore.setting_interval(text, interval) IS
	'a lifecycle setting as an interval, or the fallback when it is not set';

CREATE FUNCTION perfstore.set_retention(retention interval) RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF retention IS NULL THEN
		DELETE FROM perfstore.settings WHERE name = 'retention';
		RETURN;
	END IF;
	IF retention < interval '1 day' THEN
		RAISE EXCEPTION 'retention % is shorter than one day', retention
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'Samples are partitioned by day and only whole partitions are dropped.';
	END IF;
	INSERT INTO perfstore.settings (name, value) VALUES ('retention', retention::text)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value;
END
$$;
COMMENT ON FUNCTION perfstore.set_retention(interval) IS
	'keep samples this long (at least 1 day; NULL keeps them forever): maintain() drops day partitions that end before now() - retention';

CREATE FUNCTION perfstore.set_late_window(late_window interval) RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF late_window IS NULL OR late_window < interval '0' OR late_window > interval '7 days' THEN
		RAISE EXCEPTION 'late window % is outside 0 to 7 days', coalesce(late_window::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO perfstore.settings (name, value) VALUES ('late_window', late_window::text)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value;
END
$$;
COMMENT ON FUNCTION perfstore.set_late_window(interval) IS
	'how far back each maintain() re-aggregates rollups for late samples (default 10 minutes)';

CREATE FUNCTION perfstore.set_partitions_ahead(days integer) RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF days IS NULL OR days < 1 OR days > 90 THEN
		RAISE EXCEPTION 'partitions ahead % is outside 1 to 90 days', coalesce(days::text, 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO perfstore.settings (name, value) VALUES ('partitions_ahead', days::text)
	ON CONFLICT (name) DO UPDATE SET value = excluded.value;
END
$$;
COMMENT ON FUNCTION perfstore.set_partitions_ahead(integer) IS
	'how many days of partitions after today maintain() keeps ready (default 3)';

-- Creates the partition of one UTC day, with its index on (series_id, ts),
-- moving the day's rows out of the default partition first.  Returns the number of rows moved, or NULL when
-- a partition covering the day exists already.  Takes ACCESS EXCLUSIVE
-- locks on samples and samples_default, held until the end of the
-- transaction: no row of that day can slip into the default partition
-- between the move and the attach, and no insert that routed its row with
-- the old set of partitions can reach the default partition after it (it
-- would fail its partition constraint).  Inserts wait for the lock; the
-- caller bounds the wait with lock_timeout (maintain() does).
CREATE FUNCTION perfstore.create_partition(day date) RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
	hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
	part text := 'samples_p' || to_char(day, 'YYYYMMDD');
	moved bigint;
BEGIN
	IF EXISTS (SELECT 1 FROM perfstore.partitions p
	           WHERE NOT p.is_default
	             AND coalesce(p.range_start, '-infinity') < hi
	             AND coalesce(p.range_end, 'infinity') > lo) THEN
		RETURN NULL;
	END IF;
	LOCK TABLE perfstore.samples, perfstore.samples_default IN ACCESS EXCLUSIVE MODE;
	EXECUTE format('CREATE TABLE perfstore.%I (LIKE perfstore.samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	EXECUTE format('CREATE INDEX %I ON perfstore.%I (series_id, ts)', part || '_series_ts', part);
	EXECUTE format('WITH m AS (DELETE FROM perfstore.samples_default WHERE ts >= $1 AND ts < $2
	                           RETURNING series_id, ts, value)
	                INSERT INTO perfstore.%I (series_id, ts, value) SELECT series_id, ts, value FROM m', part)
		USING lo, hi;
	GET DIAGNOSTICS moved = ROW_COUNT;
	EXECUTE format('ALTER TABLE perfstore.samples ATTACH PARTITION perfstore.%I FOR VALUES FROM (%L) TO (%L)',
	               part, lo, hi);
	RETURN moved;
END
$$;
COMMENT ON FUNCTION perfstore.create_partition(date) IS
	'create the samples partition of one UTC day, moving its rows out of samples_default; NULL when one exists';

-- Re-aggregates the 1-minute rollups of [from_ts, to_ts) from the raw
-- samples and the 1-hour rollups of the hours the range touches from the
-- 1-minute rollups (both ends truncated to whole buckets).  Returns the
-- number of 1-minute buckets written.
CREATE FUNCTION perfstore.refresh_rollups(from_ts timestamptz, to_ts timestamptz)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := date_trunc('minute', from_ts, 'UTC');
	lo_h timestamptz := date_trunc('hour', from_ts, 'UTC');
	hi timestamptz := date_trunc('minute', to_ts, 'UTC');
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
	're-aggregate the 1-minute and 1-hour rollups of a time range from the raw samples (for backfills older than the late window)';

-- One maintenance pass, in the calling transaction:
--   1. rollups: re-aggregate from min(watermark, now - late window) up to
--      the current minute and move the watermark there;
--   2. partitions: one for every day that has rows in samples_default (up
--      to the last day ahead) and for today and the days ahead;
--   3. retention: drop the partitions that end before now() - retention.
-- The DDL comes last so that its locks are held for the shortest time, and
-- each DDL step waits at most lock_timeout_ms for its lock; a step that
-- cannot get it is skipped (counted in "skipped") and done by the next pass.
-- Returns a jsonb report.  Concurrent calls: the second returns at once
-- with "busy": true (a transaction-level advisory lock).
CREATE FUNCTION perfstore.maintain(lock_timeout_ms integer DEFAULT 200)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := clock_timestamp();
	retention interval := perfstore.setting_interval('retention', NULL);
	late_window interval := perfstore.setting_interval('late_window', interval '10 minutes');
	ahead integer := coalesce((SELECT s.value::integer FROM perfstore.settings s
	                           WHERE s.name = 'partitions_ahead'), 3);
	today date := (now() AT TIME ZONE 'UTC')::date;
	old_lock_timeout text := current_setting('lock_timeout');
	w timestamptz;
	lo timestamptz;
	hi timestamptz := date_trunc('minute', now(), 'UTC');
	buckets bigint := 0;
	created integer := 0;
	moved bigint := 0;
	dropped integer := 0;
	skipped integer := 0;
	n bigint;
	d date;
	p record;
BEGIN
	IF NOT pg_try_advisory_xact_lock(1886679653, 1) THEN
		RETURN jsonb_build_object('busy', true);
	END IF;

	-- 1. rollups
	SELECT r.watermark INTO w FROM perfstore.rollup_state r;
	IF w IS NULL THEN
		lo := (SELECT min(s.ts) FROM perfstore.samples s);
	ELSE
		lo := least(w, hi - late_window);
	END IF;
	IF lo IS NOT NULL THEN
		buckets := perfstore.refresh_rollups(lo, hi);
	END IF;
	INSERT INTO perfstore.rollup_state (watermark) VALUES (hi)
	ON CONFLICT (singleton) DO UPDATE
		SET watermark = greatest(perfstore.rollup_state.watermark, excluded.watermark);

	-- 2. partitions: days stranded in the default partition, then ahead
	PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
	FOR d IN
		SELECT DISTINCT (s.ts AT TIME ZONE 'UTC')::date AS day
		FROM perfstore.samples_default s
		WHERE isfinite(s.ts) AND s.ts < ((today + ahead + 1)::timestamp AT TIME ZONE 'UTC')
		UNION
		SELECT today + i FROM generate_series(0, ahead) i
		ORDER BY 1
	LOOP
		BEGIN
			n := perfstore.create_partition(d);
			IF n IS NOT NULL THEN
				created := created + 1;
				moved := moved + n;
			END IF;
		EXCEPTION WHEN lock_not_available THEN
			skipped := skipped + 1;
		END;
	END LOOP;

	-- 3. retention: whole partitions that end before the window
	IF retention IS NOT NULL THEN
		FOR p IN
			SELECT pt.partition FROM perfstore.partitions pt
			WHERE NOT pt.is_default AND pt.range_end <= now() - retention
			ORDER BY pt.range_end
		LOOP
			BEGIN
				EXECUTE format('DROP TABLE %s', p.partition);
				dropped := dropped + 1;
			EXCEPTION WHEN lock_not_available THEN
				skipped := skipped + 1;
			END;
		END LOOP;
	END IF;
	PERFORM set_config('lock_timeout', old_lock_timeout, true);

	RETURN jsonb_build_object(
		'busy', false,
		'rollup_from', lo,
		'watermark', hi,
		'rollup_buckets', buckets,
		'partitions_created', created,
		'rows_moved', moved,
		'partitions_dropped', dropped,
		'skipped', skipped,
		'ms', round(EXTRACT(epoch FROM clock_timestamp() - started)::numeric * 1000, 1));
END
$$;
COMMENT ON FUNCTION perfstore.maintain(integer) IS
	'one maintenance pass: refresh rollups from the watermark, create partitions ahead, move stranded rows, drop partitions past the retention; safe with concurrent ingest and concurrent calls';

-- Real-time views: rollups before the watermark, the raw tail after it.
CREATE VIEW perfstore.samples_1m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1m r
WHERE r.bucket < (SELECT coalesce(max(st.watermark), '-infinity') FROM perfstore.rollup_state st)
UNION ALL
SELECT s.series_id, date_trunc('minute', s.ts, 'UTC') AS bucket,
       perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
FROM perfstore.samples s
WHERE s.ts >= (SELECT coalesce(max(st.watermark), '-infinity') FROM perfstore.rollup_state st)
GROUP BY 1, 2;
COMMENT ON VIEW perfstore.samples_1m IS
	'per series and UTC minute, up to now: the 1-minute rollups before the watermark and the raw samples after it';

CREATE VIEW perfstore.samples_1h AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1h r
WHERE r.bucket < (SELECT date_trunc('hour', coalesce(max(st.watermark), '-infinity'), 'UTC')
                  FROM perfstore.rollup_state st)
UNION ALL
SELECT m.series_id, date_trunc('hour', m.bucket, 'UTC') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= (SELECT date_trunc('hour', coalesce(max(st.watermark), '-infinity'), 'UTC')
                   FROM perfstore.rollup_state st)
GROUP BY 1, 2;
COMMENT ON VIEW perfstore.samples_1h IS
	'per series and UTC hour, up to now: the 1-hour rollups before the watermark''s hour and samples_1m after it';

--
-- roles
--
CREATE FUNCTION perfstore.grant_reader(role regrole) RETURNS void
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA perfstore TO %s', role);
	EXECUTE format('GRANT SELECT ON perfstore.series, perfstore.samples, perfstore.rollup_1m,
		perfstore.rollup_1h, perfstore.rollup_state, perfstore.settings,
		perfstore.workflow_runs, perfstore.task_executions, perfstore.workflow_summary,
		perfstore.agent_summary, perfstore.samples_1m, perfstore.samples_1h,
		perfstore.partitions TO %s', role);
END
$$;
COMMENT ON FUNCTION perfstore.grant_reader(regrole) IS
	'let a role (Grafana''s) read the store: SELECT on its tables and views, nothing else';

CREATE FUNCTION perfstore.grant_writer(role regrole) RETURNS void
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM perfstore.grant_reader(role);
	EXECUTE format('GRANT INSERT ON perfstore.series, perfstore.samples TO %s', role);
	EXECUTE format('GRANT SELECT, INSERT, DELETE ON perfstore.ingest TO %s', role);
	EXECUTE format('GRANT INSERT, UPDATE ON perfstore.workflow_runs, perfstore.task_executions TO %s', role);
	EXECUTE format('GRANT USAGE ON SEQUENCE perfstore.series_id_seq, perfstore.workflow_runs_id_seq,
		perfstore.task_executions_id_seq TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz),
		perfstore.start_run(text, jsonb, timestamptz),
		perfstore.finish_run(bigint, text, timestamptz),
		perfstore.start_task(bigint, text, text, integer, jsonb, timestamptz),
		perfstore.finish_task(bigint, text, timestamptz) TO %s', role);
END
$$;
COMMENT ON FUNCTION perfstore.grant_writer(regrole) IS
	'let a role write the store: record(), batch ingest and the workflow API, plus everything grant_reader gives; no DELETE, TRUNCATE, DDL or maintain()';

-- writing and administering is for the roles granted it
REVOKE EXECUTE ON FUNCTION
	perfstore.record(text, float8, jsonb, timestamptz),
	perfstore.set_unit(text, text),
	perfstore.start_run(text, jsonb, timestamptz),
	perfstore.finish_run(bigint, text, timestamptz),
	perfstore.start_task(bigint, text, text, integer, jsonb, timestamptz),
	perfstore.finish_task(bigint, text, timestamptz),
	perfstore.set_retention(interval),
	perfstore.set_late_window(interval),
	perfstore.set_partitions_ahead(integer),
	perfstore.create_partition(date),
	perfstore.refresh_rollups(timestamptz, timestamptz),
	perfstore.maintain(integer),
	perfstore.grant_reader(regrole),
	perfstore.grant_writer(regrole)
FROM PUBLIC;
