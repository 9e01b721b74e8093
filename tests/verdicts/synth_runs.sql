-- synth_runs.sql: store synthetic load-test runs with known noise, for the
-- regression gate's tests (tests/suites/driver_verdicts.sh) and its
-- benchmark (bench/verdicts_bench.sh).
--
-- pg_temp.synth_run(name, k, run_noise, upd_tail) stores one run named
-- name, started k hours after 2026-01-01, through perfstore.store_run():
-- 10 s, 10 intervals of 1000 transactions, two statements.  Every latency
-- is m * f * exp(0.3 * z) with z standard normal, m the metric's scale and
-- f = 1 + run_noise * z' one run-level factor (run-to-run noise).  upd_tail
-- multiplies the UPDATE's slowest tenth (z > 1.2816) only, so its p95 and
-- p99 move by that factor while its p50 stays.  Call setseed() first for
-- a reproducible series.
CREATE FUNCTION pg_temp.synth_normal() RETURNS float8
LANGUAGE sql VOLATILE AS $$
	SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())
$$;

CREATE FUNCTION pg_temp.synth_sketch(m float8, f float8, n integer, tail float8)
RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT perfstore.sketch_agg(m * f * exp(0.3 * z) * CASE WHEN z > 1.2816 THEN tail ELSE 1 END)::text
	FROM (SELECT pg_temp.synth_normal() AS z FROM generate_series(1, n)) s
$$;

CREATE FUNCTION pg_temp.synth_run(rname text, k integer, run_noise float8, upd_tail float8)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	f float8 := 1 + run_noise * pg_temp.synth_normal();
	t0 timestamptz := timestamptz '2026-01-01 00:00:00+00' + k * interval '1 hour';
BEGIN
	RETURN perfstore.store_run(jsonb_build_object(
		'name', rname,
		'started_at', t0::text,
		'finished_at', (t0 + interval '10 s')::text,
		'duration_s', 10,
		'tps', 1000 / f,
		'transactions', 10000,
		'failed_transactions', 0,
		'latency_sketch', pg_temp.synth_sketch(4, f, 10000, 1),
		'statements', jsonb_build_array(
			jsonb_build_object('fingerprint', 'f1',
				'query', 'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
				'calls', 10000, 'errors', 0,
				'latency_sketch', pg_temp.synth_sketch(0.3, f, 10000, 1)),
			jsonb_build_object('fingerprint', 'f2',
				'query', 'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
				'calls', 10000, 'errors', 0,
				'latency_sketch', pg_temp.synth_sketch(3, f, 10000, upd_tail))),
		'intervals', (SELECT jsonb_agg(jsonb_build_object(
				'started_at', (t0 + i * interval '1 s')::text, 'length_s', 1,
				'transactions', 1000, 'failed', 0, 'errors', 0,
				'tps', 1000 / f * (1 + 0.02 * pg_temp.synth_normal()),
				'latency_sketch', pg_temp.synth_sketch(4, f, 1000, 1)) ORDER BY i)
			FROM generate_series(0, 9) i)));
END
$$;
