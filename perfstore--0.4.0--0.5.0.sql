/* perfstore--0.4.0--0.5.0.sql: the store's write paths in C and scale-out
 *
 * Sections, each with its own header below: the write path of record()
 * (docs/store.md); scale-out on Citus (docs/scale-out.md).
 *
 * Every function written in SQL or plpgsql sets search_path = pg_catalog,
 * pg_temp and qualifies every name, operators included (docs/security.md).
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.5.0'" to load this file. \quit

--
-- write path
--
-- record() in C (src/record.c, docs/store.md "Metrics"): the same checks,
-- refusals and late-data logging as the plpgsql body it replaces, with the
-- series ids cached per session.  It is no longer SECURITY DEFINER: it runs
-- its own statements as its owner (the extension's owner), under the
-- search path pg_catalog alone, and nothing of the caller's in between
-- (docs/security.md); the per-call save and restore of a pinned
-- search_path was a tenth of its time.  Its grants are kept.
CREATE OR REPLACE FUNCTION perfstore.record(metric text, value float8,
	labels jsonb DEFAULT '{}'::jsonb, ts timestamptz DEFAULT pg_catalog.now())
	RETURNS void
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_record';
COMMENT ON FUNCTION perfstore.record(text, float8, jsonb, timestamptz) IS
	'store one sample of a metric (series created on first use; below the rollup watermark it is logged for the next maintain()); values, timestamps and labels outside the accepted range raise an error (docs/store.md)';

-- Every session drops its cache of series ids when a series row is
-- deleted or changes its key (TRUNCATE and DROP send their own).
CREATE FUNCTION perfstore_internal.series_changed() RETURNS trigger
	LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_series_changed';
COMMENT ON FUNCTION perfstore_internal.series_changed() IS
	'the trigger on series: every session drops its cache of series ids (record()) when a series is deleted or its key changes';
REVOKE ALL ON FUNCTION perfstore_internal.series_changed() FROM PUBLIC;
CREATE TRIGGER series_changed
	AFTER UPDATE OF id, metric, labels OR DELETE OR TRUNCATE ON perfstore.series
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore_internal.series_changed();
-- It fires under session_replication_role = replica too (a restore with
-- --disable-triggers, a logical replication apply): a series changed then
-- must still reach the caches.
ALTER TABLE perfstore.series ENABLE ALWAYS TRIGGER series_changed;

-- Batch ingest takes labels as text (src/ingest.c): COPY then stores the
-- text as it comes, and the trigger parses each distinct label set of a
-- statement once, where a jsonb column made COPY parse every row's.  jsonb
-- values still go in (INSERT casts them to text on assignment), labels must
-- still be a JSON object, and a binary COPY written for the jsonb column
-- still loads.  A view's column cannot change its type, so the view is
-- built under a temporary name with the same triggers, takes over the
-- grants of the old one, and then its name.  Those grants are given to the
-- roles of this database, not by the extension: they are removed from the
-- view's initial privileges again, so that pg_dump keeps them as a fresh
-- install would.
CREATE VIEW perfstore.ingest_0_5_0 AS
SELECT NULL::text AS metric, NULL::text AS labels,
       NULL::timestamptz AS ts, NULL::float8 AS value
WHERE false;
ALTER VIEW perfstore.ingest_0_5_0 ALTER COLUMN labels SET DEFAULT '{}'::text;
ALTER VIEW perfstore.ingest_0_5_0 ALTER COLUMN ts SET DEFAULT pg_catalog.now();
COMMENT ON VIEW perfstore.ingest_0_5_0 IS
	'batch ingest: COPY or INSERT (metric, labels, ts, value) rows here, labels a JSON object as text; each statement stores them in samples (always empty when read)';
CREATE TRIGGER ingest_begin BEFORE INSERT ON perfstore.ingest_0_5_0
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER ingest_row INSTEAD OF INSERT ON perfstore.ingest_0_5_0
	FOR EACH ROW EXECUTE FUNCTION perfstore.ingest_trigger();
CREATE TRIGGER ingest_end AFTER INSERT ON perfstore.ingest_0_5_0
	FOR EACH STATEMENT EXECUTE FUNCTION perfstore.ingest_trigger();
DO $do$
DECLARE
	g record;
BEGIN
	-- the view's grants and its columns' grants, with their grant options
	FOR g IN
		SELECT NULL::pg_catalog.name AS col, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
		UNION ALL
		SELECT att.attname, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) c.oid,
		     pg_catalog.aclexplode(att.attacl) a
		WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
		  AND att.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
		ORDER BY 1 NULLS FIRST, 2, 3
	LOOP
		EXECUTE pg_catalog.format('GRANT %s%s ON perfstore.ingest_0_5_0 TO %s%s', g.privilege_type,
			CASE WHEN g.col IS NULL THEN ''::pg_catalog.text
			     ELSE pg_catalog.format(' (%I)', g.col) END,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END,
			CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION'::pg_catalog.text
			     ELSE ''::pg_catalog.text END);
	END LOOP;
	DELETE FROM pg_catalog.pg_init_privs ip
	WHERE ip.objoid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_5_0'::pg_catalog.regclass
	  AND ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass;
END
$do$;
DROP VIEW perfstore.ingest;
ALTER VIEW perfstore.ingest_0_5_0 RENAME TO ingest;

--
-- scale-out
--
-- docs/scale-out.md describes the set-up.  perfstore.distribute() turns a
-- store on a Citus coordinator into a distributed one: samples, the
-- rollups, the late-data log and the late-data claims are distributed by
-- series_id, co-located, so that every rollup refresh is an INSERT ...
-- SELECT that runs on the shards; every other table of the extension (the
-- series, the settings, the watermark, the workflow and load-test run
-- tables) becomes a reference table, so that lookups, unique constraints
-- and joins on any column give the answers of a single node.  The
-- functions below take the distributed paths only where Citus needs them,
-- and otherwise behave as before on a single node.

-- Whether a relation is a Citus table; false without a query when Citus is
-- not installed in this database (its catalog is read dynamically, so
-- that the extension does not depend on it).
CREATE FUNCTION perfstore_internal.citus_table(rel regclass) RETURNS boolean
	LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	found boolean;
BEGIN
	IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition'::text) IS NULL THEN
		RETURN false;
	END IF;
	EXECUTE 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p
	                        WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
		INTO found USING rel;
	RETURN found;
END
$$;
COMMENT ON FUNCTION perfstore_internal.citus_table(regclass) IS
	'whether a relation is a Citus table (distributed or reference); false when Citus is not installed';

CREATE FUNCTION perfstore_internal.watermark_moved() RETURNS void
	LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE
	AS 'MODULE_PATHNAME', 'perfstore_watermark_moved';
COMMENT ON FUNCTION perfstore_internal.watermark_moved() IS
	'every session drops its cached watermark (late_watermark()) when the calling transaction commits; maintain() calls it, as the trigger on rollup_state does on a single node';
REVOKE ALL ON FUNCTION perfstore_internal.citus_table(regclass), perfstore_internal.watermark_moved()
	FROM PUBLIC;

-- The series-hours refresh_late_data() is refreshing, for the length of
-- its transaction (empty between calls).  A table rather than arrays: on
-- a distributed store it is co-located with samples and the rollups, and
-- the refresh joins it with them on series_id on the shards.
CREATE TABLE perfstore_internal.late_claims (
	series_id bigint NOT NULL,
	lo timestamptz NOT NULL,
	hi timestamptz NOT NULL
);
COMMENT ON TABLE perfstore_internal.late_claims IS
	'the series-hours of late data that refresh_late_data() is refreshing, per series: [lo, hi] within one UTC hour (empty outside its transaction)';

-- create_partition(): as in 0.4.0 on a single node.  On a distributed
-- store the new day is distributed (co-located with samples) while it is
-- empty, filled from samples_default with a co-located INSERT ... SELECT on
-- the shards, and then attached: attaching a local table with rows would
-- copy them through the coordinator and leave them on its disk.
CREATE OR REPLACE FUNCTION perfstore.create_partition(day date) RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
	hi timestamptz := (day OPERATOR(pg_catalog.+) 1)::timestamp AT TIME ZONE 'UTC';
	part text;
	moved bigint;
BEGIN
	IF NOT (day OPERATOR(pg_catalog.>=) '1970-01-01'::date AND day OPERATOR(pg_catalog.<) '2200-01-01'::date) THEN
		RAISE EXCEPTION 'cannot create a partition for day %', day
			USING ERRCODE = 'datetime_field_overflow',
			DETAIL = 'Partitions cover days from 1970-01-01 up to 2200-01-01 UTC, the accepted range of samples.';
	END IF;
	part := 'samples_p' OPERATOR(pg_catalog.||) pg_catalog.to_char(day, 'YYYYMMDD');
	IF EXISTS (SELECT 1 FROM perfstore.partitions p
	           WHERE NOT p.is_default
	             AND COALESCE(p.range_start, '-infinity'::timestamptz) OPERATOR(pg_catalog.<) hi
	             AND COALESCE(p.range_end, 'infinity'::timestamptz) OPERATOR(pg_catalog.>) lo) THEN
		RETURN NULL;
	END IF;
	LOCK TABLE perfstore.samples, perfstore.samples_default IN ACCESS EXCLUSIVE MODE;
	EXECUTE pg_catalog.format('CREATE TABLE perfstore.%I (LIKE perfstore.samples INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
	IF perfstore_internal.citus_table('perfstore.samples'::pg_catalog.regclass) THEN
		PERFORM pg_catalog.create_distributed_table(
			pg_catalog.format('perfstore.%I', part)::pg_catalog.regclass, 'series_id'::text,
			colocate_with => 'perfstore.samples'::text);
		EXECUTE pg_catalog.format('CREATE INDEX %I ON perfstore.%I (series_id, ts)', part OPERATOR(pg_catalog.||) '_series_ts', part);
		EXECUTE pg_catalog.format('INSERT INTO perfstore.%I (series_id, ts, value)
		                           SELECT d.series_id, d.ts, d.value FROM perfstore.samples_default d
		                           WHERE d.ts OPERATOR(pg_catalog.>=) $1 AND d.ts OPERATOR(pg_catalog.<) $2', part)
			USING lo, hi;
		GET DIAGNOSTICS moved = ROW_COUNT;
		DELETE FROM perfstore.samples_default d
		WHERE d.ts OPERATOR(pg_catalog.>=) lo AND d.ts OPERATOR(pg_catalog.<) hi;
	ELSE
		EXECUTE pg_catalog.format('CREATE INDEX %I ON perfstore.%I (series_id, ts)', part OPERATOR(pg_catalog.||) '_series_ts', part);
		EXECUTE pg_catalog.format('WITH m AS (DELETE FROM perfstore.samples_default
		                                      WHERE ts OPERATOR(pg_catalog.>=) $1 AND ts OPERATOR(pg_catalog.<) $2
		                                      RETURNING series_id, ts, value)
		                           INSERT INTO perfstore.%I (series_id, ts, value) SELECT series_id, ts, value FROM m', part)
			USING lo, hi;
		GET DIAGNOSTICS moved = ROW_COUNT;
	END IF;
	EXECUTE pg_catalog.format('ALTER TABLE perfstore.samples ATTACH PARTITION perfstore.%I FOR VALUES FROM (%L) TO (%L)',
	               part, lo, hi);
	RETURN moved;
END
$$;
COMMENT ON FUNCTION perfstore.create_partition(date) IS
	'create the samples partition of one UTC day (1970 to 2199), moving its rows out of samples_default (distributed like samples when the store is distributed); NULL when one exists';

-- refresh_late_data(): as in 0.4.0, with the claimed series-hours in
-- late_claims instead of arrays, and the buckets computed with date_bin
-- (immutable) instead of date_trunc in UTC (stable): Citus refuses stable
-- functions of columns in the modifications it runs on the shards.  Both
-- give the same buckets: minutes and hours are binned from 1970-01-01
-- UTC, before every accepted sample, and 5 minutes from 2000-01-01 UTC as
-- the views and refresh_rollups() do.
CREATE OR REPLACE FUNCTION perfstore.refresh_late_data(series_hours integer DEFAULT 1000)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	epoch constant timestamptz := timestamptz '1970-01-01 00:00+00';
	origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
	retention interval := perfstore_internal.setting_interval('retention'::text, NULL::interval);
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
		SELECT i.series_id, pg_catalog.date_bin('1 hour'::interval, i.lo, epoch) AS hour
		FROM perfstore.rollup_invalidations i
		GROUP BY 1, 2
		ORDER BY 2, 1
		LIMIT series_hours
	), claimed AS (
		DELETE FROM perfstore.rollup_invalidations i
		USING pick p
		WHERE i.series_id OPERATOR(pg_catalog.=) p.series_id
		  AND pg_catalog.date_bin('1 hour'::interval, i.lo, epoch) OPERATOR(pg_catalog.=) p.hour
		RETURNING i.series_id, i.lo, i.hi
	), grouped AS (
		SELECT c.series_id, pg_catalog.min(c.lo) AS lo, pg_catalog.max(c.hi) AS hi
		FROM claimed c
		GROUP BY c.series_id, pg_catalog.date_bin('1 hour'::interval, c.lo, epoch)
	)
	SELECT pg_catalog.array_agg(g.series_id), pg_catalog.array_agg(g.lo), pg_catalog.array_agg(g.hi)
	INTO ids, los, his
	FROM grouped g
	WHERE retention IS NULL
	   OR g.hi OPERATOR(pg_catalog.>=) (pg_catalog.now() OPERATOR(pg_catalog.-) retention);
	IF ids IS NULL THEN
		RETURN 0;
	END IF;
	INSERT INTO perfstore_internal.late_claims (series_id, lo, hi)
	SELECT g.sid, g.lo, g.hi
	FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(los), pg_catalog.unnest(his)) AS g(sid, lo, hi);

	-- 1-minute buckets, from the raw samples
	DELETE FROM perfstore.rollup_1m r
	USING perfstore_internal.late_claims g
	WHERE r.series_id OPERATOR(pg_catalog.=) g.series_id
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('1 minute'::interval, g.lo, epoch)
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_bin('1 minute'::interval, g.hi, epoch)
	  AND r.bucket OPERATOR(pg_catalog.<) w;
	INSERT INTO perfstore.rollup_1m (series_id, bucket, sketch, stats)
	SELECT s.series_id, pg_catalog.date_bin('1 minute'::interval, s.ts, epoch),
	       perfstore.sketch_agg(s.value), perfstore.stats_agg(s.value)
	FROM perfstore_internal.late_claims g
	JOIN perfstore.samples s
	  ON s.series_id OPERATOR(pg_catalog.=) g.series_id
	 AND s.ts OPERATOR(pg_catalog.>=) pg_catalog.date_bin('1 minute'::interval, g.lo, epoch)
	 AND s.ts OPERATOR(pg_catalog.<) LEAST(
	         pg_catalog.date_bin('1 minute'::interval, g.hi, epoch) OPERATOR(pg_catalog.+) '1 minute'::interval, w)
	GROUP BY 1, 2;

	-- 5-minute buckets holding them, from the 1-minute rollups
	DELETE FROM perfstore.rollup_5m r
	USING perfstore_internal.late_claims g
	WHERE r.series_id OPERATOR(pg_catalog.=) g.series_id
	  AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes'::interval, g.lo, origin)
	  AND r.bucket OPERATOR(pg_catalog.<=) pg_catalog.date_bin('5 minutes'::interval, g.hi, origin)
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin('5 minutes'::interval, w, origin);
	INSERT INTO perfstore.rollup_5m (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_bin('5 minutes'::interval, r.bucket, origin),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM perfstore_internal.late_claims g
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.series_id
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('5 minutes'::interval, g.lo, origin)
	 AND r.bucket OPERATOR(pg_catalog.<) LEAST(
	         pg_catalog.date_bin('5 minutes'::interval, g.hi, origin) OPERATOR(pg_catalog.+) '5 minutes'::interval,
	         pg_catalog.date_bin('5 minutes'::interval, w, origin))
	GROUP BY 1, 2;

	-- the hour, from the 1-minute rollups
	DELETE FROM perfstore.rollup_1h r
	USING perfstore_internal.late_claims g
	WHERE r.series_id OPERATOR(pg_catalog.=) g.series_id
	  AND r.bucket OPERATOR(pg_catalog.=) pg_catalog.date_bin('1 hour'::interval, g.lo, epoch)
	  AND r.bucket OPERATOR(pg_catalog.<) pg_catalog.date_bin('1 hour'::interval, w, epoch);
	INSERT INTO perfstore.rollup_1h (series_id, bucket, sketch, stats)
	SELECT r.series_id, pg_catalog.date_bin('1 hour'::interval, r.bucket, epoch),
	       perfstore.sketch_agg(r.sketch), perfstore.stats_agg(r.stats)
	FROM perfstore_internal.late_claims g
	JOIN perfstore.rollup_1m r
	  ON r.series_id OPERATOR(pg_catalog.=) g.series_id
	 AND r.bucket OPERATOR(pg_catalog.>=) pg_catalog.date_bin('1 hour'::interval, g.lo, epoch)
	 AND r.bucket OPERATOR(pg_catalog.<) (pg_catalog.date_bin('1 hour'::interval, g.lo, epoch) OPERATOR(pg_catalog.+) '1 hour'::interval)
	WHERE pg_catalog.date_bin('1 hour'::interval, g.lo, epoch) OPERATOR(pg_catalog.<) pg_catalog.date_bin('1 hour'::interval, w, epoch)
	GROUP BY 1, 2;

	DELETE FROM perfstore_internal.late_claims;
	RETURN pg_catalog.cardinality(ids);
END
$$;
COMMENT ON FUNCTION perfstore.refresh_late_data(integer) IS
	'roll up logged late samples: refresh the buckets of at most series_hours logged series-hours, oldest first, and delete their log rows (maintain() calls it)';

-- maintain(): as in 0.4.0, and on a distributed store it runs on the
-- coordinator only; after moving the watermark it tells every session
-- itself (the trigger on rollup_state does not fire for a reference
-- table's writes).
CREATE OR REPLACE FUNCTION perfstore.maintain(lock_timeout_ms integer DEFAULT 200,
	max_partitions integer DEFAULT 8)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	started timestamptz := pg_catalog.clock_timestamp();
	retention interval := perfstore_internal.setting_interval('retention'::text, NULL::interval);
	late_window interval := perfstore_internal.setting_interval('late_window'::text, '10 minutes'::interval);
	old_lock_timeout text := pg_catalog.current_setting('lock_timeout');
	w timestamptz;
	lo timestamptz;
	hi timestamptz := pg_catalog.date_trunc('minute', pg_catalog.now(), 'UTC');
	refreshed record;
	late bigint;
	late_pending bigint;
	parts jsonb;
	dropped integer := 0;
	skipped integer := 0;
	failed integer := 0;
	p record;
	msg text;
	state text;
BEGIN
	IF lock_timeout_ms IS NULL OR lock_timeout_ms OPERATOR(pg_catalog.<) 1
	   OR max_partitions IS NULL OR max_partitions OPERATOR(pg_catalog.<) 1 THEN
		RAISE EXCEPTION 'lock_timeout_ms and max_partitions must be at least 1'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- on a Citus worker the store's tables are shards of the coordinator's:
	-- only the coordinator maintains them
	-- (citus_is_coordinator() exists only with Citus: a statement of its own)
	IF perfstore_internal.citus_table('perfstore.samples'::pg_catalog.regclass) THEN
		IF NOT pg_catalog.citus_is_coordinator() THEN
			RAISE EXCEPTION 'perfstore.maintain() runs on the Citus coordinator, not on a worker'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				DETAIL = 'The store is distributed: its partitions, rollups and retention are maintained through the coordinator.',
				HINT = 'Call maintain() on the coordinator, and set perfstore.maintenance_interval = 0 on the workers.';
		END IF;
	END IF;
	IF NOT pg_catalog.pg_try_advisory_xact_lock(1886679653, 1) THEN
		RETURN pg_catalog.jsonb_build_object('busy', true);
	END IF;

	-- 1. rollups
	SELECT r.watermark INTO w FROM perfstore.rollup_state r;
	IF w IS NULL THEN
		lo := (SELECT pg_catalog.min(s.ts) FROM perfstore.samples s);
	ELSE
		lo := LEAST(w, hi OPERATOR(pg_catalog.-) late_window);
	END IF;
	refreshed := perfstore_internal.refresh_rollups_skipping(COALESCE(lo, hi), hi);
	INSERT INTO perfstore.rollup_state (watermark) VALUES (hi)
	ON CONFLICT (singleton) DO UPDATE
		SET watermark = GREATEST(perfstore.rollup_state.watermark, excluded.watermark);
	PERFORM perfstore_internal.watermark_moved();

	-- 1b. late data: the logged series-hours below the watermark, bounded
	late := perfstore.refresh_late_data(1000);
	late_pending := (SELECT pg_catalog.count(*) FROM perfstore.rollup_invalidations);

	-- 2. partitions
	parts := perfstore.maintain_partitions(lock_timeout_ms, max_partitions);

	-- 3. retention: whole partitions that end before the window
	IF retention IS NOT NULL THEN
		PERFORM pg_catalog.set_config('lock_timeout', lock_timeout_ms::text OPERATOR(pg_catalog.||) 'ms', true);
		FOR p IN
			SELECT pt.partition FROM perfstore.partitions pt
			WHERE NOT pt.is_default
			  AND pt.range_end OPERATOR(pg_catalog.<=) (pg_catalog.now() OPERATOR(pg_catalog.-) retention)
			ORDER BY pt.range_end
		LOOP
			BEGIN
				EXECUTE pg_catalog.format('DROP TABLE %s', p.partition);
				dropped := dropped OPERATOR(pg_catalog.+) 1;
			EXCEPTION
				WHEN lock_not_available THEN
					skipped := skipped OPERATOR(pg_catalog.+) 1;
				WHEN OTHERS THEN
					GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
					RAISE WARNING 'perfstore maintain(): could not drop partition %', p.partition
						USING ERRCODE = state,
						DETAIL = pg_catalog.format('Dropping it failed: %s.', msg);
					failed := failed OPERATOR(pg_catalog.+) 1;
			END;
		END LOOP;
		PERFORM pg_catalog.set_config('lock_timeout', old_lock_timeout, true);
	END IF;

	RETURN pg_catalog.jsonb_build_object(
		'busy', false,
		'rollup_from', lo,
		'watermark', hi,
		'rollup_buckets', refreshed.written,
		'rollup_buckets_skipped', refreshed.skipped,
		'late_series_hours', late,
		'late_pending', late_pending,
		'partitions_created', (parts OPERATOR(pg_catalog.->>) 'partitions_created'::text)::integer,
		'rows_moved', (parts OPERATOR(pg_catalog.->>) 'rows_moved'::text)::bigint,
		'partitions_dropped', dropped,
		'partitions_failed', (parts OPERATOR(pg_catalog.->>) 'partitions_failed'::text)::integer
			OPERATOR(pg_catalog.+) failed,
		'partitions_pending', (parts OPERATOR(pg_catalog.->>) 'partitions_pending'::text)::integer,
		'skipped', (parts OPERATOR(pg_catalog.->>) 'skipped'::text)::integer OPERATOR(pg_catalog.+) skipped,
		'ms', pg_catalog.round(EXTRACT(epoch FROM pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started)::numeric
			OPERATOR(pg_catalog.*) 1000::numeric, 1));
END
$$;
COMMENT ON FUNCTION perfstore.maintain(integer, integer) IS
	'one maintenance pass: refresh rollups from the watermark (skipping minutes that cannot be aggregated) and the logged late data, create at most max_partitions partitions, drop partitions past the retention; safe with concurrent ingest and concurrent calls';
REVOKE EXECUTE ON FUNCTION perfstore.maintain(integer, integer) FROM PUBLIC;

-- The real-time views as Citus plans them, put in place by distribute().
-- They give the rows of the 0.4.0 definitions (which a single node keeps:
-- their plans use the planner's estimate of rollup_watermark(), evaluated
-- while planning), written so that Citus runs them on the shards:
--   * the watermark is a scalar subquery, evaluated once on the
--     coordinator: a call of rollup_watermark() sent to the shards would
--     read the reference table rollup_state from a query on a shard, which
--     Citus refuses;
--   * the buckets of logged late data come from a subquery on the log
--     instead of late_buckets() (a function that Citus would evaluate on
--     the coordinator, with a query on the distributed log inside), joined
--     with the samples and grouped by series_id (1 minute) or aggregated
--     from samples_1m in a lateral subquery grouped by series_id (5
--     minutes, 1 hour): grouped by the distribution column, each runs on
--     the shard of its series (the lateral form over samples, joined with
--     series, is a join Citus cannot plan);
--   * the one-time check for an empty log selects a column (Citus cannot
--     plan a subquery without one).
-- The views keep their owner, privileges, comments and extension
-- membership.  The texts are parsed under the pinned search_path.
CREATE FUNCTION perfstore_internal.distribute_views() RETURNS void
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	EXECUTE $view$
		CREATE OR REPLACE VIEW perfstore.samples_1m AS
		SELECT r.series_id, r.bucket, r.sketch, r.stats
		FROM perfstore.rollup_1m r
		WHERE r.bucket < (SELECT perfstore.rollup_watermark())
		  AND NOT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations i
		                  WHERE i.series_id = r.series_id
		                    AND r.bucket >= pg_catalog.date_trunc('minute', i.lo, 'UTC')
		                    AND r.bucket <= pg_catalog.date_trunc('minute', i.hi, 'UTC'))
		UNION ALL
		SELECT s.series_id, pg_catalog.date_trunc('minute', s.ts, 'UTC') AS bucket,
		       perfstore.sketch_agg(s.value) AS sketch, perfstore.stats_agg(s.value) AS stats
		FROM perfstore.samples s
		WHERE s.ts >= (SELECT perfstore.rollup_watermark())
		GROUP BY 1, 2
		UNION ALL
		SELECT g.series_id, g.bucket, perfstore.sketch_agg(x.value) AS sketch, perfstore.stats_agg(x.value) AS stats
		FROM (SELECT DISTINCT i.series_id, b.bucket
		      FROM perfstore.rollup_invalidations i,
		           pg_catalog.generate_series(pg_catalog.date_bin(interval '1 minute', i.lo, timestamptz '2000-01-01 00:00+00'),
		                                      pg_catalog.date_bin(interval '1 minute', i.hi, timestamptz '2000-01-01 00:00+00'),
		                                      interval '1 minute') AS b(bucket)
		      WHERE b.bucket < pg_catalog.date_bin(interval '1 minute', (SELECT perfstore.rollup_watermark()), timestamptz '2000-01-01 00:00+00')) g
		JOIN perfstore.samples x
		  ON x.series_id = g.series_id AND x.ts >= g.bucket AND x.ts < g.bucket + interval '1 minute'
		WHERE (SELECT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations))
		GROUP BY g.series_id, g.bucket
	$view$;
	EXECUTE $view$
		CREATE OR REPLACE VIEW perfstore.samples_5m AS
		SELECT r.series_id, r.bucket, r.sketch, r.stats
		FROM perfstore.rollup_5m r
		WHERE r.bucket < pg_catalog.date_bin('5 minutes', (SELECT perfstore.rollup_watermark()), timestamptz '2000-01-01 00:00+00')
		  AND NOT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations i
		                  WHERE i.series_id = r.series_id
		                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '5 minutes')
		UNION ALL
		SELECT m.series_id, pg_catalog.date_bin('5 minutes', m.bucket, timestamptz '2000-01-01 00:00+00') AS bucket,
		       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
		FROM perfstore.samples_1m m
		WHERE m.bucket >= pg_catalog.date_bin('5 minutes', (SELECT perfstore.rollup_watermark()), timestamptz '2000-01-01 00:00+00')
		GROUP BY 1, 2
		UNION ALL
		SELECT g.series_id, g.bucket, a.sketch, a.stats
		FROM (SELECT DISTINCT i.series_id, b.bucket
		      FROM perfstore.rollup_invalidations i,
		           pg_catalog.generate_series(pg_catalog.date_bin(interval '5 minutes', i.lo, timestamptz '2000-01-01 00:00+00'),
		                                      pg_catalog.date_bin(interval '5 minutes', i.hi, timestamptz '2000-01-01 00:00+00'),
		                                      interval '5 minutes') AS b(bucket)
		      WHERE b.bucket < pg_catalog.date_bin(interval '5 minutes', (SELECT perfstore.rollup_watermark()), timestamptz '2000-01-01 00:00+00')) g
		CROSS JOIN LATERAL (
			SELECT perfstore.sketch_agg(x.sketch) AS sketch, perfstore.stats_agg(x.stats) AS stats
			FROM perfstore.samples_1m x
			WHERE x.series_id = g.series_id AND x.bucket >= g.bucket AND x.bucket < g.bucket + interval '5 minutes'
			GROUP BY x.series_id) a
		WHERE (SELECT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations))
	$view$;
	EXECUTE $view$
		CREATE OR REPLACE VIEW perfstore.samples_1h AS
		SELECT r.series_id, r.bucket, r.sketch, r.stats
		FROM perfstore.rollup_1h r
		WHERE r.bucket < pg_catalog.date_trunc('hour', (SELECT perfstore.rollup_watermark()), 'UTC')
		  AND NOT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations i
		                  WHERE i.series_id = r.series_id
		                    AND i.hi >= r.bucket AND i.lo < r.bucket + interval '1 hour')
		UNION ALL
		SELECT m.series_id, pg_catalog.date_trunc('hour', m.bucket, 'UTC') AS bucket,
		       perfstore.sketch_agg(m.sketch) AS sketch, perfstore.stats_agg(m.stats) AS stats
		FROM perfstore.samples_1m m
		WHERE m.bucket >= pg_catalog.date_trunc('hour', (SELECT perfstore.rollup_watermark()), 'UTC')
		GROUP BY 1, 2
		UNION ALL
		SELECT g.series_id, g.bucket, a.sketch, a.stats
		FROM (SELECT DISTINCT i.series_id, b.bucket
		      FROM perfstore.rollup_invalidations i,
		           pg_catalog.generate_series(pg_catalog.date_bin(interval '1 hour', i.lo, timestamptz '2000-01-01 00:00+00'),
		                                      pg_catalog.date_bin(interval '1 hour', i.hi, timestamptz '2000-01-01 00:00+00'),
		                                      interval '1 hour') AS b(bucket)
		      WHERE b.bucket < pg_catalog.date_bin(interval '1 hour', (SELECT perfstore.rollup_watermark()), timestamptz '2000-01-01 00:00+00')) g
		CROSS JOIN LATERAL (
			SELECT perfstore.sketch_agg(x.sketch) AS sketch, perfstore.stats_agg(x.stats) AS stats
			FROM perfstore.samples_1m x
			WHERE x.series_id = g.series_id AND x.bucket >= g.bucket AND x.bucket < g.bucket + interval '1 hour'
			GROUP BY x.series_id) a
		WHERE (SELECT EXISTS (SELECT 1 FROM perfstore.rollup_invalidations))
	$view$;
END
$$;
COMMENT ON FUNCTION perfstore_internal.distribute_views() IS
	'replace the real-time views (samples_1m, samples_5m, samples_1h) by definitions that give the same rows and that Citus runs on the shards (distribute() calls it)';
REVOKE ALL ON FUNCTION perfstore_internal.distribute_views() FROM PUBLIC;

-- grant_reader(): as in 0.4.0, and SELECT on the late-data log.  The
-- real-time views read the log; on a distributed store their queries on
-- the shards run as the caller rather than as the views' owner, so a reader
-- needs it there (on a single node the views read it as their owner).  The
-- log holds series ids and time ranges, which a reader sees in samples.
-- On a distributed store the grants go to the shards, and Citus wants one
-- connection per node for them within the transaction (foreign keys among
-- the reference tables).
CREATE OR REPLACE FUNCTION perfstore.grant_reader(role regrole) RETURNS void
	LANGUAGE plpgsql VOLATILE STRICT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF perfstore_internal.citus_table('perfstore.samples'::pg_catalog.regclass) THEN
		PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
	END IF;
	EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA perfstore TO %s', role);
	EXECUTE pg_catalog.format('GRANT SELECT ON perfstore.series, perfstore.samples, perfstore.rollup_1m,
		perfstore.rollup_1h, perfstore.rollup_state, perfstore.settings,
		perfstore.workflow_runs, perfstore.task_executions, perfstore.workflow_summary,
		perfstore.agent_summary, perfstore.samples_1m, perfstore.samples_1h,
		perfstore.partitions TO %s', role);
	EXECUTE pg_catalog.format('GRANT SELECT ON perfstore.rollup_5m, perfstore.samples_5m TO %s', role);
	EXECUTE pg_catalog.format('GRANT SELECT ON perfstore.bench_runs, perfstore.bench_statements,
		perfstore.bench_intervals, perfstore.nplus1_findings, perfstore.bench_run_summary,
		perfstore.bench_statement_summary TO %s', role);
	EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION perfstore.compare_runs(bigint, bigint, float8),
		perfstore.compare_to_history(bigint, integer, float8) TO %s', role);
	EXECUTE pg_catalog.format('GRANT SELECT ON perfstore.rollup_invalidations TO %s', role);
END
$$;
COMMENT ON FUNCTION perfstore.grant_reader(regrole) IS
	'let a role (Grafana''s) read the store: SELECT on its tables and views (the late-data log included, which the views read on a distributed store) and the compare functions, nothing else';

-- The error counts of two drivers of a run group, merged: the sum per
-- SQLSTATE.  A function of its own rather than a subquery in store_run()'s
-- ON CONFLICT DO UPDATE, which Citus does not run on a reference table.
CREATE FUNCTION perfstore_internal.merge_error_counts(a jsonb, b jsonb) RETURNS jsonb
	LANGUAGE sql IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(pg_catalog.jsonb_object_agg(x.key, x.n ORDER BY x.key), '{}'::jsonb)
	FROM (SELECT u.key, pg_catalog.sum(u.value::bigint) AS n
	      FROM (SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(a) j
	            UNION ALL
	            SELECT j.key, j.value FROM pg_catalog.jsonb_each_text(b) j) u
	      GROUP BY u.key) x
$$;
COMMENT ON FUNCTION perfstore_internal.merge_error_counts(jsonb, jsonb) IS
	'two run documents'' error counts (SQLSTATE to count) merged: the sum per SQLSTATE, keys in order; NULL counts as empty';
REVOKE ALL ON FUNCTION perfstore_internal.merge_error_counts(jsonb, jsonb) FROM PUBLIC;

-- store_run(): as in 0.4.0, with a run group's error counts merged by
-- merge_error_counts(), so that it also runs on a distributed store (where
-- the run tables are reference tables).
CREATE OR REPLACE FUNCTION perfstore.store_run(report jsonb) RETURNS bigint
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	doc jsonb := store_run.report;
	v_name text;
	v_group text;
	v_labels jsonb;
	v_config jsonb;
	v_host text;
	v_started timestamptz;
	v_finished timestamptz;
	v_errors jsonb;
	v_latency perfstore.sketch;
	stored jsonb;
	rid bigint;
	i integer;
	k text;
	f text;
	val jsonb;
	state text;
	msg text;
	det text;
	hnt text;
BEGIN
	IF doc IS NULL OR pg_catalog.jsonb_typeof(doc) <> 'object' THEN
		RAISE EXCEPTION 'the run document must be a JSON object, not %',
			coalesce(pg_catalog.jsonb_typeof(doc), 'NULL')
			USING ERRCODE = 'invalid_parameter_value';
	END IF;

	-- the run
	v_name := perfstore_internal.run_doc_text(doc -> 'name', 'name');
	IF v_name IS NULL OR v_name = '' THEN
		RAISE EXCEPTION 'field "name" of the run document is missing or empty'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_group := perfstore_internal.run_doc_text(doc -> 'run_group', 'run_group');
	IF v_group = '' THEN
		RAISE EXCEPTION 'field "run_group" of the run document must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Leave it out or make it null for a run without a group.';
	END IF;
	v_labels := coalesce(doc -> 'labels', '{}');
	IF pg_catalog.jsonb_typeof(v_labels) = 'null' THEN
		v_labels := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_labels) <> 'object' THEN
		RAISE EXCEPTION 'field "labels" of the run document must be an object, not %',
			pg_catalog.jsonb_typeof(v_labels)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR k, val IN SELECT j.key, j.value FROM pg_catalog.jsonb_each(v_labels) j LOOP
		IF pg_catalog.jsonb_typeof(val) <> 'string' THEN
			RAISE EXCEPTION 'field "labels.%" of the run document must be a string, not %',
				k, pg_catalog.jsonb_typeof(val)
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	v_config := coalesce(doc -> 'config', '{}');
	IF pg_catalog.jsonb_typeof(v_config) = 'null' THEN
		v_config := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_config) <> 'object' THEN
		RAISE EXCEPTION 'field "config" of the run document must be an object, not %',
			pg_catalog.jsonb_typeof(v_config)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_host := perfstore_internal.run_doc_text(doc -> 'host', 'host');
	v_started := perfstore_internal.run_doc_time(doc -> 'started_at', 'started_at');
	v_finished := perfstore_internal.run_doc_time(doc -> 'finished_at', 'finished_at');
	IF v_started IS NULL OR v_finished IS NULL THEN
		RAISE EXCEPTION 'field "%" of the run document is missing',
			CASE WHEN v_started IS NULL THEN 'started_at' ELSE 'finished_at' END
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF v_finished < v_started THEN
		RAISE EXCEPTION 'field "finished_at" of the run document (%) is before "started_at" (%)',
			v_finished, v_started
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM perfstore_internal.run_doc_number(doc -> 'tps', 'tps'),
		perfstore_internal.run_doc_number(doc -> 'duration_s', 'duration_s'),
		perfstore_internal.run_doc_count(doc -> 'transactions', 'transactions'),
		perfstore_internal.run_doc_count(doc -> 'failed_transactions', 'failed_transactions'),
		perfstore_internal.run_doc_count(doc -> 'retries', 'retries'),
		perfstore_internal.run_doc_count(doc -> 'clients', 'clients');
	IF perfstore_internal.run_doc_count(doc -> 'clients', 'clients') > 2147483647 THEN
		RAISE EXCEPTION 'field "clients" of the run document is out of range'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	v_errors := coalesce(doc -> 'errors', '{}');
	IF pg_catalog.jsonb_typeof(v_errors) = 'null' THEN
		v_errors := '{}';
	ELSIF pg_catalog.jsonb_typeof(v_errors) <> 'object' THEN
		RAISE EXCEPTION 'field "errors" of the run document must be an object (SQLSTATE to count), not %',
			pg_catalog.jsonb_typeof(v_errors)
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	FOR k, val IN SELECT j.key, j.value FROM pg_catalog.jsonb_each(v_errors) j LOOP
		IF perfstore_internal.run_doc_count(val, 'errors.' || k) IS NULL THEN
			RAISE EXCEPTION 'field "errors.%" of the run document must be a count, not null', k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	v_latency := perfstore_internal.run_doc_sketch(doc -> 'latency_sketch', 'latency_sketch');

	-- the arrays: each element an object, then every field (set-based;
	-- the sketches are parsed once, when they are inserted)
	FOREACH f IN ARRAY ARRAY['statements', 'intervals', 'nplus1_findings'] LOOP
		IF doc -> f IS NOT NULL AND pg_catalog.jsonb_typeof(doc -> f) NOT IN ('array', 'null') THEN
			RAISE EXCEPTION 'field "%" of the run document must be an array, not %',
				f, pg_catalog.jsonb_typeof(doc -> f)
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
		SELECT x.o - 1, pg_catalog.jsonb_typeof(x.e) INTO i, k
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> f) = 'array' THEN doc -> f ELSE '[]' END)
			WITH ORDINALITY x(e, o)
		WHERE pg_catalog.jsonb_typeof(x.e) <> 'object'
		ORDER BY x.o LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'field "%[%]" of the run document must be an object, not %', f, i, k
				USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END LOOP;
	-- The array elements' fields, then every insert, in one block: the
	-- timestamps and sketches of the elements are cast without a
	-- subtransaction each, and when a cast fails the handler finds the field
	-- (the slow way) and names it.
	BEGIN
	-- every field goes into the aggregate, so that none is optimized away
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN coalesce(perfstore_internal.run_doc_text(x.e -> 'fingerprint', pg_catalog.format('statements[%s].fingerprint', x.o - 1)), '') = ''
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('statements[%s].fingerprint', x.o - 1), 'is missing or empty') END,
		       perfstore_internal.run_doc_text(x.e -> 'query', pg_catalog.format('statements[%s].query', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'calls', pg_catalog.format('statements[%s].calls', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'rows', pg_catalog.format('statements[%s].rows', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'errors', pg_catalog.format('statements[%s].errors', x.o - 1)),
		       perfstore_internal.run_doc_text(x.e -> 'latency_sketch', pg_catalog.format('statements[%s].latency_sketch', x.o - 1))))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN NOT pg_catalog.isfinite(perfstore_internal.run_doc_text(x.e -> 'started_at',
		                          pg_catalog.format('intervals[%s].started_at', x.o - 1))::timestamptz)
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('intervals[%s].started_at', x.o - 1),
		                                        'must be a finite timestamp') END,
		       perfstore_internal.run_doc_text(x.e -> 'latency_sketch', pg_catalog.format('intervals[%s].latency_sketch', x.o - 1)),
		       perfstore_internal.run_doc_number(x.e -> 'length_s', pg_catalog.format('intervals[%s].length_s', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'transactions', pg_catalog.format('intervals[%s].transactions', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'failed', pg_catalog.format('intervals[%s].failed', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'errors', pg_catalog.format('intervals[%s].errors', x.o - 1)),
		       perfstore_internal.run_doc_number(x.e -> 'tps', pg_catalog.format('intervals[%s].tps', x.o - 1))))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
	PERFORM max(pg_catalog.concat_ws(',',
		       CASE WHEN coalesce(perfstore_internal.run_doc_text(x.e -> 'source_fingerprint', pg_catalog.format('nplus1_findings[%s].source_fingerprint', x.o - 1)), '') = ''
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('nplus1_findings[%s].source_fingerprint', x.o - 1), 'is missing or empty') END,
		       CASE WHEN coalesce(perfstore_internal.run_doc_text(x.e -> 'repeated_fingerprint', pg_catalog.format('nplus1_findings[%s].repeated_fingerprint', x.o - 1)), '') = ''
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('nplus1_findings[%s].repeated_fingerprint', x.o - 1), 'is missing or empty') END,
		       perfstore_internal.run_doc_text(x.e -> 'source', pg_catalog.format('nplus1_findings[%s].source', x.o - 1)),
		       perfstore_internal.run_doc_text(x.e -> 'repeated', pg_catalog.format('nplus1_findings[%s].repeated', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'occurrences', pg_catalog.format('nplus1_findings[%s].occurrences', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'repeats_total', pg_catalog.format('nplus1_findings[%s].repeats_total', x.o - 1)),
		       perfstore_internal.run_doc_count(x.e -> 'repeats_max', pg_catalog.format('nplus1_findings[%s].repeats_max', x.o - 1)),
		       perfstore_internal.run_doc_number(x.e -> 'time_ms', pg_catalog.format('nplus1_findings[%s].time_ms', x.o - 1)),
		       perfstore_internal.run_doc_text(x.e -> 'suggestion', pg_catalog.format('nplus1_findings[%s].suggestion', x.o - 1)),
		       CASE WHEN pg_catalog.jsonb_typeof(x.e -> 'example_params') NOT IN ('array', 'null')
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('nplus1_findings[%s].example_params', x.o - 1),
		                                        'must be an array, not ' || pg_catalog.jsonb_typeof(x.e -> 'example_params'))
		            WHEN pg_catalog.jsonb_typeof(x.e -> 'example_params') = 'array'
		                 AND EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(x.e -> 'example_params') p(v)
		                             WHERE pg_catalog.jsonb_typeof(p.v) NOT IN ('string', 'null'))
		            THEN perfstore_internal.run_doc_fail(pg_catalog.format('nplus1_findings[%s].example_params', x.o - 1),
		                                        'must hold strings') END))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'nplus1_findings') = 'array' THEN doc -> 'nplus1_findings' ELSE '[]' END)
			WITH ORDINALITY x(e, o);

	-- the document as received, without its sketches
	stored := doc - 'latency_sketch';
	FOREACH f IN ARRAY ARRAY['statements', 'intervals'] LOOP
		IF pg_catalog.jsonb_typeof(doc -> f) = 'array' THEN
			stored := pg_catalog.jsonb_set(stored, ARRAY[f],
				(SELECT coalesce(pg_catalog.jsonb_agg(x.e - 'latency_sketch' ORDER BY x.o), '[]')
				 FROM pg_catalog.jsonb_array_elements(doc -> f) WITH ORDINALITY x(e, o)));
		END IF;
	END LOOP;

	-- the run row: created, or merged into the group's row (locked)
	INSERT INTO perfstore.bench_runs AS r (name, run_group, labels, config, hosts, drivers, clients,
		started_at, finished_at, duration_s, tps, transactions, failed_transactions, retries,
		errors, latency, report)
	VALUES (v_name, v_group, v_labels, v_config,
		CASE WHEN coalesce(v_host, '') = '' THEN '{}' ELSE ARRAY[v_host] END, 1,
		perfstore_internal.run_doc_count(doc -> 'clients', 'clients')::integer,
		v_started, v_finished,
		perfstore_internal.run_doc_number(doc -> 'duration_s', 'duration_s'),
		perfstore_internal.run_doc_number(doc -> 'tps', 'tps'),
		perfstore_internal.run_doc_count(doc -> 'transactions', 'transactions'),
		perfstore_internal.run_doc_count(doc -> 'failed_transactions', 'failed_transactions'),
		perfstore_internal.run_doc_count(doc -> 'retries', 'retries'),
		v_errors, v_latency, stored)
	ON CONFLICT ON CONSTRAINT bench_runs_group DO UPDATE SET
		labels = excluded.labels || r.labels,
		hosts = r.hosts || excluded.hosts,
		drivers = r.drivers + 1,
		clients = CASE WHEN r.clients IS NULL THEN excluded.clients
		               WHEN excluded.clients IS NULL THEN r.clients
		               ELSE r.clients + excluded.clients END,
		started_at = LEAST(r.started_at, excluded.started_at),
		finished_at = GREATEST(r.finished_at, excluded.finished_at),
		duration_s = GREATEST(r.duration_s, excluded.duration_s),
		tps = CASE WHEN r.tps IS NULL THEN excluded.tps WHEN excluded.tps IS NULL THEN r.tps
		           ELSE r.tps + excluded.tps END,
		transactions = CASE WHEN r.transactions IS NULL THEN excluded.transactions
		                    WHEN excluded.transactions IS NULL THEN r.transactions
		                    ELSE r.transactions + excluded.transactions END,
		failed_transactions = CASE WHEN r.failed_transactions IS NULL THEN excluded.failed_transactions
		                           WHEN excluded.failed_transactions IS NULL THEN r.failed_transactions
		                           ELSE r.failed_transactions + excluded.failed_transactions END,
		retries = CASE WHEN r.retries IS NULL THEN excluded.retries
		               WHEN excluded.retries IS NULL THEN r.retries
		               ELSE r.retries + excluded.retries END,
		errors = perfstore_internal.merge_error_counts(r.errors, excluded.errors),
		latency = perfstore.sketch_combine(r.latency, excluded.latency)
	RETURNING r.id INTO rid;

	INSERT INTO perfstore.bench_statements AS s (run_id, fingerprint, query, calls, rows, errors, latency)
	SELECT rid, x.e ->> 'fingerprint', min(x.e ->> 'query'),
	       sum((x.e ->> 'calls')::numeric::bigint),
	       sum((x.e ->> 'rows')::numeric::bigint),
	       sum((x.e ->> 'errors')::numeric::bigint),
	       perfstore.sketch_agg((x.e ->> 'latency_sketch')::perfstore.sketch)
	FROM pg_catalog.jsonb_array_elements(
		CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
		WITH ORDINALITY x(e, o)
	GROUP BY x.e ->> 'fingerprint'
	ORDER BY x.e ->> 'fingerprint'
	ON CONFLICT (run_id, fingerprint) DO UPDATE SET
		query = coalesce(s.query, excluded.query),
		calls = CASE WHEN s.calls IS NULL THEN excluded.calls WHEN excluded.calls IS NULL THEN s.calls
		             ELSE s.calls + excluded.calls END,
		rows = CASE WHEN s.rows IS NULL THEN excluded.rows WHEN excluded.rows IS NULL THEN s.rows
		            ELSE s.rows + excluded.rows END,
		errors = CASE WHEN s.errors IS NULL THEN excluded.errors WHEN excluded.errors IS NULL THEN s.errors
		              ELSE s.errors + excluded.errors END,
		latency = perfstore.sketch_combine(s.latency, excluded.latency);

	INSERT INTO perfstore.bench_intervals AS b (run_id, seq, started_at, length_s, transactions, failed,
		errors, tps, latency)
	SELECT rid, x.o::integer, (x.e ->> 'started_at')::timestamptz,
	       (x.e ->> 'length_s')::float8,
	       (x.e ->> 'transactions')::numeric::bigint,
	       (x.e ->> 'failed')::numeric::bigint,
	       (x.e ->> 'errors')::numeric::bigint,
	       (x.e ->> 'tps')::float8,
	       (x.e ->> 'latency_sketch')::perfstore.sketch
	FROM pg_catalog.jsonb_array_elements(
		CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
		WITH ORDINALITY x(e, o)
	ORDER BY x.o
	ON CONFLICT (run_id, seq) DO UPDATE SET
		started_at = LEAST(b.started_at, excluded.started_at),
		length_s = GREATEST(b.length_s, excluded.length_s),
		transactions = CASE WHEN b.transactions IS NULL THEN excluded.transactions
		                    WHEN excluded.transactions IS NULL THEN b.transactions
		                    ELSE b.transactions + excluded.transactions END,
		failed = CASE WHEN b.failed IS NULL THEN excluded.failed WHEN excluded.failed IS NULL THEN b.failed
		              ELSE b.failed + excluded.failed END,
		errors = CASE WHEN b.errors IS NULL THEN excluded.errors WHEN excluded.errors IS NULL THEN b.errors
		              ELSE b.errors + excluded.errors END,
		tps = CASE WHEN b.tps IS NULL THEN excluded.tps WHEN excluded.tps IS NULL THEN b.tps
		           ELSE b.tps + excluded.tps END,
		latency = perfstore.sketch_combine(b.latency, excluded.latency);

	INSERT INTO perfstore.nplus1_findings AS n (run_id, source_fingerprint, repeated_fingerprint, source,
		repeated, occurrences, repeats_total, repeats_max, time_ms, example_params, suggestion)
	SELECT rid, g.source_fingerprint, g.repeated_fingerprint, g.source, g.repeated, g.occurrences,
	       g.repeats_total, g.repeats_max, g.time_ms,
	       (SELECT pg_catalog.array_agg(p.v ORDER BY p.o)
	        FROM pg_catalog.jsonb_array_elements_text(
	            CASE WHEN pg_catalog.jsonb_typeof(g.params) = 'array' THEN g.params END)
	            WITH ORDINALITY p(v, o)),
	       g.suggestion
	FROM (SELECT x.e ->> 'source_fingerprint' AS source_fingerprint,
	             x.e ->> 'repeated_fingerprint' AS repeated_fingerprint,
	             min(x.e ->> 'source') AS source, min(x.e ->> 'repeated') AS repeated,
	             sum((x.e ->> 'occurrences')::numeric::bigint) AS occurrences,
	             sum((x.e ->> 'repeats_total')::numeric::bigint) AS repeats_total,
	             max((x.e ->> 'repeats_max')::numeric::bigint) AS repeats_max,
	             sum((x.e ->> 'time_ms')::float8) AS time_ms,
	             (pg_catalog.array_agg(x.e -> 'example_params' ORDER BY x.o))[1] AS params,
	             min(x.e ->> 'suggestion') AS suggestion
	      FROM pg_catalog.jsonb_array_elements(
	          CASE WHEN pg_catalog.jsonb_typeof(doc -> 'nplus1_findings') = 'array'
	               THEN doc -> 'nplus1_findings' ELSE '[]' END) WITH ORDINALITY x(e, o)
	      GROUP BY 1, 2) g
	ORDER BY 2, 3
	ON CONFLICT (run_id, source_fingerprint, repeated_fingerprint) DO UPDATE SET
		source = coalesce(n.source, excluded.source),
		repeated = coalesce(n.repeated, excluded.repeated),
		occurrences = CASE WHEN n.occurrences IS NULL THEN excluded.occurrences
		                   WHEN excluded.occurrences IS NULL THEN n.occurrences
		                   ELSE n.occurrences + excluded.occurrences END,
		repeats_total = CASE WHEN n.repeats_total IS NULL THEN excluded.repeats_total
		                     WHEN excluded.repeats_total IS NULL THEN n.repeats_total
		                     ELSE n.repeats_total + excluded.repeats_total END,
		repeats_max = GREATEST(n.repeats_max, excluded.repeats_max),
		time_ms = CASE WHEN n.time_ms IS NULL THEN excluded.time_ms
		               WHEN excluded.time_ms IS NULL THEN n.time_ms
		               ELSE n.time_ms + excluded.time_ms END,
		example_params = coalesce(n.example_params, excluded.example_params),
		suggestion = coalesce(n.suggestion, excluded.suggestion);

	EXCEPTION WHEN data_exception THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
		-- which element: these raise naming the field
		PERFORM perfstore_internal.run_doc_time(x.e -> 'started_at', pg_catalog.format('intervals[%s].started_at', x.o - 1)),
			perfstore_internal.run_doc_sketch(x.e -> 'latency_sketch', pg_catalog.format('intervals[%s].latency_sketch', x.o - 1))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'intervals') = 'array' THEN doc -> 'intervals' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
		PERFORM perfstore_internal.run_doc_sketch(x.e -> 'latency_sketch', pg_catalog.format('statements[%s].latency_sketch', x.o - 1))
		FROM pg_catalog.jsonb_array_elements(
			CASE WHEN pg_catalog.jsonb_typeof(doc -> 'statements') = 'array' THEN doc -> 'statements' ELSE '[]' END)
			WITH ORDINALITY x(e, o);
		RAISE EXCEPTION USING ERRCODE = state, MESSAGE = msg, DETAIL = coalesce(det, ''), HINT = coalesce(hnt, '');
	END;

	RETURN rid;
END
$$;
COMMENT ON FUNCTION perfstore.store_run(jsonb) IS
	'store one driver''s run document (docs/runs.md) with its statements, intervals and N+1 findings; drivers with the same name and run_group merge into one run; returns the run id; a malformed document raises 22023 naming the field and stores nothing';

-- distribute(): see the section header.  Checks first (Citus installed,
-- this node its coordinator, not distributed yet, a valid shard count),
-- then in one transaction: the foreign keys between the run tables are
-- dropped and re-created around the conversion (Citus would otherwise
-- turn a referencing table into a Citus local table, which recreates the
-- extension's views), every table becomes a reference or a distributed
-- table, and the coordinator's local copies of the rows are truncated
-- (the rows live on the shards from then on).
CREATE FUNCTION perfstore.distribute(shard_count integer DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	distributed constant text[] := ARRAY['perfstore.samples', 'perfstore.rollup_1m',
		'perfstore.rollup_5m', 'perfstore.rollup_1h', 'perfstore.rollup_invalidations',
		'perfstore_internal.late_claims'];
	reference text[];
	fkeys record;
	fkey_defs text[] := '{}';
	fkey_drops text[] := '{}';
	msg text;
	t text;
	d text;
	n integer;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension e
	               WHERE e.extname OPERATOR(pg_catalog.=) 'citus'::pg_catalog.name) THEN
		RAISE EXCEPTION 'cannot distribute the store: the Citus extension is not installed in database "%"',
			pg_catalog.current_database()
			USING ERRCODE = 'object_not_in_prerequisite_state',
			HINT = 'Add citus to shared_preload_libraries on every node, run CREATE EXTENSION citus and add the workers on the coordinator (docs/scale-out.md), then call distribute() there.';
	END IF;
	IF shard_count IS NOT NULL AND NOT shard_count OPERATOR(pg_catalog.>=) 1 THEN
		RAISE EXCEPTION 'shard_count must be at least 1, not %', shard_count
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF perfstore_internal.citus_table('perfstore.samples'::pg_catalog.regclass) THEN
		RAISE EXCEPTION 'the store is distributed already'
			USING ERRCODE = 'duplicate_object',
			DETAIL = 'perfstore.samples is a distributed table.',
			HINT = 'To change the number of shards, use Citus''s alter_distributed_table() on perfstore.samples with cascade_to_colocated => true.';
	END IF;
	IF NOT pg_catalog.citus_is_coordinator() THEN
		RAISE EXCEPTION 'cannot distribute the store: this node is not a Citus coordinator'
			USING ERRCODE = 'object_not_in_prerequisite_state',
			DETAIL = 'A node is the coordinator once it is in Citus''s metadata with group 0: worker nodes hold shards only.',
			HINT = 'On the coordinator, call citus_set_coordinator_host() and citus_add_node() for each worker, then distribute() there.';
	END IF;

	-- one connection per node for the whole transaction: the foreign keys
	-- re-created at the end, between reference tables, require it of every
	-- statement before them
	PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

	-- every other table of the extension: the series, the settings and the
	-- watermark, the workflow and load-test run tables
	SELECT pg_catalog.array_agg(c.oid::pg_catalog.regclass::text ORDER BY c.oid)
	INTO reference
	FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_depend dep
	  ON dep.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
	 AND dep.objid OPERATOR(pg_catalog.=) c.oid
	 AND dep.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
	 AND dep.deptype OPERATOR(pg_catalog.=) 'e'::"char"
	JOIN pg_catalog.pg_extension e
	  ON e.oid OPERATOR(pg_catalog.=) dep.refobjid
	 AND e.extname OPERATOR(pg_catalog.=) 'perfstore'::pg_catalog.name
	WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::"char"[])
	  AND NOT c.relispartition
	  AND c.relpersistence OPERATOR(pg_catalog.=) 'p'::"char"
	  AND NOT c.oid::pg_catalog.regclass::text OPERATOR(pg_catalog.=) ANY (distributed);

	-- foreign keys among them, dropped here and re-created below
	FOR fkeys IN
		SELECT con.conrelid::pg_catalog.regclass AS rel, con.conname,
		       pg_catalog.pg_get_constraintdef(con.oid) AS def
		FROM pg_catalog.pg_constraint con
		WHERE con.contype OPERATOR(pg_catalog.=) 'f'::"char"
		  AND con.conrelid::pg_catalog.regclass::text OPERATOR(pg_catalog.=) ANY (reference)
		ORDER BY con.oid
	LOOP
		fkey_defs := fkey_defs OPERATOR(pg_catalog.||) pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s',
			fkeys.rel, fkeys.conname, fkeys.def);
		fkey_drops := fkey_drops OPERATOR(pg_catalog.||) pg_catalog.format('ALTER TABLE IF EXISTS %s DROP CONSTRAINT IF EXISTS %I',
			fkeys.rel, fkeys.conname);
		EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', fkeys.rel, fkeys.conname);
	END LOOP;

	-- The workers' own copies of these tables (created with the extension
	-- there, the shells of the coordinator's tables from now on) have the
	-- foreign keys too: dropped there first, on connections of their own
	-- before this transaction takes locks on the workers, so that
	-- re-creating them below creates them everywhere, shards included.
	FOREACH d IN ARRAY fkey_drops LOOP
		SELECT r.result INTO msg
		FROM pg_catalog.run_command_on_workers(d) r
		WHERE NOT r.success
		LIMIT 1;
		IF FOUND THEN
			RAISE EXCEPTION 'could not prepare the workers for the foreign keys of the run tables'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				DETAIL = pg_catalog.format('A worker failed "%s": %s.', d, msg);
		END IF;
	END LOOP;

	-- Citus refuses tables with triggers; maintain() sends what this
	-- trigger sent (watermark_moved())
	DROP TRIGGER rollup_state_changed ON perfstore.rollup_state;
	-- and record() caches series ids only while series_changed is in
	-- force: without it every call looks its series up (docs/scale-out.md)
	DROP TRIGGER series_changed ON perfstore.series;

	FOREACH t IN ARRAY reference LOOP
		PERFORM pg_catalog.create_reference_table(t::pg_catalog.regclass);
	END LOOP;
	PERFORM pg_catalog.create_distributed_table('perfstore.samples'::pg_catalog.regclass, 'series_id'::text,
		colocate_with => 'none'::text, shard_count => distribute.shard_count);
	FOREACH t IN ARRAY distributed[2:] LOOP
		PERFORM pg_catalog.create_distributed_table(t::pg_catalog.regclass, 'series_id'::text,
			colocate_with => 'perfstore.samples'::text);
	END LOOP;
	FOREACH t IN ARRAY reference OPERATOR(pg_catalog.||) distributed LOOP
		PERFORM pg_catalog.truncate_local_data_after_distributing_table(t::pg_catalog.regclass);
	END LOOP;
	FOREACH d IN ARRAY fkey_defs LOOP
		EXECUTE d;
	END LOOP;
	PERFORM perfstore_internal.distribute_views();

	-- The real-time views read the late-data log.  On the shards their
	-- queries run as the caller, not as the views' owner: the roles that
	-- read the views may read the log's shards (series ids and time ranges
	-- only).  grant_reader() grants it to the readers it adds.
	FOR fkeys IN
		SELECT DISTINCT a.grantee
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.samples_1m'::pg_catalog.regclass
		  AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'::text
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
	LOOP
		EXECUTE pg_catalog.format('GRANT SELECT ON perfstore.rollup_invalidations TO %s',
			CASE WHEN fkeys.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE fkeys.grantee::pg_catalog.regrole::text END);
	END LOOP;

	SELECT pg_catalog.count(*)::integer INTO n
	FROM pg_catalog.pg_dist_shard s
	WHERE s.logicalrelid OPERATOR(pg_catalog.=) 'perfstore.samples'::pg_catalog.regclass;
	RETURN pg_catalog.jsonb_build_object(
		'distributed', pg_catalog.to_jsonb(distributed),
		'reference', pg_catalog.to_jsonb(reference),
		'shard_count', n);
END
$$;
COMMENT ON FUNCTION perfstore.distribute(integer) IS
	'on a Citus coordinator: distribute samples, the rollups and the late-data log by series_id (co-located, shard_count shards or citus.shard_count), and make every other table of the store a reference table (docs/scale-out.md)';
REVOKE EXECUTE ON FUNCTION perfstore.distribute(integer) FROM PUBLIC;
