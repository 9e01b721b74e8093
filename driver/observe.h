/*
 * observe.h
 *		Server-side evidence for "perfdriver run --observe": the wait
 *		profile of the run's own backends (sampled from pg_stat_activity on
 *		one extra connection), lock contention between the run's statements
 *		(pg_blocking_pids), pg_stat_statements deltas matched to the run's
 *		statements by fingerprint, and the plans of the slowest statements
 *		(docs/perfdriver.md, "Server-side evidence").
 *
 * Owns: struct pd_observe, the sampler thread and its connection, the
 * per-client slots through which the load threads publish their backend
 * PID and the statement each client is running, the per-thread record of
 * one slow call's parameter values per statement, and the JSON and human
 * report sections for all of it.
 *
 * Statements are numbered as the report groups them: SQL commands of all
 * scripts, merged by fingerprint, in order of first appearance.  The
 * sampler attributes each active sample to the statement the driver says
 * that backend is running; when the statement changed while the sample was
 * taken (or the backend's query_id says otherwise, as with pipelining) it
 * uses the server's query text fingerprint instead.
 *
 * Threads: the client slots are written by the load threads with relaxed
 * atomic stores (no lock on the hot path) and read by the sampler.  The slow
 * call record of a thread is written only by that thread and read after it
 * has been joined.  Everything else belongs to the thread that called
 * pd_observe_new(); pd_observe_stop() joins the sampler before results are
 * read.
 *
 * Must not: include libpq-fe.h (it talks to the server through pgconn.h),
 * print while the run goes (problems become observe_notes), or stop the
 * run: every failure is one note and the run goes on.
 *
 * Memory: pd_observe_new() allocates everything; pd_observe_free() frees
 * it.  The time-ordered sample list grows with the run, by 24 bytes per
 * active sample, and stops growing at PD_OBS_MAX_SAMPLES (the aggregates go
 * on counting).
 */
#ifndef PERFDRIVER_OBSERVE_H
#define PERFDRIVER_OBSERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pgconn.h"
#include "script.h"

#define PD_OBS_DEFAULT_HZ	50
#define PD_OBS_MAX_HZ		1000
#define PD_OBS_MAX_LABELS	64		/* distinct wait labels; more count as "other" */
#define PD_OBS_MAX_SAMPLES	(4 * 1000 * 1000)
#define PD_OBS_TOP_PLANS	5		/* statements explained, by total time */
#define PD_OBS_LARGE_TABLE	10000	/* rows: a seq scan over more is pointed out */
#define PD_OBS_TIMELINE_SLICES 120	/* wait_timeline: at most this many slices */

struct pd_observe_opts
{
	bool		analyze;		/* --observe=analyze: EXPLAIN ANALYZE */
	int			hz;				/* samples per second */
};

/*
 * One active sample, as the flame graph towers consume them: at t_ns
 * (CLOCK_MONOTONIC, as pd_now_ns()), backend pid of client was running
 * statement stmt (-1: none the driver knows of) and waiting on label
 * (pd_observe_label_name(); "CPU" when it was not waiting).
 */
struct pd_obs_sample
{
	int64_t		t_ns;
	int32_t		pid;
	int32_t		stmt;
	int16_t		label;
	int16_t		client;
	int32_t		blocked_by_stmt;	/* with a Lock wait: the blocker's
									 * statement, -1 unknown, -2 none */
};

/* A client's published state; padded so that clients do not share a line. */
struct pd_obs_client
{
	_Atomic int32_t pid;
	_Atomic int32_t stmt;		/* running now, -1: none */
	_Atomic int32_t last;		/* sent last, -1: none yet (a lock blocker
								 * idle in its transaction is shown by it) */
	char		pad[52];
};

/* The parameter values of the slowest call a thread saw of a statement. */
struct pd_obs_slow
{
	double		ms;
	int			nparams;
	char	  **values;			/* malloc'd; NULL entries are SQL NULL */
};

struct pd_observe
{
	struct pd_obs_client *clients;
	int			nclients;
	int			nthreads;
	int		   *stmt_of;		/* per (script, command): statement or -1 */
	int		   *cmd_base;		/* per script: offset into stmt_of */
	int			nstmts;
	struct pd_obs_slow *slow;	/* [thread * nstmts + stmt] */
	struct pd_observe_state *st;	/* everything else (observe.c) */
};

/*
 * pd_observe_new: set up observation of a run of these scripts by nclients
 * clients on nthreads threads, connecting with p (not yet connected: see
 * pd_observe_start()).  Never fails (aborts on out-of-memory).
 */
