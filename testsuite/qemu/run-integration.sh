#!/bin/sh
# The integration suite (testsuite/integration) with the server and the
# test programs in a QEMU guest of ARCH, gdb-multiarch on this host:
#   testsuite/qemu/run-integration.sh aarch64|arm|x86_64 [TEST_NAME_SUBSTRING...]
# Cross-builds into build-ARCH (make CC=TRIPLET-gcc; x86_64: this host's
# own build, `build`), boots one guest with build-ARCH/csgdbserver and
# build-ARCH/progs at the same paths as here, runs
# testsuite/integration/runner.py against it, stops the guest.
# Ends with "integration-ARCH: N passed, N failed, N skipped"
# (x86_64: "integration-x86_64-CPU: ...", CPU the QEMU CPU model).
# Env: QEMU_BUILD (build directory, default build-ARCH), ITEST_JOBS (default 2), QEMU_SMP (default 2), QEMU_CPU and
# QEMU_MACHINE (aarch64 default: max,pauth-impdef=on and virt,mte=on: SVE, PAC
# and MTE for test_regsets; pauth-impdef keeps PAC from slowing TCG down),
# ITEST_* as for runner.py, CSG_QEMU_CACHE. x86_64: QEMU_CPU is the point
# (default max: AVX2 and PKRU but no AVX-512 under TCG; qemu64: no XSAVE),
# QEMU_MACHINE default q35, gdb is the host's (GDB), and the host's
# /usr/bin/gdbserver goes in as ITEST_GNU_GDBSERVER (test_x86_registers).
# GNU gdbserver for the target, when testsuite/cross/setup.sh unpacked it,
# goes into the guest too, as ITEST_GNU_GDBSERVER (test_regsets compares).
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
arch=${1:-}
[ $# -gt 0 ] && shift
case "$arch" in
aarch64) triplet=aarch64-linux-gnu; qemu=qemu-system-aarch64
	 cpu=${QEMU_CPU-max,pauth-impdef=on}; machine=${QEMU_MACHINE-virt,mte=on} ;;
arm)     triplet=arm-linux-gnueabihf; qemu=qemu-system-arm
	 cpu=${QEMU_CPU-}; machine=${QEMU_MACHINE-} ;;
x86_64)  triplet=x86_64-linux-gnu; qemu=qemu-system-x86_64
	 cpu=${QEMU_CPU:-max}; machine=${QEMU_MACHINE-} ;;
