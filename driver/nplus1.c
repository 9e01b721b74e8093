/*
 * nplus1.c
 *		N+1 query detection: per-unit runs of a fingerprint after a source
 *		statement, judged when the unit ends and aggregated per pattern.
 *
 * Owns: the detection rules (documented in nplus1.h and docs/nplus1.md),
 * the pattern table, the suggested batched form and the findings' human
 * and JSON output, so that "run" and "analyze" report them identically.
 *
 * Must not: talk to libpq, parse SQL beyond the suggestion's text edits,
 * or share a detector between threads.
 *
 * Memory: a unit is one fixed-size malloc'd struct (NPLUS1_MAX_RUNS runs);
 * when a unit has more active runs the oldest is judged early.  The
 * pattern table is an open-addressing hash of at most NPLUS1_MAX_PATTERNS
 * entries; each entry owns malloc'd copies of its texts.
 */
#define _GNU_SOURCE				/* strcasestr */
#include "nplus1.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver.h"

#define NPLUS1_TABLE_SIZE (2 * NPLUS1_MAX_PATTERNS)	/* power of two */

struct nplus1_run
{
	uint64_t	fp;
	const char *text;
	uint64_t	src_fp;
	const char *src_text;
	bool		has_src;
	uint64_t	last_pos;
	uint32_t	count;
	uint32_t	ndistinct;
	int			nseen;
	uint64_t	seen[NPLUS1_DISTINCT_CAP];
	double		time_ms;
	bool		time_known;
	int			nexamples;
	char		examples[NPLUS1_EXAMPLES][NPLUS1_EXAMPLE_LEN];
};

struct nplus1_unit
{
	struct nplus1 *d;
	uint64_t	pos;			/* statements seen in this unit */
	bool		has_prev;
	uint64_t	prev_fp;
	const char *prev_text;
	int			nruns;
	struct nplus1_run runs[NPLUS1_MAX_RUNS];
};

struct nplus1
{
	struct nplus1_config cfg;
	uint64_t	units;
	uint64_t	dropped;
	int			npatterns;
	struct nplus1_finding *table[NPLUS1_TABLE_SIZE];
	/* nplus1_set_extra(): more fields per finding in the outputs */
	void		(*extra_json) (FILE *out, const struct nplus1_finding *f, void *arg);
	void		(*extra_print) (FILE *out, const struct nplus1_finding *f,
								const char *indent, void *arg);
	void	   *extra_arg;
};

void
nplus1_set_extra(struct nplus1 *d,
				 void (*json) (FILE *out, const struct nplus1_finding *f, void *arg),
				 void (*print) (FILE *out, const struct nplus1_finding *f,
								const char *indent, void *arg),
				 void *arg)
{
	d->extra_json = json;
	d->extra_print = print;
	d->extra_arg = arg;
}

struct nplus1 *
nplus1_create(const struct nplus1_config *cfg)
{
	struct nplus1 *d = pd_calloc(1, sizeof(*d));

	d->cfg = *cfg;
	if (d->cfg.min_repeats < 2)
		d->cfg.min_repeats = 2;
	return d;
}

void
nplus1_free(struct nplus1 *d)
{
	if (d == NULL)
		return;
	for (int i = 0; i < NPLUS1_TABLE_SIZE; i++)
	{
		struct nplus1_finding *f = d->table[i];

		if (f == NULL)
			continue;
		free(f->source);
		free(f->repeated);
		free(f->suggestion);
		free(f);
	}
	free(d);
}

struct nplus1_unit *
nplus1_unit_create(struct nplus1 *d)
{
	struct nplus1_unit *u = pd_malloc(sizeof(*u));

	u->d = d;
	nplus1_unit_reset(u);
	return u;
}

void
nplus1_unit_free(struct nplus1_unit *u)
{
	free(u);
}

void
nplus1_unit_reset(struct nplus1_unit *u)
{
	u->pos = 0;
	u->has_prev = false;
	u->prev_fp = 0;
	u->prev_text = NULL;
	u->nruns = 0;
}

/*
 * nplus1_lookup: the pattern for (src, rep), created when absent and the
 * table has room.  Returns NULL when the table is full.
 */
