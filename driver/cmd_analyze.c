/*
 * cmd_analyze.c
 *		"perfdriver analyze --log FILE": N+1 detection on a PostgreSQL
 *		server log captured with log_statement = 'all' or
 *		log_min_duration_statement = 0.
 *
 * Owns: turning log entries (logparse.c) into executed statements per
 * session: "statement: ..." (simple protocol), "execute NAME: ..." with the
 * "parameters: $1 = '17'" detail (extended protocol), "duration: X ms" with
 * or without the statement; units of detection (explicit transactions
 * between BEGIN and COMMIT/ROLLBACK; in autocommit, a session's run of
 * statements that ends at an idle gap, a BEGIN or the session's end); the
 * analyze report (human and --json) and its exit codes.
 *
 * Must not: talk to libpq, or fail on content: bad lines are counted and
 * summarised, a truncated file still gives a report.  Only usage errors
 * and an unreadable file are errors (exit 2).
 *
 * Memory: bounded by the number of distinct statement fingerprints (their
 * normalized texts are interned for the whole run) and by at most
 * ANALYZE_MAX_SESSIONS live sessions (the least recently active quarter is
 * closed when the table fills: their units end).  Statements are not
 * kept; the shape cache has a fixed size.
 */
#include "driver.h"
#include "html.h"
#include "logparse.h"
#include "logstats.h"
#include "normalize.h"
#include "nplus1.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ANALYZE_MAX_SESSIONS	4096
#define ANALYZE_SESSION_SLOTS	8192	/* power of two, > 2 * max */
#define ANALYZE_KEY_LEN			40
#define ANALYZE_SHAPE_SLOTS		65536	/* power of two */
#define ANALYZE_MAX_TEXTS		(1 << 20)
#define ANALYZE_BAD_EXAMPLES	5

/* Exit codes of analyze (documented in --help and docs/nplus1.md). */
#define ANALYZE_EXIT_FINDINGS	1	/* only with --fail-on-findings */

struct analyze_opts
{
	const char *log;
	logparse_format format;
	const char *json;
	const char *html;
	struct nplus1_config nplus1;
	double		unit_gap_ms;
	int			top;
	bool		fail_on_findings;
};

#define ANALYZE_WHO_LEN			64

/* Who ran a statement: from the log line prefix or the csvlog fields. */
struct awho
{
	char		user[ANALYZE_WHO_LEN];
	char		database[ANALYZE_WHO_LEN];
	char		application[ANALYZE_WHO_LEN];
};

/*
 * One statement (by fingerprint) over the whole log: calls, durations and
 * who ran it.  A who field seen with two values shows as "(several)".
 */
struct astmt
{
	uint64_t	fp;				/* 0: free slot */
	const char *text;
	uint64_t	calls;
	uint64_t	timed;			/* calls with a known duration */
	double		total_ms;
	struct sketch *lat;			/* NULL until a duration is known */
	bool		has_ts;
	int64_t		first_ts;
	int64_t		last_ts;
	struct awho who;
};

struct asession
{
	bool		used;
	struct awho who;			/* of the last entry with a who field */
	uint8_t		klen;
	char		key[ANALYZE_KEY_LEN];
	uint64_t	khash;
	uint64_t	seq;			/* last activity, for eviction */
	bool		has_ts;
	int64_t		last_ts;
	bool		in_txn;
	struct nplus1_unit *unit;
	/* the last statement, waiting for its parameters or duration */
	bool		pending;
	bool		detail_ok;		/* the next DETAIL belongs to it */
	struct nplus1_stmt st;
	uint64_t	lit_hash;
	char		params[NPLUS1_EXAMPLE_LEN];
};

struct shape_slot
{
	uint64_t	shape;
	uint64_t	fp;
	const char *text;
};

struct text_slot
{
	uint64_t	fp;
	char	   *text;
};

struct analyze
{
	struct analyze_opts *o;
	struct nplus1 *np;
	struct logstats *ls;		/* the statement rate over time */
	struct asession *sessions;	/* ANALYZE_SESSION_SLOTS */
	int			nsessions;
	uint64_t	seq;
	uint64_t	sessions_seen;
	struct shape_slot *shapes;	/* ANALYZE_SHAPE_SLOTS */
	struct text_slot *texts;
	size_t		text_cap;
	size_t		ntexts;
	uint64_t	statements;
	uint64_t	durations;
	uint64_t	normalized;		/* shape cache misses */
	struct astmt *stmts;		/* open addressing by fingerprint */
	size_t		stmt_cap;
	size_t		nstmts;
	int			nbad;
	uint64_t	bad_line[ANALYZE_BAD_EXAMPLES];
	char		bad_text[ANALYZE_BAD_EXAMPLES][121];
};

