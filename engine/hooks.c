/*
 * hooks.c - commit hooks: code a sibling module (inline projections) runs
 * inside every append's write transaction of one handle, so what it writes
 * commits, or rolls back, with the events. The list is per handle: other
 * handles and processes do not run it (the projections module catches up
 * what they appended).
 */
#include <stdatomic.h>
#include <string.h>

#include "es_alloc.h"
#include "db.h"

typedef struct es__hook {
	struct es__hook *next;
	es__commit_hook_fn fn;
	void (*release)(void *user_data);
	void *user_data;
	char name[];
} es__hook;

static es__hook **hook_find(es_db *db, const char *name)
{
	es__hook **h = &db->hooks.list;
	while (*h && strcmp((*h)->name, name) != 0)
		h = &(*h)->next;
	return h;
}

int es__commit_hook_add(es_db *db, const char *name, es__commit_hook_fn fn, void (*release)(void *),
                        void *user_data)
{
	if (db->read_only)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	int rc = es__write_reentry_check(db);
	if (rc)
		return rc;
	size_t len = strlen(name);
	es__hook *hook = es_malloc(sizeof *hook + len + 1);
	if (!hook)
		return es__error_set(ES_ENOMEM, "adding commit hook '%s': out of memory", name);
	*hook = (es__hook){ .fn = fn, .release = release, .user_data = user_data };
	memcpy(hook->name, name, len + 1);
	pthread_rwlock_wrlock(&db->hooks.lock);
	es__hook **at = hook_find(db, name);
	bool taken = *at != NULL;
	if (!taken) {
		*at = hook; /* last: hooks run in the order they were added */
		atomic_fetch_add(&db->hooks.count, 1);
	}
	pthread_rwlock_unlock(&db->hooks.lock);
	if (!taken)
		return 0;
	es_free(hook);
	return es__error_set(ES_EINVAL, "'%s' is already added to this handle", name);
}

int es__commit_hook_remove(es_db *db, const char *name)
{
	int rc = es__write_reentry_check(db); /* a hook's own append holds the lock shared */
	if (rc)
		return rc;
	pthread_rwlock_wrlock(&db->hooks.lock);
	es__hook **at = hook_find(db, name), *hook = *at;
	if (hook) {
		*at = hook->next;
		atomic_fetch_sub(&db->hooks.count, 1);
	}
	pthread_rwlock_unlock(&db->hooks.lock);
	if (!hook)
		return es__error_set(ES_ENOTFOUND, "'%s' is not added to this handle", name);
	if (hook->release)
		hook->release(hook->user_data);
	es_free(hook);
	return 0;
}

typedef struct hook_run {
	MDB_txn *txn;
	es__commit_view view;
} hook_run;

static int run_each(es_read *rd, void *user_data)
{
	hook_run *run = user_data;
	es__state_txn t = { rd->db, run->txn };
	int rc = 0;
	for (es__hook *h = rd->db->hooks.list; rc == 0 && h; h = h->next)
		rc = h->fn(&t, rd, &run->view, h->user_data);
	return rc;
}

bool es__commit_hooks_any(es_db *db)
{
	return atomic_load_explicit(&db->hooks.count, memory_order_relaxed) != 0;
}

int es__commit_hooks_run(es_db *db, MDB_txn *txn, uint64_t head, const es_event *events, size_t n)
{
	pthread_rwlock_rdlock(&db->hooks.lock);
	hook_run run = { txn, { head, events, n } };
	int rc = db->hooks.list ? es__read_over(db, txn, run_each, &run) : 0;
	pthread_rwlock_unlock(&db->hooks.lock);
	return rc;
}

void es__commit_hooks_free(es_db *db)
{
	for (es__hook *h = db->hooks.list, *next; h; h = next) {
		next = h->next;
		if (h->release)
			h->release(h->user_data);
		es_free(h);
	}
	db->hooks.list = NULL;
	atomic_store(&db->hooks.count, 0);
}