static struct nplus1_finding *
nplus1_lookup(struct nplus1 *d, uint64_t src, uint64_t rep, const char *src_text,
			  const char *rep_text)
{
	uint64_t	h = (src * 0x9E3779B97F4A7C15ULL) ^ (rep + 0x632BE59BD9B4E019ULL + (src << 6));
	unsigned	i = (unsigned) (h ^ (h >> 29)) & (NPLUS1_TABLE_SIZE - 1);
	struct nplus1_finding *f;

	for (;;)
	{
		f = d->table[i];
		if (f == NULL)
			break;
		if (f->source_fp == src && f->repeated_fp == rep)
			return f;
		i = (i + 1) & (NPLUS1_TABLE_SIZE - 1);
	}
	if (d->npatterns >= NPLUS1_MAX_PATTERNS)
		return NULL;
	f = pd_calloc(1, sizeof(*f));
	f->source_fp = src;
	f->repeated_fp = rep;
	f->source = pd_strdup(src_text ? src_text : "(text not kept)");
	f->repeated = pd_strdup(rep_text ? rep_text : "(text not kept)");
	f->suggestion = nplus1_suggest(f->source, f->repeated);
	d->table[i] = f;
	d->npatterns++;
	return f;
}

/* Judge one run and fold it into the detector when it is a finding. */
static void
nplus1_judge(struct nplus1 *d, const struct nplus1_run *r)
{
	struct nplus1_finding *f;
	int			k = d->cfg.min_repeats;

	if (!r->has_src || r->count < (uint32_t) k ||
		r->ndistinct < (uint32_t) k)
		return;
	if (d->cfg.min_time_ms > 0 && r->time_known && r->time_ms < d->cfg.min_time_ms)
		return;
	f = nplus1_lookup(d, r->src_fp, r->fp, r->src_text, r->text);
	if (f == NULL)
	{
		d->dropped++;
		return;
	}
	f->occurrences++;
	f->repeats_total += r->count;
	if (r->count > f->repeats_max)
		f->repeats_max = r->count;
	if (r->time_known)
	{
		f->time_ms += r->time_ms;
		f->time_known = true;
	}
	if (f->nexamples == 0)
	{
		f->nexamples = r->nexamples;
		memcpy(f->examples, r->examples, sizeof(f->examples));
	}
}

static void
nplus1_remove_run(struct nplus1_unit *u, int i)
{
	nplus1_judge(u->d, &u->runs[i]);
	u->nruns--;
	if (i != u->nruns)
		u->runs[i] = u->runs[u->nruns];
}

static void
nplus1_run_add_params(struct nplus1_run *r, const struct nplus1_stmt *s)
{
	bool		seen = false;

	for (int i = 0; i < r->nseen; i++)
		if (r->seen[i] == s->param_hash)
		{
			seen = true;
			break;
		}
	if (!seen)
	{
		/* past the cap, a value is "different" when it is not a kept one */
		r->ndistinct++;
		if (r->nseen < NPLUS1_DISTINCT_CAP)
			r->seen[r->nseen++] = s->param_hash;
		if (r->nexamples < NPLUS1_EXAMPLES)
		{
			/* once per statement of a run: a bounded copy, not snprintf */
			const char *p = s->params ? s->params : "";
			size_t		n = strnlen(p, NPLUS1_EXAMPLE_LEN - 1);
			char	   *e = r->examples[r->nexamples++];

			memcpy(e, p, n);
			e[n] = '\0';
		}
	}
	if (!isnan(s->ms))
	{
		r->time_ms += s->ms;
		r->time_known = true;
	}
}

void
nplus1_unit_add(struct nplus1_unit *u, const struct nplus1_stmt *s)
{
	struct nplus1_run *run = NULL;
	uint64_t	pos = ++u->pos;

	for (int i = 0; i < u->nruns; i++)
	{
		struct nplus1_run *r = &u->runs[i];

		if (r->fp == s->fingerprint)
			continue;
		/* too far apart, or its source ran again: the loop is over */
		if (pos - r->last_pos > NPLUS1_MAX_GAP + 1 ||
			(r->has_src && r->src_fp == s->fingerprint))
		{
			nplus1_remove_run(u, i);
			i--;				/* the last run moved into slot i */
		}
	}
	for (int i = 0; i < u->nruns; i++)
		if (u->runs[i].fp == s->fingerprint)
			run = &u->runs[i];
	if (run != NULL && pos - run->last_pos > NPLUS1_MAX_GAP + 1)
	{
		nplus1_remove_run(u, (int) (run - u->runs));
		run = NULL;
	}
	if (run == NULL)
	{
		if (u->nruns == NPLUS1_MAX_RUNS)
		{
			int			oldest = 0;

			for (int i = 1; i < u->nruns; i++)
				if (u->runs[i].last_pos < u->runs[oldest].last_pos)
					oldest = i;
			nplus1_remove_run(u, oldest);
		}
		run = &u->runs[u->nruns++];
		run->fp = s->fingerprint;
		run->text = s->text;
		run->has_src = u->has_prev && u->prev_fp != s->fingerprint;
		run->src_fp = u->prev_fp;
		run->src_text = u->prev_text;
		run->count = 0;
		run->ndistinct = 0;
		run->nseen = 0;
		run->time_ms = 0;
		run->time_known = false;
		run->nexamples = 0;
	}
	run->count++;
	run->last_pos = pos;
	nplus1_run_add_params(run, s);
	u->has_prev = true;
	u->prev_fp = s->fingerprint;
	u->prev_text = s->text;
}

