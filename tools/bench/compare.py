#!/usr/bin/env python3
"""Compare weft benchmarks with their Go and Boost.Fiber twins.

Usage:
  compare.py [--rounds 5] [--json out.json] [--png out.png] [--sides weft,go,boost_fiber]
             [--machine COMMAND] --bench NAME SIDE=COMMAND [SIDE=COMMAND ...] [--bench ...]

SIDE is one of --sides (default weft, go, boost_fiber, epoll; `tools/run bench
--context` compares weft on its two context-switch backends, asm and boost).
COMMAND is a shell string that must exit 0 and print one stdout line
`name=<name> value=<number> unit=<unit>`, or several with distinct names (the
network benchmarks, tools/bench/netbench.py: rps, cpu, p99), each of which
becomes a row of its own, NAME/<name>; every side must print the same names.
Instead of a command, `skip:REASON` records why a side has no program
(Boost.Fiber has no select, say). The commands of one benchmark run
alternately (A B C A B C ...) for --rounds rounds, so drifts in machine noise
hit every side alike. Prints a table of medians and the ratios of the first
side to each other one (weft/go, weft/boost_fiber, weft/epoll), writes every
raw value to --json and a bar chart of the ratios to --png (needs
matplotlib). The ratio is always first/other: lower is better for weft on
every unit but rates (units ending in /s, such as req/s), where higher is
better; the table's `better` column and the chart's ↑ marks say which.
--machine runs COMMAND (tools/bench/machine.cpp) once, before the benchmarks, and records what
it prints (the machine's page fault, system call and wake-up costs) above the table and in the
JSON, so that the ratios can be read against the machine they came from.
"""
import argparse
import json
import math
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"^name=(\S+) value=([-+0-9.eE]+) unit=(\S+)\s*$")
SIDES = ["weft", "go", "boost_fiber", "epoll"]  # set by --sides; the first is divided by the others


def run(cmd):
    """Run one benchmark command; return its [(name, value, unit), ...] or exit with an error."""
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    hits = [m.groups() for m in map(LINE.match, p.stdout.splitlines()) if m]
    names = [h[0] for h in hits]
    why = (f"exit status {p.returncode}" if p.returncode != 0
           else "no result line in stdout" if not hits
           else "several result lines with one name" if len(set(names)) != len(names)
           else None)
    if why:
        sys.exit(f"compare.py: command failed ({why}): {cmd}\n"
                 f"--- stdout ---\n{p.stdout}--- stderr ---\n{p.stderr}")
    return [(name, float(value), unit) for name, value, unit in hits]


def better(unit):
    """Which way is good for a unit: 'higher' for rates (…/s), 'lower' for the rest."""
    return "higher" if unit.endswith("/s") else "lower"


def parse_sides(label, specs):
    """Turn ['weft=CMD', 'go=skip:why', ...] into ({side: cmd}, {side: reason})."""
    cmds, skipped = {}, {}
    for spec in specs:
        side, sep, what = spec.partition("=")
        if not sep or side not in SIDES:
            sys.exit(f"compare.py: --bench {label}: '{spec}' is not SIDE=COMMAND "
                     f"with SIDE one of {', '.join(SIDES)}")
        if side in cmds or side in skipped:
            sys.exit(f"compare.py: --bench {label}: side {side} given twice")
        if what.startswith("skip:"):
            skipped[side] = what[len("skip:"):].strip()
        elif what.strip():
            cmds[side] = what
        else:
            sys.exit(f"compare.py: --bench {label}: empty command for {side}")
    if not cmds:
        sys.exit(f"compare.py: --bench {label}: no command to run")
    return cmds, skipped


def measure(label, cmds, skipped, rounds):
    """Run one benchmark's sides alternately; return its rows: result dicts with raw values and
    medians, one per result line its commands print (NAME, or NAME/<name> when several)."""
    order = [s for s in SIDES if s in cmds]
    expected = None  # the names the first run printed; several: every run must print them
    rows = {}  # row key (a name, or None for a one-line benchmark) -> sides' values, units
    for r in range(rounds):
        for side in order:
            hits = run(cmds[side])
            got = [h[0] for h in hits]
            expected = expected or got
            multi = len(expected) > 1
            if (got != expected) if multi else len(got) != 1:
                sys.exit(f"compare.py: {label}: {side} printed results {got}, "
                         f"another run printed {expected}")
            for name, value, unit in hits:
                key = name if multi else None
                row = rows.setdefault(key, {"sides": {}, "units": set()})
                s = row["sides"].setdefault(side, {"cmd": cmds[side], "values": []})
                s["name"] = name
                s["values"].append(value)
                row["units"].add(unit)
                shown = f"{label}/{name}" if multi else label
                print(f"  {shown} round {r + 1}/{rounds} {side}: {value} {unit}", file=sys.stderr)
    results = []
    for key, row in rows.items():
        row_label = f"{label}/{key}" if key is not None else label
        sides = row["sides"]
        if len(row["units"]) != 1:
            sys.exit(f"compare.py: {row_label}: the sides report different units "
                     f"{sorted(row['units'])}")
        names = {s["name"] for s in sides.values()}
        if len(names) != 1:
            print(f"compare.py: warning: {row_label}: names differ ({', '.join(sorted(names))})",
                  file=sys.stderr)
        for s in sides.values():
            s["median"] = statistics.median(s["values"])
        ratios = {}
        first = SIDES[0]
        if first in sides:
            for other in SIDES[1:]:
                if other in sides:
                    m = sides[other]["median"]
                    ratios[f"{first}/{other}"] = sides[first]["median"] / m if m else float("nan")
        unit = row["units"].pop()
        results.append({"benchmark": row_label, "group": label, "unit": unit, "better": better(unit),
                        "sides": sides, "ratios": ratios, "skipped": skipped})
    return results


