/*
 * report.h
 *		What perfdriver says: error and hint lines, progress lines, the
 *		final human report (aligned tables) and the JSON report; plus the
 *		measurement containers (struct pd_stats) they summarise.
 *
 * Owns: the JSON shape, which CI scripts parse and which must stay stable:
 *
 *	{
 *	  "tps": 1234.5,                 committed transactions per second
 *	  "transactions": 12345,         committed
 *	  "failed_transactions": 0,
 *	  "retried_transactions": 0,     committed or failed after retries
 *	  "retries": 0,                  retries in total (--max-tries)
 *	  "duration_s": 10.0,            from the end of connecting to the stop
 *	  "latency_ms": {"p50":..,"p95":..,"p99":..,"p999":..,"max":..,"mean":..},
 *	  "errors": {"57P01": 4},        error results by SQLSTATE ("client" for
 *	                                 script evaluation errors)
 *	  "statements": [{"query": normalized SQL, "fingerprint": "hex",
 *	                  "calls":.., "rows":.., "errors":.., "latency_ms": {..}}],
 *	  "scripts": [{"name":.., "weight":.., "transactions":.., "failed":..,
 *	               "retried":.., "tps":.., "latency_ms": {..}}],
 *	  "intervals": [{"t_s":.., "length_s":.., "tps":.., "transactions":..,
 *	                 "failed":.., "errors":.., "latency_ms": {p50,p95,p99,max,mean}}],
 *	  "nplus1_findings": [           worst first (by time_ms); [] when none
 *	    {"source": normalized SQL,   the statement before the repeats
 *	     "source_fingerprint": "hex",
 *	     "repeated": normalized SQL, the statement run once per row
 *	     "repeated_fingerprint": "hex",
 *	     "occurrences": 3,           transactions (units) where it happened
 *	     "repeats_total": 30, "repeats_mean": 10.0, "repeats_max": 10,
 *	     "time_ms": 4.2,             in the repeats (null when unknown)
 *	     "time_ms_per_occurrence": 1.4,
 *	     "example_params": ["17", "18", "19"],   first distinct values
 *	     "suggestion": the batched form to use instead}],
 *	                                 (see docs/nplus1.md)
 *	  "connect_time_ms": 12.3,       opening the -c connections
 *	  "reconnects": 0, "connections_lost": 0,
 *	  "clients": 4, "threads": 2, "protocol": "simple", "interrupted": false,
 *	  "thread_cpus": [0, 1],         CPU of each thread (null: not bound),
 *	                                 or null when none is (--cpu-affinity)
 *	  "flamegraph": {..}             only with --flamegraph (docs/flamegraph.md)
 *	  "schedule_lag_ms": {..}        only with -R
 *	  "latency_limit_ms": 5.0, "skipped_transactions": 0,
 *	  "late_transactions": 0         only with -L
 *	  "assertions": [{"expr":.., "scope":.., "metric":.., "op":..,
 *	                  "target":.., "value":.., "passed":..,
 *	                  "samples":.., "reason":..}]   only with --assert
 *	  "observe", "waits", "lock_waits", "wait_timeline", "observe_notes",
 *	  and per statement "wait_samples", "waits", "server", "plan",
 *	  "plan_params", "plan_findings"   only with --observe (observe.h)
 *	  "index_advice", "advise_notes"   only with --advise (advise.h)
 *	  "advise_verify": {"tps":.., "transactions":.., "failed_transactions":..,
 *	                    "duration_s":.., "latency_ms": {...}}
 *	                                   the rerun, only with --advise=verify
 *	}
 *
 * Latencies are milliseconds; a quantile of nothing is null.
 *
 * With --store (struct pd_run_meta) the report is also the document that
 * perfstore.store_run() takes: it adds "name", "run_group", "labels",
 * "config", "started_at", "finished_at", "host" and "latency_sketch" (the
 * sketch's text form as a JSON string), and "latency_sketch" to every
 * statement and "latency_sketch" and "started_at" to every interval.
 *
 * Must not: include libpq-fe.h.
 *
 * Memory: pd_stats_init() allocates sketches and arrays that
 * pd_stats_free() releases; the report functions allocate only temporaries.
 */
#ifndef PERFDRIVER_REPORT_H
#define PERFDRIVER_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "driver.h"
#include "nplus1.h"
#include "script.h"

struct pd_observe;
struct pd_advice_list;

/* Set up s for these scripts (empty counters, empty sketches). */
void		pd_stats_init(struct pd_stats *s, struct pgb_script *const *scripts,
						  int nscripts);

/*
 * Add src into dst (both initialised for the same scripts).  dst's overall
 * latency sketch gets src's script sketches: threads record each
 * transaction in its script's sketch only.
 */
