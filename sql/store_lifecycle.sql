--
-- store_lifecycle: maintain(): partitions ahead, rows stranded in the
-- default partition, retention, rollups and the real-time views
-- (docs/store.md, "Lifecycle")
--
-- Times are relative to now(), so the output shows facts as booleans and
-- counts.
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;
SET extra_float_digits = 0;
SET timezone = 'UTC';
-- the store tests share the database: start from an empty store without
-- day partitions
TRUNCATE perfstore.series, perfstore.samples, perfstore.rollup_1m, perfstore.rollup_5m,
	perfstore.rollup_1h, perfstore.rollup_state, perfstore.rollup_invalidations,
	perfstore.settings, perfstore.task_executions, perfstore.workflow_runs RESTART IDENTITY;
DO $$
DECLARE p regclass;
BEGIN
	FOR p IN SELECT partition FROM perfstore.partitions WHERE NOT is_default LOOP
		EXECUTE format('DROP TABLE %s', p);
	END LOOP;
END $$;

CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
	state text;
	msg text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN state || ': ' || msg;
END
$$;
-- midnight UTC of today + n days
CREATE FUNCTION pg_temp.day(n int) RETURNS timestamptz LANGUAGE sql STABLE
AS $$ SELECT (((now() AT TIME ZONE 'UTC')::date + n)::timestamp AT TIME ZONE 'UTC') $$;

--
-- Partitions: rows whose day has no partition are stored in the default
-- partition; maintain() creates today's and the next days' partitions and
-- moves stranded rows into partitions of their own days, up to the last
-- day ahead.  Far-future timestamps stay in the default; infinite ones are
-- outside the accepted range and refused.
--
SELECT perfstore.record('p', 1, ts => pg_temp.day(-100) + interval '12 hours');
SELECT perfstore.record('p', 2, ts => now());
SELECT perfstore.record('p', 3, ts => pg_temp.day(2) + interval '1 hour');
SELECT perfstore.record('p', 4, ts => pg_temp.day(400));
SELECT pg_temp.err($$SELECT perfstore.record('p', 5, ts => 'infinity')$$);
SELECT pg_temp.err($$SELECT perfstore.record('p', 6, ts => '-infinity')$$);
SELECT count(*) AS partitions FROM perfstore.partitions WHERE NOT is_default;
SELECT value, s.tableoid = 'perfstore.samples_default'::regclass AS in_default
FROM perfstore.samples s ORDER BY value;

SELECT m->'busy' AS busy, m->'partitions_created' AS created, m->'rows_moved' AS moved,
       m->'partitions_dropped' AS dropped, m->'skipped' AS skipped
FROM perfstore.maintain() m;
-- day -100, today, and days 1 to 3
SELECT range_start - pg_temp.day(0) AS from_today, range_end - range_start AS length,
       partition::text = 'perfstore.samples_p' || to_char(range_start AT TIME ZONE 'UTC', 'YYYYMMDD') AS named
FROM perfstore.partitions WHERE NOT is_default ORDER BY range_start;
SELECT value, s.tableoid = 'perfstore.samples_default'::regclass AS in_default,
       s.ts >= p.range_start AND s.ts < p.range_end AS in_its_day
FROM perfstore.samples s LEFT JOIN perfstore.partitions p ON p.partition = s.tableoid
ORDER BY value;
-- a second pass has nothing to do
SELECT m->'partitions_created' AS created, m->'rows_moved' AS moved
FROM perfstore.maintain() m;
SELECT perfstore.set_partitions_ahead(5);
SELECT m->'partitions_created' AS created FROM perfstore.maintain() m;
SELECT pg_temp.err('SELECT perfstore.set_partitions_ahead(0)');

