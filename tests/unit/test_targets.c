/*
 * test_targets.c
 *		Unit tests of target assertions (driver/targets.c): the grammar,
 *		every error message and the position where parsing stopped, the
 *		conversions of units, and evaluation against JSON reports ("no
 *		data", "too few samples", every statement on its own).
 */
#include "unit.h"
#include "targets.h"

#include <jansson.h>

#include <math.h>
#include <stdlib.h>

static struct pd_assert
parse_ok(const char *expr)
{
	struct pd_assert a;
	char		err[256] = "";
	size_t		pos = 0;
	bool		ok = pd_assert_parse(expr, &a, err, sizeof(err), &pos);

	CHECK(ok, "\"%s\" should parse, got \"%s\" at %zu", expr, err, pos);
	return a;
}

/* expr must fail with message msg at 0-based offset pos. */
static void
parse_bad(const char *expr, size_t want_pos, const char *want_msg)
{
	struct pd_assert a;
	char		err[256] = "";
	size_t		pos = 999;
	bool		ok = pd_assert_parse(expr, &a, err, sizeof(err), &pos);

	CHECK(!ok, "\"%s\" should not parse", expr);
	CHECK(pos == want_pos, "\"%s\": stopped at %zu, want %zu (%s)", expr, pos, want_pos, err);
	CHECK(strcmp(err, want_msg) == 0, "\"%s\": message \"%s\", want \"%s\"", expr, err, want_msg);
	if (ok)
		pd_assert_free(&a);
}

static void
test_grammar(void)
{
	struct pd_assert a;

	a = parse_ok("p95<50ms");
	CHECK(a.scope == PD_ASSERT_RUN && strcmp(pd_assert_metric_name(a.metric), "p95") == 0 &&
		  a.op == PD_OP_LT && a.target == 50, "p95<50ms");
	pd_assert_free(&a);

	a = parse_ok("tps>500");
	CHECK(a.op == PD_OP_GT && a.target == 500, "tps>500");
	pd_assert_free(&a);

	a = parse_ok("  p99 <= 1.5 s ");
	CHECK(a.op == PD_OP_LE && a.target == 1500, "1.5 s is 1500 ms: %g", a.target);
	pd_assert_free(&a);

	a = parse_ok("mean>=250us");
	CHECK(a.op == PD_OP_GE && fabs(a.target - 0.25) < 1e-12, "250us is 0.25 ms: %g", a.target);
	pd_assert_free(&a);

	a = parse_ok("p999<7");
	CHECK(strcmp(pd_assert_metric_name(a.metric), "p999") == 0 && a.target == 7,
		  "p999 with ms by default");
	pd_assert_free(&a);

	a = parse_ok("error_rate<1%");
	CHECK(fabs(a.target - 0.01) < 1e-12, "1%% is 0.01: %g", a.target);
	pd_assert_free(&a);

	a = parse_ok("error_rate<0.02");
	CHECK(fabs(a.target - 0.02) < 1e-12, "a fraction");
	pd_assert_free(&a);

	a = parse_ok("failed<=0");
	CHECK(a.target == 0 && a.op == PD_OP_LE, "failed<=0");
	pd_assert_free(&a);

	a = parse_ok("statements.p95<50ms");
	CHECK(a.scope == PD_ASSERT_STATEMENTS && a.name == NULL, "statements scope");
	pd_assert_free(&a);

	/* the scope ends at the last "." before the metric: names may hold dots */
	a = parse_ok("script:checkout.sql.p99<=80ms");
	CHECK(a.scope == PD_ASSERT_SCRIPT, "script scope");
	CHECK_STR(a.name, "checkout.sql");
	CHECK(a.target == 80 && a.op == PD_OP_LE, "script target");
	{
		char	   *s = pd_assert_scope_text(&a);

		CHECK_STR(s, "script:checkout.sql");
		free(s);
	}
	pd_assert_free(&a);

	a = parse_ok("statement:WHERE aid = $1.p95 < 5ms");
	CHECK(a.scope == PD_ASSERT_STATEMENT, "statement scope");
	CHECK_STR(a.name, "WHERE aid = $1");
	pd_assert_free(&a);

	/* a text with "<" and a dotted number inside */
	a = parse_ok("statement:a < 1.5.max<2.5ms");
	CHECK_STR(a.name, "a < 1.5");
	CHECK(a.target == 2.5, "target 2.5: %g", a.target);
	pd_assert_free(&a);

	/* a statement text that itself ends in ".p95<" keeps the last one */
	a = parse_ok("statement:x.p95<3.p95<4");
	CHECK_STR(a.name, "x.p95<3");
	CHECK(a.target == 4, "target 4");
	pd_assert_free(&a);
}

