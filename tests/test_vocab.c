/*
 * test_vocab.c — specification of the vocabulary (src/text/vocab.c,
 * wordbench/vocab.h).
 *
 * Contains: equality with Keras' Tokenizer(num_words=N, oov_token='<oov>') +
 * pad_sequences on fixtures/keras/tokenizer_reference.json
 * (tools/make_keras_tokenizer_reference.py) for N in None/5/20/50, maxlen 5
 * and 12, every padding x truncating: word_index, word_counts and every
 * padded sequence of the train and test sentences, with NO allowed
 * difference; ties in first-occurrence order; num_words and min_count;
 * encode edge cases; save/load round trips (buffer and FILE, embedded in a
 * larger file) and corruption detection (every flipped byte, every
 * truncation); coverage and rows against a store made with wb_convert; and
 * 200k distinct words built in well under a second.
 *
 * Leaves out: tokenizers and readers (their own tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordbench/convert.h"
#include "wordbench/err.h"
#include "wordbench/store.h"
#include "wordbench/tokenize.h"
#include "wordbench/vocab.h"

/* A guard against quadratic behaviour, not a speed target (those are benchmarks):
 * the machine running the tests may be shared and slow. */
#define TIME_LIMIT 30.0

/* ---- a minimal JSON reader (enough for the reference file) ---- */

typedef enum { J_NULL, J_NUM, J_STR, J_ARR, J_OBJ, J_BOOL } jtype;

typedef struct jval {
    jtype t;             /* kind */
    double num;          /* J_NUM, J_BOOL */
    char *s;             /* J_STR: UTF-8 bytes (NUL-terminated), length slen */
    size_t slen;         /* J_STR: bytes */
    struct jval **kids;  /* J_ARR / J_OBJ: values */
    char **keys;         /* J_OBJ: keys */
    size_t n;            /* J_ARR / J_OBJ: entries */
} jval;

static void jws(const char **p) {
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r') (*p)++;
}

static int hex4(const char *p, unsigned *out) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = x;
    return 0;
}

static char *jstring(const char **p, size_t *len) {
    const char *q = *p + 1;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    for (;;) {
        if (n + 8 > cap) s = realloc(s, cap *= 2);
        char c = *q++;
        if (c == '"') break;
        if (c == 0) { free(s); return NULL; }
        if (c != '\\') { s[n++] = c; continue; }
        c = *q++;
        switch (c) {
        case 'n': s[n++] = '\n'; break;
        case 't': s[n++] = '\t'; break;
        case 'r': s[n++] = '\r'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(q, &cp)) { free(s); return NULL; }
            q += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && q[0] == '\\' && q[1] == 'u' && !hex4(q + 2, &lo)) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                q += 6;
            }
            if (cp < 0x80) s[n++] = (char)cp;
            else if (cp < 0x800) {
                s[n++] = (char)(0xC0 | (cp >> 6));
                s[n++] = (char)(0x80 | (cp & 63));
            } else if (cp < 0x10000) {
                s[n++] = (char)(0xE0 | (cp >> 12));
                s[n++] = (char)(0x80 | ((cp >> 6) & 63));
                s[n++] = (char)(0x80 | (cp & 63));
            } else {
                s[n++] = (char)(0xF0 | (cp >> 18));
                s[n++] = (char)(0x80 | ((cp >> 12) & 63));
                s[n++] = (char)(0x80 | ((cp >> 6) & 63));
                s[n++] = (char)(0x80 | (cp & 63));
            }
            break;
        }
        default: s[n++] = c; break; /* \" \\ \/ */
        }
    }
    s[n] = 0;
    *len = n;
    *p = q;
    return s;
}

