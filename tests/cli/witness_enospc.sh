#!/usr/bin/env bash
# A full disk (a 64 KiB tmpfs): the writer fails loudly with a non-zero
# exit, and what is on disk verifies (unfinished: every sealed record
# checks out). Needs root for mount; skips loudly otherwise.
# $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
mnt="$dir/mnt"
mkdir "$mnt"
cleanup() { umount "$mnt" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
source "$(dirname "$0")/lib/expect.sh"

if ! mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
  echo "SKIP: cannot mount a tmpfs (not root?): the ENOSPC test did not run"
  [ "${RVM_REQUIRE_ROOT:-0}" = 1 ] && exit 1
  exit 0
fi
out=$("$fixture" write "$mnt/full.witness" 0 20 2>&1)
rc=$?
if [ "$rc" -ne 1 ] || ! grep -q 'No space left on device' <<<"$out"; then
  echo "FAIL: writer on a full disk: exit $rc: $out"; fails=$((fails + 1))
else
  echo "ok: writer on a full disk: exit 1: $out"
fi
cp "$mnt/full.witness" "$mnt/full.witness.pub" "$dir/" 2>/dev/null
expect 3 'UNFINISHED: [1-9][0-9]* records in [1-9][0-9]* sealed segments verify' witness verify "$dir/full.witness"

finish "witness ENOSPC"
