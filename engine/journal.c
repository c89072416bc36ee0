/*
 * journal.c - the commit path through the journal, and the journal's part
 * of opening and closing a store (the design is in journal.h).
 *
 * A commit, inside LMDB's write lock (so every process agrees on the order):
 * place the record after the tail (wrapping, or checkpointing first when
 * the journal is full), note the new tail in the transaction, write the
 * record, fdatasync the journal, then commit LMDB without a sync. Syncing
 * before LMDB publishes the commit keeps what readers see durable: a reader,
 * a subscription or a relay never sees an event that a power cut can take
 * back. The tail lives in the meta table, so a writer that died before its
 * commit leaves a tail that the next writer writes over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "es_alloc.h"
#include "db.h"
#include "journal.h"

#define TAIL_KEY "journal.tail"

int es__journal_tail(es_db *db, MDB_txn *txn, uint64_t *tail)
{
	return es__meta_get_u64(txn, db, TAIL_KEY, tail, ES__JDATA_START);
}

/* Not journaled itself: replay sets the tail after each record. */
int es__journal_tail_put(es_db *db, MDB_txn *txn, uint64_t tail)
{
	uint8_t le[8];
	es__put_le64(le, tail);
	MDB_val k = { strlen(TAIL_KEY), TAIL_KEY }, v = { 8, le };
	int rc = mdb_put(txn, db->dbi.meta, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing the journal's tail") : 0;
}

/* Where a record of need bytes may go after tail, with the live records
 * [cp, tail) (circular) kept: 0 and *at, or 1 if it does not fit. */
static int fit(const es_journal *j, uint64_t cp, uint64_t tail, uint64_t need, uint64_t *at)
{
	if (cp <= tail) {
		if (tail + need <= j->size) {
			*at = tail;
			return 0;
		}
		if (ES__JDATA_START + need < cp || (cp == tail && ES__JDATA_START + need <= j->size)) {
			*at = ES__JDATA_START;
			return 0;
		}
		return 1;
	}
	if (tail + need < cp) {
		*at = tail;
		return 0;
	}
	return 1;
}

static void refresh_size(es_journal *j)
{
	struct stat st;
	if (fstat(j->fd, &st) == 0 && (uint64_t)st.st_size > j->size)
		j->size = (uint64_t)st.st_size;
}

/* Places the record: where it fits; else after another handle's newer
 * checkpoint; else after one made now; else (bigger than the journal) at
 * the tail, growing the file. */
static int place(es_db *db, MDB_txn *txn, uint64_t tail, uint64_t need, uint64_t *at)
{
	es_journal *j = db->journal;
	es_jheader h;
	if (fit(j, j->cp_tail, tail, need, at) == 0 && *at == tail)
		return 0;
	refresh_size(j); /* a wrap decides by the file's end, which another process may have moved */
	if (fit(j, j->cp_tail, tail, need, at) == 0)
		return 0;
	if (es__jfile_header_read(j, &h) == 0 && h.epoch == j->epoch) {
		j->cp_tail = h.cp_tail;
		if (fit(j, j->cp_tail, tail, need, at) == 0)
			return 0;
	}
	while (j->size < j->max) {
		uint64_t size = j->size * 2 < j->max ? j->size * 2 : j->max;
		int rc = es__jfile_grow(j, size);
		if (rc)
			return rc;
		if (fit(j, j->cp_tail, tail, need, at) == 0)
			return 0;
	}
	int rc = es__jcheckpoint(db, txn, tail, false, false);
	if (rc)
		return rc;
	if (fit(j, tail, tail, need, at) != 0)
		*at = tail; /* the record grows the file: the checkpoint left nothing to keep */
	return 0;
}

/* Writes the record (and, when it wraps, a WRAP head at the old tail) and
 * makes them durable unless nosync. */
static int write_record(es_db *db, uint64_t txnid, uint64_t tail, uint64_t at, size_t body)
{
	es_journal *j = db->journal;
	int err = 0;
	if (at != tail && tail + ES__JREC_HEAD <= j->size) {
		uint8_t wrap[ES__JREC_HEAD];
		es__jrec_seal(j, wrap, &(es_jrec){ ES__JWRAP, 0, j->epoch, txnid, tail });
		err = es__pwrite_all(j->fd, wrap, sizeof wrap, tail);
	}
	es__jrec_seal(j, db->jops.buf, &(es_jrec){ ES__JREC, (uint32_t)body, j->epoch, txnid, at });
	if (!err)
		err = es__pwrite_all(j->fd, db->jops.buf, ES__JREC_HEAD + body, at);
	if (!err && at + ES__JREC_HEAD + body > j->size)
		j->size = at + ES__JREC_HEAD + body;
	if (!err && !db->nosync && fdatasync(j->fd) != 0)
		err = errno;
	if (!err)
		return 0;
	char what[600];
	snprintf(what, sizeof what, "writing the journal of store '%s'", db->path);
	return es__error_errno(err, what);
}

/* A record whose transaction did not commit must not be replayed: unless a
 * later commit already took its place, zero its head. */
static void void_record(es_db *db, uint64_t tail, uint64_t at)
{
	MDB_txn *txn;
	uint64_t now;
	static const uint8_t zeros[ES__JREC_HEAD];
	if (mdb_txn_begin(db->env, NULL, 0, &txn) != 0)
		return;
	if (es__journal_tail(db, txn, &now) == 0 && now == tail &&
	    es__pwrite_all(db->journal->fd, zeros, sizeof zeros, at) == 0)
		fdatasync(db->journal->fd);
	mdb_txn_abort(txn);
}

int es__journal_commit(es_db *db, MDB_txn *txn, int *lmdb_rc)
{
	es_journal *j = db->journal;
	size_t body = db->jops.len - ES__JREC_HEAD;
	*lmdb_rc = 0;
	if (j && body > UINT32_MAX) {
		mdb_txn_abort(txn);
		return es__error_set(ES_ETOOBIG, "a transaction of %zu bytes of changes is more than the "
		                     "journal takes (4 GiB)", body);
	}
	if (!j || body == 0)
		return (*lmdb_rc = mdb_txn_commit(txn)) ? ES_EIO : 0;
	uint64_t tail = 0, at = 0, need = ES__JREC_HEAD + body, txnid = mdb_txn_id(txn);
	int rc = es__journal_tail(db, txn, &tail);
	if (!rc) rc = place(db, txn, tail, need, &at);
	if (!rc) rc = es__journal_tail_put(db, txn, at + need);
	bool written = rc == 0;
	if (!rc) rc = write_record(db, txnid, tail, at, body);
	if (rc) {
		mdb_txn_abort(txn);
		if (written)
			void_record(db, tail, at);
		return rc;
	}
	if ((*lmdb_rc = mdb_txn_commit(txn)) != 0) {
		void_record(db, tail, at);
		return ES_EIO; /* es__write names *lmdb_rc */
	}
	j->since_ckpt += need;
	return 0;
}

/* The size a new journal may grow to: the option, else
 * $EVSTORE_JOURNAL_SIZE, else the default; never under the minimum. */
static uint64_t new_size(const es_open_options *o)
{
	uint64_t size = o->journal_size;
	const char *env = getenv("EVSTORE_JOURNAL_SIZE");
	if (!size && env && *env)
		size = strtoull(env, NULL, 0);
	if (!size)
		size = ES__JOURNAL_DEFAULT_SIZE;
	return size < ES__JOURNAL_MIN_SIZE ? ES__JOURNAL_MIN_SIZE : size;
}

/* Whether the header says the machine went down while the store was open. */
static bool needs_recovery(const es_jheader *h)
{
	char boot[40];
	es__boot_id(boot);
	return !h->clean && (strcmp(boot, "unknown") == 0 || strcmp(boot, h->boot) != 0);
}

static void journal_free(es_journal *j)
{
	es__jfile_close(j);
	pthread_mutex_destroy(&j->ckpt);
	es_free(j);
}

/* A read-only handle only checks that the store needs no recovery. */
static int check_read_only(es_db *db, es_journal *j)
{
	int rc = es__jfile_header_read(j, &j->hdr) == 0 && needs_recovery(&j->hdr)
	             ? es__error_set(ES_EBUSY, "store '%s' was open when the machine went down; open it "
	                             "writable once to replay its journal", db->path)
	             : 0;
	journal_free(j);
	return rc;
}

int es__journal_open(es_db *db, const es_open_options *o)
{
	es_journal *j = es_calloc(1, sizeof *j);
	if (!j)
		return es__error_set(ES_ENOMEM, "es_db_open: out of memory");
	j->fd = -1;
	pthread_mutex_init(&j->ckpt, NULL);
	j->max = new_size(o);
	int rc = es__jfile_open(j, db->path, db->read_only,
	                        j->max < ES__JOURNAL_START_SIZE ? j->max : ES__JOURNAL_START_SIZE, o->file_mode);
	if (db->read_only || rc) {
		if (rc) {
			journal_free(j);
			return rc == ES_ENOTFOUND ? 0 : rc; /* a store from before the journal */
		}
		return check_read_only(db, j);
	}
	db->journal = j;
	if (es__jfile_header_read(j, &j->hdr) != 0)
		return 0; /* a new journal: the open's checkpoint writes its header */
	j->epoch = j->hdr.epoch;
	j->salt = j->hdr.salt;
	j->cp_tail = j->hdr.cp_tail;
	if (j->hdr.max_size)
		j->max = j->hdr.max_size; /* set when the journal was made */
	if (!needs_recovery(&j->hdr))
		return 0;
	if (!j->first)
		return es__error_set(ES_EBUSY, "store '%s' was open when the machine went down, and another "
		                     "handle has it open: close that one so this one can recover it", db->path);
	j->recover = true;
	return es__jrecover_meta(db);
}

int es__journal_start(es_db *db)
{
	es_journal *j = db->journal;
	if (!j)
		return 0;
	es__jops_tables(db);
	int rc = j->recover ? es__jrecover_replay(db) : 0;
	if (!rc) {
		mdb_env_set_flags(db->env, MDB_NOSYNC, 1);
		rc = es__jcheckpoint(db, NULL, 0, j->first, false);
	}
	if (!rc) rc = es__jfile_share(j);
	j->started = rc == 0;
	return rc;
}

int es__journal_sync(es_db *db)
{
	return db->journal ? es__jcheckpoint(db, NULL, 0, false, false) : 0;
}

void es__journal_close(es_db *db)
{
	es_journal *j = db->journal;
	if (!j)
		return;
	if (j->started) { /* else a failed open: the header stays as it was, for the next */
		bool last = es__jfile_last(j);
		if (last || j->since_ckpt)
			es__jcheckpoint(db, NULL, 0, false, last);
	}
	if (j->pin)
		mdb_txn_abort(j->pin);
	journal_free(j);
	db->journal = NULL;
}
