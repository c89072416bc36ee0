/*
 * load.c - es_load: a JSONL dump back into an empty store.
 *
 * Two passes over the file. The first verifies the whole hash chain, so a
 * broken file is refused before anything is written, and collects the
 * stream-state records at the end (deleted and recreated streams). The
 * second verifies again as it goes (the file could change in between) and
 * imports the events in batches that keep the dump's recorded_at; each
 * event's expected version is the one before it, so versions and positions
 * come out identical or the load stops. A pipe is spooled to a temporary
 * file first, since it cannot be read twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es_alloc.h"
#include "audit_int.h"

#define ARENA_BYTES (256 * 1024)
#define MAX_METADATA 1024

/* A stream whose state the events alone do not recreate. */
typedef struct stream_fix {
	char *name;
	es_stream_state state;
	int64_t head, first;
} stream_fix;

typedef struct entry {
	const char *stream;
	int64_t expected;
	size_t start, count;
} entry;

typedef struct loader {
	es_db *db;
	const es_load_options *o;
	es_load_stats st;
	stream_fix *fixes;
	size_t n_fixes, cap_fixes;
	size_t batch;             /* events per import */
	es_event_data *events;    /* the batch being built */
	uint64_t *positions;      /* the dump's position of each */
	entry *entries;
	size_t n, n_entries;
	uint64_t next_position;   /* the position the next event must have */
	uint64_t first_line, last_line;
	es_arena arena;
	unsigned char arena_buf[ARENA_BYTES];
} loader;

static int line_error(int code, uint64_t line, const char *what)
{
	return es_error_set(code, "line %llu: %s", (unsigned long long)line, what);
}

/* Prefixes the thread's last error with the lines of the batch it hit. */
static int batch_error(loader *l, int rc)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", es_error_last()->message);
	return es_error_set(rc, "loading lines %llu..%llu: %s", (unsigned long long)l->first_line,
	                    (unsigned long long)l->last_line, msg);
}

/* ---- pass 1: stream states ---- */

static int parse_state(es_stream_state *out, const char *s)
{
	if (s && strcmp(s, "soft_deleted") == 0) *out = ES_STREAM_SOFT_DELETED;
	else if (s && strcmp(s, "tombstoned") == 0) *out = ES_STREAM_TOMBSTONED;
	else if (s && strcmp(s, "live") == 0) *out = ES_STREAM_LIVE;
	else return -1;
	return 0;
}

static int collect_fix(loader *l, const char *rec, size_t len, uint64_t line)
{
	json_t *j = json_loadb(rec, len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(j, "stream"));
	json_t *head = json_object_get(j, "head_version"), *first = json_object_get(j, "first_version");
	stream_fix f = { 0 };
	int rc = 0;
	if (!name || !json_is_integer(head) || !json_is_integer(first) ||
	    parse_state(&f.state, json_string_value(json_object_get(j, "stream_state"))))
		rc = line_error(ES_ECORRUPT, line, "malformed stream-state record");
	else if (l->n_fixes == l->cap_fixes) {
		size_t cap = l->cap_fixes ? 2 * l->cap_fixes : 16;
		stream_fix *p = es_realloc(l->fixes, cap * sizeof *p);
		if (!p)
			rc = es_error_set(ES_ENOMEM, "loading: out of memory");
		else {
			l->fixes = p;
			l->cap_fixes = cap;
		}
	}
	if (rc == 0 && !(f.name = es__strdup(name)))
		rc = es_error_set(ES_ENOMEM, "loading: out of memory");
	if (rc == 0) {
		f.head = json_integer_value(head);
		f.first = json_integer_value(first);
		l->fixes[l->n_fixes++] = f;
	}
	json_decref(j);
	return rc;
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
	loader *l = user_data;
	/* A CSV dump is verified, then refused: its records are not collected. */
	if (l->st.verify.format != ES_DUMP_JSONL)
		return 0;
	if (has_byte_escape(rec, len))
		return es_error_set(ES_EFORMAT, "line %llu holds bytes that are not UTF-8 (written as "
		                    "\\udcXX), which cannot be restored", (unsigned long long)line);
	return kind == ES_AUDIT_REC_STREAM ? collect_fix(l, rec, len, line) : 0;
}

