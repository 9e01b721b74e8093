/*
 * gate.c
 *		The regression gate's noise model and the comparison it produces.
 *
 * Owns: the statistics described in gate.h and docs/runs.md, the options
 * --threshold (per metric), --min-change and --gate-scope, and the rows of
 * a comparison built from stored runs.
 *
 * Must not: include libpq-fe.h, print, or exit.  The rules here decide
 * every verdict the driver shows, so they stay pure functions of their
 * inputs (the unit tests feed them synthetic series).
 *
 * Memory: rows and their strings are malloc'd into struct pd_cmp (freed by
 * pd_cmp_free()); temporaries are freed before returning.
 */
#include "gate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[PD_GATE_NMETRICS] = {
	"tps", "p50_ms", "p95_ms", "p99_ms", "error_rate"
};

/* z for a one-sided 0.001 tail: a noise-only change exceeds it 1 in 1000 */
#define GATE_Z999 3.090

/* the latency sketch's relative accuracy: a floor under every quantile's error */
#define GATE_SKETCH_ALPHA 0.01

void
pd_gate_policy_init(struct pd_gate_policy *p)
{
	for (int m = 0; m < PD_GATE_NMETRICS; m++)
		p->threshold[m] = NAN;
	p->default_threshold = PD_GATE_DEFAULT_THRESHOLD;
	p->min_change_ms = PD_GATE_DEFAULT_MIN_CHANGE_MS;
	p->scope = PD_GATE_SCOPE_ALL;
}

double
pd_gate_threshold(const struct pd_gate_policy *p, int m)
{
	return isnan(p->threshold[m]) ? p->default_threshold : p->threshold[m];
}

/* A percentage >= 0 of exactly n bytes at s into a fraction. */
static bool
parse_pct(const char *s, size_t n, double *fraction)
{
	char		buf[64];
	char	   *end;
	double		v;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (errno != 0 || end == buf || *end != '\0' || !(v >= 0) || isinf(v) ||
		!isdigit((unsigned char) buf[0]))
		return false;
	*fraction = v / 100.0;
	return true;
}

static int
metric_index(const char *s, size_t n)
{
	static const char *const short_names[PD_GATE_NMETRICS] = {
		"tps", "p50", "p95", "p99", "error_rate"
	};

	for (int m = 0; m < PD_GATE_NMETRICS; m++)
		if ((strlen(short_names[m]) == n && strncmp(s, short_names[m], n) == 0) ||
			(strlen(metric_names[m]) == n && strncmp(s, metric_names[m], n) == 0))
			return m;
	return -1;
}

bool
pd_gate_parse_thresholds(const char *s, struct pd_gate_policy *p,
						 char *err, size_t errlen)
{
	struct pd_gate_policy q = *p;

	if (s[0] == '\0')
	{
		snprintf(err, errlen, "empty threshold list");
		return false;
	}
	for (const char *item = s; item != NULL;)
	{
		const char *comma = strchr(item, ',');
		size_t		n = comma ? (size_t) (comma - item) : strlen(item);
		const char *eq = memchr(item, '=', n);
		double		f;

		if (eq == NULL)
		{
			if (!parse_pct(item, n, &f))
			{
				snprintf(err, errlen, "\"%.*s\" is not a percentage", (int) n, item);
				return false;
			}
			q.default_threshold = f;
		}
		else
		{
			int			m = metric_index(item, (size_t) (eq - item));

			if (m < 0)
			{
				snprintf(err, errlen, "unrecognized metric \"%.*s\"", (int) (eq - item), item);
				return false;
			}
			if (!parse_pct(eq + 1, n - (size_t) (eq - item) - 1, &f))
			{
				snprintf(err, errlen, "\"%.*s\" is not a percentage", (int) (n - (size_t) (eq - item) - 1), eq + 1);
				return false;
			}
			q.threshold[m] = f;
		}
		item = comma ? comma + 1 : NULL;
	}
	*p = q;
	return true;
}

