/*
 * tools/bench/gen_glove.c — wb_gen_glove: a fast, deterministic generator of
 * GloVe-format text files of any size, for benchmarking `wordbench convert`
 * and the store look-ups.
 *
 * Output, one line per row:  WORD ' ' X1 ' ' X2 ... ' ' XD '\n'
 * optionally preceded by the word2vec/fastText header line "ROWS DIM\n".
 *
 * Words.  Every word is unique by construction, no hash set needed.  A word
 * belongs to one of four disjoint classes, told apart by their characters:
 *   ascii     99.00%  lower-case a-z, consonants and vowels alternating
 *                     ("bakuro", "eti"), 1..15 letters
 *   accented   0.60%  an ascii-class string with one letter accented
 *                     ("tirùl", "ñoba": "café"-like), 2..15 letters
 *   cyrillic   0.15%  an ascii-class string spelled letter by letter in
 *                     Cyrillic ("бакуро"), 1..15 letters
 *   cjk        0.25%  1..4 ideographs from U+4E00..U+9FFF
 * Within a class and a length L the n-th word is the string of index
 * perm(n) in the enumeration of all strings of that class and length, where
 * perm is a keyed bijection of [0, count(L)); when a length is used up the
 * word takes the next longer one.  The accented map is injective because
 * removing the accent gives back the base string.  Lengths follow the rank
 * like a frequency-sorted vocabulary: short words first, a mean near 8 after
 * the first ten thousand rows.
 *
 * Numbers.  Each value follows a normal distribution (std 0.4 by default)
 * and is printed as C's "%.5g" would print it, like GloVe's own files:
 * "-0.12345", "0.0067192", "1.2345", "0.418" (trailing zeros dropped) and,
 * for |x| < 1e-4 (about 2 in 10000 values), "1.2345e-05".  For 3 <= P <= 6
 * significant digits the text itself is drawn from a table of printed
 * prefixes with their exact normal probabilities plus a uniform tail of
 * digits (see "Fast values" below: ~3 ns a number); other P draw a double
 * and format it by hand (put_g, ~12 ns).  Either way no printf per number:
 * the text goes into 16 MiB buffers that a second thread hands to write(2).
 *
 * Determinism.  The output depends only on --rows, --dim, --seed, --digits,
 * --std and --header: two runs give identical bytes, and the file for N rows
 * is a prefix of the file for M > N rows (the row streams do not look ahead).
 * The tables, word lengths and values beyond 100 use libm (erfc, log,
 * log2), so another libm could in principle change a rare value or length.
 *
 * Not here: reading files, other formats (binary word2vec), duplicates or
 * malformed lines (those belong in the converter's tests and fixtures).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "wb_gen_glove"

/* ------------------------------------------------------------------ */
/* Options: defaults live in this one table, --help prints them.        */

typedef struct gen_opts {
    uint64_t rows;          /* lines of vectors to write */
    uint32_t dim;           /* numbers per line */
    uint64_t seed;          /* the whole output is a function of this */
    int header;             /* 1: write "rows dim\n" first (word2vec text) */
    int digits;             /* significant digits ("%.{digits}g") */
    double std;             /* standard deviation of the values */
    const char *out;        /* output file, "-" for stdout */
    const char *words_out;  /* word list file, NULL for none */
    uint64_t sample;        /* words in the list; 0 = every word */
} gen_opts;

static const gen_opts DEFAULTS = {
    .rows = 400000, .dim = 300, .seed = 1, .header = 0, .digits = 5,
    .std = 0.4, .out = "-", .words_out = NULL, .sample = 0,
};

#define MAX_ROWS (1ull << 40)
#define MAX_DIM 1000000u

static void usage(FILE *f)
{
    fprintf(f,
        "usage: " PROG " [options]\n"
        "Write a synthetic GloVe text file (WORD X1 ... XD per line), deterministic in its options.\n"
        "  --rows N         rows to write (1..%llu; default %" PRIu64 ")\n"
        "  --dim D          numbers per row (1..%u; default %u)\n"
        "  --seed S         random seed, decimal or 0x-prefixed hex (default %" PRIu64 ")\n"
        "  --header         write the word2vec/fastText header line \"ROWS DIM\" first\n"
        "  --digits P       significant digits per number, as printf \"%%.Pg\" (1..9; default %d)\n"
        "  --std X          standard deviation of the values (0.001..100; default %g)\n"
        "  --out FILE|-     output file, - for stdout (default %s)\n"
        "  --words-out FILE also write the words, one per line (for look-up benchmarks)\n"
        "  --sample K       with --words-out: write only every (rows/K)-th word, at most K\n"
        "  -h, --help       this text\n"
        "Exit status: 0 success, 1 write failure, 2 usage error.\n",
        (unsigned long long)MAX_ROWS, DEFAULTS.rows, MAX_DIM, DEFAULTS.dim, DEFAULTS.seed,
        DEFAULTS.digits, DEFAULTS.std, DEFAULTS.out);
}

