--
-- store_late: late data.  Samples written below the rollup watermark, by
-- the batch ingest or by record(), are logged; the real-time views stay
-- exact meanwhile; the next maintain() refreshes exactly the logged buckets,
-- a bounded number of series-hours per pass (docs/store.md, "Late data")
--
-- Times are relative to now(), so the output shows facts as booleans and
-- counts.
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
DROP ROLE IF EXISTS regress_perfstore_late_writer;
RESET client_min_messages;
SET extra_float_digits = 0;
SET timezone = 'UTC';
-- the store tests share the database: start from an empty store
TRUNCATE perfstore.series, perfstore.samples, perfstore.rollup_1m, perfstore.rollup_5m,
	perfstore.rollup_1h, perfstore.rollup_state, perfstore.rollup_invalidations,
	perfstore.settings RESTART IDENTITY;

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
-- buckets of a real-time view (1m, 5m or 1h) whose sketch differs from the
-- sketch of the raw samples of that bucket, or that one side lacks (merging
-- is exact, so the text forms are identical when nothing is missing)
CREATE FUNCTION pg_temp.view_differs(width text) RETURNS bigint LANGUAGE plpgsql
AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format($q$
		SELECT count(*)
		FROM perfstore.samples_%s v
		FULL JOIN (SELECT s.series_id,
		                  CASE %L WHEN '1m' THEN date_trunc('minute', s.ts, 'UTC')
		                          WHEN '5m' THEN date_bin('5 minutes', s.ts, '2000-01-01 00:00+00')
		                          ELSE date_trunc('hour', s.ts, 'UTC') END AS bucket,
		                  perfstore.sketch_agg(s.value) AS sketch
		           FROM perfstore.samples s GROUP BY 1, 2) r
		  ON v.series_id = r.series_id AND v.bucket = r.bucket
		WHERE v.sketch::text IS DISTINCT FROM r.sketch::text$q$, width, width) INTO n;
	RETURN n;
END
$$;
-- the same for a rollup table, over the buckets wholly below the watermark
CREATE FUNCTION pg_temp.rollup_differs(width text) RETURNS bigint LANGUAGE plpgsql
AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE format($q$
		WITH b AS (
			SELECT s.series_id,
			       CASE %L WHEN '1m' THEN date_trunc('minute', s.ts, 'UTC')
			               WHEN '5m' THEN date_bin('5 minutes', s.ts, '2000-01-01 00:00+00')
			               ELSE date_trunc('hour', s.ts, 'UTC') END AS bucket,
			       s.value
			FROM perfstore.samples s)
		SELECT count(*)
		FROM (SELECT * FROM perfstore.rollup_%s
		      WHERE bucket + %L::interval <= perfstore.rollup_watermark()) v
		FULL JOIN (SELECT b.series_id, b.bucket, perfstore.sketch_agg(b.value) AS sketch
		           FROM b WHERE b.bucket + %L::interval <= perfstore.rollup_watermark()
		           GROUP BY 1, 2) r
		  ON v.series_id = r.series_id AND v.bucket = r.bucket
		WHERE v.sketch::text IS DISTINCT FROM r.sketch::text$q$,
		width, width,
		CASE width WHEN '1m' THEN '1 minute' WHEN '5m' THEN '5 minutes' ELSE '1 hour' END,
		CASE width WHEN '1m' THEN '1 minute' WHEN '5m' THEN '5 minutes' ELSE '1 hour' END) INTO n;
	RETURN n;
END
$$;

-- three hours of on-time samples in two series, rolled up
SELECT setseed(0.5);
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'late.lat', jsonb_build_object('host', 'h' || h),
       date_trunc('minute', now()) - interval '3 hours' + i * interval '20 seconds',
       exp(1 + random())
FROM generate_series(1, 2) h, generate_series(0, 539) i;
SELECT count(*) AS logged_before_any_maintain FROM perfstore.rollup_invalidations;
SELECT (m->>'rollup_buckets')::int > 0 AS rolled_up, (m->>'late_pending')::int AS late_pending
FROM perfstore.maintain() m;
SELECT perfstore_internal.late_watermark() = perfstore.rollup_watermark() AS cache_sees_the_watermark;
SELECT pg_temp.rollup_differs('1m') AS d1m, pg_temp.rollup_differs('5m') AS d5m,
       pg_temp.rollup_differs('1h') AS d1h;

-- on-time samples (at or after the watermark) are not logged
SELECT perfstore.record('late.lat', 1, '{"host": "h1"}');
INSERT INTO perfstore.ingest (metric, labels, value) VALUES ('late.lat', '{"host": "h2"}', 2);
SELECT count(*) AS logged_on_time FROM perfstore.rollup_invalidations;

-- a backfill through the batch ingest: two days ago, over two UTC hours,
-- into an existing series and a new one; and record() one day ago
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'late.lat', jsonb_build_object('host', 'h' || h),
       date_trunc('hour', now()) - interval '2 days' + i * interval '13 seconds', 10 * h + i % 7
