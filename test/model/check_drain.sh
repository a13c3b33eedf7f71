#!/usr/bin/env bash
# check_drain.sh MODEL.pml: model-checks the drained TCP read (test/model/drain.pml) with spin:
# the safety run must find no error, and each mutant (MUTANT_NO_NODRAIN, MUTANT_FULL_HINT) must
# be caught, which shows the model is not vacuous.
source "$(dirname "${BASH_SOURCE[0]}")/spin.sh" "$1"

safety

for m in MUTANT_NO_NODRAIN MUTANT_FULL_HINT; do
  out=$(pan -D$m -- -DNOCLAIM -- -m1000000)
  echo "== mutant $m (must fail)"; grep -E "errors:|pan:" <<<"$out"
  if [ "$(errors "$out")" = 0 ]; then
    echo "FAIL: spin did not find the lost wakeup of $m"; fail=1
  fi
done
exit $fail
