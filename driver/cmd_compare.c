/*
 * cmd_compare.c
 *		"perfdriver compare": compare stored runs, and the store-and-compare
 *		step that ends "perfdriver run --store".
 *
 * Owns: the compare command's options, the regression gate (exit code 3
 * when any row's verdict is "regression"), the order of output after a
 * stored run (id line, comparison table, JUnit file), and what each failure
 * of those steps means for the exit code.
 *
 * Must not: include libpq-fe.h (store.c talks to the store), or print a
 * password: the store's conninfo is described through pgconn_params_describe.
 *
 * Memory: everything allocated here is freed before returning.
 */
#include "driver.h"
#include "gate.h"
#include "junit.h"
#include "pgconn.h"
#include "report.h"
#include "store.h"
#include "targets.h"

#include <errno.h>
#include <jansson.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ERRLEN 1024

bool
pd_parse_baseline(const char *s, int64_t *id, int *last_n)
{
	char	   *end;
	long long	v;

	*id = 0;
	*last_n = 0;
	if (strncmp(s, "last:", 5) == 0)
	{
		errno = 0;
		v = strtoll(s + 5, &end, 10);
		if (errno != 0 || end == s + 5 || *end != '\0' || v < 1 || v > 1000000)
			return false;
		*last_n = (int) v;
		return true;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1)
		return false;
	*id = v;
	return true;
}

bool
pd_parse_percent(const char *s, double *fraction)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || isinf(v))
		return false;
	*fraction = v / 100.0;
	return true;
}

bool
pd_parse_gate_metrics(const char *s, const char **gate)
{
	if (strcmp(s, "all") == 0)
	{
		*gate = NULL;
		return true;
	}
	if (s[0] == '\0')
		return false;
	for (const char *p = s; p != NULL;)
	{
		const char *comma = strchr(p, ',');
		size_t		n = comma ? (size_t) (comma - p) : strlen(p);
		char		item[32];

		if (n == 0 || n >= sizeof(item))
			return false;
		memcpy(item, p, n);
		item[n] = '\0';
		if (!pd_metric_listed(PD_CMP_METRICS, item))
			return false;
		p = comma ? comma + 1 : NULL;
	}
	*gate = s;
	return true;
}

/* The store's description for messages, password left out. */
static void
describe_store(const char *dsn, char *buf, size_t len)
{
	char		err[ERRLEN];
	struct pgconn_params *p = pgconn_params_parse(dsn, err, sizeof(err));

	if (p == NULL)
		snprintf(buf, len, "the store");
	else
	{
		pgconn_params_describe(p, buf, len);
		pgconn_params_free(p);
	}
}

bool
pd_parse_assert_option(struct pd_assert_set *set, const char *expr)
{
	struct pd_assert a;
	char		err[256];
	char		caret[1024];
	size_t		pos;

	if (!pd_assert_parse(expr, &a, err, sizeof(err), &pos))
	{
		pd_assert_caret(expr, pos, caret, sizeof(caret));
		pd_error("invalid --assert at character %zu: %s", pos + 1, err);
		fprintf(stderr, "%s\n", caret);
		pd_hint("An assertion reads [SCOPE.]METRIC OP NUMBER[UNIT], for example p95<50ms, tps>500, "
				"error_rate<1%%, statements.p99<=80ms or script:checkout.sql.p95<20ms.");
		return false;
	}
	pd_assert_set_push(set, &a);
	return true;
}

bool
pd_parse_gate_option(struct pd_gate_policy *p, const char *opt, const char *arg)
{
	char		err[256];

	if (strcmp(opt, "threshold") == 0)
	{
		if (!pd_gate_parse_thresholds(arg, p, err, sizeof(err)))
		{
			pd_error("invalid --threshold \"%s\": %s", arg, err);
			pd_hint("Use a percentage for every metric (10), or per metric: p95=10,p99=15,tps=20 "
					"(metrics p50, p95, p99, tps, error_rate).");
			return false;
		}
	}
	else if (strcmp(opt, "min-change") == 0)
	{
		if (!pd_gate_parse_min_change(arg, &p->min_change_ms))
		{
			pd_error("invalid --min-change: \"%s\"", arg);
			pd_hint("Use a latency of at least 0 with us, ms or s, for example 0.1ms.");
			return false;
		}
	}
	else if (!pd_gate_parse_scope(arg, &p->scope))
	{
		pd_error("invalid --gate-scope: \"%s\"", arg);
		pd_hint("Use run, statements or all.");
		return false;
	}
	return true;
}

