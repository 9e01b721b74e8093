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
#include "gate.h"
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

/* Parse a float8[] text ("{1.5,NULL,2}") into n doubles; NaN for NULL. */
static void
parse_float_array(const PGresult *res, int row, int col, double *out, int n)
{
	const char *p;

	for (int i = 0; i < n; i++)
		out[i] = NAN;
	if (PQgetisnull(res, row, col))
		return;
	p = PQgetvalue(res, row, col);
	if (*p == '{')
		p++;
	for (int i = 0; i < n && *p && *p != '}'; i++)
	{
		char	   *end;

		if (strncmp(p, "NULL", 4) == 0)
			end = (char *) p + 4;
		else
			out[i] = strtod(p, &end);
		p = end;
		if (*p == ',')
			p++;
	}
}

/*
 * The quantiles a run or statement needs: p50, p95 and p99, each with the
 * values one rank standard deviation (sqrt(q(1-q)/n)) below and above it.
 */
#define STORE_QCI_SQL(sketch, n) \
	"perfstore.quantiles(" sketch ", ARRAY(SELECT least(greatest(q + k * sqrt(q * (1 - q)" \
	" / greatest(" n ", 1)), 0), 1) FROM unnest('{0.5,0.95,0.99}'::float8[]) WITH ORDINALITY u(q, i)," \
	" unnest('{-1,0,1}'::float8[]) WITH ORDINALITY v(k, j) ORDER BY i, j))"

static void
qci_from(const double *v, struct pd_gate_qci *q)
{
	for (int i = 0; i < 3; i++)
	{
		q[i].lo = v[3 * i];
		q[i].mid = v[3 * i + 1];
		q[i].hi = v[3 * i + 2];
	}
}

