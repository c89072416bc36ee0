/*
 * pl_workload.c - the power-loss campaign's workloads, one process each, run
 * by pl_campaign under the write recorder (recorder.c). Every workload
 * starts from a store directory that does not exist yet, so its creation is
 * in every log, then creates the crash campaign's accounts and runs the
 * crash campaign's workload (tests/crash/crash_workload.c) with settings of
 * its own. Intents and acknowledgements are appended to the same log as the
 * writes (ES_PL_LOG), so a cut knows which commits were acknowledged.
 *
 * Usage: pl_workload KIND DIR SEED     (KIND: see workloads[] below)
 * Exit status 0 when every operation ran (refusals of the bank's rules and
 * lost conflict races are operations that ran).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"

typedef struct workload {
	const char *name;
	int procs;             /* processes appending at once after the setup */
	cr_workload_opts opts; /* dir, seed, fd and cycle filled in */
} workload;

static const workload workloads[] = {
	/* single appends and batches, one thread: each commit alone */
	{ "appends", 1, { .threads = 1, .ops = 40 } },
	/* bank commands only: transfers (two streams), deposits, withdrawals,
	 * enough of them that accounts cross their snapshot interval (100) */
	{ "snapshots", 1, { .threads = 1, .ops = 300, .commands_only = 1 } },
	/* four threads: their commits are group-committed */
	{ "group", 1, { .threads = 4, .ops = 25 } },
	/* a second process appends to the same store at the same time */
	{ "procs", 2, { .threads = 2, .ops = 20 } },
	/* a 256 KiB map and large events: the map doubles several times */
	{ "growth", 1, { .threads = 2, .ops = 25, .map_size = 256 << 10, .filler_min = 3000 } },
};

#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: pl_workload KIND DIR SEED\n");
		return 2;
	}
	const workload *w = NULL;
	for (size_t i = 0; i < N_WORKLOADS; i++)
		if (strcmp(workloads[i].name, argv[1]) == 0)
			w = &workloads[i];
	const char *log = getenv("ES_PL_LOG");
	if (!w || !log) {
		fprintf(stderr, "pl_workload: unknown workload '%s' or ES_PL_LOG unset\n", argv[1]);
		return 2;
	}
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(log);
		return 2;
	}
	if (cr_setup(NULL, argv[2], fd) != 0)
		return 1;
	uint64_t seed = strtoull(argv[3], NULL, 0);
	for (int p = 0; p < w->procs; p++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0) {
			cr_workload_opts o = w->opts;
			o.dir = argv[2];
			o.seed = seed + (uint64_t)p * 0x9e3779b97f4a7c15ull;
			o.fd = fd;
			o.cycle = (uint64_t)p + 1; /* op ids of the processes differ in their high part */
			cr_workload_run(&o);
		}
	}
	int ok = 1, status;
	while (wait(&status) > 0)
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok)
		fprintf(stderr, "pl_workload: a '%s' process failed\n", w->name);
	return ok ? 0 : 1;
}
