/*
 * cli.h — the command-line tool's shared machinery: one option table per
 * command (defaults live there and --help prints them from there, so help
 * cannot drift from the code), one parser for short and long forms with
 * range-checked values, exit codes, stderr diagnostics, JSON string output
 * and the progress line.
 */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "wordbench/err.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define CLI_MAX_OPTS 128

/* The option of every command that opens a store: cli_parse applies it
 * (wb_store_set_open_flags), so stores opened inside the library count too. */
#define CLI_OPT_VERIFY_ON_OPEN                                                                      \
    {"verify-on-open", 0, NULL, NULL, "check every page of the store's index and its checksum first", 0}

typedef struct cli_opt {
    const char *name;   /* long name without "--" */
    int shortc;         /* short letter or 0 */
    const char *arg;    /* argument placeholder ("N", "FILE"); NULL for a flag; "[VALUE]" for an
                           optional value given as --name=VALUE (the value is "" without it) */
    const char *def;    /* default value shown in --help and used when unset (NULL = none) */
    const char *help;   /* one line */
    int repeat;         /* 1 = may be given several times (values joined by '\n') */
} cli_opt;

struct cli;
typedef struct cli_cmd {
    const char *name;       /* "convert" */
    const char *synopsis;   /* "[options] INPUT STORE" */
    const char *summary;    /* one line for the command list */
    const cli_opt *opts;    /* table, terminated by {0} */
    int min_args, max_args; /* positional arguments (max -1 = any) */
    int (*run)(struct cli *c);
} cli_cmd;

typedef struct cli {
    const cli_cmd *cmd;
    const char *val[CLI_MAX_OPTS]; /* value of each option (default if unset) */
    int given[CLI_MAX_OPTS];       /* set on the command line */
    char *owned[CLI_MAX_OPTS];     /* joined values of repeated options */
    int argc;                      /* positional arguments */
    char **argv;
    int quiet, json;               /* common flags */
    int progress;                  /* stderr is a terminal and not --quiet */
} cli;

/* Parse argv (after the command name).  Returns 0, or EXIT_USAGE after
 * printing the problem; prints help and returns -1 for --help. */
int cli_parse(cli *c, const cli_cmd *cmd, int argc, char **argv);
void cli_free(cli *c);
void cli_help(const cli_cmd *cmd, FILE *f);

const char *cli_str(const cli *c, const char *name);  /* value or NULL */
int cli_flag(const cli *c, const char *name);          /* 1 if given */
int cli_given(const cli *c, const char *name);
/* Range-checked numbers: 0 ok, else EXIT_USAGE after printing. */
int cli_u64(const cli *c, const char *name, uint64_t min, uint64_t max, uint64_t *out);
/* A number in [lo, hi] ([lo, hi) with hi_open); *out unchanged when the
 * option has no value.  0 ok, else EXIT_USAGE after printing. */
int cli_f64(const cli *c, const char *name, double lo, double hi, int hi_open, double *out);
/* cli_f64 into a float. */
int cli_f32(const cli *c, const char *name, double lo, double hi, float *out);
/* A size in bytes: a number with an optional suffix K, M, G or T (powers of
 * 1024, also KB, KiB...), in [min, max]; *out unchanged when not given.  0
 * ok, else EXIT_USAGE after printing. */
int cli_size(const cli *c, const char *name, uint64_t min, uint64_t max, uint64_t *out);
/* Value must be one of the '|'-separated choices; returns its index or prints and returns -1. */
int cli_choice(const cli *c, const char *name, const char *choices);

/* "wordbench CMD: msg" + "Try 'wordbench CMD --help'." on stderr; returns EXIT_USAGE. */
int cli_usage(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "wordbench: msg" on stderr (no exit).  Here and in cli_usage, bytes that
 * would not print as themselves are escaped (\t, \n, \r, \xNN). */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a library error as "wordbench: file:line: msg"; returns EXIT_FAIL. */
int cli_fail(const wb_err *e, int rc);

/* JSON string (with quotes) of n bytes, escaping as RFC 8259 requires; a
 * byte that is not part of valid UTF-8 becomes U+FFFD (words are bytes, JSON
 * is Unicode: such words are shown, not round-tripped, in JSON). */
void json_str(FILE *f, const char *s, size_t n);
/* A float as JSON: %.9g, or null for NaN and Inf. */
void json_num(FILE *f, double v);

/* Progress line on stderr: "\r<text>" padded; call with done=1 to end the line. */
void cli_progress(const cli *c, int done, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Long commands (train, search) stop between steps on SIGINT / SIGTERM:
 * cli_catch_stop() makes both signals set cli_stop instead of killing the
 * process; cli_stop_requested fits the library's should_stop callbacks. */
extern volatile sig_atomic_t cli_stop;
void cli_catch_stop(void);
int cli_stop_requested(void *ctx);

/* Human sizes: "1.2 GB". */
const char *cli_bytes(char *buf, size_t n, double bytes);

/* The commands (cli_store.c). */
extern const cli_cmd cmd_convert, cmd_info, cmd_lookup, cmd_neighbors, cmd_verify, cmd_export;
/* The data command (cli_data.c). */
extern const cli_cmd cmd_data;
/* The vector commands (cli_vectors.c). */
extern const cli_cmd cmd_evaluate, cmd_export_embeddings;

#endif
