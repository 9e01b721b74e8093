/*
 * pgconn.c
 *		The only file of perfdriver that includes libpq-fe.h.
 *
 * Owns: PGconn and PGresult lifetimes, connection parameters, and the
 * mapping of libpq's statuses onto the small enums of pgconn.h.  A COPY
 * that a statement starts is ended here (pgconn_next_result), so callers
 * never see the COPY protocol.
 *
 * Must not: print, or keep global state (several threads use it at once,
 * each on its own connections).  Passwords stay inside the parameter arrays
 * handed to libpq: nothing returned for display contains one.
 *
 * Memory: each struct pgconn carries one reusable result holder, so the hot
 * path (pgconn_next_result) does no allocation of its own besides libpq's
 * PGresult; the holder's previous PGresult is cleared when the next one is
 * fetched or when the caller clears it.
 */
#include "pgconn.h"
#include "driver.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define PGCONN_MAX_PARAMS 40

struct pgconn_params
{
	int			n;
	char	   *keywords[PGCONN_MAX_PARAMS + 1];
	char	   *values[PGCONN_MAX_PARAMS + 1];
	bool		app_defaulted;	/* fallback_application_name is ours, not
								 * the target's */
};

struct pgconn_result
{
	PGresult   *res;
	bool		conn_bad;		/* the connection was bad when fetched */
	bool		owned;			/* malloc'd (pgconn_exec), not the holder */
};

struct pgconn
{
	PGconn	   *conn;
	struct pgconn_result cur;	/* reused by pgconn_next_result */
	char		errbuf[512];
};

static void
params_set(struct pgconn_params *p, const char *key, const char *value)
{
	for (int i = 0; i < p->n; i++)
	{
		if (strcmp(p->keywords[i], key) == 0)
		{
			free(p->values[i]);
			p->values[i] = pd_strdup(value);
			return;
		}
	}
	if (p->n >= PGCONN_MAX_PARAMS)
		return;					/* libpq has fewer keywords than this */
	p->keywords[p->n] = pd_strdup(key);
	p->values[p->n] = pd_strdup(value);
	p->n++;
	p->keywords[p->n] = NULL;
	p->values[p->n] = NULL;
}

static bool
params_has(const struct pgconn_params *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->keywords[i], key) == 0)
			return true;
	return false;
}

static void
copy_trimmed(char *dst, size_t dstlen, const char *src)
{
	size_t		len;

	if (dstlen == 0)
		return;
	if (src == NULL)
		src = "";
	len = strlen(src);
	while (len > 0 && (src[len - 1] == '\n' || src[len - 1] == ' '))
		len--;
	if (len >= dstlen)
		len = dstlen - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * scrub_password: libpq's parse errors may quote a malformed value, which
 * could be the password.  Find password candidates in target ("password="
 * values and the "user:password@" part of a URI) and mask them in msg.
 */
static void
scrub_password(const char *target, char *msg)
{
	const char *cands[2][2] = {{NULL, NULL}, {NULL, NULL}};
	const char *p;

	if ((p = strstr(target, "password")) != NULL)
	{
		p += strlen("password");
		while (*p == ' ')
			p++;
		if (*p == '=')
		{
			p++;
			while (*p == ' ')
				p++;
			if (*p == '\'')
				p++;
			cands[0][0] = p;
			cands[0][1] = p + strcspn(p, " '");
		}
	}
	if ((p = strstr(target, "://")) != NULL)
	{
		const char *at = strchr(p + 3, '@');
		const char *colon = strchr(p + 3, ':');

		if (at && colon && colon < at)
		{
			cands[1][0] = colon + 1;
			cands[1][1] = at;
		}
	}
	for (int i = 0; i < 2; i++)
	{
		size_t		len;

		if (cands[i][0] == NULL || cands[i][1] <= cands[i][0])
			continue;
		len = cands[i][1] - cands[i][0];
		for (char *m = msg; *m; m++)
		{
			if (strncmp(m, cands[i][0], len) == 0)
			{
				memset(m, '*', len);
				m += len - 1;
			}
		}
	}
}

/*
 * pgconn_params_parse: see pgconn.h.  A conninfo string or URI is expanded
 * here with PQconninfoParse, so that a malformed one is reported before any
 * connection is attempted; a bare word is a database name.
 */
struct pgconn_params *
pgconn_params_parse(const char *target, char *err, size_t errlen)
{
	struct pgconn_params *p = pd_calloc(1, sizeof(*p));

	if (target != NULL && target[0] != '\0')
	{
		bool		is_conninfo = strchr(target, '=') != NULL ||
			strncmp(target, "postgresql://", 13) == 0 ||
			strncmp(target, "postgres://", 11) == 0;

		if (is_conninfo)
		{
			char	   *msg = NULL;
			PQconninfoOption *opts = PQconninfoParse(target, &msg);

			if (opts == NULL)
			{
				copy_trimmed(err, errlen, msg ? msg : "out of memory");
				scrub_password(target, err);
				if (msg)
					PQfreemem(msg);
				free(p);
				return NULL;
			}
			for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
				if (o->val != NULL)
					params_set(p, o->keyword, o->val);
			PQconninfoFree(opts);
		}
		else
			params_set(p, "dbname", target);
	}
	if (!params_has(p, "fallback_application_name"))
	{
		params_set(p, "fallback_application_name", "perfdriver");
		p->app_defaulted = true;
	}
	return p;
}

struct pgconn_params *
pgconn_params_with_dbname(const struct pgconn_params *p, const char *dbname)
{
	struct pgconn_params *q = pd_calloc(1, sizeof(*q));

	for (int i = 0; i < p->n; i++)
		params_set(q, p->keywords[i], p->values[i]);
	params_set(q, "dbname", dbname);
	q->app_defaulted = p->app_defaulted;
	return q;
}

void
pgconn_params_set_default(struct pgconn_params *p, const char *key,
						  const char *value)
{
	if (strcmp(key, "fallback_application_name") == 0 && p->app_defaulted)
		params_set(p, key, value);
	else if (!params_has(p, key))
		params_set(p, key, value);
}

void
pgconn_params_free(struct pgconn_params *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->n; i++)
	{
		free(p->keywords[i]);
		/* do not leave a password lying around in freed memory */
		if (p->values[i])
			memset(p->values[i], 0, strlen(p->values[i]));
		free(p->values[i]);
	}
	free(p);
}

