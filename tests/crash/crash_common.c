/*
 * crash_common.c - the encodings both sides of the crash campaign agree on:
 * raw event ids and payloads (each names its operation, part and index, and
 * carries filler derived from them, so a torn or misplaced record shows),
 * account names and command references.
 */
#include <stdio.h>
#include <string.h>

#include "crash.h"

static const uint8_t id_tag[6] = { 'c', 'r', 'a', 's', 'h', '!' };

uint64_t cr_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void cr_raw_id(uint8_t out[16], uint64_t op_id, unsigned part, unsigned index)
{
	/* Big-endian op id first: ids of one operation sit together in the index. */
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(op_id >> (56 - 8 * i));
	out[8] = (uint8_t)part;
	out[9] = (uint8_t)index;
	memcpy(out + 10, id_tag, sizeof id_tag); /* never all zero */
}

static uint8_t filler_byte(uint64_t op_id, unsigned part, unsigned index, uint32_t i)
{
	return (uint8_t)(op_id * 31 + part * 7 + index * 13 + i * 5 + (i >> 8));
}

void cr_raw_payload(uint8_t *buf, uint64_t op_id, unsigned part, unsigned index, uint32_t filler)
{
	put_u64(buf, op_id);
	buf[8] = (uint8_t)part;
	buf[9] = (uint8_t)index;
	buf[10] = buf[11] = 0;
	for (int i = 0; i < 4; i++)
		buf[12 + i] = (uint8_t)(filler >> (8 * i));
	for (uint32_t i = 0; i < filler; i++)
		buf[CR_RAW_HEADER + i] = filler_byte(op_id, part, index, i);
}

int cr_raw_parse(const void *payload, size_t len, uint64_t *op_id, unsigned *part,
                 unsigned *index, uint32_t *filler, int check_filler)
{
	const uint8_t *p = payload;
	if (len < CR_RAW_HEADER)
		return -1;
	*op_id = get_u64(p);
	*part = p[8];
	*index = p[9];
	*filler = (uint32_t)p[12] | (uint32_t)p[13] << 8 | (uint32_t)p[14] << 16 | (uint32_t)p[15] << 24;
	if (len != CR_RAW_HEADER + (size_t)*filler)
		return -1;
	for (uint32_t i = 0; check_filler && i < *filler; i++)
		if (p[CR_RAW_HEADER + i] != filler_byte(*op_id, *part, *index, i))
			return -1;
	return 0;
}

void cr_account_id(char out[16], unsigned i)
{
	snprintf(out, 16, "c%u", i);
}

void cr_account_stream(char out[32], unsigned i)
{
	snprintf(out, 32, "account-c%u", i);
}

void cr_reference(char out[24], uint64_t op_id)
{
	snprintf(out, 24, "op-%016llx", (unsigned long long)op_id);
}
