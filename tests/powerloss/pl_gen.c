/*
 * pl_gen.c - the crash-state generator: from the write log and a cut point
 * (the number of log records that happened before the power went), the
 * contents a store directory could hold after the cut.
 *
 * The model, per file (told apart by inode):
 *   - every write before the file's last barrier (fsync, fdatasync) before
 *     the cut is there, and so is every write made through an O_SYNC or
 *     O_DSYNC descriptor;
 *   - each later write, split at 4 KiB file pages, is there or not at
 *     random (PL_CLEAN: none is); a later page may survive while an earlier
 *     write of it is lost, as write-back allows; a kept page past the
 *     durable end makes the file that long;
 *   - a size change (ftruncate, fallocate) counts only once a barrier
 *     follows it;
 *   - PL_TORN: one of the kept pages is torn, only its first 512-byte
 *     sectors written;
 *   - names: a file's creation, a rename and an unlink are durable at once
 *     (as ext4, xfs and btrfs journal them in order), except in PL_POSIX,
 *     where they are durable only once the directory is fsynced after them
 *     (and the store directory itself only once its parent is); a sibling
 *     directory renamed over the store (es-migrate's copy, ES_PL_PREFIX)
 *     brings its names along;
 *   - PL_BROKEN is wrong on purpose: each file's durable contents lag one
 *     barrier behind, so synced writes are lost too. The checks must see it.
 * lock.mdb is never written: LMDB rebuilds it on open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash.h"
#include "pl.h"

#define PAGE 4096
#define SECTOR 512

const char *const pl_mode_names[PL_NMODES] = { "clean", "random", "torn", "posix", "broken" };

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "pl_campaign: out of memory\n");
		exit(2);
	}
	return p;
}

int pl_log_open(pl_log *log, const char *path)
{
	memset(log, 0, sizeof *log);
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "pl_campaign: cannot read the log '%s': %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	log->size = (size_t)st.st_size;
	log->map = log->size ? mmap(NULL, log->size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (log->map == MAP_FAILED) {
		fprintf(stderr, "pl_campaign: cannot map the log '%s': %s\n", path, strerror(errno));
		return -1;
	}
	/* Each record's header or cr_record is copied into one aligned slot of
	 * `copies`; the ops point at their slots once the array stops moving. */
	typedef union slot { pl_rec rec; cr_record cr; } slot;
	size_t cap = 0;
	slot *copies = NULL;
	const uint8_t *p = log->map, *end = p + log->size;
	while (p < end) {
		uint32_t magic;
		pl_op op;
		memset(&op, 0, sizeof op);
		if ((size_t)(end - p) < sizeof magic)
			break;
		if (log->n == cap) {
			cap = cap ? cap * 2 : 1024;
			log->ops = xrealloc(log->ops, cap * sizeof *log->ops);
			copies = xrealloc(copies, cap * sizeof *copies);
		}
		slot *c = &copies[log->n];
		memcpy(&magic, p, sizeof magic);
		if (magic == CR_MAGIC && (size_t)(end - p) >= sizeof(cr_record)) {
			memcpy(&c->cr, p, sizeof c->cr);
			op.note = c; /* for now: fixed below */
			p += sizeof(cr_record);
		} else if (magic == PL_MAGIC && (size_t)(end - p) >= sizeof(pl_rec)) {
			memcpy(&c->rec, p, sizeof c->rec);
			size_t need = sizeof c->rec + c->rec.name_len + c->rec.name2_len + c->rec.len;
			if ((size_t)(end - p) < need)
				break;
			op.rec = &c->rec;
			op.name = (const char *)p + sizeof c->rec;
			op.name2 = op.name + c->rec.name_len;
			op.data = (const uint8_t *)op.name2 + c->rec.name2_len;
			if (c->rec.kind == PL_NOTE)
				op.note = op.data;
			p += need;
		} else {
			break;
		}
		log->ops[log->n++] = op;
	}
	for (size_t i = 0; i < log->n; i++) { /* copies has stopped moving */
		if (log->ops[i].rec)
			log->ops[i].rec = &copies[i].rec;
		else
			log->ops[i].note = &copies[i].cr;
	}
	log->copies = copies;
	if (p != end) {
		fprintf(stderr, "pl_campaign: the log '%s' is malformed at byte %zu\n", path,
		        (size_t)(p - (const uint8_t *)log->map));
		pl_log_close(log);
		return -1;
	}
	return 0;
}

