#!/usr/bin/env python3
"""Score barcode readers on generated label photos with full truth.

Each folder (one per tier) holds NAME.jpg and NAME.json as written by
bench/photogen: the SN and every code's format, text and role. posid,
ZXing-C++ (zxing-wasm, try-harder) and zbarimg run on the same photos, the
three tools at once (each on its own photos one after another), or with
--apart posid alone first and then the two peers at once, and this prints
one Markdown row per folder and tool:

  SN chosen   posid only: the SN posid's selector picked is the label's SN
  SN decoded  some decoded text is the full text of a code that carries
              the SN (the SN Code 128, the Data Matrix, the URL or seal QR):
              an upper bound on what SN selection could reach
  all codes   every code on the label was decoded
  codes       decoded codes / codes on the labels
  stray       decoded texts that no code on the label holds (misreads,
              whether or not they were taken for the SN)
  median ms   median time per photo (posid: its own per-photo figure;
              ZXing-C++: the readBarcodes call; zbarimg: process wall time)
  cut short   photos where the tool ran out of time (posid: a partial
              result at its own time limit; peers: --timeout)

After the table, one line per folder says how far its photos pin posid
down: the 95 % (Wilson) interval of its SN-chosen rate, and, photo by
photo against ZXing-C++, how many photos only posid got (its SN chosen)
and how many only ZXing-C++ got (the SN decoded), with the exact
two-sided sign-test p of that split (McNemar's test): a small p says the
difference is more than the draw of photos.

  python3 bench/peers/photos.py --posid BIN [--timeout 10] [--label L] FOLDER...
"""
import argparse
import json
import math
import os
import statistics
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def load_truth(folder):
    out = {}
    for f in sorted(os.listdir(folder)):
        if f.endswith(".jpg"):
            with open(os.path.join(folder, f[:-4] + ".json")) as fh:
                out[os.path.join(folder, f)] = json.load(fh)
    return out


def run_posid(posid, folder, imgs, timeout):
    """{img: (texts, chosen_sn, ms)} from one `posid scan --dir --json`."""
    import subprocess
    import time
    start = time.perf_counter()
    p = subprocess.run([posid, "scan", "--dir", folder, "--json"], capture_output=True,
                       timeout=timeout * len(imgs) + 60)
    wall = (time.perf_counter() - start) * 1000 / max(1, len(imgs))
    by_name = {}
    for d in peers.json_docs(p.stdout):
        if isinstance(d, dict) and isinstance(d.get("file"), str):
            by_name[os.path.basename(d["file"])] = d
    out = {}
    for img in imgs:
        d = by_name.get(os.path.basename(img), {})
        codes = ((d.get("result") or {}).get("codes")) or []
        sel = d.get("selection") or {}
        ms = d.get("ms")
        partial = bool((d.get("result") or {}).get("partial")) or not d
        out[img] = ([c.get("text", "") for c in codes], sel.get("sn"), float(ms) if ms is not None else wall, partial)
    return out


def score(truth, texts):
    """SN decoded, all codes decoded, codes found, codes wanted, stray texts."""
    got = set(texts)
    wanted = [c["text"] for c in truth["codes"]]
    sn_texts = {c["text"] for c in truth["codes"] if c["carries_sn"]} | {truth["sn"]}
    found = sum(1 for w in wanted if w in got)
    return bool(sn_texts & got), found == len(wanted), found, len(wanted), len(got - set(wanted))


