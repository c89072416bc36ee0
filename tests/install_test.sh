#!/bin/sh
# install_test.sh - `cmake --install` into a temporary prefix, then build the
# README example against it with pkg-config, shared and static, and run it.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
# Removed when every check passed; kept, and named, when one failed.
trap 'st=$?; if [ "$st" -eq 0 ]; then rm -rf "$tmp"; else echo "install_test: files kept in $tmp" >&2; fi' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/$(gcc -print-multiarch 2>/dev/null)/pkgconfig"
for h in evstore engine errors snapshot aggregate upcaster bank; do
	test -f "$tmp/prefix/include/evstore/$h.h" || { echo "missing header $h.h"; exit 1; }
done
cc "$src/examples/quickstart.c" $(pkg-config --cflags evstore) -o "$tmp/shared" \
	$(pkg-config --libs evstore) -Wl,-rpath,"$(pkg-config --variable=libdir evstore)"
cc "$src/examples/quickstart.c" $(pkg-config --cflags evstore) -o "$tmp/static" \
	"$(pkg-config --variable=libdir evstore)/libevstore.a" $(pkg-config --libs --static evstore | sed 's/-levstore//')
"$tmp/shared" "$tmp/store1" | grep -q "appended versions 0..1"
"$tmp/static" "$tmp/store2" | grep -q "appended versions 0..1"
echo "install test: headers, evstore.pc, shared and static libraries OK"
