# `cstrace capture` against a real csgdbserver on loopback, no gdb:
# software bts recording of a live program (block list, memory dumps
# checked against the ELF), the CoreSight path with recorded trace (a live
# program traced by a recorded perf.data; replayed ETB and OpenCSD
# snapshots), the snapshot it writes decoded by Debian's trc_pkt_lister and
# by `cstrace decode` and compared with what the server serves; a server
# killed and a connection dropped mid-capture; limits, Ctrl-C, several
# targets at once; bad arguments and the documented exit codes.
import json
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import harness
from harness import RSP, Skip, csgdbserver_only, timeout

PERFDATA_DIR = harness.shared("simpleperf-etm-perfdata")
PERFDATA = PERFDATA_DIR + "/perf_etm.data"
MISSING_AUX = PERFDATA_DIR + "/perf_with_missing_aux_data.data"
R5 = harness.shared("etmv3-cortex-r5")
JUNO = harness.shared("opencsd-snapshots", "snapshots", "juno_r1_1")
RANGE_RX = re.compile(r"OCSD_GEN_TRC_ELEM_INSTR_RANGE\(exec range=(0x[0-9a-f]+):\[(0x[0-9a-f]+)\]")


def local(t):
    """cstrace runs here and the recorded data must be where the server is."""
    if t.target.remote:
        raise Skip("cstrace capture runs on this machine against a local server "
                   "(the same code is exercised on x86_64)")


def cstrace(t):
    """cstrace of this machine (in the ARM guests the build is a cross
    build: the host's own build then, which `make check` made first)."""
    if t.target.remote:
        return os.environ.get("CSTRACE") or os.path.join(harness.TOP, "build", "cstrace")
    return os.path.join(t.build, "cstrace")


def capture(t, args, timeout_s=60, env=None):
    """Run `cstrace capture ARGS`; (returncode, stdout, stderr)."""
    argv = [cstrace(t), "capture"] + list(args)
    t.log.write("$ %s\n" % " ".join(argv))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s * harness.TIME_SCALE,
                       stdin=subprocess.DEVNULL, env=env)
    t.log.write("rc %d\n--- stdout ---\n%s\n--- stderr ---\n%s\n" % (p.returncode, p.stdout, p.stderr))
    return p.returncode, p.stdout, p.stderr


def load_json(t, d):
    with open(os.path.join(d, "capture.json")) as f:
        return json.load(f)


def no_temporaries(t, parent):
    left = [n for n in os.listdir(parent) if ".tmp-" in n]
    t.check(not left, "no temporary directory left behind", left)


def no_sanitizer(t, err):
    t.check("Sanitizer" not in err and "runtime error" not in err, "no sanitizer report", err[-400:])


def capture_replayed_perfdata(t, prog):
    """`cstrace capture` of test program PROG on a local server that
    replays the phone's perf.data: (server, output directory, capture.json)."""
    local(t)
    harness.need_shared(PERFDATA)
    srv = t.start_server(options=["--multi", "--etm-perfdata", PERFDATA])
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--", t.prog(prog)])
    t.eq(rc, 0, "capture exits 0")
    no_sanitizer(t, err)
    return srv, out, load_json(t, out)


def read_blocks(path):
    out = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            b, e = line.split()
            out.append((int(b, 16), int(e, 16)))
    return out


def read_block_segments(path):
    """blocks.txt as lists of (begin, end), split at its overflow marks."""
    segments = [[]]
    with open(path) as f:
        for line in f:
            if line.startswith("# overflow"):
                segments.append([])
            elif not line.startswith("#") and line.strip():
                b, e = line.split()
                segments[-1].append((int(b, 16), int(e, 16)))
    return segments


def pieces_of(segments, whole):
    """SEGMENTS are runs of WHOLE in order, from its first block to its
    last, with something of WHOLE missing between each two. A run before
    a gap may end in the start of WHOLE's block: the block read up to where
    the thread stood, the rest of it lost in the gap. The first run is
    empty when the ring wrapped before the first read."""
    def run_at(i, seg, last):
        if i + len(seg) > len(whole) or not all(whole[i + k] == b for k, b in enumerate(seg[:-1])):
            return False
        (b, e), (wb, we) = seg[-1], whole[i + len(seg) - 1]
        return (b, e) == (wb, we) or (not last and b == wb and b <= e < we)
    if len(segments) == 1:
        return segments[0] == whole
    at = 0
    for n, seg in enumerate(segments):
        if not seg and n == 0:
            continue
        if not seg:
            return False
        if n == 0:
            starts = [0]
        elif n == len(segments) - 1:
            starts = [len(whole) - len(seg)] if len(whole) - len(seg) > at else []
        else:
            starts = range(at + 1, len(whole) - len(seg))
        found = next((i for i in starts if run_at(i, seg, n == len(segments) - 1)), None)
        if found is None:
            return False
        at = found + len(seg)
    return True


