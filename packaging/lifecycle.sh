#!/bin/sh
# Install and removal steps shared by the .deb maintainer scripts, the .rpm scriptlets and
# install.sh, so the three behave the same. Usage: lifecycle.sh after-install first|upgrade
#                                                 lifecycle.sh before-remove
#                                                 lifecycle.sh after-purge
set -e

# `istioctl x workload entry configure` output, where the Istio VM guide puts it. Its presence
# means this host has been bootstrapped into the mesh.
BOOTSTRAP_FILE=/var/lib/istio/envoy/cluster.env
STATE_DIR=/var/lib/meshdns
CONFIG_DIR=/etc/meshdns
UNIT=meshdns.service
MESHDNS=/usr/bin/meshdns
# Left in the state dir by a removal that kept the configuration (dpkg -r).
REMOVED_MARKER=package-removed

systemd_running() { [ -d /run/systemd/system ]; }

after_install() {
  mkdir -p "$STATE_DIR" "$CONFIG_DIR/registry.d"
  chmod 0755 "$STATE_DIR"
  if systemd_running; then systemctl daemon-reload; fi
  # Reinstalled after a removal (dpkg -r keeps the state dir, and dpkg calls this an upgrade):
  # the service was stopped and disabled then, so decide as on a first install.
  if [ -e "$STATE_DIR/$REMOVED_MARKER" ]; then
    rm -f "$STATE_DIR/$REMOVED_MARKER"
    set -- first
  fi
  if [ "$1" = upgrade ]; then
    # Running before the upgrade: run the new version now. Stopped: stay stopped.
    if systemd_running; then systemctl try-restart "$UNIT" || echo "meshdns: restart failed; see journalctl -u meshdns" >&2; fi
    return 0
  fi
  # First install. Started (and enabled) only on a host that already has its mesh bootstrap
  # files: before that, capturing resolv.conf would serve no mesh names, and an image build
  # or a host that is not in the mesh yet should not have its DNS redirected by an install.
  if [ -e "$BOOTSTRAP_FILE" ]; then
    systemctl enable "$UNIT" >/dev/null 2>&1 || true
    if systemd_running; then
      systemctl start "$UNIT" || echo "meshdns: start failed; see journalctl -u meshdns" >&2
    fi
  else
    echo "meshdns: installed, not started: $BOOTSTRAP_FILE does not exist yet." >&2
    echo "meshdns: put the istioctl workload files in place, then run: systemctl enable --now meshdns" >&2
  fi
}

before_remove() {
  if systemd_running; then systemctl stop "$UNIT" || true; fi
  systemctl disable "$UNIT" >/dev/null 2>&1 || true
  # Stopping restores resolv.conf (the unit's ExecStopPost as well); without systemd, or after
  # a crash outside it, this puts a still-captured original back. A no-op otherwise.
  if [ -x "$MESHDNS" ]; then "$MESHDNS" restore-resolv-conf >/dev/null 2>&1 || true; fi
  if [ -d "$STATE_DIR" ]; then : > "$STATE_DIR/$REMOVED_MARKER"; fi
}

after_purge() {
  # Purge: the VIP allocations, the saved resolv.conf copy, and every configuration file,
  # registry manifests included.
  rm -rf "$STATE_DIR" "$CONFIG_DIR"
  if systemd_running; then systemctl daemon-reload || true; fi
}

case "${1:-}" in
  after-install) after_install "${2:-first}" ;;
  before-remove) before_remove ;;
  after-purge) after_purge ;;
  *) echo "usage: $0 after-install first|upgrade | before-remove | after-purge" >&2; exit 2 ;;
esac
