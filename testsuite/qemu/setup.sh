#!/bin/sh
# Install what the QEMU guest tests need (Debian 12, root, idempotent):
# the cross compilers and target libraries (testsuite/cross/setup.sh),
# qemu-system-arm (gives qemu-system-aarch64 too), qemu-system-x86 (x86_64
# guests on CPU models without AVX-512 / XSAVE; it depends on seabios and
# ipxe-qemu), gdb-multiarch, cpio; then download and unpack the guest
# kernels and busybox into the cache (testsuite/qemu/fetch.sh, as the user
# who runs the tests: $SUDO_USER).
#   testsuite/qemu/setup.sh [aarch64|arm|x86_64 ...]   (default: all three)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ "$#" -gt 0 ] || set -- aarch64 arm x86_64
if [ "$(id -u)" -ne 0 ]; then
	echo "qemu/setup.sh: needs root (apt-get, dpkg --add-architecture)" >&2
	exit 1
fi
cross="" pkgs="gdb-multiarch cpio binutils python3"
for arch in "$@"; do
	case "$arch" in
	aarch64|arm) cross="$cross $arch"; pkgs="$pkgs qemu-system-arm" ;;
	# the server, the agent and GNU gdbserver are this host's own
	x86_64) pkgs="$pkgs qemu-system-x86 gdbserver" ;;
	*) echo "qemu/setup.sh: unknown architecture '$arch' (aarch64, arm or x86_64)" >&2; exit 2 ;;
	esac
done
# shellcheck disable=SC2086
[ -z "$cross" ] || "$here/../cross/setup.sh" $cross
need=""
for p in $pkgs; do
	case " $need " in *" $p "*) continue ;; esac
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
