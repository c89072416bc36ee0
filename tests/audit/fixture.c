/*
 * fixture.c - the audit suite's stores and the damage done to them on
 * purpose (see fixture.h).
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <lmdb.h>
#include <xxhash.h>

#include "record.h" /* record offsets and checksum, for damage */
#include "bank.pb-c.h"
#include "bank_v1.pb-c.h"
#include "bank_v2.pb-c.h"
#include "fixture.h"

const char *const fixture_damage_names[DAMAGE_COUNT] = {
	"flip-record", "delete-log", "delete-id", "delete-event", "head-past",
	"snapshot-past", "snapshot-checksum", "swap-log", "time-order",
};

/* Packs msg and appends it as one event of `type` at schema `version`. */
static int append_msg(es_db *db, const char *stream, const char *type, uint32_t version,
                      const ProtobufCMessage *msg)
{
	uint8_t buf[512];
	size_t n = protobuf_c_message_pack(msg, buf);
	es_event_data ev = { .type = type, .schema_version = version, .payload = buf, .payload_len = n };
	return es_stream_append(NULL, db, stream, ES_ANY, &ev, 1);
}

static int append_raw(es_db *db, const char *stream, const char *type, uint32_t version,
                      const void *bytes, size_t n)
{
	es_event_data ev = { .type = type, .schema_version = version, .payload = bytes, .payload_len = n };
	return es_stream_append(NULL, db, stream, ES_ANY, &ev, 1);
}

/* Release 1: doubles in dollars, Deposit/Withdrawal, no currency. */
static int legacy_v1(es_db *db)
{
	const char *s = "account-legacy1";
	Evstore__Bank__V1__AccountOpened o = EVSTORE__BANK__V1__ACCOUNT_OPENED__INIT;
	Evstore__Bank__V1__Deposit d1 = EVSTORE__BANK__V1__DEPOSIT__INIT, d2 = d1;
	Evstore__Bank__V1__Withdrawal w = EVSTORE__BANK__V1__WITHDRAWAL__INIT;
	Evstore__Bank__V1__AccountClosed c = EVSTORE__BANK__V1__ACCOUNT_CLOSED__INIT;
	o.owner = "Ada \"Countess\" Lovelace";
	d1.amount = 0.1 + 0.2; /* release 1's famous 30 cents */
	d1.reference = "first";
	d2.amount = 12.34;
	d2.reference = "second";
	w.amount = 0.1;
	w.reference = "fee";
	int rc = append_msg(db, s, "AccountOpened", 1, &o.base);
	if (!rc) rc = append_msg(db, s, "Deposit", 1, &d1.base);
	if (!rc) rc = append_msg(db, s, "Deposit", 1, &d2.base);
	if (!rc) rc = append_msg(db, s, "Withdrawal", 1, &w.base);
	if (!rc) rc = append_msg(db, s, "AccountClosed", 1, &c.base);
	return rc;
}

/* Release 2: int64 minor units, MoneyDeposited/MoneyWithdrawn, a currency. */
static int legacy_v2(es_db *db)
{
	const char *s = "account-legacy2";
	Evstore__Bank__V2__AccountOpened o = EVSTORE__BANK__V2__ACCOUNT_OPENED__INIT;
	Evstore__Bank__V2__MoneyDeposited d = EVSTORE__BANK__V2__MONEY_DEPOSITED__INIT;
	Evstore__Bank__V2__MoneyWithdrawn w = EVSTORE__BANK__V2__MONEY_WITHDRAWN__INIT;
	Evstore__Bank__V2__AccountClosed c = EVSTORE__BANK__V2__ACCOUNT_CLOSED__INIT;
	o.owner = "Zo\xc3\xab \"Q\"\nline two \xe2\x9c\x93 \\ tab\t";
	o.currency = "EUR";
	d.amount_minor = 12345;
	d.reference = "ref,with comma";
	w.amount_minor = 45;
	int rc = append_msg(db, s, "AccountOpened", 2, &o.base);
	if (!rc) rc = append_msg(db, s, "MoneyDeposited", 2, &d.base);
	if (!rc) rc = append_msg(db, s, "MoneyWithdrawn", 2, &w.base);
	if (!rc) rc = append_msg(db, s, "AccountClosed", 2, &c.base);
	return rc;
}

