/*
 * bench_sqlite.c - the usual embedded alternative: an SQLite event store as
 * people write it. WAL mode, synchronous=FULL, one events table with an
 * integer primary key position, UNIQUE(stream, version) and a unique event
 * id; the expected version checked with SELECT max(version) in the same
 * transaction; payloads decoded with the same protobuf-c code as evstore.
 * W4's store adds what time travel needs in SQL: an index on
 * (stream, recorded_at) and a snapshots table (only there, so W1 measures
 * the plain table). Built only when libsqlite3 is found.
 */
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <evstore/bank.h>

#include "bench.h"

#define NAME "sqlite"
#define FILE_NAME "events.db"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS events(position INTEGER PRIMARY KEY, stream TEXT NOT NULL, "
	"version INTEGER NOT NULL, id BLOB NOT NULL UNIQUE, type TEXT NOT NULL, "
	"recorded_at INTEGER NOT NULL, payload BLOB NOT NULL, UNIQUE(stream, version));";

/* The balances read model (W1i, W2i, W7): a row per account. */
#define BALANCES_SCHEMA \
	"CREATE TABLE IF NOT EXISTS balances(stream TEXT PRIMARY KEY, balance INTEGER NOT NULL) WITHOUT ROWID;"
#define BALANCE_OPEN_SQL "INSERT OR IGNORE INTO balances VALUES (?1, 0)"
#define BALANCE_ADD_SQL "UPDATE balances SET balance = balance + ?2 WHERE stream = ?1"

static const char tt_schema_sql[] =
	"CREATE INDEX IF NOT EXISTS events_time ON events(stream, recorded_at);"
	"CREATE TABLE IF NOT EXISTS snapshots(stream TEXT NOT NULL, version INTEGER NOT NULL, "
	"state BLOB NOT NULL, PRIMARY KEY(stream, version)) WITHOUT ROWID;";

/* A connection and its statements. */
typedef struct sq {
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *head, *insert;
	sqlite3_stmt *model_open, *model_add; /* W1i/W2i: the balances row of each event; else NULL */
	int64_t at;          /* the transaction's commit time (per connection) */
	uint64_t rng;
} sq;

