/*
 * targets.c
 *		Target assertions: parse "[SCOPE.]METRIC OP NUMBER[UNIT]", evaluate
 *		it against a run's JSON report, and show the outcome.
 *
 * Owns: the metric table, the grammar's error messages and positions, and
 * the rules of evaluation: a scope without samples fails with "no data", a
 * latency quantile over fewer samples than it can resolve fails with "too
 * few samples", and a multi-statement scope passes only when every
 * statement it covers passes (the worst one is reported).
 *
 * Must not: include libpq-fe.h, print to stderr, or call exit: callers
 * decide how a usage error is shown and which exit code a failure gives.
 *
 * Memory: expressions, names and "where" strings are malloc'd and freed by
 * pd_assert_free() / pd_assert_set_free(); evaluation reads doc and keeps
 * no reference to it.
 */
#include "targets.h"

#include <jansson.h>

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum metric_kind
{
	KIND_LATENCY, KIND_TPS, KIND_RATE, KIND_COUNT
};

static const struct
{
	const char *name;
	enum metric_kind kind;
	double		q;				/* the quantile, 0 for max and mean */
}			metrics[] = {
	{"p50", KIND_LATENCY, 0.5},
	{"p95", KIND_LATENCY, 0.95},
	{"p99", KIND_LATENCY, 0.99},
	{"p999", KIND_LATENCY, 0.999},
	{"max", KIND_LATENCY, 0},
	{"mean", KIND_LATENCY, 0},
	{"tps", KIND_TPS, 0},
	{"error_rate", KIND_RATE, 0},
	{"failed", KIND_COUNT, 0},
};
#define NMETRICS ((int) (sizeof(metrics) / sizeof(metrics[0])))

static const char *const op_names[] = {"<", "<=", ">", ">="};

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	if (p == NULL)
	{
		fputs("perfdriver: error: out of memory\n", stdout);
		abort();
	}
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char	   *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

const char *
pd_assert_metric_name(int metric)
{
	return metric >= 0 && metric < NMETRICS ? metrics[metric].name : "?";
}

static bool
is_ident(int c)
{
	return isalnum((unsigned char) c) || c == '_';
}

static size_t
skip_spaces(const char *s, size_t i)
{
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	return i;
}

/* The metric index of the identifier at s[i..j), or -1. */
static int
metric_lookup(const char *s, size_t i, size_t j)
{
	for (int m = 0; m < NMETRICS; m++)
		if (strlen(metrics[m].name) == j - i &&
			strncmp(metrics[m].name, s + i, j - i) == 0)
			return m;
	return -1;
}

/* Length of the operator at s (0 when there is none); sets *op. */
static size_t
op_at(const char *s, enum pd_assert_op *op)
{
	if (s[0] == '<')
	{
		*op = s[1] == '=' ? PD_OP_LE : PD_OP_LT;
		return s[1] == '=' ? 2 : 1;
	}
	if (s[0] == '>')
	{
		*op = s[1] == '=' ? PD_OP_GE : PD_OP_GT;
		return s[1] == '=' ? 2 : 1;
	}
	return 0;
}

/* True when a metric name and then (after spaces) an operator start at s. */
static bool
metric_then_op(const char *s)
{
	size_t		j = 0;
	enum pd_assert_op op;

	while (is_ident(s[j]))
		j++;
	if (j == 0 || metric_lookup(s, 0, j) < 0)
		return false;
	return op_at(s + skip_spaces(s, j), &op) > 0;
}

static bool
parse_fail(char *err, size_t errlen, size_t *pos, size_t at, const char *fmt,...)
	__attribute__((format(printf, 5, 6)));

static bool
parse_fail(char *err, size_t errlen, size_t *pos, size_t at, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	*pos = at;
	return false;
}

/*
 * parse_scope: the scope at the start of s.  Sets *mstart to where the
 * metric begins.  Returns false with the error set.
 */