def elf_symbol(path, name):
    out = subprocess.run(["nm", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == name:
            return int(f[0], 16)
    return None


def trc_pkt_lister(t, snapdir, extra=()):
    """trc_pkt_lister -ss_dir SNAPDIR -decode in a temporary cwd (it writes
    trc_pkt_lister.ppl there): (returncode, output)."""
    if not os.path.exists("/usr/bin/trc_pkt_lister"):
        raise Skip("trc_pkt_lister not installed (apt-get install libopencsd-bin)")
    cwd = os.path.join(t.tmp, "tpl-%d" % len(os.listdir(t.tmp)))
    os.makedirs(cwd, exist_ok=True)
    p = subprocess.run(["trc_pkt_lister", "-ss_dir", os.path.abspath(snapdir), "-decode", "-logstdout"]
                       + list(extra), capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, p.stdout


def ranges_of(listing):
    return [(int(a, 16), int(b, 16)) for a, b in RANGE_RX.findall(listing)]


def auxtrace_payloads(path):
    """The PERF_RECORD_AUXTRACE payloads of a perf.data file, in file order."""
    with open(path, "rb") as f:
        d = f.read()
    off, size = struct.unpack_from("<QQ", d, 40)
    p, out = off, []
    while p < off + size:
        rtype, _, rsize = struct.unpack_from("<IHH", d, p)
        extra = struct.unpack_from("<Q", d, p + 8)[0] if rtype == 71 else 0
        if rtype == 71:
            out.append(d[p + rsize:p + rsize + extra])
        p += rsize + extra
    return out


def xfer_all(rsp, obj, annex, chunk=0x3000):
    data, off = b"", 0
    while True:
        reply = rsp.command("qXfer:%s:read:%s:%x,%x" % (obj, annex, off, chunk))
        if reply[:1] not in (b"m", b"l"):
            return None
        data += reply[1:]
        off += len(reply) - 1
        if reply[:1] == b"l":
            return data


@csgdbserver_only
@timeout(120)
def test_capture_software_bts(t):
    """No trace hardware: the server records bts in software. The capture
    has the block list (text and gdb's XML), the size the server reported,
    memory dumps of the executed mappings equal to the program's file, and
    blocks inside the program's main."""
    local(t)
    prog = t.prog("basic")
    srv = t.start_server(options=["--multi"])
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--size", "0x9000", "--",
                                  prog])
    t.eq(rc, 0, "capture exits 0")
    no_sanitizer(t, err)
    no_temporaries(t, t.tmp)
    j = load_json(t, out)
    t.eq(j["complete"], True, "capture complete")
    t.eq(j["configuration"]["format"], "bts", "software source: bts format")
    m = re.search(r'size="(0x[0-9a-f]+)"', j["configuration"]["btrace_conf"])
    t.check(m is not None, "the server's btrace-conf is kept", j["configuration"]["btrace_conf"])
    t.eq(j["configuration"]["buffer_size"], int(m.group(1), 16) if m else None,
         "buffer size as the server reported it")
    t.eq(j["configuration"]["buffer_size"], 0x9000, "0x9000 asked, whole pages obtained")
    blocks = read_blocks(os.path.join(out, "blocks.txt"))
    th = j["trace"]["threads"][0]
    t.eq(len(blocks), th["blocks"], "blocks.txt holds the blocks capture.json counts")
    t.check(len(blocks) > 100, "many blocks recorded", len(blocks))
    t.check(all(b <= e for b, e in blocks), "every block begins before it ends")
    xml = open(os.path.join(out, "btrace.xml")).read()
    t.eq(len(re.findall(r"<block ", xml)), len(blocks), "btrace.xml has the same blocks")
    t.check(re.match(r"\S+: \d+ bts blocks from 1 thread of pid \d+ at 127\.0\.0\.1:\d+, \d+ memory dumps",
                     stdout) is not None, "one-line summary", stdout)
    # the program's own executable mapping: dump bytes equal the file
    exe = [d for d in j["memory"] if d["name"] == prog]
    t.check(exe, "the program's executable mapping was dumped", [d["name"] for d in j["memory"]])
    if exe:
        out_maps = subprocess.run(["readelf", "-lW", prog], capture_output=True, text=True).stdout
        seg = [l.split() for l in out_maps.splitlines() if l.strip().startswith("LOAD") and "R E" in l]
        off, vaddr = int(seg[0][1], 16), int(seg[0][2], 16)
        base = exe[0]["address"] - (vaddr & ~0xfff)
        with open(os.path.join(out, exe[0]["file"]), "rb") as f:
            dumped = f.read()
        with open(prog, "rb") as f:
            f.seek(off & ~0xfff)
            want = f.read(len(dumped))
        t.check(dumped[:len(want)] == want, "dumped text equals the ELF file's bytes")
        main = elf_symbol(prog, "main")
        t.check(main is not None and any(base + main <= b <= base + main + 0x400 for b, _ in blocks),
                "blocks inside main", hex(base + main) if main else None)
    # the exit is caught at exit_group's entry, in the C library's _exit
    # (the recorder steps the system call with PTRACE_SYSCALL): the newest
    # block ends there
    t.eq(j["end_reason"], "program exited", "ends at the program's exit")
    libc = [d for d in j["memory"] if re.search(r"/libc[.-]", d["name"])]
    t.check(libc, "the C library's text was dumped", [d["name"] for d in j["memory"]])
    if libc:
        lib = libc[0]["name"]
        phdrs = subprocess.run(["readelf", "-lW", lib], capture_output=True, text=True).stdout
        seg = [l.split() for l in phdrs.splitlines() if l.strip().startswith("LOAD") and "R E" in l]
        base = libc[0]["address"] - (int(seg[0][2], 16) & ~0xfff)
        syms = subprocess.run(["readelf", "-sW", "--dyn-syms", lib], capture_output=True, text=True).stdout
        ex = [(int(l.split()[1], 16), int(l.split()[2], 0)) for l in syms.splitlines()
              if len(l.split()) >= 8 and l.split()[7].split("@")[0] == "_exit"]
        t.check(ex and base + ex[0][0] <= blocks[-1][1] < base + ex[0][0] + ex[0][1],
                "the newest block ends in the C library's _exit", str((blocks[-1:], ex)))
    # every block begins in a dumped mapping
    spans = [(d["address"], d["address"] + d["length"]) for d in j["memory"]]
    outside = [hex(b) for b, _ in blocks if not any(s <= b < e for s, e in spans)]
    t.check(not outside, "every block lies in a dumped executable mapping", outside[:5])


@csgdbserver_only
@timeout(120)
def test_capture_recorded_coresight_live_program(t):
    """A live program traced by a source replaying a phone's perf.data
    (cs_etm): the capture's trace.bin is byte for byte the recording's AUX
    data, the snapshot has the eight ETMv4 units, trc_pkt_lister decodes it
    unmodified, and cstrace decode meets the same unreadable addresses."""
    srv, out, j = capture_replayed_perfdata(t, "basic")
    t.eq(j["configuration"]["format"], "CoreSight", "CoreSight trace chosen")
    t.eq(j["end_reason"], "program exited", "ends when the program exits (exit_group caught)")
    with open(os.path.join(out, "trace.bin"), "rb") as f:
        raw = f.read()
    t.eq(raw, b"".join(auxtrace_payloads(PERFDATA)), "trace.bin is the recording's AUX data")
    t.eq(j["trace"]["bytes"], len(raw), "capture.json counts the bytes")
    t.eq(j["trace"]["cpus"], 8, "eight trace units")
    ini = open(os.path.join(out, "etm_0.ini")).read()
    t.check("type=ETM4" in ini and "TRCCONFIGR=" in ini and "TRCTRACEIDR=0x10" in ini,
            "ETMv4 registers in the device ini", ini)
    rc2, listing = trc_pkt_lister(t, out)
    t.eq(rc2, 0, "trc_pkt_lister decodes the snapshot")
    t.check("processed %d bytes" % len(raw) in listing, "trc_pkt_lister processed every byte",
            listing[-300:])
    ids = set(re.findall(r"ID:([0-9a-f]+)\s+END OF TRACE DATA", listing))
    t.check(len(ids) == 8, "every trace ID's decoder ran", ids)
    t.check("ERROR" not in listing.upper().replace("OCSD_ERR_", ""), "no decoder error",
            [l for l in listing.splitlines() if "ERROR" in l.upper()][:3])
    nacc_ref = re.findall(r"ADDR_NACC\( (0x[0-9a-f]+) \)", listing)
    dec = subprocess.run([cstrace(t), "decode", out], capture_output=True, text=True, timeout=60)
    no_sanitizer(t, dec.stderr)
    nacc = re.findall(r"gap no-memory (0x[0-9a-f]+)", dec.stdout)
    t.check(nacc_ref, "the phone's code is not here: addresses without memory")
    t.eq([int(a, 16) for a in nacc], [int(a, 16) for a in nacc_ref],
         "cstrace decode and trc_pkt_lister stop at the same addresses")
    # a second client of the --multi server starts clean and gets the same
    out2 = os.path.join(t.tmp, "cap2")
    rc, _, _ = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out2, "--", t.prog("basic")])
    with open(os.path.join(out2, "trace.bin"), "rb") as f:
        t.check(rc == 0 and f.read() == raw, "the next capture on the same server: the same trace")


