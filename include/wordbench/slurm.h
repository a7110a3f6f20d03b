/*
 * wordbench/slurm.h — a search's trials as Slurm jobs: one `sbatch --array`
 * job whose task j runs `wordbench search --trial I RUN_DIR` for the j-th
 * trial of a list fixed in RUN_DIR before submission, and, for the refit,
 * one more job that starts when the array has ended (--dependency=afterany)
 * and runs the refit trial.  Each task appends its result to its own log,
 * RUN_DIR/tasks/trial-<I>.jsonl (triallog.h); `wordbench search --collect
 * RUN_DIR`, or running the search again, reads them.  Trials that failed or
 * were pre-empted have no line: running the search again submits exactly
 * those.
 *
 * Files (submission k = 0, 1, ... in RUN_DIR/slurm/):
 *   submit-<k>.trials        the trial indices, one per line (task j = line j+1)
 *   submit-<k>.sh            the array job's script (sbatch options as #SBATCH lines)
 *   submit-<k>-refit.sh      the refit job's script
 *   <jobid>_<task>.out       each task's stdout and stderr (Slurm writes them)
 * Arrays hold at most 1000 tasks (Slurm's default MaxArraySize is 1001):
 * longer lists are cut into several submissions, and the refit waits for
 * all of them.
 *
 * Requirements: RUN_DIR, the wordbench executable, the data and the store
 * at the same paths on every node (a shared file system), and the paths
 * free of blanks and quotes (sbatch's #SBATCH lines have no quoting).
 * Not here: other schedulers, job arrays of several trials per task,
 * cancelling jobs (scancel), waiting for them.
 */
#ifndef WORDBENCH_SLURM_H
#define WORDBENCH_SLURM_H

#include <stddef.h>

#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_slurm_opts {
    const char *run_dir;    /* absolute path of RUN_DIR */
    const char *exe;        /* absolute path of the wordbench executable */
    const char *partition;  /* --partition, or NULL */
    const char *time;       /* --time limit of one task ("HH:MM:SS", "MM", ...), or NULL */
    size_t cpus;            /* --cpus-per-task (>= 1) */
    const char *sbatch;     /* the sbatch program: NULL = "sbatch" from PATH */
} wb_slurm_opts;

/* Submit trials[0..n) (refit_trial excluded) as array jobs, and when
 * refit_trial != (size_t)-1 the refit job after them.  jobids gets the
 * job ids, space-separated (the refit's last), NUL-terminated within cap
 * bytes.  Returns 0, WB_EUSAGE (a path with blanks or quotes, cpus 0),
 * errno (writing the scripts, starting sbatch), WB_EIO (sbatch failed:
 * e holds its exit status and the first line it printed). */
int wb_slurm_submit(const wb_slurm_opts *o, const size_t *trials, size_t n, size_t refit_trial, char *jobids,
                    size_t cap, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_SLURM_H */
