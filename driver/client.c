/*
 * client.c
 *		The clients of "perfdriver run": each client's state machine and
 *		the worker thread that multiplexes its clients' sockets.
 *
 * Owns: how a client executes a script (meta-commands, SQL in simple,
 * extended and prepared protocol, pipelines, retries of 40001/40P01,
 * rollback after errors, the open-loop -R schedule), feeding each executed
 * statement to the client's N+1 unit (nplus1.c; one detector per thread,
 * merged after the run), counting what it measures into its thread's
 * struct pd_stats and interval accumulator, and the worker thread's loop:
 * each thread multiplexes its clients' sockets in one epoll set,
 * registered once per connection rather than rebuilt per wakeup.  The hot
 * path of a run is in this file alone.
 *
 * Must not: include libpq-fe.h (pgconn.c wraps it), block a worker thread
 * anywhere but in epoll_pwait2(), or print a password.  It does not start,
 * stop or join threads, or set the run's start and deadline: cmd_run.c
 * does.
 *
 * Memory: nothing is allocated while the clock runs, except the sketches
 * growing within their bounded bucket count and libpq's own buffers:
 * nothing is kept per transaction (an N+1 unit has a fixed size and its
 * pattern table a fixed cap), so memory does not grow with the length of
 * the run.  client_init() allocates a client's buffers before the run and
 * client_free() releases them.
 */
#define _GNU_SOURCE				/* ppoll, epoll_pwait2 */
#include "client.h"
#include "affinity.h"
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLIENT_ERRLEN		1024
#define MAX_PRINTED_ERRORS	5

/*
 * At the -T deadline no transaction starts, but those under way may finish
 * for this long, so that every transaction the server committed is counted
 * (committed transactions then equal, for example, rows added to
 * pgbench_history).  SIGINT abandons them at once.
 */
#define DEADLINE_GRACE_NS (5 * 1000000000LL)

/* --------------------------------------------------------- measurements */

static void
iv_add_txn(struct thread_ctx *th, double lat_ms, double lag_ms, bool rate)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.transactions++;
	pd_sketch_add(&th->iv.lat, lat_ms);
	if (rate)
		pd_sketch_add(&th->iv.lag, lag_ms);
	pthread_mutex_unlock(&th->iv_lock);
}

static void
iv_add_failed(struct thread_ctx *th)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.failed++;
	pthread_mutex_unlock(&th->iv_lock);
}

static void
iv_add_error(struct thread_ctx *th)
{
	pthread_mutex_lock(&th->iv_lock);
	th->iv.errors++;
	pthread_mutex_unlock(&th->iv_lock);
}

static bool
retryable(const char *sqlstate)
{
	return strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0;
}

/*
 * client_report_error: count one error occurrence by SQLSTATE and print
 * the first few of the run, so a broken script is visible at once.
 */
static void
client_report_error(struct client *c, int cmd, const char *sqlstate,
					const char *msg)
{
	struct thread_ctx *th = c->th;
	struct run *run = th->run;
	const struct pgb_script *s = run->o->scripts[c->script];
	int			n;

	pd_errmap_add(&th->stats.errors, sqlstate, 1);
	if (cmd >= 0 && th->stats.scripts[c->script].stmts[cmd].lat != NULL)
		th->stats.scripts[c->script].stmts[cmd].errors++;
	iv_add_error(th);
	if (!c->failed)
	{
		c->failed = true;
		c->err_cmd = cmd;
		snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", sqlstate);
	}
	/* a serialization failure or deadlock that will be retried is routine */
	if (run->o->max_tries > 1 && retryable(sqlstate))
		return;
	n = atomic_fetch_add(&run->printed_errors, 1);
	/* the script layer's messages already start with "file:line:" */
	if (n < MAX_PRINTED_ERRORS &&
		strncmp(msg, s->name, strlen(s->name)) == 0 && msg[strlen(s->name)] == ':')
		fprintf(stderr, "perfdriver: client %d: %.*s%s\n", c->id,
				(int) strcspn(msg, "\n"), msg,
				n == MAX_PRINTED_ERRORS - 1 ? "; further errors are only counted" : "");
	else if (n < MAX_PRINTED_ERRORS)
		fprintf(stderr, "perfdriver: client %d: %s:%d: %.*s (SQLSTATE %s)%s\n",
				c->id, s->name, cmd >= 0 ? s->commands[cmd].line : 0,
				(int) strcspn(msg, "\n"), msg, sqlstate,
				n == MAX_PRINTED_ERRORS - 1 ? "; further errors are only counted" : "");
}

/* ------------------------------------------------------- client machine */

static void client_step(struct client *c, int64_t now);
static void txlog_write(struct client *c, int64_t now, const char *what);

static struct pgconn *
cconn(struct client *c)
{
	return c->pc->conn;
}

/* Mark the client's connection lost; the transaction fails. */
static void
client_lost(struct client *c, int cmd, const char *sqlstate, const char *msg)
{
	struct thread_ctx *th = c->th;
	int64_t		now = pd_now_ns();

	if (!c->failed)
		client_report_error(c, cmd, sqlstate, msg);
	if (c->state != CS_CHOOSE && c->state != CS_THROTTLE)
	{
		th->stats.failed++;
		th->stats.scripts[c->script].failed++;
		iv_add_failed(th);
		c->done_txns++;
	}
	pool_conn_lost(c->pc, now);
	if (th->run->obs)
	{
		pd_observe_client_running(th->run->obs, c->id, -1);
		pd_observe_client_pid(th->run->obs, c->id, 0);
	}
	c->ep_fd = -1;				/* closed: the epoll set dropped it */
	c->ep_mute = false;
	nplus1_unit_reset(c->npu);
	c->in_pipeline = false;
	c->syncing = false;
	c->npend = c->pend_head = 0;
	c->need_flush = false;
	c->preparing = false;
	c->state = CS_RECONNECT;
}

