/* test_db.c - engine/db.c: opening, reopening, read-only, format guard, modes, map growth, processes. */
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enginetest.h"

/* Fixture: a fresh empty directory; tests open what they need in it. */
static char dir[512];

static void dir_setup(void)
{
	et_now = ET_T0;
	et_db = NULL;
	snprintf(dir, sizeof dir, "%s", es_test_tmpdir());
	et_path = dir;
}

static void dir_teardown(void)
{
	es_db_close(et_db);
	et_db = NULL;
	es_test_tmpdir_remove();
}

/* dir/name in buf. */
static const char *sub(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static int open_store(const char *path, int read_only)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = read_only;
	o.nosync = 1;
	es_db *db = NULL;
	int rc = es_db_open(&db, path, &o);
	ck_assert(rc == 0 || db == NULL);
	es_db_close(db);
	return rc;
}

START_TEST(reopen_keeps_everything)
{
	et_db = et_open_path(dir, NULL);
	es_event_data ev = et_event("Opened", "hello");
	es_metadata md = { "k", "v" };
	ev.metadata = &md;
	ev.metadata_count = 1;
	ck_assert_es(es_stream_append(NULL, et_db, "a", ES_NO_STREAM, &ev, 1), 0);
	et_append_ok(et_db, "b", ES_NO_STREAM, 3);
	et_append_ok(et_db, "gone", ES_NO_STREAM, 1);
	ck_assert_es(es_stream_delete(et_db, "gone", ES_ANY), 0);
	ck_assert_es(es_stream_tombstone(et_db, "dead", ES_NO_STREAM), 0);
	et_reopen();
	ck_assert_uint_eq(et_log_head(et_db), 5);
	ck_assert_uint_eq(et_count(et_db, "b"), 3);
	ck_assert_int_eq(et_head(et_db, "gone"), 0);
	ck_assert_es(es_stream_append(NULL, et_db, "dead", ES_ANY, NULL, 0), ES_EDELETED);
	es_read *rd;
	es_event got;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_get(&got, rd, "a", 0), 0);
	ck_assert_str_eq(got.type, "Opened");
	ck_assert_mem_eq(got.id, ev.id, 16);
	ck_assert_int_eq(got.recorded_at, ev.recorded_at);
	ck_assert_uint_eq(got.metadata_len, 4 + 4 + 1 + 4 + 1);
	es_read_end(rd);
	es_event_data more = et_event("Renamed", "x");
	ck_assert_es(es_stream_append(NULL, et_db, "c", ES_NO_STREAM, &more, 1), 0);
	ck_assert_uint_eq(more.position, 6);
	ck_assert_es(es_stream_append(NULL, et_db, "b", 2, &more, 1), ES_EDUPLICATE);
	ck_assert_int_eq(et_head(et_db, "c"), 0);
	ck_assert_uint_eq(et_count(et_db, "a"), 1); /* a new stream did not take an old id */
}
END_TEST

START_TEST(read_only_missing_store)
{
	char path[600];
	ck_assert_es(open_store(sub(path, sizeof path, "missing"), 1), ES_ENOTFOUND);
	ck_assert_int_eq(access(path, F_OK), -1); /* nothing created */
	ck_assert_es(open_store(dir, 1), ES_ENOTFOUND); /* an empty directory */
	ck_assert_int_eq(access(sub(path, sizeof path, "data.mdb"), F_OK), -1);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
	et_db = et_open_path(dir, NULL);
	et_append_ok(et_db, "s", ES_NO_STREAM, 2);
	es_db_close(et_db);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.read_only = 1;
	et_db = et_open_path(dir, &o);
	es_event_data ev = et_event("Tested", "x");
	es_batch *b;
	ck_assert_es(es_stream_append(NULL, et_db, "s", ES_ANY, &ev, 1), ES_EREADONLY);
	ck_assert_es(es_stream_append(NULL, et_db, "s", 1, NULL, 0), ES_EREADONLY);
	ck_assert_es(es_batch_new(&b, et_db), ES_EREADONLY);
	ck_assert_es(es_stream_delete(et_db, "s", ES_ANY), ES_EREADONLY);
	ck_assert_es(es_stream_tombstone(et_db, "s", ES_ANY), ES_EREADONLY);
	ck_assert_uint_eq(et_count(et_db, "s"), 2);
	ck_assert_uint_eq(et_log_head(et_db), 2);
}
END_TEST

