# record btrace without trace hardware: the server single-steps the thread
# and serves gdb's bts block format (Qbtrace:bts, qXfer:btrace:read).
from harness import ARCH, Skip, csgdbserver_only


@csgdbserver_only
def test_record_and_reverse(t):
    if ARCH != "x86_64":
        raise Skip("gdb 13 unwinds btrace frames by call/return classes it has for x86 only "
                   "(reverse-finish: 'not meaningful in the outermost frame')")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break compute")
ex("continue")
ex("record btrace")
info = ex("info record")
contains(info, "Recording format: Branch Trace Store.", "bts format")
ex("next")
ex("next")
at("compute", "compute-add", "two lines recorded forward")
info = ex("info record")
m = re.search(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info)
check(m is not None, "info record counts", info)
check(int(m.group(1)) > 5, "more than a handful of instructions", info)
eq(int(m.group(3)), 0, "no gaps")
hist = ex("record function-call-history /c")
matches(r"compute\n\s*\d+\s+square\n\s*\d+\s+compute", hist,
        "call history: compute, square nested, back in compute")
ex("reverse-step")
at("compute", "compute-square", "reverse-step back to the rest of the call's line")
ex("reverse-step")
eq(func(), "square", "reverse-step enters square from its end")
ex("reverse-finish")
at("compute", "compute-square", "reverse-finish back at the call in compute")
for _ in range(3):
    if line() == line_of("compute-body"):
        break
    ex("reverse-next")
at("compute", "compute-body", "reverse-next back to the first recorded line")
out = ex("record goto end")
ex("next")
at("compute", "compute-return", "forward again after replay")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "program completes after recording")
''', port=srv.port, prog=t.prog("basic"))


@csgdbserver_only
def test_btrace_packets(t):
    """The raw packets: enable twice, bad annex, delta after all, off."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break compute")
ex("continue")
r = ex("maint packet Qbtrace-conf:bts:size=0x1000")
contains(r, 'received: "OK"', "size accepted")
r = ex("maint packet Qbtrace-conf:bts:size=zz")
contains(r, "E.Bad size value.", "bad size named")
r = ex("maint packet Qbtrace:bts")
contains(r, 'received: "OK"', "enabled")
r = ex("maint packet Qbtrace:bts")
contains(r, "E.Btrace already enabled.", "second enable refused")
r = ex("maint packet Qbtrace:CoreSight")
contains(r, "E.", "CoreSight refused without trace hardware")
ex("stepi")
ex("stepi")
r = ex("maint packet qXfer:btrace:read:all:0,1000")
matches(r'<block begin="0x[0-9a-f]+" end="0x[0-9a-f]+"/>', r, "all holds blocks")
check('begin="0x0"' not in r, "all never holds a begin=0 block", r)
r = ex("maint packet qXfer:btrace:read:bogus:0,1000")
contains(r, "E.Bad annex.", "bad annex")
r = ex("maint packet qXfer:btrace-conf:read::0,1000")
contains(r, '<bts size="0x1000"', "configured size reported")
r = ex("maint packet Qbtrace:off")
contains(r, 'received: "OK"', "disabled")
r = ex("maint packet Qbtrace:off")
contains(r, "E.Branch tracing not enabled.", "off twice refused")
''', port=srv.port, prog=t.prog("basic"))


FAST_VS_STEP = r'''
import hashlib
ex("monitor set btrace-step %s")
ex("handle SIGUSR1 nostop noprint pass")
ex("handle SIGSEGV nostop noprint pass")
ex("set record function-call-history-size unlimited")
ex("set record instruction-history-size unlimited")
ex("break indirect_calls")
ex("break syscalls")
ex("continue")
ex("set record btrace bts buffer-size 4194304")
ex("record btrace bts")
ex("continue")
at("syscalls", None, "ran to syscalls recorded")
# gdb reads the program's bytes, never a breakpoint instruction of ours.
code = ex("x/2i $pc")
check(not any(b in code for b in ("int3", "brk", "udf")), "no breakpoint visible at the stop", code)
info = ex("info record")
m = re.search(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info)
check(m is not None, "info record counts", info)
report("insns", m.group(1))
report("gaps", m.group(3))
hist = ex("record function-call-history /c")
report("calls", len(hist.splitlines()))
report("hist_md5", hashlib.md5(hist.encode()).hexdigest())
insns = ex("record instruction-history /f")
report("insn_md5", hashlib.md5(insns.encode()).hexdigest())
ex("record stop")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "program completes")
'''


