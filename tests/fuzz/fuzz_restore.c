/*
 * fuzz_restore.c - es-load's parser: es_restore of the input into an empty store
 * (FILE by fmemopen). The input's hash chain is repaired first, so mutated
 * records get past verification into the parser (fuzz_dump_verify covers
 * the chain itself).
 * Properties: a restore that succeeds leaves a store that es_check finds
 * intact and that dumps to a file es_dump_verify finds intact; a restore that
 * fails says why.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

static es_db *db;

/* After a successful restore, the store must be whole. */
static void check_restored(void)
{
	FUZZ_CHECK(es_check(NULL, db, NULL) == 0);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	es_dump_options o = ES_DUMP_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	FUZZ_CHECK(out && es_dump(NULL, db, out, &o) == 0);
	fclose(out);
	FILE *in = fuzz_memfile((const uint8_t *)text, len);
	es_verify_result res;
	FUZZ_CHECK(es_dump_verify(&res, in) == 0);
	fclose(in);
	free(text);
}

static int any_stream(const char *stream, void *user_data)
{
	(void)stream;
	*(int *)user_data = 1;
	return 1;
}

/* A store is reused until a restore writes into it: es_restore wants one empty. */
static int store_is_empty(void)
{
	es_read *rd;
	uint64_t head = 0;
	int any = 0;
	FUZZ_CHECK(es_read_begin(&rd, db) == 0);
	FUZZ_CHECK(es_log_head(&head, rd) == 0);
	es_stream_list(rd, NULL, NULL, 1, any_stream, &any);
	es_read_end(rd);
	return head == 0 && !any;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t *fixed = fuzz_fix_chain(data, size, &len);
	if (!db)
		db = fuzz_store_new();
	FILE *f = fuzz_memfile(fixed, len);
	es_restore_options o = ES_RESTORE_OPTIONS_INIT;
	o.descriptor = es_bank_descriptor;
	o.batch_events = 3; /* several batches even in small inputs */
	es_restore_stats st;
	int rc = es_restore(&st, db, f, &o);
	fclose(f);
	if (rc == 0)
		check_restored();
	else
		FUZZ_CHECK(es_error_last()->message[0] != '\0');
	if (rc == 0 || !store_is_empty()) {
		fuzz_store_drop(db);
		db = NULL;
	}
	free(fixed);
	return 0;
}
