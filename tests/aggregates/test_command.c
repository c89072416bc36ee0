/*
 * test_command.c - command execution (command.c): the snapshot policy's
 * boundaries and snapshots landing in the append's transaction; refusals;
 * several targets in one batch; conflict retry and its limit; argument
 * checks; and many threads executing commands on one counter.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "counter.h"
#include "aggregates_tcases.h"

#define S "counter-a"
#define T "counter-b"

static int64_t head_of(const char *stream)
{
	es_read *rd;
	es_stream_info si;
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	int rc = es_stream_info_get(&si, rd, stream);
	es_read_end(rd);
	if (rc == ES_ENOTFOUND)
		return -2;
	ck_assert_es(rc, 0);
	return si.head_version;
}

/* Adds n events of amount 1 in one command. */
static void add_n(const es_aggregate_type *t, const char *stream, size_t n)
{
	int64_t *v = malloc(n * sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = (int64_t)i + 1;
	counter_add(ct_db, t, stream, v, n);
	free(v);
}

static es_load_info load_latest(const es_aggregate_type *t, const char *stream)
{
	counter c, want;
	es_load_info info;
	es_read *rd;
	ck_assert_es(es_aggregate_load(&c, &info, ct_db, t, stream), 0);
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	counter_naive(&want, rd, t, stream, INT64_MAX, INT64_MAX);
	es_read_end(rd);
	counter_assert_eq(&c, &want, stream);
	return info;
}

START_TEST(policy_boundaries_one_at_a_time)
{
	es_aggregate_type t = counter_type(5, 1);
	static const char *const want[] = { "", "", "", "", "4", "4", "4", "4", "4", "4,9", "4,9" };
	for (size_t count = 1; count <= 11; count++) {
		add_n(&t, S, 1);
		/* The snapshot is there as soon as the command returns. */
		ck_assert_str_eq(counter_snapshots(ct_db, S), want[count - 1]);
		es_load_info info = load_latest(&t, S);
		int64_t base = count >= 10 ? 9 : count >= 5 ? 4 : -1;
		ck_assert_int_eq(info.snapshot_version, base);
		ck_assert_uint_eq(info.events_folded, (uint64_t)((int64_t)count - 1 - base));
	}
	counter_snapshots_match_fold(&t, S);
}
END_TEST

START_TEST(policy_boundaries_several_per_command)
{
	es_aggregate_type t = counter_type(5, 1);
	add_n(&t, S, 3);  /* count 3 */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "");
	add_n(&t, S, 1);  /* count 4 = N-1 */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "");
	add_n(&t, S, 3);  /* count 7: crossed 5, the snapshot is the new head */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "6");
	add_n(&t, S, 3);  /* count 10 exactly */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "6,9");
	add_n(&t, S, 11); /* count 21: crossed 15 and 20, one snapshot */
	ck_assert_str_eq(counter_snapshots(ct_db, S), "6,9,20");
	es_load_info info = load_latest(&t, S);
	ck_assert_int_eq(info.snapshot_version, 20);
	ck_assert_uint_eq(info.events_folded, 0);
	counter c;
	ck_assert_es(es_aggregate_load_at_version(&c, &info, ct_db, &t, S, 15), 0);
	ck_assert_int_eq(info.snapshot_version, 9);
	ck_assert_uint_eq(info.events_folded, 6);
	counter_snapshots_match_fold(&t, S);
}
END_TEST

START_TEST(policy_default_never_and_no_codec)
{
	es_aggregate_type dflt = counter_type(0, 1);
	add_n(&dflt, S, ES_SNAPSHOT_DEFAULT_EVERY - 1);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "");
	add_n(&dflt, S, 1);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "99");
	counter_snapshots_match_fold(&dflt, S);

	es_aggregate_type never = counter_type(UINT32_MAX, 1);
	add_n(&never, T, 20);
	es_aggregate_type no_codec = counter_type(1, 1);
	no_codec.snapshot_encode = NULL;
	add_n(&no_codec, T, 3);
	ck_assert_str_eq(counter_snapshots(ct_db, T), "");
	es_load_info info = load_latest(&no_codec, T);
	ck_assert_int_eq(info.snapshot_version, -1);
	ck_assert_uint_eq(info.events_folded, 23);
}
END_TEST

