/*
 * vocab.c — word counts, Keras-compatible ids, padded sequences, the saved
 * vocabulary format and coverage by a store (wordbench/vocab.h).
 *
 * One arena holds the bytes of every word back to back; entries (hash,
 * arena offset, length, count) sit in an array in first-occurrence order
 * until finish, in id order after it; an open-addressing table of entry
 * indices (linear probing, XXH3-64 of the bytes, load <= 1/2 after finish and
 * <= 0.7 while counting) finds them.  finish sorts by count descending with
 * the order of first counting as tie-break, which gives the order of Python's
 * stable sort that Keras uses.  An entry's index is also its provisional id
 * (index + 2) for wb_vocab_add_ids; entries that were interned but never
 * counted (count 0) are not words and vanish at finish.
 *
 * Leaves out: tokenizing, splits, the dataset cache, the CLI.
 */
#include "wordbench/vocab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* One word.  Invariant: arena[off .. off+len) are its bytes, h their XXH3-64. */
typedef struct vent {
    uint64_t h;      /* XXH3-64 of the word bytes */
    uint64_t off;    /* offset of the bytes in the arena */
    uint64_t count;  /* training count (0: interned, never counted) */
    uint32_t len;    /* bytes */
    uint32_t first;  /* order of its first count among the counted words (UINT32_MAX: none) */
} vent;

/* Invariants: slots has nslots entries (a power of two, or 0 before the
 * first word), each 0 (empty) or 1 + an index into ents; after finish ents[i]
 * holds id i + 2 and nothing can be added. */
struct wb_vocab {
    char *arena;          /* word bytes, back to back */
    size_t arena_len;     /* bytes used */
    size_t arena_cap;     /* bytes allocated */
    vent *ents;           /* (n,) the words */
    size_t n;             /* words held */
    size_t cap;           /* entries allocated */
    uint32_t *slots;      /* (nslots,) hash table of 1 + entry index */
    size_t nslots;        /* power of two (or 0) */
    size_t distinct;      /* words with a count > 0 (before finish: also the next `first`) */
    int finished;         /* 1 after finish / load */
    uint64_t num_words;   /* as given to finish (informational) */
    uint64_t min_count;   /* as given to finish (informational) */
};

static const char MAGIC[8] = {'W', 'B', 'V', 'O', 'C', 'A', 'B', '\0'};

int wb_pad_side_parse(const char *name) {
    if (!name) return -1;
    if (!strcmp(name, "pre")) return WB_PAD_PRE;
    if (!strcmp(name, "post")) return WB_PAD_POST;
    return -1;
}

int wb_vocab_create(wb_vocab **out, wb_err *e) {
    if (!out) return wb_err_set(e, WB_EUSAGE, "wb_vocab_create: NULL out");
    *out = calloc(1, sizeof **out);
    if (!*out) return wb_err_set(e, WB_ENOMEM, "out of memory creating a vocabulary");
    return 0;
}

void wb_vocab_destroy(wb_vocab *v) {
    if (!v) return;
    free(v->arena);
    free(v->ents);
    free(v->slots);
    free(v);
}

/* Slot of the word: the slot holding it, or the empty slot where it would go. */
static size_t find_slot(const wb_vocab *v, uint64_t h, const char *w, size_t len) {
    size_t mask = v->nslots - 1, i = (size_t)h & mask;
    for (;;) {
        uint32_t s = v->slots[i];
        if (!s) return i;
        const vent *en = &v->ents[s - 1];
        if (en->h == h && en->len == len && (len == 0 || !memcmp(v->arena + en->off, w, len)))
            return i;
        i = (i + 1) & mask;
    }
}

/* Make a table of `nslots` (power of two) slots holding all current entries. */
static int rehash(wb_vocab *v, size_t nslots) {
    uint32_t *s = calloc(nslots, sizeof *s);
    if (!s) return WB_ENOMEM;
    free(v->slots);
    v->slots = s;
    v->nslots = nslots;
    size_t mask = nslots - 1;
    for (size_t k = 0; k < v->n; k++) {
        size_t i = (size_t)v->ents[k].h & mask;
        while (s[i]) i = (i + 1) & mask;
        s[i] = (uint32_t)(k + 1);
    }
    return 0;
}

