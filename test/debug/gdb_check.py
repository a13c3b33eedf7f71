#!/usr/bin/env python3
"""gdb_check.py PROGRAM WEFT_PY: runs debug_programs' gdb_parked mode under gdb in batch mode
with tools/gdb/weft.py loaded. The program parks fibers in known functions and stops itself with
SIGTRAP; `info weft-fibers` must list them with their wait reasons and spawn sites, and
`weft-fiber N bt` / `weft-fiber all bt` must unwind each parked fiber's stack from its saved
context through those functions, leaving the stopped thread's registers as they were.
Exit status 77 (skipped) when gdb is not installed."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

prog, weft_py = sys.argv[1], sys.argv[2]
if not shutil.which("gdb"):
    print("gdb not installed: skipped")
    sys.exit(77)

# Run by gdb after the stop: the id of the sleeping fiber from `info weft-fibers`, its stack,
# and whether the current thread's innermost frames survived all the register juggling.
driver = r"""python
import re
before = gdb.execute("bt 4", to_string=True)
listing = gdb.execute("info weft-fibers", to_string=True)
print("=== info weft-fibers\n" + listing)
print("=== weft-fiber all bt")
gdb.execute("weft-fiber all bt")
sleeper = re.search(r"^fiber (\d+) \[sleep\]", listing, re.M).group(1)
print("=== weft-fiber %s bt" % sleeper)
gdb.execute("weft-fiber %s bt" % sleeper)
after = gdb.execute("bt 4", to_string=True)
print("=== current thread " + ("unchanged" if before == after else "CHANGED:\n" + before + "\n" + after))
end
"""
with tempfile.TemporaryDirectory() as tmp:
    cmds = os.path.join(tmp, "driver.gdb")
    with open(cmds, "w") as f:
        f.write(driver)
    r = subprocess.run(["gdb", "-nx", "-batch", "-x", weft_py, "-ex", "run", "-x", cmds,
                        "--args", prog, "gdb_parked"],
                       capture_output=True, text=True, timeout=300)
out = r.stdout + r.stderr
print(out)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def section(name):
    m = re.search(r"^=== " + re.escape(name) + r"\n(.*?)(?=^=== |\Z)", out, re.M | re.S)
    return m.group(1) if m else ""


check("SIGTRAP" in out, "the program did not stop at its SIGTRAP")
listing = section("info weft-fibers")
site = r"spawned at \S*debug_programs\.cpp:\d+"
check(re.search(r"^fiber 1 \[(running|blocking call), on M\d+ \(thread \d+\)\]: " + site, listing,
                re.M), "main is not listed as running on its thread")
check(re.search(r"^fiber \d+ \[park\]: " + site, listing, re.M), "no parked fiber listed")
check(re.search(r"^fiber \d+ \[sleep\]: " + site, listing, re.M), "no sleeping fiber listed")
check(re.search(r"^fiber \d+ \[park, locked to thread M\d+\]: " + site, listing, re.M),
      "no locked fiber listed")

every = section("weft-fiber all bt")
# Each fiber's header line, then its frames: split per fiber.
blocks = re.split(r"^(?=fiber \d+ \[)", every, flags=re.M)
park = [b for b in blocks if b.startswith("fiber") and "[park]" in b.split("\n")[0]]
sleep = [b for b in blocks if b.startswith("fiber") and "[sleep]" in b.split("\n")[0]]
check(len(park) == 1 and len(sleep) == 1, "weft-fiber all bt: fibers missing")
for b, frames in ((park, ["gdb_alpha_waits", "parkslot_wait", "gopark", "mcall"]),
                  (sleep, ["gdb_beta_sleeps", "sleep_for", "gopark"])):
    for fn in frames:
        check(b and re.search(r"#\d+ .*\b" + fn + r"\b", b[0]),
              f"{fn} missing from the unwound stack:\n{b[0] if b else ''}")
one = section("weft-fiber " + (re.search(r"=== weft-fiber (\d+) bt", out).group(1)
                               if re.search(r"=== weft-fiber (\d+) bt", out) else "?") + " bt")
check("gdb_beta_sleeps" in one, "weft-fiber N bt did not unwind the sleeping fiber")
check("=== current thread unchanged" in out, "the stopped thread's frames changed")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
