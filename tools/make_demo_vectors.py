#!/usr/bin/env python3
"""Write fixtures/vectors/demo.glove.txt: ~60 words x 16 dims, GloVe text.

The vectors are hand-designed, not trained: each word is a sum of a few
semantic directions (royalty, gender, age, animal, food, ...) plus small
deterministic noise, so neighbours and analogies behave like real embeddings
(king - man + woman -> queen) on a file small enough to commit.
Run: /usr/bin/python3 tools/make_demo_vectors.py  (no third-party modules).
"""
import os
import random

DIMS = ["royal", "male", "female", "young", "person", "animal", "food", "fruit",
        "sweet", "drink", "place", "big", "plural", "verb", "good", "bad"]

WORDS = {
    "king": "royal male person", "queen": "royal female person",
    "prince": "royal male young person", "princess": "royal female young person",
    "man": "male person", "woman": "female person", "boy": "male young person",
    "girl": "female young person", "men": "male person plural", "women": "female person plural",
    "father": "male person big", "mother": "female person big", "son": "male young person",
    "daughter": "female young person", "uncle": "male person", "aunt": "female person",
    "dog": "animal", "cat": "animal", "puppy": "animal young", "kitten": "animal young",
    "dogs": "animal plural", "cats": "animal plural", "horse": "animal big", "mouse": "animal",
    "lion": "animal big royal", "apple": "food fruit sweet", "banana": "food fruit sweet",
    "orange": "food fruit sweet", "bread": "food", "cheese": "food", "cake": "food sweet",
    "sugar": "food sweet", "water": "drink", "coffee": "drink", "tea": "drink", "wine": "drink sweet",
    "milk": "drink food", "city": "place big", "village": "place", "castle": "place royal big",
    "palace": "place royal", "kitchen": "place food", "house": "place", "run": "verb",
    "eat": "verb food", "drink_v": "verb drink", "cook": "verb food", "sleep": "verb",
    "good": "good", "great": "good big", "bad": "bad", "terrible": "bad big",
    "happy": "good person", "sad": "bad person", "the": "", "a": "", "of": "", "and": "",
    "café": "place drink", "naïve": "bad young",
}


def main():
    rnd = random.Random(20261130)
    out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "vectors", "demo.glove.txt")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for word, feats in WORDS.items():
            v = [rnd.gauss(0.0, 0.08) for _ in DIMS]
            for feat in feats.split():
                v[DIMS.index(feat)] += 1.0
            f.write(word + " " + " ".join("%.5f" % x for x in v) + "\n")


if __name__ == "__main__":
    main()
