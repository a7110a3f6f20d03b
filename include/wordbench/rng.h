/*
 * wordbench/rng.h — the deterministic random generator every module draws
 * from (splits, shuffling, initialisation, dropout, search sampling).
 *
 * xoshiro256** (Blackman & Vigna) seeded through splitmix64; bounded draws
 * use integer rejection (no floating point, no platform RNG), so the same
 * seed gives the same stream on any machine.  Not for cryptography.
 */
#ifndef WORDBENCH_RNG_H
#define WORDBENCH_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* xoshiro256** state.  Invariant: not all four words zero (wb_rng_init
 * guarantees it). */
typedef struct wb_rng {
    uint64_t s[4]; /* generator state */
} wb_rng;

/* Seed the generator: the four words are successive splitmix64 outputs of
 * `seed`.  Every seed, 0 included, is valid. */
void wb_rng_init(wb_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t wb_rng_next(wb_rng *r);

/* Uniform integer in [0, bound), unbiased (rejection); 0 when bound is 0. */
uint64_t wb_rng_below(wb_rng *r, uint64_t bound);

/* Fill perm[0..n) with a uniformly random permutation of 0..n-1
 * (Fisher-Yates, drawing from r). */
void wb_rng_permutation(wb_rng *r, uint32_t *perm, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_RNG_H */
