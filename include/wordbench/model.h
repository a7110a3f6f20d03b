/*
 * wordbench/model.h — the text classifiers: configuration, the parameter
 * block, the embedding sources (store rows, per-run overlay, learned rows),
 * one training step, inference, and the model file.
 *
 * A model is a small graph of parts (docs/design.md, "The model as a graph
 * of parts"): a part per input reduces it to a fixed-width vector, the
 * parts' vectors are concatenated (the merge), and a head of dropout and
 * Dense layers gives the outputs.  wb_model_layers prints it the way Keras'
 * functional summary does, each layer with the layer it is connected to.
 *
 * Architectures (the part of the one text input, then the head):
 *   dense     Embedding → Flatten (T·E) → [dropout] → Dense H relu → Dense C
 *   pool      Embedding → GlobalMaxPool (E) → [dropout] → Dense H relu → Dense C
 *   tutorial  Embedding → Conv1D F×K relu → GlobalMaxPool (F) → [dropout]
 *             → Dense H relu → Dense C
 *   kim       Embedding → Conv1D F×K_i relu for each width K_i → GlobalMaxPool
 *             → concat (F·nwidths) → dropout → Dense C (max-norm on its rows)
 *   charcnn   Zhang, Zhao & LeCun 2015, "small": the text's character ids
 *             one-hot (A = V - 2 channels: ids 0 and 1 are zero vectors) →
 *             Conv1D F×K_1 relu → MaxPool 3 → Conv1D F×K_2 relu → MaxPool 3
 *             → Conv1D F×K_i relu (i = 3 .. nwidths) → MaxPool 3 → Flatten
 *             → [Dense H relu → Dropout]×nhidden → Dense C.  The one-hot
 *             input is never built: the first convolution gathers the
 *             kernel's column of each character id.
 *   lstm, gru Embedding (mask_zero) → LSTM / GRU of `units` (Bidirectional:
 *             both directions concatenated) → the last state or the max over
 *             time → [dropout] → [Dense H relu] → Dense C.  Keras' semantics:
 *             gate order i, f, c, o (LSTM), z, r, h with reset_after (GRU);
 *             padding steps (id 0) leave the state unchanged, as Keras'
 *             masking does; only the minibatch's distinct rows are projected.
 *   bow       the text's n-grams (1..ngrams) of word ids as counts or tf-idf
 *             (scikit-learn's TfidfTransformer: idf = ln((1+n)/(1+df)) + 1,
 *             rows L2-normalised) → Dense C: logistic regression on sparse
 *             input.  The n-gram table (D features) comes from the training
 *             examples (wb_model_fit); the weights are lazy rows, one per
 *             feature, zero at first.
 * Defaults (wb_model_cfg_init): dense/pool/tutorial H = 10, dropout 0;
 * tutorial F = 128, widths {5}; kim F = 100, widths {3,4,5}, H = 0,
 * dropout 0.5, max-norm 3; charcnn F = 256, widths {7,7,3,3,3,3}, H = 1024,
 * nhidden 2, hidden dropout 0.5; lstm/gru units 100, H = 0, last state;
 * bow counts, ngrams 1, H = 0.  Dropout, when > 0, acts on the feature
 * vector (the input of the first Dense); hidden_dropout after every hidden
 * Dense.  C = 1 for a binary task (one sigmoid), the number of labels
 * otherwise (softmax for multiclass, one sigmoid per label for multilabel).
 * Weights start as Keras' defaults: Glorot-uniform kernels (Conv1D fan_in =
 * K·E, fan_out = K·F), orthogonal recurrent kernels, zero biases (an LSTM's
 * forget-gate bias 1, unit_forget_bias).
 *
 * Conv1D + ReLU + GlobalMaxPool is computed as max-pool of the bias-free
 * convolution, then + bias, then ReLU: equal (max commutes with adding a
 * per-filter constant and with the monotone ReLU), and the backward pass
 * touches only the argmax window of each filter (nn.h).
 *
 * Embeddings (ids from vocab.h: 0 = padding, 1 = OOV, 2.. words):
 *   frozen        rows read from the store (or the model's embedded copy);
 *                 no gradient is computed below the first layer.
 *   finetune      rows read from the store until first updated; the update
 *                 copies the row into the per-run OVERLAY and changes only
 *                 the overlay.  The store is never written.
 *   learned       one trainable row per id, no store; a row starts as
 *                 U(-0.05, 0.05) (Keras' Embedding default) drawn from a
 *                 generator seeded by (seed, id): independent of the order
 *                 rows are first touched.
 *   multichannel  Kim's two channels: each token's vector is the frozen row
 *                 followed by the fine-tuned row (E_in = 2E); every filter
 *                 has weights for both halves.
 * Ids the store lacks (and id 1) follow the oov mode: zero (a zero row;
 * trainable in finetune/multichannel's tuned half), random (U(-a, a) with
 * a = sqrt(3·var), var the variance of the store values of the resolved
 * rows, as Kim 2014; seeded by (seed, id)), learn (random, and trainable
 * even when frozen).  The padding row 0 is always zero and never updated
 * (as if masked); it is counted in the parameter table, as Keras counts it.
 * Embedding rows are updated lazily (optim.h): only rows of the minibatch.
 *
 * Memory.  The model block holds dense parameters, gradients and optimizer
 * state (one allocation).  Per id: 24 bytes of bookkeeping.  The overlay
 * grows by chunks of rows (weights + optimizer state) as rows are first
 * updated.  Every step's activations and gathered rows live in a step
 * arena (arena.h) reset at the start of each step.
 *
 * Threads: one model is used by one thread at a time.  A training step
 * runs on the model's own lanes (wb_model_set_threads): each lane takes a
 * fixed share of the minibatch's examples through forward, loss and
 * backward with its own step arena and gradient buffer; then the lanes'
 * gradients are summed in lane order (dense tensors by slices, embedding
 * rows by rows of the union of the lanes' rows) and the optimizer updates
 * the same slices and rows.  So a step gives the same bits for a given
 * number of lanes whatever the scheduling.  With one lane (the default)
 * the step is the unsplit one.  OpenBLAS may use its own threads inside
 * the unsplit step; the split step wants it at one thread.
 */
