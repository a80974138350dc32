# gdb/csgdbserver.py with the real gdb-multiarch on a --replay of the
# Cortex-R5 ETMv3 captures: reverse-finish lands on the caller's call
# instruction (the server's call history says which instruction, gdb's
# disassembler that it is a bl/blx, addr2line its line), reverse-next and
# next step over callees, the call history matches `monitor etm call-history`,
# the backtrace shows the trace's callers; the Eclipse CDT MI sequence for
# Reverse Step Over / Step Return / Resume; gdb's own commands elsewhere;
# `make install DESTDIR=` puts it where gdb loads it at start-up.
import os
import re
import shutil
import subprocess

import harness
from harness import ARCH, Skip, csgdbserver_only, timeout
from mi import MI

R5 = harness.shared("etmv3-cortex-r5")
GDB_MULTIARCH = "/usr/bin/gdb-multiarch"
EXTENSION = os.path.join(harness.TOP, "gdb", "csgdbserver.py")

BODY = r'''
import subprocess
ELF, DIRECT = %(elf)r, %(direct)r

def addr2line(pc):
    """(function, file:line) of PC from the ELF's own tables (binutils):
    the function is the outermost of an inlined chain (-i), the line the
    innermost."""
    out = subprocess.run(["addr2line", "-f", "-i", "-e", ELF, "0x%%x" %% pc],
                         capture_output=True, text=True).stdout.strip().split("\n")
    where = out[1].split(" (discriminator")[0].strip() if len(out) > 1 else "??"
    func = out[-2] if len(out) >= 2 else "??"
    return func, (None if where.endswith(":?") or where.endswith(":0") else where)

def position():
    r = gdb.current_recording()
    return r.replay_position.number if r.replay_position else r.end.number

def gdb_line(pc):
    sal = gdb.find_pc_line(pc)
    return "%%s:%%d" %% (sal.symtab.filename, sal.line) if sal.symtab else None

SEG = re.compile(r"^(\d+)\t( *)(\S+)\tinst (\d+),(\d+)$", re.M)

def segments(text):
    return [(int(n), len(ind) // 2, name, int(a), int(b)) for n, ind, name, a, b in SEG.findall(text)]

ex("record btrace")
end = gdb.current_recording().end.number
ex("record goto %%d" %% (end - 1))
status = ex("csgdbserver status")
contains(status, "engaged", "the extension engages on the replayed ARM trace")
report("status", status.strip())
ours = segments(ex("csgdbserver function-call-history /ic 1,100000"))
check(len(ours) > 100, "a nested call history", len(ours))
levels = set(s[1] for s in ours)
check(len(levels) > 2, "several call depths (gdb 13's own history is flat)", sorted(levels)[:5])
if DIRECT:
    # gdb numbers as the server does (no gap in gdb's decode): the server's
    # own call history (btrace_monitor.c) must be ours, segment by segment
    mon = segments(gdb.execute("monitor etm call-history 1,100000", to_string=True))
    a = [(s[0], s[1], s[3], s[4]) for s in ours]
    b = [(s[0], s[1], s[3], s[4]) for s in mon]
    diff = [(x, y) for x, y in zip(a, b) if x != y][:3]
    check(len(a) == len(b) and not diff, "call history = monitor etm call-history (numbers, "
          "depth, instructions) in all %%d segments" %% len(b), (len(a), len(b), diff))
else:
    contains(status, "re-found block by block", "gdb's decode has gaps: numbers re-found")

def parent_of(k):
    for j in range(k - 1, -1, -1):
        if ours[j][1] < ours[k][1]:
            return j
    return None

# reverse-finish from inside callees: to the caller's call instruction
picked = [k for k in range(len(ours)) if parent_of(k) is not None and
          ours[k][4] - ours[k][3] >= 2 and ours[parent_of(k) + 1][2] == ours[k][2]]
check(len(picked) >= 5, "callees to reverse-finish out of", len(picked))
done = 0
for k in picked[len(picked) // 2::max(1, len(picked) // 6)][:5]:
    p = parent_of(k)
    start = (ours[k][3] + ours[k][4]) // 2
    ex("record goto %%d" %% start)
    fn_here = addr2line(pc())[0]
    ex("reverse-finish")
    call_at = ours[p][4]
    eq(position(), call_at, "reverse-finish from %%d lands on the caller's last instruction %%d"
       %% (start, call_at))
    insn = ex("x/i $pc")
    check(re.search(r"\tblx?\b", insn), "it is a call (bl/blx)", insn.strip())
    caller, where = addr2line(pc())
    if where:
        eq(gdb_line(pc()).split("/")[-1], where.split("/")[-1],
           "gdb shows the call's line as addr2line reads it")
    bt = ex("bt")
    check(len(re.findall(r"^#0", bt, re.M)) == 1 and bt.count(" in ") + bt.count(" at ") >= 2,
          "the backtrace shows callers from the trace", bt[-300:])
    # the call goes to the function reverse-finish came out of
    ex("stepi")
    eq(addr2line(pc())[0], fn_here, "stepi from the call enters the function left (%%s)" %% fn_here)
    done += 1
report("reverse_finish_checked", done)

# reverse-next from just after a return: back to the start of the call's
# line, the callee not entered; next from there: over it again
after_ret = [k for k in range(1, len(ours)) if ours[k - 1][1] > ours[k][1] and
             ours[k][4] > ours[k][3]]
check(after_ret, "a segment right after a return")
tried = 0
spread = after_ret[len(after_ret) // 3::max(1, len(after_ret) // 40)]
for k in spread:
    if tried == 3:
        break
    lvl = ours[k][1]
    j = k - 1
    while j >= 0 and ours[j][1] > lvl:
        j -= 1
    if j < 0:
        continue
    call_at = ours[j][4]
    ex("record goto %%d" %% ours[k][3])
    if gdb.find_pc_line(pc()).symtab is None:
        continue
    ex("reverse-next")
    q = position()
    seg_q = [s for s in ours if s[3] <= q <= s[4]][0]
    check(q <= call_at and seg_q[1] <= lvl,
          "reverse-next from %%d stays out of the callee (at %%d, call at %%d)" %% (ours[k][3], q, call_at),
          (q, seg_q, lvl))
    ex("next")
    r = position()
    seg_r = [s for s in ours if s[3] <= r <= s[4]][0]
    check(r > call_at and seg_r[1] <= lvl, "next from %%d steps over the callee (to %%d)" %% (q, r),
          (r, seg_r, lvl))
    tried += 1
check(tried >= 2, "reverse-next / next tried from several returns", tried)
# aliases and help
contains(ex("help rn"), "csgdbserver's extension", "help reverse-next (rn) says what the extension does")
contains(ex("help rf"), "csgdbserver's extension", "rf is reverse-finish")
'''


