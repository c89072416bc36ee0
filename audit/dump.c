/*
 * dump.c - es_dump: the store's history in global order, one hash-chained
 * record per event, then the state of deleted and recreated streams, then a
 * trailer (the layout is in FORMAT.md).
 *
 * Memory stays flat whatever the store's size: one record is built at a
 * time in reused buffers, payloads are decoded into an arena reset per
 * event, and the read transaction is renewed every few thousand events so
 * a long dump does not pin old pages. The dump stops at the log head it saw
 * first, so concurrent appends cannot make it run forever.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "audit_int.h"
#include "es_options.h"


typedef struct dumper {
	es_db *db;
	es_read *rd;
	FILE *out_file;       /* written by the writer thread during the dump */
	const es_dump_options *o;
	es_dump_stats st;
	es_audit__writer *w;  /* seals and writes, on its own thread */
	/* Builds each record in enc.line; enc.scratch holds a record that is
	 * not an event before it is placed. */
	es_audit__encoder enc;
	uint64_t first, last;  /* positions to read, inclusive */
	uint64_t read;         /* events read (filtered or not) */
} dumper;

/* ---- options ---- */

static bool has_filters(const es_dump_options *o)
{
	return o->stream || o->stream_prefix || o->since != INT64_MIN || o->until != INT64_MAX ||
	       o->from_position > 1 || o->to_position != UINT64_MAX || o->types;
}

static int check_options(const es_dump_options *o)
{
	if (o->version != ES_DUMP_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "es_dump: unknown options version %u", o->version);
	if (o->format != ES_DUMP_JSONL && o->format != ES_DUMP_CSV)
		return es_error_set(ES_EINVAL, "es_dump: unknown format %d", (int)o->format);
	if (o->stream && o->stream_prefix)
		return es_error_set(ES_EINVAL, "a dump takes one stream or a stream prefix, not both");
	if (o->since > o->until)
		return es_error_set(ES_EINVAL, "the time window is empty: since is after until");
	if (o->from_position > o->to_position)
		return es_error_set(ES_EINVAL, "the position range is empty: from %llu is after to %llu",
		                    (unsigned long long)o->from_position,
		                    (unsigned long long)o->to_position);
	if (o->type_count && !o->types)
		return es_error_set(ES_EINVAL, "es_dump: type_count without types");
	for (size_t i = 0; i < o->type_count; i++)
		if (!o->types[i] || !*o->types[i])
			return es_error_set(ES_EINVAL, "es_dump: event type %zu is empty", i);
	return 0;
}

/* ---- output ---- */

static int write_error(int err)
{
	int code = err == ENOSPC || err == EDQUOT ? ES_ENOSPC : ES_EIO;
	if (err == EPIPE)
		return es_error_set(code, "writing the dump: the reader closed the pipe");
	return es_error_set(code, "writing the dump: %s", strerror(err ? err : EIO));
}

/* Hands the record in d->enc.line to the writer thread, which seals it onto
 * the chain and writes it. Parts of a record are built in scratch and
 * decoded first: a failed allocation in any of them fails the record, or
 * it would go out with a short cell. */
static int seal_emit(dumper *d)
{
	if (d->enc.line.failed || d->enc.scratch.failed || d->enc.decoded.failed)
		return es_error_set(ES_ENOMEM, "building a dump record: out of memory");
	int rc = es_audit__writer_put(d->w, d->enc.line.data, d->enc.line.len);
	d->enc.line.len = 0;
	return rc;
}

/* "#kind,<name>,,...,<json>" up to the hashes: the CSV form of a record
 * that is not an event, in an event row's cells (FORMAT.md "CSV"): the
 * kind under position, the name under stream, json's text under data. */
static void csv_special(dumper *d, const char *kind, const char *name, const es_audit__buf *json)
{
	es_audit__buf_puts(&d->enc.line, kind);
	es_audit__buf_putc(&d->enc.line, ',');
	if (name)
		es_audit__buf_csv_cell(&d->enc.line, name, strlen(name));
	for (int i = 2; i < ES_AUDIT_EVENT_COLUMN_COUNT; i++)
		es_audit__buf_putc(&d->enc.line, ',');
	es_audit__buf_csv_cell(&d->enc.line, json->data, json->len);
}