static int sq_fail(sqlite3 *db, const char *what)
{
	return bench_fail(NAME, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	bench_fail(NAME, "%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
	return -1;
}

static int prepare(sq *s)
{
	static const char *const sql[] = {
		"BEGIN IMMEDIATE", "COMMIT", "SELECT max(version) FROM events WHERE stream = ?1",
		"INSERT INTO events(stream, version, id, type, recorded_at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	};
	sqlite3_stmt **slot[] = { &s->begin, &s->commit, &s->head, &s->insert };
	for (size_t i = 0; i < 4; i++)
		if (sqlite3_prepare_v2(s->db, sql[i], -1, slot[i], NULL) != SQLITE_OK)
			return sq_fail(s->db, sql[i]);
	return 0;
}

static void sq_close(sq *s)
{
	sqlite3_finalize(s->model_open);
	sqlite3_finalize(s->model_add);
	sqlite3_finalize(s->begin);
	sqlite3_finalize(s->commit);
	sqlite3_finalize(s->head);
	sqlite3_finalize(s->insert);
	sqlite3_close(s->db);
	memset(s, 0, sizeof *s);
}

/* Opens dir/events.db; sync is "FULL" (durable) or "OFF" (untimed builds). */
static int sq_open(sq *s, const char *dir, const char *sync, uint64_t seed)
{
	char path[4096], pragmas[128];
	memset(s, 0, sizeof *s);
	s->rng = seed;
	snprintf(path, sizeof path, "%s/%s", dir, FILE_NAME);
	snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;", sync);
	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                         SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = sq_fail(s->db, "opening the database");
		sqlite3_close(s->db);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 60000); /* 16 writers queue on one lock */
	if (exec(s->db, pragmas) || exec(s->db, schema_sql) || prepare(s)) {
		sq_close(s);
		return -1;
	}
	return 0;
}

/* W1i/W2i: every insert on this connection also moves its balances row. */
static int sq_model(sq *s)
{
	if (exec(s->db, BALANCES_SCHEMA))
		return -1;
	if (sqlite3_prepare_v2(s->db, BALANCE_OPEN_SQL, -1, &s->model_open, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, BALANCE_ADD_SQL, -1, &s->model_add, NULL) != SQLITE_OK)
		return sq_fail(s->db, "preparing the balances model");
	return 0;
}

/* The balances model's sum (untimed; a wrong model fails the run). */
static int sq_check_model(sq *s, int64_t want)
{
	sqlite3_stmt *st;
	int64_t sum = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT sum(balance) FROM balances", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s->db, "summing the balances");
	if (sqlite3_step(st) == SQLITE_ROW)
		sum = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return sum == want ? 0 : bench_fail(NAME, "the balances model sums to %lld, the events to %lld",
	                                    (long long)sum, (long long)want);
}

static int step_done(sq *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(s->db, what);
}

/* The expected-version check: the stream's head must be expected (-1 for
 * a new stream). */
static int check_head(sq *s, const char *stream, int64_t expected)
{
	sqlite3_bind_text(s->head, 1, stream, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s->head);
	int64_t head = rc == SQLITE_ROW && sqlite3_column_type(s->head, 0) != SQLITE_NULL
	               ? sqlite3_column_int64(s->head, 0) : -1;
	sqlite3_reset(s->head);
	if (rc != SQLITE_ROW)
		return sq_fail(s->db, "reading a stream head");
	if (head != expected)
		return bench_fail(NAME, "stream '%s': expected version %lld, found %lld", stream,
		                  (long long)expected, (long long)head);
	return 0;
}

/* A balances row made (an account opened) or moved by one event. */
static int balance_update(sq *s, sqlite3_stmt *open, sqlite3_stmt *add, const char *stream, int kind,
                          const uint8_t *payload, size_t len)
{
	sqlite3_stmt *st = kind == BENCH_OPENED ? open : add;
	int64_t amount = 0;
	if (kind != BENCH_OPENED && es_bank_amount_of(&amount, payload, len))
		return bench_fail(NAME, "a payload does not decode");
	sqlite3_bind_text(st, 1, stream, -1, SQLITE_TRANSIENT);
	if (kind != BENCH_OPENED)
		sqlite3_bind_int64(st, 2, kind == BENCH_WITHDRAWN ? -amount : amount);
	return step_done(s, st, "updating a balance");
}

static int insert(sq *s, const char *stream, int64_t version, int kind, const uint8_t *payload,
                  size_t len)
{
	uint8_t id[16];
	bench_uuid7(id, &s->rng, s->at);
	sqlite3_bind_text(s->insert, 1, stream, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->insert, 2, version);
	sqlite3_bind_blob(s->insert, 3, id, 16, SQLITE_STATIC);
	sqlite3_bind_text(s->insert, 4, bench_kind_name(kind), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->insert, 5, s->at);
	sqlite3_bind_blob(s->insert, 6, payload, (int)len, SQLITE_STATIC);
	int rc = step_done(s, s->insert, "inserting an event");
	return rc == 0 && s->model_open ? balance_update(s, s->model_open, s->model_add, stream, kind, payload, len)
	                                : rc;
}

/* One stream's share of a transaction: check, then insert. */
static int put_slice(sq *s, const bench_data *d, uint32_t stream, uint32_t v0, uint32_t count)
{
	int rc = check_head(s, d->names[stream], (int64_t)v0 - 1);
	for (uint32_t j = 0; rc == 0 && j < count; j++) {
		size_t len;
		const uint8_t *p = bench_payload(d, stream, v0 + j, &len);
		rc = insert(s, d->names[stream], v0 + j, bench_kind(v0 + j), p, len);
	}
	return rc;
}

/* BEGIN IMMEDIATE, and the transaction's time, as the engine takes it:
 * one for the whole transaction, later than this connection's last. */
static int begin(sq *s)
{
	int64_t now = bench_wall_ns();
	s->at = now > s->at ? now : s->at + 1;
	return step_done(s, s->begin, "BEGIN IMMEDIATE");
}

static int finish(sq *s, int rc)
{
	if (rc) {
		exec(s->db, "ROLLBACK");
		return rc;
	}
	return step_done(s, s->commit, "COMMIT");
}

/* ---- W1 / W1b ---- */

static int import_txn(sq *s, const bench_data *d, const bench_slice *sl, size_t n)
{
	int rc = begin(s);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = put_slice(s, d, sl[i].stream, sl[i].version, sl[i].count);
	return finish(s, rc);
}

/* Bytes on disk: the database and its WAL, after a checkpoint. */
static double bytes_per_event(sq *s, const char *dir, size_t n)
{
	if (exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE);"))
		return -1;
	uint64_t bytes = bench_file_size(dir, FILE_NAME) + bench_file_size(dir, FILE_NAME "-wal");
	return (double)bytes / (double)n;
}

static int sq_import(bench_figs *out, const bench_data *d, const char *dir, int interleaved, int model)
{
	sq s;
	bench_slice *sl = malloc(BENCH_TXN_EVENTS * sizeof *sl);
	int rc = sl ? sq_open(&s, dir, "FULL", 0x5eed) : bench_fail(NAME, "out of memory");
	int opened = rc == 0;
	if (rc == 0 && model)
		rc = sq_model(&s);
	int64_t t0 = bench_mono_ns();
	for (size_t t = 0; rc == 0 && t < bench_txn_count(d); t++)
		rc = import_txn(&s, d, sl, bench_txn_slices(sl, d, interleaved, t));
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	bench_figs_set(out, "events_per_s", (double)d->n_events / secs);
	if (rc == 0 && model)
		rc = sq_check_model(&s, d->balance_sum);
	if (rc == 0)
		bench_figs_set(out, "bytes_per_event", bytes_per_event(&s, dir, d->n_events));
	if (opened)
		sq_close(&s);
	free(sl);
	return rc;
}

/* ---- W2: a connection per thread, BEGIN IMMEDIATE, check, insert, COMMIT ---- */

typedef struct w2_shared {
	const char *dir;
	const bench_data *d;
	int model;
} w2_shared;

typedef struct w2_ctx {
	sq s;
	const bench_data *d;
} w2_ctx;

static void *sq_thread_begin(void *shared, size_t thread)
{
	const w2_shared *sh = shared;
	w2_ctx *c = calloc(1, sizeof *c);
	if (!c || sq_open(&c->s, sh->dir, "FULL", 0x5eed + thread)) {
		free(c);
		return NULL;
	}
	if (sh->model && sq_model(&c->s)) {
		sq_close(&c->s);
		free(c);
		return NULL;
	}
	c->d = sh->d;
	return c;
}

static void sq_thread_end(void *ctx)
{
	w2_ctx *c = ctx;
	sq_close(&c->s);
	free(c);
}

static int sq_run(void *ctx, const bench_cmd *c)
{
	w2_ctx *w = ctx;
	int rc = begin(&w->s);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		rc = check_head(&w->s, w->d->names[c->stream[i]], c->expected[i]);
	for (size_t i = 0; rc == 0 && i < c->n; i++)
		rc = insert(&w->s, w->d->names[c->stream[i]], c->expected[i] + 1, c->kind[i],
		            c->payload[i], c->len[i]);
	return finish(&w->s, rc);
}

static int open_accounts(sq *s, const bench_data *d)
{
	int rc = begin(s);
	for (uint32_t st = 0; rc == 0 && st < d->n_streams; st++)
		rc = put_slice(s, d, st, 0, 1);
	return rc ? rc : finish(s, rc);
}

static int sq_commands(bench_figs *out, const bench_data *d, const char *dir, const bench_w2 *w, int model)
{
	sq s;
	int rc = sq_open(&s, dir, "FULL", 0x5eed);
	if (rc == 0 && model && (rc = sq_model(&s)))
		sq_close(&s);
	if (rc)
		return rc;
	w2_shared sh = { dir, d, model };
	bench_cmd_ops ops = { &sh, sq_thread_begin, sq_thread_end, sq_run };
	if ((rc = open_accounts(&s, d)) == 0)
		rc = bench_w2_drive(out, d, w, &ops);
	sq_close(&s);
	return rc;
}

/* ---- W3 ---- */

/* Applies every row of a statement returning (type, payload). */
static int fold_rows(bench_account *a, uint64_t *folded, sq *s, sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 0);
		int kind = bench_kind_of(type, (size_t)sqlite3_column_bytes(st, 0));
		const uint8_t *p = sqlite3_column_blob(st, 1);
		if (bench_apply(a, kind, p, (size_t)sqlite3_column_bytes(st, 1)))
			rc = SQLITE_CORRUPT;
		if (rc != SQLITE_ROW)
			break;
		(*folded)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(s->db, "folding a stream");
}

static int fold_all(int64_t *sum, uint64_t *folded, sq *s, const bench_data *d)
{
	sqlite3_stmt *st;
	const char *sql = "SELECT type, payload FROM events WHERE stream = ?1 ORDER BY version";
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s->db, sql);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < d->n_streams; i++) {
		bench_account a;
		memset(&a, 0, sizeof a);
		sqlite3_bind_text(st, 1, d->names[i], -1, SQLITE_STATIC);
		rc = fold_rows(&a, folded, s, st);
		*sum += a.balance;
	}
	sqlite3_finalize(st);
	return rc;
}