static _Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n" PROG ": try --help\n");
    va_end(ap);
    exit(2);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') /* strtoull would take "-1" and " 1" */
        usage_error("%s: expected a non-negative integer, found '%s'", opt, s);
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
    if (errno == ERANGE || *end != '\0' || !isxdigit((unsigned char)digits[0]))
        usage_error("%s: expected an integer, found '%s'", opt, s);
    if (v < lo || v > hi)
        usage_error("%s: out of range: %s (allowed %" PRIu64 "..%" PRIu64 ")", opt, s, lo, hi);
    return v;
}

static double parse_double(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end != '\0' || s[0] == '\0')
        usage_error("%s: expected a number, found '%s'", opt, s);
    if (!(v >= lo && v <= hi))
        usage_error("%s: out of range: %s (allowed %g..%g)", opt, s, lo, hi);
    return v;
}

static void parse_args(int argc, char **argv, gen_opts *o)
{
    *o = DEFAULTS;
    int sample_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc)
                usage_error("unexpected argument '%s'", argv[i + 1]);
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--header") == 0) {
            o->header = 1;
            continue;
        }
        /* Options with a value: "--opt VALUE" or "--opt=VALUE". */
        static const char *const with_value[] = {
            "--rows", "--dim", "--seed", "--digits", "--std", "--out", "--words-out", "--sample",
        };
        const char *name = NULL, *val = NULL;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) {
            size_t n = strlen(with_value[k]);
            if (strncmp(a, with_value[k], n) == 0 && (a[n] == '\0' || a[n] == '=')) {
                name = with_value[k];
                if (a[n] == '=')
                    val = a + n + 1;
                else if (i + 1 < argc)
                    val = argv[++i];
                else
                    usage_error("%s needs a value", name);
                break;
            }
        }
        if (!name)
            usage_error("unknown option or argument '%s'", a);
        if (strcmp(name, "--rows") == 0)
            o->rows = parse_u64(name, val, 1, MAX_ROWS);
        else if (strcmp(name, "--dim") == 0)
            o->dim = (uint32_t)parse_u64(name, val, 1, MAX_DIM);
        else if (strcmp(name, "--seed") == 0)
            o->seed = parse_u64(name, val, 0, UINT64_MAX);
        else if (strcmp(name, "--digits") == 0)
            o->digits = (int)parse_u64(name, val, 1, 9);
        else if (strcmp(name, "--std") == 0)
            o->std = parse_double(name, val, 0.001, 100.0);
        else if (strcmp(name, "--out") == 0)
            o->out = val;
        else if (strcmp(name, "--words-out") == 0)
            o->words_out = val;
        else if (strcmp(name, "--sample") == 0) {
            o->sample = parse_u64(name, val, 1, MAX_ROWS);
            sample_given = 1;
        }
    }
    if (o->out[0] == '\0' || (o->words_out && o->words_out[0] == '\0'))
        usage_error("empty file name");
    if (sample_given && !o->words_out)
        usage_error("--sample needs --words-out");
    if (o->words_out && strcmp(o->words_out, "-") == 0 && strcmp(o->out, "-") == 0)
        usage_error("--out and --words-out cannot both be stdout");
}

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64 for seeding, xoshiro256** for streams.    */

typedef struct rng {
    uint64_t s[4]; /* xoshiro256** state, never all zero */
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

/* ------------------------------------------------------------------ */
/* Normal deviates (word lengths; values when P is not 3..6): a table of  */
/* quantiles at i/NQ, linear in between.                               */

#define NQ_BITS 12
#define NQ (1u << NQ_BITS)

typedef struct qbin {
    float q; /* quantile at the bin's lower edge, scaled by std */
    float d; /* width of the bin: next edge minus q */
} qbin;

/* Inverse of the standard normal CDF, P. J. Acklam's rational
 * approximation (relative error < 1.15e-9), 0 < p < 1. */
static double inv_norm(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                               2.445134137142996e+00, 3.754408661907416e+00};
    const double plow = 0.02425;
    if (p < plow) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - plow)
        return -inv_norm(1 - p);
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* Fill tab[0..NQ) for N(0, std^2).  The outer edges are the quantiles at
 * 1/(8 NQ) and 1 - 1/(8 NQ) (about +-3.9 std), so values stay finite. */
static void qtable_init(qbin *tab, double std)
{
    double edge[NQ + 1];
    edge[0] = inv_norm(1.0 / (8.0 * NQ));
    edge[NQ] = -edge[0];
    for (unsigned i = 1; i < NQ; i++)
        edge[i] = inv_norm((double)i / NQ);
    edge[NQ / 2] = 0.0; /* exact, so both halves mirror each other */
    for (unsigned i = 0; i < NQ; i++) {
        tab[i].q = (float)(edge[i] * std);
        tab[i].d = (float)((edge[i + 1] - edge[i]) * std);
    }
}

