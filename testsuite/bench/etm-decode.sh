#!/bin/sh
# ETMv4 decode throughput and peak memory: cstrace decode --ranges against
# OpenCSD's trc_pkt_lister -decode on the same snapshots, runs alternating.
#   usage: etm-decode.sh BUILD_DIR
#   ETM_BENCH_RUNS   runs per tool and snapshot (default 5)
#   ETM_BENCH_SETS   snapshot names (default: the three largest ETMv4 ones
#                    with memory images: bugfix-exact-match, juno-uname-002,
#                    juno_r1_1)
#   ETM_BENCH_SCALE  repeat counts for the peak-memory-vs-size check (default "1 4 16")
# Ratios > 1 mean cstrace is faster / smaller. No pass/fail: figures only.
# cstrace decodes in a child process (etm/decode_child.c); each table also
# shows it decoding in its own process (CSG_DECODER_INPROCESS=1, for such
# comparisons only) and contained/in-process time, the containment's cost.
set -u
build=${1:?usage: $0 BUILD_DIR}
cstrace=$build/cstrace
here=$(cd "$(dirname "$0")" && pwd)
shared=${CSG_SHARED:-$here/../../../shared}   # ../shared beside the tree
snaps=$shared/testdata/opencsd-snapshots/snapshots
runs=${ETM_BENCH_RUNS:-5}
sets=${ETM_BENCH_SETS:-bugfix-exact-match juno-uname-002 juno_r1_1}
scales=${ETM_BENCH_SCALE:-1 4 16}

command -v trc_pkt_lister >/dev/null || { echo "etm-decode bench: trc_pkt_lister missing (libopencsd-bin)"; exit 1; }
[ -x /usr/bin/time ] || { echo "etm-decode bench: /usr/bin/time missing (package time)"; exit 1; }
[ -x "$cstrace" ] || { echo "etm-decode bench: $cstrace not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run OUT CMD...: wall seconds and peak RSS (KiB) of CMD into OUT.
run() {
	out=$1; shift
	/usr/bin/time -f '%e %M' -o "$out" "$@" > /dev/null 2>&1
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

echo "ETMv4 decode: cstrace decode --ranges vs trc_pkt_lister -decode (output to /dev/null), $runs alternating runs each"
printf '%-20s %9s %8s | %10s %9s | %10s %9s | %6s %6s | %10s %7s\n' snapshot "trace KiB" ranges \
	"cst MB/s" "cst KiB" "tpl MB/s" "tpl KiB" speed mem "inproc MB/s" contain
for s in $sets; do
	d=$snaps/$s
	[ -d "$d" ] || { echo "$s: not found"; continue; }
	trace=$d/$("$cstrace" info "$d" | awk '/^buffer /{sub("file=","",$3); print $3; exit}')
	bytes=$(stat -c %s "$trace")
	nranges=$("$cstrace" decode -q "$d" --ranges | wc -l)
	: > "$tmp/c" ; : > "$tmp/t"; : > "$tmp/i"
	i=0
	while [ $i -lt "$runs" ]; do
		run "$tmp/one" "$cstrace" decode -q "$d" --ranges; cat "$tmp/one" >> "$tmp/c"
		run "$tmp/one" trc_pkt_lister -ss_dir "$d" -decode -logstdout -logfilename /dev/null; cat "$tmp/one" >> "$tmp/t"
		run "$tmp/one" env CSG_DECODER_INPROCESS=1 "$cstrace" decode -q "$d" --ranges; cat "$tmp/one" >> "$tmp/i"
		i=$((i + 1))
	done
	ct=$(cut -d' ' -f1 "$tmp/c" | median); cm=$(cut -d' ' -f2 "$tmp/c" | median)
	tt=$(cut -d' ' -f1 "$tmp/t" | median); tm=$(cut -d' ' -f2 "$tmp/t" | median)
	it=$(cut -d' ' -f1 "$tmp/i" | median)
	awk -v s="$s" -v b="$bytes" -v n="$nranges" -v ct="$ct" -v cm="$cm" -v tt="$tt" -v tm="$tm" -v it="$it" 'BEGIN {
		ct = ct < 0.01 ? 0.01 : ct; tt = tt < 0.01 ? 0.01 : tt    # /usr/bin/time resolution
		it = it < 0.01 ? 0.01 : it
		printf "%-20s %9d %8d | %10.2f %9d | %10.2f %9d | %5.1fx %5.2fx | %10.2f %6.2fx\n",
			s, b / 1024, n, b / ct / 1e6, cm, b / tt / 1e6, tm, tt / ct, tm / cm, b / it / 1e6, ct / it }'
done
echo "(speed = trc_pkt_lister time / cstrace time; mem = trc_pkt_lister peak RSS / cstrace peak RSS;"
echo " contain = cstrace time / in-process cstrace time; medians)"

# What a decode in a child costs when there is little to decode: the fork,
# the socket, the wait (the server pays it once per trace read).
ete=$shared/testdata/opencsd-snapshots/snapshots-ete/ete_spec_1
if [ -d "$ete" ]; then
	n=50
	for mode in contained in-process; do
		env=; [ $mode = in-process ] && env=CSG_DECODER_INPROCESS=1
		s0=$(date +%s%N)
		i=0; while [ $i -lt $n ]; do env $env "$cstrace" decode -q "$ete" > /dev/null; i=$((i + 1)); done
		echo "$mode $(( ($(date +%s%N) - s0) / n / 1000 ))"
	done > "$tmp/small"
	awk '{us[$1] = $2} END {
		printf "decode of a 174-byte trace (ete_spec_1), whole cstrace run: contained %.2f ms, in-process %.2f ms (+%.2f ms per decode)\n",
			us["contained"] / 1000, us["in-process"] / 1000, (us["contained"] - us["in-process"]) / 1000 }' "$tmp/small"
