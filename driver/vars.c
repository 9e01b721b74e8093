/*
 * vars.c
 *		The values of pgbench scripts and the per-client variable table.
 *
 * Owns: a value's text form (integers without snprintf, on every \set
 * substituted into SQL), and the table: an append-only array of entries
 * indexed by an open-addressing hash of entry numbers, each entry caching
 * its value, its text or both, pgbench's conversion of text to a value
 * (makeVariableValue) and its variable-name rule.
 *
 * Must not: talk to libpq or print anything.
 *
 * Memory: a table, its entries, names and texts are malloc'd and owned by
 * the table; allocation failure aborts (util.c).  A pointer returned by
 * pgb_vars_get_text() lives until that variable is set again, a variable
 * is added or the table is freed.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver.h"
#include "vars.h"

/* Write a formatted message into err; always returns false. */
__attribute__((format(printf, 3, 4)))
static bool
vars_error(char *err, size_t errlen, const char *fmt,...)
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
 * Values
 * -------------------------------------------------------------------------
 */

/*
 * Decimal digits of v into buf (at least 21 bytes), terminated; returns buf.
 * The common case of pgb_value_to_text, without snprintf's cost: every
 * \set of an integer used as a parameter passes here once per transaction.
 */
static char *
vars_int_to_text(int64_t v, char *buf)
{
	char		tmp[24];
	char	   *p = tmp + sizeof(tmp);
	uint64_t	u = v < 0 ? 0 - (uint64_t) v : (uint64_t) v;
	size_t		n;

	do
	{
		*--p = (char) ('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	n = (size_t) (tmp + sizeof(tmp) - p);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

char *
pgb_value_to_text(const pgb_value *v, char *buf, size_t buflen)
{
	if (v->type == PGB_INT && buflen >= 21)
		return vars_int_to_text(v->u.ival, buf);
	switch (v->type)
	{
		case PGB_NULL:
			snprintf(buf, buflen, "NULL");
			break;
		case PGB_BOOLEAN:
			snprintf(buf, buflen, "%s", v->u.bval ? "true" : "false");
			break;
		case PGB_INT:
			snprintf(buf, buflen, "%" PRId64, v->u.ival);
			break;
		case PGB_DOUBLE:
			snprintf(buf, buflen, "%.*g", DBL_DIG, v->u.dval);
			break;
	}
	return buf;
}

bool
pgb_value_truth(const pgb_value *v)
{
	switch (v->type)
	{
		case PGB_NULL:
			return false;
		case PGB_BOOLEAN:
			return v->u.bval;
		case PGB_INT:
			return v->u.ival != 0;
		case PGB_DOUBLE:
			return v->u.dval != 0.0;
	}
	return false;
}

/* -------------------------------------------------------------------------
 * Variables: an append-only array of entries indexed by an open-addressing
 * hash table of entry numbers.  Each entry keeps its value, its text, or
 * both (text is produced lazily from the value, the value lazily from the
 * text, each cached until the variable is set again).
 * -------------------------------------------------------------------------
 */

struct vars_entry
{
	char	   *name;
	uint32_t	hash;
	bool		has_value;		/* value is valid */
	bool		text_inline;	/* the text form is in num, produced from value */
	pgb_value	value;
	char	   *text;			/* text set as text (malloc'd), else NULL */
	char		num[32];		/* text form of a non-text value */
};

struct pgb_vars
{
	struct vars_entry *vars;
	int			nvars;
	int			maxvars;
	int		   *slots;			/* entry index or -1; size nslots */
	int			nslots;			/* power of two */
};

static uint32_t
vars_name_hash(const char *name)
{
	uint32_t	h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
	{
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

struct pgb_vars *
pgb_vars_create(void)
{
	struct pgb_vars *vars = pd_malloc(sizeof(*vars));

	vars->nvars = 0;
	vars->maxvars = 16;
	vars->vars = pd_malloc(sizeof(struct vars_entry) * vars->maxvars);
	vars->nslots = 32;
	vars->slots = pd_malloc(sizeof(int) * vars->nslots);
	for (int i = 0; i < vars->nslots; i++)
		vars->slots[i] = -1;
	return vars;
}

void
pgb_vars_free(struct pgb_vars *vars)
{
	if (vars == NULL)
		return;
	for (int i = 0; i < vars->nvars; i++)
	{
		free(vars->vars[i].name);
		free(vars->vars[i].text);
	}
	free(vars->vars);
	free(vars->slots);
	free(vars);
}

struct pgb_vars *
pgb_vars_copy(const struct pgb_vars *src)
{
	struct pgb_vars *vars = pd_malloc(sizeof(*vars));

	vars->nvars = src->nvars;
	vars->maxvars = src->maxvars;
	vars->vars = pd_malloc(sizeof(struct vars_entry) * vars->maxvars);
	for (int i = 0; i < src->nvars; i++)
	{
		vars->vars[i] = src->vars[i];
		vars->vars[i].name = pd_strdup(src->vars[i].name);
		if (src->vars[i].text)
			vars->vars[i].text = pd_strdup(src->vars[i].text);
	}
	vars->nslots = src->nslots;
	vars->slots = pd_malloc(sizeof(int) * vars->nslots);
	memcpy(vars->slots, src->slots, sizeof(int) * vars->nslots);
	return vars;
}

bool
pgb_var_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *) name;

	if (*p == '\0' || isdigit(*p))
		return false;
	for (; *p; p++)
	{
		if (!(*p >= 0x80 || isalnum(*p) || *p == '_'))
			return false;
	}
	return true;
}

static struct vars_entry *
vars_lookup(const struct pgb_vars *vars, const char *name)
{
	uint32_t	h = vars_name_hash(name);
	int			mask = vars->nslots - 1;

	for (int i = (int) (h & (uint32_t) mask);; i = (i + 1) & mask)
	{
		int			e = vars->slots[i];

		if (e < 0)
			return NULL;
		if (vars->vars[e].hash == h && strcmp(vars->vars[e].name, name) == 0)
			return &vars->vars[e];
	}
}

static void
vars_rehash(struct pgb_vars *vars)
{
	int			mask;

	vars->nslots *= 2;
	vars->slots = pd_realloc(vars->slots, sizeof(int) * vars->nslots);
	mask = vars->nslots - 1;
	for (int i = 0; i < vars->nslots; i++)
		vars->slots[i] = -1;
	for (int e = 0; e < vars->nvars; e++)
	{
		int			i = (int) (vars->vars[e].hash & (uint32_t) mask);

		while (vars->slots[i] >= 0)
			i = (i + 1) & mask;
		vars->slots[i] = e;
	}
}

/* Find or create; the caller has checked the name. */
static struct vars_entry *
vars_get_or_add(struct pgb_vars *vars, const char *name)
{
	struct vars_entry *var = vars_lookup(vars, name);
	int			mask;
	int			i;

	if (var != NULL)
		return var;
	if (vars->nvars == vars->maxvars)
	{
		vars->maxvars *= 2;
		vars->vars = pd_realloc(vars->vars,
								   sizeof(struct vars_entry) * vars->maxvars);
	}
	if ((vars->nvars + 1) * 2 > vars->nslots)
		vars_rehash(vars);
	var = &vars->vars[vars->nvars];
	var->name = pd_strdup(name);
	var->hash = vars_name_hash(name);
	var->has_value = false;
	var->text_inline = false;
	pgb_value_set_null(&var->value);
	var->text = NULL;
	mask = vars->nslots - 1;
	for (i = (int) (var->hash & (uint32_t) mask); vars->slots[i] >= 0;
		 i = (i + 1) & mask)
		;
	vars->slots[i] = vars->nvars;
	vars->nvars++;
	return var;
}

static bool
vars_check_name(const char *name, char *err, size_t errlen)
{
	if (!pgb_var_name_valid(name))
		return vars_error(err, errlen, "invalid variable name: \"%s\"", name);
	return true;
}

bool
pgb_vars_set_text(struct pgb_vars *vars, const char *name, const char *text,
				  char *err, size_t errlen)
{
	struct vars_entry *var;
	char	   *copy;

	if (!vars_check_name(name, err, errlen))
		return false;
	/* first: text may point into the table, which adding a variable moves */
	copy = pd_strdup(text);
	var = vars_get_or_add(vars, name);
	free(var->text);
	var->text = copy;
	var->text_inline = false;
	var->has_value = false;
	return true;
}

bool
pgb_vars_set_value(struct pgb_vars *vars, const char *name,
				   const pgb_value *v, char *err, size_t errlen)
{
	struct vars_entry *var = vars_lookup(vars, name);

	/* a name already present was checked when it was added */
	if (var == NULL)
	{
		if (!vars_check_name(name, err, errlen))
			return false;
		var = vars_get_or_add(vars, name);
	}
	free(var->text);
	var->text = NULL;
	var->text_inline = false;
	var->value = *v;
	var->has_value = true;
	return true;
}

bool
pgb_vars_set_prefixed(struct pgb_vars *vars, const char *prefix,
					  const char *name, const char *text,
					  char *err, size_t errlen)
{
	char		stackbuf[128];
	size_t		lp = prefix ? strlen(prefix) : 0;
	size_t		ln = strlen(name);
	char	   *full = (lp + ln + 1 <= sizeof(stackbuf)) ? stackbuf :
		pd_malloc(lp + ln + 1);
	bool		ok;

	if (lp)
		memcpy(full, prefix, lp);
	memcpy(full + lp, name, ln + 1);
	if (text != NULL)
		ok = pgb_vars_set_text(vars, full, text, err, errlen);
	else
	{
		pgb_value	nullv;

		pgb_value_set_null(&nullv);
		ok = pgb_vars_set_value(vars, full, &nullv, err, errlen);
	}
	if (full != stackbuf)
		free(full);
	return ok;
}

void
pgb_vars_set_int(struct pgb_vars *vars, const char *name, int64_t v)
{
	pgb_value	val;

	pgb_value_set_int(&val, v);
	(void) pgb_vars_set_value(vars, name, &val, NULL, 0);
}

void
pgb_vars_set_double(struct pgb_vars *vars, const char *name, double v)
{
	pgb_value	val;

	pgb_value_set_double(&val, v);
	(void) pgb_vars_set_value(vars, name, &val, NULL, 0);
}

bool
pgb_vars_define(struct pgb_vars *vars, const char *assignment,
				char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	char	   *name;
	bool		ok;

	if (eq == NULL || eq == assignment)
		return vars_error(err, errlen, "invalid variable definition: \"%s\"",
						  assignment);
	name = pd_strndup(assignment, (size_t) (eq - assignment));
	ok = pgb_vars_set_text(vars, name, eq + 1, err, errlen);
	free(name);
	return ok;
}

const char *
pgb_vars_get_text(struct pgb_vars *vars, const char *name)
{
	struct vars_entry *var = vars_lookup(vars, name);

	if (var == NULL)
		return NULL;
	if (var->text != NULL)
		return var->text;
	if (!var->text_inline)
	{
		(void) pgb_value_to_text(&var->value, var->num, sizeof(var->num));
		var->text_inline = true;
	}
	return var->num;
}

/* Does str match ^\s*[-+]?[0-9]+$ (pgbench's is_an_int)? */
static bool
vars_is_an_int(const char *str)
{
	const char *p = str;

	while (*p && isspace((unsigned char) *p))
		p++;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	return *p == '\0';
}

/* pgbench's makeVariableValue: text to value. */
static bool
vars_text_to_value(const char *name, const char *text, pgb_value *out,
				   char *err, size_t errlen)
{
	size_t		len = strlen(text);

	if (len == 0)
		return vars_error(err, errlen,
						  "malformed variable \"%s\" value: \"%s\"", name, text);
	if (strcasecmp(text, "null") == 0)
		pgb_value_set_null(out);
	else if (strncasecmp(text, "true", len) == 0 ||
			 strncasecmp(text, "yes", len) == 0 ||
			 strcasecmp(text, "on") == 0)
		pgb_value_set_bool(out, true);
	else if (strncasecmp(text, "false", len) == 0 ||
			 strncasecmp(text, "no", len) == 0 ||
			 strcasecmp(text, "off") == 0 ||
			 strcasecmp(text, "of") == 0)
		pgb_value_set_bool(out, false);
	else if (vars_is_an_int(text))
	{
		char	   *end;
		long long	v;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno != 0 || *end != '\0')
			return vars_error(err, errlen,
							  "malformed variable \"%s\" value: \"%s\"",
							  name, text);
		pgb_value_set_int(out, (int64_t) v);
	}
	else
	{
		char	   *end;
		double		d;

		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0')
			return vars_error(err, errlen,
							  "malformed variable \"%s\" value: \"%s\"",
							  name, text);
		pgb_value_set_double(out, d);
	}
	return true;
}

bool
pgb_vars_get_value(struct pgb_vars *vars, const char *name, pgb_value *out,
				   char *err, size_t errlen)
{
	struct vars_entry *var = vars_lookup(vars, name);

	if (var == NULL)
		return vars_error(err, errlen, "undefined variable \"%s\"", name);
	if (!var->has_value)
	{
		if (!vars_text_to_value(var->name, var->text, &var->value, err, errlen))
			return false;
		var->has_value = true;
	}
	*out = var->value;
	return true;
}

int
pgb_vars_count(const struct pgb_vars *vars)
{
	return vars->nvars;
}

const char *
pgb_vars_name_at(const struct pgb_vars *vars, int i)
{
	if (i < 0 || i >= vars->nvars)
		return NULL;
	return vars->vars[i].name;
}

