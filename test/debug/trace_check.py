#!/usr/bin/env python3
"""trace_check.py PROGRAM: runs debug_programs' long workload with WEFT_TRACE set, loads the
Chrome trace-event file with the json module and checks that it adds up: named tracks, slices
that begin and end on the same track and never overlap for one fiber, every fiber spawned and
run, every park matched by one ready or park_cancel, poller activity. Then checks that an
unwritable WEFT_TRACE path is reported and does not stop the program."""
import collections
import json
import os
import subprocess
import sys
import tempfile

prog = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "trace.json")
    env = dict(os.environ, WEFT_TRACE=path)
    r = subprocess.run([prog, "workload_long"], env=env, capture_output=True, text=True,
                       timeout=300)
    check(r.returncode == 0, f"program exit status {r.returncode}: {r.stderr}")
    lines = r.stdout.split()
    check(lines[:1] == ["ok"], f"program output {r.stdout!r}")
    nfibers = int(lines[lines.index("fibers") + 1])
    with open(path) as f:
        events = json.load(f)  # the whole file, closing bracket included

    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    timed = [e for e in events if e["ph"] != "M"]
    check(len(timed) > 2 * 2048, f"only {len(timed)} events: the buffers never filled")
    pids = {e["pid"] for e in events}
    check(len(pids) == 1, f"pids {pids}")

    by_tid = collections.defaultdict(list)
    for e in timed:
        by_tid[e["tid"]].append(e)
    for tid, evs in by_tid.items():
        check(tid in names, f"track {tid} has no thread_name")
        # A track is written by one thread (or under one lock) in order: time never goes back.
        ts = [e["ts"] for e in evs]
        check(ts == sorted(ts), f"track {names.get(tid)}: timestamps go backwards")
        # Slices: B and E alternate, E closes the fiber B opened, nothing is left open.
        open_fiber = None
        for e in evs:
            if e["ph"] == "B":
                check(open_fiber is None, f"track {names[tid]}: B inside a slice at {e['ts']}")
                open_fiber = e["args"]["fiber"]
                check(e["name"].startswith(f"G{open_fiber} debug_programs.cpp:"), e["name"])
            elif e["ph"] == "E":
                check(open_fiber == e["args"]["fiber"],
                      f"track {names[tid]}: E for {e['args']['fiber']} closes {open_fiber}")
                open_fiber = None
        check(open_fiber is None, f"track {names[tid]}: slice of fiber {open_fiber} never ends")
        if any(e["ph"] in "BE" for e in evs):
            check(names[tid].startswith("M"), f"fiber slices on track {names[tid]}")

    count = collections.Counter(e["name"] if e["ph"] == "i" else e["ph"] for e in timed)
    spawned = {e["args"]["fiber"] for e in timed if e.get("name") == "spawn"}
    ran = {e["args"]["fiber"] for e in timed if e["ph"] == "B"}
    check(len(spawned) == count["spawn"] == nfibers,
          f"{count['spawn']} spawn events for {len(spawned)} fibers; the program ran {nfibers}")
    check(ran == spawned, f"fibers that ran {sorted(ran)} != fibers spawned {sorted(spawned)}")
    flushes = [e for e in timed if e["ph"] == "X"]
    check(flushes and all(e["name"] == "trace flush" and e["dur"] >= 0 and
                          names[e["tid"]].startswith("M") for e in flushes),
          f"full buffers must show as 'trace flush' slices on M tracks: {flushes[:3]}")
    check(count["park"] == count["ready"] + count["park_cancel"],
          f"{count['park']} parks != {count['ready']} readies + {count['park_cancel']} cancels")
    reasons = collections.Counter(e["args"]["reason"] for e in timed if e.get("name") == "park")
    check(reasons["park"] > 0 and reasons["sleep"] > 0 and reasons["IO wait"] > 0,
          f"park reasons {dict(reasons)}")
    check(sum(e["args"]["ready"] for e in timed if e.get("name") == "netpoll") >= 1,
          "no netpoll event readied a fiber")

    # Per fiber, in time order across tracks: spawn, then runs (B..E) that never overlap, and
    # between a park and the next run exactly one ready or park_cancel.
    rank = {"spawn": 0, "B": 1, "E": 2, "park": 3, "ready": 4, "park_cancel": 4}
    per = collections.defaultdict(list)
    for e in timed:
        kind = e["name"] if e["ph"] == "i" else e["ph"]
        if kind in rank and "fiber" in e.get("args", {}):
            per[e["args"]["fiber"]].append((e["ts"], kind))
    for g, evs in per.items():
        evs.sort(key=lambda x: x[0])
        state = "new"
        for ts, kind in evs:
            ok = {
                "spawn": state == "new",
                "B": state in ("spawned", "stopped"),
                "E": state == "running",
                "park": state == "stopped",
                "ready": state == "parked",
                "park_cancel": state == "parked",
            }[kind]
            if not ok:
                check(False, f"fiber {g}: {kind} at {ts} while {state}")
                break
            state = {"spawn": "spawned", "B": "running", "E": "stopped", "park": "parked",
                     "ready": "stopped", "park_cancel": "stopped"}[kind]
        else:
            check(state == "stopped", f"fiber {g} ends {state}")

    print(f"{len(timed)} events on {len(by_tid)} tracks ({', '.join(sorted(names[t] for t in by_tid))}); "
          + ", ".join(f"{k} {v}" for k, v in sorted(count.items())))

    # An unwritable path: one clear line, and the program runs untraced.
    bad = os.path.join(tmp, "no-such-dir", "t.json")
    r = subprocess.run([prog, "workload"], env=dict(os.environ, WEFT_TRACE=bad),
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0 and r.stdout.startswith("ok"), f"untraced run: {r.returncode}")
    check(f"weft: WEFT_TRACE: cannot open {bad}: No such file or directory" in r.stderr,
          f"stderr {r.stderr!r}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
