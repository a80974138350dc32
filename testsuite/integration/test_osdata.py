# qXfer:osdata:read: gdb's `info os TYPE` tables (processes, threads, the
# type listing, an unknown type) show the live inferior.


def test_info_os_processes_and_threads(t):
    srv = t.start_server(t.prog("threads"), options=["--once"])
    t.gdb(r'''
ex("break all_started")
ex("continue")
pid = inferior_pid()
lwps = sorted(th.ptid[1] for th in gdb.selected_inferior().threads())
eq(len(lwps), 3, "three threads stopped at all_started")

types = ex("info os")
for name in ("processes", "procgroups", "threads", "files", "sockets", "shm",
             "semaphores", "msg", "modules", "cpus"):
    matches(r"(?m)^%s +Listing of " % name, types, "info os lists type %s" % name)

procs = ex("info os processes")
matches(r"(?m)^pid +user +command +cores", procs, "processes header")
m = matches(r"(?m)^%d +\S+ +(\S*threads)\b.* +([0-9,]+) *$" % pid, procs,
            "inferior's pid, command line and cores in info os processes")
if m:
    cores = [int(c) for c in m.group(2).split(",")]
    eq(cores, sorted(set(cores)), "cores listed once each, ascending")

threads = ex("info os threads")
rows = re.findall(r"(?m)^%d +\S+ +(\d+) +(-?\d+) *$" % pid, threads)
eq(sorted(int(tid) for tid, core in rows), lwps, "info os threads has each lwp of the inferior")
check(all(int(core) >= 0 for tid, core in rows), "every thread has a core", rows)

files = ex("info os files")
matches(r"(?m)^%d +\S+ +0 +\S" % pid, files, "inferior's fd 0 in info os files")

err = ex_error("info os no_such_type")
contains(err, "Can not fetch data now", "unknown type is an error in gdb")
ex("set var g_stop = 1")
contains(ex("continue"), "exited normally", "program exits after the queries")
''', port=srv.port, prog=t.prog("threads"))