static int cmp_fix(const void *a, const void *b)
{
	return strcmp(((const stream_fix *)a)->name, ((const stream_fix *)b)->name);
}

static const stream_fix *find_fix(const loader *l, const char *stream)
{
	if (!l->n_fixes)
		return NULL;
	stream_fix key = { (char *)stream, 0, 0, 0 };
	return bsearch(&key, l->fixes, l->n_fixes, sizeof key, cmp_fix);
}

/* ---- importing a batch ---- */

static int flush(loader *l)
{
	if (l->n == 0)
		return 0;
	es_batch *b;
	int rc = es_batch_new(&b, l->db);
	if (rc || (rc = es_batch_import(b)))
		return rc ? batch_error(l, rc) : 0;
	for (size_t i = 0; i < l->n_entries && rc == 0; i++) {
		entry *e = &l->entries[i];
		rc = es_batch_append(b, e->stream, e->expected, &l->events[e->start], e->count);
	}
	if (rc) {
		es_batch_free(b);
		return batch_error(l, rc);
	}
	if ((rc = es_batch_commit(b, NULL)))
		return batch_error(l, rc);
	for (size_t i = 0; i < l->n; i++)
		if (l->events[i].position != l->positions[i])
			return es_error_set(ES_EINVAL, "loading lines %llu..%llu: an event landed at position "
			                    "%llu instead of %llu", (unsigned long long)l->first_line,
			                    (unsigned long long)l->last_line,
			                    (unsigned long long)l->events[i].position,
			                    (unsigned long long)l->positions[i]);
	l->st.events += l->n;
	l->n = l->n_entries = 0;
	es_arena_reset(&l->arena);
	return 0;
}

