/*
 * test_flamegraph.c
 *		Unit tests for driver/flamegraph.c and driver/flamesvg.c: collapsing
 *		hand-written "perf script" text (kernel frames, [unknown] frames,
 *		shared objects, multi-line records, headers in both formats, the
 *		time window, statement roots, very deep stacks), the folded format,
 *		packing, module classes, and the SVG of ordinary and differential
 *		graphs.
 */
#define _GNU_SOURCE

#include <stdlib.h>

#include "flamegraph.h"
#include "flamerun.h"
#include "unit.h"

/* Collapse text with opts into a fresh set. */
static void
collapse(const char *text, const struct pd_collapse_opts *o, struct pd_folded *f,
		 struct pd_collapse_stats *st)
{
	FILE	   *in = fmemopen((void *) text, strlen(text), "r");

	pd_folded_init(f);
	CHECK(pd_collapse_perf(in, o, f, st), "collapse read");
	fclose(in);
}

/* The count of stack in f, 0 when absent. */
static uint64_t
count_of(const struct pd_folded *f, const char *stack)
{
	for (size_t i = 0; i < f->cap; i++)
		if (f->key[i] != NULL && strcmp(f->key[i], stack) == 0)
			return f->count[i];
	return 0;
}

static char *
folded_string(const struct pd_folded *f)
{
	size_t		len;

	return pd_folded_text(f, &len);
}

/* Two records in perf script's default format and one in -F format. */
static const char script1[] =
"# ========\n"
"# captured on    : Sun Dec  6 04:31:14 2026\n"
"# ========\n"
"#\n"
"postgres 21348 [001]   330.950306:   10101010 cpu-clock:ppp: \n"
"\t          5d8150 MemoryContextReset+0x0 (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          31485c [unknown] (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          303d1a standard_ExecutorRun+0x15a (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          480262 PortalRun+0x192 (/usr/lib/postgresql/15/bin/postgres)\n"
"\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
"\n"
"postgres 21348/21348   330.964069:   10101010 cpu-clock:ppp: \n"
"\tffffffff81ba4ae2 copy_page_to_iter+0x2 ([kernel.kallsyms])\n"
"\tffffffff8223c951 do_syscall_64+0x71 ([kernel.kallsyms])\n"
"\tffffffffc0a1b2c3 [unknown] ([ext4])\n"
"\t           f63d3 __libc_pread+0x13 (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
"\t          44dbed BufFileRead+0x11d (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          31485c [unknown] (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          303d1a standard_ExecutorRun+0x15a (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          480262 PortalRun+0x192 (/usr/lib/postgresql/15/bin/postgres)\n"
"\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
"\n"
"\n"
"postgres 21349   331.000000100: \n"
"\t            1234 pgss_ExecutorRun+0x44 (/usr/lib/postgresql/15/lib/pg_stat_statements.so)\n"
"\t            9abc operator new(unsigned long)+0x1c (/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30)\n"
"\t               0 [unknown] ([unknown])\n"
"\t            5555 ExecAgg (/usr/lib/postgresql/15/bin/postgres)\n"
/* no blank line: the next header ends this record */
"kworker/0:1 H  99 [000]   331.5: \n"
"\tffffffff81000001 worker_thread+0x10 ([kernel.kallsyms])\n"
"this line is not a frame\n"
"\t  not-an-address frame\n"
"postgres 21348   332.000000: \n"
"\t          5d8150 MemoryContextReset+0x0 (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          31485c [unknown] (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          303d1a standard_ExecutorRun+0x15a (/usr/lib/postgresql/15/bin/postgres)\n"
"\t          480262 PortalRun+0x192 (/usr/lib/postgresql/15/bin/postgres)\n"
"\t           2724a __libc_start_call_main+0x7a (/usr/lib/x86_64-linux-gnu/libc.so.6)\n";

