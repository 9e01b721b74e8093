/*
 * cmd_init.c
 *		"perfdriver init": create and fill the tables of the built-in
 *		workloads, compatible with "pgbench -i" (same definitions, same
 *		data), so either tool's data works for both.
 *
 * Owns: the DDL and data of pgbench_accounts, pgbench_branches,
 * pgbench_tellers and pgbench_history, as pgbench 15's default
 * initialisation steps (drop, create, client-side generate, vacuum, primary
 * keys): branches and tellers with a NULL filler, accounts with an empty one
 * loaded by COPY ... WITH (FREEZE ON), and 64-bit account ids from scale
 * 20000 on.
 *
 * Must not: include libpq-fe.h; print a password.
 *
 * Memory: one 64 kB COPY buffer, freed before returning.
 */
#include "driver.h"
#include "pgconn.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NBRANCHES	1
#define NTELLERS	10
#define NACCOUNTS	100000
#define SCALE_32BIT_THRESHOLD 20000
#define COPYBUF		65536

static void
init_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver init [OPTION]... [DBNAME]\n"
			"\n"
			"Creates pgbench_accounts, pgbench_branches, pgbench_tellers and\n"
			"pgbench_history as \"pgbench -i\" does (existing ones are dropped).\n"
			"\n"
			"  -d, --dbname=CONNINFO   database name or conninfo/URI\n"
			"  -s, --scale=N           scale factor (default 1)\n"
			"  -q, --quiet             print only errors\n"
			"\n"
			"Exit status: 0 ok, 2 usage or connection error, 1 any other failure.\n");
}

/* Run one statement; on failure print it and return false. */
static bool
init_exec(struct pgconn *c, const char *sql)
{
	char		err[1024];

	if (!pgconn_exec(c, sql, NULL, err, sizeof(err)))
	{
		pd_error("could not run \"%.60s\": %s", sql, err);
		return false;
	}
	return true;
}

