#!/bin/sh
# Download (never install) the Debian packages a guest needs and unpack what
# is used into the cache: kernel image + virtio modules, static busybox.
#   testsuite/qemu/fetch.sh aarch64|arm|x86_64
# Cache: $CSG_QEMU_CACHE (default ~/.cache/csgdbserver/qemu)/<arch>/; a
# second run with the same package versions does nothing.
# Needs the target's dpkg architecture (dpkg --add-architecture arm64|armhf
# && apt-get update, done by testsuite/qemu/setup.sh; amd64 is the host's).
set -eu
arch=${1:-}
case "$arch" in
aarch64) deb=arm64; kmeta=linux-image-arm64 ;;
arm)     deb=armhf; kmeta=linux-image-armmp-lpae ;;
x86_64)  deb=amd64; kmeta=linux-image-amd64 ;;
*) echo "usage: testsuite/qemu/fetch.sh aarch64|arm|x86_64" >&2; exit 2 ;;
esac
cache=${CSG_QEMU_CACHE:-$HOME/.cache/csgdbserver/qemu}/$arch
mkdir -p "$cache"

# Unchanged package lists since the last unpack: nothing can have changed
# (apt-cache takes seconds per call on a loaded machine).
if [ -f "$cache/.packages" ] && [ -e "$cache/x/bin/busybox" ] &&
	[ -z "$(find /var/lib/apt/lists -maxdepth 1 -newer "$cache/.packages" -name '*Packages*' 2>/dev/null | head -1)" ]; then
	exit 0
fi

# The kernel ABI (6.1.0-NN) changes with each security update: resolve it
# through the metapackage.
kpkg=$(apt-cache depends "$kmeta:$deb" 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { sub(/:.*/, "", $2); print $2; exit }')
if [ -z "$kpkg" ]; then
	echo "qemu/fetch.sh: $kmeta:$deb unknown to apt; run testsuite/qemu/setup.sh (as root)" >&2
	exit 1
fi
pkgs="$kpkg:$deb busybox-static:$deb"
want=$(for p in $pkgs; do
	printf '%s=%s ' "$p" "$(apt-cache policy "$p" | awk '$1 == "Candidate:" { print $2; exit }')"
done)
if [ -f "$cache/.packages" ] && [ "$(cat "$cache/.packages")" = "$want" ] &&
	[ -e "$cache/x/bin/busybox" ]; then
	touch "$cache/.packages"
	exit 0
fi
echo "qemu/fetch.sh: $arch: downloading $want" >&2
rm -rf "$cache/debs" "$cache/x"
mkdir -p "$cache/debs" "$cache/x"
# apt-get download runs as _apt when root: the directory must be writable
chmod 777 "$cache/debs"
(cd "$cache/debs" && apt-get download -q $want >&2) || {
	echo "qemu/fetch.sh: apt-get download $want failed" >&2; exit 1; }
for d in "$cache"/debs/*.deb; do
	case "$d" in
	*/linux-image-*)
		# ~380 MB unpacked: keep the image, its config and virtio
		dpkg-deb --fsys-tarfile "$d" | tar -x -C "$cache/x" --wildcards \
			'./boot/vmlinuz-*' './boot/config-*' \
			'./lib/modules/*/kernel/drivers/virtio/*' \
			'./lib/modules/*/kernel/drivers/net/virtio_net.ko' \
			'./lib/modules/*/kernel/drivers/net/net_failover.ko' \
			'./lib/modules/*/kernel/net/core/failover.ko' 2>/dev/null || true ;;
	*) dpkg-deb -x "$d" "$cache/x" ;;
	esac
done
rm -rf "$cache/debs"
ls "$cache"/x/boot/vmlinuz-* >/dev/null
printf '%s' "$want" > "$cache/.packages"
echo "qemu/fetch.sh: $arch: unpacked into $cache/x" >&2