def replay_server(t, path):
    harness.need_shared(path)
    # not --once: the test reads the server's own view after the capture
    return t.start_server(options=["--replay", path])


@csgdbserver_only
@timeout(180)
def test_capture_replayed_snapshot_matches_server(t):
    """A replayed OpenCSD snapshot (ETMv4, no executable file): cstrace
    fetches the memory the trace executes over the protocol while decoding;
    trc_pkt_lister on the capture gives exactly the ranges it gives on the
    original snapshot for that trace ID, cstrace decode the same, and the
    server's own bts blocks are those ranges."""
    local(t)
    srv = replay_server(t, JUNO)
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out])
    t.eq(rc, 0, "capture exits 0")
    no_sanitizer(t, err)
    j = load_json(t, out)
    t.check(j["memory"], "memory dumps fetched while decoding", j["memory"])
    rc1, ours = trc_pkt_lister(t, out)
    rc2, ref = trc_pkt_lister(t, JUNO, ["-id", "0x10"])
    got, want = ranges_of(ours), ranges_of(ref)
    t.check(len(want) > 1000, "the original decodes", len(want))
    t.eq(got, want, "trc_pkt_lister: capture == original snapshot, range for range")
    dec = subprocess.run([cstrace(t), "decode", "--ranges", out], capture_output=True, text=True,
                         timeout=60)
    no_sanitizer(t, dec.stderr)
    mine = [tuple(int(x, 16) for x in l.split()) for l in dec.stdout.splitlines()]
    t.eq(mine, got, "cstrace decode of the capture: the same ranges")
    # what the server serves gdb: merged ranges as blocks, newest first
    rsp = RSP(srv.port, timeout_s=30)
    rsp.command("qSupported:multiprocess+")
    t.eq(rsp.command("Qbtrace:bts"), b"OK", "enable bts on the replay")
    doc = xfer_all(rsp, "btrace", "all")
    blocks = list(reversed([(int(b, 16), int(e, 16)) for b, e in re.findall(
        rb'<block begin="(0x[0-9a-f]+)" end="(0x[0-9a-f]+)"/>', doc or b"")]))
    merged = []
    for s, e in got:
        if merged and merged[-1][1] == s:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    t.check(len(blocks) in (len(merged), len(merged) + 1), "one server block per merged range",
            (len(blocks), len(merged)))
    bad = [i for i, (w, g) in enumerate(zip(merged, blocks)) if g[0] != w[0] or not w[0] <= g[1] < w[1]
           and i != len(blocks) - 1]
    t.check(not bad, "server blocks span the capture's ranges", bad[:3])
    rsp.close()


@csgdbserver_only
@timeout(180)
def test_capture_replayed_etb_with_elf(t):
    """A replayed Cortex-R5 ETB capture (ETMv3): memory comes from the
    executable's loadable segments, read over the protocol; trc_pkt_lister
    decodes the capture (the original directory is not a snapshot it can
    read) to the ranges cstrace decodes from the original."""
    local(t)
    cap_dir = os.path.join(R5, "freertos")
    srv = replay_server(t, cap_dir)
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out])
    t.eq(rc, 0, "capture exits 0")
    j = load_json(t, out)
    with open(os.path.join(out, "trace.bin"), "rb") as f, open(os.path.join(cap_dir, "trace.bin"), "rb") as g:
        t.check(f.read() == g.read(), "trace.bin is the recorded ETB buffer")
    t.check(any(d["name"].endswith(".elf") for d in j["memory"]), "the ELF's segments dumped",
            j["memory"])
    ini = open(os.path.join(out, "etm_0.ini")).read()
    t.check("type=ETM3.5" in ini and "ETMCR=" in ini and "ETMIDR=" in ini, "ETMv3 registers", ini)
    rc1, ours = trc_pkt_lister(t, out)
    got = ranges_of(ours)
    dec = subprocess.run([cstrace(t), "decode", "--ranges", "--stop-on-error", cap_dir],
                         capture_output=True, text=True, timeout=60)
    want = [tuple(int(x, 16) for x in l.split()) for l in dec.stdout.splitlines()]
    t.check(len(want) > 1000, "the original decodes", len(want))
    t.eq(got, want, "trc_pkt_lister on the capture == cstrace on the original")


def busy_capture(t, srv_options, extra, prog_args=("busy", "30"), during=None, wait_s=60):
    """Start a capture of `spin busy` in the background; DURING(proc) runs
    while it captures. Returns (returncode, stdout, stderr, out_dir)."""
    srv = t.start_server(options=srv_options)
    out = os.path.join(t.tmp, "cap")
    argv = [cstrace(t), "capture", "127.0.0.1:%d" % srv.port, "-o", out] + list(extra) + \
        ["--", t.prog("spin")] + list(prog_args)
    t.log.write("$ %s\n" % " ".join(argv))
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    t.procs.append(p)
    if during:
        during(srv, p, out)
    stdout, err = p.communicate(timeout=wait_s * harness.TIME_SCALE)
    t.log.write("rc %d\n%s\n%s\n" % (p.returncode, stdout, err))
    return p.returncode, stdout, err, out, srv


def wait_for_blocks(t, out):
    """Until the capture being written has read some trace."""
    def progressed():
        for n in os.listdir(t.tmp):
            if n.startswith("cap.tmp-"):
                return True
        return False
    harness.wait_for(progressed, 10)
    time.sleep(1.0)


def check_incomplete(t, rc, stdout, err, out):
    t.eq(rc, 4, "exit code 4: connection lost")
    no_sanitizer(t, err)
    no_temporaries(t, t.tmp)
    t.check(os.path.isdir(out), "what was captured is kept under the final name")
    j = load_json(t, out) if os.path.isdir(out) else {}
    t.eq(j.get("complete"), False, "capture.json: complete false")
    t.eq(j.get("end_reason"), "connection lost", "end reason")
    t.check("INCOMPLETE" in stdout, "the summary says INCOMPLETE", stdout)
    blocks = read_blocks(os.path.join(out, "blocks.txt")) if os.path.isdir(out) else []
    th = j.get("trace", {}).get("threads", [{}])[0]
    t.check(len(blocks) > 0 and len(blocks) == th.get("blocks"),
            "the blocks read before the loss are on disk, as counted", (len(blocks), th))
    return j


