#!/usr/bin/env bash
# Builds civetweb 1.15 from Debian 12's own source package, for the OpenSSL 3 API, into
# .deps/civetweb (or $1). The exporter links this build, never Debian's libcivetweb1.
#
# Why: Debian's libcivetweb1 is compiled for the OpenSSL 1.1 API with OpenSSL loaded at run time.
# Under OpenSSL 3 the symbol SSL_get_peer_certificate no longer exists (it is a macro for
# SSL_get1_peer_certificate), civetweb's dlsym table holds a null pointer for it, and the first
# TLS connection calls it: a plain `curl -k` to the TLS port kills the process.
# Here: -DOPENSSL_API_3_0, dynamic SSL loading off, OpenSSL linked directly, a static library.
# One small patch on top of Debian's (scripts/civetweb-1.15-exporter.patch): a request head larger
# than max_request_size gets 431 instead of 400; a method missing from civetweb's table (TRACE,
# anything made up) reaches the exporter's handler, which answers 405, instead of getting 400; and
# a listening_ports entry "fd:N" adopts an inherited listening socket (systemd socket activation,
# --web.systemd-socket), which civetweb 1.15 can only create itself.
#
# Needs dpkg-dev, libssl-dev, cmake and a deb-src entry for bookworm (added here if missing).
# Safe to run again: does nothing when the stamp of this exact recipe is present.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-$PWD/.deps/civetweb}
recipe_version=3  # bump when the flags or the patch change, so existing builds are redone
stamp="$prefix/.built-from-debian-source-v$recipe_version"
if [[ -f "$stamp" ]]; then
  exit 0
fi

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"

# A deb-src entry for the suite the binaries come from, read by apt only for `apt-get source`.
src_list=/etc/apt/sources.list.d/smartproxy-exporter-deb-src.sources
if ! apt-get source --print-uris civetweb >/dev/null 2>&1; then
  echo "build-civetweb: adding a deb-src entry for bookworm ($src_list)"
  $sudo tee "$src_list" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  $sudo apt-get update -qq
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
  cd "$work"
  # --download-only then dpkg-source: no build dependencies are resolved, only the source is unpacked
  # (with Debian's patches applied).
  apt-get source --download-only civetweb=1.15+dfsg-4 >/dev/null 2>&1 ||
    apt-get source --download-only civetweb >/dev/null
  dpkg-source --no-check -x civetweb_*.dsc src >/dev/null
)
grep -q 'CIVETWEB_VERSION "1.15"' "$work/src/include/civetweb.h" || {
  echo "build-civetweb: expected civetweb 1.15 in Debian's source package" >&2
  exit 1
}
patch --quiet --forward -p1 -d "$work/src" <scripts/civetweb-1.15-exporter.patch

echo "build-civetweb: building civetweb 1.15 (OpenSSL 3 API, linked, static) into $prefix"
cmake -S "$work/src" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DCMAKE_C_FLAGS="-DOPENSSL_API_3_0 -D_FORTIFY_SOURCE=2 -fstack-protector-strong" \
  -DBUILD_SHARED_LIBS=OFF \
  -DCIVETWEB_BUILD_TESTING=OFF \
  -DCIVETWEB_ENABLE_SERVER_EXECUTABLE=OFF \
  -DCIVETWEB_INSTALL_EXECUTABLE=OFF \
  -DCIVETWEB_ENABLE_CXX=OFF \
  -DCIVETWEB_ENABLE_IPV6=ON \
  -DCIVETWEB_ENABLE_WEBSOCKETS=OFF \
  -DCIVETWEB_DISABLE_CGI=ON \
  -DCIVETWEB_SERVE_NO_FILES=ON \
  -DCIVETWEB_ENABLE_ASAN=OFF \
  -DCIVETWEB_ENABLE_SSL=ON \
  -DCIVETWEB_ENABLE_SSL_DYNAMIC_LOADING=OFF \
  -DCIVETWEB_SSL_OPENSSL_API_1_0=OFF \
  -DCIVETWEB_SSL_OPENSSL_API_1_1=OFF >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; exit 1; }
ninja -C "$work/build" >"$work/build.log" 2>&1 || { tail -50 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix"
ninja -C "$work/build" install >/dev/null
touch "$stamp"
echo "build-civetweb: done"
