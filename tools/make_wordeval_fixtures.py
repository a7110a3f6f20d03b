#!/usr/bin/python3
"""make_wordeval_fixtures.py — write fixtures/wordeval/: small word vectors,
analogy questions and word pairs built to exercise every convention of
gensim's benchmarks, and gensim 4.2's results on them, which
tests/test_wordeval.c and tests/cli/evaluate_commands.sh compare with.

Usage: /usr/bin/python3 tools/make_wordeval_fixtures.py [OUTDIR]
OUTDIR defaults to fixtures/wordeval.  Needs numpy, scipy and gensim 4.2
(Debian python3-gensim).  Deterministic: numpy's Generator with a fixed seed;
values printed with %.6g.

Files:
  vectors.txt     GloVe text, 2600 rows x 24.  Planted structure so that
                  analogies are often (not always) right: country = city +
                  offset + noise, plural = singular + offset + noise, in the
                  first 1500 rows; the words of the section 'late-words' sit
                  after row 2000 (out of vocabulary with --restrict-vocab
                  2000).  Case variants: 'Berlin' before 'berlin' (its vector
                  wins), 'GERMANY' and 'PARIS' after theirs, near them (a
                  variant of a question word is passed over; one of the
                  answer counts as right); 'straße' (upper-cased 'STRASSE',
                  as questions spell it); a zero vector 'zerovec'.
  questions.txt   ': section' lines and questions: mixed case, lines of 3
                  and 5 words and a blank line (skipped), a section whose
                  words are all unknown, CRLF line ends, a section line
                  with odd spacing, degenerate questions (a == c, all four
                  equal).
  pairs.tsv       '#' comments, 70 scored pairs with tied scores, unknown
                  words, case variants, CRLF and lone CR line ends, lines
                  with 2 or 4 fields or a bad number (skipped), scores
                  written '1_0', ' 7.5 ' and with Arabic-Indic digits (all
                  numbers to Python's float()).
  expected.txt    gensim's results for the configurations listed in it
                  (see tests/test_wordeval.c for the format).
  stats.txt       scipy's pearsonr / spearmanr / betainc / t.sf on fixed
                  inputs with ties, for tests/test_stats.c.
"""
import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gensim_wordeval  # noqa: E402

SEED = 20240615
DIM = 24
ROWS = 2600

CITIES = ["athens", "berlin", "paris", "rome", "madrid", "lisbon", "vienna", "oslo", "cairo", "tokyo", "lima",
          "delhi"]
COUNTRIES = ["greece", "germany", "france", "italy", "spain", "portugal", "austria", "norway", "egypt", "japan",
             "peru", "india"]
SINGULAR = ["cat", "dog", "straße", "car", "tree", "house", "bird", "key", "ship", "road"]
PLURAL = ["cats", "dogs", "straßen", "cars", "trees", "houses", "birds", "keys", "ships", "roads"]
LATE_A = ["alpha", "beta", "gamma", "delta"]
LATE_B = ["alphas", "betas", "gammas", "deltas"]

# Configurations of expected.txt: name, restrict_vocab, case_sensitive, dummy4unknown, method.
CONFIGS = [
    ("default", 300000, 0, 0, "add"),
    ("restrict2000", 2000, 0, 0, "add"),
    ("case", 300000, 1, 0, "add"),
    ("dummy", 2000, 0, 1, "add"),
    ("mul", 300000, 0, 0, "mul"),
    ("mul_restrict", 2000, 0, 1, "mul"),
]


def filler_words(rng, n, taken):
    letters = "bcdfghjklmnprstvwz"
    vowels = "aeiou"
    out = []
    while len(out) < n:
        k = int(rng.integers(2, 5))
        w = "".join(letters[int(rng.integers(len(letters)))] + vowels[int(rng.integers(5))] for _ in range(k))
        w += "q"  # no filler can equal a planted word
        if w not in taken:
            taken.add(w)
            out.append(w)
    return out


