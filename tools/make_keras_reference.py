#!/usr/bin/python3
"""Write fixtures/keras/text_to_word_sequence.jsonl: the reference for the
`keras` tokenizer (src/text/tokenize.c, tests/test_tokenize.c).

Runs Debian's python3-keras-preprocessing 1.1 (run with /usr/bin/python3):
text_to_word_sequence(text) with its defaults on hand-picked lines plus
lines generated deterministically (fixed seed) from fragments: ASCII,
accents, emoji, CJK, curly quotes, tabs and other white space, HTML, Greek
with final sigma, Turkish dotted I, German sharp s, ligatures, zero-width
joiners, numbers, URLs, e-mail addresses, repeated punctuation.

One JSON object per line, {"text": ..., "tokens": [...]}, written with
ensure_ascii=False so only \\" \\\\ \\n \\t \\r and \\uXXXX for other control
characters appear as escapes.  Usage: /usr/bin/python3 tools/make_keras_reference.py [OUT]
"""
import json
import os
import random
import sys

from keras_preprocessing.text import text_to_word_sequence

HAND = [
    "",
    " ",
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines\r\nand CR\rvertical\vform\ffeed",
    "non\u00a0breaking\u00a0space and ideographic\u3000space",
    "don't stop-believing; it's O'Reilly's",
    "e-mail: john.doe+spam@example.com, url: https://example.org/a/b?c=d&e=f#frag",
    "C++ and C# are languages; so is F#.",
    "3.14159 is pi, 2,718 is e, 1e-10 is small, -5 is negative, 50% off, $100",
    "!!!???...,,,;;;:::",
    "wait...what?!?!",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber \u00c5ngstr\u00f6m",
    "STRASSE Stra\u00dfe GRO\u1e9e gro\u00df",
    "\u0130stanbul \u0130ZM\u0130R I\u0131 \u0131\u0130",
    "\u039f\u0394\u039f\u03a3 \u039f\u0394\u039f\u03a3. \u03a3 \u0391\u03a3\u03a3\u0391 \u039c\u0395\u03a3\u0391\u03a3\u03a3\u0399\u039d\u0391\u03a3",
    "\u03a3\u0391\u03a3, \u03a3\u0391\u03a3's \u03a3\u0391\u03a3.\u0391 \u0391\u03a3\u0301 \u0391\u03a3\u0301\u0392 \u0391\u03a3'\u0392 \u0391\u03a3:1",
    "\ufb01nance \ufb02ow \ufb00 \ufb03 \u0132 \u01c4 \u01c5 \u01c6",
    "family: \U0001f468\u200d\U0001f469\u200d\U0001f467 flag: \U0001f1fa\U0001f1f8 thumbs \U0001f44d\U0001f3fd",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "\u4eca\u65e5\u306f\u3001\u4e16\u754c\uff01 \u4f60\u597d\uff0c\u4e16\u754c\u3002 \uc548\ub155\ud558\uc138\uc694",
    "\u201ccurly quotes\u201d and \u2018single\u2019 and \u00abguillemets\u00bb \u2014 dashes \u2013 ok",
    "<p>Some <b>HTML</b> &amp; entities &lt;tag&gt; &quot;quoted&quot;</p>",
    "<a href=\"https://stackoverflow.com/q/123\">link</a><br/>next",
    "FULLWIDTH \uff21\uff22\uff23 \uff41\uff42\uff43 \uff11\uff12\uff13",
    "Roman \u2160\u2161\u2162 circled \u24b6\u24b7 \u24d0",
    "Kelvin \u212a \u212b Ohm \u2126",
    "Cyrillic \u041f\u0420\u0418\u0412\u0415\u0422 \u043c\u0438\u0440 \u0401\u0436",
    "Armenian \u0535\u0582 Georgian \u10a0\u10a1 Cherokee \u13a0\u13a1 \uab70",
    "Deseret \U00010400\U00010401 Adlam \U0001e900",
    "under_score and back\\slash and pipe|bar and tilde~ and caret^ and grave`",
    "a\u0301 e\u0300 combining o\u0308",
    "\u00c0\u00c1\u00c2\u00c3\u00c4\u00c5\u00c6\u00c7\u00c8\u00c9 \u00d0\u00d1\u00d8\u00de",
    "Emoji\U0001f600only\U0001f680",
    "#hashtag @mention $ticker %percent &and *star",
    "a-b-c a/b/c a.b.c a:b:c a;b;c",
    "\u0000nul\u0001soh\u001fus\u007fdel",
    "MiXeD CaSe WoRdS",
    "\u1f08\u1f09 \u1f88 \u1fbc Greek extended",
]

FRAGMENTS = [
    "hello", "World", "THE", "Don't", "it's", "caf\u00e9", "Na\u00efve", "\u00fcber",
    "Stra\u00dfe", "GROSS", "\u0130", "\u0130stanbul", "\u0131", "\u03a3", "\u039f\u0394\u039f\u03a3",
    "\u03a3\u03a3", "\u039c\u0391\u03a3", "\u03c3\u03c2", "\ufb01", "\ufb02ow", "\U0001f600",
    "\U0001f44d\U0001f3fd", "\u200d", "\u200b", "\u4e2d\u6587", "\u65e5\u672c\u8a9e",
    "\ud55c\uad6d\uc5b4", "\u201cquote\u201d", "\u2018x\u2019", "\u00ab", "\u00bb", "\u2014",
    "\t", "\n", "\r", "\u00a0", "\u3000", "\u2003", "<b>", "</b>", "&amp;", "&lt;",
    "42", "3.14", "1,000", "-7", "2024-01-01", "https://ex.com/p?q=1", "a.b@c.de",
    "!!!", "???", "...", "--", "(x)", "[y]", "{z}", "\"q\"", "'s", "`t`", "^", "~",
    "_", "|", "\\", "/", "#1", "@u", "$5", "%", "&", "*", "+", "=", "<", ">", ";", ":",
    "\u0301", "\u0308", "a\u0308", "\u1e9e", "\u212a", "\u2126", "\u0178", "\u00ff",
    "\u0401", "\u0451", "\uff21\uff22", "\u2160", "\u24b6", "\U00010400", "\u01c5",
]
SEPS = [" ", " ", " ", "", ",", ". ", "\t", "  ", "-", "/", "'"]


def generated(n, seed=20240601):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        k = rnd.randint(1, 12)
        parts = []
        for _ in range(k):
            parts.append(rnd.choice(FRAGMENTS))
            parts.append(rnd.choice(SEPS))
        out.append("".join(parts))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "fixtures", "keras", "text_to_word_sequence.jsonl")
    lines = HAND + generated(300)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for t in lines:
            f.write(json.dumps({"text": t, "tokens": text_to_word_sequence(t)},
                               ensure_ascii=False) + "\n")
    print("%s: %d lines" % (path, len(lines)), file=sys.stderr)


if __name__ == "__main__":
    main()
