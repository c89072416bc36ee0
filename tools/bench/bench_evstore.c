/*
 * bench_evstore.c - the evstore side of es-bench: every workload through
 * the public API only, as an application would call it. W1, W1b and W2
 * use normal durable appends (never es_batch_import); only W4's untimed
 * build imports, so that each event keeps a time of its own.
 */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>
#include <evstore/audit.h>

#include "bench.h"

#define NAME "evstore"

static int es_fail(const char *what)
{
	return bench_fail(NAME, "%s: %s", what, es_error_last()->message);
}

static int open_db(es_db **db, const char *dir, int nosync)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = nosync;
	return es_db_open(db, dir, &o) ? es_fail("opening the store") : 0;
}

/* W1i/W2i: the bank's balances model inline on the handle. */
static int open_db_model(es_db **db, const char *dir, int model)
{
	int rc = open_db(db, dir, 0);
	if (rc == 0 && model && es_bank_read_model_inline(*db, ES_BANK_BALANCES)) {
		rc = es_fail("adding the balances model inline");
		es_db_close(*db);
	}
	return rc;
}

static int add_balance(const char *id, const es_bank_account *a, void *user_data)
{
	(void)id;
	*(int64_t *)user_data += a->balance;
	return 0;
}

/* The model holds what the events say (untimed; a wrong model fails the run). */
static int check_model(es_db *db, int64_t want)
{
	es_read *rd = NULL;
	int64_t sum = 0;
	if (es_read_begin(&rd, db) || es_bank_balances_each(rd, add_balance, &sum)) {
		es_read_end(rd);
		return es_fail("reading the balances model");
	}
	es_read_end(rd);
	return sum == want ? 0 : bench_fail(NAME, "the balances model sums to %lld, the events to %lld",
	                                    (long long)sum, (long long)want);
}

static void fill_event(es_event_data *e, const bench_data *d, size_t s, size_t v)
{
	memset(e, 0, sizeof *e);
	e->type = bench_kind_name(bench_kind(v));
	e->schema_version = BENCH_SCHEMA_VERSION;
	e->payload = bench_payload(d, s, v, &e->payload_len);
}

static int64_t expected_before(uint32_t version)
{
	return version == 0 ? ES_NO_STREAM : (int64_t)version - 1;
}

/* ---- W1 / W1b ---- */

/* One transaction: a batch of every slice, each at its exact version. */
static int import_txn(es_db *db, const bench_data *d, es_event_data *evs,
                      const bench_slice *sl, size_t n)
{
	es_batch *b;
	if (es_batch_new(&b, db))
		return es_fail("es_batch_new");
	for (size_t i = 0, k = 0; i < n; k += sl[i].count, i++) {
		for (uint32_t j = 0; j < sl[i].count; j++)
			fill_event(&evs[k + j], d, sl[i].stream, sl[i].version + j);
		if (es_batch_append(b, d->names[sl[i].stream], expected_before(sl[i].version),
		                    &evs[k], sl[i].count)) {
			es_batch_free(b);
			return es_fail("es_batch_append");
		}
	}
	return es_batch_commit(b, NULL) ? es_fail("es_batch_commit") : 0;
}

static int ev_import(bench_figs *out, const bench_data *d, const char *dir, int interleaved, int model)
{
	es_db *db = NULL;
	es_event_data *evs = malloc(BENCH_TXN_EVENTS * sizeof *evs);
	bench_slice *sl = malloc(BENCH_TXN_EVENTS * sizeof *sl);
	int rc = evs && sl ? open_db_model(&db, dir, model) : bench_fail(NAME, "out of memory");
	int64_t t0 = bench_mono_ns();
	for (size_t t = 0; rc == 0 && t < bench_txn_count(d); t++)
		rc = import_txn(db, d, evs, sl, bench_txn_slices(sl, d, interleaved, t));
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	if (rc == 0 && model)
		rc = check_model(db, d->balance_sum);
	es_db_close(db);
	free(evs);
	free(sl);
	bench_figs_set(out, "events_per_s", (double)d->n_events / secs);
	bench_figs_set(out, "bytes_per_event", (double)bench_file_size(dir, "data.mdb") / (double)d->n_events);
	return rc;
}

