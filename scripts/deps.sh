#!/usr/bin/env bash
# Installs the Debian 12 packages the gateway needs: `deps.sh build` for building and running,
# `deps.sh test` for the test suite as well. Only missing packages are installed.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libyaml-dev
            libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev libcjose-dev liblasso3-dev
            libedit-dev)
# libclang-rt-14-dev: libFuzzer for Debian 12's clang (only recommended by clang, not pulled in)
test_pkgs=(libcmocka-dev python3 sqlite3 postgresql clang clang-format libclang-rt-14-dev curl
           openssl chromium)
# the SIEM tests forward to a real rsyslog over TCP and TLS
test_pkgs+=(rsyslog rsyslog-gnutls)
# the package test: systemd-analyze (rates the unit, expands its system-call groups) and
# libseccomp's Python binding (applies the unit's filters where systemd is not PID 1)
test_pkgs+=(systemd python3-seccomp)
# cluster mode: the shared state tests run two gateways on a real Redis (plain and TLS)
test_pkgs+=(redis-server)
# scripts/cluster.sh and its test put nginx in front of the nodes
test_pkgs+=(nginx)

pkgs=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && pkgs+=("${test_pkgs[@]}")

# The web UI (web/) is bundled at build time with npm packages, and the OpenAI SDK check and
# the browser tests run on Node.js: a machine that already has Node.js and npm (for example
# from NodeSource, whose nodejs bundles npm) keeps its own, otherwise Debian's are installed.
if ! command -v npm >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The identity providers of the SSO tests (LemonLDAP::NG, python3-lasso, ...)
if [ "${1:-build}" = test ]; then
  sh "$(dirname "$0")/../tests/integration/idp/install.sh"
fi

# npm packages (pinned by package-lock.json): the web UI's build tools, and the test suite's
# (the OpenAI SDK; playwright-core and axe-core for the browser tests, which drive Debian's
# chromium: no browser is downloaded)
web="$(dirname "$0")/../web"
[ -d "$web/node_modules/esbuild" ] || npm ci --prefix "$web" --no-audit --no-fund --silent
if [ "${1:-build}" = test ]; then
  sdk="$(dirname "$0")/../tests/integration/sdk"
  [ -d "$sdk/node_modules/openai" ] || npm ci --prefix "$sdk" --no-audit --no-fund --silent
  browser="$(dirname "$0")/../tests/browser"
  [ -d "$browser/node_modules/playwright-core" ] ||
    npm ci --prefix "$browser" --no-audit --no-fund --silent
fi
