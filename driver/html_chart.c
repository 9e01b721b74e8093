/*
 * html_chart.c
 *		The HTML report's hand-written SVG charts: lines over time, the
 *		latency histogram on a log axis, horizontal bars and the flame
 *		graph; plus the escaping and number helpers the report shares.
 *
 * Owns: chart geometry, axes (every axis names its unit), the colour-blind
 * safe palette (Okabe-Ito) and the rule that colour is never the only
 * carrier: lines differ by marker and dash and are labelled, verdicts carry
 * words.  Each data point is an element with data-* attributes and a
 * <title>, so the report's tests read the charts from the DOM.
 *
 * Must not: emit anything that loads a resource (no href, no url(), no
 * external font); know the JSON shape (html.c maps the document to these
 * primitives).
 *
 * Memory: every temporary (bins, the flame graph's tree) is freed before
 * returning.
 */
#include "html.h"
#include "driver.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- helpers */

void
html_textn(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++)
	{
		switch (s[i])
		{
			case '&':
				fputs("&amp;", f);
				break;
			case '<':
				fputs("&lt;", f);
				break;
			case '>':
				fputs("&gt;", f);
				break;
			case '"':
				fputs("&quot;", f);
				break;
			case '\'':
				fputs("&#39;", f);
				break;
			default:
				fputc(s[i], f);
		}
	}
}

void
html_text(FILE *f, const char *s)
{
	html_textn(f, s, s ? strlen(s) : 0);
}

void
html_coord(FILE *f, double v)
{
	if (!isfinite(v))
		v = 0;
	if (fabs(v - round(v)) < 0.005)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.2f", v);
}

void
html_fmt_ms(char *buf, size_t len, double ms)
{
	if (!isfinite(ms))
		snprintf(buf, len, "-");
	else if (ms >= 100)
		snprintf(buf, len, "%.1f", ms);
	else if (ms >= 1)
		snprintf(buf, len, "%.2f", ms);
	else
		snprintf(buf, len, "%.3f", ms);
}

/* Okabe & Ito (2008): distinguishable under the common colour blindnesses. */
static const char *const okabe_ito[] = {
	"#0072B2",					/* blue */
	"#E69F00",					/* orange */
	"#D55E00",					/* vermillion */
	"#009E73",					/* bluish green */
	"#CC79A7",					/* reddish purple */
	"#56B4E9",					/* sky blue */
	"#F0E442",					/* yellow */
	"#000000",					/* black */
};

const char *
html_colour(int i)
{
	int			n = (int) (sizeof(okabe_ito) / sizeof(okabe_ito[0]));

	return okabe_ito[((i % n) + n) % n];
}

/* A tick label: the shortest of %g that shows the step. */
static void
fmt_tick(char *buf, size_t len, double v)
{
	if (fabs(v) >= 10000)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%g", v);
}

/* "Nice" linear ticks from 0 to at least max: step 1, 2 or 5 times 10^k. */
static double
nice_step(double max, int want)
{
	double		raw = max / (want > 0 ? want : 1);
	double		mag = pow(10, floor(log10(raw)));
	double		f = raw / mag;

	if (f <= 1)
		return mag;
	if (f <= 2)
		return 2 * mag;
	if (f <= 5)
		return 5 * mag;
	return 10 * mag;
}

static void
utc_clock(char *buf, size_t len, double epoch_s)
{
	time_t		t = (time_t) floor(epoch_s);
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%H:%M:%S UTC+00:00", &tm);
}

/* ------------------------------------------------------------ time chart */

#define TW 800
#define TH 280
#define TL 64
#define TR 16
#define TT 34
#define TB 64

static void
marker(FILE *f, int kind, double x, double y, const char *colour, const char *cls)
{
	switch (kind)
	{
		case 1:
			fprintf(f, "<rect class=\"%s\" x=\"", cls);
			html_coord(f, x - 2.5);
			fprintf(f, "\" y=\"");
			html_coord(f, y - 2.5);
			fprintf(f, "\" width=\"5\" height=\"5\" fill=\"%s\"", colour);
			break;
		case 2:
			fprintf(f, "<path class=\"%s\" d=\"M", cls);
			html_coord(f, x);
			fputc(' ', f);
			html_coord(f, y - 3.5);
			fprintf(f, "l3.5 3.5l-3.5 3.5l-3.5-3.5z\" fill=\"%s\"", colour);
			break;
		default:
			fprintf(f, "<circle class=\"%s\" cx=\"", cls);
			html_coord(f, x);
			fprintf(f, "\" cy=\"");
			html_coord(f, y);
			fprintf(f, "\" r=\"2.5\" fill=\"%s\"", colour);
			break;
	}
}

