# Outer side of the integration tests: starts the server under test and the
# real gdb, talks raw RSP, inspects /proc. One TestContext per test; every
# process it starts is killed in cleanup().
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time

from target import TARGET

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PROGS_SRC = os.path.join(TOP, "testsuite", "progs")
GDB = os.environ.get("GDB") or \
    ("gdb-multiarch" if TARGET.remote else "/usr/bin/gdb")
# x86_64, aarch64 or arm: the server's ELF machine (runner.py sets it)
ARCH = os.environ.get("ITEST_ARCH", "x86_64")
TIME_SCALE = float(os.environ.get("ITEST_TIME_SCALE", "1"))


class TestFailure(Exception):
    pass


class Skip(Exception):
    pass


# The project's read-only test data: ../shared beside this tree, or
# $CSG_SHARED. It always comes with the tree, so missing data is a failure.
SHARED = os.path.abspath(os.environ.get("CSG_SHARED") or
                         os.path.join(TOP, "..", "shared"))


def shared(*parts):
    """Path of PARTS under the shared testdata/ directory."""
    return os.path.join(SHARED, "testdata", *parts)


def need_shared(path):
    """PATH (from shared()) must exist; the server must run here too, since
    the data is on this machine only (a QEMU guest has none of it)."""
    if TARGET.remote:
        raise Skip("recorded test data is on the host only, not in the guest")
    if not os.path.exists(path):
        raise TestFailure("shared test data missing: %s (it belongs at ../shared "
                          "beside the tree; CSG_SHARED=DIR overrides)" % path)
    return path


def csgdbserver_only(fn):
    """Behaviour GNU gdbserver does not have (it is the reference for
    everything else)."""
    fn.csgdbserver_only = True
    return fn


def timeout(seconds):
    def mark(fn):
        fn.timeout = seconds
        return fn
    return mark


