#!/bin/sh
# Decode every instruction-trace OpenCSD snapshot and the Cortex-R5
# captures with cstrace and with OpenCSD's own trc_pkt_lister, and compare
# the instruction ranges one by one, in trace order.
#   usage: compare-trc-pkt-lister.sh BUILD_DIR [SNAPSHOT_DIR...]
# Prints one line per trace buffer and ends with "etm-decode: N passed, N failed".
set -u
build=${1:?usage: $0 BUILD_DIR [SNAPSHOT_DIR...]}
shift
cstrace=$build/cstrace
here=$(cd "$(dirname "$0")" && pwd)
# the shared test data: ../shared beside the tree, or $CSG_SHARED
shared=${CSG_SHARED:-$(dirname "$(dirname "$(dirname "$here")")")/shared}
snaps=$shared/testdata/opencsd-snapshots
captures=$shared/testdata/etmv3-cortex-r5
for d in "$snaps/snapshots" "$captures"; do
	[ -d "$d" ] && continue
	echo "etm-decode: shared test data missing: $d (it belongs at ../shared beside the tree; CSG_SHARED=DIR overrides)"
	echo "etm-decode: 0 passed, 1 failed"
	exit 1
done

if ! command -v trc_pkt_lister >/dev/null 2>&1; then
	echo "etm-decode: trc_pkt_lister not installed (apt-get install libopencsd-bin)"
	echo "etm-decode: 0 passed, 1 failed"
	exit 1