#ifndef WORDBENCH_MODEL_H
#define WORDBENCH_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wordbench/dataset.h"
#include "wordbench/err.h"
#include "wordbench/optim.h"
#include "wordbench/split.h"
#include "wordbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_MODEL_VERSION 3u   /* newest model file format version (1, 2 and 3 are read) */
#define WB_MAX_WIDTHS 8       /* Conv1D widths per model */
/* Limits of a configuration (wb_model_cfg_check; docs/store-format.md). */
#define WB_MAX_E 65536        /* embedding dimension */
#define WB_MAX_T 1000000      /* tokens per text (maxlen) */
#define WB_MAX_C 1000000      /* outputs */
#define WB_MAX_UNITS 100000   /* filters, hidden units, recurrent units */
#define WB_MAX_HIDDEN 4       /* hidden Dense layers */
#define WB_MAX_INPUTS 8       /* text inputs */
#define WB_MAX_FEATURES 4096  /* numeric features */
#define WB_MAX_NGRAMS 3       /* bow: longest n-gram */

typedef enum wb_model_kind {
    WB_MODEL_DENSE = 0, WB_MODEL_POOL, WB_MODEL_TUTORIAL, WB_MODEL_KIM,
    WB_MODEL_CHARCNN, WB_MODEL_LSTM, WB_MODEL_GRU, WB_MODEL_BOW
} wb_model_kind;
typedef enum wb_rnn_pool { WB_RNN_LAST = 0, WB_RNN_MAX } wb_rnn_pool;
typedef enum wb_bow_mode { WB_BOW_COUNTS = 0, WB_BOW_TFIDF } wb_bow_mode;
typedef enum wb_emb_mode { WB_EMB_FROZEN = 0, WB_EMB_FINETUNE, WB_EMB_LEARNED, WB_EMB_MULTICHANNEL } wb_emb_mode;
typedef enum wb_oov_mode { WB_OOV_ZERO = 0, WB_OOV_RANDOM, WB_OOV_LEARN } wb_oov_mode;

