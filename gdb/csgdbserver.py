# csgdbserver's gdb extension: reverse-next, reverse-finish, next, finish,
# a call history and the callers in the backtrace while replaying branch
# trace that stock gdb 13 cannot split into calls (ARM: it classifies no
# ARM instruction as a call or return). csgdbserver knows every traced
# instruction's class from OpenCSD and serves it as the
# qXfer:btrace-calls:read object (doc/protocol.md); this file maps it onto
# gdb's instruction numbers and walks the trace with `record goto` and one
# real step, so the CLI and MI (Eclipse CDT) see an ordinary stop.
#
# `make install` puts it in gdb's data directory (python/gdb/command/),
# where every gdb loads it at start-up; `source gdb/csgdbserver.py` loads
# it by hand. It does nothing unless gdb replays btrace from a csgdbserver
# that serves the object (asked once per connection) on an architecture
# gdb does not classify itself (x86 it does: unchanged there).

import bisect
import re
import time

import gdb

try:
    from gdb.FrameDecorator import FrameDecorator
except ImportError:  # a gdb built without its Python library
    FrameDecorator = object

_CHUNK = 0x3f000          # qXfer chunk asked for (the server's packets go to 256 KiB)
_MAX_DEPTH = 64           # callers shown in a backtrace
_STATS = {"fetches": 0, "fetch_s": 0.0, "map": "", "last_move_s": 0.0}


# ---- settings -----------------------------------------------------------

class _Prefix(gdb.Command):
    """csgdbserver's extension: stepping over calls in replayed ARM branch trace.

Subcommands: status, function-call-history; settings: set/show csgdbserver."""

    def __init__(self):
        super().__init__("csgdbserver", gdb.COMMAND_RUNNING, prefix=True)


class _SetPrefix(gdb.Command):
    """Settings of csgdbserver's extension."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_RUNNING, prefix=True)


class _Engage(gdb.Parameter):
    """Whether csgdbserver's extension steps over the trace while replaying.

