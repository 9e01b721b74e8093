/*
 * advise.c
 *		Index advice with hypothetical indexes (hypopg), as Dexter does it:
 *		candidate columns from the parse tree, single columns then ordered
 *		pairs, EXPLAIN before and after, advice only for a large enough cut
 *		(docs/perfdriver.md, "Index advice").
 *
 * Owns: the candidate extraction (libpg_query's JSON parse tree, read with
 * jansson), the search, the acceptance rule and the advice list.
 *
 * Must not: include libpq-fe.h, create a real index, or leave a
 * hypothetical one behind (hypopg_reset() after every batch; hypothetical
 * indexes live in the session, so closing it drops them too).
 *
 * Memory: everything returned is malloc'd; the list and the candidates have
 * their _free functions.
 */
#include "advise.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pg_query.h>

#include "driver.h"
#include "nplus1.h"
#include "observe.h"

/* ------------------------------------------------- candidate columns */

static char *
dupnull(const char *s)
{
	return s ? pd_strdup(s) : NULL;
}

static void
cands_add_rel(struct pd_cands *c, json_t *rv)
{
	const char *rel = json_string_value(json_object_get(rv, "relname"));
	json_t	   *alias = json_object_get(rv, "alias");

	if (rel == NULL)
		return;
	c->rels = realloc(c->rels, (c->nrels + 1) * sizeof(*c->rels));
	if (c->rels == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	c->rels[c->nrels].schema = dupnull(json_string_value(json_object_get(rv, "schemaname")));
	c->rels[c->nrels].table = pd_strdup(rel);
	c->rels[c->nrels].alias = dupnull(json_string_value(json_object_get(alias, "aliasname")));
	c->nrels++;
}

/* Collect every RangeVar (and UPDATE/DELETE's bare "relation"). */
static void
cands_walk_rels(struct pd_cands *c, json_t *node)
{
	const char *key;
	json_t	   *v;
	size_t		i;

	if (json_is_array(node))
	{
		json_array_foreach(node, i, v)
			cands_walk_rels(c, v);
		return;
	}
	if (!json_is_object(node))
		return;
	json_object_foreach(node, key, v)
	{
		if (strcmp(key, "RangeVar") == 0 ||
			(strcmp(key, "relation") == 0 && json_object_get(v, "relname") != NULL))
			cands_add_rel(c, v);
		else
			cands_walk_rels(c, v);
	}
}

/* The column a ColumnRef names, and its qualifier (NULL when none). */
static bool
colref(json_t *node, const char **qual, const char **col)
{
	json_t	   *cr = json_object_get(node, "ColumnRef");
	json_t	   *fields = json_object_get(cr, "fields");
	size_t		n = json_array_size(fields);
	json_t	   *last;

	if (cr == NULL || n == 0)
		return false;
	last = json_object_get(json_array_get(fields, n - 1), "String");
	if (last == NULL)
		return false;			/* a.* */
	*col = json_string_value(json_object_get(last, "sval"));
	*qual = n >= 2 ? json_string_value(json_object_get(json_object_get(json_array_get(fields, n - 2), "String"), "sval")) : NULL;
	return *col != NULL;
}

static void
cands_add(struct pd_cands *c, const char *qual, const char *col, pd_cand_kind kind)
{
	const struct pd_cand_rel *rel = NULL;

	if (qual != NULL)
	{
		for (int i = 0; i < c->nrels && rel == NULL; i++)
			if (c->rels[i].alias && strcmp(c->rels[i].alias, qual) == 0)
				rel = &c->rels[i];
		for (int i = 0; i < c->nrels && rel == NULL; i++)
			if (c->rels[i].alias == NULL && strcmp(c->rels[i].table, qual) == 0)
				rel = &c->rels[i];
		if (rel == NULL)
			return;				/* an outer query's or a CTE's column */
	}
	else if (c->nrels == 1)
		rel = &c->rels[0];

	for (int i = 0; i < c->n; i++)
	{
		struct pd_cand *e = &c->c[i];

		if (strcmp(e->column, col) == 0 &&
			((rel == NULL && e->table == NULL) ||
			 (rel != NULL && e->table != NULL && strcmp(e->table, rel->table) == 0)))
		{
			if (kind < e->kind)
				e->kind = kind;
			return;
		}
	}
	c->c = realloc(c->c, (c->n + 1) * sizeof(*c->c));
	if (c->c == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	c->c[c->n].schema = rel ? dupnull(rel->schema) : NULL;
	c->c[c->n].table = rel ? pd_strdup(rel->table) : NULL;
	c->c[c->n].column = pd_strdup(col);
	c->c[c->n].kind = kind;
	c->n++;
}

static void
cands_walk_exprs(struct pd_cands *c, json_t *node)
{
	const char *key;
	json_t	   *v;
	size_t		i;

	if (json_is_array(node))
	{
		json_array_foreach(node, i, v)
			cands_walk_exprs(c, v);
		return;
	}
	if (!json_is_object(node))
		return;
	json_object_foreach(node, key, v)
	{
		if (strcmp(key, "A_Expr") == 0)
		{
			const char *kind = json_string_value(json_object_get(v, "kind"));
			const char *op = json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(v, "name"), 0), "String"), "sval"));
			const char *lq = NULL,
					   *lc = NULL,
					   *rq = NULL,
					   *rc = NULL;
			bool		l = colref(json_object_get(v, "lexpr"), &lq, &lc);
			bool		r = colref(json_object_get(v, "rexpr"), &rq, &rc);
			int			k = -1;

			if (kind && op && strcmp(kind, "AEXPR_OP") == 0)
			{
				if (strcmp(op, "=") == 0)
					k = (l && r) ? PD_CAND_JOIN : PD_CAND_EQ;
				else if (strcmp(op, "<") == 0 || strcmp(op, ">") == 0 ||
						 strcmp(op, "<=") == 0 || strcmp(op, ">=") == 0)
					k = PD_CAND_RANGE;
			}
			else if (kind && strcmp(kind, "AEXPR_IN") == 0)
				k = PD_CAND_EQ;
			else if (kind && strncmp(kind, "AEXPR_BETWEEN", 13) == 0)
				k = PD_CAND_RANGE;
			if (k >= 0)
			{
				if (l)
					cands_add(c, lq, lc, (pd_cand_kind) k);
				if (r && (k == PD_CAND_JOIN || !l))
					cands_add(c, rq, rc, (pd_cand_kind) k);
			}
		}
		else if (strcmp(key, "SortBy") == 0)
		{
			const char *q = NULL,
					   *col = NULL;

			if (colref(json_object_get(v, "node"), &q, &col))
				cands_add(c, q, col, PD_CAND_SORT);
		}
		cands_walk_exprs(c, v);
	}
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct pd_cand *x = a;
	const struct pd_cand *y = b;
	int			kx = x->kind == PD_CAND_JOIN ? PD_CAND_EQ : x->kind;
	int			ky = y->kind == PD_CAND_JOIN ? PD_CAND_EQ : y->kind;

	return kx - ky;
}

