/*
 * journal.h - the commit journal's private interface, shared by the engine's
 * journal files (jops.c, jfile.c, journal.c, jcheckpoint.c, jrecover.c).
 *
 * Why: an LMDB commit made durable by LMDB fsyncs its dirty pages, which
 * copy-on-write scatters over the file; on the disks measured an fsync costs
 * about 70 us per scattered page. So a durable store opens LMDB with
 * MDB_NOSYNC and makes each write transaction durable by one sequential,
 * checksummed record of its changes in the store's journal file, fdatasynced
 * before LMDB commits. Checkpoints (jcheckpoint.c) make LMDB itself durable in
 * the background and keep what a power cut needs to recover: a copy of a
 * synced snapshot's meta page, whose pages a read transaction keeps LMDB from
 * reusing. After a cut, recovery (jrecover.c) puts that meta page back and
 * replays the journal's records after it. docs/DESIGN.md "Commit journal"
 * has the whole design and its argument.
 *
 * The file, `journal` in the store directory (integers little-endian):
 *   [0, 4096)     header slot 0   } the newer valid one (by seq) is current;
 *   [4096, 8192)  header slot 1   } a checkpoint writes the other one
 *   [8192, size)  records, written at the tail and wrapping to 8192 (the file
 *                 starts at 1 MiB and doubles up to the header's max_size
 *                 before it wraps)
 * A record: a 48-byte head (checksum, magic, kind, body length, epoch, LMDB
 * transaction id, offset), then for kind REC the body, the transaction's
 * changes (jops.c). The checksum is XXH3-64 seeded with the epoch's salt
 * over everything after it, so a record from another epoch, a torn one or
 * stale bytes never pass. A WRAP head says the next record is at 8192.
 */
#ifndef ES_ENGINE_JOURNAL_H
#define ES_ENGINE_JOURNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <lmdb.h>

typedef struct es_db es_db;

#define ES__JOURNAL_FILE "journal"
#define ES__JSLOT_SIZE 4096u
#define ES__JDATA_START (2u * ES__JSLOT_SIZE)
#define ES__JREC_HEAD 48u
#define ES__JMETA_COPY 256u /* LMDB's meta page: a 16-byte page head and 136 bytes of meta */
#define ES__JOURNAL_DEFAULT_SIZE ((uint64_t)64 << 20)
#define ES__JOURNAL_MIN_SIZE ((uint64_t)64 << 10)
#define ES__JOURNAL_START_SIZE ((uint64_t)1 << 20)

enum { ES__JREC = 1, ES__JWRAP = 2 };

/* A header slot, decoded. */
typedef struct es_jheader {
	uint64_t seq;       /* which slot is newer */
	uint64_t epoch;     /* records of this epoch replay; a writable first open starts the next */
	uint64_t salt;      /* the epoch's checksum seed */
	uint64_t cp_txnid;  /* the checkpointed LMDB transaction */
	uint64_t cp_tail;   /* where the records after it start */
	uint32_t clean;     /* 1: the last handle closed after a checkpoint; nothing after it */
	uint32_t psize;     /* LMDB's page size */
	char boot[40];      /* the machine's boot id when written */
	uint8_t meta[ES__JMETA_COPY]; /* the checkpointed transaction's meta page */
	uint64_t max_size;  /* the file grows to this before commits wait for checkpoints */
} es_jheader;

/* A record head, decoded. */
typedef struct es_jrec {
	uint32_t kind;
	uint32_t body_len;
	uint64_t epoch, txnid, offset;
} es_jrec;

typedef struct es_journal {
	int fd;
	uint64_t size;        /* the file's size: it starts at ES__JOURNAL_START_SIZE and
	                         doubles (zero-filled) up to max, and past max only for a
	                         record larger than the journal */
	uint64_t max;
	es_jheader hdr;       /* the header this handle last read or wrote (under ckpt) */
	uint64_t epoch, salt; /* what records are written in: fixed once the open is done */
	_Atomic uint64_t cp_tail; /* the newest durable checkpoint's tail, as last seen */
	bool recover;         /* opened after the machine went down: replay before use */
	bool first;           /* no other handle had the store open */
	bool started;         /* es__journal_start succeeded */
	MDB_txn *pin;         /* a read of hdr.cp_txnid's snapshot: LMDB keeps its pages */
	pthread_mutex_t ckpt; /* one checkpoint at a time in this process */
	_Atomic uint64_t since_ckpt; /* record bytes written since this handle's last checkpoint */
	_Atomic bool auto_busy; /* a committer is running the due checkpoint */
	_Atomic uint64_t last_ckpt_ns;
	bool manual;          /* tests: only es_db_sync and a full journal checkpoint */
	uint64_t replayed;    /* records replayed at open (for tests and tools) */
	_Atomic uint64_t checkpoints;
} es_journal;