static void
marker_close(FILE *f, int kind)
{
	fputs(kind == 1 ? "</rect>" : kind == 2 ? "</path>" : "</circle>", f);
}

void
chart_time_write(FILE *f, const struct chart_time *c)
{
	double		xmax = 0,
				ymax = 0,
				ystep,
				xstep;
	double		pw = TW - TL - TR,
				ph = TH - TT - TB;
	int			npoints = 0;
	bool		any_errors = false;

	for (int i = 0; i < c->n; i++)
	{
		if (isfinite(c->x[i]) && c->x[i] > xmax)
			xmax = c->x[i];
		if (c->errors != NULL && c->errors[i] > 0)
			any_errors = true;
	}
	for (int s = 0; s < c->nseries; s++)
	{
		const struct chart_series *se = &c->series[s];
		int			n = se->n ? se->n : c->n;
		const double *sx = se->x ? se->x : c->x;

		for (int i = 0; i < n; i++)
		{
			if (isfinite(se->y[i]) && se->y[i] > ymax)
				ymax = se->y[i];
			if (isfinite(sx[i]) && sx[i] > xmax)
				xmax = sx[i];
		}
	}
	if (xmax <= 0)
		xmax = 1;
	if (ymax <= 0)
		ymax = 1;
	ystep = nice_step(ymax, 5);
	ymax = ceil(ymax / ystep) * ystep;
	xstep = nice_step(xmax, 8);
	xmax = ceil(xmax / xstep) * xstep;

	fprintf(f, "<figure class=\"chart\"><svg id=\"");
	html_text(f, c->id);
	fprintf(f, "\" data-chart=\"time\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"", TW, TH);
	html_text(f, c->id);
	fprintf(f, "-t\"><title id=\"");
	html_text(f, c->id);
	fprintf(f, "-t\">");
	html_text(f, c->title);
	fprintf(f, "</title>\n");

	/* grid and y axis */
	for (double v = 0; v <= ymax + ystep / 2; v += ystep)
	{
		double		y = TT + ph - v / ymax * ph;
		char		t[32];

		fmt_tick(t, sizeof(t), v);
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"", TL, TW - TR);
		html_coord(f, y);
		fprintf(f, "\" y2=\"");
		html_coord(f, y);
		fprintf(f, "\"/><text class=\"tick\" x=\"%d\" y=\"", TL - 6);
		html_coord(f, y + 4);
		fprintf(f, "\" text-anchor=\"end\">%s</text>\n", t);
	}
	for (double v = 0; v <= xmax + xstep / 2; v += xstep)
	{
		double		x = TL + v / xmax * pw;
		char		t[32];

		fmt_tick(t, sizeof(t), v);
		fprintf(f, "<line class=\"axis\" x1=\"");
		html_coord(f, x);
		fprintf(f, "\" x2=\"");
		html_coord(f, x);
		fprintf(f, "\" y1=\"%d\" y2=\"%d\"/><text class=\"tick\" x=\"", TT + (int) ph,
				TT + (int) ph + 5);
		html_coord(f, x);
		fprintf(f, "\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", TT + (int) ph + 18, t);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", TL, TW - TR,
			TT + (int) ph, TT + (int) ph);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", TL, TL, TT,
			TT + (int) ph);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since the start (s)",
			TL + (int) pw / 2, TT + (int) ph + 36);
	if (isfinite(c->start_epoch))
	{
		char		clock[64];

		utc_clock(clock, sizeof(clock), c->start_epoch);
		fprintf(f, "; start %s", clock);
	}
	fprintf(f, "</text>\n<text class=\"label\" transform=\"rotate(-90)\" x=\"%d\" y=\"14\" text-anchor=\"middle\">",
			-(TT + (int) ph / 2));
	html_text(f, c->ylabel);
	fprintf(f, "</text>\n");

	/* legend */
	{
		double		lx = TL;

		for (int s = 0; s < c->nseries; s++)
		{
			const struct chart_series *se = &c->series[s];
			const char *col = html_colour(se->colour);

			fprintf(f, "<g class=\"legend\"><line x1=\"");
			html_coord(f, lx);
			fprintf(f, "\" x2=\"");
			html_coord(f, lx + 22);
			fprintf(f, "\" y1=\"14\" y2=\"14\" stroke=\"%s\" stroke-width=\"2\"%s/>", col,
					se->dashed ? " stroke-dasharray=\"6 3\"" : "");
			if (se->marker >= 0)
			{
				marker(f, se->marker, lx + 11, 14, col, "key");
				fputs("/>", f);
			}
			fprintf(f, "<text x=\"");
			html_coord(f, lx + 26);
			fprintf(f, "\" y=\"18\">");
			html_text(f, se->name);
			fprintf(f, "</text></g>\n");
			lx += 40 + 7.0 * strlen(se->name);
		}
		if (any_errors)
		{
			fprintf(f, "<g class=\"legend\"><path d=\"M");
			html_coord(f, lx + 6);
			fprintf(f, " 19l-6-10h12z\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"/><text x=\"", html_colour(4));
			html_coord(f, lx + 16);
			fprintf(f, "\" y=\"18\">errors (shaded)</text></g>\n");
		}
	}

	/* the lines and their points */
	for (int s = 0; s < c->nseries; s++)
	{
		const struct chart_series *se = &c->series[s];
		const char *col = html_colour(se->colour);
		int			n = se->n ? se->n : c->n;
		const double *sx = se->x ? se->x : c->x;
		bool		pen = false;

		fprintf(f, "<g class=\"series\" data-series=\"");
		html_text(f, se->name);
		fprintf(f, "\"><path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s d=\"",
				col, se->dashed ? "1.5" : "2", se->dashed ? " stroke-dasharray=\"6 3\"" : "");
		for (int i = 0; i < n; i++)
		{
			if (!isfinite(se->y[i]) || !isfinite(sx[i]))
			{
				pen = false;
				continue;
			}
			fputc(pen ? 'L' : 'M', f);
			html_coord(f, TL + sx[i] / xmax * pw);
			fputc(' ', f);
			html_coord(f, TT + ph - se->y[i] / ymax * ph);
			pen = true;
		}
		fprintf(f, "\"/>\n");
		if (se->marker >= 0)
			for (int i = 0; i < n; i++)
			{
				char		v[32];

				if (!isfinite(se->y[i]) || !isfinite(sx[i]))
					continue;
				marker(f, se->marker, TL + sx[i] / xmax * pw, TT + ph - se->y[i] / ymax * ph, col, "pt");
				fprintf(f, " data-x=\"%.3f\" data-y=\"%.6g\"><title>", sx[i], se->y[i]);
				snprintf(v, sizeof(v), "%.6g", se->y[i]);
				fprintf(f, "%.1f s", sx[i]);
				if (isfinite(c->start_epoch))
				{
					char		clock[64];

					utc_clock(clock, sizeof(clock), c->start_epoch + sx[i]);
					fprintf(f, " (%s)", clock);
				}
				fprintf(f, ": ");
				html_text(f, se->name);
				fprintf(f, " %s</title>", v);
				marker_close(f, se->marker);
				npoints++;
			}
		fprintf(f, "</g>\n");
	}

	/* errors: the interval shaded, a marker at its top, the count in its title */
	if (c->errors != NULL)
		for (int i = 0; i < c->n; i++)
		{
			double		x0,
						x1;

			if (!(c->errors[i] > 0) || !isfinite(c->x[i]))
				continue;
			x1 = TL + c->x[i] / xmax * pw;
			x0 = TL + (i > 0 && isfinite(c->x[i - 1]) ? c->x[i - 1] : 0) / xmax * pw;
			fprintf(f, "<rect class=\"errband\" x=\"");
			html_coord(f, x0);
			fprintf(f, "\" y=\"%d\" width=\"", TT);
			html_coord(f, fmax(x1 - x0, 2));
			fprintf(f, "\" height=\"%d\" fill=\"%s\" fill-opacity=\"0.15\"/>", (int) ph, html_colour(4));
			fprintf(f, "<path class=\"errmark\" data-x=\"%.3f\" data-errors=\"%.0f\" d=\"M", c->x[i],
					c->errors[i]);
			html_coord(f, x1);
			fprintf(f, " %dl-6-10h12z\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.5\"><title>%.1f s: %.0f failed transactions or errors</title></path>\n",
					TT + 10, html_colour(4), c->x[i], c->errors[i]);
		}
	fprintf(f, "</svg><figcaption>");
	html_text(f, c->title);
	fprintf(f, " (%d points)</figcaption></figure>\n", npoints);
}

