# ARM only (run in QEMU guests by testsuite/qemu/run-integration.sh):
# AArch64 and AArch32 registers through the target description, A32 and
# Thumb breakpoints, and single-stepping: AArch64 has PTRACE_SINGLESTEP
# (vCont;s), 32-bit ARM Linux has not, so the server leaves s/S out of
# vCont? and gdb steps by placing breakpoints at the next pcs itself.
import re

from harness import Skip

DEBUG_REMOTE = ["set debug remote 1"]


def need(t, arch):
    if t.arch != arch:
        raise Skip("%s only (the server under test is %s)" % (arch, t.arch))


def vcont_reply(stderr):
    m = re.search(r"Sending packet: \$vCont\?#..\n.*?Packet received: ([^\n]*)",
                  stderr, re.S)
    return m.group(1) if m else None


def test_registers_aarch64(t):
    need(t, "aarch64")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break square")
ex("continue")
eq(gdb.selected_frame().architecture().name(), "aarch64", "target description architecture")
out = ex("info registers pc")
m = matches(r"^pc\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+ )?<square\+\d+>", out, "info registers pc")
if m:
    eq(int(m.group(1), 16), pc(), "pc equals the frame pc")
eq(val("$x0"), 3, "first argument in x0")
eq(val("$sp") % 16, 0, "sp 16-byte aligned")
contains(ex("info symbol $x30"), "compute", "x30 (lr) returns into compute")
for reg in ["x%d" % i for i in range(31)] + ["sp", "pc", "cpsr", "v0", "v31", "fpsr", "fpcr", "d0", "s31", "q0"]:
    check(str(gdb.parse_and_eval("$" + reg).type) != "void", "register %s described" % reg)
matches(r"\[ EL=0 .*\]", ex("p $cpsr"), "cpsr printed as flags, EL0")
eq(val("$cpsr") & 0xf, 0, "cpsr M[3:0] = EL0t")
# SIMD/FP read and write (P or G packets), read back through the server
ex("set var $v0.s.u = {0x11111111, 0x22222222, 0x33333333, 0x44444444}")
eq(val("$v0.s.u[3]"), 0x44444444, "v0 write read back")
eq(val("$d0.u"), 0x2222222211111111, "d0 is the low half of v0")
ex("set var $d1.f = 2.5")
contains(ex("p $d1.f"), "2.5", "d1 written as a double")
eq(val("$v1.d.u[1]"), 0, "writing d1 cleared nothing else it should not")
ex("set var $x19 = 0x1122334455667788")
eq(val("$x19"), 0x1122334455667788, "x19 write read back")
# a register write that changes what the program does
ex("finish")
ex("set var $x0 = 100")
ex("next")
eq(val("total"), 100, "square's result replaced through x0")
''', port=srv.port, prog=t.prog("basic"))


def test_registers_arm(t):
    need(t, "arm")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break square")
ex("continue")
check(gdb.selected_frame().architecture().name().startswith("arm"), "target description architecture",
      gdb.selected_frame().architecture().name())
out = ex("info registers pc")
m = matches(r"^pc\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+ )?<square\+\d+>", out, "info registers pc")
if m:
    eq(int(m.group(1), 16), pc(), "pc equals the frame pc")
eq(val("$r0"), 3, "first argument in r0")
eq(val("$sp") % 8, 0, "sp 8-byte aligned")
contains(ex("info symbol $lr"), "compute", "lr returns into compute")
# (q0-q15: the description has the NEON feature as gdbserver's, but gdb 13
# creates no q pseudo registers from it: have_q_pseudos with a count of 0)
for reg in ["r%d" % i for i in range(13)] + ["sp", "lr", "pc", "cpsr", "d0", "d31", "fpscr", "s0", "s31"]:
    check(str(gdb.parse_and_eval("$" + reg).type) != "void", "register %s described" % reg)
cpsr = val("$cpsr")
eq(cpsr & 0x1f, 0x10, "cpsr mode = user")
check(cpsr & 0x20, "cpsr T bit: the default armhf code is Thumb-2", hex(cpsr))
ex("set var $d0 = 1.5")
contains(ex("p $d0"), "1.5", "d0 written as a double and read back")
ex("set var $d1 = 0")
ex("set var $s2 = 2.5")
contains(ex("p $s2"), "2.5", "s2 (low half of d1) written")
matches(r"raw 0x0+40200000\)", ex("info registers d1"), "s2 is the low half of d1 (2.5f = 0x40200000)")
ex("set var $r9 = 0x12345678")
eq(val("$r9"), 0x12345678, "r9 write read back")
ex("finish")
ex("set var $r0 = 100")
ex("next")
eq(val("total"), 100, "square's result replaced through r0")
''', port=srv.port, prog=t.prog("basic"))