static void
analyze_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver analyze --log FILE [OPTION]...\n"
			"\n"
			"Finds N+1 query patterns in a PostgreSQL server log written with\n"
			"log_statement = 'all' or log_min_duration_statement = 0: csvlog, or stderr\n"
			"with a log_line_prefix holding %%c or %%p (the default '%%m [%%p] ' works).\n"
			"\n"
			"Options:\n"
			"  -l, --log=FILE           the server log (\"-\" for stdin)\n"
			"  --format=FORMAT          csvlog or stderr (default: detected)\n"
			"  --json=FILE              JSON report (\"-\" for stdout)\n"
			"  --html=FILE              HTML report: top statements, N+1 patterns and\n"
			"                           the statement rate over time, in one file\n"
			"  --nplus1-min-repeats=K   repeats with different parameters after a source\n"
			"                           statement that make a finding (default 5)\n"
			"  --nplus1-min-time=MS     least time in the repeats, when durations are\n"
			"                           logged (default 0)\n"
			"  --unit-gap=MS            in autocommit, an idle gap this long ends a\n"
			"                           session's unit (default 1000)\n"
			"  --top=N                  patterns shown (default 20; 0 for all)\n"
			"  --fail-on-findings       exit 1 when there is a finding\n"
			"\n"
			"Exit status: 0 report written (findings or not), 1 findings with\n"
			"--fail-on-findings, 2 usage error or unreadable file.\n");
}

static bool
analyze_options(int argc, char **argv, struct analyze_opts *o, bool *help)
{
	static const struct option longopts[] = {
		{"log", required_argument, NULL, 'l'},
		{"format", required_argument, NULL, 1},
		{"json", required_argument, NULL, 2},
		{"html", required_argument, NULL, 20},
		{"nplus1-min-repeats", required_argument, NULL, 3},
		{"nplus1-min-time", required_argument, NULL, 4},
		{"unit-gap", required_argument, NULL, 5},
		{"top", required_argument, NULL, 6},
		{"fail-on-findings", no_argument, NULL, 7},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			ch;
	char	   *end;

	memset(o, 0, sizeof(*o));
	o->format = LOGPARSE_AUTO;
	o->nplus1.min_repeats = NPLUS1_DEFAULT_MIN_REPEATS;
	o->unit_gap_ms = 1000;
	o->top = 20;
	*help = false;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hl:", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'h':
				*help = true;
				return true;
			case 'l':
				o->log = optarg;
				break;
			case 1:
				if (strcmp(optarg, "csvlog") == 0 || strcmp(optarg, "csv") == 0)
					o->format = LOGPARSE_CSVLOG;
				else if (strcmp(optarg, "stderr") == 0)
					o->format = LOGPARSE_STDERR;
				else
				{
					pd_error("unrecognized log format: \"%s\"", optarg);
					pd_hint("Use csvlog or stderr.");
					return false;
				}
				break;
			case 2:
				o->json = optarg;
				break;
			case 20:
				o->html = optarg;
				break;
			case 3:
				{
					long		v;

					errno = 0;
					v = strtol(optarg, &end, 10);
					if (errno || end == optarg || *end || v < 2 || v > 1000000)
					{
						pd_error("invalid --nplus1-min-repeats: \"%s\"", optarg);
						pd_hint("Use an integer of at least 2.");
						return false;
					}
					o->nplus1.min_repeats = (int) v;
					break;
				}
			case 4:
			case 5:
				{
					double		v;

					errno = 0;
					v = strtod(optarg, &end);
					if (errno || end == optarg || *end || !(v >= 0) || isinf(v))
					{
						pd_error("invalid --%s: \"%s\"", ch == 4 ? "nplus1-min-time" : "unit-gap", optarg);
						return false;
					}
					if (ch == 4)
						o->nplus1.min_time_ms = v;
					else
						o->unit_gap_ms = v;
					break;
				}
			case 6:
				{
					long		v;

					errno = 0;
					v = strtol(optarg, &end, 10);
					if (errno || end == optarg || *end || v < 0 || v > 1000000)
					{
						pd_error("invalid --top: \"%s\"", optarg);
						return false;
					}
					o->top = (int) v;
					break;
				}
			case 7:
				o->fail_on_findings = true;
				break;
			default:
				pd_hint("Try \"perfdriver analyze --help\" for more information.");
				return false;
		}
	}
	if (optind < argc)
	{
		if (o->log == NULL && optind == argc - 1)
			o->log = argv[optind];
		else
		{
			pd_error("too many command-line arguments (first is \"%s\")", argv[optind]);
			return false;
		}
	}
	if (o->log == NULL)
	{
		pd_error("no log file given");
		pd_hint("Use \"perfdriver analyze --log FILE\".");
		return false;
	}
	return true;
}

/* ----------------------------------------------------------- statements */

