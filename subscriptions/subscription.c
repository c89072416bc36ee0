/*
 * subscription.c - a subscription reads the global log in chunks, each
 * through a short read transaction that ends with the chunk, so it pins no
 * old pages and holds no memory between chunks. A chunk never reaches past
 * the head its read saw; what a read sees is durable (a durable store's
 * commit is published to readers only after its sync: docs/DESIGN.md
 * "Durability"). When nothing is left, it waits on
 * the store's commit counter (engine/notify.c): the counter is read before
 * the log is looked at, so a commit in between ends the wait at once.
 */
#include <string.h>
#include <time.h>

#include "es_alloc.h"
#include "evstore/checkpoint.h"
#include "es_engine_int.h"
#include "es_options.h"
#include "es_sub_filter.h"

#define DEFAULT_CHUNK 1024
#define DEFAULT_PROGRESS_EVERY 4096
#define DEFAULT_BEHIND_AFTER 65536
#define ARENA_BYTES 4096

struct es_subscription {
	es_db *db;
	es__sub_filter filter;
	const es_registry *upcast;
	size_t chunk, progress_every, behind_after;
	uint64_t next;          /* the next position to look at */
	bool live;              /* caught up, not fallen behind since */
	es_read *rd;            /* the chunk's read, or NULL between chunks */
	es_iter *it;
	/* A type filter on stored types (no upcasting) is handed to the log
	 * iterator, which skips other events without decoding them; their ids
	 * are looked up again with each chunk's read until all are stored. */
	uint32_t *type_ids;
	bool types_resolved;
	es_arena arena;
	unsigned char arena_buf[ARENA_BYTES];
};

ES__OPTIONS_INIT_FN(es_subscription_options_init, es_subscription_options,
                    ES_SUBSCRIPTION_OPTIONS_INIT, ES_SUBSCRIPTION_OPTIONS_VERSION)

static void chunk_end(es_subscription *s)
{
	es_iter_free(s->it);
	es_read_end(s->rd);
	s->it = NULL;
	s->rd = NULL;
}

/* Where the subscription starts, from a read of the store as it is now. */
static int start_position(uint64_t *next, es_read *rd, const es_subscription_options *o)
{
	uint64_t head, saved;
	int rc = es_log_head(&head, rd);
	if (rc)
		return rc;
	switch (o->start) {
	case ES_SUBSCRIPTION_FROM_START: *next = 1; return 0;
	case ES_SUBSCRIPTION_FROM_END: *next = head + 1; return 0;
	case ES_SUBSCRIPTION_AFTER:
		if (o->after > head)
			return es_error_set(ES_EINVAL, "es_subscription_open: position %llu is after the log "
			                    "head (%llu)", (unsigned long long)o->after, (unsigned long long)head);
		*next = o->after + 1;
		return 0;
	case ES_SUBSCRIPTION_FROM_CHECKPOINT:
		if (!o->checkpoint)
			return es_error_set(ES_EINVAL, "es_subscription_open: no checkpoint name given");
		if ((rc = es_checkpoint_get(&saved, rd, o->checkpoint)) == 0)
			*next = saved + 1;
		return rc;
	}
	return es_error_set(ES_EINVAL, "es_subscription_open: unknown start %d", (int)o->start);
}

static int subscription_init(es_subscription *s, es_db *db, const es_subscription_options *o)
{
	s->db = db;
	s->upcast = o->upcast;
	s->chunk = o->chunk ? o->chunk : DEFAULT_CHUNK;
	s->progress_every = o->progress_every ? o->progress_every : DEFAULT_PROGRESS_EVERY;
	s->behind_after = o->behind_after ? o->behind_after : DEFAULT_BEHIND_AFTER;
	es_arena_init(&s->arena, s->arena_buf, sizeof s->arena_buf);
	es_read *rd;
	int rc = es__sub_filter_init(&s->filter, o);
	if (rc == 0 && s->filter.n_types && !s->upcast &&
	    !(s->type_ids = es_calloc(s->filter.n_types, sizeof *s->type_ids)))
		rc = es_error_set(ES_ENOMEM, "es_subscription_open: out of memory");
	if (rc == 0 && (rc = es_read_begin(&rd, db)) == 0) {
		rc = start_position(&s->next, rd, o);
		es_read_end(rd);
	}
	return rc;
}

