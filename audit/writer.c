/*
 * writer.c - seals dump records onto the hash chain and writes them, on a
 * thread of its own.
 *
 * Why a thread: a dump spends about as long hashing and writing its output
 * as reading and formatting the store (SHA-256 of ~500-byte records, then
 * the write). The chain is sequential, but formatting a record does not
 * depend on it: only the tail (the predecessor's hash, then the record's
 * own) does. So the caller formats record bodies into chunks and this
 * thread appends each tail, hashes and writes, while the caller formats the
 * next chunk. Memory is bounded by CHUNKS chunks of about CHUNK_BYTES.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "audit_int.h"

#define CHUNKS 4
#define CHUNK_BYTES (64 * 1024)

typedef struct chunk {
	es_audit__buf data;   /* record bodies, back to back */
	size_t *ends;         /* where each record ends in data */
	size_t n, cap;
} chunk;

struct es_audit__writer {
	FILE *out;
	es_dump_format format;
	es_audit__hasher hasher;
	uint8_t prev[ES_AUDIT_HASH_SIZE];
	es_audit__buf sealed;     /* written to out a chunk at a time */
	uint64_t bytes;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	chunk chunks[CHUNKS];
	size_t head, tail, queued; /* a ring: [head, head + queued) are full */
	bool running;              /* the thread was started */
	bool done, abort;
	int error;                 /* the thread's first error, and its message */
	char message[256];
};

/* ---- the sealing thread ---- */

static int write_sealed(es_audit__writer *w)
{
	errno = 0;
	if (w->sealed.len && fwrite(w->sealed.data, 1, w->sealed.len, w->out) != w->sealed.len) {
		int err = errno ? errno : EIO;
		snprintf(w->message, sizeof w->message, "writing the dump: %s",
		         err == EPIPE ? "the reader closed the pipe" : strerror(err));
		return err == ENOSPC || err == EDQUOT ? ES_ENOSPC : ES_EIO;
	}
	w->bytes += w->sealed.len;
	w->sealed.len = 0;
	return 0;
}

static int seal_chunk(es_audit__writer *w, chunk *c)
{
	size_t start = 0;
	for (size_t i = 0; i < c->n; i++) {
		size_t at = w->sealed.len;
		es_audit__buf_put(&w->sealed, c->data.data + start, c->ends[i] - start);
		es_audit__seal_from(&w->sealed, at, w->format, w->prev, &w->hasher);
		start = c->ends[i];
	}
	if (w->sealed.failed) {
		snprintf(w->message, sizeof w->message, "sealing dump records: out of memory");
		return ES_ENOMEM;
	}
	return w->sealed.len >= CHUNK_BYTES ? write_sealed(w) : 0;
}

static void *sealer(void *arg)
{
	es_audit__writer *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->queued && !w->done && !w->abort)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->abort || (!w->queued && w->done))
			break;
		chunk *c = &w->chunks[w->head];
		pthread_mutex_unlock(&w->lock);
		int rc = w->error ? 0 : seal_chunk(w, c);
		pthread_mutex_lock(&w->lock);
		c->data.len = c->n = 0;
		w->head = (w->head + 1) % CHUNKS;
		w->queued--;
		if (rc && !w->error)
			w->error = rc;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	if (!w->error && !w->abort) {
		int rc = write_sealed(w);
		if (rc)
			w->error = rc;
	}
	return NULL;
}

/* ---- the caller's side ---- */

/* The thread's error, made this thread's last error. */
static int thread_error(es_audit__writer *w)
{
	return es_error_set(w->error, "%s", w->message);
}

/* Hands the chunk being filled to the thread and takes an empty one. */
static int hand_over(es_audit__writer *w)
{
	pthread_mutex_lock(&w->lock);
	w->tail = (w->tail + 1) % CHUNKS;
	w->queued++;
	pthread_cond_broadcast(&w->cond);
	while (w->queued == CHUNKS && !w->error)
		pthread_cond_wait(&w->cond, &w->lock);
	int failed = w->error;
	pthread_mutex_unlock(&w->lock);
	return failed ? thread_error(w) : 0;
}

int es_audit__writer_put(es_audit__writer *w, const char *body, size_t len)
{
	chunk *c = &w->chunks[w->tail];
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		size_t *ends = es_realloc(c->ends, cap * sizeof *ends);
		if (!ends)
			return es_error_set(ES_ENOMEM, "queueing a dump record: out of memory");
		c->ends = ends;
		c->cap = cap;
	}
	es_audit__buf_put(&c->data, body, len);
	if (c->data.failed)
		return es_error_set(ES_ENOMEM, "queueing a dump record: out of memory");
	c->ends[c->n++] = c->data.len;
	return c->data.len >= CHUNK_BYTES ? hand_over(w) : 0;
}

int es_audit__writer_raw(es_audit__writer *w, const char *text, size_t len)
{
	/* Only before any record: nothing is queued yet, so writing here
	 * cannot race the thread's writes. */
	es_audit__buf_put(&w->sealed, text, len);
	es_audit__sha256(&w->hasher, w->prev, text, len - 1); /* without its newline */
	return w->sealed.failed ? es_error_set(ES_ENOMEM, "out of memory") : 0;
}

int es_audit__writer_start(es_audit__writer **out, FILE *f, es_dump_format format)
{
	es_audit__writer *w = es_calloc(1, sizeof *w);
	if (!w)
		return es_error_set(ES_ENOMEM, "starting a dump: out of memory");
	int rc = es_audit__hasher_init(&w->hasher);
	if (rc) {
		es_free(w);
		return rc;
	}
	w->out = f;
	w->format = format;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	*out = w;
	return 0;
}

int es_audit__writer_run(es_audit__writer *w)
{
	if (pthread_create(&w->thread, NULL, sealer, w) != 0)
		return es_error_set(ES_ENOMEM, "starting a dump: cannot start its writer thread");
	w->running = true;
	return 0;
}

int es_audit__writer_finish(es_audit__writer *w, bool abort, char final_hash[ES_HASH_HEX_SIZE],
                            uint64_t *bytes)
{
	int rc = 0;
	if (w->running) {
		if (!abort && w->chunks[w->tail].n)
			rc = hand_over(w);
		pthread_mutex_lock(&w->lock);
		w->done = true;
		w->abort = abort || rc;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		if (!rc && !abort && w->error)
			rc = thread_error(w);
	}
	if (final_hash)
		es_audit__hex(final_hash, w->prev);
	if (bytes)
		*bytes = w->bytes;
	for (int i = 0; i < CHUNKS; i++) {
		es_audit__buf_free(&w->chunks[i].data);
		es_free(w->chunks[i].ends);
	}
	es_audit__buf_free(&w->sealed);
	es_audit__hasher_free(&w->hasher);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	es_free(w);
	return rc;
}
