#!/usr/bin/env bash
# check_drain.sh MODEL.pml: model-checks the drained TCP read (test/model/drain.pml) with spin:
# the safety run must find no error, and each mutant (MUTANT_NO_NODRAIN, MUTANT_FULL_HINT) must
# be caught, which shows the model is not vacuous.
set -euo pipefail
model=$(realpath "$1")
command -v spin >/dev/null 2>&1 || { echo "spin not installed: skipped"; exit 77; }
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# pan SPIN_FLAGS: build a safety verifier with them and run it; prints its report.
pan() {
  rm -f pan pan.* ./*.trail
  spin "$@" -a "$model" >/dev/null
  "$cc" -O2 -w -DNOCLAIM -o pan pan.c
  ./pan -m1000000 2>&1 || true
}

errors() { sed -n 's/.*errors: \([0-9]*\).*/\1/p' <<<"$1" | head -n 1; }

fail=0
out=$(pan)
echo "== safety (assertions, invalid end states)"; grep -E "errors:|states, stored|pan:" <<<"$out"
[ "$(errors "$out")" = 0 ] || { echo "FAIL: the safety run found errors"; echo "$out"; fail=1; }
grep -q "Full statespace search" <<<"$out" || { echo "FAIL: the search did not complete"; fail=1; }

for m in MUTANT_NO_NODRAIN MUTANT_FULL_HINT; do
  out=$(pan -D$m)
  echo "== mutant $m (must fail)"; grep -E "errors:|pan:" <<<"$out"
  if [ "$(errors "$out")" = 0 ]; then
    echo "FAIL: spin did not find the lost wakeup of $m"; fail=1
  fi
done
exit $fail
