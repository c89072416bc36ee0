/*
 * create.c - making a new store so that a power cut at any moment leaves
 * either no store or a whole one.
 *
 * LMDB creates data.mdb in place: one 8 KiB pwrite of both meta pages, not
 * synced until the first commit's fdatasync. A cut before that leaves a
 * data.mdb of 4096 bytes, or with a meta page zeroed or torn, which every
 * later open refuses as "not an LMDB file" (MDB_INVALID): the store is
 * bricked until someone deletes it by hand. So evstore builds a new store
 * aside, as data.mdb.new (an LMDB environment of its own, MDB_NOSUBDIR),
 * commits its tables and format version with LMDB's full sync, renames it
 * over data.mdb and fsyncs the directory and its parent, which makes the
 * names durable too (POSIX does not promise that a file's fsync does). A
 * data.mdb that exists is therefore whole. Creators in several processes are
 * serialised by flock on the store directory, so only one builds.
 *
 * A store left by an older evstore that was cut while it was being created
 * is recognised by its meta pages (none valid with a committed
 * transaction: nothing was ever acknowledged from it) and built afresh; the
 * old file is kept as data.mdb.unfinished.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "es_fsync.h"
#include "metapage.h"

#define NAME_MAX_LEN (PATH_MAX + 32)

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* 1 if the data file never finished its first commit: no meta page holds a
 * committed transaction, and its meta pages are not merely damaged (one of
 * them is valid, or they were never written: short or all zero). Such a
 * file holds nothing that was ever acknowledged. */
static int unfinished(const char *file)
{
	uint8_t buf[2 * 65536];
	long ps = sysconf(_SC_PAGESIZE);
	size_t page = ps > 0 && ps <= 65536 ? (size_t)ps : 4096;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = pread(fd, buf, 2 * page, 0);
	close(fd);
	if (n < 0)
		return 0;
	size_t have = (size_t)n;
	uint64_t t0 = 0, t1 = 0;
	int v0 = es__meta_page_valid(buf, have, &t0);
	int v1 = have > page && es__meta_page_valid(buf + page, have - page, &t1);
	if ((v0 && t0 > 0) || (v1 && t1 > 0))
		return 0;
	if (v0 && v1)
		return 0; /* a whole empty environment: LMDB opens it, evstore initialises it */
	return v0 || v1 || have < 2 * page || all_zero(buf, have);
}

/* Builds the store in tmp: every table and the format version, synced. */
static int build(const char *tmp, const es_open_options *o)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi, meta = 0;
	uint8_t le[8];
	int rc = mdb_env_create(&env);
	if (!rc) rc = mdb_env_set_maxdbs(env, 16);
	if (!rc) rc = mdb_env_set_mapsize(env, o->map_size ? o->map_size : ES_DEFAULT_MAP_SIZE);
	if (!rc) rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOTLS, o->file_mode ? o->file_mode : 0600);
	if (!rc) rc = mdb_txn_begin(env, NULL, 0, &txn);
	for (size_t i = 0; !rc && i < ES__N_TABLES; i++) {
		rc = mdb_dbi_open(txn, es__table_names[i], MDB_CREATE, &dbi);
		if (i == 0) /* meta comes first */
			meta = dbi;
	}
	es__put_le64(le, ES_FORMAT_VERSION);
	MDB_val k = { 6, "format" }, v = { 8, le };
	if (!rc) rc = mdb_put(txn, meta, &k, &v, 0);
	if (!rc) {
		rc = mdb_txn_commit(txn); /* without MDB_NOSYNC/NOMETASYNC: data and meta synced */
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	if (rc) {
		char what[NAME_MAX_LEN + 32];
		snprintf(what, sizeof what, "creating the store file '%s'", tmp);
		return es__error_lmdb(rc, what);
	}
	return 0;
}

static int fsync_error(int err, const char *what)
{
	return err ? es__error_errno(err, what) : 0;
}

/* path/name into buf: 0, or ES_EINVAL (and the message) when too long. */
static int join(char buf[NAME_MAX_LEN], const char *path, const char *name)
{
	int n = snprintf(buf, NAME_MAX_LEN, "%s/%s", path, name);
	return n >= 0 && n < NAME_MAX_LEN ? 0 : es__error_set(ES_EINVAL, "store path '%s' is too long", path);
}

/* With the directory locked: makes data.mdb if it is absent or unfinished. */
static int create_locked(const char *path, const es_open_options *o)
{
	char data[NAME_MAX_LEN], tmp[NAME_MAX_LEN], tmp_lock[NAME_MAX_LEN], aside[NAME_MAX_LEN];
	struct stat st;
	int rc;
	if ((rc = join(data, path, "data.mdb")) || (rc = join(tmp, path, "data.mdb.new")) ||
	    (rc = join(tmp_lock, path, "data.mdb.new-lock")) || (rc = join(aside, path, "data.mdb.unfinished")))
		return rc;
	if (stat(data, &st) == 0) {
		if (!unfinished(data))
			return 0; /* made by another process meanwhile, or a store */
		if (rename(data, aside) != 0)
			return es__error_errno(errno, data);
	} else if (errno != ENOENT) {
		return es__error_errno(errno, data);
	}
	unlink(tmp); /* what an interrupted creation left */
	unlink(tmp_lock);
	rc = build(tmp, o);
	if (rc == 0 && rename(tmp, data) != 0)
		rc = es__error_errno(errno, data);
	unlink(tmp_lock);
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* data.mdb's name in the directory, and the directory's in its parent */
	if ((rc = fsync_error(es__fsync_dir(path), path)))
		return rc;
	return fsync_error(es__fsync_parent(path), path);
}

int es__store_prepare(const char *path, const es_open_options *o)
{
	char data[NAME_MAX_LEN];
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return es__error_set(ES_EFORMAT, "'%s' is not a directory, so not a store", path);
	} else if (errno != ENOENT) {
		return es__error_errno(errno, path);
	} else if (o->read_only) {
		return es__error_set(ES_ENOTFOUND, "no store at '%s'", path);
	} else if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		return es__error_errno(errno, path);
	}
	int rc = join(data, path, "data.mdb");
	if (rc)
		return rc;
	int present = stat(data, &st) == 0;
	if (present && !unfinished(data))
		return 0;
	if (o->read_only)
		return present ? es__error_set(ES_ENOTFOUND, "no store at '%s': its creation was cut short "
		                               "(data.mdb never finished its first commit); open it "
		                               "writable to create it afresh", path)
		               : 0; /* LMDB says what is missing */
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return es__error_errno(errno, path);
	if (flock(dfd, LOCK_EX) != 0)
		rc = es__error_errno(errno, path);
	else
		rc = create_locked(path, o);
	close(dfd); /* and the lock with it */
	return rc;
}
