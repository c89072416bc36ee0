/*
 * recorder.c - the power-loss campaign's write recorder, an LD_PRELOAD
 * library. For the files of one store directory (ES_PL_DIR) it appends to
 * the log ES_PL_LOG every call that changes a file's contents, size or name,
 * in the order they happened, with the bytes written (pl_log.h).
 *
 * What liblmdb 0.9.24 does, as strace shows for evstore: open(O_RDWR|O_CREAT)
 * of data.mdb, one pwrite64 of both meta pages for a new file, lseek+writev
 * for runs of dirty pages, pwrite64 for single pages and meta updates,
 * fdatasync, and a second O_DSYNC descriptor through which it writes meta
 * pages (evstore's durable stores use it; with MDB_NOMETASYNC LMDB would
 * write them through the first). It never writes data.mdb through a writable map
 * unless MDB_WRITEMAP is set, which evstore never sets, so these calls are
 * every change there is. lock.mdb is not recorded: its contents do not
 * survive a power cut anyway (LMDB rebuilds it).
 *
 * Order: the real call and its log record happen under one lock (a mutex
 * for the threads of a process, flock on the log for processes), so the
 * log's order is the order in which the calls took effect: a write logged
 * before a sync was issued before that sync began.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pl_log.h"

#define MAX_FDS 4096

enum { T_NONE, T_FILE, T_STORE_DIR, T_PARENT_DIR };

typedef struct tracked {
	int kind;
	int dsync;
	uint64_t ino;
	char name[256];
} tracked;

static tracked fds[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int active;
static int log_fd = -1;
static pid_t log_pid;
static char log_path[PATH_MAX];
static char store_base[256];      /* the store directory's own name */
static int prefix_mode;           /* ES_PL_PREFIX: also its siblings <name>.<suffix> */
static char parent_real[PATH_MAX]; /* its parent, resolved */

