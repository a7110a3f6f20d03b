/*
 * cli_train.h — the model commands (cli_train.c).
 */
#ifndef WB_CLI_TRAIN_H
#define WB_CLI_TRAIN_H

#include "cli.h"

extern const cli_cmd cmd_train, cmd_eval, cmd_predict;

#endif
