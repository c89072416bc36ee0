/*
 * test_registry.c - the upcaster registry: chains run in order through
 * renames; validation refuses each malformed chain with a message naming the
 * types and versions; upcasting refuses what it cannot do (ES_EINVAL,
 * ES_ESCHEMA) and passes unknown types; the fingerprint follows every step
 * detail but not the order steps were added in, and is pinned for the bank.
 */
#include <stdio.h>
#include <string.h>

#include <evstore/bank.h>

#include "testutil.h"
#include "upcasters_tcases.h"

/* The bank registry's fingerprint, computed once and pinned here so that a
 * change in the bank's steps, or in how fingerprints are computed, across
 * builds or platforms, is caught. Changing this value invalidates every
 * stored account snapshot (loads pass them over and rebuild them): change it
 * only together with a deliberate change to the bank's upcasters, bumping
 * the revision of the step whose behaviour changed. */
#define BANK_FINGERPRINT UINT64_C(0x3afef5acb4af1098)

/* A step that appends its name to the payload, so the result shows which
 * steps ran and in what order. */
static int mark(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena,
                void *user_data)
{
	const char *m = user_data;
	size_t n = strlen(m);
	char *out = es_arena_alloc(arena, in->payload_len + n);
	if (!out)
		return es_error_set(ES_ENOMEM, "mark: out of memory");
	memcpy(out, in->payload, in->payload_len);
	memcpy(out + in->payload_len, m, n);
	*payload = out;
	*len = in->payload_len + n;
	return 0;
}

static int refuse(const void **payload, size_t *len, const es_upcast_event *in, es_arena *arena,
                  void *user_data)
{
	(void)payload; (void)len; (void)arena; (void)user_data;
	return es_error_set(ES_ECORRUPT, "refuse: %s v%u cannot be converted", in->type, in->schema_version);
}

static es_registry *reg_new(void)
{
	es_registry *r = NULL;
	ck_assert_es(es_registry_new(&r), 0);
	return r;
}

static void add_rev(es_registry *r, const char *type, uint32_t from, const char *to, const char *name,
                    uint32_t revision)
{
	es_upcaster s = { type, from, to, name, revision, mark, (void *)name };
	ck_assert_es(es_registry_add(r, &s), 0);
}

static void add(es_registry *r, const char *type, uint32_t from, const char *to, const char *name)
{
	add_rev(r, type, from, to, name, 1);
}

static void current(es_registry *r, const char *type, uint32_t version)
{
	ck_assert_es(es_registry_set_current(r, type, version), 0);
}

/* Validation must fail with ES_EINVAL and a message holding every word. */
static void invalid(es_registry *r, const char *const *words)
{
	ck_assert_es(es_registry_validate(r), ES_EINVAL);
	const char *msg = es_error_last()->message;
	for (; *words; words++)
		ck_assert_msg(strstr(msg, *words), "message '%s' does not mention %s", msg, *words);
	ck_assert_uint_eq(es_registry_fingerprint(r), 0);
	es_registry_free(r);
}

static es_event event(const char *type, uint32_t schema, const char *payload)
{
	es_event ev;
	memset(&ev, 0, sizeof ev);
	ev.stream = "thing-1";
	ev.version = 7;
	ev.type = type;
	ev.schema_version = schema;
	ev.payload = payload;
	ev.payload_len = strlen(payload);
	return ev;
}

/* ---- chains ---- */

START_TEST(test_chain_runs_in_order_through_a_rename)
{
	es_registry *r = reg_new();
	add(r, "B", 2, NULL, "+b2");
	add(r, "A", 1, "B", "+a1");
	add(r, "B", 3, NULL, "+b3");
	current(r, "B", 4);
	ck_assert_es(es_registry_validate(r), 0);
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	es_event ev = event("A", 1, "x");
	ck_assert_es(es_registry_upcast(&ev, r, &arena), 0);
	ck_assert_str_eq(ev.type, "B");
	ck_assert_uint_eq(ev.schema_version, 4);
	ck_assert_int_eq(ev.payload_len, 10);
	ck_assert_int_eq(memcmp(ev.payload, "x+a1+b2+b3", 10), 0);
	ck_assert_str_eq(ev.stream, "thing-1"); /* the envelope stays */
	ck_assert_int_eq(ev.version, 7);
	ev = event("B", 3, "y");
	ck_assert_es(es_registry_upcast(&ev, r, &arena), 0);
	ck_assert_int_eq(memcmp(ev.payload, "y+b3", 4), 0);
	ck_assert_uint_eq(es_registry_current(r, "B"), 4);
	ck_assert_uint_eq(es_registry_current(r, "A"), 0);
	ck_assert_uint_eq(es_registry_current(NULL, "B"), 0);
	es_arena_release(&arena);
	es_registry_free(r);
}
END_TEST

