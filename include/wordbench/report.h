/*
 * wordbench/report.h — one self-contained HTML page about one or more
 * models (and search runs): inline CSS and SVG (svg.h), no script, no
 * font, nothing fetched, so the file can be mailed or archived as is.
 *
 * For every model added, the page shows:
 *   - the figures of metrics.h on the labelled examples given (a table per
 *     model, and a compare table when there are several);
 *   - learning curves: training and validation loss and accuracy (P@1 for
 *     multi-label) per epoch from the history the model file carries, one
 *     line per model (validation solid, training dashed);
 *   - the confusion matrix as a heat map (rows: true label, columns:
 *     prediction; metrics.h says what a cell counts for each task), limited
 *     to the top_classes labels by support, with an "other" column for
 *     predictions outside them;
 *   - the per-class table (precision, recall, F1, support), best supported
 *     first;
 *   - the most confident errors (binary: the decision at the threshold is
 *     wrong; multiclass: the top label is wrong; multi-label: the top label
 *     is none of the true ones), highest probability of the wrong label
 *     first, each with the tokens that pushed towards it highlighted
 *     (explain.h);
 *   - the configuration: model, optimizer, preprocessing options, labels,
 *     the store fingerprint, the model file's checksum, the data set's hash
 *     when the model file records it, the evaluation file.
 *
 * Ownership: bundles and labelled examples are borrowed until
 * wb_report_destroy; everything computed is the report's.
 *
 * Deliberately not here: opening model files (the caller loads models and
 * data), PNG output, JavaScript.
 */
#ifndef WORDBENCH_REPORT_H
#define WORDBENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "wordbench/bundle.h"
#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_report_opts {
    const char *title;          /* page title; NULL = "wordbench report" */
    const char *generator;      /* "wordbench 0.1" shown in the footer, or NULL */
    size_t top_classes;         /* labels of the heat map (default 20) */
    size_t errors;              /* errors shown per model (default 20) */
    size_t k;                   /* k of P@k, R@k (default 1) */
    float threshold;            /* NaN (default): each model's own (bundle.h: tuned, else 0.5) */
    size_t batch;               /* examples per forward pass, <= the bundles' max batch (default 64) */
} wb_report_opts;

void wb_report_opts_init(wb_report_opts *o);

typedef struct wb_report wb_report;

/* An empty report.  Returns 0 or WB_ENOMEM. */
int wb_report_create(wb_report **out, const wb_report_opts *o, wb_err *e);

/* Release everything; NULL is a no-op. */
void wb_report_destroy(wb_report *r);

/* Add a model: `path` its file (shown, and its checksum read from it), b
 * the loaded bundle with its store attached, data (may be NULL: no
 * evaluation sections) labelled examples read by wb_bundle_read with
 * keep_text (for the errors), data_path shown for them.  The evaluation
 * runs now: inference, figures, the errors' explanations.  Returns 0, the
 * model's errors, WB_ENOMEM, errno (reading path). */
int wb_report_add_model(wb_report *r, const char *path, wb_bundle *b, const wb_labelled *data, const char *data_path,
                        wb_err *e);

/* Add a search run (search.h): RUN_DIR's plan.json and trial logs, read
 * now.  The page shows, per run: what was searched (grid or random, the
 * validation, trials done), the results table of wb_search_table (the best
 * row marked), the learning curves of the best configurations (the mean
 * over their outer folds, epoch by epoch), the nested estimate, the fixed
 * part of the command and what reading the log skipped.  Returns 0, ENOENT
 * (no plan.json), wb_plan_load's and wb_triallog_read_dir's errors,
 * WB_ENOMEM. */
int wb_report_add_run(wb_report *r, const char *dir, wb_err *e);

/* Write the page to f.  Returns 0, or EIO when writing failed. */
int wb_report_write(const wb_report *r, FILE *f, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_REPORT_H */