/* Everything that fixes the shapes and the computation.  Invariants (checked
 * by wb_model_cfg_check, for every field whatever the kind): 2 <= V <=
 * INT32_MAX, 1 <= E <= WB_MAX_E, 1 <= T <= WB_MAX_T, every width in 1..T,
 * nwidths <= WB_MAX_WIDTHS, F, H and units <= WB_MAX_UNITS (F and nwidths
 * >= 1 for conv models, units >= 1 for lstm/gru), nhidden <= WB_MAX_HIDDEN,
 * 0 <= dropout, hidden_dropout < 1, maxnorm >= 0, 1 <= C <= WB_MAX_C, task
 * not AUTO, C == 1 exactly for binary, ngrams <= WB_MAX_NGRAMS (>= 1 for
 * bow), D <= INT32_MAX; charcnn: T long enough for its convolutions and
 * pools; bow: emb learned, H = 0, one text input, no features;
 * 1 <= ntext <= WB_MAX_INPUTS (0 counts as 1), every input's V and T in
 * the ranges above, nfeat <= WB_MAX_FEATURES, feat_dense <= WB_MAX_UNITS
 * and 0 without features, names NUL-terminated. */
typedef struct wb_model_cfg {
    wb_model_kind kind;
    wb_emb_mode emb;
    wb_oov_mode oov;
    wb_task task;           /* binary, multiclass or multilabel */
    size_t V;               /* vocabulary size incl. padding and OOV ids */
    size_t E;               /* embedding dimension (per channel) */
    size_t T;               /* sequence length (maxlen) */
    size_t F;               /* filters per width (conv models) */
    size_t nwidths;         /* number of Conv1D widths (conv models) */
    size_t widths[WB_MAX_WIDTHS]; /* the widths K */
    size_t H;               /* hidden Dense units, 0 = none */
    float dropout;          /* drop probability on the feature vector */
    size_t C;               /* outputs */
    float maxnorm;          /* max-norm of the output Dense rows, 0 = off */
    uint64_t seed;          /* initialisation seed */
    /* Fields of the later kinds: zero keeps the behaviour of the first four. */
    size_t nhidden;         /* hidden Dense layers of H units (0 = 1 when H > 0) */
    float hidden_dropout;   /* dropout after every hidden Dense */
    size_t units;           /* lstm, gru: recurrent units */
    int bidirectional;      /* lstm, gru: 1 = both directions, concatenated */
    wb_rnn_pool rnn_pool;   /* lstm, gru: last state or max over time */
    wb_bow_mode bow;        /* bow: counts or tf-idf */
    size_t ngrams;          /* bow: n-grams of 1..ngrams words */
    size_t D;               /* bow: features of the n-gram table (wb_model_fit) */
    /* Several text inputs and numeric features (0 / empty: one text input,
     * no features).  Text input 0 is V and T above; input k >= 1 has
     * text_V[k] ids and text_T[k] tokens (text_V[0], text_T[0] unused).
     * Every input gets a part of `kind` over its own embedding table (same
     * mode and E; all read the same store).  The numeric features are
     * standardised with the training split's mean and deviation
     * (wb_model_fit_features, kept in the model file), optionally squashed
     * by a Dense of feat_dense units + ReLU, and concatenated after the
     * text parts. */
    size_t ntext;           /* text inputs (0 = 1) */
    size_t text_V[WB_MAX_INPUTS]; /* vocabulary of input k >= 1 */
    size_t text_T[WB_MAX_INPUTS]; /* maxlen of input k >= 1 */
    char text_name[WB_MAX_INPUTS][24]; /* column names for the summary ("" = input_<k+1>) */
    size_t nfeat;           /* numeric features (0 = none) */
    size_t feat_dense;      /* units of the Dense squashing them (0 = none) */
} wb_model_cfg;

/* Text inputs of a configuration, and input k's vocabulary size and
 * maxlen (k < wb_model_cfg_ninputs). */
static inline size_t wb_model_cfg_ninputs(const wb_model_cfg *c) { return c->ntext ? c->ntext : 1; }
static inline size_t wb_model_cfg_V(const wb_model_cfg *c, size_t k) { return k ? c->text_V[k] : c->V; }
static inline size_t wb_model_cfg_T(const wb_model_cfg *c, size_t k) { return k ? c->text_T[k] : c->T; }

