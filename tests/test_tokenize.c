/*
 * test_tokenize.c — specification of the tokenizers (src/text/tokenize.c,
 * wordbench/tokenize.h).
 *
 * Contains: every line of fixtures/keras/text_to_word_sequence.jsonl
 * (tools/make_keras_reference.py, Keras' own text_to_word_sequence) compared
 * with the keras tokenizer; golden sentences with tokens written by hand from
 * Keras' documented behaviour; the fasttext, unicode and char tokenizers;
 * strip_html, max_doc_chars, --no-lower; invalid UTF-8 (replaced by U+FFFD
 * per maximal subpart, counted); random bytes (never a crash, output always
 * valid UTF-8); list reuse; and 20 MB single-line documents (plain and
 * adversarial for the look-ahead paths) tokenized in well under a second.
 *
 * Leaves out: readers and vocabularies (their own tests).
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
#include "wordbench/err.h"
#include "wordbench/tokenize.h"

/* Speed is measured by benchmarks, not by tests (docs/benchmarks.md); the
 * limit only separates linear from quadratic behaviour (hours on 20 MB),
 * with room for a loaded CI machine and sanitizers. */
#define TIME_LIMIT 30.0

/* ---- helpers ---- */

static int tokens_equal(const wb_token_list *l, const char *const *exp, size_t nexp) {
    if (l->n != nexp) return 0;
    for (size_t i = 0; i < nexp; i++) {
        size_t len;
        const char *t = wb_token_list_get(l, i, &len);
        if (len != strlen(exp[i]) || memcmp(t, exp[i], len)) return 0;
    }
    return 1;
}

static void print_tokens(const char *what, const wb_token_list *l) {
    printf("  %s (%zu):", what, l->n);
    for (size_t i = 0; i < l->n; i++) {
        size_t len;
        const char *t = wb_token_list_get(l, i, &len);
        printf(" [%.*s]", (int)len, t);
    }
    printf("\n");
}

/* Tokenize `text` (length len, or strlen when len == (size_t)-1) and compare
 * with the NULL-terminated expected tokens. */
static void check_len(const wb_tokenize_opts *o, const char *text, size_t len, ...) {
    const char *exp[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, len);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;) exp[n++] = s;
    va_end(ap);
    if (len == (size_t)-1) len = strlen(text);
    wb_token_list l;
    wb_token_list_init(&l);
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_tokenize(o, text, len, &l, &e), 0);
    if (!tokens_equal(&l, exp, n)) {
        printf("mismatch for kind %d text [%.*s]\n", (int)o->kind, (int)len, text);
        print_tokens("got", &l);
        printf("  expected (%zu):", n);
        for (size_t i = 0; i < n; i++) printf(" [%s]", exp[i]);
        printf("\n");
        fail();
    }
    wb_token_list_free(&l);
}
#define CHECK(o, text, ...) check_len((o), (text), (size_t)-1, __VA_ARGS__, (const char *)NULL)
#define CHECK0(o, text) check_len((o), (text), (size_t)-1, (const char *)NULL)

static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) { i++; continue; }
        if (b >= 0xC2 && b <= 0xDF) need = 1;
        else if (b >= 0xE0 && b <= 0xEF) { need = 2; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
        else if (b >= 0xF0 && b <= 0xF4) { need = 3; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
        else return 0;
        if (i + need >= n) return 0;
        for (size_t k = 1; k <= need; k++) {
            unsigned char c = s[i + k];
            if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return 0;
        }
        i += need + 1;
    }
    return 1;
}

/* ---- a tiny JSON reader for the fixture (strings and arrays of strings) ---- */

typedef struct jstr { char *s; size_t n; } jstr;

static void put_utf8(char *o, size_t *w, unsigned c) {
    if (c < 0x80) o[(*w)++] = (char)c;
    else if (c < 0x800) { o[(*w)++] = (char)(0xC0 | (c >> 6)); o[(*w)++] = (char)(0x80 | (c & 0x3F)); }
    else {
        o[(*w)++] = (char)(0xE0 | (c >> 12));
        o[(*w)++] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[(*w)++] = (char)(0x80 | (c & 0x3F));
    }
}

