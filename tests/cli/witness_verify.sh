#!/usr/bin/env bash
# rvm witness verify: exit codes and the named first bad record or seal.
# $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fixture" "$dir" 200 || { echo "FAIL: fixture generator"; exit 1; }
source "$(dirname "$0")/lib/expect.sh"

w=(witness verify)
expect 0 'INTACT: 200 records, 3 sealed segments, 8 unsealed tail records; seals signed by the trusted key' "${w[@]}" "$dir/good.witness"
expect 0 'removing the newest of them cannot be detected' "${w[@]}" "$dir/good.witness"
expect 0 'INTACT' "${w[@]}" "$dir/good.witness" --key "$dir/good.witness.pub"
expect 0 'WARNING: no trusted public key' "${w[@]}" "$dir/nokey.witness"
expect 0 'AUTHENTICITY UNVERIFIED' "${w[@]}" "$dir/nokey.witness"

expect 1 'record 70 \(byte 4736\): record hash mismatch' "${w[@]}" "$dir/record70_flip.witness"
expect 1 'record 70: seq=70 ' "${w[@]}" "$dir/record70_flip.witness"
expect 1 'record 5 \(byte 384\): sequence mismatch.*expected 5, found 6' "${w[@]}" "$dir/record5_deleted.witness"
expect 1 'record 9 .*sequence mismatch.*expected 9, found 12' "${w[@]}" "$dir/record9_swapped.witness"
expect 1 'seal of segment 1 \(byte 8448\): bad signature' "${w[@]}" "$dir/seal1_flip.witness"
expect 1 'seal of segment 1 .*truncated' "${w[@]}" "$dir/seal1_truncated.witness"
expect 1 'record 130 .*truncated inside the record' "${w[@]}" "$dir/record130_truncated.witness"
expect 1 'record 64 .*sequence mismatch.*found 128' "${w[@]}" "$dir/segment1_dropped.witness"
expect 1 'header .*truncated' "${w[@]}" "$dir/empty.witness"
expect 1 'header .*wrong magic' "${w[@]}" "$dir/garbage.witness"

# A forger re-signs every seal and puts their key in the header: caught by
# the trusted key next to the file, by --key, but not without any key.
expect 1 'seal of segment 0 .*signed by a key other than the trusted one' "${w[@]}" "$dir/forger.witness"
expect 1 'seal of segment 0 .*signed by a key other' "${w[@]}" "$dir/forger_nokey.witness" --key "$dir/good.witness.pub"
expect 0 'AUTHENTICITY UNVERIFIED' "${w[@]}" "$dir/forger_nokey.witness"
expect 1 'seal of segment 0 .*signed by a key other' "${w[@]}" "$dir/good.witness" --key "$dir/forger.pub"

# Usage and I/O errors are 2, never 0 or 1.
expect 2 'cannot read' "${w[@]}" "$dir/missing.witness"
expect 2 'cannot use key' "${w[@]}" "$dir/good.witness" --key "$dir/missing.pub"
expect 2 'cannot use key' "${w[@]}" "$dir/good.witness" --key "$dir/garbage.witness"
expect 2 'FILE is required' "${w[@]}"
expect 2 '' "${w[@]}" "$dir/good.witness" --no-such-flag
expect 2 '' witness

finish "witness verify"