/* A copy in the batch's arena (the JSON it came from is freed per line). */
static char *keep(loader *l, const char *s, size_t n)
{
	char *p = es_arena_alloc(&l->arena, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ---- one event line ---- */

static int get_id(uint8_t out[16], json_t *v, bool optional)
{
	memset(out, 0, 16);
	if (optional && json_is_null(v))
		return 0;
	const char *s = json_string_value(v);
	return s ? es_id_parse(out, s) : ES_EINVAL;
}

static int get_metadata(loader *l, es_event_data *ev, json_t *m)
{
	size_t n = json_is_object(m) ? json_object_size(m) : json_is_array(m) ? json_array_size(m) : SIZE_MAX;
	if (n == SIZE_MAX || n > MAX_METADATA)
		return ES_EINVAL;
	es_metadata *md = n ? es_arena_alloc(&l->arena, n * sizeof *md) : NULL;
	if (n && !md)
		return ES_ENOMEM;
	size_t i = 0;
	const char *key;
	json_t *v;
	if (json_is_object(m)) {
		json_object_foreach(m, key, v) {
			if (!json_is_string(v))
				return ES_EINVAL;
			md[i].key = keep(l, key, strlen(key));
			md[i++].value = keep(l, json_string_value(v), json_string_length(v));
		}
	} else {
		json_array_foreach(m, i, v) {
			const char *k = json_string_value(json_array_get(v, 0));
			const char *val = json_string_value(json_array_get(v, 1));
			if (json_array_size(v) != 2 || !k || !val)
				return ES_EINVAL;
			md[i].key = keep(l, k, strlen(k));
			md[i].value = keep(l, val, strlen(val));
		}
	}
	for (size_t j = 0; j < n; j++)
		if (!md[j].key || !md[j].value)
			return ES_ENOMEM;
	ev->metadata = md;
	ev->metadata_count = n;
	return 0;
}

static int get_payload(loader *l, es_event_data *ev, json_t *data, uint64_t line)
{
	json_t *raw = json_object_get(data, "@base64");
	if (raw) {
		const char *s = json_string_value(raw);
		size_t n = s ? json_string_length(raw) : 0, len = 0;
		uint8_t *p = es_arena_alloc(&l->arena, n / 4 * 3 + 3);
		if (!s || !p || !es_audit__base64_decode(p, &len, s, n))
			return line_error(p || !s ? ES_ECORRUPT : ES_ENOMEM, line, "data.@base64 is not base64");
		ev->payload = p;
		ev->payload_len = len;
		return 0;
	}
	const ProtobufCMessageDescriptor *desc =
	    l->o->descriptor ? l->o->descriptor(ev->type, ev->schema_version, l->o->descriptor_user_data) : NULL;
	if (!desc) {
		char what[ES_TYPE_NAME_MAX + 96];
		snprintf(what, sizeof what, "no descriptor for type '%s' at schema version %u to encode "
		         "its data", ev->type, ev->schema_version);
		return line_error(ES_ESCHEMA, line, what);
	}
	int rc = es_audit__pb_from_json(&ev->payload, &ev->payload_len, desc, data, &l->arena);
	if (rc) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", es_error_last()->message);
		return line_error(rc == ES_EINVAL ? ES_ECORRUPT : rc, line, msg);
	}
	return 0;
}

/* The envelope fields of an event line into ev; *position and *stream out. */
static int get_envelope(loader *l, es_event_data *ev, json_t *j, uint64_t *position, const char **stream)
{
	json_t *pos = json_object_get(j, "position"), *ver = json_object_get(j, "version");
	json_t *schema = json_object_get(j, "schema_version"), *ns = json_object_get(j, "recorded_at_ns");
	json_t *occurred = json_object_get(j, "occurred_at");
	const char *name = json_string_value(json_object_get(j, "stream"));
	const char *type = json_string_value(json_object_get(j, "type"));
	const char *at = json_string_value(json_object_get(j, "recorded_at"));
	int64_t t;
	if (!json_is_integer(pos) || json_integer_value(pos) < 1 || !json_is_integer(ver) ||
	    json_integer_value(ver) < 0 || !json_is_integer(schema) || json_integer_value(schema) < 0 ||
	    json_integer_value(schema) > UINT32_MAX || !json_is_integer(ns) || !name || !type || !at ||
	    es_time_parse(&t, at) || t != json_integer_value(ns))
		return ES_EINVAL;
	if (get_id(ev->id, json_object_get(j, "id"), false) ||
	    get_id(ev->correlation_id, json_object_get(j, "correlation_id"), true) ||
	    get_id(ev->causation_id, json_object_get(j, "causation_id"), true))
		return ES_EINVAL;
	ev->occurred_at = 0;
	if (!json_is_null(occurred) &&
	    (!json_is_string(occurred) || es_time_parse(&ev->occurred_at, json_string_value(occurred))))
		return ES_EINVAL;
	*position = (uint64_t)json_integer_value(pos);
	ev->version = json_integer_value(ver);
	ev->schema_version = (uint32_t)json_integer_value(schema);
	ev->recorded_at = t;
	*stream = keep(l, name, strlen(name));
	ev->type = keep(l, type, strlen(type));
	return *stream && ev->type ? 0 : ES_ENOMEM;
}

/* Recreated streams were soft-deleted just before their first visible
 * version: do that at the same point of the history. */
static int before_event(loader *l, const char *stream, int64_t version)
{
	const stream_fix *f = find_fix(l, stream);
	if (!f || f->first <= 0 || version != f->first)
		return 0;
	int rc = flush(l);
	return rc ? rc : es_stream_delete(l->db, stream, version - 1);
}

static void add_to_batch(loader *l, const char *stream, int64_t version)
{
	entry *e = l->n_entries ? &l->entries[l->n_entries - 1] : NULL;
	if (e && strcmp(e->stream, stream) == 0 && l->events[e->start + e->count - 1].version + 1 == version) {
		e->count++;
	} else {
		e = &l->entries[l->n_entries++];
		e->stream = stream;
		e->expected = version == 0 ? ES_NO_STREAM : version - 1;
		e->start = l->n;
		e->count = 1;
	}
	l->n++;
}

static int load_event(loader *l, const char *rec, size_t len, uint64_t line)
{
	json_error_t jerr;
	json_t *j = json_loadb(rec, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		char what[200];
		snprintf(what, sizeof what, "not valid JSON: %s", jerr.text);
		return line_error(ES_ECORRUPT, line, what);
	}
	/* First, since it may flush the batch (and reset the arena). */
	const char *name = json_string_value(json_object_get(j, "stream"));
	json_t *ver = json_object_get(j, "version");
	int rc = name && json_is_integer(ver) ? before_event(l, name, json_integer_value(ver)) : 0;
	es_event_data ev = { 0 };
	uint64_t position = 0;
	const char *stream = NULL;
	if (rc == 0 && (rc = get_envelope(l, &ev, j, &position, &stream)) == ES_EINVAL)
		rc = line_error(ES_ECORRUPT, line, "an envelope field is missing or malformed");
	if (rc == 0 && (rc = get_metadata(l, &ev, json_object_get(j, "metadata"))) == ES_EINVAL)
		rc = line_error(ES_ECORRUPT, line, "metadata is malformed");
	if (rc == 0 && position != l->next_position)
		rc = line_error(ES_ECORRUPT, line, "positions are not contiguous from 1 as in a complete dump");
	if (rc == 0 && !json_is_object(json_object_get(j, "data")))
		rc = line_error(ES_ECORRUPT, line, "data is not an object");
	if (rc == 0)
		rc = get_payload(l, &ev, json_object_get(j, "data"), line);
	json_decref(j);
	if (rc == ES_ENOMEM)
		return es_error_set(rc, "line %llu: out of memory", (unsigned long long)line);
	if (rc)
		return rc;
	l->events[l->n] = ev;
	l->positions[l->n] = position;
	if (l->n == 0)
		l->first_line = line;
	l->last_line = line;
	l->next_position++;
	add_to_batch(l, stream, ev.version);
	return l->n >= l->batch ? flush(l) : 0;
}

/* ---- stream states at the end ---- */

static int apply_fix(loader *l, const stream_fix *f)
{
	int rc = 0;
	/* Soft-deleted (and maybe tombstoned after): the delete came after the head. */
	if (f->first > 0 && f->first == f->head + 1)
		rc = es_stream_delete(l->db, f->name, f->head);
	if (rc == 0 && f->state == ES_STREAM_TOMBSTONED)
		rc = es_stream_tombstone(l->db, f->name, ES_ANY);
	if (rc == 0)
		l->st.streams++;
	return rc;
}

static int on_pass2(const char *rec, size_t len, es_audit__kind kind, uint64_t line, void *user_data)
{
	loader *l = user_data;
	if (kind == ES_AUDIT_REC_EVENT)
		return load_event(l, rec, len, line);
	if (kind != ES_AUDIT_REC_STREAM && kind != ES_AUDIT_REC_TRAILER)
		return 0;
	int rc = flush(l);
	if (rc || kind != ES_AUDIT_REC_STREAM)
		return rc;
	json_t *j = json_loadb(rec, len, 0, NULL);
	const stream_fix *f = find_fix(l, json_string_value(json_object_get(j, "stream")));
	json_decref(j);
	if (!f)
		return line_error(ES_ECORRUPT, line, "stream-state record changed since verification");
	return apply_fix(l, f);
}

/* ---- the whole load ---- */

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
		return es_error_set(ES_EINVAL, "the store is not empty (%llu events): load into a new "
		                    "directory", (unsigned long long)head);
	return rc;
}

