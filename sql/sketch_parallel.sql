--
-- sketch_parallel: every sketch aggregate runs as Partial/Finalize
-- Aggregate under a forced parallel plan, and gives exactly the serial
-- result (PARALLEL SAFE with a COMBINEFUNC; docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;

-- 200,000 seeded lognormal latencies in 1,000 groups, some NULLs, a few
-- negative values and zeros
CREATE TABLE par_data (g int, v float8);
SELECT setseed(0.5);
INSERT INTO par_data
SELECT i % 1000,
       CASE WHEN i % 997 = 0 THEN NULL
            WHEN i % 499 = 0 THEN 0
            WHEN i % 293 = 0 THEN -i / 7.0
            ELSE exp(2 + 0.7 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
       END
FROM generate_series(1, 200000) i;
ANALYZE par_data;

-- did the hash aggregate of a query spill to disk (more than one batch)?
CREATE FUNCTION pg_temp.spilled(q text) RETURNS bool LANGUAGE plpgsql
AS $$
DECLARE
	plan text;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, COSTS OFF, TIMING OFF) ' || q INTO plan;
	RETURN plan ~ '"HashAgg Batches": ([2-9]|[1-9][0-9]+)[,}\s]';
END
$$;

\set qs '{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}'

-- the serial answers
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE par_serial AS
SELECT sketch_agg(v)::text AS s,
       sketch_agg(v, 0.001)::text AS s3,
       approx_percentile(v, 0.95) AS ap,
       approx_percentiles(v, :'qs') AS aps,
       percentile_disc(:'qs'::float8[]) WITHIN GROUP (ORDER BY v) AS ex
FROM par_data;
CREATE TEMP TABLE par_serial_groups AS
SELECT g, sketch_agg(v)::text AS s, approx_percentile(v, 0.9) AS ap,
       approx_percentiles(v, '{0.5, 0.99}') AS aps
FROM par_data GROUP BY g;
EXPLAIN (COSTS OFF) SELECT sketch_agg(v) FROM par_data;

-- force parallel plans
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF) SELECT sketch_agg(v) FROM par_data;
EXPLAIN (COSTS OFF) SELECT sketch_agg(v, 0.001) FROM par_data;
EXPLAIN (COSTS OFF) SELECT approx_percentile(v, 0.95) FROM par_data;
EXPLAIN (COSTS OFF) SELECT approx_percentiles(v, '{0.5, 0.99}') FROM par_data;

-- the parallel result is identical to the serial one
SELECT sketch_agg(v)::text = (SELECT s FROM par_serial) AS same_sketch,
       sketch_agg(v, 0.001)::text = (SELECT s3 FROM par_serial) AS same_sketch_0001,
       approx_percentile(v, 0.95) = (SELECT ap FROM par_serial) AS same_ap,
       approx_percentiles(v, :'qs') = (SELECT aps FROM par_serial) AS same_aps
FROM par_data;
-- and keeps the guarantee
SELECT bool_and(abs(u.est - u.ex) <= 0.01 * abs(u.ex)) AS sketch_within,
       bool_and(abs(u.aps - u.ex) <= 0.01 * abs(u.ex)) AS aps_within,
       bool_and(abs(u.est3 - u.ex) <= 0.001 * abs(u.ex)) AS sketch_0001_within,
       bool_and(u.q NOT IN (0, 1) OR u.est = u.ex) AS minmax_exact
FROM (SELECT sketch_agg(v) AS s, sketch_agg(v, 0.001) AS s3,
             approx_percentiles(v, :'qs') AS aps FROM par_data) p,
     par_serial e,
     LATERAL unnest(:'qs'::float8[], quantiles(p.s, :'qs'), quantiles(p.s3, :'qs'),
                    p.aps, e.ex) AS u(q, est, est3, aps, ex);
SELECT abs(approx_percentile(v, 0.99) - (SELECT ex[7] FROM par_serial))
         <= 0.01 * abs((SELECT ex[7] FROM par_serial)) AS ap_within
FROM par_data;

