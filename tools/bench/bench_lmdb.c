/*
 * bench_lmdb.c - the floor: raw LMDB doing exactly the puts and gets the
 * engine must do for each workload, in the engine's layout (events keyed by
 * stream id BE64 + version BE64 holding a small fixed header and the
 * payload; the log written with MDB_APPEND; the event-id index; one stream
 * head record per stream touched), with no encoding work, checksums or
 * checks beyond that. Versions are known in memory; nothing is verified
 * that the engine would verify.
 */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define NAME "lmdb"

/* Fixed header of an event value: kind u32, schema version u32, position
 * u64, recorded_at i64, id[16]; then the payload. */
#define HDR 40
/* Stream head record: id, head, first visible, first/last recorded_at, flags. */
#define HEAD_REC 44

typedef struct lm {
	MDB_env *env;
	MDB_dbi events, log, ids, streams, names, snaps;
	uint64_t next_pos;   /* touched only inside write transactions */
	int64_t at;          /* the write transaction's commit time */
	uint64_t rng;
	/* As the engine does: ids that increase, and appends through cursors
	 * left at the end of events (for the newest stream), log and ids. */
	uint8_t last_id[16];
	uint64_t newest_sid;
	MDB_cursor *end_events, *end_log, *end_ids;
} lm;

static int lm_fail(int rc, const char *what)
{
	return bench_fail(NAME, "%s: %s", what, mdb_strerror(rc));
}

static int open_dbis(lm *l, unsigned int flags)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(l->env, NULL, flags & MDB_RDONLY, &txn);
	if (rc)
		return lm_fail(rc, "mdb_txn_begin");
	MDB_dbi *slot[] = { &l->events, &l->log, &l->ids, &l->streams, &l->names, &l->snaps };
	const char *names[] = { "events", "log", "event_ids", "streams", "stream_names", "snapshots" };
	for (size_t i = 0; rc == 0 && i < 6; i++)
		rc = mdb_dbi_open(txn, names[i], flags & MDB_RDONLY ? 0 : MDB_CREATE, slot[i]);
	if (rc) {
		mdb_txn_abort(txn);
		return lm_fail(rc, "mdb_dbi_open");
	}
	return (rc = mdb_txn_commit(txn)) ? lm_fail(rc, "mdb_txn_commit") : 0;
}

/* A map large enough for every workload: the floor never resizes. */
static int lm_open(lm *l, const char *dir, unsigned int flags)
{
	memset(l, 0, sizeof *l);
	l->next_pos = 1;
	l->rng = 0x1234567;
	int rc = mdb_env_create(&l->env);
	if (!rc) rc = mdb_env_set_maxdbs(l->env, 8);
	if (!rc) rc = mdb_env_set_mapsize(l->env, (size_t)8 << 30);
	if (!rc) rc = mdb_env_open(l->env, dir, flags, 0600);
	if (rc) {
		mdb_env_close(l->env);
		return lm_fail(rc, "mdb_env_open");
	}
	if ((rc = open_dbis(l, flags)))
		mdb_env_close(l->env);
	return rc;
}

/* ---- the writes ---- */

/* An id later than the last one, as the engine generates them. */
static void next_id(uint8_t id[16], lm *l)
{
	bench_uuid7(id, &l->rng, l->at);
	if (memcmp(id, l->last_id, 16) <= 0) {
		memcpy(id, l->last_id, 16);
		bench_put_be64(id + 8, bench_get_be64(id + 8) + 1);
	}
	memcpy(l->last_id, id, 16);
}

/* A put that tries an append through the table's end cursor first. */
static int put_last(MDB_txn *txn, MDB_cursor **end, MDB_dbi dbi, MDB_val *k, MDB_val *v,
                    unsigned int flags, int likely_last)
{
	size_t size = v->mv_size;
	if (likely_last) {
		int rc = *end ? 0 : mdb_cursor_open(txn, dbi, end);
		if (rc == 0)
			rc = mdb_cursor_put(*end, k, v, flags | MDB_APPEND);
		if (rc != MDB_KEYEXIST)
			return rc;
		v->mv_size = size;
	}
	return mdb_put(txn, dbi, k, v, flags);
}

