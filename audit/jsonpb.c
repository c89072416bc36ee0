/*
 * jsonpb.c - JSON back to a protobuf message, for es_restore: the inverse of
 * pbjson.c, again driven by the descriptor alone. Everything is allocated
 * from an arena, which the loader resets per batch.
 *
 * It is strict: an unknown field, a value of the wrong JSON type, an
 * integer out of its field's range or an unknown enum name is an error
 * naming the field, never a silent default.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "es_pb_arena.h"

typedef struct ctx {
	es_arena *arena;
	const char *path[16]; /* field names from the top, for messages */
	int depth;
} ctx;

static int bad(const ctx *c, const char *field, const char *what)
{
	char path[256] = "";
	size_t at = 0;
	for (int i = 0; i < c->depth && i < 16; i++)
		at += (size_t)snprintf(path + at, at < sizeof path ? sizeof path - at : 0, "%s.", c->path[i]);
	return es_error_set(ES_EINVAL, "data field '%s%s': %s", at < sizeof path ? path : "", field, what);
}

static void *alloc(const ctx *c, size_t size)
{
	return es_arena_alloc(c->arena, size ? size : 1);
}

/* Integers: 64-bit ones are written as strings; numbers are accepted too. */
static bool get_i64(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

static bool get_u64(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return false;
		*out = (uint64_t)json_integer_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || *s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = x;
	return true;
}

static bool get_double(const json_t *v, double *out)
{
	const char *s = json_string_value(v);
	if (json_is_number(v))
		*out = json_number_value(v);
	else if (s && strcmp(s, "NaN") == 0)
		*out = NAN;
	else if (s && strcmp(s, "Infinity") == 0)
		*out = INFINITY;
	else if (s && strcmp(s, "-Infinity") == 0)
		*out = -INFINITY;
	else
		return false;
	return true;
}

static int build(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d, json_t *obj, ctx *c);

static int set_int(const ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
	int64_t i;
	uint64_t u;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
		if (!json_is_integer(v) || !get_i64(v, &i) || i < INT32_MIN || i > INT32_MAX)
			return bad(c, f->name, "not a 32-bit integer");
		int32_t i32 = (int32_t)i;
		memcpy(p, &i32, 4);
		return 0;
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
		if (!json_is_integer(v) || !get_u64(v, &u) || u > UINT32_MAX)
			return bad(c, f->name, "not an unsigned 32-bit integer");
		uint32_t u32 = (uint32_t)u;
		memcpy(p, &u32, 4);
		return 0;
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		if (!get_i64(v, &i))
			return bad(c, f->name, "not a 64-bit integer");
		memcpy(p, &i, 8);
		return 0;
	default:
		if (!get_u64(v, &u))
			return bad(c, f->name, "not an unsigned 64-bit integer");
		memcpy(p, &u, 8);
		return 0;
	}
}

static int set_enum(const ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
	int value;
	if (json_is_string(v)) {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_string_value(v));
		if (!ev)
			return bad(c, f->name, "unknown enum name");
		value = ev->value;
	} else if (json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
	           json_integer_value(v) <= INT_MAX) {
		value = (int)json_integer_value(v);
	} else {
		return bad(c, f->name, "not an enum name or number");
	}
	memcpy(p, &value, sizeof value);
	return 0;
}

static int set_string(const ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
	if (!json_is_string(v))
		return bad(c, f->name, "not a string");
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (memchr(s, '\0', n))
		return bad(c, f->name, "holds a NUL character, which a protobuf-c string cannot");
	char *copy = alloc(c, n + 1);
	if (!copy)
		return es_error_set(ES_ENOMEM, "loading: out of memory");
	memcpy(copy, s, n + 1);
	memcpy(p, &copy, sizeof copy);
	return 0;
}

static int set_bytes(const ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
	const char *s = json_string_value(v);
	if (!s)
		return bad(c, f->name, "not a base64 string");
	size_t n = json_string_length(v), len = 0;
	ProtobufCBinaryData bin = { 0, alloc(c, n / 4 * 3 + 3) };
	if (!bin.data)
		return es_error_set(ES_ENOMEM, "loading: out of memory");
	if (!es_audit__base64_decode(bin.data, &len, s, n))
		return bad(c, f->name, "not valid base64");
	bin.len = len;
	memcpy(p, &bin, sizeof bin);
	return 0;
}

