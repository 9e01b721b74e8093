/*
 * test_logparse.c
 *		Unit tests for driver/logparse.c on small logs written to a
 *		temporary file: fields a csvlog record does not have.
 *
 * No server needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logparse.h"
#include "unit.h"

#define MAX_SEEN 8

struct seen
{
	int			n;
	char		message[MAX_SEEN][128];
	char		detail[MAX_SEEN][128];
	bool		has_detail[MAX_SEEN];
};

static void
on_entry(void *arg, const struct logparse_entry *e)
{
	struct seen *s = arg;

	if (s->n >= MAX_SEEN)
		return;
	snprintf(s->message[s->n], sizeof(s->message[0]), "%.*s",
			 (int) e->message_len, e->message);
	s->has_detail[s->n] = e->detail != NULL || e->detail_len > 0;
	if (e->detail != NULL)
		snprintf(s->detail[s->n], sizeof(s->detail[0]), "%.*s",
				 (int) e->detail_len, e->detail);
	s->n++;
}

/* Parse text as a log of the given format; fills *s and *st. */
static bool
parse_text(const char *text, logparse_format format, struct seen *s,
		   struct logparse_stats *st)
{
	FILE	   *f = tmpfile();
	struct logparse_callbacks cb = {on_entry, NULL, s};
	char		err[256];
	bool		ok;

	memset(s, 0, sizeof(*s));
	fputs(text, f);
	fflush(f);
	rewind(f);
	ok = logparse_fd(fileno(f), format, &cb, st, err, sizeof(err));
	fclose(f);
	return ok;
}

/*
 * A record with 14 fields (no detail) after one with a detail: the first
 * crash the analyze fuzz target found read the earlier record's detail
 * offsets against the later record.
 */
static void
test_csv_missing_detail(void)
{
	static const char log[] =
		"2026-11-18 11:06:40.001 UTC,app,shop,117,[local],6560a1b2.75,1,SELECT,"
		"2026-11-18 11:06:40.000 UTC,3/1,0,LOG,00000,\"execute S1: SELECT 1\","
		"\"parameters: $1 = '5', $2 = \"\"x\"\"\",,,,,,,,,\"psql\",client backend,,0\n"
		"2026-11-18 11:06:41.001 UTC,app,shop,117,[local],6560a1b2.75,2,SELECT,"
		"2026-11-18 11:06:40.000 UTC,3/1,0,LOG,00000,\"statement: SELECT 2\"\n"
		"2026-11-18 11:06:42.001 UTC,app,shop,117,[local],6560a1b2.75,3,SELECT,"
		"2026-11-18 11:06:40.000 UTC,3/1,0,LOG,00000,statement: SELECT 3\n";
	struct seen s;
	struct logparse_stats st;

	CHECK(parse_text(log, LOGPARSE_CSVLOG, &s, &st), "parse");
	CHECK(s.n == 3, "entries: %d", s.n);
	CHECK(st.bad == 0, "bad: %llu", (unsigned long long) st.bad);
	CHECK_STR(s.message[0], "execute S1: SELECT 1");
	CHECK(s.has_detail[0], "first record has its detail");
	CHECK_STR(s.detail[0], "parameters: $1 = '5', $2 = \"x\"");
	CHECK_STR(s.message[1], "statement: SELECT 2");
	CHECK(!s.has_detail[1], "a quoted 14-field record has no detail: \"%s\"", s.detail[1]);
	CHECK_STR(s.message[2], "statement: SELECT 3");
	CHECK(!s.has_detail[2], "an unquoted 14-field record has no detail: \"%s\"", s.detail[2]);
}

int
main(void)
{
	test_csv_missing_detail();
	return UNIT_DONE("test_logparse");
}
