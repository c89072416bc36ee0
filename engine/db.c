/*
 * db.c - opening and closing a store, the format-version guard, transaction
 * helpers, and growth of the memory map.
 *
 * Map growth: LMDB may only resize the map while this process has no
 * transaction open, so every transaction passes a gate (es_db.gate). A writer
 * that hits MDB_MAP_FULL aborts, closes the gate, waits for open
 * transactions to drain, doubles the map, and retries from the start: an
 * append never fails for want of map space while the disk has room.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "es_alloc.h"
#include "db.h"
#include "journal.h"
#include "es_options.h"


static _Thread_local int txns_held; /* transactions this thread holds open */
static _Thread_local const es_db *writing; /* whose es__write fn this thread runs */

int es__write_reentry_check(const es_db *db)
{
	if (writing != db)
		return 0;
	return es__error_set(ES_EBUSY, "store '%s' was called back from inside its own write transaction "
	                     "(a projection handler or commit hook, which runs holding the write lock): "
	                     "a read, append, sync or projection change there would wait forever", db->path);
}

static void gate_enter(es_db *db)
{
	pthread_mutex_lock(&db->gate.lock);
	while (db->gate.resizing)
		pthread_cond_wait(&db->gate.cond, &db->gate.lock);
	db->gate.active++;
	pthread_mutex_unlock(&db->gate.lock);
	txns_held++;
}

static void gate_leave(es_db *db)
{
	txns_held--;
	pthread_mutex_lock(&db->gate.lock);
	if (--db->gate.active == 0)
		pthread_cond_broadcast(&db->gate.cond);
	pthread_mutex_unlock(&db->gate.lock);
}

/* Resizes the map with no transaction open in this process. grow = 0 adopts
 * the size another process set; otherwise the map doubles. */
static int map_resize(es_db *db, int grow)
{
	if (txns_held > 0)
		return es__error_set(ES_EBUSY, "the map of store '%s' must grow, but this thread "
		                     "holds a read on it; end the read before appending", db->path);
	pthread_mutex_lock(&db->gate.lock);
	while (db->gate.resizing)
		pthread_cond_wait(&db->gate.cond, &db->gate.lock);
	db->gate.resizing = 1;
	while (db->gate.active > 0)
		pthread_cond_wait(&db->gate.cond, &db->gate.lock);
	int rc = 0;
	if (grow) {
		MDB_envinfo info;
		mdb_env_info(db->env, &info);
		rc = mdb_env_set_mapsize(db->env, info.me_mapsize * 2);
	} else {
		rc = mdb_env_set_mapsize(db->env, 0);
	}
	db->gate.resizing = 0;
	pthread_cond_broadcast(&db->gate.cond);
	pthread_mutex_unlock(&db->gate.lock);
	return rc ? es__error_lmdb(rc, "growing the map") : 0;
}

static int txn_begin(es_db *db, unsigned int flags, MDB_txn **out)
{
	int rc = es__write_reentry_check(db);
	if (rc)
		return rc;
	for (;;) {
		gate_enter(db);
		rc = mdb_txn_begin(db->env, NULL, flags, out);
		if (rc == 0)
			return 0;
		gate_leave(db);
		if (rc != MDB_MAP_RESIZED)
			return es__error_lmdb(rc, "beginning a transaction");
		if ((rc = map_resize(db, 0)) != 0)
			return rc;
	}
}

int es__read_txn_begin(es_db *db, MDB_txn **out)
{
	return txn_begin(db, MDB_RDONLY, out);
}

void es__read_txn_end(es_db *db, MDB_txn *txn)
{
	if (!txn)
		return;
	mdb_txn_abort(txn);
	gate_leave(db);
}

int es__lmdb(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return ES__EMAPFULL;
	return es__error_lmdb(rc, what);
}

#define SPACE_MARGIN ((uint64_t)1 << 20)

/* LMDB reports a short write, which is how a filling disk or a file-size
 * limit usually shows, as EIO. Look: is the file at its size limit, or the
 * file system (nearly) out of space? */