void
nplus1_unit_end(struct nplus1_unit *u)
{
	if (u->pos > 0)
		u->d->units++;
	for (int i = 0; i < u->nruns; i++)
		nplus1_judge(u->d, &u->runs[i]);
	nplus1_unit_reset(u);
}

void
nplus1_merge(struct nplus1 *dst, const struct nplus1 *src)
{
	dst->units += src->units;
	dst->dropped += src->dropped;
	for (int i = 0; i < NPLUS1_TABLE_SIZE; i++)
	{
		const struct nplus1_finding *s = src->table[i];
		struct nplus1_finding *f;

		if (s == NULL)
			continue;
		f = nplus1_lookup(dst, s->source_fp, s->repeated_fp, s->source, s->repeated);
		if (f == NULL)
		{
			dst->dropped += s->occurrences;
			continue;
		}
		f->occurrences += s->occurrences;
		f->repeats_total += s->repeats_total;
		if (s->repeats_max > f->repeats_max)
			f->repeats_max = s->repeats_max;
		f->time_ms += s->time_ms;
		f->time_known |= s->time_known;
		if (f->nexamples == 0)
		{
			f->nexamples = s->nexamples;
			memcpy(f->examples, s->examples, sizeof(f->examples));
		}
	}
}

uint64_t
nplus1_units(const struct nplus1 *d)
{
	return d->units;
}

uint64_t
nplus1_dropped(const struct nplus1 *d)
{
	return d->dropped;
}

static int
nplus1_cmp(const void *a, const void *b)
{
	const struct nplus1_finding *x = *(const struct nplus1_finding *const *) a;
	const struct nplus1_finding *y = *(const struct nplus1_finding *const *) b;

	if (x->time_known || y->time_known)
	{
		if (x->time_ms != y->time_ms)
			return x->time_ms > y->time_ms ? -1 : 1;
	}
	if (x->repeats_total != y->repeats_total)
		return x->repeats_total > y->repeats_total ? -1 : 1;
	if (x->occurrences != y->occurrences)
		return x->occurrences > y->occurrences ? -1 : 1;
	return strcmp(x->repeated, y->repeated);
}

const struct nplus1_finding **
nplus1_findings(const struct nplus1 *d, int *n)
{
	const struct nplus1_finding **out = pd_calloc(d->npatterns + 1, sizeof(*out));

	*n = 0;
	for (int i = 0; i < NPLUS1_TABLE_SIZE; i++)
		if (d->table[i] != NULL)
			out[(*n)++] = d->table[i];
	qsort(out, *n, sizeof(*out), nplus1_cmp);
	return out;
}

/* ------------------------------------------------------- classification */

/* The next word of s[0..len) at *pos, lower-cased into w (cap bytes). */
static size_t
nplus1_word(const char *s, size_t len, size_t *pos, char *w, size_t cap)
{
	size_t		n = 0;
	size_t		p = *pos;

	while (p < len && (isspace((unsigned char) s[p]) || s[p] == ';'))
		p++;
	while (p < len && (isalpha((unsigned char) s[p]) || s[p] == '_'))
	{
		if (n + 1 < cap)
			w[n++] = (char) tolower((unsigned char) s[p]);
		p++;
	}
	w[n] = '\0';
	*pos = p;
	return n;
}

