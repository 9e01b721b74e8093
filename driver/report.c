/*
 * report.c
 *		perfdriver's output and the measurement containers behind it:
 *		progress lines, the human tables and the JSON report.
 *
 * Owns: the wording and layout of everything perfdriver prints but the
 * error lines (util.c), the JSON
 * shape documented in report.h, the malloc sketch allocator, and the
 * bounded SQLSTATE maps.
 *
 * Must not: include libpq-fe.h, or print a password (callers hand it
 * scrubbed connection descriptions only).
 *
 * Memory: pd_stats_* and pd_interval_acc_* own their sketches; the report
 * functions free every temporary before returning.
 */
#include "report.h"
#include "flamerun.h"
#include "advise.h"
#include "affinity.h"
#include "observe.h"
#include "store.h"
#include "targets.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* -------------------------------------------------------------- sketches */

static void *
sk_alloc(size_t size, void *ctx)
{
	(void) ctx;
	return malloc(size);
}

static void
sk_free(void *ptr, void *ctx)
{
	(void) ctx;
	free(ptr);
}

const sketch_allocator pd_sketch_alloc = {sk_alloc, sk_free, NULL};

struct sketch *
pd_sketch_new(void)
{
	struct sketch *s = sketch_create(&pd_sketch_alloc, PD_SKETCH_ALPHA);

	if (s == NULL)
		pd_out_of_memory();
	return s;
}

void
pd_sketch_add(struct sketch **sp, double v)
{
	sketch_error e = sketch_add(sp, v, &pd_sketch_alloc);

	if (e == SKETCH_ENOMEM)
		pd_out_of_memory();
}

void
pd_sketch_merge(struct sketch **dst, const struct sketch *src)
{
	sketch_error e = sketch_merge(dst, src, &pd_sketch_alloc);

	if (e == SKETCH_ENOMEM)
		pd_out_of_memory();
}

static void
sketch_release(struct sketch **sp)
{
	free(*sp);
	*sp = NULL;
}

void
pd_sketch_log_add(struct pd_sketch_log *log, const struct sketch *s)
{
	if (log->n == log->cap)
	{
		log->cap = log->cap ? 2 * log->cap : 64;
		log->data = pd_realloc(log->data, log->cap * sizeof(*log->data));
		log->len = pd_realloc(log->len, log->cap * sizeof(*log->len));
	}
	{
		uint8_t    *buf = pd_malloc(sketch_packed_size(s));
		size_t		len = sketch_pack(s, buf);
		uint8_t    *tight = realloc(buf, len ? len : 1);

		log->data[log->n] = tight ? tight : buf;
		log->len[log->n] = len;
		log->n++;
	}
}

struct sketch *
pd_sketch_log_get(const struct pd_sketch_log *log, int i)
{
	struct sketch *s = NULL;
	char		err[256];

	if (i < 0 || i >= log->n)
		return NULL;
	if (sketch_unpack(log->data[i], log->len[i], &s, &pd_sketch_alloc,
					  err, sizeof(err)) != SKETCH_OK)
		return NULL;			/* cannot happen: we packed it */
	return s;
}

void
pd_sketch_log_free(struct pd_sketch_log *log)
{
	for (int i = 0; i < log->n; i++)
		free(log->data[i]);
	free(log->data);
	free(log->len);
	memset(log, 0, sizeof(*log));
}

/* -------------------------------------------------------------- errmaps */

void
pd_errmap_add(struct pd_errmap *m, const char *code, uint64_t n)
{
	int			i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->code[i], code) == 0)
		{
			m->count[i] += n;
			return;
		}
	if (m->n == PD_ERRMAP_CAP - 1 && strcmp(code, "other") != 0)
	{
		/* the last slot is reserved for everything that does not fit */
		pd_errmap_add(m, "other", n);
		return;
	}
	snprintf(m->code[m->n], sizeof(m->code[m->n]), "%s", code);
	m->count[m->n] = n;
	m->n++;
}

void
pd_errmap_merge(struct pd_errmap *dst, const struct pd_errmap *src)
{
	for (int i = 0; i < src->n; i++)
		pd_errmap_add(dst, src->code[i], src->count[i]);
}

uint64_t
pd_errmap_total(const struct pd_errmap *m)
{
	uint64_t	t = 0;

	for (int i = 0; i < m->n; i++)
		t += m->count[i];
	return t;
}

/* ----------------------------------------------------------------- stats */

void
pd_stats_init(struct pd_stats *s, struct pgb_script *const *scripts,
			  int nscripts)
{
	memset(s, 0, sizeof(*s));
	s->nscripts = nscripts;
	s->scripts = pd_calloc(nscripts, sizeof(*s->scripts));
	for (int i = 0; i < nscripts; i++)
	{
		struct pd_script_stats *ss = &s->scripts[i];

		ss->lat = pd_sketch_new();
		ss->ncommands = scripts[i]->ncommands;
		ss->stmts = pd_calloc(ss->ncommands, sizeof(*ss->stmts));
		for (int k = 0; k < ss->ncommands; k++)
			if (scripts[i]->commands[k].type == PGB_CMD_SQL)
				ss->stmts[k].lat = pd_sketch_new();
	}
	s->lat = pd_sketch_new();
	s->lag = pd_sketch_new();
}

void
pd_stats_merge(struct pd_stats *dst, const struct pd_stats *src)
{
	for (int i = 0; i < src->nscripts; i++)
	{
		struct pd_script_stats *d = &dst->scripts[i];
		const struct pd_script_stats *s = &src->scripts[i];

		d->transactions += s->transactions;
		d->failed += s->failed;
		d->retried += s->retried;
		d->retries += s->retries;
		pd_sketch_merge(&d->lat, s->lat);
		/* every transaction is in its script's sketch only */
		pd_sketch_merge(&dst->lat, s->lat);
		for (int k = 0; k < s->ncommands; k++)
		{
			if (s->stmts[k].lat == NULL)
				continue;
			d->stmts[k].calls += s->stmts[k].calls;
			d->stmts[k].rows += s->stmts[k].rows;
			d->stmts[k].errors += s->stmts[k].errors;
			pd_sketch_merge(&d->stmts[k].lat, s->stmts[k].lat);
		}
	}
	pd_sketch_merge(&dst->lag, src->lag);
	pd_errmap_merge(&dst->errors, &src->errors);
	dst->transactions += src->transactions;
	dst->failed += src->failed;
	dst->reconnects += src->reconnects;
	dst->lost += src->lost;
	dst->aborted_clients += src->aborted_clients;
	dst->skipped += src->skipped;
	dst->late += src->late;
}

