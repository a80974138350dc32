# ^C of a running inferior (gdb sends \x03) and an inferior killed from
# outside the debugger (the server must report the exit/termination).

from harness import Skip, csgdbserver_only, proc_state, wait_for

# Shared libraries are loaded (slowly, over vFile) at the first stops: get
# into the loop first so the ^C lands while the program itself runs.
LOOP = '''ex("break spin_tick")
ex("continue")
ex("delete")
'''


def test_ctrl_c_busy(t):
    srv = t.start_server(t.prog("spin"), "busy", "20", options=["--once"])
    t.gdb(LOOP + r'''
interrupt_gdb_after(0.4)
out = ex("continue")
contains(out, "Program received signal SIGINT, Interrupt.", "^C stops the busy loop")
eq(last_stop().get("signal"), "SIGINT", "stop event: SIGINT")
matches(r"(^#0 .* main \(|in main \()", ex("bt"), "stopped inside the program (main on the stack)")
first = val("g_iterations")
check(first > 1000, "it really ran before the interrupt", first)
# resume and interrupt again; then let it finish
interrupt_gdb_after(0.3)
out = ex("continue")
contains(out, "SIGINT", "second ^C")
check(val("g_iterations") > first, "it ran between the two interrupts")
ex("set var g_keep_going = 0")
out = ex("continue")
contains(out, "exited normally", "SIGINT not passed on: the program exits cleanly")
''', port=srv.port, prog=t.prog("spin"))


def test_ctrl_c_in_syscall(t):
    """Interrupted while sleeping in clock_nanosleep: orig_rax shows the
    system call and the sleep resumes correctly."""
    srv = t.start_server(t.prog("spin"), "sleep", "20", options=["--once"])
    t.gdb(LOOP + r'''
interrupt_gdb_after(0.4)
out = ex("continue")
contains(out, "Program received signal SIGINT", "^C stops the sleeping program")
# stopped in the system call: its number is still in the syscall register
# (x86_64 orig_rax; ARM: x8/r7, and pc is on the svc, rewound by the kernel
# for the restart, or just after it if the 2 ms sleep had just ended)
if ARCH == "x86_64":
    eq(val("$orig_rax"), 230, "orig_rax = clock_nanosleep (230): stopped in the syscall")
else:
    if ARCH == "aarch64":
        eq(val("$x8"), 115, "x8 = clock_nanosleep (115): stopped in the syscall")
        size = 4
    else:
        check(val("$r7") in (407, 265), "r7 = clock_nanosleep(_time64): stopped in the syscall", val("$r7"))
        size = 2 if val("$cpsr") & 0x20 else 4
    here = ex("x/i $pc")
    before = ex("x/i $pc - %d" % size)
    check("svc" in here or "svc" in before, "pc on or just after the svc", here + before)
bt = ex("bt")
matches(r"in main \(", bt, "backtrace reaches main")
ex("break spin_tick")
ex("continue")
at("spin_tick", "spin-tick", "sleep resumed and the loop went on")
''', port=srv.port, prog=t.prog("spin"))


def test_sigkill_while_running(t):
    srv = t.start_server(t.prog("spin"), "sleep", "20", options=["--once"])
    # in the loop first: a kill during gdb's own start-up stops (library
    # events) could land while gdb steps over a breakpoint by itself
    res = t.gdb(LOOP + r'''
pid = inferior_pid()
report("pid", pid)
after(0.4, lambda: target_kill(pid, 9))
out = ex("continue")
contains(out, "Program terminated with signal SIGKILL, Killed.", "termination reported")
contains(ex("info program"), "not being run", "no process left in gdb")
''', port=srv.port, prog=t.prog("spin"))
    pid = res.values.get("pid")
    t.check(pid and wait_for(lambda: proc_state(pid) is None, 3),
            "killed process reaped (no zombie)")
    t.check(srv.wait_exit(5) is not None, "--once server exits")


def test_sigkill_while_stopped(t):
    srv = t.start_server(t.prog("spin"), "sleep", "20", options=["--once"])
    res = t.gdb(LOOP + r'''
pid = inferior_pid()
report("pid", pid)
target_kill(pid, 9)
out = ex("continue")
contains(out, "Program terminated with signal SIGKILL, Killed.",
         "termination of a stopped process reported")
''', port=srv.port, prog=t.prog("spin"))
    pid = res.values.get("pid")
    t.check(pid and wait_for(lambda: proc_state(pid) is None, 3),
            "killed process reaped")


@csgdbserver_only
def test_sigkill_while_stopped_threads(t):
    """GNU gdbserver 13 answers the resume with 'N' (gdb: "No unwaited-for
    children left.") instead of reporting the termination."""
    srv = t.start_server(t.prog("threads"), options=["--once"])
    res = t.gdb(r'''
ex("break all_started")
ex("continue")
# no breakpoint at the pc: gdb would first step over it, and on 32-bit ARM
# (software single-step) that reads the dead process's code and fails
ex("delete")
pid = inferior_pid()
report("pid", pid)
target_kill(pid, 9)
out = ex("continue")
contains(out, "Program terminated with signal SIGKILL, Killed.",
         "termination of a stopped multi-threaded process reported")
''', port=srv.port, prog=t.prog("threads"))
    pid = res.values.get("pid")
    t.check(pid and wait_for(lambda: proc_state(pid) is None, 3),
            "killed process reaped")


def test_sigkill_while_stopped_at_breakpoint(t):
    """Killed from outside while a thread sits on a breakpoint: gdb reads
    the dead thread's registers to step over it, and must still get to
    resume and hear of the death (gdb.threads/process-dies-while-detaching
    "killed outside: continue")."""
    if t.arch == "arm":
        raise Skip("32-bit ARM steps over the breakpoint in software, reading the dead "
                   "process's code (see test_sigkill_while_stopped_threads)")
    srv = t.start_server(t.prog("threads"), options=["--once"])
    t.gdb(r'''
ex("break worker_mark")
ex("continue")
check(gdb.selected_thread().num != 1, "a worker stopped at its breakpoint")
target_kill(inferior_pid(), 9)
out = ex("continue")
contains(out, "Program terminated with signal SIGKILL, Killed.",
         "the death is reported, not a register read error")
''', port=srv.port, prog=t.prog("threads"))


def test_inferior_output(t):
    """The inferior writes to the server's own stdout and stderr."""
    srv = t.start_server(t.prog("output"), "alpha", "beta gamma",
                         options=["--once"])
    t.gdb(r'''
out = ex("continue")
contains(out, "exited with code 03", "argc 3 (two arguments) as exit code")
''', port=srv.port, prog=t.prog("output"))
    t.check(srv.wait_exit(5) is not None, "server exits")
    # the pipes' reader threads may still be behind the exit: read to the end
    srv.stdout.wait_closed(5)
    srv.stderr.wait_closed(5)
    out, err = srv.stdout.text(), srv.stderr.text()
    t.check("stdout line from inferior argc=3" in out,
            "inferior stdout on the server's stdout", out)
    t.check("arg 2: [beta gamma]" in out, "argument with a space kept whole",
            out)
    t.check("stderr line from inferior" in err,
            "inferior stderr on the server's stderr", err)
    t.check("stderr line" not in out, "stderr not mixed into stdout")
