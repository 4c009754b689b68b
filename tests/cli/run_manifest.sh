#!/usr/bin/env bash
# rvm run: manifests end to end on KVM. Agents that exit -> exit 0 and a
# summary; a faulting agent -> exit 1 and "failed"; a bad manifest -> exit 2
# naming the key (checked before KVM is opened, so it runs everywhere).
# $1: rvm binary, $2: (unused) fixture generator, $3: the example agents' dir.
# Without /dev/kvm the KVM part is skipped loudly (exit 0), unless
# RVM_REQUIRE_KVM=1, in which case that is a failure.
set -u
rvm=$1
agents=$(cd "${3:?usage: run_manifest.sh RVM FIXTURE AGENT_DIR}" && pwd) || { echo "FAIL: no agent dir $3"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Every run writes a witness log; the default place is $XDG_STATE_HOME/rvm.
export XDG_STATE_HOME="$dir/state"
source "$(dirname "$0")/lib/expect.sh"

for a in agent_hello agent_exitcode agent_fault agent_spin; do
  [ -f "$agents/$a.elf" ] || { echo "FAIL: $agents/$a.elf is missing (build the agents)"; exit 1; }
done

# An unknown key: refused before any VM exists, with the key and its line.
cat >"$dir/typo.toml" <<EOF
[run]
agent_dir = "$agents"

[[partition]]
name = "hello"
agent = "agent_hello.elf"
memroy = "16MiB"
EOF
expect 2 "typo.toml:7: .*unknown key 'memroy'" run "$dir/typo.toml"

# Opened read-write like rvm does (never created: -c first).
if ! [ -c /dev/kvm ] || ! { : <>/dev/kvm; } 2>/dev/null; then
  if [ "${RVM_REQUIRE_KVM:-}" = "1" ]; then
    echo "FAIL: KVM NOT AVAILABLE: /dev/kvm cannot be opened, but RVM_REQUIRE_KVM=1 demands the kvm tests run"
    exit 1
  fi
  echo "*** SKIP: KVM NOT AVAILABLE: /dev/kvm missing — rvm run kvm tests did NOT run ***" >&2
  echo "*** SKIP: KVM NOT AVAILABLE: /dev/kvm missing — rvm run kvm tests did NOT run ***"
  [ "$fails" -eq 0 ] || exit 1
  exit 0
fi

# Two agents that exit: 0, both "exited", the exit codes in the summary.
cat >"$dir/ok.toml" <<EOF
[run]
wall_time = "20s"
agent_dir = "$agents"

[[partition]]
name = "hello"
agent = "agent_hello.elf"

[[partition]]
name = "exitcode"
agent = "agent_exitcode.elf"
memory = "8MiB"
EOF
expect 0 '^hello +exited +0 
^exitcode +exited +7 
\[hello\] hello from task 0
\[exitcode\] exitcode: exiting with 7' run "$dir/ok.toml"

# With a witness log: written, and it verifies.
expect 0 "witness: [0-9]+ records, head [0-9a-f]{16} in $dir/run.witness" run "$dir/ok.toml" --witness "$dir/run.witness"
if out=$("$rvm" witness verify "$dir/run.witness" 2>&1); then
  echo "ok: rvm witness verify of the run's log"
else
  echo "FAIL: rvm witness verify of the run's log"; echo "$out" | head -20; fails=$((fails + 1))
fi

# A faulting agent next to a good one: exit 1, the fault named, hello unharmed.
cat >"$dir/fault.toml" <<EOF
[run]
agent_dir = "$agents"

[[partition]]
name = "fault"
agent = "agent_fault.elf"

[[partition]]
name = "hello"
agent = "agent_hello.elf"
EOF
expect 1 '^fault +failed +- .* at rip 0x4[0-9a-f]+
\[fault\] fault: mode 0
^hello +exited +0 ' run "$dir/fault.toml"

# --stats FILE that exists: refused before anything runs.
touch "$dir/exists.json"
expect 2 "--stats .*exists.json: the file exists" run "$dir/ok.toml" --stats "$dir/exists.json"

# The run is sandboxed by default and says so.
expect 0 "rvm: sandboxed: seccomp allowlists" run "$dir/ok.toml"

# SIGTERM and SIGINT stop a run in order: the partitions stopped, the
# summary printed, the witness log sealed and complete, exit 128 + signal.
cat >"$dir/spin.toml" <<EOF
[run]
wall_time = "60s"
agent_dir = "$agents"

[[partition]]
name = "spin"
agent = "agent_spin.elf"
EOF
for sig in TERM INT; do
  "$rvm" run "$dir/spin.toml" --witness "$dir/$sig.witness" >"$dir/$sig.out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q "spin: counter" "$dir/$sig.out" 2>/dev/null && break; sleep 0.1; done
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  want=$((128 + $(kill -l "$sig")))
  if [ "$rc" -eq "$want" ] && grep -qE "^spin +timed out" "$dir/$sig.out" &&
     "$rvm" witness verify --require-complete "$dir/$sig.witness" >/dev/null 2>&1; then
    echo "ok: SIG$sig stops the run in order (exit $rc, summary, complete witness log)"
  else
    echo "FAIL: SIG$sig: exit $rc (want $want)"; head -20 "$dir/$sig.out"
    "$rvm" witness verify "$dir/$sig.witness" 2>&1 | head -5; fails=$((fails + 1))
  fi
done

finish "rvm run"
