/*
 * run_observe.h
 *		The --observe and --advise phases of "perfdriver run" (run_observe.c):
 *		what cmd_run.c calls around the load, between its own phases.
 *
 * Owns: nothing beyond the calls; the evidence lives in struct pd_observe
 * (observe.h) and the advice in struct pd_advice_list (advise.h).
 *
 * Must not: include libpq-fe.h.
 *
 * Memory: run_observe_begin() returns an observer that run_observe_free()
 * frees; the advice list is the caller's (pd_advice_list_free()).
 */
#ifndef PERFDRIVER_RUN_OBSERVE_H
#define PERFDRIVER_RUN_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "advise.h"
#include "client.h"
#include "observe.h"

/*
 * run_observe_begin: with --observe or --advise, set up the observer of
 * run (after run_create_threads: it knows the clients and threads) and
 * start sampling; sets run->obs.  Without either, does nothing.
 */
void		run_observe_begin(struct run *run);

/*
 * run_observe_end: after the threads have been joined: stop sampling, take
 * the pg_stat_statements deltas, explain the slowest statements and, with
 * --advise, fill advice.
 */
void		run_observe_end(struct run *run, struct pd_advice_list *advice);

/* The p95 (ms) of the statement with fingerprint fp over run's threads. */
double		run_stmt_p95(const struct run *run, uint64_t fp);

/*
 * run_advice_apply: create every advised index with CREATE INDEX
 * CONCURRENTLY under a name perfdriver_advice_<pid>_<n> (kept in
 * names[i], malloc'd, NULL when creating it failed: a note says why).
 * Returns how many were created.
 */
int			run_advice_apply(const struct run *run, struct pd_advice_list *advice,
							 char **names);

/* run_advice_drop: DROP INDEX CONCURRENTLY each created index. */
void		run_advice_drop(const struct run *run, struct pd_advice_list *advice,
							char **names);

void		run_observe_free(struct run *run);

#endif							/* PERFDRIVER_RUN_OBSERVE_H */