void
pd_stats_free(struct pd_stats *s)
{
	if (s->scripts == NULL)
		return;
	for (int i = 0; i < s->nscripts; i++)
	{
		for (int k = 0; k < s->scripts[i].ncommands; k++)
			if (s->scripts[i].stmts[k].lat)
				sketch_release(&s->scripts[i].stmts[k].lat);
		free(s->scripts[i].stmts);
		sketch_release(&s->scripts[i].lat);
	}
	free(s->scripts);
	s->scripts = NULL;
	sketch_release(&s->lat);
	sketch_release(&s->lag);
}

void
pd_interval_acc_init(struct pd_interval_acc *a)
{
	memset(a, 0, sizeof(*a));
	a->lat = pd_sketch_new();
	a->lag = pd_sketch_new();
}

/* Empty a, keeping (and re-initialising) its sketch blocks. */
void
pd_interval_acc_reset(struct pd_interval_acc *a)
{
	a->transactions = a->failed = a->errors = 0;
	sketch_release(&a->lat);
	sketch_release(&a->lag);
	a->lat = pd_sketch_new();
	a->lag = pd_sketch_new();
}

void
pd_interval_acc_free(struct pd_interval_acc *a)
{
	sketch_release(&a->lat);
	sketch_release(&a->lag);
}

void
pd_interval_summarise(const struct pd_interval_acc *a, double t_end_s,
					  double length_s, bool rate, struct pd_interval *out)
{
	sketch_error e;

	out->t_end_s = t_end_s;
	out->length_s = length_s;
	out->transactions = a->transactions;
	out->failed = a->failed;
	out->errors = a->errors;
	out->tps = length_s > 0 ? a->transactions / length_s : 0;
	out->p50 = sketch_quantile(a->lat, 0.50);
	out->p95 = sketch_quantile(a->lat, 0.95);
	out->p99 = sketch_quantile(a->lat, 0.99);
	out->max = a->lat->count ? a->lat->max : NAN;
	out->mean = a->lat->count ? sketch_mean(a->lat, &e) : NAN;
	out->lag_mean = (rate && a->lag->count) ? sketch_mean(a->lag, &e) : NAN;
}

/* --------------------------------------------------------------- helpers */

struct pd_summary
{
	double		p50,
				p95,
				p99,
				p999,
				max,
				mean;
};

static struct pd_summary
summarise(const struct sketch *s)
{
	struct pd_summary r;
	sketch_error e;

	if (s == NULL || s->count == 0)
	{
		r.p50 = r.p95 = r.p99 = r.p999 = r.max = r.mean = NAN;
		return r;
	}
	r.p50 = sketch_quantile(s, 0.50);
	r.p95 = sketch_quantile(s, 0.95);
	r.p99 = sketch_quantile(s, 0.99);
	r.p999 = sketch_quantile(s, 0.999);
	r.max = s->max;
	r.mean = sketch_mean(s, &e);
	return r;
}

/* One statement fingerprint, merged over scripts. */
struct stmt_group
{
	uint64_t	fingerprint;
	const char *query;
	uint64_t	calls;
	uint64_t	rows;
	uint64_t	errors;
	struct sketch *lat;
};

/*
 * group_statements: merge per-command statistics by fingerprint, in order
 * of first appearance.  Returns a malloc'd array (free with
 * free_groups()) and its length in *n.
 */
static struct stmt_group *
group_statements(const struct pd_report *r, int *n)
{
	int			cap = 0;
	struct stmt_group *g;

	for (int i = 0; i < r->nscripts; i++)
		cap += r->scripts[i]->ncommands;
	g = pd_calloc(cap, sizeof(*g));
	*n = 0;
	for (int i = 0; i < r->nscripts; i++)
	{
		const struct pgb_script *sc = r->scripts[i];

		for (int k = 0; k < sc->ncommands; k++)
		{
			const struct pgb_command *cmd = &sc->commands[k];
			const struct pd_stmt_stats *st = &r->stats->scripts[i].stmts[k];
			int			j;

			if (cmd->type != PGB_CMD_SQL)
				continue;
			for (j = 0; j < *n; j++)
				if (g[j].fingerprint == cmd->fingerprint)
					break;
			if (j == *n)
			{
				g[j].fingerprint = cmd->fingerprint;
				g[j].query = cmd->normalized ? cmd->normalized : cmd->sql;
				g[j].lat = pd_sketch_new();
				(*n)++;
			}
			g[j].calls += st->calls;
			g[j].rows += st->rows;
			g[j].errors += st->errors;
			pd_sketch_merge(&g[j].lat, st->lat);
		}
	}
	return g;
}

static void
free_groups(struct stmt_group *g, int n)
{
	for (int i = 0; i < n; i++)
		sketch_release(&g[i].lat);
	free(g);
}

/* ------------------------------------------------------------- progress */

void
report_progress(const struct pd_interval *iv, bool rate)
{
	char		lag[64] = "";

	if (rate && !isnan(iv->lag_mean))
		snprintf(lag, sizeof(lag), ", lag %.3f ms", iv->lag_mean);
	if (iv->transactions > 0)
		fprintf(stderr, "progress: %.1f s, %.1f tps, p50 %.3f ms, p95 %.3f ms%s, %llu failed, %llu errors\n",
				iv->t_end_s, iv->tps, iv->p50, iv->p95, lag,
				(unsigned long long) iv->failed,
				(unsigned long long) iv->errors);
	else
		fprintf(stderr, "progress: %.1f s, 0.0 tps, p95 - ms%s, %llu failed, %llu errors\n",
				iv->t_end_s, lag, (unsigned long long) iv->failed,
				(unsigned long long) iv->errors);
}

/* ---------------------------------------------------------- human tables */

#define MAXCOLS 12

/*
 * A small table printer: cells are collected as strings, then printed with
 * every column as wide as its widest cell; numeric columns align right.
 */
