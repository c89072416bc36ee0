/*
 * restore_parse.c - one event record of a JSONL dump back into an event to
 * import. Two paths: the layout es_dump writes (members in FORMAT.md's
 * order, no spaces, no escapes), read in place with no allocation but the
 * copies the event keeps; and jansson for everything else. The fast path
 * only declines, never refuses, so the errors (and what is accepted) are
 * jansson's path's alone.
 */
#include <stdio.h>
#include <string.h>

#include "audit_int.h"

#define MAX_METADATA 1024
#define FAST_METADATA 16 /* more pairs than this: checking for duplicates is jansson's */

static int line_error(int code, uint64_t line, const char *what)
{
	return es_error_set(code, "line %llu: %s", (unsigned long long)line, what);
}

/* A NUL-terminated copy in the arena. */
static char *keep(es_arena *a, const char *s, size_t n)
{
	char *p = es_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* ---- the fast path ---- */

typedef struct fast {
	const char *p, *end;
	es_arena *arena;
} fast;

/* A literal's length is known at compile time: every line matches a dozen. */
#define lit(f, s) es_audit__text_lit(&(f)->p, (f)->end, "" s, sizeof(s) - 1)

static bool str(fast *f, const char **s, size_t *n)
{
	return es_audit__text_string(s, n, &f->p, f->end);
}

/* A string member's value into a NUL-terminated buffer of `size`. */
static bool small_str(fast *f, char *buf, size_t size)
{
	const char *s;
	size_t n;
	if (!str(f, &s, &n) || n >= size)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static bool id(fast *f, uint8_t out[16], bool nullable)
{
	char text[ES_ID_TEXT_SIZE];
	if (nullable && lit(f, "null")) {
		memset(out, 0, 16);
		return true;
	}
	return small_str(f, text, sizeof text) && es_id_parse(out, text) == 0;
}

static bool metadata(fast *f, es_imported_event *ev)
{
	if (lit(f, "{}"))
		return true;
	es_metadata md[FAST_METADATA];
	size_t n = 0;
	if (!lit(f, "{"))
		return false;
	do {
		const char *k, *v;
		size_t kl, vl;
		if (n == FAST_METADATA || !str(f, &k, &kl) || !lit(f, ":") || !str(f, &v, &vl))
			return false;
		if (!(md[n].key = keep(f->arena, k, kl)) || !(md[n].value = keep(f->arena, v, vl)))
			return false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(md[i].key, md[n].key) == 0)
				return false; /* jansson refuses duplicate keys */
		n++;
	} while (lit(f, ","));
	es_metadata *out = lit(f, "}") ? es_arena_alloc(f->arena, n * sizeof *out) : NULL;
	if (!out)
		return false;
	memcpy(out, md, n * sizeof *out);
	ev->metadata = out;
	ev->metadata_count = n;
	return true;
}

/* The data object ends at the brace that closes it: no string in it holds a
 * brace that counts, since the fast path's strings have no escapes. */
static bool data_span(fast *f, const char **start, size_t *len)
{
	const char *p = f->p;
	int depth = 0;
	bool in_str = false;
	for (; p < f->end; p++) {
		if (*p == '"')
			in_str = !in_str;
		else if (!in_str && (*p == '{' || *p == '['))
			depth++;
		else if (!in_str && (*p == '}' || *p == ']') && --depth == 0)
			break;
	}
	if (p >= f->end || *f->p != '{')
		return false;
	*start = f->p;
	*len = (size_t)(p + 1 - f->p);
	f->p = p + 1;
	return true;
}

static int payload(fast *f, es_imported_event *ev, const char *data, size_t len,
                   es_descriptor_fn descriptor, void *user_data)
{
	static const char b64[] = "{\"@base64\":\"";
	if (len > sizeof b64 && memcmp(data, b64, sizeof b64 - 1) == 0) {
		const char *s = data + sizeof b64 - 1;
		size_t n = len - (sizeof b64 - 1) - 2, out = 0;
		uint8_t *p = es_arena_alloc(f->arena, n / 4 * 3 + 3);
		if (memcmp(s + n, "\"}", 2) != 0 || memchr(s, '"', n) || !p ||
		    !es_audit__base64_decode(p, &out, s, n))
			return 0;
		ev->payload = p;
		ev->payload_len = out;
		return 1;
	}
	const ProtobufCMessageDescriptor *d = descriptor ? descriptor(ev->type, ev->schema_version, user_data) : NULL;
	return d ? es_audit__pb_from_text(&ev->payload, &ev->payload_len, d, data, len, f->arena) : 0;
}

/* 1 parsed, 0 declined (the jansson path decides). */
static int parse_fast(es_imported_event *ev, const char *rec, size_t len, es_descriptor_fn descriptor,
                      void *user_data, es_arena *arena)
{
	fast f = { rec, rec + len, arena };
	const char *s, *data;
	size_t n, data_len;
	uint64_t pos, schema;
	int64_t ns, at;
	char text[64];
	if (memchr(rec, '\\', len))
		return 0;
	memset(ev, 0, sizeof *ev);
	if (!lit(&f, "{\"position\":") || !es_audit__text_u64(&pos, &f.p, f.end) || pos < 1 ||
	    !lit(&f, ",\"stream\":") || !str(&f, &s, &n) || !(ev->stream = keep(arena, s, n)) ||
	    !lit(&f, ",\"version\":") || !es_audit__text_i64(&ev->version, &f.p, f.end) || ev->version < 0 ||
	    !lit(&f, ",\"id\":") || !id(&f, ev->id, false) ||
	    !lit(&f, ",\"type\":") || !str(&f, &s, &n) || !(ev->type = keep(arena, s, n)) ||
	    !lit(&f, ",\"schema_version\":") || !es_audit__text_u64(&schema, &f.p, f.end) || schema > UINT32_MAX ||
	    !lit(&f, ",\"recorded_at\":") || !small_str(&f, text, sizeof text) || es_time_parse(&at, text) ||
	    !lit(&f, ",\"recorded_at_ns\":") || !es_audit__text_i64(&ns, &f.p, f.end) || ns != at ||
	    !lit(&f, ",\"occurred_at\":"))
		return 0;
	if (!lit(&f, "null") && (!small_str(&f, text, sizeof text) || es_time_parse(&ev->occurred_at, text)))
		return 0;
	if (!lit(&f, ",\"correlation_id\":") || !id(&f, ev->correlation_id, true) ||
	    !lit(&f, ",\"causation_id\":") || !id(&f, ev->causation_id, true) ||
	    !lit(&f, ",\"metadata\":") || !metadata(&f, ev) || !lit(&f, ",\"data\":") ||
	    !data_span(&f, &data, &data_len) || !lit(&f, "," ES_AUDIT_JSONL_PREV))
		return 0;
	ev->position = pos;
	ev->recorded_at = at;
	ev->schema_version = (uint32_t)schema;
	return payload(&f, ev, data, data_len, descriptor, user_data);
}

/* ---- jansson ---- */

static int get_id(uint8_t out[16], json_t *v, bool optional)
{
	memset(out, 0, 16);
	if (optional && json_is_null(v))
		return 0;
	const char *s = json_string_value(v);
	return s ? es_id_parse(out, s) : ES_EINVAL;
}

static int get_metadata(es_imported_event *ev, json_t *m, es_arena *a)
{
	size_t n = json_is_object(m) ? json_object_size(m) : json_is_array(m) ? json_array_size(m) : SIZE_MAX;
	if (n == SIZE_MAX || n > MAX_METADATA)
		return ES_EINVAL;
	es_metadata *md = n ? es_arena_alloc(a, n * sizeof *md) : NULL;
	if (n && !md)
		return ES_ENOMEM;
	size_t i = 0;
	const char *key;
	json_t *v;
	if (json_is_object(m)) {
		json_object_foreach(m, key, v) {
			if (!json_is_string(v))
				return ES_EINVAL;
			md[i].key = keep(a, key, strlen(key));
			md[i++].value = keep(a, json_string_value(v), json_string_length(v));
		}
	} else {
		json_array_foreach(m, i, v) {
			const char *k = json_string_value(json_array_get(v, 0));
			const char *val = json_string_value(json_array_get(v, 1));
			if (json_array_size(v) != 2 || !k || !val)
				return ES_EINVAL;
			md[i].key = keep(a, k, strlen(k));
			md[i].value = keep(a, val, strlen(val));
		}
	}
	for (size_t j = 0; j < n; j++)
		if (!md[j].key || !md[j].value)
			return ES_ENOMEM;
	ev->metadata = md;
	ev->metadata_count = n;
	return 0;
}

static int get_payload(es_imported_event *ev, json_t *data, uint64_t line, es_descriptor_fn descriptor,
                       void *user_data, es_arena *a)
{
	json_t *raw = json_object_get(data, "@base64");
	if (raw) {
		const char *s = json_string_value(raw);
		size_t n = s ? json_string_length(raw) : 0, len = 0;
		uint8_t *p = es_arena_alloc(a, n / 4 * 3 + 3);
		if (!s || !p || !es_audit__base64_decode(p, &len, s, n))
			return line_error(p || !s ? ES_ECORRUPT : ES_ENOMEM, line, "data.@base64 is not base64");
		ev->payload = p;
		ev->payload_len = len;
		return 0;
	}
	const ProtobufCMessageDescriptor *desc = descriptor ? descriptor(ev->type, ev->schema_version, user_data) : NULL;
	if (!desc) {
		char what[ES_TYPE_NAME_MAX + 96];
		snprintf(what, sizeof what, "no descriptor for type '%s' at schema version %u to encode "
		         "its data", ev->type, ev->schema_version);
		return line_error(ES_ESCHEMA, line, what);
	}
	int rc = es_audit__pb_from_json(&ev->payload, &ev->payload_len, desc, data, a);
	if (rc) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", es_error_last()->message);
		return line_error(rc == ES_EINVAL ? ES_ECORRUPT : rc, line, msg);
	}
	return 0;
}

