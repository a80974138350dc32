# Target-side breakpoint conditions and dprintf (gdb's agent expressions in
# Z0 ;X and ;cmds:, issue 15) with the real gdb: the condition is evaluated
# in the server, so gdb hears of a hit only when it holds (the stop replies
# in `set debug remote 1` are counted), dprintf-style agent prints on the
# server's stdout (as GNU gdbserver does), in all-stop and non-stop, with
# threads and with software branch recording on. Raw-RSP checks: malformed
# conditions get an E reply and the server keeps serving; --replay refuses
# them with its reason.
import os
import re

from harness import (ARCH, PROGS_SRC, RSP, csgdbserver_only, need_shared, require_hw_watchpoints,
                     shared)

DEBUG_REMOTE = ["set debug remote 1"]
TARGET_SIDE = ["set dprintf-style agent"]
# (condition-evaluation target is refused before gdb knows the target takes
# it: each body sets it first thing once connected)
TARGET_EVAL = 'ex("set breakpoint condition-evaluation target")\n'
# the PC's number in T replies and its size in bytes
PC_REG = {"x86_64": (0x10, 8), "aarch64": (0x20, 8), "arm": (0x0f, 4)}[ARCH]


def stops_at(stderr, pc):
    """SIGTRAP stop replies (packets and non-stop notifications) gdb
    received whose expedited PC is PC: the hits gdb heard of (a thread gdb
    asked to stop, T00, may stand there too)."""
    n = 0
    for m in re.finditer(r"(?:Packet|Notification) received: (?:Stop:)?(T05[^\n]*)", stderr):
        r = re.search(r"(?:^T..|;)%02x:([0-9a-f]{%d});" % (PC_REG[0], 2 * PC_REG[1]),
                      m.group(1))
        if r and int.from_bytes(bytes.fromhex(r.group(1)), "little") == pc:
            n += 1
    return n


def z0_packets(stderr):
    return re.findall(r"Sending packet: \$(Z0,[^#]*)#", stderr)


def dprintf_lines(t, srv, done="condhits done"):
    """The server's stdout once the program printed its last line."""
    srv.stdout.wait_line(re.escape(done), 20)
    return srv.stdout.text().splitlines()


def test_condition_evaluated_on_target(t):
    srv = t.start_server(t.prog("condhits"), "100", options=["--once"])
    res = t.gdb(TARGET_EVAL + r'''
ex("break hit if x == 5")
out = ex("continue")
contains(out, "hit (x=5", "stops where the condition holds")
eq(val("x"), 5, "x at the stop")
report("pc", pc())
out = ex("continue")
contains(out, "exited normally", "no other stop: the program ends")
''', port=srv.port, prog=t.prog("condhits"), pre=DEBUG_REMOTE + TARGET_SIDE)
    z0 = [z for z in z0_packets(res.stderr) if ";X" in z]
    t.check(z0, "gdb sends the condition as ;X with Z0", z0_packets(res.stderr)[:3])
    pc = res.values.get("pc")
    t.eq(stops_at(res.stderr, pc), 1, "one stop reply at hit's breakpoint for 100 hits")


def test_condition_on_hardware_breakpoint(t):
    require_hw_watchpoints()
    srv = t.start_server(t.prog("condhits"), "30", options=["--once"])
    res = t.gdb(TARGET_EVAL + r'''
ex("hbreak hit if x == 17")
out = ex("continue")
eq(val("x"), 17, "the hardware breakpoint stops where its condition holds")
report("pc", pc())
out = ex("continue")
contains(out, "exited normally", "and nowhere else")
''', port=srv.port, prog=t.prog("condhits"), pre=DEBUG_REMOTE + TARGET_SIDE)
    t.check([z for z in re.findall(r"Sending packet: \$(Z1,[^#]*)#", res.stderr) if ";X" in z],
            "gdb sends the condition with Z1")
    t.eq(stops_at(res.stderr, res.values.get("pc")), 1, "one stop reply for 30 hits")


def test_conditions_ored_and_replaced(t):
    srv = t.start_server(t.prog("condhits"), "20", options=["--once"])
    res = t.gdb(TARGET_EVAL + r'''
ex("break hit if x == 3")
ex("break hit if x == 8")
out = ex("continue")
eq(val("x"), 3, "first of two conditions at one address")
ex("condition 1 x == 11")
out = ex("continue")
eq(val("x"), 8, "the second one")
out = ex("continue")
eq(val("x"), 11, "the first, replaced (gdb re-sends Z0 with the new list)")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "no breakpoint left")
''', port=srv.port, prog=t.prog("condhits"), pre=DEBUG_REMOTE + TARGET_SIDE)
    two = [z for z in z0_packets(res.stderr) if len(re.findall(r"X[0-9a-f]+,", z)) == 2]
    t.check(two, "one Z0 carries both conditions", z0_packets(res.stderr)[:4])