static int put_event(MDB_txn *txn, lm *l, uint64_t sid, uint64_t ver, int kind,
                     const uint8_t *payload, size_t len)
{
	uint8_t key[16], pos[8], id[16];
	int64_t at = l->at;
	uint32_t hdr32[2] = { (uint32_t)kind, BENCH_SCHEMA_VERSION };
	uint64_t p = l->next_pos++;
	bench_put_be64(key, sid);
	bench_put_be64(key + 8, ver);
	bench_put_be64(pos, p);
	next_id(id, l);
	int newest = sid >= l->newest_sid;
	l->newest_sid = newest ? sid : l->newest_sid;
	MDB_val k = { 16, key }, v = { HDR + len, NULL };
	int rc = put_last(txn, &l->end_events, l->events, &k, &v, MDB_RESERVE, newest);
	if (rc)
		return lm_fail(rc, "putting an event");
	memcpy(v.mv_data, hdr32, 8);
	memcpy((uint8_t *)v.mv_data + 8, &p, 8);
	memcpy((uint8_t *)v.mv_data + 16, &at, 8);
	memcpy((uint8_t *)v.mv_data + 24, id, 16);
	memcpy((uint8_t *)v.mv_data + HDR, payload, len);
	MDB_val pk = { 8, pos }, pv = { 16, key }, ik = { 16, id };
	if ((rc = put_last(txn, &l->end_log, l->log, &pk, &pv, 0, 1)))
		return lm_fail(rc, "putting a log entry");
	rc = put_last(txn, &l->end_ids, l->ids, &ik, &pv, MDB_NOOVERWRITE, 1);
	return rc ? lm_fail(rc, "putting an id") : 0;
}

/* The head record after an append; a new stream also gets its name. */
static int put_head(MDB_txn *txn, lm *l, const char *name, uint64_t sid, int64_t first_ver, int64_t head)
{
	uint8_t rec[HEAD_REC] = { 0 };
	memcpy(rec, &sid, 8);
	memcpy(rec + 8, &head, 8);
	memcpy(rec + 32, &l->at, 8);
	MDB_val k = { strlen(name), (void *)name }, v = { HEAD_REC, rec };
	int rc = mdb_put(txn, l->streams, &k, &v, 0);
	if (rc == 0 && first_ver == 0) {
		uint8_t id[8];
		bench_put_be64(id, sid);
		MDB_val nk = { 8, id };
		rc = mdb_put(txn, l->names, &nk, &k, MDB_APPEND);
	}
	return rc ? lm_fail(rc, "putting a stream head") : 0;
}

/* count events of stream s (id s + 1) from version v0, then its head. */
static int put_slice(MDB_txn *txn, lm *l, const bench_data *d, uint32_t s, uint32_t v0, uint32_t count)
{
	int rc = 0;
	for (uint32_t j = 0; rc == 0 && j < count; j++) {
		size_t len;
		const uint8_t *p = bench_payload(d, s, v0 + j, &len);
		rc = put_event(txn, l, s + 1, v0 + j, bench_kind(v0 + j), p, len);
	}
	return rc ? rc : put_head(txn, l, d->names[s], s + 1, v0, (int64_t)(v0 + count - 1));
}

/* A write transaction; like the engine, one commit time for all of it,
 * later than every earlier one. */
static int begin(MDB_txn **txn, lm *l)
{
	int rc = mdb_txn_begin(l->env, NULL, 0, txn);
	if (rc)
		return lm_fail(rc, "mdb_txn_begin");
	int64_t now = bench_wall_ns();
	l->at = now > l->at ? now : l->at + 1;
	return 0;
}

