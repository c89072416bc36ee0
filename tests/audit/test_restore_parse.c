/*
 * test_restore_parse.c - audit/restore_parse.c and audit/jsonpb_fast.c: the
 * fast path for es_dump's own line layout gives exactly what the jansson
 * path gives (every line of a dump of the fixture store, parsed both ways),
 * it really is taken for that layout, and what it declines is still judged
 * (and refused) by jansson.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "fixture.h"

static void assert_same_event(const es_imported_event *a, const es_imported_event *b)
{
	ck_assert_str_eq(a->stream, b->stream);
	ck_assert_str_eq(a->type, b->type);
	ck_assert_int_eq(a->version, b->version);
	ck_assert_uint_eq(a->position, b->position);
	ck_assert_int_eq(a->recorded_at, b->recorded_at);
	ck_assert_int_eq(a->occurred_at, b->occurred_at);
	ck_assert_uint_eq(a->schema_version, b->schema_version);
	ck_assert(memcmp(a->id, b->id, 16) == 0 && memcmp(a->correlation_id, b->correlation_id, 16) == 0 &&
	          memcmp(a->causation_id, b->causation_id, 16) == 0);
	ck_assert_uint_eq(a->payload_len, b->payload_len);
	ck_assert(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
	ck_assert_uint_eq(a->metadata_count, b->metadata_count);
	for (size_t i = 0; i < a->metadata_count; i++) {
		ck_assert_str_eq(a->metadata[i].key, b->metadata[i].key);
		ck_assert_str_eq(a->metadata[i].value, b->metadata[i].value);
	}
}

/* The line with a space after its first brace: the fast path declines it,
 * jansson reads it as the same object. */
static char *spaced(const char *line, size_t len)
{
	char *s = malloc(len + 2);
	ck_assert_ptr_nonnull(s);
	s[0] = '{';
	s[1] = ' ';
	memcpy(s + 2, line + 1, len - 1);
	s[len + 1] = '\0';
	return s;
}

/* A copy of the fixture's first current-schema deposit, with plain metadata:
 * the fixture's own metadata (escapes, duplicate keys) is jansson's. */
static void append_plain(es_db *db)
{
	es_read *rd;
	es_iter *it;
	es_event ev;
	uint8_t payload[512];
	size_t n = 0;
	ck_assert_es(es_read_begin(&rd, db), 0);
	ck_assert_es(es_log_iter(&it, rd, 1, ES_FORWARD, ES_NO_LIMIT), 0);
	while (n == 0 && es_iter_next(&ev, it) == 0)
		if (strcmp(ev.type, ES_BANK_MONEY_DEPOSITED) == 0 && ev.schema_version == 3 &&
		    ev.payload_len <= sizeof payload)
			memcpy(payload, ev.payload, n = ev.payload_len);
	es_iter_free(it);
	es_read_end(rd);
	ck_assert_uint_gt(n, 0);
	es_metadata md[] = { { "source", "test" }, { "user", "ops" } };
	es_event_data plain = { .type = ES_BANK_MONEY_DEPOSITED, .schema_version = 3, .payload = payload,
	                        .payload_len = n, .metadata = md, .metadata_count = 2 };
	ck_assert_es(es_stream_append(NULL, db, "plain", ES_ANY, &plain, 1), 0);
}

