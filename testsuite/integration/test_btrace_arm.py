# record btrace on ARM without trace hardware: the software recorder feeds
# the emulated ETMv4 source, the server decodes its trace with OpenCSD and
# stock gdb-multiarch reverse-steps through the bts blocks it serves.
from harness import ARCH, Skip, csgdbserver_only

DEMO = r'''
ARM32 = @ARM32@
ex("break compute")
ex("continue")
status = gdb.execute("monitor etm status", to_string=True)
contains(status, "Trace source: emulated ETMv4", "the emulated unit serves the trace")
ex("record btrace")
conf = ex("maint packet qXfer:btrace-conf:read::0,fff")
contains(conf, "<bts size=", "gdb gets its bts configuration")
status = gdb.execute("monitor etm status", to_string=True)
contains(status, "tracing, format bts (decoded blocks)", "the thread is traced")
start_pc = pc()
ex("next")
ex("next")
at("compute", "compute-add", "two lines recorded forward")
info = ex("info record")
m = re.search(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info)
check(m is not None, "info record counts", info)
check(int(m.group(1)) > 5, "more than a handful of instructions", info)
eq(int(m.group(3)), 0, "no gaps")
# The instructions gdb replays are the program's, square's among them.
hist = ex("record instruction-history 1,400")
contains(hist, "<square", "square's instructions recorded")
first = re.search(r"^1\s+(?:=> )?(0x[0-9a-f]+)", hist, re.M)
check(first is not None, "instruction 1 listed", hist)
eq(int(first.group(1), 16), start_pc, "the history starts where recording started")
# Call nesting: gdb 13 classifies no ARM call/return; the server does.
calls = gdb.execute("monitor etm call-history", to_string=True)
segs = re.findall(r"^\d+\t( *)(0x[0-9a-f]+)\t", calls, re.M)
check(len(segs) >= 2, "server call history has segments", calls)
if len(segs) >= 2:
    sym = lambda a: gdb.execute("info symbol " + a, to_string=True).split()[0]
    eq(sym(segs[0][1]), "compute", "call history starts in compute")
    eq(sym(segs[1][1]), "square", "then square")
    check(len(segs[1][0]) > len(segs[0][0]), "square one level deeper", calls)
here = pc()
ex("reverse-stepi")
check(pc() != here, "reverse-stepi moved back one instruction", hex(pc()))
if ARM32:
    # gdb steps 32-bit arm in software, reading CPSR, which a btrace
    # replay does not have ("Register 25 is not available"): go forward
    # by instruction number instead.
    ex("record goto end")
    eq(pc(), here, "forward again to where it was")
else:
    ex("stepi")
    eq(pc(), here, "stepi forward again lands where it was")
# Stock gdb 13 sees no ARM call or return in btrace, so reverse-step and
# reverse-next from the line after a call both enter the callee from its end.
ex("reverse-step")
eq(func(), "square", "reverse-step enters square from its end")
for _ in range(3):
    if line() == line_of("square-return"):
        break
    ex("reverse-next")
at("square", "square-return", "reverse-next line by line within square")
ex("reverse-next")
at("square", "square-body", "reverse-next one more line back")
for _ in range(6):
    if func() == "compute" and line() == line_of("compute-body"):
        break
    ex("reverse-step")
at("compute", "compute-body", "reverse-step back out of square to the first recorded line")
out = ex_error("reverse-finish")
contains(out, '"finish" not meaningful in the outermost frame',
         "gdb 13 has no ARM call classes for btrace frames (refused, not wrong)")
ex("record goto begin")
eq(pc(), start_pc, "record goto begin is where recording started")
if ARM32:
    calls_at = [int(n) for n in re.findall(r"^(\d+)\s+0x[0-9a-f]+ <square\+0>", hist, re.M)]
    check(len(calls_at) > 0, "square's entry in the instruction history", hist)
    if calls_at:
        ex("record goto %d" % calls_at[0])
        eq(func(), "square", "forward through the history from the beginning into square")
else:
    ex("step")
    at("compute", "compute-square", "forward through the history from the beginning")
ex("record goto end")
eq(pc(), here, "record goto end is the live position")
ex("next")
at("compute", "compute-return", "live execution goes on after replay")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "program completes after recording")
'''


@csgdbserver_only
def test_emulated_etm_reverse_demo(t):
    """reverse-stepi/step/next, instruction history, goto begin/end and forward
    again, all from emulated ETMv4 trace decoded by OpenCSD in the server."""
    if ARCH == "x86_64":
        raise Skip("the emulated ETMv4 source encodes ARM code; x86_64 records bts "
                   "(test_btrace_software)")
    srv = t.start_server(t.prog("basic"), options=["--once"])
    t.gdb(DEMO.replace("@ARM32@", str(ARCH == "arm")), port=srv.port, prog=t.prog("basic"))


CRASH = r'''
ex("break compute")
ex("continue")
ex("record btrace")
seen = []
for cmd in ("next", "maint packet qXfer:btrace:read:all:0,fff",
            "maint packet qXfer:btrace:read:all:0,fff"):
    try:
        seen.append(gdb.execute(cmd, to_string=True))
    except gdb.error as e:
        seen.append("error: " + str(e))
text = "\n".join(seen)
check(text.count("trace decoder crashed") == 1,
      "the client hears of the decoder crash once, with its reason", text)
contains(text, "bytes ", "the message names the byte range")
contains(seen[-1], "<btrace", "the read after it serves the trace")
ex("record stop")
out = ex("continue")
contains(out, "exited normally", "the server went on serving the program")
'''


@csgdbserver_only
def test_emulated_etm_decoder_crash_costs_one_read(t):
    """A decoder child that crashes on live emulated ETMv4 trace: that read
    answers an error naming the bytes, the next serves, the server goes on."""
    if ARCH == "x86_64":
        raise Skip("the emulated ETMv4 source encodes ARM code; x86_64 records bts")
    srv = t.start_server(t.prog("basic"), options=["--once"],
                         env={"CSG_TEST_DECODER_CRASH": "0"})
    t.gdb(CRASH, port=srv.port, prog=t.prog("basic"))
