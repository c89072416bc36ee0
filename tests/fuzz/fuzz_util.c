/*
 * fuzz_util.c - helpers shared by the fuzz targets (fuzz_util.h).
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: property failed: %s (last error: %s)\n", file, line, what,
	        es_error_last()->message);
	abort();
}

static char scratch[512];
static char last_store[600];
static unsigned long stores;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void scratch_remove(void)
{
	remove_tree(scratch);
}

/* /dev/shm when there is one: stores come and go with every input. */
static void scratch_init(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(scratch, sizeof scratch, "%s/evstore-fuzz-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(scratch))
		fuzz_fail(__FILE__, __LINE__, "mkdtemp");
	atexit(scratch_remove);
}

const char *fuzz_store_dir(void)
{
	if (!scratch[0])
		scratch_init();
	snprintf(last_store, sizeof last_store, "%s/s%lu", scratch, stores++);
	return last_store;
}

es_db *fuzz_store_new(void)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	o.map_size = (size_t)8 << 20;
	es_db *db = NULL;
	if (es_db_open(&db, fuzz_store_dir(), &o) != 0)
		fuzz_fail(__FILE__, __LINE__, "opening a scratch store");
	return db;
}

void fuzz_store_drop(es_db *db)
{
	es_db_close(db);
	remove_tree(last_store);
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

FILE *fuzz_memfile(const uint8_t *data, size_t size)
{
	static const char empty[1];
	FILE *f = size ? fmemopen((void *)data, size, "r") : fmemopen((void *)empty, 1, "r");
	if (f && !size)
		fgetc(f); /* the one byte of the empty buffer is read: EOF next */
	if (!f)
		abort();
	return f;
}

/* ---- hash chains (audit/FORMAT.md, "The hash chain") ---- */

typedef struct growbuf {
	uint8_t *p;
	size_t n, cap;
} growbuf;

static void put(growbuf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		if (!(b->p = realloc(b->p, b->cap)))
			abort();
	}
	if (n)
		memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void sha256_hex(char hex[65], const void *p, size_t n)
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Last occurrence of needle in [p, p + n), or NULL. */
static const uint8_t *find_last(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = n >= k ? n - k + 1 : 0; i-- > 0;)
		if (memcmp(p + i, needle, k) == 0)
			return p + i;
	return NULL;
}

/* JSONL: <..."prev_hash":"><prev>","hash":"<hash>"} */
static void fix_json_line(growbuf *out, char prev[65], const uint8_t *line, size_t n)
{
	static const char key[] = "\"prev_hash\":\"";
	const uint8_t *at = find_last(line, n, key);
	if (!at) {
		put(out, line, n);
		return;
	}
	size_t start = out->n;
	put(out, line, (size_t)(at - line) + strlen(key));
	put(out, prev, 64);
	put(out, "\"", 1);
	sha256_hex(prev, out->p + start, out->n - start);
	put(out, ",\"hash\":\"", 9);
	put(out, prev, 64);
	put(out, "\"}", 2);
}

/* CSV: <cells...>,<prev 64 hex>,<hash 64 hex> */
static void fix_csv_row(growbuf *out, char prev[65], const uint8_t *line, size_t n)
{
	if (n < 129 || line[n - 65] != ',') {
		put(out, line, n);
		return;
	}
	size_t start = out->n;
	put(out, line, n - 129);
	put(out, prev, 64);
	sha256_hex(prev, out->p + start, out->n - start);
	put(out, ",", 1);
	put(out, prev, 64);
}

uint8_t *fuzz_fix_chain(const uint8_t *data, size_t size, size_t *out_len)
{
	growbuf out = { 0 };
	char prev[65];
	int csv = size > 0 && data[0] != '{';
	memset(prev, '0', 64);
	prev[64] = '\0';
	for (size_t at = 0, row = 0; at < size; row++) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - (data + at)) : size - at;
		if (csv && row == 0) {
			put(&out, data + at, n); /* the column row: its hash starts the chain */
			sha256_hex(prev, data + at, n);
		} else if (csv) {
			fix_csv_row(&out, prev, data + at, n);
		} else {
			fix_json_line(&out, prev, data + at, n);
		}
		if (nl)
			put(&out, "\n", 1);
		at += n + (nl != NULL);
	}
	put(&out, "", 0);
	*out_len = out.n;
	return out.p ? out.p : calloc(1, 1);
}