*) echo "usage: testsuite/qemu/run-integration.sh aarch64|arm|x86_64 [TEST...]" >&2; exit 2 ;;
esac
name=integration-$arch
cc=$triplet-gcc gdb=${GDB:-gdb-multiarch} build=${QEMU_BUILD:-build-$arch}
gnu=${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet-gdbserver/usr/bin/gdbserver
# the units that ask the real kernel and CPU
units=test_arch_ptrace
if [ "$arch" = x86_64 ]; then
	# the host's own compiler, build, gdb and gdbserver; one summary line
	# per CPU model
	cc=cc gdb=${GDB:-gdb} build=${QEMU_BUILD:-build} gnu=/usr/bin/gdbserver
	units="test_arch_ptrace test_arch_tdesc test_arch_ops"
	name=$name-$(printf '%s' "$cpu" | tr 'A-Z,=+' 'a-z---')
fi

missing=""
for tool in "$qemu" "$cc" "$gdb" cpio python3; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
[ "$arch" = x86_64 ] ||
	[ -e "${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet/usr/lib/$triplet/libopencsd.so" ] ||
	missing="$missing ${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet"
[ "$arch" != x86_64 ] || [ -x "$gnu" ] || missing="$missing $gnu"
if [ -n "$missing" ]; then
	echo "$name: missing$missing: run testsuite/qemu/setup.sh $arch (as root; installs $qemu, gdb, cpio$([ "$arch" = x86_64 ] && echo ", gdbserver" || echo ", gcc-$triplet and the $triplet -dev libraries"))"
	echo "$name: 0 passed, 1 failed"
	exit 1
fi

unitbins=$(for u in $units; do printf '%s ' "$build/unit/$u"; done)
t0=$(date +%s.%N)
# test_arch_ptrace: the arch layer's ptrace calls, which qemu-user cannot run
# shellcheck disable=SC2086
if ! make -s -j2 CC="$cc" BUILD="$build" all progs $unitbins >/dev/null; then
	echo "$name: build failed (make CC=$cc BUILD=$build all progs $unitbins)"
	echo "$name: 0 passed, 1 failed"
	exit 1
fi
if [ "$arch" = arm ]; then
	# the armhf compiler emits Thumb-2 by default: one A32 copy as well
	for mode in arm thumb; do
		out=$build/progs/basic-$mode
		[ "$out" -nt testsuite/progs/basic.c ] ||
			$cc -m$mode -std=gnu17 -g -O0 -Wall -Wextra -Werror -o "$out" testsuite/progs/basic.c || exit 1
	done
fi
t1=$(date +%s.%N)

[ -x "$gnu" ] || gnu=""
# shellcheck disable=SC2086
env=$(testsuite/qemu/boot.sh "$arch" --smp "${QEMU_SMP:-2}" ${cpu:+--cpu "$cpu"} ${machine:+--machine "$machine"} \
	--files "$build/csgdbserver" "$build/progs" $unitbins $gnu) || {
	echo "$name: guest did not boot (see above)"
	echo "$name: 0 passed, 1 failed"
	exit 1
}
eval "$env"
trap 'testsuite/qemu/boot.sh --stop "$GUEST_DIR"' EXIT INT TERM
t2=$(date +%s.%N)
echo "$name: guest up in ${BOOT_SECONDS}s (build $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s, initramfs+boot $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.1f", b-a}')s); console: $GUEST_DIR/console.log"
# the CPU the tests see: model, flags, x86's XCR0 (kernel's xstate line)
if [ "$arch" = x86_64 ]; then
	sed -n 's/^.*CSG-INIT: \(cpu\|x86\/fpu\)/\1/p' "$GUEST_DIR/console.log" | sed "s/^/$name: /"
	flags=$(sed -n 's/^.*CSG-INIT: flags //p' "$GUEST_DIR/console.log")
	echo "$name: flags: $(for f in xsave xsaveopt xsavec xsaves avx avx2 avx512f pku ospke amx_tile; do
		case " $flags " in *" $f "*) printf '%s ' "$f" ;; *) printf -- '-%s ' "$f" ;; esac
	done)"
fi

# Replay of recorded ETM captures needs no ptrace and no ARM CPU: those
# tests read the shared data (../shared beside the tree) on this host and
# run the host's cstrace.
# (test_btrace_software records live, by ptrace: it runs in the guest.)
replay_reason="recorded-trace replay is architecture-independent and runs on the host (make check): it compares with a host cstrace"
host_only="test_btrace_rsp=$replay_reason;test_btrace_window=$replay_reason;test_btrace_replay_gdb=$replay_reason"
# the unit tests that need a real kernel (and CPU), first
for u in $units; do
	printf '%s\n' "== $build/unit/$u (in the guest)"
	python3 testsuite/qemu/guest.py -a "127.0.0.1:$AGENT_PORT" exec -- "$top/$build/unit/$u" 2>&1 |
		sed "s/^$u:/guest-unit-${name#integration-}:/"
done
rcfile=$(mktemp)
{ ITEST_GUEST=127.0.0.1:$AGENT_PORT ITEST_GUEST_PORTS=$PORTS GDB=$gdb ITEST_GNU_GDBSERVER=$gnu \
	ITEST_JOBS=${ITEST_JOBS:-2} ITEST_SKIP=${ITEST_SKIP-$host_only} \
	python3 testsuite/integration/runner.py "$build" "$@"; echo $? > "$rcfile"; } |
	sed -u "s/^integration: \([0-9]* passed\)/$name: \1/"
rc=$(cat "$rcfile")
rm -f "$rcfile"
if grep -q "Kernel panic\|Oops\|BUG:" "$GUEST_DIR/console.log"; then
	echo "$name: the guest kernel complained:"
	grep -A5 "Kernel panic\|Oops\|BUG:" "$GUEST_DIR/console.log" | head -20
	echo "$name: 0 passed, 1 failed"
	rc=1
fi
exit "$rc"
