# Branch-trace packets driven raw over the socket (no gdb): Qbtrace,
# Qbtrace-conf, qXfer:btrace:read all/new/delta, qXfer:btrace-conf:read,
# against `csgdbserver --replay` of a real Cortex-R5 ETMv3 capture, and
# against a live inferior whose trace source replays a recorded perf.data
# (--etm-perfdata). Expected block lists come from `cstrace decode` of the
# same capture, not from the server.
import os
import re
import socket
import struct
import subprocess

from harness import ARCH, RSP, Skip, csgdbserver_only, need_shared, shared, timeout

R5 = shared("etmv3-cortex-r5")
PERFDATA = shared("simpleperf-etm-perfdata", "perf_etm.data")


def connect(port):
    rsp = RSP(port, timeout_s=30)
    # the client's ack and next packet are two small writes: no Nagle wait
    rsp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return rsp


def need(t, path):
    """Recorded data must be where the server runs: this machine."""
    need_shared(path)


def replay(t, capture="freertos"):
    need(t, os.path.join(R5, capture))
    srv = t.start_server(options=["--once", "--replay", os.path.join(R5, capture)])
    rsp = connect(srv.port)
    rsp.command("qSupported:multiprocess+;swbreak+")
    return srv, rsp


def xfer_all(rsp, obj, annex, chunk=0x3000):
    """Whole qXfer document read in CHUNK-sized pieces (m... then l...)."""
    data, off = b"", 0
    while True:
        reply = rsp.command("qXfer:%s:read:%s:%x,%x" % (obj, annex, off, chunk))
        if reply[:1] not in (b"m", b"l"):
            return reply, None
        data += reply[1:]
        off += len(reply) - 1
        if reply[:1] == b"l":
            return None, data


def blocks(doc):
    return [(int(b, 16), int(e, 16)) for b, e in
            re.findall(rb'<block begin="(0x[0-9a-f]+)" end="(0x[0-9a-f]+)"/>', doc)]


def cstrace_ranges(t, capture):
    out = t.run([os.path.join(t.build, "cstrace"), "decode", "--ranges",
                 os.path.join(R5, capture)], timeout=60).stdout
    return [tuple(int(x, 16) for x in line.split()) for line in out.splitlines()]


def merged(ranges):
    out = []
    for s, e in ranges:
        if out and out[-1][1] == s:
            out[-1][1] = e
        else:
            out.append([s, e])
    return out


def stop_pc(reply):
    m = re.search(rb"0f:([0-9a-f]{8});", reply)
    return int.from_bytes(bytes.fromhex(m.group(1).decode()), "little")


def elf_bytes(path, addr, size):
    """SIZE bytes at ADDR from the ELF32 file's loadable segments."""
    with open(path, "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<I", elf, 0x1c)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x2a)
    for i in range(phnum):
        p_type, p_off, p_vaddr, _, p_filesz = struct.unpack_from(
            "<5I", elf, phoff + i * phentsize)
        if p_type == 1 and p_vaddr <= addr and addr + size <= p_vaddr + p_filesz:
            return elf[p_off + addr - p_vaddr:p_off + addr - p_vaddr + size]
    return None


def auxtrace_bytes(path):
    """Sum of the PERF_RECORD_AUXTRACE payloads of a perf.data file."""
    with open(path, "rb") as f:
        d = f.read()
    off, size = struct.unpack_from("<QQ", d, 40)
    p, total = off, 0
    while p < off + size:
        rtype, _, rsize = struct.unpack_from("<IHH", d, p)
        extra = struct.unpack_from("<Q", d, p + 8)[0] if rtype == 71 else 0
        total += extra
        p += rsize + extra
    return total