static bool out_of_space(es_db *db)
{
	struct statvfs vfs;
	struct rlimit lim;
	struct stat st;
	mdb_filehandle_t fd;
	if (mdb_env_get_fd(db->env, &fd) == 0 && fstat(fd, &st) == 0 && getrlimit(RLIMIT_FSIZE, &lim) == 0 &&
	    lim.rlim_cur != RLIM_INFINITY && (uint64_t)st.st_size + SPACE_MARGIN > (uint64_t)lim.rlim_cur)
		return true;
	return statvfs(db->path, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < SPACE_MARGIN;
}

/* A failed commit concerns the whole store: the message names it. */
static int commit_error(es_db *db, int rc)
{
	char what[600];
	if (rc == MDB_MAP_FULL)
		return ES__EMAPFULL;
	if (rc == EIO && out_of_space(db))
		rc = ENOSPC;
	snprintf(what, sizeof what, "committing to store '%s'", db->path);
	return es__error_lmdb(rc, what);
}

int es__write_txn_begin(es_db *db, MDB_txn **out)
{
	return txn_begin(db, 0, out);
}

int es__write(es_db *db, es__write_fn fn, void *user_data)
{
	if (db->read_only)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	for (;;) {
		MDB_txn *txn;
		int rc = txn_begin(db, 0, &txn);
		if (rc)
			return rc;
		es__jops_reset(db);
		const es_db *outer = writing;
		writing = db;
		rc = fn(db, txn, user_data);
		writing = outer;
		if (rc == 0) {
			int lrc;
			rc = es__journal_commit(db, txn, &lrc);
			gate_leave(db);
			if (rc == 0) {
				es__notify_commit(db); /* durable now (the journal synced it), unless nosync */
				if (db->journal)
					es__jcheckpoint_due(db);
				return 0;
			}
			if (lrc)
				rc = commit_error(db, lrc);
		} else {
			mdb_txn_abort(txn);
			gate_leave(db);
		}
		if (rc != ES__EMAPFULL)
			return rc;
		if ((rc = map_resize(db, 1)) != 0)
			return rc;
	}
}

int64_t es__clock_now(es_db *db)
{
	if (db->clock)
		return db->clock(db->clock_user_data);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int es__meta_get_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t *out, uint64_t dflt)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc = mdb_get(txn, db->dbi.meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		*out = dflt;
		return 0;
	}
	if (rc)
		return es__lmdb(rc, "reading store metadata");
	if (v.mv_size != 8)
		return es__error_set(ES_ECORRUPT, "store metadata '%s' is malformed", name);
	*out = es__get_le64(v.mv_data);
	return 0;
}

int es__meta_put_u64(MDB_txn *txn, es_db *db, const char *name, uint64_t value)
{
	uint8_t le[8];
	es__put_le64(le, value);
	MDB_val k = { strlen(name), (void *)name }, v = { 8, le };
	int rc = es__put(db, txn, db->dbi.meta, &k, &v, 0);
	return rc ? es__lmdb(rc, "writing store metadata") : 0;
}

const char *const es__table_names[ES__N_TABLES] = {
	"meta", "streams", "stream_names", "events", "log",
	"event_ids", "snapshots", "types", "type_names",
};

MDB_dbi *es__table_dbi(es_db *db, size_t i)
{
	MDB_dbi *slots[] = {
		&db->dbi.meta, &db->dbi.streams, &db->dbi.stream_names, &db->dbi.events,
		&db->dbi.log, &db->dbi.event_ids, &db->dbi.snapshots, &db->dbi.types,
		&db->dbi.type_names,
	};
	return slots[i];
}

#define N_DBIS ES__N_TABLES

/* A store is an environment whose meta sub-db names its format. An empty
 * environment becomes a new store; anything else is refused. */
