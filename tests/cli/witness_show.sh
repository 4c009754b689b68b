#!/usr/bin/env bash
# rvm witness show: decodes records and seals; corrupt input is a clear
# error (exit 1), never a crash. $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fixture" "$dir" 200 || { echo "FAIL: fixture generator"; exit 1; }
source "$(dirname "$0")/lib/expect.sh"

s=(witness show)
expect 0 'header: version 2, 200 records, 4 sealed segments' "${s[@]}" "$dir/good.witness"
expect 0 'record 199: seq=199 ' "${s[@]}" "$dir/good.witness"
expect 0 'seal 2: segment=2 first_sequence=128 records=64 epoch=0' "${s[@]}" "$dir/good.witness"
expect 0 'seal 3: segment=3 first_sequence=192 records=8 END' "${s[@]}" "$dir/good.witness"
expect 0 'record 64: seq=64 time_ns=[0-9]+ kind=proof_verified tier=0 subject=0x40 object=0x1c0 aux=0x340' \
  "${s[@]}" "$dir/good.witness" --from 64 --count 1

# --from/--count select exactly those records (plus seals of segments they reach into).
lines=$("$rvm" "${s[@]}" "$dir/good.witness" --from 60 --count 10 | grep -c '^record ')
[ "$lines" -eq 10 ] || { echo "FAIL: --from 60 --count 10 printed $lines records"; fails=$((fails + 1)); }
seals=$("$rvm" "${s[@]}" "$dir/good.witness" --from 60 --count 10 | grep -c '^seal 0:')
[ "$seals" -eq 1 ] || { echo "FAIL: seal 0 not shown inside the range"; fails=$((fails + 1)); }
none=$("$rvm" "${s[@]}" "$dir/good.witness" --from 5000 | grep -c '^record ')
[ "$none" -eq 0 ] || { echo "FAIL: --from past the end printed records"; fails=$((fails + 1)); }

# --json: one valid JSON object per line.
json=$("$rvm" "${s[@]}" "$dir/good.witness" --json --from 60 --count 8)
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys
objs=[json.loads(l) for l in sys.stdin]
assert objs[0]["type"]=="header" and objs[0]["records"]==200, objs[0]
recs=[o for o in objs if o["type"]=="record"]
assert [o["sequence"] for o in recs]==list(range(60,68)), recs
assert any(o["type"]=="seal" and o["segment"]==0 and not o["end"] for o in objs)' <<<"$json" \
    || { echo "FAIL: --json output"; fails=$((fails + 1)); }
else
  echo "SKIP: python3 not found, JSON not parsed"
fi
grep -q '"type":"record","index":60,' <<<"$json" || { echo "FAIL: --json record 60"; fails=$((fails + 1)); }

# Corrupt input: a clear message naming where; other files are exit 2.
expect 1 'cut-off entry of 100 bytes' "${s[@]}" "$dir/seal1_truncated.witness"
expect 1 'cut-off entry of 10 bytes' "${s[@]}" "$dir/record130_truncated.witness"
expect 2 'not a readable witness file: file: not a witness file' "${s[@]}" "$dir/garbage.witness"
expect 2 'not a readable witness file' "${s[@]}" "$dir/empty.witness"
# show decodes, it does not verify: a flipped record still prints.
expect 0 'record 70: ' "${s[@]}" "$dir/record70_flip.witness"
expect 2 'cannot read' "${s[@]}" "$dir/missing.witness"
expect 2 'not a regular file' "${s[@]}" /dev/zero
expect 2 '' "${s[@]}" "$dir/good.witness" --from notanumber

finish "witness show"
