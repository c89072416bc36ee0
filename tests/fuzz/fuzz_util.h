/*
 * fuzz_util.h - helpers shared by the fuzz targets: scratch stores in a
 * temporary directory removed at exit, a NUL-terminated copy of the input,
 * and the repair of a dump's hash chain so mutated dumps get past
 * verification into the parser behind it.
 */
#ifndef ES_FUZZ_UTIL_H
#define ES_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>
#include <evstore/audit.h>

/* libFuzzer's entry point, which each target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message: a property the target checks does not hold. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond))                                                               \
			fuzz_fail(__FILE__, __LINE__, #cond);                              \
	} while (0)
void fuzz_fail(const char *file, int line, const char *what);

/* A fresh directory for a store, under the process's scratch directory
 * (created on first use, removed at exit). Static storage until the next call. */
const char *fuzz_store_dir(void);
/* Opens a new empty store (nosync) in a fresh directory; aborts on failure. */
es_db *fuzz_store_new(void);
/* Closes db, the store fuzz_store_new made last, and removes its directory. */
void fuzz_store_drop(es_db *db);

/* The input as a NUL-terminated string (malloc'd; embedded NULs cut it). */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* A FILE reading the bytes (fmemopen; an empty input reads as empty). */
FILE *fuzz_memfile(const uint8_t *data, size_t size);

/* A copy of a dump (JSONL or CSV) with every record's prev_hash and hash
 * recomputed so the chain holds whatever else changed. malloc'd; *out_len
 * set. Records whose hashes cannot be located are left as they are. */
uint8_t *fuzz_fix_chain(const uint8_t *data, size_t size, size_t *out_len);

#endif
