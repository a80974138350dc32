# fork / vfork / exec events: follow-fork-mode, detach-on-fork, catch exec.


def test_follow_fork_child(t):
    srv = t.start_server(t.prog("forker"), "fork", options=["--once"])
    t.gdb(r'''
parent = inferior_pid()
ex("set follow-fork-mode child")
ex("break in_child")
out = ex("continue")
matches(r"\[Attaching after .* fork to child", out, "gdb follows the child")
at("in_child", "in-child", "breakpoint hit in the child")
child = inferior_pid()
check(child != parent, "now debugging another process", child)
ppid = int(re.search(r"PPid:\s+(\d+)", target_read("/proc/%d/status" % child)).group(1))
eq(ppid, parent, "it is the child of the original process")
ex("next")
eq(val("g_role"), 2, "child's own memory written")
out = ex("continue")
contains(out, "exited with code 03", "child exits with its code")
report("parent", parent)
''', port=srv.port, prog=t.prog("forker"), args=["fork"])
    # The parent was detached at the fork: it reaps the child and exits.
    t.check("child status 3" in srv.stdout.text() or
            wait_stdout(srv, "child status 3"),
            "detached parent ran on and saw the child's status",
            srv.stdout.text()[-200:])


def wait_stdout(srv, text, seconds=5):
    from harness import wait_for
    return wait_for(lambda: text in srv.stdout.text(), seconds)


def test_follow_fork_parent(t):
    srv = t.start_server(t.prog("forker"), "fork", options=["--once"])
    t.gdb(r'''
ex("break in_child")
ex("break in_parent")
out = ex("continue")
matches(r"\[Detaching after fork from child process (\d+)\]", out, "child detached")
at("in_parent", "in-parent", "parent stops, the child's breakpoint never hits")
ex("up")
eq(val("status") >> 8, 3, "parent reaped the detached child's exit code")
out = ex("continue")
contains(out, "exited normally", "parent exits")
''', port=srv.port, prog=t.prog("forker"), args=["fork"])


def test_detach_on_fork_off(t):
    srv = t.start_server(t.prog("forker"), "fork", options=["--once"])
    t.gdb(r'''
parent = inferior_pid()
ex("set detach-on-fork off")
ex("catch fork")
out = ex("continue")
m = matches(r"Catchpoint 1 \(forked process (\d+)\)", out, "fork caught")
child = int(m.group(1)) if m else 0
ex("break in_child")
ex("break in_parent")
# the parent blocks in waitpid until the child is done: resume both
ex("set schedule-multiple on")
ex("continue")
at("in_child", what="child runs to its breakpoint")
eq(inferior_pid(), child, "stopped in the forked child")
out = ex("info inferiors")
eq(sorted(int(p) for p in re.findall(r"process (\d+)", out)), sorted([parent, child]),
   "both processes are inferiors")
import os
st = target_read("/proc/%d/status" % parent)
check(re.search(r"TracerPid:\s+0\b", st) is None, "parent is still traced")
# only the child now: the parent stays stopped while the child exits
ex("set schedule-multiple off")
out = ex("continue")
contains(out, "exited with code 03", "child exits")
ex("inferior 1")
out = ex("continue")
at("in_parent", what="parent continues after the child is gone")
ex("up")
eq(val("status") >> 8, 3, "parent saw code 3")
''', port=srv.port, prog=t.prog("forker"), args=["fork"])


def test_vfork(t):
    srv = t.start_server(t.prog("forker"), "vfork", options=["--once"])
    t.gdb(r'''
ex("catch vfork")
out = ex("continue")
matches(r"Catchpoint 1 \(vforked process \d+\)", out, "vfork caught")
ex("delete")
ex("break in_parent")
out = ex("continue")
matches(r"\[Detaching after vfork from child process \d+\]", out, "vfork child detached")
at("in_parent", "in-parent", "parent resumes after the vfork child exits")
ex("up")
eq(val("status") >> 8, 5, "vfork child's _exit code")
''', port=srv.port, prog=t.prog("forker"), args=["vfork"])


def test_exec(t):
    srv = t.start_server(t.prog("forker"), "exec", options=["--once"])
    t.gdb(r'''
pid = inferior_pid()
ex("catch exec")
out = ex("continue")
matches(r"process \d+ is executing new program: .*forker", out, "exec event with the new image path")
contains(out, "Catchpoint 1 (exec'd ", "exec catchpoint")
eq(inferior_pid(), pid, "same process after exec")
ex("break exec_done")
out = ex("continue")
at("exec_done", what="breakpoint in the new image")
ex("up")
eq(gdb.parse_and_eval("argv[1]").string(), "child", "new image's argv[1]")
out = ex("continue")
contains(out, "exited with code 07", "new image's exit code")
''', port=srv.port, prog=t.prog("forker"), args=["exec"])
    t.check(wait_stdout(srv, "exec image running"), "exec'd image printed",
            srv.stdout.text()[-200:])