@csgdbserver_only
def test_no_trace_source_advertises_software_bts_only(t):
    """On a machine without a cs_etm PMU and without --replay, a live
    target offers the bts format from software recording (where the
    architecture can single-step) and nothing of CoreSight."""
    if t.target.exists("/sys/bus/event_source/devices/cs_etm"):
        t.check(True, "machine has a cs_etm PMU: nothing to check here")
        return
    srv = t.start_server(t.prog("basic"), options=["--once"])
    rsp = RSP(srv.port)
    sup = rsp.command("qSupported:multiprocess+")
    t.check(b"CoreSight" not in sup and b"Qbtrace:etm" not in sup,
            "no CoreSight feature without trace hardware", sup)
    t.check(b"Qbtrace:pt" not in sup, "no Intel PT", sup)
    if ARCH == "arm":
        t.check(b"btrace" not in sup, "arm (no single-step): no btrace at all", sup)
        t.eq(rsp.command("Qbtrace:bts"), b"", "Qbtrace:bts unknown (empty reply)")
    else:
        t.check(b"Qbtrace:bts+" in sup and b"qXfer:btrace:read+" in sup,
                "software bts advertised", sup)
        t.check(rsp.command("Qbtrace:CoreSight").startswith(b"E."),
                "Qbtrace:CoreSight refused with a reason")
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_replay_packets_and_errors(t):
    srv, rsp = replay(t)
    sup = rsp.command("qSupported:multiprocess+;swbreak+")
    for feat in (b"Qbtrace:bts+", b"Qbtrace:off+", b"qXfer:btrace:read+",
                 b"qXfer:btrace-conf:read+", b"Qbtrace-conf:bts:size+",
                 b"Qbtrace:CoreSight+", b"Qbtrace-conf:CoreSight:filter:start-address+"):
        t.check(feat in sup, "qSupported advertises %s" % feat.decode(), sup[-300:])
    t.check(b"Qbtrace:pt+" not in sup, "no Intel PT advertised")
    # Qbtrace-conf errors name the problem; nothing is half-applied.
    t.eq(rsp.command("Qbtrace-conf:bts:size=zz"), b"E.Bad size value.", "bad bts size")
    t.eq(rsp.command("Qbtrace-conf:bts:size=0x10000junk"), b"E.Bad size value.",
         "trailing junk in size")
    t.eq(rsp.command("Qbtrace-conf:pt:size=0x4000"), b"E.Bad Qbtrace configuration option.",
         "pt option refused")
    t.eq(rsp.command("Qbtrace-conf:bts:sink=etr"), b"E.Bad Qbtrace configuration option.",
         "bts has no sink option")
    t.eq(rsp.command("Qbtrace-conf:nonsense"), b"E.Bad Qbtrace configuration option.",
         "no NAME=VALUE")
    r = rsp.command("Qbtrace-conf:CoreSight:core=5")
    t.check(r.startswith(b"E.") and b"core=5" in r, "core without a trace unit refused", r)
    r = rsp.command("Qbtrace-conf:CoreSight:frobnicate=1")
    t.check(r.startswith(b"E.") and b"frobnicate" in r, "unknown CoreSight option named", r)
    # ETMCCR 0x8d254024 of this ETM: 4 address comparator pairs.
    for k in range(5):
        rsp.command("Qbtrace-conf:CoreSight:filter:start-address=0x%x" % (0x70000000 + k * 0x100))
        r = rsp.command("Qbtrace-conf:CoreSight:filter:end-address=0x%x" % (0x70000080 + k * 0x100))
        if k < 4:
            t.eq(r, b"OK", "address range %d fits the ETM" % (k + 1))
        else:
            t.check(r.startswith(b"E.") and b"ETMCCR" in r and b"4" in r,
                    "fifth address range refused naming ETMCCR", r)
    t.eq(rsp.command("Qbtrace-conf:bts:size=0x10000"), b"OK", "bts size accepted")
    # Before enabling.
    t.eq(rsp.command("qXfer:btrace:read:all:0,100"), b"E.Btrace not enabled.", "read before enable")
    t.eq(rsp.command("qXfer:btrace-conf:read::0,100"), b"E.Btrace not enabled.", "conf before enable")
    t.eq(rsp.command("Qbtrace:off"), b"E.Branch tracing not enabled.", "off before enable")
    t.check(rsp.command("Qbtrace:pt").startswith(b"E.Bad Qbtrace operation."), "pt refused")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "Qbtrace:bts")
    t.eq(rsp.command("Qbtrace:bts"), b"E.Btrace already enabled.", "second enable")
    err, conf = xfer_all(rsp, "btrace-conf", "")
    t.check(conf is not None and b'<bts size="0x10000"/>' in conf and b'version="1.0"' in conf,
            "btrace-conf reports the bts size", err or conf)
    t.eq(rsp.command("qXfer:btrace-conf:read:x:0,100"), b"E.Bad annex.", "conf annex must be empty")
    t.eq(rsp.command("qXfer:btrace:read:most:0,100"), b"E.Bad annex.", "bad btrace annex")
    t.check(rsp.command("qXfer:btrace:read:all:40,100").startswith(b"E."),
            "offset without a read from 0 is an error")
    t.eq(rsp.command("qXfer:btrace-conf:read::40,100"),
         b"E.Bad offset: read the document from offset 0 first.", "so for btrace-conf too")
    t.check(rsp.command("qXfer:btrace-conf:read::0,100").startswith(b"l<"), "conf from 0 works")
    t.check(rsp.command("qXfer:btrace-conf:read::10,100").startswith(b"l"),
            "then its later chunks", )
    # Read-only target.
    for pkt in ("M70000000,2:0000", "G" + "00" * 68, "P0=00000000", "vCont;c", "c", "s",
                "vRun;00"):
        r = rsp.command(pkt)
        t.check(r.startswith(b"E."), "replay refuses %s with a reason" % pkt.split(";")[0][:6], r)
    t.check(rsp.command("m10000000,4").startswith(b"E"), "unrecorded memory: E reply")
    rsp.close()
    t.check(srv.wait_exit(5) is not None, "--once replay server exits")


