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
-- temporary name, takes over the grants of the view (each made again by
-- its grantor, so that a REVOKE ... CASCADE reaches it), and then its name;
-- those grants are given to the roles of this database, not by the
-- extension, so they are removed from the table's initial privileges
-- again, and pg_dump keeps them as a fresh install would.  The trigger
-- function stays: a database not updated yet runs this library too.
-- Objects of the database's own that depend on the view (a view over it,
-- a function with a SQL-standard body inserting into it) would make the
-- DROP VIEW below fail with a hint of CASCADE, which ALTER EXTENSION does
-- not take: refused first, naming them.
DO $do$
DECLARE
	deps pg_catalog.text;
BEGIN
	-- a view by its name, not by its rule; the view's own rule left out
	SELECT pg_catalog.string_agg(DISTINCT CASE WHEN r.oid IS NULL
			THEN pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
			ELSE pg_catalog.pg_describe_object('pg_catalog.pg_class'::pg_catalog.regclass, r.ev_class, 0) END, ', ')
	INTO deps
	FROM pg_catalog.pg_depend d
	LEFT JOIN pg_catalog.pg_rewrite r
		ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
		AND r.oid OPERATOR(pg_catalog.=) d.objid
	WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
	  AND d.refobjid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
	  AND d.deptype OPERATOR(pg_catalog.=) 'n'
	  AND r.ev_class IS DISTINCT FROM d.refobjid
	  AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend e
		WHERE e.classid OPERATOR(pg_catalog.=) d.classid
		  AND e.objid OPERATOR(pg_catalog.=) d.objid
		  AND e.deptype OPERATOR(pg_catalog.=) 'e');
	IF deps IS NOT NULL THEN
		RAISE EXCEPTION 'cannot update perfstore to 0.7.0 while other objects depend on the view perfstore.ingest'
			USING ERRCODE = 'dependent_objects_still_exist',
			DETAIL = pg_catalog.format('Depending on it: %s.  Version 0.7.0 replaces the view with a foreign table of the same name and columns.', deps),
			HINT = 'Drop them, run ALTER EXTENSION perfstore UPDATE again, then create them again.';
	END IF;
END
$do$;
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
	granted pg_catalog.int4;
	passes pg_catalog.int4;
	switched pg_catalog.bool;
	saved_role pg_catalog.text := pg_catalog.current_setting('role');
BEGIN
	-- the view's grants and its columns' grants, with their grant options
	-- and grantors, less those the table has already.  A grant made by a
	-- role holding a grant option is made again by that role, so that
	-- REVOKE ... CASCADE of its option still takes it away; it waits
	-- until its grantor holds the option on the table again (a pass per
	-- link of a chain of grant options, at most a pass per grant).
	SELECT pg_catalog.count(*) INTO passes
	FROM pg_catalog.pg_attribute att
	JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) att.attrelid,
	     pg_catalog.aclexplode(CASE WHEN att.attnum OPERATOR(pg_catalog.=) 1::pg_catalog.int2
	                           THEN pg_catalog.array_cat(c.relacl, att.attacl) ELSE att.attacl END) a
	WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
	  AND att.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2;
	FOR pass IN 1 .. passes LOOP
		granted := 0;
		FOR g IN
			(SELECT NULL::pg_catalog.name AS col, a.grantor, a.grantee, a.privilege_type, a.is_grantable
			FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
			WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
			  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
			UNION ALL
			SELECT att.attname, a.grantor, a.grantee, a.privilege_type, a.is_grantable
			FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_attribute att ON att.attrelid OPERATOR(pg_catalog.=) c.oid,
			     pg_catalog.aclexplode(att.attacl) a
			WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass
			  AND att.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2
			  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner)
			EXCEPT
			(SELECT NULL::pg_catalog.name, a.grantor, a.grantee, a.privilege_type, a.is_grantable
			FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
			WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_7_0'::pg_catalog.regclass
			UNION ALL
			SELECT att.attname, a.grantor, a.grantee, a.privilege_type, a.is_grantable
			FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
			WHERE att.attrelid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_7_0'::pg_catalog.regclass
			  AND att.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2)
			ORDER BY 1 NULLS FIRST, 2, 3, 4
		LOOP
			-- the owner's grants, and those whose grantor holds the option
			-- now and can name the table (USAGE on perfstore)
			CONTINUE WHEN g.grantor OPERATOR(pg_catalog.<>) (SELECT c.relowner FROM pg_catalog.pg_class c
					WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass)
				AND NOT (pg_catalog.has_schema_privilege(g.grantor, 'perfstore', 'USAGE')
					AND CASE WHEN g.col IS NULL
						THEN pg_catalog.has_table_privilege(g.grantor, 'perfstore.ingest_0_7_0'::pg_catalog.regclass,
							g.privilege_type OPERATOR(pg_catalog.||) ' WITH GRANT OPTION')
						ELSE pg_catalog.has_column_privilege(g.grantor, 'perfstore.ingest_0_7_0'::pg_catalog.regclass,
							g.col, g.privilege_type OPERATOR(pg_catalog.||) ' WITH GRANT OPTION') END);
			-- SET ROLE is refused while a caller runs with a function owner's
			-- rights: the owner grants instead
			BEGIN
				PERFORM pg_catalog.set_config('role', r.rolname, true)
				FROM pg_catalog.pg_roles r
				WHERE r.oid OPERATOR(pg_catalog.=) g.grantor
				  AND g.grantor OPERATOR(pg_catalog.<>) (SELECT c.relowner FROM pg_catalog.pg_class c
						WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest'::pg_catalog.regclass);
				switched := FOUND;
			EXCEPTION WHEN insufficient_privilege THEN
				CONTINUE;
			END;
			EXECUTE pg_catalog.format('GRANT %s%s ON perfstore.ingest_0_7_0 TO %s%s', g.privilege_type,
				CASE WHEN g.col IS NULL THEN ''::pg_catalog.text
				     ELSE pg_catalog.format(' (%I)', g.col) END,
				CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'PUBLIC'
				     ELSE g.grantee::pg_catalog.regrole::pg_catalog.text END,
				CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION'::pg_catalog.text
				     ELSE ''::pg_catalog.text END);
			IF switched THEN
				PERFORM pg_catalog.set_config('role', saved_role, true);
			END IF;
			granted := granted OPERATOR(pg_catalog.+) 1;
		END LOOP;
		EXIT WHEN granted OPERATOR(pg_catalog.=) 0;
	END LOOP;
	-- what no grantor can give any more (it lost its option or USAGE on
	-- perfstore since, or the update runs inside a function that runs with
	-- its owner's rights):
	-- given by the owner, as in 0.6.0 it was in effect
	FOR g IN
		(SELECT NULL::pg_catalog.name AS col, a.grantee, a.privilege_type, a.is_grantable
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
		  AND a.grantee OPERATOR(pg_catalog.<>) c.relowner)
		EXCEPT
		(SELECT NULL::pg_catalog.name, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
		WHERE c.oid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_7_0'::pg_catalog.regclass
		UNION ALL
		SELECT att.attname, a.grantee, a.privilege_type, a.is_grantable
		FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
		WHERE att.attrelid OPERATOR(pg_catalog.=) 'perfstore.ingest_0_7_0'::pg_catalog.regclass
		  AND att.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2)
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
COMMENT ON FUNCTION perfstore.grant_writer(regrole) IS
	'let a role write the store through its functions and perfstore.ingest only: record(), batch ingest, the workflow API and store_run(), plus everything grant_reader gives; no direct DML on any table, no maintain()';
