#!/bin/sh
# `make demo`: a debugging session with the real gdb against csgdbserver.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
server=$build/csgdbserver prog=$build/progs/demo
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" --once ":$port" "$prog" &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
sleep 0.3
echo "== gdb session against csgdbserver on port $port"
gdb -q -nx -batch \
	-ex "set sysroot /" \
	-ex "target remote :$port" \
	-ex "break sum_of_squares" \
	-ex "continue" \
	-ex "echo == record the branches while the loop runs\\n" \
	-ex "record btrace" \
	-ex "next" -ex "next" -ex "next" -ex "next" -ex "next" \
	-ex "info record" \
	-ex "record function-call-history /c" \
	-ex "echo == and walk back through what really ran\\n" \
	-ex "reverse-step" \
	-ex "backtrace" \
	-ex "reverse-next" \
	-ex "reverse-next" \
	-ex "info locals" \
	-ex "record goto begin" \
	-ex "record goto end" \
	-ex "record stop" \
	-ex "delete" \
	-ex "finish" \
	-ex "next" \
	-ex "print total" \
	-ex "continue" \
	"$prog"
wait $spid
trap - EXIT

# The same program captured in batch, no gdb: what a CI rig does.
echo "== cstrace capture over TCP (no gdb): a --multi server runs the program"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" --multi ":$port" >/dev/null 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || true' EXIT
sleep 0.3
out=$(mktemp -d)/capture
$build/cstrace capture "127.0.0.1:$port" -o "$out" -- "$(pwd)/$prog"
echo "   files: $(cd "$out" && ls | tr '\n' ' ')"
kill $spid 2>/dev/null || true
wait $spid 2>/dev/null || true
trap - EXIT
rm -rf "$(dirname "$out")"
echo "== demo finished"
