/*
 * flamesvg.c
 *		Drawing folded stacks as an SVG flame graph: ordinary (colour by
 *		module, or by wait event type) and differential (colour by the
 *		change against a base set).
 *
 * Owns: the layout (roots at the bottom, children sorted by name, widths
 * proportional to samples), the palettes, XML escaping, and the inline
 * click-to-zoom script.
 *
 * Must not: read perf output or files (flamegraph.c does), or refer to
 * anything outside the document: no external scripts, styles or fonts.
 *
 * Memory: the frame tree is built per call in one growing array and a hash
 * index, both freed before pd_flame_svg() returns.  Node names point into
 * the folded sets' keys, which outlive the call.
 */
#define _GNU_SOURCE				/* qsort_r */
#include "flamegraph.h"
#include "driver.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_H		16			/* pixels per stack level */
#define PAD			10			/* left and right margins */
#define HEAD_H		72			/* title, subtitle, legend */
#define FOOT_H		28
#define CHAR_W		7.2			/* monospace 12px, for clipping labels */

struct node
{
	const char *name;			/* not NUL-terminated: name_len bytes */
	size_t		name_len;
	int			parent;
	int			first;			/* first child, -1 none */
	int			next;			/* next sibling, -1 none */
	int			depth;			/* the virtual root is -1 */
	uint64_t	count;			/* samples (the candidate in a diff) */
	double		base;			/* the base's samples, scaled */
	double		x;				/* offset in samples */
};

struct tree
{
	struct node *n;
	int			len;
	int			cap;
	int		   *idx;			/* hash: (parent, name) -> node, -1 empty */
	size_t		idxcap;
};

static uint64_t
node_hash(int parent, const char *s, size_t n)
{
	uint64_t	h = 1469598103934665603ULL ^ (uint64_t) (unsigned) parent;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

static void
tree_reindex(struct tree *t, size_t cap)
{
	free(t->idx);
	t->idx = pd_malloc(cap * sizeof(int));
	for (size_t i = 0; i < cap; i++)
		t->idx[i] = -1;
	t->idxcap = cap;
	for (int i = 1; i < t->len; i++)
	{
		size_t		j = node_hash(t->n[i].parent, t->n[i].name, t->n[i].name_len) & (cap - 1);

		while (t->idx[j] >= 0)
			j = (j + 1) & (cap - 1);
		t->idx[j] = i;
	}
}

/* The child of parent named name, created when missing. */
static int
tree_child(struct tree *t, int parent, const char *name, size_t len)
{
	size_t		j;
	struct node *c;

	if ((size_t) (t->len + 1) * 2 > t->idxcap)
		tree_reindex(t, t->idxcap ? t->idxcap * 2 : 256);
	j = node_hash(parent, name, len) & (t->idxcap - 1);
	while (t->idx[j] >= 0)
	{
		struct node *m = &t->n[t->idx[j]];

		if (m->parent == parent && m->name_len == len && memcmp(m->name, name, len) == 0)
			return t->idx[j];
		j = (j + 1) & (t->idxcap - 1);
	}
	if (t->len == t->cap)
	{
		t->cap *= 2;
		t->n = realloc(t->n, t->cap * sizeof(struct node));
		if (t->n == NULL)
		{
			pd_error("out of memory");
			abort();
		}
	}
	c = &t->n[t->len];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->name_len = len;
	c->parent = parent;
	c->first = -1;
	c->next = t->n[parent].first;
	c->depth = t->n[parent].depth + 1;
	t->n[parent].first = t->len;
	t->idx[j] = t->len;
	return t->len++;
}

/* Add one stack's samples along its path (count or scaled base). */
static void
tree_add(struct tree *t, const char *stack, uint64_t count, double base)
{
	int			cur = 0;
	const char *p = stack;

	t->n[0].count += count;
	t->n[0].base += base;
	for (;;)
	{
		const char *semi = strchr(p, ';');
		size_t		len = semi ? (size_t) (semi - p) : strlen(p);

		cur = tree_child(t, cur, p, len);
		t->n[cur].count += count;
		t->n[cur].base += base;
		if (semi == NULL)
			break;
		p = semi + 1;
	}
}

static int
name_cmp(const struct node *a, const struct node *b)
{
	size_t		n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int			c = memcmp(a->name, b->name, n);

	if (c != 0)
		return c;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int
child_cmp(const void *a, const void *b, void *arg)
{
	const struct tree *t = arg;

	return name_cmp(&t->n[*(const int *) a], &t->n[*(const int *) b]);
}

/*
 * tree_layout: give every node its x (in samples): children in name order,
 * left to right from their parent's x.  Iterative, so that very deep stacks
 * cannot exhaust the C stack.
 */
static void
tree_layout(struct tree *t)
{
	int		   *stack = pd_malloc((t->len + 1) * sizeof(int));
	int			sp = 0;
	int		   *kids = pd_malloc((t->len + 1) * sizeof(int));

	stack[sp++] = 0;
	t->n[0].x = 0;
	while (sp > 0)
	{
		int			v = stack[--sp];
		int			nk = 0;
		double		x = t->n[v].x;

		for (int c = t->n[v].first; c >= 0; c = t->n[c].next)
			kids[nk++] = c;
		qsort_r(kids, nk, sizeof(int), child_cmp, t);
		for (int i = 0; i < nk; i++)
		{
			t->n[kids[i]].x = x;
			x += (double) t->n[kids[i]].count;
			stack[sp++] = kids[i];
		}
	}
	free(kids);
	free(stack);
}

/* ------------------------------------------------------------- output */

/*
 * xml_escape: n bytes of s, with XML's specials escaped, control bytes and
 * malformed UTF-8 replaced by '?', so that the document stays well-formed
 * whatever a symbol or a statement holds.
 */
static void
xml_escape(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n;)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '&')
			fputs("&amp;", out);
		else if (c == '<')
			fputs("&lt;", out);
		else if (c == '>')
			fputs("&gt;", out);
		else if (c == '"')
			fputs("&quot;", out);
		else if (c == '\'')
			fputs("&apos;", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else if (c < 0x80)
			fputc(c, out);
		else
		{
			int			extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
				: (c & 0xF8) == 0xF0 ? 3 : -1;
			bool		valid = extra > 0 && i + extra < n;

			for (int k = 1; valid && k <= extra; k++)
				valid = ((unsigned char) s[i + k] & 0xC0) == 0x80;
			if (valid && extra == 1 && c < 0xC2)
				valid = false;
			if (!valid)
			{
				fputc('?', out);
				i++;
				continue;
			}
			fwrite(s + i, 1, extra + 1, out);
			i += extra + 1;
			continue;
		}
		i++;
	}
}

