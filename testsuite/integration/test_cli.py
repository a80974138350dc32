# Command line and start-up lines (tools wait for gdbserver's exact text),
# busy ports, stdio connection, and csgdbserver's exact-host binding.
import os
import re
import socket

from harness import csgdbserver_only, proc_state, wait_for


def listening_addresses(t, pid):
    """Local addresses (ip, port) of the TCP sockets PID listens on."""
    inodes = set()
    for fd in t.target.listdir("/proc/%d/fd" % pid):
        try:
            link = t.target.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            inodes.add(m.group(1))
    found = []
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        try:
            lines = t.target.read_text(table).splitlines()[1:]
        except OSError:
            continue
        for text in lines:
            f = text.split()
            if f[3] != "0A" or f[9] not in inodes:     # 0A = LISTEN
                continue
            hexip, hexport = f[1].split(":")
            raw = bytes.fromhex(hexip)
            if v6:
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                ip = socket.inet_ntop(socket.AF_INET6, raw)
            else:
                ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
            found.append((ip, int(hexport, 16)))
    return found


def test_startup_lines(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    err = srv.stderr.lines
    t.check(re.fullmatch(r"Process %s created; pid = \d+" %
                         re.escape(t.prog("basic")), err[0]) is not None,
            "first line 'Process PROG created; pid = N'", err[:1])
    t.check(any(l == "Listening on port %d" % srv.guest_port for l in err),
            "'Listening on port N'", err)
    pid = srv.inferior_pid
    t.eq(proc_state(pid), "t", "created process waits stopped (traced)")
    t.check("TracerPid:\t%d" % srv.pid in
            t.target.read_text("/proc/%d/status" % pid), "traced by the server")
    t.gdb('ex("kill")', port=srv.port, prog=t.prog("basic"))
    line = "Remote debugging from host %s, port " % t.client_addr
    t.check(wait_for(lambda: any(l.startswith(line) for l in
                                 srv.stderr.lines), 2),
            "'%sN'" % line, srv.stderr.text())


def test_busy_port(t):
    port, unblock = t.busy_port()
    srv = t.start_server(t.prog("basic"), options=["--once"],
                         comm=":%d" % port, wait_listen=False)
    rc = srv.wait_exit(10)
    t.check(rc is not None and rc != 0, "server exits with failure", rc)
    srv.stderr.wait_closed(2)
    lines = srv.stderr.lines
    t.check("Can't bind address: Address already in use." in lines,
            "exact line for the test tools", lines)
    m = re.search(r"pid = (\d+)", srv.stderr.text())
    if m:
        t.check(wait_for(lambda: proc_state(int(m.group(1))) is None, 3),
                "the created process does not outlive the failed start")
    unblock()


def test_version_help(t):
    out = t.run([t.server_path, "--version"])
    t.eq(out.returncode, 0, "--version exits 0")
    t.check(out.stdout.strip() != "", "--version prints a version")
    out = t.run([t.server_path, "--help"])
    t.eq(out.returncode, 0, "--help exits 0")
    for opt in ("--attach", "--multi", "--once"):
        t.check(opt in out.stdout, "--help mentions " + opt)
    out = t.run([t.server_path])
    t.check(out.returncode != 0, "no arguments: failure exit")
    t.check("Usage" in out.stderr or "usage" in out.stderr,
            "no arguments: usage on stderr", out.stderr[:200])
    out = t.run([t.server_path, "--once", ":0", "/nonexistent/prog"])
    t.check(out.returncode != 0, "missing program: failure exit", out.stderr)


def test_stdio_connection(t):
    """COMM '-': gdb starts the server itself over a pipe."""
    res = t.gdb(r'''
ex("target remote | %s")
ex("break add")
out = ex("continue")
at("add", "add-body", "breakpoint over the stdio connection")
ex("delete")
out = ex("continue")
contains(out, "exited normally", "program exits")
''' % t.server_pipe(t.prog("basic")), connect=False, prog=t.prog("basic"))


@csgdbserver_only
def test_host_port_binds_exactly(t):
    srv = t.start_server(t.prog("basic"), options=["--once"],
                         comm="127.0.0.2:{port}")
    addrs = listening_addresses(t, srv.pid)
    t.eq(addrs, [("127.0.0.2", srv.guest_port)], "HOST:PORT listens on that host only")
    if t.target.remote:
        refused = not t.target.g.connects("127.0.0.1", srv.guest_port)
    else:
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()
            refused = False
        except OSError:
            refused = True
    t.check(refused, "other local address refused")


@csgdbserver_only
def test_port_only_is_loopback(t):
    srv = t.start_server(t.prog("basic"), options=["--once"], comm=":{port}")
    addrs = listening_addresses(t, srv.pid)
    t.check(addrs and all(ip in ("127.0.0.1", "::1") for ip, _ in addrs),
            ":PORT listens on loopback only", addrs)
    # the note may follow the "Listening on port" line
    srv.stderr.wait_line(r"0\.0\.0\.0:|HOST:PORT", 2)
    text = srv.stderr.text()
    t.check(re.search(r"loopback|127\.0\.0\.1|localhost|this host only", text, re.I),
            "start-up lines say it is loopback only", text)
    t.check(re.search(r"0\.0\.0\.0:|HOST:PORT", text),
            "and how to accept other hosts", text)
test_stdio_connection.weight = 5  # slow: gdb waits for the piped server


@csgdbserver_only
def test_debug_file_takes_only_debug_output(t):
    """--debug-file gets the packet log; the start-up lines and the
    connection line stay on stderr, where tools wait for them."""
    path = "/tmp/csg-debug-file-%d.log" % os.getpid()
    srv = t.start_server(t.prog("basic"), options=["--once", "--remote-debug",
                                                   "--debug-file=" + path])
    t.check(any(l == "Listening on port %d" % srv.guest_port for l in srv.stderr.lines),
            "'Listening on port N' still on stderr", srv.stderr.text())
    t.gdb('ex("kill")', port=srv.port, prog=t.prog("basic"))
    srv.wait_exit(5)
    log = t.target.read_text(path)
    t.target.run(["rm", "-f", path])
    t.check('getpkt ("qSupported' in log, "the packet log is in the debug file", log[:300])
    t.check(not any(l.startswith("getpkt") for l in srv.stderr.lines),
            "no packet log on stderr", srv.stderr.text()[:300])
