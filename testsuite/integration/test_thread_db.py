# libthread_db support: gdb's thread handles (handle="" in qXfer:threads,
# the pthread_t) and __thread variables (qGetTLSAddr), after the server
# asked gdb for libthread_db's symbols with qSymbol requests. Without the
# library everything else keeps working.
import re

from harness import ARCH, RSP, Skip, TARGET

# stack pointer in T replies: (register number, bytes)
SP_REG = {"x86_64": (7, 8), "aarch64": (31, 8), "arm": (13, 4)}[ARCH]


def stop_sp(reply):
    m = re.search(rb"(?:^T..|;)%02x:([0-9a-f]{%d});" % (SP_REG[0], 2 * SP_REG[1]),
                  reply)
    return int.from_bytes(bytes.fromhex(m.group(1).decode()), "little") if m else None

LIB_DIRS = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"]


def target_has_libthread_db():
    for top in LIB_DIRS:
        try:
            names = TARGET.listdir(top)
        except OSError:
            continue
        if "libthread_db.so.1" in names:
            return True
        for sub in names:
            if "-linux-gnu" in sub and \
                    TARGET.exists("%s/%s/libthread_db.so.1" % (top, sub)):
                return True
    return False


def test_tls_and_thread_handles(t):
    if not target_has_libthread_db():
        raise Skip("no libthread_db.so.1 where the server runs "
                   "(test_without_libthread_db covers that case)")
    srv = t.start_server(t.prog("tls"), options=["--once"])
    t.gdb(r'''
ex("break all_set")
ex("continue")
eq(func(), "all_set", "main thread reaches all_set")
threads = gdb.selected_inferior().threads()
names = sorted(th.name for th in threads)
eq(names, ["tls", "tls-worker-1", "tls-worker-2"], "thread names unchanged")
psize = val("sizeof(pthread_t)")
for th in sorted(threads, key=lambda th: th.num):
    th.switch()
    m = re.match(r"tls-worker-(\d)$", th.name)
    index = int(m.group(1)) if m else 0
    eq(val("tls_var"), 100 * index if index else 42,
       "%s: print tls_var (its own __thread value)" % th.name)
    eq(val("tls_zero"), -index, "%s: print tls_zero (.tbss)" % th.name)
    handle = th.handle()
    check(handle is not None, "%s has a thread handle" % th.name)
    if handle is None:
        continue
    eq(len(handle), psize, "%s: handle is sizeof(pthread_t) bytes" % th.name)
    eq(int.from_bytes(handle, "little"), val("g_self[%d]" % index),
       "%s: handle is the pthread_self() it stored" % th.name)
    found = gdb.selected_inferior().thread_from_handle(
        gdb.parse_and_eval("g_self[%d]" % index))
    eq(found.num if found else None, th.num,
       "%s: thread_from_handle(g_self[%d]) finds it" % (th.name, index))
addrs = set()
for th in threads:
    th.switch()
    addrs.add(val("(unsigned long)&tls_var"))
eq(len(addrs), 3, "&tls_var differs in each thread")
ex("thread 1")
out = ex("continue")
contains(out, "exited normally", "program runs to its end")
''', port=srv.port, prog=t.prog("tls"))


def test_without_libthread_db(t):
    """gdbserver's `monitor set libthread-db-search-path` to a directory
    without the library (as on a system that lacks it), before libc loads:
    threads as before, no handles, TLS reads fail with gdbserver's error."""
    srv = t.start_server(t.prog("tls"), options=["--once"])
    t.gdb(r'''
out = gdb.execute("monitor set libthread-db-search-path /nonexistent", to_string=True)
contains(out, "libthread-db-search-path set to `/nonexistent'", "monitor command answers")
ex("break all_set")
ex("continue")
eq(func(), "all_set", "main thread reaches all_set")
threads = gdb.selected_inferior().threads()
eq(sorted(th.name for th in threads), ["tls", "tls-worker-1", "tls-worker-2"],
   "threads and their names still listed")
def handle_or_error(th):
    try:
        return th.handle()
    except RuntimeError as e:
        return str(e)
eq([handle_or_error(th) for th in threads], ["Thread handle not found."] * 3,
   "no thread handles")
err = ex_error("print tls_var")
contains(err, "Remote target failed to process qGetTLSAddr request",
         "print tls_var: the server's E01, as gdbserver's")
eq(val("g_self[0] != 0"), 1, "ordinary globals still readable")
out = ex("continue")
contains(out, "exited normally", "program runs to its end")
''', port=srv.port, prog=t.prog("tls"))