/* ---- decisions ---- */

typedef struct plan {
	int calls;
	int emit_to[2];          /* events to emit per target */
	size_t payload_len;      /* 0: 8-byte amounts */
	int refuse;
	int interfere_until;     /* append to `interfere` during the first N calls */
	const char *interfere;
	int64_t seen_count[2];   /* state the last decision saw */
	int64_t seen_version[2];
} plan;

static int decide_plan(es_emit *emit, void *const *states, const es_load_info *infos, size_t n,
                       void *user_data)
{
	plan *p = user_data;
	p->calls++;
	for (size_t i = 0; i < n; i++) {
		p->seen_count[i] = ((const counter *)states[i])->count;
		p->seen_version[i] = infos[i].version;
	}
	if (p->calls <= p->interfere_until) {
		int64_t one = 1000;
		counter_append_raw(ct_db, p->interfere, &one, 1);
	}
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < p->emit_to[i]; k++) {
			int64_t one = 1;
			void *big = p->payload_len ? calloc(1, p->payload_len) : NULL;
			int rc = es_emit_event(emit, i, COUNTER_ADDED, 1, big ? big : (void *)&one,
			                       big ? p->payload_len : sizeof one);
			free(big);
			if (rc)
				return rc;
		}
	return p->refuse ? es_error_set(ES_EREJECTED, "plan refuses on call %d", p->calls) : 0;
}

static int run_plan(es_command_result *res, const es_aggregate_type *t, plan *p, size_t n,
                    unsigned int max_attempts)
{
	es_target targets[2] = { { t, S }, { t, T } };
	es_command_options o = ES_COMMAND_OPTIONS_INIT;
	o.max_attempts = max_attempts;
	return es_command_execute(res, ct_db, targets, n, decide_plan, p, &o);
}

START_TEST(snapshot_lands_with_the_append_or_not_at_all)
{
	es_aggregate_type t = counter_type(5, 1);
	add_n(&t, S, 4); /* one more event on S would take a snapshot */
	add_n(&t, T, 1);
	plan p = { .emit_to = { 1, 1 }, .payload_len = ES_DEFAULT_MAX_EVENT_SIZE + 1 };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 2, 0), ES_ETOOBIG);
	ck_assert_int_eq(head_of(S), 3);
	ck_assert_int_eq(head_of(T), 0);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "");
	p = (plan){ .emit_to = { 1, 1 } };
	ck_assert_es(run_plan(&res, &t, &p, 2, 0), 0);
	ck_assert_int_eq(head_of(S), 4);
	ck_assert_int_eq(head_of(T), 1);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "4");
	ck_assert_str_eq(counter_snapshots(ct_db, T), "");
}
END_TEST

START_TEST(refusal_writes_nothing)
{
	es_aggregate_type t = counter_type(1, 1);
	add_n(&t, S, 2);
	plan p = { .emit_to = { 3, 0 }, .refuse = 1 };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 1, 0), ES_EREJECTED);
	ck_assert_str_eq(es_error_last()->message, "plan refuses on call 1");
	ck_assert_int_eq(p.calls, 1);
	ck_assert_uint_eq(res.events_appended, 0);
	ck_assert_int_eq(head_of(S), 1);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "1");
}
END_TEST

START_TEST(nothing_emitted_is_success)
{
	es_aggregate_type t = counter_type(1, 1);
	plan p = { 0 };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 2, 0), 0);
	ck_assert_uint_eq(res.attempts, 1);
	ck_assert_uint_eq(res.events_appended, 0);
	ck_assert_int_eq(p.seen_version[0], -1);
	ck_assert_int_eq(p.seen_version[1], -1);
	ck_assert_int_eq(head_of(S), -2);
	ck_assert_int_eq(head_of(T), -2);
	ck_assert_es(es_command_execute(NULL, ct_db, (es_target[]){ { &t, S } }, 1, decide_plan, &p, NULL), 0);
}
END_TEST

