#!/usr/bin/env python3
"""make check-layout: the include graph points one way and nothing is too long.

Layers (folder -> folders it may include):
  common   -> (nothing)
  protocol -> common
  arch     -> common
  agent    -> common                 (agent expressions: no sockets, no ptrace)
  etm      -> arch, common           (trace: no sockets, no packets)
  server   -> etm, agent, protocol, arch, common
  cstrace  -> etm, protocol, arch, common
Within a folder, modules (x.c + x.h) must not include each other in a cycle.
A file over 1000 lines, or a function over 120, needs its reason written at
its top: a comment holding "Long because:" (first comment of the file, or
the comment right above the function).
Exit status 1 and one line per finding when anything is wrong; the last
line sums it up as the other suites do ("check-layout: N passed, N failed").
"""
import os
import re
import sys

ALLOWED = {
    "common": set(),
    "protocol": {"common"},
    "arch": {"common"},
    "agent": {"common"},
    "etm": {"arch", "common"},
    "server": {"etm", "agent", "protocol", "arch", "common"},
    "cstrace": {"etm", "protocol", "arch", "common"},
}
MAX_FILE_LINES = 1000
MAX_FUNC_LINES = 120
REASON = "Long because:"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def sources(top):
    for folder in sorted(ALLOWED):
        d = os.path.join(top, folder)
        if not os.path.isdir(d):
            continue
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield folder, os.path.relpath(os.path.join(root, f), top)


def module(path):
    return os.path.splitext(path)[0]


def find_cycle(graph):
    """One cycle of GRAPH (dict node -> set of nodes) as a list, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def long_functions(lines):
    """(name, first line, length, has reason) of each function body."""
    out, start, name = [], None, None
    for i, line in enumerate(lines):
        if line.startswith("{") and i > 0 and start is None:
            j = i - 1
            # back to the first line of the declaration (column 0)
            while j > 0 and lines[j][:1] in (" ", "\t"):
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            if m and not re.match(r"(struct|enum|union)\b[^(]*$", lines[j]):
                start, name, head = i, m.group(1), j
        elif line.startswith("}") and start is not None:
            length = i - start + 1
            above = "\n".join(lines[max(0, head - 12):head])
            out.append((name, head + 1, length, REASON in above))
            start = None
    return out


def main():
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    problems = []
    graphs = {}
    nfiles = 0
    for folder, path in sources(top):
        nfiles += 1
        with open(os.path.join(top, path), encoding="utf-8", errors="replace") as f:
            text = f.read()
        lines = text.split("\n")
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            target = inc.split("/")[0] if "/" in inc else folder
            if target not in ALLOWED:
                problems.append(f"{path}:{n}: includes \"{inc}\": not a layer folder")
            elif target != folder and target not in ALLOWED[folder]:
                problems.append(f"{path}:{n}: {folder}/ includes {target}/ (\"{inc}\"): "
                                f"{folder}/ may include only {', '.join(sorted(ALLOWED[folder])) or 'nothing'}")
            elif target == folder:
                a, b = module(path), module(inc if "/" in inc else os.path.join(folder, inc))
                if a != b:
                    graphs.setdefault(folder, {}).setdefault(a, set()).add(b)
        nlines = len(lines) - (1 if text.endswith("\n") else 0)
        first_comment = text[:text.find("*/") + 2] if text.lstrip().startswith("/*") else ""
        if nlines > MAX_FILE_LINES and REASON not in first_comment:
            problems.append(f"{path}: {nlines} lines (over {MAX_FILE_LINES}) and no "
                            f"\"{REASON}\" in its first comment")
        if path.endswith(".c"):
            for name, line, length, reason in long_functions(lines):
                if length > MAX_FUNC_LINES and not reason:
                    problems.append(f"{path}:{line}: {name}() is {length} lines (over "
                                    f"{MAX_FUNC_LINES}) and no \"{REASON}\" above it")
    for folder, graph in sorted(graphs.items()):
        seen = set()
        while True:
            g = {n: {m for m in e if (n, m) not in seen} for n, e in graph.items()}
            cycle = find_cycle(g)
            if not cycle:
                break
            problems.append(f"{folder}/: include cycle " + " -> ".join(cycle))
            seen.add((cycle[0], cycle[1]))  # report each cycle once, then look for others
    for p in problems:
        print(p)
    # one check per file plus one per folder's include graph
    checks = nfiles + len(ALLOWED)
    print(f"check-layout: {max(0, checks - len(problems))} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
