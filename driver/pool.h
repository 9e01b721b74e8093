/*
 * pool.h
 *		perfdriver's connection pool: the -c connections opened once and
 *		concurrently at start, and their re-establishment with bounded
 *		exponential backoff when the server drops them.
 *
 * Owns: struct pool_conn, the state of one pooled connection, and the
 * reconnect policy (first attempt at once, then 10 ms doubling up to 1 s
 * between attempts; a connection that stays down for POOL_GIVE_UP_S seconds
 * is given up).
 *
 * Must not: block.  Reconnects are driven by the owning thread's poll loop
 * through pool_conn_step(), with pool_conn_fd()/pool_conn_events() telling it
 * what to wait for.  Does not print; callers report.
 *
 * Memory: pool_alloc() returns an array of n structs, freed with
 * pool_close(), which also closes the connections.  Each pool_conn belongs
 * to one thread, which opens it with pool_connect().
 */
#ifndef PERFDRIVER_POOL_H
#define PERFDRIVER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pgconn.h"

#define POOL_BACKOFF_MIN_NS	 (10 * 1000 * 1000LL)
#define POOL_BACKOFF_MAX_NS	 (1000 * 1000 * 1000LL)
#define POOL_GIVE_UP_S		 60

typedef enum pool_state
{
	POOL_UP,					/* conn is usable */
	POOL_BACKOFF,				/* down; next attempt at retry_at_ns */
	POOL_CONNECTING,			/* an asynchronous connect is under way */
	POOL_DEAD					/* given up */
} pool_state;

struct pool_conn
{
	struct pgconn *conn;		/* NULL in POOL_BACKOFF and POOL_DEAD */
	pool_state	state;
	pgconn_poll want;			/* POOL_CONNECTING: direction to wait for */
	int64_t		retry_at_ns;
	int64_t		backoff_ns;
	int64_t		down_since_ns;
	unsigned	generation;		/* bumped on every successful reconnect */
	uint64_t	lost;			/* times the connection was lost */
	uint64_t	reconnects;		/* times it was re-established */
	char		last_error[256];	/* libpq's last connect failure */
};

/* pool_alloc: n pool slots, none connected yet; freed by pool_close(). */
struct pool_conn *pool_alloc(int n);

/*
 * pool_connect: open the n connections of conns (one thread's share of the
 * pool), all at once, and wait until every one is up.  Returns true, or
 * false with libpq's message for the first failure in err (the share's
 * connections are then closed).
 */
bool		pool_connect(struct pool_conn *conns, int n,
						 const struct pgconn_params *p, char *err, size_t errlen);

/* Close every connection and free the array; NULL is allowed. */
void		pool_close(struct pool_conn *conns, int n);

/*
 * pool_conn_lost: the connection broke.  Closes it, counts the loss and
 * schedules an immediate reconnect attempt (POOL_BACKOFF, due now).
 */
void		pool_conn_lost(struct pool_conn *pc, int64_t now_ns);

/*
 * pool_conn_step: advance a connection that is not up, at time now: start
 * an attempt when one is due (POOL_BACKOFF: calling it early is harmless),
 * or poll a connect in progress (POOL_CONNECTING: call it only when its
 * socket is ready in the direction of pool_conn_events(), or when
 * pool_conn_fd() is negative).  Returns the new state; POOL_UP means just
 * reconnected.
 */
pool_state	pool_conn_step(struct pool_conn *pc, const struct pgconn_params *p,
						   int64_t now_ns);

/* POOL_CONNECTING: the socket and poll() events to wait for; else -1/0. */
int			pool_conn_fd(const struct pool_conn *pc);
short		pool_conn_events(const struct pool_conn *pc);

#endif							/* PERFDRIVER_POOL_H */
