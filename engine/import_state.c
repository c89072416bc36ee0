/*
 * import_state.c - stream states in an import: a soft delete, recreation or
 * tombstone declared for a stream is replayed where the stream's head
 * reaches it, as an entry of the batch being built, so the delete commits
 * with the events around it; at the end every declared state must have been
 * reached.
 */
#include <string.h>

#include "db.h"
#include "evstore/import.h"
#include "import_int.h"

/* Replays a declared state once the stream's head has reached it: the soft
 * delete right after version want_first - 1, the tombstone after the last. */
int es__import_settle(es_importer *imp, es__import_stream *s)
{
	int rc = 0;
	if (!s->declared)
		return 0;
	if (s->want_first > s->first_visible && s->head == s->want_first - 1 && !s->soft_deleted &&
	    (rc = es__import_add_op(imp, ES__IMPORT_SOFT_DELETE, s, s->head)) == 0) {
		s->soft_deleted = true;
		s->first_visible = s->head + 1;
		imp->b->deletes++;
	}
	if (rc == 0 && s->want_state == ES_STREAM_TOMBSTONED && !s->tombstoned && s->head == s->want_head &&
	    s->first_visible == s->want_first && (rc = es__import_add_op(imp, ES__IMPORT_TOMBSTONE, s, ES_ANY)) == 0) {
		s->tombstoned = true;
		imp->b->tombstones++;
	}
	return rc;
}

/* ---- stream states ---- */

static int check_state(const char *stream, es_stream_state state, int64_t head, int64_t first)
{
	const char *bad = NULL;
	if (state != ES_STREAM_LIVE && state != ES_STREAM_SOFT_DELETED && state != ES_STREAM_TOMBSTONED)
		bad = "unknown state";
	else if (head < -1 || first < 0 || first > head + 1)
		bad = "first_version must be 0..head_version + 1";
	else if (state == ES_STREAM_LIVE && first > head)
		bad = "a live stream needs a visible event (first_version <= head_version)";
	else if (state == ES_STREAM_SOFT_DELETED && (head < 0 || first != head + 1))
		bad = "a soft-deleted stream has events and first_version = head_version + 1";
	if (bad)
		return es_error_set(ES_EINVAL, "import: state of stream '%s' (head %lld, first %lld): %s",
		                    stream, (long long)head, (long long)first, bad);
	return 0;
}

int es_import_stream_state(es_importer *imp, const char *stream, es_stream_state state,
                           int64_t head_version, int64_t first_version)
{
	if (!imp)
		return es_error_set(ES_EINVAL, "es_import_stream_state: imp is required");
	if (imp->failed)
		return es__import_failed_before();
	es__import_stream *s;
	int rc = es__check_stream_name(stream);
	if (rc || (rc = check_state(stream, state, head_version, first_version)) ||
	    (rc = es__import_stream_get(&s, imp, stream)))
		return rc;
	if (s->declared)
		return es_error_set(ES_EINVAL, "import: stream '%s' was given a state already", stream);
	if (s->tombstoned)
		return es_error_set(ES_EDELETED, "import: stream '%s' is already tombstoned", stream);
	if (s->head > head_version || s->first_visible > first_version ||
	    (s->head >= first_version && s->first_visible != first_version))
		return es_error_set(ES_ECONFLICT, "import: stream '%s' cannot end at head %lld with first "
		                    "visible version %lld: it is already at head %lld, first visible %lld",
		                    stream, (long long)head_version, (long long)first_version,
		                    (long long)s->head, (long long)s->first_visible);
	s->declared = true;
	s->want_state = state;
	s->want_head = head_version;
	s->want_first = first_version;
	return es__import_settle(imp, s);
}

/* A declared state the import did not bring its stream to. */
int es__import_check_settled(es_importer *imp)
{
	for (size_t i = 0; i < imp->streams.cap; i++) {
		const es__import_stream *s = imp->streams.slots[i];
		if (!s || !s->declared)
			continue;
		es_stream_state got = s->tombstoned ? ES_STREAM_TOMBSTONED
		                      : s->soft_deleted ? ES_STREAM_SOFT_DELETED : ES_STREAM_LIVE;
		if (got != s->want_state || s->head != s->want_head || s->first_visible != s->want_first)
			return es_error_set(ES_ECONFLICT, "import: stream '%s' was to end at head %lld, first "
			                    "visible %lld, state %d, but the import brought it to head %lld, "
			                    "first visible %lld, state %d", s->name, (long long)s->want_head,
			                    (long long)s->want_first, (int)s->want_state, (long long)s->head,
			                    (long long)s->first_visible, (int)got);
	}
	return 0;
}

