/*
 * html_run.c
 *		The HTML report of a run and of a comparison: its sections, from
 *		the run's JSON report document (docs/perfdriver.md, "HTML report").
 *
 * Owns: the mapping from the document to sections.  Every section is
 * written only when its key is in the document, so keys added by other
 * capabilities (assertions, waits, index advice, ...) show up when present
 * and leave no empty shell when absent.  Shapes it does not know are shown
 * as formatted JSON rather than dropped.  The time series: intervals merged
 * to at most HTML_MAX_POINTS points, baselines aligned by interval.
 *
 * Must not: include libpq-fe.h (cmd_report.c reads the store through
 * store.c), or write markup of its own outside html_page.h's widgets and
 * html_chart.c's charts.
 *
 * Memory: reads the caller's json_t documents; sketches decoded from their
 * text form and every other temporary are freed before returning.
 */
#include "html.h"
#include "html_page.h"
#include "driver.h"
#include "store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most points of a time chart: longer runs merge neighbouring intervals. */
#define HTML_MAX_POINTS 600
/* Most per-statement histograms (the busiest statements by time). */
#define HTML_MAX_STMT_HIST 20

/* ------------------------------------------------------------ time series */

/* Intervals as chart points, merged into at most HTML_MAX_POINTS. */
struct ts
{
	int			n;
	double	   *t,
			   *tps,
			   *p50,
			   *p95,
			   *p99,
			   *err;
	bool		merged;			/* neighbouring intervals were merged */
};

static void
ts_free(struct ts *s)
{
	free(s->t);
	free(s->tps);
	free(s->p50);
	free(s->p95);
	free(s->p99);
	free(s->err);
	memset(s, 0, sizeof(*s));
}

/*
 * drawn_intervals: the intervals of doc to draw: all but a last one cut
 * short by the end of the run (under half the first's length), which is
 * too noisy to draw.
 */
static int
drawn_intervals(const json_t *doc)
{
	json_t	   *iv = html_jarr(doc, "intervals");
	int			n = iv ? (int) json_array_size(iv) : 0;
	double		first,
				last;

	if (n < 2)
		return n;
	first = html_jnum(json_array_get(iv, 0), "length_s");
	last = html_jnum(json_array_get(iv, n - 1), "length_s");
	return first > 0 && last < 0.5 * first ? n - 1 : n;
}

/*
 * ts_build: the time series of docs[0..ndocs) (one run, or the baseline
 * runs, aligned by interval number).  Point i covers intervals
 * [i*g, (i+1)*g) of every document: TPS is their transactions over their
 * length, averaged over the documents; percentiles come from their merged
 * sketches when all have one, else the highest of their values.
 */
static void
ts_build(json_t *const *docs, int ndocs, struct ts *out)
{
	int			n = 0,
				g,
				np;

	memset(out, 0, sizeof(*out));
	for (int d = 0; d < ndocs; d++)
		if (drawn_intervals(docs[d]) > n)
			n = drawn_intervals(docs[d]);
	if (n == 0)
		return;
	g = (n + HTML_MAX_POINTS - 1) / HTML_MAX_POINTS;
	np = (n + g - 1) / g;
	out->n = np;
	out->merged = g > 1;
	out->t = pd_calloc(np, sizeof(double));
	out->tps = pd_calloc(np, sizeof(double));
	out->p50 = pd_calloc(np, sizeof(double));
	out->p95 = pd_calloc(np, sizeof(double));
	out->p99 = pd_calloc(np, sizeof(double));
	out->err = pd_calloc(np, sizeof(double));
	for (int i = 0; i < np; i++)
	{
		double		err = 0,
					t = NAN,
					tps_sum = 0;
		int			entries = 0,
					withsk = 0,
					tps_docs = 0;
		double		q[3] = {NAN, NAN, NAN};
		struct sketch *m = NULL;

		for (int d = 0; d < ndocs; d++)
		{
			json_t	   *iv = html_jarr(docs[d], "intervals");
			int			dn = drawn_intervals(docs[d]);
			double		dtr = 0,
						dlen = 0;
			bool		any = false;

			for (int k = i * g; iv && k < (i + 1) * g && k < dn; k++)
			{
				json_t	   *e = json_array_get(iv, k);
				json_t	   *lat = html_jobj(e, "latency_ms");
				struct sketch *sk = html_jsketch(e);
				static const char *const qk[] = {"p50", "p95", "p99"};
				double		tr = html_jnum(e, "transactions"),
							l = html_jnum(e, "length_s");

				if (isfinite(tr) && isfinite(l))
				{
					dtr += tr;
					dlen += l;
				}
				else if (isfinite(html_jnum(e, "tps")))
				{
					/* no counts: weight the rate by one second */
					dtr += html_jnum(e, "tps");
					dlen += 1;
				}
				any = true;
				if (isfinite(html_jnum(e, "failed")))
					err += html_jnum(e, "failed");
				if (isfinite(html_jnum(e, "errors")))
					err += html_jnum(e, "errors");
				if (d == 0 || !isfinite(t))
					t = html_jnum(e, "t_s");
				entries++;
				if (sk != NULL)
				{
					withsk++;
					if (m == NULL)
						m = sk;
					else
					{
						pd_sketch_merge(&m, sk);
						free(sk);
					}
				}
				for (int j = 0; j < 3; j++)
				{
					double		v = html_jnum(lat, qk[j]);

					if (isfinite(v) && (!isfinite(q[j]) || v > q[j]))
						q[j] = v;
				}
			}
			if (any && dlen > 0)
			{
				tps_sum += dtr / dlen;
				tps_docs++;
			}
		}
		out->t[i] = t;
		out->tps[i] = tps_docs ? tps_sum / tps_docs : NAN;
		out->err[i] = err;
		if (entries > 0 && withsk == entries && m->count > 0)
		{
			out->p50[i] = sketch_quantile(m, 0.50);
			out->p95[i] = sketch_quantile(m, 0.95);
			out->p99[i] = sketch_quantile(m, 0.99);
		}
		else if (entries > 0 && withsk == entries)
			out->p50[i] = out->p95[i] = out->p99[i] = NAN;
		else
		{
			out->p50[i] = q[0];
			out->p95[i] = q[1];
			out->p99[i] = q[2];
		}
		free(m);
	}
}

