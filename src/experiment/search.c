/*
 * search.c — a search's parameters, configurations, plan file, trial
 * numbering, folds and results table (search.h).  The training of one
 * trial is in trial.c, the worker processes in workers.c, the trial log in
 * triallog.c.  Leaves out what search.h lists as not here.
 */
#include "wordbench/search.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/json.h"
#include "wordbench/split.h"
#include "wordbench/train.h"

/* ---- metrics ------------------------------------------------------------------ */

static const char *const metric_names[WB_NMET] = {"acc", "f1", "p@1", "auc", "loss", "precision", "recall"};

const char *wb_metric_name(int m) { return m >= 0 && m < WB_NMET ? metric_names[m] : "?"; }

int wb_metric_parse(const char *name) {
    for (int m = 0; m < WB_NMET; m++)
        if (name && !strcmp(name, metric_names[m])) return m;
    return -1;
}

int wb_metric_higher_better(int m) { return m != WB_MET_LOSS; }

/* ---- parameters ------------------------------------------------------------------ */

void wb_param_free(wb_param *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nvalues; i++) free(p->values[i]);
    free(p->values);
    free(p->name);
    free(p->spec);
    memset(p, 0, sizeof *p);
}

/* A decimal integer literal (optional sign, digits only). */
static int int_literal(const char *s, size_t n) {
    size_t i = (n && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (i == n) return 0;
    for (; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* A finite real from s[0..n) (the whole of it), or NaN. */
static double real_of(const char *s, size_t n) {
    char buf[64];
    if (!n || n >= sizeof buf) return NAN;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !isfinite(v)) return NAN;
    return v;
}

int wb_param_parse(const char *text, wb_param *p, wb_err *e) {
    memset(p, 0, sizeof *p);
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) return wb_err_set(e, WB_EUSAGE, "'%s': a parameter is NAME=VALUES (e.g. dropout=0.2,0.5)", text);
    for (const char *q = text; q < eq; q++)
        if (isspace((unsigned char)*q) || !isprint((unsigned char)*q))
            return wb_err_set(e, WB_EUSAGE, "'%s': the parameter name holds a blank or a control character", text);
    p->name = strndup(text, (size_t)(eq - text));
    p->spec = strdup(eq + 1);
    if (!p->name || !p->spec) {
        wb_param_free(p);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    const char *s = p->spec;
    if (!*s) {
        int rc = wb_err_set(e, WB_EUSAGE, "parameter %s has no values", p->name);
        wb_param_free(p);
        return rc;
    }
    const char *dots = strstr(s, "..");
    if (dots) { /* LO..HI[:log] */
        const char *hi = dots + 2, *colon = strchr(hi, ':');
        size_t hil = colon ? (size_t)(colon - hi) : strlen(hi);
        int logscale = 0;
        if (colon) {
            if (strcmp(colon + 1, "log")) {
                int rc = wb_err_set(e, WB_EUSAGE, "parameter %s: '%s' after a range must be ':log'", p->name, colon);
                wb_param_free(p);
                return rc;
            }
            logscale = 1;
        }
        size_t lol = (size_t)(dots - s);
        double lo = real_of(s, lol), h = real_of(hi, hil);
        int integral = int_literal(s, lol) && int_literal(hi, hil);
        const char *why = NULL;
        if (lo != lo || h != h) why = "the bounds must be finite numbers";
        else if (lo > h) why = "the lower bound is above the upper one";
        else if (logscale && lo <= 0) why = "a log range needs a lower bound above 0";
        else if (integral && (fabs(lo) > 1e15 || fabs(h) > 1e15)) why = "integer bounds beyond 1e15";
        if (why) {
            int rc = wb_err_set(e, WB_EUSAGE, "parameter %s=%s: %s", p->name, s, why);
            wb_param_free(p);
            return rc;
        }
        p->lo = lo, p->hi = h;
        p->kind = integral ? (logscale ? WB_PARAM_INT_LOG : WB_PARAM_INT) : (logscale ? WB_PARAM_REAL_LOG : WB_PARAM_REAL);
        return 0;
    }
    char sep = strchr(s, ':') ? ':' : ',';
    size_t n = 1;
    for (const char *q = s; *q; q++) n += *q == sep;
    p->values = calloc(n, sizeof *p->values);
    if (!p->values) {
        wb_param_free(p);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    for (const char *q = s;;) {
        const char *end = strchr(q, sep);
        size_t len = end ? (size_t)(end - q) : strlen(q);
        int bad = len == 0;
        for (size_t i = 0; i < len; i++) bad |= q[i] == '\t' || q[i] == '\n' || q[i] == '\r';
        if (bad) {
            int rc = wb_err_set(e, WB_EUSAGE, "parameter %s=%s: an empty value, or one with a tab or newline", p->name, s);
            wb_param_free(p);
            return rc;
        }
        if (!(p->values[p->nvalues++] = strndup(q, len))) {
            wb_param_free(p);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
        if (!end) break;
        q = end + 1;
    }
    p->kind = WB_PARAM_LIST;
    return 0;
}

/* ---- configurations ---------------------------------------------------------------------- */

void wb_plan_free(wb_plan *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nargs; i++) free(p->args[i]);
    free(p->args);
    for (size_t i = 0; i < p->nparams; i++) wb_param_free(&p->params[i]);
    free(p->params);
    for (size_t i = 0; i < p->nconfigs * p->nparams; i++) free(p->values[i]);
    free(p->values);
    memset(p, 0, sizeof *p);
}

static uint64_t mix3(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed ^ (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xBF58476D1CE4E5B9ull);
    x ^= x >> 31, x *= 0x94D049BB133111EBull, x ^= x >> 29;
    return x;
}

static double u01(wb_rng *r) { return (double)(wb_rng_next(r) >> 11) * 0x1.0p-53; }

/* A drawn value of a range parameter as its string. */
static char *draw(const wb_param *p, wb_rng *r) {
    char buf[64];
    double lo = p->lo, hi = p->hi;
    switch (p->kind) {
    case WB_PARAM_REAL: snprintf(buf, sizeof buf, "%.4g", lo + (hi - lo) * u01(r)); break;
    case WB_PARAM_REAL_LOG: snprintf(buf, sizeof buf, "%.4g", exp(log(lo) + (log(hi) - log(lo)) * u01(r))); break;
    case WB_PARAM_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)lo + (long long)wb_rng_below(r, (uint64_t)(hi - lo) + 1));
        break;
    case WB_PARAM_INT_LOG: {
        double v = floor(exp(log(lo) + (log(hi + 1) - log(lo)) * u01(r)));
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        snprintf(buf, sizeof buf, "%lld", (long long)v);
        break;
    }
    default: return NULL;
    }
    return strdup(buf);
}

/* Configuration c of the grid: value of parameter j = digit j of c in the
 * mixed radix of the list sizes, the last parameter varying fastest. */
static int grid_point(wb_plan *p, size_t row, uint64_t g) {
    for (size_t j = p->nparams; j-- > 0;) {
        const wb_param *q = &p->params[j];
        if (!(p->values[row * p->nparams + j] = strdup(q->values[g % q->nvalues]))) return -1;
        g /= q->nvalues;
    }
    return 0;
}

#define MAX_CONFIGS 1000000u

int wb_plan_create(wb_plan *p, wb_plan_opts *o, wb_err *e) {
    memset(p, 0, sizeof *p);
    if (o->k == 1 || o->k2 == 1) return wb_err_set(e, WB_EUSAGE, "cross-validation needs at least 2 folds");
    if (o->k2 && !o->k) return wb_err_set(e, WB_EUSAGE, "nested cross-validation needs outer folds (--cv K)");
    if (!o->metric || wb_metric_parse(o->metric) < 0)
        return wb_err_set(e, WB_EUSAGE, "unknown metric '%s' (acc, f1, p@1, auc, loss)", o->metric ? o->metric : "");
    if (o->random && !o->n_iter) return wb_err_set(e, WB_EUSAGE, "random search needs at least one configuration");
    if (!o->threads) return wb_err_set(e, WB_EUSAGE, "threads must be >= 1");
    uint64_t grid = 1;
    int all_lists = 1;
    for (size_t j = 0; j < o->nparams; j++) {
        const wb_param *q = &o->params[j];
        for (size_t i = 0; i < j; i++)
            if (!strcmp(o->params[i].name, q->name))
                return wb_err_set(e, WB_EUSAGE, "parameter %s is given twice", q->name);
        if (q->kind != WB_PARAM_LIST) {
            all_lists = 0;
            if (!o->random)
                return wb_err_set(e, WB_EUSAGE, "grid search needs lists: %s=%s is a range (use --n-iter N for a random search)",
                                  q->name, q->spec);
            continue;
        }
        grid = grid > MAX_CONFIGS ? grid : grid * q->nvalues;
    }
    if (all_lists && !o->random && grid > MAX_CONFIGS)
        return wb_err_set(e, WB_EUSAGE, "the grid has more than %u configurations", MAX_CONFIGS);
    p->random = o->random, p->seed = o->seed, p->n_iter = o->random ? o->n_iter : 0;
    p->k = o->k, p->k2 = o->k2, p->split_mode = o->split_mode, p->threads = o->threads, p->refit = o->refit;
    snprintf(p->metric, sizeof p->metric, "%s", o->metric);
    p->args = calloc(o->nargs ? o->nargs : 1, sizeof *p->args);
    if (!p->args) goto oom;
    for (; p->nargs < o->nargs; p->nargs++)
        if (!(p->args[p->nargs] = strdup(o->args[p->nargs]))) goto oom;
    /* the parameters move in */
    p->params = o->params, p->nparams = o->nparams;
    o->params = NULL, o->nparams = 0;

    int sample_grid = all_lists && (!o->random || grid <= o->n_iter || grid <= MAX_CONFIGS);
    size_t nc = !o->random ? (size_t)grid : (all_lists && grid <= o->n_iter ? (size_t)grid : o->n_iter);
    if (p->nparams == 0) nc = 1;
    p->values = calloc(nc * (p->nparams ? p->nparams : 1), sizeof *p->values);
    if (!p->values) goto oom;
    p->nconfigs = nc;
    if (p->nparams == 0) return 0;
    if (sample_grid && nc == grid) { /* the whole grid, in grid order */
        for (size_t c = 0; c < nc; c++)
            if (grid_point(p, c, c)) goto oom;
        return 0;
    }
    if (sample_grid) { /* n_iter distinct grid points, in the order drawn */
        uint8_t *seen = calloc((size_t)(grid + 7) / 8, 1);
        if (!seen) goto oom;
        wb_rng r;
        wb_rng_init(&r, mix3(o->seed, 0x9a1d, 0));
        for (size_t c = 0; c < nc;) {
            uint64_t g = wb_rng_below(&r, grid);
            if (seen[g / 8] & (1u << (g % 8))) continue;
            seen[g / 8] |= (uint8_t)(1u << (g % 8));
            if (grid_point(p, c++, g)) {
                free(seen);
                goto oom;
            }
        }
        free(seen);
        return 0;
    }
    wb_rng master; /* configuration c draws from a generator seeded by the c-th output of this one */
    wb_rng_init(&master, mix3(o->seed, 0xd4a3, 0));
    for (size_t c = 0; c < nc; c++) { /* independent draws */
        wb_rng r;
        wb_rng_init(&r, wb_rng_next(&master));
        for (size_t j = 0; j < p->nparams; j++) {
            const wb_param *q = &p->params[j];
            char *v = q->kind == WB_PARAM_LIST ? strdup(q->values[wb_rng_below(&r, q->nvalues)]) : draw(q, &r);
            if (!v) goto oom;
            p->values[c * p->nparams + j] = v;
        }
    }
    return 0;
oom:
    wb_plan_free(p);
    return wb_err_set(e, WB_ENOMEM, "out of memory");
}

/* ---- the plan file ------------------------------------------------------------------------- */

int wb_plan_text(const wb_plan *p, char **text, size_t *len, uint64_t *id) {
    wb_sbuf s = {0};
    wb_sb_printf(&s, "{\"wordbench_plan\": %u, \"search\": \"%s\", \"seed\": \"%llu\", \"n_iter\": %zu, \"cv\": %zu, "
                     "\"nested\": %zu, \"split_mode\": %d, \"metric\": ",
                 WB_PLAN_VERSION, p->random ? "random" : "grid", (unsigned long long)p->seed, p->n_iter, p->k, p->k2,
                 p->split_mode);
    wb_sb_json_str(&s, p->metric, strlen(p->metric));
    wb_sb_printf(&s, ", \"threads\": %zu, \"refit\": %s,\n \"args\": [", p->threads, p->refit ? "true" : "false");
    for (size_t i = 0; i < p->nargs; i++) {
        if (i) wb_sb_puts(&s, ", ");
        wb_sb_json_str(&s, p->args[i], strlen(p->args[i]));
    }
    wb_sb_puts(&s, "],\n \"params\": [");
    for (size_t j = 0; j < p->nparams; j++) {
        wb_sb_puts(&s, j ? ", {\"name\": " : "{\"name\": ");
        wb_sb_json_str(&s, p->params[j].name, strlen(p->params[j].name));
        wb_sb_puts(&s, ", \"spec\": ");
        wb_sb_json_str(&s, p->params[j].spec, strlen(p->params[j].spec));
        wb_sb_puts(&s, "}");
    }
    wb_sb_puts(&s, "],\n \"configs\": [");
    for (size_t c = 0; c < p->nconfigs; c++) {
        wb_sb_puts(&s, c ? ",\n  [" : "\n  [");
        for (size_t j = 0; j < p->nparams; j++) {
            if (j) wb_sb_puts(&s, ", ");
            const char *v = wb_plan_value(p, c, j);
            wb_sb_json_str(&s, v, strlen(v));
        }
        wb_sb_puts(&s, "]");
    }
    wb_sb_puts(&s, "]");
    uint64_t h = wb_sb_json_check(&s);
    wb_sb_puts(&s, "\n");
    if (s.oom) {
        free(s.p);
        return WB_ENOMEM;
    }
    *text = s.p, *len = s.n, *id = h;
    return 0;
}

static char *plan_path(const char *dir) {
    size_t n = strlen(dir) + 16;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/plan.json", dir);
    return p;
}

int wb_plan_save(wb_plan *p, const char *dir, wb_err *e) {
    char *text, *path = plan_path(dir);
    size_t len;
    uint64_t id;
    if (!path || wb_plan_text(p, &text, &len, &id)) {
        free(path);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    wb_awriter w;
    int rc = wb_aw_open(&w, path);
    if (!rc) {
        wb_aw_write(&w, text, len);
        rc = wb_aw_commit_text(&w);
    }
    if (rc) wb_err_at(e, rc, path, 0, -1, "cannot write the plan: %s", wb_strerror(rc));
    else p->id = id;
    free(text);
    free(path);
    return rc;
}

/* Integer member key of o in [0, max], or -1. */
static long long jint(const wb_json *o, const char *key, long long max) {
    const wb_json *v = wb_json_get(o, key);
    if (!v || v->type != WB_JNUM || v->num < 0 || v->num > (double)max || v->num != floor(v->num)) return -1;
    return (long long)v->num;
}

int wb_plan_load(wb_plan *p, const char *dir, wb_err *e) {
    memset(p, 0, sizeof *p);
    char *path = plan_path(dir);
    if (!path) return wb_err_set(e, WB_ENOMEM, "out of memory");
    unsigned char *b;
    size_t len;
    int rc = wb_read_file(path, &b, &len);
    if (rc) {
        if (rc != ENOENT) wb_err_at(e, rc, path, 0, -1, "%s", wb_strerror(rc));
        free(path);
        return rc;
    }
    const char *t = (const char *)b;
    uint64_t want;
    int ck = len && t[len - 1] == '\n' ? wb_json_check(t, len, &want, NULL) : 1;
    if (ck == 1) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "not a search plan, or truncated (no checksum at the end)");
        goto done;
    }
    if (ck == 2) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "checksum mismatch: the plan was changed or damaged");
        goto done;
    }
    wb_json j;
    size_t off;
    const char *msg;
    if (wb_json_parse(t, len, &j, &off, &msg)) {
        rc = wb_err_at(e, WB_EFORMAT, path, 0, (long long)off, "%s", msg);
        goto done;
    }
    long long ver = jint(&j, "wordbench_plan", 1000000);
    const wb_json *srch = wb_json_get(&j, "search"), *seed = wb_json_get(&j, "seed"), *met = wb_json_get(&j, "metric"),
                  *refit = wb_json_get(&j, "refit"), *args = wb_json_get(&j, "args"),
                  *params = wb_json_get(&j, "params"), *configs = wb_json_get(&j, "configs");
    long long n_iter = jint(&j, "n_iter", 1LL << 40), k = jint(&j, "cv", 1 << 20), k2 = jint(&j, "nested", 1 << 20),
              sm = jint(&j, "split_mode", 2), thr = jint(&j, "threads", 4096);
    if (ver >= 0 && ver != WB_PLAN_VERSION) {
        rc = wb_err_at(e, WB_EVERSION, path, 0, -1, "plan version %lld; this build reads version %u", ver, WB_PLAN_VERSION);
        goto json_done;
    }
    char *endp = NULL;
    if (ver < 0 || !srch || srch->type != WB_JSTR || (strcmp(srch->str, "grid") && strcmp(srch->str, "random")) ||
        !seed || seed->type != WB_JSTR || !*seed->str || n_iter < 0 || k < 0 || k2 < 0 || sm < 0 || thr < 1 || !met ||
        met->type != WB_JSTR || wb_metric_parse(met->str) < 0 || !refit || refit->type != WB_JBOOL || !args ||
        args->type != WB_JARR || !params || params->type != WB_JARR || !configs || configs->type != WB_JARR) {
        rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "a setting is missing or out of range");
        goto json_done;
    }
    errno = 0;
    unsigned long long sv = strtoull(seed->str, &endp, 10);
    if (*endp || errno || seed->str[0] == '-') {
        rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "bad seed '%s'", seed->str);
        goto json_done;
    }
    wb_plan_opts o = {.random = !strcmp(srch->str, "random"), .seed = sv, .n_iter = (size_t)n_iter, .k = (size_t)k,
                      .k2 = (size_t)k2, .split_mode = (int)sm, .metric = met->str, .threads = (size_t)thr,
                      .refit = refit->b};
    /* Build the plan by hand (the configurations are read, not drawn). */
    p->random = o.random, p->seed = o.seed, p->n_iter = o.n_iter, p->k = o.k, p->k2 = o.k2;
    p->split_mode = o.split_mode, p->threads = o.threads, p->refit = o.refit;
    snprintf(p->metric, sizeof p->metric, "%s", met->str);
    if ((p->k == 1 || p->k2 == 1 || (p->k2 && !p->k))) {
        rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "bad fold counts");
        goto json_done;
    }
    p->args = calloc(args->n ? args->n : 1, sizeof *p->args);
    p->params = calloc(params->n ? params->n : 1, sizeof *p->params);
    if (!p->args || !p->params) goto json_oom;
    for (size_t i = 0; i < args->n; i++, p->nargs++) {
        if (args->items[i].type != WB_JSTR) {
            rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "args[%zu] is not a string", i);
            goto json_done;
        }
        if (!(p->args[i] = strdup(args->items[i].str))) goto json_oom;
    }
    for (size_t i = 0; i < params->n; i++) {
        const wb_json *nm = wb_json_get(&params->items[i], "name"), *sp = wb_json_get(&params->items[i], "spec");
        if (!nm || nm->type != WB_JSTR || !sp || sp->type != WB_JSTR) {
            rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "params[%zu] needs a name and a spec", i);
            goto json_done;
        }
        wb_sbuf s = {0};
        wb_sb_printf(&s, "%s=%s", nm->str, sp->str);
        if (s.oom) goto json_oom;
        wb_err pe;
        int prc = wb_param_parse(s.p, &p->params[i], &pe);
        free(s.p);
        if (prc) {
            rc = wb_err_at(e, prc == WB_ENOMEM ? prc : WB_EFORMAT, path, 0, -1, "params[%zu]: %s", i, pe.msg);
            goto json_done;
        }
        p->nparams++;
    }
    size_t np = p->nparams;
    if (configs->n == 0 || (np == 0 && configs->n != 1) || configs->n > MAX_CONFIGS) {
        rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "bad number of configurations (%zu)", configs->n);
        goto json_done;
    }
    p->values = calloc(configs->n * (np ? np : 1), sizeof *p->values);
    if (!p->values) goto json_oom;
    p->nconfigs = configs->n;
    for (size_t c = 0; c < configs->n; c++) {
        const wb_json *row = &configs->items[c];
        if (row->type != WB_JARR || row->n != np) {
            rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "configs[%zu] does not hold %zu values", c, np);
            goto json_done;
        }
        for (size_t q = 0; q < np; q++) {
            const wb_json *v = &row->items[q];
            if (v->type != WB_JSTR || !v->len || strpbrk(v->str, "\t\n\r")) {
                rc = wb_err_at(e, WB_EFORMAT, path, 0, -1, "configs[%zu][%zu] is not a value", c, q);
                goto json_done;
            }
            if (!(p->values[c * np + q] = strdup(v->str))) goto json_oom;
        }
    }
    p->id = want;
    rc = 0;
    goto json_done;