static void
client_lost_conn(struct client *c, int cmd)
{
	char		msg[256];

	snprintf(msg, sizeof(msg), "%s", pgconn_error(cconn(c)));
	if (msg[0] == '\0')
		snprintf(msg, sizeof(msg), "connection lost");
	client_lost(c, cmd, "08006", msg);
}

/* The transaction ended, committed or failed. */
static void
client_end_txn(struct client *c, int64_t now)
{
	struct thread_ctx *th = c->th;
	struct pd_script_stats *ss = &th->stats.scripts[c->script];
	bool		rate = th->run->o->rate > 0;

	c->done_txns++;
	if (c->failed)
	{
		ss->failed++;
		th->stats.failed++;
		iv_add_failed(th);
		txlog_write(c, now, "failed");
	}
	else
	{
		double		lat = (now - c->sched_ns) / PD_NS_PER_MS;
		double		lag = (c->txn_start_ns - c->sched_ns) / PD_NS_PER_MS;
		double		limit = th->run->o->latency_limit_ms;

		ss->transactions++;
		th->stats.transactions++;
		/* the run's sketch is the merge of its scripts' (pd_stats_merge) */
		pd_sketch_add(&ss->lat, lat);
		if (rate)
			pd_sketch_add(&th->stats.lag, lag);
		iv_add_txn(th, lat, lag, rate);
		if (limit > 0 && lat > limit)
			th->stats.late++;
		txlog_write(c, now, NULL);
		c->repeats = 0;
	}
	if (c->tries > 1)
	{
		ss->retried++;
		ss->retries += c->tries - 1;
	}
	nplus1_unit_end(c->npu);
	c->state = CS_CHOOSE;
}

/*
 * txlog_write: one line of the -l log in pgbench's format: client_id
 * transaction_no time script_no time_epoch time_us [schedule_lag
 * [retries]], where time is the latency in microseconds, or "failed" or
 * "skipped"; schedule_lag only with -R, retries only with --max-tries
 * other than 1.  Transactions are numbered from 1 per client.
 */
static void
txlog_write(struct client *c, int64_t now, const char *what)
{
	struct thread_ctx *th = c->th;
	const struct run_opts *o = th->run->o;
	int64_t		wall_us = (now + th->txlog_epoch_ns) / 1000;

	if (th->txlog == NULL)
		return;
	fprintf(th->txlog, "%d %lld ", c->id, (long long) c->done_txns);
	if (what != NULL)
		fputs(what, th->txlog);
	else
		fprintf(th->txlog, "%.0f", (now - c->sched_ns) / 1000.0);
	fprintf(th->txlog, " %d %lld %lld", c->script, (long long) (wall_us / 1000000),
			(long long) (wall_us % 1000000));
	if (o->rate > 0)
		fprintf(th->txlog, " %.0f", what != NULL && strcmp(what, "skipped") == 0
				? (now - c->sched_ns) / 1000.0 : (c->txn_start_ns - c->sched_ns) / 1000.0);
	if (o->max_tries != 1)
		fprintf(th->txlog, " %d", c->tries > 0 ? c->tries - 1 : 0);
	fputc('\n', th->txlog);
}

/*
 * client_error_policy: after a transaction that failed for good.  As in
 * pgbench, an error that is not a serialization failure or deadlock aborts
 * the client (it would fail the same way on every transaction); with
 * --continue-on-error the client goes on, but the same failure (SQLSTATE
 * and command) in a row delays its next transaction, doubling from 1 ms
 * up to 1 s, so that a broken statement cannot flood the server's log.
 */
static void
client_error_policy(struct client *c, int64_t now)
{
	struct thread_ctx *th = c->th;
	const struct run_opts *o = th->run->o;

	if (retryable(c->sqlstate))
		return;
	if (!o->continue_on_error)
	{
		int			n = atomic_fetch_add(&th->run->printed_aborts, 1);

		th->stats.aborted_clients++;
		if (n < MAX_PRINTED_ERRORS)
			fprintf(stderr, "perfdriver: client %d aborted after a non-retryable error (SQLSTATE %s)%s\n",
					c->id, c->sqlstate,
					n == MAX_PRINTED_ERRORS - 1 ? "; further aborts are only counted" : "");
		c->state = CS_DONE;
		return;
	}
	if (c->repeats > 0 && c->err_cmd == c->last_err_cmd &&
		strcmp(c->sqlstate, c->last_sqlstate) == 0)
		c->repeats++;
	else
		c->repeats = 1;
	c->last_err_cmd = c->err_cmd;
	snprintf(c->last_sqlstate, sizeof(c->last_sqlstate), "%s", c->sqlstate);
	if (c->repeats >= 2)
	{
		int			k = c->repeats - 2;
		int64_t		d = k >= 10 ? 1000 * INT64_C(1000000) : (int64_t) INT64_C(1000000) << k;

		c->backoff_ns = now + d;
	}
}

/*
 * client_after_error: the failed command's results are drained and any
 * transaction block is rolled back: retry the transaction or give up.
 */
static void
client_after_error(struct client *c, int64_t now)
{
	if (retryable(c->sqlstate) && c->tries < c->th->run->o->max_tries)
	{
		c->tries++;
		nplus1_unit_reset(c->npu);
		c->failed = false;
		c->sqlstate[0] = '\0';
		c->rng = c->rng_saved;
		c->cmd = 0;
		c->state = CS_CMD;
		return;
	}
	client_end_txn(c, now);
	client_error_policy(c, now);
}

/* Send ROLLBACK when the error left a transaction block open. */
static void
client_handle_error(struct client *c, int64_t now)
{
	pgconn_txn ts = pgconn_txn_status(cconn(c));

	if (ts == PGCONN_TXN_INERROR || ts == PGCONN_TXN_INTRANS)
	{
		if (!pgconn_send_simple(cconn(c), "ROLLBACK"))
		{
			client_lost_conn(c, -1);
			return;
		}
		c->state = CS_ROLLBACK;
		c->need_flush = false;
		int			f = pgconn_flush(cconn(c));

		if (f < 0)
			client_lost_conn(c, -1);
		else
			c->need_flush = f == 1;
		return;
	}
	client_after_error(c, now);
}