void pl_log_close(pl_log *log)
{
	if (log->map && log->size)
		munmap(log->map, log->size);
	free(log->ops);
	free(log->copies);
	memset(log, 0, sizeof *log);
}

/* ---- the model ---- */

typedef struct gfile {
	uint64_t ino;
	uint8_t *bytes;           /* durable contents */
	size_t size, cap;
	size_t *pending, n_pending, cap_pending;  /* log indexes since the last barrier */
	size_t *lagging, n_lagging, cap_lagging;  /* PL_BROKEN: the last barrier's writes */
} gfile;

typedef struct gname {
	char name[256];
	uint64_t ino;             /* 0: a file the log knows nothing of (empty) */
} gname;

typedef struct names {
	gname *v;
	size_t n, cap;
} names;

typedef struct gen {
	const pl_log *log;
	int mode;
	uint64_t rng;
	gfile *files;
	size_t n_files, cap_files;
	names cur, dur;           /* names now; names durable (differ only in PL_POSIX) */
	size_t *ns_pending, n_ns, cap_ns;  /* namespace ops awaiting a directory fsync */
	int made, made_durable;   /* the log made the store directory; that is durable */
	size_t pieces, torn_piece;
	double keep;
} gen;

static gfile *file_of(gen *g, uint64_t ino)
{
	for (size_t i = 0; i < g->n_files; i++)
		if (g->files[i].ino == ino)
			return &g->files[i];
	if (g->n_files == g->cap_files) {
		g->cap_files = g->cap_files ? g->cap_files * 2 : 8;
		g->files = xrealloc(g->files, g->cap_files * sizeof *g->files);
	}
	gfile *f = &g->files[g->n_files++];
	memset(f, 0, sizeof *f);
	f->ino = ino;
	return f;
}

static void push(size_t **v, size_t *n, size_t *cap, size_t x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}

static void set_size(gfile *f, size_t size)
{
	if (size > f->cap) {
		size_t cap = f->cap ? f->cap : PAGE;
		while (cap < size)
			cap *= 2;
		f->bytes = xrealloc(f->bytes, cap);
		f->cap = cap;
	}
	if (size > f->size)
		memset(f->bytes + f->size, 0, size - f->size);
	f->size = size;
}

static void put(gfile *f, uint64_t off, const uint8_t *data, size_t len)
{
	if (off + len > f->size)
		set_size(f, off + len);
	memcpy(f->bytes + off, data, len);
}

/* Applies a write or size change to the durable contents. */
static void apply(const pl_op *op, gfile *f)
{
	if (op->rec->kind == PL_WRITE)
		put(f, op->rec->off, op->data, op->rec->len);
	else if (op->rec->kind == PL_TRUNC)
		set_size(f, op->rec->off);
}

static gname *name_find(names *ns, const char *name, size_t len)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->v[i].name) == len && memcmp(ns->v[i].name, name, len) == 0)
			return &ns->v[i];
	return NULL;
}

static void name_set(names *ns, const char *name, size_t len, uint64_t ino)
{
	gname *e = name_find(ns, name, len);
	if (!e) {
		if (ns->n == ns->cap) {
			ns->cap = ns->cap ? ns->cap * 2 : 8;
			ns->v = xrealloc(ns->v, ns->cap * sizeof *ns->v);
		}
		e = &ns->v[ns->n++];
		snprintf(e->name, sizeof e->name, "%.*s", (int)len, name);
	}
	e->ino = ino;
}

static void name_drop(names *ns, const char *name, size_t len)
{
	gname *e = name_find(ns, name, len);
	if (e)
		*e = ns->v[--ns->n];
}

/* A sibling directory (ES_PL_PREFIX) renamed over the store: its names
 * "<suffix>/<name>" become the store's, which it replaces. */
static void ns_rename_dir(names *ns, const pl_op *op)
{
	size_t n = op->rec->name_len;
	for (size_t i = 0; i < ns->n;) /* the store directory it replaces held nothing */
		if (!strchr(ns->v[i].name, '/'))
			ns->v[i] = ns->v[--ns->n];
		else
			i++;
	for (size_t i = 0; i < ns->n; i++) {
		gname *e = &ns->v[i];
		if (strncmp(e->name, op->name, n) == 0 && e->name[n] == '/')
			memmove(e->name, e->name + n + 1, strlen(e->name + n + 1) + 1);
	}
}