static int sq_fold(bench_figs *out, const bench_data *d, const char *dir)
{
	sq s;
	int rc = sq_open(&s, dir, "FULL", 1);
	if (rc)
		return rc;
	int64_t sum = 0;
	uint64_t folded = 0;
	int64_t t0 = bench_mono_ns();
	rc = fold_all(&sum, &folded, &s, d);
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	sq_close(&s);
	if (rc == 0 && (sum != d->balance_sum || folded != d->n_events))
		rc = bench_fail(NAME, "W3 folded %llu events to a balance sum of %lld, expected %zu and %lld",
		                (unsigned long long)folded, (long long)sum, d->n_events, (long long)d->balance_sum);
	bench_figs_set(out, "events_per_s", (double)folded / secs);
	return rc;
}

/* ---- W7: a balances table kept from the events table, in batches ---- */

static const char w7_schema[] =
	"DROP TABLE IF EXISTS balances; DROP TABLE IF EXISTS balances_position;" BALANCES_SCHEMA
	"CREATE TABLE balances_position(id INTEGER PRIMARY KEY, position INTEGER NOT NULL);"
	"INSERT INTO balances_position VALUES (1, 0);";

typedef struct w7_stmts {
	sqlite3_stmt *page, *open, *add, *pos, *sum;
} w7_stmts;

