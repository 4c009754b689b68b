#!/usr/bin/env bash
# Format and lint gate (STYLE.md 17): clang-format must leave every project
# source unchanged, and clang-tidy (.clang-tidy) must report nothing on src/.
# Usage: check-style.sh SOURCE_DIR BUILD_DIR (BUILD_DIR has compile_commands.json)
set -u
src=${1:?source dir}
build=${2:?build dir}
cd "$src" || exit 2
fail=0

mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.cpp' 'src/*.hpp' 'src/*.h' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' | sort -u)
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/rvm-format.$$; then
  echo "check-style: clang-format would change:" >&2
  grep -E '^[^ ].*: (error|warning)' /tmp/rvm-format.$$ | cut -d: -f1 | sort -u >&2
  fail=1
fi
rm -f /tmp/rvm-format.$$

mapfile -t units < <(printf '%s\n' "${files[@]}" | grep -E '^src/.*\.cpp$')
if ! out=$(printf '%s\n' "${units[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null); then
  echo "check-style: clang-tidy:" >&2
  echo "$out" | grep -E 'warning:|error:' >&2
  fail=1
fi
[ $fail -eq 0 ] && echo "check-style: ok"
exit $fail