int
nplus1_txn_control_len(const char *sql, size_t len)
{
	char		w1[16],
				w2[16];
	size_t		pos = 0;

	if (nplus1_word(sql, len, &pos, w1, sizeof(w1)) == 0)
		return NPLUS1_TXN_NONE;
	nplus1_word(sql, len, &pos, w2, sizeof(w2));
	if (strcmp(w1, "begin") == 0 || (strcmp(w1, "start") == 0 && strcmp(w2, "transaction") == 0))
		return NPLUS1_TXN_BEGIN;
	if (strcmp(w1, "savepoint") == 0 || strcmp(w1, "release") == 0 ||
		(strcmp(w1, "rollback") == 0 && strcmp(w2, "to") == 0))
		return NPLUS1_TXN_OTHER;
	if (strcmp(w1, "commit") == 0 || strcmp(w1, "end") == 0 ||
		strcmp(w1, "rollback") == 0 || strcmp(w1, "abort") == 0)
		return NPLUS1_TXN_END;
	if (strcmp(w1, "prepare") == 0 && strcmp(w2, "transaction") == 0)
		return NPLUS1_TXN_END;
	return NPLUS1_TXN_NONE;
}

int
nplus1_txn_control(const char *sql)
{
	return nplus1_txn_control_len(sql, strlen(sql));
}

/* ------------------------------------------------------------ suggestion */

static bool
nplus1_starts_with_word(const char *s, const char *word)
{
	size_t		n = strlen(word);

	while (isspace((unsigned char) *s) || *s == '(')
		s++;
	return strncasecmp(s, word, n) == 0 && !isalnum((unsigned char) s[n]) && s[n] != '_';
}

/*
 * nplus1_find_eq_param: the first "= $n" (not "<=", ">=", "!=") in s.
 * Returns a pointer to the '=' and sets *end past the parameter, or NULL.
 */
static const char *
nplus1_find_eq_param(const char *s, const char **end)
{
	for (const char *p = s; *p; p++)
	{
		const char *q;

		if (*p == '\'')
		{
			/* skip string literals left in the text */
			for (p++; *p && *p != '\''; p++)
				;
			if (*p == '\0')
				return NULL;
			continue;
		}
		if (*p != '=' || (p > s && strchr("<>!=", p[-1]) != NULL) || p[1] == '=')
			continue;
		q = p + 1;
		while (*q == ' ')
			q++;
		if (*q != '$' || !isdigit((unsigned char) q[1]))
			continue;
		q++;
		while (isdigit((unsigned char) *q))
			q++;
		*end = q;
		return p;
	}
	return NULL;
}

char *
nplus1_suggest(const char *source, const char *repeated)
{
	size_t		len = strlen(repeated) + strlen(source) + 256;
	char	   *out = pd_malloc(len);
	const char *end = NULL;
	const char *where = strcasestr(repeated, " where ");
	const char *eq = where ? nplus1_find_eq_param(where, &end) : NULL;

	if (nplus1_starts_with_word(repeated, "insert"))
		snprintf(out, len, "insert all rows in one statement: a multi-row VALUES list, "
				 "INSERT ... SELECT FROM unnest($1::type[], ...), or COPY");
	else if (eq != NULL && (nplus1_starts_with_word(repeated, "select") ||
							nplus1_starts_with_word(repeated, "update") ||
							nplus1_starts_with_word(repeated, "delete")))
	{
		const char *pstart = eq + 1;

		while (*pstart == ' ')
			pstart++;
		snprintf(out, len, "%.*s= ANY(%.*s)%s (one query with an array of the values, "
				 "or a join with the source)",
				 (int) (eq - repeated), repeated, (int) (end - pstart), pstart, end);
	}
	else
		snprintf(out, len, "fetch all rows in one query joined with the source "
				 "(%s) instead of one query per row", source);
	return out;
}

/* ---------------------------------------------------------------- output */

static void
nplus1_fmt_trunc(char *buf, size_t len, const char *s, size_t max)
{
	size_t		n = strlen(s);

	if (max >= len)
		max = len - 1;
	if (n <= max)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%.*s...", (int) (max - 3), s);
}