json_oom:
    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
json_done:
    wb_json_free(&j);
done:
    if (rc) wb_plan_free(p);
    free(b);
    free(path);
    return rc;
}

/* ---- trials ---------------------------------------------------------------------------------- */

size_t wb_plan_per_config(const wb_plan *p) {
    size_t k = p->k ? p->k : 1;
    return k + (p->k2 ? p->k * p->k2 : 0);
}

size_t wb_plan_ntrials(const wb_plan *p) { return p->nconfigs * wb_plan_per_config(p) + (p->refit ? 1 : 0); }

void wb_plan_trial(const wb_plan *p, size_t t, wb_trial *out) {
    size_t per = wb_plan_per_config(p), k = p->k ? p->k : 1;
    memset(out, 0, sizeof *out);
    out->index = t;
    if (t >= p->nconfigs * per) {
        out->config = SIZE_MAX, out->outer = -1, out->inner = -1, out->refit = 1;
        return;
    }
    out->config = t / per;
    size_t r = t % per;
    if (r < k) {
        out->outer = (int)r, out->inner = -1;
    } else {
        r -= k;
        out->outer = (int)(r / p->k2), out->inner = (int)(r % p->k2);
    }
}

/* ---- folds ---------------------------------------------------------------------------------------- */

typedef struct idxset {
    uint32_t *v; /* sorted example indices, owned */
    size_t n;
} idxset;