def answer_symbols(rsp, first_reply, during=None):
    """Play gdb's side of a qSymbol exchange, knowing no symbol: returns the
    names asked and the final reply. DURING(rsp) runs after the first
    request, while the server waits for the answer."""
    names, reply = [], first_reply
    while reply.startswith(b"qSymbol:") and len(names) < 1000:
        name = bytes.fromhex(reply[8:].decode()).decode()
        names.append(name)
        if during and len(names) == 1:
            during(rsp)
        reply = rsp.command("qSymbol::" + reply[8:].decode())
    return names, reply


def test_qsymbol_exchange_raw(t):
    """Before libc is loaded: the server asks for symbols (libthread_db's
    version symbol), serves a memory read in the middle, ends with OK;
    qGetTLSAddr is then an error (no agent yet) and threads have no handle."""
    if not target_has_libthread_db():
        raise Skip("no libthread_db.so.1 where the server runs")
    srv = t.start_server(t.prog("tls"), options=["--once"])
    rsp = RSP(srv.port)
    rsp.command("qSupported:multiprocess+")
    stop = rsp.command("?")
    sp = stop_sp(stop)
    t.check(sp is not None, "stop reply has the stack pointer", stop[:80])
    before = rsp.command("m%x,8" % sp)
    seen = {}

    def read_memory(rsp):
        seen["m"] = rsp.command("m%x,8" % sp)

    names, final = answer_symbols(rsp, rsp.command("qSymbol::"), read_memory)
    t.check(len(names) >= 1, "server asked gdb for at least one symbol", names)
    t.check(all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in names),
            "asked names are symbol names", names[:5])
    t.eq(final, b"OK", "exchange ends with OK")
    t.eq(seen.get("m"), before, "m packet answered in the middle of the exchange")
    m = re.search(rb"thread:p([0-9a-f]+)\.([0-9a-f]+);", stop)
    t.check(m is not None, "stop reply names the thread", stop[:80])
    ptid = "p%s.%s" % (m.group(1).decode(), m.group(2).decode()) if m else "p1.1"
    t.eq(rsp.command("qGetTLSAddr:%s,0,0" % ptid), b"E01",
         "qGetTLSAddr before libthread_db works: E01")
    threads = rsp.command("qXfer:threads:read::0,fff")
    t.check(threads.startswith(b"l") and b"<thread id=" in threads,
            "qXfer:threads lists the thread", threads[:80])
    t.check(b"handle=" not in threads, "no handle before libc is set up",
            threads[:200])
    # gdb asks again after each library load: again a clean exchange
    names2, final2 = answer_symbols(rsp, rsp.command("qSymbol::"))
    t.eq(final2, b"OK", "second exchange ends with OK")
    t.check(len(names2) >= 1, "second exchange asks again (not cached as "
            "absent)", names2)
    if t.kind != "gnu":     # gdbserver --once ends the session here
        t.eq(rsp.command("qGetTLSAddr:%s,zz" % ptid), b"E01",
             "malformed qGetTLSAddr: E01")
        for bad in ["", "%s,0" % ptid, "%s,0,0,0" % ptid, "%s,,0" % ptid,
                    "-1,0,0", "0,0,0", "p7fffffff.7fffffff,0,0"]:
            t.eq(rsp.command("qGetTLSAddr:" + bad), b"E01",
                 "qGetTLSAddr:%s (malformed or no such thread): E01" % bad)
    reply = rsp.command("?")
    t.check(reply.startswith(b"T05"), "server still answers '?'", reply[:40])
    rsp.close()