static jval *jparse(const char **p) {
    jws(p);
    jval *v = calloc(1, sizeof *v);
    char c = **p;
    if (c == '{' || c == '[') {
        v->t = c == '{' ? J_OBJ : J_ARR;
        char close = c == '{' ? '}' : ']';
        (*p)++;
        size_t cap = 0;
        jws(p);
        if (**p == close) { (*p)++; return v; }
        for (;;) {
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                v->kids = realloc(v->kids, cap * sizeof *v->kids);
                if (v->t == J_OBJ) v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            if (v->t == J_OBJ) {
                jws(p);
                size_t kl;
                v->keys[v->n] = jstring(p, &kl);
                jws(p);
                (*p)++; /* ':' */
            }
            v->kids[v->n++] = jparse(p);
            jws(p);
            if (**p == ',') { (*p)++; continue; }
            (*p)++; /* close */
            return v;
        }
    }
    if (c == '"') {
        v->t = J_STR;
        v->s = jstring(p, &v->slen);
        return v;
    }
    if (!strncmp(*p, "null", 4)) { v->t = J_NULL; *p += 4; return v; }
    if (!strncmp(*p, "true", 4)) { v->t = J_BOOL; v->num = 1; *p += 4; return v; }
    if (!strncmp(*p, "false", 5)) { v->t = J_BOOL; *p += 5; return v; }
    v->t = J_NUM;
    char *end;
    v->num = strtod(*p, &end);
    *p = end;
    return v;
}