@csgdbserver_only
def test_fast_path_same_as_stepping(t):
    """The recorder runs from branch to branch under temporary breakpoints;
    `monitor set btrace-step on` steps every instruction instead. gdb gets
    the same trace either way, and never sees the temporary breakpoints."""
    res = {}
    for mode in ("off", "on"):
        srv = t.start_server(t.prog("branchy"), "mix", "30", options=["--once"])
        res[mode] = t.gdb(FAST_VS_STEP % mode, port=srv.port, prog=t.prog("branchy"),
                          name="gdb-" + mode, timeout_s=120).values
    fast, slow = res["off"], res["on"]
    for key in ("insns", "gaps", "calls", "hist_md5", "insn_md5"):
        t.eq(fast.get(key), slow.get(key), "%s the same with and without the fast path" % key)
    t.check(int(fast.get("insns", 0)) > 1000, "thousands of instructions recorded", str(fast))
    # 32-bit arm: gdb 13 reads ld.so's lazy-binding stubs (A32, no symbols)
    # as Thumb and counts decode errors there, the same both ways (above).
    if ARCH != "arm":
        t.eq(fast.get("gaps"), "0", "no gaps")


# Two recordings, one of them stepping every instruction (slow under ASan).
test_fast_path_same_as_stepping.timeout = 120


@csgdbserver_only
def test_catch_syscall_while_recording(t):
    """`catch syscall` works while the program is recorded: the recorder
    steps a system call instruction with PTRACE_SYSCALL when calls are
    caught, so its entry and return stop as without recording (a plain
    single step passes both by), and the trace goes on across them."""
    srv = t.start_server(t.prog("output"), options=["--once"])
    t.gdb(r'''
ex("break main")
ex("continue")
ex("record btrace")
ex("catch syscall write")
out = ex("continue")
contains(out, "(call to syscall write)", "the recorded program stops at write's entry")
contains(ex("info record"), "Recorded", "recorded up to the call")
ex("record stop")
out = ex("continue")
contains(out, "(returned from syscall write)", "recording stopped at the entry: the return still stops")
ex("record btrace")
out = ex("continue")
contains(out, "(call to syscall write)", "the second write's entry, recorded")
m = re.search(r"Recorded (\d+) instructions", ex("info record"))
check(m is not None and int(m.group(1)) > 20, "recorded up to the call",
      m.group(0) if m else None)
before = int(m.group(1)) if m else 0
out = ex("continue")
contains(out, "(returned from syscall write)", "and at its return")
ex("delete")
ex("catch syscall exit_group")
out = ex("continue")
contains(out, "(call to syscall exit_group)", "exit_group's entry stops, recorded")
m = re.search(r"Recorded (\d+) instructions", ex("info record"))
check(m is not None and int(m.group(1)) > before, "recording went on across the calls",
      (m.group(0) if m else None, before))
contains(ex("record function-call-history"), "_exit", "the trace reaches _exit")
ex("record stop")
out = ex("continue")
contains(out, "exited with code 01", "the program completes")
''', port=srv.port, prog=t.prog("output"), timeout_s=120)


@csgdbserver_only
def test_record_across_thread_creation(t):
    """Recording goes on while the program creates threads: 32-bit arm
    steps glibc's conditional store-exclusive loops (pthread_barrier_wait)
    as one, and threads stepping the same code wait for each other's step
    breakpoints instead of trapping on them for ever."""
    srv = t.start_server(t.prog("threads"), options=["--once"])
    t.gdb(r'''
ex("break main")
ex("continue")
ex("record btrace")
ex("break all_started")
out = ex("continue")
contains(out, "all_started ()", "the creating thread reaches all_started, recorded")
threads = sorted(gdb.selected_inferior().threads(), key=lambda th: th.num)
eq(len(threads), 3, "two workers created")
main_calls = ex("record function-call-history 1,100000")
contains(main_calls, "pthread_create", "pthread_create is in the creator's trace")
contains(main_calls, "pthread_barrier_wait", "and the barrier it waited at")
for th in threads[1:]:
    th.switch()
    info = ex("info record")
    m = re.search(r"Recorded (\d+) instructions", info)
    check(m is not None and int(m.group(1)) > 50,
          "worker %d traced from its first instruction" % th.num, info)
    contains(ex("record function-call-history 1,100000"), "worker_mark",
             "worker %d's trace has worker_mark" % th.num)
ex("thread 1")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "the program completes")
''', port=srv.port, prog=t.prog("threads"), timeout_s=150)


# Every instruction of thread creation is recorded (stepped on 32-bit arm).
test_record_across_thread_creation.timeout = 200
