/*
 * observe.c
 *		Server-side evidence for "perfdriver run --observe": the sampler
 *		thread, pg_stat_statements snapshots and their deltas, and the plans
 *		of the slowest statements (docs/perfdriver.md, "Server-side
 *		evidence").
 *
 * Owns: the sampler connection (one blocking pgconn, used by the sampler
 * thread while it runs and by the calling thread before and after), the
 * aggregates (per statement and wait label counts, blocker -> waiter pairs),
 * the time-ordered sample list, the pg_stat_statements snapshots and the
 * plans.  Their state is struct pd_observe_state (observe_int.h); the
 * reports read it in observe_report.c.
 *
 * Must not: include libpq-fe.h, block the load threads (they only store to
 * atomics and, on a new slowest call, copy its values into their own slot),
 * or stop the run: every problem becomes one observe_notes line.
 *
 * Memory: everything hangs off struct pd_observe and its state and is freed
 * by pd_observe_free().  Plans are the server's JSON text, kept as is.
 */
#define _GNU_SOURCE				/* pthread_setname_np */

#include "observe.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "advise.h"
#include "driver.h"
#include "nplus1.h"
#include "normalize.h"
#include "observe_int.h"

/* ---------------------------------------------------------------- notes */

void
pd_observe_note(struct pd_observe *ob, const char *fmt,...)
{
	struct pd_observe_state *st = ob->st;
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&st->notes_lock);
	if (st->nnotes < OBS_MAX_NOTES)
		st->notes[st->nnotes++] = pd_strdup(buf);
	pthread_mutex_unlock(&st->notes_lock);
}

/* ------------------------------------------------------------ set-up */

struct pd_observe *
pd_observe_new(const struct pgconn_params *p, struct pgb_script *const *scripts,
			   int nscripts, int nclients, int nthreads,
			   const struct pd_observe_opts *o)
{
	struct pd_observe *ob = pd_calloc(1, sizeof(*ob));
	struct pd_observe_state *st = pd_calloc(1, sizeof(*st));
	int			ncmds = 0;
	int			cap;

	ob->st = st;
	st->params = p;
	st->o = *o;
	if (st->o.hz <= 0)
		st->o.hz = PD_OBS_DEFAULT_HZ;
	pthread_mutex_init(&st->notes_lock, NULL);
	pthread_mutex_init(&st->start_lock, NULL);
	pthread_cond_init(&st->start_cond, NULL);
	atomic_init(&st->stop, false);
	atomic_init(&st->vanished, 0);
	{
		const char *alt = getenv("PERFDRIVER_OBSERVE_ALTERNATE");
		double		secs = alt ? strtod(alt, NULL) : 0;

		if (secs > 0 && secs <= 3600)
			st->alternate_ns = (int64_t) (secs * 1e9);
	}

	ob->nclients = nclients;
	ob->nthreads = nthreads;
	/* one cache line per client: the load threads store into their own */
	ob->clients = aligned_alloc(64, (size_t) (nclients > 0 ? nclients : 1) * sizeof(*ob->clients));
	if (ob->clients == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	memset(ob->clients, 0, (size_t) (nclients > 0 ? nclients : 1) * sizeof(*ob->clients));
	for (int i = 0; i < nclients; i++)
	{
		atomic_init(&ob->clients[i].pid, 0);
		atomic_init(&ob->clients[i].stmt, -1);
		atomic_init(&ob->clients[i].last, -1);
	}

	ob->cmd_base = pd_calloc(nscripts > 0 ? nscripts : 1, sizeof(int));
	for (int i = 0; i < nscripts; i++)
	{
		ob->cmd_base[i] = ncmds;
		ncmds += scripts[i]->ncommands;
	}
	cap = ncmds > 0 ? ncmds : 1;
	ob->stmt_of = pd_calloc(cap, sizeof(int));
	st->fp = pd_calloc(cap, sizeof(uint64_t));
	st->query = pd_calloc(cap, sizeof(char *));
	st->param_sql = pd_calloc(cap, sizeof(char *));
	st->nparams = pd_calloc(cap, sizeof(int));
	st->multi = pd_calloc(cap, sizeof(bool));

	/* the report's grouping: SQL commands by fingerprint, first seen first */
	for (int i = 0; i < nscripts; i++)
	{
		for (int k = 0; k < scripts[i]->ncommands; k++)
		{
			const struct pgb_command *cmd = &scripts[i]->commands[k];
			int			j;

			ob->stmt_of[ob->cmd_base[i] + k] = -1;
			if (cmd->type != PGB_CMD_SQL)
				continue;
			for (j = 0; j < ob->nstmts; j++)
				if (st->fp[j] == cmd->fingerprint)
					break;
			if (j == ob->nstmts)
			{
				st->fp[j] = cmd->fingerprint;
				st->query[j] = pd_strdup(cmd->normalized ? cmd->normalized : cmd->sql);
				st->param_sql[j] = pd_strdup(cmd->param_sql ? cmd->param_sql : cmd->sql);
				st->nparams[j] = cmd->nparams;
				st->multi[j] = cmd->multi;
				ob->nstmts++;
			}
			ob->stmt_of[ob->cmd_base[i] + k] = j;
		}
	}

	cap = ob->nstmts > 0 ? ob->nstmts : 1;
	ob->slow = pd_calloc((size_t) (nthreads > 0 ? nthreads : 1) * cap,
						 sizeof(struct pd_obs_slow));
	st->counts = pd_calloc((size_t) (cap + 1) * PD_OBS_MAX_LABELS, sizeof(uint64_t));
	st->server = pd_calloc(cap, sizeof(struct pd_obs_server));
	st->plan = pd_calloc(cap, sizeof(char *));
	st->findings = pd_calloc(cap, sizeof(char **));
	st->nfindings = pd_calloc(cap, sizeof(int));
	st->plan_slow = pd_calloc(cap, sizeof(int));
	for (int i = 0; i < cap; i++)
		st->plan_slow[i] = -1;
	return ob;
}

void
pd_observe_client_pid(struct pd_observe *ob, int client, int pid)
{
	int			old;

	if (client < 0 || client >= ob->nclients)
		return;
	old = atomic_exchange_explicit(&ob->clients[client].pid, pid, memory_order_release);
	if (old != 0 && old != pid)
		atomic_fetch_add_explicit(&ob->st->vanished, 1, memory_order_relaxed);
}

void
pd_observe_slow_record(struct pd_observe *ob, int thread, int stmt, double ms,
					   int nparams, const char *const *values)
{
	struct pd_obs_slow *s;

	if (thread < 0 || thread >= ob->nthreads || stmt < 0 || stmt >= ob->nstmts)
		return;
	s = &ob->slow[(size_t) thread * ob->nstmts + stmt];
	for (int i = 0; i < s->nparams; i++)
		free(s->values[i]);
	free(s->values);
	s->values = NULL;
	s->nparams = 0;
	s->ms = ms;
	if (nparams > 0 && values != NULL)
	{
		s->values = pd_calloc(nparams, sizeof(char *));
		for (int i = 0; i < nparams; i++)
			s->values[i] = values[i] ? pd_strdup(values[i]) : NULL;
		s->nparams = nparams;
	}
}

void
pd_observe_set_sample_cb(struct pd_observe *ob,
						 void (*cb) (void *arg, const struct pd_obs_sample *s),
						 void *arg)
{
	ob->st->cb = cb;
	ob->st->cbarg = arg;
}

/* -------------------------------------------------------------- helpers */

const char *
pd_obs_label(const char *type, const char *event, char *buf, size_t len)
{
	if (type == NULL || type[0] == '\0')
		snprintf(buf, len, "CPU");
	else
		snprintf(buf, len, "%s:%s", type, event ? event : "");
	return buf;
}

int
pd_obs_parse_int_array(const char *s, int *out, int cap)
{
	int			n = 0;
	const char *p = s;

	if (s == NULL || *p != '{')
		return -1;
	p++;
	if (*p == '}')
		return p[1] == '\0' ? 0 : -1;
	for (;;)
	{
		char	   *end;
		long		v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0)
			return -1;
		if (n < cap)
			out[n] = (int) v;
		n++;
		p = end;
		if (*p == ',')
			p++;
		else if (*p == '}' && p[1] == '\0')
			break;
		else
			return -1;
	}
	return n < cap ? n : cap;
}