static void jfree(jval *v) {
    if (!v) return;
    for (size_t i = 0; i < v->n; i++) {
        jfree(v->kids[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->s);
    free(v);
}

static jval *jget(const jval *o, const char *key) {
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) return o->kids[i];
    fail_msg("missing key %s", key);
    return NULL;
}

/* ---- helpers ---- */

static wb_tokenize_opts g_keras;

static void tok(wb_token_list *l, const char *text, size_t len) {
    assert_int_equal(wb_tokenize(&g_keras, text, len, l, NULL), 0);
}

/* A finished vocabulary from n C-string documents (keras tokenizer). */
static wb_vocab *build(const char *const *docs, size_t n, uint64_t num_words, uint64_t min_count) {
    wb_vocab *v;
    wb_token_list l;
    wb_token_list_init(&l);
    assert_int_equal(wb_vocab_create(&v, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        tok(&l, docs[i], strlen(docs[i]));
        assert_int_equal(wb_vocab_add(v, &l, NULL), 0);
    }
    wb_token_list_free(&l);
    assert_int_equal(wb_vocab_finish(v, num_words, min_count, NULL), 0);
    return v;
}

static int32_t id_of(const wb_vocab *v, const char *w) { return wb_vocab_lookup(v, w, strlen(w)); }

static void assert_same_vocab(const wb_vocab *a, const wb_vocab *b) {
    assert_int_equal(wb_vocab_size(a), wb_vocab_size(b));
    for (int32_t id = 0; id < (int32_t)wb_vocab_size(a); id++) {
        size_t la, lb;
        uint64_t ca, cb;
        const char *wa = wb_vocab_word(a, id, &la, &ca);
        const char *wb = wb_vocab_word(b, id, &lb, &cb);
        assert_int_equal(la, lb);
        assert_int_equal(ca, cb);
        assert_memory_equal(wa, wb, la);
        if (id >= WB_VOCAB_FIRST) assert_int_equal(wb_vocab_lookup(b, wa, la), id);
    }
}

/* ---- Keras reference ---- */

static void test_keras_reference(void **state) {
    (void)state;
    size_t fsz;
    char *data = tu_read_file(WB_FIXTURES "/keras/tokenizer_reference.json", &fsz);
    assert_non_null(data);
    const char *p = data;
    jval *doc = jparse(&p);
    jval *train = jget(doc, "train"), *test = jget(doc, "test");
    jval *cases = jget(doc, "cases");
    assert_true(train->n >= 150 && test->n >= 30 && cases->n == 32);
    assert_string_equal(jget(doc, "oov_token")->s, "<oov>");

    /* token lists of every sentence, once */
    size_t nall = train->n + test->n;
    wb_token_list *tl = calloc(nall, sizeof *tl);
    for (size_t i = 0; i < nall; i++) {
        jval *s = i < train->n ? train->kids[i] : test->kids[i - train->n];
        wb_token_list_init(&tl[i]);
        tok(&tl[i], s->s, s->slen);
    }

    /* word_index and word_counts do not depend on num_words */
    wb_vocab *full;
    assert_int_equal(wb_vocab_create(&full, NULL), 0);
    for (size_t i = 0; i < train->n; i++) assert_int_equal(wb_vocab_add(full, &tl[i], NULL), 0);
    assert_int_equal(wb_vocab_finish(full, 0, 0, NULL), 0);
    jval *wi = jget(doc, "word_index");
    assert_int_equal(wi->n, 100);
    assert_string_equal(wi->kids[0]->kids[0]->s, "<oov>"); /* Keras' OOV word at 1: our id 1 */
    assert_int_equal((int)wi->kids[0]->kids[1]->num, WB_VOCAB_OOV);
    for (size_t i = 1; i < wi->n; i++) {
        jval *w = wi->kids[i]->kids[0];
        int32_t id = (int32_t)wi->kids[i]->kids[1]->num;
        size_t len;
        const char *ours = wb_vocab_word(full, id, &len, NULL);
        if (len != w->slen || memcmp(ours, w->s, len))
            fail_msg("word_index %d: keras '%s', ours '%.*s'", id, w->s, (int)len, ours);
        assert_int_equal(wb_vocab_lookup(full, w->s, w->slen), id);
    }
    jval *wc = jget(doc, "word_counts");
    for (size_t i = 0; i < wc->n; i++) {
        jval *w = wc->kids[i]->kids[0];
        int32_t id = wb_vocab_lookup(full, w->s, w->slen);
        assert_true(id >= WB_VOCAB_FIRST);
        uint64_t count;
        wb_vocab_word(full, id, NULL, &count);
        assert_int_equal(count, (uint64_t)wc->kids[i]->kids[1]->num);
    }
    wb_vocab_destroy(full);

    size_t compared = 0, mismatches = 0;
    int32_t out[64];
    for (size_t c = 0; c < cases->n; c++) {
        jval *cs = cases->kids[c];
        jval *nwv = jget(cs, "num_words");
        uint64_t nw = nwv->t == J_NULL ? 0 : (uint64_t)nwv->num;
        size_t maxlen = (size_t)jget(cs, "maxlen")->num;
        int pad = wb_pad_side_parse(jget(cs, "padding")->s);
        int trunc = wb_pad_side_parse(jget(cs, "truncating")->s);
        assert_true(pad >= 0 && trunc >= 0 && maxlen <= 64);
        wb_vocab *v;
        assert_int_equal(wb_vocab_create(&v, NULL), 0);
        for (size_t i = 0; i < train->n; i++) assert_int_equal(wb_vocab_add(v, &tl[i], NULL), 0);
        assert_int_equal(wb_vocab_finish(v, nw, 0, NULL), 0);
        if (nw) assert_true(wb_vocab_size(v) <= nw); /* ids < num_words */
        jval *seqs[2] = {jget(cs, "train_seq"), jget(cs, "test_seq")};
        for (size_t i = 0; i < nall; i++) {
            jval *exp = i < train->n ? seqs[0]->kids[i] : seqs[1]->kids[i - train->n];
            assert_int_equal(exp->n, maxlen);
            size_t n_oov, n_tok;
            assert_int_equal(wb_vocab_encode(v, &tl[i], maxlen, (wb_pad_side)pad,
                                             (wb_pad_side)trunc, out, &n_oov, &n_tok), 0);
            assert_int_equal(n_tok, tl[i].n);
            int bad = 0;
            for (size_t j = 0; j < maxlen; j++) bad |= out[j] != (int32_t)exp->kids[j]->num;
            if (bad) {
                mismatches++;
                printf("  case %zu (num_words %llu maxlen %zu %s/%s) sentence %zu:\n   keras:",
                       c, (unsigned long long)nw, maxlen, pad ? "post" : "pre",
                       trunc ? "post" : "pre", i);
                for (size_t j = 0; j < maxlen; j++) printf(" %d", (int)exp->kids[j]->num);
                printf("\n   ours: ");
                for (size_t j = 0; j < maxlen; j++) printf(" %d", out[j]);
                printf("\n");
            }
            compared++;
        }
        wb_vocab_destroy(v);
    }
    printf("  keras tokenizer reference: %zu sequences compared, %zu differ\n", compared,
           mismatches);
    assert_int_equal(mismatches, 0); /* the documented difference is: none */
    assert_int_equal(compared, cases->n * nall);

    for (size_t i = 0; i < nall; i++) wb_token_list_free(&tl[i]);
    free(tl);
    jfree(doc);
    free(data);
}

/* ---- ids, ties, num_words, min_count ---- */

static void test_ties_and_cuts(void **state) {
    (void)state;
    /* counts: b 3, c 3, a 2, e 2, d 1, f 1; first occurrence b a c d e f */
    const char *docs[] = {"b a c", "c b d", "E, e! a", "b c f"};
    wb_vocab *v = build(docs, 4, 0, 0);
    assert_int_equal(wb_vocab_size(v), 8);
    assert_int_equal(wb_vocab_distinct(v), 6);
    const char *order[] = {"b", "c", "a", "e", "d", "f"};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(id_of(v, order[i]), i + 2);
        size_t len;
        const char *w = wb_vocab_word(v, i + 2, &len, NULL);
        assert_int_equal(len, 1);
        assert_memory_equal(w, order[i], 1);
    }
    uint64_t cnt;
    size_t len;
    wb_vocab_word(v, 2, NULL, &cnt);
    assert_int_equal(cnt, 3);
    assert_string_equal(wb_vocab_word(v, 0, &len, &cnt), "");
    assert_int_equal(len, 0);
    assert_string_equal(wb_vocab_word(v, 1, &len, &cnt), "");
    assert_string_equal(wb_vocab_word(v, 8, &len, &cnt), "");
    assert_string_equal(wb_vocab_word(v, -3, &len, &cnt), "");
    assert_int_equal(id_of(v, "zzz"), WB_VOCAB_OOV);
    assert_int_equal(wb_vocab_lookup(v, "", 0), WB_VOCAB_OOV);
    assert_int_equal(id_of(v, "B"), WB_VOCAB_OOV); /* bytes compared exactly */
    wb_vocab_destroy(v);

    /* num_words 4: ids < 4, i.e. b and c only */
    v = build(docs, 4, 4, 0);
    assert_int_equal(wb_vocab_size(v), 4);
    assert_int_equal(id_of(v, "c"), 3);
    assert_int_equal(id_of(v, "a"), WB_VOCAB_OOV);
    assert_int_equal(wb_vocab_distinct(v), 6);
    wb_vocab_destroy(v);
    for (uint64_t nw = 1; nw <= 2; nw++) { /* keeps no word */
        v = build(docs, 4, nw, 0);
        assert_int_equal(wb_vocab_size(v), 2);
        assert_int_equal(id_of(v, "b"), WB_VOCAB_OOV);
        wb_vocab_destroy(v);
    }
    v = build(docs, 4, 100, 0); /* more than there are */
    assert_int_equal(wb_vocab_size(v), 8);
    wb_vocab_destroy(v);

    /* min_count 2 drops d and f before num_words; ties keep their order */
    v = build(docs, 4, 0, 2);
    assert_int_equal(wb_vocab_size(v), 6);
    assert_int_equal(id_of(v, "e"), 5);
    assert_int_equal(id_of(v, "d"), WB_VOCAB_OOV);
    wb_vocab_destroy(v);
    v = build(docs, 4, 5, 3);
    assert_int_equal(wb_vocab_size(v), 4);
    wb_vocab_destroy(v);
    v = build(docs, 4, 0, 4);
    assert_int_equal(wb_vocab_size(v), 2);
    wb_vocab_destroy(v);
    v = build(NULL, 0, 0, 0); /* empty */
    assert_int_equal(wb_vocab_size(v), 2);
    assert_int_equal(id_of(v, "a"), WB_VOCAB_OOV);
    wb_vocab_destroy(v);
}

static void test_encode(void **state) {
    (void)state;
    const char *docs[] = {"a a a b b c"};
    wb_vocab *v = build(docs, 1, 0, 0); /* a 2, b 3, c 4 */
    wb_token_list l;
    wb_token_list_init(&l);
    int32_t out[8];
    size_t oov, nt;
    tok(&l, "x a b c y z", 11);
    /* pre/pre: last 4 tokens */
    assert_int_equal(wb_vocab_encode(v, &l, 4, WB_PAD_PRE, WB_PAD_PRE, out, &oov, &nt), 0);
    assert_int_equal(oov, 3); /* truncated x counts too */
    assert_int_equal(nt, 6);
    int32_t e1[] = {3, 4, 1, 1};
    assert_memory_equal(out, e1, sizeof e1);
    assert_int_equal(wb_vocab_encode(v, &l, 4, WB_PAD_POST, WB_PAD_POST, out, NULL, NULL), 0);
    int32_t e2[] = {1, 2, 3, 4};
    assert_memory_equal(out, e2, sizeof e2);
    assert_int_equal(wb_vocab_encode(v, &l, 8, WB_PAD_PRE, WB_PAD_POST, out, NULL, NULL), 0);
    int32_t e3[] = {0, 0, 1, 2, 3, 4, 1, 1};
    assert_memory_equal(out, e3, sizeof e3);
    assert_int_equal(wb_vocab_encode(v, &l, 8, WB_PAD_POST, WB_PAD_PRE, out, NULL, NULL), 0);
    int32_t e4[] = {1, 2, 3, 4, 1, 1, 0, 0};
    assert_memory_equal(out, e4, sizeof e4);
    tok(&l, "", 0); /* empty: all padding */
    memset(out, 0x55, sizeof out);
    assert_int_equal(wb_vocab_encode(v, &l, 3, WB_PAD_PRE, WB_PAD_PRE, out, &oov, &nt), 0);
    int32_t e5[] = {0, 0, 0};
    assert_memory_equal(out, e5, sizeof e5);
    assert_int_equal(oov, 0);
    assert_int_equal(nt, 0);
    /* char tokenizer: unknown characters are empty tokens -> 1 */
    wb_tokenize_opts co;
    wb_tokenize_opts_init(&co, WB_TOK_CHAR);
    assert_int_equal(wb_tokenize(&co, "a b", 3, &l, NULL), 0);
    assert_int_equal(wb_vocab_encode(v, &l, 3, WB_PAD_POST, WB_PAD_POST, out, &oov, NULL), 0);
    int32_t e6[] = {2, 1, 3};
    assert_memory_equal(out, e6, sizeof e6);
    assert_int_equal(oov, 1);
    /* usage errors */
    assert_int_equal(wb_vocab_encode(v, &l, 0, WB_PAD_POST, WB_PAD_POST, out, NULL, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_encode(v, &l, 3, (wb_pad_side)7, WB_PAD_POST, out, NULL, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_encode(v, NULL, 3, WB_PAD_POST, WB_PAD_POST, out, NULL, NULL), WB_EUSAGE);
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_vocab_add(v, &l, &e), WB_EUSAGE); /* finished */
    assert_int_equal(e.code, WB_EUSAGE);
    assert_int_equal(wb_vocab_finish(v, 0, 0, NULL), WB_EUSAGE);
    assert_int_equal(wb_pad_side_parse("pre"), WB_PAD_PRE);
    assert_int_equal(wb_pad_side_parse("post"), WB_PAD_POST);
    assert_int_equal(wb_pad_side_parse("middle"), -1);
    wb_vocab_destroy(v);
    /* unfinished vocabulary */
    assert_int_equal(wb_vocab_create(&v, NULL), 0);
    tok(&l, "a b", 3);
    assert_int_equal(wb_vocab_add(v, &l, NULL), 0);
    assert_int_equal(id_of(v, "a"), WB_VOCAB_OOV);
    assert_int_equal(wb_vocab_size(v), 2);
    assert_int_equal(wb_vocab_encode(v, &l, 3, WB_PAD_POST, WB_PAD_POST, out, NULL, NULL), WB_EUSAGE);
    void *buf;
    size_t blen;
    assert_int_equal(wb_vocab_save_buf(v, &buf, &blen, NULL), WB_EUSAGE);
    wb_vocab_destroy(v);
    wb_vocab_destroy(NULL);
    wb_token_list_free(&l);
}

/* ---- save / load ---- */

static void test_save_load(void **state) {
    (void)state;
    const char *docs[] = {"the cat sat on the mat", "the dog, the cat; caf\xc3\xa9!", "a b c d e"};
    wb_vocab *v = build(docs, 3, 8, 0);
    void *buf;
    size_t len;
    assert_int_equal(wb_vocab_save_buf(v, &buf, &len, NULL), 0);
    wb_vocab *w;
    assert_int_equal(wb_vocab_load_buf(&w, buf, len, NULL), 0);
    assert_same_vocab(v, w);
    /* the saved bytes are identical after a round trip */
    void *buf2;
    size_t len2;
    assert_int_equal(wb_vocab_save_buf(w, &buf2, &len2, NULL), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    wb_vocab_destroy(w);

    /* FILE: embedded between other bytes, consumes exactly its own */
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs("HEAD", f);
    assert_int_equal(wb_vocab_save(v, f, NULL), 0);
    fputs("TAIL", f);
    rewind(f);
    char four[5] = {0};
    assert_int_equal(fread(four, 1, 4, f), 4);
    assert_int_equal(wb_vocab_load(&w, f, NULL), 0);
    assert_int_equal(fread(four, 1, 4, f), 4);
    assert_string_equal(four, "TAIL");
    assert_same_vocab(v, w);
    wb_vocab_destroy(w);
    fclose(f);

    /* every flipped byte is detected */
    unsigned char *c = malloc(len);
    size_t flips = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(c, buf, len);
            c[i] ^= (unsigned char)(1u << bit);
            wb_err e;
            wb_err_clear(&e);
            w = (wb_vocab *)1;
            int rc = wb_vocab_load_buf(&w, c, len, &e);
            if (rc == 0) fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
            assert_null(w);
            assert_int_equal(e.code, rc);
            if (i < 8) assert_int_equal(rc, WB_EFORMAT);
            else if (i < 12) assert_int_equal(rc, WB_EVERSION);
            else assert_int_equal(rc, WB_ECORRUPT);
            flips++;
        }
    }
    /* every truncation and an extra byte */
    for (size_t n = 0; n < len; n++) {
        w = (wb_vocab *)1;
        int rc = wb_vocab_load_buf(&w, buf, n, NULL);
        assert_int_equal(rc, WB_ECORRUPT);
        assert_null(w);
        f = tmpfile();
        fwrite(buf, 1, n, f);
        rewind(f);
        assert_int_equal(wb_vocab_load(&w, f, NULL), WB_ECORRUPT);
        fclose(f);
    }
    c = realloc(c, len + 1);
    memcpy(c, buf, len);
    c[len] = 0;
    assert_int_equal(wb_vocab_load_buf(&w, c, len + 1, NULL), WB_ECORRUPT);
    /* FILE: wrong magic / version */
    memcpy(c, buf, len);
    c[0] = 'X';
    f = tmpfile();
    fwrite(c, 1, len, f);
    rewind(f);
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_vocab_load(&w, f, &e), WB_EFORMAT);
    assert_non_null(strstr(e.msg, "not a wordbench vocabulary"));
    fclose(f);
    printf("  %zu flipped bits and %zu truncations detected\n", flips, len);
    free(c);
    free(buf);

    /* empty vocabulary round trip */
    wb_vocab_destroy(v);
    v = build(NULL, 0, 0, 0);
    assert_int_equal(wb_vocab_save_buf(v, &buf, &len, NULL), 0);
    assert_int_equal(len, WB_VOCAB_HEADER_BYTES + 8);
    assert_int_equal(wb_vocab_load_buf(&w, buf, len, NULL), 0);
    assert_int_equal(wb_vocab_size(w), 2);
    wb_vocab_destroy(w);
    free(buf);
    wb_vocab_destroy(v);
}