@csgdbserver_only
@timeout(120)
def test_capture_server_killed(t):
    """The server dies mid-capture: exit 4, the capture so far renamed to
    its final name and marked incomplete, nothing left under a temporary
    name."""
    local(t)

    def kill_server(srv, proc, out):
        wait_for_blocks(t, out)
        srv.proc.kill()
    rc, stdout, err, out, _ = busy_capture(t, ["--multi"], [], during=kill_server)
    check_incomplete(t, rc, stdout, err, out)


class Proxy:
    """TCP forwarder that can drop both sides of the connection at once."""

    def __init__(self, port):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.target = port
        self.socks = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _pump(self, a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass

    def _run(self):
        c, _ = self.lsock.accept()
        s = socket.create_connection(("127.0.0.1", self.target))
        self.socks = [c, s]
        threading.Thread(target=self._pump, args=(c, s), daemon=True).start()
        self._pump(s, c)

    def drop(self):
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.lsock.close()


@csgdbserver_only
@timeout(120)
def test_capture_connection_dropped_then_next_client(t):
    """The network drops the connection mid-capture: exit 4 and an
    incomplete capture on disk; the --multi server then serves the next
    capture from a clean state, to completion."""
    local(t)
    srv = t.start_server(options=["--multi"])
    proxy = Proxy(srv.port)
    out = os.path.join(t.tmp, "cap")
    argv = [cstrace(t), "capture", "127.0.0.1:%d" % proxy.port, "-o", out, "--",
            t.prog("spin"), "busy", "30"]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL)
    t.procs.append(p)
    wait_for_blocks(t, out)
    proxy.drop()
    stdout, err = p.communicate(timeout=60 * harness.TIME_SCALE)
    t.log.write("rc %d\n%s\n%s\n" % (p.returncode, stdout, err))
    check_incomplete(t, p.returncode, stdout, err, out)
    t.check(srv.alive(), "the server survives a dropped client")
    out2 = os.path.join(t.tmp, "cap2")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out2, "--", t.prog("basic")])
    t.eq(rc, 0, "the next capture on the same server succeeds")
    j = load_json(t, out2) if os.path.isdir(out2) else {}
    t.eq(j.get("complete"), True, "and is complete")
    t.check(j.get("trace", {}).get("threads", [{}])[0].get("blocks", 0) > 100,
            "with its own trace", j.get("trace"))


@csgdbserver_only
@timeout(120)
def test_capture_limits_and_ctrl_c(t):
    """--time ends the capture after that long, --max-size when that much
    trace was read, SIGINT (Ctrl-C) when asked; each complete, exit 0, the
    started program killed."""
    local(t)
    start = time.monotonic()
    rc, stdout, err, out, srv = busy_capture(t, ["--multi"], ["--time", "1.5", "--progress"])
    took = time.monotonic() - start
    t.check(re.search(r"\x1b\[Kcstrace capture: \d+ blocks \([0-9.]+ MiB\), \d+ blocks/s, [0-9.]+ s", err),
            "--progress: blocks, rate and time on stderr", err[-300:])
    j = load_json(t, out)
    t.eq((rc, j["end_reason"], j["complete"]), (0, "time limit", True), "--time: ends at the limit")
    t.check(took < 20 * harness.TIME_SCALE, "well before the program's own end", took)
    pid = j["target"]["pid"]
    t.check(harness.wait_for(lambda: harness.proc_status(pid) is None, 5),
            "the program started for the capture is killed at its end")

    rc, stdout, err, out2, _ = busy_capture(t, ["--multi"], ["--max-size", "20000", "-o",
                                                              os.path.join(t.tmp, "cap-size")])
    t.check("\x1b[K" not in err, "no progress when stderr is not a terminal", err[-200:])
    j = load_json(t, os.path.join(t.tmp, "cap-size"))
    t.eq((rc, j["end_reason"]), (0, "size limit"), "--max-size: ends at the limit")
    t.check(j["trace"]["bytes"] >= 20000, "at least that much trace read", j["trace"]["bytes"])

    def ctrl_c(srv, proc, out):
        wait_for_blocks(t, out)
        proc.send_signal(signal.SIGINT)
    rc, stdout, err, _, _ = busy_capture(t, ["--multi"], ["-o", os.path.join(t.tmp, "cap-int")],
                                         during=ctrl_c)
    j = load_json(t, os.path.join(t.tmp, "cap-int"))
    t.eq((rc, j["end_reason"], j["complete"]), (0, "interrupted (Ctrl-C)", True),
         "Ctrl-C: ends cleanly, trace kept")
    t.check(j["trace"]["threads"][0]["blocks"] > 0, "with the trace read so far")
    no_temporaries(t, t.tmp)


@csgdbserver_only
@timeout(120)
def test_capture_stop_address(t):
    """--stop-at ADDR: the capture ends when the program reaches ADDR (a
    breakpoint; on CoreSight also the trace unit's stop trigger), and the
    newest block ends there."""
    local(t)
    src = os.path.join(t.tmp, "stopper.c")
    with open(src, "w") as f:
        f.write("#include <unistd.h>\n"
                "volatile int n;\n"
                "__attribute__((noinline)) void work(void) { n++; }\n"
                "__attribute__((noinline)) void marker(void) { n += 2; }\n"
                "int main(void) { for (int i = 0; i < 50; i++) work(); marker();\n"
                "  for (;;) sleep(1); }\n")
    exe = os.path.join(t.tmp, "stopper")
    subprocess.run(["cc", "-O0", "-no-pie", "-o", exe, src], check=True)
    marker = elf_symbol(exe, "marker")
    srv = t.start_server(options=["--multi"])
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--stop-at", hex(marker),
                                  "--", exe])
    t.eq(rc, 0, "capture exits 0")
    j = load_json(t, out)
    t.eq(j["end_reason"], "stop address reached", "ended by the stop address")
    t.eq(j["configuration"]["stop_at"], [hex(marker)], "recorded in capture.json")
    blocks = read_blocks(os.path.join(out, "blocks.txt"))
    t.check(blocks and blocks[-1][1] == marker, "the newest block ends at the stop address",
            (blocks[-3:], hex(marker)))
    work = elf_symbol(exe, "work")
    t.eq(sum(1 for b, _ in blocks if b == work), 50, "work() entered 50 times before it")


LOOP_C = """#include <stdlib.h>
volatile unsigned long sink;
__attribute__((noinline)) unsigned long step(unsigned long x) { return (x & 1) ? 3 * x + 1 : x / 2; }
__attribute__((noinline)) void marker(void) { sink++; }
int main(int argc, char **argv)
{
	long n = atol(argv[1]);
	unsigned long acc = 0;
	for (long i = 1; i <= n; i++) {
		unsigned long x = (unsigned long)i;
		for (int k = 0; k < 8 && x != 1; k++)
			x = step(x);
		acc += x;
	}
	sink = acc;
	marker();
	return 0;
}
"""