def table(results):
    """The printed table: medians per side and the first side's ratios; '-' for nothing."""
    keys = [f"{SIDES[0]}/{o}" for o in SIDES[1:]]
    head = ("benchmark", "unit", "better", *SIDES, *keys)
    rows = []
    for r in results:
        med = [f"{r['sides'][s]['median']:.1f}" if s in r["sides"]
               else ("skip" if s in r["skipped"] else "-") for s in SIDES]
        rat = [f"{r['ratios'][k]:.3f}" if k in r["ratios"] else "-" for k in keys]
        rows.append((r["benchmark"], r["unit"], r["better"], *med, *rat))
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]
    lines = [f"medians; ratios are {SIDES[0]}/other, so a ratio < 1 is good for {SIDES[0]} where "
             f"`better` is lower and a ratio > 1 where it is higher (rates, unit …/s)"]
    lines += ["  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))) for row in [head, *rows]]
    told = set()  # one line per benchmark, not per row of a several-line one
    for r in results:
        for side, why in r["skipped"].items():
            if (r["group"], side) not in told:
                told.add((r["group"], side))
                lines.append(f"{r['group']}: no {side} program: {why}")
    return "\n".join(lines)


def chart(results, path):
    """Bar chart of the first side's ratios per benchmark, log scale, 1.0 marked."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print(f"compare.py: matplotlib is not installed; no chart written to {path}",
              file=sys.stderr)
        return False
    shown = [r for r in results if r["ratios"]]
    if not shown:
        print(f"compare.py: no benchmark has a {SIDES[0]} program and another; no chart",
              file=sys.stderr)
        return False
    first, others = SIDES[0], SIDES[1:]
    width = 0.8 / len(others)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(shown) + 2), 4.5))
    for i, other in enumerate(others):
        key = f"{first}/{other}"
        xs = [k + (i - (len(others) - 1) / 2) * width for k, r in enumerate(shown)
              if key in r["ratios"]]
        ys = [r["ratios"][key] for r in shown if key in r["ratios"]]
        if xs:
            bars = ax.bar(xs, ys, width, label=f"{first} / {other.replace('_', '.')}")
            ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=7, padding=2)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ys = [v for r in shown for v in r["ratios"].values() if v > 0 and math.isfinite(v)]
    if ys:
        ax.set_ylim(min(ys + [1.0]) / 1.6, max(ys + [1.0]) * 1.6)
    ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
    ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([r["benchmark"] + (" ↑" if r["better"] == "higher" else "") for r in shown],
                       rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"{first} / other, medians (< 1: {first} is better; ↑: > 1 is)")
    ax.set_title(f"{first} against the others")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="rounds per benchmark")
    ap.add_argument("--bench", nargs="+", action="append", required=True,
                    metavar=("NAME", "SIDE=COMMAND"))
    ap.add_argument("--json", metavar="FILE", help="write all raw values here")
    ap.add_argument("--png", metavar="FILE", help="draw the ratios here")
    ap.add_argument("--machine", metavar="COMMAND",
                    help="run once first; its result lines describe the machine")
    ap.add_argument("--sides", default=",".join(SIDES),
                    help="side names, comma-separated; the first is divided by the others")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    SIDES[:] = [x for x in args.sides.split(",") if x]
    if len(SIDES) < 2 or len(set(SIDES)) != len(SIDES):
        ap.error("--sides needs two or more distinct names")
    for b in args.bench:
        if len(b) < 2:
            ap.error(f"--bench {b[0]}: give at least one SIDE=COMMAND")

    machine = run(args.machine) if args.machine else []
    if machine:
        print("machine: " + ", ".join(f"{n} {v:g} {u}" for n, v, u in machine), file=sys.stderr)
    results = [row for b in args.bench for row in measure(b[0], *parse_sides(b[0], b[1:]),
                                                          args.rounds)]
    if machine:
        print("machine: " + ", ".join(f"{n} {v:g} {u}" for n, v, u in machine))
    print(table(results))

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "sides": SIDES,
                       "machine": {n: {"value": v, "unit": u} for n, v, u in machine},
                       "results": results}, f, indent=2)
            f.write("\n")
    if args.png and chart(results, args.png):
        print(f"chart: {args.png}")


if __name__ == "__main__":
    main()