static int check_or_init_format(es_db *db, MDB_txn *txn)
{
	MDB_dbi main_dbi;
	MDB_stat st;
	int rc = mdb_dbi_open(txn, "meta", 0, &db->dbi.meta);
	if (rc == MDB_NOTFOUND) {
		if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) || (rc = mdb_stat(txn, main_dbi, &st)))
			return es__error_lmdb(rc, "opening the store");
		if (st.ms_entries != 0)
			return es__error_set(ES_EFORMAT, "'%s' holds an LMDB environment that is not an evstore store", db->path);
		if (db->read_only)
			return es__error_set(ES_ENOTFOUND, "no store at '%s'", db->path);
		return 1; /* empty: initialise */
	}
	if (rc)
		return es__error_lmdb(rc, "opening the store");
	uint64_t format = 0;
	if ((rc = es__meta_get_u64(txn, db, "format", &format, 0)))
		return rc;
	if (format == 0)
		return es__error_set(ES_EFORMAT, "'%s' is not an evstore store (no format version)", db->path);
	if (format > ES_FORMAT_VERSION)
		return es__error_set(ES_EFORMAT, "store '%s' has format version %llu, newer than this "
		                     "library reads (%d); upgrade evstore", db->path,
		                     (unsigned long long)format, ES_FORMAT_VERSION);
	return 0;
}

/* A writable open brings an older store's format version up to this one's:
 * format 2 added the journal, which an older library would not replay. */
static int upgrade_format(es_db *db, MDB_txn *txn)
{
	uint64_t format = 0;
	int rc = es__meta_get_u64(txn, db, "format", &format, 0);
	if (rc || format == ES_FORMAT_VERSION)
		return rc;
	uint8_t le[8];
	es__put_le64(le, ES_FORMAT_VERSION);
	MDB_val k = { 6, "format" }, v = { 8, le };
	rc = mdb_put(txn, db->dbi.meta, &k, &v, 0); /* before the journal starts: LMDB syncs this commit */
	return rc ? es__error_lmdb(rc, "upgrading the store's format") : 0;
}

/* Checkpoints and projection state came after format 1: a store without
 * them is still a store. */
static int open_optional(es_db *db, MDB_txn *txn, const char *name, MDB_dbi *dbi, bool *has)
{
	int rc = mdb_dbi_open(txn, name, db->read_only ? 0 : MDB_CREATE, dbi);
	*has = rc == 0;
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : es__error_lmdb(rc, "opening the store");
}

static int open_checkpoints(es_db *db, MDB_txn *txn)
{
	int rc = open_optional(db, txn, "checkpoints", &db->dbi.checkpoints, &db->has_checkpoints);
	return rc ? rc : open_optional(db, txn, "projections", &db->dbi.projections, &db->has_projections);
}

static int open_dbis(es_db *db)
{
	MDB_txn *txn;
	unsigned int flags = db->read_only ? MDB_RDONLY : 0;
	int rc;
	/* Another process may grow the map between mdb_env_open and here: adopt
	 * its size (no transaction is open yet) and try again. */
	while ((rc = mdb_txn_begin(db->env, NULL, flags, &txn)) == MDB_MAP_RESIZED)
		if ((rc = mdb_env_set_mapsize(db->env, 0)) != 0)
			break;
	if (rc)
		return es__error_lmdb(rc, "opening the store");
	int init = check_or_init_format(db, txn);
	rc = init < 0 ? init : 0;
	for (size_t i = 0; rc == 0 && i < N_DBIS; i++) {
		int lrc = mdb_dbi_open(txn, es__table_names[i], db->read_only ? 0 : MDB_CREATE, es__table_dbi(db, i));
		if (lrc)
			rc = lrc == MDB_NOTFOUND
			         ? es__error_set(ES_EFORMAT, "store '%s' lacks its '%s' table", db->path, es__table_names[i])
			         : es__error_lmdb(lrc, "opening the store");
	}
	if (rc == 0)
		rc = open_checkpoints(db, txn);
	if (rc == 0 && (init == 1 || (init == 0 && !db->read_only)))
		rc = upgrade_format(db, txn);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		return es__error_lmdb(rc, "opening the store");
	return 0; /* durable: LMDB synced the commit (a nosync store is never synced) */
}

/* An empty data file holds no store; read-only, LMDB would try to write
 * one and fail with EBADF. */
static bool empty_data_file(const char *path)
{
	char file[4096 + 16];
	struct stat st;
	snprintf(file, sizeof file, "%s/data.mdb", path);
	return stat(file, &st) == 0 && st.st_size == 0;
}

/* Counts into *found the pages in [first, last] on the free list of txn.
 * (The free list, sub-db 0, maps a txn id to an id list: a count, then the
 * page numbers.) */
