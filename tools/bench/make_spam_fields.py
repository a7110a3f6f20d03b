#!/usr/bin/python3
"""make_spam_fields.py — a data set of two text fields and hand-made numeric features from the
SpamAssassin e-mails (../shared/data/spamassassin/emails.csv), for the multi-input figure of
issue 11 (tools/bench/bench_multi.sh).

Each e-mail becomes one CSV record `label,subject,body,links,caps,length,exclaims,html`:
  subject   the Subject header (continuation lines joined; MIME encoded-words left as they are)
  body      everything after the first blank line (the headers dropped)
  links     occurrences of "http://" or "https://" in the body
  caps      upper-case letters / letters of the body (0 when it has none)
  length    log(1 + characters of the body)
  exclaims  '!' in subject and body
  html      1 when the body holds an <html or <body tag, else 0
Then --folds K stratified folds (seeded): OUT/fold<i>-train.csv and OUT/fold<i>-test.csv, i = 1..K,
each test file one fold, its train file the other K-1 (label order kept within a fold).

Usage: make_spam_fields.py [--emails CSV] [--folds 5] [--seed 1] OUTDIR
Run with /usr/bin/python3 (standard library only).
"""
import argparse
import csv
import math
import os
import random
import re
import sys

HEADER = ["label", "subject", "body", "links", "caps", "length", "exclaims", "html"]


def fields(raw):
    head, sep, body = raw.replace("\r\n", "\n").partition("\n\n")
    if not sep:
        body = ""
    subject = ""
    lines = head.split("\n")
    for i, ln in enumerate(lines):
        if ln.lower().startswith("subject:"):
            parts = [ln[8:].strip()]
            for nxt in lines[i + 1:]:
                if nxt[:1] in (" ", "\t"):
                    parts.append(nxt.strip())
                else:
                    break
            subject = " ".join(parts)
            break
    letters = [c for c in body if c.isalpha()]
    caps = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
    links = len(re.findall(r"https?://", body, re.I))
    html = 1 if re.search(r"<\s*(html|body)\b", body, re.I) else 0
    return subject, body, links, caps, math.log1p(len(body)), subject.count("!") + body.count("!"), html


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emails", default=os.path.join(here, "../../../shared/data/spamassassin/emails.csv"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("out")
    a = ap.parse_args()
    if a.folds < 2:
        ap.error("--folds must be at least 2")
    csv.field_size_limit(1 << 30)
    rows = []
    with open(a.emails, newline="", encoding="utf-8", errors="replace") as f:
        for r in csv.DictReader(f):
            s, b, links, caps, length, ex, html = fields(r["text"])
            if not (s.strip() or b.strip()):
                continue
            rows.append([r["label"], s, b, str(links), "%.6f" % caps, "%.6f" % length, str(ex), str(html)])
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    fold = [0] * len(rows)
    for lab in sorted({r[0] for r in rows}):  # stratified: each label dealt round-robin after a shuffle
        idx = [i for i, r in enumerate(rows) if r[0] == lab]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % a.folds
    for k in range(a.folds):
        for part, keep in (("train", lambda i: fold[i] != k), ("test", lambda i: fold[i] == k)):
            with open(os.path.join(a.out, "fold%d-%s.csv" % (k + 1, part)), "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(HEADER)
                for i, r in enumerate(rows):
                    if keep(i):
                        w.writerow(r)
    print("%d e-mails, %d folds in %s" % (len(rows), a.folds, a.out), file=sys.stderr)


if __name__ == "__main__":
    main()
