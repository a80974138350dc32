# Tracepoints with the real gdb (issue 15): trace/actions/collect,
# while-stepping, trace state variables, conditions, pass counts, tstart/
# tstatus/tstop, tfind in all its forms, tdump, printing collected and
# uncollected values from a frame, tsave then `target tfile`. Raw packets:
# malformed definitions and absurd numbers get E replies and the server
# keeps serving; a small circular buffer; the --replay target refuses a run.
import os
import re

import harness
from harness import RSP, csgdbserver_only

# gdb commands sourced from a file: `actions` and `while-stepping` read
# their body line by line, which gdb.execute cannot feed them.
PRELUDE = r'''
import tempfile
def script(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False)
    f.write(text)
    f.close()
    return ex("source " + f.name)
loop = line_of("traced-loop", "traced.c") + 1
# after the dynamic loader's libraries: gdb sets the locations again then
ex("break main")
ex("continue")
'''

# Tracepoint 1 at traced(): registers, arguments, memory behind a pointer,
# a global, a trace state variable counted up by teval. Tracepoint 2 in the
# loop: locals, and two while-stepping steps of registers. 5 calls, 3 loop
# turns each: 5 + 15 + 2 * 15 frames.
COLLECT = PRELUDE + r'''
script("""tvariable $hits = 100
trace traced
actions
collect $regs, n, *p@3, pt, g_hits
teval $hits = $hits + 1
collect $hits
end
trace %d
actions
collect sum, i
while-stepping 2
collect $regs
end
end
""" % loop)
ex("break %d" % line_of("main-done", "traced.c"))
contains(ex("tstart"), "", "tstart")
out = ex("continue")
contains(out, "Breakpoint 4, main", "the program ran through the tracepoints to the breakpoint")
check("SIGTRAP" not in out, "no tracepoint hit reached gdb as a stop", out)
status = ex("tstatus")
contains(status, "Trace is running on the target.", "tstatus: running")
contains(status, "Collected 50 trace frames.", "tstatus: 5 + 15 + 30 frames")
ex("tstop")
status = ex("tstatus")
contains(status, "Trace stopped by a tstop command", "tstatus: stopped by tstop")
info = ex("info tracepoints")
matches(r"tracepoint already hit 5 times", info, "tracepoint 2 hit 5 times")
# gdbserver says 21: it counts the while-stepping steps that come back to
# the tracepoint's address, without a frame for them
if @CSG@:
    matches(r"tracepoint already hit 15 times", info, "tracepoint 3 hit 15 times")

contains(ex("tfind start"), "Found trace frame 0, tracepoint 2", "tfind start")
eq(val("n"), 0, "argument n of the first hit")
contains(ex("print *p@3"), "{10, 20, 30}", "memory behind the pointer collected")
contains(ex("print pt"), "{x = 0, y = 100}", "struct argument collected")
eq(val("g_hits"), 0, "global collected before the first call bumped it")
contains(ex("print g_never"), "<unavailable>", "an uncollected global is unavailable")
contains(ex("print g_values[5]"), "<unavailable>", "memory next to the collected range is unavailable")
eq(val("$hits"), 101, "trace state variable collected after teval")
contains(ex("info symbol $pc"), "traced", "frame PC in traced")
dump = ex("tdump")
contains(dump, "Data collected at tracepoint 2, trace frame 0:", "tdump header")
contains(dump, "*p@3 = {10, 20, 30}", "tdump shows the memory")
matches(r"(rip|pc|x29)\s+0x", dump, "tdump shows registers")

contains(ex("tfind tracepoint 3"), "Found trace frame 1, tracepoint 3", "tfind tracepoint 3")
eq(val("i"), 0, "loop counter of the first turn")
eq(val("sum"), 0, "sum before the first addition")
loop_pc = pc()
contains(ex("tfind"), "Found trace frame 2, tracepoint 3", "next frame: a while-stepping step")
check(pc() != loop_pc, "the step frame's PC moved on", hex(pc()))
contains(ex("print i"), "<unavailable>", "the step collected registers only")
contains(ex("tfind pc %d" % loop_pc), "Found trace frame 4, tracepoint 3", "tfind pc: the second turn")
eq(val("i"), 1, "loop counter of the second turn")
out = ex("tfind tracepoint 2")
contains(out, "Found trace frame 10, tracepoint 2", "tfind tracepoint 2 from frame 4: the second call")
eq(val("n"), 1, "argument of the second call")
eq(val("$hits"), 102, "trace state variable of the second hit")
ex("tfind 49")
eq(val("$trace_frame"), 49, "tfind 49: the last frame")
contains(ex("tfind end"), "No longer looking at any trace frame", "tfind end")
eq(val("g_hits"), 5, "live memory again after tfind end")
'''


