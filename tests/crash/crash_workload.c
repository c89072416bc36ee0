/*
 * crash_workload.c - the child's side of the crash campaign: several threads
 * run random operations on one durable store until the parent SIGKILLs the
 * process. Operations: single-stream raw appends, raw batches over several
 * streams, and bank deposits, withdrawals and transfers (whose appends cross
 * the account snapshot interval now and then, so snapshots are written in
 * the same transaction), and catch-ups of the bank's read models, which may
 * also run inline, in every append's transaction (in the crash campaign's
 * even cycles).
 * The threads commit at once, so their batches are group-committed.
 *
 * Before each call the thread sends an intent record; only after the call
 * returned 0 does it send the acknowledgement. A kill between the commit
 * and the acknowledgement leaves a committed but unacknowledged operation,
 * which the verifier allows; the reverse (acknowledged, not stored) is the
 * bug this campaign looks for. Now and then a child is not killed: its
 * workers stop after a fixed number of operations and it closes the store
 * and exits, so a hang (a lost group-commit wakeup, say) cannot hide behind
 * the kill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

typedef struct cr_child {
	es_db *db;
	int fd;
	uint64_t cycle;
	int ops;      /* per worker; 0: until killed */
	const cr_workload_opts *opts;
} cr_child;

typedef struct cr_worker {
	cr_child *child;
	uint32_t index;
	uint32_t seq;
	uint64_t rng;
	uint8_t *buf;    /* payloads of one operation */
	pthread_t thread;
} cr_worker;

#define BUF_SLOT (CR_RAW_HEADER + CR_MAX_FILLER)

