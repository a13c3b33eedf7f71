#!/usr/bin/env bash
# check_polldesc.sh MODEL.pml: model-checks the pollDesc rg protocol with spin (Debian package
# spin) and a C compiler: the safety run (assertions, invalid end states = lost wakeups) and the
# liveness run (ltl waiter_finishes under weak fairness) must find no error, and the mutant
# without the park commit's CAS must be caught (so the model is not vacuous).
source "$(dirname "${BASH_SOURCE[0]}")/spin.sh" "$1"

safety

out=$(pan -- -- -a -f -m1000000)
echo "== liveness (ltl waiter_finishes, weak fairness)"; grep -E "errors:|states, stored|pan:" <<<"$out"
[ "$(errors "$out")" = 0 ] || { echo "FAIL: the liveness run found errors"; echo "$out"; fail=1; }

out=$(pan -DMUTANT_NO_COMMIT_CAS -- -DNOCLAIM -- -m1000000)
echo "== mutant: the park commit without its CAS (must fail)"; grep -E "errors:|pan:" <<<"$out"
if [ "$(errors "$out")" = 0 ] || ! grep -q "invalid end state" <<<"$out"; then
  echo "FAIL: spin did not find the lost wakeup of the mutant"; fail=1
fi
exit $fail
