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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "es_rmtree.h"
#include "testutil.h"

static char root[512]; /* this suite's directory under $TMPDIR */

/* The directories made by this process (one test) and not yet removed,
 * newest last. A forked test starts with its parent's list, so the list
 * belongs to the process named by made_by and starts over in another. */
static char *made[64];
static int n_made;
static pid_t made_by;

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
	es__remove_tree(path);
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
		es__remove_tree(root);
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

void es_test_fill(es_db *db, const char *stream, size_t count)
{
	es_event_data *evs = calloc(count, sizeof *evs);
	char (*payloads)[64] = calloc(count, sizeof *payloads);
	ck_assert_ptr_nonnull(evs);
	ck_assert_ptr_nonnull(payloads);
	for (size_t i = 0; i < count; i++) {
		snprintf(payloads[i], sizeof payloads[i], "%s-%zu", stream, i);
		evs[i].type = "Filled";
		evs[i].schema_version = 1;
		evs[i].payload = payloads[i];
		evs[i].payload_len = strlen(payloads[i]);
	}
	ck_assert_es(es_stream_append(NULL, db, stream, ES_ANY, evs, count), 0);
	free(evs);
	free(payloads);
}

#define LMDB_PAGE 4096
#define LMDB_P_LEAF 0x02
#define EVENT_PAYLOAD_AT 56 /* engine/record.h: the fixed header's size */

int es_test_damage_leaves(const char *dir, const char *stream)
{
	char file[4200];
	uint8_t page[LMDB_PAGE];
	size_t len = strlen(stream);
	snprintf(file, sizeof file, "%s/data.mdb", dir);
	int fd = open(file, O_RDWR), n = 0;
	ck_assert_int_ge(fd, 0);
	for (off_t off = 2 * LMDB_PAGE; pread(fd, page, LMDB_PAGE, off) == LMDB_PAGE; off += LMDB_PAGE) {
		/* LMDB's page header: flags at 10, lower and upper bounds at 12
		 * and 14, node offsets from 16; a node: 8 bytes, the key, the
		 * value. An events leaf's first key is 16 bytes (stream id,
		 * version). Unused page space holds stale bytes, so look at a node. */
		uint16_t flags, lower, ptr, ksize, upper = 0x0ff8;
		memcpy(&flags, page + 10, 2);
		memcpy(&lower, page + 12, 2);
		memcpy(&ptr, page + 16, 2);
		if (flags != LMDB_P_LEAF || lower <= 16 || ptr < 18 ||
		    ptr + 8 + 16 + EVENT_PAYLOAD_AT + len + 1 > LMDB_PAGE)
			continue;
		memcpy(&ksize, page + ptr + 6, 2);
		const uint8_t *payload = page + ptr + 8 + 16 + EVENT_PAYLOAD_AT;
		if (ksize != 16 || memcmp(payload, stream, len) != 0 || payload[len] != '-')
			continue;
		lower = 0x0ff0;
		memcpy(page + 12, &lower, 2);
		memcpy(page + 14, &upper, 2);
		memset(page + 16, 0xff, 64); /* the first node offsets: far past the page */
		ck_assert_int_eq(pwrite(fd, page, LMDB_PAGE, off), LMDB_PAGE);
		n++;
	}
	close(fd);
	return n;
}