static bool
parse_scope(const char *s, size_t i, struct pd_assert *a, size_t *mstart,
			char *err, size_t errlen, size_t *pos)
{
	static const struct
	{
		const char *prefix;
		enum pd_assert_scope scope;
		const char *what;
	}			named[] = {
		{"script:", PD_ASSERT_SCRIPT, "script name"},
		{"statement:", PD_ASSERT_STATEMENT, "statement text"},
	};

	if (strncmp(s + i, "statements", 10) == 0 && !is_ident(s[i + 10]) &&
		s[i + 10] != ':')
	{
		if (s[i + 10] != '.')
			return parse_fail(err, errlen, pos, i + 10,
							  "expected \".\" and a metric after \"statements\"");
		a->scope = PD_ASSERT_STATEMENTS;
		*mstart = i + 11;
		return true;
	}
	for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
	{
		size_t		plen = strlen(named[k].prefix);
		size_t		start = i + plen;
		const char *dot = NULL;

		if (strncmp(s + i, named[k].prefix, plen) != 0)
			continue;
		/* the last "." followed by a metric and an operator ends the scope */
		for (const char *p = s + strlen(s); p > s + start;)
		{
			p--;
			if (*p == '.' && metric_then_op(p + 1))
			{
				dot = p;
				break;
			}
		}
		if (dot == NULL)
		{
			const char *last = strrchr(s + start, '.');

			return parse_fail(err, errlen, pos,
							  last ? (size_t) (last - s) + 1 : strlen(s),
							  "expected \".\" and a metric followed by <, <=, > or >= after the %s",
							  named[k].what);
		}
		if (dot == s + start)
			return parse_fail(err, errlen, pos, start, "empty %s", named[k].what);
		a->scope = named[k].scope;
		a->name = xstrndup(s + start, (size_t) (dot - (s + start)));
		*mstart = (size_t) (dot - s) + 1;
		return true;
	}
	a->scope = PD_ASSERT_RUN;
	*mstart = i;
	return true;
}

/*
 * parse_target: the number at s[i..] and its unit, converted to the
 * metric's base unit (ms, fraction, count, per second).
 */
static bool
parse_target(const char *s, size_t i, struct pd_assert *a, char *err,
			 size_t errlen, size_t *pos)
{
	size_t		j = i;
	size_t		u;
	size_t		ue;
	char		num[64];
	double		v;
	enum metric_kind kind = metrics[a->metric].kind;
	const char *mname = metrics[a->metric].name;

	while (isdigit((unsigned char) s[j]))
		j++;
	if (s[j] == '.')
	{
		j++;
		while (isdigit((unsigned char) s[j]))
			j++;
	}
	if (j == i || (j == i + 1 && s[i] == '.') || j - i >= sizeof(num))
		return parse_fail(err, errlen, pos, i, "expected a number");
	memcpy(num, s + i, j - i);
	num[j - i] = '\0';
	v = strtod(num, NULL);
	u = skip_spaces(s, j);
	ue = u;
	if (s[ue] == '%')
		ue++;
	else
		while (isalpha((unsigned char) s[ue]))
			ue++;

	if (ue == u)
	{
		/* no unit: latencies in ms, error_rate a fraction */
		if (kind == KIND_RATE && v > 1)
			return parse_fail(err, errlen, pos, i,
							  "error_rate without %% is a fraction from 0 to 1, not %s", num);
	}
	else if (kind == KIND_LATENCY)
	{
		if (ue - u == 2 && strncmp(s + u, "us", 2) == 0)
			v /= 1000.0;
		else if (ue - u == 1 && s[u] == 's')
			v *= 1000.0;
		else if (!(ue - u == 2 && strncmp(s + u, "ms", 2) == 0))
			return parse_fail(err, errlen, pos, u,
							  "unrecognized unit \"%.*s\" for %s: use us, ms or s",
							  (int) (ue - u), s + u, mname);
	}
	else if (kind == KIND_RATE)
	{
		if (s[u] != '%')
			return parse_fail(err, errlen, pos, u,
							  "unrecognized unit \"%.*s\" for error_rate: use %% or a fraction",
							  (int) (ue - u), s + u);
		if (v > 100)
			return parse_fail(err, errlen, pos, i,
							  "error_rate cannot exceed 100%%, not %s%%", num);
		v /= 100.0;
	}
	else
		return parse_fail(err, errlen, pos, u, "%s takes no unit, not \"%.*s\"",
						  mname, (int) (ue - u), s + u);
	if (kind == KIND_COUNT && v != floor(v))
		return parse_fail(err, errlen, pos, i,
						  "failed counts transactions: use a whole number, not %s", num);
	ue = skip_spaces(s, ue);
	if (s[ue] != '\0')
		return parse_fail(err, errlen, pos, ue, "unexpected \"%s\" after the target", s + ue);
	a->target = v;
	return true;
}

