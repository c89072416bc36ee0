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

/* A projection's position is this checkpoint + its name (or, while it is
 * rebuilt, its name + ES__REBUILD_SUFFIX). */
#define ES__PROJECTION_CHECKPOINT "projection:"
#define ES__REBUILD_SUFFIX "\x1f" "rebuild"
#define ES__PROJECTION_CHECKPOINT_SIZE \
	(sizeof ES__PROJECTION_CHECKPOINT + ES_PROJECTION_NAME_MAX + sizeof ES__REBUILD_SUFFIX)
/* Longest key a handler may use (the state key adds the name). */
#define ES__PROJECTION_KEY_MAX 300

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

/* The failure that stopped projection name at position (status.c): put in
 * the batch that commits the events before it, cleared by the next batch
 * that commits. */
int es__proj_failure_put(es__state_txn *t, const char *name, uint64_t position, int code,
                         const char *message);
int es__proj_failure_clear(es__state_txn *t, const char *name);

#endif
