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