/* Defaults of `kind` (file comment); V, E, T, C, task left 0 / AUTO for
 * the caller. */
void wb_model_cfg_init(wb_model_cfg *c, wb_model_kind kind);

/* 0, or WB_EUSAGE naming the first broken invariant. */
int wb_model_cfg_check(const wb_model_cfg *c, wb_err *e);

/* Names and back (-1 when unknown): "dense" "pool" "tutorial" "kim"
 * "charcnn" "lstm" "gru" "bow"; "frozen" "finetune" "learned"
 * "multichannel"; "zero" "random" "learn". */
const char *wb_model_kind_name(wb_model_kind k);
int wb_model_kind_parse(const char *s);
const char *wb_emb_mode_name(wb_emb_mode m);
int wb_emb_mode_parse(const char *s);
const char *wb_oov_mode_name(wb_oov_mode m);
int wb_oov_mode_parse(const char *s);

/* One row of the Keras-style summary table. */
typedef struct wb_layer_info {
    char name[48];          /* "input_1", "embedding", "conv1d_1", ... */
    char type[32];          /* "InputLayer", "Embedding", "Conv1D", "GlobalMaxPooling1D", ... */
    size_t shape[3];        /* output shape without the batch dimension */
    int ndim;               /* entries used in shape */
    uint64_t params;        /* parameters of this layer */
    uint64_t trainable;     /* of which trainable */
    char connected[256];    /* names of the inbound layers, comma-separated ("" for inputs) */
} wb_layer_info;

/* Fill up to cap rows of the layer table of `c` (checked), in the order of
 * Keras' functional summary: each input, its layers, the merge, the head;
 * returns the number of layers (call with cap 0 to size).  Totals are the
 * sums of the rows. */
size_t wb_model_layers(const wb_model_cfg *c, wb_layer_info *out, size_t cap);

typedef struct wb_model wb_model;

/* Create a model for minibatches of at most `max_batch` examples, with
 * initialised weights, an optimizer `opt` (copied; its state is allocated
 * here) and no embedding source yet.  Returns 0, WB_EUSAGE, WB_ENOMEM. */
int wb_model_create(wb_model **out, const wb_model_cfg *c, const wb_optim *opt,
                    size_t max_batch, wb_err *e);

/* Release everything (not the store); NULL is a no-op. */
void wb_model_destroy(wb_model *m);

/* The configuration (borrowed) and the optimizer (mutable: lr schedules). */
const wb_model_cfg *wb_model_cfg_get(const wb_model *m);
wb_optim *wb_model_optim(wb_model *m);

/* Attach the store the frozen / fine-tuned rows come from: rows[V] is the
 * store row of every id or -1 (vocab.h wb_vocab_rows).  The store must
 * stay open while the model uses it.  Errors: WB_EUSAGE when the store's
 * dim differs from E (message names both) or the mode needs no store,
 * WB_ENOMEM.  Computes the variance used by oov random. */
int wb_model_attach_store(wb_model *m, wb_store *st, const int64_t *rows, wb_err *e);

/* wb_model_attach_store for text input k (< wb_model_cfg_ninputs; each
 * input has its own vocabulary, so its own rows[V_k]; all read the same
 * store).  A model whose mode needs no store ignores it.  Errors as
 * wb_model_attach_store, WB_EUSAGE for k out of range. */
int wb_model_attach_input(wb_model *m, size_t k, wb_store *st, const int64_t *rows, wb_err *e);

/* Give dst the embedding source of src (its store and store rows, or its
 * embedded rows are NOT shared: only a store).  Used when a checkpoint is
 * loaded over a model that has its store attached.  Errors: WB_EUSAGE when
 * the two configurations differ (the message names the first field). */
int wb_model_adopt_store(wb_model *dst, const wb_model *src, wb_err *e);

/* Instead of a store: the embedded rows loaded from a model file (see
 * wb_model_load).  1 when the model can run (its mode needs no store, or
 * a store or embedded rows are attached). */
int wb_model_ready(const wb_model *m);

