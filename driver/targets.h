/*
 * targets.h
 *		Target assertions ("--assert p95<50ms"): their grammar, their
 *		evaluation against a run's JSON report, and how a result is shown
 *		(report lines, the JSON "assertions" list, JUnit testcases).
 *
 * Grammar (docs/perfdriver.md, "Target assertions"):
 *
 *	EXPR   := [SCOPE "."] METRIC OP NUMBER [UNIT]     spaces around OP allowed
 *	SCOPE  := "statements" | "script:" NAME | "statement:" TEXT
 *	METRIC := p50 | p95 | p99 | p999 | max | mean | tps | error_rate | failed
 *	OP     := "<" | "<=" | ">" | ">="
 *	UNIT   := us | ms | s | %
 *
 * The scope ends at the last "." that is followed by a metric and an
 * operator, so NAME and TEXT may contain dots.
 *
 * Owns: struct pd_assert (one parsed expression), struct pd_assert_set (the
 * expressions of one command and their results) and the rules that decide
 * "no data" and "too few samples".
 *
 * Must not: include libpq-fe.h or print to stderr (callers report usage
 * errors); depend on anything but the C library and libjansson (the unit
 * tests link this file alone).
 *
 * Memory: pd_assert_set_add() copies what it keeps; pd_assert_set_free()
 * releases the set's expressions and results.  pd_assert_to_json() returns a
 * new jansson reference the caller releases with json_decref().
 */
#ifndef PERFDRIVER_TARGETS_H
#define PERFDRIVER_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* libjansson's value type; jansson.h is left to the files that read JSON */
struct json_t;

enum pd_assert_scope
{
	PD_ASSERT_RUN,				/* the whole run (no scope) */
	PD_ASSERT_STATEMENTS,		/* every statement on its own */
	PD_ASSERT_SCRIPT,			/* script:NAME */
	PD_ASSERT_STATEMENT			/* statement:TEXT (every match on its own) */
};

enum pd_assert_op
{
	PD_OP_LT, PD_OP_LE, PD_OP_GT, PD_OP_GE
};

/* One parsed expression. */
struct pd_assert
{
	char	   *expr;			/* as given */
	enum pd_assert_scope scope;
	char	   *name;			/* script NAME or statement TEXT, else NULL */
	int			metric;			/* index into the metric table (targets.c) */
	enum pd_assert_op op;
	double		target;			/* ms for latencies, a fraction for error_rate */
};

/* The outcome of one assertion. */
struct pd_assert_result
{
	bool		passed;
	double		value;			/* NaN when there is no value */
	long long	samples;		/* samples behind the deciding value */
	char		reason[96];		/* "" or "no data", "too few samples (...)" */
	char	   *where;			/* the statement or script that decided, or NULL */
};

struct pd_assert_set
{
	int			n;
	struct pd_assert *a;
	struct pd_assert_result *r; /* n results once evaluated, else NULL */
	long long	min_samples;	/* --assert-min-samples; 0: by quantile */
};

/*
 * pd_assert_parse: parse expr into *out.  Returns false with a message in
 * err and, in *pos, the 0-based offset in expr where parsing stopped.
 * On success out's strings are malloc'd (pd_assert_free releases them).
 */
bool		pd_assert_parse(const char *expr, struct pd_assert *out,
							char *err, size_t errlen, size_t *pos);
void		pd_assert_free(struct pd_assert *a);

/* Append a parsed expression (the set takes over a's strings). */
void		pd_assert_set_push(struct pd_assert_set *set, struct pd_assert *a);
void		pd_assert_set_free(struct pd_assert_set *set);

/* Free the results of an evaluation only (the expressions stay). */
void		pd_assert_results_free(struct pd_assert_set *set);

/*
 * pd_assert_caret: two lines showing where parsing stopped: "  EXPR\n" and
 * "  " plus a caret under offset pos.  Writes at most len bytes.
 */
void		pd_assert_caret(const char *expr, size_t pos, char *buf, size_t len);

/*
 * pd_assert_min_samples: the samples a latency metric needs before its
 * value is trusted: min_samples when positive, else 1/(1-q) for quantile q
 * (so at least one sample lies above it), 1 for max and mean.
 */
long long	pd_assert_min_samples(int metric, long long min_samples);

/*
 * pd_assert_evaluate: evaluate every expression of set against doc, a run
 * in the JSON report's shape (docs/perfdriver.md).  Replaces earlier
 * results.  Returns the number of assertions that failed.
 */
int			pd_assert_evaluate(struct pd_assert_set *set, const struct json_t *doc);

/* Failed assertions of an evaluated set (0 when not evaluated). */
int			pd_assert_failures(const struct pd_assert_set *set);

/* The metric's name ("p95") and its unit for display ("ms", "", "%"). */
const char *pd_assert_metric_name(int metric);

/* The scope as stored: "run", "statements", "script:NAME", "statement:TEXT". */
char	   *pd_assert_scope_text(const struct pd_assert *a);

/* Format the value of result r of a as shown ("12.41 ms", "0.50%"). */
void		pd_assert_format_value(const struct pd_assert *a, double v,
								   char *buf, size_t len);

/* The report's "assertions:" block, one line per assertion. */
void		pd_assert_print(FILE *out, const struct pd_assert_set *set);

/*
 * pd_assert_to_json: the "assertions" list: [{expr, scope, metric, op,
 * target, value, passed, samples, reason, statement|script}].
 */
struct json_t *pd_assert_to_json(const struct pd_assert_set *set);

/* The same list as compact JSON text (malloc'd; the caller frees). */
char	   *pd_assert_json_text(const struct pd_assert_set *set);

/*
 * pd_assert_junit_cases: one <testcase> per assertion, classname
 * "perfdriver.SUITE.assertions", with a <failure type="assertion"> for a
 * missed target.  escape writes XML-escaped text.
 */
void		pd_assert_junit_cases(FILE *f, const struct pd_assert_set *set,
								  const char *suite,
								  void (*escape) (FILE *, const char *));

#endif							/* PERFDRIVER_TARGETS_H */
