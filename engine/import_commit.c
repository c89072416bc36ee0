/*
 * import_commit.c - the importer's batches and the thread that commits
 * them. A durable commit of a large batch is LMDB's page work and then the
 * disk's sync, during which the importer would otherwise sit idle; instead
 * it checks and builds the next batch meanwhile. One batch is in flight at
 * most, and the next is handed over only once it is committed, so batches
 * commit in order and each one's first position is the one it was built for
 * (es__batch_import_at checks it in the transaction).
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "import_int.h"

int es__import_batch_init(es__import_batch *b, size_t max_events)
{
	memset(b, 0, sizeof *b);
	if (!(b->events = es_calloc(2 * max_events + 1, sizeof *b->events)))
		return es_error_set(ES_ENOMEM, "es_import_begin: out of memory");
	return es__import_ids_init(&b->ids, 2 * max_events + 1);
}

void es__import_batch_reset(es__import_batch *b, uint64_t first_position)
{
	b->n_events = b->n_ops = b->bytes_used = 0;
	b->deletes = b->tombstones = 0;
	b->first_position = b->end_position = first_position;
	es__import_ids_clear(&b->ids);
	es__import_bytes_reset(&b->bytes);
}

void es__import_batch_free(es__import_batch *b)
{
	es_free(b->ids.slots);
	es__import_bytes_free(&b->bytes);
	es_free(b->events);
	es_free(b->ops);
	memset(b, 0, sizeof *b);
}

static int build(es_batch *out, const es__import_batch *b)
{
	int rc = es__batch_import_at(out, b->first_position);
	for (size_t i = 0; rc == 0 && i < b->n_ops; i++) {
		const es__import_op *o = &b->ops[i];
		rc = o->kind == ES__IMPORT_APPEND
		         ? es_batch_append(out, o->stream->name, o->expected, &b->events[o->start], o->count)
		         : es__batch_delete(out, o->stream->name, o->expected, o->kind == ES__IMPORT_TOMBSTONE);
	}
	return rc;
}

static int commit(es_db *db, const es__import_batch *b)
{
	es_batch *batch;
	int rc = es_batch_new(&batch, db);
	if (rc == 0 && (rc = build(batch, b)) != 0)
		es_batch_free(batch);
	else if (rc == 0)
		rc = es_batch_commit(batch, NULL);
	if (rc) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s", es_error_last()->message);
		es_error_set(rc, "import: committing positions %llu..%llu: %s",
		             (unsigned long long)b->first_position, (unsigned long long)b->end_position - 1, msg);
	}
	return rc;
}

static void *committer(void *user_data)
{
	es__import_committer *c = user_data;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->job && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->job)
			break;
		es__import_batch *b = c->job;
		pthread_mutex_unlock(&c->lock);
		int rc = commit(c->db, b);
		pthread_mutex_lock(&c->lock);
		c->rc = rc;
		snprintf(c->msg, sizeof c->msg, "%s", rc ? es_error_last()->message : "");
		c->job = NULL;
		c->done = true;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int es__import_committer_start(es__import_committer *c, es_db *db)
{
	memset(c, 0, sizeof *c);
	c->db = db;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (pthread_create(&c->thread, NULL, committer, c) != 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		return es_error_set(ES_ENOMEM, "es_import_begin: cannot start the committing thread");
	}
	c->started = true;
	return 0;
}

void es__import_committer_put(es__import_committer *c, es__import_batch *b)
{
	pthread_mutex_lock(&c->lock);
	c->job = b;
	c->done = false;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int es__import_committer_wait(es__import_committer *c)
{
	if (!c->started)
		return 0;
	pthread_mutex_lock(&c->lock);
	while (c->job)
		pthread_cond_wait(&c->cond, &c->lock);
	int rc = c->done ? c->rc : 0;
	c->done = false;
	c->rc = 0;
	pthread_mutex_unlock(&c->lock);
	return rc ? es_error_set(rc, "%s", c->msg) : 0;
}

void es__import_committer_stop(es__import_committer *c)
{
	if (!c->started)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->job)
		pthread_cond_wait(&c->cond, &c->lock);
	c->quit = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	c->started = false;
}
