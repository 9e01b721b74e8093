/*
 * pgconn.h
 *		perfdriver's only door to libpq: connection parameters, asynchronous
 *		connect, non-blocking query submission and result reading, pipeline
 *		mode, and the few blocking helpers that set-up, init and the
 *		store's session (store.c) need.
 *
 * Owns: every PGconn and PGresult of the program (wrapped in opaque structs).
 *
 * Must not: print anything; callers decide what to report.  Never puts a
 * password into a string it returns: pgconn_params_describe() leaves it out
 * and libpq's own messages do not contain it.
 *
 * Memory: struct pgconn_params, struct pgconn and struct pgconn_result are
 * malloc'd here and freed by their _free/_close/_clear functions.  Strings
 * returned by accessors belong to the object they came from.
 *
 * Threads: a struct pgconn is used by one thread at a time; params are
 * immutable after parsing and may be shared.
 */
#ifndef PERFDRIVER_PGCONN_H
#define PERFDRIVER_PGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pgconn_params;
struct pgconn;

/*
 * pgconn_params_parse: target is a conninfo string, a postgresql:// URI, a
 * database name, or NULL (PG* environment variables and defaults only).
 * Returns NULL with libpq's message in err when the conninfo is malformed.
 * application_name defaults to "perfdriver".
 */
struct pgconn_params *pgconn_params_parse(const char *target, char *err,
										  size_t errlen);

/*
 * pgconn_params_with_dbname: a copy of p that connects to dbname instead
 * (used by init and tests that create databases).  Never fails.
 */
struct pgconn_params *pgconn_params_with_dbname(const struct pgconn_params *p,
												const char *dbname);

/*
 * pgconn_params_set_default: set key to value unless the target set it.  A
 * fallback_application_name that pgconn_params_parse() filled in ("perfdriver")
 * counts as not set, so a session can name itself ("perfdriver store").
 */
void		pgconn_params_set_default(struct pgconn_params *p, const char *key,
									  const char *value);

void		pgconn_params_free(struct pgconn_params *p);

/*
 * pgconn_params_describe: "host=... port=... dbname=... user=..." for
 * messages, with every password removed.  Writes into buf (always
 * NUL-terminated) and returns it.
 */
char	   *pgconn_params_describe(const struct pgconn_params *p, char *buf,
								   size_t buflen);

/* Progress of an asynchronous connect. */
typedef enum pgconn_poll
{
	PGCONN_POLL_READ,			/* wait until the socket is readable */
	PGCONN_POLL_WRITE,			/* wait until the socket is writable */
	PGCONN_POLL_OK,				/* connected; now in non-blocking mode */
	PGCONN_POLL_FAILED			/* failed; see pgconn_error() */
} pgconn_poll;

/*
 * pgconn_start: begin connecting without blocking.  Returns a connection
 * (never NULL; aborts on out-of-memory).  Then call pgconn_connect_poll()
 * whenever the socket is ready in the direction it last asked for, starting
 * with PGCONN_POLL_WRITE.
 */
struct pgconn *pgconn_start(const struct pgconn_params *p);

/*
 * pgconn_connect_poll: advance the connect.  On PGCONN_POLL_OK the
 * connection has been put in non-blocking mode.  The socket may change
 * between calls: read it again with pgconn_socket().
 */
pgconn_poll pgconn_connect_poll(struct pgconn *c);

/*
 * pgconn_connect_blocking: connect and wait.  Returns the connection in
 * blocking mode, or NULL with libpq's message in err.
 */
struct pgconn *pgconn_connect_blocking(const struct pgconn_params *p,
									   char *err, size_t errlen);

/* Close and free; NULL is allowed. */
void		pgconn_close(struct pgconn *c);

/* The socket, or -1. */
int			pgconn_socket(const struct pgconn *c);

/* libpq's last error message for c without the trailing newline. */
const char *pgconn_error(struct pgconn *c);

/* True when the connection is broken (CONNECTION_BAD). */
bool		pgconn_is_bad(const struct pgconn *c);

/* Server version as an integer (150004), 0 when unknown. */
int			pgconn_server_version(const struct pgconn *c);

/* Transaction status of the session. */
typedef enum pgconn_txn
{
	PGCONN_TXN_IDLE,
	PGCONN_TXN_ACTIVE,			/* a command is in progress */
	PGCONN_TXN_INTRANS,			/* idle in a transaction block */
	PGCONN_TXN_INERROR,			/* idle in a failed transaction block */
	PGCONN_TXN_UNKNOWN			/* bad connection */
} pgconn_txn;

pgconn_txn	pgconn_txn_status(const struct pgconn *c);

/*
 * Non-blocking submission.  Each returns false when libpq refused the
 * command (the connection is broken or the query cannot be sent); read
 * pgconn_error() then.  After any of them call pgconn_flush() until it
 * returns 0.  values are text parameters, NULL meaning SQL NULL.
 */
bool		pgconn_send_simple(struct pgconn *c, const char *sql);
bool		pgconn_send_params(struct pgconn *c, const char *sql, int nparams,
							   const char *const *values);
