#!/usr/bin/env bash
# Install the warehouse edge agent on Raspberry Pi OS Bookworm (64-bit), or any Debian-like
# system with systemd. Idempotent: run it again to upgrade; it never overwrites a config.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: install.sh [options]

Installs the warehouse edge agent as a systemd service:
  /opt/warehouse-edge/venv           a virtual environment with warehouse[edge]
  /etc/warehouse-edge/agent.toml     the agent's config (an example the first time; never
                                     overwritten)
  /var/lib/warehouse-edge            the outbox and the cached price book (kept on uninstall)
  /etc/systemd/system/warehouse-edge.service, udev rules, journald limits, the system user
  warehouse-edge (groups dialout, input, plugdev) through sysusers.d and tmpfiles.d

Options:
  --wheel FILE          install this warehouse wheel (default: the repository this script is in)
  --example NAME        the example config to start from: dock-door, pick-station, register,
                        forklift (default: dock-door)
  --can-bitrate N       also bring up can0 for an MCP2515 HAT at N bit/s (systemd-networkd and
                        the dtoverlay line in /boot/firmware/config.txt)
  --root DIR            install into DIR as a staging root (an image being built): nothing is
                        started, no user is created on this machine
  --no-venv             leave out the virtual environment (an image builder that installs the
                        package itself)
  --dry-run             print what would be done, change nothing
  --uninstall           remove the service, its files and the venv; keep the config and the
                        outbox (/etc/warehouse-edge, /var/lib/warehouse-edge)
  -h, --help            this text
USAGE
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
root=""
wheel=""
example="dock-door"
can_bitrate=""
dry_run=0
uninstall=0
venv=1

while [ $# -gt 0 ]; do
  case "$1" in
    --wheel) wheel=${2:?--wheel needs a file}; shift 2 ;;
    --example) example=${2:?--example needs a name}; shift 2 ;;
    --can-bitrate) can_bitrate=${2:?--can-bitrate needs a number}; shift 2 ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --no-venv) venv=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$example" in
  dock-door | pick-station | register | forklift) ;;
  *) echo "install.sh: --example is dock-door, pick-station, register or forklift" >&2; exit 2 ;;
esac
if [ -n "$can_bitrate" ] && ! [[ "$can_bitrate" =~ ^[0-9]+$ ]]; then
  echo "install.sh: --can-bitrate is a number of bits per second, e.g. 250000" >&2
  exit 2
fi
if [ -n "$wheel" ] && [ ! -f "$wheel" ]; then
  echo "install.sh: no wheel at $wheel" >&2
  exit 2
