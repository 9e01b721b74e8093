/*
 * logstats.c
 *		The statement-rate timeline of an analyzed log (see logstats.h).
 *
 * Owns: the timeline's folding rule.
 *
 * Must not: parse anything.
 *
 * Memory: see logstats.h; logstats_free() releases everything.
 */
#include "logstats.h"
#include "driver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct logstats
{
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

	ls->bucket_ms = 1000;
	return ls;
}

void
logstats_free(struct logstats *ls)
{
	free(ls);
}

void
logstats_statement(struct logstats *ls, bool has_ts, int64_t ts_ms)
{
	int64_t		k;

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
logstats_write_json(FILE *f, const struct logstats *ls)
{
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
