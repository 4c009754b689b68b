#!/usr/bin/env bash
# The image boots at EL2, runs the nucleus, and a partition reaches it by HVC.
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: RVM nucleus at EL2 on QEMU virt' "the image booted at EL2"
expect_line '^\[hello\] hello from an EL1 partition$' "an EL1 partition logged through HVC"
expect_line '^\[hello\] nucleus says: merge status=2 unknown-call status=1$' "nucleus dispatch answered NOT_SUPPORTED and UNKNOWN_CALL"
expect_line '^rvm-bm: partition hello exited code=0' "hello exited 0"
expect_line '^rvm-bm: summary hello vmid=1 state=exited' "hello ran with VMID 1"
expect_line '^rvm-bm: summary spinner vmid=2 state=exited' "spinner ran with VMID 2"
finish
