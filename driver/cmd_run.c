/*
 * cmd_run.c
 *		"perfdriver run": a run as a sequence of phases, as pgbench's main()
 *		hands the run to threadRun() and the report to printResults().
 *
 * Owns: the phases of a run and the main thread's part in it: connecting
 * once to check the target and count the scale, planning the per-command
 * tables, creating the threads and their clients, the start gate (the
 * clock starts when every thread has connected), the profile of the
 * measured window (--flamegraph, flamerun.c), watching the run (progress
 * intervals, SIGINT, the end of the run), the report, storing
 * the run, and freeing it all.  Options are parsed by run_opts.c; the
 * clients and worker threads are client.c.
 *
 * Must not: include libpq-fe.h (pgconn.c wraps it), touch a client while
 * the threads run (only the interval accumulators, under their mutex), or
 * print a password (only the scrubbed description of the target).
 *
 * Memory: everything is allocated before the clock starts and freed by
 * run_free() after the threads are joined; only --store keeps one packed
 * latency sketch per progress interval (struct pd_sketch_log), and the
 * list of finished intervals grows by one per interval.  An early failure
 * returns without freeing: the process exits.
 */
#define _GNU_SOURCE				/* ppoll, sched_getcpu */
#include "affinity.h"
#include "client.h"
#include "driver.h"
#include "html.h"
#include "flamerun.h"
#include "nplus1.h"
#include "pgconn.h"
#include "pool.h"
#include "report.h"
#include "run_observe.h"
#include "run_opts.h"
#include "script.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define RUN_ERRLEN		1024

/*
 * What the main thread keeps for the report while the workers run: the
 * target's scrubbed description, the time the connections took, and the
 * progress intervals.
 */