def test_aarch64_hardware_step(t):
    """AArch64: the server offers vCont;s and gdb steps with it."""
    need(t, "aarch64")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    res = t.gdb(r'''
ex("break compute")
ex("continue")
at("compute", "compute-body")
ex("next")
ex("step")
at("square", "square-body", "step enters square (through the call)")
pcs = [pc()]
for _ in range(3):
    ex("stepi")
    pcs.append(pc())
check(len(set(pcs)) == 4, "three stepi, three new pcs", [hex(p) for p in pcs])
eq(func(), "square", "stepi stays in square")
# stepi on through the return into compute
for _ in range(20):
    if func() != "square":
        break
    ex("stepi")
eq(func(), "compute", "stepi across the return lands in compute")
''', port=srv.port, prog=t.prog("basic"), pre=DEBUG_REMOTE)
    reply = vcont_reply(res.stderr)
    t.check(reply and ";s" in reply and ";S" in reply, "vCont? offers s and S", reply)
    t.check(re.search(r"Sending packet: \$vCont;s", res.stderr) is not None,
            "gdb single-steps with vCont;s")


def arm_mode_session(t, prog, thumb):
    srv = t.start_server(t.prog(prog), options=["--once"])
    res = t.gdb(r'''
THUMB = @THUMB@
ex("break compute")
out = ex("continue")
at("compute", "compute-body", "breakpoint in compute")
bp = int(re.search(r"(0x[0-9a-f]+)\s+in compute", ex("info breakpoints")).group(1), 16)
eq(pc(), bp, "pc exactly at the breakpoint address")
eq(bool(val("$cpsr") & 0x20), THUMB, "cpsr T bit matches the code's instruction set")
# stepping: gdb computes next pcs itself and plants breakpoints there
ex("next")
ex("step")
at("square", "square-body", "step enters square (through the call)")
pcs = [pc()]
for _ in range(3):
    ex("stepi")
    pcs.append(pc())
check(len(set(pcs)) == 4, "three stepi, three new pcs", [hex(p) for p in pcs])
eq(func(), "square", "stepi stays in square")
for _ in range(20):
    if func() != "square":
        break
    ex("stepi")
eq(func(), "compute", "stepi across the return lands in compute")
ex("break %d" % line_of("compute-add"))
ex("continue")
at("compute", "compute-add", "continue to a line breakpoint")
ex("step")
at("add", "add-body", "step into add")
ex("next")
out = ex("finish")
contains(out, "Value returned is $1 = 4", "finish from add")
ex("delete")
ex("break bump")
ex("continue")
ex("continue")
eq(val("g_counter"), 1, "breakpoint re-hit after stepping over it")
ex("delete")
m = re.search(r"(0x[0-9a-f]+) - (0x[0-9a-f]+) is \.text\n", ex("info files"))
report("text", [int(m.group(1), 16), int(m.group(2), 16)] if m else None)
out = ex("continue")
contains(out, "exited normally", "runs to the end")
'''.replace("@THUMB@", str(thumb)), port=srv.port, prog=t.prog(prog),
                pre=DEBUG_REMOTE)
    return srv, res


def z0_kinds(stderr, text):
    """Kinds of the Z0 packets for addresses in the program's .text
    (libc and ld.so are Thumb whatever the program is)."""
    return set(k for a, k in re.findall(r"Sending packet: \$Z0,([0-9a-f]+),([0-9a-f]+)#", stderr)
               if text and text[0] <= int(a, 16) < text[1])


def test_arm_mode_breakpoints_and_software_step(t):
    """A32 code: 4-byte ARM breakpoints; no vCont;s, gdb steps in software."""
    need(t, "arm")
    srv, res = arm_mode_session(t, "basic-arm", False)
    t.eq(z0_kinds(res.stderr, res.values.get("text")), {"4"},
         "Z0 kind 4 (A32 breakpoint) in the program")
    reply = vcont_reply(res.stderr)
    t.check(reply is not None and reply.startswith("vCont") and
            not re.search(r";[sS](;|$)", reply),
            "vCont? leaves out s/S (32-bit ARM Linux has no PTRACE_SINGLESTEP)", reply)
    t.check(not re.search(r"Sending packet: \$(vCont;s|s#)", res.stderr),
            "gdb never asked for a hardware single-step")
    t.check(srv.stdout.wait_line(re.escape("basic done 3 43"), 5) is not None, "program output intact",
            srv.stdout.text()[-200:])


def test_thumb_mode_breakpoints_and_software_step(t):
    """Thumb-2 code: 2- or 4-byte Thumb breakpoints (kind 2 or 3)."""
    need(t, "arm")
    srv, res = arm_mode_session(t, "basic-thumb", True)
    kinds = z0_kinds(res.stderr, res.values.get("text"))
    t.check(kinds and kinds <= {"2", "3"}, "Z0 kinds in the program are Thumb (2/3)", kinds)
    t.check(not re.search(r"Sending packet: \$(vCont;s|s#)", res.stderr),
            "gdb never asked for a hardware single-step")
    t.check(srv.stdout.wait_line(re.escape("basic done 3 43"), 5) is not None, "program output intact",
            srv.stdout.text()[-200:])


test_arm_mode_breakpoints_and_software_step.weight = 3
test_thumb_mode_breakpoints_and_software_step.weight = 3
