/*
 * builtin.c
 *		The built-in scripts (-b): pgbench 15's tpcb-like, simple-update and
 *		select-only, with exactly pgbench's SQL, so results compare.
 *
 * Owns: the script texts and name lookup by unique prefix (pgbench's
 * findBuiltin).  The scripts use :scale, which the runner sets.
 *
 * Must not: talk to libpq.
 *
 * Memory: the texts are static; pgb_builtin_script() returns a malloc'd
 * script the caller frees with pgb_script_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* pgbench's row counts per scale unit: naccounts, nbranches, ntellers */
#define BUILTIN_TPCB_HEADER \
	"\\set aid random(1, 100000 * :scale)\n" \
	"\\set bid random(1, 1 * :scale)\n" \
	"\\set tid random(1, 10 * :scale)\n" \
	"\\set delta random(-5000, 5000)\n"

static const struct
{
	const char *name;
	const char *description;
	const char *text;
}			builtin_scripts[] =
{
	{
		"tpcb-like",
		"<builtin: TPC-B (sort of)>",
		BUILTIN_TPCB_HEADER
		"BEGIN;\n"
		"UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
		"UPDATE pgbench_tellers SET tbalance = tbalance + :delta WHERE tid = :tid;\n"
		"UPDATE pgbench_branches SET bbalance = bbalance + :delta WHERE bid = :bid;\n"
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);\n"
		"END;\n"
	},
	{
		"simple-update",
		"<builtin: simple update>",
		BUILTIN_TPCB_HEADER
		"BEGIN;\n"
		"UPDATE pgbench_accounts SET abalance = abalance + :delta WHERE aid = :aid;\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (:tid, :bid, :aid, :delta, CURRENT_TIMESTAMP);\n"
		"END;\n"
	},
	{
		"select-only",
		"<builtin: select only>",
		"\\set aid random(1, 100000 * :scale)\n"
		"SELECT abalance FROM pgbench_accounts WHERE aid = :aid;\n"
	},
};

#define BUILTIN_COUNT ((int) (sizeof(builtin_scripts) / sizeof(builtin_scripts[0])))

const char *
pgb_builtin_name(int i)
{
	return (i >= 0 && i < BUILTIN_COUNT) ? builtin_scripts[i].name : NULL;
}

const char *
pgb_builtin_description(int i)
{
	return (i >= 0 && i < BUILTIN_COUNT) ? builtin_scripts[i].description : NULL;
}

const char *
pgb_builtin_text(const char *name)
{
	for (int i = 0; i < BUILTIN_COUNT; i++)
		if (strcmp(builtin_scripts[i].name, name) == 0)
			return builtin_scripts[i].text;
	return NULL;
}

/*
 * pgb_builtin_script: see script.h.  An exact name wins over prefixes, so
 * a future built-in whose name prefixes another's stays reachable.
 */
struct pgb_script *
pgb_builtin_script(const char *arg, char *err, size_t errlen)
{
	int			weight;
	char	   *name = pgb_script_split_weight(arg, &weight, err, errlen);
	size_t		len;
	int			found = -1;
	int			nfound = 0;
	struct pgb_script *script;

	if (name == NULL)
		return NULL;
	len = strlen(name);
	for (int i = 0; i < BUILTIN_COUNT && len > 0; i++)
	{
		if (strcmp(builtin_scripts[i].name, name) == 0)
		{
			found = i;
			nfound = 1;
			break;
		}
		if (strncmp(builtin_scripts[i].name, name, len) == 0)
		{
			found = i;
			nfound++;
		}
	}
	if (nfound == 0)
	{
		snprintf(err, errlen, "no built-in script found for name \"%s\"", name);
		free(name);
		return NULL;
	}
	if (nfound > 1)
	{
		snprintf(err, errlen,
				 "ambiguous built-in name: %d built-in scripts found for prefix \"%s\"",
				 nfound, name);
		free(name);
		return NULL;
	}
	free(name);
	script = pgb_script_parse(builtin_scripts[found].name,
							  builtin_scripts[found].text, err, errlen);
	if (script != NULL)
		script->weight = weight;
	return script;
}
