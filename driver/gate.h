/*
 * gate.h
 *		The regression gate's noise model: from stored runs (a candidate and
 *		its baseline runs, each with per-interval figures and per-statement
 *		quantile bounds) to a comparison whose verdicts a CI job can trust.
 *
 * The statistics (docs/runs.md, "The regression gate's noise model"):
 * a metric's baseline is the median of the baseline runs' values; the
 * change that noise explains is the larger of
 *	- run to run: t(0.999, n-1) * sd(baseline values) * sqrt(1 + 1/n), with
 *	  n >= 3 baseline runs (a one-sided prediction bound for one more run);
 *	- within the runs: 3.09 * sqrt(se_candidate^2 + se_baseline^2), where a
 *	  run's standard error comes from its own samples (the distribution-free
 *	  confidence interval of a quantile, read from the sketch at q -/+ one
 *	  rank standard deviation), its per-interval values (robust sd of the
 *	  intervals / sqrt(intervals)), and the sketch's 1% accuracy.
 * A change counts only when it exceeds that, the metric's threshold and
 * the absolute floor (--min-change for latencies).  Improvements never
 * count for the gate.
 *
 * Owns: struct pd_gate_policy (thresholds per metric, --min-change,
 * --gate-scope) and its option parsers, struct pd_gate_run (what the store
 * gives per run), pd_gate_judge() (one metric) and pd_gate_compare() (every
 * row of a comparison).
 *
 * Must not: include libpq-fe.h (store.c fetches the runs) or print.
 *
 * Memory: pd_gate_compare() fills a struct pd_cmp whose strings and rows
 * pd_cmp_free() releases; pd_gate_run_free() releases what store.c
 * allocated for one run.
 */
#ifndef PERFDRIVER_GATE_H
#define PERFDRIVER_GATE_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The default threshold (10%) and latency floor (0.1 ms). */
#define PD_GATE_DEFAULT_THRESHOLD	0.10
#define PD_GATE_DEFAULT_MIN_CHANGE_MS 0.1


/* Defaults: every threshold 10%, --min-change 0.1 ms, scope all. */
void		pd_gate_policy_init(struct pd_gate_policy *p);

/* The threshold that applies to metric m. */
double		pd_gate_threshold(const struct pd_gate_policy *p, int m);

/*
 * pd_gate_parse_thresholds: "10" (every metric) or "p95=10,p99=15,tps=20"
 * (metrics p50, p95, p99, tps, error_rate, also with the _ms suffix; a bare
 * number among them sets the default).  Returns false with a message in err.
 */
bool		pd_gate_parse_thresholds(const char *s, struct pd_gate_policy *p,
									 char *err, size_t errlen);

/* "0.1ms", "100us", "0" (ms by default); false when invalid. */
bool		pd_gate_parse_min_change(const char *s, double *ms);

/* "run", "statements" or "all"; false otherwise. */
bool		pd_gate_parse_scope(const char *s, int *scope);

/* One run's value of a metric and its standard error (NaN: none). */
struct pd_gate_obs
{
	double		value;
	double		se;
};

/* The bounds of a quantile: value at q - d, q, q + d (one rank sd). */
struct pd_gate_qci
{
	double		lo;
	double		mid;
	double		hi;
};

struct pd_gate_stmt
{
	char	   *fingerprint;
	char	   *query;
	double		calls;			/* successful executions */
	double		errors;
	struct pd_gate_qci q[3];	/* p50, p95, p99 */
};

/* What the store gives for one run. */
struct pd_gate_run
{
	int64_t		id;
	double		tps;
	double		ok;				/* committed transactions */
	double		bad;			/* failed transactions */
	struct pd_gate_qci q[3];	/* p50, p95, p99 of every transaction */
	int			nint;			/* intervals */
	double	   *int_len;		/* nint lengths in seconds */
	double	   *int_tps;		/* nint */
	double	   *int_q;			/* nint * 3: p50, p95, p99 (NaN: empty) */
	int			nstmt;
	struct pd_gate_stmt *stmts;
};

void		pd_gate_run_free(struct pd_gate_run *r);

/* The run's (stmt NULL) or a statement's observation of metric m. */
struct pd_gate_obs pd_gate_observe(const struct pd_gate_run *r,
								   const struct pd_gate_stmt *stmt, int m);

/* One metric's judgement. */
struct pd_gate_judgement
{
	int			nbase;			/* baseline runs with a value */
	double		baseline;		/* their median */
	double		change;			/* candidate / baseline - 1 (NaN: baseline 0) */
	double		spread;			/* max |x - median| / median, n >= 2 */
	double		noise;			/* the relative change noise explains */
	double		run_sd;			/* sd of the baseline values / median, n >= 3 */
	double		bar;			/* the absolute change needed to count */
	double		severity;		/* |candidate - baseline| / bar */
	const char *verdict;		/* regression, improvement, unchanged */
};

/*
 * pd_gate_judge: judge metric m of the candidate against nbase baseline
 * observations (NaN values are left out).
 */
void		pd_gate_judge(const struct pd_gate_policy *p, int m,
						  const struct pd_gate_obs *base, int nbase,
						  struct pd_gate_obs cand, struct pd_gate_judgement *out);

/* One-sided t quantile at 0.999 for df degrees of freedom (df >= 1). */
double		pd_gate_t999(int df);

/*
 * pd_gate_compare: the comparison of cand with base[0..nbase) (latest
 * first) under p: run rows (error_rate, p50_ms, p95_ms, p99_ms, tps), then
 * per statement (by query text, then fingerprint) p50_ms, p95_ms, p99_ms,
 * error_rate, or one "new"/"gone" row.  Fills out (free with
 * pd_cmp_free()); out->candidate, baseline, last_n and name are left for
 * the caller.
 */
void		pd_gate_compare(const struct pd_gate_policy *p,
							const struct pd_gate_run *cand,
							const struct pd_gate_run *base, int nbase,
							struct pd_cmp *out);

#endif							/* PERFDRIVER_GATE_H */