static void
xml_escape_str(FILE *out, const char *s)
{
	xml_escape(out, s, strlen(s));
}

/* A value in [0, 1) that depends only on the name: colour variation. */
static double
name_shade(const char *s, size_t n, int salt)
{
	uint64_t	h = node_hash(salt, s, n);

	return (double) ((h >> 11) & 0xFFFF) / 65536.0;
}

struct rgb
{
	int			r,
				g,
				b;
};

/* Colour ranges per module class: low and high of each channel. */
static const struct
{
	const char *legend;
	int			r0,
				r1,
				g0,
				g1,
				b0,
				b1;
}			kind_colour[] = {
	[PD_FRAME_MAIN] = {"postgres", 215, 255, 70, 170, 0, 50},
	[PD_FRAME_LIBC] = {"libc", 200, 235, 195, 230, 40, 90},
	[PD_FRAME_KERNEL] = {"kernel", 125, 160, 140, 165, 225, 250},
	[PD_FRAME_EXTENSION] = {"extension", 70, 120, 185, 225, 70, 110},
	[PD_FRAME_LIBRARY] = {"other library", 60, 100, 195, 225, 195, 225},
	[PD_FRAME_UNKNOWN] = {"unknown", 170, 195, 170, 195, 170, 195},
};

static struct rgb
colour_range(int r0, int r1, int g0, int g1, int b0, int b1, double v)
{
	struct rgb	c = {
		r0 + (int) ((r1 - r0) * v),
		g0 + (int) ((g1 - g0) * (1.0 - v)),
		b0 + (int) ((b1 - b0) * v)
	};

	return c;
}

