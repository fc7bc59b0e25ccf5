#!/usr/bin/env python3
"""List the codes a posid build reads that the photos' labels do not hold.

For every photo N.jpg of each DIR (with its truth N.json from
bench/photogen) it runs `posid scan --dir DIR --json` once and compares
each code read with the texts of the label's codes. It prints every stray
code (photo, format, text, the label's texts), then how many codes were
read and how many were stray. A stray code is a misread even when no SN
rule takes it: it is reported to callers, and it may end a scan early.

  python3 bench/peers/strays.py POSID DIR...
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    posid, dirs = sys.argv[1], sys.argv[2:]
    read = stray = 0
    for doc, truth in peers.scanned(posid, dirs):
        held = {c['text'] for c in truth['codes']}
        for c in (doc.get('result') or {}).get('codes') or []:
            read += 1
            if c['text'] not in held:
                stray += 1
                print('stray', doc['file'], c['format'], repr(c['text']), 'label', sorted(held), flush=True)
    print('codes read', read, 'stray', stray)


if __name__ == '__main__':
    main()
