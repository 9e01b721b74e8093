--
-- sketch_catalog: the extension's aggregates are ready for parallel and
-- distributed (Citus) aggregation, and its functions are documented
-- (docs/sketch.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
RESET client_min_messages;

-- every function and aggregate that belongs to the extension
CREATE TEMP VIEW ext_proc AS
SELECT p.oid, p.oid::regprocedure::text AS signature, p.prokind, p.proparallel,
       p.provolatile, p.proisstrict
FROM pg_depend d
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'perfstore'
JOIN pg_proc p ON p.oid = d.objid
WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass
  AND d.deptype = 'e';

-- the sketch aggregates, one by one
SELECT x.signature, a.aggtranstype::regtype AS state_type,
       a.aggcombinefn::regproc AS combine, a.aggfinalfn::regproc AS final,
       a.aggfinalmodify AS final_modify, x.proparallel AS parallel
FROM ext_proc x JOIN pg_aggregate a ON a.aggfnoid = x.oid
WHERE a.aggtranstype = 'perfstore.sketch'::regtype
ORDER BY x.signature COLLATE "C";

-- EVERY aggregate of the extension (sketch, stats and any added later):
-- a combine function, a state type that is neither a pseudo-type nor
-- internal (no serial/deserial functions needed), PARALLEL SAFE, and
-- support functions that are parallel safe as well; a final function that
-- does not modify the state (states are updated in place)
SELECT count(*) >= 5 AS has_sketch_aggregates,
       bool_and(a.aggcombinefn <> 0) AS all_combine,
       bool_and(t.typtype <> 'p') AS no_pseudo_state,
       bool_and(a.aggtranstype <> 'internal'::regtype) AS no_internal_state,
       bool_and(x.proparallel = 's') AS all_parallel_safe,
       bool_and(a.aggkind = 'n') AS all_normal
FROM ext_proc x
JOIN pg_aggregate a ON a.aggfnoid = x.oid
JOIN pg_type t ON t.oid = a.aggtranstype;
-- offenders, if any (expected: none)
SELECT x.signature, a.aggcombinefn::regproc AS combine,
       a.aggtranstype::regtype AS state_type, t.typtype, x.proparallel,
       a.aggfinalmodify
FROM ext_proc x
JOIN pg_aggregate a ON a.aggfnoid = x.oid
JOIN pg_type t ON t.oid = a.aggtranstype
WHERE a.aggcombinefn = 0 OR t.typtype = 'p' OR a.aggtranstype = 'internal'::regtype
   OR x.proparallel <> 's' OR a.aggfinalmodify <> 'r'
   OR a.aggserialfn <> 0 OR a.aggdeserialfn <> 0
ORDER BY x.signature COLLATE "C";
-- support functions of the aggregates that are not parallel safe (none)
SELECT x.signature AS aggregate, f.oid::regprocedure AS support, f.proparallel
FROM ext_proc x
JOIN pg_aggregate a ON a.aggfnoid = x.oid
JOIN pg_proc f ON f.oid IN (a.aggtransfn, a.aggcombinefn, a.aggfinalfn)
WHERE f.proparallel <> 's'
ORDER BY x.signature COLLATE "C", f.oid::regprocedure::text COLLATE "C";
-- state types of the aggregates ship as text: they have an input and an
-- output function, and a binary send/receive
SELECT DISTINCT a.aggtranstype::regtype AS state_type,
       t.typinput <> 0 AND t.typoutput <> 0 AS text_io,
       t.typreceive <> 0 AND t.typsend <> 0 AS binary_io
FROM ext_proc x JOIN pg_aggregate a ON a.aggfnoid = x.oid
JOIN pg_type t ON t.oid = a.aggtranstype
WHERE a.aggtranstype = 'perfstore.sketch'::regtype;

-- every function and aggregate of the extension has a comment (offenders
-- listed; expected: none)
SELECT signature AS undocumented
FROM ext_proc WHERE obj_description(oid, 'pg_proc') IS NULL
ORDER BY signature COLLATE "C";
-- every function states its volatility (IMMUTABLE or STABLE; one left
-- VOLATILE by default would show here) and is parallel safe (offenders
-- listed; expected: none).  The store's write and maintenance functions
-- (version 0.2.0, with its ingest trigger; the late-data functions of
-- 0.4.0) are VOLATILE and PARALLEL UNSAFE
-- by design: store_catalog checks them.
SELECT signature, provolatile, proparallel
FROM ext_proc
WHERE (provolatile NOT IN ('i', 's') OR proparallel <> 's')
  AND signature !~ '^perfstore\.(record|set_unit|ingest_move|start_workflow_run|finish_workflow_run|start_task|finish_task|set_retention|set_late_window|set_partitions_ahead|create_partition|refresh_rollups|maintain|grant_reader|grant_writer|ingest_trigger|ingest_fdw_handler|ingest_fdw_validator|refresh_late_data)\('
ORDER BY signature COLLATE "C";
-- the sketch functions are immutable: the same inputs give the same
-- sketch (offenders listed; expected: none)
SELECT signature, provolatile
FROM ext_proc x
WHERE (signature LIKE '%perfstore.sketch%' OR signature LIKE 'perfstore.approx_percentile%')
  AND provolatile <> 'i'
ORDER BY signature COLLATE "C";
-- the sketch type and its casts are documented too
SELECT obj_description('perfstore.sketch'::regtype, 'pg_type') IS NOT NULL AS type_documented;
SELECT c.castsource::regtype AS source, c.casttarget::regtype AS target, c.castcontext,
       c.castmethod
FROM pg_cast c
WHERE 'perfstore.sketch'::regtype IN (c.castsource, c.casttarget)
ORDER BY c.castsource::regtype::text COLLATE "C";

-- the readers: strict, immutable, parallel safe (so that they can be
-- pushed down and inlined), listed by name
SELECT x.signature, x.proisstrict AS strict, x.provolatile AS volatility,
       x.proparallel AS parallel
FROM ext_proc x
WHERE x.prokind = 'f'
  AND x.signature ~ '^perfstore\.(quantiles?|rank|num_vals|sum|mean|min_val|max_val|alpha|collapsed|buckets)\(perfstore\.sketch'
ORDER BY signature COLLATE "C";

DROP VIEW ext_proc;
