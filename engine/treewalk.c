/*
 * treewalk.c - walks every B-tree of a store in a child process, for
 * es_check. LMDB's pages carry no checksum and LMDB trusts them: on a disk
 * that ignored a flush, or a torn page, a cursor step can fail an assertion
 * (IS_LEAF) or fault. Walked in a forked child, such damage kills only the
 * child, and the parent reports where it died instead of dying itself.
 *
 * The parent's read transaction is begun before the fork and stays open
 * until the child is done, so the child reads the same pinned snapshot
 * through the inherited map and never takes LMDB's locks itself (LMDB may
 * not be used across fork otherwise). The child writes how far it got into a
 * shared page before each step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"

typedef struct progress {
	char table[32];
	uint8_t key[48];        /* the last key read, its first bytes */
	uint32_t key_len;
	uint64_t entries;       /* entries of the table read so far */
	int failed_rc;          /* an LMDB error a step returned */
} progress;

/* Reads every byte of v: an overflow page past the file faults here. */
static unsigned touch(const MDB_val *v)
{
	const volatile uint8_t *p = v->mv_data;
	unsigned sum = 0;
	for (size_t i = 0; i < v->mv_size; i += 512)
		sum += p[i];
	return v->mv_size ? sum + p[v->mv_size - 1] : sum;
}

__attribute__((noreturn))
static void child(es_db *db, MDB_txn *txn, progress *pg)
{
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 2); /* LMDB's assertion text: the parent says what happened */
	volatile unsigned sink = 0;
	for (size_t i = 0; i < ES__N_TABLES; i++) {
		MDB_cursor *cur;
		MDB_val k, v;
		snprintf(pg->table, sizeof pg->table, "%s", es__table_names[i]);
		pg->key_len = 0;
		pg->entries = 0;
		int rc = mdb_cursor_open(txn, *es__table_dbi(db, i), &cur);
		for (MDB_cursor_op op = MDB_FIRST; rc == 0; op = MDB_NEXT) {
			rc = mdb_cursor_get(cur, &k, &v, op);
			if (rc)
				break;
			sink += touch(&k) + touch(&v);
			pg->key_len = (uint32_t)(k.mv_size < sizeof pg->key ? k.mv_size : sizeof pg->key);
			memcpy(pg->key, k.mv_data, pg->key_len);
			pg->entries++;
		}
		if (rc != MDB_NOTFOUND) {
			pg->failed_rc = rc;
			_exit(3);
		}
		mdb_cursor_close(cur);
	}
	(void)sink;
	_exit(0);
}

static void describe(const progress *pg, const char *what, char *where, size_t size)
{
	char key[2 * sizeof pg->key + 1];
	for (uint32_t i = 0; i < pg->key_len; i++)
		snprintf(key + 2 * i, 3, "%02x", pg->key[i]);
	key[2 * pg->key_len] = '\0';
	if (pg->entries)
		snprintf(where, size, "the store's B-tree is damaged at table '%s', after entry %llu (key %s): %s",
		         pg->table, (unsigned long long)pg->entries, key, what);
	else
		snprintf(where, size, "the store's B-tree is damaged at table '%s', before its first entry: %s",
		         pg->table, what);
}

int es__tree_walk(es_db *db, MDB_txn *txn, char *where, size_t where_size)
{
	progress *pg = mmap(NULL, sizeof *pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED)
		return es__error_errno(errno, "es_check: mapping the walk's progress");
	memset(pg, 0, sizeof *pg);
	pid_t pid = fork();
	if (pid == 0)
		child(db, txn, pg);
	int status = 0, rc = 0;
	if (pid < 0) {
		rc = es__error_errno(errno, "es_check: starting the B-tree walk");
	} else {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				rc = es__error_errno(errno, "es_check: waiting for the B-tree walk");
				break;
			}
	}
	if (rc == 0 && WIFSIGNALED(status)) {
		char what[128];
		int sig = WTERMSIG(status);
		snprintf(what, sizeof what, "walking it died of signal %d (%s%s)", sig, strsignal(sig),
		         sig == SIGABRT ? ", an LMDB assertion" : "");
		describe(pg, what, where, where_size);
		rc = 1;
	} else if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 3) {
		describe(pg, mdb_strerror(pg->failed_rc), where, where_size);
		rc = 1;
	} else if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		/* a sanitizer's handler turns the fault into an exit status */
		char what[128];
		snprintf(what, sizeof what, "walking it ended with exit status %d", WEXITSTATUS(status));
		describe(pg, what, where, where_size);
		rc = 1;
	}
	munmap(pg, sizeof *pg);
	return rc;
}
