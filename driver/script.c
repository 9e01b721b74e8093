/*
 * script.c
 *		Parsing pgbench-compatible scripts into commands, and the helpers
 *		the runner uses to execute them (branches, \set, \sleep, -M simple
 *		text, extended-protocol parameters).
 *
 * Owns: pgbench 15's script syntax, as its psqlscan-based parser sees it:
 *	- SQL is split at semicolons outside quotes ('..', E'..', "..",
 *	  $tag$..$tag$), comments and parentheses; each statement is one
 *	  command.  "\;" puts a literal semicolon in the statement (a compound
 *	  query, flagged "multi").  Text left at the end without a semicolon is
 *	  a statement too; whitespace- and comment-only pieces are dropped.
 *	- A backslash outside quotes ends the SQL collected so far and starts a
 *	  meta-command, which runs to the end of the line; a backslash before
 *	  the newline continues it on the next line.
 *	- \gset and \aset attach to the SQL command just before them.
 *	- :name references (not "::") become $1..$n for the extended protocol.
 *	  Unlike pgbench, references inside quotes and comments are left alone,
 *	  so '12:30' is never taken for a variable.  :'name' substitutes the
 *	  value as a quoted literal (-M simple) or a parameter.
 *
 * Must not: talk to libpq or run shell commands (\shell, \setshell are
 * rejected), or accept a COPY FROM STDIN / TO STDOUT, whose data the
 * runner neither feeds nor drains.
 *
 * Memory: a parsed script owns all its strings and expressions (malloc);
 * pgb_script_free() releases everything.  Scripts are immutable after
 * parsing and may be shared by threads.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver.h"
#include "normalize.h"
#include "script.h"

#define SCRIPT_MAX_PARAMS	255

/* -------------------------------------------------------------------------
 * Helpers
 * -------------------------------------------------------------------------
 */

/* A growable byte buffer. */
struct script_buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
};

static void
script_buf_reserve(struct script_buf *b, size_t more)
{
	if (b->len + more + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 128;

		while (b->len + more + 1 > cap)
			cap *= 2;
		b->data = pd_realloc(b->data, cap);
		b->cap = cap;
	}
}

