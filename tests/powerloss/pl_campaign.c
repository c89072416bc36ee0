/*
 * pl_campaign.c - the power-loss campaign's driver. It records each
 * workload once (pl_workload, or es-load restoring a dump, under the write
 * recorder), then builds crash states from the logs (pl_gen.c) and checks
 * each in a child process, so that a checker dying inside LMDB is a failed
 * state rather than a dead campaign:
 *   - the store opens: a refusal is a failure (a store bricked by a cut is
 *     a bug even before anything was acknowledged);
 *   - the crash campaign's verifier (tests/crash/crash_verify.c): every
 *     acknowledged commit there with its ids, versions and positions, no
 *     batch partly there, es_check clean, the bank total and the as-of
 *     totals conserved, the store takes a new append;
 *   - every log position a reader saw before the cut is there (a reader
 *     never sees a commit that a power cut can take back);
 *   - a restore (es-load) not yet acknowledged may be missing or partial,
 *     but what is there is a prefix of the dump's log, and es_check is clean;
 *     a migration (es-migrate) not yet acknowledged is all there or absent.
 *
 * Usage:
 *   pl_campaign [--states N] [--seed S] [--work DIR] [--workloads a,b,...]
 *   pl_campaign --work DIR --replay STATE [--save NAME]   one state again
 *   pl_campaign --check-states DIR       the kept regression states
 *   pl_campaign --broken [--states N]    the generator that loses synced
 *                                        writes: exits 0 only if the checks
 *                                        report lost acknowledged commits
 *                                        (missing, or the store not opening)
 * Each state's seed picks its workload, mode and cut; a failing state is
 * printed with the --replay line that rebuilds it from the same --work.
 * Exit status: 0 clean, 1 failures, 2 usage or setup failure.
 */
/* The journal size the workloads' stores get (EVSTORE_JOURNAL_SIZE). */
#define PL_JOURNAL_SIZE "131072"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crash.h"
#include "pl.h"

#define SHOWN_FAILURES 8
#define CHECK_CYCLE 99 /* the verifier's probe op ids: after every workload's */

static const char *const all_kinds[] = { "appends", "snapshots", "group", "procs", "growth", "readers",
	                                        "models", "recovery", "load", "migrate" };
#define N_ALL_KINDS (sizeof all_kinds / sizeof all_kinds[0])

typedef struct kind {
	const char *name;
	char dir[2200];       /* work/<name> */
	pl_log log;
	pl_log src;           /* load: the source workload's notes */
	uint64_t tried[PL_NMODES], failed[PL_NMODES];
} kind;

typedef struct campaign {
	char work[2048];
	kind kinds[N_ALL_KINDS];
	size_t n_kinds;
	uint64_t seed;
	long states;
	int broken;
	uint64_t lost_acked;  /* --broken: states that lost acknowledged commits */
	uint64_t failures;
} campaign;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int run(char *const argv[], char *const env[], int quiet)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
		}
		for (size_t i = 0; env && env[i]; i += 2)
			setenv(env[i], env[i + 1], 1);
		execv(argv[0], argv);
		fprintf(stderr, "pl_campaign: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void note(const char *log, const char *text)
{
	pl_rec r;
	char buf[sizeof r + 64];
	memset(&r, 0, sizeof r);
	r.magic = PL_MAGIC;
	r.kind = PL_NOTE;
	r.len = strlen(text);
	r.pid = (uint32_t)getpid();
	memcpy(buf, &r, sizeof r);
	memcpy(buf + sizeof r, text, r.len);
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0 || write(fd, buf, sizeof r + r.len) != (ssize_t)(sizeof r + r.len)) {
		fprintf(stderr, "pl_campaign: cannot write to '%s'\n", log);
		exit(2);
	}
	close(fd);
}

/* The workloads that copy a source store into a new one. */
static int is_copy(const kind *k)
{
	return strcmp(k->name, "load") == 0 || strcmp(k->name, "migrate") == 0;
}

