/*
 * test_affinity.c
 *		Unit tests for driver/affinity.c: the --cpu-affinity syntax, the
 *		thread-to-CPU plan, binding, and the local-server test on real
 *		sockets.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "affinity.h"
#include "unit.h"

static struct pd_affinity aff;
static char err[256];

static void
check_list(const char *arg, const char *want)
{
	char		got[256];

	err[0] = '\0';
	CHECK(pd_affinity_parse(arg, &aff, err, sizeof(err)) && aff.mode == PD_AFFINITY_LIST,
		  "parse \"%s\": %s", arg, err);
	pd_affinity_describe(aff.cpus, aff.ncpus, got, sizeof(got));
	CHECK(strcmp(got, want) == 0, "parse \"%s\": got %s, want %s", arg, got, want);
}

static void
check_bad(const char *arg, const char *msg_part)
{
	err[0] = '\0';
	CHECK(!pd_affinity_parse(arg, &aff, err, sizeof(err)), "\"%s\" must be rejected", arg);
	CHECK(strstr(err, msg_part) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", arg, err,
		  msg_part);
}

/*
 * plan for nthreads threads driving nclients connections, with the given
 * allowed CPUs; the result as "a,b,..."
 */
static const char *
plan(const char *arg, const int *allowed, int nallowed, int current, int nthreads,
	 int nclients, bool *ok)
{
	static char out[256];
	cpu_set_t	set;
	int			cpus[64];

	CPU_ZERO(&set);
	for (int i = 0; i < nallowed; i++)
		CPU_SET(allowed[i], &set);
	pd_affinity_parse(arg, &aff, err, sizeof(err));
	err[0] = '\0';
	*ok = pd_affinity_plan(&aff, &set, current, nthreads, nclients, cpus, err, sizeof(err));
	return pd_affinity_describe(cpus, nthreads, out, sizeof(out));
}

static void
test_parse(void)
{
	CHECK(pd_affinity_parse("auto", &aff, err, sizeof(err)) && aff.mode == PD_AFFINITY_AUTO,
		  "auto");
	CHECK(pd_affinity_parse("none", &aff, err, sizeof(err)) && aff.mode == PD_AFFINITY_NONE,
		  "none");
	check_list("3", "3");
	check_list("0,2", "0,2");
	check_list("4-7", "4,5,6,7");
	check_list("5,0-1,5", "5,0,1,5");
	check_list("1023", "1023");

	check_bad("", "expected auto, none");
	check_bad("x", "expected auto, none");
	check_bad("1,", "expected auto, none");
	check_bad(",1", "expected auto, none");
	check_bad("1-", "expected auto, none");
	check_bad("-1", "expected auto, none");
	check_bad("1 ,2", "expected auto, none");
	check_bad("1024", "below 1024");
	check_bad("99999999999999999999", "expected auto, none");
	check_bad("3-1", "range 3-1 is reversed");
	check_bad("AUTO", "expected auto, none");
}

static void
test_plan(void)
{
	int			two[] = {0, 1};
	int			four[] = {2, 3, 6, 7};
	bool		ok;

	/* auto, a thread on every CPU: one CPU each, from the caller's on */
	CHECK_STR(plan("auto", two, 2, 0, 2, 16, &ok), "0,1");
	CHECK_STR(plan("auto", two, 2, 1, 2, 4, &ok), "1,0");
	CHECK_STR(plan("auto", four, 4, 6, 4, 8, &ok), "6,7,2,3");
	/* auto, fewer threads than CPUs: bound only with one connection each */
	CHECK_STR(plan("auto", two, 2, 1, 1, 1, &ok), "1");
	CHECK_STR(plan("auto", two, 2, 1, 1, 16, &ok), "-");
	CHECK_STR(plan("auto", four, 4, 6, 3, 3, &ok), "6,7,2");
	CHECK_STR(plan("auto", four, 4, 6, 3, 4, &ok), "-,-,-");
	/* caller's CPU unknown or not in the set: from the first */
	CHECK_STR(plan("auto", four, 4, -1, 2, 2, &ok), "2,3");
	CHECK_STR(plan("auto", four, 4, 0, 2, 2, &ok), "2,3");
	/* more threads than CPUs: none bound */
	CHECK_STR(plan("auto", two, 2, 0, 3, 3, &ok), "-,-,-");
	CHECK(ok, "auto never fails");
	/* no CPUs known (sched_getaffinity failed): none bound */
	CHECK_STR(plan("auto", two, 0, 0, 2, 2, &ok), "-,-");

	CHECK_STR(plan("none", two, 2, 0, 2, 2, &ok), "-,-");
	CHECK(ok, "none never fails");

	/* a list: in turn, repeating, whatever the connections */
	CHECK_STR(plan("1", two, 2, 0, 3, 30, &ok), "1,1,1");
	CHECK_STR(plan("6-7,2", four, 4, 0, 5, 5, &ok), "6,7,2,6,7");
	CHECK(ok, "listed CPUs allowed");
	plan("0,5", four, 4, 0, 2, 2, &ok);
	CHECK(!ok, "CPU 0 is not allowed");
	CHECK(strstr(err, "CPU 0 is not available") != NULL && strstr(err, "2,3,6,7") != NULL,
		  "message names the CPU and the allowed ones: %s", err);
}