/* Release 3 through the bank's own commands: all six event types. */
static int current(es_db *db)
{
	int rc = es_bank_open(db, "a", "Alice", "USD", 1000);
	if (!rc) rc = es_bank_open(db, "b", "Bob", "USD", 0);
	if (!rc) rc = es_bank_deposit(db, "a", 5000, "salary");
	if (!rc) rc = es_bank_withdraw(db, "a", 100, NULL);
	if (!rc) rc = es_bank_transfer(db, "a", "b", 250, "rent");
	if (!rc) rc = es_bank_freeze(db, "b", "audit");
	if (!rc) rc = es_bank_unfreeze(db, "b", "cleared");
	if (!rc) rc = es_bank_withdraw(db, "b", 250, NULL);
	if (!rc) rc = es_bank_close(db, "b", "done");
	return rc;
}

/* A type with no descriptor, every optional envelope part, metadata with a
 * repeated key, and a snapshot. */
static int envelope(es_db *db)
{
	static const uint8_t bytes[] = { 0x00, 0xff, 'x' };
	es_metadata md[] = { { "source", "cli" }, { "user", "zo\xc3\xab" }, { "quote", "a\"b,c" } };
	es_metadata dup[] = { { "k", "1" }, { "k", "2" } };
	es_event_data ev[2] = {
		{ .type = "Note", .schema_version = 1, .payload = bytes, .payload_len = sizeof bytes,
		  .metadata = md, .metadata_count = 3, .occurred_at = INT64_C(1700000000123456789) },
		{ .type = "Note", .schema_version = 1, .metadata = dup, .metadata_count = 2 },
	};
	for (int i = 0; i < 16; i++) {
		ev[0].correlation_id[i] = (uint8_t)(0x10 + i);
		ev[0].causation_id[i] = (uint8_t)(0xa0 + i);
	}
	int rc = es_stream_append(NULL, db, "misc-1", ES_NO_STREAM, ev, 2);
	es_snapshot_key key = { 1, 42 };
	return rc ? rc : es_snapshot_write(db, "misc-1", 1, &key, "state", 5);
}

/* Payloads whose JSON would lose something: unknown fields, a non-canonical
 * encoding, and bytes that do not decode at all. */
static int odd_payloads(es_db *db)
{
	/* MoneyDeposited{amount_minor=7, reference="x"} + unknown field 15 = 1 */
	static const uint8_t unknown[] = { 0x08, 0x07, 0x12, 0x01, 'x', 0x78, 0x01 };
	/* the same fields in reverse order */
	static const uint8_t reordered[] = { 0x12, 0x01, 'x', 0x08, 0x07 };
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff };
	int rc = append_raw(db, "misc-2", "MoneyDeposited", 3, unknown, sizeof unknown);
	if (!rc) rc = append_raw(db, "misc-2", "MoneyDeposited", 3, reordered, sizeof reordered);
	if (!rc) rc = append_raw(db, "misc-2", "MoneyDeposited", 3, garbage, sizeof garbage);
	return rc;
}

/* Soft-deleted, recreated, tombstoned after events, and reserved names. */
static int stream_states(es_db *db)
{
	int rc = append_raw(db, "temp-1", "Ping", 1, "", 0);
	if (!rc) rc = append_raw(db, "temp-1", "Ping", 1, "", 0);
	if (!rc) rc = es_stream_delete(db, "temp-1", ES_ANY);
	if (!rc) rc = append_raw(db, "temp-2", "Ping", 1, "", 0);
	if (!rc) rc = append_raw(db, "temp-2", "Ping", 1, "", 0);
	if (!rc) rc = es_stream_delete(db, "temp-2", 1);
	if (!rc) rc = append_raw(db, "temp-2", "Ping", 1, "again", 5);
	if (!rc) rc = append_raw(db, "temp-3", "Ping", 1, "", 0);
	if (!rc) rc = es_stream_tombstone(db, "temp-3", ES_ANY);
	if (!rc) rc = es_stream_tombstone(db, "reserved-1", ES_ANY);
	return rc;
}

int es_audit_fixture(es_db *db)
{
	int rc = legacy_v1(db);
	if (!rc) rc = legacy_v2(db);
	if (!rc) rc = current(db);
	if (!rc) rc = envelope(db);
	if (!rc) rc = odd_payloads(db);
	if (!rc) rc = stream_states(db);
	return rc;
}

