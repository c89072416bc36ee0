/*
 * world.h - the fault suite's store: a template built once, copied afresh
 * for every attempt, and a capture of everything observable in a store, so
 * an attempt that failed can be shown to have changed nothing.
 */
#ifndef ES_FAULT_WORLD_H
#define ES_FAULT_WORLD_H

#include <stdint.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

/* Accounts of the template: "a" (250 events, snapshots at 99 and 199), "b"
 * (6), "c" (99: one more deposit crosses a snapshot boundary) and "old"
 * (release 1 events, read through the upcasters). */
#define FW_ACCOUNTS 4
extern const char *const fw_accounts[FW_ACCOUNTS];
/* A raw stream with metadata (and a snapshot at version 1 under
 * FW_SNAPSHOT_KEY); a soft-deleted and a tombstoned stream; and a stream of
 * two events with caller-given ids (every byte FW_REPLAY_ID0, FW_REPLAY_ID1). */
#define FW_PLAIN "s-plain"
#define FW_SNAPSHOT_KEY { 7, 9 }
#define FW_REPLAY "s-replay"
#define FW_REPLAY_ID0 0x11
#define FW_REPLAY_ID1 0x22

/* The template's settable clock: each call is 1 ms after the last. */
int64_t fw_clock(void *user_data);
/* Sets the clock back to where the template's started, so runs of one
 * scenario write the same times. */
void fw_clock_reset(void);

/* Builds the template store in dir. Runs in a child process, so the
 * parent's bank registry stays unbuilt (its build is a path under test). */
void fw_build(const char *dir);
/* Copies the template's data file from dir `from` into a fresh dir `to`. */
void fw_copy(const char *from, const char *to);
/* Opens dir with the template's clock; asserts success. */
es_db *fw_open(const char *dir);

#define FW_MAX_STREAMS 16
#define FW_MAX_SNAPS 8

/* Everything a caller can observe of the template. */
typedef struct fw_state {
	uint64_t log_head;
	size_t n_streams;
	struct {
		char name[ES_STREAM_NAME_MAX + 1];
		es_stream_info info;
		size_t n_snaps;
		int64_t snaps[FW_MAX_SNAPS];
	} streams[FW_MAX_STREAMS];
	struct {
		int rc;
		es_bank_account state;
		int64_t version;
	} accounts[FW_ACCOUNTS];
} fw_state;

/* Captures db's state and asserts es_check finds no problem. */
void fw_capture(fw_state *s, es_db *db);
/* Asserts two captures are equal; what names the attempt in messages. */
void fw_assert_same(const fw_state *a, const fw_state *b, const char *what);

#endif
