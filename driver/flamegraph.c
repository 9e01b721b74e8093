/*
 * flamegraph.c
 *		Folded stacks: the set, its text form, collapsing "perf script"
 *		output into it, the module of a frame, and the packed form kept
 *		with a stored run.
 *
 * Owns: the frame naming rules (docs/flamegraph.md, "Frames") and the
 * packed encoding (zlib, then base64).
 *
 * Must not: run perf, draw (flamesvg.c draws), or include libpq-fe.h.
 *
 * Memory: struct pd_folded owns its keys (malloc'd, one per stack) and its
 * two arrays; pd_folded_free() releases them.  The collapser keeps one line
 * buffer and one frame array per call, freed before it returns.
 */
#include "flamegraph.h"
#include "driver.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ------------------------------------------------------------ the set */

static uint64_t
folded_hash(const char *s)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

void
pd_folded_init(struct pd_folded *f)
{
	memset(f, 0, sizeof(*f));
}

void
pd_folded_free(struct pd_folded *f)
{
	for (size_t i = 0; i < f->cap; i++)
		free(f->key[i]);
	free(f->key);
	free(f->count);
	pd_folded_init(f);
}

/* Grow the table to newcap slots (a power of 2), rehashing. */
static void
folded_grow(struct pd_folded *f, size_t newcap)
{
	char	  **key = pd_calloc(newcap, sizeof(char *));
	uint64_t   *count = pd_calloc(newcap, sizeof(uint64_t));

	for (size_t i = 0; i < f->cap; i++)
	{
		size_t		j;

		if (f->key[i] == NULL)
			continue;
		j = folded_hash(f->key[i]) & (newcap - 1);
		while (key[j] != NULL)
			j = (j + 1) & (newcap - 1);
		key[j] = f->key[i];
		count[j] = f->count[i];
	}
	free(f->key);
	free(f->count);
	f->key = key;
	f->count = count;
	f->cap = newcap;
}

void
pd_folded_add(struct pd_folded *f, const char *stack, uint64_t count)
{
	size_t		j;

	if (count == 0)
		return;
	if ((f->n + 1) * 2 > f->cap)
		folded_grow(f, f->cap ? f->cap * 2 : 64);
	j = folded_hash(stack) & (f->cap - 1);
	while (f->key[j] != NULL && strcmp(f->key[j], stack) != 0)
		j = (j + 1) & (f->cap - 1);
	if (f->key[j] == NULL)
	{
		f->key[j] = pd_strdup(stack);
		f->n++;
	}
	f->count[j] += count;
	f->total += count;
}

void
pd_folded_merge(struct pd_folded *dst, const struct pd_folded *src)
{
	for (size_t i = 0; i < src->cap; i++)
		if (src->key[i] != NULL)
			pd_folded_add(dst, src->key[i], src->count[i]);
}

static int
cmp_keyp(const void *a, const void *b)
{
	return strcmp(**(char *const *const *) a, **(char *const *const *) b);
}

/* The occupied slots, sorted by stack: pointers into f->key (caller frees). */
static char ***
folded_sorted(const struct pd_folded *f)
{
	char	 ***order = pd_calloc(f->n + 1, sizeof(char **));
	size_t		k = 0;

	for (size_t i = 0; i < f->cap; i++)
		if (f->key[i] != NULL)
			order[k++] = &f->key[i];
	qsort(order, k, sizeof(*order), cmp_keyp);
	return order;
}

bool
pd_folded_write(FILE *out, const struct pd_folded *f)
{
	char	 ***order = folded_sorted(f);
	bool		ok = true;

	for (size_t i = 0; i < f->n && ok; i++)
		ok = fprintf(out, "%s %" PRIu64 "\n", *order[i],
					 f->count[order[i] - f->key]) >= 0;
	free(order);
	return ok && !ferror(out);
}

