# One bench measurement, run inside gdb (gdb -batch -x bench.py).
# Starts the server itself so launch latency covers server start-up, times one
# operation with perf_counter, checks that it really happened, and appends one
# line "kind server elapsed gdb_cpu server_cpu" (seconds) to BENCH_OUT.
#
# Environment: BENCH_KIND (dump|stepi|bphits|launch), BENCH_SERVER (path),
# BENCH_SERVER_NAME, BENCH_PROG, BENCH_OUT, BENCH_SERVER_CPU (core for
# taskset), BENCH_DUMP_FILE, BENCH_STEPS, BENCH_HITS, BENCH_PRE (gdb commands
# separated by ';' run before connecting, e.g. packet-size settings).
import glob
import os
import socket
import subprocess
import sys
import time
import zlib

import gdb

env = os.environ
kind = env["BENCH_KIND"]
server = env["BENCH_SERVER"]
server_name = env.get("BENCH_SERVER_NAME", os.path.basename(server))
prog = env["BENCH_PROG"]
out_path = env["BENCH_OUT"]
server_cpu_core = env.get("BENCH_SERVER_CPU", "0")


srv = None


def fail(msg):
    sys.stderr.write("bench %s %s: %s\n" % (kind, server_name, msg))
    if srv is not None and srv.poll() is None:
        srv.kill()
        srv.wait()
    os._exit(1)


def inferior_alive():
    try:
        return gdb.selected_inferior().pid > 0
    except gdb.error:
        return False


def cpu_seconds(pid):
    """CPU time of all threads of PID: schedstat (ns), else stat (ticks)."""
    total = 0
    tasks = glob.glob("/proc/%s/task/*/schedstat" % pid)
    if tasks:
        for t in tasks:
            try:
                with open(t) as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total / 1e9
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd):
    return gdb.execute(cmd, to_string=True)


for c in ("set pagination off", "set confirm off", "set height 0",
          "set debuginfod enabled off"):
    try:
        run(c)
    except gdb.error:
        pass
run("file " + prog)
for c in env.get("BENCH_PRE", "").split(";"):
    if c.strip():
        run(c.strip())

# --- launch: server start to gdb connected and stopped at the entry point ---
for attempt in range(5):
    port = free_port()
    gdb_cpu0 = cpu_seconds(os.getpid())
    t0 = time.perf_counter()
    srv = subprocess.Popen(["taskset", "-c", server_cpu_core, server, "--once",
                            ":%d" % port, prog],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    seen = b""
    while b"Listening on port" not in seen and b"Can't bind" not in seen:
        chunk = os.read(srv.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    if b"Listening on port" in seen:
        break
    srv.wait()
    if b"Can't bind" not in seen:
        fail("server did not start: %r" % seen.decode(errors="replace"))
else:
    fail("no free port after 5 attempts")

run("target remote 127.0.0.1:%d" % port)
t1 = time.perf_counter()
if not inferior_alive():
    fail("not stopped in a live inferior after target remote")
launch = (t1 - t0, cpu_seconds(os.getpid()) - gdb_cpu0, cpu_seconds(srv.pid))


def timed(fn):
    g0, s0 = cpu_seconds(os.getpid()), cpu_seconds(srv.pid)
    t = time.perf_counter()
    fn()
    t = time.perf_counter() - t
    return (t, cpu_seconds(os.getpid()) - g0, cpu_seconds(srv.pid) - s0)


def run_to(function):
    run("break " + function)
    run("continue")
    frame = gdb.selected_frame()
    if frame.name() != function:
        fail("expected a stop in %s, got %s" % (function, frame.name()))
    run("delete")


if kind == "launch":
    result = launch
elif kind == "dump":
    run_to("bench_ready")
    size = int(gdb.parse_and_eval("bench_buf_size"))
    dump_file = env["BENCH_DUMP_FILE"]
    result = timed(lambda: run("dump binary memory %s bench_buf bench_buf+%d"
                               % (dump_file, size)))
    with open(dump_file, "rb") as f:
        data = f.read()
    os.unlink(dump_file)
    want = int(gdb.parse_and_eval("bench_buf_crc")) & 0xffffffff
    if len(data) != size or (zlib.crc32(data) & 0xffffffff) != want:
        fail("dump is wrong: %d bytes, crc %08x, want %d bytes crc %08x"
             % (len(data), zlib.crc32(data) & 0xffffffff, size, want))
elif kind == "stepi":
    steps = int(env.get("BENCH_STEPS", "2000"))
    run_to("bench_spin")
    pc0 = int(gdb.parse_and_eval("$pc"))
    result = timed(lambda: run("stepi %d" % steps))
    if gdb.selected_frame().name() != "bench_spin" or int(gdb.parse_and_eval("$pc")) == pc0:
        fail("stepi left bench_spin or did not move")
elif kind == "bphits":
    hits = int(env.get("BENCH_HITS", "1000"))
    run_to("bench_hit")          # first call, not timed
    run("break bench_hit")
    before = int(gdb.parse_and_eval("bench_hits"))

    def continues():
        for _ in range(hits):
            run("continue")
    result = timed(continues)
    got = int(gdb.parse_and_eval("bench_hits")) - before
    if got != hits:
        fail("%d continues gave %d hits" % (hits, got))
else:
    fail("unknown BENCH_KIND")

run("kill")
try:
    srv.wait(timeout=10)
except subprocess.TimeoutExpired:
    srv.kill()
    srv.wait()
    fail("server still running 10 s after kill")
with open(out_path, "a") as f:
    f.write("%s %s %.6f %.6f %.6f\n" % (kind, server_name, result[0], result[1], result[2]))
