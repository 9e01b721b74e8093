/*
 * test_nplus1.c
 *		Unit tests of the N+1 detector (driver/nplus1.c) alone, without a
 *		log or a server: the run rules, thresholds, merging, the bounded
 *		unit, transaction-control classification and suggestions.
 *		Built by tests/unit/unit.mk (with driver/nplus1.c and
 *		driver/util.c) and run by tests/suites/nplus1.sh; uses
 *		tests/unit/unit.h.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nplus1.h"
#include "unit.h"


/* Feed statement fp with parameter value v (0: none) and duration ms. */
static void
feed(struct nplus1_unit *u, uint64_t fp, uint64_t v, double ms)
{
	struct nplus1_stmt s;
	char		params[32];

	snprintf(params, sizeof(params), "%llu", (unsigned long long) v);
	s.fingerprint = fp;
	s.text = fp == 1 ? "SELECT id FROM t LIMIT $1" : "SELECT v FROM t WHERE id = $1";
	s.param_hash = v;
	s.params = params;
	s.ms = ms;
	nplus1_unit_add(u, &s);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
nfindings(const struct nplus1 *d, const struct nplus1_finding **first)
{
	int			n;
	const struct nplus1_finding **f = nplus1_findings(d, &n);

	if (first)
		*first = n ? f[0] : NULL;
	free(f);
	return n;
}

int
main(void)
{
	struct nplus1_config cfg = {5, 0};
	struct nplus1 *d = nplus1_create(&cfg);
	struct nplus1 *d2;
	struct nplus1_unit *u = nplus1_unit_create(d);
	const struct nplus1_finding *f;
	char	   *s;

	/* source then 10 different lookups: one finding */
	feed(u, 1, 10, 1.0);
	for (int i = 0; i < 10; i++)
		feed(u, 2, 100 + i, 0.5);
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 1 && f->repeats_max == 10 &&
		  f->repeats_total == 10 && fabs(f->time_ms - 5.0) < 1e-9 && f->nexamples == 3 &&
		  strcmp(f->examples[0], "100") == 0,
		  "one finding, 10 repeats, 5 ms, examples");

	/* three loops back to back in one unit: three occurrences */
	for (int k = 0; k < 3; k++)
	{
		feed(u, 1, 10 + k, 1.0);
		for (int i = 0; i < 6; i++)
			feed(u, 2, 200 + i, 0.5);
	}
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 4 && f->repeats_total == 28,
		  "the source running again ends a run: 4 occurrences, 28 repeats (got %llu, %llu)",
		  f ? (unsigned long long) f->occurrences : 0ULL, f ? (unsigned long long) f->repeats_total : 0ULL);

	/* same parameter ten times, or four different ones: nothing more */
	feed(u, 1, 10, NAN);
	for (int i = 0; i < 10; i++)
		feed(u, 2, 7, NAN);
	nplus1_unit_end(u);
	feed(u, 1, 10, NAN);
	for (int i = 0; i < 4; i++)
		feed(u, 2, 300 + i, NAN);
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 4, "same values or 4 repeats: no new occurrence");

	/* no source: the unit starts with the repeats */
	for (int i = 0; i < 10; i++)
		feed(u, 2, 400 + i, NAN);
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 4, "no source: no finding");

	/* reset forgets a unit (a retried transaction) */
	feed(u, 1, 10, NAN);
	for (int i = 0; i < 10; i++)
		feed(u, 2, 500 + i, NAN);
	nplus1_unit_reset(u);
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 4, "reset unit: not counted");

	/* repeats more than NPLUS1_MAX_GAP statements apart: separate runs */
	feed(u, 1, 10, NAN);
	for (int i = 0; i < 10; i++)
	{
		feed(u, 2, 600 + i, NAN);
		for (int k = 0; k < NPLUS1_MAX_GAP + 1; k++)
			feed(u, 1000 + k, 1, NAN);
	}
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 4, "far apart: no finding");

	/* more distinct statements than NPLUS1_MAX_RUNS: bounded, still works */
	feed(u, 1, 10, NAN);
	for (int i = 0; i < 10; i++)
	{
		feed(u, 2, 700 + i, NAN);
		for (int k = 0; k < 3; k++)
			feed(u, 5000 + (uint64_t) i * 3 + k, 1, NAN);
	}
	nplus1_unit_end(u);
	CHECK(nfindings(d, &f) == 1 && f->occurrences == 5, "many distinct statements in between: found");

	/* min_time: a fast pattern is below the threshold */
	cfg.min_time_ms = 100;
	d2 = nplus1_create(&cfg);
	{
		struct nplus1_unit *u2 = nplus1_unit_create(d2);

		feed(u2, 1, 10, 1.0);
		for (int i = 0; i < 10; i++)
			feed(u2, 2, 100 + i, 0.5);
		nplus1_unit_end(u2);
		CHECK(nfindings(d2, NULL) == 0, "--nplus1-min-time 100: 5 ms is below");
		feed(u2, 1, 10, 1.0);
		for (int i = 0; i < 10; i++)
			feed(u2, 2, 100 + i, 20);
		nplus1_unit_end(u2);
		CHECK(nfindings(d2, NULL) == 1, "--nplus1-min-time 100: 200 ms is above");
		nplus1_unit_free(u2);
	}
	/* merge adds patterns */
	nplus1_merge(d2, d);
	CHECK(nfindings(d2, &f) == 1 && f->occurrences == 6, "merge: 1 + 5 occurrences (got %llu)",
		  f ? (unsigned long long) f->occurrences : 0ULL);
	CHECK(nplus1_units(d2) == nplus1_units(d) + 2, "merge: units add up");

	/* transaction control */
	CHECK(nplus1_txn_control("BEGIN") == NPLUS1_TXN_BEGIN, "BEGIN");
	CHECK(nplus1_txn_control("  start transaction isolation level serializable") == NPLUS1_TXN_BEGIN, "START TRANSACTION");
	CHECK(nplus1_txn_control("COMMIT;") == NPLUS1_TXN_END, "COMMIT");
	CHECK(nplus1_txn_control("end") == NPLUS1_TXN_END, "END");
	CHECK(nplus1_txn_control("ROLLBACK") == NPLUS1_TXN_END, "ROLLBACK");
	CHECK(nplus1_txn_control("ROLLBACK TO SAVEPOINT a") == NPLUS1_TXN_OTHER, "ROLLBACK TO");
	CHECK(nplus1_txn_control("SAVEPOINT a") == NPLUS1_TXN_OTHER, "SAVEPOINT");
	CHECK(nplus1_txn_control("PREPARE TRANSACTION 'x'") == NPLUS1_TXN_END, "PREPARE TRANSACTION");
	CHECK(nplus1_txn_control("SELECT begin_at FROM t") == NPLUS1_TXN_NONE, "SELECT");
	CHECK(nplus1_txn_control("beginning") == NPLUS1_TXN_NONE, "beginning is not BEGIN");

	/* suggestions */
	s = nplus1_suggest("SELECT id FROM t", "SELECT v FROM t WHERE id = $1");
	CHECK(starts_with(s, "SELECT v FROM t WHERE id = ANY($1) "), "= ANY: %s", s);
	free(s);
	s = nplus1_suggest("SELECT id FROM t", "SELECT v FROM t WHERE a >= $1 AND id = $2 ORDER BY v");
	CHECK(starts_with(s, "SELECT v FROM t WHERE a >= $1 AND id = ANY($2) ORDER BY v "), ">= skipped: %s", s);
	free(s);
	s = nplus1_suggest("SELECT id FROM t", "INSERT INTO r (a) VALUES ($1)");
	CHECK(strstr(s, "multi-row VALUES") != NULL, "insert: %s", s);
	free(s);
	s = nplus1_suggest("SELECT id FROM t", "SELECT v FROM t WHERE id > $1");
	CHECK(strstr(s, "joined with the source (SELECT id FROM t)") != NULL, "join: %s", s);
	free(s);

	nplus1_unit_free(u);
	nplus1_free(d);
	nplus1_free(d2);
	return UNIT_DONE("test_nplus1");
}