def build_prog(t, name, source, extra=()):
    src = os.path.join(t.tmp, name + ".c")
    with open(src, "w") as f:
        f.write(source)
    exe = os.path.join(t.tmp, name)
    subprocess.run(["cc", "-O1", "-no-pie", "-o", exe, src] + list(extra), check=True)
    return exe


@csgdbserver_only
@timeout(300)
def test_capture_nonstop_drains_lose_nothing(t):
    """Non-stop: the trace is read while the program runs. A deterministic
    program ending at a --stop-at breakpoint, recorded into a buffer far
    smaller than its trace (128 KiB: 8192 branches) and drained every 20 ms
    while it runs: the concatenated deltas equal what one read of a buffer
    big enough for everything gives at the end; without draining the small
    buffer wraps and keeps only the newest part. The interrupting method
    (--all-stop) gives the same. Keeping up is a matter of timing (a loaded
    machine can hold the capture off for the 0.7 s the buffer lasts): an
    overflow is then allowed if it is reported and accounted for exactly,
    and most drains must have kept up."""
    local(t)
    exe = build_prog(t, "loop", LOOP_C)
    marker = elf_symbol(exe, "marker")
    srv = t.start_server(options=["--multi"])

    def run(name, args):
        out = os.path.join(t.tmp, name)
        rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--stop-at", hex(marker)]
                                  + args + ["--", exe, "1500"], timeout_s=240)
        t.eq(rc, 0, "%s: capture exits 0" % name)
        no_sanitizer(t, err)
        j = load_json(t, out)
        t.eq(j["end_reason"], "stop address reached", "%s: ends at the stop address" % name)
        return j, os.path.join(out, "blocks.txt")

    def same_blocks(name, j, path):
        """PATH's blocks are REF's, except where an overflow is marked."""
        segments = read_block_segments(path)
        gaps = j["trace"]["threads"][0]["overflow_gaps"]
        t.eq((j["trace"]["overflows"], len(gaps)), (len(segments) - 1,) * 2,
             "%s: every overflow is marked in blocks.txt and capture.json" % name)
        t.check(j["trace"]["overflows"] * 4 <= j["trace"]["drains"], "%s: most drains kept up" % name,
                (j["trace"]["overflows"], j["trace"]["drains"]))
        if len(segments) == 1:
            t.check(segments[0] == ref, "%s: the drained deltas equal the single read, block for block" % name,
                    repr(next(((i, a, b) for i, (a, b) in enumerate(zip(segments[0], ref)) if a != b),
                              (len(segments[0]), len(ref)))))
            return
        print("note: %s: %d overflows under load (%d drains)" % (name, len(segments) - 1, j["trace"]["drains"]))
        t.check(pieces_of(segments, ref), "%s: the blocks between the overflow marks are the single read's "
                "in order, each gap lost something, nothing else is missing" % name,
                repr(([len(x) for x in segments], len(ref))))

    ref_j, ref_path = run("reference", ["--size", "32M", "--drain-interval", "3600000"])
    ref = read_blocks(ref_path)
    t.eq((ref_j["configuration"]["mode"], ref_j["trace"]["drains"], ref_j["trace"]["overflows"]),
         ("non-stop", 0, 0), "reference: one read at the end, nothing lost")
    capacity = 0x20000 // 16
    t.check(len(ref) > 4 * capacity, "the trace is many times what 128 KiB holds", repr((len(ref), capacity)))
    t.check(ref and ref[-1][1] == marker, "the newest block ends at the stop address")

    ns_j, ns = run("nonstop", ["--size", "128K", "--drain-interval", "20"])
    t.eq((ns_j["configuration"]["mode"], ns_j["configuration"]["mode_reason"]),
         ("non-stop", "offered by the server"), "non-stop chosen: the server offers it")
    t.check(ns_j["trace"]["drains"] >= 3, "drained several times while it ran", ns_j["trace"]["drains"])
    t.check(ns_j["protocol"]["notifications_in"] >= 1, "its stop came as a notification",
            ns_j["protocol"])
    same_blocks("non-stop", ns_j, ns)

    as_j, alls = run("allstop", ["--all-stop", "--size", "128K", "--drain-interval", "20"])
    t.eq((as_j["configuration"]["mode"], as_j["configuration"]["mode_reason"]), ("all-stop", "--all-stop"),
         "--all-stop: the interrupting method")
    t.check(as_j["trace"]["drains"] >= 3, "drained several times", as_j["trace"]["drains"])
    t.eq(as_j["protocol"]["notifications_in"], 0, "no notification in all-stop")
    same_blocks("all-stop", as_j, alls)

    nd_j, nodrain_path = run("nodrain", ["--size", "128K", "--drain-interval", "3600000"])
    nodrain = read_blocks(nodrain_path)
    t.check(0 < len(nodrain) <= capacity + 1, "undrained, the small buffer keeps its size's worth",
            len(nodrain))
    t.check(nodrain == ref[-len(nodrain):], "the newest part of the same trace")
    t.eq((nd_j["trace"]["overflows"], nd_j["trace"]["threads"][0]["overflow_gaps"]), (1, [{"at_block": 0}]),
         "undrained: the wrap before the only read is an overflow, its gap at the start")


THREADS_C = """#include <pthread.h>
#include <unistd.h>
volatile int go, sink;
__attribute__((noinline)) void work_a(int i) { sink += (i & 3) ? 1 : 2; }
__attribute__((noinline)) void work_b(int i) { sink += (i & 5) ? 3 : 4; }
__attribute__((noinline)) void work_main(int i) { sink += (i & 7) ? 5 : 6; }
static void *run_a(void *p) { while (!go) usleep(1000); for (int i = 0; i < 2000; i++) work_a(i); return p; }
static void *run_b(void *p) { while (!go) usleep(1000); for (int i = 0; i < 2000; i++) work_b(i); return p; }
int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, run_a, NULL);
	pthread_create(&b, NULL, run_b, NULL);
	for (int i = 0; i < 3000; i++)
		work_main(i);
	go = 1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
"""


