/*
 * cli_train.h — the model commands (cli_train.c).
 */
#ifndef WB_CLI_TRAIN_H
#define WB_CLI_TRAIN_H

#include "cli.h"
#include "wordbench/model.h"
#include "wordbench/optim.h"

extern const cli_cmd cmd_train, cmd_eval, cmd_predict, cmd_summary;

/* The architecture options shared by train, summary and search. */
#define CLI_MODEL_OPTS                                                                                            \
    {"model", 'm', "NAME", "tutorial", "dense|pool|tutorial|kim", 0},                                          \
    {"embeddings", 'e', "MODE", NULL, "frozen|finetune|learned|multichannel (default: frozen with --store, else learned)", 0}, \
    {"oov", 0, "MODE", "zero", "words the store lacks: zero|random|learn", 0},                                 \
    {"emb-dim", 0, "N", NULL, "embedding dimension (default: the store's, else 100)", 0},                       \
    {"filters", 0, "N", NULL, "filters per width (default: tutorial 128, kim 100)", 0},                        \
    {"widths", 0, "K,K,..", NULL, "Conv1D widths (default: tutorial 5, kim 3,4,5)", 0},                         \
    {"hidden", 0, "N", NULL, "hidden Dense units, 0 = none (default: kim 0, others 10)", 0},                    \
    {"dropout", 0, "P", NULL, "dropout on the features (default: kim 0.5, others 0)", 0},                       \
    {"max-norm", 0, "C", NULL, "max-norm of the output rows, 0 = off (default: kim 3, others 0)", 0}

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
    {"class-weights", 0, "MODE", "none", "none|balanced (n / (classes * count))", 0},                           \
    {"patience", 0, "N", "0", "stop after N epochs without a better validation loss (0 = never)", 0}

/* Fill the architecture part of mc from CLI_MODEL_OPTS (E = 0 when not
 * given; embeddings default to frozen with a store, else learned).
 * Returns 0 or EXIT_USAGE after printing. */
int cli_model_opts(const cli *c, wb_model_cfg *mc, int have_store);

/* What CLI_MODEL_OPTS, CLI_FIT_OPTS and --seed say. */
typedef struct cli_fit {
    wb_model_cfg mc;          /* architecture; mc.seed = seed */
    wb_optim opt;             /* optimizer with its settings */
    size_t epochs, batch, patience;
    uint64_t seed;            /* --seed, 0 read as 1 */
    int balanced;             /* --class-weights balanced */
} cli_fit;

/* Parse them (range-checked).  Returns 0 or EXIT_USAGE after printing. */
int cli_fit_opts(const cli *c, int have_store, cli_fit *f);

#endif