/* One value from 32 random bits: 12 pick the bin, 20 the place in it. */
static inline double qdraw(const qbin *tab, uint32_t u)
{
    const qbin *b = &tab[u >> (32 - NQ_BITS)];
    return (double)b->q + (double)(u & ((1u << (32 - NQ_BITS)) - 1)) *
                              (1.0 / (1u << (32 - NQ_BITS))) * (double)b->d;
}

/* ------------------------------------------------------------------ */
/* Number formatting: C's "%.Pg", by hand.                             */

#define P10_OFF 40
static double P10[2 * P10_OFF + 1]; /* P10[P10_OFF + k] = 10^k, k in -40..40 */
static const uint32_t P10I[10] = {1, 10, 100, 1000, 10000, 100000,
                                  1000000, 10000000, 100000000, 1000000000};
static const char DIG2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void p10_init(void)
{
    for (int k = -P10_OFF; k <= P10_OFF; k++)
        P10[P10_OFF + k] = k < 0 ? 1.0 / pow(10.0, -k) : pow(10.0, k);
}

/* Write v at p as "%.Pg" writes it (P significant digits, rounded; trailing
 * zeros dropped; exponent form when the exponent is < -4 or >= P) and return
 * the end.  Writes at most 32 bytes past p (scratch beyond the end).  |v|
 * must be below 1e30 and either 0 or above 1e-30.  Rounding is half-up on
 * the double product, not printf's exact decimal expansion: the text is the
 * data, so nothing depends on matching printf digit for digit (in practice
 * every value of a test file does match).  (A SWAR conversion of the digits
 * in a register measured no faster than this loop.) */
static inline char *put_g(char *p, double v, int P)
{
    *p = '-';
    p += v < 0; /* branchless sign: the '-' is overwritten when v >= 0 */
    double a = fabs(v);
    if (a == 0.0) {
        *p = '0';
        return p + 1;
    }
    /* Decimal exponent e, 10^e <= a < 10^(e+1): floor(be * log10 2) from
     * the binary exponent (78913 / 2^18, exact for |be| < 1650; >> of a
     * negative int is an arithmetic shift in GCC and Clang), then at most
     * one step up. */
    uint64_t bits;
    memcpy(&bits, &a, sizeof bits);
    int be = (int)(bits >> 52) - 1023;
    int e = (be * 78913) >> 18;
    e += a >= P10[P10_OFF + e + 1];
    uint32_t m = (uint32_t)(a * P10[P10_OFF + P - 1 - e] + 0.5);
    if (m >= P10I[P]) { /* rounded up to the next power of ten */
        m = P10I[P - 1];
        e++;
    }
    /* The P digits of m into d[0..P); d[P..16) stay '0'. */
    char d[16];
    memset(d, '0', sizeof d);
    char *q = d + P;
    while (m >= 100) {
        q -= 2;
        memcpy(q, DIG2 + 2 * (m % 100), 2);
        m /= 100;
    }
    if (m >= 10) {
        q -= 2;
        memcpy(q, DIG2 + 2 * m, 2);
    } else {
        *--q = (char)('0' + m);
    }
    int n = P;
    while (n > 1 && d[n - 1] == '0')
        n--;
    if (e < 0 && e >= -4) {
        memcpy(p, "0.000000", 8);
        p += 1 - e;
        memcpy(p, d, 16);
        return p + n;
    }
    if (e >= 0 && e < P) {
        int k = e + 1;
        memcpy(p, d, 16);
        if (n <= k)
            return p + k;
        p[k] = '.';
        memcpy(p + k + 1, d + k, 16 - (size_t)k);
        return p + n + 1;
    }
    p[0] = d[0];
    if (n > 1) {
        p[1] = '.';
        memcpy(p + 2, d + 1, 15);
        p += n + 1;
    } else {
        p += 1;
    }
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    unsigned ae = (unsigned)(e < 0 ? -e : e);
    if (ae >= 100) {
        *p++ = (char)('0' + ae / 100);
        ae %= 100;
    }
    memcpy(p, DIG2 + 2 * ae, 2);
    return p + 2;
}

/* ------------------------------------------------------------------ */
/* Fast values: the printed text drawn directly from a table.          */
/*
 * Formatting a double costs ~12 ns a number, half the budget of a
 * 500 MB/s generator, so for 3 <= P <= 6 the text is drawn instead of
 * computed.  A printed value with exponent e (10^e <= |x| < 10^(e+1)) is
 * a prefix holding the sign, the point and the first 3 significant digits
 * ("-0.00123", "1.23", "12.3") followed by a tail of P-3 digits.  For the
 * fast range 1e-4 <= |x| < 100 (e = -4..1: the point never falls inside
 * the tail) there are 2 x 6 x 900 prefixes, each a "group"; a group is
 * drawn with its exact normal probability (alias method) and its tail
 * uniformly, which is the normal density to within 1% over each group's
 * width (a group spans 1% of its own value).  Trailing zeros are dropped
 * as "%.Pg" drops them: a tail without them is precomputed, an all-zero
 * tail also strips the prefix ("0.100"+"00" -> "0.1", "10.0"+"00" -> "10").
 * Two more groups per sign take the rest: |x| < 1e-4 (uniform there, as
 * the density is flat near 0; printed by put_g, mostly "1.2345e-05") and
 * |x| >= 100 (the normal tail by inversion, printed by put_g).
 * One 64-bit draw per number: 32 bits pick a slot, 16 accept the slot or
 * its alias, 16 pick the tail.  Cost: ~3 ns a number.
 */

