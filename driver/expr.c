/*
 * expr.c
 *		The pgbench expression language: lexer, recursive-descent parser,
 *		evaluator, and the hash functions.  The variable table is in
 *		vars.c, the PRNG and the random distributions in prng.c.
 *
 * Owns: pgbench 15 semantics.  The grammar follows pgbench's precedence
 * (lowest first): OR, AND, NOT (prefix), IS/ISNULL/NOTNULL (non-assoc),
 * comparisons (non-assoc), bit operators & | # << >> and prefix ~, + -,
 * * / %, unary + -.  Integer arithmetic is checked for overflow; an
 * operation with a double operand is done in double (except %), and a
 * double result must be finite: the operation fails with PostgreSQL's
 * message otherwise, so no "inf" or "nan" reaches the SQL.
 *
 * Bounded stack: the parser refuses nesting deeper than EXPR_MAX_DEPTH; a
 * chain of binary operators (a + b + ... + z, however long) is parsed in a
 * loop and evaluated and freed without recursing down it.
 *
 * Must not: talk to libpq, or print anything but debug() output (stderr).
 *
 * Memory: parse trees are malloc'd; allocation failure aborts (util.c), as
 * pgbench's pg_malloc exits.  Parse trees are immutable after parsing and
 * safe to share between threads.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver.h"
#include "expr.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define EXPR_MIN_GAUSSIAN_PARAM		2.0
#define EXPR_MIN_ZIPFIAN_PARAM		1.001
#define EXPR_MAX_ZIPFIAN_PARAM		1000.0
#define EXPR_MAX_FARGS				16

/*
 * Deepest nesting the parser accepts (parentheses, function calls, prefix
 * operators, CASE), so that a hostile script cannot overflow the stack of
 * the parser, the evaluator or pgb_expr_free(): their recursion follows
 * this nesting.  Chains of binary operators, such as a flat sum of many
 * terms, are not nesting: they are parsed, evaluated and freed in loops.
 */
#define EXPR_MAX_DEPTH				1000

/* A longer expression is cut to this many bytes in parse error messages. */
#define EXPR_ERROR_TEXT_MAX			100

/* FNV-1a and MurmurHash64A constants, as pgbench */
#define EXPR_FNV_PRIME			UINT64_C(0x100000001b3)
#define EXPR_FNV_OFFSET_BASIS	UINT64_C(0xcbf29ce484222325)
#define EXPR_MM2_MUL			UINT64_C(0xc6a4a7935bd1e995)
#define EXPR_MM2_MUL_TIMES_8	UINT64_C(0x35253c9ade8f4ca8)
#define EXPR_MM2_ROT			47

/* -------------------------------------------------------------------------
 * Small helpers
 * -------------------------------------------------------------------------
 */

/* Write a formatted message into err; always returns false for "return
 * expr_error(...)" convenience. */
__attribute__((format(printf, 3, 4)))
static bool
expr_error(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return false;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return false;
}

/* -------------------------------------------------------------------------
 * Values: coercions of the evaluator
 * -------------------------------------------------------------------------
 */

static const char *
expr_type_name(const pgb_value *v)
{
	switch (v->type)
	{
		case PGB_NULL:
			return "null";
		case PGB_BOOLEAN:
			return "boolean";
		case PGB_INT:
			return "int";
		case PGB_DOUBLE:
			return "double";
	}
	return "unknown";
}

static bool
expr_coerce_bool(const pgb_value *v, bool *b, char *err, size_t errlen)
{
	if (v->type == PGB_BOOLEAN)
	{
		*b = v->u.bval;
		return true;
	}
	return expr_error(err, errlen, "cannot coerce %s to boolean",
					  expr_type_name(v));
}

/* Doubles round to the nearest integer and must fit in int64, as pgbench. */
static bool
expr_coerce_int(const pgb_value *v, int64_t *i, char *err, size_t errlen)
{
	if (v->type == PGB_INT)
	{
		*i = v->u.ival;
		return true;
	}
	if (v->type == PGB_DOUBLE)
	{
		double		d = rint(v->u.dval);

		if (isnan(d) || !(d >= (double) INT64_MIN && d < -(double) INT64_MIN))
			return expr_error(err, errlen, "double to int overflow for %f", d);
		*i = (int64_t) d;
		return true;
	}
	return expr_error(err, errlen, "cannot coerce %s to int",
					  expr_type_name(v));
}

static bool
expr_coerce_double(const pgb_value *v, double *d, char *err, size_t errlen)
{
	if (v->type == PGB_DOUBLE)
	{
		*d = v->u.dval;
		return true;
	}
	if (v->type == PGB_INT)
	{
		*d = (double) v->u.ival;
		return true;
	}
	return expr_error(err, errlen, "cannot coerce %s to double",
					  expr_type_name(v));
}

/* -------------------------------------------------------------------------
 * Hashes, as pgbench 15
 * -------------------------------------------------------------------------
 */

int64_t
pgb_hash_fnv1a(int64_t val, uint64_t seed)
{
	uint64_t	h = EXPR_FNV_OFFSET_BASIS ^ seed;
	uint64_t	v = (uint64_t) val;

	for (int i = 0; i < 8; i++)
	{
		h ^= v & 0xff;
		h *= EXPR_FNV_PRIME;
		v >>= 8;
	}
	return (int64_t) h;
}

int64_t
pgb_hash_murmur2(int64_t val, uint64_t seed)
{
	uint64_t	h = seed ^ EXPR_MM2_MUL_TIMES_8;
	uint64_t	k = (uint64_t) val;

	k *= EXPR_MM2_MUL;
	k ^= k >> EXPR_MM2_ROT;
	k *= EXPR_MM2_MUL;
	h ^= k;
	h *= EXPR_MM2_MUL;
	h ^= h >> EXPR_MM2_ROT;
	h *= EXPR_MM2_MUL;
	h ^= h >> EXPR_MM2_ROT;
	return (int64_t) h;
}

/* -------------------------------------------------------------------------
 * Expression trees
 * -------------------------------------------------------------------------
 */

typedef enum expr_func
{
	EF_ADD, EF_SUB, EF_MUL, EF_DIV, EF_MOD,
	EF_ABS, EF_LEAST, EF_GREATEST, EF_DEBUG, EF_PI, EF_SQRT, EF_LN, EF_EXP,
	EF_INT, EF_DOUBLE, EF_RANDOM, EF_RANDOM_GAUSSIAN, EF_RANDOM_EXPONENTIAL,
	EF_RANDOM_ZIPFIAN, EF_POW,
	EF_AND, EF_OR, EF_NOT,
	EF_BITAND, EF_BITOR, EF_BITXOR, EF_LSHIFT, EF_RSHIFT,
	EF_EQ, EF_NE, EF_LE, EF_LT, EF_IS,
	EF_CASE, EF_HASH_MURMUR2, EF_HASH_FNV1A, EF_PERMUTE
} expr_func;

