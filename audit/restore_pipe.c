/*
 * restore_pipe.c - the second pass of a restore on two threads. Reading,
 * hashing and parsing a line costs several times what importing it does,
 * so a thread of its own verifies and parses the dump into chunks of
 * events while the calling thread hands each chunk to the importer (and
 * commits). A few chunks circulate between them; each carries its events'
 * strings and payloads in its own arena, reset when the chunk comes back.
 *
 * Errors keep their order: the parser's first error travels in the chunk
 * after the last good event, so everything before it is imported first, as
 * a single thread would; an import error stops the parser at its next line.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "es_alloc.h"
#include "restore_int.h"

#define CHUNK_EVENTS 2048
#define CHUNKS 32                    /* enough to parse ahead through most of pass 1 */
#define CHUNK_ARENA ((size_t)512 << 10)
#define ES__ESTOPPED (-1002) /* the importer gave up: the parser just stops */

typedef struct chunk {
	es_imported_event ev[CHUNK_EVENTS];
	uint64_t line[CHUNK_EVENTS];
	size_t n;
	es_arena arena;
	unsigned char *arena_buf;
	bool last;                /* the pass ended after these events, with rc */
	int rc;
	char msg[512];
	struct chunk *next;
} chunk;

struct es_audit__pipe {
	es_audit__restorer *r;
	FILE *in;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	chunk *all[CHUNKS];       /* made as needed, by the parser */
	size_t n_all;
	chunk *full, *full_tail, *spare;
	bool stop;
	int verdict;              /* the first pass's: 0 pending, 1 intact, -1 not */
	chunk *cur;               /* the parser's */
	uint64_t next_position;
	size_t next_state;        /* stream-state records are checked in order */
	bool ended;               /* the parser ended with no chunk for its error: */
	int end_rc;
	char end_msg[512];
};

typedef es_audit__pipe pipe_ctx;

/* ---- the queue ---- */