/* Append a new word (not present) with `count`; `slot` is from find_slot and
 * is recomputed when the table grows.  Returns 0 or WB_ENOMEM. */
static int insert(wb_vocab *v, uint64_t h, const char *w, size_t len, uint64_t count) {
    if (v->n >= UINT32_MAX - 1) return WB_EUSAGE;
    if ((v->n + 1) * 10 > v->nslots * 7) {
        size_t ns = v->nslots ? v->nslots * 2 : 1024;
        if (rehash(v, ns)) return WB_ENOMEM;
    }
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        vent *ne = realloc(v->ents, nc * sizeof *ne);
        if (!ne) return WB_ENOMEM;
        v->ents = ne;
        v->cap = nc;
    }
    if (v->arena_cap - v->arena_len < len) {
        size_t nc = v->arena_cap ? v->arena_cap : 4096;
        while (nc - v->arena_len < len) nc *= 2;
        char *na = realloc(v->arena, nc);
        if (!na) return WB_ENOMEM;
        v->arena = na;
        v->arena_cap = nc;
    }
    size_t slot = find_slot(v, h, w, len);
    if (len) memcpy(v->arena + v->arena_len, w, len);
    vent *en = &v->ents[v->n];
    en->h = h;
    en->off = v->arena_len;
    en->count = count;
    en->len = (uint32_t)len;
    en->first = count ? (uint32_t)v->distinct++ : UINT32_MAX;
    v->arena_len += len;
    v->slots[slot] = (uint32_t)(v->n + 1);
    v->n++;
    return 0;
}

/* Count entry k once more. */
static void count_entry(wb_vocab *v, size_t k) {
    vent *en = &v->ents[k];
    if (!en->count++) en->first = (uint32_t)v->distinct++;
}

/* Count (count 1) or only intern (count 0) one non-empty word; *id gets its
 * provisional id. */
static int add_word(wb_vocab *v, const char *w, size_t len, int count, uint32_t *id, wb_err *e) {
    if (len > UINT32_MAX - 1) return wb_err_set(e, WB_EUSAGE, "a token of %zu bytes, more than 4 GiB", len);
    uint64_t h = XXH3_64bits(w, len);
    uint32_t s = v->nslots ? v->slots[find_slot(v, h, w, len)] : 0;
    if (s) {
        if (count) count_entry(v, s - 1);
    } else {
        int rc = insert(v, h, w, len, count ? 1 : 0);
        if (rc == WB_EUSAGE) return wb_err_set(e, rc, "more than 4 billion distinct words");
        if (rc) return wb_err_set(e, rc, "out of memory counting words (%zu distinct so far)", v->n);
        s = (uint32_t)v->n;
    }
    *id = s - 1 + WB_VOCAB_FIRST;
    return 0;
}

/* Shared by add and add_ids: count (or only intern) the tokens; ids (may be
 * NULL) get provisional ids. */
static int add_tokens(wb_vocab *v, const wb_token_list *tokens, int count, uint32_t *ids, const char *fn,
                      wb_err *e) {
    if (!v || !tokens) return wb_err_set(e, WB_EUSAGE, "%s: NULL argument", fn);
    if (v->finished) return wb_err_set(e, WB_EUSAGE, "%s: the vocabulary is already finished", fn);
    for (size_t i = 0; i < tokens->n; i++) {
        size_t len;
        const char *w = wb_token_list_get(tokens, i, &len);
        uint32_t id = WB_VOCAB_OOV;
        if (len) {
            int rc = add_word(v, w, len, count, &id, e);
            if (rc) return rc;
        }
        if (ids) ids[i] = id;
    }
    return 0;
}

int wb_vocab_add(wb_vocab *v, const wb_token_list *tokens, wb_err *e) {
    return add_tokens(v, tokens, 1, NULL, "wb_vocab_add", e);
}

int wb_vocab_add_ids(wb_vocab *v, const wb_token_list *tokens, int count, uint32_t *ids, wb_err *e) {
    if (!ids) return wb_err_set(e, WB_EUSAGE, "wb_vocab_add_ids: NULL ids");
    return add_tokens(v, tokens, count, ids, "wb_vocab_add_ids", e);
}

