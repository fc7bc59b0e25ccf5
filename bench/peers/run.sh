#!/usr/bin/env bash
# Peer comparison: posid's scanner, zbarimg (zbar-tools) and ZXing-C++
# (npm zxing-wasm under node) on the same folders of photos, in one run.
# Prints a Markdown table: decoded-correct counts and median time per image.
#
#   bash bench/peers/run.sh [CORPUS_DIR [FOLDER...]]
#
# CORPUS_DIR defaults to the copy in scan/testdata/corpus; FOLDER
# defaults to every folder the corpus README lists. PEERS_TIMEOUT bounds
# each tool's time per image (seconds, default 10).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${1:-$root/scan/testdata/corpus}"
shift || true
folders=("$@")
if [ ${#folders[@]} -eq 0 ]; then
  folders=(qrcode-1 qrcode-2 qrcode-3 qrcode-4 qrcode-5 qrcode-6 datamatrix-1 datamatrix-2
    code128-1 code128-2 code128-3 code39-1 ean13-1 itf-1 falsepositives)
fi

if ! command -v zbarimg >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends zbar-tools >/dev/null
fi
if [ ! -d "$here/node_modules/zxing-wasm" ]; then
  (cd "$here" && npm install --no-audit --no-fund --silent)  # package.json, package-lock.json
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/posid" ./cmd/posid)

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores; zbarimg $(zbarimg --version 2>/dev/null | head -1), zxing-wasm $(node -p "require('$here/node_modules/zxing-wasm/package.json').version"), node $(node --version)"
paths=()
for f in "${folders[@]}"; do paths+=("$corpus/$f"); done
python3 "$here/peers.py" --posid "$work/posid" --timeout "${PEERS_TIMEOUT:-10}" "${paths[@]}" 2>/dev/null