typedef enum expr_kind
{
	EK_CONST,
	EK_VAR,
	EK_FUNC
} expr_kind;

struct pgb_expr
{
	expr_kind	kind;
	pgb_value	constant;		/* EK_CONST */
	char	   *varname;		/* EK_VAR */
	expr_func	func;			/* EK_FUNC */
	int			nargs;
	struct pgb_expr **args;
};

/* Callable functions; nargs -1: one or more; -2: 1 or 2 (seed defaults to
 * :default_seed); -3: 2 or 3 (permute, same default). */
static const struct
{
	const char *name;
	int			nargs;
	expr_func	func;
}			expr_functions[] =
{
	{"abs", 1, EF_ABS},
	{"debug", 1, EF_DEBUG},
	{"double", 1, EF_DOUBLE},
	{"exp", 1, EF_EXP},
	{"greatest", -1, EF_GREATEST},
	{"hash", -2, EF_HASH_MURMUR2},
	{"hash_fnv1a", -2, EF_HASH_FNV1A},
	{"hash_murmur2", -2, EF_HASH_MURMUR2},
	{"int", 1, EF_INT},
	{"least", -1, EF_LEAST},
	{"ln", 1, EF_LN},
	{"mod", 2, EF_MOD},
	{"permute", -3, EF_PERMUTE},
	{"pi", 0, EF_PI},
	{"pow", 2, EF_POW},
	{"power", 2, EF_POW},
	{"random", 2, EF_RANDOM},
	{"random_exponential", 3, EF_RANDOM_EXPONENTIAL},
	{"random_gaussian", 3, EF_RANDOM_GAUSSIAN},
	{"random_zipfian", 3, EF_RANDOM_ZIPFIAN},
	{"sqrt", 1, EF_SQRT},
};

/*
 * Frees the tree.  Recurses into every argument but the first and loops
 * down the first, so a long left-deep chain (a flat sum) costs no stack;
 * the recursion is bounded by the parser's nesting limit.
 */
void
pgb_expr_free(struct pgb_expr *e)
{
	while (e != NULL)
	{
		struct pgb_expr *first = e->nargs > 0 ? e->args[0] : NULL;

		for (int i = 1; i < e->nargs; i++)
			pgb_expr_free(e->args[i]);
		free(e->args);
		free(e->varname);
		free(e);
		e = first;
	}
}

static struct pgb_expr *
expr_new(expr_kind kind)
{
	struct pgb_expr *e = pd_malloc(sizeof(*e));

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	pgb_value_set_null(&e->constant);
	return e;
}

static struct pgb_expr *
expr_new_int(int64_t v)
{
	struct pgb_expr *e = expr_new(EK_CONST);

	pgb_value_set_int(&e->constant, v);
	return e;
}

static struct pgb_expr *
expr_new_var(const char *name)
{
	struct pgb_expr *e = expr_new(EK_VAR);

	e->varname = pd_strdup(name);
	return e;
}

static struct pgb_expr *
expr_new_func(expr_func f, int nargs, struct pgb_expr **args)
{
	struct pgb_expr *e = expr_new(EK_FUNC);

	e->func = f;
	e->nargs = nargs;
	e->args = pd_malloc(sizeof(struct pgb_expr *) * (nargs ? nargs : 1));
	for (int i = 0; i < nargs; i++)
		e->args[i] = args[i];
	return e;
}

static struct pgb_expr *
expr_new_op(expr_func f, struct pgb_expr *l, struct pgb_expr *r)
{
	struct pgb_expr *a[2] = {l, r};

	return expr_new_func(f, 2, a);
}

static struct pgb_expr *
expr_new_uop(expr_func f, struct pgb_expr *x)
{
	return expr_new_func(f, 1, &x);
}

/* -------------------------------------------------------------------------
 * Lexer
 * -------------------------------------------------------------------------
 */

typedef enum expr_tok
{
	ET_END, ET_INT, ET_DOUBLE, ET_VAR, ET_IDENT, ET_MAXINT_PLUS_ONE,
	ET_NULL, ET_TRUE, ET_FALSE, ET_AND, ET_OR, ET_NOT, ET_IS, ET_ISNULL,
	ET_NOTNULL, ET_CASE, ET_WHEN, ET_THEN, ET_ELSE, ET_ENDKW,
	ET_PLUS, ET_MINUS, ET_STAR, ET_SLASH, ET_PERCENT, ET_LPAREN, ET_RPAREN,
	ET_COMMA, ET_LT, ET_LE, ET_GT, ET_GE, ET_EQ, ET_NE, ET_AMP, ET_PIPE,
	ET_HASH, ET_TILDE, ET_LSHIFT, ET_RSHIFT
} expr_tok;

struct expr_parser
{
	const char *text;
	const char *p;				/* next unread character */
	expr_tok	tok;			/* current token */
	const char *tokstart;
	int64_t		ival;
	double		dval;
	char	   *str;			/* ET_VAR / ET_IDENT text, malloc'd */
	char	   *err;
	size_t		errlen;
	bool		failed;
	int			depth;			/* current nesting of expr_parse_level */
};

