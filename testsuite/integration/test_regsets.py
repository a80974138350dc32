# The CPU's optional register sets through gdb-multiarch, side by side with
# GNU gdbserver 13 for the target (testsuite/cross/setup.sh unpacks
# Debian's; testsuite/qemu/run-integration.sh copies it into the guest and
# names it in ITEST_GNU_GDBSERVER): AArch64 SVE (z, p, ffr, vg), pointer
# authentication masks, MTE (tag_ctl, qMemTags/QMemTags behind gdb's
# memory-tag commands), TLS (tpidr, tpidr2); 32-bit ARM tpidruro. The
# aarch64 guest runs QEMU's -cpu max with -M virt,mte=on, which emulates
# SVE, PAC and MTE. progs/regsets.c puts the registers in known states.
import os

from harness import RSP, Skip

GNU = os.environ.get("ITEST_GNU_GDBSERVER", "")

# Runs in gdb: stop in regs_ready, report what the description has and the
# registers' values, write some, step, report them again, run to the end.
BODY = r'''
import re
ex("break regs_ready")
ex("continue")
arch = gdb.selected_frame().architecture()
report("regs", [r.name for r in arch.registers()])
report("features", re.findall(r'<feature name="([^"]+)"', ex("maint print xml-tdesc")))
has = set(r.name for r in arch.registers())

def lanes(expr):
    v = gdb.parse_and_eval(expr)
    lo, hi = v.type.range()
    return [int(v[i]) for i in range(lo, hi + 1)]

def try_(what, fn):
    try:
        return fn()
    except gdb.error as e:
        return "error: %s" % e

def snapshot():
    s = {}
    if "vg" in has:
        s["vg"] = val("$vg")
        for r in ["$z0.s.u", "$z1.d.u", "$z2.s.u", "$z31.b.u", "$p0", "$p1", "$p2", "$ffr", "$v0.s.u"]:
            s[r] = lanes(r)
    for r in ["fpsr", "fpcr", "pauth_dmask", "pauth_cmask", "tag_ctl", "tpidr", "tpidr2", "tpidruro"]:
        if r in has:
            s[r] = try_(r, lambda: val("$" + r) & 0xffffffffffffffff)
    s["g_tp"] = val("(unsigned long)g_tp")
    return s

report("before", snapshot())
tagged = val("(unsigned long)g_tagged")
if "tag_ctl" in has and tagged:
    mt = {}
    for c in ["print-logical-tag g_tagged", "print-allocation-tag g_tagged", "check g_tagged"]:
        mt[c] = try_(c, lambda: ex("memory-tag " + c).strip())
    mt["set"] = try_("set", lambda: ex("memory-tag set-allocation-tag g_tagged 16 05").strip())
    mt["after-set"] = try_("a", lambda: ex("memory-tag print-allocation-tag g_tagged").strip())
    mt["check-after-set"] = try_("c", lambda: ex("memory-tag check g_tagged").strip())
    mt["restore"] = try_("r", lambda: ex("memory-tag set-allocation-tag g_tagged 16 03").strip())
    mt["after-restore"] = try_("a", lambda: ex("memory-tag print-allocation-tag g_tagged").strip())
    report("memtags", mt)

writes = {}
def write(name, cmd):
    writes[name] = try_(name, lambda: ex(cmd)) or "ok"
if "vg" in has:
    write("z1", "set var $z1.d.u[$vg - 1] = 0x1122334455667788")
    write("p2", "set var $p2[1] = 0x55")
    write("ffr", "set var $ffr[0] = 0x0f")
    write("v2", "set var $v2.s.u[0] = 7")
if "pauth_dmask" in has:
    write("pauth_dmask", "set var $pauth_dmask = 0")
if "tag_ctl" in has:
    write("tag_ctl", "set var $tag_ctl = ($tag_ctl & ~6) | 4")   # TCF sync -> async
if "tpidr" in has:
    write("tpidr", "set var $tpidr = $tpidr + 16")
if "tpidruro" in has:
    write("tpidruro", "set var $tpidruro = 0x1234")
report("writes", writes)
ex("stepi")   # resume: the values below are the kernel's again
report("after", snapshot())
if "tpidr" in has:
    ex("set var $tpidr = $tpidr - 16")
if "tag_ctl" in has:
    ex("set var $tag_ctl = g_tag_ctl")
if "vg" in has and val("$vg") > 2:
    # a new vector length for the thread (gdbserver 13 ignores the write)
    report("vg_write", try_("vg", lambda: ex("set var $vg = %d" % (val("$vg") // 2))) or "ok")
    ex("stepi")
    report("after_vg", {"vg": val("$vg"), "$z0.s.u": lanes("$z0.s.u")})
report("end", ex("continue"))
'''


