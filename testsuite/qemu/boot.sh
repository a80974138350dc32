#!/bin/sh
# Boot a Debian aarch64/arm/x86_64 kernel under qemu-system-* (TCG) with an
# initramfs holding busybox, csg-agent, the given files (at the same
# absolute paths as on the host) and the shared libraries they need.
#
#   eval "$(testsuite/qemu/boot.sh aarch64 --files build-aarch64/csgdbserver \
#           --run 'build-aarch64/csgdbserver --multi 0.0.0.0:2345')"
#   gdb-multiarch -ex "target extended-remote 127.0.0.1:$PORT" ...
#   testsuite/qemu/boot.sh --stop "$GUEST_DIR"
#
# Prints shell assignments once the guest is ready (agent up and, with
# --run, the --wait pattern seen on the console):
#   QEMU_PID, GUEST_DIR (serial log console.log, qemu.pid), GUEST_ARCH,
#   AGENT_PORT (csg-agent, see guest.py), PORT (host port -> guest 2345),
#   PORTS=HOSTBASE:GUESTBASE:COUNT (host HOSTBASE+i -> guest GUESTBASE+i),
#   BOOT_SECONDS.
# Options:
#   --files PATH...    files/directories to copy in (until the next option)
#   --run CMD          shell command run after boot (its output: console.log)
#   --wait REGEX       console line to wait for (default with --run:
#                      "Listening on port")
#   --poweroff         power off when CMD ends (QEMU exits; see --foreground)
#   --foreground       stay attached: print the console, exit when QEMU does
#   --pool N           forwarded port pool size (default 32)
#   --cpu C --smp N --mem MB --timeout S   (defaults: cortex-a57 / cortex-a15
#                      / max (x86_64: AVX2, no AVX-512 under TCG), 1, 1024, 180)
#   --machine M        QEMU machine with its options (default virt, x86_64 q35;
#                      e.g. virt,mte=on with --cpu max for MTE)
#   --append ARGS      more kernel command line (e.g. loglevel=7 for timings)
# Environment: CSG_QEMU_CACHE (default ~/.cache/csgdbserver/qemu).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--stop" ]; then
	dir=${2:?usage: boot.sh --stop GUEST_DIR}
	if [ -f "$dir/qemu.pid" ]; then
		pid=$(cat "$dir/qemu.pid")
		kill "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$pid" 2>/dev/null || true
	fi
	case "$dir" in */csg-qemu.*) rm -rf "$dir" ;; esac
	exit 0
fi

arch=${1:-}
[ $# -gt 0 ] && shift
case "$arch" in
aarch64) triplet=aarch64-linux-gnu; qemu=qemu-system-aarch64; cpu=cortex-a57
	 interp=ld-linux-aarch64.so.1; machine=virt ;;
arm)     triplet=arm-linux-gnueabihf; qemu=qemu-system-arm; cpu=cortex-a15
	 interp=ld-linux-armhf.so.3; machine=virt ;;
# x86_64: this host's own compiler and libraries, always TCG (the CPU model
# is the point: one without AVX-512, or without XSAVE)
x86_64)  triplet=x86_64-linux-gnu; qemu=qemu-system-x86_64; cpu=max
	 interp=ld-linux-x86-64.so.2; machine=q35 ;;
*) echo "usage: testsuite/qemu/boot.sh aarch64|arm|x86_64 [--files PATH...] [--run CMD] ..." >&2; exit 2 ;;
esac
cc=$triplet-gcc console=ttyAMA0
[ "$arch" != x86_64 ] || { cc=cc; console=ttyS0; }
files="" run="" wait_re="" extra_append="" poweroff=0 foreground=0 pool=32 smp=1 mem=1024 timeout=180
while [ $# -gt 0 ]; do
	case "$1" in
	--files) shift
		while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
			files="$files $(realpath "$1")"; shift
		done ;;
	--run) run=$2; shift 2 ;;
	--wait) wait_re=$2; shift 2 ;;
	--poweroff) poweroff=1; shift ;;
	--foreground) foreground=1; shift ;;
	--pool) pool=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--machine) machine=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append) extra_append=$2; shift 2 ;;
	*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$run" ] && [ -z "$wait_re" ] && [ $poweroff -eq 0 ] && wait_re="Listening on port"

