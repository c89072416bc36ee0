/*
 * jfile.c - the journal file: making it, its locks, its two header slots and
 * its record heads (the layout is in journal.h).
 *
 * Locks are open-file-description locks (F_OFD_*), so two handles in one
 * process exclude each other as two processes do, and closing some other
 * descriptor of the file releases nothing. Byte 0 is the open lock: a
 * writable open tries it exclusive to learn whether it is the first handle
 * (then it may recover and start an epoch), and holds it shared after.
 * Byte 1 serialises header writes (jcheckpoint.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "es_alloc.h"
#include "es_fsync.h"
#include "db.h"
#include "journal.h"

#define HEAD_MAGIC "ESJHEAD1"
#define HEAD_LEN 368u /* checksum, then HEAD_MAGIC and the fields */
#define REC_MAGIC 0x524a5345u /* "ESJR" */

static int lock_byte(int fd, short type, off_t at, bool wait)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = at, .l_len = 1 };
	int rc;
	while ((rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl)) != 0 && errno == EINTR)
		;
	return rc == 0 ? 0 : errno;
}

int es__pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w, n -= (size_t)w, off += (uint64_t)w;
	}
	return 0;
}

/* Writes zero bytes to fd from `from` to size: the journal is preallocated
 * with real blocks, so a record's fdatasync has no block allocation to
 * commit. */
static int zero_fill(int fd, uint64_t from, uint64_t size)
{
	static const uint8_t zeros[1 << 16];
	for (uint64_t at = from; at < size; at += sizeof zeros) {
		int err = es__pwrite_all(fd, zeros, size - at < sizeof zeros ? (size_t)(size - at) : sizeof zeros, at);
		if (err)
			return err;
	}
	return fdatasync(fd) ? errno : 0;
}

/* Makes the journal aside and links it into place, so a journal that exists
 * is whole (a power cut cannot leave one half zeroed), and two first opens
 * cannot both make one. */
static int create_file(const char *path, uint64_t size, unsigned int mode)
{
	static _Atomic unsigned int made;
	char tmp[4400];
	snprintf(tmp, sizeof tmp, "%s.new-%ld-%u", path, (long)getpid(), made++);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode ? mode : 0600);
	if (fd < 0)
		return errno;
	int err = zero_fill(fd, 0, size);
	close(fd);
	if (!err && link(tmp, path) != 0 && errno != EEXIST)
		err = errno;
	unlink(tmp);
	return err ? err : es__fsync_parent(path);
}

static int open_fd(es_journal *j, const char *path, bool read_only, uint64_t size, unsigned int mode)
{
	for (int tries = 0; tries < 2; tries++) {
		j->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (j->fd >= 0 || errno != ENOENT)
			break;
		if (read_only)
			return ES_ENOTFOUND;
		int err = create_file(path, size, mode);
		if (err)
			return es__error_errno(err, path);
	}
	return j->fd >= 0 ? 0 : es__error_errno(errno, path);
}

int es__jfile_open(es_journal *j, const char *dir, bool read_only, uint64_t size, unsigned int mode)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, ES__JOURNAL_FILE);
	int rc = open_fd(j, path, read_only, size, mode);
	if (rc)
		return rc;
	int err = 0;
	j->first = !read_only && lock_byte(j->fd, F_WRLCK, 0, false) == 0;
	if (!j->first)
		err = lock_byte(j->fd, F_RDLCK, 0, true);
	if (!err && fstat(j->fd, &st) != 0)
		err = errno;
	if (err)
		return es__error_errno(err, path);
	j->size = (uint64_t)st.st_size;
	return 0;
}

int es__jfile_grow(es_journal *j, uint64_t size)
{
	int err = zero_fill(j->fd, j->size, size);
	if (err)
		return es__error_errno(err, "growing the journal");
	j->size = size;
	return 0;
}

int es__jfile_share(es_journal *j)
{
	int err = j->first ? lock_byte(j->fd, F_RDLCK, 0, true) : 0;
	return err ? es__error_errno(err, "sharing the journal's lock") : 0;
}

bool es__jfile_last(es_journal *j)
{
	return lock_byte(j->fd, F_WRLCK, 0, false) == 0;
}

void es__jfile_close(es_journal *j)
{
	if (j->fd >= 0)
		close(j->fd); /* releases its locks */
	j->fd = -1;
}

static void header_encode(uint8_t *b, const es_jheader *h)
{
	memset(b, 0, HEAD_LEN);
	memcpy(b + 8, HEAD_MAGIC, 8);
	es__put_le64(b + 16, h->seq);
	es__put_le64(b + 24, h->epoch);
	es__put_le64(b + 32, h->salt);
	es__put_le64(b + 40, h->cp_txnid);
	es__put_le64(b + 48, h->cp_tail);
	es__put_le32(b + 56, h->clean);
	es__put_le32(b + 60, h->psize);
	memcpy(b + 64, h->boot, sizeof h->boot);
	memcpy(b + 104, h->meta, sizeof h->meta);
	es__put_le64(b + 360, h->max_size);
	es__put_le64(b, XXH3_64bits(b + 8, HEAD_LEN - 8));
}

