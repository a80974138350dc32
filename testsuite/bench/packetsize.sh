#!/bin/bash
# How the size of gdb's memory-read packets changes the 16 MiB dump time.
# gdb reads memory with `m ADDR,LEN` packets whose reply fits its memory-read
# packet size (normally the server's advertised PacketSize: 0x47ff = 18431
# for GNU gdbserver 13, so 9215 bytes per packet).  Here gdb is forced to fixed sizes with
# `set remote memory-read-packet-size N` + `fixed`.
#
# GNU gdbserver keeps replies in an 18432-byte buffer and does not check the
# length of `m`, so it is only measured up to what it advertises; a straight-line fit
# time = packets * per_packet + fixed then predicts larger sizes.
# csgdbserver is measured at the sizes it should take (CS_SIZES).
#
#   testsuite/bench/packetsize.sh BUILD_DIR       (also run by bench/run.sh)
#
# Environment: CSGDBSERVER, GNU_GDBSERVER, GDB, PACKETSIZE_RUNS (3),
# GNU_SIZES ("2048 4096 8192 default"),
# CS_SIZES ("18431 65536 default 1048576"), SERVER_CPU, GDB_CPU.
set -u

die() { echo "packetsize: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
HERE=$(cd "$(dirname "$0")" && pwd)
CSGDBSERVER=${CSGDBSERVER:-$BUILD_DIR/csgdbserver}
GNU_GDBSERVER=${GNU_GDBSERVER:-/usr/bin/gdbserver}
GDB=${GDB:-/usr/bin/gdb}
RUNS=${PACKETSIZE_RUNS:-3}
GNU_SIZES=${GNU_SIZES:-2048 4096 8192 default}
CS_SIZES=${CS_SIZES:-18431 65536 default 1048576}
SERVER_CPU=${SERVER_CPU:-0}
GDB_CPU=${GDB_CPU:-1}
OUT=$BUILD_DIR/bench
PROG=$OUT/bench_memory

[ -x "$GDB" ] || die "not executable: $GDB"
mkdir -p "$OUT" || die "cannot create $OUT"
if [ ! -x "$PROG" ] || [ "$HERE/bench_memory.c" -nt "$PROG" ]; then
	${CC:-cc} -std=c17 -O2 -g -Wall -Wextra -Werror -o "$PROG" "$HERE/bench_memory.c" ||
		die "cannot build bench_memory"
fi
results=$OUT/packetsize.txt
gdblog=$OUT/packetsize-gdb.log
: >"$results"
: >"$gdblog"
dumpfile=$(mktemp "${TMPDIR:-/tmp}/csgdbserver-bench-dump.XXXXXX") || die "mktemp failed"
trap 'rm -f "$dumpfile"' EXIT

servers=()
[ -x "$GNU_GDBSERVER" ] && servers+=("gdbserver")
if [ -x "$CSGDBSERVER" ]; then servers+=("csgdbserver")
else echo "packetsize: no $CSGDBSERVER, measuring GNU gdbserver only"; fi

# One dump: NAME SIZE; failures are recorded, not fatal (a server may refuse).
measure() {
	local name=$1 size=$2 server pre=
	[ "$name" = gdbserver ] && server=$GNU_GDBSERVER || server=$CSGDBSERVER
	[ "$size" = default ] ||
		pre="set remote memory-read-packet-size $size; set remote memory-read-packet-size fixed"
	: >"$OUT/packetsize.one"
	BENCH_KIND=dump BENCH_SERVER_NAME=$name BENCH_SERVER=$server BENCH_PROG=$PROG \
	BENCH_OUT=$OUT/packetsize.one BENCH_SERVER_CPU=$SERVER_CPU BENCH_DUMP_FILE=$dumpfile \
	BENCH_PRE=$pre DEBUGINFOD_URLS='' \
		timeout 300 taskset -c "$GDB_CPU" "$GDB" -nx -batch -x "$HERE/bench.py" \
		>>"$gdblog" 2>&1 </dev/null
	if [ -s "$OUT/packetsize.one" ]; then
		awk -v s="$size" '{ print $2, s, $3, $4, $5 }' "$OUT/packetsize.one" >>"$results"
	else
		echo "$name $size FAILED" >>"$results"
	fi
}

# What csgdbserver advertises, for the 'default' row (source, not binary).
cs_default=$(awk '$1 == "#define" && $2 == "RSP_PACKET_SIZE" { print $3 }' \
	"$HERE/../../protocol/packet.h" 2>/dev/null)
cs_default=$(printf '%d' "${cs_default:-0}" 2>/dev/null || echo 0)

t0=$SECONDS
for _ in $(seq "$RUNS"); do
	for name in "${servers[@]}"; do
		if [ "$name" = gdbserver ]; then sizes=$GNU_SIZES; else sizes=$CS_SIZES; fi
		for size in $sizes; do
			measure "$name" "$size"
		done
	done
done

awk -v csdef="$cs_default" '
	function med(key, arr,    n, i, j, t, a) {
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = arr[key, i]
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function fit(i, x, y) { n[i]++; sx[i] += x; sy[i] += y; sxx[i] += x * x; sxy[i] += x * y }
	function slope(i) { return (n[i] * sxy[i] - sx[i] * sy[i]) / (n[i] * sxx[i] - sx[i] * sx[i]) }
	function icept(i) { return (sy[i] - slope(i) * sx[i]) / n[i] }
	{
		key = $1 SUBSEP $2
		if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
		if ($3 == "FAILED") { failed[key]++; next }
		i = ++cnt[key]; v[key, i] = $3; g[key, i] = $4; s[key, i] = $5; cpu[key, i] = $4 + $5
	}
	END {
		mib = 16 * 1048576
		printf "%-12s %8s %9s %7s %9s %7s %8s %8s %6s\n", "server", "pkt size", "req bytes", "packets",
			"median s", "MiB/s", "gdb cpu", "srv cpu", "failed"
		for (k = 1; k <= nk; k++) {
			split(order[k], p, SUBSEP)
			size = (p[2] == "default") ? (p[1] == "gdbserver" ? 18431 : csdef) : p[2]
			bytes = size ? int(size / 2) : 0
			pk = bytes ? int((mib + bytes - 1) / bytes) : 0
			if (cnt[order[k]]) {
				t = med(order[k], v)
				printf "%-12s %8s %9s %7s %9.4f %7.1f %8.4f %8.4f %6d\n", p[1], p[2], bytes ? bytes : "?",
					pk ? pk : "?", t, 16 / t, med(order[k], g), med(order[k], s), failed[order[k]]
				# Straight-line fits over gdbserver sizes: y = a * packets + b.
				if (p[1] == "gdbserver") { fit(1, pk, t); fit(2, pk, med(order[k], cpu)) }
			} else
				printf "%-12s %8s %9s %7s %9s %7s %8s %8s %6d\n", p[1], p[2], bytes, pk, "-", "-", "-", "-", failed[order[k]]
		}
		if (n[1] >= 2 && n[1] * sxx[1] - sx[1] * sx[1] != 0) {
			split("18431 65536 262144 1048576", ps, " ")
			printf "\nGNU gdbserver, wall:         %7.1f us per packet + %.3f s per 16 MiB;", slope(1) * 1e6, icept(1)
			printf " predicted:"
			for (i = 1; i <= 4; i++) { pk = int((mib + int(ps[i] / 2) - 1) / int(ps[i] / 2)); printf " %s: %.3f s", ps[i], slope(1) * pk + icept(1) }
			printf "\nGNU gdbserver, gdb+srv CPU:  %7.1f us per packet + %.3f s per 16 MiB;", slope(2) * 1e6, icept(2)
			printf " predicted:"
			for (i = 1; i <= 4; i++) { pk = int((mib + int(ps[i] / 2) - 1) / int(ps[i] / 2)); printf " %s: %.3f s", ps[i], slope(2) * pk + icept(2) }
			print ""
		}
	}' "$results"
echo "(gdb: set remote memory-read-packet-size N + fixed; 'default' = what the server advertises,"
echo " for csgdbserver taken from RSP_PACKET_SIZE in protocol/packet.h;"
echo " gdb 13 reads with hex 'm' packets, so bytes/packet = size/2; $RUNS runs each; $((SECONDS - t0)) s;"
echo " raw: $results, gdb output: $gdblog)"