-- merging a table of sketches in parallel: sketch_agg(sketch)
CREATE TABLE par_sketches AS
SELECT g, sketch_agg(v) AS s FROM par_data GROUP BY g;
ANALYZE par_sketches;
EXPLAIN (COSTS OFF) SELECT sketch_agg(s) FROM par_sketches;
SELECT sketch_agg(s)::text = (SELECT s FROM par_serial) AS merged_same
FROM par_sketches;
SELECT num_vals(sketch_agg(s)) = (SELECT count(v) FROM par_data) AS merged_count
FROM par_sketches;

-- GROUP BY with many groups, hash aggregation in parallel
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT g, sketch_agg(v), approx_percentile(v, 0.9), approx_percentiles(v, '{0.5, 0.99}')
FROM par_data GROUP BY g;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.s::text = e.s) AS same_sketch,
       count(*) FILTER (WHERE p.ap = e.ap) AS same_ap,
       count(*) FILTER (WHERE p.aps = e.aps) AS same_aps
FROM (SELECT g, sketch_agg(v) AS s, approx_percentile(v, 0.9) AS ap,
             approx_percentiles(v, '{0.5, 0.99}') AS aps
      FROM par_data GROUP BY g) p
JOIN par_serial_groups e USING (g);
-- the same with a tiny work_mem: the hash aggregate spills to disk
SET work_mem = '64kB';
SELECT pg_temp.spilled('SELECT g, sketch_agg(v), approx_percentile(v, 0.9),
       approx_percentiles(v, ''{0.5, 0.99}'') FROM par_data GROUP BY g') AS spilled;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.s::text = e.s) AS same_sketch,
       count(*) FILTER (WHERE p.ap = e.ap) AS same_ap,
       count(*) FILTER (WHERE p.aps = e.aps) AS same_aps
FROM (SELECT g, sketch_agg(v) AS s, approx_percentile(v, 0.9) AS ap,
             approx_percentiles(v, '{0.5, 0.99}') AS aps
      FROM par_data GROUP BY g) p
JOIN par_serial_groups e USING (g);
SET max_parallel_workers_per_gather = 0;
SELECT pg_temp.spilled('SELECT g, sketch_agg(v), approx_percentile(v, 0.9)
       FROM par_data GROUP BY g') AS spilled;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE p.s::text = e.s) AS same_sketch,
       count(*) FILTER (WHERE p.ap = e.ap) AS same_ap
FROM (SELECT g, sketch_agg(v) AS s, approx_percentile(v, 0.9) AS ap
      FROM par_data GROUP BY g) p
JOIN par_serial_groups e USING (g);
RESET work_mem;
RESET enable_sort;
SET max_parallel_workers_per_gather = 2;

-- sorted group aggregation in parallel (Partial GroupAggregate)
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT g % 10 AS g10, sketch_agg(v) FROM par_data GROUP BY g % 10;
SELECT count(*) AS groups,
       bool_and(s::text = (SELECT sketch_agg(v)::text FROM par_data d WHERE d.g % 10 = x.g10))
         AS same_sketch
FROM (SELECT g % 10 AS g10, sketch_agg(v) AS s FROM par_data GROUP BY g % 10) x;
RESET enable_hashagg;

-- per-group accuracy under the parallel plan
SELECT count(*) AS groups,
       bool_and(abs(p.q - e.x) <= 0.01 * abs(e.x)) AS within
FROM (SELECT g, approx_percentile(v, 0.75) AS q FROM par_data GROUP BY g) p
JOIN (SELECT g, percentile_disc(0.75) WITHIN GROUP (ORDER BY v) AS x
      FROM par_data GROUP BY g) e USING (g);

-- a partial aggregate over zero rows in some workers: combine with NULL
EXPLAIN (COSTS OFF) SELECT sketch_agg(v) FROM par_data WHERE g = 7;
SELECT sketch_agg(v)::text = (SELECT s FROM par_serial_groups WHERE g = 7) AS same_sketch,
       approx_percentile(v, 0.9) = (SELECT ap FROM par_serial_groups WHERE g = 7) AS same_ap
FROM par_data WHERE g = 7;
SELECT sketch_agg(v) IS NULL AS empty_null, approx_percentile(v, 0.9) IS NULL AS ap_null,
       approx_percentiles(v, '{0.5}') IS NULL AS aps_null
FROM par_data WHERE g = -1;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
DROP TABLE par_data, par_sketches;