int es_audit_fixture_big(es_db *db, uint64_t n)
{
	enum { BATCH = 1000 };
	static es_event_data ev[BATCH];
	static char names[100][32]; /* borrowed by the batch until it commits */
	Evstore__Bank__MoneyDeposited d = EVSTORE__BANK__MONEY_DEPOSITED__INIT;
	uint8_t payloads[BATCH][64];
	d.reference = "salary";
	for (int i = 0; i < 100; i++)
		snprintf(names[i], sizeof names[i], "account-big%03d", i);
	for (uint64_t done = 0; done < n;) {
		es_batch *b;
		int rc = es_batch_new(&b, db);
		size_t count = n - done < BATCH ? (size_t)(n - done) : BATCH;
		for (size_t i = 0; rc == 0 && i < count; i++) {
			const char *stream = names[(done + i) % 100];
			d.amount_minor = (int64_t)(done + i + 1);
			memset(&ev[i], 0, sizeof ev[i]);
			ev[i].type = "MoneyDeposited";
			ev[i].schema_version = 3;
			ev[i].payload = payloads[i];
			ev[i].payload_len = protobuf_c_message_pack(&d.base, payloads[i]);
			rc = es_batch_append(b, stream, ES_ANY, &ev[i], 1);
		}
		if (rc) {
			es_batch_free(b);
			return rc;
		}
		if ((rc = es_batch_commit(b, NULL)))
			return rc;
		done += count;
	}
	return 0;
}

/* ---- damage through LMDB ---- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

typedef struct env {
	MDB_env *env;
	MDB_txn *txn;
} env;

static int env_open(env *e, const char *dir)
{
	if (mdb_env_create(&e->env) || mdb_env_set_maxdbs(e->env, 16) ||
	    mdb_env_open(e->env, dir, 0, 0600) || mdb_txn_begin(e->env, NULL, 0, &e->txn)) {
		fprintf(stderr, "cannot open the LMDB environment in %s\n", dir);
		return -1;
	}
	return 0;
}

static MDB_dbi dbi(env *e, const char *name)
{
	MDB_dbi d = 0;
	mdb_dbi_open(e->txn, name, 0, &d);
	return d;
}

/* The events key of stream's version (stream id from its record). */
static int event_key(env *e, const char *stream, int64_t version, uint8_t key[16], uint64_t *head)
{
	MDB_val k = { strlen(stream), (void *)stream }, v;
	if (mdb_get(e->txn, dbi(e, "streams"), &k, &v) || v.mv_size < 16)
		return -1;
	uint64_t id;
	memcpy(&id, v.mv_data, 8);
	if (head)
		memcpy(head, (const uint8_t *)v.mv_data + 8, 8);
	put_be64(key, id);
	put_be64(key + 8, (uint64_t)version);
	return 0;
}

/* Replaces the value at key with a modified copy. */
static int rewrite(env *e, MDB_dbi d, MDB_val *k, size_t flip_at, bool flip, const void *with, size_t n)
{
	MDB_val v;
	uint8_t copy[4096];
	if (mdb_get(e->txn, d, k, &v) || v.mv_size > sizeof copy)
		return -1;
	memcpy(copy, v.mv_data, v.mv_size);
	size_t len = v.mv_size;
	if (flip)
		copy[flip_at < len ? flip_at : len - 1] ^= 0x40;
	if (with) {
		memcpy(copy + flip_at, with, n);
	}
	MDB_val nv = { len, copy };
	return mdb_put(e->txn, d, k, &nv, 0) ? -1 : 0;
}

/* Offset of recorded_at in a record (the layout in engine/record.h). */

/* Sets a record's recorded_at and reseals it with the engine's checksum,
 * so only the time is wrong. */
static int set_recorded_at(env *e, MDB_val *k, int64_t at, int64_t *old)
{
	MDB_val v;
	uint8_t copy[4096];
	if (mdb_get(e->txn, dbi(e, "events"), k, &v) || v.mv_size > sizeof copy ||
	    v.mv_size < ES_RECORD_HEADER)
		return -1;
	memcpy(copy, v.mv_data, v.mv_size);
	memcpy(old, copy + ES_RECORD_OFF_RECORDED_AT, 8);
	memcpy(copy + ES_RECORD_OFF_RECORDED_AT, &at, 8);
	uint64_t sum = es__record_checksum(copy, v.mv_size);
	memcpy(copy + ES_RECORD_OFF_CHECKSUM, &sum, 8);
	MDB_val nv = { v.mv_size, copy };
	return mdb_put(e->txn, dbi(e, "events"), k, &nv, 0) ? -1 : 0;
}