static void
script_buf_append(struct script_buf *b, const char *s, size_t n)
{
	script_buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
script_buf_putc(struct script_buf *b, char c)
{
	script_buf_append(b, &c, 1);
}

static void
script_buf_reset(struct script_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

__attribute__((format(printf, 5, 6)))
static bool
script_error(char *err, size_t errlen, const char *name, int line,
			 const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	if (err == NULL || errlen == 0)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", name, line, msg);
	else
		snprintf(err, errlen, "%s: %s", name, msg);
	return false;
}

static bool
script_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool
script_ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * Length of the quoted string or comment starting at s: '...', E'...',
 * "...", $tag$...$tag$, -- to end of line (without the newline), or a
 * nested block comment.  0 if none starts at s.  Unterminated tokens run to
 * the end of the text.  prev is the character before s (or '\0'): an E or
 * a $ glued to an identifier does not start a string.
 */
static size_t
script_skip_len(const char *s, char prev)
{
	const char *p = s;

	if (p[0] == '-' && p[1] == '-')
	{
		while (*p && *p != '\n')
			p++;
		return (size_t) (p - s);
	}
	if (p[0] == '/' && p[1] == '*')
	{
		int			depth = 1;

		p += 2;
		while (*p && depth > 0)
		{
			if (p[0] == '/' && p[1] == '*')
			{
				depth++;
				p += 2;
			}
			else if (p[0] == '*' && p[1] == '/')
			{
				depth--;
				p += 2;
			}
			else
				p++;
		}
		return (size_t) (p - s);
	}
	if ((p[0] == 'E' || p[0] == 'e') && p[1] == '\'' &&
		!script_ident_char((unsigned char) prev))
	{
		p += 2;
		while (*p)
		{
			if (*p == '\\' && p[1])
				p += 2;
			else if (*p == '\'' && p[1] == '\'')
				p += 2;
			else if (*p == '\'')
				return (size_t) (p + 1 - s);
			else
				p++;
		}
		return (size_t) (p - s);
	}
	if (p[0] == '\'' || p[0] == '"')
	{
		char		q = *p++;

		while (*p)
		{
			if (*p == q && p[1] == q)
				p += 2;
			else if (*p == q)
				return (size_t) (p + 1 - s);
			else
				p++;
		}
		return (size_t) (p - s);
	}
	if (p[0] == '$' && !script_ident_char((unsigned char) prev) &&
		!isdigit((unsigned char) p[1]))
	{
		const char *t = p + 1;
		size_t		taglen;

		while (script_ident_char((unsigned char) *t))
			t++;
		if (*t != '$')
			return 0;
		taglen = (size_t) (t + 1 - p);
		for (t = t + 1; *t; t++)
		{
			if (*t == '$' && strncmp(t, p, taglen) == 0)
				return (size_t) (t + taglen - s);
		}
		return (size_t) (t - s);
	}
	return 0;
}

/* Length of a valid variable name at s, 0 if none. */
static size_t
script_var_len(const char *s)
{
	size_t		n = 0;

	if (!script_ident_start((unsigned char) s[0]))
		return 0;
	while (script_ident_char((unsigned char) s[n]))
		n++;
	return n;
}

/* -------------------------------------------------------------------------
 * Building commands
 * -------------------------------------------------------------------------
 */

struct script_builder
{
	const char *name;
	struct pgb_command *cmds;
	int			ncmds;
	int			maxcmds;
	char	   *err;
	size_t		errlen;
};

static struct pgb_command *
script_new_command(struct script_builder *sb, pgb_command_type type, int line)
{
	struct pgb_command *c;

	if (sb->ncmds == sb->maxcmds)
	{
		sb->maxcmds = sb->maxcmds ? sb->maxcmds * 2 : 32;
		sb->cmds = pd_realloc(sb->cmds,
								   sizeof(struct pgb_command) * (size_t) sb->maxcmds);
	}
	c = &sb->cmds[sb->ncmds++];
	memset(c, 0, sizeof(*c));
	c->type = type;
	c->line = line;
	c->jump_false = -1;
	c->jump_end = -1;
	c->sleep_mult = 1;
	return c;
}

static void
script_free_command(struct pgb_command *c)
{
	free(c->text);
	free(c->sql);
	free(c->param_sql);
	for (int i = 0; i < c->nparams; i++)
		free(c->param_names[i]);
	free(c->param_names);
	free(c->param_refs);
	free(c->gset_prefix);
	free(c->normalized);
	free(c->varname);
	pgb_expr_free(c->expr);
	free(c->sleep_var);
}

/*
 * Find the :var references in an SQL statement and build the $n form.
 * Returns false (with err) when there are too many.
 */
static bool
script_analyze_sql(struct script_builder *sb, struct pgb_command *c)
{
	const char *sql = c->sql;
	const char *p = sql;
	struct script_buf out = {0};
	int			maxrefs = 0;

	script_buf_append(&out, "", 0);
	while (*p)
	{
		size_t		skip = script_skip_len(p, p > sql ? p[-1] : '\0');
		size_t		n;
		bool		literal = false;
		const char *name;
		char		num[16];

		if (skip > 0)
		{
			script_buf_append(&out, p, skip);
			p += skip;
			continue;
		}
		if (*p != ':')
		{
			script_buf_putc(&out, *p++);
			continue;
		}
		if (p[1] == ':')
		{
			/* a cast: copy all the colons */
			while (*p == ':')
				script_buf_putc(&out, *p++);
			continue;
		}
		if (p[1] == '\'' && (n = script_var_len(p + 2)) > 0 && p[2 + n] == '\'')
		{
			literal = true;
			name = p + 2;
		}
		else if ((n = script_var_len(p + 1)) > 0)
			name = p + 1;
		else
		{
			script_buf_putc(&out, *p++);
			continue;
		}

		if (c->nparams >= SCRIPT_MAX_PARAMS)
		{
			free(out.data);
			return script_error(sb->err, sb->errlen, sb->name, c->line,
								"statement has too many arguments (maximum is %d)",
								SCRIPT_MAX_PARAMS);
		}
		if (c->nparams == maxrefs)
		{
			maxrefs = maxrefs ? maxrefs * 2 : 4;
			c->param_names = pd_realloc(c->param_names,
											 sizeof(char *) * (size_t) maxrefs);
			c->param_refs = pd_realloc(c->param_refs,
											sizeof(struct pgb_param_ref) * (size_t) maxrefs);
		}
		c->param_names[c->nparams] = pd_strndup(name, n);
		c->param_refs[c->nparams].offset = (int) (p - sql);
		c->param_refs[c->nparams].length = (int) (literal ? n + 3 : n + 1);
		c->param_refs[c->nparams].literal = literal;
		c->nparams++;
		snprintf(num, sizeof(num), "$%d", c->nparams);
		script_buf_append(&out, num, strlen(num));
		p += literal ? n + 3 : n + 1;
	}
	c->param_sql = out.data;
	return true;
}

/* True when the n bytes at word are kw, ignoring case. */
static bool
script_word_is(const char *word, size_t n, const char *kw)
{
	return strlen(kw) == n && strncasecmp(word, kw, n) == 0;
}

/*
 * True when sql (one command, possibly a "\;" compound) holds a COPY that
 * would switch the connection to the COPY protocol: COPY ... FROM STDIN or
 * COPY ... TO STDOUT.  A server-side COPY (a file or a program) runs like
 * any other statement.  Only words at a statement's top level count: not
 * those inside quotes, comments or parentheses (a COPY's query or option
 * list).
 */
static bool
script_sql_copies_stdio(const char *sql)
{
	const char *p = sql;
	int			paren = 0;
	bool		at_start = true;	/* the next word starts a statement */
	bool		in_copy = false;
	bool		after_from_to = false;

	while (*p)
	{
		size_t		skip = script_skip_len(p, p > sql ? p[-1] : '\0');

		if (skip > 0)
		{
			if (p[0] != '-' && p[0] != '/')
			{
				at_start = false;
				after_from_to = false;
			}
			p += skip;
		}
		else if (script_ident_start((unsigned char) *p))
		{
			const char *w = p;
			size_t		n;

			while (script_ident_char((unsigned char) *p))
				p++;
			n = (size_t) (p - w);
			if (paren == 0)
			{
				if (at_start)
					in_copy = script_word_is(w, n, "copy");
				else if (in_copy && after_from_to &&
						 (script_word_is(w, n, "stdin") ||
						  script_word_is(w, n, "stdout")))
					return true;
				after_from_to = script_word_is(w, n, "from") ||
					script_word_is(w, n, "to");
			}
			at_start = false;
		}
		else if (isspace((unsigned char) *p))
			p++;
		else
		{
			if (*p == '(')
				paren++;
			else if (*p == ')' && paren > 0)
				paren--;
			if (*p == ';' && paren == 0)
			{
				at_start = true;
				in_copy = false;
			}
			else
				at_start = false;
			after_from_to = false;
			p++;
		}
	}
	return false;
}

/*
 * Turn the collected SQL in buf into a command, unless it holds only
 * whitespace and comments.  buf ends before the terminating ';' (if any).
 */
static bool
script_add_sql(struct script_builder *sb, const char *buf, int line,
			   bool multi)
{
	const char *p = buf;
	const char *end;
	struct pgb_command *c;
	struct pgb_normalized norm;

	/* skip leading whitespace and comments, counting lines */
	for (;;)
	{
		if (isspace((unsigned char) *p))
		{
			if (*p == '\n')
				line++;
			p++;
		}
		else if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*'))
		{
			size_t		n = script_skip_len(p, '\0');

			for (size_t i = 0; i < n; i++)
				if (p[i] == '\n')
					line++;
			p += n;
		}
		else
			break;
	}
	if (*p == '\0')
		return true;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char) end[-1]))
		end--;

	c = script_new_command(sb, PGB_CMD_SQL, line);
	c->text = pd_strndup(p, (size_t) (end - p));
	c->sql = pd_strdup(c->text);
	c->multi = multi;
	/* the runner does not feed or drain COPY data: refuse it here */
	if (script_sql_copies_stdio(c->sql))
		return script_error(sb->err, sb->errlen, sb->name, c->line,
							"COPY FROM STDIN and COPY TO STDOUT are not supported in scripts");
	if (!script_analyze_sql(sb, c))
		return false;
	pgb_normalize(c->param_sql, &norm);
	c->fingerprint = norm.fingerprint;
	c->normalized = norm.text;
	return true;
}

