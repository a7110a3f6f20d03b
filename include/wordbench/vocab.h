/*
 * wordbench/vocab.h — the vocabulary: word counts from the training split,
 * ids by frequency, padded index sequences, save/load, coverage by a store.
 *
 * Life cycle: wb_vocab_create, then wb_vocab_add once per TRAINING document
 * (token lists from wb_tokenize), then wb_vocab_finish(num_words, min_count)
 * which assigns the ids; from then on the vocabulary is read-only (lookup,
 * word, encode, save, coverage, rows) and may be shared by threads.
 * wb_vocab_load gives a finished vocabulary directly.  wb_vocab_destroy
 * releases everything (NULL is a no-op; safe after a failed load, which leaves
 * *out NULL).
 *
 * Ids (as Keras' Tokenizer with oov_token set):
 *   0           padding (never a word)
 *   1           out-of-vocabulary: unknown words, words cut by num_words or
 *               min_count, and empty tokens (WB_TOK_CHAR's unknown marker)
 *   2, 3, ...   words by descending training count; ties in the order of
 *               first occurrence in the training documents.  This is exactly
 *               Keras' order: fit_on_texts counts into an OrderedDict
 *               (first-occurrence order) and list.sort(key=count,
 *               reverse=True) is stable, so equal counts keep that order.
 * wb_vocab_size() is the number of ids, reserved ones included: words + 2.
 *
 * num_words semantics (the Keras trap, stated once): num_words = N keeps the
 * ids < N, i.e. the N - 2 most frequent words (ids 2 .. N-1); every other word
 * maps to 1.  This is EXACTLY Keras' Tokenizer(num_words=N, oov_token=...),
 * which keeps word_index values < N with the OOV token holding index 1 (so
 * "num_words - 1 words" counts the OOV token as one of them).  N = 0 means no
 * limit (Keras: None or 0).  N = 1 or 2 keeps no word (everything is 1).
 * min_count = C drops words seen fewer than C times BEFORE num_words is
 * applied (Keras has no min_count; C <= 1 drops nothing, as in Keras).
 *
 * Equality with Keras (tests/test_vocab.c, fixtures/keras/tokenizer_reference.json
 * made by tools/make_keras_tokenizer_reference.py): with the keras tokenizer
 * (WB_TOK_KERAS defaults), min_count 0 and num_words N (0 for None),
 *   wb_vocab_encode(v, tokens, maxlen, padding, truncating, out)
 * equals, element for element,
 *   pad_sequences(Tokenizer(num_words=N or None, oov_token='<oov>')
 *                   .fit_on_texts(train).texts_to_sequences([text]),
 *                 maxlen=maxlen, padding=padding, truncating=truncating)
 * for every padding/truncating combination.  There is no documented
 * difference in the sequences.  The only differences are elsewhere: Keras'
 * word_index also lists '<oov>' as a word at index 1 and keeps the words
 * beyond num_words; ours has no word at id 1 (wb_vocab_word(1) is "") and
 * forgets words cut by num_words/min_count.  Keras' pad_sequences defaults are
 * pre/pre; wordbench's CLI defaults are post/post, the functions here always
 * take both explicitly.
 *
 * Memory: words live in one growing arena (no allocation per word), found
 * through an open-addressing hash table keyed by XXH3-64 of the word bytes.
 * Words are byte strings compared exactly (no normalisation here; that is the
 * tokenizer's job); any length up to 4 GiB - 1 bytes.
 *
 * Saved format (version 1, all integers little-endian):
 *   offset 0   8 bytes  magic "WBVOCAB\0"
 *          8   u32      version (1)
 *         12   u32      flags (0)
 *         16   u64      words W (ids 2 .. W+1)
 *         24   u64      num_words given to finish (0 = none; informational)
 *         32   u64      min_count given to finish (informational)
 *         40   u64      body bytes B
 *         48   body     W records in id order: u64 count, u32 len, len bytes
 *     48 + B   u64      XXH3-64 of bytes [0, 48 + B)
 * Total 56 + B bytes.  Readers check the magic (WB_EFORMAT: not a wordbench
 * vocabulary), the version (WB_EVERSION: written by a newer wordbench;
 * regenerate the model with this version), the checksum and the body
 * (WB_ECORRUPT: damaged or truncated; regenerate the model).  Counts must be
 * non-increasing, words distinct.
 *
 * Not here: tokenizing (tokenize.h), reading files (reader.h), splits, the
 * dataset cache, the CLI.
 */
#ifndef WORDBENCH_VOCAB_H
#define WORDBENCH_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wordbench/err.h"
#include "wordbench/store.h"
#include "wordbench/tokenize.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_VOCAB_PAD 0             /* id of padding */
#define WB_VOCAB_OOV 1             /* id of out-of-vocabulary tokens */
#define WB_VOCAB_FIRST 2           /* id of the most frequent word */
#define WB_VOCAB_VERSION 1u        /* saved format version */
#define WB_VOCAB_HEADER_BYTES 48   /* bytes before the body in the saved format */