@csgdbserver_only
@timeout(300)
def test_capture_threads_software_bts(t):
    """A three-thread program recorded in software (bts), non-stop and
    --all-stop: capture.json lists every thread, each has its own block
    list, and each list holds its own thread's work function and not the
    others' (the workers start their work once the traced main thread is
    done with its own, so they are traced by then)."""
    local(t)
    exe = build_prog(t, "thr", THREADS_C, ["-pthread"])
    funcs = {name: elf_symbol(exe, name) for name in ("work_main", "work_a", "work_b")}
    srv = t.start_server(options=["--multi"])
    for mode in ("non-stop", "all-stop"):
        out = os.path.join(t.tmp, mode)
        rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--size", "4M",
                                      "--drain-interval", "50"] + (["--all-stop"] if mode == "all-stop" else [])
                                  + ["--", exe], timeout_s=240)
        t.eq(rc, 0, "%s: capture exits 0" % mode)
        no_sanitizer(t, err)
        j = load_json(t, out)
        t.eq((j["configuration"]["mode"], j["end_reason"]), (mode, "program exited"),
             "%s: to the program's exit" % mode)
        ths = j["trace"]["threads"]
        t.eq(len(ths), 3, "%s: three threads listed" % mode)
        t.check(all(th["traced"] and th["reads"] >= 1 and th["blocks"] > 0 for th in ths),
                "%s: each traced and read" % mode, ths)
        t.check("3 threads" in stdout, "%s: the summary counts them" % mode, stdout)
        seen = []
        for i, th in enumerate(ths):
            name = "blocks.txt" if i == 0 else "blocks-%d.txt" % th["tid"]
            blocks = read_blocks(os.path.join(out, name))
            t.eq(len(blocks), th["blocks"], "%s: %s holds the blocks counted" % (mode, name))
            seen.append({f for f, a in funcs.items() if any(b == a for b, _ in blocks)})
        t.eq(seen[0], {"work_main"}, "%s: the main thread ran work_main only" % mode)
        t.eq(sorted(seen[1:], key=sorted), [{"work_a"}, {"work_b"}],
             "%s: each worker its own work function" % mode)


@csgdbserver_only
@timeout(120)
def test_capture_threads_snapshot(t):
    """Every thread's CoreSight trace goes into the snapshot (a live
    three-thread program traced by a recorded perf.data, which serves each
    thread the recording): one trace buffer per thread with its own
    sources and cores, named in capture.json; Debian's trc_pkt_lister
    decodes each buffer unmodified (-src_name), each to the same as the
    first (the same bytes), and cstrace decode --buffer agrees."""
    srv, out, j = capture_replayed_perfdata(t, "threads")
    ths = j["trace"]["threads"]
    t.eq(len(ths), 3, "three threads in capture.json")
    names = [th.get("buffer") for th in ths]
    t.eq(names[0], "ETB_0", "the first thread's buffer keeps its name")
    t.eq(names[1:], ["ETB_%d" % th["tid"] for th in ths[1:]], "the others named by thread ID")
    ini = open(os.path.join(out, "trace.ini")).read()
    t.check("buffers=buffer0,buffer1,buffer2" in ini, "three trace buffers in trace.ini", ini[:200])
    raw = b"".join(auxtrace_payloads(PERFDATA))
    first = None
    for th, name in zip(ths, names):
        with open(os.path.join(out, th["file"]), "rb") as f:
            t.eq(f.read(), raw, "%s: the thread's trace" % name)
        t.check(re.search(r"ETM_0%s=%s\b" % ("" if name == "ETB_0" else "_%d" % th["tid"], name), ini),
                "%s: its own sources" % name)
        rc2, listing = trc_pkt_lister(t, out, ["-src_name", name])
        t.eq(rc2, 0, "%s: trc_pkt_lister decodes it" % name)
        t.check("processed %d bytes" % len(raw) in listing, "%s: every byte processed" % name,
                listing[-300:])
        ids = set(re.findall(r"ID:([0-9a-f]+)\s+END OF TRACE DATA", listing))
        t.eq(len(ids), 8, "%s: every trace ID's decoder ran" % name)
        body = [l for l in listing.splitlines() if l.startswith("Idx:")]
        if first is None:
            first = body
            t.check(len(body) > 10, "the first buffer decodes to packets", len(body))
        else:
            t.check(body == first, "%s: decodes as the first buffer (the same bytes)" % name)
        dec = subprocess.run([cstrace(t), "decode", "--buffer", name, out], capture_output=True, text=True,
                             timeout=60)
        no_sanitizer(t, dec.stderr)
        nacc = re.findall(r"gap no-memory (0x[0-9a-f]+)", dec.stdout)
        t.eq(nacc, re.findall(r"ADDR_NACC\( (0x[0-9a-f]+) \)", listing),
             "%s: cstrace decode --buffer meets the same unreadable addresses" % name)


@csgdbserver_only
@timeout(120)
def test_capture_two_targets(t):
    """Two boards at once (here two servers: one with recorded CoreSight
    trace, one recording bts in software): one subdirectory each, both
    complete, exit 0."""
    local(t)
    harness.need_shared(PERFDATA)
    a = t.start_server(options=["--multi", "--etm-perfdata", PERFDATA])
    b = t.start_server(options=["--multi"])
    out = os.path.join(t.tmp, "both")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % a.port, "--target", "127.0.0.1:%d" % b.port,
                                  "-o", out, "--", t.prog("basic")])
    t.eq(rc, 0, "exit 0")
    da = os.path.join(out, "127.0.0.1_%d" % a.port)
    db = os.path.join(out, "127.0.0.1_%d" % b.port)
    ja, jb = load_json(t, da), load_json(t, db)
    t.eq((ja["configuration"]["format"], ja["complete"]), ("CoreSight", True), "first board: CoreSight")
    t.eq((jb["configuration"]["format"], jb["complete"]), ("bts", True), "second board: bts")
    t.check(os.path.exists(os.path.join(da, "snapshot.ini")) and
            os.path.exists(os.path.join(db, "blocks.txt")), "each its own capture")
    t.eq(len(stdout.strip().splitlines()), 2, "one summary line per board")


