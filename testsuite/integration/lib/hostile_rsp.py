# A remote-protocol server written for a test, for one `cstrace capture`
# client: real framing (checksums, acks, no-ack mode, notifications), the
# answers that take the client to the stage under test (handshake, a
# stopped process, trace enabled, thread list, trace documents), and hooks
# where the test makes it misbehave. Loopback only.
import re
import socket
import threading
import time

PACKET_RX = re.compile(rb"\$([^#]*)#[0-9a-fA-F]{2}")


def frame(payload, prefix=b"$"):
    return prefix + payload + b"#%02x" % (sum(payload) & 0xFF)


def escape(data):
    """Binary escaping of a qXfer reply ('}' then the byte ^ 0x20)."""
    return re.sub(rb"[#$}*]", lambda m: b"}" + bytes([m.group(0)[0] ^ 0x20]), data)


def console(text):
    """An O packet's payload: the program's output, hex."""
    return b"O" + text.encode().hex().encode()


class HostileServer:
    """FMT "bts" or "CoreSight"; NONSTOP offers QNonStop; BUFFER_SIZE is
    what btrace-conf reports; LIVE answers libraries-svr4 (a live process:
    its exits are caught) where False makes it a replayed capture (the
    program cannot run, the trace is read once at the end).

    Hooks: DOC(annex) -> the whole btrace document, or a generator of its
    pieces (endless ones too); ON[prefix] = fn(pkt) -> reply bytes, or
    None when fn sent what it wanted itself. THREADS: the thread list."""

    def __init__(self, fmt="bts", nonstop=False, buffer_size=0x1000, live=False):
        self.fmt, self.nonstop, self.buffer_size, self.live = fmt, nonstop, buffer_size, live
        self.on = {}
        self.threads = [b"p1.1"]
        self.doc = None
        self.packets = []           # every packet received
        self.interrupts = 0
        self.sent = 0               # bytes sent
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.conn = None
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1)
        self.port = self.lsock.getsockname()[1]
        self.addr = "127.0.0.1:%d" % self.port
        self._pieces = {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # ---- sending (any thread) ----
    def send_raw(self, data):
        with self.lock:
            self.conn.sendall(data)
            self.sent += len(data)

    def send(self, payload):
        self.send_raw(frame(payload))

    def notify(self, payload):
        self.send_raw(frame(payload, b"%"))

    def stream(self, make, seconds=20.0, pause=0.0):
        """From another thread: send MAKE(i) (a framed packet) again and
        again until the client goes, or SECONDS (a bound, so that a client
        that never gives up does not hold the test for ever)."""
        def run():
            end = time.monotonic() + seconds
            i = 0
            try:
                while not self.stop.is_set() and time.monotonic() < end:
                    self.send_raw(make(i))
                    i += 1
                    if pause:
                        time.sleep(pause)
            except OSError:
                pass
        threading.Thread(target=run, daemon=True).start()

    def close(self):
        self.stop.set()
        try:
            self.lsock.close()
            if self.conn:
                self.conn.close()
        except OSError:
            pass

    # ---- the default answers ----
    def answer(self, pkt):
        for prefix, fn in self.on.items():
            if pkt.startswith(prefix):
                return fn(pkt)
        if pkt.startswith(b"qSupported"):
            feats = b"PacketSize=4000;QStartNoAckMode+;multiprocess+;Qbtrace:bts+"
            if self.fmt == "CoreSight":
                feats += b";Qbtrace:CoreSight+"
            return feats + (b";QNonStop+" if self.nonstop else b"")
        if pkt in (b"QStartNoAckMode", b"QNonStop:1", b"!", b"vStopped") or \
                pkt.startswith((b"Qbtrace", b"Hg", b"Z0", b"z0", b"QCatch", b"vKill", b"D")):
            return b"OK"
        if pkt == b"?":
            return b"T05thread:p1.1;"
        if pkt.startswith(b"qXfer:features:read:target.xml"):
            return b"l<target><architecture>i386:x86-64</architecture></target>"
        if pkt.startswith(b"qXfer:libraries-svr4:read"):
            return b'l<library-list-svr4 version="1.0"/>' if self.live else b""
        if pkt.startswith(b"qXfer:btrace-conf:read"):
            el = b"bts" if self.fmt == "bts" else b"etm"
            return b'l<btrace-conf version="1.0"><%s size="0x%x"/></btrace-conf>' % (el, self.buffer_size)
        if pkt.startswith(b"qXfer:btrace:read:"):
            return self._serve_doc(pkt)
        if pkt == b"qfThreadInfo":
            return b"m" + b",".join(self.threads) if self.threads else b"l"
        if pkt == b"qsThreadInfo":
            return b"l"
        if pkt in (b"c", b"vCont;c"):
            if not self.live:
                return b"E.Replay target: the recorded program cannot run."
            return b"OK" if self.nonstop else None     # all-stop: a stop reply comes later
        if pkt.startswith(b"vCont;") or pkt == b"k":
            return b"OK"
        return b""

    def _serve_doc(self, pkt):
        """qXfer:btrace:read:ANNEX:OFF,LEN from self.doc(annex): a whole
        document (bytes), or a generator of its pieces served in order
        (an endless one never gets to its "l")."""
        annex, rest = pkt[len(b"qXfer:btrace:read:"):].split(b":", 1)
        off, length = (int(x, 16) for x in rest.split(b","))
        want = max(1, length // 2)      # escaped, it still fits
        if self.doc is None:
            return b"l"
        if off == 0:
            self._pieces[annex] = [self.doc(annex.decode()), b"", False]
        state = self._pieces[annex]
        src = state[0]
        if isinstance(src, (bytes, bytearray)):
            part = src[off:off + want]
            return (b"m" if off + len(part) < len(src) else b"l") + escape(part)
        while len(state[1]) <= want and not state[2]:
            piece = next(src, None)
            if piece is None:
                state[2] = True
            else:
                state[1] += piece
        part, state[1] = state[1][:want], state[1][want:]
        return (b"m" if state[1] or not state[2] else b"l") + escape(part)

    # ---- the connection ----
    def _run(self):
        try:
            self.conn, _ = self.lsock.accept()
        except OSError:
            return
        self.conn.settimeout(60)
        buf, noack = b"", False
        try:
            while not self.stop.is_set():
                while buf[:1] in (b"+", b"-", b"\x03"):
                    if buf[:1] == b"\x03":
                        self.interrupts += 1
                        fn = self.on.get(b"\x03")
                        if fn:
                            fn(b"\x03")
                    buf = buf[1:]
                m = PACKET_RX.match(buf)
                if not m:
                    if buf and buf[:1] != b"$":
                        buf = buf[1:]       # noise
                        continue
                    d = self.conn.recv(65536)
                    if not d:
                        return
                    buf += d
                    continue
                pkt, buf = m.group(1), buf[m.end():]
                self.packets.append(pkt)
                if not noack:
                    self.send_raw(b"+")
                reply = self.answer(pkt)
                if reply is not None:
                    self.send(reply)
                if pkt == b"QStartNoAckMode":
                    noack = True
        except OSError:
            pass
        finally:
            self.stop.set()
            try:
                self.conn.close()
            except OSError:
                pass