static void put_full(pipe_ctx *p, chunk *c)
{
	pthread_mutex_lock(&p->lock);
	c->next = NULL;
	if (p->full_tail)
		p->full_tail->next = c;
	else
		p->full = c;
	p->full_tail = c;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* A new chunk, while fewer than CHUNKS exist: a small dump needs few. Only
 * the parser's thread makes them; NULL when out of memory. */
static chunk *chunk_new(pipe_ctx *p)
{
	chunk *c = es_calloc(1, sizeof *c);
	if (c && !(c->arena_buf = es_malloc(CHUNK_ARENA))) {
		es_free(c);
		c = NULL;
	}
	if (c) {
		es_arena_init(&c->arena, c->arena_buf, CHUNK_ARENA);
		p->all[p->n_all++] = c;
	}
	return c;
}

/* A spare chunk for the parser: 0 with *out; ES__ESTOPPED once the
 * importer has stopped (seen under the lock: the importer sets it from its
 * thread); ES_ENOMEM when out of memory with no chunk to wait for. */
static int take_spare(chunk **out, pipe_ctx *p)
{
	pthread_mutex_lock(&p->lock);
	bool make = !p->spare && !p->stop && p->n_all < CHUNKS;
	pthread_mutex_unlock(&p->lock);
	chunk *c = make ? chunk_new(p) : NULL;
	if (!c && make && p->n_all == 0)
		return es_error_set(ES_ENOMEM, "restoring: out of memory");
	if (!c) {
		pthread_mutex_lock(&p->lock);
		while (!p->spare && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if ((c = p->stop ? NULL : p->spare))
			p->spare = c->next;
		pthread_mutex_unlock(&p->lock);
	}
	*out = c;
	return c ? 0 : ES__ESTOPPED;
}

/* The next chunk for the importer; NULL when the parser ended without one
 * to carry its error (p->end_rc). */
static chunk *take_full(pipe_ctx *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->full && !p->ended)
		pthread_cond_wait(&p->cond, &p->lock);
	chunk *c = p->full;
	if (c && !(p->full = c->next))
		p->full_tail = NULL;
	pthread_mutex_unlock(&p->lock);
	return c;
}

static void give_back(pipe_ctx *p, chunk *c, bool stop)
{
	c->n = 0;
	es_arena_reset(&c->arena);
	pthread_mutex_lock(&p->lock);
	c->next = p->spare;
	p->spare = c;
	p->stop |= stop;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the parser's thread ---- */

/* Whether the first pass found the file intact (waits for its verdict). */
static bool verified(pipe_ctx *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->verdict && !p->stop)
		pthread_cond_wait(&p->cond, &p->lock);
	bool ok = p->verdict > 0 && !p->stop;
	pthread_mutex_unlock(&p->lock);
	return ok;
}

static int check_state_record(pipe_ctx *p, const char *rec, size_t len, uint64_t line)
{
	es_audit__state s;
	const es_audit__state *want = p->next_state < p->r->n_states ? &p->r->states[p->next_state++] : NULL;
	int rc = es_audit__state_parse(&s, rec, len);
	bool same = rc == 0 && want && strcmp(s.name, want->name) == 0 && s.state == want->state &&
	            s.head == want->head && s.first == want->first;
	if (rc == 0)
		es_free(s.name);
	if (rc == ES_ENOMEM)
		return es_error_set(rc, "line %llu: out of memory", (unsigned long long)line);
	return same ? 0 : es_error_set(ES_ECORRUPT, "line %llu: stream-state record changed since "
	                               "verification", (unsigned long long)line);
}

static int on_pass2(const char *rec, size_t len, es_audit__kind kind, uint64_t line, void *user_data)
{
	pipe_ctx *p = user_data;
	if (kind == ES_AUDIT_REC_STREAM)
		return verified(p) ? check_state_record(p, rec, len, line) : ES__ESTOPPED;
	if (kind != ES_AUDIT_REC_EVENT)
		return 0;
	int rc = p->cur ? 0 : take_spare(&p->cur, p);
	if (rc)
		return rc;
	chunk *c = p->cur;
	const es_restore_options *o = p->r->o;
	rc = es_audit__parse_event(&c->ev[c->n], rec, len, line, o->descriptor, o->descriptor_user_data,
	                           &c->arena);
	if (rc)
		return rc;
	if (c->ev[c->n].position != p->next_position)
		return es_error_set(ES_ECORRUPT, "line %llu: positions are not contiguous from 1 as in a "
		                    "complete dump", (unsigned long long)line);
	p->next_position++;
	c->line[c->n++] = line;
	if (c->n == CHUNK_EVENTS) {
		put_full(p, c);
		p->cur = NULL;
	}
	return 0;
}

static void *parser(void *user_data)
{
	pipe_ctx *p = user_data;
	es_verify_result again;
	int rc = es_audit__verify(&again, p->in, on_pass2, p);
	if (rc == 0 && !verified(p))
		rc = ES__ESTOPPED;
	if (rc == 0 && strcmp(again.final_hash, p->r->st.verify.final_hash) != 0)
		rc = es_error_set(ES_ECORRUPT, "the dump changed while it was restored (its final hash is "
		                  "now %s)", again.final_hash);
	if (rc == ES__ESTOPPED)
		return NULL;
	char msg[sizeof p->end_msg];
	snprintf(msg, sizeof msg, "%s", rc ? es_error_last()->message : "");
	if (!p->cur && take_spare(&p->cur, p)) { /* no chunk to carry the end: stopped, or out of memory */
		pthread_mutex_lock(&p->lock);
		p->ended = true;
		p->end_rc = rc ? rc : ES_ENOMEM;
		snprintf(p->end_msg, sizeof p->end_msg, "%s", rc ? msg : "restoring: out of memory");
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	p->cur->last = true;
	p->cur->rc = rc;
	snprintf(p->cur->msg, sizeof p->cur->msg, "%s", msg);
	put_full(p, p->cur);
	return NULL;
}

/* ---- the importing thread ---- */

static int import_chunk(es_importer *imp, const chunk *c)
{
	for (size_t i = 0; i < c->n; i++) {
		int rc = es_import_event(imp, &c->ev[i]);
		if (rc) {
			char msg[480];
			snprintf(msg, sizeof msg, "%s", es_error_last()->message);
			return es_error_set(rc, "line %llu: %s", (unsigned long long)c->line[i], msg);
		}
	}
	if (c->last && c->rc)
		return es_error_set(c->rc, "%s", c->msg);
	return 0;
}

int es_audit__pipe_import(es_audit__pipe *p)
{
	for (;;) {
		chunk *c = take_full(p);
		if (!c)
			return es_error_set(p->end_rc, "%s", p->end_msg);
		int rc = import_chunk(p->r->imp, c);
		bool last = c->last;
		give_back(p, c, rc != 0);
		if (rc || last)
			return rc;
	}
}

void es_audit__pipe_verified(es_audit__pipe *p, bool intact)
{
	pthread_mutex_lock(&p->lock);
	p->verdict = intact ? 1 : -1;
	p->stop |= !intact;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void pipe_free(es_audit__pipe *p)
{
	for (size_t i = 0; i < p->n_all; i++) {
		es_arena_release(&p->all[i]->arena);
		es_free(p->all[i]->arena_buf);
		es_free(p->all[i]);
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	es_free(p);
}

int es_audit__pipe_start(es_audit__pipe **out, es_audit__restorer *r, FILE *in)
{
	es_audit__pipe *p = es_calloc(1, sizeof *p);
	if (!p)
		return es_error_set(ES_ENOMEM, "restoring: out of memory");
	p->r = r;
	p->in = in;
	p->next_position = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	int rc = 0;
	if (pthread_create(&p->thread, NULL, parser, p) != 0)
		rc = es_error_set(ES_ENOMEM, "restoring: cannot start the parsing thread");
	if (rc) {
		pipe_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void es_audit__pipe_end(es_audit__pipe *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true; /* a parser still running stops at its next line */
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pipe_free(p);
}