def build_vectors(rng):
    rows = [None] * ROWS
    vec = {}
    off_country = rng.normal(0, 1, DIM)
    off_plural = rng.normal(0, 1, DIM)
    for c, k in zip(CITIES, COUNTRIES):
        vec[c] = rng.normal(0, 1, DIM)
        vec[k] = vec[c] + off_country + rng.normal(0, 0.8, DIM)
    for s, p in zip(SINGULAR, PLURAL):
        vec[s] = rng.normal(0, 1, DIM)
        vec[p] = vec[s] + off_plural + rng.normal(0, 0.8, DIM)
    for a, b in zip(LATE_A, LATE_B):
        vec[a] = rng.normal(0, 1, DIM)
        vec[b] = vec[a] + off_plural + rng.normal(0, 0.3, DIM)
    # fixed places: planted words spread over the first 1500 rows, late words after 2000
    planted = CITIES + COUNTRIES + SINGULAR + PLURAL
    places = sorted(rng.choice(np.arange(20, 1500), size=len(planted), replace=False))
    order = list(rng.permutation(len(planted)))
    for pos, i in zip(places, order):
        rows[pos] = planted[i]
    for i, w in enumerate(LATE_A + LATE_B):
        rows[2050 + 37 * i] = w
    # case variants and the zero row
    rows[3] = "Berlin"
    vec["Berlin"] = vec["berlin"] + rng.normal(0, 0.05, DIM)
    rows[1800] = "GERMANY"
    vec["GERMANY"] = vec["germany"] + rng.normal(0, 0.02, DIM)
    rows[1801] = "PARIS"
    vec["PARIS"] = vec["paris"] + rng.normal(0, 0.02, DIM)
    rows[10] = "zerovec"
    vec["zerovec"] = np.zeros(DIM)
    taken = set(w for w in rows if w) | set(vec)
    free = [i for i in range(ROWS) if rows[i] is None]
    for i, w in zip(free, filler_words(rng, len(free), taken)):
        rows[i] = w
        vec[w] = rng.normal(0, 1, DIM)
    return rows, vec


def write_vectors(path, rows, vec):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for w in rows:
            f.write(w + " " + " ".join("%.6g" % x for x in vec[w]) + "\n")


def write_questions(path, rng):
    b = io.StringIO(newline="")
    b.write(": capital-country\n")
    n = len(CITIES)
    for i in range(n):
        for d in (1, 2, 3, 5):
            j = (i + d) % n
            a, bb, c, dd = CITIES[i], COUNTRIES[i], CITIES[j], COUNTRIES[j]
            if (i + d) % 4 == 0:  # mixed case, as the Google set spells names
                a, c = a.capitalize(), c.upper()
            b.write("%s %s %s %s\n" % (a, bb, c, dd))
    b.write(":   \tgram-plural  \r\n")  # lstrip(': ') then strip(): 'gram-plural'
    m = len(SINGULAR)
    for i in range(m):
        for d in (1, 3, 4):
            j = (i + d) % m
            s1, p1, s2, p2 = SINGULAR[i], PLURAL[i], SINGULAR[j], PLURAL[j]
            if s1 == "straße":
                s1, p1 = "STRASSE", "Strassen"  # upper-case 'straße' is 'STRASSE'
            b.write("%s %s %s %s\r\n" % (s1, p1, s2, p2))
    b.write("cat cats dog\n")           # 3 words: skipped
    b.write("cat cats dog dogs more\n")  # 5 words: skipped
    b.write("\n")                       # blank: skipped
    b.write(": unknown-words\n")
    b.write("foo bar baz qux\nathens greece nosuchcity nosuchcountry\n")
    b.write(": late-words\n")
    for i in range(len(LATE_A)):
        j = (i + 1) % len(LATE_A)
        b.write("%s %s %s %s\n" % (LATE_A[i], LATE_B[i], LATE_A[j], LATE_B[j]))
    b.write(": degenerate\n")
    b.write("athens greece athens greece\ncat cats cat cats\nathens athens athens athens\n")
    b.write("berlin germany paris france\nparis france berlin germany\n")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(b.getvalue())


