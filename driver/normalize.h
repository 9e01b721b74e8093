/*
 * normalize.h
 *		Statement normalization and fingerprints for per-statement reports
 *		and N+1 detection.
 *
 * Owns: turning SQL text into a normalized text (literals and parameters as
 * $n) and a 64-bit fingerprint equal for statements that differ only in
 * literal or parameter values.  Uses libpg_query (pg_query_normalize,
 * pg_query_fingerprint); when the text does not parse it falls back to a
 * lexical normalizer (numbers and quoted strings become $n, whitespace is
 * collapsed) and fingerprints that text, so a fingerprint always exists.
 *
 * Must not: talk to libpq.  Thread-safe (libpg_query keeps per-thread
 * memory); call pgb_normalize_thread_done() before a thread that used it
 * exits if leaks matter.
 *
 * Memory: returned text is malloc'd and owned by the caller.
 */
#ifndef PERFDRIVER_NORMALIZE_H
#define PERFDRIVER_NORMALIZE_H

#include <stdbool.h>
#include <stdint.h>

struct pgb_normalized
{
	uint64_t	fingerprint;
	char	   *text;			/* normalized SQL, malloc'd */
	bool		fallback;		/* true when the lexical fallback was used */
};

/*
 * pgb_normalize: normalize sql and fingerprint it.  Always succeeds (aborts
 * on out-of-memory).  Free out->text with free() or pgb_normalized_free().
 */
void		pgb_normalize(const char *sql, struct pgb_normalized *out);

void		pgb_normalized_free(struct pgb_normalized *n);

/* Just the fingerprint / just the normalized text (malloc'd). */
uint64_t	pgb_fingerprint(const char *sql);
char	   *pgb_normalize_text(const char *sql);

/*
 * pgb_normalize_lexical: the fallback normalizer alone, exposed for tests:
 * numbers, '...' / E'...' strings and dollar-quoted strings become $n
 * (numbered after the highest $n already present), "--" and block comments
 * are dropped, and runs of whitespace become one space.  Malloc'd.
 */
char	   *pgb_normalize_lexical(const char *sql);

/*
 * pgb_normalize_parser_version: the PostgreSQL version whose parser the
 * libpg_query headers perfdriver was built with describe ("15.1").  A
 * static string.
 */
const char *pgb_normalize_parser_version(void);

/* Free libpg_query's per-thread memory. */
void		pgb_normalize_thread_done(void);

#endif							/* PERFDRIVER_NORMALIZE_H */
