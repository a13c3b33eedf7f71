#!/usr/bin/env python3
"""gantt.py TRACE.json OUT.png [--from MS --to MS]: draws a WEFT_TRACE file as a Gantt chart —
one row per M, a bar per fiber run coloured by fiber, ticks for parks and readies, and the
sysmon row's hand-offs — for documents and places where Perfetto is not at hand.
Needs matplotlib (Debian: python3-matplotlib)."""
import argparse
import collections
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("trace")
ap.add_argument("out")
ap.add_argument("--from", dest="t0", type=float, default=None, help="window start, ms")
ap.add_argument("--to", dest="t1", type=float, default=None, help="window end, ms")
ap.add_argument("--title", default=None)
args = ap.parse_args()

with open(args.trace) as f:
    text = f.read()
if not text.rstrip().endswith("]"):  # a process that died before its runtime closed the file
    text = text.rstrip().rstrip(",") + "]"
events = json.loads(text)

names = {e["tid"]: e["args"]["name"] for e in events
         if e["ph"] == "M" and e["name"] == "thread_name"}
lo = args.t0 * 1000 if args.t0 is not None else float("-inf")
hi = args.t1 * 1000 if args.t1 is not None else float("inf")

slices = collections.defaultdict(list)  # tid -> [(start, dur, fiber)]
marks = collections.defaultdict(list)   # (tid, kind) -> [ts]
flushes = collections.defaultdict(list)  # tid -> [(start, dur)]: the tracer writing its buffer
open_b = {}
for e in events:
    if e["ph"] == "B":
        open_b[e["tid"]] = e
    elif e["ph"] == "E" and e["tid"] in open_b:
        b = open_b.pop(e["tid"])
        if e["ts"] >= lo and b["ts"] <= hi:  # clipped to the window
            start, end = max(b["ts"], lo), min(e["ts"], hi)
            slices[e["tid"]].append((start, end - start, b["args"]["fiber"]))
    elif e["ph"] == "X" and e["ts"] + e["dur"] >= lo and e["ts"] <= hi:
        start, end = max(e["ts"], lo), min(e["ts"] + e["dur"], hi)
        flushes[e["tid"]].append((start, end - start))
    elif e["ph"] == "i" and lo <= e["ts"] <= hi:
        marks[(e["tid"], e["name"])].append(e["ts"])

tracks = sorted({t for t in slices} | {t for t, _ in marks} | set(flushes),
                key=lambda t: (t >= 100000, t))
row = {t: i for i, t in enumerate(reversed(tracks))}
fig, ax = plt.subplots(figsize=(12, 0.6 * len(tracks) + 1.6))
cmap = plt.get_cmap("tab20")
fibers_seen = set()
for t, ss in slices.items():
    fibers_seen.update(g for _, _, g in ss)
    ax.broken_barh([(start / 1000, max(dur, 0.2) / 1000) for start, dur, _ in ss],
                   (row[t] - 0.35, 0.7), facecolors=[cmap(g % 20) for _, _, g in ss],
                   edgecolor="none")
handles_flush = None
for t, fs in flushes.items():
    if t in row:
        h = ax.broken_barh([(s / 1000, max(d, 0.2) / 1000) for s, d in fs], (row[t] - 0.12, 0.24),
                           facecolors="none", edgecolor="black", hatch="////", linewidth=0.6)
        handles_flush = h
style = {"park": ("v", "#444444"), "ready": ("^", "#1a7f37"), "steal": ("D", "#cf222e"),
         "netpoll": ("o", "#0969da"), "handoff": ("s", "#bf8700"), "spawn": ("+", "#000000")}
handles = {"trace flush": handles_flush} if handles_flush is not None else {}
for (t, kind), ts in marks.items():
    if kind not in style:
        continue
    marker, colour = style[kind]
    y = row[t] + 0.42
    h = ax.scatter([x / 1000 for x in ts], [y] * len(ts), marker=marker, s=14, c=colour,
                   linewidths=0.8, zorder=3)
    handles[kind] = h
ax.set_yticks([row[t] for t in tracks])
ax.set_yticklabels([names.get(t, str(t)) for t in tracks])
ax.set_xlabel("time since the trace began (ms)")
ax.set_title(args.title or "weft trace: %d fibers on %d tracks" % (len(fibers_seen), len(tracks)))
if handles:
    ax.legend(handles.values(), handles.keys(), loc="upper right", fontsize=8, ncol=len(handles))
ax.set_ylim(-0.6, len(tracks) - 0.1 + 0.4)
if args.t0 is not None and args.t1 is not None:
    ax.set_xlim(args.t0, args.t1)
ax.grid(axis="x", alpha=0.3)
fig.tight_layout()
fig.savefig(args.out, dpi=110)
print("wrote %s: %d slices, %d fibers" % (args.out, sum(len(s) for s in slices.values()),
                                        len(fibers_seen)))
