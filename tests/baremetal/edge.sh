#!/usr/bin/env bash
# A CommEdge through shared stage-2 pages delivers every message, and the
# receiver cannot write the sender's page.
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: edge edge_tx -> edge_rx window ipa=50000000$' "the edge window is mapped in both partitions"
expect_line '^\[edge_tx\] edge_tx: sent 64 messages$' "the sender sent 64 messages"
expect_line '^\[edge_rx\] edge_rx: received 64 messages, 0 bad$' "the receiver got all 64, in order and intact"
expect_line '^rvm-bm: partition edge_rx failed: stage-2 data abort detail=50000040 ' "writing the sender's prod index faulted in stage 2"
expect_line '^rvm-bm: summary edge_tx vmid=5 state=exited' "the sender was not disturbed"
finish
