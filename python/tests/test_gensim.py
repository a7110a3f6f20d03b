"""wordbench.Store against gensim 4's KeyedVectors on the same vectors (fixtures/vectors/demo.glove.txt):
the same neighbours in the same order, and scores within 1e-5."""

import numpy as np
import pytest

import wordbench

gensim_models = pytest.importorskip("gensim.models")

TOL = 1e-5


@pytest.fixture(scope="module")
def pair(demo_store, demo_txt):
    gkv = gensim_models.KeyedVectors.load_word2vec_format(demo_txt, binary=False, no_header=True)
    return wordbench.Store(demo_store), gkv


def same(ours, theirs):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert np.allclose([s for _, s in ours], [s for _, s in theirs], atol=TOL, rtol=0)


def test_vocabulary_and_vectors(pair):
    kv, gkv = pair
    assert len(kv) == len(gkv) and kv.vector_size == gkv.vector_size
    assert list(kv.index_to_key) == list(gkv.index_to_key)
    assert all(kv.key_to_index[w] == i for w, i in gkv.key_to_index.items())
    assert np.array_equal(np.asarray(kv.vectors), gkv.vectors)
    for w in ("king", "queen", "cake"):
        assert np.array_equal(kv[w], gkv[w])
        assert np.allclose(kv.get_vector(w, norm=True), gkv.get_vector(w, norm=True), atol=1e-7)
    assert np.array_equal(kv[["king", "queen"]], gkv[["king", "queen"]])


@pytest.mark.parametrize("positive,negative", [
    (["king"], []),
    (["queen"], []),
    (["king", "woman"], ["man"]),
    (["prince", "girl"], ["boy"]),
    ([], ["king"]),
    (["cake", "coffee", "bread"], []),
])
def test_most_similar(pair, positive, negative):
    kv, gkv = pair
    for topn in (1, 5, 20):
        same(kv.most_similar(positive=positive, negative=negative, topn=topn),
             gkv.most_similar(positive=positive, negative=negative, topn=topn))


def test_single_word_and_vectors(pair):
    kv, gkv = pair
    same(kv.most_similar("king", topn=5), gkv.most_similar("king", topn=5))
    same(kv.similar_by_word("queen", topn=5), gkv.similar_by_word("queen", topn=5))
    v = kv["king"] - kv["man"] + kv["woman"]
    same(kv.similar_by_vector(v, topn=5), gkv.similar_by_vector(v, topn=5))
    # a vector among the words counts as given, not normalised (gensim's rule)
    same(kv.most_similar(positive=["king", v], topn=5), gkv.most_similar(positive=["king", v], topn=5))


def test_similarity_distance(pair):
    kv, gkv = pair
    for a, b in (("king", "queen"), ("cake", "castle"), ("man", "man")):
        assert abs(kv.similarity(a, b) - float(gkv.similarity(a, b))) < TOL
        assert abs(kv.distance(a, b) - float(gkv.distance(a, b))) < TOL
    assert abs(kv.n_similarity(["king", "queen"], ["man", "woman"])
               - float(gkv.n_similarity(["king", "queen"], ["man", "woman"]))) < TOL


def test_missing_word_is_a_key_error_like_gensim(pair):
    kv, gkv = pair
    for obj in (kv, gkv):
        with pytest.raises(KeyError):
            obj["dragon"]
        with pytest.raises(KeyError):
            obj.most_similar("dragon")
