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
