/*
 * reader.c — streaming readers for labelled text: TSV, fastText, CSV, and
 * plain lines (records to predict).
 * Contains: chunked input (line splitting without rescans), UTF-8 repair,
 * the three record parsers, the libcsv glue with line tracking.
 * Leaves out: tokenizing, label ids, splits (other modules); printing.
 *
 * Memory: the input buffer only grows to hold the longest line (TSV,
 * fastText) and doubles when it does, so a 100 MB line costs O(100 MB) time
 * and memory.  CSV input is fed to libcsv in pieces that end at each newline
 * (so the line counter is exact) and at most WB_RD_PIECE bytes long; before
 * each piece libcsv's growth step is raised to its current field size, which
 * turns its linear buffer growth into doubling.
 */
#include "wordbench/reader.h"
#include "wordbench/utf8.h"

#include <csv.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"

#define WB_RD_CHUNK (64u << 10)  /* bytes read per read() at least */
#define WB_RD_PIECE (1u << 20)   /* longest piece given to csv_parse at once */
#define RD_SKIP 1                /* internal: the record was skipped (skip_bad) */
#define ROLE_NONE (-1)
#define ROLE_LABEL (-2)
#define ROLE_ID (-3)
#define ROLE_FEAT0 (-1000)       /* feature k has role ROLE_FEAT0 - k */

/* A span of r->sb, or of r->in when in_input (text that was valid UTF-8 is
 * handed out in place, without a copy). */
typedef struct rd_piece { size_t off, len; int in_input; } rd_piece;

typedef struct rd {
    const char *fname;        /* file name for messages */
    int fd;                   /* input */
    int close_fd;             /* 1 when we opened fd */
    char *in;                 /* input buffer: [start, end) unread data */
    size_t cap, start, end;   /* buffer capacity and window */
    size_t scan;              /* where the newline search resumes (start <= scan <= end) */
    int eof;                  /* read() returned 0 */
    int in_place;             /* labels and text may be handed out inside r->in */
    long long line;           /* line number of the next line */
    const wb_reader_opts *o;  /* options (never NULL) */
    wb_read_stats *st;        /* stats (never NULL) */
    wb_err *err;              /* may be NULL */
    int (*cb)(void *, const wb_example *); /* user callback */
    void *ud;                 /* its argument */
    char *sb; size_t sblen, sbcap;          /* scratch: repaired texts and labels */
    rd_piece *tp; size_t ntp;               /* text pieces (ntp slots) */
    rd_piece *lp; size_t nlp, lpcap;        /* label pieces */
    wb_span *tspan;                         /* (ntp) */
    wb_span *lspan; size_t lspcap;          /* (lpcap) */
    double *feat; size_t nfeat;             /* features of the current record */
    rd_piece idp; int has_id;               /* CSV id_col field of the current record */
    /* CSV state */
    struct csv_parser csv;    /* libcsv parser */
    int csv_inited;           /* csv_init succeeded */
    int rc;                   /* first error or callback stop seen inside libcsv callbacks */
    int header_done;          /* header row seen */
    size_t ncols;             /* header field count */
    char **names;             /* (ncols) header names */
    size_t namescap;          /* allocated entries of names */
    int *role;                /* (ncols) role of each column */
    size_t nf;                /* fields seen in the current row */
    long long row_line;       /* line where the current row starts */
    long long field_line;     /* line where the last field ended */
    int have_text;            /* some text field of the row is non-blank */
    char bad[1024];           /* first per-record problem of the row, "" if none */
} rd;

/* ---- small helpers ---------------------------------------------------- */

