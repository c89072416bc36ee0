/*
 * restore.c - es_restore: a JSONL dump back into an empty store, through the
 * engine's importer.
 *
 * Two passes over the file. The first verifies the whole hash chain, so a
 * broken file is refused before anything is written, and collects the
 * stream-state records at the end (deleted and recreated streams), which
 * are given to the importer before any event so that it replays each delete
 * at its point of the history. The second verifies again as it goes (the
 * file could change in between; its final hash must also be the first
 * pass's) and imports the events, which keep the dump's positions, versions,
 * ids and recorded_at, or the restore stops. A pipe is spooled to a
 * temporary file first, since it cannot be read twice.
 *
 * The second pass runs on a thread of its own (restore_pipe.c), which
 * reads, verifies and parses while the calling thread imports; when the
 * file can be opened twice it starts during the first pass and parses
 * ahead, but nothing reaches the importer before the first pass is done.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "es_alloc.h"
#include "es_array.h"
#include "es_options.h"
#include "restore_int.h"

ES__OPTIONS_INIT_FN(es_restore_options_init, es_restore_options, ES_RESTORE_OPTIONS_INIT,
                    ES_RESTORE_OPTIONS_VERSION)

/* ---- pass 1: stream states ---- */

static int parse_state(es_stream_state *out, const char *s)
{
	if (s && strcmp(s, "soft_deleted") == 0) *out = ES_STREAM_SOFT_DELETED;
	else if (s && strcmp(s, "tombstoned") == 0) *out = ES_STREAM_TOMBSTONED;
	else if (s && strcmp(s, "live") == 0) *out = ES_STREAM_LIVE;
	else return -1;
	return 0;
}

int es_audit__state_parse(es_audit__state *out, const char *rec, size_t len)
{
	json_t *j = json_loadb(rec, len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(j, "stream"));
	json_t *head = json_object_get(j, "head_version"), *first = json_object_get(j, "first_version");
	int rc = ES_ECORRUPT;
	if (name && json_is_integer(head) && json_is_integer(first) &&
	    parse_state(&out->state, json_string_value(json_object_get(j, "stream_state"))) == 0) {
		out->head = json_integer_value(head);
		out->first = json_integer_value(first);
		rc = (out->name = es__strdup(name)) ? 0 : ES_ENOMEM;
	}
	json_decref(j);
	return rc;
}

static int collect_state(es_audit__restorer *r, const char *rec, size_t len, uint64_t line)
{
	int rc = es__array_grow((void **)&r->states, &r->cap_states, r->n_states, sizeof *r->states,
	                        "restoring");
	if (rc)
		return rc;
	es_audit__state *s = &r->states[r->n_states];
	if ((rc = es_audit__state_parse(s, rec, len)) == ES_ECORRUPT)
		return es_error_set(rc, "line %llu: malformed stream-state record", (unsigned long long)line);
	if (rc)
		return es_error_set(rc, "line %llu: out of memory", (unsigned long long)line);
	s->line = line;
	r->n_states++;
	return 0;
}

/* Whether the record holds a \udcXX escape: a byte that was not UTF-8,
 * which JSON parsers (jansson) refuse. Found in the first pass, so such a
 * dump is refused before anything is written. */
static bool has_byte_escape(const char *rec, size_t len)
{
	for (const char *p = rec; (p = memchr(p, '\\', len - (size_t)(p - rec))) != NULL;) {
		size_t run = 0;
		while (p + run < rec + len && p[run] == '\\')
			run++;
		/* An odd run ends in an escape: is it \udc..? */
		if (run % 2 == 1 && (size_t)(p + run - rec) + 3 <= len && memcmp(p + run, "udc", 3) == 0)
			return true;
		p += run;
	}
	return false;
}

static int on_pass1(const char *rec, size_t len, es_audit__kind kind, uint64_t line, void *user_data)
{
	es_audit__restorer *r = user_data;
	/* A CSV dump is verified, then refused: its records are not collected. */
	if (r->st.verify.format != ES_DUMP_JSONL)
		return 0;
	if (has_byte_escape(rec, len))
		return es_error_set(ES_EFORMAT, "line %llu holds bytes that are not UTF-8 (written as "
		                    "\\udcXX), which cannot be restored", (unsigned long long)line);
	return kind == ES_AUDIT_REC_STREAM ? collect_state(r, rec, len, line) : 0;
}

/* ---- the store and the file ---- */

static int stop_at_first(const char *stream, void *user_data)
{
	(void)stream;
	*(int *)user_data = 1;
	return 1;
}

static int store_empty(es_db *db)
{
	es_read *rd;
	uint64_t head = 0;
	int any = 0;
	int rc = es_read_begin(&rd, db);
	if (rc)
		return rc;
	rc = es_log_head(&head, rd);
	if (rc == 0 && (rc = es_stream_list(rd, NULL, NULL, 1, stop_at_first, &any)) == 1)
		rc = 0;
	es_read_end(rd);
	if (rc == 0 && (head != 0 || any))
		return es_error_set(ES_EINVAL, "the store is not empty (%llu events): restore into a new "
		                    "directory", (unsigned long long)head);
	return rc;
}

/* An unlinked temporary file in $TMPDIR (tmpfile() would ignore it). */
static FILE *temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/evstore-restore-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	FILE *f = fdopen(fd, "w+");
	if (!f)
		close(fd);
	return f;
}

