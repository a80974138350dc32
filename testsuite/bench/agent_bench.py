# One measurement of the agent bench (agent.sh), run inside gdb (gdb -batch
# -x agent_bench.py): a conditional breakpoint hit AGENT_HITS times and true
# at the last hit only, or a dprintf run AGENT_HITS times, with the
# condition / printf evaluated by the server (AGENT_EVAL=target: gdb's agent
# expressions, `dprintf-style agent`) or by gdb (host: every hit is a stop
# reply and a resume). Checks that it happened, appends one line
# "kind-eval server elapsed gdb_cpu server_cpu" to BENCH_OUT.
#
# Environment: AGENT_KIND (cond|dprintf), AGENT_EVAL (target|host),
# AGENT_HITS, BENCH_SERVER, BENCH_SERVER_NAME, BENCH_PROG, BENCH_OUT,
# BENCH_SERVER_CPU (core for taskset).
import os
import socket
import subprocess
import sys
import tempfile
import time

import gdb

env = os.environ
kind, how = env["AGENT_KIND"], env["AGENT_EVAL"]
hits = int(env.get("AGENT_HITS", "10000"))
server = env["BENCH_SERVER"]
server_name = env.get("BENCH_SERVER_NAME", os.path.basename(server))
prog = env["BENCH_PROG"]
srv = None


def fail(msg):
    sys.stderr.write("agent bench %s-%s %s: %s\n" % (kind, how, server_name, msg))
    if srv is not None and srv.poll() is None:
        srv.kill()
        srv.wait()
    os._exit(1)


def run(cmd):
    return gdb.execute(cmd, to_string=True)


def cpu_seconds(pid):
    with open("/proc/%s/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


for c in ("set pagination off", "set confirm off", "set height 0",
          "set debuginfod enabled off"):
    try:
        run(c)
    except gdb.error:
        pass
run("file " + prog)
# the agent's printf goes to the server's stdout: a file, counted after
out = tempfile.TemporaryFile()
# stderr to a file too: a pipe nobody reads fills up (GNU gdbserver
# writes a line per hit here) and blocks the server
errf = tempfile.NamedTemporaryFile(prefix="agent-bench-err")
for attempt in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    errf.seek(0)
    errf.truncate()
    srv = subprocess.Popen(["taskset", "-c", env.get("BENCH_SERVER_CPU", "0"), server,
                            "--once", ":%d" % port, prog, str(hits)],
                           stdin=subprocess.DEVNULL, stdout=out, stderr=errf)
    seen = b""
    deadline = time.monotonic() + 15
    while b"Listening on port" not in seen and b"Can't bind" not in seen and \
            srv.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
        with open(errf.name, "rb") as f:
            seen = f.read()
    if b"Listening on port" in seen:
        break
    srv.wait()
else:
    fail("server did not start")
run("target remote 127.0.0.1:%d" % port)
run("set breakpoint condition-evaluation " + how)
run("set dprintf-style " + ("agent" if how == "target" else "gdb"))
run("break bench_ready")
run("continue")
run("delete")


def timed(fn):
    g0, s0 = cpu_seconds(os.getpid()), cpu_seconds(srv.pid)
    t = time.perf_counter()
    text = fn()
    t = time.perf_counter() - t
    return text, (t, cpu_seconds(os.getpid()) - g0, cpu_seconds(srv.pid) - s0)


if kind == "cond":
    run("break bench_cond if i == %d" % (hits - 1))
    _, result = timed(lambda: run("continue"))
    if gdb.selected_frame().name() != "bench_cond" or int(gdb.parse_and_eval("i")) != hits - 1:
        fail("not stopped in bench_cond with i == %d" % (hits - 1))
    if int(gdb.parse_and_eval("bench_calls")) != hits - 1:
        fail("bench_calls is %s, not %d" % (gdb.parse_and_eval("bench_calls"), hits - 1))
elif kind == "dprintf":
    run('dprintf bench_print,"i=%lu\\n", i')
    run("break bench_done")
    text, result = timed(lambda: run("continue"))
    if gdb.selected_frame().name() != "bench_done":
        fail("not stopped in bench_done")
    if how == "host":
        printed = text.count("i=")
    else:
        out.seek(0)
        printed = out.read().count(b"i=")
    if printed != hits:
        fail("%d lines printed, not %d" % (printed, hits))
else:
    fail("unknown AGENT_KIND")

run("kill")
try:
    srv.wait(timeout=10)
except subprocess.TimeoutExpired:
    srv.kill()
    srv.wait()
with open(env["BENCH_OUT"], "a") as f:
    f.write("%s-%s %s %.6f %.6f %.6f\n" % (kind, how, server_name, *result))
