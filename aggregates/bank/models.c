/*
 * models.c - what the bank's read models (balances.c, daily.c, owners.c)
 * share: the options every one starts from, and running one, to catch it
 * up or rebuild it (es_projection_rebuild, blue/green) by name, with the
 * options its file gives, or all of them inline on a handle.
 */
#include <stdbool.h>
#include <string.h>

#include "bank_int.h"

void es__bank_model_options(es_projection_options *o, const char *name, es_projection_fn handler)
{
	static const char *const prefixes[] = { "account-" };
	*o = (es_projection_options)ES_PROJECTION_OPTIONS_INIT;
	o->name = name;
	o->handler = handler;
	o->stream_prefixes = prefixes;
	o->n_stream_prefixes = 1;
}

typedef int (*options_fn)(es_projection_options *o);

static const struct {
	const char *name;
	options_fn options;
} models[] = {
	{ ES_BANK_BALANCES, es__bank_balances_options },
	{ ES_BANK_DAILY, es__bank_daily_options },
	{ ES_BANK_OWNERS, es__bank_owners_options },
};
#define N_MODELS (sizeof models / sizeof models[0])

static int unknown_model(const char *name)
{
	return es_error_set(ES_EINVAL, "no bank read model named '%s' (there are %s, %s and %s)",
	                    name ? name : "", ES_BANK_BALANCES, ES_BANK_DAILY, ES_BANK_OWNERS);
}

/* Catches the model up, or rebuilds it; frees what its options made. */
static int run(es_projection_stats *out, es_db *db, options_fn options, bool rebuild,
               void (*progress)(const es_projection_stats *st, uint64_t head, void *user_data),
               void *user_data)
{
	es_projection_options o;
	int rc = options(&o);
	o.progress = progress;
	o.progress_user_data = user_data;
	if (rc == 0)
		rc = rebuild ? es_projection_rebuild(out, db, &o) : es_projection_catch_up(out, db, &o);
	es_free(o.user_data);
	return rc;
}

int es_bank_balances_catch_up(es_projection_stats *out, es_db *db)
{
	return run(out, db, es__bank_balances_options, false, NULL, NULL);
}

int es_bank_daily_catch_up(es_projection_stats *out, es_db *db)
{
	return run(out, db, es__bank_daily_options, false, NULL, NULL);
}

int es_bank_owners_catch_up(es_projection_stats *out, es_db *db)
{
	return run(out, db, es__bank_owners_options, false, NULL, NULL);
}

int es_bank_projection_rebuild(es_projection_stats *out, es_db *db, const char *name,
                               void (*progress)(const es_projection_stats *st, uint64_t head, void *user_data),
                               void *user_data)
{
	for (size_t i = 0; name && i < N_MODELS; i++)
		if (strcmp(name, models[i].name) == 0)
			return run(out, db, models[i].options, true, progress, user_data);
	return unknown_model(name);
}

static int model_inline(es_db *db, options_fn options)
{
	es_projection_options o;
	int rc = options(&o);
	o.user_data_free = es_free;
	if (rc == 0)
		rc = es_projection_inline_add(db, &o);
	if (rc)
		es_free(o.user_data);
	return rc;
}

int es_bank_read_model_inline(es_db *db, const char *name)
{
	bool any = false;
	for (size_t i = 0; i < N_MODELS; i++) {
		if (name && strcmp(name, models[i].name) != 0)
			continue;
		any = true;
		int rc = model_inline(db, models[i].options);
		while (rc && !name && i--) /* all three or none */
			es_projection_inline_remove(db, models[i].name);
		if (rc)
			return rc;
	}
	return any ? 0 : unknown_model(name);
}
