/*
 * registry.c - the upcaster registry: steps, current versions, validation
 * (duplicates, rename cycles, gaps), the chain's fingerprint, and upcasting
 * an event through its chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "evstore/upcaster.h"
#include "es_alloc.h"
#include "es_array.h"

typedef struct step {
	char *type, *to_type, *name;
	uint32_t from, revision;
	es_upcast_fn fn;
	void *user_data;
	const struct step *next; /* once validated: the step from (to_type, from + 1),
	                            NULL when that is the current version */
} step;

typedef struct current {
	char *type;
	uint32_t version;
} current;

struct es_registry {
	step *steps;
	size_t n_steps, cap_steps;
	current *cur;
	size_t n_cur, cap_cur;
	int validated;
	uint64_t fingerprint;
};

int es_registry_new(es_registry **out)
{
	if (!out)
		return es_error_set(ES_EINVAL, "es_registry_new: out is NULL");
	*out = es_calloc(1, sizeof **out);
	return *out ? 0 : es_error_set(ES_ENOMEM, "es_registry_new: out of memory");
}

void es_registry_free(es_registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n_steps; i++) {
		es_free(reg->steps[i].type);
		es_free(reg->steps[i].to_type);
		es_free(reg->steps[i].name);
	}
	for (size_t i = 0; i < reg->n_cur; i++)
		es_free(reg->cur[i].type);
	es_free(reg->steps);
	es_free(reg->cur);
	es_free(reg);
}

static int check_open(const es_registry *reg, const char *what)
{
	if (!reg)
		return es_error_set(ES_EINVAL, "%s: registry is NULL", what);
	if (reg->validated)
		return es_error_set(ES_EINVAL, "%s: the registry is validated and frozen", what);
	return 0;
}

int es_registry_add(es_registry *reg, const es_upcaster *s)
{
	int rc = check_open(reg, "es_registry_add");
	if (rc)
		return rc;
	if (!s || !s->type || !*s->type || !s->name || !s->fn || s->from_version == 0)
		return es_error_set(ES_EINVAL, "upcaster step for '%s' v%u needs a type, a name, a "
		                    "function and a version >= 1", s && s->type ? s->type : "?",
		                    s ? s->from_version : 0);
	if ((rc = es__array_grow((void **)&reg->steps, &reg->cap_steps, reg->n_steps, sizeof(step), "upcaster registry")))
		return rc;
	step *st = &reg->steps[reg->n_steps];
	st->type = es__strdup(s->type);
	st->to_type = es__strdup(s->to_type ? s->to_type : s->type);
	st->name = es__strdup(s->name);
	if (!st->type || !st->to_type || !st->name) {
		es_free(st->type); es_free(st->to_type); es_free(st->name);
		return es_error_set(ES_ENOMEM, "upcaster registry: out of memory");
	}
	st->from = s->from_version;
	st->revision = s->revision;
	st->fn = s->fn;
	st->user_data = s->user_data;
	reg->n_steps++;
	return 0;
}

static int cmp_current(const void *a, const void *b);
static int cmp_step(const void *a, const void *b);

/* Validation sorts and freezes the arrays: from then on, lookups (one or two
 * per old event read) binary-search instead of comparing every name. */
static const current *find_current(const es_registry *reg, const char *type)
{
	if (reg->validated) {
		current key = { (char *)type, 0 };
		return bsearch(&key, reg->cur, reg->n_cur, sizeof(current), cmp_current);
	}
	for (size_t i = 0; i < reg->n_cur; i++)
		if (strcmp(reg->cur[i].type, type) == 0)
			return &reg->cur[i];
	return NULL;
}

int es_registry_set_current(es_registry *reg, const char *type, uint32_t version)
{
	int rc = check_open(reg, "es_registry_set_current");
	if (rc)
		return rc;
	if (!type || !*type || version == 0)
		return es_error_set(ES_EINVAL, "current version of '%s' must be >= 1", type ? type : "?");
	if (find_current(reg, type))
		return es_error_set(ES_EINVAL, "current version of '%s' is declared twice", type);
	if ((rc = es__array_grow((void **)&reg->cur, &reg->cap_cur, reg->n_cur, sizeof(current), "upcaster registry")))
		return rc;
	if (!(reg->cur[reg->n_cur].type = es__strdup(type)))
		return es_error_set(ES_ENOMEM, "upcaster registry: out of memory");
	reg->cur[reg->n_cur++].version = version;
	return 0;
}

