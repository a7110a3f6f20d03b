#!/usr/bin/env python3
"""Write the small labelled fixture data sets the README's tour, the CLI tests
and the examples train on.  Deterministic (fixed seed); words come from
fixtures/vectors/demo.glove.txt plus a few the store lacks (so coverage and
OOV handling are exercised).

    python3 tools/make_demo_data.py        # rewrites fixtures/text/demo_*

Outputs:
  demo_sentiment.tsv       text<TAB>label (0/1), 400 lines, UCI layout
  demo_sentiment_test.tsv  100 more lines from the same distribution
  demo_topics.txt          fastText format, 300 lines, 1-2 of 4 topic labels
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "text")

POS = ["good", "great", "happy"]
NEG = ["bad", "terrible", "sad"]
TOPICS = {
    "royalty": ["king", "queen", "prince", "princess", "castle", "palace"],
    "animals": ["dog", "cat", "puppy", "kitten", "horse", "mouse", "lion"],
    "food": ["apple", "banana", "orange", "bread", "cheese", "cake", "sugar", "coffee", "tea", "wine", "milk"],
    "family": ["man", "woman", "boy", "girl", "father", "mother", "son", "daughter", "uncle", "aunt"],
}
FILLER = ["the", "a", "of", "and", "city", "village", "kitchen", "house", "run", "eat", "cook", "sleep",
          "zorblax", "quuxly", "flimber"]  # the last three are not in the demo store


def sentence(rng, label):
    words = [rng.choice(FILLER) for _ in range(rng.randint(2, 7))]
    topic = rng.choice(list(TOPICS))
    words += [rng.choice(TOPICS[topic]) for _ in range(rng.randint(1, 3))]
    words.append(rng.choice(POS if label else NEG))
    if rng.random() < 0.15:  # some noise: a word of the other polarity
        words.append(rng.choice(NEG if label else POS))
    rng.shuffle(words)
    s = " ".join(words)
    return s[0].upper() + s[1:] + rng.choice([".", "!", "", "..."])


def topics_line(rng):
    names = sorted(rng.sample(list(TOPICS), rng.choice([1, 1, 1, 2])))
    words = [rng.choice(FILLER) for _ in range(rng.randint(1, 4))]
    for n in names:
        words += [rng.choice(TOPICS[n]) for _ in range(rng.randint(2, 4))]
    rng.shuffle(words)
    return " ".join("__label__" + n for n in names) + " " + " ".join(words).capitalize() + "?"


def main():
    rng = random.Random(20261130)
    with open(os.path.join(OUT, "demo_sentiment.tsv"), "w") as f:
        for _ in range(400):
            y = rng.randint(0, 1)
            f.write(f"{sentence(rng, y)}\t{y}\n")
    with open(os.path.join(OUT, "demo_sentiment_test.tsv"), "w") as f:
        for _ in range(100):
            y = rng.randint(0, 1)
            f.write(f"{sentence(rng, y)}\t{y}\n")
    with open(os.path.join(OUT, "demo_topics.txt"), "w") as f:
        for _ in range(300):
            f.write(topics_line(rng) + "\n")


if __name__ == "__main__":
    main()