struct table
{
	int			ncols;
	int			nrows;
	int			caprows;
	bool		left[MAXCOLS];
	char	  **cells;			/* nrows * ncols, row 0 is the header */
};

static void
table_init(struct table *t, int ncols, const char *const *headers,
		   const bool *left)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->caprows = 8;
	t->cells = pd_calloc(t->caprows * ncols, sizeof(char *));
	for (int c = 0; c < ncols; c++)
	{
		t->left[c] = left[c];
		t->cells[c] = pd_strdup(headers[c]);
	}
	t->nrows = 1;
}

static void
table_row(struct table *t, const char *const *vals)
{
	if (t->nrows == t->caprows)
	{
		t->caprows *= 2;
		t->cells = pd_realloc(t->cells, t->caprows * t->ncols * sizeof(char *));
	}
	for (int c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = pd_strdup(vals[c]);
	t->nrows++;
}

static void
table_print(FILE *out, struct table *t, const char *indent)
{
	int			w[MAXCOLS] = {0};

	for (int r = 0; r < t->nrows; r++)
		for (int c = 0; c < t->ncols; c++)
		{
			int			len = (int) strlen(t->cells[r * t->ncols + c]);

			if (len > w[c])
				w[c] = len;
		}
	for (int r = 0; r < t->nrows; r++)
	{
		fputs(indent, out);
		for (int c = 0; c < t->ncols; c++)
		{
			const char *cell = t->cells[r * t->ncols + c];
			bool		last = c == t->ncols - 1;

			if (t->left[c])
				fprintf(out, "%-*s", last ? 0 : w[c], cell);
			else
				fprintf(out, "%*s", w[c], cell);
			if (!last)
				fputs("  ", out);
		}
		fputc('\n', out);
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* any_bound: true when --cpu-affinity bound at least one thread. */
static bool
any_bound(const struct pd_report *r)
{
	if (r->thread_cpus == NULL)
		return false;
	for (int i = 0; i < r->threads; i++)
		if (r->thread_cpus[i] >= 0)
			return true;
	return false;
}

static void
fmt_ms(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v >= 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.3f", v);
}

static void
fmt_u64(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%llu", (unsigned long long) v);
}

/* Query text on one line, at most max bytes, for the human table. */
static void
fmt_query(char *buf, size_t len, const char *q, size_t max)
{
	size_t		o = 0;
	bool		space = false;

	if (max + 4 > len)
		max = len - 4;
	for (const char *p = q; *p && o < max; p++)
	{
		if (*p == '\n' || *p == '\t' || *p == ' ' || *p == '\r')
		{
			space = o > 0;
			continue;
		}
		if (space && o < max)
			buf[o++] = ' ';
		space = false;
		if (o < max)
			buf[o++] = *p;
	}
	if (strlen(q) > max && o >= max)
	{
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
}

/* Statements too long for a table cell, listed in full below the table. */
struct stmt_notes
{
	int			n;
	const char **q;				/* capacity: the table's rows */
};

/*
 * The note number (from 1) of query q, added when new.  Callers print it
 * as an unsigned short: a table has far fewer statements than that.
 */
static int
statement_note(struct stmt_notes *notes, const char *q)
{
	for (int i = 0; i < notes->n; i++)
		if (strcmp(notes->q[i], q) == 0)
			return i + 1;
	notes->q[notes->n++] = q;
	return notes->n;
}

/* "[N] full normalized text", one per note, whitespace runs folded. */
static void
print_statement_notes(FILE *out, const struct stmt_notes *notes)
{
	for (int i = 0; i < notes->n; i++)
	{
		size_t		len = strlen(notes->q[i]) + 1;
		char	   *buf = pd_calloc(len + 4, 1);

		fmt_query(buf, len + 4, notes->q[i], len);
		fprintf(out, "  [%d] %s\n", i + 1, buf);
		free(buf);
	}
}

/*
 * print_rate_note: with -R, say so when the started transactions fell
 * short of the target rate by more than 5% and by more than three Poisson
 * standard deviations (a short run's arrivals vary on their own).
 */
static void
print_rate_note(FILE *out, const struct pd_report *r)
{
	const struct pd_stats *s = r->stats;
	double		expected = r->rate * r->duration_s;
	double		started = (double) (s->transactions + s->failed);

	if (r->rate <= 0 || r->duration_s <= 0 || expected <= 0)
		return;
	if (started < 0.95 * expected && expected - started > 3 * sqrt(expected))
		fprintf(out, "\nnote: the achieved rate, %.1f tps, fell short of the target -R %.1f (%.0f%%): "
				"the server or the driver could not keep up, and the latencies include the "
				"schedule lag\n", started / r->duration_s, r->rate,
				100.0 * started / expected);
}

void
report_print(FILE *out, const struct pd_report *r)
{
	const struct pd_stats *s = r->stats;
	struct pd_summary all = summarise(s->lat);
	uint64_t	total = s->transactions + s->failed;
	char		b[MAXCOLS][64];
	const char *v[MAXCOLS];
	struct table t;
	struct stmt_group *g;
	int			ng;
	struct stmt_notes notes = {0, NULL};

	for (int i = 0; i < MAXCOLS; i++)
		v[i] = b[i];

	fprintf(out, "perfdriver run%s\n", r->interrupted ? " (interrupted)" : "");
	fprintf(out, "  target:        %s\n", r->target);
	fprintf(out, "  clients:       %d over %d thread%s", r->clients,
			r->threads, r->threads == 1 ? "" : "s");
	if (any_bound(r))
	{
		char		cpus[128];

		fprintf(out, " on CPU%s %s", r->threads == 1 ? "" : "s",
				pd_affinity_describe(r->thread_cpus, r->threads, cpus, sizeof(cpus)));
	}
	fprintf(out, ", protocol %s", r->protocol);
	if (r->rate > 0)
		fprintf(out, ", rate %.1f tps (open loop)", r->rate);
	fprintf(out, "\n");
	fprintf(out, "  connect time:  %.3f ms for %d connections\n", r->connect_ms,
			r->clients);
	fprintf(out, "  duration:      %.3f s\n", r->duration_s);
	fprintf(out, "  transactions:  %llu committed, %llu failed (%.3f%%)\n",
			(unsigned long long) s->transactions, (unsigned long long) s->failed,
			total ? 100.0 * s->failed / total : 0.0);
	fprintf(out, "  tps:           %.3f\n",
			r->duration_s > 0 ? s->transactions / r->duration_s : 0.0);
	fprintf(out, "  reconnects:    %llu (connections lost: %llu)\n",
			(unsigned long long) s->reconnects, (unsigned long long) s->lost);
	if (s->aborted_clients)
		fprintf(out, "  aborted:       %llu of %d clients (an error that is not retryable, a script error, or no reconnect)\n",
				(unsigned long long) s->aborted_clients, r->clients);
	if (r->latency_limit_ms > 0)
	{
		uint64_t	all = s->transactions + s->skipped;

		if (r->rate > 0)
			fprintf(out, "  skipped:       %llu (%.3f%%): would have started more than %.1f ms late\n",
					(unsigned long long) s->skipped, all ? 100.0 * s->skipped / all : 0.0,
					r->latency_limit_ms);
		fprintf(out, "  above -L:      %llu of %llu committed above the %.1f ms latency limit (%.3f%%)\n",
				(unsigned long long) s->late, (unsigned long long) s->transactions,
				r->latency_limit_ms, s->transactions ? 100.0 * s->late / s->transactions : 0.0);
	}

	{
		static const char *const h[] = {"latency ms", "p50", "p95", "p99", "p99.9", "max", "mean"};
		static const bool l[] = {true, false, false, false, false, false, false};

		fprintf(out, "\n");
		table_init(&t, 7, h, l);
		snprintf(b[0], 64, "transactions");
		fmt_ms(b[1], 64, all.p50);
		fmt_ms(b[2], 64, all.p95);
		fmt_ms(b[3], 64, all.p99);
		fmt_ms(b[4], 64, all.p999);
		fmt_ms(b[5], 64, all.max);
		fmt_ms(b[6], 64, all.mean);
		table_row(&t, v);
		if (r->rate > 0)
		{
			struct pd_summary lag = summarise(s->lag);

			snprintf(b[0], 64, "schedule lag");
			fmt_ms(b[1], 64, lag.p50);
			fmt_ms(b[2], 64, lag.p95);
			fmt_ms(b[3], 64, lag.p99);
			fmt_ms(b[4], 64, lag.p999);
			fmt_ms(b[5], 64, lag.max);
			fmt_ms(b[6], 64, lag.mean);
			table_row(&t, v);
		}
		table_print(out, &t, "  ");
	}

	if (s->errors.n > 0)
	{
		static const char *const h[] = {"SQLSTATE", "errors"};
		static const bool l[] = {true, false};

		fprintf(out, "\n");
		table_init(&t, 2, h, l);
		for (int i = 0; i < s->errors.n; i++)
		{
			snprintf(b[0], 64, "%s", s->errors.code[i]);
			fmt_u64(b[1], 64, s->errors.count[i]);
			table_row(&t, v);
		}
		table_print(out, &t, "  ");
	}

	{
		static const char *const h[] = {"script", "weight", "committed", "failed", "retried", "tps", "p50", "p95", "p99", "p99.9", "max", "mean"};
		static const bool l[] = {true, false, false, false, false, false, false, false, false, false, false, false};

		fprintf(out, "\n");
		table_init(&t, 12, h, l);
		for (int i = 0; i < r->nscripts; i++)
		{
			const struct pd_script_stats *ss = &s->scripts[i];
			struct pd_summary q = summarise(ss->lat);

			snprintf(b[0], 64, "%.63s", r->scripts[i]->name);
			snprintf(b[1], 64, "%d", r->scripts[i]->weight);
			fmt_u64(b[2], 64, ss->transactions);
			fmt_u64(b[3], 64, ss->failed);
			fmt_u64(b[4], 64, ss->retried);
			snprintf(b[5], 64, "%.1f", r->duration_s > 0 ? ss->transactions / r->duration_s : 0.0);
			fmt_ms(b[6], 64, q.p50);
			fmt_ms(b[7], 64, q.p95);
			fmt_ms(b[8], 64, q.p99);
			fmt_ms(b[9], 64, q.p999);
			fmt_ms(b[10], 64, q.max);
			fmt_ms(b[11], 64, q.mean);
			table_row(&t, v);
		}
		table_print(out, &t, "  ");
	}

	g = group_statements(r, &ng);
	notes.q = pd_calloc(ng + 1, sizeof(char *));
	if (ng > 0)
	{
		static const char *const h[] = {"calls", "rows", "errors", "p50", "p95", "p99", "p99.9", "max", "mean", "statement"};
		static const bool l[] = {false, false, false, false, false, false, false, false, false, true};

		fprintf(out, "\n");
		table_init(&t, 10, h, l);
		for (int i = 0; i < ng; i++)
		{
			struct pd_summary q = summarise(g[i].lat);

			fmt_u64(b[0], 64, g[i].calls);
			fmt_u64(b[1], 64, g[i].rows);
			fmt_u64(b[2], 64, g[i].errors);
			fmt_ms(b[3], 64, q.p50);
			fmt_ms(b[4], 64, q.p95);
			fmt_ms(b[5], 64, q.p99);
			fmt_ms(b[6], 64, q.p999);
			fmt_ms(b[7], 64, q.max);
			fmt_ms(b[8], 64, q.mean);
			if (strlen(g[i].query) <= 56)
				fmt_query(b[9], 64, g[i].query, 56);
			else
			{
				/* the full text follows the table, so no WHERE clause is lost */
				char		tmp[64];

				fmt_query(tmp, sizeof(tmp), g[i].query, 48);
				snprintf(b[9], 64, "[%hu] %.52s", (unsigned short) statement_note(&notes, g[i].query), tmp);
			}
			table_row(&t, v);
		}
		table_print(out, &t, "  ");
		print_statement_notes(out, &notes);
	}
	free(notes.q);
	free_groups(g, ng);
	if (r->nplus1 != NULL)
	{
		fprintf(out, "\n");
		nplus1_print(out, r->nplus1, 0, "  ");
	}
	pd_flame_run_print(out, r->flame);
	print_rate_note(out, r);
	if (r->assertions != NULL)
		pd_assert_print(out, r->assertions);
	if (r->observe != NULL)
		pd_observe_print(out, r->observe);
	if (r->advice != NULL && r->advice->ran)
		pd_advice_print(out, r->advice);
	fflush(out);
}

/* ------------------------------------------------------------------ JSON */

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", f);
				break;
			case '\\':
				fputs("\\\\", f);
				break;
			case '\n':
				fputs("\\n", f);
				break;
			case '\r':
				fputs("\\r", f);
				break;
			case '\t':
				fputs("\\t", f);
				break;
			default:
				if (*p < 0x20)
					fprintf(f, "\\u%04x", *p);
				else
					fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void
json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6f", v);
}

/* [0, 1] with null for a thread not bound, or null when none is. */
static void
json_thread_cpus(FILE *f, const struct pd_report *r)
{
	if (!any_bound(r))
	{
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (int i = 0; i < r->threads; i++)
	{
		if (r->thread_cpus[i] >= 0)
			fprintf(f, "%s%d", i ? ", " : "", r->thread_cpus[i]);
		else
			fprintf(f, "%snull", i ? ", " : "");
	}
	fputc(']', f);
}

static void
json_latency(FILE *f, const struct pd_summary *q, bool p999)
{
	fputs("{\"p50\": ", f);
	json_num(f, q->p50);
	fputs(", \"p95\": ", f);
	json_num(f, q->p95);
	fputs(", \"p99\": ", f);
	json_num(f, q->p99);
	if (p999)
	{
		fputs(", \"p999\": ", f);
		json_num(f, q->p999);
	}
	fputs(", \"max\": ", f);
	json_num(f, q->max);
	fputs(", \"mean\": ", f);
	json_num(f, q->mean);
	fputs("}", f);
}

/* Write s's text form as a JSON string. */
static void
json_sketch(FILE *f, const struct sketch *s)
{
	char	   *text = pd_malloc(sketch_text_size(s));

	sketch_to_text(s, text);
	json_string(f, text);
	free(text);
}

void
report_format_timestamp(double epoch_s, char *buf, size_t len)
{
	time_t		sec = (time_t) floor(epoch_s);
	long		usec = lround((epoch_s - (double) sec) * 1e6);
	struct tm	tm;
	char		day[32];

	if (usec >= 1000000)
	{
		sec++;
		usec -= 1000000;
	}
	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06ld+00:00", day, usec);
}

/* The run's settings, for bench_runs.config. */
static void
json_config(FILE *f, const struct pd_report *r, const struct pd_run_meta *m)
{
	fprintf(f, "{\"target\": ");
	json_string(f, r->target ? r->target : "");
	fprintf(f, ", \"clients\": %d, \"threads\": %d, \"protocol\": ", r->clients,
			r->threads);
	json_string(f, r->protocol);
	fprintf(f, ", \"thread_cpus\": ");
	json_thread_cpus(f, r);
	fprintf(f, ", \"scripts\": [");
	for (int i = 0; i < r->nscripts; i++)
	{
		fprintf(f, "%s{\"name\": ", i ? ", " : "");
		json_string(f, r->scripts[i]->name);
		fprintf(f, ", \"weight\": %d}", r->scripts[i]->weight);
	}
	fprintf(f, "]");
	if (m->duration_opt_s > 0)
	{
		fprintf(f, ", \"duration_s\": ");
		json_num(f, m->duration_opt_s);
	}
	if (m->transactions_opt > 0)
		fprintf(f, ", \"transactions_per_client\": %lld",
				(long long) m->transactions_opt);
	fprintf(f, ", \"rate\": ");
	if (r->rate > 0)
		json_num(f, r->rate);
	else
		fprintf(f, "null");
	fprintf(f, ", \"max_tries\": %d, \"scale\": %lld, \"random_seed\": \"%llu\"",
			r->max_tries, (long long) m->scale, (unsigned long long) m->seed);
	if (m->progress_s > 0)
	{
		fprintf(f, ", \"progress_s\": ");
		json_num(f, m->progress_s);
	}
	fprintf(f, "}");
}

/* The fields of a stored run beyond the report (see report.h). */
static void
json_meta(FILE *f, const struct pd_report *r, const struct pd_run_meta *m)
{
	char		ts[64];

	fprintf(f, ",\n  \"name\": ");
	json_string(f, m->name);
	fprintf(f, ",\n  \"run_group\": ");
	if (m->run_group)
		json_string(f, m->run_group);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"labels\": {");
	for (int i = 0; i < m->nlabels; i++)
	{
		fprintf(f, "%s", i ? ", " : "");
		json_string(f, m->labels[i].key);
		fprintf(f, ": ");
		json_string(f, m->labels[i].value);
	}
	fprintf(f, "}");
	fprintf(f, ",\n  \"config\": ");
	json_config(f, r, m);
	report_format_timestamp(m->started_at, ts, sizeof(ts));
	fprintf(f, ",\n  \"started_at\": \"%s\"", ts);
	report_format_timestamp(m->finished_at, ts, sizeof(ts));
	fprintf(f, ",\n  \"finished_at\": \"%s\"", ts);
	fprintf(f, ",\n  \"host\": ");
	json_string(f, m->host ? m->host : "");
	fprintf(f, ",\n  \"latency_sketch\": ");
	json_sketch(f, r->stats->lat);
}

/*
 * json_report: write the JSON report to f.  Returns false (errno set) when
 * writing failed.
 */
static bool
json_report(FILE *f, const struct pd_report *r)
{
	const struct pd_stats *s = r->stats;
	const struct pd_run_meta *m = r->meta;
	struct pd_summary q;
	struct stmt_group *g;
	int			ng;

	fprintf(f, "{\n  \"tps\": ");
	json_num(f, r->duration_s > 0 ? s->transactions / r->duration_s : 0.0);
	fprintf(f, ",\n  \"transactions\": %llu", (unsigned long long) s->transactions);
	fprintf(f, ",\n  \"failed_transactions\": %llu", (unsigned long long) s->failed);
	{
		uint64_t	retried = 0,
					retries = 0;

		for (int i = 0; i < s->nscripts; i++)
		{
			retried += s->scripts[i].retried;
			retries += s->scripts[i].retries;
		}
		fprintf(f, ",\n  \"retried_transactions\": %llu, \"retries\": %llu",
				(unsigned long long) retried, (unsigned long long) retries);
	}
	fprintf(f, ",\n  \"duration_s\": ");
	json_num(f, r->duration_s);
	fprintf(f, ",\n  \"latency_ms\": ");
	q = summarise(s->lat);
	json_latency(f, &q, true);

	fprintf(f, ",\n  \"errors\": {");
	for (int i = 0; i < s->errors.n; i++)
	{
		fprintf(f, "%s", i ? ", " : "");
		json_string(f, s->errors.code[i]);
		fprintf(f, ": %llu", (unsigned long long) s->errors.count[i]);
	}
	fprintf(f, "}");

	fprintf(f, ",\n  \"statements\": [");
	g = group_statements(r, &ng);
	for (int i = 0; i < ng; i++)
	{
		fprintf(f, "%s\n    {\"query\": ", i ? "," : "");
		json_string(f, g[i].query);
		fprintf(f, ", \"fingerprint\": \"%016llx\", \"calls\": %llu, \"rows\": %llu, \"errors\": %llu, \"latency_ms\": ",
				(unsigned long long) g[i].fingerprint,
				(unsigned long long) g[i].calls, (unsigned long long) g[i].rows,
				(unsigned long long) g[i].errors);
		q = summarise(g[i].lat);
		json_latency(f, &q, true);
		if (m != NULL)
		{
			fprintf(f, ", \"latency_sketch\": ");
			json_sketch(f, g[i].lat);
		}
		if (r->observe != NULL)
			pd_observe_json_statement(f, r->observe, g[i].fingerprint, q.mean);
		fprintf(f, "}");
	}
	free_groups(g, ng);
	fprintf(f, "%s]", ng ? "\n  " : "");

	fprintf(f, ",\n  \"scripts\": [");
	for (int i = 0; i < r->nscripts; i++)
	{
		const struct pd_script_stats *ss = &s->scripts[i];

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_string(f, r->scripts[i]->name);
		fprintf(f, ", \"weight\": %d, \"transactions\": %llu, \"failed\": %llu, \"retried\": %llu, \"tps\": ",
				r->scripts[i]->weight, (unsigned long long) ss->transactions,
				(unsigned long long) ss->failed, (unsigned long long) ss->retried);
		json_num(f, r->duration_s > 0 ? ss->transactions / r->duration_s : 0.0);
		fprintf(f, ", \"latency_ms\": ");
		q = summarise(ss->lat);
		json_latency(f, &q, true);
		fprintf(f, "}");
	}
	fprintf(f, "%s]", r->nscripts ? "\n  " : "");

	fprintf(f, ",\n  \"intervals\": [");
	for (int i = 0; i < r->nintervals; i++)
	{
		const struct pd_interval *iv = &r->intervals[i];
		struct pd_summary iq = {iv->p50, iv->p95, iv->p99, NAN, iv->max, iv->mean};

		fprintf(f, "%s\n    {\"t_s\": ", i ? "," : "");
		json_num(f, iv->t_end_s);
		fprintf(f, ", \"length_s\": ");
		json_num(f, iv->length_s);
		fprintf(f, ", \"tps\": ");
		json_num(f, iv->tps);
		fprintf(f, ", \"transactions\": %llu, \"failed\": %llu, \"errors\": %llu, \"latency_ms\": ",
				(unsigned long long) iv->transactions,
				(unsigned long long) iv->failed, (unsigned long long) iv->errors);
		json_latency(f, &iq, false);
		if (r->rate > 0)
		{
			fprintf(f, ", \"schedule_lag_mean_ms\": ");
			json_num(f, iv->lag_mean);
		}
		if (m != NULL)
		{
			struct sketch *sk = m->interval_sketches
				? pd_sketch_log_get(m->interval_sketches, i) : NULL;
			char		ts[64];

			report_format_timestamp(m->started_at + iv->t_end_s - iv->length_s,
									ts, sizeof(ts));
			fprintf(f, ", \"started_at\": \"%s\"", ts);
			if (sk != NULL)
			{
				fprintf(f, ", \"latency_sketch\": ");
				json_sketch(f, sk);
				free(sk);
			}
		}
		fprintf(f, "}");
	}
	fprintf(f, "%s]", r->nintervals ? "\n  " : "");

	fprintf(f, ",\n  \"nplus1_findings\": ");
	if (r->nplus1 != NULL)
		nplus1_write_json(f, r->nplus1, 0, "  ");
	else
		fprintf(f, "[]");
	if (r->observe != NULL)
		pd_observe_json_top(f, r->observe);
	if (r->advice != NULL && r->advice->ran)
		pd_advice_json(f, r->advice);
	fprintf(f, ",\n  \"connect_time_ms\": ");
	json_num(f, r->connect_ms);
	fprintf(f, ",\n  \"reconnects\": %llu", (unsigned long long) s->reconnects);
	fprintf(f, ",\n  \"connections_lost\": %llu", (unsigned long long) s->lost);
	fprintf(f, ",\n  \"aborted_clients\": %llu", (unsigned long long) s->aborted_clients);
	if (r->latency_limit_ms > 0)
	{
		fprintf(f, ",\n  \"latency_limit_ms\": ");
		json_num(f, r->latency_limit_ms);
		fprintf(f, ", \"skipped_transactions\": %llu, \"late_transactions\": %llu",
				(unsigned long long) s->skipped, (unsigned long long) s->late);
	}
	fprintf(f, ",\n  \"clients\": %d, \"threads\": %d, \"protocol\": ", r->clients, r->threads);
	json_string(f, r->protocol);
	fprintf(f, ", \"thread_cpus\": ");
	json_thread_cpus(f, r);
	fprintf(f, ", \"max_tries\": %d, \"interrupted\": %s", r->max_tries,
			r->interrupted ? "true" : "false");
	if (r->rate > 0)
	{
		fprintf(f, ",\n  \"rate\": ");
		json_num(f, r->rate);
		fprintf(f, ",\n  \"schedule_lag_ms\": ");
		q = summarise(s->lag);
		json_latency(f, &q, true);
	}
	if (r->flame != NULL)
	{
		fprintf(f, ",\n  \"flamegraph\": ");
		pd_flame_run_json(f, r->flame, m != NULL);
	}
	if (r->assertions != NULL)
	{
		char	   *txt = pd_assert_json_text(r->assertions);

		fprintf(f, ",\n  \"assertions\": %s", txt ? txt : "[]");
		free(txt);
	}
	if (m != NULL)
		json_meta(f, r, m);
	fprintf(f, "\n}\n");
	return !ferror(f);
}

char *
report_json(const struct pd_report *r, size_t *len)
{
	char	   *buf = NULL;
	size_t		size = 0;
	FILE	   *f = open_memstream(&buf, &size);

	if (f == NULL)
		pd_out_of_memory();
	if (!json_report(f, r) || fclose(f) != 0)
		pd_out_of_memory();
	if (len)
		*len = size;
	return buf;
}

bool
report_write_json(const char *path, const struct pd_report *r, char *err,
				  size_t errlen)
{
	size_t		len;
	char	   *doc = report_json(r, &len);
	FILE	   *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	bool		ok;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path,
				 strerror(errno));
		free(doc);
		return false;
	}
	ok = fwrite(doc, 1, len, f) == len;
	ok = !ferror(f) && ok;
	if (f != stdout)
		ok = (fclose(f) == 0) && ok;
	else
		fflush(f);
	if (!ok)
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
	free(doc);
	return ok;
}

/* ------------------------------------------------------------ comparison */

/* A metric's value for the comparison table. */
static void
fmt_metric(char *buf, size_t len, const char *metric, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (metric != NULL && strcmp(metric, "tps") == 0)
		snprintf(buf, len, "%.1f", v);
	else if (metric != NULL && strcmp(metric, "error_rate") == 0)
		snprintf(buf, len, "%.4f", v);
	else
		fmt_ms(buf, len, v);
}

static void
fmt_pct(char *buf, size_t len, double v, bool sign)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, sign ? "%+.1f%%" : "%.1f%%", 100.0 * v);
}