/* A non-event record from d->enc.scratch, which holds "{<members>": the JSONL
 * line goes on from there; in CSV the closed object is the data cell. */
static int write_special(dumper *d, const char *kind, const char *name)
{
	if (d->o->format == ES_DUMP_JSONL) {
		es_audit__buf_put(&d->enc.line, d->enc.scratch.data, d->enc.scratch.len);
	} else {
		es_audit__buf_putc(&d->enc.scratch, '}');
		csv_special(d, kind, name, &d->enc.scratch);
	}
	d->enc.scratch.len = 0;
	return seal_emit(d);
}

/* ---- header ---- */

static void put_key(es_audit__buf *b, const char *key)
{
	es_audit__buf_putc(b, '"');
	es_audit__buf_puts(b, key);
	es_audit__buf_put(b, "\":", 2);
}

static void put_filters(es_audit__buf *b, const es_dump_options *o)
{
	const char *sep = "";
	es_audit__buf_putc(b, '{');
#define SEP() (es_audit__buf_puts(b, sep), sep = ",")
	if (o->stream) { SEP(); put_key(b, "stream"); es_audit__buf_json_string(b, o->stream, strlen(o->stream)); }
	if (o->stream_prefix) {
		SEP();
		put_key(b, "stream_prefix");
		es_audit__buf_json_string(b, o->stream_prefix, strlen(o->stream_prefix));
	}
	if (o->since != INT64_MIN) { SEP(); put_key(b, "since"); es_audit__buf_time(b, o->since, true); }
	if (o->until != INT64_MAX) { SEP(); put_key(b, "until"); es_audit__buf_time(b, o->until, true); }
	if (o->from_position > 1) { SEP(); put_key(b, "from_position"); es_audit__buf_u64(b, o->from_position); }
	if (o->to_position != UINT64_MAX) { SEP(); put_key(b, "to_position"); es_audit__buf_u64(b, o->to_position); }
	if (o->types) {
		SEP();
		put_key(b, "types");
		es_audit__buf_putc(b, '[');
		for (size_t i = 0; i < o->type_count; i++) {
			if (i)
				es_audit__buf_putc(b, ',');
			es_audit__buf_json_string(b, o->types[i], strlen(o->types[i]));
		}
		es_audit__buf_putc(b, ']');
	}
#undef SEP
	es_audit__buf_putc(b, '}');
}

static int write_header(dumper *d, uint64_t head)
{
	const es_dump_options *o = d->o;
	es_audit__buf *b = &d->enc.scratch;
	bool csv = o->format == ES_DUMP_CSV;
	es_audit__buf_puts(b, csv ? "{\"format\":\"evstore-dump-csv\"" : "{\"format\":\"evstore-dump\"");
	ES_AUDIT_PUT_LIT(b, ",\"format_version\":");
	es_audit__buf_u64(b, ES_DUMP_FORMAT_VERSION);
	es_audit__buf_puts(b, has_filters(o) ? ",\"complete\":false" : ",\"complete\":true");
	es_audit__buf_puts(b, o->upcast ? ",\"upcast\":true" : ",\"upcast\":false");
	ES_AUDIT_PUT_LIT(b, ",\"log_head\":");
	es_audit__buf_u64(b, head);
	ES_AUDIT_PUT_LIT(b, ",\"filters\":");
	put_filters(b, o);
	return write_special(d, "#header", NULL);
}

static int write_event(dumper *d, const es_event *ev)
{
	int rc = es_audit__encode_event(&d->enc, ev);
	if (rc) {
		d->enc.line.len = 0;
		return rc;
	}
	if ((rc = seal_emit(d)) == 0) {
		d->st.events++;
		d->st.last_position = ev->position;
	}
	return rc;
}

/* ---- selecting events ---- */

static bool type_wanted(const es_dump_options *o, const char *type)
{
	if (!o->types)
		return true;
	for (size_t i = 0; i < o->type_count; i++)
		if (strcmp(o->types[i], type) == 0)
			return true;
	return false;
}

static bool stream_wanted(const es_dump_options *o, const char *stream)
{
	if (o->stream)
		return strcmp(o->stream, stream) == 0;
	if (o->stream_prefix)
		return strncmp(o->stream_prefix, stream, strlen(o->stream_prefix)) == 0;
	return true;
}