--
-- Retention drops whole partitions that end before now() - retention and
-- nothing inside the window, not even the rows of the partly expired day.
--
SELECT pg_temp.err($$SELECT perfstore.set_retention('1 hour')$$);
-- one sample per hour from 40 days ago to now
INSERT INTO perfstore.ingest (metric, ts, value)
SELECT 'ret', t, EXTRACT(epoch FROM t)
FROM generate_series(now() - interval '40 days', now(), interval '1 hour') t;
-- at most max_partitions a pass (8 by default): the rest is pending
SELECT m->'partitions_created' AS created, m->'partitions_pending' AS pending
FROM perfstore.maintain() m;
SELECT m->'partitions_created' AS created, m->'partitions_pending' AS pending
FROM perfstore.maintain(max_partitions => 100) m;
-- everything from the first day that reaches into the window on
CREATE TEMP TABLE window_before AS
SELECT s.series_id, s.ts, s.value FROM perfstore.samples s WHERE s.ts >= pg_temp.day(-30);
SELECT perfstore.set_retention('30 days');
SELECT retention.value FROM perfstore.settings retention WHERE name = 'retention';
SELECT (m->>'partitions_dropped')::int = 11 AS dropped_day_100_and_days_40_to_31
FROM perfstore.maintain() m;
-- no partition left that ends before the window; the oldest one straddles
-- its start
SELECT bool_and(range_end > now() - interval '30 days') AS all_reach_window,
       min(range_start) <= now() - interval '30 days' AS oldest_straddles
FROM perfstore.partitions WHERE NOT is_default;
-- every row inside the window is still there, and the rest of the day
-- that straddles its start
SELECT (SELECT count(*) > 24 * 30 FROM window_before) AS rows_checked,
       (SELECT count(*) FROM window_before w
        WHERE NOT EXISTS (SELECT 1 FROM perfstore.samples s
                          WHERE s.series_id = w.series_id AND s.ts = w.ts AND s.value = w.value)) AS lost;
-- what is gone is exactly the whole days before the window's first day
SELECT count(*) FILTER (WHERE ts < pg_temp.day(-30) AND ts > '-infinity') AS before_first_day
FROM perfstore.samples;
-- the far-future timestamp is still stored
SELECT value FROM perfstore.samples s JOIN perfstore.series sr ON sr.id = s.series_id
WHERE sr.metric = 'p' ORDER BY value;
SELECT perfstore.set_retention(NULL);
SELECT count(*) AS retention_settings FROM perfstore.settings WHERE name = 'retention';

--
-- Rollups and the real-time views
--
TRUNCATE perfstore.samples, perfstore.rollup_1m, perfstore.rollup_5m, perfstore.rollup_1h,
	perfstore.rollup_state, perfstore.rollup_invalidations;