/* ---- W2 ---- */

/* One es_db serves every thread: the handle is thread-safe, and sharing it
 * is what lets group commit put concurrent commands in one transaction. */
typedef struct w2_ctx {
	es_db *db;
	const bench_data *d;
} w2_ctx;

static void *ev_thread_begin(void *shared, size_t thread)
{
	(void)thread;
	return shared;
}

static void ev_thread_end(void *ctx)
{
	(void)ctx;
}

static int ev_run(void *ctx, const bench_cmd *c)
{
	const w2_ctx *w = ctx;
	es_event_data ev[2];
	es_batch *b;
	for (size_t i = 0; i < c->n; i++) {
		memset(&ev[i], 0, sizeof ev[i]);
		ev[i].type = bench_kind_name(c->kind[i]);
		ev[i].schema_version = BENCH_SCHEMA_VERSION;
		ev[i].payload = c->payload[i];
		ev[i].payload_len = c->len[i];
	}
	if (c->n == 1)
		return es_stream_append(NULL, w->db, w->d->names[c->stream[0]], c->expected[0], ev, 1)
		       ? es_fail("es_stream_append") : 0;
	if (es_batch_new(&b, w->db))
		return es_fail("es_batch_new");
	for (size_t i = 0; i < c->n; i++)
		if (es_batch_append(b, w->d->names[c->stream[i]], c->expected[i], &ev[i], 1)) {
			es_batch_free(b);
			return es_fail("es_batch_append");
		}
	return es_batch_commit(b, NULL) ? es_fail("es_batch_commit") : 0;
}

/* Untimed: every account opened (version 0), in one transaction. */
static int open_accounts(es_db *db, const bench_data *d)
{
	es_event_data *evs = malloc(d->n_streams * sizeof *evs);
	es_batch *b;
	if (!evs || es_batch_new(&b, db)) {
		free(evs);
		return es_fail("opening the accounts");
	}
	int rc = 0;
	for (size_t s = 0; rc == 0 && s < d->n_streams; s++) {
		fill_event(&evs[s], d, s, 0);
		rc = es_batch_append(b, d->names[s], ES_NO_STREAM, &evs[s], 1);
	}
	if (rc)
		es_batch_free(b);
	else
		rc = es_batch_commit(b, NULL);
	free(evs);
	return rc ? es_fail("opening the accounts") : 0;
}

static int ev_commands(bench_figs *out, const bench_data *d, const char *dir, const bench_w2 *w, int model)
{
	w2_ctx ctx = { NULL, d };
	int rc = open_db_model(&ctx.db, dir, model);
	if (rc)
		return rc;
	bench_cmd_ops ops = { &ctx, ev_thread_begin, ev_thread_end, ev_run };
	if ((rc = open_accounts(ctx.db, d)) == 0)
		rc = bench_w2_drive(out, d, w, &ops);
	es_db_close(ctx.db);
	return rc;
}

/* ---- W3 ---- */

static int ev_fold(bench_figs *out, const bench_data *d, const char *dir)
{
	es_db *db;
	int rc = open_db(&db, dir, 0);
	if (rc)
		return rc;
	/* from events alone: the account type without snapshots */
	es_aggregate_type type = es_bank_account_type;
	type.snapshot_every = UINT32_MAX;
	int64_t sum = 0;
	uint64_t folded = 0;
	int64_t t0 = bench_mono_ns();
	for (size_t s = 0; rc == 0 && s < d->n_streams; s++) {
		es_bank_account a;
		es_load_info info;
		if (es_aggregate_load(&a, &info, db, &type, d->names[s])) {
			rc = es_fail("es_aggregate_load");
			break;
		}
		sum += a.balance;
		folded += info.events_folded;
	}
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	es_db_close(db);
	if (rc == 0 && (sum != d->balance_sum || folded != d->n_events))
		rc = bench_fail(NAME, "W3 folded %llu events to a balance sum of %lld, expected %zu and %lld",
		                (unsigned long long)folded, (long long)sum, d->n_events, (long long)d->balance_sum);
	bench_figs_set(out, "events_per_s", (double)folded / secs);
	return rc;
}

/* ---- W4 ---- */