/* Records one workload into k->dir/log. */
static int record(campaign *c, kind *k)
{
	char store[4200], log[4200], seed[32];
	snprintf(k->dir, sizeof k->dir, "%s/%s", c->work, k->name);
	if (mkdir(k->dir, 0700) != 0 && errno != EEXIST)
		return -1;
	snprintf(store, sizeof store, "%s/store", k->dir);
	snprintf(log, sizeof log, "%s/log", k->dir);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
	/* Under AddressSanitizer the preloaded recorder comes before ASan's
	 * runtime in the library list, which ASan refuses unless told. */
	char asan[1024];
	const char *prev = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", prev ? prev : "", prev && *prev ? ":" : "");
	/* A small journal, so workloads wrap it and checkpoint often; the boot id
	 * the checks see differs (check_in_child), as after a real power cut. */
	char *rec_env[] = { "LD_PRELOAD", ES_PL_RECORDER, "ES_PL_DIR", store, "ES_PL_LOG", log,
	                    "ASAN_OPTIONS", asan, "EVSTORE_BOOT_ID", "pl-recorded",
	                    "EVSTORE_JOURNAL_SIZE", PL_JOURNAL_SIZE, NULL };
	int rc;
	if (is_copy(k)) {
		/* a source store (not recorded), then es-load of its dump, or
		 * es-migrate of it, into a new store under the recorder; es-migrate
		 * builds its copy beside the store and renames it over (ES_PL_PREFIX
		 * follows that sibling too) */
		char src[4200], src_log[4200], dump[4200];
		snprintf(src, sizeof src, "%s/src", k->dir);
		snprintf(src_log, sizeof src_log, "%s/src.log", k->dir);
		snprintf(dump, sizeof dump, "%s/dump.jsonl", k->dir);
		char *src_env[] = { "ES_PL_LOG", src_log, NULL };
		char *wl[] = { ES_PL_WORKLOAD, "group", src, seed, NULL };
		char *dumper[] = { ES_DUMP_BIN, "--db", src, "-o", dump, NULL };
		char *loader[] = { ES_LOAD_BIN, "--db", store, dump, NULL };
		char *migrator[] = { ES_MIGRATE_BIN, "--from", src, "--to", store, NULL };
		char *mig_env[] = { rec_env[0], rec_env[1], rec_env[2], rec_env[3], rec_env[4], rec_env[5],
		                    rec_env[6], rec_env[7], rec_env[8], rec_env[9], rec_env[10], rec_env[11],
		                    "ES_PL_PREFIX", "1", NULL };
		int load = strcmp(k->name, "load") == 0;
		rc = run(wl, src_env, 0);
		if (rc == 0 && load)
			rc = run(dumper, NULL, 0);
		if (rc == 0 && (rc = load ? run(loader, rec_env, 1) : run(migrator, mig_env, 1)) == 0)
			note(log, "acked");
		if (rc == 0 && pl_log_open(&k->src, src_log) != 0)
			rc = -1;
	} else {
		char *wl[] = { ES_PL_WORKLOAD, (char *)k->name, store, seed, NULL };
		rc = run(wl, rec_env, 0);
	}
	if (rc != 0) {
		fprintf(stderr, "pl_campaign: recording workload '%s' failed (status %d)\n", k->name, rc);
		return -1;
	}
	if (pl_log_open(&k->log, log) != 0)
		return -1;
	for (size_t i = 0; i < k->log.n; i++) {
		const cr_record *r = k->log.ops[i].rec ? NULL : k->log.ops[i].note;
		if (r && r->phase == CR_FAIL) {
			fprintf(stderr, "pl_campaign: workload '%s': an operation failed: %s\n", k->name, r->text);
			return -1;
		}
	}
	return 0;
}

/* What a state seed decides. */
typedef struct pick {
	kind *k;
	int mode;
	size_t cut;
	uint64_t gen_seed;
} pick;

