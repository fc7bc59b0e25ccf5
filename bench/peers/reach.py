#!/usr/bin/env python3
"""Tabulate a photo benchmark's reads by how blurred the SN's codes are.

Reads the per-photo lines that bench/photos.sh writes to PHOTOS_DETAIL
(one JSON line per photo and tool, with the photo's conditions) and sorts
each photo of one tier by the defocus σ against the module of the codes
that carry its SN: the Code 128 (every label has one) and, on labels with
a QR code or Data Matrix, the 2D symbol, whose modules are 1.4–2.2 times
larger. For each class it prints the photos and how many each tool read
(posid: SN chosen, as photos.py counts it; peers: SN decoded), per seed,
as a Markdown table. The photos must still be where the run left them
(PHOTOS_DIR): the truth beside each one gives its SN.

  python3 bench/peers/reach.py DETAIL.jsonl [--tier hard]
"""
import argparse
import collections
import json
import os

# Class edges, σ in modules. posid's readers reach about σ 1 module on a
# Code 128 (the model reader) and σ 0.55 on a QR or Data Matrix.
EDGES_1D = (0.6, 0.8, 1.0)
EDGES_2D = (0.55, 0.7)


def bucket(r, edges):
    """The class of ratio r: '< e0', 'e0–e1', ..., '≥ eN'."""
    if r < edges[0]:
        return f"< {edges[0]}"
    for lo, hi in zip(edges, edges[1:]):
        if r < hi:
            return f"{lo}–{hi}"
    return f"≥ {edges[-1]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("detail")
    ap.add_argument("--tier", default="hard")
    args = ap.parse_args()
    tools = []
    # (seed folder, 1D class, 2D class) -> tool -> [photos, read]
    table = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0]))
    with open(args.detail) as fh:
        for line in fh:
            d = json.loads(line)
            tier_dir = os.path.dirname(d["file"])
            if os.path.basename(tier_dir) != args.tier:
                continue
            seed = os.path.basename(os.path.dirname(tier_dir))
            c = d["conditions"]
            c1 = bucket(c["blur_sigma"] / c["module_px"], EDGES_1D)
            m2 = c.get("module_2d_px") or 0
            c2 = bucket(c["blur_sigma"] / m2, EDGES_2D) if m2 else "no 2D code"
            tool = d["tool"]
            if tool not in tools:
                tools.append(tool)
            ok = d["sn_decoded"]
            if tool == "posid":
                with open(os.path.splitext(d["file"])[0] + ".json") as tf:
                    ok = d["sn"] is not None and d["sn"] == json.load(tf)["sn"].upper()
            cell = table[(seed, c1, c2)][tool]
            cell[0] += 1
            cell[1] += bool(ok)
    print("| seed | σ / Code 128 module | σ / 2D module | photos | " + " | ".join(tools) + " |")
    print("|---|---|---|---|" + "---|" * len(tools))
    order_1d = [bucket(x, EDGES_1D) for x in (0, 0.7, 0.9, 2)]
    order_2d = ["no 2D code"] + [bucket(x, EDGES_2D) for x in (0, 0.6, 1)]
    for (seed, c1, c2) in sorted(table, key=lambda k: (k[0], order_1d.index(k[1]), order_2d.index(k[2]))):
        row = table[(seed, c1, c2)]
        n = max(v[0] for v in row.values())
        print(f"| {seed} | {c1} | {c2} | {n} | " + " | ".join(str(row[t][1]) for t in tools) + " |")


if __name__ == "__main__":
    main()