static void count_free(uint64_t *found, MDB_txn *txn, uint64_t first, uint64_t last)
{
	MDB_cursor *cur;
	MDB_val k, v;
	if (mdb_cursor_open(txn, 0, &cur) != 0)
		return;
	for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t n, id;
		if (v.mv_size < sizeof n)
			continue;
		memcpy(&n, v.mv_data, sizeof n);
		for (size_t i = 1; i <= n && (i + 1) * sizeof id <= v.mv_size; i++) {
			memcpy(&id, (const char *)v.mv_data + i * sizeof id, sizeof id);
			*found += id >= first && id <= last;
		}
	}
	mdb_cursor_close(cur);
}

/* How many of the pages in [first, last] LMDB's free list holds. A commit
 * can leave the file shorter than its page count: a page it took at the
 * end and freed again is counted but need not be written, and free pages
 * are never read, so those are no truncation. The free list itself may lie
 * past the end of a truncated file, so it is read in a child process
 * (through a read begun before the fork, as treewalk.c does): a fault kills
 * only the child, and then nothing counts as free. */
static uint64_t free_pages_in(es_db *db, uint64_t first, uint64_t last)
{
	MDB_txn *txn;
	uint64_t *found = mmap(NULL, sizeof *found, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (found == MAP_FAILED)
		return 0;
	*found = 0;
	uint64_t n = 0;
	if (mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn) == 0) {
		int status = 0;
		pid_t pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);
			if (null >= 0)
				dup2(null, 2); /* a sanitizer's report of the fault: the parent says what it means */
			count_free(found, txn, first, last);
			_exit(0);
		}
		while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			n = *found;
		mdb_txn_abort(txn);
	}
	munmap(found, sizeof *found);
	return n;
}

/* A data file shorter than the pages its meta page counts (a truncated
 * copy) would fault with SIGBUS on the first read of a missing page. The
 * meta is read before the size: the file only grows. Missing pages that
 * are all free are no truncation (see free_pages_in). */
static int check_truncated(es_db *db)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat fst;
	mdb_filehandle_t fd;
	if (mdb_env_info(db->env, &info) || mdb_env_stat(db->env, &st) || mdb_env_get_fd(db->env, &fd) ||
	    fstat(fd, &fst))
		return 0; /* nothing to compare with */
	uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)fst.st_size >= need)
		return 0;
	uint64_t first_missing = ((uint64_t)fst.st_size + st.ms_psize - 1) / st.ms_psize;
	if (free_pages_in(db, first_missing, info.me_last_pgno) == info.me_last_pgno - first_missing + 1)
		return 0;
	return es__error_set(ES_ECORRUPT, "store '%s' is truncated: its data file has %llu bytes, its "
	                     "pages need %llu", db->path, (unsigned long long)fst.st_size,
	                     (unsigned long long)need);
}

static int env_open(es_db *db, const es_open_options *o)
{
	size_t map = o->map_size ? o->map_size : ES_DEFAULT_MAP_SIZE;
	/* A durable handle opens with LMDB's full sync, so what the open itself
	 * commits (a new store's tables, a format upgrade) is synced, and turns
	 * it off once its journal has started: from then on the journal makes
	 * commits durable (journal.h). */
	unsigned int flags = MDB_NOTLS | (o->nosync ? MDB_NOSYNC : 0) |
	                     (o->read_only ? MDB_RDONLY : 0);
	if (o->read_only && empty_data_file(db->path))
		return es__error_set(ES_ENOTFOUND, "no store at '%s' (its data file is empty)", db->path);
	int rc = mdb_env_create(&db->env);
	if (!rc) rc = mdb_env_set_maxdbs(db->env, 16);
	if (!rc) rc = mdb_env_set_maxreaders(db->env, 256);
	if (!rc) rc = mdb_env_set_mapsize(db->env, map);
	if (!rc) rc = mdb_env_open(db->env, db->path, flags, o->file_mode ? o->file_mode : 0600);
	if (rc == ENOENT && o->read_only)
		return es__error_set(ES_ENOTFOUND, "no store at '%s'", db->path);
	if (rc)
		return es__error_lmdb(rc, db->path);
	if ((rc = check_truncated(db)))
		return rc;
	int dead = 0;
	mdb_reader_check(db->env, &dead); /* free slots of readers that died */
	return 0;
}

