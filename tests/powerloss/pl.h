/*
 * pl.h - the power-loss campaign's pieces: the parsed write log, the crash
 * state generator (pl_gen.c) and the kinds of state it makes. The workloads
 * are in pl_workload.c, the driver and checks in pl_campaign.c; the ledger
 * and the checks of a store's contents are the crash campaign's
 * (tests/crash/crash.h).
 */
#ifndef ES_PL_H
#define ES_PL_H

#include <stddef.h>
#include <stdint.h>

#include "pl_log.h"

/* One record of the log, pointing into the mapped log. */
typedef struct pl_op {
	const pl_rec *rec;          /* NULL for a workload's cr_record; an aligned copy */
	const void *note;           /* the cr_record (an aligned copy), or a PL_NOTE's text */
	const char *name, *name2;   /* not NUL-terminated: see name_len, name2_len */
	const uint8_t *data;
} pl_op;

typedef struct pl_log {
	void *map;
	size_t size;
	pl_op *ops;
	size_t n;
	void *copies;  /* the headers and cr_records, copied out aligned (records in the
	                  log start anywhere) */
} pl_log;

/* Maps and parses a log: 0, or -1 with a message on stderr. */
int pl_log_open(pl_log *log, const char *path);
void pl_log_close(pl_log *log);

/* How a state is cut (see pl_gen.c). */
enum pl_mode {
	PL_CLEAN = 0,  /* every write after its file's last barrier lost */
	PL_RANDOM,     /* each later 4 KiB piece kept or lost at random */
	PL_TORN,       /* random, and one kept page torn at a 512-byte sector */
	PL_POSIX,      /* random, and names made since the directory's last fsync lost */
	PL_BROKEN,     /* wrong on purpose: also loses the writes of each file's last barrier */
	PL_NMODES
};

extern const char *const pl_mode_names[PL_NMODES];

/* Writes the state a power cut after the first `cut` log records could leave
 * into dir (which must exist and be empty): the store directory's files,
 * lock files left out. Returns 0; 1 if the store directory itself would not
 * exist; -1 on an error (message on stderr). */
int pl_state_write(const pl_log *log, size_t cut, int mode, uint64_t seed, const char *dir);

#endif