/* Writes an account in batches of 100, each ending at a snapshot version
 * (99, 199, ...) and staging the snapshot there; the state is folded in
 * memory with es_aggregate_apply, as a command would. The batches are
 * imports so that each event keeps its own time (see bench_tt_account). */
typedef struct tt_writer {
	es_db *db;
	const bench_tt_account *acc;
	es_snapshot_key key;
	es_bank_account state;
	es_event_data ev[ES_SNAPSHOT_DEFAULT_EVERY];
	uint8_t buf[ES_SNAPSHOT_DEFAULT_EVERY][256];
} tt_writer;

static int tt_stage(tt_writer *w, es_batch *b, int64_t version)
{
	uint8_t *bytes;
	size_t len;
	if (es_bank_account_type.snapshot_encode(&bytes, &len, &w->state))
		return es_fail("encoding a snapshot");
	int rc = es_snapshot_stage(b, w->acc->stream, version, &w->key, bytes, len);
	free(bytes);
	return rc ? es_fail("es_snapshot_stage") : 0;
}

/* Event v into w->ev[j], applied to the running state. */
static int tt_event(tt_writer *w, size_t j, size_t v)
{
	es_event_data *e = &w->ev[j];
	memset(e, 0, sizeof *e);
	e->type = bench_kind_name(bench_kind(v));
	e->schema_version = BENCH_SCHEMA_VERSION;
	e->payload = w->buf[j];
	e->payload_len = bench_pack(w->buf[j], w->acc->seed, v);
	e->recorded_at = bench_tt_time(w->acc, v);
	es_event ev = { .stream = w->acc->stream, .version = (int64_t)v, .type = e->type,
	                .schema_version = e->schema_version, .payload = e->payload,
	                .payload_len = e->payload_len };
	return es_aggregate_apply(&es_bank_account_type, &w->state, &ev) ? es_fail("es_aggregate_apply") : 0;
}

static int tt_chunk(tt_writer *w, size_t v0, size_t count)
{
	es_batch *b;
	if (es_batch_new(&b, w->db) || es_batch_import(b))
		return es_fail("es_batch_new");
	int rc = 0;
	for (size_t j = 0; rc == 0 && j < count; j++)
		rc = tt_event(w, j, v0 + j);
	if (rc == 0 && es_batch_append(b, w->acc->stream, expected_before((uint32_t)v0), w->ev, count))
		rc = es_fail("es_batch_append");
	if (rc == 0 && (v0 + count) % ES_SNAPSHOT_DEFAULT_EVERY == 0)
		rc = tt_stage(w, b, (int64_t)(v0 + count - 1));
	if (rc) {
		es_batch_free(b);
		return rc;
	}
	return es_batch_commit(b, NULL) ? es_fail("es_batch_commit") : 0;
}

static int tt_write(es_db *db, const bench_tt_account *acc)
{
	tt_writer *w = calloc(1, sizeof *w);
	if (!w)
		return bench_fail(NAME, "out of memory");
	w->db = db, w->acc = acc;
	w->key.schema_version = es_bank_account_type.state_schema_version;
	w->key.fingerprint = es_registry_fingerprint(es_bank_registry());
	es_bank_account_type.init(&w->state);
	int rc = 0;
	for (size_t v = 0; rc == 0 && v < acc->n; v += ES_SNAPSHOT_DEFAULT_EVERY)
		rc = tt_chunk(w, v, acc->n - v < ES_SNAPSHOT_DEFAULT_EVERY ? acc->n - v
		                                                          : ES_SNAPSHOT_DEFAULT_EVERY);
	free(w);
	return rc;
}

/* The query: es_bank_account_load_as_of, a read of its own. */
static int ev_as_of(void *ctx, const bench_tt_account *acc, int64_t t, int64_t *version,
                    int64_t *balance)
{
	es_bank_account a;
	es_load_info info;
	if (es_bank_account_load_as_of(&a, &info, ctx, acc->id, t))
		return es_fail("es_bank_account_load_as_of");
	*version = info.version;
	*balance = a.balance;
	return 0;
}

