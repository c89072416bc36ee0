/*
 * evstore/checkpoint.h - durable named checkpoints: how far a consumer of
 * the global log (a subscription, a projection, a relay) has got, kept in
 * the store itself (the checkpoints sub-database), so it survives the
 * consumer's crashes and the store's backups alike.
 *
 * A checkpoint holds a log position: the last event its consumer has dealt
 * with (0: none yet). A consumer resumes after it. A checkpoint never moves
 * backwards except through es_checkpoint_reset, so a consumer restarted
 * from an old copy of itself cannot undo another's progress by mistake.
 *
 * Saving after a side effect gives at-least-once delivery for side effects
 * outside the store: a crash between the two repeats the effect, never
 * skips it.
 */
#ifndef EVSTORE_CHECKPOINT_H
#define EVSTORE_CHECKPOINT_H

#include <stdint.h>

#include <evstore/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Longest checkpoint name, in bytes (without the NUL). */
#define ES_CHECKPOINT_NAME_MAX 255

/**
 * Save a checkpoint, creating it if new. Durable when the call returns.
 * @param db        the store, open for writing
 * @param name      1..ES_CHECKPOINT_NAME_MAX bytes
 * @param position  the last log position dealt with; at most the log head
 * @return 0, or
 *   ES_EINVAL    NULL db, bad name, or a position past the log head;
 *   ES_ECONFLICT the saved position is later than position (the message
 *                gives both; es_checkpoint_reset moves back on purpose);
 *   ES_EREADONLY, ES_EIO, ES_ENOSPC, ES_ENOMEM.
 */
ES_EXTERN int es_checkpoint_save(es_db *db, const char *name, uint64_t position);

/**
 * Set a checkpoint to position whatever it held (also backwards), creating
 * it if new: to replay part of the log into a consumer on purpose.
 * @return as es_checkpoint_save, without ES_ECONFLICT.
 */
ES_EXTERN int es_checkpoint_reset(es_db *db, const char *name, uint64_t position);

/**
 * The position a checkpoint holds, as of the read.
 * @return 0 and *out set, ES_ENOTFOUND (no such checkpoint), ES_EINVAL
 *   (NULL argument, bad name), ES_ECORRUPT (a damaged record).
 */
ES_EXTERN int es_checkpoint_get(uint64_t *out, es_read *rd, const char *name);

/**
 * Delete a checkpoint. Durable when the call returns.
 * @return 0, ES_ENOTFOUND, ES_EINVAL, ES_EREADONLY, ES_EIO, ES_ENOSPC.
 */
ES_EXTERN int es_checkpoint_delete(es_db *db, const char *name);

/** Called for each checkpoint, in name order; name is valid during the
 * call only. A non-zero return stops the listing with that value. */
typedef int (*es_checkpoint_fn)(const char *name, uint64_t position, void *user_data);

/**
 * Visit every checkpoint as of the read, in byte order of their names.
 * @return 0, a callback's non-zero value, ES_EINVAL (NULL rd or fn),
 *   ES_ECORRUPT, ES_ENOMEM.
 */
ES_EXTERN int es_checkpoint_list(es_read *rd, es_checkpoint_fn fn, void *user_data);

#ifdef __cplusplus
}
#endif

#endif
