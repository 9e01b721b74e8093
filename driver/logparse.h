/*
 * logparse.h
 *		Reading PostgreSQL server logs: csvlog, and stderr with a
 *		log_line_prefix holding %c or %p, into a stream of log entries.
 *
 * Owns: the two file formats.  csvlog: RFC 4180 records (quoted fields,
 * "" escapes, newlines inside quotes), fields by position as PostgreSQL 13
 * to 17 write them.  stderr: an entry is a line "<prefix><SEVERITY>:  text"
 * and the continuation lines after it that start with a tab (a multi-line
 * statement); the prefix is found by locating the severity, and in it the
 * session key (a %c session id such as 6560a1b2.1a2b, else the first
 * bracketed or bare integer: %p) and a leading %m/%t timestamp.
 *
 * Also owns the SQL "shape" scan analyze uses to avoid re-parsing every
 * statement: a hash of the text with literals, comments and whitespace
 * runs taken out, and the literal values themselves.
 *
 * Must not: know about statements, transactions or N+1 (cmd_analyze.c
 * interprets the entries), talk to libpq, or abort on bad input: a line it
 * cannot parse is reported to the caller and skipped; a truncated file
 * ends with its complete entries (the incomplete last one is reported as
 * unparsed).
 *
 * Memory: one read buffer (LOGPARSE_CHUNK, grown up to LOGPARSE_MAX_ENTRY
 * for a single long entry) and one scratch buffer for unescaped text,
 * malloc'd by logparse_file() and freed before it returns.  Entry fields
 * point into those buffers and are valid only during the callback.
 */
#ifndef PERFDRIVER_LOGPARSE_H
#define PERFDRIVER_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGPARSE_CHUNK		(4 << 20)
#define LOGPARSE_MAX_ENTRY	(64 << 20)

typedef enum logparse_format
{
	LOGPARSE_AUTO,
	LOGPARSE_CSVLOG,
	LOGPARSE_STDERR
} logparse_format;

/* One log entry. */
struct logparse_entry
{
	uint64_t	line;			/* 1-based line where it starts */
	const char *session;		/* session id or pid text */
	size_t		session_len;	/* 0 when none was found */
	bool		has_ts;
	int64_t		ts_ms;			/* log time, ms (time zone ignored) */
	const char *severity;		/* "LOG", "DETAIL", "ERROR"... */
	size_t		severity_len;
	const char *message;		/* continuation lines joined with '\n' */
	size_t		message_len;
	const char *detail;			/* csvlog's detail field; NULL for stderr */
	size_t		detail_len;
	/* who: csvlog's user_name, database_name and application_name fields,
	 * or in a stderr prefix the values after "user=", "db=" (or
	 * "database=") and "app=" (or "application="), as in
	 * log_line_prefix = '%m [%p] user=%u,db=%d,app=%a '; len 0 when absent */
	const char *user;
	size_t		user_len;
	const char *database;
	size_t		database_len;
	const char *application;
	size_t		application_len;
};

struct logparse_stats
{
	uint64_t	bytes;
	uint64_t	lines;
	uint64_t	entries;
	uint64_t	bad;			/* lines or records that did not parse */
	bool		truncated;		/* the file ended inside an entry */
	logparse_format format;		/* the format used (after detection) */
};

struct logparse_callbacks
{
	void		(*entry) (void *arg, const struct logparse_entry *e);
	/* a line (stderr) or record (csvlog) that did not parse */
	void		(*bad) (void *arg, uint64_t line, const char *text, size_t len);
	void	   *arg;
};

/*
 * logparse_detect: the format of a file that starts with buf[0..len):
 * csvlog when the first of its first 64 lines that starts with a timestamp
 * has a comma after it, else stderr.
 */
logparse_format logparse_detect(const char *buf, size_t len);

/*
 * logparse_fd: read the log from fd to its end, calling cb for each entry
 * and each unparsable line.  Returns false with a message in err when the
 * file cannot be read (a read error); bad content is never an error.
 * Fills *st.
 */
bool		logparse_fd(int fd, logparse_format format,
						const struct logparse_callbacks *cb,
						struct logparse_stats *st, char *err, size_t errlen);

/*
 * logparse_timestamp: parse "YYYY-MM-DD HH:MM:SS[.fff]" at s (len bytes
 * available) into ms since the epoch, ignoring any time zone.  Returns the
 * bytes consumed, 0 when s does not start with a timestamp.
 */
size_t		logparse_timestamp(const char *s, size_t len, int64_t *ms);

/*
 * logparse_sql_shape: scan sql[0..len): returns a hash of its shape (the
 * text with numbers, quoted strings and dollar-quoted strings replaced by a
 * placeholder, comments removed, whitespace runs as one space, keywords
 * case-folded), sets *lit_hash to a hash of the literal values (0 when
 * none) and writes them, comma-separated and truncated, into
 * lits[0..litcap) (NUL-terminated).
 */
uint64_t	logparse_sql_shape(const char *sql, size_t len, uint64_t *lit_hash,
							   char *lits, size_t litcap);

#endif							/* PERFDRIVER_LOGPARSE_H */
