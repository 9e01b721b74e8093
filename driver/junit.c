/*
 * junit.c
 *		JUnit XML for comparisons (see junit.h).
 *
 * Owns: the XML shape.  A test case is the whole run ("run") or one
 * statement (named by its normalized text); it fails when any of its
 * gated metrics (all unless --gate-metrics) has the verdict "regression",
 * and its failure element lists those metrics with baseline, candidate and
 * change.  Rows of one statement are
 * adjacent in the comparison's order (by query, then metric; the text
 * report sorts by severity, this file does not), which is what the
 * grouping below relies on.  Target assertions (targets.c) follow, one
 * test case each.
 *
 * Must not: depend on anything but the C library, libjansson (through
 * targets.h) and store.h's types.
 *
 * Memory: none kept.
 */
#include "junit.h"
#include "targets.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static int
utf8_len(const unsigned char *p)
{
	int			n;
	uint32_t	cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0)
	{
		n = 2;
		cp = p[0] & 0x1F;
	}
	else if ((p[0] & 0xF0) == 0xE0)
	{
		n = 3;
		cp = p[0] & 0x0F;
	}
	else if ((p[0] & 0xF8) == 0xF0)
	{
		n = 4;
		cp = p[0] & 0x07;
	}
	else
		return 0;
	for (int i = 1; i < n; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	/* overlong forms, surrogates, beyond Unicode, and U+FFFE/U+FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
		(n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
		cp > 0x10FFFF || cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return n;
}

void
junit_escape(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");

	while (*p)
	{
		int			n;

		switch (*p)
		{
			case '&':
				fputs("&amp;", f);
				p++;
				continue;
			case '<':
				fputs("&lt;", f);
				p++;
				continue;
			case '>':
				fputs("&gt;", f);
				p++;
				continue;
			case '"':
				fputs("&quot;", f);
				p++;
				continue;
			case '\'':
				fputs("&apos;", f);
				p++;
				continue;
			case '\t':
				fputs("&#9;", f);
				p++;
				continue;
			case '\n':
				fputs("&#10;", f);
				p++;
				continue;
			case '\r':
				fputs("&#13;", f);
				p++;
				continue;
			default:
				break;
		}
		if (*p < 0x20)
		{
			fputc('?', f);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0)
		{
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

static bool
is_run_row(const struct pd_cmp_row *r)
{
	return r->scope == NULL || strcmp(r->scope, "run") == 0;
}

static bool
same_case(const struct pd_cmp_row *a, const struct pd_cmp_row *b)
{
	if (is_run_row(a) || is_run_row(b))
		return is_run_row(a) && is_run_row(b);
	if (a->fingerprint && b->fingerprint)
		return strcmp(a->fingerprint, b->fingerprint) == 0;
	return a->query && b->query && strcmp(a->query, b->query) == 0;
}


static void
num(FILE *f, double v)
{
	if (isnan(v))
		fputs("-", f);
	else
		fprintf(f, "%.6g", v);
}

/* "p95_ms: baseline 2.1, candidate 3.2 (+52.4%)" */
static void
describe(FILE *f, const struct pd_cmp_row *r)
{
	junit_escape(f, r->metric ? r->metric : "?");
	fputs(": baseline ", f);
	num(f, r->baseline);
	fputs(", candidate ", f);
	num(f, r->candidate);
	if (!isnan(r->change))
		fprintf(f, " (%+.1f%%)", 100.0 * r->change);
}

bool
junit_write_stream(FILE *f, const struct pd_cmp *c)
{
	int			ncases = 0;
	int			nfailed = 0;
	const char *name = c->name ? c->name : "run";

	for (int i = 0; i < c->nrows; i++)
	{
		bool		first = i == 0 || !same_case(&c->rows[i - 1], &c->rows[i]);

		if (first)
			ncases++;
	}
	for (int i = 0; i < c->nrows;)
	{
		int			j = i;
		bool		failed = false;

		while (j < c->nrows && same_case(&c->rows[i], &c->rows[j]))
			failed |= pd_cmp_gated(c, &c->rows[j++]);
		nfailed += failed;
		i = j;
	}
	if (c->assertions != NULL)
	{
		ncases += c->assertions->n;
		nfailed += pd_assert_failures(c->assertions);
	}

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites tests=\"%d\" failures=\"%d\">\n", ncases, nfailed);
	fputs("  <testsuite name=\"perfdriver.", f);
	junit_escape(f, name);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\">\n", ncases, nfailed);
	if (c->candidate > 0 && (c->baseline > 0 || c->last_n > 0))
	{
		fputs("    <properties>\n", f);
		fprintf(f, "      <property name=\"candidate\" value=\"%lld\"/>\n",
				(long long) c->candidate);
		if (c->last_n > 0)
		{
			fprintf(f, "      <property name=\"baseline\" value=\"last:%d\"/>\n", c->last_n);
			fprintf(f, "      <property name=\"baseline_runs\" value=\"%d\"/>\n", c->nbase);
		}
		else
			fprintf(f, "      <property name=\"baseline\" value=\"%lld\"/>\n",
					(long long) c->baseline);
		fprintf(f, "      <property name=\"threshold\" value=\"%.6g\"/>\n", c->threshold);
		fputs("    </properties>\n", f);
	}

	for (int i = 0; i < c->nrows;)
	{
		const struct pd_cmp_row *head = &c->rows[i];
		int			j = i;
		int			nreg = 0;

		while (j < c->nrows && same_case(head, &c->rows[j]))
			nreg += pd_cmp_gated(c, &c->rows[j++]);

		fputs("    <testcase classname=\"perfdriver.", f);
		junit_escape(f, name);
		fputs("\" name=\"", f);
		if (is_run_row(head))
			fputs("run", f);
		else
			junit_escape(f, head->query ? head->query : head->fingerprint);
		fputs("\">", f);
		if (nreg > 0)
		{
			bool		first = true;

			fputs("\n      <failure type=\"regression\" message=\"", f);
			for (int k = i; k < j; k++)
				if (pd_cmp_gated(c, &c->rows[k]))
				{
					fputs(first ? "" : "; ", f);
					describe(f, &c->rows[k]);
					first = false;
				}
			fputs("\">", f);
			for (int k = i; k < j; k++)
				if (pd_cmp_gated(c, &c->rows[k]))
				{
					describe(f, &c->rows[k]);
					fputs(", noise ", f);
					if (isnan(c->rows[k].noise))
						fputs("-", f);
					else
						fprintf(f, "%.1f%%", 100.0 * c->rows[k].noise);
					fputs("&#10;", f);
				}
			if (!is_run_row(head) && head->fingerprint)
			{
				fputs("fingerprint ", f);
				junit_escape(f, head->fingerprint);
			}
			fputs("</failure>\n    ", f);
		}
		fputs("</testcase>\n", f);
		i = j;
	}
	if (c->assertions != NULL)
		pd_assert_junit_cases(f, c->assertions, name, junit_escape);
	fputs("  </testsuite>\n</testsuites>\n", f);
	return !ferror(f);
}

bool
junit_write(const char *path, const struct pd_cmp *c, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "w");
	bool		ok;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path,
				 strerror(errno));
		return false;
	}
	ok = junit_write_stream(f, c);
	ok = (fclose(f) == 0) && ok;
	if (!ok)
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
	return ok;
}
