# Hardware watchpoints (Z2/Z3/Z4) and hardware breakpoints (Z1): gdb's
# reports and the stop reasons in the server's T packets (watch:/rwatch:/
# awatch:/hwbreak:), seen through `set debug remote 1` on gdb's stderr.
# When the machine's debug registers never fire (checked once with the
# native gdb, see harness.probe_hw_watchpoints), the trigger tests skip with
# that reason; test_hw_insert_remove and test_too_many_watchpoints still run
# the Z1-Z4/z1-z4 paths and test_software_watchpoint the stepping path.
import re

from harness import require_hw_watchpoints

DEBUG_REMOTE = ["set debug remote 1"]


def replies_to(stderr, prefix):
    """(packet, reply) for every packet gdb sent starting with PREFIX."""
    pairs = []
    pending = None
    for text in stderr.splitlines():
        m = re.search(r"Sending packet: \$([^#]*)#", text)
        if m:
            pending = m.group(1) if m.group(1).startswith(prefix) else None
            continue
        m = re.search(r"Packet received: (.*)$", text)
        if m and pending is not None:
            pairs.append((pending, m.group(1)))
            pending = None
    return pairs


def stop_replies(stderr):
    """Payloads of the T stop replies gdb received."""
    return re.findall(r"Packet received: (T[0-9a-f]{2}[^\n]*)", stderr)


def test_watch_write(t):
    require_hw_watchpoints()
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
ex("break main")
ex("continue")
out = ex("watch g_counter")
contains(out, "Hardware watchpoint 2: g_counter", "watch uses a hardware watchpoint")
report("addr", val("&g_counter"))
out = ex("continue")
contains(out, "Hardware watchpoint 2: g_counter", "write reported")
matches(r"Old value = 0\s+New value = 1", out, "old/new value of the first write")
eq(func(), "bump", "stopped in the writer")
# x86 reports data watchpoints after the writing instruction: the pc is on
# the writing line or the closing brace just after it
check(line() in (line_of("bump-write"), line_of("bump-write") + 1),
      "stopped just after the write", line())
eq(last_stop().get("bp_types"), [gdb.BP_HARDWARE_WATCHPOINT], "stop event type")
out = ex("continue")
matches(r"Old value = 1\s+New value = 2", out, "second write")
ex("delete 2")
ex("break %d" % line_of("main-done"))
out = ex("continue")
at("main", "main-done", "deleted watchpoint no longer stops")
eq(val("g_counter"), 3, "all three writes happened")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    addr = res.values.get("addr")
    replies = stop_replies(res.stderr)
    watch = [r for r in replies if "watch:" in r]
    t.check(len(watch) >= 2, "two T replies carry watch:", replies[-4:])
    t.check(all(re.search(r"(^|;)watch:0*%x;" % addr, r) for r in watch),
            "watch: gives the watched address %#x" % (addr or 0), watch)


def test_rwatch_awatch(t):
    require_hw_watchpoints()
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
ex("break %d" % line_of("main-peek"))
ex("continue")
out = ex("rwatch g_counter")
contains(out, "Hardware read watchpoint 2: g_counter", "rwatch set")
out = ex("continue")
contains(out, "Hardware read watchpoint 2: g_counter", "read reported")
contains(out, "Value = 3", "value at the read")
eq(func(), "peek", "stopped in the reader")
ex("delete 2")
out = ex("awatch g_sink")
contains(out, "Hardware access (read/write) watchpoint 3: g_sink", "awatch set")
out = ex("continue")
contains(out, "Hardware access (read/write) watchpoint 3: g_sink", "access reported")
matches(r"(Old value = 0\s+New value = 3|Value = 3)", out, "write of 3 to g_sink seen")
eq(func(), "main", "g_sink written in main")
out = ex("continue")
contains(out, "watchpoint 3: g_sink", "next access reported")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "runs to the end without watchpoints")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    replies = stop_replies(res.stderr)
    # rwatch: only if the server accepted Z3; else gdb used Z4 (awatch:)
    t.check(any("rwatch:" in r or "awatch:" in r for r in replies),
            "a T reply carries rwatch:/awatch: for the read", replies[-5:])
    t.check(any("awatch:" in r for r in replies), "a T reply carries awatch:",
            replies[-5:])


def test_too_many_watchpoints(t):
    """x86 has four debug registers: a fifth hardware watchpoint must be
    refused (E reply to Z2), not silently dropped; the four still work."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
ex("break main")
ex("continue")
for i in range(4):
    ex("watch g_array[%d]" % (i + 8))
ex("watch g_counter")
err = ex_error("continue")
eq(err, "Command aborted.", "continue with a fifth watchpoint aborts")
ex("delete 6")
ex("break %d" % line_of("main-done"))
ex("continue")
at("main", "main-done", "runs on with the four watchpoints left")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    t.check("Could not insert hardware watchpoint 6" in res.stderr,
            "gdb says watchpoint 6 could not be inserted")
    z2 = replies_to(res.stderr, "Z2,")
    t.check(len(z2) >= 5 and all(r == "OK" for _, r in z2[:4]),
            "first four Z2 answered OK", z2[:5])
    t.check(any(r.startswith("E") for _, r in z2[4:]),
            "a fifth Z2 answered with an E reply", z2[4:])


def test_hw_insert_remove(t):
    """Z1/Z2/Z3/Z4 and their z removals are accepted (OK), and the program
    runs on unharmed; nothing watched is touched after they are set."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
