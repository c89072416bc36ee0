#!/bin/sh
# subdir_test.sh - evstore builds as a subdirectory of another project
# (add_subdirectory, as FetchContent does): tests/package/ with
# EVSTORE_SOURCE set builds and runs the README example.
# Usage: subdir_test.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evstore-subdir-XXXXXX")
# Removed when every check passed; kept, and named, when one failed.
trap 'st=$?; if [ "$st" -eq 0 ]; then rm -rf "$tmp"; else echo "$(basename "$0"): files kept in $tmp" >&2; fi' EXIT
cmake -S "$src/tests/package" -B "$tmp/build" -DEVSTORE_SOURCE="$src" \
	-DEXAMPLE="$src/examples/quickstart.c" >/dev/null
cmake --build "$tmp/build" -j 2 --target quickstart >/dev/null
# Only the libraries: the parent did not ask for evstore's tests or tools.
test ! -e "$tmp/build/evstore/tests" || { echo "evstore's tests were configured in a parent project"; exit 1; }
"$tmp/build/quickstart" "$tmp/store" | grep -q "appended versions 0..1"
echo "subdirectory build: README example OK"
