/*
 * html_page.h
 *		The parts of the HTML report that html.c shares with html_run.c:
 *		reading the JSON document, the page's head and foot, and the small
 *		widgets.  Private to the renderer (html*.c).
 *
 * Owns: nothing with state.
 *
 * Must not: include libpq-fe.h.
 *
 * Memory: html_json_as_text() returns malloc'd text (caller frees),
 * html_jsketch() a malloc'd sketch (caller frees); the rest allocate only
 * temporaries.
 */
#ifndef PERFDRIVER_HTML_PAGE_H
#define PERFDRIVER_HTML_PAGE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "sketch.h"

/* o[key] as a number (NaN when absent or not a number). */
double		html_jnum(const json_t *o, const char *key);

/* o[key] as a string, array or object; NULL when absent or another type. */
const char *html_jstr(const json_t *o, const char *key);
json_t	   *html_jarr(const json_t *o, const char *key);
json_t	   *html_jobj(const json_t *o, const char *key);

/* o["latency_sketch"] decoded from its text form, or NULL. */
struct sketch *html_jsketch(const json_t *o);

/* "YYYY-MM-DDTHH:MM:SS[.f][+HH:MM]" as seconds since the epoch, or NaN. */
double		html_parse_ts(const char *s);

/* "2026-12-06 04:31:14 UTC+00:00" for a time in seconds since the epoch. */
void		html_fmt_utc(char *buf, size_t len, double epoch);

/* A count without decimals, "-" for NaN. */
void		html_fmt_count(char *buf, size_t len, double v);

/* The page up to <main>, and from the footer to the end (with the script). */
void		html_page_head(FILE *f, const char *title);
void		html_page_foot(FILE *f);

/* A summary card: value above key; cls "pass", "fail", "note" or NULL. */
void		html_card(FILE *f, const char *key, const char *value, const char *cls);

/* A JSON value as text: strings bare, other values compact JSON. */
char	   *html_json_as_text(const json_t *v);

/* A value without a layout of its own, as formatted, selectable JSON. */
void		html_json_pre(FILE *f, const json_t *v);

/* SQL text as a selectable block (cls "fix" for a rewrite, or NULL). */
void		html_sql_pre(FILE *f, const char *sql, const char *cls);

/* A verdict badge: words as well as colour. */
void		html_badge(FILE *f, const char *cls, const char *text);

/* A numeric table cell with its sort key (ms: latency formatting). */
void		html_td_num(FILE *f, double v, bool ms);

/* A list of objects as a table with the union of their keys. */
void		html_generic_table(FILE *f, const json_t *list, const char *id);

/* The N+1 section of a run or a log analysis. */
void		html_section_nplus1(FILE *f, const json_t *findings, const char *id);

/* Open path ("-": stdout) / close it; false with a message in err. */
bool		html_open_out(const char *path, FILE **f, char *err, size_t errlen);
bool		html_close_out(const char *path, FILE *f, char *err, size_t errlen);

#endif							/* PERFDRIVER_HTML_PAGE_H */