@csgdbserver_only
@timeout(120)
def test_capture_exit_codes(t):
    """Usage errors exit 2, an unreachable server 4 (and leaves no
    directory), a target that refuses 5 (no directory), trace lost with
    --fail-on-overflow 6 (the capture kept), an existing output 1."""
    local(t)
    out = os.path.join(t.tmp, "x")
    for args, why in ((["-o", out], "no target"),
                      (["127.0.0.1:1", "--size", "lots"], "bad size"),
                      (["127.0.0.1:1", "--attach", "12", "--", "/bin/true"], "attach and program"),
                      (["127.0.0.1:1", "--bogus"], "unknown option"),
                      (["127.0.0.1:1", "--range", "0x2000-0x1000"], "empty range"),
                      (["notatarget"], "not HOST:PORT"),
                      (["127.0.0.1:1", "--"], "-- without a program")):
        rc, _, err = capture(t, args)
        t.eq(rc, 2, "usage error exits 2: %s" % why)
        t.check("Try 'cstrace --help'" in err, "usage error says how to get help: %s" % why, err)
    # a loopback port nobody listens on
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    rc, _, err = capture(t, ["127.0.0.1:%d" % dead, "-o", out, "--", "/bin/true"])
    t.eq(rc, 4, "unreachable server: exit 4")
    t.check("cannot connect" in err, "says it cannot connect", err)
    t.check(not os.path.exists(out), "no capture directory when nothing was captured")
    no_temporaries(t, t.tmp)
    srv = t.start_server(options=["--multi"])
    rc, _, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--", "/nonexistent/prog"])
    t.eq(rc, 5, "a program the server cannot run: exit 5")
    t.check(not os.path.exists(out), "and no capture directory")
    rc, _, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--core", "1", "--", t.prog("basic")])
    t.eq(rc, 5, "CoreSight options against a software-only server: exit 5")
    t.check("bts" in err, "says the server records bts only", err)
    if harness.need_shared(PERFDATA):
        srv2 = t.start_server(options=["--multi", "--etm-perfdata", PERFDATA])
        rc, _, err = capture(t, ["127.0.0.1:%d" % srv2.port, "-o", out, "--core", "77", "--",
                                 t.prog("basic")])
        t.eq(rc, 5, "an option the trace unit refuses: exit 5")
        t.check("core=77" in err or "core=0x4d" in err, "the server's reason is shown", err)
    if harness.need_shared(MISSING_AUX):
        srv3 = t.start_server(options=["--multi", "--etm-perfdata", MISSING_AUX])
        rc, _, err = capture(t, ["127.0.0.1:%d" % srv3.port, "-o", out, "--fail-on-overflow", "--",
                                 t.prog("basic")])
        t.eq(rc, 6, "trace lost with --fail-on-overflow: exit 6")
        j = load_json(t, out)
        t.check(j["trace"]["overflows"] >= 1 and j["trace"]["threads"][0]["overflow_gaps"],
                "the overflow gap is in capture.json", j["trace"])
        t.check("overflowed" in err, "and said on stderr", err)
        rc, _, err = capture(t, ["127.0.0.1:%d" % srv3.port, "-o", out, "--", t.prog("basic")])
        t.eq(rc, 1, "an existing output directory: exit 1")
        t.check("already exists" in err, "says so", err)
    no_temporaries(t, t.tmp)


class FakeServer:
    """A scripted remote-protocol server on loopback for one client: it
    answers what cstrace asks with MODE's mischief in the trace document
    or the framing."""

    CPU = ('<cpu-etm-config cpu_id="0x%x" arch_ver="0x5" core_prof="0x3" protocol="0x2">'
           '<etmv4-config reg_idr0="0x28000ea1" reg_idr1="0x4100f422" reg_idr2="0x20001088" '
           'reg_idr8="0x0" reg_configr="0x40" reg_traceidr="0x%x"/></cpu-etm-config>')

    def __init__(self, mode):
        self.mode = mode
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def doc(self):
        head = b'<btrace version="1.0"><etm><etm-config><source-config>'
        if self.mode == "many-cpus":
            cpus = "".join(self.CPU % (i, 0x10 + i % 0x50) for i in range(300)).encode()
            return head + cpus + b'</source-config><sink-config formatted="0x1" fsyncs="0x0" ' \
                b'hsyncs="0x0" frame_aligned="0x1" reset_on_4x_sync="0x1"/></etm-config>' \
                b'<raw>00ff\n' + b"ab" * 5000 + b'\n</raw></etm></btrace>'
        if self.mode == "bad-hex":
            return head + (self.CPU % (0, 0x10)).encode() + b"</source-config></etm-config>" \
                b"<raw>00112z</raw></etm></btrace>"
        if self.mode == "odd-hex":
            return head + (self.CPU % (0, 0x10)).encode() + b"</source-config></etm-config>" \
                b"<raw>001</raw></etm></btrace>"
        if self.mode == "bad-xml":
            return head + (self.CPU % (0, 0x10)).encode() + b"<raw>0011</etm>"
        if self.mode == "weird-values":
            return head + b'<cpu-etm-config cpu_id="zz" arch_ver="-1" core_prof="" protocol="0x99">' \
                b'<etmv4-config reg_idr0="0x1ffffffffffffffff" reg_configr="nope" ' + \
                b'reg_' + b"x" * 300 + b'="0x1"/></cpu-etm-config></source-config></etm-config>' \
                b'<raw>0123</raw></etm></btrace>'
        return head + b"</source-config></etm-config></etm></btrace>"

    def _run(self):
        c, _ = self.lsock.accept()
        c.settimeout(20)
        buf, noack = b"", False
        try:
            while True:
                m = re.search(rb"\$([^#]*)#..", buf)
                if not m:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                    continue
                pkt, buf = m.group(1), buf[m.end():]
                if not noack:
                    c.sendall(b"+")
                if self.mode == "silent":
                    continue
                if self.mode == "garbage":
                    for _ in range(200):
                        c.sendall(b"x" * 65536)
                    continue
                if self.mode == "oversized" and pkt.startswith(b"qXfer:btrace:read"):
                    c.sendall(b"$l" + b"0" * (3 << 20) + b"#00")
                    continue
                reply = self.answer(pkt)
                c.sendall(b"$" + reply + b"#%02x" % (sum(reply) & 0xFF))
                if pkt == b"QStartNoAckMode":
                    noack = True
        except OSError:
            pass
        finally:
            c.close()

    def answer(self, pkt):
        if pkt.startswith(b"qSupported"):
            extra = b";QNonStop+" if self.mode == "nonstop-refused" else b""
            return b"PacketSize=4000;QStartNoAckMode+;multiprocess+;Qbtrace:CoreSight+;Qbtrace:bts+" + extra
        if pkt.startswith(b"QNonStop"):
            return b"E01"
        if pkt in (b"QStartNoAckMode", b"!") or pkt.startswith((b"Qbtrace", b"Hg", b"Z0", b"QCatch")):
            return b"OK"
        if pkt == b"?":
            return b"T05thread:p1.1;"
        if pkt.startswith(b"qXfer:btrace:read:"):
            off = int(pkt.split(b":")[4].split(b",")[0], 16)
            d = self.doc()[off:off + 0x3000]
            esc = re.sub(rb"[#$}*]", lambda m: b"}" + bytes([m.group(0)[0] ^ 0x20]), d)
            return (b"l" if off + 0x3000 >= len(self.doc()) else b"m") + esc
        if pkt.startswith(b"qXfer:btrace-conf:read"):
            return b'l<btrace-conf version="1.0"><etm size="0x1000"/></btrace-conf>'
        if pkt in (b"c", b"vCont;c"):
            return b"E.Replay target: the recorded program cannot run."
        if pkt.startswith(b"qfThreadInfo"):
            return b"mp1.1"
        if pkt.startswith(b"qsThreadInfo"):
            return b"l"
        return b""


