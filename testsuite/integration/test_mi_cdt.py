# Eclipse CDT over gdb/MI: the real gdb (--interpreter=mi3, and once as
# CDT starts it on Linux: CLI console + `new-ui mi2 PTY`) sent the
# command sequences CDT's DSF-GDB sends (read in eclipse-cdt/cdt,
# dsf-gdb/org.eclipse.cdt.dsf.gdb), against the server under test, and
# every record CDT parses asserted.
#
# Where the sequences come from (gdb >= 7.12, Linux):
#  * FinalLaunchSequence(_7_0/_7_2/_7_7/_7_12): -list-features (GDBControl_7_0),
#    -gdb-version, -environment-cd, -gdb-set breakpoint pending on,
#    -gdb-set detach-on-fork on, -enable-pretty-printing,
#    -gdb-set python print-stack none, -gdb-set print object on,
#    -gdb-set print sevenbit-strings on, -gdb-set dprintf-style gdb,
#    -gdb-set mi-async on (stepSetTargetAsync: non-stop, or the full GDB
#    console that CDT uses on Linux), -gdb-set record full stop-at-limit off,
#    -gdb-set non-stop on (non-stop launches only), -gdb-set auto-solib-add on,
#    -gdb-set remotetimeout N (when the launch sets one).
#  * DebugNewProcessSequence(_7_2): -file-exec-and-symbols --thread-group i1,
#    -target-select remote HOST:PORT (a "manual remote" launch; attach
#    launches use extended-remote), user breakpoints -break-insert -f.
#  * StartOrRestartProcessSequence_7_0/_7_10/_7_12: -break-insert -t main
#    (stop at main), -break-insert -t main again for reverse (deleted with
#    -break-delete when it lands on the same address), -exec-continue (a
#    remote program already runs: not -exec-run), and at the breakpoint
#    (GDBRunControl_7_12.enableReverseModeAtBpLocation) the CLI command
#    CLIRecord: "record full" (reverse mode "software", the default),
#    "record btrace" (hardware, preference "GDB trace", the default),
#    "record btrace bts" / "record btrace pt" (branch / processor trace).
#  * GDBRunControl_7_0.reverseStep/reverseResume: reverse commands are CLI
#    through MI: -interpreter-exec --thread N console "reverse-step 1"
#    (reverse-next 1, reverse-stepi 1, reverse-nexti 1, reverse-continue),
#    and "reverse-finish" with --thread N --frame 0 (MIExecUncall). Other
#    MI front ends use -exec-step --reverse & co.: tested too.
#  * Non-stop: CDT's run control there (GDBRunControl_7_2_NS) has no
#    reverse support, so the IDE offers none; gdb itself allows it with
#    btrace and refuses record full ("can't debug inferior in non-stop
#    mode"): both asserted.
import os
import re

from harness import (ARCH, PROGS_SRC, Skip, TIME_SCALE, TestFailure, csgdbserver_only, need_shared,
                     shared, wait_for)
from mi import MI

PC_NAME = {"x86_64": "rip", "aarch64": "pc", "arm": "pc"}
# gdb 13 classifies calls and returns in a branch trace only on x86: on ARM
# a btrace replay has one flat frame, so gdb refuses finish --reverse there
FLAT_BTRACE_REPLAY = ARCH != "x86_64"
OUTERMOST = '"finish" not meaningful in the outermost frame.'


def reverse_out_of(t, mi, finish_cmd, flat, func, marker, what, thread="1",
                   source="basic.c", all_stop=True):
    """FINISH_CMD (reverse-finish in one of its forms) back into FUNC at
    MARKER's line; with a flat replay, gdb's refusal is asserted and
    reverse-steps (as a user would) take its place."""
    if not flat:
        stop = run_to_stop(t, mi, finish_cmd, what, thread=None if all_stop else thread)
        check_stop(t, stop, stop.get("reason") if stop.get("reason") == "breakpoint-hit"
                   else "end-stepping-range", func, marker, what, thread, source, all_stop)
        return stop
    err = mi.command(finish_cmd, error=True)
    t.eq(err.get("msg"), OUTERMOST, what + ": gdb refuses it in a flat btrace replay")
    for _ in range(6):
        stop = run_to_stop(t, mi, '-interpreter-exec --thread %s console "reverse-step 1"'
                           % thread, what + " (reverse-step)",
                           thread=None if all_stop else thread)
        if stop["frame"].get("func") == func:
            break
    # the user breakpoint sits where the line starts: a reverse-step
    # arriving there reports it
    check_stop(t, stop, stop.get("reason") if stop.get("reason") == "breakpoint-hit"
               else "end-stepping-range", func, marker, what + " (by reverse-step)",
               thread, source, all_stop)
    return stop


