/*
 * pl_workload.c - the power-loss campaign's workloads, one process each, run
 * by pl_campaign under the write recorder (recorder.c). Every workload
 * starts from a store directory that does not exist yet, so its creation is
 * in every log, then creates the crash campaign's accounts and runs the
 * crash campaign's workload (tests/crash/crash_workload.c) with settings of
 * its own. Intents and acknowledgements are appended to the same log as the
 * writes (ES_PL_LOG), so a cut knows which commits were acknowledged; the
 * "readers" workload also notes each log head another process has read.
 *
 * Usage: pl_workload KIND DIR SEED     (KIND: see workloads[] below)
 * Exit status 0 when every operation ran (refusals of the bank's rules and
 * lost conflict races are operations that ran).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"
#include "pl_log.h"

typedef struct workload {
	const char *name;
	int procs;             /* processes appending at once after the setup */
	int reader;            /* and a process reading the log's head meanwhile */
	cr_workload_opts opts; /* dir, seed, fd and cycle filled in */
	int reboot;            /* then, as after a restart, a process that recovers the store */
} workload;

static const workload workloads[] = {
	/* single appends and batches, one thread: each commit alone */
	{ "appends", 1, 0, { .threads = 1, .ops = 40 }, 0 },
	/* bank commands only: transfers (two streams), deposits, withdrawals,
	 * enough of them that accounts cross their snapshot interval (100) */
	{ "snapshots", 1, 0, { .threads = 1, .ops = 450, .commands_only = 1 }, 0 },
	/* four threads: their commits are group-committed */
	{ "group", 1, 0, { .threads = 4, .ops = 25 }, 0 },
	/* a second process appends to the same store at the same time */
	{ "procs", 2, 0, { .threads = 2, .ops = 20 }, 0 },
	/* a 256 KiB map and large events: the map doubles at least twice (data.mdb passes 1 MiB) */
	{ "growth", 1, 0, { .threads = 2, .ops = 60, .map_size = 256 << 10, .filler_min = 3000 }, 0 },
	/* another process notes each log head it reads: a cut must keep it */
	{ "readers", 1, 1, { .threads = 3, .ops = 20 }, 0 },
	/* the bank's read models inline in every commit, and caught up too */
	{ "models", 1, 0, { .threads = 3, .ops = 30, .inline_models = 1 }, 0 },
	/* writers die with the journal ahead of the last checkpoint; a process
	 * on a restarted machine (another boot id) replays it and appends:
	 * cuts during that recovery, which must lose nothing either */
	{ "recovery", 1, 0, { .threads = 3, .ops = 30, .dies = 1 }, 1 },
};

#define N_WORKLOADS (sizeof workloads / sizeof workloads[0])

/* The reader: notes "seen <position>" (a PL_NOTE) each time the log's head
 * it reads has moved, until killed. A note is written after the read, so a
 * cut after it must keep that position: what a reader saw was durable. */
__attribute__((noreturn))
static void reader(const char *dir, int fd)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db;
	uint64_t seen = 0;
	o.read_only = 1;
	if (es_db_open(&db, dir, &o) != 0) {
		fprintf(stderr, "pl_workload: the reader cannot open '%s': %s\n", dir, es_error_last()->message);
		_exit(1);
	}
	for (;;) {
		es_read *rd;
		uint64_t head = 0;
		if (es_read_begin(&rd, db) != 0)
			_exit(1);
		es_log_head(&head, rd);
		es_read_end(rd);
		if (head > seen) {
			char buf[sizeof(pl_rec) + 32];
			pl_rec r;
			memset(&r, 0, sizeof r);
			r.magic = PL_MAGIC;
			r.kind = PL_NOTE;
			r.len = (uint64_t)snprintf(buf + sizeof r, 32, "seen %llu", (unsigned long long)head);
			r.pid = (uint32_t)getpid();
			memcpy(buf, &r, sizeof r);
			if (write(fd, buf, sizeof r + r.len) != (ssize_t)(sizeof r + r.len))
				_exit(1);
			seen = head;
		}
	}
}

/* The "recovery" workload's second part: a process that opens the store as
 * after a restart (its open replays the journal), appends, and closes. */
static int recover_after_reboot(const char *dir, uint64_t seed, int fd)
{
	int status;
	pid_t pid = fork();
	if (pid == 0) {
		cr_workload_opts o = { .dir = dir, .seed = seed ^ 0x5eed, .fd = fd, .cycle = 9, .threads = 1,
		                       .ops = 10 };
		setenv("EVSTORE_BOOT_ID", "pl-rebooted", 1);
		cr_workload_run(&o);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

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
	int writers = w->procs;
	uint64_t seed = strtoull(argv[3], NULL, 0);
	pid_t reader_pid = -1;
	if (w->reader && (reader_pid = fork()) == 0)
		reader(argv[2], fd);
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
	pid_t pid;
	while ((pid = wait(&status)) > 0) {
		if (pid == reader_pid) {
			ok &= WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
			continue;
		}
		ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (reader_pid > 0 && --writers == 0)
			kill(reader_pid, SIGTERM); /* the writers are done */
	}
	if (ok && w->reboot)
		ok = recover_after_reboot(argv[2], seed, fd);
	if (!ok)
		fprintf(stderr, "pl_workload: a '%s' process failed\n", w->name);
	return ok ? 0 : 1;
}
