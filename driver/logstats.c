/*
 * logstats.c
 *		Per-statement totals and the statement-rate timeline of an analyzed
 *		log (see logstats.h).
 *
 * Owns: an open-addressing table keyed by fingerprint and the timeline's
 * folding rule.
 *
 * Must not: parse anything, or copy the statement texts (they belong to
 * cmd_analyze.c's interned set).
 *
 * Memory: see logstats.h; logstats_free() releases everything.
 */
#include "logstats.h"
#include "driver.h"
#include "nplus1.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ls_slot
{
	bool		used;
	uint64_t	fp;
	const char *text;
	uint64_t	calls;
	uint64_t	timed;			/* calls with a logged duration */
	double		total_ms;
	double		max_ms;
};

struct logstats
{
	struct ls_slot *slots;
	size_t		cap;			/* power of two */
	size_t		n;
	bool		has_start;
	int64_t		start_ms;
	int64_t		bucket_ms;
	int			nbuckets;
	uint64_t	counts[LOGSTATS_MAX_BUCKETS];
};

struct logstats *
logstats_create(void)
{
	struct logstats *ls = pd_calloc(1, sizeof(*ls));

	ls->cap = 1024;
	ls->slots = pd_calloc(ls->cap, sizeof(*ls->slots));
	ls->bucket_ms = 1000;
	return ls;
}

void
logstats_free(struct logstats *ls)
{
	if (ls == NULL)
		return;
	free(ls->slots);
	free(ls);
}

/* The slot of fp, created when missing. */
static struct ls_slot *
ls_slot(struct logstats *ls, uint64_t fp)
{
	size_t		i;

	if (ls->n * 2 >= ls->cap)
	{
		size_t		ncap = ls->cap * 2;
		struct ls_slot *ns = pd_calloc(ncap, sizeof(*ns));

		for (size_t k = 0; k < ls->cap; k++)
		{
			if (!ls->slots[k].used)
				continue;
			for (i = (ls->slots[k].fp ^ (ls->slots[k].fp >> 29)) & (ncap - 1); ns[i].used; i = (i + 1) & (ncap - 1))
				;
			ns[i] = ls->slots[k];
		}
		free(ls->slots);
		ls->slots = ns;
		ls->cap = ncap;
	}
	for (i = (fp ^ (fp >> 29)) & (ls->cap - 1); ls->slots[i].used; i = (i + 1) & (ls->cap - 1))
		if (ls->slots[i].fp == fp)
			return &ls->slots[i];
	ls->slots[i].used = true;
	ls->slots[i].fp = fp;
	ls->n++;
	return &ls->slots[i];
}

void
logstats_statement(struct logstats *ls, uint64_t fp, const char *text, bool has_ts,
				   int64_t ts_ms)
{
	struct ls_slot *s = ls_slot(ls, fp);
	int64_t		k;

	s->calls++;
	if (s->text == NULL)
		s->text = text;
	if (!has_ts)
		return;
	if (!ls->has_start)
	{
		ls->has_start = true;
		ls->start_ms = ts_ms;
	}
	/* entries a little out of order (several sessions) count at the start */
	k = ts_ms >= ls->start_ms ? (ts_ms - ls->start_ms) / ls->bucket_ms : 0;
	while (k >= LOGSTATS_MAX_BUCKETS)
	{
		/* fold: twice as wide buckets, half as many */
		for (int i = 0; i < LOGSTATS_MAX_BUCKETS / 2; i++)
			ls->counts[i] = ls->counts[2 * i] + ls->counts[2 * i + 1];
		memset(ls->counts + LOGSTATS_MAX_BUCKETS / 2, 0,
			   sizeof(uint64_t) * (LOGSTATS_MAX_BUCKETS / 2));
		ls->nbuckets = (ls->nbuckets + 1) / 2;
		ls->bucket_ms *= 2;
		k = (ts_ms - ls->start_ms) / ls->bucket_ms;
	}
	ls->counts[k]++;
	if (k + 1 > ls->nbuckets)
		ls->nbuckets = (int) k + 1;
}

void
logstats_duration(struct logstats *ls, uint64_t fp, double ms)
{
	struct ls_slot *s;

	if (isnan(ms))
		return;
	s = ls_slot(ls, fp);
	s->timed++;
	s->total_ms += ms;
	if (ms > s->max_ms)
		s->max_ms = ms;
}

static int
ls_cmp(const void *x, const void *y)
{
	const struct ls_slot *a = *(const struct ls_slot *const *) x;
	const struct ls_slot *b = *(const struct ls_slot *const *) y;

	if (a->total_ms != b->total_ms)
		return a->total_ms < b->total_ms ? 1 : -1;
	if (a->calls != b->calls)
		return a->calls < b->calls ? 1 : -1;
	return (a->fp > b->fp) - (a->fp < b->fp);
}

void
logstats_write_json(FILE *f, const struct logstats *ls, int top)
{
	const struct ls_slot **order = pd_calloc(ls->n, sizeof(*order));
	size_t		n = 0;

	for (size_t i = 0; i < ls->cap; i++)
		if (ls->slots[i].used)
			order[n++] = &ls->slots[i];
	qsort(order, n, sizeof(*order), ls_cmp);
	if (top > 0 && (size_t) top < n)
		n = top;
	fprintf(f, ",\n  \"top_statements\": [");
	for (size_t i = 0; i < n; i++)
	{
		const struct ls_slot *s = order[i];

		fprintf(f, "%s\n    {\"query\": ", i ? "," : "");
		nplus1_json_string(f, s->text ? s->text : "");
		fprintf(f, ", \"fingerprint\": \"%016llx\", \"calls\": %llu, \"timed_calls\": %llu",
				(unsigned long long) s->fp, (unsigned long long) s->calls,
				(unsigned long long) s->timed);
		if (s->timed > 0)
			fprintf(f, ", \"total_ms\": %.3f, \"mean_ms\": %.3f, \"max_ms\": %.3f}",
					s->total_ms, s->total_ms / s->timed, s->max_ms);
		else
			fprintf(f, ", \"total_ms\": null, \"mean_ms\": null, \"max_ms\": null}");
	}
	fprintf(f, "%s]", n ? "\n  " : "");
	free(order);
	fprintf(f, ",\n  \"timeline\": ");
	if (!ls->has_start)
	{
		fprintf(f, "null");
		return;
	}
	{
		time_t		sec = (time_t) (ls->start_ms / 1000);
		struct tm	tm;
		char		day[32];

		/* the log's own clock: its time zone is not known here */
		gmtime_r(&sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(f, "{\"start\": \"%s.%03d\", \"bucket_s\": %.3f, \"counts\": [", day,
				(int) (ls->start_ms % 1000), ls->bucket_ms / 1000.0);
	}
	for (int i = 0; i < ls->nbuckets; i++)
		fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long) ls->counts[i]);
	fprintf(f, "]}");
}
