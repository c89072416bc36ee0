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
#include "es_pb_arena.h"
#include "es_options.h"

#define ARENA_BYTES (64 * 1024)
#define NONCANONICAL 8u /* the payload is not what its decoded form re-encodes to */

/* A cell's text as last written, and the value it shows. */
typedef struct cell_cache {
	bool valid;
	int64_t value;
	size_t len;
	char text[48];
} cell_cache;

typedef struct dumper {
	es_db *db;
	es_read *rd;
	FILE *out_file;       /* written by the writer thread during the dump */
	const es_dump_options *o;
	es_dump_stats st;
	es_audit__writer *w;  /* seals and writes, on its own thread */
	es_audit__buf line;   /* the record being built */
	es_audit__buf scratch; /* a CSV cell, or a record that is not an event, before it is placed */
	es_audit__buf decoded; /* a lossy payload's decoded form, kept for its note */
	es_audit__time_cache times;
	cell_cache at_text, at_ns; /* recorded_at's two cells */
	es_arena arena;
	uint64_t first, last;  /* positions to read, inclusive */
	uint64_t read;         /* events read (filtered or not) */
	unsigned char arena_buf[ARENA_BYTES];
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

/* Hands the record in d->line to the writer thread, which seals it onto
 * the chain and writes it. Parts of a record are built in scratch and
 * decoded first: a failed allocation in any of them fails the record, or
 * it would go out with a short cell. */
static int seal_emit(dumper *d)
{
	if (d->line.failed || d->scratch.failed || d->decoded.failed)
		return es_error_set(ES_ENOMEM, "building a dump record: out of memory");
	int rc = es_audit__writer_put(d->w, d->line.data, d->line.len);
	d->line.len = 0;
	return rc;
}

/* "#kind,<name>,,...,<json>" up to the hashes: the CSV form of a record
 * that is not an event, in an event row's cells (FORMAT.md "CSV"): the
 * kind under position, the name under stream, json's text under data. */
static void csv_special(dumper *d, const char *kind, const char *name, const es_audit__buf *json)
{
	es_audit__buf_puts(&d->line, kind);
	es_audit__buf_putc(&d->line, ',');
	if (name)
		es_audit__buf_csv_cell(&d->line, name, strlen(name));
	for (int i = 2; i < ES_AUDIT_EVENT_COLUMN_COUNT; i++)
		es_audit__buf_putc(&d->line, ',');
	es_audit__buf_csv_cell(&d->line, json->data, json->len);
}

/* A non-event record from d->scratch, which holds "{<members>": the JSONL
 * line goes on from there; in CSV the closed object is the data cell. */
static int write_special(dumper *d, const char *kind, const char *name)
{
	if (d->o->format == ES_DUMP_JSONL) {
		es_audit__buf_put(&d->line, d->scratch.data, d->scratch.len);
	} else {
		es_audit__buf_putc(&d->scratch, '}');
		csv_special(d, kind, name, &d->scratch);
	}
	d->scratch.len = 0;
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
	es_audit__buf *b = &d->scratch;
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

/* ---- one event ---- */

static bool metadata_has_duplicates(const es_event *ev)
{
	size_t ci = 0, kl, vl;
	const char *k, *v;
	while (es_event_metadata_next(ev, &ci, &k, &kl, &v, &vl) == 0) {
		size_t cj = ci, kl2, vl2;
		const char *k2, *v2;
		while (es_event_metadata_next(ev, &cj, &k2, &kl2, &v2, &vl2) == 0)
			if (kl2 == kl && memcmp(k, k2, kl) == 0)
				return true;
	}
	return false;
}

/* Metadata as a JSON object in stored order; as an array of [key, value]
 * pairs when a key repeats, so nothing is lost to a JSON reader. */
static int put_metadata(es_audit__buf *b, const es_event *ev)
{
	bool pairs = ev->metadata_len && metadata_has_duplicates(ev);
	size_t cursor = 0, kl, vl;
	const char *k, *v;
	int rc, n = 0;
	es_audit__buf_putc(b, pairs ? '[' : '{');
	while ((rc = es_event_metadata_next(ev, &cursor, &k, &kl, &v, &vl)) == 0) {
		if (n++)
			es_audit__buf_putc(b, ',');
		if (pairs)
			es_audit__buf_putc(b, '[');
		es_audit__buf_json_string(b, k, kl);
		es_audit__buf_putc(b, pairs ? ',' : ':');
		es_audit__buf_json_string(b, v, vl);
		if (pairs)
			es_audit__buf_putc(b, ']');
	}
	es_audit__buf_putc(b, pairs ? ']' : '}');
	if (rc != ES_ITEROVER)
		return es_error_set(ES_ECORRUPT, "stream '%s' version %lld: its metadata is malformed",
		                    ev->stream, (long long)ev->version);
	return 0;
}

static void put_raw(dumper *d, es_audit__buf *b, const es_event *ev, const char *note,
                    const es_audit__buf *decoded)
{
	ES_AUDIT_PUT_LIT(b, "{\"@base64\":\"");
	es_audit__buf_base64(b, ev->payload, ev->payload_len);
	ES_AUDIT_PUT_LIT(b, "\",\"@note\":");
	es_audit__buf_json_string(b, note, strlen(note));
	if (decoded) {
		ES_AUDIT_PUT_LIT(b, ",\"@decoded\":");
		es_audit__buf_put(b, decoded->data, decoded->len);
	}
	es_audit__buf_putc(b, '}');
	d->st.raw_payloads++;
}

/* Would the decoded message re-encode to exactly the stored bytes? */
static bool canonical(dumper *d, const ProtobufCMessage *msg, const es_event *ev)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n != ev->payload_len)
		return false;
	uint8_t *buf = es_arena_alloc(&d->arena, n ? n : 1);
	return buf && protobuf_c_message_pack(msg, buf) == n && memcmp(buf, ev->payload, n) == 0;
}

