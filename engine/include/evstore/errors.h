/*
 * evstore/errors.h - error codes and the thread-local last error.
 *
 * Every evstore function that can fail returns an int: 0 on success or one
 * of the negative ES_E* codes below. LMDB and errno codes never leak out;
 * they are translated. After a failure, es_error_last() holds a message that
 * names the stream, version or id involved.
 */
#ifndef EVSTORE_ERRORS_H
#define EVSTORE_ERRORS_H

#include <stddef.h>

/* Marks the public API: the only symbols the shared libraries export (they
 * are built with -fvisibility=hidden). */
#ifndef ES_EXTERN
#if defined(__GNUC__) || defined(__clang__)
#define ES_EXTERN __attribute__((visibility("default")))
#else
#define ES_EXTERN
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
	ES_OK = 0,
	ES_EINVAL = -1,      /* bad argument: NULL, empty/over-long name, duplicate id in a request */
	ES_ENOMEM = -2,      /* out of memory */
	ES_ECONFLICT = -3,   /* expected version did not match the stream's head */
	ES_EDUPLICATE = -4,  /* an event id is already stored elsewhere */
	ES_EDELETED = -5,    /* the stream is tombstoned */
	ES_ENOTFOUND = -6,   /* no such stream, event, snapshot or record */
	ES_ECORRUPT = -7,    /* a stored record is malformed or fails its checksum */
	ES_EIO = -8,         /* the operating system reported an I/O error */
	ES_EFORMAT = -9,     /* not an evstore store, or made by a newer format version */
	ES_EREADONLY = -10,  /* write attempted on a store opened read-only */
	ES_ETOOBIG = -11,    /* event larger than the store's max_event_size */
	ES_ENOSPC = -12,     /* the disk is full */
	ES_EACCES = -13,     /* permission denied on the store's files */
	ES_EBUSY = -14,      /* too many readers, or the store is in use in a way that prevents this */
	ES_ESCHEMA = -15,    /* an event's schema version is unknown to the upcaster registry */
	ES_EREJECTED = -16,  /* a domain command was refused (see the message) */
	ES_ERANGE = -17,     /* a number is out of range (overflow) */
	ES_ETIMEDOUT = -18,  /* nothing arrived before the timeout; not a failure */
	ES_ITEROVER = -30    /* an iterator has no more items; not an error */
};

/** The last error recorded on this thread. */
typedef struct es_error {
	int code;            /**< one of ES_E*, or ES_OK if nothing failed yet */
	const char *message; /**< human-readable text naming what was wrong */
} es_error;

/**
 * Short fixed text for an error code ("version conflict", ...).
 * Returns a static string; never NULL (unknown codes give "unknown error").
 */
ES_EXTERN const char *es_strerror(int code);

/**
 * The last error recorded on the calling thread.
 * The pointer and its message stay valid until the next evstore call on this
 * thread that fails or calls es_error_clear(). Never NULL.
 */
ES_EXTERN const es_error *es_error_last(void);

/**
 * Record an error on this thread and return code: for callbacks (a domain's
 * decide function refusing a command) to say why. printf-style.
 */
ES_EXTERN int es_error_set(int code, const char *fmt, ...)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 3)))
#endif
	;

/** Reset this thread's last error to ES_OK with an empty message. */
ES_EXTERN void es_error_clear(void);

/* ---- Memory allocation ------------------------------------------------ */

/**
 * Where evstore gets its memory: malloc/realloc/free-like functions, each
 * given `user_data` last. For embedding in a program with its own allocator,
 * and for fault injection (tests fail the Nth allocation and check that every
 * call fails cleanly with ES_ENOMEM). realloc_fn is called with ptr NULL to
 * allocate and never with size 0; free_fn is never called with NULL.
 */
typedef struct es_allocator {
	void *(*malloc_fn)(size_t size, void *user_data);
	void *(*realloc_fn)(void *ptr, size_t size, void *user_data);
	void (*free_fn)(void *ptr, void *user_data);
	void *user_data;
} es_allocator;

/**
 * Route evstore's own allocations through a (copied; process-wide), or back
 * to libc's malloc/realloc/free when a is NULL or lacks any of its three
 * functions.
 *
 * Set it before opening any store, while no other thread is in evstore, and
 * change it only when nothing evstore allocated is alive (stores, reads,
 * iterators, batches, registries): memory is always freed through the
 * allocator in force, so it must be the one that allocated it. The bank's
 * upcaster registry (es_bank_registry) is built on first use and kept for the
 * process; it is never freed, so it does not mind.
 *
 * Not covered: LMDB's, protobuf-c's, OpenSSL's and jansson's internal
 * allocations (environments, transactions, cursors, unpacked messages,
 * digest contexts, parsed JSON), getline's line buffer in es_dump_verify
 * and es_restore, and memory that crosses
 * the API by a malloc/free contract (the array es_snapshot_list returns,
 * which the caller free()s, and the buffer an aggregate's snapshot_encode
 * returns, which evstore free()s): those stay with libc.
 */
ES_EXTERN void es_set_allocator(const es_allocator *a);

/**
 * Allocate through the allocator in force. evstore's own libraries (the bank,
 * audit) use these so that the hook sees their memory too; a library built
 * on evstore may do the same. Memory from these is freed with es_free, never
 * with free(), and vice versa.
 *
 * es_malloc and es_realloc take size 0 as 1, so NULL always means out of
 * memory; es_calloc zeroes and returns NULL when count * size overflows;
 * es_free(NULL) does nothing.
 */
ES_EXTERN void *es_malloc(size_t size);
ES_EXTERN void *es_calloc(size_t count, size_t size);
ES_EXTERN void *es_realloc(void *ptr, size_t size);
ES_EXTERN void es_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
