#!/usr/bin/env bash
# Builds the Debian packages with Debian's own tools (dpkg-deb, dpkg-shlibdeps; no network):
#   openclaw          the CLI, its man page and bash completion
#   openclaw-gateway  the daemon, its man page, the hardened systemd unit, the configuration
#                     /etc/openclaw/gateway.yaml (a conffile), the annotated example, and the
#                     maintainer scripts that create the system user `openclaw` (postinst) and
#                     remove it with the state on purge (postrm)
#
#   packaging/build-debs.sh [--build-dir DIR] [--out DIR]
#
# Without --build-dir, build-deb/ is configured (RelWithDebInfo, no tests) and built; with it,
# that build directory is brought up to date and packaged as it is. The .deb files go to --out
# (default: the repository's top directory). docs/INSTALL.md describes the result.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="" out="$root"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build="$(realpath "$2")"; shift 2 ;;
    --out) out="$(realpath "$2")"; shift 2 ;;
    *) echo "usage: packaging/build-debs.sh [--build-dir DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
umask 022
if [ -z "$build" ]; then
  build="$root/build-deb"
  [ -f "$build/CMakeCache.txt" ] ||
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGW_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target openclaw-gateway openclaw >/dev/null

version="$("$build/openclaw" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
maintainer="${DEBFULLNAME:-OpenClaw gateway packagers} <${DEBEMAIL:-packages@openclaw.invalid}>"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Everything `cmake --install` puts under /usr and /etc, then split between the two packages.
DESTDIR="$work/stage" cmake --install "$build" --prefix /usr --strip >/dev/null
cli="$work/debian/openclaw" gw="$work/debian/openclaw-gateway"
move() { # move <package dir> <path>...
  local dst="$1"; shift
  for p in "$@"; do
    mkdir -p "$dst/$(dirname "$p")"
    mv "$work/stage/$p" "$dst/$p"
  done
}
move "$cli" usr/bin/openclaw usr/share/man/man1/openclaw.1 \
  usr/share/bash-completion/completions/openclaw
move "$gw" usr/bin/openclaw-gateway usr/share/man/man8/openclaw-gateway.8 \
  usr/share/doc/openclaw-gateway/examples/gateway.example.yaml \
  lib/systemd/system/openclaw-gateway.service etc/openclaw/gateway.yaml
left="$(cd "$work/stage" && find . -type f)"
[ -z "$left" ] || { echo "build-debs.sh: installed but not packaged: $left" >&2; exit 1; }

for pkg in openclaw openclaw-gateway; do
  d="$work/debian/$pkg"
  gzip -9n "$d"/usr/share/man/man*/*
  install -D -m 0644 "$root/packaging/debian/copyright" "$d/usr/share/doc/$pkg/copyright"
  mkdir -p "$d/DEBIAN"
done
for script in postinst prerm postrm; do
  install -m 0755 "$root/packaging/debian/openclaw-gateway.$script" "$gw/DEBIAN/$script"
done
echo /etc/openclaw/gateway.yaml > "$gw/DEBIAN/conffiles"

# Library dependencies as dpkg-shlibdeps finds them (it reads debian/control).
printf 'Source: openclaw\n\nPackage: openclaw\nArchitecture: any\n\n' > "$work/debian/control"
printf 'Package: openclaw-gateway\nArchitecture: any\n' >> "$work/debian/control"
shlibs() { # shlibs <package> <binary>
  (cd "$work" && dpkg-shlibdeps -O "debian/$1/usr/bin/$2") | sed -n 's/^shlibs:Depends=//p'
}

control() { # control <package> <depends> <suggests> <summary> <description...>
  local pkg="$1" depends="$2" suggests="$3" summary="$4"; shift 4
  local size; size="$(du -sk --exclude=DEBIAN "$work/debian/$pkg" | cut -f1)"
  {
    echo "Package: $pkg"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $size"
    echo "Depends: $depends"
    [ -z "$suggests" ] || echo "Suggests: $suggests"
    echo "Section: net"
    echo "Priority: optional"
    echo "Description: $summary"
    for line in "$@"; do echo " $line"; done
  } > "$work/debian/$pkg/DEBIAN/control"
}
control openclaw "$(shlibs openclaw openclaw)" "" \
  "command-line client of the OpenClaw enterprise gateway" \
  "openclaw talks to an OpenClaw enterprise gateway over its HTTP API: status," \
  "sign-in through the company SSO, tokens, agents, chats with agents, memory," \
  "policies, approvals, cost reports, and offline verification of the audit trail."
control openclaw-gateway "$(shlibs openclaw-gateway openclaw-gateway), adduser" openclaw \
  "OpenClaw enterprise gateway daemon" \
  "One daemon for every OpenClaw interface: scoped tokens and single sign-on" \
  "(OIDC, SAML 2.0), team namespaces, a hierarchical policy engine with human" \
  "approvals, a model gateway with routing by data classification and budgets," \
  "and a hash-chained, signed audit trail, on an embedded SQLite store." \
  "." \
  "Runs as the systemd service openclaw-gateway (user openclaw, state in" \
  "/var/lib/openclaw, configuration in /etc/openclaw/gateway.yaml)."

mkdir -p "$out"
for pkg in openclaw openclaw-gateway; do
  deb="$out/${pkg}_${version}_${arch}.deb"
  # xz level 1: ~15 % more bytes than the default level 6, in a tenth of the time
  dpkg-deb -Zxz -z1 --root-owner-group --build "$work/debian/$pkg" "$deb" >/dev/null
  echo "$deb"
done
