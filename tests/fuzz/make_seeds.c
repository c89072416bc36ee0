/*
 * make_seeds.c - writes the seed corpora of the fuzz targets into
 * tests/fuzz/corpus/<target>/: real records from the encoder, real bank
 * payloads of every release, real snapshot envelopes, real dumps, and
 * edge-case texts. Built so it cannot rot, never run by ctest: the
 * committed seeds are the point (crash-* files beside them are regression
 * inputs and are never regenerated).
 *
 *   make_seeds CORPUS_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <evstore/evstore.h>
#include <evstore/audit.h>
#include <evstore/bank.h>

#include "fuzz_util.h"
#include "legacy_events.h"
#include "record.h"

static const char *root;

static void write_seed(const char *target, const char *name, const void *a, size_t na,
                       const void *b, size_t nb)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", root, target);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---- records ---- */

static void record_seed(const char *name, es_event_data *ev, uint32_t type_id)
{
	es_record_in in = { ev, type_id, 42, INT64_C(1800000000000000000) };
	size_t n = es__record_size(ev);
	uint8_t *buf = malloc(n);
	es__record_encode(buf, &in);
	write_seed("record", name, buf, n, NULL, 0);
	free(buf);
}

static void record_seeds(void)
{
	es_metadata md[3] = { { "who", "seed" }, { "", "" }, { "trace", "0123456789abcdef" } };
	es_event_data ev;
	memset(&ev, 0, sizeof ev);
	ev.type = "Noted";
	ev.schema_version = 1;
	record_seed("minimal", &ev, 1);
	ev.payload = "hello";
	ev.payload_len = 5;
	ev.occurred_at = -1;
	memset(ev.id, 0xab, 16);
	memset(ev.correlation_id, 0x01, 16);
	memset(ev.causation_id, 0x02, 16);
	ev.metadata = md;
	ev.metadata_count = 3;
	record_seed("all-fields", &ev, 7);
	legacy_event le;
	legacy_money(&le, 3, 1, 12345, 0, "a reference");
	le.data.metadata = md;
	le.data.metadata_count = 1;
	record_seed("bank-deposit", &le.data, 2);
}

/* ---- payloads: [kind][start state][payload], kinds as in fuzz_payload.c ---- */

static void payload_seed(const char *name, uint8_t kind, uint8_t state, const legacy_event *e)
{
	uint8_t head[2] = { kind, state };
	write_seed("payload", name, head, 2, e->data.payload, e->data.payload_len);
}

static void payload_seeds(void)
{
	legacy_event e;
	legacy_opened(&e, 1, "Old Timer", "USD", 0);       payload_seed("v1-opened", 0, 0, &e);
	legacy_opened(&e, 2, "Second", "JPY", 0);          payload_seed("v2-opened", 1, 0, &e);
	legacy_opened(&e, 3, "Third", "BHD", 5000);        payload_seed("v3-opened", 2, 0, &e);
	legacy_money(&e, 1, 1, 0, 0.1 + 0.2, "v1");        payload_seed("v1-deposit", 3, 1, &e);
	legacy_money(&e, 1, 0, 0, 1e300, "huge");          payload_seed("v1-withdrawal-huge", 4, 1, &e);
	legacy_money(&e, 2, 1, 250, 0, "v2");              payload_seed("v2-deposit", 5, 1, &e);
	legacy_money(&e, 3, 1, 10, 0, "edge");             payload_seed("v3-deposit-overflow", 6, 2, &e);
	legacy_money(&e, 2, 0, 99, 0, "v2");               payload_seed("v2-withdrawn", 7, 1, &e);
	legacy_money(&e, 3, 0, 7, 0, "v3");                payload_seed("v3-withdrawn", 8, 1, &e);
	legacy_status(&e, 1, "AccountClosed", NULL);       payload_seed("v1-closed", 9, 1, &e);
	legacy_status(&e, 3, "AccountClosed", "done");     payload_seed("v3-closed", 11, 1, &e);
	legacy_status(&e, 3, "AccountFrozen", "audit");    payload_seed("v3-frozen", 12, 1, &e);
	legacy_status(&e, 3, "AccountUnfrozen", "ok");     payload_seed("v3-unfrozen", 13, 1, &e);
	legacy_money(&e, 3, 1, 1, 0, "future");            payload_seed("v4-deposit", 14, 1, &e);
}

/* ---- snapshots: [fix checksum][envelope] ---- */

static void snapshot_seed(const char *name, uint8_t mode, uint32_t schema, uint64_t fingerprint,
                          const es_bank_account *a)
{
	uint8_t *state, env[24] = { 1 };
	size_t len;
	es_bank_account_type.snapshot_encode(&state, &len, a);
	uint64_t sum = XXH3_64bits(state, len);
	memcpy(env + 4, &schema, 4);
	memcpy(env + 8, &fingerprint, 8);
	memcpy(env + 16, &sum, 8);
	uint8_t *buf = malloc(1 + sizeof env + len);
	buf[0] = mode;
	memcpy(buf + 1, env, sizeof env);
	memcpy(buf + 1 + sizeof env, state, len);
	write_seed("snapshot", name, buf, 1 + sizeof env + len, NULL, 0);
	free(buf);
	free(state);
}

static void snapshot_seeds(void)
{
	uint64_t fp = es_registry_fingerprint(es_bank_registry());
	es_bank_account a;
	es_bank_account_type.init(&a);
	strcpy(a.owner, "Alice");
	strcpy(a.currency, "USD");
	a.decimals = 2;
	a.balance = -500;
	a.overdraft_limit = 1000;
	a.deposited = 100;
	a.withdrawn = 600;
	snapshot_seed("usable", 0, 1, fp, &a);
	snapshot_seed("usable-fixed", 1, 1, fp, &a);
	snapshot_seed("schema-changed", 1, 2, fp, &a);
	snapshot_seed("fingerprint-changed", 1, 1, fp ^ 1, &a);
	a.status = ES_BANK_STATUS_FROZEN;
	strcpy(a.currency, "KWD");
	snapshot_seed("frozen-kwd", 1, 1, fp, &a);
}

