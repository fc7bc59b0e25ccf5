#!/bin/sh
# Scan benchmarks: posid's Scan on synthetic 12 MP and 2 MP label photos,
# next to a plain image/jpeg decode of the same photos (the floor) and to
# raw gozxing (luminance source from image.Image, hybrid binarizer, QR and
# Code 128 readers with TRY_HARDER). Results go into bench/RESULTS.md,
# section "Scan".
#
# Usage: bench/scan.sh [COUNT]   (default 5 runs of each benchmark)
set -eu
cd "$(dirname "$0")/.."
count=${1:-5}
go test -run '^$' -bench 'BenchmarkScanPaired' -benchtime 12x -count "$count" ./scan/ |
	tee /tmp/posid-scan-bench.txt
echo
echo "Medians over $count runs:"
awk '/^BenchmarkScanPaired/ {
	name = $1
	for (i = 3; i < NF; i += 2) { v[name, $(i+1)] = v[name, $(i+1)] " " $i; keys[$(i+1)] = 1 }
	names[name] = 1
}
END {
	for (n in names) {
		printf "%s", n
		for (k in keys) {
			split(substr(v[n, k], 2), a, " "); m = length(a)
			# insertion sort, then the median
			for (i = 2; i <= m; i++) { x = a[i]; j = i - 1; while (j > 0 && a[j] > x) { a[j+1] = a[j]; j-- } a[j+1] = x }
			med = (m % 2) ? a[(m+1)/2] : (a[m/2] + a[m/2+1]) / 2
			printf "  %s=%.3g", k, med
		}
		printf "\n"
	}
}' /tmp/posid-scan-bench.txt
