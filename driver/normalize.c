/*
 * normalize.c
 *		Statement normalization and fingerprints on top of libpg_query,
 *		with a lexical fallback for text PostgreSQL's parser rejects.
 *
 * Owns: what "the same statement" means in perfdriver's reports and in N+1
 * detection: statements whose parse trees differ only in constants or
 * parameter numbers share a fingerprint (pg_query_fingerprint ignores
 * both), and the normalized text shows constants as $n
 * (pg_query_normalize).  The display text is trimmed, runs of whitespace
 * outside quotes become one space and a trailing semicolon is dropped.
 *
 * Fallback: when libpg_query cannot parse the text (a client-side syntax
 * error, a fragment of a server log) the lexical normalizer replaces
 * numbers and quoted strings by $n and the fingerprint is FNV-1a over that
 * text, lower-cased outside double quotes, so a fingerprint always exists.
 *
 * Must not: talk to libpq.  Thread-safe: libpg_query keeps its memory
 * per thread.
 *
 * Memory: returned strings are malloc'd; the caller frees them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "driver.h"
#include "normalize.h"

/* -------------------------------------------------------------------------
 * Helpers
 * -------------------------------------------------------------------------
 */

static uint64_t
normalize_fnv1a(const char *s)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		h ^= *p;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/*
 * Length of the quoted token starting at s (a '...' or E'...' string, a
 * "..." identifier or a $tag$...$tag$ string), or 0 if s starts none.  An
 * unterminated token extends to the end of the text.
 */
static size_t
normalize_quoted_len(const char *s)
{
	const char *p = s;

	if ((*p == 'E' || *p == 'e') && p[1] == '\'')
	{
		p += 2;
		while (*p)
		{
			if (*p == '\\' && p[1])
				p += 2;
			else if (*p == '\'' && p[1] == '\'')
				p += 2;
			else if (*p == '\'')
				return (size_t) (p + 1 - s);
			else
				p++;
		}
		return (size_t) (p - s);
	}
	if (*p == '\'' || *p == '"')
	{
		char		q = *p++;

		while (*p)
		{
			if (*p == q && p[1] == q)
				p += 2;
			else if (*p == q)
				return (size_t) (p + 1 - s);
			else
				p++;
		}
		return (size_t) (p - s);
	}
	if (*p == '$')
	{
		const char *t = p + 1;
		size_t		taglen;
		const char *end;

		while (*t && (isalnum((unsigned char) *t) || *t == '_' ||
					  (unsigned char) *t >= 0x80))
			t++;
		if (*t != '$' || isdigit((unsigned char) p[1]))
			return 0;
		taglen = (size_t) (t + 1 - p);
		for (end = t + 1; *end; end++)
		{
			if (*end == '$' && strncmp(end, p, taglen) == 0)
				return (size_t) (end + taglen - s);
		}
		return (size_t) (end - s);
	}
	return 0;
}

/*
 * Collapse whitespace outside quotes, trim, drop a trailing ';'.  Returns a
 * malloc'd string.
 */
static char *
normalize_tidy(const char *in)
{
	size_t		n = strlen(in);
	char	   *out = pd_malloc(n + 1);
	char	   *o = out;
	const char *p = in;
	bool		pending_space = false;

	while (*p)
	{
		size_t		q;

		if (isspace((unsigned char) *p))
		{
			pending_space = (o != out);
			p++;
			continue;
		}
		if (pending_space)
			*o++ = ' ';
		pending_space = false;
		q = normalize_quoted_len(p);
		if (q > 0)
		{
			memcpy(o, p, q);
			o += q;
			p += q;
			continue;
		}
		*o++ = *p++;
	}
	while (o > out && (o[-1] == ';' || o[-1] == ' '))
		o--;
	*o = '\0';
	return out;
}

/* -------------------------------------------------------------------------
 * Lexical fallback
 * -------------------------------------------------------------------------
 */