auto: on a csgdbserver serving qXfer:btrace-calls, for architectures gdb
does not classify itself (not x86); on: also on x86; off: never."""

    set_doc = "Set when csgdbserver's extension steps over calls in replayed trace."
    show_doc = "Show when csgdbserver's extension steps over calls in replayed trace."

    def __init__(self):
        super().__init__("csgdbserver engage", gdb.COMMAND_RUNNING, gdb.PARAM_ENUM,
                         ["auto", "on", "off"])
        self.value = "auto"

    def get_show_string(self, svalue):
        return "csgdbserver's extension engages: %s." % svalue


# ---- the classification, fetched once per connection and trace -----------

_supported = {}           # connection number -> bool (asked once each)
_cache = {"key": None, "calls": None}


def _packet(text):
    """Send TEXT with `maint packet`; the reply, or None if there was none."""
    out = gdb.execute("maint packet " + text, to_string=True)
    i = out.find('received: "')
    if i < 0:
        return None
    j = out.find('"\n', i + 11)
    reply = out[i + 11:j if j >= 0 else len(out)].replace("\\x0a", "\n")
    if "\\x" not in reply:
        return reply
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), reply)


def _fetch(annex):
    """The whole qXfer:btrace-calls document of ANNEX, or None if the
    server does not have it (or refuses with an error: raised)."""
    parts, off = [], 0
    t0 = time.time()
    while True:
        reply = _packet("qXfer:btrace-calls:read:%s:%x,%x" % (annex, off, _CHUNK))
        if not reply:
            return None
        if reply[0] == "E":
            raise gdb.GdbError("csgdbserver: %s" % reply[2:] if reply[1:2] == "." else reply)
        if reply[0] not in "ml":
            return None
        parts.append(reply[1:])
        off += len(reply) - 1
        if reply[0] == "l" or len(reply) == 1:
            break
        if off > (1 << 30):
            raise gdb.GdbError("csgdbserver: the call classification is over 1 GiB; not read")
    _STATS["fetches"] += 1
    _STATS["fetch_s"] = time.time() - t0
    return "".join(parts)


class _Calls:
    """The trace's call structure in gdb's instruction numbers: segments of
    one nesting level (split at calls, returns, exceptions and gaps)."""

    def __init__(self, doc, rec):
        lines = doc.split("\n")
        head = lines[0].split()
        if len(head) != 4 or head[0] != "btrace-calls" or head[1] != "1":
            raise gdb.GdbError("csgdbserver: unknown call classification format: %r" % lines[0][:60])
        self.total = int(head[2], 16)
        # (begin, last, count, level, events); the addresses stay text
        # until the numbers must be re-found (a million-instruction trace
        # is some 300000 lines)
        blocks = []
        for ln in lines[1:]:
            if ln:
                f = ln.split(" ")
                ev = [(int(e[:-2], 16), e[-1]) for e in f[4:]] if len(f) > 4 else ()
                blocks.append((f[0], f[1], int(f[2], 16), int(f[3]), ev))
        self.nblocks = len(blocks)
        self.end = rec.end.number
        self.hist = rec.instruction_history
        self.hist_first = rec.begin.number
        starts = self._map(blocks, rec)
        self._segments(blocks, starts)

    # -- gdb numbers of the blocks ---------------------------------------

    def _item(self, n):
        """gdb's instruction N: (pc) or None for a gap / out of range."""
        if n == self.end:
            return gdb.current_recording().end.pc
        try:
            return self.hist[n - self.hist_first].pc
        except (gdb.error, IndexError, AttributeError):
            return None

    def _map(self, blocks, rec):
        """Per block, where gdb has it: (gdb number of its first
        instruction, instructions gdb has, how): how 0 = as the server
        counts, 1 = another count but the same end (gdb decoded Thumb
        where the trace says ARM or back, by the ELF's mapping symbols),
        2 = cut short by a gap in gdb's decode; None when gdb's history
        does not hold it. gdb numbers from the blocks it got, so without a
        gap in its decode the numbers are direct; else they are re-found
        block by block from the end."""
        off = self.end - self.total
        info = gdb.execute("info record", to_string=True)
        m = re.search(r"\((\d+) gaps\)", info)
        if m and m.group(1) == "0" and off >= 0:
            _STATS["map"] = "direct (gdb has no gap)"
            res, n = [], 1 + off
            for b in blocks:
                res.append((n, b[2], 0))
                n += b[2]
            if blocks and (res[0][0] < self.hist_first or self._item(res[0][0]) == int(blocks[0][0], 16)):
                return res
        _STATS["map"] = "re-found block by block (gdb's decode has gaps)"
        res = [None] * len(blocks)
        cursor = self.end
        for k in range(len(blocks) - 1, -1, -1):
            begin, last, count = int(blocks[k][0], 16), int(blocks[k][1], 16), blocks[k][2]
            if cursor < self.hist_first:
                break
            pc = self._item(cursor)
            if pc == last or (cursor == self.end and k == len(blocks) - 1):
                g = cursor - count + 1
                if g >= self.hist_first and self._item(g) == begin:
                    res[k] = (g, count, 0)
                else:
                    g = self._find_begin(begin, cursor, count)
                    if g is None:
                        break
                    res[k] = (g, cursor - g + 1, 1)
            elif pc is None:
                g = self._find_begin(begin, cursor - 1, count)
                if g is None:
                    break
                res[k] = (g, cursor - g, 2)
            else:
                break          # neither the block's end nor a gap: lost track
            cursor = res[k][0] - 1
        return res

    def _find_begin(self, begin, n, count):
        """The number of BEGIN going back from N through one block of gdb's
        decode (addresses fall going back), or None."""
        stop = n - 2 * count - 4
        while n >= self.hist_first and n > stop:
            p = self._item(n)
            if p is None or p < begin:
                return None
            if p == begin:
                return n
            n -= 1
        return None

    # -- segments ----------------------------------------------------------

    def _segments(self, blocks, starts):
        st, lv = [], []

        def seg(n, level):
            if st and st[-1] >= n:
                st[-1], lv[-1] = n, level
            else:
                st.append(n)
                lv.append(level)

        for b, where in zip(blocks, starts):
            if where is None:
                continue
            g, have, how = where
            level = b[3]
            if not lv or lv[-1] != level:
                seg(g, level)
            for off, kind in b[4]:
                if how == 1:
                    # gdb's instructions differ in size: the block's ends match
                    off = have - 1 if off == b[2] - 1 else min(off, have - 1)
                if off >= have or (how == 2 and off == b[2] - 1):
                    break
                if kind == "g":
                    seg(g + off, level)
                elif kind == "x":
                    if off:          # at offset 0 the block's level has it
                        level += 1
                    seg(g + off, level)
                elif kind == "c":
                    level += 1
                    seg(g + off + 1, level)
                else:
                    level -= 1
                    seg(g + off + 1, level)
        if st and st[-1] > self.end:
            st.pop()
            lv.pop()
        self.lo = st[0] if st else self.end
        self.seg_start, self.seg_level = st, lv
        # the nearest earlier / later segment one level up, by a stack
        n = len(st)
        self.parent, self.up_next = [-1] * n, [-1] * n
        stack = []
        for i in range(n):
            while stack and lv[stack[-1]] >= lv[i]:
                stack.pop()
            self.parent[i] = stack[-1] if stack else -1
            stack.append(i)
        stack = []
        for i in range(n - 1, -1, -1):
            while stack and lv[stack[-1]] >= lv[i]:
                stack.pop()
            self.up_next[i] = stack[-1] if stack else -1
            stack.append(i)

    def seg_of(self, n):
        return bisect.bisect_right(self.seg_start, n) - 1

    def seg_last(self, i):
        return self.seg_start[i + 1] - 1 if i + 1 < len(self.seg_start) else self.end

    def level(self, n):
        i = self.seg_of(n)
        return self.seg_level[i] if i >= 0 else None