def lines_before_call(stop):
    """How many lines before the line calling square a backward
    instruction step stopped (0: still on it)."""
    return line_of("compute-square") - int(stop["frame"].get("line", "0"))


def line_of(marker, source="basic.c"):
    """Line of the '@marker' comment; "marker+N" is N lines below it."""
    marker, _, below = marker.partition("+")
    with open(os.path.join(PROGS_SRC, source)) as f:
        for number, text in enumerate(f, 1):
            if re.search(r"@%s\b(?!-)" % re.escape(marker), text):
                return number + int(below or 0)
    raise KeyError(marker)


def check_frame(t, frame, func, marker, what, source="basic.c"):
    """A frame tuple as CDT's MIFrame reads it: func, file, fullname, line,
    addr."""
    ok = t.check(isinstance(frame, dict), what + ": has a frame", frame)
    if not ok:
        return
    t.eq(frame.get("func"), func, what + ": func")
    t.eq(frame.get("line"), str(line_of(marker, source)),
         what + ": line of @" + marker)
    t.check(frame.get("file", "").endswith(source), what + ": file", frame)
    t.check(os.path.basename(frame.get("fullname", "")) == source and
            os.path.exists(frame.get("fullname", "")),
            what + ": fullname names the source", frame)
    t.check(re.fullmatch(r"0x[0-9a-f]+", frame.get("addr", "")) is not None,
            what + ": addr", frame)


def check_stop(t, stop, reason, func, marker, what, thread="1",
               source="basic.c", all_stop=True):
    """*stopped as CDT's MIStoppedEvent subclasses read it."""
    if reason is None:
        t.check("reason" not in stop.results, what + ": no reason", stop)
    else:
        t.eq(stop.get("reason"), reason, what + ": reason")
    t.eq(stop.get("thread-id"), thread, what + ": thread-id")
    t.eq(stop.get("stopped-threads"), "all" if all_stop else [thread],
         what + ": stopped-threads")
    check_frame(t, stop.get("frame"), func, marker, what, source)


def run_to_stop(t, mi, command, what, thread=None):
    """An execution command: ^running, *running, then its *stopped (of
    THREAD in non-stop)."""
    rec = mi.command(command)
    t.eq(rec.cls, "running", what + ": ^running")
    mi.wait_async("*", "running", pred=lambda r: thread is None or
                  r.get("thread-id") in (thread, "all"))
    return mi.wait_stopped(pred=lambda r: thread is None or
                           r.get("thread-id") == thread)


def cdt_final_launch(t, mi, prog, port, non_stop=False):
    """FinalLaunchSequence_7_12 + DebugNewProcessSequence_7_2 up to the
    connection; returns the connection's *stopped."""
    features = mi.command("-list-features")
    t.check("thread-info" in features.get("features", []),
            "-list-features lists thread-info (CDT uses --thread)", features)
    version = mi.command("-gdb-version")
    t.check(re.search(r"GNU gdb .*\d+\.\d+", version.console),
            "-gdb-version: CDT parses the version from the console", version.console[:200])
    for cmd in ["-environment-cd %s" % os.path.dirname(prog),
                "-gdb-set breakpoint pending on",
                "-gdb-set detach-on-fork on",
                "-enable-pretty-printing",
                "-gdb-set python print-stack none",
                "-gdb-set print object on",
                "-gdb-set print sevenbit-strings on",
                "-gdb-set dprintf-style gdb",
                "-gdb-set mi-async on",
                "-gdb-set record full stop-at-limit off"] + \
            (["-gdb-set non-stop on"] if non_stop else []) + \
            ["-gdb-set auto-solib-add on",
             "-gdb-set remotetimeout %d" % (10 * TIME_SCALE)]:
        mi.command(cmd)
    mi.command("-file-exec-and-symbols --thread-group i1 %s" % prog)
    conn = mi.command("-target-select remote 127.0.0.1:%d" % port, seconds=60)
    t.eq(conn.cls, "connected", "-target-select remote: ^connected")
    stop = mi.wait_stopped(60)
    t.eq(stop.get("thread-id"), "1", "connection stop: thread-id 1")
    t.check(re.fullmatch(r"0x[0-9a-f]+", stop["frame"].get("addr", "")),
            "connection stop: frame addr", stop)
    return stop