/* ----------------------------------------------------------- run sections */

static void
section_header(FILE *f, const struct html_run *r)
{
	json_t	   *doc = r->doc;
	const char *name = html_jstr(doc, "name");
	double		start = html_parse_ts(html_jstr(doc, "started_at"));
	double		fin = html_parse_ts(html_jstr(doc, "finished_at"));
	json_t	   *labels = html_jobj(doc, "labels");

	fprintf(f, "<header><h1>perfdriver run");
	if (name)
	{
		fprintf(f, " &#8220;");
		html_text(f, name);
		fprintf(f, "&#8221;");
	}
	if (r->run_id > 0)
		fprintf(f, " <span class=\"sub\">(run %lld)</span>", (long long) r->run_id);
	fprintf(f, "</h1>\n<p class=\"sub\">");
	if (isfinite(start))
	{
		char		b[64];

		html_fmt_utc(b, sizeof(b), start);
		fprintf(f, "started <time datetime=\"");
		html_text(f, html_jstr(doc, "started_at"));
		fprintf(f, "\">%s</time>", b);
		if (isfinite(fin))
		{
			html_fmt_utc(b, sizeof(b), fin);
			fprintf(f, ", finished <time datetime=\"");
			html_text(f, html_jstr(doc, "finished_at"));
			fprintf(f, "\">%s</time>", b);
		}
	}
	else
		fprintf(f, "start time not recorded");
	if (html_jstr(doc, "host") && html_jstr(doc, "host")[0])
	{
		fprintf(f, " &middot; driver host ");
		html_text(f, html_jstr(doc, "host"));
	}
	if (html_jstr(doc, "run_group"))
	{
		fprintf(f, " &middot; run group ");
		html_text(f, html_jstr(doc, "run_group"));
	}
	if (json_is_true(json_object_get(doc, "interrupted")))
		fprintf(f, " &middot; <span class=\"badge fail\">interrupted</span>");
	fprintf(f, "</p>\n");
	if (labels && json_object_size(labels) > 0)
	{
		const char *k;
		json_t	   *v;

		fprintf(f, "<p class=\"chips\">");
		json_object_foreach(labels, k, v)
		{
			char	   *t = html_json_as_text(v);

			fprintf(f, "<span>");
			html_text(f, k);
			fputc('=', f);
			html_text(f, t);
			fprintf(f, "</span>");
			free(t);
		}
		fprintf(f, "</p>\n");
	}
	fprintf(f, "</header>\n");
}

static int
count_failed_assertions(const json_t *as)
{
	int			n = 0;
	size_t		i;
	json_t	   *a;

	json_array_foreach(as, i, a)
		if (!json_is_true(json_object_get(a, "passed")))
		n++;
	return n;
}

