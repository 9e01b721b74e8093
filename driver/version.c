/*
 * version.c
 *		"perfdriver --version": perfdriver's own version and the versions of
 *		the libraries it runs with.
 *
 * Owns: the version lines.  perfdriver's version is the extension's
 * (default_version in perfstore.control, passed in as PD_VERSION by
 * driver/driver.mk), so the driver and the extension of one source tree
 * always show one version.  libpq reports its own version
 * (PQlibVersion, through pgconn.c).  libpg_query has no version call: the
 * version shown is read from the file name of the shared object actually
 * loaded (libpg_query.so.1504.0.0 is 15-4.0.0: PostgreSQL 15's parser,
 * library 4.0.0), next to the parser version of the headers perfdriver was
 * built with.
 *
 * Must not: include libpq-fe.h or pg_query.h (pgconn.c and normalize.c
 * own those libraries).
 *
 * Memory: none beyond the stack.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "normalize.h"
#include "pgconn.h"

#ifndef PD_VERSION
#error "PD_VERSION must be defined (driver/driver.mk reads it from perfstore.control)"
#endif

struct version_lib
{
	const char *stem;			/* "libpg_query.so." */
	char		path[PATH_MAX];		/* the loaded file, resolved; "" if none */
};

/* dl_iterate_phdr callback: remember the first object whose name has stem. */
static int
version_find_lib(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct version_lib *lib = arg;
	const char *base;

	(void) size;
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
		return 0;
	base = strrchr(info->dlpi_name, '/');
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, lib->stem, strlen(lib->stem)) != 0)
		return 0;
	if (realpath(info->dlpi_name, lib->path) == NULL)
		snprintf(lib->path, sizeof(lib->path), "%s", info->dlpi_name);
	return 1;
}

/*
 * version_pg_query: write libpg_query's version into buf ("15-4.0.0") from
 * the loaded file's name, or "unknown" when it is linked statically or its
 * name does not have the libpg_query.so.PPMM.m.p form.  *path gets the
 * loaded file ("" when none).
 */
static void
version_pg_query(char *buf, size_t buflen, struct version_lib *lib)
{
	const char *base;
	unsigned	major,
				minor,
				patch;
	int			n = 0;

	lib->stem = "libpg_query.so.";
	lib->path[0] = '\0';
	dl_iterate_phdr(version_find_lib, lib);
	snprintf(buf, buflen, "unknown");
	if (lib->path[0] == '\0')
		return;
	base = strrchr(lib->path, '/');
	base = base ? base + 1 : lib->path;
	/* a link may resolve to a file of another name */
	if (strncmp(base, lib->stem, strlen(lib->stem)) != 0)
		return;
	base += strlen(lib->stem);
	minor = patch = 0;
	if (sscanf(base, "%u%n.%u%n.%u%n", &major, &n, &minor, &n, &patch, &n) >= 1 &&
		base[n] == '\0' && major >= 100)
		snprintf(buf, buflen, "%u-%u.%u.%u", major / 100, major % 100, minor, patch);
}

void
pd_print_version(FILE *out)
{
	int			pq = pgconn_libpq_version();
	struct version_lib lib;
	char		pgq[64];

	version_pg_query(pgq, sizeof(pgq), &lib);
	fprintf(out, "perfdriver %s\n", PD_VERSION);
	/* since PostgreSQL 10, 150020 is 15.20 */
	if (pq >= 100000)
		fprintf(out, "libpq %d.%d\n", pq / 10000, pq % 10000);
	else
		fprintf(out, "libpq %d.%d.%d\n", pq / 10000, pq / 100 % 100, pq % 100);
	fprintf(out, "libpg_query %s (PostgreSQL %s parser)%s%s\n", pgq,
			pgb_normalize_parser_version(),
			lib.path[0] ? ", " : ", linked statically", lib.path);
}
