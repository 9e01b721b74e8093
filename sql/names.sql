--
-- names: no accessor shadows a built-in aggregate, and the internal
-- helpers are out of the user's way (docs/sketch.md, "Names")
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
DROP ROLE IF EXISTS regress_names_reader;
RESET client_min_messages;
SET search_path = perfstore, public;

CREATE TEMP TABLE n_t AS
SELECT x % 3 AS g, sketch_agg(x::float8) AS s, stats_agg(x::float8) AS st
FROM generate_series(1, 10) x GROUP BY 1;
-- count over a sketch column is the count aggregate: one row, 3
SELECT count(s) AS rows_counted, count(st) AS stats_rows FROM n_t;
-- the accessors, per row and summed
SELECT g, num_vals(s), min_val(s), max_val(s), num_vals(st), min_val(st), max_val(st)
FROM n_t ORDER BY g;
SELECT sum(num_vals(s)) AS values_in_all FROM n_t;
-- the old names are gone
SELECT count(*) AS old_names FROM pg_proc
WHERE pronamespace = 'perfstore'::regnamespace
  AND proname IN ('count', 'min', 'max', 'start_run', 'finish_run');
-- internal helpers: in their own schema, executable by no one but the owner
SELECT p.proname, p.proacl IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0) AS not_public
FROM pg_proc p WHERE p.pronamespace = 'perfstore_internal'::regnamespace
ORDER BY p.proname COLLATE "C";
SELECT count(*) AS helpers_left_in_perfstore FROM pg_proc
WHERE pronamespace = 'perfstore'::regnamespace
  AND (proname LIKE 'run\_doc\_%' OR proname LIKE 'compare\_check\_%'
       OR proname IN ('compare_verdict', 'compare_run_sets', 'setting_interval', 'check_sample'));
CREATE ROLE regress_names_reader;
SELECT grant_reader('regress_names_reader');
SET ROLE regress_names_reader;
SELECT perfstore_internal.run_doc_text('{"a": "b"}', 'a');
SELECT perfstore_internal.setting_interval('retention', NULL::interval);
RESET ROLE;
DROP OWNED BY regress_names_reader;
DROP ROLE regress_names_reader;
DROP TABLE n_t;