static int commit(MDB_txn *txn, lm *l, int rc)
{
	MDB_cursor **ends[] = { &l->end_events, &l->end_log, &l->end_ids };
	for (size_t i = 0; i < 3; i++) {
		if (*ends[i])
			mdb_cursor_close(*ends[i]);
		*ends[i] = NULL;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	return (rc = mdb_txn_commit(txn)) ? lm_fail(rc, "mdb_txn_commit") : 0;
}

/* ---- W1 / W1b ---- */

static int import_txn(lm *l, const bench_data *d, const bench_slice *sl, size_t n)
{
	MDB_txn *txn;
	int rc = begin(&txn, l);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = put_slice(txn, l, d, sl[i].stream, sl[i].version, sl[i].count);
	return commit(txn, l, rc);
}

static int lm_import(bench_figs *out, const bench_data *d, const char *dir, int interleaved, int model)
{
	(void)model; /* models = 0: never asked */
	lm l;
	bench_slice *sl = malloc(BENCH_TXN_EVENTS * sizeof *sl);
	int rc = sl ? lm_open(&l, dir, 0) : bench_fail(NAME, "out of memory");
	int opened = rc == 0;
	int64_t t0 = bench_mono_ns();
	for (size_t t = 0; rc == 0 && t < bench_txn_count(d); t++)
		rc = import_txn(&l, d, sl, bench_txn_slices(sl, d, interleaved, t));
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	if (opened)
		mdb_env_close(l.env);
	free(sl);
	bench_figs_set(out, "events_per_s", (double)d->n_events / secs);
	bench_figs_set(out, "bytes_per_event", (double)bench_file_size(dir, "data.mdb") / (double)d->n_events);
	return rc;
}

/* ---- W2: one write transaction per command ---- */

typedef struct w2_ctx {
	lm l;
	const bench_data *d;
} w2_ctx;

static void *lm_thread_begin(void *shared, size_t thread)
{
	(void)thread;
	return shared;
}

static void lm_thread_end(void *ctx)
{
	(void)ctx;
}

static int lm_run(void *ctx, const bench_cmd *c)
{
	w2_ctx *w = ctx;
	MDB_txn *txn;
	int rc = begin(&txn, &w->l);
	if (rc)
		return rc;
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		uint32_t s = c->stream[i];
		uint64_t ver = (uint64_t)c->expected[i] + 1;
		rc = put_event(txn, &w->l, s + 1, ver, c->kind[i], c->payload[i], c->len[i]);
		if (rc == 0)
			rc = put_head(txn, &w->l, w->d->names[s], s + 1, (int64_t)ver, (int64_t)ver);
	}
	return commit(txn, &w->l, rc);
}

static int open_accounts(lm *l, const bench_data *d)
{
	MDB_txn *txn;
	int rc = begin(&txn, l);
	if (rc)
		return rc;
	for (uint32_t s = 0; rc == 0 && s < d->n_streams; s++)
		rc = put_slice(txn, l, d, s, 0, 1);
	return commit(txn, l, rc);
}

static int lm_commands(bench_figs *out, const bench_data *d, const char *dir, const bench_w2 *w, int model)
{
	(void)model;
	w2_ctx ctx;
	ctx.d = d;
	int rc = lm_open(&ctx.l, dir, 0);
	if (rc)
		return rc;
	bench_cmd_ops ops = { &ctx, lm_thread_begin, lm_thread_end, lm_run };
	if ((rc = open_accounts(&ctx.l, d)) == 0)
		rc = bench_w2_drive(out, d, w, &ops);
	mdb_env_close(ctx.l.env);
	return rc;
}

/* ---- reads ---- */

static int stream_id(uint64_t *sid, int64_t *head, int64_t *last_at, MDB_txn *txn, lm *l, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, l->streams, &k, &v);
	if (rc || v.mv_size != HEAD_REC)
		return lm_fail(rc ? rc : MDB_CORRUPTED, "reading a stream head");
	memcpy(sid, v.mv_data, 8);
	memcpy(head, (uint8_t *)v.mv_data + 8, 8);
	memcpy(last_at, (uint8_t *)v.mv_data + 32, 8);
	return 0;
}

/* Applies the events of stream sid from version `from` to `to` (inclusive;
 * INT64_MAX for all) with one cursor walk. */
static int fold_range(bench_account *a, uint64_t *folded, MDB_cursor *cur, uint64_t sid,
                      int64_t from, int64_t to)
{
	uint8_t key[16];
	bench_put_be64(key, sid);
	bench_put_be64(key + 8, (uint64_t)from);
	MDB_val k = { 16, key }, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size == 16 && bench_get_be64(k.mv_data) == sid &&
	       (int64_t)bench_get_be64((uint8_t *)k.mv_data + 8) <= to) {
		uint32_t kind;
		if (v.mv_size < HDR)
			return lm_fail(MDB_CORRUPTED, "reading an event");
		memcpy(&kind, v.mv_data, 4);
		if (bench_apply(a, (int)kind, (uint8_t *)v.mv_data + HDR, v.mv_size - HDR))
			return bench_fail(NAME, "an event does not decode");
		(*folded)++;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : lm_fail(rc, "walking a stream");
}

/* ---- W3: one read per aggregate, as a load would ---- */