@csgdbserver_only
@timeout(90)
def test_replay_block_semantics(t):
    srv, rsp = replay(t)
    pc = stop_pc(rsp.command("?"))
    regs = rsp.command("g")
    t.eq(len(regs), 17 * 8, "g: r0-r15 and cpsr")
    t.eq(int.from_bytes(bytes.fromhex(regs[15 * 8:16 * 8].decode()), "little"), pc,
         "g's pc equals the stop reply's")
    t.check(regs[:8] == b"xxxxxxxx", "unknown registers are unavailable ('x')", regs[:16])
    mem = rsp.command("m%x,8" % pc)
    t.eq(bytes.fromhex(mem.decode()), elf_bytes(os.path.join(R5, "freertos/freertos.elf"), pc, 8),
         "memory at pc comes from the ELF")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable")
    # gdb's first read is a delta: the trace does not start at the enable
    # point, so the server makes gdb fall back to new.
    r = rsp.command("qXfer:btrace:read:delta:0,1000")
    t.check(r.startswith(b"E."), "delta before any read fails", r)
    err, new = xfer_all(rsp, "btrace", "new", chunk=0x3ffb)
    t.check(new is not None, "new after failed delta", err)
    err, all_small = xfer_all(rsp, "btrace", "all", chunk=0x7ff)
    err2, all_big = xfer_all(rsp, "btrace", "all", chunk=0x3fff0)
    t.check(all_small is not None and all_small == all_big,
            "chunked all (0x7ff) equals all in big chunks", err or err2)
    t.check(new == all_big, "first new holds the whole trace")
    t.check(all_big.startswith(b'<!DOCTYPE btrace SYSTEM "btrace.dtd">\n<btrace version="1.0">'),
            "btrace document version 1.0", all_big[:80])
    got = blocks(all_big)
    t.check(all(b != 0 for b, _ in got), "all has no begin=0x0 block")
    t.eq(got[0][1], pc, "newest block ends at the pc")
    # Expected: cstrace's ranges merged where contiguous, oldest first.
    want = merged(cstrace_ranges(t, "freertos"))
    chron = list(reversed(got))
    t.check(len(chron) in (len(want), len(want) + 1), "one block per merged cstrace range",
            "%d blocks, %d merged ranges" % (len(chron), len(want)))
    bad = [i for i, (w, g) in enumerate(zip(want, chron[:len(want)]))
           if g[0] != w[0] or not (w[0] <= g[1] < w[1] or (i == len(want) - 1 and g[1] == pc))]
    t.check(not bad, "every block spans its cstrace range (begin equal, end = last "
            "instruction)", "first mismatch at %s" % (bad[:1] and (bad[0], want[bad[0]], chron[bad[0]])))
    err, again = xfer_all(rsp, "btrace", "new")
    t.eq(blocks(again), [], "new without new trace: no block")
    err, delta = xfer_all(rsp, "btrace", "delta")
    t.eq(blocks(delta or b""), [(0, pc)], "delta without progress: the single {0, pc} block")
    t.eq(rsp.command("Qbtrace:off"), b"OK", "off")
    t.eq(rsp.command("qXfer:btrace:read:all:0,100"), b"E.Btrace not enabled.", "read after off")
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_replay_coresight_raw(t):
    srv, rsp = replay(t)
    t.eq(rsp.command("Qbtrace-conf:CoreSight:size=0x20000"), b"OK", "CoreSight size")
    t.eq(rsp.command("Qbtrace:CoreSight"), b"OK", "Qbtrace:CoreSight")
    err, doc = xfer_all(rsp, "btrace", "all", chunk=0x7ff)
    t.check(doc is not None, "raw document read in chunks", err)
    doc = doc or b""
    t.check(b'<btrace version="1.0">' in doc, "version stays 1.0")
    t.check(re.search(rb'<etmv3-config reg_ctrl="0xc40" reg_trc_id="0x10" reg_ccer="0x[0-9a-f]+" '
                      rb'reg_idr="0x4104f230"/>', doc) is not None,
            "ETMv3 registers of etm.ini in the document", doc[:600])
    t.check(b'formatted="0x1"' in doc, "sink is formatted (ETB frames)")
    m = re.search(rb"<raw>\s*([0-9a-f]+)\s*</raw>", doc)
    with open(os.path.join(R5, "freertos/trace.bin"), "rb") as f:
        trace = f.read()
    t.check(m is not None and bytes.fromhex(m.group(1).decode()) == trace,
            "raw is trace.bin byte for byte")
    t.check(rsp.command("qXfer:btrace:read:delta:0,100").startswith(b"E."),
            "delta not supported for raw trace")
    err, new = xfer_all(rsp, "btrace", "new")
    t.check(new is not None and b"<raw>" not in new, "new after all: nothing new", err or new)
    err, conf = xfer_all(rsp, "btrace-conf", "")
    t.check(conf is not None and b'<etm size="0x20000" sink="default"' in conf,
            "btrace-conf shows the etm element", conf)
    t.eq(rsp.command("Qbtrace:off"), b"OK", "off")
    # monitor etm status works on the capture.
    text, reply = rsp.rcmd("etm status")
    t.check(reply == b"OK" and "ETMv3" in text and "232205 ranges" in text,
            "monitor etm status describes the capture", text)
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_monitor_histories(t):
    srv, rsp = replay(t, "zephyr")
    text, reply = rsp.rcmd("etm instruction-history")
    t.check(reply.startswith(b"E") and "not enabled" in text, "history needs tracing", text)
    rsp.command("Qbtrace:bts")
    text, reply = rsp.rcmd("etm instruction-history 5")
    lines = [l for l in text.splitlines() if re.match(r"\d+\t0x", l)]
    t.eq(len(lines), 5, "instruction-history 5 prints 5 instructions")
    want = cstrace_ranges(t, "zephyr")
    total = len(want)      # ETMv3 here: one instruction per range
    nums = [int(l.split("\t")[0]) for l in lines]
    t.eq(nums, list(range(total - 4, total + 1)), "numbered like gdb, ending at the last")
    addrs = [int(l.split("\t")[1], 16) for l in lines]
    t.eq(addrs, [s for s, _ in want[-5:]], "addresses are cstrace's last five")
    text, reply = rsp.rcmd("etm instruction-history 1,3")
    t.eq([int(l.split("\t")[1], 16) for l in text.splitlines() if "\t0x" in l],
         [s for s, _ in want[:3]], "FROM,TO window")
    text, reply = rsp.rcmd("etm instruction-history x")
    t.check(reply.startswith(b"E") and "Bad argument" in text, "bad window refused", text)
    text, reply = rsp.rcmd("etm call-history 40")
    segs = [l for l in text.splitlines() if re.match(r"\d+\t", l)]
    t.eq(len(segs), 40, "call-history 40 prints 40 segments")
    indents = {len(l.split("\t")[1]) - len(l.split("\t")[1].lstrip()) for l in segs}
    t.check(len(indents) > 1, "calls and returns nest the segments", text[-800:])
    text, reply = rsp.rcmd("etm config cycle-accurate=yes")
    t.check(reply == b"OK" and "cycle-accurate" in text, "monitor etm config sets options", text)
    text, reply = rsp.rcmd("etm config filter:start-address=zz")
    t.check(reply.startswith(b"E") and "filter:start-address" in text, "bad option named", text)
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_live_thread_with_recorded_source(t):
    """A live x86 inferior traced by a source that replays a phone's
    perf.data: the CoreSight document carries that recording's registers
    and AUX bytes; bts decoding runs (the phone's code is not here, so no
    range decodes) and still gives gdb a valid block list."""
    need(t, PERFDATA)
    srv = t.start_server(t.prog("basic"), options=["--once", "--etm-perfdata", PERFDATA])
    rsp = connect(srv.port)
    sup = rsp.command("qSupported:multiprocess+")
    t.check(b"Qbtrace:CoreSight+" in sup, "recorded source: btrace advertised", sup[-200:])
    stop = rsp.command("?")
    t.check(stop.startswith(b"T05"), "inferior stopped", stop[:40])
    t.eq(rsp.command("Qbtrace:CoreSight"), b"OK", "enable CoreSight on the live thread")
    err, doc = xfer_all(rsp, "btrace", "all", chunk=0x1000)
    t.check(doc is not None and b"<etmv4-config" in doc and b"<raw>" in doc,
            "raw document with ETMv4 registers", err or (doc or b"")[:400])
    raw = re.search(rb"<raw>\s*([0-9a-f]+)\s*</raw>", doc or b"")
    t.eq(len(raw.group(1)) // 2 if raw else None, auxtrace_bytes(PERFDATA),
         "every recorded AUX byte served")
    t.eq(rsp.command("Qbtrace:off"), b"OK", "off")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable bts on the live thread")
    err, doc = xfer_all(rsp, "btrace", "all")
    bl = blocks(doc or b"")
    m = re.search(rb"10:([0-9a-f]{16});", stop)
    pc = int.from_bytes(bytes.fromhex(m.group(1).decode()), "little") if m else None
    t.check(bl and bl[0][1] == pc and all(b for b, _ in bl), "block list ends at the live pc",
            (err, bl[:3], pc))
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_overflow_makes_delta_fail(t):
    """A recording whose AUX data is partly missing reads as an overflow:
    delta fails with E.Overflow. (gdb then re-reads), new is a whole
    document, and the next delta is the no-progress {0, pc} block."""
    missing = PERFDATA.replace("perf_etm.data", "perf_with_missing_aux_data.data")
    need(t, missing)
    srv = t.start_server(t.prog("basic"), options=["--once", "--etm-perfdata", missing])
    rsp = connect(srv.port)
    stop = rsp.command("?")
    m = re.search(rb"10:([0-9a-f]{16});", stop)
    pc = int.from_bytes(bytes.fromhex(m.group(1).decode()), "little") if m else None
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable")
    t.eq(rsp.command("qXfer:btrace:read:delta:0,1000"), b"E.Overflow.", "delta reports the overflow")
    text, _ = rsp.rcmd("etm status")
    t.check(re.search(r"overflowed \(\d+ bytes lost\)", text) is not None,
            "monitor etm status says the trace overflowed", text)
    err, new = xfer_all(rsp, "btrace", "new")
    t.eq(blocks(new or b""), [(pc, pc)], "new after the overflow: a whole document (just the pc)")
    err, delta = xfer_all(rsp, "btrace", "delta")
    t.eq(blocks(delta or b""), [(0, pc)], "then delta works again")
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_new_threads_traced_as_they_appear(t):
    """Threads created by a traced process are traced from their start
    (the server enables them when the clone event arrives); gdb's own
    later Qbtrace for them is answered OK."""
    prog = t.prog("threads")
    need(t, PERFDATA)
    srv = t.start_server(prog, options=["--once", "--etm-perfdata", PERFDATA])
    res = t.gdb(r'''
ex("break all_started")
out = ex("maint packet Qbtrace:CoreSight")
contains(out, '"OK"', "tracing enabled on the main thread")
ex("continue")
status = gdb.execute("monitor etm status", to_string=True)
report("status", status)
check(status.count("tracing, format CoreSight") == 3, "main thread and both workers traced", status)
check(status.count("traced since it appeared") == 2, "both workers traced since they appeared", status)
ex("thread 2")
out = ex("maint packet Qbtrace:CoreSight")
contains(out, '"OK"', "gdb enabling an already traced new thread gets OK")
status = gdb.execute("monitor etm status", to_string=True)
check(status.count("traced since it appeared") == 1, "that worker is now gdb's", status)
''', port=srv.port, prog=prog)


