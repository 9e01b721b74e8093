--
-- sketch_accuracy: every quantile estimate is within alpha (relative) of
-- the exact percentile_disc, quantile 0 and 1 are the exact min and max
-- (docs/sketch.md, "Accuracy")
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET search_path = perfstore, public;

\set qs '{0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1}'

-- 100,000 seeded values per data set, drawn by inverse CDF transforms;
-- z() is a standard normal deviate (Box-Muller)
CREATE FUNCTION pg_temp.z() RETURNS float8 LANGUAGE sql VOLATILE
AS $$ SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) $$;
CREATE TEMP TABLE acc (ds text, v float8);
SELECT setseed(0.25);
INSERT INTO acc SELECT 'uniform', 1000 * random() FROM generate_series(1, 100000);
INSERT INTO acc SELECT 'lognormal', exp(3 + 1.2 * pg_temp.z()) FROM generate_series(1, 100000);
-- Pareto, shape 1.5, scale 1: x = (1 - u)^(-1/1.5)
INSERT INTO acc SELECT 'pareto', (1 - random()) ^ (-1 / 1.5) FROM generate_series(1, 100000);
-- two lognormal modes around 5 and 800
INSERT INTO acc
SELECT 'bimodal', CASE WHEN random() < 0.7 THEN exp(ln(5) + 0.3 * pg_temp.z())
                       ELSE exp(ln(800) + 0.2 * pg_temp.z()) END
FROM generate_series(1, 100000);
INSERT INTO acc SELECT 'constant', 42.125 FROM generate_series(1, 100000);
INSERT INTO acc SELECT 'negative', -exp(2 + pg_temp.z()) FROM generate_series(1, 100000);
-- normal around 0 with 20% exact zeros
INSERT INTO acc
SELECT 'mixed', CASE WHEN random() < 0.2 THEN 0 ELSE 100 * pg_temp.z() END
FROM generate_series(1, 100000);
INSERT INTO acc SELECT 'tiny', 1e-9 * exp(0.5 * pg_temp.z()) FROM generate_series(1, 100000);
INSERT INTO acc SELECT 'huge', 1e12 * exp(0.5 * pg_temp.z()) FROM generate_series(1, 100000);
-- the data sets are what they claim to be
SELECT ds, count(*) AS n, min(v) < 0 AS has_negative, bool_or(v = 0) AS has_zero,
       max(v) > 0 AS has_positive, count(DISTINCT v) > 1 AS varies
FROM acc GROUP BY ds ORDER BY ds COLLATE "C";

-- the exact answers
CREATE TEMP TABLE acc_exact AS
SELECT ds, percentile_disc(:'qs'::float8[]) WITHIN GROUP (ORDER BY v) AS ex,
       min(v) AS mn, max(v) AS mx
FROM acc GROUP BY ds;

-- the estimates: sketches at two alphas, approx_percentiles, and one
-- approx_percentile per quantile (default alpha 0.01)
CREATE TEMP TABLE acc_est AS
SELECT ds,
       sketch_agg(v, 0.01) AS s2,
       sketch_agg(v, 0.001) AS s3,
       sketch_agg(v) AS sd,
       approx_percentiles(v, :'qs') AS aps,
       ARRAY[approx_percentile(v, 0), approx_percentile(v, 0.01),
             approx_percentile(v, 0.25), approx_percentile(v, 0.5),
             approx_percentile(v, 0.9), approx_percentile(v, 0.95),
             approx_percentile(v, 0.99), approx_percentile(v, 0.999),
             approx_percentile(v, 1)] AS ap
FROM acc GROUP BY ds;

-- one row per (data set, alpha):
--   sketch_ok:   quantile(sketch_agg(v, alpha), q) within alpha of exact
--   array_ok:    quantiles(sketch, qs) agrees with quantile() one by one
--   ap_ok, aps_ok: approx_percentile / approx_percentiles within alpha
--                  (they use the default alpha 0.01: NULL for 0.001)
--   minmax_exact: quantile 0 and 1 are min and max exactly (all readers)
--   no_collapse: the guarantee applies (no bucket collapsed)
SELECT e.ds, a.alpha,
       bool_and(abs(quantile(a.s, u.q) - u.ex) <= a.alpha * abs(u.ex)) AS sketch_ok,
       bool_and((quantiles(a.s, :'qs'))[u.i] = quantile(a.s, u.q)) AS array_ok,
       bool_and(abs(u.ap - u.ex) <= a.alpha * abs(u.ex)) FILTER (WHERE a.alpha = 0.01) AS ap_ok,
       bool_and(abs(u.aps - u.ex) <= a.alpha * abs(u.ex)) FILTER (WHERE a.alpha = 0.01) AS aps_ok,
       bool_and(quantile(a.s, 0) = e.mn AND quantile(a.s, 1) = e.mx
                AND k.ap[1] = e.mn AND k.ap[9] = e.mx
                AND k.aps[1] = e.mn AND k.aps[9] = e.mx) AS minmax_exact,
       bool_and(collapsed(a.s) = 0) AS no_collapse
