/*
 * reltest.h - helpers shared by the reliability suite: a store directory per
 * test, forked helper processes that report over a pipe, and a whole-store
 * integrity assertion (es_check).
 */
#ifndef ES_RELTEST_H
#define ES_RELTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testutil.h"

/* Checked fixture: a fresh temporary directory per test, removed after. */
void rt_setup(void);
void rt_teardown(void);
/* The fixture directory's "store" subdirectory (not created). */
const char *rt_store_path(void);
/* Another path inside the fixture directory (static storage, one at a time). */
const char *rt_path(const char *name);
/* Opens path (asserting success); nosync as in es_open_options. */
es_db *rt_open(const char *path, int nosync);

/* A forked helper process and the pipe it reports on. */
typedef struct rt_child {
	pid_t pid;
	int fd;   /* the parent's read end */
} rt_child;

/* Forks; the child runs fn(arg, write_fd) and exits with its return value.
 * Stdio is flushed first so nothing is written twice. */
rt_child rt_fork(int (*fn)(void *arg, int fd), void *arg);
/* Writes all of buf (the child side), or _exits. */
void rt_send(int fd, const void *buf, size_t len);
/* Reads exactly len bytes; returns 0, or -1 at EOF first. */
int rt_recv(int fd, void *buf, size_t len);
/* Waits for the child and returns its raw wait status. */
int rt_wait(rt_child *c);
/* SIGKILLs the child and reaps it. */
void rt_kill(rt_child *c);

/* Asserts es_check finds nothing wrong with the store at path. */
void rt_assert_store_ok(const char *path);
/* Asserts the last error's message contains text. */
void rt_assert_msg_has(const char *text);

/* A raw event with a given id byte pattern and payload, for appends whose
 * ids the test must find again. */
void rt_event(es_event_data *ev, uint64_t n, const void *payload, size_t len);
/* Asserts event `version` of stream carries the id rt_event gave n. */
void rt_assert_event(es_db *db, const char *stream, int64_t version, uint64_t n);

#endif
