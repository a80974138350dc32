#!/bin/bash
# Capture throughput of `cstrace capture` over loopback, against the limit
# of the link: the same trace bytes sent over a TCP socket and read by dd.
# The trace is a real capture's (Cortex-R5 ETMv3, 64 KiB ETB, with its ELF)
# repeated to N MiB and served by `csgdbserver --replay` (the server
# streams it as the CoreSight document: hex, binary-escaped, in
# PacketSize chunks). Then the time from `cstrace capture` start to a
# decoded snapshot (trc_pkt_lister -decode, and cstrace decode).
#   usage: capture.sh BUILD_DIR
#   CAPTURE_BENCH_MIB   trace sizes in MiB (default "4 16")
#   BENCH_RUNS          runs per size (default 3; the median is printed)
#   CAPTURE             capture to repeat (default the shared freertos one)
# No pass/fail: figures only.
set -u
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
server=${CSGDBSERVER:-$build/csgdbserver}
cstrace=$build/cstrace
here=$(cd "$(dirname "$0")" && pwd)
shared=${CSG_SHARED:-$here/../../../shared}   # ../shared beside the tree
capture=${CAPTURE:-$shared/testdata/etmv3-cortex-r5/freertos}
sizes=${CAPTURE_BENCH_MIB:-4 16}
runs=${BENCH_RUNS:-3}

for p in "$server" "$cstrace"; do
	[ -x "$p" ] || { echo "capture bench: $p not built"; exit 1; }
done
[ -f "$capture/trace.bin" ] || { echo "capture bench: no capture at $capture"; exit 1; }
tmp=$(mktemp -d)
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Serve FILE once on a loopback port (printed on stdout), then exit.
cat > "$tmp/send.py" <<'EOF'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
with open(sys.argv[1], "rb") as f:
    while True:
        d = f.read(1 << 20)
        if not d:
            break
        c.sendall(d)
c.close()
EOF

echo "cstrace capture over loopback vs dd of the same bytes over TCP (median of $runs runs)"
printf "%-8s | %10s %10s | %10s %10s | %8s | %s\n" "trace" "capture s" "trace MB/s" "dd s" "dd MB/s" "ratio" "wire (RSP bytes in / trace bytes)"
for mib in $sizes; do
	dir=$tmp/cap$mib
	mkdir -p "$dir"
	cp "$capture"/*.elf "$capture"/etm.ini "$dir"/ 2>/dev/null || cp "$capture"/* "$dir"/
	: > "$dir/trace.bin"
	reps=$(( (mib << 20) / $(stat -c %s "$capture/trace.bin") ))
	for _ in $(seq "$reps"); do cat "$capture/trace.bin"; done >> "$dir/trace.bin"
	bytes=$(stat -c %s "$dir/trace.bin")
	"$server" --replay "$dir" :0 2> "$tmp/srv.log" > /dev/null &
	srv_pid=$!
	port=
	for _ in $(seq 600); do
		port=$(sed -n 's/.*Listening on port \([0-9]*\).*/\1/p' "$tmp/srv.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "capture bench: server did not start: $(tail -3 "$tmp/srv.log")"; exit 1; }
	: > "$tmp/cap.t"; : > "$tmp/dd.t"; : > "$tmp/wire"
	for r in $(seq "$runs"); do
		rm -rf "$tmp/out"
		t0=$(now)
		"$cstrace" capture "127.0.0.1:$port" -o "$tmp/out" --no-memory -q --no-progress || {
			echo "capture bench: capture failed"; exit 1; }
		t1=$(now)
		echo "$t1 - $t0" | bc -l >> "$tmp/cap.t"
		cmp -s "$tmp/out/trace.bin" "$dir/trace.bin" || { echo "capture bench: captured trace differs"; exit 1; }
		python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['protocol']['bytes_in'] / j['trace']['bytes'])" \
			"$tmp/out/capture.json" >> "$tmp/wire"
		python3 "$tmp/send.py" "$dir/trace.bin" > "$tmp/port" &
		sender=$!
		for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
		dport=$(cat "$tmp/port")
		t0=$(now)
		bash -c "dd of=/dev/null bs=1M iflag=fullblock status=none < /dev/tcp/127.0.0.1/$dport"
		t1=$(now)
		wait "$sender"
		echo "$t1 - $t0" | bc -l >> "$tmp/dd.t"
	done
	kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=
	ct=$(median < "$tmp/cap.t"); dt=$(median < "$tmp/dd.t"); wire=$(median < "$tmp/wire")
	printf "%-8s | %10.3f %10.1f | %10.3f %10.1f | %8.3f | %.2f\n" "${mib} MiB" "$ct" \
		"$(echo "$bytes / $ct / 1000000" | bc -l)" "$dt" "$(echo "$bytes / $dt / 1000000" | bc -l)" \
		"$(echo "$ct / $dt" | bc -l)" "$wire"
done
echo "(ratio = capture time / dd time: how many times the raw link's time a capture takes;"
echo " the RSP carries the trace as hex, so at least 2 bytes on the wire per trace byte)"

# From `cstrace capture` start to a decoded snapshot: the 64 KiB capture
# as recorded (memory dumps read over the protocol included).
if command -v trc_pkt_lister > /dev/null; then
	echo
	echo "time from cstrace capture to a decoded snapshot ($(basename "$capture"), 64 KiB ETB, median of $runs)"
	"$server" --replay "$capture" :0 2> "$tmp/srv.log" > /dev/null &
	srv_pid=$!
	port=
	for _ in $(seq 300); do
		port=$(sed -n 's/.*Listening on port \([0-9]*\).*/\1/p' "$tmp/srv.log")
		[ -n "$port" ] && break
		sleep 0.1
	done
	: > "$tmp/c"; : > "$tmp/tpl"; : > "$tmp/cd"
	mkdir -p "$tmp/cwd"
	for r in $(seq "$runs"); do
		rm -rf "$tmp/snap"
		t0=$(now)
		"$cstrace" capture "127.0.0.1:$port" -o "$tmp/snap" -q --no-progress || { echo "capture failed"; exit 1; }
		t1=$(now)
		(cd "$tmp/cwd" && trc_pkt_lister -ss_dir "$tmp/snap" -decode -logstdout -logfilename /dev/null > "$tmp/tpl.out" 2>&1)
		t2=$(now)
		"$cstrace" decode --ranges "$tmp/snap" > "$tmp/cd.out" 2>/dev/null
		t3=$(now)
		echo "$t1 - $t0" | bc -l >> "$tmp/c"
		echo "$t2 - $t0" | bc -l >> "$tmp/tpl"
		echo "$t1 - $t0 + $t3 - $t2" | bc -l >> "$tmp/cd"
	done
	n=$(grep -c INSTR_RANGE "$tmp/tpl.out")
	m=$(wc -l < "$tmp/cd.out")
	printf "  capture (trace + memory dumps + snapshot written) %8.3f s\n" "$(median < "$tmp/c")"
	printf "  + trc_pkt_lister -decode (%d ranges)          %8.3f s\n" "$n" "$(median < "$tmp/tpl")"
	printf "  + cstrace decode --ranges (%d ranges)         %8.3f s\n" "$m" "$(median < "$tmp/cd")"
fi
