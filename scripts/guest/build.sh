#!/usr/bin/env bash
# Build a bootable test guest from Debian packages only:
#   OUTDIR/vmlinuz     the Debian cloud kernel (linux-image-cloud-amd64)
#   OUTDIR/initrd.img  busybox-static + virtio modules + scripts/guest/init
# Usage: scripts/guest/build.sh OUTDIR   (skips work when outputs are up to date)
set -euo pipefail
OUT=${1:?usage: $0 OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2fs", b-a}'; }

# Newest cloud kernel that has its modules installed.
KVER=""
for k in $(ls -v /boot/vmlinuz-*-cloud-amd64 2>/dev/null); do
  v=${k#/boot/vmlinuz-}; [[ -d /lib/modules/$v ]] && KVER=$v
done
[[ -n $KVER ]] || { echo "build.sh: no /boot/vmlinuz-*-cloud-amd64 (apt-get install linux-image-cloud-amd64)" >&2; exit 1; }
# The initramfs has no libc: only busybox-static's /bin/busybox works there.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' ||
  { echo "build.sh: need busybox-static (apt-get install busybox-static)" >&2; exit 1; }
KERNEL=/boot/vmlinuz-$KVER

mkdir -p "$OUT"
uptodate() { # uptodate OUTPUT INPUT... : output exists and is newer than every input
  local o=$1 i; shift; [[ -s $o ]] || return 1
  for i; do [[ $o -nt $i ]] || return 1; done
}
if uptodate "$OUT/vmlinuz" "$KERNEL" && uptodate "$OUT/initrd.img" "$KERNEL" /bin/busybox "$HERE/init" "$0" &&
   [[ $(cat "$OUT/kver" 2>/dev/null) == "$KVER" ]]; then
  echo "build.sh: guest for $KVER up to date in $OUT ($(elapsed))"; exit 0
fi

# The virtio drivers are modules (=m) in the cloud kernel: resolve their
# dependencies with the host's modprobe against the guest kernel's modules.dep.
MODS=(virtio_pci virtio_blk virtio_net virtio_balloon)
mapfile -t KOS < <(for m in "${MODS[@]}"; do modprobe -S "$KVER" --show-depends "$m"; done |
  awk '$1 == "insmod" && !seen[$2]++ {print $2}')

ROOT=$(mktemp -d); trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
install -m 755 "$HERE/init" "$ROOT/init"
: >"$ROOT/lib/modules/load.order"
for ko in "${KOS[@]}"; do
  f=$(basename "$ko")
  case $f in # busybox insmod cannot read compressed modules
    *.ko.xz) xz -dc "$ko" >"$ROOT/lib/modules/${f%.xz}"; f=${f%.xz} ;;
    *.ko.zst) zstd -qdc "$ko" >"$ROOT/lib/modules/${f%.zst}"; f=${f%.zst} ;;
    *) cp "$ko" "$ROOT/lib/modules/$f" ;;
  esac
  echo "$f" >>"$ROOT/lib/modules/load.order"
done
(cd "$ROOT" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$OUT/initrd.img.tmp"
cp "$KERNEL" "$OUT/vmlinuz.tmp"
# World-readable: QEMU runs as libvirt-qemu.
chmod 644 "$OUT/initrd.img.tmp" "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"; mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
echo "$KVER" >"$OUT/kver"
echo "build.sh: built guest $KVER (${#KOS[@]} modules) in $OUT ($(elapsed))"
