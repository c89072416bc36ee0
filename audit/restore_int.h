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

/* The second pass (restore_pipe.c): a thread that verifies and parses in
 * from its start, parsing ahead until es_audit__pipe_verified gives the
 * first pass's verdict; es_audit__pipe_import then gives the events to
 * r->imp on the calling thread: 0 or the first error, naming its line.
 * es_audit__pipe_end stops the thread (wherever it is) and frees. */
typedef struct es_audit__pipe es_audit__pipe;
int es_audit__pipe_start(es_audit__pipe **out, es_audit__restorer *r, FILE *in);
void es_audit__pipe_verified(es_audit__pipe *p, bool intact);
int es_audit__pipe_import(es_audit__pipe *p);
void es_audit__pipe_end(es_audit__pipe *p);

#endif
