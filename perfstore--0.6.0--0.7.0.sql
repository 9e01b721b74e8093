/* perfstore--0.6.0--0.7.0.sql: batch ingest through a foreign data wrapper
 *
 * Sections, each with its own header below: batch ingest (docs/store.md,
 * "Batch ingest").
 *
 * Every function written in SQL or plpgsql sets search_path = pg_catalog,
 * pg_temp and qualifies every name, operators included (docs/security.md).
 */

\echo Use "ALTER EXTENSION perfstore UPDATE TO '0.7.0'" to load this file. \quit

--
-- batch ingest
--
-- perfstore.ingest becomes a foreign table of the extension's own foreign
-- data wrapper (src/ingest.c), with the columns, defaults and behaviour of
-- the view it replaces.  The view handed every row to a row trigger, for
-- which PostgreSQL builds a heap tuple per row; the wrapper receives the
-- row's values as they were read.  A batch ingest runs 9 % fewer
-- instructions (callgrind, 200,000 rows over 100 series; docs/store.md).
-- Only the extension's owner may use the server: no other role can put a
-- table of its own behind the wrapper.  The table is built under a
-- temporary name, takes over the grants of the view, and then its name;
-- those grants are given to the roles of this database, not by the
-- extension, so they are removed from the table's initial privileges
-- again, and pg_dump keeps them as a fresh install would.  The trigger
-- function stays: a database not updated yet runs this library too.
CREATE FUNCTION perfstore.ingest_fdw_handler() RETURNS fdw_handler
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'perfstore_ingest_fdw_handler';
COMMENT ON FUNCTION perfstore.ingest_fdw_handler() IS
	'the callbacks of the foreign data wrapper behind perfstore.ingest';
CREATE FUNCTION perfstore.ingest_fdw_validator(text[], oid) RETURNS void
	LANGUAGE C STRICT
	AS 'MODULE_PATHNAME', 'perfstore_ingest_fdw_validator';
COMMENT ON FUNCTION perfstore.ingest_fdw_validator(text[], oid) IS
	'refuses any option on the foreign data wrapper behind perfstore.ingest, its server and its table';
REVOKE ALL ON FUNCTION perfstore.ingest_fdw_handler() FROM PUBLIC;
REVOKE ALL ON FUNCTION perfstore.ingest_fdw_validator(text[], oid) FROM PUBLIC;
CREATE FOREIGN DATA WRAPPER perfstore_ingest
	HANDLER perfstore.ingest_fdw_handler
	VALIDATOR perfstore.ingest_fdw_validator;
COMMENT ON FOREIGN DATA WRAPPER perfstore_ingest IS
	'batch ingest into the perfstore store: the wrapper of perfstore.ingest';
CREATE SERVER perfstore_ingest FOREIGN DATA WRAPPER perfstore_ingest;
COMMENT ON SERVER perfstore_ingest IS
	'batch ingest into the perfstore store: the server of perfstore.ingest';
CREATE FOREIGN TABLE perfstore.ingest_0_7_0 (
	metric text,
	labels text DEFAULT '{}'::text,
	ts timestamptz DEFAULT pg_catalog.now(),
	value float8
) SERVER perfstore_ingest;
COMMENT ON FOREIGN TABLE perfstore.ingest_0_7_0 IS
	'batch ingest: COPY or INSERT (metric, labels, ts, value) rows here, labels a JSON object as text; each statement stores them in samples (always empty when read)';
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
		EXECUTE pg_catalog.format('GRANT %s%s ON perfstore.ingest_0_7_0 TO %s%s', g.privilege_type,
			CASE WHEN g.col IS NULL THEN ''::pg_catalog.text
			     ELSE pg_catalog.format(' (%I)', g.col) END,
			CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
			     ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END,
			CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION'::pg_catalog.text
			     ELSE ''::pg_catalog.text END);
	END LOOP;
	DELETE FROM pg_catalog.pg_init_privs ip
	WHERE ip.objoid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_7_0'::pg_catalog.regclass
	  AND ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass;
END
$do$;
DROP VIEW perfstore.ingest;
ALTER FOREIGN TABLE perfstore.ingest_0_7_0 RENAME TO ingest;