def _arch_classifies(arch):
    """gdb 13 classifies calls and returns itself on x86 only."""
    return arch.startswith("i386") or arch.startswith("x86")


def _replaying_ours(at_end=False):
    """The classification of the selected thread's trace while gdb replays
    it from a csgdbserver (or, AT_END, records it: a reverse command starts
    replaying from the end) and we are to step over it; else None."""
    if _engage.value == "off":
        return None
    try:
        rec = gdb.current_recording()
    except gdb.error:
        return None
    if rec is None or rec.method != "btrace" or (rec.replay_position is None and not at_end):
        return None
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is None or conn.type not in ("remote", "extended-remote"):
        return None
    if _engage.value == "auto" and _arch_classifies(gdb.selected_frame().architecture().name()):
        return None
    if _supported.get(conn.num) is False:
        return None
    thread = gdb.selected_thread()
    pid, lwp, _ = thread.ptid
    if rec.replay_position is None:
        gdb.execute("info record", to_string=True)   # gdb reads the new trace first
        rec = gdb.current_recording()
    end = rec.end
    key = (conn.num, thread.global_num, end.number, end.pc, rec.begin.number)
    if _cache["key"] == key:
        return _cache["calls"]
    doc = _fetch("p%x.%x" % (pid, lwp or pid))
    _supported[conn.num] = doc is not None
    if doc is None:
        return None
    try:
        calls = _Calls(doc, rec)
    except (ValueError, IndexError) as e:
        raise gdb.GdbError("csgdbserver: cannot read the call classification: %s" % e)
    _cache["key"], _cache["calls"] = key, calls
    return calls


def _forget(*_):
    _cache["key"] = _cache["calls"] = None


def _connection_gone(event):
    _supported.pop(getattr(event.connection, "num", None), None)
    _forget()


# ---- walking the trace ------------------------------------------------------

class _Walk:
    """Line lookups over gdb's history, cached by PC."""

    def __init__(self, calls):
        self.c = calls
        self.lines = {}

    def pc(self, n):
        return self.c._item(n)

    def line(self, pc):
        """(start of the line-table entry, line, symtab filename) or None."""
        got = self.lines.get(pc, False)
        if got is False:
            sal = gdb.find_pc_line(pc)
            got = None
            if sal.symtab is not None and sal.line:
                got = (sal.pc, sal.line, sal.symtab.filename)
            self.lines[pc] = got
        return got


def _position(rec):
    pos = rec.replay_position
    return pos.number if pos is not None else rec.end.number


def _skip_callees(c, n, cap, forward):
    """N, or past the callee N is in when it is deeper than CAP (to its
    call backward, after its return forward); None when that is outside
    the history."""
    i = c.seg_of(n)
    while i >= 0 and c.seg_level[i] > cap:
        i = c.up_next[i] if forward else c.parent[i]
        if i < 0:
            return None
        if c.seg_level[i] <= cap:
            return c.seg_start[i] if forward else c.seg_last(i)
    return n if i >= 0 else None


