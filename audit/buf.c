/*
 * buf.c - the growable buffer dump records are built in, and the text forms
 * they use: decimal integers, hex, base64, JSON strings, CSV cells,
 * round-trippable floating point, UUIDs and RFC 3339 times.
 *
 * A dump formats millions of records, so the hot helpers avoid printf.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "es_alloc.h"
#include "audit_int.h"

void es_audit__buf_free(es_audit__buf *b)
{
	es_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

bool es_audit__buf_grow(es_audit__buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (extra <= b->cap - b->len)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		cap *= 2;
	}
	char *p = es_realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void es_audit__buf_puts(es_audit__buf *b, const char *s)
{
	es_audit__buf_put(b, s, strlen(s));
}

/* "00".."99": two digits per division. */
static const char two_digits[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void es_audit__buf_u64(es_audit__buf *b, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		n += 2;
		memcpy(tmp + sizeof tmp - n, two_digits + 2 * r, 2);
	}
	if (v >= 10) {
		n += 2;
		memcpy(tmp + sizeof tmp - n, two_digits + 2 * v, 2);
	} else {
		tmp[sizeof tmp - ++n] = (char)('0' + v);
	}
	es_audit__buf_put(b, tmp + sizeof tmp - n, n);
}

void es_audit__buf_i64(es_audit__buf *b, int64_t v)
{
	if (v < 0) {
		es_audit__buf_putc(b, '-');
		/* Negating in unsigned arithmetic keeps INT64_MIN exact. */
		es_audit__buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		es_audit__buf_u64(b, (uint64_t)v);
	}
}

/* "00".."ff": both hex digits of a byte in one lookup (hashes are written
 * twice per dump record). */
static const char hex_pairs[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void es_audit__hex_text(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * p[i], 2);
}

void es_audit__buf_hex(es_audit__buf *b, const uint8_t *p, size_t n)
{
	if (!es_audit__buf_reserve(b, 2 * n))
		return;
	es_audit__hex_text(b->data + b->len, p, n);
	b->len += 2 * n;
}

void es_audit__buf_base64(es_audit__buf *b, const void *p, size_t n)
{
	if (n > INT_MAX / 4 * 3 - 3) {
		b->failed = true; /* EVP_EncodeBlock counts in int */
		return;
	}
	if (!es_audit__buf_reserve(b, (n + 2) / 3 * 4 + 1))
		return;
	b->len += (size_t)EVP_EncodeBlock((unsigned char *)b->data + b->len, p, (int)n);
}

bool es_audit__base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t n)
{
	if (n % 4 || n > INT_MAX)
		return false;
	int len = n ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)n) : 0;
	if (len < 0)
		return false;
	/* EVP_DecodeBlock counts padding as zero bytes and forgives stray
	 * whitespace and bits: re-encoding must give the input back. */
	size_t pad = n && in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
	*out_len = (size_t)len - pad;
	unsigned char check[4];
	for (size_t i = 0; i < n; i += 4) {
		size_t chunk = *out_len - i / 4 * 3 < 3 ? *out_len - i / 4 * 3 : 3;
		EVP_EncodeBlock(check, out + i / 4 * 3, (int)chunk);
		if (memcmp(check, in + i, 4) != 0)
			return false;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. Overlong
 * forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80) return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
	else return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3fu >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_u_escape(es_audit__buf *b, unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', digits[(v >> 12) & 15], digits[(v >> 8) & 15],
	              digits[(v >> 4) & 15], digits[v & 15] };
	es_audit__buf_put(b, e, 6);
}

/* Bytes a JSON string can carry as they are: printable ASCII but " and \\. */
static bool json_plain(unsigned char c)
{
	static const uint64_t plain[4] = {
		UINT64_C(0xfffffffb00000000), /* 0x20..0x3f but '"' (0x22) */
		UINT64_C(0xffffffffefffffff), /* 0x40..0x7f but '\\' (0x5c) */
		0, 0,
	};
	return (plain[c >> 6] >> (c & 63)) & 1;
}

/* Whether all eight bytes at p are plain, in a few word operations rather
 * than a lookup per byte: a byte below 0x20 borrows in w - 0x20.., a '"'
 * or '\\' becomes zero and borrows once xor'ed, and a byte that is not
 * ASCII has its top bit set. A borrow only starts at a byte that is not
 * plain, so whether any top bit is set is exact for the word as a whole. */
static bool word_plain(const unsigned char *p)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t w;
	memcpy(&w, p, 8);
	uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
	return (((w - ones * 0x20) | (quote - ones) | (backslash - ones) | w) & (ones * 0x80)) == 0;
}

