/*
 * test_bank_steps.c - the bank's schema history, step by step: release 1's
 * doubles become exact cents (every two-decimal amount, 0.1 + 0.2, negative
 * zero, the largest amount that fits), values no release could have meant
 * (NaN, infinities, negatives, too large) are refused with a clear message
 * rather than converted, and each step produces a valid release 3 event.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <evstore/bank.h>

#include "bank.pb-c.h"
#include "legacy_events.h"
#include "testutil.h"
#include "schema_tcases.h"

static int64_t cents_of(double major)
{
	int64_t c = -1;
	ck_assert_es(es_bank_v1_amount_to_minor(&c, major), 0);
	return c;
}

static void refused(double major, int code, const char *word)
{
	int64_t c = 0;
	ck_assert_es(es_bank_v1_amount_to_minor(&c, major), code);
	ck_assert_msg(strstr(es_error_last()->message, word), "message '%s' does not say %s",
	              es_error_last()->message, word);
}

START_TEST(test_amount_edges)
{
	volatile double tenth = 0.1, fifth = 0.2; /* summed at run time, as release 1 did */
	ck_assert_int_eq(cents_of(0.01), 1);
	ck_assert_int_eq(cents_of(tenth + fifth), 30);
	ck_assert(tenth + fifth != 0.3);
	ck_assert_int_eq(cents_of(19.99), 1999);
	ck_assert_int_eq(cents_of(1234567.89), 123456789);
	ck_assert_int_eq(cents_of(0.0), 0);
	ck_assert_int_eq(cents_of(-0.0), 0);
	/* Three-decimal texts release 1 could not write: their doubles lie just
	 * below the half cent, and the exact binary value rounds down. */
	ck_assert_int_eq(cents_of(1.005), 100);
	ck_assert_int_eq(cents_of(1.015), 101);
	ck_assert_int_eq(cents_of(2.675), 267);
	/* Exact binary ties round half to even (printf's rule). */
	ck_assert_int_eq(cents_of(0.125), 12);
	ck_assert_int_eq(cents_of(0.375), 38);
	ck_assert_int_eq(cents_of(5e-324), 0);
}
END_TEST

START_TEST(test_amount_largest)
{
	/* INT64_MAX cents is 92233720368547758.07; doubles there are 16 apart. */
	double largest = 92233720368547744.0;
	ck_assert_int_eq(cents_of(largest), INT64_C(9223372036854774400));
	refused(nextafter(largest, INFINITY), ES_ERANGE, "does not fit");
	refused(1e300, ES_ERANGE, "does not fit");
	refused(DBL_MAX, ES_ERANGE, "does not fit");
}
END_TEST

START_TEST(test_amount_not_a_number)
{
	refused(NAN, ES_ECORRUPT, "nan");
	refused(INFINITY, ES_ECORRUPT, "inf");
	refused(-INFINITY, ES_ECORRUPT, "inf");
	refused(-0.01, ES_ECORRUPT, "negative");
	refused(-5e-324, ES_ECORRUPT, "negative");
	ck_assert_es(es_bank_v1_amount_to_minor(NULL, 1.0), ES_EINVAL);
}
END_TEST

/* Every amount release 1 could write (a decimal with two digits, parsed to
 * the nearest double, as c / 100.0 is) comes back as exactly c cents: all
 * of 0.00 .. 3000.00, and a spread of larger ones below 2^46 dollars, past
 * which a double cannot hold cents at all. */
START_TEST(test_every_two_decimal_amount)
{
	for (int64_t c = 0; c <= 300000; c++)
		if (cents_of((double)c / 100.0) != c)
			ck_abort_msg("%lld cents came back wrong", (long long)c);
	uint64_t x = 0x9e3779b97f4a7c15u;
	const uint64_t limit = (UINT64_C(1) << 46) * 100;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int64_t c = (int64_t)(x % limit);
		if (cents_of((double)c / 100.0) != c)
			ck_abort_msg("%lld cents came back wrong", (long long)c);
	}
}
END_TEST

/* The rule as the header states it, the slow way: the exact binary value
 * rounded to a hundredth by printf, read back as decimal cents. */
static int64_t reference_cents(double major)
{
	char text[400];
	int64_t c = -1;
	snprintf(text, sizeof text, "%.2f", major);
	ck_assert_es(es_bank_money_parse(&c, text, 2), 0);
	return c;
}

/* Any double at all, not only two-decimal ones, converts by that rule (the
 * conversion takes a shortcut for values near a whole cent). */