def need_tools():
    if not shutil.which(GDB_MULTIARCH) or not shutil.which("addr2line"):
        raise Skip("gdb-multiarch or addr2line missing")


def replay(t, name):
    need_tools()
    cap = harness.need_shared(os.path.join(R5, name))
    elf = os.path.join(cap, [f for f in os.listdir(cap) if f.endswith(".elf")][0])
    srv = t.start_server(options=["--once", "--replay", cap])
    return srv, elf


def run_replay(t, name, direct):
    srv, elf = replay(t, name)
    harness.GDB = GDB_MULTIARCH
    res = t.gdb(BODY % {"elf": elf, "direct": direct}, port=srv.port, prog=elf, timeout_s=240,
                pre=["set debuginfod enabled off", "source " + EXTENSION])
    t.check(res.values.get("reverse_finish_checked", 0) >= 3, "reverse-finish checked in several callees",
            res.values.get("reverse_finish_checked"))
    t.log.write("status: %s\n" % res.values.get("status"))


@csgdbserver_only
@timeout(300)
def test_calls_replay_freertos(t):
    """No gap in gdb's decode: numbers direct, history = the server's."""
    run_replay(t, "freertos", True)


@csgdbserver_only
@timeout(300)
def test_calls_replay_zephyr(t):
    """gdb's own decode has gaps (Thumb/ARM by mapping symbols): the
    extension re-finds the numbers block by block."""
    run_replay(t, "zephyr", False)


