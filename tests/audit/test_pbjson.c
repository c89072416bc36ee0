/*
 * test_pbjson.c - audit/pbjson.c: every field shape of proto3 and proto2
 * is written as JSON from the descriptor alone, the JSON parses, and
 * jsonpb.c turns it back into the very same bytes. Payloads JSON cannot
 * carry exactly are flagged.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "alltypes.pb-c.h"
#include "bank.pb-c.h"
#include "proto2.pb-c.h"

/* Packs m, decodes it as a dump does, writes JSON, parses it, re-encodes
 * it: the bytes must come back unchanged. Returns the JSON text. */
static char *round_trip(const ProtobufCMessage *m)
{
	static uint8_t packed[8192];
	size_t n = protobuf_c_message_pack(m, packed);
	ProtobufCMessage *u = protobuf_c_message_unpack(m->descriptor, NULL, n, packed);
	ck_assert_ptr_nonnull(u);
	es_audit__buf b = { 0 };
	ck_assert_uint_eq(es_audit__pb_to_json(&b, u), 0);
	es_audit__buf_putc(&b, '\0');
	json_error_t err;
	json_t *j = json_loads(b.data, 0, &err);
	ck_assert_msg(j != NULL, "%s does not parse: %s", b.data, err.text);
	es_arena a;
	es_arena_init(&a, NULL, 0);
	const void *bytes;
	size_t len;
	ck_assert_es(es_audit__pb_from_json(&bytes, &len, m->descriptor, j, &a), 0);
	ck_assert_msg(len == n && memcmp(bytes, packed, n) == 0, "%s does not re-encode exactly", b.data);
	es_arena_release(&a);
	json_decref(j);
	protobuf_c_message_free_unpacked(u, NULL);
	return b.data;
}

START_TEST(test_bank_event_text)
{
	Evstore__Bank__MoneyDeposited d = EVSTORE__BANK__MONEY_DEPOSITED__INIT;
	d.amount_minor = -5;
	d.reference = "r\"1";
	char *text = round_trip(&d.base);
	/* Fields in tag order, proto names, 64-bit integers as strings, and
	 * proto3 defaults written out. */
	ck_assert_str_eq(text, "{\"amount_minor\":\"-5\",\"reference\":\"r\\\"1\",\"transfer_id\":\"\","
	                       "\"counterparty\":\"\"}");
	free(text);
}
END_TEST

START_TEST(test_every_scalar)
{
	Evstore__Test__AllTypes m = EVSTORE__TEST__ALL_TYPES__INIT;
	Evstore__Test__Inner inner = EVSTORE__TEST__INNER__INIT, in2 = EVSTORE__TEST__INNER__INIT;
	int32_t nums[] = { -1, 0, INT32_MAX };
	int64_t i64s[] = { INT64_MIN, 0, INT64_MAX };
	double dbs[] = { 0.1, -0.0, NAN, INFINITY, -INFINITY, 1e300 };
	char *strs[] = { "", "zo\xc3\xab", "tab\tnl\nq\"" };
	ProtobufCBinaryData raws[] = { { 0, NULL }, { 3, (uint8_t *)"\x00\xff\x01" } };
	Evstore__Test__Inner *inners[] = { &inner, &in2 };
	Evstore__Test__Color colors[] = { EVSTORE__TEST__COLOR__RED, 7 /* unknown to the enum */ };
	protobuf_c_boolean bools[] = { 1, 0, 1 };
	float fls[] = { 0.1f, -3.5f };
	uint32_t u32s[] = { UINT32_MAX, 1 };
	inner.label = "in";
	inner.n_nums = 3;
	inner.nums = nums;
	m.i32 = INT32_MIN; m.s32 = -7; m.sf32 = INT32_MAX; m.u32 = UINT32_MAX; m.f32 = 12;
	m.i64 = INT64_MIN; m.s64 = -70; m.sf64 = INT64_MAX; m.u64 = UINT64_MAX; m.f64 = 1;
	m.fl = 1.5f; m.db = 0.30000000000000004; m.b = 1; m.color = EVSTORE__TEST__COLOR__GREEN;
	m.str = "\xe2\x9c\x93 \\ /"; m.raw = raws[1]; m.inner = &inner;
	m.n_r_i64 = 3; m.r_i64 = i64s; m.n_r_db = 6; m.r_db = dbs; m.n_r_str = 3; m.r_str = strs;
	m.n_r_raw = 2; m.r_raw = raws; m.n_r_inner = 2; m.r_inner = inners; m.n_r_color = 2;
	m.r_color = colors; m.n_r_b = 3; m.r_b = bools; m.n_r_fl = 2; m.r_fl = fls;
	m.n_r_u32 = 2; m.r_u32 = u32s;
	m.choice_case = EVSTORE__TEST__ALL_TYPES__CHOICE_C_NUM;
	m.c_num = 0;
	Evstore__Test__AllTypes__CountsEntry e1 = EVSTORE__TEST__ALL_TYPES__COUNTS_ENTRY__INIT;
	Evstore__Test__AllTypes__CountsEntry *entries[] = { &e1 };
	e1.key = "k";
	e1.value = -1;
	m.n_counts = 1;
	m.counts = entries;
	char *text = round_trip(&m.base);
	ck_assert_ptr_nonnull(strstr(text, "\"i64\":\"-9223372036854775808\""));
	ck_assert_ptr_nonnull(strstr(text, "\"u64\":\"18446744073709551615\""));
	ck_assert_ptr_nonnull(strstr(text, "\"u32\":4294967295"));
	ck_assert_ptr_nonnull(strstr(text, "\"color\":\"GREEN\""));
	ck_assert_ptr_nonnull(strstr(text, "\"r_color\":[\"RED\",7]"));
	ck_assert_ptr_nonnull(strstr(text, "\"raw\":\"AP8B\""));
	ck_assert_ptr_nonnull(strstr(text, "\"r_db\":[0.1,-0.0,\"NaN\",\"Infinity\",\"-Infinity\",1e+300]"));
	ck_assert_ptr_nonnull(strstr(text, "\"c_num\":\"0\""));
	ck_assert_ptr_nonnull(strstr(text, "\"counts\":[{\"key\":\"k\",\"value\":\"-1\"}]"));
	free(text);
}
END_TEST

