/*
 * cmd_advise.c
 *		"perfdriver advise -d CONNINFO --from-json RUN.json | --from-log LOG":
 *		index advice for the statements of a stored JSON report or of a
 *		server log, against the database named by -d (docs/perfdriver.md,
 *		"Index advice").
 *
 * Owns: reading the statements to advise on (a run's JSON report with
 * jansson; a server log through logparse.c), choosing the heaviest ones by
 * total time, and the command's output.
 *
 * Must not: write to the database (hypothetical indexes only; advise.c) or
 * include libpq-fe.h.
 *
 * Memory: the statements are malloc'd here and freed before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "advise.h"
#include "driver.h"
#include "logparse.h"
#include "normalize.h"
#include "pgconn.h"

#define ADVISE_DEFAULT_TOP 20

/* One statement read from the input, with one call's values. */
struct adv_stmt
{
	uint64_t	fingerprint;
	char	   *query;			/* normalized, for the report */
	char	   *sql;			/* what to explain: $n text or literal SQL */
	int			nparams;
	char	  **values;
	double		total_ms;
	double		calls;
	double		max_ms;			/* the call whose text is kept */
};

struct adv_input
{
	int			n;
	int			cap;
	struct adv_stmt *s;
	struct adv_stmt *pending;	/* log: the execute awaiting its DETAIL */
};

static void
advise_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver advise -d CONNINFO (--from-json RUN.json | --from-log LOG) [OPTION]...\n"
			"\n"
			"Index advice with hypothetical indexes (hypopg) for the statements of a\n"
			"run's JSON report or of a server log, against the database CONNINFO.\n"
			"Nothing is written to that database.\n"
			"\n"
			"  -d, --dbname=CONNINFO  database to advise on (its hypopg extension is used)\n"
			"  --from-json=FILE       a report written by \"perfdriver run --json\"\n"
			"  --from-log=FILE        a server log (csvlog, or stderr with\n"
			"                         log_min_duration_statement = 0)\n"
			"  --top=N                advise on the N statements with the most total\n"
			"                         time (default %d)\n"
			"  --json=FILE            the advice as JSON (\"-\" for stdout)\n"
			"\n"
			"Exit status: 0 ok (with or without advice), 2 usage, connection or\n"
			"unreadable input.\n", ADVISE_DEFAULT_TOP);
}

static struct adv_stmt *
input_add(struct adv_input *in, uint64_t fp)
{
	for (int i = 0; i < in->n; i++)
		if (in->s[i].fingerprint == fp)
			return &in->s[i];
	if (in->n == in->cap)
	{
		in->cap = in->cap ? in->cap * 2 : 64;
		in->s = realloc(in->s, in->cap * sizeof(*in->s));
		if (in->s == NULL)
		{
			pd_error("out of memory");
			abort();
		}
	}
	memset(&in->s[in->n], 0, sizeof(in->s[0]));
	in->s[in->n].fingerprint = fp;
	return &in->s[in->n++];
}

static void
stmt_set_values(struct adv_stmt *s, int n, char **values)
{
	for (int i = 0; i < s->nparams; i++)
		free(s->values ? s->values[i] : NULL);
	free(s->values);
	s->values = values;
	s->nparams = n;
}

static void
input_free(struct adv_input *in)
{
	for (int i = 0; i < in->n; i++)
	{
		stmt_set_values(&in->s[i], 0, NULL);
		free(in->s[i].query);
		free(in->s[i].sql);
	}
	free(in->s);
}

/* The highest $n in sql outside quotes. */
static int
max_param(const char *sql)
{
	int			max = 0;

	for (const char *p = sql; *p; p++)
	{
		if (*p == '\'' || *p == '"')
		{
			char		q = *p++;

			while (*p && *p != q)
				p++;
			if (!*p)
				break;
		}
		else if (*p == '$' && p[1] >= '0' && p[1] <= '9')
		{
			int			v = atoi(p + 1);

			if (v > max)
				max = v;
		}
	}
	return max;
}

/* ------------------------------------------------------------ JSON */

