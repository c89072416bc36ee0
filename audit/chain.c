/*
 * chain.c - the hash chain's syntax: sealing a record (its predecessor's
 * hash, then its own), and taking a record apart again for verification.
 * The bytes hashed are specified in FORMAT.md; this file is their one
 * implementation on both sides.
 */
#include <string.h>

#include "audit_int.h"

int es_audit__hasher_init(es_audit__hasher *h)
{
	h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md && h->ctx)
		return 0;
	es_audit__hasher_free(h);
	return es_error_set(ES_ENOMEM, "libcrypto cannot provide SHA-256");
}

void es_audit__hasher_free(es_audit__hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	h->ctx = NULL;
	h->md = NULL;
}

void es_audit__sha256(es_audit__hasher *h, uint8_t out[ES_AUDIT_HASH_SIZE], const void *p, size_t n)
{
	unsigned int len = 0;
	/* With a fetched SHA-256 and valid arguments these cannot fail. */
	EVP_DigestInit_ex(h->ctx, h->md, NULL);
	EVP_DigestUpdate(h->ctx, p, n);
	EVP_DigestFinal_ex(h->ctx, out, &len);
}

void es_audit__hex(char out[ES_HASH_HEX_SIZE], const uint8_t hash[ES_AUDIT_HASH_SIZE])
{
	es_audit__hex_text(out, hash, ES_AUDIT_HASH_SIZE);
	out[ES_AUDIT_HEX] = '\0';
}

/* Each character's value plus one as a lowercase hex digit, 0 for anything
 * else (uppercase is not canonical: the hash would not match anyway). Every
 * record's two hashes are read, twice per restore: a table beats branches. */
static const uint8_t hex_value[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

bool es_audit__unhex(uint8_t out[ES_AUDIT_HASH_SIZE], const char *hex)
{
	bool ok = true;
	for (int i = 0; i < ES_AUDIT_HASH_SIZE; i++) {
		unsigned hi = hex_value[(unsigned char)hex[2 * i]], lo = hex_value[(unsigned char)hex[2 * i + 1]];
		ok &= hi != 0 && lo != 0;
		out[i] = (uint8_t)((hi - 1) << 4 | ((lo - 1) & 15));
	}
	return ok;
}

void es_audit__seal(es_audit__buf *b, es_dump_format format, uint8_t prev[ES_AUDIT_HASH_SIZE],
                    es_audit__hasher *h)
{
	es_audit__seal_from(b, 0, format, prev, h);
}

void es_audit__seal_from(es_audit__buf *b, size_t start, es_dump_format format,
                         uint8_t prev[ES_AUDIT_HASH_SIZE], es_audit__hasher *h)
{
	if (format == ES_DUMP_JSONL) {
		es_audit__buf_putc(b, ',');
		es_audit__buf_puts(b, ES_AUDIT_JSONL_PREV);
		es_audit__buf_hex(b, prev, ES_AUDIT_HASH_SIZE);
		es_audit__buf_putc(b, '"');
	} else {
		es_audit__buf_putc(b, ',');
		es_audit__buf_hex(b, prev, ES_AUDIT_HASH_SIZE);
	}
	if (b->failed)
		return;
	es_audit__sha256(h, prev, b->data + start, b->len - start);
	if (format == ES_DUMP_JSONL) {
		es_audit__buf_puts(b, ES_AUDIT_JSONL_HASH);
		es_audit__buf_hex(b, prev, ES_AUDIT_HASH_SIZE);
		es_audit__buf_put(b, "\"}\n", 3);
	} else {
		es_audit__buf_putc(b, ',');
		es_audit__buf_hex(b, prev, ES_AUDIT_HASH_SIZE);
		es_audit__buf_putc(b, '\n');
	}
}

static bool ends_with(const char *s, size_t len, const char *suffix, size_t n)
{
	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* JSONL: <body ending "prev_hash":"<64>"> ,"hash":"<64>"} */
static bool parse_jsonl(es_audit__link *l, const char *rec, size_t len)
{
	const size_t tail = strlen(ES_AUDIT_JSONL_HASH) + ES_AUDIT_HEX + 2;
	const size_t prev_len = strlen(ES_AUDIT_JSONL_PREV) + ES_AUDIT_HEX + 1;
	if (len < tail + prev_len || !ends_with(rec, len, "\"}", 2))
		return false;
	const char *h = rec + len - tail;
	if (memcmp(h, ES_AUDIT_JSONL_HASH, strlen(ES_AUDIT_JSONL_HASH)) != 0 ||
	    !es_audit__unhex(l->stated, h + strlen(ES_AUDIT_JSONL_HASH)))
		return false;
	l->body = rec;
	l->body_len = len - tail;
	const char *p = rec + l->body_len - prev_len;
	if (memcmp(p, ES_AUDIT_JSONL_PREV, strlen(ES_AUDIT_JSONL_PREV)) != 0 ||
	    rec[l->body_len - 1] != '"' || !es_audit__unhex(l->prev, p + strlen(ES_AUDIT_JSONL_PREV)))
		return false;
	return true;
}

/* CSV: <body ending ,<64>> ,<64> */
static bool parse_csv(es_audit__link *l, const char *rec, size_t len)
{
	const size_t cell = ES_AUDIT_HEX + 1;
	if (len < 2 * cell || rec[len - cell] != ',' || rec[len - 2 * cell] != ',' ||
	    !es_audit__unhex(l->stated, rec + len - ES_AUDIT_HEX) ||
	    !es_audit__unhex(l->prev, rec + len - cell - ES_AUDIT_HEX))
		return false;
	l->body = rec;
	l->body_len = len - cell;
	return true;
}

void es_audit__link_parse(es_audit__link *l, const char *rec, size_t len, es_dump_format format,
                          es_audit__hasher *h)
{
	memset(l, 0, sizeof *l);
	l->parsed = format == ES_DUMP_JSONL ? parse_jsonl(l, rec, len) : parse_csv(l, rec, len);
	if (l->parsed)
		es_audit__sha256(h, l->computed, l->body, l->body_len);
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

es_audit__kind es_audit__record_kind(const char *rec, size_t len, es_dump_format format)
{
	if (format == ES_DUMP_JSONL) {
		if (starts_with(rec, len, "{\"position\":")) return ES_AUDIT_REC_EVENT;
		if (starts_with(rec, len, "{\"format\":")) return ES_AUDIT_REC_HEADER;
		if (starts_with(rec, len, "{\"stream_state\":")) return ES_AUDIT_REC_STREAM;
		if (starts_with(rec, len, "{\"trailer\":")) return ES_AUDIT_REC_TRAILER;
		return ES_AUDIT_REC_OTHER;
	}
	if (len > 0 && rec[0] >= '0' && rec[0] <= '9') return ES_AUDIT_REC_EVENT;
	if (starts_with(rec, len, "#header,")) return ES_AUDIT_REC_HEADER;
	if (starts_with(rec, len, "#stream,")) return ES_AUDIT_REC_STREAM;
	if (starts_with(rec, len, "#trailer,")) return ES_AUDIT_REC_TRAILER;
	return ES_AUDIT_REC_OTHER;
}