@csgdbserver_only
def test_condition_error_reports_the_stop(t):
    # a condition that cannot be evaluated (memory at 8) reports the stop,
    # as gdbserver's code means to (an error counts as true); gdb then fails
    # to evaluate it itself and stops there with the error. (GNU gdbserver
    # 13 lets the program run to its end here.)
    srv = t.start_server(t.prog("condhits"), "20", options=["--once"])
    t.gdb(TARGET_EVAL + r'''
ex("break hit if *(int *)8 == 1")
out = ex("continue")
check("x=0" in out, "stopped at the first hit", out)
''', port=srv.port, prog=t.prog("condhits"), pre=TARGET_SIDE)


def test_dprintf_agent(t):
    srv = t.start_server(t.prog("condhits"), "20", "0", "1", options=["--once"])
    res = t.gdb(TARGET_EVAL + r'''
out = ex('dprintf tick,"x=%d w=%s|%5.2s|\\n", x, word, word')
m = re.search(r"Dprintf 1 at (0x[0-9a-f]+)", out)
check(m is not None, "dprintf set", out)
report("tick", int(m.group(1), 16) if m else 0)
out = ex("continue")
contains(out, "exited normally", "dprintf never stops the program")
''', port=srv.port, prog=t.prog("condhits"), pre=DEBUG_REMOTE + TARGET_SIDE)
    t.check([z for z in z0_packets(res.stderr) if ";cmds:" in z],
            "gdb sends the dprintf as ;cmds:", z0_packets(res.stderr)[:3])
    words = ["zero", "one", "two", "three"]
    want = ["x=%d w=%s|%5.2s|" % (i, words[i & 3], words[i & 3]) for i in range(20)]
    got = [line for line in dprintf_lines(t, srv) if line.startswith("x=")]
    t.eq(got, want, "the agent printed each call, in order, on the server's stdout")
    t.eq(stops_at(res.stderr, res.values.get("tick")), 0, "no stop reply at the dprintf")


def _threads_body(non_stop):
    return TARGET_EVAL + r'''
out = ex('dprintf tick,"x=%d\\n", x')
ex("break hit if x == 145")
out = ex("continue")
if NON_STOP:
    ex("thread %d" % last_stop()["thread"])   # the stopped one
eq(val("x"), 145, "stops once, where the condition holds")
report("pc", pc())
ex("continue -a" if NON_STOP else "continue")
if NON_STOP:
    wait_gone(inferior_pid(), 20)
'''.replace("NON_STOP", repr(non_stop))


def _check_threads(t, srv, res):
    got = [line for line in dprintf_lines(t, srv) if line.startswith("x=")]
    t.eq(sorted(int(line[2:]) for line in got), list(range(200)),
         "every call of tick printed once by the agent (4 threads x 50)")
    n = stops_at(res.stderr, res.values.get("pc"))
    if t.kind == "gnu":
        # GNU gdbserver sometimes reports a false hit too (non-stop): noted only
        t.log.write("GNU gdbserver: %d stop replies at hit's breakpoint\n" % n)
        t.check(n >= 1, "the true hit reported")
    else:
        t.eq(n, 1, "one stop reply at hit's breakpoint for 200 hits")


def test_conditions_threads_all_stop(t):
    srv = t.start_server(t.prog("condhits"), "50", "4", "1", options=["--once"])
    res = t.gdb(_threads_body(False), port=srv.port, prog=t.prog("condhits"),
                pre=DEBUG_REMOTE + TARGET_SIDE, timeout_s=60)
    _check_threads(t, srv, res)


def test_conditions_threads_non_stop(t):
    srv = t.start_server(t.prog("condhits"), "50", "4", "1", options=["--once"])
    res = t.gdb(_threads_body(True), port=srv.port, prog=t.prog("condhits"),
                pre=DEBUG_REMOTE + TARGET_SIDE + ["set non-stop on"], timeout_s=60)
    _check_threads(t, srv, res)


def test_conditions_threads_target_non_stop(t):
    """All-stop gdb over a non-stop target: gdb stops the other threads
    with vCont;t while some are held for a step over."""
    srv = t.start_server(t.prog("condhits"), "50", "4", "1", options=["--once"])
    res = t.gdb(_threads_body(False), port=srv.port, prog=t.prog("condhits"),
                pre=DEBUG_REMOTE + TARGET_SIDE + ["maintenance set target-non-stop on"],
                timeout_s=60)
    _check_threads(t, srv, res)


