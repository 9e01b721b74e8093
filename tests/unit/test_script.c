/*
 * test_script.c
 *		Unit tests for driver/script.c and driver/builtin.c: pgbench script
 *		parsing, meta-commands, control flow, substitution, built-ins.
 *
 * "test_script --show NAME" prints a built-in's text, so the suite can
 * compare it with "pgbench --show-script=NAME".  No server needed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "normalize.h"
#include "script.h"
#include "unit.h"

static struct pgb_script *
parse(const char *text, char *err, size_t errlen)
{
	return pgb_script_parse("script.sql", text, err, errlen);
}

/* Parse text that must fail; return the error message. */
static const char *
parse_error(const char *text)
{
	static char err[512];
	struct pgb_script *s;

	err[0] = '\0';
	s = parse(text, err, sizeof(err));
	if (s != NULL)
	{
		pgb_script_free(s);
		return "(parsed)";
	}
	return err;
}

/* The -M simple text of cmd with the variables' current values. */
static const char *
simple_sql(const struct pgb_command *cmd, struct pgb_vars *vars, char **buf,
		   size_t *bufsize)
{
	const char **values = calloc(cmd->nparams + 1, sizeof(char *));
	const char *sql;

	pgb_command_params(cmd, vars, values);
	sql = pgb_command_simple_sql(cmd, values, buf, bufsize);
	free(values);
	return sql;
}

/*
 * A minimal runner: executes \set and control flow, and appends the -M
 * simple text of each SQL command to out, separated by " | ".
 */
static bool
run(const struct pgb_script *s, struct pgb_vars *vars, struct pgb_prng *rng,
	char *out, size_t outlen)
{
	char	   *buf = NULL;
	size_t		bufsize = 0;
	char		err[300];
	int			i = 0;

	out[0] = '\0';
	while (i < s->ncommands)
	{
		const struct pgb_command *c = &s->commands[i];

		switch (c->type)
		{
			case PGB_CMD_SET:
				if (!pgb_script_exec_set(s, c, vars, rng, err, sizeof(err)))
				{
					snprintf(out, outlen, "ERROR %s", err);
					free(buf);
					return false;
				}
				i++;
				break;
			case PGB_CMD_IF:
			case PGB_CMD_ELIF:
			case PGB_CMD_ELSE:
			case PGB_CMD_ENDIF:
				i = pgb_script_branch(s, i, vars, rng, err, sizeof(err));
				if (i < 0)
				{
					snprintf(out, outlen, "ERROR %s", err);
					free(buf);
					return false;
				}
				break;
			case PGB_CMD_SQL:
				if (out[0])
					strncat(out, " | ", outlen - strlen(out) - 1);
				strncat(out, simple_sql(c, vars, &buf, &bufsize),
						outlen - strlen(out) - 1);
				i++;
				break;
			default:
				i++;
				break;
		}
	}
	free(buf);
	return true;
}