struct pd_observe *pd_observe_new(const struct pgconn_params *p,
								  struct pgb_script *const *scripts,
								  int nscripts, int nclients, int nthreads,
								  const struct pd_observe_opts *o);

/* The statement index of command cmd of script script, or -1 (not SQL). */
static inline int
pd_observe_stmt(const struct pd_observe *ob, int script, int cmd)
{
	return ob->stmt_of[ob->cmd_base[script] + cmd];
}

/*
 * pd_observe_client_pid: client's connection is (re)established with
 * backend pid (0: down).  Called by the owning load thread after each
 * connect and reconnect.
 */
void		pd_observe_client_pid(struct pd_observe *ob, int client, int pid);

/*
 * pd_observe_client_running: client has sent command cmd of script script
 * (stmt -1 for "nothing": the result is in).  One relaxed atomic store.
 */
static inline void
pd_observe_client_running(struct pd_observe *ob, int client, int stmt)
{
	atomic_store_explicit(&ob->clients[client].stmt, stmt, memory_order_relaxed);
	if (stmt >= 0)
		atomic_store_explicit(&ob->clients[client].last, stmt, memory_order_relaxed);
}

void		pd_observe_slow_record(struct pd_observe *ob, int thread, int stmt,
								   double ms, int nparams,
								   const char *const *values);

/* True when a call of stmt taking ms is the slowest thread has seen. */
static inline bool
pd_observe_is_slowest(const struct pd_observe *ob, int thread, int stmt, double ms)
{
	return stmt >= 0 && ms > ob->slow[(size_t) thread * ob->nstmts + stmt].ms;
}

/*
 * pd_observe_slow_call: a call of stmt took ms on thread; keep its
 * parameter values when it is the slowest that thread has seen.  The
 * common case is one comparison.
 */
static inline void
pd_observe_slow_call(struct pd_observe *ob, int thread, int stmt, double ms,
					 int nparams, const char *const *values)
{
	if (stmt >= 0 && ms > ob->slow[(size_t) thread * ob->nstmts + stmt].ms)
		pd_observe_slow_record(ob, thread, stmt, ms, nparams, values);
}

/*
 * pd_observe_start: connect the sampler, check what the server offers
 * (pg_stat_statements loaded and installed, pg_read_all_stats), take the
 * "before" snapshot of pg_stat_statements and start the sampler thread,
 * named "pd observer" (its connection's application_name is "perfdriver
 * observer"), which samples from pd_observe_mark_start().  Call before the
 * load's clock starts.  Problems become notes; returns false only when no sampling could start (the
 * connection failed), and the run goes on then too.
 */
bool		pd_observe_start(struct pd_observe *ob);

/*
 * pd_observe_stop: stop sampling (joins the sampler), take the "after"
 * snapshot and compute the deltas.  Call after the load threads have been
 * joined.
 */
void		pd_observe_stop(struct pd_observe *ob);

/*
 * pd_observe_explain: EXPLAIN (with --observe=analyze, EXPLAIN ANALYZE in a
 * transaction that is rolled back) the PD_OBS_TOP_PLANS statements with the
 * highest total time, with the parameter values of their slowest call; keep
 * the plan JSON and findings.  Total time is pg_stat_statements' when it
 * has figures, else client_total_ms[stmt] (calls times the client's mean;
 * NULL: none).  A statement that cannot be explained gets a note.
 */
void		pd_observe_explain(struct pd_observe *ob, const double *client_total_ms);

void		pd_observe_free(struct pd_observe *ob);