def cdt_start_with_reverse(t, mi, user_bp_marker):
    """StartOrRestartProcessSequence_7_12: user breakpoint, temporary
    breakpoints at main (stop at main + reverse), -exec-continue; returns
    (user breakpoint number, main breakpoint number)."""
    user = mi.command("-break-insert -f basic.c:%d" % line_of(user_bp_marker))
    bkpt = user["bkpt"]
    t.eq((bkpt.get("type"), bkpt.get("disp"), bkpt.get("line"), bkpt.get("func")),
         ("breakpoint", "keep", str(line_of(user_bp_marker)), "compute"),
         "user breakpoint record")
    stop_main = mi.command("-break-insert -t main")["bkpt"]
    t.eq((stop_main.get("disp"), stop_main.get("func")), ("del", "main"),
         "stop-at-main: temporary breakpoint at main")
    reverse = mi.command("-break-insert -t main")["bkpt"]
    t.eq(reverse.get("addr"), stop_main.get("addr"),
         "reverse breakpoint at the same address as stop-at-main")
    # same address: CDT deletes its own and waits for the user's one
    mi.command("-break-delete %s" % reverse["number"])
    stop = run_to_stop(t, mi, "-exec-continue --thread-group i1", "start")
    check_stop(t, stop, "breakpoint-hit", "main", "main-compute", "stop at main")
    t.eq((stop.get("bkptno"), stop.get("disp")), (stop_main["number"], "del"),
         "stop at main: the temporary breakpoint")
    return bkpt["number"], stop_main["number"]


def cdt_enable_reverse(t, mi, command, method, fmt=None, thread="1"):
    """GDBRunControl_7_10.enableReverseMode: the CLI record command; the
    =record-started notification CDT maps to its trace method."""
    start = len(mi.records)
    mi.command("-thread-select %s" % thread)    # a CLI command has no --thread
    rec = mi.command(command, error=None)
    if rec.cls == "error" and ARCH == "arm" and method == "btrace":
        raise Skip("32-bit arm: %s refused (%s)" % (command, rec.get("msg")))
    if not t.check(rec.cls == "done", "%s accepted" % command, rec):
        raise TestFailure("%s refused: %s" % (command, rec.get("msg")))
    started = mi.since("=", "record-started", start)
    t.eq(len(started), 1, "%s: one =record-started" % command)
    if started:
        expect = {"thread-group": "i1", "method": method}
        if fmt:
            expect["format"] = fmt
        t.eq(started[0].results, expect, "%s: =record-started fields" % command)


