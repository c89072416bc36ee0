#!/bin/sh
# abi_test.sh - the shared libraries export the public API only: every
# dynamic symbol they define is an es_ name, and none is an internal one
# (es__*, es_<module>__*), which -fvisibility=hidden and ES_EXTERN keep in.
# Usage: abi_test.sh LIB.so...
set -eu
status=0
for lib in "$@"; do
	syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
	[ -n "$syms" ] || { echo "$lib: exports nothing"; status=1; continue; }
	bad=$(printf '%s\n' "$syms" | grep -Ev '^es_[a-z0-9_]+$' || true)
	internal=$(printf '%s\n' "$syms" | grep -E '__' || true)
	if [ -n "$bad$internal" ]; then
		echo "$lib exports symbols outside the public API:"
		printf '%s\n' $bad $internal | sort -u | sed 's/^/  /'
		status=1
	else
		echo "$lib: $(printf '%s\n' "$syms" | wc -l) public symbols, no internal ones"
	fi
done
exit $status