static void
test_collapse(void)
{
	struct pd_folded f;
	struct pd_collapse_stats st;
	struct pd_collapse_opts o = {0};
	char	   *s;

	collapse(script1, &o, &f, &st);
	CHECK(st.records == 5, "records %llu", (unsigned long long) st.records);
	CHECK(st.kept == 5 && f.total == 5, "kept %llu total %llu",
		  (unsigned long long) st.kept, (unsigned long long) f.total);
	CHECK(f.n == 4, "distinct stacks %zu", f.n);
	CHECK(count_of(&f, "postgres;libc.so.6`__libc_start_call_main;PortalRun;"
				   "standard_ExecutorRun;[postgres];MemoryContextReset") == 2,
		  "the first stack twice, [unknown] named by its module, offsets stripped");
	CHECK(count_of(&f, "postgres;libc.so.6`__libc_start_call_main;PortalRun;"
				   "standard_ExecutorRun;[postgres];BufFileRead;libc.so.6`__libc_pread;"
				   "[[ext4]]_[k];do_syscall_64_[k];copy_page_to_iter_[k]") == 0,
		  "a kernel module's unknown frame is not double-bracketed");
	CHECK(count_of(&f, "postgres;libc.so.6`__libc_start_call_main;PortalRun;"
				   "standard_ExecutorRun;[postgres];BufFileRead;libc.so.6`__libc_pread;"
				   "[ext4]_[k];do_syscall_64_[k];copy_page_to_iter_[k]") == 1,
		  "kernel frames kept with _[k], root first");
	CHECK(count_of(&f, "postgres;ExecAgg;[unknown];libstdc++.so.6.0.30`operator new(unsigned long);"
				   "pg_stat_statements.so`pgss_ExecutorRun") == 1,
		  "shared objects as module`function, [unknown] ([unknown]) kept");
	CHECK(count_of(&f, "kworker/0:1 H;worker_thread_[k]") == 1,
		  "a command name with spaces, a record ended by the next header");
	CHECK(st.max_depth == 10, "max depth %d", st.max_depth);
	s = folded_string(&f);
	CHECK(strncmp(s, "kworker/0:1 H;worker_thread_[k] 1\npostgres;ExecAgg;",
				  strlen("kworker/0:1 H;worker_thread_[k] 1\npostgres;ExecAgg;")) == 0,
		  "sorted output: %.60s", s);
	free(s);
	pd_folded_free(&f);

	/* a fixed root, and the window: 330.95 and 330.96 only */
	o.root = "postgres";
	o.from_ns = 330950306000LL;
	o.to_ns = 331000000100LL;
	collapse(script1, &o, &f, &st);
	CHECK(st.kept == 2 && st.outside == 3, "window kept %llu outside %llu",
		  (unsigned long long) st.kept, (unsigned long long) st.outside);
	pd_folded_free(&f);

	/* statement roots from spans (sorted by pid, start) */
	{
		struct pd_flame_span spans[] = {
			{21348, 330000000000LL, 330955000000LL, "SELECT sum(i) FROM t"},
			{21348, 331900000000LL, 332500000000LL, "UPDATE a; SET <b>"},
			{21349, 330000000000LL, 331000000100LL, "SELECT 1"},
		};

		memset(&o, 0, sizeof(o));
		o.root = "postgres";
		o.spans = spans;
		o.nspans = 3;
		collapse(script1, &o, &f, &st);
		CHECK(st.in_spans == 2, "in spans %llu", (unsigned long long) st.in_spans);
		CHECK(count_of(&f, "SELECT sum(i) FROM t;libc.so.6`__libc_start_call_main;PortalRun;"
					   "standard_ExecutorRun;[postgres];MemoryContextReset") == 1, "span root");
		CHECK(count_of(&f, "UPDATE a: SET <b>;libc.so.6`__libc_start_call_main;PortalRun;"
					   "standard_ExecutorRun;[postgres];MemoryContextReset") == 1,
			  "a ';' in a label becomes ':'");
		CHECK(count_of(&f, "SELECT 1;ExecAgg;[unknown];libstdc++.so.6.0.30`operator new(unsigned long);"
					   "pg_stat_statements.so`pgss_ExecutorRun") == 0,
			  "the end of a span is exclusive");
		CHECK(count_of(&f, "postgres;ExecAgg;[unknown];libstdc++.so.6.0.30`operator new(unsigned long);"
					   "pg_stat_statements.so`pgss_ExecutorRun") == 1, "outside spans: root");
		pd_folded_free(&f);
	}

	/* nothing at all, and a header without frames */
	memset(&o, 0, sizeof(o));
	collapse("", &o, &f, &st);
	CHECK(f.total == 0 && st.records == 0, "empty input");
	pd_folded_free(&f);
	collapse("postgres 5 1.5: \n\n", &o, &f, &st);
	CHECK(count_of(&f, "postgres") == 1, "a sample without frames counts under its root");
	pd_folded_free(&f);
}

