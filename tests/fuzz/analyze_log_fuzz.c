/*
 * analyze_log_fuzz.c
 *		libFuzzer target for "perfdriver analyze --log": the server log
 *		reader (driver/logparse.c) and the analysis on top of it
 *		(driver/cmd_analyze.c: sessions, statements, units, N+1 detection,
 *		the text and JSON reports).
 *
 * The first input byte picks the options: the log format (auto, csvlog or
 * stderr), a small or the default --unit-gap, and --nplus1-min-repeats 2
 * or the default; the rest is the log.  It is handed to cmd_analyze()
 * exactly as the command line would, through a memfd, with the report on
 * /dev/null and the JSON report to /dev/null.  Property besides the
 * sanitizers': content is never an error, so the exit status is 0 (or 1:
 * findings with --fail-on-findings); anything else aborts, which libFuzzer
 * reports as a crash with the input saved.
 *
 * Memory: cmd_analyze() frees what it allocates before returning, so
 * LeakSanitizer finds any leak.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "driver.h"

int			LLVMFuzzerInitialize(int *argc, char ***argv);
int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int			fd = open("/dev/null", O_WRONLY);

	(void) argc;
	(void) argv;
	/* the human report goes to stdout: keep libFuzzer's output readable */
	if (fd >= 0)
	{
		dup2(fd, STDOUT_FILENO);
		close(fd);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const formats[] = {NULL, "csvlog", "stderr"};
	char		path[64];
	char	   *argv[16];
	int			argc = 0;
	int			fd;
	int			rc;
	uint8_t		sel = size > 0 ? data[0] : 0;

	fd = memfd_create("analyze_log_fuzz", 0);
	if (fd < 0)
		return 0;
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t) (size - 1))
	{
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	argv[argc++] = "analyze";
	argv[argc++] = "--log";
	argv[argc++] = path;
	if (formats[sel % 3] != NULL)	/* else detected */
	{
		argv[argc++] = "--format";
		argv[argc++] = (char *) formats[sel % 3];
	}
	argv[argc++] = "--json";
	argv[argc++] = "/dev/null";
	if (sel & 4)
	{
		argv[argc++] = "--unit-gap";
		argv[argc++] = "1";
	}
	if (sel & 8)
	{
		argv[argc++] = "--nplus1-min-repeats";
		argv[argc++] = "2";
	}
	argv[argc++] = "--fail-on-findings";
	argv[argc] = NULL;
	rc = cmd_analyze(argc, argv);
	close(fd);
	if (rc != PD_EXIT_OK && rc != 1)
	{
		fprintf(stderr, "analyze_log_fuzz: property violated: exit status %d on log content\n", rc);
		abort();
	}
	return 0;
}