void wb_vocab_recount(wb_vocab *v) {
    if (!v || v->finished) return;
    for (size_t k = 0; k < v->n; k++) v->ents[k].count = 0, v->ents[k].first = UINT32_MAX;
    v->distinct = 0;
}

int wb_vocab_count_ids(wb_vocab *v, const uint32_t *ids, size_t n, wb_err *e) {
    if (!v || (!ids && n)) return wb_err_set(e, WB_EUSAGE, "wb_vocab_count_ids: NULL argument");
    if (v->finished) return wb_err_set(e, WB_EUSAGE, "wb_vocab_count_ids: the vocabulary is already finished");
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < WB_VOCAB_FIRST) continue;
        size_t k = (size_t)ids[i] - WB_VOCAB_FIRST;
        if (k >= v->n) return wb_err_set(e, WB_EUSAGE, "wb_vocab_count_ids: id %u was never given out", ids[i]);
        count_entry(v, k);
    }
    return 0;
}

int wb_vocab_add_word(wb_vocab *v, const char *word, size_t len, int count, uint32_t *id, wb_err *e) {
    if (!v || !id || (!word && len)) return wb_err_set(e, WB_EUSAGE, "wb_vocab_add_word: NULL argument");
    if (v->finished) return wb_err_set(e, WB_EUSAGE, "wb_vocab_add_word: the vocabulary is already finished");
    *id = WB_VOCAB_OOV;
    return len ? add_word(v, word, len, count, id, e) : 0;
}

size_t wb_vocab_entries(const wb_vocab *v) { return v ? v->n : 0; }

const char *wb_vocab_entry(const wb_vocab *v, size_t k, size_t *len) {
    if (!v || k >= v->n) {
        if (len) *len = 0;
        return "";
    }
    if (len) *len = v->ents[k].len;
    return v->ents[k].len ? v->arena + v->ents[k].off : "";
}

/* Sort key: count descending, then first occurrence (order of first count). */
typedef struct sortkey {
    uint64_t count;  /* training count */
    uint32_t first;  /* order of the first count */
    uint32_t idx;    /* entry index */
} sortkey;

