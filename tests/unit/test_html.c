/*
 * test_html.c
 *		Unit tests of the HTML report's parts that need no browser: the
 *		histogram's binning of sketch buckets, the flame graph's parsing of
 *		collapsed stacks, escaping, and that a document's text can never
 *		become markup.  (tests/suites/report_html.sh looks at whole pages
 *		in Chromium.)
 */
#include "html.h"
#include "driver.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What f wrote, as a string (caller frees). */
static char *
capture_begin(FILE **f, char **buf, size_t *len)
{
	*f = open_memstream(buf, len);
	return NULL;
}

static int
count(const char *hay, const char *needle)
{
	int			n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void
test_escape(void)
{
	FILE	   *f;
	char	   *buf = NULL;
	size_t		len = 0;

	capture_begin(&f, &buf, &len);
	html_text(f, "<a href=\"x\">&'</a>");
	fclose(f);
	CHECK_STR(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	free(buf);
}

static void
test_bins(void)
{
	struct sketch *s = pd_sketch_new();
	struct hist_bins b;
	uint64_t	sum = 0;
	int			k1,
				k100;

	/* 1000 values at 1 ms, 10 at 100 ms, 5 zeros */
	for (int i = 0; i < 1000; i++)
		pd_sketch_add(&s, 1.0);
	for (int i = 0; i < 10; i++)
		pd_sketch_add(&s, 100.0);
	for (int i = 0; i < 5; i++)
		pd_sketch_add(&s, 0.0);
	hist_bins_layout(&b, 1.0, 100.0);
	CHECK(b.n == 50, "2 decades at 25 a decade: %d bins", b.n);
	CHECK(b.lo <= 1.0 && b.lo > 0.99, "lowest edge %g at or below the minimum", b.lo);
	CHECK(b.lo * pow(10, b.step * b.n) >= 100.0, "the top edge covers the maximum");
	hist_bins_fill(&b, s);
	for (int i = 0; i < b.n; i++)
		sum += b.count[i];
	CHECK(sum == 1015 && b.total == 1015, "every value binned: %llu", (unsigned long long) sum);
	k1 = 0;
	k100 = b.n - 1;
	CHECK(b.count[k1] == 1005, "1 ms and the zeros in the first bin: %llu",
		  (unsigned long long) b.count[k1]);
	CHECK(b.count[k100] == 10, "100 ms in the last bin: %llu", (unsigned long long) b.count[k100]);
	for (int i = 1; i < b.n - 1; i++)
		CHECK(b.count[i] == 0, "bin %d empty", i);
	free(b.count);

	/* a narrow range still gets at least 8 bins; a wide one at most 60 */
	hist_bins_layout(&b, 1.0, 1.01);
	CHECK(b.n == 8, "narrow range: %d bins", b.n);
	hist_bins_layout(&b, 0.001, 100000);
	CHECK(b.n == 60, "wide range: %d bins", b.n);
	free(s);
}

static void
test_flame(void)
{
	FILE	   *f;
	char	   *buf = NULL;
	size_t		len = 0;
	int			skipped;
	uint64_t	total;

	capture_begin(&f, &buf, &len);
	total = chart_flame_write(f, "fl", "t",
							  "a;b;c 3\n"
							  "a;b 2\r\n"
							  "a;d <x> 5\n"
							  "no count here\n"
							  "\n"
							  "e 0\n"
							  "a;b;c 1", &skipped);
	fclose(f);
	CHECK(total == 11, "samples: %llu", (unsigned long long) total);
	CHECK(skipped == 2, "lines skipped: %d", skipped);
	/* all, a, b, c, "d <x>" */
	CHECK(count(buf, "<g class=\"fr\"") == 5, "frames: %d", count(buf, "<g class=\"fr\""));
	CHECK(strstr(buf, "d &lt;x&gt;\n5 samples") != NULL, "a frame's name is escaped, its count kept");
	CHECK(strstr(buf, "c\n4 samples") != NULL, "the same stack merges (3 + 1)");
	CHECK(strstr(buf, "data-samples=\"11\"") != NULL, "the total is on the svg");
	free(buf);

	buf = NULL;
	capture_begin(&f, &buf, &len);
	total = chart_flame_write(f, "fl", "t", "", &skipped);
	fclose(f);
	CHECK(total == 0 && len == 0, "no samples: nothing written");
	free(buf);
}

/* A document's strings can never become markup or a load. */
static void
test_document_text(void)
{
	const char *doc =
		"{\"name\": \"</title><script>alert(1)</script>\","
		" \"tps\": 1, \"transactions\": 1, \"latency_ms\": {\"p50\": 1},"
		" \"labels\": {\"<img src=x>\": \"\\\"onload=\"},"
		" \"statements\": [{\"query\": \"SELECT '</pre><script src=//x></script>'\", \"calls\": 1,"
		"   \"plan\": {\"<b>\": 1}, \"waits\": {\"<i>\": 0.5}}],"
		" \"nplus1_findings\": [{\"source\": \"<s>\", \"repeated\": \"<r>\", \"suggestion\": \"<u>\","
		"   \"example_params\": [\"<y>\"]}],"
		" \"index_advice\": [{\"create_index\": \"<c>\", \"query\": \"<q>\", \"statements\": [\"<st>\"]}],"
		" \"lock_waits\": [{\"<k>\": \"<v>\"}], \"waits\": {\"<w>\": 1},"
		" \"assertions\": [{\"expr\": \"<e>\", \"passed\": false, \"reason\": \"<why>\"}],"
		" \"flamegraph\": {\"folded\": \"<f>;<g> 3\\n\"}}";
	json_error_t je;
	json_t	   *j = json_loads(doc, 0, &je);
	struct html_run r = {.doc = j};
	char		err[256];
	char		path[] = "/tmp/pd_test_html.XXXXXX";
	int			fd = mkstemp(path);
	char	   *text;

	CHECK(j != NULL, "the test document parses: %s", je.text);
	close(fd);
	CHECK(html_write_run(path, &r, err, sizeof(err)), "written: %s", err);
	text = pd_read_text_file(path, 1 << 20, err, sizeof(err));
	CHECK(text != NULL, "read back");
	if (text)
	{
		/* the page's own script is the only one */
		CHECK(count(text, "<script") == 1, "one script element: %d", count(text, "<script"));
		CHECK(strstr(text, "<img") == NULL && strstr(text, "<script src") == NULL, "no element that loads");
		for (const char *t = "syrcqkvweg"; *t; t++)
		{
			char		raw[8];

			snprintf(raw, sizeof(raw), "<%c>", *t);
			CHECK(strstr(text, raw) == NULL, "%s escaped", raw);
		}
		CHECK(strstr(text, "&lt;/title&gt;&lt;script&gt;") != NULL, "the name shows as text");
		CHECK(strstr(text, "<section id=\"assertions\">") && strstr(text, "<section id=\"index-advice\">") &&
			  strstr(text, "<section id=\"waits\">") && strstr(text, "<section id=\"flamegraph\">"),
			  "every section of a present key");
		CHECK(strstr(text, "<section id=\"over-time\">") == NULL &&
			  strstr(text, "<section id=\"distribution\">") == NULL,
			  "no section for absent intervals and sketches");
		CHECK(strstr(text, "Content-Security-Policy") != NULL, "the page forbids loads");
	}
	free(text);
	unlink(path);
	json_decref(j);
}

int
main(void)
{
	test_escape();
	test_bins();
	test_flame();
	test_document_text();
	return UNIT_DONE("test_html");
}
