/*
 * nplus1.h
 *		N+1 query detection, shared by "perfdriver run" (statements the
 *		driver executes) and "perfdriver analyze" (statements in a server
 *		log).
 *
 * Owns: what an N+1 finding is.  Statements arrive per unit (a transaction,
 * or in autocommit a session's run of consecutive statements).  Within a
 * unit, a "run" of a fingerprint F is its occurrences where at most
 * NPLUS1_MAX_GAP other statements separate two consecutive ones; the
 * run's source is the statement executed just before its first occurrence,
 * and the run ends when its source runs again (so "S, F x10" done three
 * times in a row is three occurrences, and a request-level sequence
 * "S, F, G" repeated gives runs of one).  A run is a finding when
 *	- it has a source (a unit that starts with the repeats has none),
 *	- F ran at least min_repeats times with at least min_repeats different
 *	  parameter values (a loop over the rows the source returned; the same
 *	  values again are a cache problem, not N+1),
 *	- the time spent in F's run is at least min_time_ms (when known).
 * Findings aggregate per pattern (source fingerprint, repeated fingerprint).
 *
 * Must not: talk to libpq or parse SQL (callers give fingerprints and
 * normalized text; see normalize.h), or take locks: a detector belongs to
 * one thread, and threads' detectors are merged after the run.
 *
 * Memory: a unit keeps at most NPLUS1_MAX_RUNS runs of fixed size, so its
 * memory does not depend on how many statements it sees.  A detector keeps
 * at most NPLUS1_MAX_PATTERNS patterns (later ones are counted in
 * "dropped"), each with copies of its two texts.  Text pointers given to
 * nplus1_unit_add() must stay valid until the unit ends (the driver's
 * script texts, analyze's interned texts).  Everything is malloc'd; free
 * with nplus1_unit_free() and nplus1_free().
 */
#ifndef PERFDRIVER_NPLUS1_H
#define PERFDRIVER_NPLUS1_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define NPLUS1_DEFAULT_MIN_REPEATS 5
#define NPLUS1_MAX_RUNS		32		/* active runs per unit */
#define NPLUS1_MAX_GAP		16		/* statements between two repeats */
#define NPLUS1_DISTINCT_CAP	16		/* parameter hashes kept per run */
#define NPLUS1_EXAMPLES		3		/* example parameter lists kept */
#define NPLUS1_EXAMPLE_LEN	64		/* bytes per example, with the NUL */
#define NPLUS1_MAX_PATTERNS	4096

struct nplus1_config
{
	int			min_repeats;	/* K, at least 2 */
	double		min_time_ms;	/* 0: no time threshold */
};

/* One executed statement as the detector sees it. */
struct nplus1_stmt
{
	uint64_t	fingerprint;
	const char *text;			/* normalized; must outlive the unit */
	uint64_t	param_hash;		/* hash of the parameter values (0: none) */
	const char *params;			/* "17" or "17, 'x'" for examples; may be NULL */
	double		ms;				/* execution time, NaN when unknown */
};

/* One aggregated pattern, as reported. */
struct nplus1_finding
{
	uint64_t	source_fp;
	uint64_t	repeated_fp;
	char	   *source;			/* normalized text */
	char	   *repeated;
	char	   *suggestion;		/* the batched form to use instead */
	uint64_t	occurrences;	/* units (runs) where the pattern happened */
	uint64_t	repeats_total;	/* executions of the repeated statement */
	uint64_t	repeats_max;	/* most in one occurrence */
	double		time_ms;		/* in the repeats, sum of known durations */
	bool		time_known;		/* some duration was known */
	int			nexamples;
	char		examples[NPLUS1_EXAMPLES][NPLUS1_EXAMPLE_LEN];
};

struct nplus1;
struct nplus1_unit;

/* A new detector; aborts on out-of-memory. */
struct nplus1 *nplus1_create(const struct nplus1_config *cfg);
void		nplus1_free(struct nplus1 *d);

/* A unit feeding d (one per client or session); aborts on out-of-memory. */
struct nplus1_unit *nplus1_unit_create(struct nplus1 *d);
void		nplus1_unit_free(struct nplus1_unit *u);

/* Feed one statement of the unit. */
void		nplus1_unit_add(struct nplus1_unit *u, const struct nplus1_stmt *s);

/* The unit ended (COMMIT, end of script, idle gap): judge its runs. */
void		nplus1_unit_end(struct nplus1_unit *u);

/* The unit is abandoned (a retried transaction): forget its runs. */
void		nplus1_unit_reset(struct nplus1_unit *u);

/* Add src's patterns into dst (same configuration). */
void		nplus1_merge(struct nplus1 *dst, const struct nplus1 *src);

/*
 * nplus1_findings: the patterns, worst first (by time in the repeats when
 * any duration is known, else by repeats).  Returns an array of pointers
 * owned by the caller (free() it; the findings belong to d) and sets *n.
 */
const struct nplus1_finding **nplus1_findings(const struct nplus1 *d, int *n);

/* Units ended, and patterns not kept because the table was full. */
uint64_t	nplus1_units(const struct nplus1 *d);
uint64_t	nplus1_dropped(const struct nplus1 *d);

/*
 * nplus1_suggest: the batched form of repeated (normalized text), given
 * the source.  Returns a malloc'd sentence.
 */
char	   *nplus1_suggest(const char *source, const char *repeated);

/* What nplus1_txn_control() says about a statement. */
#define NPLUS1_TXN_NONE		0	/* an ordinary statement */
#define NPLUS1_TXN_BEGIN	1	/* BEGIN, START TRANSACTION */
#define NPLUS1_TXN_END		2	/* COMMIT, END, ROLLBACK, ABORT, ... PREPARED */
#define NPLUS1_TXN_OTHER	3	/* SAVEPOINT, RELEASE, ROLLBACK TO: skipped */

/* Classify sql (len bytes; need not be NUL-terminated) by its first words. */
int			nplus1_txn_control_len(const char *sql, size_t len);
int			nplus1_txn_control(const char *sql);

/* Human table of the top findings (all when top <= 0), each line indented. */
void		nplus1_print(FILE *out, const struct nplus1 *d, int top, const char *indent);

/*
 * JSON list of the top findings (all when top <= 0): "[]" when none, else
 * one object per line, indented.  See report.h and docs/nplus1.md.
 */
void		nplus1_write_json(FILE *out, const struct nplus1 *d, int top, const char *indent);

/*
 * nplus1_set_extra: more fields per finding: json writes keys (each
 * preceded by ", ") before a finding's closing brace in nplus1_write_json,
 * print writes lines (starting with indent) after a finding in
 * nplus1_print.  Either may be NULL.
 */
void		nplus1_set_extra(struct nplus1 *d,
							 void (*json) (FILE *out, const struct nplus1_finding *f, void *arg),
							 void (*print) (FILE *out, const struct nplus1_finding *f,
											const char *indent, void *arg),
							 void *arg);

/* A JSON string literal for s (shared by report.c and cmd_analyze.c). */
void		nplus1_json_string(FILE *out, const char *s);

#endif							/* PERFDRIVER_NPLUS1_H */