static bool
expr_is_alpha(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool
expr_is_alnum(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

__attribute__((format(printf, 2, 3)))
static void
expr_parse_error(struct expr_parser *ps, const char *fmt,...)
{
	char		msg[200];
	va_list		ap;

	if (ps->failed)
		return;
	ps->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strlen(ps->text) > EXPR_ERROR_TEXT_MAX)
		expr_error(ps->err, ps->errlen,
				   "%s at column %d of expression \"%.*s...\"",
				   msg, (int) (ps->tokstart - ps->text) + 1,
				   EXPR_ERROR_TEXT_MAX, ps->text);
	else
		expr_error(ps->err, ps->errlen, "%s at column %d of expression \"%s\"",
				   msg, (int) (ps->tokstart - ps->text) + 1, ps->text);
}

static const struct
{
	const char *word;
	expr_tok	tok;
}			expr_keywords[] =
{
	{"and", ET_AND}, {"case", ET_CASE}, {"else", ET_ELSE}, {"end", ET_ENDKW},
	{"false", ET_FALSE}, {"is", ET_IS}, {"isnull", ET_ISNULL},
	{"not", ET_NOT}, {"notnull", ET_NOTNULL}, {"null", ET_NULL},
	{"or", ET_OR}, {"then", ET_THEN}, {"true", ET_TRUE}, {"when", ET_WHEN},
};

/* Read the next token into ps->tok.  Whitespace, including a backslash-
 * newline continuation, separates tokens. */
static void
expr_next(struct expr_parser *ps)
{
	const char *p = ps->p;
	const char *start;

	free(ps->str);
	ps->str = NULL;

	for (;;)
	{
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' ||
			*p == '\v' || *p == '\n')
			p++;
		else if (p[0] == '\\' && p[1] == '\n')
			p += 2;
		else if (p[0] == '\\' && p[1] == '\r' && p[2] == '\n')
			p += 3;
		else
			break;
	}
	ps->tokstart = start = p;
	if (*p == '\0')
	{
		ps->tok = ET_END;
		ps->p = p;
		return;
	}

	if (isdigit((unsigned char) *p) ||
		(*p == '.' && isdigit((unsigned char) p[1])))
	{
		bool		isdouble = false;

		while (isdigit((unsigned char) *p))
			p++;
		if (*p == '.')
		{
			isdouble = true;
			p++;
			while (isdigit((unsigned char) *p))
				p++;
		}
		if ((*p == 'e' || *p == 'E') &&
			(isdigit((unsigned char) p[1]) ||
			 ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char) p[2]))))
		{
			isdouble = true;
			p += 2;
			while (isdigit((unsigned char) *p))
				p++;
		}
		ps->p = p;
		if (isdouble)
		{
			char	   *num = pd_strndup(start, (size_t) (p - start));

			ps->dval = strtod(num, NULL);
			free(num);
			ps->tok = ET_DOUBLE;
			if (!isfinite(ps->dval))
			{
				ps->tokstart = start;
				expr_parse_error(ps, "double constant overflow");
			}
		}
		else
		{
			char	   *num = pd_strndup(start, (size_t) (p - start));
			unsigned long long u;

			errno = 0;
			u = strtoull(num, NULL, 10);
			free(num);
			if (errno == 0 && u <= (unsigned long long) INT64_MAX)
			{
				ps->ival = (int64_t) u;
				ps->tok = ET_INT;
			}
			else if (errno == 0 && u == (unsigned long long) INT64_MAX + 1)
				ps->tok = ET_MAXINT_PLUS_ONE;	/* valid only after '-' */
			else
			{
				expr_parse_error(ps, "bigint constant overflow");
				ps->tok = ET_END;
			}
		}
		return;
	}

	if (*p == ':' && expr_is_alnum((unsigned char) p[1]))
	{
		p++;
		while (expr_is_alnum((unsigned char) *p))
			p++;
		ps->str = pd_strndup(start + 1, (size_t) (p - start - 1));
		ps->tok = ET_VAR;
		ps->p = p;
		return;
	}

	if (expr_is_alpha((unsigned char) *p))
	{
		while (expr_is_alnum((unsigned char) *p))
			p++;
		ps->p = p;
		for (size_t i = 0; i < sizeof(expr_keywords) / sizeof(expr_keywords[0]); i++)
		{
			size_t		n = strlen(expr_keywords[i].word);

			if ((size_t) (p - start) == n &&
				strncasecmp(start, expr_keywords[i].word, n) == 0)
			{
				ps->tok = expr_keywords[i].tok;
				return;
			}
		}
		ps->str = pd_strndup(start, (size_t) (p - start));
		ps->tok = ET_IDENT;
		return;
	}

	ps->p = p + 1;
	switch (*p)
	{
		case '+':
			ps->tok = ET_PLUS;
			return;
		case '-':
			ps->tok = ET_MINUS;
			return;
		case '*':
			ps->tok = ET_STAR;
			return;
		case '/':
			ps->tok = ET_SLASH;
			return;
		case '%':
			ps->tok = ET_PERCENT;
			return;
		case '(':
			ps->tok = ET_LPAREN;
			return;
		case ')':
			ps->tok = ET_RPAREN;
			return;
		case ',':
			ps->tok = ET_COMMA;
			return;
		case '=':
			ps->tok = ET_EQ;
			return;
		case '&':
			ps->tok = ET_AMP;
			return;
		case '|':
			ps->tok = ET_PIPE;
			return;
		case '#':
			ps->tok = ET_HASH;
			return;
		case '~':
			ps->tok = ET_TILDE;
			return;
		case '!':
			if (p[1] == '=')
			{
				ps->p = p + 2;
				ps->tok = ET_NE;
				return;
			}
			break;
		case '<':
			if (p[1] == '=')
				ps->tok = ET_LE;
			else if (p[1] == '>')
				ps->tok = ET_NE;
			else if (p[1] == '<')
				ps->tok = ET_LSHIFT;
			else
			{
				ps->tok = ET_LT;
				return;
			}
			ps->p = p + 2;
			return;
		case '>':
			if (p[1] == '=')
				ps->tok = ET_GE;
			else if (p[1] == '>')
				ps->tok = ET_RSHIFT;
			else
			{
				ps->tok = ET_GT;
				return;
			}
			ps->p = p + 2;
			return;
		default:
			break;
	}
	expr_parse_error(ps, "unexpected character \"%c\"", *p);
	ps->tok = ET_END;
}

/* -------------------------------------------------------------------------
 * Parser: precedence climbing over pgbench's levels.
 * -------------------------------------------------------------------------
 */

enum
{
	EL_OR = 1,
	EL_AND,
	EL_NOT,
	EL_IS,
	EL_CMP,
	EL_BIT,
	EL_ADD,
	EL_MUL,
	EL_UNARY
};

static struct pgb_expr *expr_parse_level(struct expr_parser *ps, int min);

/* Binary/postfix operator level of the current token, 0 if none. */
static int
expr_tok_level(expr_tok t)
{
	switch (t)
	{
		case ET_OR:
			return EL_OR;
		case ET_AND:
			return EL_AND;
		case ET_IS:
		case ET_ISNULL:
		case ET_NOTNULL:
			return EL_IS;
		case ET_LT:
		case ET_LE:
		case ET_GT:
		case ET_GE:
		case ET_EQ:
		case ET_NE:
			return EL_CMP;
		case ET_AMP:
		case ET_PIPE:
		case ET_HASH:
		case ET_LSHIFT:
		case ET_RSHIFT:
			return EL_BIT;
		case ET_PLUS:
		case ET_MINUS:
			return EL_ADD;
		case ET_STAR:
		case ET_SLASH:
		case ET_PERCENT:
			return EL_MUL;
		default:
			return 0;
	}
}