missing=""
for tool in "$qemu" "$cc" cpio gzip readelf python3; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
	echo "boot.sh: missing$missing; run testsuite/qemu/setup.sh (as root)" >&2
	exit 1
fi

"$here/fetch.sh" "$arch"
cache=${CSG_QEMU_CACHE:-$HOME/.cache/csgdbserver/qemu}/$arch
x=$cache/x
kver=$(ls "$x/lib/modules")

# csg-agent: static, so it runs whatever libraries the guest has
agent=$cache/csg-agent
if [ ! -x "$agent" ] || [ "$here/agent.c" -nt "$agent" ]; then
	"$cc" -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
		-o "$agent.tmp" "$here/agent.c"
	mv "$agent.tmp" "$agent"
fi

dir=$(mktemp -d /tmp/csg-qemu.XXXXXX)
r=$dir/root
mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/proc" "$r/sys" "$r/dev" \
	"$r/tmp" "$r/etc" "$r/root" "$r/modules" "$r/lib/$triplet" "$r/usr/lib/$triplet"
chmod 1777 "$r/tmp"
cp "$x/bin/busybox" "$r/bin/"
cp "$agent" "$r/usr/bin/csg-agent"
install -m 755 "$here/init" "$r/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\n' > "$r/etc/group"
echo csg-guest > "$r/etc/hostname"

# virtio-pci + virtio-net, whichever of them this kernel has as modules
# (amd64: virtio_ring and virtio too)
m=$x/lib/modules/$kver/kernel
: > "$r/modules/order"
for mod in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci net/core/failover drivers/net/net_failover \
	drivers/net/virtio_net; do
	[ -e "$m/$mod.ko" ] || continue
	cp "$m/$mod.ko" "$r/modules/"
	basename "$mod" >> "$r/modules/order"
done

for f in $files; do
	mkdir -p "$r$(dirname "$f")"
	cp -a "$f" "$r$f"
done

# Shared libraries: the closure of what the ELF files need, from the cross
# toolchain's glibc (/usr/TRIPLET/lib) and testsuite/cross/setup.sh's
# unpacked -dev packages; plus libm (dlopen'ed by progs/shlib) and
# libcapstone (dlopen'ed by the server's software branch recorder).
libdirs="/usr/$triplet/lib ${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet/usr/lib/$triplet ${CROSS_ROOT:-/opt/csgdbserver-cross}/$triplet/lib/$triplet"
# x86_64: the host's own (merged /usr: /lib is /usr/lib)
[ "$arch" != x86_64 ] || libdirs="/lib/$triplet"
copied=" "
add_lib() {
	case "$copied" in *" $1 "*) return 0 ;; esac
	for d in $libdirs; do
		[ -e "$d/$1" ] || continue
		case "$d" in
		"/usr/$triplet/lib"|"/lib/$triplet") dest=$r/lib/$triplet ;;
		*) dest=$r/usr/lib/$triplet ;;
		esac
		cp -L "$d/$1" "$dest/$1"
		copied="$copied$1 "
		for n in $(needed "$d/$1"); do add_lib "$n"; done
		return 0
	done
	echo "boot.sh: warning: library $1 not found in $libdirs" >&2
}
needed() {
	readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
}
elfs=""
[ -z "$files" ] || elfs=$(find $files -type f | while read -r f; do
	[ "$(head -c 4 "$f" | tail -c 3)" != ELF ] || echo "$f"; done)
for f in $elfs; do
	for n in $(needed "$f"); do add_lib "$n"; done
done
for l in libm.so.6 libc.so.6 libcapstone.so.4 "$interp"; do add_lib "$l"; done
ln -sf "$triplet/$interp" "$r/lib/$interp"
# x86_64's PT_INTERP is /lib64/ld-linux-x86-64.so.2
[ "$arch" != x86_64 ] || { mkdir -p "$r/lib64"; ln -sf "../lib/$triplet/$interp" "$r/lib64/$interp"; }

