/*
 * testutil.h - helpers shared by the Check suites: fresh temporary store
 * directories, removed when the test passes and kept (and named) when it
 * fails, and small assertion helpers.
 */
#ifndef ES_TESTUTIL_H
#define ES_TESTUTIL_H

#include <check.h>
#include <evstore/evstore.h>

/* Creates a fresh empty directory in the suite's directory under $TMPDIR;
 * returns its path, valid until the directory is removed. Whatever the test
 * has not removed when it passes is removed then. */
const char *es_test_tmpdir(void);
/* Removes the newest directory es_test_tmpdir made in this test, with
 * everything in it. */
void es_test_tmpdir_remove(void);
/* Opens a store in a fresh temporary directory with the given clock (NULL = real). */
es_db *es_test_open(es_clock_fn clock, void *user_data);

/* A settable clock for tests: returns *(int64_t *)payload. */
int64_t es_test_clock(void *user_data);

/* xorshift64*: a deterministic pseudo-random sequence from *state (not 0),
 * so a failing property test fails the same way again. */
uint64_t es_test_random(uint64_t *state);
/* From es_test_random, in [lo, hi] (hi - lo small against 2^64). */
int64_t es_test_random_between(uint64_t *state, int64_t lo, int64_t hi);

/* Asserts rc == expected, printing es_error_last() on mismatch. */
#define ck_assert_es(rc, expected)                                                       \
	do {                                                                             \
		int rc_ = (rc), exp_ = (expected);                                       \
		ck_assert_msg(rc_ == exp_, "%s = %d (%s), expected %d (%s); last error: %s", \
		              #rc, rc_, es_strerror(rc_), exp_, es_strerror(exp_),        \
		              es_error_last()->message);                                 \
	} while (0)

/* Appends count events to stream, payload "<stream>-<i>", in one batch. */
void es_test_fill(es_db *db, const char *stream, size_t count);
/* Damages, in the closed store at dir, the header of every leaf page of the
 * events table whose first event's payload starts with "<stream>-" (as
 * es_test_fill writes them): their bounds then claim thousands of keys at
 * offsets past the page, which LMDB follows blindly (an IS_LEAF assertion
 * or SIGSEGV). Returns the number of pages damaged. */
int es_test_damage_leaves(const char *dir, const char *stream);

/* Runs a suite with CK_FORK and returns a process exit status. Removes the
 * suite's temporary directory if every test passed, else prints its path. */
int es_test_run(Suite *s);

#endif