/* A minibatch of B examples for a model of several inputs: X[k] (B,
 * T_k) the ids of text input k < ntext, feat (B, nfeat) the raw numeric
 * features (NULL when the model has none). */
typedef struct wb_batch {
    size_t B;
    const int32_t *X[WB_MAX_INPUTS];
    const double *feat;
} wb_batch;

/* wb_model_train_step / wb_model_predict for any model (the single-input
 * functions are these with X[0] = X).  Errors as theirs, and WB_EUSAGE
 * for a missing input. */
int wb_model_train_batch(wb_model *m, const wb_batch *b, const int32_t *y, const float *t, const float *cw,
                         wb_rng *rng, float *loss, size_t *correct, wb_err *e);
int wb_model_predict_batch(wb_model *m, const wb_batch *b, const int32_t *y, const float *t, const float *cw,
                           float *prob, float *loss, wb_err *e);

/* The mean and standard deviation of each numeric feature over the n
 * training rows idx of F (rows of nfeat doubles), used to standardise
 * them from now on (and saved with the model).  A constant feature gets a
 * deviation of 1.  Errors: WB_EUSAGE (nfeat is not the model's, no rows,
 * a value not finite). */
int wb_model_fit_features(wb_model *m, const double *F, size_t nfeat, const uint32_t *idx, size_t n, wb_err *e);

/* Learn what a model takes from its training data before the first step:
 * the bag-of-words model's n-gram table (every n-gram of the training
 * examples) and idf.  X holds all examples of text input 0 (the data set's id matrix, T ids
 * each, uint16 or int32, typically mapped), idx the n rows to learn from
 * (NULL: rows 0..n-1).  Rows are read one at a time: no copy of X is made.
 * A model that needs nothing, or has it already (loaded, or fitted before),
 * is left alone; wb_train_run calls it.  Errors: WB_EUSAGE (no examples, a
 * row of another width than the model's maxlen, an id >= V, too many
 * features), WB_ENOMEM. */
int wb_model_fit(wb_model *m, const wb_ids *X, const uint32_t *idx, size_t n, wb_err *e);

/* Class weights of the training loss (saved in the model file): n = 2 for
 * a binary task (the weights of class 0 and class 1), else C; each in
 * (0, 1e6); w = NULL removes them.  Multiclass and binary weigh each
 * example by its class's weight (Keras' class_weight: the loss sums w·loss
 * over the batch and divides by B, so a weight of 2 is the example counted
 * twice); multilabel weighs the positive term of each label (PyTorch's
 * BCEWithLogitsLoss pos_weight).  Used by wb_model_train_step when its cw is
 * NULL; predict's loss (validation, eval) is unweighted, as Keras reports
 * it.  Errors: WB_EUSAGE (count, range), WB_ENOMEM. */
int wb_model_set_class_weights(wb_model *m, const float *w, size_t n, wb_err *e);

/* The class weights (borrowed; NULL with *n = 0 when none). */
const float *wb_model_class_weights(const wb_model *m, size_t *n);

/* Class weights for the labels of ds from a specification (out gets *n of
 * them, *n = 2 for a binary task, else the label count; the caller's out
 * holds at least that many floats):
 *   "balanced"       single-label: scikit-learn's n / (classes · count) over
 *                    the training examples; multi-label: negatives /
 *                    positives of each label (pos_weight).  The training
 *                    examples are idx[0..nidx) (a search's fold), or the
 *                    training split of ds when idx is NULL
 *   "name=w,name=w"  the named labels; the others 1
 *   FILE             lines "label<TAB>weight" ('#' comments, blank lines)
 * Errors: WB_EUSAGE (unknown label, weight not a number in (0, 1e6)),
 * WB_EFORMAT (FILE:line), errno (FILE), WB_ENOMEM. */
int wb_class_weights_parse(const char *spec, const wb_dataset *ds, const uint32_t *idx, size_t nidx, float *out,
                           size_t *n, wb_err *e);

