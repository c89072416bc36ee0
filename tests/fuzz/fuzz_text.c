/*
 * fuzz_text.c - parsing text: times (es_time_parse), amounts
 * (es_bank_money_parse), event ids (es_id_parse), currency codes, and release
 * 1's double amounts (es_bank_v1_amount_to_minor).
 *
 * Input: byte 0 picks the parser and, for amounts, the decimals (0..11:
 * 10 and 11 are out of range); the rest is the text (up to the first NUL),
 * or, for es_bank_v1_amount_to_minor, 8 bytes of a double.
 * Properties: whatever parses formats back to text that parses to the same
 * value; every refusal says why; no amount parse leaves int64.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

static void refused(int rc)
{
	FUZZ_CHECK(rc < 0 && es_error_last()->code == rc && es_error_last()->message[0]);
}

static void time_text(const char *text)
{
	int64_t ns, again;
	char out[ES_TIME_TEXT_SIZE];
	int rc = es_time_parse(&ns, text);
	if (rc) {
		FUZZ_CHECK(rc == ES_EINVAL || rc == ES_ERANGE);
		refused(rc);
		return;
	}
	FUZZ_CHECK(es_time_format(out, sizeof out, ns) == 0);
	FUZZ_CHECK(es_time_parse(&again, out) == 0 && again == ns);
}

static void money_text(const char *text, int decimals)
{
	int64_t v, again;
	char out[ES_BANK_MONEY_TEXT_SIZE];
	int rc = es_bank_money_parse(&v, text, decimals);
	if (rc) {
		FUZZ_CHECK(rc == ES_EINVAL || rc == ES_ERANGE);
		refused(rc);
		return;
	}
	FUZZ_CHECK(v >= 0 && decimals >= 0 && decimals <= 9);
	FUZZ_CHECK(es_bank_money_format(out, sizeof out, v, decimals) == 0);
	FUZZ_CHECK(es_bank_money_parse(&again, out, decimals) == 0 && again == v);
}

static void id_text(const char *text)
{
	uint8_t id[16], again[16];
	char out[ES_ID_TEXT_SIZE];
	int rc = es_id_parse(id, text);
	if (rc) {
		refused(rc);
		return;
	}
	es_id_format(id, out);
	FUZZ_CHECK(strlen(out) == ES_ID_TEXT_SIZE - 1);
	FUZZ_CHECK(es_id_parse(again, out) == 0 && memcmp(id, again, 16) == 0);
}

static void currency_text(const char *text)
{
	int d = es_bank_currency_decimals(text);
	if (d < 0)
		refused(d);
	else
		FUZZ_CHECK(d == 0 || d == 2 || d == 3);
}

static void v1_amount(const uint8_t *p, size_t n)
{
	double amount = 0;
	int64_t minor;
	memcpy(&amount, p, n < sizeof amount ? n : sizeof amount);
	int rc = es_bank_v1_amount_to_minor(&minor, amount);
	if (rc) {
		FUZZ_CHECK(rc == ES_ECORRUPT || rc == ES_ERANGE);
		refused(rc);
	} else {
		FUZZ_CHECK(minor >= 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = fuzz_cstr(data + 1, size - 1);
	switch (data[0] % 16) {
	case 0: case 1: time_text(text); break;
	case 2: id_text(text); break;
	case 3: currency_text(text); break;
	case 4: v1_amount(data + 1, size - 1); break;
	default: money_text(text, data[0] / 16 % 12); break; /* decimals 0..11 */
	}
	free(text);
	return 0;
}
