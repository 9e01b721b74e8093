/*
 * cmd_run.c
 *		"perfdriver run": options, the clients' state machine, the worker
 *		threads' poll loops, progress intervals and the final report.
 *
 * Owns: how a client executes a script (meta-commands, SQL in simple,
 * extended and prepared protocol, pipelines, retries of 40001/40P01,
 * rollback after errors, the open-loop -R schedule), feeding each executed
 * statement to the client's N+1 unit (nplus1.c; one detector per thread,
 * merged after the run), the threads that drive
 * the clients (each thread multiplexes its clients' sockets in one epoll
 * set, registered once per connection rather than rebuilt per wakeup),
 * and the coordination between the main thread (progress, SIGINT, the end
 * of the run) and the workers.
 *
 * Must not: include libpq-fe.h (pgconn.c wraps it), block a worker thread
 * anywhere but in epoll_pwait2(), or print a password (only the scrubbed
 * description of the target is printed).
 *
 * Memory: everything is allocated before the clock starts, except the
 * sketches growing within their bounded bucket count and libpq's own
 * buffers: nothing is kept per transaction (an N+1 unit has a fixed size
 * and its pattern table a fixed cap), so memory does not grow with the
 * length of the run; only --store keeps one packed latency sketch per
 * progress interval (struct pd_sketch_log) for the stored intervals.  Each worker thread owns its clients, their
 * connections and a struct pd_stats; the interval accumulator is the only
 * thing shared during the run, under the thread's interval mutex.
 */
#define _GNU_SOURCE				/* ppoll, epoll_pwait2 */
#include "affinity.h"
#include "driver.h"
#include "gate.h"
#include "nplus1.h"
#include "pgconn.h"
#include "pool.h"
#include "report.h"
#include "script.h"
#include "store.h"
#include "targets.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SCRIPTS		128
#define MAX_LABELS		64
#define ERRLEN			1024
#define MAX_PRINTED_ERRORS 5

/*
 * At the -T deadline no transaction starts, but those under way may finish
 * for this long, so that every transaction the server committed is counted
 * (committed transactions then equal, for example, rows added to
 * pgbench_history).  SIGINT abandons them at once.
 */
#define DEADLINE_GRACE_NS (5 * 1000000000LL)

typedef enum query_mode
{
	QM_SIMPLE,
	QM_EXTENDED,
	QM_PREPARED
} query_mode;

static const char *const query_mode_names[] = {"simple", "extended", "prepared"};

struct run_opts
{
	const char *target;
	int			clients;
	int			threads;
	int			nscripts;
	struct pgb_script *scripts[MAX_SCRIPTS];
	struct pgb_vars *defs;		/* -D */
	int64_t		scale;			/* -1: not given */
	double		duration_s;		/* -T, 0 when not given */
	int64_t		txns;			/* -t per client, 0 when not given */
	double		rate;			/* -R, 0 when closed loop */
	query_mode	mode;
	double		progress_s;		/* -P, 0 when not given */
	int			max_tries;
	uint64_t	seed;
	const char *json;
	struct nplus1_config nplus1;	/* --nplus1-min-repeats, --nplus1-min-time */
	/* storing the run (--store) and the regression gate */
	struct pd_store_opts store;	/* store.dsn NULL: not stored */
	const char *name;			/* --name */
	const char *run_group;		/* --run-group */
	struct pd_label labels[MAX_LABELS];
	int			nlabels;
	struct pd_affinity affinity;	/* --cpu-affinity */
	struct pd_assert_set asserts;	/* --assert, --assert-min-samples */
};

/* Client states. */
typedef enum cstate
{
	CS_CHOOSE,					/* start the next transaction */
	CS_THROTTLE,				/* -R: wait for the scheduled start */
	CS_CMD,						/* execute commands from c->cmd on */
	CS_WAIT,					/* waiting for a command's results */
	CS_SLEEP,					/* \sleep */
	CS_ROLLBACK,				/* waiting for the ROLLBACK after an error */
	CS_RECONNECT,				/* the connection is being re-established */
	CS_DONE
} cstate;

/* One command sent in a pipeline, waiting for its results. */
struct pending
{
	int			cmd;
	bool		prepare;		/* the Parse of a prepared statement */
	bool		aborted;		/* PGRES_PIPELINE_ABORTED: did not run */
	bool		error;
	uint64_t	rows;
	int64_t		sent_ns;
};

struct thread_ctx;

struct client
{
	int			id;
	struct thread_ctx *th;
	struct pool_conn *pc;
	unsigned	conn_gen;		/* pool generation prepared[] is valid for */
	bool	   *prepared;		/* per script command, offsets in run */
	struct pgb_vars *vars;
	struct pgb_prng rng;
	struct pgb_prng rng_saved;	/* at the start of the transaction */
	cstate		state;
	int			script;
	int			cmd;
	int64_t		sched_ns;		/* scheduled start (-R) or actual start */
	int64_t		txn_start_ns;
	int64_t		cmd_start_ns;
	int64_t		wake_ns;
	int			tries;
	int64_t		done_txns;		/* for -t */

	/* the command in flight (outside pipelines) */
	bool		preparing;		/* waiting for a Parse before the Bind */
	bool		need_flush;
	uint64_t	rows;
	int			gset_ntuples;	/* of the last result with tuples, -1 none */

	/* error state of the transaction */
	bool		failed;
	char		sqlstate[8];

	/* pipeline */
	bool		in_pipeline;
	bool		syncing;		/* \endpipeline sent, reading results */
	int			npend;
	int			pend_head;
	int			pend_cap;
	struct pending *pend;

	char	   *sqlbuf;
	size_t		sqlsize;
	const char **params;

	/* N+1 detection: this client's current transaction */
	struct nplus1_unit *npu;
	char		np_params[NPLUS1_EXAMPLE_LEN];
	uint64_t	np_hash;		/* digest of the values np_params shows */
	int			np_cmd;			/* command they were taken for, or -1 */

	/*
	 * The socket as registered in the thread's epoll set (-1: none) and its
	 * events.  ep_stale: libpq may have closed the socket and opened another
	 * with the same number (during a connect), so register it again.
	 */
	int			ep_fd;
	uint32_t	ep_events;
	bool		ep_stale;
	bool		ep_mute;		/* readable while not waiting: out until it waits */
};

struct run;

struct thread_ctx
{
	int			id;
	pthread_t	tid;
	struct run *run;
	struct client *clients;
	int			nclients;
	struct pd_stats stats;
	struct nplus1 *nplus1;		/* this thread's findings */
	pthread_mutex_t iv_lock;
	struct pd_interval_acc iv;
	struct pgb_prng rng;		/* script choice and -R schedule */
	int64_t		throttle_trigger;
	int64_t		finished_ns;
	bool		connect_failed;
	char		connect_err[256];	/* libpq's message when connect_failed */
	char		bind_err[128];	/* why binding to its CPU failed, "" if it did not */
	int			epfd;			/* the clients' sockets and the stop pipe */
	struct epoll_event *evs;	/* nclients + 1 */
};

struct run
{
	struct run_opts *o;
	struct pgconn_params *params;
	int			total_weight;
	int		   *cmd_offset;		/* per script, into client->prepared */
	bool	   *np_skip;		/* per command (cmd_offset): not fed to N+1 */
	char	  (*stmt_names)[24];	/* per command (cmd_offset): the prepared
									 * statement's name, "P<script>_<cmd>" */
	int			total_commands;
	int			max_params;
	int64_t		start_ns;
	int64_t		end_ns;			/* -T deadline, 0 when none */
	double		throttle_delay_ns;	/* mean gap per thread with -R */
	atomic_bool stop;
	atomic_int	printed_errors;
	atomic_int	threads_done;
	int			stop_pipe[2];	/* main -> workers: readable means stop */
	int			main_pipe[2];	/* workers, SIGINT -> main */
	struct thread_ctx *threads;
	struct pool_conn *pool;

	/*
	 * Per thread, its CPU (--cpu-affinity) or -1: planned by the main
	 * thread, set to -1 by a thread that does not bind, before the gate.
	 */
	int		   *cpus;

	/* the start gate: threads connect, then wait for the main thread */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int			nconnected;		/* threads whose connections are done */
	int			gate;			/* 0 wait, 1 run, -1 give up */
};

static int	sigint_fd = -1;
static volatile sig_atomic_t got_sigint = 0;

static void
on_sigint(int signo)
{
	int			saved = errno;
	char		b = 'i';

	(void) signo;
	got_sigint = 1;
	if (sigint_fd >= 0 && write(sigint_fd, &b, 1) < 0)
	{
		/* nothing to do: the flag is set */
	}
	/* a second Ctrl-C kills the process the usual way */
	signal(SIGINT, SIG_DFL);
	errno = saved;
}

/* -------------------------------------------------------------- options */

