/* enginetest.h - fixtures and small helpers shared by the engine's test files. */
#ifndef ES_ENGINETEST_H
#define ES_ENGINETEST_H

#include <stdint.h>

#include "testutil.h"

/* The TCases, one per test file (generated from the file names). */
#include "engine_tcases.h"

/* The fixture's store, its directory and its settable clock (ns). */
extern es_db *et_db;
extern const char *et_path;
extern int64_t et_now;
/* Where et_now starts: an arbitrary fixed instant. */
#define ET_T0 ((int64_t)1700000000000000000)

/* Checked fixture: a fresh store in a fresh directory, on the settable clock. */
void et_setup(void);
void et_teardown(void);
/* Close et_db and open the same directory again (same clock). */
void et_reopen(void);
/* Open path with the settable clock and the given options' other fields. */
es_db *et_open_path(const char *path, es_open_options *o);

/* An event of type `type` whose payload is the NUL-terminated `payload`. */
es_event_data et_event(const char *type, const char *payload);
/* Fills ids[16] with a deterministic id made from n (never all zero). */
void et_id(uint8_t id[16], uint32_t n);
/* count events with payload "<prefix>-<i>" and ids et_id(id_base + i)
 * (id_base 0: generated ids). Free with et_events_free. */
es_event_data *et_events(size_t count, const char *prefix, uint32_t id_base);
void et_events_free(es_event_data *evs, size_t count);

/* Appends count events (generated ids) and asserts success. */
void et_append_ok(es_db *db, const char *stream, int64_t expected, size_t count);
/* Log head (0 if empty). */
uint64_t et_log_head(es_db *db);
/* Stream head from es_stream_info_get, or -2 if the stream is unknown. */
int64_t et_head(es_db *db, const char *stream);
/* Number of visible events of a stream (asserts the read succeeds). */
size_t et_count(es_db *db, const char *stream);
/* Asserts the last error message contains text. */
void et_assert_msg_has(const char *text);

#endif
