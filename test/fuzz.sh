#!/usr/bin/env bash
# Runs every fuzz target (func Fuzz* in *_test.go) for FUZZTIME each
# (default 10s). Usage: test/fuzz.sh [FUZZTIME]
#
# Go 1.26's fuzz coordinator can end a time-bounded run with a bare
# "context deadline exceeded" when a worker is mid-input as the time runs
# out (go.dev/issue/75804, fixed in Go 1.27). Such a run found nothing: a
# real finding writes its input under testdata/fuzz and says so. That one
# case is run again, once; anything else fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${1:-10s}
GO=${GO:-go}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in $(grep -rl --include='*_test.go' '^func Fuzz' .); do
  pkg=$(dirname "$f")
  for t in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f"); do
    for attempt in 1 2; do
      echo "fuzz $pkg $t ($FUZZTIME)"
      if "$GO" test -run '^$' -fuzz "^$t\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$pkg" 2>&1 | tee "$out"; then
        break
      fi
      if [[ $attempt == 1 ]] && grep -q 'context deadline exceeded' "$out" &&
        ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$out"; then
        echo "fuzz $pkg $t: stopped by the fuzz engine's deadline race with nothing found; running it again"
        continue
      fi
      exit 1
    done
  done
done
