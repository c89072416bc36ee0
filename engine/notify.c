/*
 * notify.c - commit wake-ups across threads and processes, for
 * subscriptions. The store directory holds a small file, `notify`, that
 * every process maps shared: a commit counter and a count of waiters. A
 * committer bumps the counter once its commit is durable and, only when
 * someone waits, wakes them with a futex on the counter. A waiter reads the
 * counter before it looks at the log, so a commit between the look and the
 * wait changes the counter and the wait returns at once: no wake-up is lost.
 *
 * The file holds no data a power cut could falsify: a counter that goes
 * back or holds garbage after a crash only causes one spurious wake-up.
 * Where the file cannot be made (a read-only directory), waiters poll
 * instead (ES__NOTIFY_POLL_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

#define NOTIFY_FILE "notify"
#define NOTIFY_SIZE 64 /* one cache line */

struct es_notify_page {
	_Atomic uint32_t commits; /* the futex word */
	_Atomic uint32_t waiters;
};

static long futex(_Atomic uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	return syscall(SYS_futex, (uint32_t *)word, op, val, timeout, NULL, 0);
}

/* The file is made by write opens; a read-only open uses it when it may
 * write to it (waiting counts itself among the waiters) and polls if not. */
static int open_notify_file(const char *dir, int read_only)
{
	char path[4096 + sizeof NOTIFY_FILE];
	snprintf(path, sizeof path, "%s/%s", dir, NOTIFY_FILE);
	return open(path, O_RDWR | O_CLOEXEC | (read_only ? 0 : O_CREAT), 0600);
}

void es__notify_open(es_db *db)
{
	struct stat st;
	int fd = open_notify_file(db->path, db->read_only);
	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || (st.st_size < NOTIFY_SIZE && ftruncate(fd, NOTIFY_SIZE) != 0)) {
		close(fd);
		return;
	}
	void *p = mmap(NULL, NOTIFY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED)
		db->notify = p;
}

void es__notify_close(es_db *db)
{
	if (db->notify)
		munmap(db->notify, NOTIFY_SIZE);
	db->notify = NULL;
}

void es__notify_commit(es_db *db)
{
	struct es_notify_page *n = db->notify;
	if (!n)
		return;
	atomic_fetch_add(&n->commits, 1);
	if (atomic_load(&n->waiters) > 0)
		futex(&n->commits, FUTEX_WAKE, INT_MAX, NULL);
}

uint32_t es__notify_seen(es_db *db)
{
	return db->notify ? atomic_load(&db->notify->commits) : 0;
}

static struct timespec relative_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	return ts;
}

int es__notify_wait(es_db *db, uint32_t seen, int timeout_ms)
{
	struct es_notify_page *n = db->notify;
	if (!n) {
		int ms = timeout_ms < 0 || timeout_ms > ES__NOTIFY_POLL_MS ? ES__NOTIFY_POLL_MS : timeout_ms;
		struct timespec ts = relative_ms(ms);
		nanosleep(&ts, NULL);
		return 0;
	}
	struct timespec ts = relative_ms(timeout_ms);
	atomic_fetch_add(&n->waiters, 1);
	long rc = futex(&n->commits, FUTEX_WAIT, seen, timeout_ms < 0 ? NULL : &ts);
	int err = rc ? errno : 0;
	atomic_fetch_sub(&n->waiters, 1);
	return err == ETIMEDOUT ? ES_ETIMEDOUT : 0;
}