static void
section_summary(FILE *f, const struct html_run *r)
{
	json_t	   *doc = r->doc;
	json_t	   *lat = html_jobj(doc, "latency_ms");
	json_t	   *errs = html_jobj(doc, "errors");
	json_t	   *as = html_jarr(doc, "assertions");
	double		nerr = 0;
	char		b[64];
	static const char *const qk[] = {"p50", "p95", "p99", "p999", "max", "mean"};

	if (errs)
	{
		const char *k;
		json_t	   *v;

		json_object_foreach(errs, k, v)
			if (json_is_number(v))
			nerr += json_number_value(v);
	}
	fprintf(f, "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">\n");
	snprintf(b, sizeof(b), "%.1f", html_jnum(doc, "tps"));
	html_card(f, "transactions/s", isfinite(html_jnum(doc, "tps")) ? b : "-", NULL);
	html_fmt_count(b, sizeof(b), html_jnum(doc, "transactions"));
	html_card(f, "transactions committed", b, NULL);
	html_fmt_count(b, sizeof(b), html_jnum(doc, "failed_transactions"));
	html_card(f, "failed transactions", b, html_jnum(doc, "failed_transactions") > 0 ? "fail" : NULL);
	html_fmt_count(b, sizeof(b), nerr);
	html_card(f, "errors", b, nerr > 0 ? "fail" : NULL);
	snprintf(b, sizeof(b), "%.2f s", html_jnum(doc, "duration_s"));
	html_card(f, "duration", isfinite(html_jnum(doc, "duration_s")) ? b : "-", NULL);
	for (int i = 0; i < 6; i++)
	{
		char		k[32],
					v[40];

		html_fmt_ms(v, sizeof(v), html_jnum(lat, qk[i]));
		snprintf(k, sizeof(k), "%s latency (ms)", qk[i]);
		html_card(f, k, v, NULL);
	}
	if (as != NULL)
	{
		int			nf = count_failed_assertions(as);

		snprintf(b, sizeof(b), "%s %d of %zu", nf ? "\u2717 failed" : "\u2713 passed",
				 nf ? nf : (int) json_array_size(as), json_array_size(as));
		html_card(f, "assertions", b, nf ? "fail" : "pass");
	}
	if (r->cmp != NULL)
	{
		snprintf(b, sizeof(b), "%s%d regression%s", r->cmp->regressions ? "\u25B2 " : "\u2713 ",
				 r->cmp->regressions, r->cmp->regressions == 1 ? "" : "s");
		html_card(f, "against the baseline", b, r->cmp->regressions ? "fail" : "pass");
	}
	fprintf(f, "</div>\n");

	if (errs && json_object_size(errs) > 0)
	{
		const char *k;
		json_t	   *v;

		fprintf(f, "<h3>Errors by SQLSTATE</h3><div class=\"scroll\"><table><thead><tr><th class=\"l\">SQLSTATE</th><th>count</th></tr></thead><tbody>\n");
		json_object_foreach(errs, k, v)
		{
			fprintf(f, "<tr><td class=\"l\"><code>");
			html_text(f, k);
			fprintf(f, "</code></td>");
			html_td_num(f, json_number_value(v), false);
			fprintf(f, "</tr>\n");
		}
		fprintf(f, "</tbody></table></div>\n");
	}

	/* the configuration: the stored config, else the report's own keys */
	{
		json_t	   *cfg = html_jobj(doc, "config");
		static const char *const top[] = {"clients", "threads", "protocol", "rate", "max_tries",
		"thread_cpus", "connect_time_ms", "reconnects", "connections_lost", "retries"};
		const char *k;
		json_t	   *v;

		fprintf(f, "<h3>Configuration</h3><div class=\"scroll\"><table class=\"kv\"><tbody>\n");
		if (cfg)
			json_object_foreach(cfg, k, v)
		{
			char	   *t;

			if (strcmp(k, "scripts") == 0 && json_is_array(v))
			{
				size_t		i;
				json_t	   *s;

				fprintf(f, "<tr><th class=\"l\">scripts</th><td class=\"l\">");
				json_array_foreach(v, i, s)
				{
					fprintf(f, "%s", i ? ", " : "");
					html_text(f, html_jstr(s, "name") ? html_jstr(s, "name") : "?");
					if (isfinite(html_jnum(s, "weight")))
						fprintf(f, " @%.0f", html_jnum(s, "weight"));
				}
				fprintf(f, "</td></tr>\n");
				continue;
			}
			t = html_json_as_text(v);
			fprintf(f, "<tr><th class=\"l\">");
			html_text(f, k);
			fprintf(f, "</th><td class=\"l\">");
			html_text(f, t);
			fprintf(f, "</td></tr>\n");
			free(t);
		}
		for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		{
			char	   *t;

			v = json_object_get(doc, top[i]);
			if (v == NULL || (cfg && json_object_get(cfg, top[i])))
				continue;
			t = html_json_as_text(v);
			fprintf(f, "<tr><th class=\"l\">%s</th><td class=\"l\">", top[i]);
			html_text(f, t);
			fprintf(f, "</td></tr>\n");
			free(t);
		}
		fprintf(f, "</tbody></table></div>\n");
	}
	fprintf(f, "</section>\n");
}

static void
section_assertions(FILE *f, const json_t *as)
{
	size_t		i;
	json_t	   *a;

	fprintf(f, "<section id=\"assertions\"><h2>Assertions</h2><div class=\"scroll\"><table><thead><tr>"
			"<th class=\"l\">verdict</th><th class=\"l\">assertion</th><th>target</th><th>measured</th><th class=\"l\">note</th></tr></thead><tbody>\n");
	json_array_foreach(as, i, a)
	{
		bool		ok = json_is_true(json_object_get(a, "passed"));
		char	   *tv = html_json_as_text(json_object_get(a, "target"));
		char	   *mv = html_json_as_text(json_object_get(a, "value"));
		const char *note = html_jstr(a, "reason") ? html_jstr(a, "reason")
			: html_jstr(a, "note") ? html_jstr(a, "note") : html_jstr(a, "message");

		fprintf(f, "<tr class=\"%s\"><td class=\"l\">", ok ? "passed" : "failed");
		html_badge(f, ok ? "pass" : "fail", ok ? "\u2713 pass" : "\u2717 FAIL");
		fprintf(f, "</td><td class=\"l\"><code>");
		html_text(f, html_jstr(a, "expr") ? html_jstr(a, "expr") : "?");
		fprintf(f, "</code></td><td>");
		html_text(f, tv);
		fprintf(f, "</td><td>");
		html_text(f, mv);
		fprintf(f, "</td><td class=\"l\">");
		html_text(f, note ? note : "");
		if (html_jstr(a, "statement"))
			html_sql_pre(f, html_jstr(a, "statement"), NULL);
		fprintf(f, "</td></tr>\n");
		free(tv);
		free(mv);
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static int
verdict_rank(const char *v)
{
	if (strcmp(v, "regression") == 0)
		return 0;
	if (strcmp(v, "improvement") == 0)
		return 1;
	if (strcmp(v, "new") == 0 || strcmp(v, "gone") == 0)
		return 2;
	return 3;
}

static void
section_comparison(FILE *f, const struct html_run *r)
{
	const struct pd_cmp *c = r->cmp;

	fprintf(f, "<section id=\"comparison\"><h2>Comparison with the baseline</h2>\n<p>");
	if (r->baseline_label)
		html_text(f, r->baseline_label);
	fprintf(f, "; a change counts when it exceeds its metric's threshold, the runs' noise");
	if (isfinite(c->min_change_ms))
		fprintf(f, " and, for latencies, %.3g ms", c->min_change_ms);
	fprintf(f, ". ");
	html_badge(f, c->regressions ? "regression" : "pass",
		  c->regressions ? "\u25B2 regression" : "\u2713 no regression");
	fprintf(f, " %d regression%s.</p>\n", c->regressions, c->regressions == 1 ? "" : "s");
	fprintf(f, "<div class=\"scroll\"><table class=\"sortable\" id=\"comparison-table\"><thead><tr>"
			"<th class=\"l\"><button type=\"button\">metric</button></th><th><button type=\"button\">baseline</button></th>"
			"<th><button type=\"button\">candidate</button></th><th><button type=\"button\">change</button></th>"
			"<th><button type=\"button\">threshold</button></th><th><button type=\"button\">noise</button></th>"
			"<th class=\"l\"><button type=\"button\">verdict</button></th>"
			"<th class=\"l\">statement</th></tr></thead><tbody>\n");
	for (int pass = 0; pass < 4; pass++)
	for (int i = 0; i < c->nrows; i++)
	{
		const struct pd_cmp_row *w = &c->rows[i];
		const char *v = w->verdict ? w->verdict : "unchanged";
		bool		tps = w->metric && strcmp(w->metric, "tps") == 0;
		bool		er = w->metric && strcmp(w->metric, "error_rate") == 0;
		char		b[64];

		/* regressions first, then improvements, new and gone, the rest */
		if (verdict_rank(v) != pass)
			continue;

		fprintf(f, "<tr data-verdict=\"");
		html_text(f, v);
		fprintf(f, "\"><td class=\"l\">");
		html_text(f, w->metric ? w->metric : "-");
		fprintf(f, "</td>");
		if (tps || er)
		{
			snprintf(b, sizeof(b), er ? "%.4f" : "%.1f", w->baseline);
			fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(w->baseline) ? w->baseline : -1,
					isfinite(w->baseline) ? b : "-");
			snprintf(b, sizeof(b), er ? "%.4f" : "%.1f", w->candidate);
			fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(w->candidate) ? w->candidate : -1,
					isfinite(w->candidate) ? b : "-");
		}
		else
		{
			html_td_num(f, w->baseline, true);
			html_td_num(f, w->candidate, true);
		}
		if (isfinite(w->change))
			fprintf(f, "<td data-v=\"%.9g\">%+.1f %%</td>", w->change, 100 * w->change);
		else
			fprintf(f, "<td data-v=\"-1e300\">-</td>");
		if (isfinite(w->threshold))
			fprintf(f, "<td data-v=\"%.9g\">%.1f %%</td>", w->threshold, 100 * w->threshold);
		else
			fprintf(f, "<td data-v=\"-1\">-</td>");
		if (isfinite(w->noise))
			fprintf(f, "<td data-v=\"%.9g\">%.1f %%</td>", w->noise, 100 * w->noise);
		else
			fprintf(f, "<td data-v=\"-1\">-</td>");
		fprintf(f, "<td class=\"l\" data-v=\"");
		html_text(f, v);
		fprintf(f, "\">");
		html_badge(f, v, strcmp(v, "regression") == 0 ? "\u25B2 regression"
			  : strcmp(v, "improvement") == 0 ? "\u25BC improvement" : v);
		fprintf(f, "</td><td class=\"l\">");
		if (w->scope && strcmp(w->scope, "run") == 0)
			fprintf(f, "(whole run)");
		else
			html_sql_pre(f, w->query ? w->query : w->fingerprint, NULL);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static void
section_over_time(FILE *f, const struct html_run *r)
{
	struct ts	c,
				b;
	double		start = html_parse_ts(html_jstr(r->doc, "started_at"));

	ts_build(&r->doc, 1, &c);
	if (c.n == 0)
		return;
	ts_build(r->baselines, r->nbaselines, &b);
	fprintf(f, "<section id=\"over-time\"><h2>Over time</h2>\n");
	if (c.merged)
		fprintf(f, "<p class=\"sub\">Neighbouring intervals are merged to at most %d points.</p>\n",
				HTML_MAX_POINTS);
	{
		struct chart_series s[2] = {
			{.name = "throughput", .y = c.tps, .colour = 0, .marker = 0},
			{.name = "baseline throughput", .y = b.tps, .colour = 7, .marker = -1, .dashed = true,
			.x = b.t, .n = b.n},
		};
		struct chart_time ct = {
			.id = "chart-tps", .title = "Throughput per interval", .ylabel = "transactions/s",
			.x = c.t, .n = c.n, .series = s, .nseries = b.n > 0 ? 2 : 1, .errors = c.err,
			.start_epoch = start,
		};

		chart_time_write(f, &ct);
	}
	{
		struct chart_series s[6] = {
			{.name = "p50", .y = c.p50, .colour = 0, .marker = 0},
			{.name = "p95", .y = c.p95, .colour = 1, .marker = 1},
			{.name = "p99", .y = c.p99, .colour = 2, .marker = 2},
			{.name = "baseline p50", .y = b.p50, .colour = 0, .marker = -1, .dashed = true, .x = b.t, .n = b.n},
			{.name = "baseline p95", .y = b.p95, .colour = 1, .marker = -1, .dashed = true, .x = b.t, .n = b.n},
			{.name = "baseline p99", .y = b.p99, .colour = 2, .marker = -1, .dashed = true, .x = b.t, .n = b.n},
		};
		struct chart_time ct = {
			.id = "chart-latency", .title = "Latency percentiles per interval",
			.ylabel = "latency (ms)", .x = c.t, .n = c.n, .series = s,
			.nseries = b.n > 0 ? 6 : 3, .errors = c.err, .start_epoch = start,
		};

		chart_time_write(f, &ct);
	}
	fprintf(f, "</section>\n");
	ts_free(&c);
	ts_free(&b);
}

/*
 * baseline_sketch: the baseline runs' latency sketches merged: the whole
 * run's (fingerprint NULL) or the statement's of that fingerprint.  NULL
 * when no baseline has one; the caller frees.
 */
static struct sketch *
baseline_sketch(const struct html_run *r, const char *fingerprint)
{
	struct sketch *m = NULL;

	for (int d = 0; d < r->nbaselines; d++)
	{
		const json_t *o = NULL;

		if (fingerprint == NULL)
			o = r->baselines[d];
		else
		{
			size_t		i;
			json_t	   *s;

			json_array_foreach(html_jarr(r->baselines[d], "statements"), i, s)
				if (html_jstr(s, "fingerprint") && strcmp(html_jstr(s, "fingerprint"), fingerprint) == 0)
				o = s;
		}
		{
			struct sketch *sk = o ? html_jsketch(o) : NULL;

			if (sk == NULL)
				continue;
			if (m == NULL)
				m = sk;
			else
			{
				pd_sketch_merge(&m, sk);
				free(sk);
			}
		}
	}
	return m;
}

struct stmt_rank
{
	size_t		index;
	double		time;
};

static int
stmt_rank_cmp(const void *a, const void *b)
{
	const struct stmt_rank *x = a,
			   *y = b;

	return x->time < y->time ? 1 : x->time > y->time ? -1 : (x->index > y->index) - (x->index < y->index);
}

static void
section_distribution(FILE *f, const struct html_run *r)
{
	struct sketch *s = html_jsketch(r->doc);
	json_t	   *stmts = html_jarr(r->doc, "statements");
	static const char *const labels[] = {"p50", "p95", "p99"};

	if (s == NULL)
		return;
	fprintf(f, "<section id=\"distribution\"><h2>Latency distribution</h2>\n");
	if (s->count == 0)
	{
		fprintf(f, "<p>No transaction completed: there is no latency to show.</p></section>\n");
		free(s);
		return;
	}
	{
		json_t	   *lat = html_jobj(r->doc, "latency_ms");
		double		marks[3] = {html_jnum(lat, "p50"), html_jnum(lat, "p95"), html_jnum(lat, "p99")};
		struct sketch *base = baseline_sketch(r, NULL);

		chart_histogram_write(f, "hist-run", "Transaction latency, whole run", s, base, marks,
							  labels, 3, false);
		free(base);
	}
	if (stmts && json_array_size(stmts) > 0)
	{
		size_t		n = json_array_size(stmts),
					shown = 0;
		struct stmt_rank *rk = pd_calloc(n, sizeof(*rk));
		json_t	   *st;
		size_t		i;

		json_array_foreach(stmts, i, st)
		{
			rk[i].index = i;
			rk[i].time = html_jnum(st, "calls") * html_jnum(html_jobj(st, "latency_ms"), "mean");
			if (!isfinite(rk[i].time))
				rk[i].time = -1;
		}
		qsort(rk, n, sizeof(*rk), stmt_rank_cmp);
		fprintf(f, "<h3>Per statement</h3>\n<div class=\"smalls\">\n");
		for (i = 0; i < n && shown < HTML_MAX_STMT_HIST; i++)
		{
			json_t	   *e = json_array_get(stmts, rk[i].index);
			struct sketch *sk = html_jsketch(e);
			json_t	   *lat = html_jobj(e, "latency_ms");
			double		marks[3] = {html_jnum(lat, "p50"), html_jnum(lat, "p95"), html_jnum(lat, "p99")};
			char		id[64],
						title[160];
			const char *q = html_jstr(e, "query");
			struct sketch *base;

			if (sk == NULL || sk->count == 0)
			{
				free(sk);
				continue;
			}
			base = html_jstr(e, "fingerprint") ? baseline_sketch(r, html_jstr(e, "fingerprint")) : NULL;
			snprintf(id, sizeof(id), "hist-stmt-%zu", rk[i].index + 1);
			snprintf(title, sizeof(title), "Statement %zu: %.100s%s", rk[i].index + 1, q ? q : "?",
					 q && strlen(q) > 100 ? "..." : "");
			chart_histogram_write(f, id, title, sk, base, marks, labels, 3, true);
			free(base);
			free(sk);
			shown++;
		}
		fprintf(f, "</div>\n");
		if (shown < n)
			fprintf(f, "<p class=\"sub\">%zu of %zu statements shown (those with the most time and a latency sketch).</p>\n",
					shown, n);
		free(rk);
	}
	fprintf(f, "</section>\n");
	free(s);
}

/* The waits object as bars, highest share first. */
static int
bar_cmp(const void *a, const void *b)
{
	const struct chart_bar *x = a,
			   *y = b;

	return x->value < y->value ? 1 : x->value > y->value ? -1 : strcmp(x->label, y->label);
}

static void
waits_chart(FILE *f, const char *id, const char *title, const json_t *waits)
{
	size_t		n = json_object_size(waits),
				i = 0;
	struct chart_bar *bars = pd_calloc(n, sizeof(*bars));
	const char *k;
	json_t	   *v;

	json_object_foreach((json_t *) waits, k, v)
	{
		if (!json_is_number(v))
			continue;
		bars[i].label = k;
		bars[i].value = json_number_value(v);
		i++;
	}
	qsort(bars, i, sizeof(*bars), bar_cmp);
	chart_bars_write(f, id, title, "share of active samples (%)", bars, (int) i, 100.0, "%.1f %%");
	free(bars);
}

/* The top waits of a statement, as one line of text. */
static void
waits_line(FILE *f, const json_t *waits)
{
	size_t		n = json_object_size(waits),
				i = 0;
	struct chart_bar *bars = pd_calloc(n, sizeof(*bars));
	const char *k;
	json_t	   *v;

	json_object_foreach((json_t *) waits, k, v)
		if (json_is_number(v))
	{
		bars[i].label = k;
		bars[i].value = json_number_value(v);
		i++;
	}
	qsort(bars, i, sizeof(*bars), bar_cmp);
	for (size_t j = 0; j < i && j < 4; j++)
	{
		fprintf(f, "%s", j ? ", " : "");
		html_text(f, bars[j].label);
		fprintf(f, " %.0f %%", 100 * bars[j].value);
	}
	free(bars);
}

static bool
any_statement_has(const json_t *stmts, const char *key)
{
	size_t		i;
	json_t	   *s;

	json_array_foreach(stmts, i, s)
		if (json_object_get(s, key) != NULL)
		return true;
	return false;
}

static void
section_statements(FILE *f, const struct html_run *r)
{
	json_t	   *stmts = html_jarr(r->doc, "statements");
	bool		server = any_statement_has(stmts, "server");
	size_t		i;
	json_t	   *s;
	static const char *const qk[] = {"p50", "p95", "p99", "p999", "max", "mean"};

	fprintf(f, "<section id=\"statements\"><h2>Statements</h2>\n");
	if (json_array_size(stmts) == 0)
	{
		fprintf(f, "<p>No statement was executed.</p></section>\n");
		return;
	}
	fprintf(f, "<p class=\"sub\">Latencies in ms, from sending a statement to its last result. Click a column to sort.</p>\n"
			"<div class=\"scroll\"><table class=\"sortable\" id=\"statements-table\"><thead><tr>"
			"<th><button type=\"button\">#</button></th><th><button type=\"button\">calls</button></th>"
			"<th><button type=\"button\">rows</button></th><th><button type=\"button\">errors</button></th>");
	for (int k = 0; k < 6; k++)
		fprintf(f, "<th><button type=\"button\">%s (ms)</button></th>", qk[k]);
	fprintf(f, "<th><button type=\"button\">time (ms)</button></th>");
	if (server)
		fprintf(f, "<th><button type=\"button\">server mean (ms)</button></th>"
				"<th><button type=\"button\">blocks read</button></th>");
	fprintf(f, "<th class=\"l\">statement</th></tr></thead><tbody>\n");
	json_array_foreach(stmts, i, s)
	{
		json_t	   *lat = html_jobj(s, "latency_ms");
		json_t	   *srv = html_jobj(s, "server");
		json_t	   *waits = html_jobj(s, "waits");
		json_t	   *plan = json_object_get(s, "plan");

		fprintf(f, "<tr><td data-v=\"%zu\">%zu</td>", i + 1, i + 1);
		html_td_num(f, html_jnum(s, "calls"), false);
		html_td_num(f, html_jnum(s, "rows"), false);
		html_td_num(f, html_jnum(s, "errors"), false);
		for (int k = 0; k < 6; k++)
			html_td_num(f, html_jnum(lat, qk[k]), true);
		html_td_num(f, html_jnum(s, "calls") * html_jnum(lat, "mean"), true);
		if (server)
		{
			html_td_num(f, html_jnum(srv, "mean_exec_ms"), true);
			html_td_num(f, html_jnum(srv, "shared_blks_read"), false);
		}
		fprintf(f, "<td class=\"l\" data-v=\"");
		html_text(f, html_jstr(s, "query") ? html_jstr(s, "query") : "");
		fprintf(f, "\">");
		html_sql_pre(f, html_jstr(s, "query"), NULL);
		if (waits && json_object_size(waits) > 0)
		{
			fprintf(f, "<div class=\"sub\">waits: ");
			waits_line(f, waits);
			fprintf(f, "</div>");
		}
		if (srv)
		{
			fprintf(f, "<details><summary>server statistics</summary>");
			html_json_pre(f, srv);
			fprintf(f, "</details>");
		}
		if (plan)
		{
			fprintf(f, "<details class=\"plan\"><summary>plan</summary>");
			html_json_pre(f, plan);
			fprintf(f, "</details>");
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static void
section_waits(FILE *f, const json_t *doc)
{
	json_t	   *waits = html_jobj(doc, "waits");
	json_t	   *locks = json_object_get(doc, "lock_waits");
	json_t	   *notes = json_object_get(doc, "observe_notes");

	fprintf(f, "<section id=\"waits\"><h2>Wait profile</h2>\n");
	if (waits && json_object_size(waits) > 0)
		waits_chart(f, "chart-waits", "What the run's backends were doing when sampled", waits);
	else if (waits)
		fprintf(f, "<p>No active samples.</p>\n");
	if (locks)
	{
		fprintf(f, "<h3>Lock waits (blocker and waiter)</h3>\n");
		if (json_is_array(locks) && json_array_size(locks) == 0)
			fprintf(f, "<p>None.</p>\n");
		else if (json_is_array(locks))
			html_generic_table(f, locks, "lock-waits-table");
		else
			html_json_pre(f, locks);
	}
	if (notes)
	{
		size_t		i;
		json_t	   *n;

		fprintf(f, "<h3>Notes</h3><ul>");
		if (json_is_array(notes))
			json_array_foreach(notes, i, n)
		{
			char	   *t = html_json_as_text(n);

			fprintf(f, "<li>");
			html_text(f, t);
			fprintf(f, "</li>");
			free(t);
		}
		else
		{
			fprintf(f, "<li>");
			html_json_pre(f, notes);
			fprintf(f, "</li>");
		}
		fprintf(f, "</ul>\n");
	}
	fprintf(f, "</section>\n");
}

static void
section_advice(FILE *f, const json_t *advice)
{
	size_t		i;
	json_t	   *a;
	bool		verify = false;

	json_array_foreach(advice, i, a)
		if (json_object_get(a, "p95_before_ms"))
		verify = true;
	fprintf(f, "<section id=\"index-advice\"><h2>Index advice</h2>\n");
	if (json_array_size(advice) == 0)
	{
		fprintf(f, "<p>No index would pay off by the planner's estimates.</p></section>\n");
		return;
	}
	fprintf(f, "<p class=\"sub\">Costs are the planner's estimates (arbitrary units) with the index as a hypothetical one.</p>\n"
			"<div class=\"scroll\"><table class=\"sortable\" id=\"advice-table\"><thead><tr>"
			"<th class=\"l\">index</th><th><button type=\"button\">cost before</button></th>"
			"<th><button type=\"button\">cost after</button></th><th><button type=\"button\">saving</button></th>");
	if (verify)
		fprintf(f, "<th><button type=\"button\">p95 before (ms)</button></th><th><button type=\"button\">p95 after (ms)</button></th>");
	fprintf(f, "<th class=\"l\">statement</th></tr></thead><tbody>\n");
	json_array_foreach(advice, i, a)
	{
		double		cb = html_jnum(a, "cost_before"),
					ca = html_jnum(a, "cost_after");
		json_t	   *st = json_object_get(a, "statements");
		char		b[64];

		fprintf(f, "<tr><td class=\"l\">");
		html_sql_pre(f, html_jstr(a, "create_index"), "fix");
		fprintf(f, "</td>");
		snprintf(b, sizeof(b), "%.1f", cb);
		fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(cb) ? cb : -1, isfinite(cb) ? b : "-");
		snprintf(b, sizeof(b), "%.1f", ca);
		fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(ca) ? ca : -1, isfinite(ca) ? b : "-");
		if (cb > 0 && isfinite(ca))
			fprintf(f, "<td data-v=\"%.6f\">%.1f %%</td>", 1 - ca / cb, 100 * (1 - ca / cb));
		else
			fprintf(f, "<td data-v=\"-1\">-</td>");
		if (verify)
		{
			html_td_num(f, html_jnum(a, "p95_before_ms"), true);
			html_td_num(f, html_jnum(a, "p95_after_ms"), true);
		}
		fprintf(f, "<td class=\"l\">");
		html_sql_pre(f, html_jstr(a, "query"), NULL);
		if (st && !(json_is_array(st) && json_array_size(st) == 0))
		{
			char	   *t = html_json_as_text(st);

			fprintf(f, "<div class=\"sub\">statements: ");
			html_text(f, t);
			fprintf(f, "</div>");
			free(t);
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static void
section_flame(FILE *f, const char *folded, const char *waits_folded)
{
	int			skipped = 0,
				sk2 = 0;

	fprintf(f, "<section id=\"flamegraph\"><h2>Flame graph</h2>\n");
	if (folded && chart_flame_write(f, "flame-cpu", "Driver and server stacks, by samples", folded,
									&skipped) == 0)
		fprintf(f, "<p>The flame graph holds no samples.</p>\n");
	if (waits_folded)
	{
		fprintf(f, "<h3>Waits</h3>\n");
		if (chart_flame_write(f, "flame-waits", "Wait events, by samples", waits_folded, &sk2) == 0)
			fprintf(f, "<p>The wait flame graph holds no samples.</p>\n");
	}
	if (skipped + sk2 > 0)
		fprintf(f, "<p class=\"sub\">%d line%s of the collapsed stacks did not parse and %s left out.</p>\n",
				skipped + sk2, skipped + sk2 == 1 ? "" : "s", skipped + sk2 == 1 ? "is" : "are");
	fprintf(f, "</section>\n");
}

/* The flame graph's collapsed stacks in the document, if any. */
static const char *
doc_folded(const json_t *doc, const char *key)
{
	json_t	   *fg = json_object_get(doc, "flamegraph");

	if (json_is_string(fg))
		return strcmp(key, "folded") == 0 ? json_string_value(fg) : NULL;
	return html_jstr(fg, key);
}

bool
html_write_run(const char *path, const struct html_run *r, char *err, size_t errlen)
{
	FILE	   *f;
	char		title[256];
	const char *name = html_jstr(r->doc, "name");
	const char *folded = r->folded ? r->folded : doc_folded(r->doc, "folded");
	const char *wfolded = r->waits_folded ? r->waits_folded : doc_folded(r->doc, "waits_folded");

	if (!html_open_out(path, &f, err, errlen))
		return false;
	snprintf(title, sizeof(title), "perfdriver run%s%.200s%s", name ? " " : "", name ? name : "",
			 r->cmp ? " (comparison)" : "");
	html_page_head(f, title);
	section_header(f, r);
	section_summary(f, r);
	if (html_jarr(r->doc, "assertions"))
		section_assertions(f, html_jarr(r->doc, "assertions"));
	if (r->cmp)
		section_comparison(f, r);
	section_over_time(f, r);
	section_distribution(f, r);
	if (html_jarr(r->doc, "statements"))
		section_statements(f, r);
	if (html_jarr(r->doc, "nplus1_findings"))
		html_section_nplus1(f, html_jarr(r->doc, "nplus1_findings"), "nplus1");
	if (json_object_get(r->doc, "waits") || json_object_get(r->doc, "lock_waits") ||
		json_object_get(r->doc, "observe_notes"))
		section_waits(f, r->doc);
	if (html_jarr(r->doc, "index_advice"))
		section_advice(f, html_jarr(r->doc, "index_advice"));
	if (folded || wfolded)
		section_flame(f, folded, wfolded);
	html_page_foot(f);
	return html_close_out(path, f, err, errlen);
}

