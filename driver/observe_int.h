/*
 * observe_int.h
 *		The observer's private state, shared by observe.c (the sampler,
 *		the pg_stat_statements snapshots and the plans) and observe_report.c
 *		(its results in the JSON and human reports).
 *
 * Owns: struct pd_observe_state and its parts.  Nothing else includes it.
 *
 * Must not: include libpq-fe.h.
 *
 * Memory: see observe.h; pd_observe_free() (observe.c) frees it all.
 */
#ifndef PERFDRIVER_OBSERVE_INT_H
#define PERFDRIVER_OBSERVE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "observe.h"

#define OBS_MAX_PAIRS	64
#define OBS_QCACHE		512
#define OBS_MAX_NOTES	32

/* One pg_stat_statements row that matched a statement of the run. */
struct obs_pgss_row
{
	char	   *key;			/* userid/dbid/queryid/toplevel */
	int			stmt;
	double		v[7];			/* calls, total_exec_time, rows, hit, read,
								 * temp written, wal bytes */
};

struct obs_pgss_snap
{
	int			n;
	struct obs_pgss_row *rows;
};

struct obs_pair
{
	int			blocker;		/* statement; -1: a session outside the run */
	int			waiter;
	uint64_t	n;
};

struct obs_qcache
{
	int64_t		qid;
	int			stmt;
	bool		used;
};

struct obs_relrows
{
	char	   *name;			/* schema.relation */
	double		rows;
};

struct pd_observe_state
{
	const struct pgconn_params *params;
	struct pd_observe_opts o;
	struct pgconn *conn;
	int			server_version;
	pthread_t	thread;
	bool		running;
	atomic_bool stop;
	atomic_int	vanished;
	int64_t		t0_ns;
	/* the sampler waits for the clock: started and t0_ns under start_lock */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	bool		started;
	/*
	 * PERFDRIVER_OBSERVE_ALTERNATE (seconds, for the overhead benchmark
	 * only): sample in the even slots of this length from the clock's start
	 * and idle in the odd ones; 0 samples all the time
	 */
	int64_t		alternate_ns;

	/* statements */
	uint64_t   *fp;
	char	  **query;			/* normalized text */
	char	  **param_sql;		/* $n form, for EXPLAIN */
	int		   *nparams;
	bool	   *multi;

	/* aggregates (sampler thread while running) */
	char	   *labels[PD_OBS_MAX_LABELS];
	int			nlabels;
	uint64_t   *counts;			/* [(nstmts + 1) * PD_OBS_MAX_LABELS]; the
								 * last row: samples of no known statement */
	uint64_t	ticks;
	uint64_t	missed_ticks;
	uint64_t	active;
	uint64_t	mismatches;		/* driver and server disagreed */
	uint64_t	failed_ticks;
	char		tick_error[512];	/* the last failed sample's message */
	struct obs_pair pairs[OBS_MAX_PAIRS];
	int			npairs;
	struct obs_qcache qcache[OBS_QCACHE];
	struct pd_obs_sample *samples;
	size_t		nsamples;
	size_t		capsamples;
	void		(*cb) (void *arg, const struct pd_obs_sample *s);
	void	   *cbarg;

	/* pg_stat_statements */
	char	   *pgss_schema;	/* NULL: not usable */
	struct obs_pgss_snap before;
	struct pd_obs_server *server;

	/* plans */
	char	  **plan;
	char	 ***findings;
	int		   *nfindings;
	int		   *plan_slow;		/* the thread whose slow call was explained,
								 * -1 none (no parameters) */
	struct obs_relrows *relrows;
	int			nrelrows;

	/* notes (sampler thread and caller: under notes_lock) */
	pthread_mutex_t notes_lock;
	char	   *notes[OBS_MAX_NOTES];
	int			nnotes;
};

#endif							/* PERFDRIVER_OBSERVE_INT_H */