/* ------------------------------------------------------------- histogram */

void
hist_bins_layout(struct hist_bins *b, double min, double max)
{
	double		l0,
				l1;
	int			n;

	if (!(min > 0))
		min = max > 0 ? max / 10 : 0.001;
	if (!(max > min))
		max = min * 1.5;
	l0 = log10(min);
	l1 = log10(max);
	n = (int) ceil((l1 - l0) * 25);
	if (n < 8)
		n = 8;
	if (n > 60)
		n = 60;
	b->step = (l1 - l0) / n;
	/* a hundredth of a bin of room at each end: min and max fall inside */
	b->lo = pow(10, l0 - b->step * 0.01);
	b->step *= 1 + 0.02 / n;
	b->n = n;
	b->count = NULL;
	b->total = 0;
}

void
hist_bins_fill(struct hist_bins *b, const struct sketch *s)
{
	sketch_bucket_iter it;
	sketch_bucket bk;
	double		l0 = log10(b->lo);

	b->count = pd_calloc(b->n, sizeof(uint64_t));
	b->total = 0;
	if (s == NULL)
		return;
	memset(&it, 0, sizeof(it));
	while (sketch_bucket_next(s, &it, &bk))
	{
		double		mid;
		int			k;

		if (bk.upper <= 0)
			k = 0;
		else
		{
			mid = bk.lower > 0 ? sqrt(bk.lower * bk.upper) : bk.upper;
			/* a bucket's midpoint may lie outside [min, max]: clamp */
			if (mid < s->min)
				mid = s->min;
			if (mid > s->max)
				mid = s->max;
			k = (int) floor((log10(mid) - l0) / b->step);
		}
		if (k < 0)
			k = 0;
		if (k >= b->n)
			k = b->n - 1;
		b->count[k] += bk.count;
		b->total += bk.count;
	}
}

