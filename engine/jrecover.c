/*
 * jrecover.c - recovery after the machine went down with the store open.
 *
 * How it is told from a process crash: the header keeps the boot id of the
 * machine that wrote it. A different boot id, unless the last handle closed
 * cleanly, means a power cut may have left the data file's newest meta page
 * pointing at pages that never reached the disk. (After a process crash the
 * page cache still holds every write, LMDB's state is whole, and a record
 * whose transaction never committed must not come back: the open's new
 * epoch voids it.)
 *
 * Recovery, by the first writable handle only (it holds the open lock
 * exclusively): put the checkpoint's meta page into both meta slots, so
 * LMDB opens at the checkpoint, whose pages its pin kept intact; then
 * replay each record of the header's epoch after the checkpoint's tail, in
 * transaction order, until one is missing, torn or of another epoch. A cut
 * during recovery leaves the header as it was, so the next open starts over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "es_alloc.h"
#include "db.h"
#include "journal.h"
#include "metapage.h"

int es__jrecover_meta(es_db *db)
{
	es_journal *j = db->journal;
	char file[4200];
	uint8_t other[ES__JMETA_COPY];
	uint64_t s = j->hdr.cp_txnid, psize = j->hdr.psize;
	snprintf(file, sizeof file, "%s/data.mdb", db->path);
	if (psize < ES__JMETA_COPY || !es__meta_page_valid(j->hdr.meta, sizeof j->hdr.meta, &(uint64_t){ 0 }))
		return es__error_set(ES_ECORRUPT, "store '%s': the journal's checkpoint has no valid meta page",
		                     db->path);
	/* The other slot gets the same meta under its own page number (the
	 * page header's first field), so LMDB sees S in both. */
	memcpy(other, j->hdr.meta, sizeof other);
	uint64_t pgno = (s & 1) ^ 1;
	memcpy(other, &pgno, sizeof pgno);
	int fd = open(file, O_RDWR | O_CLOEXEC);
	int err = fd < 0 ? errno : 0;
	if (!err) err = es__pwrite_all(fd, j->hdr.meta, sizeof j->hdr.meta, (s & 1) * psize);
	if (!err) err = es__pwrite_all(fd, other, sizeof other, pgno * psize);
	if (!err && fdatasync(fd) != 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	return err ? es__error_errno(err, file) : 0;
}

/* Replays one record in its own transaction, which must get the record's
 * transaction id, and moves the tail after it. */
static int replay_one(es_db *db, const es_jrec *r, const uint8_t *rec)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
	if (rc)
		return es__error_lmdb(rc, "replaying the journal");
	if (mdb_txn_id(txn) != r->txnid)
		rc = es__error_set(ES_ECORRUPT, "store '%s': journal record at %llu is transaction %llu, the "
		                   "store is at %llu", db->path, (unsigned long long)r->offset,
		                   (unsigned long long)r->txnid, (unsigned long long)mdb_txn_id(txn) - 1);
	if (!rc) rc = es__jops_apply(db, txn, rec + ES__JREC_HEAD, r->body_len);
	if (!rc) rc = es__journal_tail_put(db, txn, r->offset + ES__JREC_HEAD + r->body_len);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	return rc ? es__error_lmdb(rc, "replaying the journal") : 0;
}

/* Replay holds the checkpoint's pages, so the store may outgrow its map:
 * double it (no write transaction is open). */
static int grow_map(es_db *db)
{
	MDB_envinfo info;
	mdb_env_info(db->env, &info);
	int rc = mdb_env_set_mapsize(db->env, info.me_mapsize * 2);
	return rc ? es__error_lmdb(rc, "growing the map to replay the journal") : 0;
}

int es__jrecover_replay(es_db *db)
{
	es_journal *j = db->journal;
	MDB_envinfo info;
	mdb_env_info(db->env, &info);
	if (info.me_last_txnid != j->hdr.cp_txnid)
		return es__error_set(ES_ECORRUPT, "store '%s': the journal's checkpoint is transaction %llu, "
		                     "the data file opened at %llu", db->path,
		                     (unsigned long long)j->hdr.cp_txnid, (unsigned long long)info.me_last_txnid);
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &j->pin); /* keeps the checkpoint's pages */
	if (rc)
		return es__error_lmdb(rc, "recovering the store");
	mdb_env_set_flags(db->env, MDB_NOSYNC, 1); /* the checkpoint after replay syncs */
	uint64_t at = j->hdr.cp_tail, txnid = j->hdr.cp_txnid + 1;
	bool wrapped = false;
	for (;;) {
		es_jrec r;
		uint8_t *rec;
		if (at + ES__JREC_HEAD > j->size && !wrapped) {
			at = ES__JDATA_START, wrapped = true; /* no room for a WRAP head: it wrapped */
			continue;
		}
		if ((rc = es__jrec_read(j, at, txnid, &r, &rec)) != 0)
			return rc < 0 ? rc : 0; /* the first record a cut lost ends the replay */
		if (r.kind == ES__JWRAP) {
			es_free(rec);
			if (at == ES__JDATA_START || wrapped)
				return 0;
			at = ES__JDATA_START, wrapped = true;
			continue;
		}
		while ((rc = replay_one(db, &r, rec)) == ES__EMAPFULL && (rc = grow_map(db)) == 0)
			;
		es_free(rec);
		if (rc)
			return rc;
		at += ES__JREC_HEAD + r.body_len, txnid++, wrapped = false;
		j->replayed++;
	}
}
