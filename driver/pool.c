/*
 * pool.c
 *		Opening the pool concurrently and reconnecting lost connections.
 *
 * Owns: the connect loop of pool_connect() and the backoff state machine of
 * pool_conn_step() (see pool.h for the policy).
 *
 * Must not: include libpq-fe.h (pgconn.c does that), print, or block in the
 * reconnect path.  pool_connect() does wait, in poll(), but only before the
 * run's clock starts.
 *
 * Memory: the pool array is malloc'd by pool_alloc() and freed by
 * pool_close(); connections inside are owned by their pool_conn.
 */
#include "pool.h"
#include "driver.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static short
poll_events(pgconn_poll want)
{
	return want == PGCONN_POLL_READ ? POLLIN : POLLOUT;
}

struct pool_conn *
pool_alloc(int n)
{
	return pd_calloc(n, sizeof(struct pool_conn));
}

bool
pool_connect(struct pool_conn *conns, int n, const struct pgconn_params *p,
			 char *err, size_t errlen)
{
	struct pollfd *pfd = pd_calloc(n, sizeof(*pfd));
	int		   *idx = pd_calloc(n, sizeof(*idx));
	int			pending = n;
	bool		failed = false;

	for (int i = 0; i < n; i++)
	{
		conns[i].conn = pgconn_start(p);
		conns[i].state = POOL_CONNECTING;
		conns[i].want = PGCONN_POLL_WRITE;
	}
	while (pending > 0 && !failed)
	{
		int			np = 0;

		for (int i = 0; i < n; i++)
		{
			if (conns[i].state != POOL_CONNECTING)
				continue;
			pfd[np].fd = pgconn_socket(conns[i].conn);
			pfd[np].events = poll_events(conns[i].want);
			pfd[np].revents = 0;
			idx[np++] = i;
		}
		if (poll(pfd, np, 1000) < 0 && errno != EINTR)
		{
			snprintf(err, errlen, "poll failed: %s", strerror(errno));
			failed = true;
			break;
		}
		for (int k = 0; k < np && !failed; k++)
		{
			struct pool_conn *pc = &conns[idx[k]];

			/* a negative socket means libpq already failed: poll it */
			if (pfd[k].revents == 0 && pfd[k].fd >= 0)
				continue;
			pc->want = pgconn_connect_poll(pc->conn);
			if (pc->want == PGCONN_POLL_OK)
			{
				pc->state = POOL_UP;
				pending--;
			}
			else if (pc->want == PGCONN_POLL_FAILED)
			{
				snprintf(err, errlen, "%s", pgconn_error(pc->conn));
				failed = true;
			}
		}
	}
	free(pfd);
	free(idx);
	if (failed)
	{
		for (int i = 0; i < n; i++)
		{
			pgconn_close(conns[i].conn);
			conns[i].conn = NULL;
			conns[i].state = POOL_DEAD;
		}
	}
	return !failed;
}

void
pool_close(struct pool_conn *conns, int n)
{
	if (conns == NULL)
		return;
	for (int i = 0; i < n; i++)
		pgconn_close(conns[i].conn);
	free(conns);
}

void
pool_conn_lost(struct pool_conn *pc, int64_t now_ns)
{
	pgconn_close(pc->conn);
	pc->conn = NULL;
	pc->state = POOL_BACKOFF;
	pc->retry_at_ns = now_ns;
	pc->backoff_ns = 0;
	pc->down_since_ns = now_ns;
	pc->lost++;
}

/* An attempt failed: wait longer before the next one, or give up. */
static void
pool_conn_failed(struct pool_conn *pc, int64_t now_ns)
{
	snprintf(pc->last_error, sizeof(pc->last_error), "%s",
			 pgconn_error(pc->conn));
	pgconn_close(pc->conn);
	pc->conn = NULL;
	if (now_ns - pc->down_since_ns > (int64_t) POOL_GIVE_UP_S * 1000000000LL)
	{
		pc->state = POOL_DEAD;
		return;
	}
	pc->backoff_ns = pc->backoff_ns == 0 ? POOL_BACKOFF_MIN_NS : 2 * pc->backoff_ns;
	if (pc->backoff_ns > POOL_BACKOFF_MAX_NS)
		pc->backoff_ns = POOL_BACKOFF_MAX_NS;
	pc->retry_at_ns = now_ns + pc->backoff_ns;
	pc->state = POOL_BACKOFF;
}

pool_state
pool_conn_step(struct pool_conn *pc, const struct pgconn_params *p,
			   int64_t now_ns)
{
	if (pc->state == POOL_BACKOFF)
	{
		if (now_ns < pc->retry_at_ns)
			return pc->state;
		pc->conn = pgconn_start(p);
		pc->state = POOL_CONNECTING;
		pc->want = PGCONN_POLL_WRITE;
		if (pgconn_socket(pc->conn) >= 0)
			return pc->state;
		/* no socket: the start already failed, fall through to see it */
	}
	if (pc->state == POOL_CONNECTING)
	{
		pc->want = pgconn_connect_poll(pc->conn);
		if (pc->want == PGCONN_POLL_OK)
		{
			pc->state = POOL_UP;
			pc->generation++;
			pc->reconnects++;
		}
		else if (pc->want == PGCONN_POLL_FAILED)
			pool_conn_failed(pc, now_ns);
	}
	return pc->state;
}

int
pool_conn_fd(const struct pool_conn *pc)
{
	if (pc->state != POOL_CONNECTING || pc->conn == NULL)
		return -1;
	return pgconn_socket(pc->conn);
}

short
pool_conn_events(const struct pool_conn *pc)
{
	if (pc->state != POOL_CONNECTING)
		return 0;
	return poll_events(pc->want);
}
