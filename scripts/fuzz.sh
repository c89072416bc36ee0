#!/usr/bin/env bash
# fuzz.sh - run each libFuzzer target for a fixed time, starting from its
# committed seed corpus. Usage: scripts/fuzz.sh BUILD_DIR [SECONDS] [TARGET...]
# BUILD_DIR is a build configured with -DCMAKE_C_COMPILER=clang
# -DES_BUILD_FUZZERS=ON (`make fuzz` does all of it). New inputs go to
# BUILD_DIR/fuzz-corpus/<target> (the committed corpus is not touched); a
# crash is saved as BUILD_DIR/fuzz-artifacts/<target>-crash-* and fails the
# run: copy it to tests/fuzz/corpus/<target>/crash-<what> with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-10}
shift $(( $# > 1 ? 2 : 1 ))
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(record payload snapshot dump_verify restore text)
fi

failed=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  work="$build/fuzz-corpus/$t"
  art="$build/fuzz-artifacts"
  mkdir -p "$work" "$art"
  log="$build/fuzz-$t.log"
  # -rss_limit_mb: ASan's shadow on top of a 2-core CI box; -timeout: no
  # single input may take long (the targets open stores, but small ones).
  dict=()
  case $t in dump_verify|restore) dict=(-dict=tests/fuzz/dump.dict) ;; esac
  if "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
       "${dict[@]}" -artifact_prefix="$art/$t-" "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf 'fuzz %-12s %3ss  %9s runs  %7s exec/s  %-10s %s\n' "$t" "$seconds" "${runs:-?}" "${rate:-?}" "$cov" "$status"
  if [ "$status" = FAILED ]; then
    tail -40 "$log"
  fi
done
exit $failed