/* recorded_at of the first event at or after position p. */
static int recorded_at_from(int64_t *out, es_read *rd, uint64_t p)
{
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, rd, p, ES_FORWARD, 1);
	if (rc)
		return rc;
	rc = es_iter_next(&ev, it);
	if (rc == 0)
		*out = ev.recorded_at;
	es_iter_free(it);
	return rc;
}

/* recorded_at strictly increases with position, so the first position at or
 * after `since` is found by bisection instead of a scan. */
static int seek_since(dumper *d, int64_t since)
{
	uint64_t lo = d->first, hi = d->last, found = d->last + 1;
	while (lo <= hi && hi != 0) {
		uint64_t mid = lo + (hi - lo) / 2;
		int64_t at;
		int rc = recorded_at_from(&at, d->rd, mid);
		if (rc == ES_ITEROVER)
			break;
		if (rc)
			return rc;
		if (at >= since) {
			found = mid;
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	d->first = found;
	return 0;
}

static int report_progress(dumper *d, uint64_t position)
{
	if (!d->o->progress)
		return 0;
	es_dump_progress p = { d->st.events, position, d->first, d->last };
	return d->o->progress(&p, d->o->progress_user_data);
}

/* Reads, filters and writes one event. 1 when the range is done. */
static int dump_one(dumper *d, es_event *ev)
{
	const es_dump_options *o = d->o;
	if (ev->position > d->last || ev->recorded_at > o->until)
		return 1;
	if (!stream_wanted(o, ev->stream))
		return 0;
	es_arena_reset(&d->enc.arena);
	int rc = o->upcast ? es_registry_upcast(ev, o->upcast, &d->enc.arena) : 0;
	if (rc == 0 && type_wanted(o, ev->type))
		rc = write_event(d, ev);
	return rc;
}

static int dump_events(dumper *d)
{
	size_t every = d->o->renew_every ? d->o->renew_every : ES_DUMP_RENEW_EVERY;
	es_iter *it;
	es_event ev;
	int rc = es_log_iter(&it, d->rd, d->first, ES_FORWARD, ES_NO_LIMIT);
	if (rc)
		return rc;
	while ((rc = es_iter_next(&ev, it)) == 0) {
		if ((rc = dump_one(d, &ev)) != 0)
			break;
		if (++d->read % every == 0) {
			uint64_t position = ev.position;
			/* A fresh snapshot, and the pages already dumped leave resident
			 * memory, so a dump's footprint stays flat whatever the store's size. */
			es_db_release_memory(d->db);
			if ((rc = es_read_renew(d->rd)) || (rc = report_progress(d, position)))
				break;
		}
	}
	es_iter_free(it);
	return rc == ES_ITEROVER || rc == 1 ? 0 : rc;
}

/* ---- stream states and the trailer ---- */

static const char *state_name(es_stream_state s)
{
	return s == ES_STREAM_TOMBSTONED ? "tombstoned" : s == ES_STREAM_SOFT_DELETED ? "soft_deleted" : "live";
}

/* A record for each stream whose state the events alone do not tell: soft
 * deleted, tombstoned, or recreated after a soft delete. */
static int write_stream(const char *stream, void *user_data)
{
	dumper *d = user_data;
	es_stream_info info;
	int rc = es_stream_info_get(&info, d->rd, stream);
	if (rc || (info.state == ES_STREAM_LIVE && info.first_version == 0))
		return rc == ES_ENOTFOUND ? 0 : rc;
	es_audit__buf *b = &d->enc.scratch;
	ES_AUDIT_PUT_LIT(b, "{\"stream_state\":\"");
	es_audit__buf_puts(b, state_name(info.state));
	es_audit__buf_putc(b, '"');
	if (d->o->format == ES_DUMP_JSONL) {
		ES_AUDIT_PUT_LIT(b, ",\"stream\":");
		es_audit__buf_json_string(b, stream, strlen(stream));
	}
	ES_AUDIT_PUT_LIT(b, ",\"head_version\":");
	es_audit__buf_i64(b, info.head_version);
	ES_AUDIT_PUT_LIT(b, ",\"first_version\":");
	es_audit__buf_i64(b, info.first_version);
	if ((rc = write_special(d, "#stream", stream)) == 0)
		d->st.streams++;
	return rc;
}

typedef struct page {
	dumper *d;
	char last[ES_STREAM_NAME_MAX + 1];
	size_t n;
} page;

static int page_stream(const char *stream, void *user_data)
{
	page *p = user_data;
	snprintf(p->last, sizeof p->last, "%s", stream);
	p->n++;
	return write_stream(stream, p->d);
}

static int dump_streams(dumper *d)
{
	if (d->o->stream)
		return write_stream(d->o->stream, d);
	size_t every = d->o->renew_every ? d->o->renew_every : ES_DUMP_RENEW_EVERY;
	page p = { d, "", 0 };
	for (;;) {
		p.n = 0;
		int rc = es_stream_list(d->rd, d->o->stream_prefix, p.last[0] ? p.last : NULL, every,
		                        page_stream, &p);
		if (rc || p.n < every)
			return rc;
		if ((rc = es_read_renew(d->rd)))
			return rc;
	}
}

static int write_trailer(dumper *d)
{
	es_audit__buf *b = &d->enc.scratch;
	es_audit__buf_puts(b, d->o->format == ES_DUMP_JSONL ? "{\"trailer\":\"evstore-dump\""
	                                                    : "{\"trailer\":\"evstore-dump-csv\"");
	ES_AUDIT_PUT_LIT(b, ",\"count\":");
	es_audit__buf_u64(b, d->st.events);
	ES_AUDIT_PUT_LIT(b, ",\"streams\":");
	es_audit__buf_u64(b, d->st.streams);
	return write_special(d, "#trailer", NULL);
}

/* ---- the whole dump ---- */

static int run(dumper *d)
{
	uint64_t head;
	int rc = es_log_head(&head, d->rd);
	if (rc)
		return rc;
	d->first = d->o->from_position > 1 ? d->o->from_position : 1;
	d->last = d->o->to_position < head ? d->o->to_position : head;
	if (d->o->since != INT64_MIN && d->first <= d->last && (rc = seek_since(d, d->o->since)))
		return rc;
	if ((rc = write_header(d, head)))
		return rc;
	if (d->first <= d->last && (rc = dump_events(d)))
		return rc;
	if ((rc = dump_streams(d)) || (rc = write_trailer(d)))
		return rc;
	return report_progress(d, d->last);
}

int es_dump(es_dump_stats *out, es_db *db, FILE *out_file, const es_dump_options *opts)
{
	es_dump_options defaults = ES_DUMP_OPTIONS_INIT;
	if (!db || !out_file)
		return es_error_set(ES_EINVAL, "es_dump: db and out_file are required");
	if (!opts)
		opts = &defaults;
	int rc = check_options(opts);
	if (rc)
		return rc;
	dumper *d = es_calloc(1, sizeof *d);
	if (!d)
		return es_error_set(ES_ENOMEM, "es_dump: out of memory");
	d->db = db;
	d->out_file = out_file;
	d->o = opts;
	es_audit__encoder_init(&d->enc, opts->format == ES_DUMP_JSONL, opts->descriptor,
	                       opts->descriptor_user_data);
	if ((rc = es_audit__writer_start(&d->w, out_file, opts->format)) == 0) {
		/* The CSV column row is fixed text; hashing it starts the chain,
		 * so it cannot be changed unseen either. */
		if (opts->format == ES_DUMP_CSV)
			rc = es_audit__writer_raw(d->w, ES_AUDIT_CSV_COLUMNS "\n", strlen(ES_AUDIT_CSV_COLUMNS) + 1);
		if (rc == 0 && (rc = es_audit__writer_run(d->w)) == 0 && (rc = es_read_begin(&d->rd, db)) == 0) {
			rc = run(d);
			es_read_end(d->rd);
		}
		int wrc = es_audit__writer_finish(d->w, rc != 0, d->st.final_hash, &d->st.bytes);
		rc = rc ? rc : wrc;
	}
	errno = 0;
	if (rc == 0 && (fflush(out_file) != 0 || ferror(out_file)))
		rc = write_error(errno);
	if (rc)
		d->st.final_hash[0] = '\0';
	d->st.raw_payloads = d->enc.raw_payloads;
	if (out)
		*out = d->st;
	es_audit__encoder_free(&d->enc);
	es_free(d);
	return rc;
}

ES__OPTIONS_INIT_FN(es_dump_options_init, es_dump_options, ES_DUMP_OPTIONS_INIT, ES_DUMP_OPTIONS_VERSION)