@csgdbserver_only
def test_conditions_with_software_btrace(t):
    srv = t.start_server(t.prog("condhits"), "10", "0", "1", options=["--once"])
    res = t.gdb(TARGET_EVAL + r'''
ex("break main")
ex("continue")
ex("record btrace")
ex('dprintf tick,"x=%d\\n", x')
ex("break hit if x == 5")
ex("continue")
eq(val("x"), 5, "stops where the condition holds while recording")
report("pc", pc())
ex("set record function-call-history-size unlimited")
hist = ex("record function-call-history")
eq(len(re.findall(r"\btick\b", hist)), 5, "the five dprintf calls before it are in the trace")
# The emulated ETMv4 trace (ARM) ends at the last branch: the current
# call's instructions before the breakpoint are not in it yet (the same
# with host evaluation), so its hit segment is the live one, not recorded.
eq(len(re.findall(r"\bhit\b", hist)), 6 if ARCH == "x86_64" else 5,
   "and the calls of hit (the current one too where the trace reaches the PC)")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "program completes")
''', port=srv.port, prog=t.prog("condhits"), pre=DEBUG_REMOTE + TARGET_SIDE, timeout_s=60)
    got = [line for line in dprintf_lines(t, srv) if line.startswith("x=")]
    t.eq(got, ["x=%d" % i for i in range(10)], "dprintf printed by the agent while recording")
    t.eq(stops_at(res.stderr, res.values.get("pc")), 1, "one stop reply at hit's breakpoint")


@csgdbserver_only
def test_malformed_conditions_raw(t):
    srv = t.start_server(t.prog("condhits"), options=["--once"])
    rsp = RSP(srv.port)
    sup = rsp.command("qSupported:multiprocess+;swbreak+")
    t.check(b"ConditionalBreakpoints+" in sup and b"BreakpointCommands+" in sup,
            "qSupported offers target-side conditions and commands", sup[-120:])
    stop = rsp.command("?")
    r = re.search(rb"(?:^T..|;)%02x:([0-9a-f]{%d});" % (PC_REG[0], 2 * PC_REG[1]), stop)
    pc = int.from_bytes(bytes.fromhex(r.group(1).decode()), "little") if r else 0
    kind = {"x86_64": 1, "aarch64": 4, "arm": 4}[ARCH]
    z = "Z0,%x,%d" % (pc, kind)
    bad = {
        "odd hex digits": z + ";X2,227",
        "not hex": z + ";X2,zz27",
        "length past the bytes": z + ";X9,2227",
        "zero length": z + ";X0,",
        "absurd length": z + ";Xffffffffffffffff,27",
        "too big": z + ";X%x," % 5000 + "27" * 5000,
        "no comma": z + ";X2",
        "bad length digits": z + ";Xq,27",
        "truncated commands": z + ";cmds:1",
        "bad persist": z + ";cmds:7,X1,27",
        "unknown option": z + ";Y1,27",
        "condition on a watchpoint": "Z2,%x,4;X1,27" % pc,
    }
    for what, packet in bad.items():
        reply = rsp.command(packet)
        t.check(reply.startswith(b"E"), "%s: E reply" % what, reply[:80])
    t.check(rsp.command("?").startswith(b"T05"), "server still answers after them")
    t.eq(rsp.command(z + ";X3,220127;X3,220027;cmds:0,X3,220027"), b"OK",
         "well-formed conditions and commands accepted")
    t.eq(rsp.command("z0,%x,%d" % (pc, kind)), b"OK", "and the breakpoint removed")
    rsp.close()


@csgdbserver_only
def test_replay_refuses_conditions(t):
    cap = need_shared(shared("etmv3-cortex-r5", "freertos"))
    srv = t.start_server(options=["--once", "--replay", cap])
    rsp = RSP(srv.port)
    sup = rsp.command("qSupported:multiprocess+;swbreak+")
    t.check(b"ConditionalBreakpoints" not in sup,
            "a capture does not offer target-side conditions (gdb evaluates them)", sup[-120:])
    stop = rsp.command("?")
    t.check(stop.startswith(b"T") or stop.startswith(b"S"), "replay answers '?'", stop[:40])
    reply = rsp.command("Z0,1000,2;X3,220127")
    t.check(reply.startswith(b"E.") and b"Replay target" in reply and b"condition" in reply,
            "Z0 with a condition refused with the reason", reply[:160])
    reply = rsp.command("Z0,1000,2;cmds:0,X3,220027")
    t.check(reply.startswith(b"E.Replay target"), "Z0 with commands refused", reply[:80])
    t.eq(rsp.command("Z0,1000,2"), b"OK", "a plain breakpoint is still accepted")
    rsp.close()


