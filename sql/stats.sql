--
-- stats: the perfstore.stats type and the stats_agg aggregates (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;

-- relative closeness: |a - b| <= tol * max(|a|, |b|)
CREATE FUNCTION pg_temp.close(a float8, b float8, tol float8 DEFAULT 1e-12)
RETURNS bool LANGUAGE sql IMMUTABLE
AS $$ SELECT abs(a - b) <= tol * greatest(abs(a), abs(b)) $$;
CREATE FUNCTION pg_temp.close(a numeric, b numeric, tol numeric DEFAULT 1e-12)
RETURNS bool LANGUAGE sql IMMUTABLE
AS $$ SELECT abs(a - b) <= tol * greatest(abs(a), abs(b)) $$;
-- run a statement, return its SQLSTATE and error detail ('ok' when it works)
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
	state text;
	detail text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
	RETURN state || ': ' || detail;
END
$$;

--
-- Basic values, against PostgreSQL's own aggregates
--
CREATE TEMP TABLE stats_small (g int, x float8);
INSERT INTO stats_small
	SELECT i % 3, ((i * 37) % 101) / 4.0 - 10 FROM generate_series(1, 1000) i;
INSERT INTO stats_small VALUES (0, NULL), (1, NULL), (2, NULL);

SELECT perfstore.stats_agg(x) FROM generate_series(1, 3) x;
SELECT perfstore.num_vals(s), perfstore.sum(s), perfstore.mean(s),
	   perfstore.var_pop(s), perfstore.var_samp(s), perfstore.variance(s),
	   perfstore.stddev_pop(s), perfstore.stddev_samp(s), perfstore.stddev(s),
	   perfstore.min_val(s), perfstore.max_val(s)
FROM (SELECT perfstore.stats_agg(x) AS s FROM stats_small) sub;

SELECT g,
	   perfstore.num_vals(s) = n AS count,
	   pg_temp.close(perfstore.sum(s), sum) AS sum,
	   pg_temp.close(perfstore.mean(s), avg) AS mean,
	   pg_temp.close(perfstore.var_pop(s), var_pop) AS var_pop,
	   pg_temp.close(perfstore.var_samp(s), var_samp) AS var_samp,
	   pg_temp.close(perfstore.variance(s), variance) AS variance,
	   pg_temp.close(perfstore.stddev_pop(s), stddev_pop) AS stddev_pop,
	   pg_temp.close(perfstore.stddev_samp(s), stddev_samp) AS stddev_samp,
	   pg_temp.close(perfstore.stddev(s), stddev) AS stddev,
	   perfstore.min_val(s) = min AS min,
	   perfstore.max_val(s) = max AS max
FROM (SELECT g, perfstore.stats_agg(x) AS s, count(x) AS n, sum(x), avg(x),
			 var_pop(x), var_samp(x), variance(x), stddev_pop(x),
			 stddev_samp(x), stddev(x), min(x), max(x)
	  FROM stats_small GROUP BY g) sub
ORDER BY g;

-- no rows, only NULLs, one value, the empty value
SELECT perfstore.stats_agg(x) IS NULL AS t FROM stats_small WHERE false;
SELECT perfstore.stats_agg(x) IS NULL AS t FROM stats_small WHERE x IS NULL;
SELECT s, perfstore.num_vals(s), perfstore.var_pop(s), perfstore.var_samp(s),
	   perfstore.stddev_pop(s), perfstore.stddev_samp(s), perfstore.mean(s)
FROM (SELECT perfstore.stats_agg(x) AS s FROM (VALUES (NULL), (-2.5), (NULL)) v(x)) sub;
SELECT perfstore.num_vals(s), perfstore.sum(s), perfstore.mean(s),
	   perfstore.var_pop(s), perfstore.min_val(s), perfstore.max_val(s)
FROM (SELECT '(count:0,sum:0,sumc:0,m2:0,min:0,max:0)'::perfstore.stats AS s) sub;
-- integer and numeric input through the implicit casts to float8
SELECT perfstore.stats_agg(i) FROM generate_series(1, 4) i;
SELECT perfstore.stats_agg(i::numeric / 4) FROM generate_series(1, 4) i;

-- as window functions: running and sliding frames agree with avg and
-- stddev_samp, and a running rollup of states counts up
SELECT bool_and(pg_temp.close(m, a)) AS running_mean,
	   bool_and(d IS NOT DISTINCT FROM e OR pg_temp.close(d, e)) AS running_stddev,
	   bool_and(pg_temp.close(m3, a3)) AS sliding_mean
FROM (SELECT perfstore.mean(perfstore.stats_agg(x) OVER w) AS m, avg(x) OVER w AS a,
			 perfstore.stddev(perfstore.stats_agg(x) OVER w) AS d, stddev_samp(x) OVER w AS e,
			 perfstore.mean(perfstore.stats_agg(x) OVER w3) AS m3, avg(x) OVER w3 AS a3
	  FROM stats_small WHERE x IS NOT NULL
	  WINDOW w AS (ORDER BY x, g ROWS UNBOUNDED PRECEDING),
			 w3 AS (ORDER BY x, g ROWS 2 PRECEDING)) sub;
SELECT g, perfstore.num_vals(perfstore.stats_agg(s) OVER (ORDER BY g))
FROM (SELECT g, perfstore.stats_agg(x) AS s FROM stats_small GROUP BY g
	  UNION ALL SELECT 3, NULL) sub
ORDER BY g;

--
-- Stability: 1e9 plus small noise.  The values 1e9 + k/8 are exact in
-- float8, so the numeric column holds exactly the same data and its
-- aggregates are the exact answer.
--
CREATE TEMP TABLE stats_offset AS
	SELECT 1e9 + ((i * 7919) % 100 - 50) / 8.0 AS xn
	FROM generate_series(1, 10000) i;
SELECT count(*) = count(*) FILTER (WHERE xn::float8::numeric = xn) AS exact_in_float8
FROM stats_offset;
SELECT pg_temp.close(perfstore.mean(s)::numeric, exact_mean) AS mean_1e_12,
	   pg_temp.close(perfstore.sum(s)::numeric, exact_sum) AS sum_1e_12,
	   pg_temp.close(perfstore.stddev(s)::numeric, exact_stddev) AS stddev_1e_12,
	   pg_temp.close(perfstore.stddev_pop(s)::numeric, exact_stddev_pop) AS stddev_pop_1e_12,
	   pg_temp.close(perfstore.variance(s)::numeric, exact_var) AS variance_1e_12,
	   -- the textbook one-pass formula, (sum(x^2) - sum(x)^2 / n) / (n - 1)
	   NOT pg_temp.close(naive_var::numeric, exact_var, 1e-6) AS naive_off_by_1e_6
FROM (SELECT perfstore.stats_agg(xn::float8) AS s,
			 (sum(xn::float8 * xn::float8) - sum(xn::float8) ^ 2 / count(*))
				/ (count(*) - 1) AS naive_var,
			 avg(xn) AS exact_mean, sum(xn) AS exact_sum,
			 stddev_samp(xn) AS exact_stddev, stddev_pop(xn) AS exact_stddev_pop,
			 var_samp(xn) AS exact_var
	  FROM stats_offset) sub;
-- the same through a merge of 7 partial states
SELECT pg_temp.close(perfstore.mean(s)::numeric, exact_mean) AS mean_1e_12,
	   pg_temp.close(perfstore.stddev(s)::numeric, exact_stddev) AS stddev_1e_12
FROM (SELECT perfstore.stats_agg(p) AS s FROM
		(SELECT perfstore.stats_agg(xn::float8) AS p
		 FROM (SELECT xn, row_number() OVER () AS r FROM stats_offset) n
		 GROUP BY r % 7) parts) merged,
	 (SELECT avg(xn) AS exact_mean, stddev_samp(xn) AS exact_stddev FROM stats_offset) exact;

--
-- Merging
--
CREATE TEMP TABLE stats_parts AS
	SELECT g, perfstore.stats_agg(x) AS s FROM stats_small GROUP BY g;
SELECT perfstore.num_vals(m) = perfstore.num_vals(a) AS count,
	   pg_temp.close(perfstore.sum(m), perfstore.sum(a)) AS sum,
	   pg_temp.close(perfstore.mean(m), perfstore.mean(a)) AS mean,
	   pg_temp.close(perfstore.var_pop(m), perfstore.var_pop(a)) AS var_pop,
	   pg_temp.close(perfstore.stddev(m), perfstore.stddev(a)) AS stddev,
	   perfstore.min_val(m) = perfstore.min_val(a) AS min,
	   perfstore.max_val(m) = perfstore.max_val(a) AS max
FROM (SELECT perfstore.stats_agg(s) AS m FROM stats_parts) merged,
	 (SELECT perfstore.stats_agg(x) AS a FROM stats_small) direct;
-- NULL and empty states are ignored; merging with text round-tripped
-- states (as Citus ships them) gives the same bits
SELECT perfstore.stats_agg(s)::text = (SELECT perfstore.stats_agg(s)::text FROM stats_parts) AS t
FROM (SELECT s FROM stats_parts UNION ALL SELECT NULL
	  UNION ALL SELECT '(count:0,sum:0,sumc:0,m2:0,min:0,max:0)') sub;
SELECT perfstore.stats_agg(s::text::perfstore.stats)::text = perfstore.stats_agg(s)::text AS t
FROM stats_parts;
SELECT perfstore.stats_agg(s) IS NULL AS t FROM (VALUES (NULL::perfstore.stats)) v(s);
-- the combine function is commutative to the bit, and NULL-tolerant
SELECT perfstore.stats_combine(a.s, b.s)::text = perfstore.stats_combine(b.s, a.s)::text AS t
FROM stats_parts a, stats_parts b WHERE a.g = 0 AND b.g = 1;
SELECT perfstore.stats_combine(NULL, s)::text = s::text AS left_null,
	   perfstore.stats_combine(s, NULL)::text = s::text AS right_null,
	   perfstore.stats_combine(NULL, NULL) IS NULL AS both_null
FROM stats_parts WHERE g = 2;
-- outside an aggregate, the functions leave their inputs alone
WITH c AS MATERIALIZED (SELECT perfstore.stats_agg(x) AS s FROM generate_series(1, 3) x)
SELECT perfstore.stats_add(s, 100) AS added, s AS unchanged,
	   perfstore.stats_combine(s, s) AS doubled, s AS still_unchanged,
	   perfstore.stats_add(s, NULL) AS null_added
FROM c;

-- parallel plans: partial aggregation and combine in workers
CREATE TABLE stats_big AS
	SELECT i, i % 5 AS g, (1e6 + ((i * 7919) % 100003) / 16.0)::float8 AS x
	FROM generate_series(1, 100000) i;
ANALYZE stats_big;
SET max_parallel_workers_per_gather = 0;
SELECT perfstore.stats_agg(x) AS serial_all FROM stats_big \gset
CREATE TEMP TABLE stats_serial_groups AS
	SELECT g, perfstore.stats_agg(x) AS s FROM stats_big GROUP BY g;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT perfstore.stats_agg(x) FROM stats_big;
SELECT perfstore.stats_agg(x) AS parallel_all FROM stats_big \gset
SELECT perfstore.num_vals(p) = perfstore.num_vals(s) AS count,
	   pg_temp.close(perfstore.sum(p), perfstore.sum(s)) AS sum,
	   pg_temp.close(perfstore.mean(p), perfstore.mean(s)) AS mean,
	   pg_temp.close(perfstore.var_pop(p), perfstore.var_pop(s)) AS var_pop,
	   pg_temp.close(perfstore.stddev(p), perfstore.stddev(s)) AS stddev,
	   perfstore.min_val(p) = perfstore.min_val(s) AS min,
	   perfstore.max_val(p) = perfstore.max_val(s) AS max,
	   pg_temp.close(perfstore.stddev(p)::numeric, exact_stddev) AS stddev_exact
FROM (SELECT :'parallel_all'::perfstore.stats AS p, :'serial_all'::perfstore.stats AS s) sub,
	 (SELECT stddev_samp(x::numeric) AS exact_stddev FROM stats_big) exact;
EXPLAIN (COSTS OFF) SELECT g, perfstore.stats_agg(x) FROM stats_big GROUP BY g;
CREATE TEMP TABLE stats_parallel_groups AS
	SELECT g, perfstore.stats_agg(x) AS s FROM stats_big GROUP BY g;
SELECT count(*) AS groups,
	   bool_and(perfstore.num_vals(p.s) = perfstore.num_vals(s.s)
				AND pg_temp.close(perfstore.mean(p.s), perfstore.mean(s.s))
				AND pg_temp.close(perfstore.stddev(p.s), perfstore.stddev(s.s))) AS equal
FROM stats_parallel_groups p JOIN stats_serial_groups s USING (g);
-- rollup of stored states in parallel
CREATE TABLE stats_big_parts AS
	SELECT i % 20000 AS g, perfstore.stats_agg(x) AS s FROM stats_big GROUP BY 1;
ANALYZE stats_big_parts;
EXPLAIN (COSTS OFF) SELECT perfstore.stats_agg(s) FROM stats_big_parts;
SELECT perfstore.num_vals(r) = 100000 AS count,
	   pg_temp.close(perfstore.mean(r), perfstore.mean(:'serial_all'::perfstore.stats)) AS mean,
	   pg_temp.close(perfstore.stddev(r), perfstore.stddev(:'serial_all'::perfstore.stats)) AS stddev
FROM (SELECT perfstore.stats_agg(s) AS r FROM stats_big_parts) sub;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- hash aggregation that spills to disk gives the same states as sorting
CREATE FUNCTION pg_temp.spills(query text) RETURNS bool LANGUAGE plpgsql
AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query
	LOOP
		IF line LIKE '%Disk Usage%' THEN
			RETURN true;
		END IF;
	END LOOP;
	RETURN false;
END
$$;
SET work_mem = '64kB';
SET enable_sort = off;
SELECT pg_temp.spills('SELECT i % 20000, perfstore.stats_agg(x) FROM stats_big GROUP BY 1') AS spills;
CREATE TEMP TABLE stats_hashed AS
	SELECT i % 20000 AS g, perfstore.stats_agg(x) AS s FROM stats_big GROUP BY 1;
RESET enable_sort;
SET enable_hashagg = off;
CREATE TEMP TABLE stats_sorted AS
	SELECT i % 20000 AS g, perfstore.stats_agg(x) AS s FROM stats_big GROUP BY 1;
RESET enable_hashagg;
RESET work_mem;
SELECT count(*) AS groups,
	   bool_and(perfstore.num_vals(h.s) = perfstore.num_vals(o.s)
				AND pg_temp.close(perfstore.mean(h.s), perfstore.mean(o.s))
				AND pg_temp.close(perfstore.var_pop(h.s), perfstore.var_pop(o.s))) AS equal
FROM stats_hashed h JOIN stats_sorted o USING (g);

--
-- Text form: canonical and exact, whatever extra_float_digits says
--
SELECT setseed(0.25);
CREATE TEMP TABLE stats_rand AS
	SELECT i % 500 AS g,
		   perfstore.stats_agg(exp(random() * 80 - 40) * (random() - 0.5)) AS s
	FROM generate_series(1, 20000) i GROUP BY 1;
INSERT INTO stats_rand VALUES
	(-1, '(count:0,sum:0,sumc:0,m2:0,min:0,max:0)'),
	(-2, perfstore.stats_add(NULL, -0.0::float8)),
	(-3, perfstore.stats_add(perfstore.stats_add(NULL, 5e-324), 1e-323)),
	(-4, perfstore.stats_add(perfstore.stats_add(NULL, 1e150), -1e150)),
	(-5, perfstore.stats_add(perfstore.stats_add(NULL, 0.1), 0.2));
SELECT s FROM stats_rand WHERE g < 0 ORDER BY g DESC;
SELECT count(*) AS values,
	   count(*) FILTER (WHERE s::text::perfstore.stats::text = s::text) AS text_exact,
	   count(*) FILTER (WHERE perfstore.stats_send(s::text::perfstore.stats)
						= perfstore.stats_send(s)) AS bits_exact
FROM stats_rand;
SET extra_float_digits = -15;
SELECT s FROM stats_rand WHERE g = -5;
SELECT count(*) FILTER (WHERE s::text::perfstore.stats::text <> s::text) AS text_differs
FROM stats_rand;
SET extra_float_digits = 0;
-- white space around the punctuation is allowed
SELECT ' ( count : 2 , sum : 3 , sumc : 0 , m2 : 0.5 , min : 1 , max : 2 ) '::perfstore.stats;

-- binary form (send/recv) through COPY (FORMAT binary)
SELECT perfstore.stats_send(perfstore.stats_agg(x)) FROM generate_series(1, 3) x;
SELECT '/tmp/perfstore_stats_' || current_database() || '.bin' AS stats_file \gset
COPY (SELECT g, s FROM stats_rand) TO :'stats_file' (FORMAT binary);
CREATE TEMP TABLE stats_rand_copy (g int, s perfstore.stats);
COPY stats_rand_copy FROM :'stats_file' (FORMAT binary);
SELECT count(*) AS copied,
	   count(*) FILTER (WHERE perfstore.stats_send(c.s) = perfstore.stats_send(r.s)) AS bits_exact
FROM stats_rand_copy c JOIN stats_rand r USING (g);

--
-- Bad input
--
-- values must be finite: SQLSTATE 22023
SELECT perfstore.stats_agg(x) FROM (VALUES (1), ('NaN'::float8)) v(x);
SELECT perfstore.stats_agg(x) FROM (VALUES ('Infinity'::float8), (1)) v(x);
SELECT perfstore.stats_add(NULL, '-Infinity');
SELECT v, pg_temp.err(format('SELECT perfstore.stats_agg(x) FROM (VALUES (1), (%L::float8)) v(x)', v))
FROM (VALUES ('NaN'), ('Infinity'), ('-Infinity')) v(v);
-- results that do not fit a float8: SQLSTATE 22003
SELECT perfstore.stats_agg(x) FROM (VALUES (1.5e308), (1.5e308)) v(x);
SELECT pg_temp.err('SELECT perfstore.stats_agg(x) FROM (VALUES (1e300), (-1e300)) v(x)');
-- malformed text: SQLSTATE 22P02, with the reason in the detail
SELECT '(count:3,sum:6,sumc:0,m2:2,min:1,max:3) x'::perfstore.stats;
SELECT input, pg_temp.err(format('SELECT %L::perfstore.stats', input))
FROM (VALUES
	(''),
	('count:3,sum:6,sumc:0,m2:2,min:1,max:3'),
	('(count:3,sum:6,sumc:0,m2:2,min:1,max:3'),
	('(count:3,sum:6,sumc:0,m2:2,min:1)'),
	('(count:3,sum:6,sumc:0,m2:2,min:1,max:3,extra:1)'),
	('(count:3,sum:6,sumc:0,m2:2,min:1,max:3)garbage'),
	('(count:3,sum:6,m2:2,min:1,max:3)'),
	('(sum:6,count:3,sumc:0,m2:2,min:1,max:3)'),
	('(count 3,sum:6,sumc:0,m2:2,min:1,max:3)'),
	('(count:,sum:6,sumc:0,m2:2,min:1,max:3)'),
	('(count:3.5,sum:6,sumc:0,m2:2,min:1,max:3)'),
	('(count:99999999999999999999,sum:6,sumc:0,m2:2,min:1,max:3)'),
	('(count:-3,sum:-6,sumc:0,m2:2,min:-3,max:-1)'),
	('(count:3,sum:6,sumc:0,m2:-2,min:1,max:3)'),
	('(count:3,sum:6,sumc:0,m2:2,min:3,max:1)'),
	('(count:3,sum:NaN,sumc:0,m2:2,min:1,max:3)'),
	('(count:3,sum:6,sumc:0,m2:Infinity,min:1,max:3)'),
	('(count:3,sum:6,sumc:0,m2:2,min:-inf,max:3)'),
	('(count:3,sum:6,sumc:0,m2:2,min:1,max:1e999)'),
	('(count:3,sum:600,sumc:0,m2:2,min:1,max:3)'),
	('(count:2,sum:2,sumc:0,m2:1e300,min:1,max:1)'),
	('(count:3,sum:6,sumc:0,m2:3.01,min:1,max:3)'),
	('(count:1,sum:1,sumc:0,m2:2,min:1,max:1)'),
	('(count:1,sum:2,sumc:0,m2:0,min:1,max:3)'),
	('(count:0,sum:1,sumc:0,m2:0,min:1,max:1)'),
	('(count:3,sum:6,sumc:0,m2:2,min:1,max:3)')
) v(input);
-- malformed binary: SQLSTATE 22P03
CREATE TEMP TABLE stats_bad_bytes (b bytea);
CREATE TEMP TABLE stats_bad_in (s perfstore.stats);
CREATE FUNCTION pg_temp.recv(b bytea, file text) RETURNS text LANGUAGE plpgsql
AS $$
BEGIN
	TRUNCATE stats_bad_bytes;
	INSERT INTO stats_bad_bytes VALUES (b);
	EXECUTE format('COPY stats_bad_bytes TO %L (FORMAT binary)', file);
	RETURN pg_temp.err(format('COPY stats_bad_in FROM %L (FORMAT binary)', file));
END
$$;
SELECT what, pg_temp.recv(b, :'stats_file')
FROM (SELECT perfstore.stats_send('(count:3,sum:6,sumc:0,m2:2,min:1,max:3)') AS good) g,
LATERAL (VALUES
	('good', good),
	('empty', ''::bytea),
	('short', substring(good FROM 1 FOR 48)),
	('long', good || '\x00'::bytea),
	('version 2', set_byte(good, 0, 2)),
	('negative count', overlay(good PLACING '\xffffffffffffffff' FROM 2 FOR 8)),
	('NaN sum', overlay(good PLACING '\x7ff8000000000000' FROM 10 FOR 8)),
	('infinite sumc', overlay(good PLACING '\x7ff0000000000000' FROM 18 FOR 8)),
	('negative m2', overlay(good PLACING '\xbff0000000000000' FROM 26 FOR 8)),
	('min > max', overlay(good PLACING '\x4020000000000000' FROM 34 FOR 8)),
	('count 1, m2 2', overlay(good PLACING '\x0000000000000001' FROM 2 FOR 8))
) v(what, b);
SELECT count(*) AS accepted FROM stats_bad_in;
-- the backend is still fine
SELECT 1 AS still_alive;

DROP TABLE stats_big, stats_big_parts;
