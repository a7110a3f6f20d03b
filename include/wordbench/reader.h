/*
 * wordbench/reader.h — stream labelled text examples from TSV, fastText or
 * CSV files.
 *
 * One call, wb_reader_read(), reads a whole file (or stdin) and hands each
 * record to a callback as a wb_example: the line the record starts on, its
 * text field(s), its labels and its numeric features.  Input is read in
 * chunks, never slurped: memory is proportional to the longest record, and
 * the work is linear in the input (a 100 MB one-line document is fine).
 *
 * Formats
 *   TSV       `text<TAB>label` per line.  The label is everything after the
 *             LAST tab (so the text may contain tabs).  An optional header
 *             line is detected (see wb_reader_opts.tsv_header) or forced.
 *   fastText  `__label__a __label__b text...`: the leading whitespace-
 *             separated tokens that start with the prefix are the labels
 *             (handed out WITHOUT the prefix); the text is the rest of the
 *             line from its first non-label token.  A prefixed token after
 *             the text starts is part of the text.
 *   lines     Plain text to predict: every line is one record's text, with no
 *             labels; a blank line is an empty record (not skipped).
 *   CSV       RFC 4180 through libcsv (strict mode): a header row names the
 *             columns; quoted fields may hold commas, quotes ("") and
 *             newlines.  Fields are taken verbatim (no space trimming).
 *             The options pick the text column(s), the label column and the
 *             numeric feature columns by name; other columns are ignored.
 *   All formats: a UTF-8 byte-order mark at the start is skipped, CRLF line
 *   ends are accepted (and counted), blank lines of TSV and fastText files
 *   and blank lines between CSV rows are ignored.  Inside text fields and
 *   labels, CR LF and a lone CR become LF, as Python's text mode
 *   (universal newlines) reads them: Keras users read their files that
 *   way, and an e-mail with CRLF inside a quoted CSV field then gives the
 *   tokens `com`, not `com\r`.
 *
 * Text and labels
 *   Every text field and label handed out is valid UTF-8: each invalid
 *   sequence is replaced by U+FFFD and counted in wb_read_stats.invalid_utf8.
 *   Text fields are also NUL-terminated (the NUL is not counted in len).
 *   A record whose text fields are all empty (or only whitespace) is an
 *   error, as is a record without any label.
 *
 * Errors (WB_EFORMAT, with err->file = the path ("<stdin>" for "-") and
 * err->line = the line where the offending record starts, or for CSV syntax
 * errors the line where the parser stopped):
 *   - TSV line without a tab, or with an empty label;
 *   - fastText line with no prefixed token first (or an empty label
 *     `__label__` on its own);
 *   - empty text;
 *   - CSV row with a different number of fields than the header;
 *   - CSV quoting error, and an unterminated quote at end of file;
 *   - CSV header missing a requested column (the message lists the columns
 *     that exist);
 *   - a feature column whose field is not a finite number.
 * With opts.skip_bad, per-record errors (missing label, empty text, ragged
 * row, bad number) skip the record and count it in stats.skipped instead;
 * syntax errors, missing columns and I/O errors always stop the read.
 *
 * Not here: tokenizing (tokenizer module), label ids and tasks (vocab),
 * splits, and any printing.
 *
 * Threads: wb_reader_read keeps all its state on the stack and heap of the
 * call; concurrent calls are independent.
 */
#ifndef WORDBENCH_READER_H
#define WORDBENCH_READER_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Input format. */
typedef enum wb_reader_format {
    WB_READER_AUTO = 0, /* by name: *.csv → CSV, *.tsv → TSV; otherwise the first
                           line decides: starts with the label prefix → fastText,
                           holds a tab → TSV, else fastText */
    WB_READER_TSV,
    WB_READER_FASTTEXT,
    WB_READER_CSV,
    WB_READER_LINES     /* plain text, one record per line, no labels (blank lines are
                           empty records); never chosen by AUTO */
} wb_reader_format;

/* Reader options.  All-zero (`wb_reader_opts o = {0};`) is a valid default:
 * auto-detected format and TSV header, prefix "__label__", CSV text column
 * "text" and label column "label", one label per record, no features. */