static int w7_prepare(w7_stmts *w, sq *s)
{
	static const char *const sql[] = {
		"SELECT position, stream, type, payload FROM events WHERE position > ?1 ORDER BY position LIMIT 1000",
		BALANCE_OPEN_SQL,
		BALANCE_ADD_SQL,
		"UPDATE balances_position SET position = ?1 WHERE id = 1",
		"SELECT sum(balance) FROM balances",
	};
	sqlite3_stmt **slot[] = { &w->page, &w->open, &w->add, &w->pos, &w->sum };
	for (size_t i = 0; i < 5; i++)
		if (sqlite3_prepare_v2(s->db, sql[i], -1, slot[i], NULL) != SQLITE_OK)
			return sq_fail(s->db, sql[i]);
	return 0;
}

static void w7_finalize(w7_stmts *w)
{
	sqlite3_finalize(w->page);
	sqlite3_finalize(w->open);
	sqlite3_finalize(w->add);
	sqlite3_finalize(w->pos);
	sqlite3_finalize(w->sum);
}

/* One event of a page: the account's row made, or its balance moved. */
static int w7_apply(sq *s, w7_stmts *w, sqlite3_stmt *row)
{
	const char *type = (const char *)sqlite3_column_text(row, 2);
	return balance_update(s, w->open, w->add, (const char *)sqlite3_column_text(row, 1),
	                      bench_kind_of(type, (size_t)sqlite3_column_bytes(row, 2)),
	                      sqlite3_column_blob(row, 3), (size_t)sqlite3_column_bytes(row, 3));
}

/* Pages of 1000 events, each page and the new position in one transaction. */
static int w7_run(uint64_t *applied, sq *s, w7_stmts *w)
{
	int64_t last = 0;
	size_t n;
	do {
		int rc = step_done(s, s->begin, "BEGIN");
		n = 0;
		sqlite3_bind_int64(w->page, 1, last);
		while (rc == 0 && sqlite3_step(w->page) == SQLITE_ROW) {
			last = sqlite3_column_int64(w->page, 0);
			rc = w7_apply(s, w, w->page);
			n++;
		}
		sqlite3_reset(w->page);
		sqlite3_bind_int64(w->pos, 1, last);
		if (rc || (rc = step_done(s, w->pos, "saving the position")) || (rc = step_done(s, s->commit, "COMMIT")))
			return rc;
		*applied += n;
	} while (n == 1000);
	return 0;
}

