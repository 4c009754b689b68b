#!/usr/bin/env bash
# The wasm benchmark (docs/wasm.md), every baseline in the same run:
#   SHA-256 over 16 MiB x 4: native agent vs wasm agent vs wabt's wasm-interp;
#   start of a trivial agent: native ELF vs wasm cold (validate + wasm2c +
#   cc + link, empty cache) vs wasm cached, each as the wall time of `rvm run`.
# Usage: bench/wasm/run.sh [BUILD_DIR]   (a release build: cmake --preset release)
set -euo pipefail
B=$(cd "${1:-build/release}" && pwd)
RVM=$B/src/cli/rvm
NATIVE=$B/bench/wasm/agent_sha256.elf
WASM=$B/bench/wasm/sha256.wasm
REPS=${REPS:-3}
W=$(mktemp -d /tmp/rvm-wasm-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT
export RVM_WASM_CACHE=$W/cache

manifest() {  # name agent memory -> file
  printf '[[partition]]\nname = "%s"\nagent = "%s"\nmemory = "%s"\nmax_tasks = 1\nstack = "1MiB"\n' "$1" "$2" "$3" > "$W/$1.toml"
  echo "$W/$1.toml"
}
ns_of() { sed -n 's/.*ns=\([0-9]*\).*/\1/p' | head -1; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s%N; }

"$RVM" wasm compile "$WASM" > /dev/null
mn=$(manifest native "$NATIVE" 64MiB)
mw=$(manifest wasm "$WASM" 64MiB)
native=$(for i in $(seq "$REPS"); do "$RVM" run "$mn" | ns_of; done | median)
wasm=$(for i in $(seq "$REPS"); do "$RVM" run "$mw" | ns_of; done | median)
# wasm-interp (no WASI in Debian's build): the bare module hashes 1 MiB x 4;
# its process time is scaled by 16 to the same work (start-up included).
t0=$(date +%s%N); wasm-interp --run-all-exports "$B/bench/wasm/sha256_bare.wasm" > /dev/null; t1=$(date +%s%N)
interp=$(( (t1 - t0) * 16 ))
echo "sha256 16 MiB x 4 (median of $REPS, ns; ratio = native time / time)"
printf '  %-22s %14s  %6s\n' native "$native" 1.00
printf '  %-22s %14s  %6.2f\n' "wasm agent (wasm2c)" "$wasm" "$(echo "$native / $wasm" | bc -l)"
printf '  %-22s %14s  %6.4f\n' "wabt wasm-interp (x16)" "$interp" "$(echo "$native / $interp" | bc -l)"

printf '(module (func (export "_start")))' > "$W/tiny.wat"
wat2wasm "$W/tiny.wat" -o "$W/tiny.wasm"
mt=$(manifest tiny "$W/tiny.wasm" 16MiB)
me=$(manifest exitcode "$B/guest/examples/agent_exitcode.elf" 16MiB)
timed() { local t0 t1; t0=$(now); "$@" > /dev/null || true; t1=$(now); echo $(( (t1 - t0) / 1000 )); }
nat=$(for i in $(seq "$REPS"); do timed "$RVM" run "$me"; done | median)
cold=$(for i in $(seq "$REPS"); do rm -rf "$RVM_WASM_CACHE"; timed "$RVM" run "$mt"; done | median)
cached=$(for i in $(seq "$REPS"); do timed "$RVM" run "$mt"; done | median)
echo "start to exit of a trivial agent, wall time of rvm run (median of $REPS, us)"
printf '  %-22s %10s\n' "native ELF" "$nat" "wasm cold (compile)" "$cold" "wasm cached" "$cached"