static int
obs_label_id(struct pd_observe_state *st, const char *label)
{
	for (int i = 0; i < st->nlabels; i++)
		if (strcmp(st->labels[i], label) == 0)
			return i;
	if (st->nlabels < PD_OBS_MAX_LABELS - 1)
	{
		st->labels[st->nlabels] = pd_strdup(label);
		return st->nlabels++;
	}
	/* the last slot collects the rest */
	if (st->labels[PD_OBS_MAX_LABELS - 1] == NULL)
	{
		st->labels[PD_OBS_MAX_LABELS - 1] = pd_strdup("other");
		st->nlabels = PD_OBS_MAX_LABELS;
	}
	return PD_OBS_MAX_LABELS - 1;
}

int
pd_observe_find(const struct pd_observe *ob, uint64_t fingerprint)
{
	for (int i = 0; i < ob->nstmts; i++)
		if (ob->st->fp[i] == fingerprint)
			return i;
	return -1;
}

/* The statement whose fingerprint the server's text has, or -1. */
static int
obs_stmt_of_text(struct pd_observe *ob, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return -1;
	return pd_observe_find(ob, pgb_fingerprint(text));
}

/* The statement of a query_id, via a cache of fingerprinted texts. */
static int
obs_stmt_of_qid(struct pd_observe *ob, int64_t qid, const char *text)
{
	struct pd_observe_state *st = ob->st;
	size_t		h = (size_t) ((uint64_t) qid * 0x9E3779B97F4A7C15ULL) % OBS_QCACHE;

	for (int probe = 0; probe < 8; probe++)
	{
		struct obs_qcache *e = &st->qcache[(h + probe) % OBS_QCACHE];

		if (e->used && e->qid == qid)
			return e->stmt;
		if (!e->used)
		{
			e->used = true;
			e->qid = qid;
			e->stmt = obs_stmt_of_text(ob, text);
			return e->stmt;
		}
	}
	return obs_stmt_of_text(ob, text);
}

static void
obs_pair_add(struct pd_observe_state *st, int blocker, int waiter)
{
	for (int i = 0; i < st->npairs; i++)
		if (st->pairs[i].blocker == blocker && st->pairs[i].waiter == waiter)
		{
			st->pairs[i].n++;
			return;
		}
	if (st->npairs < OBS_MAX_PAIRS)
		st->pairs[st->npairs++] = (struct obs_pair)
	{
		blocker, waiter, 1
	};
}