START_TEST(test_amount_matches_rule)
{
	uint64_t x = 0x853c49e6748fea9bu;
	static const double scales[] = { 1e-3, 1, 1e3, 1e6, 1e9, 1e12, 1e15, 9e16 };
	for (int i = 0; i < 400000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double d = (double)(x >> 11) / 9007199254740992.0 * scales[i % 8];
		if (i % 3 == 0) /* near a half cent, where rounding is decided */
			d = (floor(d * 100) + 0.5) / 100;
		if (cents_of(d) != reference_cents(d))
			ck_abort_msg("%.17g: %lld cents, the rule says %lld", d, (long long)cents_of(d),
			             (long long)reference_cents(d));
	}
}
END_TEST

/* ---- the steps through the registry ---- */

static es_event as_stored(const legacy_event *e)
{
	es_event ev;
	memset(&ev, 0, sizeof ev);
	ev.stream = "account-x";
	ev.version = 3;
	ev.type = e->data.type;
	ev.schema_version = e->data.schema_version;
	ev.payload = e->data.payload;
	ev.payload_len = e->data.payload_len;
	return ev;
}

/* Upcasts e and checks it arrives as (type, 3). */
static es_event upcast_ok(es_arena *arena, const legacy_event *e, const char *type)
{
	es_event ev = as_stored(e);
	ck_assert_es(es_registry_upcast(&ev, es_bank_registry(), arena), 0);
	ck_assert_str_eq(ev.type, type);
	ck_assert_uint_eq(ev.schema_version, 3);
	return ev;
}

START_TEST(test_v1_money_steps)
{
	volatile double tenth = 0.1, fifth = 0.2;
	es_arena arena;
	legacy_event e;
	es_arena_init(&arena, NULL, 0);
	legacy_money(&e, 1, 1, 0, tenth + fifth, "pocket money");
	es_event ev = upcast_ok(&arena, &e, "MoneyDeposited");
	Evstore__Bank__MoneyDeposited *d = evstore__bank__money_deposited__unpack(NULL, ev.payload_len, ev.payload);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->amount_minor, 30);
	ck_assert_str_eq(d->reference, "pocket money");
	ck_assert_str_eq(d->transfer_id, "");
	evstore__bank__money_deposited__free_unpacked(d, NULL);
	legacy_money(&e, 1, 0, 0, 12.5, "rent");
	ev = upcast_ok(&arena, &e, "MoneyWithdrawn");
	Evstore__Bank__MoneyWithdrawn *w = evstore__bank__money_withdrawn__unpack(NULL, ev.payload_len, ev.payload);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(w->amount_minor, 1250);
	ck_assert_str_eq(w->reference, "rent");
	evstore__bank__money_withdrawn__free_unpacked(w, NULL);
	es_arena_release(&arena);
}
END_TEST

START_TEST(test_opened_steps)
{
	es_arena arena;
	legacy_event e;
	es_arena_init(&arena, NULL, 0);
	legacy_opened(&e, 1, "Ada", "EUR", 500); /* release 1 stored neither */
	es_event ev = upcast_ok(&arena, &e, "AccountOpened");
	Evstore__Bank__AccountOpened *m = evstore__bank__account_opened__unpack(NULL, ev.payload_len, ev.payload);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->owner, "Ada");
	ck_assert_str_eq(m->currency, "USD"); /* release 1 knew only US dollars */
	ck_assert_int_eq(m->overdraft_limit, 0);
	evstore__bank__account_opened__free_unpacked(m, NULL);
	legacy_opened(&e, 2, "Bea", "EUR", 500);
	ev = upcast_ok(&arena, &e, "AccountOpened");
	m = evstore__bank__account_opened__unpack(NULL, ev.payload_len, ev.payload);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->owner, "Bea");
	ck_assert_str_eq(m->currency, "EUR");
	ck_assert_int_eq(m->overdraft_limit, 0);
	evstore__bank__account_opened__free_unpacked(m, NULL);
	es_arena_release(&arena);
}
END_TEST

