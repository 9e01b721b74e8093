/* perfstore--0.3.0--0.4.0.sql: hardening, clearer names and the store at scale
 *
 * Sections, each with its own header below: the hardening of the store's
 * write paths and maintenance (docs/security.md); the renamed accessors and
 * the internal helpers moved out of the user's way (docs/sketch.md,
 * docs/runs.md); the store at scale (docs/store.md, docs/scale-out.md).
 *
 * Every function written in SQL or plpgsql sets search_path and qualifies
 * every name and operator; internal calls pass typed arguments.
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.4.0'" to load this file. \quit

--
-- hardening
--

--
-- names
--

--
-- load-test runs: verdicts, diagnosis and profiles
--

--
-- the store at scale
--
--
-- Late data (docs/store.md, "Late data").  Samples written below the rollup
-- watermark, by record() or by the batch ingest, are logged in
-- rollup_invalidations (per series, within one UTC hour) by the transaction
-- that writes them; the real-time views read the logged minutes from the
-- raw samples, so they stay exact; and maintain() refreshes exactly the
-- logged buckets, at most a bounded number of series-hours per pass,
-- leaving the rest of the log to the next pass.
CREATE TABLE perfstore.rollup_invalidations (
	series_id bigint NOT NULL,
	lo timestamptz NOT NULL,
	hi timestamptz NOT NULL,
	CONSTRAINT rollup_invalidations_one_hour CHECK (
		lo <= hi AND pg_catalog.isfinite(lo) AND pg_catalog.isfinite(hi)
		AND pg_catalog.date_trunc('hour', lo, 'UTC') = pg_catalog.date_trunc('hour', hi, 'UTC'))
);
COMMENT ON TABLE perfstore.rollup_invalidations IS
	'samples written below the rollup watermark, per series and UTC hour: [lo, hi] holds their timestamps (maintain() refreshes these buckets and deletes the rows)';
CREATE INDEX rollup_invalidations_series_lo ON perfstore.rollup_invalidations (series_id, lo);
SELECT pg_catalog.pg_extension_config_dump('perfstore.rollup_invalidations', '');

CREATE FUNCTION perfstore.late_watermark() RETURNS timestamptz
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_late_watermark_sql';
COMMENT ON FUNCTION perfstore.late_watermark() IS
	'the rollup watermark as the ingest paths see it: cached per session until maintain() moves it (a sample below it is logged in rollup_invalidations)';

CREATE FUNCTION perfstore.rollup_state_changed() RETURNS trigger
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_rollup_state_changed';
COMMENT ON FUNCTION perfstore.rollup_state_changed() IS
	'the trigger on rollup_state: every session drops its cached watermark (late_watermark()) when the change commits';
CREATE TRIGGER rollup_state_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON perfstore.rollup_state
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.rollup_state_changed();

-- record(): the 0.2.0 function, and a sample below the watermark is logged.
CREATE OR REPLACE FUNCTION perfstore.record(metric text, value float8,
	labels jsonb DEFAULT '{}', ts timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	sid bigint;
BEGIN
	IF metric IS NULL OR value IS NULL OR labels IS NULL OR ts IS NULL THEN
		RAISE EXCEPTION 'metric, value, labels and ts must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF NOT (value OPERATOR(pg_catalog.>) '-Infinity'::float8
	        AND value OPERATOR(pg_catalog.<) 'Infinity'::float8) THEN
		RAISE EXCEPTION 'cannot record value % for metric "%"', value, metric
			USING ERRCODE = 'invalid_parameter_value',
			DETAIL = 'Samples must be finite numbers.';
	END IF;
	IF pg_catalog.jsonb_typeof(labels) OPERATOR(pg_catalog.<>) 'object' THEN
		RAISE EXCEPTION 'labels must be a JSON object, not %', pg_catalog.jsonb_typeof(labels)
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Pass labels like ''{"host": "db1"}''.';
	END IF;
	SELECT s.id INTO sid FROM perfstore.series s
	WHERE s.metric OPERATOR(pg_catalog.=) record.metric
	  AND s.labels OPERATOR(pg_catalog.=) record.labels;
	IF NOT FOUND THEN
		INSERT INTO perfstore.series (metric, labels)
		VALUES (record.metric, record.labels)
		ON CONFLICT ON CONSTRAINT series_metric_labels DO NOTHING
		RETURNING id INTO sid;
		IF sid IS NULL THEN
			-- created concurrently: committed by now, visible to this statement
			SELECT s.id INTO STRICT sid FROM perfstore.series s
			WHERE s.metric OPERATOR(pg_catalog.=) record.metric
			  AND s.labels OPERATOR(pg_catalog.=) record.labels;
		END IF;
	END IF;
	INSERT INTO perfstore.samples (series_id, ts, value) VALUES (sid, record.ts, record.value);
	IF record.ts OPERATOR(pg_catalog.<) perfstore.late_watermark()
	   AND pg_catalog.isfinite(record.ts) THEN
		INSERT INTO perfstore.rollup_invalidations (series_id, lo, hi)
		VALUES (sid, record.ts, record.ts);
	END IF;
END
$$;
COMMENT ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz) IS
	'store one sample of a metric (series created on first use; below the rollup watermark it is logged for the next maintain()); NaN, infinities and labels that are not a JSON object raise 22023';

-- Refreshes the rollups of the oldest logged series-hours (at most
-- series_hours of them) and deletes their log rows: the 1-minute buckets
-- from the raw samples, then the 5-minute and 1-hour buckets holding them
-- from the 1-minute rollups, all below the watermark (the views read the
-- raw tail above it).  The log rows are claimed by one DELETE, so a row
-- logged meanwhile by a concurrent writer stays for the next call; their
-- samples are committed and visible to the statements that re-aggregate.
-- Log rows of hours before now() - retention are dropped unrefreshed
-- (their samples are about to go; the rollups keep what they hold).
-- Returns the number of series-hours refreshed.  Waits for a maintain()
-- in progress (the same advisory lock).
CREATE FUNCTION perfstore.refresh_late_data(series_hours integer DEFAULT 1000)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
	retention interval := perfstore.setting_interval('retention', NULL::interval);
	w timestamptz;
	ids bigint[];
	los timestamptz[];
	his timestamptz[];
BEGIN
	IF series_hours OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'series_hours must be at least 1, not %', series_hours
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(1886679653, 1);
	w := perfstore.rollup_watermark();

	WITH pick AS (
		SELECT i.series_id, pg_catalog.date_trunc('hour', i.lo, 'UTC') AS hour
		FROM perfstore.rollup_invalidations i
		GROUP BY 1, 2
		ORDER BY 2, 1
		LIMIT series_hours
	), claimed AS (
		DELETE FROM perfstore.rollup_invalidations i
		USING pick p
		WHERE i.series_id OPERATOR(pg_catalog.=) p.series_id
		  AND pg_catalog.date_trunc('hour', i.lo, 'UTC') OPERATOR(pg_catalog.=) p.hour
		RETURNING i.series_id, i.lo, i.hi
	), grouped AS (
		SELECT c.series_id, pg_catalog.min(c.lo) AS lo, pg_catalog.max(c.hi) AS hi
		FROM claimed c
		GROUP BY c.series_id, pg_catalog.date_trunc('hour', c.lo, 'UTC')
	)
	SELECT pg_catalog.array_agg(g.series_id), pg_catalog.array_agg(g.lo), pg_catalog.array_agg(g.hi)
	INTO ids, los, his
	FROM grouped g
	WHERE retention IS NULL
	   OR g.hi OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) retention);
	IF ids IS NULL THEN
		RETURN 0;
	END IF;

	-- 1-minute buckets, from the raw samples
	DELETE FROM perfstore.rollup_1m r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('minute', g.lo, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_trunc('minute', g.hi, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<) w;
	INSERT INTO perfstore.rollup_1m (series_id, bucket, sketch, stats)
	SELECT s.series_id, pg_catalog.date_trunc('minute', s.ts, 'UTC'),
	       perfstore.sketch_agg(s.value), perfstore.stats_agg(s.value)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.samples s
	  ON s.series_id OPERATOR(pg_catalog.=) g.sid
	 AND s.ts OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('minute', g.lo, 'UTC')
	 AND s.ts OPERATOR(pg_catalog.<) least(
	         pg_catalog.date_trunc('minute', g.hi, 'UTC') OPERATOR(pg_catalog.+) interval '1 minute', w)
	GROUP BY 1, 2;

	-- 5-minute buckets holding them, from the 1-minute rollups
	DELETE FROM perfstore.rollup_5m r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes', g.lo, origin)
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_bin('5 minutes', g.hi, origin)
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin('5 minutes', w, origin);
	INSERT INTO perfstore.rollup_5m (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_bin('5 minutes', r.bucket, origin),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.sid
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes', g.lo, origin)
	 AND r.bucket OPERATOR(pg_catalog.<) least(
	         pg_catalog.date_bin('5 minutes', g.hi, origin) OPERATOR(pg_catalog.+) interval '5 minutes',
	         pg_catalog.date_bin('5 minutes', w, origin))
	GROUP BY 1, 2;

	-- the hour, from the 1-minute rollups
	DELETE FROM perfstore.rollup_1h r
	USING ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	WHERE r.series_id OPERATOR(pg_catalog.=) g.sid
	  AND r.bucket OPERATOR(pg_catalog.=) pg_catalog.date_trunc('hour', g.lo, 'UTC')
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_trunc('hour', w, 'UTC');
	INSERT INTO perfstore.rollup_1h (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_trunc('hour', r.bucket, 'UTC'),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi)
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.sid
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_trunc('hour', g.lo, 'UTC')
	 AND r.bucket OPERATOR(pg_catalog.<) (pg_catalog.date_trunc('hour', g.lo, 'UTC') OPERATOR(pg_catalog.+) interval '1 hour')
	WHERE pg_catalog.date_trunc('hour', g.lo, 'UTC') OPERATOR(pg_catalog.<) pg_catalog.date_trunc('hour', w, 'UTC')
	GROUP BY 1, 2;

	RETURN pg_catalog.cardinality(ids);
END
$$;
COMMENT ON FUNCTION perfstore.refresh_late_data(integer) IS
	'roll up logged late samples: refresh the buckets of at most series_hours logged series-hours, oldest first, and delete their log rows (maintain() calls it)';
REVOKE EXECUTE ON FUNCTION perfstore.refresh_late_data(integer) FROM PUBLIC;

-- maintain(): the 0.2.0 pass with one step more after the rollups: the
-- late data logged below the watermark, at most 1,000 series-hours (60,000
-- 1-minute buckets) per pass; the rest stays logged for the next pass, and
-- the report says how many log rows wait ("late_pending").
CREATE OR REPLACE FUNCTION perfstore.maintain(lock_timeout_ms integer DEFAULT 200)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := clock_timestamp();
	retention interval := perfstore.setting_interval('retention', NULL);
	late_window interval := perfstore.setting_interval('late_window', interval '10 minutes');
	ahead integer := coalesce((SELECT s.value::integer FROM perfstore.settings s
	                           WHERE s.name = 'partitions_ahead'), 3);
	today date := (now() AT TIME ZONE 'UTC')::date;
	old_lock_timeout text := current_setting('lock_timeout');
	w timestamptz;
	lo timestamptz;
	hi timestamptz := date_trunc('minute', now(), 'UTC');
	buckets bigint := 0;
	created integer := 0;
	moved bigint := 0;
	dropped integer := 0;
	skipped integer := 0;
	late bigint := 0;
	late_pending bigint := 0;
	n bigint;
	d date;
	p record;
BEGIN
	IF NOT pg_try_advisory_xact_lock(1886679653, 1) THEN
		RETURN jsonb_build_object('busy', true);
	END IF;

	-- 1. rollups
	SELECT r.watermark INTO w FROM perfstore.rollup_state r;
	IF w IS NULL THEN
		lo := (SELECT min(s.ts) FROM perfstore.samples s);
	ELSE
		lo := least(w, hi - late_window);
	END IF;
	IF lo IS NOT NULL THEN
		buckets := perfstore.refresh_rollups(lo, hi);
	END IF;
	INSERT INTO perfstore.rollup_state (watermark) VALUES (hi)
	ON CONFLICT (singleton) DO UPDATE
		SET watermark = greatest(perfstore.rollup_state.watermark, excluded.watermark);

	-- 1b. late data: the logged series-hours below the watermark, bounded
	late := perfstore.refresh_late_data(1000);
	late_pending := (SELECT pg_catalog.count(*) FROM perfstore.rollup_invalidations);

	-- 2. partitions: days stranded in the default partition, then ahead
	PERFORM set_config('lock_timeout', lock_timeout_ms || 'ms', true);
	FOR d IN
		SELECT DISTINCT (s.ts AT TIME ZONE 'UTC')::date AS day
		FROM perfstore.samples_default s
		WHERE isfinite(s.ts) AND s.ts < ((today + ahead + 1)::timestamp AT TIME ZONE 'UTC')
		UNION
		SELECT today + i FROM generate_series(0, ahead) i
		ORDER BY 1
	LOOP
		BEGIN
			n := perfstore.create_partition(d);
			IF n IS NOT NULL THEN
				created := created + 1;
				moved := moved + n;
			END IF;
		EXCEPTION WHEN lock_not_available THEN
			skipped := skipped + 1;
		END;
	END LOOP;

	-- 3. retention: whole partitions that end before the window
	IF retention IS NOT NULL THEN
		FOR p IN
			SELECT pt.partition FROM perfstore.partitions pt
			WHERE NOT pt.is_default AND pt.range_end <= now() - retention
			ORDER BY pt.range_end
		LOOP
			BEGIN
				EXECUTE format('DROP TABLE %s', p.partition);
				dropped := dropped + 1;
			EXCEPTION WHEN lock_not_available THEN
				skipped := skipped + 1;
			END;
		END LOOP;
	END IF;
	PERFORM set_config('lock_timeout', old_lock_timeout, true);

	RETURN jsonb_build_object(
		'busy', false,
		'rollup_from', lo,
		'watermark', hi,
		'rollup_buckets', buckets,
		'late_series_hours', late,
		'late_pending', late_pending,
		'partitions_created', created,
		'rows_moved', moved,
		'partitions_dropped', dropped,
		'skipped', skipped,
		'ms', round(EXTRACT(epoch FROM clock_timestamp() - started)::numeric * 1000, 1));
END
$$;
COMMENT ON FUNCTION perfstore.maintain(integer) IS
	'one maintenance pass: refresh rollups from the watermark and the logged late data, create partitions ahead, move stranded rows, drop partitions past the retention; safe with concurrent ingest and concurrent calls';

-- The buckets of a width (1 minute, 5 minutes, 1 hour) that hold a logged
-- late sample and lie wholly below the watermark, once each.  A function
-- rather than a subquery for its row estimate: the log is small between
-- passes, and the views' plans stay cheap (no JIT, nested index lookups);
-- plpgsql with a generic plan, so that a session plans its query once.
CREATE FUNCTION perfstore.late_buckets(width interval)
	RETURNS TABLE (series_id bigint, bucket timestamptz)
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE ROWS 10
	SET search_path = pg_catalog, pg_temp
	SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
	RETURN QUERY
	SELECT DISTINCT i.series_id, b.bucket
	FROM perfstore.rollup_invalidations i,
	     pg_catalog.generate_series(
	         pg_catalog.date_bin(width, i.lo, timestamptz '2000-01-01 00:00+00'),
	         pg_catalog.date_bin(width, i.hi, timestamptz '2000-01-01 00:00+00'),
	         width) AS b(bucket)
	WHERE b.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin(width, perfstore.rollup_watermark(),
	                                                          timestamptz '2000-01-01 00:00+00');
END
$$;
COMMENT ON FUNCTION perfstore.late_buckets(interval) IS
	'the buckets of a width that hold logged late samples and lie below the watermark (the real-time views read them from the raw samples)';

-- The real-time views, exact with late data: a rollup row of a bucket that
-- holds a logged minute is left out, and that bucket is aggregated instead
-- from the raw samples (1 minute) or from samples_1m (5 minutes, 1 hour),
-- driven by the log (a one-time check skips that branch while the log is
-- empty), with the rest as in 0.3.0.
CREATE OR REPLACE VIEW perfstore.samples_1m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1m r
WHERE r.bucket < perfstore.rollup_watermark()
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND r.bucket >= pg_catalog.date_trunc('minute', i.lo, 'UTC')
                    AND r.bucket <= pg_catalog.date_trunc('minute', i.hi, 'UTC'))
UNION ALL
SELECT s.series_id, pg_catalog.date_trunc('minute', s.ts, 'UTC') AS bucket,
       perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
FROM perfstore.samples s
WHERE s.ts >= perfstore.rollup_watermark()
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '1 minute') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
	FROM perfstore.samples s
	WHERE s.series_id = g.series_id AND s.ts >= g.bucket AND s.ts < g.bucket + interval '1 minute') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_1m IS
	'per series and UTC minute, up to now: the 1-minute rollups before the watermark and the raw samples after it and in the minutes of logged late samples';

CREATE OR REPLACE VIEW perfstore.samples_5m AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_5m r
WHERE r.bucket < pg_catalog.date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '5 minutes')
UNION ALL
SELECT m.series_id, pg_catalog.date_bin('5 minutes', m.bucket, timestamptz '2000-01-01 00:00+00') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= pg_catalog.date_bin('5 minutes', perfstore.rollup_watermark(), timestamptz '2000-01-01 00:00+00')
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '5 minutes') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
	FROM perfstore.samples_1m m
	WHERE m.series_id = g.series_id AND m.bucket >= g.bucket AND m.bucket < g.bucket + interval '5 minutes') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_5m IS
	'per series and 5 UTC minutes, up to now: the 5-minute rollups before the watermark''s 5 minutes, samples_1m after them and in the buckets of logged late samples';

CREATE OR REPLACE VIEW perfstore.samples_1h AS
SELECT r.series_id, r.bucket, r.sketch, r.stats
FROM perfstore.rollup_1h r
WHERE r.bucket < pg_catalog.date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
  AND NOT EXISTS (SELECT FROM perfstore.rollup_invalidations i
                  WHERE i.series_id = r.series_id
                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '1 hour')
UNION ALL
SELECT m.series_id, pg_catalog.date_trunc('hour', m.bucket, 'UTC') AS bucket,
       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
FROM perfstore.samples_1m m
WHERE m.bucket >= pg_catalog.date_trunc('hour', perfstore.rollup_watermark(), 'UTC')
GROUP BY 1, 2
UNION ALL
SELECT g.series_id, g.bucket, a.sketch, a.stats
FROM perfstore.late_buckets(interval '1 hour') g
CROSS JOIN LATERAL (
	SELECT perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
	FROM perfstore.samples_1m m
	WHERE m.series_id = g.series_id AND m.bucket >= g.bucket AND m.bucket < g.bucket + interval '1 hour') a
WHERE a.sketch IS NOT NULL
  AND (SELECT EXISTS (SELECT FROM perfstore.rollup_invalidations));
COMMENT ON VIEW perfstore.samples_1h IS
	'per series and UTC hour, up to now: the 1-hour rollups before the watermark''s hour, samples_1m after it and in the hours of logged late samples';

-- Writers log their late samples: grant_writer grants INSERT on the log,
-- and so does this upgrade to every role that may insert samples already.
-- grant_writer keeps its body, whatever it grants, with the grant added
-- before the final END (as the 0.3.0 script did).
DO $do$
DECLARE
	src text;
	g record;
BEGIN
	SELECT p.prosrc INTO STRICT src FROM pg_catalog.pg_proc p
	WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure('perfstore.grant_writer(regrole)');
	IF src OPERATOR(pg_catalog.!~) '\mEND\s*$' THEN
		RAISE EXCEPTION 'perfstore.grant_writer(regrole) does not end with END';
	END IF;
	src := pg_catalog.regexp_replace(src, '\mEND\s*$', '') OPERATOR(pg_catalog.||) $add$	-- record() and the batch ingest log samples written below the watermark
	EXECUTE format('GRANT INSERT ON perfstore.rollup_invalidations TO %s', role);
END
$add$;
	EXECUTE pg_catalog.format('CREATE OR REPLACE FUNCTION perfstore.grant_writer(role regrole) RETURNS void
		LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
		SET search_path = pg_catalog, pg_temp
		AS %L', src);
	FOR g IN
		SELECT DISTINCT a.grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.samples'::pg_catalog.regclass
		  AND a.privilege_type OPERATOR(pg_catalog.=) 'INSERT'
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
	LOOP
		EXECUTE pg_catalog.format('GRANT INSERT ON perfstore.rollup_invalidations TO %s',
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE pg_catalog.quote_ident(g.grantee::pg_catalog.regrole::text) END);
	END LOOP;
END
$do$;
COMMENT ON FUNCTION perfstore.grant_writer(regrole) IS
	'let a role write the store: record(), batch ingest, the workflow API and store_run(), plus everything grant_reader gives; no DELETE, TRUNCATE, DDL or maintain()';
