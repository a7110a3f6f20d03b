/*
 * cli_model.c — the architecture options shared by `train` and `summary`,
 * and `wordbench summary`: the model's graph as Keras' functional summary
 * prints it (layer, output shape, parameters, connected to), from a model
 * file or from the options.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_model.h"
#include "wordbench/bundle.h"

static int opt_size(const cli *c, const char *name, uint64_t lo, uint64_t hi, size_t *out) {
    if (!cli_str(c, name)) return 0;
    uint64_t v;
    if (cli_u64(c, name, lo, hi, &v)) return EXIT_USAGE;
    *out = (size_t)v;
    return 0;
}

/* --widths "3,4,5". */
static int opt_widths(const cli *c, wb_model_cfg *mc) {
    const char *s = cli_str(c, "widths");
    if (!s) return 0;
    size_t n = 0;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || errno || v < 1 || v > 1000 || n == WB_MAX_WIDTHS || (*end && *end != ','))
            return cli_usage(c, "--widths takes 1 to %d widths in 1..1000 separated by commas, not '%s'", WB_MAX_WIDTHS, s);
        mc->widths[n++] = v;
        p = *end ? end + 1 : end;
    }
    if (!n) return cli_usage(c, "--widths is empty");
    for (size_t i = n; i < WB_MAX_WIDTHS; i++) mc->widths[i] = 0;
    mc->nwidths = n;
    return 0;
}

int cli_model_opts(const cli *c, wb_model_cfg *mc, int have_store) {
    int k = cli_choice(c, "model", "dense|pool|tutorial|kim|charcnn|lstm|gru|bow");
    if (k < 0) return EXIT_USAGE;
    wb_model_cfg_init(mc, (wb_model_kind)k);
    if (cli_str(c, "embeddings")) {
        int m = cli_choice(c, "embeddings", "frozen|finetune|learned|multichannel");
        if (m < 0) return EXIT_USAGE;
        mc->emb = (wb_emb_mode)m;
    } else {
        mc->emb = have_store ? WB_EMB_FROZEN : WB_EMB_LEARNED;
    }
    int o = cli_choice(c, "oov", "zero|random|learn");
    if (o < 0) return EXIT_USAGE;
    mc->oov = (wb_oov_mode)o;
    if (opt_size(c, "emb-dim", 1, WB_MAX_E, &mc->E) || opt_size(c, "filters", 1, WB_MAX_UNITS, &mc->F) ||
        opt_size(c, "hidden", 0, WB_MAX_UNITS, &mc->H) || opt_widths(c, mc) ||
        opt_size(c, "hidden-layers", 1, WB_MAX_HIDDEN, &mc->nhidden) ||
        cli_f32(c, "dropout", 0, 0.99, &mc->dropout) || cli_f32(c, "hidden-dropout", 0, 0.99, &mc->hidden_dropout) ||
        cli_f32(c, "max-norm", 0, 1e6, &mc->maxnorm) || opt_size(c, "feature-dense", 0, WB_MAX_UNITS, &mc->feat_dense))
        return EXIT_USAGE;
    int rnn = mc->kind == WB_MODEL_LSTM || mc->kind == WB_MODEL_GRU, bow = mc->kind == WB_MODEL_BOW;
    if (!rnn && (cli_given(c, "units") || cli_flag(c, "bidirectional") || cli_given(c, "rnn-pool")))
        return cli_usage(c, "--units, --bidirectional and --rnn-pool are for --model lstm or gru");
    if (!bow && (cli_given(c, "bow") || cli_given(c, "ngrams")))
        return cli_usage(c, "--bow and --ngrams are for --model bow");
    if (rnn) {
        int pool = cli_choice(c, "rnn-pool", "last|max");
        if (pool < 0 || opt_size(c, "units", 1, WB_MAX_UNITS, &mc->units)) return EXIT_USAGE;
        mc->rnn_pool = (wb_rnn_pool)pool;
        mc->bidirectional = cli_flag(c, "bidirectional");
    }
    if (bow) {
        int w = cli_choice(c, "bow", "counts|tfidf");
        uint64_t n;
        if (w < 0 || cli_u64(c, "ngrams", 1, WB_MAX_NGRAMS, &n)) return EXIT_USAGE;
        mc->bow = (wb_bow_mode)w, mc->ngrams = (size_t)n;
    }
    if ((mc->kind == WB_MODEL_CHARCNN || bow) && have_store)
        return cli_usage(c, "--model %s reads no word vectors: drop --store", wb_model_kind_name(mc->kind));
    return 0;
}

