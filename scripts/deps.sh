#!/usr/bin/env bash
# Installs RVM's build and test dependencies from Debian's registry.
# Idempotent: does nothing when every package is already present.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev libcli11-dev libfmt-dev libspdlog-dev
  nlohmann-json3-dev libtomlplusplus-dev
  libeigen3-dev libboost-graph-dev
  g++-aarch64-linux-gnu clang-format clang-tidy clang libclang-rt-14-dev
  wabt wasi-libc lld libclang-rt-14-dev-wasm32 bc python3  # WebAssembly agents (issue 15)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "rvm: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
