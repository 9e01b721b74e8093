/*
 * profile.h
 *		Sampling the server's backends (and optionally the driver) with
 *		Linux perf over the measured window of a run, for --flamegraph.
 *
 * Owns: the perf record processes, their temporary directory, the
 * check of whether perf can run here at all, and the choice of the sampled
 * event (hardware cycles where the CPU exposes them, else the cpu-clock
 * software event).  Where the kernel lets this process sample every CPU
 * (root, or kernel.perf_event_paranoid <= 0), one system-wide perf record
 * runs and perf script keeps the run's PIDs: a backend that appears after a
 * reconnect is sampled from its first instruction.  Elsewhere one perf
 * record follows the backends known at the start, one the driver itself
 * (--flamegraph-self), and one more each batch of backends that appear
 * after reconnects, from the moment it is attached.
 *
 * Must not: block a worker thread (pd_profile_add_pid() only queues), print
 * (callers report, with the reason and fix this module writes), or lose
 * the run's report: every failure here is a reason string, never an exit.
 *
 * Memory: pd_profile_start() allocates a struct pd_profile that
 * pd_profile_free() releases, after killing any perf still running and
 * removing the temporary directory with its perf.data files.
 */
#ifndef PERFDRIVER_PROFILE_H
#define PERFDRIVER_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flamegraph.h"

#define PD_PROFILE_HZ_DEFAULT 99

/* The most perf record processes of one run (the first two, then batches). */
#define PD_PROFILE_MAX_PROCS 64

struct pd_profile;

/* What the profile found, for the report. */
struct pd_profile_result
{
	char		event[32];		/* the sampled event: "cycles", "cpu-clock" */
	int			hz;
	bool		system_wide;	/* one perf on every CPU, filtered by PID */
	int			backends;		/* backend PIDs sampled */
	int			processes;		/* perf record processes run */
	uint64_t	samples;		/* kept: inside the measured window */
	uint64_t	outside;		/* dropped: before or after it */
	int			max_depth;
	char		note[256];		/* what is missing from the graph, or "" */
};

/*
 * pd_profile_check: can perf sample the process pid (a backend) from this
 * process?  Checks that perf is on PATH, that pid is a process on this host,
 * and opens a sampling event on it as perf would.  Returns true with the
 * event to record in event ("cycles", "cpu-clock", or "cpu-clock:u" when
 * only user space may be sampled, with the reason in note); false with a
 * one-line reason and its fix.  *system_wide is set when every CPU may be
 * sampled (see above).
 */
bool		pd_profile_check(int pid, int hz, char *event, size_t evlen,
							 bool *system_wide, char *note, size_t notelen,
							 char *reason, size_t rlen, char *fix, size_t fixlen);

/*
 * pd_profile_start: start sampling pids (the backends) at hz with call
 * graphs, plus this process when self, and wait until perf reports the
 * events enabled, so that sampling covers the window that starts next.
 * Returns NULL with perf's own complaint in err when it cannot start.
 */
struct pd_profile *pd_profile_start(const char *event, int hz, bool self,
									bool system_wide, const int *pids, int npids,
									char *err, size_t errlen);

/*
 * pd_profile_add_pid: a backend that appeared after a reconnect.  Safe from
 * any thread and does not block: the PID is queued for pd_profile_service().
 * A PID seen before is ignored.
 */
void		pd_profile_add_pid(struct pd_profile *p, int pid);

/* A descriptor that becomes readable when PIDs are queued (for poll()). */
int			pd_profile_wake_fd(const struct pd_profile *p);

/*
 * pd_profile_service: take the queued PIDs.  System-wide, they are only
 * added to those perf script keeps; else one perf process per call starts
 * sampling them, without waiting for it to be ready, so the first
 * milliseconds of a new backend may be missing.  Main thread only.
 */
void		pd_profile_service(struct pd_profile *p);

/*
 * pd_profile_stop: stop every perf process and collapse what they sampled
 * between from_ns and to_ns (CLOCK_MONOTONIC, the measured window) into out:
 * the backends under the root "postgres" (or a span's statement), the driver
 * under "perfdriver".  Fills res.  Returns false with a reason in err when
 * no sample could be read at all (perf script failed); an empty window is
 * not an error.
 */
bool		pd_profile_stop(struct pd_profile *p, int64_t from_ns, int64_t to_ns,
							const struct pd_flame_span *spans, size_t nspans,
							struct pd_folded *out, struct pd_profile_result *res,
							char *err, size_t errlen);

/* Kill what still runs, remove the temporary files, free; NULL allowed. */
void		pd_profile_free(struct pd_profile *p);

#endif							/* PERFDRIVER_PROFILE_H */