@csgdbserver_only
@timeout(120)
def test_capture_hostile_server(t):
    """A server that sends nonsense (bad XML, 300 CPUs, impossible register
    values, oversized packets, endless garbage, nothing at all): a clear
    message and a documented exit code, no crash, no hang."""
    local(t)
    cases = (("many-cpus", 0), ("weird-values", 0), ("bad-xml", 4), ("bad-hex", 4), ("odd-hex", 4),
             ("oversized", 4), ("garbage", 4), ("silent", 4), ("nonstop-refused", 0))
    for mode, want in cases:
        fake = FakeServer(mode)
        out = os.path.join(t.tmp, "cap-" + mode)
        start = time.monotonic()
        rc, stdout, err = capture(t, ["127.0.0.1:%d" % fake.port, "-o", out, "--timeout", "2"])
        t.eq(rc, want, "%s: exit %d" % (mode, want))
        no_sanitizer(t, err)
        t.check(time.monotonic() - start < 30 * harness.TIME_SCALE, "%s: no hang" % mode)
        if want == 4:
            t.check(err.strip(), "%s: says what went wrong" % mode, err)
    j = load_json(t, os.path.join(t.tmp, "cap-many-cpus"))
    t.eq(j["trace"]["cpus"], 256, "trace units beyond 256 are ignored, not overflowed")
    with open(os.path.join(t.tmp, "cap-many-cpus", "trace.bin"), "rb") as f:
        t.eq(f.read(), b"\x00\xff" + b"\xab" * 5000, "hex decoded across chunks")
    ini = open(os.path.join(t.tmp, "cap-weird-values", "etm_0.ini")).read()
    t.check("type=unknown" in ini, "an unknown trace protocol is written as such", ini)
    j = load_json(t, os.path.join(t.tmp, "cap-bad-xml"))
    t.eq(j["complete"], False, "bad XML: the capture is marked incomplete")
    t.check("btrace document" in j["error"], "and says the document is bad", j["error"])
    j = load_json(t, os.path.join(t.tmp, "cap-bad-hex"))
    t.check("not hex" in j["error"], "bad hex: said so", j["error"])
    j = load_json(t, os.path.join(t.tmp, "cap-nonstop-refused"))
    t.eq((j["configuration"]["mode"], j["configuration"]["mode_reason"]), ("all-stop", "QNonStop:1 refused (error 01)"),
         "QNonStop refused: all-stop instead, and why")
    j = load_json(t, os.path.join(t.tmp, "cap-many-cpus"))
    t.eq(j["configuration"]["mode"], "all-stop", "a server without non-stop: all-stop")
    no_temporaries(t, t.tmp)


@csgdbserver_only
@timeout(120)
def test_capture_attach_and_threads(t):
    """--attach PID traces a running process and detaches at the end (it
    runs on, untraced); a program's threads are traced as they appear, each
    into its own trace file."""
    local(t)
    spin = t.spawn([t.prog("spin"), "busy", "30"])
    srv = t.start_server(options=["--multi"])
    out = os.path.join(t.tmp, "cap")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--attach", str(spin.pid),
                                  "--time", "1"])
    t.eq(rc, 0, "attach capture exits 0")
    j = load_json(t, out)
    t.eq((j["target"]["attached"], j["target"]["pid"], j["end_reason"]), (True, spin.pid, "time limit"),
         "attached to the process, ended by the time limit")
    t.check(j["trace"]["threads"][0]["blocks"] > 0, "its trace recorded")
    t.check(harness.wait_for(lambda: harness.tracer_of(spin.pid) == 0, 5), "detached at the end")
    t.check(harness.proc_state(spin.pid) in ("R", "S"), "and it runs on")
    harness.need_shared(PERFDATA)
    srv2 = t.start_server(options=["--multi", "--etm-perfdata", PERFDATA])
    out2 = os.path.join(t.tmp, "threads")
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv2.port, "-o", out2, "--", t.prog("threads")])
    t.eq(rc, 0, "threads capture exits 0")
    j = load_json(t, out2)
    ths = j["trace"]["threads"]
    t.eq(len(ths), 3, "main thread and both workers")
    files = [th.get("file") for th in ths]
    t.eq(len(set(files)), 3, "each thread its own trace file")
    t.check(all(os.path.getsize(os.path.join(out2, f)) == th["bytes"] > 0 for f, th in zip(files, ths)),
            "each file holds the bytes counted", ths)


@csgdbserver_only
@timeout(300)
def test_capture_live_coresight(t):
    """A live program traced by a CoreSight source (trace hardware, or the
    emulated ETMv4 of the ARM guests), drained with delta reads while it
    runs: the snapshot decodes with trc_pkt_lister without errors, to the
    ranges cstrace decode finds, all inside the memory dumped from the
    target."""
    exe = cstrace(t)
    if not os.access(exe, os.X_OK):
        raise Skip("no cstrace for this machine at %s (build it, or set CSTRACE)" % exe)
    srv = t.start_server(options=["--multi"])
    rsp = RSP(srv.port, timeout_s=30)
    sup = rsp.command("qSupported:multiprocess+")
    rsp.close()
    if b"Qbtrace:CoreSight+" not in sup:
        raise Skip("no CoreSight trace source for live programs here (x86_64 records bts in "
                   "software; the ARM guests have the emulated ETMv4)")
    srv.proc.kill()
    srv = t.start_server(options=["--multi"])
    out = os.path.join(t.tmp, "cap")
    # a busy loop for a few seconds: recording in software is slow in a guest
    rc, stdout, err = capture(t, ["127.0.0.1:%d" % srv.port, "-o", out, "--drain-interval", "300",
                                  "--timeout", "%d" % (30 * harness.TIME_SCALE), "--size", "64K",
                                  "--time", "4", "--", t.prog("spin"), "busy", "60"], timeout_s=240)
    t.eq(rc, 0, "capture exits 0")
    no_sanitizer(t, err)
    j = load_json(t, out)
    t.eq((j["configuration"]["format"], j["configuration"]["drained_while_running"]), ("CoreSight", True),
         "CoreSight trace drained with delta reads")
    t.eq(j["end_reason"], "time limit", "ends at the time limit")
    t.check(j["trace"]["threads"][0]["reads"] >= 2, "read more than once", j["trace"]["threads"][0])
    t.check(j["trace"]["bytes"] > 100, "trace captured", j["trace"]["bytes"])
    rc1, listing = trc_pkt_lister(t, out)
    got = ranges_of(listing)
    t.check(len(got) > 100, "trc_pkt_lister decodes instruction ranges", len(got))
    errors = [l for l in listing.splitlines() if "OCSD_GEN_TRC_ELEM_NO_SYNC" not in l and
              re.search(r"ERR|BAD_", l)]
    t.check(not errors, "no decoder error", errors[:3])
    dec = subprocess.run([exe, "decode", "--ranges", "--stop-on-error", out], capture_output=True,
                         text=True, timeout=120)
    mine = [tuple(int(x, 16) for x in l.split()) for l in dec.stdout.splitlines()]
    t.eq(mine, got, "cstrace decode == trc_pkt_lister, range for range")
    spans = [(d["address"], d["address"] + d["length"]) for d in j["memory"]]
    outside = [hex(a) for a, b in got if not any(s <= a and b <= e for s, e in spans)]
    t.check(not outside, "every range lies in dumped memory", outside[:5])
    t.check(any(d["name"] == t.prog("spin") for d in j["memory"]), "the program's text was dumped")
