/*
 * affinity.c
 *		Binding worker threads to CPUs (see affinity.h for why).
 *
 * Owns: the CPU list syntax, the thread-to-CPU plan and the local-server
 * test.
 *
 * Must not: print, or change the placement of any thread but the caller.
 *
 * Memory: none.
 */
#define _GNU_SOURCE				/* CPU_SET, pthread_setaffinity_np */

#include "affinity.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* parse_cpu: a CPU number at *s, advancing *s; -1 when there is none. */
static long
parse_cpu(const char **s)
{
	char	   *end;
	long		v;

	if (!isdigit((unsigned char) **s))
		return -1;
	errno = 0;
	v = strtol(*s, &end, 10);
	if (errno != 0 || v >= CPU_SETSIZE)
		return -1;
	*s = end;
	return v;
}

bool
pd_affinity_parse(const char *arg, struct pd_affinity *a, char *err, size_t errlen)
{
	const char *s = arg;

	memset(a, 0, sizeof(*a));
	if (strcmp(arg, "auto") == 0)
	{
		a->mode = PD_AFFINITY_AUTO;
		return true;
	}
	if (strcmp(arg, "none") == 0)
	{
		a->mode = PD_AFFINITY_NONE;
		return true;
	}
	a->mode = PD_AFFINITY_LIST;
	for (;;)
	{
		long		lo = parse_cpu(&s);
		long		hi = lo;

		if (lo >= 0 && *s == '-')
		{
			s++;
			hi = parse_cpu(&s);
		}
		if (lo < 0 || hi < 0 || (*s != ',' && *s != '\0'))
		{
			snprintf(err, errlen, "invalid --cpu-affinity \"%s\": expected auto, none, "
					 "or CPU numbers below %d and ranges such as 0,2,4-7", arg, CPU_SETSIZE);
			return false;
		}
		if (hi < lo)
		{
			snprintf(err, errlen, "invalid --cpu-affinity \"%s\": range %ld-%ld is reversed",
					 arg, lo, hi);
			return false;
		}
		for (long c = lo; c <= hi; c++)
		{
			if (a->ncpus >= PD_AFFINITY_MAX_LIST)
			{
				snprintf(err, errlen, "invalid --cpu-affinity \"%s\": more than %d CPUs",
						 arg, PD_AFFINITY_MAX_LIST);
				return false;
			}
			a->cpus[a->ncpus++] = (int) c;
		}
		if (*s == '\0')
			return true;
		s++;
	}
}

/* allowed_list: the CPUs of set, ascending, into out; returns their count. */
static int
allowed_list(const cpu_set_t *set, int *out)
{
	int			n = 0;

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			out[n++] = c;
	return n;
}

bool
pd_affinity_plan(const struct pd_affinity *a, const cpu_set_t *allowed,
				 int current_cpu, int nthreads, int nclients,
				 int *cpu_out, char *err, size_t errlen)
{
	int			avail[CPU_SETSIZE];
	int			n = allowed_list(allowed, avail);
	int			start = 0;

	for (int i = 0; i < nthreads; i++)
		cpu_out[i] = -1;
	if (a->mode == PD_AFFINITY_NONE)
		return true;
	if (a->mode == PD_AFFINITY_LIST)
	{
		for (int i = 0; i < a->ncpus; i++)
		{
			if (!CPU_ISSET(a->cpus[i], allowed))
			{
				char		list[256];

				snprintf(err, errlen, "--cpu-affinity: CPU %d is not available to perfdriver "
						 "(it may use %s)", a->cpus[i],
						 n ? pd_affinity_describe(avail, n, list, sizeof(list)) : "none");
				return false;
			}
		}
		for (int i = 0; i < nthreads; i++)
			cpu_out[i] = a->cpus[i % a->ncpus];
		return true;
	}

	/*
	 * auto: one CPU each, starting at the caller's, when every CPU gets a
	 * thread or every thread has one connection (see affinity.h)
	 */
	for (int i = 0; i < n; i++)
		if (avail[i] == current_cpu)
			start = i;
	if (n == 0 || nthreads > n || (nthreads < n && nclients > nthreads))
		return true;
	for (int i = 0; i < nthreads; i++)
		cpu_out[i] = avail[(start + i) % n];
	return true;
}

bool
pd_affinity_bind(int cpu, char *err, size_t errlen)
{
	cpu_set_t	set;
	int			rc;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (rc != 0)
	{
		snprintf(err, errlen, "could not bind a thread to CPU %d: %s", cpu, strerror(rc));
		return false;
	}
	return true;
}

/* is_loopback: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address. */
static bool
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6)
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

bool
pd_socket_is_local(int fd)
{
	struct sockaddr_storage self;
	struct sockaddr_storage peer;
	socklen_t	selflen = sizeof(self);
	socklen_t	peerlen = sizeof(peer);

	if (fd < 0 ||
		getsockname(fd, (struct sockaddr *) &self, &selflen) != 0 ||
		getpeername(fd, (struct sockaddr *) &peer, &peerlen) != 0)
		return false;
	if (peer.ss_family == AF_UNIX)
		return true;
	if (is_loopback(&peer))
		return true;
	if (self.ss_family != peer.ss_family)
		return false;
	if (peer.ss_family == AF_INET)
		return ((struct sockaddr_in *) &self)->sin_addr.s_addr ==
			((struct sockaddr_in *) &peer)->sin_addr.s_addr;
	if (peer.ss_family == AF_INET6)
		return memcmp(&((struct sockaddr_in6 *) &self)->sin6_addr,
					  &((struct sockaddr_in6 *) &peer)->sin6_addr,
					  sizeof(struct in6_addr)) == 0;
	return false;
}

char *
pd_affinity_describe(const int *cpus, int n, char *buf, size_t size)
{
	size_t		off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
	{
		int			w;

		if (cpus[i] < 0)
			w = snprintf(buf + off, size - off, "%s-", i ? "," : "");
		else
			w = snprintf(buf + off, size - off, "%s%d", i ? "," : "", cpus[i]);
		if (w < 0 || (size_t) w >= size - off)
		{
			/* truncated: end with an ellipsis where it fits */
			if (size >= 4)
				strcpy(buf + size - 4, "...");
			break;
		}
		off += w;
	}
	return buf;
}