if [ -n "$run" ]; then
	printf '%s\n' "$run" > "$r/csg-run"
	[ $poweroff -eq 0 ] || : > "$r/csg-poweroff"
fi
(cd "$r" && find . | cpio -o -H newc --quiet) | gzip -1 > "$dir/initrd.gz"
rm -rf "$r"

kernel=$x/boot/vmlinuz-$kver
append="console=$console rdinit=/init panic=-1 quiet${extra_append:+ $extra_append}"
log=$dir/console.log
start=$(date +%s.%N)
tries=0
while :; do
	# random host ports: agent, 2345, then the pool
	base=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 38000))
	agent_port=$base
	port=$((base + 1))
	poolbase=$((base + 2))
	fwd="hostfwd=tcp:127.0.0.1:$agent_port-:1234,hostfwd=tcp:127.0.0.1:$port-:2345"
	i=0
	while [ $i -lt "$pool" ]; do
		fwd="$fwd,hostfwd=tcp:127.0.0.1:$((poolbase + i))-:$((10000 + i))"
		i=$((i + 1))
	done
	: > "$log"
	set -- "$qemu" -M "$machine" -cpu "$cpu" -smp "$smp" -m "$mem" -nographic \
		-no-reboot -kernel "$kernel" -initrd "$dir/initrd.gz" -append "$append" \
		-netdev "user,id=n0,$fwd" -device virtio-net-pci,netdev=n0,romfile= \
		-pidfile "$dir/qemu.pid"
	# never KVM: the CPU model, not this host's CPU, is what is tested
	[ "$arch" != x86_64 ] || set -- "$@" -accel tcg
	if [ $foreground -eq 1 ]; then
		echo "boot.sh: $*" >&2
		exec "$@" </dev/null
	fi
	setsid "$@" </dev/null >"$log" 2>&1 &
	qpid=$!
	echo "$qpid" > "$dir/qemu.pid"
	sleep 0.3
	if kill -0 "$qpid" 2>/dev/null; then break; fi
	tries=$((tries + 1))
	if ! grep -q "Could not set up host forwarding" "$log" || [ $tries -ge 5 ]; then
		echo "boot.sh: $qemu did not start:" >&2
		cat "$log" >&2
		rm -rf "$dir"
		exit 1
	fi
done

# Ready = the agent listens, then (with --run) the wait pattern appears.
# Watching the console is the only reliable test: QEMU accepts forwarded
# connections before anything in the guest listens.
deadline=$(($(date +%s) + timeout))
ready() {
	grep -q "csg-agent: listening" "$log" || return 1
	[ -z "$wait_re" ] || grep -Eq "$wait_re" "$log" || return 1
	return 0
}
while ! ready; do
	if ! kill -0 "$qpid" 2>/dev/null; then
		if [ $poweroff -eq 1 ] && grep -q "CSG-RUN-EXIT=" "$log"; then break; fi
		echo "boot.sh: guest died during boot; console:" >&2
		tail -40 "$log" >&2
		rm -rf "$dir"
		exit 1
	fi
	if [ "$(date +%s)" -ge "$deadline" ]; then
		echo "boot.sh: guest not ready after ${timeout}s (waiting for agent${wait_re:+ and /$wait_re/}); console:" >&2
		tail -40 "$log" >&2
		kill "$qpid" 2>/dev/null || true
		rm -rf "$dir"
		exit 1
	fi
	sleep 0.05
done
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
if [ $poweroff -eq 1 ]; then
	wait "$qpid" || true
	cat "$log"
	rc=$(sed -n 's/.*CSG-RUN-EXIT=\([0-9]*\).*/\1/p' "$log" | tail -1)
	rm -rf "$dir"
	exit "${rc:-1}"
fi
cat <<EOF
QEMU_PID=$qpid
GUEST_DIR=$dir
GUEST_ARCH=$arch
AGENT_PORT=$agent_port
PORT=$port
PORTS=$poolbase:10000:$pool
BOOT_SECONDS=$secs
EOF