def cdt_refresh(t, mi, func, marker, thread="1", source="basic.c", depth=None,
                btrace_replay=False):
    """What the Debug, Variables and Registers views ask at a suspend.
    BTRACE_REPLAY: btrace records no data, so while replaying only the pc
    is known and gdb says <unavailable> for the rest."""
    groups = mi.command("-list-thread-groups")["groups"]
    t.check(len(groups) == 1 and groups[0].get("id") == "i1" and
            groups[0].get("type") == "process" and groups[0].get("pid", "").isdigit(),
            "-list-thread-groups: one process i1 with its pid", groups)
    info = mi.command("-thread-info --thread-group i1")
    threads = {th["id"]: th for th in info["threads"]}
    t.check(thread in threads and threads[thread].get("state") == "stopped",
            "-thread-info: thread %s stopped" % thread, info)
    if thread in threads:
        t.check(re.match(r"(Thread|LWP|process) \d+", threads[thread].get("target-id", "")),
                "-thread-info: target-id", threads[thread])
        check_frame(t, threads[thread].get("frame"), func, marker,
                    "-thread-info frame", source)
    got = mi.command("-stack-info-depth --thread %s 11" % thread).get("depth", "")
    t.check(got.isdigit() and int(got) >= 1 and (depth is None or int(got) == depth),
            "-stack-info-depth", got)
    stack = mi.command("-stack-list-frames --thread %s 0 10" % thread)["stack"]
    t.eq([f.get("level") for f in stack], [str(i) for i in range(len(stack))],
         "-stack-list-frames: levels 0..n")
    if stack:
        check_frame(t, stack[0], func, marker, "-stack-list-frames top", source)
    names = mi.command("-data-list-register-names --thread-group i1")["register-names"]
    pc_name = PC_NAME[ARCH]
    t.check(pc_name in names, "-data-list-register-names has %s" % pc_name, names[:40])
    if pc_name not in names:
        return
    pc_no = names.index(pc_name)
    numbers = [i for i, n in enumerate(names) if n][:8] + [pc_no]
    values = mi.command("-data-list-register-values --thread %s --frame 0 x %s" %
                        (thread, " ".join(map(str, numbers))))["register-values"]
    t.eq([v.get("number") for v in values], [str(n) for n in numbers],
         "-data-list-register-values: the numbers asked, in order")
    t.check(re.fullmatch(r"0x[0-9a-f]+", values[-1].get("value", "")) if values else False,
            "-data-list-register-values: the pc in hex", values)
    others = [v.get("value", "") for v in values[:-1]]
    if btrace_replay:
        t.eq(set(others), {"<unavailable>"}, "btrace replay: other registers <unavailable>")
    else:
        t.check(all(re.fullmatch(r"0x[0-9a-f]+", v) for v in others),
                "-data-list-register-values: hex values", values)
    if stack and values:
        t.eq(int(values[-1]["value"], 16), int(stack[0]["addr"], 16),
             "the pc register is the top frame's address")


def forward_then_cdt_reverse(t, mi, method):
    """At the user breakpoint in compute (recording since main): CDT's
    forward steps, then its reverse commands."""
    check = lambda cmd, reason, func, marker, what: check_stop(
        t, run_to_stop(t, mi, cmd, what), reason, func, marker, what)
    check("-exec-step --thread 1 1", "end-stepping-range", "square", "square-body",
          "step into square")
    check("-exec-next --thread 1 1", "end-stepping-range", "square", "square-return",
          "next in square")
    fin = run_to_stop(t, mi, "-exec-finish --thread 1 --frame 0", "finish")
    check_stop(t, fin, "function-finished", "compute", "compute-square", "finish out of square")
    t.eq((fin.get("gdb-result-var"), fin.get("return-value")), ("$1", "9"),
         "finish: return value square(3)")
    check("-exec-next --thread 1 1", "end-stepping-range", "compute", "compute-add",
          "next to the add line")
    check("-exec-step --thread 1 1", "end-stepping-range", "add", "add-body", "step into add")
    cdt_refresh(t, mi, "add", "add-body", depth=3)

    rev = lambda cmd, reason, func, marker, what: check_stop(
        t, run_to_stop(t, mi, '-interpreter-exec --thread 1 console "%s"' % cmd, what),
        reason, func, marker, what)
    rev("reverse-step 1", "end-stepping-range", "compute", "compute-add",
        "reverse-step out of add")
    rev("reverse-next 1", "end-stepping-range", "compute", "compute-square",
        "reverse-next over the square call")
    # square's closing brace (its epilogue) is the last line it ran
    rev("reverse-step 1", "end-stepping-range", "square", "square-return+1",
        "reverse-step into square from its end")
    flat = method == "btrace" and FLAT_BTRACE_REPLAY
    stop = reverse_out_of(t, mi, '-interpreter-exec --thread 1 --frame 0 console "reverse-finish"',
                          flat, "compute", "compute-square", "reverse-finish back to the call")
    call_pc = int(stop["frame"]["addr"], 16)
    stop = run_to_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-stepi 1"',
                       "reverse-stepi")
    t.check(int(stop["frame"]["addr"], 16) < call_pc and stop.get("reason") in
            ("end-stepping-range", "breakpoint-hit"),
            "reverse-stepi: one instruction back", stop)
    # from the call line's first instruction the step lands on the line before
    back = lines_before_call(stop)
    t.check(back in (0, 1), "reverse-stepi: on the call's line or the one before", stop)
    marker = "compute-body" if back == 1 else "compute-square"
    check_stop(t, stop, stop.get("reason"), "compute", marker, "reverse-stepi")
    cdt_refresh(t, mi, "compute", marker, depth=None if flat else 2,
                btrace_replay=method == "btrace")
    # the user breakpoint is where the line starts: reverse-continue hits
    # it first, then runs out of history where recording began (main)
    start = len(mi.records)
    stop = run_to_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-continue"',
                       "reverse-continue")
    if stop.get("reason") == "breakpoint-hit":
        check_stop(t, stop, "breakpoint-hit", "compute", "compute-square",
                   "reverse-continue to the user breakpoint")
        start = len(mi.records)
        stop = run_to_stop(t, mi, '-interpreter-exec --thread 1 console "reverse-continue"',
                           "reverse-continue to the start")
    # gdb 13 sends no reason="no-history" here: the console says it
    check_stop(t, stop, None, "main", "main-compute", "end of reverse history")
    t.check("No more reverse-execution history." in
            "".join(r.text for r in mi.records[start:] if r.kind == "~"),
            "end of history said on the console")
    # forward again: replay to the breakpoint, then live
    check_stop(t, run_to_stop(t, mi, "-exec-continue --thread 1", "replay forward"),
               "breakpoint-hit", "compute", "compute-square", "replay forward to the breakpoint")
    mi.command("-break-delete")
    start = len(mi.records)
    mi.command("record stop")
    t.check(mi.since("=", "record-stopped", start), "record stop: =record-stopped")
    rec = mi.command("-exec-continue --thread 1")
    t.eq(rec.cls, "running", "continue to the end")
    ex = mi.wait_stopped(60)
    t.eq((ex.get("reason"), ex.get("exit-code")), ("exited-normally", None),
         "program exits normally after recording")


