#!/usr/bin/env bash
# kill -9 of a writing process at several points: every sealed record
# verifies, the verdict is "unfinished" (exit 3), and at most the last seal
# interval is unauthenticated. $1: rvm binary, $2: rvm_witness_fixture.
set -u
rvm=$1
fixture=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
source "$(dirname "$0")/lib/expect.sh"

for ms in 30 150 400 900; do
  log="$dir/killed_$ms.witness"
  "$fixture" write "$log" 0 100 &
  pid=$!
  sleep "$(printf '0.%03d' "$ms")" 2>/dev/null || sleep 1
  kill -9 "$pid"
  wait "$pid" 2>/dev/null
  out=$("$rvm" witness verify "$log" 2>&1)
  rc=$?
  if [ "$rc" -ne 3 ] || ! grep -q 'UNFINISHED' <<<"$out"; then
    echo "FAIL: killed after ${ms} ms: exit $rc: $out"; fails=$((fails + 1)); continue
  fi
  sealed=$(sed -n 's/.*UNFINISHED: \([0-9]*\) records in \([0-9]*\) sealed.*/\1 \2/p' <<<"$out")
  echo "ok: killed after ${ms} ms: $sealed (records, seals) verify; $(grep -o '[0-9]* trailing records[^;]*' <<<"$out" || echo 'no tail')"
  if [ "$ms" -ge 400 ] && [ "${sealed%% *}" -eq 0 ]; then
    echo "FAIL: killed after ${ms} ms with a 100 ms seal interval, yet nothing was sealed"; fails=$((fails + 1))
  fi
done

# A writer that finishes closes its log: complete.
"$fixture" write "$dir/done.witness" 500 100 || { echo "FAIL: writer"; fails=$((fails + 1)); }
expect 0 'COMPLETE: 500 records' witness verify "$dir/done.witness"

finish "witness kill -9"
