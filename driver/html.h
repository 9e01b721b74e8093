/*
 * html.h
 *		The HTML report: one self-contained, offline file per run, per
 *		comparison and per log analysis (docs/perfdriver.md, "HTML report").
 *
 * Owns: the renderer's input (the run's JSON report document as parsed by
 * libjansson, so a run rendered at its end and a run read back from the
 * store take the same path) and the chart primitives of html_chart.c.
 *
 * Must not: include libpq-fe.h, or fetch anything: the file it writes
 * carries its CSS, SVG and script inline and a Content-Security-Policy that
 * forbids every load.
 *
 * Memory: the renderer only reads its input; it frees every temporary
 * before returning.
 */
#ifndef PERFDRIVER_HTML_H
#define PERFDRIVER_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "sketch.h"
#include "store.h"

/* What a run's report shows; only doc is required. */
struct html_run
{
	json_t	   *doc;			/* the run document (report.h's JSON shape) */
	int64_t		run_id;			/* the stored run's id, 0 when not stored */
	const char *folded;			/* collapsed stacks of a flame graph, or NULL */
	const char *waits_folded;	/* collapsed stacks of the wait flame graph */
	json_t *const *baselines;	/* documents of the baseline runs */
	int			nbaselines;
	const char *baseline_label; /* "run 41", "median of the last 5 runs" */
	const struct pd_cmp *cmp;	/* the comparison rows, or NULL */
};

/*
 * html_write_run: write the report of r to path ("-" for stdout).  Returns
 * false with a message in err when the file cannot be written.
 */
bool		html_write_run(const char *path, const struct html_run *r,
						   char *err, size_t errlen);

/*
 * html_write_analyze: write the report of a log analysis (the document of
 * "perfdriver analyze --json") to path.  Same contract as html_write_run.
 */
bool		html_write_analyze(const char *path, json_t *doc, char *err,
							   size_t errlen);

/* ------------------------------------------ rendering (cmd_report.c) */

/* "perfdriver report" (cmd_report.c). */
int			cmd_report(int argc, char **argv);

/* What pd_render_stored() renders. */
struct pd_render_opts
{
	const char *dsn;			/* the store */
	int64_t		run_id;
	int64_t		baseline_id;	/* 0: none */
	int			baseline_last;	/* last:N, 0: none */
	struct pd_gate_policy policy;	/* thresholds, --min-change, --gate-scope */
	const char *gate;			/* --gate-metrics, NULL: all */
	const char *folded_path;	/* a flame graph's .svg or .folded, or NULL */
	const char *html;			/* the HTML file, or NULL */
	const char *json;			/* the fetched document, or NULL */
};

/*
 * pd_render_stored: read run o->run_id (and its baseline) from the store and
 * write the report.  Prints its own errors; returns PD_EXIT_OK or
 * PD_EXIT_USAGE.
 */
int			pd_render_stored(const struct pd_render_opts *o);

/*
 * pd_render_document: write the HTML report of a run document (JSON text),
 * with the flame graph of folded_path when not NULL.  Returns false with a
 * message in err; what names the document in messages.
 */
bool		pd_render_document(const char *json_text, const char *what,
							   const char *folded_path, const char *html,
							   char *err, size_t errlen);

/*
 * pd_read_text_file: the whole of path as a NUL-terminated malloc'd string
 * of at most max bytes; NULL with a message in err.
 */
char	   *pd_read_text_file(const char *path, size_t max, char *err,
							  size_t errlen);

/* ------------------------------------------------ helpers (html_chart.c) */

/* Write s HTML-escaped (text and attribute values alike). */
void		html_text(FILE *f, const char *s);

/* Write n bytes of s HTML-escaped. */
void		html_textn(FILE *f, const char *s, size_t n);

/* A number for an SVG coordinate: at most two decimals, no exponent. */
void		html_coord(FILE *f, double v);

/* A latency in ms for a label: "0.512", "12.3", "1,234" style by size. */
void		html_fmt_ms(char *buf, size_t len, double ms);

/* The Okabe-Ito palette, by index (wraps). */
const char *html_colour(int i);

/* One line of a time chart: y[i] at x[i]; NaN breaks the line. */
struct chart_series
{
	const char *name;			/* legend text */
	const double *y;
	int			colour;			/* html_colour index */
	int			marker;			/* 0 circle, 1 square, 2 diamond; -1 none */
	bool		dashed;			/* baseline lines */
	const double *x;			/* NULL: the chart's x */
	int			n;				/* 0: the chart's n */
};

struct chart_time
{
	const char *id;				/* element id, also data-chart */
	const char *title;
	const char *ylabel;			/* with its unit */
	const double *x;			/* seconds since the start */
	int			n;
	const struct chart_series *series;
	int			nseries;
	const double *errors;		/* per point: failed + errors, or NULL */
	double		start_epoch;	/* the start in seconds since the epoch; NaN */
};

/* A line chart over time, with error markers below the plot. */
void		chart_time_write(FILE *f, const struct chart_time *c);

/*
 * chart_histogram_write: the distribution of s on a log axis (share of
 * values per bin), with base as an outline when not NULL and a vertical
 * line per marks[i] (labels[i] beside it).  small: the per-statement size.
 */
void		chart_histogram_write(FILE *f, const char *id, const char *title,
								  const struct sketch *s,
								  const struct sketch *base,
								  const double *marks, const char *const *labels,
								  int nmarks, bool small);

/* One bar of a horizontal bar chart. */
struct chart_bar
{
	const char *label;
	double		value;
};

/* Horizontal bars (value formatted with fmt, e.g. "%.1f %%"). */
void		chart_bars_write(FILE *f, const char *id, const char *title,
							 const char *xlabel, const struct chart_bar *bars,
							 int n, double scale, const char *fmt);

/*
 * chart_flame_write: a flame graph of collapsed stacks ("a;b;c 12" lines,
 * root first) with zoom on click.  Lines that do not parse are skipped and
 * counted in *skipped.  Returns the number of samples drawn (0: nothing).
 */
uint64_t	chart_flame_write(FILE *f, const char *id, const char *title,
							  const char *folded, int *skipped);

/* Histogram binning, exposed for the unit test. */
struct hist_bins
{
	int			n;
	double		lo;				/* lower edge of bin 0, ms (> 0) */
	double		step;			/* log10 width of a bin */
	uint64_t   *count;			/* n counts, malloc'd */
	uint64_t	total;
};

/*
 * hist_bins_fill: bin s's buckets (by their geometric midpoint; zeros in
 * bin 0) into b, whose lo, step and n are set; counts are malloc'd.
 */
void		hist_bins_fill(struct hist_bins *b, const struct sketch *s);

/*
 * hist_bins_layout: choose lo, step and n for values in [min, max] (> 0):
 * about 25 bins per decade, at most 60 and at least 8.
 */
void		hist_bins_layout(struct hist_bins *b, double min, double max);

#endif							/* PERFDRIVER_HTML_H */
