/*
 * cli_report.h — `wordbench report` (cli_report.c).
 */
#ifndef WB_CLI_REPORT_H
#define WB_CLI_REPORT_H

#include "cli.h"

extern const cli_cmd cmd_report;

#endif
