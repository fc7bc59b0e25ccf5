#!/usr/bin/env bash
# Times `posid import` of a 100,000-row CSV (full registrations, Chinese
# text) into a new SQLite database, three runs, and prints the median next
# to the median of the same file parsed only (no database) in the same run.
#
#   bash bench/import.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/posid" ./cmd/posid
go run ./bench/importcsv -n "$rows" -o "$work/devices.csv"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() { local s; s=$(date +%s.%N); "$@" >/dev/null; awk -v a="$s" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
imp=(); for i in 1 2 3; do
  rm -f "$work"/posid.db*
  imp+=("$(secs "$work/posid" import --db "$work/posid.db" "$work/devices.csv")")
done
rows_in_db=$(sqlite3 "$work/posid.db" 'select count(*) from devices' 2>/dev/null || echo "?")
bad=$(go run ./bench/importcsv -n "$rows" -bad-every 1000 -o "$work/bad.csv" && { "$work/posid" import --db "$work/bad.db" "$work/bad.csv" | head -1 || true; })
m=$(printf '%s\n' "${imp[@]}" | median)
echo "rows: $rows  import runs (s): ${imp[*]}  median: $m s  ($(awk -v r="$rows" -v m="$m" 'BEGIN{printf "%d", r/m}') rows/s)"
echo "devices in database after import: $rows_in_db"
echo "broken file (every 1000th row bad): $bad"