static int cmp_key(const void *a, const void *b) {
    const sortkey *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

int wb_vocab_finish(wb_vocab *v, uint64_t num_words, uint64_t min_count, wb_err *e) {
    return wb_vocab_finish_map(v, num_words, min_count, NULL, NULL, e);
}

int wb_vocab_finish_map(wb_vocab *v, uint64_t num_words, uint64_t min_count, int32_t **map, size_t *nmap,
                        wb_err *e) {
    if (map) *map = NULL;
    if (nmap) *nmap = 0;
    if (!v) return wb_err_set(e, WB_EUSAGE, "wb_vocab_finish: NULL vocabulary");
    if (v->finished)
        return wb_err_set(e, WB_EUSAGE, "wb_vocab_finish: the vocabulary is already finished");
    size_t kept = 0;
    sortkey *keys = malloc((v->n ? v->n : 1) * sizeof *keys);
    int32_t *mp = map ? malloc((v->n + WB_VOCAB_FIRST) * sizeof *mp) : NULL;
    if (!keys || (map && !mp)) {
        free(keys);
        free(mp);
        return wb_err_set(e, WB_ENOMEM, "out of memory sorting %zu words", v->n);
    }
    for (size_t i = 0; i < v->n; i++)
        if (v->ents[i].count && v->ents[i].count >= min_count)
            keys[kept++] = (sortkey){v->ents[i].count, v->ents[i].first, (uint32_t)i};
    qsort(keys, kept, sizeof *keys, cmp_key);
    if (num_words) {
        uint64_t maxw = num_words > WB_VOCAB_FIRST ? num_words - WB_VOCAB_FIRST : 0;
        if (kept > maxw) kept = (size_t)maxw;
    }
    if (kept > (size_t)INT32_MAX - WB_VOCAB_FIRST) {
        free(keys);
        free(mp);
        return wb_err_set(e, WB_EUSAGE, "%zu words do not fit int32 ids; use --num-words", kept);
    }
    vent *ne = malloc((kept ? kept : 1) * sizeof *ne);
    if (!ne) {
        free(keys);
        free(mp);
        return wb_err_set(e, WB_ENOMEM, "out of memory assigning ids to %zu words", kept);
    }
    if (mp) {
        mp[WB_VOCAB_PAD] = WB_VOCAB_PAD;
        for (size_t i = 1; i < v->n + WB_VOCAB_FIRST; i++) mp[i] = WB_VOCAB_OOV;
        for (size_t i = 0; i < kept; i++) mp[keys[i].idx + WB_VOCAB_FIRST] = (int32_t)(i + WB_VOCAB_FIRST);
    }
    size_t nm = v->n + WB_VOCAB_FIRST;
    for (size_t i = 0; i < kept; i++) ne[i] = v->ents[keys[i].idx];
    free(keys);
    free(v->ents);
    v->ents = ne;
    v->n = kept;
    v->cap = kept ? kept : 1;
    size_t ns = 1024;
    while (ns < 2 * kept) ns *= 2;
    if (rehash(v, ns)) {
        free(mp);
        return wb_err_set(e, WB_ENOMEM, "out of memory indexing %zu words", kept);
    }
    if (map) *map = mp;
    if (nmap) *nmap = map ? nm : 0;
    v->num_words = num_words;
    v->min_count = min_count;
    v->finished = 1;
    return 0;
}

size_t wb_vocab_size(const wb_vocab *v) {
    return v && v->finished ? v->n + WB_VOCAB_FIRST : WB_VOCAB_FIRST;
}

size_t wb_vocab_distinct(const wb_vocab *v) { return v ? v->distinct : 0; }

int32_t wb_vocab_lookup(const wb_vocab *v, const char *word, size_t len) {
    if (!v || !v->finished || !len || !v->nslots) return WB_VOCAB_OOV;
    uint32_t s = v->slots[find_slot(v, XXH3_64bits(word, len), word, len)];
    return s ? (int32_t)(s - 1 + WB_VOCAB_FIRST) : WB_VOCAB_OOV;
}

const char *wb_vocab_word(const wb_vocab *v, int32_t id, size_t *len, uint64_t *count) {
    if (!v || !v->finished || id < WB_VOCAB_FIRST || (size_t)id - WB_VOCAB_FIRST >= v->n) {
        if (len) *len = 0;
        if (count) *count = 0;
        return "";
    }
    const vent *en = &v->ents[id - WB_VOCAB_FIRST];
    if (len) *len = en->len;
    if (count) *count = en->count;
    return en->len ? v->arena + en->off : "";
}

int wb_vocab_encode(const wb_vocab *v, const wb_token_list *tokens, size_t maxlen,
                    wb_pad_side padding, wb_pad_side truncating, int32_t *out,
                    size_t *n_oov, size_t *n_tokens) {
    if (!v || !tokens || !out || !maxlen || !v->finished) return WB_EUSAGE;
    if ((padding != WB_PAD_PRE && padding != WB_PAD_POST) ||
        (truncating != WB_PAD_PRE && truncating != WB_PAD_POST))
        return WB_EUSAGE;
    size_t n = tokens->n, first, kept, dst;
    wb_pad_window(n, maxlen, padding, truncating, &first, &kept, &dst);
    memset(out, 0, maxlen * sizeof *out);
    size_t oov = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *w = wb_token_list_get(tokens, i, &len);
        int32_t id = wb_vocab_lookup(v, w, len);
        if (id == WB_VOCAB_OOV) oov++;
        if (i >= first && i < first + kept) out[dst + (i - first)] = id;
    }
    if (n_oov) *n_oov = oov;
    if (n_tokens) *n_tokens = n;
    return 0;
}

/* ---- saved format ---- */

static void put32(unsigned char *p, uint32_t x) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(x >> (8 * i));
}
static void put64(unsigned char *p, uint64_t x) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t x = 0;
    for (int i = 3; i >= 0; i--) x = (x << 8) | p[i];
    return x;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | p[i];
    return x;
}

