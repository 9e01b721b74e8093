/*
 * unit.h
 *		The one assertion harness of perfstore's C test programs: the
 *		driver's unit tests (tests/unit/test_*.c), the N+1 detector's
 *		(tests/nplus1/test_nplus1.c), the sketch core's
 *		(tests/core/sketch_core_test.c and, under ThreadSanitizer,
 *		tests/core/sketch_threads_test.c) and the binary decoder client
 *		(tests/clients/sketch_binary_client.c).  tests/unit/unit.mk builds
 *		them all.
 *
 * Two kinds of check, counted together:
 *	- CHECK(cond, fmt, ...): silent when it passes; a failure prints
 *	  "FAIL file:line: <message>".  For programs with hundreds of checks.
 *	- unit_report(ok, fmt, ...): prints every check as "ok N - <what>" or
 *	  "not ok N - <what>".  For programs with a few named checks.
 * A program returns UNIT_DONE("name"), which prints "name: N passed, N
 * failed" and gives the exit status (1 when anything failed); the suites
 * add these lines up (count_summary in tests/lib.sh).
 *
 * Include it once per program (the counters are static).  No memory
 * rules: test programs exit.
 */
#ifndef PERFSTORE_UNIT_H
#define PERFSTORE_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
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

/* A named check, printed whether it passes or not. */
__attribute__((format(printf, 2, 3), unused))
static void
unit_report(bool ok, const char *fmt,...)
{
	va_list		ap;

	if (ok)
		unit_passed++;
	else
		unit_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", unit_passed + unit_failed);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define UNIT_DONE(name) \
	(printf("%s: %d passed, %d failed\n", (name), unit_passed, unit_failed), \
	 unit_failed ? 1 : 0)

#endif							/* PERFSTORE_UNIT_H */
