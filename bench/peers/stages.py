#!/usr/bin/env python3
"""Show where a posid build spends its escalation budget, stage by stage.

For every photo N.jpg of each DIR (with its truth N.json from
bench/photogen) it runs `posid scan --dir DIR --json` once and sums, from
each scan's trace, the time of every stage, how many photos it ran on,
how many it found a code on, and on how many of those the scan chose the
photo's SN. It prints one line per stage, most time first, then how many
scans ended on their budget. A stage that takes much of the budget and
finds nothing on a tier is where the time of the stages after it goes.

  python3 bench/peers/stages.py POSID DIR...
"""
import os
import sys
from collections import Counter, defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    posid, dirs = sys.argv[1], sys.argv[2:]
    ms, runs, found, sn = defaultdict(float), Counter(), Counter(), Counter()
    photos = budget = 0
    for doc, truth in peers.scanned(posid, dirs):
        ok = ((doc.get('selection') or {}).get('sn') or '') == truth['sn']
        trace = (doc.get('result') or {}).get('trace') or {}
        photos += 1
        budget += trace.get('stop') == 'budget'
        for st in trace.get('stages') or []:
            name = st['name']
            ms[name] += st.get('ms') or 0
            runs[name] += 1
            if st.get('found'):
                found[name] += 1
                sn[name] += ok
    print(f"{'stage':28} {'ms':>9} {'ran on':>7} {'found on':>9} {'SN chosen':>10} {'ms a run':>9}")
    for name in sorted(ms, key=lambda k: -ms[k]):
        print(f"{name:28} {ms[name]:9.0f} {runs[name]:7} {found[name]:9} {sn[name]:10} {ms[name] / runs[name]:9.0f}")
    print('photos', photos, 'ended on the budget', budget)


if __name__ == '__main__':
    main()