static int set_value(ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_FLOAT: case PROTOBUF_C_TYPE_DOUBLE: {
		double d;
		if (!get_double(v, &d))
			return bad(c, f->name, "not a number");
		if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
			memcpy(p, &d, 8);
		} else {
			float x = (float)d;
			memcpy(p, &x, 4);
		}
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL: {
		if (!json_is_boolean(v))
			return bad(c, f->name, "not true or false");
		protobuf_c_boolean x = json_is_true(v);
		memcpy(p, &x, sizeof x);
		return 0;
	}
	case PROTOBUF_C_TYPE_ENUM: return set_enum(c, f, v, p);
	case PROTOBUF_C_TYPE_STRING: return set_string(c, f, v, p);
	case PROTOBUF_C_TYPE_BYTES: return set_bytes(c, f, v, p);
	case PROTOBUF_C_TYPE_MESSAGE: {
		if (!json_is_object(v))
			return bad(c, f->name, "not an object");
		ProtobufCMessage *m;
		if (c->depth >= 16)
			return bad(c, f->name, "nested too deeply");
		c->path[c->depth++] = f->name;
		int rc = build(&m, f->descriptor, v, c);
		c->depth--;
		if (rc == 0)
			memcpy(p, &m, sizeof m);
		return rc;
	}
	default: return set_int(c, f, v, p);
	}
}

static int set_repeated(ctx *c, const ProtobufCFieldDescriptor *f, json_t *v, char *base)
{
	if (!json_is_array(v))
		return bad(c, f->name, "not an array");
	size_t n = json_array_size(v), size = es_audit__element_size(f->type);
	char *arr = alloc(c, n * size);
	if (!arr)
		return es_error_set(ES_ENOMEM, "loading: out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = set_value(c, f, json_array_get(v, i), arr + i * size);
		if (rc)
			return rc;
	}
	memcpy(base + f->quantifier_offset, &n, sizeof n);
	memcpy(base + f->offset, &arr, sizeof arr);
	return 0;
}

/* Marks an optional or oneof field present, as the dump showed it. */
void es_audit__pb_set_present(const ProtobufCFieldDescriptor *f, char *base)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t id = f->id;
		memcpy(base + f->quantifier_offset, &id, 4);
	} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	           f->type != PROTOBUF_C_TYPE_MESSAGE) {
		protobuf_c_boolean has = 1;
		memcpy(base + f->quantifier_offset, &has, sizeof has);
	}
}

static int build(ProtobufCMessage **out, const ProtobufCMessageDescriptor *d, json_t *obj, ctx *c)
{
	ProtobufCMessage *m = alloc(c, d->sizeof_message);
	if (!m)
		return es_error_set(ES_ENOMEM, "loading: out of memory");
	d->message_init(m);
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
		if (!f)
			return bad(c, key, "no such field in the descriptor");
		int rc = f->label == PROTOBUF_C_LABEL_REPEATED ? set_repeated(c, f, v, (char *)m)
		         : set_value(c, f, v, (char *)m + f->offset);
		if (rc)
			return rc;
		es_audit__pb_set_present(f, (char *)m);
	}
	*out = m;
	return 0;
}

int es_audit__pb_from_json(const void **bytes, size_t *len, const ProtobufCMessageDescriptor *desc,
                           json_t *obj, es_arena *arena)
{
	if (!json_is_object(obj))
		return es_error_set(ES_EINVAL, "data is not an object");
	ctx c = { arena, { 0 }, 0 };
	ProtobufCMessage *m;
	int rc = build(&m, desc, obj, &c);
	if (rc)
		return rc;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = alloc(&c, n);
	if (!buf)
		return es_error_set(ES_ENOMEM, "loading: out of memory");
	protobuf_c_message_pack(m, buf);
	*bytes = buf;
	*len = n;
	return 0;
}