/* An unlinked temporary file in $TMPDIR (tmpfile() would ignore it). */
static FILE *temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/evstore-load-XXXXXX", dir && *dir ? dir : "/tmp");
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
		return es_error_set(ES_EIO, "loading from a pipe: cannot create a temporary file: %s",
		                    strerror(errno));
	char buf[64 * 1024];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, tmp) != n)
			break;
	if (ferror(in) || ferror(tmp) || fflush(tmp) != 0 || fseeko(tmp, 0, SEEK_SET) != 0) {
		int err = errno;
		fclose(tmp);
		return es_error_set(err == ENOSPC ? ES_ENOSPC : ES_EIO, "loading from a pipe: spooling "
		                    "the dump to a temporary file: %s", strerror(err ? err : EIO));
	}
	*out = tmp;
	return 0;
}

static int check_restorable(const es_verify_result *v)
{
	if (v->format != ES_DUMP_JSONL)
		return es_error_set(ES_EFORMAT, "only JSONL dumps can be loaded; this one is CSV");
	if (!v->complete || v->upcast)
		return es_error_set(ES_EFORMAT, "this dump was made with %s: it does not hold the store's "
		                    "history as stored, so it cannot restore it",
		                    v->upcast ? "--upcast" : "filters");
	return 0;
}