/* Tick values on a log axis between lo and hi. */
static int
log_ticks(double lo, double hi, double *out, int cap)
{
	int			n = 0;
	int			d0 = (int) floor(log10(lo));
	int			d1 = (int) ceil(log10(hi));
	static const double dense[] = {1, 2, 5};

	for (int d = d0; d <= d1 && n < cap; d++)
		for (int k = 0; k < 3 && n < cap; k++)
		{
			double		v = dense[k] * pow(10, d);

			if (k > 0 && d1 - d0 > 3)
				continue;
			if (v >= lo && v <= hi)
				out[n++] = v;
		}
	return n;
}

void
chart_histogram_write(FILE *f, const char *id, const char *title,
					  const struct sketch *s, const struct sketch *base,
					  const double *marks, const char *const *labels, int nmarks,
					  bool small)
{
	int			W = small ? 420 : 800,
				H = small ? 190 : 280;
	int			L = small ? 50 : 64,
				R = 12,
				T = small ? 26 : 32,
				B = 44;
	double		pw = W - L - R,
				ph = H - T - B;
	double		min = INFINITY,
				max = 0,
				ymax = 0,
				ystep;
	struct hist_bins b,
				bb;
	double		ticks[40];
	int			nt;
	int			nbars = 0;

	if (s->count > 0)
	{
		min = s->min;
		max = s->max;
	}
	if (base != NULL && base->count > 0)
	{
		min = fmin(min, base->min);
		max = fmax(max, base->max);
	}
	if (!isfinite(min) || min <= 0)
		min = max > 0 ? max / 10 : 0.001;
	hist_bins_layout(&b, min, max);
	hist_bins_fill(&b, s);
	bb = b;
	bb.count = NULL;
	if (base != NULL)
		hist_bins_fill(&bb, base);
	for (int i = 0; i < b.n; i++)
	{
		if (b.total > 0 && 100.0 * b.count[i] / b.total > ymax)
			ymax = 100.0 * b.count[i] / b.total;
		if (bb.count && bb.total > 0 && 100.0 * bb.count[i] / bb.total > ymax)
			ymax = 100.0 * bb.count[i] / bb.total;
	}
	if (ymax <= 0)
		ymax = 1;
	ystep = nice_step(ymax, small ? 3 : 5);
	ymax = ceil(ymax / ystep) * ystep;

#define HX(v) (L + (log10(v) - log10(b.lo)) / (b.step * b.n) * pw)

	fprintf(f, "<figure class=\"chart%s\"><svg id=\"", small ? " small" : "");
	html_text(f, id);
	fprintf(f, "\" data-chart=\"histogram\" data-total=\"%llu\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"",
			(unsigned long long) b.total, W, H);
	html_text(f, id);
	fprintf(f, "-t\"><title id=\"");
	html_text(f, id);
	fprintf(f, "-t\">");
	html_text(f, title);
	fprintf(f, "</title>\n");
	for (double v = 0; v <= ymax + ystep / 2; v += ystep)
	{
		double		y = T + ph - v / ymax * ph;
		char		t[32];

		fmt_tick(t, sizeof(t), v);
		fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"", L, W - R);
		html_coord(f, y);
		fprintf(f, "\" y2=\"");
		html_coord(f, y);
		fprintf(f, "\"/><text class=\"tick\" x=\"%d\" y=\"", L - 5);
		html_coord(f, y + 4);
		fprintf(f, "\" text-anchor=\"end\">%s</text>\n", t);
	}
	nt = log_ticks(b.lo, b.lo * pow(10, b.step * b.n), ticks, 40);
	for (int i = 0; i < nt; i++)
	{
		char		t[32];

		fmt_tick(t, sizeof(t), ticks[i]);
		fprintf(f, "<line class=\"axis\" x1=\"");
		html_coord(f, HX(ticks[i]));
		fprintf(f, "\" x2=\"");
		html_coord(f, HX(ticks[i]));
		fprintf(f, "\" y1=\"%d\" y2=\"%d\"/><text class=\"tick\" x=\"", T + (int) ph, T + (int) ph + 5);
		html_coord(f, HX(ticks[i]));
		fprintf(f, "\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", T + (int) ph + 17, t);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", L, W - R,
			T + (int) ph, T + (int) ph);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", L, L, T, T + (int) ph);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">latency (ms, log scale)</text>\n",
			L + (int) pw / 2, H - 8);
	fprintf(f, "<text class=\"label\" transform=\"rotate(-90)\" x=\"%d\" y=\"12\" text-anchor=\"middle\">share (%%)</text>\n",
			-(T + (int) ph / 2));

	for (int i = 0; i < b.n; i++)
	{
		double		lo = b.lo * pow(10, b.step * i),
					hi = b.lo * pow(10, b.step * (i + 1));
		double		share = b.total ? 100.0 * b.count[i] / b.total : 0;
		double		y = T + ph - share / ymax * ph;
		char		l[32],
					h[32];

		if (b.count[i] == 0)
			continue;
		html_fmt_ms(l, sizeof(l), lo);
		html_fmt_ms(h, sizeof(h), hi);
		fprintf(f, "<rect class=\"bar\" data-count=\"%llu\" x=\"", (unsigned long long) b.count[i]);
		html_coord(f, HX(lo) + 0.5);
		fprintf(f, "\" y=\"");
		html_coord(f, y);
		fprintf(f, "\" width=\"");
		html_coord(f, fmax(HX(hi) - HX(lo) - 1, 0.5));
		fprintf(f, "\" height=\"");
		html_coord(f, T + ph - y);
		fprintf(f, "\"><title>%s to %s ms: %llu (%.2f %%)</title></rect>\n", l, h,
				(unsigned long long) b.count[i], share);
		nbars++;
	}
	if (bb.count != NULL && bb.total > 0)
	{
		fprintf(f, "<path class=\"baseline\" data-total=\"%llu\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" d=\"M%d %d",
				(unsigned long long) bb.total, L, T + (int) ph);
		for (int i = 0; i < bb.n; i++)
		{
			double		y = T + ph - 100.0 * bb.count[i] / bb.total / ymax * ph;
			double		x0 = HX(bb.lo * pow(10, bb.step * i));
			double		x1 = HX(bb.lo * pow(10, bb.step * (i + 1)));

			fputc('L', f);
			html_coord(f, x0);
			fputc(' ', f);
			html_coord(f, y);
			fputc('L', f);
			html_coord(f, x1);
			fputc(' ', f);
			html_coord(f, y);
		}
		fprintf(f, "L%d %d\"><title>baseline (dashed outline)</title></path>\n", W - R, T + (int) ph);
	}
	/* the percentiles: a short label at each line, values in the key above */
	{
		static const char *const dash[] = {"2 2", "6 3", "1 3"};
		double		kx = L;

		for (int m = 0; m < nmarks; m++)
		{
			double		x;
			char		v[32];
			const char *col = html_colour(m % 3);

			if (!isfinite(marks[m]) || marks[m] <= 0)
				continue;
			x = HX(fmin(fmax(marks[m], b.lo), b.lo * pow(10, b.step * b.n)));
			html_fmt_ms(v, sizeof(v), marks[m]);
			fprintf(f, "<g class=\"mark\" data-mark=\"");
			html_text(f, labels[m]);
			fprintf(f, "\" data-value=\"%.6g\"><line x1=\"", marks[m]);
			html_coord(f, x);
			fprintf(f, "\" x2=\"");
			html_coord(f, x);
			fprintf(f, "\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"%s\"/>",
					T + 2 + m * 10, T + (int) ph, col, dash[m % 3]);
			fprintf(f, "<text class=\"marklabel\" x=\"");
			html_coord(f, x + 2);
			fprintf(f, "\" y=\"%d\">", T + 10 + m * 10);
			html_text(f, labels[m]);
			fprintf(f, "</text><line x1=\"");
			html_coord(f, kx);
			fprintf(f, "\" x2=\"");
			html_coord(f, kx + 16);
			fprintf(f, "\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"%s\"/><text class=\"marklabel\" x=\"",
					T - 8, T - 8, col, dash[m % 3]);
			html_coord(f, kx + 19);
			fprintf(f, "\" y=\"%d\">", T - 4);
			html_text(f, labels[m]);
			fprintf(f, " %s ms</text></g>\n", v);
			kx += 32 + 7.2 * (strlen(labels[m]) + strlen(v) + 4);
		}
		/* small charts say it in their caption: the key would not fit */
		if (bb.count != NULL && bb.total > 0 && !small)
		{
			fprintf(f, "<line x1=\"");
			html_coord(f, kx);
			fprintf(f, "\" x2=\"");
			html_coord(f, kx + 16);
			fprintf(f, "\" y1=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/><text class=\"marklabel\" x=\"",
					T - 8, T - 8);
			html_coord(f, kx + 19);
			fprintf(f, "\" y=\"%d\">baseline</text>\n", T - 4);
		}
	}
