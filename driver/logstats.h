/*
 * logstats.h
 *		The statement rate over an analyzed log's time: what "perfdriver
 *		analyze" draws besides its per-statement tables (docs/nplus1.md,
 *		"Log analysis report").
 *
 * Owns: the timeline and its JSON key "timeline".  The per-statement
 * totals (top_statements_by_total, top_statements_by_p95) are
 * cmd_analyze.c's, the one source the report and the HTML read.
 *
 * Must not: parse logs or SQL, or talk to libpq.
 *
 * Memory: a timeline of at most LOGSTATS_MAX_BUCKETS counts, allocated
 * once: a longer log doubles the bucket width and folds neighbouring counts
 * together.
 */
#ifndef PERFDRIVER_LOGSTATS_H
#define PERFDRIVER_LOGSTATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LOGSTATS_MAX_BUCKETS 1200

struct logstats;

/* A new, empty set of totals; aborts on out-of-memory. */
struct logstats *logstats_create(void);

/* One executed statement at ts_ms (ms since the epoch); nothing unless has_ts. */
void		logstats_statement(struct logstats *ls, bool has_ts, int64_t ts_ms);

/*
 * logstats_write_json: write ",\n  \"timeline\": {...}" (a key of an
 * enclosing object), null when no statement had a timestamp.
 */
void		logstats_write_json(FILE *f, const struct logstats *ls);

void		logstats_free(struct logstats *ls);

#endif							/* PERFDRIVER_LOGSTATS_H */
