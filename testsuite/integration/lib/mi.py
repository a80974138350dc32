# gdb/MI driver for the IDE tests: the real gdb with --interpreter=mi3 (or
# mi2), commands sent with tokens as Eclipse CDT sends them, every output
# record parsed (result, exec/notify/status async, stream) and kept in
# arrival order so tests can wait for and assert on them.
import os
import pty
import re
import subprocess
import threading
import time
import tty

from harness import GDB, TIME_SCALE, TestFailure


class MIParseError(Exception):
    pass


def _parse_cstring(s, i):
    """C string starting at s[i] == '"'; returns (text, next index)."""
    assert s[i] == '"'
    i += 1
    out = []
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\",
               "a": "\a", "b": "\b", "f": "\f", "v": "\v", "e": "\x1b"}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in escapes:
                out.append(escapes[nxt])
                i += 2
                continue
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            if m:
                out.append(chr(int(m.group(0), 8)))
                i += 1 + len(m.group(0))
                continue
            out.append(nxt)
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise MIParseError("unterminated string in %r" % s)


def _parse_value(s, i):
    c = s[i]
    if c == '"':
        return _parse_cstring(s, i)
    if c == "{":
        return _parse_tuple(s, i)
    if c == "[":
        return _parse_list(s, i)
    raise MIParseError("bad value at %d in %r" % (i, s))


def _parse_result(s, i):
    m = re.compile(r"([A-Za-z_][\w-]*)=").match(s, i)
    if not m:
        raise MIParseError("bad result at %d in %r" % (i, s))
    value, i = _parse_value(s, m.end())
    return m.group(1), value, i


def _parse_tuple(s, i):
    assert s[i] == "{"
    i += 1
    out = {}
    if s[i] == "}":
        return out, i + 1
    while True:
        key, value, i = _parse_result(s, i)
        out[key] = value
        if s[i] == "}":
            return out, i + 1
        if s[i] != ",":
            raise MIParseError("expected , or } at %d in %r" % (i, s))
        i += 1


def _parse_list(s, i):
    """A list of values, or of results (their names dropped: MI repeats
    one name, e.g. stack=[frame={..},frame={..}])."""
    assert s[i] == "["
    i += 1
    out = []
    if s[i] == "]":
        return out, i + 1
    while True:
        if s[i] in '"{[':
            value, i = _parse_value(s, i)
        else:
            _, value, i = _parse_result(s, i)
        out.append(value)
        if s[i] == "]":
            return out, i + 1
        if s[i] != ",":
            raise MIParseError("expected , or ] at %d in %r" % (i, s))
        i += 1


class Record:
    """One line of MI output. kind: '^' result, '*' exec async, '+' status
    async, '=' notify async, '~' console, '@' target, '&' log."""

    def __init__(self, line):
        self.line = line
        m = re.match(r"^(\d*)([\^*+=~@&])(.*)$", line)
        if not m:
            raise MIParseError("not an MI record: %r" % line)
        self.token = int(m.group(1)) if m.group(1) else None
        self.kind = m.group(2)
        rest = m.group(3)
        self.cls = None
        self.results = {}
        self.text = None
        if self.kind in "~@&":
            self.text, end = _parse_cstring(rest, 0)
            if end != len(rest):
                raise MIParseError("junk after stream record %r" % line)
            return
        m = re.match(r"^([\w-]+)", rest)
        if not m:
            raise MIParseError("no class in %r" % line)
        self.cls = m.group(1)
        i = m.end()
        while i < len(rest):
            if rest[i] != ",":
                raise MIParseError("expected , at %d in %r" % (i, line))
            key, value, i = _parse_result(rest, i + 1)
            self.results[key] = value

    def get(self, key, default=None):
        return self.results.get(key, default)

    def __getitem__(self, key):
        return self.results[key]

    def __repr__(self):
        return self.line