static int get_envelope(es_imported_event *ev, json_t *j, es_arena *a)
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
	ev->position = (uint64_t)json_integer_value(pos);
	ev->version = json_integer_value(ver);
	ev->schema_version = (uint32_t)json_integer_value(schema);
	ev->recorded_at = t;
	ev->stream = keep(a, name, strlen(name));
	ev->type = keep(a, type, strlen(type));
	return ev->stream && ev->type ? 0 : ES_ENOMEM;
}

static int parse_json(es_imported_event *ev, const char *rec, size_t len, uint64_t line,
                      es_descriptor_fn descriptor, void *user_data, es_arena *a)
{
	json_error_t jerr;
	json_t *j = json_loadb(rec, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		char what[200];
		snprintf(what, sizeof what, "not valid JSON: %s", jerr.text);
		return line_error(ES_ECORRUPT, line, what);
	}
	memset(ev, 0, sizeof *ev);
	int rc = get_envelope(ev, j, a);
	if (rc == ES_EINVAL)
		rc = line_error(ES_ECORRUPT, line, "an envelope field is missing or malformed");
	if (rc == 0 && (rc = get_metadata(ev, json_object_get(j, "metadata"), a)) == ES_EINVAL)
		rc = line_error(ES_ECORRUPT, line, "metadata is malformed");
	if (rc == 0 && !json_is_object(json_object_get(j, "data")))
		rc = line_error(ES_ECORRUPT, line, "data is not an object");
	if (rc == 0)
		rc = get_payload(ev, json_object_get(j, "data"), line, descriptor, user_data, a);
	json_decref(j);
	return rc == ES_ENOMEM ? line_error(rc, line, "out of memory") : rc;
}

int es_audit__parse_event(es_imported_event *ev, const char *rec, size_t len, uint64_t line,
                          es_descriptor_fn descriptor, void *descriptor_user_data, es_arena *arena)
{
	if (parse_fast(ev, rec, len, descriptor, descriptor_user_data, arena) == 1)
		return 0;
	return parse_json(ev, rec, len, line, descriptor, descriptor_user_data, arena);
}