int wb_vocab_save_buf(const wb_vocab *v, void **buf, size_t *len, wb_err *e) {
    if (!v || !buf || !len) return wb_err_set(e, WB_EUSAGE, "wb_vocab_save_buf: NULL argument");
    if (!v->finished)
        return wb_err_set(e, WB_EUSAGE, "wb_vocab_save_buf: the vocabulary is not finished");
    size_t body = 0;
    for (size_t i = 0; i < v->n; i++) body += 12 + (size_t)v->ents[i].len;
    size_t total = WB_VOCAB_HEADER_BYTES + body + 8;
    unsigned char *p = malloc(total);
    if (!p) return wb_err_set(e, WB_ENOMEM, "out of memory saving a vocabulary (%zu bytes)", total);
    memcpy(p, MAGIC, 8);
    put32(p + 8, WB_VOCAB_VERSION);
    put32(p + 12, 0);
    put64(p + 16, v->n);
    put64(p + 24, v->num_words);
    put64(p + 32, v->min_count);
    put64(p + 40, body);
    unsigned char *q = p + WB_VOCAB_HEADER_BYTES;
    for (size_t i = 0; i < v->n; i++) {
        const vent *en = &v->ents[i];
        put64(q, en->count);
        put32(q + 8, en->len);
        if (en->len) memcpy(q + 12, v->arena + en->off, en->len);
        q += 12 + (size_t)en->len;
    }
    put64(q, XXH3_64bits(p, WB_VOCAB_HEADER_BYTES + body));
    *buf = p;
    *len = total;
    return 0;
}

int wb_vocab_save(const wb_vocab *v, FILE *f, wb_err *e) {
    if (!f) return wb_err_set(e, WB_EUSAGE, "wb_vocab_save: NULL file");
    void *buf;
    size_t len;
    int rc = wb_vocab_save_buf(v, &buf, &len, e);
    if (rc) return rc;
    errno = 0;
    size_t w = fwrite(buf, 1, len, f);
    int err = errno ? errno : EIO;
    free(buf);
    if (w != len) return wb_err_set(e, err, "writing the vocabulary: %s", strerror(err));
    return 0;
}

/* Check magic and version of a 48-byte header; *body gets B. */
static int check_header(const unsigned char *p, uint64_t *body, wb_err *e) {
    if (memcmp(p, MAGIC, 8))
        return wb_err_at(e, WB_EFORMAT, NULL, 0, 0,
                         "not a wordbench vocabulary (bad magic); save it again with wordbench");
    uint32_t ver = get32(p + 8);
    if (ver != WB_VOCAB_VERSION)
        return wb_err_at(e, WB_EVERSION, NULL, 0, 8,
                         "vocabulary format version %u, this build reads %u; regenerate the "
                         "model with this wordbench", ver, WB_VOCAB_VERSION);
    *body = get64(p + 40);
    if (*body > (uint64_t)SIZE_MAX - WB_VOCAB_HEADER_BYTES - 8)
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, 40,
                         "vocabulary body size %llu is impossible; the file is damaged",
                         (unsigned long long)*body);
    return 0;
}

