/*
 * modelfile.c — the model file of model.h: the configuration as text,
 * writing every section atomically, and loading an untrusted file with
 * every size checked before anything is allocated (docs/store-format.md,
 * "Model file", states the limits).
 *
 * Sections that belong to one part (vocabulary, overlay rows, embedded
 * rows, a part's own sections) carry the part's index in the section
 * header's second word (0 for the one text input of a single-input model,
 * as version 1 files always wrote; text input k is part k).
 *
 * Leaves out: the meaning of META and TRST (bundle.c, train.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "model/model_int.h"
#include "wordbench/kv.h"

#define TAG WB_TAG
#define TAG_CONF TAG('C', 'O', 'N', 'F')
#define TAG_META TAG('M', 'E', 'T', 'A')
#define TAG_VOCB TAG('V', 'O', 'C', 'B')
#define TAG_PARM TAG('P', 'A', 'R', 'M')
#define TAG_OPTS TAG('O', 'P', 'T', 'S')
#define TAG_OVLY TAG('O', 'V', 'L', 'Y')
#define TAG_EMBD TAG('E', 'M', 'B', 'D')
#define TAG_TRST TAG('T', 'R', 'S', 'T')
#define TAG_CLWT TAG('C', 'L', 'W', 'T')
#define TAG_OLST TAG('O', 'L', 'S', 'T')
#define TAG_BOWT TAG('B', 'O', 'W', 'T')
#define TAG_FEAT TAG('F', 'E', 'A', 'T')
static const char model_magic[8] = {'W', 'B', 'M', 'O', 'D', 'E', 'L', 0};

/* ---- configuration text --------------------------------------------------- */

/* The configuration as "key value" lines (wordbench/kv.h); NULL when out
 * of memory.  Keys of the later kinds come only when they differ from the
 * first four kinds' behaviour: a model of those kinds keeps its version 1
 * text, byte for byte. */
static char *conf_text(const wb_model *m, size_t *len) {
    const wb_model_cfg *c = &m->c;
    const wb_optim *o = &m->opt;
    wb_kv k = {0};
    wb_kv_puts(&k, "kind", wb_model_kind_name(c->kind));
    wb_kv_puts(&k, "embeddings", wb_emb_mode_name(c->emb));
    wb_kv_puts(&k, "oov", wb_oov_mode_name(c->oov));
    wb_kv_puts(&k, "task", wb_task_name(c->task));
    wb_kv_putf(&k, "V", "%zu", c->V);
    wb_kv_putf(&k, "E", "%zu", c->E);
    wb_kv_putf(&k, "T", "%zu", c->T);
    wb_kv_putf(&k, "F", "%zu", c->F);
    char widths[WB_MAX_WIDTHS * 21 + 2] = "-"; /* checked widths are <= T <= WB_MAX_T: far below 21 digits */
    for (size_t i = 0, o2 = 0; i < c->nwidths; i++)
        o2 += (size_t)snprintf(widths + o2, sizeof widths - o2, "%s%zu", i ? "," : "", c->widths[i]);
    wb_kv_puts(&k, "widths", widths);
    wb_kv_putf(&k, "H", "%zu", c->H);
    wb_kv_putf(&k, "dropout", "%.9g", (double)c->dropout);
    wb_kv_putf(&k, "C", "%zu", c->C);
    wb_kv_putf(&k, "maxnorm", "%.9g", (double)c->maxnorm);
    wb_kv_putf(&k, "seed", "%llu", (unsigned long long)c->seed);
    wb_kv_puts(&k, "optimizer", wb_optim_name(o->kind));
    wb_kv_putf(&k, "lr", "%.9g", (double)o->lr);
    wb_kv_putf(&k, "beta1", "%.9g", (double)o->beta1);
    wb_kv_putf(&k, "beta2", "%.9g", (double)o->beta2);
    wb_kv_putf(&k, "eps", "%.9g", (double)o->eps);
    wb_kv_putf(&k, "momentum", "%.9g", (double)o->momentum);
    wb_kv_putf(&k, "rho", "%.9g", (double)o->rho);
    wb_kv_putf(&k, "l2", "%.9g", (double)o->l2);
    wb_kv_putf(&k, "clipnorm", "%.9g", (double)o->clipnorm);
    wb_kv_putf(&k, "clipvalue", "%.9g", (double)o->clipvalue);
    wb_kv_putf(&k, "step", "%llu", (unsigned long long)o->t);
    if (c->nhidden > 1) wb_kv_putf(&k, "hidden_layers", "%zu", c->nhidden);
    if (c->hidden_dropout > 0) wb_kv_putf(&k, "hidden_dropout", "%.9g", (double)c->hidden_dropout);
    if (c->units) wb_kv_putf(&k, "units", "%zu", c->units);
    if (c->bidirectional) wb_kv_puts(&k, "bidirectional", "1");
    if (c->rnn_pool == WB_RNN_MAX) wb_kv_puts(&k, "rnn_pool", "max");
    if (c->bow == WB_BOW_TFIDF) wb_kv_puts(&k, "bow", "tfidf");
    if (c->ngrams) wb_kv_putf(&k, "ngrams", "%zu", c->ngrams);
    if (c->D) wb_kv_putf(&k, "D", "%zu", c->D);
    if (o->kind == WB_OPT_ADAM && o->adam != WB_ADAM_LAZY) wb_kv_puts(&k, "adam", wb_adam_mode_name(o->adam));
    /* several text inputs (input k >= 1: V_<k+1>, T_<k+1>), column names,
     * numeric features (format version 3) */
    size_t nt = wb_model_cfg_ninputs(c);
    if (nt > 1) wb_kv_putf(&k, "inputs", "%zu", nt);
    for (size_t i = 1; i < nt; i++) {
        char key[16];
        snprintf(key, sizeof key, "V_%u", (unsigned)i + 1);
        wb_kv_putf(&k, key, "%zu", c->text_V[i]);
        snprintf(key, sizeof key, "T_%u", (unsigned)i + 1);
        wb_kv_putf(&k, key, "%zu", c->text_T[i]);
    }
    for (size_t i = 0; i < WB_MAX_INPUTS; i++)
        if (c->text_name[i][0]) {
            char key[16];
            snprintf(key, sizeof key, "name_%u", (unsigned)i + 1);
            wb_kv_puts(&k, key, c->text_name[i]);
        }
    if (c->nfeat) wb_kv_putf(&k, "features", "%zu", c->nfeat);
    if (c->feat_dense) wb_kv_putf(&k, "feature_dense", "%zu", c->feat_dense);
    return wb_kv_take(&k, len);
}

