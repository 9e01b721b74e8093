/*
 * flamerun.c
 *		One run's --flamegraph: check, start, follow reconnects, stop,
 *		write the files, and describe the result in the report.
 *
 * Owns: the file names derived from FILE.svg, the notice printed when perf
 * cannot run, and the "flamegraph" object of the JSON report.
 *
 * Must not: include libpq-fe.h (the backend PID comes through pgconn.h),
 * or end the run: every failure is a notice plus "unavailable" in the
 * report.
 *
 * Memory: struct pd_flame_run owns its strings, the profile (profile.c),
 * and the packed stacks; pd_flame_run_free() releases them.
 */
#include "flamerun.h"
#include "driver.h"
#include "pgconn.h"
#include "profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct pd_flame_run
{
	struct pd_flame_opts o;
	char	   *svg;
	char	   *folded;
	char	   *waits_svg;		/* NULL without --observe samples */
	char	   *waits_folded;
	char	   *unavailable;	/* reason and fix, NULL when profiled */
	char		note[256];
	struct pd_profile *prof;
	struct pd_profile_result res;
	bool		done;			/* pd_flame_run_end() wrote the files */
	uint64_t	wait_samples;
	char	   *packed;			/* with --store */
	size_t		packed_raw;
	char	   *waits_packed;
	size_t		waits_raw;
};

/* base + suffix, base being FILE.svg without ".svg" (or FILE as given). */
static char *
derived_name(const char *svg, const char *suffix)
{
	size_t		n = strlen(svg);
	char	   *s;

	if (n > 4 && strcmp(svg + n - 4, ".svg") == 0)
		n -= 4;
	s = pd_malloc(n + strlen(suffix) + 1);
	memcpy(s, svg, n);
	strcpy(s + n, suffix);
	return s;
}

static void
mark_unavailable(struct pd_flame_run *fr, const char *reason, const char *fix)
{
	size_t		n = strlen(reason) + (fix ? strlen(fix) : 0) + 16;

	free(fr->unavailable);
	fr->unavailable = pd_malloc(n);
	if (fix && fix[0])
		snprintf(fr->unavailable, n, "%s; to fix: %s", reason, fix);
	else
		snprintf(fr->unavailable, n, "%s", reason);
	pd_warning("no flame graph: %s", fr->unavailable);
}

struct pd_flame_run *
pd_flame_run_begin(const struct pd_flame_opts *o, struct pgconn *const *conns,
				   int n, bool server_local)
{
	struct pd_flame_run *fr = pd_calloc(1, sizeof(*fr));
	int		   *pids = pd_calloc(n + 1, sizeof(int));
	int			npids = 0;
	char		event[32];
	bool		system_wide;
	char		reason[700];
	char		fix[256];
	char		err[512];

	fr->o = *o;
	if (fr->o.hz <= 0)
		fr->o.hz = PD_PROFILE_HZ_DEFAULT;
	fr->svg = pd_strdup(o->svg);
	fr->folded = derived_name(o->svg, ".folded");
	for (int i = 0; i < n; i++)
		if (conns[i] != NULL && pgconn_backend_pid(conns[i]) > 0)
			pids[npids++] = pgconn_backend_pid(conns[i]);
	if (!server_local)
		mark_unavailable(fr, "the server is not on this host, and perf samples local "
						 "processes only", "run perfdriver on the database host");
	else if (npids == 0)
		mark_unavailable(fr, "no backend to sample", NULL);
	else if (!pd_profile_check(pids[0], fr->o.hz, event, sizeof(event), &system_wide,
							   fr->note, sizeof(fr->note), reason, sizeof(reason),
							   fix, sizeof(fix)))
		mark_unavailable(fr, reason, fix);
	else
	{
		fr->prof = pd_profile_start(event, fr->o.hz, o->self, system_wide, pids, npids,
									err, sizeof(err));
		if (fr->prof == NULL)
		{
			snprintf(reason, sizeof(reason), "perf record could not start: %s", err);
			mark_unavailable(fr, reason, "check that \"perf record -p PID\" works on a backend");
		}
	}
	free(pids);
	return fr;
}

void
pd_flame_run_note_conn(struct pd_flame_run *fr, const struct pgconn *conn)
{
	if (fr == NULL || fr->prof == NULL || conn == NULL)
		return;
	pd_profile_add_pid(fr->prof, pgconn_backend_pid(conn));
}

int
pd_flame_run_fd(const struct pd_flame_run *fr)
{
	return fr && fr->prof ? pd_profile_wake_fd(fr->prof) : -1;
}

void
pd_flame_run_service(struct pd_flame_run *fr)
{
	if (fr && fr->prof)
		pd_profile_service(fr->prof);
}

