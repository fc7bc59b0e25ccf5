#!/usr/bin/env python3
"""Compare barcode readers on folders of photos with expected text.

For each folder (N.png|jpg|jpeg|gif with the expected text in N.txt beside
it; an image without N.txt expects no barcode) it runs

  posid     `posid scan --dir DIR --json` (one process per folder; per-image
            time from its JSON when it reports one, else wall time / images;
            falls back to one `posid scan --json FILE` per image when --dir
            is not available)
  zbarimg   one `zbarimg --xml -q FILE` per image (wall time, process start
            included: a few ms)
  ZXing-C++ zxing.mjs (npm zxing-wasm) in one node process per folder; time
            of the readBarcodes call

and prints, per folder, how many images each decoded correctly (any code
whose text equals the expected text) and the median time per image. On
folders without expected texts (falsepositives) it counts false reads.
Every image is bounded by --timeout seconds per tool; a timeout counts as a
miss and as --timeout seconds.

  python3 bench/peers/peers.py --posid BIN [--timeout 10] FOLDER...
"""
import argparse
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif")
TIME_KEYS = ("ms", "elapsed_ms", "duration_ms", "time_ms", "millis", "decode_ms")


def images(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXT))


def expected(img):
    txt = os.path.splitext(img)[0] + ".txt"
    if not os.path.exists(txt):
        return None
    with open(txt, "rb") as f:
        return f.read().decode("utf-8", errors="replace")


def correct(texts, want):
    return any(t == want or t.strip() == want.strip() for t in texts)


class Outcome:
    """What one tool made of one image."""

    def __init__(self, texts, ms, timeout=False):
        self.texts, self.ms, self.timeout = texts, ms, timeout


def run_zbar(imgs, timeout):
    out = {}
    for img in imgs:
        start = time.perf_counter()
        try:
            p = subprocess.run(["zbarimg", "--xml", "-q", img], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            out[img] = Outcome([], timeout * 1000, True)
            continue
        ms = (time.perf_counter() - start) * 1000
        out[img] = Outcome(zbar_texts(p.stdout), ms)
    return out


def zbar_texts(xml):
    texts = []
    try:
        root = ET.fromstring(xml.decode("utf-8", errors="replace"))
    except ET.ParseError:
        return texts
    for data in root.iter("{http://zbar.sourceforge.net/2008/barcode}data"):
        t = data.text or ""
        if data.get("format") == "base64":
            t = base64.b64decode(t).decode("utf-8", errors="replace")
        texts.append(t)
    return texts


def run_zxing(imgs, timeout):
    out = {img: Outcome([], timeout * 1000, True) for img in imgs}
    cmd = ["node", os.path.join(HERE, "zxing.mjs"), "--timeout-ms", str(int(timeout * 1000))] + imgs
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout * len(imgs) + 60)
    except subprocess.TimeoutExpired:
        return out
    for line in p.stdout.decode("utf-8", errors="replace").splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        out[r["file"]] = Outcome(r.get("texts") or [], float(r.get("ms", 0)), bool(r.get("timeout")))
    return out