char *
pd_folded_text(const struct pd_folded *f, size_t *len)
{
	char	   *buf = NULL;
	size_t		size = 0;
	FILE	   *m = open_memstream(&buf, &size);

	if (m == NULL)
	{
		pd_error("out of memory");
		abort();
	}
	(void) pd_folded_write(m, f);
	fclose(m);
	if (len)
		*len = size;
	return buf;
}

bool
pd_folded_parse(struct pd_folded *f, const char *text, size_t len,
				char *err, size_t errlen)
{
	size_t		pos = 0;
	int			lineno = 0;
	char	   *line = NULL;
	size_t		linecap = 0;

	while (pos < len)
	{
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t		n = nl ? (size_t) (nl - (text + pos)) : len - pos;
		char	   *sp;
		char	   *end;
		double		c;

		lineno++;
		if (n + 1 > linecap)
		{
			linecap = n + 1;
			free(line);
			line = pd_malloc(linecap);
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		sp = strrchr(line, ' ');
		if (sp == NULL || sp == line)
		{
			snprintf(err, errlen, "line %d is not \"stack COUNT\"", lineno);
			free(line);
			return false;
		}
		errno = 0;
		c = strtod(sp + 1, &end);
		if (errno != 0 || *end != '\0' || !(c >= 0) || c > 1e18 ||
			!isdigit((unsigned char) sp[1]))
		{
			snprintf(err, errlen, "line %d: the count \"%s\" is not a number of samples",
					 lineno, sp + 1);
			free(line);
			return false;
		}
		*sp = '\0';
		pd_folded_add(f, line, (uint64_t) (c + 0.5));
	}
	free(line);
	return true;
}

bool
pd_folded_load(struct pd_folded *f, const char *path, char *err, size_t errlen)
{
	FILE	   *in = fopen(path, "rb");
	char	   *buf = NULL;
	size_t		len = 0;
	size_t		cap = 0;
	bool		ok;
	char		e[256];

	if (in == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		return false;
	}
	for (;;)
	{
		size_t		got;

		if (len + 65536 > cap)
		{
			cap = cap ? cap * 2 : 65536 * 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
			{
				pd_error("out of memory");
				abort();
			}
		}
		got = fread(buf + len, 1, cap - len, in);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(in))
	{
		snprintf(err, errlen, "could not read \"%s\": %s", path, strerror(errno));
		fclose(in);
		free(buf);
		return false;
	}
	fclose(in);
	ok = pd_folded_parse(f, buf ? buf : "", len, e, sizeof(e));
	if (!ok)
		snprintf(err, errlen, "\"%s\" is not folded stacks: %s", path, e);
	free(buf);
	return ok;
}

/* --------------------------------------------------------- collapsing */

/* A growing byte buffer. */
struct sbuf
{
	char	   *p;
	size_t		len;
	size_t		cap;
};

static void
sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
		{
			pd_error("out of memory");
			abort();
		}
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append s, with the folded format's separators made harmless. */
static void
sbuf_put_frame(struct sbuf *b, const char *s, size_t n)
{
	size_t		start = b->len;

	sbuf_put(b, s, n);
	for (size_t i = start; i < b->len; i++)
		if (b->p[i] == ';')
			b->p[i] = ':';
		else if (b->p[i] == '\n' || b->p[i] == '\r' || b->p[i] == '\t')
			b->p[i] = ' ';
}

/* One record being read: its frames, leaf first, as ranges of names. */
struct record
{
	char	   *comm;
	int			pid;
	int64_t		t_ns;			/* -1: no time */
	struct sbuf names;			/* the frame names, NUL-separated */
	size_t	   *off;			/* start of each name in names */
	int			nframes;
	int			cap;
};

static void
record_reset(struct record *r)
{
	free(r->comm);
	r->comm = NULL;
	r->pid = -1;
	r->t_ns = -1;
	r->names.len = 0;
	r->nframes = 0;
}

/*
 * parse_time: "12345.678901234:" (seconds, a fraction of up to 9 digits,
 * the colon) as nanoseconds; -1 when tok is not a time.
 */
static int64_t
parse_time(const char *tok, size_t n)
{
	int64_t		sec = 0;
	int64_t		frac = 0;
	int			fd = 0;
	size_t		i = 0;

	if (n < 3 || tok[n - 1] != ':')
		return -1;
	n--;
	while (i < n && isdigit((unsigned char) tok[i]))
	{
		if (sec > INT64_MAX / 10 / 1000000000 - 1)
			return -1;
		sec = sec * 10 + (tok[i++] - '0');
	}
	if (i == 0 || i >= n || tok[i] != '.')
		return -1;
	i++;
	if (i >= n)
		return -1;
	while (i < n && isdigit((unsigned char) tok[i]))
	{
		if (fd < 9)
		{
			frac = frac * 10 + (tok[i] - '0');
			fd++;
		}
		i++;
	}
	if (i != n)
		return -1;
	while (fd++ < 9)
		frac *= 10;
	return sec * 1000000000 + frac;
}

/* A pid token: "123" or "123/456" (pid/tid); -1 otherwise. */
static int
parse_pid(const char *tok, size_t n)
{
	long		v = 0;
	size_t		i = 0;

	while (i < n && isdigit((unsigned char) tok[i]) && v < 100000000)
		v = v * 10 + (tok[i++] - '0');
	if (i == 0 || (i < n && tok[i] != '/'))
		return -1;
	if (i < n)
	{
		size_t		j = i + 1;

		if (j >= n)
			return -1;
		for (; j < n; j++)
			if (!isdigit((unsigned char) tok[j]))
				return -1;
	}
	return (int) v;
}

/*
 * parse_header: "comm pid[/tid] [cpu] time: ..." into r.  The command name
 * may hold spaces, so the pid is the last pid-like token before the time
 * (or the first after the command when there is no time).  Returns false
 * when the line has no pid.
 */
static bool
parse_header(const char *line, struct record *r)
{
	const char *tok[64];
	size_t		len[64];
	int			nt = 0;
	int			ti = -1;
	int			pi = -1;
	const char *p = line;

	while (*p && nt < 64)
	{
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok[nt] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		len[nt] = (size_t) (p - tok[nt]);
		nt++;
	}
	for (int i = 1; i < nt && ti < 0; i++)
		if (parse_time(tok[i], len[i]) >= 0)
			ti = i;
	if (ti > 0)
	{
		for (int i = ti - 1; i >= 1 && pi < 0; i--)
			if (parse_pid(tok[i], len[i]) >= 0)
				pi = i;
	}
	else
	{
		for (int i = 1; i < nt && pi < 0; i++)
			if (parse_pid(tok[i], len[i]) >= 0)
				pi = i;
	}
	if (pi < 1)
		return false;
	r->pid = parse_pid(tok[pi], len[pi]);
	r->t_ns = ti > 0 ? parse_time(tok[ti], len[ti]) : -1;
	{
		size_t		n = (size_t) (tok[pi] - line);

		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
			n--;
		r->comm = pd_malloc(n + 1);
		memcpy(r->comm, line, n);
		r->comm[n] = '\0';
	}
	return true;
}

/* The basename of a module path, or the module itself for "[...]". */
static void
module_base(const char *mod, size_t n, const char **b, size_t *bn)
{
	const char *slash = NULL;

	if (n > 0 && mod[0] == '[')
	{
		*b = mod;
		*bn = n;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (mod[i] == '/')
			slash = mod + i;
	*b = slash ? slash + 1 : mod;
	*bn = n - (size_t) (*b - mod);
}

static bool
has_so(const char *b, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++)
		if (memcmp(b + i, ".so", 3) == 0 && (i + 3 == n || b[i + 3] == '.'))
			return true;
	return false;
}

/*
 * parse_frame: one stack line "    addr sym+0xoff (module)" into the frame
 * name of docs/flamegraph.md, appended to r.  Returns false when the line is
 * not a frame.
 */
static bool
parse_frame(const char *line, struct record *r)
{
	const char *p = line;
	const char *addr;
	uint64_t	a;
	char	   *end;
	const char *sym;
	size_t		symn;
	const char *mod = "[unknown]";
	size_t		modn = 9;
	const char *e;
	const char *b;
	size_t		bn;
	bool		kernel;
	bool		unknown;

	while (*p == ' ' || *p == '\t')
		p++;
	addr = p;
	errno = 0;
	a = strtoull(addr, &end, 16);
	if (end == addr || errno != 0 || (*end != ' ' && *end != '\t'))
		return false;
	sym = end;
	while (*sym == ' ' || *sym == '\t')
		sym++;
	e = sym + strlen(sym);
	while (e > sym && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	/* the module: the last parenthesised group at the end of the line */
	if (e > sym && e[-1] == ')')
	{
		int			depth = 0;
		const char *q = e - 1;

		for (; q >= sym; q--)
		{
			if (*q == ')')
				depth++;
			else if (*q == '(' && --depth == 0)
				break;
		}
		if (q >= sym && q[0] == '(')
		{
			mod = q + 1;
			modn = (size_t) (e - 1 - mod);
			e = q;
			while (e > sym && e[-1] == ' ')
				e--;
		}
	}
	symn = (size_t) (e - sym);
	/* strip "+0x1a2" */
	{
		const char *plus = NULL;

		for (size_t i = 0; i + 3 <= symn; i++)
			if (sym[i] == '+' && sym[i + 1] == '0' && sym[i + 2] == 'x')
				plus = sym + i;
		if (plus != NULL)
		{
			const char *q = plus + 3;

			while (q < e && isxdigit((unsigned char) *q))
				q++;
			if (q == e)
				symn = (size_t) (plus - sym);
		}
	}
	unknown = symn == 0 || (symn == 9 && memcmp(sym, "[unknown]", 9) == 0);
	kernel = a >= 0xffff800000000000ULL ||
		(modn >= 7 && memcmp(mod, "[kernel", 7) == 0);
	module_base(mod, modn, &b, &bn);

	if (r->nframes == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 64;
		r->off = realloc(r->off, r->cap * sizeof(size_t));
		if (r->off == NULL)
		{
			pd_error("out of memory");
			abort();
		}
	}
	r->off[r->nframes++] = r->names.len;
	if (unknown)
	{
		bool		bracketed = bn > 0 && b[0] == '[';

		if (!bracketed)
			sbuf_put(&r->names, "[", 1);
		sbuf_put_frame(&r->names, b, bn);
		if (!bracketed)
			sbuf_put(&r->names, "]", 1);
	}
	else if (kernel)
		sbuf_put_frame(&r->names, sym, symn);
	else if (has_so(b, bn) || (bn > 0 && b[0] == '['))
	{
		sbuf_put_frame(&r->names, b, bn);
		sbuf_put(&r->names, "`", 1);
		sbuf_put_frame(&r->names, sym, symn);
	}
	else
		sbuf_put_frame(&r->names, sym, symn);
	if (kernel)
		sbuf_put(&r->names, "_[k]", 4);
	sbuf_put(&r->names, "", 1);	/* the NUL separator */
	return true;
}

/* The label of the span holding (pid, t), or NULL. */
static const char *
span_label(const struct pd_collapse_opts *o, int pid, int64_t t)
{
	size_t		lo = 0;
	size_t		hi = o->nspans;

	if (o->nspans == 0 || t < 0)
		return NULL;
	/* the first span with (pid, start) > (pid, t) */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		const struct pd_flame_span *s = &o->spans[mid];

		if (s->pid < pid || (s->pid == pid && s->start_ns <= t))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	{
		const struct pd_flame_span *s = &o->spans[lo - 1];

		if (s->pid == pid && t >= s->start_ns && t < s->end_ns)
			return s->label;
	}
	return NULL;
}

/* Finish a record: filter it and add its stack to out. */
static void
record_emit(struct record *r, const struct pd_collapse_opts *o,
			struct pd_folded *out, struct pd_collapse_stats *st,
			struct sbuf *stack)
{
	const char *label;

	if (r->comm == NULL)
		return;
	st->records++;
	if ((o->from_ns != 0 || o->to_ns != 0) &&
		(r->t_ns < o->from_ns || r->t_ns >= o->to_ns))
	{
		st->outside++;
		return;
	}
	stack->len = 0;
	label = span_label(o, r->pid, r->t_ns);
	if (o->self_pid > 0 && r->pid == o->self_pid && o->self_root != NULL)
		sbuf_put_frame(stack, o->self_root, strlen(o->self_root));
	else if (label != NULL)
	{
		sbuf_put_frame(stack, label, strlen(label));
		st->in_spans++;
	}
	else if (o->root != NULL)
		sbuf_put_frame(stack, o->root, strlen(o->root));
	else
		sbuf_put_frame(stack, r->comm[0] ? r->comm : "[unknown]",
					   r->comm[0] ? strlen(r->comm) : 9);
	for (int i = r->nframes - 1; i >= 0; i--)
	{
		const char *name = r->names.p + r->off[i];

		sbuf_put(stack, ";", 1);
		sbuf_put(stack, name, strlen(name));
	}
	if (stack->p == NULL)
		sbuf_put(stack, "", 0);
	pd_folded_add(out, stack->p, 1);
	st->kept++;
	if (r->nframes + 1 > st->max_depth)
		st->max_depth = r->nframes + 1;
}

bool
pd_collapse_perf(FILE *in, const struct pd_collapse_opts *opts,
				 struct pd_folded *out, struct pd_collapse_stats *st)
{
	struct record r;
	struct sbuf stack = {0};
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	bool		ok;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	record_reset(&r);
	while ((n = getline(&line, &cap, in)) >= 0)
	{
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
		{
			record_emit(&r, opts, out, st, &stack);
			record_reset(&r);
			continue;
		}
		if (line[0] == '#')
			continue;			/* perf script's header comments */
		if (line[0] != ' ' && line[0] != '\t')
		{
			/* a new header: a record not closed by a blank line ends here */
			record_emit(&r, opts, out, st, &stack);
			record_reset(&r);
			if (!parse_header(line, &r))
				record_reset(&r);
			continue;
		}
		if (r.comm != NULL)
			(void) parse_frame(line, &r);
	}
	ok = !ferror(in);
	record_emit(&r, opts, out, st, &stack);
	record_reset(&r);
	free(r.names.p);
	free(r.off);
	free(stack.p);
	free(line);
	return ok;
}

/* ----------------------------------------------------------- modules */

static bool
prefix(const char *s, size_t n, const char *p)
{
	size_t		pn = strlen(p);

	return n >= pn && memcmp(s, p, pn) == 0;
}

pd_frame_kind
pd_frame_classify(const char *frame, size_t len)
{
	const char *tick;
	const char *m;
	size_t		mn;

	if (len >= 4 && memcmp(frame + len - 4, "_[k]", 4) == 0)
		return PD_FRAME_KERNEL;
	if (len == 9 && memcmp(frame, "[unknown]", 9) == 0)
		return PD_FRAME_UNKNOWN;
	tick = memchr(frame, '`', len);
	if (tick != NULL)
	{
		m = frame;
		mn = (size_t) (tick - frame);
	}
	else if (len >= 2 && frame[0] == '[' && frame[len - 1] == ']')
	{
		m = frame + 1;
		mn = len - 2;
	}
	else
		return PD_FRAME_MAIN;
	if (mn >= 2 && m[0] == '[' && m[mn - 1] == ']')
	{
		m++;
		mn -= 2;
	}
	if (prefix(m, mn, "libc.so") || prefix(m, mn, "libc-") || prefix(m, mn, "libm.so") ||
		prefix(m, mn, "libpthread") || prefix(m, mn, "libdl") || prefix(m, mn, "librt") ||
		prefix(m, mn, "ld-linux") || prefix(m, mn, "vdso"))
		return PD_FRAME_LIBC;
	if (mn > 3 && memcmp(m + mn - 3, ".so", 3) == 0 && !prefix(m, mn, "lib"))
		return PD_FRAME_EXTENSION;
	if (has_so(m, mn))
		return PD_FRAME_LIBRARY;
	if (prefix(m, mn, "unknown"))
		return PD_FRAME_UNKNOWN;
	return PD_FRAME_MAIN;
}

/* --------------------------------------------------------- packing */

static const char b64[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
pd_flame_pack(const struct pd_folded *f, size_t *raw_len)
{
	size_t		len;
	char	   *text = pd_folded_text(f, &len);
	uLongf		zlen = compressBound(len);
	unsigned char *z = pd_malloc(zlen);
	char	   *out;
	size_t		o = 0;

	if (compress2(z, &zlen, (const Bytef *) text, len, 6) != Z_OK)
	{
		free(text);
		free(z);
		return NULL;
	}
	free(text);
	out = pd_malloc(4 * ((zlen + 2) / 3) + 1);
	for (size_t i = 0; i < zlen; i += 3)
	{
		uint32_t	v = (uint32_t) z[i] << 16;

		if (i + 1 < zlen)
			v |= (uint32_t) z[i + 1] << 8;
		if (i + 2 < zlen)
			v |= z[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < zlen ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < zlen ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	free(z);
	if (raw_len)
		*raw_len = len;
	return out;
}

static int
b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int) (p - b64) : -1;
}

/* Inflated data beyond this is refused: a stored profile is far smaller. */
#define UNPACK_MAX ((size_t) 1 << 30)

bool
pd_flame_unpack(const char *packed, struct pd_folded *f, char *err, size_t errlen)
{
	size_t		n = strlen(packed);
	unsigned char *z = pd_malloc(n / 4 * 3 + 3);
	size_t		zl = 0;
	uint32_t	acc = 0;
	int			bits = 0;
	z_stream	zs;
	char	   *text = NULL;
	size_t		cap = 0;
	int			rc;
	bool		ok;
	char		e[256];

	for (size_t i = 0; i < n; i++)
	{
		int			v;

		if (packed[i] == '=' || packed[i] == '\n' || packed[i] == '\r')
			continue;
		v = b64_value(packed[i]);
		if (v < 0)
		{
			snprintf(err, errlen, "the stored stacks are not base64 (byte %zu)", i);
			free(z);
			return false;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			z[zl++] = (unsigned char) (acc >> bits);
		}
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
	{
		snprintf(err, errlen, "could not start zlib");
		free(z);
		return false;
	}
	zs.next_in = z;
	zs.avail_in = (uInt) zl;
	do
	{
		if (cap - zs.total_out < 65536)
		{
			cap = cap ? cap * 2 : 4 * zl + 65536;
			if (cap > UNPACK_MAX)
			{
				snprintf(err, errlen, "the stored stacks inflate beyond 1 GB");
				inflateEnd(&zs);
				free(z);
				free(text);
				return false;
			}
			text = realloc(text, cap);
			if (text == NULL)
			{
				pd_error("out of memory");
				abort();
			}
		}
		zs.next_out = (Bytef *) text + zs.total_out;
		zs.avail_out = (uInt) (cap - zs.total_out);
		rc = inflate(&zs, Z_NO_FLUSH);
	} while (rc == Z_OK);
	free(z);
	if (rc != Z_STREAM_END)
	{
		snprintf(err, errlen, "the stored stacks are not zlib data (%s)",
				 zs.msg ? zs.msg : "truncated");
		inflateEnd(&zs);
		free(text);
		return false;
	}
	ok = pd_folded_parse(f, text, zs.total_out, e, sizeof(e));
	if (!ok)
		snprintf(err, errlen, "the stored stacks are not folded stacks: %s", e);
	inflateEnd(&zs);
	free(text);
	return ok;
}