START_TEST(not_a_store_is_format_error)
{
	char path[600];
	static char garbage[65536];
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (char)("not a store "[i % 12]);
	write_file(sub(path, sizeof path, "plain-file"), "hello\n", 6);
	ck_assert_es(open_store(path, 0), ES_EFORMAT);
	ck_assert_es(open_store(path, 1), ES_EFORMAT);
	ck_assert_int_eq(mkdir(sub(path, sizeof path, "junk"), 0700), 0);
	write_file(sub(path, sizeof path, "junk/data.mdb"), garbage, sizeof garbage);
	ck_assert_es(open_store(sub(path, sizeof path, "junk"), 0), ES_EFORMAT);
	ck_assert_es(open_store(path, 1), ES_EFORMAT);
}
END_TEST

/* Opens dir's environment directly with LMDB and runs fn in a write txn. */
static void with_raw_env(const char *path, void (*fn)(MDB_txn *txn))
{
	MDB_env *env;
	MDB_txn *txn;
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 16), 0);
	ck_assert_int_eq(mdb_env_open(env, path, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	fn(txn);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void put_format(MDB_txn *txn, uint64_t format)
{
	MDB_dbi meta;
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(format >> (8 * i));
	MDB_val k = { 6, "format" }, v = { 8, le };
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_put(txn, meta, &k, &v, 0), 0);
}

static void bump_format(MDB_txn *txn) { put_format(txn, ES_FORMAT_VERSION + 1); }
static void zero_format(MDB_txn *txn) { put_format(txn, 0); }

static void foreign_data(MDB_txn *txn)
{
	MDB_dbi main_dbi;
	MDB_val k = { 3, "key" }, v = { 5, "value" };
	ck_assert_int_eq(mdb_dbi_open(txn, NULL, 0, &main_dbi), 0);
	ck_assert_int_eq(mdb_put(txn, main_dbi, &k, &v, 0), 0);
}

START_TEST(newer_format_is_refused)
{
	et_db = et_open_path(dir, NULL);
	et_append_ok(et_db, "s", ES_NO_STREAM, 1);
	es_db_close(et_db);
	et_db = NULL;
	with_raw_env(dir, bump_format);
	ck_assert_es(open_store(dir, 0), ES_EFORMAT);
	et_assert_msg_has("3");
	ck_assert_es(open_store(dir, 1), ES_EFORMAT);
	with_raw_env(dir, zero_format);
	ck_assert_es(open_store(dir, 0), ES_EFORMAT);
}
END_TEST

START_TEST(foreign_lmdb_env_is_refused)
{
	with_raw_env(dir, foreign_data);
	ck_assert_es(open_store(dir, 0), ES_EFORMAT);
	ck_assert_es(open_store(dir, 1), ES_EFORMAT);
}
END_TEST

static unsigned int mode_of(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

START_TEST(files_are_private_by_default)
{
	char path[600], file[700];
	umask(0); /* show the modes the library asks for */
	et_db = et_open_path(sub(path, sizeof path, "store"), NULL);
	et_append_ok(et_db, "s", ES_NO_STREAM, 1);
	ck_assert_uint_eq(mode_of(path), 0700);
	snprintf(file, sizeof file, "%s/data.mdb", path);
	ck_assert_uint_eq(mode_of(file), 0600);
	snprintf(file, sizeof file, "%s/lock.mdb", path);
	ck_assert_uint_eq(mode_of(file), 0600);
	es_db_close(et_db);
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.file_mode = 0640;
	et_db = et_open_path(sub(path, sizeof path, "shared"), &o);
	snprintf(file, sizeof file, "%s/data.mdb", path);
	ck_assert_uint_eq(mode_of(file), 0640);
}
END_TEST

/* Appends at least `total` bytes as events of `size` bytes, `per_call` per
 * append; returns the number of events. */
static size_t append_bytes(size_t total, size_t size, size_t per_call)
{
	size_t events = 0;
	char *buf = malloc(size * per_call);
	es_event_data *evs = calloc(per_call, sizeof *evs);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(evs);
	for (size_t done = 0, n = 0; done < total; done += size * per_call, n++) {
		for (size_t i = 0; i < per_call; i++) {
			memset(buf + i * size, 'a' + (int)((n + i) % 26), size);
			evs[i] = et_event("Big", "");
			evs[i].payload = buf + i * size;
			evs[i].payload_len = size;
		}
		ck_assert_es(es_stream_append(NULL, et_db, "big", ES_ANY, evs, per_call), 0);
		events += per_call;
	}
	free(evs);
	free(buf);
	return events;
}

static void assert_big_stream(size_t events, size_t size, size_t per_call)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	ck_assert_es(es_stream_iter(&it, rd, "big", 0, ES_FORWARD, ES_NO_LIMIT), 0);
	for (size_t k = 0; k < events; k++) {
		ck_assert_es(es_iter_next(&ev, it), 0);
		ck_assert_uint_eq(ev.payload_len, size);
		char c = (char)('a' + (int)((k / per_call + k % per_call) % 26));
		const char *p = ev.payload;
		ck_assert(p[0] == c && p[size - 1] == c);
	}
	ck_assert_es(es_iter_next(&ev, it), ES_ITEROVER);
	es_iter_free(it);
	es_read_end(rd);
}

START_TEST(map_grows_by_itself)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.map_size = 1 << 20;
	et_db = et_open_path(dir, &o);
	size_t n = append_bytes((size_t)20 << 20, 100000, 1); /* ~20 MB, an event a call */
	ck_assert_uint_ge(n * 100000, (size_t)20 << 20);
	n += append_bytes((size_t)6 << 20, 500000, 12); /* transactions larger than the map was */
	ck_assert_uint_eq(et_count(et_db, "big"), n);
	es_db_close(et_db);
	et_db = et_open_path(dir, &o); /* reopen with the small map size */
	ck_assert_uint_eq(et_log_head(et_db), n);
	n += append_bytes(100000, 100000, 1);
	ck_assert_uint_eq(et_count(et_db, "big"), n);
}
END_TEST