#define VFAST_EMIN (-4)
#define VFAST_EMAX 1
#define VFAST_GROUPS (2 * (VFAST_EMAX - VFAST_EMIN + 1) * 900 + 4)

enum { VG_TEXT, VG_SMALL, VG_BIG };

/* One group, 20 bytes.  Invariant: pre[plen..16) are NUL. */
typedef struct vgroup {
    char pre[16];     /* sign, digits and point up to the 3rd significant digit */
    uint8_t plen;     /* bytes of pre */
    uint8_t plen0;    /* bytes kept when the tail is all zeros */
    uint8_t kind;     /* VG_TEXT, or VG_SMALL / VG_BIG printed by put_g */
    uint8_t neg;      /* 1 for negative values */
} vgroup;

/* One slot of the alias table, kept apart from the groups so that the
 * uniformly hit slots fit in 43 KB while the groups are hit by probability. */
typedef struct vslot {
    uint16_t thr;     /* keep the slot's own group when 16 random bits < thr */
    uint16_t alias;   /* ... else take this group (itself for a full slot) */
} vslot;

typedef struct vtail {
    char txt[4];      /* the tail's digits, trailing zeros dropped */
    uint32_t len;     /* bytes of txt; 0 for the all-zero tail */
} vtail;

typedef struct vfast {
    vgroup g[VFAST_GROUPS]; /* the groups, in no particular order */
    vslot slot[VFAST_GROUPS]; /* slot i: group i or its alias */
    uint32_t ng;            /* groups (and slots) used */
    vtail tail[1000];       /* every tail of P-3 digits */
    uint32_t ntail;         /* 10^(P-3) */
    double std;             /* standard deviation */
    double big_q;           /* P(x >= 100): upper tail mass per sign */
} vfast;

/* P(x >= t) for x ~ N(0, std^2). */
static double upper_mass(double t, double std) { return 0.5 * erfc(t / (std * sqrt(2.0))); }

static void vgroup_set(vgroup *g, int neg, int kind, const char *digits)
{
    memset(g, 0, sizeof *g);
    g->neg = (uint8_t)neg;
    g->kind = (uint8_t)kind;
    if (kind != VG_TEXT)
        return;
    int n = snprintf(g->pre, sizeof g->pre, "%s%s", neg ? "-" : "", digits);
    g->plen = (uint8_t)n;
    int n0 = n; /* strip zeros after the point, then the point */
    if (strchr(g->pre, '.')) {
        while (g->pre[n0 - 1] == '0')
            n0--;
        if (g->pre[n0 - 1] == '.')
            n0--;
    }
    g->plen0 = (uint8_t)n0;
}

static void vfast_init(vfast *vf, int P, double std)
{
    static double prob[VFAST_GROUPS];
    static uint32_t small_[VFAST_GROUPS], large_[VFAST_GROUPS];
    uint32_t ng = 0;
    vf->std = std;
    for (int neg = 0; neg <= 1; neg++) {
        for (int e = VFAST_EMIN; e <= VFAST_EMAX; e++) {
            for (int hi = 100; hi <= 999; hi++) {
                double lo = hi * P10[P10_OFF + e - 2], up = (hi + 1) * P10[P10_OFF + e - 2];
                char digits[16];
                if (e < 0)
                    snprintf(digits, sizeof digits, "0.%.*s%d", -e - 1, "000", hi);
                else if (e == 0)
                    snprintf(digits, sizeof digits, "%d.%02d", hi / 100, hi % 100);
                else
                    snprintf(digits, sizeof digits, "%d.%d", hi / 10, hi % 10);
                vgroup_set(&vf->g[ng], neg, VG_TEXT, digits);
                prob[ng++] = upper_mass(lo, std) - upper_mass(up, std);
            }
        }
        vgroup_set(&vf->g[ng], neg, VG_SMALL, NULL);
        prob[ng++] = 0.5 - upper_mass(P10[P10_OFF + VFAST_EMIN], std);
        vgroup_set(&vf->g[ng], neg, VG_BIG, NULL);
        prob[ng++] = upper_mass(P10[P10_OFF + VFAST_EMAX + 1], std);
    }
    vf->ng = ng;
    vf->big_q = upper_mass(P10[P10_OFF + VFAST_EMAX + 1], std);

    /* Vose's alias method: scale to mean 1, pair each light group with a
     * heavy one that lends it the rest of its slot. */
    double total = 0;
    for (uint32_t i = 0; i < ng; i++)
        total += prob[i];
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < ng; i++) {
        prob[i] = prob[i] / total * ng;
        if (prob[i] < 1.0)
            small_[ns++] = i;
        else
            large_[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t s = small_[--ns], l = large_[nl - 1];
        double t = prob[s] * 65536.0 + 0.5;
        vf->slot[s].thr = (uint16_t)(t < 65535.0 ? t : 65535.0); /* off by 2^-16 at worst */
        vf->slot[s].alias = (uint16_t)l;
        prob[l] -= 1.0 - prob[s];
        if (prob[l] < 1.0) {
            nl--;
            small_[ns++] = l;
        }
    }
    /* Full slots (and rounding leftovers): the alias is the group itself. */
    while (nl > 0) {
        nl--;
        vf->slot[large_[nl]].thr = 0;
        vf->slot[large_[nl]].alias = (uint16_t)large_[nl];
    }
    while (ns > 0) {
        ns--;
        vf->slot[small_[ns]].thr = 0;
        vf->slot[small_[ns]].alias = (uint16_t)small_[ns];
    }

    int T = P - 3;
    vf->ntail = P10I[T];
    for (uint32_t t = 0; t < vf->ntail; t++) {
        vtail *tl = &vf->tail[t];
        memset(tl, 0, sizeof *tl);
        char d[16]; /* T <= 3 digits here; room for any unsigned so no truncation is possible */
        snprintf(d, sizeof d, "%0*u", T, t);
        int n = T;
        while (n > 0 && d[n - 1] == '0')
            n--;
        memcpy(tl->txt, d, (size_t)n);
        tl->len = (uint32_t)n;
    }
}