static void
test_deep(void)
{
	char	   *text = NULL;
	size_t		len = 0;
	FILE	   *m = open_memstream(&text, &len);
	struct pd_folded f;
	struct pd_collapse_stats st;
	struct pd_collapse_opts o = {.root = "postgres"};
	FILE	   *svg;
	char	   *doc = NULL;
	size_t		doclen = 0;
	size_t		nframes = 0;
	struct pd_svg_opts so = {.title = "deep", .min_width = -1};

	fprintf(m, "postgres 7 1.0: \n");
	for (int i = 0; i < 20000; i++)
		fprintf(m, "\t%x recurse_%d+0x1 (/usr/bin/postgres)\n", 0x1000 + i, i % 3);
	fprintf(m, "\n");
	fclose(m);
	collapse(text, &o, &f, &st);
	CHECK(st.max_depth == 20001, "deep stack depth %d", st.max_depth);
	CHECK(f.n == 1 && f.total == 1, "one deep stack");
	svg = open_memstream(&doc, &doclen);
	CHECK(pd_flame_svg(svg, &f, &so, &nframes), "render deep");
	fclose(svg);
	CHECK(nframes == 20001, "every level drawn: %zu", nframes);
	free(doc);
	free(text);
	pd_folded_free(&f);
}

static void
test_folded_format(void)
{
	struct pd_folded f;
	char		err[256];
	const char *t = "a;b 3\n\na;c 2.6\r\na;b 1\n";
	char	   *s;
	char	   *packed;
	size_t		raw;

	pd_folded_init(&f);
	CHECK(pd_folded_parse(&f, t, strlen(t), err, sizeof(err)), "parse: %s", err);
	CHECK(count_of(&f, "a;b") == 4 && count_of(&f, "a;c") == 3 && f.total == 7,
		  "merged and rounded counts");
	s = folded_string(&f);
	CHECK_STR(s, "a;b 4\na;c 3\n");
	free(s);

	packed = pd_flame_pack(&f, &raw);
	CHECK(packed != NULL && raw == 12, "pack: raw %zu", raw);
	{
		struct pd_folded g;

		pd_folded_init(&g);
		CHECK(pd_flame_unpack(packed, &g, err, sizeof(err)), "unpack: %s", err);
		CHECK(g.total == 7 && count_of(&g, "a;c") == 3, "round trip");
		pd_folded_free(&g);
		pd_folded_init(&g);
		CHECK(!pd_flame_unpack("not*base64", &g, err, sizeof(err)) &&
			  strstr(err, "not base64") != NULL, "bad base64: %s", err);
		CHECK(!pd_flame_unpack("aGVsbG8=", &g, err, sizeof(err)) &&
			  strstr(err, "not zlib") != NULL, "not zlib: %s", err);
		pd_folded_free(&g);
	}
	free(packed);
	pd_folded_free(&f);

	pd_folded_init(&f);
	CHECK(!pd_folded_parse(&f, "a;b 1\nno count here\n", 20, err, sizeof(err)) &&
		  strstr(err, "line 2") != NULL, "bad line: %s", err);
	pd_folded_free(&f);
	pd_folded_init(&f);
	CHECK(!pd_folded_parse(&f, "a;b -1\n", 7, err, sizeof(err)), "negative count");
	CHECK(!pd_folded_load(&f, "/nonexistent/x.folded", err, sizeof(err)) &&
		  strstr(err, "could not open") != NULL, "missing file: %s", err);
	pd_folded_free(&f);
}

