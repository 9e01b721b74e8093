/*
 * test_observe.c
 *		Unit tests for driver/observe.c and driver/advise.c without a
 *		server: wait labels, blocking-pid arrays, plan findings, the EXPLAIN
 *		text, statement numbering and slow-call capture, and the candidate
 *		columns taken from parse trees.
 */
#include <math.h>
#include <stdlib.h>

#include "advise.h"
#include "observe.h"
#include "unit.h"

static const char *plan_estimated =
"[{\"Plan\": {\"Node Type\": \"Seq Scan\", \"Relation Name\": \"orders\", \"Schema\": \"public\","
" \"Total Cost\": 3971.00, \"Plan Rows\": 40, \"Filter\": \"(orders.customer_id = 42)\"}}]";

static const char *plan_analyzed =
"[{\"Plan\": {\"Node Type\": \"Nested Loop\", \"Total Cost\": 12.5, \"Plan Rows\": 1, \"Plans\": ["
" {\"Node Type\": \"Index Scan\", \"Relation Name\": \"customers\", \"Schema\": \"public\","
"  \"Plan Rows\": 1, \"Filter\": \"(active)\", \"Rows Removed by Filter\": 3, \"Actual Loops\": 2},"
" {\"Node Type\": \"Seq Scan\", \"Relation Name\": \"small\", \"Schema\": \"public\","
"  \"Plan Rows\": 5, \"Filter\": \"(x > 1)\", \"Rows Removed by Filter\": 5, \"Actual Loops\": 1}"
"]}}]";

static double
rel_rows(void *arg, const char *schema, const char *rel)
{
	(void) arg;
	if (schema && strcmp(schema, "public") == 0 && strcmp(rel, "orders") == 0)
		return 200000;
	if (strcmp(rel, "small") == 0)
		return 10;
	return 50000;
}

static char *
quote(void *arg, const char *s)
{
	char	   *out = malloc(strlen(s) + 3);

	(void) arg;
	sprintf(out, "'%s'", s);
	return out;
}

static void
test_labels(void)
{
	char		buf[64];
	int			pids[4];

	CHECK_STR(pd_obs_label(NULL, NULL, buf, sizeof(buf)), "CPU");
	CHECK_STR(pd_obs_label("", NULL, buf, sizeof(buf)), "CPU");
	CHECK_STR(pd_obs_label("Lock", "transactionid", buf, sizeof(buf)), "Lock:transactionid");
	CHECK_STR(pd_obs_label("IO", "DataFileRead", buf, sizeof(buf)), "IO:DataFileRead");

	CHECK(pd_obs_parse_int_array("{}", pids, 4) == 0, "empty array");
	CHECK(pd_obs_parse_int_array("{12}", pids, 4) == 1 && pids[0] == 12, "one pid");
	CHECK(pd_obs_parse_int_array("{12,345,6}", pids, 4) == 3 && pids[1] == 345 && pids[2] == 6,
		  "three pids");
	CHECK(pd_obs_parse_int_array("{1,2,3,4,5}", pids, 4) == 4, "capped at cap");
	CHECK(pd_obs_parse_int_array("12", pids, 4) == -1, "no braces");
	CHECK(pd_obs_parse_int_array("{1,x}", pids, 4) == -1, "not a number");
	CHECK(pd_obs_parse_int_array(NULL, pids, 4) == -1, "NULL");
}

static void
test_findings(void)
{
	char	  **l;
	int			n;

	n = pd_obs_plan_findings(plan_estimated, rel_rows, NULL, 10000, &l);
	CHECK(n == 1, "one finding, got %d", n);
	if (n == 1)
	{
		CHECK_STR(l[0], "Seq Scan on public.orders (about 200000 rows) removes about 199960 rows by filter: (orders.customer_id = 42)");
		free(l[0]);
	}
	free(l);

	/* a seq scan over a small table is not pointed out for its size, but
	 * rows removed by filter (measured) are, per loop times loops */
	n = pd_obs_plan_findings(plan_analyzed, rel_rows, NULL, 10000, &l);
	CHECK(n == 2, "two findings, got %d", n);
	if (n == 2)
	{
		CHECK_STR(l[0], "Index Scan on customers removes 6 rows by filter: (active)");
		CHECK_STR(l[1], "Seq Scan on small removes 5 rows by filter: (x > 1)");
	}
	for (int i = 0; i < n; i++)
		free(l[i]);
	free(l);

	/* no findings: a large table scanned by index, without a filter */
	n = pd_obs_plan_findings("[{\"Plan\": {\"Node Type\": \"Index Scan\", \"Relation Name\": \"orders\", \"Schema\": \"public\", \"Plan Rows\": 1}}]",
							 rel_rows, NULL, 10000, &l);
	CHECK(n == 0, "no finding, got %d", n);
	free(l);
	CHECK(pd_obs_plan_findings("not json", rel_rows, NULL, 10000, &l) == -1, "bad JSON");

	CHECK(fabs(pd_plan_total_cost(plan_estimated) - 3971.0) < 1e-9, "total cost");
	CHECK(isnan(pd_plan_total_cost("[]")), "no cost");
}

