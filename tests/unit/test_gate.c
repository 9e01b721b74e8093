/*
 * test_gate.c
 *		Unit tests of the regression gate (driver/gate.c) on synthetic
 *		stored series: known noise gives no false alarm, a known shift is
 *		caught, improvements and sub-millisecond jitter never fail, the
 *		options parse, and the table tells how many runs it compared with
 *		and puts the worst regression first.
 */
#define _GNU_SOURCE
#include "unit.h"
#include "gate.h"
#include "junit.h"
#include "report.h"
#include "targets.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

/* A deterministic normal generator (xorshift64 + Box-Muller). */
static uint64_t rng = 88172645463325252ULL;

static double
uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((rng >> 11) + 0.5) / 9007199254740992.0;
}

static double
normal(double mean, double sd)
{
	return mean + sd * sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

static void
test_options(void)
{
	struct pd_gate_policy p;
	char		err[256];
	double		ms;
	int			scope;

	pd_gate_policy_init(&p);
	CHECK(pd_gate_threshold(&p, PD_GATE_P95) == 0.10, "default 10%%");
	CHECK(p.min_change_ms == 0.1, "default min change 0.1 ms");
	CHECK(p.scope == PD_GATE_SCOPE_ALL, "default scope all");
	CHECK(pd_gate_parse_thresholds("p95=10,p99=15,tps=20", &p, err, sizeof(err)), "%s", err);
	CHECK(fabs(pd_gate_threshold(&p, PD_GATE_P95) - 0.10) < 1e-12 &&
		  fabs(pd_gate_threshold(&p, PD_GATE_P99) - 0.15) < 1e-12 &&
		  fabs(pd_gate_threshold(&p, PD_GATE_TPS) - 0.20) < 1e-12 &&
		  fabs(pd_gate_threshold(&p, PD_GATE_P50) - 0.10) < 1e-12, "per-metric thresholds");
	CHECK(pd_gate_parse_thresholds("5,p99_ms=30", &p, err, sizeof(err)), "%s", err);
	CHECK(fabs(pd_gate_threshold(&p, PD_GATE_P50) - 0.05) < 1e-12 &&
		  fabs(pd_gate_threshold(&p, PD_GATE_P99) - 0.30) < 1e-12 &&
		  fabs(pd_gate_threshold(&p, PD_GATE_TPS) - 0.20) < 1e-12, "a bare number sets the default");
	CHECK(!pd_gate_parse_thresholds("p97=10", &p, err, sizeof(err)) &&
		  strcmp(err, "unrecognized metric \"p97\"") == 0, "bad metric: %s", err);
	CHECK(!pd_gate_parse_thresholds("p95=ten", &p, err, sizeof(err)) &&
		  strcmp(err, "\"ten\" is not a percentage") == 0, "bad number: %s", err);
	CHECK(!pd_gate_parse_thresholds("p95=-1", &p, err, sizeof(err)), "negative");
	CHECK(!pd_gate_parse_thresholds("p95=10,", &p, err, sizeof(err)), "empty item");
	CHECK(!pd_gate_parse_thresholds("", &p, err, sizeof(err)), "empty list");
	CHECK(fabs(pd_gate_threshold(&p, PD_GATE_P99) - 0.30) < 1e-12, "a failed parse changes nothing");

	CHECK(pd_gate_parse_min_change("0.1ms", &ms) && ms == 0.1, "0.1ms");
	CHECK(pd_gate_parse_min_change("250us", &ms) && ms == 0.25, "250us");
	CHECK(pd_gate_parse_min_change("0.002s", &ms) && ms == 2, "0.002s");
	CHECK(pd_gate_parse_min_change("0", &ms) && ms == 0, "0");
	CHECK(!pd_gate_parse_min_change("-1ms", &ms), "negative floor");
	CHECK(!pd_gate_parse_min_change("1kb", &ms), "bad unit");
	CHECK(!pd_gate_parse_min_change("", &ms), "empty");
	CHECK(pd_gate_parse_scope("statements", &scope) && scope == PD_GATE_SCOPE_STATEMENTS, "scope");
	CHECK(pd_gate_parse_scope("run", &scope) && scope == PD_GATE_SCOPE_RUN, "scope run");
	CHECK(!pd_gate_parse_scope("everything", &scope), "bad scope");

	CHECK(fabs(pd_gate_t999(4) - 7.173) < 1e-9 && fabs(pd_gate_t999(1000) - 3.090) < 1e-9 &&
		  pd_gate_t999(25) < pd_gate_t999(20) && pd_gate_t999(25) > pd_gate_t999(30),
		  "t quantiles");
}

/*
 * Known noise: 5 baseline runs and a candidate drawn from the same normal
 * distribution (5% run-to-run sd) with a 10% threshold.  A threshold
 * alone flags a few percent of the candidates; the noise model only at
 * its one-sided 0.001 level.
 * A +30% shift of a quiet metric (1% sd) is caught every time.
 */
static void
test_noise_model(void)
{
	struct pd_gate_policy p;
	int			naive = 0;
	int			alarms = 0;
	int			caught = 0;
	const int	trials = 2000;

	pd_gate_policy_init(&p);
	p.min_change_ms = 0;
	for (int t = 0; t < trials; t++)
	{
		struct pd_gate_obs base[5];
		struct pd_gate_obs cand;
		struct pd_gate_judgement j;

		for (int i = 0; i < 5; i++)
			base[i] = (struct pd_gate_obs) {normal(10.0, 0.5), 0.05};
		cand = (struct pd_gate_obs) {normal(10.0, 0.5), 0.05};
		pd_gate_judge(&p, PD_GATE_P95, base, 5, cand, &j);
		alarms += strcmp(j.verdict, "regression") == 0;
		naive += fabs(j.change) > 0.10 && j.change > 0;

		for (int i = 0; i < 5; i++)
			base[i] = (struct pd_gate_obs) {normal(10.0, 0.1), 0.05};
		cand = (struct pd_gate_obs) {normal(13.0, 0.13), 0.05};
		pd_gate_judge(&p, PD_GATE_P95, base, 5, cand, &j);
		caught += strcmp(j.verdict, "regression") == 0;
	}
	CHECK(naive > trials / 50, "a bare 10%% threshold alarms often: %d of %d", naive, trials);
	/* the model's one-sided 0.001 level: about 2 in 2000 when noise alone decides */
	CHECK(alarms <= trials / 400, "the noise model alarms at its 0.001 level: %d of %d", alarms, trials);
	CHECK(caught == trials, "a +30%% shift is caught: %d of %d", caught, trials);
}

static void
test_judge_rules(void)
{
	struct pd_gate_policy p;
	struct pd_gate_judgement j;
	struct pd_gate_obs base[5] = {{100, 1}, {101, 1}, {99, 1}, {100.5, 1}, {99.5, 1}};

	pd_gate_policy_init(&p);

	/* 5.6 times faster: an improvement, never a regression */
	pd_gate_judge(&p, PD_GATE_P95, base, 5, (struct pd_gate_obs) {100 / 5.6, 0.2}, &j);
	CHECK(strcmp(j.verdict, "improvement") == 0, "latency 5.6x lower: %s", j.verdict);
	pd_gate_judge(&p, PD_GATE_TPS, base, 5, (struct pd_gate_obs) {560, 2}, &j);
	CHECK(strcmp(j.verdict, "improvement") == 0, "tps 5.6x higher: %s", j.verdict);
	pd_gate_judge(&p, PD_GATE_TPS, base, 5, (struct pd_gate_obs) {50, 1}, &j);
	CHECK(strcmp(j.verdict, "regression") == 0, "tps halved: %s", j.verdict);
	CHECK(j.nbase == 5 && j.baseline == 100, "median of 5: %g", j.baseline);
	CHECK(fabs(j.spread - 0.01) < 1e-12, "spread 1%%: %g", j.spread);

	/* sub-millisecond jitter: +25% of 0.2 ms is 0.05 ms, under the 0.1 ms floor */
	{
		struct pd_gate_obs fast[5] = {{0.20, 0.001}, {0.20, 0.001}, {0.20, 0.001}, {0.20, 0.001}, {0.20, 0.001}};

		pd_gate_judge(&p, PD_GATE_P50, fast, 5, (struct pd_gate_obs) {0.25, 0.001}, &j);
		CHECK(strcmp(j.verdict, "unchanged") == 0, "0.05 ms is jitter: %s", j.verdict);
		p.min_change_ms = 0.01;
		pd_gate_judge(&p, PD_GATE_P50, fast, 5, (struct pd_gate_obs) {0.25, 0.001}, &j);
		CHECK(strcmp(j.verdict, "regression") == 0, "with --min-change 0.01ms it counts: %s", j.verdict);
		pd_gate_policy_init(&p);
	}

	/* one baseline run: within-run noise only (3.09 standard errors) */
	{
		struct pd_gate_obs one = {10.0, 0.5};

		pd_gate_judge(&p, PD_GATE_P99, &one, 1, (struct pd_gate_obs) {12.0, 0.5}, &j);
		CHECK(strcmp(j.verdict, "unchanged") == 0 && fabs(j.noise - 3.09 * sqrt(0.5) / 10) < 1e-9,
			  "+20%% inside 3.09 se: %s noise %g", j.verdict, j.noise);
		pd_gate_judge(&p, PD_GATE_P99, &one, 1, (struct pd_gate_obs) {13.0, 0.5}, &j);
		CHECK(strcmp(j.verdict, "regression") == 0, "+30%% beyond it: %s", j.verdict);
		CHECK(isnan(j.run_sd), "no run-to-run estimate from one run");
	}

	/* error rate from 0: counts above the 0.1-point floor and the noise */
	{
		struct pd_gate_obs zero[3] = {{0, 0.0001}, {0, 0.0001}, {0, 0.0001}};

		pd_gate_judge(&p, PD_GATE_ERROR_RATE, zero, 3, (struct pd_gate_obs) {0.05, 0.002}, &j);
		CHECK(strcmp(j.verdict, "regression") == 0 && isnan(j.change), "0 -> 5%%: %s", j.verdict);
		pd_gate_judge(&p, PD_GATE_ERROR_RATE, zero, 3, (struct pd_gate_obs) {0.0005, 0.0001}, &j);
		CHECK(strcmp(j.verdict, "unchanged") == 0, "0 -> 0.05%%: %s", j.verdict);
	}

	/* one disturbed baseline run (+30%) does not blind the gate */
	{
		struct pd_gate_obs hist[5] = {{2.00, 0.01}, {2.02, 0.01}, {1.99, 0.01}, {2.60, 0.01}, {2.01, 0.01}};
		char		err[64];

		pd_gate_parse_thresholds("35", &p, err, sizeof(err));
		pd_gate_judge(&p, PD_GATE_P50, hist, 5, (struct pd_gate_obs) {3.0, 0.01}, &j);
		CHECK(strcmp(j.verdict, "regression") == 0, "+50%% over a history with one burst: %s (noise %g)",
			  j.verdict, j.noise);
		CHECK(j.run_sd < 0.01, "the burst is left out of the run-to-run sd: %g", j.run_sd);
		/* two disturbed runs are noise, not an outlier */
		hist[1].value = 2.6;
		pd_gate_judge(&p, PD_GATE_P50, hist, 5, (struct pd_gate_obs) {3.0, 0.01}, &j);
		CHECK(strcmp(j.verdict, "unchanged") == 0, "two bursts: %s", j.verdict);
		pd_gate_policy_init(&p);
	}

	/* a per-metric threshold: p99 +12% passes at 15%, fails at 10% */
	{
		struct pd_gate_obs quiet[5] = {{10, 0.01}, {10, 0.01}, {10, 0.01}, {10, 0.01}, {10, 0.01}};
		char		err[64];

		pd_gate_judge(&p, PD_GATE_P99, quiet, 5, (struct pd_gate_obs) {11.2, 0.01}, &j);
		CHECK(strcmp(j.verdict, "regression") == 0, "+12%% at 10%%: %s", j.verdict);
		pd_gate_parse_thresholds("p99=15", &p, err, sizeof(err));
		pd_gate_judge(&p, PD_GATE_P99, quiet, 5, (struct pd_gate_obs) {11.2, 0.01}, &j);
		CHECK(strcmp(j.verdict, "unchanged") == 0, "+12%% at 15%%: %s", j.verdict);
	}
}

/* A synthetic stored run: p50/p95/p99 and one value per statement. */
static void
make_run(struct pd_gate_run *r, int64_t id, double scale, double stmt_p95_factor,
		 double noise)
{
	static const char *const fps[] = {"f1", "f2", "f3"};
	static const char *const qs[] = {
		"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
		"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
	};
	static const double p95[] = {0.4, 6.0, 0.8};

	memset(r, 0, sizeof(*r));
	r->id = id;
	r->tps = normal(1000, 1000 * noise) / scale;
	r->ok = 10000;
	r->bad = 0;
	for (int q = 0; q < 3; q++)
	{
		double		v = normal((q + 1) * 4.0, (q + 1) * 4.0 * noise) * scale;

		r->q[q] = (struct pd_gate_qci) {v * 0.995, v, v * 1.005};
	}
	r->nint = 10;
	r->int_len = calloc(10, sizeof(double));
	r->int_tps = calloc(10, sizeof(double));
	r->int_q = calloc(30, sizeof(double));
	for (int i = 0; i < 10; i++)
	{
		r->int_len[i] = 1.0;
		r->int_tps[i] = r->tps * (1 + 0.02 * (i % 3 - 1));
		for (int q = 0; q < 3; q++)
			r->int_q[i * 3 + q] = r->q[q].mid * (1 + 0.03 * (i % 2 ? 1 : -1));
	}
	r->nstmt = 3;
	r->stmts = calloc(3, sizeof(*r->stmts));
	for (int s = 0; s < 3; s++)
	{
		struct pd_gate_stmt *st = &r->stmts[s];
		double		f = s == 1 ? stmt_p95_factor : 1.0;

		st->fingerprint = strdup(fps[s]);
		st->query = strdup(qs[s]);
		st->calls = 10000;
		for (int q = 0; q < 3; q++)
		{
			double		v = normal(p95[s] * (0.5 + 0.5 * q), p95[s] * noise) * scale;

			if (q == 1)
				v *= f;
			st->q[q] = (struct pd_gate_qci) {v * 0.99, v, v * 1.01};
		}
	}
}

static int
count_verdict(const struct pd_cmp *c, const char *verdict, const char *scope,
			  const char *metric)
{
	int			n = 0;

	for (int i = 0; i < c->nrows; i++)
		n += strcmp(c->rows[i].verdict, verdict) == 0 &&
			(scope == NULL || strcmp(c->rows[i].scope, scope) == 0) &&
			(metric == NULL || strcmp(c->rows[i].metric, metric) == 0);
	return n;
}

static void
test_compare(void)
{
	struct pd_gate_policy p;
	struct pd_gate_run base[5];
	struct pd_gate_run cand;
	struct pd_cmp c;
	int			false_alarms = 0;

	pd_gate_policy_init(&p);
	/* 20 unchanged candidates against a 5-run history with 3% noise */
	for (int i = 0; i < 5; i++)
		make_run(&base[i], i + 1, 1.0, 1.0, 0.03);
	for (int t = 0; t < 20; t++)
	{
		make_run(&cand, 100 + t, 1.0, 1.0, 0.03);
		memset(&c, 0, sizeof(c));
		pd_gate_compare(&p, &cand, base, 5, &c);
		CHECK(c.nrows == 5 + 3 * 4, "5 run rows + 4 per statement: %d", c.nrows);
		false_alarms += c.regressions > 0;
		pd_cmp_free(&c);
		pd_gate_run_free(&cand);
	}
	CHECK(false_alarms == 0, "20 unchanged reruns: %d false alarms", false_alarms);

	/* the UPDATE's p95 +30%: exactly that row regresses */
	make_run(&cand, 200, 1.0, 1.3, 0.03);
	memset(&c, 0, sizeof(c));
	pd_gate_compare(&p, &cand, base, 5, &c);
	CHECK(c.regressions == 1, "one regression: %d", c.regressions);
	for (int i = 0; i < c.nrows; i++)
		if (strcmp(c.rows[i].verdict, "regression") == 0)
		{
			CHECK(strcmp(c.rows[i].metric, "p95_ms") == 0 &&
				  strncmp(c.rows[i].query, "UPDATE", 6) == 0, "the UPDATE's p95: %s %s",
				  c.rows[i].metric, c.rows[i].query);
			CHECK(c.rows[i].nbase == 5, "five baseline values");
		}
	/* --gate-scope run: the statement no longer counts, still shown */
	c.gate_scope = PD_GATE_SCOPE_RUN;
	pd_cmp_set_gate(&c, NULL);
	CHECK(c.regressions == 0 && count_verdict(&c, "regression", "statement", "p95_ms") == 1,
		  "scope run: %d counted", c.regressions);
	c.gate_scope = PD_GATE_SCOPE_STATEMENTS;
	pd_cmp_set_gate(&c, NULL);
	CHECK(c.regressions == 1, "scope statements: %d", c.regressions);
	pd_cmp_free(&c);
	pd_gate_run_free(&cand);

	/* 5.6 times faster everywhere: improvements only, exit 0 */
	make_run(&cand, 300, 1 / 5.6, 1.0, 0.03);
	memset(&c, 0, sizeof(c));
	pd_gate_compare(&p, &cand, base, 5, &c);
	CHECK(c.regressions == 0 && count_verdict(&c, "regression", NULL, NULL) == 0,
		  "5.6x faster: %d regressions", c.regressions);
	CHECK(count_verdict(&c, "improvement", "run", "tps") == 1, "tps improved");
	pd_cmp_free(&c);
	pd_gate_run_free(&cand);

	/* a statement only in the candidate is new, one only in the baseline gone */
	make_run(&cand, 400, 1.0, 1.0, 0.03);
	free(cand.stmts[2].fingerprint);
	cand.stmts[2].fingerprint = strdup("f9");
	memset(&c, 0, sizeof(c));
	pd_gate_compare(&p, &cand, base, 5, &c);
	CHECK(count_verdict(&c, "new", "statement", "p95_ms") == 1 &&
		  count_verdict(&c, "gone", "statement", "p95_ms") == 1, "new and gone");
	CHECK(c.regressions == 0, "new/gone are not regressions");
	pd_cmp_free(&c);
	pd_gate_run_free(&cand);

	for (int i = 0; i < 5; i++)
		pd_gate_run_free(&base[i]);
}

/* The table: a truthful header, the worst regression first, full texts. */
static void
test_table(void)
{
	struct pd_gate_policy p;
	struct pd_gate_run base[3];
	struct pd_gate_run cand;
	struct pd_cmp c;
	char	   *txt = NULL;
	size_t		len = 0;
	FILE	   *f;
	int64_t		ids[3] = {7, 6, 5};

	pd_gate_policy_init(&p);
	for (int i = 0; i < 3; i++)
		make_run(&base[i], 5 + i, 1.0, 1.0, 0.0);
	/* everything 2x slower, the UPDATE's p95 4x */
	make_run(&cand, 9, 2.0, 2.0, 0.0);
	memset(&c, 0, sizeof(c));
	pd_gate_compare(&p, &cand, base, 3, &c);
	c.candidate = 9;
	c.last_n = 5;
	c.name = strdup("checkout");
	c.base_ids = malloc(sizeof(ids));
	memcpy(c.base_ids, ids, sizeof(ids));
	f = open_memstream(&txt, &len);
	report_print_comparison(f, &c);
	fclose(f);
	CHECK(strstr(txt, "comparison: run 9 against the median of 3 runs named \"checkout\" (5 asked for, 3 found)\n") != NULL,
		  "truthful header:\n%s", txt);
	CHECK(strstr(txt, "baseline:   runs 7, 6, 5; run-to-run noise (sd / median): tps 0.0%") != NULL,
		  "baseline runs and noise:\n%s", txt);
	CHECK(strstr(txt, "gate:       threshold 10.0%; min change 0.1 ms; scope all\n") != NULL,
		  "gate line:\n%s", txt);
	{
		/* the first row is the UPDATE's p95 (+300%), the worst */
		const char *hdr = strstr(txt, "  metric ");
		const char *first = hdr ? strchr(hdr, '\n') + 1 : NULL;

		CHECK(first && strncmp(first, "  p95_ms", 8) == 0 && strstr(first, "[1] UPDATE") != NULL &&
			  strstr(first, "[1] UPDATE") < strchr(first, '\n'), "worst first:\n%s", txt);
	}
	CHECK(strstr(txt, "  [1] UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2\n") != NULL,
		  "the full text follows the table:\n%s", txt);
	free(txt);

	/* JUnit with assertions: one testcase each, failures counted */
	{
		struct pd_assert_set set = {0};
		struct pd_assert a;
		char		err[128];
		size_t		pos;
		json_t	   *doc = json_pack("{s:f, s:i, s:i, s:{s:f}}", "tps", 300.0, "transactions", 3000,
									"failed_transactions", 0, "latency_ms", "p95", 12.0);

		pd_assert_parse("p95<10ms", &a, err, sizeof(err), &pos);
		pd_assert_set_push(&set, &a);
		pd_assert_parse("tps>100", &a, err, sizeof(err), &pos);
		pd_assert_set_push(&set, &a);
		pd_assert_evaluate(&set, doc);
		json_decref(doc);
		c.assertions = &set;
		pd_cmp_set_gate(&c, NULL);
		txt = NULL;
		f = open_memstream(&txt, &len);
		junit_write_stream(f, &c);
		fclose(f);
		{
			char		want[128];
			int			ncases = 1 + 3 + 2;
			int			nfail = 1 + 3 + 1;	/* run, every statement, one assertion */

			snprintf(want, sizeof(want), "<testsuites tests=\"%d\" failures=\"%d\">", ncases, nfail);
			CHECK(strstr(txt, want) != NULL, "want %s in:\n%s", want, txt);
		}
		CHECK(strstr(txt, "<testcase classname=\"perfdriver.checkout.assertions\" name=\"p95&lt;10ms\">\n"
					  "      <failure type=\"assertion\" message=\"p95: 12.00 ms, target &lt; 10.00 ms\">") != NULL,
			  "the failed assertion:\n%s", txt);
		CHECK(strstr(txt, "<testcase classname=\"perfdriver.checkout.assertions\" name=\"tps&gt;100\"></testcase>") != NULL,
			  "the passed assertion:\n%s", txt);
		free(txt);
		pd_assert_set_free(&set);
		c.assertions = NULL;
	}
	pd_cmp_free(&c);
	pd_gate_run_free(&cand);
	for (int i = 0; i < 3; i++)
		pd_gate_run_free(&base[i]);
}

int
main(void)
{
	test_options();
	test_noise_model();
	test_judge_rules();
	test_compare();
	test_table();
	return UNIT_DONE("test_gate");
}
