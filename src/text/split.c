/*
 * split.c — seeded train/test and k-fold splits: random, per-class
 * stratified, and iterative stratification for multi-label data (see
 * wordbench/split.h for the rules).  Leaves out: reading split files,
 * grouped or time-ordered splits.
 */
#include "wordbench/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- argument checks ----------------------------------------------------- */

/* Check the CSR invariants of the header.  *single gets 1 when every example
 * has exactly one label. */
static int check_labels(size_t n, const wb_split_labels *lb, int *single, wb_err *err) {
    if (!lb || !lb->offsets || (!lb->ids && n && lb->offsets[n] > 0))
        return wb_err_set(err, WB_EUSAGE, "stratified split needs labels (offsets and ids); "
                                          "pass WB_SPLIT_RANDOM to split without them");
    if (lb->offsets[0] != 0)
        return wb_err_set(err, WB_EUSAGE, "labels: offsets[0] is %zu, expected 0", lb->offsets[0]);
    uint32_t *seen = malloc((lb->nlabels ? lb->nlabels : 1) * sizeof *seen);
    if (!seen) return wb_err_set(err, WB_ENOMEM, "out of memory");
    /* seen[l] = 1 + last example listing l (0 = none) catches duplicates. */
    memset(seen, 0, (lb->nlabels ? lb->nlabels : 1) * sizeof *seen);
    int rc = 0;
    *single = 1;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t a = lb->offsets[i], b = lb->offsets[i + 1];
        if (b < a) {
            rc = wb_err_set(err, WB_EUSAGE, "labels: offsets[%zu] = %zu < offsets[%zu] = %zu", i + 1, b,
                            i, a);
            break;
        }
        if (b - a != 1) *single = 0;
        for (size_t p = a; p < b; p++) {
            uint32_t l = lb->ids[p];
            if (l >= lb->nlabels) {
                rc = wb_err_set(err, WB_EUSAGE, "labels: example %zu has label id %u, expected < %u", i,
                                l, lb->nlabels);
                break;
            }
            if (seen[l] == (uint32_t)i + 1) {
                rc = wb_err_set(err, WB_EUSAGE, "labels: example %zu lists label id %u twice", i, l);
                break;
            }
            seen[l] = (uint32_t)i + 1;
        }
    }
    free(seen);
    return rc;
}

static int check_common(size_t n, const wb_split_labels *lb, int mode, const void *out, int *single,
                        wb_err *err) {
    if (n == 0) return wb_err_set(err, WB_EUSAGE, "nothing to split: 0 examples");
    if (n > UINT32_MAX)
        return wb_err_set(err, WB_EUSAGE, "too many examples to split: %zu (at most %u)", n, UINT32_MAX);
    if (!out) return wb_err_set(err, WB_EUSAGE, "no output array given");
    if (mode != WB_SPLIT_RANDOM && mode != WB_SPLIT_STRATIFY && mode != WB_SPLIT_ITERATIVE)
        return wb_err_set(err, WB_EUSAGE, "unknown split mode %d", mode);
    *single = 0;
    if (mode == WB_SPLIT_RANDOM) return 0;
    return check_labels(n, lb, single, err);
}

/* ---- iterative stratification -------------------------------------------- */

/* Lazy min-heap entry: the label's remaining count when it was pushed, and
 * its random priority.  Stale entries (rem no longer current) are skipped. */
typedef struct lheap_ent {
    uint32_t rem;   /* remaining unassigned examples of `label` at push time */
    uint32_t prio;  /* seeded random rank of the label: tie breaker */
    uint32_t label; /* label id */
} lheap_ent;

static int lent_less(const lheap_ent *a, const lheap_ent *b) {
    return a->rem < b->rem || (a->rem == b->rem && a->prio < b->prio);
}

static void lheap_push(lheap_ent *h, size_t *n, lheap_ent e) {
    size_t i = (*n)++;
    while (i && lent_less(&e, &h[(i - 1) / 2])) h[i] = h[(i - 1) / 2], i = (i - 1) / 2;
    h[i] = e;
}

static lheap_ent lheap_pop(lheap_ent *h, size_t *n) {
    lheap_ent top = h[0], e = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const lheap_ent *me = &e;
        if (l < *n && lent_less(&h[l], me)) m = l, me = &h[l];
        if (r < *n && lent_less(&h[r], me)) m = r;
        if (m == i) break;
        h[i] = h[m];
        i = m;
    }
    if (*n) h[i] = e;
    return top;
}