static void
test_errors(void)
{
	parse_bad("", 0, "empty assertion");
	parse_bad("   ", 3, "empty assertion");
	parse_bad("p96<5", 0, "unrecognized metric \"p96\"");
	parse_bad("foo.p95<5", 0, "unrecognized metric \"foo\"");
	parse_bad("<5", 0, "expected a metric (p50, p95, p99, p999, max, mean, tps, error_rate or failed)");
	parse_bad("statements p95<5", 10, "expected \".\" and a metric after \"statements\"");
	parse_bad("statements.<5", 11, "expected a metric (p50, p95, p99, p999, max, mean, tps, error_rate or failed)");
	parse_bad("statements.p9<5", 11, "unrecognized metric \"p9\"");
	parse_bad("script:.p95<5", 7, "empty script name");
	parse_bad("statement:.p95<5", 10, "empty statement text");
	parse_bad("script:checkout", 15,
			  "expected \".\" and a metric followed by <, <=, > or >= after the script name");
	parse_bad("script:checkout.sql.p98<5", 20,
			  "expected \".\" and a metric followed by <, <=, > or >= after the script name");
	parse_bad("statement:select.p95 5", 17,
			  "expected \".\" and a metric followed by <, <=, > or >= after the statement text");
	parse_bad("p95", 3, "expected <, <=, > or >= after p95");
	parse_bad("p95 50ms", 4, "expected <, <=, > or >= after p95");
	parse_bad("p95=50", 3, "expected <, <=, > or >= after p95");
	parse_bad("p95==50", 3, "expected <, <=, > or >= after p95");
	parse_bad("p95<", 4, "expected a number");
	parse_bad("p95<<50", 4, "expected a number");
	parse_bad("p95< -5", 5, "expected a number");
	parse_bad("p95<.ms", 4, "expected a number");
	parse_bad("p95<0x10", 5, "unrecognized unit \"x\" for p95: use us, ms or s");
	parse_bad("p95<50kb", 6, "unrecognized unit \"kb\" for p95: use us, ms or s");
	parse_bad("p95<5%", 5, "unrecognized unit \"%\" for p95: use us, ms or s");
	parse_bad("tps>500ms", 7, "tps takes no unit, not \"ms\"");
	parse_bad("tps>5%", 5, "tps takes no unit, not \"%\"");
	parse_bad("failed<1.5", 7, "failed counts transactions: use a whole number, not 1.5");
	parse_bad("failed<2s", 8, "failed takes no unit, not \"s\"");
	parse_bad("error_rate<5", 11, "error_rate without % is a fraction from 0 to 1, not 5");
	parse_bad("error_rate<1ms", 12, "unrecognized unit \"ms\" for error_rate: use % or a fraction");
	parse_bad("error_rate<150%", 11, "error_rate cannot exceed 100%, not 150%");
	parse_bad("p95<50ms extra", 9, "unexpected \"extra\" after the target");
	parse_bad("p95<50 ms ms", 10, "unexpected \"ms\" after the target");
	parse_bad("p95<1.2.3", 7, "unexpected \".3\" after the target");
}

static void
test_caret(void)
{
	char		buf[128];

	pd_assert_caret("p95<<50", 4, buf, sizeof(buf));
	CHECK(strcmp(buf, "  p95<<50\n      ^") == 0, "caret: %s", buf);
	pd_assert_caret("p95", 99, buf, sizeof(buf));
	CHECK(strcmp(buf, "  p95\n     ^") == 0, "caret at the end: %s", buf);
}

static void
test_min_samples(void)
{
	struct pd_assert a = parse_ok("p99<1");

	CHECK(pd_assert_min_samples(a.metric, 0) == 100, "p99 needs 100: %lld",
		  pd_assert_min_samples(a.metric, 0));
	CHECK(pd_assert_min_samples(a.metric, 7) == 7, "--assert-min-samples wins");
	pd_assert_free(&a);
	a = parse_ok("p95<1");
	CHECK(pd_assert_min_samples(a.metric, 0) == 20, "p95 needs 20");
	pd_assert_free(&a);
	a = parse_ok("p999<1");
	CHECK(pd_assert_min_samples(a.metric, 0) == 1000, "p999 needs 1000");
	pd_assert_free(&a);
	a = parse_ok("max<1");
	CHECK(pd_assert_min_samples(a.metric, 0) == 1, "max needs 1");
	pd_assert_free(&a);
}