static uint64_t
analyze_hash(const char *s, size_t n)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < n; i++)
	{
		h ^= (unsigned char) s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/*
 * analyze_intern: the interned normalized text of fingerprint fp; takes
 * ownership of text (frees it when fp is known).  Returns NULL once
 * ANALYZE_MAX_TEXTS texts are kept (the finding then says so).
 */
static const char *
analyze_intern(struct analyze *a, uint64_t fp, char *text)
{
	size_t		i;

	if (a->ntexts * 2 >= a->text_cap)
	{
		size_t		ncap = a->text_cap ? a->text_cap * 2 : 4096;
		struct text_slot *nt;

		if (a->ntexts >= ANALYZE_MAX_TEXTS)
		{
			for (i = fp & (a->text_cap - 1); a->texts[i].text; i = (i + 1) & (a->text_cap - 1))
				if (a->texts[i].fp == fp)
				{
					free(text);
					return a->texts[i].text;
				}
			free(text);
			return NULL;
		}
		nt = pd_calloc(ncap, sizeof(*nt));
		for (size_t k = 0; k < a->text_cap; k++)
		{
			if (a->texts[k].text == NULL)
				continue;
			for (i = a->texts[k].fp & (ncap - 1); nt[i].text; i = (i + 1) & (ncap - 1))
				;
			nt[i] = a->texts[k];
		}
		free(a->texts);
		a->texts = nt;
		a->text_cap = ncap;
	}
	for (i = fp & (a->text_cap - 1); a->texts[i].text; i = (i + 1) & (a->text_cap - 1))
		if (a->texts[i].fp == fp)
		{
			free(text);
			return a->texts[i].text;
		}
	a->texts[i].fp = fp;
	a->texts[i].text = text;
	a->ntexts++;
	return text;
}

/*
 * analyze_fingerprint: fingerprint and interned normalized text of
 * sql[0..len), through the shape cache (libpg_query runs only for a shape
 * not seen recently).  Sets *lit_hash and lits to the literal values.
 */
static uint64_t
analyze_fingerprint(struct analyze *a, const char *sql, size_t len, const char **text,
					uint64_t *lit_hash, char *lits, size_t litcap)
{
	uint64_t	shape = logparse_sql_shape(sql, len, lit_hash, lits, litcap);
	struct shape_slot *s = &a->shapes[(shape ^ (shape >> 32)) & (ANALYZE_SHAPE_SLOTS - 1)];
	struct pgb_normalized n;
	char	   *copy;

	if (s->text != NULL && s->shape == shape)
	{
		*text = s->text;
		return s->fp;
	}
	copy = pd_malloc(len + 1);
	memcpy(copy, sql, len);
	copy[len] = '\0';
	pgb_normalize(copy, &n);
	free(copy);
	a->normalized++;
	*text = analyze_intern(a, n.fingerprint, n.text);
	if (*text != NULL)
	{
		s->shape = shape;
		s->fp = n.fingerprint;
		s->text = *text;
	}
	return n.fingerprint;
}

/* Copy a who field of an entry into a session (cheap when unchanged). */
static inline void
who_set(char *dst, const char *src, size_t len)
{
	if (len == 0)
		return;
	if (len >= ANALYZE_WHO_LEN)
		len = ANALYZE_WHO_LEN - 1;
	if (dst[len] == '\0' && memcmp(dst, src, len) == 0)
		return;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
who_merge(char *dst, const char *src)
{
	if (src[0] == '\0' || strcmp(dst, src) == 0)
		return;
	if (dst[0] == '\0')
		snprintf(dst, ANALYZE_WHO_LEN, "%s", src);
	else
		snprintf(dst, ANALYZE_WHO_LEN, "(several)");
}

/* stmt_slot: the statistics of fingerprint fp (created empty). */
static struct astmt *
stmt_slot(struct analyze *a, uint64_t fp)
{
	size_t		i;

	if (fp == 0)
		fp = 1;
	if (a->nstmts * 2 >= a->stmt_cap)
	{
		size_t		ncap = a->stmt_cap ? a->stmt_cap * 2 : 1024;
		struct astmt *nt = pd_calloc(ncap, sizeof(*nt));

		for (size_t k = 0; k < a->stmt_cap; k++)
		{
			if (a->stmts[k].fp == 0)
				continue;
			for (i = a->stmts[k].fp & (ncap - 1); nt[i].fp; i = (i + 1) & (ncap - 1))
				;
			nt[i] = a->stmts[k];
		}
		free(a->stmts);
		a->stmts = nt;
		a->stmt_cap = ncap;
	}
	for (i = fp & (a->stmt_cap - 1); a->stmts[i].fp; i = (i + 1) & (a->stmt_cap - 1))
		if (a->stmts[i].fp == fp)
			return &a->stmts[i];
	a->stmts[i].fp = fp;
	a->nstmts++;
	return &a->stmts[i];
}

/* Count the session's pending statement in its statement's statistics. */
static void
stmt_record(struct analyze *a, struct asession *s)
{
	struct astmt *t = stmt_slot(a, s->st.fingerprint);

	if (t->text == NULL)
		t->text = s->st.text;
	t->calls++;
	if (!isnan(s->st.ms))
	{
		t->timed++;
		t->total_ms += s->st.ms;
		if (t->lat == NULL)
			t->lat = pd_sketch_new();
		pd_sketch_add(&t->lat, s->st.ms);
	}
	if (s->has_ts)
	{
		if (!t->has_ts || s->last_ts < t->first_ts)
			t->first_ts = s->last_ts;
		if (!t->has_ts || s->last_ts > t->last_ts)
			t->last_ts = s->last_ts;
		t->has_ts = true;
	}
	who_merge(t->who.user, s->who.user);
	who_merge(t->who.database, s->who.database);
	who_merge(t->who.application, s->who.application);
}

/* Feed the session's pending statement to its unit. */
static void
session_flush(struct analyze *a, struct asession *s)
{
	if (!s->pending)
		return;
	stmt_record(a, s);
	s->pending = false;
	s->detail_ok = false;
	if (s->unit == NULL)
		s->unit = nplus1_unit_create(a->np);
	s->st.params = s->params;
	nplus1_unit_add(s->unit, &s->st);
}

static void
session_end_unit(struct analyze *a, struct asession *s)
{
	session_flush(a, s);
	if (s->unit != NULL)
		nplus1_unit_end(s->unit);
}

static void
session_close(struct analyze *a, struct asession *s)
{
	session_end_unit(a, s);
	nplus1_unit_free(s->unit);
	s->unit = NULL;
	s->used = false;
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t	a = *(const uint64_t *) x,
				b = *(const uint64_t *) y;

	return a < b ? -1 : a > b;
}

/* Close the least recently active quarter of the sessions and rehash. */
static void
sessions_evict(struct analyze *a)
{
	uint64_t   *seqs = pd_malloc(sizeof(uint64_t) * a->nsessions);
	struct asession *old = a->sessions;
	uint64_t	cut;
	int			n = 0;

	for (int i = 0; i < ANALYZE_SESSION_SLOTS; i++)
		if (old[i].used)
			seqs[n++] = old[i].seq;
	qsort(seqs, n, sizeof(uint64_t), cmp_u64);
	cut = seqs[n / 4];
	free(seqs);
	a->sessions = pd_calloc(ANALYZE_SESSION_SLOTS, sizeof(struct asession));
	a->nsessions = 0;
	for (int i = 0; i < ANALYZE_SESSION_SLOTS; i++)
	{
		unsigned	j;

		if (!old[i].used)
			continue;
		if (old[i].seq <= cut)
		{
			session_close(a, &old[i]);
			continue;
		}
		for (j = old[i].khash & (ANALYZE_SESSION_SLOTS - 1); a->sessions[j].used;
			 j = (j + 1) & (ANALYZE_SESSION_SLOTS - 1))
			;
		a->sessions[j] = old[i];
		a->nsessions++;
	}
	free(old);
}

static struct asession *
session_get(struct analyze *a, const char *key, size_t klen)
{
	uint64_t	h;
	unsigned	i;
	struct asession *s;

	if (klen >= ANALYZE_KEY_LEN)
		klen = ANALYZE_KEY_LEN - 1;
	h = analyze_hash(key, klen);
	for (i = h & (ANALYZE_SESSION_SLOTS - 1); a->sessions[i].used;
		 i = (i + 1) & (ANALYZE_SESSION_SLOTS - 1))
	{
		s = &a->sessions[i];
		if (s->khash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
		{
			s->seq = ++a->seq;
			return s;
		}
	}
	if (a->nsessions >= ANALYZE_MAX_SESSIONS)
	{
		sessions_evict(a);
		return session_get(a, key, klen);
	}
	s = &a->sessions[i];
	memset(s, 0, sizeof(*s));
	s->used = true;
	s->klen = (uint8_t) klen;
	memcpy(s->key, key, klen);
	s->khash = h;
	s->seq = ++a->seq;
	a->nsessions++;
	a->sessions_seen++;
	return s;
}

static bool
starts(const char *s, size_t n, const char *prefix, size_t *plen)
{
	size_t		l = strlen(prefix);

	if (n < l || memcmp(s, prefix, l) != 0)
		return false;
	*plen = l;
	return true;
}

/* Attach "parameters: $1 = '17', ..." to the pending statement. */
static void
session_params(struct asession *s, const char *d, size_t n)
{
	size_t		l;
	uint64_t	h;

	if (!s->pending || !s->detail_ok || !starts(d, n, "parameters: ", &l))
		return;
	d += l;
	n -= l;
	h = analyze_hash(d, n);
	s->st.param_hash = s->lit_hash ^ (h ? h : 1);
	snprintf(s->params, sizeof(s->params), "%.*s", (int) n, d);
	s->detail_ok = false;
}

/* One executed statement of session s. */
static void
session_statement(struct analyze *a, struct asession *s, const struct logparse_entry *e,
				  const char *sql, size_t len, double ms)
{
	int			kind;

	session_flush(a, s);
	if (e->has_ts && s->has_ts && !s->in_txn &&
		(double) (e->ts_ms - s->last_ts) > a->o->unit_gap_ms)
		session_end_unit(a, s);
	if (e->has_ts)
	{
		s->has_ts = true;
		s->last_ts = e->ts_ms;
	}
	kind = nplus1_txn_control_len(sql, len);
	if (kind == NPLUS1_TXN_BEGIN)
	{
		session_end_unit(a, s);
		s->in_txn = true;
		return;
	}
	if (kind == NPLUS1_TXN_END)
	{
		session_end_unit(a, s);
		s->in_txn = false;
		return;
	}
	if (kind == NPLUS1_TXN_OTHER)
		return;
	a->statements++;
	s->st.fingerprint = analyze_fingerprint(a, sql, len, &s->st.text, &s->lit_hash,
											s->params, sizeof(s->params));
	s->st.param_hash = s->lit_hash;
	s->st.ms = ms;
	logstats_statement(a->ls, e->has_ts, e->ts_ms);
	if (!isnan(ms))
		a->durations++;
	s->pending = true;
	s->detail_ok = true;
}

/*
 * analyze_entry: interpret one log entry.  LOG messages that are not
 * statements (connections, checkpoints, parse/bind durations) are ignored;
 * they are not errors.
 */
static void
analyze_entry(void *arg, const struct logparse_entry *e)
{
	struct analyze *a = arg;
	struct asession *s;
	const char *m = e->message;
	size_t		n = e->message_len;
	size_t		l;
	double		ms = NAN;

	if (e->severity_len == 6 && memcmp(e->severity, "DETAIL", 6) == 0)
	{
		s = session_get(a, e->session ? e->session : "", e->session_len);
		session_params(s, m, n);
		return;
	}
	if (e->severity_len != 3 || memcmp(e->severity, "LOG", 3) != 0)
		return;
	s = session_get(a, e->session ? e->session : "", e->session_len);
	who_set(s->who.user, e->user, e->user_len);
	who_set(s->who.database, e->database, e->database_len);
	who_set(s->who.application, e->application, e->application_len);
	if (starts(m, n, "duration: ", &l))
	{
		char		num[32];
		size_t		k = 0;

		m += l;
		n -= l;
		while (k < n && k < sizeof(num) - 1 && (m[k] == '.' || (m[k] >= '0' && m[k] <= '9')))
		{
			num[k] = m[k];
			k++;
		}
		num[k] = '\0';
		ms = k > 0 ? strtod(num, NULL) : NAN;
		m += k;
		n -= k;
		if (starts(m, n, " ms", &l))
		{
			m += l;
			n -= l;
		}
		while (n > 0 && *m == ' ')
			m++, n--;
		if (n == 0)
		{
			/* the statement was logged before (log_statement) */
			if (s->pending && isnan(s->st.ms) && !isnan(ms))
			{
				s->st.ms = ms;
				a->durations++;
			}
			s->detail_ok = false;
			return;
		}
	}
	if (starts(m, n, "statement: ", &l))
		session_statement(a, s, e, m + l, n - l, ms);
	else if (starts(m, n, "execute ", &l))
	{
		const char *c = memchr(m + l, ':', n - l);

		if (c == NULL || c + 1 >= m + n)
			return;
		c++;
		while (c < m + n && *c == ' ')
			c++;
		session_statement(a, s, e, c, (m + n) - c, ms);
		if (e->detail != NULL)
			session_params(s, e->detail, e->detail_len);
	}
	else if (starts(m, n, "disconnection: ", &l))
		session_close(a, s);
	else
		s->detail_ok = false;	/* parse, bind, anything else */
}

static void
analyze_bad(void *arg, uint64_t line, const char *text, size_t len)
{
	struct analyze *a = arg;

	if (a->nbad >= ANALYZE_BAD_EXAMPLES)
		return;
	a->bad_line[a->nbad] = line;
	if (len > 120)
		len = 120;
	for (size_t i = 0; i < len; i++)
		a->bad_text[a->nbad][i] = (text[i] == '\n' || text[i] == '\r') ? ' ' : text[i];
	a->bad_text[a->nbad][len] = '\0';
	a->nbad++;
}

/* --------------------------------------------------------------- report */

static long
analyze_peak_rss_kb(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_maxrss;
}

static const char *
format_name(logparse_format f)
{
	return f == LOGPARSE_CSVLOG ? "csvlog" : "stderr";
}

/* ------------------------------------------------------ top statements */

static int
stmt_cmp_total(const void *x, const void *y)
{
	const struct astmt *a = *(const struct astmt *const *) x;
	const struct astmt *b = *(const struct astmt *const *) y;

	if (a->total_ms != b->total_ms)
		return a->total_ms < b->total_ms ? 1 : -1;
	if (a->calls != b->calls)
		return a->calls < b->calls ? 1 : -1;
	return a->fp < b->fp ? -1 : a->fp > b->fp;
}

static double
stmt_p95(const struct astmt *t)
{
	return t->lat ? sketch_quantile(t->lat, 0.95) : NAN;
}

static int
stmt_cmp_p95(const void *x, const void *y)
{
	const struct astmt *a = *(const struct astmt *const *) x;
	const struct astmt *b = *(const struct astmt *const *) y;
	double		pa = stmt_p95(a),
				pb = stmt_p95(b);

	if (isnan(pa) != isnan(pb))
		return isnan(pa) ? 1 : -1;
	if (!isnan(pa) && pa != pb)
		return pa < pb ? 1 : -1;
	return stmt_cmp_total(x, y);
}

/*
 * stmt_sorted: the statements, sorted by total time (by_p95 false) or by
 * p95 (only those with durations); malloc'd, *n receives how many.
 */
static const struct astmt **
stmt_sorted(const struct analyze *a, bool by_p95, int *n)
{
	const struct astmt **v = pd_calloc(a->nstmts + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; i < a->stmt_cap; i++)
		if (a->stmts[i].fp != 0 && (!by_p95 || a->stmts[i].lat != NULL))
			v[(*n)++] = &a->stmts[i];
	qsort(v, *n, sizeof(*v), by_p95 ? stmt_cmp_p95 : stmt_cmp_total);
	return v;
}

/* A log time (ms, time zone as written in the log) as text. */
static void
fmt_log_ts(int64_t ms, char *buf, size_t len)
{
	time_t		t = (time_t) (ms / 1000);
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (ms % 1000));
}

static void
json_num_or_null(FILE *f, double v)
{
	if (isnan(v))
		fputs("null", f);
	else
		fprintf(f, "%.3f", v);
}

static void
json_who(FILE *f, const struct astmt *t)
{
	const char *const names[] = {"application", "user", "database"};
	const char *const vals[] = {t->who.application, t->who.user, t->who.database};

	for (int k = 0; k < 3; k++)
	{
		fprintf(f, ", \"%s\": ", names[k]);
		if (vals[k][0])
			nplus1_json_string(f, vals[k]);
		else
			fputs("null", f);
	}
	if (t->has_ts)
	{
		char		b1[80],
					b2[80];

		fmt_log_ts(t->first_ts, b1, sizeof(b1));
		fmt_log_ts(t->last_ts, b2, sizeof(b2));
		fprintf(f, ", \"first_seen\": \"%s\", \"last_seen\": \"%s\"", b1, b2);
	}
	else
		fputs(", \"first_seen\": null, \"last_seen\": null", f);
}

static void
json_top_statements(FILE *f, const struct analyze *a, bool by_p95)
{
	int			n;
	const struct astmt **v = stmt_sorted(a, by_p95, &n);
	int			top = a->o->top > 0 && a->o->top < n ? a->o->top : n;

	fputc('[', f);
	for (int i = 0; i < top; i++)
	{
		const struct astmt *t = v[i];

		fprintf(f, "%s\n    {\"fingerprint\": \"%016llx\", \"query\": ", i ? "," : "",
				(unsigned long long) t->fp);
		nplus1_json_string(f, t->text ? t->text : "?");
		fprintf(f, ", \"calls\": %llu, \"timed_calls\": %llu, \"total_ms\": ",
				(unsigned long long) t->calls, (unsigned long long) t->timed);
		json_num_or_null(f, t->timed ? t->total_ms : NAN);
		fputs(", \"mean_ms\": ", f);
		json_num_or_null(f, t->timed ? t->total_ms / t->timed : NAN);
		fputs(", \"p95_ms\": ", f);
		json_num_or_null(f, stmt_p95(t));
		fputs(", \"max_ms\": ", f);
		json_num_or_null(f, t->lat ? sketch_quantile(t->lat, 1.0) : NAN);
		json_who(f, t);
		fputc('}', f);
	}
	fprintf(f, "%s]", top ? "\n  " : "");
	free(v);
}

static const struct astmt *
stmt_find(const struct analyze *a, uint64_t fp)
{
	if (a->stmt_cap == 0)
		return NULL;
	if (fp == 0)
		fp = 1;
	for (size_t i = fp & (a->stmt_cap - 1); a->stmts[i].fp; i = (i + 1) & (a->stmt_cap - 1))
		if (a->stmts[i].fp == fp)
			return &a->stmts[i];
	return NULL;
}

/* N+1 findings carry who ran the repeated statement, and when. */
static void
nplus1_extra_json(FILE *f, const struct nplus1_finding *x, void *arg)
{
	const struct astmt *t = stmt_find(arg, x->repeated_fp);

	if (t != NULL)
		json_who(f, t);
}

static void
print_who(FILE *out, const struct astmt *t, const char *indent)
{
	char		b1[80],
				b2[80];

	fprintf(out, "%sapp %s, user %s, db %s", indent,
			t->who.application[0] ? t->who.application : "-",
			t->who.user[0] ? t->who.user : "-", t->who.database[0] ? t->who.database : "-");
	if (t->has_ts)
	{
		fmt_log_ts(t->first_ts, b1, sizeof(b1));
		fmt_log_ts(t->last_ts, b2, sizeof(b2));
		fprintf(out, ", %s .. %s", b1, b2);
	}
	fputc('\n', out);
}

static void
nplus1_extra_print(FILE *out, const struct nplus1_finding *x, const char *indent, void *arg)
{
	const struct astmt *t = stmt_find(arg, x->repeated_fp);

	if (t != NULL)
	{
		char		ind[96];

		snprintf(ind, sizeof(ind), "%swho:      ", indent);
		print_who(out, t, ind);
	}
}

static void
print_top_statements(FILE *out, const struct analyze *a, bool by_p95)
{
	int			n;
	const struct astmt **v = stmt_sorted(a, by_p95, &n);
	int			top = a->o->top > 0 && a->o->top < n ? a->o->top : n;

	if (by_p95 && n == 0)
	{
		free(v);
		return;
	}
	fprintf(out, "  top statements by %s (%d of %d):\n", by_p95 ? "p95 duration" : "total duration",
			top, n);
	fprintf(out, "  %4s %9s %12s %10s %10s  %s\n", "#", "calls", "total ms", "mean ms", "p95 ms",
			"statement");
	for (int i = 0; i < top; i++)
	{
		const struct astmt *t = v[i];
		char		q[80];

		{
			const char *txt = t->text ? t->text : "?";

			if (strlen(txt) <= 72)
				snprintf(q, sizeof(q), "%s", txt);
			else
				snprintf(q, sizeof(q), "%.69s...", txt);
		}
		if (t->timed)
			fprintf(out, "  %4d %9llu %12.3f %10.3f %10.3f  %s\n", i + 1,
					(unsigned long long) t->calls, t->total_ms, t->total_ms / t->timed,
					stmt_p95(t), q);
		else
			fprintf(out, "  %4d %9llu %12s %10s %10s  %s\n", i + 1,
					(unsigned long long) t->calls, "-", "-", "-", q);
		print_who(out, t, "                                                        ");
	}
	fputc('\n', out);
	free(v);
}

/* analyze_json: the JSON report as a malloc'd string (caller frees). */
static char *
analyze_json(const struct analyze *a, const struct logparse_stats *st, double secs)
{
	char	   *buf = NULL;
	size_t		size = 0;
	FILE	   *f = open_memstream(&buf, &size);

	if (f == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	fprintf(f, "{\n  \"log\": ");
	nplus1_json_string(f, a->o->log);
	fprintf(f, ",\n  \"format\": \"%s\"", format_name(st->format));
	fprintf(f, ",\n  \"bytes\": %llu, \"lines\": %llu, \"entries\": %llu",
			(unsigned long long) st->bytes, (unsigned long long) st->lines,
			(unsigned long long) st->entries);
	fprintf(f, ",\n  \"statements\": %llu, \"sessions\": %llu, \"units\": %llu",
			(unsigned long long) a->statements, (unsigned long long) a->sessions_seen,
			(unsigned long long) nplus1_units(a->np));
	fprintf(f, ",\n  \"durations_logged\": %s", a->durations ? "true" : "false");
	fprintf(f, ",\n  \"unparsed_lines\": %llu, \"unparsed_examples\": [",
			(unsigned long long) st->bad);
	for (int i = 0; i < a->nbad; i++)
	{
		fprintf(f, "%s{\"line\": %llu, \"text\": ", i ? ", " : "",
				(unsigned long long) a->bad_line[i]);
		nplus1_json_string(f, a->bad_text[i]);
		fputc('}', f);
	}
	fprintf(f, "]");
	fprintf(f, ",\n  \"truncated\": %s", st->truncated ? "true" : "false");
	fprintf(f, ",\n  \"seconds\": %.3f, \"mb_per_s\": %.1f, \"peak_rss_kb\": %ld",
			secs, secs > 0 ? st->bytes / 1e6 / secs : 0.0, analyze_peak_rss_kb());
	fprintf(f, ",\n  \"top_statements_by_total\": ");
	json_top_statements(f, a, false);
	fprintf(f, ",\n  \"top_statements_by_p95\": ");
	json_top_statements(f, a, true);
	fprintf(f, ",\n  \"min_repeats\": %d", a->o->nplus1.min_repeats);
	fprintf(f, ",\n  \"nplus1_findings\": ");
	nplus1_write_json(f, a->np, a->o->top, "  ");
	logstats_write_json(f, a->ls);
	fprintf(f, "\n}\n");
	if (ferror(f) || fclose(f) != 0)
	{
		pd_error("out of memory");
		abort();
	}
	return buf;
}

static bool
analyze_write_json(const char *path, const char *doc, char *err, size_t errlen)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	bool		ok;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\" for writing: %s", path, strerror(errno));
		return false;
	}
	fputs(doc, f);
	ok = !ferror(f);
	if (f != stdout)
		ok = (fclose(f) == 0) && ok;
	else
		fflush(f);
	if (!ok)
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
	return ok;
}