bool
pd_assert_parse(const char *expr, struct pd_assert *out, char *err,
				size_t errlen, size_t *pos)
{
	size_t		i;
	size_t		j;
	size_t		mstart = 0;
	size_t		oplen;
	struct pd_assert a;

	memset(&a, 0, sizeof(a));
	memset(out, 0, sizeof(*out));
	i = skip_spaces(expr, 0);
	if (expr[i] == '\0')
		return parse_fail(err, errlen, pos, i, "empty assertion");
	if (!parse_scope(expr, i, &a, &mstart, err, errlen, pos))
		return false;
	j = mstart;
	while (is_ident(expr[j]))
		j++;
	if (j == mstart)
	{
		free(a.name);
		return parse_fail(err, errlen, pos, mstart, "expected a metric (p50, p95, p99, p999, max, mean, tps, error_rate or failed)");
	}
	a.metric = metric_lookup(expr, mstart, j);
	if (a.metric < 0)
	{
		free(a.name);
		return parse_fail(err, errlen, pos, mstart, "unrecognized metric \"%.*s\"",
						  (int) (j - mstart), expr + mstart);
	}
	j = skip_spaces(expr, j);
	oplen = op_at(expr + j, &a.op);
	if (oplen == 0)
	{
		free(a.name);
		return parse_fail(err, errlen, pos, j, "expected <, <=, > or >= after %s",
						  metrics[a.metric].name);
	}
	j = skip_spaces(expr, j + oplen);
	if (!parse_target(expr, j, &a, err, errlen, pos))
	{
		free(a.name);
		return false;
	}
	a.expr = xstrndup(expr, strlen(expr));
	*out = a;
	return true;
}

void
pd_assert_free(struct pd_assert *a)
{
	free(a->expr);
	free(a->name);
	a->expr = NULL;
	a->name = NULL;
}

void
pd_assert_set_push(struct pd_assert_set *set, struct pd_assert *a)
{
	struct pd_assert *grown = realloc(set->a, (size_t) (set->n + 1) * sizeof(*grown));

	if (grown == NULL)
	{
		fputs("perfdriver: error: out of memory\n", stdout);
		abort();
	}
	set->a = grown;
	set->a[set->n++] = *a;
	memset(a, 0, sizeof(*a));
}

void
pd_assert_results_free(struct pd_assert_set *set)
{
	if (set->r == NULL)
		return;
	for (int i = 0; i < set->n; i++)
		free(set->r[i].where);
	free(set->r);
	set->r = NULL;
}

void
pd_assert_set_free(struct pd_assert_set *set)
{
	pd_assert_results_free(set);
	for (int i = 0; i < set->n; i++)
		pd_assert_free(&set->a[i]);
	free(set->a);
	set->a = NULL;
	set->n = 0;
}

void
pd_assert_caret(const char *expr, size_t pos, char *buf, size_t len)
{
	size_t		n = strlen(expr);
	int			w;

	if (pos > n)
		pos = n;
	w = snprintf(buf, len, "  %s\n  ", expr);
	for (size_t k = 0; k < pos && w >= 0 && (size_t) w + 2 < len; k++)
		buf[w++] = expr[k] == '\t' ? '\t' : ' ';
	if (w >= 0 && (size_t) w + 1 < len)
	{
		buf[w++] = '^';
		buf[w] = '\0';
	}
}

