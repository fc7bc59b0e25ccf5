#!/usr/bin/env bash
# Runs every posid benchmark in turn; each prints its own figures (see
# bench/RESULTS.md for the last recorded ones and the command of each).
#
#   bash bench/run.sh          # import, scan, labels, API (≈ 15 min)
#   bash bench/run.sh all      # also the peer comparison and the 60 s load run
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }
step "registry import (100k rows)"; bash bench/import.sh
step "scan";                         sh bench/scan.sh
step "labels (10k labels)";          bash bench/labels.sh
step "API";                          bash bench/api.sh 10s
if [ "${1:-}" = all ]; then
  step "peers";                      bash bench/peers/run.sh
  step "load (100 clients, 60 s)";   go run ./bench/load
fi