/*
 * pgconn_params_describe: the effective host, port, database and user,
 * taking PG* variables into account through PQconndefaults().  Passwords
 * are never consulted.
 */
char *
pgconn_params_describe(const struct pgconn_params *p, char *buf, size_t buflen)
{
	static const char *const shown[] = {"host", "hostaddr", "port", "dbname", "user"};
	PQconninfoOption *defs = PQconndefaults();
	size_t		used = 0;

	if (buflen == 0)
		return buf;
	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++)
	{
		const char *val = NULL;

		for (int i = 0; i < p->n; i++)
			if (strcmp(p->keywords[i], shown[k]) == 0)
				val = p->values[i];
		if (val == NULL && defs != NULL)
			for (PQconninfoOption *o = defs; o->keyword != NULL; o++)
				if (strcmp(o->keyword, shown[k]) == 0)
					val = o->val;
		/* libpq's default database is the user name */
		if (val == NULL && strcmp(shown[k], "dbname") == 0)
			continue;
		if (val == NULL || val[0] == '\0')
			continue;
		/* a dbname that is itself a conninfo could hold a password */
		if (strchr(val, '=') != NULL || strstr(val, "://") != NULL)
			val = "...";
		int			w = snprintf(buf + used, buflen - used, "%s%s=%s",
								 used ? " " : "", shown[k], val);

		if (w < 0 || (size_t) w >= buflen - used)
			break;
		used += w;
	}
	if (defs)
		PQconninfoFree(defs);
	return buf;
}

/*
 * Notices (and the FATAL a server sends to an idle session before closing
 * it) would otherwise be printed by libpq's default processor; errors that
 * matter reach the caller through results.
 */
static void
quiet_notice(void *arg, const char *message)
{
	(void) arg;
	(void) message;
}

struct pgconn *
pgconn_start(const struct pgconn_params *p)
{
	struct pgconn *c = pd_calloc(1, sizeof(*c));

	c->conn = PQconnectStartParams((const char *const *) p->keywords,
								   (const char *const *) p->values, 0);
	if (c->conn == NULL)
		pd_out_of_memory();
	PQsetNoticeProcessor(c->conn, quiet_notice, NULL);
	return c;
}