static struct pgb_expr *
expr_parse_call(struct expr_parser *ps, char *name)
{
	struct pgb_expr *args[EXPR_MAX_FARGS + 1];
	int			nargs = 0;
	int			fi = -1;
	struct pgb_expr *e;

	for (size_t i = 0; i < sizeof(expr_functions) / sizeof(expr_functions[0]); i++)
	{
		if (strcasecmp(name, expr_functions[i].name) == 0)
		{
			fi = (int) i;
			break;
		}
	}
	if (fi < 0)
	{
		expr_parse_error(ps, "unrecognized function \"%s\"", name);
		return NULL;
	}
	expr_next(ps);				/* skip '(' */
	if (ps->tok != ET_RPAREN)
	{
		for (;;)
		{
			struct pgb_expr *a;

			if (nargs >= EXPR_MAX_FARGS)
			{
				expr_parse_error(ps, "too many function arguments, maximum is %d",
								 EXPR_MAX_FARGS);
				goto fail;
			}
			a = expr_parse_level(ps, EL_OR);
			if (a == NULL)
				goto fail;
			args[nargs++] = a;
			if (ps->tok == ET_COMMA)
			{
				expr_next(ps);
				continue;
			}
			break;
		}
	}
	if (ps->tok != ET_RPAREN)
	{
		expr_parse_error(ps, "syntax error");
		goto fail;
	}
	expr_next(ps);

	switch (expr_functions[fi].nargs)
	{
		case -1:
			if (nargs < 1)
			{
				expr_parse_error(ps, "at least one argument expected for function \"%s\"",
								 expr_functions[fi].name);
				goto fail;
			}
			break;
		case -2:
		case -3:
			{
				int			base = expr_functions[fi].nargs == -2 ? 1 : 2;

				if (nargs != base && nargs != base + 1)
				{
					expr_parse_error(ps, "unexpected number of arguments for function \"%s\"",
									 expr_functions[fi].name);
					goto fail;
				}
				if (nargs == base)
					args[nargs++] = expr_new_var("default_seed");
			}
			break;
		default:
			if (nargs != expr_functions[fi].nargs)
			{
				expr_parse_error(ps, "unexpected number of arguments for function \"%s\"",
								 expr_functions[fi].name);
				goto fail;
			}
	}
	e = expr_new_func(expr_functions[fi].func, nargs, args);
	return e;

fail:
	for (int i = 0; i < nargs; i++)
		pgb_expr_free(args[i]);
	return NULL;
}

/* Append a to the growing array *args. */
static void
expr_push_arg(struct pgb_expr ***args, int *nargs, int *maxargs,
			  struct pgb_expr *a)
{
	if (*nargs == *maxargs)
	{
		*maxargs = *maxargs ? *maxargs * 2 : 8;
		*args = pd_realloc(*args, sizeof(**args) * (size_t) *maxargs);
	}
	(*args)[(*nargs)++] = a;
}

/* CASE WHEN c THEN v [WHEN ...] [ELSE z] END: args c1, v1, ..., z (NULL
 * when there is no ELSE). */
static struct pgb_expr *
expr_parse_case(struct expr_parser *ps)
{
	struct pgb_expr **args = NULL;
	int			nargs = 0;
	int			maxargs = 0;
	struct pgb_expr *a;
	struct pgb_expr *e;

	expr_next(ps);				/* skip CASE */
	if (ps->tok != ET_WHEN)
	{
		expr_parse_error(ps, "syntax error");
		return NULL;
	}
	while (ps->tok == ET_WHEN)
	{
		expr_next(ps);
		if ((a = expr_parse_level(ps, EL_OR)) == NULL)
			goto fail;
		expr_push_arg(&args, &nargs, &maxargs, a);
		if (ps->tok != ET_THEN)
		{
			expr_parse_error(ps, "syntax error");
			goto fail;
		}
		expr_next(ps);
		if ((a = expr_parse_level(ps, EL_OR)) == NULL)
			goto fail;
		expr_push_arg(&args, &nargs, &maxargs, a);
	}
	if (ps->tok == ET_ELSE)
	{
		expr_next(ps);
		if ((a = expr_parse_level(ps, EL_OR)) == NULL)
			goto fail;
	}
	else
		a = expr_new(EK_CONST);
	expr_push_arg(&args, &nargs, &maxargs, a);
	if (ps->tok != ET_ENDKW)
	{
		expr_parse_error(ps, "syntax error");
		goto fail;
	}
	expr_next(ps);
	e = expr_new_func(EF_CASE, nargs, args);
	free(args);
	return e;

fail:
	for (int i = 0; i < nargs; i++)
		pgb_expr_free(args[i]);
	free(args);
	return NULL;
}

/* A primary or prefix-operator expression. */
static struct pgb_expr *
expr_parse_prefix(struct expr_parser *ps)
{
	struct pgb_expr *e = NULL;
	struct pgb_expr *x;

	if (ps->failed)
		return NULL;
	switch (ps->tok)
	{
		case ET_MINUS:
			expr_next(ps);
			if (ps->tok == ET_MAXINT_PLUS_ONE)
			{
				expr_next(ps);
				return expr_new_int(INT64_MIN);
			}
			x = expr_parse_level(ps, EL_UNARY);
			return x ? expr_new_op(EF_SUB, expr_new_int(0), x) : NULL;
		case ET_PLUS:
			expr_next(ps);
			return expr_parse_level(ps, EL_UNARY);
		case ET_TILDE:
			/* ~x is (all ones) # x, binding at the bit operators' level */
			expr_next(ps);
			x = expr_parse_level(ps, EL_BIT + 1);
			return x ? expr_new_op(EF_BITXOR, expr_new_int(~INT64_C(0)), x) : NULL;
		case ET_NOT:
			expr_next(ps);
			x = expr_parse_level(ps, EL_NOT + 1);
			return x ? expr_new_uop(EF_NOT, x) : NULL;
		case ET_LPAREN:
			expr_next(ps);
			e = expr_parse_level(ps, EL_OR);
			if (e == NULL)
				return NULL;
			if (ps->tok != ET_RPAREN)
			{
				expr_parse_error(ps, "syntax error");
				pgb_expr_free(e);
				return NULL;
			}
			expr_next(ps);
			return e;
		case ET_INT:
			e = expr_new_int(ps->ival);
			break;
		case ET_DOUBLE:
			e = expr_new(EK_CONST);
			pgb_value_set_double(&e->constant, ps->dval);
			break;
		case ET_NULL:
			e = expr_new(EK_CONST);
			break;
		case ET_TRUE:
		case ET_FALSE:
			e = expr_new(EK_CONST);
			pgb_value_set_bool(&e->constant, ps->tok == ET_TRUE);
			break;
		case ET_VAR:
			e = expr_new_var(ps->str);
			break;
		case ET_CASE:
			return expr_parse_case(ps);
		case ET_IDENT:
			{
				char	   *name = ps->str;
				const char *name_start = ps->tokstart;

				ps->str = NULL;
				expr_next(ps);
				if (ps->tok != ET_LPAREN)
				{
					ps->tokstart = name_start;
					expr_parse_error(ps, "syntax error");
					free(name);
					return NULL;
				}
				e = expr_parse_call(ps, name);
				free(name);
				return e;
			}
		case ET_MAXINT_PLUS_ONE:
			expr_parse_error(ps, "bigint constant overflow");
			return NULL;
		case ET_END:
			expr_parse_error(ps, "unexpected end of expression");
			return NULL;
		default:
			expr_parse_error(ps, "syntax error");
			return NULL;
	}
	expr_next(ps);
	return e;
}