/* Run training steps on n lanes (n - 1 worker threads started now and
 * kept until the model is destroyed or this is called again; 1 = none,
 * the unsplit step).  A minibatch of B < n examples uses B lanes.  With
 * n > 1 this sets OpenBLAS to one thread (openblas_set_num_threads): each
 * lane runs its products alone.  Results depend on n (the sums of the
 * lanes' gradients are another summation order) but are bit-identical for
 * a given n.  Errors: WB_EUSAGE (n outside 1..256), WB_ENOMEM, or the
 * error of pthread_create. */
int wb_model_set_threads(wb_model *m, size_t n, wb_err *e);
size_t wb_model_threads(const wb_model *m);

/* One training step on a minibatch of B <= max_batch examples:
 *   X   (B, T) ids < V;
 *   y   (B) class ids for multiclass, or NULL;
 *   t   (B, C) 0/1 targets for binary / multilabel, or NULL;
 *   cw  (C) class weights or NULL (nn.h semantics; NULL: the model's, if any);
 *   rng dropout generator.
 * Forward, loss, backward, optimizer step (dense tensors, then the
 * embedding rows of the minibatch), max-norm.  *loss gets the mean loss,
 * *correct (may be NULL) the number of examples whose prediction is right
 * (argmax for multiclass, threshold 0.5 for binary, the best label a true
 * one for multilabel: the hits of P@1).  Returns 0 or WB_ENOMEM (arena growth). */
int wb_model_train_step(wb_model *m, const int32_t *X, size_t B, const int32_t *y,
                        const float *t, const float *cw, wb_rng *rng, float *loss,
                        size_t *correct, wb_err *e);

/* Inference on B <= max_batch examples: prob (B, C) gets probabilities
 * (softmax rows or sigmoids).  When y or t is given (as for train_step),
 * *loss (may be NULL) gets the mean loss.  No dropout, no update. */
int wb_model_predict(wb_model *m, const int32_t *X, size_t B, const int32_t *y,
                     const float *t, const float *cw, float *prob, float *loss, wb_err *e);

/* Explain: one forward pass (no dropout) of B examples giving, for each
 * column j < wb_model_features(m) of the merged feature vector (the input
 * of the head), its value feat (B, Ff) (may be NULL) and the token window
 * of X it comes from: tokens [start, start + len) of the example's text,
 * start = -1 when the column depends on no single window.  Conv models:
 * the argmax window of the filter; pool: the argmax token; dense: the
 * token.  start and len are (B, Ff).  Errors as wb_model_predict. */
int wb_model_windows(wb_model *m, const int32_t *X, size_t B, float *feat, int32_t *start, int32_t *len, wb_err *e);

/* Receives one token span's contribution to example b's explained score:
 * tokens [start, start + len) of the example's row of X. */
typedef void (*wb_span_fn)(void *ctx, size_t b, int32_t start, int32_t len, float score);

/* Explain B examples: one forward pass (no dropout), prob (B, C) gets the
 * probabilities (may be NULL), then for each example the score of class
 * cls[b] — its logit; binary: cls 1 the logit z, cls 0 its negation -z;
 * cls NULL or cls[b] < 0: the best label (wb_topk's order; binary: 1 when
 * p > 0.5) — is taken apart into token spans, each reported through fn:
 *   - the gradient of the score with respect to the merged features (the
 *     head's backward pass) times the features: feature × its weight into
 *     the class for a head without hidden layers (exact: the score is their
 *     sum plus the bias), gradient × input through hidden layers;
 *   - each part gives its columns' shares to token spans: a convolution's
 *     column to its argmax window (the n-gram that won the filter), a pool
 *     column to its argmax token, a flatten column to its token, a
 *     character CNN's to the characters its last layer sees; a recurrent
 *     part by gradient × input of every token vector; bag of words by each
 *     n-gram's value × its weight, shared among its occurrences.
 * Columns with no window (a zero feature) report nothing.  Scratch lives in
 * the step arena; the model's gradients are not touched.  Errors as
 * wb_model_predict, WB_EUSAGE (a class out of range, or a model of
 * several text inputs or numeric features: X is one text's ids; use
 * wb_model_explain_batch). */
int wb_model_explain(wb_model *m, const int32_t *X, size_t B, const int32_t *cls, float *prob, wb_span_fn fn,
                     void *ctx, wb_err *e);