/* Assign each of n examples to one of m subsets of target sizes size[m] (sum
 * n) by iterative stratification; out[i] gets the subset.  Labels are
 * already checked. */
static int iterative(size_t n, const wb_split_labels *lb, uint32_t m, const size_t *size, wb_rng *rng,
                     uint32_t *out, wb_err *err) {
    uint32_t L = lb->nlabels;
    size_t nnz = lb->offsets[n];
    size_t *loff = calloc((size_t)L + 1, sizeof *loff);  /* (L+1) inverted index offsets */
    uint32_t *lex = malloc((nnz ? nnz : 1) * sizeof *lex); /* (nnz) examples per label */
    uint32_t *rem = calloc(L ? L : 1, sizeof *rem);      /* (L) unassigned examples per label */
    uint32_t *perm = malloc(n * sizeof *perm);           /* (n) random example order */
    uint32_t *prio = malloc((L ? L : 1) * sizeof *prio); /* (L) random label ranks */
    size_t nwant = (size_t)L * m;                        /* (L,m) desired counts per label, subset */
    double *want = malloc((nwant ? nwant : 1) * sizeof *want);
    double *wtot = malloc(m * sizeof *wtot);             /* (m) desired remaining size */
    lheap_ent *heap = malloc((L + nnz ? L + nnz : 1) * sizeof *heap); /* lazy: <= L + nnz pushes */
    uint32_t *dlist = malloc((L ? L : 1) * sizeof *dlist);  /* (L) labels touched this round */
    unsigned char *dirty = calloc(L ? L : 1, 1);            /* (L) 1 when in dlist */
    /* The labels copied in the random order: local example q is perm[q].
     * Every label's list then holds increasing q, so the main loop walks
     * memory forwards instead of jumping around n examples. */
    size_t *eoff = malloc((n + 1) * sizeof *eoff);         /* (n+1) local CSR offsets */
    uint32_t *eids = malloc((nnz ? nnz : 1) * sizeof *eids); /* (nnz) local CSR ids */
    uint32_t *sub = malloc(n * sizeof *sub);               /* (n) subset of local example q */
    /* (n bits) assigned flags: the check runs once per label id, and n/8
     * bytes stay in cache where sub[] would not. */
    uint64_t *done_bits = calloc(n / 64 + 1, sizeof *done_bits);
    size_t nd = 0;
    int rc = 0;
    if (!loff || !lex || !rem || !perm || !prio || !want || !wtot || !heap || !dlist || !dirty || !eoff || !eids || !sub || !done_bits) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto done;
    }
    wb_rng_permutation(rng, perm, (uint32_t)n);
    wb_rng_permutation(rng, prio, L);
    eoff[0] = 0;
    for (size_t q = 0; q < n; q++) {
        uint32_t e = perm[q];
        size_t a = lb->offsets[e], b = lb->offsets[e + 1];
        size_t o = eoff[q];
        for (size_t p = a; p < b; p++) eids[o++] = lb->ids[p]; /* few ids: no memcpy call */
        eoff[q + 1] = o;
    }
    /* Inverted index: label l's local examples, increasing. */
    for (size_t p = 0; p < nnz; p++) rem[eids[p]]++;
    for (uint32_t l = 0; l < L; l++) loff[l + 1] = loff[l] + rem[l];
    {
        size_t *fill = malloc((L ? L : 1) * sizeof *fill);
        if (!fill) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(fill, loff, L * sizeof *fill);
        for (size_t q = 0; q < n; q++)
            for (size_t p = eoff[q]; p < eoff[q + 1]; p++) lex[fill[eids[p]]++] = (uint32_t)q;
        free(fill);
    }
    for (uint32_t j = 0; j < m; j++) wtot[j] = (double)size[j];
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t j = 0; j < m; j++) want[(size_t)l * m + j] = (double)rem[l] * (double)size[j] / (double)n;

    size_t hn = 0;
    for (uint32_t l = 0; l < L; l++)
        if (rem[l]) lheap_push(heap, &hn, (lheap_ent){rem[l], prio[l], l});
    while (hn) {
        lheap_ent top = lheap_pop(heap, &hn);
        uint32_t l = top.label;
        if (rem[l] == 0 || rem[l] != top.rem) continue; /* stale */
        for (size_t p = loff[l]; p < loff[l + 1]; p++) {
            uint32_t e = lex[p];
            if (done_bits[e >> 6] >> (e & 63) & 1) continue;
            done_bits[e >> 6] |= (uint64_t)1 << (e & 63);
            /* Largest desired count for l, then largest desired size, then a
             * uniform choice among the tied (reservoir sampling). */
            const double *wl = want + (size_t)l * m;
            uint32_t best = 0, ties = 1;
            for (uint32_t j = 1; j < m; j++) {
                if (wl[j] > wl[best] || (wl[j] == wl[best] && wtot[j] > wtot[best])) {
                    best = j, ties = 1;
                } else if (wl[j] == wl[best] && wtot[j] == wtot[best]) {
                    if (wb_rng_below(rng, ++ties) == 0) best = j;
                }
            }
            sub[e] = best;
            wtot[best] -= 1.0;
            for (size_t q = eoff[e]; q < eoff[e + 1]; q++) {
                uint32_t k = eids[q];
                want[(size_t)k * m + best] -= 1.0;
                if (--rem[k] && k != l && !dirty[k]) dirty[k] = 1, dlist[nd++] = k;
            }
        }
        /* Re-key the labels whose counts dropped: one heap entry each per
         * processed label, not one per decrement. */
        for (size_t d = 0; d < nd; d++) {
            uint32_t k = dlist[d];
            dirty[k] = 0;
            if (rem[k]) lheap_push(heap, &hn, (lheap_ent){rem[k], prio[k], k});
        }
        nd = 0;
    }
    /* Examples without labels: fill the subsets furthest below target. */
    for (size_t q = 0; q < n; q++) {
        if (done_bits[q >> 6] >> (q & 63) & 1) continue;
        uint32_t best = 0, ties = 1;
        for (uint32_t j = 1; j < m; j++) {
            if (wtot[j] > wtot[best]) best = j, ties = 1;
            else if (wtot[j] == wtot[best] && wb_rng_below(rng, ++ties) == 0) best = j;
        }
        sub[q] = best;
        wtot[best] -= 1.0;
    }
    for (size_t q = 0; q < n; q++) out[perm[q]] = sub[q];
