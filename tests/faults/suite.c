/*
 * suite.c - the fault-injection suite: every scenario of paths.c is run
 * with allocation 1, 2, 3, ... failing in turn (once, then from that one
 * on), until a run completes without reaching the failing allocation. Each
 * failure must be a clean ES_ENOMEM with a message; nothing may leak (the
 * hook's live-block count, and LeakSanitizer in sanitizer builds); the
 * store must be exactly as before (log head, streams, snapshots, account
 * states, es_check); a run that absorbed a failure must match a clean run.
 *
 * The template store is built in a child process, so this process's bank
 * registry is first built by the scenario that tests that build.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "faultalloc.h"
#include "paths.h"
#include "testutil.h"
#include "world.h"

static char template_dir[512];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct attempt {
	int rc;
	uint64_t digest;
	bool failed;
	long allocs;
} attempt;

/* Runs p once with allocation n failing (0: none fails). */
static attempt run_once(const fault_path *p, es_db *db, const char *dir, long n, bool persistent)
{
	attempt a = { 0 };
	es_error_clear();
	fw_clock_reset();
	fa_arm(n, persistent);
	a.rc = p->run(&a.digest, db, dir);
	a.failed = fa_failed();
	a.allocs = fa_count();
	fa_disarm();
	return a;
}

static es_db *store_for(const fault_path *p, const char *dir)
{
	if (p->store == FP_NONE)
		return NULL;
	fw_copy(template_dir, dir);
	return p->store == FP_STORE ? fw_open(dir) : NULL;
}

static void check_failure(const fault_path *p, const attempt *a, const char *what)
{
	const es_error *e = es_error_last();
	ck_assert_msg(a->failed, "%s: error %d (%s) though no allocation failed", what,
	              a->rc, e->message);
	ck_assert_msg(a->rc == ES_ENOMEM, "%s: error %d (%s: %s), expected ES_ENOMEM", what,
	              a->rc, es_strerror(a->rc), e->message);
	ck_assert_msg(e->code == a->rc && e->message[0], "%s: %s returned %d but the last error "
	              "is %d '%s'", what, p->name, a->rc, e->code, e->message);
}

/* The store after an attempt: as before it if the attempt failed or only
 * read, else as after a clean run. Closes db. */
static void check_store(const fault_path *p, es_db *db, const char *dir, const attempt *a,
                        const fw_state *before, const fw_state *after_ok, const char *what)
{
	fw_state now;
	if (p->store == FP_NONE)
		return;
	if (!db)
		db = fw_open(dir);
	fw_capture(&now, db);
	fw_assert_same(a->rc || !p->writes ? before : after_ok, &now, what);
	es_db_close(db);
	rm_rf(dir);
}

/* A clean run: the digest and the store every successful attempt must match. */
static uint64_t reference(const fault_path *p, const char *root, fw_state *before, fw_state *after)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/ref", root);
	es_db *db = store_for(p, dir);
	if (p->store != FP_NONE) {
		es_db *view = db ? db : fw_open(dir);
		fw_capture(before, view);
		if (!db)
			es_db_close(view);
	}
	attempt a = run_once(p, db, dir, 0, false);
	ck_assert_msg(a.rc == 0, "%s: a clean run failed: %d %s", p->name, a.rc, es_error_last()->message);
	if (p->store != FP_NONE) {
		if (!db)
			db = fw_open(dir);
		fw_capture(after, db);
		es_db_close(db);
		rm_rf(dir);
	}
	return a.digest;
}

static void run_path(const fault_path *p, bool persistent)
{
	const char *root = es_test_tmpdir();
	const char *mode = persistent ? "persistent" : "one-shot";
	bool bank = strcmp(p->name, FP_BANK_REGISTRY) == 0;
	fw_state before, after_ok;
	uint64_t digest = 0;
	if (!bank) {
		ck_assert_ptr_nonnull(es_bank_registry()); /* built once and kept: before counting */
		digest = reference(p, root, &before, &after_ok);
	}
	long base = fa_live();
	long n;
	for (n = 1;; n++) {
		char dir[600], what[200];
		snprintf(dir, sizeof dir, "%s/w%ld", root, n);
		snprintf(what, sizeof what, "%s, allocation %ld failing (%s)", p->name, n, mode);
		es_db *db = store_for(p, dir);
		attempt a = run_once(p, db, dir, n, persistent);
		if (a.rc)
			check_failure(p, &a, what);
		else
			ck_assert_msg(bank || a.digest == digest, "%s: succeeded with other results", what);
		check_store(p, db, dir, &a, &before, &after_ok, what);
		/* The bank registry's blocks are kept once it is built. */
		ck_assert_msg(fa_live() == base || (bank && a.rc == 0), "%s: %ld blocks leaked", what,
		              fa_live() - base);
		if (!a.failed)
			break;
	}
	ck_assert_msg(fa_lsan_clean(), "%s (%s): LeakSanitizer found leaks", p->name, mode);
	printf("faults: %-20s %-10s %4ld allocations, each failed in turn\n", p->name, mode, n - 1);
	fflush(stdout);
	es_test_tmpdir_remove();
}

START_TEST(one_shot)
{
	run_path(&fault_paths[_i], false);
}
END_TEST

START_TEST(persistent)
{
	run_path(&fault_paths[_i], true);
}
END_TEST

static int build_template(void)
{
	const char *base = getenv("TMPDIR");
	snprintf(template_dir, sizeof template_dir, "%s/evstore-faults-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(template_dir))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		fw_build(template_dir);
		_exit(0);
	}
	int status;
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	fa_install();
	if (build_template() != 0) {
		fprintf(stderr, "faults: building the template store failed\n");
		return EXIT_FAILURE;
	}
	Suite *s = suite_create("faults");
	TCase *tc[2] = { tcase_create("one-shot"), tcase_create("persistent") };
	tcase_add_loop_test(tc[0], one_shot, 0, (int)fault_path_count);
	tcase_add_loop_test(tc[1], persistent, 0, (int)fault_path_count);
	for (int i = 0; i < 2; i++) {
		tcase_set_timeout(tc[i], 600);
		suite_add_tcase(s, tc[i]);
	}
	int rc = es_test_run(s);
	rm_rf(template_dir);
	return rc;
}
