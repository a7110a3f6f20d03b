/*
 * fuzz_model.c — libFuzzer target for the model file loaders: wb_model_load
 * (src/model/model.c: header, checksum, version, sections, the CONF text, PARM /
 * OPTS / OVLY / EMBD sizes and ids) and wb_bundle_load (src/model/bundle.c: the
 * same, then the vocabulary blob and the META text), on a valid model file
 * rewritten by a patch program.
 *
 * Input layout:
 *   byte 0    flags: bit 0 raw: the rest of the input is the whole file;
 *             bit 1 recompute the trailing XXH3-64 after patching (else the
 *             base file's checksum stays, so most patches die at it);
 *             bits 2-4 base file (FM_NVAR below)
 *   rest      ops, each: u8 op, then by op % 8 (u16 are little endian):
 *     0 overwrite   u16 offset (mod size), u8 n, n bytes
 *     1 truncate    u16 length (mod size + 1)
 *     2 insert      u16 offset (mod size + 1), u8 n, n bytes
 *     3 section     u8 index (mod sections), u16 n, n bytes: new content
 *     4 conf key    u8 k, u8 n, n bytes: k % 40 < 33 sets CONF key k % 40
 *                   to the bytes (replaced in place, appended if missing);
 *                   else appends the bytes as a raw line (keys 25-32 are
 *                   the later kinds'; seeds made with k % 32 < 25 keep
 *                   their meaning)
 *     5 meta key    u8 k, u8 n, n bytes: the same for the META text
 *                   (15 keys; "label" replaces the first label line)
 *     6 shuffle     u8 index, u8 what: what % 4 = 0 drop the section,
 *                   1 duplicate it, 2 move it first, 3 drop the last meta
 *                   label line
 *     7 set word    u16 offset, u8 width (bit 0: 8 else 4 bytes), 8 bytes
 *   Ops 3-6 act on the file as a header and a list of sections (lengths
 *   recomputed) and run first, in input order; ops 0-2 and 7 then act on
 *   the serialized bytes, in input order.  A short op is ignored.
 *
 * Base files (built once per process by wb_model_create / wb_model_save,
 * META written by hand in bundle.h's format, a real vocabulary blob):
 *   0 kim, learned, multiclass C=3, adam, 2 steps trained (overlay rows),
 *     optimizer state and a trainer blob;
 *   1 tutorial, learned, binary, H=3, sgd, no optimizer state;
 *   2 pool, frozen + oov random, multilabel C=2, rmsprop, an EMBD section
 *     made by hand (flag bit 1), so the model runs without a store;
 *   3 dense, multichannel + oov learn, multilabel C=2, adagrad, optimizer
 *     state, EMBD by hand.
 *   4 bow, tf-idf of 1..2-grams fitted on the vocabulary text, binary, adam,
 *     one step (overlay rows of features), class weights (BOWT, CLWT);
 *   5 lstm, learned, bidirectional, max over time, H=2, multiclass C=3,
 *     rmsprop (format version 2);
 *   6 gru, learned, last state, binary, sgd, two hidden layers with dropout;
 *   7 charcnn, T=40, widths 2,2,2, F=2, multilabel C=2, adagrad.
 * Each must load through both loaders before fuzzing starts.
 *
 * Checked, for both loaders on the mutated file:
 *   - the return code is 0 or documented (positive errno, WB_ECORRUPT,
 *     WB_EVERSION, WB_ENOMEM), a failure sets e.code and a message and
 *     leaves *out (and *blob) NULL;
 *   - an unmutated file loads;
 *   - after a successful wb_model_load: the configuration passes
 *     wb_model_cfg_check, meta / vocabulary / trainer lie inside the blob
 *     and meta is NUL-terminated there; when wb_model_ready, wb_model_predict
 *     on two examples (ids < V) returns 0 and probabilities in [0, 1]
 *     (NaN only when some weight is non-finite or larger than 1e4 in
 *     magnitude; multiclass rows sum to 1);
 *   - after a successful wb_bundle_load: vocabulary size V, maxlen T, one
 *     label per output (2 for binary), wb_bundle_encode of a short text
 *     returns 0 or a tokenizer error (WB_EUSAGE for a bad alphabet,
 *     WB_ENOMEM) and ids in [0, V), then predict on them as above.
 * Memory errors and leaks are ASan's and LSan's.  Both loaders run with a
 * memory limit of FM_MAX_MEM bytes (wb_model_load_ex): a file that would
 * need more for batches of 2 must be refused with WB_ENOMEM before
 * anything is allocated, and a model that loads must predict within it
 * (parameter block + the step arena's peak <= FM_MAX_MEM).
 *
 * The file is written to a fresh directory under /dev/shm (or $TMPDIR,
 * /tmp), removed at exit (not after a crash: rm -rf /dev/shm/wbfuzz-model-*).
 *
 * The harness body is fuzz_model_one(); tests/test_fuzz_regress.c includes
 * this file with WB_FUZZ_NO_MAIN defined.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "wordbench/bundle.h"
#include "wordbench/err.h"
#include "wordbench/model.h"
#include "wordbench/tokenize.h"
#include "wordbench/vocab.h"

#include "fuzz_common.h"

#define FM_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_model.c", #c, __LINE__))
#define FM_NVAR 8
#define FM_MAXSEC 24
#define FM_MAX_MEM (64u << 20) /* memory limit of a loaded model (bytes) */