static bool
normalize_ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Highest $n in text, outside quotes and comments. */
static int
normalize_max_param(const char *sql)
{
	int			max = 0;
	const char *p = sql;

	while (*p)
	{
		size_t		q;

		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '$' && isdigit((unsigned char) p[1]) &&
			(p == sql || !normalize_ident_char((unsigned char) p[-1])))
		{
			int			v = 0;

			p++;
			while (isdigit((unsigned char) *p))
			{
				if (v < 100000)
					v = v * 10 + (*p - '0');
				p++;
			}
			if (v > max)
				max = v;
			continue;
		}
		q = normalize_quoted_len(p);
		p += q > 0 ? q : 1;
	}
	return max;
}

char *
pgb_normalize_lexical(const char *sql)
{
	size_t		n = strlen(sql);
	int			next = normalize_max_param(sql) + 1;

	/* each replaced literal is at least 1 char and becomes at most 7 */
	char	   *out = pd_malloc(n * 7 + 16);
	char	   *o = out;
	const char *p = sql;
	bool		pending_space = false;

	while (*p)
	{
		const unsigned char c = (unsigned char) *p;
		size_t		q;

		/* comments */
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
			pending_space = (o != out);
			continue;
		}
		if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 1;

			p += 2;
			while (*p && depth > 0)
			{
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else
					p++;
			}
			pending_space = (o != out);
			continue;
		}
		if (isspace(c))
		{
			pending_space = (o != out);
			p++;
			continue;
		}
		if (pending_space)
			*o++ = ' ';
		pending_space = false;

		/* identifiers and keywords (may contain digits): copy, lower-cased */
		if ((isalpha(c) || c == '_' || c >= 0x80) &&
			!((c == 'E' || c == 'e') && p[1] == '\''))
		{
			while (*p && normalize_ident_char((unsigned char) *p))
				*o++ = (char) tolower((unsigned char) *p++);
			continue;
		}
		/* existing parameters */
		if (c == '$' && isdigit((unsigned char) p[1]))
		{
			*o++ = *p++;
			while (isdigit((unsigned char) *p))
				*o++ = *p++;
			continue;
		}
		/* numbers */
		if (isdigit(c) || (c == '.' && isdigit((unsigned char) p[1])))
		{
			while (isalnum((unsigned char) *p) || *p == '.' ||
				   ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			o += sprintf(o, "$%d", next++);
			continue;
		}
		q = normalize_quoted_len(p);
		if (q > 0 && *p == '"')
		{
			memcpy(o, p, q);	/* quoted identifier: keep, case and all */
			o += q;
			p += q;
			continue;
		}
		if (q > 0)
		{
			o += sprintf(o, "$%d", next++);
			p += q;
			continue;
		}
		*o++ = *p++;
	}
	while (o > out && (o[-1] == ';' || o[-1] == ' '))
		o--;
	*o = '\0';
	return out;
}

/* -------------------------------------------------------------------------
 * Public entry points
 * -------------------------------------------------------------------------
 */

void
pgb_normalize(const char *sql, struct pgb_normalized *out)
{
	PgQueryNormalizeResult nr;
	PgQueryFingerprintResult fr;

	nr = pg_query_normalize(sql);
	if (nr.error == NULL && nr.normalized_query != NULL)
	{
		fr = pg_query_fingerprint(sql);
		if (fr.error == NULL)
		{
			out->fingerprint = fr.fingerprint;
			out->text = normalize_tidy(nr.normalized_query);
			out->fallback = false;
			pg_query_free_fingerprint_result(fr);
			pg_query_free_normalize_result(nr);
			return;
		}
		pg_query_free_fingerprint_result(fr);
	}
	pg_query_free_normalize_result(nr);

	out->text = pgb_normalize_lexical(sql);
	out->fingerprint = normalize_fnv1a(out->text);
	out->fallback = true;
}

void
pgb_normalized_free(struct pgb_normalized *n)
{
	if (n == NULL)
		return;
	free(n->text);
	n->text = NULL;
}

uint64_t
pgb_fingerprint(const char *sql)
{
	struct pgb_normalized n;
	uint64_t	fp;

	pgb_normalize(sql, &n);
	fp = n.fingerprint;
	pgb_normalized_free(&n);
	return fp;
}

char *
pgb_normalize_text(const char *sql)
{
	struct pgb_normalized n;

	pgb_normalize(sql, &n);
	return n.text;
}

void
pgb_normalize_thread_done(void)
{
	pg_query_exit();
}

const char *
pgb_normalize_parser_version(void)
{
	return PG_VERSION;
}