long long
pd_assert_min_samples(int metric, long long min_samples)
{
	double		q = metrics[metric].q;

	if (min_samples > 0)
		return min_samples;
	if (metrics[metric].kind != KIND_LATENCY || q == 0)
		return 1;
	/* 1/(1-q) with a little slack for the binary fractions of 0.95 etc. */
	return (long long) ceil(1.0 / (1.0 - q) - 1e-9);
}

/* ---------------------------------------------------------- evaluation */

/* A number field of o; NaN when absent or null. */
static double
jnum(const json_t *o, const char *key)
{
	const json_t *v = o ? json_object_get(o, key) : NULL;

	return v && json_is_number(v) ? json_number_value(v) : NAN;
}

static double
jnum0(const json_t *o, const char *key)
{
	double		v = jnum(o, key);

	return isnan(v) ? 0 : v;
}

/* One instance of a scope: the run, a script or a statement. */
struct instance
{
	const json_t *obj;
	const char *where;			/* name shown, NULL for the run */
	double		ok;				/* successful samples (transactions, calls) */
	double		bad;			/* failed ones */
	double		tps;
	double		duration_s;
};

/*
 * instance_value: the metric's value in inst and the samples behind it;
 * sets reason ("no data", "too few samples") when it cannot be trusted.
 */
static double
instance_value(const struct pd_assert_set *set, int metric,
			   const struct instance *inst, long long *samples,
			   char *reason, size_t rlen)
{
	enum metric_kind kind = metrics[metric].kind;
	double		v = NAN;

	reason[0] = '\0';
	*samples = (long long) (kind == KIND_LATENCY ? inst->ok : inst->ok + inst->bad);
	if (*samples <= 0)
	{
		snprintf(reason, rlen, "no data");
		return NAN;
	}
	switch (kind)
	{
		case KIND_LATENCY:
			{
				long long	need = pd_assert_min_samples(metric, set->min_samples);

				v = jnum(json_object_get(inst->obj, "latency_ms"), metrics[metric].name);
				if (isnan(v))
					snprintf(reason, rlen, "no data");
				else if (*samples < need)
					snprintf(reason, rlen, "too few samples (%lld, %s needs %lld)",
							 *samples, metrics[metric].name, need);
				break;
			}
		case KIND_TPS:
			v = inst->tps;
			if (isnan(v))
				snprintf(reason, rlen, "no data");
			break;
		case KIND_RATE:
			v = inst->bad / (inst->ok + inst->bad);
			break;
		case KIND_COUNT:
			v = inst->bad;
			break;
	}
	return v;
}

static bool
op_holds(enum pd_assert_op op, double v, double target)
{
	switch (op)
	{
		case PD_OP_LT:
			return v < target;
		case PD_OP_LE:
			return v <= target;
		case PD_OP_GT:
			return v > target;
		case PD_OP_GE:
			return v >= target;
	}
	return false;
}