static pick choose(campaign *c, uint64_t state)
{
	pick p;
	uint64_t rng = state;
	p.k = &c->kinds[cr_rand(&rng) % c->n_kinds];
	uint64_t m = cr_rand(&rng) % 100;
	p.mode = c->broken ? PL_BROKEN : m < 20 ? PL_CLEAN : m < 55 ? PL_RANDOM : m < 75 ? PL_TORN : PL_POSIX;
	size_t n = p.k->log.n, syncs = 0, first_sync = n;
	for (size_t i = 0; i < n; i++)
		if (p.k->log.ops[i].rec && p.k->log.ops[i].rec->kind == PL_SYNC) {
			syncs++;
			first_sync = first_sync < i ? first_sync : i;
		}
	/* Most cuts anywhere; a quarter just before a barrier (every write of
	 * a commit in flight), one in eight before the store's first barrier
	 * (while it is being created), and one in eight early on. */
	uint64_t where = cr_rand(&rng) % 8;
	if (where < 2 && syncs) {
		size_t j = (size_t)(cr_rand(&rng) % syncs);
		for (size_t i = 0; i < n; i++)
			if (p.k->log.ops[i].rec && p.k->log.ops[i].rec->kind == PL_SYNC && j-- == 0)
				p.cut = i;
	} else if (where == 2) {
		p.cut = (size_t)(cr_rand(&rng) % (first_sync + 1));
	} else if (where == 3) {
		p.cut = (size_t)(cr_rand(&rng) % ((n < 60 ? n : 60) + 1));
	} else {
		p.cut = (size_t)(cr_rand(&rng) % (n + 1));
	}
	p.gen_seed = cr_rand(&rng);
	return p;
}

/* The ledger of the cr_records among the first `cut` records of log. */
static void build_ledger(cr_ledger *lg, const pl_log *log, size_t cut)
{
	int setup_done = 0;
	memset(lg, 0, sizeof *lg);
	for (size_t i = 0; i < cut && i < log->n; i++) {
		const cr_record *r = log->ops[i].rec ? NULL : log->ops[i].note;
		if (!r || r->phase == CR_FAIL)
			continue;
		cr_ledger_add(lg, r);
		if (r->phase == CR_ACK && r->op_id == ((uint64_t)CR_WORKER_SETUP << 24 | (CR_ACCOUNTS - 1)))
			setup_done = 1;
	}
	cr_ledger_commit(lg);
	lg->setup_partial = !setup_done;
}

static int load_acked(const pl_log *log, size_t cut)
{
	for (size_t i = 0; i < cut && i < log->n; i++)
		if (log->ops[i].rec && log->ops[i].rec->kind == PL_NOTE && log->ops[i].rec->len == 5 &&
		    memcmp(log->ops[i].note, "acked", 5) == 0)
			return 1;
	return 0;
}

/* The highest log position a reader noted before the cut ("seen <p>"). */
static uint64_t seen_before(const pl_log *log, size_t cut)
{
	uint64_t seen = 0;
	for (size_t i = 0; i < cut && i < log->n; i++) {
		const pl_op *op = &log->ops[i];
		char text[32];
		unsigned long long p;
		if (!op->rec || op->rec->kind != PL_NOTE || op->rec->len >= sizeof text)
			continue;
		memcpy(text, op->note, op->rec->len);
		text[op->rec->len] = '\0';
		if (sscanf(text, "seen %llu", &p) == 1 && p > seen)
			seen = p;
	}
	return seen;
}

/* An unacknowledged restore: what is there is a prefix of the source; for
 * a migration (whole_or_none), all of it or nothing. */
