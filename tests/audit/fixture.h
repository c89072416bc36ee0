/*
 * fixture.h - stores for the audit suite, its command-line test and the
 * engine suite's es_check tests: every bank event type at every schema
 * version (release 1 and 2 events written with the legacy protos, as old
 * programs did), the envelope's optional parts, payloads that cannot be
 * shown as JSON losslessly, deleted and recreated streams, and snapshots.
 * Plus damage done on purpose through the LMDB API, for es_check. No Check
 * assertions here: the command-line helper uses it too.
 */
#ifndef ES_AUDIT_FIXTURE_H
#define ES_AUDIT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>
#include <evstore/audit.h>

/* Counts of what es_audit_fixture writes. */
#define FIXTURE_EVENTS 30
#define FIXTURE_STREAM_STATES 4

/* Fills an empty store. 0, or an ES_E* code (es_error_last says why). */
int es_audit_fixture(es_db *db);

/* Appends n bank events (deposits over 100 accounts) in batches. */
int es_audit_fixture_big(es_db *db, uint64_t n);

/* Kinds of damage es_audit_damage does to a closed store. */
typedef enum fixture_damage {
	DAMAGE_FLIP_RECORD,      /* flip a byte of account-a version 1's record */
	DAMAGE_DELETE_LOG,       /* delete the log entry of position 3 */
	DAMAGE_DELETE_ID,        /* delete account-a version 2's id index entry */
	DAMAGE_DELETE_EVENT,     /* delete account-a version 2 (a version gap) */
	DAMAGE_HEAD_PAST,        /* raise account-a's head by 2 (versions missing at the end) */
	DAMAGE_SNAPSHOT_PAST,    /* a snapshot of account-a past its head */
	DAMAGE_SNAPSHOT_CHECKSUM,/* flip a byte in misc-1's snapshot state */
	DAMAGE_SWAP_LOG,         /* swap the log entries of positions 2 and 3 */
	DAMAGE_TIME_ORDER,       /* swap account-a versions 1 and 2's recorded_at (checksums redone) */
	DAMAGE_COUNT
} fixture_damage;

extern const char *const fixture_damage_names[DAMAGE_COUNT];

/* Damages the store in dir (closed) through the LMDB API. 0 or -1. */
int es_audit_damage(const char *dir, fixture_damage kind);


/* Makes dir an LMDB environment that is not an evstore store. 0 or -1. */
int es_audit_plain_lmdb(const char *dir);

#endif