/*
 * client_fail: a script evaluation error (\set, \sleep, \if, pipeline
 * misuse).  These repeat on every transaction, so, as pgbench does, the
 * client is aborted: its transaction counts as failed and it stops.
 */
static void
client_fail(struct client *c, int cmd, const char *msg)
{
	struct thread_ctx *th = c->th;

	client_report_error(c, cmd, "client", msg);
	th->stats.failed++;
	th->stats.scripts[c->script].failed++;
	th->stats.aborted_clients++;
	iv_add_failed(th);
	fprintf(stderr, "perfdriver: client %d aborted\n", c->id);
	c->state = CS_DONE;
}

/* Append len bytes of src to buf at *off, truncating; keeps it terminated. */
static inline void
np_append(char *buf, size_t size, size_t *off, const char *src, size_t len)
{
	if (*off + 1 >= size)
		return;
	if (len > size - 1 - *off)
		len = size - 1 - *off;
	memcpy(buf + *off, src, len);
	*off += len;
	buf[*off] = '\0';
}

/*
 * client_np_digest: the N+1 digest of a statement's parameter values into
 * c->np_hash and c->np_params (a hash over the values as sent, and their
 * text, "v1, v2, ...", cut to fit), taken for command cmdidx.
 */
static void
client_np_digest(struct client *c, int cmdidx, int nparams,
				 const char *const *values)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);
	size_t		off = 0;

	c->np_params[0] = '\0';
	for (int i = 0; i < nparams; i++)
	{
		const char *v = values[i] ? values[i] : "NULL";

		for (const unsigned char *p = (const unsigned char *) v; *p; p++)
		{
			h ^= *p;
			h *= UINT64_C(0x100000001b3);
		}
		h ^= 0xff;
		h *= UINT64_C(0x100000001b3);
		/* no snprintf on this path */
		if (i > 0)
			np_append(c->np_params, sizeof(c->np_params), &off, ", ", 2);
		np_append(c->np_params, sizeof(c->np_params), &off, v, strlen(v));
	}
	c->np_hash = nparams > 0 ? h : 0;
	c->np_cmd = cmdidx;
}

/*
 * client_send_sql: send the SQL command at c->cmd.  Returns false when the
 * client's state changed because of a failure (lost connection).  The
 * parameter values are looked up once, for the query and, outside a
 * pipeline, for the statement's N+1 digest.
 */
static bool
client_send_sql(struct client *c, const struct pgb_command *cmd, int64_t now)
{
	struct run *run = c->th->run;
	struct pgconn *conn = cconn(c);
	pd_query_mode mode = run->o->mode;
	bool		ok;
	int			pidx = run->cmd_offset[c->script] + c->cmd;
	const char *name;

	if (c->pc->generation != c->conn_gen)
	{
		memset(c->prepared, 0, run->total_commands * sizeof(bool));
		c->conn_gen = c->pc->generation;
	}
	c->rows = 0;
	c->gset_ntuples = -1;
	c->cmd_start_ns = now;
	if (run->obs)
		pd_observe_client_running(run->obs, c->id,
								  pd_observe_stmt(run->obs, c->script, c->cmd));
	pgb_command_params(cmd, c->vars, c->params);
	c->np_cmd = -1;
	if (!c->in_pipeline && !run->np_skip[pidx])
		client_np_digest(c, c->cmd, cmd->nparams, c->params);
	if (mode == PD_QM_SIMPLE || cmd->multi)
	{
		const char *sql = pgb_command_simple_sql(cmd, c->params, &c->sqlbuf,
												 &c->sqlsize);

		ok = pgconn_send_simple(conn, sql);
	}
	else
	{
		if (mode == PD_QM_EXTENDED)
			ok = pgconn_send_params(conn, cmd->param_sql, cmd->nparams, c->params);
		else
		{
			name = run->stmt_names[pidx];
			if (!c->prepared[pidx])
			{
				ok = pgconn_send_prepare(conn, name, cmd->param_sql, cmd->nparams);
				if (ok && c->in_pipeline)
				{
					struct pending *p = &c->pend[c->npend++];

					memset(p, 0, sizeof(*p));
					p->cmd = c->cmd;
					p->prepare = true;
					p->sent_ns = now;
					c->prepared[pidx] = true;
					ok = pgconn_send_prepared(conn, name, cmd->nparams, c->params);
				}
				else if (ok)
					c->preparing = true;
			}
			else
				ok = pgconn_send_prepared(conn, name, cmd->nparams, c->params);
		}
	}
	if (!ok)
	{
		if (pgconn_is_bad(conn))
			client_lost_conn(c, c->cmd);
		else
		{
			client_report_error(c, c->cmd, "XX000", pgconn_error(conn));
			if (c->in_pipeline)
				client_lost(c, -1, "XX000", "pipeline broken");
			else
				client_handle_error(c, now);
		}
		return false;
	}
	if (c->in_pipeline)
	{
		struct pending *p = &c->pend[c->npend++];

		memset(p, 0, sizeof(*p));
		p->cmd = c->cmd;
		p->sent_ns = now;
	}
	int			f = pgconn_flush(conn);

	if (f < 0)
	{
		client_lost_conn(c, c->cmd);
		return false;
	}
	c->need_flush = f == 1;
	return true;
}

