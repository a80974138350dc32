#!/bin/bash
# gdb ingesting a recorded block list: `branchy loop N` recorded by the
# software recorder (a bts block per taken branch), then the time of gdb's
# `info record` (it reads qXfer:btrace:read:all and builds its function
# segments, all inside the command) and the bytes of those replies on the
# wire (gdb's remotelogfile). Figures only, no pass/fail.
#   usage: blocks-ingest.sh BUILD_DIR      BLOCKS_N (100000), BLOCKS_RUNS (3)
set -u
build=${1:?usage: $0 BUILD_DIR}
server=${CSGDBSERVER:-$build/csgdbserver}
gdb=${GDB:-/usr/bin/gdb}
prog=$build/progs/branchy
n=${BLOCKS_N:-100000}
runs=${BLOCKS_RUNS:-3}
[ -x "$server" ] && [ -x "$prog" ] || { echo "blocks-ingest bench: build $server and $prog first"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/ingest.py" <<'PY'
import os, re, time, resource, gdb
ex = lambda c: gdb.execute(c, to_string=True)
ex("set pagination off")
ex("set confirm off")
ex("set remotelogfile " + os.environ["BLOCKS_LOG"])
ex("target remote :" + os.environ["BLOCKS_PORT"])
ex("break loop")
ex("continue")
ex("set record btrace bts buffer-size 16777216")
ex("record btrace bts")
ex("finish")
c0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.monotonic()
info = ex("info record")
t1 = time.monotonic()
c1 = resource.getrusage(resource.RUSAGE_SELF)
m = re.search(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps", info)
print("BLOCKS %s %s %.4f %.4f" % (m.group(1) if m else "?", m.group(3) if m else "?", t1 - t0,
      (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)))
ex("kill")
PY
echo "gdb reading a software-recorded trace: branchy loop $n ($n taken branches), $runs runs"
printf '%-4s %12s %6s %10s %10s %12s %10s\n' run instructions gaps "wall s" "gdb cpu s" "wire bytes" "B/block"
for r in $(seq "$runs"); do
	port=$((20000 + RANDOM % 20000))
	"$server" --once ":$port" "$prog" loop "$n" >"$tmp/server.log" 2>&1 &
	spid=$!
	for _ in $(seq 50); do grep -q "Listening" "$tmp/server.log" && break; sleep 0.1; done
	out=$(BLOCKS_PORT=$port BLOCKS_LOG=$tmp/wire.log DEBUGINFOD_URLS='' timeout 900 \
		"$gdb" -nx -batch -x "$tmp/ingest.py" "$prog" 2>&1 | sed -n 's/^BLOCKS //p')
	wait "$spid" 2>/dev/null
	# Bytes of the replies to qXfer:btrace:read requests, as framed on the wire.
	wire=$(awk '/^w .*qXfer:btrace:read/ { want = 1; next }
		    /^w / { want = 0 }
		    /^r / && want { sum += length($0) - 2 }
		    END { print sum + 0 }' "$tmp/wire.log")
	set -- $out
	[ $# -eq 4 ] || { echo "$r failed: ${out:-no output} ($(tail -2 "$tmp/server.log"))"; continue; }
	printf '%-4s %12s %6s %10s %10s %12s %10.1f\n' "$r" "$1" "$2" "$3" "$4" "$wire" "$(echo "$wire / $n" | bc -l)"
done
