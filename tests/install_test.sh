#!/bin/sh
# install_test.sh - `cmake --install` into a temporary prefix, then build the
# README example against it: with pkg-config (shared and static) and with
# find_package(evstore) (tests/package/), and run each. The example uses only
# the core, so it must not pull in OpenSSL or jansson.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/evstore-install-XXXXXX")
# Removed when every check passed; kept, and named, when one failed.
trap 'st=$?; if [ "$st" -eq 0 ]; then rm -rf "$tmp"; else echo "$(basename "$0"): files kept in $tmp" >&2; fi' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name evstore.pc | head -n 1)
[ -n "$pc" ] || { echo "evstore.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
for h in evstore engine errors check snapshot aggregate upcaster bank audit; do
	test -f "$prefix/include/evstore/$h.h" || { echo "missing header $h.h"; exit 1; }
done
for pc in evstore evstore-bank evstore-audit; do
	pkg-config --exists "$pc" || { echo "missing or broken $pc.pc"; exit 1; }
done
ex=$src/examples/quickstart.c
cc "$ex" $(pkg-config --cflags evstore) -o "$tmp/shared" \
	$(pkg-config --libs evstore) -Wl,-rpath,"$(pkg-config --variable=libdir evstore)"
cc "$ex" $(pkg-config --cflags evstore) -o "$tmp/static" \
	"$(pkg-config --variable=libdir evstore)/libevstore.a" $(pkg-config --libs --static evstore | sed 's/-levstore//')
"$tmp/shared" "$tmp/store1" | grep -q "appended versions 0..1"
"$tmp/static" "$tmp/store2" | grep -q "appended versions 0..1"
if ldd "$tmp/shared" | grep -Eq 'libcrypto|libjansson|libprotobuf-c|libevstore-'; then
	echo "an engine-only program pulls in more than the core:"; ldd "$tmp/shared"; exit 1
fi
cmake -S "$src/tests/package" -B "$tmp/pkg" -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLE="$ex" >/dev/null
cmake --build "$tmp/pkg" >/dev/null
LD_LIBRARY_PATH="$(pkg-config --variable=libdir evstore)" "$tmp/pkg/quickstart" "$tmp/store3" |
	grep -q "appended versions 0..1"
echo "install test: headers, three .pc files, pkg-config shared and static, find_package: OK"