static void
test_explain_sql(void)
{
	const char *vals[] = {"42", "it"};
	char	   *prep;
	char	   *sql;

	sql = pd_obs_explain_sql("SELECT 1", 0, NULL, false, "p", quote, NULL, &prep);
	CHECK(prep == NULL, "no PREPARE without parameters");
	CHECK_STR(sql, "EXPLAIN (FORMAT JSON, VERBOSE) SELECT 1");
	free(sql);

	sql = pd_obs_explain_sql("SELECT * FROM t WHERE a = $1 AND b = $2", 2, vals, true, "p",
							 quote, NULL, &prep);
	CHECK_STR(prep, "PREPARE p AS SELECT * FROM t WHERE a = $1 AND b = $2");
	CHECK_STR(sql, "EXPLAIN (FORMAT JSON, VERBOSE, ANALYZE, BUFFERS) EXECUTE p('42', 'it')");
	free(sql);
	free(prep);

	sql = pd_obs_explain_sql("SELECT * FROM t WHERE a = $1", 1, NULL, false, "p", quote, NULL, &prep);
	CHECK_STR(sql, "EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE p(NULL)");
	free(sql);
	free(prep);
}

static void
test_numbering(void)
{
	char		err[256];
	struct pgb_script *a = pgb_script_parse("a",
											"\\set id random(1, 10)\n"
											"SELECT * FROM t WHERE id = :id;\n"
											"UPDATE t SET n = n + 1 WHERE id = :id;\n", err, sizeof(err));
	struct pgb_script *b = pgb_script_parse("b",
											"SELECT * FROM t WHERE id = 5;\n"
											"SELECT count(*) FROM u;\n", err, sizeof(err));
	struct pgb_script *scripts[2] = {a, b};
	struct pd_observe_opts o = {false, 0};
	struct pd_observe *ob;
	const char *v1[] = {"3"};
	const char *v2[] = {"7"};
	const struct pd_obs_slow *s;
	size_t		n;

	CHECK(a != NULL && b != NULL, "scripts parse: %s", err);
	if (a == NULL || b == NULL)
		return;
	ob = pd_observe_new(NULL, scripts, 2, 4, 2, &o);
	CHECK(ob->nstmts == 3, "three statements by fingerprint, got %d", ob->nstmts);
	CHECK(pd_observe_stmt(ob, 0, 0) == -1, "\\set is no statement");
	CHECK(pd_observe_stmt(ob, 0, 1) == 0, "first SELECT is 0");
	CHECK(pd_observe_stmt(ob, 0, 2) == 1, "UPDATE is 1");
	CHECK(pd_observe_stmt(ob, 1, 0) == 0, "the same SELECT with a literal is 0");
	CHECK(pd_observe_stmt(ob, 1, 1) == 2, "count is 2");
	CHECK(pd_observe_find(ob, pd_observe_stmt_fingerprint(ob, 1)) == 1, "find by fingerprint");
	CHECK(pd_observe_find(ob, 12345) == -1, "unknown fingerprint");

	/* the slowest call's values win, over threads */
	pd_observe_slow_call(ob, 0, 0, 5.0, 1, v1);
	pd_observe_slow_call(ob, 1, 0, 9.0, 1, v2);
	pd_observe_slow_call(ob, 0, 0, 2.0, 1, v2);
	s = pd_observe_slowest(ob, 0);
	CHECK(s != NULL && s->ms == 9.0 && s->nparams == 1 && strcmp(s->values[0], "7") == 0,
		  "slowest call kept");
	CHECK(pd_observe_slowest(ob, 2) == NULL, "no call of statement 2");

	/* client slots */
	pd_observe_client_pid(ob, 1, 4242);
	pd_observe_client_running(ob, 1, 2);
	CHECK(atomic_load(&ob->clients[1].pid) == 4242 && atomic_load(&ob->clients[1].stmt) == 2,
		  "client slot published");
	pd_observe_client_running(ob, 1, -1);
	CHECK(atomic_load(&ob->clients[1].stmt) == -1, "client idle");
	CHECK(pd_observe_samples(ob, &n) == NULL && n == 0, "no samples before a run");
	pd_observe_free(ob);
	pgb_script_free(a);
	pgb_script_free(b);
}

