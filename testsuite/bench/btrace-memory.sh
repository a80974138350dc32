#!/bin/sh
# Peak memory of `csgdbserver --replay` against trace size: a real capture's
# trace (Cortex-R5 ETMv3, 64 KiB ETB, with its ELF) repeated to N MiB, served
# to a client reading qXfer:btrace:read:all to the end in gdb-sized chunks,
# (a) as bts blocks (gdb's default 64 KiB buffer) and (b) as the raw CoreSight
# document (verified byte for byte against the trace). Memory should stay flat
# while the trace grows; decode time grows with it.
#   usage: btrace-memory.sh BUILD_DIR
#   BTRACE_MEM_MIB    trace sizes in MiB (default "1 4 16"; e.g. "1 16 64 256"
#                     takes ~1 s per MiB per mode on this machine)
#   BTRACE_MEM_CHUNK  qXfer chunk length (default 0x3fff, what gdb 13 asks)
#   OLD_CSGDBSERVER   another build to measure side by side (e.g. one that
#                     holds the decoded trace whole)
#   CAPTURE           capture to repeat (default the shared freertos one)
# No pass/fail: figures only.
set -u
build=${1:?usage: $0 BUILD_DIR}
server=${CSGDBSERVER:-$build/csgdbserver}
here=$(cd "$(dirname "$0")" && pwd)
shared=${CSG_SHARED:-$here/../../../shared}   # ../shared beside the tree
capture=${CAPTURE:-$shared/testdata/etmv3-cortex-r5/freertos}
sizes=${BTRACE_MEM_MIB:-1 4 16}
chunk=${BTRACE_MEM_CHUNK:-0x3fff}
old=${OLD_CSGDBSERVER:-}

[ -x "$server" ] || { echo "btrace-memory bench: $server not built"; exit 1; }
[ -x /usr/bin/time ] || { echo "btrace-memory bench: /usr/bin/time missing (package time)"; exit 1; }
[ -f "$capture/trace.bin" ] || { echo "btrace-memory bench: no capture at $capture"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/client.py" <<'EOF'
# One measured session: start the server under /usr/bin/time, read the whole
# btrace document in chunks, detach; print one line of figures.
import re, subprocess, socket, sys, time
server, cap, mode, chunk, timefile = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 0), sys.argv[5]
t0 = time.monotonic()
p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", timefile, server, "--once", "--replay", cap, ":0"],
                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
port, ranges = None, 0
for line in p.stderr:
    m = re.search(r"Decoded: (\d+) ranges", line)
    if m:
        ranges = int(m.group(1))
    m = re.search(r"Listening on port (\d+)", line)
    if m:
        port = int(m.group(1))
        break
t_start = time.monotonic() - t0
if port is None:
    sys.exit("server did not start: " + (p.stderr.read() or "")[-300:])
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

inbuf = bytearray()

def packet():
    """Next $...#xx packet's payload, read in large pieces."""
    global inbuf
    while True:
        start = inbuf.find(b"$")
        end = inbuf.find(b"#", start) if start >= 0 else -1
        if end >= 0 and len(inbuf) >= end + 3:
            data = bytes(inbuf[start + 1:end])
            del inbuf[:end + 3]
            return data
        more = s.recv(1 << 20)
        if not more:
            sys.exit("connection closed")
        inbuf += more

def command(pkt):
    body = pkt.encode()
    s.sendall(b"$" + body + b"#%02x" % (sum(body) & 0xff))
    data = packet()
    if ack:
        s.sendall(b"+")
    if b"}" not in data and b"*" not in data:
        return data
    out, i = bytearray(), 0
    while i < len(data):         # binary escapes and run-length encoding
        c = data[i]
        if c == 0x7d:
            out.append(data[i + 1] ^ 0x20); i += 2
        elif c == 0x2a:
            out += out[-1:] * (data[i + 1] - 29); i += 2
        else:
            out.append(c); i += 1
    return bytes(out)

ack = True
command("qSupported:multiprocess+;swbreak+")
ack = command("QStartNoAckMode") != b"OK"      # as gdb does
if mode == "bts":
    command("Qbtrace-conf:bts:size=0x10000")
    r = command("Qbtrace:bts")
else:
    r = command("Qbtrace:CoreSight")
if r != b"OK":
    sys.exit("enable: %r" % r)