START_TEST(map_growth_keeps_contents)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.map_size = 1 << 20;
	et_db = et_open_path(dir, &o);
	size_t n = append_bytes((size_t)3 << 20, 50000, 3);
	assert_big_stream(n, 50000, 3);
}
END_TEST

START_TEST(open_bad_arguments)
{
	es_db *db = (es_db *)1;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	ck_assert_es(es_db_open(NULL, dir, NULL), ES_EINVAL);
	ck_assert_es(es_db_open(&db, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_db_open(&db, "", NULL), ES_EINVAL);
	o.version = 99;
	ck_assert_es(es_db_open(&db, dir, &o), ES_EINVAL);
	ck_assert_ptr_null(db);
	es_db_close(NULL);
	ck_assert_es(es_db_open(&db, dir, NULL), 0); /* NULL options: defaults */
	ck_assert_ptr_nonnull(db);
	es_db_close(db);
}
END_TEST

START_TEST(error_texts)
{
	ck_assert_str_eq(es_strerror(ES_OK), "success");
	ck_assert_str_eq(es_strerror(ES_ECONFLICT), "version conflict");
	ck_assert_str_eq(es_strerror(12345), "unknown error");
	for (int code = ES_ETIMEDOUT; code <= ES_OK; code++)
		ck_assert_str_ne(es_strerror(code), "unknown error");
	ck_assert_str_ne(es_strerror(ES_ITEROVER), "unknown error");
	ck_assert_es(open_store("", 0), ES_EINVAL);
	ck_assert_int_eq(es_error_last()->code, ES_EINVAL);
	ck_assert_str_ne(es_error_last()->message, "");
	es_error_clear();
	ck_assert_int_eq(es_error_last()->code, ES_OK);
	ck_assert_str_eq(es_error_last()->message, "");
}
END_TEST

/* ---- concurrent writers: processes and threads on the same streams ---- */

#define WRITERS_MAX 8
#define STREAMS 2
#define MAX_ATTEMPTS 1000000

/* What a writer records of each attempt. */
typedef struct attempt {
	int32_t stream;
	int32_t ok;          /* 1 success, 0 conflict */
	int64_t expected;    /* the head read before appending (-1: none) */
	int64_t version;     /* success: the version written; conflict: the reported head */
	uint64_t position;   /* success only */
	int64_t next_read;   /* conflict: the head read again right after it */
} attempt;

/* How a race is run. */
static struct {
	int writers;
	int successes;       /* per writer */
	size_t payload;      /* payload bytes; 0 = just the tag */
	size_t map_size;     /* 0 = default */
} race;

static const char *const race_streams[STREAMS] = { "shared-0", "shared-1" };

/* Payload of writer w's event at version: a tag, padded to race.payload. */
static size_t race_payload(char *buf, int w, int64_t version)
{
	size_t n = (size_t)snprintf(buf, 64, "w%d-v%lld;", w, (long long)version);
	if (race.payload > n)
		memset(buf + n, '.', race.payload - n);
	return race.payload > n ? race.payload : n;
}

/* Like a command handler: read the head and the latest events. */
static int64_t race_head(es_db *db, const char *stream)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	es_stream_info info;
	if (es_read_begin(&rd, db))
		return -100;
	int rc = es_stream_info_get(&info, rd, stream);
	if (rc == 0 && (rc = es_stream_iter(&it, rd, stream, ES_HEAD, ES_BACKWARD, 20)) == 0) {
		while ((rc = es_iter_next(&ev, it)) == 0)
			;
		rc = rc == ES_ITEROVER ? 0 : rc;
		es_iter_free(it);
	}
	es_read_end(rd);
	return rc == ES_ENOTFOUND ? -1 : rc ? -100 : info.head_version;
}