uint32_t es_registry_current(const es_registry *reg, const char *type)
{
	const current *c = reg && type ? find_current(reg, type) : NULL;
	return c ? c->version : 0;
}

static const step *find_step(const es_registry *reg, const char *type, uint32_t from)
{
	if (reg->validated) {
		step key = { .type = (char *)type, .from = from };
		return bsearch(&key, reg->steps, reg->n_steps, sizeof(step), cmp_step);
	}
	for (size_t i = 0; i < reg->n_steps; i++)
		if (reg->steps[i].from == from && strcmp(reg->steps[i].type, type) == 0)
			return &reg->steps[i];
	return NULL;
}

static int has_steps(const es_registry *reg, const char *type)
{
	for (size_t i = 0; i < reg->n_steps; i++)
		if (strcmp(reg->steps[i].type, type) == 0)
			return 1;
	return 0;
}

/* ---- validation ---- */

static int cmp_step(const void *a, const void *b)
{
	const step *x = a, *y = b;
	int c = strcmp(x->type, y->type);
	return c ? c : (x->from > y->from) - (x->from < y->from);
}

static int cmp_current(const void *a, const void *b)
{
	return strcmp(((const current *)a)->type, ((const current *)b)->type);
}

static int check_duplicates(const es_registry *reg)
{
	for (size_t i = 1; i < reg->n_steps; i++)
		if (cmp_step(&reg->steps[i - 1], &reg->steps[i]) == 0)
			return es_error_set(ES_EINVAL, "two upcasters for '%s' v%u: '%s' and '%s'",
			                    reg->steps[i].type, reg->steps[i].from, reg->steps[i - 1].name,
			                    reg->steps[i].name);
	return 0;
}

/* Depth-first over rename edges (type -> to_type); reaching `start` again
 * means a type is renamed back into itself. */
static int renames_reach(const es_registry *reg, const char *from, const char *start, size_t depth)
{
	if (depth > reg->n_steps)
		return 1;
	for (size_t i = 0; i < reg->n_steps; i++) {
		const step *s = &reg->steps[i];
		if (strcmp(s->type, from) != 0 || strcmp(s->type, s->to_type) == 0)
			continue;
		if (strcmp(s->to_type, start) == 0 || renames_reach(reg, s->to_type, start, depth + 1))
			return 1;
	}
	return 0;
}

static int check_cycles(const es_registry *reg)
{
	for (size_t i = 0; i < reg->n_steps; i++) {
		const step *s = &reg->steps[i];
		if (strcmp(s->type, s->to_type) != 0 && renames_reach(reg, s->to_type, s->type, 0))
			return es_error_set(ES_EINVAL, "rename cycle: '%s' is renamed to '%s' (step '%s') and "
			                    "later back to '%s'", s->type, s->to_type, s->name, s->type);
	}
	return 0;
}

/* Follows the chain from one step to its end; it must be the current version. */
static int check_chain(const es_registry *reg, const step *first)
{
	const char *type = first->type;
	uint32_t v = first->from;
	for (const step *s = first; s; s = find_step(reg, type, v)) {
		type = s->to_type;
		v++;
	}
	const current *c = find_current(reg, type);
	if (!c)
		return es_error_set(ES_EINVAL, "the chain from '%s' v%u ends at '%s' v%u, which has no "
		                    "current version", first->type, first->from, type, v);
	if (v < c->version)
		return es_error_set(ES_EINVAL, "gap: the chain from '%s' v%u stops at '%s' v%u; no step "
		                    "leads on to the current v%u", first->type, first->from, type, v, c->version);
	if (v > c->version)
		return es_error_set(ES_EINVAL, "the chain from '%s' v%u runs past the current version of "
		                    "'%s' (v%u) to v%u", first->type, first->from, type, c->version, v);
	return 0;
}

