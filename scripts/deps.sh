#!/usr/bin/env bash
# Installs the Debian 12 packages the gateway needs: `deps.sh build` for building and running,
# `deps.sh test` for the test suite as well. Only missing packages are installed.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libyaml-dev
            libsqlite3-dev libssl-dev libcurl4-openssl-dev)
test_pkgs=(libcmocka-dev python3 sqlite3 clang curl openssl)

pkgs=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
