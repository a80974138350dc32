#!/usr/bin/env python3
"""Integration runner: every test_* function of testsuite/integration/test_*.py
runs in its own process session with a timeout, against $SERVER.

usage: runner.py BUILD_DIR [NAME_SUBSTRING...]
env:   SERVER (default BUILD_DIR/csgdbserver), GDB (default /usr/bin/gdb),
       ITEST_JOBS (parallel tests, default 4), ITEST_TIME_SCALE (multiplies
       timeouts, default 2 for a sanitized server), ITEST_KEEP_LOGS=1 keeps passing logs,
       ITEST_REMOTE_DEBUG=1 logs every packet (gdb's `set debug remote 1`),
       ITEST_SKIP="SUBSTRING=reason;..." skips matching tests with that reason,
       ITEST_GUEST/ITEST_GUEST_PORTS: server and inferiors run in a QEMU
       guest (testsuite/qemu/run-integration.sh sets them; default time
       scale 3 there).
Prints one PASS/FAIL/SKIP line per test and
`integration: N passed, N failed[, N skipped]`."""
import concurrent.futures
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
# no __pycache__ in the source tree (also for gdb's python, via the env)
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
import harness  # noqa: E402
import target  # noqa: E402

DEFAULT_TIMEOUT = 30
# ITEST_SKIP="SUBSTRING=reason;...": tests that cannot run in this setting
# (e.g. host-only tests in a QEMU guest), reported as SKIP with the reason.
SKIPS = [tuple(item.split("=", 1)) for item in
         os.environ.get("ITEST_SKIP", "").split(";") if "=" in item]


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def discover():
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        path = os.path.join(HERE, fname)
        mod = load(path)
        for attr in sorted(vars(mod)):
            fn = getattr(mod, attr)
            if attr.startswith("test_") and callable(fn):
                tests.append((path, attr, fn))
    return tests


def session_members(token, sid):
    """PIDs that carry our token in their environment or sit in the test's
    session: everything the test started, however it was re-parented."""
    found = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        pid = int(entry)
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid:
                found.append(pid)
                continue
            with open("/proc/%d/environ" % pid, "rb") as f:
                if token in f.read():
                    found.append(pid)
        except (OSError, ValueError, IndexError):
            continue
    return found


def kill_leftovers(token, sid):
    pids = []
    for _ in range(5):
        batch = session_members(token, sid)
        if not batch:
            break
        for pid in batch:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        pids += batch
        time.sleep(0.05)
    return sorted(set(pids))


def run_one_in_child(path, func_name, build, server, kind, log_path):
    """Body of the per-test child process; prints a JSON verdict."""
    mod = load(path)
    fn = getattr(mod, func_name)
    verdict = {"status": "PASS", "reason": "", "checks": 0}
    with open(log_path, "w") as log:
        ctx = harness.TestContext(build, server, kind, func_name, log)
        try:
            fn(ctx)
        except harness.Skip as e:
            verdict = {"status": "SKIP", "reason": str(e)}
        except harness.TestFailure as e:
            if str(e) not in ctx.problems:
                ctx.problems.append(str(e))
        except Exception:
            ctx.problems.append("test raised: " +
                                traceback.format_exc().strip().splitlines()[-1])
            log.write(traceback.format_exc())
        finally:
            ctx.cleanup()
        if verdict["status"] != "SKIP":
            verdict["checks"] = ctx.checks
            if ctx.problems:
                verdict = {"status": "FAIL", "reason": ctx.problems[0],
                           "all": ctx.problems, "checks": ctx.checks}
            elif ctx.checks == 0:
                verdict = {"status": "FAIL", "reason": "test checked nothing"}
        log.write("VERDICT %s\n" % json.dumps(verdict))
    print("@@VERDICT " + json.dumps(verdict), flush=True)