/* Store \gset / \aset columns of row 0 of r. */
static bool
client_gset(struct client *c, const struct pgb_command *cmd,
			const struct pgconn_result *r, char *err, size_t errlen)
{
	int			nf = pgconn_result_nfields(r);

	for (int f = 0; f < nf; f++)
		if (!pgb_vars_set_prefixed(c->vars, cmd->gset_prefix,
								   pgconn_result_fname(r, f),
								   pgconn_result_value(r, 0, f), err, errlen))
			return false;
	return true;
}

/*
 * client_take_result: account one result of the command at cmdidx.
 * Returns the error state to remember (true when it was an error).
 */
static bool
client_take_result(struct client *c, int cmdidx, struct pgconn_result *r,
				   uint64_t *rows, bool *bad_gset)
{
	const struct pgb_command *cmd = &c->th->run->o->scripts[c->script]->commands[cmdidx];
	char		err[CLIENT_ERRLEN];

	switch (pgconn_result_status(r))
	{
		case PGCONN_R_OK:
			*rows += pgconn_result_rows(r);
			if (cmd->gset != PGB_GSET_NONE && pgconn_result_nfields(r) > 0)
			{
				int			nt = pgconn_result_ntuples(r);

				c->gset_ntuples = nt;
				if (nt >= 1 && (cmd->gset == PGB_GSET_ASET || nt == 1))
				{
					if (!client_gset(c, cmd, r, err, sizeof(err)))
					{
						client_report_error(c, cmdidx, "client", err);
						return true;
					}
				}
				else if (cmd->gset == PGB_GSET_GSET)
					*bad_gset = true;
				else
					(void) 0;
			}
			return false;
		case PGCONN_R_ERROR:
			client_report_error(c, cmdidx, pgconn_result_sqlstate(r),
								pgconn_result_message(r));
			return true;
		case PGCONN_R_COPY:
			client_report_error(c, cmdidx, "client", "COPY is not supported in scripts");
			return true;
		default:
			return false;
	}
}


/*
 * client_nplus1_add: feed one executed statement to the client's N+1 unit:
 * its fingerprint, a hash of its parameter values (the script variables it
 * uses, as sent) and its latency.  Costs a hash over the values and a short
 * formatted copy of them: nothing compared with a round trip.
 */
static void
client_nplus1_add(struct client *c, int cmdidx, double ms)
{
	struct run *run = c->th->run;
	const struct pgb_command *cmd = &run->o->scripts[c->script]->commands[cmdidx];
	struct nplus1_stmt st;

	if (run->np_skip[run->cmd_offset[c->script] + cmdidx])
		return;
	/* taken when it was sent, except in a pipeline */
	if (c->np_cmd != cmdidx)
	{
		pgb_command_params(cmd, c->vars, c->params);
		client_np_digest(c, cmdidx, cmd->nparams, c->params);
	}
	c->np_cmd = -1;
	st.fingerprint = cmd->fingerprint;
	st.text = cmd->normalized ? cmd->normalized : cmd->sql;
	st.param_hash = c->np_hash;
	st.params = c->np_params;
	st.ms = ms;
	nplus1_unit_add(c->npu, &st);
}

static void
record_stmt(struct client *c, int cmdidx, uint64_t rows, int64_t start,
			int64_t end)
{
	struct pd_stmt_stats *st = &c->th->stats.scripts[c->script].stmts[cmdidx];
	struct pd_observe *obs = c->th->run->obs;

	st->calls++;
	st->rows += rows;
	pd_sketch_add(&st->lat, (end - start) / PD_NS_PER_MS);
	if (obs)
	{
		int			stmt = pd_observe_stmt(obs, c->script, cmdidx);
		double		ms = (end - start) / PD_NS_PER_MS;

		if (!c->in_pipeline)
			pd_observe_client_running(obs, c->id, -1);
		if (pd_observe_is_slowest(obs, c->th->id, stmt, ms))
		{
			/* rare: a new slowest call; its values as the variables hold them */
			const struct pgb_command *cmd = &c->th->run->o->scripts[c->script]->commands[cmdidx];

			pgb_command_params(cmd, c->vars, c->params);
			pd_observe_slow_record(obs, c->th->id, stmt, ms, cmd->nparams, c->params);
		}
	}
	client_nplus1_add(c, cmdidx, (end - start) / PD_NS_PER_MS);
}

/*
 * client_read: read what arrived for the command in flight (CS_WAIT outside
 * a pipeline, or CS_ROLLBACK).  Moves the client on when it is complete.
 */
static void
client_read(struct client *c)
{
	struct pgconn *conn = cconn(c);
	struct pgconn_result *r;
	bool		bad_gset = false;

	if (!pgconn_consume(conn))
	{
		client_lost_conn(c, c->state == CS_WAIT ? c->cmd : -1);
		return;
	}
	while (!pgconn_busy(conn))
	{
		r = pgconn_next_result(conn);
		if (r == NULL)
		{
			int64_t		now = pd_now_ns();

			if (c->state == CS_ROLLBACK)
			{
				if (pgconn_is_bad(conn))
				{
					client_lost_conn(c, -1);
					return;
				}
				client_after_error(c, now);
				client_step(c, now);
				return;
			}
			if (c->failed)
			{
				/* an error result was counted already */
				if (!c->preparing)
					record_stmt(c, c->cmd, c->rows, c->cmd_start_ns, now);
				c->preparing = false;
				if (pgconn_is_bad(conn))
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				client_handle_error(c, now);
				client_step(c, now);
				return;
			}
			if (c->preparing)
			{
				struct run *run = c->th->run;
				const struct pgb_command *cmd =
				&run->o->scripts[c->script]->commands[c->cmd];
				int			pidx = run->cmd_offset[c->script] + c->cmd;
				int			f;

				c->preparing = false;
				c->prepared[pidx] = true;
				if (!pgconn_send_prepared(conn, run->stmt_names[pidx], cmd->nparams,
										  c->params))
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				f = pgconn_flush(conn);
				if (f < 0)
				{
					client_lost_conn(c, c->cmd);
					return;
				}
				c->need_flush = f == 1;
				return;
			}
			record_stmt(c, c->cmd, c->rows, c->cmd_start_ns, now);
			if (c->th->run->o->scripts[c->script]->commands[c->cmd].gset == PGB_GSET_GSET &&
				c->gset_ntuples != 1)
			{
				char		msg[128];

				snprintf(msg, sizeof(msg), "\\gset expected one row, got %d",
						 c->gset_ntuples < 0 ? 0 : c->gset_ntuples);
				client_report_error(c, c->cmd, "client", msg);
				client_handle_error(c, now);
				client_step(c, now);
				return;
			}
			c->cmd++;
			c->state = CS_CMD;
			client_step(c, now);
			return;
		}
		if (c->state == CS_ROLLBACK)
			continue;
		(void) client_take_result(c, c->cmd, r, &c->rows, &bad_gset);
	}
}