/* Where padding goes, and which end truncation cuts (Keras' 'pre' / 'post'). */
typedef enum wb_pad_side {
    WB_PAD_PRE = 0,  /* padding: zeros before the ids; truncating: drop the first tokens */
    WB_PAD_POST = 1  /* padding: zeros after the ids; truncating: drop the last tokens */
} wb_pad_side;

/* "pre" / "post" -> wb_pad_side; -1 when unknown. */
int wb_pad_side_parse(const char *name);

typedef struct wb_vocab wb_vocab;

/* A new, empty, unfinished vocabulary in *out.  Returns 0 or WB_ENOMEM. */
int wb_vocab_create(wb_vocab **out, wb_err *e);

/* Release everything; NULL is a no-op. */
void wb_vocab_destroy(wb_vocab *v);

/* Count the tokens of one training document (empty tokens are skipped).
 * Returns 0, WB_EUSAGE (already finished, NULL argument, a token of 4 GiB or
 * more), or WB_ENOMEM (the counts added so far by this call stay). */
int wb_vocab_add(wb_vocab *v, const wb_token_list *tokens, wb_err *e);

/* Provisional ids, for a caller that encodes before the vocabulary is final
 * (the streamed data-set build).  An unfinished vocabulary numbers its
 * entries in the order they first appear through wb_vocab_add or
 * wb_vocab_add_ids; entry k has the provisional id k + 2 (so 0 and 1 keep
 * their meanings: padding, and an empty token).  wb_vocab_finish_map then
 * says which final id each provisional id became.
 *
 * wb_vocab_add_ids: ids (tokens->n,) gets every token's provisional id
 * (WB_VOCAB_OOV for an empty token), inserting unseen words.  count 1 counts
 * the tokens exactly as wb_vocab_add does; count 0 only interns them: a word
 * that is never counted has count 0 and is no word of the finished
 * vocabulary (whatever min_count), nor counted by wb_vocab_distinct.
 * Returns as wb_vocab_add (WB_EUSAGE also for a NULL ids). */
int wb_vocab_add_ids(wb_vocab *v, const wb_token_list *tokens, int count, uint32_t *ids, wb_err *e);

/* The same for one word of len bytes: *id gets its provisional id
 * (WB_VOCAB_OOV when len is 0: nothing is added). */
int wb_vocab_add_word(wb_vocab *v, const char *word, size_t len, int count, uint32_t *id, wb_err *e);

/* Forget every count (entries and their provisional ids stay): the words
 * counted next by wb_vocab_count_ids decide counts and first-occurrence order
 * alone.  No-op on NULL or a finished vocabulary. */
void wb_vocab_recount(wb_vocab *v);

/* Count n provisional ids (ids 0 and 1 are skipped) as wb_vocab_add would
 * count their words.  Returns 0, or WB_EUSAGE (finished, NULL, an id never
 * given out). */
int wb_vocab_count_ids(wb_vocab *v, const uint32_t *ids, size_t n, wb_err *e);

/* Entries of an unfinished vocabulary (counted or only interned); after
 * finish, the words kept.  wb_vocab_entry: the bytes of entry k (provisional
 * id k + 2 before finish, id k + 2 after), *len (may be NULL) their length;
 * "" when k is out of range.  Borrowed until the next add or destroy. */
size_t wb_vocab_entries(const wb_vocab *v);
const char *wb_vocab_entry(const wb_vocab *v, size_t k, size_t *len);

/* Assign ids (see the file comment): drop words with count < min_count, sort
 * by count descending with ties in first-occurrence order, keep ids <
 * num_words (0 = all).  The vocabulary is read-only afterwards.  Returns 0,
 * WB_EUSAGE (already finished, or more than INT32_MAX ids), WB_ENOMEM. */
int wb_vocab_finish(wb_vocab *v, uint64_t num_words, uint64_t min_count, wb_err *e);

/* wb_vocab_finish, and *map (malloc'd, the caller frees; *nmap =
 * wb_vocab_entries before the call + 2 entries) gets the final id of every
 * provisional id: map[0] = 0, map[1] = 1, map[k + 2] = the id of entry k or 1
 * when it was cut (never counted, min_count, num_words).  On failure *map is
 * NULL. */
int wb_vocab_finish_map(wb_vocab *v, uint64_t num_words, uint64_t min_count, int32_t **map, size_t *nmap,
                        wb_err *e);

/* Number of ids: words + 2 (so 2 when empty or unfinished). */
size_t wb_vocab_size(const wb_vocab *v);

/* Distinct words counted by wb_vocab_add, before min_count / num_words
 * (equal to size - 2 for a loaded vocabulary). */
size_t wb_vocab_distinct(const wb_vocab *v);

