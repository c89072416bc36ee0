/*
 * envelope.c - the snapshot envelope (layout in es_engine_int.h): sealed by
 * the snapshots module, opened by it to select a snapshot and by es_check to
 * verify one, so the format is defined once.
 */
#include <xxhash.h>

#include "es_bytes.h"
#include "es_engine_int.h"

#define ENVELOPE_FORMAT 1

void es__envelope_seal(uint8_t *buf, uint32_t state_schema, uint64_t fingerprint,
                       const void *state, size_t state_len)
{
	memset(buf, 0, 4);
	buf[0] = ENVELOPE_FORMAT;
	es__put_le32(buf + 4, state_schema);
	es__put_le64(buf + 8, fingerprint);
	es__put_le64(buf + 16, XXH3_64bits(state, state_len));
}

es__envelope_fault es__envelope_open(es__envelope *out, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	/* Reserved bytes are written as zero; anything else is not this format. */
	if (len < ES__ENVELOPE_HEADER || b[0] != ENVELOPE_FORMAT || b[1] || b[2] || b[3])
		return ES__ENVELOPE_MALFORMED;
	if (es__get_le64(b + 16) != XXH3_64bits(b + ES__ENVELOPE_HEADER, len - ES__ENVELOPE_HEADER))
		return ES__ENVELOPE_CHECKSUM;
	out->state_schema = es__get_le32(b + 4);
	out->fingerprint = es__get_le64(b + 8);
	out->state = b + ES__ENVELOPE_HEADER;
	out->state_len = len - ES__ENVELOPE_HEADER;
	return ES__ENVELOPE_INTACT;
}
