--
-- sketch_floor: collapsing with a rising floor.  Values grow steadily over
-- many powers of two, so once they span more than max_buckets the collapse
-- floor moves on almost every row.  The sketch must not depend on the order
-- of the rows or on merging, and the top must keep the guarantee.
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET search_path = perfstore, public;
SET max_parallel_workers_per_gather = 0;

CREATE TEMP TABLE floor_rows AS
	SELECT i, i % 4 AS g,
		   CASE WHEN i % 9 = 0 THEN -1 ELSE 1 END * exp(i / 400.0::float8) AS v
	FROM generate_series(1, 40000) AS i;

-- rows in ascending order within each group (the floor rises row by row)
CREATE TEMP TABLE floor_up AS
	SELECT g, sketch_agg(v, 0.0001 ORDER BY i) AS s FROM floor_rows GROUP BY g;
-- the same rows largest first (the floor is placed once)
CREATE TEMP TABLE floor_down AS
	SELECT g, sketch_agg(v, 0.0001 ORDER BY i DESC) AS s FROM floor_rows GROUP BY g;
-- the same rows in ten slices, merged
CREATE TEMP TABLE floor_merged AS
	SELECT g, sketch_agg(s ORDER BY slice) AS s
	FROM (SELECT g, i % 10 AS slice, sketch_agg(v, 0.0001 ORDER BY i) AS s
		  FROM floor_rows GROUP BY g, i % 10) AS parts
	GROUP BY g;

SELECT u.g, num_vals(u.s) AS n, collapsed(u.s) > 0 AS collapsed,
	   (SELECT sum(b.count) FROM buckets(u.s) AS b) = num_vals(u.s) AS adds_up,
	   u.s::text = d.s::text AS same_as_descending,
	   u.s::text = m.s::text AS same_as_merged
FROM floor_up AS u JOIN floor_down AS d USING (g) JOIN floor_merged AS m USING (g)
ORDER BY g;

SELECT g, collapsed(s) AS collapsed, num_vals(s) AS count FROM floor_up ORDER BY g;

-- the top of the distribution keeps the guarantee
SELECT u.g,
	   abs(quantile(u.s, q) - e.e) <= 0.0001 * abs(e.e) AS within_alpha
FROM floor_up AS u
	 CROSS JOIN (VALUES (0.99::float8), (0.999), (1)) AS qs(q)
	 JOIN LATERAL (SELECT percentile_disc(qs.q) WITHIN GROUP (ORDER BY v) AS e
				   FROM floor_rows AS r WHERE r.g = u.g) AS e ON true
ORDER BY u.g, q;

-- approx_percentile (alpha 0.01, which collapses too) in row order agrees
-- with the sketch of the rows largest first
SELECT g, approx_percentile(v, 0.999 ORDER BY i) =
		  quantile(sketch_agg(v ORDER BY i DESC), 0.999) AS same,
	   collapsed(sketch_agg(v ORDER BY i)) > 0 AS collapsed
FROM floor_rows GROUP BY g ORDER BY g;
