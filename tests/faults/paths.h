/*
 * paths.h - the API paths the fault suite drives through allocation
 * failures. Each runs one scenario on a copy of the template store and
 * folds what it observed (not ids or times) into a digest, so a success
 * after an absorbed failure can be compared with a clean run.
 */
#ifndef ES_FAULT_PATHS_H
#define ES_FAULT_PATHS_H

#include <stdbool.h>
#include <stdint.h>

#include <evstore/evstore.h>

typedef int (*fault_path_fn)(uint64_t *digest, es_db *db, const char *dir);

/* What a scenario runs on. */
typedef enum fault_store {
	FP_NONE,  /* no store: db and dir are NULL */
	FP_STORE, /* an open copy of the template: db */
	FP_DIR    /* a closed copy: the scenario opens dir itself (db is NULL) */
} fault_store;

typedef struct fault_path {
	const char *name;
	fault_path_fn run;
	fault_store store;
	bool writes;       /* success changes the store */
} fault_path;

/* The bank registry's build: no clean run may come first, since the
 * registry is built once and kept (its memory is never freed). */
#define FP_BANK_REGISTRY "bank-registry"

extern const fault_path fault_paths[];
extern const size_t fault_path_count;

#endif