static int rd_bad(rd *r, long long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A per-record error: skipped with skip_bad, else WB_EFORMAT at `line`. */
static int rd_bad(rd *r, long long line, const char *fmt, ...) {
    if (r->o->skip_bad) {
        r->st->skipped++;
        return RD_SKIP;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wb_err_at(r->err, WB_EFORMAT, r->fname, line, -1, "%s", msg);
}

/* Quote up to 40 bytes of s for a message (non-printing bytes as '?'). */
static const char *rd_show(char *buf, size_t bufn, const char *s, size_t n) {
    size_t k = 0, lim = n > 40 ? 40 : n;
    for (size_t i = 0; i < lim && k + 5 < bufn; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (n > lim && k + 4 < bufn) { memcpy(buf + k, "...", 3); k += 3; }
    buf[k] = 0;
    return buf;
}

static int is_ws(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int rd_sb_reserve(rd *r, size_t more) {
    if (r->sbcap - r->sblen >= more) return 0;
    size_t ncap = r->sbcap ? r->sbcap : 4096;
    while (ncap - r->sblen < more) {
        if (ncap > SIZE_MAX / 2) return WB_ENOMEM;
        ncap *= 2;
    }
    char *p = realloc(r->sb, ncap);
    if (!p) return WB_ENOMEM;
    r->sb = p;
    r->sbcap = ncap;
    return 0;
}

/* Append s[0..n) to r->sb with every invalid UTF-8 sequence (maximal
 * subpart, as in Unicode §3.9) replaced by U+FFFD, then a NUL.
 * *out gets the span (the NUL not counted). */
static int rd_append_utf8(rd *r, const char *s, size_t n, rd_piece *out) {
    if (n > (SIZE_MAX - 1) / 3) return WB_ENOMEM;
    int valid = wb_utf8_valid(s, n);
    int e = rd_sb_reserve(r, valid ? n + 1 : n * 3 + 1); /* worst case: every byte replaced */
    if (!e && valid) {
        memcpy(r->sb + r->sblen, s, n);
        r->sb[r->sblen + n] = 0;
        out->off = r->sblen;
        out->len = n;
        out->in_input = 0;
        r->sblen += n + 1;
        return 0;
    }
    if (e) return wb_err_set(r->err, WB_ENOMEM, "out of memory (%zu bytes of text)", n);
    const unsigned char *u = (const unsigned char *)s;
    unsigned char *d = (unsigned char *)r->sb + r->sblen;
    unsigned char *d0 = d;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs: find the next byte >= 0x80 eight bytes at a time, copy the run */
        size_t j = i;
        while (j + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + j, 8);
            if (w & 0x8080808080808080ull) break;
            j += 8;
        }
        while (j < n && u[j] < 0x80) j++;
        if (j > i) {
            memcpy(d, u + i, j - i);
            d += j - i;
            i = j;
            if (i == n) break;
        }
        int ok;
        size_t k = wb_utf8_seq(u + i, n - i, &ok);
        if (ok) {
            memcpy(d, u + i, k);
            d += k;
        } else {
            *d++ = 0xEF; *d++ = 0xBF; *d++ = 0xBD;
            r->st->invalid_utf8++;
        }
        i += k;
    }
    *d = 0;
    out->off = r->sblen;
    out->len = (size_t)(d - d0);
    out->in_input = 0;
    r->sblen += out->len + 1;
    return 0;
}

/* A piece of the current input line s[0..n): in place when valid UTF-8
 * (then s[n] is overwritten with NUL if `nul`; the caller guarantees s[n] is
 * inside the buffer and no longer needed), else a repaired copy in r->sb. */
static int rd_line_piece(rd *r, char *s, size_t n, int nul, rd_piece *out) {
    if (!wb_utf8_valid(s, n)) return rd_append_utf8(r, s, n, out);
    if (nul) s[n] = 0;
    out->off = (size_t)(s - r->in);
    out->len = n;
    out->in_input = 1;
    return 0;
}

static int rd_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_ws((unsigned char)s[i])) return 0;
    return 1;
}

static int rd_add_label(rd *r, const char *s, size_t n) {
    int in_line = r->in_place; /* TSV/fastText: s lies in the current line */
    if (r->nlp == r->lpcap) {
        size_t nc = r->lpcap ? r->lpcap * 2 : 8;
        rd_piece *p = realloc(r->lp, nc * sizeof *p);
        if (!p) return wb_err_set(r->err, WB_ENOMEM, "out of memory (labels)");
        r->lp = p;
        r->lpcap = nc;
    }
    rd_piece *pc = &r->lp[r->nlp++];
    if (in_line) return rd_line_piece(r, (char *)s, n, 0, pc);
    return rd_append_utf8(r, s, n, pc);
}

/* Split a label field by opts.label_sep (or keep it whole), trimming ASCII
 * whitespace around each piece and dropping empty ones. */
static int rd_add_label_field(rd *r, const char *s, size_t n) {
    const char *sep = r->o->label_sep;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        if (sep && *sep)
            while (j < n && !strchr(sep, s[j])) j++;
        else
            j = n;
        size_t a = i, b = j;
        while (a < b && is_ws((unsigned char)s[a])) a++;
        while (b > a && is_ws((unsigned char)s[b - 1])) b--;
        if (b > a) {
            int e = rd_add_label(r, s + a, b - a);
            if (e) return e;
        }
        i = j + 1;
    }
    return 0;
}

