/*
 * cli.c — option tables, parsing, diagnostics and output helpers for the
 * wordbench command (see cli.h).  Leaves out: the commands themselves.
 */
#include "cli.h"
#include "wordbench/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wordbench/utf8.h"

static int opt_index(const cli_cmd *cmd, const char *name) {
    for (int i = 0; cmd->opts[i].name; i++)
        if (!strcmp(cmd->opts[i].name, name)) return i;
    return -1;
}

void cli_help(const cli_cmd *cmd, FILE *f) {
    fprintf(f, "usage: wordbench %s %s\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis, cmd->summary);
    for (int i = 0; cmd->opts[i].name; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        if (o->arg && o->arg[0] == '[') /* an optional value: --name[=VALUE] */
            snprintf(left, sizeof left, "    --%s[=%.*s]", o->name, (int)strlen(o->arg) - 2, o->arg + 1);
        else if (o->shortc)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->shortc, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-28s %s", left, o->help);
        if (o->def) fprintf(f, " (default: %s)", o->def);
        if (o->repeat) fprintf(f, " (repeatable)");
        fputc('\n', f);
    }
    fprintf(f, "\nexit status: 0 success, 1 failure, 2 usage error. See docs/cli.md.\n");
}

/* A message on stderr with every byte that would not print as itself
 * escaped: control characters as \t \n \r or \xNN, bytes that are not part
 * of valid UTF-8 as \xNN.  Messages quote words and file contents; a word
 * with a CR or a binary file's bytes must not garble the terminal. */
static void put_message(const char *fmt, va_list ap) {
    char buf[4096];
    vsnprintf(buf, sizeof buf, fmt, ap);
    const unsigned char *p = (const unsigned char *)buf, *e = p + strlen(buf);
    while (p < e) {
        unsigned c = *p;
        size_t k;
        uint32_t cp;
        if (c == '\t') fputs("\\t", stderr), p++;
        else if (c == '\n') fputs("\\n", stderr), p++;
        else if (c == '\r') fputs("\\r", stderr), p++;
        else if (c < 0x20 || c == 0x7f) fprintf(stderr, "\\x%02x", c), p++;
        else if (c < 0x80) fputc((int)c, stderr), p++;
        else if ((k = wb_utf8_next((const char *)p, (size_t)(e - p), &cp))) fwrite(p, 1, k, stderr), p += k;
        else fprintf(stderr, "\\x%02x", c), p++;
    }
}

int cli_usage(const cli *c, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "wordbench %s: ", c->cmd->name);
    va_start(ap, fmt);
    put_message(fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'wordbench %s --help'.\n", c->cmd->name);
    return EXIT_USAGE;
}

void cli_warn(const char *fmt, ...) {
    va_list ap;
    fputs("wordbench: ", stderr);
    va_start(ap, fmt);
    put_message(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const wb_err *e, int rc) {
    char buf[2048];
    if (e && e->code) {
        wb_err_format(e, buf, sizeof buf);
        cli_warn("%s", buf);
    } else {
        cli_warn("%s", wb_strerror(rc));
    }
    return EXIT_FAIL;
}

int cli_parse(cli *c, const cli_cmd *cmd, int argc, char **argv) {
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    struct option lo[CLI_MAX_OPTS + 1];
    char so[3 * CLI_MAX_OPTS + 2] = "";
    int n = 0;
    for (; cmd->opts[n].name; n++) {
        if (n == CLI_MAX_OPTS) { /* a command table larger than the parser's arrays: a build error */
            fprintf(stderr, "wordbench %s: more than %d options; raise CLI_MAX_OPTS\n", cmd->name, CLI_MAX_OPTS);
            abort();
        }
        const cli_opt *o = &cmd->opts[n];
        lo[n].name = o->name;
        lo[n].has_arg = !o->arg ? no_argument : o->arg[0] == '[' ? optional_argument : required_argument;
        lo[n].flag = NULL;
        lo[n].val = 1000 + n;
        c->val[n] = o->def;
        if (o->shortc) {
            size_t k = strlen(so);
            so[k] = (char)o->shortc;
            so[k + 1] = 0;
            if (o->arg) strcat(so, ":");
        }
    }
    memset(&lo[n], 0, sizeof lo[n]);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
        int i = -1;
        if (ch >= 1000) i = ch - 1000;
        else if (ch != '?' && ch != ':')
            for (int j = 0; j < n; j++)
                if (cmd->opts[j].shortc == ch) i = j;
        if (i < 0) {
            char shortopt[3] = {'-', (char)optopt, 0};
            const char *bad = optopt ? shortopt : argv[optind - 1];
            if (optopt && strchr(so, optopt))
                return cli_usage(c, "option '%s' needs a value", bad);
            return cli_usage(c, "unknown option '%s' (an argument that starts with '-' goes after '--')", bad);
        }
        const cli_opt *o = &cmd->opts[i];
        if (!strcmp(o->name, "help")) {
            cli_help(cmd, stdout);
            return -1;
        }
        if (o->repeat && c->given[i]) {
            size_t len = strlen(c->val[i]) + strlen(optarg) + 2;
            char *j = malloc(len);
            snprintf(j, len, "%s\n%s", c->val[i], optarg);
            free(c->owned[i]);
            c->owned[i] = j;
            c->val[i] = j;
        } else {
            c->val[i] = o->arg ? (optarg ? optarg : "") : "1";
        }
        c->given[i] = 1;
    }
    c->argc = argc - optind;
    c->argv = argv + optind;
    if (c->argc < cmd->min_args) return cli_usage(c, "missing argument (usage: wordbench %s %s)", cmd->name, cmd->synopsis);
    if (cmd->max_args >= 0 && c->argc > cmd->max_args)
        return cli_usage(c, "too many arguments: '%s'", c->argv[cmd->max_args]);
    c->quiet = cli_flag(c, "quiet");
    c->json = cli_flag(c, "json");
    c->progress = !c->quiet && isatty(2);
    if (cli_flag(c, "verify-on-open")) wb_store_set_open_flags(WB_STORE_OPEN_VERIFY);
    return 0;
}

void cli_free(cli *c) {
    for (int i = 0; i < CLI_MAX_OPTS; i++) free(c->owned[i]);
}

const char *cli_str(const cli *c, const char *name) {
    int i = opt_index(c->cmd, name);
    return i < 0 ? NULL : c->val[i];
}

int cli_given(const cli *c, const char *name) {
    int i = opt_index(c->cmd, name);
    return i >= 0 && c->given[i];
}

int cli_flag(const cli *c, const char *name) {
    return cli_given(c, name);
}

int cli_u64(const cli *c, const char *name, uint64_t min, uint64_t max, uint64_t *out) {
    const char *s = cli_str(c, name);
    if (!s) { *out = min; return 0; }
    char *end;
    errno = 0;
    if (*s == '-' || *s == 0) return cli_usage(c, "--%s must be a number from %llu to %llu, not '%s'", name,
                                               (unsigned long long)min, (unsigned long long)max, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return cli_usage(c, "--%s must be a number from %llu to %llu, not '%s'", name, (unsigned long long)min,
                         (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cli_f32(const cli *c, const char *name, double lo, double hi, float *out) {
    double v = *out;
    if (cli_f64(c, name, lo, hi, 0, &v)) return EXIT_USAGE;
    *out = (float)v;
    return 0;
}

int cli_size(const cli *c, const char *name, uint64_t min, uint64_t max, uint64_t *out) {
    const char *s = cli_str(c, name);
    if (!s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    double mul = 1;
    const char *u = "KMGT";
    if (*end) {
        const char *k = strchr(u, *end >= 'a' ? *end - 32 : *end);
        if (!k || !*k) goto bad;
        mul = (double)(1ull << (10 * (k - u + 1)));
        end++;
        if (!strcmp(end, "B") || !strcmp(end, "iB")) end += strlen(end);
    }
    if (!*s || *end || errno || !(v >= 0) || !(v * mul >= (double)min && v * mul <= (double)max)) goto bad;
    *out = (uint64_t)(v * mul);
    return 0;
bad:
    return cli_usage(c, "--%s must be a size in bytes (suffix K, M, G or T) from %llu to %llu, not '%s'", name,
                     (unsigned long long)min, (unsigned long long)max, s);
}

int cli_f64(const cli *c, const char *name, double lo, double hi, int hi_open, double *out) {
    const char *s = cli_str(c, name);
    if (!s) return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && (hi_open ? v < hi : v <= hi))) {
        if (hi_open) return cli_usage(c, "--%s must be a number from %g up to (not including) %g, not '%s'", name, lo, hi, s);
        return cli_usage(c, "--%s must be a number in [%g, %g], not '%s'", name, lo, hi, s);
    }
    *out = v;
    return 0;
}

int cli_choice(const cli *c, const char *name, const char *choices) {
    const char *s = cli_str(c, name);
    int idx = 0;
    for (const char *p = choices; s && *p; idx++) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strlen(s) == n && !strncmp(s, p, n)) return idx;
        p += n + (e ? 1 : 0);
    }
    cli_usage(c, "--%s must be one of %s, not '%s'", name, choices, s ? s : "");
    return -1;
}

void json_str(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        unsigned c = *p;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c), p++;
        else if (c == '\n') fputs("\\n", f), p++;
        else if (c == '\t') fputs("\\t", f), p++;
        else if (c == '\r') fputs("\\r", f), p++;
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c), p++;
        else if (c < 0x80) fputc((int)c, f), p++;
        else {
            uint32_t cp;
            size_t k = wb_utf8_next((const char *)p, (size_t)(e - p), &cp);
            if (k) fwrite(p, 1, k, f), p += k;
            else fputs("\\ufffd", f), p++; /* not UTF-8: U+FFFD, as most decoders do */
        }
    }
    fputc('"', f);
}

void json_num(FILE *f, double v) {
    if (v != v || v - v != 0) fputs("null", f); /* JSON has no NaN or Inf */
    else fprintf(f, "%.9g", v);
}

void cli_progress(const cli *c, int done, const char *fmt, ...) {
    if (!c->progress) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%-79.79s%s", line, done ? "\n" : "");
    fflush(stderr);
}

volatile sig_atomic_t cli_stop;

static void on_stop_signal(int sig) {
    (void)sig;
    cli_stop = 1;
}

void cli_catch_stop(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_stop_requested(void *ctx) {
    (void)ctx;
    return cli_stop != 0;
}

const char *cli_bytes(char *buf, size_t n, double b) {
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (b >= 1000 && i < 4) b /= 1000, i++;
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", b, u[i]);
    return buf;
}
