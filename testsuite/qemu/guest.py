#!/usr/bin/env python3
"""Host side of csg-agent (testsuite/qemu/agent.c): start processes in a
QEMU test guest and read its /proc, through the port boot.sh forwards.

As a module:   g = guest.Guest("127.0.0.1:38857")
               g.read("/proc/1/status"); p = g.spawn(["ls", "/"]); p.wait()
As a command (a boot.sh guest, AGENT_PORT in the environment or -a):
  guest.py [-a HOST:PORT] exec [--cwd DIR] -- CMD ARGS...   stdin/stdout/stderr
                                                            relayed, exit code
  guest.py [-a HOST:PORT] read PATH | ls PATH | kill PID SIG
"""
import errno
import os
import socket
import subprocess
import sys
import threading
import time


class GuestError(OSError):
    pass


def _encode(fields):
    return b"\0".join(f if isinstance(f, bytes) else str(f).encode()
                      for f in fields).hex().encode() + b"\n"


class _Conn:
    def __init__(self, addr, fields, timeout=30):
        host, port = addr.rsplit(":", 1)
        last = None
        # The agent may be busy forking: retry refused/reset connections.
        for _ in range(50):
            try:
                self.sock = socket.create_connection((host, int(port)),
                                                     timeout=timeout)
                break
            except OSError as e:
                last = e
                time.sleep(0.1)
        else:
            raise GuestError(errno.ECONNREFUSED,
                             "csg-agent at %s unreachable: %s" % (addr, last))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.sock.sendall(_encode(fields))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("csg-agent closed the connection")
        self.buf += chunk

    def frame(self):
        """(tag, bytes) of the next frame, or (None, None) at the end."""
        try:
            while b"\n" not in self.buf:
                self._fill()
        except (EOFError, OSError):
            return None, None
        head, self.buf = self.buf.split(b"\n", 1)
        parts = head.split(b" ")
        tag = parts[0].decode()
        if tag == "ERR":
            return tag, int(parts[1])
        length = int(parts[1])
        while len(self.buf) < length:
            self._fill()
        data, self.buf = self.buf[:length], self.buf[length:]
        return tag, data

    def send(self, tag, data=b""):
        self.sock.sendall(b"%s %d\n" % (tag.encode(), len(data)) + data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class GuestProcess:
    """Popen-like handle of a process the agent started. stdout/stderr
    chunks go to the on_stdout/on_stderr callbacks (bytes)."""

    def __init__(self, addr, argv, cwd="", on_stdout=None, on_stderr=None):
        self.conn = _Conn(addr, ["spawn", cwd] + list(argv), timeout=None)
        self.on = {"1": on_stdout, "2": on_stderr}
        self.out = {"1": bytearray(), "2": bytearray()}
        self.pid = None
        self.returncode = None
        self.exec_errno = None
        self.done = threading.Event()
        self.started = threading.Event()
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()
        self.started.wait(60)
        if self.exec_errno:
            self.wait(10)
            raise GuestError(self.exec_errno, "%s: %s in the guest" % (
                argv[0], os.strerror(self.exec_errno)))
        if self.pid is None:
            raise GuestError(errno.EIO, "csg-agent did not start %s" % argv[0])

    def _pump(self):
        while True:
            tag, data = self.conn.frame()
            if tag is None:
                break
            if tag == "P":
                self.pid = int(data)
                self.started.set()
            elif tag == "E":
                self.exec_errno = int(data)
            elif tag in ("1", "2"):
                cb = self.on[tag]
                if cb:
                    cb(data)
                else:
                    self.out[tag] += data
            elif tag == "X":
                kind, num = data.decode().split()
                with self.cond:
                    self.returncode = int(num) if kind == "exit" else -int(num)
                    self.cond.notify_all()
        with self.cond:
            if self.returncode is None:
                self.returncode = -9     # connection lost: agent killed it
            self.cond.notify_all()
        for cb in self.on.values():
            if cb:
                cb(b"")                  # EOF
        self.started.set()
        self.done.set()

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        with self.cond:
            if not self.cond.wait_for(lambda: self.returncode is not None,
                                      timeout):
                raise subprocess.TimeoutExpired("guest pid %s" % self.pid,
                                                timeout)
        return self.returncode

    def send_signal(self, sig):
        try:
            self.conn.send("K", str(int(sig)).encode())
        except OSError:
            pass

    def kill(self):
        self.send_signal(9)

    def terminate(self):
        self.send_signal(15)

    def write_stdin(self, data):
        self.conn.send("0", data)

    def close_stdin(self):
        self.conn.send("0", b"")

    def close(self):
        """Drop the connection: the agent kills the process's session."""
        self.conn.close()


class Guest:
    def __init__(self, addr):
        self.addr = addr

    def _call(self, *fields):
        conn = _Conn(self.addr, fields)
        try:
            tag, data = conn.frame()
        finally:
            conn.close()
        if tag == "OK":
            return data
        if tag == "ERR":
            raise GuestError(data, "%s %s: %s (in the guest)" % (
                fields[0], fields[1] if len(fields) > 1 else "",
                os.strerror(data)))
        raise GuestError(errno.EIO, "no answer from csg-agent to %s" %
                         fields[0])

    def read(self, path):
        return self._call("read", path)

    def read_text(self, path):
        return self.read(path).decode("utf-8", "replace")

    def readlink(self, path):
        return self._call("readlink", path).decode()

    def listdir(self, path):
        data = self._call("listdir", path)
        return data.decode().split("\0") if data else []

    def exists(self, path):
        try:
            self._call("exists", path)
            return True
        except GuestError:
            return False

    def mkdir(self, path):
        self._call("mkdir", path)

    def write(self, path, data):
        self._call("write", path, data)

    def unlink(self, path):
        self._call("unlink", path)

    def kill(self, pid, sig):
        try:
            self._call("kill", int(pid), int(sig))
        except GuestError as e:
            raise ProcessLookupError(e.errno, str(e)) \
                if e.errno == errno.ESRCH else e

    def connects(self, ip, port):
        try:
            self._call("connect", ip, int(port))
            return True
        except GuestError:
            return False

    def spawn(self, argv, cwd="", on_stdout=None, on_stderr=None):
        return GuestProcess(self.addr, argv, cwd, on_stdout, on_stderr)

    def run(self, argv, timeout=60, cwd=""):
        """subprocess.run-like: CompletedProcess with text output."""
        p = self.spawn(argv, cwd)
        p.close_stdin()
        try:
            rc = p.wait(timeout)
        finally:
            p.done.wait(5)
            p.close()
        return subprocess.CompletedProcess(
            argv, rc, p.out["1"].decode("utf-8", "replace"),
            p.out["2"].decode("utf-8", "replace"))


def _exec(g, argv, cwd):
    """Relay stdio to a guest process (e.g. for `target remote | ...`)."""
    out = sys.stdout.buffer
    err = sys.stderr.buffer

    def w(stream):
        def f(data):
            if data:
                stream.write(data)
                stream.flush()
        return f
    p = g.spawn(argv, cwd, on_stdout=w(out), on_stderr=w(err))

    def pump_stdin():
        fd = sys.stdin.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            try:
                if not data:
                    p.close_stdin()
                    return
                p.write_stdin(data)
            except OSError:
                return
    threading.Thread(target=pump_stdin, daemon=True).start()
    rc = p.wait()
    p.done.wait(5)
    p.close()
    return rc if rc >= 0 else 128 - rc


def main(argv):
    addr = None
    if len(argv) > 2 and argv[1] == "-a":
        addr = argv[2]
        argv = argv[:1] + argv[3:]
    if addr is None and os.environ.get("AGENT_PORT"):
        addr = "127.0.0.1:" + os.environ["AGENT_PORT"]
    if addr is None or len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    g = Guest(addr)
    cmd = argv[1]
    try:
        if cmd == "exec":
            rest = argv[2:]
            cwd = ""
            if rest[:1] == ["--cwd"]:
                cwd, rest = rest[1], rest[2:]
            if rest[:1] == ["--"]:
                rest = rest[1:]
            return _exec(g, rest, cwd)
        if cmd == "read":
            sys.stdout.buffer.write(g.read(argv[2]))
            return 0
        if cmd == "ls":
            print("\n".join(sorted(g.listdir(argv[2]))))
            return 0
        if cmd == "kill":
            g.kill(int(argv[2]), int(argv[3]))
            return 0
    except OSError as e:
        print("guest.py: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
