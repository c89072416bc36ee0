/*
 * aggregate_int.h - internals shared by the aggregate module's files.
 */
#ifndef ES_AGGREGATE_INT_H
#define ES_AGGREGATE_INT_H

#include "evstore/aggregate.h"

/* Dispatches events to a type's handlers, remembering up to this many
 * (type, schema version) pairs that need no upcast, with their handlers. */
#define ES_DISPATCH_MEMO 8

typedef struct es_dispatch {
	const es_aggregate_type *type;
	const es_registry *registry; /* NULL: the type has no upcasters */
	/* (type name, schema version) pairs already current, with their handler:
	 * no upcast and no handler search for them */
	struct { const char *type; uint32_t version; es_apply_fn apply; } memo[ES_DISPATCH_MEMO];
	unsigned int n_memo;
	es_arena arena;   /* upcast payloads, reset per event */
	_Alignas(16) unsigned char arena_buf[1024];
} es_dispatch;

int es__dispatch_init(es_dispatch *d, const es_aggregate_type *type);
/* Upcasts (when the type has a registry) and applies one event. */
int es__dispatch_apply(es_dispatch *d, void *state, const es_event *ev);
void es__dispatch_done(es_dispatch *d);

/* The snapshot key (schema version and chain fingerprint) of a type. */
int es__aggregate_key(es_snapshot_key *key, const es_aggregate_type *type);
/* The type's registry (NULL when it has none); ES_EINVAL if it fails to build. */
int es__aggregate_registry(const es_registry **out, const es_aggregate_type *type);
/* The type's interval, or 0 when it never snapshots. */
uint32_t es__snapshot_every(const es_aggregate_type *type);
int es__check_type(const es_aggregate_type *type);
/* Encodes a state through the type's callback. */
int es__state_encode(uint8_t **out, size_t *len, const es_aggregate_type *type, const void *state);
void es__state_clear(const es_aggregate_type *type, void *state);
/* Folds stream once in db and stages into batch a snapshot at each version
 * versions_from has one at (db itself when rebuilding, the source when
 * migrating); versions hidden by a delete are passed over. *staged counts
 * the snapshots staged (rebuild.c). */
int es__snapshots_restage(size_t *staged, es_batch *batch, es_db *db, es_db *versions_from,
                          const es_aggregate_type *type, const char *stream);

#endif
