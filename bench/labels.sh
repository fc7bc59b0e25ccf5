#!/usr/bin/env bash
# Times `posid label` rendering 10,000 signed labels (60x40 mm, 203 dpi,
# Chinese text) into one PDF and into one ZPL file, three runs each, with
# wall time, CPU time and peak RSS from /usr/bin/time -v. Prints the load
# average too: the machine is shared, so CPU time is the steadier figure.
#
#   bash bench/labels.sh [LABELS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/posid" ./cmd/posid
export POSID_KEYS_DIR="$work/keys" POSID_DB="$work/posid.db"
"$work/posid" keys new >/dev/null
awk -v n="$n" 'BEGIN {
  print "sn,model,supplier,manufacturer,batch,date"
  for (i = 0; i < n; i++) printf "PX26113%09d,A920,SUP-01,百富 PAX,B-2026-11,2026-11-30\n", i
}' >"$work/labels.csv"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() { # run FORMAT: prints "wall cpu rss_mb bytes"
  local out="$work/out.$1" log="$work/time.log"
  /usr/bin/time -v "$work/posid" label --unregistered --csv "$work/labels.csv" --format "$1" -o "$out" 2>"$log" >/dev/null
  awk -v bytes="$(stat -c %s "$out")" '
    /Elapsed \(wall clock\)/ { n = split($NF, t, ":"); wall = (n == 3 ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2]) }
    /User time/ { cpu += $NF } /System time/ { cpu += $NF }
    /Maximum resident/ { rss = $NF / 1024 }
    END { printf "%.2f %.2f %.0f %d\n", wall, cpu, rss, bytes }' "$log"
}
for f in pdf zpl; do
  walls=(); cpus=(); rss=(); size=0
  for i in 1 2 3; do
    read -r w c r s < <(run "$f")
    walls+=("$w"); cpus+=("$c"); rss+=("$r"); size=$s
  done
  printf '%s: %d labels  wall (s) %s median %s  cpu (s) %s median %s  peak RSS (MB) %s  file %.1f MB\n' \
    "$f" "$n" "${walls[*]}" "$(printf '%s\n' "${walls[@]}" | median)" \
    "${cpus[*]}" "$(printf '%s\n' "${cpus[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)" \
    "$(awk -v s="$size" 'BEGIN{print s/1e6}')"
done
pdfinfo "$work/out.pdf" 2>/dev/null | grep -E '^Pages' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