def _target_next(calls, cur, forward):
    """Where `next` (FORWARD) or `reverse-next` from instruction CUR goes,
    callees stepped over, a return to the caller followed: forward, the
    first instruction starting a line-table entry of another line (as
    gdb's next stops); backward, the first instruction of the run of the
    current line if CUR is inside it, else of the run of the line executed
    before it. (number, why) where why is "end"/"begin" at the history's
    end, "gap" before a hole in gdb's history, else None."""
    w = _Walk(calls)
    c = calls
    pc0 = w.pc(cur)
    here = w.line(pc0) if pc0 is not None else None
    here_line = here[1:] if here else None
    cap = c.level(cur)
    step = 1 if forward else -1
    run_line, cand = here_line, None
    n = cur + step
    while c.lo <= n <= c.end:
        m = _skip_callees(c, n, cap, forward)
        if m is None:
            break
        n = m
        cap = min(cap, c.level(n))
        pc = w.pc(n)
        if pc is None:
            return (n - step, "gap") if cand is None else (cand, None)
        ln = w.line(pc)
        if ln is None:
            if here is None:
                return n, None       # no line information: one instruction at a time
            n += step
            continue
        if forward:
            if ln[1:] != here_line:
                if pc == ln[0]:
                    return n, None
                here_line = ln[1:]   # into the middle of a line: on to the next
        elif ln[1:] == run_line:
            cand = n
        elif cand is not None or run_line != here_line:
            return (cand if cand is not None else n + 1), None
        else:
            run_line, cand = ln[1:], n
        n += step
    if not forward and cand is not None:
        return cand, "begin"
    return (c.end, "end") if forward else (c.lo, "begin")


def _target_finish(calls, cur, forward):
    """Where `finish` / `reverse-finish` from CUR goes: past the return to
    the caller, or back to the call instruction in the caller."""
    c = calls
    i = c.seg_of(cur)
    if i < 0:
        return None
    if forward:
        j = c.up_next[i]
        return c.seg_start[j] if j >= 0 else None
    j = c.parent[i]
    if j < 0:
        return None
    n = c.seg_last(j)
    while n > c.lo and c._item(n) is None:
        n -= 1
    return n


def _frame_line():
    """'#0  func (...) at file:line' as gdb prints the selected frame."""
    out = gdb.execute("frame", to_string=True).split("\n")
    return out[0] if out else ""


_single_step = {}         # connection number -> the stub steps (vCont;s)


def _can_step_forward():
    """gdb steps 32-bit arm in software when the stub cannot single-step
    (no vCont;s: Linux has no PTRACE_SINGLESTEP there), reading the CPSR,
    which a btrace replay does not give: forward steps fail then."""
    if not gdb.selected_frame().architecture().name().startswith("arm"):
        return True
    conn = gdb.selected_inferior().connection
    if conn.num not in _single_step:
        reply = _packet("vCont?") or ""
        _single_step[conn.num] = ";s" in reply or ";S" in reply
    return _single_step[conn.num]


def _goto(n):
    gdb.execute("record goto %d" % n, to_string=True)


_moving = [False]


def _arrive(calls, target, from_tty):
    """Move the replay to TARGET with one real (reverse-)stepi, so CLI and
    MI see an ordinary stop: record goto next to it, then step onto it."""
    _moving[0] = True
    try:
        _arrive_1(calls, target, from_tty)
    finally:
        _moving[0] = False


def _arrive_1(calls, target, from_tty):
    rec = gdb.current_recording()
    cur = _position(rec)
    t0 = time.time()
    if target == cur:
        gdb.execute("frame", to_string=False)
        return
    if target == calls.end and calls._item(target - 1) is None:
        gdb.execute("record goto end", from_tty=from_tty)
        return
    if target < cur and calls._item(target + 1) is not None:
        if target + 1 != cur:
            _goto(target + 1)
        gdb.execute("reverse-stepi", from_tty=from_tty)
    elif target > cur and calls._item(target - 1) is not None and _can_step_forward():
        if target - 1 != cur:
            _goto(target - 1)
        gdb.execute("stepi", from_tty=from_tty)
    else:
        gdb.execute("record goto %d" % target, from_tty=from_tty)
    _STATS["last_move_s"] = time.time() - t0
    if _position(gdb.current_recording()) != target:
        gdb.write("csgdbserver: the step stopped at instruction %d before reaching %d.\n"
                  % (_position(gdb.current_recording()), target))


def _note(why):
    if why in ("begin", "end"):
        gdb.write("\nNo more reverse-execution history.\n")


# ---- the commands -------------------------------------------------------------

_in_builtin = [False]