/* Receives one contribution to example b's explained score: tokens
 * [start, start + len) of text input `input` (0..ntext-1, its row of
 * b->X[input]), or, with input -1, numeric feature `start` (len 1). */
typedef void (*wb_input_span_fn)(void *ctx, size_t b, int input, int32_t start, int32_t len, float score);

/* wb_model_explain for any model, over the inputs of batch bt (text input
 * k's ids bt->X[k], the raw features bt->feat): every text part's spans
 * as wb_model_explain gives them, tagged with their input; and every
 * numeric feature j of every example once (input -1, start j), its
 * contribution being gradient × input on the standardised value x_j =
 * (v_j - mean_j) / std_j: x_j · d score / d x_j.  Without --feature-dense
 * that is x_j × its weight into the class (exact as the text columns are,
 * for a head without hidden layers); through the squashing Dense + ReLU it
 * is x_j · Σ_u g_u [y_u > 0] W_uj, which leaves the Dense's bias (like the
 * output bias) unexplained.  Errors as wb_model_explain, WB_EUSAGE for a
 * missing input. */
int wb_model_explain_batch(wb_model *m, const wb_batch *bt, const int32_t *cls, float *prob, wb_input_span_fn fn,
                           void *ctx, wb_err *e);

/* wb_model_windows for any model: columns of a text part give token
 * windows of their input; numeric-feature columns give start -1. */
int wb_model_windows_batch(wb_model *m, const wb_batch *b, float *feat, int32_t *start, int32_t *len, wb_err *e);

/* The text input (0..ntext-1) merged column j comes from, or -1 for a
 * numeric-feature column (j < wb_model_features(m)). */
int wb_model_feature_input(const wb_model *m, size_t j);

/* Width Ff of the merged feature vector. */
size_t wb_model_features(const wb_model *m);

/* ---- low level: direct access (tests, parity with PyTorch, import) ------ */

/* Number of dense tensors, and tensor i: its name ("conv1/kernel",
 * "conv1/bias", ..., "hidden/kernel", "hidden/bias", "output/kernel",
 * "output/bias"), weights *w (mutable), gradients *g of the last training
 * step (valid until the next step), element count *n, and *rows, *cols of
 * its layout (kernels: nn.h layouts; biases: 1 × n).  NULL when i is out
 * of range. */
size_t wb_model_ntensors(const wb_model *m);
const char *wb_model_tensor(wb_model *m, size_t i, float **w, float **g, size_t *n, size_t *rows,
                            size_t *cols);

/* The current embedding row of `id` as the model sees it (E floats; the
 * tuned channel for multichannel) into out.  Returns 0, WB_EUSAGE (id out
 * of range), or the store's gather error. */
int wb_model_get_row(wb_model *m, int32_t id, float *out, wb_err *e);

/* Set the trainable row of `id` (E floats): it goes into the overlay, as if
 * trained.  Returns 0, WB_EUSAGE (id 0, out of range, or a row that is not
 * trainable in this mode), WB_ENOMEM. */
int wb_model_set_row(wb_model *m, int32_t id, const float *v, wb_err *e);

/* The same for the embedding table of text input k (WB_EUSAGE for k out
 * of range; input 0 is wb_model_get_row / wb_model_set_row). */
int wb_model_get_input_row(wb_model *m, size_t k, int32_t id, float *out, wb_err *e);
int wb_model_set_input_row(wb_model *m, size_t k, int32_t id, const float *v, wb_err *e);

/* The standardisation of the numeric features (wb_model_fit_features):
 * mean[nfeat] and std[nfeat] (borrowed), NULL without features. */
const double *wb_model_feature_stats(const wb_model *m, const double **std);

/* Memory figures for --mem-report. */
typedef struct wb_model_mem {
    uint64_t block_bytes;     /* parameters + gradients + optimizer state */
    uint64_t overlay_rows;    /* rows in the overlay */
    uint64_t overlay_bytes;   /* their weights + optimizer state */
    uint64_t arena_bytes;     /* step arena capacity */
    uint64_t embedded_bytes;  /* embedded frozen rows (loaded models) */
    uint64_t arena_peak;      /* most step-arena bytes one step used */
    uint64_t cache_bytes;     /* bow: the sparse rows of the fitted data set (WB_BOW_CACHE_MB) */
} wb_model_mem;
void wb_model_mem_get(const wb_model *m, wb_model_mem *out);

