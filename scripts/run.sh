#!/usr/bin/env bash
# One command for a new user: install what is missing, build, and start the gateway on the
# embedded default (SQLite under ./data). Extra arguments go to openclaw-gateway, e.g.
#   scripts/run.sh --config gateway.yaml --port 9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "built build/openclaw-gateway and build/openclaw"
exec build/openclaw-gateway --data-dir "${OPENCLAW_DATA_DIR:-./data}" "$@"
