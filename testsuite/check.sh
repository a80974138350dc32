#!/bin/sh
# `make check`: the whole suite on a normal build, then again on an
# AddressSanitizer + UndefinedBehaviorSanitizer build. Ends with one
# "check: N passed, N failed" line summing both.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=${JOBS:-2}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
	echo "== $*"
	"$@" 2>&1 | tee -a "$log"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
# Nothing a test runs may leave files in the tree (trc_pkt_lister, say,
# writes trc_pkt_lister.ppl into its working directory): the top level is
# compared at the end.
top_before=$(ls -A "$top" | grep -v '^build')
run python3 testsuite/layout/check.py || status=1
make -s -j"$jobs" all progs || exit 1
run make -s check-unit || status=1
run make -s check-integration || status=1
[ ! -x testsuite/etm/compare-trc-pkt-lister.sh ] || run testsuite/etm/compare-trc-pkt-lister.sh build || status=1
make -s -j"$jobs" BUILD=build-asan \
	SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	all progs || exit 1
run make -s BUILD=build-asan \
	SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	check-unit || status=1
run make -s BUILD=build-asan \
	SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	check-integration || status=1
[ ! -x testsuite/etm/compare-trc-pkt-lister.sh ] || run testsuite/etm/compare-trc-pkt-lister.sh build-asan || status=1
# The server and its gdb tests on aarch64 and arm kernels under QEMU (the
# ARM-relevant part; `make check-arm` runs all). Skipped, with one line
# saying how to enable it, when qemu-system-arm etc. are not installed;
# CHECK_ARM=0 leaves it out, CHECK_ARM=full runs the whole suite.
case "${CHECK_ARM:-subset}" in
0) echo "check: ARM guest tests left out (CHECK_ARM=0)" ;;
full) run testsuite/qemu/check.sh --if-available || status=1 ;;
*) run testsuite/qemu/check.sh --subset --if-available || status=1 ;;
esac
# The x86_64 server on CPUs unlike this one: QEMU's TCG CPU models without
# AVX-512 (max: AVX2, MPX, PKRU; Haswell-v4: AVX2 alone) and without XSAVE
# (qemu64), the CPU-dependent subset in each (~20 s per model; `make
# check-x86-cpus` runs the whole suite in each). CHECK_X86_CPUS=0 leaves it
# out, =full runs all of it; QEMU_X86_CPUS chooses the models.
case "${CHECK_X86_CPUS:-subset}" in
0) echo "check: x86_64 CPU-model guest tests left out (CHECK_X86_CPUS=0)" ;;
full) run testsuite/qemu/check.sh --if-available x86_64 || status=1 ;;
*) run testsuite/qemu/check.sh --subset --if-available x86_64 || status=1 ;;
esac

left=$(ls -A "$top" | grep -v '^build' | grep -vxF "$top_before")
if [ -n "$left" ]; then
	echo "tree: 0 passed, 1 failed (left in $top by the run: $(echo $left))" | tee -a "$log"
	status=1
else
	echo "tree: 1 passed, 0 failed (nothing left at the top of the tree)" | tee -a "$log"
fi

# Sum every "NAME: N passed, N failed" line the suites printed.
pass=0 fail=0 skip=0
for line in $(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | sed -E 's/^[a-z0-9_-]+: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1:\2:\4/'); do
	p=${line%%:*}; rest=${line#*:}; f=${rest%%:*}; s=${rest#*:}
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + ${s:-0}))
done
[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$status" -eq 0 ] && [ "$fail" -eq 0 ]