def segs_of(text):
    return [(int(n), len(ind) // 2, int(a), int(b)) for n, ind, _, a, b in
            re.findall(r"^(\d+)\t( *)(\S+)\tinst (\d+),(\d+)$", text, re.M)]


def cdt_stop(t, mi, command, what):
    """COMMAND as CDT sends it: ^running, then *stopped; its frame."""
    mi.mark()
    rec = mi.command(command, seconds=60)
    t.check(rec.cls == "running", what + ": ^running", rec.line[:200])
    stop = mi.wait_stopped(seconds=60)
    return stop


@csgdbserver_only
@timeout(300)
def test_calls_eclipse_mi(t):
    """Eclipse CDT's Reverse Step Return / Reverse Step Over / Resume, in
    the forms CDT sends them (-interpreter-exec console, as
    GDBRunControl_7_0 does) and the -exec-* --reverse forms."""
    srv, elf = replay(t, "freertos")
    harness.GDB = GDB_MULTIARCH
    import mi as mi_mod
    mi_mod.GDB = GDB_MULTIARCH
    mi = MI(t, interpreter="mi2")
    try:
        for c in ("-gdb-set mi-async on", "-gdb-set debuginfod enabled off",
                  "-interpreter-exec console \"source %s\"" % EXTENSION,
                  "-file-exec-and-symbols --thread-group i1 %s" % elf):
            mi.command(c)
        mi.command("-target-select remote 127.0.0.1:%d" % srv.port, seconds=60)
        mi.wait_stopped()
        mi.command('-interpreter-exec --thread 1 console "record btrace"', seconds=60)
        first = len(mi.records)
        mi.command('-interpreter-exec console "monitor etm call-history 1,100000"', seconds=60)
        hist = "".join(r.text for r in mi.records[first:] if r.kind == "@")
        segs = segs_of(hist)
        t.check(len(segs) > 100, "the server's call history", hist[-200:])
        # a callee two levels down, in the middle of the trace
        k = next(i for i in range(len(segs) // 2, len(segs))
                 if segs[i][1] >= 2 and segs[i][3] - segs[i][2] >= 2)
        par = next(j for j in range(k - 1, -1, -1) if segs[j][1] < segs[k][1])
        start = (segs[k][2] + segs[k][3]) // 2

        def pc_at(n):
            mi.command('-interpreter-exec console "record goto %d"' % n)
            return int(mi.command("-data-evaluate-expression $pc").get("value").split()[0], 0)

        first_pc = pc_at(1)
        call_pc = pc_at(segs[par][3])
        pc_at(start)
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 --frame 0 console "reverse-finish"',
                        "Reverse Step Return")
        t.eq(stop.get("reason"), "end-stepping-range", "Reverse Step Return: a step's stop")
        t.eq(int(stop["frame"]["addr"], 16), call_pc, "Reverse Step Return stops on the call instruction")
        frames = mi.command("-stack-list-frames").get("stack")
        t.check(frames and len(frames) == 1, "CDT's stack (no frame filters): frame 0", frames)
        mi.command("-enable-frame-filters")
        frames = mi.command("-stack-list-frames").get("stack")
        t.check(frames and len(frames) >= 2, "with frame filters: the callers from the trace", frames)
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-next 1"',
                        "Reverse Step Over")
        back = int(stop["frame"]["addr"], 16)
        info = mi.command('-interpreter-exec console "info record"').console
        m = re.search(r"At instruction (\d+)\.", info)
        t.check(m and int(m.group(1)) <= segs[par][3], "Reverse Step Over stays in the caller", info)
        stop = cdt_stop(t, mi, "-exec-next --reverse", "-exec-next --reverse")
        t.check(stop.get("frame", {}).get("addr") is not None, "-exec-next --reverse stops", stop)
        pc_at(start)
        stop = cdt_stop(t, mi, "-exec-finish --reverse", "-exec-finish --reverse")
        t.eq(int(stop["frame"]["addr"], 16), call_pc, "-exec-finish --reverse: the same call")
        stop = cdt_stop(t, mi, "-exec-next", "Step Over forward while replaying")
        t.eq(stop.get("reason"), "end-stepping-range", "Step Over: a step's stop")
        after = mi.command('-interpreter-exec console "info record"').console
        m = re.search(r"At instruction (\d+)\.", after)
        t.check(m and int(m.group(1)) > segs[k][3], "Step Over goes over the callee to after "
                "its return (instruction %d)" % segs[k][3], after)
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-continue"',
                        "Reverse Resume")
        t.eq(int(stop["frame"]["addr"], 16), first_pc, "Reverse Resume runs back to the trace's start")
        t.check(back != 0, "positions reported", back)
    finally:
        mi.exit()


