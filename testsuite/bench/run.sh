#!/bin/bash
# `make bench`: csgdbserver against GNU gdbserver in one run, over loopback,
# server (and its inferior) pinned to one core and gdb to the other, runs
# alternating between the two servers.  Prints median times and
# ratio = gdbserver time / csgdbserver time (> 1: csgdbserver is faster).
# Then runs every other testsuite/bench/*.sh with BUILD_DIR and prints its output.
#
#   testsuite/bench/run.sh BUILD_DIR
#
# Environment: CSGDBSERVER (default BUILD_DIR/csgdbserver),
# GNU_GDBSERVER (/usr/bin/gdbserver), GDB (/usr/bin/gdb), BENCH_RUNS (7),
# BENCHES ("dump stepi bphits launch"), SERVER_CPU (0), GDB_CPU (1),
# BENCH_STEPS (2000), BENCH_HITS (1000), BENCH_TIMEOUT (300 s per gdb run),
# BENCH_EXTRA=0 skips the *.sh benches.
set -u

die() { echo "bench: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
HERE=$(cd "$(dirname "$0")" && pwd)
CSGDBSERVER=${CSGDBSERVER:-$BUILD_DIR/csgdbserver}
GNU_GDBSERVER=${GNU_GDBSERVER:-/usr/bin/gdbserver}
GDB=${GDB:-/usr/bin/gdb}
RUNS=${BENCH_RUNS:-7}
BENCHES=${BENCHES:-dump stepi bphits launch}
SERVER_CPU=${SERVER_CPU:-0}
GDB_CPU=${GDB_CPU:-1}
export BENCH_STEPS=${BENCH_STEPS:-2000} BENCH_HITS=${BENCH_HITS:-1000}
OUT=$BUILD_DIR/bench

for p in "$CSGDBSERVER" "$GNU_GDBSERVER" "$GDB"; do
	[ -x "$p" ] || die "not executable: $p (build it, or set CSGDBSERVER/GNU_GDBSERVER/GDB)"
done
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin CPUs"
[ "$RUNS" -ge 1 ] 2>/dev/null || die "BENCH_RUNS must be a positive number"

# Inferiors: -O2 so the loops are realistic; noinline keeps the breakpoint
# targets real functions.
mkdir -p "$OUT" || die "cannot create $OUT"
for src in "$HERE"/bench_memory.c "$HERE"/bench_loop.c; do
	bin=$OUT/$(basename "$src" .c)
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		${CC:-cc} -std=c17 -O2 -g -Wall -Wextra -Werror -o "$bin" "$src" || die "cannot build $src"
	fi
done

results=$OUT/results.txt
gdblog=$OUT/gdb.log
: >"$results"
: >"$gdblog"
dumpfile=$(mktemp "${TMPDIR:-/tmp}/csgdbserver-bench-dump.XXXXXX") || die "mktemp failed"
trap 'rm -f "$dumpfile"' EXIT

prog_of() {
	case $1 in
	dump) echo "$OUT/bench_memory" ;;
	*) echo "$OUT/bench_loop" ;;
	esac
}

# One measurement: KIND NAME SERVER. A failure of csgdbserver ends the
# bench; one of the reference server is reported and its figures for KIND
# left out (GNU gdbserver 13.1 hangs in stepi on CPUs with AMX: its
# register writes fail there), so the other benches still run.
ref_failed=" "
measure() {
	case "$2:$ref_failed" in gdbserver:*" $1 "*) return ;; esac
	BENCH_KIND=$1 BENCH_SERVER_NAME=$2 BENCH_SERVER=$3 BENCH_PROG=$(prog_of "$1") \
	BENCH_OUT=$results BENCH_SERVER_CPU=$SERVER_CPU BENCH_DUMP_FILE=$dumpfile \
	DEBUGINFOD_URLS='' \
		timeout "${BENCH_TIMEOUT:-300}" taskset -c "$GDB_CPU" "$GDB" -nx -batch -x "$HERE/bench.py" \
		>>"$gdblog" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 0 ] && return
	[ "$2" = gdbserver ] || die "$1 with $2 failed (exit $rc); see $gdblog"
	echo "bench: $1 with gdbserver failed (exit $rc$([ "$rc" -eq 124 ] && echo ": timed out")):" \
		"no $1 figures for it; see $gdblog"
	ref_failed="$ref_failed$1 "
}

echo "bench: csgdbserver = $CSGDBSERVER"
echo "bench: gdbserver   = $GNU_GDBSERVER"
echo "bench: gdb = $GDB; server+inferior on CPU $SERVER_CPU, gdb on CPU $GDB_CPU; $RUNS alternating runs"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
for run in $(seq "$RUNS"); do
	for kind in $BENCHES; do
		if [ $((run % 2)) -eq 1 ]; then
			measure "$kind" csgdbserver "$CSGDBSERVER"
			measure "$kind" gdbserver "$GNU_GDBSERVER"
		else
			measure "$kind" gdbserver "$GNU_GDBSERVER"
			measure "$kind" csgdbserver "$CSGDBSERVER"
		fi
	done
	echo "bench: run $run/$RUNS done ($((SECONDS - t_start)) s)"
done

