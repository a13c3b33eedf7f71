#!/usr/bin/env bash
# valgrind.sh PROGRAM: runs debug_programs' workload under valgrind's memcheck and fails on any
# error it reports (invalid reads/writes, uses of undefined values, leaks of definitely lost
# memory). Skips (exit 77) when valgrind is not installed.
set -uo pipefail
prog=$1
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skipped"; exit 77; }
out=$(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
  --quiet "$prog" workload 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "valgrind: exit status $rc"; exit 1; }
# Without the stack registration valgrind warns about stack switches ("Warning: client switching
# stacks?") and may report bogus errors on the fiber stacks; with it, it must say nothing.
if echo "$out" | grep -q "switching stacks"; then echo "valgrind saw an unregistered stack switch"; exit 1; fi
echo "$out" | grep -qx ok || { echo "the program did not finish its work"; exit 1; }