@csgdbserver_only
@timeout(60)
def test_replay_aarch64_snapshot(t):
    """An OpenCSD snapshot directory (ETMv4, Cortex-A53, memory from its
    dumps, no ELF) replays as an AArch64 target."""
    snap = shared("opencsd-snapshots", "snapshots", "juno_r1_1")
    need(t, snap)
    srv = t.start_server(options=["--once", "--replay", snap])
    rsp = connect(srv.port)
    rsp.command("qSupported:multiprocess+")
    err, tdesc = xfer_all(rsp, "features", "target.xml")
    t.check(tdesc is not None and b"<architecture>aarch64</architecture>" in tdesc,
            "AArch64 target description", err or tdesc)
    regs = rsp.command("g")
    t.eq(len(regs), (33 * 8 + 4) * 2, "g: x0-x30, sp, pc, cpsr")
    pc = int.from_bytes(bytes.fromhex(regs[32 * 16:33 * 16].decode()), "little")
    t.check(rsp.command("qXfer:exec-file:read:1:0,100").startswith(b"E."),
            "no executable file for a snapshot of memory dumps")
    t.check(re.fullmatch(rb"[0-9a-f]{8}", rsp.command("m%x,4" % pc)) is not None,
            "memory at pc from the snapshot's dump")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable")
    err, doc = xfer_all(rsp, "btrace", "all")
    got = list(reversed(blocks(doc or b"")))
    out = t.run([os.path.join(t.build, "cstrace"), "decode", "--ranges", "--id", "0x10", snap],
                timeout=60).stdout
    want = merged([tuple(int(x, 16) for x in l.split()) for l in out.splitlines()])
    t.check(len(got) in (len(want), len(want) + 1), "one block per merged range of trace ID 0x10",
            (len(got), len(want)))
    bad = [i for i, (w, g) in enumerate(zip(want, got))
           if g[0] != w[0] or not (w[0] <= g[1] < w[1] or g[1] == pc)]
    t.check(not bad, "blocks span cstrace's ranges", bad[:3])
    t.eq(got[-1][1] if got else None, pc, "newest block ends at pc")
    rsp.close()


