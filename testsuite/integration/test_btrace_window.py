# Large traces: `csgdbserver --replay` of a capture whose trace is a real
# Cortex-R5 ETB dump repeated, so it decodes to more ranges than the bts
# buffer gdb configures holds. The server keeps only the window of the
# newest SIZE trace bytes: blocks are exactly cstrace's last ranges,
# all/new/delta keep gdbserver's semantics, monitor histories number the
# window, and the raw CoreSight document (generated chunk by chunk) is the
# trace byte for byte whatever the chunk size. Expected values come from
# `cstrace decode --ranges` of the same capture, not from the server.
import os
import re

from harness import RSP, Skip, csgdbserver_only, need_shared, shared, timeout

FREERTOS = shared("etmv3-cortex-r5", "freertos")
REPEAT = 3


def repeated_capture(t, times=REPEAT):
    if t.target.remote:
        raise Skip("builds a capture in this machine's temporary directory")
    need_shared(FREERTOS)
    d = os.path.join(t.tmp, "freertos-x%d" % times)
    os.mkdir(d)
    with open(os.path.join(FREERTOS, "etm.ini"), "rb") as f:
        ini = f.read()
    with open(os.path.join(d, "etm.ini"), "wb") as f:
        f.write(ini)
    os.symlink(os.path.join(FREERTOS, "freertos.elf"), os.path.join(d, "freertos.elf"))
    with open(os.path.join(FREERTOS, "trace.bin"), "rb") as f:
        one = f.read()
    with open(os.path.join(d, "trace.bin"), "wb") as f:
        f.write(one * times)
    return d, one * times


def xfer_all(rsp, annex, chunk):
    data, off = b"", 0
    while True:
        reply = rsp.command("qXfer:btrace:read:%s:%x,%x" % (annex, off, chunk))
        if reply[:1] not in (b"m", b"l"):
            return reply, None
        data += reply[1:]
        off += len(reply) - 1
        if reply[:1] == b"l":
            return None, data


def blocks(doc):
    return [(int(b, 16), int(e, 16)) for b, e in
            re.findall(rb'<block begin="(0x[0-9a-f]+)" end="(0x[0-9a-f]+)"/>', doc)]


def merged(ranges):
    out = []
    for s, e in ranges:
        if out and out[-1][1] == s:
            out[-1][1] = e
        else:
            out.append([s, e])
    return out


def spans(t, got, want, pc, what):
    """GOT (blocks oldest first) are WANT's merged ranges: begin equal,
    end = the last instruction (the newest may end at the pc)."""
    chron = list(reversed(got))
    t.check(len(chron) in (len(want), len(want) + 1), "%s: one block per merged range" % what,
            "%d blocks, %d merged ranges" % (len(chron), len(want)))
    bad = [i for i, (w, g) in enumerate(zip(want, chron[:len(want)]))
           if g[0] != w[0] or not (w[0] <= g[1] < w[1] or (i == len(want) - 1 and g[1] == pc))]
    t.check(not bad, "%s: every block spans its range" % what,
            bad[:1] and (bad[0], want[bad[0]], chron[bad[0]]))