/* analyze_write_html: the HTML report of the JSON document doc. */
static bool
analyze_write_html(const char *path, const char *doc, char *err, size_t errlen)
{
	json_error_t je;
	json_t	   *j = json_loads(doc, 0, &je);
	bool		ok;

	if (j == NULL)
	{
		snprintf(err, errlen, "cannot read the analysis back: line %d: %s", je.line, je.text);
		return false;
	}
	ok = html_write_analyze(path, j, err, errlen);
	json_decref(j);
	return ok;
}

static void
analyze_print(FILE *out, const struct analyze *a, const struct logparse_stats *st, double secs)
{
	fprintf(out, "perfdriver analyze\n");
	fprintf(out, "  log:           %s (%s, %.1f MB, %llu lines)\n", a->o->log,
			format_name(st->format), st->bytes / 1e6, (unsigned long long) st->lines);
	fprintf(out, "  statements:    %llu in %llu sessions, %llu units\n",
			(unsigned long long) a->statements, (unsigned long long) a->sessions_seen,
			(unsigned long long) nplus1_units(a->np));
	fprintf(out, "  durations:     %s\n", a->durations
			? "logged (patterns ranked by time in the repeats)"
			: "not logged (patterns ranked by repeats; set log_min_duration_statement = 0 for times)");
	fprintf(out, "  unparsed:      %llu lines%s\n", (unsigned long long) st->bad,
			st->truncated ? " (the file ends inside an entry: truncated)" : "");
	for (int i = 0; i < a->nbad; i++)
		fprintf(out, "                 line %llu: %s\n", (unsigned long long) a->bad_line[i],
				a->bad_text[i]);
	fprintf(out, "  speed:         %.1f MB/s (%.3f s), peak RSS %ld kB\n",
			secs > 0 ? st->bytes / 1e6 / secs : 0.0, secs, analyze_peak_rss_kb());
	fprintf(out, "\n");
	print_top_statements(out, a, false);
	print_top_statements(out, a, true);
	nplus1_print(out, a->np, a->o->top, "  ");
	fflush(out);
}

