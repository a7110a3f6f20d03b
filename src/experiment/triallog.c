/*
 * triallog.c — the trial log of a search (triallog.h): one checked JSON
 * line per finished trial, appended under a lock, read back skipping torn
 * and damaged lines.  Leaves out compaction.
 */
#include "wordbench/triallog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"

static const char *const met_keys[WB_NMET] = {"acc", "f1", "p@1", "auc", "loss", "precision", "recall"};

int wb_triallog_format(const wb_trial_result *r, uint64_t plan_id, char **line, size_t *len) {
    wb_sbuf s = {0};
    wb_sb_printf(&s, "{\"plan\": \"%016llx\", \"trial\": %zu, \"config\": %zu, \"outer\": %d, \"inner\": %d, \"refit\": %s, "
                     "\"n_train\": %zu, \"n_test\": %zu",
                 (unsigned long long)plan_id, r->trial, r->config, r->outer, r->inner, r->refit ? "true" : "false",
                 r->ntrain, r->ntest);
    for (int m = 0; m < WB_NMET; m++) {
        wb_sb_printf(&s, ", \"%s\": ", met_keys[m]);
        wb_sb_json_num(&s, r->metric[m]);
    }
    wb_sb_printf(&s, ", \"epochs\": %zu, \"train_s\": ", r->epochs);
    wb_sb_json_num(&s, r->train_s);
    wb_sb_puts(&s, ", \"wall_s\": ");
    wb_sb_json_num(&s, r->wall_s);
    wb_sb_puts(&s, ", \"examples_per_s\": ");
    wb_sb_json_num(&s, r->examples_per_s);
    wb_sb_puts(&s, ", \"history\": [");
    for (size_t i = 0; i < r->epochs && r->history; i++) {
        const wb_epoch *h = &r->history[i];
        wb_sb_printf(&s, "%s[%zu, ", i ? ", " : "", h->epoch);
        wb_sb_json_num(&s, h->loss);
        wb_sb_puts(&s, ", ");
        wb_sb_json_num(&s, h->acc);
        wb_sb_puts(&s, ", ");
        wb_sb_json_num(&s, h->has_val ? h->val_loss : NAN);
        wb_sb_puts(&s, ", ");
        wb_sb_json_num(&s, h->has_val ? h->val_acc : NAN);
        wb_sb_puts(&s, ", ");
        wb_sb_json_num(&s, h->seconds);
        wb_sb_puts(&s, "]");
    }
    wb_sb_puts(&s, "]");
    wb_sb_json_check(&s);
    wb_sb_puts(&s, "\n");
    if (s.oom) {
        free(s.p);
        return WB_ENOMEM;
    }
    *line = s.p, *len = s.n;
    return 0;
}

/* A number member: 0 and *out, or -1 (null is NaN when allow_null). */
static int num(const wb_json *o, const char *key, int allow_null, double *out) {
    const wb_json *v = wb_json_get(o, key);
    if (v && v->type == WB_JNUM) return *out = v->num, 0;
    if (v && allow_null && v->type == WB_JNULL) return *out = NAN, 0;
    return -1;
}

/* An integer member in [lo, hi]. */
static int integer(const wb_json *o, const char *key, double lo, double hi, double *out) {
    if (num(o, key, 0, out) || *out < lo || *out > hi || *out != floor(*out)) return -1;
    return 0;
}

static int bad(wb_err *e, long long off, const char *fmt, const char *what) {
    return wb_err_at(e, WB_EFORMAT, NULL, 0, off, fmt, what);
}