static bool
read_json(const char *path, struct adv_input *in)
{
	json_error_t jerr;
	json_t	   *root = json_load_file(path, 0, &jerr);
	json_t	   *stmts;
	json_t	   *st;
	size_t		i;

	if (root == NULL)
	{
		pd_error("could not read JSON report \"%s\": %s (line %d)", path, jerr.text, jerr.line);
		return false;
	}
	stmts = json_object_get(root, "statements");
	if (!json_is_array(stmts))
	{
		pd_error("\"%s\" is not a perfdriver run report: it has no \"statements\" list", path);
		pd_hint("Write one with \"perfdriver run --json FILE\".");
		json_decref(root);
		return false;
	}
	json_array_foreach(stmts, i, st)
	{
		const char *q = json_string_value(json_object_get(st, "query"));
		const char *fph = json_string_value(json_object_get(st, "fingerprint"));
		json_t	   *server = json_object_get(st, "server");
		json_t	   *params = json_object_get(st, "plan_params");
		struct adv_stmt *s;
		double		calls = json_number_value(json_object_get(st, "calls"));
		double		mean = json_number_value(json_object_get(json_object_get(st, "latency_ms"), "mean"));

		if (q == NULL)
			continue;
		s = input_add(in, fph ? strtoull(fph, NULL, 16) : pgb_fingerprint(q));
		s->query = pd_strdup(q);
		s->sql = pd_strdup(q);
		s->calls = calls;
		s->total_ms = json_is_number(json_object_get(server, "total_exec_ms"))
			? json_number_value(json_object_get(server, "total_exec_ms")) : calls * mean;
		s->nparams = max_param(q);
		if (json_is_array(params) && (int) json_array_size(params) == s->nparams && s->nparams > 0)
		{
			char	  **v = pd_calloc(s->nparams, sizeof(char *));
			size_t		k;
			json_t	   *pv;

			json_array_foreach(params, k, pv)
				v[k] = json_is_string(pv) ? pd_strdup(json_string_value(pv)) : NULL;
			s->values = v;
		}
	}
	json_decref(root);
	return true;
}

/* ------------------------------------------------------------- logs */

static bool
has_prefix(const char *s, size_t n, const char *p, size_t *l)
{
	*l = strlen(p);
	return n >= *l && memcmp(s, p, *l) == 0;
}

/* Parse "$1 = '17', $2 = NULL" into values; returns how many. */
static int
parse_log_params(const char *d, size_t n, char ***out)
{
	const char *p = d;
	const char *end = d + n;
	int			cnt = 0;
	char	  **v = NULL;

	while (p < end)
	{
		int			idx;
		char	   *val = NULL;

		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p >= end || *p != '$')
			break;
		idx = atoi(p + 1);
		while (p < end && *p != '=')
			p++;
		p++;
		while (p < end && *p == ' ')
			p++;
		if (p < end && *p == '\'')
		{
			char	   *o;

			val = pd_malloc(end - p + 1);
			o = val;
			p++;
			while (p < end)
			{
				if (*p == '\'' && p + 1 < end && p[1] == '\'')
				{
					*o++ = '\'';
					p += 2;
				}
				else if (*p == '\'')
				{
					p++;
					break;
				}
				else
					*o++ = *p++;
			}
			*o = '\0';
		}
		else
			while (p < end && *p != ',')
				p++;			/* NULL */
		if (idx != cnt + 1)
		{
			free(val);
			break;
		}
		v = realloc(v, (cnt + 1) * sizeof(char *));
		if (v == NULL)
		{
			pd_error("out of memory");
			abort();
		}
		v[cnt++] = val;
	}
	*out = v;
	return cnt;
}