static void
obs_sample_add(struct pd_observe_state *st, const struct pd_obs_sample *s)
{
	if (st->cb)
		st->cb(st->cbarg, s);
	if (st->nsamples == st->capsamples)
	{
		size_t		cap;

		if (st->capsamples >= PD_OBS_MAX_SAMPLES)
			return;
		cap = st->capsamples ? st->capsamples * 2 : 4096;
		if (cap > PD_OBS_MAX_SAMPLES)
			cap = PD_OBS_MAX_SAMPLES;
		st->samples = realloc(st->samples, cap * sizeof(*st->samples));
		if (st->samples == NULL)
		{
			pd_error("out of memory");
			abort();
		}
		st->capsamples = cap;
	}
	st->samples[st->nsamples++] = *s;
}

/* ---------------------------------------------------------- the sampler */

static int
obs_client_of_pid(const int *pids, int n, int pid)
{
	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return i;
	return -1;
}

/*
 * obs_tick: take one sample of every published backend.  Returns false when
 * the query failed (the connection may be gone).
 */
static bool
obs_tick(struct pd_observe *ob, int *pids, int *before, int *after,
		 char **sqlbuf, size_t *sqlcap)
{
	struct pd_observe_state *st = ob->st;
	struct pgconn_result *r = NULL;
	char		err[512];
	size_t		off;
	int			npub = 0;
	int64_t		now;

	for (int i = 0; i < ob->nclients; i++)
	{
		pids[i] = atomic_load_explicit(&ob->clients[i].pid, memory_order_acquire);
		before[i] = atomic_load_explicit(&ob->clients[i].stmt, memory_order_relaxed);
		if (pids[i] != 0)
			npub++;
	}
	if (npub == 0)
		return true;

	off = (size_t) snprintf(*sqlbuf, *sqlcap, "EXECUTE perfdriver_observe_sample('{");
	for (int i = 0, k = 0; i < ob->nclients; i++)
	{
		if (pids[i] == 0)
			continue;
		if (off + 16 >= *sqlcap)
		{
			*sqlcap *= 2;
			*sqlbuf = realloc(*sqlbuf, *sqlcap);
			if (*sqlbuf == NULL)
			{
				pd_error("out of memory");
				abort();
			}
		}
		off += (size_t) snprintf(*sqlbuf + off, *sqlcap - off, "%s%d", k++ ? "," : "", pids[i]);
	}
	snprintf(*sqlbuf + off, *sqlcap - off, "}')");

	if (!pgconn_exec(st->conn, *sqlbuf, &r, err, sizeof(err)))
	{
		snprintf(st->tick_error, sizeof(st->tick_error), "%s", err);
		return false;
	}
	now = pd_now_ns();
	for (int i = 0; i < ob->nclients; i++)
		after[i] = atomic_load_explicit(&ob->clients[i].stmt, memory_order_relaxed);
	st->ticks++;

	for (int row = 0; r && row < pgconn_result_ntuples(r); row++)
	{
		int			pid = atoi(pgconn_result_value(r, row, 0));
		const char *state = pgconn_result_value(r, row, 1);
		const char *qidtext = pgconn_result_value(r, row, 4);
		const char *blocking = pgconn_result_value(r, row, 5);
		const char *text = pgconn_result_value(r, row, 6);
		char		lbuf[160];
		int			client = obs_client_of_pid(pids, ob->nclients, pid);
		int			stmt;
		int			server_stmt = -2;	/* not looked up */
		struct pd_obs_sample s;

		if (state == NULL || strcmp(state, "active") != 0 || client < 0)
			continue;
		stmt = before[client];
		if (qidtext != NULL && strcmp(qidtext, "0") != 0)
			server_stmt = obs_stmt_of_qid(ob, strtoll(qidtext, NULL, 10), text);
		else if (before[client] != after[client])
			server_stmt = obs_stmt_of_text(ob, text);
		if (server_stmt >= 0 && server_stmt != stmt)
		{
			if (stmt >= 0 && before[client] == after[client])
				st->mismatches++;
			stmt = server_stmt;
		}
		else if (server_stmt == -2 && before[client] != after[client] && stmt < 0)
			stmt = after[client];

		s.t_ns = now;
		s.pid = pid;
		s.stmt = stmt;
		s.client = (int16_t) client;
		s.label = (int16_t) obs_label_id(st, pd_obs_label(pgconn_result_value(r, row, 2),
														  pgconn_result_value(r, row, 3),
														  lbuf, sizeof(lbuf)));
		s.blocked_by_stmt = -2;
		if (blocking != NULL)
		{
			int			bp[16];
			int			nb = pd_obs_parse_int_array(blocking, bp, 16);

			for (int b = 0; b < nb; b++)
			{
				int			bc = obs_client_of_pid(pids, ob->nclients, bp[b]);
				int			bstmt = -1;

				/* what the blocker runs, or ran last (idle in its transaction) */
				if (bc >= 0)
					bstmt = before[bc] >= 0 ? before[bc]
						: atomic_load_explicit(&ob->clients[bc].last, memory_order_relaxed);

				if (b == 0)
					s.blocked_by_stmt = bstmt;
				obs_pair_add(st, bstmt, stmt);
			}
		}
		st->counts[(size_t) (stmt >= 0 ? stmt : ob->nstmts) * PD_OBS_MAX_LABELS + s.label]++;
		st->active++;
		obs_sample_add(st, &s);
	}
	pgconn_result_clear(r);
	return true;
}