/* Python's text mode (universal newlines) inside a field: CR LF and a lone
 * CR become LF, in place (the span only shrinks); a NUL follows the new end
 * when `nul`.  A tokenizer then sees the same text as Keras' users, who read
 * their files with open(path) (Keras' filters split at '\n', not at '\r'). */
static size_t rd_newlines(char *p, size_t n, int nul) {
    char *cr = memchr(p, '\r', n);
    if (!cr) return n;
    char *w = cr, *end = p + n;
    for (const char *q = cr; q < end; q++) {
        if (*q != '\r') *w++ = *q;
        else {
            *w++ = '\n';
            if (q + 1 < end && q[1] == '\n') q++;
        }
    }
    if (nul) *w = 0;
    return (size_t)(w - p);
}

/* Hand the current record to the callback. */
static int rd_emit(rd *r, long long line) {
    if (r->lspcap < r->nlp) {
        wb_span *p = realloc(r->lspan, r->lpcap * sizeof *p);
        if (!p) return wb_err_set(r->err, WB_ENOMEM, "out of memory (labels)");
        r->lspan = p;
        r->lspcap = r->lpcap;
    }
    for (size_t i = 0; i < r->ntp; i++) {
        char *p = (r->tp[i].in_input ? r->in : r->sb) + r->tp[i].off;
        r->tspan[i].ptr = p;
        r->tspan[i].len = rd_newlines(p, r->tp[i].len, 1);
    }
    for (size_t i = 0; i < r->nlp; i++) {
        char *p = (r->lp[i].in_input ? r->in : r->sb) + r->lp[i].off;
        r->lspan[i].ptr = p;
        r->lspan[i].len = rd_newlines(p, r->lp[i].len, 0);
    }
    wb_example ex = {
        .line = line, .n_texts = r->ntp, .texts = r->tspan,
        .n_labels = r->nlp, .labels = r->lspan,
        .n_features = r->nfeat, .features = r->nfeat ? r->feat : NULL,
    };
    if (r->has_id) ex.id.ptr = r->sb + r->idp.off, ex.id.len = r->idp.len;
    r->st->records++;
    return r->cb(r->ud, &ex);
}

static void rd_record_reset(rd *r) {
    r->sblen = 0;
    r->nlp = 0;
}

/* ---- chunked input ---------------------------------------------------- */

/* Read more bytes at the end of the window, moving or growing the buffer.
 * Returns 0 (r->eof set at end of input) or an errno. */
static int rd_fill(rd *r) {
    if (r->start > 0) {
        size_t n = r->end - r->start;
        memmove(r->in, r->in + r->start, n);
        r->scan -= r->start;
        r->end = n;
        r->start = 0;
    }
    if (r->cap - r->end < WB_RD_CHUNK) {
        size_t nc = r->cap ? r->cap : WB_RD_CHUNK;
        while (nc - r->end < WB_RD_CHUNK) {
            if (nc > SIZE_MAX / 2) return ENOMEM;
            nc *= 2;
        }
        /* mmap + mremap: growing a long line's buffer moves page mappings
         * instead of copying (and faulting in) the bytes already read */
        char *p = r->in ? mremap(r->in, r->cap, nc, MREMAP_MAYMOVE)
                        : mmap(NULL, nc, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return ENOMEM;
        r->in = p;
        r->cap = nc;
    }
    for (;;) {
        ssize_t k = read(r->fd, r->in + r->end, r->cap - r->end);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return errno;
        if (k == 0) r->eof = 1;
        r->end += (size_t)k;
        r->st->bytes += (uint64_t)k;
        return 0;
    }
}

static int rd_io_err(rd *r, int e) {
    if (e == ENOMEM || e == 1) /* 1 (EPERM) would read as "got a line" in rd_getline */ return wb_err_at(r->err, e == 1 ? WB_EIO : WB_ENOMEM, r->fname, 0, -1,
                         e == 1 ? "read failed: %s" : "out of memory%s", e == 1 ? strerror(e) : "");
    return wb_err_at(r->err, e, r->fname, 0, -1, "read failed: %s", strerror(e));
}

/* Next line without its '\n' (and without a final '\r', counted).  Returns
 * 1 with *s, *n (valid until the next call), 0 at end of input, or an error
 * code (< 0 or errno > 1 is impossible to confuse: errors are returned as
 * negative WB codes via rd_io_err). */
static int rd_getline(rd *r, char **s, size_t *n, long long *lineno) {
    for (;;) {
        char *nl = r->scan < r->end ? memchr(r->in + r->scan, '\n', r->end - r->scan) : NULL;
        size_t lend;
        if (nl) {
            lend = (size_t)(nl - r->in);
            *s = r->in + r->start;
            *n = lend - r->start;
            r->start = r->scan = lend + 1;
        } else if (r->eof) {
            if (r->start == r->end) return 0;
            *s = r->in + r->start;
            *n = r->end - r->start;
            r->start = r->scan = r->end;
        } else {
            r->scan = r->end;
            int e = rd_fill(r);
            if (e) return rd_io_err(r, e);
            continue;
        }
        *lineno = r->line++;
        if (*n && (*s)[*n - 1] == '\r') {
            (*n)--;
            if (nl) r->st->crlf_lines++;
        }
        return 1;
    }
}

/* ---- TSV -------------------------------------------------------------- */

static int tsv_is_header_name(const char *s, size_t n) {
    static const char *const names[] = {"label", "labels", "class", "category", "target",
                                        "sentiment", "score", "tag", "tags", "y"};
    while (n && is_ws((unsigned char)*s)) { s++; n--; }
    while (n && is_ws((unsigned char)s[n - 1])) n--;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], s, n) == 0) return 1;
    return 0;
}