-- (fewer partitions to plan: a short retention drops the old days)
SELECT perfstore.set_retention('2 days');
SELECT (m->>'partitions_dropped')::int > 0 AS dropped FROM perfstore.maintain() m;
SELECT perfstore.set_retention(NULL);
TRUNCATE perfstore.rollup_state;
SELECT setseed(0.5);
-- three series, a sample every 10 s over the last 3 hours, log-normal
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'lat', jsonb_build_object('host', 'h' || h), t,
       exp(2 + h * 0.5 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
FROM generate_series(1, 3) h,
     generate_series(now() - interval '3 hours', now() - interval '10 seconds', interval '10 seconds') t;

-- compare(n): n random minute-aligned windows per series; for each, the
-- quantiles and count from samples_1m (merged sketches) and samples_1h
-- (whole hours only) against the raw samples; returns the number of
-- windows that differ.  Merging sketches is exact, so the quantiles must
-- be identical; the raw sketch itself is within alpha of percentile_disc.
CREATE FUNCTION pg_temp.compare(n int) RETURNS TABLE (windows bigint, differ_1m bigint,
	differ_1h bigint, off_exact bigint)
LANGUAGE sql AS $$
	WITH w AS (
		SELECT sr.id AS sid, i,
		       date_trunc('minute', now()) + interval '1 minute'
		           - (1 + floor(random() * 200)) * interval '1 minute' AS a,
		       (1 + floor(random() * 200)) * interval '1 minute' AS len
		FROM perfstore.series sr, generate_series(1, n) i
		WHERE sr.metric = 'lat'
	), r AS (
		SELECT w.sid, w.i, w.a, w.len,
		       (SELECT perfstore.quantiles(perfstore.sketch_agg(s.value), '{0.5,0.9,0.99}')
		        FROM perfstore.samples s
		        WHERE s.series_id = w.sid AND s.ts >= w.a AND s.ts < w.a + w.len) AS raw_q,
		       (SELECT count(*) FROM perfstore.samples s
		        WHERE s.series_id = w.sid AND s.ts >= w.a AND s.ts < w.a + w.len) AS raw_n,
		       (SELECT percentile_disc(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY s.value)
		        FROM perfstore.samples s
		        WHERE s.series_id = w.sid AND s.ts >= w.a AND s.ts < w.a + w.len) AS exact_q,
		       (SELECT perfstore.quantiles(perfstore.sketch_agg(m.sketch), '{0.5,0.9,0.99}')
		        FROM perfstore.samples_1m m
		        WHERE m.series_id = w.sid AND m.bucket >= w.a AND m.bucket < w.a + w.len) AS m_q,
		       (SELECT coalesce(sum(perfstore.num_vals(m.sketch)), 0) FROM perfstore.samples_1m m
		        WHERE m.series_id = w.sid AND m.bucket >= w.a AND m.bucket < w.a + w.len) AS m_n
		FROM w
	), hw AS (
		SELECT w.sid, date_trunc('hour', w.a) AS a, date_trunc('hour', w.a + w.len) AS b FROM w
	), h AS (
		SELECT (SELECT perfstore.quantiles(perfstore.sketch_agg(s.value), '{0.5,0.9,0.99}')
		        FROM perfstore.samples s
		        WHERE s.series_id = hw.sid AND s.ts >= hw.a AND s.ts < hw.b) AS raw_q,
		       (SELECT perfstore.quantiles(perfstore.sketch_agg(x.sketch), '{0.5,0.9,0.99}')
		        FROM perfstore.samples_1h x
		        WHERE x.series_id = hw.sid AND x.bucket >= hw.a AND x.bucket < hw.b) AS h_q
		FROM hw
	)
	SELECT (SELECT count(*) FROM r),
	       (SELECT count(*) FROM r WHERE raw_q IS DISTINCT FROM m_q OR raw_n <> m_n),
	       (SELECT count(*) FROM h WHERE raw_q IS DISTINCT FROM h_q),
	       (SELECT count(*) FROM r, generate_subscripts(exact_q, 1) k
	        WHERE abs(raw_q[k] - exact_q[k]) > 0.01 * abs(exact_q[k]))
$$;

-- before any maintain(): everything comes from the raw tail
SELECT * FROM pg_temp.compare(8);
SELECT (m->>'rollup_buckets')::int > 0 AS rolled_up FROM perfstore.maintain() m;
SELECT watermark > now() - interval '2 minutes' AND watermark <= now() AS watermark_now
FROM perfstore.rollup_state;
SELECT count(*) > 0 AS has_1m, (SELECT count(*) > 0 FROM perfstore.rollup_1h) AS has_1h
FROM perfstore.rollup_1m;
-- every minute before the watermark comes from the rollups
SELECT count(*) AS raw_minutes_before_watermark
FROM (SELECT DISTINCT series_id, date_trunc('minute', ts) FROM perfstore.samples
      WHERE ts < (SELECT watermark FROM perfstore.rollup_state)) s
WHERE NOT EXISTS (SELECT 1 FROM perfstore.rollup_1m r
                  WHERE r.series_id = s.series_id AND r.bucket = s.date_trunc);
SELECT * FROM pg_temp.compare(8);
-- new inserts after the watermark: the raw tail answers, no maintain()
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'lat', jsonb_build_object('host', 'h' || h), now(), 1000 * h + i
FROM generate_series(1, 3) h, generate_series(1, 50) i;
SELECT * FROM pg_temp.compare(8);
-- late data 3 minutes before the watermark, inside the late window: the
-- next maintain() re-aggregates its minute (docs/store.md, "Late data")
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'lat', jsonb_build_object('host', 'h' || h),
       (SELECT watermark FROM perfstore.rollup_state) - interval '3 minutes', 5000 + i
FROM generate_series(1, 3) h, generate_series(1, 200) i;
-- (the view has it at once: its minute is logged and read from the raw
-- samples until then)
SELECT (SELECT count(*) FROM perfstore.samples s, perfstore.rollup_state st
        WHERE s.ts >= st.watermark - interval '3 minutes' AND s.ts < st.watermark - interval '2 minutes')
     - (SELECT sum(perfstore.num_vals(m.sketch)) FROM perfstore.samples_1m m, perfstore.rollup_state st
        WHERE m.bucket = st.watermark - interval '3 minutes') AS missing_from_view;
SELECT (m->>'busy')::bool AS busy FROM perfstore.maintain() m;
SELECT (SELECT count(*) FROM perfstore.samples s, perfstore.rollup_state st
        WHERE s.ts >= st.watermark - interval '3 minutes' AND s.ts < st.watermark - interval '2 minutes')
     - (SELECT sum(perfstore.num_vals(m.sketch)) FROM perfstore.samples_1m m, perfstore.rollup_state st
        WHERE m.bucket = st.watermark - interval '3 minutes') AS missing_from_view;
SELECT * FROM pg_temp.compare(8);
-- a backfill older than the late window: refresh_rollups() re-aggregates
-- the range it names
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'lat', '{"host": "h1"}', now() - interval '2 hours', 7777 FROM generate_series(1, 300);
SELECT perfstore.refresh_rollups(now() - interval '3 hours', now()) > 0 AS refreshed;
SELECT * FROM pg_temp.compare(8);
-- the 5-minute view: every 5 minutes of every series in the last day
-- (rollups before the watermark, the raw tail after it) against the sketch
-- of the raw samples (older rollups outlive the partitions dropped above)
SELECT count(*) > 0 AS has_5m,
       count(*) FILTER (WHERE r.q IS DISTINCT FROM v.q OR r.n IS DISTINCT FROM v.n) AS differ_5m
FROM (SELECT s.series_id, date_bin('5 minutes', s.ts, '2000-01-01 00:00+00') AS b,
             perfstore.quantiles(perfstore.sketch_agg(s.value), '{0.5,0.9,0.99}') AS q, count(*) AS n
      FROM perfstore.samples s WHERE s.ts >= now() - interval '1 day' GROUP BY 1, 2) r
FULL JOIN (SELECT m.series_id, m.bucket AS b, perfstore.quantiles(m.sketch, '{0.5,0.9,0.99}') AS q,
                  perfstore.num_vals(m.sketch) AS n
           FROM perfstore.samples_5m m
           WHERE m.bucket >= date_bin('5 minutes', now() - interval '1 day', '2000-01-01 00:00+00')) v
  USING (series_id, b)
WHERE b >= date_bin('5 minutes', now() - interval '1 day', '2000-01-01 00:00+00') + interval '5 minutes';
-- the late window is a setting
SELECT pg_temp.err($$SELECT perfstore.set_late_window('-1 minute')$$);
SELECT perfstore.set_late_window('1 hour');
SELECT (m->>'rollup_from')::timestamptz <= now() - interval '1 hour' AS from_an_hour_back
FROM perfstore.maintain() m;

-- two maintain() calls in the same transaction are fine (the advisory
-- lock is the transaction's own); see store_concurrency for two sessions
BEGIN;
SELECT (m->>'busy')::bool AS busy FROM perfstore.maintain() m;
SELECT (m->>'busy')::bool AS busy FROM perfstore.maintain() m;
COMMIT;
SELECT perfstore.set_late_window('10 minutes');
