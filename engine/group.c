/*
 * group.c - group commit. A durable commit costs one fsync, so callers that
 * each wait for their own cap the store at about one commit per fsync
 * whatever the thread count. Here concurrent batch commits queue up; one
 * thread (the leader) commits every waiting request in one LMDB transaction
 * and one fsync, each request in its own nested transaction so that a
 * conflict fails only that request. Every caller returns once the
 * transaction holding its request is durable.
 *
 * A lone caller finds no leader, leads a group of one and commits exactly as
 * it would without grouping. When a leader finishes, it hands the lead to the
 * oldest waiting request, so no caller serves others indefinitely.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

#define GROUP_MAX 256 /* requests per transaction */

typedef struct gc_request {
	es_batch *batch;
	int rc;
	char message[512];
	int done, lead;
	pthread_cond_t cond;
	struct gc_request *next;
} gc_request;

static void request_fail(gc_request *r, int rc)
{
	r->rc = rc;
	snprintf(r->message, sizeof r->message, "%s", es_error_last()->message);
}

/* One request in a nested transaction of the group's transaction. */
static int apply_nested(es_db *db, MDB_txn *parent, gc_request *r)
{
	MDB_txn *child;
	int rc = mdb_txn_begin(db->env, parent, 0, &child);
	if (rc)
		return es__lmdb(rc, "beginning a nested transaction");
	rc = es__batch_apply(db, child, r->batch);
	if (rc) {
		mdb_txn_abort(child);
		if (rc != ES__EMAPFULL)
			request_fail(r, rc);
		return rc == ES__EMAPFULL ? rc : 0;
	}
	rc = mdb_txn_commit(child);
	r->rc = 0;
	return rc ? es__lmdb(rc, "committing a nested transaction") : 0;
}

static int apply_group(es_db *db, MDB_txn *txn, void *payload)
{
	for (gc_request *r = payload; r; r = r->next) {
		int rc = apply_nested(db, txn, r);
		if (rc) /* map full, or the parent is unusable: retry or fail all */
			return rc;
	}
	return 0;
}

static int apply_single(es_db *db, MDB_txn *txn, void *payload)
{
	return es__batch_apply(db, txn, ((gc_request *)payload)->batch);
}

static void run_group(es_db *db, gc_request *group)
{
	if (!group->next) { /* alone: no nested transaction */
		int rc = es__write(db, apply_single, group);
		if (rc)
			request_fail(group, rc);
		else
			group->rc = 0;
		return;
	}
	int rc = es__write(db, apply_group, group);
	for (gc_request *r = group; rc && r; r = r->next)
		if (r->rc == 0)
			request_fail(r, rc); /* the group's commit failed: nobody's request is durable */
}

/* Detaches up to GROUP_MAX requests from the head of the queue. */
static gc_request *take_group(es_db *db)
{
	gc_request *first = db->group.head, *last = first;
	for (int n = 1; n < GROUP_MAX && last->next; n++)
		last = last->next;
	db->group.head = last->next;
	if (!db->group.head)
		db->group.tail = NULL;
	last->next = NULL;
	return first;
}

static void lead(es_db *db)
{
	gc_request *group = take_group(db);
	pthread_mutex_unlock(&db->group.lock);
	run_group(db, group);
	pthread_mutex_lock(&db->group.lock);
	for (gc_request *r = group, *next; r; r = next) {
		next = r->next;
		r->done = 1;
		pthread_cond_signal(&r->cond);
	}
	if (db->group.head) {
		db->group.head->lead = 1;
		pthread_cond_signal(&db->group.head->cond);
	} else {
		db->group.leader = 0;
	}
}

int es__group_commit(es_db *db, es_batch *batch)
{
	gc_request req = { .batch = batch, .rc = ES_EIO };
	pthread_cond_init(&req.cond, NULL);
	pthread_mutex_lock(&db->group.lock);
	if (db->group.tail)
		db->group.tail->next = &req;
	else
		db->group.head = &req;
	db->group.tail = &req;
	if (!db->group.leader)
		db->group.leader = req.lead = 1;
	while (!req.done && !req.lead)
		pthread_cond_wait(&req.cond, &db->group.lock);
	if (!req.done)
		lead(db);
	pthread_mutex_unlock(&db->group.lock);
	pthread_cond_destroy(&req.cond);
	if (req.rc) /* the message was written on the leader's thread */
		es__error_set(req.rc, "%s", req.message);
	return req.rc;
}
