#!/usr/bin/env bash
# One command for a new user: install what is missing, build the two programs (progress shown,
# total time printed), then start the gateway on the embedded default (SQLite under ./data).
# Extra arguments go to openclaw-gateway, e.g.
#   scripts/run.sh --config gateway.yaml --port 9090
# Relative paths (./data, --config FILE) are taken from the directory it is run in.
# OPENCLAW_DATA_DIR replaces ./data. OPENCLAW_BUILD_DIR replaces the repository's build/: a new
# directory is configured without the tests; an existing one keeps its settings and is brought
# up to date.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${OPENCLAW_BUILD_DIR:-$root/build}"
SECONDS=0

elapsed() {
  if [ "$SECONDS" -ge 60 ]; then
    echo "$((SECONDS / 60)) min $((SECONDS % 60)) s"
  else
    echo "$SECONDS s"
  fi
}

# make's "[ 42%] Building C object ..." lines; on a terminal one line that rewrites itself
# (percentage and file), anything else (warnings, errors) printed in full.
progress() {
  if [ -t 1 ]; then
    awk '/^\[ *[0-9]+%\] / {
           f = $NF; sub(/^CMakeFiles\/[^\/]*\.dir\//, "", f); sub(/\.o$/, "", f)
           printf "\r\033[K%s %s", substr($0, 1, 6), f; fflush(); shown = 1; next }
         { if (shown) printf "\n"; shown = 0; print }
         END { if (shown) printf "\r\033[K" }'
  else
    cat
  fi
}

echo "== dependencies (scripts/deps.sh build)"
"$root/scripts/deps.sh" build
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "== configuring $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_TESTS=OFF >/dev/null
fi
echo "== building openclaw-gateway and openclaw in $build ($(nproc) jobs; the first build" \
     "takes a few minutes)"
if ! cmake --build "$build" -j"$(nproc)" --target openclaw-gateway openclaw | progress; then
  echo "== build failed after $(elapsed): the errors are above" >&2
  exit 1
fi
echo "== built in $(elapsed); starting the gateway (Ctrl-C stops it)"
exec "$build/openclaw-gateway" --data-dir "${OPENCLAW_DATA_DIR:-./data}" "$@"