/* One attempt: read the head, append with it as expected. After a conflict
 * the head is read again, to show the reported one was not stale. */
static int race_attempt(es_db *db, int w, int s, char *buf, attempt *a)
{
	int64_t head = race_head(db, race_streams[s]);
	if (head == -100)
		return -1;
	es_event_data ev = et_event("Raced", "");
	ev.payload = buf;
	ev.payload_len = race_payload(buf, w, head + 1);
	es_append_result res;
	int64_t expected = head < 0 ? ES_NO_STREAM : head; /* -1 would mean ES_ANY */
	int rc = es_stream_append(&res, db, race_streams[s], expected, &ev, 1);
	if (rc != 0 && rc != ES_ECONFLICT)
		return -1;
	*a = (attempt){ s, rc == 0, head, rc == 0 ? ev.version : res.head_version,
	                rc == 0 ? ev.position : 0, 0 };
	if (rc == ES_ECONFLICT && (a->next_read = race_head(db, race_streams[s])) == -100)
		return -1;
	return 0;
}

/* A writer's record: every attempt, in order. */
typedef struct race_log {
	attempt *a;
	size_t n, cap;
	int w;
	es_db *db;
	int failed;
} race_log;

static int log_push(race_log *l, const attempt *a)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		attempt *grown = realloc(l->a, cap * sizeof *grown);
		if (!grown)
			return -1;
		l->a = grown;
		l->cap = cap;
	}
	l->a[l->n++] = *a;
	return 0;
}

