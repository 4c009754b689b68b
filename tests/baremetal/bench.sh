#!/usr/bin/env bash
# The benchmark phase runs and prints its ratios (TCG: only ratios count).
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bench: witness_append_ps=[0-9]+ appends=10000 \(TCG\)$' "witness append timed at EL2"
expect_line '^\[bench\] rvm-bench: null_hypercall/bare_hvc = [0-9]+\.[0-9]+ \(TCG\)$' "null hypercall vs bare HVC"
expect_line '^\[bench\] rvm-bench: partition_switch/bare_hvc = [0-9]+\.[0-9]+ \(TCG\)$' "partition switch vs bare HVC"
grep -E '^rvm-bench|^\[bench\] rvm-bench' "$console"
if out=$("$bm_witness" --bench-append "$console"); then echo "$out"; pass "witness append compared with the hosted build"
else fail "hosted witness append"; fi
finish
