/*
 * migrate_check.c - es_migrate_check: does a copy answer like its source?
 * The stream table and log head must match exactly; then each stream of an
 * aggregate type is loaded as of a sample of times in both stores. States
 * are compared by their snapshot encoding, the type's own definition of
 * what a state holds, so this needs no knowledge of the domain.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"
#include "es_alloc.h"
#include "evstore/migrate.h"

typedef struct checker {
	es_read *src, *dst;
	const es_aggregate_type *type;
	int64_t *times;
	es_migrate_check_stats st;
	es_migrate_difference_fn fn;
	void *user_data;
	void *a, *b;              /* one state per store */
} checker;

/* recorded_at of n events spread evenly over the source's log. */
static int sample_times(checker *k, uint64_t head, size_t n)
{
	for (size_t i = 0; head > 0 && i < n; i++) {
		uint64_t pos = 1 + (n > 1 ? (head - 1) * i / (n - 1) : 0);
		es_iter *it;
		es_event ev;
		int rc = es_log_iter(&it, k->src, pos, ES_FORWARD, 1);
		if (rc == 0 && (rc = es_iter_next(&ev, it)) == 0)
			k->times[k->st.times++] = ev.recorded_at;
		es_iter_free(it);
		if (rc)
			return rc;
	}
	return 0;
}

static bool same_state(const checker *k)
{
	uint8_t *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	bool same = es__state_encode(&x, &xl, k->type, k->a) == 0 &&
	            es__state_encode(&y, &yl, k->type, k->b) == 0 && xl == yl && memcmp(x, y, xl) == 0;
	free(x); /* snapshot_encode's buffers are libc's by contract */
	free(y);
	return same;
}

/* Both stores must give the same answer as of t: the same state, or both
 * "did not exist" / "deleted". */
static void compare_at(checker *k, const char *stream, int64_t t)
{
	char msg[512];
	int ra = es_aggregate_fold_as_of(k->a, NULL, k->src, k->type, stream, t);
	snprintf(msg, sizeof msg, "%s", ra ? es_error_last()->message : "");
	int rb = es_aggregate_fold_as_of(k->b, NULL, k->dst, k->type, stream, t);
	k->st.compared++;
	bool differs = ra != rb || (ra != 0 && ra != ES_ENOTFOUND && ra != ES_EDELETED) ||
	               (ra == 0 && !same_state(k));
	if (differs && ++k->st.differences && k->fn) {
		es_migrate_difference d = { stream, t, ra, rb, msg, rb ? es_error_last()->message : "",
		                            ra == 0 && rb == 0 ? k->a : NULL, ra == 0 && rb == 0 ? k->b : NULL };
		k->fn(&d, k->user_data);
	}
	if (ra == 0)
		es__state_clear(k->type, k->a);
	if (rb == 0)
		es__state_clear(k->type, k->b);
}

static int check_stream(const char *stream, void *user_data)
{
	checker *k = user_data;
	es_stream_info si;
	k->st.streams++;
	int rc = es_stream_info_get(&si, k->src, stream);
	for (size_t j = 0; rc == 0 && j < k->st.times; j++)
		compare_at(k, stream, k->times[j]);
	if (rc == 0 && si.last_recorded_at) /* and as of its own last event */
		compare_at(k, stream, si.last_recorded_at);
	return rc;
}

/* Every stream of the source has the same record in the copy. */
static int same_info(const char *stream, void *user_data)
{
	checker *k = user_data;
	es_stream_info a, b;
	int rc = es_stream_info_get(&a, k->src, stream);
	if (rc == 0 && (rc = es_stream_info_get(&b, k->dst, stream)) == ES_ENOTFOUND)
		return es_error_set(ES_ECORRUPT, "stream '%s' is missing from the copy", stream);
	if (rc == 0 && (a.head_version != b.head_version || a.first_version != b.first_version ||
	                a.state != b.state || a.first_recorded_at != b.first_recorded_at ||
	                a.last_recorded_at != b.last_recorded_at))
		rc = es_error_set(ES_ECORRUPT, "stream '%s' is head %lld, first %lld, state %d in the copy; "
		                  "%lld, %lld, %d in the source", stream, (long long)b.head_version,
		                  (long long)b.first_version, (int)b.state, (long long)a.head_version,
		                  (long long)a.first_version, (int)a.state);
	return rc;
}

static int check(checker *k, size_t n_times)
{
	uint64_t hs, hd;
	int rc = es_log_head(&hs, k->src);
	if (rc == 0)
		rc = es_log_head(&hd, k->dst);
	if (rc == 0 && hs != hd)
		return es_error_set(ES_ECORRUPT, "log head %llu in the copy, %llu in the source",
		                    (unsigned long long)hd, (unsigned long long)hs);
	if (rc == 0)
		rc = es_stream_list(k->src, NULL, NULL, ES_NO_LIMIT, same_info, k);
	if (rc == 0)
		rc = sample_times(k, hs, n_times);
	if (rc == 0)
		rc = es_stream_list(k->src, k->type->stream_prefix, NULL, ES_NO_LIMIT, check_stream, k);
	return rc;
}

int es_migrate_check(es_migrate_check_stats *out, es_db *src, es_db *dst, const es_aggregate_type *type,
                     size_t sample_times_n, es_migrate_difference_fn difference, void *user_data)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!src || !dst || !type)
		return es_error_set(ES_EINVAL, "es_migrate_check: src, dst and type are required");
	int rc = es__check_type(type);
	if (rc)
		return rc;
	if (!type->snapshot_encode)
		return es_error_set(ES_EINVAL, "es_migrate_check: type '%s' cannot encode its states",
		                    type->name);
	size_t size = type->state_size ? type->state_size : 1;
	checker k = { .type = type, .fn = difference, .user_data = user_data };
	k.times = es_calloc(sample_times_n ? sample_times_n : 1, sizeof *k.times);
	k.a = es_malloc(size);
	k.b = es_malloc(size);
	if (!k.times || !k.a || !k.b)
		rc = es_error_set(ES_ENOMEM, "es_migrate_check: out of memory");
	if (rc == 0 && (rc = es_read_begin(&k.src, src)) == 0) {
		if ((rc = es_read_begin(&k.dst, dst)) == 0) {
			rc = check(&k, sample_times_n);
			es_read_end(k.dst);
		}
		es_read_end(k.src);
	}
	es_free(k.times);
	es_free(k.a);
	es_free(k.b);
	if (out)
		*out = k.st;
	return rc;
}
