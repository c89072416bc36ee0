/*
 * counter.h - a toy aggregate for the aggregate and snapshot tests: a
 * counter whose "Added" events carry an int64 (little-endian) payload. Its
 * state sums them, counts them and mixes them in order, so a fold that skips,
 * repeats or reorders an event gives a different state.
 */
#ifndef ES_TEST_COUNTER_H
#define ES_TEST_COUNTER_H

#include <stdint.h>

#include <evstore/evstore.h>

#define COUNTER_ADDED "Added"
#define COUNTER_PREFIX "counter-"

typedef struct counter {
	int64_t sum;
	int64_t count;
	uint64_t mix;
} counter;

/* A counter type snapshotting every `every` events (UINT32_MAX: never),
 * under state schema version `schema`. */
es_aggregate_type counter_type(uint32_t every, uint32_t schema);

/* Appends one "Added" event per amount straight to the stream (no command,
 * so no snapshot), asserting success. */
void counter_append_raw(es_db *db, const char *stream, const int64_t *amounts, size_t n);

/* Adds the amounts in one command over `type` (snapshots per its policy),
 * asserting success. */
void counter_add(es_db *db, const es_aggregate_type *type, const char *stream,
                 const int64_t *amounts, size_t n);

/* The naive fold: walks the whole stream with es_stream_iter and applies,
 * through es_aggregate_apply on a fresh state, every event with
 * recorded_at <= t and version <= max_version. Returns the number applied. */
size_t counter_naive(counter *out, es_read *rd, const es_aggregate_type *type, const char *stream,
                     int64_t t, int64_t max_version);

/* The fixture every aggregate test uses: a fresh store on a settable clock
 * (ct_now, ns), closed and removed afterwards. */
extern es_db *ct_db;
extern int64_t ct_now;
#define CT_T0 ((int64_t)1700000000000000000)
void ct_setup(void);
void ct_teardown(void);

/* Asserts two counter states are equal, naming `what`. */
void counter_assert_eq(const counter *got, const counter *want, const char *what);

/* Asserts every snapshot of stream is usable under t's key, decodes, and
 * equals the naive fold at its version; returns how many there are. */
size_t counter_snapshots_match_fold(const es_aggregate_type *t, const char *stream);

/* The versions of a stream's snapshots, as "v1,v2,..." ("" if none). */
const char *counter_snapshots(es_db *db, const char *stream);

#endif