int cli_fit_opts(const cli *c, int have_store, cli_fit *f) {
    memset(f, 0, sizeof *f);
    if (cli_model_opts(c, &f->mc, have_store)) return EXIT_USAGE;
    int ok = cli_choice(c, "optimizer", "adam|sgd|rmsprop|adagrad|adadelta");
    if (ok < 0) return EXIT_USAGE;
    wb_optim_init(&f->opt, (wb_opt_kind)ok);
    if (cli_f32(c, "lr", 1e-9, 100, &f->opt.lr) || cli_f32(c, "momentum", 0, 0.9999, &f->opt.momentum) ||
        cli_f32(c, "l2", 0, 10, &f->opt.l2) || cli_f32(c, "clipnorm", 0, 1e9, &f->opt.clipnorm) ||
        cli_f32(c, "clipvalue", 0, 1e9, &f->opt.clipvalue))
        return EXIT_USAGE;
    int am = cli_choice(c, "adam", "catchup|lazy|dense");
    if (am < 0) return EXIT_USAGE;
    f->opt.adam = (wb_adam_mode)am;
    uint64_t ep, bs, pat, seed;
    if (cli_u64(c, "epochs", 1, 100000, &ep) || cli_u64(c, "batch-size", 1, 65536, &bs) ||
        cli_u64(c, "patience", 0, 100000, &pat) || cli_u64(c, "seed", 0, UINT64_MAX, &seed))
        return EXIT_USAGE;
    const char *cw = cli_str(c, "class-weights");
    f->class_weights = cw && strcmp(cw, "none") ? cw : NULL;
    f->epochs = ep, f->batch = bs, f->patience = pat, f->seed = seed ? seed : 1;
    f->mc.seed = f->seed;
    return 0;
}

size_t cli_model_maxlen(const wb_model_cfg *mc) {
    return mc->kind == WB_MODEL_CHARCNN ? 1014 : mc->kind == WB_MODEL_BOW ? 1000 : 100;
}

int cli_max_memory(const cli *c, uint64_t *out) {
    *out = 0;
    return cli_size(c, "max-memory", 1 << 20, UINT64_MAX / 2, out);
}

/* ---- summary ------------------------------------------------------------- */

static void group(char *out, size_t n, uint64_t v) {
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%" PRIu64, v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = tmp[i];
    }
    out[o] = 0;
}

/* "['a[0][0]', 'b[0][0]']" from "a,b" (Keras' "Connected to" column). */
static void connected(char *out, size_t n, const char *names) {
    size_t o = (size_t)snprintf(out, n, "[");
    for (const char *p = names; *p && o < n;) {
        const char *q = strchr(p, ',');
        size_t l = q ? (size_t)(q - p) : strlen(p);
        o += (size_t)snprintf(out + o, n - o, "%s'%.*s[0][0]'", p == names ? "" : ", ", (int)l, p);
        p += l + (q != NULL);
    }
    if (o < n) snprintf(out + o, n - o, "]");
}

static void print_summary(const cli *c, const wb_model_cfg *mc, const char *title) {
    size_t n = wb_model_layers(mc, NULL, 0);
    wb_layer_info *l = calloc(n ? n : 1, sizeof *l);
    if (!l) return;
    wb_model_layers(mc, l, n);
    uint64_t total = 0, tr = 0;
    for (size_t i = 0; i < n; i++) total += l[i].params, tr += l[i].trainable;
    if (c->json) {
        printf("{\"model\": \"%s\", \"embeddings\": \"%s\", \"layers\": [", wb_model_kind_name(mc->kind),
               wb_emb_mode_name(mc->emb));
        for (size_t i = 0; i < n; i++) {
            printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"shape\": [null", i ? ", " : "", l[i].name, l[i].type);
            for (int d = 0; d < l[i].ndim; d++) printf(", %zu", l[i].shape[d]);
            printf("], \"params\": %" PRIu64 ", \"trainable\": %" PRIu64 ", \"connected_to\": [", l[i].params,
                   l[i].trainable);
            for (const char *p = l[i].connected; *p;) {
                const char *q = strchr(p, ',');
                size_t len = q ? (size_t)(q - p) : strlen(p);
                printf("%s\"%.*s\"", p == l[i].connected ? "" : ", ", (int)len, p);
                p += len + (q != NULL);
            }
            printf("]}");
        }
        printf("], \"total\": %" PRIu64 ", \"trainable\": %" PRIu64 ", \"non_trainable\": %" PRIu64 "}\n", total, tr,
               total - tr);
        free(l);
        return;
    }
    int nw = 31, sw = 21; /* the name and shape columns grow with their longest entries */
    for (size_t i = 0; i < n; i++) {
        int w = (int)(strlen(l[i].name) + strlen(l[i].type)) + 4;
        if (w > nw) nw = w;
    }
    char rule[200], dbl[200];
    int rl = nw + sw + 12 + 34 < 190 ? nw + sw + 12 + 34 : 190;
    memset(rule, '_', (size_t)rl), rule[rl] = 0;
    memset(dbl, '=', (size_t)rl), dbl[rl] = 0;
    printf("Model: \"%s\"\n%s\n %-*s%-*s%-12sConnected to\n%s\n", title, rule, nw, "Layer (type)", sw, "Output Shape",
           "Param #", dbl);
    for (size_t i = 0; i < n; i++) {
        char name[96], shape[64], num[32], con[600];
        snprintf(name, sizeof name, "%s (%s)", l[i].name, l[i].type);
        int o = snprintf(shape, sizeof shape, "(None");
        for (int d = 0; d < l[i].ndim; d++) o += snprintf(shape + o, sizeof shape - (size_t)o, ", %zu", l[i].shape[d]);
        snprintf(shape + o, sizeof shape - (size_t)o, ")");
        group(num, sizeof num, l[i].params);
        connected(con, sizeof con, l[i].connected);
        printf(" %-*s%-*s%-12s%s\n", nw, name, sw, shape, num, con);
        if (i + 1 < n) printf("\n");
    }
    char a[32], b[32], d[32];
    group(a, sizeof a, total), group(b, sizeof b, tr), group(d, sizeof d, total - tr);
    printf("%s\nTotal params: %s\nTrainable params: %s\nNon-trainable params: %s\n%s\n", dbl, a, b, d, rule);
    free(l);
}