void
nplus1_print(FILE *out, const struct nplus1 *d, int top, const char *indent)
{
	int			n;
	const struct nplus1_finding **f = nplus1_findings(d, &n);
	char		src[80],
				rep[80];

	if (n == 0)
	{
		fprintf(out, "%sno N+1 patterns (at least %d repeats with different parameters after a source statement)\n",
				indent, d->cfg.min_repeats);
		free(f);
		return;
	}
	fprintf(out, "%sN+1 patterns (%d; at least %d repeats with different parameters after a source statement):\n",
			indent, n, d->cfg.min_repeats);
	fprintf(out, "%s  %4s %11s %9s %9s %12s  %s\n", indent, "#", "occurrences",
			"mean rep", "max rep", "time ms", "statements");
	for (int i = 0; i < n && (top <= 0 || i < top); i++)
	{
		char		tm[32];

		if (f[i]->time_known)
			snprintf(tm, sizeof(tm), "%.3f", f[i]->time_ms);
		else
			snprintf(tm, sizeof(tm), "-");
		nplus1_fmt_trunc(src, sizeof(src), f[i]->source, 72);
		nplus1_fmt_trunc(rep, sizeof(rep), f[i]->repeated, 72);
		fprintf(out, "%s  %4d %11llu %9.1f %9llu %12s  source:   %s\n", indent, i + 1,
				(unsigned long long) f[i]->occurrences,
				(double) f[i]->repeats_total / (double) f[i]->occurrences,
				(unsigned long long) f[i]->repeats_max, tm, src);
		fprintf(out, "%s  %4s %11s %9s %9s %12s  repeated: %s\n", indent, "", "", "", "", "", rep);
		fprintf(out, "%s  %4s %11s %9s %9s %12s  examples:", indent, "", "", "", "", "");
		for (int k = 0; k < f[i]->nexamples; k++)
			fprintf(out, "%s (%s)", k ? "," : "", f[i]->examples[k]);
		fprintf(out, "\n%s  %4s %11s %9s %9s %12s  instead:  %s\n", indent, "", "", "", "", "",
				f[i]->suggestion);
		if (d->extra_print)
		{
			char		ind[64];

			snprintf(ind, sizeof(ind), "%s  %4s %11s %9s %9s %12s  ", indent, "", "", "", "", "");
			d->extra_print(out, f[i], ind, d->extra_arg);
		}
	}
	if (d->dropped)
		fprintf(out, "%s  (%llu occurrences not kept: more than %d patterns)\n", indent,
				(unsigned long long) d->dropped, NPLUS1_MAX_PATTERNS);
	free(f);
}

void
nplus1_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", out);
				break;
			case '\\':
				fputs("\\\\", out);
				break;
			case '\n':
				fputs("\\n", out);
				break;
			case '\r':
				fputs("\\r", out);
				break;
			case '\t':
				fputs("\\t", out);
				break;
			default:
				if (*p < 0x20)
					fprintf(out, "\\u%04x", *p);
				else
					fputc(*p, out);
		}
	}
	fputc('"', out);
}

void
nplus1_write_json(FILE *out, const struct nplus1 *d, int top, const char *indent)
{
	int			n;
	const struct nplus1_finding **f = nplus1_findings(d, &n);

	if (top > 0 && n > top)
		n = top;
	fputc('[', out);
	for (int i = 0; i < n; i++)
	{
		const struct nplus1_finding *x = f[i];

		fprintf(out, "%s\n%s  {\"source\": ", i ? "," : "", indent);
		nplus1_json_string(out, x->source);
		fprintf(out, ", \"source_fingerprint\": \"%016llx\", \"repeated\": ",
				(unsigned long long) x->source_fp);
		nplus1_json_string(out, x->repeated);
		fprintf(out, ", \"repeated_fingerprint\": \"%016llx\", \"occurrences\": %llu, "
				"\"repeats_total\": %llu, \"repeats_mean\": %.3f, \"repeats_max\": %llu, "
				"\"time_ms\": ",
				(unsigned long long) x->repeated_fp,
				(unsigned long long) x->occurrences,
				(unsigned long long) x->repeats_total,
				(double) x->repeats_total / (double) x->occurrences,
				(unsigned long long) x->repeats_max);
		if (x->time_known)
			fprintf(out, "%.3f, \"time_ms_per_occurrence\": %.3f", x->time_ms,
					x->time_ms / (double) x->occurrences);
		else
			fprintf(out, "null, \"time_ms_per_occurrence\": null");
		fprintf(out, ", \"example_params\": [");
		for (int k = 0; k < x->nexamples; k++)
		{
			if (k)
				fputs(", ", out);
			nplus1_json_string(out, x->examples[k]);
		}
		fprintf(out, "], \"suggestion\": ");
		nplus1_json_string(out, x->suggestion);
		if (d->extra_json)
			d->extra_json(out, x, d->extra_arg);
		fputc('}', out);
	}
	if (n)
		fprintf(out, "\n%s", indent);
	fputc(']', out);
	free(f);
}
