/*
 * import_index.c - the importer's memory: the streams it has touched (their
 * head and visibility as the import stands, and any state declared for
 * them), the ids of the batch being built, and the bytes of that batch.
 * Hash tables with open addressing: an import touches every event once, so
 * lookups must cost next to nothing.
 */
#include <string.h>
#include <xxhash.h>

#include "es_alloc.h"
#include "import_int.h"

/* ---- streams ---- */

static size_t slot_of(const char *name, size_t len, size_t cap)
{
	return (size_t)XXH3_64bits(name, len) & (cap - 1);
}

static int streams_grow(es__import_streams *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	es__import_stream **slots = es_calloc(cap, sizeof *slots);
	if (!slots)
		return es_error_set(ES_ENOMEM, "import: out of memory for the stream table");
	for (size_t i = 0; i < t->cap; i++) {
		es__import_stream *s = t->slots[i];
		if (!s)
			continue;
		size_t j = slot_of(s->name, strlen(s->name), cap);
		while (slots[j])
			j = (j + 1) & (cap - 1);
		slots[j] = s;
	}
	es_free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

es__import_stream *es__import_stream_find(es__import_streams *t, const char *name)
{
	if (!t->cap)
		return NULL;
	size_t len = strlen(name);
	for (size_t j = slot_of(name, len, t->cap); t->slots[j]; j = (j + 1) & (t->cap - 1))
		if (strcmp(t->slots[j]->name, name) == 0)
			return t->slots[j];
	return NULL;
}

int es__import_stream_add(es__import_stream **out, es__import_streams *t, const char *name)
{
	/* At most half full, so probes stay short. */
	int rc = 2 * (t->n + 1) > t->cap ? streams_grow(t) : 0;
	es__import_stream *s = rc ? NULL : es_calloc(1, sizeof *s);
	if (!rc && (!s || !(s->name = es__strdup(name)))) {
		es_free(s);
		return es_error_set(ES_ENOMEM, "import: out of memory for stream '%s'", name);
	}
	if (rc)
		return rc;
	size_t j = slot_of(name, strlen(name), t->cap);
	while (t->slots[j])
		j = (j + 1) & (t->cap - 1);
	t->slots[j] = s;
	t->n++;
	*out = s;
	return 0;
}

void es__import_streams_free(es__import_streams *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i]) {
			es_free(t->slots[i]->name);
			es_free(t->slots[i]);
		}
	es_free(t->slots);
	memset(t, 0, sizeof *t);
}

/* ---- the batch's ids ---- */

int es__import_ids_init(es__import_ids *s, size_t max)
{
	size_t cap = 16;
	while (cap < 2 * max)
		cap *= 2;
	s->slots = es_calloc(cap, sizeof *s->slots);
	s->cap = cap;
	return s->slots ? 0 : es_error_set(ES_ENOMEM, "import: out of memory for the id index");
}

/* Slots hold index + 1 into the batch's events, 0 when empty. */
const es_event_data *es__import_ids_find(const es__import_ids *s, const es_event_data *events,
                                         const uint8_t id[16])
{
	for (size_t j = (size_t)XXH3_64bits(id, 16) & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
		if (memcmp(events[s->slots[j] - 1].id, id, 16) == 0)
			return &events[s->slots[j] - 1];
	return NULL;
}

void es__import_ids_add(es__import_ids *s, const uint8_t id[16], size_t index)
{
	size_t j = (size_t)XXH3_64bits(id, 16) & (s->cap - 1);
	while (s->slots[j])
		j = (j + 1) & (s->cap - 1);
	s->slots[j] = (uint32_t)(index + 1);
}

void es__import_ids_clear(es__import_ids *s)
{
	memset(s->slots, 0, s->cap * sizeof *s->slots);
}

/* ---- every id given: a Bloom filter ---- */

#define BLOOM_FIRST_LOG2 20 /* 1 Mibit: 64 Ki ids */
#define BLOOM_PROBES 4

static void probes(size_t out[BLOOM_PROBES], const uint8_t id[16], size_t bits_log2)
{
	uint64_t h = XXH3_64bits(id, 16), h2 = (h >> 32) | 1, mask = ((uint64_t)1 << bits_log2) - 1;
	for (int i = 0; i < BLOOM_PROBES; i++)
		out[i] = (size_t)((h + (uint64_t)i * h2) & mask);
}

int es__import_bloom_add(es__import_bloom *f, const uint8_t id[16])
{
	size_t n = f->n_layers;
	if (n == 0 || f->layers[n - 1].n == f->layers[n - 1].cap) {
		size_t log2 = n ? f->layers[n - 1].bits_log2 + 1 : BLOOM_FIRST_LOG2;
		uint64_t *w = n < sizeof f->layers / sizeof f->layers[0] ? es_calloc((size_t)1 << (log2 - 6), 8) : NULL;
		if (!w)
			return ES_ENOMEM;
		f->layers[n].words = w;
		f->layers[n].bits_log2 = log2;
		f->layers[n].n = 0;
		f->layers[n].cap = ((size_t)1 << log2) / 16;
		f->n_layers = ++n;
	}
	size_t at[BLOOM_PROBES];
	probes(at, id, f->layers[n - 1].bits_log2);
	for (int i = 0; i < BLOOM_PROBES; i++)
		f->layers[n - 1].words[at[i] / 64] |= (uint64_t)1 << (at[i] % 64);
	f->layers[n - 1].n++;
	return 0;
}

bool es__import_bloom_maybe(const es__import_bloom *f, const uint8_t id[16])
{
	for (size_t l = 0; l < f->n_layers; l++) {
		size_t at[BLOOM_PROBES];
		bool all = true;
		probes(at, id, f->layers[l].bits_log2);
		for (int i = 0; i < BLOOM_PROBES && all; i++)
			all = f->layers[l].words[at[i] / 64] >> (at[i] % 64) & 1;
		if (all)
			return true;
	}
	return false;
}

void es__import_bloom_free(es__import_bloom *f)
{
	for (size_t l = 0; l < f->n_layers; l++)
		es_free(f->layers[l].words);
	f->n_layers = 0;
}

/* ---- the batch's bytes: blocks kept from batch to batch ---- */

#define BLOCK_MIN ((size_t)4 << 20)

void *es__import_bytes_alloc(es__import_bytes *b, size_t n)
{
	n = (n + 7) & ~(size_t)7; /* keeps metadata arrays aligned */
	while (b->cur < b->n && b->blocks[b->cur].used + n > b->blocks[b->cur].size)
		b->cur++;
	if (b->cur == b->n) {
		if (b->n == sizeof b->blocks / sizeof b->blocks[0])
			return NULL;
		size_t size = n > BLOCK_MIN ? n : BLOCK_MIN;
		void *p = es_malloc(size);
		if (!p)
			return NULL;
		b->blocks[b->n++] = (es__import_block){ p, size, 0 };
	}
	es__import_block *blk = &b->blocks[b->cur];
	void *p = blk->data + blk->used;
	blk->used += n;
	return p;
}

void es__import_bytes_reset(es__import_bytes *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->blocks[i].used = 0;
	b->cur = 0;
}

void es__import_bytes_free(es__import_bytes *b)
{
	for (size_t i = 0; i < b->n; i++)
		es_free(b->blocks[i].data);
	memset(b, 0, sizeof *b);
}
