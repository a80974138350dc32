# Threads that fork while gdb steps another one (gdb.threads'
# next-fork-other-thread.exp): fork children gdb has not been told of stay
# out of thread lists and are not resumed by wildcard vCont; a stop request
# answered by another event (a fork, a clone) is not reported twice; the
# creator of a reported thread runs on. And a leader that exits before its
# threads (leader-exit.exp): it leaves the thread list instead of blocking
# the server in waitpid.

NEXT_LOOP = r'''
ROUNDS = 6
ex("set print inferior-events off")
ex("break main")
ex("continue")
ex("break %d" % line_of("fork-loop-first"))
ex("continue")
at("main", "fork-loop-first", "main thread at the loop")
for i in range(ROUNDS):
    ex("next")
    at("main", "fork-loop-second", "next %d: to the second line" % i)
    ex("next")
    ex("next")
    at("main", "fork-loop", "next %d: to the loop's head" % i)
    ex("next")
    at("main", "fork-loop-first", "next %d: round the loop" % i)
out = ex("info threads")
eq(len(re.findall(r"^\*?\s+\d+\s+Thread", out, re.M)), 4,
   "four threads, no fork child among them")
check(len(gdb.inferiors()) == 1, "one inferior: every fork child was detached",
      [i.pid for i in gdb.inferiors()])
check(val("g_iterations") >= ROUNDS, "the loop went round", val("g_iterations"))
'''


def _next_while_forking(t, flavour, pre):
    args = [flavour] if flavour == "vfork" else []
    srv = t.start_server(t.prog("forkthreads"), *args, options=["--once"])
    t.gdb(NEXT_LOOP, port=srv.port, prog=t.prog("forkthreads"),
          timeout_s=50, pre=pre)


def test_next_while_other_threads_fork(t):
    _next_while_forking(t, "fork", [])


def test_next_while_other_threads_vfork(t):
    _next_while_forking(t, "vfork", [])


def test_next_while_other_threads_fork_target_non_stop(t):
    """All-stop gdb over a non-stop target: vCont;t, %Stop, vStopped."""
    _next_while_forking(t, "fork", ["maintenance set target-non-stop on"])


def test_next_while_other_threads_vfork_target_non_stop(t):
    _next_while_forking(t, "vfork", ["maintenance set target-non-stop on"])


def test_next_while_other_threads_fork_non_stop(t):
    _next_while_forking(t, "fork", ["maintenance set target-non-stop on", "set non-stop on"])


# gdb's own time limit comes first (its log is kept); slow in the ARM guests
for _test in (test_next_while_other_threads_fork, test_next_while_other_threads_vfork,
              test_next_while_other_threads_fork_target_non_stop,
              test_next_while_other_threads_vfork_target_non_stop,
              test_next_while_other_threads_fork_non_stop):
    _test.timeout = 60


def test_leader_exits_first(t):
    prog = t.prog("forkthreads")
    srv = t.start_server(prog, "leader-exit", options=["--once"])
    t.gdb(r'''
ex("break survivor_here")
out = ex("continue")
at("survivor_here", None, "the surviving thread stops")
out = ex("info threads")
rows = re.findall(r"^\*?\s+(\d+)\s+Thread", out, re.M)
eq(len(rows), 1, "the exited leader left the thread list")
check(gdb.selected_thread().ptid[1] != inferior_pid(), "the one thread is not the leader")
out = ex("continue")
contains(out, "exited normally", "the process exits with the survivor's status")
''', port=srv.port, prog=prog, timeout_s=60)


def test_leader_exits_first_non_stop(t):
    """Non-stop: the leader's exit while the other thread runs drops it
    from the thread list; it is not shown running for ever
    (gdb.threads/gcore-stale-thread.exp)."""
    prog = t.prog("forkthreads")
    srv = t.start_server(prog, "leader-exit", options=["--once"])
    t.gdb(r'''
ex("break survivor_here")
out = ex("continue")
[th for th in gdb.selected_inferior().threads() if th.is_stopped()][0].switch()
at("survivor_here", None, "the surviving thread stops")
out = ex("info threads")
check("(running)" not in out, "no thread shown running: the leader is gone", out)
rows = re.findall(r"^\*?\s+(\d+)\s+Thread", out, re.M)
eq(len(rows), 1, "the exited leader left the thread list")
out = ex("continue")
contains(out, "exited normally", "the process exits with the survivor's status")
''', port=srv.port, prog=prog, timeout_s=60, pre=["set non-stop on"])


def test_leader_exits_alone(t):
    """Only the leader resumed (scheduler-locking) and it exits first:
    nothing resumed is left (gdb.threads/no-unwaited-for-left.exp)."""
    prog = t.prog("forkthreads")
    srv = t.start_server(prog, "leader-exit", options=["--once"])
    t.gdb(r'''
ex("break pthread_exit")
ex("continue")
check(gdb.selected_thread().ptid[1] == inferior_pid(), "the leader calls pthread_exit")
ex("set scheduler-locking on")
out = ex("continue")
contains(out, "No unwaited-for children left", "gdb hears that nothing resumed is left")
out = ex("info threads")
rows = re.findall(r"^\*?\s+(\d+)\s+Thread", out, re.M)
eq(len(rows), 1, "only the other thread is listed")
ex("thread %s" % rows[0])
ex("set scheduler-locking off")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "the survivor ends the process")
''', port=srv.port, prog=prog, timeout_s=60)


def test_exec_from_thread_scheduler_locking(t):
    """A non-leader thread execs while it alone runs: the exec is reported
    under the leader's id (gdb.threads/non-ldr-exc-1.exp schedlock=on)."""
    prog = t.prog("forkthreads")
    srv = t.start_server(prog, "exec-thread", options=["--once"])
    t.gdb(r'''
ex("break %d" % line_of("exec-here"))
ex("continue")
check(gdb.selected_thread().ptid[1] != inferior_pid(), "a non-leader thread is about to exec")
ex("set scheduler-locking on")
ex("break exec_done")
out = ex("continue")
contains(out, "is executing new program", "gdb follows the exec")
eq(func(), "exec_done", "the new image runs to its breakpoint")
eq(gdb.selected_thread().ptid[1], inferior_pid(), "one thread, with the leader's id")
''', port=srv.port, prog=prog, timeout_s=60)


def test_exec_from_thread_stepping_over_false_condition(t):
    """A non-leader thread stops on execve's syscall instruction under a
    target-side condition that is false: the server steps it over unseen
    with the leader held, the exec comes on the leader's id and must end
    the step over (gdb.threads/step-over-exec.exp execr_thread=other hung)."""
    prog = t.prog("forkthreads")
    srv = t.start_server(prog, "exec-thread", options=["--once"])
    t.gdb(r'''
ex("set breakpoint condition-evaluation target")
ex("break %d" % line_of("exec-here"))
ex("continue")
dis = ex("x/40i execve")
m = re.search(r"0x[0-9a-f]+ <execve\+(\d+)>:\s+(?:syscall|svc)\b", dis)
check(m is not None, "execve's syscall instruction found", dis)
ex("delete")
# by symbol, so that gdb sets it again once the new image has its libc
ex("break *execve+%s if 0" % m.group(1))
ex("break exec_done")
out = ex("continue")
contains(out, "is executing new program", "gdb follows the exec (the server did not hang)")
eq(func(), "exec_done", "the new image runs to its breakpoint")
eq(gdb.selected_thread().ptid[1], inferior_pid(), "one thread, with the leader's id")
''', port=srv.port, prog=prog, timeout_s=60)