# Machines shared with other work are noisy (a pure CPU loop here varies 4x
# from second to second), so besides medians the table gives minimums and the
# median of the ratios of adjacent (paired) runs, which cancels slow drift.
# The client bound: gdb and the server take turns, so if csgdbserver took no
# CPU at all the best ratio would be (gdb_cpu + server_cpu_gnu) / gdb_cpu.
echo
awk -v steps="$BENCH_STEPS" -v hits="$BENCH_HITS" '
	function sortn(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	}
	function med(a, n) { sortn(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
	function stat(key, col, what,    n, i, a) {
		n = cnt[key]
		for (i = 1; i <= n; i++) a[i] = val[key, i, col]
		if (what == "min") { sortn(a, n); return a[1] }
		return med(a, n)
	}
	function paired(b,    n, i, a, g, c) {
		g = b SUBSEP "gdbserver"; c = b SUBSEP "csgdbserver"
		n = cnt[g] < cnt[c] ? cnt[g] : cnt[c]
		for (i = 1; i <= n; i++) a[i] = val[c, i, 1] > 0 ? val[g, i, 1] / val[c, i, 1] : 0
		return med(a, n)
	}
	{
		key = $1 SUBSEP $2
		i = ++cnt[key]
		val[key, i, 1] = $3; val[key, i, 2] = $4; val[key, i, 3] = $5
		if (!($1 in seenk)) { seenk[$1] = 1; order[++nk] = $1 }
	}
	END {
		label["dump"] = "dump binary memory 16 MiB"
		label["stepi"] = "stepi x " steps
		label["bphits"] = "breakpoint hits x " hits
		label["launch"] = "launch to first stop"
		printf "%-26s %9s %9s %6s | %9s %9s %6s | %6s\n", "", "median s", "", "", "min s", "", "", "paired"
		printf "%-26s %9s %9s %6s | %9s %9s %6s | %6s\n", "bench", "gdbserver", "csgdbsrv", "ratio", "gdbserver", "csgdbsrv", "ratio", "ratio"
		for (k = 1; k <= nk; k++) {
			b = order[k]; g = b SUBSEP "gdbserver"; c = b SUBSEP "csgdbserver"
			mc = stat(c, 1, "med"); nc = stat(c, 1, "min")
			if (!cnt[g]) {
				printf "%-26s %9s %9.4f %6s | %9s %9.4f %6s | %6s\n",
					(b in label ? label[b] : b), "failed", mc, "-", "failed", nc, "-", "-"
				continue
			}
			mg = stat(g, 1, "med"); ng = stat(g, 1, "min")
			printf "%-26s %9.4f %9.4f %6.2f | %9.4f %9.4f %6.2f | %6.2f\n",
				(b in label ? label[b] : b), mg, mc, (mc > 0 ? mg / mc : 0),
				ng, nc, (nc > 0 ? ng / nc : 0), paired(b)
		}
		print ""
		printf "%-26s %19s | %19s | %7s %8s\n", "CPU seconds (medians)", "with gdbserver", "with csgdbserver", "srv cpu", "client"
		printf "%-26s %9s %9s | %9s %9s | %7s %8s\n", "bench", "gdb", "server", "gdb", "server", "gnu/cs", "ceiling"
		for (k = 1; k <= nk; k++) {
			b = order[k]; g = b SUBSEP "gdbserver"; c = b SUBSEP "csgdbserver"
			if (!cnt[g]) continue
			gg = stat(g, 2, "med"); sg = stat(g, 3, "med"); sc = stat(c, 3, "med")
			printf "%-26s %9.4f %9.4f | %9.4f %9.4f | %7.2f %8.2f\n", (b in label ? label[b] : b),
				gg, sg, stat(c, 2, "med"), sc, (sc > 0 ? sg / sc : 0), (gg > 0 ? (gg + sg) / gg : 0)
		}
		print ""
		print "ratio = gdbserver time / csgdbserver time: > 1 means csgdbserver is faster."
		print "paired ratio: median over runs of the ratio of the two back-to-back runs."
		print "CPU: user+system time of the gdb and of the server process during the timed"
		print "part (schedstat); unlike wall time it hardly grows when the machine is busy."
		print "client ceiling = (gdb + gdbserver CPU) / gdb CPU: the best ratio a server"
		print "using no CPU at all could reach while gdb itself stays as it is."
	}' "$results"
echo "load average (1/5/15 min) at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  (on $(nproc) CPUs; other work on the machine inflates and scatters the times)"
echo "raw: $results   gdb output: $gdblog   ($((SECONDS - t_start)) s)"

# Extra benches contributed later: every other *.sh here, with BUILD_DIR.
if [ "${BENCH_EXTRA:-1}" != 0 ]; then
	for extra in "$HERE"/*.sh; do
		[ "$(basename "$extra")" = run.sh ] && continue
		[ -e "$extra" ] || continue
		echo
		echo "== $(basename "$extra") =="
		CSGDBSERVER=$CSGDBSERVER GNU_GDBSERVER=$GNU_GDBSERVER GDB=$GDB \
			bash "$extra" "$BUILD_DIR"
		rc=$?
		[ "$rc" -eq 0 ] || echo "bench: $(basename "$extra") failed (exit $rc)"
	done
fi
