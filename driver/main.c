/*
 * main.c
 *		perfdriver's entry point: dispatch to a subcommand.
 *
 * Owns: the table of subcommands, the top-level usage text made from it,
 * "perfdriver help [COMMAND]" and "--version".  A new subcommand is one
 * entry in pd_commands: its usage line and summary appear in --help, in
 * "perfdriver help" and in the man page (generated from this help text by
 * scripts/perfdriver-man.sh), and "perfdriver help NAME" prints what
 * "perfdriver NAME --help" prints.
 *
 * Must not: do any work of its own; each subcommand lives in cmd_<name>.c
 * and prints its own options on --help.
 *
 * Memory: none.
 */
#include "driver.h"
#include "html.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

struct pd_command
{
	const char *name;
	const char *synopsis;		/* arguments after the name, for the usage */
	const char *summary;		/* what it does, one line */
	int			(*main) (int argc, char **argv);	/* argv[0] is the name */
};

static const struct pd_command pd_commands[] = {
	{"run", "[OPTION]...", "run a workload and report latencies", cmd_run},
	{"init", "[OPTION]... [DBNAME]", "create the tables of the built-in workloads", cmd_init},
	{"analyze", "--log FILE [OPTION]...", "find N+1 query patterns in a server log", cmd_analyze},
	{"advise", "-d CONNINFO --from-json RUN.json | --from-log LOG",
	"index advice with hypothetical indexes (hypopg)", cmd_advise},
	{"compare", "--store=CONNINFO [OPTION]... BASELINE CANDIDATE",
	"compare stored runs (or --history=N CANDIDATE)", cmd_compare},
	{"report", "--store=CONNINFO [OPTION]... RUN_ID --html=FILE",
	"the HTML report of a stored run (or --input=FILE.json)", cmd_report},
	{"flamegraph", "-o FILE.svg (--store=CONNINFO RUN_ID | FILE.folded) [--diff=BASE]",
	"draw a stored or saved flame graph, or the difference of two", cmd_flamegraph},
};

#define PD_NCOMMANDS (sizeof(pd_commands) / sizeof(pd_commands[0]))

/* Width of the usage column before the summaries. */
#define USAGE_COLUMN 32

/* One "  perfdriver NAME SYNOPSIS   summary" line (summary wrapped if long). */
static void
usage_line(FILE *out, const char *name, const char *synopsis,
		   const char *summary)
{
	int			len;

	len = fprintf(out, "  perfdriver %s%s%s", name, synopsis[0] ? " " : "",
				  synopsis);
	if (len >= USAGE_COLUMN)
	{
		fputc('\n', out);
		len = 0;
	}
	fprintf(out, "%*s%s\n", USAGE_COLUMN - len, "", summary);
}

static void
usage(FILE *out)
{
	fprintf(out,
			"perfdriver: a pooled, multiplexed PostgreSQL load driver\n"
			"\n"
			"Usage:\n");
	for (size_t i = 0; i < PD_NCOMMANDS; i++)
		usage_line(out, pd_commands[i].name, pd_commands[i].synopsis,
				   pd_commands[i].summary);
	usage_line(out, "help", "[COMMAND]", "this text, or the options of COMMAND");
	usage_line(out, "--version", "", "versions of perfdriver, libpq and libpg_query");
	fprintf(out,
			"\n"
			"Every command takes -h or --help, which prints the same as \"perfdriver\n"
			"help COMMAND\".  Connections are made with libpq: a CONNINFO is a\n"
			"database name, a conninfo string or a postgresql:// URI, and the PG*\n"
			"environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD...)\n"
			"and ~/.pgpass apply.\n"
			"\n"
			"Exit status: 0 ok, 1 the run had errors (analyze: findings, with\n"
			"--fail-on-findings), 2 usage, script, connection or unreadable file error,\n"
			"3 a regression was found (compare, run --fail-on-regression), 4 the run\n"
			"could not be stored (run --store).  When several apply: 2, 4, 3, 1.\n");
}

static const struct pd_command *
find_command(const char *name)
{
	for (size_t i = 0; i < PD_NCOMMANDS; i++)
		if (strcmp(pd_commands[i].name, name) == 0)
			return &pd_commands[i];
	return NULL;
}

static int
unknown_command(const char *name)
{
	pd_error("unrecognized command \"%s\"", name);
	pd_hint("Try \"perfdriver --help\".");
	return PD_EXIT_USAGE;
}

/*
 * help: "perfdriver help" prints the usage; "perfdriver help NAME" runs
 * "perfdriver NAME --help", so a command's help has one source.
 */
static int
help(int argc, char **argv)
{
	const struct pd_command *cmd;
	char	   *args[3];

	if (argc < 2)
	{
		usage(stdout);
		return PD_EXIT_OK;
	}
	if (argc > 2)
	{
		pd_error("too many arguments for \"help\"");
		pd_hint("Use \"perfdriver help COMMAND\".");
		return PD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0)
	{
		usage(stdout);
		return PD_EXIT_OK;
	}
	cmd = find_command(argv[1]);
	if (cmd == NULL)
		return unknown_command(argv[1]);
	args[0] = (char *) cmd->name;
	args[1] = "--help";
	args[2] = NULL;
	return cmd->main(2, args);
}

int
main(int argc, char **argv)
{
	const struct pd_command *cmd;

	if (argc < 2)
	{
		usage(stderr);
		return PD_EXIT_USAGE;
	}
	cmd = find_command(argv[1]);
	if (cmd != NULL)
		return cmd->main(argc - 1, argv + 1);
	if (strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
	{
		usage(stdout);
		return PD_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
	{
		pd_print_version(stdout);
		return PD_EXIT_OK;
	}
	return unknown_command(argv[1]);
}