START_TEST(test_current_and_unknown_events_pass_unchanged)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "+a1");
	current(r, "A", 2);
	ck_assert_es(es_registry_validate(r), 0);
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	es_event ev = event("A", 2, "cur"), before = ev;
	ck_assert_es(es_registry_upcast(&ev, r, &arena), 0);
	ck_assert_ptr_eq(ev.payload, before.payload);
	ck_assert_ptr_eq(ev.type, before.type);
	ev = event("Unknown", 9, "other");
	before = ev;
	ck_assert_es(es_registry_upcast(&ev, r, &arena), 0);
	ck_assert_ptr_eq(ev.type, before.type);
	ck_assert_uint_eq(ev.schema_version, 9);
	ck_assert_ptr_eq(ev.payload, before.payload);
	es_registry_free(r);
}
END_TEST

/* ---- validation ---- */

START_TEST(test_two_steps_for_one_version)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "first-way");
	add(r, "A", 1, NULL, "second-way");
	current(r, "A", 2);
	invalid(r, (const char *[]){ "two upcasters", "'A' v1", "first-way", "second-way", NULL });
}
END_TEST

START_TEST(test_rename_cycle)
{
	es_registry *r = reg_new();
	add(r, "A", 1, "B", "a-to-b");
	add(r, "B", 2, "A", "b-back-to-a");
	current(r, "A", 3);
	invalid(r, (const char *[]){ "rename cycle", "'A'", "'B'", NULL });
}
END_TEST

START_TEST(test_gap_in_chain)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "a1");
	add(r, "A", 3, NULL, "a3"); /* nothing from v2 */
	current(r, "A", 4);
	invalid(r, (const char *[]){ "gap", "'A' v1", "'A' v2", "v4", NULL });
}
END_TEST

START_TEST(test_chain_past_current)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "a1");
	add(r, "A", 2, NULL, "a2");
	add(r, "A", 3, NULL, "a3"); /* leads to v4, current is v3 */
	current(r, "A", 3);
	invalid(r, (const char *[]){ "runs past", "'A'", "v3", "v4", NULL });
}
END_TEST

START_TEST(test_chain_ends_at_type_without_current)
{
	es_registry *r = reg_new();
	add(r, "A", 1, "B", "a-to-b");
	current(r, "A", 2);
	invalid(r, (const char *[]){ "'A' v1", "'B' v2", "no current version", NULL });
}
END_TEST

START_TEST(test_frozen_after_validate)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "a1");
	current(r, "A", 2);
	ck_assert_es(es_registry_validate(r), 0);
	es_upcaster s = { "A", 2, NULL, "late", 1, mark, NULL };
	ck_assert_es(es_registry_add(r, &s), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "validated"));
	ck_assert_es(es_registry_set_current(r, "C", 1), ES_EINVAL);
	ck_assert_es(es_registry_validate(r), ES_EINVAL);
	es_registry_free(r);
}
END_TEST

