/*
 * crash_campaign.c - the crash campaign's driver. Each cycle forks a child
 * that runs a random multi-threaded workload on a durable store (see
 * crash_workload.c) and reports every intended and acknowledged operation
 * over a pipe; after a random delay the parent SIGKILLs it, reopens the store
 * and checks it (crash_verify.c), then starts the next cycle on the same
 * store. Every 25th child is not killed: it stops after a fixed number of
 * operations and must exit cleanly. A process kill is not a power cut: the
 * kernel keeps what was written, so even a cycle run with nosync (one in
 * four) must keep every acknowledged commit.
 *
 * Usage: crash_campaign [--cycles N] [--seed S] [--dir D] [--threads T] [--max-delay-ms M] [--ops K]
 * A child lives a random time up to about what K operations take (100),
 * at most M ms (100).
 * ctest runs 210 cycles (202 kills); for a longer campaign pass a larger N,
 * e.g. (the store grows, so later cycles' checks take longer)
 *   crash_campaign --cycles 2000 --dir /tmp/crash-long
 * Without --seed the seed comes from the time and pid and is printed; kill
 * timing is not reproducible anyway, but the workload's choices are.
 * Without --dir a temporary store is used and removed after a clean run; a
 * failing run keeps its store and says where. Exit status: 0 clean, 1
 * problems found, 2 usage or setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"

#define PIPE_CHUNK (sizeof(cr_record) * 64)
#define CLEAN_EVERY 25   /* every 25th child is not killed but finishes */
#define CLEAN_OPS 40     /* operations per worker of such a child */

typedef struct options {
	long cycles;
	uint64_t seed;
	const char *dir;
	int threads;
	long max_delay_ms;
	long ops;
} options;

typedef struct totals {
	uint64_t early_kills;   /* killed before it acknowledged anything */
	double rate[2];         /* acknowledgements per ms of a child's life, [nosync] */
	uint64_t nosync_cycles;
	uint64_t spared;        /* children left to finish */
	uint64_t cycles;
	cr_stats last;
} totals;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The longest a child may live: long enough for about --ops operations at
 * the rate recent children managed (fsync latency varies a hundredfold
 * between disks, and unsynced commits are faster still), at most
 * --max-delay-ms. So the store, and each cycle's check, grows by about the
 * same amount on any machine. */
static long pick_max_ms(const options *o, const totals *t, int nosync)
{
	double rate = t->rate[nosync];
	if (rate <= 0)
		return o->max_delay_ms;
	double ms = (double)o->ops / rate;
	return ms < 1 ? 1 : ms > (double)o->max_delay_ms ? o->max_delay_ms : (long)ms;
}

static void learn_rate(totals *t, int nosync, uint64_t acks, int64_t delay_ns)
{
	if (delay_ns < 5000000)
		return; /* too short to say anything */
	double rate = (double)acks / ((double)delay_ns / 1e6);
	t->rate[nosync] = t->rate[nosync] > 0 ? 0.7 * t->rate[nosync] + 0.3 * rate : rate;
}

/* Most kills land anywhere in the workload; one in eight lands in the first
 * few milliseconds, while the child is still opening the store. */
static int64_t pick_delay_ns(uint64_t *rng, long max_ms)
{
	uint64_t r = cr_rand(rng);
	int64_t max = (int64_t)max_ms * 1000000;
	if (r % 8 == 0)
		return (int64_t)(cr_rand(rng) % 5000000);
	return (int64_t)(cr_rand(rng) % (uint64_t)(max > 0 ? max : 1));
}

/* Feeds whole records from the pipe into the ledger; returns 0 at EOF. */
static int drain(int fd, cr_ledger *lg, char *buf, size_t *have)
{
	ssize_t n = read(fd, buf + *have, PIPE_CHUNK - *have);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	*have += (size_t)n;
	size_t whole = *have / sizeof(cr_record) * sizeof(cr_record);
	for (size_t off = 0; off < whole; off += sizeof(cr_record)) {
		cr_record r;
		memcpy(&r, buf + off, sizeof r);
		if (r.magic == CR_MAGIC)
			cr_ledger_add(lg, &r);
	}
	memmove(buf, buf + whole, *have - whole);
	*have -= whole;
	return 1;
}

/* Reads the child's records until the deadline, kills it, reads the rest.
 * delay < 0: no kill, read until the child closes the pipe. */
static void watch_and_kill(pid_t pid, int fd, cr_ledger *lg, int64_t delay)
{
	static char buf[PIPE_CHUNK];
	size_t have = 0;
	int64_t deadline = now_ns() + delay;
	int live = 1;
	for (int64_t left = delay; live && left > 0; left = deadline - now_ns()) {
		struct pollfd p = { fd, POLLIN, 0 };
		int ms = (int)((left + 999999) / 1000000);
		if (poll(&p, 1, ms) > 0)
			live = drain(fd, lg, buf, &have);
	}
	if (delay >= 0)
		kill(pid, SIGKILL);
	while (live)
		live = drain(fd, lg, buf, &have);
}