static int rd_tsv(rd *r) {
    char *s;
    size_t n;
    long long ln;
    int first = 1, rc;
    r->ntp = 1;
    while ((rc = rd_getline(r, &s, &n, &ln)) == 1) {
        if (rd_blank(s, n)) continue;
        char *tab = memrchr(s, '\t', n);
        if (first) {
            first = 0;
            if (r->o->tsv_header > 0 ||
                (r->o->tsv_header == 0 && tab && tsv_is_header_name(tab + 1, n - (size_t)(tab + 1 - s))))
                continue;
        }
        char show[64];
        if (!tab && r->o->unlabelled) { /* all text */
            rd_record_reset(r);
            if ((rc = rd_line_piece(r, s, n, 1, &r->tp[0]))) return rc;
            if ((rc = rd_emit(r, ln))) return rc;
            continue;
        }
        if (!tab) {
            rc = rd_bad(r, ln, "missing label: expected text<TAB>label, found no tab in '%s'",
                        rd_show(show, sizeof show, s, n));
            if (rc == RD_SKIP) continue;
            return rc;
        }
        size_t tn = (size_t)(tab - s);
        rd_record_reset(r);
        if ((rc = rd_add_label_field(r, tab + 1, n - tn - 1))) return rc;
        if (r->nlp == 0 && !r->o->unlabelled) {
            rc = rd_bad(r, ln, "missing label: expected a label after the tab, found nothing");
            if (rc == RD_SKIP) continue;
            return rc;
        }
        if (rd_blank(s, tn) && !r->o->unlabelled) {
            rc = rd_bad(r, ln, "empty text: expected text before the tab, found %s",
                        tn ? "only white space" : "nothing");
            if (rc == RD_SKIP) continue;
            return rc;
        }
        if ((rc = rd_line_piece(r, s, tn, 1, &r->tp[0]))) return rc; /* NUL over the tab */
        if ((rc = rd_emit(r, ln))) return rc;
    }
    return rc;
}

/* ---- fastText --------------------------------------------------------- */

static int ft_ws(unsigned char c) { return is_ws(c) || c == 0; }