int wb_triallog_parse(const char *line, size_t len, wb_trial_result *r, uint64_t *plan_id, wb_err *e) {
    memset(r, 0, sizeof *r);
    if (len && line[len - 1] == '\n') len--;
    /* the checksum first: nothing of a line that fails it is looked at */
    size_t body;
    int ck = wb_json_check(line, len, NULL, &body);
    if (ck == 1) return bad(e, (long long)len, "%s", "no checksum at the end of the line (torn or not a trial record)");
    if (ck == 2) return bad(e, (long long)body, "%s", "checksum mismatch");
    wb_json j;
    size_t off;
    const char *msg;
    if (wb_json_parse(line, len, &j, &off, &msg)) return bad(e, (long long)off, "%s", msg);
    int rc = 0;
    const wb_json *pl = wb_json_get(&j, "plan"), *rf = wb_json_get(&j, "refit"), *hist = wb_json_get(&j, "history");
    double trial = 0, config = 0, outer = 0, inner = 0, ntr = 0, nte = 0, epochs = 0; /* set when rc stays 0 (GCC -O3 cannot tell) */
    const double big = 9007199254740992.0; /* 2^53: every integer below is exact */
    if (j.type != WB_JOBJ) rc = bad(e, 0, "%s", "not an object");
    else if (!pl || pl->type != WB_JSTR || wb_hex64(pl->str, pl->len, plan_id)) rc = bad(e, 0, "%s", "bad or missing \"plan\"");
    else if (integer(&j, "trial", 0, big, &trial)) rc = bad(e, 0, "bad or missing \"%s\"", "trial");
    else if (integer(&j, "config", 0, big, &config)) rc = bad(e, 0, "bad or missing \"%s\"", "config");
    else if (integer(&j, "outer", -1, 1 << 30, &outer)) rc = bad(e, 0, "bad or missing \"%s\"", "outer");
    else if (integer(&j, "inner", -1, 1 << 30, &inner)) rc = bad(e, 0, "bad or missing \"%s\"", "inner");
    else if (!rf || rf->type != WB_JBOOL) rc = bad(e, 0, "bad or missing \"%s\"", "refit");
    else if (integer(&j, "n_train", 0, big, &ntr)) rc = bad(e, 0, "bad or missing \"%s\"", "n_train");
    else if (integer(&j, "n_test", 0, big, &nte)) rc = bad(e, 0, "bad or missing \"%s\"", "n_test");
    else if (integer(&j, "epochs", 0, 1e9, &epochs)) rc = bad(e, 0, "bad or missing \"%s\"", "epochs");
    else if (num(&j, "train_s", 1, &r->train_s) || num(&j, "wall_s", 1, &r->wall_s) ||
             num(&j, "examples_per_s", 1, &r->examples_per_s))
        rc = bad(e, 0, "%s", "bad or missing timing");
    else if (!hist || hist->type != WB_JARR || hist->n != (size_t)epochs)
        rc = bad(e, 0, "%s", "\"history\" must hold one entry per epoch");
    for (int m = 0; !rc && m < WB_NMET; m++)
        if (num(&j, met_keys[m], 1, &r->metric[m])) rc = bad(e, 0, "bad or missing \"%s\"", met_keys[m]);
    if (!rc) {
        r->trial = (size_t)trial, r->config = (size_t)config, r->outer = (int)outer, r->inner = (int)inner;
        r->refit = rf->b, r->ntrain = (size_t)ntr, r->ntest = (size_t)nte, r->epochs = (size_t)epochs;
        if (r->epochs && !(r->history = calloc(r->epochs, sizeof *r->history))) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        for (size_t i = 0; !rc && i < r->epochs; i++) {
            const wb_json *h = &hist->items[i];
            wb_epoch *ep = &r->history[i];
            int ok = h->type == WB_JARR && h->n == 6 && h->items[0].type == WB_JNUM && h->items[0].num >= 1 &&
                     h->items[0].num <= 1e9 && h->items[0].num == floor(h->items[0].num);
            double v[5];
            for (int q = 0; ok && q < 5; q++) {
                const wb_json *x = &h->items[q + 1];
                if (x->type == WB_JNUM) v[q] = x->num;
                else if (x->type == WB_JNULL) v[q] = NAN;
                else ok = 0;
            }
            if (!ok) {
                rc = bad(e, 0, "%s", "a \"history\" entry is not [epoch, loss, acc, val_loss, val_acc, seconds]");
                break;
            }
            ep->epoch = (size_t)h->items[0].num, ep->loss = v[0], ep->acc = v[1];
            ep->has_val = v[2] == v[2], ep->val_loss = ep->has_val ? v[2] : 0, ep->val_acc = ep->has_val ? v[3] : 0;
            ep->seconds = v[4];
        }
    }
    wb_json_free(&j);
    if (rc) wb_trial_result_free(r);
    return rc;
}

