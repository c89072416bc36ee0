/*
 * encode.c - one event as text: a JSONL object or a CSV row in the dump's
 * event encoding (FORMAT.md "Events"), for es_dump and for
 * es_event_encode. The payload is decoded to JSON through a descriptor,
 * or kept as base64 with a note saying why.
 */
#include <stdio.h>
#include <string.h>

#include "es_alloc.h"
#include "audit_int.h"
#include "es_pb_arena.h"

#define NONCANONICAL 8u /* the payload is not what its decoded form re-encodes to */

void es_audit__encoder_init(es_audit__encoder *e, bool json, es_descriptor_fn descriptor,
                            void *descriptor_user_data)
{
	memset(e, 0, sizeof *e);
	e->json = json;
	e->descriptor = descriptor;
	e->descriptor_user_data = descriptor_user_data;
	es_arena_init(&e->arena, e->arena_buf, sizeof e->arena_buf);
}

void es_audit__encoder_free(es_audit__encoder *e)
{
	es_arena_release(&e->arena);
	es_audit__buf_free(&e->line);
	es_audit__buf_free(&e->scratch);
	es_audit__buf_free(&e->decoded);
}


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

static void put_raw(es_audit__encoder *e, es_audit__buf *b, const es_event *ev, const char *note,
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
	e->raw_payloads++;
}

/* Would the decoded message re-encode to exactly the stored bytes? */
static bool canonical(es_audit__encoder *e, const ProtobufCMessage *msg, const es_event *ev)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n != ev->payload_len)
		return false;
	uint8_t *buf = es_arena_alloc(&e->arena, n ? n : 1);
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
static void put_data(es_audit__encoder *e, es_audit__buf *b, const es_event *ev)
{
	const ProtobufCMessageDescriptor *desc =
	    e->descriptor ? e->descriptor(ev->type, ev->schema_version, e->descriptor_user_data) : NULL;
	char note[ES_TYPE_NAME_MAX + 96];
	if (!desc) {
		snprintf(note, sizeof note, "no descriptor for type '%s' at schema version %u",
		         ev->type, ev->schema_version);
		put_raw(e, b, ev, note, NULL);
		return;
	}
	ProtobufCAllocator alloc = es__pb_allocator(&e->arena);
	ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, ev->payload_len, ev->payload);
	if (!msg) {
		snprintf(note, sizeof note, "the payload does not decode as %.*s",
		         ES_TYPE_NAME_MAX, desc->name);
		put_raw(e, b, ev, note, NULL);
		return;
	}
	size_t mark = b->len;
	unsigned lossy = es_audit__pb_to_json(b, msg);
	if (!lossy && !canonical(e, msg, ev))
		lossy = NONCANONICAL;
	if (!lossy)
		return;
	/* Keep the decoded form for the reader only when it parses back. */
	e->decoded.len = 0;
	es_audit__buf_put(&e->decoded, b->data + mark, b->len - mark);
	b->len = mark;
	put_raw(e, b, ev, lossy_note(lossy), lossy & ES_AUDIT_LOSSY_UTF8 ? NULL : &e->decoded);
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
static es_audit__buf *json_cell_begin(es_audit__encoder *e, bool json)
{
	return json ? &e->line : &e->scratch;
}

static void json_cell_end(es_audit__encoder *e, bool json)
{
	if (json)
		return;
	es_audit__buf_csv_cell(&e->line, e->scratch.data, e->scratch.len);
	e->scratch.len = 0;
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
static void put_recorded_at(es_audit__encoder *e, es_audit__cell_cache *c, int64_t ns, bool as_text, bool json)
{
	es_audit__buf *b = &e->line;
	if (c->valid && c->value == ns) {
		es_audit__buf_put(b, c->text, c->len);
		return;
	}
	size_t mark = b->len;
	if (as_text)
		es_audit__buf_time_cached(b, &e->times, ns, json);
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
static inline int put_value(es_audit__encoder *e, const es_event *ev, column col, bool json)
{
	es_audit__buf *b = &e->line;
	int rc = 0;
	switch (col) {
	case COL_position: es_audit__buf_u64(b, ev->position); break;
	case COL_stream: put_text(b, ev->stream, json); break;
	case COL_version: es_audit__buf_i64(b, ev->version); break;
	case COL_id: es_audit__buf_uuid(b, ev->id, json); break;
	case COL_type: put_text(b, ev->type, json); break;
	case COL_schema_version: es_audit__buf_u64(b, ev->schema_version); break;
	case COL_recorded_at: put_recorded_at(e, &e->at_text, ev->recorded_at, true, json); break;
	case COL_recorded_at_ns: put_recorded_at(e, &e->at_ns, ev->recorded_at, false, json); break;
	case COL_occurred_at: put_optional_time(b, ev->occurred_at, json); break;
	case COL_correlation_id: put_optional_id(b, ev->correlation_id, json); break;
	case COL_causation_id: put_optional_id(b, ev->causation_id, json); break;
	case COL_metadata:
		rc = put_metadata(json_cell_begin(e, json), ev);
		json_cell_end(e, json);
		break;
	case COL_data:
		put_data(e, json_cell_begin(e, json), ev);
		json_cell_end(e, json);
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
int es_audit__encode_event(es_audit__encoder *e, const es_event *ev)
{
	bool json = e->json, first = true;
	es_audit__buf *b = &e->line;
	int rc;
#define COLUMN(name)                                                                  \
	put_separator(b, json, first, ",\"" #name "\":", sizeof ",\"" #name "\":" - 1); \
	first = false;                                                                \
	if ((rc = put_value(e, ev, COL_##name, json)))                                \
		return rc;
	ES_AUDIT_EVENT_COLUMNS(COLUMN)
#undef COLUMN
	return 0;
}


/* ---- the public encoder ---- */

struct es_event_encoder {
	es_audit__encoder e;
};

int es_event_encoder_new(es_event_encoder **out, es_descriptor_fn descriptor, void *descriptor_user_data)
{
	if (!out)
		return es_error_set(ES_EINVAL, "es_event_encoder_new: out is required");
	if (!(*out = es_malloc(sizeof **out)))
		return es_error_set(ES_ENOMEM, "es_event_encoder_new: out of memory");
	es_audit__encoder_init(&(*out)->e, true, descriptor, descriptor_user_data);
	return 0;
}

int es_event_encode(const char **text, size_t *len, es_event_encoder *enc, const es_event *ev)
{
	if (!text || !enc || !ev)
		return es_error_set(ES_EINVAL, "es_event_encode: text, enc and ev are required");
	es_audit__encoder *e = &enc->e;
	e->line.len = 0;
	es_arena_reset(&e->arena);
	int rc = es_audit__encode_event(e, ev);
	if (rc)
		return rc;
	es_audit__buf_put(&e->line, "}", 2); /* the brace and a NUL */
	if (e->line.failed || e->decoded.failed)
		return es_error_set(ES_ENOMEM, "encoding an event: out of memory");
	*text = e->line.data;
	if (len)
		*len = e->line.len - 1;
	return 0;
}

void es_event_encoder_free(es_event_encoder *enc)
{
	if (!enc)
		return;
	es_audit__encoder_free(&enc->e);
	es_free(enc);
}
