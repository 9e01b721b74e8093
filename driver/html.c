/*
 * html.c
 *		The HTML report's page and the parts every report shares: the CSS,
 *		the small script (sorting tables, zooming flame graphs), the
 *		Content-Security-Policy, reading the JSON document, the widgets
 *		(cards, badges, SQL blocks, tables), the N+1 section; and the log
 *		analysis report (docs/perfdriver.md, "HTML report").
 *
 * Owns: the page's look and its promise to load nothing: no link, src,
 * url() or font outside the file, and a policy that forbids every load.
 * Every string that comes from a document goes through html_text().
 *
 * Must not: include libpq-fe.h, or know the run report's sections
 * (html_run.c).
 *
 * Memory: reads the caller's json_t documents; every temporary is freed
 * before returning.
 */
#include "html.h"
#include "html_page.h"
#include "driver.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ----------------------------------------------------------- JSON access */

double
html_jnum(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *
html_jstr(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *
html_jarr(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

json_t *
html_jobj(const json_t *o, const char *key)
{
	json_t	   *v = o ? json_object_get(o, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

/* The sketch in o's "latency_sketch" (caller frees), or NULL. */
struct sketch *
html_jsketch(const json_t *o)
{
	const char *text = html_jstr(o, "latency_sketch");
	struct sketch *s = NULL;
	char		err[256];

	if (text == NULL || sketch_from_text(text, &s, &pd_sketch_alloc, err, sizeof(err)) != SKETCH_OK)
		return NULL;
	return s;
}

/* Parse "YYYY-MM-DDTHH:MM:SS[.f][+HH:MM|Z]" into seconds since the epoch. */
double
html_parse_ts(const char *s)
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
void
html_fmt_utc(char *buf, size_t len, double epoch)
{
	time_t		t = (time_t) floor(epoch);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC+00:00", &tm);
}

void
html_fmt_count(char *buf, size_t len, double v)
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
	"td.l{white-space:normal}table.kv td{overflow-wrap:anywhere}"
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
	"table{font-size:8pt}th,td{white-space:normal;padding:2px 3px}td.l{min-width:14em}"
	"pre,code{font-size:7.5pt}.smalls{grid-template-columns:1fr 1fr}"
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

void
html_page_head(FILE *f, const char *title)
{
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
			"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<link rel=\"icon\" href=\"data:,\">\n<title>");
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body><main>\n", page_css);
}

void
html_page_foot(FILE *f)
{
	char		now[64];

	html_fmt_utc(now, sizeof(now), (double) time(NULL));
	fprintf(f, "<footer>Written by perfdriver on %s. This file is self-contained: its styles, charts "
			"(hand-written SVG) and script are inline, and it loads nothing from the network. "
			"No third-party code is included.</footer>\n</main>\n<script>%s</script>\n</body></html>\n",
			now, page_js);
}

void
html_card(FILE *f, const char *key, const char *value, const char *cls)
{
	fprintf(f, "<div class=\"card%s%s\"><div class=\"v\">", cls ? " " : "", cls ? cls : "");
	html_text(f, value);
	fprintf(f, "</div><div class=\"k\">");
	html_text(f, key);
	fprintf(f, "</div></div>\n");
}

/* A JSON value as text: strings bare, other scalars as JSON, else compact. */
char *
html_json_as_text(const json_t *v)
{
	if (json_is_string(v))
		return pd_strdup(json_string_value(v));
	if (json_is_null(v) || v == NULL)
		return pd_strdup("-");
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
}

/* A JSON value the renderer has no layout for: formatted, selectable. */
void
html_json_pre(FILE *f, const json_t *v)
{
	char	   *s = json_is_string(v) ? pd_strdup(json_string_value(v))
		: json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	fprintf(f, "<pre>");
	html_text(f, s);
	fprintf(f, "</pre>\n");
	free(s);
}

void
html_sql_pre(FILE *f, const char *sql, const char *cls)
{
	fprintf(f, "<pre class=\"sql%s%s\">", cls ? " " : "", cls ? cls : "");
	html_text(f, sql ? sql : "");
	fprintf(f, "</pre>");
}

/* A verdict badge: words as well as colour. */
void
html_badge(FILE *f, const char *cls, const char *text)
{
	fprintf(f, "<span class=\"badge %s\">", cls);
	html_text(f, text);
	fprintf(f, "</span>");
}

/* A table cell holding a number (sort key data-v), ms or count style. */
void
html_td_num(FILE *f, double v, bool ms)
{
	char		b[64];

	if (ms)
		html_fmt_ms(b, sizeof(b), v);
	else
		html_fmt_count(b, sizeof(b), v);
	fprintf(f, "<td data-v=\"%.9g\">%s</td>", isfinite(v) ? v : -1.0, b);
}

void
html_section_nplus1(FILE *f, const json_t *findings, const char *id)
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
		json_t	   *params = html_jarr(e, "example_params");
		char		b[64];

		fprintf(f, "<article class=\"finding\" data-finding=\"%zu\"><h3>Pattern %zu: ", i + 1, i + 1);
		html_fmt_count(b, sizeof(b), html_jnum(e, "occurrences"));
		fprintf(f, "%s occurrence%s, ", b, html_jnum(e, "occurrences") == 1 ? "" : "s");
		snprintf(b, sizeof(b), "%.1f", html_jnum(e, "repeats_mean"));
		fprintf(f, "%s repeats on average (at most %.0f)", isfinite(html_jnum(e, "repeats_mean")) ? b : "-",
				html_jnum(e, "repeats_max"));
		if (isfinite(html_jnum(e, "time_ms")))
		{
			html_fmt_ms(b, sizeof(b), html_jnum(e, "time_ms"));
			fprintf(f, ", %s ms in the repeats", b);
		}
		fprintf(f, "</h3>\n<p>After this statement:</p>");
		html_sql_pre(f, html_jstr(e, "source"), NULL);
		fprintf(f, "\n<p>this one runs once per row:</p>");
		html_sql_pre(f, html_jstr(e, "repeated"), NULL);
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
		if (html_jstr(e, "suggestion"))
		{
			fprintf(f, "\n<p>Batched rewrite:</p>");
			html_sql_pre(f, html_jstr(e, "suggestion"), "fix");
		}
		fprintf(f, "</article>\n");
	}
	fprintf(f, "</section>\n");
}

/* A list of objects as a table with the union of their keys. */
void
html_generic_table(FILE *f, const json_t *list, const char *id)
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
		html_json_pre(f, list);
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
			char	   *t = html_json_as_text(v);

			fprintf(f, "<td class=\"l\">");
			if (json_is_string(v) && strchr(t, ' '))
				html_sql_pre(f, t, NULL);
			else
				html_text(f, t);
			fprintf(f, "</td>");
			free(t);
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</tbody></table></div>\n");
}

bool
html_open_out(const char *path, FILE **f, char *err, size_t errlen)
{
	*f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (*f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool
html_close_out(const char *path, FILE *f, char *err, size_t errlen)
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

/* ------------------------------------------------------------- analysis */

/*
 * html_top_table: one table of analyze's top statements (the JSON's
 * top_statements_by_total or top_statements_by_p95, in their order).
 */
static void
html_top_table(FILE *f, json_t *top, const char *id)
{
	size_t		i;
	json_t	   *s;

	fprintf(f, "<div class=\"scroll\"><table class=\"sortable\" id=\"%s\"><thead><tr>"
			"<th><button type=\"button\">calls</button></th><th><button type=\"button\">total (ms)</button></th>"
			"<th><button type=\"button\">mean (ms)</button></th><th><button type=\"button\">p95 (ms)</button></th>"
			"<th><button type=\"button\">max (ms)</button></th>"
			"<th class=\"l\">statement</th></tr></thead><tbody>\n", id);
	json_array_foreach(top, i, s)
	{
		fprintf(f, "<tr>");
		html_td_num(f, html_jnum(s, "calls"), false);
		html_td_num(f, html_jnum(s, "total_ms"), true);
		html_td_num(f, html_jnum(s, "mean_ms"), true);
		html_td_num(f, html_jnum(s, "p95_ms"), true);
		html_td_num(f, html_jnum(s, "max_ms"), true);
		fprintf(f, "<td class=\"l\">");
		html_sql_pre(f, html_jstr(s, "query"), NULL);
		fprintf(f, "</td></tr>\n");
	}
	fprintf(f, "</tbody></table></div>\n");
}

bool
html_write_analyze(const char *path, json_t *doc, char *err, size_t errlen)
{
	FILE	   *f;
	json_t	   *top = html_jarr(doc, "top_statements_by_total");
	json_t	   *top_p95 = html_jarr(doc, "top_statements_by_p95");
	json_t	   *tl = html_jobj(doc, "timeline");
	char		b[64];

	if (!html_open_out(path, &f, err, errlen))
		return false;
	html_page_head(f, "perfdriver log analysis");
	fprintf(f, "<header><h1>perfdriver log analysis</h1><p class=\"sub\">log <code>");
	html_text(f, html_jstr(doc, "log") ? html_jstr(doc, "log") : "?");
	fprintf(f, "</code> (");
	html_text(f, html_jstr(doc, "format") ? html_jstr(doc, "format") : "?");
	fprintf(f, ")%s</p></header>\n",
			json_is_true(json_object_get(doc, "truncated")) ? " &middot; <span class=\"badge fail\">truncated</span>" : "");
	fprintf(f, "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">\n");
	html_fmt_count(b, sizeof(b), html_jnum(doc, "statements"));
	html_card(f, "statements", b, NULL);
	html_fmt_count(b, sizeof(b), html_jnum(doc, "sessions"));
	html_card(f, "sessions", b, NULL);
	html_fmt_count(b, sizeof(b), html_jnum(doc, "units"));
	html_card(f, "units (transactions)", b, NULL);
	html_fmt_count(b, sizeof(b), (double) json_array_size(html_jarr(doc, "nplus1_findings")));
	html_card(f, "N+1 patterns", b, json_array_size(html_jarr(doc, "nplus1_findings")) ? "fail" : "pass");
	html_fmt_count(b, sizeof(b), html_jnum(doc, "unparsed_lines"));
	html_card(f, "unparsed lines", b, html_jnum(doc, "unparsed_lines") > 0 ? "note" : NULL);
	html_card(f, "durations", json_is_true(json_object_get(doc, "durations_logged")) ? "logged" : "not logged", NULL);
	fprintf(f, "</div></section>\n");

	if (tl && html_jarr(tl, "counts"))
	{
		json_t	   *counts = html_jarr(tl, "counts");
		double		bucket = html_jnum(tl, "bucket_s");
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
		if (html_jstr(tl, "start"))
		{
			fprintf(f, "<p class=\"sub\">From the log's timestamps, per %g s; the first at ", bucket);
			html_text(f, html_jstr(tl, "start"));
			fprintf(f, "%s.</p>\n", html_jstr(tl, "zone") ? "" : " (as written in the log)");
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
		fprintf(f, "<section id=\"top-statements\"><h2>Top statements</h2>\n");
		if (json_array_size(top) == 0)
			fprintf(f, "<p>No statement was found in the log.</p>\n");
		else
		{
			fprintf(f, "<h3>By total duration</h3>\n");
			html_top_table(f, top, "top-table");
			if (json_array_size(top_p95) > 0)
			{
				fprintf(f, "<h3>By p95 duration</h3>\n");
				html_top_table(f, top_p95, "top-p95-table");
			}
		}
		fprintf(f, "</section>\n");
	}
	if (html_jarr(doc, "nplus1_findings"))
		html_section_nplus1(f, html_jarr(doc, "nplus1_findings"), "nplus1");
	if (html_jarr(doc, "unparsed_examples") && json_array_size(html_jarr(doc, "unparsed_examples")) > 0)
	{
		fprintf(f, "<section id=\"unparsed\"><h2>Lines that did not parse</h2>\n");
		html_generic_table(f, html_jarr(doc, "unparsed_examples"), "unparsed-table");
		fprintf(f, "</section>\n");
	}
	html_page_foot(f);
	return html_close_out(path, f, err, errlen);
}