typedef struct wb_reader_opts {
    wb_reader_format format;           /* WB_READER_AUTO or a forced format */
    int tsv_header;                    /* TSV: -1 no header, 1 first line is a header,
                                          0 auto: a header when the first line's label
                                          field is one of label, labels, class, category,
                                          target, sentiment, score, tag, tags, y
                                          (ASCII case-insensitive) */
    const char *label_prefix;          /* fastText label prefix; NULL = "__label__" */
    const char *const *text_cols;      /* CSV: names of the text columns, in the order
                                          handed out; NULL = { "text" } */
    size_t n_text_cols;                /* entries in text_cols (ignored when NULL) */
    const char *label_col;             /* CSV: label column name; NULL = "label" */
    const char *label_sep;             /* TSV and CSV: if not NULL and not "", the label
                                          field is split at any of these bytes (empty
                                          pieces dropped), e.g. " " for tag lists;
                                          NULL = the whole field is one label */
    const char *const *feature_cols;   /* CSV: numeric feature columns, in order */
    size_t n_feature_cols;             /* entries in feature_cols */
    int skip_bad;                      /* 1 = skip and count records with per-record errors */
    int unlabelled;                    /* 1 = records to predict, not to learn from: a record
                                          without labels is handed out with n_labels 0 (TSV: a
                                          line without a tab is all text; CSV: the label column
                                          may be absent), and so is a record with an empty text */
    const char *id_col;                /* CSV: a column handed out as wb_example.id (an
                                          identifier passed through to the output); NULL = none */
} wb_reader_opts;

/* A run of bytes (not owned by the receiver). */
typedef struct wb_span {
    const char *ptr;                   /* first byte */
    size_t len;                        /* number of bytes */
} wb_span;

/* One record.  Everything it points to is borrowed and valid only during the
 * callback; copy what must outlive it. */
typedef struct wb_example {
    long long line;                    /* 1-based line where the record starts */
    size_t n_texts;                    /* text fields: 1 for TSV/fastText, n_text_cols for CSV */
    const wb_span *texts;              /* (n_texts) valid UTF-8, each NUL-terminated */
    size_t n_labels;                   /* >= 1 (0 possible with opts.unlabelled) */
    const wb_span *labels;             /* (n_labels) valid UTF-8, in file order, not
                                          NUL-terminated; duplicates are kept */
    size_t n_features;                 /* n_feature_cols (0 unless CSV) */
    const double *features;            /* (n_features) finite values, in option order */
    wb_span id;                        /* the id_col field (valid UTF-8, NUL-terminated);
                                          ptr NULL without id_col */
} wb_example;

/* Counters of one read.  Filled on success and on failure (as far as read). */
typedef struct wb_read_stats {
    uint64_t records;                  /* examples handed to the callback */
    uint64_t skipped;                  /* records dropped by skip_bad */
    uint64_t invalid_utf8;             /* invalid UTF-8 sequences replaced by U+FFFD */
    uint64_t crlf_lines;               /* lines that ended in CR LF */
    uint64_t bytes;                    /* input bytes read */
    wb_reader_format format;           /* the format actually read */
} wb_read_stats;

/* Read `path` ("-" = stdin) and call on_example(ud, ex) for every record in
 * file order.  `o` may be NULL (all defaults).  `stats` and `err` may be NULL.
 * Returns 0 at end of input; the callback's value if it returns non-zero (the
 * read stops there, returned as is); WB_EFORMAT (err names file and line);
 * WB_EUSAGE for invalid options (e.g. an empty column name, a column given two
 * roles); WB_ENOMEM; or a positive errno from open/read (err names the file). */
int wb_reader_read(const char *path, const wb_reader_opts *o,
                   int (*on_example)(void *ud, const wb_example *ex), void *ud,
                   wb_read_stats *stats, wb_err *err);

/* Name of a format: "auto", "tsv", "fasttext", "csv", "lines". */
const char *wb_reader_format_name(wb_reader_format f);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_READER_H */