/* A model file as a header and sections; bytes owned. */
typedef struct fm_sec {
    uint32_t tag;          /* section tag */
    uint32_t reserved;     /* as read */
    unsigned char *p;      /* content (len bytes, owned, may be NULL when 0) */
    size_t len;            /* content bytes */
} fm_sec;

typedef struct fm_file {
    unsigned char head[24];  /* magic, version, flags, fingerprint */
    fm_sec sec[FM_MAXSEC];   /* (nsec) */
    size_t nsec;
} fm_file;

static int fm_ready;
static char fm_root[256];          /* the temporary directory */
static char fm_path[320];          /* the model file fuzzed */
static fm_file fm_base[FM_NVAR];   /* the base files, parsed */

static const char *const fm_conf_keys[33] = {
    "kind", "embeddings", "oov", "task", "V", "E", "T", "F", "widths", "H", "dropout", "C", "maxnorm",
    "seed", "optimizer", "lr", "beta1", "beta2", "eps", "momentum", "rho", "l2", "clipnorm", "clipvalue", "step",
    /* the later kinds' keys (format version 2) */
    "hidden_layers", "hidden_dropout", "units", "bidirectional", "rnn_pool", "bow", "ngrams", "D"};
static const char *const fm_meta_keys[15] = {
    "tokenizer", "lower", "max_doc_chars", "strip_html", "alphabet", "maxlen", "padding", "truncating",
    "format", "label_prefix", "text_col", "label_col", "label_sep", "store", "label"};

static void fm_die(const char *what, const char *why) {
    fprintf(stderr, "fuzz_model: %s: %s\n", what, why ? why : "");
    abort();
}

static uint32_t fm_tag(const char *s) {
    return (uint32_t)(unsigned char)s[0] | (uint32_t)(unsigned char)s[1] << 8 |
           (uint32_t)(unsigned char)s[2] << 16 | (uint32_t)(unsigned char)s[3] << 24;
}

