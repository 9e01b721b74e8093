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