class MI:
    """gdb --interpreter=MI as a CDT launch drives it."""

    def __init__(self, ctx, interpreter="mi3", name="mi", new_ui=False):
        """NEW_UI: as CDT runs gdb >= 7.12 on Linux (its "full GDB
        console"): gdb's own CLI on stdin/stdout and the MI channel
        (INTERPRETER, CDT uses mi2) on a pseudo-terminal through
        `new-ui`."""
        self.ctx = ctx
        self.name = name
        self.records = []
        self.cond = threading.Condition()
        self.closed = False
        self.next_token = 100
        self.cursor = 0         # async records before this were looked at
        self.parse_errors = []
        self.master = None
        base = [GDB, "-nx", "-q",
                # libc6-dbg's separate debug info costs ~0.8 s per start
                "-iex", "set debug-file-directory /nonexistent"]
        if os.environ.get("ITEST_REMOTE_DEBUG"):
            base += ["-iex", "set debug remote 1"]
        if new_ui:
            self.master, slave = pty.openpty()
            tty.setraw(slave)       # no echo, no CR/LF translation
            argv = base + ["--interpreter", "console",
                           "-ex", "new-ui %s %s" % (interpreter, os.ttyname(slave)),
                           "-ex", "set pagination off", "-ex", "show version"]
        else:
            argv = base[:1] + ["--interpreter=" + interpreter] + base[1:]
        ctx.log.write("$ %s\n" % " ".join(argv))
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE if not new_ui else
                                     subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ))
        # kept open here too: with no slave open, reads of the master fail
        # (EIO) until gdb's new-ui opens it
        self.slave = slave if new_ui else None
        ctx.procs.append(self.proc)
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _lines(self):
        if self.master is None:
            for raw in iter(self.proc.stdout.readline, b""):
                yield raw
            return
        partial = b""
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:         # EIO: gdb closed the terminal
                chunk = b""
            if not chunk:
                if partial:
                    yield partial
                return
            partial += chunk
            *done, partial = partial.split(b"\n")
            for raw in done:
                yield raw + b"\n"

    def _pump(self):
        for raw in self._lines():
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.ctx.log.write("%s< %s\n" % (self.name, line))
            if line.strip() in ("(gdb)", ""):
                continue
            try:
                rec = Record(line)
            except MIParseError as e:
                # gdb's own stderr (merged) or a malformed record
                if re.match(r"^\d*[\^*+=~@&]", line):
                    self.parse_errors.append(str(e))
                continue
            with self.cond:
                self.records.append(rec)
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send(self, command):
        token = self.next_token
        self.next_token += 1
        self.ctx.log.write("%s> %d%s\n" % (self.name, token, command))
        data = ("%d%s\n" % (token, command)).encode()
        if self.master is not None:
            os.write(self.master, data)
        else:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        return token

    def _wait(self, match, seconds, start=0):
        end = time.monotonic() + seconds * TIME_SCALE
        with self.cond:
            while True:
                for idx in range(start, len(self.records)):
                    if match(self.records[idx]):
                        return idx, self.records[idx]
                left = end - time.monotonic()
                if self.closed or left <= 0:
                    return None, None
                self.cond.wait(left)

    def command(self, command, seconds=20, error=False):
        """Send COMMAND; its result record (^done/^running/^connected, or
        ^error when ERROR; either when ERROR is None). A wrong class is a
        test failure."""
        with self.cond:
            first = len(self.records)
        token = self.send(command)
        _, rec = self._wait(lambda r: r.kind == "^" and r.token == token,
                            seconds, first)
        if rec is None:
            raise TestFailure("mi: no result for %r within %ss (gdb %s)" % (
                command, seconds, "exited" if self.closed else "alive"))
        if error is not None and error != (rec.cls == "error"):
            raise TestFailure("mi: %r gave %s" % (command, rec.line[:400]))
        rec.console = self.console_between(first, rec)
        return rec

    def console_between(self, first, last):
        with self.cond:
            idx = self.records.index(last, first)
            return "".join(r.text for r in self.records[first:idx]
                           if r.kind == "~")

    def wait_async(self, kind, cls, seconds=20, pred=None):
        """Next async record KIND+CLS after the cursor (and PRED); moves the
        cursor past it."""
        idx, rec = self._wait(lambda r: r.kind == kind and r.cls == cls and
                              (pred is None or pred(r)), seconds, self.cursor)
        if rec is None:
            raise TestFailure("mi: no %s%s within %ss; last records: %s" % (
                kind, cls, seconds, self.records[-6:]))
        self.cursor = idx + 1
        return rec

    def wait_stopped(self, seconds=30, pred=None):
        return self.wait_async("*", "stopped", seconds, pred)

    def mark(self):
        """Later waits look only at records from now on."""
        with self.cond:
            self.cursor = len(self.records)

    def since(self, kind, cls, start):
        with self.cond:
            return [r for r in self.records[start:]
                    if r.kind == kind and r.cls == cls]

    def exit(self):
        try:
            self.send("-gdb-exit")
            self.proc.wait(10 * TIME_SCALE)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        if self.master is not None:
            os.close(self.slave)    # the reader then sees the end
        self.thread.join(5)
        if self.master is not None:
            os.close(self.master)
            self.master = None
        self.ctx.check(not self.parse_errors, "%s: every MI record parsed" % self.name,
                       self.parse_errors[:3])