fi

# Peak memory against trace size: the first set's trace repeated N times
# (concatenated frames; the decoder resynchronises at each seam). cstrace
# streams the file in 256 KiB pieces and prints as it goes, so its peak RSS
# should not grow with N. trc_pkt_lister is left out here (-decode on a
# 16x trace takes many minutes).
first=$(echo $sets | awk '{print $1}')
d=$snaps/$first
if [ -d "$d" ]; then
	echo
	echo "cstrace peak memory vs trace size ($first trace repeated N times):"
	tracefile=$("$cstrace" info "$d" | awk '/^buffer /{sub("file=","",$3); print $3; exit}')
	for n in $scales; do
		rm -rf "$tmp/big"; mkdir "$tmp/big"
		for f in "$d"/*; do [ "$(basename "$f")" = "$tracefile" ] || ln -s "$f" "$tmp/big/"; done
		i=0; while [ $i -lt "$n" ]; do cat "$d/$tracefile" >> "$tmp/big/$tracefile"; i=$((i + 1)); done
		run "$tmp/one" "$cstrace" decode -q "$tmp/big" --ranges
		read -r t m < "$tmp/one"
		run "$tmp/one" env CSG_DECODER_INPROCESS=1 "$cstrace" decode -q "$tmp/big" --ranges
		read -r it im < "$tmp/one"
		awk -v n="$n" -v b="$(stat -c %s "$tmp/big/$tracefile")" -v t="$t" -v m="$m" -v it="$it" -v im="$im" 'BEGIN {
			t = t < 0.01 ? 0.01 : t; it = it < 0.01 ? 0.01 : it
			printf "  x%-3d %8.1f MiB trace: %6.2f s, %6.2f MB/s, peak RSS %6d KiB | in-process %6.2f MB/s, %6d KiB\n",
				n, b / 1048576, t, b / t / 1e6, m, b / it / 1e6, im }'
	done
fi