static int swap_times(env *e, uint8_t key[16])
{
	uint8_t k1[16];
	int64_t t1, t2, ignored;
	memcpy(k1, key, 16);
	put_be64(k1 + 8, 1);
	MDB_val a = { 16, k1 }, b = { 16, key };
	if (set_recorded_at(e, &a, 0, &t1) || set_recorded_at(e, &b, t1, &t2))
		return -1;
	return set_recorded_at(e, &a, t2, &ignored);
}

static int damage(env *e, fixture_damage kind)
{
	uint8_t key[16], pos[8];
	uint64_t head;
	MDB_val k = { 16, key }, v, pk = { 8, pos };
	if (event_key(e, "account-a", 2, key, &head))
		return -1;
	switch (kind) {
	case DAMAGE_FLIP_RECORD:
		put_be64(key + 8, 1);
		return rewrite(e, dbi(e, "events"), &k, 60, true, NULL, 0);
	case DAMAGE_DELETE_LOG:
		put_be64(pos, 3);
		return mdb_del(e->txn, dbi(e, "log"), &pk, NULL) ? -1 : 0;
	case DAMAGE_DELETE_ID: {
		if (mdb_get(e->txn, dbi(e, "events"), &k, &v) || v.mv_size < ES_RECORD_HEADER)
			return -1;
		MDB_val ik = { 16, (uint8_t *)v.mv_data + ES_RECORD_OFF_ID };
		return mdb_del(e->txn, dbi(e, "event_ids"), &ik, NULL) ? -1 : 0;
	}
	case DAMAGE_DELETE_EVENT:
		return mdb_del(e->txn, dbi(e, "events"), &k, NULL) ? -1 : 0;
	case DAMAGE_HEAD_PAST: {
		MDB_val sk = { 9, "account-a" };
		int64_t h = (int64_t)head + 2;
		return rewrite(e, dbi(e, "streams"), &sk, 8, false, &h, 8);
	}
	case DAMAGE_SNAPSHOT_PAST: {
		uint8_t env_bytes[24 + 5] = { 1, 0, 0, 0, 1 };
		uint64_t sum = XXH3_64bits("state", 5);
		memcpy(env_bytes + 16, &sum, 8);
		memcpy(env_bytes + 24, "state", 5);
		put_be64(key + 8, head + 5);
		MDB_val sv = { sizeof env_bytes, env_bytes };
		return mdb_put(e->txn, dbi(e, "snapshots"), &k, &sv, 0) ? -1 : 0;
	}
	case DAMAGE_SNAPSHOT_CHECKSUM:
		if (event_key(e, "misc-1", 1, key, NULL))
			return -1;
		return rewrite(e, dbi(e, "snapshots"), &k, 26, true, NULL, 0);
	case DAMAGE_SWAP_LOG: {
		MDB_val a, b;
		uint8_t va[16], vb[16], p2[8], p3[8];
		put_be64(p2, 2);
		put_be64(p3, 3);
		MDB_val k2 = { 8, p2 }, k3 = { 8, p3 };
		MDB_dbi log = dbi(e, "log");
		if (mdb_get(e->txn, log, &k2, &a) || mdb_get(e->txn, log, &k3, &b))
			return -1;
		memcpy(va, a.mv_data, 16);
		memcpy(vb, b.mv_data, 16);
		MDB_val na = { 16, vb }, nb = { 16, va };
		return mdb_put(e->txn, log, &k2, &na, 0) || mdb_put(e->txn, log, &k3, &nb, 0) ? -1 : 0;
	}
	case DAMAGE_TIME_ORDER:
		return swap_times(e, key);
	default:
		return -1;
	}
}

int es_audit_damage(const char *dir, fixture_damage kind)
{
	env e;
	if (env_open(&e, dir))
		return -1;
	int rc = damage(&e, kind);
	if (rc == 0)
		rc = mdb_txn_commit(e.txn) ? -1 : 0;
	else
		mdb_txn_abort(e.txn);
	mdb_env_close(e.env);
	return rc;
}

int es_audit_plain_lmdb(const char *dir)
{
	env e;
	if (env_open(&e, dir))
		return -1;
	MDB_dbi main;
	MDB_val k = { 5, "hello" }, v = { 5, "world" };
	int rc = mdb_dbi_open(e.txn, NULL, 0, &main) || mdb_put(e.txn, main, &k, &v, 0) ||
	         mdb_txn_commit(e.txn) ? -1 : 0;
	mdb_env_close(e.env);
	return rc;
}

