# The real gdb-multiarch against `csgdbserver --replay` of the three real
# Cortex-R5 ETMv3 captures: record btrace, the instruction history against
# `cstrace decode --ranges` of the same capture, reverse-stepi, reverse-step
# (landing line checked against the ELF's line table with addr2line, not
# with gdb), record goto begin/end.
import json
import os
import re
import shutil
import subprocess

import harness
from harness import csgdbserver_only, timeout

R5 = harness.shared("etmv3-cortex-r5")
GDB_MULTIARCH = "/usr/bin/gdb-multiarch"

BODY = r'''
import json, subprocess
ELF, RANGES, STRICT, SUSPECT = %(elf)r, %(ranges)r, %(strict)r, %(suspect)r
SERVER_PC = %(pc)d
with open(RANGES) as f:
    ranges = [tuple(int(x, 16) for x in l.split()) for l in f if l.strip()]
# The thread stands on the pc: not yet executed, so not in the history.
if ranges[-1][0] <= SERVER_PC < ranges[-1][1]:
    ranges[-1] = (ranges[-1][0], SERVER_PC)
    if ranges[-1][0] == ranges[-1][1]:
        ranges.pop()

def lines_of(addrs, funcs=None):
    """file:line of each address from the ELF's line table (addr2line);
    FUNCS, if a list, receives each address's function."""
    out = subprocess.run(["addr2line", "-f", "-e", ELF] + ["0x%%x" %% a for a in addrs],
                         capture_output=True, text=True).stdout.splitlines()
    res = []
    for f, l in zip(out[0::2], out[1::2]):
        l = l.split(" (discriminator")[0].strip()
        res.append(None if l.endswith(":?") or l.endswith(":0") or l.startswith("??") else l)
        if funcs is not None:
            funcs.append(f)
    return res

out = ex("record btrace")
info = ex("info record")
m = matches(r"Recorded (\d+) instructions in (\d+) functions \((\d+) gaps\)", info,
            "info record counts the trace")
contains(info, "Branch Trace Store", "format is bts (blocks served from ETM)")
rec = gdb.current_recording()
items = []
for it in rec.instruction_history:
    try:
        items.append((it.pc, it.size))
    except (gdb.error, AttributeError):
        items.append(None)        # a gap in gdb's own decode
report("n_items", len(items))
eq(int(gdb.parse_and_eval("$pc")), SERVER_PC, "gdb's pc is the server's stop pc")

# Walk the blocks the server sends (cstrace's ranges, contiguous ones
# merged) through gdb's instructions. gdb decodes each block itself, ARM or
# Thumb by the ELF's mapping symbols: a clean block must come out as
# exactly its ranges' instructions; a block where the decoder's ISA
# disagrees with the mapping symbols (SUSPECT) gives gdb garbage inside
# [begin, end] and usually a gap. Ranges not reproduced go to BAD.
with open(SUSPECT) as f:
    suspect = set(json.load(f))
blocks = []
for idx, (s, e) in enumerate(ranges):
    if blocks and blocks[-1][1] == s:
        blocks[-1][1] = e
        blocks[-1][2].append(idx)
    else:
        blocks.append([s, e, [idx]])
i = 0
bad = []
for bb, be, members in blocks:
    while i < len(items) and items[i] is None:
        i += 1
    starts = {ranges[x][0] for x in members}
    a, j, seen = bb, i, set()
    while a < be and j < len(items) and items[j] is not None and items[j][0] == a:
        seen.add(a)
        a += items[j][1]
        j += 1
    if a == be and starts <= seen:
        i = j
        continue
    bad.extend(members)
    while i < len(items) and items[i] is not None and bb <= items[i][0] <= be:
        i += 1
report("bad", bad)
report("n_ranges", len(ranges))
check(len(items) - i <= 1, "no instruction after the last range", len(items) - i)
if STRICT:
    eq(int(m.group(3)) if m else None, 0, "gdb's own decode has no gap")

# reverse-stepi: one instruction back.
last = items[-1][0] if items[-1] else None
ex("reverse-stepi")
eq(int(gdb.parse_and_eval("$pc")), last, "reverse-stepi goes to the previous instruction")
pos = rec.replay_position.number
eq(rec.instruction_history[pos - 1].pc, last, "replay position is that instruction")

# reverse-step: from a line start, gdb must land on the latest different
# line that both gdb and the ELF's line table (addr2line) know.
hist = rec.instruction_history
def known(n):
    try:
        return gdb.find_pc_line(hist[n - 1].pc).symtab is not None
    except gdb.error:
        return False
last_n = pos
window = list(range(max(1, last_n - 3000), last_n + 1))
pcs = []
for n in window:
    try:
        pcs.append(hist[n - 1].pc)
    except gdb.error:
        pcs.append(0)
funcs = []
lines = lines_of(pcs, funcs)
func_at = dict(zip(window, funcs))
line_at = {n: (l if pcs[n - window[0]] and known(n) else None) for n, l in zip(window, lines)}
def line_start(n):
    return line_at.get(n) and gdb.find_pc_line(pcs[n - window[0]]).pc == pcs[n - window[0]]
# Start at a line start right after another line of the same function:
# in btrace replay gdb 13 knows only the PC, so on ARM it cannot unwind
# (to step over or out of calls) without the CPSR it is not given.
cands = [n for n in window[1:] if line_start(n) and line_at.get(n - 1) and
         line_at[n - 1] != line_at[n] and func_at[n - 1] == func_at[n]]
check(cands, "a line start to reverse-step from")
start = cands[-1] if cands else last_n
k = start - 1
while k >= window[0] and (line_at[k] is None or line_at[k] == line_at[start]):
    k -= 1
ex("record goto %%d" %% start)
check(line_at[start] is not None, "a start position with a known line", start)
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
ex("continue")
eq(int(gdb.parse_and_eval("$pc")), SERVER_PC, "continue past the end of the trace: nothing ran")
'''