static int check_copy_prefix(const char *store, const char *src, int whole_or_none)
{
	es_db *a = NULL, *b = NULL;
	es_read *ra = NULL, *rb = NULL;
	es_iter *ia = NULL, *ib = NULL;
	es_event ea, eb;
	int problems = 0, rc;
	uint64_t n = 0;
	es_open_options ro = ES_OPEN_OPTIONS_INIT;
	ro.read_only = 1;
	if ((rc = es_db_open(&a, store, NULL)) != 0) {
		fprintf(stderr, "pl_campaign: the restored store does not open: %s\n", es_error_last()->message);
		return 1;
	}
	if ((rc = es_db_open(&b, src, &ro)) || (rc = es_read_begin(&ra, a)) || (rc = es_read_begin(&rb, b)) ||
	    (rc = es_log_iter(&ia, ra, 1, ES_FORWARD, ES_NO_LIMIT)) ||
	    (rc = es_log_iter(&ib, rb, 1, ES_FORWARD, ES_NO_LIMIT))) {
		fprintf(stderr, "pl_campaign: reading the stores: %s\n", es_error_last()->message);
		problems++;
	}
	while (!problems && (rc = es_iter_next(&ea, ia)) == 0) {
		n++;
		if (es_iter_next(&eb, ib) != 0 || ea.position != eb.position || ea.version != eb.version ||
		    ea.recorded_at != eb.recorded_at || memcmp(ea.id, eb.id, 16) != 0 ||
		    strcmp(ea.stream, eb.stream) != 0) {
			fprintf(stderr, "pl_campaign: restored event at position %llu differs from the dump's\n",
			        (unsigned long long)ea.position);
			problems++;
		}
	}
	if (!problems && rc != ES_ITEROVER) {
		fprintf(stderr, "pl_campaign: walking the restored log: %s\n", es_error_last()->message);
		problems++;
	}
	if (!problems && whole_or_none && n && es_iter_next(&eb, ib) == 0) {
		fprintf(stderr, "pl_campaign: the copy holds %llu of the source's events: partly there\n",
		        (unsigned long long)n);
		problems++;
	}
	es_iter_free(ia);
	es_iter_free(ib);
	es_read_end(ra);
	es_read_end(rb);
	es_check_stats cs;
	es_check_options co = ES_CHECK_OPTIONS_INIT;
	co.report = stderr;
	if (!problems && (es_check(&cs, a, &co) != 0 || cs.problems)) {
		fprintf(stderr, "pl_campaign: es_check of the restored store (%llu events) failed\n",
		        (unsigned long long)n);
		problems++;
	}
	es_event_data ev;
	es_append_result res;
	memset(&ev, 0, sizeof ev);
	ev.type = "Probe";
	ev.schema_version = 1;
	ev.payload = "x";
	ev.payload_len = 1;
	if (!problems && es_stream_append(&res, a, "probe", ES_ANY, &ev, 1) != 0) {
		fprintf(stderr, "pl_campaign: the restored store refuses a new append: %s\n", es_error_last()->message);
		problems++;
	}
	es_db_close(a);
	es_db_close(b);
	return problems;
}

/* Runs in the child: checks the state in dir/store against the ledger. */
static int check_state(const char *dir, cr_ledger *lg, const kind *k, int acked_load, uint64_t seen)
{
	char store[4200], src[4200];
	cr_stats st;
	int problems;
	snprintf(store, sizeof store, "%s/store", dir);
	if (k && is_copy(k)) {
		snprintf(src, sizeof src, "%s/src", k->dir);
		if (!acked_load)
			return check_copy_prefix(store, src, strcmp(k->name, "migrate") == 0);
	}
	problems = cr_verify(lg, store, CHECK_CYCLE, &st);
	if (st.events < seen) {
		fprintf(stderr, "pl_campaign: a reader saw log position %llu before the cut, but the store "
		        "ends at %llu: it saw a commit that was not durable\n", (unsigned long long)seen,
		        (unsigned long long)st.events);
		problems++;
	}
	return problems;
}

/* A state's check takes well under a second (a few under sanitizers); one
 * that runs this long loops in a store a broken disk damaged (LMDB can
 * cycle through corrupt pages), and fails instead of hanging the campaign. */
#define CHECK_SECONDS 30

/* Forks the check: 0 passed, 1 problems, 2 the checker died (a signal, or
 * CHECK_SECONDS passed). */
