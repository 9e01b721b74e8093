/*
 * flamegraph.h
 *		Flame graphs without a server and without perf: collapsing the text
 *		of "perf script" into folded stacks, reading and writing the folded
 *		format, rendering a folded set (or the difference of two) as a
 *		self-contained SVG, and packing a folded set for a stored run.
 *
 * Owns: struct pd_folded (a set of "frame;frame;...;frame COUNT" stacks),
 * the frame naming rules (docs/flamegraph.md, "Frames"), the colours by
 * module and the SVG layout.
 *
 * Must not: run perf or talk to a server (profile.c runs perf, cmd_run.c
 * and cmd_flamegraph.c feed this file), or include libpq-fe.h.
 *
 * Memory: a struct pd_folded owns copies of its stacks; pd_folded_free()
 * releases them.  Nothing here keeps a pointer to a caller's buffer after
 * returning.
 */
#ifndef PERFDRIVER_FLAMEGRAPH_H
#define PERFDRIVER_FLAMEGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A set of collapsed stacks with their sample counts. */
struct pd_folded
{
	size_t		n;				/* distinct stacks */
	size_t		cap;			/* slots in the hash table (a power of 2) */
	char	  **key;			/* the stack, root first, ';'-separated */
	uint64_t   *count;
	uint64_t	total;			/* sum of the counts */
};

void		pd_folded_init(struct pd_folded *f);
void		pd_folded_free(struct pd_folded *f);

/* Add count samples of stack (copied; aborts on out-of-memory). */
void		pd_folded_add(struct pd_folded *f, const char *stack, uint64_t count);

/* Add every stack of src into dst. */
void		pd_folded_merge(struct pd_folded *dst, const struct pd_folded *src);

/*
 * pd_folded_write: the stacks one per line, "stack COUNT", sorted by stack
 * (byte order), as flamegraph.pl, inferno and speedscope read them.
 * Returns false when writing failed (errno set).
 */
bool		pd_folded_write(FILE *out, const struct pd_folded *f);

/* The same as one malloc'd string (caller frees); *len gets its length. */
char	   *pd_folded_text(const struct pd_folded *f, size_t *len);

/*
 * pd_folded_parse: read folded text (len bytes) into f.  Blank lines are
 * skipped; a line without a final count >= 0 is an error: returns false
 * with its line number in err.  Counts may carry a fraction (difffolded's
 * normalised output), which is rounded.
 */
bool		pd_folded_parse(struct pd_folded *f, const char *text, size_t len,
							char *err, size_t errlen);

/* pd_folded_load: pd_folded_parse() on a file; err names the file. */
bool		pd_folded_load(struct pd_folded *f, const char *path, char *err,
						   size_t errlen);

/*
 * A statement a backend was executing from start_ns to end_ns (both
 * CLOCK_MONOTONIC): the source of the synthetic per-statement root frames.
 * The server-side sampling of --observe produces these.
 */
struct pd_flame_span
{
	int			pid;
	int64_t		start_ns;
	int64_t		end_ns;			/* exclusive */
	const char *label;			/* the statement as shown; not copied */
};

/* What pd_collapse_perf() keeps. */
struct pd_collapse_opts
{
	const char *root;			/* root frame of every stack; NULL: the
								 * sample's command name */
	int64_t		from_ns;		/* keep samples with from_ns <= t < to_ns */
	int64_t		to_ns;			/* (CLOCK_MONOTONIC, perf record -k
								 * monotonic); 0 and 0: keep all */
	int			self_pid;		/* samples of this pid get self_root as */
	const char *self_root;		/* their root (the driver); 0: none */
	const struct pd_flame_span *spans;	/* sorted by pid, then start_ns */
	size_t		nspans;			/* a sample inside a span gets its label
								 * as the root, instead of root */
};

/* What pd_collapse_perf() saw. */
struct pd_collapse_stats
{
	uint64_t	records;		/* sample records read */
	uint64_t	kept;			/* added to the folded set */
	uint64_t	outside;		/* outside [from_ns, to_ns) */
	uint64_t	in_spans;		/* kept with a statement root */
	int			max_depth;		/* frames of the deepest kept stack */
};

/*
 * pd_collapse_perf: parse the output of "perf script" (the default fields,
 * or -F comm,pid,tid,time,ip,sym,dso) from in and add each sample's stack
 * to out, root first: the root frame, then the callers down to the sampled
 * function.  Records are separated by blank lines; a record is a header line
 * (command, pid[/tid], time) and one line per frame, leaf first.  Frame names
 * follow docs/flamegraph.md: the executable's functions as they are,
 * "module`function" for shared objects, "function_[k]" for the kernel,
 * "[module]" for an unknown symbol.  Lines that are neither are skipped.
 * Returns false only when reading failed (errno set).
 */
bool		pd_collapse_perf(FILE *in, const struct pd_collapse_opts *opts,
							 struct pd_folded *out, struct pd_collapse_stats *st);

/* The module class of a frame name, which decides its colour. */
typedef enum pd_frame_kind
{
	PD_FRAME_MAIN,				/* the profiled program: postgres */
	PD_FRAME_LIBC,				/* libc, libm, the dynamic loader */
	PD_FRAME_KERNEL,			/* name_[k] */
	PD_FRAME_EXTENSION,			/* a module named NAME.so */
	PD_FRAME_LIBRARY,			/* other shared libraries (libNAME.so.N) */
	PD_FRAME_UNKNOWN			/* [unknown] */
} pd_frame_kind;

pd_frame_kind pd_frame_classify(const char *frame, size_t len);

/* How pd_flame_svg() draws. */
typedef enum pd_flame_palette
{
	PD_PALETTE_MODULE,			/* by module (pd_frame_classify) */
	PD_PALETTE_WAITS			/* statement; wait_event_type; wait_event */
} pd_flame_palette;

struct pd_svg_opts
{
	const char *title;
	const char *subtitle;		/* NULL: none; the sample count is always shown */
	const char *unit;			/* "samples" (default) */
	int			width;			/* pixels; 0: 1200 */
	double		min_width;		/* frames narrower (pixels) are left out;
								 * < 0: 0.1 */
	pd_flame_palette palette;
	const struct pd_folded *base;	/* differential graph: the base run;
									 * NULL: an ordinary graph */
};

/*
 * pd_flame_svg: draw f as a flame graph: one <g> per frame with a <title>
 * (full name, samples, percentage), a <rect> sized by samples and a clipped
 * <text>; roots at the bottom.  With opts->base, widths are f's samples and
 * colours the change against base scaled to f's total (red: more, blue:
 * less), as difffolded with -n and flamegraph.pl draw it.  The document needs
 * no network: the click-to-zoom script is inline.  *nframes (when not NULL)
 * receives the number of frames drawn.  Returns false when writing failed.
 */
bool		pd_flame_svg(FILE *out, const struct pd_folded *f,
						 const struct pd_svg_opts *opts, size_t *nframes);

/*
 * pd_flame_pack: f's folded text compressed with zlib and encoded in
 * base64, as a malloc'd NUL-terminated string (caller frees); *raw_len gets
 * the uncompressed length.  NULL when zlib fails.
 */
char	   *pd_flame_pack(const struct pd_folded *f, size_t *raw_len);

/*
 * pd_flame_unpack: the reverse, into f.  Returns false with a message in
 * err when the text is not base64, not zlib, or not folded stacks.
 */
bool		pd_flame_unpack(const char *packed, struct pd_folded *f, char *err,
							size_t errlen);

#endif							/* PERFDRIVER_FLAMEGRAPH_H */