done:
    free(loff), free(lex), free(rem), free(perm), free(prio), free(want), free(wtot), free(heap);
    free(dlist), free(dirty), free(eoff), free(eids), free(sub), free(done_bits);
    return rc;
}

/* Examples of a single-label task grouped by class, each class in random
 * order: order[cstart[c] .. cstart[c+1]).  Both arrays malloc'd. */
static int group_by_class(size_t n, const wb_split_labels *lb, wb_rng *rng, uint32_t **order_out,
                          size_t **cstart_out, wb_err *err) {
    uint32_t C = lb->nlabels;
    uint32_t *perm = malloc(n * sizeof *perm);
    uint32_t *order = malloc(n * sizeof *order);
    size_t *cstart = calloc((size_t)C + 1, sizeof *cstart);
    size_t *fill = malloc((C ? C : 1) * sizeof *fill);
    if (!perm || !order || !cstart || !fill) {
        free(perm), free(order), free(cstart), free(fill);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    wb_rng_permutation(rng, perm, (uint32_t)n);
    for (size_t i = 0; i < n; i++) cstart[lb->ids[lb->offsets[i]] + 1]++;
    for (uint32_t c = 0; c < C; c++) cstart[c + 1] += cstart[c];
    memcpy(fill, cstart, C * sizeof *fill);
    for (size_t q = 0; q < n; q++) {
        uint32_t e = perm[q];
        order[fill[lb->ids[lb->offsets[e]]]++] = e;
    }
    free(perm), free(fill);
    *order_out = order, *cstart_out = cstart;
    return 0;
}

/* Class order for handing out the largest-remainder extras. */
typedef struct cls_rem {
    double frac;   /* n_c*f - floor(n_c*f) */
    uint64_t rank; /* seeded random tie breaker, unique */
    uint32_t cls;  /* class id */
} cls_rem;

static int cls_rem_cmp(const void *pa, const void *pb) {
    const cls_rem *a = pa, *b = pb;
    if (a->frac != b->frac) return a->frac > b->frac ? -1 : 1;
    return a->rank < b->rank ? -1 : a->rank > b->rank;
}

/* ---- public -------------------------------------------------------------- */

int wb_split_train_test(size_t n, const wb_split_labels *labels, double test_fraction, uint64_t seed,
                        int mode, uint8_t *test, wb_err *err) {
    int single, rc;
    if (!(test_fraction > 0.0 && test_fraction < 1.0))
        return wb_err_set(err, WB_EUSAGE, "test fraction %g is outside (0, 1); use e.g. 0.2 for 20%%",
                          test_fraction);
    if ((rc = check_common(n, labels, mode, test, &single, err))) return rc;
    wb_rng rng;
    wb_rng_init(&rng, seed);
    size_t T = (size_t)floor((double)n * test_fraction + 0.5);
    if (T > n) T = n;

    if (mode == WB_SPLIT_RANDOM) {
        uint32_t *perm = malloc(n * sizeof *perm);
        if (!perm) return wb_err_set(err, WB_ENOMEM, "out of memory");
        wb_rng_permutation(&rng, perm, (uint32_t)n);
        for (size_t q = 0; q < n; q++) test[perm[q]] = q < T;
        free(perm);
        return 0;
    }
    if (mode == WB_SPLIT_ITERATIVE || !single) {
        uint32_t *sub = malloc(n * sizeof *sub);
        if (!sub) return wb_err_set(err, WB_ENOMEM, "out of memory");
        size_t size[2] = {n - T, T};
        rc = iterative(n, labels, 2, size, &rng, sub, err);
        if (!rc)
            for (size_t i = 0; i < n; i++) test[i] = (uint8_t)sub[i];
        free(sub);
        return rc;
    }

    /* Per-class stratification by largest remainder. */
    uint32_t C = labels->nlabels, *order;
    size_t *cstart;
    if ((rc = group_by_class(n, labels, &rng, &order, &cstart, err))) return rc;
    cls_rem *cr = malloc((C ? C : 1) * sizeof *cr);
    size_t *take = malloc((C ? C : 1) * sizeof *take);
    uint32_t *rank = malloc((C ? C : 1) * sizeof *rank);
    if (!cr || !take || !rank) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto done;
    }
    wb_rng_permutation(&rng, rank, C);
    size_t assigned = 0, ncr = 0;
    for (uint32_t c = 0; c < C; c++) {
        size_t nc = cstart[c + 1] - cstart[c];
        double q = (double)nc * test_fraction;
        size_t fl = (size_t)floor(q);
        if (fl > nc) fl = nc;
        take[c] = fl;
        assigned += fl;
        if (fl < nc && q - (double)fl > 0.0) cr[ncr++] = (cls_rem){q - (double)fl, rank[c], c};
    }
    qsort(cr, ncr, sizeof *cr, cls_rem_cmp);
    for (size_t i = 0; i < ncr && assigned < T; i++) take[cr[i].cls]++, assigned++;
    for (uint32_t c = 0; c < C; c++)
        for (size_t p = cstart[c]; p < cstart[c + 1]; p++) test[order[p]] = p - cstart[c] < take[c];
done:
    free(cr), free(take), free(rank), free(order), free(cstart);
    return rc;
}

