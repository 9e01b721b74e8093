/*
 * profile.c
 *		perf record on the run's backends over the measured window, and
 *		perf script into folded stacks afterwards.
 *
 * Owns: the perf processes and their control pipes (perf record --control:
 * "enable" is written once the events should count and perf answers "ack"),
 * the temporary directory of perf.data files, and the permission checks
 * that turn perf's failure modes into one reason and one fix.
 *
 * Must not: print, exit, or block a worker thread.  Samples are stamped with
 * CLOCK_MONOTONIC (perf record -k monotonic), the driver's clock, so the
 * window is cut exactly afterwards, whatever perf's start-up took.
 *
 * Memory: struct pd_profile and its arrays are malloc'd; the PID queue is
 * the only state shared with worker threads, under its mutex.
 * pd_profile_free() releases everything and removes the directory.
 */
#define _GNU_SOURCE
#include "profile.h"
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long perf may take to start (ack) and to finish its file. */
#define PERF_START_TIMEOUT_MS 15000
#define PERF_STOP_TIMEOUT_MS  30000

struct perf_proc
{
	pid_t		pid;			/* perf record; 0 once reaped */
	int			ctl;			/* write end of its control pipe */
	int			ack;			/* read end of its ack pipe */
	bool		self;			/* samples the driver, not backends */
	char		data[64];		/* perf.data file name in dir */
};

struct pd_profile
{
	char		perf[4096];		/* the perf executable */
	char		dir[256];		/* temporary directory */
	char		event[32];
	int			hz;
	bool		system_wide;	/* one perf record -a, filtered by PID */
	int			self_pid;		/* --flamegraph-self, system-wide: 0 none */
	struct perf_proc procs[PD_PROFILE_MAX_PROCS];
	int			nprocs;
	int			dropped;		/* PIDs not sampled: too many processes */

	/* PIDs known (sampled or queued), for duplicates */
	int		   *known;
	int			nknown;
	int			capknown;

	/* the queue from the worker threads */
	pthread_mutex_t lock;
	int		   *queue;
	int			nqueue;
	int			capqueue;
	int			wake[2];
};

/* ---------------------------------------------------------- checking */