static void
log_entry(void *arg, const struct logparse_entry *e)
{
	struct adv_input *in = arg;
	const char *m = e->message;
	size_t		n = e->message_len;
	size_t		l;
	double		ms = NAN;
	bool		execute = false;
	char	   *sql;
	struct adv_stmt *s;
	struct pgb_normalized norm;

	if (e->severity_len == 6 && memcmp(e->severity, "DETAIL", 6) == 0)
	{
		if (in->pending && has_prefix(m, n, "parameters: ", &l))
		{
			char	  **v;
			int			k = parse_log_params(m + l, n - l, &v);

			if (k == in->pending->nparams)
				stmt_set_values(in->pending, k, v);
			else
			{
				for (int i = 0; i < k; i++)
					free(v[i]);
				free(v);
			}
		}
		in->pending = NULL;
		return;
	}
	in->pending = NULL;
	if (e->severity_len != 3 || memcmp(e->severity, "LOG", 3) != 0)
		return;
	if (has_prefix(m, n, "duration: ", &l))
	{
		char	   *endp;

		ms = strtod(m + l, &endp);
		if (endp == m + l)
			return;
		m = endp;
		n = (e->message + e->message_len) - m;
		if (has_prefix(m, n, " ms", &l))
			m += l, n -= l;
		while (n > 0 && *m == ' ')
			m++, n--;
	}
	if (has_prefix(m, n, "statement: ", &l))
		m += l, n -= l;
	else if (has_prefix(m, n, "execute ", &l))
	{
		const char *c = memchr(m + l, ':', n - l);

		if (c == NULL)
			return;
		c++;
		while (c < m + n && *c == ' ')
			c++;
		n = (m + n) - c;
		m = c;
		execute = true;
	}
	else
		return;
	sql = pd_malloc(n + 1);
	memcpy(sql, m, n);
	sql[n] = '\0';
	pgb_normalize(sql, &norm);
	s = input_add(in, norm.fingerprint);
	s->calls += 1;
	if (!isnan(ms))
		s->total_ms += ms;
	if (s->query == NULL)
	{
		s->query = norm.text;
		norm.text = NULL;
	}
	/* explain the slowest call seen: literal SQL as is, $n with its DETAIL */
	if (s->sql == NULL || (!isnan(ms) && ms > s->max_ms))
	{
		if (!isnan(ms))
			s->max_ms = ms;
		free(s->sql);
		s->sql = sql;
		sql = NULL;
		stmt_set_values(s, execute ? max_param(s->sql) : 0, NULL);
		if (execute)
		{
			if (e->detail != NULL && has_prefix(e->detail, e->detail_len, "parameters: ", &l))
			{
				char	  **v;
				int			k = parse_log_params(e->detail + l, e->detail_len - l, &v);

				if (k == s->nparams)
					stmt_set_values(s, k, v);
				else
				{
					for (int i = 0; i < k; i++)
						free(v[i]);
					free(v);
				}
			}
			else
				in->pending = s;
		}
	}
	pgb_normalized_free(&norm);
	free(sql);
}

static void
log_bad(void *arg, uint64_t line, const char *text, size_t len)
{
	(void) arg;
	(void) line;
	(void) text;
	(void) len;
}

static bool
read_log(const char *path, struct adv_input *in)
{
	struct logparse_callbacks cb = {log_entry, log_bad, in};
	struct logparse_stats st;
	char		err[512];
	int			fd = open(path, O_RDONLY);
	bool		ok;

	if (fd < 0)
	{
		pd_error("could not open log file \"%s\": %s", path, strerror(errno));
		return false;
	}
	ok = logparse_fd(fd, LOGPARSE_AUTO, &cb, &st, err, sizeof(err));
	close(fd);
	if (!ok)
		pd_error("%s", err);
	return ok;
}

/* ----------------------------------------------------------- command */

static int
cmp_total_desc(const void *a, const void *b)
{
	const struct adv_stmt *x = a;
	const struct adv_stmt *y = b;

	return (x->total_ms < y->total_ms) - (x->total_ms > y->total_ms);
}

