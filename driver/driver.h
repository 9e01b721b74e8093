/*
 * driver.h
 *		perfdriver's shared internal types: exit codes, error printing, the
 *		monotonic clock, allocation helpers and the per-thread measurement
 *		structures that report.c merges and prints.
 *
 * Owns: nothing with state.  Everything here is either a constant, an
 * inline helper or a plain struct.
 *
 * Must not: include libpq-fe.h (only pgconn.c talks to libpq).
 *
 * Memory: the measurement structs hold malloc'd sketches (struct sketch from
 * include/sketch.h, allocated with pd_sketch_alloc); report.c creates and
 * frees them.  Nothing here grows with the length of a run: a sketch has a
 * bounded number of buckets and the error maps have a fixed capacity.
 */
#ifndef PERFDRIVER_DRIVER_H
#define PERFDRIVER_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "sketch.h"

/*
 * Exit codes, the one list every subcommand returns from (perfdriver --help
 * prints them; docs/perfdriver.md relates them to pgbench's).  When several
 * apply, pd_exit_combine() picks one: 2 > 4 > 130 > 5 > 3 > 1 > 0.
 */
enum pd_exit
{
	PD_EXIT_OK = 0,				/* the command completed without errors */
	PD_EXIT_ERRORS = 1,			/* it completed, some transactions failed
								 * (analyze: findings with --fail-on-findings) */
	PD_EXIT_USAGE = 2,			/* usage, script, connection or file error */
	PD_EXIT_REGRESSION = 3,		/* a comparison found a regression */
	PD_EXIT_STORE = 4,			/* the run could not be stored */
	PD_EXIT_ASSERTION = 5,		/* a target assertion failed (--assert) */
	PD_EXIT_INTERRUPTED = 130	/* run: SIGINT stopped it (report printed) */
};

/* The rank of an exit code in the precedence (higher wins); -1 unknown. */
static inline int
pd_exit_rank(int code)
{
	switch (code)
	{
		case PD_EXIT_OK:
			return 0;
		case PD_EXIT_ERRORS:
			return 1;
		case PD_EXIT_REGRESSION:
			return 2;
		case PD_EXIT_ASSERTION:
			return 3;
		case PD_EXIT_INTERRUPTED:
			return 4;
		case PD_EXIT_STORE:
			return 5;
		case PD_EXIT_USAGE:
			return 6;
	}
	return -1;
}

/*
 * pd_exit_combine: the exit code to return when both a and b apply.
 * Precedence, highest first: 2 > 4 > 130 > 5 > 3 > 1 > 0: a usage error or
 * a run that could not be stored loses data, an interrupted run's verdicts
 * are about part of a run, a missed explicit target outranks a relative
 * regression, which outranks failed transactions.  A code not in the list
 * wins unchanged.
 */
static inline int
pd_exit_combine(int a, int b)
{
	if (pd_exit_rank(a) < 0)
		return a;
	if (pd_exit_rank(b) < 0)
		return b;
	return pd_exit_rank(a) >= pd_exit_rank(b) ? a : b;
}

/* The subcommands (cmd_run.c, cmd_init.c, cmd_analyze.c); each returns the exit code. */
int			cmd_run(int argc, char **argv);
int			cmd_init(int argc, char **argv);
int			cmd_analyze(int argc, char **argv);
int			cmd_flamegraph(int argc, char **argv);
int			cmd_advise(int argc, char **argv);

/*
 * "perfdriver --version" (version.c): perfdriver's version and those of the
 * libpq and libpg_query it runs with, one per line.
 */
void		pd_print_version(FILE *out);

/* Relative accuracy of every latency sketch. */
#define PD_SKETCH_ALPHA 0.01

/*
 * util.c: errors go to stderr as "perfdriver: error: <what>", optionally
 * followed by "hint: <sentence>".  Never pass a password or an unscrubbed
 * conninfo.
 */
