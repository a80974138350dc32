#!/bin/sh
# `make check-fresh`: the README's two commands on a fresh, minimal Debian 12.
# A debootstrap --variant=minbase root (built once, cached as a tarball) is
# unpacked anew each run; the committed HEAD is cloned into it at
# /home/user/src/csg/tree with the shared data read-only at ../shared beside
# it; then, in a chroot, `sh .ci/setup && make demo` and
# `sh .ci/setup && make check`. Ends with the inner `check: ...` line and
# exits with the inner status.
#   testsuite/fresh/check.sh            (as root)
#   testsuite/fresh/check.sh 'sh .ci/setup && FUZZ_SECONDS=5 make fuzz'
#       runs that in the tree instead, and exits with its status
# Env: CSG_FRESH_CACHE (default ~/.cache/csgdbserver/fresh-root: the root
# tarball), CSG_FRESH_WORK (default /var/tmp/csg-fresh: the unpacked root,
# kept after a failure for a look inside, removed after a pass),
# CSG_FRESH_MIRROR (default: the host's first Debian bookworm source),
# CSG_SHARED (default ../shared beside this tree), CSG_FRESH_REBUILD=1
# (debootstrap again), and what the inner `make check` reads (CHECK_ARM...,
# passed on when set).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
say() { echo "check-fresh: $*"; }
fail() { say "$*"; echo "check: 0 passed, 1 failed, 0 skipped"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, mount)"
cache=${CSG_FRESH_CACHE:-$HOME/.cache/csgdbserver/fresh-root}
work=${CSG_FRESH_WORK:-/var/tmp/csg-fresh}
shared=${CSG_SHARED:-$(dirname "$top")/shared}
[ -d "$shared/testdata" ] || fail "no shared test data at $shared/testdata (set CSG_SHARED)"
shared=$(cd "$shared" && pwd)
head=$(git -C "$top" rev-parse --verify HEAD) || fail "$top is not a git tree"
[ -z "$(git -C "$top" status --porcelain --untracked-files=no)" ] ||
	say "note: uncommitted changes in $top are not tested (HEAD ${head%"${head#????????????}"} is)"
tarball=$cache/bookworm-minbase.tar
t0=$(date +%s)

# --- the cached minimal root ------------------------------------------------
if [ ! -s "$tarball" ] || [ "${CSG_FRESH_REBUILD:-0}" = 1 ]; then
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap"   # and the keys it checks the archive with (only recommended)
		apt-get update -qq || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap debian-archive-keyring >/dev/null ||
			fail "apt-get install debootstrap failed"
	fi
	mirror=${CSG_FRESH_MIRROR:-}
	if [ -z "$mirror" ]; then
		# The host's Debian mirror: deb822 sources first, then one-line ones.
		mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
			/^URIs:/ { uri = $2 } /^Suites:/ && / bookworm( |$)/ && uri { print uri; exit }
			/^$/ { uri = "" }')
		[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
		mirror=${mirror:-http://deb.debian.org/debian}
	fi
	mkdir -p "$cache"
	build=$cache/root.tmp
	rm -rf "$build"
	say "debootstrap --variant=minbase bookworm from $mirror (once; cached in $tarball)"
	debootstrap --variant=minbase bookworm "$build" "$mirror" > "$cache/debootstrap.log" 2>&1 || {
		tail -20 "$cache/debootstrap.log"; rm -rf "$build"; fail "debootstrap failed (log $cache/debootstrap.log)"; }
	rm -rf "$build"/var/cache/apt/archives/*.deb
	tar -C "$build" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" || fail "cannot write $tarball"
	rm -rf "$build"
fi

# --- a fresh copy of it -----------------------------------------------------
root=$work/root
mounted=""
cleanup() {
	# whatever is still running in the root (servers, QEMU guests) goes first
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	for m in $mounted; do   # innermost first
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "cannot unmount $m"
	done
	mounted=""
}
trap cleanup EXIT
remove_work() {  # never through a mount point (/dev is bound in there)
	if grep -q " $work/" /proc/mounts; then
		fail "$work still has mounts (another run going on?); not removing it"
	fi
	rm -rf "$work"
}
trap 'say interrupted; exit 130' INT TERM HUP
remove_work   # a root kept by an earlier run
mkdir -p "$root"
tar -C "$root" -xf "$tarball" || fail "cannot unpack $tarball"

# apt as on the host (mirror, its settings and keys), but like a minimal
# install: recommended packages are not installed, so setup names them.
rm -rf "$root/etc/apt"
cp -a /etc/apt "$root/etc/apt"
echo 'APT::Install-Recommends "false";' > "$root/etc/apt/apt.conf.d/99csg-fresh-no-recommends"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# debootstrap writes no /etc/hosts; the installer (netcfg) and cloud images
# do, and `target remote :PORT` resolves localhost through it.
[ -e "$root/etc/hosts" ] || printf '%s\n' '127.0.0.1	localhost' \
	'::1		localhost ip6-localhost ip6-loopback' > "$root/etc/hosts"

src=/home/user/src/csg
git clone -q --no-hardlinks "$top" "$root$src/tree" &&
	git -C "$root$src/tree" checkout -q --detach "$head" || fail "cannot clone $top"
mkdir -p "$root$src/shared"

mnt() {  # mount ARGS... DIR, remembered for cleanup (innermost first)
	for dir; do :; done
	mount "$@" || fail "mount $* failed"
	mounted="$dir $mounted"
}
mnt -t proc proc "$root/proc"
mnt --bind /sys "$root/sys"
mnt --bind /dev "$root/dev"
mnt --bind /dev/pts "$root/dev/pts"
mnt -t tmpfs tmpfs "$root/dev/shm"
mnt --bind "$shared" "$root$src/shared"
mount -o remount,bind,ro "$root$src/shared" || fail "cannot make $root$src/shared read-only"

inner() {  # a clean environment, as a login on the fresh machine would have
	# in the background: the shell runs the INT/TERM trap (and cleanup) in
	# `wait`, not only after the command has finished. A background command
	# starts with SIGINT and SIGQUIT ignored, which the tests' programs
	# would inherit: env sets them back to the default.
	chroot "$root" /usr/bin/env -i --default-signal=INT,QUIT HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${CHECK_ARM:+CHECK_ARM=$CHECK_ARM} ${JOBS:+JOBS=$JOBS} \
		/bin/sh -c "cd $src/tree && $1" &
	wait $!
}
t1=$(date +%s)
say "root ready in $((t1 - t0))s; HEAD $head at $src/tree"
if [ $# -gt 0 ]; then
	say "== $*"
	inner "$*"
	rc=$?
	say "exit $rc after $(($(date +%s) - t1))s"
	cleanup
	if [ "$rc" -eq 0 ]; then remove_work; else say "root kept in $root"; fi
	exit "$rc"
fi
say "== sh .ci/setup && make demo"
inner 'sh .ci/setup && make demo'
rc=$?
t2=$(date +%s)
say "demo: exit $rc after $((t2 - t1))s"
if [ "$rc" -ne 0 ]; then
	cleanup
	say "root kept in $root"
	echo "check: 0 passed, 1 failed, 0 skipped"
	exit "$rc"
fi
say "== sh .ci/setup && make check"
log=$work/check.log
{ inner 'sh .ci/setup && make check'; echo $? > "$work/rc"; } 2>&1 | tee "$log" &
wait $!
rc=$(cat "$work/rc" 2>/dev/null || echo 1)
t3=$(date +%s)
say "check: exit $rc after $((t3 - t2))s; all in $((t3 - t0))s"
last=$(grep '^check: [0-9]* passed' "$log" | tail -n 1)
cleanup
if [ "$rc" -eq 0 ]; then
	remove_work
else
	say "root kept in $root (logs under $src/tree/build*/integration-logs)"
fi
echo "${last:-check: 0 passed, 1 failed, 0 skipped (no summary line from make check)}"
exit "$rc"
