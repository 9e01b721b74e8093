/*
 * cmd_flamegraph.c
 *		"perfdriver flamegraph": draw a flame graph from folded stacks, a
 *		stored run's or a file's, or the differential graph of two.
 *
 * Owns: the command's options and where its two inputs come from (a run id
 * with --store, or a .folded file).
 *
 * Must not: include libpq-fe.h (store.c reads the store), or run perf.
 *
 * Memory: the folded sets and strings read here are freed before return.
 */
#include "driver.h"
#include "flamegraph.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void
flamegraph_usage(FILE *out)
{
	fprintf(out,
			"Usage: perfdriver flamegraph --store=CONNINFO [OPTION]... RUN_ID -o FILE.svg\n"
			"       perfdriver flamegraph [OPTION]... FILE.folded -o FILE.svg\n"
			"\n"
			"Draws a flame graph from folded stacks: those stored with a run by\n"
			"\"perfdriver run --flamegraph --store\", or a .folded file (perfdriver's,\n"
			"or any tool's that writes the collapsed format).  With --diff, draws\n"
			"the differential graph of two: widths are the candidate's samples,\n"
			"red where it spends more than the base, blue where less, the base\n"
			"scaled to the candidate's total (docs/flamegraph.md).\n"
			"\n"
			"Options:\n"
			"  -o, --output=FILE.svg  the SVG to write (\"-\" for stdout)\n"
			"  --store=CONNINFO       read runs from this perfstore database\n"
			"  --diff=BASE            the base of a differential graph: a run id with\n"
			"                         --store, else a .folded file\n"
			"  --waits                with --store: the run's wait-event graph (--observe)\n"
			"  --folded=FILE          also write the folded stacks that were read\n"
			"  --title=TEXT           the graph's title\n"
			"  --width=PIXELS         the graph's width (default 1200)\n"
			"  -h, --help             show this help, then exit\n"
			"\n"
			"Exit status: 0 ok; 2 usage error, unreadable or malformed input, a run\n"
			"not in the store, or a run stored without stacks.\n");
}

/* A run id: a positive integer. */
static bool
parse_run_id(const char *s, int64_t *id)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return false;
	*id = v;
	return true;
}

/*
 * load_run: the stacks stored with run id into f; *title gets a title
 * (caller frees).  Prints the error and returns false.
 */
static bool
load_run(struct pd_store *st, const char *arg, bool waits, struct pd_folded *f,
		 char **title)
{
	int64_t		id;
	char	   *packed;
	char	   *name;
	char	   *event;
	char		err[1024];
	bool		ok;

	if (!parse_run_id(arg, &id))
	{
		pd_error("invalid run id: \"%s\"", arg);
		pd_hint("A run id is the positive integer that \"perfdriver run --store\" printed.");
		return false;
	}
	if (!pd_store_flamegraph(st, id, waits ? "waits_folded" : "folded", &packed, &name,
							 &event, err, sizeof(err)))
	{
		pd_error("%s", err);
		return false;
	}
	ok = packed != NULL;
	if (!ok)
	{
		pd_error("run %lld has no %s stored", (long long) id,
				 waits ? "wait-event stacks" : "flame graph stacks");
		pd_hint("%s", waits ? "Store runs with --flamegraph and --observe."
				: "Store runs with --flamegraph FILE.svg and --store; profiling may also have been unavailable for that run.");
	}
	else if (!pd_flame_unpack(packed, f, err, sizeof(err)))
	{
		pd_error("run %lld: %s", (long long) id, err);
		ok = false;
	}
	if (ok && title != NULL)
	{
		size_t		n = strlen(name ? name : "") + 96;

		*title = pd_malloc(n);
		snprintf(*title, n, "%s: run %lld \"%s\"%s%s", waits ? "Wait events" : "Flame graph",
				 (long long) id, name ? name : "", event ? ", " : "", event ? event : "");
	}
	free(packed);
	free(name);
	free(event);
	return ok;
}

static bool
load_file(const char *path, struct pd_folded *f)
{
	char		err[1024];

	if (!pd_folded_load(f, path, err, sizeof(err)))
	{
		pd_error("%s", err);
		return false;
	}
	return true;
}

/*
 * cmd_flamegraph: the "flamegraph" subcommand.  Returns the exit code.
 */
