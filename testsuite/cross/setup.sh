#!/bin/sh
# Prepare this Debian 12 machine to cross-build csgdbserver for aarch64 and
# arm (armhf) and to run the unit tests under qemu-user. Idempotent: each
# step is skipped when already done. Needs root (apt-get, dpkg).
#   testsuite/cross/setup.sh [aarch64|arm ...]     (default: both)
#
# The target's -dev libraries (libopencsd, libexpat, libelf, zlib) are
# fetched with `apt-get download` and unpacked into a private sysroot,
# $CROSS_ROOT/<triplet>, instead of being installed as :arm64/:armhf
# packages. They are Multi-Arch: same, so dpkg only co-installs them at
# exactly the host's version of each, and whenever the host is a point
# release ahead of the archive's arm indexes (libexpat1, linux-libc-dev,
# libssl3 were on the machine this was written on) apt refuses the whole
# set. The unpacked copy needs no version match and leaves the host alone.
# The Makefile finds it (CROSS_ROOT) when CC is a cross compiler.
set -eu

CROSS_ROOT=${CROSS_ROOT:-/opt/csgdbserver-cross}
# libcapstone: the software branch recorder disassembles with it (dlopen).
LIBS="libopencsd1 libopencsd-dev libexpat1 libexpat1-dev libelf1 libelf-dev zlib1g zlib1g-dev libcapstone4 libcapstone-dev"

[ "$#" -gt 0 ] || set -- aarch64 arm

if [ "$(id -u)" -ne 0 ]; then
	echo "cross/setup.sh: needs root for apt-get and dpkg --add-architecture" >&2
	exit 1
fi

installed() {
	dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

updated=0
apt_update() {
	[ "$updated" -eq 0 ] || return 0
	# A mirror caught mid-sync fails one index now and then: retry, then
	# go on with what was fetched (a later step says if that is not enough).
	for try in 1 2 3; do
		apt-get update && break
		echo "cross/setup.sh: apt-get update failed (try $try of 3)" >&2
		sleep $((try * 10))
	done
	updated=1
}

apt_install() {
	missing=""
	for p in "$@"; do installed "$p" || missing="$missing $p"; done
	[ -n "$missing" ] || return 0
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
}

for arch in "$@"; do
	case "$arch" in
	aarch64) deb=arm64; triplet=aarch64-linux-gnu; qemu=qemu-aarch64 ;;
	arm)     deb=armhf; triplet=arm-linux-gnueabihf; qemu=qemu-arm ;;
	*) echo "cross/setup.sh: unknown architecture '$arch' (aarch64 or arm)" >&2; exit 2 ;;
	esac
	gccpkg=gcc-$triplet
	stdcxx=libstdc++6-$deb-cross   # libopencsd is C++: needed to link and run

	# The target's C library headers are only recommended by the compiler
	# package: named here, since recommends are not installed.
	apt_install "$gccpkg" "libc6-dev-$deb-cross" "$stdcxx" qemu-user

	if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
		dpkg --add-architecture "$deb"
		updated=0
	fi
	sysroot=$CROSS_ROOT/$triplet
	stamp=$sysroot/.packages
	want=""
	# One apt-cache call for all (each loads the whole cache); the lists
	# of a newly added architecture need an update first.
	names=$(for p in $LIBS; do printf '%s:%s ' "$p" "$deb"; done)
	policy=$(apt-cache policy $names 2>/dev/null)
	if ! printf '%s\n' "$policy" | grep -q "^libopencsd1:$deb:"; then
		updated=0
		apt_update
		policy=$(apt-cache policy $names 2>/dev/null)
	fi
	for p in $LIBS; do
		v=$(printf '%s\n' "$policy" | awk -v pkg="$p:$deb:" '
			$1 == pkg { found = 1; next }
			found && $1 == "Candidate:" { print $2; exit }')
		if [ -z "$v" ] || [ "$v" = "(none)" ]; then
			echo "cross/setup.sh: $p:$deb is not in the package lists (apt-get update failed?)" >&2
			exit 1
		fi
		want="$want $p:$deb=$v"
	done
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
		[ -e "$sysroot/usr/lib/$triplet/libopencsd.so" ]; then
		echo "cross/setup.sh: $arch: $sysroot is up to date"
		continue
	fi
	tmp=$(mktemp -d)
	# apt-get download writes into the current directory as user _apt.
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download $want)
	rm -rf "$sysroot"
	mkdir -p "$sysroot"
	for f in "$tmp"/*.deb; do dpkg-deb -x "$f" "$sysroot"; done
	# Links such as libexpat.so -> /lib/<triplet>/... must stay inside.
	find "$sysroot" -type l | while read -r link; do
		target=$(readlink "$link")
		case "$target" in /*) ln -sfn "$sysroot$target" "$link" ;; esac
	done
	rm -rf "$tmp"
	printf '%s' "$want" > "$stamp"
	echo "cross/setup.sh: $arch: unpacked$want into $sysroot"
	command -v "$qemu" >/dev/null || { echo "cross/setup.sh: $qemu missing after install" >&2; exit 1; }
done

# GNU gdbserver for the target, the reference the guest tests compare with
# (test_regsets.py), unpacked beside the sysroot: its own directory, so
# that a new version never re-unpacks the libraries under a running build.
# Its libraries (libstdc++...) come from the cross toolchain in the guest.
for arch in "$@"; do
	case "$arch" in
	aarch64) deb=arm64; triplet=aarch64-linux-gnu ;;
	arm)     deb=armhf; triplet=arm-linux-gnueabihf ;;
	esac
	dir=$CROSS_ROOT/$triplet-gdbserver
	v=$(apt-cache policy "gdbserver:$deb" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
	if [ -z "$v" ] || [ "$v" = "(none)" ]; then
		echo "cross/setup.sh: gdbserver:$deb is not in the package lists" >&2
		exit 1
	fi
	if [ -x "$dir/usr/bin/gdbserver" ] && [ "$(cat "$dir/.packages" 2>/dev/null)" = "gdbserver:$deb=$v" ]; then
		echo "cross/setup.sh: $arch: $dir is up to date"
		continue
	fi
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download "gdbserver:$deb=$v")
	rm -rf "$dir"
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/gdbserver_*.deb "$dir"
	rm -rf "$tmp"
	printf '%s' "gdbserver:$deb=$v" > "$dir/.packages"
	echo "cross/setup.sh: $arch: unpacked gdbserver:$deb=$v into $dir"
done
