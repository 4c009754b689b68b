#!/usr/bin/env bash
# A CommEdge through shared stage-2 pages delivers every message, the sides
# sleep in notify_wait (blocked in the scheduler) and wake each other with
# notify_signal, and the receiver cannot write the sender's page.
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: edge edge_tx -> edge_rx window ipa=50000000$' "the edge window is mapped in both partitions"
expect_line '^\[edge_tx\] edge_tx: sent 200 messages, waited for space [0-9]+ times$' "the sender sent 200 messages"
expect_line '^\[edge_rx\] edge_rx: received 200 messages, 0 bad, waited for data [0-9]+ times$' "the receiver got all 200, in order and intact"
woken=0
for g in edge_tx edge_rx; do
  n=$(sed -nE "s/^rvm-bm: summary $g .* signals=([0-9]+) waits=([0-9]+) woken=([0-9]+) .*/\1 \2 \3/p" "$console")
  read -r sig waits wk <<<"$n"
  if [ -n "$n" ] && [ "$sig" -gt 0 ]; then pass "$g signalled its peer $sig times, slept $waits times"; else fail "$g notifications: '$n'"; fi
  woken=$((woken + ${wk:-0}))
done
if [ "$woken" -gt 0 ]; then pass "$woken waits ended by the peer's signal"; else fail "no wait was ended by a signal"; fi
expect_line '^rvm-bm: partition edge_rx failed: stage-2 data abort detail=50000040 ' "writing the sender's prod index faulted in stage 2"
expect_line '^rvm-bm: summary edge_tx vmid=5 state=exited' "the sender was not disturbed"
expect_line '^rvm-bm: edge edge_tx -> edge_rx closed: edge_rx failed$' "the failed side's edge was closed"
"$bm_witness" "$console" "$dir/log.witness" >/dev/null || fail "witness conversion"
"$rvm" witness show "$dir/log.witness" >"$dir/show.txt" || fail "witness show"
for k in commedge_create commedge_destroy; do
  grep -q "kind=$k " "$dir/show.txt" && pass "$k witnessed" || fail "no $k record"
done
finish