static bool header_decode(es_jheader *h, const uint8_t *b)
{
	if (memcmp(b + 8, HEAD_MAGIC, 8) != 0 || es__get_le64(b) != XXH3_64bits(b + 8, HEAD_LEN - 8))
		return false;
	h->seq = es__get_le64(b + 16);
	h->epoch = es__get_le64(b + 24);
	h->salt = es__get_le64(b + 32);
	h->cp_txnid = es__get_le64(b + 40);
	h->cp_tail = es__get_le64(b + 48);
	h->clean = es__get_le32(b + 56);
	h->psize = es__get_le32(b + 60);
	memcpy(h->boot, b + 64, sizeof h->boot);
	h->boot[sizeof h->boot - 1] = '\0';
	memcpy(h->meta, b + 104, sizeof h->meta);
	h->max_size = es__get_le64(b + 360);
	return true;
}

int es__jfile_header_read(es_journal *j, es_jheader *out)
{
	uint8_t b[2][HEAD_LEN];
	es_jheader h[2];
	bool ok[2];
	for (int i = 0; i < 2; i++)
		ok[i] = pread(j->fd, b[i], HEAD_LEN, (off_t)i * ES__JSLOT_SIZE) == HEAD_LEN && header_decode(&h[i], b[i]);
	if (!ok[0] && !ok[1])
		return ES_ENOTFOUND;
	*out = h[ok[1] && (!ok[0] || h[1].seq > h[0].seq)];
	return 0;
}

int es__jfile_header_write(es_journal *j, es_jheader *h)
{
	uint8_t b[HEAD_LEN];
	h->seq++;
	header_encode(b, h);
	off_t at = (off_t)(h->seq % 2) * ES__JSLOT_SIZE;
	int err = es__pwrite_all(j->fd, b, HEAD_LEN, (uint64_t)at);
	if (!err && fdatasync(j->fd) != 0)
		err = errno;
	return err ? es__error_errno(err, "writing the journal's header") : 0;
}

void es__jrec_seal(const es_journal *j, uint8_t *out, const es_jrec *r)
{
	memset(out, 0, ES__JREC_HEAD);
	es__put_le32(out + 8, REC_MAGIC);
	es__put_le32(out + 12, r->kind);
	es__put_le32(out + 16, r->body_len);
	es__put_le64(out + 24, r->epoch);
	es__put_le64(out + 32, r->txnid);
	es__put_le64(out + 40, r->offset);
	size_t n = ES__JREC_HEAD - 8 + (r->kind == ES__JREC ? r->body_len : 0);
	es__put_le64(out, XXH3_64bits_withSeed(out + 8, n, j->salt));
}

int es__jrec_read(es_journal *j, uint64_t off, uint64_t txnid, es_jrec *r, uint8_t **body)
{
	uint8_t head[ES__JREC_HEAD];
	*body = NULL;
	if (off + ES__JREC_HEAD > j->size || pread(j->fd, head, sizeof head, (off_t)off) != sizeof head)
		return 1;
	*r = (es_jrec){ es__get_le32(head + 12), es__get_le32(head + 16), es__get_le64(head + 24),
	                es__get_le64(head + 32), es__get_le64(head + 40) };
	if (es__get_le32(head + 8) != REC_MAGIC || r->epoch != j->epoch || r->txnid != txnid ||
	    r->offset != off || (r->kind != ES__JREC && r->kind != ES__JWRAP) ||
	    r->body_len > j->size - off - ES__JREC_HEAD)
		return 1;
	size_t len = r->kind == ES__JREC ? r->body_len : 0;
	uint8_t *buf = es_malloc(ES__JREC_HEAD + len);
	if (!buf)
		return es__error_set(ES_ENOMEM, "out of memory reading the journal");
	memcpy(buf, head, sizeof head);
	if ((len && pread(j->fd, buf + ES__JREC_HEAD, len, (off_t)(off + ES__JREC_HEAD)) != (ssize_t)len) ||
	    es__get_le64(buf) != XXH3_64bits_withSeed(buf + 8, ES__JREC_HEAD - 8 + len, j->salt)) {
		es_free(buf);
		return 1;
	}
	*body = buf;
	return 0;
}

void es__boot_id(char out[40])
{
	const char *env = getenv("EVSTORE_BOOT_ID");
	memset(out, 0, 40);
	if (env && *env) {
		snprintf(out, 40, "%s", env);
		return;
	}
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!f || !fgets(out, 40, f))
		snprintf(out, 40, "unknown");
	if (f)
		fclose(f);
	out[strcspn(out, "\n")] = '\0';
}
