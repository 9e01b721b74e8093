/*
 * util.c
 *		perfdriver's error lines and its aborting allocators, in one place.
 *
 * Owns: the format of "perfdriver: error: ...", "perfdriver: warning: ..."
 * and "hint: ..." lines, and what happens when memory runs out: the
 * message "perfdriver: error: out of memory" and abort(), as pgbench's
 * pg_malloc exits.  Every file of the driver allocates through
 * pd_malloc, pd_calloc, pd_realloc, pd_strdup and pd_strndup, so that no
 * caller checks for NULL.
 *
 * Must not: include libpq-fe.h or anything beyond the C library: the unit
 * tests link this file alone with the layer they test.  Must not print a
 * password: callers pass scrubbed descriptions only.
 *
 * Memory: the allocators return malloc'd memory the caller frees with
 * free(); a request for 0 bytes returns a valid, freeable pointer.  No
 * state of its own.
 */
#include "driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- errors */

void
pd_error(const char *fmt,...)
{
	va_list		ap;

	fputs("perfdriver: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
pd_hint(const char *fmt,...)
{
	va_list		ap;

	fputs("hint: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
pd_warning(const char *fmt,...)
{
	va_list		ap;

	fputs("perfdriver: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------ allocation */

void
pd_out_of_memory(void)
{
	fputs("perfdriver: error: out of memory\n", stderr);
	abort();
}

void *
pd_malloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		pd_out_of_memory();
	return p;
}

void *
pd_calloc(size_t n, size_t size)
{
	void	   *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		pd_out_of_memory();
	return p;
}

void *
pd_realloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (p == NULL)
		pd_out_of_memory();
	return p;
}

char *
pd_strdup(const char *s)
{
	char	   *p = strdup(s);

	if (p == NULL)
		pd_out_of_memory();
	return p;
}

char *
pd_strndup(const char *s, size_t n)
{
	char	   *p = pd_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
