#!/bin/bash
# Software branch recording (no trace hardware): a loop of N conditional
# branches (testsuite/progs/branchy.c, -O0: 7 instructions an iteration)
# recorded with `record btrace` by csgdbserver's fast path (run to each
# branch under a temporary breakpoint), by its per-instruction single-step
# path (`monitor set btrace-step on`), and with gdb's own `record full` on
# the same server; plus the loop untraced. The slower ones run fewer
# iterations and are compared per branch. Figures only, no pass/fail.
#   usage: swrecord.sh BUILD_DIR
#   SWREC_N (1000000), SWREC_N_STEP (100000), SWREC_N_FULL (10000), SWREC_RUNS (3)
set -u
build=${1:?usage: $0 BUILD_DIR}
server=${CSGDBSERVER:-$build/csgdbserver}
gdb=${GDB:-/usr/bin/gdb}
prog=$build/progs/branchy
here=$(cd "$(dirname "$0")" && pwd)
n_fast=${SWREC_N:-1000000}
n_step=${SWREC_N_STEP:-100000}
n_full=${SWREC_N_FULL:-10000}
runs=${SWREC_RUNS:-3}
[ -x "$server" ] || { echo "swrecord bench: $server not built"; exit 1; }
[ -x "$prog" ] || { echo "swrecord bench: $prog not built (make progs)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# MODE N: seconds from the loop's entry to its return, as gdb sees it.
measure() {
	local mode=$1 n=$2 port out
	port=$((20000 + RANDOM % 20000))
	taskset -c 0 "$server" --once ":$port" "$prog" loop "$n" >"$tmp/server.log" 2>&1 &
	local spid=$!
	for _ in $(seq 50); do grep -qs "Listening" "$tmp/server.log" && break; sleep 0.1; done
	out=$(SWREC_MODE=$mode SWREC_PORT=$port DEBUGINFOD_URLS='' timeout 900 taskset -c 1 \
		"$gdb" -nx -batch -x "$here/swrecord.py" "$prog" 2>&1)
	wait "$spid" 2>/dev/null
	printf '%s\n' "$out" | sed -n 's/^SWREC //p'
}

echo "loop of N branches, median of $runs runs; server+inferior on CPU 0, gdb on CPU 1"
: >"$tmp/results"
for r in $(seq "$runs"); do
	# Untraced: the same loop, same server, no recording.
	echo "untraced $n_fast $(measure none "$n_fast")" >>"$tmp/results"
	echo "fast $n_fast $(measure fast "$n_fast")" >>"$tmp/results"
	echo "step $n_step $(measure step "$n_step")" >>"$tmp/results"
	echo "full $n_full $(measure full "$n_full")" >>"$tmp/results"
done
awk '
	function med(a, n,    i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$3 != "" { k = $1; n[k] = $2; c[k]++; v[k, c[k]] = $3 }
	END {
		label["untraced"] = "untraced (continue)"
		label["fast"] = "record btrace, fast path"
		label["step"] = "record btrace, btrace-step on"
		label["full"] = "gdb record full"
		split("untraced fast step full", order, " ")
		for (i = 1; i <= 4; i++) {
			k = order[i]
			if (!c[k]) { printf "%-30s failed\n", label[k]; continue }
			for (j = 1; j <= c[k]; j++) a[j] = v[k, j]
			s[k] = med(a, c[k]); per[k] = s[k] / n[k]
		}
		printf "%-30s %9s %9s %12s %10s\n", "", "branches", "median s", "branches/s", "us/branch"
		for (i = 1; i <= 4; i++) {
			k = order[i]
			if (!c[k]) continue
			printf "%-30s %9d %9.3f %12.0f %10.3f\n", label[k], n[k], s[k], (s[k] > 0 ? n[k] / s[k] : 0), per[k] * 1e6
		}
		print ""
		if (per["fast"] > 0) {
			if (per["step"] > 0) printf "fast path vs per-instruction stepping: %.1fx faster\n", per["step"] / per["fast"]
			if (per["full"] > 0) printf "fast path vs gdb record full:           %.1fx faster\n", per["full"] / per["fast"]
			if (per["untraced"] > 0) {
				printf "slowdown vs untraced: fast path %.0fx", per["fast"] / per["untraced"]
				if (per["step"] > 0) printf ", per-instruction %.0fx", per["step"] / per["untraced"]
				if (per["full"] > 0) printf ", record full %.0fx", per["full"] / per["untraced"]
				printf "\n"
			}
		}
	}' "$tmp/results"
