#!/usr/bin/env bash
# A partition's own virtual timer interrupts reach it through GICv3 list
# registers (HW bit: its EOI ends the physical interrupt) and its vectors.
source "$(dirname "$0")/lib.sh"
expect_line '^\[vtimer\] vtimer: 5 virtual timer interrupts in [0-9]+ ms$' "the partition handled 5 virtual timer interrupts"
expect_line '^rvm-bm: partition vtimer exited code=0 .* virqs=5$' "EL2 injected exactly 5 through list registers"
for g in hello spinner edge_tx bench; do
  expect_line "^rvm-bm: summary $g .* virqs=0 " "nothing was injected into $g"
done
finish
