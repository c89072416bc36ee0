/*
 * proj_int.h - the projections module's private definitions: option
 * checks, the failure record (status.c) and the names it stores under.
 */
#ifndef ES_PROJ_INT_H
#define ES_PROJ_INT_H

#include <stdbool.h>

#include "evstore/checkpoint.h"
#include "evstore/projection.h"
#include "evstore/subscription.h"
#include "es_engine_int.h"
#include "es_sub_filter.h"

/* A projection's position is this checkpoint + its name (or, while it is
 * rebuilt, its name + ES__REBUILD_SUFFIX). */
#define ES__PROJECTION_CHECKPOINT "projection:"
#define ES__REBUILD_SUFFIX "\x1f" "rebuild"
#define ES__PROJECTION_CHECKPOINT_SIZE \
	(sizeof ES__PROJECTION_CHECKPOINT + ES_PROJECTION_NAME_MAX + sizeof ES__REBUILD_SUFFIX)
/* Longest key a handler may use (the state key adds the name). */
#define ES__PROJECTION_KEY_MAX 300

/* Events per catch-up transaction when the options say 0. */
#define ES__PROJ_DEFAULT_BATCH 1024

/* A batch found the projection moved on since its read (internal). */
#define ES__PROJ_MOVED (-1100)

/* 0, or ES_EINVAL naming what is wrong (fn: the caller's name). Options
 * may not name a projection with a 0x1f byte (rebuilds' reserved names). */
int es__proj_check_name(const char *name, const char *fn);
int es__proj_check_options(es_db *db, const es_projection_options *o, const char *fn);

/* What a handler writes through (see evstore/projection.h). */
struct es_projection_ctx {
	es__state_txn *t;
	const char *name;
};

/* es_projection_catch_up once opts are checked (any name: rebuilds use
 * their reserved one). Adds to *st's counts (a rebuild's rounds report
 * progress as one run) and sets st->position. */
int es__proj_catch_up(es_projection_stats *st, es_db *db, const es_projection_options *opts);

/* Applies a projection's events inside a transaction someone else began
 * (apply.c): an append's, for inline projections, or a rebuild's swap. */
#define ES__APPLIER_ARENA 4096
typedef struct es__proj_applier {
	es_projection_options o; /* o.name and the filter's strings: the applier's copies */
	char name[ES_PROJECTION_NAME_MAX + sizeof ES__REBUILD_SUFFIX];
	char checkpoint[ES__PROJECTION_CHECKPOINT_SIZE];
	const char *what;        /* "inline projection", say: messages start with it */
	es__sub_filter filter;
	uint64_t applied;        /* handler calls that returned 0 */
	es_arena arena;          /* upcast payloads; one transaction at a time uses it */
	unsigned char arena_buf[ES__APPLIER_ARENA];
} es__proj_applier;
/* For projection name (the options' own, or a rebuild's) with opts' filter
 * and handler. 0, ES_EINVAL (a bad filter), ES_ENOMEM. */
int es__proj_applier_new(es__proj_applier **out, const es_projection_options *opts, const char *name,
                         const char *what);
void es__proj_applier_free(es__proj_applier *a);
/* Events (checkpoint, v->head] through the handler in t (v->events when
 * they are exactly the ones after the checkpoint, else read through rd),
 * then the checkpoint to v->head. 0, or the handler's error with the
 * position in the message, or the state's errors. */
int es__proj_applier_run(es__proj_applier *a, es__state_txn *t, es_read *rd, const es__commit_view *v);

/* The failure that stopped projection name at position (status.c): put in
 * the batch that commits the events before it, cleared by the next batch
 * that commits. */
int es__proj_failure_put(es__state_txn *t, const char *name, uint64_t position, int code,
                         const char *message);
int es__proj_failure_clear(es__state_txn *t, const char *name);

#endif