/* Wait event types (pg_stat_activity.wait_event_type) and their colours. */
static const struct
{
	const char *type;
	struct rgb	c;
}			wait_colour[] = {
	{"CPU", {240, 130, 40}},
	{"Lock", {220, 60, 60}},
	{"LWLock", {215, 90, 170}},
	{"IO", {80, 130, 220}},
	{"Client", {90, 180, 90}},
	{"IPC", {70, 180, 180}},
	{"BufferPin", {170, 120, 60}},
	{"Timeout", {160, 160, 160}},
	{"Activity", {190, 190, 190}},
	{"Extension", {150, 170, 60}},
};

static struct rgb
node_colour(const struct tree *t, int v, const struct pd_svg_opts *o, double maxdelta)
{
	const struct node *nd = &t->n[v];
	double		sh = name_shade(nd->name, nd->name_len, 7);

	if (o->base != NULL)
	{
		double		d = (double) nd->count - nd->base;
		double		k = maxdelta > 0 ? fabs(d) / maxdelta : 0;
		int			fade = (int) (225 - 195 * (k > 1 ? 1 : k));
		struct rgb	c;

		if (d > 0.5)
			c = (struct rgb) {255, fade, fade};
		else if (d < -0.5)
			c = (struct rgb) {fade, fade, 255};
		else
			c = (struct rgb) {225, 225, 225};
		return c;
	}
	if (nd->depth == 0)
		return colour_range(165, 195, 140, 170, 215, 245, sh);	/* roots */
	if (o->palette == PD_PALETTE_WAITS)
	{
		int			a = v;

		while (t->n[a].depth > 1)
			a = t->n[a].parent;
		for (size_t i = 0; i < sizeof(wait_colour) / sizeof(wait_colour[0]); i++)
			if (strlen(wait_colour[i].type) == t->n[a].name_len &&
				memcmp(wait_colour[i].type, t->n[a].name, t->n[a].name_len) == 0)
			{
				struct rgb	c = wait_colour[i].c;
				int			j = (int) (sh * 30) - 15;

				c.r = c.r + j < 0 ? 0 : c.r + j > 255 ? 255 : c.r + j;
				c.g = c.g + j < 0 ? 0 : c.g + j > 255 ? 255 : c.g + j;
				c.b = c.b + j < 0 ? 0 : c.b + j > 255 ? 255 : c.b + j;
				return c;
			}
		return colour_range(170, 195, 170, 195, 170, 195, sh);
	}
	{
		pd_frame_kind k = pd_frame_classify(nd->name, nd->name_len);

		return colour_range(kind_colour[k].r0, kind_colour[k].r1,
							kind_colour[k].g0, kind_colour[k].g1,
							kind_colour[k].b0, kind_colour[k].b1, sh);
	}
}

/* The inline click-to-zoom script: no external resources. */
static const char zoom_script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"(function () {\n"
"  var svg = document.documentElement;\n"
"  var W = +svg.getAttribute('data-plot-width'), X0 = +svg.getAttribute('data-pad');\n"
"  var T = +svg.getAttribute('data-total');\n"
"  var gs = document.getElementsByClassName('f');\n"
"  function fit(name, w) {\n"
"    var n = Math.floor((w - 6) / 7.2);\n"
"    if (n < 3) return '';\n"
"    return name.length <= n ? name : name.substring(0, n - 2) + '..';\n"
"  }\n"
"  function zoom(z) {\n"
"    var zx = z ? +z.getAttribute('data-x') : 0, zw = z ? +z.getAttribute('data-w') : T;\n"
"    var zd = z ? +z.getAttribute('data-d') : -1;\n"
"    for (var i = 0; i < gs.length; i++) {\n"
"      var g = gs[i], x = +g.getAttribute('data-x'), w = +g.getAttribute('data-w');\n"
"      var d = +g.getAttribute('data-d');\n"
"      var r = g.getElementsByTagName('rect')[0], t = g.getElementsByTagName('text')[0];\n"
"      var below = d >= zd && x >= zx - 1e-9 && x + w <= zx + zw + 1e-9;\n"
"      var above = d < zd && x <= zx + 1e-9 && x + w >= zx + zw - 1e-9;\n"
"      if (!below && !above) { g.style.display = 'none'; continue; }\n"
"      g.style.display = '';\n"
"      var nx = above ? X0 : X0 + (x - zx) / zw * W, nw = above ? W : w / zw * W;\n"
"      g.style.opacity = above ? '0.6' : '';\n"
"      r.setAttribute('x', nx.toFixed(2)); r.setAttribute('width', nw.toFixed(2));\n"
"      t.setAttribute('x', (nx + 3).toFixed(2));\n"
"      t.textContent = fit(g.getElementsByTagName('title')[0].textContent.split('\\n')[0], nw);\n"
"    }\n"
"  }\n"
"  svg.addEventListener('click', function (e) {\n"
"    var n = e.target;\n"
"    while (n && n !== svg && !(n.getAttribute && n.getAttribute('class') === 'f')) n = n.parentNode;\n"
"    zoom(n && n !== svg ? n : null);\n"
"  });\n"
"})();\n"
"]]></script>\n";