static int rd_fasttext(rd *r) {
    const char *pre = r->o->label_prefix ? r->o->label_prefix : "__label__";
    size_t pn = strlen(pre);
    char *s;
    size_t n;
    long long ln;
    int rc;
    r->ntp = 1;
    while ((rc = rd_getline(r, &s, &n, &ln)) == 1) {
        if (rd_blank(s, n)) continue;
        rd_record_reset(r);
        size_t i = 0;
        int bad = 0;
        char show[64];
        for (;;) {
            while (i < n && ft_ws((unsigned char)s[i])) i++;
            if (i >= n || n - i < pn || memcmp(s + i, pre, pn) != 0) break;
            size_t j = i + pn;
            while (j < n && !ft_ws((unsigned char)s[j])) j++;
            if (j == i + pn) {
                rc = rd_bad(r, ln, "empty label: expected a name after '%s'", pre);
                bad = 1;
                break;
            }
            if ((rc = rd_add_label(r, s + i + pn, j - i - pn))) return rc;
            i = j;
        }
        if (!bad && r->nlp == 0 && !r->o->unlabelled) {
            rc = rd_bad(r, ln, "missing label: expected a first token starting with '%s', found '%s'",
                        pre, rd_show(show, sizeof show, s + i, n - i));
            bad = 1;
        }
        size_t e = n;
        while (e > i && ft_ws((unsigned char)s[e - 1])) e--;
        if (!bad && e == i && !r->o->unlabelled) {
            rc = rd_bad(r, ln, "empty text: expected text after the labels, found nothing");
            bad = 1;
        }
        if (bad) {
            if (rc == RD_SKIP) continue;
            return rc;
        }
        /* s[e] is white space, the line's '\r' or '\n', or just past the data
         * (rd_fill always leaves room): writable and no longer needed */
        if ((rc = rd_line_piece(r, s + i, e - i, 1, &r->tp[0]))) return rc;
        if ((rc = rd_emit(r, ln))) return rc;
    }
    return rc;
}

/* ---- plain lines -------------------------------------------------------- */

static int rd_lines(rd *r) {
    char *s;
    size_t n;
    long long ln;
    int rc;
    r->ntp = 1;
    while ((rc = rd_getline(r, &s, &n, &ln)) == 1) {
        rd_record_reset(r);
        if ((rc = rd_line_piece(r, s, n, 1, &r->tp[0]))) return rc;
        if ((rc = rd_emit(r, ln))) return rc;
    }
    return rc;
}

/* ---- CSV -------------------------------------------------------------- */

static int csv_never_space(unsigned char c) { (void)c; return 0; }

/* Set the roles of the header's columns; error lists the columns present. */
static int csv_header(rd *r) {
    const wb_reader_opts *o = r->o;
    static const char *const def_text[] = {"text"};
    const char *const *tc = o->text_cols ? o->text_cols : def_text;
    size_t ntc = o->text_cols ? o->n_text_cols : 1;
    const char *lc = o->label_col ? o->label_col : "label";
    r->role = malloc((r->ncols ? r->ncols : 1) * sizeof *r->role);
    if (!r->role) return wb_err_set(r->err, WB_ENOMEM, "out of memory");
    for (size_t c = 0; c < r->ncols; c++) r->role[c] = ROLE_NONE;
    size_t nreq = ntc + 1 + o->n_feature_cols + (o->id_col ? 1 : 0);
    for (size_t q = 0; q < nreq; q++) {
        const char *want;
        int role;
        const char *what;
        if (q < ntc) { want = tc[q]; role = (int)q; what = "text"; }
        else if (q == ntc) { want = lc; role = ROLE_LABEL; what = "label"; }
        else if (q == nreq - 1 && o->id_col) { want = o->id_col; role = ROLE_ID; what = "id"; }
        else { want = o->feature_cols[q - ntc - 1]; role = ROLE_FEAT0 - (int)(q - ntc - 1); what = "feature"; }
        size_t c = 0;
        while (c < r->ncols && strcmp(r->names[c], want) != 0) c++;
        if (c == r->ncols && role == ROLE_LABEL && o->unlabelled) continue; /* nothing to learn from: fine */
        if (c == r->ncols) {
            char list[700];
            size_t k = 0;
            list[0] = 0;
            for (size_t i = 0; i < r->ncols && k < sizeof list - 8; i++) {
                int w = snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", r->names[i]);
                if (w < 0) break;
                k += (size_t)w;
            }
            if (k >= sizeof list - 8) memcpy(list + sizeof list - 8, "...", 4);
            return wb_err_at(r->err, WB_EFORMAT, r->fname, r->row_line, -1,
                             "the header has no %s column '%s'; columns: %s", what, want, list);
        }
        if (r->role[c] != ROLE_NONE)
            return wb_err_at(r->err, WB_EUSAGE, r->fname, r->row_line, -1,
                             "column '%s' is given two roles (text, label, feature or id)", want);
        r->role[c] = role;
    }
    r->ntp = ntc;
    r->nfeat = o->n_feature_cols;
    if (r->nfeat && !(r->feat = calloc(r->nfeat, sizeof *r->feat)))
        return wb_err_set(r->err, WB_ENOMEM, "out of memory");
    return 0;
}

