--
-- store_catalog: the store's SQL objects (version 0.2.0) are documented,
-- state their volatility and parallel safety, and pin their search_path
-- (STYLE.md "SQL scripts")
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;

CREATE TEMP VIEW ext_obj AS
SELECT d.classid, d.objid
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'perfstore'
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e';

-- the functions that write or administer: VOLATILE, PARALLEL UNSAFE; the
-- list is exactly the one sketch_catalog exempts from its check
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       p.prosecdef AS security_definer
FROM ext_obj x JOIN pg_proc p ON x.classid = 'pg_proc'::regclass AND p.oid = x.objid
WHERE p.provolatile = 'v' OR p.proparallel <> 's'
ORDER BY p.oid::regprocedure::text COLLATE "C";
-- every function, table and view of the extension has a comment
-- (offenders: none)
SELECT pg_describe_object(x.classid, x.objid, 0) AS undocumented
FROM ext_obj x
WHERE x.classid IN ('pg_proc'::regclass, 'pg_class'::regclass)
  AND obj_description(x.objid, CASE WHEN x.classid = 'pg_proc'::regclass THEN 'pg_proc' ELSE 'pg_class' END) IS NULL
  AND NOT (x.classid = 'pg_class'::regclass
           AND (SELECT relkind FROM pg_class WHERE oid = x.objid) IN ('S', 'i'))
ORDER BY pg_describe_object(x.classid, x.objid, 0) COLLATE "C";
-- the store's tables, views and foreign table
SELECT c.oid::regclass AS relation, c.relkind, c.relpersistence
FROM ext_obj x JOIN pg_class c ON x.classid = 'pg_class'::regclass AND c.oid = x.objid
WHERE c.relkind IN ('r', 'p', 'v', 'f')
ORDER BY c.oid::regclass::text COLLATE "C";
-- the columns the driver's workflow built-in relies on (docs/store.md)
SELECT attrelid::regclass AS relation, attname, format_type(atttypid, atttypmod) AS type, attnotnull
FROM pg_attribute
WHERE attrelid IN ('perfstore.workflow_runs'::regclass, 'perfstore.task_executions'::regclass,
                   'perfstore.series'::regclass, 'perfstore.samples'::regclass)
  AND attnum > 0 AND NOT attisdropped
ORDER BY attrelid::regclass::text COLLATE "C", attnum;
DROP VIEW ext_obj;
