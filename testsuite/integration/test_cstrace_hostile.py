# `cstrace capture` against a broken or hostile server (issue 16, classes
# 9-14): a server written for each test (lib/hostile_rsp.py) takes the
# client to the stage under test, then misbehaves: an endless btrace
# document, endless raw trace, endless console output, a flood of stop
# notifications, a thread list without the traced thread, a block that
# ends before it begins, a refusal mid-run. Each ends with a clear error,
# exit 4, the capture kept and marked incomplete, in bounded memory, disk
# and time (the bounds are generous guards, not benchmarks).
import json
import os
import subprocess
import threading
import time

import harness
from harness import Skip, csgdbserver_only, timeout
from hostile_rsp import HostileServer, console, frame


def local(t):
    if t.target.remote:
        raise Skip("cstrace capture runs on this machine against a server written for the test")


def run_capture(t, srv, args, wait_s=60):
    """`cstrace capture SRV ARGS` to its end: (returncode, its output
    (stdout and stderr), out_dir, seconds, its own peak RSS in MiB, from
    wait4)."""
    out = os.path.join(t.tmp, "cap-%d" % srv.port)
    argv = [os.path.join(t.build, "cstrace"), "capture", srv.addr, "-o", out, "--no-memory"] + list(args)
    t.log.write("$ %s\n" % " ".join(argv))
    errpath = os.path.join(t.tmp, "stderr-%d" % srv.port)
    start = time.monotonic()
    with open(errpath, "wb") as errf:
        p = subprocess.Popen(argv, stdout=errf, stderr=errf, stdin=subprocess.DEVNULL)
    t.procs.append(p)
    killer = threading.Timer(wait_s * harness.TIME_SCALE, p.kill)
    killer.start()
    _, status, usage = os.wait4(p.pid, 0)
    killer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    took = time.monotonic() - start
    t.check(p.returncode != -9, "cstrace ends by itself within %d s" % wait_s)
    with open(errpath, "rb") as f:
        err = f.read().decode(errors="replace")
    rss = usage.ru_maxrss / 1024.0
    t.log.write("rc %s after %.1f s, peak RSS %.0f MiB\n--- output ---\n%s\n" % (p.returncode, took, rss, err))
    srv.close()
    return p.returncode, err, out, took, rss


def agrees_with_disk(t, rc, out, what):
    """Exit status and directory agree: 4 (cut short) leaves the capture
    under its name marked incomplete, nothing under a temporary name."""
    t.eq(rc, 4, "%s: exit 4 (cut short, what was read is kept)" % what)
    left = [n for n in os.listdir(t.tmp) if ".tmp-" in n]
    t.check(not left, "%s: no temporary directory left" % what, left)
    t.check(os.path.isdir(out), "%s: the capture is kept under its name" % what)
    if not os.path.isdir(out):
        return {}
    with open(os.path.join(out, "capture.json")) as f:
        j = json.load(f)
    t.eq((j["complete"], j["exit_code"]), (False, 4), "%s: capture.json: incomplete, exit 4" % what)
    return j


def summary_incomplete(t, err, what):
    t.check(": INCOMPLETE: " in err, "%s: the summary line says INCOMPLETE" % what, err[-300:])


def said(t, err, j, words, what):
    t.check(words in err, "%s: the message names the problem (%r)" % (what, words), err[-600:])
    summary_incomplete(t, err, what)
    t.check(words in (j.get("error") or ""), "%s: capture.json's error too" % what, j.get("error"))
    t.check("Sanitizer" not in err and "runtime error" not in err, "%s: no sanitizer report" % what, err[-400:])


def bts_blocks(n0=0):
    """An endless bts document: its head, then blocks for ever."""
    yield b'<!DOCTYPE btrace SYSTEM "btrace.dtd">\n<btrace version="1.0">\n'
    i = n0
    while True:
        yield b"".join(b'<block begin="0x%x" end="0x%x"/>\n' % (0x400000 + 16 * k, 0x40000c + 16 * k)
                       for k in range(i, i + 256))
        i += 256


def bounded(gen, limit, seconds=15, pause=0.0, tail=b""):
    """GEN, ended by TAIL after LIMIT bytes or SECONDS, a PAUSE after each
    piece: so that a client that never stops reading (the code before the
    fix) still ends, with a wrong answer, and not too fast."""
    n = 0
    end = time.monotonic() + seconds
    for piece in gen:
        yield piece
        n += len(piece)
        if n >= limit or time.monotonic() >= end:
            break
        if pause:
            time.sleep(pause)
    yield tail