/* Exec with one bigint parameter; NULL with err set unless it returned rows. */
static PGresult *
store_query_id(struct pd_store *st, const char *sql, int64_t id, char *err,
			   size_t errlen)
{
	char		b[32];
	const char *values[1] = {b};
	PGresult   *res;

	snprintf(b, sizeof(b), "%lld", (long long) id);
	res = PQexecParams(st->conn, sql, 1, NULL, values, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		store_result_msg(st->conn, res, err, errlen);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * store_fetch_run: what the gate needs of run id: its totals and quantile
 * bounds, its intervals and its statements.  False with err set when the
 * run does not exist or a query fails.
 */
static bool
store_fetch_run(struct pd_store *st, int64_t id, struct pd_gate_run *r,
				char *err, size_t errlen)
{
	PGresult   *res;
	double		v[9];

	memset(r, 0, sizeof(*r));
	r->id = id;
	res = store_query_id(st,
						 "SELECT r.tps, coalesce(r.transactions, 0), coalesce(r.failed_transactions, 0), "
						 STORE_QCI_SQL("r.latency", "coalesce(r.transactions, 0)")
						 " FROM perfstore.bench_runs r WHERE r.id = $1::bigint",
						 id, err, errlen);
	if (res == NULL)
		return false;
	if (PQntuples(res) != 1)
	{
		snprintf(err, errlen, "run %lld does not exist", (long long) id);
		PQclear(res);
		return false;
	}
	r->tps = num_or_nan(res, 0, 0);
	r->ok = num_or_nan(res, 0, 1);
	r->bad = num_or_nan(res, 0, 2);
	parse_float_array(res, 0, 3, v, 9);
	qci_from(v, r->q);
	PQclear(res);

	res = store_query_id(st,
						 "SELECT i.length_s, i.tps, perfstore.quantiles(i.latency, '{0.5,0.95,0.99}')"
						 " FROM perfstore.bench_intervals i WHERE i.run_id = $1::bigint ORDER BY i.seq",
						 id, err, errlen);
	if (res == NULL)
		return false;
	r->nint = PQntuples(res);
	r->int_len = pd_calloc(r->nint + 1, sizeof(double));
	r->int_tps = pd_calloc(r->nint + 1, sizeof(double));
	r->int_q = pd_calloc(3 * r->nint + 1, sizeof(double));
	for (int i = 0; i < r->nint; i++)
	{
		r->int_len[i] = num_or_nan(res, i, 0);
		r->int_tps[i] = num_or_nan(res, i, 1);
		parse_float_array(res, i, 2, &r->int_q[3 * i], 3);
	}
	PQclear(res);

	res = store_query_id(st,
						 "SELECT s.fingerprint, s.query, coalesce(s.calls, 0), coalesce(s.errors, 0), "
						 STORE_QCI_SQL("s.latency", "coalesce(s.calls, 0)")
						 " FROM perfstore.bench_statements s WHERE s.run_id = $1::bigint",
						 id, err, errlen);
	if (res == NULL)
		return false;
	r->nstmt = PQntuples(res);
	r->stmts = pd_calloc(r->nstmt + 1, sizeof(*r->stmts));
	for (int i = 0; i < r->nstmt; i++)
	{
		struct pd_gate_stmt *s = &r->stmts[i];

		s->fingerprint = pd_strdup(PQgetvalue(res, i, 0));
		s->query = dup_or_null(res, i, 1);
		s->calls = num_or_nan(res, i, 2);
		s->errors = num_or_nan(res, i, 3);
		parse_float_array(res, i, 4, v, 9);
		qci_from(v, s->q);
	}
	PQclear(res);
	return true;
}

bool
pd_store_compare(struct pd_store *st, int64_t baseline, int last_n,
				 int64_t candidate, const struct pd_gate_policy *policy,
				 struct pd_cmp *out, char *err, size_t errlen)
{
	struct pd_gate_run cand;
	struct pd_gate_run *base = NULL;
	int64_t    *ids = NULL;
	int			nbase = 0;
	bool		ok = false;
	PGresult   *res;

	memset(out, 0, sizeof(*out));
	out->candidate = candidate;
	out->baseline = baseline;
	out->last_n = last_n;
	if (!store_fetch_run(st, candidate, &cand, err, errlen))
	{
		if (strstr(err, "does not exist"))
			snprintf(err, errlen, "candidate run %lld does not exist", (long long) candidate);
		return false;
	}
	res = store_query_id(st, "SELECT name FROM perfstore.bench_runs WHERE id = $1::bigint",
						 candidate, err, errlen);
	if (res == NULL)
		goto done;
	out->name = dup_or_null(res, 0, 0);
	PQclear(res);

	if (last_n > 0)
	{
		char		b1[32],
					b2[32];
		const char *values[2] = {b1, b2};

		snprintf(b1, sizeof(b1), "%lld", (long long) candidate);
		snprintf(b2, sizeof(b2), "%d", last_n);
		/* the same runs as perfstore.compare_to_history() takes */
		res = PQexecParams(st->conn,
						   "SELECT r.id FROM perfstore.bench_runs r"
						   " JOIN perfstore.bench_runs c ON c.id = $1::bigint"
						   " WHERE r.name = c.name AND r.started_at < c.started_at AND r.id <> c.id"
						   " ORDER BY r.started_at DESC, r.id DESC LIMIT $2::integer",
						   2, NULL, values, NULL, NULL, 0);
		if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			store_result_msg(st->conn, res, err, errlen);
			PQclear(res);
			goto done;
		}
		nbase = PQntuples(res);
		if (nbase == 0)
		{
			snprintf(err, errlen, "no baseline runs for run %lld: no run named \"%s\" started before it",
					 (long long) candidate, out->name ? out->name : "?");
			PQclear(res);
			goto done;
		}
		ids = pd_calloc(nbase, sizeof(int64_t));
		for (int i = 0; i < nbase; i++)
			ids[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
		PQclear(res);
	}
	else
	{
		nbase = 1;
		ids = pd_calloc(1, sizeof(int64_t));
		ids[0] = baseline;
	}
	base = pd_calloc(nbase, sizeof(*base));
	for (int i = 0; i < nbase; i++)
		if (!store_fetch_run(st, ids[i], &base[i], err, errlen))
		{
			if (strstr(err, "does not exist"))
				snprintf(err, errlen, "baseline run %lld does not exist", (long long) ids[i]);
			goto done;
		}
	pd_gate_compare(policy, &cand, base, nbase, out);
	out->base_ids = ids;
	ids = NULL;
	ok = true;
done:
	pd_gate_run_free(&cand);
	for (int i = 0; base && i < nbase; i++)
		pd_gate_run_free(&base[i]);
	free(base);
	free(ids);
	if (!ok)
		pd_cmp_free(out);
	return ok;
}

char *
pd_store_run_report(struct pd_store *st, int64_t id, char *err, size_t errlen)
{
	PGresult   *res;
	char	   *doc;

	/* the report's shape (docs/perfdriver.md), rebuilt from the tables */
	res = store_query_id(st,
						 "SELECT pg_catalog.jsonb_build_object("
						 " 'tps', r.tps, 'transactions', r.transactions,"
						 " 'failed_transactions', r.failed_transactions, 'duration_s', r.duration_s,"
						 " 'latency_ms', pg_catalog.jsonb_build_object('p50', s.p50_ms, 'p95', s.p95_ms,"
						 "   'p99', s.p99_ms, 'p999', s.p999_ms, 'max', s.max_ms, 'mean', s.mean_ms),"
						 " 'scripts', coalesce(r.report -> 'scripts', '[]'::jsonb),"
						 " 'statements', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						 "     'query', t.query, 'fingerprint', t.fingerprint, 'calls', t.calls, 'errors', t.errors,"
						 "     'latency_ms', pg_catalog.jsonb_build_object('p50', t.p50_ms, 'p95', t.p95_ms,"
						 "       'p99', t.p99_ms, 'p999', (perfstore.quantiles(b.latency, '{0.999}'))[1],"
						 "       'max', t.max_ms, 'mean', t.mean_ms)) ORDER BY t.query COLLATE \"C\")"
						 "   FROM perfstore.bench_statement_summary t"
						 "   JOIN perfstore.bench_statements b ON b.run_id = t.run_id AND b.fingerprint = t.fingerprint"
						 "   WHERE t.run_id = r.id), '[]'::jsonb))"
						 " FROM perfstore.bench_runs r JOIN perfstore.bench_run_summary s ON s.id = r.id"
						 " WHERE r.id = $1::bigint",
						 id, err, errlen);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) != 1)
	{
		snprintf(err, errlen, "run %lld does not exist", (long long) id);
		PQclear(res);
		return NULL;
	}
	doc = pd_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return doc;
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
	free(c->base_ids);
	c->rows = NULL;
	c->name = NULL;
	c->base_ids = NULL;
	c->nrows = 0;
}