static void send_record(const cr_child *c, cr_record *r, int phase)
{
	r->phase = (uint16_t)phase;
	const char *p = (const char *)r;
	size_t left = sizeof *r;
	while (left > 0) { /* one write: a pipe write under PIPE_BUF is atomic */
		ssize_t n = write(c->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(4); /* the parent is gone */
		p += n;
		left -= (size_t)n;
	}
}

static void send_fail(const cr_child *c, cr_record *r, int rc)
{
	r->rc = rc;
	snprintf(r->text, sizeof r->text, "%s: %s", es_strerror(rc), es_error_last()->message);
	send_record(c, r, CR_FAIL);
}

static uint32_t pick(cr_worker *w, uint32_t n)
{
	return (uint32_t)(cr_rand(&w->rng) % n);
}

static cr_record new_op(cr_worker *w, int op)
{
	cr_record r;
	memset(&r, 0, sizeof r);
	r.magic = CR_MAGIC;
	r.op = (uint16_t)op;
	r.op_id = w->child->cycle << 32 | (uint64_t)w->index << 24 | w->seq++;
	return r;
}

/* Mostly small events; one in ten spills onto overflow pages. */
static uint32_t pick_filler(cr_worker *w)
{
	uint32_t f = pick(w, 10) == 0 ? 1000 + pick(w, CR_MAX_FILLER - 999) : pick(w, 200);
	return f < w->child->opts->filler_min ? w->child->opts->filler_min : f;
}

/* Chooses the parts of a raw op and builds their events in evs. */
static void build_raw(cr_worker *w, cr_record *r, uint32_t nparts, es_event_data evs[][CR_MAX_EVENTS])
{
	r->nparts = nparts;
	r->filler = pick_filler(w);
	for (uint32_t p = 0; p < nparts; p++) {
		cr_part *part = &r->parts[p];
		snprintf(part->stream, sizeof part->stream, "raw-%u", pick(w, CR_RAW_STREAMS));
		part->count = 1 + pick(w, CR_MAX_EVENTS);
		part->first_version = -1;
		for (uint32_t i = 0; i < part->count; i++) {
			uint8_t *buf = w->buf + (p * CR_MAX_EVENTS + i) * BUF_SLOT;
			es_event_data *ev = &evs[p][i];
			memset(ev, 0, sizeof *ev);
			cr_raw_id(ev->id, r->op_id, p, i);
			cr_raw_payload(buf, r->op_id, p, i, r->filler);
			ev->type = CR_RAW_TYPE;
			ev->schema_version = 1;
			ev->payload = buf;
			ev->payload_len = CR_RAW_HEADER + r->filler;
		}
	}
}

static void op_raw(cr_worker *w)
{
	es_event_data evs[CR_MAX_PARTS][CR_MAX_EVENTS];
	cr_record r = new_op(w, CR_RAW);
	es_append_result res;
	build_raw(w, &r, 1, evs);
	send_record(w->child, &r, CR_INTENT);
	int rc = es_stream_append(&res, w->child->db, r.parts[0].stream, ES_ANY, evs[0], r.parts[0].count);
	if (rc) {
		send_fail(w->child, &r, rc);
		return;
	}
	r.parts[0].first_version = res.first_version;
	r.parts[0].first_position = evs[0][0].position;
	send_record(w->child, &r, CR_ACK);
}

/* Several streams in one batch (a stream may come twice). */
static void op_batch(cr_worker *w)
{
	es_event_data evs[CR_MAX_PARTS][CR_MAX_EVENTS];
	es_append_result res[CR_MAX_PARTS];
	es_batch *b;
	cr_record r = new_op(w, CR_BATCH);
	build_raw(w, &r, 2 + pick(w, CR_MAX_PARTS - 1), evs);
	send_record(w->child, &r, CR_INTENT);
	int rc = es_batch_new(&b, w->child->db);
	for (uint32_t p = 0; rc == 0 && p < r.nparts; p++)
		rc = es_batch_append(b, r.parts[p].stream, ES_ANY, evs[p], r.parts[p].count);
	if (rc == 0)
		rc = es_batch_commit(b, res);
	else
		es_batch_free(b);
	if (rc) {
		send_fail(w->child, &r, rc);
		return;
	}
	for (uint32_t p = 0; p < r.nparts; p++) {
		r.parts[p].first_version = res[p].first_version;
		r.parts[p].first_position = evs[p][0].position;
	}
	send_record(w->child, &r, CR_ACK);
}

/* Runs one bank command; refusals and lost conflict races are expected. */
static void op_command(cr_worker *w, int op)
{
	char ids[2][16], ref[24];
	cr_record r = new_op(w, op);
	r.acct[0] = pick(w, CR_ACCOUNTS);
	r.acct[1] = (r.acct[0] + 1 + pick(w, CR_ACCOUNTS - 1)) % CR_ACCOUNTS;
	r.amount = 1 + pick(w, op == CR_DEPOSIT ? 900 : 1500);
	r.nparts = op == CR_TRANSFER ? 2 : 1;
	cr_account_id(ids[0], r.acct[0]);
	cr_account_id(ids[1], r.acct[1]);
	cr_reference(ref, r.op_id);
	send_record(w->child, &r, CR_INTENT);
	int rc;
	es_db *db = w->child->db;
	if (op == CR_DEPOSIT)
		rc = es_bank_deposit(db, ids[0], r.amount, ref);
	else if (op == CR_WITHDRAW)
		rc = es_bank_withdraw(db, ids[0], r.amount, ref);
	else
		rc = es_bank_transfer(db, ids[0], ids[1], r.amount, ref);
	if (rc == 0)
		send_record(w->child, &r, CR_ACK);
	else if (rc != ES_EREJECTED && rc != ES_ECONFLICT)
		send_fail(w->child, &r, rc);
}

/* A kill in a catch-up's batch must neither lose nor repeat an event in
 * the models: the verifier compares them with the events. */
static void op_project(cr_worker *w)
{
	int rc = es_bank_balances_catch_up(NULL, w->child->db);
	if (rc == 0)
		rc = es_bank_daily_catch_up(NULL, w->child->db);
	if (rc == 0)
		rc = es_bank_owners_catch_up(NULL, w->child->db);
	if (rc) {
		cr_record r = new_op(w, CR_PROJECT);
		send_fail(w->child, &r, rc);
	}
}

static void *worker_main(void *arg)
{
	cr_worker *w = arg;
	for (int n = 0; w->child->ops == 0 || n < w->child->ops; n++) {
		/* commands_only: 40 + pick(60) lands among the bank commands */
		uint32_t r = w->child->opts->commands_only ? 40 + pick(w, 60) : pick(w, 100);
		if (r < 25)
			op_raw(w);
		else if (r < 40)
			op_batch(w);
		else if (r < 70)
			op_command(w, CR_TRANSFER);
		else if (r < 88)
			op_command(w, CR_DEPOSIT);
		else if (r < 97)
			op_command(w, CR_WITHDRAW);
		else
			op_project(w);
	}
	return NULL;
}

__attribute__((noreturn))
static void start_workers(cr_child *c, uint64_t seed, int threads)
{
	cr_worker *ws = calloc((size_t)threads, sizeof *ws);
	for (int i = 0; ws && i < threads; i++) {
		ws[i] = (cr_worker){ c, (uint32_t)i, 0, seed ^ ((uint64_t)(i + 1) << 40), NULL, 0 };
		ws[i].buf = malloc((size_t)CR_MAX_PARTS * CR_MAX_EVENTS * BUF_SLOT);
		if (!ws[i].buf || pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
			_exit(5);
	}
	if (!ws)
		_exit(5);
	for (int i = 0; i < threads; i++) {
		pthread_join(ws[i].thread, NULL); /* only when ops is set */
		free(ws[i].buf);
	}
	free(ws);
	if (!c->opts->dies)
		es_db_close(c->db);
	_exit(0);
}

void cr_child_run(const char *dir, uint64_t cycle, uint64_t seed, int threads, int nosync, int ops,
                  int fd)
{
	cr_workload_opts wo = { .dir = dir, .cycle = cycle, .seed = seed, .threads = threads,
	                        .nosync = nosync, .ops = ops, .fd = fd, .inline_models = cycle % 2 == 0 };
	cr_workload_run(&wo);
}

void cr_workload_run(const cr_workload_opts *wo)
{
	cr_child c = { NULL, wo->fd, wo->cycle, wo->ops, wo };
	uint64_t cycle = wo->cycle;
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = wo->nosync;
	o.map_size = wo->map_size;
	int rc = es_db_open(&c.db, wo->dir, &o);
	if (rc == 0 && wo->inline_models)
		rc = es_bank_read_model_inline(c.db, NULL);
	if (rc) {
		cr_record r;
		memset(&r, 0, sizeof r);
		r.magic = CR_MAGIC;
		r.op_id = cycle << 32;
		send_fail(&c, &r, rc);
		_exit(3);
	}
	start_workers(&c, wo->seed, wo->threads);
}
