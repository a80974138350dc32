#!/bin/bash
# reverse-finish and reverse-next over a long branch trace with
# gdb/csgdbserver.py (the server's call classification, qXfer:btrace-calls,
# fetched once per trace and cached), side by side with gdb's own where gdb
# has one: x86, where gdb classifies calls itself (the extension forced on
# with `set csgdbserver engage on`), on a ~10^6-instruction software
# recording of testsuite/bench/bench_calls.c; and the Cortex-R5 capture
# replay (ARM: gdb's own reverse-finish is refused there). Figures only.
#   usage: btrace-calls.sh BUILD_DIR
#   CALLS_N (100000 iterations, ~10^6 instructions), CALLS_RUNS (3)
set -u
build=${1:?usage: $0 BUILD_DIR}
server=${CSGDBSERVER:-$build/csgdbserver}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
ext=$top/gdb/csgdbserver.py
n=${CALLS_N:-100000}
runs=${CALLS_RUNS:-3}
capture=${CSG_SHARED:-$top/../shared}/testdata/etmv3-cortex-r5/freertos
[ -x "$server" ] || { echo "btrace-calls bench: $server not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prog=$tmp/bench_calls
${CC:-cc} -std=c17 -O1 -g -o "$prog" "$here/bench_calls.c" || exit 1

# MODE GDB SERVER-ARGS...: one gdb run's "key value" lines
run() {
	local mode=$1 gdb=$2 port
	shift 2
	port=$((20000 + RANDOM % 20000))
	if [ "$mode" = replay ]; then
		taskset -c 0 "$server" --once --replay "$capture" ":$port" >"$tmp/server.log" 2>&1 &
	else
		taskset -c 0 "$server" --once ":$port" "$@" >"$tmp/server.log" 2>&1 &
	fi
	local spid=$!
	for _ in $(seq 100); do grep -qs "Listening" "$tmp/server.log" && break; sleep 0.1; done
	CALLS_MODE=$mode CALLS_PORT=$port DEBUGINFOD_URLS='' timeout 900 taskset -c 1 \
		"$gdb" -nx -batch -iex "source $ext" -x "$here/btrace_calls.py" "${prog_for_gdb:-$prog}" 2>&1 |
		sed -n 's/^CALLS //p'
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
}

# median of KEY over the runs in FILE (seconds to 4 places; counts as they are)
med() { awk -v k="$1" '$1 == k {print $2}' "$2" | sort -g |
	awk '{v[NR]=$1} END {if (!NR) print "?"; else if (v[int((NR+1)/2)] ~ /\./) printf "%.4f\n", v[int((NR+1)/2)]; else print v[int((NR+1)/2)]}'; }

if [ "$(uname -m)" = x86_64 ]; then
	: >"$tmp/x86"
	for _ in $(seq "$runs"); do run x86 "${GDB:-/usr/bin/gdb}" "$prog" "$n" >>"$tmp/x86"; done
	f=$tmp/x86
	echo "x86_64 software recording of bench_calls $n: $(med insns "$f") instructions" \
		"(recorded in $(med record "$f") s), median of $runs runs, seconds:"
	echo "  classification fetched and mapped once: $(med fetch "$f"); cached: $(med fetch_again "$f")"
	for k in rf_short rn rf_long; do
		g=$(med gdb_$k "$f") o=$(med ours_$k "$f")
		same=$([ "$(med gdb_${k}_at "$f")" = "$(med ours_${k}_at "$f")" ] && echo "same place" || echo "place differs")
		case $k in rf_short) what="reverse-finish out of done()        " ;;
		rn) what="reverse-next over middle()          " ;;
		rf_long) what="reverse-finish from mid-trace       " ;;
		esac
		[ "$k" = rf_short ] && same=""
		echo "  $what gdb's own $g  extension $o  ratio $(awk -v a="$g" -v b="$o" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}') $same"
	done
fi
if [ -d "$capture" ] && command -v gdb-multiarch >/dev/null; then
	: >"$tmp/r5"
	for _ in $(seq "$runs"); do
		prog_for_gdb=$capture/freertos.elf run replay gdb-multiarch >>"$tmp/r5"
	done
	f=$tmp/r5
	echo "Cortex-R5 ETMv3 capture (freertos) replayed, $(med insns "$f") instructions (gdb's own" \
		"reverse-finish refused: no ARM call classes), seconds:"
	echo "  classification fetched and mapped once: $(med fetch "$f"); reverse-finish" \
		"$(med ours_rf_short "$f") / from mid-trace $(med ours_rf_long "$f"); reverse-next $(med ours_rn "$f")"
fi