int
pd_write_assertions_junit(const char *path, const char *name,
						  const struct pd_assert_set *set)
{
	struct pd_cmp c;
	char		err[ERRLEN];

	memset(&c, 0, sizeof(c));
	c.name = (char *) name;
	c.assertions = set;
	if (!junit_write(path, &c, err, sizeof(err)))
	{
		pd_error("%s", err);
		return PD_EXIT_USAGE;
	}
	return 0;
}

/*
 * print_and_gate: print c (and its assertions), write the JUnit file when
 * asked.  Only the metrics listed in metrics (NULL: all) count as
 * regressions.  Returns PD_EXIT_REGRESSION when c has such regressions and
 * gate is set, PD_EXIT_ASSERTION when an assertion failed, PD_EXIT_USAGE
 * when the JUnit or JSON file cannot be written (the highest applies).
 */
static int
print_and_gate(FILE *out, struct pd_cmp *c, const char *metrics, bool gate,
			   const char *junit, const char *json)
{
	char		err[ERRLEN];
	int			rc = 0;

	pd_cmp_set_gate(c, metrics);
	report_print_comparison(out, c);
	if (c->assertions != NULL && c->assertions->n > 0)
		pd_assert_print(out, c->assertions);
	if (junit && !junit_write(junit, c, err, sizeof(err)))
	{
		pd_error("%s", err);
		rc = PD_EXIT_USAGE;
	}
	if (json && !report_write_comparison_json(json, c, err, sizeof(err)))
	{
		pd_error("%s", err);
		rc = PD_EXIT_USAGE;
	}
	if (gate && c->regressions > 0)
		rc = pd_exit_combine(rc, PD_EXIT_REGRESSION);
	if (c->assertions != NULL && pd_assert_failures(c->assertions) > 0)
		rc = pd_exit_combine(rc, PD_EXIT_ASSERTION);
	return rc;
}

void
pd_evaluate_run_assertions(struct pd_assert_set *set, const struct pd_report *rep)
{
	char	   *doc = report_json(rep, NULL);
	json_error_t jerr;
	json_t	   *j = json_loads(doc, 0, &jerr);

	free(doc);
	if (j == NULL)
	{
		/* the driver's own JSON always parses; a failure here is a bug */
		pd_error("cannot read the run's own JSON report: %s", jerr.text);
		abort();
	}
	pd_assert_evaluate(set, j);
	json_decref(j);
}

/* The policy run asked for: a NaN default threshold takes so->threshold. */
static struct pd_gate_policy
run_policy(const struct pd_store_opts *so)
{
	struct pd_gate_policy p = so->policy;

	if (isnan(p.default_threshold))
		p.default_threshold = so->threshold;
	return p;
}

int
store_and_compare(const struct pd_store_opts *so, const struct pd_report *rep,
				  FILE *out)
{
	char		err[ERRLEN];
	char		desc[512];
	struct pd_store *st;
	char	   *doc;
	int64_t		id = 0;
	int			rc = 0;

	doc = report_json(rep, NULL);
	st = pd_store_connect(so->dsn, err, sizeof(err));
	if (st == NULL || !pd_store_run(st, doc, &id, err, sizeof(err)))
	{
		pd_error("could not store the run: %s", err);
		describe_store(so->dsn, desc, sizeof(desc));
		if (so->json_written != NULL && strcmp(so->json_written, "-") != 0)
			pd_hint("The store was %s; the JSON report \"%s\" holds the whole run, "
					"for perfstore.store_run() later.", desc, so->json_written);
		else if (so->json_written != NULL)
			pd_hint("The store was %s; the JSON report on standard output holds the whole run.", desc);
		else
			pd_hint("The store was %s.", desc);
		pd_store_close(st);
		free(doc);
		return PD_EXIT_STORE;
	}
	free(doc);
	fprintf(out, "\nstored:        run %lld as \"%s\"%s%s%s\n", (long long) id,
			rep->meta->name, rep->meta->run_group ? " (run group \"" : "",
			rep->meta->run_group ? rep->meta->run_group : "",
			rep->meta->run_group ? "\")" : "");
	fflush(out);

	if (so->baseline_id > 0 || so->baseline_last > 0)
	{
		struct pd_cmp c;
		struct pd_gate_policy policy;
		bool		has = true;

		if (so->baseline_last > 0 &&
			!pd_store_has_history(st, id, &has, err, sizeof(err)))
		{
			pd_error("could not compare run %lld: %s", (long long) id, err);
			pd_store_close(st);
			return PD_EXIT_USAGE;
		}
		if (!has)
		{
			fprintf(out, "comparison: no earlier run named \"%s\" yet; nothing to compare\n",
					rep->meta->name);
			pd_store_close(st);
			if (so->junit && so->assertions)
				return pd_write_assertions_junit(so->junit, rep->meta->name, so->assertions);
			return 0;
		}
		policy = run_policy(so);
		if (!pd_store_compare(st, so->baseline_id, so->baseline_last, id,
							  &policy, &c, err, sizeof(err)))
		{
			pd_error("could not compare run %lld: %s", (long long) id, err);
			pd_store_close(st);
			return PD_EXIT_USAGE;
		}
		fprintf(out, "\n");
		/* the run's report already printed the assertions */
		c.assertions = NULL;
		rc = print_and_gate(out, &c, so->gate, so->fail_on_regression,
							NULL, NULL);
		c.assertions = so->assertions;
		if (so->junit && !junit_write(so->junit, &c, err, sizeof(err)))
		{
			pd_error("%s", err);
			rc = pd_exit_combine(rc, PD_EXIT_USAGE);
		}
		pd_cmp_free(&c);
	}
	else if (so->junit && so->assertions)
		rc = pd_write_assertions_junit(so->junit, rep->meta->name, so->assertions);
	pd_store_close(st);
	return rc;
}

