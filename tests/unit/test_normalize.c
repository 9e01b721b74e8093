/*
 * test_normalize.c
 *		Unit tests for driver/normalize.c: fingerprints equal across
 *		literal values and parameter forms, different across shapes, and
 *		the lexical fallback for text libpg_query cannot parse.
 */
#include <stdlib.h>

#include "normalize.h"
#include "unit.h"

static void
check_same(const char *a, const char *b)
{
	CHECK(pgb_fingerprint(a) == pgb_fingerprint(b), "same fingerprint:\n  %s\n  %s", a, b);
}

static void
check_differ(const char *a, const char *b)
{
	CHECK(pgb_fingerprint(a) != pgb_fingerprint(b), "different fingerprint:\n  %s\n  %s", a, b);
}

static void
check_text(const char *sql, const char *want, bool fallback)
{
	struct pgb_normalized n;

	pgb_normalize(sql, &n);
	CHECK(n.text != NULL && strcmp(n.text, want) == 0 && n.fallback == fallback,
		  "normalize \"%s\": got \"%s\" (fallback %d), want \"%s\"",
		  sql, n.text ? n.text : "(null)", (int) n.fallback, want);
	pgb_normalized_free(&n);
}

int
main(void)
{
	char	   *t;

	/* literal values and parameters normalize alike */
	check_same("SELECT * FROM t WHERE id = 17", "SELECT * FROM t WHERE id = 18");
	check_same("SELECT * FROM t WHERE id = 17", "SELECT * FROM t WHERE id = $1");
	check_same("SELECT * FROM t WHERE id = 17", "select  *\nfrom t where id=99;");
	check_same("SELECT * FROM t WHERE name = 'a'", "SELECT * FROM t WHERE name = 'it''s'");
	check_same("INSERT INTO t (a, b) VALUES (1, 'x')", "INSERT INTO t (a, b) VALUES ($1, $2)");
	check_same("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (4, 5)");
	check_same("UPDATE pgbench_accounts SET abalance = abalance + 5 WHERE aid = 3",
			   "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
	/* different shapes differ */
	check_differ("SELECT * FROM t WHERE id = 17", "SELECT * FROM u WHERE id = 17");
	check_differ("SELECT * FROM t WHERE id = 17", "SELECT * FROM t WHERE other = 17");
	check_differ("SELECT a FROM t WHERE id = 1", "SELECT b FROM t WHERE id = 1");
	check_differ("BEGIN", "END");
	check_differ("SELECT * FROM t WHERE id = 1", "DELETE FROM t WHERE id = 1");

	/* normalized text */
	check_text("SELECT * FROM t WHERE id = 17", "SELECT * FROM t WHERE id = $1", false);
	check_text("SELECT * FROM t WHERE id = 18;", "SELECT * FROM t WHERE id = $1", false);
	check_text("SELECT  a,\n\tb FROM t WHERE s = 'x  y' AND n = 2.5",
			   "SELECT a, b FROM t WHERE s = $1 AND n = $2", false);
	check_text("SELECT $1::int + 5", "SELECT $1::int + $2", false);
	check_text("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
			   "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", false);

	/* fallback: unparseable text still gets a stable fingerprint */
	check_text("SELEC * FROM t WHERE id = 17 AND s = 'abc'",
			   "selec * from t where id = $1 and s = $2", true);
	check_same("SELEC * FROM t WHERE id = 17 AND s = 'abc'",
			   "selec *  from T where id = 99 and s = E'x\\'y' -- comment");
	check_differ("SELEC * FROM t WHERE id = 17", "SELEC * FROM u WHERE id = 17");
	check_text("SELEC $2 + 5, 'a' FROM \"Mixed Case\"", "selec $2 + $3, $4 from \"Mixed Case\"", true);
	check_text("SELEC x1 + 2.5e3 FROM t /* c; */ WHERE s = $q$ a ' b $q$",
			   "selec x1 + $1 from t where s = $2", true);
	CHECK(pgb_fingerprint("") == pgb_fingerprint("   "), "empty text has a fingerprint");

	t = pgb_normalize_lexical("SELECT 1");
	CHECK_STR(t, "select $1");
	free(t);
	t = pgb_normalize_text("SELECT 1");
	CHECK_STR(t, "SELECT $1");
	free(t);

	pgb_normalize_thread_done();
	return UNIT_DONE("test_normalize");
}