bool		pgconn_send_prepare(struct pgconn *c, const char *name,
								const char *sql, int nparams);
bool		pgconn_send_prepared(struct pgconn *c, const char *name,
								 int nparams, const char *const *values);

/* 0: all sent; 1: more to send, wait for writability; -1: failed. */
int			pgconn_flush(struct pgconn *c);

/* Read what the socket has; false when the connection failed. */
bool		pgconn_consume(struct pgconn *c);

/* True when pgconn_next_result() would block. */
bool		pgconn_busy(struct pgconn *c);

/* Pipeline mode (libpq 14+).  Each returns false on failure. */
bool		pgconn_pipeline_enter(struct pgconn *c);
bool		pgconn_pipeline_sync(struct pgconn *c);
bool		pgconn_pipeline_exit(struct pgconn *c);
bool		pgconn_in_pipeline(const struct pgconn *c);

/* What one result says. */
typedef enum pgconn_rstatus
{
	PGCONN_R_OK,				/* command or tuples ok */
	PGCONN_R_ERROR,				/* error, with sqlstate */
	PGCONN_R_PIPELINE_SYNC,
	PGCONN_R_PIPELINE_ABORTED,
	PGCONN_R_COPY,				/* a COPY that could not be ended (the
								 * connection broke) */
	PGCONN_R_OTHER
} pgconn_rstatus;

struct pgconn_result;

/*
 * pgconn_next_result: the next result, or NULL when the current command has
 * no more.  Call only when pgconn_busy() is false (else it blocks).  Free
 * with pgconn_result_clear().  A COPY the command started is ended first
 * (blocking): COPY FROM STDIN is failed (the server reports SQLSTATE 57014
 * as the next result), the data of COPY TO STDOUT is read and dropped.
 */
struct pgconn_result *pgconn_next_result(struct pgconn *c);

void		pgconn_result_clear(struct pgconn_result *r);
pgconn_rstatus pgconn_result_status(const struct pgconn_result *r);

/*
 * The result's SQLSTATE: the server's, or "08006" when libpq reported a
 * connection failure without one, or "XX000" for other client-side errors.
 */
const char *pgconn_result_sqlstate(const struct pgconn_result *r);

/* The primary error message, without the trailing newline, or "". */
const char *pgconn_result_message(const struct pgconn_result *r);

/* Tuples returned, or the row count of INSERT/UPDATE/DELETE/... */
uint64_t	pgconn_result_rows(const struct pgconn_result *r);

int			pgconn_result_ntuples(const struct pgconn_result *r);
int			pgconn_result_nfields(const struct pgconn_result *r);
const char *pgconn_result_fname(const struct pgconn_result *r, int col);

/* The text of a value, or NULL for SQL NULL. */
const char *pgconn_result_value(const struct pgconn_result *r, int row,
								int col);

/*
 * Blocking helpers for set-up and init (never on the hot path).
 *
 * pgconn_exec: run sql (simple protocol, may hold several statements).
 * Returns true on success.  On failure writes the server's message (and
 * SQLSTATE in brackets) into err.  When out is not NULL and the last result
 * has tuples, *out receives it (caller clears).
 */
bool		pgconn_exec(struct pgconn *c, const char *sql,
						struct pgconn_result **out, char *err, size_t errlen);

/*
 * pgconn_exec_params: run one statement and wait: with nparams 0 in the
 * simple protocol, else in the extended protocol with text parameters
 * (values[i] NULL for SQL NULL).  Returns the statement's result, also
 * when it is an error (read pgconn_result_status() and
 * pgconn_result_message()); the caller clears it.  Returns NULL when libpq
 * produced no result at all (read pgconn_error()).
 */
struct pgconn_result *pgconn_exec_params(struct pgconn *c, const char *sql,
										 int nparams,
										 const char *const *values);

/*
 * COPY FROM STDIN: pgconn_copy_begin runs the COPY statement; put sends
 * data; end finishes it and reads the final status.  Each returns false
 * with a message in err.
 */
bool		pgconn_copy_begin(struct pgconn *c, const char *sql, char *err,
							  size_t errlen);
bool		pgconn_copy_put(struct pgconn *c, const char *data, size_t len,
							char *err, size_t errlen);
bool		pgconn_copy_end(struct pgconn *c, char *err, size_t errlen);

/* Quote an identifier for SQL (malloc'd), e.g. for CREATE DATABASE. */
char	   *pgconn_quote_ident(const char *s);

/*
 * pgconn_quote_literal: s as a SQL string literal for this connection's
 * settings (libpq's PQescapeLiteral), malloc'd; NULL becomes "NULL".
 * Aborts on out-of-memory.
 */
char	   *pgconn_quote_literal(struct pgconn *c, const char *s);

/* The server process id of the session (PQbackendPID), 0 when unknown. */
int			pgconn_backend_pid(const struct pgconn *c);

/*
 * pgconn_libpq_version: the version of the libpq this process runs with
 * (PQlibVersion(), for example 150020 for 15.20).
 */
int			pgconn_libpq_version(void);

#endif							/* PERFDRIVER_PGCONN_H */