static int check_in_child(const char *dir, cr_ledger *lg, const kind *k, int acked_load, uint64_t seen,
                          const char *err)
{
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		if (err) {
			int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, 2);
		}
		alarm(CHECK_SECONDS);
		setenv("EVSTORE_BOOT_ID", "pl-after-the-cut", 1); /* the machine restarted */
		_exit(check_state(dir, lg, k, acked_load, seen) ? 1 : 0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return 2;
	if (WIFSIGNALED(status)) {
		if (err) {
			FILE *f = fopen(err, "a");
			if (f) {
				fprintf(f, "pl_campaign: the checker died of signal %d (%s)", WTERMSIG(status),
				        strsignal(WTERMSIG(status)));
				if (WTERMSIG(status) == SIGALRM)
					fprintf(f, ": it ran past %d s", CHECK_SECONDS);
				fputc('\n', f);
				fclose(f);
			}
		}
		return 2;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static void print_file(const char *path)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof line, f) && n++ < 12)
		fprintf(stderr, "    %s", line);
	if (f)
		fclose(f);
}

static int file_has(const char *path, const char *text)
{
	char line[2048];
	int found = 0;
	FILE *f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof line, f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* Builds state `state` into work/state and checks it; 0 passed. */
static int one_state(campaign *c, uint64_t state, int verbose)
{
	char dir[4200], store[4300], err[4300];
	pick p = choose(c, state);
	snprintf(dir, sizeof dir, "%s/state", c->work);
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(err, sizeof err, "%s/state.err", c->work);
	rm_tree(dir);
	if (mkdir(dir, 0700) != 0 || mkdir(store, 0700) != 0) {
		fprintf(stderr, "pl_campaign: cannot make '%s': %s\n", store, strerror(errno));
		exit(2);
	}
	int gen = pl_state_write(&p.k->log, p.cut, p.mode, p.gen_seed, store);
	if (gen < 0)
		exit(2);
	if (gen == 1)
		rm_tree(store); /* the store directory's own name did not survive */
	cr_ledger lg;
	int acked = load_acked(&p.k->log, p.cut);
	if (is_copy(p.k))
		build_ledger(&lg, &p.k->src, p.k->src.n);
	else
		build_ledger(&lg, &p.k->log, p.cut);
	int rc = check_in_child(dir, &lg, p.k, acked, seen_before(&p.k->log, p.cut), err);
	p.k->tried[p.mode]++;
	if (rc) {
		p.k->failed[p.mode]++;
		c->failures++;
		/* a store that no longer opens loses every commit acknowledged before the cut */
		if (file_has(err, "was acknowledged but") || (lg.acks > 0 && file_has(err, "the store does not open")))
			c->lost_acked++;
	}
	if ((rc && c->failures <= SHOWN_FAILURES) || verbose) {
		fprintf(stderr, "pl_campaign: state %#llx (%s, %s, cut after %zu of %zu records, %llu acks "
		        "before it): %s\n", (unsigned long long)state, p.k->name, pl_mode_names[p.mode], p.cut,
		        p.k->log.n, (unsigned long long)lg.acks, rc == 0 ? "passed" : rc == 1 ? "FAILED" : "CHECKER DIED");
		if (rc || verbose)
			print_file(err);
		if (rc)
			fprintf(stderr, "  replay: pl_campaign --work %s --replay %#llx\n", c->work,
			        (unsigned long long)state);
	}
	cr_ledger_free(&lg);
	return rc;
}

/* --save: the state just replayed, with the records before its cut, kept
 * as a regression state (checked by --check-states). */
static int save_state(campaign *c, uint64_t state, const char *into)
{
	char cmd[24000], path[4300];
	pick p = choose(c, state);
	if (is_copy(p.k)) {
		fprintf(stderr, "pl_campaign: restore and migration states cannot be saved\n");
		return 2;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp -r '%s/state/store' '%s/store' && rm -f '%s/store/lock.mdb'",
	         into, into, c->work, into, into);
	if (system(cmd) != 0)
		return 2;
	snprintf(path, sizeof path, "%s/records", into);
	FILE *f = fopen(path, "wb");
	for (size_t i = 0; f && i < p.cut; i++)
		if (!p.k->log.ops[i].rec)
			fwrite(p.k->log.ops[i].note, sizeof(cr_record), 1, f);
	if (!f || fclose(f) != 0)
		return 2;
	snprintf(path, sizeof path, "%s/about", into);
	f = fopen(path, "w");
	if (!f)
		return 2;
	fprintf(f, "workload %s, mode %s, cut after %zu of %zu log records, state seed %#llx\n", p.k->name,
	        pl_mode_names[p.mode], p.cut, p.k->log.n, (unsigned long long)state);
	fclose(f);
	fprintf(stderr, "pl_campaign: saved the state in %s\n", into);
	return 0;
}

/* Checks every kept state under dir (each a directory with store/ and
 * records), on a copy: opening a store writes to it. */
static int check_kept(const char *dir, const char *work)
{
	char cmd[24000], path[4300], err[4300], copy[4300];
	int failed = 0, n = 0;
	snprintf(cmd, sizeof cmd, "ls '%s'", dir);
	FILE *ls = popen(cmd, "r");
	char name[256];
	while (ls && fgets(name, sizeof name, ls)) {
		name[strcspn(name, "\n")] = '\0';
		snprintf(path, sizeof path, "%s/%s/records", dir, name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue; /* README and such */
		cr_ledger lg;
		cr_record r;
		memset(&lg, 0, sizeof lg);
		int setup_done = 0;
		while (fread(&r, sizeof r, 1, f) == 1) {
			cr_ledger_add(&lg, &r);
			setup_done |= r.phase == CR_ACK && r.op_id == ((uint64_t)CR_WORKER_SETUP << 24 | (CR_ACCOUNTS - 1));
		}
		fclose(f);
		cr_ledger_commit(&lg);
		lg.setup_partial = !setup_done;
		snprintf(copy, sizeof copy, "%s/kept", work);
		snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp -r '%s/%s/store' '%s/store'", copy, copy,
		         dir, name, copy);
		snprintf(err, sizeof err, "%s/kept.err", work);
		int rc = system(cmd) != 0 ? 2 : check_in_child(copy, &lg, NULL, 0, 0, err);
		n++;
		fprintf(stderr, "pl_campaign: kept state %s: %s\n", name, rc == 0 ? "passed" : "FAILED");
		if (rc)
			print_file(err);
		failed += rc != 0;
		cr_ledger_free(&lg);
	}
	if (ls)
		pclose(ls);
	fprintf(stderr, "pl_campaign: %d kept states, %d failed\n", n, failed);
	return n == 0 || failed ? 1 : 0;
}

static void report(const campaign *c, double secs)
{
	uint64_t tried = 0;
	fprintf(stderr, "pl_campaign: %-10s", "workload");
	for (int m = 0; m < PL_NMODES; m++)
		if (m != PL_BROKEN || c->broken)
			fprintf(stderr, " %14s", pl_mode_names[m]);
	fprintf(stderr, "   (states passed/tried)\n");
	for (size_t i = 0; i < c->n_kinds; i++) {
		const kind *k = &c->kinds[i];
		fprintf(stderr, "pl_campaign: %-10s", k->name);
		for (int m = 0; m < PL_NMODES; m++) {
			char cell[40];
			if (m == PL_BROKEN && !c->broken)
				continue;
			snprintf(cell, sizeof cell, "%llu/%llu", (unsigned long long)(k->tried[m] - k->failed[m]),
			         (unsigned long long)k->tried[m]);
			fprintf(stderr, " %14s", cell);
			tried += k->tried[m];
		}
		fprintf(stderr, "   (%zu log records)\n", k->log.n);
	}
	fprintf(stderr, "pl_campaign: %llu states tried, %llu passed, %llu failed in %.1f s (seed %llu, work %s)\n",
	        (unsigned long long)tried, (unsigned long long)(tried - c->failures),
	        (unsigned long long)c->failures, secs, (unsigned long long)c->seed, c->work);
}

static int add_kinds(campaign *c, const char *list)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
		size_t i = 0;
		while (i < N_ALL_KINDS && strcmp(all_kinds[i], t) != 0)
			i++;
		if (i == N_ALL_KINDS || c->n_kinds == N_ALL_KINDS) {
			fprintf(stderr, "pl_campaign: %s workload '%s'\n", i == N_ALL_KINDS ? "unknown" : "one too many:", t);
			return -1;
		}
		c->kinds[c->n_kinds++].name = all_kinds[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	static campaign c;
	const char *work = NULL, *save = NULL, *kept = NULL,
	           *kinds = "appends,snapshots,group,procs,growth,readers,models,recovery,load,migrate";
	int replay = 0;
	uint64_t replay_state = 0;
	c.states = 600;
	c.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
	static const struct option longopts[] = {
		{ "states", 1, 0, 'n' }, { "seed", 1, 0, 's' }, { "work", 1, 0, 'w' },
		{ "workloads", 1, 0, 'k' }, { "replay", 1, 0, 'r' }, { "save", 1, 0, 'S' },
		{ "check-states", 1, 0, 'c' }, { "broken", 0, 0, 'b' }, { 0, 0, 0, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': c.states = atol(optarg); break;
		case 's': c.seed = strtoull(optarg, NULL, 0); break;
		case 'w': work = optarg; break;
		case 'k': kinds = optarg; break;
		case 'r': replay = 1; replay_state = strtoull(optarg, NULL, 0); break;
		case 'S': save = optarg; break;
		case 'c': kept = optarg; break;
		case 'b': c.broken = 1; break;
		default:
			fprintf(stderr, "usage: see the comment at the top of tests/powerloss/pl_campaign.c\n");
			return 2;
		}
	}
	if (kept) {
		char tmp[] = "/tmp/pl-kept-XXXXXX";
		if (!mkdtemp(tmp))
			return 2;
		int rc = check_kept(kept, tmp);
		rm_tree(tmp);
		return rc;
	}
	if (replay && !work) {
		fprintf(stderr, "pl_campaign: --replay needs the --work directory the states came from\n");
		return 2;
	}
	if (add_kinds(&c, kinds) != 0)
		return 2;
	int fresh = 0;
	if (work) {
		snprintf(c.work, sizeof c.work, "%s", work);
		mkdir(c.work, 0700);
	} else {
		/* states need no real disk: tmpfs when there is one */
		snprintf(c.work, sizeof c.work, "%s/pl-campaign-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(c.work))
			return 2;
		fresh = 1;
	}
	/* a replay (or a rerun) reuses the logs recorded in --work; the seed
	 * they were recorded with is written beside them */
	char seedfile[4200];
	snprintf(seedfile, sizeof seedfile, "%s/seed", c.work);
	for (size_t i = 0; i < c.n_kinds; i++) {
		kind *k = &c.kinds[i];
		char log[4400];
		snprintf(k->dir, sizeof k->dir, "%s/%s", c.work, k->name);
		snprintf(log, sizeof log, "%s/log", k->dir);
		if (access(log, R_OK) == 0) {
			char src_log[4400];
			snprintf(src_log, sizeof src_log, "%s/src.log", k->dir);
			if (pl_log_open(&k->log, log) != 0 ||
			    (is_copy(k) && pl_log_open(&k->src, src_log) != 0))
				return 2;
		} else if (replay) {
			fprintf(stderr, "pl_campaign: no log of '%s' in %s\n", k->name, c.work);
			return 2;
		} else if (record(&c, k) != 0) {
			return 2;
		}
	}
	FILE *sf = fopen(seedfile, "w");
	if (sf) {
		fprintf(sf, "%llu\n", (unsigned long long)c.seed);
		fclose(sf);
	}
	if (replay) {
		int rc = one_state(&c, replay_state, 1);
		if (save)
			return save_state(&c, replay_state, save);
		return rc ? 1 : 0;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t rng = c.seed;
	for (long i = 0; i < c.states; i++)
		one_state(&c, cr_rand(&rng), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(&c, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (c.broken) {
		fprintf(stderr, "pl_campaign: the broken generator: %llu of %llu states lost acknowledged "
		        "commits (missing, or in a store that does not open)\n",
		        (unsigned long long)c.lost_acked, (unsigned long long)c.states);
		if (fresh)
			rm_tree(c.work);
		return c.lost_acked > 0 ? 0 : 1;
	}
	if (fresh && c.failures == 0)
		rm_tree(c.work);
	else if (c.failures)
		fprintf(stderr, "pl_campaign: the logs are kept in %s\n", c.work);
	return c.failures ? 1 : 0;
}