static uint64_t fm_get(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void fm_put(unsigned char *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void *fm_dup(const void *p, size_t n) {
    void *q = malloc(n ? n : 1);
    if (!q) fm_die("malloc", NULL);
    if (n) memcpy(q, p, n);
    return q;
}

static void fm_file_free(fm_file *f) {
    for (size_t i = 0; i < f->nsec; i++) free(f->sec[i].p);
    f->nsec = 0;
}

static void fm_file_copy(fm_file *dst, const fm_file *src) {
    memcpy(dst->head, src->head, 24);
    dst->nsec = src->nsec;
    for (size_t i = 0; i < src->nsec; i++) {
        dst->sec[i] = src->sec[i];
        dst->sec[i].p = fm_dup(src->sec[i].p, src->sec[i].len);
    }
}

static int fm_find(const fm_file *f, const char *tag) {
    for (size_t i = 0; i < f->nsec; i++)
        if (f->sec[i].tag == fm_tag(tag)) return (int)i;
    return -1;
}

static void fm_add(fm_file *f, const char *tag, unsigned char *p, size_t len) {
    if (f->nsec == FM_MAXSEC) {
        free(p);
        return;
    }
    f->sec[f->nsec++] = (fm_sec){.tag = fm_tag(tag), .p = p, .len = len};
}

/* Parse a file written by wb_model_save (trusted: the base files only). */
static void fm_parse(fm_file *f, const unsigned char *b, size_t n) {
    memcpy(f->head, b, 24);
    f->nsec = 0;
    for (size_t p = 24; p + 8 < n;) {
        size_t l = (size_t)fm_get(b + p + 8, 8);
        if (f->nsec == FM_MAXSEC) fm_die("parse", "too many sections");
        f->sec[f->nsec++] = (fm_sec){.tag = (uint32_t)fm_get(b + p, 4), .reserved = (uint32_t)fm_get(b + p + 4, 4),
                                     .p = fm_dup(b + p + 16, l), .len = l};
        p += 16 + l;
    }
}

/* Serialize with a correct checksum; malloc'd, *n its size. */
static unsigned char *fm_serialize(const fm_file *f, size_t *n) {
    size_t len = 24 + 8;
    for (size_t i = 0; i < f->nsec; i++) len += 16 + f->sec[i].len;
    unsigned char *b = malloc(len);
    if (!b) fm_die("malloc", NULL);
    memcpy(b, f->head, 24);
    size_t p = 24;
    for (size_t i = 0; i < f->nsec; i++) {
        fm_put(b + p, f->sec[i].tag, 4);
        fm_put(b + p + 4, f->sec[i].reserved, 4);
        fm_put(b + p + 8, f->sec[i].len, 8);
        if (f->sec[i].len) memcpy(b + p + 16, f->sec[i].p, f->sec[i].len);
        p += 16 + f->sec[i].len;
    }
    fm_put(b + p, XXH3_64bits(b, p), 8);
    *n = len;
    return b;
}

static void fm_write(const char *path, const unsigned char *b, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) fm_die(path, strerror(errno));
    if ((n && fwrite(b, 1, n, fp) != n) || fclose(fp)) fm_die(path, "write failed");
}

/* ---- "key value" text edits (CONF, META) --------------------------------- */

/* Replace the first line starting with "key " by "key value" (or append it
 * when none; key NULL appends value as a raw line).  nul: the section ends
 * with a NUL byte (META), kept last. */
static void fm_set_line(fm_sec *s, const char *key, const unsigned char *v, size_t vl, int nul) {
    size_t tl = s->len, kl = key ? strlen(key) : 0;
    if (nul && tl && s->p[tl - 1] == 0) tl--;
    size_t start = tl, end = tl; /* the line replaced: [start, end) incl. its '\n' */
    for (size_t i = 0; key && i < tl;) {
        size_t e = i;
        while (e < tl && s->p[e] != '\n') e++;
        if (e - i > kl && !memcmp(s->p + i, key, kl) && s->p[i + kl] == ' ') {
            start = i, end = e < tl ? e + 1 : e;
            break;
        }
        i = e + 1;
    }
    size_t nl = kl + (key ? 1 : 0) + vl + 1;
    size_t n = start + nl + (tl - end) + (nul ? 1 : 0);
    unsigned char *q = malloc(n ? n : 1);
    if (!q) fm_die("malloc", NULL);
    memcpy(q, s->p, start);
    size_t o = start;
    if (key) memcpy(q + o, key, kl), o += kl, q[o++] = ' ';
    memcpy(q + o, v, vl), o += vl;
    q[o++] = '\n';
    memcpy(q + o, s->p + end, tl - end), o += tl - end;
    if (nul) q[o++] = 0;
    free(s->p);
    s->p = q, s->len = o;
}

/* Drop the last "label ..." line of a META section. */
static void fm_drop_label(fm_sec *s) {
    size_t tl = s->len, start = SIZE_MAX, end = 0;
    for (size_t i = 0; i < tl;) {
        size_t e = i;
        while (e < tl && s->p[e] != '\n') e++;
        if (e - i > 6 && !memcmp(s->p + i, "label ", 6)) start = i, end = e < tl ? e + 1 : e;
        i = e + 1;
    }
    if (start == SIZE_MAX) return;
    memmove(s->p + start, s->p + end, tl - end);
    s->len = tl - (end - start);
}

/* ---- base files ------------------------------------------------------------ */

static const char *fm_text = "the king is here\nthe queen is there\na dog in the village\nthe king again\n";

static void fm_build(int v, const char *dir) {
    wb_err e;
    wb_err_clear(&e);
    wb_tokenize_opts to;
    wb_tokenize_opts_init(&to, WB_TOK_KERAS);
    wb_token_list tl;
    wb_token_list_init(&tl);
    wb_vocab *voc;
    if (wb_vocab_create(&voc, &e) || wb_tokenize(&to, fm_text, strlen(fm_text), &tl, &e) ||
        wb_vocab_add(voc, &tl, &e) || wb_vocab_finish(voc, 0, 1, &e))
        fm_die("vocabulary", e.msg);
    wb_token_list_free(&tl);
    void *vb;
    size_t vl;
    if (wb_vocab_save_buf(voc, &vb, &vl, &e)) fm_die("vocabulary", e.msg);
    size_t V = wb_vocab_size(voc);
    wb_vocab_destroy(voc);

    static const wb_model_kind kinds[FM_NVAR] = {WB_MODEL_KIM,  WB_MODEL_TUTORIAL, WB_MODEL_POOL, WB_MODEL_DENSE,
                                                 WB_MODEL_BOW,  WB_MODEL_LSTM,     WB_MODEL_GRU,  WB_MODEL_CHARCNN};
    static const wb_emb_mode embs[FM_NVAR] = {WB_EMB_LEARNED, WB_EMB_LEARNED, WB_EMB_LEARNED, WB_EMB_MULTICHANNEL,
                                              WB_EMB_LEARNED, WB_EMB_LEARNED, WB_EMB_LEARNED, WB_EMB_LEARNED};
    static const wb_task tasks[FM_NVAR] = {WB_TASK_MULTICLASS, WB_TASK_BINARY, WB_TASK_MULTILABEL, WB_TASK_MULTILABEL,
                                           WB_TASK_BINARY,     WB_TASK_MULTICLASS, WB_TASK_BINARY, WB_TASK_MULTILABEL};
    static const wb_opt_kind opts[FM_NVAR] = {WB_OPT_ADAM, WB_OPT_SGD,     WB_OPT_RMSPROP, WB_OPT_ADAGRAD,
                                              WB_OPT_ADAM, WB_OPT_RMSPROP, WB_OPT_SGD,     WB_OPT_ADAGRAD};
    wb_model_cfg c;
    wb_model_cfg_init(&c, kinds[v]);
    c.emb = embs[v], c.task = tasks[v];
    c.V = V, c.E = 4, c.T = v == 7 ? 40 : 6;
    c.C = tasks[v] == WB_TASK_BINARY ? 1 : tasks[v] == WB_TASK_MULTICLASS ? 3 : 2;
    c.seed = 7 + (uint64_t)v;
    if (v == 0) c.F = 2, c.nwidths = 2, c.widths[0] = 2, c.widths[1] = 3;
    if (v == 1) c.F = 2, c.widths[0] = 3, c.H = 3;
    if (v == 2 || v == 3 || v == 5) c.H = 2;
    if (v == 3) c.oov = WB_OOV_LEARN;
    if (v == 4) c.bow = WB_BOW_TFIDF, c.ngrams = 2;
    if (v == 5) c.units = 3, c.bidirectional = 1, c.rnn_pool = WB_RNN_MAX;
    if (v == 6) c.units = 2, c.H = 3, c.nhidden = 2, c.hidden_dropout = 0.25f;
    if (v == 7) c.F = 2, c.nwidths = 3, c.widths[0] = c.widths[1] = c.widths[2] = 2, c.H = 2;
    wb_optim o;
    wb_optim_init(&o, opts[v]);
    wb_model *m;
    if (wb_model_create(&m, &c, &o, 4, &e)) fm_die("wb_model_create", e.msg);
    if (v == 4) { /* the n-gram table and idf from two texts, one step, class weights */
        int32_t X[12] = {2, 3, 4, 5, 0, 0, 6, 7, 1, 2, 3, 0};
        uint32_t idx[2] = {0, 1};
        float t[2] = {1, 0}, cw[2] = {0.5f, 2};
        wb_rng r;
        wb_rng_init(&r, 1);
        if (wb_model_fit(m, &(wb_ids){.data = X, .n = 2, .T = 6, .width = 4}, idx, 2, &e) || wb_model_set_class_weights(m, cw, 2, &e) ||
            wb_model_train_step(m, X, 2, NULL, t, NULL, &r, NULL, NULL, &e))
            fm_die("bow", e.msg);
    }
    if (v == 0) {
        int32_t X[12] = {2, 3, 4, 5, 0, 0, 6, 7, 1, 2, 3, 0}, y[2] = {0, 2};
        wb_rng r;
        wb_rng_init(&r, 1);
        for (int s = 0; s < 2; s++)
            if (wb_model_train_step(m, X, 2, y, NULL, NULL, &r, NULL, NULL, &e)) fm_die("train", e.msg);
    }
    static const char *const metas[FM_NVAR] = {
        "tokenizer keras\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 6\npadding post\ntruncating post\n"
        "format tsv\nlabel a\nlabel b%20c\nlabel 100%25\n",
        "tokenizer fasttext\nlower 0\nmax_doc_chars 40\nstrip_html 1\nmaxlen 6\npadding pre\ntruncating pre\n"
        "format fasttext\nlabel_prefix __label__\nlabel neg\nlabel pos\n",
        "tokenizer unicode\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 6\npadding post\ntruncating pre\n"
        "format csv\ntext_col text\nlabel_col label\nlabel_sep ,\nstore /nonexistent/store\nlabel x\nlabel y\n",
        "tokenizer char\nlower 1\nmax_doc_chars 0\nstrip_html 0\nalphabet abcdefghijklmnopqrstuvwxyz%20\nmaxlen 6\n"
        "padding post\ntruncating post\nformat auto\nlabel p\nlabel q\n",
        "tokenizer keras\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 6\npadding post\ntruncating post\n"
        "format tsv\nlabel ham\nlabel spam\n",
        "tokenizer keras\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 6\npadding pre\ntruncating post\n"
        "format tsv\nlabel a\nlabel b\nlabel c\n",
        "tokenizer keras\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 6\npadding post\ntruncating post\n"
        "format tsv\nlabel 0\nlabel 1\n",
        "tokenizer keras\nlower 1\nmax_doc_chars 0\nstrip_html 0\nmaxlen 40\npadding post\ntruncating post\n"
        "format fasttext\nlabel_prefix __label__\nlabel x\nlabel y\n"};
    char path[400];
    snprintf(path, sizeof path, "%s/base%d.model", dir, v);
    wb_model_file f = {.meta = metas[v], .vocab = vb, .vocab_len = vl, .fingerprint = v >= 2 ? 0x1234abcdull : 0,
                       .trainer = v == 0 ? "epoch 2\n" : NULL, .trainer_len = v == 0 ? 8 : 0,
                       .with_optimizer = v == 0 || v == 3 || v == 4 || v == 7};
    if (wb_model_save(m, path, &f, &e)) fm_die("wb_model_save", e.msg);
    wb_model_destroy(m);
    free(vb);

    FILE *fp = fopen(path, "rb");
    if (!fp) fm_die(path, strerror(errno));
    unsigned char *b = malloc(1 << 16);
    size_t n = fread(b, 1, 1 << 16, fp);
    fclose(fp);
    unlink(path);
    fm_parse(&fm_base[v], b, n);
    free(b);
    if (v == 2 || v == 3) {
        /* Embedded rows for ids 2 .. V-2 (V-1 is left to the oov mode),
         * section as wb_model_save writes it; flag bit 1. */
        fm_file *ff = &fm_base[v];
        int ci = fm_find(ff, "CONF");
        if (ci < 0) fm_die("base", "no CONF");
        if (v == 2) {
            fm_set_line(&ff->sec[ci], "embeddings", (const unsigned char *)"frozen", 6, 0);
            fm_set_line(&ff->sec[ci], "oov", (const unsigned char *)"random", 6, 0);
        }
        size_t nr = V - 3, rb = 4 + 4 * sizeof(float), len = 8 + nr * rb;
        unsigned char *s = malloc(len);
        fm_put(s, nr, 8);
        for (size_t i = 0; i < nr; i++) {
            fm_put(s + 8 + i * rb, 2 + i, 4);
            for (int k = 0; k < 4; k++) {
                float x = 0.1f * (float)(k + 1) - 0.03f * (float)i;
                memcpy(s + 8 + i * rb + 4 + 4 * k, &x, 4);
            }
        }
        fm_add(ff, "EMBD", s, len);
        fm_put(ff->head + 12, fm_get(ff->head + 12, 4) | 2u, 4);
    }
}

static void fm_cleanup(void) {
    unlink(fm_path);
    rmdir(fm_root);
}

static void fm_check_pristine(void);

static void fm_init(void) {
    if (fm_ready) return;
    fm_ready = 1;
    const char *tmp = getenv("TMPDIR");
    struct stat sb;
    if (!stat("/dev/shm", &sb) && S_ISDIR(sb.st_mode) && !access("/dev/shm", W_OK)) tmp = "/dev/shm";
    snprintf(fm_root, sizeof fm_root, "%s/wbfuzz-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fm_root)) fm_die("mkdtemp", strerror(errno));
    snprintf(fm_path, sizeof fm_path, "%s/m.model", fm_root);
    atexit(fm_cleanup);
    for (int v = 0; v < FM_NVAR; v++) fm_build(v, fm_root);
    fm_check_pristine();
}

/* ---- checks ----------------------------------------------------------------- */

static void fm_check_err(int rc, const wb_err *e) {
    FM_CHECK(rc > 0 || rc == WB_ECORRUPT || rc == WB_EVERSION || rc == WB_ENOMEM);
    FM_CHECK(e->code == rc);
    FM_CHECK(memchr(e->msg, 0, sizeof e->msg) != NULL && e->msg[0] != 0);
    FM_CHECK(memchr(e->file, 0, sizeof e->file) != NULL);
}

/* 1 when every dense weight and every row of ids 0..V-1 is finite and at
 * most 1e4 in magnitude: then a tiny model cannot overflow to inf - inf. */
static int fm_tame(wb_model *m) {
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *w;
        size_t n;
        wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        for (size_t k = 0; k < n; k++)
            if (!(fabsf(w[k]) <= 1e4f)) return 0;
    }
    const wb_model_cfg *c = wb_model_cfg_get(m);
    float *row = malloc(c->E * sizeof *row);
    if (!row) fm_die("malloc", NULL);
    int ok = 1;
    for (size_t id = 0; ok && id < c->V && id < 64; id++) {
        if (wb_model_get_row(m, (int32_t)id, row, NULL)) continue;
        for (size_t k = 0; k < c->E; k++)
            if (!(fabsf(row[k]) <= 1e4f)) ok = 0;
    }
    free(row);
    return ok && c->V <= 64;
}

/* Predict on B examples X (B, T) when the model can run and is small. */
static void fm_predict(wb_model *m, const int32_t *X, size_t B) {
    if (!wb_model_ready(m)) return;
    const wb_model_cfg *c = wb_model_cfg_get(m);
    float *prob = malloc(B * c->C * sizeof *prob);
    if (!prob) fm_die("malloc", NULL);
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_model_predict(m, X, B, NULL, NULL, NULL, prob, NULL, &e);
    FM_CHECK(rc == 0 || rc == WB_ENOMEM);
    wb_model_mem mem;
    wb_model_mem_get(m, &mem);
    FM_CHECK(mem.block_bytes + mem.arena_peak <= FM_MAX_MEM);
    if (rc == 0) {
        int tame = fm_tame(m);
        for (size_t b = 0; b < B; b++) {
            double sum = 0;
            int nan = 0;
            for (size_t k = 0; k < c->C; k++) {
                float p = prob[b * c->C + k];
                FM_CHECK(isnan(p) || (p >= 0.0f && p <= 1.0f));
                nan |= isnan(p);
                sum += p;
            }
            FM_CHECK(!nan || !tame);
            if (c->task == WB_TASK_MULTICLASS && !nan) FM_CHECK(fabs(sum - 1.0) < 1e-3);
        }
    }
    free(prob);
}

/* ids for two examples of length T, all < V. */
static int32_t *fm_ids(const wb_model_cfg *c) {
    int32_t *X = malloc(2 * c->T * sizeof *X);
    if (!X) fm_die("malloc", NULL);
    for (size_t i = 0; i < 2 * c->T; i++) X[i] = (int32_t)((i * 7 + 1) % c->V);
    X[0] = (int32_t)(c->V - 1);
    return X;
}

static void fm_load_model(int pristine) {
    wb_model *m = (wb_model *)1;
    wb_model_file of;
    void *blob = (void *)1;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_model_load_ex(&m, fm_path, 2, FM_MAX_MEM, &of, &blob, &e);
    if (rc) {
        if (pristine) fprintf(stderr, "pristine model: %s\n", e.msg);
        FM_CHECK(!pristine);
        fm_check_err(rc, &e);
        FM_CHECK(m == NULL && blob == NULL);
        return;
    }
    FM_CHECK(m != NULL && blob != NULL);
    const wb_model_cfg *c = wb_model_cfg_get(m);
    FM_CHECK(wb_model_cfg_check(c, NULL) == 0);
    struct stat sb;
    FM_CHECK(stat(fm_path, &sb) == 0);
    const char *lo = blob, *hi = lo + sb.st_size;
    FM_CHECK(of.meta != NULL && of.meta >= lo && of.meta < hi);
    FM_CHECK(memchr(of.meta, 0, (size_t)(hi - of.meta)) != NULL);
    if (of.vocab) FM_CHECK((const char *)of.vocab >= lo && of.vocab_len <= (size_t)(hi - (const char *)of.vocab));
    if (of.trainer)
        FM_CHECK((const char *)of.trainer >= lo && of.trainer_len <= (size_t)(hi - (const char *)of.trainer));
    if (pristine) FM_CHECK(wb_model_ready(m));
    int32_t *X = fm_ids(c);
    fm_predict(m, X, 2);
    free(X);
    wb_model_destroy(m);
    free(blob);
}

static void fm_load_bundle(int pristine) {
    wb_bundle *b = (wb_bundle *)1;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_bundle_load_ex(&b, fm_path, 2, FM_MAX_MEM, &e);
    if (rc) {
        if (pristine) fprintf(stderr, "pristine bundle: %s\n", e.msg);
        FM_CHECK(!pristine);
        fm_check_err(rc, &e);
        FM_CHECK(b == NULL);
        return;
    }
    FM_CHECK(b != NULL && b->model && b->vocab);
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    FM_CHECK(wb_vocab_size(b->vocab) == c->V);
    FM_CHECK(b->maxlen == c->T);
    FM_CHECK(b->nlabels == (c->task == WB_TASK_BINARY ? 2 : c->C));
    for (uint32_t i = 0; i < b->nlabels; i++) {
        int64_t id = wb_bundle_label(b, b->labels[i], b->label_len[i]);
        FM_CHECK(id >= 0 && id <= (int64_t)i);
    }
    static const char txt[] = "The king is there, a <b>dog</b> &amp; the QUEEN again!";
    int32_t *X = fm_ids(c); /* 2·T ids; the first row is overwritten */
    size_t nt = 0;
    wb_err_clear(&e);
    rc = wb_bundle_encode(b, txt, sizeof txt - 1, X, &nt, &e);
    FM_CHECK(rc == 0 || rc == WB_EUSAGE || rc == WB_ENOMEM);
    if (rc == 0) {
        for (size_t i = 0; i < c->T; i++) FM_CHECK(X[i] >= 0 && (size_t)X[i] < c->V);
        if (pristine) FM_CHECK(nt > 0 && wb_bundle_attach_store(b, NULL, &e) == 0);
        fm_predict(b->model, X, 2);
    } else {
        FM_CHECK(e.code == rc && e.msg[0] != 0 && !pristine);
    }
    free(X);
    wb_bundle_destroy(b);
}

static void fm_check_pristine(void) {
    for (int v = 0; v < FM_NVAR; v++) {
        size_t n;
        unsigned char *b = fm_serialize(&fm_base[v], &n);
        fm_write(fm_path, b, n);
        free(b);
        fm_load_model(1);
        fm_load_bundle(1);
    }
}

/* ---- the patch program ----------------------------------------------------------- */

/* Run the ops of data[0..size); phase 0 applies the section ops to *f,
 * phase 1 the byte ops to *b (*n bytes, realloc'd). */
static void fm_ops(const uint8_t *d, size_t size, int phase, fm_file *f, unsigned char **b, size_t *n) {
    size_t i = 0;
#define NEED(k) \
    if (size - i < (k)) return
    while (i < size) {
        uint8_t op = d[i++] % 8;
        switch (op) {
        case 0:
        case 2: {
            NEED(3);
            size_t off = d[i] | (size_t)d[i + 1] << 8, k = d[i + 2];
            i += 3;
            NEED(k);
            if (phase == 1) {
                if (op == 0 && *n) {
                    off %= *n;
                    if (k > *n - off) k = *n - off;
                    memcpy(*b + off, d + i, k);
                } else if (op == 2) {
                    off %= *n + 1;
                    unsigned char *q = realloc(*b, *n + k + 1);
                    if (!q) fm_die("realloc", NULL);
                    memmove(q + off + k, q + off, *n - off);
                    memcpy(q + off, d + i, k);
                    *b = q, *n += k;
                }
            }
            i += k;
            break;
        }
        case 1: {
            NEED(2);
            size_t l = d[i] | (size_t)d[i + 1] << 8;
            i += 2;
            if (phase == 1) *n = l % (*n + 1);
            break;
        }
        case 3: {
            NEED(3);
            size_t idx = d[i], k = d[i + 1] | (size_t)d[i + 2] << 8;
            i += 3;
            NEED(k);
            if (phase == 0 && f->nsec) {
                fm_sec *s = &f->sec[idx % f->nsec];
                free(s->p);
                s->p = fm_dup(d + i, k), s->len = k;
            }
            i += k;
            break;
        }
        case 4:
        case 5: {
            NEED(2);
            size_t key = d[i] % (op == 4 ? 40 : 32), k = d[i + 1];
            i += 2;
            NEED(k);
            if (phase == 0) {
                int si = fm_find(f, op == 4 ? "CONF" : "META");
                const char *kn = NULL;
                if (op == 4 && key < 33) kn = fm_conf_keys[key];
                if (op == 5 && key < 15) kn = fm_meta_keys[key];
                if (si >= 0) fm_set_line(&f->sec[si], kn, d + i, k, op == 5);
            }
            i += k;
            break;
        }
        case 6: {
            NEED(2);
            size_t idx = d[i], what = d[i + 1] % 4;
            i += 2;
            if (phase == 0 && f->nsec) {
                idx %= f->nsec;
                fm_sec s = f->sec[idx];
                if (what == 0) {
                    free(s.p);
                    memmove(f->sec + idx, f->sec + idx + 1, (f->nsec - idx - 1) * sizeof s);
                    f->nsec--;
                } else if (what == 1 && f->nsec < FM_MAXSEC) {
                    f->sec[f->nsec] = s;
                    f->sec[f->nsec++].p = fm_dup(s.p, s.len);
                } else if (what == 2) {
                    memmove(f->sec + 1, f->sec, idx * sizeof s);
                    f->sec[0] = s;
                } else if (what == 3) {
                    int si = fm_find(f, "META");
                    if (si >= 0) fm_drop_label(&f->sec[si]);
                }
            }
            break;
        }
        case 7: {
            NEED(11);
            size_t off = d[i] | (size_t)d[i + 1] << 8;
            int w = d[i + 2] & 1 ? 8 : 4;
            if (phase == 1 && *n >= (size_t)w) {
                off %= *n - (size_t)w + 1;
                memcpy(*b + off, d + i + 3, (size_t)w);
            }
            i += 11;
            break;
        }
        }
    }
#undef NEED
}

static int fuzz_model_one(const uint8_t *data, size_t size) {
    fm_init();
    if (size == 0) return 0;
    uint8_t flags = data[0];
    unsigned char *b;
    size_t n;
    int pristine = 0;
    if (flags & 1) {
        b = fm_dup(data + 1, size - 1);
        n = size - 1;
    } else {
        fm_file f;
        fm_file_copy(&f, &fm_base[(flags >> 2) & 7]);
        fm_ops(data + 1, size - 1, 0, &f, NULL, NULL);
        b = fm_serialize(&f, &n);
        fm_file_free(&f);
        fm_ops(data + 1, size - 1, 1, NULL, &b, &n);
        if ((flags & 2) && n >= 32) fm_put(b + n - 8, XXH3_64bits(b, n - 8), 8);
        /* Unchanged from its base file: must load. */
        size_t bn;
        unsigned char *base = fm_serialize(&fm_base[(flags >> 2) & 7], &bn);
        pristine = n == bn && !memcmp(b, base, n);
        free(base);
    }
    fm_write(fm_path, b, n);
    free(b);
    fm_load_model(pristine);
    fm_load_bundle(pristine);
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fm_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_model_one(data, size);
}
#endif