/* ---- coverage against a store ---- */

static void test_coverage(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *vec = tu_path(dir, "v.txt"), *sdir = tu_path(dir, "store");
    const char *glove = "the 1 0 0\ncat 0 1 0\nsat 0 0 1\ncaf\xc3\xa9 1 1 0\nunused 1 1 1\n";
    assert_int_equal(tu_write_file(vec, glove, strlen(glove)), 0);
    wb_convert_opts o;
    wb_convert_opts_init(&o);
    o.threads = 1;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_convert(vec, sdir, &o, NULL, &e), 0);
    wb_store *st = NULL;
    assert_int_equal(wb_store_open(&st, sdir, &e), 0);

    /* counts: the 4, cat 2, zyx 2, sat 1, qqq 1, café 1 ("zyx" and "qqq" missing) */
    const char *docs[] = {"The cat zyx the", "the cat sat zyx", "qqq caf\xc3\xa9 THE"};
    wb_vocab *v = build(docs, 3, 0, 0);
    assert_int_equal(wb_vocab_size(v), 8);
    double types = -1, tokens = -1;
    int32_t top[4];
    size_t ntop = 99;
    assert_int_equal(wb_vocab_coverage(v, st, &types, &tokens, 4, top, &ntop, &e), 0);
    assert_true(types == 4.0 / 6.0);
    assert_true(tokens == 8.0 / 11.0);
    assert_int_equal(ntop, 2);
    assert_int_equal(top[0], id_of(v, "zyx"));
    assert_int_equal(top[1], id_of(v, "qqq"));
    ntop = 99;
    assert_int_equal(wb_vocab_coverage(v, st, NULL, NULL, 1, top, &ntop, NULL), 0);
    assert_int_equal(ntop, 1);
    assert_int_equal(wb_vocab_coverage(v, st, &types, NULL, 0, NULL, NULL, NULL), 0);

    int64_t rows[8];
    size_t found = 0;
    assert_int_equal(wb_vocab_rows(v, st, rows, &found, &e), 0);
    assert_int_equal(found, 4);
    assert_int_equal(rows[0], -1);
    assert_int_equal(rows[1], -1);
    const char *inglove[] = {"the", "cat", "sat", "caf\xc3\xa9"};
    int64_t expect[] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++) assert_int_equal(rows[id_of(v, inglove[i])], expect[i]);
    assert_int_equal(rows[id_of(v, "zyx")], -1);
    wb_vocab_destroy(v);

    /* empty vocabulary */
    v = build(NULL, 0, 0, 0);
    assert_int_equal(wb_vocab_coverage(v, st, &types, &tokens, 4, top, &ntop, NULL), 0);
    assert_true(types == 0.0 && tokens == 0.0 && ntop == 0);
    assert_int_equal(wb_vocab_rows(v, st, rows, &found, NULL), 0);
    assert_int_equal(found, 0);
    assert_int_equal(wb_vocab_coverage(v, NULL, &types, &tokens, 0, NULL, NULL, NULL), WB_EUSAGE);
    wb_vocab_destroy(v);

    wb_store_close(st);
    tu_rmrf(dir);
    free(dir);
    free(vec);
    free(sdir);
}

