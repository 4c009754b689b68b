#!/usr/bin/env bash
# rvm run always writes a witness log: the default location, --signing-key,
# --fss-state, refused keys, and kill -9 of rvm run (the log verifies as
# unfinished). Needs /dev/kvm and the example agents; skips loudly without.
# $1: rvm binary, $2: (unused) fixture generator, $3: the example agents' dir.
set -u
rvm=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$(dirname "$0")/lib/expect.sh"
agents=$(cd "${3:-/nonexistent}" 2>/dev/null && pwd)
if [ ! -r /dev/kvm ] || [ -z "$agents" ] || [ ! -f "$agents/agent_hello.elf" ] || [ ! -f "$agents/agent_spin.elf" ]; then
  echo "SKIP: needs /dev/kvm and agent_hello/agent_spin in ${3:-?}: the rvm run witness checks did not run"
  [ "${RVM_REQUIRE_KVM:-0}" = 1 ] && exit 1
  exit 0
fi
cat >"$dir/hello.toml" <<TOML
[run]
wall_time = "10s"
agent_dir = "$agents"
[[partition]]
name = "hello"
agent = "agent_hello.elf"
memory = "8MiB"
TOML
cat >"$dir/spin.toml" <<TOML
[run]
wall_time = "20s"
agent_dir = "$agents"
[[partition]]
name = "spin"
agent = "agent_spin.elf"
memory = "8MiB"
TOML

# No --witness: a log under \$XDG_STATE_HOME/rvm, named in the output.
export XDG_STATE_HOME="$dir/state"
expect 0 "rvm: witness log $dir/state/rvm/rvm-[0-9]{8}T[0-9]{6}Z-[0-9]+.witness \(ephemeral signing key" run "$dir/hello.toml"
log=$(ls "$dir"/state/rvm/*.witness | head -1)
expect 0 'COMPLETE' witness verify "$log"
expect 0 'default .XDG_STATE_HOME/rvm/rvm-<UTC time>-<pid>.witness' run --help

# A key from rvm keygen; forward-secure sealing.
"$rvm" keygen "$dir/k" --forward-secure --interval 1 >/dev/null || { echo "FAIL: keygen"; fails=$((fails + 1)); }
expect 0 'signed with .*/k, forward-secure sealed' run "$dir/hello.toml" --witness "$dir/a.witness" --signing-key "$dir/k" --fss-state "$dir/k.fss"
expect 0 'COMPLETE.*forward-secure seals verified' witness verify "$dir/a.witness" --key "$dir/k.pub" --fss-key "$dir/k.fss-verify"
expect 2 'cannot use signing key' run "$dir/hello.toml" --witness "$dir/b.witness" --signing-key "$dir/missing"
cp "$dir/k" "$dir/k.open"; chmod 644 "$dir/k.open"
expect 2 'cannot use signing key' run "$dir/hello.toml" --witness "$dir/c.witness" --signing-key "$dir/k.open"
expect 2 'cannot create witness log' run "$dir/hello.toml" --witness "$dir/a.witness"

# kill -9 of rvm run: everything sealed before verifies; the log is unfinished.
"$rvm" run "$dir/spin.toml" --witness "$dir/killed.witness" --signing-key "$dir/k" >/dev/null 2>&1 &
pid=$!
sleep 2
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect 3 'UNFINISHED: [1-9][0-9]* records in [1-9][0-9]* sealed segments verify' witness verify "$dir/killed.witness" --key "$dir/k.pub"

finish "rvm run witness"
