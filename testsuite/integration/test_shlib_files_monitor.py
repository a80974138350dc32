# Shared libraries (qXfer:libraries-svr4:read, pending breakpoints in a
# dlopen'ed library), vFile (sysroot target:, remote get/put/delete),
# monitor help / monitor exit.
import re
import os

from harness import proc_state, wait_for


def test_shlib_breakpoints(t):
    srv = t.start_server(t.prog("shlib"), options=["--once"])
    t.gdb(r'''
ex("set breakpoint pending on")
out = ex("break cbrt")
out = ex("continue")
# glibc names the same code cbrt/__cbrt (x86_64), cbrtf64 (aarch64) or
# cbrtl (arm: long double is double)
check(func() in ("__cbrt", "cbrt", "cbrtf64", "cbrtf32x", "cbrtl"), "stopped in libm's cbrt", func())
contains(out, "Breakpoint 1, ", "pending breakpoint resolved and hit")
ex("up")
at("main", "call-cbrt", "called from main at the cbrt line")
out = ex("info sharedlibrary")
libdir, ldso = {"x86_64": ("/lib/x86_64-linux-gnu", "/lib64/ld-linux-x86-64.so.2"),
                "aarch64": ("/lib/aarch64-linux-gnu", "/lib/ld-linux-aarch64.so.1"),
                "arm": ("/lib/arm-linux-gnueabihf", "/lib/ld-linux-armhf.so.3")}[ARCH]
matches(r"0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes( \(\*\))?\s+target:%s/libm\.so\.6" % libdir, out,
        "libm listed, read through the target: sysroot")
matches(r"target:%s/libc\.so\.6" % libdir, out, "libc listed")
matches(r"target:%s" % re.escape(ldso), out, "dynamic linker listed")
ex("break getpid")
out = ex("continue")
check(func() in ("getpid", "__GI_getpid"), "libc breakpoint hit", func())
ex("up")
at("main", "call-getpid", "called from main")
ex("down")
out = ex("finish")
retreg = {"x86_64": "$rax", "aarch64": "$x0", "arm": "$r0"}[ARCH]
eq(val(retreg), inferior_pid(), "getpid returned the pid (%s after finish)" % retreg)
ex("delete")
out = ex("continue")
contains(out, "exited normally", "runs to the end")
''', port=srv.port, prog=t.prog("shlib"), system_debug_info=True)
    t.check(srv.stdout.wait_line(re.escape("cbrt=3 pid="), 5) is not None, "program output",
            srv.stdout.text()[-200:])


def test_solib_events(t):
    """stop-on-solib-events: each library change reported, the dlopen'ed
    libm appears only after dlopen."""
    srv = t.start_server(t.prog("shlib"), options=["--once"])
    t.gdb(r'''
ex("break main")
ex("continue")
check("libm.so" not in ex("info sharedlibrary"), "libm not loaded before dlopen")
ex("set stop-on-solib-events 1")
out = ex("continue")
contains(out, "Stopped due to shared library event", "solib event stop")
seen = out
for _ in range(3):
    if "libm.so.6" in seen:
        break
    seen += ex("continue")
contains(seen, "libm.so.6", "dlopen of libm reported as a library event")
contains(ex("info sharedlibrary"), "libm.so.6", "libm now listed")
''', port=srv.port, prog=t.prog("shlib"))


def test_vfile_remote_get_put(t):
    srv = t.start_server(t.prog("basic"), options=["--once"])
    local = os.path.join(t.tmp, "copy-of-passwd")
    # remote: where the server runs (this host's t.tmp, or the guest's /tmp)
    remote = "/tmp/%s-put-by-gdb" % os.path.basename(t.tmp) \
        if t.target.remote else os.path.join(t.tmp, "put-by-gdb")
    res = t.gdb(r'''
ex("remote get /etc/passwd %s")
eq(open("%s", "rb").read(), target_read_bytes("/etc/passwd"), "remote get copies the file exactly")
ex("remote put %s %s")
eq(target_read_bytes("%s"), open("%s", "rb").read(), "remote put writes the file exactly")
ex("remote delete %s")
check(not target_exists("%s"), "remote delete removes it")
err = ex_error("remote get /nonexistent/file %s.x")
contains(err.lower(), "no such file", "missing remote file: ENOENT reported")
''' % (local, local, local, remote, remote, local, remote, remote, local),
                port=srv.port, prog=t.prog("basic"), pre=["set debug remote 1"])
    t.check("vFile:open:" in res.stderr and "vFile:pread:" in res.stderr and
            "vFile:pwrite:" in res.stderr and "vFile:unlink:" in res.stderr,
            "vFile open/pread/pwrite/unlink used")


def test_monitor_help_and_exit(t):
    srv = t.start_server(t.prog("spin"), "sleep", "20", options=["--once"])
    pid = srv.inferior_pid
    t.gdb(r'''
out = gdb.execute("monitor help", to_string=True)  # O packets: gdb_stdtarg
check(len(out.strip().splitlines()) >= 3, "monitor help lists commands", out)
contains(out, "exit", "monitor help mentions exit")
try:
    out = gdb.execute("monitor no-such-command-xyz", to_string=True)
except gdb.error as e:      # gdbserver: console text, then an E reply
    out = "error: unknown (%s)" % e
contains(out.lower(), "unknown", "unknown monitor command reported")
try:
    ex("monitor exit")
except gdb.error:
    pass
''', port=srv.port, prog=t.prog("spin"))
    t.check(srv.wait_exit(5) is not None, "monitor exit ends the server")
    t.check(wait_for(lambda: proc_state(pid) is None, 3),
            "the started inferior is killed with the server")