/* ---- provisional ids (the streamed data-set build) ---- */

static void test_provisional_ids(void **state) {
    (void)state;
    static const char *const docs[] = {"b a b", "c a", "d d d e", "a f"};
    wb_vocab *ref = build(docs, 4, 0, 0), *v;
    wb_token_list l;
    wb_token_list_init(&l);
    assert_int_equal(wb_vocab_create(&v, NULL), 0);
    uint32_t ids[8], all[4][8];
    size_t nt[4];
    /* "x" first interned without counting (a test row), then the training rows */
    tok(&l, "x b", 3);
    assert_int_equal(wb_vocab_add_ids(v, &l, 0, ids, NULL), 0);
    assert_int_equal(ids[0], 2); /* x: entry 0 */
    assert_int_equal(ids[1], 3); /* b: entry 1 */
    for (int d = 0; d < 4; d++) {
        tok(&l, docs[d], strlen(docs[d]));
        assert_int_equal(wb_vocab_add_ids(v, &l, 1, all[d], NULL), 0);
        nt[d] = l.n;
    }
    assert_int_equal(all[0][0], 3); /* b again */
    assert_int_equal(wb_vocab_entries(v), 7);
    assert_int_equal(wb_vocab_distinct(v), 6); /* x never counted */
    size_t len;
    assert_memory_equal(wb_vocab_entry(v, 0, &len), "x", 1);
    assert_int_equal(len, 1);
    assert_string_equal(wb_vocab_entry(v, 99, &len), "");
    int32_t *map;
    size_t nmap;
    wb_vocab *w;
    assert_int_equal(wb_vocab_create(&w, NULL), 0);
    /* recount: counts and order from the ids alone, as wb_vocab_add would */
    wb_vocab_recount(v);
    assert_int_equal(wb_vocab_distinct(v), 0);
    for (int d = 0; d < 4; d++) assert_int_equal(wb_vocab_count_ids(v, all[d], nt[d], NULL), 0);
    uint32_t bad = 99;
    assert_int_equal(wb_vocab_count_ids(v, &bad, 1, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_finish_map(v, 0, 0, &map, &nmap, NULL), 0);
    assert_same_vocab(ref, v); /* x (count 0) is no word even with min_count 0 */
    assert_int_equal(wb_vocab_distinct(v), 6);
    assert_int_equal(nmap, 7 + 2);
    assert_int_equal(map[0], 0);
    assert_int_equal(map[1], 1);
    assert_int_equal(map[2], 1); /* x */
    assert_int_equal(map[3], id_of(ref, "b"));
    for (int d = 0; d < 4; d++) {
        int32_t want[8];
        tok(&l, docs[d], strlen(docs[d]));
        assert_int_equal(wb_vocab_encode(ref, &l, l.n, WB_PAD_POST, WB_PAD_POST, want, NULL, NULL), 0);
        for (size_t i = 0; i < nt[d]; i++) assert_int_equal(map[all[d][i]], want[i]);
    }
    free(map);
    /* a recount over a subset changes counts and first-occurrence order */
    wb_vocab_destroy(v);
    assert_int_equal(wb_vocab_create(&v, NULL), 0);
    for (int d = 0; d < 4; d++) {
        tok(&l, docs[d], strlen(docs[d]));
        assert_int_equal(wb_vocab_add_ids(v, &l, 1, all[d], NULL), 0);
    }
    wb_vocab_recount(v);
    for (int d = 2; d < 4; d++) assert_int_equal(wb_vocab_count_ids(v, all[d], nt[d], NULL), 0);
    assert_int_equal(wb_vocab_finish_map(v, 3, 0, &map, &nmap, NULL), 0);
    wb_vocab_destroy(ref);
    ref = build(docs + 2, 2, 3, 0);
    assert_same_vocab(ref, v);
    assert_int_equal(map[all[0][0]], 1); /* b: only in the rows not counted */
    assert_int_equal(map[all[2][0]], 2); /* d: the one word num_words 3 keeps */
    free(map);
    /* single words; errors */
    uint32_t id;
    assert_int_equal(wb_vocab_add_word(w, "", 0, 1, &id, NULL), 0);
    assert_int_equal(id, WB_VOCAB_OOV);
    assert_int_equal(wb_vocab_add_word(w, "zz", 2, 0, &id, NULL), 0);
    assert_int_equal(id, 2);
    assert_int_equal(wb_vocab_add_word(w, "zz", 2, 1, &id, NULL), 0);
    assert_int_equal(id, 2);
    assert_int_equal(wb_vocab_distinct(w), 1);
    assert_int_equal(wb_vocab_add_ids(w, &l, 1, NULL, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_finish(w, 0, 0, NULL), 0);
    assert_int_equal(wb_vocab_add_word(w, "zz", 2, 1, &id, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_count_ids(w, &id, 1, NULL), WB_EUSAGE);
    assert_int_equal(wb_vocab_finish_map(w, 0, 0, &map, &nmap, NULL), WB_EUSAGE);
    assert_null(map);
    wb_vocab_destroy(w);
    wb_vocab_destroy(v);
    wb_vocab_destroy(ref);
    wb_token_list_free(&l);
}

/* ---- large ---- */

static void test_large(void **state) {
    (void)state;
    enum { N = 200000, PER_DOC = 100 };
    /* documents of "w<k>" words: word k appears once, plus word k % 1000 once
     * more, so counts are 2 or 1 with many ties */
    char *text = malloc((size_t)PER_DOC * 2 * 16 + 16);
    wb_token_list l;
    wb_token_list_init(&l);
    wb_vocab *v;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(wb_vocab_create(&v, NULL), 0);
    for (int d = 0; d < N / PER_DOC; d++) {
        size_t n = 0;
        for (int j = 0; j < PER_DOC; j++) {
            int k = d * PER_DOC + j;
            n += (size_t)sprintf(text + n, "w%d w%d ", k, k % 1000);
        }
        tok(&l, text, n);
        assert_int_equal(wb_vocab_add(v, &l, NULL), 0);
    }
    assert_int_equal(wb_vocab_finish(v, 0, 0, NULL), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("  200k distinct words (400k tokens) counted and sorted in %.3f s\n", secs);
    assert_true(secs < TIME_LIMIT);
    assert_int_equal(wb_vocab_size(v), N + 2);
    /* w0..w999 have count 2 (first occurrences in order), then w1000.. count 1 */
    char w[16];
    for (int k = 0; k < N; k += 997) {
        int n = sprintf(w, "w%d", k);
        assert_int_equal(wb_vocab_lookup(v, w, (size_t)n), k + 2);
    }
    void *buf;
    size_t len;
    assert_int_equal(wb_vocab_save_buf(v, &buf, &len, NULL), 0);
    wb_vocab *x;
    assert_int_equal(wb_vocab_load_buf(&x, buf, len, NULL), 0);
    assert_same_vocab(v, x);
    wb_vocab_destroy(x);
    free(buf);
    wb_vocab_destroy(v);
    wb_token_list_free(&l);
    free(text);
}

int main(void) {
    wb_tokenize_opts_init(&g_keras, WB_TOK_KERAS);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_reference),
        cmocka_unit_test(test_ties_and_cuts),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_coverage),
        cmocka_unit_test(test_provisional_ids),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