UNTOUCHED = r'''
# x86: gdb classifies calls itself; the extension stays out of the way,
# and forced on it must agree with gdb
ex("break main")
ex("continue")
ex("record btrace")
ex("break square")
for _ in range(3):
    ex("continue")
ex("delete")
def where():
    r = gdb.current_recording()
    return (r.replay_position.number if r.replay_position else r.end.number, pc())
contains(ex("csgdbserver status"), "not engaged", "not engaged on x86 (auto)")
native = []
ex("reverse-finish")
native.append(where())
ex("reverse-next")
native.append(where())
ex("reverse-finish")
native.append(where())
ex("record goto end")
ex("set csgdbserver engage on")
contains(ex("csgdbserver status"), "engaged", "engage on: engaged on x86 too")
ours = []
ex("reverse-finish")
ours.append(where())
ex("reverse-next")
ours.append(where())
ex("reverse-finish")
ours.append(where())
eq(ours, native, "the server's classification of the software recorder's blocks "
   "(capstone) steps as gdb's own: reverse-finish, reverse-next, reverse-finish")
hist = ex("csgdbserver function-call-history /c 1,20")
m = re.search(r"\n\d+\t( *)sum_of_squares\n\d+\t( *)square\n", hist)
check(m and len(m.group(2)) == len(m.group(1)) + 2, "the call history nests square under "
      "sum_of_squares", hist)
'''


@csgdbserver_only
@timeout(120)
def test_calls_untouched_elsewhere(t):
    """gdb's own commands where the extension does not engage: no target."""
    out = subprocess.run([harness.GDB, "-nx", "-batch", "-ex", "source " + EXTENSION,
                          "-ex", "reverse-next", "-ex", "reverse-finish", "-ex", "next"],
                         capture_output=True, text=True, timeout=60)
    t.check("Target None does not support this command." in out.stderr or
            "does not support" in out.stderr, "reverse-next without a target: gdb's refusal",
            out.stderr[-300:])
    t.check("The program is not being run." in out.stderr, "next without a program: gdb's own",
            out.stderr[-300:])


@csgdbserver_only
@timeout(120)
def test_calls_agree_with_gdb_on_x86(t):
    """On x86 the extension stays out of gdb's way; forced on, the software
    recorder's classification steps as gdb's own."""
    if ARCH != "x86_64":
        raise Skip("x86_64 only: gdb classifies calls itself only there")
    srv = t.start_server(t.prog("demo"), options=["--once"])
    t.gdb(UNTOUCHED, port=srv.port, prog=t.prog("demo"), pre=["source " + EXTENSION], timeout_s=60)


@csgdbserver_only
@timeout(120)
def test_calls_install_destdir(t):
    """make install DESTDIR=...: the extension lands in gdb's data
    directory (python/gdb/command/), and a gdb whose data directory holds
    it loads it at start-up."""
    if harness.TARGET.remote:
        # make install builds for this host: into a guest's cross build
        # directory it would put host objects
        raise Skip("make install is the host's; the host suite runs it")
    dest = os.path.join(t.tmp, "root")
    done = subprocess.run(["make", "-s", "-C", harness.TOP, "BUILD=" + t.build, "install",
                           "DESTDIR=" + dest, "PREFIX=/usr"], capture_output=True, text=True,
                          timeout=120)
    t.eq(done.returncode, 0, "make install into a DESTDIR (no root)")
    datadir = subprocess.run([harness.GDB, "-nx", "-batch", "-ex", "show data-directory"],
                             capture_output=True, text=True).stdout
    m = re.search(r'"(.*)"', datadir)
    t.check(m, "gdb says its data directory", datadir)
    installed = os.path.join(dest + m.group(1), "python", "gdb", "command", "csgdbserver.py")
    t.check(os.path.exists(installed), "installed at %s" % installed)
    with open(installed) as a, open(EXTENSION) as b:
        t.check(a.read() == b.read(), "the installed file is gdb/csgdbserver.py")
    # a copy of gdb's data directory with it: loaded at start-up
    copy = os.path.join(t.tmp, "datadir")
    shutil.copytree(m.group(1), copy, symlinks=True)
    shutil.copy(installed, os.path.join(copy, "python", "gdb", "command"))
    out = subprocess.run([harness.GDB, "-nx", "-batch", "-data-directory", copy,
                          "-ex", "help reverse-next", "-ex", "help csgdbserver"],
                         capture_output=True, text=True, timeout=60)
    t.check("csgdbserver's extension" in out.stdout, "gdb loads it at start-up",
            (out.stdout + out.stderr)[-300:])


