/*
 * cli_train.h — the model commands (cli_train.c).
 */
#ifndef WB_CLI_TRAIN_H
#define WB_CLI_TRAIN_H

#include <stddef.h>

#include "cli.h"
#include "wordbench/bundle.h"

extern const cli_cmd cmd_train, cmd_eval, cmd_predict;

/* Load a model file and attach its store (--store, else the recorded path);
 * a directory is a search's RUN_DIR: its refit model (cli_best_path).  On
 * failure prints the error and returns EXIT_FAIL with *b NULL. */
int cli_load_bundle(cli *c, const char *path, size_t batch, wb_bundle **b);

/* "DIR/best.wbm" (a search's refit model), malloc'd; NULL out of memory. */
char *cli_best_path(const char *dir);

#endif