def _builtin_reverse(cmd, arg, from_tty):
    """gdb's own reverse-CMD: CMD with the execution direction reversed, as
    gdb's reverse-next/reverse-finish do it."""
    if gdb.parameter("exec-direction") == "reverse":
        raise gdb.GdbError("Already in reverse mode.  Use '%s' or 'set exec-dir forward'." % cmd)
    gdb.execute("set exec-direction reverse")
    _in_builtin[0] = True
    try:
        gdb.execute(("%s %s" % (cmd, arg)).strip(), from_tty=from_tty)
    finally:
        _in_builtin[0] = False
        gdb.execute("set exec-direction forward")


def _foreground(arg):
    """ARG without MI's trailing "&" (-exec-next --reverse under mi-async
    sends "reverse-next&"): the walk itself runs in the foreground."""
    arg = arg.strip()
    return arg[:-1].strip() if arg.endswith("&") else arg


def _count(arg):
    arg = arg.strip()
    if not arg:
        return 1
    try:
        return max(1, int(gdb.parse_and_eval(arg)))
    except gdb.error as e:
        raise gdb.GdbError(str(e))


def _do_next(calls, arg, from_tty, forward):
    for _ in range(_count(arg)):
        rec = gdb.current_recording()
        if forward and rec.replay_position is None:
            break
        target, why = _target_next(calls, _position(rec), forward)
        _arrive(calls, target, from_tty)
        _note(why)
        if why:
            break


def _do_finish(calls, from_tty, forward):
    rec = gdb.current_recording()
    cur = _position(rec)
    target = _target_finish(calls, cur, forward)
    if from_tty:     # as gdb's finish says it
        gdb.write("%s %s\n" % ("Run till exit from" if forward else "Run back to call of",
                                _frame_line()))
    if target is None:
        # the call (return) is before (after) the recorded trace
        _arrive(calls, calls.end if forward else calls.lo, from_tty)
        _note("end" if forward else "begin")
        return
    _arrive(calls, target, from_tty)


