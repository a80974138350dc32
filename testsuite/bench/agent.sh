#!/bin/bash
# Agent bench (issue 15), run by `make bench` after the main table: a
# conditional breakpoint hit 10 000 times and true once, and a dprintf run
# 10 000 times, with the condition / printf evaluated on the target (gdb's
# agent expressions: csgdbserver and GNU gdbserver) and by gdb itself
# (`set breakpoint condition-evaluation host`, `dprintf-style gdb`: a stop
# reply and a resume per hit), over loopback, server on one core and gdb on
# the other. Prints medians and ratios.
#
#   testsuite/bench/agent.sh BUILD_DIR
#
# Environment: CSGDBSERVER, GNU_GDBSERVER, GDB (as run.sh), AGENT_RUNS (3),
# AGENT_HITS (10000), AGENT_TIMEOUT (90 s per gdb run), SERVER_CPU (0),
# GDB_CPU (1). A GNU gdbserver run that fails or times out is reported and
# that column left out (gdbserver 13.1 hangs now and then on this machine's
# AMX CPU, where its register writes fail: each breakpoint hit writes the PC).
set -u
die() { echo "agent bench: $*" >&2; exit 2; }
[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1"
HERE=$(cd "$(dirname "$0")" && pwd)
CSGDBSERVER=${CSGDBSERVER:-$BUILD_DIR/csgdbserver}
GNU_GDBSERVER=${GNU_GDBSERVER:-/usr/bin/gdbserver}
GDB=${GDB:-/usr/bin/gdb}
RUNS=${AGENT_RUNS:-3}
export AGENT_HITS=${AGENT_HITS:-10000}
for p in "$CSGDBSERVER" "$GNU_GDBSERVER" "$GDB"; do
	[ -x "$p" ] || die "not executable: $p"
done
OUT=$BUILD_DIR/bench
mkdir -p "$OUT" || die "cannot create $OUT"
prog=$OUT/bench_cond
if [ ! -x "$prog" ] || [ "$HERE/bench_cond.c" -nt "$prog" ]; then
	${CC:-cc} -std=c17 -O2 -g -Wall -Wextra -Werror -o "$prog" "$HERE/bench_cond.c" ||
		die "cannot build bench_cond.c"
fi
results=$OUT/agent-results.txt
log=$OUT/agent-gdb.log
: >"$results"
: >"$log"
failed=" "
# measure KIND EVAL NAME SERVER
measure() {
	case "$failed" in *" $1-$2-$3 "*) return ;; esac
	AGENT_KIND=$1 AGENT_EVAL=$2 BENCH_SERVER_NAME=$3 BENCH_SERVER=$4 BENCH_PROG=$prog \
	BENCH_OUT=$results BENCH_SERVER_CPU=${SERVER_CPU:-0} DEBUGINFOD_URLS='' \
		timeout "${AGENT_TIMEOUT:-90}" taskset -c "${GDB_CPU:-1}" "$GDB" -nx -batch \
		-x "$HERE/agent_bench.py" >>"$log" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 0 ] && return
	[ "$3" = gdbserver ] || die "$1-$2 with $3 failed (exit $rc); see $log"
	echo "agent bench: $1-$2 with gdbserver failed (exit $rc$([ "$rc" -eq 124 ] && echo ": timed out"));" \
		"no figures for it; see $log"
	failed="$failed$1-$2-$3 "
}
for run in $(seq "$RUNS"); do
	for kind in cond dprintf; do
		for how in target host; do
			if [ $((run % 2)) -eq 1 ]; then
				measure $kind $how csgdbserver "$CSGDBSERVER"
				measure $kind $how gdbserver "$GNU_GDBSERVER"
			else
				measure $kind $how gdbserver "$GNU_GDBSERVER"
				measure $kind $how csgdbserver "$CSGDBSERVER"
			fi
		done
	done
	echo "agent bench: run $run/$RUNS done"
done
echo
awk -v hits="$AGENT_HITS" '
	function med(key,    n, i, j, t, a) {
		n = cnt[key]
		if (!n) return -1
		for (i = 1; i <= n; i++) a[i] = v[key, i]
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function cell(x) { return x < 0 ? sprintf("%9s", "failed") : sprintf("%9.3f", x) }
	function ratio(a, b) { return a < 0 || b <= 0 ? sprintf("%7s", "-") : sprintf("%7.1f", a / b) }
	{ key = $1 SUBSEP $2; v[key, ++cnt[key]] = $3 }
	END {
		label["cond"] = "cond. breakpoint, " hits " hits, true once"
		label["dprintf"] = "dprintf x " hits
		printf "%-38s %9s %9s %9s %9s | %7s %7s %7s\n", "median s", "cs/target", "gnu/targ", "cs/host", "gnu/host", "gnu/cs", "host/cs", "ghost/cs"
		for (k = 1; k <= 2; k++) {
			b = k == 1 ? "cond" : "dprintf"
			ct = med(b "-target" SUBSEP "csgdbserver"); gt = med(b "-target" SUBSEP "gdbserver")
			ch = med(b "-host" SUBSEP "csgdbserver"); gh = med(b "-host" SUBSEP "gdbserver")
			printf "%-38s %s %s %s %s | %s %s %s\n", label[b], cell(ct), cell(gt), cell(ch), cell(gh),
				ratio(gt, ct), ratio(ch, ct), ratio(gh, ct)
		}
		print ""
		print "cs/target: csgdbserver evaluating; gnu/targ: GNU gdbserver evaluating; */host: gdb"
		print "evaluating (condition-evaluation host, dprintf-style gdb) over that server."
		print "gnu/cs = gnu/targ / cs/target; host/cs = cs/host / cs/target; ghost/cs = gnu/host / cs/target"
		print "(> 1: csgdbserver evaluating on the target is that many times faster)."
	}' "$results"
echo "raw: $results   gdb output: $log"