#undef HX
	fprintf(f, "</svg><figcaption>");
	html_text(f, title);
	fprintf(f, " (%d bins%s)</figcaption></figure>\n", nbars,
			bb.count && bb.total ? "; dashed outline: baseline" : "");
	free(b.count);
	free(bb.count);
}

/* ------------------------------------------------------------------ bars */

void
chart_bars_write(FILE *f, const char *id, const char *title, const char *xlabel,
				 const struct chart_bar *bars, int n, double scale, const char *fmt)
{
	int			W = 800,
				row = 22,
				L = 300,
				R = 90,
				T = 8;
	int			H = T + n * row + 40;
	double		max = 0;

	for (int i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	if (max <= 0)
		max = 1;
	fprintf(f, "<figure class=\"chart\"><svg id=\"");
	html_text(f, id);
	fprintf(f, "\" data-chart=\"bars\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"", W, H);
	html_text(f, id);
	fprintf(f, "-t\"><title id=\"");
	html_text(f, id);
	fprintf(f, "-t\">");
	html_text(f, title);
	fprintf(f, "</title>\n");
	for (int i = 0; i < n; i++)
	{
		double		w = bars[i].value / max * (W - L - R);
		char		v[64];
		size_t		len = strlen(bars[i].label);

		snprintf(v, sizeof(v), fmt, bars[i].value * scale);
		fprintf(f, "<g class=\"barrow\"><text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", L - 6,
				T + i * row + 15);
		html_textn(f, bars[i].label, 42);
		if (len > 42)
			fputs("…", f);
		fprintf(f, "</text><rect class=\"bar\" data-value=\"%.6g\" x=\"%d\" y=\"%d\" width=\"", bars[i].value,
				L, T + i * row + 3);
		html_coord(f, fmax(w, 1));
		fprintf(f, "\" height=\"%d\" fill=\"%s\"><title>", row - 6, html_colour(0));
		html_text(f, bars[i].label);
		fprintf(f, ": %s</title></rect><text class=\"tick\" x=\"", v);
		html_coord(f, L + fmax(w, 1) + 4);
		fprintf(f, "\" y=\"%d\">%s</text></g>\n", T + i * row + 15, v);
	}
	fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", L, L, T, T + n * row);
	fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + (W - L - R) / 2,
			H - 10);
	html_text(f, xlabel);
	fprintf(f, "</text></svg><figcaption>");
	html_text(f, title);
	fprintf(f, "</figcaption></figure>\n");
}

/* ----------------------------------------------------------- flame graph */

struct fnode
{
	char	   *name;
	uint64_t	value;
	int			child;			/* first child, -1 none */
	int			next;			/* next sibling, -1 none */
};

struct ftree
{
	struct fnode *n;
	int			len;
	int			cap;
};

static int
ftree_add(struct ftree *t, const char *name, size_t len)
{
	if (t->len == t->cap)
	{
		t->cap = t->cap ? t->cap * 2 : 256;
		t->n = realloc(t->n, t->cap * sizeof(*t->n));
		if (t->n == NULL)
		{
			fputs("perfdriver: error: out of memory\n", stderr);
			abort();
		}
	}
	t->n[t->len].name = pd_malloc(len + 1);
	memcpy(t->n[t->len].name, name, len);
	t->n[t->len].name[len] = '\0';
	t->n[t->len].value = 0;
	t->n[t->len].child = -1;
	t->n[t->len].next = -1;
	return t->len++;
}

/* The child of parent named name[0..len), created when missing. */
static int
ftree_child(struct ftree *t, int parent, const char *name, size_t len)
{
	int			k,
				last = -1;

	for (k = t->n[parent].child; k >= 0; k = t->n[k].next)
	{
		if (strlen(t->n[k].name) == len && memcmp(t->n[k].name, name, len) == 0)
			return k;
		last = k;
	}
	k = ftree_add(t, name, len);
	if (last < 0)
		t->n[parent].child = k;
	else
		t->n[last].next = k;
	return k;
}

/* Nodes at least minv wide, to the depth they reach. */
static int
ftree_count(const struct ftree *t, int k, uint64_t minv, int depth, int *maxdepth)
{
	int			c = 1;

	if (depth > *maxdepth)
		*maxdepth = depth;
	for (int ch = t->n[k].child; ch >= 0; ch = t->n[ch].next)
		if (t->n[ch].value >= minv)
			c += ftree_count(t, ch, minv, depth + 1, maxdepth);
	return c;
}

#define FW 1200
#define FROW 17

static uint32_t
fhash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 16777619u;
	return h;
}