bool
pd_gate_parse_min_change(const char *s, double *ms)
{
	char	   *end;
	double		v;

	if (!isdigit((unsigned char) s[0]) && s[0] != '.')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !(v >= 0) || isinf(v))
		return false;
	if (strcmp(end, "us") == 0)
		v /= 1000.0;
	else if (strcmp(end, "s") == 0)
		v *= 1000.0;
	else if (strcmp(end, "ms") != 0 && *end != '\0')
		return false;
	*ms = v;
	return true;
}

bool
pd_gate_parse_scope(const char *s, int *scope)
{
	if (strcmp(s, "all") == 0)
		*scope = PD_GATE_SCOPE_ALL;
	else if (strcmp(s, "run") == 0)
		*scope = PD_GATE_SCOPE_RUN;
	else if (strcmp(s, "statements") == 0)
		*scope = PD_GATE_SCOPE_STATEMENTS;
	else
		return false;
	return true;
}

/* ------------------------------------------------------------ statistics */

double
pd_gate_t999(int df)
{
	static const double t[] = {
		0, 318.309, 22.327, 10.215, 7.173, 5.893, 5.208, 4.785, 4.501, 4.297,
		4.144, 4.025, 3.930, 3.852, 3.787, 3.733, 3.686, 3.646, 3.610, 3.579,
		3.552
	};

	if (df < 1)
		return INFINITY;
	if (df <= 20)
		return t[df];
	if (df <= 30)
		return 3.552 + (3.385 - 3.552) * (df - 20) / 10.0;
	if (df <= 60)
		return 3.385 + (3.232 - 3.385) * (df - 30) / 30.0;
	if (df <= 120)
		return 3.232 + (3.160 - 3.232) * (df - 60) / 60.0;
	return GATE_Z999;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Median of the n values (sorted in place); NaN when n is 0. */
static double
median_sorted(double *v, int n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t) n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Robust sd of the non-NaN values of v[0..n): 1.4826 * MAD; k gets the count. */
static double
robust_sd(const double *v, int n, int *k)
{
	double	   *w = malloc(sizeof(double) * (size_t) (n ? n : 1));
	double		med;
	double		mad;
	int			m = 0;

	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			w[m++] = v[i];
	*k = m;
	med = median_sorted(w, m);
	for (int i = 0; i < m; i++)
		w[i] = fabs(w[i] - med);
	mad = median_sorted(w, m);
	free(w);
	return 1.4826 * mad;
}

/*
 * interval_se: the standard error of a run-level figure from its
 * per-interval values: robust sd / sqrt(intervals), over the intervals at
 * least half as long as the longest (a short last interval is noise), and
 * only with 3 or more of them (0 otherwise).
 */
static double
interval_se(const struct pd_gate_run *r, int col)
{
	double		longest = 0;
	double	   *v;
	int			n = 0;
	int			k;
	double		sd;

	if (r->nint < 3)
		return 0;
	for (int i = 0; i < r->nint; i++)
		if (r->int_len[i] > longest)
			longest = r->int_len[i];
	v = malloc(sizeof(double) * (size_t) r->nint);
	for (int i = 0; i < r->nint; i++)
		if (r->int_len[i] >= longest / 2)
			v[n++] = col < 0 ? r->int_tps[i] : r->int_q[i * 3 + col];
	sd = robust_sd(v, n, &k);
	free(v);
	return k >= 3 ? sd / sqrt((double) k) : 0;
}

/* A quantile's standard error from its rank interval, floored by the sketch. */
static double
quantile_se(const struct pd_gate_qci *q)
{
	double		se = (isnan(q->hi) || isnan(q->lo)) ? 0 : (q->hi - q->lo) / 2.0;

	return fmax(se, GATE_SKETCH_ALPHA * fabs(q->mid));
}

/* An error rate and its binomial standard error (p at least 1/N). */
static struct pd_gate_obs
rate_obs(double ok, double bad)
{
	double		n = ok + bad;
	struct pd_gate_obs o = {NAN, 0};
	double		p;

	if (!(n > 0))
		return o;
	o.value = bad / n;
	p = fmax(o.value, 1.0 / n);
	o.se = sqrt(p * (1 - p) / n);
	return o;
}

struct pd_gate_obs
pd_gate_observe(const struct pd_gate_run *r, const struct pd_gate_stmt *stmt, int m)
{
	struct pd_gate_obs o = {NAN, 0};

	if (m == PD_GATE_ERROR_RATE)
		return stmt ? rate_obs(stmt->calls, stmt->errors) : rate_obs(r->ok, r->bad);
	if (m == PD_GATE_TPS)
	{
		if (stmt == NULL)
		{
			o.value = r->tps;
			o.se = interval_se(r, -1);
		}
		return o;
	}
	{
		const struct pd_gate_qci *q = stmt ? &stmt->q[m - PD_GATE_P50] : &r->q[m - PD_GATE_P50];

		o.value = q->mid;
		o.se = quantile_se(q);
		if (stmt == NULL)
			o.se = fmax(o.se, interval_se(r, m - PD_GATE_P50));
	}
	return o;
}

/* Sample sd of x[0..n) leaving out index skip (-1: none). */
static double
sd_without(const double *x, int n, int skip)
{
	double		mean = 0;
	double		ss = 0;
	int			k = 0;

	for (int i = 0; i < n; i++)
		if (i != skip)
		{
			mean += x[i];
			k++;
		}
	mean /= k;
	for (int i = 0; i < n; i++)
		if (i != skip)
			ss += (x[i] - mean) * (x[i] - mean);
	return k > 1 ? sqrt(ss / (k - 1)) : 0;
}

/*
 * outlier_run: with 5 or more baseline values, the index of the one
 * farthest from the median when it lies more than 8 standard deviations of
 * the others away (a burst of load from elsewhere during one run), else
 * -1.  The others' sd is floored at the sketch's accuracy, so that values
 * in neighbouring sketch buckets are not outliers.  Leaving it out keeps
 * one disturbed run from blinding the gate for the next N runs, at a
 * small cost: under purely normal noise the false-alarm rate goes from
 * about 0.06% to 0.13% per metric (docs/runs.md).
 */
static int
outlier_run(const double *x, int n, double median)
{
	int			far = 0;
	double		sd;

	if (n < 5)
		return -1;
	for (int i = 1; i < n; i++)
		if (fabs(x[i] - median) > fabs(x[far] - median))
			far = i;
	sd = fmax(sd_without(x, n, far), GATE_SKETCH_ALPHA * fabs(median));
	return fabs(x[far] - median) > 8 * sd ? far : -1;
}

void
pd_gate_judge(const struct pd_gate_policy *p, int m,
			  const struct pd_gate_obs *base, int nbase,
			  struct pd_gate_obs cand, struct pd_gate_judgement *out)
{
	double	   *x = malloc(sizeof(double) * (size_t) (nbase ? nbase : 1));
	double	   *se = malloc(sizeof(double) * (size_t) (nbase ? nbase : 1));
	int			n = 0;
	double		b;
	double		d;
	double		t = pd_gate_threshold(p, m);
	double		within;
	double		between = 0;
	double		floor_abs = 0;
	double		bar;
	bool		higher_better = m == PD_GATE_TPS;

	memset(out, 0, sizeof(*out));
	out->change = out->spread = out->noise = out->run_sd = NAN;
	out->baseline = NAN;
	out->verdict = "unchanged";
	for (int i = 0; i < nbase; i++)
		if (!isnan(base[i].value))
		{
			x[n] = base[i].value;
			se[n++] = base[i].se;
		}
	out->nbase = n;
	if (n == 0 || isnan(cand.value))
	{
		free(x);
		free(se);
		return;
	}

	b = median_sorted(x, n);
	/* the run-to-run noise: a one-sided prediction bound for one more run */
	if (n >= 3)
	{
		int			skip = outlier_run(x, n, b);
		int			m = skip >= 0 ? n - 1 : n;
		double		sd = sd_without(x, n, skip);

		between = pd_gate_t999(m - 1) * sd * sqrt(1 + 1.0 / m);
		if (b != 0)
			out->run_sd = sd / fabs(b);
	}
	out->baseline = b;
	if (n >= 2 && b != 0)
		out->spread = fmax(fabs(x[0] - b), fabs(x[n - 1] - b)) / fabs(b);
	within = GATE_Z999 * sqrt(cand.se * cand.se +
							  pow(median_sorted(se, n), 2) / n);
	free(x);
	free(se);

	d = cand.value - b;
	if (b != 0)
		out->change = d / b;
	if (m == PD_GATE_P50 || m == PD_GATE_P95 || m == PD_GATE_P99)
		floor_abs = p->min_change_ms;
	else if (m == PD_GATE_ERROR_RATE)
		floor_abs = t / 100.0;	/* 0.1 percentage points at 10% */
	bar = fmax(fmax(between, within), floor_abs);
	if (b != 0)
		bar = fmax(bar, t * fabs(b));
	if (b != 0)
		out->noise = fmax(between, within) / fabs(b);
	out->bar = bar;
	out->severity = bar > 0 ? fabs(d) / bar : (d != 0 ? INFINITY : 0);
	if (fabs(d) > bar && d != 0)
		out->verdict = ((d > 0) == higher_better) ? "improvement" : "regression";
}

/* ------------------------------------------------------------ comparison */

static char *
dup(const char *s)
{
	return s ? pd_strdup(s) : NULL;
}

struct row_list
{
	int			n;
	int			cap;
	struct pd_cmp_row *rows;
};

static struct pd_cmp_row *
row_add(struct row_list *l, const char *scope, const struct pd_gate_stmt *st,
		const char *metric, const char *verdict)
{
	struct pd_cmp_row *r;

	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 16;
		l->rows = realloc(l->rows, sizeof(*l->rows) * (size_t) l->cap);
		if (l->rows == NULL)
			abort();
	}
	r = &l->rows[l->n++];
	memset(r, 0, sizeof(*r));
	r->scope = dup(scope);
	r->fingerprint = st ? dup(st->fingerprint) : NULL;
	r->query = st ? dup(st->query) : NULL;
	r->metric = dup(metric);
	r->verdict = dup(verdict);
	r->baseline = r->candidate = r->change = r->spread = r->noise = NAN;
	r->severity = 0;
	return r;
}