int wb_split_kfold(size_t n, const wb_split_labels *labels, uint32_t k, uint64_t seed, int mode,
                   uint32_t *fold, wb_err *err) {
    int single, rc;
    if (k < 2) return wb_err_set(err, WB_EUSAGE, "k-fold needs k >= 2 folds, got %u", k);
    if (n && k > n)
        return wb_err_set(err, WB_EUSAGE, "k-fold with k = %u folds needs at least k examples, got %zu", k,
                          n);
    if ((rc = check_common(n, labels, mode, fold, &single, err))) return rc;
    wb_rng rng;
    wb_rng_init(&rng, seed);
    uint32_t r0 = (uint32_t)wb_rng_below(&rng, k); /* fold that receives the first example dealt */

    if (mode == WB_SPLIT_RANDOM) {
        uint32_t *perm = malloc(n * sizeof *perm);
        if (!perm) return wb_err_set(err, WB_ENOMEM, "out of memory");
        wb_rng_permutation(&rng, perm, (uint32_t)n);
        for (size_t q = 0; q < n; q++) fold[perm[q]] = (uint32_t)((q + r0) % k);
        free(perm);
        return 0;
    }
    if (mode == WB_SPLIT_ITERATIVE || !single) {
        size_t *size = malloc(k * sizeof *size);
        if (!size) return wb_err_set(err, WB_ENOMEM, "out of memory");
        for (uint32_t j = 0; j < k; j++) size[(j + r0) % k] = n / k + (j < n % k);
        rc = iterative(n, labels, k, size, &rng, fold, err);
        free(size);
        return rc;
    }
    /* Per-class: deal the class-grouped order round-robin.  Each class is a
     * contiguous run of the deal, so it lands floor or ceil(n_c/k) per fold. */
    uint32_t *order;
    size_t *cstart;
    if ((rc = group_by_class(n, labels, &rng, &order, &cstart, err))) return rc;
    for (size_t q = 0; q < n; q++) fold[order[q]] = (uint32_t)((q + r0) % k);
    free(order), free(cstart);
    return 0;
}
