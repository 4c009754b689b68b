#!/usr/bin/env bash
# rvm wasm / rvm run with .wasm agents (docs/wasm.md): `rvm wasm check`
# and `compile` refuse bad modules with the reason (no KVM needed);
# `rvm run` of a .wasm agent runs it, passes the manifest's args, puts the
# module digest in the witness log, and a second run compiles nothing.
# $1: rvm binary. Needs wabt (wat2wasm); KVM part skipped loudly without /dev/kvm.
set -u
rvm=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export RVM_WASM_CACHE=$dir/cache
source "$(dirname "$0")/lib/expect.sh"
command -v wat2wasm >/dev/null || { echo "FAIL: wat2wasm missing (scripts/deps.sh)"; exit 1; }

wat() { printf '%s' "$2" > "$dir/$1.wat" && wat2wasm "$dir/$1.wat" -o "$dir/$1.wasm"; }
wat ok '(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32))) (memory (export "memory") 1) (func (export "_start") (call $e (i32.const 9))))'
wat noentry '(module (func))'
wat missiles '(module (import "env" "launch" (func)) (func (export "_start")))'
printf 'not wasm' > "$dir/junk.wasm"

expect 0 "valid \\(1 imports" wasm check "$dir/ok.wasm"
expect 1 "malformed module: not a WebAssembly binary" wasm check "$dir/junk.wasm"
expect 1 "unsupported import: import 'env' 'launch' does not exist in RVM" wasm check "$dir/missiles.wasm"
expect 1 "no entry point" wasm compile "$dir/noentry.wasm"
expect 0 "compile and link" wasm compile "$dir/ok.wasm"
expect 0 "from the cache \\(nothing compiled\\)" wasm compile "$dir/ok.wasm"

if ! [ -c /dev/kvm ] || ! { : <>/dev/kvm; } 2>/dev/null; then
  [ "${RVM_REQUIRE_KVM:-}" = "1" ] && { echo "FAIL: KVM NOT AVAILABLE but RVM_REQUIRE_KVM=1"; exit 1; }
  echo "*** SKIP: KVM NOT AVAILABLE: /dev/kvm missing — rvm run of wasm agents did NOT run ***"
  finish "rvm wasm"
  exit 0
fi
cat > "$dir/run.toml" <<EOF
[run]
witness = "$dir/run.witness"
[[partition]]
name = "w"
agent = "$dir/ok.wasm"
EOF
expect 0 "w +exited +9" run "$dir/run.toml"
expect 0 "kind=boot_attestation .*flags=0x00000100
kind=boot_attestation .*flags=0x00010100" witness show "$dir/run.witness"
expect 0 "" witness verify "$dir/run.witness"
cat > "$dir/bad.toml" <<EOF
[[partition]]
name = "w"
agent = "$dir/missiles.wasm"
EOF
expect 2 "partition 'w' .*import 'env' 'launch' does not exist" run "$dir/bad.toml"
finish "rvm wasm"
