--
-- bench_runs: stored load-test runs (version 0.3.0, docs/runs.md): store_run()
-- and its validation, run groups, the summary views, compare_runs() and
-- compare_to_history() with their verdict rules, and the reader and writer
-- roles (docs/runs.md)
--
-- pg_regress may have created the extension already (--load-extension)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS perfstore;
DROP ROLE IF EXISTS regress_bench_reader;
DROP ROLE IF EXISTS regress_bench_writer;
RESET client_min_messages;
SET timezone = 'UTC';
SET extra_float_digits = 0;
\set SHOW_CONTEXT never
TRUNCATE perfstore.bench_runs, perfstore.bench_statements, perfstore.bench_intervals,
	perfstore.nplus1_findings;
SELECT setval('perfstore.bench_runs_id_seq', 1, false);

SELECT extversion FROM pg_extension WHERE extname = 'perfstore';

-- SQLSTATE and message of a statement, or 'ok'
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql
AS $$
DECLARE
	state text;
	msg text;
BEGIN
	EXECUTE stmt;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
	RETURN state || ': ' || msg;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

-- rows in the four tables
CREATE FUNCTION pg_temp.counts() RETURNS text LANGUAGE sql
AS $$
	SELECT format('runs %s, statements %s, intervals %s, findings %s',
		(SELECT count(*) FROM perfstore.bench_runs), (SELECT count(*) FROM perfstore.bench_statements),
		(SELECT count(*) FROM perfstore.bench_intervals), (SELECT count(*) FROM perfstore.nplus1_findings))
$$;

-- the text form of the sketch of lo..hi scaled by f
CREATE FUNCTION pg_temp.sk(lo int, hi int, f float8 DEFAULT 1) RETURNS text LANGUAGE sql
AS $$
	SELECT perfstore.sketch_agg(x * f)::text FROM generate_series(lo, hi) x
$$;

-- a run document: name, start hour, tps, latency scale, failed
-- transactions, statements (fingerprints) and run group
CREATE FUNCTION pg_temp.doc(name text, h int, tps float8, f float8, failed int DEFAULT 0,
	stmts text[] DEFAULT '{a}', grp text DEFAULT NULL) RETURNS jsonb LANGUAGE sql
