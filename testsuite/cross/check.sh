#!/bin/sh
# Cross-build for ARCH (aarch64 or arm) into build-ARCH and run the unit
# tests under qemu-user; then check with gdb-multiarch that gdb reads the
# target description into the register numbers and 'g' offsets the arch
# table has.
#   testsuite/cross/check.sh ARCH [arch]
# With "arch", only the arch layer and its tests (test_arch_*) are built:
# for when other layers are mid-edit. Run testsuite/cross/setup.sh first.
set -eu

cd "$(dirname "$0")/../.."
arch=${1:-}
scope=${2:-all}
case "$arch" in
aarch64) triplet=aarch64-linux-gnu; qemu=qemu-aarch64 ;;
arm)     triplet=arm-linux-gnueabihf; qemu=qemu-arm ;;
*) echo "usage: testsuite/cross/check.sh aarch64|arm [arch]" >&2; exit 2 ;;
esac

CROSS_ROOT=${CROSS_ROOT:-/opt/csgdbserver-cross}
sysroot=$CROSS_ROOT/$triplet
missing=""
for tool in "$triplet-gcc" "$qemu" gdb-multiarch; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
[ -e "$sysroot/usr/lib/$triplet/libopencsd.so" ] || missing="$missing $sysroot"
if [ -n "$missing" ]; then
	echo "cross/check.sh: missing$missing; run testsuite/cross/setup.sh $arch (as root)" >&2
	exit 1
fi

build=build-$arch
CC=$triplet-gcc
# qemu-user loads the target's libc from -L and the unpacked libraries
# through LD_LIBRARY_PATH, which -E sets for the guest only.
UNIT_RUNNER="$qemu -L /usr/$triplet -E LD_LIBRARY_PATH=$sysroot/usr/lib/$triplet:$sysroot/lib/$triplet"
export UNIT_RUNNER

if [ "$scope" = arch ]; then
	tests=$(ls testsuite/unit/test_arch_*.c | sed "s|testsuite/unit/\(.*\)\.c|$build/unit/\1|")
	make -j2 CC="$CC" BUILD="$build" "$build/libarch.a" $tests
	testsuite/run-unit.sh $tests
else
	make -j2 CC="$CC" BUILD="$build" all
	make -j2 CC="$CC" BUILD="$build" check-unit
fi

# gdb's view of the description: its "Rmt Nr" and "g/G Offset" per register
# must be our table's number and offset.
dir=$build/tdesc
mkdir -p "$dir"
$CC -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. -o "$dir/tdesc-dump" \
	testsuite/cross/tdesc-dump.c "$build/libarch.a"
$UNIT_RUNNER "$dir/tdesc-dump" "$dir" | sort > "$dir/ours.rows"
gdb-multiarch -nx -batch -ex "set tdesc filename $dir/target.xml" \
	-ex 'maint print remote-registers' > "$dir/gdb.out" 2>&1
awk 'NR > 1 && $NF ~ /^[0-9]+$/ && $(NF-1) ~ /^[0-9]+$/ { print $1, $(NF-1), $NF, $5 }' \
	"$dir/gdb.out" | sort > "$dir/gdb.rows"
if [ -s "$dir/ours.rows" ] && diff -u "$dir/gdb.rows" "$dir/ours.rows"; then
	echo "  gdb-multiarch numbers and places all $(wc -l < "$dir/ours.rows") registers as the table does"
	echo "gdb-tdesc: 1 passed, 0 failed"
else
	echo "  gdb-multiarch reads the description differently (see $dir/gdb.out)"
	echo "gdb-tdesc: 0 passed, 1 failed"
	exit 1
fi