def run(t, server):
    """BODY against SERVER (path of csgdbserver or GNU gdbserver): its
    reported values."""
    srv = t.start_server(t.prog("regsets"), options=["--once"], server=server)
    res = t.gdb(BODY, port=srv.port, prog=t.prog("regsets"), timeout_s=60)
    return res.values


def chk(t, cond, what, detail=""):
    t.check(cond, what, repr(detail) if detail != "" else "")


def need(t, arch):
    if t.arch != arch:
        raise Skip("%s only (the server under test is %s)" % (arch, t.arch))


def check_sve(t, v):
    b, a, w = v["before"], v["after"], v["writes"]
    vg = b["vg"]
    chk(t, vg >= 2 and vg % 2 == 0, "vg is a whole number of 128-bit chunks", vg)
    chk(t, b["$z0.s.u"] == list(range(1, 2 * vg + 1)), "z0 = index z0.s, #1, #1 over all %d lanes" % (2 * vg),
            b["$z0.s.u"][:8])
    chk(t, b["$z31.b.u"] == [0x5a] * (8 * vg), "z31 = dup #0x5a, every byte", b["$z31.b.u"][:8])
    chk(t, b["$p0"] == [0x11] * vg, "p0 = ptrue p0.s (one bit per 4-byte lane)", b["$p0"])
    chk(t, b["$p1"] == [0] * vg, "p1 = pfalse", b["$p1"])
    chk(t, b["$ffr"] == [0xff] * vg, "ffr = setffr", b["$ffr"])
    chk(t, b["$v0.s.u"] == [1, 2, 3, 4], "v0 is the low 128 bits of z0", b["$v0.s.u"])
    chk(t, all(w[k] == "ok" for k in ["z1", "p2", "ffr", "v2"]), "z, p, ffr, v writes accepted", w)
    chk(t, a["$z1.d.u"][-1] == 0x1122334455667788, "z1's top lane written (past the V part)",
            a["$z1.d.u"])
    chk(t, a["$p2"][1] == 0x55 and a["$ffr"][0] == 0x0f, "p2 and ffr written", (a["$p2"], a["$ffr"]))
    chk(t, a["$z2.s.u"][0] == 7, "v2 write lands in z2", a["$z2.s.u"][:4])
    chk(t, a["$z0.s.u"] == b["$z0.s.u"] and a["$z31.b.u"] == b["$z31.b.u"],
            "the other z registers unchanged by the writes")
    if "after_vg" in v:
        # the description keeps its length: the thread's lanes, zero above
        av = v["after_vg"]
        chk(t, v["vg_write"] == "ok" and av["vg"] == vg // 2, "set $vg: the thread's new vector length",
                (v["vg_write"], av["vg"]))
        chk(t, av["$z0.s.u"] == [1, 2, 3, 4] + [0] * (2 * vg - 4),
                "after the length change: the V part kept, the rest zero", av["$z0.s.u"])


def check_aarch64(t, v, features):
    b, a, w = v["before"], v["after"], v["writes"]
    if "org.gnu.gdb.aarch64.sve" in features:
        check_sve(t, v)
    if "org.gnu.gdb.aarch64.pauth" in features:
        chk(t, b["pauth_dmask"] != 0 and b["pauth_dmask"] == b["pauth_cmask"],
                "PAC masks: the kernel's (the same for data and code on Linux)", b)
        # (gdb drops the write itself: aarch64_cannot_store_register)
        chk(t, a["pauth_dmask"] == b["pauth_dmask"], "a PAC mask write changes nothing",
                (w["pauth_dmask"], a["pauth_dmask"]))
    if "org.gnu.gdb.aarch64.mte" in features:
        ctl = b["tag_ctl"]
        chk(t, ctl & 0x7 == 0x3 and (ctl >> 3) & 0xffff == 0xfffe,
                "tag_ctl is what the program gave prctl (tagged addr, sync, tags 1-15)", hex(ctl))
        chk(t, w["tag_ctl"] == "ok" and a["tag_ctl"] == (ctl & ~6) | 4, "tag_ctl written (async)",
                hex(a["tag_ctl"]))
    chk(t, b["tpidr"] == b["g_tp"], "tpidr is the thread pointer", (hex(b["tpidr"]), hex(b["g_tp"])))
    chk(t, a["tpidr"] == b["tpidr"] + 16, "tpidr written", hex(a["tpidr"]))
    chk(t, "exited normally" in v["end"], "the program runs on to a normal exit", v["end"][-200:])