static void csv_field(void *s, size_t len, void *ud) {
    rd *r = ud;
    if (r->rc) return;
    r->field_line = r->line;
    if (!r->header_done) {
        if (r->ncols == r->namescap) {
            size_t nc = r->namescap ? r->namescap * 2 : 16;
            char **p = realloc(r->names, nc * sizeof *p);
            if (!p) { r->rc = wb_err_set(r->err, WB_ENOMEM, "out of memory"); return; }
            r->names = p;
            r->namescap = nc;
        }
        char *nm = malloc(len + 1);
        if (!nm) { r->rc = wb_err_set(r->err, WB_ENOMEM, "out of memory"); return; }
        if (len) memcpy(nm, s, len);
        nm[len] = 0;
        r->names[r->ncols++] = nm;
        return;
    }
    size_t c = r->nf++;
    if (c == 0) {
        rd_record_reset(r);
        r->have_text = 0;
        r->has_id = 0;
        r->bad[0] = 0;
    }
    if (c >= r->ncols || r->bad[0]) return;
    int role = r->role[c];
    const char *f = s ? s : "";
    int e = 0;
    if (role >= 0) {
        e = rd_append_utf8(r, f, len, &r->tp[role]);
        if (!rd_blank(f, len)) r->have_text = 1;
    } else if (role == ROLE_LABEL) {
        e = rd_add_label_field(r, f, len);
    } else if (role == ROLE_ID) {
        e = rd_append_utf8(r, f, len, &r->idp);
        r->has_id = !e;
    } else if (role <= ROLE_FEAT0) {
        size_t k = (size_t)(ROLE_FEAT0 - role);
        char *end;
        errno = 0;
        double v = len ? strtod(f, &end) : 0.0;
        if (len) while (end < f + len && is_ws((unsigned char)*end)) end++;
        if (!len || end != f + len || !isfinite(v) || rd_blank(f, len)) {
            char show[64];
            snprintf(r->bad, sizeof r->bad, "column '%s': expected a number, found '%s'",
                     r->names[c], rd_show(show, sizeof show, f, len));
        } else {
            r->feat[k] = v;
        }
    }
    if (e) r->rc = e;
}

static void csv_row(int term, void *ud) {
    rd *r = ud;
    (void)term;
    if (r->rc) return;
    if (!r->header_done) {
        r->header_done = 1;
        r->rc = csv_header(r);
        return;
    }
    size_t nf = r->nf;
    r->nf = 0;
    int rc = 0;
    if (nf != r->ncols) {
        rc = rd_bad(r, r->row_line, "ragged row: expected %zu fields (as in the header), found %zu",
                    r->ncols, nf);
    } else if (r->bad[0]) {
        rc = rd_bad(r, r->row_line, "%s", r->bad);
    } else if (r->nlp == 0 && !r->o->unlabelled) {
        rc = rd_bad(r, r->row_line, "missing label: column '%s' is empty",
                    r->o->label_col ? r->o->label_col : "label");
    } else if (!r->have_text && !r->o->unlabelled) {
        if (r->ntp > 1)
            rc = rd_bad(r, r->row_line, "empty text: expected text, found all %zu text columns empty",
                        r->ntp);
        else
            rc = rd_bad(r, r->row_line, "empty text: expected text, found column '%s' empty",
                        r->o->text_cols ? r->o->text_cols[0] : "text");
    } else {
        rc = rd_emit(r, r->row_line);
        if (!rc) return;
        /* a callback's 0 stays 0; anything else (including 1) stops */
        r->rc = rc;
        return;
    }
    if (rc != RD_SKIP) r->rc = rc;
}

static int csv_parse_error(rd *r) {
    int ce = csv_error(&r->csv);
    if (ce == CSV_ENOMEM || ce == CSV_ETOOBIG)
        return wb_err_at(r->err, WB_ENOMEM, r->fname, r->line, -1, "out of memory (%s)", csv_strerror(ce));
    return wb_err_at(r->err, WB_EFORMAT, r->fname, r->line, -1,
                     "CSV syntax error: expected a quote only at the start of a field and a "
                     "delimiter or line end right after a closing quote (write quotes inside "
                     "quoted fields as \"\")");
}