/* A creation, rename or unlink, applied to one view of the directory. */
static void ns_apply(names *ns, const pl_op *op)
{
	const pl_rec *r = op->rec;
	if (r->kind == PL_RENAME && (r->flags & PL_F_DIR)) {
		ns_rename_dir(ns, op);
	} else if (r->kind == PL_OPEN) {
		name_set(ns, op->name, r->name_len, r->ino);
	} else if (r->kind == PL_UNLINK) {
		name_drop(ns, op->name, r->name_len);
	} else if (r->kind == PL_RENAME) {
		gname *from = r->name_len ? name_find(ns, op->name, r->name_len) : NULL;
		uint64_t ino = from ? from->ino : 0;
		if (from)
			name_drop(ns, op->name, r->name_len);
		if (r->name2_len)
			name_set(ns, op->name2, r->name2_len, ino);
	}
}

static void ns_op(gen *g, size_t i)
{
	ns_apply(&g->cur, &g->log->ops[i]);
	if (g->mode == PL_POSIX)
		push(&g->ns_pending, &g->n_ns, &g->cap_ns, i);
	else
		ns_apply(&g->dur, &g->log->ops[i]);
}

/* The directory a namespace op changes: ".." for a directory rename, a
 * sibling's suffix for its files, "." for the store's. */
static void op_dir(const pl_op *op, const char **dir, size_t *len)
{
	const pl_rec *r = op->rec;
	const char *name = r->name_len ? op->name : op->name2;
	size_t n = r->name_len ? r->name_len : r->name2_len;
	const char *slash = memchr(name, '/', n);
	if (r->kind == PL_RENAME && (r->flags & PL_F_DIR)) {
		*dir = "..";
		*len = 2;
	} else if (slash) {
		*dir = name;
		*len = (size_t)(slash - name);
	} else {
		*dir = ".";
		*len = 1;
	}
}

/* PL_POSIX: the pending namespace ops of the directory just fsynced become
 * durable, in order; the others stay pending. */
static void dir_synced(gen *g, const char *dir, size_t len)
{
	size_t kept = 0;
	for (size_t k = 0; k < g->n_ns; k++) {
		const pl_op *op = &g->log->ops[g->ns_pending[k]];
		const char *d;
		size_t n;
		op_dir(op, &d, &n);
		if (n == len && memcmp(d, dir, len) == 0)
			ns_apply(&g->dur, op);
		else
			g->ns_pending[kept++] = g->ns_pending[k];
	}
	g->n_ns = kept;
}

static void barrier(gen *g, gfile *f)
{
	size_t *done = f->pending, n = f->n_pending;
	if (g->mode == PL_BROKEN) {
		/* the previous barrier's writes become durable, this one's lag */
		for (size_t k = 0; k < f->n_lagging; k++)
			apply(&g->log->ops[f->lagging[k]], f);
		f->n_lagging = 0;
		for (size_t k = 0; k < n; k++)
			push(&f->lagging, &f->n_lagging, &f->cap_lagging, done[k]);
	} else {
		for (size_t k = 0; k < n; k++)
			apply(&g->log->ops[done[k]], f);
	}
	f->n_pending = 0;
}

static void replay(gen *g, size_t cut)
{
	for (size_t i = 0; i < cut && i < g->log->n; i++) {
		const pl_op *op = &g->log->ops[i];
		const pl_rec *r = op->rec;
		if (!r)
			continue;
		switch (r->kind) {
		case PL_OPEN:
			file_of(g, r->ino);
			if (r->flags & PL_F_CREATED) {
				ns_op(g, i);
			} else if (!name_find(&g->cur, op->name, r->name_len)) {
				/* there before the log began */
				name_set(&g->cur, op->name, r->name_len, r->ino);
				name_set(&g->dur, op->name, r->name_len, r->ino);
			}
			break;
		case PL_WRITE:
		case PL_TRUNC: {
			gfile *f = file_of(g, r->ino);
			if (r->kind == PL_WRITE && (r->flags & PL_F_DSYNC))
				apply(op, f);
			else
				push(&f->pending, &f->n_pending, &f->cap_pending, i);
			break;
		}
		case PL_SYNC:
			barrier(g, file_of(g, r->ino));
			break;
		case PL_RENAME:
		case PL_UNLINK:
			ns_op(g, i);
			break;
		case PL_MKDIR:
			if (r->name_len != 1)
				break; /* a sibling (ES_PL_PREFIX): only its files are followed */
			g->made = 1;
			g->made_durable = g->mode != PL_POSIX;
			break;
		case PL_DIRSYNC:
			if (r->name_len == 2 && memcmp(op->name, "..", 2) == 0)
				g->made_durable = g->made;
			dir_synced(g, op->name, r->name_len);
			break;
		default:
			break;
		}
	}
}

