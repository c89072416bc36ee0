/*
 * restore_int.h - what restore.c and restore_pipe.c share: the restore in
 * progress and the stream states collected by the first pass. Private to
 * the audit module.
 */
#ifndef ES_AUDIT_RESTORE_INT_H
#define ES_AUDIT_RESTORE_INT_H

#include "audit_int.h"

/* A stream-state record of the dump. */
typedef struct es_audit__state {
	char *name;
	es_stream_state state;
	int64_t head, first;
	uint64_t line;
} es_audit__state;

typedef struct es_audit__restorer {
	es_db *db;
	const es_restore_options *o;
	es_restore_stats st;
	es_audit__state *states;  /* in the file's order */
	size_t n_states, cap_states;
	es_importer *imp;
} es_audit__restorer;

/* A stream-state record into *out (out->name allocated): 0, ES_ECORRUPT
 * when malformed, ES_ENOMEM. */
int es_audit__state_parse(es_audit__state *out, const char *rec, size_t len);

/* The second pass: verifies and parses in on a thread of its own while the
 * calling thread gives the events to r->imp. 0 or the first error, whose
 * message names the line. */
int es_audit__restore_pipe(es_audit__restorer *r, FILE *in);

#endif