def run_posid(posid, folder, imgs, timeout):
    start = time.perf_counter()
    try:
        p = subprocess.run([posid, "scan", "--dir", folder, "--json"], capture_output=True, timeout=timeout * len(imgs) + 60)
        wall = (time.perf_counter() - start) * 1000
        got = parse_posid_dir(p.stdout, imgs, wall)
        if got is not None:
            return got, "dir"
    except subprocess.TimeoutExpired:
        pass
    out = {}
    for img in imgs:
        start = time.perf_counter()
        try:
            p = subprocess.run([posid, "scan", "--json", img], capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            out[img] = Outcome([], timeout * 1000, True)
            continue
        ms = (time.perf_counter() - start) * 1000
        docs = json_docs(p.stdout)
        texts = [t for d in docs for t in code_texts(d)]
        out[img] = Outcome(texts, doc_ms(docs[0]) if len(docs) == 1 and doc_ms(docs[0]) is not None else ms)
    return out, "file"


def scanned(posid, dirs):
    """(doc, truth) for every photo of each generated folder of dirs: doc
    as one `posid scan --dir DIR --json` reports it, truth its N.json from
    bench/photogen."""
    for d in dirs:
        out = subprocess.run([posid, "scan", "--dir", d, "--json"], capture_output=True).stdout
        for doc in json_docs(out):
            if not (isinstance(doc, dict) and isinstance(doc.get("file"), str)):
                continue
            with open(doc["file"][:-4] + ".json") as t:
                yield doc, json.load(t)


def json_docs(raw):
    """The JSON values in raw, one after another (JSON lines or concatenated
    documents); a lone array or a {"results": [...]} wrapper is spread."""
    s = raw.decode("utf-8", errors="replace")
    dec = json.JSONDecoder()
    docs, i = [], 0
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        try:
            v, i = dec.raw_decode(s, i)
        except ValueError:
            nl = s.find("\n", i)  # skip a line that is not JSON
            if nl < 0:
                break
            i = nl + 1
            continue
        docs.append(v)
    if len(docs) == 1 and isinstance(docs[0], list):
        return docs[0]
    if len(docs) == 1 and isinstance(docs[0], dict):
        for k in ("results", "files", "images", "scans"):
            if isinstance(docs[0].get(k), list):
                return docs[0][k]
    return docs


def code_texts(doc):
    """Every "text" value inside doc."""
    if isinstance(doc, dict):
        out = []
        for k, v in doc.items():
            if k == "text" and isinstance(v, str):
                out.append(v)
            else:
                out.extend(code_texts(v))
        return out
    if isinstance(doc, list):
        return [t for v in doc for t in code_texts(v)]
    return []


def doc_ms(doc):
    if not isinstance(doc, dict):
        return None
    for k in TIME_KEYS:
        if isinstance(doc.get(k), (int, float)):
            return float(doc[k])
    for k in ("elapsed", "duration", "took", "time"):
        v = doc.get(k)
        if isinstance(v, str):
            m = re.fullmatch(r"([\d.]+)(ns|µs|us|ms|s)", v)
            if m:
                return float(m.group(1)) * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1, "s": 1000}[m.group(2)]
    return None


def parse_posid_dir(raw, imgs, wall):
    docs = json_docs(raw)
    by_name = {}
    for d in docs:
        if not isinstance(d, dict):
            continue
        name = next((d[k] for k in ("file", "path", "name", "image") if isinstance(d.get(k), str)), None)
        if name is not None:
            by_name[os.path.basename(name)] = d
    if not by_name:
        return None
    out = {}
    for img in imgs:
        d = by_name.get(os.path.basename(img))
        if d is None:
            out[img] = Outcome([], wall / len(imgs))
            continue
        ms = doc_ms(d)
        out[img] = Outcome(code_texts(d.get("result", d)), ms if ms is not None else wall / len(imgs), bool(d.get("timeout")))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--posid", required=True)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("folders", nargs="+")
    args = ap.parse_args()
    tools = ["posid", "zbarimg", "ZXing-C++"]
    print("| folder | images | " + " | ".join(f"{t} correct" for t in tools) + " | "
          + " | ".join(f"{t} median ms" for t in tools) + " |")
    print("|---|---|" + "---|" * (2 * len(tools)))
    totals = {t: 0 for t in tools}
    total_imgs = 0
    timeouts = {t: 0 for t in tools}
    modes = set()
    for folder in args.folders:
        imgs = images(folder)
        if not imgs:
            continue
        pos, mode = run_posid(args.posid, folder, imgs, args.timeout)
        modes.add(mode)
        res = {"posid": pos, "zbarimg": run_zbar(imgs, args.timeout), "ZXing-C++": run_zxing(imgs, args.timeout)}
        wants = {img: expected(img) for img in imgs}
        negative = all(w is None for w in wants.values())
        cells, times = [], []
        for t in tools:
            r = res[t]
            if negative:
                n = sum(1 for img in imgs if r[img].texts)
                cells.append(f"{n} false reads")
            else:
                n = sum(1 for img in imgs if wants[img] is not None and correct(r[img].texts, wants[img]))
                totals[t] += n
                cells.append(str(n))
            timeouts[t] += sum(1 for img in imgs if r[img].timeout)
            times.append(f"{statistics.median(r[img].ms for img in imgs):.0f}")
        if not negative:
            total_imgs += sum(1 for w in wants.values() if w is not None)
        print(f"| {os.path.basename(folder.rstrip('/'))} | {len(imgs)} | " + " | ".join(cells) + " | " + " | ".join(times) + " |")
        sys.stdout.flush()
    print(f"| **total** (with expected text) | {total_imgs} | " + " | ".join(f"**{totals[t]}**" for t in tools) + " | | | |")
    print()
    print("timeouts (> %gs): " % args.timeout + ", ".join(f"{t} {timeouts[t]}" for t in tools)
          + f"; posid mode: {'/'.join(sorted(modes))}")


if __name__ == "__main__":
    main()
