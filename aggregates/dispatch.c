/*
 * dispatch.c - applying events to an aggregate's state: upcast each event to
 * its current version, find its type's handler, apply. Also the small
 * helpers every aggregate file shares (type checks, snapshot keys, encoding).
 */
#include <stdlib.h>
#include <string.h>

#include "aggregate_int.h"

int es__aggregate_registry(const es_registry **out, const es_aggregate_type *type)
{
	*out = NULL;
	if (!type->upcasters)
		return 0;
	es_error_clear(); /* so an error the build sets is told from an older one */
	if (!(*out = type->upcasters())) {
		/* Running out of memory while building is said as such. */
		int code = es_error_last()->code == ES_ENOMEM ? ES_ENOMEM : ES_EINVAL;
		return es_error_set(code, "aggregate '%s': its upcaster registry failed to build "
		                    "or validate", type->name);
	}
	return 0;
}

int es__dispatch_init(es_dispatch *d, const es_aggregate_type *type)
{
	d->type = type;
	d->n_memo = 0;
	es_arena_init(&d->arena, d->arena_buf, sizeof d->arena_buf);
	return es__aggregate_registry(&d->registry, type);
}

void es__dispatch_done(es_dispatch *d)
{
	es_arena_release(&d->arena);
}

static int find_handler(es_apply_fn *out, const es_dispatch *d, const es_event *ev)
{
	const es_event_handler *h = d->type->handlers, *end = h + d->type->handler_count;
	while (h < end && strcmp(h->type, ev->type) != 0)
		h++;
	if (h == end)
		return es_error_set(ES_ESCHEMA, "stream '%s' version %lld: aggregate '%s' has no "
		                    "handler for event type '%s'", ev->stream, (long long)ev->version,
		                    d->type->name, ev->type);
	*out = h->apply;
	return 0;
}

/* The first event of each (type, version): upcast it, find its handler,
 * and remember the pair when it needed no upcast. */
static int apply_first_seen(es_dispatch *d, void *state, const es_event *ev)
{
	es_event up = *ev;
	es_apply_fn apply = NULL;
	int rc = 0;
	if (d->registry) {
		es_arena_reset(&d->arena);
		rc = es_registry_upcast(&up, d->registry, &d->arena);
	}
	if (rc || (rc = find_handler(&apply, d, &up)))
		return rc;
	if (up.type == ev->type && up.schema_version == ev->schema_version && d->n_memo < ES_DISPATCH_MEMO) {
		d->memo[d->n_memo].type = ev->type;
		d->memo[d->n_memo].version = ev->schema_version;
		d->memo[d->n_memo++].apply = apply;
	}
	return apply(state, &up);
}

/* Type names handed out by a read are stable pointers, so the common case
 * costs a few pointer compares. */
int es__dispatch_apply(es_dispatch *d, void *state, const es_event *ev)
{
	for (unsigned int i = 0; i < d->n_memo; i++)
		if (d->memo[i].type == ev->type && d->memo[i].version == ev->schema_version)
			return d->memo[i].apply(state, ev);
	return apply_first_seen(d, state, ev);
}

int es_aggregate_apply(const es_aggregate_type *type, void *state, const es_event *ev)
{
	es_dispatch d;
	int rc = es__check_type(type);
	if (rc)
		return rc;
	if (!state || !ev || !ev->type)
		return es_error_set(ES_EINVAL, "es_aggregate_apply: state and event are required");
	if ((rc = es__dispatch_init(&d, type)) == 0)
		rc = es__dispatch_apply(&d, state, ev);
	es__dispatch_done(&d);
	return rc;
}

int es__aggregate_key(es_snapshot_key *key, const es_aggregate_type *type)
{
	const es_registry *reg;
	int rc = es__aggregate_registry(&reg, type);
	key->schema_version = type->state_schema_version;
	key->fingerprint = es_registry_fingerprint(reg);
	return rc;
}

uint32_t es__snapshot_every(const es_aggregate_type *type)
{
	if (!type->snapshot_encode || !type->snapshot_decode || type->snapshot_every == UINT32_MAX)
		return 0;
	return type->snapshot_every ? type->snapshot_every : ES_SNAPSHOT_DEFAULT_EVERY;
}

int es__check_type(const es_aggregate_type *type)
{
	if (!type || type->version != ES_AGGREGATE_TYPE_VERSION || !type->name || !type->init ||
	    !type->state_size || (type->handler_count && !type->handlers))
		return es_error_set(ES_EINVAL, "aggregate type is NULL or incomplete (version, name, "
		                    "init, state_size and handlers are required)");
	return 0;
}

int es__state_encode(uint8_t **out, size_t *len, const es_aggregate_type *type, const void *state)
{
	int rc = type->snapshot_encode(out, len, state);
	if (rc)
		return rc < 0 ? rc : es_error_set(ES_EINVAL, "aggregate '%s': snapshot encoding failed", type->name);
	return 0;
}

void es__state_clear(const es_aggregate_type *type, void *state)
{
	if (type->clear)
		type->clear(state);
}