static int run(loader *l, FILE *in)
{
	off_t start = ftello(in);
	FILE *tmp = NULL;
	int rc = store_empty(l->db);
	if (rc == 0 && (start < 0 || fseeko(in, start, SEEK_SET) != 0)) {
		start = 0;
		rc = spool(&tmp, in);
		in = tmp;
	}
	if (rc == 0 && (rc = es_audit__verify(&l->st.verify, in, on_pass1, l)) == 0)
		rc = check_restorable(&l->st.verify);
	if (rc == 0 && l->n_fixes)
		qsort(l->fixes, l->n_fixes, sizeof *l->fixes, cmp_fix);
	if (rc == 0 && fseeko(in, start, SEEK_SET) != 0)
		rc = es_error_set(ES_EIO, "loading: cannot read the dump a second time: %s", strerror(errno));
	es_verify_result again;
	l->next_position = 1;
	if (rc == 0)
		rc = es_audit__verify(&again, in, on_pass2, l);
	if (rc == 0)
		rc = flush(l);
	if (tmp)
		fclose(tmp);
	return rc;
}

static void loader_free(loader *l)
{
	for (size_t i = 0; i < l->n_fixes; i++)
		es_free(l->fixes[i].name);
	es_free(l->fixes);
	es_free(l->events);
	es_free(l->positions);
	es_free(l->entries);
	es_arena_release(&l->arena);
	es_free(l);
}

int es_load(es_load_stats *out, es_db *db, FILE *in, const es_load_options *opts)
{
	es_load_options defaults = ES_LOAD_OPTIONS_INIT;
	if (!db || !in)
		return es_error_set(ES_EINVAL, "es_load: db and in are required");
	if (!opts)
		opts = &defaults;
	if (opts->version != ES_LOAD_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "es_load: unknown options version %u", opts->version);
	int rc;
	loader *l = es_calloc(1, sizeof *l);
	size_t batch = opts->batch_events ? opts->batch_events : ES_LOAD_BATCH;
	if (l) {
		l->events = es_calloc(batch, sizeof *l->events);
		l->positions = es_calloc(batch, sizeof *l->positions);
		l->entries = es_calloc(batch, sizeof *l->entries);
	}
	if (!l || !l->events || !l->positions || !l->entries) {
		if (l)
			loader_free(l);
		return es_error_set(ES_ENOMEM, "es_load: out of memory");
	}
	l->db = db;
	l->o = opts;
	l->batch = batch;
	es_arena_init(&l->arena, l->arena_buf, sizeof l->arena_buf);
	rc = run(l, in);
	if (out)
		*out = l->st;
	loader_free(l);
	return rc;
}