def test_collect_tfind_tdump(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    csg = harness.server_kind(t.server_path) == "csgdbserver"
    t.gdb(COLLECT.replace("@CSG@", str(csg)), port=srv.port, prog=t.prog("traced"), timeout_s=60)


# A condition evaluated by the server, and a pass count that ends the run.
CONDITION = PRELUDE + r'''
script("""trace traced if n >= 3
actions
collect n
end
trace %d
passcount 4
actions
collect i
end
""" % loop)
ex("break %d" % line_of("main-done", "traced.c"))
ex("tstart")
ex("continue")
status = ex("tstatus")
matches(r"Trace stopped by tracepoint 3", status, "the pass count of tracepoint 3 stopped the run")
# tracepoint 2 collects at n == 3 only after tracepoint 3's fourth hit
contains(status, "Collected 4 trace frames.", "4 frames: tracepoint 3 four times, none of n < 3")
out = ex("tfind start")
contains(out, "tracepoint 3", "first frame is tracepoint 3's")
ex("tfind end")
'''


def test_condition_and_passcount(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    t.gdb(CONDITION, port=srv.port, prog=t.prog("traced"), timeout_s=60)


CONDITION_TRUE = PRELUDE + r'''
script("""trace traced if n >= 3
actions
collect n
end
""")
ex("break %d" % line_of("main-done", "traced.c"))
ex("tstart")
ex("continue")
ex("tstop")
contains(ex("tstatus"), "Collected 2 trace frames.", "condition n >= 3: the calls with 3 and 4")
ex("tfind start")
eq(val("n"), 3, "first frame: n == 3")
ex("tfind")
eq(val("n"), 4, "second frame: n == 4")
'''


def test_condition_on_target(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    t.gdb(CONDITION_TRUE, port=srv.port, prog=t.prog("traced"), timeout_s=60)


# tsave reads the raw buffer (qTBuffer); gdb reads the file back. Globals
# and registers: gdb cannot unwind a PIE program's frame from a tfile (it
# does not know where the program was loaded), so no locals.
TSAVE = PRELUDE + r'''
script("""trace traced
actions
collect $regs, g_hits, g_values[1]@3
end
""")
ex("break %d" % line_of("main-done", "traced.c"))
ex("tstart")
ex("continue")
ex("tstop")
ex("tfind start")
live_pc = pc()
ex("tfind end")
ex("tsave @PATH@")
check(os.path.getsize("@PATH@") > 0, "tsave wrote the file")
ex("kill")
out = ex("target tfile @PATH@")
status = ex("tstatus")
contains(status, "Collected 5 trace frames.", "the file holds the 5 frames")
contains(ex("tfind start"), "Found trace frame 0, tracepoint 2", "tfind in the file")
eq(int(gdb.parse_and_eval("$pc")), live_pc, "the register block read back: the PC")
eq(val("g_hits"), 0, "g_hits read back from the file")
contains(ex("print g_values[1]@3"), "{20, 30, 40}", "memory read back from the file")
ex("tfind 4")
eq(val("g_hits"), 4, "last frame's g_hits from the file")
eq(int(gdb.parse_and_eval("$pc")), live_pc, "last frame's PC from the file")
'''


def test_tsave_tfile(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    path = os.path.join(t.tmp, "run.tf")
    t.gdb("import os\n" + TSAVE.replace("@PATH@", path), port=srv.port, prog=t.prog("traced"),
          timeout_s=60)


def connect(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    return srv, RSP(srv.port)


def still_serves(t, rsp, what):
    t.check(rsp.command("?").startswith(b"T05"), "server still answers " + what)
    t.check(rsp.command("qTStatus").startswith(b"T0;"), "qTStatus still answers " + what)


@csgdbserver_only
def test_malformed_packets(t):
    # gdbserver parses these without checks (it reads past the packet)
    srv, rsp = connect(t)
    t.eq(rsp.command("QTinit"), b"OK", "QTinit")
    bad = [
        "QTDP:", "QTDP:1", "QTDP:1:", "QTDP:1:401000", "QTDP:1:401000:Q:0:0",
        "QTDP:zz:401000:E:0:0", "QTDP:0:401000:E:0:0", "QTDP:10000:401000:E:0:0",
        "QTDP:1:401000:E:0:0:Xfff,00", "QTDP:1:401000:E:0:0:X2,0",
        "QTDP:1:401000:E:0:0:X2,zzzz", "QTDP:1:401000:E:0:0:Q", "QTDP:1:401000:E:0:0junk",
        "QTDP:1:401000:E:ffffffffffffffffff:0",
        "QTDP:-1:401000:M0,0", "QTDP:-7:401000:R1",       # no such tracepoint yet
        "QTDPsrc:1:401000:at:0:4:61626364", "QTDV:", "QTDV:1:zz:0:", "QTDV:1:0:0:6",
        "QTFrame:", "QTFrame:zz", "QTFrame:pc:", "QTFrame:range:1", "QTFrame:tdp:",
        "qTBuffer:", "qTBuffer:10,", "qTBuffer:ffffffff,10", "QTBuffer:size:zz",
        "QTBuffer:circular:", "QTNotes:user:6", "QTNotes:bogus:00;", "QTro:1",
        "QTro:5,1", "QTEnable:1:401000", "QTDisable:", "qTP:1:401000", "qTV:zz",
        "QAllow:InsertTrace", "QTDisconnected:x",
    ]
    for pkt in bad:
        reply = rsp.command(pkt)
        t.check(reply.startswith(b"E"), "%s: E reply" % pkt, reply[:80])
    # the same numbers, well formed, are accepted: the errors were the syntax
    t.eq(rsp.command("QTDP:1:401000:E:0:0-"), b"OK", "QTDP well formed")
    t.eq(rsp.command("QTDP:-1:401000:R3ffM-1,401000,4X2,2601"), b"OK", "actions well formed")
    t.check(rsp.command("QTDP:-1:401000:M0,0,100000000").startswith(b"E"),
            "an absurd memory length: E")
    t.check(rsp.command("QTBuffer:size:%x" % (1 << 40)).startswith(b"E"),
            "a 1 TiB trace buffer: E")
    t.check(rsp.command("QTDP:-1:401000:" + "R1" * 2000).startswith(b"E"),
            "2000 actions in one packet: E")
    t.eq(rsp.command("qTfP"), b"T1:401000:E:0:0", "upload: the tracepoint")
    t.eq(rsp.command("qTsP"), b"A1:401000:R3ff", "upload: first action as sent")
    t.eq(rsp.command("qTsP"), b"A1:401000:M-1,401000,4", "upload: second action")
    t.eq(rsp.command("qTsP"), b"A1:401000:X2,2601", "upload: third action")
    t.eq(rsp.command("qTsP"), b"l", "upload: the end")
    # gdb downloads a tracepoint again when its location is set anew
    t.eq(rsp.command("QTDP:1:401000:D:2:5-"), b"OK", "a tracepoint defined again")
    t.eq(rsp.command("QTDP:-1:401000:SR1"), b"OK", "with a while-stepping action")
    t.eq(rsp.command("qTfP"), b"T1:401000:D:2:5", "upload: the new definition")
    t.eq(rsp.command("qTsP"), b"S1:401000:R1", "upload: its stepping action, the old gone")
    t.eq(rsp.command("qTsP"), b"l", "upload: the end again")
    t.eq(rsp.command("qTBuffer:0,10"), b"l", "an empty buffer: l at offset 0")
    t.eq(rsp.command("QTFrame:0"), b"F-1", "no frame 0 in an empty buffer")
    t.eq(rsp.command("QTFrame:tdp:ffffffff"), b"F-1", "tdp -1 (gdb's tfind tracepoint -1): none")
    still_serves(t, rsp, "after %d malformed packets" % len(bad))
    rsp.close()


# A buffer of two frames: circular, the oldest go and the run goes on;
# linear, the run stops with the buffer full. (A frame of `collect n` is
# 21 bytes: header 6, memory block 11 + 4; a global, since a local's
# collection brings the registers too.)
SMALL_BUFFER = PRELUDE + r'''
script("""trace traced
actions
collect g_hits
end
""")
ex("set circular-trace-buffer %s")
ex("set trace-buffer-size 60")
ex("break %%d" %% line_of("main-done", "traced.c"))
ex("tstart")
ex("continue")
status = ex("tstatus")
if %s:
    contains(status, "Trace is running on the target.", "circular: still running")
    contains(status, "Buffer contains 2 trace frames (of 5 created total).", "circular: the last two of five kept")
    contains(status, "Trace buffer has 18 bytes of 60 bytes free", "circular: 42 of 60 bytes used")
    ex("tstop")
    ex("tfind start")
    eq(val("g_hits"), 3, "circular: the oldest frame left is the fourth call's")
else:
    contains(status, "Trace stopped because the buffer was full.", "linear: stopped full")
    contains(status, "Collected 2 trace frames.", "linear: the first two frames kept")
    ex("tfind start")
    eq(val("g_hits"), 0, "linear: the first call's frame")
'''


# gdbserver counts its small buffer otherwise (4 frames of 21 bytes in 60)
@csgdbserver_only
def test_small_buffer_circular(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    t.gdb(SMALL_BUFFER % ("on", True), port=srv.port, prog=t.prog("traced"), timeout_s=60)


@csgdbserver_only
def test_small_buffer_linear(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    t.gdb(SMALL_BUFFER % ("off", False), port=srv.port, prog=t.prog("traced"), timeout_s=60)


def test_replay_refuses_tracepoints(t):
    if harness.server_kind(t.server_path) != "csgdbserver":
        raise harness.Skip("--replay is csgdbserver's")
    cap = harness.need_shared(harness.shared("etmv3-cortex-r5", "freertos"))
    srv = t.start_server(options=["--once", "--replay", cap])
    rsp = RSP(srv.port)
    t.check(rsp.command("qTStatus").startswith(b"T0;tnotrun:0;"), "qTStatus: nothing ran")
    t.eq(rsp.command("QTDP:1:8000:E:0:0"), b"OK", "a definition is only kept")
    reply = rsp.command("QTStart")
    t.check(reply.startswith(b"E.Replay target: tracepoints cannot collect"),
            "QTStart refused with the reason", reply[:120])
    t.eq(rsp.command("QTFrame:0"), b"F-1", "no frames")
    rsp.close()


# Four threads through one tracepoint 200 times each (tracethreads.c), up
# to main's breakpoint after they joined: every hit collected (the other
# threads are held while one steps over the breakpoint), none reaches gdb,
# and the program computes what it computes untraced.
TRACETHREADS_START = r"""
import re
ex("break main")
ex("continue")
ex("trace hit")
ex("@SECOND@ hit")
ex("break %d" % line_of("tracethreads-done", "tracethreads.c"))
ex("tstart")
"""
TRACETHREADS_COUNT = r"""
check("SIGTRAP" not in out and "SIGSTOP" not in out, "no stop of a tracepoint reached gdb", out[-300:])
m = re.search(r"Collected (\d+) trace frames", ex("tstatus"))
eq(int(m.group(1)) if m else 0, 800, "every one of the 800 hits collected")
ex("tstop")
"""

THREADS = TRACETHREADS_START.replace('ex("@SECOND@ hit")\n', "") + r"""
out = ex("continue")
contains(out, "Breakpoint 3, main", "the threads ran through to the breakpoint")
""" + TRACETHREADS_COUNT + r"""
ex("tfind start")
contains(ex("info symbol $pc"), "hit", "a frame in hit()")
ex("tfind end")
contains(ex("continue"), "exited normally", "the program ends")
"""

# A thread stopped by gdb on a tracepoint's address (a temporary breakpoint
# there), then let go while the other threads run through the tracepoint:
# it steps over the breakpoint with them held, so none passes it unseen
# and its own hit is collected once.
CONTINUE_FROM = TRACETHREADS_START.replace("@SECOND@", "tbreak") + r"""
out = ex("continue")
contains(out, "hit (", "a thread stopped on the tracepoint by gdb's temporary breakpoint")
if NON_STOP:   # the others run on; gdb keeps main selected
    [th for th in gdb.selected_inferior().threads() if th.is_stopped()][0].switch()
out = ex("continue")
contains(out, "Breakpoint 4, main", "the threads ran through to main's breakpoint")
ex("thread 1")   # non-stop: the one gdb let go may have ended meanwhile
""" + TRACETHREADS_COUNT + r"""
ex("delete")
contains(ex("continue"), "exited normally", "the program ends")
"""


def _tracethreads(t, body, non_stop):
    srv = t.start_server(t.prog("tracethreads"), options=["--once"])
    t.gdb("NON_STOP = %r\n" % non_stop + body, port=srv.port, prog=t.prog("tracethreads"),
          timeout_s=120, pre=["set non-stop on"] if non_stop else [])
    t.check(srv.stdout.wait_line(r"tracethreads done 1279600", 30) is not None,
            "the program's sum is right: every step over ran its instruction once")


def test_threads_every_hit(t):
    _tracethreads(t, THREADS, False)


def test_threads_every_hit_non_stop(t):
    _tracethreads(t, THREADS, True)


def test_threads_continue_from_tracepoint(t):
    _tracethreads(t, CONTINUE_FROM, False)


def test_threads_continue_from_tracepoint_non_stop(t):
    _tracethreads(t, CONTINUE_FROM, True)


# Tracepoints on a thread the software branch recorder steps: every hit
# collected once, the values right, the calls in the branch trace, and the
# program computes what it computes untraced.
WITH_BTRACE = PRELUDE + r'''
import re
ex("record btrace")
script("""trace traced
actions
collect n, g_hits
end
""")
ex("break %d" % line_of("main-done", "traced.c"))
ex("tstart")
out = ex("continue")
contains(out, "Breakpoint 3, main", "the recorded program ran through the tracepoint")
check("SIGTRAP" not in out, "no tracepoint hit reached gdb as a stop", out)
contains(ex("tstatus"), "Collected 5 trace frames.", "one frame per call")
ex("set record function-call-history-size unlimited")
hist = ex("record function-call-history")
eq(len(re.findall(r"\btraced\b", hist)), 5, "the five calls are in the branch trace")
ex("tstop")
contains(ex("tfind start"), "Found trace frame 0", "tfind start")
eq(val("n"), 0, "n of the first call")
contains(ex("tfind 4"), "Found trace frame 4", "tfind 4")
eq(val("n"), 4, "n of the fifth call")
eq(val("g_hits"), 4, "the global as the fifth call found it")
ex("tfind none")
ex("record stop")
contains(ex("continue"), "exited normally", "the program ends")
'''


def test_tracepoint_with_software_btrace(t):
    srv = t.start_server(t.prog("traced"), options=["--once"])
    t.gdb(WITH_BTRACE, port=srv.port, prog=t.prog("traced"), timeout_s=120)
    values = [10, 20, 30, 40, 50, 60, 70, 80]
    total = sum(sum(values[k:k + 3]) + 6 * k + k + 100 + k for k in range(5))
    t.check(srv.stdout.wait_line(r"traced done %d 5" % total, 30) is not None,
            "the program's result is right: each step over ran its instruction once",
            total)