/* A value of the two put_g groups: |x| < 1e-4 uniform, or the tail.  The
 * randomness is a hash of the draw x (its bits chose the group; hashing
 * makes fresh ones) so that the generator state never leaves registers. */
static char *put_slow(char *p, const vfast *vf, const vgroup *g, uint64_t x, int P)
{
    double u = (double)(splitmix64(&x) >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) */
    double a;
    if (g->kind == VG_SMALL)
        a = u * P10[P10_OFF + VFAST_EMIN];
    else /* upper tail: P(X >= a) = big_q * (1 - u) > 0 */
        a = -inv_norm(vf->big_q * (1.0 - u)) * vf->std;
    return put_g(p, g->neg ? -a : a, P);
}

/* One value from one 64-bit draw. */
static inline char *put_fast(char *p, const vfast *vf, rng *r, int P)
{
    uint64_t x = rng_next(r);
    uint32_t s = (uint32_t)(((x >> 32) * vf->ng) >> 32);
    const vslot *sl = &vf->slot[s];
    const vgroup *g = &vf->g[((x >> 16) & 0xffff) < sl->thr ? s : sl->alias];
    if (g->kind != VG_TEXT)
        return put_slow(p, vf, g, x, P);
    const vtail *tl = &vf->tail[((x & 0xffff) * vf->ntail) >> 16];
    memcpy(p, g->pre, 16);
    if (tl->len == 0)
        return p + g->plen0;
    memcpy(p + g->plen, tl->txt, 4);
    return p + g->plen + tl->len;
}

/* ------------------------------------------------------------------ */
/* Words.                                                              */

enum { WC_ASCII, WC_ACCENT, WC_CYRILLIC, WC_CJK, WC_N };

#define MAX_LEN 15
#define CJK_FIRST 0x4E00u
#define CJK_COUNT 20992u /* U+4E00..U+9FFF */

static const char CONS[] = "bcdfghjklmnpqrstvwxyz"; /* 21 */
static const char VOWS[] = "aeiou";                 /* 5 */

/* Cyrillic spelling of a..z: 26 distinct letters, 2 UTF-8 bytes each. */
static const char *const CYR[26] = {
    "а", "б", "ц", "д", "е", "ф", "г", "х", "и", "ж", "к", "л", "м",
    "н", "о", "п", "щ", "р", "с", "т", "у", "в", "ш", "ч", "ы", "з",
};

/* Accented forms of the letters that have them (2 UTF-8 bytes each); the
 * base letter of every form is unique, which keeps the class injective. */
static const char *const ACC_A[] = {"à", "á", "â", "ä", "å", "ã"};
static const char *const ACC_E[] = {"é", "è", "ê", "ë"};
static const char *const ACC_I[] = {"í", "ì", "î", "ï"};
static const char *const ACC_O[] = {"ó", "ò", "ô", "ö", "ø", "õ"};
static const char *const ACC_U[] = {"ú", "ù", "û", "ü"};
static const char *const ACC_C[] = {"ç"};
static const char *const ACC_N[] = {"ñ"};

/* Per class and length: how many words exist, how many were used, and the
 * key and width of the bijection that spreads them.  Invariant: used[c][L]
 * <= count[c][L]. */