ETM_HEAD = (b'<btrace version="1.0"><etm><etm-config><source-config trace_id="0x10">'
            b'<cpu-etm-config cpu_id="0x0" arch_ver="0x5" core_prof="0x3" protocol="0x2">'
            b'<etmv4-config reg_idr0="0x28000ea1" reg_idr1="0x4100f422" reg_idr2="0x20001088" '
            b'reg_idr8="0x0" reg_configr="0x40" reg_traceidr="0x10"/></cpu-etm-config></source-config>'
            b'<sink-config formatted="0x1"/></etm-config><raw>\n')


RAW_TAIL = b"</raw></etm></btrace>"


def endless_raw():
    yield ETM_HEAD
    line = b"00ff" * 2048 + b"\n"      # 4 KiB of trace a line
    while True:
        yield line




@csgdbserver_only
@timeout(120)
def test_hostile_endless_bts_document(t):
    """Class 9: a bts document that never ends is not buffered whole: past
    8 x the buffer the server reported (+ 1 MiB) the read stops with an
    error. (Before: buffered to its end, 16 GB in a minute.)"""
    local(t)
    srv = HostileServer("bts", buffer_size=0x1000)
    # 48 MiB and then an end: a client without the limit ends too
    srv.doc = lambda annex: bounded(bts_blocks(), 48 << 20, tail=b"</btrace>")
    rc, err, out, took, rss = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "endless bts document")
    said(t, err, j, "btrace document of thread 1: larger than 1081344 bytes", "endless bts document")
    t.check(rss < 100, "memory stays bounded (peak RSS %.0f MiB < 100)" % rss, rss)
    t.check(took < 30 * harness.TIME_SCALE, "and time", took)


@csgdbserver_only
@timeout(120)
def test_hostile_endless_coresight_trace(t):
    """Class 10: endless raw CoreSight trace. --max-size is checked inside
    one read (the file stops at it; the rest of the document is read and
    dropped), --time too (a read may outlast it by --timeout, then it is
    cut); a read bringing more than twice the server's buffer is refused.
    (Before: written to disk without end, the limits looked at between
    reads only.)"""
    local(t)
    srv = HostileServer("CoreSight", buffer_size=1 << 30)
    srv.doc = lambda annex: bounded(endless_raw(), 1 << 30, seconds=10, pause=0.0005, tail=RAW_TAIL)
    rc, err, out, took, _ = run_capture(t, srv, ["--max-size", "1M", "--time", "1", "--timeout", "2"])
    j = agrees_with_disk(t, rc, out, "endless raw trace, --time and --max-size")
    said(t, err, j, "thread 1's trace was still being read", "endless raw trace")
    size = os.path.getsize(os.path.join(out, "trace.bin")) if os.path.isdir(out) else -1
    t.eq(size, 1 << 20, "trace.bin stops at --max-size exactly")
    t.check(took < (1 + 2 + 10) * harness.TIME_SCALE, "ends within --time + --timeout (+10 s)", took)

    # no limits given: the server's own buffer size bounds one read
    srv = HostileServer("CoreSight", buffer_size=0x10000)
    srv.doc = lambda annex: bounded(endless_raw(), 16 << 20, tail=RAW_TAIL)
    rc, err, out, took, _ = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "endless raw trace, no limits")
    said(t, err, j, "more than 196608 bytes of trace in one read", "endless raw trace, no limits")
    size = os.path.getsize(os.path.join(out, "trace.bin")) if os.path.isdir(out) else -1
    t.eq(size, 196608, "trace.bin stops at the limit")


@csgdbserver_only
@timeout(120)
def test_hostile_endless_console_output(t):
    """Class 11: a server that sends the program's output (O packets) for
    ever holds the capture no longer than its deadlines: all-stop, the stop
    after the interrupt is waited for --timeout; non-stop, the drains and
    --time go on, and every reply is waited for --timeout, output or not.
    The output is dropped, not kept. (Before: each O packet restarted the
    wait; neither --timeout nor --time fired.)"""
    local(t)
    out_pkt = frame(console("tick tock " * 100))
    # all-stop: on 'c' the output starts and never stops; the interrupt is ignored
    srv = HostileServer("bts", live=True)
    srv.on[b"c"] = lambda pkt: srv.stream(lambda i: out_pkt, seconds=30)
    rc, err, out, took, rss = run_capture(t, srv, ["--time", "1", "--timeout", "2"])
    j = agrees_with_disk(t, rc, out, "all-stop")
    said(t, err, j, "no stop reply within 2000 ms of the interrupt, only console output", "all-stop")
    t.check(took < (1 + 2 + 10) * harness.TIME_SCALE, "all-stop: ends within --time + --timeout (+10 s)", took)
    t.check(rss < 100, "all-stop: the output is not kept (peak RSS %.0f MiB)" % rss, rss)

    # non-stop: output between every reply; the threads never stop when asked
    srv = HostileServer("bts", nonstop=True, live=True)
    srv.on[b"vCont;c"] = lambda pkt: (srv.stream(lambda i: out_pkt, seconds=30, pause=0.0005), b"OK")[1]
    rc, err, out, took, _ = run_capture(t, srv, ["--time", "1", "--timeout", "2"])
    j = agrees_with_disk(t, rc, out, "non-stop")
    said(t, err, j, "did not stop within 2000 ms", "non-stop")
    t.eq(j.get("trace", {}).get("drains", 0) > 0, True, "non-stop: the trace was drained meanwhile")
    t.check(took < (1 + 2 + 10) * harness.TIME_SCALE, "non-stop: ends within --time + --timeout (+10 s)", took)


