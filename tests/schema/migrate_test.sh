#!/bin/sh
# migrate_test.sh - es-migrate on a copy of the legacy fixture (bank events
# at schemas 1 and 2): the new store holds only current schema versions, the
# same log (positions, ids, recorded_at) and gives the fixture's answers.
# Also: a second run onto the same --to is refused with exit status 2.
#   migrate_test.sh ES_MIGRATE FIXTURE_CHECK FIXTURES_DIR
set -eu
migrate=$1 check=$2 fixtures=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/evstore-migrate-XXXXXX")
# Removed when every check passed; kept, and named, when one failed.
trap 'st=$?; if [ "$st" -eq 0 ]; then rm -rf "$work"; else echo "migrate_test: files kept in $work" >&2; fi' EXIT

mkdir "$work/legacy"
cp "$fixtures/legacy-store/data.mdb" "$work/legacy/"
"$migrate" --from "$work/legacy" --to "$work/migrated"
"$check" --current-only --same-log-as "$work/legacy" "$work/migrated" "$fixtures/legacy-store.answers"

status=0
"$migrate" --from "$work/legacy" --to "$work/migrated" 2>"$work/err" || status=$?
if [ "$status" -ne 2 ]; then
	echo "migrate_test: a second migration onto a store exited $status, not 2" >&2
	exit 1
fi
grep -q "already holds a store" "$work/err"

# The current-format fixture migrates too, as a no-op on its schemas.
mkdir "$work/v1"
cp "$fixtures/v1-store/data.mdb" "$work/v1/"
"$migrate" --from "$work/v1" --to "$work/v1-migrated"
"$check" --current-only --same-log-as "$work/v1" "$work/v1-migrated" "$fixtures/v1-store.answers"
echo "migrate_test: ok"