FROM generate_series(1, 3) h, generate_series(0, 399) i;
SELECT perfstore.record('late.lat', 99 - i, '{"host": "h2"}', now() - interval '1 day')
FROM generate_series(0, 1) i;
-- logged per series and UTC hour: 3 series x 2 hours, and the hour of the
-- two record() calls (one row each)
SELECT count(*) AS log_rows, count(DISTINCT (series_id, date_trunc('hour', lo, 'UTC'))) AS series_hours,
       bool_and(date_trunc('hour', lo, 'UTC') = date_trunc('hour', hi, 'UTC')) AS within_an_hour
FROM perfstore.rollup_invalidations;
-- the rollups do not hold the backfill yet, the views do
SELECT pg_temp.rollup_differs('1m') > 0 AS rollup_1m_stale,
       pg_temp.rollup_differs('1h') > 0 AS rollup_1h_stale;
SELECT pg_temp.view_differs('1m') AS v1m, pg_temp.view_differs('5m') AS v5m,
       pg_temp.view_differs('1h') AS v1h;
-- a quantile over the backfilled day, from the view, equals the raw one
SELECT (SELECT perfstore.quantiles(perfstore.sketch_agg(m.sketch), '{0.5,0.99}')
        FROM perfstore.samples_5m m WHERE m.bucket < now() - interval '1 day' - interval '1 hour')
     = (SELECT perfstore.quantiles(perfstore.sketch_agg(s.value), '{0.5,0.99}')
        FROM perfstore.samples s
        WHERE s.ts < date_bin('5 minutes', now() - interval '1 day' - interval '1 hour', '2000-01-01 00:00+00'))
       AS backfill_quantiles_exact;

-- bounded: one series-hour refreshed, the rest carried, the views still exact
SELECT perfstore.refresh_late_data(1) AS refreshed;
SELECT count(DISTINCT (series_id, date_trunc('hour', lo, 'UTC'))) AS series_hours_left
FROM perfstore.rollup_invalidations;
SELECT pg_temp.view_differs('1m') AS v1m, pg_temp.view_differs('5m') AS v5m,
       pg_temp.view_differs('1h') AS v1h;
SELECT pg_temp.err($$SELECT perfstore.refresh_late_data(0)$$);

-- the next maintain() rolls up the rest: the backfill is in the rollups
SELECT (m->>'late_series_hours')::int AS late_series_hours, (m->>'late_pending')::int AS late_pending
FROM perfstore.maintain() m;
SELECT count(*) AS log_rows FROM perfstore.rollup_invalidations;
SELECT pg_temp.rollup_differs('1m') AS d1m, pg_temp.rollup_differs('5m') AS d5m,
       pg_temp.rollup_differs('1h') AS d1h;
SELECT pg_temp.view_differs('1m') AS v1m, pg_temp.view_differs('5m') AS v5m,
       pg_temp.view_differs('1h') AS v1h;
-- the backfilled hours are whole in the 1-hour rollups
SELECT count(*) AS backfilled_hours
FROM perfstore.rollup_1h r
WHERE r.bucket IN (date_trunc('hour', now()) - interval '2 days',
                   date_trunc('hour', now()) - interval '2 days' + interval '1 hour');

-- many late series-hours: each pass takes the oldest ones, up to its bound
INSERT INTO perfstore.ingest (metric, labels, ts, value)
SELECT 'late.lat', '{"host": "h1"}', date_trunc('hour', now()) - k * interval '1 hour' - interval '1 day', k
FROM generate_series(1, 5) k;
SELECT perfstore.refresh_late_data(2) AS first, perfstore.refresh_late_data(2) AS second,
       perfstore.refresh_late_data(2) AS third, perfstore.refresh_late_data(2) AS none_left;
SELECT pg_temp.rollup_differs('1h') AS d1h;

-- a writer logs its late samples (grant_writer grants INSERT on the log)
CREATE ROLE regress_perfstore_late_writer;
SELECT perfstore.grant_writer('regress_perfstore_late_writer');
SET ROLE regress_perfstore_late_writer;
SELECT pg_temp.err($$SELECT perfstore.record('late.lat', 5, '{"host": "h1"}', now() - interval '3 days')$$);
SELECT pg_temp.err($$INSERT INTO perfstore.ingest (metric, labels, ts, value)
	VALUES ('late.lat', '{"host": "h3"}', now() - interval '3 days', 6)$$);
SELECT pg_temp.err($$SELECT perfstore.refresh_late_data(10)$$);
SELECT pg_temp.err($$DELETE FROM perfstore.rollup_invalidations$$);
RESET ROLE;
SELECT count(*) AS logged_by_the_writer FROM perfstore.rollup_invalidations;
SELECT (m->>'late_series_hours')::int AS late_series_hours FROM perfstore.maintain() m;
SELECT pg_temp.view_differs('1h') AS v1h, pg_temp.rollup_differs('1h') AS d1h;
DROP OWNED BY regress_perfstore_late_writer;
DROP ROLE regress_perfstore_late_writer;
