/*
 * run_opts.c
 *		"perfdriver run"'s command line: the usage text, parsing and
 *		checking the options into a struct run_opts.
 *
 * Owns: the run's option names, their defaults and limits, the checks
 * between options (-t or -T, --baseline needs --store, ...), loading the
 * scripts the options name, the random seed (--random-seed), and the
 * wording of the usage text and of the option errors.
 *
 * Must not: connect to a server (a scale counted from pgbench_branches is
 * the run's business, cmd_run.c), or print a password.
 *
 * Memory: run_opts_parse() loads malloc'd scripts and the -D variable
 * table into o; run_opts_free() releases them.  Strings in o (target,
 * json, name, labels, ...) point into argv and are not copied.
 */
#include "observe.h"
#include "run_opts.h"
#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Ranges of the options whose values become nanosecond clocks: the longest
 * -T and -P are pgbench's (an int of seconds), and the lowest -R keeps a
 * client's next start within the clock's range (docs/perfdriver.md).
 */
#define RUN_MAX_SECONDS		2147483647.0
#define RUN_MIN_RATE		0.001

#define RUN_OPTS_ERRLEN	1024

static const char *const run_opts_mode_names[] = {"simple", "extended", "prepared"};

const char *
run_opts_mode_name(pd_query_mode mode)
{
	return run_opts_mode_names[mode];
}

