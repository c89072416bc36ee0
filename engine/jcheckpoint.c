/*
 * jcheckpoint.c - checkpoints: making LMDB durable up to a transaction S so
 * the journal before S's tail may be reused. A committer runs one after
 * its commit (es__jcheckpoint_due) once CKPT_INTERVAL_MS passed since the
 * last, or a quarter of the journal's maximum was written. (Not a thread of
 * its own: a handle opened in a forked child would need one, which
 * ThreadSanitizer cannot follow.)
 *
 * What a power cut needs from a checkpoint (journal.h): S's pages on the
 * disk, a copy of S's meta page, and S's pages kept from reuse until a newer
 * checkpoint replaces it. So, holding LMDB's write lock only briefly: note S
 * (the newest commit), copy its meta page, and begin a read of S (the pin:
 * LMDB never reuses a page a reader may need). Then without the lock:
 * fdatasync the data file, write the header, and only then drop the old
 * pin. Every writable handle pins the header's S or an older one (it
 * checkpoints at open, and moves its pin only to the S it wrote), so the
 * header's pages stay kept while any writer lives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "journal.h"
#include "metapage.h"

#define CKPT_INTERVAL_MS 1000

static int lock_headers(es_journal *j, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
	int rc;
	while ((rc = fcntl(j->fd, F_OFD_SETLKW, &fl)) != 0 && errno == EINTR)
		;
	return rc == 0 ? 0 : es__error_errno(errno, "locking the journal's header");
}

/* Copies the meta page of transaction s (the newest: the write lock is held)
 * into h. */
static int copy_meta(es_db *db, es_jheader *h, uint64_t s)
{
	MDB_stat st;
	mdb_filehandle_t fd;
	uint64_t txnid = 0;
	int rc = mdb_env_stat(db->env, &st);
	if (!rc) rc = mdb_env_get_fd(db->env, &fd);
	if (rc)
		return es__error_lmdb(rc, "reading the store's meta page");
	h->psize = st.ms_psize;
	if (pread(fd, h->meta, sizeof h->meta, (off_t)(s & 1) * st.ms_psize) != (ssize_t)sizeof h->meta ||
	    !es__meta_page_valid(h->meta, sizeof h->meta, &txnid) || txnid != s)
		return es__error_set(ES_ECORRUPT, "store '%s': the meta page of transaction %llu is not "
		                     "where LMDB keeps it", db->path, (unsigned long long)s);
	return 0;
}

/* Under the write lock: the header naming S (the newest commit), and a pin
 * on it. */
static int capture(es_db *db, MDB_txn *w, uint64_t tail, es_jheader *h, MDB_txn **pin)
{
	uint64_t s = mdb_txn_id(w) - 1;
	int rc = copy_meta(db, h, s);
	if (rc)
		return rc;
	h->cp_txnid = s;
	h->cp_tail = tail;
	if ((rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, pin)) != 0)
		return es__error_lmdb(rc, "pinning the checkpoint");
	return 0;
}

static void new_epoch(es_jheader *h)
{
	uint64_t salt = 0;
	if (getrandom(&salt, sizeof salt, 0) != (ssize_t)sizeof salt)
		salt = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
	h->epoch++;
	h->salt = salt;
}

/* Pins taken, header fields set: the rest of a checkpoint, without the
 * write lock unless the caller holds it. */
static int finish(es_db *db, es_jheader *h, MDB_txn *pin)
{
	es_journal *j = db->journal;
	int rc = mdb_env_sync(db->env, 1);
	if (rc) {
		mdb_txn_abort(pin);
		return es__error_lmdb(rc, "syncing the store for a checkpoint");
	}
	if ((rc = es__jfile_header_write(j, h)) != 0) {
		mdb_txn_abort(pin);
		return rc;
	}
	j->hdr = *h;
	j->cp_tail = h->cp_tail;
	if (j->pin)
		mdb_txn_abort(j->pin);
	j->pin = pin;
	j->checkpoints++;
	return 0;
}

int es__jcheckpoint(es_db *db, MDB_txn *wtxn, uint64_t tail, bool next_epoch, bool clean)
{
	es_journal *j = db->journal;
	MDB_txn *w = wtxn, *pin = NULL;
	int rc = wtxn ? 0 : es__write_txn_begin(db, &w);
	if (rc)
		return rc;
	pthread_mutex_lock(&j->ckpt);
	if ((rc = lock_headers(j, F_WRLCK)) == 0) {
		uint64_t since = j->since_ckpt;
		es_jheader h = j->hdr;
		es__jfile_header_read(j, &h); /* another handle's newer seq, if any */
		if (!wtxn)
			rc = es__journal_tail(db, w, &tail);
		if (!rc) rc = capture(db, w, tail, &h, &pin);
		if (!wtxn) {
			es__read_txn_end(db, w);
			w = NULL;
		}
		es__boot_id(h.boot);
		h.clean = clean;
		h.max_size = j->max;
		if (next_epoch)
			new_epoch(&h);
		if (!rc) rc = finish(db, &h, pin);
		if (!rc && next_epoch) { /* the open's checkpoint: before any record or thread */
			j->epoch = h.epoch;
			j->salt = h.salt;
		}
		if (!rc)
			j->since_ckpt -= since;
		lock_headers(j, F_UNLCK);
	}
	pthread_mutex_unlock(&j->ckpt);
	if (w && !wtxn)
		es__read_txn_end(db, w);
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void es__jcheckpoint_due(es_db *db)
{
	es_journal *j = db->journal;
	uint64_t since = j->since_ckpt, now = now_ns();
	if (j->manual || since == 0 ||
	    (since < j->max / 4 && now - j->last_ckpt_ns < (uint64_t)CKPT_INTERVAL_MS * 1000000u))
		return;
	bool idle = false;
	if (!atomic_compare_exchange_strong(&j->auto_busy, &idle, true))
		return; /* another thread is on it */
	j->last_ckpt_ns = now;
	es__jcheckpoint(db, NULL, 0, false, false); /* a failure leaves the journal filling: the
	                                               commit path checkpoints itself then */
	j->auto_busy = false;
}

void es__jcheckpoint_manual(es_db *db)
{
	db->journal->manual = true;
}