/* Parse operators of level >= min; left-associative except the
 * non-associative IS and comparison levels. */
static struct pgb_expr *
expr_parse_level(struct expr_parser *ps, int min)
{
	struct pgb_expr *left;
	int			last_nonassoc = 0;

	if (ps->depth >= EXPR_MAX_DEPTH)
	{
		expr_parse_error(ps, "expression is nested too deeply (maximum depth is %d)",
						 EXPR_MAX_DEPTH);
		return NULL;
	}
	ps->depth++;
	left = expr_parse_prefix(ps);

	while (left != NULL && !ps->failed)
	{
		expr_tok	op = ps->tok;
		int			lv = expr_tok_level(op);
		struct pgb_expr *right;

		if (lv == 0 || lv < min)
			break;
		if ((lv == EL_IS || lv == EL_CMP) && last_nonassoc == lv)
		{
			expr_parse_error(ps, "syntax error");
			break;
		}
		last_nonassoc = (lv == EL_IS || lv == EL_CMP) ? lv : 0;
		expr_next(ps);

		if (lv == EL_IS)
		{
			bool		negate = false;
			struct pgb_expr *rhs;

			if (op == ET_ISNULL || op == ET_NOTNULL)
			{
				negate = (op == ET_NOTNULL);
				rhs = expr_new(EK_CONST);
			}
			else
			{
				if (ps->tok == ET_NOT)
				{
					negate = true;
					expr_next(ps);
				}
				if (ps->tok != ET_NULL && ps->tok != ET_TRUE && ps->tok != ET_FALSE)
				{
					expr_parse_error(ps, "syntax error");
					break;
				}
				rhs = expr_new(EK_CONST);
				if (ps->tok != ET_NULL)
					pgb_value_set_bool(&rhs->constant, ps->tok == ET_TRUE);
				expr_next(ps);
			}
			left = expr_new_op(EF_IS, left, rhs);
			if (negate)
				left = expr_new_uop(EF_NOT, left);
			continue;
		}

		right = expr_parse_level(ps, lv + 1);
		if (right == NULL)
			break;
		switch (op)
		{
			case ET_OR:
				left = expr_new_op(EF_OR, left, right);
				break;
			case ET_AND:
				left = expr_new_op(EF_AND, left, right);
				break;
			case ET_LT:
				left = expr_new_op(EF_LT, left, right);
				break;
			case ET_LE:
				left = expr_new_op(EF_LE, left, right);
				break;
			case ET_GT:
				left = expr_new_op(EF_LT, right, left);
				break;
			case ET_GE:
				left = expr_new_op(EF_LE, right, left);
				break;
			case ET_EQ:
				left = expr_new_op(EF_EQ, left, right);
				break;
			case ET_NE:
				left = expr_new_op(EF_NE, left, right);
				break;
			case ET_AMP:
				left = expr_new_op(EF_BITAND, left, right);
				break;
			case ET_PIPE:
				left = expr_new_op(EF_BITOR, left, right);
				break;
			case ET_HASH:
				left = expr_new_op(EF_BITXOR, left, right);
				break;
			case ET_LSHIFT:
				left = expr_new_op(EF_LSHIFT, left, right);
				break;
			case ET_RSHIFT:
				left = expr_new_op(EF_RSHIFT, left, right);
				break;
			case ET_PLUS:
				left = expr_new_op(EF_ADD, left, right);
				break;
			case ET_MINUS:
				left = expr_new_op(EF_SUB, left, right);
				break;
			case ET_STAR:
				left = expr_new_op(EF_MUL, left, right);
				break;
			case ET_SLASH:
				left = expr_new_op(EF_DIV, left, right);
				break;
			case ET_PERCENT:
				left = expr_new_op(EF_MOD, left, right);
				break;
			default:
				pgb_expr_free(right);
				expr_parse_error(ps, "syntax error");
				break;
		}
	}
	ps->depth--;
	if (ps->failed)
	{
		pgb_expr_free(left);
		return NULL;
	}
	return left;
}

struct pgb_expr *
pgb_expr_parse(const char *text, char *err, size_t errlen)
{
	struct expr_parser ps;
	struct pgb_expr *e;

	memset(&ps, 0, sizeof(ps));
	ps.text = text;
	ps.p = text;
	ps.err = err;
	ps.errlen = errlen;
	expr_next(&ps);
	if (ps.tok == ET_END && !ps.failed)
	{
		expr_parse_error(&ps, "missing expression");
		return NULL;
	}
	e = expr_parse_level(&ps, EL_OR);
	if (e != NULL && ps.tok != ET_END)
	{
		expr_parse_error(&ps, "syntax error");
		pgb_expr_free(e);
		e = NULL;
	}
	free(ps.str);
	return e;
}

/* -------------------------------------------------------------------------
 * Evaluation
 * -------------------------------------------------------------------------
 */

struct expr_ctx
{
	struct pgb_vars *vars;
	struct pgb_prng *rng;
	char	   *err;
	size_t		errlen;
};

static bool expr_eval(struct expr_ctx *cx, const struct pgb_expr *e,
					  pgb_value *out);

/*
 * Store d in out, or fail as PostgreSQL's float8 arithmetic does when d is
 * not finite, so that no "inf" or "nan" reaches the SQL text.
 */
static bool
expr_set_finite(struct expr_ctx *cx, pgb_value *out, double d)
{
	if (isnan(d))
		return expr_error(cx->err, cx->errlen, "double value is not a number");
	if (isinf(d))
		return expr_error(cx->err, cx->errlen, "value out of range: overflow");
	pgb_value_set_double(out, d);
	return true;
}

