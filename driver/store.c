/*
 * store.c
 *		The store's writer and comparison reader: one blocking session
 *		that calls perfstore.store_run() and reads back what the
 *		regression gate (gate.c) and assertions on stored runs need.
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
#include "gate.h"
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

/* Parse a float8[] text ("{1.5,NULL,2}") into n doubles; NaN for NULL. */
static void
parse_float_array(const struct pgconn_result *res, int row, int col, double *out, int n)
{
	const char *p;

	for (int i = 0; i < n; i++)
		out[i] = NAN;
	p = pgconn_result_value(res, row, col);
	if (p == NULL)
		return;
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

/* Exec with one bigint parameter; NULL with err set unless it succeeded. */
static struct pgconn_result *
store_query_id(struct pd_store *st, const char *sql, int64_t id, char *err,
			   size_t errlen)
{
	char		b[32];
	const char *values[1] = {b};
	struct pgconn_result *res;

	snprintf(b, sizeof(b), "%lld", (long long) id);
	if (!store_exec(st, sql, 1, values, &res, err, errlen))
		return NULL;
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
	struct pgconn_result *res;
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
	if (pgconn_result_ntuples(res) != 1)
	{
		snprintf(err, errlen, "run %lld does not exist", (long long) id);
		pgconn_result_clear(res);
		return false;
	}
	r->tps = num_or_nan(res, 0, 0);
	r->ok = num_or_nan(res, 0, 1);
	r->bad = num_or_nan(res, 0, 2);
	parse_float_array(res, 0, 3, v, 9);
	qci_from(v, r->q);
	pgconn_result_clear(res);

	res = store_query_id(st,
						 "SELECT i.length_s, i.tps, perfstore.quantiles(i.latency, '{0.5,0.95,0.99}')"
						 " FROM perfstore.bench_intervals i WHERE i.run_id = $1::bigint ORDER BY i.seq",
						 id, err, errlen);
	if (res == NULL)
		return false;
	r->nint = pgconn_result_ntuples(res);
	r->int_len = pd_calloc(r->nint + 1, sizeof(double));
	r->int_tps = pd_calloc(r->nint + 1, sizeof(double));
	r->int_q = pd_calloc(3 * r->nint + 1, sizeof(double));
	for (int i = 0; i < r->nint; i++)
	{
		r->int_len[i] = num_or_nan(res, i, 0);
		r->int_tps[i] = num_or_nan(res, i, 1);
		parse_float_array(res, i, 2, &r->int_q[3 * i], 3);
	}
	pgconn_result_clear(res);

	res = store_query_id(st,
						 "SELECT s.fingerprint, s.query, coalesce(s.calls, 0), coalesce(s.errors, 0), "
						 STORE_QCI_SQL("s.latency", "coalesce(s.calls, 0)")
						 " FROM perfstore.bench_statements s WHERE s.run_id = $1::bigint",
						 id, err, errlen);
	if (res == NULL)
		return false;
	r->nstmt = pgconn_result_ntuples(res);
	r->stmts = pd_calloc(r->nstmt + 1, sizeof(*r->stmts));
	for (int i = 0; i < r->nstmt; i++)
	{
		struct pd_gate_stmt *s = &r->stmts[i];

		s->fingerprint = pd_strdup(pgconn_result_value(res, i, 0));
		s->query = dup_or_null(res, i, 1);
		s->calls = num_or_nan(res, i, 2);
		s->errors = num_or_nan(res, i, 3);
		parse_float_array(res, i, 4, v, 9);
		qci_from(v, s->q);
	}
	pgconn_result_clear(res);
	return true;
}

bool
pd_store_compare(struct pd_store *st, int64_t baseline, int last_n,
				 int64_t candidate, int64_t exclude,
				 const struct pd_gate_policy *policy,
				 struct pd_cmp *out, char *err, size_t errlen)
{
	struct pd_gate_run cand;
	struct pd_gate_run *base = NULL;
	int64_t    *ids = NULL;
	int			nbase = 0;
	bool		ok = false;
	struct pgconn_result *res;

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
	pgconn_result_clear(res);

	if (last_n > 0)
	{
		char		b1[32],
					b2[32],
					b3[32];
		const char *values[3] = {b1, b2, b3};

		snprintf(b1, sizeof(b1), "%lld", (long long) candidate);
		snprintf(b2, sizeof(b2), "%d", last_n);
		snprintf(b3, sizeof(b3), "%lld", (long long) exclude);
		/* the same runs as perfstore.compare_to_history() takes */
		if (!store_exec(st,
						"SELECT r.id FROM perfstore.bench_runs r"
						" JOIN perfstore.bench_runs c ON c.id = $1::bigint"
						" WHERE r.name = c.name AND r.started_at < c.started_at AND r.id <> c.id"
						" AND r.id <> $3::bigint"
						" ORDER BY r.started_at DESC, r.id DESC LIMIT $2::integer",
						3, values, &res, err, errlen))
			goto done;
		nbase = pgconn_result_ntuples(res);
		if (nbase == 0)
		{
			snprintf(err, errlen, "no baseline runs for run %lld: no run named \"%s\" started before it",
					 (long long) candidate, out->name ? out->name : "?");
			pgconn_result_clear(res);
			goto done;
		}
		ids = pd_calloc(nbase, sizeof(int64_t));
		for (int i = 0; i < nbase; i++)
			ids[i] = strtoll(pgconn_result_value(res, i, 0), NULL, 10);
		pgconn_result_clear(res);
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
	struct pgconn_result *res;
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
	if (pgconn_result_ntuples(res) != 1)
	{
		snprintf(err, errlen, "run %lld does not exist", (long long) id);
		pgconn_result_clear(res);
		return NULL;
	}
	doc = pd_strdup(pgconn_result_value(res, 0, 0));
	pgconn_result_clear(res);
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

/*
 * The stored run as one report document: bench_runs.report (kept without
 * its sketches) with the sketches and totals of bench_runs,
 * bench_statements and bench_intervals put back, so that a run read from the
 * store renders like the run itself.  Statements keep the report's order;
 * keys the report does not know are kept as they are.
 */
static const char fetch_run_sql[] =
	"SELECT (r.report - 'statements' - 'intervals')"
	" || pg_catalog.jsonb_build_object("
	"  'name', r.name, 'run_group', r.run_group, 'labels', r.labels, 'config', r.config,"
	"  'started_at', pg_catalog.to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),"
	"  'finished_at', pg_catalog.to_char(r.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'),"
	"  'tps', r.tps, 'transactions', r.transactions, 'failed_transactions', r.failed_transactions,"
	"  'duration_s', r.duration_s, 'errors', r.errors, 'drivers', r.drivers,"
	"  'latency_sketch', r.latency::text)"
	" || pg_catalog.jsonb_build_object('statements', coalesce((SELECT pg_catalog.jsonb_agg("
	"     coalesce(e.e, pg_catalog.jsonb_build_object('fingerprint', s.fingerprint, 'query', s.query))"
	"     || pg_catalog.jsonb_build_object('calls', s.calls, 'rows', s.rows, 'errors', s.errors,"
	"                                      'latency_sketch', s.latency::text)"
	"     ORDER BY e.o, s.fingerprint COLLATE \"C\")"
	"   FROM perfstore.bench_statements s"
	"   LEFT JOIN LATERAL (SELECT x.e, x.o FROM pg_catalog.jsonb_array_elements("
	"       CASE WHEN pg_catalog.jsonb_typeof(r.report -> 'statements') = 'array'"
	"            THEN r.report -> 'statements' ELSE '[]' END) WITH ORDINALITY x(e, o)"
	"     WHERE x.e ->> 'fingerprint' = s.fingerprint ORDER BY x.o LIMIT 1) e ON true"
	"   WHERE s.run_id = r.id), '[]'),"
	"  'intervals', coalesce((SELECT pg_catalog.jsonb_agg("
	"     coalesce(CASE WHEN pg_catalog.jsonb_typeof(r.report -> 'intervals') = 'array'"
	"                   THEN r.report -> 'intervals' -> (b.seq - 1) END, '{}')"
	"     || pg_catalog.jsonb_build_object('length_s', b.length_s, 'transactions', b.transactions,"
	"          'failed', b.failed, 'errors', b.errors, 'tps', b.tps,"
	"          'latency_sketch', b.latency::text)"
	"     ORDER BY b.seq)"
	"   FROM perfstore.bench_intervals b WHERE b.run_id = r.id), '[]'))"
	" FROM perfstore.bench_runs r WHERE r.id = $1::bigint";

bool
pd_store_fetch_run(struct pd_store *st, int64_t id, char **doc, char *err,
				   size_t errlen)
{
	char		idbuf[32];
	const char *values[1] = {idbuf};
	struct pgconn_result *r;
	const char *v;

	*doc = NULL;
	snprintf(idbuf, sizeof(idbuf), "%lld", (long long) id);
	if (!store_exec(st, fetch_run_sql, 1, values, &r, err, errlen))
		return false;
	if (pgconn_result_ntuples(r) != 1 || (v = pgconn_result_value(r, 0, 0)) == NULL)
	{
		snprintf(err, errlen, "run %lld does not exist", (long long) id);
		pgconn_result_clear(r);
		return false;
	}
	*doc = pd_strdup(v);
	pgconn_result_clear(r);
	return true;
}

/*
 * pd_store_flamegraph: the packed folded stacks stored with run_id under
 * report->'flamegraph'->key, the run's name and the perf event.
 */
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