static int fold_stream(int64_t *balance, uint64_t *folded, MDB_txn *txn, MDB_cursor *cur, lm *l,
                       const char *name)
{
	uint64_t sid = 0;
	int64_t head = -1, last_at = 0;
	bench_account a;
	memset(&a, 0, sizeof a);
	int rc = stream_id(&sid, &head, &last_at, txn, l, name);
	if (rc == 0)
		rc = fold_range(&a, folded, cur, sid, 0, INT64_MAX);
	*balance = a.balance;
	return rc;
}

static int fold_all(int64_t *sum, uint64_t *folded, lm *l, const bench_data *d)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
	if (rc || (rc = mdb_cursor_open(txn, l->events, &cur)))
		return lm_fail(rc, "beginning a read");
	for (size_t s = 0; rc == 0 && s < d->n_streams; s++) {
		int64_t bal;
		if (s > 0 && ((rc = mdb_txn_renew(txn)) || (rc = mdb_cursor_renew(txn, cur)))) {
			rc = lm_fail(rc, "renewing a read");
			break;
		}
		rc = fold_stream(&bal, folded, txn, cur, l, d->names[s]);
		*sum += bal;
		mdb_txn_reset(txn);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

static int lm_fold(bench_figs *out, const bench_data *d, const char *dir)
{
	lm l;
	int rc = lm_open(&l, dir, MDB_RDONLY);
	if (rc)
		return rc;
	int64_t sum = 0;
	uint64_t folded = 0;
	int64_t t0 = bench_mono_ns();
	rc = fold_all(&sum, &folded, &l, d);
	double secs = (double)(bench_mono_ns() - t0) / 1e9;
	mdb_env_close(l.env);
	if (rc == 0 && (sum != d->balance_sum || folded != d->n_events))
		rc = bench_fail(NAME, "W3 folded %llu events to a balance sum of %lld, expected %zu and %lld",
		                (unsigned long long)folded, (long long)sum, d->n_events, (long long)d->balance_sum);
	bench_figs_set(out, "events_per_s", (double)folded / secs);
	return rc;
}

/* ---- W4 ---- */

/* Writes an account (stream id sid), 100 events per transaction, each
 * event at its own time, each transaction ending with the snapshot of the
 * state at its last version. */
static int tt_write(lm *l, const bench_tt_account *acc, uint64_t sid)
{
	bench_account a;
	memset(&a, 0, sizeof a);
	int rc = 0;
	for (size_t v0 = 0; rc == 0 && v0 < acc->n; v0 += 100) {
		MDB_txn *txn;
		size_t count = acc->n - v0 < 100 ? acc->n - v0 : 100;
		if ((rc = begin(&txn, l)))
			return rc;
		for (size_t j = 0; rc == 0 && j < count; j++) {
			uint8_t buf[256];
			size_t len = bench_pack(buf, acc->seed, v0 + j);
			l->at = bench_tt_time(acc, v0 + j);
			rc = put_event(txn, l, sid, v0 + j, bench_kind(v0 + j), buf, len);
			if (rc == 0 && bench_apply(&a, bench_kind(v0 + j), buf, len))
				rc = bench_fail(NAME, "an event does not decode");
		}
		if (rc == 0)
			rc = put_head(txn, l, acc->stream, sid, (int64_t)v0, (int64_t)(v0 + count - 1));
		if (rc == 0 && count == 100) {
			uint8_t key[16], state[256];
			bench_put_be64(key, sid);
			bench_put_be64(key + 8, v0 + 99);
			MDB_val k = { 16, key }, v = { bench_state_pack(state, &a), state };
			if ((rc = mdb_put(txn, l->snaps, &k, &v, 0)))
				rc = lm_fail(rc, "putting a snapshot");
		}
		rc = commit(txn, l, rc);
	}
	return rc;
}

static int recorded_at(int64_t *at, MDB_txn *txn, lm *l, uint64_t sid, int64_t ver)
{
	uint8_t key[16];
	bench_put_be64(key, sid);
	bench_put_be64(key + 8, (uint64_t)ver);
	MDB_val k = { 16, key }, v;
	int rc = mdb_get(txn, l->events, &k, &v);
	if (rc || v.mv_size < HDR)
		return lm_fail(rc ? rc : MDB_CORRUPTED, "reading an event");
	memcpy(at, (uint8_t *)v.mv_data + 16, 8);
	return 0;
}

/* The last version recorded at or before t: binary search on recorded_at. */
static int version_at(int64_t *out, MDB_txn *txn, lm *l, const char *name, int64_t t, uint64_t *sid)
{
	int64_t head = -1, last_at = 0, first = 0;
	int rc = stream_id(sid, &head, &last_at, txn, l, name);
	if (rc || (rc = recorded_at(&first, txn, l, *sid, 0)))
		return rc;
	if (t < first)
		return bench_fail(NAME, "%s did not exist at %lld", name, (long long)t);
	if (t >= last_at) {
		*out = head;
		return 0;
	}
	int64_t lo = 0, hi = head;
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2, at = 0;
		if ((rc = recorded_at(&at, txn, l, *sid, mid)))
			return rc;
		if (at <= t) lo = mid;
		else hi = mid;
	}
	*out = lo;
	return 0;
}

