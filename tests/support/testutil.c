/*
 * testutil.c - temporary stores and the runner shared by the Check suites.
 *
 * A suite's temporary directories all go under one directory of its own,
 * made by es_test_run before the tests are forked. A test (a CK_FORK child)
 * removes what it made when it exits normally, that is when it passed; a
 * failing, crashing or timed-out test never gets there, so its directories
 * stay for a look. After the run the suite's directory is removed if every
 * test passed (or nothing is left in it); otherwise its path is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char root[512]; /* this suite's directory under $TMPDIR */

/* The directories made by this process (one test) and not yet removed,
 * newest last. A forked test starts with its parent's list, so the list
 * belongs to the process named by made_by and starts over in another. */
static char *made[64];
static int n_made;
static pid_t made_by;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* At the normal exit of a test that made directories: it passed. A child
 * the test forked inherits the handler but not the directories. */
static void remove_made(void)
{
	if (getpid() != made_by)
		return;
	while (n_made)
		es_test_tmpdir_remove();
}

static void make_root(void)
{
	const char *base = getenv("TMPDIR");
	const char *name = program_invocation_short_name;
	if (strncmp(name, "test_", 5) == 0)
		name += 5;
	snprintf(root, sizeof root, "%s/evstore-test-%s-XXXXXX", base && *base ? base : "/tmp", name);
	if (!mkdtemp(root)) {
		fprintf(stderr, "%s: cannot make a directory like %s: %s\n", name, root, strerror(errno));
		exit(EXIT_FAILURE);
	}
	/* Others may pass through, not list: a test that drops root's
	 * privileges (reliability's readonly test) still reaches its own. */
	chmod(root, 0711);
}

const char *es_test_tmpdir(void)
{
	static int registered;
	char path[600];
	if (!root[0])
		make_root();
	if (made_by != getpid()) {
		n_made = 0; /* the parent's, not ours to remove */
		made_by = getpid();
	}
	if (!registered)
		registered = atexit(remove_made) == 0;
	ck_assert_int_lt(n_made, (int)(sizeof made / sizeof made[0]));
	snprintf(path, sizeof path, "%s/XXXXXX", root);
	ck_assert_ptr_nonnull(mkdtemp(path));
	made[n_made] = strdup(path);
	ck_assert_ptr_nonnull(made[n_made]);
	return made[n_made++];
}

void es_test_tmpdir_remove(void)
{
	if (n_made == 0 || made_by != getpid())
		return;
	char *path = made[--n_made];
	remove_tree(path);
	free(path);
}

int64_t es_test_clock(void *user_data)
{
	return *(int64_t *)user_data;
}

es_db *es_test_open(es_clock_fn clock, void *user_data)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.clock = clock;
	o.clock_user_data = user_data;
	o.nosync = 1; /* tests do not need power-loss durability */
	es_db *db = NULL;
	ck_assert_es(es_db_open(&db, es_test_tmpdir(), &o), 0);
	return db;
}

int es_test_run(Suite *s)
{
	if (!root[0])
		make_root();
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed == 0)
		remove_tree(root);
	else if (rmdir(root) != 0)
		fprintf(stderr, "%d tests failed; what they left is in %s\n", failed, root);
	root[0] = '\0';
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

uint64_t es_test_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

int64_t es_test_random_between(uint64_t *state, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(es_test_random(state) % (uint64_t)(hi - lo + 1));
}