/* Split a meta-command line into words (whitespace separated). */
static int
script_split_words(char *line, char **words, int maxwords)
{
	int			n = 0;
	char	   *p = line;

	while (*p)
	{
		while (*p && isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		if (n == maxwords)
			return n + 1;		/* too many */
		words[n++] = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/*
 * Parse one meta-command.  line is the text after the backslash with
 * continuations already replaced by spaces; lineno is where it started.
 */
static bool
script_add_meta(struct script_builder *sb, const char *line, int lineno)
{
	char	   *copy = pd_strdup(line);
	char	   *words[8];
	int			nwords;
	const char *cmd;
	char		eerr[400];
	struct pgb_command *c;
	bool		ok = true;
	const char *rest;

	/* command name: up to whitespace */
	rest = line;
	while (*rest && !isspace((unsigned char) *rest))
		rest++;
	nwords = script_split_words(copy, words, 8);
	if (nwords == 0)
	{
		free(copy);
		return script_error(sb->err, sb->errlen, sb->name, lineno,
							"missing meta-command name after \"\\\"");
	}
	cmd = words[0];

	if (strcasecmp(cmd, "set") == 0)
	{
		const char *expr;
		size_t		n;

		if (nwords < 3)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "missing argument in command \"\\set\"");
			goto done;
		}
		/* expression: everything after the variable name */
		while (*rest && isspace((unsigned char) *rest))
			rest++;
		n = 0;
		while (rest[n] && !isspace((unsigned char) rest[n]))
			n++;
		expr = rest + n;
		if (!pgb_var_name_valid(words[1]))
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "invalid variable name: \"%s\"", words[1]);
			goto done;
		}
		c = script_new_command(sb, PGB_CMD_SET, lineno);
		c->text = pd_strdup(line);
		c->varname = pd_strdup(words[1]);
		c->expr = pgb_expr_parse(expr, eerr, sizeof(eerr));
		if (c->expr == NULL)
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "%s in command \"\\set\"", eerr);
	}
	else if (strcasecmp(cmd, "if") == 0 || strcasecmp(cmd, "elif") == 0)
	{
		bool		is_if = strcasecmp(cmd, "if") == 0;

		c = script_new_command(sb, is_if ? PGB_CMD_IF : PGB_CMD_ELIF, lineno);
		c->text = pd_strdup(line);
		if (nwords < 2)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "missing argument in command \"\\%s\"", cmd);
			goto done;
		}
		c->expr = pgb_expr_parse(rest, eerr, sizeof(eerr));
		if (c->expr == NULL)
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "%s in command \"\\%s\"", eerr, cmd);
	}
	else if (strcasecmp(cmd, "sleep") == 0)
	{
		const char *arg;
		const char *unit = NULL;

		if (nwords < 2)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "missing argument in command \"\\sleep\"");
			goto done;
		}
		if (nwords > 3)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "too many arguments in command \"\\sleep\"");
			goto done;
		}
		c = script_new_command(sb, PGB_CMD_SLEEP, lineno);
		c->text = pd_strdup(line);
		arg = words[1];
		if (nwords == 3)
			unit = words[2];
		if (arg[0] == ':')
		{
			if (script_var_len(arg + 1) != strlen(arg + 1))
			{
				ok = script_error(sb->err, sb->errlen, sb->name, lineno,
								  "invalid variable name in command \"\\sleep\": \"%s\"",
								  arg);
				goto done;
			}
			c->sleep_var = pd_strdup(arg + 1);
		}
		else
		{
			const char *q = arg;
			bool		digits = false;
			long long	v;

			if (*q == '+' || *q == '-')
				q++;
			while (isdigit((unsigned char) *q))
			{
				digits = true;
				q++;
			}
			if (!digits || (*q != '\0' && unit != NULL))
			{
				ok = script_error(sb->err, sb->errlen, sb->name, lineno,
								  "invalid sleep time \"%s\", must be an integer",
								  arg);
				goto done;
			}
			if (*q != '\0')
				unit = q;		/* "\sleep 10ms" */
			errno = 0;
			v = strtoll(arg, NULL, 10);
			if (errno != 0 || v > INT_MAX || v < INT_MIN)
			{
				ok = script_error(sb->err, sb->errlen, sb->name, lineno,
								  "sleep time \"%s\" out of range", arg);
				goto done;
			}
			c->sleep_value = v;
		}
		if (unit == NULL || strcasecmp(unit, "s") == 0)
			c->sleep_mult = 1000000;
		else if (strcasecmp(unit, "ms") == 0)
			c->sleep_mult = 1000;
		else if (strcasecmp(unit, "us") == 0)
			c->sleep_mult = 1;
		else
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "unrecognized time unit \"%s\", must be us, ms or s",
							  unit);
	}
	else if (strcasecmp(cmd, "gset") == 0 || strcasecmp(cmd, "aset") == 0)
	{
		struct pgb_command *prev = sb->ncmds > 0 ? &sb->cmds[sb->ncmds - 1] : NULL;

		if (nwords > 2)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "too many arguments in command \"\\%s\"", cmd);
			goto done;
		}
		if (prev == NULL || prev->type != PGB_CMD_SQL ||
			prev->gset != PGB_GSET_NONE)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "\\%s must follow an SQL command", cmd);
			goto done;
		}
		prev->gset = strcasecmp(cmd, "gset") == 0 ? PGB_GSET_GSET : PGB_GSET_ASET;
		prev->gset_prefix = pd_strdup(nwords == 2 ? words[1] : "");
	}
	else if (strcasecmp(cmd, "else") == 0 || strcasecmp(cmd, "endif") == 0 ||
			 strcasecmp(cmd, "startpipeline") == 0 ||
			 strcasecmp(cmd, "endpipeline") == 0)
	{
		pgb_command_type t;

		if (nwords != 1)
		{
			ok = script_error(sb->err, sb->errlen, sb->name, lineno,
							  "unexpected argument in command \"\\%s\"", cmd);
			goto done;
		}
		if (strcasecmp(cmd, "else") == 0)
			t = PGB_CMD_ELSE;
		else if (strcasecmp(cmd, "endif") == 0)
			t = PGB_CMD_ENDIF;
		else if (strcasecmp(cmd, "startpipeline") == 0)
			t = PGB_CMD_STARTPIPELINE;
		else
			t = PGB_CMD_ENDPIPELINE;
		c = script_new_command(sb, t, lineno);
		c->text = pd_strdup(line);
	}
	else if (strcasecmp(cmd, "setshell") == 0 || strcasecmp(cmd, "shell") == 0)
		ok = script_error(sb->err, sb->errlen, sb->name, lineno,
						  "meta-command \"\\%s\" is not supported by perfdriver",
						  cmd);
	else
		ok = script_error(sb->err, sb->errlen, sb->name, lineno,
						  "unrecognized meta-command \"\\%s\"", cmd);