static const char *doc_text =
"{\"tps\": 612.5, \"transactions\": 6125, \"failed_transactions\": 25, \"duration_s\": 10.0,"
" \"latency_ms\": {\"p50\": 3.1, \"p95\": 41.0, \"p99\": 77.0, \"p999\": 90.0, \"max\": 120.0, \"mean\": 5.5},"
" \"statements\": ["
"  {\"query\": \"SELECT abalance FROM pgbench_accounts WHERE aid = $1\", \"calls\": 6000, \"errors\": 0,"
"   \"latency_ms\": {\"p50\": 0.2, \"p95\": 0.9, \"p99\": 1.5, \"p999\": 3.0, \"max\": 4.0, \"mean\": 0.3}},"
"  {\"query\": \"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2\", \"calls\": 6100, \"errors\": 25,"
"   \"latency_ms\": {\"p50\": 2.0, \"p95\": 60.0, \"p99\": 70.0, \"p999\": 80.0, \"max\": 90.0, \"mean\": 4.0}},"
"  {\"query\": \"SELECT count(*) FROM rare\", \"calls\": 50, \"errors\": 0,"
"   \"latency_ms\": {\"p50\": 1.0, \"p95\": 2.0, \"p99\": 3.0, \"p999\": 3.0, \"max\": 3.0, \"mean\": 1.2}}],"
" \"scripts\": [{\"name\": \"sql/checkout.sql\", \"transactions\": 6125, \"failed\": 25, \"tps\": 612.5,"
"   \"latency_ms\": {\"p50\": 3.1, \"p95\": 41.0, \"p99\": 77.0, \"p999\": 90.0, \"max\": 120.0, \"mean\": 5.5}},"
"  {\"name\": \"idle.sql\", \"transactions\": 0, \"failed\": 0, \"tps\": 0,"
"   \"latency_ms\": {\"p50\": null, \"p95\": null, \"p99\": null, \"p999\": null, \"max\": null, \"mean\": null}}]}";

/* Evaluate one expression against doc; returns the result (where kept). */
static struct pd_assert_result
eval1(json_t *doc, const char *expr, long long min_samples)
{
	struct pd_assert_set set = {.min_samples = min_samples};
	struct pd_assert a = parse_ok(expr);
	struct pd_assert_result r;

	pd_assert_set_push(&set, &a);
	pd_assert_evaluate(&set, doc);
	r = set.r[0];
	set.r[0].where = NULL;
	pd_assert_set_free(&set);
	return r;
}