static const char *lossy_note(unsigned lossy)
{
	if (lossy & ES_AUDIT_LOSSY_UTF8)
		return "a string in the payload is not UTF-8; its bytes are kept as they are";
	if (lossy & ES_AUDIT_LOSSY_UNKNOWN)
		return "the payload has fields its descriptor does not know; its bytes are kept "
		       "as they are and @decoded shows the known fields";
	return "the payload is not canonically encoded; its bytes are kept as they are and "
	       "@decoded shows its fields";
}

/* The data member, appended to b: the payload decoded to JSON, or base64
 * with a note. */
static void put_data(dumper *d, es_audit__buf *b, const es_event *ev)
{
	const es_dump_options *o = d->o;
	const ProtobufCMessageDescriptor *desc =
	    o->descriptor ? o->descriptor(ev->type, ev->schema_version, o->descriptor_user_data) : NULL;
	char note[ES_TYPE_NAME_MAX + 96];
	if (!desc) {
		snprintf(note, sizeof note, "no descriptor for type '%s' at schema version %u",
		         ev->type, ev->schema_version);
		put_raw(d, b, ev, note, NULL);
		return;
	}
	ProtobufCAllocator alloc = es__pb_allocator(&d->arena);
	ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, ev->payload_len, ev->payload);
	if (!msg) {
		snprintf(note, sizeof note, "the payload does not decode as %.*s",
		         ES_TYPE_NAME_MAX, desc->name);
		put_raw(d, b, ev, note, NULL);
		return;
	}
	size_t mark = b->len;
	unsigned lossy = es_audit__pb_to_json(b, msg);
	if (!lossy && !canonical(d, msg, ev))
		lossy = NONCANONICAL;
	if (!lossy)
		return;
	/* Keep the decoded form for the reader only when it parses back. */
	d->decoded.len = 0;
	es_audit__buf_put(&d->decoded, b->data + mark, b->len - mark);
	b->len = mark;
	put_raw(d, b, ev, lossy_note(lossy), lossy & ES_AUDIT_LOSSY_UTF8 ? NULL : &d->decoded);
}

/* ---- the event columns ----
 * One list (ES_AUDIT_EVENT_COLUMNS) gives the columns of both formats, in
 * order, and the CSV column row; put_value writes each column's value. The
 * formats differ only in framing (a JSONL key before each value, a comma
 * between CSV cells) and escaping, which the helpers choose by `json`. */

static void put_text(es_audit__buf *b, const char *s, bool json)
{
	if (json)
		es_audit__buf_json_string(b, s, strlen(s));
	else
		es_audit__buf_csv_cell(b, s, strlen(s));
}

/* A value that was not given: null in JSONL, an empty CSV cell. */
static void put_absent(es_audit__buf *b, bool json)
{
	if (json)
		ES_AUDIT_PUT_LIT(b, "null");
}

/* metadata and data are JSON text: written in place in a JSONL line; in
 * CSV built in scratch, then quoted into the row as one cell. */
static es_audit__buf *json_cell_begin(dumper *d, bool json)
{
	return json ? &d->line : &d->scratch;
}

static void json_cell_end(dumper *d, bool json)
{
	if (json)
		return;
	es_audit__buf_csv_cell(&d->line, d->scratch.data, d->scratch.len);
	d->scratch.len = 0;
}

static void put_optional_time(es_audit__buf *b, int64_t ns, bool json)
{
	if (ns)
		es_audit__buf_time(b, ns, json);
	else
		put_absent(b, json);
}

static void put_optional_id(es_audit__buf *b, const uint8_t id[16], bool json)
{
	static const uint8_t zero[16];
	if (memcmp(id, zero, 16) != 0)
		es_audit__buf_uuid(b, id, json);
	else
		put_absent(b, json);
}

