/*
 * command.c - command execution: load the targets, let the domain decide,
 * append every target's events in one batch with the loaded versions as
 * expected versions, stage the snapshots the policy calls for in the same
 * transaction, and retry the whole cycle on a conflict.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"
#include "es_alloc.h"
#include "es_array.h"
#include "es_options.h"

typedef struct emitted {
	size_t target;
	const char *type;
	uint32_t schema_version;
	uint8_t *payload;
	size_t len;
} emitted;

struct es_emit {
	size_t targets;
	emitted *ev;
	size_t n, cap;
};

int es_emit_event(es_emit *emit, size_t target, const char *type, uint32_t schema_version,
                  const void *payload, size_t payload_len)
{
	if (!emit || target >= emit->targets || !type || (payload_len && !payload))
		return es_error_set(ES_EINVAL, "es_emit_event: bad target %zu or missing type/payload", target);
	if (es__array_grow((void **)&emit->ev, &emit->cap, emit->n, sizeof *emit->ev, "es_emit_event"))
		return ES_ENOMEM;
	uint8_t *copy = es_malloc(payload_len ? payload_len : 1);
	if (!copy)
		return es_error_set(ES_ENOMEM, "es_emit_event: out of memory");
	if (payload_len)
		memcpy(copy, payload, payload_len);
	emit->ev[emit->n++] = (emitted){ target, type, schema_version, copy, payload_len };
	return 0;
}

static void emit_reset(es_emit *emit)
{
	for (size_t i = 0; i < emit->n; i++)
		es_free(emit->ev[i].payload);
	emit->n = 0;
}

/* Per-target working set of one attempt. */
typedef struct target_state {
	void *state;
	es_load_info info;
	int64_t head;           /* numbering base: the head even if soft-deleted, -1 if none */
	es_event_data *events;
	size_t count;
} target_state;

static int load_target(target_state *ts, es_read *rd, const es_target *t)
{
	es_stream_info si;
	int rc = es_stream_info_get(&si, rd, t->stream);
	ts->head = rc == 0 ? si.head_version : -1;
	if (rc == ES_ENOTFOUND || (rc == 0 && si.state == ES_STREAM_SOFT_DELETED)) {
		/* not there (yet, or any more): the state before any event */
		memset(&ts->info, 0, sizeof ts->info);
		ts->info.version = ts->info.snapshot_version = -1;
		t->type->init(ts->state);
		return 0;
	}
	return rc ? rc : es_aggregate_fold(ts->state, &ts->info, rd, t->type, t->stream, ES_HEAD);
}

static int load_all(target_state *ts, es_db *db, const es_target *targets, size_t count)
{
	es_read *rd = NULL; /* es_read_end(NULL) is a no-op when the begin fails */
	int rc = es_read_begin(&rd, db);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = load_target(&ts[i], rd, &targets[i]);
	es_read_end(rd);
	return rc;
}

static int gather_events(target_state *ts, const es_emit *emit, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		es_free(ts[i].events);
		ts[i].events = NULL;
		ts[i].count = 0;
		size_t n = 0;
		for (size_t e = 0; e < emit->n; e++)
			n += emit->ev[e].target == i;
		if (n && !(ts[i].events = es_calloc(n, sizeof *ts[i].events)))
			return es_error_set(ES_ENOMEM, "command: out of memory");
		for (size_t e = 0; e < emit->n; e++) {
			const emitted *em = &emit->ev[e];
			if (em->target != i)
				continue;
			es_event_data *d = &ts[i].events[ts[i].count++];
			d->type = em->type;
			d->schema_version = em->schema_version;
			d->payload = em->payload;
			d->payload_len = em->len;
		}
	}
	return 0;
}

/* The state after this command, applied in memory, becomes the snapshot
 * when the append crosses a multiple of the type's interval. */
static int stage_snapshot(es_batch *b, target_state *ts, const es_target *t)
{
	uint32_t every = es__snapshot_every(t->type);
	int64_t new_head = ts->head + (int64_t)ts->count;
	if (!every || ts->count == 0 || (ts->head + 1) / every == (new_head + 1) / every)
		return 0;
	es_dispatch d;
	int rc = es__dispatch_init(&d, t->type);
	for (size_t j = 0; rc == 0 && j < ts->count; j++) {
		es_event ev = { .stream = t->stream, .version = ts->head + 1 + (int64_t)j,
		                .type = ts->events[j].type, .schema_version = ts->events[j].schema_version,
		                .payload = ts->events[j].payload, .payload_len = ts->events[j].payload_len };
		rc = es__dispatch_apply(&d, ts->state, &ev);
	}
	es__dispatch_done(&d);
	uint8_t *bytes;
	size_t len;
	es_snapshot_key key;
	if (rc || (rc = es__aggregate_key(&key, t->type)) ||
	    (rc = es__state_encode(&bytes, &len, t->type, ts->state)))
		return rc;
	rc = es_snapshot_stage(b, t->stream, new_head, &key, bytes, len);
	free(bytes); /* snapshot_encode's buffer is malloc'd (aggregate.h): libc's */
	return rc;
}