/* Runs one writer until it has race.successes successes; 0 on success. */
static int race_run(race_log *l)
{
	char *buf = malloc(race.payload + 64);
	attempt a;
	int ok = 0, bad = !buf;
	for (long n = 0; !bad && ok < race.successes && n < MAX_ATTEMPTS; n++) {
		bad = race_attempt(l->db, l->w, (int)((n / 3) % STREAMS), buf, &a) || log_push(l, &a);
		ok += !bad && a.ok;
	}
	free(buf);
	return bad || ok < race.successes;
}

static es_db *race_open(void)
{
	es_db *db = NULL;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	o.map_size = race.map_size;
	return es_db_open(&db, dir, &o) == 0 ? db : NULL;
}

/* Child process w: waits for the start, writes, saves its log to a file. */
static int race_child(int w, int start_fd)
{
	char path[600], name[32], go;
	race_log l = { .w = w, .db = race_open() };
	int rc = !l.db || read(start_fd, &go, 1) != 0; /* the parent closes the pipe to start */
	if (!rc)
		rc = race_run(&l);
	if (rc) /* diagnostics for the parent's failure report */
		fprintf(stderr, "writer %d: %s\n", w, es_error_last()->message);
	es_db_close(l.db);
	snprintf(name, sizeof name, "writer-%d.bin", w);
	FILE *out = fopen(sub(path, sizeof path, name), "wb");
	rc |= !out || fwrite(l.a, sizeof *l.a, l.n, out) != l.n;
	rc |= out && fclose(out) != 0;
	free(l.a);
	return rc;
}

