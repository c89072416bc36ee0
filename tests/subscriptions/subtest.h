/* subtest.h - helpers shared by the subscriptions suite's test files. */
#ifndef ES_SUBTEST_H
#define ES_SUBTEST_H

#include "testutil.h"
/* The TCases, one per test file (generated from the file names). */
#include "subscriptions_tcases.h"

/* The fixture: a fresh nosync store (st_db) in st_path. */
extern es_db *st_db;
extern const char *st_path;
void st_setup(void);
void st_teardown(void);

/* Appends n events of type `type` to stream (ES_ANY), one commit. */
void st_append(es_db *db, const char *stream, const char *type, size_t n);
/* Next item, asserting success, with a timeout of 10 s. */
es_subscription_item st_next(es_subscription *sub);
/* Asserts the next item is the event at position, of stream and type. */
void st_expect_event(es_subscription *sub, uint64_t position, const char *stream, const char *type);
/* Asserts the next item is a signal of kind at position. */
void st_expect_signal(es_subscription *sub, es_subscription_item_kind kind, uint64_t position);

#endif
