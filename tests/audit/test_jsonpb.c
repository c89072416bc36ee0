/*
 * test_jsonpb.c - audit/jsonpb.c: JSON back to protobuf is strict. Each
 * wrong value is refused with a message naming the field; nothing is
 * silently defaulted.
 */
#include <stdbool.h>
#include <string.h>

#include "testutil.h"
#include "audit_tcases.h"
#include "audit_int.h"
#include "alltypes.pb-c.h"
#include "bank.pb-c.h"

/* Encodes the JSON text as desc: the result code, and the message must
 * name `field` when it fails. */
static void encodes(const ProtobufCMessageDescriptor *desc, const char *json, int want, const char *field)
{
	json_t *j = json_loads(json, JSON_ALLOW_NUL, NULL);
	ck_assert_msg(j != NULL, "bad test JSON %s", json);
	es_arena a;
	es_arena_init(&a, NULL, 0);
	const void *bytes;
	size_t len;
	es_error_clear();
	ck_assert_es(es_audit__pb_from_json(&bytes, &len, desc, j, &a), want);
	if (field)
		ck_assert_msg(strstr(es_error_last()->message, field) != NULL, "'%s' does not name %s",
		              es_error_last()->message, field);
	es_arena_release(&a);
	json_decref(j);
}

START_TEST(test_accepts)
{
	const ProtobufCMessageDescriptor *d = &evstore__test__all_types__descriptor;
	encodes(d, "{}", 0, NULL);
	encodes(d, "{\"i64\":\"-12\",\"u64\":\"18446744073709551615\",\"i32\":-1}", 0, NULL);
	/* 64-bit integers as JSON numbers are read too. */
	encodes(d, "{\"i64\":5,\"db\":1,\"fl\":\"NaN\",\"color\":2,\"raw\":\"\"}", 0, NULL);
	encodes(d, "{\"inner\":{\"nums\":[1,2]},\"r_inner\":[{},{\"label\":\"x\"}]}", 0, NULL);
}
END_TEST

START_TEST(test_refuses)
{
	const ProtobufCMessageDescriptor *d = &evstore__test__all_types__descriptor;
	encodes(d, "[]", ES_EINVAL, NULL);
	encodes(d, "{\"nope\":1}", ES_EINVAL, "nope");
	encodes(d, "{\"i32\":2147483648}", ES_EINVAL, "i32");
	encodes(d, "{\"i32\":\"1\"}", ES_EINVAL, "i32");
	encodes(d, "{\"u32\":-1}", ES_EINVAL, "u32");
	encodes(d, "{\"i64\":\"12x\"}", ES_EINVAL, "i64");
	encodes(d, "{\"i64\":\"99999999999999999999\"}", ES_EINVAL, "i64");
	encodes(d, "{\"u64\":\"-1\"}", ES_EINVAL, "u64");
	encodes(d, "{\"db\":\"nan\"}", ES_EINVAL, "db");
	encodes(d, "{\"b\":1}", ES_EINVAL, "b");
	encodes(d, "{\"color\":\"BLUE\"}", ES_EINVAL, "color");
	encodes(d, "{\"str\":5}", ES_EINVAL, "str");
	encodes(d, "{\"str\":\"a\\u0000b\"}", ES_EINVAL, "str");
	encodes(d, "{\"raw\":\"***\"}", ES_EINVAL, "raw");
	encodes(d, "{\"r_i64\":{}}", ES_EINVAL, "r_i64");
	encodes(d, "{\"inner\":{\"nums\":[\"x\"]}}", ES_EINVAL, "inner.nums");
	encodes(&evstore__bank__money_deposited__descriptor, "{\"amount_minor\":1.5}", ES_EINVAL,
	        "amount_minor");
}
END_TEST

TCase *es_tc_jsonpb(void)
{
	TCase *tc = tcase_create("jsonpb");
	tcase_add_test(tc, test_accepts);
	tcase_add_test(tc, test_refuses);
	return tc;
}
