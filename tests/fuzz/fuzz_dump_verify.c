/*
 * fuzz_dump_verify.c - the dump verifier (es_dump_verify) over a FILE made
 * from the input (fmemopen).
 *
 * Input: byte 0's low bit says whether to repair the hash chain first (so
 * mutations inside records reach the field checks instead of stopping at
 * the first hash); the rest is a dump, JSONL or CSV.
 * Properties: 0 exactly when the result says intact; a problem names a
 * line within the file and comes with a message.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = size - 1;
	uint8_t *fixed = NULL;
	const uint8_t *dump = data + 1;
	if (data[0] & 1)
		dump = fixed = fuzz_fix_chain(data + 1, size - 1, &len);
	FILE *f = fuzz_memfile(dump, len);
	es_verify_result res;
	int rc = es_dump_verify(&res, f);
	fclose(f);
	FUZZ_CHECK((rc == 0) == (res.problem == ES_VERIFY_OK));
	if (rc) {
		FUZZ_CHECK(rc == ES_ECORRUPT || rc == ES_EFORMAT || rc == ES_ENOMEM);
		FUZZ_CHECK(res.message[0] != '\0' && memchr(res.message, '\0', sizeof res.message));
		FUZZ_CHECK(res.line <= res.lines + 1);
	}
	free(fixed);
	return 0;
}