int es_subscription_open(es_subscription **out, es_db *db, const es_subscription_options *opts)
{
	es_subscription_options defaults = ES_SUBSCRIPTION_OPTIONS_INIT;
	if (out)
		*out = NULL;
	if (!out || !db)
		return es_error_set(ES_EINVAL, "es_subscription_open: out and db are required");
	int rc = es__options_pick((const void **)&opts, &defaults, ES_SUBSCRIPTION_OPTIONS_VERSION,
	                          "es_subscription_open");
	if (rc)
		return rc;
	es_subscription *s = es_calloc(1, sizeof *s);
	if (!s)
		return es_error_set(ES_ENOMEM, "es_subscription_open: out of memory");
	if ((rc = subscription_init(s, db, opts))) {
		es_subscription_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void es_subscription_free(es_subscription *s)
{
	if (!s)
		return;
	chunk_end(s);
	es__sub_filter_free(&s->filter);
	es_free(s->type_ids);
	es_arena_release(&s->arena);
	es_free(s);
}

void es_subscription_release(es_subscription *s)
{
	if (s)
		chunk_end(s);
}

uint64_t es_subscription_position(const es_subscription *s)
{
	return s ? s->next - 1 : 0;
}

/* ---- reading ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void item_signal(es_subscription_item *out, es_subscription *s, es_subscription_item_kind kind)
{
	memset(out, 0, sizeof *out);
	out->kind = kind;
	out->position = s->next - 1;
}

static int skip_other_types(es_subscription *s)
{
	if (!s->types_resolved) {
		int rc = es__type_ids(s->type_ids, s->rd, (const char *const *)s->filter.types, s->filter.n_types);
		if (rc)
			return rc;
		s->types_resolved = true;
		for (size_t i = 0; i < s->filter.n_types; i++)
			s->types_resolved &= s->type_ids[i] != 0;
	}
	es__log_iter_types(s->it, s->type_ids, s->filter.n_types, s->progress_every);
	return 0;
}

/* Begins a chunk if events wait. 1: a chunk is open; 0: nothing new (no
 * read held); < 0: an error. */
static int chunk_begin(es_subscription *s, bool *fell_behind)
{
	uint64_t head;
	int rc = es_read_begin(&s->rd, s->db);
	if (rc == 0)
		rc = es_log_head(&head, s->rd);
	if (rc == 0 && head >= s->next) {
		uint64_t waiting = head - s->next + 1;
		*fell_behind = s->live && waiting > s->behind_after;
		rc = es_log_iter(&s->it, s->rd, s->next, ES_FORWARD, waiting < s->chunk ? waiting : s->chunk);
		if (rc == 0 && s->type_ids)
			rc = skip_other_types(s);
		if (rc == 0)
			return 1;
	}
	chunk_end(s);
	return rc;
}

/* The chunk's next event that matches. 1: *ev is one; 0: the chunk is
 * done or progress is due; < 0: an error (the subscription stays before
 * the event that failed). */
static int chunk_next(es_event *ev, es_subscription *s, uint64_t *unmatched)
{
	for (;;) {
		int rc = es_iter_next(ev, s->it);
		if (rc == ES_ITEROVER && s->type_ids) /* what the iterator skipped at the end */
			s->next = es__log_iter_position(s->it);
		if (rc == ES_ITEROVER)
			return 0;
		if (rc == ES__ITER_SKIPPED) { /* other types only, for progress_every positions */
			s->next = es__log_iter_position(s->it);
			*unmatched = s->progress_every;
			return 0;
		}
		if (rc == 0 && s->type_ids && ev->position > s->next) /* skipped by the iterator */
			s->next = ev->position;
		if (rc == 0 && ev->position != s->next)
			rc = es_error_set(ES_ECORRUPT, "the log jumps from position %llu to %llu",
			                  (unsigned long long)(s->next - 1), (unsigned long long)ev->position);
		if (rc == 0 && s->upcast) {
			es_arena_reset(&s->arena);
			rc = es_registry_upcast(ev, s->upcast, &s->arena);
		}
		if (rc)
			return rc;
		s->next++;
		if (!s->filter.any || es__sub_filter_match(&s->filter, ev)) /* no call without filters */
			return 1;
		if (++*unmatched >= s->progress_every)
			return 0;
	}
}

/* Waits for a commit; ES_ETIMEDOUT once the deadline passes. The deadline
 * is set at the first wait (*deadline 0), timeout_ms < 0 is none: a call
 * that finds events never reads the clock. */
static int wait_commit(es_subscription *s, uint32_t seen, int timeout_ms, int64_t *deadline)
{
	if (timeout_ms >= 0 && *deadline == 0)
		*deadline = now_ms() + timeout_ms;
	int64_t left = timeout_ms < 0 ? -1 : *deadline - now_ms();
	if (timeout_ms >= 0 && left <= 0)
		return ES_ETIMEDOUT;
	es__notify_wait(s->db, seen, left > INT32_MAX ? INT32_MAX : (int)left);
	return 0;
}

int es_subscription_next(es_subscription_item *out, es_subscription *s, int timeout_ms)
{
	if (!out || !s)
		return es_error_set(ES_EINVAL, "es_subscription_next: out and sub are required");
	int64_t deadline = 0;
	uint64_t unmatched = 0;
	for (;;) {
		int rc = s->it ? chunk_next(&out->event, s, &unmatched) : 0; /* straight into *out */
		if (rc == 1) {
			out->kind = ES_SUBSCRIPTION_EVENT;
			out->position = out->event.position;
			return 0;
		}
		if (rc < 0) {
			chunk_end(s);
			return rc;
		}
		if (s->it && unmatched >= s->progress_every) {
			item_signal(out, s, ES_SUBSCRIPTION_PROGRESS);
			return 0;
		}
		chunk_end(s);
		uint32_t seen = es__notify_seen(s->db);
		bool behind = false;
		if ((rc = chunk_begin(s, &behind)) < 0)
			return rc;
		if (rc == 1 && behind) {
			s->live = false;
			item_signal(out, s, ES_SUBSCRIPTION_FELL_BEHIND);
			return 0;
		}
		if (rc == 1)
			continue;
		if (!s->live) {
			s->live = true;
			item_signal(out, s, ES_SUBSCRIPTION_CAUGHT_UP);
			return 0;
		}
		if ((rc = wait_commit(s, seen, timeout_ms, &deadline)))
			return es_error_set(rc, "no new event within %d ms", timeout_ms);
	}
}