static void
test_describe(void)
{
	int			many[300];
	char		small[16];
	char		buf[64];

	for (int i = 0; i < 300; i++)
		many[i] = i;
	pd_affinity_describe(many, 300, small, sizeof(small));
	CHECK(strlen(small) == sizeof(small) - 1 && strcmp(small + sizeof(small) - 4, "...") == 0,
		  "truncated with an ellipsis: %s", small);
	CHECK_STR(pd_affinity_describe(many, 0, buf, sizeof(buf)), "");
}

static void
test_bind(void)
{
	cpu_set_t	allowed;
	cpu_set_t	now;
	int			cpu = -1;

	CHECK(sched_getaffinity(0, sizeof(allowed), &allowed) == 0, "sched_getaffinity");
	for (int c = CPU_SETSIZE - 1; c >= 0; c--)
		if (CPU_ISSET(c, &allowed))
			cpu = c;
	CHECK(pd_affinity_bind(cpu, err, sizeof(err)), "bind to CPU %d: %s", cpu, err);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0 &&
		  CPU_COUNT(&now) == 1 && CPU_ISSET(cpu, &now), "thread now runs on CPU %d only", cpu);
	CHECK(sched_getcpu() == cpu, "running on CPU %d", cpu);

	/* a CPU beyond the machine's: an error with the reason, no change */
	CHECK(!pd_affinity_bind(CPU_SETSIZE - 1, err, sizeof(err)), "CPU %d must fail",
		  CPU_SETSIZE - 1);
	CHECK(strstr(err, "could not bind a thread to CPU 1023") != NULL, "message: %s", err);
	CHECK(pthread_getaffinity_np(pthread_self(), sizeof(now), &now) == 0 &&
		  CPU_ISSET(cpu, &now), "binding unchanged");
	sched_setaffinity(0, sizeof(allowed), &allowed);
}

static void
test_local(void)
{
	int			sv[2];
	int			pfd[2];
	int			lsn;
	int			cli;
	int			acc;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t	alen = sizeof(addr);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	CHECK(pd_socket_is_local(sv[0]), "a Unix-domain socket is local");
	close(sv[0]);
	close(sv[1]);

	/* TCP over loopback: local */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsn = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(lsn >= 0 && bind(lsn, (struct sockaddr *) &addr, sizeof(addr)) == 0 &&
		  listen(lsn, 1) == 0 &&
		  getsockname(lsn, (struct sockaddr *) &addr, &alen) == 0, "listen on loopback");
	cli = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(cli, (struct sockaddr *) &addr, sizeof(addr)) == 0, "connect");
	acc = accept(lsn, NULL, NULL);
	CHECK(pd_socket_is_local(cli), "a loopback TCP connection is local");
	CHECK(!pd_socket_is_local(lsn), "a listening socket has no peer");
	close(acc);
	close(cli);
	close(lsn);

	/* not a connected socket */
	cli = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!pd_socket_is_local(cli), "an unconnected socket");
	close(cli);
	CHECK(pipe(pfd) == 0, "pipe");
	CHECK(!pd_socket_is_local(pfd[0]), "a pipe is not a socket");
	close(pfd[0]);
	close(pfd[1]);
	CHECK(!pd_socket_is_local(-1), "no socket");
}

int
main(void)
{
	test_parse();
	test_plan();
	test_describe();
	test_bind();
	test_local();
	return UNIT_DONE("test_affinity");
}
