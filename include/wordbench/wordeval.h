/*
 * wordbench/wordeval.h — judging word vectors themselves: the analogy and
 * word-similarity benchmarks of gensim 4.2's
 * KeyedVectors.evaluate_word_analogies and evaluate_word_pairs, with the
 * same numbers (tests/test_wordeval.c, tests/cli/evaluate_commands.sh), on
 * a store's mapped rows.
 *
 * The conventions are gensim's, read from its source:
 *   - The vocabulary is the first `restrict_vocab` rows (300000 by default;
 *     the most frequent words in GloVe / word2vec / fastText files).  Words
 *     are compared upper-cased (Python's str.upper(), full Unicode case
 *     mapping: 'straße' matches 'STRASSE') unless case_sensitive; a word
 *     with several case variants among those rows takes the vector of the
 *     first (lowest row).
 *   - Analogies (a file of ": section" lines and "a b c d" lines): the
 *     answer to a:b :: c:? is the row maximising cos(r, b̂ + ĉ − â) (3CosAdd,
 *     gensim's most_similar) or (1+cos(r,b))/2 · (1+cos(r,c))/2 /
 *     ((1+cos(r,a))/2 + 1e-6) (3CosMul, Levy & Goldberg 2014, gensim's
 *     most_similar_cosmul) over the first restrict_vocab rows.  As gensim:
 *     the 5 best rows other than a, b, c are taken in order and the first
 *     one whose upper-cased word is not A, B or C is the prediction (so a
 *     case variant of a question word is passed over); a question whose
 *     words are not all in the vocabulary is skipped, or counted wrong with
 *     dummy4unknown.  A line that is not 4 words is skipped silently; a
 *     question line before the first section is an error.  Per section and
 *     overall: correct, incorrect, accuracy; the number of questions and of
 *     out-of-vocabulary ones.
 *   - Pairs (lines "w1<TAB>w2<TAB>score", '#' comments; Python's universal
 *     newlines): Pearson and Spearman correlations (scipy's, stats.h) of the
 *     cosine similarity with the human score, with p-values, and the
 *     percentage of pairs out of vocabulary (of all pairs; with
 *     dummy4unknown such pairs count with similarity 0 and the ratio is over
 *     the pairs used, as gensim computes it).  A line that is not 3 fields
 *     with a number (Python's float()) last is skipped.
 *   Where gensim raises (no pair in the vocabulary, a single pair) the
 *   correlations are NaN here instead, so other results still print.
 *
 * How it runs.  The questions use few distinct words (905 in the Google
 * set's 19,544 questions), so the work is one matrix product per block of
 * rows: S = Ŵ · Bᵀ with Ŵ (words, dim) the unit vectors of the question
 * words and B (rows, dim) the block of mapped rows (OpenBLAS sgemm, f16
 * widened per block), divided by the rows' stored norms (norms.npy: no
 * normalised copy of the matrix exists).  Every question's score of a row
 * is then three numbers of S; a small heap per question keeps its 8 best.
 * Blocks are spread over `threads` threads, each with its own S and heaps
 * (merged at the end, ties to the lower row, so the result does not depend
 * on the thread count); OpenBLAS is set to one thread for the scan and
 * restored afterwards.  Each block's pages are let go after use
 * (wb_store_drop), so the resident set stays at a few blocks whatever the
 * store's size.
 *
 * The vectors judged (wb_wordvecs) are a store's rows in store order,
 * optionally with some rows replaced (a fine-tuned model's rows: the
 * model layer builds that view), or a matrix in memory with its words (a
 * model's learned vocabulary).
 *
 * Threads: a wb_wordtests is read-only after loading and may be shared;
 * wb_wordeval_run uses the store's look-up transaction (one caller thread
 * per store handle), starts its own scan threads, and changes OpenBLAS's
 * (process-wide) thread count for the duration of the scan.
 */
#ifndef WORDBENCH_WORDEVAL_H
#define WORDBENCH_WORDEVAL_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- benchmark files ------------------------------------------------------ */

typedef struct wb_wordtests wb_wordtests;

/* An empty set of benchmarks; words are upper-cased as they are read unless
 * case_sensitive.  Returns 0 or WB_ENOMEM. */
int wb_wordtests_create(wb_wordtests **out, int case_sensitive, wb_err *e);

/* Release; NULL is a no-op. */
void wb_wordtests_destroy(wb_wordtests *t);

/* Read an analogy file (gensim's questions-words.txt format).  Errors:
 * errno (cannot open), WB_EFORMAT naming file:line (not UTF-8, a question
 * before the first ": section" line), WB_ENOMEM. */
int wb_wordtests_add_analogies(wb_wordtests *t, const char *path, wb_err *e);