LIVE = r'''
ARM32 = @ARM32@
ex("break compute")
ex("continue")
ex("record btrace")
for _ in range(3):
    ex("next")
at("compute", "compute-return", "three lines recorded live (gdb's own next)")
contains(ex("csgdbserver status"), "engaged", "the extension engages on the emulated ETMv4's trace")
ex("reverse-next")
at("compute", "compute-add", "reverse-next from the live end steps back over add()")
ex("reverse-next")
at("compute", "compute-square", "reverse-next steps back over square()")
if ARM32:
    # gdb steps 32-bit arm in software (no PTRACE_SINGLESTEP), which needs
    # the CPSR a replay lacks: the extension moves itself and says so
    out = ex_error("next")
    contains(out, "done over the trace", "next forward on arm: the extension's own move")
else:
    ex("next")
at("compute", "compute-add", "next forward while replaying steps over square()")
for _ in range(6):
    ex("reverse-stepi")
    if func() == "square":
        break
at("square", None, "reverse-stepi back into square() from its end")
contains(ex("bt"), "compute", "the backtrace shows the caller from the trace")
hist = ex("csgdbserver function-call-history /c 1,20")
check(re.search(r"\tcompute\n\d+\t  square\n", hist), "the call history nests square under compute", hist)
ex("reverse-finish")
at("compute", "compute-square", "reverse-finish out of square() lands in compute()")
contains(ex("x/i $pc"), "bl", "on the call instruction (bl)")
ex("record goto end")
eq(line(), line_of("compute-return"), "record goto end: the live position again")
out = ex("finish")
check(func() == "main", "gdb's own finish live after replay (out of compute)", out)
'''


@csgdbserver_only
@timeout(240)
def test_calls_live_emulated_etm(t):
    """Live, the emulated ETMv4 source in the aarch64 and arm guests:
    reverse-next over calls from the live end, next over a call while
    replaying, reverse-finish to the call, the trace's callers in bt."""
    if ARCH == "x86_64":
        raise Skip("the emulated ETMv4 serves ARM code (x86: test_calls_untouched_elsewhere)")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(LIVE.replace("@ARM32@", str(ARCH == "arm")), port=srv.port, prog=t.prog("basic"),
          pre=["source " + EXTENSION], timeout_s=120)


@csgdbserver_only
@timeout(240)
def test_calls_live_eclipse_mi(t):
    """Live in the ARM guests, as Eclipse CDT sends them: Reverse Step
    Over, Reverse Step Return, Reverse Resume."""
    if ARCH == "x86_64":
        raise Skip("the emulated ETMv4 serves ARM code")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    mi = MI(t, interpreter="mi2")
    try:
        for c in ("-gdb-set mi-async on", "-interpreter-exec console \"source %s\"" % EXTENSION,
                  "-file-exec-and-symbols --thread-group i1 %s" % t.prog("basic"),
                  "-break-insert -f compute"):
            mi.command(c)
        mi.command("-target-select remote 127.0.0.1:%d" % srv.port, seconds=60)
        mi.wait_stopped(seconds=60)      # the connection's stop
        stop = cdt_stop(t, mi, "-exec-continue", "to compute()")
        t.eq(stop["frame"].get("func"), "compute", "at the breakpoint in compute()")
        mi.command('-interpreter-exec --thread 1 console "record btrace"', seconds=60)
        for _ in range(3):
            cdt_stop(t, mi, "-exec-next", "Step Over (live)")
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-next 1"',
                        "Reverse Step Over")
        t.eq(stop["frame"].get("func"), "compute", "Reverse Step Over stays in compute")
        t.eq(int(stop["frame"].get("line", 0)), line_of_basic("compute-add"),
             "Reverse Step Over: back over add() to its line")
        for _ in range(6):
            stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-stepi 1"',
                            "Reverse Step Into (instruction mode)")
            if stop["frame"].get("func") == "square":
                break
        t.eq(stop["frame"].get("func"), "square", "reverse-stepi back into square() from its end")
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 --frame 0 console "reverse-finish"',
                        "Reverse Step Return")
        t.eq(stop["frame"].get("func"), "compute", "Reverse Step Return: back in compute()")
        t.eq(int(stop["frame"].get("line", 0)), line_of_basic("compute-square"),
             "Reverse Step Return: on the call's line")
        stop = cdt_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-continue"', "Reverse Resume")
        t.eq(stop["frame"].get("func"), "compute", "Reverse Resume: to the trace's start in compute()")
    finally:
        mi.exit()


