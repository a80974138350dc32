# Bad input sent raw on the socket (no gdb): NAKs, E replies, empty replies
# for unknown packets, oversized packets; the server keeps answering.
# GNU gdbserver ends a --once session after a malformed m/M packet and
# crashes on a 200 KB packet, so those two checks are csgdbserver-only.
import re

from harness import ARCH, RSP, csgdbserver_only

# stack pointer: (register number in T replies, bytes); g: minimum hex size
SP_REG = {"x86_64": (7, 8), "aarch64": (31, 8), "arm": (13, 4)}[ARCH]
MIN_G_HEX = {"x86_64": 17 * 16, "aarch64": 34 * 16, "arm": 17 * 8}[ARCH]
# register 0 (rax, x0, r0): bytes
REG0_BYTES = {"x86_64": 8, "aarch64": 8, "arm": 4}[ARCH]


def connect(t, prog="basic"):
    srv = t.start_server(t.prog(prog), options=["--once"])
    return srv, RSP(srv.port)


def still_answers(t, rsp, what):
    reply = rsp.command("?")
    t.check(re.match(rb"^[TS]05", reply) is not None,
            "server still answers '?' " + what, reply[:60])
    regs = rsp.command("g")
    t.check(re.fullmatch(rb"[0-9a-fx]+", regs) is not None and len(regs) >= MIN_G_HEX,
            "g returns register hex " + what, regs[:60])


def stop_rsp(reply):
    """The stack pointer (rsp, sp, r13) from a T stop reply."""
    m = re.search(rb"(?:^T..|;)%02x:([0-9a-f]{%d});" % (SP_REG[0], 2 * SP_REG[1]),
                  reply)
    return int.from_bytes(bytes.fromhex(m.group(1).decode()), "little") if m else None


def test_bad_checksum_nak(t):
    srv, rsp = connect(t)
    rsp.send_raw(b"$g#00")
    t.eq(rsp.read_ack(), "-", "bad checksum answered with '-'")
    rsp.send_raw(b"$?#00")
    t.eq(rsp.read_ack(), "-", "second bad checksum NAKed too")
    still_answers(t, rsp, "after NAKs (retransmission accepted)")
    rsp.close()
    t.check(srv.wait_exit(5) is not None, "--once server exits when the "
            "client closes")
    t.check(srv.inferior_pid and wait_gone(srv.inferior_pid),
            "inferior killed when the --once client leaves")


def wait_gone(pid):
    from harness import proc_state, wait_for
    return wait_for(lambda: proc_state(pid) is None, 5)


def test_unknown_and_bad_address(t):
    srv, rsp = connect(t)
    stop = rsp.command("?")
    t.check(stop.startswith(b"T05"), "initial stop is SIGTRAP", stop[:40])
    t.eq(rsp.command("qZZZUnknownPacket"), b"", "unknown q packet: empty reply")
    t.eq(rsp.command("vMustReplyEmpty"), b"", "vMustReplyEmpty: empty reply")
    t.eq(rsp.command("vZZZUnknown"), b"", "unknown v packet: empty reply")
    reply = rsp.command("m0,4")
    t.check(reply.startswith(b"E"), "m of unmapped address 0: E reply", reply)
    reply = rsp.command("mfffffffffffff000,10")
    t.check(reply.startswith(b"E"), "m of kernel address: E reply", reply)
    reply = rsp.command("M0,2:0102")
    t.check(reply.startswith(b"E"), "M to unmapped address: E reply", reply)
    reply = rsp.command("Z0,zz,1")
    t.check(reply.startswith(b"E"), "Z0 with bad address: E reply", reply)
    still_answers(t, rsp, "after error replies")
    # malformed m (not hex): E reply. (gdbserver --once then ends the session.)
    reply = rsp.command("mzz,4")
    t.check(reply.startswith(b"E"), "malformed m: E reply", reply)
    rsp.close()


@csgdbserver_only
def test_malformed_then_still_answers(t):
    srv, rsp = connect(t)
    for packet in ["mzz,4", "m1234", "m,", "M0,2:zz", "Mzz", "X1,zz:ab",
                   "Z0,", "z9,1,1", "vCont;q", "H", "qXfer:features:read:",
                   "p", "pzz", "P0=zz", "vFile:pread:zz", "qRcmd,zz"]:
        reply = rsp.command(packet)
        t.check(reply == b"" or reply.startswith(b"E") or
                (packet.startswith("vFile") and reply.startswith(b"F-1,")),
                "%r: E or empty reply (F-1 for vFile)" % packet, reply[:60])
    still_answers(t, rsp, "after malformed packets")
    rsp.close()
    t.check(srv.wait_exit(5) is not None, "server exits when client closes")


