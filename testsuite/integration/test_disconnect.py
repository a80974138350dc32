# A client that vanishes (gdb SIGKILLed) must leave no stopped or orphaned
# process: what the server started is killed, what it attached is detached
# and keeps running; with --multi the next client can connect at once.
import signal
import time

from harness import (csgdbserver_only, proc_state, proc_status, tracer_of,
                     wait_for)

KILL_GDB_WHILE_RUNNING = r'''
report("pid", inferior_pid())
ex("break spin_tick")
ex("continue")
ex("delete")
report("stopped_ok", True)
# gdb dies while the inferior runs; nothing after this line executes
after(0.3, lambda: os.kill(os.getpid(), 9))
ex("continue")
'''

KILL_GDB_WHILE_STOPPED = r'''
report("pid", inferior_pid())
ex("break spin_tick")
ex("continue")
at("spin_tick", what="stopped at spin_tick")
os.kill(os.getpid(), 9)
'''


def ppid_of(pid):
    st = proc_status(pid)
    return int(st["PPid"]) if st else None


def test_gdb_killed_while_stopped(t):
    srv = t.start_server(t.prog("spin"), "sleep", "20", options=["--once"])
    res = t.gdb(KILL_GDB_WHILE_STOPPED, port=srv.port, prog=t.prog("spin"),
                expect_ok=False)
    pid = res.values.get("pid")
    t.eq(pid, srv.inferior_pid, "gdb saw the created process")
    t.check(res.rc == -signal.SIGKILL, "gdb was killed", res.rc)
    t.check(wait_for(lambda: proc_state(pid) is None, 5),
            "started inferior killed after the client vanished",
            proc_status(pid))
    t.check(srv.wait_exit(5) is not None, "--once server exits")


def test_gdb_killed_while_running(t):
    """gdbserver only notices the lost client at the next stop (the spin
    program exits by itself after 2 s); until then the inferior must run,
    not sit stopped. csgdbserver reacts at once
    (test_gdb_killed_while_running_prompt)."""
    srv = t.start_server(t.prog("spin"), "sleep", "2", options=["--once"])
    start = time.monotonic()
    res = t.gdb(KILL_GDB_WHILE_RUNNING, port=srv.port, prog=t.prog("spin"),
                expect_ok=False)
    pid = res.values.get("pid")
    t.check(res.values.get("stopped_ok"), "inferior ran to spin_tick first")
    t.check(res.rc == -signal.SIGKILL, "gdb was killed", res.rc)
    state = proc_state(pid)
    t.check(state is None or state in "RSD",
            "inferior not left stopped after the client vanished", state)
    t.check(wait_for(lambda: proc_state(pid) is None, 6),
            "inferior gone by the time it would have stopped",
            proc_status(pid))
    t.check(srv.wait_exit(5) is not None, "--once server exits")
    t.log.write("inferior gone %.2fs after start\n" % (time.monotonic() - start))


@csgdbserver_only
def test_gdb_killed_while_running_prompt(t):
    srv = t.start_server(t.prog("spin"), "sleep", "30", options=["--once"])
    res = t.gdb(KILL_GDB_WHILE_RUNNING, port=srv.port, prog=t.prog("spin"),
                expect_ok=False)
    pid = res.values.get("pid")
    t.check(wait_for(lambda: proc_state(pid) is None, 2),
            "running inferior killed within 2 s of the client vanishing",
            proc_status(pid))
    t.check(srv.wait_exit(3) is not None, "--once server exits")


def start_attach_target(t, seconds="20"):
    p = t.spawn([t.prog("spin"), "sleep", seconds], stdout=None)
    wait_for(lambda: proc_state(p.pid) in ("S", "R"), 2)
    time.sleep(0.05)
    return p


def test_gdb_killed_attached_stopped(t):
    target = start_attach_target(t)
    srv = t.start_server(str(target.pid), options=["--once", "--attach"])
    t.eq(tracer_of(target.pid), srv.pid, "server traces the attached process")
    res = t.gdb(KILL_GDB_WHILE_STOPPED, port=srv.port, prog=t.prog("spin"),
                expect_ok=False)
    t.eq(res.values.get("pid"), target.pid, "gdb sees the attached pid")
    t.check(srv.wait_exit(5) is not None, "--once server exits")
    t.check(wait_for(lambda: tracer_of(target.pid) == 0, 3),
            "attached process detached", proc_status(target.pid))
    t.check(running_on(target.pid), "attached process keeps running",
            proc_status(target.pid))


def test_gdb_killed_attached_running(t):
    """The attached process must not be left stopped. GNU gdbserver only
    notices at the next stop, so here it just has to be running."""
    target = start_attach_target(t)
    srv = t.start_server(str(target.pid), options=["--once", "--attach"])
    res = t.gdb(KILL_GDB_WHILE_RUNNING, port=srv.port, prog=t.prog("spin"),
                expect_ok=False)
    t.check(res.values.get("stopped_ok"), "attached process ran to spin_tick")
    # a server that notices the lost client stops the process briefly to
    # detach it: allow that moment (long in an emulated guest)
    state = wait_for(lambda: proc_state(target.pid) in ("R", "S", "D"), 2)
    t.check(state, "attached process running, not stopped",
            proc_status(target.pid))


@csgdbserver_only
def test_gdb_killed_attached_running_prompt(t):
    target = start_attach_target(t)
    srv = t.start_server(str(target.pid), options=["--once", "--attach"])
    t.gdb(KILL_GDB_WHILE_RUNNING, port=srv.port, prog=t.prog("spin"),
          expect_ok=False)
    t.check(wait_for(lambda: tracer_of(target.pid) == 0, 2),
            "attached process detached within 2 s", proc_status(target.pid))
    t.check(running_on(target.pid), "and keeps running",
            proc_status(target.pid))
    t.check(srv.wait_exit(3) is not None, "--once server exits")


