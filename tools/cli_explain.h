/*
 * cli_explain.h — `wordbench explain` (cli_explain.c).
 */
#ifndef WB_CLI_EXPLAIN_H
#define WB_CLI_EXPLAIN_H

#include "cli.h"

extern const cli_cmd cmd_explain;

#endif