@csgdbserver_only   # gdbserver truncates thread ids that do not fit
def test_absurd_thread_ids_refused(t):
    """A thread id a pid_t cannot hold names no thread: E, never a
    truncated id that happens to name a real one."""
    srv, rsp = connect(t)
    qc = rsp.command("qC")
    m = re.fullmatch(rb"QC(?:p([0-9a-f]+)\.)?([0-9a-f]+)", qc)
    t.check(m is not None, "qC names the thread", qc)
    if not m:
        return
    tid = int(m.group(2), 16)
    pid = int(m.group(1), 16) if m.group(1) else tid
    # ids that truncate to the real thread's (a server that truncates says OK)
    for ptid in ("%x" % (tid + 2**32), "p%x.%x" % (pid + 2**32, tid), "p%x.%x" % (pid, tid + 2**32),
                 "p%x.%x" % (pid, tid + 2**36),
                 "p-2", "p%x.-2" % pid, "-2", "p" + "f" * 40):
        reply = rsp.command("Hg" + ptid)
        t.check(reply.startswith(b"E"), "Hg%s refused" % ptid[:24], reply)
        reply = rsp.command("T" + ptid)
        t.check(reply.startswith(b"E"), "T%s refused" % ptid[:24], reply)
    t.eq(rsp.command("Hgp%x.%x" % (pid, tid)), b"OK", "the real thread still works")
    t.eq(rsp.command("Hg0"), b"OK", "Hg0 (any thread) still works")
    still_answers(t, rsp, "after absurd thread ids")
    rsp.close()
    t.check(srv.wait_exit(5) is not None, "server exits when client closes")


@csgdbserver_only   # GNU gdbserver takes a G of the wrong size (a warning)
def test_bad_register_writes_change_nothing(t):
    """G of the wrong length, P of the wrong size, odd or non-hex digits:
    E replies, and 'g' shows the same bytes as before each of them."""
    srv, rsp = connect(t)
    before = rsp.command("g")
    t.check(re.fullmatch(rb"[0-9a-f]+", before) is not None and
            len(before) >= MIN_G_HEX, "g: register hex", before[:60])
    good = before.decode()
    reg0 = "%x" % (0x1122334455667788 & ((1 << (8 * REG0_BYTES)) - 1))
    bad = {
        "G of 10 bytes": "G" + "ab" * 10,
        "G one byte short": "G" + good[:-2],
        "G one byte long": "G" + good + "00",
        "G with odd digits": "G" + good + "0",
        "G with a non-hex digit": "G" + "zz" + good[2:],
        "P of one byte less": "P0=" + "ab" * (REG0_BYTES - 1),
        "P of one byte more": "P0=" + "ab" * (REG0_BYTES + 1),
        "P with odd digits": "P0=" + "a" * (2 * REG0_BYTES - 1),
        "P with non-hex digits": "P0=" + "zz" * REG0_BYTES,
        "P without a value": "P0=",
        "P of no register": "P%x=00" % 100000,
    }
    for what, packet in bad.items():
        reply = rsp.command(packet)
        t.check(reply.startswith(b"E"), what + ": E reply", reply[:40])
        t.eq(rsp.command("g"), before, what + ": registers unchanged")
    if ARCH == "x86_64":
        # The kernel refuses cs without RPL 3; with xmm0 changed in the
        # same G, the XSAVE part it took first must be put back.
        regs = bytearray(bytes.fromhex(good))
        regs[140:144] = (0x1230).to_bytes(4, "little")        # cs
        regs[276:292] = bytes(range(0x40, 0x50))              # xmm0
        t.check(rsp.command("G" + regs.hex()).startswith(b"E"),
                "G with an invalid cs: E reply")
        t.eq(rsp.command("g"), before, "G refused by the kernel: nothing changed "
             "(xmm0 put back)")
        t.check(rsp.command("P12=30120000").startswith(b"E"), "P of an invalid cs: E")
        t.eq(rsp.command("g"), before, "P refused by the kernel: nothing changed")
    # a good P changes register 0 only; a good G puts everything back
    value = bytes.fromhex(reg0.rjust(2 * REG0_BYTES, "0"))[::-1].hex()
    t.eq(rsp.command("P0=" + value), b"OK", "P of register 0: OK")
    after = rsp.command("g")
    t.eq(after, value.encode() + before[2 * REG0_BYTES:], "g: register 0 changed, "
         "nothing else")
    t.eq(rsp.command("G" + good), b"OK", "G of the registers read: OK")
    t.eq(rsp.command("g"), before, "g: registers as before")
    still_answers(t, rsp, "after bad register writes")
    rsp.close()


def test_oversized_packet(t):
    """A packet somewhat larger than the advertised PacketSize."""
    srv, rsp = connect(t)
    features = rsp.command("qSupported:multiprocess+;swbreak+;hwbreak+")
    m = re.search(rb"PacketSize=([0-9a-fA-F]+)", features)
    t.check(m is not None, "qSupported advertises PacketSize", features[:80])
    size = int(m.group(1), 16) if m else 0x4000
    t.check(size >= 0x4000, "PacketSize at least 16 KiB", hex(size))
    rsp.send_raw(rsp.frame("q" + "A" * (size + 100)))
    ack = rsp.read_ack()
    if ack == "+":
        reply = rsp.read_packet()
        t.check(reply == b"" or reply.startswith(b"E"),
                "oversized packet: empty or E reply", reply[:40])
    still_answers(t, rsp, "after an oversized packet")
    rsp.close()