def wilson(k, n, z=1.96):
    """The 95 % Wilson score interval of k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def sign_test(b, c):
    """Exact two-sided p of a split b:c of discordant pairs (p = 1/2 each)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posid", required=True)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--label", default="")
    ap.add_argument("--out", help="also write one JSON line per photo and tool to this file")
    ap.add_argument("--apart", action="store_true",
                    help="run posid alone on the machine, then the peers: its escalation budget is wall time")
    ap.add_argument("folders", nargs="+")
    args = ap.parse_args()
    print("| set | tier | photos | tool | SN chosen | SN decoded | all codes | codes | stray | median ms | cut short |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    total = {}
    notes = []
    detail = open(args.out, "a") if args.out else None
    for folder in args.folders:
        truth = load_truth(folder)
        imgs = list(truth)
        if not imgs:
            continue
        res = {}

        def go(name, fn):
            try:
                res[name] = fn()
            except Exception as e:  # a tool that fails scores nothing
                print(f"{name} failed on {folder}: {e}", file=sys.stderr)
                res[name] = {}

        threads = [
            threading.Thread(target=go, args=("posid", lambda: run_posid(args.posid, folder, imgs, args.timeout))),
            threading.Thread(target=go, args=("ZXing-C++", lambda: {
                k: (o.texts, None, o.ms, o.timeout) for k, o in peers.run_zxing(imgs, args.timeout).items()})),
            threading.Thread(target=go, args=("zbarimg", lambda: {
                k: (o.texts, None, o.ms, o.timeout) for k, o in peers.run_zbar(imgs, args.timeout).items()})),
        ]
        # With --apart, posid's photos are read while nothing else runs
        # (as on a server), then the peers'.
        groups = [threads[:1], threads[1:]] if args.apart else [threads]
        for group in groups:
            for t in group:
                t.start()
            for t in group:
                t.join()
        tier = os.path.basename(folder.rstrip("/"))
        got = {}  # tool: {img: the tool's success (posid: SN chosen; peers: SN decoded)}
        for tool in ("posid", "ZXing-C++", "zbarimg"):
            r = res.get(tool, {})
            chosen = dec = allc = found = want = stray = cut = 0
            times = []
            for img in imgs:
                texts, sn, ms, timed_out = r.get(img, ([], None, args.timeout * 1000, True))
                cut += timed_out
                s, a, f, w, x = score(truth[img], texts)
                dec += s
                stray += x
                allc += a
                found += f
                want += w
                ok = sn is not None and sn == truth[img]["sn"].upper()
                chosen += ok
                got.setdefault(tool, {})[img] = ok if tool == "posid" else s
                times.append(ms)
                if detail:
                    detail.write(json.dumps({"file": img, "tool": tool, "texts": texts, "sn": sn, "sn_decoded": s,
                                             "all_codes": a, "ms": ms, "cut_short": bool(timed_out),
                                             "conditions": truth[img]["conditions"]}) + "\n")
            t = total.setdefault(tool, [0, 0, 0, 0, 0, 0, 0])
            for i, v in enumerate((len(imgs), chosen, dec, allc, found, want, stray)):
                t[i] += v
            n = len(imgs)
            pc = lambda k: f"{k} ({100 * k / n:.1f} %)"
            print(f"| {args.label} | {tier} | {n} | {tool} | {pc(chosen) if tool == 'posid' else '–'} | {pc(dec)} | "
                  f"{pc(allc)} | {found}/{want} | {stray} | {statistics.median(times):.0f} | {cut} |")
            sys.stdout.flush()
        k = sum(got["posid"].values())
        lo, hi = wilson(k, len(imgs))
        only = sum(1 for i in imgs if got["posid"][i] and not got["ZXing-C++"][i])
        peer = sum(1 for i in imgs if got["ZXing-C++"][i] and not got["posid"][i])
        notes.append(f"{args.label} {tier}: posid SN chosen {k}/{len(imgs)}, 95 % interval "
                     f"{100 * lo:.1f}–{100 * hi:.1f} %; against ZXing-C++ photo by photo: posid only {only}, "
                     f"ZXing-C++ only {peer}, sign-test p = {sign_test(only, peer):.2g}")
    for tool, (n, chosen, dec, allc, found, want, stray) in total.items():
        pc = lambda k: f"{k} ({100 * k / n:.1f} %)"
        print(f"| {args.label} | **all** | {n} | {tool} | {pc(chosen) if tool == 'posid' else '–'} | {pc(dec)} | "
              f"{pc(allc)} | {found}/{want} | {stray} | | |")
    print()
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()
