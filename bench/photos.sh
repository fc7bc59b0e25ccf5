#!/usr/bin/env bash
# Realistic photo benchmark: label photos from internal/photogen (codes drawn
# by zint; perspective, any rotation, defocus, noise, glare, gamma, uneven
# light, JPEG 4:2:0; tiers easy, medium, hard at 2–12 MP), generated for the
# tuning seed and the held-out seed, then read by posid (`posid scan --dir
# --json`), ZXing-C++ (npm zxing-wasm, try-harder) and zbarimg on the same
# photos in the same run. Prints per seed and tier: SN chosen (posid's
# selector), SN decoded (a code carrying the SN was read), all codes
# decoded, stray texts (read, but held by no code on the label), and the
# median time per photo. Results go into bench/RESULTS.md.
#
# The held-out seed is never tuned on: a decoder change is judged on the
# tuning seed, and the held-out figures say whether the gain is real.
#
#   bash bench/photos.sh [PER_TIER]   (default 100 photos per tier and seed)
#
# PHOTOS_DETAIL names a file for one JSON line per photo and tool;
# PHOTOS_DIR keeps the photos (default: a temp dir, removed at exit);
# PHOTOS_SEEDS overrides the seeds ("1 20261206"); PHOTOS_GLARE=false makes
# the same photos without their glare (what glare costs); PEERS_TIMEOUT bounds each
# tool's time per photo (seconds, default 10). The three tools run at once
# (one photo at a time each), so times are on a shared machine: compare
# them with each other, not with bench/scan.sh. PEERS_APART=1 runs posid
# alone first, then the peers: posid's escalation budget is wall time, and
# a scan that shares two cores with two other decoders runs out of it
# where a server's would not.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
per_tier="${1:-100}"
seeds="${PHOTOS_SEEDS:-1 20261206}"

need=()
command -v zint >/dev/null 2>&1 || need+=(zint)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ ! -d "$here/peers/node_modules/zxing-wasm" ]; then
  (cd "$here/peers" && npm install --no-audit --no-fund --silent)  # package.json, package-lock.json
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dir="${PHOTOS_DIR:-$work/photos}"
(cd "$root" && go build -o "$work/posid" ./cmd/posid && go build -o "$work/photogen" ./bench/photogen)

mode="the three tools at once"
[ -n "${PEERS_APART:-}" ] && mode="posid alone, then the peers"
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; $(zint --version 2>/dev/null | head -1 || true); zbarimg $(zbarimg --version 2>/dev/null | head -1), zxing-wasm $(node -p "require('$here/peers/node_modules/zxing-wasm/package.json').version"), node $(node --version); $per_tier photos per tier; $mode"
for seed in $seeds; do
  label="seed $seed"
  [ "$seed" = 1 ] && label="tuning (seed 1)"
  [ "$seed" = 20261206 ] && label="held-out (seed 20261206)"
  "$work/photogen" -seed "$seed" -n "$per_tier" -glare="${PHOTOS_GLARE:-true}" -o "$dir/$seed"
  python3 "$here/peers/photos.py" --posid "$work/posid" --timeout "${PEERS_TIMEOUT:-10}" --label "$label" ${PHOTOS_DETAIL:+--out "$PHOTOS_DETAIL"} \
    ${PEERS_APART:+--apart} \
    "$dir/$seed/easy" "$dir/$seed/medium" "$dir/$seed/hard" 2>/dev/null
  echo
done