START_TEST(test_bad_arguments)
{
	es_registry *r = reg_new();
	es_upcaster zero = { "A", 0, NULL, "zero", 1, mark, NULL };
	es_upcaster noname = { "A", 1, NULL, NULL, 1, mark, NULL };
	es_upcaster nofn = { "A", 1, NULL, "nofn", 1, NULL, NULL };
	es_upcaster notype = { "", 1, NULL, "notype", 1, mark, NULL };
	ck_assert_es(es_registry_add(r, &zero), ES_EINVAL);
	ck_assert_es(es_registry_add(r, &noname), ES_EINVAL);
	ck_assert_es(es_registry_add(r, &nofn), ES_EINVAL);
	ck_assert_es(es_registry_add(r, &notype), ES_EINVAL);
	ck_assert_es(es_registry_add(r, NULL), ES_EINVAL);
	ck_assert_es(es_registry_set_current(r, "A", 0), ES_EINVAL);
	current(r, "A", 1);
	ck_assert_es(es_registry_set_current(r, "A", 2), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "twice"));
	ck_assert_es(es_registry_new(NULL), ES_EINVAL);
	ck_assert_es(es_registry_validate(NULL), ES_EINVAL);
	es_registry_free(r);
	es_registry_free(NULL);
}
END_TEST

/* ---- upcasting refusals ---- */

START_TEST(test_upcast_needs_validated_registry)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "a1");
	current(r, "A", 2);
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	es_event ev = event("A", 1, "x");
	ck_assert_es(es_registry_upcast(&ev, r, &arena), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "validate"));
	ck_assert_str_eq(ev.type, "A"); /* untouched */
	ck_assert_es(es_registry_upcast(NULL, r, &arena), ES_EINVAL);
	es_registry_free(r);
}
END_TEST

static void expect_schema_error(const es_registry *r, es_event ev, const char *why)
{
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	char schema[16];
	snprintf(schema, sizeof schema, "v%u", ev.schema_version);
	ck_assert_es(es_registry_upcast(&ev, r, &arena), ES_ESCHEMA);
	const char *msg = es_error_last()->message;
	const char *words[] = { "'thing-1'", "version 7", ev.type, schema, why };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		ck_assert_msg(strstr(msg, words[i]), "message '%s' does not mention %s", msg, words[i]);
	es_arena_release(&arena);
}

START_TEST(test_newer_than_current_is_eschema)
{
	es_registry *r = reg_new();
	add(r, "A", 1, NULL, "a1");
	current(r, "A", 2);
	ck_assert_es(es_registry_validate(r), 0);
	expect_schema_error(r, event("A", 3, "future"), "newer");
	es_registry_free(r);
}
END_TEST

START_TEST(test_older_version_without_step_is_eschema)
{
	es_registry *r = reg_new();
	add(r, "A", 2, NULL, "a2");
	current(r, "A", 3);
	ck_assert_es(es_registry_validate(r), 0);
	expect_schema_error(r, event("A", 1, "ancient"), "no upcaster");
	expect_schema_error(r, event("A", 0, "zero"), "no upcaster");
	es_registry_free(r);
	/* An old type name at a version it never had. */
	expect_schema_error(es_bank_registry(), event("Deposit", 2, ""), "no upcaster");
}
END_TEST

START_TEST(test_step_error_is_returned)
{
	es_registry *r = reg_new();
	es_upcaster s = { "A", 1, NULL, "refusing", 1, refuse, NULL };
	ck_assert_es(es_registry_add(r, &s), 0);
	current(r, "A", 2);
	ck_assert_es(es_registry_validate(r), 0);
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	es_event ev = event("A", 1, "x");
	ck_assert_es(es_registry_upcast(&ev, r, &arena), ES_ECORRUPT);
	ck_assert_str_eq(es_error_last()->message,
	                 "stream 'thing-1' version 7: refuse: A v1 cannot be converted");
	es_registry_free(r);
}
END_TEST

/* ---- fingerprints ---- */

/* A registry: A 1->2->3 with a step named `a2` at revision `rev`, B 1->2. */
static es_registry *base_with(const char *a2, uint32_t rev, int with_a1)
{
	es_registry *r = reg_new();
	if (with_a1)
		add(r, "A", 1, NULL, "a1");
	add_rev(r, "A", 2, NULL, a2, rev);
	add(r, "B", 1, NULL, "b1");
	current(r, "A", 3);
	current(r, "B", 2);
	ck_assert_es(es_registry_validate(r), 0);
	return r;
}

static uint64_t fp_and_free(es_registry *r)
{
	uint64_t fp = es_registry_fingerprint(r);
	es_registry_free(r);
	ck_assert_uint_ne(fp, 0);
	return fp;
}