/* The oldest format version that holds the model: 1 for what the first
 * build read, 2 for the later kinds, 3 for several inputs or features
 * (an older build refuses the file by its version instead of misreading
 * it). */
static unsigned format_version(const wb_model_cfg *c) {
    int named = 0;
    for (size_t i = 0; i < WB_MAX_INPUTS; i++) named |= c->text_name[i][0] != 0;
    if (wb_model_cfg_ninputs(c) > 1 || c->nfeat || c->feat_dense || named) return 3;
    return c->kind > WB_MODEL_KIM || c->nhidden > 1 || c->hidden_dropout > 0 || c->units || c->bidirectional ||
                   c->rnn_pool || c->bow || c->ngrams || c->D
               ? 2
               : 1;
}

/* Value of `key` in conf text (len bytes) into v (cap bytes); 0 or -1. */
static int conf_get(const char *s, size_t len, const char *key, char *v, size_t cap) {
    size_t vl;
    /* a value holding NUL (an escape %00) is no number nor name */
    return wb_kv_get(s, len, key, v, cap, &vl) || strlen(v) != vl ? -1 : 0;
}

static int conf_u64(const char *s, size_t len, const char *key, uint64_t *out) {
    char v[64], *end;
    if (conf_get(s, len, key, v, sizeof v) || !v[0]) return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || v[0] == '-') return -1;
    *out = x;
    return 0;
}

static int conf_f(const char *s, size_t len, const char *key, float *out) {
    char v[64], *end;
    if (conf_get(s, len, key, v, sizeof v) || !v[0]) return -1;
    float x = strtof(v, &end);
    if (*end || !isfinite(x)) return -1;
    *out = x;
    return 0;
}

