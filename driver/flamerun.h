/*
 * flamerun.h
 *		--flamegraph in "perfdriver run": the whole life of one run's
 *		profile, from the check before the clock starts to the files and
 *		the report's "flamegraph" object.
 *
 * Owns: the --flamegraph, --flamegraph-hz and --flamegraph-self options'
 * meaning, the file names (FILE.svg, FILE.folded, FILE.waits.folded,
 * FILE.waits.svg), the one-line notice when profiling cannot run, and the
 * JSON object (docs/flamegraph.md, "In the report").
 *
 * Must not: fail the run.  Whatever goes wrong with perf becomes a notice
 * and a "unavailable" entry; the run and its report go on.
 *
 * Memory: pd_flame_run_begin() returns a struct that pd_flame_run_free()
 * releases with everything it holds (the profile, the folded sets, the
 * packed copies).
 */
#ifndef PERFDRIVER_FLAMERUN_H
#define PERFDRIVER_FLAMERUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "flamegraph.h"

struct pgconn;

/* The options, as parsed with the run's. */
struct pd_flame_opts
{
	const char *svg;			/* --flamegraph FILE.svg; NULL: off */
	int			hz;				/* --flamegraph-hz, default 99 */
	bool		self;			/* --flamegraph-self */
};

/*
 * One server-side sample of the run's timeline (--observe): at t_ns
 * (CLOCK_MONOTONIC) backend pid was running statement (its normalized
 * text; NULL: none the driver knows of) and waiting on wait: "CPU" when it
 * was not waiting, else "Type:event" as pg_stat_activity shows it
 * ("Lock:transactionid").  The strings are not copied.
 */
struct pd_flame_point
{
	int			pid;
	int64_t		t_ns;
	const char *statement;
	const char *wait;
};

struct pd_flame_run;

/*
 * pd_flame_run_begin: check that perf can sample the backends behind conns
 * (n connections, all up; server_local: they talk to a server on this host)
 * and start sampling them, ready when this returns.  Never NULL: when perf
 * cannot run, prints one warning line with the reason and the fix, and
 * returns a run whose profile is marked unavailable.
 */
struct pd_flame_run *pd_flame_run_begin(const struct pd_flame_opts *o,
										struct pgconn *const *conns, int n,
										bool server_local);

/*
 * pd_flame_run_note_conn: a connection was re-established during the run;
 * its backend is sampled from now on.  Any thread; does not block.
 */
void		pd_flame_run_note_conn(struct pd_flame_run *fr, const struct pgconn *conn);

/* For the main thread's poll(): readable when new backends wait; -1 none. */
int			pd_flame_run_fd(const struct pd_flame_run *fr);

/* Main thread: start sampling the backends noted since the last call. */
void		pd_flame_run_service(struct pd_flame_run *fr);

/*
 * pd_flame_run_end: stop sampling, keep the samples from from_ns to to_ns
 * (the measured window, CLOCK_MONOTONIC), and write FILE.folded and
 * FILE.svg.  With a timeline (--observe: npoints samples taken every
 * period_ns), a perf sample whose backend was running a known statement
 * gets the statement as its root frame (else "postgres"), and
 * FILE.waits.folded and FILE.waits.svg show statement;wait_event_type;
 * wait_event.  with_store keeps the folded stacks packed for the stored
 * report.  A failure prints one warning line and marks the profile
 * unavailable.
 */
void		pd_flame_run_end(struct pd_flame_run *fr, int64_t from_ns, int64_t to_ns,
							 const struct pd_flame_point *points, size_t npoints,
							 int64_t period_ns, bool with_store);

/*
 * pd_flame_spans: the statement spans of a timeline: each sample with a
 * statement stands for period_ns around it; consecutive samples of one
 * backend running the same statement merge.  Returns a malloc'd array
 * sorted by pid and start (caller frees), *n its length.
 */
struct pd_flame_span *pd_flame_spans(const struct pd_flame_point *points, size_t npoints,
									 int64_t period_ns, size_t *n);

/*
 * pd_flame_waits: the timeline as folded stacks statement;type;event (a
 * sample on CPU: statement;CPU), into w; samples without a statement are
 * under "[unknown]".
 */
void		pd_flame_waits(const struct pd_flame_point *points, size_t npoints,
						   struct pd_folded *w);

/* The line of the human report ("flame graph: ..."); nothing for NULL. */
void		pd_flame_run_print(FILE *out, const struct pd_flame_run *fr);

/*
 * pd_flame_run_json: the report's "flamegraph" value (an object; the
 * caller writes the key).  with_data adds the packed stacks (for --store).
 */
void		pd_flame_run_json(FILE *f, const struct pd_flame_run *fr, bool with_data);

void		pd_flame_run_free(struct pd_flame_run *fr);

#endif							/* PERFDRIVER_FLAMERUN_H */
