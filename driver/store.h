/*
 * store.h
 *		Storing a run in perfstore and reading comparisons back: the
 *		writer behind "perfdriver run --store" and the reader behind
 *		"perfdriver compare" and "run --baseline".
 *
 * Owns: the comparison rows (built by gate.c from the stored runs), the
 * gate's options (struct pd_gate_policy), and struct pd_store (one blocking
 * connection to the store, through pgconn.c).  The exit codes 3
 * (regression), 4 (not stored) and 5 (a missed target) are in driver.h
 * with the others.
 *
 * Must not: include libpq-fe.h (pgconn.c alone does; struct pd_store is
 * opaque here), or put a password into a message.
 *
 * Memory: pd_store_connect() allocates a connection that pd_store_close()
 * frees; pd_store_compare() fills a struct pd_cmp whose strings and rows
 * pd_cmp_free() releases.
 */
#ifndef PERFDRIVER_STORE_H
#define PERFDRIVER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "driver.h"

/* "perfdriver compare" (cmd_compare.c). */
int			cmd_compare(int argc, char **argv);

/* Metric indexes, in the order of PD_CMP_METRICS. */
enum
{
	PD_GATE_TPS, PD_GATE_P50, PD_GATE_P95, PD_GATE_P99, PD_GATE_ERROR_RATE,
	PD_GATE_NMETRICS
};

/* One row of a comparison; NaN stands for SQL NULL in the numbers. */
struct pd_cmp_row
{
	char	   *scope;			/* "run" or "statement" */
	char	   *fingerprint;	/* NULL for scope "run" */
	char	   *query;			/* NULL for scope "run" */
	char	   *metric;			/* tps, p50_ms, p95_ms, p99_ms, error_rate */
	double		baseline;
	double		candidate;
	double		change;			/* candidate / baseline - 1 */
	double		spread;			/* relative spread of the baseline runs */
	char	   *verdict;		/* regression, improvement, unchanged, new, gone */
	double		noise;			/* relative change the noise explains (gate.h) */
	double		threshold;		/* the metric's threshold, a fraction */
	double		severity;		/* |change| over the bar it had to clear */
	int			nbase;			/* baseline runs with a value */
};

/* Which rows count for the gate (--gate-scope). */
#define PD_GATE_SCOPE_ALL			0
#define PD_GATE_SCOPE_RUN			1
#define PD_GATE_SCOPE_STATEMENTS	2

/* A whole comparison, in the server's order (run rows first). */
struct pd_cmp
{
	int64_t		candidate;
	int64_t		baseline;		/* a run id, or 0 with last_n */
	int			last_n;			/* history length, or 0 with a baseline id */
	double		threshold;		/* a fraction: 0.1 is 10% */
	char	   *name;			/* the candidate's run name, NULL if unknown */
	int			nrows;
	struct pd_cmp_row *rows;
	const char *gate;			/* comma-separated metrics that count, NULL: all */
	int			regressions;	/* regression rows of the gated metrics */
	int			gate_scope;		/* PD_GATE_SCOPE_*: which rows count */
	int			nbase;			/* baseline runs found (<= last_n) */
	int64_t    *base_ids;		/* their ids, latest first */
	double		thresholds[PD_GATE_NMETRICS];	/* per metric of PD_CMP_METRICS, fractions */
	double		min_change_ms;	/* the latency floor */
	double		run_sd[PD_GATE_NMETRICS];		/* run-to-run sd / median per metric (NaN: n < 3) */
	const struct pd_assert_set *assertions; /* evaluated on the candidate, or
											 * NULL; not owned */
};

void		pd_cmp_free(struct pd_cmp *c);

/* The metrics a comparison reports (and --gate-metrics accepts). */
#define PD_CMP_METRICS "tps,p50_ms,p95_ms,p99_ms,error_rate"