/*
 * obs_prepare: prepare the sample query on the sampler's connection (once
 * per connection: planning the view's joins at every tick would cost more
 * than running it).  Returns false with a message.
 */
static bool
obs_prepare(struct pd_observe_state *st, char *err, size_t errlen)
{
	char		sql[768];

	snprintf(sql, sizeof(sql),
			 "PREPARE perfdriver_observe_sample(int[]) AS"
			 " SELECT pid, state, wait_event_type, wait_event, %s,"
			 " CASE WHEN wait_event_type = 'Lock' THEN pg_catalog.pg_blocking_pids(pid) END,"
			 " query FROM pg_catalog.pg_stat_activity WHERE pid = ANY ($1)",
			 st->server_version >= 140000 ? "query_id" : "NULL::bigint");
	return pgconn_exec(st->conn, sql, NULL, err, errlen);
}

static void
obs_sleep_until(int64_t t_ns)
{
	struct timespec ts;

	ts.tv_sec = t_ns / 1000000000;
	ts.tv_nsec = t_ns % 1000000000;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *
obs_thread(void *arg)
{
	struct pd_observe *ob = arg;
	struct pd_observe_state *st = ob->st;
	int64_t		period = 1000000000LL / st->o.hz;
	int64_t		next;
	int		   *pids = pd_calloc(ob->nclients + 1, sizeof(int));
	int		   *before = pd_calloc(ob->nclients + 1, sizeof(int));
	int		   *after = pd_calloc(ob->nclients + 1, sizeof(int));
	size_t		sqlcap = 1024;
	char	   *sql = pd_malloc(sqlcap);
	bool		lost = false;
	bool		reconnected = false;

	/*
	 * Sample from the clock's start only: the report's waits and timeline
	 * cover the measured window, and while the load connects the sampler's
	 * queries would only compete with the connections (where the kernel
	 * places the new backends then stays for the run: docs/diagnosis.md,
	 * "Overhead").
	 */
	pthread_mutex_lock(&st->start_lock);
	while (!st->started && !atomic_load(&st->stop))
		pthread_cond_wait(&st->start_cond, &st->start_lock);
	pthread_mutex_unlock(&st->start_lock);
	next = pd_now_ns();

	while (!atomic_load(&st->stop))
	{
		int64_t		now;

		if (st->conn == NULL)
		{
			char		err[512];

			/* reconnect at most once a second */
			st->conn = pgconn_connect_blocking(st->params, err, sizeof(err));
			if (st->conn != NULL && !obs_prepare(st, err, sizeof(err)))
			{
				pgconn_close(st->conn);
				st->conn = NULL;
			}
			if (st->conn == NULL)
			{
				next += 1000000000LL;
				obs_sleep_until(next);
				continue;
			}
			if (!reconnected)
				pd_observe_note(ob, "the sampler reconnected at %.1f s",
								(pd_now_ns() - st->t0_ns) / 1e9);
			reconnected = true;
		}
		if (st->alternate_ns > 0 &&
			((pd_now_ns() - st->t0_ns) / st->alternate_ns) % 2 == 1)
		{
			/* an idle slot of the overhead benchmark: no sample */
			next += period;
			obs_sleep_until(next);
			continue;
		}
		if (!obs_tick(ob, pids, before, after, &sql, &sqlcap))
		{
			st->failed_ticks++;
			if (pgconn_is_bad(st->conn))
			{
				if (!lost)
					pd_observe_note(ob, "the sampler's connection was lost at %.1f s: %s; samples are missing until it reconnects",
									(pd_now_ns() - st->t0_ns) / 1e9, pgconn_error(st->conn));
				lost = true;
				pgconn_close(st->conn);
				st->conn = NULL;
			}
		}
		next += period;
		now = pd_now_ns();
		if (next < now)
		{
			/* the sample took longer than a period: skip what was missed */
			st->missed_ticks += (uint64_t) ((now - next) / period) + 1;
			next = now + period;
		}
		obs_sleep_until(next);
	}
	free(pids);
	free(before);
	free(after);
	free(sql);
	return NULL;
}

/* ------------------------------------------------- pg_stat_statements */

/* Run sql and return the first value of the first row (malloc'd) or NULL. */
static char *
obs_scalar(struct pgconn *c, const char *sql, char *err, size_t errlen)
{
	struct pgconn_result *r = NULL;
	char	   *v = NULL;

	if (!pgconn_exec(c, sql, &r, err, errlen))
		return NULL;
	if (r && pgconn_result_ntuples(r) > 0 && pgconn_result_value(r, 0, 0))
		v = pd_strdup(pgconn_result_value(r, 0, 0));
	pgconn_result_clear(r);
	if (v == NULL)
		snprintf(err, errlen, "no rows");
	return v;
}

static void
obs_snap_free(struct obs_pgss_snap *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->rows[i].key);
	free(s->rows);
	s->rows = NULL;
	s->n = 0;
}

/*
 * obs_snapshot: the pg_stat_statements rows of this database and role that
 * belong to one of the run's statements.  Returns false with a message.
 */
