#!/usr/bin/env bash
# Follows the README's five-minute tour in a fresh clone: clone HEAD into a
# temp dir, `make run` there on a free loopback port, wait for /readyz, then
# run every command of the tour's code blocks (taken from the clone's
# README.md, so the tour and this test cannot drift). curl runs with --fail-with-body,
# so any non-2xx answer fails; a missing @file fails too. The server is
# killed and the temp dir removed however the run ends.
#
#   bash test/readme_tour.sh
#
# Bounded: the server gets READY_TIMEOUT seconds to build and start
# (default 300), the tour's commands TOUR_TIMEOUT seconds (default 300).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
ready_limit="${READY_TIMEOUT:-300}"
tour_limit="${TOUR_TIMEOUT:-300}"

# tour_commands prints the indented code lines of the "Five-minute tour"
# section of README.md.
tour_commands() {
  awk '/^## /{on = ($0 == "## Five-minute tour")} on && /^    /{print substr($0, 5)}' "$1"
}

work="$(mktemp -d "${TMPDIR:-/tmp}/posid-tour.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ]; then
    kill -TERM -- "-$server" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

git clone -q --no-checkout "$root" "$work/posid"
git -C "$work/posid" checkout -q "$(git -C "$root" rev-parse HEAD)"
cd "$work/posid"

tour="$(tour_commands README.md)"
n="$(grep -c 'curl ' <<<"$tour" || true)"
if [ "$n" -lt 10 ]; then
  echo "readme tour: found only $n curl commands in README.md's Five-minute tour" >&2
  exit 1
fi
grep -q '^make run' <<<"$tour" || { echo "readme tour: the tour does not start with make run" >&2; exit 1; }

# A free loopback port: one nothing answers on.
port=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "readme tour: no free port" >&2; exit 1; }
base="http://127.0.0.1:$port"

setsid make run ADDR="127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
ready=""
deadline=$((SECONDS + ready_limit))
while [ "$SECONDS" -lt "$deadline" ]; do
  if curl -sf --max-time 5 -o /dev/null "$base/readyz" && [ -s data/admin.key ]; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "readme tour: server not ready; its log:" >&2
  tail -30 "$work/server.log" >&2
  exit 1
fi

# The tour with make run left out (it runs above) and the port replaced.
# curl fails on non-2xx answers and on @files that do not exist.
{
  cat <<'PRELUDE'
set -euo pipefail
curl() {
  { set +x; } 2>/dev/null
  local a f
  for a in "$@"; do
    case "$a" in
      @*) f="${a#@}" ;;
      *=@*) f="${a#*=@}"; f="${f%%;*}" ;;
      *) continue ;;
    esac
    [ -f "$f" ] || { echo "readme tour: file $f does not exist" >&2; return 1; }
  done
  command curl --fail-with-body --max-time 60 "$@"
  echo
  set -x
}
PRELUDE
  grep -v '^make run' <<<"$tour" | sed "s#http://127\.0\.0\.1:8080#$base#g"
} >"$work/tour.sh"

echo "readme tour: $n curl commands against $base"
if ! PS4="+ tour: " timeout -k 5 "$tour_limit" bash -x "$work/tour.sh" </dev/null; then
  echo "readme tour: FAILED; server log:" >&2
  tail -30 "$work/server.log" >&2
  exit 1
fi
echo "readme tour: ok"
