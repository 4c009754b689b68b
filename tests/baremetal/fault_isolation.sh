#!/usr/bin/env bash
# A stage-2 abort and an undefined instruction each fail their partition
# alone; the failure is witnessed (partition_state Failed records).
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: partition fault failed: stage-2 data abort detail=20000000 ' "stage-2 abort at IPA 0x20000000 failed 'fault'"
expect_line '^rvm-bm: partition undef failed: undefined instruction ' "udf failed 'undef'"
if grep -q 'must not happen' "$console"; then fail "a faulting partition ran on"; else pass "neither faulting partition ran on"; fi
for g in hello spinner edge_tx vtimer bench bench_peer; do
  expect_line "^rvm-bm: summary $g vmid=[0-9]+ state=exited" "$g was not disturbed"
done
"$bm_witness" "$console" "$dir/log.witness" >/dev/null || fail "witness conversion"
"$rvm" witness show "$dir/log.witness" >"$dir/show.txt" || fail "witness show"
# partition_state flags: to-state << 16 (7 = Failed), reason << 24 (2 = BadAccess, 3 = IllegalInstruction).
grep -Eq 'kind=partition_state .*aux=0x20000000 flags=0x02070000 ' "$dir/show.txt" \
  && pass "the stage-2 abort is witnessed (Failed, BadAccess, IPA)" || fail "no witnessed BadAccess failure at 0x20000000"
grep -Eq 'kind=partition_state .*flags=0x03070000 ' "$dir/show.txt" \
  && pass "the undefined instruction is witnessed (Failed, IllegalInstruction)" || fail "no witnessed IllegalInstruction failure"
finish