void		pd_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		pd_hint(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		pd_warning(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/*
 * util.c: allocators that never return NULL: on out-of-memory they print
 * "perfdriver: error: out of memory" and abort(), as pgbench's pg_malloc
 * exits.  Free the result with free().
 */
void		pd_out_of_memory(void) __attribute__((noreturn));
void	   *pd_malloc(size_t size);
void	   *pd_calloc(size_t n, size_t size);
void	   *pd_realloc(void *p, size_t size);
char	   *pd_strdup(const char *s);
char	   *pd_strndup(const char *s, size_t n);	/* n bytes of s, terminated */

/* The malloc allocator for sketches. */
extern const sketch_allocator pd_sketch_alloc;

/* A new empty latency sketch; aborts on out-of-memory. */
struct sketch *pd_sketch_new(void);

/* Add v (milliseconds) to *sp; aborts on out-of-memory. */
void		pd_sketch_add(struct sketch **sp, double v);

/* Merge src into *dst; aborts on out-of-memory. */
void		pd_sketch_merge(struct sketch **dst, const struct sketch *src);

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline int64_t
pd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define PD_NS_PER_MS 1000000.0

/*
 * Error counts by SQLSTATE, with a fixed capacity: codes beyond it are
 * folded into "other" so that a run producing many distinct codes cannot
 * grow memory.  Client-side failures (a script evaluation error, \gset on a
 * result without exactly one row) count under "client".
 */
#define PD_ERRMAP_CAP 32

struct pd_errmap
{
	int			n;
	char		code[PD_ERRMAP_CAP][8];
	uint64_t	count[PD_ERRMAP_CAP];
};

void		pd_errmap_add(struct pd_errmap *m, const char *code, uint64_t n);
void		pd_errmap_merge(struct pd_errmap *dst, const struct pd_errmap *src);
uint64_t	pd_errmap_total(const struct pd_errmap *m);

/* One SQL command of one script, as measured by one thread. */
struct pd_stmt_stats
{
	uint64_t	calls;			/* completed, with or without error */
	uint64_t	rows;			/* tuples returned or affected */
	uint64_t	errors;
	struct sketch *lat;			/* ms, from send to last result */
};

/* One script, as measured by one thread. */
struct pd_script_stats
{
	uint64_t	transactions;	/* committed (completed without error) */
	uint64_t	failed;
	uint64_t	retried;		/* transactions retried at least once */
	uint64_t	retries;		/* total retries */
	struct sketch *lat;			/* ms, successful transactions */
	struct pd_stmt_stats *stmts;	/* one per command; SQL commands only used */
	int			ncommands;
};

/*
 * Everything one thread measures.  Only the owning thread writes it while
 * the run goes; it is read after the thread has been joined.
 */
struct pd_stats
{
	int			nscripts;
	struct pd_script_stats *scripts;
	struct sketch *lat;			/* all successful transactions: filled by
								 * pd_stats_merge from the scripts' sketches,
								 * empty in a thread's own stats */
	struct sketch *lag;			/* schedule lag (with -R) */
	struct pd_errmap errors;
	uint64_t	transactions;
	uint64_t	failed;
	uint64_t	reconnects;		/* connections re-established */
	uint64_t	lost;			/* connections lost */
	uint64_t	aborted_clients;	/* gave up reconnecting */
	uint64_t	skipped;		/* -L with -R: would have started too late */
	uint64_t	late;			/* -L: committed above the latency limit */
};

/*
 * What a thread shares with the progress reporter for the current interval.
 * Protected by the thread's interval mutex (struct thread_ctx, client.h).
 */
struct pd_interval_acc
{
	uint64_t	transactions;
	uint64_t	failed;
	uint64_t	errors;
	struct sketch *lat;
	struct sketch *lag;
};

/* One finished progress interval, as kept for the report. */
struct pd_interval
{
	double		t_end_s;		/* seconds since the run started */
	double		length_s;
	uint64_t	transactions;
	uint64_t	failed;
	uint64_t	errors;
	double		tps;
	double		p50,
				p95,
				p99,
				max,
				mean;			/* ms; NaN when no transaction */
	double		lag_mean;		/* ms; NaN without -R */
};

#endif							/* PERFDRIVER_DRIVER_H */
