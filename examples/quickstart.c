/* quickstart.c - the README's example: open a store, append with an
 * expected version, read the stream back. Built and run by the tests. */
#include <stdio.h>
#include <string.h>
#include <evstore/evstore.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "./quickstart-data";
	es_db *db;
	if (es_db_open(&db, path, NULL) != 0) {
		fprintf(stderr, "open: %s\n", es_error_last()->message);
		return 1;
	}

	/* Two events for a new stream: ES_NO_STREAM fails if it already exists. */
	es_event_data events[2] = {
		{ .type = "Greeted", .schema_version = 1, .payload = "hello", .payload_len = 5 },
		{ .type = "Greeted", .schema_version = 1, .payload = "again", .payload_len = 5 },
	};
	es_append_result res;
	int rc = es_stream_append(&res, db, "greeter-1", ES_NO_STREAM, events, 2);
	if (rc == ES_ECONFLICT) /* run twice: append after the head we know */
		rc = es_stream_append(&res, db, "greeter-1", res.head_version, events, 2);
	if (rc != 0) {
		fprintf(stderr, "append: %s\n", es_error_last()->message);
		es_db_close(db);
		return 1;
	}
	printf("appended versions %lld..%lld\n", (long long)res.first_version,
	       (long long)res.head_version);

	es_read *rd;
	es_iter *it;
	es_event ev;
	if (es_read_begin(&rd, db) != 0 ||
	    es_stream_iter(&it, rd, "greeter-1", 0, ES_FORWARD, ES_NO_LIMIT) != 0) {
		fprintf(stderr, "read: %s\n", es_error_last()->message);
		return 1;
	}
	while ((rc = es_iter_next(&ev, it)) == 0)
		printf("v%lld @%llu %s: %.*s\n", (long long)ev.version, (unsigned long long)ev.position,
		       ev.type, (int)ev.payload_len, (const char *)ev.payload);
	es_iter_free(it);
	es_read_end(rd);
	es_db_close(db);
	return rc == ES_ITEROVER ? 0 : 1;
}
