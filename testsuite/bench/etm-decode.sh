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
printf '%-20s %9s %8s | %10s %9s | %10s %9s | %6s %6s\n' snapshot "trace KiB" ranges \
	"cst MB/s" "cst KiB" "tpl MB/s" "tpl KiB" speed mem
for s in $sets; do
	d=$snaps/$s
	[ -d "$d" ] || { echo "$s: not found"; continue; }
	trace=$d/$("$cstrace" info "$d" | awk '/^buffer /{sub("file=","",$3); print $3; exit}')
	bytes=$(stat -c %s "$trace")
	nranges=$("$cstrace" decode -q "$d" --ranges | wc -l)
	: > "$tmp/c" ; : > "$tmp/t"
	i=0
	while [ $i -lt "$runs" ]; do
		run "$tmp/one" "$cstrace" decode -q "$d" --ranges; cat "$tmp/one" >> "$tmp/c"
		run "$tmp/one" trc_pkt_lister -ss_dir "$d" -decode -logstdout; cat "$tmp/one" >> "$tmp/t"
		i=$((i + 1))
	done
	ct=$(cut -d' ' -f1 "$tmp/c" | median); cm=$(cut -d' ' -f2 "$tmp/c" | median)
	tt=$(cut -d' ' -f1 "$tmp/t" | median); tm=$(cut -d' ' -f2 "$tmp/t" | median)
	awk -v s="$s" -v b="$bytes" -v n="$nranges" -v ct="$ct" -v cm="$cm" -v tt="$tt" -v tm="$tm" 'BEGIN {
		ct = ct < 0.01 ? 0.01 : ct; tt = tt < 0.01 ? 0.01 : tt    # /usr/bin/time resolution
		printf "%-20s %9d %8d | %10.2f %9d | %10.2f %9d | %5.1fx %5.2fx\n",
			s, b / 1024, n, b / ct / 1e6, cm, b / tt / 1e6, tm, tt / ct, tm / cm }'
done
echo "(speed = trc_pkt_lister time / cstrace time; mem = trc_pkt_lister peak RSS / cstrace peak RSS; medians)"

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
		awk -v n="$n" -v b="$(stat -c %s "$tmp/big/$tracefile")" -v t="$t" -v m="$m" 'BEGIN {
			t = t < 0.01 ? 0.01 : t
			printf "  x%-3d %8.1f MiB trace: %6.2f s, %6.2f MB/s, peak RSS %6d KiB\n", n, b / 1048576, t, b / t / 1e6, m }'
	done
fi
