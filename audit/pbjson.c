/*
 * pbjson.c - a protobuf message to JSON, generically: the walk follows the
 * message's descriptor, so no event type needs a printer of its own.
 *
 * The mapping (FORMAT.md "data") follows protobuf's JSON mapping with the
 * proto field names kept: 64-bit integers as decimal strings, other numbers
 * as JSON numbers, enums by name, bytes as base64, NaN and infinities as
 * strings (a NaN whose bits are not the usual quiet NaN counts as lossy). A field is written when its value would be packed: always for
 * required and proto3 implicit fields, when present for optional and oneof
 * fields; repeated fields always, as arrays. So re-encoding the JSON gives
 * back the same bytes (dump.c checks that and falls back to base64).
 */
#include <math.h>
#include <string.h>

#include "audit_int.h"

static unsigned write_message(es_audit__buf *b, const ProtobufCMessage *msg);

static unsigned write_string(es_audit__buf *b, const char *s)
{
	if (!s)
		s = "";
	return es_audit__buf_json_string(b, s, strlen(s)) ? 0 : ES_AUDIT_LOSSY_UTF8;
}

static void write_enum(es_audit__buf *b, const ProtobufCFieldDescriptor *f, int value)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, value);
	if (ev) {
		es_audit__buf_json_string(b, ev->name, strlen(ev->name));
	} else {
		/* A value this descriptor does not name (a newer enum): its number. */
		es_audit__buf_i64(b, value);
	}
}

/* One value of field f at p (a member, or an element of a repeated array). */
static unsigned write_value(es_audit__buf *b, const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: { int32_t v; memcpy(&v, p, 4); es_audit__buf_i64(b, v); break; }
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: { uint32_t v; memcpy(&v, p, 4); es_audit__buf_u64(b, v); break; }
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v;
		memcpy(&v, p, 8);
		es_audit__buf_putc(b, '"');
		es_audit__buf_i64(b, v);
		es_audit__buf_putc(b, '"');
		break;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		uint64_t v;
		memcpy(&v, p, 8);
		es_audit__buf_putc(b, '"');
		es_audit__buf_u64(b, v);
		es_audit__buf_putc(b, '"');
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT: {
		float v;
		static const float nan_f = NAN;
		memcpy(&v, p, 4);
		es_audit__buf_float(b, v);
		return isnan(v) && memcmp(&v, &nan_f, 4) != 0 ? ES_AUDIT_LOSSY_NAN : 0;
	}
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;
		static const double nan_d = NAN;
		memcpy(&v, p, 8);
		es_audit__buf_double(b, v);
		return isnan(v) && memcmp(&v, &nan_d, 8) != 0 ? ES_AUDIT_LOSSY_NAN : 0;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean v;
		memcpy(&v, p, sizeof v);
		es_audit__buf_puts(b, v ? "true" : "false");
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: { int v; memcpy(&v, p, sizeof v); write_enum(b, f, v); break; }
	case PROTOBUF_C_TYPE_STRING: { const char *s; memcpy(&s, p, sizeof s); return write_string(b, s); }
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData v;
		memcpy(&v, p, sizeof v);
		es_audit__buf_putc(b, '"');
		es_audit__buf_base64(b, v.data, v.len);
		es_audit__buf_putc(b, '"');
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m;
		memcpy(&m, p, sizeof m);
		return write_message(b, m);
	}
	}
	return 0;
}

size_t es_audit__element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	default: return 4;
	}
}

/* Whether protobuf-c would pack the field: what the JSON must show. */
static bool field_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;
	const void *member = base + f->offset;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return true;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t which;
		memcpy(&which, base + f->quantifier_offset, 4);
		return which == f->id;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const void *ptr;
		memcpy(&ptr, member, sizeof ptr);
		return ptr != NULL;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const void *ptr;
			memcpy(&ptr, member, sizeof ptr);
			return ptr != NULL && ptr != f->default_value;
		}
		protobuf_c_boolean has;
		memcpy(&has, base + f->quantifier_offset, sizeof has);
		return has;
	}
	return true; /* required, proto3 implicit */
}

static unsigned write_repeated(es_audit__buf *b, const ProtobufCMessage *msg,
                               const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)msg;
	size_t n;
	const char *arr;
	memcpy(&n, base + f->quantifier_offset, sizeof n);
	memcpy(&arr, base + f->offset, sizeof arr);
	size_t size = es_audit__element_size(f->type);
	unsigned lossy = 0;
	es_audit__buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			es_audit__buf_putc(b, ',');
		lossy |= write_value(b, f, arr + i * size);
	}
	es_audit__buf_putc(b, ']');
	return lossy;
}

static unsigned write_message(es_audit__buf *b, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	unsigned lossy = msg->n_unknown_fields ? ES_AUDIT_LOSSY_UNKNOWN : 0;
	bool first = true;
	es_audit__buf_putc(b, '{');
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!field_present(msg, f))
			continue;
		if (!first)
			es_audit__buf_putc(b, ',');
		first = false;
		/* protobuf field names are identifiers: nothing to escape */
		es_audit__buf_putc(b, '"');
		es_audit__buf_puts(b, f->name);
		es_audit__buf_put(b, "\":", 2);
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			lossy |= write_repeated(b, msg, f);
		else
			lossy |= write_value(b, f, (const char *)msg + f->offset);
	}
	es_audit__buf_putc(b, '}');
	return lossy;
}

unsigned es_audit__pb_to_json(es_audit__buf *b, const ProtobufCMessage *msg)
{
	return write_message(b, msg);
}
