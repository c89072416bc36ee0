/*
 * evstore/upcaster.h - schema evolution: arenas, upcaster steps, and the
 * registry that chains them.
 *
 * Stored events never change. When an event's schema changes, a step turns
 * (type, version v) into (type', v + 1) as the event is read; a registry
 * holds the steps and each type's current version, and upgrades an old
 * event through as many steps as it needs. The registry is validated once,
 * before the first read: every chain must end exactly at its type's current
 * version.
 */
#ifndef EVSTORE_UPCASTER_H
#define EVSTORE_UPCASTER_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Arenas ------------------------------------------------------------ */

/**
 * A bump allocator over a caller's buffer (often on the stack), spilling to
 * malloc'd blocks when full. Everything it hands out lives until
 * es_arena_reset() or es_arena_release(). Not thread-safe. The fields are
 * private; the struct is public only so an arena can live on the stack.
 */
typedef struct es_arena {
	unsigned char *buf;
	size_t size, used;
	void *spill;     /* malloc'd blocks, linked */
} es_arena;

/** Start an arena over buf[size] (buf may be NULL with size 0: all spills). */
ES_EXTERN void es_arena_init(es_arena *a, void *buf, size_t size);
/** size bytes, 16-byte aligned; NULL when out of memory. */
ES_EXTERN void *es_arena_alloc(es_arena *a, size_t size);
/** Forget every allocation (spilled blocks are freed); the arena stays usable. */
ES_EXTERN void es_arena_reset(es_arena *a);
/** Free spilled blocks; the arena must be re-initialised before reuse. */
ES_EXTERN void es_arena_release(es_arena *a);

/* ---- Steps ------------------------------------------------------------- */

/** An event as a step sees it. */
typedef struct es_upcast_event {
	const char *type;
	uint32_t schema_version;
	const void *payload;
	size_t payload_len;
	const void *metadata;  /**< as in es_event; read with es_event_metadata_next */
	size_t metadata_len;
} es_upcast_event;

/**
 * One step: write the new payload into *payload / *payload_len, allocated
 * from arena (or pointing into the input, if unchanged).
 * @return 0, or a negative ES_E* code with a message (es_error_set) naming
 *   what in the old event could not be converted.
 */
typedef int (*es_upcast_fn)(const void **payload, size_t *payload_len, const es_upcast_event *in,
                            es_arena *arena, void *user_data);

/** A step from (type, from_version) to (to_type, from_version + 1). */
typedef struct es_upcaster {
	const char *type;          /**< the old event type */
	uint32_t from_version;     /**< the old schema version (>= 1) */
	const char *to_type;       /**< the new type name; NULL = unchanged */
	const char *name;          /**< the step's name, e.g. "deposit-double-to-minor" */
	uint32_t revision;         /**< bump when the step's behaviour changes */
	es_upcast_fn fn;
	void *user_data;           /**< passed to fn */
} es_upcaster;

/* ---- The registry ------------------------------------------------------ */

/** Steps plus each type's current version. Opaque. */
typedef struct es_registry es_registry;

/** @return 0, ES_EINVAL, ES_ENOMEM. */
ES_EXTERN int es_registry_new(es_registry **out);
/** NULL is a no-op. */
ES_EXTERN void es_registry_free(es_registry *reg);

/**
 * Add a step. Strings are copied. Refused once the registry is validated.
 * @return 0, ES_EINVAL (missing field, from_version 0, or validated),
 *   ES_ENOMEM.
 */
ES_EXTERN int es_registry_add(es_registry *reg, const es_upcaster *step);

/**
 * Declare the current (newest) schema version of a type.
 * @return 0, ES_EINVAL (already declared, version 0, or validated), ES_ENOMEM.
 */
ES_EXTERN int es_registry_set_current(es_registry *reg, const char *type, uint32_t version);

/**
 * Validate, then freeze, the registry. Errors name the types and versions:
 *   two steps for the same (type, version);
 *   a rename cycle (A renamed to B and, in a later step, back to A);
 *   a chain that stops short of its type's current version (a gap), runs past
 *   it, or ends at a type with no current version.
 * @return 0 or ES_EINVAL.
 */
ES_EXTERN int es_registry_validate(es_registry *reg);

/**
 * A stable 64-bit hash over the steps (types, versions, renames, names,
 * revisions) and current versions, independent of the order they were
 * added. Snapshots record it: change the chain and old snapshots are rebuilt.
 * 0 for NULL.
 */
ES_EXTERN uint64_t es_registry_fingerprint(const es_registry *reg);

/**
 * Bring an event to its type's current version, in place: ev->type,
 * ev->schema_version and ev->payload are replaced (the new type string lives
 * as long as the registry; the payload in arena). Types the registry does not
 * know pass unchanged.
 * @return 0; ES_ESCHEMA when the event's version is newer than the
 *   registry's current one, or no step exists from it (the message names
 *   stream, version, type and schema version); ES_EINVAL when the registry
 *   is not validated; a step's error, its message prefixed with the stream
 *   and version.
 */
ES_EXTERN int es_registry_upcast(es_event *ev, const es_registry *reg, es_arena *arena);

/** Current version of a type, or 0 if the registry does not know it. */
ES_EXTERN uint32_t es_registry_current(const es_registry *reg, const char *type);

#ifdef __cplusplus
}
#endif
#endif
