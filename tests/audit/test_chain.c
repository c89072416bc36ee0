/*
 * test_chain.c - audit/chain.c: sealing a record and taking it apart again
 * give back the same hashes, in both layouts; the hash is SHA-256 of
 * exactly the documented bytes; any change of a hashed byte shows.
 */
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"

START_TEST(test_sha256_known)
{
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	uint8_t h[ES_AUDIT_HASH_SIZE];
	char hex[ES_HASH_HEX_SIZE];
	es_audit__sha256(&hs, h, "abc", 3);
	es_audit__hex(hex, h);
	/* FIPS 180-2's test vector. */
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	uint8_t back[ES_AUDIT_HASH_SIZE];
	ck_assert(es_audit__unhex(back, hex));
	ck_assert(memcmp(back, h, sizeof h) == 0);
	ck_assert(!es_audit__unhex(back, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	/* The context is reused: a second hash is not disturbed by the first. */
	es_audit__sha256(&hs, h, "", 0);
	es_audit__hex(hex, h);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	es_audit__hasher_free(&hs);
}
END_TEST

/* Seals body with prev, checks the layout's text, and parses it back. */
static void seal_and_parse(es_dump_format format, const char *body, const char *hashed_suffix)
{
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	uint8_t prev[ES_AUDIT_HASH_SIZE], start[ES_AUDIT_HASH_SIZE];
	for (int i = 0; i < ES_AUDIT_HASH_SIZE; i++)
		prev[i] = start[i] = (uint8_t)i;
	es_audit__buf b = { 0 };
	es_audit__buf_puts(&b, body);
	es_audit__seal(&b, format, prev, &hs);
	ck_assert(b.len > 0 && b.data[b.len - 1] == '\n');

	/* The hash covers the body and the predecessor's hash, as FORMAT.md says. */
	char expect[512], hex[ES_HASH_HEX_SIZE];
	es_audit__hex(hex, start);
	snprintf(expect, sizeof expect, "%s%s%s%s", body, hashed_suffix, hex,
	         format == ES_DUMP_JSONL ? "\"" : "");
	uint8_t h[ES_AUDIT_HASH_SIZE];
	es_audit__sha256(&hs, h, expect, strlen(expect));
	ck_assert(memcmp(h, prev, sizeof h) == 0);

	es_audit__link l;
	es_audit__link_parse(&l, b.data, b.len - 1, format, &hs);
	ck_assert(l.parsed);
	ck_assert_uint_eq(l.body_len, strlen(expect));
	ck_assert(memcmp(l.prev, start, sizeof start) == 0);
	ck_assert(memcmp(l.stated, prev, sizeof prev) == 0);
	ck_assert(memcmp(l.computed, prev, sizeof prev) == 0);

	/* Any hashed byte changed: the computed hash no longer matches. */
	for (size_t i = 0; i < l.body_len; i++) {
		char copy[512];
		memcpy(copy, b.data, b.len);
		copy[i] ^= 1;
		es_audit__link_parse(&l, copy, b.len - 1, format, &hs);
		ck_assert(!l.parsed || memcmp(l.computed, l.stated, sizeof l.stated) != 0);
	}
	es_audit__buf_free(&b);
	es_audit__hasher_free(&hs);
}

START_TEST(test_seal_jsonl)
{
	seal_and_parse(ES_DUMP_JSONL, "{\"position\":1,\"data\":{}", ",\"prev_hash\":\"");
}
END_TEST

START_TEST(test_seal_csv)
{
	seal_and_parse(ES_DUMP_CSV, "1,s,0,\"a,b\"", ",");
}
END_TEST

START_TEST(test_unparsable)
{
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	es_audit__link l;
	es_audit__link_parse(&l, "", 0, ES_DUMP_JSONL, &hs);
	ck_assert(!l.parsed);
	es_audit__link_parse(&l, "{\"x\":1}", 7, ES_DUMP_JSONL, &hs);
	ck_assert(!l.parsed);
	es_audit__link_parse(&l, "a,b,c", 5, ES_DUMP_CSV, &hs);
	ck_assert(!l.parsed);
	es_audit__hasher_free(&hs);
}
END_TEST

START_TEST(test_record_kinds)
{
	ck_assert_int_eq(es_audit__record_kind("{\"position\":1}", 14, ES_DUMP_JSONL), ES_AUDIT_REC_EVENT);
	ck_assert_int_eq(es_audit__record_kind("{\"format\":", 10, ES_DUMP_JSONL), ES_AUDIT_REC_HEADER);
	ck_assert_int_eq(es_audit__record_kind("{\"stream_state\":", 16, ES_DUMP_JSONL), ES_AUDIT_REC_STREAM);
	ck_assert_int_eq(es_audit__record_kind("{\"trailer\":", 11, ES_DUMP_JSONL), ES_AUDIT_REC_TRAILER);
	ck_assert_int_eq(es_audit__record_kind("{}", 2, ES_DUMP_JSONL), ES_AUDIT_REC_OTHER);
	ck_assert_int_eq(es_audit__record_kind("12,s", 4, ES_DUMP_CSV), ES_AUDIT_REC_EVENT);
	ck_assert_int_eq(es_audit__record_kind("#header,", 8, ES_DUMP_CSV), ES_AUDIT_REC_HEADER);
	ck_assert_int_eq(es_audit__record_kind("#stream,x", 9, ES_DUMP_CSV), ES_AUDIT_REC_STREAM);
	ck_assert_int_eq(es_audit__record_kind("#trailer,", 9, ES_DUMP_CSV), ES_AUDIT_REC_TRAILER);
	ck_assert_int_eq(es_audit__record_kind("x", 1, ES_DUMP_CSV), ES_AUDIT_REC_OTHER);
}
END_TEST

TCase *es_tc_chain(void)
{
	TCase *tc = tcase_create("chain");
	tcase_add_test(tc, test_sha256_known);
	tcase_add_test(tc, test_seal_jsonl);
	tcase_add_test(tc, test_seal_csv);
	tcase_add_test(tc, test_unparsable);
	tcase_add_test(tc, test_record_kinds);
	return tc;
}
