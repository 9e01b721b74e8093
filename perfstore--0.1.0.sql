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
-- END stats