bool
pd_advise_candidates(const char *sql, struct pd_cands *out, char *err, size_t errlen)
{
	PgQueryParseResult pr = pg_query_parse(sql);
	json_error_t jerr;
	json_t	   *root;
	json_t	   *stmts;
	json_t	   *stmt;

	memset(out, 0, sizeof(*out));
	if (pr.error != NULL)
	{
		snprintf(err, errlen, "does not parse: %s", pr.error->message);
		pg_query_free_parse_result(pr);
		return false;
	}
	root = json_loads(pr.parse_tree, 0, &jerr);
	pg_query_free_parse_result(pr);
	if (root == NULL)
	{
		snprintf(err, errlen, "could not read the parse tree: %s", jerr.text);
		return false;
	}
	stmts = json_object_get(root, "stmts");
	stmt = json_object_get(json_array_get(stmts, 0), "stmt");
	if (json_array_size(stmts) != 1 ||
		(json_object_get(stmt, "SelectStmt") == NULL &&
		 json_object_get(stmt, "UpdateStmt") == NULL &&
		 json_object_get(stmt, "DeleteStmt") == NULL))
	{
		snprintf(err, errlen, "not a SELECT, UPDATE or DELETE");
		json_decref(root);
		return false;
	}
	cands_walk_rels(out, stmt);
	cands_walk_exprs(out, stmt);
	/* stable: equality and join keys, then ranges, then sorts */
	for (int i = 1; i < out->n; i++)
		for (int j = i; j > 0 && cand_cmp(&out->c[j], &out->c[j - 1]) < 0; j--)
		{
			struct pd_cand t = out->c[j];

			out->c[j] = out->c[j - 1];
			out->c[j - 1] = t;
		}
	json_decref(root);
	return true;
}

