#!/usr/bin/python3
"""Run the examples of docs/cli.md and compare what they print.

    docs_examples.py WORDBENCH DOCS/CLI.MD FIXTURES [SHARED_DATA]

An example is a line `$ COMMAND` inside a ``` block (a trailing "\\" joins the
next line), followed by what it prints up to the next `$ ` line or the end of
the block, and usually `[exit N]`.  Each runs through bash, as printed, in one
scratch directory (the state carries from one example to the next, as in the
document) where `wordbench` is the binary under test, `fixtures` links to the
repository's fixtures and a few files the examples name are made first
(SETUP; BEFORE prepares the state single examples assume).

Compared:
  - the exit status, when the example shows `[exit N]` (else it must be 0);
  - every line shown, in order, against the lines printed on stdout and
    stderr (the document shows the two merged; each shown line must be the
    next line of one of them); `...` stands for any lines;
  - nothing printed may be left over, except after a final `...`.
Before comparing, what changes from run to run or machine to machine is
masked in both: timings, rates, dates, PIDs of temporary names, and in
lines that are not messages (`wordbench...`) every number with a decimal
point (floating-point results may differ in the last digit between CPUs'
BLAS kernels; counts, sizes in bytes, fingerprints and messages stay exact).

Examples that cannot run on the fixtures are listed in SKIP with the reason;
the ones on ../shared/data run when it is there.  Exit 0 when all match, 1
otherwise (each mismatch printed), 77 when nothing could run.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

SKIP = {
    "ls -a": "shows what a kill -9 of convert leaves (tests/cli/kill9.sh checks it)",
    "wordbench verify big.store": "a 20,000-word store with one byte of a B-tree leaf changed "
                                  "(tests/cli/store_commands.sh and test_store damage pages that way)",
    "wordbench search": "trains dozens of models: the ranking of close configurations and the examples/s column "
                        "depend on the CPU's BLAS kernels and the load (tests/cli/search.sh runs these searches and "
                        "checks their tables, resume, --trial/--collect and the compare report)",
    "wordbench compare": "reads the search above (tests/cli/search.sh checks compare's text and --json)",
}
SHARED_FILES = {"cooking.train": "cooking/cooking.train", "cooking.valid": "cooking/cooking.valid",
                "emails.csv": "spamassassin/emails.csv"}

# State single examples assume, keyed by a regular expression on the command.
BEFORE = [
    (r"^wordbench convert [^|]*--force[^|]* notastore$", "mkdir -p notastore && touch notastore/readme"),
    (r"^wordbench info notastore$", "rm -rf notastore && mkdir notastore"),
    (r"^wordbench verify --json bad\.store", "rm -rf bad.store && cp -r demo.store bad.store && "
     "printf XXXX | dd of=bad.store/vectors.npy bs=1 seek=5000 conv=notrunc 2>/dev/null"),
    (r"^wordbench verify bad2\.store", "rm -rf bad2.store && cp -r demo.store bad2.store && "
     "printf XXXX | dd of=bad2.store/norms.npy bs=1 seek=4100 conv=notrunc 2>/dev/null"),
    (r"^wordbench verify --json bad2\.store", "truncate -s 7000 bad2.store/vectors.npy"),
    # q.txt and p.tsv as the document describes them (tests/cli/evaluate_commands.sh uses the same files)
    (r"^wordbench evaluate kim\.wbm --analogies q\.txt --pairs p\.tsv$",
     r"printf ': royal\nking queen man woman\nprince princess boy girl\nfather mother son daughter\n"
     r": plural\ndog dogs cat cats\n' >q.txt && "
     r"printf 'king\tqueen\t8\nman\twoman\t8.5\ndog\tcat\t7\ncity\tvillage\t7.5\ngood\tbad\t2\nhappy\tsad\t1.5\n"
     r"coffee\ttea\t7\napple\tbanana\t6\nking\tapple\t1\nhorse\tlion\t5\n' >p.tsv"),
    (r"^wordbench evaluate fx\.store --analogies q_bad\.txt$", r"printf 'athens greece rome italy\n: s\n' >q_bad.txt"),
]


def setup(d, fixtures, shared):
    os.symlink(fixtures, os.path.join(d, "fixtures"))
    for name, rel in SHARED_FILES.items():
        if shared and os.path.exists(os.path.join(shared, rel)):
            os.symlink(os.path.join(shared, rel), os.path.join(d, name))
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("king\nqueen\nman\nwoman\ndragon\n")
    # nan.bin: word2vec binary, 3 x 3; the record at byte 22 has a NaN first value
    with open(os.path.join(d, "nan.bin"), "wb") as f:
        f.write(b"3 3\n")
        f.write(b"word1 " + struct.pack("<3f", 1, 2, 3))
        f.write(b"word2 " + struct.pack("<3f", float("nan"), 2, 3))
        f.write(b"word3 " + struct.pack("<3f", 4, 5, 6))
    # ptb.store: words that start with '-'
    with open(os.path.join(d, "ptb.txt"), "w") as f:
        f.write("-lrb- 1 0\n-rrb- 0 1\n")


def examples(path):
    """[(line number, command, [expected lines])]"""
    out = []
    inblock = False
    cur = None
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            inblock = not inblock
            cur = None
            i += 1
            continue
        if inblock and line.startswith("$ "):
            start = i + 1
            cmd = line[2:]
            while cmd.endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-1] + " " + lines[i].strip()
            cur = (start, strip_comment(cmd).strip(), [])
            out.append(cur)
        elif inblock and cur is not None:
            cur[2].append(line)
        i += 1
    for _, _, exp in out:
        while exp and not exp[-1].strip():
            exp.pop()
    return out


def strip_comment(cmd):
    q = None
    for i, c in enumerate(cmd):
        if q is None and c == "#" and i > 0 and cmd[i - 1] in " \t":
            return cmd[:i]
        if q is None and c in "'\"":
            q = c
        elif c == q:
            q = None
    return cmd


VOLATILE = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "<T> s"),
    (re.compile(r"\b\d+(\.\d+)? MB/s"), "<R> MB/s"),
    (re.compile(r"\b\d+ examples/s"), "<R> examples/s"),
    (re.compile(r"\] \d+s "), "] <T>s "),
    (re.compile(r'"(seconds|mb_per_s|created)": ("[^"]*"|[0-9.e+-]+)'), r'"\1": <V>'),
    (re.compile(r"^created +\S+"), "created <V>"),
    (re.compile(r"wbtmp-\d+"), "wbtmp-<PID>"),
]
FLOAT = re.compile(r"-?\b\d+\.\d+(e[+-]?\d+)?\b")


def norm(line):
    for rx, rep in VOLATILE:
        line = rx.sub(rep, line)
    if not line.startswith("wordbench"):
        line = FLOAT.sub("<F>", line)
    return line.rstrip()


def compare(expected, out, err):
    """None when the printed lines match the shown ones, else a description."""
    streams = [[norm(l) for l in out], [norm(l) for l in err]]
    pos = [0, 0]
    wild = False
    for e in expected:
        if e.strip() == "...":
            wild = True
            continue
        ne = norm(e)
        hit = None
        for s in (0, 1):
            if pos[s] < len(streams[s]) and streams[s][pos[s]] == ne:
                hit = s
                break
        if hit is None and wild:
            for s in (1, 0):
                if ne in streams[s][pos[s]:]:
                    hit = s
                    pos[s] = streams[s].index(ne, pos[s])
                    break
        if hit is None:
            nxt = [streams[s][pos[s]] if pos[s] < len(streams[s]) else "(nothing)" for s in (0, 1)]
            return "shown %r\n  printed next: stdout %r, stderr %r" % (e, nxt[0], nxt[1])
        pos[hit] += 1
        wild = False
    if not wild:
        left = streams[0][pos[0]:] + streams[1][pos[1]:]
        if left:
            return "printed but not shown: %r" % left[:3]
    return None


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    wb, doc, fixtures = os.path.abspath(argv[1]), argv[2], os.path.abspath(argv[3])
    shared = os.path.abspath(argv[4]) if len(argv) > 4 and argv[4] else None
    d = tempfile.mkdtemp(prefix="wb-docs.")
    try:
        bindir = os.path.join(d, ".bin")
        os.mkdir(bindir)
        with open(os.path.join(bindir, "wordbench"), "w") as f:
            f.write('#!/bin/sh\nexec "%s" "$@"\n' % wb)
        os.chmod(os.path.join(bindir, "wordbench"), 0o755)
        work = os.path.join(d, "w")
        os.mkdir(work)
        setup(work, fixtures, shared)
        env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"], LC_ALL="C.UTF-8")
        env.pop("MALLOC_CONF", None)
        subprocess.run(["wordbench", "convert", "-q", "ptb.txt", "ptb.store"], cwd=work, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        passed = failed = skipped = 0
        for lineno, cmd, exp in examples(doc):
            why = next((r for k, r in SKIP.items() if cmd.startswith(k)), None)
            if why is None:
                for name in SHARED_FILES:
                    if re.search(r"(^|\s)%s(\s|$)" % re.escape(name), cmd) and not os.path.exists(os.path.join(work, name)):
                        why = "needs %s (../shared/data)" % name
            if why:
                print("docs/cli.md:%d: skipped (%s): %s" % (lineno, why, cmd), file=sys.stderr)
                skipped += 1
                continue
            code = 0
            shown = []
            for e in exp:
                m = re.fullmatch(r"\[exit (\d+)\]", e.strip())
                if m:
                    code = int(m.group(1))
                elif not e.startswith("# "):
                    shown.append(e)
            for rx, prep in BEFORE:
                if re.search(rx, cmd):
                    subprocess.run(prep, shell=True, cwd=work, env=env, check=True)
            m = re.match(r"^wordbench convert (?:-q )?(\S+) (\S+)$", cmd)
            if m and code == 0 and not any("exists" in e for e in shown):
                shutil.rmtree(os.path.join(work, m.group(2)), ignore_errors=True)  # a first conversion
            if m and any("exists (use --force" in e for e in shown) and not os.path.exists(os.path.join(work, m.group(2))):
                subprocess.run(["wordbench", "convert", "-q", m.group(1), m.group(2)], cwd=work, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out = r.stdout.decode("utf-8", "replace").splitlines()
            err = r.stderr.decode("utf-8", "replace").splitlines()
            problem = None
            if r.returncode != code:
                problem = "exit %d, the document shows %d" % (r.returncode, code)
            else:
                problem = compare(shown, out, err)
            if problem:
                failed += 1
                print("docs/cli.md:%d: %s\n  %s\n  printed:\n    %s" % (lineno, cmd, problem,
                      "\n    ".join(out + err)), file=sys.stderr)
            else:
                passed += 1
        print("docs_examples: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
        if passed + failed == 0:
            return 77
        return 1 if failed else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