static void
test_classify(void)
{
#define K(s) pd_frame_classify((s), strlen(s))
	CHECK(K("ExecAgg") == PD_FRAME_MAIN, "main");
	CHECK(K("[postgres]") == PD_FRAME_MAIN, "unknown in postgres");
	CHECK(K("libc.so.6`__libc_pread") == PD_FRAME_LIBC, "libc");
	CHECK(K("[libc.so.6]") == PD_FRAME_LIBC, "unknown in libc");
	CHECK(K("ld-linux-x86-64.so.2`_dl_start") == PD_FRAME_LIBC, "loader");
	CHECK(K("do_syscall_64_[k]") == PD_FRAME_KERNEL, "kernel");
	CHECK(K("[ext4]_[k]") == PD_FRAME_KERNEL, "kernel module");
	CHECK(K("pg_stat_statements.so`pgss_ExecutorRun") == PD_FRAME_EXTENSION, "extension");
	CHECK(K("[perfstore.so]") == PD_FRAME_EXTENSION, "unknown in an extension");
	CHECK(K("libssl.so.3`SSL_read") == PD_FRAME_LIBRARY, "library");
	CHECK(K("[unknown]") == PD_FRAME_UNKNOWN, "unknown");
#undef K
}

/* Render f (with base for a diff) into a string. */
static char *
render(const struct pd_folded *f, const struct pd_folded *base, size_t *nframes)
{
	char	   *doc = NULL;
	size_t		len = 0;
	FILE	   *m = open_memstream(&doc, &len);
	struct pd_svg_opts so = {.title = "t <&> \"q\"", .subtitle = "cpu-clock", .min_width = -1,
	.base = base};

	CHECK(pd_flame_svg(m, f, &so, nframes), "render");
	fclose(m);
	return doc;
}