/* True when a matches the instance's statement text (case-insensitively). */
static bool
text_contains(const char *hay, const char *needle)
{
	size_t		n = strlen(needle);

	if (hay == NULL)
		return false;
	for (const char *p = hay; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return n == 0;
}

/* Script names match exactly or by their last path component. */
static bool
script_matches(const char *name, const char *want)
{
	const char *slash;

	if (name == NULL)
		return false;
	if (strcmp(name, want) == 0)
		return true;
	slash = strrchr(name, '/');
	return slash != NULL && strcmp(slash + 1, want) == 0;
}

/* Collect the instances a's scope covers; returns how many (caller frees *out). */
static int
collect(const struct pd_assert *a, const json_t *doc, struct instance **out)
{
	const json_t *arr;
	size_t		i;
	const json_t *el;
	int			n = 0;
	double		duration = jnum(doc, "duration_s");

	if (a->scope == PD_ASSERT_RUN)
	{
		*out = xmalloc(sizeof(**out));
		(*out)[0] = (struct instance) {
			.obj = doc, .where = NULL, .ok = jnum0(doc, "transactions"),
			.bad = jnum0(doc, "failed_transactions"), .tps = jnum(doc, "tps"),
			.duration_s = duration,
		};
		return 1;
	}
	arr = json_object_get(doc, a->scope == PD_ASSERT_SCRIPT ? "scripts" : "statements");
	*out = xmalloc(sizeof(**out) * (json_array_size(arr) + 1));
	json_array_foreach(arr, i, el)
	{
		struct instance *in = &(*out)[n];

		if (a->scope == PD_ASSERT_SCRIPT)
		{
			const char *name = json_string_value(json_object_get(el, "name"));

			if (!script_matches(name, a->name))
				continue;
			*in = (struct instance) {
				.obj = el, .where = name, .ok = jnum0(el, "transactions"),
				.bad = jnum0(el, "failed"), .tps = jnum(el, "tps"),
				.duration_s = duration,
			};
		}
		else
		{
			const char *q = json_string_value(json_object_get(el, "query"));

			if (a->scope == PD_ASSERT_STATEMENT && !text_contains(q, a->name))
				continue;
			*in = (struct instance) {
				.obj = el, .where = q, .ok = jnum0(el, "calls"),
				.bad = jnum0(el, "errors"), .duration_s = duration,
			};
			/* a statement's rate: its successful calls per second */
			in->tps = duration > 0 ? in->ok / duration : NAN;
		}
		n++;
	}
	return n;
}

/*
 * worse: true when value v is further on the failing side than w: larger
 * for "<" and "<=" targets, smaller for ">" and ">=".
 */
static bool
worse(enum pd_assert_op op, double v, double w)
{
	return (op == PD_OP_LT || op == PD_OP_LE) ? v > w : v < w;
}

static void
evaluate_one(const struct pd_assert_set *set, const struct pd_assert *a,
			 const json_t *doc, struct pd_assert_result *r)
{
	struct instance *inst = NULL;
	int			n = collect(a, doc, &inst);
	int			decide = -1;	/* the instance whose value is reported */
	bool		decide_failed = false;
	bool		decide_reason = false;
	double		decide_v = NAN;
	long long	decide_samples = 0;
	char		decide_why[96] = "";

	memset(r, 0, sizeof(*r));
	r->value = NAN;
	if (n == 0)
	{
		r->passed = false;
		if (a->scope == PD_ASSERT_SCRIPT)
			snprintf(r->reason, sizeof(r->reason), "no data (no script named \"%.60s\")", a->name);
		else if (a->scope == PD_ASSERT_STATEMENT)
			snprintf(r->reason, sizeof(r->reason), "no data (no statement contains \"%.50s\")", a->name);
		else
			snprintf(r->reason, sizeof(r->reason), "no data");
		free(inst);
		return;
	}

	/*
	 * Every instance must pass.  Report the worst failing value; failing
	 * only for a reason ("no data", "too few samples") comes after a failing
	 * value; when all pass, the worst passing value.
	 */
	for (int k = 0; k < n; k++)
	{
		char		why[96];
		long long	samples;
		double		v = instance_value(set, a->metric, &inst[k], &samples, why, sizeof(why));
		bool		has_reason = why[0] != '\0';
		bool		failed = has_reason || !op_holds(a->op, v, a->target);
		bool		take;

		if (decide < 0)
			take = true;
		else if (failed != decide_failed)
			take = failed;
		else if (failed && has_reason != decide_reason)
			take = !has_reason;	/* a measured miss beats a reason */
		else
			take = !has_reason && worse(a->op, v, decide_v);
		if (take)
		{
			decide = k;
			decide_failed = failed;
			decide_reason = has_reason;
			decide_v = v;
			decide_samples = samples;
			snprintf(decide_why, sizeof(decide_why), "%s", why);
		}
	}
	r->passed = !decide_failed;
	r->value = decide_v;
	r->samples = decide_samples;
	snprintf(r->reason, sizeof(r->reason), "%s", decide_why);
	if (inst[decide].where != NULL)
		r->where = xstrndup(inst[decide].where, strlen(inst[decide].where));
	free(inst);
}

int
pd_assert_evaluate(struct pd_assert_set *set, const json_t *doc)
{
	pd_assert_results_free(set);
	set->r = xmalloc(sizeof(*set->r) * (size_t) (set->n ? set->n : 1));
	for (int i = 0; i < set->n; i++)
		evaluate_one(set, &set->a[i], doc, &set->r[i]);
	return pd_assert_failures(set);
}

int
pd_assert_failures(const struct pd_assert_set *set)
{
	int			n = 0;

	if (set->r == NULL)
		return 0;
	for (int i = 0; i < set->n; i++)
		n += !set->r[i].passed;
	return n;
}

/* ------------------------------------------------------------- display */

char *
pd_assert_scope_text(const struct pd_assert *a)
{
	const char *prefix;
	size_t		len;
	char	   *s;

	switch (a->scope)
	{
		case PD_ASSERT_STATEMENTS:
			return xstrndup("statements", 10);
		case PD_ASSERT_SCRIPT:
			prefix = "script:";
			break;
		case PD_ASSERT_STATEMENT:
			prefix = "statement:";
			break;
		default:
			return xstrndup("run", 3);
	}
	len = strlen(prefix) + strlen(a->name) + 1;
	s = xmalloc(len);
	snprintf(s, len, "%s%s", prefix, a->name);
	return s;
}

void
pd_assert_format_value(const struct pd_assert *a, double v, char *buf, size_t len)
{
	if (isnan(v))
	{
		snprintf(buf, len, "-");
		return;
	}
	switch (metrics[a->metric].kind)
	{
		case KIND_LATENCY:
			if (v >= 100)
				snprintf(buf, len, "%.1f ms", v);
			else if (v >= 1)
				snprintf(buf, len, "%.2f ms", v);
			else
				snprintf(buf, len, "%.3f ms", v);
			break;
		case KIND_TPS:
			snprintf(buf, len, "%.1f tps", v);
			break;
		case KIND_RATE:
			snprintf(buf, len, "%.2f%%", 100.0 * v);
			break;
		case KIND_COUNT:
			snprintf(buf, len, "%.0f", v);
			break;
	}
}

/*
 * The "where" suffix: the statement's whole text (a cut one could lose its
 * WHERE clause) or the script's name; truncated only at len.
 */
static void
format_where(const struct pd_assert *a, const struct pd_assert_result *r,
			 char *buf, size_t len)
{
	buf[0] = '\0';
	if (r->where == NULL || a->scope == PD_ASSERT_RUN)
		return;
	if (a->scope == PD_ASSERT_SCRIPT)
		snprintf(buf, len, " (script %s)", r->where);
	else
		snprintf(buf, len, " (%s)", r->where);
}

/* The value column of result r: the value, a reason, or both. */
static void
format_result(const struct pd_assert *a, const struct pd_assert_result *r,
			  char *buf, size_t len)
{
	char		val[64];

	pd_assert_format_value(a, r->value, val, sizeof(val));
	if (r->reason[0] == '\0')
		snprintf(buf, len, "%s", val);
	else if (isnan(r->value))
		snprintf(buf, len, "%s", r->reason);
	else
		snprintf(buf, len, "%s, %s", val, r->reason);
}

void
pd_assert_print(FILE *out, const struct pd_assert_set *set)
{
	int			w = 0;
	int			vw = 0;
	char		val[200];

	if (set->n == 0 || set->r == NULL)
		return;
	for (int i = 0; i < set->n; i++)
	{
		if ((int) strlen(set->a[i].expr) > w)
			w = (int) strlen(set->a[i].expr);
		format_result(&set->a[i], &set->r[i], val, sizeof(val));
		if ((int) strlen(val) > vw)
			vw = (int) strlen(val);
	}
	fprintf(out, "\nassertions:\n");
	for (int i = 0; i < set->n; i++)
	{
		const struct pd_assert *a = &set->a[i];
		const struct pd_assert_result *r = &set->r[i];
		char		where[4096];

		format_result(a, r, val, sizeof(val));
		format_where(a, r, where, sizeof(where));
		fprintf(out, "  %-*s  %-*s  %s%s\n", w, a->expr, vw, val,
				r->passed ? "pass" : "FAIL", where);
	}
	if (pd_assert_failures(set) == 0)
		fprintf(out, "  every target met\n");
	else
		fprintf(out, "  %d of %d target%s missed\n", pd_assert_failures(set), set->n,
				set->n == 1 ? "" : "s");
}

static json_t *
json_num_or_null(double v)
{
	return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

json_t *
pd_assert_to_json(const struct pd_assert_set *set)
{
	json_t	   *arr = json_array();

	for (int i = 0; i < set->n; i++)
	{
		const struct pd_assert *a = &set->a[i];
		const struct pd_assert_result *r = set->r ? &set->r[i] : NULL;
		char	   *scope = pd_assert_scope_text(a);
		json_t	   *o = json_pack("{s:s, s:s, s:s, s:s, s:o}",
								  "expr", a->expr, "scope", scope,
								  "metric", metrics[a->metric].name,
								  "op", op_names[a->op],
								  "target", json_real(a->target));

		free(scope);
		json_object_set_new(o, "value", json_num_or_null(r ? r->value : NAN));
		json_object_set_new(o, "passed", json_boolean(r && r->passed));
		json_object_set_new(o, "samples", json_integer(r ? r->samples : 0));
		json_object_set_new(o, "reason", r && r->reason[0] ? json_string(r->reason) : json_null());
		if (r && r->where && a->scope != PD_ASSERT_RUN)
			json_object_set_new(o, a->scope == PD_ASSERT_SCRIPT ? "script" : "statement",
								json_string(r->where));
		json_array_append_new(arr, o);
	}
	return arr;
}

char *
pd_assert_json_text(const struct pd_assert_set *set)
{
	json_t	   *a = pd_assert_to_json(set);
	char	   *txt = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(10));

	json_decref(a);
	return txt;
}

void
pd_assert_junit_cases(FILE *f, const struct pd_assert_set *set,
					  const char *suite, void (*escape) (FILE *, const char *))
{
	for (int i = 0; i < set->n; i++)
	{
		const struct pd_assert *a = &set->a[i];
		const struct pd_assert_result *r = set->r ? &set->r[i] : NULL;
		char		val[64];
		char		tgt[64];
		char		where[4096];
		char		msg[4400];

		fputs("    <testcase classname=\"perfdriver.", f);
		escape(f, suite);
		fputs(".assertions\" name=\"", f);
		escape(f, a->expr);
		fputs("\">", f);
		if (r == NULL || !r->passed)
		{
			pd_assert_format_value(a, r ? r->value : NAN, val, sizeof(val));
			pd_assert_format_value(a, a->target, tgt, sizeof(tgt));
			if (r)
				format_where(a, r, where, sizeof(where));
			else
				where[0] = '\0';
			if (r && r->reason[0])
				snprintf(msg, sizeof(msg), "%s: %s, target %s %s%s", metrics[a->metric].name,
						 r->reason, op_names[a->op], tgt, where);
			else
				snprintf(msg, sizeof(msg), "%s: %s, target %s %s%s", metrics[a->metric].name,
						 val, op_names[a->op], tgt, where);
			fputs("\n      <failure type=\"assertion\" message=\"", f);
			escape(f, msg);
			fputs("\">", f);
			escape(f, msg);
			fputs("</failure>\n    ", f);
		}
		fputs("</testcase>\n", f);
	}
}