START_TEST(test_fingerprint_ignores_add_order)
{
	es_registry *r1 = reg_new(), *r2 = reg_new();
	add(r1, "A", 1, NULL, "a1");
	add(r1, "A", 2, NULL, "a2");
	add(r1, "B", 1, NULL, "b1");
	current(r1, "A", 3);
	current(r1, "B", 2);
	current(r2, "B", 2);
	add(r2, "B", 1, NULL, "b1");
	current(r2, "A", 3);
	add(r2, "A", 2, NULL, "a2");
	add(r2, "A", 1, NULL, "a1");
	ck_assert_uint_eq(es_registry_fingerprint(r1), 0); /* not validated yet */
	ck_assert_es(es_registry_validate(r1), 0);
	ck_assert_es(es_registry_validate(r2), 0);
	ck_assert_uint_eq(fp_and_free(r1), fp_and_free(r2));
	ck_assert_uint_eq(fp_and_free(base_with("a2", 1, 1)), fp_and_free(base_with("a2", 1, 1)));
	ck_assert_uint_eq(es_registry_fingerprint(NULL), 0);
}
END_TEST

START_TEST(test_fingerprint_follows_every_change)
{
	uint64_t fps[6];
	fps[0] = fp_and_free(base_with("a2", 1, 0));
	fps[1] = fp_and_free(base_with("a2", 1, 1));        /* a step added */
	fps[2] = fp_and_free(base_with("a2", 2, 0));        /* a revision bumped */
	fps[3] = fp_and_free(base_with("a2-renamed", 1, 0)); /* a step's name */
	es_registry *r = reg_new();                          /* a rename target */
	add(r, "A", 2, "C", "a2");
	add(r, "B", 1, NULL, "b1");
	current(r, "C", 3);
	current(r, "B", 2);
	ck_assert_es(es_registry_validate(r), 0);
	fps[4] = fp_and_free(r);
	r = reg_new();                                       /* a current version */
	add(r, "A", 2, NULL, "a2");
	add(r, "B", 1, NULL, "b1");
	add(r, "B", 2, NULL, "b2");
	current(r, "A", 3);
	current(r, "B", 3);
	ck_assert_es(es_registry_validate(r), 0);
	fps[5] = fp_and_free(r);
	for (size_t i = 0; i < 6; i++)
		for (size_t j = i + 1; j < 6; j++)
			ck_assert_msg(fps[i] != fps[j], "fingerprints %zu and %zu collide", i, j);
}
END_TEST

START_TEST(test_bank_fingerprint_is_pinned)
{
	const es_registry *bank = es_bank_registry();
	ck_assert_ptr_nonnull(bank);
	ck_assert_msg(es_registry_fingerprint(bank) == BANK_FINGERPRINT,
	              "bank fingerprint is 0x%016llx; see the comment on BANK_FINGERPRINT",
	              (unsigned long long)es_registry_fingerprint(bank));
	ck_assert_ptr_eq(es_bank_registry(), bank); /* built once */
}
END_TEST

TCase *es_tc_registry(void)
{
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, test_chain_runs_in_order_through_a_rename);
	tcase_add_test(tc, test_current_and_unknown_events_pass_unchanged);
	tcase_add_test(tc, test_two_steps_for_one_version);
	tcase_add_test(tc, test_rename_cycle);
	tcase_add_test(tc, test_gap_in_chain);
	tcase_add_test(tc, test_chain_past_current);
	tcase_add_test(tc, test_chain_ends_at_type_without_current);
	tcase_add_test(tc, test_frozen_after_validate);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_upcast_needs_validated_registry);
	tcase_add_test(tc, test_newer_than_current_is_eschema);
	tcase_add_test(tc, test_older_version_without_step_is_eschema);
	tcase_add_test(tc, test_step_error_is_returned);
	tcase_add_test(tc, test_fingerprint_ignores_add_order);
	tcase_add_test(tc, test_fingerprint_follows_every_change);
	tcase_add_test(tc, test_bank_fingerprint_is_pinned);
	return tc;
}