/* True when metric is an item of the comma-separated list. */
static inline bool
pd_metric_listed(const char *list, const char *metric)
{
	size_t		len = strlen(metric);

	for (const char *p = list; p != NULL && *p;)
	{
		const char *comma = strchr(p, ',');
		size_t		n = comma ? (size_t) (comma - p) : strlen(p);

		if (n == len && strncmp(p, metric, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/*
 * pd_cmp_gated: r is a regression that counts: its verdict is "regression",
 * its metric is gated (c->gate NULL gates every metric) and its scope is
 * in c->gate_scope.  Improvements never count.
 */
static inline bool
pd_cmp_gated(const struct pd_cmp *c, const struct pd_cmp_row *r)
{
	bool		run_row = r->scope == NULL || strcmp(r->scope, "run") == 0;

	if (c->gate_scope == PD_GATE_SCOPE_RUN && !run_row)
		return false;
	if (c->gate_scope == PD_GATE_SCOPE_STATEMENTS && run_row)
		return false;
	return r->verdict != NULL && strcmp(r->verdict, "regression") == 0 &&
		(c->gate == NULL || (r->metric != NULL && pd_metric_listed(c->gate, r->metric)));
}

/* Set c->gate and count c->regressions again. */
static inline void
pd_cmp_set_gate(struct pd_cmp *c, const char *gate)
{
	c->gate = gate;
	c->regressions = 0;
	for (int i = 0; i < c->nrows; i++)
		c->regressions += pd_cmp_gated(c, &c->rows[i]);
}

struct pd_store;
struct pd_gate_policy;
struct pd_assert_set;

/*
 * pd_store_connect: open a blocking connection to the store (a database
 * name, conninfo string or URI; PG* variables apply).  Returns NULL with
 * libpq's message in err (passwords scrubbed) when it cannot.
 */
struct pd_store *pd_store_connect(const char *dsn, char *err, size_t errlen);

/* Close and free; NULL is allowed. */
void		pd_store_close(struct pd_store *st);

/*
 * pd_store_run: send doc (the run document, JSON) to perfstore.store_run()
 * inside BEGIN/COMMIT and set *id to the stored run's id.  Returns false
 * with the server's or libpq's message in err; then nothing was stored
 * (unless the connection broke while COMMIT was under way, which no client
 * can tell apart).
 */
bool		pd_store_run(struct pd_store *st, const char *doc, int64_t *id,
						 char *err, size_t errlen);

/*
 * pd_store_has_history: *has is set when a run of the same name as
 * candidate started before it (so compare_to_history has a baseline).
 * Returns false with a message in err on failure.
 */
bool		pd_store_has_history(struct pd_store *st, int64_t candidate,
								 bool *has, char *err, size_t errlen);

/*
 * pd_store_compare: compare candidate with run baseline (last_n == 0) or
 * with the median of its last_n predecessors of the same name (baseline
 * == 0; run exclude, when not 0, is not one of them) under policy, with the gate's noise model (gate.h): the runs'
 * totals, intervals and statement quantiles are read here and judged by
 * pd_gate_compare().  Fills *out (free with pd_cmp_free()).  Returns false
 * with a message in err for an unknown run id, a candidate without earlier
 * runs, or a failed query.
 */
bool		pd_store_compare(struct pd_store *st, int64_t baseline, int last_n,
							 int64_t candidate, int64_t exclude,
							 const struct pd_gate_policy *policy,
							 struct pd_cmp *out, char *err, size_t errlen);

/*
 * What the gate judges by (gate.h): the thresholds per metric of
 * PD_CMP_METRICS (NaN: the default), the default, the absolute floor for
 * latency changes (--min-change) and which rows count (--gate-scope).
 */
struct pd_gate_policy
{
	double		threshold[PD_GATE_NMETRICS];	/* fractions; NaN: default */
	double		default_threshold;	/* a fraction */
	double		min_change_ms;	/* absolute floor for latency changes */
	int			scope;			/* PD_GATE_SCOPE_* (store.h) */
};

/*
 * pd_store_run_report: stored run id in the JSON report's shape (totals,
 * latency_ms, scripts, statements with latency_ms), for assertions on a
 * stored run.  Returns a malloc'd string, or NULL with a message in err.
 */
char	   *pd_store_run_report(struct pd_store *st, int64_t id, char *err,
								size_t errlen);

/*
 * pd_store_fetch_run: the stored run id as a report document (JSON, the
 * shape of report.h with the sketches in text form), malloc'd into *doc.
 * Returns false with a message in err for an unknown run or a failure.
 */
bool		pd_store_fetch_run(struct pd_store *st, int64_t id, char **doc,
							   char *err, size_t errlen);

/* What "run --store" was asked to do after the run. */
struct pd_store_opts
{
	const char *dsn;
	int64_t		baseline_id;	/* --baseline RUN_ID, 0 when not given */
	int			baseline_last;	/* --baseline last:N, 0 when not given */
	double		threshold;		/* --fail-on-regression PCT: the default threshold */
	struct pd_gate_policy policy;	/* --threshold, --min-change, --gate-scope;
									 * a NaN default_threshold takes threshold */
	bool		fail_on_regression; /* --fail-on-regression given */
	const struct pd_assert_set *assertions; /* evaluated, for JUnit; or NULL */
	const char *junit;			/* --junit FILE or NULL */
	const char *gate;			/* --gate-metrics, NULL: every metric */
	const char *json_written;	/* the JSON report's path ("-": stdout) when
								 * it was written, else NULL (exit 4's hint) */
	bool		confirm;		/* --confirm: a regression is rerun once */
	int64_t		exclude_id;		/* a run left out of last:N (the suspect
								 * run, when confirming), 0: none */
	int64_t    *stored_id;		/* when not NULL, receives the stored id */
};

/*
 * pd_parse_baseline (cmd_compare.c): "last:N" (N >= 1) sets *last_n, a
 * positive run id sets *id.  Returns false for anything else.
 */
bool		pd_parse_baseline(const char *s, int64_t *id, int *last_n);

/* pd_parse_percent: a percentage >= 0 into a fraction; false if invalid. */
bool		pd_parse_percent(const char *s, double *fraction);

/*
 * pd_parse_gate_metrics: true when s is a comma-separated list of metrics
 * from PD_CMP_METRICS (or "all", which makes *gate NULL).
 */
bool		pd_parse_gate_metrics(const char *s, const char **gate);

/*
 * pd_parse_assert_option (cmd_compare.c): parse one --assert EXPR into set.
 * On a malformed expression prints the error, the expression with a caret
 * where parsing stopped, and a hint, and returns false (exit 2).
 */
bool		pd_parse_assert_option(struct pd_assert_set *set, const char *expr);

/*
 * pd_parse_gate_option (cmd_compare.c): the gate options shared by run and
 * compare: opt is "threshold", "min-change" or "gate-scope".  Prints the
 * error and returns false when arg is invalid.
 */
bool		pd_parse_gate_option(struct pd_gate_policy *p, const char *opt,
								 const char *arg);

/*
 * pd_write_assertions_junit (cmd_compare.c): JUnit with only the
 * assertions of set (a run without a comparison).  Prints the error and
 * returns PD_EXIT_USAGE when the file cannot be written, else 0.
 */
int			pd_write_assertions_junit(const char *path, const char *name,
									  const struct pd_assert_set *set);

struct pd_report;

/*
 * pd_evaluate_run_assertions (cmd_compare.c): evaluate set against the
 * finished run rep (through its JSON report).
 */
void		pd_evaluate_run_assertions(struct pd_assert_set *set,
									   const struct pd_report *rep);

/*
 * store_and_compare (cmd_compare.c): store the run described by rep (whose
 * meta must be set), print the stored id to out, then compare as asked.
 * Returns the exit code this step contributes: 0, PD_EXIT_REGRESSION (only
 * with fail_on_regression), PD_EXIT_STORE when it could not be stored, or
 * PD_EXIT_USAGE when the comparison could not be made.  *stored_id (when
 * not NULL) is set to the stored run's id, or 0 when it was not stored.
 */
int			store_and_compare(const struct pd_store_opts *so,
							  const struct pd_report *rep, FILE *out,
							  int64_t *stored_id);

/*
 * pd_store_flamegraph: the stacks stored with run run_id by "run
 * --flamegraph --store": report.flamegraph.<key>.data (key "folded" or
 * "waits_folded"), packed as docs/flamegraph.md describes, into *packed,
 * NULL when the run has none; the run's name and the sampled event into
 * *name and *event (NULL when unknown).  The caller frees the three.
 * Returns false with a message in err when the query failed or the run does
 * not exist.
 */
bool		pd_store_flamegraph(struct pd_store *st, int64_t run_id, const char *key,
								char **packed, char **name, char **event,
								char *err, size_t errlen);

#endif							/* PERFDRIVER_STORE_H */
