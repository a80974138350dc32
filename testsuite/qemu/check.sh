#!/bin/sh
# The integration suite in aarch64 and arm QEMU guests (`make check-arm`),
# or in x86_64 guests once per CPU model (`make check-x86-cpus`: QEMU_X86_CPUS,
# default "max Haswell-v4 qemu64": AVX2+MPX+PKRU, AVX2 alone, no XSAVE at
# all; none has AVX-512 under TCG), or the part of it that differs per
# architecture / CPU (--subset: what `make check` runs, see
# testsuite/check.sh). --if-available: when the host lacks the tools, say
# so in one line and succeed instead of failing.
#   testsuite/qemu/check.sh [--subset] [--if-available] [aarch64] [arm] [x86_64]
# (no architecture: aarch64 and arm)
set -u
cd "$(dirname "$0")/../.." || exit 1
subset="" arm_subset="" x86_subset="" optional=0 arches=""
for a in "$@"; do
	case "$a" in
	# registers, breakpoints (A64/A32/T32), stepping (hardware and
	# software), watchpoints, threads, signals, syscalls, fork, attach,
	# shared libraries, Eclipse's MI reverse debugging, --allow/--no-run,
	# cstrace capture of the emulated ETMv4's live trace: what differs per
	# architecture or over the network
	--subset) subset=1
		arm_subset="test_arm. test_btrace_arm. test_exec_control. test_watchpoints. test_threads. test_signals.py.test_signal_stop test_sigsegv_siginfo test_state. test_shlib_breakpoints test_follow_fork_child test_ctrl_c_in_syscall test_attach_then_detach test_mi_cdt. test_security. test_capture_live_coresight test_record_across_thread_creation test_catch_syscall_while_recording"
		# what depends on the CPU's register file: registers against GNU
		# gdbserver, g/G/p/P, stepping, debug registers (plus, run first,
		# test_arch_ptrace/tdesc/ops in the guest)
		x86_subset="test_x86_registers. test_state. test_raw_packets. test_exec_control. test_watchpoints." ;;
	--if-available) optional=1 ;;
	aarch64|arm|x86_64) arches="$arches $a" ;;
	*) echo "usage: testsuite/qemu/check.sh [--subset] [--if-available] [aarch64] [arm] [x86_64]" >&2; exit 2 ;;
	esac
done
[ -n "$arches" ] || arches="aarch64 arm"

missing=""
for arch in $arches; do
	lib=""
	case $arch in
	aarch64) tools="qemu-system-aarch64 aarch64-linux-gnu-gcc gdb-multiarch"; triplet=aarch64-linux-gnu ;;
	arm) tools="qemu-system-arm arm-linux-gnueabihf-gcc gdb-multiarch"; triplet=arm-linux-gnueabihf ;;
	x86_64) tools="qemu-system-x86_64 gdb /usr/bin/gdbserver" ;;
	esac
	[ "$arch" = x86_64 ] ||
		lib=${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet/usr/lib/$triplet/libopencsd.so
	for t in $tools cpio; do
		command -v "$t" >/dev/null || case " $missing " in *" $t "*) ;; *) missing="$missing $t" ;; esac
	done
	[ -z "$lib" ] || [ -e "$lib" ] || missing="$missing $lib"
done
if [ -n "$missing" ]; then
	what="ARM guest tests"
	case "$arches" in *x86_64*) what="x86_64 CPU-model guest tests" ;; esac
	msg="$what skipped: missing$missing; to enable: sudo testsuite/qemu/setup.sh"
	if [ $optional -eq 1 ]; then
		echo "qemu: $msg"
		exit 0
	fi
	echo "qemu: $msg" >&2
	exit 1
fi

status=0
for arch in $arches; do
	tests=""
	[ -z "$subset" ] || tests=$arm_subset
	cpus=-
	if [ "$arch" = x86_64 ]; then
		[ -z "$subset" ] || tests=$x86_subset
		cpus=${QEMU_X86_CPUS:-max Haswell-v4 qemu64}
	fi
	for cpu in $cpus; do
		t0=$(date +%s)
		if [ "$cpu" = - ]; then
			# shellcheck disable=SC2086
			testsuite/qemu/run-integration.sh "$arch" $tests || status=1
		else
			# shellcheck disable=SC2086
			QEMU_CPU=$cpu testsuite/qemu/run-integration.sh "$arch" $tests || status=1
		fi
		echo "qemu: $arch${subset:+ (subset)}$([ "$cpu" = - ] || echo " -cpu $cpu") took $(($(date +%s) - t0))s"
	done
done
exit $status
