#!/usr/bin/env bash
# rvm keygen (plain and forward-secure), keys used by a writer process, and
# verify with the trusted key and the forward-secure verification key.
# $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$(dirname "$0")/lib/expect.sh"

mode() { stat -c %a "$1"; }

expect 0 'signing key .*/k \(mode 0600\), public key .*/k.pub' keygen "$dir/k"
[ "$(mode "$dir/k")" = 600 ] || { echo "FAIL: secret key mode $(mode "$dir/k")"; fails=$((fails + 1)); }
grep -Eq '^[0-9a-f]{64}$' "$dir/k.pub" || { echo "FAIL: k.pub is not 64 hex digits"; fails=$((fails + 1)); }
before=$(cat "$dir/k")
expect 2 'exists; refusing to overwrite' keygen "$dir/k"
[ "$(cat "$dir/k")" = "$before" ] || { echo "FAIL: keygen overwrote the key"; fails=$((fails + 1)); }
touch "$dir/only.pub.x"; ln -s "$dir/nowhere" "$dir/dangling"
expect 2 'exists; refusing' keygen "$dir/dangling"

expect 0 'forward-secure sealing state .*/f.fss
MOVE IT OFF THIS HOST' keygen "$dir/f" --forward-secure --interval 0.05
for f in f f.fss f.fss-verify; do
  [ "$(mode "$dir/$f")" = 600 ] || { echo "FAIL: $f mode $(mode "$dir/$f")"; fails=$((fails + 1)); }
done
expect 2 'exists' keygen "$dir/f" --forward-secure
expect 2 '' keygen "$dir/g" --forward-secure --interval 0.001

# A log signed with the key from keygen verifies with k.pub, not with another key.
"$fixture" write "$dir/signed.witness" 300 20 "$dir/k" || { echo "FAIL: writer with --signing-key"; fails=$((fails + 1)); }
expect 0 'COMPLETE: 300 records' witness verify "$dir/signed.witness" --key "$dir/k.pub"
expect 1 'signed by a key other' witness verify "$dir/signed.witness" --key "$dir/f.pub"

# Forward-secure: ~40 epochs of 50 ms; every seal's MAC checked with its epoch's key.
state_before=$(od -An -tx1 -j48 -N32 "$dir/f.fss" | tr -d ' \n')
"$fixture" write "$dir/fs.witness" 30000 20 "$dir/f" "$dir/f.fss" || { echo "FAIL: forward-secure writer"; fails=$((fails + 1)); }
state_after=$(od -An -tx1 -j48 -N32 "$dir/f.fss" | tr -d ' \n')
[ "$state_before" != "$state_after" ] || { echo "FAIL: the sealing state did not evolve"; fails=$((fails + 1)); }
expect 0 'COMPLETE: 30000 records.*forward-secure seals verified, epochs [0-9]+\.\.[0-9]+' \
  witness verify "$dir/fs.witness" --key "$dir/f.pub" --fss-key "$dir/f.fss-verify"
expect 0 'forward-secure MACs NOT checked' witness verify "$dir/fs.witness" --key "$dir/f.pub"
expect 1 'not forward-secure sealed' witness verify "$dir/signed.witness" --key "$dir/k.pub" --fss-key "$dir/f.fss-verify"
expect 2 'cannot use forward-secure key' witness verify "$dir/fs.witness" --fss-key "$dir/k.pub"
expect 0 'rvm keygen' keygen --help

finish "witness keys"
