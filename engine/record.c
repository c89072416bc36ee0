/*
 * record.c - encode and decode event records (layout in record.h).
 * The decoder trusts nothing: every length is checked against the buffer
 * before it is used, so a damaged record is ES_ECORRUPT, never a crash.
 */
#include <string.h>
/* Inlined: the record checksum runs once per event read, and the library
 * call cost a fifth of it. Same algorithm, same values. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "es_bytes.h"
#include "record.h"

#define FLAG_OCCURRED 1u
#define FLAG_CORRELATION 2u
#define FLAG_CAUSATION 4u


static int id_set(const uint8_t id[16])
{
	static const uint8_t zero[16];
	return memcmp(id, zero, 16) != 0;
}

static uint8_t record_flags(const es_event_data *ev)
{
	return (uint8_t)((ev->occurred_at ? FLAG_OCCURRED : 0) |
	                 (id_set(ev->correlation_id) ? FLAG_CORRELATION : 0) |
	                 (id_set(ev->causation_id) ? FLAG_CAUSATION : 0));
}

static size_t optional_size(uint8_t flags)
{
	return ((flags & FLAG_OCCURRED) ? 8 : 0) + ((flags & FLAG_CORRELATION) ? 16 : 0) +
	       ((flags & FLAG_CAUSATION) ? 16 : 0);
}

size_t es__metadata_size(const es_event_data *ev)
{
	if (ev->metadata_count == 0)
		return 0;
	size_t n = 4;
	for (size_t i = 0; i < ev->metadata_count; i++)
		n += 8 + strlen(ev->metadata[i].key) + strlen(ev->metadata[i].value);
	return n;
}

size_t es__record_size(const es_event_data *ev)
{
	return ES_RECORD_HEADER + optional_size(record_flags(ev)) + ev->payload_len +
	       es__metadata_size(ev);
}

static uint8_t *put_string(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	es__put_le32(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return p + 4 + n;
}

/* The checksum leads the record, so it covers one contiguous range. */
uint64_t es__record_checksum(const uint8_t *buf, size_t len)
{
	return XXH3_64bits(buf + 8, len - 8);
}

void es__record_encode(uint8_t *buf, const es_record_in *in)
{
	const es_event_data *ev = in->ev;
	uint8_t flags = record_flags(ev);
	buf[8] = ES_RECORD_FORMAT;
	buf[9] = flags;
	buf[10] = buf[11] = 0;
	es__put_le32(buf + 12, in->type_id);
	es__put_le32(buf + 16, ev->schema_version);
	es__put_le32(buf + 20, (uint32_t)ev->payload_len);
	es__put_le64(buf + 24, in->position);
	es__put_le64(buf + ES_RECORD_OFF_RECORDED_AT, (uint64_t)in->recorded_at);
	memcpy(buf + 40, ev->id, 16);
	uint8_t *p = buf + ES_RECORD_HEADER;
	if (flags & FLAG_OCCURRED) { es__put_le64(p, (uint64_t)ev->occurred_at); p += 8; }
	if (flags & FLAG_CORRELATION) { memcpy(p, ev->correlation_id, 16); p += 16; }
	if (flags & FLAG_CAUSATION) { memcpy(p, ev->causation_id, 16); p += 16; }
	if (ev->payload_len)
		memcpy(p, ev->payload, ev->payload_len);
	p += ev->payload_len;
	if (ev->metadata_count) {
		es__put_le32(p, (uint32_t)ev->metadata_count);
		p += 4;
		for (size_t i = 0; i < ev->metadata_count; i++) {
			p = put_string(p, ev->metadata[i].key);
			p = put_string(p, ev->metadata[i].value);
		}
	}
	es__put_le64(buf, es__record_checksum(buf, (size_t)(p - buf)));
}

int es__record_recorded_at(int64_t *out, const uint8_t *buf, size_t len)
{
	if (len < ES_RECORD_HEADER || buf[8] != ES_RECORD_FORMAT)
		return ES_ECORRUPT;
	*out = (int64_t)es__get_le64(buf + ES_RECORD_OFF_RECORDED_AT);
	return 0;
}

int es__record_decode(es_record_view *out, const uint8_t *buf, size_t len)
{
	if (len < ES_RECORD_HEADER || buf[8] != ES_RECORD_FORMAT || (buf[9] & ~7u))
		return ES_ECORRUPT;
	if (es__get_le64(buf) != es__record_checksum(buf, len))
		return ES_ECORRUPT;
	uint8_t flags = buf[9];
	size_t fixed = ES_RECORD_HEADER + optional_size(flags);
	uint32_t payload_len = es__get_le32(buf + ES_RECORD_OFF_PAYLOAD_LEN);
	if (fixed > len || payload_len > len - fixed)
		return ES_ECORRUPT;
	out->type_id = es__get_le32(buf + 12);
	out->schema_version = es__get_le32(buf + 16);
	out->position = es__get_le64(buf + 24);
	out->recorded_at = (int64_t)es__get_le64(buf + ES_RECORD_OFF_RECORDED_AT);
	memcpy(out->id, buf + 40, 16);
	const uint8_t *p = buf + ES_RECORD_HEADER;
	out->occurred_at = 0;
	if (flags & FLAG_OCCURRED) { out->occurred_at = (int64_t)es__get_le64(p); p += 8; }
	if (flags & FLAG_CORRELATION) { memcpy(out->correlation_id, p, 16); p += 16; }
	else memset(out->correlation_id, 0, 16);
	if (flags & FLAG_CAUSATION) { memcpy(out->causation_id, p, 16); p += 16; }
	else memset(out->causation_id, 0, 16);
	out->payload = p;
	out->payload_len = payload_len;
	out->metadata = p + payload_len;
	out->metadata_len = len - fixed - payload_len;
	return 0;
}

/* One pair from *cursor on; the codes without messages. */
static int metadata_step(const es_event *ev, size_t *cursor, const char **key,
                         size_t *key_len, const char **value, size_t *value_len)
{
	const uint8_t *m = ev->metadata;
	size_t len = ev->metadata_len;
	size_t at = *cursor ? *cursor : 4;
	if (len == 0 || at == len)
		return ES_ITEROVER;
	if (len < 4 || at > len)
		return ES_ECORRUPT;
	const uint8_t *parts[2];
	size_t sizes[2];
	for (int i = 0; i < 2; i++) {
		if (len - at < 4)
			return ES_ECORRUPT;
		size_t n = es__get_le32(m + at);
		at += 4;
		if (n > len - at)
			return ES_ECORRUPT;
		parts[i] = m + at;
		sizes[i] = n;
		at += n;
	}
	*key = (const char *)parts[0];
	*key_len = sizes[0];
	*value = (const char *)parts[1];
	*value_len = sizes[1];
	*cursor = at;
	return 0;
}

/* Metadata is walked lazily: the fold path never pays for it. */
int es_event_metadata_next(const es_event *ev, size_t *cursor, const char **key,
                           size_t *key_len, const char **value, size_t *value_len)
{
	if (!ev || !cursor || !key || !key_len || !value || !value_len)
		return es_error_set(ES_EINVAL, "es_event_metadata_next: ev, cursor, key, key_len, value "
		                    "and value_len are required");
	int rc = metadata_step(ev, cursor, key, key_len, value, value_len);
	if (rc == ES_ECORRUPT)
		return es_error_set(rc, "stream '%s' version %lld: its metadata is malformed after byte %zu",
		                    ev->stream ? ev->stream : "?", (long long)ev->version, *cursor);
	return rc;
}
