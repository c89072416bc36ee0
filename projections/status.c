/*
 * status.c - what a projection reads and reports: option checks, queries
 * of its state, and its status (position, lag, the failure that stopped
 * it). A failure record lives under the module's own (empty) namespace,
 * keyed by the projection's name: LE64 position, LE32 code, the message.
 */
#include <stdio.h>
#include <string.h>

#include "es_bytes.h"
#include "proj_int.h"

#define FAILURE_NS ""

int es__proj_check_name(const char *name, const char *fn)
{
	if (!name || !*name || strlen(name) > ES_PROJECTION_NAME_MAX)
		return es_error_set(ES_EINVAL, "%s: a projection name of 1 to %d bytes is required", fn,
		                    ES_PROJECTION_NAME_MAX);
	return 0;
}

int es__proj_check_options(es_db *db, const es_projection_options *o, const char *fn)
{
	if (!db || !o)
		return es_error_set(ES_EINVAL, "%s: db and opts are required", fn);
	if (o->version != ES_PROJECTION_OPTIONS_VERSION)
		return es_error_set(ES_EINVAL, "%s: unknown options version %u", fn, o->version);
	if (!o->handler)
		return es_error_set(ES_EINVAL, "%s: projection '%s' has no handler", fn, o->name ? o->name : "");
	int rc = es__proj_check_name(o->name, fn);
	if (rc == 0 && strchr(o->name, '\x1f'))
		rc = es_error_set(ES_EINVAL, "%s: projection names with a 0x1f byte are reserved", fn);
	return rc;
}

int es__proj_failure_put(es__state_txn *t, const char *name, uint64_t position, int code,
                         const char *message)
{
	uint8_t rec[12 + 256];
	size_t len = strnlen(message, 255);
	es__put_le64(rec, position);
	es__put_le32(rec + 8, (uint32_t)code);
	memcpy(rec + 12, message, len);
	return es__state_put(t, FAILURE_NS, name, strlen(name), rec, 12 + len);
}

int es__proj_failure_clear(es__state_txn *t, const char *name)
{
	int rc = es__state_del(t, FAILURE_NS, name, strlen(name));
	return rc == ES_ENOTFOUND ? 0 : rc;
}

static void read_failure(es_projection_status *out, es_read *rd, const char *name)
{
	const void *v;
	size_t len;
	if (es__state_read(&v, &len, rd, FAILURE_NS, name, strlen(name)) != 0 || len < 12)
		return;
	out->error_position = es__get_le64(v);
	out->error = (int)es__get_le32((const uint8_t *)v + 8);
	snprintf(out->message, sizeof out->message, "%.*s", (int)(len - 12), (const char *)v + 12);
}

int es_projection_status_get(es_projection_status *out, es_read *rd, const char *name)
{
	if (!out || !rd)
		return es_error_set(ES_EINVAL, "es_projection_status_get: out and rd are required");
	int rc = es__proj_check_name(name, "es_projection_status_get");
	char checkpoint[ES__PROJECTION_CHECKPOINT_SIZE];
	snprintf(checkpoint, sizeof checkpoint, "%s%s", ES__PROJECTION_CHECKPOINT, name ? name : "");
	memset(out, 0, sizeof *out);
	if (rc == 0 && (rc = es_log_head(&out->head, rd)) == 0)
		rc = es_checkpoint_get(&out->position, rd, checkpoint);
	if (rc == ES_ENOTFOUND)
		return es_error_set(rc, "projection '%s' has never run", name);
	if (rc)
		return rc;
	out->behind = out->head - out->position;
	read_failure(out, rd, name);
	return 0;
}

int es_projection_query(const void **value, size_t *value_len, es_read *rd, const char *name,
                        const void *key, size_t key_len)
{
	int rc = es__proj_check_name(name, "es_projection_query");
	if (rc == 0 && (!value || !value_len || !rd || !key || !key_len || key_len > ES__PROJECTION_KEY_MAX))
		rc = es_error_set(ES_EINVAL, "es_projection_query: value, value_len, rd and a key of 1 to %d "
		                  "bytes are required", ES__PROJECTION_KEY_MAX);
	return rc ? rc : es__state_read(value, value_len, rd, name, key, key_len);
}

int es_projection_scan(es_read *rd, const char *name, const void *prefix, size_t prefix_len,
                       es_projection_each_fn fn, void *user_data)
{
	int rc = es__proj_check_name(name, "es_projection_scan");
	if (rc == 0 && (!rd || !fn || (!prefix && prefix_len) || prefix_len > ES__PROJECTION_KEY_MAX))
		rc = es_error_set(ES_EINVAL, "es_projection_scan: rd, fn and a prefix of at most %d bytes "
		                  "are required", ES__PROJECTION_KEY_MAX);
	return rc ? rc : es__state_scan(rd, name, prefix, prefix_len, fn, user_data);
}