# Non-stop (gdb/MI, as an IDE drives it): every thread runs through a
# breakpoint whose condition is false while gdb resumes and interrupts them
# all, ten times (gdb's gdb.threads/interrupt-while-step-over.exp). Each
# interrupt stops every thread exactly once: a thread gdb had seen stopped
# is not stopped a second time (gdb asserts on that), a thread that stopped
# while held for another's step over is reported, and gdb's own step of a
# thread (displaced or in-line over all_started's breakpoint) is not turned
# into a continue by the `c` for the others (the thread would run off the
# displaced-step buffer: SIGSEGV).
def _interrupt_while_stepping_over(t, displaced):
    from mi import MI
    prog = t.prog("spinners")
    srv = t.start_server(prog, options=["--once"])
    mi = MI(t)
    for cmd in ["-gdb-set mi-async on", "-gdb-set non-stop on",
                "-gdb-set displaced-stepping " + displaced,
                "-file-exec-and-symbols " + prog]:
        mi.command(cmd)
    mi.command("-target-select remote 127.0.0.1:%d" % srv.port, seconds=60)
    mi.wait_stopped(60)
    mi.command("-break-insert all_started")
    mi.command("-exec-continue")
    mi.wait_stopped(60, pred=lambda r: r.get("reason") == "breakpoint-hit")
    with open(os.path.join(PROGS_SRC, "spinners.c")) as f:
        line = next(n for n, text in enumerate(f, 1) if "@spinners-loop" in text)
    mi.command("-break-insert -c always_zero spinners.c:%d" % line)
    nthreads = 9
    for it in range(10):
        mi.mark()
        rec = mi.command("-exec-continue --all")
        t.eq(rec.cls, "running", "iteration %d: -exec-continue --all" % it)
        info = mi.command("-thread-info")
        running = [th for th in info["threads"] if th.get("state") == "running"]
        t.check(len(running) == nthreads, "iteration %d: all %d threads run" % (it, nthreads),
                [th.get("state") for th in info["threads"]])
        start = len(mi.records)
        mi.command("-exec-interrupt --all")
        stopped = []
        for _ in range(nthreads):
            stopped.append(mi.wait_stopped(30))
        tids = [s.get("thread-id") for s in stopped]
        t.check(len(set(tids)) == nthreads, "iteration %d: each thread stopped once" % it, tids)
        odd = [(s.get("reason"), s.get("signal-name")) for s in stopped
               if (s.get("reason"), s.get("signal-name")) != ("signal-received", "0")]
        t.check(not odd, "iteration %d: stops are the interrupt's (no hit, no SIGSEGV)" % it, odd)
        info = mi.command("-thread-info")
        t.check(all(th.get("state") == "stopped" for th in info["threads"]),
                "iteration %d: every thread stopped" % it,
                [th.get("state") for th in info["threads"]])
        extra = [r for r in mi.since("*", "stopped", start)][nthreads:]
        t.check(not extra, "iteration %d: no second stop" % it, extra[:2])
        if t.problems:
            break
    mi.exit()


def test_interrupt_while_stepping_over_displaced(t):
    _interrupt_while_stepping_over(t, "on")


def test_interrupt_while_stepping_over_inline(t):
    _interrupt_while_stepping_over(t, "off")


# A breakpoint instruction in the program (gdb's "permanent" breakpoint)
# with gdb's breakpoint and a false condition on it, evaluated by the
# server: stepping over it would trap on it again for ever; gdb hears of
# the hit and skips the instruction (gdb.base/bp-permanent.exp).
def test_false_condition_on_program_breakpoint(t):
    srv = t.start_server(t.prog("permbp"), options=["--once"])
    t.gdb(TARGET_EVAL + r'''
ex("break %d if 0" % line_of("permbp-insn", "permbp.c"))
ex("break %d" % line_of("permbp-done", "permbp.c"))
out = ex("continue")
contains(out, "permbp-done", "the program ran past its breakpoint instruction twice")
eq(val("counter"), 4, "both calls ran to their end")
contains(ex("continue"), "exited normally", "the program ends")
''', port=srv.port, prog=t.prog("permbp"), timeout_s=60)
