/*
 * jsonpb_fast.c - the common case of jsonpb.c without building a jansson
 * tree: a flat object of scalar fields, as es_dump writes it (no spaces, no
 * escapes, ASCII). Parsing JSON into jansson objects cost more than the rest
 * of a restore together. Anything else (nested messages, repeated fields,
 * bytes, floats, escapes, duplicate keys, non-canonical numbers) is left to
 * jsonpb.c, which also gives the errors: this path never refuses, it only
 * declines, so both paths accept exactly the same records and build the same
 * message.
 */
#include <string.h>

#include "audit_int.h"
#include "es_pb_arena.h"

typedef struct cursor {
	const char *p, *end;
} cursor;

bool es_audit__text_lit(const char **p, const char *end, const char *s, size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

#define lit(c, s, n) es_audit__text_lit(&(c)->p, (c)->end, (s), (n))

bool es_audit__text_string(const char **s, size_t *n, const char **p, const char *end)
{
	const char *start = *p + 1, *q;
	if (*p >= end || **p != '"' || !(q = memchr(start, '"', (size_t)(end - start))))
		return false;
	/* jansson decides escapes, control bytes and UTF-8: one test a byte
	 * for the last two (< 0x20 or >= 0x80), and a backslash declines too. */
	for (const char *c = start; c < q; c++)
		if ((unsigned char)(*c - 0x20) >= 0x60 || *c == '\\')
			return false;
	*s = start;
	*n = (size_t)(q - start);
	*p = q + 1;
	return true;
}

bool es_audit__text_u64(uint64_t *out, const char **p, const char *end)
{
	const char *q = *p;
	uint64_t v = 0;
	size_t digits = 0;
	while (q < end && *q >= '0' && *q <= '9' && digits < 20) {
		unsigned d = (unsigned)(*q++ - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		digits++;
	}
	/* Canonical only: no leading zero, not followed by a fraction or exponent. */
	if (digits == 0 || (digits > 1 && (*p)[0] == '0') ||
	    (q < end && (*q == '.' || *q == 'e' || *q == 'E' || (*q >= '0' && *q <= '9'))))
		return false;
	*out = v;
	*p = q;
	return true;
}

bool es_audit__text_i64(int64_t *out, const char **p, const char *end)
{
	const char *q = *p;
	bool neg = q < end && *q == '-';
	uint64_t u;
	q += neg;
	if (!es_audit__text_u64(&u, &q, end) || u > (uint64_t)INT64_MAX || (neg && u == 0))
		return false;
	*out = neg ? -(int64_t)u : (int64_t)u;
	*p = q;
	return true;
}

/* A quoted integer, as 64-bit fields are written, or a plain one. */
static bool quoted_or_plain(cursor *c, bool is_signed, int64_t *i, uint64_t *u)
{
	bool quoted = c->p < c->end && *c->p == '"';
	c->p += quoted;
	bool ok = is_signed ? es_audit__text_i64(i, &c->p, c->end) : es_audit__text_u64(u, &c->p, c->end);
	/* jansson's integers are signed 64-bit: a larger plain number is its error to give. */
	return ok && (quoted ? lit(c, "\"", 1) : is_signed || *u <= (uint64_t)INT64_MAX);
}

static bool set_scalar(cursor *c, const ProtobufCFieldDescriptor *f, char *p, es_arena *arena)
{
	int64_t i = 0;
	uint64_t u = 0;
	const char *s;
	size_t n;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32: {
		if (!es_audit__text_i64(&i, &c->p, c->end) || i < INT32_MIN || i > INT32_MAX)
			return false;
		int32_t v = (int32_t)i;
		memcpy(p, &v, 4);
		return true;
	}
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32: {
		if (!es_audit__text_u64(&u, &c->p, c->end) || u > UINT32_MAX)
			return false;
		uint32_t v = (uint32_t)u;
		memcpy(p, &v, 4);
		return true;
	}
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
		if (!quoted_or_plain(c, true, &i, &u))
			return false;
		memcpy(p, &i, 8);
		return true;
	case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
		if (!quoted_or_plain(c, false, &i, &u))
			return false;
		memcpy(p, &u, 8);
		return true;
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b = lit(c, "true", 4);
		if (!b && !lit(c, "false", 5))
			return false;
		memcpy(p, &b, sizeof b);
		return true;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		char name[128];
		if (!es_audit__text_string(&s, &n, &c->p, c->end) || n >= sizeof name)
			return false;
		memcpy(name, s, n);
		name[n] = '\0';
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, name);
		if (!ev)
			return false;
		int v = ev->value;
		memcpy(p, &v, sizeof v);
		return true;
	}
	case PROTOBUF_C_TYPE_STRING: {
		char *copy;
		if (!es_audit__text_string(&s, &n, &c->p, c->end) || !(copy = es_arena_alloc(arena, n + 1)))
			return false;
		memcpy(copy, s, n);
		copy[n] = '\0';
		memcpy(p, &copy, sizeof copy);
		return true;
	}
	default: /* floats, bytes, messages: jsonpb.c */
		return false;
	}
}

int es_audit__pb_from_text(const void **bytes, size_t *len, const ProtobufCMessageDescriptor *d,
                           const char *text, size_t text_len, es_arena *arena)
{
	cursor c = { text, text + text_len };
	uint64_t seen[4] = { 0 }; /* fields set, by index: a duplicate key declines */
	if (d->n_fields > 256 || !lit(&c, "{", 1))
		return 0;
	ProtobufCMessage *m = es_arena_alloc(arena, d->sizeof_message);
	if (!m)
		return 0;
	d->message_init(m);
	for (bool first = true; !lit(&c, "}", 1); first = false) {
		const char *key;
		size_t n;
		char name[128];
		if ((!first && !lit(&c, ",", 1)) || !es_audit__text_string(&key, &n, &c.p, c.end) ||
		    n >= sizeof name || !lit(&c, ":", 1))
			return 0;
		memcpy(name, key, n);
		name[n] = '\0';
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
		if (!f || f->label == PROTOBUF_C_LABEL_REPEATED)
			return 0;
		size_t index = (size_t)(f - d->fields);
		if (seen[index / 64] & ((uint64_t)1 << (index % 64)))
			return 0;
		seen[index / 64] |= (uint64_t)1 << (index % 64);
		if (!set_scalar(&c, f, (char *)m + f->offset, arena))
			return 0;
		es_audit__pb_set_present(f, (char *)m);
	}
	if (c.p != c.end)
		return 0;
	size_t size = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = es_arena_alloc(arena, size ? size : 1);
	if (!buf)
		return 0;
	protobuf_c_message_pack(m, buf);
	*bytes = buf;
	*len = size;
	return 1;
}