static void
row_judged(struct pd_cmp_row *r, const struct pd_gate_judgement *j, double cand,
		   double threshold)
{
	r->baseline = j->baseline;
	r->candidate = cand;
	r->change = j->change;
	r->spread = j->spread;
	r->noise = j->noise;
	r->severity = j->severity;
	r->threshold = threshold;
	r->nbase = j->nbase;
}

static const struct pd_gate_stmt *
find_stmt(const struct pd_gate_run *r, const char *fingerprint)
{
	for (int i = 0; i < r->nstmt; i++)
		if (strcmp(r->stmts[i].fingerprint, fingerprint) == 0)
			return &r->stmts[i];
	return NULL;
}

/* Statements by query text (bytewise), then fingerprint. */
static int
cmp_stmt_ptr(const void *a, const void *b)
{
	const struct pd_gate_stmt *x = *(const struct pd_gate_stmt *const *) a;
	const struct pd_gate_stmt *y = *(const struct pd_gate_stmt *const *) b;
	int			c = strcmp(x->query ? x->query : "", y->query ? y->query : "");

	return c ? c : strcmp(x->fingerprint, y->fingerprint);
}

/* Every distinct statement of cand and base, sorted; returns the count. */
static int
all_statements(const struct pd_gate_run *cand, const struct pd_gate_run *base,
			   int nbase, const struct pd_gate_stmt ***out)
{
	int			cap = cand->nstmt;
	int			n = 0;
	const struct pd_gate_stmt **v;

	for (int i = 0; i < nbase; i++)
		cap += base[i].nstmt;
	v = malloc(sizeof(*v) * (size_t) (cap ? cap : 1));
	for (int i = -1; i < nbase; i++)
	{
		const struct pd_gate_run *r = i < 0 ? cand : &base[i];

		for (int k = 0; k < r->nstmt; k++)
		{
			bool		seen = false;

			for (int j = 0; j < n && !seen; j++)
				seen = strcmp(v[j]->fingerprint, r->stmts[k].fingerprint) == 0;
			if (!seen)
				v[n++] = &r->stmts[k];
		}
	}
	qsort(v, (size_t) n, sizeof(*v), cmp_stmt_ptr);
	*out = v;
	return n;
}

