/*
 * codec.c - one evstore event as one JetStream message and back (the
 * headers are listed in evstore/relay.h). Names are escaped (%XX for every
 * byte outside [A-Za-z0-9_-]) so a stream name is one subject token and no
 * header holds a byte NATS would not carry; numbers are decimal; the
 * metadata goes as its stored encoding, in hex, and is walked again with
 * es_event_metadata_next on the follower's side.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_int.h"

static const char hexdig[] = "0123456789ABCDEF";

static void escape(char *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-') {
			*out++ = (char)*p;
		} else {
			*out++ = '%';
			*out++ = hexdig[*p >> 4];
			*out++ = hexdig[*p & 15];
		}
	}
	*out = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes len hex digits at s into out (len / 2 bytes). 0 or -1. */
static int unhex(uint8_t *out, const char *s, size_t len)
{
	if (len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		*out++ = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A malloc'd copy of escaped text s, unescaped; NULL when malformed or on ENOMEM. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		uint8_t b;
		if (!s[1] || !s[2] || unhex(&b, s + 1, 2) || b == 0) {
			free(out);
			return NULL;
		}
		*o++ = (char)b;
		s += 2;
	}
	*o = '\0';
	return out;
}

void es_relay__subject(char *out, const char *prefix, const char *stream)
{
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	out[n] = '.';
	escape(out + n + 1, stream);
}

static int all_zero(const uint8_t id[16])
{
	for (int i = 0; i < 16; i++)
		if (id[i])
			return 0;
	return 1;
}

static natsStatus set_u64(natsMsg *m, const char *key, uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	return natsMsgHeader_Set(m, key, buf);
}

static natsStatus set_i64(natsMsg *m, const char *key, int64_t v)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	return natsMsgHeader_Set(m, key, buf);
}

static natsStatus set_id(natsMsg *m, const char *key, const uint8_t id[16])
{
	char text[ES_ID_TEXT_SIZE];
	if (all_zero(id))
		return NATS_OK;
	es_id_format(id, text);
	return natsMsgHeader_Set(m, key, text);
}

static natsStatus set_escaped(natsMsg *m, const char *key, const char *s)
{
	char buf[3 * ES_STREAM_NAME_MAX + 1];
	if (strlen(s) > ES_STREAM_NAME_MAX)
		return NATS_INVALID_ARG;
	escape(buf, s);
	return natsMsgHeader_Set(m, key, buf);
}

static natsStatus set_metadata(natsMsg *m, const es_event *ev)
{
	if (!ev->metadata_len)
		return NATS_OK;
	char *hex = malloc(2 * ev->metadata_len + 1);
	if (!hex)
		return NATS_NO_MEMORY;
	const uint8_t *p = ev->metadata;
	for (size_t i = 0; i < ev->metadata_len; i++) {
		hex[2 * i] = hexdig[p[i] >> 4];
		hex[2 * i + 1] = hexdig[p[i] & 15];
	}
	hex[2 * ev->metadata_len] = '\0';
	natsStatus s = natsMsgHeader_Set(m, "Evstore-Metadata", hex);
	free(hex);
	return s;
}

static natsStatus set_headers(natsMsg *m, const es_event *ev, uint64_t expect, const char *relay_id)
{
	natsStatus s = set_id(m, "Nats-Msg-Id", ev->id);
	if (s == NATS_OK)
		s = set_u64(m, "Nats-Expected-Last-Sequence", expect);
	if (s == NATS_OK)
		s = set_u64(m, "Evstore-Position", ev->position);
	if (s == NATS_OK)
		s = set_escaped(m, "Evstore-Stream", ev->stream);
	if (s == NATS_OK)
		s = set_i64(m, "Evstore-Version", ev->version);
	if (s == NATS_OK)
		s = set_escaped(m, "Evstore-Type", ev->type);
	if (s == NATS_OK)
		s = set_u64(m, "Evstore-Schema-Version", ev->schema_version);
	if (s == NATS_OK)
		s = set_i64(m, "Evstore-Recorded-At", ev->recorded_at);
	if (s == NATS_OK && ev->occurred_at)
		s = set_i64(m, "Evstore-Occurred-At", ev->occurred_at);
	if (s == NATS_OK)
		s = set_id(m, "Evstore-Correlation-Id", ev->correlation_id);
	if (s == NATS_OK)
		s = set_id(m, "Evstore-Causation-Id", ev->causation_id);
	if (s == NATS_OK)
		s = set_metadata(m, ev);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Evstore-Relay", relay_id);
	return s;
}

int es_relay__msg_new(natsMsg **out, const char *prefix, const es_event *ev, uint64_t expect,
                      const char *relay_id)
{
	char subject[ES_RELAY__SUBJECT_MAX];
	es_relay__subject(subject, prefix, ev->stream);
	natsMsg *m = NULL;
	natsStatus s = natsMsg_Create(&m, subject, NULL, ev->payload, (int)ev->payload_len);
	if (s == NATS_OK)
		s = set_headers(m, ev, expect, relay_id);
	if (s == NATS_OK) {
		*out = m;
		return 0;
	}
	natsMsg_Destroy(m);
	return es_relay__nats_fail(s == NATS_NO_MEMORY ? ES_ENOMEM : ES_EIO, s, 0,
	                           "relay: a message for %s@%lld (position %llu)", ev->stream,
	                           (long long)ev->version, (unsigned long long)ev->position);
}

const char *es_relay__msg_header(natsMsg *m, const char *key)
{
	const char *v = NULL;
	return natsMsgHeader_Get(m, key, &v) == NATS_OK ? v : NULL;
}

