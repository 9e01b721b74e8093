/*
 * unit.h
 *		A tiny assertion harness for perfdriver's server-less unit tests.
 *
 * Each test program includes this once, calls CHECK() for every assertion,
 * and returns UNIT_DONE(), which prints "<program>: N passed, N failed" and
 * exits non-zero when anything failed.  Failures print file, line and a
 * message; passes are silent.  No memory rules: test programs exit.
 */
#ifndef PERFDRIVER_UNIT_H
#define PERFDRIVER_UNIT_H

#include <stdio.h>
#include <string.h>

static int	unit_passed;
static int	unit_failed;

#define CHECK(cond, ...) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__); \
			printf("\n"); \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	CHECK((got) != NULL && strcmp((got), (want)) == 0, \
		  "got \"%s\", want \"%s\"", (got) ? (got) : "(null)", (want))

#define UNIT_DONE(name) \
	(printf("%s: %d passed, %d failed\n", (name), unit_passed, unit_failed), \
	 unit_failed ? 1 : 0)

#endif							/* PERFDRIVER_UNIT_H */