fi
[ -x "$cstrace" ] || { echo "etm-decode: $cstrace not built"; echo "etm-decode: 0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 skip=0

# trc_pkt_lister's INSTR_RANGE lines -> "0xSTART 0xEND".
ref_ranges() {  # DIR BUFFER
	trc_pkt_lister -ss_dir "$1" -src_name "$2" -decode -logstdout -logfilename /dev/null 2>/dev/null |
		sed -n 's/.*OCSD_GEN_TRC_ELEM_INSTR_RANGE(exec range=\(0x[0-9a-f]*\):\[\(0x[0-9a-f]*\)\].*/\1 \2/p'
}

# compare NAME SNAPSHOT_DIR(for trc_pkt_lister) OUR_DIR BUFFER
# trc_pkt_lister stops at the first fatal decoder error; cstrace does so too
# with --stop-on-error, and that output must equal it range by range. By
# default cstrace resynchronises and goes on: that output must start with
# the same ranges.
compare() {
	name=$1 ssdir=$2 ourdir=$3 buf=$4
	ref_ranges "$ssdir" "$buf" > "$tmp/ref"
	"$cstrace" decode "$ourdir" --buffer "$buf" --ranges -q > "$tmp/more" 2> "$tmp/err"
	rc=$?
	if [ "$rc" -ge 128 ] || grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
		echo "FAIL $name/$buf: cstrace crashed (exit $rc)"; sed 's/^/    /' "$tmp/err" | head -5
		fail=$((fail + 1)); return
	fi
	"$cstrace" decode "$ourdir" --buffer "$buf" --ranges -q --stop-on-error > "$tmp/ours" 2> "$tmp/err"
	rc=$?
	n=$(wc -l < "$tmp/ref")
	if [ "$rc" -ge 128 ] || grep -q -E 'AddressSanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
		echo "FAIL $name/$buf: cstrace crashed (exit $rc)"; sed 's/^/    /' "$tmp/err" | head -5
		fail=$((fail + 1)); return
	fi
	if cmp -s "$tmp/ref" "$tmp/ours"; then
		note=""
		[ "$n" -eq 0 ] && note=" (both decoders find no range: memory images absent)"
		more=$(wc -l < "$tmp/more")
		if ! head -n "$n" "$tmp/more" | cmp -s - "$tmp/ref"; then
			echo "FAIL $name/$buf: $n ranges equal with --stop-on-error, but the resynchronising decode differs before the first error"
			fail=$((fail + 1)); return
		fi
		[ "$more" -gt "$n" ] && note="$note (trc_pkt_lister stops at a fatal decoder error; after resynchronising cstrace finds $((more - n)) more)"
		echo "PASS $name/$buf: $n ranges equal$note"
		pass=$((pass + 1))
	else
		m=$(wc -l < "$tmp/ours")
		line=$(cmp "$tmp/ref" "$tmp/ours" 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
		echo "FAIL $name/$buf: trc_pkt_lister $n ranges, cstrace $m; first difference at range ${line:-?}"
		[ -n "$line" ] && { echo "    trc_pkt_lister: $(sed -n "${line}p" "$tmp/ref")"; echo "    cstrace:        $(sed -n "${line}p" "$tmp/ours")"; }
		fail=$((fail + 1))
	fi
}

if [ $# -gt 0 ]; then
	dirs="$*"
else
	dirs=$(ls -d "$snaps"/snapshots/* "$snaps"/snapshots-ete/* 2>/dev/null)
fi
for d in $dirs; do
	name=$(basename "$(dirname "$d")")/$(basename "$d")
	if ! "$cstrace" info "$d" > "$tmp/info" 2> "$tmp/err"; then
		echo "FAIL $name: cstrace cannot read it: $(cat "$tmp/err")"; fail=$((fail + 1)); continue
	fi
	# Buffers with at least one instruction-trace source we can configure.
	bufs=$(awk '/^buffer /{b=$2} /^  source .* protocol=/{print b}' "$tmp/info" | uniq)
	if [ -z "$bufs" ]; then
		why=$(sed -n 's/^  source [^ ]* not decoded: //p' "$tmp/info" | head -1)
		echo "SKIP $name: ${why:-no trace sources}"
		skip=$((skip + 1)); continue
	fi
	for b in $bufs; do
		compare "$name" "$d" "$d" "$b"
	done
done

# One trace ID out of a multi-source buffer: trc_pkt_lister -id vs cstrace --id
# (ETMv4 juno_r1_1 ID 0x10, ETMv3 TC2 ID 0x10, PTM TC2 ID 0x13).
if [ $# -eq 0 ]; then
	for pair in juno_r1_1:0x10 TC2:0x10 TC2:0x13; do
		s=${pair%%:*} id=${pair#*:} d=$snaps/snapshots/${pair%%:*}
		trc_pkt_lister -ss_dir "$d" -decode -id "$id" -logstdout -logfilename /dev/null 2>/dev/null |
			sed -n 's/.*OCSD_GEN_TRC_ELEM_INSTR_RANGE(exec range=\(0x[0-9a-f]*\):\[\(0x[0-9a-f]*\)\].*/\1 \2/p' > "$tmp/ref"
		"$cstrace" decode "$d" --id "$id" --ranges -q --stop-on-error > "$tmp/ours" 2>/dev/null
		n=$(wc -l < "$tmp/ref")
		if [ "$n" -gt 0 ] && cmp -s "$tmp/ref" "$tmp/ours"; then
			echo "PASS snapshots/$s --id $id: $n ranges equal"; pass=$((pass + 1))
		else
			echo "FAIL snapshots/$s --id $id: trc_pkt_lister $n ranges, cstrace $(wc -l < "$tmp/ours")"; fail=$((fail + 1))
		fi
	done
fi

# Captures: trc_pkt_lister needs a snapshot, generated from etm.ini + ELF;
# cstrace decodes the capture directory itself (memory straight from the ELF).
if [ $# -eq 0 ]; then
	for c in "$captures"/*/; do
		c=${c%/}
		[ -f "$c/trace.bin" ] || continue
		name=etmv3-cortex-r5/$(basename "$c")
		if ! "$cstrace" snapshot "$c" "$tmp/ss-$(basename "$c")" 2> "$tmp/err"; then
			echo "FAIL $name: cstrace snapshot: $(cat "$tmp/err")"; fail=$((fail + 1)); continue
		fi
		compare "$name" "$tmp/ss-$(basename "$c")" "$c" ETB_0
	done
fi

echo "($skip snapshots skipped: no instruction trace OpenCSD 1.3.3 can decode)"
echo "etm-decode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