START_TEST(several_targets_one_batch)
{
	es_aggregate_type t = counter_type(3, 1);
	add_n(&t, S, 2);
	plan p = { .emit_to = { 2, 1 } };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 2, 0), 0);
	ck_assert_uint_eq(res.events_appended, 3);
	ck_assert_int_eq(p.seen_count[0], 2);
	ck_assert_int_eq(p.seen_version[0], 1);
	ck_assert_int_eq(p.seen_version[1], -1);
	ck_assert_int_eq(head_of(S), 3);
	ck_assert_int_eq(head_of(T), 0);
	ck_assert_str_eq(counter_snapshots(ct_db, S), "3");
	es_read *rd;
	es_event a, b;
	ck_assert_es(es_read_begin(&rd, ct_db), 0);
	ck_assert_es(es_stream_get(&a, rd, S, 3), 0);
	ck_assert_es(es_stream_get(&b, rd, T, 0), 0);
	ck_assert_uint_eq(b.position, a.position + 1); /* one commit */
	es_read_end(rd);
}
END_TEST

START_TEST(conflict_is_retried)
{
	es_aggregate_type t = counter_type(5, 1);
	add_n(&t, S, 1);
	plan p = { .emit_to = { 1, 0 }, .interfere_until = 1, .interfere = S };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 1, 0), 0);
	ck_assert_uint_eq(res.attempts, 2);
	ck_assert_int_eq(p.calls, 2);
	ck_assert_int_eq(p.seen_count[0], 2); /* the retry saw the interfering event */
	ck_assert_int_eq(head_of(S), 2);
	/* A target that emits nothing must not have changed either. */
	p = (plan){ .emit_to = { 1, 0 }, .interfere_until = 2, .interfere = T };
	ck_assert_es(run_plan(&res, &t, &p, 2, 0), 0);
	ck_assert_uint_eq(res.attempts, 3);
	ck_assert_int_eq(p.seen_count[1], 2);
	ck_assert_int_eq(head_of(S), 3);
	ck_assert_int_eq(head_of(T), 1);
}
END_TEST

START_TEST(conflict_gives_up_after_max_attempts)
{
	es_aggregate_type t = counter_type(5, 1);
	plan p = { .emit_to = { 1, 0 }, .interfere_until = 1000, .interfere = S };
	es_command_result res;
	ck_assert_es(run_plan(&res, &t, &p, 1, 3), ES_ECONFLICT);
	ck_assert_uint_eq(res.attempts, 3);
	ck_assert_int_eq(p.calls, 3);
	ck_assert_int_eq(head_of(S), 2); /* only the interfering events */
	p.calls = 0;
	ck_assert_es(run_plan(&res, &t, &p, 1, 0), ES_ECONFLICT);
	ck_assert_uint_eq(res.attempts, 5);
	ck_assert_int_eq(p.calls, 5);
}
END_TEST

static int decide_bad_target(es_emit *emit, void *const *states, const es_load_info *infos, size_t n,
                             void *user_data)
{
	(void)states; (void)infos; (void)user_data;
	int64_t one = 1;
	return es_emit_event(emit, n, COUNTER_ADDED, 1, &one, sizeof one);
}

START_TEST(bad_arguments)
{
	es_aggregate_type t = counter_type(5, 1);
	es_target nine[9];
	for (int i = 0; i < 9; i++)
		nine[i] = (es_target){ &t, S };
	es_target two[2] = { { &t, S }, { &t, S } };
	plan p = { 0 };
	ck_assert_es(es_command_execute(NULL, ct_db, nine, 0, decide_plan, &p, NULL), ES_EINVAL);
	ck_assert_es(es_command_execute(NULL, ct_db, nine, 9, decide_plan, &p, NULL), ES_EINVAL);
	ck_assert_es(es_command_execute(NULL, ct_db, nine, 1, NULL, &p, NULL), ES_EINVAL);
	ck_assert_es(es_command_execute(NULL, NULL, nine, 1, decide_plan, &p, NULL), ES_EINVAL);
	ck_assert_es(es_command_execute(NULL, ct_db, two, 2, decide_plan, &p, NULL), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, S));
	es_command_options o = ES_COMMAND_OPTIONS_INIT;
	o.version = 99;
	ck_assert_es(es_command_execute(NULL, ct_db, nine, 1, decide_plan, &p, &o), ES_EINVAL);
	es_target untyped = { NULL, S };
	ck_assert_es(es_command_execute(NULL, ct_db, &untyped, 1, decide_plan, &p, NULL), ES_EINVAL);
	ck_assert_int_eq(p.calls, 0);
	ck_assert_es(es_command_execute(NULL, ct_db, nine, 1, decide_bad_target, NULL, NULL), ES_EINVAL);
	ck_assert_es(es_emit_event(NULL, 0, COUNTER_ADDED, 1, NULL, 0), ES_EINVAL);
	ck_assert_int_eq(head_of(S), -2);
}
END_TEST