static bool
obs_snapshot(struct pd_observe *ob, struct obs_pgss_snap *out, char *err,
			 size_t errlen)
{
	struct pd_observe_state *st = ob->st;
	struct pgconn_result *r = NULL;
	char	   *schema = pgconn_quote_ident(st->pgss_schema);
	char		sql[1024];

	snprintf(sql, sizeof(sql),
			 "SELECT s.userid::text || '/' || s.dbid::text || '/' || coalesce(s.queryid::text, '') || '/' || s.toplevel::text,"
			 " s.query, s.calls, s.total_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read,"
			 " s.temp_blks_written, s.wal_bytes"
			 " FROM %s.pg_stat_statements s"
			 " WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
			 " AND s.userid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)"
			 " AND s.toplevel",
			 schema);
	free(schema);
	out->n = 0;
	out->rows = NULL;
	if (!pgconn_exec(st->conn, sql, &r, err, errlen))
		return false;
	if (r == NULL)
		return true;
	out->rows = pd_calloc(pgconn_result_ntuples(r) + 1, sizeof(*out->rows));
	for (int i = 0; i < pgconn_result_ntuples(r); i++)
	{
		int			stmt = obs_stmt_of_text(ob, pgconn_result_value(r, i, 1));
		struct obs_pgss_row *row;

		if (stmt < 0)
			continue;
		row = &out->rows[out->n++];
		row->key = pd_strdup(pgconn_result_value(r, i, 0));
		row->stmt = stmt;
		for (int k = 0; k < 7; k++)
		{
			const char *v = pgconn_result_value(r, i, 2 + k);

			row->v[k] = v ? strtod(v, NULL) : 0;
		}
	}
	pgconn_result_clear(r);
	return true;
}

/* Check what the server offers; notes for what it lacks. */
static void
obs_check_server(struct pd_observe *ob)
{
	struct pd_observe_state *st = ob->st;
	char		err[512];
	char	   *v;

	v = obs_scalar(st->conn,
				   "SELECT (pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')"
				   " OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user))::text",
				   err, sizeof(err));
	if (v != NULL && strcmp(v, "false") == 0)
		pd_observe_note(ob, "the role is not a member of pg_read_all_stats: waits and queries of other roles' sessions (lock blockers outside the run) are hidden; hint: GRANT pg_read_all_stats TO the role");
	free(v);

	v = obs_scalar(st->conn,
				   "SELECT n.nspname FROM pg_catalog.pg_extension e"
				   " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
				   " WHERE e.extname = 'pg_stat_statements'",
				   err, sizeof(err));
	if (v == NULL)
	{
		pd_observe_note(ob, "pg_stat_statements is not installed in this database: no server figures per statement (the wait profile is still given); hint: add pg_stat_statements to shared_preload_libraries, restart the server and run CREATE EXTENSION pg_stat_statements");
		return;
	}
	st->pgss_schema = v;
	if (!obs_snapshot(ob, &st->before, err, sizeof(err)))
	{
		pd_observe_note(ob, "pg_stat_statements cannot be read: %s; no server figures per statement (the wait profile is still given); hint: add pg_stat_statements to shared_preload_libraries and restart the server", err);
		free(st->pgss_schema);
		st->pgss_schema = NULL;
	}
}

/* Stop the sampler thread, also while it still waits for the clock. */
static void
obs_stop_thread(struct pd_observe_state *st)
{
	pthread_mutex_lock(&st->start_lock);
	atomic_store(&st->stop, true);
	pthread_cond_broadcast(&st->start_cond);
	pthread_mutex_unlock(&st->start_lock);
	pthread_join(st->thread, NULL);
}

bool
pd_observe_start(struct pd_observe *ob)
{
	struct pd_observe_state *st = ob->st;
	char		err[512];
	int			rc;

	st->t0_ns = pd_now_ns();
	st->conn = pgconn_connect_blocking(st->params, err, sizeof(err));
	if (st->conn == NULL)
	{
		pd_observe_note(ob, "the sampler could not connect: %s; no server-side evidence", err);
		return false;
	}
	st->server_version = pgconn_server_version(st->conn);
	pgconn_exec(st->conn, "SET application_name = 'perfdriver observer'", NULL, err, sizeof(err));
	if (!obs_prepare(st, err, sizeof(err)))
	{
		pd_observe_note(ob, "the sampler cannot read pg_stat_activity: %s; no wait profile", err);
		obs_check_server(ob);
		return false;
	}
	obs_check_server(ob);
	rc = pthread_create(&st->thread, NULL, obs_thread, ob);
	if (rc != 0)
	{
		pd_observe_note(ob, "could not start the sampler thread: %s", strerror(rc));
		return false;
	}
	/* its own name in top -H, perf and /proc (bench/observe_bench.sh reads it) */
	pthread_setname_np(st->thread, "pd observer");
	st->running = true;
	return true;
}

