/*
 * html.c
 *		The HTML report of a run, a comparison and a log analysis: one
 *		self-contained file (docs/perfdriver.md, "HTML report").
 *
 * Owns: the page (its CSS, its small script for sorting tables and zooming
 * flame graphs, its Content-Security-Policy), and the mapping from the JSON
 * report document to sections.  Every section is written only when its key
 * is in the document, so keys added by other capabilities (assertions,
 * waits, index advice, ...) show up when present and leave no empty shell
 * when absent.  Shapes it does not know are shown as formatted JSON rather
 * than dropped.
 *
 * Must not: include libpq-fe.h (cmd_report.c reads the store through
 * store.c), or write anything that makes the browser fetch: no link, src,
 * url() or font outside the file.
 *
 * Memory: reads the caller's json_t documents; sketches decoded from their
 * text form and every other temporary are freed before returning.
 */
#include "html.h"
#include "driver.h"
#include "store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Most points of a time chart: longer runs merge neighbouring intervals. */
#define HTML_MAX_POINTS 600
/* Most per-statement histograms (the busiest statements by time). */
#define HTML_MAX_STMT_HIST 20

/* ----------------------------------------------------------- JSON access */

static double
jnum(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *
jstr(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
jarr(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

static json_t *
jobj(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

/* The sketch in o's "latency_sketch" (caller frees), or NULL. */
static struct sketch *
jsketch(const json_t *o)
{
	const char *text = jstr(o, "latency_sketch");
	struct sketch *s = NULL;
	char		err[256];

	if (text == NULL || sketch_from_text(text, &s, &pd_sketch_alloc, err, sizeof(err)) != SKETCH_OK)
		return NULL;
	return s;
}

/* Parse "YYYY-MM-DDTHH:MM:SS[.f][+HH:MM|Z]" into seconds since the epoch. */
static double
parse_ts(const char *s)
{
	struct tm	tm;
	int			y,
				mo,
				d,
				h,
				mi;
	double		sec;
	int			n = 0;
	double		off = 0;
	const char *p;

	if (s == NULL || sscanf(s, "%d-%d-%d%*1[T ]%d:%d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) < 6 || n == 0)
		return NAN;
	p = s + n;
	if (*p == '+' || *p == '-')
	{
		int			oh = 0,
					om = 0;

		if (sscanf(p + 1, "%d:%d", &oh, &om) >= 1)
			off = (*p == '-' ? -1 : 1) * (oh * 3600.0 + om * 60.0);
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	return (double) timegm(&tm) + sec - off;
}

/* "2026-12-06 04:31:14 UTC+00:00" for an epoch time. */
static void
fmt_utc(char *buf, size_t len, double epoch)
{
	time_t		t = (time_t) floor(epoch);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC+00:00", &tm);
}

static void
fmt_count(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", v);
}

/* ------------------------------------------------------------------ page */

static const char page_css[] =
	":root{--fg:#1a1a1a;--muted:#555;--line:#d4d4d4;--head:#f3f3f3}"
	"*{box-sizing:border-box}"
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:#fff;margin:0}"
	"main{max-width:1120px;margin:0 auto;padding:12px 16px 32px}"
	"h1{font-size:1.45em;margin:.3em 0}h2{font-size:1.2em;border-bottom:2px solid var(--line);padding-bottom:3px;margin:1.6em 0 .6em}"
	"h3{font-size:1em;margin:1em 0 .4em}.sub{color:var(--muted);margin:0 0 .6em}"
	".cards{display:flex;flex-wrap:wrap;gap:8px;margin:.4em 0}"
	".card{border:1px solid var(--line);border-radius:6px;padding:6px 12px;min-width:118px;flex:0 1 auto}"
	".card .v{font-size:1.35em;font-weight:650}.card .k{color:var(--muted);font-size:.82em}"
	".scroll{overflow-x:auto}"
	"table{border-collapse:collapse;width:100%;font-size:.92em}"
	"th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:right;vertical-align:top;white-space:nowrap}"
	"td.l{white-space:normal}"
	"th{background:var(--head);white-space:nowrap}td.l,th.l{text-align:left}"
	"th button{font:inherit;font-weight:650;background:none;border:0;padding:0;cursor:pointer;color:inherit}"
	"th[aria-sort=ascending] button::after{content:' \\25B2'}th[aria-sort=descending] button::after{content:' \\25BC'}"
	"pre,code{font:13px/1.35 ui-monospace,Menlo,Consolas,monospace}"
	"pre{white-space:pre-wrap;word-break:break-word;margin:0;user-select:text}"
	"pre.sql{background:#f7f7f7;border-left:3px solid #0072B2;padding:3px 6px}"
	"pre.fix{border-left-color:#009E73}"
	".badge{display:inline-block;padding:0 6px;border-radius:4px;font-weight:650;font-size:.85em;white-space:nowrap}"
	".pass,.improvement{background:#dcecf7;color:#00466e;border:1px solid #0072B2}"
	".fail,.regression{background:#fbe0d0;color:#7a2e00;border:1px solid #D55E00}"
	".unchanged,.new,.gone,.note{background:#eee;color:#333;border:1px solid #999}"
	".chips span{display:inline-block;border:1px solid var(--line);border-radius:10px;padding:0 8px;margin:0 4px 4px 0;font-size:.85em}"
	"figure{margin:8px 0 14px}figure svg{width:100%;height:auto;display:block}"
	"figcaption{color:var(--muted);font-size:.84em}"
	"svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}"
	".grid{stroke:#e4e4e4}.axis{stroke:#777}.tick{fill:#444}svg .label{font-weight:650}"
	"rect.bar{fill:#56B4E9;stroke:#0072B2;stroke-width:.6}"
	".marklabel{font-size:11px;font-weight:650}"
	".smalls{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:10px}"
	".smalls figure{border:1px solid var(--line);border-radius:6px;padding:6px}"
	".flame text{font:11px ui-monospace,Menlo,monospace;pointer-events:none}"
	".flame g.fr{cursor:pointer}.flame g.fr:hover rect{stroke:#000;stroke-width:.8}"
	".flamebar button{font:inherit;padding:2px 8px}.hint{color:var(--muted);font-size:.85em}"
	"details summary{cursor:pointer;color:#0072B2}"
	"footer{margin-top:2.5em;color:var(--muted);font-size:.82em;border-top:1px solid var(--line);padding-top:6px}"
	"@media (max-width:640px){body{font-size:14px}main{padding:8px}.card{min-width:46%}"
	"th,td{padding:3px 4px}table{font-size:.85em}}"
	"@media print{body{font-size:10.5pt}main{max-width:none;padding:0}.flamebar,th button::after{display:none}"
	"section,figure,tr{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}"
	"details{display:block}details>*{display:block}pre.sql{background:none}}";

static const char page_js[] =
	"(function(){'use strict';"
	"function val(c){var v=c.getAttribute('data-v');if(v===null)v=c.textContent;var n=parseFloat(v);return isNaN(n)?{s:v}:{n:n};}"
	"document.querySelectorAll('table.sortable').forEach(function(t){"
	"t.querySelectorAll('thead th').forEach(function(th,col){var b=th.querySelector('button');if(!b)return;"
	"b.addEventListener('click',function(){var asc=th.getAttribute('aria-sort')!=='ascending';"
	"t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});"
	"th.setAttribute('aria-sort',asc?'ascending':'descending');"
	"var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);"
	"rows.sort(function(a,b){var x=val(a.cells[col]),y=val(b.cells[col]),c;"
	"if(x.n!==undefined&&y.n!==undefined)c=x.n-y.n;else c=String(x.s||x.n).localeCompare(String(y.s||y.n));"
	"return asc?c:-c;});rows.forEach(function(r){tb.appendChild(r);});});});});"
	"function zoom(svg,g){var W=+svg.getAttribute('data-w'),x0=+g.getAttribute('data-x'),"
	"w0=+g.getAttribute('data-w'),d0=+g.getAttribute('data-d');"
	"svg.querySelectorAll('g.fr').forEach(function(e){var x=+e.getAttribute('data-x'),w=+e.getAttribute('data-w'),"
	"d=+e.getAttribute('data-d'),nx,nw;"
	"if(d<d0){if(x<=x0+1e-9&&x+w>=x0+w0-1e-9){nx=0;nw=1;}else{e.style.display='none';return;}}"
	"else{nx=(x-x0)/w0;nw=w/w0;if(nx<-1e-9||nx+nw>1+1e-6){e.style.display='none';return;}}"
	"e.style.display='';var r=e.querySelector('rect'),t=e.querySelector('text'),px=nw*W;"
	"r.setAttribute('x',(nx*W).toFixed(2));r.setAttribute('width',Math.max(px-0.5,0.3).toFixed(2));"
	"t.setAttribute('x',(nx*W+3).toFixed(2));"
	"var name=e.querySelector('title').textContent.split('\\n')[0],fit=Math.floor((px-6)/7);"
	"t.textContent=px>24?(name.length>fit?name.slice(0,Math.max(fit-2,0))+'..':name):'';});"
	"svg.setAttribute('data-zoom',g.getAttribute('data-d')+':'+g.getAttribute('data-x'));}"
	"document.querySelectorAll('svg.flamegraph').forEach(function(svg){"
	"svg.addEventListener('click',function(ev){var g=ev.target.closest('g.fr');if(g)zoom(svg,g);});"
	"var b=svg.parentNode.querySelector('.flamereset');"
	"if(b)b.addEventListener('click',function(){zoom(svg,svg.querySelector('g.fr'));});});"
	"document.documentElement.setAttribute('data-ready','1');})();";

static void
page_head(FILE *f, const char *title)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<link rel=\"icon\" href=\"data:,\">\n<title>");
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body><main>\n", page_css);
}

static void
page_foot(FILE *f)
{
	char		now[64];

	fmt_utc(now, sizeof(now), (double) time(NULL));
	fprintf(f, "<footer>Written by perfdriver on %s. This file is self-contained: its styles, charts "
			"(hand-written SVG) and script are inline, and it loads nothing from the network. "
			"No third-party code is included.</footer>\n</main>\n<script>%s</script>\n</body></html>\n",
			now, page_js);
}

static void
card(FILE *f, const char *key, const char *value, const char *cls)
{
	fprintf(f, "<div class=\"card%s%s\"><div class=\"v\">", cls ? " " : "", cls ? cls : "");
	html_text(f, value);
	fprintf(f, "</div><div class=\"k\">");
	html_text(f, key);
	fprintf(f, "</div></div>\n");
}

/* A JSON value as text: strings bare, other scalars as JSON, else compact. */
static char *
json_as_text(const json_t *v)
{
	if (json_is_string(v))
		return pd_strdup(json_string_value(v));
	if (json_is_null(v) || v == NULL)
		return pd_strdup("-");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

/* A JSON value the renderer has no layout for: formatted, selectable. */
static void
json_pre(FILE *f, const json_t *v)
{
	char	   *s = json_is_string(v) ? pd_strdup(json_string_value(v))
		: json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	fprintf(f, "<pre>");
	html_text(f, s);
	fprintf(f, "</pre>\n");
	free(s);
}

static void
sql_pre(FILE *f, const char *sql, const char *cls)
{
	fprintf(f, "<pre class=\"sql%s%s\">", cls ? " " : "", cls ? cls : "");
	html_text(f, sql ? sql : "");
	fprintf(f, "</pre>");
}

/* A verdict badge: words as well as colour. */
static void
badge(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<span class=\"badge %s\">", cls);
	html_text(f, text);
	fprintf(f, "</span>");
}

/* A table cell holding a number (sort key data-v), ms or count style. */
static void
td_num(FILE *f, double v, bool ms)
{
	char		b[64];

	if (ms)
		html_fmt_ms(b, sizeof(b), v);
	else
		fmt_count(b, sizeof(b), v);
	fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(v) ? v : -1.0, b);
}

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
	{
		json_t	   *iv = jarr(docs[d], "intervals");

		if (iv && (int) json_array_size(iv) > n)
			n = (int) json_array_size(iv);
	}
	if (n == 0)
		return;
	/* a last interval cut short by the end of the run is too noisy to draw */
	{
		json_t	   *iv = jarr(docs[0], "intervals");
		double		first = jnum(json_array_get(iv, 0), "length_s");
		double		last = jnum(json_array_get(iv, json_array_size(iv) - 1), "length_s");

		if (ndocs == 1 && n > 1 && first > 0 && last < 0.5 * first)
			n--;
	}
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
		double		trans = 0,
					len = 0,
					err = 0,
					t = NAN,
					tps_sum = 0;
		int			entries = 0,
					withsk = 0,
					tps_docs = 0;
		double		q[3] = {NAN, NAN, NAN};
		struct sketch *m = NULL;

		for (int d = 0; d < ndocs; d++)
		{
			json_t	   *iv = jarr(docs[d], "intervals");
			double		dtr = 0,
						dlen = 0;
			bool		any = false;

			for (int k = i * g; iv && k < (i + 1) * g && k < n && k < (int) json_array_size(iv); k++)
			{
				json_t	   *e = json_array_get(iv, k);
				json_t	   *lat = jobj(e, "latency_ms");
				struct sketch *sk = jsketch(e);
				static const char *const qk[] = {"p50", "p95", "p99"};
				double		tr = jnum(e, "transactions"),
							l = jnum(e, "length_s");

				if (isfinite(tr) && isfinite(l))
				{
					dtr += tr;
					dlen += l;
				}
				else if (isfinite(jnum(e, "tps")))
				{
					/* no counts: weight the rate by one second */
					dtr += jnum(e, "tps");
					dlen += 1;
				}
				any = true;
				if (isfinite(jnum(e, "failed")))
					err += jnum(e, "failed");
				if (isfinite(jnum(e, "errors")))
					err += jnum(e, "errors");
				if (d == 0 || !isfinite(t))
					t = jnum(e, "t_s");
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
					double		v = jnum(lat, qk[j]);

					if (isfinite(v) && (!isfinite(q[j]) || v > q[j]))
						q[j] = v;
				}
			}
			if (any && dlen > 0)
			{
				tps_sum += dtr / dlen;
				tps_docs++;
			}
			trans += dtr;
			len += dlen;
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
	const char *name = jstr(doc, "name");
	double		start = parse_ts(jstr(doc, "started_at"));
	double		fin = parse_ts(jstr(doc, "finished_at"));
	json_t	   *labels = jobj(doc, "labels");

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

		fmt_utc(b, sizeof(b), start);
		fprintf(f, "started <time datetime=\"");
		html_text(f, jstr(doc, "started_at"));
		fprintf(f, "\">%s</time>", b);
		if (isfinite(fin))
		{
			fmt_utc(b, sizeof(b), fin);
			fprintf(f, ", finished <time datetime=\"");
			html_text(f, jstr(doc, "finished_at"));
			fprintf(f, "\">%s</time>", b);
		}
	}
	else
		fprintf(f, "start time not recorded");
	if (jstr(doc, "host") && jstr(doc, "host")[0])
	{
		fprintf(f, " &middot; driver host ");
		html_text(f, jstr(doc, "host"));
	}
	if (jstr(doc, "run_group"))
	{
		fprintf(f, " &middot; run group ");
		html_text(f, jstr(doc, "run_group"));
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
			char	   *t = json_as_text(v);

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
	json_t	   *lat = jobj(doc, "latency_ms");
	json_t	   *errs = jobj(doc, "errors");
	json_t	   *as = jarr(doc, "assertions");
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
	snprintf(b, sizeof(b), "%.1f", jnum(doc, "tps"));
	card(f, "transactions/s", isfinite(jnum(doc, "tps")) ? b : "-", NULL);
	fmt_count(b, sizeof(b), jnum(doc, "transactions"));
	card(f, "transactions committed", b, NULL);
	fmt_count(b, sizeof(b), jnum(doc, "failed_transactions"));
	card(f, "failed transactions", b, jnum(doc, "failed_transactions") > 0 ? "fail" : NULL);
	fmt_count(b, sizeof(b), nerr);
	card(f, "errors", b, nerr > 0 ? "fail" : NULL);
	snprintf(b, sizeof(b), "%.2f s", jnum(doc, "duration_s"));
	card(f, "duration", isfinite(jnum(doc, "duration_s")) ? b : "-", NULL);
	for (int i = 0; i < 6; i++)
	{
		char		k[32],
					v[40];

		html_fmt_ms(v, sizeof(v), jnum(lat, qk[i]));
		snprintf(k, sizeof(k), "%s latency (ms)", qk[i]);
		card(f, k, v, NULL);
	}
	if (as != NULL)
	{
		int			nf = count_failed_assertions(as);

		snprintf(b, sizeof(b), "%s %d of %zu", nf ? "\u2717 failed" : "\u2713 passed",
				 nf ? nf : (int) json_array_size(as), json_array_size(as));
		card(f, "assertions", b, nf ? "fail" : "pass");
	}
	if (r->cmp != NULL)
	{
		snprintf(b, sizeof(b), "%s%d regression%s", r->cmp->regressions ? "\u25B2 " : "\u2713 ",
				 r->cmp->regressions, r->cmp->regressions == 1 ? "" : "s");
		card(f, "against the baseline", b, r->cmp->regressions ? "fail" : "pass");
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
			td_num(f, json_number_value(v), false);
			fprintf(f, "</tr>\n");
		}
		fprintf(f, "</tbody></table></div>\n");
	}

	/* the configuration: the stored config, else the report's own keys */
	{
		json_t	   *cfg = jobj(doc, "config");
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
					html_text(f, jstr(s, "name") ? jstr(s, "name") : "?");
					if (isfinite(jnum(s, "weight")))
						fprintf(f, " @%.0f", jnum(s, "weight"));
				}
				fprintf(f, "</td></tr>\n");
				continue;
			}
			t = json_as_text(v);
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
			t = json_as_text(v);
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
		char	   *tv = json_as_text(json_object_get(a, "target"));
		char	   *mv = json_as_text(json_object_get(a, "value"));
		const char *note = jstr(a, "reason") ? jstr(a, "reason") : jstr(a, "message");

		fprintf(f, "<tr class=\"%s\"><td class=\"l\">", ok ? "passed" : "failed");
		badge(f, ok ? "pass" : "fail", ok ? "\u2713 pass" : "\u2717 FAIL");
		fprintf(f, "</td><td class=\"l\"><code>");
		html_text(f, jstr(a, "expr") ? jstr(a, "expr") : "?");
		fprintf(f, "</code></td><td>");
		html_text(f, tv);
		fprintf(f, "</td><td>");
		html_text(f, mv);
		fprintf(f, "</td><td class=\"l\">");
		html_text(f, note ? note : "");
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
	fprintf(f, "; threshold %.1f %%. ", 100.0 * c->threshold);
	badge(f, c->regressions ? "regression" : "pass",
		  c->regressions ? "\u25B2 regression" : "\u2713 no regression");
	fprintf(f, " %d regression%s.</p>\n", c->regressions, c->regressions == 1 ? "" : "s");
	fprintf(f, "<div class=\"scroll\"><table class=\"sortable\" id=\"comparison-table\"><thead><tr>"
			"<th class=\"l\"><button type=\"button\">metric</button></th><th><button type=\"button\">baseline</button></th>"
			"<th><button type=\"button\">candidate</button></th><th><button type=\"button\">change</button></th>"
			"<th><button type=\"button\">spread</button></th><th class=\"l\"><button type=\"button\">verdict</button></th>"
			"<th class=\"l\">statement</th></tr></thead><tbody>\n");
	for (int pass = 0; pass < 4; pass++)
	for (int i = 0; i < c->nrows; i++)
	{
		const struct pd_cmp_row *w = &c->rows[i];
		const char *v = w->verdict ? w->verdict : "unchanged";

		/* regressions first, then improvements, new and gone, the rest */
		if (verdict_rank(v) != pass)
			continue;
		bool		tps = w->metric && strcmp(w->metric, "tps") == 0;
		bool		er = w->metric && strcmp(w->metric, "error_rate") == 0;
		char		b[64];

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
			td_num(f, w->baseline, true);
			td_num(f, w->candidate, true);
		}
		if (isfinite(w->change))
			fprintf(f, "<td data-v=\"%.9g\">%+.1f %%</td>", w->change, 100 * w->change);
		else
			fprintf(f, "<td data-v=\"-1e300\">-</td>");
		if (isfinite(w->spread))
			fprintf(f, "<td data-v=\"%.9g\">%.1f %%</td>", w->spread, 100 * w->spread);
		else
			fprintf(f, "<td data-v=\"-1\">-</td>");
		fprintf(f, "<td class=\"l\" data-v=\"");
		html_text(f, v);
		fprintf(f, "\">");
		badge(f, v, strcmp(v, "regression") == 0 ? "\u25B2 regression"
			  : strcmp(v, "improvement") == 0 ? "\u25BC improvement" : v);
		fprintf(f, "</td><td class=\"l\">");
		if (w->scope && strcmp(w->scope, "run") == 0)
			fprintf(f, "(whole run)");
		else
			sql_pre(f, w->query ? w->query : w->fingerprint, NULL);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static void
section_over_time(FILE *f, const struct html_run *r)
{
	struct ts	c,
				b;
	double		start = parse_ts(jstr(r->doc, "started_at"));

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

/* The baseline runs' merged sketch of "latency_sketch" in obj_of(doc). */
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

			json_array_foreach(jarr(r->baselines[d], "statements"), i, s)
				if (jstr(s, "fingerprint") && strcmp(jstr(s, "fingerprint"), fingerprint) == 0)
				o = s;
		}
		{
			struct sketch *sk = o ? jsketch(o) : NULL;

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
	struct sketch *s = jsketch(r->doc);
	json_t	   *stmts = jarr(r->doc, "statements");
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
		json_t	   *lat = jobj(r->doc, "latency_ms");
		double		marks[3] = {jnum(lat, "p50"), jnum(lat, "p95"), jnum(lat, "p99")};
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
			rk[i].time = jnum(st, "calls") * jnum(jobj(st, "latency_ms"), "mean");
			if (!isfinite(rk[i].time))
				rk[i].time = -1;
		}
		qsort(rk, n, sizeof(*rk), stmt_rank_cmp);
		fprintf(f, "<h3>Per statement</h3>\n<div class=\"smalls\">\n");
		for (i = 0; i < n && shown < HTML_MAX_STMT_HIST; i++)
		{
			json_t	   *e = json_array_get(stmts, rk[i].index);
			struct sketch *sk = jsketch(e);
			json_t	   *lat = jobj(e, "latency_ms");
			double		marks[3] = {jnum(lat, "p50"), jnum(lat, "p95"), jnum(lat, "p99")};
			char		id[64],
						title[160];
			const char *q = jstr(e, "query");
			struct sketch *base;

			if (sk == NULL || sk->count == 0)
			{
				free(sk);
				continue;
			}
			base = jstr(e, "fingerprint") ? baseline_sketch(r, jstr(e, "fingerprint")) : NULL;
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
	json_t	   *stmts = jarr(r->doc, "statements");
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
		json_t	   *lat = jobj(s, "latency_ms");
		json_t	   *srv = jobj(s, "server");
		json_t	   *waits = jobj(s, "waits");
		json_t	   *plan = json_object_get(s, "plan");

		fprintf(f, "<tr><td data-v=\"%zu\">%zu</td>", i + 1, i + 1);
		td_num(f, jnum(s, "calls"), false);
		td_num(f, jnum(s, "rows"), false);
		td_num(f, jnum(s, "errors"), false);
		for (int k = 0; k < 6; k++)
			td_num(f, jnum(lat, qk[k]), true);
		td_num(f, jnum(s, "calls") * jnum(lat, "mean"), true);
		if (server)
		{
			td_num(f, jnum(srv, "mean_exec_ms"), true);
			td_num(f, jnum(srv, "shared_blks_read"), false);
		}
		fprintf(f, "<td class=\"l\" data-v=\"");
		html_text(f, jstr(s, "query") ? jstr(s, "query") : "");
		fprintf(f, "\">");
		sql_pre(f, jstr(s, "query"), NULL);
		if (waits && json_object_size(waits) > 0)
		{
			fprintf(f, "<div class=\"sub\">waits: ");
			waits_line(f, waits);
			fprintf(f, "</div>");
		}
		if (srv)
		{
			fprintf(f, "<details><summary>server statistics</summary>");
			json_pre(f, srv);
			fprintf(f, "</details>");
		}
		if (plan)
		{
			fprintf(f, "<details class=\"plan\"><summary>plan</summary>");
			json_pre(f, plan);
			fprintf(f, "</details>");
		}
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div></section>\n");
}

static void
section_nplus1(FILE *f, const json_t *findings, const char *id)
{
	size_t		i;
	json_t	   *e;

	fprintf(f, "<section id=\"%s\"><h2>N+1 query patterns</h2>\n", id);
	if (json_array_size(findings) == 0)
	{
		fprintf(f, "<p>No N+1 pattern was found.</p></section>\n");
		return;
	}
	fprintf(f, "<p class=\"sub\">A statement repeated once per row of the statement before it; each comes with the batched form to run instead.</p>\n");
	json_array_foreach(findings, i, e)
	{
		json_t	   *params = jarr(e, "example_params");
		char		b[64];

		fprintf(f, "<article class=\"finding\" data-finding=\"%zu\"><h3>Pattern %zu: ", i + 1, i + 1);
		fmt_count(b, sizeof(b), jnum(e, "occurrences"));
		fprintf(f, "%s occurrence%s, ", b, jnum(e, "occurrences") == 1 ? "" : "s");
		snprintf(b, sizeof(b), "%.1f", jnum(e, "repeats_mean"));
		fprintf(f, "%s repeats on average (at most %.0f)", isfinite(jnum(e, "repeats_mean")) ? b : "-",
				jnum(e, "repeats_max"));
		if (isfinite(jnum(e, "time_ms")))
		{
			html_fmt_ms(b, sizeof(b), jnum(e, "time_ms"));
			fprintf(f, ", %s ms in the repeats", b);
		}
		fprintf(f, "</h3>\n<p>After this statement:</p>");
		sql_pre(f, jstr(e, "source"), NULL);
		fprintf(f, "\n<p>this one runs once per row:</p>");
		sql_pre(f, jstr(e, "repeated"), NULL);
		if (params && json_array_size(params) > 0)
		{
			size_t		k;
			json_t	   *p;

			fprintf(f, "\n<p>with parameters such as <code>");
			json_array_foreach(params, k, p)
			{
				fprintf(f, "%s", k ? ", " : "");
				html_text(f, json_is_string(p) ? json_string_value(p) : "null");
			}
			fprintf(f, "</code></p>");
		}
		if (jstr(e, "suggestion"))
		{
			fprintf(f, "\n<p>Batched rewrite:</p>");
			sql_pre(f, jstr(e, "suggestion"), "fix");
		}
		fprintf(f, "</article>\n");
	}
	fprintf(f, "</section>\n");
}

/* A list of objects as a table with the union of their keys. */
static void
generic_table(FILE *f, const json_t *list, const char *id)
{
	const char *keys[32];
	int			nk = 0;
	size_t		i;
	json_t	   *e;

	json_array_foreach(list, i, e)
	{
		const char *k;
		json_t	   *v;

		if (!json_is_object(e))
			continue;
		json_object_foreach(e, k, v)
		{
			int			j;

			for (j = 0; j < nk; j++)
				if (strcmp(keys[j], k) == 0)
					break;
			if (j == nk && nk < 32)
				keys[nk++] = k;
		}
	}
	if (nk == 0)
	{
		json_pre(f, list);
		return;
	}
	fprintf(f, "<div class=\"scroll\"><table id=\"%s\"><thead><tr>", id);
	for (int j = 0; j < nk; j++)
	{
		fprintf(f, "<th class=\"l\">");
		html_text(f, keys[j]);
		fprintf(f, "</th>");
	}
	fprintf(f, "</tr></thead><tbody>\n");
	json_array_foreach(list, i, e)
	{
		fprintf(f, "<tr>");
		for (int j = 0; j < nk; j++)
		{
			json_t	   *v = json_object_get(e, keys[j]);
			char	   *t = json_as_text(v);

			fprintf(f, "<td class=\"l\">");
			if (json_is_string(v) && strchr(t, ' '))
				sql_pre(f, t, NULL);
			else
				html_text(f, t);
			fprintf(f, "</td>");
			free(t);
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</tbody></table></div>\n");
}

static void
section_waits(FILE *f, const json_t *doc)
{
	json_t	   *waits = jobj(doc, "waits");
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
			generic_table(f, locks, "lock-waits-table");
		else
			json_pre(f, locks);
	}
	if (notes)
	{
		size_t		i;
		json_t	   *n;

		fprintf(f, "<h3>Notes</h3><ul>");
		if (json_is_array(notes))
			json_array_foreach(notes, i, n)
		{
			char	   *t = json_as_text(n);

			fprintf(f, "<li>");
			html_text(f, t);
			fprintf(f, "</li>");
			free(t);
		}
		else
		{
			fprintf(f, "<li>");
			json_pre(f, notes);
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
		double		cb = jnum(a, "cost_before"),
					ca = jnum(a, "cost_after");
		json_t	   *st = json_object_get(a, "statements");
		char		b[64];

		fprintf(f, "<tr><td class=\"l\">");
		sql_pre(f, jstr(a, "create_index"), "fix");
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
			td_num(f, jnum(a, "p95_before_ms"), true);
			td_num(f, jnum(a, "p95_after_ms"), true);
		}
		fprintf(f, "<td class=\"l\">");
		sql_pre(f, jstr(a, "query"), NULL);
		if (st && !(json_is_array(st) && json_array_size(st) == 0))
		{
			char	   *t = json_as_text(st);

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
	return jstr(fg, key);
}

static bool
open_out(const char *path, FILE **f, char *err, size_t errlen)
{
	*f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (*f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path, strerror(errno));
		return false;
	}
	return true;
}

static bool
close_out(const char *path, FILE *f, char *err, size_t errlen)
{
	bool		ok = !ferror(f);

	if (f != stdout)
		ok = (fclose(f) == 0) && ok;
	else
		fflush(f);
	if (!ok)
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
	return ok;
}

bool
html_write_run(const char *path, const struct html_run *r, char *err, size_t errlen)
{
	FILE	   *f;
	char		title[256];
	const char *name = jstr(r->doc, "name");
	const char *folded = r->folded ? r->folded : doc_folded(r->doc, "folded");
	const char *wfolded = r->waits_folded ? r->waits_folded : doc_folded(r->doc, "waits_folded");

	if (!open_out(path, &f, err, errlen))
		return false;
	snprintf(title, sizeof(title), "perfdriver run%s%.200s%s", name ? " " : "", name ? name : "",
			 r->cmp ? " (comparison)" : "");
	page_head(f, title);
	section_header(f, r);
	section_summary(f, r);
	if (jarr(r->doc, "assertions"))
		section_assertions(f, jarr(r->doc, "assertions"));
	if (r->cmp)
		section_comparison(f, r);
	section_over_time(f, r);
	section_distribution(f, r);
	if (jarr(r->doc, "statements"))
		section_statements(f, r);
	if (jarr(r->doc, "nplus1_findings"))
		section_nplus1(f, jarr(r->doc, "nplus1_findings"), "nplus1");
	if (json_object_get(r->doc, "waits") || json_object_get(r->doc, "lock_waits") ||
		json_object_get(r->doc, "observe_notes"))
		section_waits(f, r->doc);
	if (jarr(r->doc, "index_advice"))
		section_advice(f, jarr(r->doc, "index_advice"));
	if (folded || wfolded)
		section_flame(f, folded, wfolded);
	page_foot(f);
	return close_out(path, f, err, errlen);
}

/* ------------------------------------------------------------- analysis */

bool
html_write_analyze(const char *path, json_t *doc, char *err, size_t errlen)
{
	FILE	   *f;
	json_t	   *top = jarr(doc, "top_statements");
	json_t	   *tl = jobj(doc, "timeline");
	char		b[64];

	if (!open_out(path, &f, err, errlen))
		return false;
	page_head(f, "perfdriver log analysis");
	fprintf(f, "<header><h1>perfdriver log analysis</h1><p class=\"sub\">log <code>");
	html_text(f, jstr(doc, "log") ? jstr(doc, "log") : "?");
	fprintf(f, "</code> (");
	html_text(f, jstr(doc, "format") ? jstr(doc, "format") : "?");
	fprintf(f, ")%s</p></header>\n",
			json_is_true(json_object_get(doc, "truncated")) ? " &middot; <span class=\"badge fail\">truncated</span>" : "");
	fprintf(f, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
	fmt_count(b, sizeof(b), jnum(doc, "statements"));
	card(f, "statements", b, NULL);
	fmt_count(b, sizeof(b), jnum(doc, "sessions"));
	card(f, "sessions", b, NULL);
	fmt_count(b, sizeof(b), jnum(doc, "units"));
	card(f, "units (transactions)", b, NULL);
	fmt_count(b, sizeof(b), (double) json_array_size(jarr(doc, "nplus1_findings")));
	card(f, "N+1 patterns", b, json_array_size(jarr(doc, "nplus1_findings")) ? "fail" : "pass");
	fmt_count(b, sizeof(b), jnum(doc, "unparsed_lines"));
	card(f, "unparsed lines", b, jnum(doc, "unparsed_lines") > 0 ? "note" : NULL);
	card(f, "durations", json_is_true(json_object_get(doc, "durations_logged")) ? "logged" : "not logged", NULL);
	fprintf(f, "</div></section>\n");

	if (tl && jarr(tl, "counts"))
	{
		json_t	   *counts = jarr(tl, "counts");
		double		bucket = jnum(tl, "bucket_s");
		int			n = (int) json_array_size(counts);
		double	   *x = pd_calloc(n, sizeof(double));
		double	   *y = pd_calloc(n, sizeof(double));
		/* the log's clock has no known time zone: elapsed seconds only */
		double		start = NAN;

		if (!(bucket > 0))
			bucket = 1;
		for (int i = 0; i < n; i++)
		{
			x[i] = (i + 1) * bucket;
			y[i] = json_number_value(json_array_get(counts, i)) / bucket;
		}
		fprintf(f, "<section id=\"timeline\"><h2>Statement rate</h2>\n");
		if (jstr(tl, "start"))
		{
			fprintf(f, "<p class=\"sub\">From the log's timestamps, per %g s; the first at ", bucket);
			html_text(f, jstr(tl, "start"));
			fprintf(f, "%s.</p>\n", jstr(tl, "zone") ? "" : " (as written in the log)");
		}
		{
			struct chart_series s = {.name = "statements/s", .y = y, .colour = 0, .marker = 0};
			struct chart_time ct = {
				.id = "chart-rate", .title = "Statements per second", .ylabel = "statements/s",
				.x = x, .n = n, .series = &s, .nseries = 1, .start_epoch = start,
			};

			chart_time_write(f, &ct);
		}
		fprintf(f, "</section>\n");
		free(x);
		free(y);
	}
	if (top)
	{
		size_t		i;
		json_t	   *s;

		fprintf(f, "<section id=\"top-statements\"><h2>Top statements</h2>\n");
		if (json_array_size(top) == 0)
			fprintf(f, "<p>No statement was found in the log.</p>\n");
		else
		{
			fprintf(f, "<div class=\"scroll\"><table class=\"sortable\" id=\"top-table\"><thead><tr>"
					"<th><button type=\"button\">calls</button></th><th><button type=\"button\">total (ms)</button></th>"
					"<th><button type=\"button\">mean (ms)</button></th><th><button type=\"button\">max (ms)</button></th>"
					"<th class=\"l\">statement</th></tr></thead><tbody>\n");
			json_array_foreach(top, i, s)
			{
				fprintf(f, "<tr>");
				td_num(f, jnum(s, "calls"), false);
				td_num(f, jnum(s, "total_ms"), true);
				td_num(f, jnum(s, "mean_ms"), true);
				td_num(f, jnum(s, "max_ms"), true);
				fprintf(f, "<td class=\"l\">");
				sql_pre(f, jstr(s, "query"), NULL);
				fprintf(f, "</td></tr>\n");
			}
			fprintf(f, "</tbody></table></div>\n");
		}
		fprintf(f, "</section>\n");
	}
	if (jarr(doc, "nplus1_findings"))
		section_nplus1(f, jarr(doc, "nplus1_findings"), "nplus1");
	if (jarr(doc, "unparsed_examples") && json_array_size(jarr(doc, "unparsed_examples")) > 0)
	{
		fprintf(f, "<section id=\"unparsed\"><h2>Lines that did not parse</h2>\n");
		generic_table(f, jarr(doc, "unparsed_examples"), "unparsed-table");
		fprintf(f, "</section>\n");
	}
	page_foot(f);
	return close_out(path, f, err, errlen);
}