START_TEST(tombstoned_target)
{
	es_aggregate_type t = counter_type(5, 1);
	add_n(&t, S, 1);
	ck_assert_es(es_stream_tombstone(ct_db, S, ES_ANY), 0);
	plan p = { .emit_to = { 1, 0 } };
	ck_assert_es(run_plan(NULL, &t, &p, 1, 0), ES_EDELETED);
}
END_TEST

/* ---- threads ---- */

#define THREADS 4
#define PER_THREAD 40
#define EVERY 7

static void *increment_worker(void *arg)
{
	const es_aggregate_type *t = arg;
	es_target target = { t, S };
	es_command_options o = ES_COMMAND_OPTIONS_INIT;
	o.max_attempts = 100000;
	for (int i = 0; i < PER_THREAD; i++) {
		plan p = { .emit_to = { 1, 0 } };
		if (es_command_execute(NULL, ct_db, &target, 1, decide_plan, &p, &o) != 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(threads_share_one_counter)
{
	es_aggregate_type t = counter_type(EVERY, 1);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, increment_worker, &t), 0);
	for (int i = 0; i < THREADS; i++) {
		void *ret;
		ck_assert_int_eq(pthread_join(th[i], &ret), 0);
		ck_assert_ptr_null(ret);
	}
	counter c;
	ck_assert_es(es_aggregate_load(&c, NULL, ct_db, &t, S), 0);
	ck_assert_int_eq(c.count, THREADS * PER_THREAD);
	ck_assert_int_eq(c.sum, THREADS * PER_THREAD);
	char want[512] = "";
	for (int v = EVERY - 1; v < THREADS * PER_THREAD; v += EVERY)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", *want ? "," : "", v);
	ck_assert_str_eq(counter_snapshots(ct_db, S), want);
	counter_snapshots_match_fold(&t, S);
}
END_TEST

START_TEST(command_options_init)
{
	es_command_options o;
	memset(&o, 0xa5, sizeof o);
	ck_assert_es(es_command_options_init(&o, ES_COMMAND_OPTIONS_VERSION), 0);
	ck_assert(o.version == ES_COMMAND_OPTIONS_VERSION && o.max_attempts == 0);
	ck_assert_es(es_command_options_init(&o, 0), ES_EINVAL);
	ck_assert_ptr_nonnull(strstr(es_error_last()->message, "es_command_options_init"));
}
END_TEST

TCase *es_tc_command(void)
{
	TCase *tc = tcase_create("command");
	tcase_add_checked_fixture(tc, ct_setup, ct_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, policy_boundaries_one_at_a_time);
	tcase_add_test(tc, policy_boundaries_several_per_command);
	tcase_add_test(tc, policy_default_never_and_no_codec);
	tcase_add_test(tc, snapshot_lands_with_the_append_or_not_at_all);
	tcase_add_test(tc, refusal_writes_nothing);
	tcase_add_test(tc, nothing_emitted_is_success);
	tcase_add_test(tc, several_targets_one_batch);
	tcase_add_test(tc, conflict_is_retried);
	tcase_add_test(tc, conflict_gives_up_after_max_attempts);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, tombstoned_target);
	tcase_add_test(tc, threads_share_one_counter);
	tcase_add_test(tc, command_options_init);
	return tc;
}