/* Add a note ("observe_notes"); printf-style. */
void		pd_observe_note(struct pd_observe *ob, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/* ---- results, for the report and the flame graph ---- */

/* The statement's fingerprint / normalized text. */
uint64_t	pd_observe_stmt_fingerprint(const struct pd_observe *ob, int stmt);
const char *pd_observe_stmt_query(const struct pd_observe *ob, int stmt);

/* The statement's SQL with $1..$n parameters, and how many it has. */
const char *pd_observe_stmt_sql(const struct pd_observe *ob, int stmt);
int			pd_observe_stmt_nparams(const struct pd_observe *ob, int stmt);

/*
 * pd_observe_conn: the sampler's connection (blocking), for the advisor
 * after pd_observe_stop(); NULL when it could not connect.
 */
struct pgconn *pd_observe_conn(struct pd_observe *ob);

/*
 * pd_observe_mark_start: the run's clock started at t_ns (wait_timeline's
 * 0); the sampler takes its first sample now, not before.
 */
void		pd_observe_mark_start(struct pd_observe *ob, int64_t t_ns);

/* The statement with this fingerprint, or -1. */
int			pd_observe_find(const struct pd_observe *ob, uint64_t fingerprint);

/*
 * pd_observe_samples: the active samples in time order (valid until
 * pd_observe_free()); *n receives their number.  Read after
 * pd_observe_stop().
 */
const struct pd_obs_sample *pd_observe_samples(const struct pd_observe *ob,
											   size_t *n);

/*
 * pd_observe_period_ns: the time between two samples (1 s / --observe-hz);
 * a sample stands for that much of its backend's time.
 */
int64_t		pd_observe_period_ns(const struct pd_observe *ob);

/* The name of a wait label ("CPU", "Lock:transactionid", "other"...). */
const char *pd_observe_label_name(const struct pd_observe *ob, int label);

/*
 * pd_observe_set_sample_cb: call cb from the sampler thread for every
 * active sample as it is taken (set before pd_observe_start(); cb must be
 * quick and thread-safe with respect to the caller's own data).
 */
void		pd_observe_set_sample_cb(struct pd_observe *ob,
									 void (*cb) (void *arg, const struct pd_obs_sample *s),
									 void *arg);

/* The parameter values of the slowest call of stmt over all threads. */
const struct pd_obs_slow *pd_observe_slowest(const struct pd_observe *ob, int stmt);

/* The plan JSON (EXPLAIN's FORMAT JSON text) of stmt, or NULL. */
const char *pd_observe_plan(const struct pd_observe *ob, int stmt);

/* pg_stat_statements deltas of one statement. */
struct pd_obs_server
{
	bool		present;
	double		calls;
	double		total_exec_ms;
	double		rows;
	double		shared_blks_hit;
	double		shared_blks_read;
	double		temp_blks_written;
	double		wal_bytes;
};

const struct pd_obs_server *pd_observe_server(const struct pd_observe *ob, int stmt);

/*
 * JSON: pd_observe_json_statement writes the keys of one statements[i]
 * entry (each preceded by ", "): waits, server (with client_gap_ms when
 * client_mean_ms is a number), plan, plan_params and plan_findings.
 * pd_observe_json_top writes the top-level keys (each preceded by ",\n  "):
 * observe, waits, lock_waits, wait_timeline (active samples per wait label
 * in slices of the run; t_s counts from pd_observe_start()) and
 * observe_notes.
 */
void		pd_observe_json_statement(FILE *f, const struct pd_observe *ob,
									  uint64_t fingerprint, double client_mean_ms);
void		pd_observe_json_top(FILE *f, const struct pd_observe *ob);

/* The human report's sections: wait profile, lock contention, server, plans. */
void		pd_observe_print(FILE *out, const struct pd_observe *ob);

/* ---- pieces exposed for the unit tests ---- */

/*
 * pd_obs_label: the wait label of a pg_stat_activity row: "CPU" when
 * wait_event_type is NULL or empty, else "Type:event".  Writes into buf.
 */
const char *pd_obs_label(const char *wait_event_type, const char *wait_event,
						 char *buf, size_t len);

/*
 * pd_obs_parse_int_array: parse a text int array such as "{12,34}" into
 * out (at most cap values); returns how many, or -1 when malformed.
 */
int			pd_obs_parse_int_array(const char *s, int *out, int cap);

/*
 * pd_obs_plan_findings: walk an EXPLAIN (FORMAT JSON) plan and describe,
 * one malloc'd line each in *lines (caller frees each and the array), seq
 * scans over relations with at least large_rows rows (rel_rows(arg, schema,
 * relation) gives the row estimate, -1 when unknown) and rows removed by a
 * filter.  Returns the number of lines, -1 when the JSON does not parse.
 */
int			pd_obs_plan_findings(const char *plan_json,
								 double (*rel_rows) (void *arg, const char *schema,
													 const char *rel),
								 void *arg, double large_rows, char ***lines);

/*
 * pd_obs_explain_sql: the statements that explain sql ($1..$n parameters,
 * nparams of them) with values (NULL: a generic plan): *prep receives a
 * PREPARE to run first (NULL when nparams is 0) and the return value is the
 * EXPLAIN; both malloc'd.  quote quotes one literal (malloc'd).
 */
char	   *pd_obs_explain_sql(const char *sql, int nparams,
							   const char *const *values, bool analyze,
							   const char *name,
							   char *(*quote) (void *arg, const char *s),
							   void *qarg, char **prep);

#endif							/* PERFDRIVER_OBSERVE_H */