START_TEST(test_v2_steps_keep_bytes)
{
	es_arena arena;
	legacy_event e;
	es_arena_init(&arena, NULL, 0);
	legacy_money(&e, 2, 1, 4200, 0, "two");
	es_event ev = upcast_ok(&arena, &e, "MoneyDeposited");
	ck_assert_ptr_eq(ev.payload, e.payload); /* v2 -> v3 only added fields */
	legacy_money(&e, 2, 0, 4200, 0, "two");
	ev = upcast_ok(&arena, &e, "MoneyWithdrawn");
	ck_assert_ptr_eq(ev.payload, e.payload);
	for (uint32_t schema = 1; schema <= 2; schema++) {
		legacy_status(&e, schema, "AccountClosed", NULL);
		ev = upcast_ok(&arena, &e, "AccountClosed");
		Evstore__Bank__AccountClosed *c = evstore__bank__account_closed__unpack(NULL, ev.payload_len, ev.payload);
		ck_assert_ptr_nonnull(c);
		ck_assert_str_eq(c->reason, "");
		evstore__bank__account_closed__free_unpacked(c, NULL);
	}
	es_arena_release(&arena);
}
END_TEST

/* A refused v1 event: the code, and a message naming the stream, version,
 * old type (once) and the value. */
static void step_refuses(const legacy_event *e, int code, const char *value_words)
{
	es_arena arena;
	es_arena_init(&arena, NULL, 0);
	es_event ev = as_stored(e);
	ck_assert_es(es_registry_upcast(&ev, es_bank_registry(), &arena), code);
	const char *msg = es_error_last()->message;
	char prefix[64];
	snprintf(prefix, sizeof prefix, "stream 'account-x' version 3: %s", e->data.type);
	ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "message '%s'", msg);
	ck_assert_msg(strstr(msg, value_words), "message '%s' does not say %s", msg, value_words);
	/* Regression: the money step once formatted its message from the
	 * buffer it was writing, repeating the type name and losing the reason. */
	ck_assert_msg(!strstr(msg + strlen(prefix), e->data.type), "message '%s' repeats the type", msg);
	es_arena_release(&arena);
}

START_TEST(test_v1_bad_amounts_refused)
{
	legacy_event e;
	legacy_money(&e, 1, 1, 0, NAN, "");
	step_refuses(&e, ES_ECORRUPT, "v1 amount nan is not a number");
	legacy_money(&e, 1, 0, 0, INFINITY, "");
	step_refuses(&e, ES_ECORRUPT, "v1 amount inf is not a number");
	legacy_money(&e, 1, 1, 0, -INFINITY, "");
	step_refuses(&e, ES_ECORRUPT, "v1 amount -inf is not a number");
	legacy_money(&e, 1, 0, 0, -3.5, "");
	step_refuses(&e, ES_ECORRUPT, "-3.50 is negative");
	legacy_money(&e, 1, 1, 0, 1e19, "");
	step_refuses(&e, ES_ERANGE, "does not fit in int64 cents");
	/* A payload that is not a v1 Deposit at all. */
	e.data.payload_len = 3;
	memcpy(e.payload, "\xff\xff\xff", 3);
	step_refuses(&e, ES_ECORRUPT, "does not decode");
}
END_TEST

/* Through a load: an account whose v1 history holds NaN does not load. */
START_TEST(test_load_refuses_nan)
{
	es_db *db = es_test_open(NULL, NULL);
	legacy_event e;
	es_bank_account a;
	legacy_opened(&e, 1, "Nan", NULL, 0);
	ck_assert_es(legacy_append(db, "account-nan", ES_NO_STREAM, &e), 0);
	legacy_money(&e, 1, 1, 0, NAN, "");
	ck_assert_es(legacy_append(db, "account-nan", 0, &e), 0);
	ck_assert_es(es_bank_account_load(&a, NULL, db, "nan"), ES_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "'account-nan' version 1"));
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "nan"));
	ck_assert_es(es_bank_account_load_at_version(&a, NULL, db, "nan", 0), 0); /* before it: fine */
	ck_assert_str_eq(a.currency, "USD");
	es_db_close(db);
	es_test_tmpdir_remove();
}
END_TEST

TCase *es_tc_bank_steps(void)
{
	TCase *tc = tcase_create("bank_steps");
	tcase_add_test(tc, test_amount_edges);
	tcase_add_test(tc, test_amount_largest);
	tcase_add_test(tc, test_amount_not_a_number);
	tcase_add_test(tc, test_every_two_decimal_amount);
	tcase_add_test(tc, test_amount_matches_rule);
	tcase_add_test(tc, test_v1_money_steps);
	tcase_add_test(tc, test_opened_steps);
	tcase_add_test(tc, test_v2_steps_keep_bytes);
	tcase_add_test(tc, test_v1_bad_amounts_refused);
	tcase_add_test(tc, test_load_refuses_nan);
	tcase_set_timeout(tc, 120); /* the exhaustive amounts, under sanitizers */
	return tc;
}
