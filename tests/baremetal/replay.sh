#!/usr/bin/env bash
# The same nucleus on both platforms: the bare-metal run's witness log
# re-executes record for record in the hosted nucleus (Kernel::apply) and
# leaves a state that satisfies its invariants, with the partitions the
# image reported and the four that failed.
source "$(dirname "$0")/lib.sh"
if out=$("$bm_witness" --replay "$console" 2>&1); then
  echo "$out"
  parts=$(grep -c '^rvm-bm: summary ' "$console")
  failed=$(grep -c '^rvm-bm: summary .* state=failed ' "$console")
  if grep -q "replayed [0-9]* records into the hosted nucleus: $parts partitions ($failed failed), invariants hold" <<<"$out"; then
    pass "replayed on the hosted nucleus: $parts partitions, $failed failed, as the image reported"
  else
    fail "replay result differs from the image's summary ($parts partitions, $failed failed): $out"
  fi
else
  fail "replay: $out"
fi
finish
