#!/usr/bin/env bash
# The tamper matrix over real logs: every kind of edit, drop, reorder,
# insertion, truncation and forgery of a log from `rvm demo --witness` and
# of one from the writer (fixture) gets its expected verify status (never 0),
# and a key swap is caught. $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$(dirname "$0")/lib/expect.sh"

"$rvm" demo --witness "$dir/demo.witness" >/dev/null || { echo "FAIL: rvm demo"; exit 1; }
"$fixture" "$dir" 300 || { echo "FAIL: fixture generator"; exit 1; }
expect 0 'COMPLETE' witness verify "$dir/demo.witness" --key "$dir/demo.witness.pub"
expect 0 'COMPLETE' witness verify "$dir/good.witness" --key "$dir/good.witness.pub"

for log in demo good; do
  out="$dir/$log.matrix"
  mkdir "$out"
  "$fixture" tamper "$dir/$log.witness" "$out" || { echo "FAIL: tamper $log"; exit 1; }
  total=0
  while read -r name want; do
    total=$((total + 1))
    [ "$want" -ne 0 ] || { echo "FAIL: $log/$name is expected to verify"; fails=$((fails + 1)); }
    got=$("$rvm" witness verify "$out/$name.witness" --key "$dir/$log.witness.pub" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ]; then
      echo "FAIL: $log/$name: exit $rc, expected $want: $got"; fails=$((fails + 1))
    fi
    # Nothing but a complete log passes --require-complete.
    "$rvm" witness verify "$out/$name.witness" --key "$dir/$log.witness.pub" --require-complete >/dev/null 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then
      echo "FAIL: $log/$name: --require-complete exit $rc"; fails=$((fails + 1))
    fi
  done <"$out/expect.txt"
  [ "$total" -ge 60 ] || { echo "FAIL: only $total variants of $log"; fails=$((fails + 1)); }
  echo "ok: $total tampered variants of the $log log"
done

# Key swap: the log verified against another key, and a .pub replaced.
expect 1 'signed by a key other than the trusted one' witness verify "$dir/demo.witness" --key "$dir/forger.pub"
cp "$dir/forger.pub" "$dir/good.witness.pub.swap"
expect 1 'signed by a key other' witness verify "$dir/good.witness" --key "$dir/good.witness.pub.swap"

finish "witness tamper matrix"
