/*
 * wordbench/triallog.h — the trial log of a search: RUN_DIR/trials.jsonl
 * (and, on Slurm, one RUN_DIR/tasks/trial-<I>.jsonl per array task), one
 * JSON object per finished trial, appended whole.
 *
 * A line (keys in this order; numbers as %.17g so that a value read back
 * is the value written, NaN and Inf as null):
 *   {"plan": "<16 hex>", "trial": T, "config": C, "outer": O, "inner": I,
 *    "refit": false, "n_train": N, "n_test": N, "acc": x, "f1": x,
 *    "p@1": x, "auc": x, "loss": x, "precision": x, "recall": x,
 *    "epochs": E, "train_s": x, "wall_s": x, "examples_per_s": x,
 *    "history": [[epoch, loss, acc, val_loss, val_acc, seconds], ...],
 *    "check": "<16 hex>"}
 * "check" is XXH3-64 of the line's bytes before ", \"check\"".  val_loss and
 * val_acc are null for an epoch without validation.
 *
 * Appending (wb_triallog_append): the file is opened O_APPEND and locked
 * (flock) for the duration; if it does not end with a newline, the partial
 * last line is cut off (under the lock no writer can be in the middle of
 * it: its writer died, e.g. kill -9, and its trial runs again); then the
 * line goes out in one write, then fdatasync.  So concurrent workers never
 * interleave, a crash leaves at most one partial line, and the next append
 * removes it.
 *
 * Reading (wb_triallog_read): a line that is not a whole checked record —
 * no newline at the end of the file, a checksum that does not match, JSON
 * that does not parse — is skipped and counted (torn: the last line;
 * damaged: any other); the trial it held runs again.  A line whose checksum
 * matches but whose content is inconsistent (another plan's id, a trial
 * index out of range, fields that contradict the plan) is an error naming
 * file:line: such a line was not torn, it was written for another search.
 * The first record of a trial wins; the refit trial is the exception (the
 * last record wins, since re-running a search may refit a new best).
 *
 * Not here: compaction, locking across machines other than what flock
 * gives on the shared file system (each Slurm task writes its own file).
 */
#ifndef WORDBENCH_TRIALLOG_H
#define WORDBENCH_TRIALLOG_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The line of r (with its '\n') into a malloc'ed string *line of *len
 * bytes.  Returns 0 or WB_ENOMEM. */
int wb_triallog_format(const wb_trial_result *r, uint64_t plan_id, char **line, size_t *len);

/* Parse one line (without or with its '\n') into *r (history owned: free
 * with wb_trial_result_free), *plan_id from "plan".  Returns 0, or
 * WB_EFORMAT with e->offset the byte offset in the line and a message
 * ("checksum mismatch", "missing \"trial\"", ...).  Checks only the line
 * itself (the plan is wb_triallog_read's business). */
int wb_triallog_parse(const char *line, size_t len, wb_trial_result *r, uint64_t *plan_id, wb_err *e);

/* Append r's line to path (file comment).  Returns 0 or errno (e names the
 * file). */
int wb_triallog_append(const char *path, const wb_trial_result *r, uint64_t plan_id, wb_err *e);

/* What reading found. */
typedef struct wb_triallog_stats {
    size_t lines;            /* lines read (all files) */
    size_t records;          /* well-formed records for this plan */
    size_t torn;             /* unfinished last lines (skipped) */
    size_t damaged;          /* other unreadable lines (skipped) */
    size_t duplicates;       /* records of a trial that already had one */
    char first_damaged[600]; /* "file:line" of the first damaged line, "" when none */
} wb_triallog_stats;

/* Read path (a missing file is no error: nothing read) into res[0..n) (n
 * = wb_plan_ntrials(p)), indexed by trial; a slot that is NULL gets a
 * malloc'ed result, a filled one is kept (first wins, but see the refit
 * above).  Stats are added to *st.  Returns 0, WB_EFORMAT (a checked line
 * inconsistent with the plan: file:line), errno, WB_ENOMEM. */
int wb_triallog_read(const char *path, const wb_plan *p, wb_trial_result **res, wb_triallog_stats *st, wb_err *e);

/* Every log of a search directory: RUN_DIR/trials.jsonl, then
 * RUN_DIR/tasks/ *.jsonl in name order.  Same results as wb_triallog_read. */
int wb_triallog_read_dir(const char *dir, const wb_plan *p, wb_trial_result **res, wb_triallog_stats *st, wb_err *e);

/* Free every result of res[0..n) and set the slots to NULL. */
void wb_triallog_results_free(wb_trial_result **res, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_TRIALLOG_H */
