#!/usr/bin/env bash
# The full WebAssembly spec-test conformance run through RVM's path
# (docs/wasm.md): every script of the testsuite, RVM's pass counts against
# wabt's spectest-interp. Usage: scripts/wasm-spec.sh [BUILD_DIR] [FILE.wast ...]
set -euo pipefail
B=${1:-build/release}
shift || true
exec python3 "$(dirname "$0")/../tests/wasm/spec_harness.py" --rvm "$B/src/cli/rvm" --jobs 2 "$@"