static const cli_opt summary_opts[] = {
    CLI_MODEL_OPTS,
    {"vocab-size", 0, "N", "20000", "without MODEL: vocabulary size (ids incl. padding; charcnn: 71)", 0},
    {"maxlen", 0, "N", "100", "without MODEL: sequence length (charcnn 1014, bow 1000)", 0},
    {"classes", 0, "N", "2", "without MODEL: number of labels (2 = binary, one sigmoid)", 0},
    {"multilabel", 0, NULL, NULL, "without MODEL: one sigmoid per label", 0},
    CLI_MAX_MEMORY_OPT,
    {"json", 0, NULL, NULL, "one JSON document", 0},
    {"quiet", 'q', NULL, NULL, "accepted for symmetry", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

static int run_summary(cli *c) {
    wb_model_cfg mc;
    if (c->argc == 1) {
        uint64_t maxmem;
        if (cli_max_memory(c, &maxmem)) return EXIT_USAGE;
        wb_bundle *b;
        wb_err e;
        wb_err_clear(&e);
        int rc = wb_bundle_load_ex(&b, c->argv[0], 1, maxmem, &e);
        if (rc) return cli_fail(&e, rc);
        mc = *wb_model_cfg_get(b->model);
        print_summary(c, &mc, wb_model_kind_name(mc.kind));
        wb_bundle_destroy(b);
        return EXIT_OK;
    }
    if (cli_model_opts(c, &mc, 0)) return EXIT_USAGE;
    if (cli_str(c, "embeddings") == NULL) mc.emb = WB_EMB_LEARNED;
    if (!mc.E) mc.E = 100;
    uint64_t V, T, C;
    if (cli_u64(c, "vocab-size", 2, INT32_MAX, &V) || cli_u64(c, "maxlen", 1, WB_MAX_T, &T) ||
        cli_u64(c, "classes", 1, WB_MAX_C, &C))
        return EXIT_USAGE;
    /* the character CNN reads characters: its defaults are the paper's, the
     * 69 distinct characters of Zhang's alphabet + padding and unknown */
    if (mc.kind == WB_MODEL_CHARCNN && !cli_given(c, "vocab-size")) V = 71;
    if (!cli_given(c, "maxlen")) T = cli_model_maxlen(&mc);
    mc.V = V, mc.T = T;
    if (cli_flag(c, "multilabel")) mc.task = WB_TASK_MULTILABEL, mc.C = C;
    else if (C <= 2) mc.task = WB_TASK_BINARY, mc.C = 1;
    else mc.task = WB_TASK_MULTICLASS, mc.C = C;
    wb_err e;
    wb_err_clear(&e);
    if (wb_model_cfg_check(&mc, &e)) return cli_usage(c, "%s", e.msg);
    print_summary(c, &mc, wb_model_kind_name(mc.kind));
    return EXIT_OK;
}

const cli_cmd cmd_summary = {"summary", "[options] [MODEL]",
                             "Keras-style layer table of a model file, or of --model with sizes.", summary_opts, 0, 1,
                             run_summary};