ex("break %d" % line_of("main-print"))
ex("continue")
contains(ex("hbreak square"), "Hardware assisted breakpoint 2", "hbreak set")
contains(ex("watch g_array[5]"), "Hardware watchpoint 3", "watch set")
contains(ex("rwatch g_array[6]"), "Hardware read watchpoint 4", "rwatch set")
contains(ex("awatch g_message[3]"), "Hardware access (read/write) watchpoint 5", "awatch set")
ex("break %d" % line_of("main-peek"))
ex("continue")
at("main", "main-peek", "runs to the next breakpoint with all four inserted")
eq(val("g_counter"), 3, "program state unharmed")
ex("delete 2-5")
out = ex("continue")
contains(out, "exited normally", "exits after deleting them")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    # x86 debug registers cannot watch reads only: gdbserver answers Z3 with
    # an empty reply (unsupported) and gdb falls back to an access watchpoint.
    z3 = replies_to(res.stderr, "Z3,")
    t.check(bool(z3) and all(r in ("", "OK") for _, r in z3),
            "Z3 answered OK or unsupported (empty)", z3)
    kinds = "124" if all(r == "" for _, r in z3) else "1234"
    t.check(len(replies_to(res.stderr, "Z4,")) >= (2 if "3" not in kinds
                                                   else 1),
            "rwatch fell back to Z4 when Z3 is unsupported")
    for kind in kinds:
        sent = replies_to(res.stderr, "Z%s," % kind)
        t.check(bool(sent) and all(r == "OK" for _, r in sent),
                "Z%s answered OK" % kind, sent)
        removed = replies_to(res.stderr, "z%s," % kind)
        t.check(bool(removed) and all(r == "OK" for _, r in removed),
                "z%s answered OK" % kind, removed)
    t.check(srv.stdout.wait_line(re.escape("basic done 3 43"), 5) is not None, "program output intact",
            srv.stdout.text()[-200:])


def test_software_watchpoint(t):
    """can-use-hw-watchpoints 0: gdb single-steps and compares; exercises
    vCont;s and memory reads at every step."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break bump")
ex("continue")
ex("set can-use-hw-watchpoints 0")
contains(ex("watch g_counter"), "Watchpoint 2: g_counter", "software watchpoint")
out = ex("continue")
matches(r"Old value = 0\s+New value = 1", out, "first write seen by stepping")
eq(func(), "bump", "stopped in the writer")
ex("delete 1")
out = ex("continue")
matches(r"Old value = 1\s+New value = 2", out, "second write")
''', port=srv.port, prog=t.prog("basic"))


def test_hbreak(t):
    require_hw_watchpoints()
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
out = ex("hbreak add")
contains(out, "Hardware assisted breakpoint 1", "hbreak accepted")
out = ex("continue")
contains(out, "Breakpoint 1, add (a=3, b=1)", "hardware breakpoint hit")
at("add", "add-body")
bp_addr = int(re.search(r"(0x[0-9a-f]+)\s+in add", ex("info breakpoints")).group(1), 16)
eq(pc(), bp_addr, "pc at the hardware breakpoint address")
out = ex("continue")
contains(out, "Breakpoint 1, add (a=3, b=40)", "second hit, resumes past the hbreak")
eq(val("b"), 40, "second call's argument")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "exits after deleting the hbreak")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    replies = stop_replies(res.stderr)
    t.check(sum("hwbreak:" in r for r in replies) >= 2,
            "T replies carry hwbreak:", replies[-4:])
    sent = re.findall(r"Sending packet: \$(Z1,[0-9a-f]+,[0-9a-f]+)#", res.stderr)
    t.check(bool(sent), "gdb used Z1 (not a software fallback)")


def test_hbreak_condition_resent(t):
    """gdb re-sends Z1 for an inserted hbreak when its target-side condition
    changes: it is the same point, and one z1 removes it."""
    require_hw_watchpoints()
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("set breakpoint condition-evaluation target")
ex("hbreak add")
out = ex("continue")
contains(out, "Breakpoint 1, add (a=3, b=1)", "hardware breakpoint hit")
ex("condition 1 b == 40")
out = ex("continue")
contains(out, "Breakpoint 1, add (a=3, b=40)", "the condition holds at the second call")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "deleted: nothing of it is left in the debug registers")
''', port=srv.port, prog=t.prog("basic"))
