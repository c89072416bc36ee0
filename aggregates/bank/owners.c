/*
 * owners.c - the bank's owner index, the projection "bank-owners": key
 * owner name + NUL + account id (from AccountOpened; owners never change),
 * so the accounts of one owner are one prefix scan.
 */
#include <string.h>

#include "bank_int.h"
#include "bank.pb-c.h"

static int on_opened(es_projection_ctx *ctx, const es_event *ev, void *user_data)
{
	(void)user_data;
	Evstore__Bank__AccountOpened *m = evstore__bank__account_opened__unpack(NULL, ev->payload_len, ev->payload);
	if (!m)
		return es__bank_undecodable(ev);
	char key[ES_BANK_OWNER_MAX + 1 + ES_BANK_ACCOUNT_ID_MAX];
	size_t owner = strnlen(m->owner, ES_BANK_OWNER_MAX), id = strlen(ev->stream + sizeof "account-" - 1);
	memcpy(key, m->owner, owner);
	key[owner] = '\0';
	memcpy(key + owner + 1, ev->stream + sizeof "account-" - 1, id);
	evstore__bank__account_opened__free_unpacked(m, NULL);
	return es_projection_put(ctx, key, owner + 1 + id, "", 0);
}

int es__bank_owners_options(es_projection_options *o)
{
	static const char *const types[] = { ES_BANK_ACCOUNT_OPENED };
	es__bank_model_options(o, ES_BANK_OWNERS, on_opened);
	o->types = types;
	o->n_types = 1;
	o->upcast = es_bank_registry();
	return o->upcast ? 0 : es_error_set(ES_ENOMEM, "cannot build the bank's upcasters");
}

typedef struct owner_scan {
	size_t skip;
	es_bank_owner_fn fn;
	void *user_data;
} owner_scan;

static int each_account(const void *key, size_t key_len, const void *value, size_t value_len,
                        void *user_data)
{
	owner_scan *s = user_data;
	char id[ES_BANK_ACCOUNT_ID_MAX + 1];
	(void)value, (void)value_len;
	if (key_len <= s->skip || key_len - s->skip > ES_BANK_ACCOUNT_ID_MAX)
		return es_error_set(ES_ECORRUPT, "the owner index holds a malformed record");
	memcpy(id, (const char *)key + s->skip, key_len - s->skip);
	id[key_len - s->skip] = '\0';
	return s->fn(id, s->user_data);
}

int es_bank_accounts_of(es_read *rd, const char *owner, es_bank_owner_fn fn, void *user_data)
{
	char prefix[ES_BANK_OWNER_MAX + 1];
	if (!owner || !*owner || strlen(owner) > ES_BANK_OWNER_MAX || !fn)
		return es_error_set(ES_EINVAL, "es_bank_accounts_of: an owner name of 1 to %d bytes and fn are "
		                    "required", ES_BANK_OWNER_MAX);
	size_t n = strlen(owner);
	memcpy(prefix, owner, n);
	prefix[n] = '\0';
	owner_scan s = { n + 1, fn, user_data };
	return es_projection_scan(rd, ES_BANK_OWNERS, prefix, n + 1, each_account, &s);
}