done:
	free(copy);
	return ok;
}

/*
 * Check \if nesting and fill in jump targets.  Returns false with err on
 * unbalanced conditionals.
 */
static bool
script_link_conditionals(struct script_builder *sb)
{
	int		   *stack = pd_malloc(sizeof(int) * (size_t) (sb->ncmds + 1));
	int		   *last_branch = pd_malloc(sizeof(int) * (size_t) (sb->ncmds + 1));
	bool	   *seen_else = pd_malloc(sizeof(bool) * (size_t) (sb->ncmds + 1));
	int			depth = 0;
	bool		ok = true;

	for (int i = 0; i < sb->ncmds && ok; i++)
	{
		struct pgb_command *c = &sb->cmds[i];

		switch (c->type)
		{
			case PGB_CMD_IF:
				stack[depth] = i;
				last_branch[depth] = i;
				seen_else[depth] = false;
				depth++;
				break;
			case PGB_CMD_ELIF:
			case PGB_CMD_ELSE:
				{
					const char *what = c->type == PGB_CMD_ELIF ? "\\elif" : "\\else";

					if (depth == 0)
					{
						ok = script_error(sb->err, sb->errlen, sb->name, c->line,
										  "%s without matching \\if", what);
						break;
					}
					if (seen_else[depth - 1])
					{
						ok = script_error(sb->err, sb->errlen, sb->name, c->line,
										  "%s after \\else", what);
						break;
					}
					/* the previous condition jumps here when false */
					sb->cmds[last_branch[depth - 1]].jump_false =
						c->type == PGB_CMD_ELIF ? i : i + 1;
					if (c->type == PGB_CMD_ELIF)
						last_branch[depth - 1] = i;
					else
					{
						seen_else[depth - 1] = true;
						last_branch[depth - 1] = -1;
					}
				}
				break;
			case PGB_CMD_ENDIF:
				if (depth == 0)
				{
					ok = script_error(sb->err, sb->errlen, sb->name, c->line,
									  "\\endif without matching \\if");
					break;
				}
				depth--;
				if (last_branch[depth] >= 0)
					sb->cmds[last_branch[depth]].jump_false = i + 1;
				/* every member of the chain ends after the \endif */
				{
					int			nest = 0;

					for (int j = stack[depth]; j <= i; j++)
					{
						pgb_command_type t = sb->cmds[j].type;

						if (t == PGB_CMD_IF)
							nest++;
						if (nest == 1 && (t == PGB_CMD_IF || t == PGB_CMD_ELIF ||
										  t == PGB_CMD_ELSE || t == PGB_CMD_ENDIF))
							sb->cmds[j].jump_end = i + 1;
						if (t == PGB_CMD_ENDIF)
							nest--;
					}
				}
				break;
			default:
				break;
		}
	}
	if (ok && depth > 0)
		ok = script_error(sb->err, sb->errlen, sb->name, sb->cmds[stack[depth - 1]].line,
						  "\\if without matching \\endif");
	free(stack);
	free(last_branch);
	free(seen_else);
	return ok;
}