static int conf_parse(const char *s, size_t len, wb_model_cfg *c, wb_optim *o) {
    char v[256];
    int x;
    memset(c, 0, sizeof *c);
    if (conf_get(s, len, "kind", v, sizeof v) || (x = wb_model_kind_parse(v)) < 0) return -1;
    c->kind = (wb_model_kind)x;
    if (conf_get(s, len, "embeddings", v, sizeof v) || (x = wb_emb_mode_parse(v)) < 0) return -1;
    c->emb = (wb_emb_mode)x;
    if (conf_get(s, len, "oov", v, sizeof v) || (x = wb_oov_mode_parse(v)) < 0) return -1;
    c->oov = (wb_oov_mode)x;
    if (conf_get(s, len, "task", v, sizeof v) || wb_task_parse(v) <= 0) return -1;
    c->task = (wb_task)wb_task_parse(v);
    uint64_t V, E, T, F, H, C, seed, step;
    if (conf_u64(s, len, "V", &V) || conf_u64(s, len, "E", &E) || conf_u64(s, len, "T", &T) ||
        conf_u64(s, len, "F", &F) || conf_u64(s, len, "H", &H) || conf_u64(s, len, "C", &C) ||
        conf_u64(s, len, "seed", &seed) || conf_u64(s, len, "step", &step))
        return -1;
    c->V = V, c->E = E, c->T = T, c->F = F, c->H = H, c->C = C, c->seed = seed;
    if (conf_get(s, len, "widths", v, sizeof v)) return -1;
    if (strcmp(v, "-")) {
        char *p = v, *end;
        while (*p) {
            if (c->nwidths == WB_MAX_WIDTHS || *p < '0' || *p > '9') return -1;
            errno = 0;
            unsigned long long w = strtoull(p, &end, 10);
            if (errno || w > SIZE_MAX) return -1;
            c->widths[c->nwidths++] = (size_t)w;
            if (*end && *end != ',') return -1;
            p = *end == ',' ? end + 1 : end;
        }
    }
    if (conf_f(s, len, "dropout", &c->dropout) || conf_f(s, len, "maxnorm", &c->maxnorm)) return -1;
    if (conf_get(s, len, "optimizer", v, sizeof v) || wb_optim_parse(v) < 0) return -1;
    wb_optim_init(o, (wb_opt_kind)wb_optim_parse(v));
    if (conf_f(s, len, "lr", &o->lr) || conf_f(s, len, "beta1", &o->beta1) || conf_f(s, len, "beta2", &o->beta2) ||
        conf_f(s, len, "eps", &o->eps) || conf_f(s, len, "momentum", &o->momentum) || conf_f(s, len, "rho", &o->rho) ||
        conf_f(s, len, "l2", &o->l2) || conf_f(s, len, "clipnorm", &o->clipnorm) ||
        conf_f(s, len, "clipvalue", &o->clipvalue))
        return -1;
    o->t = step;
    /* optional keys (version 2): absent = 0 */
    uint64_t u;
    if (!conf_u64(s, len, "hidden_layers", &u)) c->nhidden = (size_t)u;
    if (!conf_get(s, len, "hidden_dropout", v, sizeof v) && conf_f(s, len, "hidden_dropout", &c->hidden_dropout)) return -1;
    if (!conf_u64(s, len, "units", &u)) c->units = (size_t)u;
    if (!conf_u64(s, len, "bidirectional", &u)) c->bidirectional = u == 1 ? 1 : 2; /* 2: refused by the check */
    if (!conf_get(s, len, "rnn_pool", v, sizeof v)) {
        if (strcmp(v, "max")) return -1;
        c->rnn_pool = WB_RNN_MAX;
    }
    if (!conf_get(s, len, "bow", v, sizeof v)) {
        if (strcmp(v, "tfidf")) return -1;
        c->bow = WB_BOW_TFIDF;
    }
    if (!conf_u64(s, len, "ngrams", &u)) c->ngrams = u > 99 ? 99 : (size_t)u;
    if (!conf_u64(s, len, "D", &u)) c->D = u > (uint64_t)INT32_MAX + 1 ? (size_t)INT32_MAX + 1 : (size_t)u;
    /* absent: lazy, the only rule of the files written before the key */
    o->adam = WB_ADAM_LAZY;
    if (!conf_get(s, len, "adam", v, sizeof v)) {
        if ((x = wb_adam_mode_parse(v)) < 0) return -1;
        o->adam = (wb_adam_mode)x;
    }
    /* version 3: every value clamped just past its limit, so that the
     * check refuses it by name instead of a wrapped size slipping through */
    if (!conf_u64(s, len, "inputs", &u)) c->ntext = u > WB_MAX_INPUTS ? WB_MAX_INPUTS + 1 : (size_t)u;
    for (size_t i = 1; i < WB_MAX_INPUTS && i < c->ntext; i++) {
        char key[16];
        snprintf(key, sizeof key, "V_%u", (unsigned)i + 1);
        if (conf_u64(s, len, key, &u)) return -1;
        c->text_V[i] = u > (uint64_t)INT32_MAX + 1 ? (size_t)INT32_MAX + 1 : (size_t)u;
        snprintf(key, sizeof key, "T_%u", (unsigned)i + 1);
        if (conf_u64(s, len, key, &u)) return -1;
        c->text_T[i] = u > WB_MAX_T + 1u ? WB_MAX_T + 1u : (size_t)u;
    }
    for (size_t i = 0; i < WB_MAX_INPUTS; i++) {
        char key[16];
        snprintf(key, sizeof key, "name_%u", (unsigned)i + 1);
        if (!conf_get(s, len, key, v, sizeof v)) {
            if (strlen(v) >= sizeof c->text_name[i]) return -1;
            memcpy(c->text_name[i], v, strlen(v) + 1);
        }
    }
    if (!conf_u64(s, len, "features", &u)) c->nfeat = u > WB_MAX_FEATURES ? WB_MAX_FEATURES + 1 : (size_t)u;
    if (!conf_u64(s, len, "feature_dense", &u)) c->feat_dense = u > WB_MAX_UNITS ? WB_MAX_UNITS + 1 : (size_t)u;
    return 0;
}