/* Id of a word (len bytes, not NUL-terminated): 2 .. size-1, or 1 when the
 * word is unknown, was cut, is empty, or the vocabulary is not finished. */
int32_t wb_vocab_lookup(const wb_vocab *v, const char *word, size_t len);

/* Word of an id: returns its bytes (borrowed, NOT NUL-terminated, valid until
 * destroy), *len its length and *count (may be NULL) its training count.
 * Ids 0 and 1 and ids out of range give "" with len 0 and count 0. */
const char *wb_vocab_word(const wb_vocab *v, int32_t id, size_t *len, uint64_t *count);

/* Where a document of n tokens lands in a row of maxlen ids: tokens
 * [*first, *first + *kept) go to positions [*dst, *dst + *kept); the rest of
 * the row is padding (the rule of wb_vocab_encode, shared with the data-set
 * build). */
static inline void wb_pad_window(size_t n, size_t maxlen, wb_pad_side padding, wb_pad_side truncating,
                                 size_t *first, size_t *kept, size_t *dst) {
    *kept = n < maxlen ? n : maxlen;
    *first = (n > maxlen && truncating == WB_PAD_PRE) ? n - maxlen : 0;
    *dst = padding == WB_PAD_PRE ? maxlen - *kept : 0;
}

/* The padded index sequence of one document, as Keras' texts_to_sequences +
 * pad_sequences: ids of all tokens; when there are more than maxlen,
 * truncating PRE keeps the last maxlen, POST the first maxlen; when fewer,
 * padding PRE puts the zeros before, POST after.  out (maxlen,) is always
 * fully written.  *n_oov (may be NULL) gets the number of tokens that map to
 * 1 among ALL tokens of the document (truncated ones included); *n_tokens
 * (may be NULL) the number of tokens before truncation.  Returns 0 or
 * WB_EUSAGE (not finished, maxlen 0, NULL argument, bad side). */
int wb_vocab_encode(const wb_vocab *v, const wb_token_list *tokens, size_t maxlen,
                    wb_pad_side padding, wb_pad_side truncating, int32_t *out,
                    size_t *n_oov, size_t *n_tokens);

/* Serialise a finished vocabulary (format above) into a new malloc'd buffer:
 * *buf (caller frees with free()) and *len.  Returns 0, WB_EUSAGE (not
 * finished), WB_ENOMEM. */
int wb_vocab_save_buf(const wb_vocab *v, void **buf, size_t *len, wb_err *e);

/* Write the same bytes to f at its current position (the caller closes f and
 * checks fflush/fclose).  Returns 0, WB_EUSAGE, WB_ENOMEM, or errno (EIO when
 * unknown) on a write error. */
int wb_vocab_save(const wb_vocab *v, FILE *f, wb_err *e);

/* Read a saved vocabulary from len bytes at buf (exactly one vocabulary; more
 * bytes are WB_ECORRUPT).  *out is a finished vocabulary, or NULL on error.
 * Returns 0, WB_EFORMAT, WB_EVERSION, WB_ECORRUPT, WB_ENOMEM (see the format
 * comment; e says what is wrong and at which byte offset). */
int wb_vocab_load_buf(wb_vocab **out, const void *buf, size_t len, wb_err *e);

/* Read one saved vocabulary from f at its current position, consuming exactly
 * its bytes (so it can sit inside a model file).  Same results as
 * wb_vocab_load_buf; a short file is WB_ECORRUPT, a read error errno. */
int wb_vocab_load(wb_vocab **out, FILE *f, wb_err *e);

/* Coverage of a finished vocabulary by a store (words looked up exactly, with
 * one wb_store_lookup_many call; ids 0 and 1 are not words and not counted).
 * *types_covered: share of words found in the store; *tokens_covered: share of
 * the running training tokens found, i.e. weighted by count (both in [0, 1],
 * 0 for an empty vocabulary; either pointer may be NULL).  top_uncovered
 * (k,), may be NULL when k is 0: the ids of the k most frequent words NOT in
 * the store (ties in id order), *n_top (may be NULL) how many were written
 * (< k when fewer are missing).  Returns 0, WB_EUSAGE, WB_ENOMEM, WB_ELMDB. */
int wb_vocab_coverage(const wb_vocab *v, wb_store *st, double *types_covered,
                      double *tokens_covered, size_t k, int32_t *top_uncovered,
                      size_t *n_top, wb_err *e);

/* Store row of every id, for the trainer: rows (size,) gets rows[id] = the
 * store row of the word, or -1 when the store lacks it (always -1 for ids 0
 * and 1).  *found (may be NULL) gets the number of words found.  Returns 0,
 * WB_EUSAGE, WB_ENOMEM, WB_ELMDB. */
int wb_vocab_rows(const wb_vocab *v, wb_store *st, int64_t *rows, size_t *found,
                  wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_VOCAB_H */