/* The child must have died of our SIGKILL, or, if spared, exited 0. */
static int check_status(uint64_t cycle, int status, int spared)
{
	if (spared ? WIFEXITED(status) && WEXITSTATUS(status) == 0
	           : WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 0;
	fprintf(stderr, "crash_campaign: cycle %llu: the child %s (wait status %d)\n",
	        (unsigned long long)cycle, spared ? "did not finish cleanly" : "ended by itself", status);
	return 1;
}

/* One cycle's child; returns the number of problems. */
static int run_child(const options *o, uint64_t cycle, uint64_t *rng, cr_ledger *lg, totals *t)
{
	int fds[2], status;
	int spared = cycle % CLEAN_EVERY == 0;
	int nosync = cycle % 4 == 0;
	uint64_t child_seed = cr_rand(rng);
	int64_t delay = pick_delay_ns(rng, pick_max_ms(o, t, nosync));
	if (pipe(fds) != 0)
		return perror("crash_campaign: pipe"), 1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return perror("crash_campaign: fork"), 1;
	if (pid == 0) {
		close(fds[0]);
		cr_child_run(o->dir, cycle, child_seed, o->threads, nosync, spared ? CLEAN_OPS : 0, fds[1]);
	}
	close(fds[1]);
	uint64_t acks = lg->acks;
	watch_and_kill(pid, fds[0], lg, spared ? -1 : delay);
	close(fds[0]);
	waitpid(pid, &status, 0);
	int problems = (int)cr_ledger_commit(lg);
	t->early_kills += lg->acks == acks;
	if (!spared)
		learn_rate(t, nosync, lg->acks - acks, delay);
	t->nosync_cycles += nosync;
	t->spared += spared;
	t->cycles++;
	return problems + check_status(cycle, status, spared);
}

static int run_cycles(const options *o, cr_ledger *lg, totals *t)
{
	uint64_t rng = o->seed;
	for (long c = 1; c <= o->cycles; c++) {
		cr_stats st;
		int problems = run_child(o, (uint64_t)c, &rng, lg, t);
		problems += cr_verify(lg, o->dir, (uint64_t)c, &st);
		t->last = st;
		if (c % 100 == 0 && !problems) /* progress, for long campaigns */
			printf("crash_campaign: cycle %ld clean: %llu events, %llu snapshots\n", c,
			       (unsigned long long)st.events, (unsigned long long)st.snapshots);
		if (problems) {
			fprintf(stderr, "crash_campaign: cycle %ld of %ld failed with %d problems (seed %llu, "
			        "store kept at %s)\n", c, o->cycles, problems, (unsigned long long)o->seed, o->dir);
			return 1;
		}
	}
	return 0;
}

static void report(const cr_ledger *lg, const totals *t, int failed, double seconds)
{
	printf("crash_campaign: %s: %llu cycles (%llu killed, %llu left to finish) in %.1f s\n",
	       failed ? "FAILED" : "clean", (unsigned long long)t->cycles,
	       (unsigned long long)(t->cycles - t->spared), (unsigned long long)t->spared, seconds);
	printf("crash_campaign: %llu operations intended, %llu acknowledged; in the store %llu complete "
	       "(%llu of them never acknowledged), %llu absent; %llu events, %llu snapshots; %llu kills "
	       "before any acknowledgement; %llu cycles unsynced\n", (unsigned long long)lg->intents,
	       (unsigned long long)lg->acks, (unsigned long long)t->last.applied_ops,
	       (unsigned long long)t->last.applied_unacked, (unsigned long long)t->last.lost_unacked,
	       (unsigned long long)t->last.events, (unsigned long long)t->last.snapshots,
	       (unsigned long long)t->early_kills, (unsigned long long)t->nosync_cycles);
}

static void usage(void)
{
	fprintf(stderr, "usage: crash_campaign [--cycles N] [--seed S] [--dir DIR] [--threads T] "
	        "[--max-delay-ms M] [--ops K]\n");
	exit(2);
}

static void parse_options(options *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cycles", required_argument, NULL, 'c' }, { "seed", required_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' }, { "threads", required_argument, NULL, 't' },
		{ "max-delay-ms", required_argument, NULL, 'm' }, { "ops", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	*o = (options){ 200, (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid(), NULL, 4, 100, 100 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c') o->cycles = atol(optarg);
		else if (c == 's') o->seed = strtoull(optarg, NULL, 0);
		else if (c == 'd') o->dir = optarg;
		else if (c == 't') o->threads = atoi(optarg);
		else if (c == 'm') o->max_delay_ms = atol(optarg);
		else if (c == 'o') o->ops = atol(optarg);
		else usage();
	}
	if (optind < argc || o->cycles < 1 || o->threads < 1 || o->threads > 64 || o->max_delay_ms < 1 ||
	    o->ops < 1)
		usage();
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* The ledger must know every operation in the store: start from nothing. */
static char *prepare_dir(options *o)
{
	static char tmp[512];
	struct stat st;
	if (!o->dir) {
		const char *base = getenv("TMPDIR");
		snprintf(tmp, sizeof tmp, "%s/crash-campaign-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmp))
			return perror("crash_campaign: mkdtemp"), NULL;
		o->dir = tmp;
		return tmp;
	}
	if (stat(o->dir, &st) == 0) {
		fprintf(stderr, "crash_campaign: %s exists; give a new directory\n", o->dir);
		exit(2);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	options o;
	cr_ledger lg;
	totals t;
	memset(&lg, 0, sizeof lg);
	memset(&t, 0, sizeof t);
	parse_options(&o, argc, argv);
	char *tmp = prepare_dir(&o);
	printf("crash_campaign: %ld cycles, seed %llu, %d threads, store %s\n", o.cycles,
	       (unsigned long long)o.seed, o.threads, o.dir);
	if (cr_setup(&lg, o.dir, -1) != 0)
		return 2;
	int64_t start = now_ns();
	int failed = run_cycles(&o, &lg, &t);
	report(&lg, &t, failed, (double)(now_ns() - start) / 1e9);
	if (!failed && tmp)
		nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	cr_ledger_free(&lg);
	return failed;
}
