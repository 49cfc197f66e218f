#!/usr/bin/env bash
# The one test command (README): installs what the tests need, builds, runs every test,
# and ends with the line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: tool -> package.
declare -A PKG=(
  [dig]=dnsutils [kdig]=knot-dnsutils [dnsmasq]=dnsmasq-base [unbound]=unbound
  [dnsperf]=dnsperf [getent]=libc-bin [unshare]=util-linux [ip]=iproute2 [chattr]=e2fsprogs
  [cc]=gcc [musl-gcc]=musl-tools [iptables-save]=iptables
)
# Tests under real systemd and of the packages (test/system/systemd*, packaging*).
# systemd-container is pinned to the installed systemd, or apt would upgrade the host's systemd.
systemd_version=$(dpkg-query -W -f='${Version}' systemd 2>/dev/null || true)
PKG+=(
  [debootstrap]=debootstrap [systemd-nspawn]=systemd-container${systemd_version:+=$systemd_version}
  [rpmbuild]=rpm [lintian]=lintian [zstd]=zstd [dash]=dash
)
missing=()
for tool in "${!PKG[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("${PKG[$tool]}")
done
if [ "$(id -u)" = 0 ] && { [ "${CI:-}" = true ] || [ ${#missing[@]} -gt 0 ]; }; then
  echo "== installing system packages: ${PKG[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps Debian's maintainer scripts from starting unbound on port 53.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${PKG[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
elif [ ${#missing[@]} -gt 0 ]; then
  echo "warning: missing packages ${missing[*]} (run as root to install them); tests needing them will fail" >&2
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi
echo "== build"
npx tsc -p tsconfig.json
# The native UDP engine must build here: its tests prove it (a fallback would hide a broken build).
node scripts/build-native.mjs --require
echo "== tests"
exec node scripts/run-tests.mjs "$@"