/* ---- jops.c: a write transaction's changes, and replaying them ---- */
/* The transaction's changes so far start after ES__JREC_HEAD reserved bytes
 * of db->jops.buf. */
void es__jops_reset(es_db *db);
int es__jops_apply(es_db *db, MDB_txn *txn, const uint8_t *body, size_t len);

/* ---- jfile.c: the file ---- */
/* pwrite of all n bytes (retrying short writes and EINTR): 0 or an errno. */
int es__pwrite_all(int fd, const void *buf, size_t n, uint64_t off);
/* Opens (creating when writable: size bytes, file mode mode or 0600) the
 * journal of the store at dir and takes the open lock: exclusive if no
 * other handle has it (j->first), else shared. 0; ES_ENOTFOUND read-only
 * with no journal; other errors. */
int es__jfile_open(es_journal *j, const char *dir, bool read_only, uint64_t size, unsigned int mode);
/* Zero-fills the file from j->size to size. */
int es__jfile_grow(es_journal *j, uint64_t size);
/* Reads the current header slot into *h: 0, or ES_ENOTFOUND if neither
 * slot is valid (a new file). */
int es__jfile_header_read(es_journal *j, es_jheader *h);
/* Writes h as the next header (seq + 1, the other slot) and fdatasyncs. */
int es__jfile_header_write(es_journal *j, es_jheader *h);
/* Lets other handles in (shared open lock) once the open is done. */
int es__jfile_share(es_journal *j);
/* Tries to turn the shared open lock exclusive: true if this handle is the
 * last (es_db_close then marks the header clean). */
bool es__jfile_last(es_journal *j);
void es__jfile_close(es_journal *j);
/* Encodes a record head into out[ES__JREC_HEAD] with the checksum of head
 * and body (which must follow out in memory for kind REC). */
void es__jrec_seal(const es_journal *j, uint8_t *out, const es_jrec *r);
/* Reads the record at off: 0, *r and *rec (the whole record, head first,
 * es_malloc'ed), or 1 if no valid record of this epoch and txnid is there. */
int es__jrec_read(es_journal *j, uint64_t off, uint64_t txnid, es_jrec *r, uint8_t **rec);
/* The machine's boot id (EVSTORE_BOOT_ID overrides it, for power-cut
 * simulators), NUL-terminated in out[40]. */
void es__boot_id(char out[40]);

/* ---- jcheckpoint.c ---- */
/* Makes LMDB durable up to the newest commit and writes a header naming it.
 * wtxn: the caller's write transaction (the commit path, when the journal is
 * full; tail is where its record would go), or NULL to take the write lock
 * briefly. next_epoch starts a new epoch (the open's checkpoint); clean marks
 * the last close. */
int es__jcheckpoint(es_db *db, MDB_txn *wtxn, uint64_t tail, bool next_epoch, bool clean);
/* After a commit, outside the write lock: a checkpoint if one is due. */
void es__jcheckpoint_due(es_db *db);
/* For tests: no checkpoint unless asked for or the journal is full. */
void es__jcheckpoint_manual(es_db *db);

/* ---- jrecover.c ---- */
/* Before LMDB opens the environment: when the journal says the machine went
 * down with the store open, puts the checkpoint's meta page back. */
int es__jrecover_meta(es_db *db);
/* After: replays the records after the checkpoint. */
int es__jrecover_replay(es_db *db);

/* ---- journal.c ---- */
/* The journal's tail as txn sees it (ES__JDATA_START before any record). */
int es__journal_tail(es_db *db, MDB_txn *txn, uint64_t *tail);
int es__journal_tail_put(es_db *db, MDB_txn *txn, uint64_t tail);

#endif