def start_basic(t, method_label, **mi_options):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    mi = MI(t, **mi_options)
    cdt_final_launch(t, mi, t.prog("basic"), srv.port)
    user_bp, _ = cdt_start_with_reverse(t, mi, "compute-square")
    return srv, mi, user_bp


def test_allstop_record_full(t):
    """Reverse mode "software" (CDT's default): record full."""
    srv, mi, user_bp = start_basic(t, "full")
    cdt_enable_reverse(t, mi, "record full", "full")
    cdt_refresh(t, mi, "main", "main-compute", depth=1)
    stop = run_to_stop(t, mi, "-exec-continue --thread-group i1", "to the user breakpoint")
    check_stop(t, stop, "breakpoint-hit", "compute", "compute-square", "user breakpoint")
    t.eq(stop.get("bkptno"), user_bp, "user breakpoint number")
    t.eq(stop["frame"].get("args"), [{"name": "n", "value": "3"}], "frame args")
    forward_then_cdt_reverse(t, mi, "full")
    mi.exit()


@csgdbserver_only
def test_allstop_record_btrace(t):
    """Reverse mode "hardware", trace method "GDB trace" (CDT's default
    hardware choice): record btrace, served by the software bts source.
    gdb runs as CDT runs it on Linux: CLI console, MI (mi2) on a terminal
    through new-ui."""
    srv, mi, user_bp = start_basic(t, "btrace", interpreter="mi2", new_ui=True)
    cdt_enable_reverse(t, mi, "record btrace", "btrace", "bts")
    info = mi.command('-interpreter-exec console "info record"')
    t.check("Recording format: Branch Trace Store." in info.console,
            "info record: bts (what CLIInfoRecordInfo parses)", info.console)
    stop = run_to_stop(t, mi, "-exec-continue --thread-group i1", "to the user breakpoint")
    check_stop(t, stop, "breakpoint-hit", "compute", "compute-square", "user breakpoint")
    forward_then_cdt_reverse(t, mi, "btrace")
    mi.exit()


