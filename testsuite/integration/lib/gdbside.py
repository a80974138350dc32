# Loaded inside the real gdb (gdb -batch -x script.py) by harness.Gdb.
# Test bodies call ex()/check()/eq()... ; every check prints one line that
# the outer harness parses:  @@CHECK PASS|FAIL what[: detail]
# and values handed back to the test:  @@VAL key=json
import json
import os
import re
import sys
import threading
import time
import traceback

import gdb

from target import TARGET

PROGS_SRC = os.environ.get("ITEST_PROGS_SRC", "")
_failures = 0
_stops = []     # every stop event, oldest first, as dicts
_exits = []     # every exited event, as dicts


def _emit(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def check(cond, what, detail=""):
    """Record one assertion; returns cond so callers can branch on it."""
    global _failures
    if cond:
        _emit("@@CHECK PASS " + what)
    else:
        _failures += 1
        msg = what + (": " + str(detail) if detail != "" else "")
        _emit("@@CHECK FAIL " + msg.replace("\n", "\\n"))
    return bool(cond)


def eq(actual, expected, what):
    return check(actual == expected, what,
                 "got %r, expected %r" % (actual, expected))


def contains(text, needle, what):
    return check(needle in text, what,
                 "%r not in %r" % (needle, text[-600:]))


def matches(pattern, text, what):
    m = re.search(pattern, text, re.M)
    check(m is not None, what, "/%s/ not in %r" % (pattern, text[-600:]))
    return m


def report(key, value):
    _emit("@@VAL %s=%s" % (key, json.dumps(value)))


GDB_OUT = os.environ.get("ITEST_GDB_OUT", "")
ARCH = os.environ.get("ITEST_ARCH", "x86_64")
# Mnemonic of a call instruction, as `x/i` prints it
CALL_INSN = r"\s(call|bl|blx)\s" if ARCH != "x86_64" else r"\scall\s"


# Files and processes where the server runs (this host or a QEMU guest).
def target_read(path):
    return TARGET.read_text(path)


def target_read_bytes(path):
    return TARGET.read(path)


def target_listdir(path):
    return TARGET.listdir(path)


def target_readlink(path):
    return TARGET.readlink(path)


def target_exists(path):
    return TARGET.exists(path)


def target_kill(pid, sig):
    TARGET.kill(pid, sig)


def ex(cmd):
    """Run a gdb command, return everything it printed, including the stop
    report of execution commands (to_string=True misses that: gdb prints it
    through the interpreter). gdb's stdout is a file, read back here."""
    gdb.flush()
    start = os.path.getsize(GDB_OUT)
    gdb.execute(cmd)
    gdb.flush()
    with open(GDB_OUT, errors="replace") as f:
        f.seek(start)
        return f.read()


def ex_error(cmd):
    """Run a command that must fail; returns the error text ('' if none)."""
    try:
        out = ex(cmd)
    except gdb.error as e:
        return str(e) or "error"
    check(False, "command fails: " + cmd, "it printed %r" % out)
    return ""


def line_of(marker, source=None):
    """Line number of the '@marker' comment in testsuite/progs/*.c."""
    files = [source] if source else sorted(os.listdir(PROGS_SRC))
    for name in files:
        if not name.endswith(".c"):
            continue
        with open(os.path.join(PROGS_SRC, name)) as f:
            for number, text in enumerate(f, 1):
                if re.search(r"@%s\b(?!-)" % re.escape(marker), text):
                    return number
    raise KeyError("no marker @" + marker)


def val(expr):
    return int(gdb.parse_and_eval(expr))


def pc():
    return int(gdb.selected_frame().pc())


def func():
    f = gdb.selected_frame()
    return f.name()


def line():
    sal = gdb.selected_frame().find_sal()
    return sal.line if sal.symtab else None


def at(function, marker=None, what=""):
    """Assert the selected frame is in FUNCTION (at the @MARKER line)."""
    label = what or ("stopped in %s" % function +
                     (" at @%s" % marker if marker else ""))
    ok = func() == function
    if marker is not None:
        ok = ok and line() == line_of(marker)
    return check(ok, label, "at %s line %s pc %#x" % (func(), line(), pc()))


def inferior_pid():
    return gdb.selected_inferior().pid


# Stop/exit events, recorded for the assertions.
def _on_stop(event):
    rec = {"kind": type(event).__name__}
    if isinstance(event, gdb.SignalEvent):
        rec["signal"] = event.stop_signal
    if isinstance(event, gdb.BreakpointEvent):
        rec["bps"] = [b.number for b in event.breakpoints]
        rec["bp_types"] = [b.type for b in event.breakpoints]
    try:
        rec["thread"] = gdb.selected_thread().num
    except Exception:
        pass
    _stops.append(rec)


def _on_exit(event):
    rec = {}
    if hasattr(event, "exit_code"):
        rec["exit_code"] = event.exit_code
    rec["inferior"] = event.inferior.num
    _exits.append(rec)


gdb.events.stop.connect(_on_stop)
gdb.events.exited.connect(_on_exit)


def last_stop():
    return _stops[-1] if _stops else {}


def stops():
    return list(_stops)


def exits():
    return list(_exits)


def after(seconds, action):
    """Run ACTION on a helper thread after SECONDS (e.g. a signal while
    gdb is blocked in `continue`)."""
    t = threading.Timer(seconds, action)
    t.daemon = True
    t.start()
    return t


def interrupt_gdb_after(seconds):
    """Send SIGINT to gdb itself, as a user pressing ^C in the terminal."""
    import signal
    return after(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))


def proc_state(pid):
    """(state letter, TracerPid) of a process, or (None, None) if gone."""
    try:
        text = TARGET.read_text("/proc/%d/status" % pid)
    except OSError:
        return (None, None)
    state = re.search(r"^State:\s+(\S)", text, re.M).group(1)
    tracer = int(re.search(r"^TracerPid:\s+(\d+)", text, re.M).group(1))
    return (state, tracer)


def wait_gone(pid, seconds=3):
    """True once PID no longer exists (zombies count as existing: the
    server must reap what it kills)."""
    end = time.time() + seconds
    while time.time() < end:
        if proc_state(pid)[0] is None:
            return True
        time.sleep(0.02)
    return False


def _run_body(source, connect_cmd):
    try:
        if connect_cmd:
            ex(connect_cmd)
        exec(compile(source, "<test body>", "exec"), globals())
    except Exception:
        check(False, "test body raised",
              traceback.format_exc().strip().splitlines()[-1])
        _emit("@@TRACEBACK " + traceback.format_exc().replace("\n", "\\n"))
    _emit("@@DONE failures=%d" % _failures)