pgconn_poll
pgconn_connect_poll(struct pgconn *c)
{
	if (PQstatus(c->conn) == CONNECTION_BAD)
		return PGCONN_POLL_FAILED;
	switch (PQconnectPoll(c->conn))
	{
		case PGRES_POLLING_READING:
			return PGCONN_POLL_READ;
		case PGRES_POLLING_WRITING:
			return PGCONN_POLL_WRITE;
		case PGRES_POLLING_OK:
			if (PQsetnonblocking(c->conn, 1) != 0)
				return PGCONN_POLL_FAILED;
			return PGCONN_POLL_OK;
		default:
			return PGCONN_POLL_FAILED;
	}
}

struct pgconn *
pgconn_connect_blocking(const struct pgconn_params *p, char *err, size_t errlen)
{
	struct pgconn *c = pd_calloc(1, sizeof(*c));

	c->conn = PQconnectdbParams((const char *const *) p->keywords,
								(const char *const *) p->values, 0);
	if (c->conn == NULL || PQstatus(c->conn) != CONNECTION_OK)
	{
		copy_trimmed(err, errlen, c->conn ? PQerrorMessage(c->conn) : "out of memory");
		pgconn_close(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->conn, quiet_notice, NULL);
	return c;
}

void
pgconn_close(struct pgconn *c)
{
	if (c == NULL)
		return;
	if (c->cur.res)
		PQclear(c->cur.res);
	if (c->conn)
		PQfinish(c->conn);
	free(c);
}

int
pgconn_socket(const struct pgconn *c)
{
	return PQsocket(c->conn);
}

const char *
pgconn_error(struct pgconn *c)
{
	copy_trimmed(c->errbuf, sizeof(c->errbuf), PQerrorMessage(c->conn));
	return c->errbuf;
}

bool
pgconn_is_bad(const struct pgconn *c)
{
	return PQstatus(c->conn) == CONNECTION_BAD;
}

int
pgconn_server_version(const struct pgconn *c)
{
	return PQserverVersion(c->conn);
}

pgconn_txn
pgconn_txn_status(const struct pgconn *c)
{
	switch (PQtransactionStatus(c->conn))
	{
		case PQTRANS_IDLE:
			return PGCONN_TXN_IDLE;
		case PQTRANS_ACTIVE:
			return PGCONN_TXN_ACTIVE;
		case PQTRANS_INTRANS:
			return PGCONN_TXN_INTRANS;
		case PQTRANS_INERROR:
			return PGCONN_TXN_INERROR;
		default:
			return PGCONN_TXN_UNKNOWN;
	}
}

bool
pgconn_send_simple(struct pgconn *c, const char *sql)
{
	return PQsendQuery(c->conn, sql) == 1;
}

bool
pgconn_send_params(struct pgconn *c, const char *sql, int nparams,
				   const char *const *values)
{
	return PQsendQueryParams(c->conn, sql, nparams, NULL, values, NULL, NULL, 0) == 1;
}

bool
pgconn_send_prepare(struct pgconn *c, const char *name, const char *sql,
					int nparams)
{
	return PQsendPrepare(c->conn, name, sql, nparams, NULL) == 1;
}

bool
pgconn_send_prepared(struct pgconn *c, const char *name, int nparams,
					 const char *const *values)
{
	return PQsendQueryPrepared(c->conn, name, nparams, values, NULL, NULL, 0) == 1;
}

int
pgconn_flush(struct pgconn *c)
{
	return PQflush(c->conn);
}

bool
pgconn_consume(struct pgconn *c)
{
	return PQconsumeInput(c->conn) == 1;
}

bool
pgconn_busy(struct pgconn *c)
{
	return PQisBusy(c->conn) == 1;
}

bool
pgconn_pipeline_enter(struct pgconn *c)
{
	return PQenterPipelineMode(c->conn) == 1;
}

bool
pgconn_pipeline_sync(struct pgconn *c)
{
	return PQpipelineSync(c->conn) == 1;
}

bool
pgconn_pipeline_exit(struct pgconn *c)
{
	return PQexitPipelineMode(c->conn) == 1;
}

bool
pgconn_in_pipeline(const struct pgconn *c)
{
	return PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF;
}

/*
 * pgconn_leave_copy: end the COPY that res started, so the connection
 * returns to normal: COPY FROM STDIN is failed with a message the server
 * reports back as the command's error; the data of COPY TO STDOUT is read
 * and discarded, as a query's rows are.  Blocks until done (the connection
 * is switched to blocking mode meanwhile): scripts cannot normally start a
 * COPY (the parser refuses it), this is the path of SQL built at run time.
 * Returns false when the connection failed.
 */
static bool
pgconn_leave_copy(struct pgconn *c, const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	bool		ok = true;
	int			nonblocking = PQisnonblocking(c->conn);

	if (nonblocking)
		(void) PQsetnonblocking(c->conn, 0);
	if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH)
		ok = PQputCopyEnd(c->conn, "COPY FROM STDIN is not supported in scripts") == 1 &&
			PQflush(c->conn) == 0;
	if (ok && (st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH))
	{
		char	   *buf;
		int			n;

		while ((n = PQgetCopyData(c->conn, &buf, 0)) > 0)
			PQfreemem(buf);
		ok = n == -1;
	}
	if (nonblocking)
		(void) PQsetnonblocking(c->conn, 1);
	return ok;
}