int wb_vocab_load_buf(wb_vocab **out, const void *buf, size_t len, wb_err *e) {
    if (!out) return wb_err_set(e, WB_EUSAGE, "wb_vocab_load_buf: NULL out");
    *out = NULL;
    if (!buf && len) return wb_err_set(e, WB_EUSAGE, "wb_vocab_load_buf: NULL buffer");
    const unsigned char *p = buf;
    if (len < WB_VOCAB_HEADER_BYTES + 8) {
        if (len >= 8 && memcmp(p, MAGIC, 8))
            return wb_err_at(e, WB_EFORMAT, NULL, 0, 0, "not a wordbench vocabulary (bad magic)");
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)len,
                         "vocabulary truncated: %zu bytes, at least %d needed; regenerate the model",
                         len, WB_VOCAB_HEADER_BYTES + 8);
    }
    uint64_t body;
    int rc = check_header(p, &body, e);
    if (rc) return rc;
    if (len != WB_VOCAB_HEADER_BYTES + body + 8)
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)len,
                         "vocabulary is %zu bytes, its header says %llu; the file is truncated or "
                         "damaged, regenerate the model", len,
                         (unsigned long long)(WB_VOCAB_HEADER_BYTES + body + 8));
    size_t end = WB_VOCAB_HEADER_BYTES + (size_t)body;
    if (XXH3_64bits(p, end) != get64(p + end))
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)end,
                         "vocabulary checksum mismatch: the data is damaged; regenerate the model");
    uint64_t nw = get64(p + 16);
    if (nw > body / 12 || nw > (uint64_t)INT32_MAX - WB_VOCAB_FIRST)
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, 16, "vocabulary word count %llu does not fit "
                         "its %llu body bytes", (unsigned long long)nw, (unsigned long long)body);
    wb_vocab *v;
    if ((rc = wb_vocab_create(&v, e))) return rc;
    v->arena_cap = body ? (size_t)body : 1;
    v->arena = malloc(v->arena_cap);
    v->cap = nw ? (size_t)nw : 1;
    v->ents = malloc(v->cap * sizeof *v->ents);
    size_t ns = 1024;
    while (ns < 2 * (size_t)nw) ns *= 2;
    if (!v->arena || !v->ents || rehash(v, ns)) {
        wb_vocab_destroy(v);
        return wb_err_set(e, WB_ENOMEM, "out of memory loading %llu words", (unsigned long long)nw);
    }
    size_t pos = WB_VOCAB_HEADER_BYTES;
    uint64_t prev = UINT64_MAX;
    for (uint64_t i = 0; i < nw; i++) {
        if (end - pos < 12) {
            rc = wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)pos, "vocabulary record %llu "
                           "runs past the body", (unsigned long long)i);
            goto fail;
        }
        uint64_t count = get64(p + pos);
        uint32_t wl = get32(p + pos + 8);
        if (wl == 0 || wl > end - pos - 12 || count > prev) {
            rc = wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)pos, "vocabulary record %llu is "
                           "invalid (length %u, count %llu after %llu)", (unsigned long long)i,
                           wl, (unsigned long long)count, (unsigned long long)prev);
            goto fail;
        }
        const char *w = (const char *)p + pos + 12;
        uint64_t h = XXH3_64bits(w, wl);
        if (v->slots[find_slot(v, h, w, wl)]) {
            rc = wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)pos,
                           "vocabulary record %llu repeats the word \"%.*s\"",
                           (unsigned long long)i, (int)(wl > 64 ? 64 : wl), w);
            goto fail;
        }
        if ((rc = insert(v, h, w, wl, count))) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory loading the vocabulary");
            goto fail;
        }
        prev = count;
        pos += 12 + (size_t)wl;
    }
    if (pos != end) {
        rc = wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)pos,
                       "vocabulary body has %zu bytes after the last word", end - pos);
        goto fail;
    }
    v->distinct = v->n;
    v->num_words = get64(p + 24);
    v->min_count = get64(p + 32);
    v->finished = 1;
    *out = v;
    return 0;
fail:
    wb_vocab_destroy(v);
    return rc;
}

int wb_vocab_load(wb_vocab **out, FILE *f, wb_err *e) {
    if (!out) return wb_err_set(e, WB_EUSAGE, "wb_vocab_load: NULL out");
    *out = NULL;
    if (!f) return wb_err_set(e, WB_EUSAGE, "wb_vocab_load: NULL file");
    unsigned char hdr[WB_VOCAB_HEADER_BYTES];
    size_t got = fread(hdr, 1, sizeof hdr, f);
    if (got != sizeof hdr) {
        if (ferror(f)) return wb_err_set(e, EIO, "reading the vocabulary header: read error");
        if (got >= 8 && memcmp(hdr, MAGIC, 8))
            return wb_err_at(e, WB_EFORMAT, NULL, 0, 0, "not a wordbench vocabulary (bad magic)");
        return wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)got,
                         "vocabulary truncated in its header; regenerate the model");
    }
    uint64_t body;
    int rc = check_header(hdr, &body, e);
    if (rc) return rc;
    size_t total = WB_VOCAB_HEADER_BYTES + (size_t)body + 8;
    /* Grow while reading, so a damaged size cannot make us allocate far more
     * than the file holds. */
    size_t cap = total < (1u << 20) ? total : (1u << 20), have = sizeof hdr;
    unsigned char *buf = malloc(cap);
    if (!buf) return wb_err_set(e, WB_ENOMEM, "out of memory reading the vocabulary");
    memcpy(buf, hdr, sizeof hdr);
    while (have < total) {
        if (have == cap) {
            size_t nc = cap * 2 < total ? cap * 2 : total;
            unsigned char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                return wb_err_set(e, WB_ENOMEM, "out of memory reading the vocabulary");
            }
            buf = nb;
            cap = nc;
        }
        size_t r = fread(buf + have, 1, cap - have, f);
        if (r == 0) {
            int err = ferror(f);
            free(buf);
            if (err) return wb_err_set(e, EIO, "reading the vocabulary: read error");
            return wb_err_at(e, WB_ECORRUPT, NULL, 0, (long long)have,
                             "vocabulary truncated: %zu of %zu bytes; regenerate the model",
                             have, total);
        }
        have += r;
    }
    rc = wb_vocab_load_buf(out, buf, total, e);
    free(buf);
    return rc;
}