void
pd_gate_compare(const struct pd_gate_policy *p, const struct pd_gate_run *cand,
				const struct pd_gate_run *base, int nbase, struct pd_cmp *out)
{
	static const int run_order[] = {PD_GATE_ERROR_RATE, PD_GATE_P50, PD_GATE_P95,
	PD_GATE_P99, PD_GATE_TPS};
	static const int stmt_order[] = {PD_GATE_P50, PD_GATE_P95, PD_GATE_P99,
	PD_GATE_ERROR_RATE};
	struct row_list l = {0};
	struct pd_gate_obs *obs = malloc(sizeof(*obs) * (size_t) (nbase ? nbase : 1));
	const struct pd_gate_stmt **stmts;
	int			nstmts;

	for (int m = 0; m < PD_GATE_NMETRICS; m++)
	{
		out->thresholds[m] = pd_gate_threshold(p, m);
		out->run_sd[m] = NAN;
	}
	out->min_change_ms = p->min_change_ms;
	out->gate_scope = p->scope;
	out->threshold = p->default_threshold;
	out->nbase = nbase;

	for (size_t k = 0; k < sizeof(run_order) / sizeof(run_order[0]); k++)
	{
		int			m = run_order[k];
		struct pd_gate_obs c = pd_gate_observe(cand, NULL, m);
		struct pd_gate_judgement j;

		for (int i = 0; i < nbase; i++)
			obs[i] = pd_gate_observe(&base[i], NULL, m);
		pd_gate_judge(p, m, obs, nbase, c, &j);
		row_judged(row_add(&l, "run", NULL, metric_names[m], j.verdict), &j,
				   c.value, pd_gate_threshold(p, m));
		out->run_sd[m] = j.run_sd;
	}

	nstmts = all_statements(cand, base, nbase, &stmts);
	for (int s = 0; s < nstmts; s++)
	{
		const char *fp = stmts[s]->fingerprint;
		const struct pd_gate_stmt *cs = find_stmt(cand, fp);
		const struct pd_gate_stmt **bs = malloc(sizeof(*bs) * (size_t) (nbase ? nbase : 1));
		int			inbase = 0;

		for (int i = 0; i < nbase; i++)
		{
			bs[i] = find_stmt(&base[i], fp);
			inbase += bs[i] != NULL;
		}
		if (cs == NULL || inbase == 0)
		{
			/* one row, p95_ms, with the other side missing */
			const struct pd_gate_stmt *any = cs ? cs : stmts[s];
			struct pd_cmp_row *r = row_add(&l, "statement", any, "p95_ms",
										   cs ? "new" : "gone");

			if (cs)
				r->candidate = cs->q[1].mid;
			else
			{
				double	   *v = malloc(sizeof(double) * (size_t) nbase);
				int			n = 0;

				for (int i = 0; i < nbase; i++)
					if (bs[i] && !isnan(bs[i]->q[1].mid))
						v[n++] = bs[i]->q[1].mid;
				r->baseline = median_sorted(v, n);
				r->nbase = n;
				free(v);
			}
			r->threshold = pd_gate_threshold(p, PD_GATE_P95);
			free(bs);
			continue;
		}
		for (size_t k = 0; k < sizeof(stmt_order) / sizeof(stmt_order[0]); k++)
		{
			int			m = stmt_order[k];
			struct pd_gate_obs c = pd_gate_observe(cand, cs, m);
			struct pd_gate_judgement j;
			int			n = 0;

			for (int i = 0; i < nbase; i++)
				if (bs[i] != NULL)
					obs[n++] = pd_gate_observe(&base[i], bs[i], m);
			pd_gate_judge(p, m, obs, n, c, &j);
			row_judged(row_add(&l, "statement", cs, metric_names[m], j.verdict), &j,
					   c.value, pd_gate_threshold(p, m));
		}
		free(bs);
	}
	free(stmts);
	free(obs);
	out->rows = l.rows;
	out->nrows = l.n;
	pd_cmp_set_gate(out, out->gate);
}

void
pd_gate_run_free(struct pd_gate_run *r)
{
	for (int i = 0; i < r->nstmt; i++)
	{
		free(r->stmts[i].fingerprint);
		free(r->stmts[i].query);
	}
	free(r->stmts);
	free(r->int_len);
	free(r->int_tps);
	free(r->int_q);
	memset(r, 0, sizeof(*r));
}