/*
 * AND, OR, CASE evaluate their arguments lazily.  first, when not NULL, is
 * the value of args[0], already computed (see expr_eval_chain).
 */
static bool
expr_eval_lazy(struct expr_ctx *cx, const struct pgb_expr *e,
			   const pgb_value *first, pgb_value *out)
{
	pgb_value	a1,
				a2;
	bool		b1 = false,
				b2 = false;

	if (e->func == EF_CASE)
	{
		int			i;

		for (i = 0; i + 1 < e->nargs; i += 2)
		{
			if (!expr_eval(cx, e->args[i], &a1))
				return false;
			if (pgb_value_truth(&a1))
				return expr_eval(cx, e->args[i + 1], out);
		}
		return expr_eval(cx, e->args[e->nargs - 1], out);
	}

	if (first != NULL)
		a1 = *first;
	else if (!expr_eval(cx, e->args[0], &a1))
		return false;
	if (a1.type == PGB_NULL)
	{
		pgb_value_set_null(out);
		return true;
	}
	if (!expr_coerce_bool(&a1, &b1, cx->err, cx->errlen))
		return false;
	if (e->func == EF_AND ? !b1 : b1)
	{
		pgb_value_set_bool(out, b1);
		return true;
	}
	if (!expr_eval(cx, e->args[1], &a2))
		return false;
	if (a2.type == PGB_NULL)
	{
		pgb_value_set_null(out);
		return true;
	}
	if (!expr_coerce_bool(&a2, &b2, cx->err, cx->errlen))
		return false;
	pgb_value_set_bool(out, b2);
	return true;
}

static bool
expr_eval_arith(struct expr_ctx *cx, expr_func f, const pgb_value *l,
				const pgb_value *r, pgb_value *out)
{
	if ((l->type == PGB_DOUBLE || r->type == PGB_DOUBLE) && f != EF_MOD)
	{
		double		ld,
					rd;

		if (!expr_coerce_double(l, &ld, cx->err, cx->errlen) ||
			!expr_coerce_double(r, &rd, cx->err, cx->errlen))
			return false;
		switch (f)
		{
			case EF_ADD:
				return expr_set_finite(cx, out, ld + rd);
			case EF_SUB:
				return expr_set_finite(cx, out, ld - rd);
			case EF_MUL:
				return expr_set_finite(cx, out, ld * rd);
			case EF_DIV:
				if (rd == 0.0)
					return expr_error(cx->err, cx->errlen, "division by zero");
				return expr_set_finite(cx, out, ld / rd);
			case EF_EQ:
				pgb_value_set_bool(out, ld == rd);
				return true;
			case EF_NE:
				pgb_value_set_bool(out, ld != rd);
				return true;
			case EF_LE:
				pgb_value_set_bool(out, ld <= rd);
				return true;
			case EF_LT:
				pgb_value_set_bool(out, ld < rd);
				return true;
			default:
				break;
		}
	}
	else
	{
		int64_t		li,
					ri,
					res;

		if (!expr_coerce_int(l, &li, cx->err, cx->errlen) ||
			!expr_coerce_int(r, &ri, cx->err, cx->errlen))
			return false;
		switch (f)
		{
			case EF_ADD:
				if (__builtin_add_overflow(li, ri, &res))
					return expr_error(cx->err, cx->errlen, "bigint add out of range");
				pgb_value_set_int(out, res);
				return true;
			case EF_SUB:
				if (__builtin_sub_overflow(li, ri, &res))
					return expr_error(cx->err, cx->errlen, "bigint sub out of range");
				pgb_value_set_int(out, res);
				return true;
			case EF_MUL:
				if (__builtin_mul_overflow(li, ri, &res))
					return expr_error(cx->err, cx->errlen, "bigint mul out of range");
				pgb_value_set_int(out, res);
				return true;
			case EF_EQ:
				pgb_value_set_bool(out, li == ri);
				return true;
			case EF_NE:
				pgb_value_set_bool(out, li != ri);
				return true;
			case EF_LE:
				pgb_value_set_bool(out, li <= ri);
				return true;
			case EF_LT:
				pgb_value_set_bool(out, li < ri);
				return true;
			case EF_DIV:
			case EF_MOD:
				if (ri == 0)
					return expr_error(cx->err, cx->errlen, "division by zero");
				if (ri == -1)
				{
					if (f == EF_MOD)
						pgb_value_set_int(out, 0);
					else if (li == INT64_MIN)
						return expr_error(cx->err, cx->errlen, "bigint div out of range");
					else
						pgb_value_set_int(out, -li);
					return true;
				}
				pgb_value_set_int(out, f == EF_DIV ? li / ri : li % ri);
				return true;
			default:
				break;
		}
	}
	return expr_error(cx->err, cx->errlen, "unexpected operator");
}

static bool
expr_eval_random(struct expr_ctx *cx, const struct pgb_expr *e,
				 const pgb_value *args, pgb_value *out)
{
	int64_t		imin,
				imax,
				delta;
	double		param = 0;

	if (!expr_coerce_int(&args[0], &imin, cx->err, cx->errlen) ||
		!expr_coerce_int(&args[1], &imax, cx->err, cx->errlen))
		return false;
	if (imin > imax)
		return expr_error(cx->err, cx->errlen, "empty range given to random");
	if (__builtin_sub_overflow(imax, imin, &delta) ||
		__builtin_add_overflow(delta, 1, &delta))
		return expr_error(cx->err, cx->errlen, "random range is too large");
	if (cx->rng == NULL)
		return expr_error(cx->err, cx->errlen, "no random state to evaluate random functions");
	if (e->func == EF_RANDOM)
	{
		pgb_value_set_int(out, pgb_prng_range(cx->rng, imin, imax));
		return true;
	}
	if (!expr_coerce_double(&args[2], &param, cx->err, cx->errlen))
		return false;
	/* an infinite or NaN parameter would make the draw undefined */
	if (!isfinite(param))
		return expr_error(cx->err, cx->errlen,
						  "%s parameter must be a finite number (not %f)",
						  e->func == EF_RANDOM_GAUSSIAN ? "gaussian" :
						  e->func == EF_RANDOM_ZIPFIAN ? "zipfian" : "exponential",
						  param);
	if (e->func == EF_RANDOM_GAUSSIAN)
	{
		if (param < EXPR_MIN_GAUSSIAN_PARAM)
			return expr_error(cx->err, cx->errlen,
							  "gaussian parameter must be at least %f (not %f)",
							  EXPR_MIN_GAUSSIAN_PARAM, param);
		pgb_value_set_int(out, pgb_random_gaussian(cx->rng, imin, imax, param));
	}
	else if (e->func == EF_RANDOM_ZIPFIAN)
	{
		if (param < EXPR_MIN_ZIPFIAN_PARAM || param > EXPR_MAX_ZIPFIAN_PARAM)
			return expr_error(cx->err, cx->errlen,
							  "zipfian parameter must be in range [%.3f, %.0f] (not %f)",
							  EXPR_MIN_ZIPFIAN_PARAM, EXPR_MAX_ZIPFIAN_PARAM, param);
		pgb_value_set_int(out, pgb_random_zipfian(cx->rng, imin, imax, param));
	}
	else
	{
		if (param <= 0.0)
			return expr_error(cx->err, cx->errlen,
							  "exponential parameter must be greater than zero (not %f)",
							  param);
		pgb_value_set_int(out, pgb_random_exponential(cx->rng, imin, imax, param));
	}
	return true;
}

