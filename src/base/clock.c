/*
 * clock.c — wb_clock_s (wordbench/clock.h): the monotonic clock in seconds.
 */
#include "wordbench/clock.h"

#include <time.h>

double wb_clock_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
