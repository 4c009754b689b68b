#!/usr/bin/env bash
# Each partition image is hashed before it starts; the digest printed and
# witnessed is the SHA-256 of the binary the build produced.
source "$(dirname "$0")/lib.sh"
"$bm_witness" "$console" "$dir/log.witness" >/dev/null || fail "witness conversion"
"$rvm" witness show --json "$dir/log.witness" >"$dir/show.json" || fail "witness show"
# le64 HEX16: the 8 bytes as the little-endian u64 `witness show` prints.
le64() { echo "$1" | sed -E 's/(..)(..)(..)(..)(..)(..)(..)(..)/\8\7\6\5\4\3\2\1/' | sed -E 's/^0+//'; }
for g in hello spinner fault undef edge_tx edge_rx uart_lease vtimer bench bench_peer; do
  want=$(sha256sum "$guest_dir/$g.bin" | cut -d' ' -f1)
  expect_line "^rvm-bm: measured $g bytes=[0-9]+ sha256=$want\$" "$g measured as the built binary"
  for part in 0 1 2 3; do
    q=$(le64 "${want:$((16 * part)):16}")
    grep -q "\"kind\":\"boot_attestation\".*\"$( [ $((part % 2)) -eq 0 ] && echo object || echo aux)\":\"0x$q\"" "$dir/show.json" \
      || fail "$g digest word $part not in a boot_attestation record"
  done
done
n=$(grep -c '"kind":"boot_attestation"' "$dir/show.json")
if [ "$n" -eq 20 ]; then pass "20 boot_attestation records (2 per partition)"; else fail "$n boot_attestation records"; fi
finish