/* recorded_at as text, or as a number. All events of a batch share it, so
 * most events repeat the previous event's cells: their text is kept in c
 * and copied rather than formatted again. */
static void put_recorded_at(dumper *d, cell_cache *c, int64_t ns, bool as_text, bool json)
{
	es_audit__buf *b = &d->line;
	if (c->valid && c->value == ns) {
		es_audit__buf_put(b, c->text, c->len);
		return;
	}
	size_t mark = b->len;
	if (as_text)
		es_audit__buf_time_cached(b, &d->times, ns, json);
	else
		es_audit__buf_i64(b, ns);
	c->valid = !b->failed && b->len - mark <= sizeof c->text;
	if (c->valid) {
		c->value = ns;
		c->len = b->len - mark;
		memcpy(c->text, b->data + mark, c->len);
	}
}

#define COLUMN_ID(name) COL_##name,
typedef enum column { ES_AUDIT_EVENT_COLUMNS(COLUMN_ID) } column;
#undef COLUMN_ID

/* Column col's value, escaped for the format. (A column of the list
 * without a case here is a -Wswitch warning.) */
static inline int put_value(dumper *d, const es_event *ev, column col, bool json)
{
	es_audit__buf *b = &d->line;
	int rc = 0;
	switch (col) {
	case COL_position: es_audit__buf_u64(b, ev->position); break;
	case COL_stream: put_text(b, ev->stream, json); break;
	case COL_version: es_audit__buf_i64(b, ev->version); break;
	case COL_id: es_audit__buf_uuid(b, ev->id, json); break;
	case COL_type: put_text(b, ev->type, json); break;
	case COL_schema_version: es_audit__buf_u64(b, ev->schema_version); break;
	case COL_recorded_at: put_recorded_at(d, &d->at_text, ev->recorded_at, true, json); break;
	case COL_recorded_at_ns: put_recorded_at(d, &d->at_ns, ev->recorded_at, false, json); break;
	case COL_occurred_at: put_optional_time(b, ev->occurred_at, json); break;
	case COL_correlation_id: put_optional_id(b, ev->correlation_id, json); break;
	case COL_causation_id: put_optional_id(b, ev->causation_id, json); break;
	case COL_metadata:
		rc = put_metadata(json_cell_begin(d, json), ev);
		json_cell_end(d, json);
		break;
	case COL_data:
		put_data(d, json_cell_begin(d, json), ev);
		json_cell_end(d, json);
		break;
	}
	return rc;
}

/* What goes before a column's value: its key in JSONL (the record's first
 * opens the object), a comma between CSV cells. key is the literal
 * ,"<name>": so its length is known when this is inlined. */
static inline void put_separator(es_audit__buf *b, bool json, bool first, const char *key, size_t n)
{
	if (json) {
		es_audit__buf_put(b, key, n);
		if (first && !b->failed)
			b->data[b->len - n] = '{';
	} else if (!first) {
		es_audit__buf_putc(b, ',');
	}
}

/* An event as a JSONL object or a CSV row, up to where the writer thread
 * appends the hashes. The column list expands to straight-line code, the
 * switch folding away: a loop over a table of column functions cost 2-3%
 * more instructions in es_dump. */
static int event_record(dumper *d, const es_event *ev)
{
	bool json = d->o->format == ES_DUMP_JSONL, first = true;
	es_audit__buf *b = &d->line;
	int rc;
#define COLUMN(name)                                                                  \
	put_separator(b, json, first, ",\"" #name "\":", sizeof ",\"" #name "\":" - 1); \
	first = false;                                                                \
	if ((rc = put_value(d, ev, COL_##name, json)))                                \
		return rc;
	ES_AUDIT_EVENT_COLUMNS(COLUMN)
#undef COLUMN
	return 0;
}

static int write_event(dumper *d, const es_event *ev)
{
	int rc = event_record(d, ev);
	if (rc) {
		d->line.len = 0;
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
	es_arena_reset(&d->arena);
	int rc = o->upcast ? es_registry_upcast(ev, o->upcast, &d->arena) : 0;
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
	es_audit__buf *b = &d->scratch;
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
	es_audit__buf *b = &d->scratch;
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
	es_arena_init(&d->arena, d->arena_buf, sizeof d->arena_buf);
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
	if (out)
		*out = d->st;
	es_arena_release(&d->arena);
	es_audit__buf_free(&d->line);
	es_audit__buf_free(&d->scratch);
	es_audit__buf_free(&d->decoded);
	es_free(d);
	return rc;
}

ES__OPTIONS_INIT_FN(es_dump_options_init, es_dump_options, ES_DUMP_OPTIONS_INIT, ES_DUMP_OPTIONS_VERSION)