static void
test_builtins(void)
{
	char		err[300];
	struct pgb_script *s;
	struct pgb_vars *vars;
	struct pgb_prng rng;
	char		out[4096];
	int			n = 0;

	while (pgb_builtin_name(n) != NULL)
	{
		CHECK(pgb_builtin_description(n) != NULL, "description %d", n);
		CHECK(pgb_builtin_text(pgb_builtin_name(n)) != NULL, "text %d", n);
		n++;
	}
	CHECK(n == 3, "three built-ins, got %d", n);

	s = pgb_builtin_script("tpcb-like", err, sizeof(err));
	CHECK(s != NULL, "tpcb-like: %s", err);
	if (s)
	{
		static const pgb_command_type want[] = {
			PGB_CMD_SET, PGB_CMD_SET, PGB_CMD_SET, PGB_CMD_SET, PGB_CMD_SQL,
			PGB_CMD_SQL, PGB_CMD_SQL, PGB_CMD_SQL, PGB_CMD_SQL, PGB_CMD_SQL,
			PGB_CMD_SQL
		};

		CHECK(s->ncommands == 11, "tpcb-like has 11 commands, got %d", s->ncommands);
		for (int i = 0; i < 11 && i < s->ncommands; i++)
			CHECK(s->commands[i].type == want[i], "tpcb-like command %d type", i);
		CHECK(s->weight == 1, "weight 1");
		CHECK_STR(s->name, "tpcb-like");
		CHECK_STR(s->commands[0].varname, "aid");
		CHECK_STR(s->commands[4].sql, "BEGIN");
		CHECK_STR(s->commands[5].sql,
				  "UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid");
		CHECK_STR(s->commands[5].param_sql,
				  "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
		CHECK(s->commands[5].nparams == 2, "2 params");
		CHECK_STR(s->commands[5].param_names[0], "delta");
		CHECK_STR(s->commands[5].param_names[1], "aid");
		CHECK(s->commands[9].nparams == 4, "INSERT has 4 params");
		CHECK_STR(s->commands[9].param_sql,
				  "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)");
		CHECK_STR(s->commands[10].sql, "END");
		CHECK(s->commands[5].line == 6, "line of UPDATE: %d", s->commands[5].line);
		CHECK_STR(s->commands[6].normalized,
				  "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
		CHECK(s->commands[6].fingerprint ==
			  pgb_fingerprint("select abalance from pgbench_accounts where aid = 17"),
			  "fingerprint matches an inline-literal form");
		CHECK(s->commands[5].fingerprint != s->commands[6].fingerprint,
			  "UPDATE and SELECT differ");

		/* run it: \set values land in range and substitute as pgbench */
		vars = pgb_vars_create();
		pgb_vars_set_int(vars, "scale", 10);
		pgb_prng_seed(&rng, 3);
		CHECK(run(s, vars, &rng, out, sizeof(out)), "run: %s", out);
		{
			pgb_value	v;
			char		want[256];

			CHECK(pgb_vars_get_value(vars, "aid", &v, err, sizeof(err)) &&
				  v.type == PGB_INT && v.u.ival >= 1 && v.u.ival <= 1000000,
				  "aid in [1, 1000000]");
			snprintf(want, sizeof(want),
					 "SELECT abalance FROM pgbench_accounts WHERE aid = %" PRId64, v.u.ival);
			CHECK(strstr(out, want) != NULL, "substituted: %s", out);
			CHECK(pgb_vars_get_value(vars, "delta", &v, err, sizeof(err)) &&
				  v.u.ival >= -5000 && v.u.ival <= 5000, "delta in range");
		}
		pgb_vars_free(vars);
		pgb_script_free(s);
	}

	s = pgb_builtin_script("simple-update@3", err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 9 && s->weight == 3, "simple-update@3: %s", err);
	pgb_script_free(s);
	s = pgb_builtin_script("se", err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 2 && strcmp(s->name, "select-only") == 0,
		  "prefix se: %s", err);
	pgb_script_free(s);
	s = pgb_builtin_script("tpcb", err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 11, "prefix tpcb");
	pgb_script_free(s);
	CHECK(pgb_builtin_script("s", err, sizeof(err)) == NULL &&
		  strstr(err, "ambiguous") != NULL, "ambiguous: %s", err);
	CHECK(pgb_builtin_script("nope", err, sizeof(err)) == NULL &&
		  strstr(err, "no built-in script found for name \"nope\"") != NULL, "%s", err);
	CHECK(pgb_builtin_script("select-only@x", err, sizeof(err)) == NULL &&
		  strstr(err, "invalid weight specification") != NULL, "%s", err);
}

static void
test_doc_examples(void)
{
	char		err[300];
	char		out[4096];
	struct pgb_script *s;
	struct pgb_vars *vars = pgb_vars_create();
	struct pgb_prng rng;
	pgb_value	v;

	pgb_prng_seed(&rng, 11);
	pgb_vars_set_int(vars, "scale", 10);
	pgb_vars_set_int(vars, "default_seed", 0);

	/* from the \set documentation, including a continuation line */
	s = parse("\\set ntellers 10 * :scale\n"
			  "\\set aid (1021 * random(1, 100000 * :scale)) % \\\n"
			  "           (100000 * :scale) + 1\n"
			  "\\set divx CASE WHEN :x <> 0 THEN :y/:x ELSE NULL END\n"
			  "SELECT :ntellers, :aid, :divx;\n", err, sizeof(err));
	CHECK(s != NULL, "\\set examples: %s", err);
	if (s)
	{
		CHECK(s->ncommands == 4, "4 commands, got %d", s->ncommands);
		CHECK(s->commands[3].line == 5, "line after continuation: %d", s->commands[3].line);
		pgb_vars_set_int(vars, "x", 0);
		pgb_vars_set_int(vars, "y", 5);
		CHECK(run(s, vars, &rng, out, sizeof(out)), "%s", out);
		CHECK(strncmp(out, "SELECT 100, ", 12) == 0 && strstr(out, ", NULL") != NULL,
			  "divx NULL: %s", out);
		CHECK(pgb_vars_get_value(vars, "aid", &v, err, sizeof(err)) &&
			  v.u.ival >= 1 && v.u.ival <= 1000000, "aid range");
		pgb_vars_set_int(vars, "x", 2);
		CHECK(run(s, vars, &rng, out, sizeof(out)) && strstr(out, ", 2") != NULL,
			  "divx 5/2=2: %s", out);
		pgb_script_free(s);
	}

	/* from the \gset documentation */
	s = parse("UPDATE pgbench_accounts\n"
			  "  SET abalance = abalance + :delta\n"
			  "  WHERE aid = :aid\n"
			  "  RETURNING abalance \\gset\n"
			  "-- compound of two queries\n"
			  "SELECT 1 AS one, 2 AS two \\gset p_\n", err, sizeof(err));
	CHECK(s != NULL, "\\gset example: %s", err);
	if (s)
	{
		CHECK(s->ncommands == 2, "2 commands, got %d", s->ncommands);
		CHECK(s->commands[0].gset == PGB_GSET_GSET, "gset");
		CHECK_STR(s->commands[0].gset_prefix, "");
		CHECK_STR(s->commands[0].param_sql,
				  "UPDATE pgbench_accounts\n  SET abalance = abalance + $1\n"
				  "  WHERE aid = $2\n  RETURNING abalance");
		CHECK(s->commands[1].gset == PGB_GSET_GSET, "gset 2");
		CHECK_STR(s->commands[1].gset_prefix, "p_");
		CHECK(s->commands[1].line == 6, "line 6: %d", s->commands[1].line);
		pgb_script_free(s);
	}

	/* \aset after a compound query, and \gset on its own line */
	s = parse("SELECT 1 AS one \\; SELECT 2 AS two \\aset\n"
			  "SELECT 3 AS three\n"
			  "\\gset\n"
			  "SELECT 4 AS four;\n"
			  "\\gset q_\n", err, sizeof(err));
	CHECK(s != NULL, "\\aset: %s", err);
	if (s)
	{
		CHECK(s->ncommands == 3, "3 commands, got %d", s->ncommands);
		CHECK(s->commands[0].multi && s->commands[0].gset == PGB_GSET_ASET, "aset multi");
		CHECK_STR(s->commands[0].sql, "SELECT 1 AS one ; SELECT 2 AS two");
		CHECK(!s->commands[1].multi && s->commands[1].gset == PGB_GSET_GSET, "gset next line");
		CHECK_STR(s->commands[2].gset_prefix, "q_");
		pgb_script_free(s);
	}

	/* \if / \elif / \else, routed by a mini runner */
	s = parse("\\if :r <= 10\n"
			  "  SELECT 'low';\n"
			  "\\elif :r <= 50\n"
			  "  SELECT 'mid';\n"
			  "  \\if :r = 30\n"
			  "    SELECT 'thirty';\n"
			  "  \\endif\n"
			  "\\else\n"
			  "  SELECT 'high';\n"
			  "\\endif\n"
			  "SELECT 'done';\n", err, sizeof(err));
	CHECK(s != NULL, "\\if: %s", err);
	if (s)
	{
		static const struct
		{
			int			r;
			const char *want;
		}			routes[] = {
			{5, "SELECT 'low' | SELECT 'done'"},
			{30, "SELECT 'mid' | SELECT 'thirty' | SELECT 'done'"},
			{40, "SELECT 'mid' | SELECT 'done'"},
			{80, "SELECT 'high' | SELECT 'done'"},
		};

		CHECK(s->commands[0].jump_false == 2, "if jumps to elif: %d", s->commands[0].jump_false);
		CHECK(s->commands[2].jump_false == 8, "elif jumps after else: %d", s->commands[2].jump_false);
		CHECK(s->commands[0].jump_end == 10 && s->commands[7].jump_end == 10, "jump_end");
		CHECK(s->commands[4].jump_false == 7 && s->commands[4].jump_end == 7, "nested if");
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		{
			pgb_vars_set_int(vars, "r", routes[i].r);
			CHECK(run(s, vars, &rng, out, sizeof(out)), "%s", out);
			CHECK(strcmp(out, routes[i].want) == 0, "r=%d: %s", routes[i].r, out);
		}
		CHECK(pgb_vars_set_text(vars, "r", "zz", err, sizeof(err)), "set");
		CHECK(!run(s, vars, &rng, out, sizeof(out)) &&
			  strstr(out, "script.sql:1: malformed variable \"r\"") != NULL,
			  "condition error names file and line: %s", out);
		pgb_script_free(s);
	}

	/* \if without \else, false: skips to after \endif */
	s = parse("\\if false\nSELECT 1;\n\\endif\nSELECT 2;\n", err, sizeof(err));
	CHECK(s && run(s, vars, &rng, out, sizeof(out)) && strcmp(out, "SELECT 2") == 0,
		  "if false: %s", out);
	pgb_script_free(s);

	/* pipeline example */
	s = parse("\\set aid random(1, 100000 * :scale)\n"
			  "\\startpipeline\n"
			  "SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
			  "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n"
			  "\\endpipeline\n", err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 5 &&
		  s->commands[1].type == PGB_CMD_STARTPIPELINE &&
		  s->commands[4].type == PGB_CMD_ENDPIPELINE, "pipeline: %s", err);
	pgb_script_free(s);

	/* random_zipfian + permute from the documentation */
	s = parse("\\set size 1000000\n"
			  "\\set r random_zipfian(1, :size, 1.07)\n"
			  "\\set k 1 + permute(:r, :size)\n"
			  "SELECT :k;\n", err, sizeof(err));
	CHECK(s != NULL, "zipfian example: %s", err);
	if (s)
	{
		CHECK(run(s, vars, &rng, out, sizeof(out)), "%s", out);
		CHECK(pgb_vars_get_value(vars, "k", &v, err, sizeof(err)) &&
			  v.u.ival >= 1 && v.u.ival <= 1000000, "k in range");
		pgb_script_free(s);
	}
	pgb_vars_free(vars);
}

static void
test_lexing(void)
{
	char		err[300];
	struct pgb_script *s;
	struct pgb_vars *vars = pgb_vars_create();
	char	   *buf = NULL;
	size_t		bufsize = 0;
	const char *vals[8];

	/* comments, blank lines, several statements per line, end without ; */
	s = parse("-- leading comment\n"
			  "SELECT 1; -- trailing\n"
			  "\n"
			  "/* block; with semicolon */ SELECT 2; SELECT\n"
			  "  3\n"
			  ";\n"
			  "SELECT 4", err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 4, "4 statements: %s", err);
	if (s && s->ncommands == 4)
	{
		CHECK_STR(s->commands[0].sql, "SELECT 1");
		CHECK(s->commands[0].line == 2, "line %d", s->commands[0].line);
		CHECK_STR(s->commands[1].sql, "SELECT 2");
		CHECK(s->commands[1].line == 4, "line %d", s->commands[1].line);
		CHECK_STR(s->commands[2].sql, "SELECT\n  3");
		CHECK(s->commands[2].line == 4, "line %d", s->commands[2].line);
		CHECK_STR(s->commands[3].sql, "SELECT 4");
		CHECK(s->commands[3].line == 7, "line %d", s->commands[3].line);
	}
	pgb_script_free(s);

	/* quotes and dollar quotes hide ; and :, casts are not variables */
	s = parse("SELECT ';' AS a, $$ ; :x $$ AS b, $f$ it's; $f$, E'\\'; :x', \"we;ird\", "
			  "'12:30'::time FROM t WHERE x = :x::int AND y = :y; SELECT 2;",
			  err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 2, "quotes: %s", err);
	if (s && s->ncommands == 2)
	{
		CHECK(s->commands[0].nparams == 2, "2 params, got %d", s->commands[0].nparams);
		CHECK(strstr(s->commands[0].param_sql, "x = $1::int AND y = $2") != NULL,
			  "%s", s->commands[0].param_sql);
		CHECK(strstr(s->commands[0].param_sql, "$$ ; :x $$") != NULL, "dollar quote kept");
		CHECK(strstr(s->commands[0].param_sql, "'12:30'::time") != NULL, "literal kept");
	}
	pgb_script_free(s);

	/* parentheses protect ; (CREATE RULE ... (a; b)) */
	s = parse("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\nSELECT 3;",
			  err, sizeof(err));
	CHECK(s != NULL && s->ncommands == 2, "parens: %d", s ? s->ncommands : -1);
	pgb_script_free(s);

	/* -M simple substitution: raw text, :'x' quoted, undefined left alone */
	s = parse("SELECT :a, :'b', :c, :a::text, ':a';", err, sizeof(err));
	CHECK(s != NULL, "%s", err);
	if (s)
	{
		pgb_vars_set_int(vars, "a", 17);
		CHECK(pgb_vars_set_text(vars, "b", "O'Brien", err, sizeof(err)), "set");
		CHECK_STR(simple_sql(&s->commands[0], vars, &buf, &bufsize),
				  "SELECT 17, 'O''Brien', :c, 17::text, ':a'");
		CHECK_STR(s->commands[0].param_sql, "SELECT $1, $2, $3, $4::text, ':a'");
		pgb_command_params(&s->commands[0], vars, vals);
		CHECK(vals[0] && strcmp(vals[0], "17") == 0 && vals[1] &&
			  strcmp(vals[1], "O'Brien") == 0 && vals[2] == NULL,
			  "extended params, undefined is NULL");
		/* a long value grows the buffer */
		{
			char		big[5000];

			memset(big, 'x', sizeof(big) - 1);
			big[sizeof(big) - 1] = '\0';
			CHECK(pgb_vars_set_text(vars, "c", big, err, sizeof(err)), "set");
			CHECK(strlen(simple_sql(&s->commands[0], vars, &buf, &bufsize)) ==
				  strlen("SELECT 17, 'O''Brien', , 17::text, ':a'") + 4999, "long value");
		}
		pgb_script_free(s);
	}

	/* \sleep forms */
	{
		static const struct
		{
			const char *text;
			int64_t		usec;
		}			sleeps[] = {
			{"\\sleep 10 ms", 10000}, {"\\sleep 2", 2000000}, {"\\sleep 10us", 10},
			{"\\sleep 3 s", 3000000}, {"\\sleep :t ms", 7000}, {"\\sleep 5 US", 5},
		};

		pgb_vars_set_int(vars, "t", 7);
		for (size_t i = 0; i < sizeof(sleeps) / sizeof(sleeps[0]); i++)
		{
			int64_t		usec = -1;

			s = parse(sleeps[i].text, err, sizeof(err));
			CHECK(s != NULL && s->commands[0].type == PGB_CMD_SLEEP &&
				  pgb_command_sleep_usec(&s->commands[0], vars, &usec, err, sizeof(err)) &&
				  usec == sleeps[i].usec, "%s: %" PRId64 " %s", sleeps[i].text, usec, err);
			pgb_script_free(s);
		}
		s = parse("\\sleep :u", err, sizeof(err));
		if (s)
		{
			int64_t		usec;

			CHECK(!pgb_command_sleep_usec(&s->commands[0], vars, &usec, err, sizeof(err)) &&
				  strstr(err, "undefined variable \"u\"") != NULL, "%s", err);
			CHECK(pgb_vars_set_text(vars, "u", "abc", err, sizeof(err)), "set");
			CHECK(!pgb_command_sleep_usec(&s->commands[0], vars, &usec, err, sizeof(err)) &&
				  strstr(err, "invalid sleep time") != NULL, "%s", err);
			pgb_script_free(s);
		}
	}
	free(buf);
	pgb_vars_free(vars);
}

static void
test_errors(void)
{
	static const struct
	{
		const char *text;
		const char *want;
	}			errs[] = {
		{"SELECT 1;\n\n\\foo bar\n", "script.sql:3: unrecognized meta-command \"\\foo\""},
		{"\\setshell x echo 1\n", "script.sql:1: meta-command \"\\setshell\" is not supported"},
		{"SELECT 1;\n\\shell ls\n", "script.sql:2: meta-command \"\\shell\" is not supported"},
		{"\\gset\n", "script.sql:1: \\gset must follow an SQL command"},
		{"\\set x 1\n\\aset\n", "script.sql:2: \\aset must follow an SQL command"},
		{"SELECT 1 \\gset\n\\gset\n", "script.sql:2: \\gset must follow an SQL command"},
		{"SELECT 1 \\gset a b\n", "script.sql:1: too many arguments in command \"\\gset\""},
		{"SELECT 1;\n\\else\n", "script.sql:2: \\else without matching \\if"},
		{"\\elif true\n", "script.sql:1: \\elif without matching \\if"},
		{"\\endif\n", "script.sql:1: \\endif without matching \\if"},
		{"SELECT 1;\n\\if true\nSELECT 2;\n", "script.sql:2: \\if without matching \\endif"},
		{"\\if true\n\\else\n\\elif false\n\\endif\n", "script.sql:3: \\elif after \\else"},
		{"\\if true\n\\else\n\\else\n\\endif\n", "script.sql:3: \\else after \\else"},
		{"\\set x\n", "script.sql:1: missing argument in command \"\\set\""},
		{"SELECT 1;\n\\set x 1 +\n", "script.sql:2: unexpected end of expression"},
		{"\\set 1x 1\n", "script.sql:1: invalid variable name: \"1x\""},
		{"\\if\n\\endif\n", "script.sql:1: missing argument in command \"\\if\""},
		{"\\set x nosuch(1)\n", "script.sql:1: unrecognized function \"nosuch\""},
		{"\\sleep\n", "script.sql:1: missing argument in command \"\\sleep\""},
		{"\\sleep x\n", "script.sql:1: invalid sleep time \"x\""},
		{"\\sleep 1 hour\n", "script.sql:1: unrecognized time unit \"hour\""},
		{"\\sleep 1 ms 2\n", "script.sql:1: too many arguments in command \"\\sleep\""},
		{"\\startpipeline now\n", "script.sql:1: unexpected argument in command \"\\startpipeline\""},
		{"\\endif x\n", "script.sql:1: unexpected argument in command \"\\endif\""},
		{"-- only a comment\n\n", "script.sql: script contains no commands"},
		{"", "script.sql: script contains no commands"},
		{"SELECT 1;\n\\\n", "script.sql:2: missing meta-command name"},
		/* the runner cannot feed or drain the COPY protocol */
		{"SELECT 1;\n\ncopy t from stdin;\n", "script.sql:3: COPY FROM STDIN and COPY TO STDOUT are not supported in scripts"},
		{"COPY t TO STDOUT", "script.sql:1: COPY FROM STDIN"},
		{"COPY (SELECT 1) TO STDOUT WITH (FORMAT csv);", "script.sql:1: COPY FROM STDIN"},
		{"COPY t (a, b)\n  FROM\n  STDIN;", "script.sql:1: COPY FROM STDIN"},
		{"/* c */ -- x\n\n Copy t FROM stdin", "script.sql:3: COPY FROM STDIN"},
		{"SELECT 1 \\; COPY t TO STDOUT;", "script.sql:1: COPY FROM STDIN"},
		{"\\set x 1\nCOPY t FROM STDIN \\gset\n", "script.sql:2: COPY FROM STDIN"},
	};
	/* a server-side COPY, and words that only look like one, are fine */
	static const char *const fine[] = {
		"COPY t TO '/tmp/x';",
		"COPY t FROM '/tmp/x' WITH (FORMAT csv);",
		"COPY (SELECT 'to stdout' AS \"stdin\") TO '/tmp/x';",
		"COPY t (stdin) FROM PROGRAM 'cat /dev/null';",
		"SELECT 1 AS copy, 2 AS stdout;",
		"SELECT 'COPY t TO STDOUT';",
		"-- COPY t TO STDOUT\nSELECT 1;",
		"SELECT stdin FROM copy_targets;",
		"COPY t TO '/tmp/x' \\; SELECT 1 FROM stdin;",
	};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
	{
		const char *got = parse_error(errs[i].text);

		CHECK(strncmp(got, errs[i].want, strlen(errs[i].want)) == 0,
			  "error %zu: got \"%s\", want \"%s\"", i, got, errs[i].want);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		CHECK_STR(parse_error(fine[i]), "(parsed)");
}

static void
test_files(void)
{
	char		err[300];
	char		path[] = "/tmp/perfdriver_unit_XXXXXX";
	char		arg[64];
	int			fd = mkstemp(path);
	const char *text = "\\set a random(1, 10)\nSELECT :a;\n";
	struct pgb_script *s;
	char	   *name;
	int			w;

	CHECK(fd >= 0, "mkstemp");
	if (fd < 0)
		return;
	CHECK(write(fd, text, strlen(text)) == (ssize_t) strlen(text), "write");
	close(fd);

	snprintf(arg, sizeof(arg), "%s@7", path);
	s = pgb_script_load(arg, err, sizeof(err));
	CHECK(s != NULL && s->weight == 7 && s->ncommands == 2 &&
		  strcmp(s->name, path) == 0, "load with weight: %s", err);
	pgb_script_free(s);
	s = pgb_script_load(path, err, sizeof(err));
	CHECK(s != NULL && s->weight == 1, "load: %s", err);
	pgb_script_free(s);
	unlink(path);
	CHECK(pgb_script_load(path, err, sizeof(err)) == NULL &&
		  strstr(err, "could not open file") != NULL, "missing file: %s", err);

	name = pgb_script_split_weight("x.sql@0", &w, err, sizeof(err));
	CHECK(name && strcmp(name, "x.sql") == 0 && w == 0, "weight 0");
	free(name);
	name = pgb_script_split_weight("x.sql", &w, err, sizeof(err));
	CHECK(name && strcmp(name, "x.sql") == 0 && w == 1, "default weight");
	free(name);
	CHECK(pgb_script_split_weight("a@b.sql", &w, err, sizeof(err)) == NULL, "a@b.sql");
	CHECK(pgb_script_split_weight("x@-1", &w, err, sizeof(err)) == NULL, "negative");
	CHECK(pgb_script_split_weight("x@99999999999", &w, err, sizeof(err)) == NULL, "huge");
	CHECK(pgb_script_split_weight("x@", &w, err, sizeof(err)) == NULL &&
		  strstr(err, "invalid weight specification") != NULL, "empty weight: %s", err);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--show") == 0)
	{
		const char *t = pgb_builtin_text(argv[2]);

		if (t == NULL)
			return 2;
		fputs(t, stdout);
		return 0;
	}
	test_builtins();
	test_doc_examples();
	test_lexing();
	test_errors();
	test_files();
	return UNIT_DONE("test_script");
}