fi
if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
elif [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run it as root (sudo), or stage with --root DIR, or look with --dry-run" >&2
  exit 1
fi

say() { echo "install.sh: $*"; }
# what was done: in a dry run the "would run" line before it already said it
did() { if [ "$dry_run" = 0 ]; then say "$@"; fi; }
run() {
  if [ "$dry_run" = 1 ]; then
    echo "would run: $*"
  else
    "$@"
  fi
}
live() { [ -z "$root" ] && [ "$dry_run" = 0 ]; }

# put FILE at PATH (under the root) with MODE, only when it differs
place() {
  local source=$1 target=$root$2 mode=$3
  if [ -f "$target" ] && cmp -s "$source" "$target"; then
    return 0
  fi
  run install -D -m "$mode" "$source" "$target"
  did "installed $2"
}

opt=/opt/warehouse-edge
unit=/etc/systemd/system/warehouse-edge.service
files=(
  "$unit"
  /usr/lib/sysusers.d/warehouse-edge.conf
  /usr/lib/tmpfiles.d/warehouse-edge.conf
  /etc/udev/rules.d/70-warehouse-edge.rules
  /etc/systemd/journald.conf.d/warehouse-edge.conf
  /etc/systemd/network/80-can0.network
  "$opt/docs/operations.md"
)

if [ "$uninstall" = 1 ]; then
  if live; then
    systemctl disable --now warehouse-edge.service 2>/dev/null || true
  fi
  wants=/etc/systemd/system/multi-user.target.wants/warehouse-edge.service
  if [ -L "$root$wants" ]; then
    run rm -f "$root$wants"
  fi
  for f in "${files[@]}"; do
    if [ -e "$root$f" ]; then
      run rm -f "$root$f"
      did "removed $f"
    fi
  done
  if [ -d "$root$opt" ]; then
    run rm -rf "$root$opt"
    did "removed $opt"
  fi
  if live; then
    systemctl daemon-reload
    udevadm control --reload 2>/dev/null || true
  fi
  say "kept /etc/warehouse-edge (the config) and /var/lib/warehouse-edge (the outbox: events"
  say "not yet sent are still in it; delete it yourself once \`warehouse-edge outbox\` says 0)"
  exit 0
fi

# the user, its groups and its directories: sysusers.d and tmpfiles.d, applied on this machine
place "$here/warehouse-edge.sysusers" /usr/lib/sysusers.d/warehouse-edge.conf 0644
place "$here/warehouse-edge.tmpfiles" /usr/lib/tmpfiles.d/warehouse-edge.conf 0644
if live; then
  systemd-sysusers /usr/lib/sysusers.d/warehouse-edge.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/warehouse-edge.conf
else
  run install -d -m 0750 "$root/var/lib/warehouse-edge" "$root/etc/warehouse-edge"
fi

# the agent: a virtual environment with warehouse[edge]
if [ "$venv" = 1 ]; then
  if [ ! -x "$root$opt/venv/bin/python" ]; then
    run python3 -m venv "$root$opt/venv"
  fi
  if [ -n "$wheel" ]; then
    target="${wheel}[edge]"
  else
    target="${repo}[edge]"
  fi
  run "$root$opt/venv/bin/python" -m pip install --quiet --upgrade pip
  run "$root$opt/venv/bin/python" -m pip install --quiet --upgrade "$target"
  did "warehouse[edge] installed in $opt/venv"
fi
place "$repo/docs/operations.md" "$opt/docs/operations.md" 0644

# the config: an example the first time, never overwritten
config=/etc/warehouse-edge/agent.toml
fresh=0
if [ -e "$root$config" ]; then
  say "kept $config"
else
  fresh=1
  run install -D -m 0640 "$here/$example.toml" "$root$config"
  if live; then
    chgrp warehouse-edge "$config"
  fi
  did "installed $config from the $example example: set agent_id, site, the broker and devices"
fi

# systemd, udev and journald
place "$here/warehouse-edge.service" "$unit" 0644
place "$here/70-warehouse-edge.rules" /etc/udev/rules.d/70-warehouse-edge.rules 0644
place "$here/journald-warehouse-edge.conf" /etc/systemd/journald.conf.d/warehouse-edge.conf 0644

# CAN for an MCP2515 HAT: systemd-networkd brings can0 up; the overlay takes a reboot
if [ -n "$can_bitrate" ]; then
  network=$(mktemp)
  trap 'rm -f "$network"' EXIT
  sed "s/^BitRate=.*/BitRate=$can_bitrate/" "$here/80-can0.network" > "$network"
  place "$network" /etc/systemd/network/80-can0.network 0644
  overlay="dtoverlay=mcp2515-can0,oscillator=16000000,interrupt=25"
  boot_config=$root/boot/firmware/config.txt
  if [ -f "$boot_config" ] && grep -q "^dtoverlay=mcp2515-can0" "$boot_config"; then
    say "kept the mcp2515 overlay in /boot/firmware/config.txt"
  elif [ "$dry_run" = 1 ]; then
    echo "would add to /boot/firmware/config.txt: $overlay"
  else
    mkdir -p "$(dirname "$boot_config")"
    echo "$overlay" >> "$boot_config"
    say "added $overlay to /boot/firmware/config.txt (reboot for it to take effect)"
  fi
  if live; then
    systemctl enable systemd-networkd.service
  fi
fi

if live; then
  udevadm control --reload && udevadm trigger
  systemctl restart systemd-journald.service
  systemctl daemon-reload
  systemctl enable warehouse-edge.service
  if [ "$fresh" = 1 ]; then
    say "edit $config (agent_id, site, broker, devices), check it with"
    say "  $opt/venv/bin/warehouse-edge check-config --config $config"
    say "then: systemctl start warehouse-edge"
  else
    systemctl restart warehouse-edge.service
    say "warehouse-edge restarted; follow it with: journalctl -u warehouse-edge -f"
  fi
else  # enabled the way systemctl enable would, without a running systemd
  wants=/etc/systemd/system/multi-user.target.wants/warehouse-edge.service
  if [ ! -L "$root$wants" ]; then
    run mkdir -p "$(dirname "$root$wants")"
    run ln -s "$unit" "$root$wants"
  fi
  if [ "$dry_run" = 1 ]; then
    say "dry run: nothing was changed"
  elif [ -n "$root" ]; then
    say "staged under $root: the user is created on first boot (systemd-sysusers)"
  fi
fi
