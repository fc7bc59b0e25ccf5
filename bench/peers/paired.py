#!/usr/bin/env python3
"""Compare two posid builds on the same generated photos, photo by photo.

For each photo N.jpg of DIR (with its truth N.json from bench/photogen) it
runs `posid scan --json N.jpg` with build A and then with build B, back to
back, so that a slow spell of the machine falls on both alike, and counts
the photos whose SN each build chose, and the wrong SNs. It prints the
counts, then every photo on which the two builds differ, with both times
and whether the scan ended on its budget. Use it to judge a scanner change
against the build before it: timing-bound reads flip between runs of one
build, and a paired run separates those from real gains and losses.

  python3 bench/peers/paired.py A B DIR [--json OUT] [-- scan flags...]
"""
import argparse
import glob
import json
import os
import subprocess


def scan(exe, path, flags):
    """One scan: (SN chosen or '', ms, ended on the budget)."""
    p = subprocess.run([exe, "scan", "--json", path] + flags, capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        return "", None, False
    sn = (doc.get("selection") or {}).get("sn") or doc.get("sn") or ""
    trace = (doc.get("result") or {}).get("trace") or {}
    return sn, doc.get("ms"), trace.get("stop") == "budget"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("dir")
    ap.add_argument("--json", help="write the per-photo results here")
    ap.add_argument("flags", nargs="*", help="extra `posid scan` flags (after --)")
    args = ap.parse_args()
    rows = {}
    for path in sorted(glob.glob(os.path.join(args.dir, "*.jpg"))):
        with open(path[:-4] + ".json") as f:
            want = json.load(f)["sn"]
        row = {}
        for name, exe in (("A", args.a), ("B", args.b)):
            sn, ms, cut = scan(exe, path, args.flags)
            row[name] = {"ok": sn == want, "wrong": bool(sn) and sn != want, "ms": ms, "cut": cut}
        rows[path] = row
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f)
    n = len(rows)
    for name in ("A", "B"):
        ok = sum(r[name]["ok"] for r in rows.values())
        wrong = sum(r[name]["wrong"] for r in rows.values())
        print(f"{name}: SN chosen {ok}/{n}, wrong {wrong}")
    for path, r in sorted(rows.items()):
        if r["A"]["ok"] != r["B"]["ok"]:
            def side(x):
                ms = "-" if x["ms"] is None else f"{x['ms']:.0f} ms"
                return ("read" if x["ok"] else "miss") + f" {ms}" + (" (budget)" if x["cut"] else "")
            print(f"{os.path.basename(path)}: A {side(r['A'])}, B {side(r['B'])}")


if __name__ == "__main__":
    main()