/*
 * Functions whose arguments are all evaluated first.  first, when not NULL,
 * is the value of args[0], already computed (see expr_eval_chain).
 */
static bool
expr_eval_strict(struct expr_ctx *cx, const struct pgb_expr *e,
				 const pgb_value *first, pgb_value *out)
{
	pgb_value	args[EXPR_MAX_FARGS + 1];
	bool		has_null = false;

	for (int i = 0; i < e->nargs; i++)
	{
		if (i == 0 && first != NULL)
			args[0] = *first;
		else if (!expr_eval(cx, e->args[i], &args[i]))
			return false;
		has_null |= (args[i].type == PGB_NULL);
	}
	if (has_null && e->func != EF_IS && e->func != EF_DEBUG)
	{
		pgb_value_set_null(out);
		return true;
	}

	switch (e->func)
	{
		case EF_ADD:
		case EF_SUB:
		case EF_MUL:
		case EF_DIV:
		case EF_MOD:
		case EF_EQ:
		case EF_NE:
		case EF_LE:
		case EF_LT:
			return expr_eval_arith(cx, e->func, &args[0], &args[1], out);

		case EF_BITAND:
		case EF_BITOR:
		case EF_BITXOR:
		case EF_LSHIFT:
		case EF_RSHIFT:
			{
				int64_t		li,
							ri;

				if (!expr_coerce_int(&args[0], &li, cx->err, cx->errlen) ||
					!expr_coerce_int(&args[1], &ri, cx->err, cx->errlen))
					return false;
				if (e->func == EF_BITAND)
					pgb_value_set_int(out, li & ri);
				else if (e->func == EF_BITOR)
					pgb_value_set_int(out, li | ri);
				else if (e->func == EF_BITXOR)
					pgb_value_set_int(out, li ^ ri);
				else
				{
					/* pgbench leaves this undefined in C; make it an error */
					if (ri < 0 || ri > 63)
						return expr_error(cx->err, cx->errlen,
										  "shift count %" PRId64 " out of range", ri);
					if (e->func == EF_LSHIFT)
						pgb_value_set_int(out, (int64_t) ((uint64_t) li << ri));
					else
						pgb_value_set_int(out, li >> ri);
				}
				return true;
			}

		case EF_NOT:
			{
				bool		b = false;

				if (!expr_coerce_bool(&args[0], &b, cx->err, cx->errlen))
					return false;
				pgb_value_set_bool(out, !b);
				return true;
			}

		case EF_PI:
			pgb_value_set_double(out, M_PI);
			return true;

		case EF_ABS:
			if (args[0].type == PGB_INT)
			{
				if (args[0].u.ival == INT64_MIN)
					return expr_error(cx->err, cx->errlen, "bigint abs out of range");
				pgb_value_set_int(out, args[0].u.ival < 0 ? -args[0].u.ival : args[0].u.ival);
			}
			else if (args[0].type == PGB_DOUBLE)
				return expr_set_finite(cx, out, fabs(args[0].u.dval));
			else
				return expr_error(cx->err, cx->errlen, "cannot coerce %s to number",
								  expr_type_name(&args[0]));
			return true;

		case EF_DEBUG:
			{
				char		buf[64];

				if (args[0].type == PGB_NULL)
					fprintf(stderr, "debug: null\n");
				else
					fprintf(stderr, "debug: %s %s\n", expr_type_name(&args[0]),
							pgb_value_to_text(&args[0], buf, sizeof(buf)));
				*out = args[0];
				return true;
			}

		case EF_DOUBLE:
		case EF_SQRT:
		case EF_LN:
		case EF_EXP:
			{
				double		d;

				if (!expr_coerce_double(&args[0], &d, cx->err, cx->errlen))
					return false;
				/* PostgreSQL's messages for sqrt(), ln() and exp() */
				if (e->func == EF_SQRT)
				{
					if (d < 0.0)
						return expr_error(cx->err, cx->errlen,
										  "cannot take square root of a negative number");
					d = sqrt(d);
				}
				else if (e->func == EF_LN)
				{
					if (d == 0.0)
						return expr_error(cx->err, cx->errlen,
										  "cannot take logarithm of zero");
					if (d < 0.0)
						return expr_error(cx->err, cx->errlen,
										  "cannot take logarithm of a negative number");
					d = log(d);
				}
				else if (e->func == EF_EXP)
					d = exp(d);
				return expr_set_finite(cx, out, d);
			}

		case EF_INT:
			{
				int64_t		i;

				if (!expr_coerce_int(&args[0], &i, cx->err, cx->errlen))
					return false;
				pgb_value_set_int(out, i);
				return true;
			}

		case EF_LEAST:
		case EF_GREATEST:
			{
				bool		havedouble = false;

				for (int i = 0; i < e->nargs; i++)
					havedouble |= (args[i].type == PGB_DOUBLE);
				if (havedouble)
				{
					double		x,
								d;

					if (!expr_coerce_double(&args[0], &x, cx->err, cx->errlen))
						return false;
					for (int i = 1; i < e->nargs; i++)
					{
						if (!expr_coerce_double(&args[i], &d, cx->err, cx->errlen))
							return false;
						x = (e->func == EF_LEAST) ? (d < x ? d : x) : (d > x ? d : x);
					}
					return expr_set_finite(cx, out, x);
				}
				else
				{
					int64_t		x,
								v;

					if (!expr_coerce_int(&args[0], &x, cx->err, cx->errlen))
						return false;
					for (int i = 1; i < e->nargs; i++)
					{
						if (!expr_coerce_int(&args[i], &v, cx->err, cx->errlen))
							return false;
						x = (e->func == EF_LEAST) ? (v < x ? v : x) : (v > x ? v : x);
					}
					pgb_value_set_int(out, x);
				}
				return true;
			}

		case EF_RANDOM:
		case EF_RANDOM_EXPONENTIAL:
		case EF_RANDOM_GAUSSIAN:
		case EF_RANDOM_ZIPFIAN:
			return expr_eval_random(cx, e, args, out);

		case EF_POW:
			{
				double		l,
							r;

				if (!expr_coerce_double(&args[0], &l, cx->err, cx->errlen) ||
					!expr_coerce_double(&args[1], &r, cx->err, cx->errlen))
					return false;
				/* PostgreSQL's messages for power() */
				if (l == 0.0 && r < 0.0)
					return expr_error(cx->err, cx->errlen,
									  "zero raised to a negative power is undefined");
				if (l < 0.0 && floor(r) != r)
					return expr_error(cx->err, cx->errlen,
									  "a negative number raised to a non-integer power yields a complex result");
				return expr_set_finite(cx, out, pow(l, r));
			}

		case EF_IS:
			/* as permissive as pgbench: same type and same boolean bits */
			pgb_value_set_bool(out, args[0].type == args[1].type &&
						  (args[0].type == PGB_NULL ||
						   args[0].u.bval == args[1].u.bval));
			return true;

		case EF_HASH_FNV1A:
		case EF_HASH_MURMUR2:
			{
				int64_t		v,
							seed;

				if (!expr_coerce_int(&args[0], &v, cx->err, cx->errlen) ||
					!expr_coerce_int(&args[1], &seed, cx->err, cx->errlen))
					return false;
				pgb_value_set_int(out, e->func == EF_HASH_FNV1A ?
							 pgb_hash_fnv1a(v, (uint64_t) seed) :
							 pgb_hash_murmur2(v, (uint64_t) seed));
				return true;
			}

		case EF_PERMUTE:
			{
				int64_t		v,
							size,
							seed;

				if (!expr_coerce_int(&args[0], &v, cx->err, cx->errlen) ||
					!expr_coerce_int(&args[1], &size, cx->err, cx->errlen) ||
					!expr_coerce_int(&args[2], &seed, cx->err, cx->errlen))
					return false;
				if (size <= 0)
					return expr_error(cx->err, cx->errlen,
									  "permute size parameter must be greater than zero");
				pgb_value_set_int(out, pgb_permute(v, size, seed));
				return true;
			}

		case EF_AND:
		case EF_OR:
		case EF_CASE:
			break;
	}
	return expr_error(cx->err, cx->errlen, "unexpected function");
}

