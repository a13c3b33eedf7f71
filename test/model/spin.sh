# spin.sh: sourced by the check_*.sh model checks with the model's path as $1: skips (77)
# without spin, works in a temporary directory, and defines pan and errors.
set -euo pipefail
model=$(realpath "$1")
command -v spin >/dev/null 2>&1 || { echo "spin not installed: skipped"; exit 77; }
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# pan SPIN_FLAGS -- CC_FLAGS -- PAN_FLAGS: build a verifier and run it; prints its report.
pan() {
  local sflags=() cflags=() pflags=()
  while [ "$1" != -- ]; do sflags+=("$1"); shift; done; shift
  while [ "$1" != -- ]; do cflags+=("$1"); shift; done; shift
  pflags=("$@")
  rm -f pan pan.* ./*.trail
  spin "${sflags[@]}" -a "$model" >/dev/null
  "$cc" -O2 -w "${cflags[@]}" -o pan pan.c
  ./pan "${pflags[@]}" 2>&1 || true
}

# errors REPORT: the error count pan printed.
errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }

# safety: the exhaustive safety run (assertions, invalid end states); sets fail=1 if it found an
# error or did not complete.
fail=0
safety() {
  local out
  out=$(pan -- -DNOCLAIM -- -m1000000)
  echo "== safety (assertions, invalid end states)"; grep -E "errors:|states, stored|pan:" <<<"$out"
  [ "$(errors "$out")" = 0 ] || { echo "FAIL: the safety run found errors"; echo "$out"; fail=1; }
  grep -q "Full statespace search" <<<"$out" || { echo "FAIL: the search did not complete"; fail=1; }
}