struct run_main
{
	char		desc[512];
	int64_t		connect_ns;
	double		iv_len_s;		/* -P, or 1 s for the JSON's intervals */
	int64_t		last_iv;		/* start of the current interval */
	int64_t		next_iv;		/* its scheduled end */
	struct pd_interval_acc spare;	/* swapped with the threads' */
	struct pd_interval_acc acc;	/* the current interval, all threads */
	struct pd_interval *intervals;	/* finished ones, for the report */
	int			nintervals;
	int			capintervals;
	struct pd_sketch_log ivlog; /* with --store */
	bool		interrupted;	/* SIGINT */
	int64_t		stop_ns;		/* the end of the run */
	int64_t		stored_id;		/* with --store: the run's id, 0 if not stored */
	struct pd_advice_list advice;	/* --advise */
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

/* --------------------------------------------------------------- helpers */

/*
 * detect_scale: the number of rows in pgbench_branches, as pgbench does for
 * its built-in scripts.  Returns -1 after printing the error.
 */
static int64_t
detect_scale(struct pgconn *conn)
{
	struct pgconn_result *r = NULL;
	char		err[RUN_ERRLEN];
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

/* ---------------------------------------------------------------- phases */

/*
 * run_connect_target: parse the target, connect once (blocking) to report a
 * bad target before any thread starts, and settle the scale: -s, else -D
 * scale, else pgbench_branches' rows for a built-in script, else 1.
 * Returns the exit code (PD_EXIT_OK to go on) after printing any error.
 */
static int
run_connect_target(struct run *run, struct run_main *m)
{
	struct run_opts *o = run->o;
	char		err[RUN_ERRLEN];
	struct pgconn *setup;

	run->params = pgconn_params_parse(o->target, err, sizeof(err));
	if (run->params == NULL)
	{
		pd_error("invalid connection string: %s", err);
		return PD_EXIT_USAGE;
	}
	pgconn_params_describe(run->params, m->desc, sizeof(m->desc));

	setup = pgconn_connect_blocking(run->params, err, sizeof(err));
	if (setup == NULL)
	{
		pd_error("could not connect to %s: %s", m->desc, err);
		return PD_EXIT_USAGE;
	}
	if (o->scale < 0)
	{
		const char *sv = pgb_vars_get_text(o->defs, "scale");

		if (sv != NULL)
			o->scale = strtoll(sv, NULL, 10);
		else if (run_opts_uses_builtin(o))
		{
			o->scale = detect_scale(setup);
			if (o->scale < 0)
			{
				pgconn_close(setup);
				return PD_EXIT_USAGE;
			}
		}
		else
			o->scale = 1;
	}
	pgconn_close(setup);
	return PD_EXIT_OK;
}

/*
 * run_plan_commands: the per-command tables every client reads: each
 * script's offset into them, the prepared statements' names, which
 * commands skip the N+1 detector; and the total weight and the most
 * parameters of a command.
 */
static void
run_plan_commands(struct run *run)
{
	const struct run_opts *o = run->o;
	int			ncmds = 0;

	run->cmd_offset = pd_calloc(o->nscripts, sizeof(int));
	for (int i = 0; i < o->nscripts; i++)
		ncmds += o->scripts[i]->ncommands;
	run->np_skip = pd_calloc(ncmds + 1, sizeof(bool));
	run->stmt_names = pd_calloc(ncmds + 1, sizeof(*run->stmt_names));

	for (int i = 0; i < o->nscripts; i++)
	{
		const struct pgb_script *s = o->scripts[i];
		bool		possible = false;

		/* N+1 detection skips meta-commands, compounds and BEGIN/COMMIT */
		for (int k = 0; k < s->ncommands; k++)
		{
			const struct pgb_command *cmd = &s->commands[k];

			snprintf(run->stmt_names[run->total_commands + k],
					 sizeof(run->stmt_names[0]), "P%d_%d", i, k);
			run->np_skip[run->total_commands + k] =
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
		for (int k = 0; k < s->ncommands && !possible; k++)
		{
			const struct pgb_command *a = &s->commands[k];
			int			same = 0;

			if (run->np_skip[run->total_commands + k])
				continue;
			for (int j = 0; j < s->ncommands; j++)
				if (!run->np_skip[run->total_commands + j] &&
					s->commands[j].fingerprint == a->fingerprint)
					same++;
			possible = same >= o->nplus1.min_repeats;
		}
		if (!possible)
			for (int k = 0; k < s->ncommands; k++)
				run->np_skip[run->total_commands + k] = true;

		run->cmd_offset[i] = run->total_commands;
		run->total_commands += s->ncommands;
		run->total_weight += s->weight;
		for (int k = 0; k < s->ncommands; k++)
			if (s->commands[k].nparams > run->max_params)
				run->max_params = s->commands[k].nparams;
	}
}

/*
 * run_open_txlog: -l: open thread th's log in pgbench's naming: PREFIX.PID
 * for the first thread, PREFIX.PID.N for thread N.  False after printing
 * the error.
 */
static bool
run_open_txlog(struct run *run, struct thread_ctx *th)
{
	char		path[4096];
	struct timespec rt;

	if (th->id == 0)
		snprintf(path, sizeof(path), "%s.%d", run->o->log_prefix, (int) getpid());
	else
		snprintf(path, sizeof(path), "%s.%d.%d", run->o->log_prefix, (int) getpid(), th->id);
	th->txlog = fopen(path, "w");
	if (th->txlog == NULL)
	{
		pd_error("could not open the transaction log \"%s\": %s", path, strerror(errno));
		return false;
	}
	setvbuf(th->txlog, NULL, _IOFBF, 1 << 16);
	clock_gettime(CLOCK_REALTIME, &rt);
	th->txlog_epoch_ns = (int64_t) rt.tv_sec * 1000000000 + rt.tv_nsec - pd_now_ns();
	return true;
}

/*
 * run_create_threads: the connection pool, the start gate, the pipes, each
 * thread with its epoll set, measurements and clients (seeded in turn from
 * the run's seed), the -R schedule and the CPU of each thread
 * (--cpu-affinity).  Returns the exit code after printing any error.
 */
static int
run_create_threads(struct run *run)
{
	const struct run_opts *o = run->o;
	uint64_t	seedstate = o->seed;
	int			maxcmds = 0;
	cpu_set_t	allowed;
	char		err[RUN_ERRLEN];

	run->pool = pool_alloc(o->clients);
	pthread_mutex_init(&run->gate_lock, NULL);
	pthread_cond_init(&run->gate_cond, NULL);
	run->nconnected = 0;
	run->gate = 0;

	if (pipe(run->stop_pipe) != 0 || pipe(run->main_pipe) != 0)
	{
		pd_error("could not create a pipe: %s", strerror(errno));
		return PD_EXIT_USAGE;
	}
	set_pipe_flags(run->stop_pipe);
	set_pipe_flags(run->main_pipe);
	atomic_init(&run->stop, false);
	atomic_init(&run->printed_errors, 0);
	atomic_init(&run->threads_done, 0);

	for (int i = 0; i < o->nscripts; i++)
		if (o->scripts[i]->ncommands > maxcmds)
			maxcmds = o->scripts[i]->ncommands;
	run->threads = pd_calloc(o->threads, sizeof(struct thread_ctx));
	for (int t = 0; t < o->threads; t++)
	{
		struct thread_ctx *th = &run->threads[t];
		int			first = (int) ((int64_t) t * o->clients / o->threads);
		int			last = (int) ((int64_t) (t + 1) * o->clients / o->threads);
		/* the stop pipe, marked by a NULL client */
		struct epoll_event se = {.events = EPOLLIN, .data.ptr = NULL};

		th->id = t;
		th->run = run;
		th->nclients = last - first;
		th->clients = pd_calloc(th->nclients, sizeof(struct client));
		th->evs = pd_calloc(th->nclients + 1, sizeof(struct epoll_event));
		th->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (th->epfd < 0 ||
			epoll_ctl(th->epfd, EPOLL_CTL_ADD, run->stop_pipe[0], &se) != 0)
		{
			pd_error("could not create an epoll set: %s", strerror(errno));
			return PD_EXIT_USAGE;
		}
		pd_stats_init(&th->stats, o->scripts, o->nscripts);
		th->nplus1 = nplus1_create(&o->nplus1);
		if (o->txlog && !run_open_txlog(run, th))
			return PD_EXIT_USAGE;
		pd_interval_acc_init(&th->iv);
		pthread_mutex_init(&th->iv_lock, NULL);
		pgb_prng_seed(&th->rng, pgb_splitmix64(&seedstate));
		for (int i = 0; i < th->nclients; i++)
			client_init(&th->clients[i], th, first + i, &seedstate, maxcmds);
	}

	if (o->rate > 0)
		run->throttle_delay_ns = 1e9 * o->threads / o->rate;

	/* which CPU each thread takes (--cpu-affinity) */
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		CPU_ZERO(&allowed);
	run->cpus = pd_calloc(o->threads, sizeof(int));
	if (!pd_affinity_plan(&o->affinity, &allowed, sched_getcpu(), o->threads, o->clients,
						  run->cpus, err, sizeof(err)))
	{
		pd_error("%s", err);
		return PD_EXIT_USAGE;
	}
	return PD_EXIT_OK;
}

/*
 * run_profile_begin: with --flamegraph, start sampling the backends of the
 * pool (all connected) so that perf counts from the clock's start.  When
 * perf cannot run, flamerun.c says why in one line and the run goes on.
 * Called under the gate lock, while the workers wait at the gate: starting
 * perf delays the clock, not the measured window.
 */
static void
run_profile_begin(struct run *run)
{
	const struct run_opts *o = run->o;
	struct pgconn **conns;

	if (o->flame.svg == NULL)
		return;
	conns = pd_calloc(o->clients, sizeof(*conns));
	for (int i = 0; i < o->clients; i++)
		conns[i] = run->pool[i].conn;
	run->flame = pd_flame_run_begin(&o->flame, conns, o->clients,
									conns[0] != NULL &&
									pd_socket_is_local(pgconn_socket(conns[0])));
	free(conns);
}

/*
 * run_start: start the threads, which open their connections; the clock
 * starts when all are up.  SIGINT goes to the main thread only, and until
 * then interrupts as usual.  When a thread cannot be created or a
 * connection fails, the threads are told to give up and joined, and the
 * exit code is PD_EXIT_USAGE after printing the error.
 */
static int
run_start(struct run *run, struct run_main *m)
{
	const struct run_opts *o = run->o;
	sigset_t	block,
				old;
	int			created = 0;
	int			rc = 0;
	const char *connect_err = NULL;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	m->connect_ns = pd_now_ns();
	while (created < o->threads &&
		   (rc = pthread_create(&run->threads[created].tid, NULL, client_thread_main,
								&run->threads[created])) == 0)
		created++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	pthread_mutex_lock(&run->gate_lock);
	while (run->nconnected < created)
		pthread_cond_wait(&run->gate_cond, &run->gate_lock);
	m->connect_ns = pd_now_ns() - m->connect_ns;
	for (int t = 0; t < created && connect_err == NULL; t++)
		if (run->threads[t].connect_failed)
			connect_err = run->threads[t].connect_err;
	if (rc == 0 && connect_err == NULL)
	{
		for (int t = 0; t < o->threads; t++)
			if (run->threads[t].bind_err[0] != '\0')
				pd_warning("%s; thread %d runs where the kernel puts it",
						   run->threads[t].bind_err, t);
		run_profile_begin(run);
		run->start_ns = pd_now_ns();
		if (run->obs)
			pd_observe_mark_start(run->obs, run->start_ns);
		if (o->duration_s > 0)
			run->end_ns = run->start_ns + (int64_t) (o->duration_s * 1e9);
		for (int t = 0; t < o->threads; t++)
			run->threads[t].throttle_trigger = run->start_ns;
		run->gate = 1;
	}
	else
		run->gate = -1;
	pthread_cond_broadcast(&run->gate_cond);
	pthread_mutex_unlock(&run->gate_lock);

	if (run->gate < 0)
	{
		for (int t = 0; t < created; t++)
			pthread_join(run->threads[t].tid, NULL);
		pool_close(run->pool, o->clients);
		if (rc != 0)
			pd_error("could not create a thread: %s", strerror(rc));
		else
			pd_error("could not connect to %s: %s", m->desc, connect_err);
		return PD_EXIT_USAGE;
	}
	return PD_EXIT_OK;
}

/*
 * interval_close: close the interval that ends at end_ns with what m->acc
 * holds: summarise it, keep its sketch for --store, print its progress
 * line with -P and keep it for the report.  The last interval of a run is
 * partial: a sliver after the deadline is kept in the JSON but not shown,
 * and its accumulator is not reset.
 */
static void
interval_close(const struct run *run, struct run_main *m, int64_t end_ns,
			   bool last)
{
	const struct run_opts *o = run->o;
	struct pd_interval iv;

	pd_interval_summarise(&m->acc, (end_ns - run->start_ns) / 1e9,
						  (end_ns - m->last_iv) / 1e9, o->rate > 0, &iv);
	if (o->store.dsn || o->html)
		pd_sketch_log_add(&m->ivlog, m->acc.lat);
	if (!last)
		pd_interval_acc_reset(&m->acc);
	if (o->progress_s > 0 && (!last || iv.length_s >= 0.1 * m->iv_len_s))
		report_progress(&iv, o->rate > 0);
	if (m->nintervals == m->capintervals)
	{
		m->capintervals = m->capintervals ? 2 * m->capintervals : 64;
		m->intervals = pd_realloc(m->intervals,
								  m->capintervals * sizeof(*m->intervals));
	}
	m->intervals[m->nintervals++] = iv;
}

/*
 * run_watch: the main thread while the workers run: close a progress
 * interval on time, stop the workers on SIGINT, and wait for the last
 * thread; then join them and close the last, partial interval.  Sets
 * m->stop_ns to the end of the run: the interrupt, or the last thread's
 * end.
 */
static void
run_watch(struct run *run, struct run_main *m)
{
	const struct run_opts *o = run->o;

	sigint_fd = run->main_pipe[1];
	signal(SIGINT, on_sigint);

	m->iv_len_s = o->progress_s > 0 ? o->progress_s : 1.0;
	pd_interval_acc_init(&m->spare);
	pd_interval_acc_init(&m->acc);
	m->last_iv = run->start_ns;
	m->next_iv = run->start_ns + (int64_t) (m->iv_len_s * 1e9);
	while (atomic_load(&run->threads_done) < o->threads)
	{
		struct pollfd pfd[2] = {{run->main_pipe[0], POLLIN, 0},
		{pd_flame_run_fd(run->flame), POLLIN, 0}};
		int64_t		now = pd_now_ns();
		int64_t		wait_ns = m->next_iv - now;
		struct timespec ts;
		char		buf[64];

		if (wait_ns < 0)
			wait_ns = 0;
		ts.tv_sec = wait_ns / 1000000000;
		ts.tv_nsec = wait_ns % 1000000000;
		if (ppoll(pfd, pfd[1].fd >= 0 ? 2 : 1, &ts, NULL) > 0)
		{
			while (read(run->main_pipe[0], buf, sizeof(buf)) > 0)
				;
			if (pfd[1].revents & POLLIN)
				pd_flame_run_service(run->flame);	/* backends after reconnects */
		}
		if (got_sigint && !m->interrupted)
		{
			char		b = 's';

			m->interrupted = true;
			m->stop_ns = pd_now_ns();
			atomic_store(&run->stop, true);
			if (write(run->stop_pipe[1], &b, 1) < 0)
				pd_warning("could not signal the worker threads");
		}
		now = pd_now_ns();
		if (now >= m->next_iv)
		{
			collect_interval(run, &m->spare, &m->acc);
			interval_close(run, m, m->next_iv, false);
			m->last_iv = m->next_iv;
			m->next_iv += (int64_t) (m->iv_len_s * 1e9);
		}
	}
	for (int t = 0; t < o->threads; t++)
		pthread_join(run->threads[t].tid, NULL);
	signal(SIGINT, SIG_DFL);
	sigint_fd = -1;

	/* the end of the run: deadline, interrupt, or the last thread */
	if (m->stop_ns == 0)
	{
		for (int t = 0; t < o->threads; t++)
			if (run->threads[t].finished_ns > m->stop_ns)
				m->stop_ns = run->threads[t].finished_ns;
	}

	collect_interval(run, &m->spare, &m->acc);
	if (m->stop_ns > m->last_iv &&
		(m->acc.transactions + m->acc.failed + m->acc.errors) > 0)
		interval_close(run, m, m->stop_ns, true);
}

/*
 * run_write_html: the HTML report (--html).  A stored run is read back from
 * the store, so that the report shows its comparison with --baseline;
 * otherwise (or when storing failed) the run's own document is rendered.
 * Returns PD_EXIT_OK, or PD_EXIT_USAGE when the file cannot be written.
 */
static int
run_write_html(const struct run *run, struct run_main *m, const struct pd_report *rep,
			   int64_t stored_id)
{
	const struct run_opts *o = run->o;
	struct pd_report r = *rep;
	struct pd_run_meta meta;
	char		host[256];
	char		err[RUN_ERRLEN];
	char	   *doc;
	bool		ok;
	/* the flame graph this run drew (--flamegraph), embedded in the report */
	const char *folded = run->flame != NULL ? o->flame.svg : NULL;

	if (stored_id > 0)
	{
		struct pd_render_opts ro = {
			.dsn = o->store.dsn, .run_id = stored_id,
			.baseline_id = o->store.baseline_id, .baseline_last = o->store.baseline_last,
			.policy = o->store.policy, .gate = o->store.gate, .html = o->html,
			.folded_path = folded,
		};

		/* as store_and_compare judges: a NaN default takes --fail-on-regression's */
		if (isnan(ro.policy.default_threshold))
			ro.policy.default_threshold = o->store.threshold;
		return pd_render_stored(&ro);
	}
	/* the document a stored run would have: times, configuration, sketches */
	if (r.meta == NULL)
	{
		fill_run_meta(&meta, o, run, m->stop_ns, &m->ivlog, host, sizeof(host));
		r.meta = &meta;
	}
	doc = report_json(&r, NULL);
	ok = pd_render_document(doc, "the run's report", folded, o->html, err, sizeof(err));
	free(doc);
	if (!ok)
	{
		pd_error("%s", err);
		return PD_EXIT_USAGE;
	}
	return PD_EXIT_OK;
}

/*
 * run_report: merge the threads' measurements and findings, print the
 * report (to stderr with --json -, whose stdout carries the JSON alone),
 * write the JSON, and store and compare the run with --store.  Returns the
 * exit code: PD_EXIT_ERRORS when a transaction failed or a client was
 * aborted, combined with what writing and storing returned.
 */
static int
run_report(const struct run *run, struct run_main *m)
{
	const struct run_opts *o = run->o;
	struct pd_stats total;
	struct nplus1 *total_np;
	struct pd_run_meta meta;
	char		host[256];
	char		err[RUN_ERRLEN];
	int			exit_code;
	int64_t		stored_id = 0;

	pd_stats_init(&total, o->scripts, o->nscripts);
	total_np = nplus1_create(&o->nplus1);
	for (int t = 0; t < o->threads; t++)
	{
		pd_stats_merge(&total, &run->threads[t].stats);
		nplus1_merge(total_np, run->threads[t].nplus1);
	}
	total.reconnects = 0;
	total.lost = 0;
	for (int i = 0; i < o->clients; i++)
	{
		total.reconnects += run->pool[i].reconnects;
		total.lost += run->pool[i].lost;
	}

	{
		struct pd_report rep = {
			.target = m->desc,
			.clients = o->clients,
			.threads = o->threads,
			.thread_cpus = run->cpus,
			.protocol = run_opts_mode_name(o->mode),
			.rate = o->rate,
			.max_tries = o->max_tries,
			.nscripts = o->nscripts,
			.scripts = o->scripts,
			.stats = &total,
			.duration_s = (m->stop_ns - run->start_ns) / 1e9,
			.connect_ms = m->connect_ns / PD_NS_PER_MS,
			.intervals = m->intervals,
			.nintervals = m->nintervals,
			.interrupted = m->interrupted,
			.nplus1 = total_np,
			.meta = o->store.dsn ? &meta : NULL,
			.latency_limit_ms = o->latency_limit_ms,
			.flame = run->flame,
			.observe = run->obs,
			.advice = o->advise ? &m->advice : NULL,
		};
		FILE	   *out = (o->json && strcmp(o->json, "-") == 0) ||
			(o->html && strcmp(o->html, "-") == 0) ? stderr : stdout;
		struct pd_store_opts so = o->store;

		so.stored_id = &m->stored_id;
		struct pd_assert_set asserts = o->asserts;	/* results are ours */

		if (o->store.dsn)
			fill_run_meta(&meta, o, run, m->stop_ns, &m->ivlog, host, sizeof(host));
		if (asserts.n > 0)
		{
			/* before the JSON and the store, which keep the results */
			pd_evaluate_run_assertions(&asserts, &rep);
			rep.assertions = &asserts;
			so.assertions = &asserts;
		}
		report_print(out, &rep);
		exit_code = (total.failed > 0 || total.aborted_clients > 0)
			? PD_EXIT_ERRORS : PD_EXIT_OK;
		if (pd_assert_failures(&asserts) > 0)
			exit_code = pd_exit_combine(exit_code, PD_EXIT_ASSERTION);
		if (m->interrupted)
			exit_code = pd_exit_combine(exit_code, PD_EXIT_INTERRUPTED);
		if (o->json && !report_write_json(o->json, &rep, err, sizeof(err)))
		{
			pd_error("%s", err);
			exit_code = PD_EXIT_USAGE;
		}
		else if (o->json)
			so.json_written = o->json;
		if (o->store.dsn)
			exit_code = pd_exit_combine(exit_code, store_and_compare(&so, &rep, out, &stored_id));
		else if (o->store.junit)
			exit_code = pd_exit_combine(exit_code,
										pd_write_assertions_junit(o->store.junit, o->name, &asserts));
		if (o->html)
			exit_code = pd_exit_combine(exit_code, run_write_html(run, m, &rep, stored_id));
		pd_assert_results_free(&asserts);
	}
	nplus1_free(total_np);
	pd_stats_free(&total);
	return exit_code;
}

/* run_free: close the connections and free the run after run_report(). */
static void
run_free(struct run *run, struct run_main *m)
{
	const struct run_opts *o = run->o;

	pd_flame_run_free(run->flame);
	pool_close(run->pool, o->clients);
	run_observe_free(run);
	pd_advice_list_free(&m->advice);
	for (int t = 0; t < o->threads; t++)
	{
		struct thread_ctx *th = &run->threads[t];

		for (int i = 0; i < th->nclients; i++)
			client_free(&th->clients[i]);
		free(th->clients);
		free(th->evs);
		close(th->epfd);
		pd_stats_free(&th->stats);
		nplus1_free(th->nplus1);
		if (th->txlog != NULL && fclose(th->txlog) != 0)
			pd_warning("could not write the transaction log of thread %d: %s", t, strerror(errno));
		pd_interval_acc_free(&th->iv);
		pthread_mutex_destroy(&th->iv_lock);
	}
	free(run->threads);
	free(run->cmd_offset);
	free(run->np_skip);
	free(run->stmt_names);
	pd_interval_acc_free(&m->spare);
	pd_interval_acc_free(&m->acc);
	free(m->intervals);
	free(run->cpus);
	pd_sketch_log_free(&m->ivlog);
	close(run->stop_pipe[0]);
	close(run->stop_pipe[1]);
	close(run->main_pipe[0]);
	close(run->main_pipe[1]);
	pgconn_params_free(run->params);
}

/*
 * run_rerun_figures: what the --advise=verify rerun measured (after
 * run_watch): its transactions, TPS and latencies, into out.
 */
static void
run_rerun_figures(const struct run *run, const struct run_main *m,
				  struct pd_advice_rerun *out)
{
	const struct run_opts *o = run->o;
	struct pd_stats total;
	sketch_error err = SKETCH_OK;

	pd_stats_init(&total, o->scripts, o->nscripts);
	for (int t = 0; t < o->threads; t++)
		pd_stats_merge(&total, &run->threads[t].stats);
	out->ran = true;
	out->duration_s = (m->stop_ns - run->start_ns) / 1e9;
	out->transactions = total.transactions;
	out->failed = total.failed;
	out->tps = out->duration_s > 0 ? total.transactions / out->duration_s : 0;
	out->p50_ms = out->p95_ms = out->p99_ms = out->max_ms = out->mean_ms = NAN;
	if (total.lat != NULL && total.lat->count > 0)
	{
		out->p50_ms = sketch_quantile(total.lat, 0.50);
		out->p95_ms = sketch_quantile(total.lat, 0.95);
		out->p99_ms = sketch_quantile(total.lat, 0.99);
		out->max_ms = total.lat->max;
		out->mean_ms = sketch_mean(total.lat, &err);
		if (err != SKETCH_OK)
			out->mean_ms = NAN;
	}
	pd_stats_free(&total);
}

/*
 * run_verify_advice: --advise=verify.  Create each advised index
 * (CREATE INDEX CONCURRENTLY), run the workload again with the same
 * options, and keep the p95 of each advised statement before and after;
 * then drop the indexes unless --keep-indexes.  A failure is a note in the
 * advice; the report of the first run goes on.
 */
static void
run_verify_advice(struct run *run, struct run_main *m)
{
	struct pd_advice_list *adv = &m->advice;
	struct run	again;
	struct run_main m2;
	char	  **names;
	int			made;

	if (adv->n == 0)
		return;
	if (m->interrupted)
	{
		pd_advice_note(adv, "--advise=verify skipped: the run was interrupted");
		return;
	}
	names = pd_calloc(adv->n, sizeof(char *));
	for (int i = 0; i < adv->n; i++)
		adv->a[i].p95_before_ms = run_stmt_p95(run, adv->a[i].fingerprint);
	made = run_advice_apply(run, adv, names);
	if (made > 0)
	{
		fprintf(stderr, "perfdriver: --advise=verify: created %d index%s, running the workload again\n",
				made, made == 1 ? "" : "es");
		memset(&again, 0, sizeof(again));
		memset(&m2, 0, sizeof(m2));
		again.o = run->o;
		if (run_connect_target(&again, &m2) == PD_EXIT_OK)
		{
			run_plan_commands(&again);
			if (run_create_threads(&again) == PD_EXIT_OK && run_start(&again, &m2) == PD_EXIT_OK)
			{
				run_watch(&again, &m2);
				for (int i = 0; i < adv->n; i++)
					if (names[i] != NULL)
						adv->a[i].p95_after_ms = run_stmt_p95(&again, adv->a[i].fingerprint);
				run_rerun_figures(&again, &m2, &adv->rerun);
				run_free(&again, &m2);
			}
			else
				pd_advice_note(adv, "--advise=verify could not run the workload again");
		}
	}
	run_advice_drop(run, adv, names);
	for (int i = 0; i < adv->n; i++)
		free(names[i]);
	free(names);
}

/*
 * run_profile_end: with --flamegraph, stop sampling and draw the measured
 * window, from the start of the clock to the end of the run (m->stop_ns),
 * before the report that names the graph.  With --observe, its server-side
 * samples (after run_observe_end()) give every perf sample its statement
 * as the root, and the wait-event graph.
 */
static void
run_profile_end(struct run *run, struct run_main *m)
{
	struct pd_flame_point *pts = NULL;
	size_t		npts = 0;
	int64_t		period_ns = 0;

	if (run->flame == NULL)
		return;
	if (run->obs != NULL && run->o->observe)
	{
		size_t		n;
		const struct pd_obs_sample *s = pd_observe_samples(run->obs, &n);
		int			hz = run->o->observe_hz > 0 ? run->o->observe_hz : PD_OBS_DEFAULT_HZ;

		pts = pd_calloc(n + 1, sizeof(*pts));
		for (size_t i = 0; i < n; i++)
		{
			pts[npts].pid = s[i].pid;
			pts[npts].t_ns = s[i].t_ns;
			pts[npts].statement = s[i].stmt >= 0 ? pd_observe_stmt_query(run->obs, s[i].stmt)
				: NULL;
			pts[npts].wait = pd_observe_label_name(run->obs, s[i].label);
			npts++;
		}
		period_ns = 1000000000LL / hz;
	}
	pd_flame_run_end(run->flame, run->start_ns, m->stop_ns, pts, npts, period_ns,
					 run->o->store.dsn != NULL);
	free(pts);
}

/* ----------------------------------------------------------------- run */

/*
 * run_confirm: --confirm: run suspect looked like a regression.  Run the
 * workload once more, stored with the label confirms=SUSPECT and compared
 * with the same baseline (suspect left out of last:N): a burst of load from
 * elsewhere rarely hits both runs, a real regression does.  Returns the
 * rerun's exit code, which decides.
 */
static int
run_confirm(struct run_opts *o, int64_t suspect)
{
	struct run	run;
	struct run_main m;
	char		idbuf[32];
	int			rc;

	printf("\nconfirmation: run %lld looked like a regression; running the workload once more\n\n",
		   (long long) suspect);
	fflush(stdout);
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) suspect);
	if (o->nlabels < PD_MAX_LABELS)
		o->labels[o->nlabels++] = (struct pd_label) {"confirms", idbuf};
	o->store.exclude_id = suspect;
	memset(&run, 0, sizeof(run));
	memset(&m, 0, sizeof(m));
	run.o = o;
	rc = run_connect_target(&run, &m);
	if (rc != PD_EXIT_OK)
		return rc;
	run_plan_commands(&run);
	rc = run_create_threads(&run);
	if (rc == PD_EXIT_OK)
		rc = run_start(&run, &m);
	if (rc != PD_EXIT_OK)
		return rc;
	run_watch(&run, &m);
	run_profile_end(&run, &m);
	rc = run_report(&run, &m);
	run_free(&run, &m);
	if (rc == PD_EXIT_REGRESSION)
		printf("confirmation: run %lld confirms the regression of run %lld\n",
			   (long long) m.stored_id, (long long) suspect);
	else
		printf("confirmation: run %lld does not confirm the regression of run %lld: "
			   "counted as noise\n", (long long) m.stored_id, (long long) suspect);
	return rc;
}

/*
 * cmd_run: the "run" subcommand.  Returns the exit code (driver.h).
 */
int
cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run	run;
	struct run_main m;
	bool		help;
	int			rc;