int
cmd_advise(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"from-json", required_argument, NULL, 'J'},
		{"from-log", required_argument, NULL, 'L'},
		{"top", required_argument, NULL, 'N'},
		{"json", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *dbname = NULL,
			   *from_json = NULL,
			   *from_log = NULL,
			   *json = NULL;
	long		top = ADVISE_DEFAULT_TOP;
	int			opt;
	struct adv_input in = {0};
	struct pd_advise_input *ai;
	struct pd_advice_list list = {0};
	struct pgconn_params *p;
	struct pgconn *c;
	char		err[512];
	int			n;
	int			rc = PD_EXIT_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1)
	{
		switch (opt)
		{
			case 'd':
				dbname = optarg;
				break;
			case 'J':
				from_json = optarg;
				break;
			case 'L':
				from_log = optarg;
				break;
			case 'N':
				{
					char	   *end;

					top = strtol(optarg, &end, 10);
					if (*end != '\0' || top < 1)
					{
						pd_error("invalid --top: \"%s\"", optarg);
						pd_hint("Use a positive integer.");
						return PD_EXIT_USAGE;
					}
					break;
				}
			case 'j':
				json = optarg;
				break;
			case 'h':
				advise_usage(stdout);
				return PD_EXIT_OK;
			default:
				pd_hint("Try \"perfdriver advise --help\".");
				return PD_EXIT_USAGE;
		}
	}
	if (optind < argc)
	{
		pd_error("unexpected argument \"%s\"", argv[optind]);
		pd_hint("Try \"perfdriver advise --help\".");
		return PD_EXIT_USAGE;
	}
	if ((from_json == NULL) == (from_log == NULL))
	{
		pd_error("give exactly one of --from-json and --from-log");
		pd_hint("Try \"perfdriver advise --help\".");
		return PD_EXIT_USAGE;
	}
	if (from_json ? !read_json(from_json, &in) : !read_log(from_log, &in))
	{
		input_free(&in);
		return PD_EXIT_USAGE;
	}
	p = pgconn_params_parse(dbname, err, sizeof(err));
	if (p == NULL)
	{
		pd_error("invalid connection string: %s", err);
		input_free(&in);
		return PD_EXIT_USAGE;
	}
	c = pgconn_connect_blocking(p, err, sizeof(err));
	if (c == NULL)
	{
		char		desc[512];

		pd_error("could not connect to %s: %s", pgconn_params_describe(p, desc, sizeof(desc)), err);
		pgconn_params_free(p);
		input_free(&in);
		return PD_EXIT_USAGE;
	}

	qsort(in.s, in.n, sizeof(*in.s), cmp_total_desc);
	n = in.n < top ? in.n : (int) top;
	ai = pd_calloc(n > 0 ? n : 1, sizeof(*ai));
	for (int i = 0; i < n; i++)
	{
		ai[i].fingerprint = in.s[i].fingerprint;
		ai[i].query = in.s[i].query ? in.s[i].query : in.s[i].sql;
		ai[i].sql = in.s[i].sql;
		ai[i].nparams = in.s[i].nparams;
		ai[i].values = (const char *const *) in.s[i].values;
	}
	pd_advise(c, ai, n, &list);
	{
		FILE	   *out = json && strcmp(json, "-") == 0 ? stderr : stdout;

		fprintf(out, "perfdriver advise: %d statement%s from %s\n", n, n == 1 ? "" : "s",
				from_json ? from_json : from_log);
		pd_advice_print(out, &list);
	}
	if (json != NULL)
	{
		FILE	   *f = strcmp(json, "-") == 0 ? stdout : fopen(json, "w");

		if (f == NULL)
		{
			pd_error("could not write \"%s\": %s", json, strerror(errno));
			rc = PD_EXIT_USAGE;
		}
		else
		{
			fputs("{\n  \"statements_considered\": ", f);
			fprintf(f, "%d", n);
			pd_advice_json(f, &list);
			fputs("\n}\n", f);
			if (f != stdout && fclose(f) != 0)
			{
				pd_error("could not write \"%s\": %s", json, strerror(errno));
				rc = PD_EXIT_USAGE;
			}
		}
	}
	free(ai);
	pd_advice_list_free(&list);
	pgconn_close(c);
	pgconn_params_free(p);
	input_free(&in);
	return rc;
}
