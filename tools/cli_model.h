/*
 * cli_model.h — the architecture options shared by `train`, `summary` and
 * `search`, the fitting options shared by `train` and `search`, the
 * `summary` command and the --max-memory option (cli_model.c).
 */
#ifndef WB_CLI_MODEL_H
#define WB_CLI_MODEL_H

#include "cli.h"
#include "wordbench/model.h"
#include "wordbench/optim.h"

/* The architecture options of train and summary. */
#define CLI_MODEL_OPTS                                                                                         \
    {"model", 'm', "NAME", "tutorial", "dense|pool|tutorial|kim|charcnn|lstm|gru|bow", 0},                     \
    {"embeddings", 'e', "MODE", NULL, "frozen|finetune|learned|multichannel (default: frozen with --store, else learned)", 0}, \
    {"oov", 0, "MODE", "zero", "words the store lacks: zero|random|learn", 0},                                 \
    {"emb-dim", 0, "N", NULL, "embedding dimension (default: the store's, else 100)", 0},                       \
    {"filters", 0, "N", NULL, "filters per width (default: tutorial 128, kim 100, charcnn 256)", 0},           \
    {"widths", 0, "K,K,..", NULL, "Conv1D widths (default: tutorial 5, kim 3,4,5, charcnn 7,7,3,3,3,3)", 0},   \
    {"hidden", 0, "N", NULL, "hidden Dense units, 0 = none (default: charcnn 1024, kim/lstm/gru/bow 0, others 10)", 0}, \
    {"hidden-layers", 0, "N", NULL, "hidden Dense layers of --hidden units (default: charcnn 2, others 1)", 0},  \
    {"dropout", 0, "P", NULL, "dropout on the features (default: kim 0.5, others 0)", 0},                       \
    {"hidden-dropout", 0, "P", NULL, "dropout after each hidden layer (default: charcnn 0.5, others 0)", 0},    \
    {"max-norm", 0, "C", NULL, "max-norm of the output rows, 0 = off (default: kim 3, others 0)", 0},           \
    {"units", 0, "N", NULL, "lstm/gru: recurrent units (default 100)", 0},                                      \
    {"bidirectional", 0, NULL, NULL, "lstm/gru: both directions, concatenated", 0},                            \
    {"rnn-pool", 0, "HOW", "last", "lstm/gru: last|max (the last state or the max over time)", 0},             \
    {"bow", 0, "WEIGHT", "counts", "bow: counts|tfidf", 0},                                                   \
    {"ngrams", 0, "N", "1", "bow: n-grams of 1..N words (N <= 3)", 0},                                       \
    {"feature-dense", 0, "N", "0", "numeric features (--feature-col): a Dense of N units + ReLU before the merge, 0 = none", 0}

/* The fitting options shared by train and search (with CLI_MODEL_OPTS and
 * the data-set options, whose --seed seeds the training too). */
#define CLI_FIT_OPTS                                                                                            \
    {"epochs", 0, "N", "10", "passes over the training split", 0},                                              \
    {"batch-size", 'b', "N", "32", "examples per minibatch", 0},                                                \
    {"optimizer", 0, "NAME", "adam", "adam|sgd|rmsprop|adagrad|adadelta", 0},                                   \
    {"lr", 0, "X", NULL, "learning rate (default: adam/rmsprop 0.001, sgd/adagrad 0.01, adadelta 1)", 0},       \
    {"momentum", 0, "X", "0", "sgd momentum", 0},                                                               \
    {"l2", 0, "X", "0", "L2 weight decay added to every gradient", 0},                                          \
    {"clipnorm", 0, "X", "0", "clip the global gradient norm (0 = off)", 0},                                    \
    {"clipvalue", 0, "X", "0", "clip every gradient element to [-X, X] (0 = off)", 0},                          \
    {"adam", 0, "ROWS", "catchup", "adam on rows outside the minibatch: catchup|lazy|dense (docs/cli.md)", 0},  \
    {"class-weights", 0, "SPEC", "none", "none|balanced|FILE|name=w,name=w (label<TAB>weight lines in FILE)", 0}, \
    {"patience", 0, "N", "0", "stop after N epochs without a better validation loss (0 = never)", 0}

/* The option of the commands that load a model file. */
#define CLI_MAX_MEMORY_OPT                                                                                     \
    {"max-memory", 0, "SIZE", NULL, "refuse a model file that would need more memory (default: half the RAM)", 0}

/* Fill the architecture part of mc from the options; E = 0 when not given.
 * 0 or EXIT_USAGE (printed). */
int cli_model_opts(const cli *c, wb_model_cfg *mc, int have_store);

/* What CLI_MODEL_OPTS, CLI_FIT_OPTS and --seed say. */
typedef struct cli_fit {
    wb_model_cfg mc;          /* architecture; mc.seed = seed */
    wb_optim opt;             /* optimizer with its settings */
    size_t epochs, batch, patience;
    uint64_t seed;            /* --seed, 0 read as 1 */
    const char *class_weights; /* --class-weights (wb_class_weights_parse), NULL for none; borrowed from c */
} cli_fit;

/* Parse them (range-checked).  Returns 0 or EXIT_USAGE after printing. */
int cli_fit_opts(const cli *c, int have_store, cli_fit *f);

/* The default maxlen of a model kind: 100, charcnn 1014 (the paper's
 * l0), bow 1000 (a bag of words wants the whole text). */
size_t cli_model_maxlen(const wb_model_cfg *mc);

/* --max-memory into *out (0 = the library's default).  0 or EXIT_USAGE. */
int cli_max_memory(const cli *c, uint64_t *out);

extern const cli_cmd cmd_summary;

#endif
