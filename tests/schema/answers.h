/*
 * answers.h - checking a store against a fixture's answers file (the format
 * is described in tests/fixtures/README.md and at the top of each
 * .answers file). Shared by the schema suite and the fixture_check tool.
 */
#ifndef ES_ANSWERS_H
#define ES_ANSWERS_H

#include <stddef.h>

#include <evstore/evstore.h>
#include <evstore/bank.h>

/*
 * Checks every answer in the file at path against db, in one read. Each
 * mismatch is printed to stderr as "path:LINE: what differs".
 * current_only: the store is a migrated copy, so stored types and schema
 * versions are not compared (the "events" lines and the type/schema fields
 * of "event" lines are skipped); instead every event must be at its type's
 * current version in es_bank_registry().
 * @param checked  receives the number of answers checked
 * @return the number of mismatches (a line that does not parse counts as
 *   one), or -1 if the file cannot be read or the store not read.
 */
int answers_check(es_db *db, const char *path, int current_only, size_t *checked);

#endif