	if (!run_opts_parse(argc, argv, &o, &help))
		return PD_EXIT_USAGE;
	if (help)
	{
		run_opts_usage(stdout);
		return PD_EXIT_OK;
	}
	if (!run_opts_check_scripts(&o) || !run_opts_check_outputs(&o))
		return PD_EXIT_USAGE;

	memset(&run, 0, sizeof(run));
	memset(&m, 0, sizeof(m));
	run.o = &o;
	rc = run_connect_target(&run, &m);
	if (rc != PD_EXIT_OK)
		return rc;
	if (sketch_prepare_alpha(PD_SKETCH_ALPHA) != SKETCH_OK)
	{
		pd_error("could not prepare the latency sketches");
		return PD_EXIT_USAGE;
	}
	run_plan_commands(&run);
	rc = run_create_threads(&run);
	if (rc == PD_EXIT_OK)
	{
		run_observe_begin(&run);
		rc = run_start(&run, &m);
	}
	if (rc != PD_EXIT_OK)
		return rc;

	run_watch(&run, &m);
	run_observe_end(&run, &m.advice);
	run_profile_end(&run, &m);
	if (o.advise == 2)
		run_verify_advice(&run, &m);
	rc = run_report(&run, &m);
	run_free(&run, &m);
	if (rc == PD_EXIT_REGRESSION && o.store.confirm && m.stored_id > 0 && !m.interrupted)
		rc = run_confirm(&o, m.stored_id);
	run_opts_free(&o);
	return rc;
}
