# The trace decoder in its own process (etm/decode_child.c): a decoder
# crash, hang or runaway costs one decode — an error naming the buffer and
# the bytes — never cstrace nor the server and its next client. Faults are
# injected with the test-only CSG_TEST_DECODER_* variables the decoder
# child reads; one real libopencsd 1.3.3 crash comes from
# testsuite/fixtures/decoder-crash. Also what the trace path reads before
# any decode: a perf.data with absurd CPU numbers is refused at start-up.
import os
import shutil
import subprocess

from harness import RSP, Skip, csgdbserver_only, need_shared, shared, timeout

R5 = shared("etmv3-cortex-r5")
ETE = shared("opencsd-snapshots", "snapshots-ete", "ete_spec_1")
FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                       "decoder-crash", "ete-mispredict.bin")


def cstrace(t, argv, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([os.path.join(t.build, "cstrace")] + argv, capture_output=True,
                          text=True, timeout=60, env=e, stdin=subprocess.DEVNULL)


def no_sanitizer(t, what, text):
    t.check("Sanitizer" not in text and "runtime error" not in text, "%s: no sanitizer report" % what,
            text[-400:])


def test_cstrace_decode_real_crash(t):
    """Raw ETE trace that kills libopencsd 1.3.3 (SIGSEGV in
    TrcPktDecodeEtmV4I::mispredictAtom) when decoded in-process: through
    the decoder child, cstrace decode says so and exits 1."""
    need_shared(ETE)
    d = os.path.join(t.tmp, "ete-crash")
    shutil.copytree(ETE, d)
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "session1.bin"), 0o644)
    shutil.copyfile(FIXTURE, os.path.join(d, "session1.bin"))
    p = cstrace(t, ["decode", d])
    t.eq(p.returncode, 1, "exit status 1")
    t.check("cstrace: decode error: trace decoder crashed (SIGSEGV) decoding buffer ETB_1 "
            "(session1.bin) bytes " in p.stderr and "decode of this trace stopped" in p.stderr,
            "the crash named, with the buffer and bytes", p.stderr[-400:])
    no_sanitizer(t, "contained", p.stderr)
    # The fixture is a real crash: in-process (benchmarks only) it kills cstrace.
    p = cstrace(t, ["decode", d], env={"CSG_DECODER_INPROCESS": "1"})
    t.check(p.returncode == -11 or "SEGV" in p.stderr,
            "in-process, the same trace crashes cstrace (if not, OpenCSD changed: find a new fixture)",
            (p.returncode, p.stderr[-300:]))


def test_cstrace_decode_injected_faults(t):
    """A decoder that crashes at byte 4096 or hangs there: what came before
    is printed, then the error; exit status 1."""
    cap = os.path.join(R5, "freertos")
    need_shared(cap)
    whole = cstrace(t, ["decode", "--ranges", cap])
    t.eq(whole.returncode, 0, "the capture decodes")
    for fault, says in (("segv", "crashed (SIGSEGV)"), ("hang", "made no progress for 0.5 s")):
        p = cstrace(t, ["decode", "--ranges", cap], env={
            "CSG_TEST_DECODER_CRASH": "4096", "CSG_TEST_DECODER_FAULT": fault,
            "CSG_DECODER_TIMEOUT_MS": "500"})
        t.eq(p.returncode, 1, "%s: exit status 1" % fault)
        t.check(("trace decoder %s decoding buffer " % says) in p.stderr and " bytes 4096-" in p.stderr,
                "%s: named, from byte 4096" % fault, p.stderr[-400:])
        got = p.stdout.splitlines()
        t.check(0 < len(got) < len(whole.stdout.splitlines()) and
                whole.stdout.startswith(p.stdout), "%s: the ranges before the fault, as decoded whole" % fault,
                "%d of %d lines" % (len(got), len(whole.stdout.splitlines())))
        no_sanitizer(t, fault, p.stderr)