static void
ftree_write(FILE *f, const struct ftree *t, int k, uint64_t minv, uint64_t total,
			double x, int depth, int height)
{
	const struct fnode *nd = &t->n[k];
	double		w = (double) nd->value / total;
	double		px = w * FW;
	int			y = height - (depth + 1) * FROW;
	/* warm tints: colour means nothing here, the label does */
	static const char *const tint[] = {"#f6c89f", "#f3d9a4", "#e8b98d", "#f0cf8a", "#eebf9f", "#f5dcb8"};
	double		cx = x;

	fprintf(f, "<g class=\"fr\" data-x=\"%.6f\" data-w=\"%.6f\" data-d=\"%d\"><title>", x, w, depth);
	html_text(f, nd->name);
	fprintf(f, "\n%llu samples (%.2f %%)</title><rect x=\"", (unsigned long long) nd->value, 100.0 * w);
	html_coord(f, x * FW);
	fprintf(f, "\" y=\"%d\" width=\"", y);
	html_coord(f, fmax(px - 0.5, 0.3));
	fprintf(f, "\" height=\"%d\" fill=\"%s\"/><text x=\"", FROW - 1,
			depth == 0 ? "#d9d9d9" : tint[fhash(nd->name) % 6]);
	html_coord(f, x * FW + 3);
	fprintf(f, "\" y=\"%d\">", y + 12);
	if (px > 24)
	{
		size_t		fit = (size_t) ((px - 6) / 7);
		size_t		len = strlen(nd->name);

		html_textn(f, nd->name, len > fit ? (fit > 2 ? fit - 2 : 0) : len);
		if (len > fit)
			fputs("..", f);
	}
	fprintf(f, "</text></g>\n");
	for (int ch = nd->child; ch >= 0; ch = t->n[ch].next)
	{
		if (t->n[ch].value >= minv)
			ftree_write(f, t, ch, minv, total, cx, depth + 1, height);
		cx += (double) t->n[ch].value / total;
	}
}