class _ReverseNext(gdb.Command):
    """Step program backward, proceeding through subroutine calls.
Usage: reverse-next [N]
Run backward to the beginning of the previous line executed in
the current (innermost) stack frame.  If the line contains function
calls, they will be "un-executed" without stopping.  Starting from
the first line of a function, reverse-next will take you back to the
caller of that function, before the function was called.

csgdbserver's extension: while replaying branch trace from csgdbserver
on ARM (where gdb 13 does not know calls from returns), the calls come
from the server's trace decode (qXfer:btrace-calls) and the replay moves
there with record goto and one reverse-stepi; breakpoints inside the
stepped-over calls do not stop it (reverse-continue does).  Everywhere
else this is gdb's own reverse-next.  See `help csgdbserver`."""

    def __init__(self):
        super().__init__("reverse-next", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        calls = _replaying_ours(at_end=True)
        if calls is None:
            return _builtin_reverse("next", arg, from_tty)
        _do_next(calls, _foreground(arg), from_tty, False)


class _ReverseFinish(gdb.Command):
    """Execute backward until just before selected stack frame is called.

csgdbserver's extension: while replaying branch trace from csgdbserver
on ARM, goes to the call instruction in the caller, found in the
server's trace decode (qXfer:btrace-calls), with record goto and one
reverse-stepi.  Everywhere else this is gdb's own reverse-finish."""

    def __init__(self):
        super().__init__("reverse-finish", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        calls = _replaying_ours(at_end=True)
        if calls is None:
            return _builtin_reverse("finish", arg, from_tty)
        _do_finish(calls, from_tty, False)


class _StopAt(gdb.Breakpoint):
    """A silent internal breakpoint stopping gdb's own `next` at one
    instruction number of the replay (its PC may run many times)."""

    def __init__(self, pc, number):
        super().__init__("*0x%x" % pc, gdb.BP_BREAKPOINT, internal=True)
        self.silent = True
        self.wanted = number

    def stop(self):
        rec = gdb.current_recording()
        return rec is not None and _position(rec) == self.wanted


_stoppers = []


def _drop_stoppers(event=None):
    ours = [b for b in getattr(event, "breakpoints", ()) if b in _stoppers]
    if ours:
        # a silent breakpoint prints nothing: say where `next` stopped
        gdb.write(gdb.execute("frame", to_string=True))
    while _stoppers:
        bp = _stoppers.pop()
        if bp.is_valid():
            bp.delete()


class _HookNext(gdb.Command):
    """Internal: run before gdb's `next` (hook-next) while replaying."""

    def __init__(self):
        super().__init__("csgdbserver hook-next", gdb.COMMAND_OBSCURE)

    def invoke(self, arg, from_tty):
        if _in_builtin[0]:
            return
        calls = _replaying_ours()
        if calls is None:
            return
        # gdb's `next` runs after this hook: stand one instruction before
        # the target (the start of a line) and let gdb step onto it; it
        # stops there as after any step. A silent breakpoint one further
        # bounds it should gdb not see a new line there.
        _drop_stoppers()
        forward = gdb.parameter("exec-direction") != "reverse"
        rec = gdb.current_recording()
        cur = _position(rec)
        target, why = _target_next(calls, cur, forward)
        before = target - 1 if forward else target + 1
        if target == cur or calls._item(before) is None or calls._item(target) is None:
            return
        if forward and not _can_step_forward():
            # 32-bit arm replay without CPSR: gdb cannot step forward at all
            _arrive(calls, target, from_tty)
            raise gdb.GdbError("(next done over the trace by csgdbserver's extension: "
                               "gdb cannot step forward here)")
        if before != cur:
            _goto(before)
        beyond = target + 1 if forward else target - 1
        if calls.lo <= beyond < calls.end and calls._item(beyond) is not None:
            _stoppers.append(_StopAt(calls._item(beyond), beyond))


class _HookFinish(gdb.Command):
    """Internal: run before gdb's `finish` (hook-finish) while replaying."""

    def __init__(self):
        super().__init__("csgdbserver hook-finish", gdb.COMMAND_OBSCURE)

    def invoke(self, arg, from_tty):
        if _in_builtin[0] or gdb.parameter("exec-direction") == "reverse":
            return   # reverse-finish is ours already
        calls = _replaying_ours()
        if calls is None:
            return
        _do_finish(calls, from_tty, True)
        # gdb's own finish would now refuse: no caller frame while replaying.
        raise gdb.GdbError("(finish done over the trace by csgdbserver's extension)")


# ---- call history ----------------------------------------------------------

def _name_at(pc):
    try:
        block = gdb.block_for_pc(pc)
        while block is not None and block.function is None:
            block = block.superblock
        if block is not None:
            return block.function.print_name
    except RuntimeError:
        pass
    out = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    m = re.match(r"(\S+)( \+ \d+)? in ", out)
    return m.group(1) if m else "??"


class _CallHistory(gdb.Command):
    """Print the functions of the replayed trace, nested by calls.
Usage: csgdbserver function-call-history [/ilc] [FUNC | FROM,TO | + | -]
The same output as gdb's `record function-call-history` with its
modifiers (/i instruction numbers, /l source lines, /c indentation by
call depth), from csgdbserver's classification of calls and returns
(qXfer:btrace-calls): on ARM gdb's own history is flat."""

    def __init__(self):
        super().__init__("csgdbserver function-call-history", gdb.COMMAND_RUNNING)
        self.next_from = None

    def invoke(self, arg, from_tty):
        try:
            rec = gdb.current_recording()
        except gdb.error:
            rec = None
        if rec is None or rec.method != "btrace":
            raise gdb.GdbError("No btrace record is active.")
        calls = _replaying_ours(at_end=True)
        if calls is None:
            raise gdb.GdbError("csgdbserver: this target does not serve qXfer:btrace-calls.")
        mods, arg = "", arg.strip()
        while arg.startswith("/"):
            word, _, arg = arg.partition(" ")
            mods += word[1:]
            arg = arg.strip()
        nseg = len(calls.seg_start)
        if not arg and self.next_from is None and rec.replay_position is None:
            last = nseg - 1          # at the live end: the last ten, as gdb
            first = last - 9
        elif not arg:
            first = self.next_from if self.next_from is not None else max(0, calls.seg_of(_position(rec)))
            last = first + 9
        elif arg == "+":
            first = self.next_from or 0
            last = first + 9
        elif arg == "-":
            last = (self.next_from or nseg) - 11
            first = last - 9
        elif "," in arg:
            a, b = arg.split(",", 1)
            first, last = int(a) - 1, int(b) - 1
        else:
            mid = int(arg) - 1
            first, last = mid - 5, mid + 4
        first, last = max(0, first), min(nseg - 1, last)
        self.next_from = last + 1
        if first > last:
            raise gdb.GdbError("At the end of the branch trace record.")
        base = min(calls.seg_level[first:last + 1])
        w = _Walk(calls)
        for i in range(first, last + 1):
            pc = calls._item(calls.seg_start[i])
            text = "%d\t" % (i + 1)
            if "c" in mods:
                text += "  " * (calls.seg_level[i] - base)
            text += _name_at(pc) if pc is not None else "??"
            if "l" in mods and pc is not None:
                ln = w.line(pc)
                if ln:
                    text += "\tat %s:%d" % (ln[2], ln[1])
            if "i" in mods:
                text += "\tinst %d,%d" % (calls.seg_start[i], calls.seg_last(i))
            gdb.write(text + "\n")


class _Status(gdb.Command):
    """Say whether csgdbserver's extension is stepping over the trace here."""

    def __init__(self):
        super().__init__("csgdbserver status", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        calls = _replaying_ours(at_end=True)
        if calls is None:
            gdb.write("csgdbserver's extension: not engaged (engage %s; it engages while "
                      "recording btrace from a csgdbserver that serves qXfer:btrace-calls).\n"
                      % _engage.value)
            return
        gdb.write("csgdbserver's extension: engaged. Trace: %d blocks, %d instructions "
                  "(gdb numbers %d..%d), %d call segments; numbers %s; last fetch %.3f s.\n"
                  % (calls.nblocks, calls.total, calls.lo, calls.end, len(calls.seg_start),
                     _STATS["map"], _STATS["fetch_s"]))


# ---- backtrace: the callers from the trace ---------------------------------------

class _TraceCaller(FrameDecorator):
    """A caller known only from the trace: its call instruction."""

    def __init__(self, base, pc):
        super().__init__(base)
        self.pc = pc
        self.sal = gdb.find_pc_line(pc)

    def function(self):
        return _name_at(self.pc)

    def address(self):
        return self.pc

    def filename(self):
        return self.sal.symtab.filename if self.sal.symtab else None

    def line(self):
        return self.sal.line if self.sal.symtab else None

    def frame_args(self):
        return None

    def frame_locals(self):
        return None


class _CallersFilter:
    """Append the callers from the trace to a backtrace while replaying."""

    def __init__(self):
        self.name = "csgdbserver-trace-callers"
        self.priority = 100
        self.enabled = True
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        try:
            calls = _replaying_ours()
        except gdb.error:
            calls = None
        if calls is None:
            return frames
        return self._with_callers(frames, calls)

    def _with_callers(self, frames, calls):
        last = None
        for f in frames:
            last = f
            yield f
        if last is None:
            return
        i = calls.seg_of(_position(gdb.current_recording()))
        for _ in range(_MAX_DEPTH):
            i = calls.parent[i] if i >= 0 else -1
            if i < 0:
                return
            pc = calls._item(calls.seg_last(i))
            if pc is not None:
                yield _TraceCaller(last, pc)


# ---- set-up ---------------------------------------------------------------------

def _install():
    _Prefix()
    _SetPrefix("set csgdbserver")
    _SetPrefix("show csgdbserver")
    global _engage
    _engage = _Engage()
    _ReverseNext()
    _ReverseFinish()
    _HookNext()
    _HookFinish()
    _CallHistory()
    _Status()
    _CallersFilter()
    # hooks keep gdb's own next/finish (there is no calling a builtin a
    # Python command replaced); they act only while replaying our trace.
    gdb.execute("define hook-next\ncsgdbserver hook-next\nend", to_string=True)
    gdb.execute("define hook-finish\ncsgdbserver hook-finish\nend", to_string=True)
    try:
        gdb.execute("alias rf = reverse-finish", to_string=True)
    except gdb.error:
        pass      # the user has an rf already
    gdb.events.stop.connect(_drop_stoppers)
    gdb.events.cont.connect(_resumed)
    if hasattr(gdb.events, "connection_removed"):
        gdb.events.connection_removed.connect(_connection_gone)


def _resumed(event):
    """The trace changes when the thread runs live (not replaying); our
    own steps only replay (a reverse-stepi from the end starts replaying,
    which gdb does not tell yet when it resumes)."""
    if not _moving[0] and not _replaying_now():
        _forget()


def _replaying_now():
    try:
        rec = gdb.current_recording()
        return rec is not None and rec.replay_position is not None
    except gdb.error:
        return False


if not getattr(gdb, "_csgdbserver_loaded", False):
    gdb._csgdbserver_loaded = True
    _install()