/* The newest snapshot at or below ver into *a; its version, or -1. */
static int64_t snapshot_le(bench_account *a, MDB_txn *txn, lm *l, uint64_t sid, int64_t ver)
{
	MDB_cursor *cur;
	uint8_t key[16];
	int64_t found = -1;
	if (mdb_cursor_open(txn, l->snaps, &cur))
		return -1;
	bench_put_be64(key, sid);
	bench_put_be64(key + 8, (uint64_t)ver + 1);
	MDB_val k = { 16, key }, v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	rc = mdb_cursor_get(cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
	if (rc == 0 && k.mv_size == 16 && bench_get_be64(k.mv_data) == sid &&
	    bench_state_unpack(a, v.mv_data, v.mv_size) == 0)
		found = (int64_t)bench_get_be64((uint8_t *)k.mv_data + 8);
	mdb_cursor_close(cur);
	return found;
}

static int fold_as_of(bench_account *a, int64_t *ver, MDB_txn *txn, MDB_cursor *cur, lm *l,
                      const char *name, int64_t t)
{
	uint64_t sid = 0, folded = 0;
	memset(a, 0, sizeof *a);
	int rc = version_at(ver, txn, l, name, t, &sid);
	if (rc)
		return rc;
	int64_t snap = snapshot_le(a, txn, l, sid, *ver);
	if (snap < 0)
		memset(a, 0, sizeof *a);
	return fold_range(a, &folded, cur, sid, snap + 1, *ver);
}

/* A read transaction and a cursor, reset between queries. */
typedef struct tt_ctx {
	lm *l;
	MDB_txn *txn;
	MDB_cursor *cur;
} tt_ctx;

/* The query in a renewed read, as a load begins its own. */
static int lm_as_of(void *ctx, const bench_tt_account *acc, int64_t t, int64_t *version,
                    int64_t *balance)
{
	tt_ctx *c = ctx;
	bench_account a;
	int rc = mdb_txn_renew(c->txn);
	if (rc || (rc = mdb_cursor_renew(c->txn, c->cur)))
		return lm_fail(rc, "renewing a read");
	rc = fold_as_of(&a, version, c->txn, c->cur, c->l, acc->stream, t);
	mdb_txn_reset(c->txn);
	*balance = a.balance;
	return rc;
}

static int lm_timetravel(bench_figs *out, const bench_data *d, const char *dir, const bench_w4 *w)
{
	lm l;
	bench_tt_account acc[2];
	tt_ctx c = { &l, NULL, NULL };
	(void)d;
	bench_tt_accounts(acc, w);
	int rc = lm_open(&l, dir, MDB_NOSYNC); /* the build is not timed */
	if (rc)
		return rc;
	if ((rc = tt_write(&l, &acc[0], 1)) == 0 && (rc = tt_write(&l, &acc[1], 2)) == 0 &&
	    (rc = mdb_env_sync(l.env, 1)))
		rc = lm_fail(rc, "mdb_env_sync");
	if (rc == 0 && ((rc = mdb_txn_begin(l.env, NULL, MDB_RDONLY, &c.txn)) ||
	                (rc = mdb_cursor_open(c.txn, l.events, &c.cur))))
		rc = lm_fail(rc, "beginning a read");
	if (rc == 0) {
		mdb_txn_reset(c.txn);
		rc = bench_w4_drive(out, w, acc, lm_as_of, &c);
	}
	mdb_cursor_close(c.cur);
	if (c.txn)
		mdb_txn_abort(c.txn);
	mdb_env_close(l.env);
	return rc;
}

const bench_backend bench_lmdb = {
	NAME, lm_import, lm_commands, 0, lm_fold, lm_timetravel, NULL, NULL, NULL,
};
