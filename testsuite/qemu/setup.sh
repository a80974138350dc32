#!/bin/sh
# Install what the QEMU guest tests need (Debian 12, root, idempotent):
# the cross compilers and target libraries (testsuite/cross/setup.sh),
# qemu-system-arm (gives qemu-system-aarch64 too), gdb-multiarch, cpio;
# then download and unpack the guest kernels and busybox into the cache
# (testsuite/qemu/fetch.sh, as the user who runs the tests: $SUDO_USER).
#   testsuite/qemu/setup.sh [aarch64|arm ...]      (default: both)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "$#" -gt 0 ] || set -- aarch64 arm
if [ "$(id -u)" -ne 0 ]; then
	echo "qemu/setup.sh: needs root (apt-get, dpkg --add-architecture)" >&2
	exit 1
fi
"$here/../cross/setup.sh" "$@"
need=""
for p in qemu-system-arm gdb-multiarch cpio binutils python3; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		need="$need $p"
done
if [ -n "$need" ]; then
	apt-get update || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi
for arch in "$@"; do
	if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
		su "$SUDO_USER" -c "'$here/fetch.sh' $arch"
	else
		"$here/fetch.sh" "$arch"
	fi
done
