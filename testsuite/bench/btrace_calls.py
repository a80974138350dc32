# gdb script for btrace-calls.sh: times reverse-finish and reverse-next over
# a long trace, gdb's own against csgdbserver's extension (gdb/csgdbserver.py,
# classification fetched once per trace), and prints "CALLS key seconds".
import os
import time

import gdb

mode = os.environ["CALLS_MODE"]


def timed(cmd):
    t0 = time.monotonic()
    gdb.execute(cmd, to_string=True)
    return time.monotonic() - t0


def position():
    r = gdb.current_recording()
    return r.replay_position.number if r.replay_position else r.end.number


def report(key, value):
    print("CALLS %s %s" % (key, value))


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote 127.0.0.1:%s" % os.environ["CALLS_PORT"])
if mode == "replay":
    gdb.execute("record btrace")
else:
    gdb.execute("break main")
    gdb.execute("continue")
    gdb.execute("set record btrace bts buffer-size 67108864")
    gdb.execute("record btrace bts")
    gdb.execute("break done")
    t0 = time.monotonic()
    gdb.execute("continue", to_string=True)
    report("record", time.monotonic() - t0)
rec = gdb.current_recording()
end = rec.end.number
report("insns", end)


def sequence(tag):
    """reverse-finish out of the last function (short), reverse-next over
    the long callee (x86) or one line (replay), reverse-finish from the
    middle of the trace back to its call (long)."""
    gdb.execute("record goto end", to_string=True)
    report(tag + "_rf_short", timed("reverse-finish"))
    report(tag + "_rn", timed("reverse-next"))
    report(tag + "_rn_at", position())
    gdb.execute("record goto %d" % (end // 2), to_string=True)
    report(tag + "_rf_long", timed("reverse-finish"))
    report(tag + "_rf_long_at", position())


if mode == "x86":
    sequence("gdb")
    gdb.execute("set csgdbserver engage on")
gdb.execute("record goto %d" % (end - 1), to_string=True)
report("fetch", timed("csgdbserver status"))
sequence("ours")
report("fetch_again", timed("csgdbserver status"))
