/*
 * logstats.h
 *		What "perfdriver analyze" counts besides N+1 patterns: calls and
 *		logged time per normalized statement, and the statement rate over
 *		the log's time (docs/nplus1.md, "Log analysis report").
 *
 * Owns: the per-fingerprint totals and the timeline, and their JSON keys
 * "top_statements" and "timeline".
 *
 * Must not: parse logs or SQL (cmd_analyze.c hands over fingerprints and
 * interned texts), or talk to libpq.
 *
 * Memory: a hash table that grows with the number of distinct fingerprints
 * (as analyze's interned texts do) and a timeline of at most
 * LOGSTATS_MAX_BUCKETS counts: a longer log doubles the bucket width and
 * folds neighbouring counts together.  Texts are borrowed, not copied: they
 * must outlive the struct.
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

/* One executed statement; ts_ms (ms since the epoch) counts when has_ts. */
void		logstats_statement(struct logstats *ls, uint64_t fp, const char *text,
							   bool has_ts, int64_t ts_ms);

/* The logged duration of a statement of fingerprint fp (NaN: none). */
void		logstats_duration(struct logstats *ls, uint64_t fp, double ms);

/*
 * logstats_write_json: write ",\n  \"top_statements\": [...],\n
 * \"timeline\": {...}" (keys of an enclosing object): the top statements by
 * logged time (by calls when no time was logged), all of them when top is 0.
 */
void		logstats_write_json(FILE *f, const struct logstats *ls, int top);

void		logstats_free(struct logstats *ls);

#endif							/* PERFDRIVER_LOGSTATS_H */