/* Parse a JSON string at *p (which points at '"'); advance past it. */
static int json_str(const char **p, jstr *out) {
    const char *s = *p;
    if (*s != '"') return -1;
    s++;
    size_t cap = strlen(s) + 1;
    char *o = malloc(cap);
    size_t w = 0;
    while (*s && *s != '"') {
        if (*s != '\\') { o[w++] = *s++; continue; }
        s++;
        switch (*s) {
        case '"': o[w++] = '"'; break;
        case '\\': o[w++] = '\\'; break;
        case '/': o[w++] = '/'; break;
        case 'n': o[w++] = '\n'; break;
        case 't': o[w++] = '\t'; break;
        case 'r': o[w++] = '\r'; break;
        case 'b': o[w++] = '\b'; break;
        case 'f': o[w++] = '\f'; break;
        case 'u': {
            unsigned c = 0;
            for (int k = 1; k <= 4; k++) {
                char h = s[k];
                c = c * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            put_utf8(o, &w, c); /* the script escapes control characters only */
            s += 4;
            break;
        }
        default: free(o); return -1;
        }
        s++;
    }
    if (*s != '"') { free(o); return -1; }
    out->s = o;
    out->n = w;
    *p = s + 1;
    return 0;
}

static void skip_ws(const char **p) { while (**p == ' ') (*p)++; }

/* ---- tests ---- */

static void test_keras_reference(void **state) {
    (void)state;
    size_t fsz;
    char *data = tu_read_file(WB_FIXTURES "/keras/text_to_word_sequence.jsonl", &fsz);
    assert_non_null(data);
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    wb_token_list l;
    wb_token_list_init(&l);
    size_t lines = 0, ok = 0;
    for (char *line = data; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        const char *p = line;
        assert_true(!strncmp(p, "{\"text\": ", 9));
        p += 9;
        jstr text;
        assert_int_equal(json_str(&p, &text), 0);
        assert_true(!strncmp(p, ", \"tokens\": [", 13));
        p += 13;
        jstr toks[256];
        size_t nt = 0;
        skip_ws(&p);
        while (*p == '"') {
            assert_true(nt < 256);
            assert_int_equal(json_str(&p, &toks[nt]), 0);
            nt++;
            if (*p == ',') p++;
            skip_ws(&p);
        }
        assert_true(*p == ']');
        assert_int_equal(wb_tokenize(&o, text.s, text.n, &l, NULL), 0);
        int same = l.n == nt;
        for (size_t i = 0; same && i < nt; i++) {
            size_t len;
            const char *t = wb_token_list_get(&l, i, &len);
            same = len == toks[i].n && !memcmp(t, toks[i].s, len);
        }
        lines++;
        if (same) ok++;
        else {
            printf("keras reference line %zu differs: %s\n", lines, line);
            print_tokens("got", &l);
        }
        free(text.s);
        for (size_t i = 0; i < nt; i++) free(toks[i].s);
        if (!nl) break;
        line = nl + 1;
    }
    printf("keras reference: %zu of %zu lines match\n", ok, lines);
    assert_true(lines >= 300);
    assert_int_equal(ok, lines);
    wb_token_list_free(&l);
    free(data);
}

static void test_keras_golden(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    assert_int_equal(o.lower, 1);
    CHECK(&o, "Hello, World!", "hello", "world");
    CHECK(&o, "The cat sat on the mat.", "the", "cat", "sat", "on", "the", "mat");
    CHECK0(&o, "");
    CHECK0(&o, "  ,.!?  ");
    /* the apostrophe is not a filter character */
    CHECK(&o, "Don't STOP", "don't", "stop");
    /* every filter character splits, tab and newline included */
    CHECK(&o, "a!b\"c#d$e%f&g(h)i*j+k,l-m.n/o:p;q<r=s>t?u@v[w\\x]y^z_A`B{C|D}E~F\tG\nH",
          "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p",
          "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "a", "b", "c", "d", "e", "f",
          "g", "h");
    /* split is ' ' only: CR, VT, FF, NBSP, ideographic space stay in tokens */
    CHECK(&o, "a\rb c\vd e\ff", "a\rb", "c\vd", "e\ff");
    CHECK(&o, "a\xc2\xa0" "b c\xe3\x80\x80" "d", "a\xc2\xa0" "b", "c\xe3\x80\x80" "d");
    /* Python str.lower: dotted capital I, final sigma, sharp s stays */
    CHECK(&o, "\xc4\xb0stanbul", "i\xcc\x87stanbul");
    CHECK(&o, "\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3", "\xce\xbf\xce\xb4\xce\xbf\xcf\x82", "\xcf\x83");
    CHECK(&o, "\xce\x91\xce\xa3.\xce\x92", "\xce\xb1\xcf\x83", "\xce\xb2"); /* '.' is case-ignorable */
    CHECK(&o, "STRA\xc3\x9f" "E", "stra\xc3\x9f" "e");
    CHECK(&o, "CAF\xc3\x89 na\xc3\xafve", "caf\xc3\xa9", "na\xc3\xafve");
    /* emoji and CJK are ordinary characters; fullwidth punctuation is not filtered */
    CHECK(&o, "\xf0\x9f\x98\x80!x \xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x81", "\xf0\x9f\x98\x80", "x",
          "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x81");
    /* lower = 0 (--no-lower) */
    o.lower = 0;
    CHECK(&o, "Hello, \xc4\xb0stanbul!", "Hello", "\xc4\xb0stanbul");
    /* NUL is an ordinary character */
    o.lower = 1;
    wb_token_list l;
    wb_token_list_init(&l);
    assert_int_equal(wb_tokenize(&o, "A\0B C", 5, &l, NULL), 0);
    assert_int_equal(l.n, 2);
    size_t len;
    const char *t = wb_token_list_get(&l, 0, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(t, "a\0b", 3);
    wb_token_list_free(&l);
}

static void test_fasttext(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_FASTTEXT);
    assert_int_equal(o.lower, 0);
    check_len(&o, "Hello, world!\tfoo\vbar\fbaz\rqux\nEnd.\0nul  x", 41, "Hello,", "world!", "foo",
              "bar", "baz", "qux", "End.", "nul", "x", (const char *)NULL);
    CHECK(&o, "a\xc2\xa0" "b", "a\xc2\xa0" "b"); /* only ASCII white space splits */
    CHECK0(&o, " \t\n ");
    o.lower = 1;
    CHECK(&o, "Don't SHOUT!", "don't", "shout!");
}

static void test_unicode(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_UNICODE);
    /* NFKC: fullwidth letters and the fi ligature; case folding: sharp s */
    CHECK(&o, "\xef\xbc\xa8\xef\xbd\x85\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x8f, W\xc3\xb6rld! \xef\xac\x81ne Stra\xc3\x9f" "e",
          "hello", "w\xc3\xb6rld", "fine", "strasse");
    /* punctuation (P*) and white space (Z*, incl. NBSP, U+3000) split; symbols do not */
    CHECK(&o, "don't\xc2\xa0stop\xe3\x80\x80" "a\xe2\x80\x94" "b \xe2\x80\x9cq\xe2\x80\x9d $5 x+y",
          "don", "t", "stop", "a", "b", "q", "$5", "x+y");
    /* combining marks compose (NFC part of NFKC) */
    CHECK(&o, "Cafe\xcc\x81", "caf\xc3\xa9");
    CHECK(&o, "\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82\xe4\xb8\x96\xe7\x95\x8c", "\xe4\xbd\xa0\xe5\xa5\xbd",
          "\xe4\xb8\x96\xe7\x95\x8c");
    o.lower = 0;
    CHECK(&o, "Hello \xef\xac\x81", "Hello", "fi");
}