/* ---- save ------------------------------------------------------------------------ */

static void section(wb_awriter *w, uint32_t tag, uint32_t part, uint64_t len) {
    wb_aw_u32(w, tag);
    wb_aw_u32(w, part);
    wb_aw_u64(w, len);
}

/* The overlay rows of a table.  With their optimizer state (a checkpoint)
 * as they are, and the step each is current through (OLST), so that a
 * resumed run catches them up as the uninterrupted one; without, each row
 * caught up through the last step (Adam's catch-up, optim.h): the weights
 * dense Adam would have.  0 or WB_ENOMEM. */
static int save_overlay(wb_awriter *w, const wb_model *m, const wb_emb *t, uint32_t part, int with_state) {
    size_t rowf = with_state ? t->orow_floats : t->E;
    float *buf = with_state ? NULL : malloc(t->E * sizeof *buf);
    if (!with_state && !buf) return WB_ENOMEM;
    section(w, TAG_OVLY, part, 16 + t->orows * (4 + rowf * sizeof(float)));
    wb_aw_u64(w, t->orows);
    wb_aw_u32(w, with_state ? 1 : 0);
    wb_aw_u32(w, 0);
    for (size_t s = 0; s < t->orows; s++) {
        wb_aw_u32(w, (uint32_t)t->oid[s]);
        if (with_state) {
            wb_aw_write(w, wb_emb_ovl_row(t, (int32_t)s), rowf * sizeof(float));
        } else {
            wb_emb_ovl_value(t, &m->opt, &m->cu, (int32_t)s, buf);
            wb_aw_write(w, buf, rowf * sizeof(float));
        }
    }
    free(buf);
    if (with_state) {
        section(w, TAG_OLST, part, 8 + t->orows * 8);
        wb_aw_u64(w, t->orows);
        for (size_t s = 0; s < t->orows; s++) wb_aw_u64(w, t->olast[s]);
    }
    return 0;
}

/* The frozen rows of every id the store resolves.  0 or WB_ENOMEM. */
static int save_embedded(wb_awriter *w, const wb_emb *t, uint32_t part) {
    size_t n = 0, E = t->E;
    for (size_t i = 0; i < t->V; i++) n += t->row[i] >= 0;
    section(w, TAG_EMBD, part, 8 + n * (4 + E * sizeof(float)));
    wb_aw_u64(w, n);
    float *buf = malloc(E * sizeof *buf);
    if (!buf) return WB_ENOMEM;
    for (size_t i = 0; i < t->V; i++) {
        if (t->row[i] < 0) continue;
        uint32_t r = (uint32_t)t->row[i];
        if (t->embedded)
            memcpy(buf, t->embedded + (size_t)r * E, E * sizeof(float));
        else
            wb_store_gather(t->st, 1, &r, buf);
        wb_aw_u32(w, (uint32_t)i);
        wb_aw_write(w, buf, E * sizeof(float));
    }
    free(buf);
    return 0;
}