AS $$
	SELECT jsonb_build_object('name', name, 'run_group', grp,
		'labels', jsonb_build_object('commit', 'c' || h),
		'started_at', to_char(timestamptz '2026-01-01 00:00+00' + h * interval '1 hour',
		                      'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
		'finished_at', to_char(timestamptz '2026-01-01 00:00+00' + h * interval '1 hour' + interval '10 s',
		                       'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
		'tps', tps, 'transactions', 1000, 'failed_transactions', failed, 'duration_s', 10,
		'latency_sketch', pg_temp.sk(1, 100, f),
		'statements', (SELECT jsonb_agg(jsonb_build_object('fingerprint', s, 'query', 'SELECT ' || s,
		                                'calls', 100, 'rows', 100, 'errors', 0,
		                                'latency_sketch', pg_temp.sk(1, 100, f)) ORDER BY s)
		               FROM unnest(stmts) s))
$$;

--
-- 1. one crafted run, read back
--
SELECT perfstore.store_run(jsonb_build_object(
	'name', 'crafted', 'labels', '{"commit": "abc123", "branch": "main"}'::jsonb,
	'config', '{"clients": 4, "threads": 2, "protocol": "extended", "duration": 10}'::jsonb,
	'started_at', '2026-02-01T10:00:00.000001+00:00', 'finished_at', '2026-02-01T11:00:10.500000+01:00',
	'host', 'loadgen1', 'tps', 99.5, 'transactions', 995, 'failed_transactions', 5,
	'retried_transactions', 2, 'retries', 3, 'duration_s', 10, 'clients', 4, 'threads', 2,
	'errors', '{"40001": 3, "23505": 2}'::jsonb,
	'latency_ms', '{"p50": 500, "p95": 950}'::jsonb,
	'latency_sketch', pg_temp.sk(1, 1000),
	'statements', jsonb_build_array(
		jsonb_build_object('fingerprint', '00000000000000aa', 'query', 'SELECT * FROM t WHERE id = $1',
		                   'calls', 995, 'rows', 995, 'errors', 5, 'latency_sketch', pg_temp.sk(1, 995, 0.5)),
		jsonb_build_object('fingerprint', '00000000000000bb', 'query', 'UPDATE t SET v = $1',
		                   'calls', 10, 'rows', 0, 'errors', 0)),
	'intervals', jsonb_build_array(
		jsonb_build_object('t_s', 5, 'length_s', 5, 'tps', 99, 'transactions', 495, 'failed', 5, 'errors', 5,
		                   'started_at', '2026-02-01T10:00:00.000001+00:00', 'latency_sketch', pg_temp.sk(1, 495)),
		jsonb_build_object('t_s', 10, 'length_s', 5, 'tps', 100, 'transactions', 500, 'failed', 0, 'errors', 0,
		                   'latency_sketch', pg_temp.sk(496, 995))),
	'nplus1_findings', jsonb_build_array(
		jsonb_build_object('source', 'SELECT id FROM orders', 'source_fingerprint', '0000000000000001',
		                   'repeated', 'SELECT * FROM items WHERE order_id = $1',
		                   'repeated_fingerprint', '0000000000000002', 'occurrences', 3, 'repeats_total', 30,
		                   'repeats_mean', 10.0, 'repeats_max', 12, 'time_ms', 4.5,
		                   'example_params', '["17", "18", null]'::jsonb,
		                   'suggestion', 'SELECT * FROM items WHERE order_id = ANY($1)')),
	'interrupted', false)) AS crafted \gset
SELECT pg_temp.counts();
SELECT id = :crafted AS same_id, name, run_group, labels, config, hosts, drivers, clients, started_at,
       finished_at, duration_s, tps, transactions, failed_transactions, retries, errors
FROM perfstore.bench_runs;
-- the summary is the document's numbers and the sketch's quantiles
SELECT s.name, s.tps, s.transactions, s.failed_transactions, s.error_rate,
       s.p50_ms = perfstore.quantile(k.s, 0.5) AS p50, s.p95_ms = perfstore.quantile(k.s, 0.95) AS p95,
       s.p99_ms = perfstore.quantile(k.s, 0.99) AS p99, s.p999_ms = perfstore.quantile(k.s, 0.999) AS p999,
       abs(s.p95_ms / 950 - 1) <= 0.01 AS p95_within_alpha, s.max_ms, s.mean_ms
FROM perfstore.bench_run_summary s, (SELECT perfstore.sketch_agg(x::float8) AS s FROM generate_series(1, 1000) x) k;
SELECT fingerprint, query, calls, rows, errors, error_rate, round(p95_ms::numeric, 3) AS p95_ms,
       p95_ms = perfstore.quantile((SELECT perfstore.sketch_agg(x * 0.5) FROM generate_series(1, 995) x), 0.95)
           AS p95_is_sketch_quantile,
       max_ms, mean_ms
FROM perfstore.bench_statement_summary ORDER BY fingerprint COLLATE "C";
SELECT seq, started_at, length_s, transactions, failed, errors, tps, perfstore.num_vals(latency) AS n,
       perfstore.min_val(latency) AS min, perfstore.max_val(latency) AS max
FROM perfstore.bench_intervals ORDER BY seq;
SELECT source_fingerprint, repeated_fingerprint, source, repeated, occurrences, repeats_total,
       repeats_max, time_ms, example_params, suggestion
FROM perfstore.nplus1_findings;
-- the stored report is the document without its sketches
SELECT report ? 'latency_ms' AS has_latency_ms, report::text LIKE '%latency_sketch%' AS has_sketches,
       jsonb_array_length(report -> 'statements') AS statements, report -> 'errors' AS errors,
       report -> 'interrupted' AS interrupted
FROM perfstore.bench_runs;

--
-- 2. a run group: two drivers, merged into one run
--
SELECT perfstore.store_run(jsonb_build_object('name', 'grouped', 'run_group', 'ci-42',
	'labels', '{"commit": "c1", "host": "first"}'::jsonb, 'config', '{"clients": 2}'::jsonb,
	'started_at', '2026-02-02T10:00:01+00:00', 'finished_at', '2026-02-02T10:00:11+00:00',
	'host', 'h1', 'tps', 100, 'transactions', 1000, 'failed_transactions', 1, 'retries', 2,
	'clients', 2, 'duration_s', 10, 'errors', '{"40001": 1}'::jsonb,
	'latency_sketch', pg_temp.sk(1, 1000),
	'statements', jsonb_build_array(
		jsonb_build_object('fingerprint', 'f1', 'query', 'SELECT 1', 'calls', 1000, 'rows', 1000, 'errors', 1,
		                   'latency_sketch', pg_temp.sk(1, 1000)),
		jsonb_build_object('fingerprint', 'f2', 'query', 'SELECT 2', 'calls', 5, 'rows', 5, 'errors', 0,
		                   'latency_sketch', pg_temp.sk(1, 5))),
	'intervals', jsonb_build_array(
		jsonb_build_object('started_at', '2026-02-02T10:00:01+00:00', 'length_s', 5, 'tps', 100,
		                   'transactions', 500, 'failed', 1, 'errors', 1, 'latency_sketch', pg_temp.sk(1, 500)),
		jsonb_build_object('started_at', '2026-02-02T10:00:06+00:00', 'length_s', 5, 'tps', 100,
		                   'transactions', 500, 'failed', 0, 'errors', 0, 'latency_sketch', pg_temp.sk(501, 1000))),
	'nplus1_findings', jsonb_build_array(
		jsonb_build_object('source_fingerprint', 's', 'repeated_fingerprint', 'r', 'source', 'SELECT s',
		                   'repeated', 'SELECT r', 'occurrences', 2, 'repeats_total', 20, 'repeats_max', 10,
		                   'time_ms', 2, 'example_params', '["1"]'::jsonb))
)) AS g1 \gset
SELECT perfstore.store_run(jsonb_build_object('name', 'grouped', 'run_group', 'ci-42',
	'labels', '{"commit": "c1", "host": "second", "extra": "x"}'::jsonb, 'config', '{"clients": 3}'::jsonb,
	'started_at', '2026-02-02T10:00:00+00:00', 'finished_at', '2026-02-02T10:00:10.5+00:00',
	'host', 'h2', 'tps', 50, 'transactions', 500, 'failed_transactions', 4, 'retries', 1,
	'clients', 3, 'duration_s', 10.5, 'errors', '{"40001": 2, "57P01": 2}'::jsonb,
	'latency_sketch', pg_temp.sk(1001, 1500),
	'statements', jsonb_build_array(
		jsonb_build_object('fingerprint', 'f1', 'query', 'SELECT 1', 'calls', 500, 'rows', 500, 'errors', 4,
		                   'latency_sketch', pg_temp.sk(1001, 1500)),
		jsonb_build_object('fingerprint', 'f3', 'query', 'SELECT 3', 'calls', 7, 'rows', 0, 'errors', 0,
		                   'latency_sketch', pg_temp.sk(1, 7))),
	'intervals', jsonb_build_array(
		jsonb_build_object('started_at', '2026-02-02T10:00:00+00:00', 'length_s', 5.5, 'tps', 50,
		                   'transactions', 250, 'failed', 4, 'errors', 4, 'latency_sketch', pg_temp.sk(1001, 1250))),
	'nplus1_findings', jsonb_build_array(
		jsonb_build_object('source_fingerprint', 's', 'repeated_fingerprint', 'r', 'source', 'SELECT s',
		                   'repeated', 'SELECT r', 'occurrences', 1, 'repeats_total', 12, 'repeats_max', 12,
		                   'time_ms', 1.5, 'example_params', '["2"]'::jsonb))
)) AS g2 \gset
SELECT :g1 = :g2 AS same_run, pg_temp.counts();
SELECT name, run_group, labels, config, hosts, drivers, clients, started_at, finished_at, duration_s,
       tps, transactions, failed_transactions, retries, errors, report ->> 'host' AS report_of
FROM perfstore.bench_runs WHERE id = :g1;
-- the group's p95 is the quantile of the merged sketches
SELECT s.p95_ms = perfstore.quantile(k.s, 0.95) AS p95_of_both,
       s.p50_ms = perfstore.quantile(k.s, 0.5) AS p50_of_both,
       perfstore.num_vals(r.latency) AS n, s.max_ms, s.mean_ms
FROM perfstore.bench_run_summary s
JOIN perfstore.bench_runs r USING (id),
     (SELECT perfstore.sketch_agg(x::perfstore.sketch) AS s
      FROM unnest(ARRAY[pg_temp.sk(1, 1000), pg_temp.sk(1001, 1500)]) x) k
WHERE s.id = :g1;
SELECT fingerprint, query, calls, rows, errors, perfstore.num_vals(latency) AS n, perfstore.max_val(latency) AS max
FROM perfstore.bench_statements WHERE run_id = :g1 ORDER BY fingerprint COLLATE "C";
SELECT seq, started_at, length_s, transactions, failed, errors, tps, perfstore.num_vals(latency) AS n
FROM perfstore.bench_intervals WHERE run_id = :g1 ORDER BY seq;
SELECT occurrences, repeats_total, repeats_max, time_ms, example_params
FROM perfstore.nplus1_findings WHERE run_id = :g1;
-- another group, and a run without a group, are separate runs
SELECT perfstore.store_run(pg_temp.doc('grouped', 30, 10, 1, grp => 'ci-43')) <> :g1 AS other_group,
       perfstore.store_run(pg_temp.doc('grouped', 31, 10, 1)) <> perfstore.store_run(pg_temp.doc('grouped', 32, 10, 1))
           AS ungrouped_runs_separate;

--
-- 3. compare_runs: regression, improvement, unchanged, new, gone
--
-- baseline: tps 100, latency 1..100 ms, no failures, statements a and b;
-- candidate: tps 150 (+50%), latencies +50%, 5% failed, statements a and c
SELECT perfstore.store_run(pg_temp.doc('cmp', 1, 100, 1, 0, '{a,b}')) AS b \gset
SELECT perfstore.store_run(pg_temp.doc('cmp', 2, 150, 1.5, 50, '{a,c}')) AS c \gset
SELECT perfstore.store_run(pg_temp.doc('cmp', 3, 105, 1.05, 0, '{a,b}')) AS same \gset
SELECT scope, fingerprint, query, metric, round(baseline::numeric, 4) AS baseline,
       round(candidate::numeric, 4) AS candidate, round(change::numeric, 4) AS change, spread, verdict
FROM perfstore.compare_runs(:b, :c);
-- +5%: below the threshold
SELECT scope, fingerprint, metric, round(change::numeric, 4) AS change, verdict
FROM perfstore.compare_runs(:b, :same);
-- a threshold of 0.6: the +50% changes are unchanged, the error rate
-- (0 to 0.0476, more than 0.6/100) is still a regression
SELECT scope, fingerprint, metric, verdict FROM perfstore.compare_runs(:b, :c, 0.6)
WHERE scope = 'run';
-- the same two runs the other way round
SELECT scope, fingerprint, metric, verdict FROM perfstore.compare_runs(:c, :b);
-- the rows come ordered by scope, query and metric
SELECT array_agg(scope || ':' || coalesce(query, '') || ':' || metric ORDER BY n) =
       array_agg(scope || ':' || coalesce(query, '') || ':' || metric
                 ORDER BY scope, query COLLATE "C" NULLS FIRST, metric) AS ordered
FROM perfstore.compare_runs(:b, :c) WITH ORDINALITY x(scope, fingerprint, query, metric, baseline,
                                                       candidate, change, spread, verdict, n);

-- zero baselines (docs/runs.md): error_rate 0 -> 0.05 is a regression at
-- threshold 0.10 (its absolute increase exceeds 0.10/100); 0 -> 0 is
-- unchanged; 0 -> 0.0005 is below 0.10/100 and unchanged
SELECT perfstore.store_run(pg_temp.doc('zero', 1, 100, 1, 0)) AS z0 \gset
SELECT perfstore.store_run(pg_temp.doc('zero', 2, 100, 1, 0)) AS z1 \gset
SELECT perfstore.store_run(jsonb_set(jsonb_set(pg_temp.doc('zero', 3, 100, 1, 0), '{transactions}', '950'),
                                     '{failed_transactions}', '50')) AS z2 \gset
SELECT perfstore.store_run(jsonb_set(jsonb_set(pg_temp.doc('zero', 4, 100, 1, 0), '{transactions}', '19999'),
                                     '{failed_transactions}', '1')) AS z3 \gset
SELECT 'z0 -> z1' AS runs, baseline, candidate, change, verdict
FROM perfstore.compare_runs(:z0, :z1) WHERE scope = 'run' AND metric = 'error_rate'
UNION ALL
SELECT 'z0 -> z2', baseline, candidate, change, verdict
FROM perfstore.compare_runs(:z0, :z2, 0.10) WHERE scope = 'run' AND metric = 'error_rate'
UNION ALL
SELECT 'z0 -> z3', baseline, candidate, change, verdict
FROM perfstore.compare_runs(:z0, :z3, 0.10) WHERE scope = 'run' AND metric = 'error_rate'
UNION ALL
SELECT 'z2 -> z0', baseline, candidate, change, verdict
FROM perfstore.compare_runs(:z2, :z0, 0.10) WHERE scope = 'run' AND metric = 'error_rate';
-- the verdict rules, one by one
SELECT m, b, c, t, s, perfstore_internal.compare_verdict(m, b, c, t, s, sa) AS verdict
FROM (VALUES ('tps', 100, 150, 0.1, NULL, NULL), ('tps', 100, 50, 0.1, NULL, NULL),
             ('tps', 100, 105, 0.1, NULL, NULL), ('tps', 100, 110, 0.1, NULL, NULL),
             ('p95_ms', 10, 12, 0.1, NULL, NULL), ('p95_ms', 10, 12, 0.1, 0.25, 2.5),
             ('p95_ms', 10, 8, 0.1, 0.1, 1), ('p95_ms', 0, 1, 0.1, NULL, NULL),
             ('tps', 0, 1, 0.1, NULL, NULL), ('error_rate', 0, 0.05, 0.1, NULL, NULL),
             ('error_rate', 0, 0, 0.1, NULL, NULL), ('error_rate', 0, 0.0005, 0.1, NULL, NULL),
             ('error_rate', 0, 0.01, 0.1, NULL, 0.02), ('error_rate', 0.001, 0.0015, 0.1, NULL, NULL),
             ('error_rate', 0.02, 0.03, 0.1, NULL, NULL), ('p95_ms', NULL, 1, 0.1, NULL, NULL),
             ('p95_ms', 1, NULL, 0.1, NULL, NULL)) v(m, b, c, t, s, sa);

--
-- 4. compare_to_history: five baseline runs with a spread of +-20%
--
SELECT count(perfstore.store_run(pg_temp.doc('hist', i::int, 100 * (1 + d::float8), 1 + d::float8)))
FROM unnest(ARRAY[0, 0.1, -0.1, 0.2, -0.2]) WITH ORDINALITY x(d, i);
-- +15%: above the threshold of 10%, within the baseline's spread of 20%
SELECT perfstore.store_run(pg_temp.doc('hist', 10, 115, 1.15)) AS h1 \gset
SELECT scope, fingerprint, metric, round(baseline::numeric, 4) AS baseline,
       round(candidate::numeric, 4) AS candidate, round(change::numeric, 4) AS change,
       round(spread::numeric, 4) AS spread, verdict
FROM perfstore.compare_to_history(:h1);
-- +50%: a regression (and an improvement of tps); last_n 6 takes the five
-- runs and h1, whose median is 105 (tps) and spread 0.2381
SELECT perfstore.store_run(pg_temp.doc('hist', 11, 150, 1.5)) AS h2 \gset
SELECT scope, fingerprint, metric, round(baseline::numeric, 4) AS baseline,
       round(candidate::numeric, 4) AS candidate, round(change::numeric, 4) AS change,
       round(spread::numeric, 4) AS spread, verdict
FROM perfstore.compare_to_history(:h2, 6);
-- the window: last_n 1 is the run just before (h1)
SELECT metric, baseline, candidate, spread, verdict FROM perfstore.compare_to_history(:h2, 1, 0.1)
WHERE scope = 'run' AND metric = 'tps';
-- runs of other names and later runs are not part of the history
SELECT perfstore.store_run(pg_temp.doc('hist', 20, 1000, 9)) AS later \gset
SELECT metric, baseline, verdict FROM perfstore.compare_to_history(:h2, 100)
WHERE scope = 'run' AND metric = 'tps';

--
-- 5. errors: every one raises its SQLSTATE and stores nothing
--
SELECT pg_temp.counts() AS before \gset
SELECT perfstore.store_run(NULL);
SELECT perfstore.store_run('[]');
SELECT perfstore.store_run('{"started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:00:00+00:00"}');
-- a malformed document: the message names the field
CREATE TEMP TABLE bad_docs (n serial, doc jsonb);
INSERT INTO bad_docs (doc)
SELECT pg_temp.doc('bad', 1, 1, 1) || d
FROM unnest(ARRAY[
	'{"name": ""}', '{"name": 42}', '{"run_group": ""}', '{"run_group": 1}',
	'{"labels": []}', '{"labels": {"commit": 1}}', '{"config": "x"}', '{"host": ["a"]}',
	'{"started_at": null}', '{"finished_at": "yesterday-ish"}', '{"started_at": 1}',
	'{"started_at": "infinity"}', '{"finished_at": "2025-12-31T00:00:00+00:00"}',
	'{"tps": "fast"}', '{"tps": -1}', '{"tps": 1e400}', '{"transactions": 1.5}', '{"failed_transactions": -1}',
	'{"retries": 1e30}', '{"clients": 3000000000}', '{"duration_s": true}',
	'{"errors": [1]}', '{"errors": {"40001": "x"}}', '{"errors": {"40001": null}}',
	'{"latency_sketch": {"version": 1}}',
	'{"statements": {}}', '{"statements": [1]}', '{"statements": [{"query": "q"}]}',
	'{"statements": [{"fingerprint": "a", "calls": -1}]}',
	'{"statements": [{"fingerprint": "a"}, {"fingerprint": "b", "rows": "many"}]}',
	'{"intervals": [{"tps": 1}, {"transactions": 2.5}]}', '{"intervals": [{"started_at": "x"}]}',
	'{"nplus1_findings": [{"source_fingerprint": "s"}]}',
	'{"nplus1_findings": [{"source_fingerprint": "s", "repeated_fingerprint": "r", "example_params": "x"}]}',
	'{"nplus1_findings": [{"source_fingerprint": "s", "repeated_fingerprint": "r", "example_params": [1]}]}',
	'{"nplus1_findings": [{"source_fingerprint": "s", "repeated_fingerprint": "r", "time_ms": "x"}]}'
]::jsonb[]) d;
SELECT n, pg_temp.err(format('SELECT perfstore.store_run(%L)', doc)) AS error
FROM bad_docs ORDER BY n;
-- a bad sketch raises the sketch type's own error, naming the field in the hint
SELECT perfstore.store_run(pg_temp.doc('bad', 1, 1, 1) || '{"latency_sketch": "not a sketch"}');
SELECT perfstore.store_run(jsonb_set(pg_temp.doc('bad', 1, 1, 1), '{statements,0,latency_sketch}',
                                     '"{\"version\":1}"'));
-- a bad document for an existing group leaves the group as it was
SELECT drivers, transactions FROM perfstore.bench_runs WHERE id = :g1;
SELECT pg_temp.err($$SELECT perfstore.store_run(pg_temp.doc('grouped', 1, 1, 1, grp => 'ci-42')
	|| '{"intervals": [{"length_s": -5}]}')$$);
SELECT drivers, transactions FROM perfstore.bench_runs WHERE id = :g1;
SELECT pg_temp.counts() = :'before' AS nothing_stored;

-- the compare functions' arguments
SELECT * FROM perfstore.compare_runs(:b, 999999);
SELECT * FROM perfstore.compare_runs(NULL, :c);
SELECT * FROM perfstore.compare_runs(:b, :c, -0.1);
SELECT * FROM perfstore.compare_runs(:b, :c, 'NaN');
SELECT * FROM perfstore.compare_to_history(:h2, 0);
SELECT * FROM perfstore.compare_to_history(:b);
SELECT pg_temp.err(format('SELECT perfstore.compare_runs(%s, 999999)', :b)) AS unknown_run;
SELECT pg_temp.err(format('SELECT perfstore.compare_runs(%s, %s, %s)', :b, :c, '''NaN''')) AS nan;
SELECT pg_temp.err(format('SELECT perfstore.compare_to_history(%s, 0)', :h2)) AS last_n;
SELECT pg_temp.err(format('SELECT perfstore.compare_to_history(%s)', :b)) AS first_run;

--
-- 6. roles: the reader reads and compares, the writer stores runs
--
CREATE ROLE regress_bench_reader;
CREATE ROLE regress_bench_writer;
SELECT perfstore.grant_reader('regress_bench_reader');
SELECT perfstore.grant_writer('regress_bench_writer');
SET ROLE regress_bench_reader;
SELECT count(*) AS runs FROM perfstore.bench_run_summary;
SELECT count(*) > 0 AS statements FROM perfstore.bench_statement_summary;
SELECT count(*) > 0 AS intervals FROM perfstore.bench_intervals;
SELECT count(*) AS findings FROM perfstore.nplus1_findings;
SELECT count(*) AS rows FROM perfstore.compare_to_history(:h2);
SELECT count(*) AS rows FROM perfstore.compare_runs(:b, :c);
SELECT pg_temp.err($$SELECT perfstore.store_run('{"name": "reader"}')$$) AS store_run;
SELECT pg_temp.err($$INSERT INTO perfstore.bench_runs (name, started_at, finished_at) VALUES ('r', now(), now())$$) AS insert;
SELECT pg_temp.err($$UPDATE perfstore.bench_runs SET tps = 0$$) AS update;
RESET ROLE;
SET ROLE regress_bench_writer;
SELECT perfstore.store_run(pg_temp.doc('writer', 1, 10, 1, grp => 'w')) AS w \gset
SELECT perfstore.store_run(pg_temp.doc('writer', 2, 10, 1, grp => 'w')) = :w AS merged;
SELECT drivers, transactions FROM perfstore.bench_runs WHERE id = :w;
SELECT count(*) AS rows FROM perfstore.compare_runs(:b, :w);
SELECT pg_temp.err($$DELETE FROM perfstore.bench_runs$$) AS delete;
SELECT pg_temp.err($$DELETE FROM perfstore.bench_statements$$) AS delete_statements;
SELECT pg_temp.err($$TRUNCATE perfstore.bench_runs CASCADE$$) AS truncate;
SELECT pg_temp.err($$DROP TABLE perfstore.nplus1_findings$$) AS drop;
SELECT pg_temp.err($$ALTER TABLE perfstore.bench_runs ADD COLUMN x int$$) AS alter;
RESET ROLE;
SELECT pg_temp.counts();

-- tidy up
REVOKE ALL ON ALL TABLES IN SCHEMA perfstore FROM regress_bench_reader, regress_bench_writer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA perfstore FROM regress_bench_reader, regress_bench_writer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA perfstore FROM regress_bench_reader, regress_bench_writer;
REVOKE ALL ON SCHEMA perfstore FROM regress_bench_reader, regress_bench_writer;
DROP ROLE regress_bench_reader;
DROP ROLE regress_bench_writer;
TRUNCATE perfstore.bench_runs, perfstore.bench_statements, perfstore.bench_intervals,
	perfstore.nplus1_findings;