struct pgconn_result *
pgconn_next_result(struct pgconn *c)
{
	PGresult   *res;

	if (c->cur.res)
	{
		PQclear(c->cur.res);
		c->cur.res = NULL;
	}
	res = PQgetResult(c->conn);
	/*
	 * A COPY result repeats until the COPY ends: end it here and go on with
	 * the command's real outcome.  If that fails, the COPY result is passed
	 * on (reported as unsupported) with the connection marked bad.
	 */
	while (res != NULL && (PQresultStatus(res) == PGRES_COPY_OUT ||
						   PQresultStatus(res) == PGRES_COPY_IN ||
						   PQresultStatus(res) == PGRES_COPY_BOTH))
	{
		if (!pgconn_leave_copy(c, res))
			break;
		PQclear(res);
		res = PQgetResult(c->conn);
	}
	if (res == NULL)
		return NULL;
	c->cur.res = res;
	c->cur.conn_bad = PQstatus(c->conn) == CONNECTION_BAD;
	c->cur.owned = false;
	return &c->cur;
}

void
pgconn_result_clear(struct pgconn_result *r)
{
	if (r == NULL)
		return;
	if (r->res)
		PQclear(r->res);
	r->res = NULL;
	if (r->owned)
		free(r);
}

pgconn_rstatus
pgconn_result_status(const struct pgconn_result *r)
{
	switch (PQresultStatus(r->res))
	{
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			return PGCONN_R_OK;
		case PGRES_FATAL_ERROR:
		case PGRES_NONFATAL_ERROR:
		case PGRES_BAD_RESPONSE:
			return PGCONN_R_ERROR;
		case PGRES_PIPELINE_SYNC:
			return PGCONN_R_PIPELINE_SYNC;
		case PGRES_PIPELINE_ABORTED:
			return PGCONN_R_PIPELINE_ABORTED;
		case PGRES_COPY_IN:
		case PGRES_COPY_OUT:
		case PGRES_COPY_BOTH:
			return PGCONN_R_COPY;
		default:
			return PGCONN_R_OTHER;
	}
}

const char *
pgconn_result_sqlstate(const struct pgconn_result *r)
{
	const char *s = PQresultErrorField(r->res, PG_DIAG_SQLSTATE);

	if (s != NULL && s[0] != '\0')
		return s;
	return r->conn_bad ? "08006" : "XX000";
}

const char *
pgconn_result_message(const struct pgconn_result *r)
{
	const char *s = PQresultErrorField(r->res, PG_DIAG_MESSAGE_PRIMARY);

	if (s == NULL)
		s = PQresultErrorMessage(r->res);
	return s ? s : "";
}

uint64_t
pgconn_result_rows(const struct pgconn_result *r)
{
	const char *t;

	if (PQresultStatus(r->res) == PGRES_TUPLES_OK)
		return (uint64_t) PQntuples(r->res);
	t = PQcmdTuples(r->res);
	return (t && t[0]) ? strtoull(t, NULL, 10) : 0;
}

int
pgconn_result_ntuples(const struct pgconn_result *r)
{
	return PQntuples(r->res);
}

int
pgconn_result_nfields(const struct pgconn_result *r)
{
	return PQnfields(r->res);
}

const char *
pgconn_result_fname(const struct pgconn_result *r, int col)
{
	return PQfname(r->res, col);
}

const char *
pgconn_result_value(const struct pgconn_result *r, int row, int col)
{
	if (PQgetisnull(r->res, row, col))
		return NULL;
	return PQgetvalue(r->res, row, col);
}

