/*
 * rebuild.c - rebuilding one of the bank's read models by name, through
 * es_projection_rebuild (blue/green), with the same options as its
 * catch-up.
 */
#include <string.h>

#include "bank_int.h"

int es_bank_projection_rebuild(es_projection_stats *out, es_db *db, const char *name,
                               void (*progress)(const es_projection_stats *st, uint64_t head, void *user_data),
                               void *user_data)
{
	static const struct {
		const char *name;
		int (*options)(es_projection_options *o);
	} models[] = {
		{ ES_BANK_BALANCES, es__bank_balances_options },
		{ ES_BANK_DAILY, es__bank_daily_options },
		{ ES_BANK_OWNERS, es__bank_owners_options },
	};
	for (size_t i = 0; name && i < sizeof models / sizeof models[0]; i++) {
		if (strcmp(name, models[i].name) != 0)
			continue;
		es_projection_options o;
		int rc = models[i].options(&o);
		o.progress = progress;
		o.progress_user_data = user_data;
		if (rc == 0)
			rc = es_projection_rebuild(out, db, &o);
		es_free(o.user_data);
		return rc;
	}
	return es_error_set(ES_EINVAL, "no bank read model named '%s' (there are %s, %s and %s)",
	                    name ? name : "", ES_BANK_BALANCES, ES_BANK_DAILY, ES_BANK_OWNERS);
}