/* A copy of a stream that cannot seek (a pipe), to read it twice. */
static int spool(FILE **out, FILE *in)
{
	FILE *tmp = temp_file();
	if (!tmp)
		return es_error_set(ES_EIO, "restoring from a pipe: cannot create a temporary file: %s",
		                    strerror(errno));
	char buf[64 * 1024];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, tmp) != n)
			break;
	if (ferror(in) || ferror(tmp) || fflush(tmp) != 0 || fseeko(tmp, 0, SEEK_SET) != 0) {
		int err = errno;
		fclose(tmp);
		return es_error_set(err == ENOSPC ? ES_ENOSPC : ES_EIO, "restoring from a pipe: spooling "
		                    "the dump to a temporary file: %s", strerror(err ? err : EIO));
	}
	*out = tmp;
	return 0;
}

static int check_restorable(const es_verify_result *v)
{
	if (v->format != ES_DUMP_JSONL)
		return es_error_set(ES_EFORMAT, "only JSONL dumps can be restored; this one is CSV");
	if (!v->complete || v->upcast)
		return es_error_set(ES_EFORMAT, "this dump was made with %s: it does not hold the store's "
		                    "history as stored, so it cannot restore it",
		                    v->upcast ? "--upcast" : "filters");
	return 0;
}

/* ---- pass 2: the import ---- */

/* The stream states go to the importer first: it replays each at its point. */
static int declare_states(es_audit__restorer *r)
{
	for (size_t i = 0; i < r->n_states; i++) {
		const es_audit__state *s = &r->states[i];
		int rc = es_import_stream_state(r->imp, s->name, s->state, s->head, s->first);
		if (rc) {
			char msg[400];
			snprintf(msg, sizeof msg, "%s", es_error_last()->message);
			return es_error_set(rc, "line %llu: %s", (unsigned long long)s->line, msg);
		}
	}
	return 0;
}

/* The same file opened a second time, at start, so that the second pass can
 * read it while the first does; NULL when it cannot be (a memory stream). */
static FILE *reopen(FILE *in, off_t start)
{
	char path[64];
	struct stat a, b;
	int fd = fileno(in);
	if (fd < 0 || fstat(fd, &a) != 0 || !S_ISREG(a.st_mode))
		return NULL;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	FILE *f = fopen(path, "r");
	if (f && (fstat(fileno(f), &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino ||
	          fseeko(f, start, SEEK_SET) != 0)) {
		fclose(f);
		f = NULL;
	}
	return f;
}

/* Both passes; the second on a thread of its own, started before the first
 * when the file can be read twice at once. */
static int passes(es_audit__restorer *r, FILE *in, off_t start)
{
	es_audit__pipe *pipe = NULL;
	FILE *again = reopen(in, start);
	int rc = again ? es_audit__pipe_start(&pipe, r, again) : 0;
	if (rc == 0 && (rc = es_audit__verify(&r->st.verify, in, on_pass1, r)) == 0)
		rc = check_restorable(&r->st.verify);
	if (rc == 0 && !pipe && fseeko(in, start, SEEK_SET) != 0)
		rc = es_error_set(ES_EIO, "restoring: cannot read the dump a second time: %s", strerror(errno));
	if (rc == 0 && !pipe)
		rc = es_audit__pipe_start(&pipe, r, in);
	if (pipe)
		es_audit__pipe_verified(pipe, rc == 0);
	es_import_options io = ES_IMPORT_OPTIONS_INIT;
	io.batch_events = r->o->batch_events;
	if (rc == 0 && (rc = es_import_begin(&r->imp, r->db, &io)) == 0 && (rc = declare_states(r)) == 0)
		rc = es_audit__pipe_import(pipe);
	es_audit__pipe_end(pipe);
	if (again)
		fclose(again);
	return rc;
}

static int run(es_audit__restorer *r, FILE *in)
{
	off_t start = ftello(in);
	FILE *tmp = NULL;
	int rc = store_empty(r->db);
	if (rc == 0 && (start < 0 || fseeko(in, start, SEEK_SET) != 0)) {
		start = 0;
		rc = spool(&tmp, in);
		in = tmp;
	}
	if (rc == 0)
		rc = passes(r, in, start);
	es_import_stats ist = { 0 };
	if (r->imp) {
		int frc = rc ? 0 : es_import_finish(r->imp, &ist);
		if (rc)
			es_import_free(r->imp);
		rc = rc ? rc : frc;
		r->imp = NULL;
	}
	r->st.events = ist.events;
	if (rc == 0)
		r->st.streams = r->n_states;
	if (tmp)
		fclose(tmp);
	return rc;
}

int es_restore(es_restore_stats *out, es_db *db, FILE *in, const es_restore_options *opts)
{
	es_restore_options defaults = ES_RESTORE_OPTIONS_INIT;
	if (out)
		memset(out, 0, sizeof *out);
	int rc = es__options_pick((const void **)&opts, &defaults, ES_RESTORE_OPTIONS_VERSION, "es_restore");
	if (rc || !db || !in)
		return rc ? rc : es_error_set(ES_EINVAL, "es_restore: db and in are required");
	es_audit__restorer r = { .db = db, .o = opts };
	rc = run(&r, in);
	if (out)
		*out = r.st;
	for (size_t i = 0; i < r.n_states; i++)
		es_free(r.states[i].name);
	es_free(r.states);
	return rc;
}
