# Signals: stop/print/pass settings (QPassSignals), info signals, delivery
# through vCont;C, $_siginfo (qXfer:siginfo:read/write), SIGSEGV.
import re


def test_signal_stop_and_pass(t):
    srv = t.start_server(t.prog("signals"), options=["--once"])
    res = t.gdb(r'''
out = ex("info signals SIGUSR1")
matches(r"SIGUSR1\s+Yes\s+Yes\s+Yes", out, "SIGUSR1 stops, prints and passes by default")
out = ex("continue")
contains(out, "Program received signal SIGUSR1, User defined signal 1.", "SIGUSR1 reported")
eq(last_stop().get("signal"), "SIGUSR1", "stop event signal")
eq(val("$_siginfo.si_signo"), 10, "$_siginfo.si_signo")
eq(val("$_siginfo._sifields._kill.si_pid"), inferior_pid(), "raise() sender is the inferior itself")
eq(val("g_usr1_count"), 0, "handler not run yet")
ex("break on_usr1")
out = ex("continue")
at("on_usr1", "usr1-handler", "continuing delivers the signal to its handler")
ex("delete")
# second raise: do not pass it -> the handler never runs for it
out = ex("continue")
contains(out, "SIGUSR1", "second SIGUSR1 stops")
ex("handle SIGUSR1 nopass")
ex("break after_signals")
ex("continue")
eq(val("g_usr1_count"), 1, "nopass: second signal discarded")
ex("delete")
out = ex("continue")
contains(out, "exited with code 01", "exit code counts handled signals")
''', port=srv.port, prog=t.prog("signals"))
    t.check(srv.stdout.wait_line(re.escape("usr1 count 1"), 5) is not None, "inferior printed count 1",
            srv.stdout.text()[-200:])


def test_signal_nostop_pass(t):
    srv = t.start_server(t.prog("signals"), options=["--once"])
    res = t.gdb(r'''
ex("handle SIGUSR1 nostop noprint pass")
matches(r"SIGUSR1\s+No\s+No\s+Yes", ex("info signals SIGUSR1"), "info signals shows it")
ex("break after_signals")
out = ex("continue")
check("SIGUSR1" not in out, "nostop noprint: no report", out)
at("after_signals", what="runs through both signals")
eq(val("g_usr1_count"), 2, "both signals passed to the handler")
''', port=srv.port, prog=t.prog("signals"), pre=["set debug remote 1"])
    # nostop+pass signals go to the server as QPassSignals so it can
    # deliver them without a round trip (SIGUSR1 = 0x1e in gdb's numbering)
    m = re.findall(r"Sending packet: \$QPassSignals:([0-9a-f;]*)#", res.stderr)
    t.check(bool(m) and "1e" in m[-1].split(";"), "QPassSignals lists SIGUSR1",
            m[-1:] if m else "none sent")
    stops = re.findall(r"Packet received: (T1e[^\n]*)", res.stderr)
    t.check(not stops, "server did not report the passed SIGUSR1", stops[:2])


def test_sigsegv_siginfo(t):
    srv = t.start_server(t.prog("signals"), "crash", options=["--once"])
    t.gdb(r'''
ex("handle SIGUSR1 nostop noprint pass")
out = ex("continue")
contains(out, "Program received signal SIGSEGV, Segmentation fault.", "SIGSEGV reported")
at("main", "segv", "faulting line")
eq(val("$_siginfo.si_signo"), 11, "si_signo SIGSEGV")
eq(val("$_siginfo._sifields._sigfault.si_addr"), 0x10, "si_addr is the bad address")
eq(val("$_siginfo.si_code"), 1, "si_code SEGV_MAPERR")
# write siginfo back (qXfer:siginfo:write) and read it again
ex("set var $_siginfo._sifields._sigfault.si_addr = 0x20")
eq(val("$_siginfo._sifields._sigfault.si_addr"), 0x20, "siginfo write round-trips")
out = ex("continue")
contains(out, "Program terminated with signal SIGSEGV, Segmentation fault.", "delivered: process dies")
''', port=srv.port, prog=t.prog("signals"))


def test_signal_injected_by_gdb(t):
    """`signal SIGUSR1` from gdb (vCont;C1e) runs the handler;
    `queue-signal` too."""
    srv = t.start_server(t.prog("signals"), options=["--once"])
    t.gdb(r'''
ex("break after_signals")
ex("handle SIGUSR1 nostop noprint pass")
ex("continue")
eq(val("g_usr1_count"), 2, "two raised signals handled")
ex("break on_usr1")
out = ex("signal SIGUSR1")
at("on_usr1", what="gdb-injected SIGUSR1 reaches the handler")
ex("finish")
eq(val("g_usr1_count"), 3, "handler counted the injected signal")
''', port=srv.port, prog=t.prog("signals"))


def test_signal_passed_while_another_stop_waits(t):
    """All-stop: gdb passes a thread's signal (vCont;C) while another
    thread's stop already waits in the server; that stop is reported
    instead of resuming anyone, and the signal is delivered at the
    thread's next resume (gdbserver queues it too), not dropped."""
    prog = t.prog("pendingsig")
    srv = t.start_server(prog, options=["--once"])
    t.gdb(r'''
ex("break ready")
ex("continue")
ex("set scheduler-locking on")
ex("break sent")
ex("continue")
eq(func(), "sent", "main alone queued a signal for each stopped waiter")
ex("set scheduler-locking off")
ex("delete")
first = ex("continue")
m1 = re.search(r"received signal (SIGUSR[12])", first)
check(m1 is not None, "one waiter reports its signal", first[-300:])
second = ex("continue")
m2 = re.search(r"received signal (SIGUSR[12])", second)
check(m2 is not None and m1 is not None and m2.group(1) != m1.group(1),
      "the other waiter's stop, which waited in the server, comes next", second[-300:])
out = ex("continue")
contains(out, "exited with code 03", "both handlers ran: the first signal was not lost")
''', port=srv.port, prog=prog, timeout_s=30)


# `signal SIGUSR1` while the thread blocks it, with SIGUSR1 "nopass": the
# kernel queues the delivered signal again and stops the thread with it
# once unblocked; that is gdb's own signal arriving, not news, and the
# handler runs once.
def test_signal_command_while_blocked(t):
    srv = t.start_server(t.prog("blocksig"), options=["--once"])
    t.gdb(r'''
ex("break blocked_here")
ex("continue")
ex("handle SIGUSR1 stop print nopass")
out = ex("signal SIGUSR1")
check("received signal SIGUSR1" not in out, "gdb's signal does not come back as a stop", out[-300:])
contains(out, "exited normally", "the program runs to its end")
''', port=srv.port, prog=t.prog("blocksig"), timeout_s=60)
    t.check(srv.stdout.wait_line(r"blocksig handled 1", 10) is not None,
            "the handler ran once")
