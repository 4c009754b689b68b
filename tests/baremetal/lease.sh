#!/usr/bin/env bash
# A device lease maps the PL011 into one partition's stage 2 while it holds.
# The partition acquires it itself (lease_acquire with its device capability
# and a Standard proof token, checked by the nucleus) and takes the device's
# interrupt itself while the lease holds; at expiry the nucleus ends it (witnessed) and the page is unmapped, so the
# partition's next access is a stage-2 abort.
source "$(dirname "$0")/lib.sh"
expect_line '^rvm-bm: UART offered to uart_lease: device capability and one proof token for a 200 ms lease$' "the platform granted a device capability and a proof token"
expect_line '^rvm-bm: lease UART -> uart_lease \(acquired by hypercall\): mapped in its stage 2$' "the partition acquired the lease through the nucleus"
expect_line '^\[uart_lease\] uart_lease: lease cap=[0-9a-f]+; the same token again: status=9$' "the token cannot be replayed (RVM_E_PROOF_REPLAYED)"
expect_line '^uart_lease: direct write to the leased UART$' "the partition wrote to the UART itself while leased"
expect_line '^\[uart_lease\] uart_lease: [1-9][0-9]* UART interrupts taken while leased$' "the UART's interrupt was routed to the holder (list register, HW bit)"
expect_line '^rvm-bm: summary uart_lease .* virqs=[1-9][0-9]* ' "EL2 injected the UART interrupts into the holder"
expect_line '^rvm-bm: lease of UART by uart_lease expired: unmapped from its stage 2$' "expiry unmapped the UART"
expect_line '^rvm-bm: partition uart_lease failed: stage-2 data abort detail=90000(00|18) ' "an access after expiry is a stage-2 abort"
if grep -q 'still mapped (must not happen)' "$console"; then fail "the UART stayed mapped"; else pass "no access went through after expiry"; fi
l_exp=$(line_of 'lease of UART by uart_lease expired')
l_write=$(line_of '^uart_lease: direct write')
if [ "$l_write" -gt 0 ] && [ "$l_write" -lt "$l_exp" ]; then pass "the direct write came before the expiry"; else fail "order: write $l_write, expiry $l_exp"; fi
"$bm_witness" "$console" "$dir/log.witness" >/dev/null || fail "witness conversion"
"$rvm" witness show "$dir/log.witness" >"$dir/show.txt" || fail "witness show"
for k in device_register cap_grant proof_issued proof_verified proof_rejected lease_acquire lease_expire; do
  grep -q "kind=$k " "$dir/show.txt" && pass "$k witnessed" || fail "no $k record"
done
finish