@csgdbserver_only
def test_allstop_mi_reverse_options(t):
    """-exec-* --reverse (MI's own reverse, used by other front ends),
    with trace method "branch trace": record btrace bts; "processor trace"
    (record btrace pt) is refused by gdb for this target."""
    srv, mi, user_bp = start_basic(t, "bts")
    err = mi.command("record btrace pt", error=True)
    t.eq(err.get("msg"), "Target does not support branch tracing.",
         "record btrace pt refused (no Intel PT)")
    cdt_enable_reverse(t, mi, "record btrace bts", "btrace", "bts")
    run_to_stop(t, mi, "-exec-continue --thread-group i1", "to the user breakpoint")
    for cmd in ("-exec-step --thread 1 1", "-exec-finish --thread 1 --frame 0",
                "-exec-next --thread 1 1", "-exec-step --thread 1 1"):
        run_to_stop(t, mi, cmd, cmd)
    check = lambda cmd, reason, func, marker: check_stop(
        t, run_to_stop(t, mi, cmd, cmd), reason, func, marker, cmd)
    check("-exec-step --thread 1 --reverse", "end-stepping-range", "compute", "compute-add")
    check("-exec-next --thread 1 --reverse", "end-stepping-range", "compute", "compute-square")
    check("-exec-step --thread 1 --reverse", "end-stepping-range", "square", "square-return+1")
    reverse_out_of(t, mi, "-exec-finish --thread 1 --frame 0 --reverse", FLAT_BTRACE_REPLAY,
                   "compute", "compute-square", "-exec-finish --reverse")
    before = int(mi.command("-data-evaluate-expression --thread 1 $pc")["value"].split()[0], 16)
    stop = run_to_stop(t, mi, "-exec-step-instruction --thread 1 --reverse", "reverse stepi")
    t.check(int(stop["frame"]["addr"], 16) < before, "-exec-step-instruction --reverse: back",
            stop)
    stop = run_to_stop(t, mi, "-exec-next-instruction --thread 1 --reverse", "reverse nexti")
    t.check(lines_before_call(stop) in (0, 1, 2),
            "-exec-next-instruction --reverse: between compute's entry and the call", stop)
    t.eq(stop["frame"].get("func"), "compute", "-exec-next-instruction --reverse: in compute")
    stop = run_to_stop(t, mi, "-exec-continue --thread 1 --reverse", "reverse continue")
    if stop.get("reason") == "breakpoint-hit":
        stop = run_to_stop(t, mi, "-exec-continue --thread 1 --reverse", "reverse continue")
    check_stop(t, stop, None, "main", "main-compute", "-exec-continue --reverse: start of history")
    mi.exit()


def start_threads_nonstop(t):
    prog = t.prog("threads")
    srv = t.start_server(prog, options=["--once"])
    mi = MI(t)
    stop = cdt_final_launch(t, mi, prog, srv.port, non_stop=True)
    t.eq(stop.get("stopped-threads"), ["1"], "non-stop connection stop: only thread 1")
    mark = line_of("worker-mark", "threads.c")
    bp = mi.command("-break-insert -f threads.c:%d" % mark)["bkpt"]
    mi.command("-break-insert -t main")
    stop = run_to_stop(t, mi, "-exec-continue --thread-group i1", "start", thread="1")
    t.eq((stop.get("reason"), stop["frame"].get("func"), stop.get("stopped-threads")),
         ("breakpoint-hit", "main", ["1"]), "non-stop: stop at main, only thread 1 stopped")
    # CDT resumes the thread it stopped; workers start and hit the breakpoint
    rec = mi.command("-exec-continue --thread 1")
    t.eq(rec.cls, "running", "-exec-continue --thread 1")
    worker = mi.wait_stopped(60, pred=lambda r: r.get("reason") == "breakpoint-hit" and
                             r.get("bkptno") == bp["number"])
    tid = worker.get("thread-id")
    check_stop(t, worker, "breakpoint-hit", "worker_mark", "worker-mark",
               "worker at its breakpoint", thread=tid, source="threads.c", all_stop=False)
    return srv, mi, tid