static void test_char(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_CHAR);
    assert_int_equal(strlen(WB_TOK_ZHANG_ALPHABET), 69);
    for (size_t i = 0; i < 69; i++) /* no duplicates */
        assert_null(memchr(WB_TOK_ZHANG_ALPHABET + i + 1, WB_TOK_ZHANG_ALPHABET[i], 68 - i));
    /* unknown characters (space, é, upper case with lower = 0) are empty tokens */
    CHECK(&o, "Ab c!\xc3\xa9\n{", "a", "b", "", "c", "!", "", "\n", "{");
    o.lower = 0;
    CHECK(&o, "Ab", "", "b");
    o.lower = 1;
    o.alphabet = "a\xc3\xa9\xe4\xbd\xa0";
    CHECK(&o, "A\xc3\x89x\xe4\xbd\xa0", "a", "\xc3\xa9", "", "\xe4\xbd\xa0");
    /* İ lower-cases to two characters */
    CHECK(&o, "\xc4\xb0", "", "");
    o.alphabet = "a\xff";
    wb_token_list l;
    wb_token_list_init(&l);
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_tokenize(&o, "a", 1, &l, &e), WB_EUSAGE);
    assert_int_equal(e.code, WB_EUSAGE);
    assert_int_equal(l.n, 0);
    wb_token_list_free(&l);
}