@csgdbserver_only
@timeout(240)
def test_bts_window_of_a_large_trace(t):
    cap, trace = repeated_capture(t)
    out = t.run([os.path.join(t.build, "cstrace"), "decode", "--ranges", cap], timeout=120).stdout
    ranges = [tuple(int(x, 16) for x in line.split()) for line in out.splitlines()]
    srv = t.start_server(options=["--once", "--replay", cap])
    m = re.search(r"window of the newest 0x10000 trace bytes\): (\d+) ranges, (\d+) instructions; "
                  r"(\d+) older ranges dropped", srv.stderr.text())
    t.check(m is not None, "start-up says what the window holds", srv.stderr.text()[-400:])
    held, dropped = (int(m.group(1)), int(m.group(3))) if m else (0, 0)
    m_held = m
    t.eq(held + dropped, len(ranges), "held + dropped = every range cstrace decodes")
    # The last 64 KiB is one copy of the ETB: about its ~232k ranges.
    t.check(100000 < held < len(ranges) // 2, "the window holds about one ETB's worth",
            (held, len(ranges)))
    rsp = RSP(srv.port, timeout_s=60)
    rsp.command("qSupported:multiprocess+;swbreak+")
    m = re.search(rb"0f:([0-9a-f]{8});", rsp.command("?"))
    pc = int.from_bytes(bytes.fromhex(m.group(1).decode()), "little")
    t.eq(rsp.command("Qbtrace-conf:bts:size=0x10000"), b"OK", "gdb's default buffer size")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable")
    r = rsp.command("qXfer:btrace:read:delta:0,1000")
    t.check(r.startswith(b"E."), "delta before any read fails (gdb reads new)", r)
    err, small = xfer_all(rsp, "all", 0x7ff)
    err2, big = xfer_all(rsp, "all", 0x3fff0)
    t.check(small is not None and small == big, "chunked all (0x7ff) equals all in big chunks",
            err or err2)
    got = blocks(big or b"")
    t.check(got and got[0][1] == pc and all(b for b, _ in got),
            "newest block ends at the pc, no begin=0x0 in all", got[:2])
    spans(t, got, merged(ranges[-held:]), pc, "64 KiB window")
    err, new = xfer_all(rsp, "new", 0x3fff)
    t.eq(blocks(new or b""), [], "new after all: nothing new")
    err, delta = xfer_all(rsp, "delta", 0x3fff)
    t.eq(blocks(delta or b""), [(0, pc)], "delta without progress: the single {0, pc} block")
    # monitor histories number the window, as gdb numbers its history.
    text, reply = rsp.rcmd("etm status")
    t.check("%d older ranges dropped" % dropped in text and "%d ranges /" % held in text,
            "monitor etm status shows the window and what was dropped", text)
    text, reply = rsp.rcmd("etm instruction-history 1,3")
    t.check("[older trace dropped" in text, "history says older trace was dropped", text)
    insns = [l.split("\t") for l in text.splitlines() if re.match(r"\d+\t0x", l)]
    t.eq([(int(n), int(a, 16)) for n, a, *_ in insns],
         [(k + 1, ranges[-held + k][0]) for k in range(3)], "first three of the window")
    # ETMv3 here: one instruction per range (start-up line says so).
    t.check(m_held and int(m_held.group(2)) == held, "one instruction per range in this trace")
    text, reply = rsp.rcmd("etm instruction-history 2")
    insns = [l.split("\t") for l in text.splitlines() if re.match(r"\d+\t0x", l)]
    t.eq([(int(n), int(a, 16)) for n, a, *_ in insns],
         [(held - 1, ranges[-2][0]), (held, ranges[-1][0])], "last two: cstrace's last two")
    t.check("[older" not in text, "no note when the window's start is not shown", text)
    text, reply = rsp.rcmd("etm call-history 20")
    t.eq(len([l for l in text.splitlines() if re.match(r"\d+\t", l)]), 20, "call-history 20")
    # A buffer as large as the trace holds all of it (decoded again).
    t.eq(rsp.command("Qbtrace:off"), b"OK", "off")
    t.eq(rsp.command("Qbtrace-conf:bts:size=0x%x" % len(trace)), b"OK", "size of the whole trace")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable again")
    err, whole = xfer_all(rsp, "all", 0x3fff0)
    spans(t, blocks(whole or b""), merged(ranges), pc, "whole-trace window")
    text, _ = rsp.rcmd("etm status")
    t.check(" 0 older ranges dropped" in text and "history holds" not in text,
            "nothing dropped with a buffer the trace's size", text)
    rsp.close()


@csgdbserver_only
@timeout(120)
def test_raw_document_generated_in_chunks(t):
    cap, trace = repeated_capture(t)
    srv = t.start_server(options=["--once", "--replay", cap])
    rsp = RSP(srv.port, timeout_s=60)
    rsp.command("qSupported:multiprocess+;swbreak+")
    t.eq(rsp.command("Qbtrace:CoreSight"), b"OK", "enable CoreSight")
    # 0x7ff: odd, so chunks split the hex of a byte; 0x3fff0: as big as a
    # packet takes. Both give the same document.
    err, odd = xfer_all(rsp, "all", 0x7ff)
    err2, big = xfer_all(rsp, "all", 0x3fff0)
    t.check(odd is not None and odd == big, "chunked reads of two sizes give the same bytes",
            err or err2)
    doc = big or b""
    m = re.fullmatch(rb'(<!DOCTYPE btrace SYSTEM "btrace.dtd">\n<btrace version="1.0">\n<etm>\n'
                     rb'<etm-config>\n.*</etm-config>\n)<raw>\n([0-9a-f]+)\n</raw>\n</etm>\n</btrace>\n',
                     doc, re.S)
    t.check(m is not None, "document layout: config, <raw>, hex, end", doc[:200] + b"..." + doc[-60:])
    t.check(m is not None and bytes.fromhex(m.group(2).decode()) == trace,
            "raw is the repeated trace byte for byte (%d bytes)" % len(trace))
    t.check(m is not None and b'<etmv3-config reg_ctrl="0xc40" reg_trc_id="0x10"' in m.group(1),
            "ETMv3 registers in the config")
    # Reading from the middle: same bytes as the whole document has there.
    mid = len(doc) // 2 + 1
    r = rsp.command("qXfer:btrace:read:all:%x,%x" % (mid, 0x101))
    t.eq(r, b"m" + doc[mid:mid + 0x101], "a chunk from the middle equals those bytes")
    r = rsp.command("qXfer:btrace:read:all:%x,%x" % (len(doc) - 10, 0x100))
    t.eq(r, b"l" + doc[-10:], "the last chunk ends with l")
    t.eq(rsp.command("qXfer:btrace:read:all:%x,10" % len(doc)), b"l", "past the end: l")
    # Another qXfer object in between: the raw document must be re-read
    # from offset 0, as any qXfer document.
    conf = rsp.command("qXfer:btrace-conf:read::0,1000")
    t.check(conf.startswith(b"l") and b"<etm " in conf, "btrace-conf read in between", conf)
    r = rsp.command("qXfer:btrace:read:all:800,100")
    t.check(r.startswith(b"E."), "continuing after another object's read is refused", r)
    err, again = xfer_all(rsp, "all", 0x3fff)
    t.check(again == doc, "read again from 0: the same document", err)
    err, new = xfer_all(rsp, "new", 0x3fff)
    t.check(new is not None and b"<raw>" not in new, "new after all: nothing new", err or new)
    rsp.close()