/* Read a word-pairs file (wordsim353.tsv format).  Errors: errno,
 * WB_EFORMAT (not UTF-8, with file:line), WB_ENOMEM. */
int wb_wordtests_add_pairs(wb_wordtests *t, const char *path, wb_err *e);

/* ---- the vectors judged ----------------------------------------------------- */

/* Either a store (store != NULL): its rows in row order, the rows listed in
 * override_rows replaced by override_vecs; or, without a store, `rows`
 * vectors of `dim` floats in `mat` with their words.  Everything borrowed
 * for the duration of the call. */
typedef struct wb_wordvecs {
    wb_store *store;               /* the store, or NULL */
    size_t noverride;              /* store rows replaced */
    const uint32_t *override_rows; /* (noverride) strictly ascending store rows */
    const float *override_vecs;    /* (noverride, dim) their vectors */
    uint64_t rows;                 /* without a store: number of vectors */
    uint32_t dim;                  /* without a store: floats per vector */
    const float *mat;              /* without a store: (rows, dim) */
    const char *const *words;      /* without a store: (rows) words, not NUL-terminated */
    const size_t *lens;            /* without a store: (rows) their lengths */
} wb_wordvecs;

#define WB_WORDEVAL_MAX_THREADS 64

typedef enum wb_analogy_method {
    WB_ANALOGY_ADD = 0, /* 3CosAdd: gensim's most_similar */
    WB_ANALOGY_MUL      /* 3CosMul: gensim's most_similar_cosmul */
} wb_analogy_method;

typedef struct wb_wordeval_opts {
    uint64_t restrict_vocab;   /* rows that form the vocabulary (300000); 0 = all */
    int dummy4unknown;         /* count out-of-vocabulary questions / pairs (0) */
    wb_analogy_method method;  /* WB_ANALOGY_ADD */
    unsigned threads;          /* threads scanning row blocks (1); 0 = one per core, at most WB_WORDEVAL_MAX_THREADS */
    /* Called after each block of rows with rows done and total; may be NULL. */
    void (*progress)(void *ud, uint64_t done, uint64_t total);
    void *ud;
} wb_wordeval_opts;

/* restrict_vocab 300000, threads 1, the rest 0. */
void wb_wordeval_opts_init(wb_wordeval_opts *o);

/* ---- results ------------------------------------------------------------------ */

typedef struct wb_analogy_section {
    const char *name;          /* borrowed from the wb_wordtests */
    uint64_t correct;          /* questions answered right */
    uint64_t incorrect;        /* answered wrong (+ out-of-vocabulary with dummy4unknown) */
    double accuracy;           /* correct / (correct + incorrect), 0 when both are 0 */
} wb_analogy_section;

typedef struct wb_analogy_result {
    const char *path;          /* the file (borrowed) */
    size_t nsections;
    wb_analogy_section *sections; /* (nsections) in file order */
    wb_analogy_section total;  /* all sections ("Total accuracy" in gensim) */
    uint64_t questions;        /* 4-word lines (gensim's quadruplets_no) */
    uint64_t oov;              /* of which with a word outside the vocabulary */
    uint64_t invalid;          /* lines skipped: not 4 words */
    double oov_ratio;          /* 100 * oov / questions, as gensim logs it */
} wb_analogy_result;

typedef struct wb_pairs_result {
    const char *path;          /* the file (borrowed) */
    uint64_t pairs;            /* pairs the correlations use */
    uint64_t oov;              /* pairs with a word outside the vocabulary */
    uint64_t invalid;          /* lines skipped: not word TAB word TAB number */
    double pearson, pearson_p; /* Pearson r and its two-sided p-value (NaN when undefined) */
    double spearman, spearman_p; /* Spearman rho and p-value */
    double oov_ratio;          /* percent, gensim's formula */
} wb_pairs_result;

typedef struct wb_wordeval_result {
    uint64_t vocab;            /* rows searched: min(restrict_vocab, rows) */
    size_t nanalogies;
    wb_analogy_result *analogies; /* (nanalogies) one per analogy file, in order */
    size_t npairs;
    wb_pairs_result *pairs;    /* (npairs) one per pairs file */
    double seconds;            /* wall time of the run */
} wb_wordeval_result;

/* Run every benchmark of t on the vectors v.  res is filled (free it with
 * wb_wordeval_result_free, also after a failure).  Errors: WB_EUSAGE (no
 * vectors, a bad override list), WB_ENOMEM, WB_ELMDB. */
int wb_wordeval_run(const wb_wordvecs *v, const wb_wordtests *t, const wb_wordeval_opts *o,
                    wb_wordeval_result *res, wb_err *e);

void wb_wordeval_result_free(wb_wordeval_result *res);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_WORDEVAL_H */
