#!/usr/bin/python3
"""Write fixtures/keras/tokenizer_reference.json: the reference for the
vocabulary and index sequences (src/text/vocab.c, tests/test_vocab.c).

Runs Debian's python3-keras-preprocessing 1.1 (run with /usr/bin/python3):
Tokenizer(num_words=N, oov_token='<oov>').fit_on_texts(train), then
texts_to_sequences + pad_sequences(maxlen, padding, truncating) on the train
and the test sentences, for every N in (None, 5, 20, 50), maxlen in (5, 12)
and padding x truncating in {pre, post}^2.

The corpus is generated deterministically (fixed seed) from a word list with
a skewed distribution, so there are repeated words and ties in the counts,
mixed case and punctuation; the test sentences add words never seen in
training.  A few hand-written lines cover empty text and punctuation only.

Layout (one JSON document, ASCII with \\uXXXX escapes, compact):
  {"keras_preprocessing": "1.1.0", "oov_token": "<oov>",
   "train": [text, ...], "test": [text, ...],
   "word_index": [[word, index], ...]   first 100 entries, in index order,
   "word_counts": [[word, count], ...]  first 100 entries, insertion order,
   "cases": [{"num_words": N or null, "maxlen": M, "padding": "pre"|"post",
              "truncating": "pre"|"post",
              "train_seq": [[int, ...], ...], "test_seq": [[...], ...]}, ...]}
Usage: /usr/bin/python3 tools/make_keras_tokenizer_reference.py [OUT]
"""
import json
import os
import random
import sys

import keras_preprocessing
from keras_preprocessing.sequence import pad_sequences
from keras_preprocessing.text import Tokenizer

WORDS = ("the a of and to in is it that was for on are with as his they be at one "
         "have this from or had by hot word but what some we can out other were all "
         "there when up use your how said an each she which do their time if will way "
         "about many then them write would like so these her long make thing see him "
         "two has look more day could go come did number sound no most people my over "
         "know water than call first who may down side been now find any new work part "
         "take get place made live where after back little only round man year came "
         "show every good me give our under name very through just form sentence great "
         "think say help low line differ turn cause much mean before move right boy old "
         "too same tell does set three want air well also play small end put home read "
         "hand port large spell add even land here must big high such follow act why ask "
         "men change went light kind off need house picture try us again animal point "
         "mother world near build self earth father").split()
UNSEEN = ("zebra quokka axolotl narwhal pangolin okapi tapir wombat dugong "
          "caracal").split()
PUNCT = ["", "", "", ",", ".", "!", "?", ";", " -", "...", ":"]

HAND_TRAIN = [
    "",
    "!!! ... ???",
    "The THE the tHe, the.",
    "Tie one: apple banana cherry.",
    "tie two: cherry banana apple",
    "Don't stop-believing; it's O'Reilly's cafe\u0301 Caf\u00e9",
]
HAND_TEST = [
    "",
    "...",
    "zebra zebra zebra",
    "the apple and the zebra, the end",
    "A very long test sentence with many words so that truncation at twelve "
    "tokens really matters here, and the unseen quokka too.",
]


def sentence(rng, vocab, lo, hi):
    n = rng.randint(lo, hi)
    out = []
    for _ in range(n):
        # skewed: low indices much more likely (repeats and many ties in the tail)
        i = min(int(rng.paretovariate(1.1)) - 1, len(vocab) - 1)
        if rng.random() < 0.5:
            i = rng.randrange(len(vocab))
        w = vocab[i]
        r = rng.random()
        if r < 0.08:
            w = w.capitalize()
        elif r < 0.1:
            w = w.upper()
        out.append(w + rng.choice(PUNCT))
    return " ".join(out)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "keras",
        "tokenizer_reference.json")
    rng = random.Random(20240604)
    train = HAND_TRAIN + [sentence(rng, WORDS, 1, 16) for _ in range(194)]
    test = HAND_TEST + [sentence(rng, WORDS + UNSEEN * 3, 1, 16) for _ in range(35)]

    base = Tokenizer(oov_token="<oov>")
    base.fit_on_texts(train)
    word_index = sorted(base.word_index.items(), key=lambda kv: kv[1])[:100]
    word_counts = list(base.word_counts.items())[:100]

    cases = []
    for nw in (None, 5, 20, 50):
        tok = Tokenizer(num_words=nw, oov_token="<oov>")
        tok.fit_on_texts(train)
        assert tok.word_index == base.word_index
        tr = tok.texts_to_sequences(train)
        te = tok.texts_to_sequences(test)
        for maxlen in (5, 12):
            for padding in ("pre", "post"):
                for truncating in ("pre", "post"):
                    def pad(seqs):
                        return pad_sequences(seqs, maxlen=maxlen, padding=padding,
                                             truncating=truncating).tolist()
                    cases.append({"num_words": nw, "maxlen": maxlen,
                                  "padding": padding, "truncating": truncating,
                                  "train_seq": pad(tr), "test_seq": pad(te)})

    doc = {"keras_preprocessing": keras_preprocessing.__version__,
           "oov_token": "<oov>", "train": train, "test": test,
           "word_index": [list(kv) for kv in word_index],
           "word_counts": [list(kv) for kv in word_counts],
           "cases": cases}
    with open(out, "w", encoding="ascii") as f:
        json.dump(doc, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
