/*
 * group.c - group commit. A durable commit costs an fsync (of its journal
 * record), so callers that each wait for their own cap the store at about
 * one commit per fsync
 * whatever the thread count. Here concurrent batch commits queue up; one
 * thread (the leader) commits every waiting request in one LMDB transaction,
 * and each caller returns once the transaction holding its request is
 * durable. Each request keeps its own atomicity and version checks: a request
 * that fails fails alone.
 *
 * The leader first applies the requests one after another in the group's
 * transaction; almost always they all succeed. If one fails, its partial
 * writes are in that transaction, so the leader aborts it and redoes the
 * group with each request in a nested transaction, where a failure rolls
 * back only its own request.
 *
 * A lone caller finds no leader and commits a group of one. The leader hands
 * the lead to the oldest waiting request as soon as its transaction is
 * committed (its journal record is synced before LMDB commits, and readers
 * see the group only once it is durable), so no caller serves others
 * indefinitely.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"

#define GROUP_MAX 256 /* requests per transaction */
#define ES__ENESTED (-1001) /* a request failed in the flat pass */

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

/* Every request straight in the group's transaction. */
static int apply_flat(es_db *db, MDB_txn *txn, void *user_data)
{
	for (gc_request *r = user_data; r; r = r->next) {
		int rc = es__batch_apply(db, txn, r->batch);
		if (rc)
			return rc == ES__EMAPFULL || (r == user_data && !r->next) ? rc : ES__ENESTED;
		r->rc = 0;
	}
	return 0;
}

/* One request in a nested transaction of the group's transaction. */
static int apply_nested(es_db *db, MDB_txn *parent, gc_request *r)
{
	MDB_txn *child;
	size_t mark = es__jops_mark(db);
	int rc = mdb_txn_begin(db->env, parent, 0, &child);
	if (rc)
		return es__lmdb(rc, "beginning a nested transaction");
	rc = es__batch_apply(db, child, r->batch);
	if (rc) {
		mdb_txn_abort(child);
		es__jops_rollback(db, mark); /* its changes are not the group's */
		if (rc != ES__EMAPFULL)
			request_fail(r, rc);
		return rc == ES__EMAPFULL ? rc : 0;
	}
	rc = mdb_txn_commit(child);
	r->rc = 0;
	return rc ? es__lmdb(rc, "committing a nested transaction") : 0;
}

static int apply_all_nested(es_db *db, MDB_txn *txn, void *user_data)
{
	for (gc_request *r = user_data; r; r = r->next) {
		r->rc = ES_EIO;
		int rc = apply_nested(db, txn, r);
		if (rc) /* map full, or the parent is unusable: retry or fail all */
			return rc;
	}
	return 0;
}

/* Commits the group, durably. 0: some requests are committed; each
 * request's rc says whether it is. */
static int commit_group(es_db *db, gc_request *group)
{
	int rc = es__write(db, apply_flat, group);
	if (rc == ES__ENESTED)
		rc = es__write(db, apply_all_nested, group);
	else if (rc && !group->next)
		request_fail(group, rc); /* a lone request failed on its own */
	for (gc_request *r = group; rc && r; r = r->next)
		if (r->rc == 0 || r->rc == ES_EIO)
			request_fail(r, rc); /* the group's commit failed: nobody's request is durable */
	return rc;
}

/* Detaches up to GROUP_MAX requests from the head of the queue; *n is set
 * to their number. */
static gc_request *take_group(es_db *db, int *n)
{
	gc_request *first = db->group.head, *last = first;
	for (*n = 1; *n < GROUP_MAX && last->next; ++*n)
		last = last->next;
	db->group.head = last->next;
	db->group.waiting -= *n;
	if (!db->group.head)
		db->group.tail = NULL;
	last->next = NULL;
	return first;
}

static void pass_lead(es_db *db)
{
	if (db->group.head) {
		db->group.head->lead = 1;
		pthread_cond_signal(&db->group.head->cond);
	} else {
		db->group.leader = 0;
	}
}

static void lead(es_db *db)
{
	int n;
	gc_request *group = take_group(db, &n);
	pthread_mutex_unlock(&db->group.lock);
	int rc = commit_group(db, group);
	pthread_mutex_lock(&db->group.lock);
	if (rc == 0) {
		db->group.groups++;
		db->group.requests += (uint64_t)n;
	}
	pass_lead(db);
	for (gc_request *r = group, *next; r; r = next) {
		next = r->next;
		r->done = 1;
		pthread_cond_signal(&r->cond);
	}
}

int es__group_commit(es_db *db, es_batch *batch)
{
	int rc = es__write_reentry_check(db); /* else it would wait for itself as the leader */
	if (rc)
		return rc;
	gc_request req = { .batch = batch, .rc = ES_EIO };
	pthread_cond_init(&req.cond, NULL);
	pthread_mutex_lock(&db->group.lock);
	if (db->group.tail)
		db->group.tail->next = &req;
	else
		db->group.head = &req;
	db->group.tail = &req;
	db->group.waiting++;
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

void es__group_stats(es_db *db, uint64_t *groups, uint64_t *requests, int *waiting)
{
	pthread_mutex_lock(&db->group.lock);
	*groups = db->group.groups;
	*requests = db->group.requests;
	*waiting = db->group.waiting;
	pthread_mutex_unlock(&db->group.lock);
}