FROM acc_exact e
JOIN acc_est k USING (ds)
CROSS JOIN LATERAL (VALUES (0.01::float8, k.s2), (0.001::float8, k.s3)) a(alpha, s)
CROSS JOIN LATERAL unnest(:'qs'::float8[], e.ex, k.ap, k.aps)
     WITH ORDINALITY AS u(q, ex, ap, aps, i)
GROUP BY e.ds, a.alpha
ORDER BY e.ds COLLATE "C", a.alpha DESC;

-- the one-shot aggregates answer exactly what the default-alpha sketch
-- answers, and the default alpha is 0.01
SELECT ds,
       k.ap = quantiles(k.sd, :'qs') AS ap_same_as_sketch,
       k.aps = quantiles(k.sd, :'qs') AS aps_same_as_sketch,
       k.sd::text = k.s2::text AS default_is_001,
       alpha(k.sd) AS alpha
FROM acc_est k ORDER BY ds COLLATE "C";

-- the finer alpha is really finer: its worst relative error is below 0.001
-- and the coarse one's is not (the data sets are varied enough for that)
SELECT e.ds,
       max(abs(quantile(k.s3, u.q) - u.ex) / abs(u.ex)) < 0.001 AS fine_below_0001,
       max(abs(quantile(k.s2, u.q) - u.ex) / abs(u.ex)) > 0.001 AS coarse_above_0001
FROM acc_exact e JOIN acc_est k USING (ds)
CROSS JOIN LATERAL unnest(:'qs'::float8[], e.ex) AS u(q, ex)
WHERE u.ex <> 0 AND e.ds <> 'constant'
GROUP BY e.ds ORDER BY e.ds COLLATE "C";

-- a constant data set is answered exactly, at every quantile and alpha
SELECT quantiles(s2, :'qs') = ex AS exact_001,
       quantiles(s3, :'qs') = ex AS exact_0001,
       ap = ex AS ap_exact, aps = ex AS aps_exact,
       quantile(s2, 0.5) AS median
FROM acc_exact JOIN acc_est USING (ds) WHERE ds = 'constant';

-- zeros are answered as exactly 0 (a relative error bound of 0)
SELECT quantile(s2, 0.5) = 0 AS s2_zero, quantile(s3, 0.5) = 0 AS s3_zero,
       ap[4] = 0 AS ap_zero, aps[4] = 0 AS aps_zero,
       (SELECT count(*) FROM acc WHERE ds = 'mixed' AND v = 0)
         = (SELECT count FROM buckets(s2) WHERE lower = 0 AND upper = 0) AS zero_count_exact
FROM acc_est WHERE ds = 'mixed';

-- a dense sweep of quantiles over two data sets, both alphas
SELECT e.ds, a.alpha,
       bool_and(abs(quantile(a.s, q) - x) <= a.alpha * abs(x)) AS sweep_ok
FROM (SELECT ds, unnest(percentile_disc(qq) WITHIN GROUP (ORDER BY v)) AS x,
             unnest(qq) AS q
      FROM acc, (SELECT array_agg(i / 200.0) AS qq FROM generate_series(0, 200) i) g
      WHERE ds IN ('lognormal', 'mixed') GROUP BY ds, qq) e
JOIN acc_est k USING (ds)
CROSS JOIN LATERAL (VALUES (0.01::float8, k.s2), (0.001::float8, k.s3)) a(alpha, s)
GROUP BY e.ds, a.alpha ORDER BY e.ds COLLATE "C", a.alpha DESC;

-- other alphas at the edges of the allowed range
SELECT a.alpha,
       bool_and(abs(quantile(s, u.q) - u.ex) <= a.alpha * abs(u.ex)) AS within,
       bool_and(collapsed(s) = 0) AS no_collapse
FROM (VALUES (0.0001::float8), (0.1), (0.05)) a(alpha)
CROSS JOIN LATERAL (SELECT sketch_agg(v, a.alpha) AS s FROM acc WHERE ds = 'lognormal') k
CROSS JOIN LATERAL (SELECT unnest(:'qs'::float8[]) AS q, unnest(ex) AS ex
                    FROM acc_exact WHERE ds = 'lognormal') u
GROUP BY a.alpha ORDER BY a.alpha;

DROP TABLE acc, acc_exact, acc_est;