/* ---- store coverage ---- */

/* rows (n,) = store row of each word (ids 2 ..), -1 when missing. */
static int lookup_words(const wb_vocab *v, wb_store *st, int64_t *rows, size_t *found, wb_err *e) {
    if (v->n == 0) {
        if (found) *found = 0;
        return 0;
    }
    const char **words = malloc(v->n * sizeof *words);
    size_t *lens = malloc(v->n * sizeof *lens);
    if (!words || !lens) {
        free(words);
        free(lens);
        return wb_err_set(e, WB_ENOMEM, "out of memory looking up %zu words", v->n);
    }
    for (size_t i = 0; i < v->n; i++) {
        words[i] = v->arena + v->ents[i].off;
        lens[i] = v->ents[i].len;
    }
    int rc = wb_store_lookup_many(st, v->n, words, lens, rows, found);
    free(words);
    free(lens);
    if (rc) return wb_err_set(e, rc, "looking up %zu vocabulary words in the store: %s", v->n,
                              wb_strerror(rc));
    return 0;
}

int wb_vocab_rows(const wb_vocab *v, wb_store *st, int64_t *rows, size_t *found, wb_err *e) {
    if (!v || !st || !rows) return wb_err_set(e, WB_EUSAGE, "wb_vocab_rows: NULL argument");
    if (!v->finished) return wb_err_set(e, WB_EUSAGE, "wb_vocab_rows: the vocabulary is not finished");
    rows[WB_VOCAB_PAD] = -1;
    rows[WB_VOCAB_OOV] = -1;
    return lookup_words(v, st, rows + WB_VOCAB_FIRST, found, e);
}

int wb_vocab_coverage(const wb_vocab *v, wb_store *st, double *types_covered,
                      double *tokens_covered, size_t k, int32_t *top_uncovered,
                      size_t *n_top, wb_err *e) {
    if (!v || !st || (k && !top_uncovered))
        return wb_err_set(e, WB_EUSAGE, "wb_vocab_coverage: NULL argument");
    if (!v->finished)
        return wb_err_set(e, WB_EUSAGE, "wb_vocab_coverage: the vocabulary is not finished");
    int64_t *rows = malloc((v->n ? v->n : 1) * sizeof *rows);
    if (!rows) return wb_err_set(e, WB_ENOMEM, "out of memory looking up %zu words", v->n);
    size_t found = 0;
    int rc = lookup_words(v, st, rows, &found, e);
    if (rc) {
        free(rows);
        return rc;
    }
    uint64_t tok = 0, tok_cov = 0;
    size_t nt = 0;
    for (size_t i = 0; i < v->n; i++) {
        tok += v->ents[i].count;
        if (rows[i] >= 0) tok_cov += v->ents[i].count;
        else if (nt < k) top_uncovered[nt++] = (int32_t)(i + WB_VOCAB_FIRST);
    }
    free(rows);
    if (types_covered) *types_covered = v->n ? (double)found / (double)v->n : 0.0;
    if (tokens_covered) *tokens_covered = tok ? (double)tok_cov / (double)tok : 0.0;
    if (n_top) *n_top = nt;
    return 0;
}
