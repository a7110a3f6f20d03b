/*
 * tools/bench/gen_corpus.c — wb_gen_corpus: a fast, deterministic generator
 * of labelled text corpora of any size, for benchmarking the data-set build
 * (`wordbench data stats`, the first `train`) and training from a mapped
 * data set.
 *
 * Output, one record per line (TSV, the default):   WORD WORD ... WORD '\t' LABEL '\n'
 * or with --format fasttext:                         __label__LABEL WORD ... WORD '\n'
 *
 * Words.  The vocabulary has --vocab words; word r (rank r, 0 = most
 * frequent) is the bijective base-100 spelling of r + 10100 in consonant-
 * vowel syllables ("bakeru"): every word distinct, lower-case ASCII (so the
 * keras tokenizer keeps it as is), 6 letters for ranks below 1,000,000.
 * Words are drawn from a Zipf distribution (exponent 1, as running text) with
 * Walker's alias method: O(1) a word.
 *
 * Labels.  --labels L labels named "c0", "c1", ...; a record's label is drawn
 * uniformly, then each word is, with probability 1/8, drawn uniformly from a
 * block of 200 words of that label (ranks 1000 + 200·label ..), so a model
 * can learn something.
 *
 * Determinism: the output depends only on the options; the file for N rows
 * is a prefix of the file for M > N rows.
 *
 * Usage: wb_gen_corpus --rows N [--words 60] [--vocab 100000] [--labels 2]
 *                      [--seed 1] [--format tsv|fasttext] [--out FILE]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t rng_s[2];

static uint64_t next(void) { /* xorshift128+ */
    uint64_t s1 = rng_s[0];
    const uint64_t s0 = rng_s[1];
    rng_s[0] = s0;
    s1 ^= s1 << 23;
    rng_s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rng_s[1] + s0;
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1). */
static double unif(void) { return (double)(next() >> 11) * 0x1.0p-53; }

static const char CONS[] = "bcdfghjklmnprstvwxyz"; /* 20 */
static const char VOW[] = "aeiou";                  /* 5 */

/* Spell rank r; returns the length. */
static size_t spell(uint64_t r, char *out) {
    char tmp[32];
    size_t n = 0;
    uint64_t x = r + 10100; /* at least three syllables */
    while (x) {
        x -= 1;
        unsigned s = (unsigned)(x % 100);
        tmp[n++] = VOW[s % 5];
        tmp[n++] = CONS[s / 5];
        x /= 100;
    }
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

static void die(const char *m) {
    fprintf(stderr, "wb_gen_corpus: %s\n", m);
    exit(1);
}

int main(int argc, char **argv) {
    uint64_t rows = 0, words = 60, vocab = 100000, labels = 2, seed = 1;
    const char *out = NULL, *fmt = "tsv";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("every option takes a value (see the file comment)");
        if (!strcmp(a, "--rows")) rows = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--words")) words = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--vocab")) vocab = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--labels")) labels = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--format")) fmt = v;
        else if (!strcmp(a, "--out")) out = v;
        else die("unknown option (see the file comment)");
        i++;
    }
    int ft = !strcmp(fmt, "fasttext");
    if (!ft && strcmp(fmt, "tsv")) die("--format is tsv or fasttext");
    if (!rows || !words || vocab < 1000 + 200 * labels || !labels || labels > 1000)
        die("need --rows >= 1, --words >= 1, --labels 1..1000 and --vocab >= 1000 + 200 * labels");
    FILE *f = out ? fopen(out, "wb") : stdout;
    if (!f) die(strerror(errno));
    static char obuf[1 << 22];
    setvbuf(f, obuf, _IOFBF, sizeof obuf);
    uint64_t sm = seed;
    rng_s[0] = splitmix(&sm);
    rng_s[1] = splitmix(&sm);

    /* Spellings, back to back. */
    char *sp = malloc(vocab * 16);
    uint32_t *so = malloc((vocab + 1) * sizeof *so);
    /* Walker's alias tables for p(r) ~ 1 / (r + 1). */
    double *prob = malloc(vocab * sizeof *prob);
    uint32_t *alias = malloc(vocab * sizeof *alias), *small = malloc(vocab * sizeof *small),
             *large = malloc(vocab * sizeof *large);
    if (!sp || !so || !prob || !alias || !small || !large) die("out of memory");
    so[0] = 0;
    for (uint64_t r = 0; r < vocab; r++) so[r + 1] = so[r] + (uint32_t)spell(r, sp + so[r]);
    double h = 0;
    for (uint64_t r = 0; r < vocab; r++) h += 1.0 / (double)(r + 1);
    size_t ns = 0, nl = 0;
    for (uint64_t r = 0; r < vocab; r++) {
        prob[r] = (double)vocab / ((double)(r + 1) * h);
        if (prob[r] < 1) small[ns++] = (uint32_t)r;
        else large[nl++] = (uint32_t)r;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[nl - 1];
        alias[s] = l;
        prob[l] -= 1 - prob[s];
        if (prob[l] < 1) nl--, small[ns++] = l;
    }
    while (nl) prob[large[--nl]] = 1;
    while (ns) prob[small[--ns]] = 1;

    for (uint64_t i = 0; i < rows; i++) {
        uint64_t lab = next() % labels;
        if (ft) fprintf(f, "__label__c%llu ", (unsigned long long)lab);
        for (uint64_t j = 0; j < words; j++) {
            uint64_t r;
            uint64_t x = next();
            if ((x & 7) == 0) {
                r = 1000 + 200 * lab + (x >> 3) % 200;
            } else {
                r = (x >> 3) % vocab;
                if (unif() >= prob[r]) r = alias[r];
            }
            if (j) putc(' ', f);
            fwrite(sp + so[r], 1, so[r + 1] - so[r], f);
        }
        if (ft) putc('\n', f);
        else fprintf(f, "\tc%llu\n", (unsigned long long)lab);
    }
    if (fflush(f) || ferror(f)) die(strerror(errno));
    if (out && fclose(f)) die(strerror(errno));
    free(sp), free(so), free(prob), free(alias), free(small), free(large);
    return 0;
}
