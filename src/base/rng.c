/*
 * rng.c — the project's one random generator: xoshiro256** seeded through
 * splitmix64, unbiased bounded draws by rejection, Fisher-Yates permutations
 * (see wordbench/rng.h).  Leaves out: floating-point draws (callers scale
 * wb_rng_next themselves, so each keeps its own documented recipe).
 */
#include "wordbench/rng.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void wb_rng_init(wb_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* cannot happen, but cheap */
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t wb_rng_next(wb_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t wb_rng_below(wb_rng *r, uint64_t bound) {
    if (bound == 0) return 0;
    /* Reject the lowest (2^64 mod bound) values so every residue is equally
     * likely. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t x = wb_rng_next(r);
        if (x >= threshold) return x % bound;
    }
}

void wb_rng_permutation(wb_rng *r, uint32_t *perm, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) perm[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)wb_rng_below(r, i);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}