static void test_strip_html(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_FASTTEXT);
    o.strip_html = 1;
    CHECK(&o, "<p>Hello&amp;bye</p><p>next</p>", "Hello&bye", "next");
    CHECK(&o, "a&lt;b&gt;c &quot;q&quot; it&#39;s &apos;x&apos; &#x263A; &#9731; a&nbsp;b",
          "a<b>c", "\"q\"", "it's", "'x'", "\xe2\x98\xba", "\xe2\x98\x83", "a\xc2\xa0" "b");
    CHECK(&o, "&amp;lt; &bogus; &amp &#0; &#xD800; &#99999999; &hellip;&mdash;&copy;",
          "&lt;", "&bogus;", "&amp", "\xef\xbf\xbd", "\xef\xbf\xbd", "\xef\xbf\xbd",
          "\xe2\x80\xa6\xe2\x80\x94\xc2\xa9");
    CHECK(&o, "<a href=\"x\">link</a><!-- a <b> comment -->after<br/>x", "link", "after", "x");
    CHECK(&o, "1 < 2 and 3<4 <unterminated", "1", "<", "2", "and", "3<4", "<unterminated");
    CHECK(&o, "<!-- never closed", "<!--", "never", "closed");
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    o.strip_html = 1;
    CHECK(&o, "<p>Use <code>std::vector</code> &amp; co.</p>", "use", "std", "vector", "co");
}