@csgdbserver_only
@timeout(120)
def test_replay_decoder_crash_costs_one_client(t):
    """--replay (without --once: clients one after another): the decode a
    client asks for crashes (injected in
    the server's second decoder child; the first found the PC at
    start-up). That client gets an E. reply naming the crash, the buffer
    and the bytes; the server goes on and serves the next client the
    whole trace."""
    cap = os.path.join(R5, "freertos")
    need_shared(cap)
    srv = t.start_server(options=["--replay", cap],
                         env={"CSG_TEST_DECODER_CRASH": "4096", "CSG_TEST_DECODER_NTH": "2"})

    def client(size):
        rsp = RSP(srv.port, timeout_s=30)
        rsp.command("qSupported:multiprocess+;swbreak+")
        rsp.command("?")
        rsp.command("Qbtrace:off")     # the server keeps tracing state between clients
        # a window other than the one held: decoded again
        t.eq(rsp.command("Qbtrace-conf:bts:size=0x%x" % size), b"OK", "window size")
        t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable")
        return rsp

    rsp = client(0x2000)
    r = rsp.command("qXfer:btrace:read:all:0,3fff")
    t.check(r.startswith(b"E.trace decoder crashed (SIGSEGV) decoding buffer ") and
            b" bytes 4096-" in r and b"decode of this trace stopped" in r,
            "the client that asked gets the crash, naming buffer and bytes", r[:200])
    t.check(rsp.command("g")[:1] not in (b"", b"E"), "and it is still served (g)")
    rsp.close()

    rsp = client(0x4000)
    data, off = b"", 0
    while True:
        r = rsp.command("qXfer:btrace:read:all:%x,3fff" % off)
        if r[:1] not in (b"m", b"l"):
            break
        data += r[1:]
        off += len(r) - 1
        if r[:1] == b"l":
            break
    t.check(r[:1] == b"l" and data.count(b"<block ") > 10,
            "the next client reads a whole btrace document", r[:120])
    rsp.close()
    t.check(srv.alive(), "the server is still running")
    no_sanitizer(t, "server", srv.stderr.text())


@csgdbserver_only
def test_replay_startup_decode_crash(t):
    """--replay of a snapshot whose trace crashes libopencsd: the start-up
    decode fails with the crash named and exit status 1, no core, no
    sanitizer report (before: SIGSEGV)."""
    if t.target.remote:
        raise Skip("builds the snapshot in this machine's temporary directory")
    need_shared(ETE)
    d = os.path.join(t.tmp, "ete-crash")
    shutil.copytree(ETE, d)
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "session1.bin"), 0o644)
    shutil.copyfile(FIXTURE, os.path.join(d, "session1.bin"))
    p = subprocess.run([t.server_path, "--once", "--replay", d, ":0"], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    t.check(p.returncode == 1 and "trace decoder crashed (SIGSEGV) decoding buffer ETB_1 (session1.bin)"
            in p.stderr and "Exiting" in p.stderr, "refused with the crash named", (p.returncode, p.stderr[-400:]))
    no_sanitizer(t, "server", p.stderr)


def perf_records(d):
    """(offset, type, size) of each record of a perf.data image."""
    import struct
    off, size = struct.unpack_from("<QQ", d, 40)
    p, out = off, []
    while p < off + size:
        rtype, _, rsize = struct.unpack_from("<IHH", d, p)
        out.append((p, rtype, rsize))
        extra = struct.unpack_from("<Q", d, p + 8)[0] if rtype == 71 else 0
        p += rsize + extra
    return out


@csgdbserver_only
def test_perfdata_absurd_cpu_numbers(t):
    """--etm-perfdata whose AUXTRACE_INFO claims CPU 2^31-1, or 100000
    CPUs: refused at start-up naming the number (before: an abort on a
    huge allocation, or seconds per packet walking the CPUs)."""
    import struct
    if t.target.remote:
        raise Skip("writes the mutated perf.data in this machine's temporary directory")
    src = shared("simpleperf-etm-perfdata", "perf_etm.data")
    need_shared(src)
    with open(src, "rb") as f:
        data = bytearray(f.read())
    info = [p for p, ty, _ in perf_records(data) if ty == 70][0]
    for what, at, value, says in (("CPU 2^31-1", info + 16 + 24 + 8, 0x7fffffff,
                                   "CPU 2147483647, out of range (0-4095)"),
                                  ("100000 CPUs", info + 16 + 8, (8 << 32) | 100000,
                                   "100000 CPUs, more than 4096")):
        bad = bytearray(data)
        struct.pack_into("<Q", bad, at, value)
        path = os.path.join(t.tmp, "perf-%d.data" % at)
        with open(path, "wb") as f:
            f.write(bad)
        p = subprocess.run([t.server_path, "--once", "--etm-perfdata", path, ":0", t.prog("basic")],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        t.check(p.returncode == 1 and says in p.stderr, "%s: refused naming it" % what,
                (p.returncode, p.stderr[-300:]))
        no_sanitizer(t, what, p.stderr)
