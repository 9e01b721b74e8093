/*
 * test_store_doc.c
 *		Unit tests for the stored-run document (driver/report.c with a
 *		struct pd_run_meta) and the JUnit writer (driver/junit.c): JSON and
 *		XML escaping, timestamps, and sketches that survive the trip through
 *		their text form.  No server needed.
 */
#include <math.h>
#include <stdlib.h>

#include "junit.h"
#include "report.h"
#include "script.h"
#include "sketch.h"
#include "store.h"
#include "unit.h"

/* Everything a FILE-writing function wrote, as a malloc'd string. */
#define CAPTURE(var, call) \
	do { \
		size_t		cap_len_; \
		FILE	   *f = open_memstream(&(var), &cap_len_); \
		call; \
		fclose(f); \
	} while (0)

static char *
escape(const char *s)
{
	char	   *out = NULL;

	CAPTURE(out, junit_escape(f, s));
	return out;
}

/*
 * The JSON string value of the first "key": after position from; NULL if
 * absent.  Decodes the escapes json_string() writes.
 */
static char *
json_field(const char *doc, const char *key, const char **from)
{
	char		pat[128];
	const char *p;
	char	   *out;
	size_t		o = 0;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(from && *from ? *from : doc, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	out = malloc(strlen(p) + 1);
	for (; *p && *p != '"'; p++)
	{
		if (*p == '\\')
		{
			p++;
			switch (*p)
			{
				case 'n':
					out[o++] = '\n';
					break;
				case 't':
					out[o++] = '\t';
					break;
				case 'r':
					out[o++] = '\r';
					break;
				case 'u':
					out[o++] = (char) strtol((char[]) {p[1], p[2], p[3], p[4], 0}, NULL, 16);
					p += 4;
					break;
				default:
					out[o++] = *p;
			}
		}
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	if (from)
		*from = p;
	return out;
}

static void
test_escape(void)
{
	char	   *e;

	e = escape("a&b<c>\"d'e");
	CHECK_STR(e, "a&amp;b&lt;c&gt;&quot;d&apos;e");
	free(e);
	e = escape("tab\tnl\ncr\r");
	CHECK_STR(e, "tab&#9;nl&#10;cr&#13;");
	free(e);
	/* control characters XML 1.0 cannot carry, and broken UTF-8 */
	e = escape("x\001y\033z\xff!\xc3(");
	CHECK_STR(e, "x?y?z?!?(");
	free(e);
	/* valid UTF-8 passes; overlong and surrogate forms do not */
	e = escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_STR(e, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	free(e);
	e = escape("\xc0\xaf|\xed\xa0\x80|\xef\xbf\xbe");
	CHECK_STR(e, "??|???|???");
	free(e);
	e = escape("");
	CHECK_STR(e, "");
	free(e);
}

/* A comparison row; the gate's extra fields are left at zero. */
#define ROW(sc, fp, q, m, b, c, ch, sp, v) \
	{.scope = (sc), .fingerprint = (fp), .query = (q), .metric = (m), .baseline = (b), \
	 .candidate = (c), .change = (ch), .spread = (sp), .verdict = (v)}

static void
test_junit(void)
{
	struct pd_cmp_row rows[] = {
		ROW("run", NULL, NULL, "p50_ms", 2.0, 3.0, 0.5, 0.04, "regression"),
		ROW("run", NULL, NULL, "tps", 400, 300, -0.25, 0.02, "regression"),
		ROW("statement", "aa01", "SELECT \"x\" FROM t WHERE a < $1 & b > $2", "p95_ms", 1, 2, 1, NAN, "regression"),
		ROW("statement", "aa01", "SELECT \"x\" FROM t WHERE a < $1 & b > $2", "p99_ms", 1, 1.01, 0.01, NAN, "unchanged"),
		ROW("statement", "bb02", "UPDATE t SET v = $1", "p95_ms", 1, 1, 0, NAN, "unchanged"),
		ROW("statement", "cc03", "DELETE FROM t", "p95_ms", NAN, 1, NAN, NAN, "new"),
	};
	struct pd_cmp c = {
		.candidate = 42, .baseline = 0, .last_n = 5, .threshold = 0.1,
		.name = "nightly <main> & \"x\"", .nrows = 6, .rows = rows, .regressions = 3,
	};
	char	   *x = NULL;
	bool		ok = false;

	CAPTURE(x, ok = junit_write_stream(f, &c));
	CHECK(ok, "junit_write_stream failed");
	CHECK(strncmp(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0, "XML declaration");
	CHECK(strstr(x, "<testsuites tests=\"4\" failures=\"2\">") != NULL,
		  "four cases (run + three statements), two failed:\n%s", x);
	CHECK(strstr(x, "name=\"perfdriver.nightly &lt;main&gt; &amp; &quot;x&quot;\"") != NULL,
		  "suite name escaped:\n%s", x);
	CHECK(strstr(x, "name=\"SELECT &quot;x&quot; FROM t WHERE a &lt; $1 &amp; b &gt; $2\"") != NULL,
		  "statement name escaped:\n%s", x);
	CHECK(strstr(x, "message=\"p50_ms: baseline 2, candidate 3 (+50.0%); tps: baseline 400, candidate 300 (-25.0%)\"") != NULL,
		  "run failure lists both metrics:\n%s", x);
	CHECK(strstr(x, "message=\"p95_ms: baseline 1, candidate 2 (+100.0%)\"") != NULL,
		  "statement failure lists p95 only:\n%s", x);
	CHECK(strstr(x, "name=\"UPDATE t SET v = $1\"></testcase>") != NULL,
		  "unchanged statement passes:\n%s", x);
	CHECK(strstr(x, "<property name=\"baseline\" value=\"last:5\"/>") != NULL, "baseline property");
	/* exactly two failure elements, each closed */
	{
		int			open = 0,
					close = 0;

		for (const char *p = x; (p = strstr(p, "<failure ")) != NULL; p++)
			open++;
		for (const char *p = x; (p = strstr(p, "</failure>")) != NULL; p++)
			close++;
		CHECK(open == 2 && close == 2, "failures: %d open, %d closed", open, close);
	}
	free(x);

	/* --gate-metrics p95_ms: only the statement's p95 counts */
	pd_cmp_set_gate(&c, "p95_ms");
	CHECK(c.regressions == 1, "gated regressions: %d", c.regressions);
	CAPTURE(x, ok = junit_write_stream(f, &c));
	CHECK(strstr(x, "<testsuites tests=\"4\" failures=\"1\">") != NULL,
		  "one failed case with the gate:\n%s", x);
	CHECK(strstr(x, "name=\"run\"></testcase>") != NULL, "run passes with the gate:\n%s", x);
	free(x);
	pd_cmp_set_gate(&c, NULL);
	CHECK(c.regressions == 3, "all regressions: %d", c.regressions);
}

static void
test_timestamps(void)
{
	char		buf[64];
	const char *b = buf;

	report_format_timestamp(1700000000.5, buf, sizeof(buf));
	CHECK_STR(b, "2023-11-14T22:13:20.500000+00:00");
	report_format_timestamp(1700000000.9999996, buf, sizeof(buf));
	CHECK_STR(b, "2023-11-14T22:13:21.000000+00:00");
	report_format_timestamp(0.000001, buf, sizeof(buf));
	CHECK_STR(b, "1970-01-01T00:00:00.000001+00:00");
}

/* The same sketch: count, min, max and every quantile we report. */
static bool
same_sketch(const struct sketch *a, const struct sketch *b)
{
	static const double qs[] = {0.0, 0.5, 0.95, 0.99, 0.999, 1.0};

	if (a->count != b->count || a->min != b->min || a->max != b->max)
		return false;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		if (sketch_quantile(a, qs[i]) != sketch_quantile(b, qs[i]))
			return false;
	return true;
}

static struct sketch *
parse_sketch(const char *text)
{
	struct sketch *s = NULL;
	char		err[256];

	if (text == NULL ||
		sketch_from_text(text, &s, &pd_sketch_alloc, err, sizeof(err)) != SKETCH_OK)
		return NULL;
	return s;
}

static void
test_document(void)
{
	char		err[512];
	struct pgb_script *sc = pgb_script_parse("a \"quoted\" name.sql",
											 "SELECT pg_sleep(0.002);\nSELECT 'x\\y' || $$\"$$;\n",
											 err, sizeof(err));
	struct pgb_script *scripts[1] = {sc};
	struct pd_stats st;
	struct pd_interval iv[2];
	struct pd_sketch_log log = {0};
	struct sketch *ivs[2];
	struct pd_label labels[] = {{"branch", "main"}, {"q\"k\\", "v\n<x>"}};
	struct pd_run_meta meta = {
		.name = "nightly \"a\"", .run_group = NULL, .labels = labels, .nlabels = 2,
		.host = "host1", .started_at = 1700000000.25, .finished_at = 1700000002.25,
		.duration_opt_s = 2, .scale = 1, .seed = 7, .progress_s = 1,
		.interval_sketches = &log,
	};
	struct pd_report r = {
		.target = "dbname=x", .clients = 2, .threads = 1, .protocol = "simple",
		.max_tries = 1, .nscripts = 1, .scripts = scripts, .stats = &st,
		.duration_s = 2.0, .connect_ms = 1.0, .intervals = iv, .nintervals = 2,
		.meta = &meta,
	};
	char	   *doc;
	char	   *v;
	const char *pos;
	struct sketch *s;

	CHECK(sc != NULL, "script parse: %s", err);
	if (sc == NULL)
		return;
	sketch_prepare_alpha(PD_SKETCH_ALPHA);
	pd_stats_init(&st, scripts, 1);
	for (int i = 0; i < 2; i++)
		ivs[i] = pd_sketch_new();
	for (int i = 1; i <= 1000; i++)
	{
		double		ms = 0.5 + (i % 97) * 0.37;

		pd_sketch_add(&st.lat, ms);
		pd_sketch_add(&st.scripts[0].lat, ms);
		pd_sketch_add(&st.scripts[0].stmts[0].lat, ms * 0.8);
		pd_sketch_add(&st.scripts[0].stmts[1].lat, ms * 0.2);
		pd_sketch_add(&ivs[i % 2], ms);
		st.scripts[0].stmts[0].calls++;
		st.scripts[0].stmts[1].calls++;
	}
	st.transactions = st.scripts[0].transactions = 1000;
	for (int i = 0; i < 2; i++)
	{
		struct pd_interval_acc a = {.transactions = ivs[i]->count, .lat = ivs[i]};

		pd_interval_summarise(&a, i + 1.0, 1.0, false, &iv[i]);
		pd_sketch_log_add(&log, ivs[i]);
	}

	doc = report_json(&r, NULL);
	CHECK(doc != NULL, "no document");

	pos = strstr(doc, "\n  \"name\"");	/* the run's, not a script's */
	v = json_field(doc, "name", &pos);
	CHECK_STR(v, "nightly \"a\"");
	free(v);
	CHECK(strstr(doc, "\"run_group\": null") != NULL, "run_group null");
	CHECK(strstr(doc, "\"labels\": {\"branch\": \"main\", \"q\\\"k\\\\\": \"v\\n<x>\"}") != NULL,
		  "labels escaped");
	v = json_field(doc, "started_at", NULL);
	CHECK_STR(v, "2023-11-14T22:13:20.250000+00:00");
	free(v);
	v = json_field(doc, "finished_at", NULL);
	CHECK_STR(v, "2023-11-14T22:13:22.250000+00:00");
	free(v);
	CHECK(strstr(doc, "\"scripts\": [{\"name\": \"a \\\"quoted\\\" name.sql\", \"weight\": 1}]") != NULL,
		  "config scripts");
	CHECK(strstr(doc, "\"duration_s\": 2.000000, \"rate\": null") != NULL, "config duration");

	/* the run's sketch, at the end of the document */
	pos = strstr(doc, "\"host\"");
	v = json_field(doc, "latency_sketch", &pos);
	s = parse_sketch(v);
	CHECK(s != NULL && same_sketch(s, st.lat), "run sketch survives its text form");
	free(s);
	free(v);

	/* statements: the first sketch after each fingerprint */
	pos = strstr(doc, "\"statements\"");
	for (int k = 0; k < 2; k++)
	{
		v = json_field(doc, "latency_sketch", &pos);
		s = parse_sketch(v);
		CHECK(s != NULL && same_sketch(s, st.scripts[0].stmts[k].lat),
			  "statement %d sketch survives its text form", k);
		free(s);
		free(v);
	}

	/* intervals: started_at = run start + t_s - length_s, and the sketch */
	pos = strstr(doc, "\"intervals\"");
	for (int i = 0; i < 2; i++)
	{
		char		wantbuf[64];
		const char *want = wantbuf;

		v = json_field(doc, "started_at", &pos);
		report_format_timestamp(1700000000.25 + i, wantbuf, sizeof(wantbuf));
		CHECK_STR(v, want);
		free(v);
		v = json_field(doc, "latency_sketch", &pos);
		s = parse_sketch(v);
		CHECK(s != NULL && same_sketch(s, ivs[i]), "interval %d sketch survives", i);
		free(s);
		free(v);
	}

	/* without meta: the plain report, no store fields */
	free(doc);
	r.meta = NULL;
	doc = report_json(&r, NULL);
	CHECK(strstr(doc, "latency_sketch") == NULL && strstr(doc, "\"name\": \"nightly") == NULL,
		  "plain report has no store fields");
	free(doc);

	for (int i = 0; i < 2; i++)
		free(ivs[i]);
	pd_sketch_log_free(&log);
	pd_stats_free(&st);
	pgb_script_free(sc);
}

static void
test_exit_codes(void)
{
	/* 2 > 4 > 3 > 1 > 0 */
	CHECK(pd_exit_combine(0, 1) == 1, "0,1");
	CHECK(pd_exit_combine(1, 3) == 3, "1,3");
	CHECK(pd_exit_combine(3, 1) == 3, "3,1");
	CHECK(pd_exit_combine(3, 4) == 4, "3,4");
	CHECK(pd_exit_combine(4, 2) == 2, "4,2");
	CHECK(pd_exit_combine(2, 4) == 2, "2,4");
	CHECK(pd_exit_combine(1, 4) == 4, "1,4");
	CHECK(pd_exit_combine(0, 0) == 0, "0,0");
	/* 5 (a missed target) and 130 (interrupted) in the order */
	CHECK(pd_exit_combine(3, 5) == 5 && pd_exit_combine(5, 3) == 5, "5 over 3");
	CHECK(pd_exit_combine(5, 1) == 5, "5 over 1");
	CHECK(pd_exit_combine(4, 5) == 4 && pd_exit_combine(2, 5) == 2, "4 and 2 over 5");
	CHECK(pd_exit_combine(130, 5) == 130 && pd_exit_combine(1, 130) == 130, "130 over 5 and 1");
	CHECK(pd_exit_combine(130, 4) == 4 && pd_exit_combine(2, 130) == 2, "4 and 2 over 130");
}

static void
test_parse(void)
{
	int64_t		id;
	int			last;
	double		f;

	CHECK(pd_parse_baseline("last:5", &id, &last) && last == 5 && id == 0, "last:5");
	CHECK(pd_parse_baseline("17", &id, &last) && id == 17 && last == 0, "17");
	CHECK(!pd_parse_baseline("last:0", &id, &last), "last:0");
	CHECK(!pd_parse_baseline("last:", &id, &last), "last:");
	CHECK(!pd_parse_baseline("0", &id, &last), "0");
	CHECK(!pd_parse_baseline("-3", &id, &last), "-3");
	CHECK(!pd_parse_baseline("12x", &id, &last), "12x");
	CHECK(pd_parse_percent("12.5", &f) && fabs(f - 0.125) < 1e-12, "12.5");
	CHECK(!pd_parse_percent("-1", &f), "-1");
	CHECK(!pd_parse_percent("nan", &f), "nan");
	CHECK(!pd_parse_percent("10%", &f), "10%%");
	{
		const char *g = "x";

		CHECK(pd_parse_gate_metrics("p50_ms,tps", &g) && strcmp(g, "p50_ms,tps") == 0, "p50_ms,tps");
		CHECK(pd_parse_gate_metrics("all", &g) && g == NULL, "all");
		CHECK(!pd_parse_gate_metrics("p50", &g), "p50");
		CHECK(!pd_parse_gate_metrics("p50_ms,", &g), "trailing comma");
		CHECK(!pd_parse_gate_metrics("", &g), "empty");
		CHECK(pd_metric_listed("tps,p50_ms", "p50_ms") && !pd_metric_listed("tps,p50_ms", "p50"),
			  "listed");
	}
}

int
main(void)
{
	test_escape();
	test_junit();
	test_timestamps();
	test_document();
	test_exit_codes();
	test_parse();
	return UNIT_DONE("test_store_doc");
}