/* Short metric names for the header, in the order of PD_CMP_METRICS. */
static const char *const cmp_short[PD_GATE_NMETRICS] = {"tps", "p50", "p95", "p99", "error_rate"};

/* Severity rank of a row: gated regressions first, unchanged last. */
static int
cmp_rank(const struct pd_cmp *c, const struct pd_cmp_row *r)
{
	const char *v = r->verdict ? r->verdict : "";

	if (pd_cmp_gated(c, r))
		return 0;
	if (strcmp(v, "regression") == 0)
		return 1;
	if (strcmp(v, "new") == 0 || strcmp(v, "gone") == 0)
		return 2;
	if (strcmp(v, "improvement") == 0)
		return 3;
	return 4;
}

static const struct pd_cmp *cmp_sorting;

/* qsort on row indexes: by rank, then severity (worst first), then position. */
static int
cmp_severity(const void *a, const void *b)
{
	int			i = *(const int *) a;
	int			j = *(const int *) b;
	const struct pd_cmp_row *x = &cmp_sorting->rows[i];
	const struct pd_cmp_row *y = &cmp_sorting->rows[j];
	int			rx = cmp_rank(cmp_sorting, x);
	int			ry = cmp_rank(cmp_sorting, y);

	if (rx != ry)
		return rx - ry;
	if (rx <= 1 && x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return i - j;
}

/* The header: what was compared, with how many runs, and by which rules. */
static void
print_comparison_header(FILE *out, const struct pd_cmp *c)
{
	bool		same = true;

	if (c->last_n > 0)
	{
		fprintf(out, "comparison: run %lld against the median of %d run%s named \"%s\"",
				(long long) c->candidate, c->nbase, c->nbase == 1 ? "" : "s",
				c->name ? c->name : "?");
		if (c->nbase < c->last_n)
			fprintf(out, " (%d asked for, %d found)", c->last_n, c->nbase);
		fprintf(out, "\n");
		fprintf(out, "baseline:   run%s", c->nbase == 1 ? "" : "s");
		for (int i = 0; i < c->nbase && c->base_ids; i++)
			fprintf(out, "%s %lld", i ? "," : "", (long long) c->base_ids[i]);
		if (c->nbase >= 3)
		{
			fprintf(out, "; run-to-run noise (sd / median):");
			for (int m = 0; m < PD_GATE_NMETRICS; m++)
			{
				if (m == PD_GATE_ERROR_RATE)
					continue;
				if (isnan(c->run_sd[m]))
					fprintf(out, " %s -", cmp_short[m]);
				else
					fprintf(out, " %s %.1f%%", cmp_short[m], 100.0 * c->run_sd[m]);
			}
			fprintf(out, "\n");
		}
		else
			fprintf(out, "; too few for a run-to-run noise estimate (3 needed): within-run noise only\n");
	}
	else
		fprintf(out, "comparison: run %lld against run %lld (within-run noise only)\n",
				(long long) c->candidate, (long long) c->baseline);
	for (int m = 1; m < PD_GATE_NMETRICS; m++)
		same = same && c->thresholds[m] == c->thresholds[0];
	fprintf(out, "gate:       threshold");
	if (same)
		fprintf(out, " %.1f%%", 100.0 * c->thresholds[0]);
	else
		for (int m = 0; m < PD_GATE_NMETRICS; m++)
			fprintf(out, "%s %s %.1f%%", m ? "," : "", cmp_short[m], 100.0 * c->thresholds[m]);
	fprintf(out, "; min change %.3g ms; scope %s%s%s\n", c->min_change_ms,
			c->gate_scope == PD_GATE_SCOPE_RUN ? "run"
			: c->gate_scope == PD_GATE_SCOPE_STATEMENTS ? "statements" : "all",
			c->gate ? "; metrics " : "", c->gate ? c->gate : "");
}

void
report_print_comparison(FILE *out, const struct pd_cmp *c)
{
	static const char *const h[] = {"metric", "baseline", "candidate", "change", "noise", "verdict", "statement"};
	static const bool l[] = {true, false, false, false, false, true, true};
	char		b[7][64];
	const char *v[7];
	struct table t;
	int		   *order = pd_calloc(c->nrows + 1, sizeof(int));
	struct stmt_notes notes = {0, pd_calloc(c->nrows + 1, sizeof(char *))};

	for (int i = 0; i < 7; i++)
		v[i] = b[i];
	print_comparison_header(out, c);
	for (int i = 0; i < c->nrows; i++)
		order[i] = i;
	cmp_sorting = c;
	qsort(order, (size_t) c->nrows, sizeof(int), cmp_severity);
	cmp_sorting = NULL;
	table_init(&t, 7, h, l);
	for (int k = 0; k < c->nrows; k++)
	{
		const struct pd_cmp_row *r = &c->rows[order[k]];
		const char *q = r->query ? r->query : (r->fingerprint ? r->fingerprint : "?");

		snprintf(b[0], 64, "%.63s", r->metric ? r->metric : "-");
		fmt_metric(b[1], 64, r->metric, r->baseline);
		fmt_metric(b[2], 64, r->metric, r->candidate);
		fmt_pct(b[3], 64, r->change, true);
		fmt_pct(b[4], 64, r->noise, false);
		snprintf(b[5], 64, "%.63s", r->verdict ? r->verdict : "-");
		if (r->scope != NULL && strcmp(r->scope, "run") == 0)
			snprintf(b[6], 64, "(whole run)");
		else if (strlen(q) <= 56)
			snprintf(b[6], 64, "%s", q);
		else
		{
			/* the full text follows the table, so no WHERE clause is lost */
			char		tmp[64];

			fmt_query(tmp, sizeof(tmp), q, 48);
			snprintf(b[6], 64, "[%hu] %.52s", (unsigned short) statement_note(&notes, q), tmp);
		}
		table_row(&t, v);
	}
	table_print(out, &t, "  ");
	print_statement_notes(out, &notes);
	if (c->regressions == 0)
		fprintf(out, "  no regression");
	else
		fprintf(out, "  %d regression%s", c->regressions,
				c->regressions == 1 ? "" : "s");
	if (c->gate != NULL || c->gate_scope != PD_GATE_SCOPE_ALL)
		fprintf(out, " (counting %s%s%s only)", c->gate ? c->gate : "",
				c->gate && c->gate_scope != PD_GATE_SCOPE_ALL ? " of " : "",
				c->gate_scope == PD_GATE_SCOPE_RUN ? "the whole run"
				: c->gate_scope == PD_GATE_SCOPE_STATEMENTS ? "statements" : "");
	fprintf(out, "\n");
	free(order);
	free(notes.q);
	fflush(out);
}

bool
report_write_comparison_json(const char *path, const struct pd_cmp *c,
							 char *err, size_t errlen)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	bool		ok;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path,
				 strerror(errno));
		return false;
	}
	fprintf(f, "{\n  \"candidate\": %lld,\n  \"baseline\": ", (long long) c->candidate);
	if (c->last_n > 0)
		fprintf(f, "null,\n  \"history\": %d", c->last_n);
	else
		fprintf(f, "%lld,\n  \"history\": null", (long long) c->baseline);
	fprintf(f, ",\n  \"name\": ");
	if (c->name)
		json_string(f, c->name);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"threshold\": ");
	json_num(f, c->threshold);
	fprintf(f, ",\n  \"thresholds\": {");
	for (int m = 0; m < PD_GATE_NMETRICS; m++)
	{
		static const char *const names[] = {"tps", "p50_ms", "p95_ms", "p99_ms", "error_rate"};

		fprintf(f, "%s\"%s\": ", m ? ", " : "", names[m]);
		json_num(f, c->thresholds[m]);
	}
	fprintf(f, "},\n  \"min_change_ms\": ");
	json_num(f, c->min_change_ms);
	fprintf(f, ",\n  \"gate_scope\": \"%s\"",
			c->gate_scope == PD_GATE_SCOPE_RUN ? "run"
			: c->gate_scope == PD_GATE_SCOPE_STATEMENTS ? "statements" : "all");
	fprintf(f, ",\n  \"baseline_runs\": [");
	for (int i = 0; i < c->nbase && c->base_ids; i++)
		fprintf(f, "%s%lld", i ? ", " : "", (long long) c->base_ids[i]);
	fprintf(f, "],\n  \"run_to_run_noise\": {");
	for (int m = 0; m < PD_GATE_NMETRICS; m++)
	{
		static const char *const names[] = {"tps", "p50_ms", "p95_ms", "p99_ms", "error_rate"};

		fprintf(f, "%s\"%s\": ", m ? ", " : "", names[m]);
		json_num(f, c->run_sd[m]);
	}
	fprintf(f, "}");
	if (c->assertions != NULL)
	{
		char	   *txt = pd_assert_json_text(c->assertions);

		fprintf(f, ",\n  \"assertions\": %s", txt ? txt : "[]");
		free(txt);
	}
	fprintf(f, ",\n  \"regressions\": %d,\n  \"rows\": [", c->regressions);
	for (int i = 0; i < c->nrows; i++)
	{
		const struct pd_cmp_row *r = &c->rows[i];
		const char *const strs[] = {r->scope, r->fingerprint, r->query, r->metric};
		const char *const names[] = {"scope", "fingerprint", "query", "metric"};
		const double nums[] = {r->baseline, r->candidate, r->change, r->spread};
		const char *const nnames[] = {"baseline", "candidate", "change", "spread"};

		fprintf(f, "%s\n    {", i ? "," : "");
		for (int k = 0; k < 4; k++)
		{
			fprintf(f, "%s\"%s\": ", k ? ", " : "", names[k]);
			if (strs[k])
				json_string(f, strs[k]);
			else
				fprintf(f, "null");
		}
		for (int k = 0; k < 4; k++)
		{
			fprintf(f, ", \"%s\": ", nnames[k]);
			json_num(f, nums[k]);
		}
		fprintf(f, ", \"verdict\": ");
		if (r->verdict)
			json_string(f, r->verdict);
		else
			fprintf(f, "null");
		fprintf(f, ", \"noise\": ");
		json_num(f, r->noise);
		fprintf(f, ", \"threshold\": ");
		json_num(f, r->threshold);
		fprintf(f, ", \"severity\": ");
		json_num(f, r->severity);
		fprintf(f, ", \"baseline_runs\": %d, \"counts\": %s}", r->nbase,
				pd_cmp_gated(c, r) ? "true" : "false");
	}
	fprintf(f, "%s]\n}\n", c->nrows ? "\n  " : "");
	ok = !ferror(f);
	if (f != stdout)
		ok = (fclose(f) == 0) && ok;
	else
		fflush(f);
	if (!ok)
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
	return ok;
}