trace = open(cap + "/trace.bin", "rb")
t1 = time.monotonic()
off, total, nblocks, pending, ok = 0, 0, 0, b"", True
raw_started = raw_done = False
hexbuf = b""
while True:
    r = command("qXfer:btrace:read:all:%x,%x" % (off, chunk))
    if r[:1] not in (b"m", b"l"):
        sys.exit("read at %#x: %r" % (off, r[:100]))
    data = r[1:]
    off += len(data)
    if mode == "bts":
        pending += data
        nblocks += pending.count(b"<block ")
        pending = pending[pending.rfind(b"<"):] if b"<" in pending else b""
    else:
        # compare the hex with the trace file as it streams past
        pending += data
        if not raw_started and b"<raw>\n" in pending:
            pending = pending[pending.index(b"<raw>\n") + 6:]
            raw_started = True
        if raw_started and not raw_done:
            end = pending.find(b"\n")
            part = pending if end < 0 else pending[:end]
            use = len(part) // 2 * 2
            want = trace.read(use // 2)
            ok &= bytes.fromhex(part[:use].decode()) == want
            total += use // 2
            pending = pending[use:]
            if end >= 0:
                raw_done = True
                ok &= trace.read(1) == b"" and pending.startswith(b"\n</raw>")
        elif not raw_started:
            pending = pending[-8:]
    if r[:1] == b"l":
        break
t_read = time.monotonic() - t1
command("D")
s.close()
p.wait()
with open(timefile) as tf:
    peak_kib, user, system = tf.read().split()[-3:]
    peak_kib, cpu = int(peak_kib), float(user) + float(system)
detail = "%d blocks" % nblocks if mode == "bts" else ("raw verified" if ok and raw_done else "RAW MISMATCH")
print("%.1f %.2f %.2f %.2f %d %d %s" % (peak_kib / 1024, t_start, t_read, cpu, off, ranges, detail))
EOF

make_capture() {   # MiB -> directory
	d=$tmp/cap$1
	mkdir -p "$d"
	cp "$capture/etm.ini" "$d/"
	for e in "$capture"/*.elf; do ln -s "$e" "$d/"; done
	n=$(( $1 * 1048576 / $(stat -c %s "$capture/trace.bin") ))
	i=0
	while [ $i -lt $n ]; do cat "$capture/trace.bin"; i=$((i + 1)); done > "$d/trace.bin"
	echo "$d"
}

echo "csgdbserver --replay: peak RSS while a client reads qXfer:btrace:read:all in $chunk-byte chunks"
echo "trace: $(basename "$capture")'s $(stat -c %s "$capture/trace.bin")-byte ETB repeated; bts buffer 0x10000 (gdb's default)"
printf '%-12s %9s %5s | %9s %8s %7s %8s | %10s %10s %9s | %s\n' server "trace MiB" mode "peak MiB" "start s" \
	"read s" "cpu s" "doc bytes" "ranges" "x24B MiB" detail
for mib in $sizes; do
	cap=$(make_capture "$mib")
	for mode in bts raw; do
		for which in new old; do
			bin=$server
			if [ $which = old ]; then
				[ -n "$old" ] || continue
				bin=$old
			fi
			line=$(python3 "$tmp/client.py" "$bin" "$cap" $mode "$chunk" "$tmp/time" 2>&1) || {
				echo "$which $mib MiB $mode: failed: $line"; continue; }
			set -- $line
			# x24B: what holding every decoded range (24 bytes each) would take
			awk -v w="$which" -v m="$mib" -v mode=$mode -v peak="$1" -v st="$2" -v rd="$3" -v cpu="$4" \
				-v doc="$5" -v n="$6" -v detail="$(echo "$line" | cut -d' ' -f7-)" 'BEGIN {
				printf "%-12s %9d %5s | %9.1f %8.2f %7.2f %8.2f | %10d %10d %9.1f | %s\n",
					(w == "new" ? "csgdbserver" : "old build"), m, mode, peak, st, rd, cpu, doc, n,
					n * 24 / 1048576, detail }'
		done
	done
	rm -rf "$cap"
done
echo "(start s: --replay start-up, one streaming decode of the whole trace to find the"
echo " thread's pc; read s: enabling tracing and reading the document to its end;"
echo " cpu s: the server's user+system time in all; x24B MiB: what holding every"
echo " decoded range would take)"