static void test_max_doc_chars(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    o.max_doc_chars = 3;
    CHECK(&o, "h\xc3\xa9llo world", "h\xc3\xa9l"); /* characters, not bytes */
    o.max_doc_chars = 7;
    CHECK(&o, "hello world", "hello", "w");
    o.max_doc_chars = 100;
    CHECK(&o, "hello world", "hello", "world");
    /* the cut comes before lower-casing (Python text[:N].lower()) */
    o.max_doc_chars = 1;
    CHECK(&o, "\xc4\xb0x", "i\xcc\x87");
    /* with strip_html markup does not count */
    o.max_doc_chars = 7; /* " abc  d": each tag became one space */
    o.strip_html = 1;
    CHECK(&o, "<b>abc</b> def", "abc", "d");
    /* without strip_html, invalid bytes past the cut are not read */
    o.strip_html = 0;
    o.max_doc_chars = 2;
    wb_token_list l;
    wb_token_list_init(&l);
    assert_int_equal(wb_tokenize(&o, "a\xff\xff\xff", 4, &l, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.n_invalid, 1);
    wb_token_list_free(&l);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    wb_token_list l;
    wb_token_list_init(&l);
    /* maximal subparts, as Python's bytes.decode(errors="replace") */
    const char in[] = "a\xff" "b\xe2\x82" "c\xed\xa0\x80 \xf0\x9f\x98 \xc0\xaf \xf4\x90\x80\x80 \xe0\x80\x80";
    assert_int_equal(wb_tokenize(&o, in, sizeof in - 1, &l, NULL), 0);
    assert_int_equal(l.n_invalid, 1 + 1 + 3 + 1 + 2 + 4 + 3);
    const char *exp[] = {"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                         "\xef\xbf\xbd", "\xef\xbf\xbd\xef\xbf\xbd",
                         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"};
    assert_true(tokens_equal(&l, exp, 5));
    /* truncated sequence at the very end */
    assert_int_equal(wb_tokenize(&o, "x\xe2\x82", 3, &l, NULL), 0);
    assert_int_equal(l.n_invalid, 1);
    assert_int_equal(l.n, 1);
    /* the count is per call: a clean document resets it */
    assert_int_equal(wb_tokenize(&o, "ok", 2, &l, NULL), 0);
    assert_int_equal(l.n_invalid, 0);
    wb_token_list_free(&l);
}

static void test_random_bytes(void **state) {
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    unsigned char buf[512];
    wb_token_list l;
    wb_token_list_init(&l);
    for (int iter = 0; iter < 4000; iter++) {
        size_t n = (size_t)(iter % 511);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            unsigned char b = (unsigned char)x;
            /* bias toward markup and interesting bytes */
            static const char pick[] = "<>&#;x ! \t\n\xce\xa3\xcc\x81\xc4\xb0\x80\xbf";
            if ((x >> 20) % 3 == 0) b = (unsigned char)pick[(x >> 24) % (sizeof pick - 1)];
            buf[i] = b;
        }
        wb_tokenize_opts o;
        wb_tokenize_opts_init(&o, (wb_tok_kind)(iter % 4));
        o.strip_html = (iter / 4) % 2;
        o.max_doc_chars = (iter / 8) % 3 == 0 ? (size_t)(iter % 37) : 0;
        o.lower = (iter / 24) % 2;
        assert_int_equal(wb_tokenize(&o, (const char *)buf, n, &l, NULL), 0);
        for (size_t i = 0; i < l.n; i++) {
            size_t len;
            const char *t = wb_token_list_get(&l, i, &len);
            assert_true(valid_utf8((const unsigned char *)t, len));
            if (o.kind != WB_TOK_CHAR) assert_true(len > 0);
        }
    }
    wb_token_list_free(&l);
}

static void test_usage_and_reuse(void **state) {
    (void)state;
    wb_tokenize_opts o;
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    wb_token_list l;
    wb_token_list_init(&l);
    wb_token_list_free(&l); /* free after init only */
    wb_token_list_free(NULL);
    assert_int_equal(wb_tokenize(NULL, "a", 1, &l, NULL), WB_EUSAGE);
    assert_int_equal(wb_tokenize(&o, NULL, 1, &l, NULL), WB_EUSAGE);
    assert_int_equal(wb_tokenize(&o, NULL, 0, &l, NULL), 0);
    assert_int_equal(l.n, 0);
    o.kind = (wb_tok_kind)9;
    assert_int_equal(wb_tokenize(&o, "a", 1, &l, NULL), WB_EUSAGE);
    o.kind = WB_TOK_KERAS;
    /* the list is replaced on every call and keeps its memory */
    assert_int_equal(wb_tokenize(&o, "one two three", 13, &l, NULL), 0);
    assert_int_equal(l.n, 3);
    char *buf = l.buf;
    assert_int_equal(wb_tokenize(&o, "four", 4, &l, NULL), 0);
    assert_int_equal(l.n, 1);
    assert_ptr_equal(l.buf, buf);
    wb_token_list_reset(&l);
    assert_int_equal(l.n, 0);
    wb_token_list_free(&l);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fill n bytes by repeating `unit`. */
static char *repeat(const char *unit, size_t n) {
    char *s = malloc(n);
    assert_non_null(s);
    size_t u = strlen(unit);
    for (size_t i = 0; i < n; i++) s[i] = unit[i % u];
    return s;
}

/* Tokenize doc twice with the same list: the first call also pays for
 * growing the list's buffers (page faults), the second is the steady state
 * a reader sees.  Quadratic behaviour on 20 MB would take hours, so the
 * limits only need to separate linear from super-linear. */
static void timed(const wb_tokenize_opts *o, const char *doc, size_t n, const char *what,
                  wb_token_list *l, double limit) {
    double t0 = now();
    assert_int_equal(wb_tokenize(o, doc, n, l, NULL), 0);
    double t1 = now();
    assert_int_equal(wb_tokenize(o, doc, n, l, NULL), 0);
    double t2 = now();
    printf("  %-28s %zu bytes, %8zu tokens: first %.3f s, again %.3f s (%.0f MB/s)\n", what, n,
           l->n, t1 - t0, t2 - t1, (double)n / 1e6 / (t2 - t1));
    assert_true(t1 - t0 < 3 * limit);
    assert_true(t2 - t1 < limit);
}

static void test_large_documents(void **state) {
    (void)state;
    const size_t n = 20u << 20;
    wb_token_list l;
    wb_token_list_init(&l);
    wb_tokenize_opts o;
    char *doc = repeat("The Quick, brown fox jumps; over the lazy dog. ", n);
    static const char *names[] = {"keras", "fasttext", "unicode", "char"};
    for (int k = 0; k < 4; k++) {
        wb_tokenize_opts_init(&o, (wb_tok_kind)k);
        timed(&o, doc, n, names[k], &l, TIME_LIMIT);
    }
    wb_tokenize_opts_init(&o, WB_TOK_KERAS);
    o.strip_html = 1;
    timed(&o, doc, n, "keras + strip_html", &l, 2 * TIME_LIMIT);
    free(doc);
    /* adversarial for the look-ahead paths: unterminated tags, entities,
     * comments; sigmas separated by case-ignorables; one 20 MB token */
    doc = repeat("<a &#12 &amp <!-- ", n);
    timed(&o, doc, n, "unterminated markup", &l, 2 * TIME_LIMIT);
    free(doc);
    o.strip_html = 0;
    doc = repeat("\xce\xa3'\xcc\x81.", n);
    timed(&o, doc, n, "sigma + case-ignorables", &l, 2 * TIME_LIMIT);
    free(doc);
    doc = repeat("\xce\x91\xce\xa3", n);
    timed(&o, doc, n, "one 20 MB greek token", &l, 2 * TIME_LIMIT);
    assert_int_equal(l.n, 1);
    free(doc);
    doc = repeat("\xff", n);
    timed(&o, doc, n, "20 MB of invalid bytes", &l, 2 * TIME_LIMIT);
    assert_int_equal(l.n_invalid, n);
    free(doc);
    wb_token_list_free(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_reference),
        cmocka_unit_test(test_keras_golden),
        cmocka_unit_test(test_fasttext),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_char),
        cmocka_unit_test(test_strip_html),
        cmocka_unit_test(test_max_doc_chars),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_usage_and_reuse),
        cmocka_unit_test(test_large_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