def run_test(test, build, server, kind, logdir):
    path, func_name, fn = test
    label = "%s.%s" % (os.path.basename(path)[:-3], func_name)
    for pattern, why in SKIPS:
        if pattern in label:
            return label, "SKIP", why, 0.0, 0
    if getattr(fn, "csgdbserver_only", False) and kind == "gnu":
        return label, "SKIP", "csgdbserver-only behaviour, SERVER is GNU " \
            "gdbserver", 0.0, 0
    limit = getattr(fn, "timeout", DEFAULT_TIMEOUT) * harness.TIME_SCALE
    log_path = os.path.join(logdir, label + ".log")
    token = "ITEST_TOKEN=" + uuid.uuid4().hex
    env = dict(os.environ, ITEST_TOKEN=token.split("=", 1)[1])
    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--one", path, func_name,
         build, server, kind, log_path],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = child.communicate(timeout=limit)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_leftovers(token.encode(), child.pid)
        child.kill()
        out, _ = child.communicate()
    leftovers = kill_leftovers(token.encode(), child.pid)
    elapsed = time.monotonic() - start
    out = out.decode("utf-8", "replace")
    verdict = None
    for line in out.splitlines():
        if line.startswith("@@VERDICT "):
            verdict = json.loads(line[len("@@VERDICT "):])
    if timed_out:
        return label, "FAIL", "timed out after %.0fs (log %s)" % (
            limit, log_path), elapsed, 0
    if verdict is None:
        return label, "FAIL", "test process crashed: %s" % out.strip()[-300:], \
            elapsed, 0
    with open(log_path, "a") as log:
        log.write("--- runner ---\n%s\nleftover processes killed: %s\n"
                  % (out, leftovers))
    reason = verdict.get("reason", "")
    if verdict["status"] == "FAIL":
        extra = len(verdict.get("all", [])) - 1
        if extra > 0:
            reason += " (+%d more)" % extra
        reason += " (log %s)" % log_path
    elif verdict["status"] == "PASS" and not os.environ.get("ITEST_KEEP_LOGS"):
        os.unlink(log_path)
    return label, verdict["status"], reason, elapsed, verdict.get("checks", 0)


def sanitized(path):
    """True for an ASan/UBSan build (slower: timeouts are scaled)."""
    try:
        out = subprocess.run(["ldd", path], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "libasan" in out or "libubsan" in out


def main(argv):
    if len(argv) >= 2 and argv[1] == "--one":
        run_one_in_child(*argv[2:8])
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(argv[1])
    filters = argv[2:]
    server = os.environ.get("SERVER") or os.path.join(build, "csgdbserver")
    server = os.path.abspath(server) if os.sep in server else \
        (shutil.which(server) or server)
    if not os.access(server, os.X_OK):
        print("integration: server %s not found or not executable" % server)
        print("integration: 0 passed, 1 failed")
        return 1
    os.environ["ITEST_ARCH"] = harness.ARCH = \
        target.elf_arch(server) or "x86_64"
    kind = harness.server_kind(server)
    if "ITEST_TIME_SCALE" not in os.environ:
        scale = "3" if target.TARGET.remote else \
            "2" if sanitized(server) else None
        if scale:
            os.environ["ITEST_TIME_SCALE"] = scale
            harness.TIME_SCALE = float(scale)
    logdir = os.path.join(build, "integration-logs" +
                          ("-gnu" if kind == "gnu" else ""))
    os.makedirs(logdir, exist_ok=True)
    tests = [t for t in discover()
             if not filters or any(f in "%s.%s" % (os.path.basename(t[0]),
                                                   t[1]) for f in filters)]
    jobs = int(os.environ.get("ITEST_JOBS", "4"))
    if "ITEST_NO_HW_WATCH" not in os.environ:
        os.environ["ITEST_NO_HW_WATCH"] = harness.probe_hw_watchpoints(build)
    if os.environ["ITEST_NO_HW_WATCH"]:
        print("integration: note: " + os.environ["ITEST_NO_HW_WATCH"])
    where = " in the %s guest (csg-agent %s)" % (
        harness.ARCH, os.environ["ITEST_GUEST"]) if target.TARGET.remote \
        else ""
    print("integration: %d tests against %s (%s)%s, %d at a time" %
          (len(tests), server, kind, where, jobs), flush=True)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    start = time.monotonic()
    # Longest tests first keeps the pool busy to the end.
    tests.sort(key=lambda t: -getattr(t[2], "weight", 1))
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(run_test, t, build, server, kind, logdir)
                   for t in tests]
        for fut in concurrent.futures.as_completed(futures):
            label, status, reason, elapsed, checks = fut.result()
            counts[status] += 1
            detail = ""
            if status == "PASS":
                detail = "(%d checks, %.1fs)" % (checks, elapsed)
            else:
                detail = "%s (%.1fs)" % (reason, elapsed) if status == "FAIL" \
                    else reason
            print("%s %s %s" % (status, label, detail), flush=True)
    summary = "integration: %d passed, %d failed" % (counts["PASS"],
                                                     counts["FAIL"])
    if counts["SKIP"]:
        summary += ", %d skipped" % counts["SKIP"]
    print("(%.1fs wall)" % (time.monotonic() - start))
    print(summary)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
