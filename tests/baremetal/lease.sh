#!/usr/bin/env bash
# A device lease maps the PL011 into one partition's stage 2 while it holds;
# at expiry the nucleus ends it (witnessed) and the page is unmapped, so the
# partition's next access is a stage-2 abort.
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: lease UART -> uart_lease for 30 ms$' "the UART was leased for 30 ms"
expect_line '^uart_lease: direct write to the leased UART$' "the partition wrote to the UART itself while leased"
expect_line '^rvm-bm: lease of UART by uart_lease expired: unmapped from its stage 2$' "expiry unmapped the UART"
expect_line '^rvm-bm: partition uart_lease failed: stage-2 data abort detail=90000(00|18) ' "an access after expiry is a stage-2 abort"
if grep -q 'still mapped (must not happen)' "$console"; then fail "the UART stayed mapped"; else pass "no access went through after expiry"; fi
l_exp=$(line_of 'lease of UART by uart_lease expired')
l_write=$(line_of '^uart_lease: direct write')
if [ "$l_write" -gt 0 ] && [ "$l_write" -lt "$l_exp" ]; then pass "the direct write came before the expiry"; else fail "order: write $l_write, expiry $l_exp"; fi
"$bm_witness" "$console" "$dir/log.witness" >/dev/null || fail "witness conversion"
"$rvm" witness show "$dir/log.witness" >"$dir/show.txt" || fail "witness show"
for k in device_register lease_acquire lease_expire; do
  grep -q "kind=$k " "$dir/show.txt" && pass "$k witnessed" || fail "no $k record"
done
finish