int wb_triallog_append(const char *path, const wb_trial_result *r, uint64_t plan_id, wb_err *e) {
    char *line;
    size_t len;
    if (wb_triallog_format(r, plan_id, &line, &len)) return wb_err_set(e, WB_ENOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    int rc = 0;
    if (fd < 0) {
        rc = errno;
        goto done;
    }
    while (flock(fd, LOCK_EX))
        if (errno != EINTR) {
            rc = errno;
            goto done;
        }
    /* A partial last line belongs to a writer that died holding the lock
     * (nobody else can be writing now): cut it off. */
    struct stat sb;
    if (fstat(fd, &sb)) {
        rc = errno;
        goto done;
    }
    if (sb.st_size > 0) {
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        char c = '\n';
        if (rfd < 0 || pread(rfd, &c, 1, sb.st_size - 1) != 1) rc = rfd < 0 ? errno : EIO;
        if (!rc && c != '\n') {
            off_t keep = sb.st_size - 1;
            char buf[4096];
            while (keep > 0) { /* back to just after the last '\n' */
                off_t from = keep > (off_t)sizeof buf ? keep - (off_t)sizeof buf : 0;
                ssize_t k = pread(rfd, buf, (size_t)(keep - from), from);
                if (k != keep - from) {
                    rc = EIO;
                    break;
                }
                char *nl = memrchr(buf, '\n', (size_t)k);
                if (nl) {
                    keep = from + (nl - buf) + 1;
                    break;
                }
                keep = from;
            }
            if (!rc && ftruncate(fd, keep)) rc = errno;
        }
        if (rfd >= 0) close(rfd);
        if (rc) goto done;
    }
    for (size_t done = 0; done < len;) {
        ssize_t k = write(fd, line + done, len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            rc = k < 0 ? errno : EIO;
            goto done;
        }
        done += (size_t)k;
    }
    if (fdatasync(fd)) rc = errno;
done:
    if (fd >= 0) close(fd); /* releases the lock */
    if (rc) wb_err_at(e, rc, path, 0, -1, "cannot append to the trial log: %s", wb_strerror(rc));
    free(line);
    return rc;
}

/* Does r agree with the plan?  NULL or what is wrong. */
static const char *inconsistent(const wb_plan *p, const wb_trial_result *r) {
    size_t nt = wb_plan_ntrials(p);
    if (r->trial >= nt) return "trial index beyond the plan";
    wb_trial t;
    wb_plan_trial(p, r->trial, &t);
    if (r->refit != t.refit) return "refit flag contradicts the plan";
    if (r->config >= p->nconfigs) return "configuration beyond the plan";
    if (!t.refit && (r->config != t.config || r->outer != t.outer || r->inner != t.inner))
        return "configuration or folds contradict the plan";
    return NULL;
}

int wb_triallog_read(const char *path, const wb_plan *p, wb_trial_result **res, wb_triallog_stats *st, wb_err *e) {
    unsigned char *b;
    size_t len;
    int rc = wb_read_file(path, &b, &len);
    if (rc == ENOENT) return 0;
    if (rc) return wb_err_at(e, rc, path, 0, -1, "%s", wb_strerror(rc));
    size_t nt = wb_plan_ntrials(p);
    long long ln = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        const char *s = (const char *)b + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        ln++;
        st->lines++;
        wb_trial_result r;
        uint64_t id;
        wb_err pe;
        if (!nl || wb_triallog_parse(s, n, &r, &id, &pe)) {
            if (!nl) st->torn++;
            else {
                if (!st->damaged) snprintf(st->first_damaged, sizeof st->first_damaged, "%.500s:%lld", path, ln);
                st->damaged++;
            }
            continue;
        }
        const char *why = id != p->id ? "written by another search (its plan id differs)" : inconsistent(p, &r);
        if (why) {
            wb_trial_result_free(&r);
            rc = wb_err_at(e, WB_EFORMAT, path, ln, -1, "%s; use another run directory", why);
            break;
        }
        st->records++;
        if (res[r.trial] && !r.refit) {
            st->duplicates++;
            wb_trial_result_free(&r);
            continue;
        }
        if (res[r.trial]) st->duplicates++, wb_trial_result_free(res[r.trial]);
        else if (!(res[r.trial] = malloc(sizeof **res))) {
            wb_trial_result_free(&r);
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            break;
        }
        *res[r.trial] = r;
    }
    (void)nt;
    free(b);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int wb_triallog_read_dir(const char *dir, const wb_plan *p, wb_trial_result **res, wb_triallog_stats *st, wb_err *e) {
    size_t dl = strlen(dir);
    char *path = malloc(dl + 300);
    if (!path) return wb_err_set(e, WB_ENOMEM, "out of memory");
    snprintf(path, dl + 300, "%s/trials.jsonl", dir);
    int rc = wb_triallog_read(path, p, res, st, e);
    snprintf(path, dl + 300, "%s/tasks", dir);
    DIR *d = rc ? NULL : opendir(path);
    if (d) {
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (de->d_name[0] == '.' || l < 7 || l > 250 || strcmp(de->d_name + l - 6, ".jsonl")) continue;
            if (n == cap) {
                char **q = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *q);
                if (!q) break;
                names = q;
            }
            if (!(names[n] = strdup(de->d_name))) break;
            n++;
        }
        closedir(d);
        if (n) qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n; i++) {
            snprintf(path, dl + 300, "%s/tasks/%s", dir, names[i]);
            if (!rc) rc = wb_triallog_read(path, p, res, st, e);
            free(names[i]);
        }
        free(names);
    }
    free(path);
    return rc;
}

void wb_triallog_results_free(wb_trial_result **res, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (res[i]) {
            wb_trial_result_free(res[i]);
            free(res[i]);
            res[i] = NULL;
        }
}