static void hash_str(XXH64_hash_t *h, const char *s)
{
	*h = XXH3_64bits_withSeed(s, strlen(s) + 1, *h);
}

static void hash_u32(XXH64_hash_t *h, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                       (unsigned char)(v >> 24) };
	*h = XXH3_64bits_withSeed(b, 4, *h);
}

/* Steps and currents are sorted first, so the order they were added in does
 * not matter; integers are hashed little-endian, so neither does the host. */
static uint64_t fingerprint(const es_registry *reg)
{
	XXH64_hash_t h = 0x65767374u; /* "evst" */
	for (size_t i = 0; i < reg->n_steps; i++) {
		const step *s = &reg->steps[i];
		hash_str(&h, s->type);
		hash_u32(&h, s->from);
		hash_str(&h, s->to_type);
		hash_str(&h, s->name);
		hash_u32(&h, s->revision);
	}
	for (size_t i = 0; i < reg->n_cur; i++) {
		hash_str(&h, reg->cur[i].type);
		hash_u32(&h, reg->cur[i].version);
	}
	return h ? h : 1; /* 0 means "no chain" */
}

int es_registry_validate(es_registry *reg)
{
	int rc = check_open(reg, "es_registry_validate");
	if (rc)
		return rc;
	qsort(reg->steps, reg->n_steps, sizeof(step), cmp_step);
	qsort(reg->cur, reg->n_cur, sizeof(current), cmp_current);
	if ((rc = check_duplicates(reg)) || (rc = check_cycles(reg)))
		return rc;
	for (size_t i = 0; i < reg->n_steps; i++)
		if ((rc = check_chain(reg, &reg->steps[i])))
			return rc;
	for (size_t i = 0; i < reg->n_steps; i++)
		reg->steps[i].next = find_step(reg, reg->steps[i].to_type, reg->steps[i].from + 1);
	reg->fingerprint = fingerprint(reg);
	reg->validated = 1;
	return 0;
}

uint64_t es_registry_fingerprint(const es_registry *reg)
{
	return reg && reg->validated ? reg->fingerprint : 0;
}

/* ---- upcasting ---- */

static int no_way(const es_event *ev, const char *why)
{
	return es_error_set(ES_ESCHEMA, "stream '%s' version %lld: event type '%s' schema v%u %s",
	                    ev->stream ? ev->stream : "?", (long long)ev->version, ev->type,
	                    ev->schema_version, why);
}

static int apply_step(es_event *ev, const step *s, es_arena *arena)
{
	es_upcast_event in = { ev->type, ev->schema_version, ev->payload, ev->payload_len,
	                       ev->metadata, ev->metadata_len };
	const void *payload;
	size_t len;
	int rc = s->fn(&payload, &len, &in, arena, s->user_data);
	if (rc) {
		/* Name the event the step refused; the step's text is copied out
		 * first because es_error_set writes the buffer it lives in. */
		char why[400];
		snprintf(why, sizeof why, "%s", es_error_last()->message);
		return es_error_set(rc, "stream '%s' version %lld: %s", ev->stream ? ev->stream : "?",
		                    (long long)ev->version, why);
	}
	ev->type = s->to_type;
	ev->schema_version = s->from + 1;
	ev->payload = payload;
	ev->payload_len = len;
	return 0;
}

int es_registry_upcast(es_event *ev, const es_registry *reg, es_arena *arena)
{
	if (!ev || !reg || !arena || !ev->type)
		return es_error_set(ES_EINVAL, "es_registry_upcast: event, registry and arena are required");
	if (!reg->validated)
		return es_error_set(ES_EINVAL, "es_registry_upcast: validate the registry before reading");
	const current *c = find_current(reg, ev->type);
	if (c && ev->schema_version == c->version)
		return 0;
	if (c && ev->schema_version > c->version)
		return no_way(ev, "is newer than this program knows");
	const step *s = find_step(reg, ev->type, ev->schema_version);
	if (!s)
		return c || has_steps(reg, ev->type) ? no_way(ev, "has no upcaster") : 0;
	/* Validation proved every chain ends at its type's current version. */
	for (; s; s = s->next) {
		int rc = apply_step(ev, s, arena);
		if (rc)
			return rc;
	}
	return 0;
}
