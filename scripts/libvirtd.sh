#!/usr/bin/env bash
# Start/stop a system libvirtd (QEMU/TCG) on a machine without systemd.
# Usage: scripts/libvirtd.sh [start|stop|restart|status]   (default: start; run as root)
# Idempotent: installs missing apt packages, fixes /dev/kvm, starts virtlogd +
# libvirtd only if they are not already running, waits until virsh answers.
set -euo pipefail

URI=qemu:///system
PKGS=(libvirt-daemon-system libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
      libvirt-clients linux-image-cloud-amd64 busybox-static build-essential)
WAIT_S=${LIBVIRTD_WAIT_S:-60}
t0=$(date +%s.%N)
did=()

log() { echo "libvirtd.sh: $*"; }
die() { echo "libvirtd.sh: ERROR: $*" >&2; exit 1; }
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2fs", b-a}'; }

# PID 1 here does not reap children: a killed daemon stays a zombie whose pid
# still answers `kill -0`. Treat zombies (state Z) and stale pid files as dead.
alive() { # alive PID
  local st
  [[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $st != Z && $st != X ]]
}
pid_of() { # pid_of NAME -> pid of the live daemon, from its pid file or the process table
  local p=""
  [[ -r /run/$1.pid ]] && p=$(cat "/run/$1.pid" 2>/dev/null || true)
  if alive "$p"; then echo "$p"; return 0; fi
  for p in $(pgrep -x "$1" || true); do alive "$p" && { echo "$p"; return 0; }; done
  return 1
}

ensure_packages() {
  local missing=() p
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  did+=("installed ${#missing[@]} packages")
}

configure() {
  # /dev/kvm as root:root 0600 makes libvirtd re-probe QEMU on every call
  # (a define takes 20-48 s); group kvm + 0660 makes the capabilities cache stick.
  getent group kvm >/dev/null || groupadd -r kvm
  if [[ -e /dev/kvm ]] && [[ $(stat -c %G:%a /dev/kvm) != kvm:660 ]]; then
    chgrp kvm /dev/kvm && chmod 660 /dev/kvm && did+=("fixed /dev/kvm")
  fi
  # Guests use tap NICs, never libvirt's NAT `default` network (dnsmasq and
  # iptables may not work here): do not let libvirtd try to autostart it.
  if [[ -e /etc/libvirt/qemu/networks/autostart/default.xml ]]; then
    rm -f /etc/libvirt/qemu/networks/autostart/default.xml && did+=("disabled default network autostart")
  fi
  # Test machines (containers especially) may have AppArmor/SELinux in the
  # kernel without being able to load per-guest profiles: use no MAC driver.
  # DAC (QEMU runs as libvirt-qemu) stays on. Needs a libvirtd restart.
  if ! grep -q '^security_driver' /etc/libvirt/qemu.conf; then
    printf '\n# set by vmpulse scripts/libvirtd.sh: test guests need no MAC confinement\nsecurity_driver = "none"\n' >>/etc/libvirt/qemu.conf
    did+=("set security_driver=none")
    if pid_of libvirtd >/dev/null; then stop >/dev/null; fi
  fi
  mkdir -p /run/libvirt
}

start() {
  ensure_packages
  configure
  if ! pid_of virtlogd >/dev/null; then
    rm -f /run/virtlogd.pid
    /usr/sbin/virtlogd -d
    did+=("started virtlogd")
  fi
  if ! pid_of libvirtd >/dev/null; then
    # A killed libvirtd leaves its pid file and socket behind; libvirtd
    # replaces the socket, the pid file we clear so it cannot confuse pid_of.
    rm -f /run/libvirtd.pid
    /usr/sbin/libvirtd -d
    did+=("started libvirtd")
  fi
  local deadline=$((SECONDS + WAIT_S))
  until timeout 5 virsh -c "$URI" uri >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "libvirtd did not answer on $URI within ${WAIT_S}s (see /var/log/libvirt/)"
    pid_of libvirtd >/dev/null || die "libvirtd exited during start-up (see /var/log/libvirt/)"
    sleep 0.2
  done
  # Probe QEMU's capabilities now (cached under /var/cache/libvirt/qemu, ~4 s
  # when cold) so the first define of a test does not pay for it.
  timeout 60 virsh -c "$URI" domcapabilities --virttype qemu >/dev/null ||
    die "libvirtd cannot probe QEMU (virsh domcapabilities failed)"
  local msg; printf -v msg '%s, ' "${did[@]}"; msg=${msg%, }
  log "${msg:-already running}; $URI answers ($(elapsed))"
}

stop() {
  local p n
  if p=$(pid_of libvirtd); then
    kill "$p"
    for ((n = 0; n < 100; n++)); do alive "$p" || break; sleep 0.1; done
    alive "$p" && kill -9 "$p"
    rm -f /run/libvirtd.pid
    log "stopped libvirtd (pid $p; running guests keep running) ($(elapsed))"
  else
    log "libvirtd not running"
  fi
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if p=$(pid_of libvirtd); then log "libvirtd running (pid $p)"; else log "libvirtd not running"; exit 3; fi ;;
  *) die "usage: $0 [start|stop|restart|status]" ;;
esac