static int sq_project(bench_figs *out, const bench_data *d, const char *dir)
{
	sq s;
	w7_stmts w = { 0 };
	uint64_t applied = 0;
	int64_t sum = 0;
	int rc = sq_open(&s, dir, "FULL", 7);
	if (rc)
		return rc;
	if ((rc = exec(s.db, w7_schema)) == 0 && (rc = w7_prepare(&w, &s)) == 0) { /* untimed: the reset */
		int64_t t0 = bench_mono_ns();
		rc = w7_run(&applied, &s, &w);
		bench_figs_set(out, "events_per_s", (double)d->n_events / ((double)(bench_mono_ns() - t0) / 1e9));
		if (rc == 0 && sqlite3_step(w.sum) == SQLITE_ROW)
			sum = sqlite3_column_int64(w.sum, 0);
	}
	w7_finalize(&w);
	sq_close(&s);
	if (rc == 0 && (applied != d->n_events || sum != d->balance_sum))
		rc = bench_fail(NAME, "W7 projected %llu events to a balance sum of %lld, expected %zu and %lld",
		                (unsigned long long)applied, (long long)sum, d->n_events, (long long)d->balance_sum);
	return rc;
}

/* ---- W4 ---- */

typedef struct tt_stmts {
	sqlite3_stmt *begin, *end, *version, *snapshot, *events;
} tt_stmts;

static int tt_snapshot(sq *s, sqlite3_stmt *ins, const char *name, int64_t version, const bench_account *a)
{
	uint8_t state[256];
	size_t len = bench_state_pack(state, a);
	sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ins, 2, version);
	sqlite3_bind_blob(ins, 3, state, (int)len, SQLITE_STATIC);
	return step_done(s, ins, "inserting a snapshot");
}

/* An account, 100 events per transaction, each event at its own time,
 * each transaction ending with the snapshot of its last version. */
static int tt_write(sq *s, sqlite3_stmt *snap, const bench_tt_account *acc)
{
	bench_account a;
	memset(&a, 0, sizeof a);
	int rc = 0;
	for (size_t v0 = 0; rc == 0 && v0 < acc->n; v0 += 100) {
		size_t count = acc->n - v0 < 100 ? acc->n - v0 : 100;
		rc = begin(s);
		for (size_t j = 0; rc == 0 && j < count; j++) {
			uint8_t buf[256];
			size_t len = bench_pack(buf, acc->seed, v0 + j);
			s->at = bench_tt_time(acc, v0 + j);
			rc = insert(s, acc->stream, (int64_t)(v0 + j), bench_kind(v0 + j), buf, len);
			if (rc == 0 && bench_apply(&a, bench_kind(v0 + j), buf, len))
				rc = bench_fail(NAME, "an event does not decode");
		}
		if (rc == 0 && count == 100)
			rc = tt_snapshot(s, snap, acc->stream, (int64_t)(v0 + 99), &a);
		rc = finish(s, rc);
	}
	return rc;
}

static int tt_build(sq *s, const bench_tt_account acc[2])
{
	sqlite3_stmt *snap;
	const char *sql = "INSERT INTO snapshots(stream, version, state) VALUES (?1, ?2, ?3)";
	if (exec(s->db, tt_schema_sql))
		return -1;
	if (sqlite3_prepare_v2(s->db, sql, -1, &snap, NULL) != SQLITE_OK)
		return sq_fail(s->db, sql);
	int rc = tt_write(s, snap, &acc[0]);
	if (rc == 0)
		rc = tt_write(s, snap, &acc[1]);
	sqlite3_finalize(snap);
	return rc ? rc : exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE);");
}

static int tt_prepare(tt_stmts *t, sq *s)
{
	static const char *const sql[] = {
		"BEGIN", "COMMIT",
		"SELECT version FROM events WHERE stream = ?1 AND recorded_at <= ?2 "
		"ORDER BY recorded_at DESC LIMIT 1",
		"SELECT version, state FROM snapshots WHERE stream = ?1 AND version <= ?2 "
		"ORDER BY version DESC LIMIT 1",
		"SELECT type, payload FROM events WHERE stream = ?1 AND version > ?2 AND version <= ?3 "
		"ORDER BY version",
	};
	sqlite3_stmt **slot[] = { &t->begin, &t->end, &t->version, &t->snapshot, &t->events };
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < 5; i++)
		if (sqlite3_prepare_v2(s->db, sql[i], -1, slot[i], NULL) != SQLITE_OK)
			return sq_fail(s->db, sql[i]);
	return 0;
}

static void tt_finalize(tt_stmts *t)
{
	sqlite3_finalize(t->begin);
	sqlite3_finalize(t->end);
	sqlite3_finalize(t->version);
	sqlite3_finalize(t->snapshot);
	sqlite3_finalize(t->events);
}

