/*
 * advise.h
 *		Index advice with hypothetical indexes (hypopg): for "perfdriver run
 *		--advise" and "perfdriver advise" (docs/perfdriver.md, "Index
 *		advice").
 *
 * Owns: candidate columns from a statement's parse tree (libpg_query's JSON
 * tree read with jansson), the search over hypothetical indexes (single
 * columns, then ordered pairs), the acceptance rule (the statement's plan
 * costs at least PD_ADVISE_MIN_COST and the index cuts it by at least
 * PD_ADVISE_MIN_SAVING), and the advice list with its JSON and human forms.
 *
 * Must not: include libpq-fe.h, create real indexes (pd_advice_verify in the
 * run path does that, on request), or leave hypothetical indexes behind:
 * hypopg_reset() runs after every batch.
 *
 * Memory: struct pd_advice_list and everything in it is malloc'd and freed
 * by pd_advice_list_free(); candidates by pd_advise_candidates_free().
 */
#ifndef PERFDRIVER_ADVISE_H
#define PERFDRIVER_ADVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pgconn.h"

#define PD_ADVISE_MIN_COST		100.0	/* skip plans cheaper than this */
#define PD_ADVISE_MIN_SAVING	0.5		/* the index must cut the cost by half */
#define PD_ADVISE_PAIR_GAIN		0.9		/* a pair must beat the best single
										 * column by another 10 % */
#define PD_ADVISE_MAX_COLS		8		/* candidate columns tried per table */

typedef enum pd_cand_kind
{
	PD_CAND_EQ,					/* col = x, col IN (...) */
	PD_CAND_JOIN,				/* a.col = b.col */
	PD_CAND_RANGE,				/* <, >, <=, >=, BETWEEN */
	PD_CAND_SORT				/* ORDER BY col */
} pd_cand_kind;

/* One candidate column; table NULL when the reference is unqualified and
 * the statement reads several tables (resolved against the catalog). */
struct pd_cand
{
	char	   *schema;			/* NULL: as written, unqualified */
	char	   *table;
	char	   *column;
	pd_cand_kind kind;
};

/* A table the statement reads or writes. */
struct pd_cand_rel
{
	char	   *schema;			/* NULL: unqualified */
	char	   *table;
	char	   *alias;			/* NULL: none */
};

struct pd_cands
{
	int			n;
	struct pd_cand *c;
	int			nrels;
	struct pd_cand_rel *rels;
};

/*
 * pd_advise_candidates: the candidate columns of sql, equality and join
 * keys first, then range predicates, then ORDER BY, each column once (with
 * its strongest kind).  Returns false with libpg_query's message in err when
 * sql does not parse, or "not a SELECT, UPDATE or DELETE" for statements
 * that indexes cannot serve.
 */
bool		pd_advise_candidates(const char *sql, struct pd_cands *out,
								 char *err, size_t errlen);
void		pd_advise_candidates_free(struct pd_cands *c);

/* A statement to advise on. */
struct pd_advise_input
{
	uint64_t	fingerprint;
	const char *query;			/* as the report shows it */
	const char *sql;			/* with $1..$n for parameters */
	int			nparams;
	const char *const *values;	/* one call's values, NULL: generic plan */
};

struct pd_advice
{
	uint64_t	fingerprint;
	char	   *query;
	char	   *create_index;	/* runnable, schema-qualified */
	char	   *schema;
	char	   *table;
	char	   *columns;		/* "a, b" as in create_index */
	double		cost_before;
	double		cost_after;
	int			nstatements;
	uint64_t   *statements;		/* fingerprints it helps, this one first */
	char	  **statement_queries;
	double		p95_before_ms;	/* --advise=verify; NaN otherwise */
	double		p95_after_ms;
	bool		kept;			/* verify: the index was kept */
};

/*
 * --advise=verify: the rerun of the workload with the advised indexes, as
 * measured (the JSON's advise_verify), beside the first run the report is
 * about.  Latencies are of the rerun's successful transactions, in ms.
 */
struct pd_advice_rerun
{
	bool		ran;			/* the rerun completed: the rest is set */
	double		duration_s;
	uint64_t	transactions;
	uint64_t	failed;
	double		tps;
	double		p50_ms;
	double		p95_ms;
	double		p99_ms;
	double		max_ms;
	double		mean_ms;
};

struct pd_advice_list
{
	int			n;
	struct pd_advice *a;
	int			nnotes;
	char	  **notes;
	bool		ran;			/* the advisor ran (index_advice is reported) */
	struct pd_advice_rerun rerun;	/* --advise=verify */
};

/*
 * pd_advise: advice for the statements in[0..n) on connection c (blocking,
 * used only by the caller's thread).  Missing hypopg, statements that do not
 * parse or cannot be explained: one note each, the others go on.  Appends
 * to out.
 */
void		pd_advise(struct pgconn *c, const struct pd_advise_input *in, int n,
					  struct pd_advice_list *out);

void		pd_advice_note(struct pd_advice_list *l, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

void		pd_advice_list_free(struct pd_advice_list *l);

/* JSON: ",\n  \"index_advice\": [...]" and, with notes, "advise_notes". */
void		pd_advice_json(FILE *f, const struct pd_advice_list *l);

/* The human section "index advice". */
void		pd_advice_print(FILE *out, const struct pd_advice_list *l);

/* The advice whose statements include fingerprint, or NULL. */
const struct pd_advice *pd_advice_for(const struct pd_advice_list *l,
									  uint64_t fingerprint);

/*
 * pd_plan_total_cost: "Total Cost" of the top node of an EXPLAIN (FORMAT
 * JSON) text, or NaN when it does not parse.
 */
double		pd_plan_total_cost(const char *plan_json);

/*
 * pd_sql_explainable: true when sql is one statement EXPLAIN takes (SELECT,
 * INSERT, UPDATE, DELETE, VALUES, CREATE TABLE AS, EXECUTE, DECLARE);
 * otherwise false with the reason in err ("a utility statement (VACUUM)",
 * "several statements", "does not parse: ...").
 */
bool		pd_sql_explainable(const char *sql, char *err, size_t errlen);

/* An identifier for SQL: as is when plain lower case, else double-quoted. */
char	   *pd_sql_ident(const char *s);

#endif							/* PERFDRIVER_ADVISE_H */