/*
 * client_read_pipeline: read results of a pipeline.  Each command's results
 * end with a NULL; the pipeline ends with the sync result.
 */
static void
client_read_pipeline(struct client *c)
{
	struct pgconn *conn = cconn(c);
	struct pgconn_result *r;
	int			nulls = 0;

	if (!pgconn_consume(conn))
	{
		client_lost_conn(c, -1);
		return;
	}
	while (!pgconn_busy(conn))
	{
		r = pgconn_next_result(conn);
		if (r == NULL)
		{
			if (c->pend_head < c->npend)
			{
				struct pending *p = &c->pend[c->pend_head++];

				/* a Parse that did not run must be sent again next time */
				if (p->prepare && (p->aborted || p->error))
					c->prepared[c->th->run->cmd_offset[c->script] + p->cmd] = false;
				if (!p->prepare && !p->aborted)
				{
					record_stmt(c, p->cmd, p->rows, p->sent_ns, pd_now_ns());
					if (!p->error && c->th->run->o->scripts[c->script]->commands[p->cmd].gset == PGB_GSET_GSET &&
						c->gset_ntuples != 1)
						client_report_error(c, p->cmd, "client", "\\gset expected one row");
				}
				continue;
			}
			/*
			 * Nothing pending: the sync is next.  libpq reports busy until
			 * it arrives; a second NULL in a row would mean it never will
			 * in this call, so wait for the socket rather than spin.
			 */
			if (pgconn_busy(conn) || !c->syncing || ++nulls > 1)
				break;
			continue;
		}
		nulls = 0;
		switch (pgconn_result_status(r))
		{
			case PGCONN_R_PIPELINE_SYNC:
				{
					int64_t		now = pd_now_ns();

					c->syncing = false;
					c->in_pipeline = false;
					c->npend = c->pend_head = 0;
					if (!pgconn_pipeline_exit(conn))
					{
						client_lost(c, -1, "XX000", "could not leave pipeline mode");
						return;
					}
					if (c->failed)
					{
						client_handle_error(c, now);
						client_step(c, now);
						return;
					}
					c->cmd++;	/* past \endpipeline */
					c->state = CS_CMD;
					client_step(c, now);
					return;
				}
			case PGCONN_R_PIPELINE_ABORTED:
				if (c->pend_head < c->npend)
					c->pend[c->pend_head].aborted = true;
				break;
			default:
				if (c->pend_head < c->npend)
				{
					struct pending *p = &c->pend[c->pend_head];
					bool		bad_gset = false;

					c->gset_ntuples = -1;
					if (client_take_result(c, p->cmd, r, &p->rows, &bad_gset))
						p->error = true;
					if (pgconn_is_bad(conn))
					{
						client_lost_conn(c, p->cmd);
						return;
					}
				}
				break;
		}
	}
}

/* Pick the next script by weight. */
static int
choose_script(struct thread_ctx *th)
{
	struct run *run = th->run;
	int			n = run->o->nscripts;
	int64_t		w;

	if (n == 1)
		return 0;
	w = pgb_prng_range(&th->rng, 0, run->total_weight - 1);
	for (int i = 0; i < n; i++)
	{
		w -= run->o->scripts[i]->weight;
		if (w < 0)
			return i;
	}
	return n - 1;
}

/*
 * client_step: run the client's state machine as far as it goes without
 * waiting.  On return the client waits for its socket, a time, or is done.
 */