/* ---- model file -----------------------------------------------------------
 * A model file carries, besides the model: `meta`, a caller-owned text of
 * "key value" lines (tokenizer and reader options, label names...), the
 * vocabulary blob (vocab.h save format) and the store fingerprint.
 *
 * Format (version 1, 2 or 3, little-endian; docs/store-format.md; a model
 * an older build can read is written with the oldest version that holds
 * it: one of the first four kinds with at most one hidden layer as version
 * 1, a later kind as version 2, several text inputs or numeric features as
 * version 3):
 *   0   8   magic "WBMODEL\0"
 *   8   u32 version, u32 flags (bit 0: checkpoint state present,
 *           bit 1: embedded frozen rows present)
 *   16  u64 store fingerprint (0 = none)
 *   24  then sections, each: u32 tag, u32 reserved, u64 length, bytes
 *       (tags: 'CONF' config, 'META' text, 'VOCB' vocabulary, 'PARM' dense
 *       parameters, 'OPTS' optimizer state of the dense parameters,
 *       'OVLY' overlay rows (+ their state), 'EMBD' embedded rows, 'TRST'
 *       trainer state (opaque to the model), 'BOWT' the n-gram table,
 *       'CLWT' class weights, 'FEAT' the features' means and deviations;
 *       the reserved word is the part a section belongs to: VOCB of part
 *       k is text input k's vocabulary);
 *   end u64 XXH3-64 of every preceding byte.
 * Written to a temporary file in the same directory, fsync'ed and renamed:
 * a reader sees the old or the new file, never a partial one. */
typedef struct wb_model_file {
    const char *meta;         /* text, NUL-terminated */
    const void *vocab;        /* vocabulary blob (of text input 0) */
    size_t vocab_len;
    const void *input_vocab[WB_MAX_INPUTS]; /* [k >= 1]: vocabulary blob of text input k */
    size_t input_vocab_len[WB_MAX_INPUTS];
    uint64_t fingerprint;     /* store fingerprint or 0 */
    const void *trainer;      /* trainer state blob or NULL */
    size_t trainer_len;
    int with_optimizer;       /* 1: save optimizer state (checkpoints) */
    int embed_vectors;        /* 1: save the frozen rows the vocabulary needs */
} wb_model_file;

/* Save to `path` atomically.  Errors: positive errno, WB_ENOMEM. */
int wb_model_save(wb_model *m, const char *path, const wb_model_file *f, wb_err *e);

/* Load a model file into a new model for batches of at most max_batch
 * examples.  out_file gets the meta text, vocabulary blob and trainer
 * blob: pointers into *blob, which the caller frees with free() after use.
 * The optimizer state is restored when present; the optimizer kind and
 * settings are part of the config.  A model file is untrusted input: its
 * checksum, then every field against the limits above, every section size
 * against the configuration, and the memory the model would take (its
 * parameter block, tables, rows and the step arena of max_batch examples)
 * against max_memory (0 = wb_model_max_memory_default()) are checked
 * before anything is allocated.
 * Errors: positive errno, WB_ECORRUPT (bad magic, checksum, sizes: the
 * message says what), WB_EVERSION, WB_ENOMEM (out of memory, or above
 * max_memory: the message gives both figures), WB_EUSAGE (max_batch). */
int wb_model_load_ex(wb_model **out, const char *path, size_t max_batch, uint64_t max_memory,
                     wb_model_file *out_file, void **blob, wb_err *e);

/* wb_model_load_ex with the default memory limit. */
int wb_model_load(wb_model **out, const char *path, size_t max_batch, wb_model_file *out_file,
                  void **blob, wb_err *e);

/* The default memory limit of a loaded model: half of the physical RAM,
 * or half of the address-space limit (ulimit -v) when that is lower. */
uint64_t wb_model_max_memory_default(void);

/* 1 when the file had embedded frozen rows (the model runs without store). */
int wb_model_has_embedded(const wb_model *m);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_MODEL_H */