struct wb_folds {
    size_t k, k2;
    idxset *otrain, *otest; /* (k) outer training / held-out sets (holdout: 1) */
    idxset *itrain, *itest; /* (k · k2) inner sets of outer o, fold i at o·k2 + i */
    idxset all, test;       /* the training part; the test part (refit) */
};

static void set_free(idxset *s) {
    free(s->v);
    s->v = NULL, s->n = 0;
}

void wb_folds_destroy(wb_folds *f) {
    if (!f) return;
    size_t no = f->k ? f->k : 1;
    for (size_t i = 0; f->otrain && i < no; i++) set_free(&f->otrain[i]), set_free(&f->otest[i]);
    for (size_t i = 0; f->itrain && i < f->k * f->k2; i++) set_free(&f->itrain[i]), set_free(&f->itest[i]);
    free(f->otrain), free(f->otest), free(f->itrain), free(f->itest);
    set_free(&f->all), set_free(&f->test);
    free(f);
}

/* Split base (n examples of ds) into k folds: fold[j] of base[j]. */
static int kfold(const wb_dataset *ds, const uint32_t *base, size_t n, size_t k, uint64_t seed, int mode,
                 uint32_t *fold, wb_err *e) {
    const size_t *lo;
    const uint32_t *li;
    wb_dataset_labels(ds, &lo, &li);
    size_t nnz = 0;
    for (size_t j = 0; j < n; j++) nnz += lo[base[j] + 1] - lo[base[j]];
    size_t *off = malloc((n + 1) * sizeof *off);
    uint32_t *ids = malloc((nnz ? nnz : 1) * sizeof *ids);
    if (!off || !ids) {
        free(off), free(ids);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    off[0] = 0;
    for (size_t j = 0, q = 0; j < n; j++) {
        for (size_t r = lo[base[j]]; r < lo[base[j] + 1]; r++) ids[q++] = li[r];
        off[j + 1] = off[j] + (lo[base[j] + 1] - lo[base[j]]);
    }
    wb_split_labels L = {.offsets = off, .ids = ids, .nlabels = wb_dataset_nlabels(ds)};
    int rc = wb_split_kfold(n, &L, (uint32_t)k, seed, mode, fold, e);
    free(off), free(ids);
    return rc;
}

/* Members of base with fold[j] != f (train) and == f (test). */
static int split_by(const uint32_t *base, size_t n, const uint32_t *fold, uint32_t f, idxset *train, idxset *test) {
    size_t nt = 0;
    for (size_t j = 0; j < n; j++) nt += fold[j] == f;
    train->v = malloc((n - nt ? n - nt : 1) * sizeof *train->v);
    test->v = malloc((nt ? nt : 1) * sizeof *test->v);
    if (!train->v || !test->v) return -1;
    train->n = test->n = 0;
    for (size_t j = 0; j < n; j++) {
        if (fold[j] == f) test->v[test->n++] = base[j];
        else train->v[train->n++] = base[j];
    }
    return 0;
}

static int copy_set(idxset *dst, const uint32_t *v, size_t n) {
    dst->v = malloc((n ? n : 1) * sizeof *dst->v);
    if (!dst->v) return -1;
    if (n) memcpy(dst->v, v, n * sizeof *v);
    dst->n = n;
    return 0;
}

int wb_folds_create(wb_folds **out, const wb_plan *p, const wb_dataset *ds, wb_err *e) {
    *out = NULL;
    wb_folds *f = calloc(1, sizeof *f);
    if (!f) return wb_err_set(e, WB_ENOMEM, "out of memory");
    f->k = p->k, f->k2 = p->k2;
    size_t no = p->k ? p->k : 1;
    f->otrain = calloc(no, sizeof *f->otrain);
    f->otest = calloc(no, sizeof *f->otest);
    if (p->k2) f->itrain = calloc(p->k * p->k2, sizeof *f->itrain), f->itest = calloc(p->k * p->k2, sizeof *f->itest);
    int rc = 0;
    uint32_t *fold = NULL, *fold2 = NULL;
    size_t n, nv, nt;
    uint32_t *tr = wb_split_indices(ds, WB_DS_TRAIN, &n), *va = wb_split_indices(ds, WB_DS_VALID, &nv),
             *te = wb_split_indices(ds, WB_DS_TEST, &nt);
    if (!f->otrain || !f->otest || (p->k2 && (!f->itrain || !f->itest)) || n == SIZE_MAX || nv == SIZE_MAX ||
        nt == SIZE_MAX)
        goto oom;
    if (copy_set(&f->all, tr, n) || copy_set(&f->test, te, nt)) goto oom;
    if (!n) {
        rc = wb_err_set(e, WB_EUSAGE, "the data set has no training examples");
        goto done;
    }
    if (!p->k) { /* holdout */
        if (!nv) {
            rc = wb_err_set(e, WB_EUSAGE, "holdout validation needs a valid part (--valid FILE), or use --cv K");
            goto done;
        }
        if (copy_set(&f->otrain[0], tr, n) || copy_set(&f->otest[0], va, nv)) goto oom;
        goto done;
    }
    if (n < p->k) {
        rc = wb_err_set(e, WB_EUSAGE, "%zu-fold cross-validation needs at least %zu training examples; there are %zu", p->k,
                        p->k, n);
        goto done;
    }
    fold = malloc(n * sizeof *fold);
    if (!fold) goto oom;
    if ((rc = kfold(ds, tr, n, p->k, mix3(p->seed, 0xf01d, 0), p->split_mode, fold, e))) goto done;
    for (size_t o = 0; o < p->k; o++) {
        if (split_by(tr, n, fold, (uint32_t)o, &f->otrain[o], &f->otest[o])) goto oom;
        if (!p->k2) continue;
        const idxset *ot = &f->otrain[o];
        if (ot->n < p->k2) {
            rc = wb_err_set(e, WB_EUSAGE, "outer fold %zu leaves %zu training examples, fewer than the %zu inner folds", o,
                            ot->n, p->k2);
            goto done;
        }
        free(fold2);
        fold2 = malloc(ot->n * sizeof *fold2);
        if (!fold2) goto oom;
        if ((rc = kfold(ds, ot->v, ot->n, p->k2, mix3(p->seed, 0xf01d, o + 1), p->split_mode, fold2, e))) goto done;
        for (size_t i = 0; i < p->k2; i++)
            if (split_by(ot->v, ot->n, fold2, (uint32_t)i, &f->itrain[o * p->k2 + i], &f->itest[o * p->k2 + i])) goto oom;
    }
    goto done;
oom:
    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
done:
    free(tr), free(va), free(te), free(fold), free(fold2);
    if (rc) wb_folds_destroy(f);
    else *out = f;
    return rc;
}

void wb_folds_get(const wb_folds *f, const wb_trial *t, const uint32_t **train, size_t *ntrain, const uint32_t **test,
                  size_t *ntest) {
    const idxset *a, *b;
    if (t->refit) a = &f->all, b = &f->test;
    else if (t->inner >= 0) a = &f->itrain[(size_t)t->outer * f->k2 + (size_t)t->inner], b = &f->itest[(size_t)t->outer * f->k2 + (size_t)t->inner];
    else a = &f->otrain[t->outer], b = &f->otest[t->outer];
    *train = a->v, *ntrain = a->n, *test = b->v, *ntest = b->n;
}

/* ---- results table ----------------------------------------------------------------------------------- */

void wb_trial_result_free(wb_trial_result *r) {
    if (!r) return;
    free(r->history);
    r->history = NULL;
}

static int better(double a, double b, int higher) {
    if (a != a) return 0;
    if (b != b) return 1;
    return higher ? a > b : a < b;
}

/* Mean and sd of the non-NaN values of x[0..n). */
static void mean_sd(const double *x, size_t n, double *mean, double *sd) {
    double s = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] == x[i]) s += x[i], m++;
    if (!m) {
        *mean = NAN, *sd = NAN;
        return;
    }
    *mean = s / (double)m;
    double v = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] == x[i]) v += (x[i] - *mean) * (x[i] - *mean);
    *sd = m > 1 ? sqrt(v / (double)(m - 1)) : 0;
}

