/*
 * reltest.c - helpers shared by the reliability suite (see reltest.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evstore/check.h>

#include "reltest.h"

static char fixture_dir[512];
static char store_path[600];

void rt_setup(void)
{
	snprintf(fixture_dir, sizeof fixture_dir, "%s", es_test_tmpdir());
	snprintf(store_path, sizeof store_path, "%s/store", fixture_dir);
}

void rt_teardown(void)
{
	es_test_tmpdir_remove();
}

const char *rt_store_path(void)
{
	return store_path;
}

const char *rt_path(const char *name)
{
	static char path[700];
	snprintf(path, sizeof path, "%s/%s", fixture_dir, name);
	return path;
}

es_db *rt_open(const char *path, int nosync)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_db *db = NULL;
	o.nosync = nosync;
	ck_assert_es(es_db_open(&db, path, &o), 0);
	return db;
}

rt_child rt_fork(int (*fn)(void *arg, int fd), void *arg)
{
	int fds[2];
	rt_child c = { -1, -1 };
	ck_assert_int_eq(pipe(fds), 0);
	fflush(NULL);
	c.pid = fork();
	ck_assert_int_ge(c.pid, 0);
	if (c.pid == 0) {
		close(fds[0]);
		int status = fn(arg, fds[1]);
		close(fds[1]);
		exit(status);
	}
	close(fds[1]);
	c.fd = fds[0];
	return c;
}

void rt_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(90);
		p += n;
		len -= (size_t)n;
	}
}

int rt_recv(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rt_wait(rt_child *c)
{
	int status = 0;
	ck_assert_int_eq(waitpid(c->pid, &status, 0), c->pid);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return status;
}

void rt_kill(rt_child *c)
{
	kill(c->pid, SIGKILL);
	int status = rt_wait(c);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

void rt_assert_store_ok(const char *path)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_check_options co = ES_CHECK_OPTIONS_INIT;
	es_check_stats st;
	es_db *db = NULL;
	o.read_only = 1;
	co.report = stderr;
	ck_assert_es(es_db_open(&db, path, &o), 0);
	ck_assert_es(es_check(&st, db, &co), 0);
	ck_assert_uint_eq(st.problems, 0);
	es_db_close(db);
}

void rt_assert_msg_has(const char *text)
{
	const char *msg = es_error_last()->message;
	ck_assert_msg(strstr(msg, text) != NULL, "message '%s' lacks '%s'", msg, text);
}

void rt_event(es_event_data *ev, uint64_t n, const void *payload, size_t len)
{
	memset(ev, 0, sizeof *ev);
	for (int i = 0; i < 8; i++)
		ev->id[i] = (uint8_t)(n >> (56 - 8 * i));
	memcpy(ev->id + 8, "reliable", 8); /* never all zero */
	ev->type = "Reliability";
	ev->schema_version = 1;
	ev->payload = payload;
	ev->payload_len = len;
}

void rt_assert_event(es_db *db, const char *stream, int64_t version, uint64_t n)
{
	es_event_data want;
	es_read *rd;
	es_event ev;
	rt_event(&want, n, NULL, 0);
	ck_assert_es(es_read_begin(&rd, db), 0);
	int rc = es_stream_get(&ev, rd, stream, version);
	int same = rc == 0 && memcmp(ev.id, want.id, 16) == 0;
	es_read_end(rd);
	ck_assert_msg(same, "%s version %lld: rc %d, or not event %llu", stream, (long long)version, rc,
	              (unsigned long long)n);
}
