#!/usr/bin/env bash
# install-deps.sh - install the Debian packages evstore needs, if missing.
# Uses sudo when not root. Safe to run repeatedly: does nothing when all
# packages are present. Extra package names given as arguments are
# installed too (`make fuzz` adds clang and libFuzzer's runtime this way).
set -euo pipefail

packages=(build-essential cmake pkg-config liblmdb-dev lmdb-utils libprotobuf-c-dev
          protobuf-c-compiler check libsubunit-dev libxxhash-dev libsqlite3-dev
          libssl-dev libjansson-dev python3 nats-server libnats-dev "$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