static void
client_step(struct client *c, int64_t now)
{
	struct thread_ctx *th = c->th;
	struct run *run = th->run;
	const struct run_opts *o = run->o;
	char		err[CLIENT_ERRLEN];

	for (;;)
	{
		/*
		 * Steps that take no time worth measuring (choosing a script, \set,
		 * \if) go on with the same now: a clock read each would cost more
		 * than they do.
		 */
		bool		refresh = true;

		switch (c->state)
		{
			case CS_CHOOSE:
				if (atomic_load_explicit(&run->stop, memory_order_relaxed) ||
					(o->txns > 0 && c->done_txns >= o->txns) ||
					(run->end_ns > 0 && now >= run->end_ns))
				{
					c->state = CS_DONE;
					return;
				}
				if (c->backoff_ns > now)
				{
					/* --continue-on-error: the same error again, wait */
					c->sched_ns = c->backoff_ns;
					c->backoff_ns = 0;
					c->backing_off = true;
					c->state = CS_THROTTLE;
					return;
				}
				if (o->rate > 0)
				{
					double		u = pgb_prng_double(&th->rng);

					th->throttle_trigger += (int64_t) (-log(1.0 - u) * run->throttle_delay_ns);
					c->sched_ns = th->throttle_trigger;
					if (c->sched_ns > now)
					{
						c->wake_ns = c->sched_ns;
						c->state = CS_THROTTLE;
						return;
					}
				}
				else
					c->sched_ns = now;
				c->state = CS_THROTTLE;
				/* FALLTHROUGH */
			case CS_THROTTLE:
				if (run->end_ns > 0 && now >= run->end_ns)
				{
					c->state = CS_DONE;
					return;
				}
				if ((o->rate > 0 || c->backing_off) && now < c->sched_ns)
					return;
				c->backing_off = false;
				if (o->rate > 0 && o->latency_limit_ms > 0 &&
					now > c->sched_ns + (int64_t) (o->latency_limit_ms * PD_NS_PER_MS))
				{
					/* -L: it would start too late; skipped, as in pgbench */
					th->stats.skipped++;
					c->done_txns++;
					c->tries = 0;
					txlog_write(c, now, "skipped");
					c->state = CS_CHOOSE;
					break;
				}
				c->script = choose_script(th);
				c->cmd = 0;
				c->tries = 1;
				c->failed = false;
				c->err_cmd = -1;
				c->sqlstate[0] = '\0';
				c->txn_start_ns = now;
				c->rng_saved = c->rng;
				c->state = CS_CMD;
				refresh = false;
				break;
			case CS_CMD:
				{
					const struct pgb_script *s = o->scripts[c->script];
					const struct pgb_command *cmd;

					if (c->cmd >= s->ncommands)
					{
						client_end_txn(c, now);
						break;
					}
					cmd = &s->commands[c->cmd];
					switch (cmd->type)
					{
						case PGB_CMD_SQL:
							if (!client_send_sql(c, cmd, now))
								break;
							if (c->in_pipeline)
							{
								c->cmd++;
								break;
							}
							c->state = CS_WAIT;
							return;
						case PGB_CMD_SET:
							if (!pgb_script_exec_set(s, cmd, c->vars, &c->rng, err, sizeof(err)))
							{
								client_fail(c, c->cmd, err);
								break;
							}
							c->cmd++;
							refresh = false;
							break;
						case PGB_CMD_SLEEP:
							{
								int64_t		usec;

								if (!pgb_command_sleep_usec(cmd, c->vars, &usec, err, sizeof(err)))
								{
									client_fail(c, c->cmd, err);
									break;
								}
								c->wake_ns = now + usec * 1000;
								c->state = CS_SLEEP;
								return;
							}
						case PGB_CMD_IF:
						case PGB_CMD_ELIF:
						case PGB_CMD_ELSE:
						case PGB_CMD_ENDIF:
							{
								int			next = pgb_script_branch(s, c->cmd, c->vars, &c->rng, err, sizeof(err));

								if (next < 0)
								{
									client_fail(c, c->cmd, err);
									break;
								}
								c->cmd = next;
								refresh = false;
								break;
							}
						case PGB_CMD_STARTPIPELINE:
							if (!pgconn_pipeline_enter(cconn(c)))
							{
								client_fail(c, c->cmd, "could not enter pipeline mode");
								break;
							}
							c->in_pipeline = true;
							c->npend = c->pend_head = 0;
							c->cmd++;
							break;
						case PGB_CMD_ENDPIPELINE:
							{
								int			f;

								if (!c->in_pipeline)
								{
									client_fail(c, c->cmd, "\\endpipeline outside a pipeline");
									break;
								}
								if (!pgconn_pipeline_sync(cconn(c)))
								{
									client_lost_conn(c, -1);
									break;
								}
								f = pgconn_flush(cconn(c));
								if (f < 0)
								{
									client_lost_conn(c, -1);
									break;
								}
								c->need_flush = f == 1;
								c->syncing = true;
								c->state = CS_WAIT;
								return;
							}
					}
					break;
				}
			case CS_SLEEP:
				if (now < c->wake_ns)
					return;
				c->cmd++;
				c->state = CS_CMD;
				break;
			case CS_WAIT:
			case CS_ROLLBACK:
				return;
			case CS_RECONNECT:
				/* the deadline ends a reconnect: nothing is measured after it */
				if (th->run->end_ns > 0 && now >= th->run->end_ns &&
					c->pc->state != POOL_UP)
				{
					c->state = CS_DONE;
					return;
				}
				switch (c->pc->state)
				{
					case POOL_UP:
						/* its new backend is profiled too (--flamegraph) */
						pd_flame_run_note_conn(th->run->flame, c->pc->conn);
						if (th->run->obs)
							pd_observe_client_pid(th->run->obs, c->id,
												  pgconn_backend_pid(c->pc->conn));
						c->state = CS_CHOOSE;
						break;
					case POOL_DEAD:
						th->stats.aborted_clients++;
						pd_warning("client %d gave up reconnecting: %s", c->id, c->pc->last_error);
						c->state = CS_DONE;
						return;
					default:
						return;
				}
				break;
			case CS_DONE:
				return;
		}
		if (refresh)
			now = pd_now_ns();
	}
}

/* ------------------------------------------------------------- threads */

