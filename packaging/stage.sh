# Sourced by packaging/build.sh and install.sh: lays out the installed files under a root.
# stage_files ROOT UNITDIR — ROOT/usr/lib/meshdns (program + production node_modules),
# ROOT/usr/bin/meshdns, ROOT/UNITDIR/meshdns.service, ROOT/etc/meshdns/{meshdns.yaml,registry.d}.

# The checkout root (this file is in packaging/).
MESHDNS_SRC=${MESHDNS_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

meshdns_version() {
  node -p "require('$MESHDNS_SRC/package.json').version"
}

# Production dependencies as paths relative to the checkout (node_modules/x, node_modules/@s/y),
# from package-lock.json (lockfile v2/v3): every installed package not marked dev-only, less
# @types/* (declarations only). No npm
# needed, so install.sh also works where only Debian's nodejs is installed.
production_modules() {
  node -e '
    const fs = require("fs"), path = require("path");
    const root = process.argv[1];
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
    for (const [key, info] of Object.entries(lock.packages || {})) {
      if (!key.startsWith("node_modules/") || info.dev || info.devOptional) continue;
      // Type declarations are never loaded at run time (protobufjs, under @grpc/grpc-js, lists
      // @types/node as a dependency).
      if (key.startsWith("node_modules/@types/")) continue;
      if (fs.existsSync(path.join(root, key, "package.json"))) console.log(key);
    }
  ' "$MESHDNS_SRC" | LC_ALL=C sort
}

stage_program() {
  local lib=$1/usr/lib/meshdns
  install -d -m 0755 "$lib/bin" "$lib/dist" "$lib/node_modules"
  install -m 0644 "$MESHDNS_SRC/bin/meshdns.js" "$lib/bin/meshdns.js"
  # Only the program (dist/src), without source maps, and the native UDP engine when it was built.
  (cd "${MESHDNS_DIST:-$MESHDNS_SRC/dist}" && find src -name "*.js" -exec cp --parents -p -t "$lib/dist" {} +)
  if [ -f "${MESHDNS_DIST:-$MESHDNS_SRC/dist}/native/udp_batch.node" ]; then
    install -D -m 0644 "${MESHDNS_DIST:-$MESHDNS_SRC/dist}/native/udp_batch.node" "$lib/dist/native/udp_batch.node"
  fi
  # package.json: the version (src/version.ts reads it) and what the program needs.
  node -e '
    const p = require(process.argv[1]);
    const out = { name: p.name, version: p.version, description: p.description, license: p.license,
      private: true, main: p.main, bin: p.bin, engines: p.engines, dependencies: p.dependencies };
    require("fs").writeFileSync(process.argv[2], JSON.stringify(out, null, 2) + "\n");
  ' "$MESHDNS_SRC/package.json" "$lib/package.json"
  local mod
  for mod in $(production_modules); do
    mkdir -p "$lib/$mod"
    cp -a "$MESHDNS_SRC/$mod/." "$lib/$mod/"
  done
  # What the packages' authors ship for development (tests, docs, dotfiles, sites) is not needed
  # to run; licence files stay.
  find "$lib/node_modules" -depth \( -type d \( -name test -o -name tests -o -name docs -o -name benchmarks \
    -o -name examples -o -name '.*' \) -exec rm -rf {} + \) -o \( -type f \( -name '.*' -o -name '*.md' ! -iname 'license*' \
    -o -name '*.html' -o -name '*.sh' -o -name '*.map' \) -delete \)
  install -m 0755 "$MESHDNS_SRC/packaging/lifecycle.sh" "$lib/lifecycle.sh"
  # Plain files 0644, directories 0755, whatever modes npm left; the two scripts executable.
  find "$lib" -type d -exec chmod 0755 {} +
  find "$lib" -type f -exec chmod 0644 {} +
  chmod 0755 "$lib/lifecycle.sh" "$lib/bin/meshdns.js"
}

stage_files() {
  local root=$1 unitdir=$2
  stage_program "$root"
  install -D -m 0755 "$MESHDNS_SRC/packaging/meshdns.sh" "$root/usr/bin/meshdns"
  install -D -m 0644 "$MESHDNS_SRC/systemd/meshdns.service" "$root$unitdir/meshdns.service"
  install -D -m 0644 "$MESHDNS_SRC/packaging/meshdns.yaml" "$root/etc/meshdns/meshdns.yaml"
  install -d -m 0755 "$root/etc/meshdns/registry.d"
}