/* One piece of a pending write (within one 4 KiB file page): kept or not,
 * maybe torn. */
static void piece(gen *g, gfile *out, uint64_t off, const uint8_t *data, size_t len)
{
	size_t index = g->pieces++;
	if (g->mode == PL_CLEAN || g->mode == PL_BROKEN)
		return;
	if ((double)(cr_rand(&g->rng) >> 11) / 9007199254740992.0 >= g->keep)
		return;
	if (g->mode == PL_TORN && index == g->torn_piece) {
		/* only the sectors before a random one reach the disk */
		uint64_t cut = (off / SECTOR + 1 + cr_rand(&g->rng) % (PAGE / SECTOR)) * SECTOR;
		if (cut <= off)
			return;
		if (cut < off + len)
			len = (size_t)(cut - off);
	}
	put(out, off, data, len);
}

static void crash_pending(gen *g, gfile *out, const gfile *f)
{
	for (size_t k = 0; k < f->n_pending; k++) {
		const pl_op *op = &g->log->ops[f->pending[k]];
		if (op->rec->kind != PL_WRITE)
			continue; /* size changes count only after a barrier */
		uint64_t off = op->rec->off, end = off + op->rec->len;
		while (off < end) {
			uint64_t next = (off / PAGE + 1) * PAGE;
			if (next > end)
				next = end;
			piece(g, out, off, op->data + (off - op->rec->off), (size_t)(next - off));
			off = next;
		}
	}
}

static int write_file(const char *dir, const char *name, const gfile *f)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t done = 0;
	while (fd >= 0 && done < f->size) {
		ssize_t n = write(fd, f->bytes + done, f->size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (fd < 0 || done != f->size || close(fd) != 0) {
		fprintf(stderr, "pl_campaign: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void gen_free(gen *g)
{
	for (size_t i = 0; i < g->n_files; i++) {
		free(g->files[i].bytes);
		free(g->files[i].pending);
		free(g->files[i].lagging);
	}
	free(g->files);
	free(g->cur.v);
	free(g->dur.v);
	free(g->ns_pending);
}

int pl_state_write(const pl_log *log, size_t cut, int mode, uint64_t seed, const char *dir)
{
	gen g;
	memset(&g, 0, sizeof g);
	g.log = log;
	g.mode = mode;
	g.rng = seed;
	g.keep = 0.1 + (double)(cr_rand(&g.rng) % 81) / 100.0; /* 10% .. 90% of pieces kept */
	replay(&g, cut);
	size_t total = 0;
	for (size_t i = 0; i < g.n_files; i++)
		for (size_t k = 0; k < g.files[i].n_pending; k++) {
			const pl_rec *r = log->ops[g.files[i].pending[k]].rec;
			total += r->kind == PL_WRITE ? (size_t)(r->len / PAGE + 2) : 0;
		}
	g.torn_piece = total ? (size_t)(cr_rand(&g.rng) % total) : 0;
	int rc = 0;
	if (g.made && !g.made_durable) {
		rc = 1;
	} else {
		for (size_t i = 0; rc == 0 && i < g.dur.n; i++) {
			gfile out, empty;
			memset(&out, 0, sizeof out);
			memset(&empty, 0, sizeof empty);
			const gname *e = &g.dur.v[i];
			if (strcmp(e->name, "lock.mdb") == 0 || strstr(e->name, "-lock") || strchr(e->name, '/'))
				continue; /* a sibling's files are not the store's */
			gfile *f = e->ino ? file_of(&g, e->ino) : &empty;
			set_size(&out, f->size);
			if (f->size)
				memcpy(out.bytes, f->bytes, f->size);
			crash_pending(&g, &out, f);
			rc = write_file(dir, e->name, &out);
			free(out.bytes);
		}
	}
	gen_free(&g);
	return rc;
}