@csgdbserver_only
def test_huge_packet(t):
    """1 MiB without a '#' for a long time, then a 1 MiB packet: no crash."""
    srv, rsp = connect(t)
    rsp.send_raw(rsp.frame("q" + "B" * (1 << 20)))
    ack = rsp.read_ack()
    if ack == "+":
        reply = rsp.read_packet()
        t.check(reply == b"" or reply.startswith(b"E"),
                "1 MiB packet: empty or E reply", reply[:40])
    else:
        t.eq(ack, "-", "1 MiB packet: NAK")
    rsp.send_raw(b"$" + b"C" * (1 << 20))           # never terminated...
    rsp.send_raw(b"#00")                             # ...until now, bad sum
    t.check(rsp.read_ack() == "-", "unterminated then bad-checksum packet NAKed")
    still_answers(t, rsp, "after 1 MiB packets")
    t.check(srv.alive(), "server alive")
    rsp.close()


def test_binary_write_and_noack(t):
    srv, rsp = connect(t)
    stop = rsp.command("?")
    sp = stop_rsp(stop)
    t.check(sp is not None, "stop reply expedites the stack pointer", stop[:80])
    addr = (sp or 0) - 1024           # below the stack pointer: unused
    data = bytes([0x7d, 0x23, 0x24, 0x2a, 0x00, 0xff, 0x7d, 0x7d, 0x03, 0x41])
    escaped = b"".join(bytes([0x7d, b ^ 0x20]) if b in (0x7d, 0x23, 0x24, 0x2a)
                       else bytes([b]) for b in data)
    t.eq(rsp.command(b"X%x,%x:" % (addr, len(data)) + escaped), b"OK",
         "binary X write with escaped bytes")
    back = rsp.command("m%x,%x" % (addr, len(data)))
    t.eq(back, data.hex().encode(), "m reads back the X bytes")
    t.eq(rsp.command("M%x,4:deadbeef" % addr), b"OK", "hex M write")
    t.eq(rsp.command("m%x,4" % addr), b"deadbeef", "m reads back the M bytes")
    # a run of equal bytes may come back run-length encoded: decoded above
    t.eq(rsp.command("M%x,40:%s" % (addr, "00" * 64)), b"OK", "zero fill")
    t.eq(rsp.command("m%x,40" % addr), b"00" * 64, "64 zero bytes read back")
    t.eq(rsp.command("QStartNoAckMode"), b"OK", "QStartNoAckMode accepted")
    rsp.send_raw(rsp.frame("?"))
    reply = rsp.read_packet(ack=False)
    t.check(reply.startswith(b"T05"), "no-ack mode: reply without '+'",
            reply[:40])
    rsp.send_raw(rsp.frame("m%x,4" % addr))
    t.eq(rsp.read_packet(ack=False), b"00000000", "no-ack mode memory read")
    rsp.close()


def gdb_crc32(data, crc=0xFFFFFFFF):
    """libiberty's xcrc32, which qCRC uses (MSB-first, poly 0x04c11db7)."""
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def test_qcrc_and_search(t):
    """qCRC over a stack block we wrote, qSearch:memory for a pattern."""
    srv, rsp = connect(t)
    sp = stop_rsp(rsp.command("?"))
    addr = sp - 4096
    block = bytes((i * 7 + 3) & 0xFF for i in range(1024))
    t.eq(rsp.command("M%x,%x:%s" % (addr, len(block), block.hex())), b"OK",
         "1 KiB written")
    reply = rsp.command("qCRC:%x,%x" % (addr, len(block)))
    t.eq(reply, b"C%x" % gdb_crc32(block), "qCRC matches xcrc32 of the block")
    needle = block[600:608]
    reply = rsp.command(b"qSearch:memory:%x;%x;" % (addr, len(block)) +
                        b"".join(bytes([0x7d, c ^ 0x20]) if c in b"}#$*"
                                 else bytes([c]) for c in needle))
    # first occurrence of the 8 bytes (the pattern repeats every 256 bytes)
    first = block.find(needle)
    t.eq(reply, b"1,%x" % (addr + first), "qSearch:memory finds the pattern")
    reply = rsp.command(b"qSearch:memory:%x;%x;\x01\x02\x03\x04\x05" %
                        (addr, 64))
    t.eq(reply, b"0", "qSearch:memory: not found")
    reply = rsp.command("qCRC:0,10")
    t.check(reply.startswith(b"E"), "qCRC of unmapped memory: E reply", reply)
    rsp.close()
