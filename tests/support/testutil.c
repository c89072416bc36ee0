/*
 * testutil.c - temporary stores and the runner shared by the Check suites.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[512];

const char *es_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/evstore-test-XXXXXX", base && *base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	return tmpdir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void es_test_tmpdir_remove(void)
{
	if (tmpdir[0])
		nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
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
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
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