/* -------------------------------------------------------------------------
 * The scanner
 * -------------------------------------------------------------------------
 */

struct pgb_script *
pgb_script_parse(const char *name, const char *text, char *err, size_t errlen)
{
	struct script_builder sb = {0};
	struct script_buf sql = {0};
	struct script_buf meta = {0};
	struct pgb_script *script;
	const char *p = text;
	int			line = 1;
	int			sql_line = 1;	/* line where the current SQL buffer began */
	int			paren = 0;
	bool		multi = false;
	bool		ok = true;

	sb.name = name;
	sb.err = err;
	sb.errlen = errlen;
	script_buf_append(&sql, "", 0);

	while (ok && *p)
	{
		size_t		skip;

		if (sql.len == 0)
			sql_line = line;

		skip = script_skip_len(p, p > text ? p[-1] : '\0');
		if (skip > 0)
		{
			for (size_t i = 0; i < skip; i++)
				if (p[i] == '\n')
					line++;
			script_buf_append(&sql, p, skip);
			p += skip;
			continue;
		}

		switch (*p)
		{
			case '\n':
				line++;
				script_buf_putc(&sql, *p++);
				break;
			case '(':
				paren++;
				script_buf_putc(&sql, *p++);
				break;
			case ')':
				if (paren > 0)
					paren--;
				script_buf_putc(&sql, *p++);
				break;
			case ';':
				if (paren > 0)
				{
					script_buf_putc(&sql, *p++);
					break;
				}
				p++;
				ok = script_add_sql(&sb, sql.data, sql_line, multi);
				script_buf_reset(&sql);
				multi = false;
				break;
			case '\\':
				if (p[1] == ';' || p[1] == ':')
				{
					if (p[1] == ';')
						multi = true;
					script_buf_putc(&sql, p[1]);
					p += 2;
					break;
				}
				/* a meta-command ends the SQL collected so far */
				ok = script_add_sql(&sb, sql.data, sql_line, multi);
				script_buf_reset(&sql);
				multi = false;
				paren = 0;
				if (!ok)
					break;
				{
					int			meta_line = line;

					p++;
					script_buf_reset(&meta);
					script_buf_append(&meta, "", 0);
					while (*p && *p != '\n')
					{
						if (p[0] == '\\' && p[1] == '\n')
						{
							script_buf_putc(&meta, ' ');
							line++;
							p += 2;
						}
						else if (p[0] == '\\' && p[1] == '\r' && p[2] == '\n')
						{
							script_buf_putc(&meta, ' ');
							line++;
							p += 3;
						}
						else
							script_buf_putc(&meta, *p++);
					}
					while (meta.len > 0 && isspace((unsigned char) meta.data[meta.len - 1]))
						meta.data[--meta.len] = '\0';
					ok = script_add_meta(&sb, meta.data, meta_line);
				}
				break;
			default:
				script_buf_putc(&sql, *p++);
				break;
		}
	}
	if (ok)
		ok = script_add_sql(&sb, sql.data, sql_line, multi);
	if (ok && sb.ncmds == 0)
		ok = script_error(err, errlen, name, 0, "script contains no commands");
	if (ok)
		ok = script_link_conditionals(&sb);
	free(sql.data);
	free(meta.data);

	if (!ok)
	{
		for (int i = 0; i < sb.ncmds; i++)
			script_free_command(&sb.cmds[i]);
		free(sb.cmds);
		return NULL;
	}
	script = pd_malloc(sizeof(*script));
	script->name = pd_strdup(name);
	script->weight = 1;
	script->ncommands = sb.ncmds;
	script->commands = sb.cmds;
	return script;
}