static void
run_usage(FILE *out)
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
			"Targets:\n"
			"  --assert=EXPR            a target the run must meet, such as p95<50ms,\n"
			"                           tps>500, error_rate<1%%, statements.p99<=80ms or\n"
			"                           script:NAME.p95<20ms (repeatable; exit status 5)\n"
			"  --assert-min-samples=N   samples a latency assertion needs (default: what\n"
			"                           its quantile resolves, 100 for p99)\n"
			"  -r, --report-per-command accepted for pgbench compatibility (per-statement\n"
			"                           latencies are always reported)\n"
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

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
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
	if (i == MAX_LABELS)
	{
		pd_error("too many labels (at most %d)", MAX_LABELS);
		return false;
	}
	o->labels[i].key = arg;
	o->labels[i].value = eq + 1;
	if (i == o->nlabels)
		o->nlabels++;
	return true;
}

/*
 * parse_options: fill o from argv.  Returns true on success; on a usage or
 * script error prints it and returns false.  *help is set for --help.
 */
static bool
parse_options(int argc, char **argv, struct run_opts *o, bool *help)
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
		{"threshold", required_argument, NULL, 15},
		{"min-change", required_argument, NULL, 16},
		{"gate-scope", required_argument, NULL, 17},
		{"assert", required_argument, NULL, 18},
		{"assert-min-samples", required_argument, NULL, 19},
		{"report-per-command", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	char		err[ERRLEN];
	int			ch;
	int64_t		v;
	const char *seed = "time";
	const char *gate_opt = NULL;	/* the last gate option given */

	memset(o, 0, sizeof(*o));
	o->clients = 1;
	o->threads = 1;
	o->scale = -1;
	o->max_tries = 1;
	o->mode = QM_SIMPLE;
	o->defs = pgb_vars_create();
	o->nplus1.min_repeats = NPLUS1_DEFAULT_MIN_REPEATS;
	o->nplus1.min_time_ms = 0;
	o->name = "default";
	o->store.threshold = 0.10;
	pd_gate_policy_init(&o->store.policy);
	o->store.policy.default_threshold = NAN;	/* --fail-on-regression's */
	*help = false;
	optind = 1;

	while ((ch = getopt_long(argc, argv, "b:c:d:D:f:hj:M:nP:rR:s:t:T:", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'b':
			case 'f':
				{
					struct pgb_script *s;

					if (o->nscripts >= MAX_SCRIPTS)
					{
						pd_error("too many scripts (at most %d)", MAX_SCRIPTS);
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
					o->mode = QM_SIMPLE;
				else if (strcmp(optarg, "extended") == 0)
					o->mode = QM_EXTENDED;
				else if (strcmp(optarg, "prepared") == 0)
					o->mode = QM_PREPARED;
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
				if (!parse_double(optarg, 0.001, &o->progress_s))
				{
					pd_error("invalid progress interval: \"%s\"", optarg);
					return false;
				}
				break;
			case 'R':
				if (!parse_double(optarg, 0.0, &o->rate) || o->rate <= 0)
				{
					pd_error("invalid rate: \"%s\"", optarg);
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
				if (!parse_double(optarg, 0.0, &o->duration_s) || o->duration_s <= 0)
				{
					pd_error("invalid duration: \"%s\"", optarg);
					return false;
				}
				break;
			case 't':
				if (!parse_int64(optarg, 1, &o->txns))
				{
					pd_error("invalid number of transactions: \"%s\"", optarg);
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
			case 14:
				if (!pd_affinity_parse(optarg, &o->affinity, err, sizeof(err)))
				{
					pd_error("%s", err);
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
	if (o->duration_s > 0 && o->txns > 0)
	{
		pd_error("specify either a number of transactions (-t) or a duration (-T), not both");
		return false;
	}
	if (o->duration_s == 0 && o->txns == 0)
		o->txns = 10;
	if (o->store.dsn == NULL &&
		(o->store.baseline_id || o->store.baseline_last || o->run_group))
	{
		pd_error("%s needs --store", o->run_group ? "--run-group" : "--baseline");
		return false;
	}
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
 * check_scripts: reject what cannot run in the chosen mode before
 * connecting.  Returns false after printing the problem.
 */
static bool
check_scripts(const struct run_opts *o)
{
	int			total = 0;

	for (int i = 0; i < o->nscripts; i++)
	{
		const struct pgb_script *s = o->scripts[i];

		total += s->weight;
		for (int k = 0; k < s->ncommands; k++)
		{
			const struct pgb_command *c = &s->commands[k];

			if (c->type == PGB_CMD_STARTPIPELINE && o->mode == QM_SIMPLE)
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

static bool
uses_builtin(const struct run_opts *o)
{
	for (int i = 0; i < o->nscripts; i++)
		if (pgb_builtin_text(o->scripts[i]->name) != NULL)
			return true;
	return false;
}

/* --------------------------------------------------------- measurements */

static void
iv_add_txn(struct thread_ctx *th, double lat_ms, double lag_ms, bool rate)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.transactions++;
	pd_sketch_add(&th->iv.lat, lat_ms);
	if (rate)
		pd_sketch_add(&th->iv.lag, lag_ms);
	pthread_mutex_unlock(&th->iv_lock);
}

static void
iv_add_failed(struct thread_ctx *th)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.failed++;
	pthread_mutex_unlock(&th->iv_lock);
}

static void
iv_add_error(struct thread_ctx *th)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.errors++;
	pthread_mutex_unlock(&th->iv_lock);
}

static bool
retryable(const char *sqlstate)
{
	return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0;
}

/*
 * client_report_error: count one error occurrence by SQLSTATE and print
 * the first few of the run, so a broken script is visible at once.
 */
static void
client_report_error(struct client *c, int cmd, const char *sqlstate,
					const char *msg)
{
	struct thread_ctx *th = c->th;
	struct run *run = th->run;
	const struct pgb_script *s = run->o->scripts[c->script];
	int			n;

	pd_errmap_add(&th->stats.errors, sqlstate, 1);
	if (cmd >= 0 && th->stats.scripts[c->script].stmts[cmd].lat != NULL)
		th->stats.scripts[c->script].stmts[cmd].errors++;
	iv_add_error(th);
	if (!c->failed)
	{
		c->failed = true;
		snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", sqlstate);
	}
	/* a serialization failure or deadlock that will be retried is routine */
	if (run->o->max_tries > 1 && retryable(sqlstate))
		return;
	n = atomic_fetch_add(&run->printed_errors, 1);
	/* the script layer's messages already start with "file:line:" */
	if (n < MAX_PRINTED_ERRORS &&
		strncmp(msg, s->name, strlen(s->name)) == 0 && msg[strlen(s->name)] == ':')
		fprintf(stderr, "perfdriver: client %d: %.*s%s\n", c->id,
				(int) strcspn(msg, "\n"), msg,
				n == MAX_PRINTED_ERRORS - 1 ? "; further errors are only counted" : "");
	else if (n < MAX_PRINTED_ERRORS)
		fprintf(stderr, "perfdriver: client %d: %s:%d: %.*s (SQLSTATE %s)%s\n",
				c->id, s->name, cmd >= 0 ? s->commands[cmd].line : 0,
				(int) strcspn(msg, "\n"), msg, sqlstate,
				n == MAX_PRINTED_ERRORS - 1 ? "; further errors are only counted" : "");
}

/* ------------------------------------------------------- client machine */

static void client_step(struct client *c, int64_t now);

static struct pgconn *
cconn(struct client *c)
{
	return c->pc->conn;
}

/* Mark the client's connection lost; the transaction fails. */
static void
client_lost(struct client *c, int cmd, const char *sqlstate, const char *msg)
{
	struct thread_ctx *th = c->th;
	int64_t		now = pd_now_ns();

	if (!c->failed)
		client_report_error(c, cmd, sqlstate, msg);
	if (c->state != CS_CHOOSE && c->state != CS_THROTTLE)
	{
		th->stats.failed++;
		th->stats.scripts[c->script].failed++;
		iv_add_failed(th);
		c->done_txns++;
	}
	pool_conn_lost(c->pc, now);
	c->ep_fd = -1;				/* closed: the epoll set dropped it */
	c->ep_mute = false;
	nplus1_unit_reset(c->npu);
	c->in_pipeline = false;
	c->syncing = false;
	c->npend = c->pend_head = 0;
	c->need_flush = false;
	c->preparing = false;
	c->state = CS_RECONNECT;
}

static void
client_lost_conn(struct client *c, int cmd)
{
	char		msg[256];

	snprintf(msg, sizeof(msg), "%s", pgconn_error(cconn(c)));
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "connection lost");
	client_lost(c, cmd, "08006", msg);
}

/* The transaction ended, committed or failed. */
static void
client_end_txn(struct client *c, int64_t now)
{
	struct thread_ctx *th = c->th;
	struct pd_script_stats *ss = &th->stats.scripts[c->script];
	bool		rate = th->run->o->rate > 0;

	if (c->failed)
	{
		ss->failed++;
		th->stats.failed++;
		iv_add_failed(th);
	}
	else
	{
		double		lat = (now - c->sched_ns) / PD_NS_PER_MS;
		double		lag = (c->txn_start_ns - c->sched_ns) / PD_NS_PER_MS;

		ss->transactions++;
		th->stats.transactions++;
		/* the run's sketch is the merge of its scripts' (pd_stats_merge) */
		pd_sketch_add(&ss->lat, lat);
		if (rate)
			pd_sketch_add(&th->stats.lag, lag);
		iv_add_txn(th, lat, lag, rate);
	}
	if (c->tries > 1)
	{
		ss->retried++;
		ss->retries += c->tries - 1;
	}
	nplus1_unit_end(c->npu);
	c->done_txns++;
	c->state = CS_CHOOSE;
}

/*
 * client_after_error: the failed command's results are drained and any
 * transaction block is rolled back: retry the transaction or give up.
 */
static void
client_after_error(struct client *c, int64_t now)
{
	if (retryable(c->sqlstate) && c->tries < c->th->run->o->max_tries)
	{
		c->tries++;
		nplus1_unit_reset(c->npu);
		c->failed = false;
		c->sqlstate[0] = '\0';
		c->rng = c->rng_saved;
		c->cmd = 0;
		c->state = CS_CMD;
		return;
	}
	client_end_txn(c, now);
}

/* Send ROLLBACK when the error left a transaction block open. */
static void
client_handle_error(struct client *c, int64_t now)
{
	pgconn_txn ts = pgconn_txn_status(cconn(c));

	if (ts == PGCONN_TXN_INERROR || ts == PGCONN_TXN_INTRANS)
	{
		if (!pgconn_send_simple(cconn(c), "ROLLBACK"))
		{
			client_lost_conn(c, -1);
			return;
		}
		c->state = CS_ROLLBACK;
		c->need_flush = false;
		int			f = pgconn_flush(cconn(c));

		if (f < 0)
			client_lost_conn(c, -1);
		else
			c->need_flush = f == 1;
		return;
	}
	client_after_error(c, now);
}

/*
 * client_fail: a script evaluation error (\set, \sleep, \if, pipeline
 * misuse).  These repeat on every transaction, so, as pgbench does, the
 * client is aborted: its transaction counts as failed and it stops.
 */
static void
client_fail(struct client *c, int cmd, const char *msg)
{
	struct thread_ctx *th = c->th;

	client_report_error(c, cmd, "client", msg);
	th->stats.failed++;
	th->stats.scripts[c->script].failed++;
	th->stats.aborted_clients++;
	iv_add_failed(th);
	fprintf(stderr, "perfdriver: client %d aborted\n", c->id);
	c->state = CS_DONE;
}

/* Append len bytes of src to buf at *off, truncating; keeps it terminated. */
static inline void
np_append(char *buf, size_t size, size_t *off, const char *src, size_t len)
{
	if (*off + 1 >= size)
		return;
	if (len > size - 1 - *off)
		len = size - 1 - *off;
	memcpy(buf + *off, src, len);
	*off += len;
	buf[*off] = '\0';
}

/*
 * client_np_digest: the N+1 digest of a statement's parameter values into
 * c->np_hash and c->np_params (a hash over the values as sent, and their
 * text, "v1, v2, ...", cut to fit), taken for command cmdidx.
 */
static void
client_np_digest(struct client *c, int cmdidx, int nparams,
				 const char *const *values)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	size_t		off = 0;

	c->np_params[0] = '\0';
	for (int i = 0; i < nparams; i++)
	{
		const char *v = values[i] ? values[i] : "NULL";

		for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		{
			h ^= *p;
			h *= UINT64_C(0x100000001b3);
		}
		h ^= 0xff;
		h *= UINT64_C(0x100000001b3);
		/* no snprintf on this path */
		if (i > 0)
			np_append(c->np_params, sizeof(c->np_params), &off, ", ", 2);
		np_append(c->np_params, sizeof(c->np_params), &off, v, strlen(v));
	}
	c->np_hash = nparams > 0 ? h : 0;
	c->np_cmd = cmdidx;
}

/*
 * client_send_sql: send the SQL command at c->cmd.  Returns false when the
 * client's state changed because of a failure (lost connection).  The
 * parameter values are looked up once, for the query and, outside a
 * pipeline, for the statement's N+1 digest.
 */
static bool
client_send_sql(struct client *c, const struct pgb_command *cmd, int64_t now)
{
	struct run *run = c->th->run;
	struct pgconn *conn = cconn(c);
	query_mode mode = run->o->mode;
	bool		ok;
	int			pidx = run->cmd_offset[c->script] + c->cmd;
	const char *name;

	if (c->pc->generation != c->conn_gen)
	{
		memset(c->prepared, 0, run->total_commands * sizeof(bool));
		c->conn_gen = c->pc->generation;
	}
	c->rows = 0;
	c->gset_ntuples = -1;
	c->cmd_start_ns = now;
	pgb_command_params(cmd, c->vars, c->params);
	c->np_cmd = -1;
	if (!c->in_pipeline && !run->np_skip[pidx])
		client_np_digest(c, c->cmd, cmd->nparams, c->params);
	if (mode == QM_SIMPLE || cmd->multi)
	{
		const char *sql = pgb_command_simple_sql(cmd, c->params, &c->sqlbuf,
												 &c->sqlsize);

		ok = pgconn_send_simple(conn, sql);
	}
	else
	{
		if (mode == QM_EXTENDED)
			ok = pgconn_send_params(conn, cmd->param_sql, cmd->nparams, c->params);
		else
		{
			name = run->stmt_names[pidx];
			if (!c->prepared[pidx])
			{
				ok = pgconn_send_prepare(conn, name, cmd->param_sql, cmd->nparams);
				if (ok && c->in_pipeline)
				{
					struct pending *p = &c->pend[c->npend++];

					memset(p, 0, sizeof(*p));
					p->cmd = c->cmd;
					p->prepare = true;
					p->sent_ns = now;
					c->prepared[pidx] = true;
					ok = pgconn_send_prepared(conn, name, cmd->nparams, c->params);
				}
				else if (ok)
					c->preparing = true;
			}
			else
				ok = pgconn_send_prepared(conn, name, cmd->nparams, c->params);
		}
	}
	if (!ok)
	{
		if (pgconn_is_bad(conn))
			client_lost_conn(c, c->cmd);
		else
		{
			client_report_error(c, c->cmd, "XX000", pgconn_error(conn));
			if (c->in_pipeline)
				client_lost(c, -1, "XX000", "pipeline broken");
			else
				client_handle_error(c, now);
		}
		return false;
	}
	if (c->in_pipeline)
	{
		struct pending *p = &c->pend[c->npend++];

		memset(p, 0, sizeof(*p));
		p->cmd = c->cmd;
		p->sent_ns = now;
	}
	int			f = pgconn_flush(conn);

	if (f < 0)
	{
		client_lost_conn(c, c->cmd);
		return false;
	}
	c->need_flush = f == 1;
	return true;
}

/* Store \gset / \aset columns of row 0 of r. */
static bool
client_gset(struct client *c, const struct pgb_command *cmd,
			const struct pgconn_result *r, char *err, size_t errlen)
{
	int			nf = pgconn_result_nfields(r);

	for (int f = 0; f < nf; f++)
		if (!pgb_vars_set_prefixed(c->vars, cmd->gset_prefix,
								   pgconn_result_fname(r, f),
								   pgconn_result_value(r, 0, f), err, errlen))
			return false;
	return true;
}

/*
 * client_take_result: account one result of the command at cmdidx.
 * Returns the error state to remember (true when it was an error).
 */
static bool
client_take_result(struct client *c, int cmdidx, struct pgconn_result *r,
				   uint64_t *rows, bool *bad_gset)
{
	const struct pgb_command *cmd = &c->th->run->o->scripts[c->script]->commands[cmdidx];
	char		err[ERRLEN];

	switch (pgconn_result_status(r))
	{
		case PGCONN_R_OK:
			*rows += pgconn_result_rows(r);
			if (cmd->gset != PGB_GSET_NONE && pgconn_result_nfields(r) > 0)
			{
				int			nt = pgconn_result_ntuples(r);

				c->gset_ntuples = nt;
				if (nt >= 1 && (cmd->gset == PGB_GSET_ASET || nt == 1))
				{
					if (!client_gset(c, cmd, r, err, sizeof(err)))
					{
						client_report_error(c, cmdidx, "client", err);
						return true;
					}
				}
				else if (cmd->gset == PGB_GSET_GSET)
					*bad_gset = true;
				else
					(void) 0;
			}
			return false;
		case PGCONN_R_ERROR:
			client_report_error(c, cmdidx, pgconn_result_sqlstate(r),
								pgconn_result_message(r));
			return true;
		case PGCONN_R_COPY:
			client_report_error(c, cmdidx, "client", "COPY is not supported in scripts");
			return true;
		default:
			return false;
	}
}


/*
 * client_nplus1_add: feed one executed statement to the client's N+1 unit:
 * its fingerprint, a hash of its parameter values (the script variables it
 * uses, as sent) and its latency.  Costs a hash over the values and a short
 * formatted copy of them: nothing compared with a round trip.
 */
static void
client_nplus1_add(struct client *c, int cmdidx, double ms)
{
	struct run *run = c->th->run;
	const struct pgb_command *cmd = &run->o->scripts[c->script]->commands[cmdidx];
	struct nplus1_stmt st;

	if (run->np_skip[run->cmd_offset[c->script] + cmdidx])
		return;
	/* taken when it was sent, except in a pipeline */
	if (c->np_cmd != cmdidx)
	{
		pgb_command_params(cmd, c->vars, c->params);
		client_np_digest(c, cmdidx, cmd->nparams, c->params);
	}
	c->np_cmd = -1;
	st.fingerprint = cmd->fingerprint;
	st.text = cmd->normalized ? cmd->normalized : cmd->sql;
	st.param_hash = c->np_hash;
	st.params = c->np_params;
	st.ms = ms;
	nplus1_unit_add(c->npu, &st);
}

static void
record_stmt(struct client *c, int cmdidx, uint64_t rows, int64_t start,
			int64_t end)
{
	struct pd_stmt_stats *st = &c->th->stats.scripts[c->script].stmts[cmdidx];

	st->calls++;
	st->rows += rows;
	pd_sketch_add(&st->lat, (end - start) / PD_NS_PER_MS);
	client_nplus1_add(c, cmdidx, (end - start) / PD_NS_PER_MS);
}

/*
 * client_read: read what arrived for the command in flight (CS_WAIT outside
 * a pipeline, or CS_ROLLBACK).  Moves the client on when it is complete.
 */
static void
client_read(struct client *c)
{
	struct pgconn *conn = cconn(c);
	struct pgconn_result *r;
	bool		bad_gset = false;

	if (!pgconn_consume(conn))
	{
		client_lost_conn(c, c->state == CS_WAIT ? c->cmd : -1);
		return;
	}
	while (!pgconn_busy(conn))
	{
		r = pgconn_next_result(conn);
		if (r == NULL)
		{
			int64_t		now = pd_now_ns();

			if (c->state == CS_ROLLBACK)
			{
				if (pgconn_is_bad(conn))
				{
					client_lost_conn(c, -1);
					return;
				}
				client_after_error(c, now);
				client_step(c, now);
				return;
			}
			if (c->failed)
			{
				/* an error result was counted already */
				if (!c->preparing)
					record_stmt(c, c->cmd, c->rows, c->cmd_start_ns, now);
				c->preparing = false;
				if (pgconn_is_bad(conn))
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				client_handle_error(c, now);
				client_step(c, now);
				return;
			}
			if (c->preparing)
			{
				struct run *run = c->th->run;
				const struct pgb_command *cmd =
				&run->o->scripts[c->script]->commands[c->cmd];
				int			pidx = run->cmd_offset[c->script] + c->cmd;
				int			f;

				c->preparing = false;
				c->prepared[pidx] = true;
				if (!pgconn_send_prepared(conn, run->stmt_names[pidx], cmd->nparams,
										  c->params))
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				f = pgconn_flush(conn);
				if (f < 0)
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				c->need_flush = f == 1;
				return;
			}
			record_stmt(c, c->cmd, c->rows, c->cmd_start_ns, now);
			if (c->th->run->o->scripts[c->script]->commands[c->cmd].gset == PGB_GSET_GSET &&
				c->gset_ntuples != 1)
			{
				char		msg[128];

				snprintf(msg, sizeof(msg), "\\gset expected one row, got %d",
						 c->gset_ntuples < 0 ? 0 : c->gset_ntuples);
				client_report_error(c, c->cmd, "client", msg);
				client_handle_error(c, now);
				client_step(c, now);
				return;
			}
			c->cmd++;
			c->state = CS_CMD;
			client_step(c, now);
			return;
		}
		if (c->state == CS_ROLLBACK)
			continue;
		(void) client_take_result(c, c->cmd, r, &c->rows, &bad_gset);
	}
}

/*
 * client_read_pipeline: read results of a pipeline.  Each command's results
 * end with a NULL; the pipeline ends with the sync result.
 */
static void
client_read_pipeline(struct client *c)
{
	struct pgconn *conn = cconn(c);
	struct pgconn_result *r;
	int			nulls = 0;

	if (!pgconn_consume(conn))
	{
		client_lost_conn(c, -1);
		return;
	}
	while (!pgconn_busy(conn))
	{
		r = pgconn_next_result(conn);
		if (r == NULL)
		{
			if (c->pend_head < c->npend)
			{
				struct pending *p = &c->pend[c->pend_head++];

				/* a Parse that did not run must be sent again next time */
				if (p->prepare && (p->aborted || p->error))
					c->prepared[c->th->run->cmd_offset[c->script] + p->cmd] = false;
				if (!p->prepare && !p->aborted)
				{
					record_stmt(c, p->cmd, p->rows, p->sent_ns, pd_now_ns());
					if (!p->error && c->th->run->o->scripts[c->script]->commands[p->cmd].gset == PGB_GSET_GSET &&
						c->gset_ntuples != 1)
						client_report_error(c, p->cmd, "client", "\\gset expected one row");
				}
				continue;
			}
			/*
			 * Nothing pending: the sync is next.  libpq reports busy until
			 * it arrives; a second NULL in a row would mean it never will
			 * in this call, so wait for the socket rather than spin.
			 */
			if (pgconn_busy(conn) || !c->syncing || ++nulls > 1)
				break;
			continue;
		}
		nulls = 0;
		switch (pgconn_result_status(r))
		{
			case PGCONN_R_PIPELINE_SYNC:
				{
					int64_t		now = pd_now_ns();

					c->syncing = false;
					c->in_pipeline = false;
					c->npend = c->pend_head = 0;
					if (!pgconn_pipeline_exit(conn))
					{
						client_lost(c, -1, "XX000", "could not leave pipeline mode");
						return;
					}
					if (c->failed)
					{
						client_handle_error(c, now);
						client_step(c, now);
						return;
					}
					c->cmd++;	/* past \endpipeline */
					c->state = CS_CMD;
					client_step(c, now);
					return;
				}
			case PGCONN_R_PIPELINE_ABORTED:
				if (c->pend_head < c->npend)
					c->pend[c->pend_head].aborted = true;
				break;
			default:
				if (c->pend_head < c->npend)
				{
					struct pending *p = &c->pend[c->pend_head];
					bool		bad_gset = false;

					c->gset_ntuples = -1;
					if (client_take_result(c, p->cmd, r, &p->rows, &bad_gset))
						p->error = true;
					if (pgconn_is_bad(conn))
					{
						client_lost_conn(c, p->cmd);
						return;
					}
				}
				break;
		}
	}
}

/* Pick the next script by weight. */
static int
choose_script(struct thread_ctx *th)
{
	struct run *run = th->run;
	int			n = run->o->nscripts;
	int64_t		w;

	if (n == 1)
		return 0;
	w = pgb_prng_range(&th->rng, 0, run->total_weight - 1);
	for (int i = 0; i < n; i++)
	{
		w -= run->o->scripts[i]->weight;
		if (w < 0)
			return i;
	}
	return n - 1;
}

/*
 * client_step: run the client's state machine as far as it goes without
 * waiting.  On return the client waits for its socket, a time, or is done.
 */
static void
client_step(struct client *c, int64_t now)
{
	struct thread_ctx *th = c->th;
	struct run *run = th->run;
	const struct run_opts *o = run->o;
	char		err[ERRLEN];

	for (;;)
	{
		/*
		 * Steps that take no time worth measuring (choosing a script, \set,
		 * \if) go on with the same now: a clock read each would cost more
		 * than they do.
		 */
		bool		refresh = true;

		switch (c->state)
		{
			case CS_CHOOSE:
				if (atomic_load_explicit(&run->stop, memory_order_relaxed) ||
					(o->txns > 0 && c->done_txns >= o->txns) ||
					(run->end_ns > 0 && now >= run->end_ns))
				{
					c->state = CS_DONE;
					return;
				}
				if (o->rate > 0)
				{
					double		u = pgb_prng_double(&th->rng);

					th->throttle_trigger += (int64_t) (-log(1.0 - u) * run->throttle_delay_ns);
					c->sched_ns = th->throttle_trigger;
					if (c->sched_ns > now)
					{
						c->wake_ns = c->sched_ns;
						c->state = CS_THROTTLE;
						return;
					}
				}
				else
					c->sched_ns = now;
				c->state = CS_THROTTLE;
				/* FALLTHROUGH */
			case CS_THROTTLE:
				if (run->end_ns > 0 && now >= run->end_ns)
				{
					c->state = CS_DONE;
					return;
				}
				if (o->rate > 0 && now < c->sched_ns)
					return;
				c->script = choose_script(th);
				c->cmd = 0;
				c->tries = 1;
				c->failed = false;
				c->sqlstate[0] = '\0';
				c->txn_start_ns = now;
				c->rng_saved = c->rng;
				c->state = CS_CMD;
				refresh = false;
				break;
			case CS_CMD:
				{
					const struct pgb_script *s = o->scripts[c->script];
					const struct pgb_command *cmd;

					if (c->cmd >= s->ncommands)
					{
						client_end_txn(c, now);
						break;
					}
					cmd = &s->commands[c->cmd];
					switch (cmd->type)
					{
						case PGB_CMD_SQL:
							if (!client_send_sql(c, cmd, now))
								break;
							if (c->in_pipeline)
							{
								c->cmd++;
								break;
							}
							c->state = CS_WAIT;
							return;
						case PGB_CMD_SET:
							if (!pgb_script_exec_set(s, cmd, c->vars, &c->rng, err, sizeof(err)))
							{
								client_fail(c, c->cmd, err);
								break;
							}
							c->cmd++;
							refresh = false;
							break;
						case PGB_CMD_SLEEP:
							{
								int64_t		usec;

								if (!pgb_command_sleep_usec(cmd, c->vars, &usec, err, sizeof(err)))
								{
									client_fail(c, c->cmd, err);
									break;
								}
								c->wake_ns = now + usec * 1000;
								c->state = CS_SLEEP;
								return;
							}
						case PGB_CMD_IF:
						case PGB_CMD_ELIF:
						case PGB_CMD_ELSE:
						case PGB_CMD_ENDIF:
							{
								int			next = pgb_script_branch(s, c->cmd, c->vars, &c->rng, err, sizeof(err));

								if (next < 0)
								{
									client_fail(c, c->cmd, err);
									break;
								}
								c->cmd = next;
								refresh = false;
								break;
							}
						case PGB_CMD_STARTPIPELINE:
							if (!pgconn_pipeline_enter(cconn(c)))
							{
								client_fail(c, c->cmd, "could not enter pipeline mode");
								break;
							}
							c->in_pipeline = true;
							c->npend = c->pend_head = 0;
							c->cmd++;
							break;
						case PGB_CMD_ENDPIPELINE:
							{
								int			f;

								if (!c->in_pipeline)
								{
									client_fail(c, c->cmd, "\\endpipeline outside a pipeline");
									break;
								}
								if (!pgconn_pipeline_sync(cconn(c)))
								{
									client_lost_conn(c, -1);
									break;
								}
								f = pgconn_flush(cconn(c));
								if (f < 0)
								{
									client_lost_conn(c, -1);
									break;
								}
								c->need_flush = f == 1;
								c->syncing = true;
								c->state = CS_WAIT;
								return;
							}
					}
					break;
				}
			case CS_SLEEP:
				if (now < c->wake_ns)
					return;
				c->cmd++;
				c->state = CS_CMD;
				break;
			case CS_WAIT:
			case CS_ROLLBACK:
				return;
			case CS_RECONNECT:
				switch (c->pc->state)
				{
					case POOL_UP:
						c->state = CS_CHOOSE;
						break;
					case POOL_DEAD:
						th->stats.aborted_clients++;
						pd_warning("client %d gave up reconnecting: %s", c->id, c->pc->last_error);
						c->state = CS_DONE;
						return;
					default:
						return;
				}
				break;
			case CS_DONE:
				return;
		}
		if (refresh)
			now = pd_now_ns();
	}
}

/* ------------------------------------------------------------- threads */

static int64_t
min_wake(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/*
 * client_watch: bring the client's entry in the thread's epoll set in line
 * with what it waits for.  A connected client keeps its socket registered
 * for reading in every state, so the common path (send, wait, read, send
 * again) makes no epoll_ctl() call at all; writability is added only while
 * libpq holds output it could not send, and a connecting socket is watched
 * in the direction libpq asks for.  Returns false when epoll_ctl() failed
 * (out of memory or the limit on watches), with errno set.
 */
static bool
client_watch(struct thread_ctx *th, struct client *c)
{
	int			fd = -1;
	uint32_t	ev = 0;
	struct epoll_event e;
	int			rc;

	switch (c->state)
	{
		case CS_DONE:
			break;
		case CS_RECONNECT:
			fd = pool_conn_fd(c->pc);
			if (fd >= 0)
				ev = pool_conn_events(c->pc) == POLLIN ? EPOLLIN : EPOLLOUT;
			break;
		default:
			if (c->pc->state == POOL_UP && c->pc->conn != NULL)
			{
				bool		waiting = c->state == CS_WAIT || c->state == CS_ROLLBACK;

				if (waiting)
					c->ep_mute = false;
				if (c->ep_mute)
					break;
				fd = pgconn_socket(cconn(c));
				ev = EPOLLIN;
				if (c->need_flush && waiting)
					ev |= EPOLLOUT;
			}
			break;
	}
	if (fd == c->ep_fd && ev == c->ep_events && !c->ep_stale)
		return true;
	if (fd < 0)
	{
		/*
		 * A socket still open (a client done before the others) leaves the
		 * set, or the server closing it would wake the thread in a loop; a
		 * closed socket has left it already.
		 */
		if (c->ep_fd >= 0 && !c->ep_stale && c->pc->conn != NULL &&
			pgconn_socket(cconn(c)) == c->ep_fd)
			(void) epoll_ctl(th->epfd, EPOLL_CTL_DEL, c->ep_fd, NULL);
		c->ep_fd = -1;
		c->ep_events = 0;
		c->ep_stale = false;
		return true;
	}
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (fd == c->ep_fd && !c->ep_stale)
	{
		rc = epoll_ctl(th->epfd, EPOLL_CTL_MOD, fd, &e);
		if (rc < 0 && errno == ENOENT)
			rc = epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &e);
	}
	else
	{
		/* the entry of a socket with this number is ours if it exists */
		rc = epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &e);
		if (rc < 0 && errno == EEXIST)
			rc = epoll_ctl(th->epfd, EPOLL_CTL_MOD, fd, &e);
	}
	if (rc < 0)
		return false;
	c->ep_fd = fd;
	c->ep_events = ev;
	c->ep_stale = false;
	return true;
}

/* Advance a reconnecting client's connect; its socket may have changed. */
static void
client_reconnect_step(struct client *c, int64_t now)
{
	pool_conn_step(c->pc, c->th->run->params, now);
	c->ep_stale = true;
	client_step(c, now);
}

/*
 * client_event: the client's socket is ready (revents from epoll).  Outside
 * a wait for results, readable means a notice or the server closing the
 * session (57P01 and the like): the socket leaves the set until the client
 * waits for results again, and the next command reads what came, as it
 * would have without the socket being watched meanwhile.
 */
static void
client_event(struct client *c, uint32_t re, int64_t now)
{
	switch (c->state)
	{
		case CS_RECONNECT:
			if (c->pc->state == POOL_CONNECTING)
				client_reconnect_step(c, now);
			return;
		case CS_WAIT:
		case CS_ROLLBACK:
			if ((re & EPOLLOUT) && c->need_flush)
			{
				int			f = pgconn_flush(cconn(c));

				if (f < 0)
				{
					client_lost_conn(c, c->state == CS_WAIT ? c->cmd : -1);
					return;
				}
				c->need_flush = f == 1;
			}
			if (re & (EPOLLIN | EPOLLERR | EPOLLHUP))
			{
				if (c->in_pipeline && c->state == CS_WAIT)
					client_read_pipeline(c);
				else
					client_read(c);
			}
			return;
		case CS_DONE:
			return;				/* leaves the set at the next round */
		default:
			c->ep_mute = true;
			return;
	}
}

/*
 * wait_events: epoll_pwait2(), whose timeout has nanoseconds (-R schedules
 * and \sleep need better than epoll_wait()'s milliseconds).  On kernels
 * without it (before 5.11), ppoll() on the epoll descriptor waits with the
 * same precision and epoll_wait() then collects without waiting.
 */
static int
wait_events(struct thread_ctx *th, const struct timespec *tsp)
{
	static atomic_bool no_pwait2 = false;
	struct pollfd p;
	int			n;

	if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed))
	{
		n = epoll_pwait2(th->epfd, th->evs, th->nclients + 1, tsp, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
	}
	p.fd = th->epfd;
	p.events = POLLIN;
	p.revents = 0;
	n = ppoll(&p, 1, tsp, NULL);
	if (n <= 0)
		return n;
	return epoll_wait(th->epfd, th->evs, th->nclients + 1, 0);
}

/*
 * thread_main: drive this thread's clients until all are done, the -T
 * deadline passes or the main thread says stop.  Each round registers what
 * changed, waits in epoll for the sockets that are ready (or the earliest
 * timer: a -R start, a \sleep, a reconnect), handles those, and steps the
 * clients whose timer came.  A client whose answer arrived while the
 * others were handled is found by the next wait without sleeping: that one
 * system call replaces a recv() per waiting client.
 */
static void *
thread_main(void *arg)
{
	struct thread_ctx *th = arg;
	struct run *run = th->run;
	int64_t		now;
	int			gate;

	/*
	 * Each thread opens its own connections, so that every backend talks
	 * with its client thread from the first message.  The kernel places a
	 * backend near the thread that wakes it; when the main thread opened the
	 * whole pool, runs on a small machine settled more often with the
	 * backends away from their client threads, every wake-up crossing CPUs
	 * (about 10% fewer transactions per second, measured in pairs against
	 * pgbench, which connects in its threads too).
	 */
	th->connect_failed = !pool_connect(th->clients[0].pc, th->nclients, run->params,
									   th->connect_err, sizeof(th->connect_err));

	/*
	 * Bind to the planned CPU; with "auto" only when the server is on this
	 * host (see affinity.h).  Before the clock starts, so that the backends
	 * settle on the thread's CPU from the first statement.
	 */
	if (run->cpus[th->id] >= 0 &&
		(th->connect_failed ||
		 (run->o->affinity.mode != PD_AFFINITY_LIST &&
		  !pd_socket_is_local(pgconn_socket(th->clients[0].pc->conn))) ||
		 !pd_affinity_bind(run->cpus[th->id], th->bind_err, sizeof(th->bind_err))))
		run->cpus[th->id] = -1;
	pthread_mutex_lock(&run->gate_lock);
	run->nconnected++;
	pthread_cond_broadcast(&run->gate_cond);
	while (run->gate == 0)
		pthread_cond_wait(&run->gate_cond, &run->gate_lock);
	gate = run->gate;
	pthread_mutex_unlock(&run->gate_lock);
	if (gate < 0)
		return NULL;

	now = pd_now_ns();
	for (int i = 0; i < th->nclients; i++)
		client_step(&th->clients[i], now);

	for (;;)
	{
		int			n;
		int			active = 0;
		bool		stop = false;
		int64_t		wake = (run->end_ns > 0 && now >= run->end_ns)
			? run->end_ns + DEADLINE_GRACE_NS : run->end_ns;
		struct timespec ts;
		struct timespec *tsp = NULL;

		for (int i = 0; i < th->nclients; i++)
		{
			struct client *c = &th->clients[i];

			if (!client_watch(th, c))
			{
				pd_error("could not watch a connection: %s", strerror(errno));
				stop = true;
				break;
			}
			switch (c->state)
			{
				case CS_DONE:
					continue;
				case CS_WAIT:
				case CS_ROLLBACK:
					break;
				case CS_THROTTLE:
				case CS_SLEEP:
					wake = min_wake(wake, c->state == CS_THROTTLE ? c->sched_ns : c->wake_ns);
					break;
				case CS_RECONNECT:
					if (c->pc->state == POOL_BACKOFF)
						wake = min_wake(wake, c->pc->retry_at_ns);
					else if (pool_conn_fd(c->pc) < 0)
						wake = min_wake(wake, now);
					break;
				default:
					/* CS_CHOOSE / CS_CMD: runnable now */
					wake = min_wake(wake, now);
					break;
			}
			active++;
		}
		if (stop || active == 0)
			break;
		if (wake != 0)
		{
			int64_t		d = wake - now;

			if (d < 0)
				d = 0;
			ts.tv_sec = d / 1000000000;
			ts.tv_nsec = d % 1000000000;
			tsp = &ts;
		}
		n = wait_events(th, tsp);
		if (n < 0 && errno != EINTR)
		{
			pd_error("epoll_pwait2 failed: %s", strerror(errno));
			break;
		}
		now = pd_now_ns();
		for (int k = 0; k < n; k++)
			if (th->evs[k].data.ptr == NULL)
				stop = true;
		if (stop || (run->end_ns > 0 && now >= run->end_ns + DEADLINE_GRACE_NS))
			break;				/* stop: abandon what is in flight */

		for (int k = 0; k < n; k++)
			client_event(th->evs[k].data.ptr, th->evs[k].events, now);

		now = pd_now_ns();
		for (int i = 0; i < th->nclients; i++)
		{
			struct client *c = &th->clients[i];

			switch (c->state)
			{
				case CS_CHOOSE:
				case CS_CMD:
					client_step(c, now);
					break;
				case CS_THROTTLE:
					if (now >= c->sched_ns || (run->end_ns > 0 && now >= run->end_ns))
						client_step(c, now);
					break;
				case CS_SLEEP:
					if (now >= c->wake_ns)
						client_step(c, now);
					break;
				case CS_RECONNECT:
					if (c->pc->state == POOL_BACKOFF ||
						(c->pc->state == POOL_CONNECTING && pool_conn_fd(c->pc) < 0))
						client_reconnect_step(c, now);
					else if (c->pc->state != POOL_CONNECTING)
						client_step(c, now);
					break;
				default:
					break;
			}
		}
	}
	th->finished_ns = pd_now_ns();
	atomic_fetch_add(&run->threads_done, 1);
	{
		char		b = 'd';

		if (write(run->main_pipe[1], &b, 1) < 0)
		{
			/* the main thread also notices through threads_done */
		}
	}
	return NULL;
}

/* --------------------------------------------------------------- setup */

/*
 * detect_scale: the number of rows in pgbench_branches, as pgbench does for
 * its built-in scripts.  Returns -1 after printing the error.
 */
static int64_t
detect_scale(struct pgconn *conn)
{
	struct pgconn_result *r = NULL;
	char		err[ERRLEN];
	int64_t		scale;

	if (!pgconn_exec(conn, "select count(*) from pgbench_branches", &r, err, sizeof(err)) || r == NULL)
	{
		pd_error("could not count the rows of pgbench_branches: %s", err);
		pd_hint("Create the tables of the built-in scripts with \"perfdriver init\" (or \"pgbench -i\").");
		pgconn_result_clear(r);
		return -1;
	}
	scale = strtoll(pgconn_result_value(r, 0, 0), NULL, 10);
	pgconn_result_clear(r);
	if (scale <= 0)
	{
		pd_error("pgbench_branches is empty");
		pd_hint("Fill the tables with \"perfdriver init\" (or \"pgbench -i\").");
		return -1;
	}
	return scale;
}

static void
set_pipe_flags(int fds[2])
{
	for (int i = 0; i < 2; i++)
	{
		fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
}

/*
 * collect_interval: take every thread's interval accumulator (swapping in
 * the empty spare), merge them into *into and reset the spares.
 */
static void
collect_interval(struct run *run, struct pd_interval_acc *spare,
				 struct pd_interval_acc *into)
{
	for (int t = 0; t < run->o->threads; t++)
	{
		struct thread_ctx *th = &run->threads[t];
		struct pd_interval_acc taken;

		pthread_mutex_lock(&th->iv_lock);
		taken = th->iv;
		th->iv = *spare;
		pthread_mutex_unlock(&th->iv_lock);
		into->transactions += taken.transactions;
		into->failed += taken.failed;
		into->errors += taken.errors;
		pd_sketch_merge(&into->lat, taken.lat);
		pd_sketch_merge(&into->lag, taken.lag);
		*spare = taken;
		pd_interval_acc_reset(spare);
	}
}

/*
 * fill_run_meta: what a stored run carries beyond the report.  The wall
 * clock start is derived from the monotonic one (run->start_ns), so that the
 * run loop needs no second clock; host is the buffer for the host name.
 */
static void
fill_run_meta(struct pd_run_meta *m, const struct run_opts *o,
			  const struct run *run, int64_t stop_ns,
			  const struct pd_sketch_log *ivlog, char *host, size_t hostlen)
{
	struct timespec rt;
	int64_t		mono;
	double		now;

	clock_gettime(CLOCK_REALTIME, &rt);
	mono = pd_now_ns();
	now = rt.tv_sec + rt.tv_nsec / 1e9;
	memset(m, 0, sizeof(*m));
	if (gethostname(host, hostlen) != 0)
		snprintf(host, hostlen, "unknown");
	host[hostlen - 1] = '\0';
	m->name = o->name;
	m->run_group = o->run_group;
	m->labels = o->labels;
	m->nlabels = o->nlabels;
	m->host = host;
	m->started_at = now - (mono - run->start_ns) / 1e9;
	m->finished_at = m->started_at + (stop_ns - run->start_ns) / 1e9;
	m->duration_opt_s = o->duration_s;
	m->transactions_opt = o->txns;
	m->scale = o->scale;
	m->seed = o->seed;
	m->progress_s = o->progress_s;
	m->interval_sketches = ivlog;
}

/* ----------------------------------------------------------------- run */

/*
 * cmd_run: the "run" subcommand.  Returns the exit code.
 */
int
cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run	run;
	bool		help;
	char		err[ERRLEN];
	char		desc[512];
	struct pgconn *setup;
	int64_t		connect_ns;
	int			exit_code;
	struct pd_stats total;
	struct nplus1 *total_np;
	struct pd_interval *intervals = NULL;
	int			nintervals = 0;
	int			capintervals = 0;
	double		iv_len_s;
	int64_t		next_iv;
	int64_t		last_iv;
	struct pd_interval_acc spare;
	struct pd_interval_acc acc;
	struct pd_sketch_log ivlog = {0};	/* with --store */
	bool		interrupted = false;
	int64_t		stop_ns = 0;
	sigset_t	block,
				old;

	if (!parse_options(argc, argv, &o, &help))
		return PD_EXIT_USAGE;
	if (help)
	{
		run_usage(stdout);
		return PD_EXIT_OK;
	}
	if (!check_scripts(&o))
		return PD_EXIT_USAGE;

	memset(&run, 0, sizeof(run));
	run.o = &o;
	run.params = pgconn_params_parse(o.target, err, sizeof(err));
	if (run.params == NULL)
	{
		pd_error("invalid connection string: %s", err);
		return PD_EXIT_USAGE;
	}
	pgconn_params_describe(run.params, desc, sizeof(desc));

	/* one blocking connection first: clear errors, and the scale */
	setup = pgconn_connect_blocking(run.params, err, sizeof(err));
	if (setup == NULL)
	{
		pd_error("could not connect to %s: %s", desc, err);
		return PD_EXIT_USAGE;
	}
	if (o.scale < 0)
	{
		const char *sv = pgb_vars_get_text(o.defs, "scale");

		if (sv != NULL)
			o.scale = strtoll(sv, NULL, 10);
		else if (uses_builtin(&o))
		{
			o.scale = detect_scale(setup);
			if (o.scale < 0)
			{
				pgconn_close(setup);
				return PD_EXIT_USAGE;
			}
		}
		else
			o.scale = 1;
	}
	pgconn_close(setup);

	if (sketch_prepare_alpha(PD_SKETCH_ALPHA) != SKETCH_OK)
	{
		pd_error("could not prepare the latency sketches");
		return PD_EXIT_USAGE;
	}

	/* per-script command offsets for the prepared-statement flags */
	run.cmd_offset = pd_calloc(o.nscripts, sizeof(int));
	{
		int			ncmds = 0;

		for (int i = 0; i < o.nscripts; i++)
			ncmds += o.scripts[i]->ncommands;
		run.np_skip = pd_calloc(ncmds + 1, sizeof(bool));
		run.stmt_names = pd_calloc(ncmds + 1, sizeof(*run.stmt_names));
	}
	for (int i = 0; i < o.nscripts; i++)
	{
		/* N+1 detection skips meta-commands, compounds and BEGIN/COMMIT */
		for (int k = 0; k < o.scripts[i]->ncommands; k++)
		{
			const struct pgb_command *cmd = &o.scripts[i]->commands[k];

			snprintf(run.stmt_names[run.total_commands + k],
					 sizeof(run.stmt_names[0]), "P%d_%d", i, k);
			run.np_skip[run.total_commands + k] =
				cmd->type != PGB_CMD_SQL || cmd->multi ||
				nplus1_txn_control(cmd->sql) != NPLUS1_TXN_NONE;
		}

		/*
		 * A script has no loops, so a statement repeats within one execution
		 * (the unit) only as often as the script holds its fingerprint.  When
		 * none reaches the minimum repeats, no unit of this script can hold a
		 * finding: its statements skip the detector altogether (the common
		 * case of the built-ins, whose statements each appear once).
		 */
		{
			bool		possible = false;

			for (int k = 0; k < o.scripts[i]->ncommands && !possible; k++)
			{
				const struct pgb_command *a = &o.scripts[i]->commands[k];
				int			same = 0;

				if (run.np_skip[run.total_commands + k])
					continue;
				for (int j = 0; j < o.scripts[i]->ncommands; j++)
					if (!run.np_skip[run.total_commands + j] &&
						o.scripts[i]->commands[j].fingerprint == a->fingerprint)
						same++;
				possible = same >= o.nplus1.min_repeats;
			}
			if (!possible)
				for (int k = 0; k < o.scripts[i]->ncommands; k++)
					run.np_skip[run.total_commands + k] = true;
		}
		run.cmd_offset[i] = run.total_commands;
		run.total_commands += o.scripts[i]->ncommands;
		run.total_weight += o.scripts[i]->weight;
		for (int k = 0; k < o.scripts[i]->ncommands; k++)
			if (o.scripts[i]->commands[k].nparams > run.max_params)
				run.max_params = o.scripts[i]->commands[k].nparams;
	}

	run.pool = pool_alloc(o.clients);
	pthread_mutex_init(&run.gate_lock, NULL);
	pthread_cond_init(&run.gate_cond, NULL);
	run.nconnected = 0;
	run.gate = 0;

	if (pipe(run.stop_pipe) != 0 || pipe(run.main_pipe) != 0)
	{
		pd_error("could not create a pipe: %s", strerror(errno));
		return PD_EXIT_USAGE;
	}
	set_pipe_flags(run.stop_pipe);
	set_pipe_flags(run.main_pipe);
	atomic_init(&run.stop, false);
	atomic_init(&run.printed_errors, 0);
	atomic_init(&run.threads_done, 0);

	/* threads and clients */
	{
		uint64_t	seedstate = o.seed;
		int			maxcmds = 0;

		for (int i = 0; i < o.nscripts; i++)
			if (o.scripts[i]->ncommands > maxcmds)
				maxcmds = o.scripts[i]->ncommands;
		run.threads = pd_calloc(o.threads, sizeof(struct thread_ctx));
		for (int t = 0; t < o.threads; t++)
		{
			struct thread_ctx *th = &run.threads[t];
			int			first = (int) ((int64_t) t * o.clients / o.threads);
			int			last = (int) ((int64_t) (t + 1) * o.clients / o.threads);

			th->id = t;
			th->run = &run;
			th->nclients = last - first;
			th->clients = pd_calloc(th->nclients, sizeof(struct client));
			th->evs = pd_calloc(th->nclients + 1, sizeof(struct epoll_event));
			th->epfd = epoll_create1(EPOLL_CLOEXEC);
			{
				/* the stop pipe, marked by a NULL client */
				struct epoll_event se = {.events = EPOLLIN, .data.ptr = NULL};

				if (th->epfd < 0 ||
					epoll_ctl(th->epfd, EPOLL_CTL_ADD, run.stop_pipe[0], &se) != 0)
				{
					pd_error("could not create an epoll set: %s", strerror(errno));
					return PD_EXIT_USAGE;
				}
			}
			pd_stats_init(&th->stats, o.scripts, o.nscripts);
			th->nplus1 = nplus1_create(&o.nplus1);
			pd_interval_acc_init(&th->iv);
			pthread_mutex_init(&th->iv_lock, NULL);
			pgb_prng_seed(&th->rng, splitmix64(&seedstate));
			for (int i = 0; i < th->nclients; i++)
			{
				struct client *c = &th->clients[i];
				int			id = first + i;

				c->id = id;
				c->th = th;
				c->pc = &run.pool[id];
				c->conn_gen = c->pc->generation;
				c->prepared = pd_calloc(run.total_commands, sizeof(bool));
				c->vars = pgb_vars_copy(o.defs);
				pgb_prng_seed(&c->rng, splitmix64(&seedstate));
				if (pgb_vars_get_text(c->vars, "scale") == NULL)
					pgb_vars_set_int(c->vars, "scale", o.scale);
				pgb_vars_set_int(c->vars, "client_id", id);
				pgb_vars_set_int(c->vars, "random_seed", (int64_t) o.seed);
				if (pgb_vars_get_text(c->vars, "default_seed") == NULL)
				{
					uint64_t	ds = o.seed ^ 0x5DEECE66DULL;

					pgb_vars_set_int(c->vars, "default_seed", (int64_t) splitmix64(&ds));
				}
				c->pend_cap = 2 * maxcmds + 2;
				c->pend = pd_calloc(c->pend_cap, sizeof(struct pending));
				c->params = pd_calloc(run.max_params + 1, sizeof(char *));
				c->np_cmd = -1;
				c->sqlsize = 1024;
				c->sqlbuf = pd_malloc(c->sqlsize);
				c->npu = nplus1_unit_create(th->nplus1);
				c->ep_fd = -1;
				c->state = CS_CHOOSE;
			}
		}
	}

	if (o.rate > 0)
		run.throttle_delay_ns = 1e9 * o.threads / o.rate;

	/* which CPU each thread takes (--cpu-affinity) */
	{
		cpu_set_t	allowed;
		char		err[ERRLEN];

		if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
			CPU_ZERO(&allowed);
		run.cpus = pd_calloc(o.threads, sizeof(int));
		if (!pd_affinity_plan(&o.affinity, &allowed, sched_getcpu(), o.threads, o.clients,
							  run.cpus, err, sizeof(err)))
		{
			pd_error("%s", err);
			return PD_EXIT_USAGE;
		}
	}

	/*
	 * The threads start by opening their connections; the clock starts when
	 * all are up.  SIGINT goes to the main thread only, and until then
	 * interrupts as usual.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	connect_ns = pd_now_ns();
	{
		int			created = 0;
		int			rc = 0;
		const char *connect_err = NULL;

		while (created < o.threads &&
			   (rc = pthread_create(&run.threads[created].tid, NULL, thread_main,
									&run.threads[created])) == 0)
			created++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);

		pthread_mutex_lock(&run.gate_lock);
		while (run.nconnected < created)
			pthread_cond_wait(&run.gate_cond, &run.gate_lock);
		connect_ns = pd_now_ns() - connect_ns;
		for (int t = 0; t < created && connect_err == NULL; t++)
			if (run.threads[t].connect_failed)
				connect_err = run.threads[t].connect_err;
		if (rc == 0 && connect_err == NULL)
		{
			for (int t = 0; t < o.threads; t++)
				if (run.threads[t].bind_err[0] != '\0')
					pd_warning("%s; thread %d runs where the kernel puts it",
							   run.threads[t].bind_err, t);
			run.start_ns = pd_now_ns();
			if (o.duration_s > 0)
				run.end_ns = run.start_ns + (int64_t) (o.duration_s * 1e9);
			for (int t = 0; t < o.threads; t++)
				run.threads[t].throttle_trigger = run.start_ns;
			run.gate = 1;
		}
		else
			run.gate = -1;
		pthread_cond_broadcast(&run.gate_cond);
		pthread_mutex_unlock(&run.gate_lock);

		if (run.gate < 0)
		{
			for (int t = 0; t < created; t++)
				pthread_join(run.threads[t].tid, NULL);
			pool_close(run.pool, o.clients);
			if (rc != 0)
				pd_error("could not create a thread: %s", strerror(rc));
			else
				pd_error("could not connect to %s: %s", desc, connect_err);
			return PD_EXIT_USAGE;
		}
	}
	sigint_fd = run.main_pipe[1];
	signal(SIGINT, on_sigint);

	/* progress intervals, SIGINT and the end of the run */
	iv_len_s = o.progress_s > 0 ? o.progress_s : 1.0;
	pd_interval_acc_init(&spare);
	pd_interval_acc_init(&acc);
	last_iv = run.start_ns;
	next_iv = run.start_ns + (int64_t) (iv_len_s * 1e9);
	while (atomic_load(&run.threads_done) < o.threads)
	{
		struct pollfd pfd = {run.main_pipe[0], POLLIN, 0};
		int64_t		now = pd_now_ns();
		int64_t		wait_ns = next_iv - now;
		struct timespec ts;
		char		buf[64];

		if (wait_ns < 0)
			wait_ns = 0;
		ts.tv_sec = wait_ns / 1000000000;
		ts.tv_nsec = wait_ns % 1000000000;
		if (ppoll(&pfd, 1, &ts, NULL) > 0)
		{
			while (read(run.main_pipe[0], buf, sizeof(buf)) > 0)
				;
		}
		if (got_sigint && !interrupted)
		{
			char		b = 's';

			interrupted = true;
			stop_ns = pd_now_ns();
			atomic_store(&run.stop, true);
			if (write(run.stop_pipe[1], &b, 1) < 0)
				pd_warning("could not signal the worker threads");
		}
		now = pd_now_ns();
		if (now >= next_iv)
		{
			struct pd_interval iv;

			collect_interval(&run, &spare, &acc);
			pd_interval_summarise(&acc, (next_iv - run.start_ns) / 1e9,
								  (next_iv - last_iv) / 1e9, o.rate > 0, &iv);
			if (o.store.dsn)
				pd_sketch_log_add(&ivlog, acc.lat);
			pd_interval_acc_reset(&acc);
			if (o.progress_s > 0)
				report_progress(&iv, o.rate > 0);
			if (nintervals == capintervals)
			{
				capintervals = capintervals ? 2 * capintervals : 64;
				intervals = realloc(intervals, capintervals * sizeof(*intervals));
				if (intervals == NULL)
				{
					pd_error("out of memory");
					abort();
				}
			}
			intervals[nintervals++] = iv;
			last_iv = next_iv;
			next_iv += (int64_t) (iv_len_s * 1e9);
		}
	}
	for (int t = 0; t < o.threads; t++)
		pthread_join(run.threads[t].tid, NULL);
	signal(SIGINT, SIG_DFL);
	sigint_fd = -1;

	/* the end of the run: deadline, interrupt, or the last thread */
	if (stop_ns == 0)
	{
		for (int t = 0; t < o.threads; t++)
			if (run.threads[t].finished_ns > stop_ns)
				stop_ns = run.threads[t].finished_ns;
	}

	/* the last, partial interval */
	collect_interval(&run, &spare, &acc);
	if (stop_ns > last_iv && (acc.transactions + acc.failed + acc.errors) > 0)
	{
		struct pd_interval iv;

		pd_interval_summarise(&acc, (stop_ns - run.start_ns) / 1e9,
							  (stop_ns - last_iv) / 1e9, o.rate > 0, &iv);
		if (o.store.dsn)
			pd_sketch_log_add(&ivlog, acc.lat);
		/* a sliver after the deadline is kept in the JSON but not shown */
		if (o.progress_s > 0 && iv.length_s >= 0.1 * iv_len_s)
			report_progress(&iv, o.rate > 0);
		if (nintervals == capintervals)
		{
			capintervals = capintervals ? 2 * capintervals : 64;
			intervals = realloc(intervals, capintervals * sizeof(*intervals));
			if (intervals == NULL)
			{
				pd_error("out of memory");
				abort();
			}
		}
		intervals[nintervals++] = iv;
	}

	pd_stats_init(&total, o.scripts, o.nscripts);
	total_np = nplus1_create(&o.nplus1);
	for (int t = 0; t < o.threads; t++)
	{
		pd_stats_merge(&total, &run.threads[t].stats);
		nplus1_merge(total_np, run.threads[t].nplus1);
	}
	total.reconnects = 0;
	total.lost = 0;
	for (int i = 0; i < o.clients; i++)
	{
		total.reconnects += run.pool[i].reconnects;
		total.lost += run.pool[i].lost;
	}

	{
		struct pd_run_meta meta;
		char		host[256];
		struct pd_report rep = {
			.target = desc,
			.clients = o.clients,
			.threads = o.threads,
			.thread_cpus = run.cpus,
			.protocol = query_mode_names[o.mode],
			.rate = o.rate,
			.max_tries = o.max_tries,
			.nscripts = o.nscripts,
			.scripts = o.scripts,
			.stats = &total,
			.duration_s = (stop_ns - run.start_ns) / 1e9,
			.connect_ms = connect_ns / PD_NS_PER_MS,
			.intervals = intervals,
			.nintervals = nintervals,
			.interrupted = interrupted,
			.nplus1 = total_np,
			.meta = o.store.dsn ? &meta : NULL,
		};
		/* with --json -, stdout carries the JSON alone */
		FILE	   *out = o.json && strcmp(o.json, "-") == 0 ? stderr : stdout;

		if (o.store.dsn)
			fill_run_meta(&meta, &o, &run, stop_ns, &ivlog, host, sizeof(host));
		if (o.asserts.n > 0)
		{
			pd_evaluate_run_assertions(&o.asserts, &rep);
			rep.assertions = &o.asserts;
			o.store.assertions = &o.asserts;
		}
		report_print(out, &rep);
		exit_code = (total.failed > 0 || total.aborted_clients > 0)
			? PD_EXIT_ERRORS : PD_EXIT_OK;
		if (o.asserts.n > 0 && pd_assert_failures(&o.asserts) > 0)
			exit_code = pd_exit_combine(exit_code, PD_EXIT_ASSERTION);
		if (o.json && !report_write_json(o.json, &rep, err, sizeof(err)))
		{
			pd_error("%s", err);
			exit_code = PD_EXIT_USAGE;
		}
		else if (o.json)
			o.store.json_written = o.json;
		if (o.store.dsn)
			exit_code = pd_exit_combine(exit_code,
										store_and_compare(&o.store, &rep, out));
		else if (o.store.junit)
			exit_code = pd_exit_combine(exit_code,
										pd_write_assertions_junit(o.store.junit, o.name, &o.asserts));
	}

	/* clean up */
	pool_close(run.pool, o.clients);
	for (int t = 0; t < o.threads; t++)
	{
		struct thread_ctx *th = &run.threads[t];

		for (int i = 0; i < th->nclients; i++)
		{
			struct client *c = &th->clients[i];

			pgb_vars_free(c->vars);
			free(c->prepared);
			free(c->pend);
			free(c->params);
			free(c->sqlbuf);
			nplus1_unit_free(c->npu);
		}
		free(th->clients);
		free(th->evs);
		close(th->epfd);
		pd_stats_free(&th->stats);
		nplus1_free(th->nplus1);
		pd_interval_acc_free(&th->iv);
		pthread_mutex_destroy(&th->iv_lock);
	}
	free(run.threads);
	free(run.cmd_offset);
	free(run.np_skip);
	free(run.stmt_names);
	nplus1_free(total_np);
	pd_stats_free(&total);
	pd_interval_acc_free(&spare);
	pd_interval_acc_free(&acc);
	free(intervals);
	free(run.cpus);
	pd_sketch_log_free(&ivlog);
	close(run.stop_pipe[0]);
	close(run.stop_pipe[1]);
	close(run.main_pipe[0]);
	close(run.main_pipe[1]);
	pgconn_params_free(run.params);
	for (int i = 0; i < o.nscripts; i++)
		pgb_script_free(o.scripts[i]);
	pgb_vars_free(o.defs);
	pd_assert_set_free(&o.asserts);
	return exit_code;
}