@csgdbserver_only
def test_nonstop_launch_and_btrace(t):
    """Non-stop: CDT's launch, per-thread stops and -thread-info; gdb
    refuses record full there and reverses per thread with btrace."""
    srv, mi, tid = start_threads_nonstop(t)
    # the first worker can reach its breakpoint before main creates the second
    created = wait_for(lambda: {r.get("id") for r in mi.since("=", "thread-created", 0)} >= {"1", "2", "3"}, 30)
    t.check(created, "=thread-created for the three threads",
            [r.get("id") for r in mi.since("=", "thread-created", 0)])
    info = mi.command("-thread-info")
    states = {th["id"]: th.get("state") for th in info["threads"]}
    t.eq(states.get(tid), "stopped", "-thread-info: the worker is stopped")
    t.eq(states.get("1"), "running", "-thread-info: main still runs")
    t.check(len(states) == 3, "-thread-info: three threads", states)
    # Suspend / Resume of one running thread (GDBRunControl_7_0_NS)
    mi.command("-exec-interrupt --thread 1")
    stop = mi.wait_stopped(pred=lambda r: r.get("thread-id") == "1")
    t.eq((stop.get("reason"), stop.get("signal-name"), stop.get("stopped-threads")),
         ("signal-received", "0", ["1"]), "-exec-interrupt --thread 1: signal 0, only it")
    t.check(stop["frame"].get("addr"), "interrupted thread has a frame", stop)
    t.eq(mi.command("-exec-continue --thread 1").cls, "running", "resume thread 1")
    mi.wait_async("*", "running", pred=lambda r: r.get("thread-id") == "1")
    err = mi.command("record full", error=True)
    t.eq(err.get("msg"), "Process record target can't debug inferior in non-stop mode (non-stop).",
         "gdb refuses record full in non-stop")
    cdt_enable_reverse(t, mi, "record btrace", "btrace", "bts", thread=tid)
    src = "threads.c"
    stop = run_to_stop(t, mi, "-exec-next --thread %s 1" % tid, "next", thread=tid)
    t.eq((stop.get("reason"), stop["frame"].get("func"), stop["frame"].get("line"),
          stop.get("stopped-threads")),
         ("end-stepping-range", "worker_mark", str(line_of("worker-mark", src) + 1), [tid]),
         "next in worker_mark: only that thread stops")
    fin = run_to_stop(t, mi, "-exec-finish --thread %s --frame 0" % tid, "finish", thread=tid)
    t.eq((fin.get("reason"), fin["frame"].get("func"), fin.get("stopped-threads")),
         ("function-finished", "worker", [tid]), "finish back to worker")
    stop = run_to_stop(t, mi, '-interpreter-exec --thread %s console "reverse-step 1"' % tid,
                       "reverse-step", thread=tid)
    t.eq((stop.get("reason"), stop["frame"].get("func"), stop.get("stopped-threads")),
         ("end-stepping-range", "worker_mark", [tid]), "reverse-step into worker_mark")
    cmd = "-exec-finish --thread %s --frame 0 --reverse" % tid
    if FLAT_BTRACE_REPLAY:
        t.eq(mi.command(cmd, error=True).get("msg"), OUTERMOST,
             "reverse-finish refused in a flat btrace replay")
        stop = run_to_stop(t, mi, '-interpreter-exec --thread %s console "reverse-step 1"' % tid,
                           "reverse-step", thread=tid)
        check_stop(t, stop, "end-stepping-range", "worker_mark", "worker-mark",
                   "reverse-step to the first line", thread=tid, source=src, all_stop=False)
    else:
        stop = run_to_stop(t, mi, cmd, "reverse-finish", thread=tid)
        check_stop(t, stop, "breakpoint-hit", "worker_mark", "worker-mark",
                   "reverse-finish to the breakpoint at entry", thread=tid, source=src,
                   all_stop=False)
    stop = run_to_stop(t, mi, "-exec-continue --thread %s --reverse" % tid,
                       "reverse-continue", thread=tid)
    t.eq((stop.get("thread-id"), stop.get("stopped-threads")), (tid, [tid]),
         "reverse-continue stops only that thread")
    running = [r.get("thread-id") for r in mi.since("*", "running", 0)]
    t.check(set(running) <= {"1", "2", "3", "all"}, "*running names threads", running)
    mi.exit()