void
pgb_script_free(struct pgb_script *script)
{
	if (script == NULL)
		return;
	for (int i = 0; i < script->ncommands; i++)
		script_free_command(&script->commands[i]);
	free(script->commands);
	free(script->name);
	free(script);
}

char *
pgb_script_split_weight(const char *arg, int *weight, char *err, size_t errlen)
{
	const char *at = strrchr(arg, '@');
	char	   *end;
	long		w;

	*weight = 1;
	if (at == NULL)
		return pd_strdup(arg);
	errno = 0;
	w = strtol(at + 1, &end, 10);
	if (at[1] == '\0' || *end != '\0' || errno != 0 || w < 0 || w > INT_MAX)
	{
		script_error(err, errlen, "perfdriver", 0,
					 "invalid weight specification: \"%s\"", arg);
		return NULL;
	}
	*weight = (int) w;
	return pd_strndup(arg, (size_t) (at - arg));
}

struct pgb_script *
pgb_script_load(const char *arg, char *err, size_t errlen)
{
	int			weight;
	char	   *file = pgb_script_split_weight(arg, &weight, err, errlen);
	FILE	   *f;
	struct script_buf buf = {0};
	char		chunk[8192];
	size_t		n;
	struct pgb_script *script;

	if (file == NULL)
		return NULL;
	if (strcmp(file, "-") == 0)
		f = stdin;
	else if ((f = fopen(file, "r")) == NULL)
	{
		script_error(err, errlen, file, 0, "could not open file: %s",
					 strerror(errno));
		free(file);
		return NULL;
	}
	script_buf_append(&buf, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		script_buf_append(&buf, chunk, n);
	if (ferror(f))
	{
		script_error(err, errlen, file, 0, "could not read file: %s",
					 strerror(errno));
		if (f != stdin)
			fclose(f);
		free(buf.data);
		free(file);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	if (memchr(buf.data, '\0', buf.len) != NULL)
	{
		script_error(err, errlen, file, 0, "file contains a NUL byte");
		free(buf.data);
		free(file);
		return NULL;
	}
	script = pgb_script_parse(file, buf.data, err, errlen);
	if (script != NULL)
		script->weight = weight;
	free(buf.data);
	free(file);
	return script;
}

/* -------------------------------------------------------------------------
 * Execution helpers
 * -------------------------------------------------------------------------
 */

int
pgb_script_branch(const struct pgb_script *script, int idx,
				  struct pgb_vars *vars, struct pgb_prng *rng,
				  char *err, size_t errlen)
{
	const struct pgb_command *c = &script->commands[idx];
	int			i = idx;

	switch (c->type)
	{
		case PGB_CMD_ENDIF:
			return idx + 1;
		case PGB_CMD_ELSE:
		case PGB_CMD_ELIF:
			return c->jump_end;
		case PGB_CMD_IF:
			break;
		default:
			return idx + 1;
	}
	for (;;)
	{
		pgb_value	v;
		char		eerr[300];
		int			j;

		if (!pgb_expr_eval(script->commands[i].expr, vars, rng, &v,
						   eerr, sizeof(eerr)))
		{
			script_error(err, errlen, script->name, script->commands[i].line,
						 "%s", eerr);
			return -1;
		}
		if (pgb_value_truth(&v))
			return i + 1;
		j = script->commands[i].jump_false;
		if (j < script->ncommands && script->commands[j].type == PGB_CMD_ELIF)
		{
			i = j;
			continue;
		}
		return j;
	}
}

bool
pgb_script_exec_set(const struct pgb_script *script,
					const struct pgb_command *cmd,
					struct pgb_vars *vars, struct pgb_prng *rng,
					char *err, size_t errlen)
{
	pgb_value	v;
	char		eerr[300];

	if (!pgb_expr_eval(cmd->expr, vars, rng, &v, eerr, sizeof(eerr)))
		return script_error(err, errlen, script->name, cmd->line, "%s", eerr);
	if (!pgb_vars_set_value(vars, cmd->varname, &v, eerr, sizeof(eerr)))
		return script_error(err, errlen, script->name, cmd->line, "%s", eerr);
	return true;
}

bool
pgb_command_sleep_usec(const struct pgb_command *cmd, struct pgb_vars *vars,
					   int64_t *usec, char *err, size_t errlen)
{
	int64_t		v = cmd->sleep_value;

	if (cmd->sleep_var != NULL)
	{
		const char *t = pgb_vars_get_text(vars, cmd->sleep_var);
		char	   *end;
		long long	x;

		if (t == NULL)
			return script_error(err, errlen, "\\sleep", 0,
								"undefined variable \"%s\"", cmd->sleep_var);
		errno = 0;
		x = strtoll(t, &end, 10);
		while (*end && isspace((unsigned char) *end))
			end++;
		if (end == t || *end != '\0' || errno != 0 || x > INT_MAX || x < INT_MIN)
			return script_error(err, errlen, "\\sleep", 0,
								"invalid sleep time \"%s\" for variable \"%s\"",
								t, cmd->sleep_var);
		v = x;
	}
	*usec = v * cmd->sleep_mult;
	return true;
}

void
pgb_command_params(const struct pgb_command *cmd, struct pgb_vars *vars,
				   const char **values)
{
	for (int i = 0; i < cmd->nparams; i++)
		values[i] = pgb_vars_get_text(vars, cmd->param_names[i]);
}

const char *
pgb_command_simple_sql(const struct pgb_command *cmd, const char *const *values,
					   char **buf, size_t *bufsize)
{
	struct script_buf b = {*buf, 0, *bufsize};
	int			pos = 0;

	script_buf_reserve(&b, strlen(cmd->sql));
	b.data[0] = '\0';
	for (int i = 0; i < cmd->nparams; i++)
	{
		const struct pgb_param_ref *r = &cmd->param_refs[i];
		const char *val = values[i];

		script_buf_append(&b, cmd->sql + pos, (size_t) (r->offset - pos));
		if (val == NULL)
			script_buf_append(&b, cmd->sql + r->offset, (size_t) r->length);
		else if (r->literal)
		{
			script_buf_putc(&b, '\'');
			for (const char *q = val; *q; q++)
			{
				if (*q == '\'')
					script_buf_putc(&b, '\'');
				script_buf_putc(&b, *q);
			}
			script_buf_putc(&b, '\'');
		}
		else
			script_buf_append(&b, val, strlen(val));
		pos = r->offset + r->length;
	}
	script_buf_append(&b, cmd->sql + pos, strlen(cmd->sql + pos));
	*buf = b.data;
	*bufsize = b.cap;
	return b.data;
}

const char *
pgb_command_type_name(pgb_command_type type)
{
	switch (type)
	{
		case PGB_CMD_SQL:
			return "SQL";
		case PGB_CMD_SET:
			return "\\set";
		case PGB_CMD_SLEEP:
			return "\\sleep";
		case PGB_CMD_IF:
			return "\\if";
		case PGB_CMD_ELIF:
			return "\\elif";
		case PGB_CMD_ELSE:
			return "\\else";
		case PGB_CMD_ENDIF:
			return "\\endif";
		case PGB_CMD_STARTPIPELINE:
			return "\\startpipeline";
		case PGB_CMD_ENDPIPELINE:
			return "\\endpipeline";
	}
	return "unknown";
}