def line_of_basic(marker):
    with open(os.path.join(harness.PROGS_SRC, "basic.c")) as f:
        for number, text in enumerate(f, 1):
            if "@%s " % marker in text or text.rstrip().endswith("@%s */" % marker):
                return number
    raise KeyError(marker)


@csgdbserver_only
@timeout(120)
def test_calls_packet_hostile(t):
    """qXfer:btrace-calls:read over raw packets: advertised; refused with
    the reason before recording, for a bad or absurd annex, a chunk past 0
    not read from 0; absurd offsets and lengths answered in bounds; the
    document read in pieces equals one read whole; the server serves on."""
    import socket
    srv, elf = replay(t, "freertos")
    rsp = harness.RSP(srv.port, timeout_s=30)
    rsp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sup = rsp.command("qSupported:multiprocess+;swbreak+")
    t.check(b"qXfer:btrace-calls:read+" in sup, "qSupported advertises qXfer:btrace-calls:read+")
    q = lambda annex, rng: rsp.command("qXfer:btrace-calls:read:%s:%s" % (annex, rng))
    t.eq(q("", "0,100"), b"E.Btrace not enabled.", "before Qbtrace: not enabled")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "Qbtrace:bts")
    for annex in ("zz", "p1", "p1.", "0", "-1", "p1.1x", "1" * 31, "p%x.%x" % (1, 0x80000000)):
        t.check(q(annex, "0,100").startswith(b"E.Bad annex"), "annex %r refused as bad" % annex[:12])
    t.check(q("9" * 40, "0,100").startswith(b"E."), "an annex longer than any thread id refused")
    t.eq(q("2", "0,100"), b"E.Btrace not enabled.", "another thread: not traced")
    t.check(q("", "100,100").startswith(b"E.Bad offset"), "a chunk past 0 first: read from 0 first")
    for rng in ("zz", "0", "0,", ",5", "1,2,3"):
        t.check(q("", rng).startswith(b"E"), "bad range %r refused" % rng)

    def read_all(annex, chunk):
        data, off = b"", 0
        while True:
            reply = q(annex, "%x,%x" % (off, chunk))
            t.check(reply[:1] in (b"m", b"l"), "chunk at %#x served" % off, reply[:60])
            if reply[:1] not in (b"m", b"l"):
                return None
            data += reply[1:]
            off += len(reply) - 1
            if reply[:1] == b"l":
                return data
    whole = read_all("", 0x3ffff)
    pieces = read_all("p1.1", 0x1234)
    t.check(whole and whole == pieces, "in pieces (thread p1.1) = whole (general thread)",
            (len(whole or b""), len(pieces or b"")))
    head = (whole or b"").split(b"\n", 1)[0].split()
    t.check(len(head) == 4 and head[0] == b"btrace-calls" and int(head[2], 16) > 200000,
            "the header counts the capture's instructions", head)
    t.check(all(c not in (whole or b"") for c in b"#$}*"), "no character the binary escape changes")
    q("", "0,10")
    t.eq(q("", "ffffffffffff,100"), b"l", "an offset past the end: empty last chunk")
    big = q("", "0,ffffffffffffffff")
    t.check(big[:1] in (b"m", b"l") and len(big) <= 0x40000 + 16, "an absurd length: one packet's worth",
            len(big))
    t.eq(rsp.command("qXfer:btrace-conf:read::0,fff")[:1], b"l", "the server serves on")
