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

--
-- scale-out
--
