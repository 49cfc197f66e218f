#!/usr/bin/env bash
# `npm run package`: builds build/packages/meshdns_<version>_<arch>.deb and
# build/packages/meshdns-<version>-1.<arch>.rpm from this checkout (dist/ + the native UDP engine
# + production node_modules). Needs dpkg-deb, a C compiler and Node's headers (the native engine
# is built for the build machine's architecture), and rpmbuild for the .rpm (Debian: apt-get install rpm).
# Env: OUT=dir for the packages; SKIP_RPM=1 to build only the .deb.
set -euo pipefail
# shellcheck source=packaging/stage.sh
source "$(dirname "${BASH_SOURCE[0]}")/stage.sh"
out=${OUT:-$MESHDNS_SRC/build/packages}
version=$(meshdns_version)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

echo "== build (tsc, program only, into a fresh directory: no stale files from dist/)"
(cd "$MESHDNS_SRC" && npx tsc -p packaging/tsconfig.json --outDir "$work/dist")
# The packages carry the native UDP engine (recvmmsg/sendmmsg batching): it must build.
(cd "$MESHDNS_SRC" && node scripts/build-native.mjs --require --out "$work/dist")
strip --strip-unneeded "$work/dist/native/udp_batch.node"
export MESHDNS_DIST=$work/dist
deb_arch=$(dpkg --print-architecture)
rpm_arch=$(uname -m)
[ -d "$MESHDNS_SRC/node_modules" ] || { echo "node_modules missing: run npm ci first" >&2; exit 1; }

# Reproducible timestamps (changelog date, file mtimes) from the last commit when there is one.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$MESHDNS_SRC" log -1 --format=%ct 2>/dev/null || date +%s)}

build_deb() {
  local root=$work/deb
  stage_files "$root" /lib/systemd/system
  local doc=$root/usr/share/doc/meshdns
  install -D -m 0644 "$MESHDNS_SRC/packaging/debian/copyright" "$doc/copyright"
  printf 'meshdns (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- meshdns maintainers <meshdns@example.org>  %s\n' \
    "$version" "$version" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n > "$doc/changelog.gz"
  chmod 0644 "$doc/changelog.gz"
  install -d -m 0755 "$root/DEBIAN"
  local f
  for f in postinst prerm postrm; do install -m 0755 "$MESHDNS_SRC/packaging/debian/$f" "$root/DEBIAN/$f"; done
  install -m 0644 "$MESHDNS_SRC/packaging/debian/conffiles" "$root/DEBIAN/conffiles"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' md5sum) > "$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" -e "s/@ARCH@/$deb_arch/" "$MESHDNS_SRC/packaging/debian/control.in" > "$root/DEBIAN/control"
  find "$root" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group -Zxz --build "$root" "$out/meshdns_${version}_${deb_arch}.deb" >/dev/null
  echo "$out/meshdns_${version}_${deb_arch}.deb"
}

build_rpm() {
  local root=$work/rpmroot top=$work/rpmbuild
  stage_files "$root" /usr/lib/systemd/system
  install -D -m 0644 "$MESHDNS_SRC/packaging/debian/copyright" "$root/usr/share/doc/meshdns/copyright"
  mkdir -p "$top"/{BUILD,RPMS,SPECS,SRPMS,SOURCES}
  sed -e "s/@VERSION@/$version/" -e "s|@STAGE@|$root|" "$MESHDNS_SRC/packaging/rpm/meshdns.spec.in" > "$top/SPECS/meshdns.spec"
  rpmbuild --quiet -bb --define "_topdir $top" --define "_rpmdir $top/RPMS" \
    --define '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm' "$top/SPECS/meshdns.spec"
  cp "$top/RPMS/meshdns-$version-1.$rpm_arch.rpm" "$out/"
  echo "$out/meshdns-$version-1.$rpm_arch.rpm"
}

echo "== .deb"
build_deb
if [ "${SKIP_RPM:-}" != 1 ]; then
  echo "== .rpm"
  build_rpm
fi
