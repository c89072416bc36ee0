/*
 * mkstore.c - the audit command-line test's helper: makes the fixture
 * store, a big store, an LMDB environment that is not a store, or damages
 * a store on purpose.
 *   es_audit_fixture DIR | --big N DIR | --plain DIR | --damage KIND DIR
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static int make(const char *dir, uint64_t big)
{
	es_open_options o = ES_OPEN_OPTIONS_INIT;
	o.nosync = 1;
	es_db *db;
	int rc = es_db_open(&db, dir, &o);
	if (rc == 0) {
		rc = big ? es_audit_fixture_big(db, big) : es_audit_fixture(db);
		es_db_close(db);
	}
	if (rc)
		fprintf(stderr, "es_audit_fixture: %s\n", es_error_last()->message);
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2)
		return make(argv[1], 0);
	if (argc == 4 && strcmp(argv[1], "--big") == 0)
		return make(argv[3], strtoull(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "--plain") == 0)
		return es_audit_plain_lmdb(argv[2]) ? 1 : 0;
	if (argc == 4 && strcmp(argv[1], "--damage") == 0)
		for (int k = 0; k < DAMAGE_COUNT; k++)
			if (strcmp(argv[2], fixture_damage_names[k]) == 0)
				return es_audit_damage(argv[3], (fixture_damage)k) ? 1 : 0;
	fprintf(stderr, "usage: es_audit_fixture DIR | --big N DIR | --plain DIR | --damage KIND DIR\n");
	return 2;
}
