/*
 * status.c - es_relay_status_get: a relay's progress from its checkpoints
 * in the store (so es-relay --status works whether a relay runs or not).
 */
#include <stdio.h>
#include <string.h>

#include "relay_int.h"
#include "evstore/checkpoint.h"

int es_relay_status_get(es_relay_status *out, es_read *rd, const char *checkpoint,
                        const char *js_stream)
{
	char name[ES_CHECKPOINT_NAME_MAX + 1], seq_name[ES_CHECKPOINT_NAME_MAX + 8];
	if (!out || !rd || (!checkpoint && !js_stream))
		return es_error_set(ES_EINVAL, "es_relay_status_get: out, rd and a checkpoint or "
		                    "JetStream stream name are required");
	memset(out, 0, sizeof *out);
	if (checkpoint)
		snprintf(name, sizeof name, "%s", checkpoint);
	else
		snprintf(name, sizeof name, "relay:%s", js_stream);
	snprintf(seq_name, sizeof seq_name, "%s.js-seq", name);
	int rc = es_checkpoint_get(&out->position, rd, name);
	if (rc == ES_ENOTFOUND)
		return es_error_set(rc, "no relay checkpoint '%s' in the store (no relay has published yet)", name);
	if (rc == 0 && (rc = es_checkpoint_get(&out->js_seq, rd, seq_name)) == ES_ENOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = es_log_head(&out->log_head, rd);
	if (rc)
		return rc;
	out->lag_events = out->log_head > out->position ? out->log_head - out->position : 0;
	if (!out->lag_events)
		return 0;
	es_iter *it;
	es_event ev;
	if ((rc = es_log_iter(&it, rd, out->position + 1, ES_FORWARD, 1)) != 0)
		return rc;
	if ((rc = es_iter_next(&ev, it)) == 0)
		out->oldest_unrelayed = ev.recorded_at;
	es_iter_free(it);
	return rc == ES_ITEROVER ? 0 : rc;
}