static int
count_str(const char *hay, const char *needle)
{
	int			n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The fill of the frame whose title starts with name. */
static const char *
fill_of(const char *doc, const char *name, char *buf, size_t len)
{
	char		key[128];
	const char *p;
	const char *q;

	snprintf(key, sizeof(key), "<title>%s\n", name);
	p = strstr(doc, key);
	if (p == NULL)
		return "";
	p = strstr(p, "fill=\"");
	q = p ? strchr(p + 6, '"') : NULL;
	if (q == NULL)
		return "";
	snprintf(buf, len, "%.*s", (int) (q - p - 6), p + 6);
	return buf;
}

static void
test_svg(void)
{
	struct pd_folded f;
	struct pd_folded base;
	char		err[256];
	const char *t = "postgres;main;ExecAgg 6\npostgres;main;libc.so.6`memcpy 2\n"
		"SELECT '<x>' & 1;main;do_syscall_64_[k] 2\n";
	char	   *doc;
	size_t		nframes;
	char		b1[64];

	pd_folded_init(&f);
	CHECK(pd_folded_parse(&f, t, strlen(t), err, sizeof(err)), "parse: %s", err);
	doc = render(&f, NULL, &nframes);
	/* frames: postgres, main, ExecAgg, memcpy, SELECT.., main, syscall */
	CHECK(nframes == 7, "frames %zu", nframes);
	CHECK(count_str(doc, "<g class=\"f\"") == 7, "one group per frame");
	CHECK(count_str(doc, "<rect") == 7 + 1 + 6, "one rect per frame + background + legend: %d",
		  count_str(doc, "<rect"));
	CHECK(strstr(doc, "10 samples") != NULL, "sample count shown");
	CHECK(strstr(doc, "t &lt;&amp;&gt; &quot;q&quot;") != NULL, "title escaped");
	CHECK(strstr(doc, "<title>SELECT &apos;&lt;x&gt;&apos; &amp; 1\n2 samples (20.00%)</title>") != NULL,
		  "full name and share on hover, escaped");
	CHECK(strstr(doc, "http://") == NULL || count_str(doc, "http://") == 1,
		  "no external reference but the SVG namespace");
	CHECK(strstr(doc, "<script") != NULL && strstr(doc, " src=") == NULL, "inline script only");
	CHECK(strcmp(fill_of(doc, "ExecAgg", b1, sizeof(b1)), "") != 0, "ExecAgg drawn");
	free(doc);

	/* a differential graph: base a;b 10, a;c 10; candidate a;b 30, a;c 10 */
	pd_folded_free(&f);
	pd_folded_init(&f);
	pd_folded_init(&base);
	pd_folded_add(&base, "a;b", 10);
	pd_folded_add(&base, "a;c", 10);
	pd_folded_add(&base, "a;gone", 5);
	pd_folded_add(&f, "a;b", 30);
	pd_folded_add(&f, "a;c", 10);
	doc = render(&f, &base, &nframes);
	/* base scaled to 40/25: b 16, c 16, gone 8 */
	CHECK(nframes == 3, "diff frames %zu (a frame only in the base has no width)", nframes);
	CHECK(strncmp(fill_of(doc, "b", b1, sizeof(b1)), "rgb(255,", 8) == 0, "more: red, got %s", b1);
	fill_of(doc, "c", b1, sizeof(b1));
	CHECK(strlen(b1) > 5 && strcmp(b1 + strlen(b1) - 5, ",255)") == 0, "less: blue, got %s", b1);
	CHECK(strstr(doc, "<title>b\n30 samples (75.00%)\nbase: 16.0 (scaled), change: +14.0 (+87.5%)")
		  != NULL, "diff tooltip");
	CHECK(strcmp(fill_of(doc, "a", b1, sizeof(b1)), "rgb(225,225,225)") == 0,
		  "unchanged: neutral, got %s", b1);
	free(doc);
	pd_folded_free(&base);

	/* no samples at all */
	pd_folded_free(&f);
	pd_folded_init(&f);
	doc = render(&f, NULL, &nframes);
	CHECK(nframes == 0 && strstr(doc, "no samples") != NULL && strstr(doc, "0 samples") != NULL,
		  "empty graph");
	free(doc);
	pd_folded_free(&f);
}

/* The timeline of --observe: statement spans and the wait-event stacks. */
static void
test_timeline(void)
{
	const int64_t ms = 1000000;
	struct pd_flame_point pts[] = {
		{11, 100 * ms, "C", "CPU"},
		{10, 140 * ms, "B", "Lock:transactionid"},
		{10, 100 * ms, "A", "CPU"},
		{10, 120 * ms, "A", "IO:DataFileRead"},
		{10, 200 * ms, "A", NULL},
		{11, 120 * ms, NULL, "Client:ClientRead"},
	};
	size_t		n;
	struct pd_flame_span *sp = pd_flame_spans(pts, 6, 20 * ms, &n);
	struct pd_folded w;

	CHECK(n == 4, "spans %zu", n);
	CHECK(n == 4 && sp[0].pid == 10 && sp[0].start_ns == 90 * ms && sp[0].end_ns == 130 * ms &&
		  strcmp(sp[0].label, "A") == 0, "consecutive samples of A merge");
	CHECK(n == 4 && sp[1].start_ns == 130 * ms && sp[1].end_ns == 150 * ms &&
		  strcmp(sp[1].label, "B") == 0, "B after A");
	CHECK(n == 4 && sp[2].start_ns == 190 * ms && strcmp(sp[2].label, "A") == 0,
		  "A again after a gap: a span of its own");
	CHECK(n == 4 && sp[3].pid == 11 && sp[3].end_ns == 110 * ms, "an idle sample ends a span");
	free(sp);

	pd_folded_init(&w);
	pd_flame_waits(pts, 6, &w);
	CHECK(count_of(&w, "A;CPU") == 2, "on CPU (and no wait reported)");
	CHECK(count_of(&w, "B;Lock;transactionid") == 1, "type and event as two frames");
	CHECK(count_of(&w, "A;IO;DataFileRead") == 1, "IO wait");
	CHECK(count_of(&w, "[unknown];Client;ClientRead") == 1, "no statement: [unknown]");
	CHECK(w.total == 6, "every sample counted");
	pd_folded_free(&w);
}

int
main(void)
{
	test_timeline();
	test_collapse();
	test_deep();
	test_folded_format();
	test_classify();
	test_svg();
	return UNIT_DONE("test_flamegraph");
}
