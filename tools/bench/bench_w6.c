/*
 * bench_w6.c - W6's shared parts: the event shape of its store (one event
 * in ten of the rare type a selective filter asks for) and the wake-up
 * driver, which times commit-to-delivery for a listener in another thread
 * and in another process, whatever the backend's way of waiting.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

const char *bench_w6_type(size_t i)
{
	return i % 10 == 9 ? BENCH_W6_RARE : "Common";
}

/* What a listener shares with the writer: its readiness and, per event,
 * when it was delivered (CLOCK_MONOTONIC is one clock for all processes). */
typedef struct shared {
	_Atomic int ready, failed;
	int64_t delivered[];
} shared;

typedef struct listener {
	const bench_wake_ops *ops;
	void *ctx;
	shared *sh;
	size_t n;
} listener;

static void *listen_thread(void *arg)
{
	listener *l = arg;
	if (l->ops->listen(l->ctx, l->ops->dir, &l->sh->ready,
	                   l->sh->delivered, l->n))
		atomic_store(&l->sh->failed, 1);
	atomic_store(&l->sh->ready, 1); /* never leave the writer waiting */
	return NULL;
}

static void pause_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

/* Appends n events a millisecond apart (the listener is idle, waiting, at
 * each), and the signed delay from each append's return to its delivery. */
static int write_and_time(const bench_wake_ops *ops, shared *sh, size_t n, int64_t *lat)
{
	for (int i = 0; i < 10000 && !atomic_load(&sh->ready); i++)
		pause_ms(1);
	if (!atomic_load(&sh->ready) || atomic_load(&sh->failed))
		return bench_fail(ops->name, "the W6 listener did not start");
	for (size_t i = 0; i < n; i++) {
		pause_ms(1);
		if (ops->append(ops->ctx, i))
			return -1;
		lat[i] = bench_mono_ns();
	}
	for (int i = 0; i < 10000 && !atomic_load(&sh->failed) && !sh->delivered[n - 1]; i++)
		pause_ms(1);
	if (atomic_load(&sh->failed) || !sh->delivered[n - 1])
		return bench_fail(ops->name, "the W6 listener missed events");
	for (size_t i = 0; i < n; i++)
		lat[i] = sh->delivered[i] - lat[i];
	return 0;
}

static int run_mode(const bench_wake_ops *ops, size_t n, int other_process, int64_t *lat)
{
	size_t size = sizeof(shared) + n * sizeof(int64_t);
	shared *sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return bench_fail(ops->name, "mmap for W6");
	memset(sh, 0, size);
	listener l = { ops, ops->ctx_for_thread ? ops->ctx : NULL, sh, n };
	pthread_t t;
	pid_t pid = 0;
	if (other_process) {
		l.ctx = NULL; /* a process opens the store itself */
		if ((pid = fork()) == 0) {
			listen_thread(&l);
			_exit(atomic_load(&sh->failed) ? 1 : 0);
		}
	} else {
		pthread_create(&t, NULL, listen_thread, &l);
	}
	int rc = pid < 0 ? bench_fail(ops->name, "fork for W6") : write_and_time(ops, sh, n, lat);
	if (pid > 0) {
		if (rc)
			kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	} else if (!other_process) {
		pthread_join(t, NULL);
	}
	munmap(sh, size);
	return rc;
}

int bench_wake_drive(bench_figs *out, const bench_wake_ops *ops, size_t n)
{
	int64_t *lat = calloc(n, sizeof *lat);
	int rc = lat ? run_mode(ops, n, 0, lat) : -1;
	if (rc == 0) {
		bench_figs_set(out, "wake_p50_us", bench_percentile_us(lat, n, 50));
		bench_figs_set(out, "wake_p99_us", bench_percentile_us(lat, n, 99));
		rc = run_mode(ops, n, 1, lat);
	}
	if (rc == 0) {
		bench_figs_set(out, "xproc_p50_us", bench_percentile_us(lat, n, 50));
		bench_figs_set(out, "xproc_p99_us", bench_percentile_us(lat, n, 99));
	}
	free(lat);
	return rc;
}
