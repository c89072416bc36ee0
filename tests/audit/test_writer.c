/*
 * test_writer.c - audit/writer.c: records queued from the caller's thread
 * come out sealed, in order, on one chain, across many chunks; a write
 * error on the writer's thread reaches the caller with its message; an
 * aborted writer stops without finishing the file.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"

/* n JSONL records of about 200 bytes through a writer into text. */
static int write_records(FILE *f, int n, bool abort, char hash[ES_HASH_HEX_SIZE], uint64_t *bytes)
{
	es_audit__writer *w;
	ck_assert_es(es_audit__writer_start(&w, f, ES_DUMP_JSONL), 0);
	ck_assert_es(es_audit__writer_run(w), 0);
	int rc = 0;
	char body[256];
	for (int i = 0; i < n && rc == 0; i++) {
		int len = snprintf(body, sizeof body, "%s\"position\":%d,\"pad\":\"%0160d\"",
		                   i == 0 ? "{\"format\":\"evstore-dump\",\"format_version\":1,\"x\":0,"
		                          : i == n - 1 ? "{\"trailer\":\"evstore-dump\",\"count\":0,"
		                                       : "{", i, i);
		rc = es_audit__writer_put(w, body, (size_t)len);
	}
	int frc = es_audit__writer_finish(w, abort, hash, bytes);
	return rc ? rc : frc;
}

START_TEST(test_order_across_chunks)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char hash[ES_HASH_HEX_SIZE];
	uint64_t bytes;
	/* 5000 records of ~300 sealed bytes: many 64 KiB chunks in flight. */
	ck_assert_es(write_records(f, 5000, false, hash, &bytes), 0);
	fflush(f);
	ck_assert_uint_eq(bytes, len);
	/* The chain holds: every line follows the one before it. */
	es_audit__hasher hs;
	ck_assert_es(es_audit__hasher_init(&hs), 0);
	uint8_t prev[ES_AUDIT_HASH_SIZE] = { 0 };
	int lines = 0;
	for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
		es_audit__link l;
		es_audit__link_parse(&l, p, (size_t)(nl - p), ES_DUMP_JSONL, &hs);
		ck_assert(l.parsed);
		ck_assert(memcmp(l.prev, prev, sizeof prev) == 0);
		ck_assert(memcmp(l.computed, l.stated, sizeof prev) == 0);
		memcpy(prev, l.stated, sizeof prev);
		char want[32];
		snprintf(want, sizeof want, "\"position\":%d,", lines);
		ck_assert_ptr_nonnull(strstr(p, want));
	}
	ck_assert_int_eq(lines, 5000);
	char last[ES_HASH_HEX_SIZE];
	es_audit__hex(last, prev);
	ck_assert_str_eq(last, hash);
	es_audit__hasher_free(&hs);
	fclose(f);
	free(text);
}
END_TEST

START_TEST(test_error_reaches_caller)
{
	FILE *f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	setvbuf(f, NULL, _IONBF, 0);
	es_error_clear();
	ck_assert_es(write_records(f, 5000, false, NULL, NULL), ES_ENOSPC);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "No space"));
	fclose(f);
}
END_TEST

START_TEST(test_abort)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_es(write_records(f, 3000, true, NULL, NULL), 0);
	fflush(f);
	/* Whatever was written is a prefix of whole records, never all of them. */
	ck_assert(len == 0 || text[len - 1] == '\n');
	ck_assert_ptr_null(strstr(text, "trailer"));
	fclose(f);
	free(text);
}
END_TEST

TCase *es_tc_writer(void)
{
	TCase *tc = tcase_create("writer");
	tcase_set_timeout(tc, 120); /* sanitizer builds on a busy machine are slow */
	tcase_add_test(tc, test_order_across_chunks);
	tcase_add_test(tc, test_error_reaches_caller);
	tcase_add_test(tc, test_abort);
	return tc;
}
