# Shared by the qemu tests: boots the bare-metal image once and keeps its
# console in $console. A missing QEMU or image is a failure, never a skip.
# Arguments of every test: $1 image, $2 guest binaries dir, $3 rvm-bm-witness,
# $4 rvm.
set -u
image=$1
guest_dir=$2
bm_witness=$3
rvm=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
console=$dir/console.log
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if ! command -v qemu-system-aarch64 >/dev/null; then
  echo "FAIL: qemu-system-aarch64 not found: install it with scripts/deps.sh (package qemu-system-arm)"
  exit 1
fi
if [ ! -f "$image" ]; then
  echo "FAIL: no bare-metal image at $image (is aarch64-linux-gnu-g++ installed?)"
  exit 1
fi

# 8 s of wall time at most: the whole demo takes about one second under TCG.
timeout 8 qemu-system-aarch64 -machine virt,virtualization=on,gic-version=3 -cpu cortex-a72 -m 256M \
  -nographic -monitor none -nic none -kernel "$image" </dev/null >"$console" 2>&1
rc=$?
tr -d '\r' <"$console" >"$console.txt" && mv "$console.txt" "$console"
if [ $rc -ne 0 ] || ! grep -q '^rvm-bm: END$' "$console"; then
  echo "FAIL: the image did not run to its end (qemu exit $rc); console:"
  grep -v '^rvm-bm: [WK] ' "$console" | tail -40
  exit 1
fi

# expect_line REGEX WHAT: the console has a line matching REGEX.
expect_line() {
  if grep -Eq -- "$1" "$console"; then pass "$2"; else fail "$2 (no line matching '$1')"; fi
}

# line_of REGEX: number of the first console line matching REGEX (0 if none).
line_of() { grep -En -- "$1" "$console" | head -1 | cut -d: -f1 | grep . || echo 0; }

finish() {
  if [ $failures -ne 0 ]; then
    echo "--- console (witness lines left out) ---"
    grep -v '^rvm-bm: [WK] ' "$console"
    exit 1
  fi
  exit 0
}