static void
compare_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver compare --store=CONNINFO [OPTION]... BASELINE CANDIDATE\n"
			"       perfdriver compare --store=CONNINFO --history=N [OPTION]... CANDIDATE\n"
			"\n"
			"Compares stored runs (ids of perfstore.bench_runs): TPS, p50, p95, p99\n"
			"and error rate for the whole run and p50/p95/p99 per statement.  With\n"
			"--history, the baseline is the median of the N runs of the same name\n"
			"that started before CANDIDATE.  A change counts only when it exceeds\n"
			"its threshold, the noise of the runs and, for latencies, --min-change;\n"
			"improvements never count (docs/runs.md).\n"
			"\n"
			"Options:\n"
			"  --store=CONNINFO     database holding the runs (name, conninfo or URI)\n"
			"  --history=N          compare with the last N runs of the same name\n"
			"  --threshold=LIST     smallest change that counts, in percent: one number\n"
			"                       for every metric, or per metric, for example\n"
			"                       p95=10,p99=15,tps=20 (default 10)\n"
			"  --min-change=LATENCY smallest latency change that counts (default 0.1ms)\n"
			"  --gate-scope=SCOPE   rows that count: run, statements or all (default)\n"
			"  --gate-metrics=LIST  metrics whose regressions count (exit status 3,\n"
			"                       JUnit failures): comma-separated from tps, p50_ms,\n"
			"                       p95_ms, p99_ms, error_rate; default all\n"
			"  --assert=EXPR        a target the candidate must meet, for example\n"
			"                       p95<50ms or statements.p99<=80ms (repeatable)\n"
			"  --assert-min-samples=N  samples a latency assertion needs (default:\n"
			"                       as many as its quantile resolves, 100 for p99)\n"
			"  --json=FILE          the comparison as JSON (\"-\" for stdout)\n"
			"  --junit=FILE         the comparison as JUnit XML\n"
			"\n"
			"Exit status: 0 no regression, 2 usage error, unknown run or unreachable\n"
			"store, 3 a regression was found, 5 a target assertion failed (5 wins\n"
			"over 3).\n");
}

/* --assert-min-samples: a whole number >= 1. */
static bool
parse_min_samples(const char *s, long long *n)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1)
		return false;
	*n = v;
	return true;
}

/* Evaluate set against stored run id; false with a message on failure. */
static bool
compare_assertions(struct pd_store *st, int64_t id, struct pd_assert_set *set)
{
	char		err[ERRLEN];
	char	   *doc = pd_store_run_report(st, id, err, sizeof(err));
	json_t	   *j;
	json_error_t jerr;

	if (doc == NULL)
	{
		pd_error("could not read run %lld for the assertions: %s", (long long) id, err);
		return false;
	}
	j = json_loads(doc, 0, &jerr);
	free(doc);
	if (j == NULL)
	{
		pd_error("could not read run %lld for the assertions: %s", (long long) id, jerr.text);
		return false;
	}
	pd_assert_evaluate(set, j);
	json_decref(j);
	return true;
}

