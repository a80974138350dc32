# A network daemon that runs programs: who may connect (--allow) and what
# a client may make the server run (--no-run).
import re
import socket
import time

from harness import RSP, TIME_SCALE, Skip, csgdbserver_only, proc_state, wait_for

# Every address the server may bind and be reached through (host: the test
# connects from 127.0.0.1; guest: QEMU forwards from 10.0.2.2).
ANY = "0.0.0.0:{port}"


def peer_closed_at_once(port):
    """Connect and send a packet: True if the server closes the connection
    without a byte of reply."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5 * TIME_SCALE)
    sock.settimeout(5 * TIME_SCALE)
    try:
        sock.sendall(b"$qSupported#37")
        data = sock.recv(100)
    except ConnectionResetError:
        data = b""
    finally:
        sock.close()
    return data == b""


def other_network(addr):
    """A /24 that does not hold ADDR."""
    return "192.0.2.0/24" if not addr.startswith("192.0.2.") else "198.51.100.0/24"


@csgdbserver_only
def test_allow_refuses_other_peers(t):
    srv = t.start_server(t.prog("basic"), comm=ANY,
                         options=["--once", "--allow", other_network(t.client_addr),
                                  "--allow", "2001:db8::/32"])
    t.check(srv.stderr.wait_line(r"^csgdbserver: accepting connections only from "
                                 r"192\.0\.2\.0/24 2001:db8::/32$", 2),
            "start-up line lists the --allow rules", srv.stderr.text())
    t.check(peer_closed_at_once(srv.port), "connection from %s closed at once" % t.client_addr)
    m = srv.stderr.wait_line(r"^csgdbserver: refused connection from host (\S+), port (\d+): "
                             r"not in the --allow list$", 3)
    t.check(m is not None, "log line names the refused peer", srv.stderr.text())
    if m:
        t.eq(m.group(1), t.client_addr, "the refused peer's address")
    t.check(not any(l.startswith("Remote debugging from host") for l in srv.stderr.lines),
            "no session was started for it", srv.stderr.text())
    # --once counts sessions, not refusals: the server still waits.
    t.check(srv.alive(), "server still listening after a refusal")
    t.check(peer_closed_at_once(srv.port), "a second attempt is refused too")
    t.check(wait_for(lambda: len(re.findall(r"refused connection from host",
                                            srv.stderr.text())) == 2, 3),
            "one log line per refused connection", srv.stderr.text())
    # gdb itself cannot get in.
    res = t.gdb(r'''
err = ex_error("target remote 127.0.0.1:%d")
check(err != "", "gdb's target remote fails", err)
''' % srv.port, connect=False, prog=t.prog("basic"))
    t.check(srv.alive(), "server still alive after gdb's refused attempt")


@csgdbserver_only
def test_allow_admits_listed_network(t):
    net = ".".join(t.client_addr.split(".")[:3]) + ".0/24"
    srv = t.start_server(t.prog("basic"), comm=ANY,
                         options=["--once", "--allow", "192.0.2.1", "--allow=" + net])
    t.gdb(r'''
ex("break add")
ex("continue")
at("add", "add-body", "a client inside --allow debugs normally")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "program runs to its end")
''', port=srv.port, prog=t.prog("basic"))
    t.check(any(l.startswith("Remote debugging from host %s, port " % t.client_addr)
                for l in srv.stderr.lines), "the session's peer is logged", srv.stderr.text())
    t.check("refused connection" not in srv.stderr.text(), "nothing refused")


@csgdbserver_only
def test_unrestricted_bind_says_so(t):
    srv = t.start_server(t.prog("basic"), comm=ANY, options=["--once"])
    t.check(srv.stderr.wait_line(r"any host that reaches 0\.0\.0\.0:\d+ may connect; "
                                 r"--allow HOST\[/MASK\] restricts who", 2),
            "start-up line warns about an open non-loopback bind", srv.stderr.text())
    srv.proc.kill()
    loop = t.start_server(t.prog("basic"), comm="127.0.0.1:{port}", options=["--once"])
    time.sleep(0.2)
    t.check("any host that reaches" not in loop.stderr.text(),
            "no warning for a loopback bind", loop.stderr.text())


@csgdbserver_only
def test_allow_syntax_errors(t):
    cases = [
        (["--allow", "10.0.0.0/33"], "--allow 10.0.0.0/33: the mask of an IPv4 address is 0 to 32 bits"),
        (["--allow", "fe80::/200"], "--allow fe80::/200: the mask of an IPv6 address is 0 to 128 bits"),
        (["--allow", "10.0.0.1/"], "--allow 10.0.0.1/: missing mask after '/'"),
        (["--allow", "1.2.3.400"], "--allow 1.2.3.400: not an IPv4 or IPv6 address"),
        (["--allow=no-such-host.invalid"], "--allow no-such-host.invalid: cannot resolve name: "),
        (["--allow"], "--allow: missing HOST[/MASK]"),
    ]
    for opts, message in cases:
        argv = [t.server_path] + opts + (["--once", ":0", t.prog("basic")] if opts != ["--allow"] else [])
        out = t.run(argv)
        t.eq(out.returncode, 1, "%s: exit status 1" % " ".join(opts))
        t.check(out.stderr.startswith(message), "%s: clear message" % " ".join(opts), out.stderr)
        t.check("Process" not in out.stderr and "Listening" not in out.stderr,
                "%s: refused before starting anything" % " ".join(opts), out.stderr)
    out = t.run([t.server_path, "--allow", "127.0.0.1", "-", t.prog("basic")])
    t.eq(out.returncode, 1, "--allow with stdio: exit status 1")
    t.check("--allow applies to TCP connections" in out.stderr, "--allow with stdio: why", out.stderr)
    out = t.run([t.server_path, "--multi", ":0", "--allow", "127.0.0.1"])
    t.eq(out.returncode, 1, "--allow after COMM: exit status 1")
    t.check(out.stderr.startswith("--allow after COMM: options go before COMM"),
            "--allow after COMM: said, not run as a program", out.stderr[:200])
    out = t.run([t.server_path, "--help"])
    t.check("--allow HOST[/MASK]" in out.stdout and "--no-run" in out.stdout,
            "--help lists --allow and --no-run")


@csgdbserver_only
def test_no_run_refuses_vrun(t):
    srv = t.start_server(options=["--multi", "--no-run"], comm=ANY)
    prog = t.prog("basic")
    t.gdb(r'''
ex("set remote exec-file %s")
err = ex_error("run")
eq(err, 'Running "%s" on the remote target failed', "run is refused (gdb's words)")
''' % (prog, prog), port=srv.port, extended=True, prog=prog)
    t.check(srv.stderr.wait_line(r"^csgdbserver: refused vRun \(running a program\): --no-run$", 2),
            "server logs the refused vRun", srv.stderr.text())
    t.check(not re.search(r"Process .* created", srv.stderr.text()), "no process created")

    # The raw packets: the reply gdb gets, R dropped, vFile writes refused,
    # reads and the rest of the session unaffected.
    r = RSP(srv.port)
    try:
        t.eq(r.command("QStartNoAckMode"), b"OK", "session starts")
        r.noack = True
        r.send_raw(RSP.frame("!"))
        t.eq(r.read_packet(ack=False), b"OK", "extended mode")
        r.send_raw(RSP.frame("vRun;" + prog.encode().hex()))
        t.eq(r.read_packet(ack=False),
             b"E.Running programs is disabled on this server (--no-run).", "vRun's E reply")
        r.send_raw(RSP.frame("vRun;"))
        t.check(r.read_packet(ack=False).startswith(b"E.Running programs is disabled"),
                "an empty vRun (rerun the last program) too")
        r.send_raw(RSP.frame("R00"))
        r.send_raw(RSP.frame("vMustReplyEmpty"))
        t.eq(r.read_packet(ack=False), b"", "R has no reply (the next reply is the next packet's)")
        t.check(srv.stderr.wait_line(r"refused R \(restarting the program\): --no-run", 2),
                "server logs the refused R", srv.stderr.text())
        path = ("/tmp/csg-no-run-%d" % srv.pid).encode().hex()
        r.send_raw(RSP.frame("vFile:open:%s,602,1ed" % path))     # CREAT|TRUNC|RDWR, 0755
        t.eq(r.read_packet(ack=False), b"F-1,d", "vFile:open for writing: EACCES")
        t.check(not t.target.exists("/tmp/csg-no-run-%d" % srv.pid), "no file was created")
        r.send_raw(RSP.frame("vFile:unlink:%s" % path))
        t.eq(r.read_packet(ack=False), b"F-1,d", "vFile:unlink: EACCES")
        r.send_raw(RSP.frame("vFile:open:%s,0,0" % prog.encode().hex()))
        reply = r.read_packet(ack=False)
        t.check(re.fullmatch(rb"F[0-9a-f]+", reply) is not None, "vFile:open read-only works", reply)
        t.check(srv.stderr.wait_line(r"refused vFile:open for writing: --no-run", 2),
                "server logs the refused write", srv.stderr.text())
        # Other spellings reach the same handlers (the dispatcher matches
        # prefixes): each is refused there, none starts a program.
        for spelling in ("vRunx", "vRun;;", "vRun;" + prog.encode().hex() + ";", "vRun" + "0" * 64):
            r.send_raw(RSP.frame(spelling))
            t.check(r.read_packet(ack=False).startswith(b"E.Running programs is disabled"),
                    "%s refused" % spelling[:20])
        for spelling in ("R", "Rzz", "R;00", "R" + "f" * 40):
            r.send_raw(RSP.frame(spelling))
            r.send_raw(RSP.frame("vMustReplyEmpty"))
            t.eq(r.read_packet(ack=False), b"", "%s has no reply" % spelling[:20])
        r.send_raw(RSP.frame("vFile:pwrite:0,0,41"))
        t.eq(r.read_packet(ack=False), b"F-1,d", "vFile:pwrite: EACCES")
        r.send_raw(RSP.frame("vFile:open:%s,zz,0" % path))
        t.eq(r.read_packet(ack=False), b"F-1,d", "vFile:open with unparsable flags: EACCES")
        t.check(not t.target.exists("/tmp/csg-no-run-%d" % srv.pid), "still no file")
    finally:
        r.close()
    t.check(srv.alive(), "server still serving")
    t.check(not re.search(r"Process .* created", srv.stderr.text()),
            "no process created by any spelling", srv.stderr.text())


@csgdbserver_only
def test_no_run_still_attaches(t):
    """--no-run keeps the debugger: attaching to a process the owner
    started works."""
    srv = t.start_server(options=["--multi", "--no-run"], comm=ANY)
    victim = t.spawn([t.prog("spin"), "sleep", "20"])
    pid = victim.pid
    wait_for(lambda: proc_state(pid) in ("S", "R"), 2)
    t.gdb(r'''
ex("attach %d")
eq(inferior_pid(), %d, "attach works under --no-run")
check(pc() != 0, "the attached process has registers (a pc)", pc())
ex("detach")
''' % (pid, pid), port=srv.port, extended=True, prog=t.prog("spin"))


@csgdbserver_only
def test_allow_ipv6(t):
    """IPv6 rules match IPv6 peers only; an IPv4 rule never admits them."""
    if t.target.remote:
        raise Skip("QEMU forwards IPv4 only")
    if not socket.has_ipv6:
        raise Skip("no IPv6 on this host")
    for rules, admitted in ((["--allow", "127.0.0.1"], False),
                            (["--allow", "::1/128"], True),
                            (["--allow", "[::1]"], True),
                            (["--allow", "fe80::/10"], False)):
        srv = t.start_server(t.prog("basic"), comm="[::1]:{port}", options=["--once"] + rules)
        sock = socket.create_connection(("::1", srv.port), timeout=5 * TIME_SCALE)
        sock.settimeout(5 * TIME_SCALE)
        try:
            sock.sendall(b"$?#3f")
            data = sock.recv(100)
        except ConnectionResetError:
            data = b""
        sock.close()
        label = " ".join(rules)
        t.eq(data != b"", admitted, "%s: ::1 %s" % (label, "admitted" if admitted else "refused"))
        if not admitted:
            t.check(srv.stderr.wait_line(r"refused connection from host ::1, port \d+", 2),
                    "%s: refusal logged with the IPv6 address" % label, srv.stderr.text())
        srv.proc.kill()