static void race_processes(race_log *logs)
{
	int start[2], status;
	pid_t pids[WRITERS_MAX];
	ck_assert_int_eq(pipe(start), 0);
	for (int w = 0; w < race.writers; w++) {
		pids[w] = fork();
		ck_assert_int_ge(pids[w], 0);
		if (pids[w] == 0) {
			close(start[1]);
			_exit(race_child(w, start[0]));
		}
	}
	close(start[0]);
	close(start[1]);
	for (int w = 0; w < race.writers; w++) {
		char path[600], name[32];
		ck_assert_int_eq(waitpid(pids[w], &status, 0), pids[w]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
		snprintf(name, sizeof name, "writer-%d.bin", w);
		FILE *in = fopen(sub(path, sizeof path, name), "rb");
		ck_assert_ptr_nonnull(in);
		logs[w].a = malloc(sizeof *logs[w].a * MAX_ATTEMPTS);
		ck_assert_ptr_nonnull(logs[w].a);
		logs[w].n = fread(logs[w].a, sizeof *logs[w].a, MAX_ATTEMPTS, in);
		fclose(in);
	}
}

static void *race_thread(void *arg)
{
	race_log *l = arg;
	l->failed = race_run(l);
	return NULL;
}

static void race_threads(race_log *logs)
{
	pthread_t t[WRITERS_MAX];
	et_db = race_open();
	ck_assert_ptr_nonnull(et_db);
	for (int w = 0; w < race.writers; w++) {
		logs[w] = (race_log){ .w = w, .db = et_db };
		ck_assert_int_eq(pthread_create(&t[w], NULL, race_thread, &logs[w]), 0);
	}
	for (int w = 0; w < race.writers; w++) {
		ck_assert_int_eq(pthread_join(t[w], NULL), 0);
		ck_assert_msg(!logs[w].failed, "writer %d failed", w);
	}
}

/* The event at (stream, version) is the one writer w reported writing. */
static void assert_written_by(es_read *rd, const attempt *a, int w)
{
	es_event ev;
	char *want = malloc(race.payload + 64);
	ck_assert_ptr_nonnull(want);
	size_t len = race_payload(want, w, a->version);
	ck_assert_es(es_stream_get(&ev, rd, race_streams[a->stream], a->version), 0);
	ck_assert_uint_eq(ev.payload_len, len);
	ck_assert_mem_eq(ev.payload, want, len);
	ck_assert_uint_eq(ev.position, a->position);
	free(want);
}

static void check_attempt(es_read *rd, const attempt *a, int w, const es_stream_info *info,
                          int64_t *last_ok, size_t *successes)
{
	ck_assert(a->stream >= 0 && a->stream < STREAMS);
	if (a->ok) {
		ck_assert_int_eq(a->version, a->expected + 1);
		ck_assert_int_gt(a->version, last_ok[a->stream]); /* a writer's versions only rise */
		last_ok[a->stream] = a->version;
		assert_written_by(rd, a, w);
		successes[a->stream]++;
		return;
	}
	ck_assert_int_gt(a->version, a->expected);   /* the head had moved on ... */
	ck_assert_int_le(a->version, info[a->stream].head_version); /* ... to a real version */
	ck_assert_int_ge(a->next_read, a->version);  /* ... and was not stale: read after it */
}

/* Every success is where it was reported, no version was written twice, and
 * the store holds exactly the successes. */
static void check_race(race_log *logs)
{
	if (!et_db)
		et_db = et_open_path(dir, NULL);
	es_read *rd;
	es_stream_info info[STREAMS];
	size_t successes[STREAMS] = { 0 };
	uint64_t log;
	ck_assert_es(es_read_begin(&rd, et_db), 0);
	for (int s = 0; s < STREAMS; s++)
		ck_assert_es(es_stream_info_get(&info[s], rd, race_streams[s]), 0);
	for (int w = 0; w < race.writers; w++) {
		int64_t last_ok[STREAMS] = { -1, -1 };
		for (size_t i = 0; i < logs[w].n; i++)
			check_attempt(rd, &logs[w].a[i], w, info, last_ok, successes);
		free(logs[w].a);
	}
	ck_assert_es(es_log_head(&log, rd), 0);
	es_read_end(rd);
	for (int s = 0; s < STREAMS; s++) /* versions 0..head, each claimed once */
		ck_assert_int_eq(info[s].head_version + 1, (int64_t)successes[s]);
	ck_assert_uint_eq(successes[0] + successes[1], (size_t)(race.writers * race.successes));
	ck_assert_uint_eq(log, (uint64_t)(race.writers * race.successes));
	ck_assert_uint_eq(et_count(et_db, race_streams[0]) + et_count(et_db, race_streams[1]), log);
}

START_TEST(two_processes_append_exactly)
{
	race_log logs[WRITERS_MAX];
	race.writers = 2;
	race.successes = 300;
	race_processes(logs);
	check_race(logs);
}
END_TEST

START_TEST(two_processes_grow_the_map)
{
	race_log logs[WRITERS_MAX];
	race.writers = 2;
	race.successes = 100;
	race.payload = 40000; /* 8 MB in all, from a 1 MiB map */
	race.map_size = 1 << 20;
	race_processes(logs);
	check_race(logs);
}
END_TEST

/* Child: grows a store from a 1 MiB map by appending 16 MB. */
static int grower(void)
{
	race.map_size = 1 << 20;
	es_db *db = race_open();
	char *buf = calloc(1, 40000);
	int rc = !db || !buf;
	for (int i = 0; !rc && i < 400; i++) {
		es_event_data ev = et_event("Big", "");
		ev.payload = buf;
		ev.payload_len = 40000;
		rc = es_stream_append(NULL, db, "big", ES_ANY, &ev, 1);
	}
	if (rc)
		fprintf(stderr, "grower: %s\n", es_error_last()->message);
	free(buf);
	es_db_close(db);
	return rc != 0;
}

START_TEST(open_while_another_process_grows_the_map)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.map_size = 1 << 20;
	o.nosync = 1;
	es_db *db;
	ck_assert_es(es_db_open(&db, dir, &o), 0); /* the store exists before the race */
	es_db_close(db);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(grower());
	int status, opens = 0;
	uint64_t seen = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		ck_assert_es(es_db_open(&db, dir, &o), 0);
		uint64_t head = et_log_head(db);
		ck_assert_uint_ge(head, seen);
		seen = head;
		es_db_close(db);
		opens++;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the growing process failed");
	ck_assert_int_gt(opens, 0);
	et_db = et_open_path(dir, &o);
	ck_assert_uint_eq(et_log_head(et_db), 400);
}
END_TEST