static int64_t
min_wake(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/*
 * client_watch: bring the client's entry in the thread's epoll set in line
 * with what it waits for.  A connected client keeps its socket registered
 * for reading in every state, so the common path (send, wait, read, send
 * again) makes no epoll_ctl() call at all; writability is added only while
 * libpq holds output it could not send, and a connecting socket is watched
 * in the direction libpq asks for.  Returns false when epoll_ctl() failed
 * (out of memory or the limit on watches), with errno set.
 */
static bool
client_watch(struct thread_ctx *th, struct client *c)
{
	int			fd = -1;
	uint32_t	ev = 0;
	struct epoll_event e;
	int			rc;

	switch (c->state)
	{
		case CS_DONE:
			break;
		case CS_RECONNECT:
			fd = pool_conn_fd(c->pc);
			if (fd >= 0)
				ev = pool_conn_events(c->pc) == POLLIN ? EPOLLIN : EPOLLOUT;
			break;
		default:
			if (c->pc->state == POOL_UP && c->pc->conn != NULL)
			{
				bool		waiting = c->state == CS_WAIT || c->state == CS_ROLLBACK;

				if (waiting)
					c->ep_mute = false;
				if (c->ep_mute)
					break;
				fd = pgconn_socket(cconn(c));
				ev = EPOLLIN;
				if (c->need_flush && waiting)
					ev |= EPOLLOUT;
			}
			break;
	}
	if (fd == c->ep_fd && ev == c->ep_events && !c->ep_stale)
		return true;
	if (fd < 0)
	{
		/*
		 * A socket still open (a client done before the others) leaves the
		 * set, or the server closing it would wake the thread in a loop; a
		 * closed socket has left it already.
		 */
		if (c->ep_fd >= 0 && !c->ep_stale && c->pc->conn != NULL &&
			pgconn_socket(cconn(c)) == c->ep_fd)
			(void) epoll_ctl(th->epfd, EPOLL_CTL_DEL, c->ep_fd, NULL);
		c->ep_fd = -1;
		c->ep_events = 0;
		c->ep_stale = false;
		return true;
	}
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (fd == c->ep_fd && !c->ep_stale)
	{
		rc = epoll_ctl(th->epfd, EPOLL_CTL_MOD, fd, &e);
		if (rc < 0 && errno == ENOENT)
			rc = epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &e);
	}
	else
	{
		/* the entry of a socket with this number is ours if it exists */
		rc = epoll_ctl(th->epfd, EPOLL_CTL_ADD, fd, &e);
		if (rc < 0 && errno == EEXIST)
			rc = epoll_ctl(th->epfd, EPOLL_CTL_MOD, fd, &e);
	}
	if (rc < 0)
		return false;
	c->ep_fd = fd;
	c->ep_events = ev;
	c->ep_stale = false;
	return true;
}

/* Advance a reconnecting client's connect; its socket may have changed. */
static void
client_reconnect_step(struct client *c, int64_t now)
{
	pool_conn_step(c->pc, c->th->run->params, now);
	c->ep_stale = true;
	client_step(c, now);
}

/*
 * client_event: the client's socket is ready (revents from epoll).  Outside
 * a wait for results, readable means a notice or the server closing the
 * session (57P01 and the like): the socket leaves the set until the client
 * waits for results again, and the next command reads what came, as it
 * would have without the socket being watched meanwhile.
 */
static void
client_event(struct client *c, uint32_t re, int64_t now)
{
	switch (c->state)
	{
		case CS_RECONNECT:
			if (c->pc->state == POOL_CONNECTING)
				client_reconnect_step(c, now);
			return;
		case CS_WAIT:
		case CS_ROLLBACK:
			if ((re & EPOLLOUT) && c->need_flush)
			{
				int			f = pgconn_flush(cconn(c));

				if (f < 0)
				{
					client_lost_conn(c, c->state == CS_WAIT ? c->cmd : -1);
					return;
				}
				c->need_flush = f == 1;
			}
			if (re & (EPOLLIN | EPOLLERR | EPOLLHUP))
			{
				if (c->in_pipeline && c->state == CS_WAIT)
					client_read_pipeline(c);
				else
					client_read(c);
			}
			return;
		case CS_DONE:
			return;				/* leaves the set at the next round */
		default:
			c->ep_mute = true;
			return;
	}
}

/*
 * wait_events: epoll_pwait2(), whose timeout has nanoseconds (-R schedules
 * and \sleep need better than epoll_wait()'s milliseconds).  On kernels
 * without it (before 5.11), ppoll() on the epoll descriptor waits with the
 * same precision and epoll_wait() then collects without waiting.
 */
static int
wait_events(struct thread_ctx *th, const struct timespec *tsp)
{
	static atomic_bool no_pwait2 = false;
	struct pollfd p;
	int			n;

	if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed))
	{
		n = epoll_pwait2(th->epfd, th->evs, th->nclients + 1, tsp, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
	}
	p.fd = th->epfd;
	p.events = POLLIN;
	p.revents = 0;
	n = ppoll(&p, 1, tsp, NULL);
	if (n <= 0)
		return n;
	return epoll_wait(th->epfd, th->evs, th->nclients + 1, 0);
}

/*
 * client_thread_main: drive this thread's clients until all are done, the -T
 * deadline passes or the main thread says stop.  Each round registers what
 * changed, waits in epoll for the sockets that are ready (or the earliest
 * timer: a -R start, a \sleep, a reconnect), handles those, and steps the
 * clients whose timer came.  A client whose answer arrived while the
 * others were handled is found by the next wait without sleeping: that one
 * system call replaces a recv() per waiting client.
 */