/* The perf executable on PATH into buf; false when there is none. */
static bool
find_perf(char *buf, size_t len)
{
	const char *path = getenv("PATH");
	const char *p;

	if (path == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	p = path;
	while (*p)
	{
		const char *colon = strchr(p, ':');
		size_t		n = colon ? (size_t) (colon - p) : strlen(p);

		if (n > 0 && n + 6 < len)
		{
			struct stat st;

			snprintf(buf, len, "%.*s/perf", (int) n, p);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
				return true;
		}
		if (colon == NULL)
			break;
		p = colon + 1;
	}
	return false;
}

static int
read_int_file(const char *path, int dflt)
{
	FILE	   *f = fopen(path, "r");
	int			v = dflt;

	if (f == NULL)
		return dflt;
	if (fscanf(f, "%d", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/*
 * Open a sampling event as perf record would, on pid (any CPU) or, with pid
 * -1, on CPU 0 (system-wide); returns errno or 0.
 */
static int
try_event(int pid, int hz, uint32_t type, uint64_t config, bool user_only)
{
	struct perf_event_attr a;
	long		fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.disabled = 1;
	a.freq = 1;
	a.sample_freq = (uint64_t) hz;
	a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
		PERF_SAMPLE_CALLCHAIN;
	a.exclude_kernel = user_only;
	a.exclude_hv = 1;
	fd = syscall(SYS_perf_event_open, &a, pid, pid < 0 ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return errno;
	close((int) fd);
	return 0;
}

/* The checks of pd_profile_check() on pid itself, before system-wide. */
static bool
check_pid(int pid, int hz, char *event, size_t evlen, char *note,
		  size_t notelen, char *reason, size_t rlen, char *fix, size_t fixlen);

bool
pd_profile_check(int pid, int hz, char *event, size_t evlen, bool *system_wide,
				 char *note, size_t notelen, char *reason, size_t rlen, char *fix,
				 size_t fixlen)
{
	*system_wide = false;
	if (!check_pid(pid, hz, event, evlen, note, notelen, reason, rlen, fix, fixlen))
		return false;
	if (strcmp(event, "cpu-clock:u") != 0)
		*system_wide = try_event(-1, hz, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
								 false) == 0;
	return true;
}

static bool
check_pid(int pid, int hz, char *event, size_t evlen, char *note,
		  size_t notelen, char *reason, size_t rlen, char *fix, size_t fixlen)
{
	char		perf[4096];
	char		procf[64];
	int			e;
	int			paranoid = read_int_file("/proc/sys/kernel/perf_event_paranoid", 2);
	bool		root = geteuid() == 0;

	note[0] = '\0';
	if (!find_perf(perf, sizeof(perf)))
	{
		snprintf(reason, rlen, "perf is not installed (not found on PATH)");
		snprintf(fix, fixlen, "apt-get install linux-perf");
		return false;
	}
	snprintf(procf, sizeof(procf), "/proc/%d", pid);
	if (access(procf, F_OK) != 0)
	{
		snprintf(reason, rlen, "backend PID %d is not a process on this host "
				 "(the server runs in another container or PID namespace)", pid);
		snprintf(fix, fixlen, "run perfdriver on the server's host, in its PID namespace");
		return false;
	}
	e = try_event(pid, hz, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false);
	if (e == 0)
	{
		snprintf(event, evlen, "cycles");
		return true;
	}
	e = try_event(pid, hz, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, false);
	if (e == 0)
	{
		snprintf(event, evlen, "cpu-clock");
		return true;
	}
	if ((e == EACCES || e == EPERM) &&
		try_event(pid, hz, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, true) == 0)
	{
		snprintf(event, evlen, "cpu-clock:u");
		snprintf(note, notelen, "kernel frames not sampled: kernel.perf_event_paranoid is %d "
				 "(sysctl kernel.perf_event_paranoid=1 samples them)", paranoid);
		return true;
	}
	switch (e)
	{
		case EACCES:
		case EPERM:
			if (!root && paranoid > 1)
			{
				snprintf(reason, rlen, "kernel.perf_event_paranoid is %d, which lets a user "
						 "other than root sample only its own processes", paranoid);
				snprintf(fix, fixlen, "sudo sysctl kernel.perf_event_paranoid=1 and run "
						 "perfdriver as the server's OS user, or run perfdriver as root");
			}
			else if (!root)
			{
				snprintf(reason, rlen, "the backends belong to another OS user, whom this "
						 "user may not trace");
				snprintf(fix, fixlen, "run perfdriver as root or as the server's OS user, or "
						 "grant it CAP_PERFMON and CAP_SYS_PTRACE");
			}
			else
			{
				snprintf(reason, rlen, "perf_event_open is not permitted here (%s), as in "
						 "a container without CAP_PERFMON", strerror(e));
				snprintf(fix, fixlen, "run the container with --cap-add PERFMON (or "
						 "SYS_ADMIN), or profile from the host");
			}
			return false;
		case ENOSYS:
			snprintf(reason, rlen, "this kernel offers no perf events (perf_event_open: %s), "
					 "or a container's seccomp filter hides them", strerror(e));
			snprintf(fix, fixlen, "enable CONFIG_PERF_EVENTS, or allow perf_event_open in "
					 "the container's seccomp profile");
			return false;
		case ESRCH:
			snprintf(reason, rlen, "backend PID %d exited before profiling began", pid);
			snprintf(fix, fixlen, "check the server log for crashed or terminated backends");
			return false;
		default:
			snprintf(reason, rlen, "perf_event_open on backend PID %d failed: %s", pid,
					 strerror(e));
			snprintf(fix, fixlen, "check that \"perf record -p %d\" works on this host", pid);
			return false;
	}
}

/* ------------------------------------------------------ the processes */

/* The first line of the file path that says something, into buf. */
static void
first_line(const char *path, char *buf, size_t len)
{
	FILE	   *f = fopen(path, "r");
	char		line[512];

	buf[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
	{
		size_t		n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (n == 0 || strspn(line, " \t") == n)
			continue;
		snprintf(buf, len, "%s", line + strspn(line, " \t"));
		break;
	}
	fclose(f);
}

/*
 * spawn: fork and exec argv (argv[0] the full path) with stdout to
 * /dev/null, stderr to errpath, keep_a and keep_b as descriptors 3 and 4
 * (when >= 0), and SIGINT from the terminal kept away (a process group of
 * its own: the driver decides when perf stops); it gets SIGTERM should the
 * driver die first.  Returns the child or -1.
 * Everything the child calls between fork and exec is async-signal-safe:
 * worker threads may hold locks.
 */
static pid_t
spawn(char *const argv[], const char *errpath, int keep_a, int keep_b,
	  int stdout_fd)
{
	pid_t		pid;
	pid_t		parent = getpid();
	sigset_t	none;

	sigemptyset(&none);
	pid = fork();
	if (pid != 0)
		return pid;
	/* the child */
	{
		int			devnull = open("/dev/null", O_RDWR);
		int			err = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		setpgid(0, 0);
		/* a perf -a left behind by a killed driver would record forever */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(stdout_fd >= 0 ? stdout_fd : devnull, 1);
		if (err >= 0)
			dup2(err, 2);
		if (keep_a >= 0)
		{
			int			a = fcntl(keep_a, F_DUPFD, 10);
			int			b = keep_b >= 0 ? fcntl(keep_b, F_DUPFD, 10) : -1;

			dup2(a, 3);
			if (b >= 0)
				dup2(b, 4);
		}
		syscall(SYS_close_range, keep_a >= 0 ? (keep_b >= 0 ? 5 : 4) : 3, ~0U, 0);
		execv(argv[0], argv);
		_exit(127);
	}
}

/*
 * start_perf: perf record on pids (a comma list; NULL: every CPU, -a) into
 * procs[nprocs].  With
 * wait, waits for perf's ack of "enable" (the events count from then on).
 * Returns false with perf's complaint in err.
 */
static bool
start_perf(struct pd_profile *p, const char *pids, bool self, bool wait,
		   char *err, size_t errlen)
{
	struct perf_proc *pp = &p->procs[p->nprocs];
	int			ctl[2];
	int			ack[2];
	char		hz[16];
	char		data[512];
	char		errpath[512];
	char	   *argv[24];
	int			a = 0;

	snprintf(pp->data, sizeof(pp->data), "perf-%d.data", p->nprocs);
	snprintf(data, sizeof(data), "%s/%s", p->dir, pp->data);
	snprintf(errpath, sizeof(errpath), "%s/perf-%d.err", p->dir, p->nprocs);
	snprintf(hz, sizeof(hz), "%d", p->hz);
	if (pipe2(ctl, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "could not create a pipe: %s", strerror(errno));
		return false;
	}
	if (pipe2(ack, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "could not create a pipe: %s", strerror(errno));
		close(ctl[0]);
		close(ctl[1]);
		return false;
	}
	argv[a++] = p->perf;
	argv[a++] = "record";
	argv[a++] = "--quiet";
	argv[a++] = "-g";
	argv[a++] = "-F";
	argv[a++] = hz;
	argv[a++] = "-e";
	argv[a++] = p->event;
	argv[a++] = "-k";
	argv[a++] = "monotonic";
	argv[a++] = "-D";
	argv[a++] = "-1";
	argv[a++] = "--control";
	argv[a++] = "fd:3,4";
	if (pids != NULL)
	{
		argv[a++] = "-p";
		argv[a++] = (char *) pids;
	}
	else
		argv[a++] = "-a";
	argv[a++] = "-o";
	argv[a++] = data;
	argv[a] = NULL;
	pp->pid = spawn(argv, errpath, ctl[0], ack[1], -1);
	close(ctl[0]);
	close(ack[1]);
	if (pp->pid < 0)
	{
		snprintf(err, errlen, "could not start perf: %s", strerror(errno));
		close(ctl[1]);
		close(ack[0]);
		return false;
	}
	pp->ctl = ctl[1];
	pp->ack = ack[0];
	pp->self = self;
	p->nprocs++;
	if (write(pp->ctl, "enable\n", 7) != 7)
	{
		/* perf is gone already: found by the wait below, or at the end */
	}
	if (!wait)
		return true;
	{
		struct pollfd pfd = {pp->ack, POLLIN, 0};
		char		buf[16];
		int			rc;

		do
			rc = poll(&pfd, 1, PERF_START_TIMEOUT_MS);
		while (rc < 0 && errno == EINTR);
		if (rc > 0 && read(pp->ack, buf, sizeof(buf)) > 0 && strncmp(buf, "ack", 3) == 0)
			return true;
		/* perf exited (the pipe closed) or hangs */
		kill(pp->pid, rc == 0 ? SIGKILL : SIGINT);
		waitpid(pp->pid, NULL, 0);
		pp->pid = 0;
		first_line(errpath, err, errlen);
		if (err[0] == '\0')
			snprintf(err, errlen, rc == 0 ? "perf record did not start within %d s"
					 : "perf record exited at once", PERF_START_TIMEOUT_MS / 1000);
		return false;
	}
}

static void
pidlist(const int *pids, int n, char *buf, size_t len)
{
	size_t		o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o + 16 < len; i++)
		o += snprintf(buf + o, len - o, "%s%d", i ? "," : "", pids[i]);
}

static bool
known_add(struct pd_profile *p, int pid)
{
	for (int i = 0; i < p->nknown; i++)
		if (p->known[i] == pid)
			return false;
	if (p->nknown == p->capknown)
	{
		p->capknown = p->capknown ? 2 * p->capknown : 64;
		p->known = realloc(p->known, p->capknown * sizeof(int));
		if (p->known == NULL)
		{
			pd_error("out of memory");
			abort();
		}
	}
	p->known[p->nknown++] = pid;
	return true;
}

struct pd_profile *
pd_profile_start(const char *event, int hz, bool self, bool system_wide,
				 const int *pids, int npids, char *err, size_t errlen)
{
	struct pd_profile *p = pd_calloc(1, sizeof(*p));
	const char *tmp = getenv("TMPDIR");
	char	   *list;
	int		   *live = pd_calloc(npids + 1, sizeof(int));
	int			nlive = 0;

	pthread_mutex_init(&p->lock, NULL);
	p->wake[0] = p->wake[1] = -1;
	snprintf(p->event, sizeof(p->event), "%s", event);
	p->hz = hz;
	p->system_wide = system_wide;
	if (!find_perf(p->perf, sizeof(p->perf)))
	{
		snprintf(err, errlen, "perf is not installed (not found on PATH)");
		goto fail;
	}
	snprintf(p->dir, sizeof(p->dir), "%s/perfdriver-flame-XXXXXX",
			 tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(p->dir) == NULL)
	{
		snprintf(err, errlen, "could not create a directory for perf's files: %s",
				 strerror(errno));
		p->dir[0] = '\0';
		goto fail;
	}
	if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0)
	{
		snprintf(err, errlen, "could not create a pipe: %s", strerror(errno));
		goto fail;
	}
	/* a backend gone already would make perf refuse the whole list */
	for (int i = 0; i < npids; i++)
		if (kill(pids[i], 0) == 0 || errno == EPERM)
			if (known_add(p, pids[i]))
				live[nlive++] = pids[i];
	list = pd_malloc((size_t) nlive * 12 + 16);
	pidlist(live, nlive, list, (size_t) nlive * 12 + 16);
	free(live);
	live = NULL;
	if ((system_wide || nlive > 0) &&
		!start_perf(p, system_wide ? NULL : list, false, true, err, errlen))
	{
		free(list);
		goto fail;
	}
	free(list);
	if (self && system_wide)
		p->self_pid = (int) getpid();
	else if (self)
	{
		char		me[16];

		snprintf(me, sizeof(me), "%d", (int) getpid());
		if (!start_perf(p, me, true, true, err, errlen))
			goto fail;
	}
	return p;

fail:
	free(live);
	pd_profile_free(p);
	return NULL;
}

void
pd_profile_add_pid(struct pd_profile *p, int pid)
{
	char		b = 'p';

	if (p == NULL || pid <= 0)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->nqueue == p->capqueue)
	{
		int			cap = p->capqueue ? 2 * p->capqueue : 16;
		int		   *q = realloc(p->queue, cap * sizeof(int));

		if (q == NULL)
		{
			pthread_mutex_unlock(&p->lock);
			return;				/* not sampled; the run goes on */
		}
		p->queue = q;
		p->capqueue = cap;
	}
	p->queue[p->nqueue++] = pid;
	pthread_mutex_unlock(&p->lock);
	if (write(p->wake[1], &b, 1) < 0)
	{
		/* full: the main thread has been woken already */
	}
}

int
pd_profile_wake_fd(const struct pd_profile *p)
{
	return p ? p->wake[0] : -1;
}

/*
 * take_queue: the PIDs queued by the worker threads become known.  With
 * start (and not system-wide), one perf process starts on them; without,
 * per process they count as not sampled.
 */
static void
take_queue(struct pd_profile *p, bool start)
{
	char		buf[64];
	int		   *q;
	int			n;
	int			nnew = 0;
	char	   *list;
	char		err[256];

	while (read(p->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->lock);
	q = p->queue;
	n = p->nqueue;
	p->queue = NULL;
	p->nqueue = p->capqueue = 0;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < n; i++)
		if (known_add(p, q[i]))
			q[nnew++] = q[i];
	if (p->system_wide)
		nnew = 0;				/* sampled already: perf script keeps them */
	if (nnew > 0 && (!start || p->nprocs >= PD_PROFILE_MAX_PROCS))
		p->dropped += nnew;
	else if (nnew > 0)
	{
		list = pd_malloc((size_t) nnew * 12 + 16);
		pidlist(q, nnew, list, (size_t) nnew * 12 + 16);
		if (!start_perf(p, list, false, false, err, sizeof(err)))
			p->dropped += nnew;
		free(list);
	}
	free(q);
}

void
pd_profile_service(struct pd_profile *p)
{
	if (p != NULL)
		take_queue(p, true);
}

/* Wait for pid until deadline (ms of CLOCK_MONOTONIC); kill it after. */
static void
reap(pid_t pid, int timeout_ms)
{
	int64_t		deadline = pd_now_ns() + (int64_t) timeout_ms * 1000000;

	for (;;)
	{
		pid_t		r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		if (pd_now_ns() >= deadline)
		{
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return;
		}
		usleep(10000);
	}
}

/*
 * script_one: perf script on one data file (only the PIDs of pidfilter, a
 * comma list, when not NULL), collapsed into out.  Returns
 * false with perf's complaint in err when perf script failed and gave
 * nothing.
 */
static bool
script_one(struct pd_profile *p, struct perf_proc *pp, const char *pidfilter,
		   struct pd_collapse_opts *co, struct pd_folded *out,
		   struct pd_profile_result *res, char *err, size_t errlen)
{
	char		data[512];
	char		errpath[512];
	char	   *argv[16];
	int			a = 0;
	int			fds[2];
	pid_t		pid;
	FILE	   *in;
	struct pd_collapse_stats st;
	int			status = 0;
	struct stat sb;

	snprintf(data, sizeof(data), "%s/%s", p->dir, pp->data);
	snprintf(errpath, sizeof(errpath), "%s/%s.script.err", p->dir, pp->data);
	if (stat(data, &sb) != 0 || sb.st_size == 0)
		return true;			/* perf wrote nothing: no samples */
	argv[a++] = p->perf;
	argv[a++] = "script";
	argv[a++] = "-i";
	argv[a++] = data;
	argv[a++] = "-F";
	argv[a++] = "comm,pid,tid,time,ip,sym,dso";
	argv[a++] = "--ns";
	if (pidfilter != NULL)
	{
		argv[a++] = "--pid";
		argv[a++] = (char *) pidfilter;
	}
	argv[a] = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0)
	{
		snprintf(err, errlen, "could not create a pipe: %s", strerror(errno));
		return false;
	}
	pid = spawn(argv, errpath, -1, -1, fds[1]);
	close(fds[1]);
	if (pid < 0)
	{
		snprintf(err, errlen, "could not start perf script: %s", strerror(errno));
		close(fds[0]);
		return false;
	}
	in = fdopen(fds[0], "r");
	if (in == NULL)
	{
		close(fds[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	(void) pd_collapse_perf(in, co, out, &st);
	fclose(in);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	res->samples += st.kept;
	res->outside += st.outside;
	if (st.max_depth > res->max_depth)
		res->max_depth = st.max_depth;
	if (st.records == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
	{
		first_line(errpath, err, errlen);
		if (err[0] == '\0')
			snprintf(err, errlen, "perf script failed");
		return false;
	}
	return true;
}

bool
pd_profile_stop(struct pd_profile *p, int64_t from_ns, int64_t to_ns,
				const struct pd_flame_span *spans, size_t nspans,
				struct pd_folded *out, struct pd_profile_result *res,
				char *err, size_t errlen)
{
	bool		any_ok = false;
	char		first_err[256] = "";
	char	   *filter = NULL;

	/* backends that appeared since the main thread last looked */
	take_queue(p, false);
	memset(res, 0, sizeof(*res));
	snprintf(res->event, sizeof(res->event), "%s", p->event);
	res->hz = p->hz;
	res->system_wide = p->system_wide;
	res->processes = p->nprocs;
	res->backends = p->nknown - p->dropped;
	/* perf record writes its file when interrupted */
	for (int i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid > 0)
			kill(p->procs[i].pid, SIGINT);
	for (int i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid > 0)
		{
			reap(p->procs[i].pid, PERF_STOP_TIMEOUT_MS);
			p->procs[i].pid = 0;
		}
	if (p->system_wide)
	{
		size_t		len = (size_t) (p->nknown + 1) * 12 + 16;

		filter = pd_malloc(len);
		pidlist(p->known, p->nknown, filter, len);
		if (p->self_pid > 0)
			snprintf(filter + strlen(filter), len - strlen(filter), "%s%d",
					 p->nknown ? "," : "", p->self_pid);
	}
	for (int i = 0; i < p->nprocs; i++)
	{
		struct pd_collapse_opts co = {
			.root = p->procs[i].self ? "perfdriver" : "postgres",
			.self_pid = p->self_pid,
			.self_root = "perfdriver",
			.from_ns = from_ns,
			.to_ns = to_ns,
			.spans = p->procs[i].self ? NULL : spans,
			.nspans = p->procs[i].self ? 0 : nspans,
		};
		char		e[256];

		if (script_one(p, &p->procs[i], filter, &co, out, res, e, sizeof(e)))
			any_ok = true;
		else if (first_err[0] == '\0')
			snprintf(first_err, sizeof(first_err), "%s", e);
	}
	free(filter);
	if (p->dropped > 0)
		snprintf(res->note, sizeof(res->note), "%d backends that appeared after reconnects "
				 "were not sampled", p->dropped);
	if (!any_ok && p->nprocs > 0)
	{
		snprintf(err, errlen, "%s", first_err);
		return false;
	}
	return true;
}

void
pd_profile_free(struct pd_profile *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < p->nprocs; i++)
	{
		if (p->procs[i].pid > 0)
		{
			kill(p->procs[i].pid, SIGKILL);
			waitpid(p->procs[i].pid, NULL, 0);
		}
		close(p->procs[i].ctl);
		close(p->procs[i].ack);
	}
	if (p->dir[0] != '\0')
	{
		DIR		   *d = opendir(p->dir);
		struct dirent *de;

		while (d && (de = readdir(d)) != NULL)
		{
			char		path[600];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", p->dir, de->d_name);
			unlink(path);
		}
		if (d)
			closedir(d);
		rmdir(p->dir);
	}
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	pthread_mutex_destroy(&p->lock);
	free(p->queue);
	free(p->known);
	free(p);
}