static void
check_cand(const struct pd_cands *c, int i, const char *table, const char *col,
		   pd_cand_kind kind)
{
	CHECK(i < c->n, "candidate %d exists (have %d)", i, c->n);
	if (i >= c->n)
		return;
	CHECK((table == NULL && c->c[i].table == NULL) ||
		  (table && c->c[i].table && strcmp(c->c[i].table, table) == 0),
		  "candidate %d table: got %s, want %s", i, c->c[i].table ? c->c[i].table : "(null)",
		  table ? table : "(null)");
	CHECK_STR(c->c[i].column, col);
	CHECK(c->c[i].kind == kind, "candidate %d (%s) kind %d, want %d", i, col, c->c[i].kind, kind);
}

static void
test_candidates(void)
{
	struct pd_cands c;
	char		err[256];

	/* equality first, then range, then sort; aliases resolved */
	CHECK(pd_advise_candidates("SELECT o.id FROM public.orders o WHERE o.created > $2 AND o.customer_id = $1 ORDER BY o.total",
							   &c, err, sizeof(err)), "parses");
	CHECK(c.n == 3, "three candidates, got %d", c.n);
	check_cand(&c, 0, "orders", "customer_id", PD_CAND_EQ);
	check_cand(&c, 1, "orders", "created", PD_CAND_RANGE);
	check_cand(&c, 2, "orders", "total", PD_CAND_SORT);
	CHECK(c.nrels == 1 && c.rels[0].schema && strcmp(c.rels[0].schema, "public") == 0,
		  "schema kept");
	pd_advise_candidates_free(&c);

	/* join keys on both sides; unqualified columns of a join are left to
	 * the catalog; IN is equality; a column used twice keeps its
	 * strongest kind */
	CHECK(pd_advise_candidates("SELECT * FROM orders o JOIN customers c ON c.id = o.customer_id"
							   " WHERE status IN (1, 2) AND o.created < now() ORDER BY o.created",
							   &c, err, sizeof(err)), "join parses");
	CHECK(c.n == 4, "four candidates, got %d", c.n);
	check_cand(&c, 0, "customers", "id", PD_CAND_JOIN);
	check_cand(&c, 1, "orders", "customer_id", PD_CAND_JOIN);
	check_cand(&c, 2, NULL, "status", PD_CAND_EQ);
	check_cand(&c, 3, "orders", "created", PD_CAND_RANGE);
	pd_advise_candidates_free(&c);

	/* UPDATE and DELETE; constant on the left; BETWEEN */
	CHECK(pd_advise_candidates("UPDATE t SET a = 1 WHERE 3 = b", &c, err, sizeof(err)), "update");
	CHECK(c.n == 1, "one candidate, got %d", c.n);
	check_cand(&c, 0, "t", "b", PD_CAND_EQ);
	pd_advise_candidates_free(&c);
	CHECK(pd_advise_candidates("DELETE FROM s.t x WHERE x.b BETWEEN 1 AND 2", &c, err, sizeof(err)), "delete");
	check_cand(&c, 0, "t", "b", PD_CAND_RANGE);
	pd_advise_candidates_free(&c);

	/* what indexes cannot serve */
	CHECK(!pd_advise_candidates("VACUUM t", &c, err, sizeof(err)), "utility refused");
	CHECK(strcmp(err, "not a SELECT, UPDATE or DELETE") == 0, "utility message: %s", err);
	CHECK(!pd_advise_candidates("SELEC 1", &c, err, sizeof(err)), "syntax error refused");
	CHECK(strncmp(err, "does not parse: ", 16) == 0, "parse error message: %s", err);
	CHECK(pd_sql_explainable("SELECT 1", err, sizeof(err)), "SELECT explainable");
	CHECK(pd_sql_explainable("UPDATE t SET a = $1", err, sizeof(err)), "UPDATE explainable");
	CHECK(!pd_sql_explainable("VACUUM t", err, sizeof(err)) &&
		  strcmp(err, "a utility statement (VACUUM)") == 0, "VACUUM: %s", err);
	CHECK(!pd_sql_explainable("BEGIN", err, sizeof(err)) &&
		  strcmp(err, "a utility statement (TRANSACTION)") == 0, "BEGIN: %s", err);
	CHECK(!pd_sql_explainable("SELECT 1; SELECT 2", err, sizeof(err)) &&
		  strcmp(err, "several statements") == 0, "two: %s", err);
}

static void
test_ident(void)
{
	char	   *s;

	s = pd_sql_ident("orders");
	CHECK_STR(s, "orders");
	free(s);
	s = pd_sql_ident("Orders");
	CHECK_STR(s, "\"Orders\"");
	free(s);
	s = pd_sql_ident("order");
	CHECK_STR(s, "\"order\"");
	free(s);
	s = pd_sql_ident("a b");
	CHECK_STR(s, "\"a b\"");
	free(s);
}

int
main(void)
{
	test_labels();
	test_findings();
	test_explain_sql();
	test_numbering();
	test_candidates();
	test_ident();
	return UNIT_DONE("test_observe");
}
