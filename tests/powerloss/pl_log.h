/*
 * pl_log.h - the power-loss campaign's write log: what the recorder
 * (recorder.c, an LD_PRELOAD library) appends for every call that changes a
 * file of the watched store directory, and what the generator (pl_gen.c)
 * reads back to build crash states.
 *
 * The log is one file, opened O_APPEND by every process that writes it;
 * each record is one write(2), so records of several processes and threads
 * never interleave. A record is either a pl_rec (PL_MAGIC) followed by the
 * file's name and the written bytes, or one whole cr_record (CR_MAGIC) that a
 * workload wrote: the intents and acknowledgements of tests/crash/crash.h,
 * in the same order as the writes around them.
 */
#ifndef ES_PL_LOG_H
#define ES_PL_LOG_H

#include <stdint.h>

#define PL_MAGIC 0x504c4f47u /* "PLOG" */

enum pl_kind {
	PL_OPEN = 1,   /* name opened; flags = PL_F_*; a new file when PL_F_CREATED */
	PL_WRITE,      /* len bytes at off (the bytes follow the name) */
	PL_TRUNC,      /* size set to off (ftruncate, or fallocate's growth) */
	PL_SYNC,       /* fsync/fdatasync/msync: the file's writes so far are durable */
	PL_RENAME,     /* name renamed to name2 (both in the directory) */
	PL_UNLINK,     /* name removed */
	PL_MKDIR,      /* the store directory itself was made ("."; a sibling: its suffix) */
	PL_DIRSYNC,    /* a directory was fsynced: name "." (the store's), ".." (its
	                  parent) or a sibling's suffix (ES_PL_PREFIX) */
	PL_NOTE        /* free text from a workload (len bytes follow the name) */
};

#define PL_F_CREATED 1u  /* the open made the file */
#define PL_F_DSYNC 2u    /* O_SYNC or O_DSYNC: its writes are durable at return */
#define PL_F_TRUNC 4u    /* O_TRUNC */
#define PL_F_DIR 8u      /* PL_RENAME of a directory: name (a sibling's suffix) over name2 (".") */

/* Files are told apart by inode: a rename keeps the inode, and an open file
 * keeps writing to it under its new name. */
typedef struct pl_rec {
	uint32_t magic;
	uint16_t kind;
	uint16_t name_len;   /* bytes of name after the header (no NUL) */
	uint32_t name2_len;  /* PL_RENAME: bytes of the new name after the name */
	uint32_t flags;
	uint64_t ino;
	uint64_t off;
	uint64_t len;        /* PL_WRITE, PL_NOTE: bytes after the names */
	uint32_t pid;
	uint32_t unused;
} pl_rec;

#endif