typedef struct wordgen {
    rng r;                            /* class and length draws, 1 per word */
    uint64_t count[WC_N][MAX_LEN + 1]; /* strings of the class with L letters */
    uint64_t used[WC_N][MAX_LEN + 1];  /* words of that class and length so far */
    uint64_t key[WC_N][MAX_LEN + 1];   /* bijection key */
    int bits[WC_N][MAX_LEN + 1];       /* smallest k with 2^k >= count */
    qbin z[NQ];                        /* standard normal table, for lengths */
} wordgen;

static uint64_t ipow(uint64_t b, int e)
{
    uint64_t r = 1;
    while (e-- > 0)
        r *= b;
    return r;
}

/* Alternating strings of length L: starting with a consonant, then with a vowel. */
static uint64_t alt_count_c(int L) { return ipow(21, (L + 1) / 2) * ipow(5, L / 2); }
static uint64_t alt_count_v(int L) { return ipow(5, (L + 1) / 2) * ipow(21, L / 2); }

static void wordgen_init(wordgen *w, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    rng_seed(&w->r, seed, 2);
    uint64_t ks = seed ^ 0x5bd1e9955bd1e995ull;
    for (int c = 0; c < WC_N; c++) {
        for (int L = 1; L <= MAX_LEN; L++) {
            uint64_t n = 0;
            if (c == WC_CJK)
                n = L <= 4 ? ipow(CJK_COUNT, L) : 0;
            else if (c == WC_ACCENT)
                n = L >= 2 ? alt_count_c(L) + alt_count_v(L) : 0;
            else
                n = alt_count_c(L) + alt_count_v(L);
            w->count[c][L] = n;
            int k = 1;
            while (k < 63 && (1ull << k) < n)
                k++;
            w->bits[c][L] = k;
            w->key[c][L] = splitmix64(&ks);
        }
    }
    qtable_init(w->z, 1.0);
}

/* A keyed bijection of [0, 2^bits): xor, odd multiply and xorshift steps,
 * each invertible modulo 2^bits. */
static uint64_t mix(uint64_t x, uint64_t key, int bits)
{
    uint64_t mask = (1ull << bits) - 1;
    int s = (bits + 1) / 2;
    x = (x ^ key) & mask;
    x = (x * 0x9e3779b97f4a7c15ull) & mask;
    x ^= x >> s;
    x = (x * 0xbf58476d1ce4e5b9ull) & mask;
    x ^= x >> s;
    x = (x + (key >> 17)) & mask;
    x = (x * 0x94d049bb133111ebull) & mask;
    x ^= x >> s;
    return x;
}

/* A bijection of [0, n) by cycle walking: apply mix until the value falls
 * back into range (it does, since the orbit of x returns to x < n). */
static uint64_t permute(uint64_t x, uint64_t n, uint64_t key, int bits)
{
    do
        x = mix(x, key, bits);
    while (x >= n);
    return x;
}

/* The alternating string of index j < count(L) into s[0..L): lower-case a-z. */
static void alt_decode(char *s, int L, uint64_t j)
{
    uint64_t nc = alt_count_c(L);
    int vowel = 0; /* slot 0 is a vowel? */
    if (j >= nc) {
        j -= nc;
        vowel = 1;
    }
    for (int i = 0; i < L; i++, vowel = !vowel) {
        if (vowel) {
            s[i] = VOWS[j % 5];
            j /= 5;
        } else {
            s[i] = CONS[j % 21];
            j /= 21;
        }
    }
}

