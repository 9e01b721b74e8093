/*
 * store.c
 *		The store's writer and comparison reader: one blocking session
 *		that calls perfstore.store_run(), compare_runs() and
 *		compare_to_history().
 *
 * Owns: struct pd_store, everything it sends to the store, and the
 * wording of the store's errors (the first line of the server's or libpq's
 * message, without a severity prefix).
 *
 * The session is a simple synchronous one, off the hot path, after the
 * run: it sends one large jsonb parameter inside an explicit transaction
 * and reads typed rows back, through pgconn.c's blocking helpers
 * (pgconn_connect_blocking, pgconn_exec_params), so that pgconn.c stays the
 * only file that includes libpq-fe.h.
 *
 * Must not: include libpq-fe.h, print anything (callers do), or put a
 * password into a message: a malformed conninfo is reported through
 * pgconn_params_parse(), which scrubs it, and libpq's connection and server
 * messages do not contain one.
 *
 * Memory: a struct pd_store and its connection are freed by
 * pd_store_close(); comparison rows are malloc'd and freed by
 * pd_cmp_free().
 */
#include "store.h"
#include "pgconn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pd_store
{
	struct pgconn *conn;
};

/*
 * store_msg: copy a libpq message into err: its first line, without a
 * "FATAL:  " or "ERROR:  " prefix (libpq's follow-up lines only explain it).
 */
static void
store_msg(char *err, size_t errlen, const char *msg)
{
	static const char *const prefixes[] = {"FATAL:  ", "ERROR:  "};
	size_t		len;

	if (errlen == 0)
		return;
	if (msg == NULL || msg[0] == '\0')
		msg = "unknown error";
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(msg, prefixes[i], strlen(prefixes[i])) == 0)
			msg += strlen(prefixes[i]);
	len = strcspn(msg, "\n");
	while (len > 0 && msg[len - 1] == ' ')
		len--;
	if (len >= errlen)
		len = errlen - 1;
	memcpy(err, msg, len);
	err[len] = '\0';
}

/*
 * store_result_msg: the error of a failed statement: the server's primary
 * message when there is one, else libpq's (a lost connection).  r may be
 * NULL (no result at all).
 */
static void
store_result_msg(struct pgconn *conn, const struct pgconn_result *r,
				 char *err, size_t errlen)
{
	const char *msg = r ? pgconn_result_message(r) : "";

	if (msg[0] != '\0')
		store_msg(err, errlen, msg);
	else
		store_msg(err, errlen, pgconn_error(conn));
}

/* Run one statement; true when it succeeded (r is then *out, to clear). */
static bool
store_exec(struct pd_store *st, const char *sql, int nparams,
		   const char *const *values, struct pgconn_result **out,
		   char *err, size_t errlen)
{
	struct pgconn_result *r = pgconn_exec_params(st->conn, sql, nparams, values);

	if (r == NULL || pgconn_result_status(r) != PGCONN_R_OK)
	{
		store_result_msg(st->conn, r, err, errlen);
		pgconn_result_clear(r);
		*out = NULL;
		return false;
	}
	*out = r;
	return true;
}

struct pd_store *
pd_store_connect(const char *dsn, char *err, size_t errlen)
{
	struct pgconn_params *params;
	struct pd_store *st;
	char		msg[512];

	/* a malformed conninfo is reported with the password scrubbed */
	params = pgconn_params_parse(dsn, err, errlen);
	if (params == NULL)
		return NULL;
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
		pgconn_params_set_default(params, "connect_timeout", "30");
	pgconn_params_set_default(params, "fallback_application_name", "perfdriver store");

	st = pd_calloc(1, sizeof(*st));
	st->conn = pgconn_connect_blocking(params, msg, sizeof(msg));
	pgconn_params_free(params);
	if (st->conn == NULL)
	{
		store_msg(err, errlen, msg);
		pd_store_close(st);
		return NULL;
	}
	return st;
}

void
pd_store_close(struct pd_store *st)
{
	if (st == NULL)
		return;
	pgconn_close(st->conn);
	free(st);
}

/* Run a parameterless command; false with a message on failure. */
static bool
store_command(struct pd_store *st, const char *sql, char *err, size_t errlen)
{
	struct pgconn_result *r;

	if (!store_exec(st, sql, 0, NULL, &r, err, errlen))
		return false;
	pgconn_result_clear(r);
	return true;
}

bool
pd_store_run(struct pd_store *st, const char *doc, int64_t *id, char *err,
			 size_t errlen)
{
	const char *values[1] = {doc};
	struct pgconn_result *r;
	const char *v = NULL;

	if (!store_command(st, "BEGIN", err, errlen))
		return false;
	if (!store_exec(st, "SELECT perfstore.store_run($1::jsonb)", 1, values, &r,
					err, errlen) ||
		pgconn_result_ntuples(r) != 1 || (v = pgconn_result_value(r, 0, 0)) == NULL)
	{
		if (r != NULL)
			store_msg(err, errlen, "perfstore.store_run() returned no run id");
		pgconn_result_clear(r);
		/* nothing was committed; leave the session clean if it is alive */
		if (!pgconn_is_bad(st->conn))
			pgconn_result_clear(pgconn_exec_params(st->conn, "ROLLBACK", 0, NULL));
		return false;
	}
	*id = strtoll(v, NULL, 10);
	pgconn_result_clear(r);
	return store_command(st, "COMMIT", err, errlen);
}