/* COPY the accounts of the given scale; false after printing the error. */
static bool
copy_accounts(struct pgconn *c, int64_t scale, bool freeze)
{
	char		err[1024];
	char	   *buf = pd_malloc(COPYBUF);
	size_t		used = 0;
	int64_t		n = scale * NACCOUNTS;
	bool		ok;

	ok = pgconn_copy_begin(c, freeze ? "copy pgbench_accounts from stdin with (freeze on)"
						   : "copy pgbench_accounts from stdin", err, sizeof(err));
	for (int64_t aid = 1; ok && aid <= n; aid++)
	{
		if (COPYBUF - used < 64)
		{
			ok = pgconn_copy_put(c, buf, used, err, sizeof(err));
			used = 0;
		}
		used += snprintf(buf + used, COPYBUF - used, "%" PRId64 "\t%" PRId64 "\t0\t\n",
						 aid, (aid - 1) / NACCOUNTS + 1);
	}
	if (ok && used > 0)
		ok = pgconn_copy_put(c, buf, used, err, sizeof(err));
	if (ok)
		ok = pgconn_copy_end(c, err, sizeof(err));
	free(buf);
	if (!ok)
		pd_error("could not load pgbench_accounts: %s", err);
	return ok;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"scale", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *target = NULL;
	int64_t		scale = 1;
	bool		quiet = false;
	int			ch;
	char		err[1024];
	char		desc[512];
	char		sql[1024];
	struct pgconn_params *params;
	struct pgconn *c;
	int64_t		t0 = pd_now_ns();
	const char *aidtype;
	bool		ok;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "d:hqs:", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 'd':
				target = optarg;
				break;
			case 's':
				{
					char	   *end;

					errno = 0;
					scale = strtoll(optarg, &end, 10);
					if (errno != 0 || end == optarg || *end != '\0' || scale < 1 ||
						scale > INT32_MAX / NTELLERS)
					{
						pd_error("invalid scale factor: \"%s\"", optarg);
						return PD_EXIT_USAGE;
					}
					break;
				}
			case 'q':
				quiet = true;
				break;
			case 'h':
				init_usage(stdout);
				return PD_EXIT_OK;
			default:
				pd_hint("Try \"perfdriver init --help\" for more information.");
				return PD_EXIT_USAGE;
		}
	}
	if (optind < argc)
	{
		if (target == NULL && optind == argc - 1)
			target = argv[optind];
		else
		{
			pd_error("too many command-line arguments (first is \"%s\")", argv[optind]);
			return PD_EXIT_USAGE;
		}
	}

	params = pgconn_params_parse(target, err, sizeof(err));
	if (params == NULL)
	{
		pd_error("invalid connection string: %s", err);
		return PD_EXIT_USAGE;
	}
	pgconn_params_describe(params, desc, sizeof(desc));
	c = pgconn_connect_blocking(params, err, sizeof(err));
	pgconn_params_free(params);
	if (c == NULL)
	{
		pd_error("could not connect to %s: %s", desc, err);
		return PD_EXIT_USAGE;
	}

	aidtype = scale >= SCALE_32BIT_THRESHOLD ? "bigint" : "int";
	ok = init_exec(c, "set client_min_messages = warning") &&
		init_exec(c, "drop table if exists pgbench_accounts, pgbench_branches, "
				  "pgbench_history, pgbench_tellers");
	if (ok)
	{
		snprintf(sql, sizeof(sql),
				 "create table pgbench_history(tid int,bid int,aid %s,delta int,"
				 "mtime timestamp,filler char(22));"
				 "create table pgbench_tellers(tid int not null,bid int,tbalance int,"
				 "filler char(84)) with (fillfactor=100);"
				 "create table pgbench_accounts(aid %s not null,bid int,abalance int,"
				 "filler char(84)) with (fillfactor=100);"
				 "create table pgbench_branches(bid int not null,bbalance int,"
				 "filler char(88)) with (fillfactor=100)",
				 aidtype, aidtype);
		ok = init_exec(c, sql);
	}
	if (ok && !quiet)
		printf("perfdriver init: created tables, generating data for scale %" PRId64 "\n", scale);
	if (ok)
		ok = init_exec(c, "begin") &&
			init_exec(c, "truncate table pgbench_accounts, pgbench_branches, "
					  "pgbench_history, pgbench_tellers");
	if (ok)
	{
		snprintf(sql, sizeof(sql),
				 "insert into pgbench_branches(bid,bbalance) "
				 "select bid, 0 from generate_series(1, %" PRId64 ") as bid",
				 scale * NBRANCHES);
		ok = init_exec(c, sql);
	}
	if (ok)
	{
		snprintf(sql, sizeof(sql),
				 "insert into pgbench_tellers(tid,bid,tbalance) "
				 "select tid, (tid - 1) / %d + 1, 0 from generate_series(1, %" PRId64 ") as tid",
				 NTELLERS, scale * NTELLERS);
		ok = init_exec(c, sql);
	}
	if (ok)
		ok = copy_accounts(c, scale, pgconn_server_version(c) >= 140000);
	if (ok)
		ok = init_exec(c, "commit");
	if (ok && !quiet)
		printf("perfdriver init: vacuuming and creating primary keys\n");
	if (ok)
		ok = init_exec(c, "vacuum analyze pgbench_branches") &&
			init_exec(c, "vacuum analyze pgbench_tellers") &&
			init_exec(c, "vacuum analyze pgbench_accounts") &&
			init_exec(c, "vacuum analyze pgbench_history");
	if (ok)
		ok = init_exec(c, "alter table pgbench_branches add primary key (bid)") &&
			init_exec(c, "alter table pgbench_tellers add primary key (tid)") &&
			init_exec(c, "alter table pgbench_accounts add primary key (aid)");
	pgconn_close(c);
	if (!ok)
		return PD_EXIT_ERRORS;
	if (!quiet)
		printf("perfdriver init: done in %.2f s (%" PRId64 " accounts)\n",
			   (pd_now_ns() - t0) / 1e9, scale * NACCOUNTS);
	return PD_EXIT_OK;
}