def mapping_symbols(elf):
    """Sorted (address, 'a'|'t'|'d') of the ELF's ARM mapping symbols."""
    out = subprocess.run(["readelf", "-sW", elf], capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[7][:2] in ("$a", "$t", "$d") and (len(f[7]) == 2 or f[7][2] == "."):
            syms.append((int(f[1], 16), f[7][1]))
    return sorted(syms)


def suspect_ranges(t, cap, elf):
    """Indices of the ranges gdb cannot be expected to reproduce: those in
    a block (contiguous ranges merged) where the decoder's ISA disagrees
    with the ELF's mapping symbols, since gdb decodes by the latter."""
    import bisect
    syms = mapping_symbols(elf)
    addrs = [a for a, _ in syms]
    out = t.run([os.path.join(t.build, "cstrace"), "decode", cap], timeout=60).stdout
    rng = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[1] == "range":
            rng.append((int(f[2], 16), int(f[3], 16), f[5][4:]))
    suspect, block, block_bad = set(), [], False
    for idx, (s, e, isa) in enumerate(rng):
        if block and rng[idx - 1][1] != s:
            if block_bad:
                suspect.update(block)
            block, block_bad = [], False
        k = bisect.bisect_right(addrs, s) - 1
        kind = syms[k][1] if k >= 0 else "?"
        block.append(idx)
        block_bad |= (isa == "A32" and kind != "a") or (isa == "T32" and kind != "t")
    if block_bad:
        suspect.update(block)
    return rng, suspect


def run_capture(t, name, strict):
    if not shutil.which(GDB_MULTIARCH) or not shutil.which("addr2line"):
        raise harness.Skip("gdb-multiarch or addr2line missing")
    cap = harness.need_shared(os.path.join(R5, name))
    elf = os.path.join(cap, [f for f in os.listdir(cap) if f.endswith(".elf")][0])
    ranges = os.path.join(t.tmp, "ranges.txt")
    done = t.run([os.path.join(t.build, "cstrace"), "decode", "--ranges", cap], timeout=60)
    with open(ranges, "w") as f:
        f.write(done.stdout)
    t.check(done.returncode in (0, 1) and done.stdout, "cstrace decoded the capture",
            done.returncode)
    rng, suspect = suspect_ranges(t, cap, elf)
    srv = t.start_server(options=["--once", "--replay", cap])
    m = re.search(r"stands at pc (0x[0-9a-f]+)", srv.stderr.text())
    t.check(m is not None, "server reports where the thread stands", srv.stderr.text()[-300:])
    pc = int(m.group(1), 16) if m else 0
    harness.GDB = GDB_MULTIARCH
    suspect_file = os.path.join(t.tmp, "suspect.json")
    with open(suspect_file, "w") as f:
        json.dump(sorted(suspect), f)
    res = t.gdb(BODY % {"elf": elf, "ranges": ranges, "strict": strict, "pc": pc,
                        "suspect": suspect_file},
                port=srv.port, prog=elf, timeout_s=240, pre=["set debuginfod enabled off"])
    bad = res.values.get("bad")
    t.log.write("ranges %d, suspect %d, bad %s\n" % (len(rng), len(suspect),
                                                     None if bad is None else len(bad)))
    t.check(bad is not None, "gdb reported the ranges it did not reproduce")
    unexplained = [i for i in (bad or []) if i not in suspect]
    t.check(not unexplained, "every cstrace range outside ISA-disagreeing blocks is in "
            "gdb's history exactly (%d of %d ranges are in such blocks)" % (len(suspect), len(rng)),
            "%d unexplained, first: %s" % (len(unexplained), [
                (i, hex(rng[i][0]), rng[i][2]) for i in unexplained[:3]]))
    if strict:
        t.eq(len(bad or []), 0, "all ranges reproduced")
    t.check("cannot run" in res.stderr, "gdb shows the server's reason when asked to continue",
            res.stderr[-300:])
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