@csgdbserver_only
def test_nonstop_recording_leaves_running_threads_alone(t):
    """Non-stop, record btrace on, main thread running (in a futex wait,
    recorded by the software source), a worker stepped off a breakpoint:
    gdb cannot displace-step under a record target, so it stops the main
    thread with vCont;t, steps over in line and resumes it. The stop must
    come back as signal 0 (as for an unrecorded thread: T00), or gdb takes
    it for a SIGTRAP, leaves the thread stopped and CDT shows it
    suspended by a signal nobody sent."""
    srv, mi, tid = start_threads_nonstop(t)
    start = len(mi.records)
    cdt_enable_reverse(t, mi, "record btrace", "btrace", "bts", thread=tid)
    run_to_stop(t, mi, "-exec-next --thread %s 1" % tid, "next", thread=tid)
    run_to_stop(t, mi, "-exec-finish --thread %s --frame 0" % tid, "finish", thread=tid)
    others = [r for r in mi.since("*", "stopped", start)
              if r.get("thread-id") not in (tid,) and r.get("reason") != "breakpoint-hit"]
    t.eq([r.line[:200] for r in others], [],
         "no SIGTRAP stop reported for the thread gdb stopped for its step-over")
    info = mi.command("-thread-info")
    states = {th["id"]: th.get("state") for th in info["threads"]}
    t.eq(states.get("1"), "running", "main thread still running after the steps")
    mi.exit()


test_allstop_record_full.timeout = 60
test_allstop_record_btrace.timeout = 60
test_allstop_mi_reverse_options.timeout = 60
test_nonstop_launch_and_btrace.timeout = 60
test_nonstop_recording_leaves_running_threads_alone.timeout = 60
for _fn in (test_allstop_record_full, test_allstop_record_btrace,
            test_allstop_mi_reverse_options, test_nonstop_launch_and_btrace,
            test_nonstop_recording_leaves_running_threads_alone):
    _fn.weight = 5


PERFDATA = shared("simpleperf-etm-perfdata", "perf_etm.data")


@csgdbserver_only
def test_etm_config_from_gdb_command_file(t):
    """doc/eclipse.md's recipe: ETM options in the launch's GDB command
    file as a hook after CDT's -target-select; a bad option fails the
    launch with the server's reason. The CoreSight source here is a
    recorded perf.data (no trace hardware on this machine)."""
    need_shared(PERFDATA)   # on the host only: skipped in a guest
    for label, option, good in (("good", "cycle-accurate=yes timestamps=yes", True),
                                ("bad", "filter:start-address=zz", False)):
        srv = t.start_server(t.prog("basic"), options=["--once", "--etm-perfdata", PERFDATA])
        gdbinit = os.path.join(t.tmp, "%s.gdbinit" % label)
        with open(gdbinit, "w") as f:
            f.write("define target hookpost-remote\nmonitor etm config %s\nend\n" % option)
        mi = MI(t, name="mi-" + label)
        mi.command("-gdb-set mi-async on")
        mi.command("source %s" % gdbinit)         # stepSourceGDBInitFile (CLISource)
        mi.command("-file-exec-and-symbols --thread-group i1 %s" % t.prog("basic"))
        start = len(mi.records)
        conn = mi.command("-target-select remote 127.0.0.1:%d" % srv.port, seconds=60,
                          error=not good)
        target_out = "".join(r.text for r in mi.records[start:] if r.kind == "@")
        if good:
            t.eq(conn.cls, "connected", "good ETM options: launch connects")
            t.check("Configuration for threads enabled from now on:" in target_out and
                    'config="cycle-accurate,timestamps' in target_out,
                    "the hook's monitor etm config applied and echoed", target_out)
            mi.command('-interpreter-exec console "monitor etm status"')
            t.check("Trace source:" in "".join(
                r.text for r in mi.records if r.kind == "@"), "monitor etm status answers")
        else:
            t.eq(conn.get("msg"), "Protocol error with Rcmd", "bad ETM option fails the launch")
            t.check('filter:start-address=zz: Bad filter:start-address value "zz".' in target_out,
                    "the server's reason reaches the console", target_out)
        mi.exit()
        srv.proc.kill()


test_etm_config_from_gdb_command_file.timeout = 60