static void
format_result_error(PGresult *res, PGconn *conn, char *err, size_t errlen)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (msg == NULL)
	{
		copy_trimmed(err, errlen, PQerrorMessage(conn));
		return;
	}
	if (state)
		snprintf(err, errlen, "%s (SQLSTATE %s)", msg, state);
	else
		snprintf(err, errlen, "%s", msg);
}

bool
pgconn_exec(struct pgconn *c, const char *sql, struct pgconn_result **out,
			char *err, size_t errlen)
{
	PGresult   *res;
	PGresult   *last = NULL;
	bool		ok = true;

	if (out)
		*out = NULL;
	if (!PQsendQuery(c->conn, sql))
	{
		copy_trimmed(err, errlen, PQerrorMessage(c->conn));
		return false;
	}
	while ((res = PQgetResult(c->conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (ok && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
			st != PGRES_EMPTY_QUERY)
		{
			format_result_error(res, c->conn, err, errlen);
			ok = false;
		}
		if (last)
			PQclear(last);
		last = res;
	}
	if (ok && out && last && PQresultStatus(last) == PGRES_TUPLES_OK)
	{
		struct pgconn_result *r = pd_calloc(1, sizeof(*r));

		r->res = last;
		r->owned = true;
		*out = r;
		last = NULL;
	}
	if (last)
		PQclear(last);
	return ok;
}

struct pgconn_result *
pgconn_exec_params(struct pgconn *c, const char *sql, int nparams,
				   const char *const *values)
{
	PGresult   *res;
	struct pgconn_result *r;

	if (nparams == 0)
		res = PQexec(c->conn, sql);
	else
		res = PQexecParams(c->conn, sql, nparams, NULL, values, NULL, NULL, 0);
	if (res == NULL)
		return NULL;
	r = pd_calloc(1, sizeof(*r));
	r->res = res;
	r->owned = true;
	r->conn_bad = PQstatus(c->conn) == CONNECTION_BAD;
	return r;
}

bool
pgconn_copy_begin(struct pgconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult   *res = PQexec(c->conn, sql);
	bool		ok = res && PQresultStatus(res) == PGRES_COPY_IN;

	if (!ok)
		format_result_error(res, c->conn, err, errlen);
	PQclear(res);
	return ok;
}

bool
pgconn_copy_put(struct pgconn *c, const char *data, size_t len, char *err,
				size_t errlen)
{
	if (PQputCopyData(c->conn, data, (int) len) != 1)
	{
		copy_trimmed(err, errlen, PQerrorMessage(c->conn));
		return false;
	}
	return true;
}

bool
pgconn_copy_end(struct pgconn *c, char *err, size_t errlen)
{
	PGresult   *res;
	bool		ok = true;

	if (PQputCopyEnd(c->conn, NULL) != 1)
	{
		copy_trimmed(err, errlen, PQerrorMessage(c->conn));
		return false;
	}
	while ((res = PQgetResult(c->conn)) != NULL)
	{
		if (ok && PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			format_result_error(res, c->conn, err, errlen);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

char *
pgconn_quote_ident(const char *s)
{
	size_t		len = strlen(s);
	char	   *out = pd_malloc(2 * len + 3);
	char	   *o = out;

	*o++ = '"';
	for (const char *p = s; *p; p++)
	{
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

char *
pgconn_quote_literal(struct pgconn *c, const char *s)
{
	char	   *q;
	char	   *out;

	if (s == NULL)
		return pd_strdup("NULL");
	q = PQescapeLiteral(c->conn, s, strlen(s));
	if (q == NULL)
	{
		/* only out-of-memory or an encoding error: quote by hand then */
		size_t		len = strlen(s);
		char	   *o;

		out = pd_malloc(2 * len + 4);
		o = out;
		*o++ = '\'';
		for (const char *p = s; *p; p++)
		{
			if (*p == '\'')
				*o++ = '\'';
			*o++ = *p;
		}
		*o++ = '\'';
		*o = '\0';
		return out;
	}
	out = pd_strdup(q);
	PQfreemem(q);
	return out;
}

int
pgconn_backend_pid(const struct pgconn *c)
{
	return c && c->conn ? PQbackendPID(c->conn) : 0;
}

int
pgconn_libpq_version(void)
{
	return PQlibVersion();
}
