#!/usr/bin/env bash
# The witness log chained inside the image leaves over the UART and verifies
# on the host; a changed, dropped or cut-off record does not.
source "$(dirname "$0")/lib.sh"
if "$bm_witness" "$console" "$dir/log.witness"; then pass "converted"; else fail "conversion of the intact log"; fi
if "$rvm" witness verify "$dir/log.witness" | grep -q 'COMPLETE'; then pass "rvm witness verify: COMPLETE"; else fail "rvm witness verify"; fi

# Flip one hex digit of record 10's subject. The image's segments hold 4096
# records, so a demo run's records are all in its tail: the converter checks
# them with the disclosed tail key and names the record.
awk 'BEGIN{n=0} /^rvm-bm: W /{ if (n==10) { c=substr($0,51,1); $0=substr($0,1,50) (c=="0"?"1":"0") substr($0,52) } n++ } {print}' \
  "$console" >"$dir/flip.log"
if "$bm_witness" "$dir/flip.log" "$dir/flip.witness" 2>"$dir/flip.err" >/dev/null; then
  out=$("$rvm" witness verify "$dir/flip.witness"); rc=$?
  if [ $rc -eq 1 ] && grep -q 'record 10 .*record hash mismatch' <<<"$out"; then pass "a changed record is named: $out"; else fail "changed record 10: rc=$rc $out"; fi
elif grep -q "record 10: record hash mismatch" "$dir/flip.err"; then
  pass "a changed record is named by the converter: $(cat "$dir/flip.err")"
else
  fail "changed record 10: $(cat "$dir/flip.err")"
fi

# Change the last record: in the unsealed tail the tool checks it with the
# disclosed tail key; when the log ends on a segment boundary it is sealed.
last=$(grep -c '^rvm-bm: W ' "$console")
awk -v k=$((last - 1)) 'BEGIN{n=0} /^rvm-bm: W /{ if (n==k) { c=substr($0,51,1); $0=substr($0,1,50) (c=="0"?"1":"0") substr($0,52) } n++ } {print}' \
  "$console" >"$dir/tail.log"
if [ $((last % 4096)) -eq 0 ]; then
  # No unsealed tail this run: the record is sealed, verify names it.
  "$bm_witness" "$dir/tail.log" "$dir/tail.witness" >/dev/null 2>&1
  out=$("$rvm" witness verify "$dir/tail.witness"); rc=$?
  if [ $rc -eq 1 ] && grep -q "record $((last - 1)) .*record hash mismatch" <<<"$out"; then pass "a changed last-segment record is named"; else fail "record $((last - 1)): rc=$rc $out"; fi
elif "$bm_witness" "$dir/tail.log" "$dir/tail.witness" 2>"$dir/tail.err"; then fail "a changed tail record was accepted"
else grep -q "tail record $((last - 1)): record hash mismatch" "$dir/tail.err" && pass "a changed tail record is named" || fail "tail: $(cat "$dir/tail.err")"; fi

# Drop record 5: its successor's sequence is wrong.
awk 'BEGIN{n=0} /^rvm-bm: W /{ if (n++==5) next } {print}' "$console" >"$dir/drop.log"
if "$bm_witness" "$dir/drop.log" "$dir/drop.witness" 2>/dev/null; then fail "a dropped record was accepted by the converter"
else pass "a dropped record is refused (count differs from the image's head)"; fi

# Cut the log off: no head line.
grep -v '^rvm-bm: witness head' "$console" >"$dir/cut.log"
if "$bm_witness" "$dir/cut.log" "$dir/cut.witness" 2>/dev/null; then fail "a cut-off log was accepted"; else pass "a cut-off log is refused"; fi
finish