int
cmd_flamegraph(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"store", required_argument, NULL, 1},
		{"diff", required_argument, NULL, 2},
		{"waits", no_argument, NULL, 3},
		{"folded", required_argument, NULL, 4},
		{"title", required_argument, NULL, 5},
		{"width", required_argument, NULL, 6},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	const char *output = NULL;
	const char *dsn = NULL;
	const char *diff = NULL;
	const char *folded_out = NULL;
	const char *title_opt = NULL;
	bool		waits = false;
	int			width = 0;
	int			c;
	struct pd_folded f;
	struct pd_folded base;
	char	   *title = NULL;
	int			rc = PD_EXIT_USAGE;
	struct pd_store *st = NULL;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'o':
				output = optarg;
				break;
			case 1:
				dsn = optarg;
				break;
			case 2:
				diff = optarg;
				break;
			case 3:
				waits = true;
				break;
			case 4:
				folded_out = optarg;
				break;
			case 5:
				title_opt = optarg;
				break;
			case 6:
				{
					char	   *end;
					long		v = strtol(optarg, &end, 10);

					if (*end != '\0' || v < 200 || v > 100000)
					{
						pd_error("invalid --width: \"%s\"", optarg);
						pd_hint("Give a number of pixels from 200 to 100000.");
						return PD_EXIT_USAGE;
					}
					width = (int) v;
				}
				break;
			case 'h':
				flamegraph_usage(stdout);
				return PD_EXIT_OK;
			case ':':
				pd_error("option \"%s\" needs a value", argv[optind - 1]);
				return PD_EXIT_USAGE;
			default:
				pd_error("unrecognized option \"%s\"", argv[optind - 1]);
				pd_hint("Try \"perfdriver flamegraph --help\" for more information.");
				return PD_EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
	{
		pd_error(optind >= argc ? "no input: give a run id with --store, or a .folded file"
				 : "too many inputs: \"%s\"", argv[argc - 1]);
		pd_hint("Try \"perfdriver flamegraph --help\" for more information.");
		return PD_EXIT_USAGE;
	}
	if (output == NULL)
	{
		pd_error("no output: give -o FILE.svg");
		return PD_EXIT_USAGE;
	}
	if (waits && dsn == NULL)
	{
		pd_error("--waits needs --store");
		pd_hint("Draw a .waits.folded file directly: perfdriver flamegraph FILE.waits.folded -o FILE.svg");
		return PD_EXIT_USAGE;
	}

	pd_folded_init(&f);
	pd_folded_init(&base);
	if (dsn != NULL)
	{
		char		err[1024];

		st = pd_store_connect(dsn, err, sizeof(err));
		if (st == NULL)
		{
			pd_error("could not connect to the store: %s", err);
			goto done;
		}
		if (!load_run(st, argv[optind], waits, &f, &title))
			goto done;
		if (diff != NULL && !load_run(st, diff, waits, &base, NULL))
			goto done;
	}
	else
	{
		if (!load_file(argv[optind], &f))
			goto done;
		if (diff != NULL && !load_file(diff, &base))
			goto done;
	}
	if (diff != NULL)
	{
		size_t		n = strlen(argv[optind]) + strlen(diff) + 64;

		free(title);
		title = pd_malloc(n);
		snprintf(title, n, "Differential flame graph: %s%s against %s%s",
				 dsn ? "run " : "", argv[optind], dsn ? "run " : "", diff);
	}

	if (folded_out != NULL)
	{
		FILE	   *fo = strcmp(folded_out, "-") == 0 ? stdout : fopen(folded_out, "w");

		if (fo == NULL || !pd_folded_write(fo, &f) || (fo != stdout && fclose(fo) != 0))
		{
			pd_error("could not write \"%s\": %s", folded_out, strerror(errno));
			goto done;
		}
	}
	{
		struct pd_svg_opts so = {
			.title = title_opt ? title_opt : title ? title : "Flame graph",
			.subtitle = diff ? "base scaled to this run's total" : NULL,
			.width = width,
			.min_width = -1,
			.palette = waits || (dsn == NULL && strlen(argv[optind]) >= 13 &&
								 strcmp(argv[optind] + strlen(argv[optind]) - 13,
										".waits.folded") == 0)
			? PD_PALETTE_WAITS : PD_PALETTE_MODULE,
			.base = diff ? &base : NULL,
		};
		FILE	   *out = strcmp(output, "-") == 0 ? stdout : fopen(output, "w");
		bool		ok = out != NULL && pd_flame_svg(out, &f, &so, NULL);

		if (out != NULL && out != stdout && fclose(out) != 0)
			ok = false;
		if (!ok)
		{
			pd_error("could not write \"%s\": %s", output, strerror(errno));
			goto done;
		}
	}
	rc = PD_EXIT_OK;

done:
	pd_store_close(st);
	pd_folded_free(&f);
	pd_folded_free(&base);
	free(title);
	return rc;
}
