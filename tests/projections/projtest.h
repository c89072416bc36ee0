/* projtest.h - a counting projection and a store for the projections suite. */
#ifndef ES_PROJTEST_H
#define ES_PROJTEST_H

#include "testutil.h"
/* The TCases, one per test file (generated from the file names). */
#include "projections_tcases.h"

extern es_db *pt_db;
extern const char *pt_path;
void pt_setup(void);
void pt_teardown(void);

/* Appends n events to stream, each with payload "p" (or "bad"). */
void pt_append(es_db *db, const char *stream, size_t n, const char *payload);

/* The counting projection: per stream, how many of its events it saw
 * (key = stream name, value LE64); fails on a payload "bad" unless
 * allow_bad is set. */
typedef struct pt_counter {
	int allow_bad;
	uint64_t calls;
} pt_counter;
int pt_count_handler(es_projection_ctx *ctx, const es_event *ev, void *user_data);
es_projection_options pt_options(pt_counter *c, const char *name);
/* The count the projection holds for stream (0 if none), in a read of its
 * own or in rd. */
uint64_t pt_count(es_db *db, const char *name, const char *stream);
uint64_t pt_count_in(es_read *rd, const char *name, const char *stream);

#endif
