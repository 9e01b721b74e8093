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
#include "junit.h"
#include "pgconn.h"
#include "report.h"
#include "store.h"

#include <errno.h>
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

/*
 * print_and_gate: print c, write the JUnit file when asked.  Only the
 * metrics listed in metrics (NULL: all) count as regressions.  Returns
 * PD_EXIT_REGRESSION when c has such regressions and gate is set, PD_EXIT_USAGE
 * when the JUnit or JSON file cannot be written, else 0.
 */
static int
print_and_gate(FILE *out, struct pd_cmp *c, const char *metrics, bool gate,
			   const char *junit, const char *json)
{
	char		err[ERRLEN];
	int			rc = 0;

	pd_cmp_set_gate(c, metrics);
	report_print_comparison(out, c);
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
	return rc;
}

int
store_and_compare(const struct pd_store_opts *so, const struct pd_report *rep,
				  FILE *out, int64_t *stored_id)
{
	char		err[ERRLEN];
	char		desc[512];
	struct pd_store *st;
	char	   *doc;
	int64_t		id = 0;
	int			rc = 0;

	if (stored_id)
		*stored_id = 0;
	doc = report_json(rep, NULL);
	st = pd_store_connect(so->dsn, err, sizeof(err));
	if (st == NULL || !pd_store_run(st, doc, &id, err, sizeof(err)))
	{
		pd_error("could not store the run: %s", err);
		if (st == NULL)
		{
			describe_store(so->dsn, desc, sizeof(desc));
			pd_hint("The store was %s; the JSON report (--json) holds the whole run.", desc);
		}
		pd_store_close(st);
		free(doc);
		return PD_EXIT_STORE;
	}
	free(doc);
	if (stored_id)
		*stored_id = id;
	fprintf(out, "\nstored:        run %lld as \"%s\"%s%s%s\n", (long long) id,
			rep->meta->name, rep->meta->run_group ? " (run group \"" : "",
			rep->meta->run_group ? rep->meta->run_group : "",
			rep->meta->run_group ? "\")" : "");
	fflush(out);

	if (so->baseline_id > 0 || so->baseline_last > 0)
	{
		struct pd_cmp c;
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
			return 0;
		}
		if (!pd_store_compare(st, so->baseline_id, so->baseline_last, id,
							  so->threshold, &c, err, sizeof(err)))
		{
			pd_error("could not compare run %lld: %s", (long long) id, err);
			pd_store_close(st);
			return PD_EXIT_USAGE;
		}
		fprintf(out, "\n");
		rc = print_and_gate(out, &c, so->gate, so->fail_on_regression,
							so->junit, NULL);
		pd_cmp_free(&c);
	}
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
			"that started before CANDIDATE, and a change must also exceed their\n"
			"spread.\n"
			"\n"
			"Options:\n"
			"  --store=CONNINFO     database holding the runs (name, conninfo or URI)\n"
			"  --history=N          compare with the last N runs of the same name\n"
			"  --threshold=PCT      smallest change that counts, in percent (default 10)\n"
			"  --json=FILE          the comparison as JSON (\"-\" for stdout)\n"
			"  --junit=FILE         the comparison as JUnit XML\n"
			"  --gate-metrics=LIST  metrics whose regressions count (exit status 3,\n"
			"                       JUnit failures): comma-separated from tps, p50_ms,\n"
			"                       p95_ms, p99_ms, error_rate; default all\n"
			"\n"
			"Exit status: 0 no regression, 2 usage error, unknown run or unreachable\n"
			"store, 3 a regression was found.\n");
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
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dsn = NULL;
	const char *json = NULL;
	const char *junit = NULL;
	const char *gate = NULL;
	int			history = 0;
	double		threshold = 0.10;
	int64_t		baseline = 0;
	int64_t		candidate = 0;
	int			ignore;
	int			ch;
	char		err[ERRLEN];
	struct pd_store *st;
	struct pd_cmp c;
	int			rc;
	FILE	   *out;

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
						return PD_EXIT_USAGE;
					}
					history = (int) n;
					break;
				}
			case 3:
				if (!pd_parse_percent(optarg, &threshold))
				{
					pd_error("invalid --threshold: \"%s\"", optarg);
					pd_hint("Use a percentage of at least 0, for example 10.");
					return PD_EXIT_USAGE;
				}
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
					return PD_EXIT_USAGE;
				}
				break;
			case 'h':
				compare_usage(stdout);
				return PD_EXIT_OK;
			default:
				pd_hint("Try \"perfdriver compare --help\" for more information.");
				return PD_EXIT_USAGE;
		}
	}
	if (dsn == NULL)
	{
		pd_error("compare needs --store");
		pd_hint("Give the database that holds the runs, for example --store=\"dbname=perf\".");
		return PD_EXIT_USAGE;
	}
	if (argc - optind != (history > 0 ? 1 : 2))
	{
		pd_error(history > 0 ? "compare --history takes one run id (the candidate)"
				 : "compare takes two run ids: BASELINE CANDIDATE");
		pd_hint("Try \"perfdriver compare --help\" for more information.");
		return PD_EXIT_USAGE;
	}
	if (history == 0 &&
		(!pd_parse_baseline(argv[optind], &baseline, &ignore) || baseline == 0))
	{
		pd_error("invalid run id: \"%s\"", argv[optind]);
		return PD_EXIT_USAGE;
	}
	if (!pd_parse_baseline(argv[argc - 1], &candidate, &ignore) || candidate == 0)
	{
		pd_error("invalid run id: \"%s\"", argv[argc - 1]);
		return PD_EXIT_USAGE;
	}

	st = pd_store_connect(dsn, err, sizeof(err));
	if (st == NULL)
	{
		char		desc[512];

		describe_store(dsn, desc, sizeof(desc));
		pd_error("could not connect to the store %s: %s", desc, err);
		return PD_EXIT_USAGE;
	}
	if (!pd_store_compare(st, baseline, history, candidate, threshold, &c,
						  err, sizeof(err)))
	{
		pd_error("could not compare: %s", err);
		pd_store_close(st);
		return PD_EXIT_USAGE;
	}
	pd_store_close(st);
	/* with --json -, stdout carries the JSON alone */
	out = json && strcmp(json, "-") == 0 ? stderr : stdout;
	rc = print_and_gate(out, &c, gate, true, junit, json);
	pd_cmp_free(&c);
	return rc;
}
