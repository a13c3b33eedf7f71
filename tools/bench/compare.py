#!/usr/bin/env python3
"""Compare weft benchmarks with their Go twins.

Usage:
  compare.py [--rounds 5] --pair NAME 'weft command' 'go command' [--pair ...]
             [--json out.json]

Each command is a shell string that must exit 0 and print one stdout line
`name=<name> value=<number> unit=<unit>`. For each pair the two commands run
alternately (A B A B ...) for --rounds rounds, so drifts in machine noise hit
both sides alike. Prints a table of medians and the weft/go ratio (lower is
better for weft on every unit used here: time or bytes per item).
"""
import argparse
import json
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"^name=(\S+) value=([-+0-9.eE]+) unit=(\S+)\s*$")


def run(cmd):
    """Run one benchmark command; return (name, value, unit) or exit with an error."""
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    hits = [m for m in map(LINE.match, p.stdout.splitlines()) if m]
    if p.returncode != 0 or len(hits) != 1:
        why = (f"exit status {p.returncode}" if p.returncode != 0
               else f"{len(hits)} result lines in stdout (want exactly 1)")
        sys.exit(f"compare.py: command failed ({why}): {cmd}\n"
                 f"--- stdout ---\n{p.stdout}--- stderr ---\n{p.stderr}")
    name, value, unit = hits[0].groups()
    return name, float(value), unit


def measure(label, weft_cmd, go_cmd, rounds):
    """Run a pair alternately and return a result dict with raw values and medians."""
    sides = {"weft": {"cmd": weft_cmd, "values": []},
             "go": {"cmd": go_cmd, "values": []}}
    units = set()
    for r in range(rounds):
        for side in ("weft", "go"):
            name, value, unit = run(sides[side]["cmd"])
            sides[side]["name"] = name
            sides[side]["values"].append(value)
            units.add(unit)
            print(f"  {label} round {r + 1}/{rounds} {side}: {value} {unit}",
                  file=sys.stderr)
    if len(units) != 1:
        sys.exit(f"compare.py: pair {label}: the two sides report different "
                 f"units {sorted(units)}")
    if sides["weft"]["name"] != sides["go"]["name"]:
        print(f"compare.py: warning: pair {label}: names differ "
              f"({sides['weft']['name']} vs {sides['go']['name']})", file=sys.stderr)
    for s in sides.values():
        s["median"] = statistics.median(s["values"])
    go_med = sides["go"]["median"]
    ratio = sides["weft"]["median"] / go_med if go_med else float("nan")
    return {"benchmark": label, "unit": units.pop(), "ratio": ratio, **sides}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5, help="A/B rounds per pair")
    ap.add_argument("--pair", nargs=3, action="append", required=True,
                    metavar=("NAME", "WEFT_CMD", "GO_CMD"))
    ap.add_argument("--json", metavar="FILE", help="write all raw values here")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    results = [measure(*pair, args.rounds) for pair in args.pair]

    head = ("benchmark", "unit", "weft median", "go median", "weft/go")
    rows = [(r["benchmark"], r["unit"], f"{r['weft']['median']:.1f}",
             f"{r['go']['median']:.1f}", f"{r['ratio']:.3f}") for r in results]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(5)]
    for row in [head, *rows]:
        print("  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rounds": args.rounds, "results": results}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
