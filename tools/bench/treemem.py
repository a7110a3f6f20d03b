#!/usr/bin/env python3
"""Memory of a process tree, for tools/bench/bench_search.sh.  Linux only (/proc).

    treemem.py run [--interval S] -- CMD ARGS...
        Runs CMD and samples its whole process tree (CMD, its workers, their children) every S
        seconds (default 0.1): the sum of Pss (/proc/PID/smaps_rollup: a page shared by n processes
        counts 1/n in each, so the sum is what the tree costs the machine) and the sum of Rss.
        Prints one JSON line on stderr at the end: peak_pss_kb, peak_rss_kb, max_procs, wall_s,
        exit.  CMD's stdout and stderr pass through.  The peak is a sample's, so an allocation shorter
        than S can be missed.

    treemem.py snapshot [--path PREFIX] PID...
        One JSON line per PID on stdout: pss_kb, rss_kb (the whole process) and, with --path, the
        pss_kb / rss_kb of the mappings whose file name starts with PREFIX (e.g. a store's
        directory), from /proc/PID/smaps.
"""
import json
import os
import subprocess
import sys
import time


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(root):
    kids, out, todo = children_map(), [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rollup(pid):
    pss = rss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


def run(argv):
    interval = 0.1
    if argv[:1] == ["--interval"]:
        interval = float(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    t0 = time.monotonic()
    p = subprocess.Popen(argv)
    peak_pss = peak_rss = max_procs = 0
    while p.poll() is None:
        pids = tree(p.pid)
        pss = rss = 0
        for q in pids:
            a, b = rollup(q)
            pss += a
            rss += b
        peak_pss, peak_rss, max_procs = max(peak_pss, pss), max(peak_rss, rss), max(max_procs, len(pids))
        time.sleep(interval)
    res = {"peak_pss_kb": peak_pss, "peak_rss_kb": peak_rss, "max_procs": max_procs,
           "wall_s": round(time.monotonic() - t0, 3), "exit": p.returncode}
    print(json.dumps(res), file=sys.stderr)
    return p.returncode


def snapshot(argv):
    prefix = None
    if argv[:1] == ["--path"]:
        prefix = argv[1]
        argv = argv[2:]
    for a in argv:
        pid = int(a)
        pss, rss = rollup(pid)
        out = {"pid": pid, "pss_kb": pss, "rss_kb": rss}
        if prefix:
            fp = fr = 0
            cur = False
            with open("/proc/%d/smaps" % pid) as f:
                for line in f:
                    head = line.split(None, 5)
                    if len(head) >= 5 and "-" in head[0] and ":" not in head[0]:
                        cur = len(head) == 6 and head[5].strip().startswith(prefix)
                    elif cur and line.startswith("Pss:"):
                        fp += int(line.split()[1])
                    elif cur and line.startswith("Rss:"):
                        fr += int(line.split()[1])
            out["path_pss_kb"], out["path_rss_kb"] = fp, fr
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "snapshot"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[2:]) if sys.argv[1] == "run" else snapshot(sys.argv[2:]))
