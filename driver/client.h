/*
 * client.h
 *		The state a run shares between its main thread (cmd_run.c) and its
 *		worker threads and clients (client.c).
 *
 * Owns: struct run (what every thread reads: options, per-command tables,
 * the deadline, the stop flag, the start gate), struct thread_ctx (one
 * worker thread: its clients, epoll set, measurements and interval
 * accumulator) and struct client (one connection's state machine).
 *
 * Must not: include libpq-fe.h (pgconn.h wraps it).
 *
 * Memory: cmd_run.c allocates the run, its threads and their arrays before
 * the clock starts and frees them after the threads are joined;
 * client_init() and client_free() own what one client allocates.  During
 * the run a thread writes only its own thread_ctx and clients; the interval
 * accumulator is shared with the main thread under iv_lock; struct run is
 * read-only for the workers except the atomics.
 */
#ifndef PERFDRIVER_CLIENT_H
#define PERFDRIVER_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "driver.h"
#include "nplus1.h"
#include "observe.h"
#include "pgconn.h"
#include "pool.h"
#include "run_opts.h"
#include "script.h"

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
	int			err_cmd;		/* the command that failed first, -1: none */

	/*
	 * The error policy (docs/perfdriver.md, "Errors"): with
	 * --continue-on-error, the same failure (SQLSTATE and command) in a row
	 * delays the next transaction, doubling from 1 ms up to 1 s.
	 */
	char		last_sqlstate[8];
	int			last_err_cmd;
	int			repeats;		/* identical failed transactions in a row */
	int64_t		backoff_ns;		/* the next transaction waits until then */
	bool		backing_off;	/* in CS_THROTTLE for the backoff */

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
	FILE	   *txlog;			/* -l: this thread's transaction log, or NULL */
	int64_t		txlog_epoch_ns; /* CLOCK_REALTIME - the monotonic clock */
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
	atomic_int	printed_aborts;
	atomic_int	threads_done;
	int			stop_pipe[2];	/* main -> workers: readable means stop */
	int			main_pipe[2];	/* workers, SIGINT -> main */
	struct thread_ctx *threads;
	struct pool_conn *pool;
	struct pd_flame_run *flame; /* --flamegraph, NULL otherwise */
	struct pd_observe *obs;		/* --observe/--advise; NULL: off (observe.h:
								 * the clients publish their backend and
								 * statement through its atomics) */

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

/*
 * client_init: set up client c, number id, of thread th: its connection
 * slot run->pool[id], its copy of the -D variables plus the variables
 * pgbench sets (scale, client_id, random_seed, default_seed), and its PRNG
 * seeded from the next value of *seedstate.  maxcmds is the longest
 * script's number of commands (it bounds a pipeline).  Aborts on
 * out-of-memory.
 */
void		client_init(struct client *c, struct thread_ctx *th, int id,
						uint64_t *seedstate, int maxcmds);

/* Free what client_init() allocated (not the connection: pool_close()). */
void		client_free(struct client *c);

/*
 * client_thread_main: the worker thread's body (arg: its struct
 * thread_ctx).  Opens the thread's connections, binds to its CPU, waits at
 * the run's start gate, then drives its clients until they are done, the
 * -T deadline passes or the main thread says stop; finally sets
 * finished_ns and wakes the main thread through run->main_pipe.
 * Returns NULL.
 */
void	   *client_thread_main(void *arg);

#endif							/* PERFDRIVER_CLIENT_H */