void
run_opts_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver run [OPTION]...\n"
			"\n"
			"Runs pgbench-compatible workloads and reports latency percentiles per\n"
			"statement and per script.\n"
			"\n"
			"Connection:\n"
			"  -d, --dbname=CONNINFO    database name or conninfo/URI (PG* variables and\n"
			"                           .pgpass apply)\n"
			"Workload:\n"
			"  -b, --builtin=NAME[@W]   built-in script (tpcb-like, simple-update,\n"
			"                           select-only; on perfstore's workflow tables:\n"
			"                           workflow-nplus1, workflow-batched, and\n"
			"                           workflow-init to fill them); default tpcb-like\n"
			"  -f, --file=FILE[@W]      script file, pgbench syntax\n"
			"  -D, --define=NAME=VALUE  set a script variable\n"
			"  -s, --scale=N            scale for the built-ins (default: counted from\n"
			"                           pgbench_branches)\n"
			"  -M, --protocol=MODE      simple (default), extended or prepared\n"
			"  --max-tries=N            tries per transaction on 40001/40P01 (default 1)\n"
			"  --random-seed=SEED       time (default), rand, or an integer\n"
			"Load:\n"
			"  -c, --client=N           connections (default 1)\n"
			"  -j, --jobs=N             threads (default 1)\n"
			"  -T, --time=SEC           run for SEC seconds\n"
			"  -t, --transactions=N     transactions per client (default 10)\n"
			"  -R, --rate=TPS           open loop: Poisson arrivals at TPS in total;\n"
			"                           latency counts from the scheduled start\n"
			"  --flamegraph=FILE.svg    sample the backends with perf over the run and\n"
			"                           draw a flame graph (also writes FILE.folded)\n"
			"  --flamegraph-hz=HZ       samples per second (default 99)\n"
			"  --flamegraph-self        sample perfdriver itself too\n"
			"  --cpu-affinity=WHERE     auto (default): one CPU per thread when the\n"
			"                           server is on this host and -j equals the CPUs\n"
			"                           (or is fewer, with -c equal to -j); none; or\n"
			"                           CPUs for the threads in turn, such as 2,3 or 4-7\n"
			"Output:\n"
			"  -P, --progress=SEC       progress line every SEC seconds\n"
			"  --nplus1-min-repeats=K   N+1: repeats with different parameters after a\n"
			"                           source statement that make a finding (default 5)\n"
			"  --nplus1-min-time=MS     N+1: least time spent in the repeats (default 0)\n"
			"  --json=FILE              JSON report (\"-\" for stdout)\n"
			"  --html=FILE              HTML report: one self-contained file with charts\n"
			"                           (with --store and --baseline, the comparison too)\n"
			"Server-side evidence (docs/diagnosis.md):\n"
			"  --observe                sample the run's backends in pg_stat_activity (wait\n"
			"                           profile, lock contention), pg_stat_statements\n"
			"                           deltas, and EXPLAIN the 5 slowest statements\n"
			"  --observe=analyze        the same with EXPLAIN ANALYZE (rolled back)\n"
			"  --observe-hz=N           samples per second (default 50)\n"
			"  --advise                 index advice with hypothetical indexes (hypopg)\n"
			"  --advise=verify          also create each advised index, run again for the\n"
			"                           same duration and report p95 before and after\n"
			"                           (writes to the database)\n"
			"  --keep-indexes           with --advise=verify: keep the indexes it created\n"
			"  -n, --no-vacuum          accepted for pgbench compatibility (no effect)\n"
			"Storing the run (in a database with the perfstore extension):\n"
			"  --store=CONNINFO         store the run with perfstore.store_run()\n"
			"  --name=NAME              the run's name, for comparisons (default \"default\")\n"
			"  --label=KEY=VALUE        a label on the stored run (repeatable)\n"
			"  --run-group=ID           merge with other drivers storing the same NAME and ID\n"
			"  --baseline=last:N|RUN_ID after storing, compare with the median of the last\n"
			"                           N runs of NAME, or with one stored run\n"
			"  --fail-on-regression=PCT with --baseline: changes beyond PCT percent are\n"
			"                           regressions and make the exit status 3\n"
			"                           (default threshold without it: 10, no effect)\n"
			"  --junit=FILE             with --baseline or --assert: the comparison and\n"
			"                           the assertions as JUnit XML\n"
			"  --threshold=LIST         with --baseline: smallest change that counts, in\n"
			"                           percent, for every metric or per metric, such as\n"
			"                           p95=10,p99=15,tps=20\n"
			"  --min-change=LATENCY     smallest latency change that counts (default 0.1ms)\n"
			"  --gate-scope=SCOPE       rows that count: run, statements or all (default)\n"
			"  --confirm                with --fail-on-regression: when the gate fails,\n"
			"                           run the workload once more (stored, labelled\n"
			"                           confirms=ID) and let that rerun decide\n"
			"Targets:\n"
			"  --assert=EXPR            a target the run must meet, such as p95<50ms,\n"
			"                           tps>500, error_rate<1%%, statements.p99<=80ms or\n"
			"                           script:NAME.p95<20ms (repeatable; exit status 5)\n"
			"  --assert-min-samples=N   samples a latency assertion needs (default: what\n"
			"                           its quantile resolves, 100 for p99)\n"
			"  -r, --report-per-command accepted for pgbench compatibility (per-statement\n"
			"                           latencies are always reported)\n"
			"  -L, --latency-limit=MS   count transactions above MS; with -R, skip those\n"
			"                           that would start more than MS late (as pgbench)\n"
			"  -l, --log                a per-transaction log in pgbench's format, one\n"
			"                           file per thread: PREFIX.PID, PREFIX.PID.1, ...\n"
			"  --log-prefix=PREFIX      the log files' prefix (default pgbench_log)\n"
			"  --continue-on-error      keep a client going after an error that is not\n"
			"                           retryable (default: abort it, as pgbench does);\n"
			"                           the same error in a row backs off, 1 ms to 1 s\n"
			"  --gate-metrics=LIST      metrics whose regressions count: comma-separated\n"
			"                           from tps, p50_ms, p95_ms, p99_ms, error_rate\n"
			"                           (default all)\n"
			"\n"
			"Exit status: 0 ok, 1 the run had failed transactions, 2 usage, script or\n"
			"connection error, 3 a regression was found (--fail-on-regression), 4 the\n"
			"run could not be stored (the JSON report is still written), 5 a target\n"
			"assertion failed.  When several apply: 2, 4, 5, 3, 1.\n");
}

static bool
parse_int64(const char *s, int64_t min, int64_t *out)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min)
		return false;
	*out = v;
	return true;
}

static bool
parse_double(const char *s, double min, double *out)
{
	char	   *end;
	double		v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min) || isinf(v))
		return false;
	*out = v;
	return true;
}

/*
 * parse_label: add "KEY=VALUE" to o's labels (a later KEY replaces an
 * earlier one).  Returns false after printing the problem.
 */
