/*
 * history.c - an account's events in a time window with the running state,
 * for statements and the es-bank history command.
 */
#include <stdint.h>

#include <evstore/bank.h>

/* The state just before `since`, snapshot-assisted; *from is the first
 * version to walk. */
static int state_before(es_bank_account *state, int64_t *from, es_read *rd, const char *stream, int64_t since)
{
	es_load_info info;
	*from = 0;
	es_bank_account_type.init(state);
	if (since == INT64_MIN)
		return 0;
	int rc = es_aggregate_fold_as_of(state, &info, rd, &es_bank_account_type, stream, since - 1);
	if (rc == ES_ENOTFOUND) { /* the account did not exist yet: walk from its start */
		es_bank_account_type.init(state);
		return 0;
	}
	*from = info.version + 1;
	return rc;
}

static int walk(es_read *rd, const char *stream, int64_t since, int64_t until,
                es_bank_history_fn fn, void *user_data)
{
	es_bank_account before, after;
	es_iter *it;
	es_event ev;
	int64_t from;
	int rc = state_before(&after, &from, rd, stream, since);
	if (rc || (rc = es_stream_iter(&it, rd, stream, from, ES_FORWARD, ES_NO_LIMIT)))
		return rc;
	while ((rc = es_iter_next(&ev, it)) == 0 && ev.recorded_at <= until) {
		before = after;
		if ((rc = es_aggregate_apply(&es_bank_account_type, &after, &ev)) ||
		    (rc = fn(&ev, &before, &after, user_data)))
			break;
	}
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}

int es_bank_history(es_db *db, const char *account_id, int64_t since, int64_t until,
                    es_bank_history_fn fn, void *user_data)
{
	char stream[ES_BANK_ACCOUNT_STREAM_SIZE];
	es_stream_info si;
	es_read *rd;
	if (!db || !fn)
		return es_error_set(ES_EINVAL, "es_bank_history: db and fn are required");
	int rc = es_bank_account_stream(stream, account_id);
	if (rc || (rc = es_read_begin(&rd, db)))
		return rc;
	if ((rc = es_stream_info_get(&si, rd, stream)) == 0)
		rc = walk(rd, stream, since, until, fn, user_data);
	es_read_end(rd);
	return rc;
}