void
pd_advise_candidates_free(struct pd_cands *c)
{
	for (int i = 0; i < c->n; i++)
	{
		free(c->c[i].schema);
		free(c->c[i].table);
		free(c->c[i].column);
	}
	for (int i = 0; i < c->nrels; i++)
	{
		free(c->rels[i].schema);
		free(c->rels[i].table);
		free(c->rels[i].alias);
	}
	free(c->c);
	free(c->rels);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------ helpers */

bool
pd_sql_explainable(const char *sql, char *err, size_t errlen)
{
	static const char *const ok[] = {
		"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "CreateTableAsStmt",
		"ExecuteStmt", "DeclareCursorStmt", NULL
	};
	PgQueryParseResult pr = pg_query_parse(sql);
	json_error_t jerr;
	json_t	   *root;
	json_t	   *stmts;
	const char *key = NULL;
	bool		good = false;

	if (pr.error != NULL)
	{
		snprintf(err, errlen, "does not parse: %s", pr.error->message);
		pg_query_free_parse_result(pr);
		return false;
	}
	root = json_loads(pr.parse_tree, 0, &jerr);
	pg_query_free_parse_result(pr);
	stmts = json_object_get(root, "stmts");
	if (json_array_size(stmts) != 1)
	{
		snprintf(err, errlen, json_array_size(stmts) ? "several statements" : "no statement");
		json_decref(root);
		return false;
	}
	{
		void	   *it = json_object_iter(json_object_get(json_array_get(stmts, 0), "stmt"));

		key = it ? json_object_iter_key(it) : NULL;
	}
	for (int i = 0; key && ok[i]; i++)
		good |= strcmp(key, ok[i]) == 0;
	if (!good)
	{
		char		name[64];
		size_t		n = 0;

		/* "VacuumStmt" -> "VACUUM": the node name without "Stmt" */
		for (const char *p = key ? key : "?"; *p && n < sizeof(name) - 1; p++)
		{
			if (strcmp(p, "Stmt") == 0)
				break;
			name[n++] = (char) toupper((unsigned char) *p);
		}
		name[n] = '\0';
		snprintf(err, errlen, "a utility statement (%s)", name);
	}
	json_decref(root);
	return good;
}

char *
pd_sql_ident(const char *s)
{
	static const char *const reserved[] = {
		"all", "and", "any", "as", "asc", "both", "case", "check", "column",
		"constraint", "create", "default", "desc", "do", "else", "end", "false",
		"for", "from", "grant", "group", "having", "in", "into", "is", "limit",
		"not", "null", "offset", "on", "or", "order", "primary", "references",
		"select", "table", "then", "to", "true", "union", "unique", "user",
		"using", "when", "where", "with", NULL
	};
	bool		plain = s[0] != '\0' && (islower((unsigned char) s[0]) || s[0] == '_');

	for (const char *p = s; plain && *p; p++)
		plain = islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '_';
	for (int i = 0; plain && reserved[i]; i++)
		plain = strcmp(s, reserved[i]) != 0;
	return plain ? pd_strdup(s) : pgconn_quote_ident(s);
}

double
pd_plan_total_cost(const char *plan_json)
{
	json_error_t jerr;
	json_t	   *root = json_loads(plan_json, 0, &jerr);
	json_t	   *plan;
	double		cost = NAN;

	if (root == NULL)
		return NAN;
	plan = json_object_get(json_is_array(root) ? json_array_get(root, 0) : root, "Plan");
	if (json_is_number(json_object_get(plan, "Total Cost")))
		cost = json_number_value(json_object_get(plan, "Total Cost"));
	json_decref(root);
	return cost;
}

void
pd_advice_note(struct pd_advice_list *l, const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l->notes = realloc(l->notes, (l->nnotes + 1) * sizeof(char *));
	if (l->notes == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	l->notes[l->nnotes++] = pd_strdup(buf);
}

/* Run sql; the first value (malloc'd) or NULL with a message in err. */
static char *
adv_scalar(struct pgconn *c, const char *sql, char *err, size_t errlen)
{
	struct pgconn_result *r = NULL;
	char	   *v = NULL;

	if (!pgconn_exec(c, sql, &r, err, errlen))
		return NULL;
	if (r && pgconn_result_ntuples(r) > 0 && pgconn_result_value(r, 0, 0))
		v = pd_strdup(pgconn_result_value(r, 0, 0));
	pgconn_result_clear(r);
	if (v == NULL)
		snprintf(err, errlen, "no rows");
	return v;
}

static char *
adv_quote(void *arg, const char *s)
{
	return pgconn_quote_literal(arg, s);
}

/*
 * adv_cost: the planner's total cost of in (with its values, else a generic
 * plan), or NaN with a message in err.  Prepares it afresh each time, so
 * that the hypothetical indexes of the moment are seen.
 */
static double
adv_cost(struct pgconn *c, const struct pd_advise_input *in, char *err, size_t errlen)
{
	char	   *prep = NULL;
	char	   *sql;
	char	   *plan = NULL;
	char		ignore[256];
	double		cost = NAN;

	sql = pd_obs_explain_sql(in->sql, in->nparams, in->values, false,
							 "perfdriver_advise", adv_quote, c, &prep);
	pgconn_exec(c, in->values ? "SET plan_cache_mode = force_custom_plan"
				: "SET plan_cache_mode = force_generic_plan", NULL, ignore, sizeof(ignore));
	if (prep == NULL || pgconn_exec(c, prep, NULL, err, errlen))
		plan = adv_scalar(c, sql, err, errlen);
	if (prep != NULL)
		pgconn_exec(c, "DEALLOCATE perfdriver_advise", NULL, ignore, sizeof(ignore));
	pgconn_exec(c, "RESET plan_cache_mode", NULL, ignore, sizeof(ignore));
	if (plan != NULL)
	{
		cost = pd_plan_total_cost(plan);
		if (isnan(cost))
			snprintf(err, errlen, "the plan has no total cost");
	}
	free(plan);
	free(prep);
	free(sql);
	return cost;
}

/* A resolved candidate: schema-qualified table and a column it has. */
struct adv_col
{
	char	   *schema;
	char	   *table;
	char	   *column;
	pd_cand_kind kind;
};

/*
 * adv_resolve: the schema of a table as the session's search_path finds it
 * and whether it has column; false when the table or column is not there.
 */
static bool
adv_resolve(struct pgconn *c, const char *schema, const char *table,
			const char *column, char **schema_out)
{
	char	   *qn;
	char	   *lit;
	char	   *colq;
	char		sql[1024];
	char		err[256];
	char	   *v;

	if (schema != NULL)
	{
		char	   *s = pgconn_quote_ident(schema);
		char	   *t = pgconn_quote_ident(table);

		qn = pd_malloc(strlen(s) + strlen(t) + 2);
		sprintf(qn, "%s.%s", s, t);
		free(s);
		free(t);
	}
	else
		qn = pgconn_quote_ident(table);
	lit = pgconn_quote_literal(c, qn);
	colq = pgconn_quote_literal(c, column);
	snprintf(sql, sizeof(sql),
			 "SELECT n.nspname FROM pg_catalog.pg_class r"
			 " JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
			 " JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid"
			 " WHERE r.oid = pg_catalog.to_regclass(%s) AND r.relkind IN ('r', 'p', 'm')"
			 " AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped",
			 lit, colq);
	free(qn);
	free(lit);
	free(colq);
	v = adv_scalar(c, sql, err, sizeof(err));
	*schema_out = v;
	return v != NULL;
}

/*
 * adv_resolve_all: candidates with their table and schema found in the
 * catalog; unqualified columns of a multi-table statement go to the first
 * table that has them.
 */
static int
adv_resolve_all(struct pgconn *c, const struct pd_cands *cs, struct adv_col **out)
{
	int			n = 0;

	*out = pd_calloc(cs->n + 1, sizeof(**out));
	for (int i = 0; i < cs->n; i++)
	{
		const struct pd_cand *cd = &cs->c[i];
		char	   *schema = NULL;
		const char *table = NULL;

		if (cd->table != NULL)
		{
			if (adv_resolve(c, cd->schema, cd->table, cd->column, &schema))
				table = cd->table;
		}
		else
		{
			for (int r = 0; r < cs->nrels && table == NULL; r++)
				if (adv_resolve(c, cs->rels[r].schema, cs->rels[r].table, cd->column, &schema))
					table = cs->rels[r].table;
		}
		if (table == NULL)
			continue;
		(*out)[n].schema = schema;
		(*out)[n].table = pd_strdup(table);
		(*out)[n].column = pd_strdup(cd->column);
		(*out)[n].kind = cd->kind;
		n++;
	}
	return n;
}

static void
adv_cols_free(struct adv_col *a, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(a[i].schema);
		free(a[i].table);
		free(a[i].column);
	}
	free(a);
}

/* "CREATE INDEX ON schema.table (a, b)", malloc'd; *cols gets "a, b". */
static char *
adv_index_sql(const struct adv_col *a, const struct adv_col *b, char **cols)
{
	char	   *s = pd_sql_ident(a->schema);
	char	   *t = pd_sql_ident(a->table);
	char	   *c1 = pd_sql_ident(a->column);
	char	   *c2 = b ? pd_sql_ident(b->column) : NULL;
	size_t		len = strlen(s) + strlen(t) + strlen(c1) + (c2 ? strlen(c2) : 0) + 40;
	char	   *out = pd_malloc(len);

	*cols = pd_malloc(len);
	snprintf(*cols, len, "%s%s%s", c1, c2 ? ", " : "", c2 ? c2 : "");
	snprintf(out, len, "CREATE INDEX ON %s.%s (%s)", s, t, *cols);
	free(s);
	free(t);
	free(c1);
	free(c2);
	return out;
}

/*
 * adv_try: the cost of in with the hypothetical index sql (hypopg in
 * schema hs), NaN on failure; resets hypopg afterwards.
 */
static double
adv_try(struct pgconn *c, const char *hs, const char *index_sql,
		const struct pd_advise_input *in, char *err, size_t errlen)
{
	char	   *lit = pgconn_quote_literal(c, index_sql);
	char	   *q = pd_malloc(strlen(lit) + strlen(hs) + 64);
	char		ignore[256];
	double		cost = NAN;

	sprintf(q, "SELECT indexrelid FROM %s.hypopg_create_index(%s)", hs, lit);
	if (pgconn_exec(c, q, NULL, err, errlen))
		cost = adv_cost(c, in, err, errlen);
	sprintf(q, "SELECT %s.hypopg_reset()", hs);
	pgconn_exec(c, q, NULL, ignore, sizeof(ignore));
	free(q);
	free(lit);
	return cost;
}

/*
 * adv_existing: true when an index of schema.table already starts with the
 * columns (a, b) (b may be NULL).
 */
static bool
adv_existing(struct pgconn *c, const struct adv_col *a, const struct adv_col *b)
{
	char	   *s = pgconn_quote_literal(c, a->schema);
	char	   *t = pgconn_quote_literal(c, a->table);
	char	   *c1 = pgconn_quote_literal(c, a->column);
	char	   *c2 = b ? pgconn_quote_literal(c, b->column) : NULL;
	char		sql[2048];
	char		err[256];
	char	   *v;
	bool		found;

	snprintf(sql, sizeof(sql),
			 "SELECT count(*)::text FROM pg_catalog.pg_index i"
			 " JOIN pg_catalog.pg_class r ON r.oid = i.indrelid"
			 " JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace"
			 " WHERE n.nspname = %s AND r.relname = %s AND i.indpred IS NULL"
			 " AND (SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = r.oid AND attnum = i.indkey[0]) = %s"
			 "%s%s%s",
			 s, t, c1,
			 c2 ? " AND (SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = r.oid AND attnum = i.indkey[1]) = " : "",
			 c2 ? c2 : "", "");
	v = adv_scalar(c, sql, err, sizeof(err));
	found = v != NULL && strcmp(v, "0") != 0;
	free(v);
	free(s);
	free(t);
	free(c1);
	free(c2);
	return found;
}

static void
adv_add_stmt(struct pd_advice *a, uint64_t fp, const char *query)
{
	for (int i = 0; i < a->nstatements; i++)
		if (a->statements[i] == fp)
			return;
	a->statements = realloc(a->statements, (a->nstatements + 1) * sizeof(uint64_t));
	a->statement_queries = realloc(a->statement_queries, (a->nstatements + 1) * sizeof(char *));
	if (a->statements == NULL || a->statement_queries == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	a->statements[a->nstatements] = fp;
	a->statement_queries[a->nstatements] = pd_strdup(query);
	a->nstatements++;
}

/* The schema hypopg is installed in (malloc'd), or NULL. */
static char *
adv_hypopg_schema(struct pgconn *c)
{
	char		err[256];
	char	   *v = adv_scalar(c,
							   "SELECT n.nspname FROM pg_catalog.pg_extension e"
							   " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
							   " WHERE e.extname = 'hypopg'", err, sizeof(err));
	char	   *q;

	if (v == NULL)
		return NULL;
	q = pgconn_quote_ident(v);
	free(v);
	return q;
}

void
pd_advise(struct pgconn *c, const struct pd_advise_input *in, int n,
		  struct pd_advice_list *out)
{
	char	   *hs = adv_hypopg_schema(c);
	double	   *before;
	char		err[512];

	out->ran = true;
	if (hs == NULL)
	{
		pd_advice_note(out, "hypopg is not installed in this database: no index advice; hint: run CREATE SCHEMA hypopg; CREATE EXTENSION hypopg SCHEMA hypopg (Debian package postgresql-15-hypopg)");
		return;
	}
	before = pd_calloc(n > 0 ? n : 1, sizeof(double));
	for (int i = 0; i < n; i++)
	{
		before[i] = NAN;
		if (!pd_sql_explainable(in[i].sql, err, sizeof(err)))
		{
			pd_advice_note(out, "statement \"%.60s\" cannot be EXPLAINed: %s", in[i].query, err);
			continue;
		}
		before[i] = adv_cost(c, &in[i], err, sizeof(err));
		if (isnan(before[i]))
			pd_advice_note(out, "statement \"%.60s\" cannot be EXPLAINed: %s", in[i].query, err);
	}

	for (int i = 0; i < n; i++)
	{
		struct pd_cands cs;
		struct adv_col *cols;
		int			ncols;
		double		best = INFINITY;
		int			ba = -1,
					bb = -1;
		double		best_single = INFINITY;

		if (isnan(before[i]) || before[i] < PD_ADVISE_MIN_COST)
			continue;
		if (pd_advice_for(out, in[i].fingerprint) != NULL)
			continue;			/* an index advised for another one helps */
		if (!pd_advise_candidates(in[i].sql, &cs, err, sizeof(err)))
			continue;
		ncols = adv_resolve_all(c, &cs, &cols);
		pd_advise_candidates_free(&cs);
		if (ncols > PD_ADVISE_MAX_COLS)
			ncols = PD_ADVISE_MAX_COLS;

		/* single columns */
		for (int a = 0; a < ncols; a++)
		{
			char	   *cl;
			char	   *sql = adv_index_sql(&cols[a], NULL, &cl);
			double		cost = adv_try(c, hs, sql, &in[i], err, sizeof(err));

			if (!isnan(cost) && cost < best)
			{
				best = cost;
				ba = a;
			}
			free(sql);
			free(cl);
		}
		best_single = best;
		/* ordered pairs on one table: an equality or join key first */
		for (int a = 0; a < ncols; a++)
		{
			if (cols[a].kind != PD_CAND_EQ && cols[a].kind != PD_CAND_JOIN)
				continue;
			for (int b = 0; b < ncols; b++)
			{
				char	   *cl;
				char	   *sql;
				double		cost;

				if (b == a || strcmp(cols[a].table, cols[b].table) != 0 ||
					strcmp(cols[a].schema, cols[b].schema) != 0)
					continue;
				sql = adv_index_sql(&cols[a], &cols[b], &cl);
				cost = adv_try(c, hs, sql, &in[i], err, sizeof(err));
				if (!isnan(cost) && cost < best && cost <= best_single * PD_ADVISE_PAIR_GAIN)
				{
					best = cost;
					ba = a;
					bb = b;
				}
				free(sql);
				free(cl);
			}
		}

		if (ba >= 0 && best <= before[i] * (1 - PD_ADVISE_MIN_SAVING) &&
			!adv_existing(c, &cols[ba], bb >= 0 ? &cols[bb] : NULL))
		{
			struct pd_advice *adv;
			char	   *colsql;
			char	   *sql = adv_index_sql(&cols[ba], bb >= 0 ? &cols[bb] : NULL, &colsql);
			int			dup = -1;

			for (int k = 0; k < out->n; k++)
				if (strcmp(out->a[k].create_index, sql) == 0)
					dup = k;
			if (dup < 0)
			{
				out->a = realloc(out->a, (out->n + 1) * sizeof(*out->a));
				if (out->a == NULL)
				{
					pd_error("out of memory");
					abort();
				}
				adv = &out->a[out->n++];
				memset(adv, 0, sizeof(*adv));
				adv->fingerprint = in[i].fingerprint;
				adv->query = pd_strdup(in[i].query);
				adv->create_index = sql;
				adv->columns = colsql;
				adv->schema = pd_strdup(cols[ba].schema);
				adv->table = pd_strdup(cols[ba].table);
				adv->cost_before = before[i];
				adv->cost_after = best;
				adv->p95_before_ms = NAN;
				adv->p95_after_ms = NAN;
			}
			else
			{
				adv = &out->a[dup];
				free(sql);
				free(colsql);
			}
			adv_add_stmt(adv, in[i].fingerprint, in[i].query);
			/* what else it helps */
			for (int j = 0; j < n; j++)
			{
				double		cost;

				if (j == i || isnan(before[j]) || before[j] < PD_ADVISE_MIN_COST)
					continue;
				cost = adv_try(c, hs, adv->create_index, &in[j], err, sizeof(err));
				if (!isnan(cost) && cost <= before[j] * (1 - PD_ADVISE_MIN_SAVING))
					adv_add_stmt(adv, in[j].fingerprint, in[j].query);
			}
		}
		adv_cols_free(cols, ncols > 0 ? ncols : 0);
	}
	free(before);
	free(hs);
}

const struct pd_advice *
pd_advice_for(const struct pd_advice_list *l, uint64_t fingerprint)
{
	for (int i = 0; i < l->n; i++)
		for (int k = 0; k < l->a[i].nstatements; k++)
			if (l->a[i].statements[k] == fingerprint)
				return &l->a[i];
	return NULL;
}

void
pd_advice_list_free(struct pd_advice_list *l)
{
	for (int i = 0; i < l->n; i++)
	{
		struct pd_advice *a = &l->a[i];

		free(a->query);
		free(a->create_index);
		free(a->schema);
		free(a->table);
		free(a->columns);
		for (int k = 0; k < a->nstatements; k++)
			free(a->statement_queries[k]);
		free(a->statements);
		free(a->statement_queries);
	}
	for (int i = 0; i < l->nnotes; i++)
		free(l->notes[i]);
	free(l->a);
	free(l->notes);
	memset(l, 0, sizeof(*l));
}

static void
adv_json_num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.2f", v);
}

/* A measured figure, as the run's own report writes them (report.c). */
static void
adv_json_measured(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else
		fprintf(f, "%.6f", v);
}

void
pd_advice_json(FILE *f, const struct pd_advice_list *l)
{
	fputs(",\n  \"index_advice\": [", f);
	for (int i = 0; i < l->n; i++)
	{
		const struct pd_advice *a = &l->a[i];

		fprintf(f, "%s\n    {\"fingerprint\": \"%016llx\", \"query\": ", i ? "," : "",
				(unsigned long long) a->fingerprint);
		nplus1_json_string(f, a->query);
		fputs(", \"create_index\": ", f);
		nplus1_json_string(f, a->create_index);
		fputs(", \"table\": ", f);
		nplus1_json_string(f, a->table);
		fputs(", \"schema\": ", f);
		nplus1_json_string(f, a->schema);
		fputs(", \"columns\": ", f);
		nplus1_json_string(f, a->columns);
		fputs(", \"cost_before\": ", f);
		adv_json_num(f, a->cost_before);
		fputs(", \"cost_after\": ", f);
		adv_json_num(f, a->cost_after);
		fputs(", \"statements\": [", f);
		for (int k = 0; k < a->nstatements; k++)
			fprintf(f, "%s\"%016llx\"", k ? ", " : "", (unsigned long long) a->statements[k]);
		fputc(']', f);
		if (!isnan(a->p95_before_ms) || !isnan(a->p95_after_ms))
		{
			fputs(", \"p95_before_ms\": ", f);
			adv_json_num(f, a->p95_before_ms);
			fputs(", \"p95_after_ms\": ", f);
			adv_json_num(f, a->p95_after_ms);
			fprintf(f, ", \"kept\": %s", a->kept ? "true" : "false");
		}
		fputc('}', f);
	}
	fprintf(f, "%s]", l->n ? "\n  " : "");
	if (l->rerun.ran)
	{
		const struct pd_advice_rerun *v = &l->rerun;

		fputs(",\n  \"advise_verify\": {\"tps\": ", f);
		adv_json_measured(f, v->tps);
		fprintf(f, ", \"transactions\": %llu, \"failed_transactions\": %llu, \"duration_s\": ",
				(unsigned long long) v->transactions, (unsigned long long) v->failed);
		adv_json_measured(f, v->duration_s);
		fputs(", \"latency_ms\": {\"p50\": ", f);
		adv_json_measured(f, v->p50_ms);
		fputs(", \"p95\": ", f);
		adv_json_measured(f, v->p95_ms);
		fputs(", \"p99\": ", f);
		adv_json_measured(f, v->p99_ms);
		fputs(", \"max\": ", f);
		adv_json_measured(f, v->max_ms);
		fputs(", \"mean\": ", f);
		adv_json_measured(f, v->mean_ms);
		fputs("}}", f);
	}
	fputs(",\n  \"advise_notes\": [", f);
	for (int i = 0; i < l->nnotes; i++)
	{
		fputs(i ? ", " : "", f);
		nplus1_json_string(f, l->notes[i]);
	}
	fputc(']', f);
}

void
pd_advice_print(FILE *out, const struct pd_advice_list *l)
{
	fprintf(out, "\nindex advice (hypothetical indexes; kept when the plan cost falls by %.0f %% or more):\n",
			PD_ADVISE_MIN_SAVING * 100);
	if (l->n == 0)
		fprintf(out, "  none: no statement costing %.0f or more would gain from a new index\n",
				PD_ADVISE_MIN_COST);
	for (int i = 0; i < l->n; i++)
	{
		const struct pd_advice *a = &l->a[i];

		fprintf(out, "  %s;\n", a->create_index);
		fprintf(out, "      cost %.1f -> %.1f (%.0f %% less) for: %.70s\n", a->cost_before,
				a->cost_after, 100.0 * (1 - a->cost_after / a->cost_before), a->query);
		if (a->nstatements > 1)
			fprintf(out, "      also helps %d other statement%s\n", a->nstatements - 1,
					a->nstatements == 2 ? "" : "s");
		if (!isnan(a->p95_before_ms))
			fprintf(out, "      measured p95 %.2f ms -> %.2f ms (index %s)\n", a->p95_before_ms,
					a->p95_after_ms, a->kept ? "kept" : "dropped");
	}
	if (l->rerun.ran)
		fprintf(out, "  rerun with the indexes: %llu transactions in %.1f s, %.1f tps, p95 %.2f ms\n",
				(unsigned long long) l->rerun.transactions, l->rerun.duration_s, l->rerun.tps,
				l->rerun.p95_ms);
	for (int i = 0; i < l->nnotes; i++)
		fprintf(out, "  note: %s\n", l->notes[i]);
}