bool
pd_flame_svg(FILE *out, const struct pd_folded *f, const struct pd_svg_opts *o,
			 size_t *nframes)
{
	struct tree t;
	int			width = o->width > 0 ? o->width : 1200;
	double		plot_w = width - 2 * PAD;
	double		min_w = o->min_width >= 0 ? o->min_width : 0.1;
	double		total;
	int			maxdepth = 0;
	double		maxdelta = 0;
	int			height;
	size_t		drawn = 0;
	size_t		narrow = 0;
	const char *unit = o->unit ? o->unit : "samples";
	int			legend_y = 58;

	memset(&t, 0, sizeof(t));
	t.cap = 1024;
	t.n = pd_calloc(t.cap, sizeof(struct node));
	t.len = 1;
	t.n[0].depth = -1;
	t.n[0].first = -1;
	t.n[0].next = -1;
	t.n[0].parent = -1;
	for (size_t i = 0; i < f->cap; i++)
		if (f->key[i] != NULL)
			tree_add(&t, f->key[i], f->count[i], 0);
	if (o->base != NULL && o->base->total > 0)
	{
		double		scale = (double) f->total / (double) o->base->total;

		for (size_t i = 0; i < o->base->cap; i++)
			if (o->base->key[i] != NULL)
				tree_add(&t, o->base->key[i], 0, o->base->count[i] * scale);
	}
	tree_layout(&t);
	total = (double) f->total;
	for (int i = 1; i < t.len; i++)
	{
		double		w = total > 0 ? t.n[i].count / total * plot_w : 0;

		if (t.n[i].count == 0)
			continue;
		if (w < min_w)
		{
			narrow++;
			continue;
		}
		if (t.n[i].depth > maxdepth)
			maxdepth = t.n[i].depth;
		if (fabs((double) t.n[i].count - t.n[i].base) > maxdelta)
			maxdelta = fabs((double) t.n[i].count - t.n[i].base);
	}
	height = HEAD_H + (maxdepth + 1) * FRAME_H + FOOT_H;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	fprintf(out, "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
			"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
			"data-plot-width=\"%.2f\" data-pad=\"%d\" data-total=\"%" PRIu64 "\">\n",
			width, height, width, height, plot_w, PAD, f->total);
	fprintf(out, "<style>text { font-family: monospace; font-size: 12px; fill: #000; } "
			".f:hover rect { stroke: #000; stroke-width: 0.5; } .f { cursor: pointer; }"
			"</style>\n");
	fputs(zoom_script, out);
	fprintf(out, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#f8f8f4\"/>\n",
			width, height);
	fprintf(out, "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" style=\"font-size: 17px\">",
			width / 2);
	xml_escape_str(out, o->title ? o->title : "Flame graph");
	fputs("</text>\n", out);
	fprintf(out, "<text x=\"%d\" y=\"42\" text-anchor=\"middle\">%" PRIu64 " %s",
			width / 2, f->total, unit);
	if (o->subtitle && o->subtitle[0])
	{
		fputs(", ", out);
		xml_escape_str(out, o->subtitle);
	}
	if (narrow > 0)
		fprintf(out, "; %zu frames narrower than %.1f px not drawn", narrow, min_w);
	fputs("</text>\n", out);

	/* legend */
	{
		int			x = PAD;

		if (o->base != NULL)
		{
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(255,60,60)\"/>"
					"<text x=\"%d\" y=\"%d\">more samples than the base</text>\n",
					x, legend_y - 9, x + 14, legend_y);
			x += 14 + 27 * 7 + 16;
			fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(60,60,255)\"/>"
					"<text x=\"%d\" y=\"%d\">fewer (base scaled to this run's total)</text>\n",
					x, legend_y - 9, x + 14, legend_y);
		}
		else if (o->palette == PD_PALETTE_WAITS)
		{
			for (size_t i = 0; i < sizeof(wait_colour) / sizeof(wait_colour[0]); i++)
			{
				fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(%d,%d,%d)\"/>"
						"<text x=\"%d\" y=\"%d\">%s</text>\n", x, legend_y - 9,
						wait_colour[i].c.r, wait_colour[i].c.g, wait_colour[i].c.b,
						x + 14, legend_y, wait_colour[i].type);
				x += 14 + (int) (strlen(wait_colour[i].type) * CHAR_W) + 14;
			}
		}
		else
		{
			for (size_t k = 0; k < sizeof(kind_colour) / sizeof(kind_colour[0]); k++)
			{
				struct rgb	c = colour_range(kind_colour[k].r0, kind_colour[k].r1,
											 kind_colour[k].g0, kind_colour[k].g1,
											 kind_colour[k].b0, kind_colour[k].b1, 0.5);

				fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"rgb(%d,%d,%d)\"/>"
						"<text x=\"%d\" y=\"%d\">%s</text>\n", x, legend_y - 9, c.r, c.g, c.b,
						x + 14, legend_y, kind_colour[k].legend);
				x += 14 + (int) (strlen(kind_colour[k].legend) * CHAR_W) + 14;
			}
		}
	}

	if (f->total == 0)
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no samples</text>\n",
				width / 2, HEAD_H + FRAME_H);

	for (int i = 1; i < t.len; i++)
	{
		const struct node *nd = &t.n[i];
		double		w = total > 0 ? nd->count / total * plot_w : 0;
		double		x = PAD + (total > 0 ? nd->x / total * plot_w : 0);
		double		y = height - FOOT_H - (nd->depth + 1) * FRAME_H;
		struct rgb	c;
		int			fitn;

		if (nd->count == 0 || w < min_w)
			continue;
		c = node_colour(&t, i, o, maxdelta);
		fprintf(out, "<g class=\"f\" data-x=\"%.0f\" data-w=\"%" PRIu64 "\" data-d=\"%d\"><title>",
				nd->x, nd->count, nd->depth);
		xml_escape(out, nd->name, nd->name_len);
		fprintf(out, "\n%" PRIu64 " %s (%.2f%%)", nd->count, unit, 100.0 * nd->count / total);
		if (o->base != NULL)
		{
			double		d = (double) nd->count - nd->base;

			fprintf(out, "\nbase: %.1f (scaled), change: %+.1f", nd->base, d);
			if (nd->base > 0)
				fprintf(out, " (%+.1f%%)", 100.0 * d / nd->base);
			else
				fputs(" (new)", out);
		}
		fprintf(out, "</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" "
				"rx=\"2\" fill=\"rgb(%d,%d,%d)\"/><text x=\"%.2f\" y=\"%.0f\">",
				x, y, w, FRAME_H - 1, c.r, c.g, c.b, x + 3, y + FRAME_H - 4.5);
		fitn = (int) ((w - 6) / CHAR_W);
		if (fitn >= 3)
		{
			if (nd->name_len <= (size_t) fitn)
				xml_escape(out, nd->name, nd->name_len);
			else
			{
				/* cut on a UTF-8 character boundary */
				size_t		cut = (size_t) fitn - 2;

				while (cut > 0 && ((unsigned char) nd->name[cut] & 0xC0) == 0x80)
					cut--;
				xml_escape(out, nd->name, cut);
				fputs("..", out);
			}
		}
		fputs("</text></g>\n", out);
		drawn++;
	}
	fprintf(out, "<text x=\"%d\" y=\"%d\" style=\"fill: #666\">Click a frame to zoom in, "
			"the background to zoom out.</text>\n", PAD, height - 8);
	fputs("</svg>\n", out);
	free(t.n);
	free(t.idx);
	if (nframes)
		*nframes = drawn;
	return !ferror(out);
}
