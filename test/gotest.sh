#!/usr/bin/env bash
# Runs every test like `go test ./...` and lists the tests that skipped and
# why at the end (test/gotest reads the -json events). Arguments go to
# go test (default: -count=1 -timeout 15m ./...).
set -uo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
"$GO" build -o "$bin/gotest" ./test/gotest || exit 1
[ $# -gt 0 ] || set -- -count=1 -timeout 15m ./...
"$GO" test -json "$@" | "$bin/gotest"
st=("${PIPESTATUS[@]}")
[ "${st[0]}" = 0 ] && [ "${st[1]}" = 0 ]