bool
pd_store_has_history(struct pd_store *st, int64_t candidate, bool *has,
					 char *err, size_t errlen)
{
	char		idbuf[32];
	const char *values[1] = {idbuf};
	struct pgconn_result *r = NULL;
	bool		ok;

	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) candidate);
	ok = store_exec(st,
					"SELECT EXISTS (SELECT 1 FROM perfstore.bench_runs b"
					" JOIN perfstore.bench_runs c ON c.id = $1::bigint"
					" WHERE b.name = c.name AND b.started_at < c.started_at)",
					1, values, &r, err, errlen);
	if (ok && pgconn_result_ntuples(r) != 1)
	{
		store_result_msg(st->conn, r, err, errlen);
		ok = false;
	}
	if (ok)
	{
		const char *v = pgconn_result_value(r, 0, 0);

		*has = v != NULL && strcmp(v, "t") == 0;
	}
	pgconn_result_clear(r);
	return ok;
}

static char *
dup_or_null(const struct pgconn_result *r, int row, int col)
{
	const char *v = pgconn_result_value(r, row, col);

	return v == NULL ? NULL : pd_strdup(v);
}

static double
num_or_nan(const struct pgconn_result *r, int row, int col)
{
	const char *v = pgconn_result_value(r, row, col);

	return v == NULL ? NAN : strtod(v, NULL);
}

bool
pd_store_compare(struct pd_store *st, int64_t baseline, int last_n,
				 int64_t candidate, double threshold, struct pd_cmp *out,
				 char *err, size_t errlen)
{
	char		b1[32],
				b2[32],
				b3[64];
	const char *values[3] = {b1, b2, b3};
	const char *sql;
	struct pgconn_result *r;

	memset(out, 0, sizeof(*out));
	out->candidate = candidate;
	out->baseline = baseline;
	out->last_n = last_n;
	out->threshold = threshold;
	snprintf(b3, sizeof(b3), "%.17g", threshold);
	if (last_n > 0)
	{
		snprintf(b1, sizeof(b1), "%lld", (long long) candidate);
		snprintf(b2, sizeof(b2), "%d", last_n);
		sql = "SELECT scope, fingerprint, query, metric, baseline, candidate,"
			" change, spread, verdict"
			" FROM perfstore.compare_to_history($1::bigint, $2::integer, $3::float8)";
	}
	else
	{
		snprintf(b1, sizeof(b1), "%lld", (long long) baseline);
		snprintf(b2, sizeof(b2), "%lld", (long long) candidate);
		sql = "SELECT scope, fingerprint, query, metric, baseline, candidate,"
			" change, spread, verdict"
			" FROM perfstore.compare_runs($1::bigint, $2::bigint, $3::float8)";
	}
	if (!store_exec(st, sql, 3, values, &r, err, errlen))
		return false;
	out->nrows = pgconn_result_ntuples(r);
	out->rows = pd_calloc(out->nrows, sizeof(*out->rows));
	for (int i = 0; i < out->nrows; i++)
	{
		struct pd_cmp_row *row = &out->rows[i];

		row->scope = dup_or_null(r, i, 0);
		row->fingerprint = dup_or_null(r, i, 1);
		row->query = dup_or_null(r, i, 2);
		row->metric = dup_or_null(r, i, 3);
		row->baseline = num_or_nan(r, i, 4);
		row->candidate = num_or_nan(r, i, 5);
		row->change = num_or_nan(r, i, 6);
		row->spread = num_or_nan(r, i, 7);
		row->verdict = dup_or_null(r, i, 8);
	}
	pd_cmp_set_gate(out, NULL);
	pgconn_result_clear(r);

	/* the run's name, for titles and JUnit suite names (best effort) */
	snprintf(b1, sizeof(b1), "%lld", (long long) candidate);
	r = pgconn_exec_params(st->conn,
						   "SELECT name FROM perfstore.bench_runs WHERE id = $1::bigint",
						   1, values);
	if (r != NULL && pgconn_result_status(r) == PGCONN_R_OK &&
		pgconn_result_ntuples(r) == 1)
		out->name = dup_or_null(r, 0, 0);
	pgconn_result_clear(r);
	return true;
}

void
pd_cmp_free(struct pd_cmp *c)
{
	for (int i = 0; i < c->nrows; i++)
	{
		free(c->rows[i].scope);
		free(c->rows[i].fingerprint);
		free(c->rows[i].query);
		free(c->rows[i].metric);
		free(c->rows[i].verdict);
	}
	free(c->rows);
	free(c->name);
	c->rows = NULL;
	c->name = NULL;
	c->nrows = 0;
}

bool
pd_store_flamegraph(struct pd_store *st, int64_t run_id, const char *key,
					char **packed, char **name, char **event, char *err,
					size_t errlen)
{
	char		idbuf[32];
	const char *values[2] = {idbuf, key};
	struct pgconn_result *r;

	*packed = *name = *event = NULL;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) run_id);
	if (!store_exec(st,
					"SELECT r.report -> 'flamegraph' -> $2::text ->> 'data',"
					" r.name, r.report -> 'flamegraph' ->> 'event'"
					" FROM perfstore.bench_runs r WHERE r.id = $1::bigint",
					2, values, &r, err, errlen))
		return false;
	if (pgconn_result_ntuples(r) == 0)
	{
		snprintf(err, errlen, "run %lld is not in the store", (long long) run_id);
		pgconn_result_clear(r);
		return false;
	}
	*packed = dup_or_null(r, 0, 0);
	*name = dup_or_null(r, 0, 1);
	*event = dup_or_null(r, 0, 2);
	pgconn_result_clear(r);
	return true;
}