START_TEST(both_paths_agree_on_a_whole_dump)
{
	es_db *db = es_test_open(NULL, NULL);
	ck_assert_es(es_audit_fixture(db), 0);
	append_plain(db);
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	ck_assert_es(es_dump(NULL, db, f, &o), 0);
	fclose(f);
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	size_t events = 0, decoded = 0, plain_fast = 0;
	for (char *line = text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		size_t len = (size_t)(nl - line);
		if (es_audit__record_kind(line, len, ES_DUMP_JSONL) != ES_AUDIT_REC_EVENT)
			continue;
		es_imported_event fast, slow;
		char *s = spaced(line, len);
		ck_assert_es(es_audit__parse_event(&fast, line, len, 1, es_bank_descriptor, NULL, &arena), 0);
		ck_assert_es(es_audit__parse_event(&slow, s, len + 1, 1, es_bank_descriptor, NULL, &arena), 0);
		assert_same_event(&fast, &slow);
		/* Decoded data takes the fast path (what es_dump writes is its layout). */
		const char *data = strstr(line, ",\"data\":{") + 8, *end = strstr(data, ",\"prev_hash\"");
		const void *bytes;
		size_t n;
		const ProtobufCMessageDescriptor *d = es_bank_descriptor(fast.type, fast.schema_version, NULL);
		if (d && es_audit__pb_from_text(&bytes, &n, d, data, (size_t)(end - data), &arena) == 1) {
			ck_assert(n == fast.payload_len && memcmp(bytes, fast.payload, n) == 0);
			decoded++;
			plain_fast += strcmp(fast.stream, "plain") == 0 && fast.metadata_count == 2;
		}
		free(s);
		events++;
	}
	ck_assert_uint_eq(events, FIXTURE_EVENTS + 1);
	ck_assert_uint_eq(plain_fast, 1);
	ck_assert_uint_gt(decoded, FIXTURE_EVENTS / 3); /* floats, bytes, nesting: jansson's */
	es_arena_release(&arena);
	free(text);
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

#define EVENT_LINE(metadata, data)                                                                \
	"{\"position\":1,\"stream\":\"s\",\"version\":0,\"id\":\"019aa8dc-c118-7172-a824-eb02c14eb2a7\"," \
	"\"type\":\"MoneyDeposited\",\"schema_version\":3,\"recorded_at\":\"2026-01-01T00:00:00Z\","    \
	"\"recorded_at_ns\":1767225600000000000,\"occurred_at\":null,\"correlation_id\":null,"          \
	"\"causation_id\":null,\"metadata\":" metadata ",\"data\":" data ",\"prev_hash\":\"" ZEROS  \
	"\",\"hash\":\"" ZEROS "\"}"
#define ZEROS "0000000000000000000000000000000000000000000000000000000000000000"

static int parse(const char *line)
{
	es_arena arena;
	es_imported_event ev;
	es_arena_init(&arena, NULL, 0);
	int rc = es_audit__parse_event(&ev, line, strlen(line), 7, es_bank_descriptor, NULL, &arena);
	es_arena_release(&arena);
	return rc;
}

/* What the fast path declines is jansson's to accept or refuse. */
START_TEST(declined_lines_are_judged_by_jansson)
{
	ck_assert_es(parse(EVENT_LINE("{}", "{\"amount_minor\":\"5\"}")), 0);
	ck_assert_es(parse(EVENT_LINE("{\"k\":\"v\",\"k2\":\"w\"}", "{\"amount_minor\":\"5\"}")), 0);
	ck_assert_es(parse(EVENT_LINE("{}", "{\"amount_minor\":\"5\",\"amount_minor\":\"6\"}")), ES_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "line 7: not valid JSON"));
	ck_assert_es(parse(EVENT_LINE("{\"k\":\"v\",\"k\":\"w\"}", "{}")), ES_ECORRUPT);
	ck_assert_es(parse(EVENT_LINE("{}", "{\"amount_minor\":5e3}")), ES_ECORRUPT);
	ck_assert_es(parse(EVENT_LINE("{}", "{\"amount_minor\":\"007\"}")), 0); /* strtoll's, not ours */
	ck_assert_es(parse(EVENT_LINE("{}", "{\"amount_minor\":\"18446744073709551616\"}")), ES_ECORRUPT);
	ck_assert_es(parse(EVENT_LINE("{}", "{\"nope\":1}")), ES_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "data field 'nope'"));
	ck_assert_es(parse(EVENT_LINE("{}", "{\"reference\":\"caf\\u00e9\"}")), 0); /* an escape */
	/* recorded_at and recorded_at_ns must agree, on either path. */
	char bad[1024];
	snprintf(bad, sizeof bad, "%s", EVENT_LINE("{}", "{}"));
	memcpy(strstr(bad, "1767225600000000000"), "1767225600000000001", 19);
	ck_assert_es(parse(bad), ES_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "envelope field"));
}
END_TEST

TCase *es_tc_restore_parse(void)
{
	TCase *tc = tcase_create("restore_parse");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, both_paths_agree_on_a_whole_dump);
	tcase_add_test(tc, declined_lines_are_judged_by_jansson);
	return tc;
}