void		pd_stats_merge(struct pd_stats *dst, const struct pd_stats *src);

void		pd_stats_free(struct pd_stats *s);

/* Interval accumulators (one per thread, struct thread_ctx in client.h). */
void		pd_interval_acc_init(struct pd_interval_acc *a);
void		pd_interval_acc_reset(struct pd_interval_acc *a);
void		pd_interval_acc_free(struct pd_interval_acc *a);

/* Summarise a merged accumulator into an interval entry. */
void		pd_interval_summarise(const struct pd_interval_acc *a, double t_end_s,
								  double length_s, bool rate,
								  struct pd_interval *out);

/*
 * Latency sketches kept per progress interval, packed (a few hundred bytes
 * each), for the stored run's intervals[].latency_sketch.  Only kept with
 * --store and --html: the one thing that grows with the length of a run, by
 * one packed sketch per interval.
 */
struct pd_sketch_log
{
	int			n;
	int			cap;
	uint8_t   **data;
	size_t	   *len;
};

/* Append a packed copy of s. */
void		pd_sketch_log_add(struct pd_sketch_log *log, const struct sketch *s);

/* The i-th sketch, unpacked (caller frees); NULL when i is out of range. */
struct sketch *pd_sketch_log_get(const struct pd_sketch_log *log, int i);

void		pd_sketch_log_free(struct pd_sketch_log *log);

/* One --label KEY=VALUE. */
struct pd_label
{
	const char *key;
	const char *value;
};

/*
 * What a stored run carries beyond the report (docs/perfdriver.md, "Storing
 * runs"): with it, the JSON report is the document perfstore.store_run()
 * takes, with name, run_group, labels, config, started_at, finished_at, host
 * and the latency sketches in their text form.
 */
struct pd_run_meta
{
	const char *name;
	const char *run_group;		/* NULL: none */
	const struct pd_label *labels;
	int			nlabels;
	const char *host;
	double		started_at;		/* seconds since the epoch */
	double		finished_at;
	double		duration_opt_s; /* -T, 0 when not given */
	int64_t		transactions_opt;	/* -t per client, 0 when not given */
	int64_t		scale;
	uint64_t	seed;
	double		progress_s;		/* -P, 0 when not given */
	const struct pd_sketch_log *interval_sketches;	/* one per interval */
};

struct pd_flame_run;

/* Everything the final report shows. */
struct pd_report
{
	const char *target;			/* scrubbed connection description */
	int			clients;
	int			threads;
	const int  *thread_cpus;	/* per thread: the CPU it was bound to, or -1 */
	const char *protocol;
	double		rate;			/* -R, 0 when closed loop */
	int			max_tries;
	int			nscripts;
	struct pgb_script *const *scripts;
	const struct pd_stats *stats;	/* merged over threads */
	double		duration_s;
	double		connect_ms;
	const struct pd_interval *intervals;
	int			nintervals;
	bool		interrupted;
	const struct nplus1 *nplus1;	/* N+1 findings; NULL: none detected */
	const struct pd_run_meta *meta; /* with --store; NULL otherwise */
	const struct pd_flame_run *flame;	/* --flamegraph; NULL otherwise */
	const struct pd_observe *observe;	/* --observe; NULL otherwise */
	const struct pd_advice_list *advice;	/* --advise; NULL otherwise */
	const struct pd_assert_set *assertions; /* evaluated --assert, or NULL */
	double		latency_limit_ms;	/* -L, 0 when not given */
};

/* The progress line for one interval (-P), on stderr. */
void		report_progress(const struct pd_interval *iv, bool rate);

/* The human report: aligned tables. */
void		report_print(FILE *out, const struct pd_report *r);

/*
 * report_write_json: write the JSON report to path ("-" for stdout).
 * Returns false with a message in err when the file cannot be written.
 */
bool		report_write_json(const char *path, const struct pd_report *r,
							  char *err, size_t errlen);

/*
 * report_json: the JSON report as a malloc'd string (caller frees); with
 * r->meta set, the document for perfstore.store_run().  *len (when not
 * NULL) receives its length.
 */
char	   *report_json(const struct pd_report *r, size_t *len);

/* Format seconds since the epoch as ISO 8601 in UTC with microseconds. */
void		report_format_timestamp(double epoch_s, char *buf, size_t len);

struct pd_cmp;

/*
 * report_print_comparison: the comparison as an aligned table, with a
 * title line and a closing line counting regressions.
 */
void		report_print_comparison(FILE *out, const struct pd_cmp *c);

/* report_write_comparison_json: the comparison as JSON ("-" for stdout). */
bool		report_write_comparison_json(const char *path,
										 const struct pd_cmp *c,
										 char *err, size_t errlen);

#endif							/* PERFDRIVER_REPORT_H */
