# gdb script for swrecord.sh: connect, stop at loop(), record (or not) as
# SWREC_MODE says, time `finish` (the whole loop), print "SWREC <seconds>".
import os
import time

import gdb

mode = os.environ["SWREC_MODE"]
gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("target remote 127.0.0.1:%s" % os.environ["SWREC_PORT"])
gdb.execute("break loop")
gdb.execute("continue")
if mode == "fast":
    gdb.execute("monitor set btrace-step off")
    gdb.execute("record btrace bts")
elif mode == "step":
    gdb.execute("monitor set btrace-step on")
    gdb.execute("record btrace bts")
elif mode == "full":
    gdb.execute("set record full insn-number-max unlimited")
    gdb.execute("record full")
t0 = time.monotonic()
gdb.execute("finish", to_string=True)
secs = time.monotonic() - t0
if mode != "none":
    gdb.execute("record stop")
print("SWREC %.6f" % secs)
gdb.execute("kill")
