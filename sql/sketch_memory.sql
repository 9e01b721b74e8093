--
-- sketch_memory: a GROUP BY of sketches stays within work_mem plus its
-- spill files, however large the states grow (docs/sketch.md, "Memory")
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET max_parallel_workers_per_gather = 0;
SET work_mem = '4MB';
SELECT setseed(0.25);
CREATE TEMP TABLE mem_t AS
SELECT i % 300 AS g, exp(8 * random()) AS v FROM generate_series(1, 120000) i;
ANALYZE mem_t;
-- the peak memory of the hash aggregate, from EXPLAIN ANALYZE, in kB
CREATE FUNCTION pg_temp.agg_peak_kb(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
	node json;
	peak bigint := 0;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
	FOR node IN SELECT jsonb_path_query(plan::jsonb, 'strict $.**') ::json LOOP
		IF json_typeof(node) = 'object' AND node->>'Node Type' = 'Aggregate' THEN
			peak := greatest(peak, coalesce((node->>'Peak Memory Usage')::bigint, 0));
		END IF;
	END LOOP;
	RETURN peak;
END
$$;
-- 300 groups at alpha 0.0001: each state holds thousands of buckets, but
-- the aggregate keeps at most work_mem of them in memory
SELECT pg_temp.agg_peak_kb('SELECT g, perfstore.sketch_agg(v, 0.0001) FROM mem_t GROUP BY g') <= 8192 AS within_bound;
-- and the answers are those of a sort-based aggregate, group by group
SET enable_hashagg = off;
CREATE TEMP TABLE mem_sorted AS
SELECT g, perfstore.sketch_agg(v, 0.0001)::text AS s FROM mem_t GROUP BY g;
RESET enable_hashagg;
SELECT count(*) AS groups, count(*) FILTER (WHERE h.s = o.s) AS identical
FROM (SELECT g, perfstore.sketch_agg(v, 0.0001)::text AS s FROM mem_t GROUP BY g) h
JOIN mem_sorted o USING (g);
-- the declared transition space of each sketch aggregate
SELECT a.aggfnoid::regprocedure AS aggregate, a.aggtransspace
FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
WHERE p.pronamespace = 'perfstore'::regnamespace AND a.aggtranstype = 'perfstore.sketch'::regtype
ORDER BY 1::text COLLATE "C";
DROP TABLE mem_t, mem_sorted;