static int parse_u64(uint64_t *out, const char *s)
{
	char *end;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	*out = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

static int parse_i64(int64_t *out, const char *s)
{
	char *end;
	if (!s || !*s || *s == ' ')
		return -1;
	*out = strtoll(s, &end, 10);
	return *end ? -1 : 0;
}

static int bad(uint64_t seq, const char *header)
{
	return es_error_set(ES_ECORRUPT, "JetStream message %llu is not an evstore event: header %s is "
	                    "missing or malformed", (unsigned long long)seq, header);
}

int es_relay__msg_identity(uint64_t *position, uint8_t id[16], natsMsg *m, uint64_t seq)
{
	const char *idtext = es_relay__msg_header(m, "Nats-Msg-Id");
	if (parse_u64(position, es_relay__msg_header(m, "Evstore-Position")) || *position == 0)
		return bad(seq, "Evstore-Position");
	if (!idtext || es_id_parse(id, idtext))
		return bad(seq, "Nats-Msg-Id");
	return 0;
}

static int opt_id(uint8_t out[16], natsMsg *m, const char *key)
{
	const char *v = es_relay__msg_header(m, key);
	memset(out, 0, 16);
	return v ? es_id_parse(out, v) : 0;
}

/* The metadata pairs, walked from the stored encoding as the engine does. */
static int decode_metadata(es_relay__decoded *d, natsMsg *m, uint64_t seq)
{
	const char *hex = es_relay__msg_header(m, "Evstore-Metadata");
	if (!hex)
		return 0;
	size_t len = strlen(hex) / 2, n = 0, cursor = 0;
	uint8_t *raw = malloc(len + 1);
	d->meta_buf = malloc(2 * len + 2); /* every key and value, NUL-terminated */
	d->meta = malloc((len + 1) * sizeof *d->meta);
	if (!raw || !d->meta_buf || !d->meta) {
		free(raw);
		return es_error_set(ES_ENOMEM, "follower: out of memory for message %llu", (unsigned long long)seq);
	}
	if (unhex(raw, hex, strlen(hex))) {
		free(raw);
		return bad(seq, "Evstore-Metadata");
	}
	es_event ev = { .stream = d->stream, .version = d->ev.version, .position = d->ev.position,
	                .metadata = raw, .metadata_len = len };
	char *p = d->meta_buf;
	const char *k, *v;
	size_t kl, vl;
	int rc;
	while ((rc = es_event_metadata_next(&ev, &cursor, &k, &kl, &v, &vl)) == 0) {
		d->meta[n].key = memcpy(p, k, kl);
		p[kl] = '\0';
		p += kl + 1;
		d->meta[n].value = memcpy(p, v, vl);
		p[vl] = '\0';
		p += vl + 1;
		n++;
	}
	free(raw);
	d->n_meta = n;
	return rc == ES_ITEROVER ? 0 : bad(seq, "Evstore-Metadata");
}

static int decode_fields(es_relay__decoded *d, natsMsg *m, uint64_t seq)
{
	es_imported_event *e = &d->ev;
	uint64_t schema;
	int rc = es_relay__msg_identity(&e->position, e->id, m, seq);
	if (rc)
		return rc;
	if (parse_i64(&e->version, es_relay__msg_header(m, "Evstore-Version")))
		return bad(seq, "Evstore-Version");
	if (parse_i64(&e->recorded_at, es_relay__msg_header(m, "Evstore-Recorded-At")))
		return bad(seq, "Evstore-Recorded-At");
	const char *occurred = es_relay__msg_header(m, "Evstore-Occurred-At");
	if (occurred && parse_i64(&e->occurred_at, occurred))
		return bad(seq, "Evstore-Occurred-At");
	if (parse_u64(&schema, es_relay__msg_header(m, "Evstore-Schema-Version")) || schema > UINT32_MAX)
		return bad(seq, "Evstore-Schema-Version");
	e->schema_version = (uint32_t)schema;
	if (opt_id(e->correlation_id, m, "Evstore-Correlation-Id"))
		return bad(seq, "Evstore-Correlation-Id");
	if (opt_id(e->causation_id, m, "Evstore-Causation-Id"))
		return bad(seq, "Evstore-Causation-Id");
	return 0;
}

int es_relay__msg_decode(es_relay__decoded *d, natsMsg *m, uint64_t seq)
{
	memset(d, 0, sizeof *d);
	const char *stream = es_relay__msg_header(m, "Evstore-Stream");
	const char *type = es_relay__msg_header(m, "Evstore-Type");
	if (!stream || !(d->stream = unescape(stream)))
		return bad(seq, "Evstore-Stream");
	if (!type || !(d->type = unescape(type)))
		return bad(seq, "Evstore-Type");
	int rc = decode_fields(d, m, seq);
	if (rc == 0)
		rc = decode_metadata(d, m, seq);
	if (rc)
		return rc;
	d->ev.stream = d->stream;
	d->ev.type = d->type;
	d->ev.payload = natsMsg_GetData(m);
	d->ev.payload_len = (size_t)natsMsg_GetDataLength(m);
	if (!d->ev.payload)
		d->ev.payload = "";
	d->ev.metadata = d->meta;
	d->ev.metadata_count = d->n_meta;
	return 0;
}

void es_relay__decoded_free(es_relay__decoded *d)
{
	free(d->stream);
	free(d->type);
	free(d->meta);
	free(d->meta_buf);
	memset(d, 0, sizeof *d);
}
