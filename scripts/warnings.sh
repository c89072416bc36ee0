#!/usr/bin/env bash
# warnings.sh - build everything warning-free, with warnings as errors
# (ES_WERROR), in each configuration CI promises: gcc Debug, RelWithDebInfo
# and Release, and clang Release. Build trees go to build-warn-<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
build() { # name compiler build-type
	echo "warnings: $2 $3 (-Werror)"
	CC=$2 cmake -S . -B "build-warn-$1" -DCMAKE_BUILD_TYPE="$3" -DES_WERROR=ON >/dev/null
	cmake --build "build-warn-$1" -j "$jobs" >/dev/null
}
build gcc-debug gcc Debug
build gcc-relwithdebinfo gcc RelWithDebInfo
build gcc-release gcc Release
build clang-release clang Release
echo "warnings: none in any configuration"