int
cmd_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 1},
		{"history", required_argument, NULL, 2},
		{"threshold", required_argument, NULL, 3},
		{"json", required_argument, NULL, 4},
		{"junit", required_argument, NULL, 5},
		{"gate-metrics", required_argument, NULL, 6},
		{"min-change", required_argument, NULL, 7},
		{"gate-scope", required_argument, NULL, 8},
		{"assert", required_argument, NULL, 9},
		{"assert-min-samples", required_argument, NULL, 10},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dsn = NULL;
	const char *json = NULL;
	const char *junit = NULL;
	const char *gate = NULL;
	int			history = 0;
	struct pd_gate_policy policy;
	struct pd_assert_set asserts = {0};
	int64_t		baseline = 0;
	int64_t		candidate = 0;
	int			ignore;
	int			ch;
	char		err[ERRLEN];
	struct pd_store *st;
	struct pd_cmp c;
	int			rc = PD_EXIT_USAGE;
	FILE	   *out;

	pd_gate_policy_init(&policy);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 1:
				dsn = optarg;
				break;
			case 2:
				{
					int64_t		n;
					int			last;

					/* a bare N ("last:N" is run's --baseline syntax) */
					if (!pd_parse_baseline(optarg, &n, &last) || n == 0 || n > 1000000)
					{
						pd_error("invalid --history: \"%s\"", optarg);
						pd_hint("Use a number of runs of at least 1.");
						goto out;
					}
					history = (int) n;
					break;
				}
			case 3:
				if (!pd_parse_gate_option(&policy, "threshold", optarg))
					goto out;
				break;
			case 4:
				json = optarg;
				break;
			case 5:
				junit = optarg;
				break;
			case 6:
				if (!pd_parse_gate_metrics(optarg, &gate))
				{
					pd_error("invalid --gate-metrics: \"%s\"", optarg);
					pd_hint("Use a comma-separated list of %s, or all.", PD_CMP_METRICS);
					goto out;
				}
				break;
			case 7:
				if (!pd_parse_gate_option(&policy, "min-change", optarg))
					goto out;
				break;
			case 8:
				if (!pd_parse_gate_option(&policy, "gate-scope", optarg))
					goto out;
				break;
			case 9:
				if (!pd_parse_assert_option(&asserts, optarg))
					goto out;
				break;
			case 10:
				if (!parse_min_samples(optarg, &asserts.min_samples))
				{
					pd_error("invalid --assert-min-samples: \"%s\"", optarg);
					pd_hint("Use a whole number of at least 1.");
					goto out;
				}
				break;
			case 'h':
				compare_usage(stdout);
				rc = PD_EXIT_OK;
				goto out;
			default:
				pd_hint("Try \"perfdriver compare --help\" for more information.");
				goto out;
		}
	}
	if (dsn == NULL)
	{
		pd_error("compare needs --store");
		pd_hint("Give the database that holds the runs, for example --store=\"dbname=perf\".");
		goto out;
	}
	if (argc - optind != (history > 0 ? 1 : 2))
	{
		pd_error(history > 0 ? "compare --history takes one run id (the candidate)"
				 : "compare takes two run ids: BASELINE CANDIDATE");
		pd_hint("Try \"perfdriver compare --help\" for more information.");
		goto out;
	}
	if (history == 0 &&
		(!pd_parse_baseline(argv[optind], &baseline, &ignore) || baseline == 0))
	{
		pd_error("invalid run id: \"%s\"", argv[optind]);
		goto out;
	}
	if (!pd_parse_baseline(argv[argc - 1], &candidate, &ignore) || candidate == 0)
	{
		pd_error("invalid run id: \"%s\"", argv[argc - 1]);
		goto out;
	}

	st = pd_store_connect(dsn, err, sizeof(err));
	if (st == NULL)
	{
		char		desc[512];

		describe_store(dsn, desc, sizeof(desc));
		pd_error("could not connect to the store %s: %s", desc, err);
		goto out;
	}
	if (!pd_store_compare(st, baseline, history, candidate, &policy, &c,
						  err, sizeof(err)))
	{
		pd_error("could not compare: %s", err);
		pd_store_close(st);
		goto out;
	}
	if (asserts.n > 0 && !compare_assertions(st, candidate, &asserts))
	{
		pd_cmp_free(&c);
		pd_store_close(st);
		goto out;
	}
	pd_store_close(st);
	c.assertions = asserts.n > 0 ? &asserts : NULL;
	/* with --json -, stdout carries the JSON alone */
	out = json && strcmp(json, "-") == 0 ? stderr : stdout;
	rc = print_and_gate(out, &c, gate, true, junit, json);
	pd_cmp_free(&c);
out:
	pd_assert_set_free(&asserts);
	return rc;
}
