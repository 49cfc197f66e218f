#!/usr/bin/env bash
# Install meshdns from this checkout (or an unpacked release tarball) the way the .deb does:
# /usr/lib/meshdns (program + production node_modules), /usr/bin/meshdns, the systemd unit (in
# /etc/systemd/system: no package owns it), /etc/meshdns/meshdns.yaml (never overwritten),
# /etc/meshdns/registry.d and /var/lib/meshdns. Started only when the mesh bootstrap files exist
# (see packaging/lifecycle.sh). Running it again updates the install (and restarts a running
# service). Needs Node.js >= 18.19 and a checkout with node_modules (npm ci).
#
#   sudo ./install.sh                       install or update
#   sudo ./install.sh --uninstall           stop, put resolv.conf back, remove the program and unit
#   sudo ./install.sh --uninstall --purge   ... and /etc/meshdns and /var/lib/meshdns too
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
mode=install purge=no
for arg in "$@"; do
  case "$arg" in
    --uninstall) mode=uninstall ;;
    --purge) purge=yes ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo $0 $*)" >&2; exit 1; }
[ "$purge" = no ] || [ "$mode" = uninstall ] || { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }

# shellcheck source=packaging/stage.sh
source "$(dirname "${BASH_SOURCE[0]}")/packaging/stage.sh"
LIB=/usr/lib/meshdns
UNIT_FILE=/etc/systemd/system/meshdns.service

if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W -f='${Status}' meshdns 2>/dev/null | grep -q 'ok installed'; then
  echo "install.sh: meshdns is installed as a Debian package; use apt/dpkg for it" >&2
  exit 1
fi
if command -v rpm >/dev/null 2>&1 && rpm -q meshdns >/dev/null 2>&1; then
  echo "install.sh: meshdns is installed as an rpm package; use dnf/rpm for it" >&2
  exit 1
fi

if [ "$mode" = uninstall ]; then
  if [ -x "$LIB/lifecycle.sh" ]; then "$LIB/lifecycle.sh" before-remove
  else "$MESHDNS_SRC/packaging/lifecycle.sh" before-remove; fi
  rm -rf "$LIB" /usr/bin/meshdns "$UNIT_FILE"
  if [ "$purge" = yes ]; then
    "$MESHDNS_SRC/packaging/lifecycle.sh" after-purge
  else
    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
    echo "meshdns removed; /etc/meshdns and /var/lib/meshdns kept (--uninstall --purge removes them)"
  fi
  exit 0
fi

command -v node >/dev/null || { echo "install.sh: node not found: install Node.js >= 18.19 (Debian: apt-get install nodejs)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>18||(a===18&&b>=19)?0:1)' ||
  { echo "install.sh: Node.js $(node --version) is too old: meshdns needs >= 18.19" >&2; exit 1; }
[ -d "$MESHDNS_SRC/node_modules" ] || { echo "install.sh: $MESHDNS_SRC/node_modules is missing: run npm ci first" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -f "$MESHDNS_SRC/node_modules/typescript/bin/tsc" ]; then
  # A fresh compile of the program alone, so no stale file from dist/ is installed.
  node "$MESHDNS_SRC/node_modules/typescript/bin/tsc" -p "$MESHDNS_SRC/packaging/tsconfig.json" --outDir "$work/dist"
  # The native UDP engine; without a C compiler meshdns runs on Node's dgram (the script says so).
  node "$MESHDNS_SRC/scripts/build-native.mjs" --out "$work/dist"
  export MESHDNS_DIST=$work/dist
elif [ ! -f "$MESHDNS_SRC/dist/src/cli.js" ]; then
  echo "install.sh: no dist/ and no TypeScript compiler: run npm ci in $MESHDNS_SRC first" >&2
  exit 1
fi

phase=first
[ -d "$LIB" ] && phase=upgrade
stage_files "$work/root" /etc/systemd/system

# The program directory is swapped in whole, so a running service never sees half of it.
rm -rf "$LIB.new" "$LIB.old"
cp -a "$work/root$LIB" "$LIB.new"
[ -d "$LIB" ] && mv "$LIB" "$LIB.old"
mv "$LIB.new" "$LIB"
rm -rf "$LIB.old"
install -m 0755 "$work/root/usr/bin/meshdns" /usr/bin/meshdns
install -m 0644 "$work/root$UNIT_FILE" "$UNIT_FILE"
install -d -m 0755 /etc/meshdns /etc/meshdns/registry.d
# The admin's settings are never overwritten; the shipped default sits next to them.
if [ -e /etc/meshdns/meshdns.yaml ]; then
  cmp -s "$work/root/etc/meshdns/meshdns.yaml" /etc/meshdns/meshdns.yaml ||
    install -m 0644 "$work/root/etc/meshdns/meshdns.yaml" /etc/meshdns/meshdns.yaml.dist
else
  install -m 0644 "$work/root/etc/meshdns/meshdns.yaml" /etc/meshdns/meshdns.yaml
fi

"$LIB/lifecycle.sh" after-install "$phase"
echo "meshdns $(meshdns_version) installed ($phase)"
