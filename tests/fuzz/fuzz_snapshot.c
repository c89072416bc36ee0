/*
 * fuzz_snapshot.c - snapshot decoding: the account's state codec
 * (es_bank_account_type.snapshot_decode) and the snapshot envelope, checked by
 * es_snapshot_find on a store where the input is stored as a snapshot
 * through the engine's private es__snapshot_put (engine/db.h).
 *
 * Input: byte 0's low bit says whether to make the envelope's state
 * checksum right (so mutations reach the checks behind it); the rest is an
 * envelope: u8 format, u8[3], u32 state schema, u64 fingerprint, u64 XXH3
 * of the state, state (snapshots/snapshot.c).
 * Properties: a state that decodes encodes and decodes to itself; the
 * snapshot find returns either the input (inside its bytes) or the valid
 * snapshot below it, never fails.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "db.h"
#include "fuzz_util.h"

#define STREAM "account-fuzz"
#define ENVELOPE_HEADER 24

static es_db *db;
static es_snapshot_key key;

static int same_account(const es_bank_account *x, const es_bank_account *y)
{
	return strcmp(x->owner, y->owner) == 0 && strcmp(x->currency, y->currency) == 0 &&
	       x->decimals == y->decimals && x->overdraft_limit == y->overdraft_limit &&
	       x->balance == y->balance && x->status == y->status &&
	       x->deposited == y->deposited && x->withdrawn == y->withdrawn;
}

/* A state that decodes must survive encode + decode unchanged. */
static void state_round_trip(const uint8_t *buf, size_t len)
{
	es_bank_account a, b;
	uint8_t *enc = NULL;
	size_t enc_len;
	es_bank_account_type.init(&a);
	if (es_bank_account_type.snapshot_decode(&a, buf, len) != 0)
		return;
	FUZZ_CHECK(es_bank_account_type.snapshot_encode(&enc, &enc_len, &a) == 0);
	es_bank_account_type.init(&b);
	FUZZ_CHECK(es_bank_account_type.snapshot_decode(&b, enc, enc_len) == 0);
	FUZZ_CHECK(same_account(&a, &b));
	free(enc); /* snapshot_encode's buffer is malloc'd */
}

/* A stream of two events with a good snapshot at version 0. */
static void setup(void)
{
	es_event_data ev[2];
	memset(ev, 0, sizeof ev);
	for (int i = 0; i < 2; i++) {
		ev[i].type = "Noted";
		ev[i].schema_version = 1;
	}
	db = fuzz_store_new();
	key.schema_version = es_bank_account_type.state_schema_version;
	key.fingerprint = es_registry_fingerprint(es_bank_registry());
	FUZZ_CHECK(es_stream_append(NULL, db, STREAM, ES_NO_STREAM, ev, 2) == 0);
	FUZZ_CHECK(es_snapshot_write(db, STREAM, 0, &key, "", 0) == 0);
}

static int skipped(int64_t version, es_snapshot_skip why, void *user_data)
{
	FUZZ_CHECK(version == 1 && why != ES_SNAPSHOT_USABLE);
	(*(int *)user_data)++;
	return 0;
}

static void find(const uint8_t *env, size_t len)
{
	es_read *rd;
	es_snapshot snap;
	int skips = 0;
	FUZZ_CHECK(es__snapshot_put(db, STREAM, 1, env, len) == 0);
	FUZZ_CHECK(es_read_begin(&rd, db) == 0);
	FUZZ_CHECK(es_snapshot_find(&snap, rd, STREAM, ES_HEAD, &key, skipped, &skips) == 0);
	if (snap.version == 1) {
		FUZZ_CHECK(skips == 0 && len >= ENVELOPE_HEADER && snap.state_len == len - ENVELOPE_HEADER);
		state_round_trip(snap.state, snap.state_len);
	} else {
		FUZZ_CHECK(snap.version == 0 && skips == 1 && snap.state_len == 0);
	}
	es_read_end(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!db)
		setup();
	size_t len = size - 1;
	uint8_t *env = malloc(len ? len : 1);
	if (!env)
		abort();
	memcpy(env, data + 1, len);
	state_round_trip(env, len);
	if ((data[0] & 1) && len >= ENVELOPE_HEADER) {
		uint64_t sum = XXH3_64bits(env + ENVELOPE_HEADER, len - ENVELOPE_HEADER);
		memcpy(env + 16, &sum, 8);
	}
	find(env, len);
	free(env);
	return 0;
}
