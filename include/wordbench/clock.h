/*
 * wordbench/clock.h — the one clock of wordbench: seconds on a monotonic
 * clock, for durations (examples/s, conversion and training times).  Not
 * the time of day (it never jumps with the wall clock).
 */
#ifndef WORDBENCH_CLOCK_H
#define WORDBENCH_CLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds since an unspecified start (CLOCK_MONOTONIC); only differences
 * mean something.  Thread-safe. */
double wb_clock_s(void);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_CLOCK_H */
