# Registers (g/G/p/P, target description with SSE/AVX, fs_base, orig_rax)
# and memory (m/M/X, big reads, qSearch:memory, qCRC). ARM registers:
# test_arm.py.
from harness import Skip


def test_registers(t):
    if t.arch != "x86_64":
        raise Skip("x86_64 registers; test_arm.test_registers_%s checks "
                   "this architecture's" % t.arch)
    # AVX (and with it $ymm) where the CPU has it and the kernel enabled it
    # in XCR0 (the flag goes with XSAVE): testsuite/qemu boots CPU models
    # without it, where $ymm must be absent and the FXSAVE area serves x87/SSE
    flags = ""
    for line in t.target.read_text("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            flags = " %s " % line.split(":", 1)[1].strip()
            break
    t.check(flags != "", "/proc/cpuinfo has a flags line")
    avx = " avx " in flags
    if not avx:
        t.log.write("note: no AVX on this CPU: $ymm0/$ymm15 must be absent, "
                    "their writes are not tried\n")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
avx = @AVX@
ex("break square")
ex("continue")
out = ex("info registers rip")
m = matches(r"^rip\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+ )?<square\+\d+>", out, "info registers rip")
if m:
    eq(int(m.group(1), 16), pc(), "rip equals the frame pc")
eq(val("$rdi"), 3, "first argument in rdi")
check(val("$rsp") % 16 in (0, 8), "rsp plausibly aligned", hex(val("$rsp")))
arch = gdb.selected_frame().architecture().name()
eq(arch, "i386:x86-64", "target description architecture")
for reg in ("rax", "rip", "eflags", "fs_base", "gs_base", "orig_rax", "xmm15", "mxcsr"):
    check(str(gdb.parse_and_eval("$" + reg).type) != "void", "register %s described" % reg)
for reg in ("ymm0", "ymm15"):
    check((str(gdb.parse_and_eval("$" + reg).type) != "void") == avx,
          "register %s %s" % (reg, "described" if avx else "absent: the CPU has no AVX"))
eq(val("$orig_rax"), -1, "orig_rax -1 outside a system call")
# fs_base is the thread pointer: glibc's TCB starts with a pointer to itself
fs = val("$fs_base")
check(fs != 0, "fs_base set")
eq(val("*(unsigned long *)$fs_base"), fs, "TCB self pointer at fs_base")
# SSE / AVX read and write (P or G packets), read back through the server
ex("set var $xmm0.v4_int32 = {0x11111111, 0x22222222, 0x33333333, 0x44444444}")
eq(val("$xmm0.v4_int32[3]"), 0x44444444, "xmm0 write read back")
contains(ex("p/x $xmm0.v4_int32"), "{0x11111111, 0x22222222, 0x33333333, 0x44444444}", "p $xmm0")
if avx:
    matches(r"v8_int32 = \{", ex("p $ymm0"), "p $ymm0 shows the AVX view")
    ex("set var $ymm1.v8_int32 = {1, 2, 3, 4, 5, 6, 7, 8}")
    contains(ex("p $ymm1.v8_int32"), "{1, 2, 3, 4, 5, 6, 7, 8}", "ymm1 upper half written and read")
    eq(val("$xmm1.v4_int32[0]"), 1, "xmm1 is the low half of ymm1")
else:
    ex("set var $xmm1.v4_int32 = {1, 2, 3, 4}")
    contains(ex("p $xmm1.v4_int32"), "{1, 2, 3, 4}", "xmm1 written and read (FXSAVE area)")
    ex("set var $st0 = 1.5")
    eq(float(gdb.parse_and_eval("$st0")), 1.5, "st0 written and read (FXSAVE area)")
# a register write that changes what the program does
ex("finish")
ex("set var $rax = 100")
ex("next")
eq(val("total"), 100, "square's result replaced through rax")
ex("set var $rip = $rip")
flags = ex("p $eflags")
matches(r"\[ .*\]", flags, "eflags printed as flags")
'''.replace("@AVX@", str(avx)), port=srv.port, prog=t.prog("basic"))


def memory_session(t, env=None):
    srv = t.start_server(t.prog("basic"), options=["--once"], env=env)
    t.gdb(r'''
ex("break %d" % line_of("main-loop"))
ex("continue")
out = ex("x/4dw &g_array")
matches(r":\s+1\s+2\s+3\s+4\s*$", out, "x/4dw reads the array")
contains(ex("x/s g_message"), '"hello from basic"', "x/s reads the string")
ex("set var g_array[2] = 77")
eq(val("g_array[2]"), 77, "memory write read back")
ex("set var g_message = \"patched string\"")
contains(ex("p g_message"), '"patched string"', "string write (X/M) read back")
err = ex_error("x/x 0")
contains(err, "Cannot access memory at address 0x0", "unmapped read is an error")
err = ex_error("set var *(int *)8 = 1")
contains(err, "Cannot access memory at address 0x8", "unmapped write is an error")
# qSearch:memory
out = ex("find &g_array[0], +sizeof(g_array), (int)9")
m = matches(r"^(0x[0-9a-f]+) <g_array\+32>", out, "find locates 9 at g_array[8]")
# g_counter = 10 changes the program's output: writes really land
ex("set var g_counter = 10")
ex("delete")
ex("continue")
# compare the whole libc text mapping with the file (big m reads)
''', port=srv.port, prog=t.prog("basic"))
    # the program's last line may still be on its way (a guest relays it)
    t.check(srv.stdout.wait_line(r"basic done 13 ", 5) is not None,
            "program saw the written g_counter", srv.stdout.text()[-200:])


def test_memory(t):
    memory_session(t)


def test_memory_through_ptrace(t):
    """Where the kernel refuses /proc/PID/mem (proc_mem.force_override=never
    refuses writes to the read-only text): the same session, with
    breakpoints planted and memory moved word by word through ptrace."""
    memory_session(t, env={"CSGDBSERVER_PROC_MEM": "0"})


def test_big_read_matches_file(t):
    """Dump libc's text mapping (over 1 MiB of m packets) and compare it
    with the library file."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    dump = t.tmp + "/libc-text.bin"
    res = t.gdb(r'''
ex("break main")
ex("continue")
maps = ex("info proc mappings")
m = matches(r"^\s*(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)\s+r-xp\s+(\S*libc\.so\.6)", maps, "libc text mapping listed")
start, end, offset, path = int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16), m.group(4)
check(end - start > 1 << 20, "more than 1 MiB", end - start)
t0 = time.time()
ex("dump binary memory %s %d %d" % (DUMP, start, end))
report("dump_seconds", time.time() - t0)
report("libc", [path, offset, end - start])
'''.replace("DUMP", repr(dump)), port=srv.port, prog=t.prog("basic"))
    path, offset, size = res.values.get("libc", [None, 0, 0])
    if path:
        expected = t.target.read(path)[offset:offset + size]
        with open(dump, "rb") as f:
            got = f.read()
        t.eq(len(got), size, "dump has the mapping's size")
        t.check(got == expected, "dumped libc text equals the file's bytes")
    t.log.write("dump took %.3fs\n" % res.values.get("dump_seconds", -1))


def test_info_proc_auxv(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break main")
ex("continue")
pid = inferior_pid()
out = ex("info proc")
contains(out, "process %d" % pid, "info proc names the pid")
matches(r"cmdline = '.*/progs/basic'", out, "cmdline read from the target")
matches(r"exe = '.*/progs/basic'", out, "exe link read from the target")
contains(out, "cwd = '%s'" % target_readlink("/proc/%d/cwd" % pid), "cwd link")
out = ex("info auxv")
m = matches(r"^9\s+AT_ENTRY\s+Entry point of program\s+(0x[0-9a-f]+)", out, "AT_ENTRY in auxv")
if m:
    # a Thumb entry point has bit 0 set
    eq(int(m.group(1), 16) & ~1, val("&_start") & ~1, "AT_ENTRY is _start")
m = matches(r"^6\s+AT_PAGESZ\s+System page size\s+(\d+)", out, "AT_PAGESZ")
if m:
    eq(int(m.group(1)), 4096, "page size 4096")
raw = target_read_bytes("/proc/%d/auxv" % pid)
import struct
pairs = dict(struct.iter_unpack("<II" if ARCH == "arm" else "<QQ", raw))
m = re.search(r"^33\s+AT_SYSINFO_EHDR\s+System-supplied DSO's ELF header\s+(0x[0-9a-f]+)", out, re.M)
check(m is not None and int(m.group(1), 16) == pairs.get(33), "AT_SYSINFO_EHDR matches /proc auxv")
out = ex("info proc mappings")
# offset 0: read-only headers (x86_64) or the text itself (aarch64, arm)
matches(r"0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+0x0\s+r-[-x]p\s+.*/progs/basic", out, "program mapped")
contains(out, "[stack]", "stack mapping listed")
''', port=srv.port, prog=t.prog("basic"))
