#!/usr/bin/env bash
# Build a tiny i386 Linux guest for v86 from Debian packages (no binaries in the repo).
#
#   scripts/build-v86-guest.sh [OUTDIR]
#
# OUTDIR (default $SYNACK_V86_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/synack-v86) gets:
#   vmlinuz         the Debian i386 (686) kernel
#   initrd.img      a cpio.gz: busybox-static (i386) + the NE2000 driver (ne2k-pci, 8390)
#   seabios.bin     SeaBIOS from Debian's `seabios` package (v86 needs a BIOS)
#   vgabios.bin     VGA BIOS from Debian's `vgabios` package
# The guest's /init loads the NIC driver, runs udhcpc on eth0, then `wget`s the URL given
# as `synack.url=...` on the kernel command line and prints markers on the serial console:
#   SYNACK-GUEST-BOOTED, SYNACK-DHCP-OK <addr>, SYNACK-FETCH-OK <bytes> <md5> / SYNACK-FETCH-FAIL
# Without DHCP: synack.ip=A/P synack.gw=G on the command line configure eth0 statically.
# Needs root (dpkg --add-architecture i386, apt-get update) the first time. Idempotent.
set -euo pipefail
OUT="${1:-${SYNACK_V86_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/synack-v86}}"
mkdir -p "$OUT"
# The cache is keyed by this script's contents: a changed /init rebuilds the image.
STAMP="$(sha256sum "$0" | cut -c1-16)"
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.img" ] && [ -s "$OUT/seabios.bin" ] && [ -s "$OUT/vgabios.bin" ] \
   && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$STAMP" ] && [ "${FORCE:-0}" != 1 ]; then
  echo "v86 guest already built in $OUT"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  dpkg --add-architecture i386
  apt-get update -q
fi
command -v cpio >/dev/null || { apt-get update -q; apt-get install -y -q --no-install-recommends cpio </dev/null; }
if ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then apt-get update -q; fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# The newest 686 (non-PAE: v86 has no PAE) kernel image package.
KPKG="$(apt-cache depends linux-image-686:i386 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
KPKG="${KPKG%:i386}"
[ -n "$KPKG" ] || { echo "no linux-image-686:i386 candidate" >&2; exit 1; }
apt-get download -q "$KPKG:i386" busybox-static:i386 seabios vgabios </dev/null
mkdir k bb bios
dpkg-deb -x linux-image-*_i386.deb k
dpkg-deb -x busybox-static_*_i386.deb bb
for d in seabios_*.deb vgabios_*.deb; do dpkg-deb -x "$d" bios; done
KVER="$(ls k/lib/modules | head -1)"
cp k/boot/vmlinuz-"$KVER" "$OUT/vmlinuz.tmp"
cp bios/usr/share/seabios/bios.bin "$OUT/seabios.bin"
cp bios/usr/share/vgabios/vgabios.bin "$OUT/vgabios.bin"

R="$WORK/root"
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,lib/modules,usr/share/udhcpc,root}
cp bb/bin/busybox "$R/bin/busybox"
for a in sh mount insmod ip ifconfig route udhcpc wget cat echo sleep md5sum wc poweroff reboot mkdir ls dmesg sed grep tr head; do
  ln -sf busybox "$R/bin/$a"
done
# NE2000 PCI (v86's default NIC) and its 8390 core, decompressed for busybox insmod.
for m in drivers/net/ethernet/8390/8390 drivers/net/ethernet/8390/ne2k-pci; do
  f="$(ls k/lib/modules/"$KVER"/kernel/$m.ko* | head -1)"
  case "$f" in
    *.xz) xz -dc "$f" > "$R/lib/modules/$(basename "$m").ko" ;;
    *.zst) zstd -dc "$f" > "$R/lib/modules/$(basename "$m").ko" ;;
    *) cp "$f" "$R/lib/modules/$(basename "$m").ko" ;;
  esac
done
cat > "$R/usr/share/udhcpc/default.script" <<'S'
#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    echo "SYNACK-DHCP-OK $ip router=$router dns=$dns"
    ;;
esac
exit 0
S
chmod +x "$R/usr/share/udhcpc/default.script"
cat > "$R/init" <<'S'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "SYNACK-GUEST-BOOTED"
insmod /lib/modules/8390.ko
insmod /lib/modules/ne2k-pci.ko
ip link set lo up
ip link set eth0 up
URL=""; SIP=""; SGW=""
for a in $(cat /proc/cmdline); do
  case "$a" in
    synack.url=*) URL="${a#synack.url=}";;
    synack.ip=*) SIP="${a#synack.ip=}";;
    synack.gw=*) SGW="${a#synack.gw=}";;
  esac
done
netup() {
  if [ -n "$SIP" ]; then
    ip addr add "$SIP" dev eth0 && ip route add default via "$SGW" dev eth0 && echo "SYNACK-STATIC-OK $SIP"
  else
    udhcpc -i eth0 -n -q -t 5 -T 2 -s /usr/share/udhcpc/default.script
  fi
}
if netup; then
  if [ -n "$URL" ]; then
    if wget -q -O /tmp/f "$URL"; then
      echo "SYNACK-FETCH-OK $(wc -c < /tmp/f) $(md5sum /tmp/f | cut -c1-32 2>/dev/null || md5sum /tmp/f)"
    else
      echo "SYNACK-FETCH-FAIL"
    fi
  fi
else
  echo "SYNACK-DHCP-FAIL"
fi
echo "SYNACK-GUEST-DONE"
poweroff -f
S
ln -sf busybox "$R/bin/cut"
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initrd.img.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
mv "$OUT/initrd.img.tmp" "$OUT/initrd.img"
echo "$KPKG" > "$OUT/kernel-package"
echo "$STAMP" > "$OUT/stamp"
ls -l "$OUT"
