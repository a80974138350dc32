# record btrace without trace hardware: the server single-steps the thread
# and serves gdb's bts block format (Qbtrace:bts, qXfer:btrace:read).
from harness import ARCH, Skip, csgdbserver_only


@csgdbserver_only
def test_record_and_reverse(t):
    if ARCH == "arm":
        raise Skip("32-bit arm has no hardware single-step to record with")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break compute")
ex("continue")
ex("record btrace")
info = ex("info record")
contains(info, "Recording format: Branch Trace Store.", "bts format")
ex("next")
ex("next")
at("compute", "compute-add", "two lines recorded forward")
info = ex("info record")
m = re.search(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info)
check(m is not None, "info record counts", info)
check(int(m.group(1)) > 5, "more than a handful of instructions", info)
eq(int(m.group(3)), 0, "no gaps")
hist = ex("record function-call-history /c")
matches(r"compute\n\s*\d+\s+square\n\s*\d+\s+compute", hist,
        "call history: compute, square nested, back in compute")
ex("reverse-step")
at("compute", "compute-square", "reverse-step back to the rest of the call's line")
ex("reverse-step")
eq(func(), "square", "reverse-step enters square from its end")
ex("reverse-finish")
at("compute", "compute-square", "reverse-finish back at the call in compute")
for _ in range(3):
    if line() == line_of("compute-body"):
        break
    ex("reverse-next")
at("compute", "compute-body", "reverse-next back to the first recorded line")
out = ex("record goto end")
ex("next")
at("compute", "compute-return", "forward again after replay")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "program completes after recording")
''', port=srv.port, prog=t.prog("basic"))


@csgdbserver_only
def test_btrace_packets(t):
    """The raw packets: enable twice, bad annex, delta after all, off."""
    if ARCH == "arm":
        raise Skip("32-bit arm has no hardware single-step to record with")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(r'''
ex("break compute")
ex("continue")
r = ex("maint packet Qbtrace-conf:bts:size=0x1000")
contains(r, 'received: "OK"', "size accepted")
r = ex("maint packet Qbtrace-conf:bts:size=zz")
contains(r, "E.Bad size value.", "bad size named")
r = ex("maint packet Qbtrace:bts")
contains(r, 'received: "OK"', "enabled")
r = ex("maint packet Qbtrace:bts")
contains(r, "E.Btrace already enabled.", "second enable refused")
r = ex("maint packet Qbtrace:CoreSight")
contains(r, "E.", "CoreSight refused without trace hardware")
ex("stepi")
ex("stepi")
r = ex("maint packet qXfer:btrace:read:all:0,1000")
matches(r'<block begin="0x[0-9a-f]+" end="0x[0-9a-f]+"/>', r, "all holds blocks")
check('begin="0x0"' not in r, "all never holds a begin=0 block", r)
r = ex("maint packet qXfer:btrace:read:bogus:0,1000")
contains(r, "E.Bad annex.", "bad annex")
r = ex("maint packet qXfer:btrace-conf:read::0,1000")
contains(r, '<bts size="0x1000"', "configured size reported")
r = ex("maint packet Qbtrace:off")
contains(r, 'received: "OK"', "disabled")
r = ex("maint packet Qbtrace:off")
contains(r, "E.Branch tracing not enabled.", "off twice refused")
''', port=srv.port, prog=t.prog("basic"))