static char *put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        *p++ = (char)cp;
    } else if (cp < 0x800) {
        *p++ = (char)(0xC0 | (cp >> 6));
        *p++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *p++ = (char)(0xE0 | (cp >> 12));
        *p++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *p++ = (char)(0x80 | (cp & 0x3F));
    }
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* Write the word of row `rank` at p (at most 64 bytes) and return the end. */
static char *put_word(wordgen *w, char *p, uint64_t rank)
{
    uint64_t r = rng_next(&w->r);
    uint32_t cls_draw = (uint32_t)((r >> 32) % 10000u);
    int c = cls_draw < 9900 ? WC_ASCII : cls_draw < 9960 ? WC_ACCENT
          : cls_draw < 9975 ? WC_CYRILLIC : WC_CJK;

    /* Length: normal around a mean that grows with log(rank) up to 8. */
    int L;
    if (c == WC_CJK) {
        uint32_t k = (uint32_t)r % 10u; /* 1: 20%, 2: 50%, 3: 20%, 4: 10% */
        L = k < 2 ? 1 : k < 7 ? 2 : k < 9 ? 3 : 4;
    } else {
        double mu = 2.0 + 0.45 * log2((double)rank + 2.0);
        if (mu > 8.0)
            mu = 8.0;
        double len = mu + 2.5 * qdraw(w->z, (uint32_t)r);
        L = (int)(len + 0.5);
        if (L < 1)
            L = 1;
        if (L > MAX_LEN)
            L = MAX_LEN;
    }
    /* Take the next longer length when this one is used up (or empty). */
    int Lmax = c == WC_CJK ? 4 : MAX_LEN;
    while (w->used[c][L] >= w->count[c][L]) {
        if (++L > Lmax) {
            L = 1; /* all lengths of the class used up: fall back to ascii */
            c = WC_ASCII;
            while (w->used[c][L] >= w->count[c][L])
                L++; /* 2^40 rows cannot exhaust 15-letter ascii words */
        }
    }
    uint64_t j = permute(w->used[c][L]++, w->count[c][L], w->key[c][L], w->bits[c][L]);

    char s[MAX_LEN];
    switch (c) {
    case WC_ASCII:
        alt_decode(s, L, j);
        memcpy(p, s, (size_t)L);
        return p + L;
    case WC_CYRILLIC:
        alt_decode(s, L, j);
        for (int i = 0; i < L; i++)
            p = put_str(p, CYR[s[i] - 'a']);
        return p;
    case WC_CJK:
        for (int i = 0; i < L; i++) {
            p = put_utf8(p, CJK_FIRST + (uint32_t)(j % CJK_COUNT));
            j /= CJK_COUNT;
        }
        return p;
    default: { /* WC_ACCENT: accent one letter; L >= 2 has a vowel */
        alt_decode(s, L, j);
        int first = -1, last = -1;
        for (int i = 0; i < L; i++) {
            if (strchr("aeioucn", s[i])) {
                if (first < 0)
                    first = i;
                last = i;
            }
        }
        int at = (j & 1) ? first : last; /* "ñoba" and "cafe" -> "café" */
        uint64_t v = j >> 1;
        for (int i = 0; i < L; i++) {
            if (i != at) {
                *p++ = s[i];
                continue;
            }
            const char *const *forms;
            size_t nf;
            switch (s[i]) {
            case 'a': forms = ACC_A; nf = sizeof ACC_A / sizeof *ACC_A; break;
            case 'e': forms = ACC_E; nf = sizeof ACC_E / sizeof *ACC_E; break;
            case 'i': forms = ACC_I; nf = sizeof ACC_I / sizeof *ACC_I; break;
            case 'o': forms = ACC_O; nf = sizeof ACC_O / sizeof *ACC_O; break;
            case 'u': forms = ACC_U; nf = sizeof ACC_U / sizeof *ACC_U; break;
            case 'c': forms = ACC_C; nf = 1; break;
            default:  forms = ACC_N; nf = 1; break;
            }
            p = put_str(p, forms[v % nf]);
        }
        return p;
    }
    }
}

/* ------------------------------------------------------------------ */
/* Output: large buffers written with write(2).                        */
/* The main output is double-buffered: a writer thread hands one buffer to
 * write(2) while the generator fills the other, so formatting overlaps the
 * kernel's copy into the page cache (which alone costs 0.3 to 1 s per GB
 * here).  The word list is small and written synchronously. */

typedef struct outbuf {
    int fd;              /* destination */
    const char *name;    /* for messages */
    char *buf;           /* the buffer being filled, cap bytes */
    size_t cap;          /* capacity of each buffer */
    size_t len;          /* bytes pending in buf */
    int async;           /* 1: a writer thread owns the fields below */
    char *spare;         /* the other buffer: free once wbuf is NULL */
    pthread_t th;        /* the writer */
    pthread_mutex_t mu;  /* guards wbuf, wlen, quit, werr */
    pthread_cond_t cv;   /* signalled on every change of wbuf or quit */
    char *wbuf;          /* buffer handed to the writer, NULL when idle */
    size_t wlen;         /* its length */
    int quit;            /* 1: the writer exits once idle */
    int werr;            /* errno of the first failed write, 0 if none */
} outbuf;

static _Noreturn void die_errno(int err, const char *what, const char *name)
{
    fprintf(stderr, PROG ": %s %s: %s\n", what, name, strerror(err));
    exit(1);
}

/* write(2) until done: 0, or the errno of the failure. */
static int write_all(int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    outbuf *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        while (!o->wbuf && !o->quit)
            pthread_cond_wait(&o->cv, &o->mu);
        if (!o->wbuf)
            break; /* quit, nothing pending */
        const char *b = o->wbuf;
        size_t n = o->wlen;
        int failed = o->werr != 0;
        pthread_mutex_unlock(&o->mu);
        int err = failed ? 0 : write_all(o->fd, b, n);
        pthread_mutex_lock(&o->mu);
        if (err)
            o->werr = err;
        o->wbuf = NULL;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, PROG ": out of memory (%zu bytes for an output buffer)\n", n);
        exit(1);
    }
    return p;
}