START_TEST(test_presence)
{
	Evstore__Test__AllTypes m = EVSTORE__TEST__ALL_TYPES__INIT;
	char *text = round_trip(&m.base);
	/* Implicit proto3 fields and repeated ones are always written; unset
	 * oneof and message fields are not (proto2 optionals: test_proto2). */
	ck_assert_ptr_nonnull(strstr(text, "\"i32\":0,"));
	ck_assert_ptr_nonnull(strstr(text, "\"str\":\"\""));
	ck_assert_msg(strstr(text, "\"r_inner\":[]") != NULL, "%s", text);
	ck_assert_ptr_null(strstr(text, "\"inner\":"));
	ck_assert_ptr_null(strstr(text, "\"c_"));
	free(text);

	Evstore__Test__Inner empty = EVSTORE__TEST__INNER__INIT;
	m.choice_case = EVSTORE__TEST__ALL_TYPES__CHOICE_C_INNER;
	m.c_inner = &empty;
	m.inner = &empty;
	text = round_trip(&m.base);
	ck_assert_ptr_nonnull(strstr(text, "\"inner\":{\"label\":\"\",\"nums\":[]}"));
	ck_assert_ptr_nonnull(strstr(text, "\"c_inner\":{"));
	free(text);
	m.choice_case = EVSTORE__TEST__ALL_TYPES__CHOICE_C_TEXT;
	m.c_text = "";
	free(round_trip(&m.base));
}
END_TEST

START_TEST(test_proto2)
{
	Evstore__Test2__P2 m = EVSTORE__TEST2__P2__INIT;
	char *text = round_trip(&m.base);
	ck_assert_str_eq(text, "{\"a\":0,\"r\":[]}");
	free(text);
	char dflt[] = "dflt"; /* the default's text, set explicitly: present */
	int32_t r[] = { -1, 1 };
	m.a = -3;
	m.s = dflt;
	m.has_n = 1;
	m.n = 7;
	m.n_r = 2;
	m.r = r;
	m.has_blob = 1;
	text = round_trip(&m.base);
	ck_assert_str_eq(text, "{\"a\":-3,\"s\":\"dflt\",\"n\":\"7\",\"r\":[-1,1],\"blob\":\"\"}");
	free(text);
}
END_TEST

/* Decodes bytes as desc and returns the lossy bits. */
static unsigned lossy(const ProtobufCMessageDescriptor *desc, const void *bytes, size_t n)
{
	ProtobufCMessage *u = protobuf_c_message_unpack(desc, NULL, n, bytes);
	ck_assert_ptr_nonnull(u);
	es_audit__buf b = { 0 };
	unsigned bits = es_audit__pb_to_json(&b, u);
	es_audit__buf_free(&b);
	protobuf_c_message_free_unpacked(u, NULL);
	return bits;
}

START_TEST(test_lossy)
{
	/* amount_minor = 7, then field 15 (unknown) = 1 */
	static const uint8_t unknown[] = { 0x08, 0x07, 0x78, 0x01 };
	/* reference = "\xff" */
	static const uint8_t not_utf8[] = { 0x12, 0x01, 0xff };
	ck_assert_uint_eq(lossy(&evstore__bank__money_deposited__descriptor, unknown, sizeof unknown),
	                  ES_AUDIT_LOSSY_UNKNOWN);
	ck_assert_uint_eq(lossy(&evstore__bank__money_deposited__descriptor, not_utf8, sizeof not_utf8),
	                  ES_AUDIT_LOSSY_UTF8);
	/* A NaN with a payload: "NaN" would read back as another NaN. */
	uint8_t nan[9] = { 0x61 };
	uint64_t bits = UINT64_C(0x7ff8000000000123);
	memcpy(nan + 1, &bits, 8);
	ck_assert_uint_eq(lossy(&evstore__test__all_types__descriptor, nan, sizeof nan), ES_AUDIT_LOSSY_NAN);
}
END_TEST

TCase *es_tc_pbjson(void)
{
	TCase *tc = tcase_create("pbjson");
	tcase_add_test(tc, test_bank_event_text);
	tcase_add_test(tc, test_every_scalar);
	tcase_add_test(tc, test_presence);
	tcase_add_test(tc, test_proto2);
	tcase_add_test(tc, test_lossy);
	return tc;
}