static int metric_of_sort; /* qsort has no context argument: the metric, set by the caller */

static int cmp_rows(const void *pa, const void *pb) {
    const wb_table_row *a = pa, *b = pb;
    int ca = a->folds == a->expected, cb = b->folds == b->expected;
    if (ca != cb) return cb - ca; /* complete rows first */
    if (ca) {
        double x = a->mean[metric_of_sort], y = b->mean[metric_of_sort];
        int hb = wb_metric_higher_better(metric_of_sort);
        if (better(x, y, hb)) return -1;
        if (better(y, x, hb)) return 1;
    }
    return (a->config > b->config) - (a->config < b->config);
}

int wb_search_table(const wb_plan *p, wb_trial_result *const *res, int metric, wb_table_row **rows, size_t *nrows,
                    wb_err *e) {
    size_t per = wb_plan_per_config(p), k = p->k ? p->k : 1;
    *rows = NULL, *nrows = 0;
    wb_table_row *r = calloc(p->nconfigs ? p->nconfigs : 1, sizeof *r);
    double *x = malloc(k * sizeof *x);
    if (!r || !x) {
        free(r), free(x);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    size_t nr = 0;
    for (size_t c = 0; c < p->nconfigs; c++) {
        wb_trial_result *const *t = res + c * per;
        size_t got = 0;
        for (size_t o = 0; o < k; o++) got += t[o] != NULL;
        if (!got) continue;
        wb_table_row *row = &r[nr++];
        row->config = c, row->folds = got, row->expected = k;
        for (int m = 0; m < WB_NMET; m++) {
            size_t q = 0;
            for (size_t o = 0; o < k; o++)
                if (t[o]) x[q++] = t[o]->metric[m];
            mean_sd(x, q, &row->mean[m], &row->sd[m]);
        }
        double ts = 0, eps = 0;
        for (size_t o = 0; o < k; o++)
            if (t[o]) ts += t[o]->train_s, eps += t[o]->examples_per_s;
        row->train_s = ts / (double)got, row->examples_per_s = eps / (double)got;
    }
    free(x);
    metric_of_sort = metric;
    qsort(r, nr, sizeof *r, cmp_rows);
    for (size_t i = 0, rank = 1; i < nr; i++)
        if (r[i].folds == r[i].expected) r[i].rank = rank++;
    *rows = r, *nrows = nr;
    return 0;
}

size_t wb_search_best(const wb_plan *p, wb_trial_result *const *res, int metric) {
    size_t per = wb_plan_per_config(p), k = p->k ? p->k : 1, best = SIZE_MAX;
    double bm = NAN;
    int hb = wb_metric_higher_better(metric);
    for (size_t c = 0; c < p->nconfigs; c++) {
        double s = 0;
        size_t m = 0, got = 0;
        for (size_t o = 0; o < k; o++) {
            const wb_trial_result *t = res[c * per + o];
            if (!t) continue;
            got++;
            if (t->metric[metric] == t->metric[metric]) s += t->metric[metric], m++;
        }
        if (got < k) continue;
        double mean = m ? s / (double)m : NAN;
        if (best == SIZE_MAX || better(mean, bm, hb)) best = c, bm = mean;
    }
    return best;
}

size_t wb_search_nested(const wb_plan *p, wb_trial_result *const *res, int metric, wb_nested_fold *out) {
    size_t per = wb_plan_per_config(p), complete = 0;
    int hb = wb_metric_higher_better(metric);
    for (size_t o = 0; o < p->k; o++) {
        wb_nested_fold *f = &out[o];
        memset(f, 0, sizeof *f);
        f->config = SIZE_MAX, f->inner_mean = NAN, f->score = NAN;
        int all = p->k2 > 0;
        for (size_t c = 0; c < p->nconfigs && all; c++) {
            double s = 0;
            size_t m = 0;
            for (size_t i = 0; i < p->k2; i++) {
                const wb_trial_result *t = res[c * per + p->k + o * p->k2 + i];
                if (!t) {
                    all = 0;
                    break;
                }
                if (t->metric[metric] == t->metric[metric]) s += t->metric[metric], m++;
            }
            if (!all) break;
            double mean = m ? s / (double)m : NAN;
            if (f->config == SIZE_MAX || better(mean, f->inner_mean, hb)) f->config = c, f->inner_mean = mean;
        }
        if (!all || f->config == SIZE_MAX) {
            f->config = SIZE_MAX;
            continue;
        }
        const wb_trial_result *t = res[f->config * per + o];
        if (!t) continue;
        f->score = t->metric[metric];
        f->complete = 1;
        complete++;
    }
    return complete;
}
/* ---- embeddings modes compared ------------------------------------------------------------------------- */

size_t wb_plan_param_index(const wb_plan *p, const char *name) {
    for (size_t j = 0; j < p->nparams; j++)
        if (!strcmp(p->params[j].name, name)) return j;
    return SIZE_MAX;
}

/* Do configurations a and b agree on every parameter but skip? */
static int same_but(const wb_plan *p, size_t a, size_t b, size_t skip) {
    for (size_t j = 0; j < p->nparams; j++)
        if (j != skip && strcmp(wb_plan_value(p, a, j), wb_plan_value(p, b, j))) return 0;
    return 1;
}

void wb_compare_free(wb_compare_group *g, size_t n) {
    for (size_t i = 0; g && i < n; i++) free(g[i].modes), free(g[i].scores);
    free(g);
}

int wb_search_compare(const wb_plan *p, wb_trial_result *const *res, int metric, size_t pe, const char *base,
                      wb_compare_group **groups, size_t *ngroups, wb_err *e) {
    *groups = NULL, *ngroups = 0;
    if (pe >= p->nparams) return wb_err_set(e, WB_EUSAGE, "parameter %zu of %zu", pe, p->nparams);
    size_t k = p->k ? p->k : 1, per = wb_plan_per_config(p), nc = p->nconfigs, ng = 0;
    double tt = k > 1 ? 1.0 / (double)(k - 1) : 0;
    size_t *group = malloc((nc ? nc : 1) * sizeof *group);
    wb_compare_group *g = calloc(nc ? nc : 1, sizeof *g);
    if (!group || !g) goto nomem;
    for (size_t a = 0; a < nc; a++) {
        group[a] = SIZE_MAX;
        for (size_t b = 0; b < a && group[a] == SIZE_MAX; b++)
            if (same_but(p, a, b, pe)) group[a] = group[b];
        if (group[a] == SIZE_MAX) g[ng].first = a, g[ng].base = SIZE_MAX, group[a] = ng++;
        g[group[a]].nmodes++;
    }
    for (size_t i = 0; i < ng; i++) {
        g[i].modes = calloc(g[i].nmodes, sizeof *g[i].modes);
        g[i].scores = malloc(g[i].nmodes * k * sizeof *g[i].scores);
        if (!g[i].modes || !g[i].scores) goto nomem;
        g[i].nmodes = 0;
    }
    for (size_t a = 0; a < nc; a++) {
        wb_compare_group *gr = &g[group[a]];
        wb_compare_mode *m = &gr->modes[gr->nmodes];
        double *sc = gr->scores + gr->nmodes * k;
        gr->nmodes++;
        m->config = a, m->mode = wb_plan_value(p, a, pe), m->scores = sc;
        for (size_t o = 0; o < k; o++)
            if (res[a * per + o]) sc[m->folds++] = res[a * per + o]->metric[metric];
        m->mean = wb_stats_mean(sc, m->folds), m->sd = wb_stats_sd(sc, m->folds);
        if (!strcmp(m->mode, base) && gr->base == SIZE_MAX) gr->base = a, m->is_base = 1;
    }
    for (size_t i = 0; i < ng; i++) {
        const wb_compare_mode *bm = NULL;
        for (size_t q = 0; q < g[i].nmodes; q++)
            if (g[i].modes[q].is_base) bm = &g[i].modes[q];
        if (!bm || bm->folds != k) continue;
        for (size_t q = 0; q < g[i].nmodes; q++) {
            wb_compare_mode *m = &g[i].modes[q];
            if (m->is_base || m->folds != k) continue;
            int rc = wb_stats_paired(m->scores, bm->scores, k, tt, &m->paired, e);
            if (rc == WB_ENOMEM) goto nomem;
            m->tested = !rc;
        }
    }
    free(group);
    *groups = g, *ngroups = ng;
    return 0;
nomem:
    free(group);
    wb_compare_free(g, nc);
    return wb_err_set(e, WB_ENOMEM, "out of memory");
}

