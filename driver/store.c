/*
 * store.c
 *		The store's writer and comparison reader: one blocking libpq
 *		connection that calls perfstore.store_run(), compare_runs() and
 *		compare_to_history().
 *
 * Owns: struct pd_store and everything it sends to the store.
 *
 * This file and pgconn.c are the only libpq users of perfdriver.  pgconn.c
 * wraps libpq for the load itself (asynchronous connects, non-blocking
 * submission, pipelines: the hot path) and its blocking helpers take no
 * parameters.  The store wants the opposite: a simple synchronous session,
 * off the hot path, after the run, that sends one large jsonb parameter
 * inside an explicit transaction and reads typed rows back.  Keeping it here
 * leaves pgconn.c's hot-path wrapper free of it; the conninfo is still
 * parsed and scrubbed by pgconn.c first.
 *
 * Must not: print anything (callers do), or put a password into a message:
 * a malformed conninfo is reported through pgconn_params_parse(), which
 * scrubs it, and libpq's connection and server messages do not contain one.
 *
 * Memory: a struct pd_store and its PGconn are freed by pd_store_close();
 * comparison rows are malloc'd and freed by pd_cmp_free().
 */
#include "store.h"
#include "pgconn.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pd_store
{
	PGconn	   *conn;
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
 * store_result_msg: the error of a failed result: the server's primary
 * message when there is one, else libpq's (a lost connection).
 */
static void
store_result_msg(PGconn *conn, const PGresult *res, char *err, size_t errlen)
{
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (primary != NULL && PQstatus(conn) == CONNECTION_OK)
		store_msg(err, errlen, primary);
	else if (res != NULL && PQresultErrorMessage(res)[0] != '\0')
		store_msg(err, errlen, PQresultErrorMessage(res));
	else
		store_msg(err, errlen, PQerrorMessage(conn));
}

struct pd_store *
pd_store_connect(const char *dsn, char *err, size_t errlen)
{
	struct pgconn_params *params;
	const char *keys[4];
	const char *vals[4];
	int			n = 0;
	struct pd_store *st;

	/* a malformed conninfo is reported with the password scrubbed */
	params = pgconn_params_parse(dsn, err, errlen);
	if (params == NULL)
		return NULL;
	pgconn_params_free(params);

	/* later keywords win over the expanded dsn, so defaults come first */
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
	{
		keys[n] = "connect_timeout";
		vals[n++] = "30";
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "perfdriver store";
	if (dsn != NULL && dsn[0] != '\0')
	{
		keys[n] = "dbname";
		vals[n++] = dsn;
	}
	keys[n] = NULL;
	vals[n] = NULL;

	st = pd_calloc(1, sizeof(*st));
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (st->conn == NULL || PQstatus(st->conn) != CONNECTION_OK)
	{
		store_msg(err, errlen, st->conn ? PQerrorMessage(st->conn) : "out of memory");
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
	if (st->conn != NULL)
		PQfinish(st->conn);
	free(st);
}

/* Run a parameterless command; false with a message on failure. */
static bool
store_command(struct pd_store *st, const char *sql, char *err, size_t errlen)
{
	PGresult   *res = PQexec(st->conn, sql);
	bool		ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		store_result_msg(st->conn, res, err, errlen);
	PQclear(res);
	return ok;
}

bool
pd_store_run(struct pd_store *st, const char *doc, int64_t *id, char *err,
			 size_t errlen)
{
	const char *values[1] = {doc};
	PGresult   *res;

	if (!store_command(st, "BEGIN", err, errlen))
		return false;
	res = PQexecParams(st->conn, "SELECT perfstore.store_run($1::jsonb)",
					   1, NULL, values, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
		PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
	{
		if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
			store_msg(err, errlen, "perfstore.store_run() returned no run id");
		else
			store_result_msg(st->conn, res, err, errlen);
		PQclear(res);
		/* nothing was committed; leave the session clean if it is alive */
		if (PQstatus(st->conn) == CONNECTION_OK)
			PQclear(PQexec(st->conn, "ROLLBACK"));
		return false;
	}
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return store_command(st, "COMMIT", err, errlen);
}

bool
pd_store_has_history(struct pd_store *st, int64_t candidate, bool *has,
					 char *err, size_t errlen)
{
	char		idbuf[32];
	const char *values[1] = {idbuf};
	PGresult   *res;
	bool		ok;

	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) candidate);
	res = PQexecParams(st->conn,
					   "SELECT EXISTS (SELECT 1 FROM perfstore.bench_runs b"
					   " JOIN perfstore.bench_runs c ON c.id = $1::bigint"
					   " WHERE b.name = c.name AND b.started_at < c.started_at)",
					   1, NULL, values, NULL, NULL, 0);
	ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
	if (ok)
		*has = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	else
		store_result_msg(st->conn, res, err, errlen);
	PQclear(res);
	return ok;
}

static char *
dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : pd_strdup(PQgetvalue(res, row, col));
}

static double
num_or_nan(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
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
	PGresult   *res;

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
	res = PQexecParams(st->conn, sql, 3, NULL, values, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		store_result_msg(st->conn, res, err, errlen);
		PQclear(res);
		return false;
	}
	out->nrows = PQntuples(res);
	out->rows = pd_calloc(out->nrows, sizeof(*out->rows));
	for (int i = 0; i < out->nrows; i++)
	{
		struct pd_cmp_row *r = &out->rows[i];

		r->scope = dup_or_null(res, i, 0);
		r->fingerprint = dup_or_null(res, i, 1);
		r->query = dup_or_null(res, i, 2);
		r->metric = dup_or_null(res, i, 3);
		r->baseline = num_or_nan(res, i, 4);
		r->candidate = num_or_nan(res, i, 5);
		r->change = num_or_nan(res, i, 6);
		r->spread = num_or_nan(res, i, 7);
		r->verdict = dup_or_null(res, i, 8);
	}
	pd_cmp_set_gate(out, NULL);
	PQclear(res);

	/* the run's name, for titles and JUnit suite names */
	snprintf(b1, sizeof(b1), "%lld", (long long) candidate);
	res = PQexecParams(st->conn,
					   "SELECT name FROM perfstore.bench_runs WHERE id = $1::bigint",
					   1, NULL, values, NULL, NULL, 0);
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		out->name = dup_or_null(res, 0, 0);
	PQclear(res);
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
	PGresult   *res;
	bool		ok;

	*packed = *name = *event = NULL;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) run_id);
	res = PQexecParams(st->conn,
					   "SELECT r.report -> 'flamegraph' -> $2::text ->> 'data',"
					   " r.name, r.report -> 'flamegraph' ->> 'event'"
					   " FROM perfstore.bench_runs r WHERE r.id = $1::bigint",
					   2, NULL, values, NULL, NULL, 0);
	ok = res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		store_result_msg(st->conn, res, err, errlen);
	else if (PQntuples(res) == 0)
	{
		snprintf(err, errlen, "run %lld is not in the store", (long long) run_id);
		ok = false;
	}
	else
	{
		*packed = dup_or_null(res, 0, 0);
		*name = dup_or_null(res, 0, 1);
		*event = dup_or_null(res, 0, 2);
	}
	PQclear(res);
	return ok;
}