void *
client_thread_main(void *arg)
{
	struct thread_ctx *th = arg;
	struct run *run = th->run;
	int64_t		now;
	int			gate;

	/*
	 * Each thread opens its own connections, so that every backend talks
	 * with its client thread from the first message.  The kernel places a
	 * backend near the thread that wakes it; when the main thread opened the
	 * whole pool, runs on a small machine settled more often with the
	 * backends away from their client threads, every wake-up crossing CPUs
	 * (about 10% fewer transactions per second, measured in pairs against
	 * pgbench, which connects in its threads too).
	 */
	th->connect_failed = !pool_connect(th->clients[0].pc, th->nclients, run->params,
									   th->connect_err, sizeof(th->connect_err));
	for (int i = 0; run->obs && !th->connect_failed && i < th->nclients; i++)
		pd_observe_client_pid(run->obs, th->clients[i].id,
							  pgconn_backend_pid(th->clients[i].pc->conn));

	/*
	 * Bind to the planned CPU; with "auto" only when the server is on this
	 * host (see affinity.h).  Before the clock starts, so that the backends
	 * settle on the thread's CPU from the first statement.
	 */
	if (run->cpus[th->id] >= 0 &&
		(th->connect_failed ||
		 (run->o->affinity.mode != PD_AFFINITY_LIST &&
		  !pd_socket_is_local(pgconn_socket(th->clients[0].pc->conn))) ||
		 !pd_affinity_bind(run->cpus[th->id], th->bind_err, sizeof(th->bind_err))))
		run->cpus[th->id] = -1;
	pthread_mutex_lock(&run->gate_lock);
	run->nconnected++;
	pthread_cond_broadcast(&run->gate_cond);
	while (run->gate == 0)
		pthread_cond_wait(&run->gate_cond, &run->gate_lock);
	gate = run->gate;
	pthread_mutex_unlock(&run->gate_lock);
	if (gate < 0)
		return NULL;

	now = pd_now_ns();
	for (int i = 0; i < th->nclients; i++)
		client_step(&th->clients[i], now);

	for (;;)
	{
		int			n;
		int			active = 0;
		bool		stop = false;
		int64_t		wake = (run->end_ns > 0 && now >= run->end_ns)
			? run->end_ns + DEADLINE_GRACE_NS : run->end_ns;
		struct timespec ts;
		struct timespec *tsp = NULL;

		for (int i = 0; i < th->nclients; i++)
		{
			struct client *c = &th->clients[i];

			if (!client_watch(th, c))
			{
				pd_error("could not watch a connection: %s", strerror(errno));
				stop = true;
				break;
			}
			switch (c->state)
			{
				case CS_DONE:
					continue;
				case CS_WAIT:
				case CS_ROLLBACK:
					break;
				case CS_THROTTLE:
				case CS_SLEEP:
					wake = min_wake(wake, c->state == CS_THROTTLE ? c->sched_ns : c->wake_ns);
					break;
				case CS_RECONNECT:
					if (c->pc->state == POOL_BACKOFF)
						wake = min_wake(wake, c->pc->retry_at_ns);
					else if (pool_conn_fd(c->pc) < 0)
						wake = min_wake(wake, now);
					break;
				default:
					/* CS_CHOOSE / CS_CMD: runnable now */
					wake = min_wake(wake, now);
					break;
			}
			active++;
		}
		if (stop || active == 0)
			break;
		if (wake != 0)
		{
			int64_t		d = wake - now;

			if (d < 0)
				d = 0;
			ts.tv_sec = d / 1000000000;
			ts.tv_nsec = d % 1000000000;
			tsp = &ts;
		}
		n = wait_events(th, tsp);
		if (n < 0 && errno != EINTR)
		{
			pd_error("epoll_pwait2 failed: %s", strerror(errno));
			break;
		}
		now = pd_now_ns();
		for (int k = 0; k < n; k++)
			if (th->evs[k].data.ptr == NULL)
				stop = true;
		if (stop || (run->end_ns > 0 && now >= run->end_ns + DEADLINE_GRACE_NS))
			break;				/* stop: abandon what is in flight */

		for (int k = 0; k < n; k++)
			client_event(th->evs[k].data.ptr, th->evs[k].events, now);

		now = pd_now_ns();
		for (int i = 0; i < th->nclients; i++)
		{
			struct client *c = &th->clients[i];

			switch (c->state)
			{
				case CS_CHOOSE:
				case CS_CMD:
					client_step(c, now);
					break;
				case CS_THROTTLE:
					if (now >= c->sched_ns || (run->end_ns > 0 && now >= run->end_ns))
						client_step(c, now);
					break;
				case CS_SLEEP:
					if (now >= c->wake_ns)
						client_step(c, now);
					break;
				case CS_RECONNECT:
					if (run->end_ns > 0 && now >= run->end_ns)
						client_step(c, now);
					else if (c->pc->state == POOL_BACKOFF ||
						(c->pc->state == POOL_CONNECTING && pool_conn_fd(c->pc) < 0))
						client_reconnect_step(c, now);
					else if (c->pc->state != POOL_CONNECTING)
						client_step(c, now);
					break;
				default:
					break;
			}
		}
	}
	th->finished_ns = pd_now_ns();
	atomic_fetch_add(&run->threads_done, 1);
	{
		char		b = 'd';

		if (write(run->main_pipe[1], &b, 1) < 0)
		{
			/* the main thread also notices through threads_done */
		}
	}
	return NULL;
}

/* ---------------------------------------------------------- set up, free */

void
client_init(struct client *c, struct thread_ctx *th, int id,
			uint64_t *seedstate, int maxcmds)
{
	struct run *run = th->run;
	const struct run_opts *o = run->o;

	c->id = id;
	c->th = th;
	c->pc = &run->pool[id];
	c->conn_gen = c->pc->generation;
	c->prepared = pd_calloc(run->total_commands, sizeof(bool));
	c->vars = pgb_vars_copy(o->defs);
	pgb_prng_seed(&c->rng, pgb_splitmix64(seedstate));
	if (pgb_vars_get_text(c->vars, "scale") == NULL)
		pgb_vars_set_int(c->vars, "scale", o->scale);
	pgb_vars_set_int(c->vars, "client_id", id);
	pgb_vars_set_int(c->vars, "random_seed", (int64_t) o->seed);
	if (pgb_vars_get_text(c->vars, "default_seed") == NULL)
	{
		uint64_t	ds = o->seed ^ 0x5DEECE66DULL;

		pgb_vars_set_int(c->vars, "default_seed", (int64_t) pgb_splitmix64(&ds));
	}
	c->pend_cap = 2 * maxcmds + 2;
	c->pend = pd_calloc(c->pend_cap, sizeof(struct pending));
	c->params = pd_calloc(run->max_params + 1, sizeof(char *));
	c->np_cmd = -1;
	c->sqlsize = 1024;
	c->sqlbuf = pd_malloc(c->sqlsize);
	c->npu = nplus1_unit_create(th->nplus1);
	c->ep_fd = -1;
	c->state = CS_CHOOSE;
}

void
client_free(struct client *c)
{
	pgb_vars_free(c->vars);
	free(c->prepared);
	free(c->pend);
	free(c->params);
	free(c->sqlbuf);
	nplus1_unit_free(c->npu);
}