def check_memtags(t, mt):
    chk(t, mt["print-logical-tag g_tagged"].endswith("0x3"), "memory-tag print-logical-tag",
            mt["print-logical-tag g_tagged"])
    chk(t, mt["print-allocation-tag g_tagged"].endswith("0x3"), "memory-tag print-allocation-tag (qMemTags)",
            mt["print-allocation-tag g_tagged"])
    chk(t, "match" in mt["check g_tagged"] and "mismatch" not in mt["check g_tagged"],
            "memory-tag check: logical and allocation tags match", mt["check g_tagged"])
    chk(t, mt["after-set"].endswith("0x5"), "memory-tag set-allocation-tag (QMemTags) read back",
            (mt["set"], mt["after-set"]))
    chk(t, "does not match" in mt["check-after-set"], "memory-tag check sees the new allocation tag",
            mt["check-after-set"])
    chk(t, mt["after-restore"].endswith("0x3"), "allocation tag set back", mt["after-restore"])


def test_regsets_aarch64(t):
    """SVE, PAC, MTE and TLS registers and memory tags, read and written."""
    need(t, "aarch64")
    v = run(t, t.server_path)
    features = v.get("features", [])
    chk(t, "org.gnu.gdb.aarch64.tls" in features, "TLS feature", features)
    if "org.gnu.gdb.aarch64.sve" not in features:
        t.log.write("no SVE feature: the guest CPU lacks SVE (boot with -cpu max)\n")
    check_aarch64(t, v, features)
    if "org.gnu.gdb.aarch64.mte" in features:
        chk(t, "memtags" in v, "the program mapped PROT_MTE memory")
        if "memtags" in v:
            check_memtags(t, v["memtags"])
    missing = [f for f in ["sve", "pauth", "mte"] if "org.gnu.gdb.aarch64." + f not in features]
    if missing:
        raise Skip("the guest CPU lacks %s (QEMU -cpu max -M virt,mte=on has them): only the "
                   "base and TLS registers tested" % ", ".join(missing))


def test_regsets_aarch64_packets(t):
    """P of a PAC mask is refused, nothing changed; qMemTags/QMemTags and
    memory-tagging+ only with MTE, and their errors."""
    need(t, "aarch64")
    srv = t.start_server(t.prog("regsets"), options=["--once"])
    rsp = RSP(srv.port)
    try:
        supported = rsp.command("qSupported:multiprocess+;memory-tagging+").decode()
        xml = rsp.command("qXfer:features:read:target.xml:0,1000").decode()
        if "aarch64-mte.xml" in xml:
            chk(t, "memory-tagging+" in supported, "memory-tagging+ offered with MTE", supported)
            chk(t, rsp.command("qMemTags:0,10:1").startswith(b"E"),
                    "qMemTags of an unmapped address: an error")
            chk(t, rsp.command("qMemTags:1000,10:7").startswith(b"E"), "qMemTags of an unknown type: an error")
            chk(t, rsp.command("QMemTags:1000,10:1:0").startswith(b"E"), "QMemTags with odd hex: an error")
            # absurd numbers and garbage: errors, and the server still answers
            for bad in ("qMemTags:1000,ffffffffffffffff:1", "qMemTags:ffffffffffffff00,100:1",
                        "qMemTags:zz,10:1", "qMemTags:1000,10:ffffffffff", "qMemTags:1000,10",
                        "QMemTags:ffffffffffffff00,ffffffffffffffff:1:05", "QMemTags:1000,10:1:zz"):
                chk(t, rsp.command(bad).startswith(b"E"), "%s: an error" % bad)
            chk(t, rsp.command("g") != b"", "the server answers after the bad packets")
        else:
            chk(t, "memory-tagging" not in supported, "no memory-tagging without MTE", supported)
            chk(t, rsp.command("qMemTags:0,10:1") == b"", "qMemTags unknown without MTE")
        if "aarch64-pauth.xml" not in xml:
            raise Skip("no PAC on this CPU: only the memory-tagging packets tested")
        regs = rsp.command("g").decode()
        # pauth_dmask's number: the description lists it after vg (SVE) or fpcr
        n = 34 + (32 + 2 + 17 + 1 if "aarch64-sve.xml" in xml else 32 + 2)
        mask = rsp.command("p%x" % n)
        chk(t, mask not in (b"", b"0" * 16) and not mask.startswith(b"E"), "p of pauth_dmask", mask)
        chk(t, rsp.command("P%x=%s" % (n, "00" * 8)).startswith(b"E"), "P of pauth_dmask refused")
        chk(t, rsp.command("p%x" % n) == mask and rsp.command("g").decode() == regs,
                "registers unchanged by the refused P")
    finally:
        rsp.close()