void
pd_observe_stop(struct pd_observe *ob)
{
	struct pd_observe_state *st = ob->st;
	struct obs_pgss_snap after;
	char		err[512];
	int			vanished;

	if (st->running)
	{
		obs_stop_thread(st);
		st->running = false;
	}
	/* lock pairs, most samples first */
	for (int i = 1; i < st->npairs; i++)
		for (int j = i; j > 0 && st->pairs[j].n > st->pairs[j - 1].n; j--)
		{
			struct obs_pair t = st->pairs[j];

			st->pairs[j] = st->pairs[j - 1];
			st->pairs[j - 1] = t;
		}
	vanished = atomic_load(&st->vanished);
	if (vanished > 0)
		pd_observe_note(ob, "%d backend%s of the run ended during it (clients reconnected): their samples stop at the disconnect and go on under the new backend",
						vanished, vanished == 1 ? "" : "s");
	if (st->failed_ticks > 0)
		pd_observe_note(ob, "%llu sample%s failed, the last with: %s",
						(unsigned long long) st->failed_ticks, st->failed_ticks == 1 ? "" : "s",
						st->tick_error);
	if (st->mismatches > 0)
		pd_observe_note(ob, "%llu sample%s attributed by the server's query text, not by the driver's current statement (pipelining or a statement change during the sample)",
						(unsigned long long) st->mismatches, st->mismatches == 1 ? " was" : "s were");
	if (st->conn == NULL)
	{
		char		cerr[512];

		st->conn = pgconn_connect_blocking(st->params, cerr, sizeof(cerr));
		if (st->conn == NULL)
			return;
	}
	if (st->pgss_schema == NULL)
		return;
	if (!obs_snapshot(ob, &after, err, sizeof(err)))
	{
		pd_observe_note(ob, "pg_stat_statements could not be read after the run: %s", err);
		return;
	}
	for (int i = 0; i < after.n; i++)
	{
		struct obs_pgss_row *a = &after.rows[i];
		struct pd_obs_server *sv = &st->server[a->stmt];
		const double *b = NULL;
		double		d[7];

		for (int j = 0; j < st->before.n; j++)
			if (strcmp(st->before.rows[j].key, a->key) == 0)
			{
				b = st->before.rows[j].v;
				break;
			}
		for (int k = 0; k < 7; k++)
		{
			d[k] = a->v[k] - (b ? b[k] : 0);
			if (d[k] < 0)		/* the entry was evicted and came back */
				d[k] = a->v[k];
		}
		if (d[0] <= 0)
			continue;
		sv->present = true;
		sv->calls += d[0];
		sv->total_exec_ms += d[1];
		sv->rows += d[2];
		sv->shared_blks_hit += d[3];
		sv->shared_blks_read += d[4];
		sv->temp_blks_written += d[5];
		sv->wal_bytes += d[6];
	}
	obs_snap_free(&after);
}

/* ------------------------------------------------------------- plans */

char *
pd_obs_explain_sql(const char *sql, int nparams, const char *const *values,
				   bool analyze, const char *name,
				   char *(*quote) (void *arg, const char *s), void *qarg,
				   char **prep)
{
	const char *opts = analyze ? "FORMAT JSON, VERBOSE, ANALYZE, BUFFERS" : "FORMAT JSON, VERBOSE";
	size_t		cap = strlen(sql) + 256;
	char	   *out;
	size_t		off;

	*prep = NULL;
	if (nparams <= 0)
	{
		out = pd_malloc(cap);
		snprintf(out, cap, "EXPLAIN (%s) %s", opts, sql);
		return out;
	}
	*prep = pd_malloc(strlen(sql) + strlen(name) + 32);
	sprintf(*prep, "PREPARE %s AS %s", name, sql);
	out = pd_malloc(cap);
	off = (size_t) snprintf(out, cap, "EXPLAIN (%s) EXECUTE %s(", opts, name);
	for (int i = 0; i < nparams; i++)
	{
		char	   *q = values ? quote(qarg, values[i]) : pd_strdup("NULL");
		size_t		need = off + strlen(q) + 4;

		if (need > cap)
		{
			cap = need * 2;
			out = realloc(out, cap);
			if (out == NULL)
			{
				pd_error("out of memory");
				abort();
			}
		}
		off += (size_t) snprintf(out + off, cap - off, "%s%s", i ? ", " : "", q);
		free(q);
	}
	snprintf(out + off, cap - off, ")");
	return out;
}

static char *
obs_quote(void *arg, const char *s)
{
	return pgconn_quote_literal(arg, s);
}