/* The first column of a one-row query, or -1 with no row; with a, the
 * second column is a snapshot state decoded into it. */
static int64_t tt_one(sqlite3_stmt *st, bench_account *a)
{
	int64_t v = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		if (a && bench_state_unpack(a, sqlite3_column_blob(st, 1),
		                            (size_t)sqlite3_column_bytes(st, 1)))
			v = -1;
	}
	sqlite3_reset(st);
	return v;
}

/* Version at t, newest snapshot at or below it, the events after it. */
static int fold_as_of(bench_account *a, int64_t *ver, sq *s, tt_stmts *t, const char *name, int64_t at)
{
	uint64_t folded = 0;
	memset(a, 0, sizeof *a);
	sqlite3_bind_text(t->version, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->version, 2, at);
	if ((*ver = tt_one(t->version, NULL)) < 0)
		return bench_fail(NAME, "%s did not exist at %lld", name, (long long)at);
	sqlite3_bind_text(t->snapshot, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->snapshot, 2, *ver);
	int64_t snap = tt_one(t->snapshot, a);
	if (snap < 0)
		memset(a, 0, sizeof *a);
	sqlite3_bind_text(t->events, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(t->events, 2, snap);
	sqlite3_bind_int64(t->events, 3, *ver);
	return fold_rows(a, &folded, s, t->events);
}

typedef struct tt_ctx {
	sq *s;
	tt_stmts *t;
} tt_ctx;

/* The query in its own read transaction: three statements that must see
 * one state. */
static int sq_as_of(void *ctx, const bench_tt_account *acc, int64_t at, int64_t *version,
                    int64_t *balance)
{
	tt_ctx *c = ctx;
	bench_account a;
	int rc = step_done(c->s, c->t->begin, "BEGIN");
	if (rc)
		return rc;
	rc = fold_as_of(&a, version, c->s, c->t, acc->stream, at);
	int end = step_done(c->s, c->t->end, "COMMIT");
	*balance = a.balance;
	return rc ? rc : end;
}

static int sq_timetravel(bench_figs *out, const bench_data *d, const char *dir, const bench_w4 *w)
{
	sq s;
	tt_stmts t = { 0 };
	tt_ctx c = { &s, &t };
	bench_tt_account acc[2];
	(void)d;
	bench_tt_accounts(acc, w);
	int rc = sq_open(&s, dir, "OFF", 0x77); /* the build is not timed */
	if (rc)
		return rc;
	if ((rc = tt_build(&s, acc)) == 0 && (rc = tt_prepare(&t, &s)) == 0)
		rc = bench_w4_drive(out, w, acc, sq_as_of, &c);
	tt_finalize(&t);
	sq_close(&s);
	return rc;
}

/* ---- W6: reading the log as a subscriber would, by polling ---- */

static const char w6_payload[64] = "a W6 event, the same bytes every time, sixty-four bytes long";

/* Event i of W6's store (or of its wake-up stream). */
static int w6_insert(sq *s, const char *stream, int64_t version, const char *type)
{
	uint8_t id[16];
	bench_uuid7(id, &s->rng, 0);
	sqlite3_bind_text(s->insert, 1, stream, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s->insert, 2, version);
	sqlite3_bind_blob(s->insert, 3, id, 16, SQLITE_TRANSIENT);
	sqlite3_bind_text(s->insert, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s->insert, 5, 0);
	sqlite3_bind_blob(s->insert, 6, w6_payload, sizeof w6_payload, SQLITE_STATIC);
	return step_done(s, s->insert, "inserting a W6 event");
}

static int w6_build(sq *s, const bench_w6 *w)
{
	char name[BENCH_NAME_SIZE];
	for (size_t i = 0; i < w->events; i += BENCH_TXN_EVENTS) {
		int rc = step_done(s, s->begin, "BEGIN");
		for (size_t j = i; rc == 0 && j < i + BENCH_TXN_EVENTS && j < w->events; j++) {
			snprintf(name, sizeof name, "w6-%04zu", j % BENCH_W6_STREAMS);
			rc = w6_insert(s, name, (int64_t)(j / BENCH_W6_STREAMS), bench_w6_type(j));
		}
		if (rc || (rc = step_done(s, s->commit, "COMMIT")))
			return rc;
	}
	return 0;
}

/* Pages through the log after position 0 as a poller does, 1000 rows a
 * query (type NULL: every event); the positions covered per second. */
static int w6_page(double *rate, sq *s, const char *type, size_t n, int one_query)
{
	const char *sql = one_query ? "SELECT position, stream, type, payload FROM events ORDER BY position"
	                  : type ? "SELECT position, stream, type, payload FROM events WHERE position > ?1 "
	                           "AND type = ?2 ORDER BY position LIMIT 1000"
	                         : "SELECT position, stream, type, payload FROM events WHERE position > ?1 "
	                           "ORDER BY position LIMIT 1000";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s->db, sql);
	int64_t t0 = bench_mono_ns(), last = 0;
	size_t seen = 0, page;
	do {
		page = 0;
		sqlite3_reset(st);
		if (!one_query)
			sqlite3_bind_int64(st, 1, last);
		if (type)
			sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			last = sqlite3_column_int64(st, 0);
			seen += sqlite3_column_bytes(st, 3) > 0;
			page++;
		}
	} while (!one_query && page == 1000);
	sqlite3_finalize(st);
	*rate = (double)n / ((double)(bench_mono_ns() - t0) / 1e9);
	size_t want = type ? n / 10 : n;
	return seen == want ? 0 : bench_fail(NAME, "W6 saw %zu of %zu events", seen, want);
}

