/*
 * wire.c - reading a money event's amount straight from its protobuf wire
 * bytes. A fold needs only amount_minor; unpacking a whole MoneyDeposited
 * (three strings) was nearly half of the fold's instructions. The scan
 * still walks and bounds-checks every field, and refuses what protobuf-c's
 * unpack would refuse for this message, so a damaged payload is reported
 * exactly as before.
 */
#include <stdint.h>

#include <evstore/bank.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

static int read_varint_long(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1; /* truncated, or longer than ten bytes */
}

/* Tags and string lengths here fit in one byte: that case stays inline. */
static inline int read_varint(uint64_t *out, const uint8_t **p, const uint8_t *end)
{
	if (*p < end && **p < 0x80) {
		*out = *(*p)++;
		return 0;
	}
	return read_varint_long(out, p, end);
}

/* Skips one field's value; -1 if it runs past the end or the type is unknown. */
static inline int skip_value(unsigned int wire, const uint8_t **p, const uint8_t *end)
{
	uint64_t n;
	switch (wire) {
	case WIRE_VARINT: return read_varint(&n, p, end);
	case WIRE_FIXED64: n = 8; break;
	case WIRE_FIXED32: n = 4; break;
	case WIRE_BYTES:
		if (read_varint(&n, p, end))
			return -1;
		break;
	default: return -1; /* groups and reserved types: not in these messages */
	}
	if (n > (uint64_t)(end - *p))
		return -1;
	*p += n;
	return 0;
}

int es_bank_amount_of(int64_t *out, const void *payload, size_t len)
{
	const uint8_t *p = payload, *end = p + len;
	int64_t amount = 0; /* proto3: absent means zero */
	if (!out || (len && !payload))
		return ES_EINVAL;
	while (p < end) {
		uint64_t tag, v;
		if (read_varint(&tag, &p, end) || (tag >> 3) == 0)
			return ES_ECORRUPT;
		unsigned int field = (unsigned int)(tag >> 3), wire = (unsigned int)(tag & 7);
		if (field == 1) { /* amount_minor: a varint, last one wins */
			if (wire != WIRE_VARINT || read_varint(&v, &p, end))
				return ES_ECORRUPT;
			amount = (int64_t)v;
		} else if ((field >= 2 && field <= 4 && wire != WIRE_BYTES) || skip_value(wire, &p, end)) {
			return ES_ECORRUPT; /* the string fields must be length-delimited */
		}
	}
	*out = amount;
	return 0;
}
