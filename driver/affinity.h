/*
 * affinity.h
 *		Where perfdriver's worker threads run: --cpu-affinity.
 *
 * Owns: the parsing of --cpu-affinity (auto, none, or a CPU list such as
 * "0,2,4-7"), the plan that gives each worker thread a CPU, binding the
 * calling thread, and the test of whether a connection's server runs on
 * this host.
 *
 * Why: when the server runs on the same host, every statement is a wake-up
 * of the backend by its client thread and back.  A client thread that
 * stays on one CPU lets the kernel keep its backends on that CPU too, so
 * those wake-ups stay local; a thread that moves leaves them crossing CPUs,
 * which costs an interrupt each (an exit to the hypervisor on a virtual
 * machine).  "auto" therefore binds the threads one per CPU when the server
 * is local and either every CPU gets a thread or every thread drives a
 * single connection.  A thread that drives several connections while some
 * CPU has no thread is left free: it is the busiest task, and bound it
 * cannot move away from a CPU crowded with its backends (measured on
 * 2 CPUs: -c 16 -j 1 lost about 6% when bound, -c 16 -j 2 gained 11%).
 *
 * Must not: print (callers report) or touch libpq.
 *
 * Memory: none; callers pass arrays.
 */
#ifndef PERFDRIVER_AFFINITY_H
#define PERFDRIVER_AFFINITY_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#define PD_AFFINITY_MAX_LIST 1024

typedef enum pd_affinity_mode
{
	PD_AFFINITY_AUTO,			/* one CPU per thread when the server is local */
	PD_AFFINITY_NONE,			/* leave placement to the kernel */
	PD_AFFINITY_LIST			/* the listed CPUs, in turn */
} pd_affinity_mode;

struct pd_affinity
{
	pd_affinity_mode mode;
	int			ncpus;			/* PD_AFFINITY_LIST: entries in cpus */
	int			cpus[PD_AFFINITY_MAX_LIST];
};

/*
 * pd_affinity_parse: "auto", "none", or a list of CPU numbers and ranges
 * ("0,2,4-7"; order kept, repeats allowed).  False with a message in err
 * on anything else.
 */
bool		pd_affinity_parse(const char *arg, struct pd_affinity *a,
							  char *err, size_t errlen);

/*
 * pd_affinity_plan: the CPU of each of nthreads worker threads, which
 * drive nclients connections in all, in cpu_out (-1: not bound), given the
 * CPUs this process may use and the CPU the caller runs on (-1 when
 * unknown; "auto" starts there, so that drivers started side by side tend
 * to take different CPUs).  "auto" binds when nthreads equals the number
 * of allowed CPUs, or is below it with one connection per thread.  False
 * with a message in err when a listed CPU is not allowed.
 */
bool		pd_affinity_plan(const struct pd_affinity *a, const cpu_set_t *allowed,
							 int current_cpu, int nthreads, int nclients,
							 int *cpu_out, char *err, size_t errlen);

/* Bind the calling thread to cpu.  False with a message in err. */
bool		pd_affinity_bind(int cpu, char *err, size_t errlen);

/*
 * pd_socket_is_local: true when the connected socket fd talks to a server
 * on this host: a Unix-domain socket, or a TCP connection whose peer
 * address is one of this host's own (the local and peer addresses are
 * equal, as on loopback).  False when fd is not a connected socket.
 */
bool		pd_socket_is_local(int fd);

/*
 * pd_affinity_describe: "0,1" for the CPUs of n threads, "-" for a thread
 * not bound ("0,-").  Returns buf, truncated with "..." when too small.
 */
char	   *pd_affinity_describe(const int *cpus, int n, char *buf, size_t size);

#endif							/* PERFDRIVER_AFFINITY_H */
