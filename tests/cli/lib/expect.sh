# Shared by the CLI tests (sourced; not a test itself: CTest only runs tests/cli/*.sh).
# Needs $rvm set. `expect CODE PATTERNS ARGS...` runs `$rvm ARGS...` and
# checks its exit code and that every line of PATTERNS (extended regexps)
# matches its output; failures are counted in $fails.
fails=0

expect() {
  local code=$1 patterns=$2 out rc p
  shift 2
  out=$("$rvm" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    echo "FAIL: rvm $* exited $rc, expected $code"; echo "$out" | head -30; fails=$((fails + 1)); return
  fi
  while IFS= read -r p; do
    if ! grep -qE -- "$p" <<<"$out"; then
      echo "FAIL: rvm $*: output does not match /$p/"; echo "$out" | head -30; fails=$((fails + 1)); return
    fi
  done <<<"$patterns"
  echo "ok: rvm $* -> $rc"
}

# finish WHAT: the test's verdict and exit status.
finish() {
  if [ "$fails" -ne 0 ]; then
    echo "$fails $1 check(s) failed"
    exit 1
  fi
  echo "all $1 checks passed"
}
