# The real gdb-multiarch against `csgdbserver --replay` of the three real
# Cortex-R5 ETMv3 captures: record btrace, the instruction history against
# `cstrace decode --ranges` of the same capture, reverse-stepi, reverse-step
# (landing line checked against the ELF's line table with addr2line, not
# with gdb), record goto begin/end.
import json
import os
import shutil
import subprocess

import harness
from harness import csgdbserver_only, timeout

R5 = "/work/shared/testdata/etmv3-cortex-r5"
GDB_MULTIARCH = "/usr/bin/gdb-multiarch"

BODY = r'''
import json, subprocess
ELF, RANGES, STRICT = %(elf)r, %(ranges)r, %(strict)r
SERVER_PC = %(pc)d
with open(RANGES) as f:
    ranges = [tuple(int(x, 16) for x in l.split()) for l in f if l.strip()]

def lines_of(addrs):
    """file:line of each address from the ELF's line table (addr2line)."""
    out = subprocess.run(["addr2line", "-e", ELF] + ["0x%%x" %% a for a in addrs],
                         capture_output=True, text=True).stdout.splitlines()
    res = []
    for l in out:
        l = l.split(" (discriminator")[0].strip()
        res.append(None if l.endswith(":?") or l.endswith(":0") or l.startswith("??") else l)
    return res

out = ex("record btrace")
info = ex("info record")
m = matches(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info,
            "info record counts the trace")
contains(info, "Branch Trace Store", "format is bts (blocks served from ETM)")
rec = gdb.current_recording()
items = []
for it in rec.instruction_history:
    items.append((it.pc, it.size) if hasattr(it, "pc") else None)
report("n_items", len(items))
eq(items[-1][0] if items[-1] else None, SERVER_PC, "last history entry is the stop pc")

# Walk cstrace's ranges through gdb's instructions: every range must come
# out as consecutive instructions from its start to exactly its end.
# gdb-side decode gaps (gdb's ARM/Thumb choice from the ELF's mapping
# symbols disagreeing with the decoder's) resynchronise on the next range.
i = ri = exact = 0
first_bad = None
while ri < len(ranges) and i < len(items):
    if items[i] is None:
        i += 1
        while i < len(items) and items[i] is None:
            i += 1
        if i < len(items):
            while ri < len(ranges) and ranges[ri][0] != items[i][0]:
                ri += 1
        continue
    s, e = ranges[ri]
    a, ok = s, items[i][0] == s
    while ok and a < e and i < len(items) and items[i] is not None and items[i][0] == a:
        a += items[i][1]
        i += 1
    ok = ok and a == e
    if ok:
        exact += 1
        ri += 1
    else:
        if first_bad is None:
            first_bad = (ri, hex(s), hex(e), i)
        # skip to the next gdb gap or the next range start
        while i < len(items) and items[i] is not None and (ri + 1 >= len(ranges) or items[i][0] != ranges[ri + 1][0]):
            i += 1
        ri += 1
report("exact", exact)
report("n_ranges", len(ranges))
if STRICT:
    eq(exact, len(ranges), "every cstrace range is in gdb's history, in order (first bad %%s)" %% (first_bad,))
    check(len(items) - i <= 1, "nothing but the stop pc after the last range", len(items) - i)
    eq(int(m.group(3)) if m else None, 0, "gdb sees no gap")
else:
    check(exact >= 0.9 * len(ranges), "at least 90%% of cstrace ranges reproduced exactly",
          "%%d of %%d, first bad %%s" %% (exact, len(ranges), first_bad))

# reverse-stepi: one instruction back.
last = [x for x in items if x][-2][0]
ex("reverse-stepi")
eq(int(gdb.parse_and_eval("$pc")), last, "reverse-stepi goes to the previous instruction")
pos = rec.replay_position.number
eq(rec.instruction_history[pos - 1].pc, last, "replay position is that instruction")

# reverse-step: lands at the start of the last different source line run.
start = pos
window = list(range(max(1, start - 4000), start + 1))
lines = lines_of([rec.instruction_history[n - 1].pc for n in window])
line_at = dict(zip(window, lines))
k = start - 1
while k >= window[0] and (line_at[k] is None or line_at[k] == line_at[start]):
    k -= 1
ex("reverse-step")
pc = int(gdb.parse_and_eval("$pc"))
landed = rec.replay_position.number if rec.replay_position else None
got = lines_of([pc])[0]
report("reverse_step", [hex(pc), got, line_at.get(k)])
check(k >= window[0], "a different source line precedes the start")
eq(got, line_at.get(k), "reverse-step lands on the previous source line (addr2line)")
sal = gdb.find_pc_line(pc)
check(sal.symtab is not None and got and got.endswith(":%%d" %% sal.line),
      "gdb shows the same line", (got, sal.line))
# a second reverse-step moves back again, to another line start
ex("reverse-step")
pc2 = int(gdb.parse_and_eval("$pc"))
check(rec.replay_position.number < landed, "second reverse-step goes further back",
      (rec.replay_position.number, landed))

ex("record goto begin")
eq(int(gdb.parse_and_eval("$pc")), ranges[0][0], "record goto begin: first traced instruction")
contains(ex("info record"), "At instruction 1.", "replay at instruction 1")
ex("stepi")
eq(int(gdb.parse_and_eval("$pc")), items[1][0] if items[1] else None, "stepi forward in replay")
ex("record goto end")
eq(int(gdb.parse_and_eval("$pc")), SERVER_PC, "record goto end: back at the stop pc")
err = ex_error("continue")
check("replay" in err.lower() or "cannot" in err.lower() or "No more reverse" in err or err,
      "continue past the end of the trace is refused", err)
'''


def run_capture(t, name, strict):
    if not shutil.which(GDB_MULTIARCH) or not shutil.which("addr2line"):
        raise harness.Skip("gdb-multiarch or addr2line missing")
    cap = os.path.join(R5, name)
    elf = [f for f in os.listdir(cap) if f.endswith(".elf")][0]
    ranges = os.path.join(t.tmp, "ranges.txt")
    with open(ranges, "w") as f:
        rc = subprocess.run([os.path.join(t.build, "cstrace"), "decode", "--ranges", cap],
                            stdout=f, stderr=subprocess.DEVNULL, timeout=60).returncode
    t.check(rc in (0, 1), "cstrace decoded the capture", rc)
    srv = t.start_server(options=["--once", "--replay", cap])
    import re
    m = re.search(r"stands at pc (0x[0-9a-f]+)", srv.stderr.text())
    t.check(m is not None, "server reports where the thread stands", srv.stderr.text()[-300:])
    pc = int(m.group(1), 16) if m else 0
    harness.GDB = GDB_MULTIARCH
    res = t.gdb(BODY % {"elf": os.path.join(cap, elf), "ranges": ranges, "strict": strict,
                        "pc": pc},
                port=srv.port, prog=os.path.join(cap, elf), timeout_s=240,
                pre=["set debuginfod enabled off"])
    t.log.write("values: %s\n" % json.dumps(res.values))
    return res


@csgdbserver_only
@timeout(300)
def test_replay_freertos(t):
    run_capture(t, "freertos", True)


@csgdbserver_only
@timeout(300)
def test_replay_threadx(t):
    run_capture(t, "threadx", False)


@csgdbserver_only
@timeout(300)
def test_replay_zephyr(t):
    run_capture(t, "zephyr", False)
