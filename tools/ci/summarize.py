#!/usr/bin/env python3
"""Count test results from a meson build's testlog.json.

A Catch2 suite counts its test cases (from its closing summary line); any other test, or a
Catch2 suite that died before printing its summary, counts as one test by meson's verdict.
Prints `passed failed` to stdout; with --details, one line per meson test to stderr.

usage: summarize.py BUILD_DIR [--details]
"""
import json
import re
import sys

ALL_PASSED = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
MIXED = re.compile(r"test cases:\s*(\d+) \|\s*(\d+) passed \|\s*(\d+) failed")


def count(entry):
    out = entry.get("stdout") or ""
    ok = entry.get("result") in ("OK", "EXPECTEDFAIL", "SKIP")
    m = ALL_PASSED.search(out)
    if m and ok:
        return int(m.group(1)), 0
    m = MIXED.search(out)
    if m:
        passed, failed = int(m.group(2)), int(m.group(3))
        if not ok and failed == 0:
            failed = 1  # the suite failed after its summary (e.g. crashed at exit)
        return passed, failed
    return (1, 0) if ok else (0, 1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1] + "/meson-logs/testlog.json"
    passed = failed = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            p, fl = count(entry)
            passed += p
            failed += fl
            if "--details" in sys.argv:
                print(f"  {entry['name']:<24} {entry['result']:<8} {p} passed, {fl} failed",
                      file=sys.stderr)
    print(passed, failed)


if __name__ == "__main__":
    main()
