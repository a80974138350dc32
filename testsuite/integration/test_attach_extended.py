# --attach and detach; extended-remote (--multi): exec-file, run, kill,
# re-run, attach, arguments/environment/cwd, monitor exit.
import re
import time

from harness import Skip, proc_state, proc_status, tracer_of, wait_for


def start_target(t, seconds="20"):
    p = t.spawn([t.prog("spin"), "sleep", seconds])
    wait_for(lambda: proc_state(p.pid) in ("S", "R"), 2)
    time.sleep(0.05)
    return p


def running_on(pid):
    """Alive, not stopped, not traced, and making progress."""
    st = proc_status(pid)
    if not st or st["State"][0] not in "RSD" or int(st["TracerPid"]) != 0:
        return False
    before = int(st["voluntary_ctxt_switches"])
    time.sleep(0.1)
    st = proc_status(pid)
    return bool(st) and int(st["voluntary_ctxt_switches"]) > before


def test_attach_then_detach(t):
    target = start_target(t)
    srv = t.start_server(str(target.pid), options=["--once", "--attach"])
    t.eq(tracer_of(target.pid), srv.pid, "server is the tracer after --attach")
    t.check(proc_state(target.pid) in ("t", "T"), "attached process stopped",
            proc_state(target.pid))
    t.check(not any("Process" in l and "created" in l
                    for l in srv.stderr.lines), "no 'Process created' line")
    t.check(any(l.startswith("Attached; pid = %d" % target.pid)
                for l in srv.stderr.lines), "'Attached; pid = N' line",
            srv.stderr.text())
    t.gdb(r'''
eq(inferior_pid(), %d, "gdb sees the attached pid")
ex("break spin_tick")
out = ex("continue")
at("spin_tick", "spin-tick", "breakpoint in the attached process")
n = val("g_iterations")
ex("continue")
check(val("g_iterations") == n + 1, "one loop iteration per continue")
ex("delete")
out = ex("detach")
matches(r"\[Inferior 1 \(process %d\) detached\]", out, "detach reported")
''' % (target.pid, target.pid), port=srv.port, prog=t.prog("spin"))
    t.check(srv.wait_exit(5) is not None, "server exits after detach")
    t.check(running_on(target.pid), "detached process keeps running, untraced",
            proc_status(target.pid))


def test_attach_quit_detaches(t):
    """gdb leaving an attached process (quit, no kill) detaches it: the
    server must report qAttached:1 so gdb does not kill."""
    target = start_target(t)
    srv = t.start_server(str(target.pid), options=["--once", "--attach"])
    res = t.gdb(r'''
ex("break spin_tick")
ex("continue")
at("spin_tick", what="stopped in the attached process")
''', port=srv.port, prog=t.prog("spin"), pre=["set debug remote 1"])
    t.check(re.search(r"Sending packet: \$qAttached[^\n]*\n[^\n]*"
                      r"Packet received: 1\n", res.stderr) is not None,
            "qAttached answered 1")
    t.check(srv.wait_exit(5) is not None, "server exits")
    t.check(running_on(target.pid), "process still runs after gdb quit",
            proc_status(target.pid))


def test_extended_run_kill_rerun(t):
    srv = t.start_server(options=["--multi"])
    res = t.gdb(r'''
ex("set remote exec-file %s")
ex("break add")
ex("run")
at("add", "add-body", "run stops at the breakpoint")
first = inferior_pid()
eq(target_read("/proc/%%d/cmdline" %% first).split("\0")[0], "%s", "the program was started")
out = ex("kill")
matches(r"\[Inferior 1 \(process %%d\) killed\]" %% first, out, "kill reported")
check(wait_gone(first), "killed process is gone (reaped)", proc_state(first))
ex("run")
at("add", "add-body", "re-run stops at the breakpoint again")
second = inferior_pid()
check(second != first, "re-run is a new process", second)
ex("delete")
out = ex("continue")
contains(out, "exited normally", "second run exits normally")
out = ex("run")
contains(out, "exited normally", "third run without breakpoints")
report("pids", [first, second])
''' % (t.prog("basic"), t.prog("basic")), port=srv.port, prog=t.prog("basic"),
          extended=True)
    t.check(srv.alive(), "--multi server still alive after gdb left")
    t.eq(srv.stdout.text().count("basic done 3 43"), 2,
         "two complete runs printed their result")


def test_extended_args_env_cwd(t):
    srv = t.start_server(options=["--multi"])
    t.gdb(r'''
ex("set remote exec-file %s")
ex("set environment ITEST_VAR=hello world")
ex("set cwd /tmp")
out = ex("run 'two words' plain")
contains(out, "exited with code 03", "argc 3 as exit code")
''' % t.prog("output"), port=srv.port, prog=t.prog("output"), extended=True)
    out = wait_for(lambda: "cwd=" in srv.stdout.text() and srv.stdout.text(), 3) \
        or srv.stdout.text()
    t.check("arg 1: [two words]" in out, "quoted argument kept whole", out)
    t.check("arg 2: [plain]" in out, "second argument", out)
    t.check("ITEST_VAR=hello world" in out, "environment passed", out)
    t.check("cwd=/tmp" in out, "working directory set", out)


def test_extended_attach(t):
    target = start_target(t)
    srv = t.start_server(options=["--multi"])
    t.gdb(r'''
out = ex("attach %d")
eq(inferior_pid(), %d, "attached over extended-remote")
ex("break spin_tick")
ex("continue")
at("spin_tick", what="attached process stops at the breakpoint")
ex("delete")
out = ex("detach")
contains(out, "detached", "detached")
# the server is still there for more: run a program next
ex("file %s")
ex("set remote exec-file %s")
ex("break add")
ex("run")
at("add", what="run after detach in the same session")
ex("kill")
ex("monitor exit")
''' % (target.pid, target.pid, t.prog("basic"), t.prog("basic")),
          port=srv.port, prog=t.prog("spin"), extended=True)
    t.check(running_on(target.pid), "detached process keeps running",
            proc_status(target.pid))
    t.check(srv.wait_exit(5) is not None, "monitor exit ends the --multi server")


def test_run_when_startup_shell_forks_first(t):
    """The start-up shell forks before it execs the program (bash expands
    BASH_ENV with a command substitution): run still starts the program,
    and the server keeps answering."""
    if not t.target.exists("/bin/bash"):
        raise Skip("no /bin/bash on the server's machine to be the start-up shell")
    srv = t.start_server(options=["--multi"], env={"SHELL": "/bin/bash"})
    res = t.gdb(r'''
ex("set remote exec-file %s")
ex("set environment BASH_ENV=$(echo /dev/null)")
ex("break main")
ex("run")
at("main", what="stopped at main")
report("pid", inferior_pid())
ex("kill")
''' % t.prog("basic"), port=srv.port, prog=t.prog("basic"), extended=True, timeout_s=30)
    t.check(res.values.get("pid"), "the program ran to main", res.values)
    t.check(srv.alive(), "server still serving")