uint64_t
chart_flame_write(FILE *f, const char *id, const char *title, const char *folded,
				  int *skipped)
{
	struct ftree t = {0};
	uint64_t	total,
				minv;
	int			maxdepth = 0,
				height;
	const char *p = folded;

	*skipped = 0;
	ftree_add(&t, "all", 3);
	while (p && *p)
	{
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *sp;
		char	   *numend;
		unsigned long long v;

		while (end > p && (end[-1] == '\r' || end[-1] == ' '))
			end--;
		for (sp = end; sp > p && sp[-1] != ' '; sp--)
			;
		if (end == p)
			goto next;
		v = strtoull(sp, &numend, 10);
		if (sp == p || numend != end || v == 0)
		{
			(*skipped)++;
			goto next;
		}
		{
			int			node = 0;
			const char *q = p;
			const char *stop = sp - 1;

			t.n[0].value += v;
			while (q < stop)
			{
				const char *semi = memchr(q, ';', stop - q);
				const char *fe = semi ? semi : stop;

				if (fe > q)
				{
					node = ftree_child(&t, node, q, fe - q);
					t.n[node].value += v;
				}
				q = fe + 1;
			}
		}
next:
		p = eol ? eol + 1 : NULL;
	}
	total = t.n[0].value;
	if (total > 0)
	{
		/* at most about 4000 frames: drop the narrowest */
		minv = total / 4000 + 1;
		while (ftree_count(&t, 0, minv, 0, &maxdepth) > 4000)
		{
			minv *= 2;
			maxdepth = 0;
		}
		maxdepth = 0;
		ftree_count(&t, 0, minv, 0, &maxdepth);
		height = (maxdepth + 1) * FROW;
		fprintf(f, "<figure class=\"chart flame\"><div class=\"flamebar\"><button type=\"button\" class=\"flamereset\">Reset zoom</button> <span class=\"hint\">Click a frame to zoom; widths are shares of %llu samples.</span></div><svg id=\"",
				(unsigned long long) total);
		html_text(f, id);
		fprintf(f, "\" class=\"flamegraph\" data-chart=\"flame\" data-samples=\"%llu\" data-w=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"",
				(unsigned long long) total, FW, FW, height);
		html_text(f, id);
		fprintf(f, "-t\"><title id=\"");
		html_text(f, id);
		fprintf(f, "-t\">");
		html_text(f, title);
		fprintf(f, "</title>\n");
		ftree_write(f, &t, 0, minv, total, 0, 0, height);
		fprintf(f, "</svg><figcaption>");
		html_text(f, title);
		fprintf(f, ": the root (all) at the bottom, callers below callees; frames under %.2f %% of the samples are left out</figcaption></figure>\n",
				100.0 * minv / total);
	}
	for (int i = 0; i < t.len; i++)
		free(t.n[i].name);
	free(t.n);
	return total;
}