def running_on(pid):
    """Still alive, not stopped, and making progress (context switches)."""
    st = proc_status(pid)
    if not st or st["State"][0] not in "RSD":
        return False
    before = int(st["voluntary_ctxt_switches"])
    time.sleep(0.1)
    st = proc_status(pid)
    return bool(st) and st["State"][0] in "RSD" and \
        int(st["voluntary_ctxt_switches"]) > before


def test_multi_second_client(t):
    """--multi: gdb #1 runs a program, stops at a breakpoint and dies; gdb
    #2 connects right away and can run a new program."""
    srv = t.start_server(options=["--multi"])
    res = t.gdb(r'''
ex("set remote exec-file %s")
ex("break spin_tick")
ex("run sleep 20")
at("spin_tick", what="first client's program stopped")
report("pid", inferior_pid())
os.kill(os.getpid(), 9)
''' % t.prog("spin"), port=srv.port, prog=t.prog("spin"), extended=True,
                expect_ok=False)
    first = res.values.get("pid")
    t.check(first is not None, "first client ran the program")
    t.check(srv.alive(), "--multi server survives the lost client")
    start = time.monotonic()
    # GNU gdbserver keeps the first program stopped for the next client
    # (gdb then picks it up); `run` replaces it either way.
    t.gdb(r'''
ex("file %s")
ex("set remote exec-file %s")
ex("break add")
ex("run")
at("add", what="second client runs its own program")
ex("kill")
''' % (t.prog("basic"), t.prog("basic")), port=srv.port, extended=True,
          name="gdb2", timeout_s=10, pre=["set exec-file-mismatch off"])
    t.log.write("second client session took %.2fs\n" % (time.monotonic() - start))
    state = proc_state(first)
    t.check(state is None or (state in "RSD" and tracer_of(first) == 0),
            "first client's process not left stopped/traced", proc_status(first))
    t.check(srv.alive(), "--multi server still alive")


@csgdbserver_only
def test_multi_disconnect_leaves_nothing_stopped(t):
    """--multi: what the lost client started is killed at once (GNU
    gdbserver keeps it stopped for a later client)."""
    srv = t.start_server(options=["--multi"])
    res = t.gdb(r'''
ex("set remote exec-file %s")
ex("break spin_tick")
ex("run sleep 20")
report("pid", inferior_pid())
os.kill(os.getpid(), 9)
''' % t.prog("spin"), port=srv.port, prog=t.prog("spin"), extended=True,
                expect_ok=False)
    pid = res.values.get("pid")
    t.check(pid and wait_for(lambda: proc_state(pid) is None, 3),
            "started process killed when its --multi client vanished",
            proc_status(pid) if pid else "no pid")
    t.check(srv.alive(), "--multi server keeps listening")
    rsp_ok = wait_for(lambda: _connects(srv.port), 3)
    t.check(rsp_ok, "a new client connects and gets an answer")


def _connects(port):
    from harness import RSP
    try:
        rsp = RSP(port)
        reply = rsp.command("qSupported")
        rsp.close()
        return b"PacketSize" in reply
    except (OSError, EOFError):
        return False


@csgdbserver_only
def test_multi_client_lost_while_running(t):
    """--multi, client lost while its program runs: the next client is
    served at once (GNU gdbserver waits for the program's next stop)."""
    srv = t.start_server(options=["--multi"])
    res = t.gdb(r'''
ex("set remote exec-file %s")
ex("break spin_tick")
ex("run sleep 30")
ex("delete")
report("pid", inferior_pid())
after(0.3, lambda: os.kill(os.getpid(), 9))
ex("continue")
''' % t.prog("spin"), port=srv.port, prog=t.prog("spin"), extended=True,
                expect_ok=False)
    pid = res.values.get("pid")
    t.check(wait_for(lambda: _connects(srv.port), 2),
            "a new client is answered within 2 s")
    state = proc_state(pid) if pid else None
    t.check(state is None or state in "RSD",
            "lost client's program not left stopped", proc_status(pid))


@csgdbserver_only
def test_multi_survives_probes_and_resets(t):
    """--multi: a port probe (connect, close), a client that leaves
    without `!` or a program, and one that resets the connection each
    leave the server serving (GNU gdbserver does); clients that connect
    while another is served wait in the backlog and are served in turn."""
    import socket
    import struct
    srv = t.start_server(options=["--multi"])
    probe = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    probe.close()
    t.check(wait_for(lambda: _connects(srv.port), 2), "served after a port probe")
    reset = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    reset.sendall(b"$qSupported#37")
    time.sleep(0.2)
    reset.close()   # RST
    t.check(wait_for(lambda: _connects(srv.port), 2), "served after a reset")
    t.check(srv.alive(), "--multi server alive after probe, plain client and reset")
    from harness import RSP
    first = RSP(srv.port)
    t.check(b"PacketSize" in first.command("qSupported"), "first client served")
    waiting = []
    for k in range(4):
        try:
            waiting.append(socket.create_connection(("127.0.0.1", srv.port), timeout=3))
        except OSError as e:
            t.check(False, "client %d waits in the backlog" % (k + 2), e)
    t.eq(len(waiting), 4, "4 more clients connected while the first is served")
    first.close()
    served = 0
    for w in waiting:
        try:
            w.settimeout(5)
            w.sendall(b"$qSupported#37")
            data = b""
            while b"#" not in data:
                chunk = w.recv(4096)
                if not chunk:
                    break
                data += chunk
            served += b"PacketSize" in data
        except OSError:
            pass
        w.close()
    t.eq(served, 4, "each waiting client served in turn")
    t.check(srv.alive(), "--multi server still alive")
