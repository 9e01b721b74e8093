--
-- sketch_merge: sketch_agg(sketch) over per-part sketches is exactly the
-- sketch of all the data, in any order and any grouping (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;
-- serial plans: this file is about merge order, not parallelism
SET max_parallel_workers_per_gather = 0;
-- days and weeks in UTC
SET timezone = 'UTC';

\set qs '{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}'

-- 30 days of seeded lognormal latencies, 5,000 a day, with a daily trend,
-- a few zeros and negative values (clock skew) and huge outliers whose sum
-- cancels: a naive float8 sum would lose the small values
CREATE TEMP TABLE m_data (ts timestamptz, v float8);
SELECT setseed(0.75);
INSERT INTO m_data
SELECT timestamptz '2024-03-01 00:00:00+00' + (i % 30) * interval '1 day'
         + (i / 30) * interval '17 seconds',
       CASE WHEN i % 1009 = 0 THEN 0
            WHEN i % 1013 = 0 THEN -exp(random())
            ELSE exp(1 + (i % 30) / 20.0 + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
       END
FROM generate_series(0, 149999) i;
INSERT INTO m_data VALUES
  ('2024-03-03 12:00+00', 1e17), ('2024-03-19 12:00+00', -1e17),
  ('2024-03-07 12:00+00', 3e16), ('2024-03-28 12:00+00', -3e16);
SELECT count(*) AS n, count(DISTINCT date_trunc('day', ts, 'UTC')) AS days FROM m_data;
-- the exact sum differs from float8 summation here
SELECT sum(v::numeric)::float8 <> sum(v) AS float8_sum_is_inexact FROM m_data;

CREATE TEMP TABLE m_all AS
SELECT sketch_agg(v) AS s, sketch_agg(v, 0.001) AS s3,
       percentile_disc(:'qs'::float8[]) WITHIN GROUP (ORDER BY v) AS ex,
       count(v) AS n, sum(v::numeric)::float8 AS total, min(v) AS mn, max(v) AS mx
FROM m_data;

-- per-day sketches, stored
CREATE TEMP TABLE m_daily (day date, s sketch, s3 sketch);
INSERT INTO m_daily
SELECT date_trunc('day', ts, 'UTC')::date, sketch_agg(v), sketch_agg(v, 0.001)
FROM m_data GROUP BY 1;
SELECT count(*) AS days, count(*) FILTER (WHERE num_vals(s) BETWEEN 4000 AND 6000) AS plausible
FROM m_daily;

-- merged = the sketch of all the data: identical text form
SELECT (SELECT sketch_agg(s)::text FROM m_daily) = s::text AS merged_same,
       (SELECT sketch_agg(s3)::text FROM m_daily) = s3::text AS merged_same_0001,
       (SELECT sketch_agg(s)::bytea FROM m_daily) = s::bytea AS merged_same_bytes
FROM m_all;
-- in other orders
SELECT (SELECT sketch_agg(s ORDER BY day DESC)::text FROM m_daily) = s::text AS reversed,
       (SELECT sketch_agg(s ORDER BY md5(day::text))::text FROM m_daily) = s::text AS shuffled,
       (SELECT sketch_agg(s3 ORDER BY md5(day::text) DESC)::text FROM m_daily) = s3::text AS shuffled_0001
FROM m_all;
-- in two levels: days -> ISO weeks -> all, and days -> months -> all
CREATE TEMP TABLE m_weekly AS
SELECT date_trunc('week', day)::date AS week, sketch_agg(s) AS s, sketch_agg(s3) AS s3
FROM m_daily GROUP BY 1;
SELECT count(*) AS weeks FROM m_weekly;
SELECT (SELECT sketch_agg(s ORDER BY week DESC)::text FROM m_weekly) = s::text AS two_levels,
       (SELECT sketch_agg(s3)::text FROM m_weekly) = s3::text AS two_levels_0001,
       (SELECT sketch_agg(w.s)::text FROM m_weekly w
        WHERE w.week < '2024-03-11') =
       (SELECT sketch_agg(v)::text FROM m_data
        WHERE ts < '2024-03-11 00:00+00' AND ts >= '2024-02-26 00:00+00') AS two_weeks
FROM m_all;
-- each weekly sketch equals the sketch of that week's raw data
SELECT count(*) AS weeks,
       bool_and(w.s::text = (SELECT sketch_agg(v)::text FROM m_data
                             WHERE date_trunc('week', ts, 'UTC')::date = w.week)) AS weekly_same
FROM m_weekly w;
-- three levels with uneven fan-in: every 7th day, then the rest
SELECT sketch_agg(x ORDER BY k)::text = (SELECT s::text FROM m_all) AS uneven
FROM (SELECT 1 AS k, sketch_agg(s) AS x FROM m_daily WHERE extract(day FROM day)::int % 7 = 0
      UNION ALL
      SELECT 2, sketch_agg(s) FROM m_daily WHERE extract(day FROM day)::int % 7 <> 0
      UNION ALL
      SELECT 0, (SELECT sketch_agg(s) FROM m_daily WHERE false)) y;

-- exact count, sum, min and max of the merged sketch
SELECT num_vals(x) = n AS count_ok, sum(x) = total AS sum_ok, min_val(x) = mn AS min_ok,
       max_val(x) = mx AS max_ok, mean(x) = (SELECT (sum(v::numeric) / count(v))::float8 FROM m_data) AS mean_ok
FROM (SELECT sketch_agg(s ORDER BY md5(day::text)) AS x FROM m_daily) y, m_all;
SELECT num_vals(x) = n AS count_ok, sum(x) = total AS sum_ok, min_val(x) = mn AS min_ok,
       max_val(x) = mx AS max_ok
FROM (SELECT sketch_agg(s3 ORDER BY week DESC) AS x FROM m_weekly) y, m_all;

-- the merged sketch keeps the guarantee
SELECT bool_and(abs(u.est - u.ex) <= 0.01 * abs(u.ex)) AS within_001,
       bool_and(abs(u.est3 - u.ex) <= 0.001 * abs(u.ex)) AS within_0001,
       bool_and(u.q NOT IN (0, 1) OR (u.est = u.ex AND u.est3 = u.ex)) AS minmax_exact
FROM (SELECT sketch_agg(s) AS x, sketch_agg(s3) AS x3 FROM m_weekly) y, m_all,
     LATERAL unnest(:'qs'::float8[], quantiles(x, :'qs'), quantiles(x3, :'qs'), ex)
       AS u(q, est, est3, ex);

-- merging is associative and commutative pairwise (the combine function
-- used directly, outside an aggregate)
SELECT sketch_combine(sketch_combine(a.s, b.s), c.s)::text
         = sketch_combine(a.s, sketch_combine(b.s, c.s))::text AS associative,
       sketch_combine(a.s, b.s)::text = sketch_combine(b.s, a.s)::text AS commutative,
       sketch_combine(a.s, NULL)::text = a.s::text AS null_right,
       sketch_combine(NULL, a.s)::text = a.s::text AS null_left,
       sketch_combine(NULL, NULL) IS NULL AS both_null
FROM m_daily a, m_daily b, m_daily c
WHERE a.day = '2024-03-01' AND b.day = '2024-03-15' AND c.day = '2024-03-30';
-- calling the combine function outside an aggregate leaves its inputs alone
SELECT s::text = (SELECT sketch_agg(v)::text FROM m_data
                  WHERE ts >= '2024-03-01 00:00+00' AND ts < '2024-03-02 00:00+00') AS input_unchanged
FROM (SELECT a.s, sketch_combine(a.s, a.s) AS doubled FROM m_daily a WHERE a.day = '2024-03-01') y;
-- merging a sketch with itself doubles every count
SELECT num_vals(sketch_combine(s, s)) = 2 * num_vals(s) AS doubled,
       (SELECT array_agg(count ORDER BY lower) FROM buckets(sketch_combine(s, s)))
         = (SELECT array_agg(2 * count ORDER BY lower) FROM buckets(s)) AS buckets_doubled
FROM m_daily WHERE day = '2024-03-09';
-- NULL sketches are ignored by the merge aggregate; no rows give NULL
SELECT sketch_agg(s)::text = (SELECT s::text FROM m_all) AS nulls_ignored
FROM (SELECT s FROM m_daily UNION ALL SELECT NULL) y;
SELECT sketch_agg(s) IS NULL AS empty_null FROM m_daily WHERE false;
SELECT sketch_agg(NULL::sketch) IS NULL AS only_null FROM generate_series(1, 3);

-- merge through the encodings: per-day sketches shipped as text and as
-- bytea merge to the same sketch
SELECT sketch_agg(s::text::sketch)::text = (SELECT s::text FROM m_all) AS via_text,
       sketch_agg(s::bytea::sketch)::text = (SELECT s::text FROM m_all) AS via_bytea
FROM m_daily;

-- collapse is order independent: sketches whose ranges overflow the bucket
-- budget merge to the same sketch as building it from all values at once
CREATE TEMP TABLE m_wide AS
SELECT i % 10 AS part,
       CASE WHEN i % 3 = 0 THEN -1 ELSE 1 END * 10 ^ ((i % 601) - 300)::float8 * (1 + (i % 11) / 16.0) AS v
FROM generate_series(1, 30000) i;
CREATE TEMP TABLE m_wide_parts AS
SELECT part, sketch_agg(v) AS s, sketch_agg(v, 0.0001) AS s4 FROM m_wide GROUP BY part;
SELECT bool_and(collapsed(s) > 0) AS parts_collapsed FROM m_wide_parts;
SELECT (SELECT sketch_agg(s ORDER BY part)::text FROM m_wide_parts)
         = (SELECT sketch_agg(v)::text FROM m_wide) AS collapsed_merge_same,
       (SELECT sketch_agg(s ORDER BY part DESC)::text FROM m_wide_parts)
         = (SELECT sketch_agg(v)::text FROM m_wide) AS collapsed_merge_reversed,
       (SELECT sketch_agg(s4 ORDER BY md5(part::text))::text FROM m_wide_parts)
         = (SELECT sketch_agg(v, 0.0001)::text FROM m_wide) AS collapsed_merge_0001,
       (SELECT sketch_agg(v ORDER BY v)::text FROM m_wide)
         = (SELECT sketch_agg(v ORDER BY v DESC)::text FROM m_wide) AS insertion_order,
       (SELECT sketch_agg(v ORDER BY abs(v))::text FROM m_wide)
         = (SELECT sketch_agg(v ORDER BY -abs(v))::text FROM m_wide) AS magnitude_order;
-- two uncollapsed parts whose union overflows the bucket budget
SELECT (SELECT collapsed(sketch_agg(2 ^ (g / 10.0))) FROM generate_series(0, 400) g) = 0
         AS low_part_uncollapsed,
       (SELECT collapsed(sketch_agg(2 ^ (g / 10.0))) FROM generate_series(200, 600) g) = 0
         AS high_part_uncollapsed,
       collapsed(sketch_agg(s)) > 0 AS merged_collapsed,
       sketch_agg(s ORDER BY k)::text
         = (SELECT sketch_agg(v)::text FROM
              (SELECT 2 ^ (g / 10.0) AS v FROM generate_series(0, 400) g
               UNION ALL SELECT 2 ^ (g / 10.0) FROM generate_series(200, 600) g) u) AS union_same,
       sketch_agg(s ORDER BY k DESC)::text
         = (SELECT sketch_agg(v)::text FROM
              (SELECT 2 ^ (g / 10.0) AS v FROM generate_series(0, 400) g
               UNION ALL SELECT 2 ^ (g / 10.0) FROM generate_series(200, 600) g) u) AS union_same_reversed
FROM (SELECT 1 AS k, sketch_agg(2 ^ (g / 10.0)) AS s FROM generate_series(0, 400) g
      UNION ALL SELECT 2, sketch_agg(2 ^ (g / 10.0)) FROM generate_series(200, 600) g) y;
-- a collapsed part merged with an uncollapsed one of a narrow range
SELECT sketch_agg(s ORDER BY k)::text
         = (SELECT sketch_agg(v)::text FROM (SELECT v FROM m_wide UNION ALL
                                               SELECT g::float8 FROM generate_series(1, 1000) g) u)
         AS mixed_collapse
FROM (SELECT 1 AS k, sketch_agg(g::float8) AS s FROM generate_series(1, 1000) g
      UNION ALL SELECT 2, sketch_agg(v) FROM m_wide) y;
SELECT sketch_agg(s ORDER BY k)::text
         = (SELECT sketch_agg(v)::text FROM (SELECT v FROM m_wide UNION ALL
                                               SELECT g::float8 FROM generate_series(1, 1000) g) u)
         AS mixed_collapse_reversed
FROM (SELECT 2 AS k, sketch_agg(g::float8) AS s FROM generate_series(1, 1000) g
      UNION ALL SELECT 1, sketch_agg(v) FROM m_wide) y;

-- a budget of 16 buckets (alpha 0.1: 4 buckets per octave) makes every
-- merge of parts 4 octaves apart collapse: all 24 merge orders of 4 parts
-- give one sketch, the same as merging single-value sketches in any order
CREATE TEMP TABLE m_b16_values AS
SELECT k, 10 ^ (k * 1.2) * (1 + (g % 13) / 13.0) * CASE WHEN k = 2 THEN -1 ELSE 1 END AS v
FROM generate_series(0, 3) k, generate_series(1, 50) g;
CREATE TEMP TABLE m_b16 AS
SELECT k, replace(sketch_agg(v, 0.1)::text, '"max_buckets":2048', '"max_buckets":16')::sketch AS s
FROM m_b16_values GROUP BY k;
CREATE TEMP TABLE m_b16_single AS
SELECT v, replace(sketch_agg(v, 0.1)::text, '"max_buckets":2048', '"max_buckets":16')::sketch AS s
FROM m_b16_values GROUP BY v;
WITH RECURSIVE perms(p) AS (
  SELECT ARRAY[k] FROM m_b16
  UNION ALL
  SELECT p || k FROM perms, m_b16 WHERE NOT k = ANY (p))
SELECT count(*) AS orders, count(DISTINCT t) AS distinct_results,
       bool_and(t = (SELECT sketch_agg(s ORDER BY v)::text FROM m_b16_single)) AS same_as_singles,
       bool_and(t = (SELECT sketch_agg(s ORDER BY md5(v::text))::text FROM m_b16_single)) AS same_shuffled
FROM (SELECT (SELECT sketch_agg(s ORDER BY array_position(p, k))::text FROM m_b16) AS t
      FROM perms WHERE array_length(p, 1) = 4) z;
SELECT collapsed(s) AS collapsed, num_vals(s) AS n,
       quantile(s, 1) = (SELECT max(v) FROM m_b16_values) AS max_exact,
       abs(quantile(s, 0.9) - e) <= 0.1 * abs(e) AS top_within
FROM (SELECT sketch_agg(s) AS s FROM m_b16) y,
     (SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY v) AS e FROM m_b16_values) z;

-- approx_percentile states carry q: a distributed planner (Citus) ships
-- partial states through the text form and calls the final function with
-- the state alone
CREATE AGGREGATE pg_temp.ap_partial(float8, float8) (
	SFUNC = perfstore.sketch_add_quantile, STYPE = perfstore.sketch);
CREATE AGGREGATE pg_temp.ap_final(perfstore.sketch) (
	SFUNC = perfstore.sketch_combine, STYPE = perfstore.sketch,
	FINALFUNC = perfstore.approx_percentile_final);
CREATE AGGREGATE pg_temp.aps_partial(float8, float8[]) (
	SFUNC = perfstore.sketch_add_quantiles, STYPE = perfstore.sketch);
CREATE AGGREGATE pg_temp.aps_final(perfstore.sketch) (
	SFUNC = perfstore.sketch_combine, STYPE = perfstore.sketch,
	FINALFUNC = perfstore.approx_percentiles_final);
SELECT pg_temp.ap_final(p::text::sketch) = (SELECT approx_percentile(v, 0.95) FROM m_data) AS ap_shipped,
       pg_temp.aps_final(ps::text::sketch) = (SELECT approx_percentiles(v, '{0.5, 0.99}') FROM m_data) AS aps_shipped,
       pg_temp.ap_final(p::bytea::sketch) = (SELECT approx_percentile(v, 0.95) FROM m_data) AS ap_bytea
FROM (SELECT date_trunc('day', ts) AS d, pg_temp.ap_partial(v, 0.95) AS p,
             pg_temp.aps_partial(v, '{0.5, 0.99}') AS ps
      FROM m_data GROUP BY 1) y;
-- the state's text form shows the carried quantile
SELECT pg_temp.ap_partial(x::float8, 0.95)::text AS state FROM generate_series(1, 3) x;

DROP AGGREGATE pg_temp.ap_partial(float8, float8);
DROP AGGREGATE pg_temp.ap_final(perfstore.sketch);
DROP AGGREGATE pg_temp.aps_partial(float8, float8[]);
DROP AGGREGATE pg_temp.aps_final(perfstore.sketch);
DROP TABLE m_data, m_all, m_daily, m_weekly, m_wide, m_wide_parts, m_b16_values, m_b16,
           m_b16_single;
RESET max_parallel_workers_per_gather;
RESET timezone;