@csgdbserver_only
@timeout(60)
def test_replay_bad_input(t):
    """Missing, empty, truncated or corrupt captures: a clear message and
    exit status 1 (or a served capture with what did decode), no crash."""
    import shutil as sh
    import random
    if t.target.remote:
        raise Skip("builds broken captures in this machine's temporary directory")
    need(t, os.path.join(R5, "zephyr"))
    server = t.server_path

    def run(dir_):
        p = subprocess.run([server, "--once", "--replay", dir_, ":0"], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        return p.returncode, p.stderr

    rc, err = run(os.path.join(t.tmp, "nonexistent"))
    t.check(rc == 1 and "nonexistent" in err and "Exiting" in err, "missing directory", err)
    empty = os.path.join(t.tmp, "empty")
    os.mkdir(empty)
    rc, err = run(empty)
    t.check(rc == 1 and err.strip(), "empty directory refused with a message", err)
    t.check("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report", err)
    for name, mangle in (("zero", lambda b: b"\0" * len(b)), ("short", lambda b: b[:40]),
                         ("random", lambda b: bytes(random.Random(6).randrange(256)
                                                    for _ in range(len(b))))):
        d = os.path.join(t.tmp, name)
        sh.copytree(os.path.join(R5, "zephyr"), d)
        os.chmod(os.path.join(d, "trace.bin"), 0o644)
        with open(os.path.join(d, "trace.bin"), "rb") as f:
            data = f.read()
        with open(os.path.join(d, "trace.bin"), "wb") as f:
            f.write(mangle(data))
        rc, err = run(d)
        t.check(rc == 1 and "decodes to no instructions" in err, "%s trace: says nothing decodes" % name,
                (rc, err[-300:]))
        t.check("Sanitizer" not in err and "runtime error" not in err, "%s: no sanitizer report" % name)
    # A register the decoder needs is missing: the server names it, in the
    # words cstrace decode uses on the same directory.
    d = os.path.join(t.tmp, "noetmidr")
    sh.copytree(os.path.join(R5, "zephyr"), d)
    ini = os.path.join(d, "etm.ini")
    os.chmod(ini, 0o644)
    with open(ini) as f:
        lines = [ln for ln in f if not ln.startswith("ETMIDR(")]
    with open(ini, "w") as f:
        f.writelines(lines)
    rc, err = run(d)
    t.check(rc == 1 and "register ETMIDR is missing" in err and "ETM_0" in err,
            "missing ETMIDR named, with the source", err)
    dec = subprocess.run([os.path.join(os.path.dirname(server), "cstrace"), "decode", d],
                         capture_output=True, text=True, timeout=30)
    t.check("register ETMIDR is missing" in dec.stderr, "cstrace decode says the same", dec.stderr)
    # Files that are not what they claim: the trace a FIFO (whose open
    # would wait for a writer), a symlink to /dev/zero (which never ends),
    # the ELF a FIFO: refused at once with what is wrong.
    for what, make, says in (("trace.bin", lambda p: os.mkfifo(p), "trace.bin: not a regular file"),
                             ("trace.bin", lambda p: os.symlink("/dev/zero", p),
                              "trace.bin: not a regular file"),
                             # not taken for the program's ELF, so none is found
                             ("zephyr.elf", lambda p: os.mkfifo(p), "no ELF image")):
        d = os.path.join(t.tmp, "notregular-%s-%d" % (what, len(os.listdir(t.tmp))))
        sh.copytree(os.path.join(R5, "zephyr"), d)
        os.chmod(d, 0o755)
        os.unlink(os.path.join(d, what))
        make(os.path.join(d, what))
        try:
            rc, err = run(d)
        except subprocess.TimeoutExpired:
            rc, err = None, "timed out"
        t.check(rc == 1 and says in err, "%s not a regular file: refused at once (%s)" % (what, says),
                repr((rc, err[-300:])))
    d = os.path.join(t.tmp, "noelf")
    sh.copytree(os.path.join(R5, "zephyr"), d)
    os.chmod(d, 0o755)
    os.unlink(os.path.join(d, "zephyr.elf"))
    rc, err = run(d)
    t.check(rc == 1 and err.strip() and "Exiting" in err, "capture without its ELF refused", err)


@csgdbserver_only
def test_perfdata_not_a_regular_file(t):
    """--etm-perfdata on a device or a FIFO: refused at start-up naming it,
    never read for ever (a FIFO's open would wait for a writer)."""
    if t.target.remote:
        raise Skip("makes a FIFO in this machine's temporary directory")
    fifo = os.path.join(t.tmp, "perf.fifo")
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo, t.tmp):
        try:
            p = subprocess.run([t.server_path, "--once", "--etm-perfdata", path, ":0", t.prog("basic")],
                               capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, "timed out"
        t.check(rc == 1 and ("%s: not a regular file" % path) in err,
                "%s refused naming it" % path, repr((rc, err[-300:])))
