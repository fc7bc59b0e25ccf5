#!/usr/bin/env bash
# API benchmark: starts "posid serve" (fresh SQLite with demo data, rate
# limits, the per-address connection cap and the risk monitor off) and a trivial Fiber server on loopback, then runs the load
# generator bench/api: 3 rounds of DURATION per lookup scenario, each round
# next to the trivial handler, then the scans. Usage: bench/api.sh [DURATION]
# [bench flags, e.g. -rounds 5 -only trivial,lookup]; POSID_BENCH_SERVE_FLAGS
# adds serve flags (e.g. --async-read-audit).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
PORT=${POSID_BENCH_PORT:-18480}
TPORT=$((PORT + 1))
TMP=$(mktemp -d)
go build -o "$TMP/posid" ./cmd/posid
go build -o "$TMP/apibench" ./bench/api
cleanup() {
  [[ -n "${SRV:-}" ]] && kill "$SRV" 2>/dev/null || true
  [[ -n "${TRIV:-}" ]] && kill "$TRIV" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
"$TMP/posid" serve --db "$TMP/posid.db" --data-dir "$TMP" --demo --addr "127.0.0.1:$PORT" ${POSID_BENCH_SERVE_FLAGS:-} \
  --rate-per-ip -1 --rate-per-key -1 --max-conns-per-ip -1 --risk=false --log-level warn >"$TMP/serve.out" 2>"$TMP/serve.log" &
SRV=$!
"$TMP/apibench" trivial-server "127.0.0.1:$TPORT" &
TRIV=$!
for _ in $(seq 50); do [[ -s "$TMP/admin.key" ]] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
ADMIN=$(cat "$TMP/admin.key")
WH=$("$TMP/posid" apikeys create --db "$TMP/posid.db" --role warehouse --name bench 2>/dev/null)
echo "# $(go version | cut -d' ' -f3-), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
"$TMP/apibench" -addr "127.0.0.1:$PORT" -trivial "127.0.0.1:$TPORT" -admin-key "$ADMIN" -warehouse-key "$WH" -server-pid "$SRV" -trivial-pid "$TRIV" -d "$DUR" "${@:2}"