/* Write f as folded text to path and as an SVG to svg; false on failure. */
static bool
write_pair(const struct pd_folded *f, const char *path, const char *svg,
		   const struct pd_svg_opts *so, char *err, size_t errlen)
{
	FILE	   *out = fopen(path, "w");

	if (out == NULL || !pd_folded_write(out, f) || fclose(out) != 0)
	{
		snprintf(err, errlen, "could not write \"%s\": %s", path, strerror(errno));
		return false;
	}
	out = fopen(svg, "w");
	if (out == NULL || !pd_flame_svg(out, f, so, NULL) || fclose(out) != 0)
	{
		snprintf(err, errlen, "could not write \"%s\": %s", svg, strerror(errno));
		return false;
	}
	return true;
}

static int
point_cmp(const void *a, const void *b)
{
	const struct pd_flame_point *x = *(const struct pd_flame_point *const *) a;
	const struct pd_flame_point *y = *(const struct pd_flame_point *const *) b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

struct pd_flame_span *
pd_flame_spans(const struct pd_flame_point *points, size_t npoints, int64_t period_ns,
			   size_t *n)
{
	const struct pd_flame_point **order = pd_calloc(npoints + 1, sizeof(*order));
	struct pd_flame_span *spans = pd_calloc(npoints + 1, sizeof(*spans));
	int64_t		half = period_ns / 2;
	size_t		k = 0;

	for (size_t i = 0; i < npoints; i++)
		order[i] = &points[i];
	qsort(order, npoints, sizeof(*order), point_cmp);
	for (size_t i = 0; i < npoints; i++)
	{
		const struct pd_flame_point *p = order[i];
		struct pd_flame_span *prev = k > 0 ? &spans[k - 1] : NULL;
		int64_t		start = p->t_ns - half;

		if (p->statement == NULL)
			continue;
		if (prev != NULL && prev->pid == p->pid && start < prev->end_ns)
			start = prev->end_ns;	/* no overlap with the previous one */
		if (prev != NULL && prev->pid == p->pid && prev->end_ns >= start &&
			strcmp(prev->label, p->statement) == 0)
		{
			prev->end_ns = p->t_ns + half;
			continue;
		}
		spans[k].pid = p->pid;
		spans[k].start_ns = start;
		spans[k].end_ns = p->t_ns + half;
		spans[k].label = p->statement;
		k++;
	}
	free(order);
	*n = k;
	return spans;
}

void
pd_flame_waits(const struct pd_flame_point *points, size_t npoints, struct pd_folded *w)
{
	char	   *stack = NULL;
	size_t		cap = 0;

	for (size_t i = 0; i < npoints; i++)
	{
		const char *st = points[i].statement ? points[i].statement : "[unknown]";
		const char *wt = points[i].wait ? points[i].wait : "CPU";
		size_t		need = strlen(st) + strlen(wt) + 3;
		char	   *colon;

		if (need > cap)
		{
			cap = need * 2;
			free(stack);
			stack = pd_malloc(cap);
		}
		snprintf(stack, cap, "%s", st);
		for (char *p = stack; *p; p++)
			if (*p == ';' || *p == '\n' || *p == '\r' || *p == '\t')
				*p = *p == ';' ? ':' : ' ';
		strcat(stack, ";");
		colon = stack + strlen(stack);
		strcat(stack, wt);
		/* "Type:event" becomes two frames */
		colon = strchr(colon, ':');
		if (colon != NULL)
			*colon = ';';
		pd_folded_add(w, stack, 1);
	}
	free(stack);
}

void
pd_flame_run_end(struct pd_flame_run *fr, int64_t from_ns, int64_t to_ns,
				 const struct pd_flame_point *points, size_t npoints,
				 int64_t period_ns, bool with_store)
{
	struct pd_folded f;
	char		err[512];
	char		sub[600];
	struct pd_flame_span *spans = NULL;
	size_t		nspans = 0;

	if (fr == NULL || fr->prof == NULL)
		return;
	if (npoints > 0)
		spans = pd_flame_spans(points, npoints, period_ns, &nspans);
	pd_folded_init(&f);
	if (!pd_profile_stop(fr->prof, from_ns, to_ns, spans, nspans, &f, &fr->res,
						 err, sizeof(err)))
	{
		char		reason[600];

		snprintf(reason, sizeof(reason), "perf script could not read the samples: %s", err);
		mark_unavailable(fr, reason, NULL);
		pd_profile_free(fr->prof);
		fr->prof = NULL;
		pd_folded_free(&f);
		free(spans);
		return;
	}
	free(spans);
	pd_profile_free(fr->prof);
	fr->prof = NULL;
	if (fr->res.note[0] != '\0' && fr->note[0] == '\0')
		snprintf(fr->note, sizeof(fr->note), "%s", fr->res.note);
	snprintf(sub, sizeof(sub), "%s at %d Hz over %.3f s, %d backend%s%s%s%s",
			 fr->res.event, fr->res.hz, (to_ns - from_ns) / 1e9, fr->res.backends,
			 fr->res.backends == 1 ? "" : "s",
			 npoints > 0 ? ", statements as roots" : "",
			 fr->note[0] ? "; " : "", fr->note);
	{
		struct pd_svg_opts so = {
			.title = "perfdriver run: server CPU by stack",
			.subtitle = sub,
			.min_width = -1,
			.palette = PD_PALETTE_MODULE,
		};

		if (!write_pair(&f, fr->folded, fr->svg, &so, err, sizeof(err)))
		{
			mark_unavailable(fr, err, NULL);
			pd_folded_free(&f);
			return;
		}
	}
	if (with_store)
		fr->packed = pd_flame_pack(&f, &fr->packed_raw);
	pd_folded_free(&f);

	if (npoints > 0)
	{
		struct pd_folded w;
		struct pd_svg_opts so = {
			.title = "perfdriver run: statements by wait event",
			.subtitle = "server-side samples of pg_stat_activity (--observe)",
			.min_width = -1,
			.palette = PD_PALETTE_WAITS,
		};

		pd_folded_init(&w);
		pd_flame_waits(points, npoints, &w);
		fr->waits_folded = derived_name(fr->o.svg, ".waits.folded");
		fr->waits_svg = derived_name(fr->o.svg, ".waits.svg");
		fr->wait_samples = w.total;
		if (!write_pair(&w, fr->waits_folded, fr->waits_svg, &so, err, sizeof(err)))
		{
			pd_warning("no wait-event graph: %s", err);
			free(fr->waits_folded);
			free(fr->waits_svg);
			fr->waits_folded = fr->waits_svg = NULL;
		}
		else if (with_store)
			fr->waits_packed = pd_flame_pack(&w, &fr->waits_raw);
		pd_folded_free(&w);
	}
	fr->done = true;
}

void
pd_flame_run_print(FILE *out, const struct pd_flame_run *fr)
{
	if (fr == NULL)
		return;
	if (!fr->done)
	{
		fprintf(out, "flame graph: not drawn (%s)\n",
				fr->unavailable ? fr->unavailable : "the run ended before profiling");
		return;
	}
	fprintf(out, "flame graph: %s, %" PRIu64 " samples (%s at %d Hz, %d backend%s)%s%s\n",
			fr->svg, fr->res.samples, fr->res.event, fr->res.hz, fr->res.backends,
			fr->res.backends == 1 ? "" : "s", fr->note[0] ? "; " : "", fr->note);
	if (fr->res.samples == 0)
		fprintf(out, "  no samples: the window was shorter than one sample period "
				"(%.1f ms) or the backends were idle\n", 1000.0 / fr->res.hz);
	if (fr->waits_svg)
		fprintf(out, "wait-event graph: %s, %" PRIu64 " samples\n", fr->waits_svg,
				fr->wait_samples);
}

static void
json_str(FILE *f, const char *s)
{
	if (s == NULL)
	{
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
pd_flame_run_json(FILE *f, const struct pd_flame_run *fr, bool with_data)
{
	if (fr == NULL)
	{
		fputs("null", f);
		return;
	}
	fputs("{\"svg\": ", f);
	json_str(f, fr->done ? fr->svg : NULL);
	fputs(", \"folded_file\": ", f);
	json_str(f, fr->done ? fr->folded : NULL);
	fputs(", \"unavailable\": ", f);
	json_str(f, fr->done ? NULL : fr->unavailable ? fr->unavailable
			 : "the run ended before profiling");
	if (fr->done)
	{
		fputs(", \"event\": ", f);
		json_str(f, fr->res.event);
		fprintf(f, ", \"frequency_hz\": %d, \"samples\": %" PRIu64
				", \"samples_outside_window\": %" PRIu64 ", \"backends\": %d"
				", \"max_depth\": %d",
				fr->res.hz, fr->res.samples, fr->res.outside, fr->res.backends,
				fr->res.max_depth);
		fputs(", \"note\": ", f);
		json_str(f, fr->note[0] ? fr->note : NULL);
		fprintf(f, ", \"driver_sampled\": %s, \"sampling\": \"%s\"",
				fr->o.self ? "true" : "false",
				fr->res.system_wide ? "system-wide" : "per-process");
		if (fr->waits_svg)
		{
			fputs(", \"waits_svg\": ", f);
			json_str(f, fr->waits_svg);
			fputs(", \"waits_folded_file\": ", f);
			json_str(f, fr->waits_folded);
			fprintf(f, ", \"wait_samples\": %" PRIu64, fr->wait_samples);
		}
		if (with_data && fr->packed)
			fprintf(f, ",\n    \"folded\": {\"encoding\": \"zlib+base64\", \"length\": %zu, "
					"\"data\": \"%s\"}", fr->packed_raw, fr->packed);
		if (with_data && fr->waits_packed)
			fprintf(f, ",\n    \"waits_folded\": {\"encoding\": \"zlib+base64\", \"length\": %zu, "
					"\"data\": \"%s\"}", fr->waits_raw, fr->waits_packed);
	}
	fputc('}', f);
}

void
pd_flame_run_free(struct pd_flame_run *fr)
{
	if (fr == NULL)
		return;
	pd_profile_free(fr->prof);
	free(fr->svg);
	free(fr->folded);
	free(fr->waits_svg);
	free(fr->waits_folded);
	free(fr->unavailable);
	free(fr->packed);
	free(fr->waits_packed);
	free(fr);
}
