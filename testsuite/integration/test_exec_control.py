import re
# break / step / next / finish / until / stepi / conditional breakpoints /
# exit codes, in all-stop mode over `target remote`.


def test_break_step_next_finish(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break compute")
out = ex("continue")
at("compute", "compute-body")
contains(out, "Breakpoint 1, compute (n=3)", "breakpoint hit reported with args")
eq(last_stop().get("bps"), [1], "stop event names breakpoint 1")

# software breakpoint: the PC is exactly the breakpoint address (the server
# must undo the int3 advance)
bp_addr = int(re.search(r"(0x[0-9a-f]+)\s+in compute", ex("info breakpoints")).group(1), 16)
eq(pc(), bp_addr, "pc equals breakpoint address")

ex("next")
at("compute", "compute-square", "next moves one line")
ex("step")
at("square", "square-body", "step enters square")
eq(val("x"), 3, "argument x")
out = ex("finish")
contains(out, "Value returned is $1 = 9", "finish reports square's value")
eq(func(), "compute", "finish returns to compute")
ex("next")
at("compute", "compute-add", "next after finish")
ex("step")
at("add", "add-body", "step enters add")
eq((val("a"), val("b")), (3, 1), "add's arguments")
bt = ex("backtrace")
matches(r"#0 +add .*\n#1 +0x[0-9a-f]+ in compute .*\n#2 +0x[0-9a-f]+ in main", bt,
        "backtrace add <- compute <- main")
ex("up")
eq(func(), "compute", "up selects compute")
eq(val("total"), 9, "local in caller frame")
ex("down")
out = ex("finish")
contains(out, "Value returned is $2 = 4", "finish reports add's value")
ex("tbreak %d" % line_of("main-print"))
out = ex("continue")
at("main", "main-print", "tbreak+continue to a line in main")
eq(val("value"), 13, "compute's result stored")
''', port=srv.port, prog=t.prog("basic"))


def test_stepi_and_hit_counts(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break bump")
ex("continue")
at("bump", "bump-write")
seen = [val("g_counter")]
for _ in range(2):
    ex("continue")
    seen.append(val("g_counter"))
eq(seen, [0, 1, 2], "g_counter at each of the three bump hits")
contains(ex("info breakpoints"), "breakpoint already hit 3 times", "hit count")

# stepi walks single instructions and stays inside the function
ex("delete")
start = pc()
ex("stepi")
first = pc()
check(first != start, "stepi moves the pc", "%#x" % first)
ex("stepi 3")
check(pc() != first, "stepi 3 moves further")
eq(func(), "bump", "still in bump after stepi")
# nexti over the call in main does not enter peek
ex("break %d" % line_of("main-peek"))
ex("continue")
at("main", "main-peek")
for _ in range(20):
    if re.search(CALL_INSN, ex("x/i $pc")):
        break
    ex("stepi")
matches(CALL_INSN, ex("x/i $pc"), "reached the call to peek")
ex("nexti")
eq(func(), "main", "nexti steps over the call")
''', port=srv.port, prog=t.prog("basic"))


def test_conditional_break_and_exit_code(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break bump if g_counter == 2")
ex("continue")
eq(val("g_counter"), 2, "conditional breakpoint stops only when true")
ex("tbreak add")
out = ex("continue")
contains(out, "Temporary breakpoint 2, add (a=3", "tbreak in add from main")
eq(val("b"), 40, "second add call's argument")
check("add" not in ex("info breakpoints"), "tbreak deleted after the hit")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "program runs to a normal exit")
eq([e.get("exit_code") for e in exits()], [0], "exit code 0 in the exit event")
''', port=srv.port, prog=t.prog("basic"))
    t.check(srv.wait_exit(5) is not None, "server with --once exits after the "
            "inferior exits and gdb leaves")
    srv.stdout.wait_closed(5)   # its reader thread may still be behind the exit
    t.check(srv.stdout.wait_line(re.escape("basic done 3 43"), 5) is not None,
            "inferior output on server stdout", srv.stdout.text()[-200:])


def test_exit_with_code(t):
    srv = t.start_server(t.prog("signals"), options=["--once"])
    t.gdb(r'''
ex("handle SIGUSR1 nostop noprint pass")
out = ex("continue")
contains(out, "exited with code 02", "nonzero exit code reported")
eq([e.get("exit_code") for e in exits()], [2], "exit event code")
''', port=srv.port, prog=t.prog("signals"))


def test_first_stepi_after_launch_runs_one_instruction(t):
    """The process waits at its entry point; the first stepi must run that
    instruction (stepping out of execve first would only land on it again)."""
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
entry = pc()
ex("stepi")
first = pc()
check(first != entry, "the first stepi moved off the entry point", hex(first))
ex("stepi")
check(pc() != first, "and the second one on", hex(pc()))
''', port=srv.port, prog=t.prog("basic"))