/* The end of the run of plain bytes that starts at p[i]. */
static size_t plain_run(const unsigned char *p, size_t i, size_t n)
{
	while (n - i >= 8 && word_plain(p + i))
		i += 8;
	/* Fewer than eight left: the string's last eight bytes in one word. If
	 * any before p[i] is not plain, it fails and the loop below decides. */
	if (i < n && n - i < 8 && n >= 8 && word_plain(p + n - 8))
		return n;
	while (i < n && json_plain(p[i]))
		i++;
	return i;
}

bool es_audit__buf_json_string(es_audit__buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	bool exact = true;
	es_audit__buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		size_t run = plain_run(p, i, n);
		es_audit__buf_put(b, p + i, run - i);
		if ((i = run) >= n)
			break;
		unsigned char c = p[i];
		size_t seq;
		if (c == '"') { es_audit__buf_put(b, "\\\"", 2); i++; }
		else if (c == '\\') { es_audit__buf_put(b, "\\\\", 2); i++; }
		else if (c == '\n') { es_audit__buf_put(b, "\\n", 2); i++; }
		else if (c == '\r') { es_audit__buf_put(b, "\\r", 2); i++; }
		else if (c == '\t') { es_audit__buf_put(b, "\\t", 2); i++; }
		else if (c < 0x20) { put_u_escape(b, c); i++; }
		else if ((seq = utf8_seq(p + i, n - i)) > 0) { es_audit__buf_put(b, p + i, seq); i += seq; }
		else { put_u_escape(b, 0xdc00u | c); exact = false; i++; }
	}
	es_audit__buf_putc(b, '"');
	return exact;
}

void es_audit__buf_csv_cell(es_audit__buf *b, const char *s, size_t n)
{
	if (n == 0) /* an empty cell is nothing; s may be NULL (a buffer that failed to grow) */
		return;
	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) && !memchr(s, '\r', n)) {
		es_audit__buf_put(b, s, n);
		return;
	}
	es_audit__buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			es_audit__buf_putc(b, '"');
		es_audit__buf_putc(b, s[i]);
	}
	es_audit__buf_putc(b, '"');
}

/* Appends ".0" to a %g result that reads as an integer, so every JSON
 * reader keeps it a real (and -0 keeps its sign). */
static void put_real_text(es_audit__buf *b, const char *text)
{
	es_audit__buf_puts(b, text);
	if (!strpbrk(text, ".e"))
		es_audit__buf_put(b, ".0", 2);
}

static bool put_special(es_audit__buf *b, double v)
{
	if (isnan(v))
		es_audit__buf_puts(b, "\"NaN\"");
	else if (isinf(v))
		es_audit__buf_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		return false;
	return true;
}

void es_audit__buf_double(es_audit__buf *b, double v)
{
	char text[40];
	if (put_special(b, v))
		return;
	/* The fewest significant digits that read back as the same bits: 0.1
	 * prints as 0.1, and 17 digits always suffice. */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(text, sizeof text, "%.*g", prec, v);
		if (strtod(text, NULL) == v || prec == 17)
			break;
	}
	put_real_text(b, text);
}

void es_audit__buf_float(es_audit__buf *b, float v)
{
	char text[40];
	if (put_special(b, v))
		return;
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(text, sizeof text, "%.*g", prec, (double)v);
		if (strtof(text, NULL) == v || prec == 9)
			break;
	}
	put_real_text(b, text);
}

void es_audit__buf_uuid(es_audit__buf *b, const uint8_t id[16], bool quote)
{
	char text[ES_ID_TEXT_SIZE];
	es_id_format(id, text);
	if (quote)
		es_audit__buf_putc(b, '"');
	es_audit__buf_put(b, text, ES_ID_TEXT_SIZE - 1);
	if (quote)
		es_audit__buf_putc(b, '"');
}

void es_audit__buf_time(es_audit__buf *b, int64_t ns, bool quote)
{
	char text[ES_TIME_TEXT_SIZE];
	es_time_format(text, sizeof text, ns);
	if (quote)
		es_audit__buf_putc(b, '"');
	es_audit__buf_puts(b, text);
	if (quote)
		es_audit__buf_putc(b, '"');
}

void es_audit__buf_time_cached(es_audit__buf *b, es_audit__time_cache *c, int64_t ns, bool quote)
{
	/* Floor division, as es_time_format does, so times before 1970 work. */
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	if (!c->valid || c->sec != sec) {
		char text[ES_TIME_TEXT_SIZE];
		es_time_format(text, sizeof text, ns);
		memcpy(c->prefix, text, 20);
		c->sec = sec;
		c->valid = true;
	}
	if (!es_audit__buf_reserve(b, 32))
		return;
	char *o = b->data + b->len;
	size_t n = 0;
	if (quote)
		o[n++] = '"';
	memcpy(o + n, c->prefix, 20);
	n += 20;
	for (int i = 8; i >= 0; i--, frac /= 10)
		o[n + (size_t)i] = (char)('0' + frac % 10);
	n += 9;
	o[n++] = 'Z';
	if (quote)
		o[n++] = '"';
	b->len += n;
}