static void
test_evaluate(void)
{
	json_error_t jerr;
	json_t	   *doc = json_loads(doc_text, 0, &jerr);
	struct pd_assert_result r;

	CHECK(doc != NULL, "test document parses: %s", jerr.text);

	r = eval1(doc, "p95<50ms", 0);
	CHECK(r.passed && r.value == 41.0 && r.samples == 6125, "p95 41 < 50 passes");
	r = eval1(doc, "p95<41ms", 0);
	CHECK(!r.passed && r.value == 41.0, "p95 41 < 41 fails");
	r = eval1(doc, "p95<=41ms", 0);
	CHECK(r.passed, "p95 41 <= 41 passes");
	r = eval1(doc, "tps>500", 0);
	CHECK(r.passed && r.value == 612.5, "tps");
	r = eval1(doc, "tps>=1000", 0);
	CHECK(!r.passed, "tps below target");
	r = eval1(doc, "error_rate<1%", 0);
	CHECK(r.passed && fabs(r.value - 25.0 / 6150) < 1e-12, "error rate %g", r.value);
	r = eval1(doc, "error_rate<0.1%", 0);
	CHECK(!r.passed, "error rate above 0.1%%");
	r = eval1(doc, "failed<=0", 0);
	CHECK(!r.passed && r.value == 25, "failed 25");
	r = eval1(doc, "p50<0.1s", 0);
	CHECK(r.passed && r.value == 3.1, "0.1 s");

	/* every statement on its own: the worst decides, and is named */
	r = eval1(doc, "statements.p95<50ms", 0);
	CHECK(!r.passed && r.value == 60.0, "statements p95: UPDATE at 60 fails");
	CHECK(r.where && strncmp(r.where, "UPDATE", 6) == 0, "names the UPDATE: %s", r.where ? r.where : "-");
	free(r.where);
	/* p99 over the rare statement's 50 calls is too few samples */
	r = eval1(doc, "statements.p99<100ms", 0);
	CHECK(!r.passed && strcmp(r.reason, "too few samples (50, p99 needs 100)") == 0,
		  "too few samples: %s", r.reason);
	CHECK(r.where && strstr(r.where, "rare") != NULL, "names the rare statement");
	free(r.where);
	r = eval1(doc, "statements.p99<100ms", 50);
	CHECK(r.passed && r.value == 70.0, "--assert-min-samples 50 lets it pass, worst 70: %g", r.value);
	free(r.where);
	/* a missed value beats a reason as the reported failure */
	r = eval1(doc, "statements.p99<60ms", 0);
	CHECK(!r.passed && r.value == 70.0 && r.reason[0] == '\0', "value miss reported first");
	free(r.where);

	r = eval1(doc, "statement:pgbench_accounts.p95<1ms", 0);
	CHECK(!r.passed && r.value == 60.0, "two statements match, the UPDATE fails");
	free(r.where);
	r = eval1(doc, "statement:select ABALANCE.p95<1ms", 0);
	CHECK(r.passed && r.value == 0.9, "case-insensitive match");
	free(r.where);
	r = eval1(doc, "statement:no_such_table.p95<1ms", 0);
	CHECK(!r.passed && isnan(r.value) &&
		  strcmp(r.reason, "no data (no statement contains \"no_such_table\")") == 0,
		  "no match is no data: %s", r.reason);
	r = eval1(doc, "statement:UPDATE.error_rate<1%", 0);
	CHECK(r.passed && fabs(r.value - 25.0 / 6125) < 1e-12, "statement error rate");
	free(r.where);
	r = eval1(doc, "statement:UPDATE.failed<1", 0);
	CHECK(!r.passed && r.value == 25, "statement failed = errors");
	free(r.where);
	r = eval1(doc, "statement:rare.tps>4", 0);
	CHECK(r.passed && r.value == 5.0, "statement rate = calls / duration: %g", r.value);
	free(r.where);

	r = eval1(doc, "script:checkout.sql.p99<=80ms", 0);
	CHECK(r.passed && r.value == 77.0, "script by base name");
	free(r.where);
	r = eval1(doc, "script:sql/checkout.sql.tps>600", 0);
	CHECK(r.passed, "script by full name");
	free(r.where);
	r = eval1(doc, "script:idle.sql.p95<5ms", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data") == 0, "a script with no samples: no data");
	free(r.where);
	r = eval1(doc, "script:idle.sql.tps<5", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data") == 0, "tps<5 of nothing does not pass");
	free(r.where);
	r = eval1(doc, "script:nope.p95<5ms", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data (no script named \"nope\")") == 0, "unknown script");
	json_decref(doc);

	/* a run with no transactions at all */
	doc = json_loads("{\"tps\": 0, \"transactions\": 0, \"failed_transactions\": 0,"
					 " \"latency_ms\": {\"p95\": null}, \"statements\": [], \"scripts\": []}", 0, &jerr);
	r = eval1(doc, "p95<50ms", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data") == 0, "empty run: no data");
	r = eval1(doc, "error_rate<1%", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data") == 0, "empty run error rate: no data");
	r = eval1(doc, "statements.p95<50ms", 0);
	CHECK(!r.passed && strcmp(r.reason, "no data") == 0, "no statements: no data");
	r = eval1(doc, "p99<50ms", 0);
	CHECK(!r.passed, "never passes by default");
	json_decref(doc);
}

static void
test_json(void)
{
	json_error_t jerr;
	json_t	   *doc = json_loads(doc_text, 0, &jerr);
	struct pd_assert_set set = {0};
	const char *exprs[] = {"p95<50ms", "statements.p95<50ms", "script:idle.sql.p50<1"};
	json_t	   *arr;
	char	   *s;

	for (int i = 0; i < 3; i++)
	{
		struct pd_assert a = parse_ok(exprs[i]);

		pd_assert_set_push(&set, &a);
	}
	CHECK(pd_assert_evaluate(&set, doc) == 2, "two of three fail");
	arr = pd_assert_to_json(&set);
	s = json_dumps(arr, JSON_COMPACT | JSON_REAL_PRECISION(6));
	CHECK_STR(s, "[{\"expr\":\"p95<50ms\",\"scope\":\"run\",\"metric\":\"p95\",\"op\":\"<\","
			  "\"target\":50.0,\"value\":41.0,\"passed\":true,\"samples\":6125,\"reason\":null},"
			  "{\"expr\":\"statements.p95<50ms\",\"scope\":\"statements\",\"metric\":\"p95\",\"op\":\"<\","
			  "\"target\":50.0,\"value\":60.0,\"passed\":false,\"samples\":6100,\"reason\":null,"
			  "\"statement\":\"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2\"},"
			  "{\"expr\":\"script:idle.sql.p50<1\",\"scope\":\"script:idle.sql\",\"metric\":\"p50\",\"op\":\"<\","
			  "\"target\":1.0,\"value\":null,\"passed\":false,\"samples\":0,\"reason\":\"no data\","
			  "\"script\":\"idle.sql\"}]");
	free(s);
	json_decref(arr);
	pd_assert_set_free(&set);
	json_decref(doc);
}

int
main(void)
{
	test_grammar();
	test_errors();
	test_caret();
	test_min_samples();
	test_evaluate();
	test_json();
	return UNIT_DONE("test_targets");
}