def server_kind(path):
    try:
        out = TARGET.run([path, "--version"], timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return "gnu" if "GNU gdbserver" in out else "csgdbserver"


def probe_hw_watchpoints(build):
    """Do x86 debug registers fire on this machine? Asked of the native gdb
    (no server involved). Some VMs (e.g. Firecracker/PVM guests) accept
    DR7 writes but never raise the debug exception. In a QEMU guest the
    tests themselves show whether TCG's debug registers fire."""
    if TARGET.remote:
        return ""
    prog = os.path.join(build, "progs", "basic")
    try:
        out = subprocess.run(
            [GDB, "-nx", "-batch", "-ex", "break main", "-ex", "run",
             "-ex", "watch g_counter", "-ex", "continue", prog],
            capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return "native gdb probe failed: %s" % e
    if re.search(r"Old value = 0\s+New value = 1", out):
        return ""
    return "hardware watchpoints never trigger on this machine " \
        "(native gdb, no server: `watch` runs to exit)"


def require_hw_watchpoints():
    reason = os.environ.get("ITEST_NO_HW_WATCH", "")
    if reason:
        raise Skip(reason)


def proc_status(pid):
    """dict of /proc/PID/status fields, or None if the process is gone
    (zombies count as gone: nothing can be done with them)."""
    try:
        text = TARGET.read_text("/proc/%d/status" % pid)
    except OSError:
        return None
    fields = dict(re.findall(r"^(\w+):\s*(.*)$", text, re.M))
    if fields.get("State", "").startswith(("Z", "X")):
        return None
    return fields


def proc_state(pid):
    st = proc_status(pid)
    return st["State"][0] if st else None


def tracer_of(pid):
    st = proc_status(pid)
    return int(st["TracerPid"]) if st else None


def wait_for(predicate, seconds, step=0.02):
    end = time.monotonic() + seconds * TIME_SCALE
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            return value
        time.sleep(step)


class Stream:
    """Collects a pipe on a thread so the child never blocks on it."""

    def __init__(self, pipe=None):
        """pipe None: fed by feed() (output of a process in the guest)."""
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.partial = b""
        self.thread = threading.Thread(target=self._pump, args=(pipe,),
                                       daemon=True)
        if pipe is not None:
            self.thread.start()

    def feed(self, data):
        """Next chunk of output; b"" is the end."""
        with self.cond:
            if not data:
                if self.partial:
                    self.lines.append(self.partial.decode("utf-8", "replace"))
                self.partial = b""
                self.closed = True
            else:
                self.partial += data
                *done, self.partial = self.partial.split(b"\n")
                self.lines += [d.decode("utf-8", "replace") for d in done]
            self.cond.notify_all()

    def _pump(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_closed(self, seconds):
        """Wait (unscaled SECONDS at most) for the end of the output."""
        end = time.monotonic() + seconds
        with self.cond:
            while not self.closed and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
        return self.closed

    def text(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_line(self, pattern, seconds):
        """First line matching PATTERN (a regex), or None on timeout/EOF."""
        rx = re.compile(pattern)
        end = time.monotonic() + seconds * TIME_SCALE
        seen = 0
        with self.cond:
            while True:
                for text in self.lines[seen:]:
                    m = rx.search(text)
                    if m:
                        return m
                seen = len(self.lines)
                left = end - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.cond.wait(left)


class Server:
    def __init__(self, ctx, proc, port, stdout, stderr, argv):
        self.ctx = ctx
        self.proc = proc
        self.port = port            # what gdb connects to, on this host
        self.guest_port = port      # what the server listens on
        self.stdout = stdout
        self.stderr = stderr
        self.argv = argv
        m = re.search(r"Process .* created; pid = (\d+)", stderr.text())
        self.inferior_pid = int(m.group(1)) if m else None

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, seconds=5):
        try:
            return self.proc.wait(seconds * TIME_SCALE)
        except subprocess.TimeoutExpired:
            return None

    def output(self):
        return ("--- server stdout ---\n" + self.stdout.text() +
                "\n--- server stderr ---\n" + self.stderr.text())


class GdbResult:
    def __init__(self, name, rc, stdout, stderr, timed_out):
        self.name = name
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.passes = re.findall(r"^@@CHECK PASS (.*)$", stdout, re.M)
        self.failures = re.findall(r"^@@CHECK FAIL (.*)$", stdout, re.M)
        self.done = re.search(r"^@@DONE", stdout, re.M) is not None
        self.values = {}
        for key, value in re.findall(r"^@@VAL (\w+)=(.*)$", stdout, re.M):
            self.values[key] = json.loads(value)

    def problems(self):
        out = ["gdb(%s): %s" % (self.name, f) for f in self.failures]
        if self.timed_out:
            out.append("gdb(%s) timed out" % self.name)
        elif not self.done:
            out.append("gdb(%s) did not finish its script (rc %s): %s" %
                       (self.name, self.rc, self.stderr.strip()[-300:]))
        return out


class RSP:
    """Minimal raw remote-serial-protocol client for the bad-packet tests."""

    def __init__(self, port, host="127.0.0.1", timeout_s=5):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)
        self.sock.settimeout(timeout_s * TIME_SCALE)
        self.buf = b""

    @staticmethod
    def frame(payload):
        if isinstance(payload, str):
            payload = payload.encode()
        return b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def read_ack(self):
        """Next '+' or '-' byte from the server."""
        while not self.buf:
            self._fill()
        c, self.buf = self.buf[:1], self.buf[1:]
        return c.decode()

    def read_packet(self, ack=True):
        """Payload of the next packet (checksum verified), acking it."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    payload = self.buf[start + 1:end]
                    csum = int(self.buf[end + 1:end + 3], 16)
                    self.buf = self.buf[end + 3:]
                    if csum != sum(payload) & 0xFF:
                        raise TestFailure("bad checksum from server on %r"
                                          % payload[:80])
                    if ack:
                        self.sock.sendall(b"+")
                    return self.decode_rle(payload)
            self._fill()

    @staticmethod
    def decode_rle(payload):
        out = bytearray()
        i = 0
        while i < len(payload):
            c = payload[i]
            if c == ord("*") and out and i + 1 < len(payload):
                out += out[-1:] * (payload[i + 1] - 29)
                i += 2
            else:
                out.append(c)
                i += 1
        return bytes(out)

    def command(self, payload):
        """Send a well-formed packet, expect '+', return the reply payload."""
        self.send_raw(self.frame(payload))
        ack = self.read_ack()
        if ack != "+":
            raise TestFailure("server answered %r to well-formed %r"
                              % (ack, payload))
        return self.read_packet()

    def rcmd(self, text):
        """monitor TEXT: (console output, final reply)."""
        self.send_raw(self.frame("qRcmd," + text.encode().hex()))
        if self.read_ack() != "+":
            raise TestFailure("qRcmd not acknowledged")
        console = b""
        while True:
            reply = self.read_packet()
            if reply.startswith(b"O") and reply != b"OK":
                console += bytes.fromhex(reply[1:].decode())
                continue
            return console.decode("utf-8", "replace"), reply

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class TestContext:
    def __init__(self, build, server, kind, name, logf):
        self.build = os.path.abspath(build)
        self.server_path = server
        self.kind = kind
        self.name = name
        self.log = logf
        self.tmp = tempfile.mkdtemp(prefix="itest-%s-" % name)
        self.procs = []
        self.extra_pids = []
        self.problems = []
        self.checks = 0
        self.arch = ARCH
        self.target = TARGET
        self.client_addr = TARGET.client_addr

    # ---- assertions on the outer side ----
    def check(self, cond, what, detail=""):
        self.checks += 1
        self.log.write("%s %s%s\n" % ("PASS" if cond else "FAIL", what,
                                     (": %s" % detail) if not cond else ""))
        if not cond:
            self.problems.append(what + (": %s" % detail if detail else ""))
        return bool(cond)

    def eq(self, actual, expected, what):
        return self.check(actual == expected, what,
                          "got %r, expected %r" % (actual, expected))

    def fail_now(self, what):
        self.problems.append(what)
        raise TestFailure(what)

    def prog(self, name):
        path = os.path.join(self.build, "progs", name)
        if not os.path.exists(path):
            raise TestFailure("missing test program %s (run make progs)"
                              % path)
        return path

    def spawn(self, argv, **kw):
        """Start a helper process (e.g. an inferior to attach to)."""
        if TARGET.remote:
            p = TARGET.spawn(argv)
            self.procs.append(p)
            return p
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                             stdout=kw.pop("stdout", subprocess.DEVNULL),
                             stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p)
        return p

    def run(self, argv, timeout=30):
        """subprocess.run(argv) where the server runs (text output)."""
        return TARGET.run(argv, timeout=timeout)

    def server_pipe(self, *args):
        """`target remote | ...` command line starting the server on stdio."""
        return TARGET.pipe_command([self.server_path, "-"] + list(args))

    def busy_port(self):
        """A port something else listens on where the server runs:
        (port, closer)."""
        if not TARGET.remote:
            blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            blocker.bind(("0.0.0.0", 0))
            blocker.listen(1)
            return blocker.getsockname()[1], blocker.close
        port = random.choice(TARGET.guest_ports())
        p = self.spawn(["nc", "-l", "-p", str(port)])
        hexport = ":%04X " % port     # busybox nc listens on [::] (tcp6)
        if not wait_for(lambda: any(
                hexport in l and l.split()[3] == "0A" for l in
                (TARGET.read_text("/proc/net/tcp") +
                 TARGET.read_text("/proc/net/tcp6")).splitlines()), 5):
            self.fail_now("nc -l -p %d did not start listening" % port)
        return port, p.kill

    # ---- the server under test ----
    def start_server(self, *args, options=(), comm=None, wait_listen=True,
                     expect_fail=False, server=None, env=None):
        """Start SERVER [options] :PORT args...; retries other ports while
        the chosen one is busy. comm: a format with {port} (default ':{port}');
        server: another server's path (GNU gdbserver, side by side);
        env: variables set for the server (here or in the guest)."""
        # In a guest the server must accept QEMU's forwarded connections,
        # which arrive on its network interface, not on loopback.
        comm = comm or ("0.0.0.0:{port}" if TARGET.remote else ":{port}")
        for attempt in range(25):
            if TARGET.remote:
                port = random.choice(TARGET.guest_ports())
            else:
                port = random.randint(20000, 59999)
            argv = [server or self.server_path] + list(options) + \
                [comm.format(port=port)] + list(args)
            if env:
                argv = ["env"] + ["%s=%s" % kv for kv in sorted(env.items())] + argv
            self.log.write("$ %s\n" % " ".join(argv))
            if TARGET.remote:
                out, err = Stream(), Stream()
                proc = TARGET.spawn(argv, on_stdout=out.feed,
                                    on_stderr=err.feed)
            else:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE,
                                        env=dict(os.environ))
                out, err = Stream(proc.stdout), Stream(proc.stderr)
            self.procs.append(proc)
            srv = Server(self, proc, port, out, err, argv)
            if not wait_listen:
                return srv
            m = err.wait_line(r"Listening on port (\d+)|Can't bind address: "
                              r"Address already in use\.", 15)
            if m and m.group(1):
                srv.port = srv.guest_port = int(m.group(1))
                if TARGET.remote:
                    srv.port = TARGET.host_port(srv.guest_port)
                created = re.search(r"Process .* created; pid = (\d+)",
                                    err.text())
                srv.inferior_pid = int(created.group(1)) if created else None
                self.servers = getattr(self, "servers", []) + [srv]
                return srv
            if m:           # busy port: the reference behaviour, retry
                proc.wait(5)
                continue
            proc.kill()
            proc.wait()
            if expect_fail:
                return srv
            self.fail_now("server did not print 'Listening on port': %s"
                          % err.text()[-400:])
        self.fail_now("no free port after 25 attempts")

    # ---- the real gdb ----
    def gdb(self, body, port=None, prog=None, extended=False, connect=True,
            name="gdb", timeout_s=15, pre=(), args=(), background=False,
            expect_ok=True, system_debug_info=False):
        """Run BODY (python, with gdbside's helpers) inside gdb -batch,
        connected to PORT. Inner failures become test failures."""
        script = os.path.join(self.tmp, "%s.py" % name)
        connect_cmd = None
        if connect and port is not None:
            connect_cmd = "target %s 127.0.0.1:%d" % (
                "extended-remote" if extended else "remote", port)
        with open(script, "w") as f:
            f.write("import sys\nsys.path.insert(0, %r)\n" % HERE)
            f.write("import gdbside\n")
            f.write("gdbside._run_body(%r, %r)\n" %
                    (textwrap.dedent(body), connect_cmd))
        argv = [GDB, "-nx", "-batch",
                "-iex", "set pagination off", "-iex", "set confirm off",
                "-iex", "set width 0", "-iex", "set height 0"]
        if TARGET.remote:
            # an emulated guest can take seconds to answer the first packet
            # (e.g. `target remote | ...` starting the server there)
            argv += ["-iex", "set remotetimeout %d" % (5 * TIME_SCALE)]
        if not system_debug_info:
            # libc6-dbg's separate debug info costs ~0.8 s per gdb start
            argv += ["-iex", "set debug-file-directory /nonexistent"]
        if os.environ.get("ITEST_REMOTE_DEBUG") and \
                "set debug remote 1" not in pre:
            pre = list(pre) + ["set debug remote 1"]   # packets into the log
        for cmd in pre:
            argv += ["-iex", cmd]
        argv += ["-x", script]
        if prog:
            argv += ["--args", prog] + list(args) if args else [prog]
        out_path = os.path.join(self.tmp, "%s.out" % name)
        env = dict(os.environ, ITEST_PROGS_SRC=PROGS_SRC,
                   ITEST_GDB_OUT=out_path)
        self.log.write("$ %s\n" % " ".join(argv))
        out_file = open(out_path, "w")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=out_file, stderr=subprocess.PIPE,
                                env=env)
        out_file.close()
        self.procs.append(proc)
        proc.out_path = out_path
        proc.err_stream = Stream(proc.stderr)
        proc.gdb_name = name
        if background:
            return proc
        return self.finish_gdb(proc, timeout_s, expect_ok)

    @staticmethod
    def gdb_output(proc):
        with open(proc.out_path, errors="replace") as f:
            return f.read()

    def wait_gdb_value(self, proc, key, seconds=10):
        """Value the script passed to report(KEY, ...), once it appears."""
        rx = re.compile(r"^@@VAL %s=(.*)$" % re.escape(key), re.M)
        m = wait_for(lambda: rx.search(self.gdb_output(proc)) or
                     (proc.poll() is not None and
                      rx.search(self.gdb_output(proc))) or
                     (proc.poll() is not None and "exited"), seconds)
        if not m or m == "exited":
            self.fail_now("gdb(%s) never reported %s: %s" % (
                proc.gdb_name, key, self.gdb_output(proc)[-300:]))
        return json.loads(m.group(1))

    def finish_gdb(self, proc, timeout_s=20, expect_ok=True):
        timed_out = False
        try:
            proc.wait(timeout_s * TIME_SCALE)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        proc.err_stream.thread.join(2)
        out, err = self.gdb_output(proc), proc.err_stream.text()
        name = proc.gdb_name
        res = GdbResult(name, proc.returncode, out, err, timed_out)
        self.log.write("--- %s stdout ---\n%s\n--- %s stderr ---\n%s\n" %
                       (name, out, name, err))
        self.checks += len(res.passes) + len(res.failures)
        if expect_ok:
            self.problems.extend(res.problems())
        return res

    # ---- cleanup ----
    def cleanup(self):
        for srv in getattr(self, "servers", []):
            if srv.alive():
                srv.wait_exit(0.3)      # a --once server may be finishing
            srv.stderr.wait_closed(0.5)
            self.log.write(srv.output() + "\n")
            report = re.search(r"^.*(ERROR: AddressSanitizer|ERROR: LeakSanitizer"
                               r"|runtime error:|AddressSanitizer:DEADLYSIGNAL)"
                               r".*$", srv.stderr.text(), re.M)
            if report:
                self.problems.append("sanitizer report from the server: " +
                                     report.group(0))
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
            if hasattr(p, "close"):     # a guest process: drop its session
                p.close()
        for pid in self.extra_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not os.environ.get("ITEST_KEEP_LOGS"):
            shutil.rmtree(self.tmp, ignore_errors=True)