static void out_open(outbuf *o, const char *path, size_t cap, int async)
{
    memset(o, 0, sizeof *o);
    if (strcmp(path, "-") == 0) {
        o->fd = STDOUT_FILENO;
        o->name = "stdout";
    } else {
        o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o->fd < 0)
            die_errno(errno, "cannot create", path);
        o->name = path;
    }
    o->cap = cap;
    o->buf = xmalloc(cap);
    if (async) {
        o->spare = xmalloc(cap);
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv, NULL);
        int rc = pthread_create(&o->th, NULL, writer_main, o);
        if (rc != 0)
            die_errno(rc, "cannot start the writer thread for", o->name);
        o->async = 1;
    }
}

/* Hand buf to the writer (or write it here) and start on an empty buffer.
 * Waits while the writer is still busy with the previous block. */
static void out_flush(outbuf *o)
{
    if (!o->async) {
        int err = write_all(o->fd, o->buf, o->len);
        if (err)
            die_errno(err, "write", o->name);
        o->len = 0;
        return;
    }
    pthread_mutex_lock(&o->mu);
    while (o->wbuf)
        pthread_cond_wait(&o->cv, &o->mu);
    int err = o->werr;
    if (!err && o->len > 0) {
        o->wbuf = o->buf;
        o->wlen = o->len;
        o->buf = o->spare;
        o->spare = o->wbuf;
        pthread_cond_broadcast(&o->cv);
    }
    pthread_mutex_unlock(&o->mu);
    if (err)
        die_errno(err, "write", o->name);
    o->len = 0;
}

static void out_close(outbuf *o)
{
    out_flush(o);
    if (o->async) {
        pthread_mutex_lock(&o->mu);
        o->quit = 1;
        pthread_cond_broadcast(&o->cv);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->th, NULL); /* it finishes the pending block first */
        if (o->werr)
            die_errno(o->werr, "write", o->name);
        pthread_cond_destroy(&o->cv);
        pthread_mutex_destroy(&o->mu);
        free(o->spare);
    }
    if (o->fd != STDOUT_FILENO && close(o->fd) != 0)
        die_errno(errno, "close", o->name);
    free(o->buf);
    o->buf = NULL;
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    gen_opts o;
    parse_args(argc, argv, &o);
    p10_init();

    /* Values: drawn as text for 3 <= P <= 6, else drawn and formatted. */
    static qbin vals[NQ];
    static vfast vfast_table;
    vfast *vf = NULL;
    if (o.digits >= 3 && o.digits <= 6) {
        vf = &vfast_table;
        vfast_init(vf, o.digits, o.std);
    } else {
        qtable_init(vals, o.std);
    }
    static wordgen wg;
    wordgen_init(&wg, o.seed);
    rng vr;
    rng_seed(&vr, o.seed, 1);

    /* Worst case per row: 64 bytes of word, 1 + 32 per number (including
     * put_g's scratch), newline.  The buffer holds at least two rows. */
    size_t row_max = 64 + (size_t)o.dim * 33 + 2;
    size_t cap = (size_t)16 << 20;
    if (cap < 2 * row_max)
        cap = 2 * row_max;
    outbuf out, words;
    out_open(&out, o.out, cap, 1);
    if (o.words_out)
        out_open(&words, o.words_out, (size_t)1 << 20, 0);

    uint64_t step = 1, wanted = o.rows;
    if (o.sample) {
        step = o.sample >= o.rows ? 1 : o.rows / o.sample;
        wanted = o.sample < o.rows ? o.sample : o.rows;
    }
    uint64_t listed = 0;

    if (o.header)
        out.len += (size_t)snprintf(out.buf, out.cap, "%" PRIu64 " %u\n", o.rows, o.dim);

    const int P = o.digits;
    for (uint64_t i = 0; i < o.rows; i++) {
        if (out.cap - out.len < row_max)
            out_flush(&out);
        char *p = out.buf + out.len;
        char *w0 = p;
        p = put_word(&wg, p, i);
        if (o.words_out && listed < wanted && i % step == 0) {
            size_t n = (size_t)(p - w0);
            if (words.cap - words.len < n + 1)
                out_flush(&words);
            memcpy(words.buf + words.len, w0, n);
            words.buf[words.len + n] = '\n';
            words.len += n + 1;
            listed++;
        }
        if (vf) {
            for (uint32_t j = 0; j < o.dim; j++) {
                *p++ = ' ';
                p = put_fast(p, vf, &vr, P);
            }
        } else {
            /* One 64-bit draw gives two values. */
            uint32_t j = 0;
            for (; j + 2 <= o.dim; j += 2) {
                uint64_t r = rng_next(&vr);
                *p++ = ' ';
                p = put_g(p, qdraw(vals, (uint32_t)(r >> 32)), P);
                *p++ = ' ';
                p = put_g(p, qdraw(vals, (uint32_t)r), P);
            }
            if (j < o.dim) {
                uint64_t r = rng_next(&vr);
                *p++ = ' ';
                p = put_g(p, qdraw(vals, (uint32_t)(r >> 32)), P);
            }
        }
        *p++ = '\n';
        out.len = (size_t)(p - out.buf);
    }
    out_close(&out);
    if (o.words_out)
        out_close(&words);
    return 0;
}
