--
-- sketch_basics: the perfstore.sketch type, its encodings and its readers
-- (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;

CREATE TEMP TABLE b_data (g int, v float8);
SELECT setseed(0.42);
INSERT INTO b_data
SELECT 1, exp(3 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
FROM generate_series(1, 20000);
INSERT INTO b_data
SELECT 2, CASE WHEN i % 5 = 0 THEN 0 ELSE (i % 201 - 100) * 1.5 END
FROM generate_series(1, 10000) i;
INSERT INTO b_data VALUES (1, NULL), (2, NULL);

CREATE TEMP TABLE b_sk AS
SELECT g, sketch_agg(v) AS s, sketch_agg(v, 0.001) AS s3 FROM b_data GROUP BY g;

-- the sketch of 1..10, in full
SELECT sketch_agg(x::float8) FROM generate_series(1, 10) x;
SELECT sketch_agg(x::float8)::bytea FROM generate_series(1, 10) x;
-- mixed signs and zeros: negative, zero and positive stores
SELECT sketch_agg(x) FROM (VALUES (-2.5::float8), (0), (0), (3), (-1)) t(x);

-- text round trip is exact, bytea round trip is exact, and they agree
SELECT g,
       s::text::sketch::text = s::text AS text_roundtrip,
       s::bytea::sketch::bytea = s::bytea AS bytea_roundtrip,
       s::bytea::sketch::text = s::text AS bytea_to_text,
       s::text::sketch::bytea = s::bytea AS text_to_bytea,
       s3::text::sketch::text = s3::text AS text_roundtrip_0001,
       s3::bytea::sketch::bytea = s3::bytea AS bytea_roundtrip_0001
FROM b_sk ORDER BY g;
-- a table column survives storage (TOAST included) unchanged
CREATE TEMP TABLE b_store (g int, s sketch);
INSERT INTO b_store SELECT g, s FROM b_sk;
SELECT g, b.s::text = k.s::text AS stored_same
FROM b_store b JOIN b_sk k USING (g) ORDER BY g;
-- whitespace between tokens is accepted and does not change the sketch
SELECT regexp_replace(s::text, '([,:{}\[\]])', E' \\1\n\t ', 'g')::sketch::text = s::text
       AS whitespace_ok
FROM b_sk WHERE g = 2;
-- extreme finite values round-trip too
SELECT s::text::sketch::text = s::text AS text_roundtrip,
       s::bytea::sketch::bytea = s::bytea AS bytea_roundtrip,
       min_val(s) = -1.7976931348623157e308 AS min_exact,
       max_val(s) = 1.7976931348623157e308 AS max_exact,
       num_vals(s) = 6 AS count_ok
FROM (SELECT sketch_agg(x) AS s FROM (VALUES (5e-324::float8), (-5e-324),
      (1.7976931348623157e308), (-1.7976931348623157e308), (2.2250738585072014e-308),
      (1)) t(x)) y;

-- the exact sum: 1000 times the largest double, 1000 times its negation
-- and 1 sum to exactly 1; the partial sums overflow float8 (22003) but are
-- kept exactly, round-trip and merge
CREATE TEMP TABLE b_big AS
SELECT sketch_agg(1.7976931348623157e308::float8) AS p,
       sketch_agg(-1.7976931348623157e308::float8) AS n
FROM generate_series(1, 1000);
SELECT sum(sketch_combine(sketch_combine(p, n), (SELECT sketch_agg(1::float8)))) AS exact_sum,
       mean(sketch_combine(sketch_combine(p, n), (SELECT sketch_agg(1::float8)))) = 1.0 / 2001 AS exact_mean,
       p::text::sketch::text = p::text AS text_roundtrip,
       p::bytea::sketch::bytea = p::bytea AS bytea_roundtrip
FROM b_big;
SELECT sum(p) FROM b_big;
SELECT sum(sketch_agg(x)) AS cancel
FROM (VALUES (1e300::float8), (1), (-1e300), (1e-300), (-1)) v(x);

-- empty input: NULL; NULL values are ignored
SELECT sketch_agg(v) IS NULL AS empty_is_null FROM b_data WHERE false;
SELECT sketch_agg(v) IS NULL AS all_null_is_null FROM b_data WHERE v IS NULL;
SELECT sketch_agg(v, 0.001) IS NULL AS all_null_alpha_is_null FROM b_data WHERE v IS NULL;
SELECT approx_percentile(v, 0.5) IS NULL AS ap_empty,
       approx_percentiles(v, '{0.5}') IS NULL AS aps_empty
FROM b_data WHERE v IS NULL;
SELECT (SELECT sketch_agg(v)::text FROM b_data WHERE g = 1)
     = (SELECT sketch_agg(v)::text FROM b_data WHERE g = 1 AND v IS NOT NULL)
       AS nulls_ignored;

-- exact count, sum, mean, min, max; alpha; collapsed
SELECT k.g,
       num_vals(k.s) = (SELECT count(v) FROM b_data d WHERE d.g = k.g) AS count_ok,
       sum(k.s) = (SELECT sum(v::numeric)::float8 FROM b_data d WHERE d.g = k.g) AS sum_ok,
       mean(k.s) = (SELECT (sum(v::numeric) / count(v))::float8 FROM b_data d WHERE d.g = k.g) AS mean_ok,
       min_val(k.s) = (SELECT min(v) FROM b_data d WHERE d.g = k.g) AS min_ok,
       max_val(k.s) = (SELECT max(v) FROM b_data d WHERE d.g = k.g) AS max_ok,
       alpha(k.s) AS alpha, alpha(k.s3) AS alpha3,
       collapsed(k.s) AS collapsed, collapsed(k.s3) AS collapsed3
FROM b_sk k ORDER BY k.g;
SELECT num_vals(s), sum(s), mean(s), min_val(s), max_val(s), alpha(s), collapsed(s)
FROM (SELECT sketch_agg(x::float8, 0.05) AS s FROM generate_series(-3, 7) x) y;

-- buckets(): ascending, lower <= upper, counts sum to count, and every
-- value lies in a bucket that holds it
SELECT k.g,
       (SELECT sum(count) FROM buckets(k.s)) = num_vals(k.s) AS counts_sum,
       (SELECT bool_and(lower <= upper AND count > 0) FROM buckets(k.s)) AS lower_le_upper,
       (SELECT bool_and(lower >= prev_upper) FROM
          (SELECT lower, lag(upper) OVER (ORDER BY n) AS prev_upper
           FROM buckets(k.s) WITH ORDINALITY AS b(lower, upper, count, n)) x
        WHERE prev_upper IS NOT NULL) AS ascending,
       (SELECT sum(count) FROM buckets(k.s3)) = num_vals(k.s3) AS counts_sum3
FROM b_sk k ORDER BY k.g;
-- the mixed-sign sketch: negative buckets first, then zero, then positive
SELECT lower, upper, count
FROM buckets((SELECT sketch_agg(x) FROM (VALUES (-2.5::float8), (0), (0), (3), (-1), (-1)) t(x)));
SELECT sign(lower) AS sign, sum(count) AS n
FROM buckets((SELECT s FROM b_sk WHERE g = 2)) GROUP BY 1 ORDER BY 1;
-- the per-bucket counts match the data: every value is in [lower, upper]
-- of some bucket and the number of values in each bucket is exact
SELECT bool_and(n = count) AS bucket_counts_exact
FROM (SELECT b.lower, b.upper, b.count,
             (SELECT count(*) FROM b_data d
              WHERE d.g = 1 AND d.v >= b.lower AND d.v < b.upper) AS n
      FROM buckets((SELECT s FROM b_sk WHERE g = 1)) b) x;

-- quantiles() gives the same numbers as quantile(), in order
SELECT k.g,
       quantiles(k.s, '{0, 0.1, 0.5, 0.9, 0.99, 1}')
         = ARRAY[quantile(k.s, 0), quantile(k.s, 0.1), quantile(k.s, 0.5),
                 quantile(k.s, 0.9), quantile(k.s, 0.99), quantile(k.s, 1)] AS same,
       quantile(k.s, 0) = min_val(k.s) AS q0_is_min,
       quantile(k.s, 1) = max_val(k.s) AS q1_is_max,
       array_length(quantiles(k.s, '{}'), 1) IS NULL AS empty_array
FROM b_sk k ORDER BY k.g;
SELECT quantiles(sketch_agg(x::float8), '{0, 0.25, 0.5, 0.75, 1}')
FROM generate_series(1, 100) x;
-- quantiles are monotone in q and clamped to [min, max]
SELECT k.g,
       bool_and(quantile(k.s, q / 1000.0) <= quantile(k.s, (q + 1) / 1000.0)) AS monotone,
       bool_and(quantile(k.s, q / 1000.0) BETWEEN min_val(k.s) AND max_val(k.s)) AS clamped
FROM b_sk k, generate_series(0, 999) q GROUP BY k.g ORDER BY k.g;

-- rank(): monotone, 0 below min, 1 at and above max, close to the exact
-- fraction (within the bucket of x)
SELECT k.g,
       rank(k.s, min_val(k.s) - 1) AS below_min,
       rank(k.s, max_val(k.s)) AS at_max,
       rank(k.s, max_val(k.s) + 1) AS above_max,
       rank(k.s, 1e300) AS huge
FROM b_sk k ORDER BY k.g;
SELECT k.g,
       bool_and(rank(k.s, x) <= rank(k.s, x + 0.5)) AS monotone,
       bool_and(rank(k.s, x) BETWEEN 0 AND 1) AS in_range
FROM b_sk k, generate_series(-200, 400) x GROUP BY k.g ORDER BY k.g;
-- rank at a value lies between the exact fraction at x/(1+a) and x*(1+a)
SELECT bool_and(r >= lo - 1e-12 AND r <= hi + 1e-12) AS rank_close
FROM (SELECT rank(k.s, x) AS r,
             (SELECT count(*) FILTER (WHERE v <= x / 1.0201)::float8 / count(v) FROM b_data WHERE g = 1) AS lo,
             (SELECT count(*) FILTER (WHERE v <= x * 1.0201)::float8 / count(v) FROM b_data WHERE g = 1) AS hi
      FROM b_sk k, generate_series(2, 200, 7) x WHERE k.g = 1) y;
-- rank of the constant 1.0 sketch
SELECT rank(s, 0.999) AS r_below, rank(s, 1.0) AS r_at
FROM (SELECT sketch_agg(1.0::float8) AS s FROM generate_series(1, 100)) y;

-- a sketch of the constant 1.0 answers exactly 1.0 everywhere
SELECT quantiles(s, '{0, 0.001, 0.5, 0.99, 1}') AS q, mean(s), sum(s),
       (SELECT array_agg(lower) FROM buckets(s)) IS NOT NULL AS has_bucket
FROM (SELECT sketch_agg(1.0::float8) AS s FROM generate_series(1, 1000)) y;
SELECT approx_percentile(1.0::float8, 0.37) AS ap,
       approx_percentiles(1.0::float8, '{0.01, 0.5, 0.99}') AS aps
FROM generate_series(1, 1000);
SELECT quantiles(s, '{0, 0.5, 1}') AS q
FROM (SELECT sketch_agg(-7.25::float8, 0.1) AS s FROM generate_series(1, 10)) y;

-- mixed negative/zero/positive: exact rank order across the stores
SELECT quantiles(s, '{0, 0.2, 0.4, 0.5, 0.6, 0.8, 1}') AS q
FROM (SELECT sketch_agg(x) AS s
      FROM (VALUES (-100::float8), (-10), (-1), (0), (0), (0), (1), (10), (100), (1000)) t(x)) y;
SELECT bool_and(abs(quantile(s, q) - e) <= 0.01 * abs(e)) AS mixed_within
FROM (SELECT sketch_agg(v) AS s FROM b_data WHERE g = 2) y,
     LATERAL (SELECT q, percentile_disc(q) WITHIN GROUP (ORDER BY v) AS e
              FROM b_data, unnest('{0.01,0.1,0.2,0.3,0.4,0.45,0.5,0.55,0.6,0.9,0.99}'::float8[]) q
              WHERE g = 2 GROUP BY q) z;

-- collapse: a dynamic range of 1e-300 to 1e6 at alpha 0.0001 exceeds the
-- bucket budget; the collapse is counted and visible, and every quantile
-- above the collapsed values (0.5% of them) keeps the guarantee
CREATE TEMP TABLE b_wide AS
SELECT i, CASE WHEN i % 200 = 0 THEN 1e-300 * (1 + (i % 7) / 10.0)
               ELSE 10 ^ ((i % 601) / 100.0) END::float8 AS v
FROM generate_series(1, 60000) i;
CREATE TEMP TABLE b_wide_sk AS
SELECT sketch_agg(v, 0.0001) AS s, sketch_agg(-v, 0.0001) AS n FROM b_wide;
SELECT collapsed(s) = 300 AS collapsed_counted,
       collapsed(n) = 300 AS collapsed_counted_neg,
       num_vals(s) = 60000 AS count_ok,
       quantile(s, 0) = (SELECT min(v) FROM b_wide) AS q0_exact,
       quantile(s, 1) = (SELECT max(v) FROM b_wide) AS q1_exact,
       quantile(n, 0) = (SELECT min(-v) FROM b_wide) AS q0_exact_neg,
       quantile(n, 1) = (SELECT max(-v) FROM b_wide) AS q1_exact_neg
FROM b_wide_sk;
SELECT bool_and(abs(quantile(s, q) - e) <= 0.0001 * abs(e)) AS quantiles_within,
       bool_and(abs(quantile(n, 1 - q) - en) <= 0.0001 * abs(en)) AS quantiles_within_neg
FROM b_wide_sk,
     LATERAL (SELECT q, percentile_disc(q) WITHIN GROUP (ORDER BY v) AS e,
                     percentile_disc(1 - q) WITHIN GROUP (ORDER BY -v) AS en
              FROM b_wide, unnest('{0.01,0.1,0.5,0.9,0.95,0.99,0.999}'::float8[]) q
              GROUP BY q) z;
-- the collapsed values answer with the lowest kept bucket, clamped
SELECT quantile(s, 0.001) <= quantile(s, 0.01) AS ordered,
       quantile(s, 0.001) >= min_val(s) AS clamped,
       quantile(s, 0.001) > 1e-300 AS not_exact
FROM b_wide_sk;
-- buckets() shows the collapsed values as one bucket ending at the floor
SELECT count AS collapsed_bucket
FROM buckets((SELECT s FROM b_wide_sk)) ORDER BY lower LIMIT 1;
-- collapsed sketches round-trip exactly too
SELECT s::text::sketch::text = s::text AS text_roundtrip,
       s::bytea::sketch::bytea = s::bytea AS bytea_roundtrip,
       n::text::sketch::text = n::text AS text_roundtrip_neg,
       n::bytea::sketch::bytea = n::bytea AS bytea_roundtrip_neg,
       (SELECT sum(count) FROM buckets(s)) = num_vals(s) AS buckets_sum,
       (SELECT sum(count) FROM buckets(n)) = num_vals(n) AS buckets_sum_neg
FROM b_wide_sk;
-- at the default alpha, 1e-300 .. 1e300 collapses all but the top 2^58
SELECT collapsed(s) > 0 AS collapsed,
       abs(quantile(s, 0.999) - 1e300) <= 0.01 * 1e300 AS top_within
FROM (SELECT sketch_agg(10 ^ (i - 300)::float8) AS s
      FROM generate_series(0, 600) i, generate_series(1, 2)) y;

-- as window aggregates: running and moving frames (the state is updated
-- in place; every row's result is still its own frame's sketch)
CREATE TEMP TABLE b_win AS
SELECT i, exp((i * 7919 % 1000) / 100.0) AS v FROM generate_series(1, 2000) i;
SELECT bool_and(num_vals(s) = i) AS running_count,
       bool_and(s::text = (SELECT sketch_agg(v)::text FROM b_win w WHERE w.i <= x.i))
         FILTER (WHERE i % 97 = 0) AS running_same,
       bool_and(ap = (SELECT approx_percentile(v, 0.9) FROM b_win w WHERE w.i <= x.i))
         FILTER (WHERE i % 97 = 0) AS running_ap
FROM (SELECT i, sketch_agg(v) OVER (ORDER BY i) AS s,
             approx_percentile(v, 0.9) OVER (ORDER BY i) AS ap FROM b_win) x;
SELECT bool_and(num_vals(s) = least(i, 3)) AS moving_count,
       bool_and(s::text = (SELECT sketch_agg(v)::text FROM b_win w WHERE w.i BETWEEN x.i - 2 AND x.i))
         FILTER (WHERE i % 97 = 0) AS moving_same
FROM (SELECT i, sketch_agg(v) OVER (ORDER BY i ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS s
      FROM b_win) x;
-- two identical aggregates in one query share their state
SELECT sketch_agg(v)::text = sketch_agg(v)::text AS shared_same,
       num_vals(sketch_agg(v)) = 2000 AS shared_count
FROM b_win;

-- the packed form is compact: 1M lognormal latencies under 2 KB, and a
-- distribution spanning 3 orders of magnitude under 1 KB
SELECT length(sketch_agg(exp(4 + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::bytea) < 2048
         AS lognormal_1m_under_2kb,
       length(sketch_agg(10 ^ (3 * random()))::bytea) < 1024 AS three_decades_under_1kb
FROM generate_series(1, 1000000);