#define REAL(name, ret, ...) \
	static ret (*real_##name)(__VA_ARGS__); \
	static void resolve_##name(void) { if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name); }

REAL(open, int, const char *, int, ...)
REAL(openat, int, int, const char *, int, ...)
REAL(close, int, int)
REAL(write, ssize_t, int, const void *, size_t)
REAL(writev, ssize_t, int, const struct iovec *, int)
REAL(pwrite, ssize_t, int, const void *, size_t, off_t)
REAL(pwrite64, ssize_t, int, const void *, size_t, off_t)
REAL(pwritev, ssize_t, int, const struct iovec *, int, off_t)
REAL(pwritev64, ssize_t, int, const struct iovec *, int, off_t)
REAL(ftruncate, int, int, off_t)
REAL(ftruncate64, int, int, off_t)
REAL(fallocate, int, int, int, off_t, off_t)
REAL(posix_fallocate, int, int, off_t, off_t)
REAL(fsync, int, int)
REAL(fdatasync, int, int)
REAL(renameat2, int, int, const char *, int, const char *, unsigned int)
REAL(unlinkat, int, int, const char *, int)
REAL(mkdir, int, const char *, mode_t)

__attribute__((constructor))
static void init(void)
{
	const char *dir = getenv("ES_PL_DIR"), *log = getenv("ES_PL_LOG");
	char tmp[PATH_MAX];
	if (!dir || !log || strlen(dir) >= sizeof tmp || strlen(log) >= sizeof log_path)
		return;
	snprintf(tmp, sizeof tmp, "%s", dir);
	while (strlen(tmp) > 1 && tmp[strlen(tmp) - 1] == '/')
		tmp[strlen(tmp) - 1] = '\0';
	char *slash = strrchr(tmp, '/');
	const char *base = slash ? slash + 1 : tmp;
	if (strlen(base) >= sizeof store_base)
		return;
	memcpy(store_base, base, strlen(base) + 1);
	if (slash == tmp)
		snprintf(parent_real, sizeof parent_real, "/");
	else if (slash) {
		*slash = '\0';
		if (!realpath(tmp, parent_real))
			return;
	} else if (!realpath(".", parent_real)) {
		return;
	}
	snprintf(log_path, sizeof log_path, "%s", log);
	prefix_mode = getenv("ES_PL_PREFIX") != NULL;
	active = 1;
}

/* 1 if a directory named base, beside the store, counts as the store: the
 * store itself (*suffix "") or, with ES_PL_PREFIX, a sibling named
 * <store>.<something> (*suffix ".<something>"), such as the copy es-migrate
 * builds and then renames over the store. */
static int store_like(const char *base, const char **suffix)
{
	size_t n = strlen(store_base);
	if (strncmp(base, store_base, n) != 0 || (base[n] && (!prefix_mode || base[n] != '.')))
		return 0;
	*suffix = base + n;
	return strlen(base + n) < 100;
}

/* Where a path is: a file in the store (its name copied to name), the store
 * directory, its parent, or elsewhere. Only absolute paths and paths
 * relative to the working directory are understood (what LMDB and evstore
 * pass). Names in a sibling (ES_PL_PREFIX) are "<suffix>/<name>", and the
 * sibling directory itself is named by its suffix (the store's is "."). */
static int classify(int dirfd, const char *path, char name[256])
{
	char buf[2 * PATH_MAX], real[PATH_MAX];
	if (!active || !path)
		return T_NONE;
	if (path[0] != '/' && dirfd != AT_FDCWD)
		return T_NONE;
	if (path[0] == '/')
		snprintf(buf, sizeof buf, "%s", path);
	else {
		if (!getcwd(real, sizeof real))
			return T_NONE;
		snprintf(buf, sizeof buf, "%s/%s", real, path);
	}
	while (strlen(buf) > 1 && buf[strlen(buf) - 1] == '/')
		buf[strlen(buf) - 1] = '\0';
	if (realpath(buf, real) && strcmp(real, parent_real) == 0)
		return T_PARENT_DIR;
	char *slash = strrchr(buf, '/');
	if (!slash)
		return T_NONE;
	*slash = '\0';
	const char *base = slash + 1;
	if (!realpath(buf[0] ? buf : "/", real))
		return T_NONE;
	const char *suffix;
	if (strcmp(real, parent_real) == 0 && store_like(base, &suffix)) {
		snprintf(name, 256, "%s", suffix[0] ? suffix : ".");
		return T_STORE_DIR;
	}
	size_t n = strlen(parent_real);
	if (strncmp(real, parent_real, n) != 0 || real[n] != '/' || strchr(real + n + 1, '/') ||
	    !store_like(real + n + 1, &suffix))
		return T_NONE;
	if (strlen(base) >= 150 || strcmp(base, "lock.mdb") == 0 || strstr(base, "-lock"))
		return T_NONE;
	if (suffix[0])
		snprintf(name, 256, "%s/%s", suffix, base);
	else
		snprintf(name, 256, "%s", base);
	return T_FILE;
}

static void enter(void)
{
	pthread_mutex_lock(&lock);
	if (log_fd < 0 || log_pid != getpid()) {
		resolve_open();
		resolve_close();
		if (log_fd >= 0)
			real_close(log_fd); /* the parent's description: flock would not exclude it */
		log_fd = real_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		log_pid = getpid();
		if (log_fd < 0) {
			fprintf(stderr, "pl_recorder: cannot open the log '%s': %s\n", log_path, strerror(errno));
			abort();
		}
	}
	flock(log_fd, LOCK_EX);
}

static void leave(void)
{
	flock(log_fd, LOCK_UN);
	pthread_mutex_unlock(&lock);
}

/* Appends one record: header, names, then the bytes of iov. */
static void emit(int kind, const char *name, const char *name2, uint32_t flags, uint64_t ino,
                 uint64_t off, const struct iovec *iov, int iovcnt, size_t len)
{
	pl_rec r;
	memset(&r, 0, sizeof r);
	r.magic = PL_MAGIC;
	r.kind = (uint16_t)kind;
	r.name_len = (uint16_t)strlen(name);
	r.name2_len = name2 ? (uint32_t)strlen(name2) : 0;
	r.flags = flags;
	r.ino = ino;
	r.off = off;
	r.len = len;
	r.pid = (uint32_t)getpid();
	size_t total = sizeof r + r.name_len + r.name2_len + len;
	char *buf = malloc(total), *p = buf;
	if (!buf) {
		fprintf(stderr, "pl_recorder: out of memory\n");
		abort();
	}
	memcpy(p, &r, sizeof r);
	p += sizeof r;
	memcpy(p, name, r.name_len);
	p += r.name_len;
	if (name2)
		memcpy(p, name2, r.name2_len);
	p += r.name2_len;
	for (int i = 0; i < iovcnt && len > 0; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(p, iov[i].iov_base, n);
		p += n;
		len -= n;
	}
	resolve_write();
	if (real_write(log_fd, buf, total) != (ssize_t)total) {
		fprintf(stderr, "pl_recorder: short write to the log: %s\n", strerror(errno));
		abort();
	}
	free(buf);
}


static int tracked_fd(int fd)
{
	return active && fd >= 0 && fd < MAX_FDS && fds[fd].kind != T_NONE;
}

/* The common part of every open: classify, open, remember, log. */
static int do_open(int dirfd, const char *path, int flags, mode_t mode, int at)
{
	char name[256];
	int kind = classify(dirfd, path, name);
	if (kind == T_NONE) {
		if (at) {
			resolve_openat();
			return real_openat(dirfd, path, flags, mode);
		}
		resolve_open();
		return real_open(path, flags, mode);
	}
	struct stat st;
	enter();
	int existed = stat(path, &st) == 0;
	int fd;
	if (at) {
		resolve_openat();
		fd = real_openat(dirfd, path, flags, mode);
	} else {
		resolve_open();
		fd = real_open(path, flags, mode);
	}
	int saved = errno;
	if (fd >= 0 && fd < MAX_FDS && fstat(fd, &st) == 0) {
		tracked *t = &fds[fd];
		t->kind = kind;
		t->ino = (uint64_t)st.st_ino;
		t->dsync = (flags & (O_SYNC | O_DSYNC)) != 0;
		snprintf(t->name, sizeof t->name, "%s", kind == T_PARENT_DIR ? ".." : name);
		if (kind == T_FILE) {
			uint32_t f = (existed ? 0 : PL_F_CREATED) | (t->dsync ? PL_F_DSYNC : 0) |
			             ((flags & O_TRUNC) ? PL_F_TRUNC : 0);
			emit(PL_OPEN, t->name, NULL, f, t->ino, 0, NULL, 0, 0);
			if ((flags & O_TRUNC) && existed)
				emit(PL_TRUNC, t->name, NULL, 0, t->ino, 0, NULL, 0, 0);
		}
	}
	leave();
	errno = saved;
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

/* open and open64 are one call on a 64-bit system, as are openat and
 * openat64; each is interposed, whichever LMDB was built to call. */
#define OPEN_FN(name)                                                              \
	int name(const char *path, int flags, ...)                                 \
	{                                                                          \
		va_list ap;                                                        \
		va_start(ap, flags);                                               \
		mode_t mode = open_mode(flags, ap);                                \
		va_end(ap);                                                        \
		return do_open(AT_FDCWD, path, flags, mode, 0);                    \
	}
#define OPENAT_FN(name)                                                            \
	int name(int dirfd, const char *path, int flags, ...)                      \
	{                                                                          \
		va_list ap;                                                        \
		va_start(ap, flags);                                               \
		mode_t mode = open_mode(flags, ap);                                \
		va_end(ap);                                                        \
		return do_open(dirfd, path, flags, mode, 1);                       \
	}

OPEN_FN(open)
OPEN_FN(open64)
OPENAT_FN(openat)
OPENAT_FN(openat64)

int creat(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode, 0);
}

int close(int fd)
{
	resolve_close();
	if (!tracked_fd(fd))
		return real_close(fd);
	enter();
	fds[fd].kind = T_NONE;
	int rc = real_close(fd);
	leave();
	return rc;
}

/* A write at off (or, off < 0, at the file position) of iov. */
static ssize_t do_write(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	enter();
	off_t at = off >= 0 ? off : lseek(fd, 0, SEEK_CUR);
	ssize_t n;
	if (off >= 0) {
		resolve_pwritev();
		n = real_pwritev(fd, iov, iovcnt, off);
	} else {
		resolve_writev();
		n = real_writev(fd, iov, iovcnt);
	}
	int saved = errno;
	if (n > 0 && fds[fd].kind == T_FILE) {
		/* O_APPEND or not, the bytes landed n bytes before the new position */
		if (off < 0)
			at = lseek(fd, 0, SEEK_CUR) - n;
		emit(PL_WRITE, fds[fd].name, NULL, fds[fd].dsync ? PL_F_DSYNC : 0, fds[fd].ino,
		     (uint64_t)at, iov, iovcnt, (size_t)n);
	}
	leave();
	errno = saved;
	return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	resolve_write();
	if (!tracked_fd(fd))
		return real_write(fd, buf, len);
	struct iovec v = { (void *)buf, len };
	return do_write(fd, &v, 1, -1);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	resolve_writev();
	if (!tracked_fd(fd))
		return real_writev(fd, iov, iovcnt);
	return do_write(fd, iov, iovcnt, -1);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	resolve_pwrite();
	if (!tracked_fd(fd))
		return real_pwrite(fd, buf, len, off);
	struct iovec v = { (void *)buf, len };
	return do_write(fd, &v, 1, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	resolve_pwrite64();
	if (!tracked_fd(fd))
		return real_pwrite64(fd, buf, len, off);
	struct iovec v = { (void *)buf, len };
	return do_write(fd, &v, 1, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	resolve_pwritev();
	if (!tracked_fd(fd))
		return real_pwritev(fd, iov, iovcnt, off);
	return do_write(fd, iov, iovcnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off_t off)
{
	resolve_pwritev64();
	if (!tracked_fd(fd))
		return real_pwritev64(fd, iov, iovcnt, off);
	return do_write(fd, iov, iovcnt, off);
}

static int do_trunc(int fd, off_t size, int (*fn)(int, off_t))
{
	enter();
	int rc = fn(fd, size);
	int saved = errno;
	if (rc == 0 && fds[fd].kind == T_FILE)
		emit(PL_TRUNC, fds[fd].name, NULL, 0, fds[fd].ino, (uint64_t)size, NULL, 0, 0);
	leave();
	errno = saved;
	return rc;
}

int ftruncate(int fd, off_t size)
{
	resolve_ftruncate();
	return tracked_fd(fd) ? do_trunc(fd, size, real_ftruncate) : real_ftruncate(fd, size);
}

int ftruncate64(int fd, off_t size)
{
	resolve_ftruncate64();
	return tracked_fd(fd) ? do_trunc(fd, size, real_ftruncate64) : real_ftruncate64(fd, size);
}

/* fallocate only ever grows a file here (no punch or collapse modes are
 * used): record the growth, if any, as a size change. */
static void log_growth(int fd, off_t before)
{
	struct stat st;
	if (fds[fd].kind == T_FILE && fstat(fd, &st) == 0 && st.st_size > before)
		emit(PL_TRUNC, fds[fd].name, NULL, 0, fds[fd].ino, (uint64_t)st.st_size, NULL, 0, 0);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	resolve_fallocate();
	if (!tracked_fd(fd))
		return real_fallocate(fd, mode, off, len);
	struct stat st;
	enter();
	off_t before = fstat(fd, &st) == 0 ? st.st_size : 0;
	int rc = real_fallocate(fd, mode, off, len);
	int saved = errno;
	if (rc == 0)
		log_growth(fd, before);
	leave();
	errno = saved;
	return rc;
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	resolve_posix_fallocate();
	if (!tracked_fd(fd))
		return real_posix_fallocate(fd, off, len);
	struct stat st;
	enter();
	off_t before = fstat(fd, &st) == 0 ? st.st_size : 0;
	int rc = real_posix_fallocate(fd, off, len);
	if (rc == 0)
		log_growth(fd, before);
	leave();
	return rc;
}

static int do_sync(int fd, int (*fn)(int))
{
	enter();
	int rc = fn(fd);
	int saved = errno;
	if (rc == 0) {
		tracked *t = &fds[fd];
		if (t->kind == T_FILE)
			emit(PL_SYNC, t->name, NULL, 0, t->ino, 0, NULL, 0, 0);
		else
			emit(PL_DIRSYNC, t->name, NULL, 0, t->ino, 0, NULL, 0, 0);
	}
	leave();
	errno = saved;
	return rc;
}

int fsync(int fd)
{
	resolve_fsync();
	return tracked_fd(fd) ? do_sync(fd, real_fsync) : real_fsync(fd);
}

int fdatasync(int fd)
{
	resolve_fdatasync();
	return tracked_fd(fd) ? do_sync(fd, real_fdatasync) : real_fdatasync(fd);
}

static int do_rename(int olddir, const char *old, int newdir, const char *new, unsigned int flags)
{
	char a[256], b[256];
	int ka = classify(olddir, old, a), kb = classify(newdir, new, b);
	resolve_renameat2();
	if (ka == T_STORE_DIR && kb == T_STORE_DIR) { /* a sibling renamed over the store */
		enter();
		int rc = real_renameat2(olddir, old, newdir, new, flags);
		int saved = errno;
		if (rc == 0)
			emit(PL_RENAME, a, b, PL_F_DIR, 0, 0, NULL, 0, 0);
		leave();
		errno = saved;
		return rc;
	}
	if (ka != T_FILE && kb != T_FILE)
		return real_renameat2(olddir, old, newdir, new, flags);
	enter();
	int rc = real_renameat2(olddir, old, newdir, new, flags);
	int saved = errno;
	/* A file renamed in from elsewhere appears under its new name: the
	 * generator treats that as a new name for an unknown (empty) file. */
	if (rc == 0)
		emit(PL_RENAME, ka == T_FILE ? a : "", kb == T_FILE ? b : "", 0, 0, 0, NULL, 0, 0);
	leave();
	errno = saved;
	return rc;
}

int rename(const char *old, const char *new)
{
	return do_rename(AT_FDCWD, old, AT_FDCWD, new, 0);
}

int renameat(int olddir, const char *old, int newdir, const char *new)
{
	return do_rename(olddir, old, newdir, new, 0);
}

int renameat2(int olddir, const char *old, int newdir, const char *new, unsigned int flags)
{
	return do_rename(olddir, old, newdir, new, flags);
}

static int do_unlink(int dirfd, const char *path, int flags)
{
	char name[256];
	resolve_unlinkat();
	if (classify(dirfd, path, name) != T_FILE || (flags & AT_REMOVEDIR))
		return real_unlinkat(dirfd, path, flags);
	enter();
	int rc = real_unlinkat(dirfd, path, flags);
	int saved = errno;
	if (rc == 0)
		emit(PL_UNLINK, name, NULL, 0, 0, 0, NULL, 0, 0);
	leave();
	errno = saved;
	return rc;
}

int unlink(const char *path)
{
	return do_unlink(AT_FDCWD, path, 0);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	return do_unlink(dirfd, path, flags);
}

int mkdir(const char *path, mode_t mode)
{
	char name[256];
	resolve_mkdir();
	if (classify(AT_FDCWD, path, name) != T_STORE_DIR)
		return real_mkdir(path, mode);
	enter();
	int rc = real_mkdir(path, mode);
	int saved = errno;
	if (rc == 0)
		emit(PL_MKDIR, name, NULL, 0, 0, 0, NULL, 0, 0);
	leave();
	errno = saved;
	return rc;
}
