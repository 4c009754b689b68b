#!/usr/bin/env bash
# rvm witness verify: exit codes (0 complete, 1 tampered, 2 not a witness
# file / usage, 3 unfinished) and the named first bad record or seal.
# $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$fixture" "$dir" 200 || { echo "FAIL: fixture generator"; exit 1; }
source "$(dirname "$0")/lib/expect.sh"

w=(witness verify)
expect 0 'COMPLETE: 200 records in 4 sealed segments, closed with the end marker; seals signed by the trusted key' "${w[@]}" "$dir/good.witness"
expect 0 'COMPLETE' "${w[@]}" "$dir/good.witness" --key "$dir/good.witness.pub"
expect 0 'note: trusting .*good.witness.pub next to the log' "${w[@]}" "$dir/good.witness"
expect 0 'WARNING: no trusted public key' "${w[@]}" "$dir/nokey.witness"
expect 0 'AUTHENTICITY UNVERIFIED' "${w[@]}" "$dir/nokey.witness"

# Unfinished (no end marker): the sealed part verifies, the tail is named.
expect 3 'UNFINISHED: 192 records in 3 sealed segments verify; no end marker.*8 trailing records after the last seal are unauthenticated' \
  "${w[@]}" "$dir/unfinished.witness"
expect 1 'UNFINISHED' "${w[@]}" "$dir/unfinished.witness" --require-complete
expect 3 'UNFINISHED: 192 records' "${w[@]}" "$dir/end_cut.witness" --key "$dir/good.witness.pub"
expect 3 'cut-off entry of 100 bytes' "${w[@]}" "$dir/seal1_truncated.witness"
expect 3 'UNFINISHED: 128 records.*2 trailing records and a cut-off entry of 10 bytes' "${w[@]}" "$dir/record130_truncated.witness"

expect 1 'record 70 \(byte [0-9]+\): record hash mismatch' "${w[@]}" "$dir/record70_flip.witness"
expect 1 'record 70: seq=70 ' "${w[@]}" "$dir/record70_flip.witness"
expect 1 'record 5 \(byte 384\): sequence mismatch.*expected 5, found 6' "${w[@]}" "$dir/record5_deleted.witness"
expect 1 'record 9 .*sequence mismatch.*expected 9, found 12' "${w[@]}" "$dir/record9_swapped.witness"
expect 1 'seal of segment 1 \(byte [0-9]+\): bad signature' "${w[@]}" "$dir/seal1_flip.witness"
expect 1 'record 64 .*sequence mismatch.*found 128' "${w[@]}" "$dir/segment1_dropped.witness"
expect 2 'NOT A WITNESS FILE' "${w[@]}" "$dir/empty.witness"
expect 2 'NOT A WITNESS FILE: file: not a witness file' "${w[@]}" "$dir/garbage.witness"

# A forger re-seals everything with their own key and puts it in the header:
# caught by the trusted key next to the file, by --key, but not without any key.
expect 1 'seal of segment 0 .*signed by a key other than the trusted one' "${w[@]}" "$dir/forger.witness"
expect 1 'seal of segment 0 .*signed by a key other' "${w[@]}" "$dir/forger_nokey.witness" --key "$dir/good.witness.pub"
expect 0 'AUTHENTICITY UNVERIFIED' "${w[@]}" "$dir/forger_nokey.witness"
expect 1 'seal of segment 0 .*signed by a key other' "${w[@]}" "$dir/good.witness" --key "$dir/forger.pub"

# Usage and I/O errors, other files, FIFOs and devices are 2, never 0, 1 or 3.
expect 2 'cannot read' "${w[@]}" "$dir/missing.witness"
expect 2 'cannot use key' "${w[@]}" "$dir/good.witness" --key "$dir/missing.pub"
expect 2 'cannot use key' "${w[@]}" "$dir/good.witness" --key "$dir/garbage.witness"
expect 2 'not a regular file' "${w[@]}" /dev/null
expect 2 'not a regular file' "${w[@]}" /dev/zero
mkfifo "$dir/fifo"
expect 2 'not a regular file' "${w[@]}" "$dir/fifo"
expect 2 'not a regular file' "${w[@]}" "$dir"
expect 2 'NOT A WITNESS FILE' "${w[@]}" "$0"
expect 2 'FILE is required' "${w[@]}"
expect 2 '' "${w[@]}" "$dir/good.witness" --no-such-flag
expect 2 '' witness
expect 0 'trusted Ed25519 public key \(64 hex digits' "${w[@]}" --help

finish "witness verify"