/* ------------------------------------------------------------------ main */

int
cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o;
	struct analyze a;
	struct logparse_stats st;
	struct logparse_callbacks cb;
	bool		help;
	int			fd;
	char		err[512];
	int64_t		t0;
	double		secs;
	int			nfind;
	int			rc = PD_EXIT_OK;

	if (!analyze_options(argc, argv, &o, &help))
		return PD_EXIT_USAGE;
	if (help)
	{
		analyze_usage(stdout);
		return PD_EXIT_OK;
	}
	if (strcmp(o.log, "-") == 0)
		fd = STDIN_FILENO;
	else
	{
		struct stat sb;

		fd = open(o.log, O_RDONLY);
		if (fd < 0)
		{
			pd_error("could not open log file \"%s\": %s", o.log, strerror(errno));
			return PD_EXIT_USAGE;
		}
		if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		{
			pd_error("cannot read log file \"%s\": it is a directory", o.log);
			close(fd);
			return PD_EXIT_USAGE;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}

	memset(&a, 0, sizeof(a));
	a.o = &o;
	a.np = nplus1_create(&o.nplus1);
	a.ls = logstats_create();
	nplus1_set_extra(a.np, nplus1_extra_json, nplus1_extra_print, &a);
	a.sessions = pd_calloc(ANALYZE_SESSION_SLOTS, sizeof(struct asession));
	a.shapes = pd_calloc(ANALYZE_SHAPE_SLOTS, sizeof(struct shape_slot));
	cb.entry = analyze_entry;
	cb.bad = analyze_bad;
	cb.arg = &a;

	t0 = pd_now_ns();
	if (!logparse_fd(fd, o.format, &cb, &st, err, sizeof(err)))
	{
		pd_error("%s", err);
		if (fd != STDIN_FILENO)
			close(fd);
		rc = PD_EXIT_USAGE;
		goto done;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	for (int i = 0; i < ANALYZE_SESSION_SLOTS; i++)
		if (a.sessions[i].used)
			session_close(&a, &a.sessions[i]);
	secs = (pd_now_ns() - t0) / 1e9;

	analyze_print((o.json && strcmp(o.json, "-") == 0) || (o.html && strcmp(o.html, "-") == 0)
				  ? stderr : stdout, &a, &st, secs);
	if (o.json || o.html)
	{
		char	   *doc = analyze_json(&a, &st, secs);
		bool		ok = true;

		if (o.json && !analyze_write_json(o.json, doc, err, sizeof(err)))
		{
			pd_error("%s", err);
			ok = false;
		}
		if (o.html && !analyze_write_html(o.html, doc, err, sizeof(err)))
		{
			pd_error("%s", err);
			ok = false;
		}
		free(doc);
		if (!ok)
		{
			rc = PD_EXIT_USAGE;
			goto done;
		}
	}
	free(nplus1_findings(a.np, &nfind));
	if (o.fail_on_findings && nfind > 0)
		rc = ANALYZE_EXIT_FINDINGS;

done:
	nplus1_free(a.np);
	logstats_free(a.ls);
	free(a.sessions);
	free(a.shapes);
	for (size_t i = 0; i < a.stmt_cap; i++)
		free(a.stmts[i].lat);	/* malloc'd by pd_sketch_alloc */
	free(a.stmts);
	for (size_t i = 0; i < a.text_cap; i++)
		free(a.texts[i].text);
	free(a.texts);
	return rc;
}
