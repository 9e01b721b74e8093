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

--
-- scale-out
--
