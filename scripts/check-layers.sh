#!/usr/bin/env bash
# Fails if a layer reaches outside its room (DESIGN.md section 2, STYLE.md 1):
#  - src/abi includes only <stdint.h>/<stddef.h> and other abi headers;
#  - src/nucleus includes only abi/, nucleus/ and an allowlist of freestanding
#    C++ headers, and never throws, uses RTTI or allocates with new/malloc;
#  - src/coherence (hosted, optional) includes no <linux/...> or <sys/...>
#    header and nothing from backend/ or host/.
set -u
root=${1:-$(git rev-parse --show-toplevel)}
cd "$root" || exit 2
fail=0
report() { echo "check-layers: $*" >&2; fail=1; }

allowed_std='array|atomic|bit|compare|concepts|cstddef|cstdint|cstring|limits|new|optional|span|type_traits|utility|variant|algorithm'

while IFS= read -r line; do
  hdr=$(sed -E 's/.*#include *[<"]([^>"]+)[>"].*/\1/' <<<"${line#*:*:}")
  case "$hdr" in
    stdint.h|stddef.h|abi/*) ;;
    *) report "abi includes $hdr: $line" ;;
  esac
done < <(grep -rnE '^\s*#\s*include' src/abi)

while IFS= read -r line; do
  hdr=$(sed -E 's/.*#include *[<"]([^>"]+)[>"].*/\1/' <<<"${line#*:*:}")
  case "$hdr" in
    abi/*|nucleus/*) ;;
    *) grep -qxE "($allowed_std)" <<<"$hdr" || report "nucleus includes <$hdr>: $line" ;;
  esac
done < <(grep -rnE '^\s*#\s*include' src/nucleus)

while IFS= read -r line; do
  hdr=$(sed -E 's/.*#include *[<"]([^>"]+)[>"].*/\1/' <<<"${line#*:*:}")
  case "$hdr" in
    linux/*|sys/*|backend/*|host/*) report "coherence includes <$hdr>: $line" ;;
  esac
done < <(grep -rnE '^\s*#\s*include' src/coherence)

bad=$(grep -rnE '(^|[^_[:alnum:]])(throw|try|catch)[[:space:];({]|dynamic_cast|typeid\(|(^|[;{}()=,!&|?]\s*|return\s+|std::|[^_[:alnum:]>]::)(malloc|calloc|realloc|free)\(|[^_[:alnum:]]new [A-Za-z_]' src/nucleus \
  | grep -vE '^[^:]+:[0-9]+:\s*(//|\*|/\*)' | grep -vE '::new \(' )
[ -n "$bad" ] && report "nucleus uses exceptions, RTTI or the heap:"$'\n'"$bad"

if [ $fail -eq 0 ]; then echo "check-layers: ok"; fi
exit $fail