int wb_model_save(wb_model *m, const char *path, const wb_model_file *f, wb_err *e) {
    wb_model_catchup_ready(m);
    size_t clen = 0;
    char *conf = conf_text(m, &clen);
    if (!conf) return wb_err_set(e, WB_ENOMEM, "out of memory");
    const wb_graph *g = &m->g;
    int embed = 0;
    if (f->embed_vectors)
        for (size_t i = 0; i < g->nparts; i++)
            embed |= g->part[i].has_emb && wb_emb_needs_store(&g->part[i].emb) && g->part[i].emb.attached;
    wb_awriter w;
    int rc = wb_aw_open(&w, path);
    if (rc) {
        free(conf);
        return wb_err_at(e, rc, path, 0, -1, "cannot create the model file: %s", wb_strerror(rc));
    }
    wb_aw_write(&w, model_magic, 8);
    wb_aw_u32(&w, format_version(&m->c));
    wb_aw_u32(&w, (f->trainer ? 1u : 0u) | (embed ? 2u : 0u));
    wb_aw_u64(&w, f->fingerprint);
    section(&w, TAG_CONF, 0, clen);
    wb_aw_write(&w, conf, clen);
    free(conf);
    size_t mlen = f->meta ? strlen(f->meta) + 1 : 1;
    section(&w, TAG_META, 0, mlen);
    wb_aw_write(&w, f->meta ? f->meta : "", mlen);
    if (f->vocab) {
        section(&w, TAG_VOCB, 0, f->vocab_len);
        wb_aw_write(&w, f->vocab, f->vocab_len);
    }
    for (size_t k = 1; k < wb_model_cfg_ninputs(&m->c); k++)
        if (f->input_vocab[k]) {
            section(&w, TAG_VOCB, (uint32_t)k, f->input_vocab_len[k]);
            wb_aw_write(&w, f->input_vocab[k], f->input_vocab_len[k]);
        }
    section(&w, TAG_PARM, 0, m->nparam * sizeof(float));
    wb_aw_write(&w, m->block, m->nparam * sizeof(float));
    if (f->with_optimizer) {
        section(&w, TAG_OPTS, 0, m->nparam * m->nstate * sizeof(float));
        wb_aw_write(&w, m->block + 2 * m->nparam, m->nparam * m->nstate * sizeof(float));
    }
    for (size_t i = 0; i < g->nparts; i++)
        if (g->part[i].ops->save) g->part[i].ops->save(&g->part[i], &w, (uint32_t)i);
    for (size_t i = 0; i < g->nparts; i++)
        if (g->part[i].has_emb && save_overlay(&w, m, &g->part[i].emb, (uint32_t)i, f->with_optimizer)) {
            wb_aw_abort(&w);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
    if (m->cw) {
        size_t n = m->c.task == WB_TASK_BINARY ? 2 : m->c.C;
        section(&w, TAG_CLWT, 0, n * sizeof(float));
        wb_aw_write(&w, m->cw, n * sizeof(float));
    }
    for (size_t i = 0; embed && i < g->nparts; i++) {
        const wb_emb *t = &g->part[i].emb;
        if (!g->part[i].has_emb || !wb_emb_needs_store(t) || !t->attached) continue;
        if (save_embedded(&w, t, (uint32_t)i)) {
            wb_aw_abort(&w);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
    }
    if (f->trainer) {
        section(&w, TAG_TRST, 0, f->trainer_len);
        wb_aw_write(&w, f->trainer, f->trainer_len);
    }
    rc = wb_aw_commit(&w);
    if (rc) return wb_err_at(e, rc, path, 0, -1, "cannot write the model file: %s", wb_strerror(rc));
    return 0;
}

/* ---- load ------------------------------------------------------------------------ */

#define CORRUPT(...) (wb_err_at(e, WB_ECORRUPT, path, 0, -1, __VA_ARGS__))

/* The sections of a file: the model-wide ones, and per part. */
#define MAX_OTHER 16 /* sections of the parts' own kinds (BOWT) */
typedef struct sections {
    const unsigned char *conf, *meta, *parm, *opts, *trst, *clwt;
    uint64_t conf_len, meta_len, parm_len, opts_len, trst_len, clwt_len;
    const unsigned char *vocab[WB_MAX_PARTS]; /* per text input */
    uint64_t vocab_len[WB_MAX_PARTS];
    const unsigned char *ovly[WB_MAX_PARTS], *embd[WB_MAX_PARTS], *olst[WB_MAX_PARTS];
    uint64_t ovly_len[WB_MAX_PARTS], embd_len[WB_MAX_PARTS], olst_len[WB_MAX_PARTS];
    const unsigned char *other[MAX_OTHER]; /* in file order */
    uint64_t other_len[MAX_OTHER];
    uint32_t other_tag[MAX_OTHER], other_part[MAX_OTHER];
    size_t nother;
} sections;

static int read_sections(const unsigned char *b, size_t len, sections *S, const char *path, wb_err *e) {
    memset(S, 0, sizeof *S);
    for (size_t p = 24; p < len - 8;) {
        if (len - 8 - p < 16) return CORRUPT("section header cut at byte %zu", p);
        uint32_t tag = wb_get32(b + p), part = wb_get32(b + p + 4);
        uint64_t l = wb_get64(b + p + 8);
        p += 16;
        if (l > len - 8 - p) return CORRUPT("section at byte %zu runs past the end", p - 16);
        const unsigned char *q = b + p;
        if (tag == TAG_OVLY || tag == TAG_EMBD || tag == TAG_VOCB || tag == TAG_OLST) {
            if (part >= WB_MAX_PARTS) return CORRUPT("section at byte %zu names part %u", p - 16, part);
            if (tag == TAG_OVLY) S->ovly[part] = q, S->ovly_len[part] = l;
            else if (tag == TAG_EMBD) S->embd[part] = q, S->embd_len[part] = l;
            else if (tag == TAG_OLST) S->olst[part] = q, S->olst_len[part] = l;
            else S->vocab[part] = q, S->vocab_len[part] = l;
        }
        if (tag == TAG_CONF) S->conf = q, S->conf_len = l;
        if (tag == TAG_META) S->meta = q, S->meta_len = l;
        if (tag == TAG_PARM) S->parm = q, S->parm_len = l;
        if (tag == TAG_OPTS) S->opts = q, S->opts_len = l;
        if (tag == TAG_TRST) S->trst = q, S->trst_len = l;
        if (tag == TAG_CLWT) S->clwt = q, S->clwt_len = l;
        if (tag == TAG_BOWT || tag == TAG_FEAT) { /* a part's own section */
            if (S->nother == MAX_OTHER) return CORRUPT("too many sections at byte %zu", p - 16);
            if (part >= WB_MAX_PARTS) return CORRUPT("section at byte %zu names part %u", p - 16, part);
            S->other[S->nother] = q, S->other_len[S->nother] = l;
            S->other_tag[S->nother] = tag, S->other_part[S->nother++] = part;
        }
        p += l;
    }
    return 0;
}

/* Overlay rows of one table: n rows of (u32 id, row floats).  The section
 * size was checked against n before the table grows. */
static int load_overlay(wb_emb *t, uint64_t step, const unsigned char *sec, uint64_t slen, const char *path, wb_err *e) {
    uint64_t n = wb_get64(sec);
    int with_state = wb_get32(sec + 8) == 1;
    size_t rowf = with_state ? t->orow_floats : t->E, rb = 4 + rowf * sizeof(float);
    if (n > t->V || slen != 16 + n * rb) return CORRUPT("overlay section of the wrong size");
    float *zero = calloc(t->E, sizeof *zero);
    if (!zero) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *q = sec + 16 + i * rb;
        uint32_t id = wb_get32(q);
        if (id == 0 || id >= t->V || t->slot[id] >= 0 || !wb_emb_trainable(t, (int32_t)id)) {
            free(zero);
            return CORRUPT("overlay row %llu has a bad id", (unsigned long long)i);
        }
        int32_t s = wb_emb_ovl_get(t, (int32_t)id, zero, step);
        if (s < 0) {
            free(zero);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
        memcpy(wb_emb_ovl_row(t, s), q + 4, rowf * sizeof(float));
    }
    free(zero);
    return 0;
}

/* Embedded frozen rows of one table: n rows of (u32 id, E floats). */
static int load_embedded(wb_emb *t, const unsigned char *sec, uint64_t slen, const char *path, wb_err *e) {
    size_t E = t->E, rb = 4 + E * sizeof(float);
    if (!wb_emb_needs_store(t)) return CORRUPT("embedded vectors in a model with learned embeddings");
    uint64_t n = slen >= 8 ? wb_get64(sec) : 0;
    if (slen < 8 || n > t->V || slen != 8 + n * rb) return CORRUPT("embedded vectors section of the wrong size");
    t->embedded = malloc((n ? n : 1) * E * sizeof(float));
    if (!t->embedded) return wb_err_set(e, WB_ENOMEM, "out of memory for %llu embedded rows", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const unsigned char *q = sec + 8 + i * rb;
        uint32_t id = wb_get32(q);
        if (id < 2 || id >= t->V || t->row[id] >= 0) return CORRUPT("embedded row %llu has a bad id", (unsigned long long)i);
        memcpy(t->embedded + i * E, q + 4, E * sizeof(float));
        t->row[id] = (int64_t)i;
    }
    t->n_emb = n;
    t->attached = 1;
    if (t->oov != WB_OOV_ZERO) wb_emb_oov_scale(t);
    return 0;
}

/* b bytes as "12.3 MiB" / "4.5 GiB" into buf. */
static const char *mib(char *buf, size_t cap, uint64_t b) {
    if (b >= (uint64_t)1 << 30) snprintf(buf, cap, "%.1f GiB", (double)b / (double)(1u << 30));
    else snprintf(buf, cap, "%.1f MiB", (double)b / (double)(1u << 20));
    return buf;
}

int wb_model_load_ex(wb_model **out, const char *path, size_t max_batch, uint64_t max_memory, wb_model_file *of,
                     void **blob, wb_err *e) {
    *out = NULL, *blob = NULL;
    memset(of, 0, sizeof *of);
    if (!max_memory) max_memory = wb_model_max_memory_default();
    unsigned char *b;
    size_t len;
    int rc = wb_read_file(path, &b, &len);
    if (rc) return wb_err_at(e, rc, path, 0, -1, "cannot read the model file: %s", wb_strerror(rc));
    wb_model *m = NULL;
    wb_graph *g = NULL;
    if (len < 32 || memcmp(b, model_magic, 8)) {
        rc = CORRUPT("not a wordbench model file (bad magic)");
        goto fail;
    }
    if (XXH3_64bits(b, len - 8) != wb_get64(b + len - 8)) {
        rc = CORRUPT("checksum mismatch: the model file is damaged or truncated");
        goto fail;
    }
    if (wb_get32(b + 8) < 1 || wb_get32(b + 8) > WB_MODEL_VERSION) {
        rc = wb_err_at(e, WB_EVERSION, path, 0, -1, "model file version %u; this build reads version %u: retrain the model",
                       wb_get32(b + 8), WB_MODEL_VERSION);
        goto fail;
    }
    of->fingerprint = wb_get64(b + 16);
    sections S;
    if ((rc = read_sections(b, len, &S, path, e))) goto fail;
    wb_model_cfg c;
    wb_optim o;
    if (!S.conf || conf_parse((const char *)S.conf, S.conf_len, &c, &o)) {
        rc = CORRUPT("configuration missing or unreadable");
        goto fail;
    }
    /* Bound what wb_model_create allocates, before allocating: every field
     * within the format's limits, the dense parameters exactly the PARM
     * section (their count follows from the plan), every id at least one
     * byte of the file (a vocabulary entry takes 12), and the whole model,
     * its step arena for max_batch examples included, within max_memory.
     * Without this a few edited CONF digits made the loader allocate and
     * fill gigabytes, or a valid file ask for them at the first predict. */
    wb_err ce; /* not e: its message is an argument of the one formatted into e */
    wb_err_clear(&ce);
    if (wb_model_cfg_check(&c, &ce)) {
        rc = CORRUPT("bad configuration: %s", ce.msg);
        goto fail;
    }
    size_t Vs = 0; /* every input's ids, each at least one byte of the file */
    for (size_t k = 0; k < wb_model_cfg_ninputs(&c); k++) Vs += wb_model_cfg_V(&c, k);
    if (Vs > len || c.D > c.V + len) {
        rc = CORRUPT("%s %zu is larger than the file (%zu bytes)", Vs > len ? "vocabulary size" : "feature count",
                     Vs > len ? Vs : c.D, len);
        goto fail;
    }
    g = malloc(sizeof *g);
    if (!g) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto fail;
    }
    if (wb_graph_plan(g, &c, &ce)) {
        rc = CORRUPT("bad configuration: %s", ce.msg);
        goto fail;
    }
    if (!S.parm || S.parm_len % sizeof(float) || S.parm_len / sizeof(float) != g->nparam) {
        rc = CORRUPT("parameters missing or of the wrong size");
        goto fail;
    }
    size_t nstate = wb_optim_nstate(o.kind);
    if (max_batch < 1 || max_batch > 1000000) {
        rc = wb_err_set(e, WB_EUSAGE, "batch size %zu out of range 1..1000000", max_batch);
        goto fail;
    }
    uint64_t need = wb_graph_bytes(g, nstate, max_batch);
    for (size_t i = 0; i < g->nparts; i++) {
        /* overlay rows in chunks, embedded rows: at most what the sections hold */
        uint64_t E = g->part[i].E, orow = (1 + nstate) * E * sizeof(float);
        if (S.ovly[i])
            need += (S.ovly_len[i] / (4 + E * sizeof(float)) + ((uint64_t)1 << wb_ovl_chunk_shift((1 + nstate) * E))) * orow;
        if (S.embd[i]) need += S.embd_len[i];
    }
    for (size_t i = 0; i < S.nother; i++) need += 4 * S.other_len[i]; /* tables built from the section */
    for (size_t i = 1; i < WB_MAX_PARTS; i++)
        if (S.vocab[i] && i >= wb_model_cfg_ninputs(&c)) {
            rc = CORRUPT("a vocabulary for text input %zu of a model of %zu", i + 1, wb_model_cfg_ninputs(&c));
            goto fail;
        }
    if (need > max_memory) {
        char a[32], l[32];
        rc = wb_err_at(e, WB_ENOMEM, path, 0, -1,
                       "the model needs %s for batches of %zu examples (maxlen %zu, embedding dim %zu), more than the "
                       "memory limit of %s (--max-memory)",
                       mib(a, sizeof a, need), max_batch, c.T, c.E, mib(l, sizeof l, max_memory));
        goto fail;
    }
    rc = wb_model_create(&m, &c, &o, max_batch, &ce);
    if (rc) {
        if (rc == WB_EUSAGE) rc = CORRUPT("bad configuration: %s", ce.msg);
        else rc = wb_err_at(e, rc, path, 0, -1, "%s", ce.msg);
        goto fail;
    }
    m->opt = o;
    memcpy(m->block, S.parm, S.parm_len);
    if (S.opts) {
        if (S.opts_len != m->nparam * m->nstate * sizeof(float)) {
            rc = CORRUPT("optimizer state of the wrong size");
            goto fail;
        }
        memcpy(m->block + 2 * m->nparam, S.opts, S.opts_len);
    }
    for (size_t i = 0; i < S.nother; i++) {
        size_t pi = S.other_part[i];
        wb_part *p = pi < m->g.nparts ? &m->g.part[pi] : NULL;
        if (!p || !p->ops->load) {
            rc = CORRUPT("a section for part %zu, which has none", pi);
            goto fail;
        }
        if ((rc = p->ops->load(p, S.other_tag[i], S.other[i], S.other_len[i], path, e))) goto fail;
    }
    if (m->c.kind == WB_MODEL_BOW && m->c.D && !m->g.part[0].bt) {
        rc = CORRUPT("the n-gram table is missing");
        goto fail;
    }
    if (m->c.nfeat) { /* the features' standardisation: never silently the identity */
        int have = 0;
        for (size_t i = 0; i < S.nother; i++) have |= S.other_tag[i] == TAG_FEAT;
        if (!have) {
            rc = CORRUPT("the numeric features' statistics are missing");
            goto fail;
        }
    }
    for (size_t i = 0; i < S.nother; i++) /* one section of each own kind per part */
        for (size_t j = 0; j < i; j++)
            if (S.other_tag[i] == S.other_tag[j] && S.other_part[i] == S.other_part[j]) {
                rc = CORRUPT("two sections of one kind for part %u", S.other_part[i]);
                goto fail;
            }
    if (S.clwt) {
        size_t n = S.clwt_len / sizeof(float);
        float *w = n && S.clwt_len % sizeof(float) == 0 ? malloc(S.clwt_len) : NULL;
        if (w) memcpy(w, S.clwt, S.clwt_len);
        rc = w ? wb_model_set_class_weights(m, w, n, &ce) : WB_EUSAGE;
        free(w);
        if (rc) {
            rc = CORRUPT("class weights: %s", w ? ce.msg : "wrong size");
            goto fail;
        }
    }
    for (size_t i = 0; i < WB_MAX_PARTS; i++) {
        if (!S.ovly[i] && !S.embd[i]) continue;
        if (i >= m->g.nparts || !m->g.part[i].has_emb) {
            rc = CORRUPT("rows for part %zu, which has no embedding table", i);
            goto fail;
        }
        wb_emb *t = &m->g.part[i].emb;
        /* embedded first: they decide which ids are trainable (oov learn) */
        if (S.embd[i] && (rc = load_embedded(t, S.embd[i], S.embd_len[i], path, e))) goto fail;
        if (S.ovly[i]) {
            if (S.ovly_len[i] < 16) {
                rc = CORRUPT("overlay section too short");
                goto fail;
            }
            if ((rc = load_overlay(t, m->opt.t, S.ovly[i], S.ovly_len[i], path, e))) goto fail;
        }
        if (S.olst[i]) { /* the step each overlay row is current through (else: the file's step) */
            uint64_t n = S.olst_len[i] >= 8 ? wb_get64(S.olst[i]) : UINT64_MAX;
            if (n != t->orows || S.olst_len[i] != 8 + 8 * n) {
                rc = CORRUPT("overlay steps section of the wrong size");
                goto fail;
            }
            for (uint64_t s = 0; s < n; s++) {
                uint64_t l = wb_get64(S.olst[i] + 8 + 8 * s);
                if (l > m->opt.t) {
                    rc = CORRUPT("overlay row %llu is current through step %llu, after the model's step %llu",
                                 (unsigned long long)s, (unsigned long long)l, (unsigned long long)m->opt.t);
                    goto fail;
                }
                t->olast[s] = l;
            }
        }
    }
    if (!S.meta || !S.meta_len || S.meta[S.meta_len - 1]) {
        rc = CORRUPT("meta text missing");
        goto fail;
    }
    of->meta = (const char *)S.meta;
    of->vocab = S.vocab[0], of->vocab_len = S.vocab[0] ? S.vocab_len[0] : 0;
    of->input_vocab[0] = NULL, of->input_vocab_len[0] = 0; /* input 0's is `vocab` */
    for (size_t k = 1; k < WB_MAX_INPUTS; k++)
        of->input_vocab[k] = S.vocab[k], of->input_vocab_len[k] = S.vocab[k] ? S.vocab_len[k] : 0;
    of->trainer = S.trst, of->trainer_len = S.trst ? S.trst_len : 0;
    of->with_optimizer = S.opts != NULL;
    of->embed_vectors = S.embd[0] != NULL;
    free(g);
    *out = m;
    *blob = b;
    return 0;
fail:
    free(g);
    wb_model_destroy(m);
    free(b);
    return rc;
}

int wb_model_load(wb_model **out, const char *path, size_t max_batch, wb_model_file *of, void **blob, wb_err *e) {
    return wb_model_load_ex(out, path, max_batch, 0, of, blob, e);
}