static int w6_append(void *ctx, size_t i)
{
	sq *s = ctx;
	(void)i;
	int rc = step_done(s, s->begin, "BEGIN");
	if (rc == 0 && (rc = w6_insert(s, "wake", s->at++, "Woken")) == 0) /* at: the next version */
		rc = step_done(s, s->commit, "COMMIT");
	return rc;
}

/* A poller: the newest position every millisecond, as such code does. */
static int w6_poll(sq *s, _Atomic int *ready, int64_t *delivered, size_t n)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "SELECT max(position) FROM events", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s->db, "preparing the poll");
	int64_t seen = -1;
	size_t k = 0;
	int64_t give_up = bench_mono_ns() + (int64_t)60e9;
	while (k < n && bench_mono_ns() < give_up) {
		sqlite3_reset(st);
		int64_t head = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		if (seen < 0) {
			seen = head;
			*ready = 1;
		}
		for (; seen < head && k < n; seen++)
			delivered[k++] = bench_mono_ns();
		struct timespec ts = { 0, 1000000L };
		nanosleep(&ts, NULL);
	}
	sqlite3_finalize(st);
	return k == n ? 0 : bench_fail(NAME, "the W6 poller saw %zu of %zu events", k, n);
}

static int w6_listen(void *ctx, const char *dir, _Atomic int *ready, int64_t *delivered, size_t n)
{
	sq s;
	(void)ctx; /* a connection per thread */
	int rc = sq_open(&s, dir, "FULL", 0x66);
	if (rc == 0)
		rc = w6_poll(&s, ready, delivered, n);
	sq_close(&s);
	return rc;
}

static int sq_subscribe(bench_figs *out, const bench_w6 *w, const char *dir)
{
	sq s;
	double scan = 0, all = 0, rare = 0;
	int rc = sq_open(&s, dir, "OFF", 0x65); /* the build is not timed */
	/* The first scan warms the page cache for all three timed passes. */
	if (rc == 0 && (rc = w6_build(&s, w)) == 0 && (rc = w6_page(&scan, &s, NULL, w->events, 1)) == 0 &&
	    (rc = w6_page(&scan, &s, NULL, w->events, 1)) == 0 &&
	    (rc = w6_page(&all, &s, NULL, w->events, 0)) == 0)
		rc = w6_page(&rare, &s, BENCH_W6_RARE, w->events, 0);
	sq_close(&s);
	if (rc || (rc = sq_open(&s, dir, "FULL", 0x67)))
		return rc;
	bench_figs_set(out, "scan_events_per_s", scan);
	bench_figs_set(out, "events_per_s", all);
	bench_figs_set(out, "rare_events_per_s", rare);
	bench_wake_ops ops = { NAME, dir, &s, 0, w6_append, w6_listen };
	rc = bench_wake_drive(out, &ops, w->wakeups);
	sq_close(&s);
	return rc;
}

const bench_backend bench_sqlite = {
	NAME, sq_import, sq_commands, 1, sq_fold, sq_timetravel, NULL, sq_subscribe, sq_project,
};