static int rd_csv(rd *r) {
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL))
        return wb_err_set(r->err, WB_ENOMEM, "out of memory (libcsv)");
    r->csv_inited = 1;
    csv_set_space_func(&r->csv, csv_never_space);
    r->tp = NULL;
    /* text slots are allocated once the header is known: reserve generously */
    size_t ntc = r->o->text_cols ? r->o->n_text_cols : 1;
    r->tp = calloc(ntc ? ntc : 1, sizeof *r->tp);
    r->tspan = calloc(ntc ? ntc : 1, sizeof *r->tspan);
    if (!r->tp || !r->tspan) return wb_err_set(r->err, WB_ENOMEM, "out of memory");
    int prev_cr = 0;
    r->row_line = 1;
    for (;;) {
        if (r->start == r->end) {
            if (r->eof) break;
            r->scan = r->start;
            int e = rd_fill(r);
            if (e) return rd_io_err(r, e);
            continue;
        }
        size_t avail = r->end - r->start;
        if (avail > WB_RD_PIECE) avail = WB_RD_PIECE;
        const char *p = r->in + r->start;
        const char *nl = memchr(p, '\n', avail);
        size_t len = nl ? (size_t)(nl - p) + 1 : avail;
        if (r->csv.pstate == 0) r->row_line = r->line; /* 0 = libcsv's ROW_NOT_BEGUN */
        csv_set_blk_size(&r->csv, r->csv.entry_size < 65536 ? 65536 : r->csv.entry_size);
        size_t done = csv_parse(&r->csv, p, len, csv_field, csv_row, r);
        if (r->rc) return r->rc;
        if (done != len) return csv_parse_error(r);
        if (nl) {
            if ((len >= 2 && p[len - 2] == '\r') || (len == 1 && prev_cr)) r->st->crlf_lines++;
            r->line++;
        }
        prev_cr = p[len - 1] == '\r';
        r->start += len;
    }
    if (r->csv.pstate == 0) r->row_line = r->line;
    if (csv_fini(&r->csv, csv_field, csv_row, r) != 0) {
        if (r->rc) return r->rc;
        if (csv_error(&r->csv) == CSV_EPARSE) {
            long long at = r->nf ? r->field_line : r->row_line;
            return wb_err_at(r->err, WB_EFORMAT, r->fname, at, -1,
                             "unterminated quote: a quoted field opened here (record from line %lld) "
                             "is still open at end of file; expected a closing '\"'",
                             r->row_line);
        }
        return csv_parse_error(r);
    }
    if (r->rc) return r->rc;
    if (!r->header_done)
        return wb_err_at(r->err, WB_EFORMAT, r->fname, 1, -1,
                         "expected a header row naming the columns, found an empty file");
    return 0;
}

/* ---- driver ----------------------------------------------------------- */