@csgdbserver_only
@timeout(120)
def test_hostile_stop_notification_flood(t):
    """Class 12: %Stop notifications sent without waiting for vStopped are
    queued up to 64, then the capture ends with an error. (Before: queued
    without limit.)"""
    local(t)
    srv = HostileServer("bts", nonstop=True, live=True)
    note = frame(b"Stop:T05thread:p1.1;", b"%")
    flood = note * 256
    srv.on[b"vCont;c"] = lambda pkt: (srv.stream(lambda i: flood, seconds=20), b"OK")[1]
    rc, err, out, took, rss = run_capture(t, srv, ["--time", "2", "--timeout", "2"])
    j = agrees_with_disk(t, rc, out, "notification flood")
    said(t, err, j, "notification flood: more than 64 notifications", "notification flood")
    t.check(rss < 100, "memory stays bounded (peak RSS %.0f MiB)" % rss, rss)
    t.check(took < (2 + 2 + 10) * harness.TIME_SCALE, "ends within --time + --timeout (+10 s)", took)


@csgdbserver_only
@timeout(120)
def test_hostile_thread_list_and_blocks(t):
    """Class 13: a thread list that omits the traced thread (never read)
    and a block that begins after its end are errors naming the thread
    and the block. (Before: 0 blocks, "complete": true, exit 0; the block
    taken as it was.)"""
    local(t)
    srv = HostileServer("bts")
    srv.threads = [b"p1.2"]
    srv.doc = lambda annex: b'<btrace version="1.0"><block begin="0x1000" end="0x1008"/></btrace>'
    rc, err, out, _, _ = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "thread list without the traced thread")
    said(t, err, j, "thread list omits thread 1, which is traced and whose trace was never read",
         "thread list without the traced thread")

    srv = HostileServer("bts")
    srv.doc = lambda annex: (b'<btrace version="1.0"><block begin="0x1000" end="0x1008"/>'
                             b'<block begin="0x2000" end="0x1000"/></btrace>')
    rc, err, out, _, _ = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "block ending before it begins")
    said(t, err, j, "block 2 begins at 0x2000, after its end 0x1000", "block ending before it begins")

    srv = HostileServer("bts")
    srv.doc = lambda annex: b'<btrace version="1.0"><block begin="0x1000" end="zz"/></btrace>'
    rc, err, out, _, _ = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "block without addresses")
    said(t, err, j, "block 1 has no begin and end addresses", "block without addresses")


@csgdbserver_only
@timeout(120)
def test_hostile_exit_code_agrees_with_disk(t):
    """Class 14: a server refusing mid-run (the trace read answered with an
    error) leaves the capture written and marked incomplete, exit 4: exit 5
    means nothing was written, and then nothing is. (Before: exit 5 with a
    directory marked complete.)"""
    local(t)
    srv = HostileServer("bts")
    srv.on[b"qXfer:btrace:read"] = lambda pkt: b"E.Something broke."
    rc, err, out, _, _ = run_capture(t, srv, ["--timeout", "5"])
    j = agrees_with_disk(t, rc, out, "refusal mid-run")
    said(t, err, j, "reading the trace of thread 1: Something broke.", "refusal mid-run")
    t.eq(j.get("end_reason"), "error", "end_reason: error")

    # refused while setting up: exit 5 and nothing on disk
    srv = HostileServer("bts")
    srv.on[b"Qbtrace:bts"] = lambda pkt: b"E.No trace here."
    rc, err, out, _, _ = run_capture(t, srv, ["--timeout", "5"])
    t.eq(rc, 5, "refused at setup: exit 5")
    t.check(not os.path.exists(out), "and nothing written", out)
    t.check(not [n for n in os.listdir(t.tmp) if ".tmp-" in n], "not even under a temporary name")