START_TEST(eight_threads_append_exactly)
{
	race_log logs[WRITERS_MAX];
	race.writers = 8; /* concurrent commits share group transactions */
	race.successes = 150;
	race_threads(logs);
	check_race(logs);
}
END_TEST

START_TEST(threads_append_and_grow_the_map)
{
	race_log logs[WRITERS_MAX];
	race.writers = 4;
	race.successes = 100;
	race.payload = 20000;
	race.map_size = 1 << 20;
	race_threads(logs);
	check_race(logs);
}
END_TEST

/* es_<x>_options_init fills what the _INIT macro gives, and refuses a
 * version this library does not know, naming the struct. */
START_TEST(options_init_gives_the_defaults)
{
	es_open_options o, want = ES_OPEN_OPTIONS_INIT;
	memset(&o, 0xa5, sizeof o);
	ck_assert_es(es_open_options_init(&o, ES_OPEN_OPTIONS_VERSION), 0);
	ck_assert_uint_eq(o.version, want.version);
	ck_assert(o.map_size == 0 && o.nosync == 0 && o.read_only == 0 && o.file_mode == 0);
	ck_assert(o.clock == NULL && o.clock_user_data == NULL && o.max_event_size == 0);
	ck_assert_es(es_open_options_init(&o, ES_OPEN_OPTIONS_VERSION + 1), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "es_open_options_init: unknown version 2"));
	ck_assert_es(es_open_options_init(&o, 0), ES_EINVAL);
	ck_assert_es(es_open_options_init(NULL, ES_OPEN_OPTIONS_VERSION), ES_EINVAL);

	es_check_options c;
	memset(&c, 0xa5, sizeof c);
	ck_assert_es(es_check_options_init(&c, ES_CHECK_OPTIONS_VERSION), 0);
	ck_assert(c.version == ES_CHECK_OPTIONS_VERSION && c.on_problem == NULL && c.user_data == NULL &&
	          c.report == NULL && c.renew_every == 0);
	ck_assert_es(es_check_options_init(&c, 7), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "es_check_options"));
}
END_TEST

TCase *es_tc_db(void)
{
	TCase *tc = tcase_create("db");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, reopen_keeps_everything);
	tcase_add_test(tc, read_only_missing_store);
	tcase_add_test(tc, read_only_refuses_writes);
	tcase_add_test(tc, not_a_store_is_format_error);
	tcase_add_test(tc, newer_format_is_refused);
	tcase_add_test(tc, foreign_lmdb_env_is_refused);
	tcase_add_test(tc, files_are_private_by_default);
	tcase_add_test(tc, map_grows_by_itself);
	tcase_add_test(tc, map_growth_keeps_contents);
	tcase_add_test(tc, open_bad_arguments);
	tcase_add_test(tc, error_texts);
	tcase_add_test(tc, two_processes_append_exactly);
	tcase_add_test(tc, two_processes_grow_the_map);
	tcase_add_test(tc, open_while_another_process_grows_the_map);
	tcase_add_test(tc, eight_threads_append_exactly);
	tcase_add_test(tc, threads_append_and_grow_the_map);
	tcase_add_test(tc, options_init_gives_the_defaults);
	return tc;
}