const char *wb_reader_format_name(wb_reader_format f) {
    switch (f) {
    case WB_READER_TSV: return "tsv";
    case WB_READER_FASTTEXT: return "fasttext";
    case WB_READER_CSV: return "csv";
    case WB_READER_LINES: return "lines";
    default: return "auto";
    }
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

static wb_reader_format rd_detect(rd *r, const char *path) {
    if (ends_with(path, ".csv")) return WB_READER_CSV;
    if (ends_with(path, ".tsv")) return WB_READER_TSV;
    const char *pre = r->o->label_prefix ? r->o->label_prefix : "__label__";
    const char *p = r->in + r->start;
    size_t n = r->end - r->start;
    const char *nl = memchr(p, '\n', n);
    if (nl) n = (size_t)(nl - p);
    size_t pn = strlen(pre);
    if (n >= pn && memcmp(p, pre, pn) == 0) return WB_READER_FASTTEXT;
    if (memchr(p, '\t', n)) return WB_READER_TSV;
    return WB_READER_FASTTEXT;
}

static int rd_check_opts(const wb_reader_opts *o, wb_err *err) {
    if (o->format < WB_READER_AUTO || o->format > WB_READER_LINES)
        return wb_err_set(err, WB_EUSAGE, "unknown reader format %d", (int)o->format);
    if (o->label_prefix && !*o->label_prefix)
        return wb_err_set(err, WB_EUSAGE, "the label prefix must not be empty");
    if (o->text_cols && o->n_text_cols == 0)
        return wb_err_set(err, WB_EUSAGE, "text_cols given but n_text_cols is 0");
    if (o->text_cols)
        for (size_t i = 0; i < o->n_text_cols; i++)
            if (!o->text_cols[i] || !*o->text_cols[i])
                return wb_err_set(err, WB_EUSAGE, "text column %zu has no name", i + 1);
    if (o->label_col && !*o->label_col)
        return wb_err_set(err, WB_EUSAGE, "the label column has no name");
    if (o->id_col && !*o->id_col)
        return wb_err_set(err, WB_EUSAGE, "the id column has no name");
    if (o->n_feature_cols && !o->feature_cols)
        return wb_err_set(err, WB_EUSAGE, "n_feature_cols given without feature_cols");
    for (size_t i = 0; i < o->n_feature_cols; i++)
        if (!o->feature_cols[i] || !*o->feature_cols[i])
            return wb_err_set(err, WB_EUSAGE, "feature column %zu has no name", i + 1);
    return 0;
}

/* A directory holding a store's vectors.npy. */
static int rd_is_store(const char *dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s/vectors.npy", dir);
    return access(p, F_OK) == 0;
}

int wb_reader_read(const char *path, const wb_reader_opts *o,
                   int (*on_example)(void *ud, const wb_example *ex), void *ud,
                   wb_read_stats *stats, wb_err *err) {
    static const wb_reader_opts defaults;
    wb_read_stats dummy;
    if (!o) o = &defaults;
    if (!stats) stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!path || !on_example) return wb_err_set(err, WB_EUSAGE, "path and callback are required");
    int rc = rd_check_opts(o, err);
    if (rc) return rc;

    rd r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.st = stats;
    r.err = err;
    r.cb = on_example;
    r.ud = ud;
    r.line = 1;
    int is_stdin = strcmp(path, "-") == 0;
    r.fname = is_stdin ? "<stdin>" : path;
    if (is_stdin) {
        r.fd = 0;
    } else {
        r.fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r.fd < 0) {
            int e = errno;
            return wb_err_at(err, e, path, 0, -1, "cannot open: %s", strerror(e));
        }
        r.close_fd = 1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (r.close_fd) (void)posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    if (r.close_fd) {
        struct stat sb;
        if (!fstat(r.fd, &sb) && S_ISDIR(sb.st_mode)) {
            rc = wb_err_at(err, WB_EFORMAT, path, 0, -1, "a directory, not a text file%s",
                           rd_is_store(path) ? " (a store made by 'wordbench convert'?)" : "");
            goto done;
        }
    }
    /* Prime the buffer (enough for the BOM, format detection and a look at
     * what the file is; a terminal or pipe gives what it has). */
    while (!r.eof && r.end < 64) {
        int e = rd_fill(&r);
        if (e) { rc = rd_io_err(&r, e); goto done; }
        if (!r.close_fd) break;
    }
    const char *kind = wb_file_kind(r.in, r.end);
    if (kind || memchr(r.in, 0, r.end < 4096 ? r.end : 4096)) {
        rc = wb_err_at(err, WB_EFORMAT, r.fname, 0, -1, "%s, not text%s", kind ? kind : "binary data (NUL bytes)",
                       !kind ? "" : !strcmp(kind, "gzip-compressed data") ? ": decompress it first (zcat)"
                       : !strcmp(kind, "a wordbench model file") ? " (eval, predict and summary take it as MODEL)" : "");
        goto done;
    }
    if (r.end >= 3 && memcmp(r.in, "\xEF\xBB\xBF", 3) == 0) r.start = r.scan = 3;

    wb_reader_format f = o->format;
    if (f == WB_READER_AUTO) f = rd_detect(&r, path);
    stats->format = f;
    if (f != WB_READER_CSV) {
        r.in_place = 1;
        r.tp = calloc(1, sizeof *r.tp);
        r.tspan = calloc(1, sizeof *r.tspan);
        if (!r.tp || !r.tspan) { rc = wb_err_set(err, WB_ENOMEM, "out of memory"); goto done; }
    }
    if (f == WB_READER_TSV) rc = rd_tsv(&r);
    else if (f == WB_READER_FASTTEXT) rc = rd_fasttext(&r);
    else if (f == WB_READER_LINES) rc = rd_lines(&r);
    else rc = rd_csv(&r);

done:
    if (r.csv_inited) csv_free(&r.csv);
    for (size_t i = 0; i < r.ncols; i++) free(r.names[i]);
    free(r.names);
    free(r.role);
    free(r.feat);
    if (r.in) munmap(r.in, r.cap);
    free(r.sb);
    free(r.tp);
    free(r.lp);
    free(r.tspan);
    free(r.lspan);
    if (r.close_fd) close(r.fd);
    return rc;
}
