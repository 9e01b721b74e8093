/*
 * cmd_report.c
 *		"perfdriver report": the HTML report of a stored run (optionally
 *		against a baseline) or of a JSON report file; and the rendering
 *		step that "perfdriver run --html" and "analyze --html" end with.
 *
 * Owns: the report command's options and exit codes, reading the documents
 * (from the store through store.c, or from files) into libjansson values,
 * and the flame graph files beside a --flamegraph SVG.
 *
 * Must not: include libpq-fe.h (store.c talks to the store), parse JSON by
 * hand (libjansson does), or print a password (the store is described
 * through pgconn_params_describe).
 *
 * Memory: everything allocated here is freed before returning.
 */
#include "driver.h"
#include "flamegraph.h"
#include "gate.h"
#include "html.h"
#include "html_page.h"
#include "pgconn.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ERRLEN 1024
/* Largest collapsed-stacks file embedded in a report. */
#define REPORT_MAX_FOLDED (64 << 20)

/*
 * pd_read_text_file: the whole of path as a NUL-terminated malloc'd string,
 * at most max bytes.  NULL with a message in err when it cannot be read.
 */
char *
pd_read_text_file(const char *path, size_t max, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *buf;
	size_t		len = 0,
				cap = 65536;

	if (f == NULL)
	{
		snprintf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	buf = pd_malloc(cap);
	for (;;)
	{
		size_t		got;

		if (len + 1 >= cap)
		{
			char	   *nb;

			cap *= 2;
			nb = realloc(buf, cap);
			if (nb == NULL)
			{
				free(buf);
				fclose(f);
				snprintf(err, errlen, "out of memory reading \"%s\"", path);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
		if (len > max)
		{
			snprintf(err, errlen, "\"%s\" is larger than %zu MB", path, max >> 20);
			free(buf);
			fclose(f);
			return NULL;
		}
		if (got == 0)
			break;
	}
	if (ferror(f))
	{
		snprintf(err, errlen, "could not read \"%s\": %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Parse a JSON document; NULL with "what: line L: reason" in err. */
static json_t *
parse_doc(const char *text, const char *what, char *err, size_t errlen)
{
	json_error_t je;
	json_t	   *doc = json_loads(text, 0, &je);

	if (doc == NULL)
	{
		snprintf(err, errlen, "%s is not valid JSON: line %d: %s", what, je.line, je.text);
		return NULL;
	}
	if (!json_is_object(doc))
	{
		snprintf(err, errlen, "%s is not a JSON object", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* A number, or JSON null for NaN. */
static json_t *
json_num_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * refresh_latency: set o's latency_ms from its latency_sketch.  The stored
 * report of a run group is its first driver's; the sketches are the whole
 * group's.
 */
static void
refresh_latency(json_t *o)
{
	struct sketch *s = html_jsketch(o);
	json_t	   *lat;
	sketch_error e;

	if (s == NULL)
		return;
	lat = json_object();
	json_object_set_new(lat, "p50", json_num_or_null(sketch_quantile(s, 0.50)));
	json_object_set_new(lat, "p95", json_num_or_null(sketch_quantile(s, 0.95)));
	json_object_set_new(lat, "p99", json_num_or_null(sketch_quantile(s, 0.99)));
	json_object_set_new(lat, "p999", json_num_or_null(sketch_quantile(s, 0.999)));
	json_object_set_new(lat, "max", json_num_or_null(s->count ? s->max : NAN));
	json_object_set_new(lat, "mean", json_num_or_null(s->count ? sketch_mean(s, &e) : NAN));
	json_object_set_new(o, "latency_ms", lat);
	free(s);
}

/* A stored run group's latencies, from the group's sketches. */
static void
refresh_group(json_t *doc)
{
	size_t		i;
	json_t	   *e;

	if (!(html_jnum(doc, "drivers") > 1))
		return;
	refresh_latency(doc);
	json_array_foreach(html_jarr(doc, "statements"), i, e)
		refresh_latency(e);
}

/* The folded files of a flame graph: FILE (or FILE.svg's FILE.folded). */
static void
read_folded(const char *path, char **folded, char **waits, char *err, size_t errlen)
{
	size_t		len = strlen(path);
	char	   *base = pd_malloc(len + 16);
	char	   *wpath = pd_malloc(len + 32);
	struct stat sb;

	*folded = NULL;
	*waits = NULL;
	memcpy(base, path, len + 1);
	if (len > 4 && strcmp(path + len - 4, ".svg") == 0)
		base[len - 4] = '\0';
	else if (len > 7 && strcmp(path + len - 7, ".folded") == 0)
		base[len - 7] = '\0';
	snprintf(wpath, len + 32, "%s.folded", base);
	*folded = pd_read_text_file(wpath, REPORT_MAX_FOLDED, err, errlen);
	snprintf(wpath, len + 32, "%s.waits.folded", base);
	if (stat(wpath, &sb) == 0)
	{
		char		e2[ERRLEN];

		*waits = pd_read_text_file(wpath, REPORT_MAX_FOLDED, e2, sizeof(e2));
	}
	free(base);
	free(wpath);
}

/*
 * stored_folded: the folded stacks a stored run keeps under
 * report->'flamegraph'->key (zlib+base64, docs/flamegraph.md), as text the
 * caller frees; NULL when there are none or they do not unpack (with a
 * warning: the report goes on without its flame graph).
 */
static char *
stored_folded(json_t *doc, const char *key)
{
	json_t	   *d = json_object_get(json_object_get(json_object_get(doc, "flamegraph"), key), "data");
	struct pd_folded f;
	char		e[ERRLEN];
	char	   *text = NULL;
	size_t		len;

	if (!json_is_string(d))
		return NULL;
	pd_folded_init(&f);
	if (pd_flame_unpack(json_string_value(d), &f, e, sizeof(e)))
		text = pd_folded_text(&f, &len);
	else
		pd_warning("the stored flame graph is left out of the report: %s", e);
	pd_folded_free(&f);
	return text;
}

int
pd_render_stored(const struct pd_render_opts *o)
{
	char		err[ERRLEN];
	char		label[512];
	struct pd_store *st;
	char	   *text = NULL;
	json_t	   *doc = NULL;
	json_t	  **base = NULL;
	int			nbase = 0;
	struct pd_cmp cmp;
	bool		have_cmp = false;
	char	   *folded = NULL,
			   *wfolded = NULL;
	int			rc = PD_EXIT_OK;

	st = pd_store_connect(o->dsn, err, sizeof(err));
	if (st == NULL)
	{
		char		desc[512];
		struct pgconn_params *p = pgconn_params_parse(o->dsn, desc, sizeof(desc));

		if (p == NULL)
			snprintf(desc, sizeof(desc), "the store");
		else
		{
			pgconn_params_describe(p, desc, sizeof(desc));
			pgconn_params_free(p);
		}
		pd_error("could not connect to the store %s: %s", desc, err);
		return PD_EXIT_USAGE;
	}
	if (!pd_store_fetch_run(st, o->run_id, &text, err, sizeof(err)) ||
		(doc = parse_doc(text, "the stored run", err, sizeof(err))) == NULL)
	{
		pd_error("could not read run %lld: %s", (long long) o->run_id, err);
		rc = PD_EXIT_USAGE;
		goto done;
	}
	free(text);
	text = NULL;
	refresh_group(doc);

	if (o->baseline_id > 0 || o->baseline_last > 0)
	{
		bool		has = true;

		if (o->baseline_last > 0 &&
			!pd_store_has_history(st, o->run_id, &has, err, sizeof(err)))
		{
			pd_error("could not find the baseline of run %lld: %s", (long long) o->run_id, err);
			rc = PD_EXIT_USAGE;
			goto done;
		}
		if (!has)
			pd_warning("no earlier run of the same name than run %lld; the report has no comparison",
					   (long long) o->run_id);
		else if (!pd_store_compare(st, o->baseline_id, o->baseline_last, o->run_id, 0, &o->policy,
								   &cmp, err, sizeof(err)))
		{
			pd_error("could not compare run %lld: %s", (long long) o->run_id, err);
			rc = PD_EXIT_USAGE;
			goto done;
		}
		else
		{
			have_cmp = true;
			pd_cmp_set_gate(&cmp, o->gate);
		}
	}
	/* the baseline runs themselves: those the comparison took */
	if (have_cmp)
	{
		int			n = cmp.base_ids ? cmp.nbase : 0;

		if (o->baseline_last > 0)
			snprintf(label, sizeof(label), "Baseline: the last %d run%s of the same name (%d found; "
					 "the charts show them merged)",
					 o->baseline_last, o->baseline_last == 1 ? "" : "s", n);
		else
			snprintf(label, sizeof(label), "Baseline: run %lld", (long long) o->baseline_id);
		base = pd_calloc(n, sizeof(json_t *));
		for (int i = 0; i < n; i++)
		{
			if (!pd_store_fetch_run(st, cmp.base_ids[i], &text, err, sizeof(err)) ||
				(base[nbase] = parse_doc(text, "the baseline run", err, sizeof(err))) == NULL)
			{
				pd_error("could not read baseline run %lld: %s", (long long) cmp.base_ids[i], err);
				rc = PD_EXIT_USAGE;
				goto done;
			}
			refresh_group(base[nbase]);
			nbase++;
			free(text);
			text = NULL;
		}
	}
	if (o->folded_path)
	{
		read_folded(o->folded_path, &folded, &wfolded, err, sizeof(err));
		if (folded == NULL)
			pd_warning("the flame graph is left out of the report: %s", err);
	}
	else
	{
		/* the stacks --flamegraph --store kept with the run */
		folded = stored_folded(doc, "folded");
		wfolded = stored_folded(doc, "waits_folded");
	}
	if (o->json)
	{
		if (json_dump_file(doc, strcmp(o->json, "-") == 0 ? "/dev/stdout" : o->json,
						   JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
		{
			pd_error("could not write \"%s\"", o->json);
			rc = PD_EXIT_USAGE;
		}
	}
	if (o->html)
	{
		struct html_run r = {
			.doc = doc, .run_id = o->run_id, .folded = folded, .waits_folded = wfolded,
			.baselines = base, .nbaselines = nbase, .baseline_label = have_cmp ? label : NULL,
			.cmp = have_cmp ? &cmp : NULL,
		};

		if (!html_write_run(o->html, &r, err, sizeof(err)))
		{
			pd_error("%s", err);
			rc = PD_EXIT_USAGE;
		}
	}

done:
	if (have_cmp)
		pd_cmp_free(&cmp);
	for (int i = 0; i < nbase; i++)
		json_decref(base[i]);
	free(base);
	json_decref(doc);
	free(text);
	free(folded);
	free(wfolded);
	pd_store_close(st);
	return rc;
}

bool
pd_render_document(const char *json_text, const char *what, const char *folded_path,
				   const char *html, char *err, size_t errlen)
{
	json_t	   *doc = parse_doc(json_text, what, err, errlen);
	char	   *folded = NULL,
			   *wfolded = NULL;
	bool		ok;

	if (doc == NULL)
		return false;
	if (folded_path)
	{
		char		e2[ERRLEN];

		read_folded(folded_path, &folded, &wfolded, e2, sizeof(e2));
		if (folded == NULL)
			pd_warning("the flame graph is left out of the report: %s", e2);
	}
	{
		struct html_run r = {.doc = doc, .folded = folded, .waits_folded = wfolded};

		ok = html_write_run(html, &r, err, errlen);
	}
	json_decref(doc);
	free(folded);
	free(wfolded);
	return ok;
}

static void
report_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver report --store=CONNINFO [OPTION]... RUN_ID --html=FILE\n"
			"       perfdriver report --input=FILE.json [OPTION]... --html=FILE\n"
			"\n"
			"Writes the HTML report of a stored run (an id of perfstore.bench_runs), or of\n"
			"a JSON report written by \"perfdriver run --json\": one self-contained file\n"
			"that works offline.  With --baseline, also the comparison and both runs'\n"
			"latencies overlaid.\n"
			"\n"
			"Options:\n"
			"  --store=CONNINFO        database holding the runs (name, conninfo or URI)\n"
			"  --input=FILE            a JSON report instead of a stored run\n"
			"  --baseline=RUN_ID|last:N  compare with a run, or with the last N runs of\n"
			"                          the same name (needs --store)\n"
			"  --threshold=LIST        smallest change that counts, in percent: one number\n"
			"                          or per metric (p95=10,tps=20), as for compare\n"
			"  --min-change=LATENCY    smallest latency change that counts (default 0.1ms)\n"
			"  --gate-scope=SCOPE      rows that count: run, statements or all (default)\n"
			"  --gate-metrics=LIST     metrics whose regressions count (default all)\n"
			"  --flamegraph=FILE       embed the flame graph of FILE.svg's collapsed stacks\n"
			"                          (FILE.folded, and FILE.waits.folded when present)\n"
			"  --html=FILE             the HTML report (\"-\" for stdout)\n"
			"  --json=FILE             the stored run's document, with its sketches\n"
			"\n"
			"Exit status: 0 written, 2 usage error, unknown run, unreachable store or\n"
			"unreadable or unwritable file.\n");
}

int
cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"store", required_argument, NULL, 1},
		{"input", required_argument, NULL, 2},
		{"baseline", required_argument, NULL, 3},
		{"threshold", required_argument, NULL, 4},
		{"gate-metrics", required_argument, NULL, 5},
		{"flamegraph", required_argument, NULL, 6},
		{"html", required_argument, NULL, 7},
		{"json", required_argument, NULL, 8},
		{"min-change", required_argument, NULL, 9},
		{"gate-scope", required_argument, NULL, 10},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	struct pd_render_opts o = {0};
	const char *input = NULL;
	int			ch,
				ignore;
	char		err[ERRLEN];

	pd_gate_policy_init(&o.policy);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
	{
		switch (ch)
		{
			case 1:
				o.dsn = optarg;
				break;
			case 2:
				input = optarg;
				break;
			case 3:
				if (!pd_parse_baseline(optarg, &o.baseline_id, &o.baseline_last))
				{
					pd_error("invalid --baseline: \"%s\"", optarg);
					pd_hint("Use a run id or last:N.");
					return PD_EXIT_USAGE;
				}
				break;
			case 4:
				if (!pd_parse_gate_option(&o.policy, "threshold", optarg))
					return PD_EXIT_USAGE;
				break;
			case 9:
				if (!pd_parse_gate_option(&o.policy, "min-change", optarg))
					return PD_EXIT_USAGE;
				break;
			case 10:
				if (!pd_parse_gate_option(&o.policy, "gate-scope", optarg))
					return PD_EXIT_USAGE;
				break;
			case 5:
				if (!pd_parse_gate_metrics(optarg, &o.gate))
				{
					pd_error("invalid --gate-metrics: \"%s\"", optarg);
					pd_hint("Use a comma-separated list of %s, or all.", PD_CMP_METRICS);
					return PD_EXIT_USAGE;
				}
				break;
			case 6:
				o.folded_path = optarg;
				break;
			case 7:
				o.html = optarg;
				break;
			case 8:
				o.json = optarg;
				break;
			case 'h':
				report_usage(stdout);
				return PD_EXIT_OK;
			default:
				pd_hint("Try \"perfdriver report --help\" for more information.");
				return PD_EXIT_USAGE;
		}
	}
	if ((o.dsn == NULL) == (input == NULL))
	{
		pd_error(o.dsn ? "report takes --store or --input, not both" : "report needs --store or --input");
		pd_hint("Try \"perfdriver report --help\" for more information.");
		return PD_EXIT_USAGE;
	}
	if (o.html == NULL && o.json == NULL)
	{
		pd_error("report needs --html (or --json) to say where to write");
		pd_hint("For example: perfdriver report --store=\"dbname=perf\" 42 --html=run42.html");
		return PD_EXIT_USAGE;
	}
	if (input != NULL)
	{
		char	   *text;
		bool		ok;

		if (optind != argc)
		{
			pd_error("report --input takes no run id");
			return PD_EXIT_USAGE;
		}
		if (o.baseline_id > 0 || o.baseline_last > 0)
		{
			pd_error("--baseline needs --store");
			pd_hint("The baseline is read from the store; give --store and the run's id.");
			return PD_EXIT_USAGE;
		}
		if (o.json != NULL)
		{
			pd_error("--json needs --store");
			return PD_EXIT_USAGE;
		}
		text = pd_read_text_file(input, (size_t) 1 << 30, err, sizeof(err));
		if (text == NULL)
		{
			pd_error("%s", err);
			return PD_EXIT_USAGE;
		}
		ok = pd_render_document(text, input, o.folded_path, o.html, err, sizeof(err));
		free(text);
		if (!ok)
		{
			pd_error("%s", err);
			return PD_EXIT_USAGE;
		}
		return PD_EXIT_OK;
	}
	if (argc - optind != 1)
	{
		pd_error("report --store takes one run id");
		pd_hint("Try \"perfdriver report --help\" for more information.");
		return PD_EXIT_USAGE;
	}
	if (!pd_parse_baseline(argv[optind], &o.run_id, &ignore) || o.run_id == 0)
	{
		pd_error("invalid run id: \"%s\"", argv[optind]);
		return PD_EXIT_USAGE;
	}
	return pd_render_stored(&o);
}
