/*
 * run_opts.h
 *		The options of "perfdriver run" (run_opts.c).
 *
 * Owns: struct run_opts, what the command line asks of a run.
 *
 * Must not: include libpq-fe.h.
 *
 * Memory: see run_opts.c: the scripts and -D table are owned by the
 * struct and freed by run_opts_free(); strings point into argv.
 */
#ifndef PERFDRIVER_RUN_OPTS_H
#define PERFDRIVER_RUN_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "affinity.h"
#include "driver.h"
#include "flamerun.h"
#include "nplus1.h"
#include "report.h"
#include "script.h"
#include "store.h"
#include "targets.h"

#define PD_MAX_SCRIPTS	128		/* -b and -f, together */
#define PD_MAX_LABELS	64		/* --label */

/* -M: how SQL commands are sent. */
typedef enum pd_query_mode
{
	PD_QM_SIMPLE,
	PD_QM_EXTENDED,
	PD_QM_PREPARED
} pd_query_mode;

struct run_opts
{
	const char *target;
	int			clients;
	int			threads;
	int			nscripts;
	struct pgb_script *scripts[PD_MAX_SCRIPTS];
	struct pgb_vars *defs;		/* -D */
	int64_t		scale;			/* -1: not given */
	double		duration_s;		/* -T, 0 when not given */
	int64_t		txns;			/* -t per client, 0 when not given */
	double		rate;			/* -R, 0 when closed loop */
	pd_query_mode mode;
	double		progress_s;		/* -P, 0 when not given */
	int			max_tries;
	uint64_t	seed;
	const char *json;
	const char *html;			/* --html */
	struct nplus1_config nplus1;	/* --nplus1-min-repeats, --nplus1-min-time */
	/* storing the run (--store) and the regression gate */
	struct pd_store_opts store;	/* store.dsn NULL: not stored */
	const char *name;			/* --name */
	const char *run_group;		/* --run-group */
	struct pd_label labels[PD_MAX_LABELS];
	int			nlabels;
	struct pd_affinity affinity;	/* --cpu-affinity */
	bool		continue_on_error;	/* --continue-on-error */
	double		latency_limit_ms;	/* -L, 0 when not given */
	bool		txlog;			/* -l */
	const char *log_prefix;		/* --log-prefix (default "pgbench_log") */
	struct pd_flame_opts flame; /* --flamegraph, -hz, -self */
	/* server-side evidence and index advice (docs/perfdriver.md) */
	int			observe;		/* 0 off, 1 --observe, 2 --observe=analyze */
	int			observe_hz;		/* --observe-hz, 0: the default */
	int			advise;			/* 0 off, 1 --advise, 2 --advise=verify */
	bool		keep_indexes;	/* --keep-indexes */
	struct pd_assert_set asserts;	/* --assert, --assert-min-samples
									 * (expressions only; evaluated copies
									 * hold the results) */
};

/*
 * run_opts_parse: fill o from argv (getopt_long, from argv[1]).  Returns
 * true on success, with *help set for --help (o is then incomplete);
 * false after printing a usage or script error.  Without -b or -f the
 * run is tpcb-like; without -t or -T, -t 10.
 */
bool		run_opts_parse(int argc, char **argv, struct run_opts *o, bool *help);

/* The usage text of "perfdriver run --help", exit codes included. */
void		run_opts_usage(FILE *out);

/*
 * run_opts_check_scripts: reject what cannot run in the chosen mode before
 * connecting (\startpipeline with -M simple, a total weight of zero).
 * Returns false after printing the problem.
 */
bool		run_opts_check_scripts(const struct run_opts *o);

/*
 * run_opts_check_outputs: the --json and --junit files can be written (an
 * existing writable file, or a new one in a writable directory), checked
 * before connecting.  Returns false after printing the problem.
 */
bool		run_opts_check_outputs(const struct run_opts *o);

/* True when a script of o is a built-in (so the scale must be known). */
bool		run_opts_uses_builtin(const struct run_opts *o);

/* "simple", "extended" or "prepared". */
const char *run_opts_mode_name(pd_query_mode mode);

/* Free the scripts and the -D table that run_opts_parse() loaded. */
void		run_opts_free(struct run_opts *o);

#endif							/* PERFDRIVER_RUN_OPTS_H */