def compare_with_gnu(t):
    if not GNU:
        raise Skip("no GNU gdbserver for the target (testsuite/cross/setup.sh unpacks it; "
                   "run-integration.sh passes it as ITEST_GNU_GDBSERVER)")
    ours = run(t, t.server_path)
    gnu = run(t, GNU)
    t.log.write("csgdbserver: %r\nGNU gdbserver: %r\n" % (ours, gnu))
    return ours, gnu


def test_regsets_aarch64_vs_gdbserver(t):
    """The same registers, features and values as GNU gdbserver 13."""
    need(t, "aarch64")
    ours, gnu = compare_with_gnu(t)
    chk(t, ours["features"] == gnu["features"], "same target description features",
            (ours["features"], gnu["features"]))
    chk(t, ours["regs"] == gnu["regs"], "same registers in the same order",
            sorted(set(ours["regs"]) ^ set(gnu["regs"])))
    for k in sorted(set(ours["before"]) | set(gnu["before"])):
        if k in ("tpidr", "g_tp"):    # addresses of two different runs
            continue
        chk(t, ours["before"].get(k) == gnu["before"].get(k), "same %s as gdbserver" % k,
                (ours["before"].get(k), gnu["before"].get(k)))
    if "memtags" in gnu:
        chk(t, ours.get("memtags") == gnu["memtags"], "same memory-tag command output",
                (ours.get("memtags"), gnu["memtags"]))
    # writes gdbserver takes too (it drops a PAC mask write silently)
    for k in ["$z1.d.u", "$p2", "$ffr", "$z2.s.u", "tag_ctl"]:
        if k in gnu["after"]:
            chk(t, ours["after"].get(k) == gnu["after"][k], "%s after the writes as with gdbserver" % k,
                    (ours["after"].get(k), gnu["after"][k]))


def test_regsets_arm(t):
    """tpidruro: the TLS pointer, read-only."""
    need(t, "arm")
    v = run(t, t.server_path)
    b, a, w = v["before"], v["after"], v["writes"]
    chk(t, "org.gnu.gdb.arm.tls" in v["features"], "TLS feature", v["features"])
    chk(t, b.get("tpidruro") == b["g_tp"], "tpidruro is the thread pointer",
            (b.get("tpidruro"), b["g_tp"]))
    chk(t, w.get("tpidruro", "").startswith("error") and a.get("tpidruro") == b.get("tpidruro"),
            "a tpidruro write is refused (arm has no request to set it) and changes nothing",
            w.get("tpidruro"))
    chk(t, "exited normally" in v["end"], "the program runs on to a normal exit", v["end"][-200:])


def test_regsets_arm_vs_gdbserver(t):
    """The registers of gdbserver 13, whose NEON description
    (aarch32_create_target_description) has tpidruro but which has no
    register set to read it from: we read it."""
    need(t, "arm")
    ours, gnu = compare_with_gnu(t)
    chk(t, ours["regs"] == gnu["regs"], "same registers in the same order",
        sorted(set(ours["regs"]) ^ set(gnu["regs"])))
    chk(t, ours["features"] == gnu["features"], "same features", (ours["features"], gnu["features"]))
    chk(t, ours["before"]["tpidruro"] == ours["before"]["g_tp"], "tpidruro read", ours["before"])
    t.log.write("gdbserver's tpidruro: %r\n" % gnu["before"].get("tpidruro"))
