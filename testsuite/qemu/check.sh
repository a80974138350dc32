#!/bin/sh
# The integration suite in aarch64 and arm QEMU guests (`make check-arm`),
# or its ARM-relevant part (--subset: what `make check` runs, see
# testsuite/check.sh). --if-available: when the host lacks the tools, say
# so in one line and succeed instead of failing.
#   testsuite/qemu/check.sh [--subset] [--if-available] [aarch64] [arm]
set -u
cd "$(dirname "$0")/../.." || exit 1
subset="" optional=0 arches=""
for a in "$@"; do
	case "$a" in
	# registers, breakpoints (A64/A32/T32), stepping (hardware and
	# software), watchpoints, threads, signals, syscalls, fork, attach,
	# shared libraries, Eclipse's MI reverse debugging, --allow/--no-run,
	# cstrace capture of the emulated ETMv4's live trace: what differs per
	# architecture or over the network
	--subset) subset="test_arm. test_btrace_arm. test_exec_control. test_watchpoints. test_threads. test_signals.py.test_signal_stop test_sigsegv_siginfo test_state. test_shlib_breakpoints test_follow_fork_child test_ctrl_c_in_syscall test_attach_then_detach test_mi_cdt. test_security. test_capture_live_coresight test_record_across_thread_creation test_catch_syscall_while_recording" ;;
	--if-available) optional=1 ;;
	aarch64|arm) arches="$arches $a" ;;
	*) echo "usage: testsuite/qemu/check.sh [--subset] [--if-available] [aarch64] [arm]" >&2; exit 2 ;;
	esac
done
[ -n "$arches" ] || arches="aarch64 arm"

missing=""
for arch in $arches; do
	case $arch in
	aarch64) tools="qemu-system-aarch64 aarch64-linux-gnu-gcc"; triplet=aarch64-linux-gnu ;;
	arm) tools="qemu-system-arm arm-linux-gnueabihf-gcc"; triplet=arm-linux-gnueabihf ;;
	esac
	lib=${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet/usr/lib/$triplet/libopencsd.so
	for t in $tools gdb-multiarch cpio; do
		command -v "$t" >/dev/null || case " $missing " in *" $t "*) ;; *) missing="$missing $t" ;; esac
	done
	[ -e "$lib" ] || missing="$missing $lib"
done
if [ -n "$missing" ]; then
	msg="ARM guest tests skipped: missing$missing; to enable: sudo testsuite/qemu/setup.sh"
	if [ $optional -eq 1 ]; then
		echo "qemu: $msg"
		exit 0
	fi
	echo "qemu: $msg" >&2
	exit 1
fi

status=0
for arch in $arches; do
	t0=$(date +%s)
	# shellcheck disable=SC2086
	testsuite/qemu/run-integration.sh "$arch" $subset || status=1
	echo "qemu: $arch${subset:+ (subset)} took $(($(date +%s) - t0))s"
done
exit $status
