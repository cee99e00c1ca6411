#!/bin/sh
# Install the Debian 12 packages the SSO integration tests need.  Idempotent:
# does nothing (and needs no network) when everything is already installed.
#
#   OIDC provider  LemonLDAP::NG portal, run by plackup from a temp dir
#                  (tests/integration/idp/oidc_provider.py)
#   SAML IdP       Lasso through python3-lasso; lxml + xmlsec re-sign forged
#                  Responses (tests/integration/idp/saml_idp.py)
#   evil OIDC      python3-cryptography (tests/integration/idp/evil_oidc.py)
#
# Services are never started by this script: the packages' init scripts are
# not used; every daemon is started by the test itself on 127.0.0.1.
set -eu

PKGS="
liblemonldap-ng-portal-perl
libplack-perl
libdbi-perl
libdbd-sqlite3-perl
libstring-random-perl
libxml-simple-perl
libcrypt-openssl-bignum-perl
libio-string-perl
libunicode-string-perl
libconvert-base32-perl
libmime-tools-perl
libhttp-parser-xs-perl
python3-lasso
python3-lxml
python3-xmlsec
python3-cryptography
openssl
"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "idp/install.sh: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "idp/install.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# liblemonldap-ng-portal-perl pulls lemonldap-ng-fastcgi-server (first
# alternative of its web-server dependency); it is installed but not used.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

# Sanity: the pieces the helpers load.
perl -MLemonldap::NG::Portal::Main -MDBD::SQLite -MString::Random -MXML::Simple \
     -MCrypt::OpenSSL::Bignum -e1
/usr/bin/python3 -c 'import lasso, lxml.etree, xmlsec, cryptography'
test -x /usr/bin/plackup
echo "idp/install.sh: ok"