static int ev_timetravel(bench_figs *out, const bench_data *d, const char *dir, const bench_w4 *w)
{
	es_db *db;
	bench_tt_account acc[2];
	(void)d;
	bench_tt_accounts(acc, w);
	int rc = open_db(&db, dir, 1); /* the build is not timed: no fsync per batch */
	if (rc)
		return rc;
	if ((rc = tt_write(db, &acc[0])) == 0 && (rc = tt_write(db, &acc[1])) == 0 && es_db_sync(db))
		rc = es_fail("es_db_sync");
	if (rc == 0)
		rc = bench_w4_drive(out, w, acc, ev_as_of, db);
	es_db_close(db);
	return rc;
}

/* ---- W5 ---- */

/* A field of /proc/<pid>/status in KiB ("VmHWM", "RssAnon"), -1 if absent. */
static long status_kib(const char *pid, const char *field)
{
	char path[64], line[128];
	size_t n = strlen(field);
	long kib = -1;
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	FILE *f = fopen(path, "r");
	while (f && kib < 0 && fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kib = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* The child: a fresh process (exec'd, not just forked, so its memory is
 * the dump's own and not a copy of the parent's data set) dumps the store
 * to /dev/null as JSONL with decoded payloads, and prints "events seconds
 * peak-rss-KiB". Its peak RSS (VmHWM) counts the store's pages mapped by
 * LMDB as well as what the dump allocates. */
int bench_dump_child(const char *dir)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	es_dump_options d = ES_DUMP_OPTIONS_INIT;
	es_dump_stats st;
	es_db *db;
	FILE *null = fopen("/dev/null", "w");
	o.read_only = 1;
	d.descriptor = es_bank_descriptor;
	if (!null || es_db_open(&db, dir, &o))
		return es_fail("opening the store for the dump");
	int64_t t0 = bench_mono_ns();
	int rc = es_dump(&st, db, null, &d);
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	es_db_close(db);
	fclose(null);
	if (rc)
		return es_fail("es_dump");
	printf("%llu %.9f %ld\n", (unsigned long long)st.events, secs, status_kib("self", "VmHWM"));
	return 0;
}

/* Starts the child; returns once it has exec'd (its close-on-exec pipe
 * closes), so that sampling its memory never sees the fork's copy. */
static pid_t spawn_child(int *out_fd, const char *dir)
{
	int fds[2], sync[2];
	char c;
	if (pipe(fds))
		return -1;
	if (pipe2(sync, O_CLOEXEC)) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		close(sync[0]);
		execl("/proc/self/exe", "es-bench", "--w5-child", dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	close(sync[1]);
	while (pid > 0 && read(sync[0], &c, 1) > 0)
		;
	close(sync[0]);
	*out_fd = fds[0];
	return pid;
}

/* W5 in a child process: events_per_s as the child timed it, its peak RSS
 * (peak_rss_kib) and its anonymous memory sampled every 5 ms
 * (peak_anon_kib: what the dump allocates, without the mapped store). */
static int ev_dump(bench_figs *out, const bench_data *d, const char *dir)
{
	int fd, status = 0;
	long anon = 0, rss = -1;
	char pid_text[24];
	pid_t got, pid = spawn_child(&fd, dir);
	if (pid < 0)
		return bench_fail(NAME, "cannot start the dump process");
	snprintf(pid_text, sizeof pid_text, "%d", (int)pid);
	while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
		long k = status_kib(pid_text, "RssAnon");
		anon = k > anon ? k : anon;
		usleep(5000);
	}
	FILE *f = fdopen(fd, "r");
	unsigned long long events = 0;
	double secs = 0;
	int ok = f && fscanf(f, "%llu %lf %ld", &events, &secs, &rss) == 3;
	if (f)
		fclose(f);
	if (got != pid || !ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || events != d->n_events)
		return bench_fail(NAME, "the dump process failed (%llu events)", events);
	bench_figs_set(out, "events_per_s", (double)events / secs);
	bench_figs_set(out, "peak_rss_kib", (double)rss);
	bench_figs_set(out, "peak_anon_kib", (double)anon);
	return 0;
}

const bench_backend bench_evstore = {
	NAME, ev_import, ev_commands, 1, ev_fold, ev_timetravel, ev_dump, bench_evstore_subscribe,
	bench_evstore_project,
};