static int append_all(target_state *ts, es_db *db, const es_target *targets, size_t count)
{
	es_batch *b;
	int rc = es_batch_new(&b, db);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		int64_t expected = ts[i].head >= 0 ? ts[i].head : ES_NO_STREAM;
		rc = es_batch_append(b, targets[i].stream, expected, ts[i].events, ts[i].count);
		if (rc == 0)
			rc = stage_snapshot(b, &ts[i], &targets[i]);
	}
	if (rc) {
		es_batch_free(b);
		return rc;
	}
	return es_batch_commit(b, NULL);
}

static int check_command(es_db *db, const es_target *targets, size_t count, es_decide_fn decide,
                         const es_command_options *opts)
{
	if (!db || !targets || !decide || count == 0 || count > ES_COMMAND_MAX_TARGETS)
		return es_error_set(ES_EINVAL, "es_command_execute: db, 1..%d targets and decide are required",
		                    ES_COMMAND_MAX_TARGETS);
	if (opts && opts->version != ES_COMMAND_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "es_command_execute: unknown options version %u", opts->version);
	for (size_t i = 0; i < count; i++) {
		int rc = es__check_type(targets[i].type);
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (targets[j].stream && targets[i].stream && strcmp(targets[i].stream, targets[j].stream) == 0)
				return es_error_set(ES_EINVAL, "es_command_execute: stream '%s' is targeted twice",
				                    targets[i].stream);
	}
	return 0;
}

static int attempt(es_command_result *res, target_state *ts, es_emit *emit, es_db *db,
                   const es_target *targets, size_t count, es_decide_fn decide, void *user_data)
{
	void *states[ES_COMMAND_MAX_TARGETS];
	es_load_info infos[ES_COMMAND_MAX_TARGETS];
	int rc = load_all(ts, db, targets, count);
	for (size_t i = 0; i < count; i++) {
		states[i] = ts[i].state;
		infos[i] = ts[i].info;
	}
	emit_reset(emit);
	if (rc || (rc = decide(emit, states, infos, count, user_data)) || emit->n == 0)
		return rc;
	if ((rc = gather_events(ts, emit, count)) || (rc = append_all(ts, db, targets, count)))
		return rc;
	res->events_appended = emit->n;
	return 0;
}

int es_command_execute(es_command_result *out, es_db *db, const es_target *targets, size_t count,
                       es_decide_fn decide, void *user_data, const es_command_options *opts)
{
	es_command_result local;
	es_command_result *res = out ? out : &local;
	memset(res, 0, sizeof *res);
	int rc = check_command(db, targets, count, decide, opts);
	if (rc)
		return rc;
	unsigned int max = opts && opts->max_attempts ? opts->max_attempts : 5;
	target_state ts[ES_COMMAND_MAX_TARGETS] = { 0 };
	es_emit emit = { count, NULL, 0, 0 };
	for (size_t i = 0; rc == 0 && i < count; i++)
		if (!(ts[i].state = es_calloc(1, targets[i].type->state_size)))
			rc = es_error_set(ES_ENOMEM, "es_command_execute: out of memory");
	for (res->attempts = 1; rc == 0; res->attempts++) {
		rc = attempt(res, ts, &emit, db, targets, count, decide, user_data);
		for (size_t i = 0; i < count; i++)
			es__state_clear(targets[i].type, ts[i].state);
		if (rc != ES_ECONFLICT || res->attempts >= max)
			break;
		rc = 0;
	}
	emit_reset(&emit);
	es_free(emit.ev);
	for (size_t i = 0; i < count; i++) {
		es_free(ts[i].state);
		es_free(ts[i].events);
	}
	return rc;
}

ES__OPTIONS_INIT_FN(es_command_options_init, es_command_options, ES_COMMAND_OPTIONS_INIT, ES_COMMAND_OPTIONS_VERSION)