static void db_free(es_db *db)
{
	es__journal_close(db);
	es_free(db->jops.buf);
	es__commit_hooks_free(db);
	pthread_rwlock_destroy(&db->hooks.lock);
	es__notify_close(db);
	if (db->env)
		mdb_env_close(db->env);
	es__type_cache_free(&db->types);
	pthread_mutex_destroy(&db->gate.lock);
	pthread_mutex_destroy(&db->group.lock);
	pthread_cond_destroy(&db->gate.cond);
	es_free(db->path);
	es_free(db);
}

int es_db_open(es_db **out, const char *path, const es_open_options *opts)
{
	es_open_options defaults = ES_OPEN_OPTIONS_INIT;
	if (!out || !path || !*path)
		return es__error_set(ES_EINVAL, "es_db_open: out and path are required");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != ES_OPEN_OPTIONS_VERSION)
		return es__error_set(ES_EINVAL, "es_db_open: unknown options version %u", opts->version);
	int rc = es__store_prepare(path, opts); /* create.c */
	if (rc)
		return rc;
	es_db *db = es_calloc(1, sizeof *db);
	if (!db || !(db->path = es__strdup(path)) || es__type_cache_init(&db->types)) {
		if (db) { es_free(db->path); es_free(db); }
		return es__error_set(ES_ENOMEM, "es_db_open: out of memory");
	}
	pthread_mutex_init(&db->gate.lock, NULL);
	pthread_mutex_init(&db->group.lock, NULL);
	pthread_cond_init(&db->gate.cond, NULL);
	pthread_rwlock_init(&db->hooks.lock, NULL);
	db->clock = opts->clock;
	db->clock_user_data = opts->clock_user_data;
	db->max_event_size = opts->max_event_size ? opts->max_event_size : ES_DEFAULT_MAX_EVENT_SIZE;
	db->read_only = opts->read_only != 0;
	db->nosync = opts->nosync != 0;
	if ((rc = es__journal_open(db, opts)) || (rc = env_open(db, opts)) || (rc = open_dbis(db)) ||
	    (rc = es__journal_start(db))) {
		db_free(db);
		return rc;
	}
	es__notify_open(db);
	*out = db;
	return 0;
}

void es_db_close(es_db *db)
{
	if (db)
		db_free(db);
}

int es_db_sync(es_db *db)
{
	if (!db)
		return es__error_set(ES_EINVAL, "es_db_sync: db is NULL");
	if (db->read_only)
		return es__error_set(ES_EREADONLY, "store '%s' is open read-only", db->path);
	if (db->journal)
		return es__journal_sync(db);
	int rc = mdb_env_sync(db->env, 1);
	return rc ? es__error_lmdb(rc, "syncing the store") : 0;
}

/* LMDB does not expose where it mapped the file (me_mapaddr is only set for
 * MDB_FIXEDMAP), so find the mappings of data.mdb by device and inode. */
static void release_file_mappings(dev_t dev, ino_t ino)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	char line[512];
	if (!maps)
		return;
	while (fgets(line, sizeof line, maps)) {
		unsigned long start, end, major, minor, inode;
		if (sscanf(line, "%lx-%lx %*s %*s %lx:%lx %lu", &start, &end, &major, &minor, &inode) == 5 &&
		    inode == (unsigned long)ino && makedev(major, minor) == dev)
			madvise((void *)start, end - start, MADV_DONTNEED);
	}
	fclose(maps);
}

int es_db_release_memory(es_db *db)
{
	char file[4096];
	struct stat st;
	if (!db)
		return es__error_set(ES_EINVAL, "es_db_release_memory: db is NULL");
	/* The map is a read-only shared file mapping (no MDB_WRITEMAP): dropping
	 * pages loses nothing, readers fault them back from the page cache. */
	snprintf(file, sizeof file, "%s/data.mdb", db->path);
	if (stat(file, &st) == 0)
		release_file_mappings(st.st_dev, st.st_ino);
	return 0;
}

ES__OPTIONS_INIT_FN(es_open_options_init, es_open_options, ES_OPEN_OPTIONS_INIT, ES_OPEN_OPTIONS_VERSION)