/* Evaluate the function node e; first as for expr_eval_strict. */
static bool
expr_eval_func(struct expr_ctx *cx, const struct pgb_expr *e,
			   const pgb_value *first, pgb_value *out)
{
	if (e->func == EF_AND || e->func == EF_OR || e->func == EF_CASE)
		return expr_eval_lazy(cx, e, first, out);
	return expr_eval_strict(cx, e, first, out);
}

/*
 * True for the nodes that a chain of operators builds on their first
 * argument: binary operators (the parser makes "a + b + c" ((a + b) + c))
 * and NOT (which IS NOT wraps around its IS node).
 */
static bool
expr_is_chain_link(const struct pgb_expr *e)
{
	if (e->kind != EK_FUNC)
		return false;
	switch (e->func)
	{
		case EF_ADD:
		case EF_SUB:
		case EF_MUL:
		case EF_DIV:
		case EF_MOD:
		case EF_AND:
		case EF_OR:
		case EF_NOT:
		case EF_BITAND:
		case EF_BITOR:
		case EF_BITXOR:
		case EF_LSHIFT:
		case EF_RSHIFT:
		case EF_EQ:
		case EF_NE:
		case EF_LE:
		case EF_LT:
		case EF_IS:
			return true;
		default:
			return false;
	}
}

/*
 * Evaluate a chain of operators without recursing down it: collect the
 * links from e down the first arguments, evaluate the innermost first
 * argument, then apply the links from the inside out.  Same order of
 * evaluation, laziness and errors as the recursive walk, with a stack use
 * independent of the chain's length (a sum of 20,000 terms is one chain).
 * Chains longer than the local array are collected in a malloc'd one.
 */
static bool
expr_eval_chain(struct expr_ctx *cx, const struct pgb_expr *e, pgb_value *out)
{
	const struct pgb_expr *local[32];
	const struct pgb_expr **links = local;
	int			nlinks = 0;
	int			maxlinks = (int) (sizeof(local) / sizeof(local[0]));
	pgb_value	acc;
	pgb_value	next;
	bool		ok;

	for (const struct pgb_expr *x = e; expr_is_chain_link(x); x = x->args[0])
	{
		if (nlinks == maxlinks)
		{
			maxlinks *= 2;
			if (links == local)
			{
				links = pd_malloc(sizeof(*links) * (size_t) maxlinks);
				memcpy(links, local, sizeof(local));
			}
			else
				links = pd_realloc(links, sizeof(*links) * (size_t) maxlinks);
		}
		links[nlinks++] = x;
	}
	ok = expr_eval(cx, links[nlinks - 1]->args[0], &acc);
	for (int i = nlinks - 1; ok && i >= 0; i--)
	{
		ok = expr_eval_func(cx, links[i], &acc, &next);
		acc = next;
	}
	if (links != local)
		free(links);
	if (ok)
		*out = acc;
	return ok;
}

static bool
expr_eval(struct expr_ctx *cx, const struct pgb_expr *e, pgb_value *out)
{
	switch (e->kind)
	{
		case EK_CONST:
			*out = e->constant;
			return true;
		case EK_VAR:
			return pgb_vars_get_value(cx->vars, e->varname, out,
									  cx->err, cx->errlen);
		case EK_FUNC:
			if (e->nargs > 0 && expr_is_chain_link(e) &&
				expr_is_chain_link(e->args[0]))
				return expr_eval_chain(cx, e, out);
			return expr_eval_func(cx, e, NULL, out);
	}
	return expr_error(cx->err, cx->errlen, "unexpected expression node");
}

/*
 * A double result must be finite even when it comes straight from a
 * variable (text such as "inf" given with -D): it is substituted into SQL.
 */
bool
pgb_expr_eval(const struct pgb_expr *e, struct pgb_vars *vars,
			  struct pgb_prng *rng, pgb_value *out, char *err, size_t errlen)
{
	struct expr_ctx cx = {vars, rng, err, errlen};
	pgb_value	v;

	if (!expr_eval(&cx, e, &v))
		return false;
	if (v.type == PGB_DOUBLE && !expr_set_finite(&cx, &v, v.u.dval))
		return false;
	*out = v;
	return true;
}