def write_pairs(path, rng, vec):
    lines = ["# word pairs for tests/test_wordeval.c", "# Word 1\tWord 2\tHuman (mean)"]
    words = CITIES + COUNTRIES + SINGULAR + PLURAL
    for k in range(70):
        a, b = words[int(rng.integers(len(words)))], words[int(rng.integers(len(words)))]
        cos = float(np.dot(vec[a], vec[b]) / np.linalg.norm(vec[a]) / np.linalg.norm(vec[b]))
        score = round((cos + 1) * 5 + float(rng.normal(0, 1.5)), 0) / 2 + 2  # coarse: many ties
        if k % 11 == 0:
            a = a.upper()
        lines.append("%s\t%s\t%s" % (a, b, "%g" % score))
    lines += ["cat\tnosuchword\t3.5", "nosuchword\tdog\t2", "tiger\tcat"]  # unknown words; 2 fields
    lines += ["cat\tdog\t7.5\textra", "dog\tcar\tseven", "straße\tSTRASSE\t10"]
    lines += ["paris\tfrance\t1_0", "rome\titaly\t 7.5 ", "oslo\tnorway\t\u0668.\u0665", "tree\ttrees\t9"]
    text = "\n".join(lines[:20]) + "\r\n" + "\r\n".join(lines[20:40]) + "\r" + "\r".join(lines[40:50]) + "\n" + \
        "\n".join(lines[50:]) + "\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_stats(path):
    from scipy import special, stats
    r = np.random.default_rng(7)
    out = ["# scipy %s: pearson n r p / spearman n rho p / betainc a b x value / tsf t df value"
           % __import__("scipy").__version__]
    cases = [
        (np.round(r.normal(0, 1, 40), 1), None),
        (np.arange(12.0), None),
        (np.array([1, 2, 2, 3, 3, 3, 4, 5, 5, 6.0]), np.array([2, 1, 4, 3, 3, 6, 5, 5, 8, 7.0])),
        (np.array([3.0, 1.0, 2.0]), np.array([1.0, 3.0, 2.5])),
    ]
    for x, y in cases:
        if y is None:
            y = np.round(x * 0.7 + r.normal(0, 1, len(x)), 0)
        p = stats.pearsonr(x, y)
        s = stats.spearmanr(x, y)
        out.append("data %d %s %s" % (len(x), " ".join("%.17g" % v for v in x), " ".join("%.17g" % v for v in y)))
        out.append("pearson %.17g %.17g" % (p[0], p[1]))
        out.append("spearman %.17g %.17g" % (s[0], s[1]))
    for a, b, x in [(0.5, 0.5, 0.3), (175.5, 175.5, 0.15), (2.0, 3.5, 0.9), (30.0, 0.5, 0.4), (1.0, 1.0, 0.25),
                    (349.0 / 2, 0.5, 0.6)]:
        out.append("betainc %.17g %.17g %.17g %.17g" % (a, b, x, special.betainc(a, b, x)))
    for t, df in [(2.5, 10.0), (-1.0, 3.0), (12.0, 351.0), (0.0, 7.0), (40.0, 997.0)]:
        out.append("tsf %.17g %.17g %.17g" % (t, df, stats.t.sf(t, df)))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def write_expected(path, outdir):
    kv = gensim_wordeval.load(os.path.join(outdir, "vectors.txt"), "glove")
    q, p = os.path.join(outdir, "questions.txt"), os.path.join(outdir, "pairs.tsv")
    out = ["# gensim %s results on vectors.txt, questions.txt, pairs.tsv" % __import__("gensim").__version__,
           "# config NAME RESTRICT CASE_SENSITIVE DUMMY4UNKNOWN METHOD",
           "# section CORRECT INCORRECT NAME | total CORRECT INCORRECT QUESTIONS OOV",
           "# pairs PEARSON PEARSON_P SPEARMAN SPEARMAN_P OOV_RATIO"]
    for name, restrict, case, dummy, method in CONFIGS:
        res = gensim_wordeval.run(kv, [q], [p], restrict, not case, bool(dummy), method)
        out.append("config %s %d %d %d %s" % (name, restrict, case, dummy, method))
        a = res["analogies"][0]
        for s in a["sections"]:
            out.append("section %d %d %s" % (s["correct"], s["incorrect"], s["section"]))
        out.append("total %d %d %d %d" % (a["total"]["correct"], a["total"]["incorrect"], a["questions"], a["oov"]))
        pr = res["pairs"][0]
        out.append("pairs %.17g %.17g %.17g %.17g %.17g" % (pr["pearson"], pr["pearson_p"], pr["spearman"],
                                                             pr["spearman_p"], pr["oov_ratio"]))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    root = os.path.dirname(HERE)
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "fixtures", "wordeval")
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    rows, vec = build_vectors(rng)
    write_vectors(os.path.join(outdir, "vectors.txt"), rows, vec)
    write_questions(os.path.join(outdir, "questions.txt"), rng)
    write_pairs(os.path.join(outdir, "pairs.tsv"), rng, vec)
    write_stats(os.path.join(outdir, "stats.txt"))
    write_expected(os.path.join(outdir, "expected.txt"), outdir)
    print("wrote %s" % outdir)


if __name__ == "__main__":
    main()
