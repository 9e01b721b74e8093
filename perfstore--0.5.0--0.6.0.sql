/* perfstore--0.5.0--0.6.0.sql: the samples index without deduplication
 *
 * Sections, each with its own header below: the samples index
 * (docs/store.md, "Write path").
 *
 * Every function written in SQL or plpgsql sets search_path = pg_catalog,
 * pg_temp and qualifies every name, operators included (docs/security.md).
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.6.0'" to load this file. \quit

--
-- samples index
--
-- The (series_id, ts) index of every samples partition is built without
-- deduplication.  Its keys are distinct (one sample per series and
-- instant, but for the rare repeat), so a deduplication pass never frees
-- space; yet a B-tree runs one on a full leaf page before each split, and
-- a batch that writes a run of rows of one series splits leaf pages in a
-- row.  Without it a batch ingest runs 7 % fewer instructions, and a COPY
-- of resolved rows 4 % fewer (callgrind, 200,000 rows over 100 series;
-- docs/store.md).  Index size is unchanged for distinct keys.

-- create_partition(): as in 0.5.0, with the index option.
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
		EXECUTE pg_catalog.format('CREATE INDEX %I ON perfstore.%I (series_id, ts) WITH (deduplicate_items = off)', part OPERATOR(pg_catalog.||) '_series_ts', part);
		EXECUTE pg_catalog.format('INSERT INTO perfstore.%I (series_id, ts, value)
		                           SELECT d.series_id, d.ts, d.value FROM perfstore.samples_default d
		                           WHERE d.ts OPERATOR(pg_catalog.>=) $1 AND d.ts OPERATOR(pg_catalog.<) $2', part)
			USING lo, hi;
		GET DIAGNOSTICS moved = ROW_COUNT;
		DELETE FROM perfstore.samples_default d
		WHERE d.ts OPERATOR(pg_catalog.>=) lo AND d.ts OPERATOR(pg_catalog.<) hi;
	ELSE
		EXECUTE pg_catalog.format('CREATE INDEX %I ON perfstore.%I (series_id, ts) WITH (deduplicate_items = off)', part OPERATOR(pg_catalog.||) '_series_ts', part);
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

-- The partitions that exist already, samples_default included: the option
-- applies to the entries written from now on (no rebuild).  On a
-- distributed store Citus passes the change on to the shards.
DO $dedup$
DECLARE
	idx regclass;
BEGIN
	FOR idx IN
		SELECT i.indexrelid::pg_catalog.regclass
		FROM pg_catalog.pg_inherits h
		JOIN pg_catalog.pg_index i ON i.indrelid OPERATOR(pg_catalog.=) h.inhrelid
		JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid
		WHERE h.inhparent OPERATOR(pg_catalog.=) 'perfstore.samples'::pg_catalog.regclass
		  AND c.relname OPERATOR(pg_catalog.~~) '%\_series\_ts'
		ORDER BY 1
	LOOP
		EXECUTE pg_catalog.format('ALTER INDEX %s SET (deduplicate_items = off)', idx);
	END LOOP;
END
$dedup$;
