/*
 * junit.h
 *		A comparison as JUnit XML, for CI systems that show test reports:
 *		one testcase for the whole run and one per statement, with a
 *		failure element listing the metrics that regressed.
 *
 * Owns: the XML shape and its escaping.
 *
 * Must not: include libpq-fe.h; depend on anything but the C library (the
 * unit tests link this file alone).
 *
 * Memory: allocates nothing that outlives a call.
 */
#ifndef PERFDRIVER_JUNIT_H
#define PERFDRIVER_JUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store.h"

/*
 * junit_escape: write s as XML character data or attribute value: & < > "
 * and ' become entities, control characters XML 1.0 cannot carry and bytes
 * that are not valid UTF-8 become '?'.  Tab, newline and carriage return are
 * written as character references so that attributes keep them.
 */
void		junit_escape(FILE *f, const char *s);

/*
 * junit_write: write c to path as JUnit XML.  Returns false with a message
 * in err when the file cannot be written.
 */
bool		junit_write(const char *path, const struct pd_cmp *c, char *err,
						size_t errlen);

/* The same, to an open stream; false when writing failed. */
bool		junit_write_stream(FILE *f, const struct pd_cmp *c);

#endif							/* PERFDRIVER_JUNIT_H */
