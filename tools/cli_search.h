/*
 * cli_search.h — the experiment commands (cli_search.c).
 */
#ifndef WB_CLI_SEARCH_H
#define WB_CLI_SEARCH_H

#include "cli.h"

extern const cli_cmd cmd_search, cmd_compare;

#endif
