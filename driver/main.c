/*
 * main.c
 *		perfdriver's entry point: dispatch to a subcommand.
 *
 * Owns: the list of subcommands and the top-level usage text.
 *
 * Must not: do any work of its own; each subcommand lives in cmd_<name>.c.
 *
 * Memory: none.
 */
#include "driver.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

static void
usage(FILE *out)
{
	fprintf(out,
			"perfdriver: a pooled, multiplexed PostgreSQL load driver\n"
			"\n"
			"Usage:\n"
			"  perfdriver run [OPTION]...    run a workload and report latencies\n"
			"  perfdriver init [OPTION]...   create the tables of the built-in workloads\n"
			"  perfdriver analyze --log FILE find N+1 query patterns in a server log\n"
			"  perfdriver compare --store=DB BASELINE CANDIDATE\n"
			"                                compare stored runs (or --history=N CANDIDATE)\n"
			"  perfdriver flamegraph -o FILE.svg (--store=DB RUN_ID | FILE.folded)\n"
			"                                draw a stored or saved flame graph (--diff)\n"
			"  perfdriver COMMAND --help     options of a command\n"
			"\n"
			"Exit status: 0 ok, 1 the run had errors (analyze: findings, with\n"
			"--fail-on-findings), 2 usage, script, connection or unreadable file error,\n"
			"3 a regression was found (compare, run --fail-on-regression), 4 the run\n"
			"could not be stored (run --store).  When several apply: 2, 4, 3, 1.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2)
	{
		usage(stderr);
		return PD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "analyze") == 0)
		return cmd_analyze(argc - 1, argv + 1);
	if (strcmp(argv[1], "compare") == 0)
		return cmd_compare(argc - 1, argv + 1);
	if (strcmp(argv[1], "flamegraph") == 0)
		return cmd_flamegraph(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0)
	{
		usage(stdout);
		return PD_EXIT_OK;
	}
	pd_error("unrecognized command \"%s\"", argv[1]);
	pd_hint("Try \"perfdriver --help\".");
	return PD_EXIT_USAGE;
}