static bool
parse_label(struct run_opts *o, char *arg)
{
	char	   *eq = strchr(arg, '=');
	int			i;

	if (eq == NULL || eq == arg)
	{
		pd_error("invalid --label: \"%s\"", arg);
		pd_hint("Use KEY=VALUE, for example --label commit=abc123.");
		return false;
	}
	*eq = '\0';
	for (i = 0; i < o->nlabels; i++)
		if (strcmp(o->labels[i].key, arg) == 0)
			break;
	if (i == PD_MAX_LABELS)
	{
		pd_error("too many labels (at most %d)", PD_MAX_LABELS);
		return false;
	}
	o->labels[i].key = arg;
	o->labels[i].value = eq + 1;
	if (i == o->nlabels)
		o->nlabels++;
	return true;
}

/*
 * run_opts_parse: fill o from argv.  Returns true on success; on a usage or
 * script error prints it and returns false.  *help is set for --help.
 */
bool
run_opts_parse(int argc, char **argv, struct run_opts *o, bool *help)
{
	static const struct option longopts[] = {
		{"builtin", required_argument, NULL, 'b'},
		{"client", required_argument, NULL, 'c'},
		{"dbname", required_argument, NULL, 'd'},
		{"define", required_argument, NULL, 'D'},
		{"file", required_argument, NULL, 'f'},
		{"jobs", required_argument, NULL, 'j'},
		{"protocol", required_argument, NULL, 'M'},
		{"no-vacuum", no_argument, NULL, 'n'},
		{"progress", required_argument, NULL, 'P'},
		{"rate", required_argument, NULL, 'R'},
		{"scale", required_argument, NULL, 's'},
		{"time", required_argument, NULL, 'T'},
		{"transactions", required_argument, NULL, 't'},
		{"max-tries", required_argument, NULL, 1},
		{"random-seed", required_argument, NULL, 2},
		{"json", required_argument, NULL, 3},
		{"nplus1-min-repeats", required_argument, NULL, 4},
		{"nplus1-min-time", required_argument, NULL, 5},
		{"store", required_argument, NULL, 6},
		{"name", required_argument, NULL, 7},
		{"label", required_argument, NULL, 8},
		{"run-group", required_argument, NULL, 9},
		{"baseline", required_argument, NULL, 10},
		{"fail-on-regression", required_argument, NULL, 11},
		{"junit", required_argument, NULL, 12},
		{"gate-metrics", required_argument, NULL, 13},
		{"cpu-affinity", required_argument, NULL, 14},
		{"flamegraph", required_argument, NULL, 40},
		{"flamegraph-hz", required_argument, NULL, 41},
		{"flamegraph-self", no_argument, NULL, 42},
		{"observe", optional_argument, NULL, 201},
		{"observe-hz", required_argument, NULL, 202},
		{"advise", optional_argument, NULL, 203},
		{"keep-indexes", no_argument, NULL, 204},
		{"threshold", required_argument, NULL, 15},
		{"min-change", required_argument, NULL, 16},
		{"gate-scope", required_argument, NULL, 17},
		{"assert", required_argument, NULL, 18},
		{"assert-min-samples", required_argument, NULL, 19},
		{"report-per-command", no_argument, NULL, 'r'},
		{"latency-limit", required_argument, NULL, 'L'},
		{"log", no_argument, NULL, 'l'},
		{"log-prefix", required_argument, NULL, 20},
		{"continue-on-error", no_argument, NULL, 21},
		{"confirm", no_argument, NULL, 22},
		{"html", required_argument, NULL, 43},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	char		err[RUN_OPTS_ERRLEN];
	int			ch;
	int64_t		v;
	const char *seed = "time";
	const char *gate_opt = NULL;	/* the last gate option given */

	memset(o, 0, sizeof(*o));
	o->clients = 1;
	o->threads = 1;
	o->scale = -1;
	o->max_tries = 1;
	o->mode = PD_QM_SIMPLE;
	o->defs = pgb_vars_create();
	o->nplus1.min_repeats = NPLUS1_DEFAULT_MIN_REPEATS;
	o->nplus1.min_time_ms = 0;
	o->name = "default";
	o->store.threshold = 0.10;
	pd_gate_policy_init(&o->store.policy);
	o->store.policy.default_threshold = NAN;	/* --fail-on-regression's */
	*help = false;
	optind = 1;

	while ((ch = getopt_long(argc, argv, "b:c:d:D:f:hj:lL:M:nP:rR:s:t:T:", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'b':
			case 'f':
				{
					struct pgb_script *s;

					if (o->nscripts >= PD_MAX_SCRIPTS)
					{
						pd_error("too many scripts (at most %d)", PD_MAX_SCRIPTS);
						return false;
					}
					s = ch == 'b' ? pgb_builtin_script(optarg, err, sizeof(err))
						: pgb_script_load(optarg, err, sizeof(err));
					if (s == NULL)
					{
						pd_error("%s", err);
						if (ch == 'b')
							pd_hint("Built-in scripts are tpcb-like, simple-update, select-only, workflow-nplus1, workflow-batched and workflow-init.");
						return false;
					}
					o->scripts[o->nscripts++] = s;
					break;
				}
			case 'c':
				if (!parse_int64(optarg, 1, &v) || v > 10000)
				{
					pd_error("invalid number of clients: \"%s\"", optarg);
					return false;
				}
				o->clients = (int) v;
				break;
			case 'd':
				o->target = optarg;
				break;
			case 'D':
				if (!pgb_vars_define(o->defs, optarg, err, sizeof(err)))
				{
					pd_error("%s", err);
					return false;
				}
				break;
			case 'h':
				*help = true;
				return true;
			case 'j':
				if (!parse_int64(optarg, 1, &v) || v > 1024)
				{
					pd_error("invalid number of threads: \"%s\"", optarg);
					return false;
				}
				o->threads = (int) v;
				break;
			case 'M':
				if (strcmp(optarg, "simple") == 0)
					o->mode = PD_QM_SIMPLE;
				else if (strcmp(optarg, "extended") == 0)
					o->mode = PD_QM_EXTENDED;
				else if (strcmp(optarg, "prepared") == 0)
					o->mode = PD_QM_PREPARED;
				else
				{
					pd_error("unrecognized query mode: \"%s\"", optarg);
					pd_hint("Use simple, extended or prepared.");
					return false;
				}
				break;
			case 'n':
				break;
			case 'P':
				if (!parse_double(optarg, 0.001, &o->progress_s) ||
					o->progress_s > RUN_MAX_SECONDS)
				{
					pd_error("invalid progress interval: \"%s\"", optarg);
					pd_hint("Use a number of seconds from 0.001 to %.0f.", RUN_MAX_SECONDS);
					return false;
				}
				break;
			case 'R':
				if (!parse_double(optarg, RUN_MIN_RATE, &o->rate))
				{
					pd_error("invalid rate: \"%s\"", optarg);
					pd_hint("Use a number of transactions per second of at least %g.",
							RUN_MIN_RATE);
					return false;
				}
				break;
			case 's':
				if (!parse_int64(optarg, 1, &o->scale))
				{
					pd_error("invalid scale factor: \"%s\"", optarg);
					return false;
				}
				break;
			case 'T':
				if (!parse_double(optarg, 0.0, &o->duration_s) || o->duration_s <= 0 ||
					o->duration_s > RUN_MAX_SECONDS)
				{
					pd_error("invalid duration: \"%s\"", optarg);
					pd_hint("Use a number of seconds greater than 0 and at most %.0f.",
							RUN_MAX_SECONDS);
					return false;
				}
				break;
			case 't':
				if (!parse_int64(optarg, 1, &o->txns))
				{
					pd_error("invalid number of transactions: \"%s\"", optarg);
					pd_hint("Use an integer from 1 to %" PRId64 ".", INT64_MAX);
					return false;
				}
				break;
			case 1:
				if (!parse_int64(optarg, 1, &v) || v > 1000000)
				{
					pd_error("invalid number of tries: \"%s\"", optarg);
					return false;
				}
				o->max_tries = (int) v;
				break;
			case 2:
				seed = optarg;
				break;
			case 3:
				o->json = optarg;
				break;
			case 43:
				o->html = optarg;
				break;
			case 4:
				if (!parse_int64(optarg, 2, &v) || v > 1000000)
				{
					pd_error("invalid --nplus1-min-repeats: \"%s\"", optarg);
					pd_hint("Use an integer of at least 2.");
					return false;
				}
				o->nplus1.min_repeats = (int) v;
				break;
			case 5:
				if (!parse_double(optarg, 0.0, &o->nplus1.min_time_ms))
				{
					pd_error("invalid --nplus1-min-time: \"%s\"", optarg);
					return false;
				}
				break;
			case 6:
				o->store.dsn = optarg;
				break;
			case 7:
				if (optarg[0] == '\0')
				{
					pd_error("the run name must not be empty");
					return false;
				}
				o->name = optarg;
				break;
			case 8:
				if (!parse_label(o, optarg))
					return false;
				break;
			case 9:
				if (optarg[0] == '\0')
				{
					pd_error("the run group must not be empty");
					return false;
				}
				o->run_group = optarg;
				break;
			case 10:
				if (!pd_parse_baseline(optarg, &o->store.baseline_id,
									   &o->store.baseline_last))
				{
					pd_error("invalid --baseline: \"%s\"", optarg);
					pd_hint("Use last:N for the last N runs of the same name, or a run id.");
					return false;
				}
				break;
			case 11:
				if (!pd_parse_percent(optarg, &o->store.threshold))
				{
					pd_error("invalid --fail-on-regression: \"%s\"", optarg);
					pd_hint("Use a percentage of at least 0, for example 10.");
					return false;
				}
				o->store.fail_on_regression = true;
				break;
			case 12:
				o->store.junit = optarg;
				break;
			case 13:
				if (!pd_parse_gate_metrics(optarg, &o->store.gate))
				{
					pd_error("invalid --gate-metrics: \"%s\"", optarg);
					pd_hint("Use a comma-separated list of %s, or all.", PD_CMP_METRICS);
					return false;
				}
				break;
			case 15:
				if (!pd_parse_gate_option(&o->store.policy, "threshold", optarg))
					return false;
				gate_opt = "--threshold";
				break;
			case 16:
				if (!pd_parse_gate_option(&o->store.policy, "min-change", optarg))
					return false;
				gate_opt = "--min-change";
				break;
			case 17:
				if (!pd_parse_gate_option(&o->store.policy, "gate-scope", optarg))
					return false;
				gate_opt = "--gate-scope";
				break;
			case 18:
				if (!pd_parse_assert_option(&o->asserts, optarg))
					return false;
				break;
			case 19:
				if (!parse_int64(optarg, 1, &v))
				{
					pd_error("invalid --assert-min-samples: \"%s\"", optarg);
					pd_hint("Use a whole number of at least 1.");
					return false;
				}
				o->asserts.min_samples = v;
				break;
			case 'r':
				/* pgbench's per-statement latencies: always reported here */
				break;
			case 'L':
				if (!parse_double(optarg, 0.0, &o->latency_limit_ms) || o->latency_limit_ms <= 0)
				{
					pd_error("invalid latency limit: \"%s\"", optarg);
					pd_hint("Use milliseconds above 0, for example -L 50.");
					return false;
				}
				break;
			case 'l':
				o->txlog = true;
				break;
			case 20:
				if (optarg[0] == '\0' || optarg[strlen(optarg) - 1] == '/')
				{
					pd_error("invalid --log-prefix: \"%s\"", optarg);
					pd_hint("Give the start of the log files' names, for example --log-prefix=logs/run1.");
					return false;
				}
				o->log_prefix = optarg;
				break;
			case 21:
				o->continue_on_error = true;
				break;
			case 22:
				o->store.confirm = true;
				gate_opt = "--confirm";
				break;
			case 14:
				if (!pd_affinity_parse(optarg, &o->affinity, err, sizeof(err)))
				{
					pd_error("%s", err);
					return false;
				}
				break;
			case 40:
				if (optarg[0] == '\0')
				{
					pd_error("--flamegraph needs a file name");
					pd_hint("For example --flamegraph run.svg (writes run.svg and run.folded).");
					return false;
				}
				o->flame.svg = optarg;
				break;
			case 41:
				if (!parse_int64(optarg, 1, &v) || v > 10000)
				{
					pd_error("invalid --flamegraph-hz: \"%s\"", optarg);
					pd_hint("Use a sampling frequency from 1 to 10000 (default 99).");
					return false;
				}
				o->flame.hz = (int) v;
				break;
			case 42:
				o->flame.self = true;
				break;
			case 201:
				if (optarg == NULL)
					o->observe = 1;
				else if (strcmp(optarg, "analyze") == 0)
					o->observe = 2;
				else
				{
					pd_error("unrecognized --observe mode: \"%s\"", optarg);
					pd_hint("Use --observe or --observe=analyze.");
					return false;
				}
				break;
			case 202:
				{
					int64_t		v;

					if (!parse_int64(optarg, 1, &v) || v > PD_OBS_MAX_HZ)
					{
						pd_error("invalid --observe-hz: \"%s\"", optarg);
						pd_hint("Use an integer from 1 to %d.", PD_OBS_MAX_HZ);
						return false;
					}
					o->observe_hz = (int) v;
					break;
				}
			case 203:
				if (optarg == NULL)
					o->advise = 1;
				else if (strcmp(optarg, "verify") == 0)
					o->advise = 2;
				else
				{
					pd_error("unrecognized --advise mode: \"%s\"", optarg);
					pd_hint("Use --advise or --advise=verify.");
					return false;
				}
				break;
			case 204:
				o->keep_indexes = true;
				break;
			default:
				pd_hint("Try \"perfdriver run --help\" for more information.");
				return false;
		}
	}
	if (optind < argc)
	{
		/* pgbench takes the database name as a positional argument */
		if (o->target == NULL && optind == argc - 1)
			o->target = argv[optind];
		else
		{
			pd_error("too many command-line arguments (first is \"%s\")", argv[optind]);
			return false;
		}
	}
	if (o->keep_indexes && o->advise != 2)
	{
		pd_error("--keep-indexes needs --advise=verify");
		return false;
	}
	if (o->observe_hz > 0 && o->observe == 0)
	{
		pd_error("--observe-hz needs --observe");
		return false;
	}
	if (o->duration_s > 0 && o->txns > 0)
	{
		pd_error("specify either a number of transactions (-t) or a duration (-T), not both");
		return false;
	}
	if (o->duration_s == 0 && o->txns == 0)
		o->txns = 10;
	if (o->json && o->html && strcmp(o->json, "-") == 0 && strcmp(o->html, "-") == 0)
	{
		pd_error("--json and --html cannot both write to stdout");
		pd_hint("Give one of them a file name.");
		return false;
	}
	if (o->store.dsn == NULL &&
		(o->store.baseline_id || o->store.baseline_last || o->run_group))
	{
		pd_error("%s needs --store", o->run_group ? "--run-group" : "--baseline");
		return false;
	}
	if (o->log_prefix != NULL && !o->txlog)
	{
		pd_error("--log-prefix needs -l");
		return false;
	}
	if (o->log_prefix == NULL)
		o->log_prefix = "pgbench_log";
	if ((o->store.fail_on_regression || (o->store.junit && o->asserts.n == 0) ||
		 o->store.gate || gate_opt) &&
		!(o->store.baseline_id || o->store.baseline_last))
	{
		pd_error("%s needs --baseline",
				 o->store.junit ? "--junit (without --assert)" : o->store.gate ? "--gate-metrics"
				 : gate_opt ? gate_opt : "--fail-on-regression");
		pd_hint("For example --baseline=last:5 to compare with the last five runs of the same name.");
		return false;
	}
	if (o->flame.svg == NULL && (o->flame.hz || o->flame.self))
	{
		pd_error("%s needs --flamegraph", o->flame.hz ? "--flamegraph-hz" : "--flamegraph-self");
		pd_hint("For example --flamegraph run.svg --flamegraph-hz 199.");
		return false;
	}
	if (o->threads > o->clients)
		o->threads = o->clients;
	if (o->nscripts == 0)
	{
		struct pgb_script *s = pgb_builtin_script("tpcb-like", err, sizeof(err));

		if (s == NULL)
		{
			pd_error("%s", err);
			return false;
		}
		o->scripts[o->nscripts++] = s;
	}

	if (strcmp(seed, "time") == 0)
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o->seed = (uint64_t) ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	}
	else if (strcmp(seed, "rand") == 0)
	{
		int			fd = open("/dev/urandom", O_RDONLY);

		if (fd < 0 || read(fd, &o->seed, sizeof(o->seed)) != sizeof(o->seed))
		{
			pd_error("could not read /dev/urandom for --random-seed=rand");
			if (fd >= 0)
				close(fd);
			return false;
		}
		close(fd);
	}
	else
	{
		char	   *end;

		errno = 0;
		o->seed = strtoull(seed, &end, 0);
		if (errno != 0 || end == seed || *end != '\0')
		{
			pd_error("unrecognized random seed option \"%s\"", seed);
			pd_hint("Expecting an unsigned integer, \"time\" or \"rand\".");
			return false;
		}
	}
	return true;
}

/*
 * run_opts_check_scripts: reject what cannot run in the chosen mode before
 * connecting.  Returns false after printing the problem.
 */
bool
run_opts_check_scripts(const struct run_opts *o)
{
	int			total = 0;

	for (int i = 0; i < o->nscripts; i++)
	{
		const struct pgb_script *s = o->scripts[i];

		total += s->weight;
		for (int k = 0; k < s->ncommands; k++)
		{
			const struct pgb_command *c = &s->commands[k];

			if (c->type == PGB_CMD_STARTPIPELINE && o->mode == PD_QM_SIMPLE)
			{
				pd_error("%s:%d: \\startpipeline cannot be used with -M simple", s->name, c->line);
				pd_hint("Use -M extended or -M prepared.");
				return false;
			}
		}
	}
	if (total <= 0)
	{
		pd_error("total script weight must not be zero");
		return false;
	}
	return true;
}

/*
 * output_writable: whether path can be written as a report file: an
 * existing file that is writable and not a directory, or a new file in an
 * existing, writable directory.  Creates nothing.  Returns false with the
 * reason in err.
 */
static bool
output_writable(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	char	   *dir;
	char	   *slash;
	bool		ok;

	if (stat(path, &sb) == 0)
	{
		if (S_ISDIR(sb.st_mode))
		{
			snprintf(err, errlen, "it is a directory");
			return false;
		}
		if (access(path, W_OK) != 0)
		{
			snprintf(err, errlen, "%s", strerror(errno));
			return false;
		}
		return true;
	}
	if (errno != ENOENT)
	{
		snprintf(err, errlen, "%s", strerror(errno));
		return false;
	}
	dir = pd_strdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	ok = false;
	if (stat(dir, &sb) != 0)
		snprintf(err, errlen, "%s", strerror(errno));
	else if (!S_ISDIR(sb.st_mode))
		snprintf(err, errlen, "%s", strerror(ENOTDIR));
	else if (access(dir, W_OK | X_OK) != 0)
		snprintf(err, errlen, "%s", strerror(errno));
	else
		ok = true;
	free(dir);
	return ok;
}

/*
 * run_opts_check_outputs: the report files (--json, --junit) must be
 * writable before the run starts, so that a run is not lost for a typo in
 * a path.  Returns false after printing the problem.
 */
bool
run_opts_check_outputs(const struct run_opts *o)
{
	char		err[256];

	if (o->json && strcmp(o->json, "-") != 0 && !output_writable(o->json, err, sizeof(err)))
	{
		pd_error("cannot write the JSON report to \"%s\": %s", o->json, err);
		pd_hint("The report is written when the run ends; nothing was run.");
		return false;
	}
	if (o->store.junit && !output_writable(o->store.junit, err, sizeof(err)))
	{
		pd_error("cannot write the JUnit report to \"%s\": %s", o->store.junit, err);
		pd_hint("The report is written when the run ends; nothing was run.");
		return false;
	}
	return true;
}

bool
run_opts_uses_builtin(const struct run_opts *o)
{
	for (int i = 0; i < o->nscripts; i++)
		if (pgb_builtin_text(o->scripts[i]->name) != NULL)
			return true;
	return false;
}

void
run_opts_free(struct run_opts *o)
{
	for (int i = 0; i < o->nscripts; i++)
		pgb_script_free(o->scripts[i]);
	pgb_vars_free(o->defs);
	pd_assert_set_free(&o->asserts);
}