static double
obs_rel_rows(void *arg, const char *schema, const char *rel)
{
	struct pd_observe_state *st = arg;
	char		name[256];
	char		sql[640];
	char		err[256];
	char	   *qs,
			   *qr,
			   *v;
	double		rows;

	snprintf(name, sizeof(name), "%s.%s", schema ? schema : "", rel);
	for (int i = 0; i < st->nrelrows; i++)
		if (strcmp(st->relrows[i].name, name) == 0)
			return st->relrows[i].rows;
	qs = pgconn_quote_literal(st->conn, schema ? schema : "");
	qr = pgconn_quote_literal(st->conn, rel);
	snprintf(sql, sizeof(sql),
			 "SELECT greatest(c.reltuples, 0)::float8 FROM pg_catalog.pg_class c"
			 " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
			 " WHERE c.relname = %s AND (n.nspname = %s OR %s = '')"
			 " ORDER BY n.nspname = %s DESC LIMIT 1", qr, qs, qs, qs);
	free(qs);
	free(qr);
	v = obs_scalar(st->conn, sql, err, sizeof(err));
	rows = v ? strtod(v, NULL) : -1;
	free(v);
	st->relrows = realloc(st->relrows, (st->nrelrows + 1) * sizeof(*st->relrows));
	if (st->relrows == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	st->relrows[st->nrelrows].name = pd_strdup(name);
	st->relrows[st->nrelrows].rows = rows;
	st->nrelrows++;
	return rows;
}

static double
jnum(json_t *o, const char *key, double dflt)
{
	json_t	   *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static void
obs_add_line(char ***lines, int *n, const char *s)
{
	*lines = realloc(*lines, (*n + 1) * sizeof(char *));
	if (*lines == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	(*lines)[(*n)++] = pd_strdup(s);
}

static void
obs_walk_plan(json_t *node, double (*rel_rows) (void *, const char *, const char *),
			  void *arg, double large, char ***lines, int *n)
{
	const char *type = json_string_value(json_object_get(node, "Node Type"));
	const char *rel = json_string_value(json_object_get(node, "Relation Name"));
	const char *schema = json_string_value(json_object_get(node, "Schema"));
	const char *filter = json_string_value(json_object_get(node, "Filter"));
	json_t	   *plans = json_object_get(node, "Plans");
	char		buf[1024];
	double		relrows = -1;
	double		removed = -1;
	bool		estimated = false;

	if (rel != NULL)
		relrows = rel_rows(arg, schema, rel);
	if (json_object_get(node, "Rows Removed by Filter") != NULL)
		removed = jnum(node, "Rows Removed by Filter", 0) * jnum(node, "Actual Loops", 1);
	else if (filter != NULL && type != NULL && strcmp(type, "Seq Scan") == 0 && relrows >= 0)
	{
		removed = relrows - jnum(node, "Plan Rows", 0);
		estimated = true;
	}
	if (type != NULL && strcmp(type, "Seq Scan") == 0 && rel != NULL && relrows >= large)
	{
		int			off = snprintf(buf, sizeof(buf), "Seq Scan on %s%s%s (about %.0f rows)",
								   schema ? schema : "", schema ? "." : "", rel, relrows);

		if (removed > 0 && filter != NULL)
			snprintf(buf + off, sizeof(buf) - off, " removes %s%.0f rows by filter: %s",
					 estimated ? "about " : "", removed, filter);
		obs_add_line(lines, n, buf);
	}
	else if (removed > 0 && filter != NULL && !estimated)
	{
		snprintf(buf, sizeof(buf), "%s%s%s removes %.0f rows by filter: %s",
				 type ? type : "node", rel ? " on " : "", rel ? rel : "", removed, filter);
		obs_add_line(lines, n, buf);
	}
	if (json_is_array(plans))
	{
		size_t		i;
		json_t	   *child;

		json_array_foreach(plans, i, child)
			obs_walk_plan(child, rel_rows, arg, large, lines, n);
	}
}

int
pd_obs_plan_findings(const char *plan_json,
					 double (*rel_rows) (void *arg, const char *schema, const char *rel),
					 void *arg, double large_rows, char ***lines)
{
	json_error_t jerr;
	json_t	   *root = json_loads(plan_json, 0, &jerr);
	json_t	   *top;
	int			n = 0;

	*lines = NULL;
	if (root == NULL)
		return -1;
	top = json_is_array(root) ? json_array_get(root, 0) : root;
	top = json_object_get(top, "Plan");
	if (!json_is_object(top))
	{
		json_decref(root);
		return -1;
	}
	obs_walk_plan(top, rel_rows, arg, large_rows, lines, &n);
	json_decref(root);
	return n;
}

const struct pd_obs_slow *
pd_observe_slowest(const struct pd_observe *ob, int stmt)
{
	const struct pd_obs_slow *best = NULL;

	if (stmt < 0 || stmt >= ob->nstmts)
		return NULL;
	for (int t = 0; t < ob->nthreads; t++)
	{
		const struct pd_obs_slow *s = &ob->slow[(size_t) t * ob->nstmts + stmt];

		if (s->ms > 0 && (best == NULL || s->ms > best->ms))
			best = s;
	}
	return best;
}

/* Total time of a statement for choosing what to explain. */
static double
obs_total(const struct pd_observe *ob, int stmt, const double *client_total_ms)
{
	if (ob->st->server[stmt].present)
		return ob->st->server[stmt].total_exec_ms;
	return client_total_ms ? client_total_ms[stmt] : 0;
}

/*
 * obs_explain_one: explain stmt with values (NULL: generic); the plan text
 * (malloc'd) or NULL with a message in err.
 */
static char *
obs_explain_one(struct pd_observe *ob, int stmt, const char *const *values,
				char *err, size_t errlen)
{
	struct pd_observe_state *st = ob->st;
	struct pgconn *c = st->conn;
	bool		analyze = st->o.analyze;
	char	   *prep = NULL;
	char	   *sql;
	char	   *plan = NULL;
	char		ignore[256];

	sql = pd_obs_explain_sql(st->param_sql[stmt], st->nparams[stmt], values,
							 analyze, "perfdriver_observe_explain", obs_quote, c, &prep);
	pgconn_exec(c, values ? "SET plan_cache_mode = force_custom_plan"
				: "SET plan_cache_mode = force_generic_plan", NULL, ignore, sizeof(ignore));
	if (analyze && !pgconn_exec(c, "BEGIN", NULL, err, errlen))
		goto done;
	if (prep == NULL || pgconn_exec(c, prep, NULL, err, errlen))
		plan = obs_scalar(c, sql, err, errlen);
	if (analyze)
		pgconn_exec(c, "ROLLBACK", NULL, ignore, sizeof(ignore));
	if (prep != NULL)
		pgconn_exec(c, "DEALLOCATE perfdriver_observe_explain", NULL, ignore, sizeof(ignore));
done:
	pgconn_exec(c, "RESET plan_cache_mode", NULL, ignore, sizeof(ignore));
	free(prep);
	free(sql);
	return plan;
}

static double *obs_sort_key;

static int
obs_cmp_desc(const void *a, const void *b)
{
	double		x = obs_sort_key[*(const int *) a];
	double		y = obs_sort_key[*(const int *) b];

	return (x < y) - (x > y);
}

void
pd_observe_explain(struct pd_observe *ob, const double *client_total_ms)
{
	struct pd_observe_state *st = ob->st;
	int		   *order;
	double	   *key;
	int			done = 0;

	if (st->conn == NULL || ob->nstmts == 0)
		return;
	order = pd_calloc(ob->nstmts, sizeof(int));
	key = pd_calloc(ob->nstmts, sizeof(double));
	for (int i = 0; i < ob->nstmts; i++)
	{
		order[i] = i;
		key[i] = obs_total(ob, i, client_total_ms);
	}
	obs_sort_key = key;
	qsort(order, ob->nstmts, sizeof(int), obs_cmp_desc);
	obs_sort_key = NULL;

	for (int k = 0; k < ob->nstmts && done < PD_OBS_TOP_PLANS; k++)
	{
		int			i = order[k];
		const struct pd_obs_slow *slow = pd_observe_slowest(ob, i);
		char		err[512];
		char	   *plan;

		if (key[i] <= 0 && slow == NULL)
			continue;
		done++;
		if (st->multi[i] || !pd_sql_explainable(st->param_sql[i], err, sizeof(err)))
		{
			pd_observe_note(ob, "statement \"%.60s\" cannot be EXPLAINed: %s", st->query[i],
							st->multi[i] ? "several statements" : err);
			continue;
		}
		if (st->nparams[i] > 0 && (slow == NULL || slow->nparams != st->nparams[i]))
			slow = NULL;
		plan = obs_explain_one(ob, i, slow ? (const char *const *) slow->values : NULL,
							   err, sizeof(err));
		if (plan == NULL)
		{
			pd_observe_note(ob, "statement \"%.60s\" cannot be EXPLAINed: %s", st->query[i], err);
			continue;
		}
		st->plan[i] = plan;
		if (slow != NULL)
			st->plan_slow[i] = (int) ((slow - ob->slow) / ob->nstmts);
		st->nfindings[i] = pd_obs_plan_findings(plan, obs_rel_rows, st,
												PD_OBS_LARGE_TABLE, &st->findings[i]);
		if (st->nfindings[i] < 0)
			st->nfindings[i] = 0;
	}
	free(order);
	free(key);
}

void
pd_observe_free(struct pd_observe *ob)
{
	struct pd_observe_state *st;

	if (ob == NULL)
		return;
	st = ob->st;
	if (st->running)
		obs_stop_thread(st);
	pgconn_close(st->conn);
	for (int i = 0; i < ob->nstmts; i++)
	{
		free(st->query[i]);
		free(st->param_sql[i]);
		free(st->plan[i]);
		for (int j = 0; j < st->nfindings[i]; j++)
			free(st->findings[i][j]);
		free(st->findings[i]);
	}
	for (size_t i = 0; i < (size_t) ob->nthreads * ob->nstmts; i++)
	{
		for (int j = 0; j < ob->slow[i].nparams; j++)
			free(ob->slow[i].values[j]);
		free(ob->slow[i].values);
	}
	for (int i = 0; i < PD_OBS_MAX_LABELS; i++)
		free(st->labels[i]);
	for (int i = 0; i < st->nnotes; i++)
		free(st->notes[i]);
	for (int i = 0; i < st->nrelrows; i++)
		free(st->relrows[i].name);
	obs_snap_free(&st->before);
	free(st->relrows);
	free(st->pgss_schema);
	free(st->fp);
	free(st->query);
	free(st->param_sql);
	free(st->nparams);
	free(st->multi);
	free(st->counts);
	free(st->samples);
	free(st->server);
	free(st->plan);
	free(st->findings);
	free(st->nfindings);
	free(st->plan_slow);
	pthread_mutex_destroy(&st->notes_lock);
	pthread_mutex_destroy(&st->start_lock);
	pthread_cond_destroy(&st->start_cond);
	free(st);
	free(ob->clients);
	free(ob->stmt_of);
	free(ob->cmd_base);
	free(ob->slow);
	free(ob);
}

/* ------------------------------------------------------------ control */

struct pgconn *
pd_observe_conn(struct pd_observe *ob)
{
	return ob->st->running ? NULL : ob->st->conn;
}

void
pd_observe_mark_start(struct pd_observe *ob, int64_t t_ns)
{
	struct pd_observe_state *st = ob->st;

	pthread_mutex_lock(&st->start_lock);
	st->t0_ns = t_ns;
	st->started = true;
	pthread_cond_broadcast(&st->start_cond);
	pthread_mutex_unlock(&st->start_lock);
}