/* ---- dumps ---- */

static es_db *dump_store(const char *dir)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	es_db *db = NULL;
	legacy_event e;
	es_metadata md[2] = { { "who", "seed" }, { "who", "again" } };
	es_event_data note = { .type = "Noted", .schema_version = 1, .payload = "\x01\xff", .payload_len = 2,
	                       .metadata = md, .metadata_count = 2, .occurred_at = 1 };
	int rc = es_db_open(&db, dir, &o);
	if (!rc) rc = es_bank_open(db, "a", "Alice \"A\" \xc3\xa9", "USD", 100);
	if (!rc) rc = es_bank_open(db, "b", "Bob", "USD", 0);
	if (!rc) rc = es_bank_deposit(db, "a", 1234, "pay\nday");
	if (!rc) rc = es_bank_transfer(db, "a", "b", 34, "rent");
	if (!rc) rc = es_bank_freeze(db, "b", "audit");
	legacy_opened(&e, 1, "Old", "USD", 0);
	if (!rc) rc = legacy_append(db, "account-old", ES_NO_STREAM, &e);
	legacy_money(&e, 1, 1, 0, 12.5, "v1");
	if (!rc) rc = legacy_append(db, "account-old", 0, &e);
	if (!rc) rc = es_stream_append(NULL, db, "misc", ES_NO_STREAM, &note, 1);
	if (!rc) rc = es_stream_delete(db, "misc", ES_ANY);
	if (!rc) rc = es_stream_tombstone(db, "gone", ES_ANY);
	if (rc) {
		fprintf(stderr, "make_seeds: %s\n", es_error_last()->message);
		exit(1);
	}
	return db;
}

static void dump_seed(es_db *db, const char *name, es_dump_options *o, int as_load)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f || es_dump(NULL, db, f, o) != 0 || fclose(f) != 0) {
		fprintf(stderr, "make_seeds: dump: %s\n", es_error_last()->message);
		exit(1);
	}
	uint8_t mode[1] = { 0 };
	write_seed("dump_verify", name, mode, 1, text, len);
	if (as_load)
		write_seed("restore", name, text, len, NULL, 0);
	free(text);
}

static void dump_seeds(void)
{
	es_db *db = dump_store(fuzz_store_dir());
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	dump_seed(db, "jsonl", &o, 1);
	o.format = ES_DUMP_CSV;
	dump_seed(db, "csv", &o, 0);
	o.format = ES_DUMP_JSONL;
	o.stream_prefix = "account-";
	o.upcast = es_bank_registry();
	dump_seed(db, "jsonl-filtered-upcast", &o, 0);
	o = (es_dump_options)ES_DUMP_OPTIONS_INIT;
	dump_seed(db, "jsonl-base64", &o, 1);
	fuzz_store_drop(db);
}

/* ---- texts: [selector][text], selectors as in fuzz_text.c ---- */

static void text_seed(const char *name, uint8_t selector, const char *text)
{
	write_seed("text", name, &selector, 1, text, strlen(text));
}

static void text_seeds(void)
{
	text_seed("time-utc", 0, "2026-11-21T10:03:00Z");
	text_seed("time-offset", 0, "2026-11-21T10:03:00.123456789+02:00");
	text_seed("time-lower-space", 1, "1970-01-01 00:00:00.1z");
	text_seed("time-ns", 0, "@1795255380000000000");
	text_seed("time-ns-negative", 0, "@-9223372036854775808");
	text_seed("time-max", 0, "2262-04-11T23:47:16.854775807Z");
	text_seed("time-min", 0, "1677-09-21T00:12:43.145224192Z");
	text_seed("time-past-max", 0, "2262-04-11T23:47:16.854775808Z");
	text_seed("time-leap-day", 0, "2024-02-29T23:59:59-23:59");
	text_seed("id", 2, "019aa8dc-c118-7172-a824-eb02c14eb2a7");
	text_seed("id-upper", 2, "019AA8DC-C118-7172-A824-EB02C14EB2A7");
	text_seed("currency-usd", 3, "USD");
	text_seed("currency-jpy", 3, "JPY");
	text_seed("currency-bad", 3, "usd");
	text_seed("amount-2", 2 * 16 + 5, "12.34");
	text_seed("amount-max", 2 * 16 + 5, "92233720368547758.07");
	text_seed("amount-over", 2 * 16 + 5, "92233720368547758.08");
	text_seed("amount-0-decimals", 0 * 16 + 5, "7");
	text_seed("amount-9-decimals", 9 * 16 + 5, "9.223372036");
	text_seed("amount-trailing-dot", 2 * 16 + 5, "1.");
	text_seed("amount-bad-decimals", 11 * 16 + 5, "1");
	double v[] = { 0.1 + 0.2, 1e300, -0.0, 0.005, 92233720368547758.07 };
	const char *names[] = { "v1-sum", "v1-huge", "v1-negative-zero", "v1-half-cent", "v1-max" };
	for (int i = 0; i < 5; i++) {
		uint8_t sel = 4;
		char name[64];
		snprintf(name, sizeof name, "%s", names[i]);
		write_seed("text", name, &sel, 1, &v[i], sizeof v[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	record_seeds();
	payload_seeds();
	snapshot_seeds();
	dump_seeds();
	text_seeds();
	return 0;
}
