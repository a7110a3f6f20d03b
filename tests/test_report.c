/*
 * test_report.c — specification of the report (src/experiment/report.c)
 * and its drawings (src/experiment/svg.c).
 *
 * Contains:
 *   - XML escaping: markup characters, control characters and invalid
 *     UTF-8 (as U+FFFD), cutting at a number of characters;
 *   - line charts: gaps at NaN, markers, legend entries once per name, "no
 *     data"; heat maps: one cell per value with its title;
 *   - the page of a binary and a multi-label model trained by the CLI: it
 *     is well-formed XML, and so is every <svg> in it (xmllint --noout,
 *     when libxml2-utils is installed: CI installs it), it has every
 *     section, and no script, no external reference;
 *   - the page rendered by headless Chromium (Debian chromium; skipped with
 *     a message when missing, CI installs it): the screenshot is decoded
 *     (PNG through zlib) and must not be blank — a share of non-white
 *     pixels, the report's blue present — while a screenshot of an empty
 *     page must fail the same check (so the check can fail).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "testutil.h"
#include "wordbench/report.h"
#include "wordbench/svg.h"

static int have(const char *prog) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return tu_run(cmd, NULL, NULL) == 0;
}

/* xmllint --noout on a file: 0 well-formed; -1 when xmllint is missing. */
static int xmllint(const char *path, char **err) {
    if (!have("xmllint")) return -1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s'", path);
    return tu_run(cmd, NULL, err) == 0 ? 0 : 1;
}

/* What a stream-writing function printed. */
static char *capture(void (*fn)(FILE *, void *), void *arg) {
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void esc(FILE *f, void *arg) {
    const char *s = arg;
    wb_xml_text(f, s, strlen(s), 0);
}

static void esc5(FILE *f, void *arg) {
    const char *s = arg;
    wb_xml_text(f, s, strlen(s), 5);
}

static void test_xml_text(void **state) {
    (void)state;
    char *o = capture(esc, "a<b>&\"c'\x01\tz");
    assert_string_equal(o, "a&lt;b&gt;&amp;&quot;c&#39;\xEF\xBF\xBD\tz");
    free(o);
    o = capture(esc, "caf\xC3\xA9 \xFF\xC3 \xED\xA0\x80");
    assert_string_equal(o, "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    free(o);
    o = capture(esc5, "\xC3\xA9t\xC3\xA9 long");
    assert_string_equal(o, "\xC3\xA9t\xC3\xA9 l\xE2\x80\xA6");
    free(o);
    o = capture(esc5, "short");
    assert_string_equal(o, "short");
    free(o);
}

static size_t count(const char *s, const char *sub) {
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub)) n++;
    return n;
}

static void check_xml(const char *text, const char *name) {
    char *path = tu_path(tu_dir, name), *err = NULL;
    assert_int_equal(tu_write_file(path, text, strlen(text)), 0);
    int rc = xmllint(path, &err);
    if (rc > 0) fail_msg("%s is not well-formed: %s", name, err ? err : "");
    if (rc < 0) print_message("xmllint missing (Debian libxml2-utils): %s not checked\n", name);
    free(err), free(path);
}

typedef struct chart_arg {
    const wb_series *s;
    size_t n;
} chart_arg;

static void chart(FILE *f, void *arg) {
    const chart_arg *a = arg;
    wb_chart c = {"Loss & <curves>", "epoch", "loss", 600, 300, NAN, NAN};
    assert_int_equal(wb_svg_lines(f, &c, a->s, a->n), 0);
}

static void test_lines(void **state) {
    (void)state;
    double x[5] = {1, 2, 3, 4, 5}, y1[5] = {0.9, 0.5, NAN, 0.3, 0.2}, y2[5] = {1.0, 0.7, 0.6, 0.55, 0.5};
    wb_series s[3] = {{"model a", x, y1, 5, 0, 0}, {"model a", x, y2, 5, 1, 1}, {"b & c", x, y2, 5, 2, 0}};
    chart_arg a = {s, 3};
    char *o = capture(chart, &a);
    assert_int_equal(count(o, "<polyline"), 4); /* the gap splits the first line */
    assert_int_equal(count(o, "<circle"), 14);
    assert_int_equal(count(o, ">model a</text>"), 1); /* one legend entry per name */
    assert_non_null(strstr(o, "b &amp; c"));
    assert_non_null(strstr(o, "stroke-dasharray"));
    assert_null(strstr(o, "no data"));
    check_xml(o, "lines.svg");
    free(o);
    double nan5[5] = {NAN, NAN, NAN, NAN, NAN};
    wb_series e[1] = {{"empty", x, nan5, 5, 0, 0}};
    chart_arg b = {e, 1};
    o = capture(chart, &b);
    assert_non_null(strstr(o, "no data"));
    assert_int_equal(count(o, "<polyline"), 0);
    check_xml(o, "empty.svg");
    free(o);
}

static void heat(FILE *f, void *arg) {
    (void)arg;
    const char *rl[3] = {"ham", "spam", "a<b"}, *cl[4] = {"ham", "spam", "a<b", "(other)"};
    double v[12] = {10, 2, 0, 1, 3, 20, 0, 0, 0, 0, 0, 0};
    assert_int_equal(wb_svg_heatmap(f, "Confusion", rl, cl, v, 3, 4), 0);
}

static void test_heatmap(void **state) {
    (void)state;
    char *o = capture(heat, NULL);
    assert_int_equal(count(o, "<rect"), 12);
    assert_int_equal(count(o, "<title>"), 12);
    assert_non_null(strstr(o, "spam \xE2\x86\x92 spam: 20</title>"));
    assert_non_null(strstr(o, "a&lt;b"));
    assert_non_null(strstr(o, "fill=\"#f7fbff\"")); /* the empty row stays white */
    check_xml(o, "heat.svg");
    free(o);
}

/* ---- the page ------------------------------------------------------------------ */

static char *train(const char *name, const char *args) {
    char cmd[2048], *path = tu_path(tu_dir, name), *err = NULL;
    snprintf(cmd, sizeof cmd, "%s train -q %s --embeddings learned --emb-dim 8 --epochs 6 -o %s", WB_CLI, args, path);
    if (tu_run(cmd, NULL, &err) != 0) fail_msg("%s: %s", cmd, err ? err : "");
    free(err);
    return path;
}

static char *g_page; /* path of the page test_page wrote */

static void test_page(void **state) {
    (void)state;
    char *bin = train("bin.wbm", "--data " WB_FIXTURES "/text/demo_sentiment.tsv --maxlen 20 --model kim --filters 8");
    char *ml = train("ml.wbm", "--data " WB_FIXTURES "/text/demo_topics.txt --maxlen 20 --model pool --hidden 8");
    wb_report_opts o;
    wb_report_opts_init(&o);
    o.title = "test <report>";
    o.errors = 5;
    wb_report *r;
    wb_err e;
    assert_int_equal(wb_report_create(&r, &o, &e), 0);
    wb_bundle *b1, *b2;
    wb_labelled l1, l2;
    assert_int_equal(wb_bundle_load(&b1, bin, 64, &e), 0);
    assert_int_equal(wb_bundle_load(&b2, ml, 64, &e), 0);
    assert_int_equal(wb_bundle_attach_store(b1, NULL, &e) | wb_bundle_attach_store(b2, NULL, &e), 0);
    assert_int_equal(wb_bundle_read(b1, WB_FIXTURES "/text/demo_sentiment_test.tsv", NULL, 0, 1, &l1, &e), 0);
    assert_int_equal(wb_bundle_read(b2, WB_FIXTURES "/text/demo_topics.txt", NULL, 0, 1, &l2, &e), 0);
    assert_int_equal(wb_report_add_model(r, bin, b1, &l1, "sentiment_test.tsv", &e), 0);
    assert_int_equal(wb_report_add_model(r, ml, b2, &l2, "topics.txt", &e), 0);
    assert_int_equal(wb_report_add_model(r, bin, b1, NULL, NULL, &e), 0); /* no data: configuration only */
    assert_int_not_equal(wb_report_add_model(r, "/nonexistent.wbm", b1, NULL, NULL, &e), 0);
    char *page = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&page, &n);
    assert_int_equal(wb_report_write(r, f, &e), 0);
    fclose(f);
    wb_report_destroy(r);
    wb_labelled_free(&l1), wb_labelled_free(&l2);
    wb_bundle_destroy(b1), wb_bundle_destroy(b2);

    static const char *const want[] = {"<title>test &lt;report&gt;</title>", "id=\"compare\"", "class=\"best\"",
                                       "Confusion: 2 of 2 labels", "Per class",
                                       "Most confident errors", "Configuration", "model file checksum",
                                       "No labelled data given", "class=\"tok\""};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(page, want[i])) fail_msg("the page lacks %s", want[i]);
    assert_int_equal(count(page, "<h2 id=\"m"), 3);
    assert_int_equal(count(page, ">Confusion: "), 2);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "src="));
    assert_null(strstr(page, "<link"));
    assert_int_equal(count(page, "http"), count(page, "xmlns=\"http://www.w3.org/2000/svg\""));
    check_xml(page, "page.html");
    /* every drawing on its own */
    size_t k = 0;
    for (const char *p = page; (p = strstr(p, "<svg ")); k++) {
        const char *end = strstr(p, "</svg>");
        assert_non_null(end);
        end += 6;
        char *svg = strndup(p, (size_t)(end - p)), name[32];
        snprintf(name, sizeof name, "page-%zu.svg", k);
        check_xml(svg, name);
        free(svg);
        p = end;
    }
    assert_true(k >= 2);
    g_page = tu_path(tu_dir, "page.html");
    free(page), free(bin), free(ml);
}

/* ---- the screenshot ------------------------------------------------------------------ */

typedef struct image {
    uint32_t w, h;
    unsigned char *rgb; /* (h, w, 3) */
} image;

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* An 8-bit RGB or RGBA PNG (not interlaced) into img.  0 or -1. */
static int png_read(const char *path, image *img) {
    size_t n;
    unsigned char *b = (unsigned char *)tu_read_file(path, &n), *z = NULL, *raw = NULL;
    int rc = -1;
    if (!b || n < 8 || memcmp(b, "\x89PNG\r\n\x1a\n", 8)) goto out;
    size_t zn = 0, zcap = 0, bpp = 0;
    for (size_t at = 8; at + 12 <= n;) {
        uint32_t len = be32(b + at);
        const unsigned char *type = b + at + 4, *d = b + at + 8;
        if (at + 12 + len > n) goto out;
        if (!memcmp(type, "IHDR", 4)) {
            img->w = be32(d), img->h = be32(d + 4);
            if (d[8] != 8 || (d[9] != 2 && d[9] != 6) || d[12] != 0) goto out;
            bpp = d[9] == 6 ? 4 : 3;
        } else if (!memcmp(type, "IDAT", 4)) {
            if (zn + len > zcap) {
                zcap = (zn + len) * 2;
                unsigned char *t = realloc(z, zcap);
                if (!t) goto out;
                z = t;
            }
            memcpy(z + zn, d, len);
            zn += len;
        }
        at += 12 + len;
    }
    if (!bpp || !z) goto out;
    size_t stride = (size_t)img->w * bpp;
    uLongf rawn = (uLongf)(img->h * (stride + 1));
    raw = malloc(rawn);
    img->rgb = malloc((size_t)img->w * img->h * 3);
    if (!raw || !img->rgb || uncompress(raw, &rawn, z, zn) != Z_OK || rawn != img->h * (stride + 1)) goto out;
    unsigned char *prev = NULL;
    for (uint32_t y = 0; y < img->h; y++) {
        unsigned char *row = raw + y * (stride + 1) + 1, ft = row[-1];
        for (size_t i = 0; i < stride; i++) {
            int a = i >= bpp ? row[i - bpp] : 0, u = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0, p;
            switch (ft) {
            case 0: p = 0; break;
            case 1: p = a; break;
            case 2: p = u; break;
            case 3: p = (a + u) / 2; break;
            case 4: {
                int pa = abs(u - c), pb = abs(a - c), pc = abs(a + u - 2 * c);
                p = pa <= pb && pa <= pc ? a : pb <= pc ? u : c;
                break;
            }
            default: goto out;
            }
            row[i] = (unsigned char)(row[i] + p);
        }
        for (uint32_t x = 0; x < img->w; x++) memcpy(img->rgb + ((size_t)y * img->w + x) * 3, row + x * bpp, 3);
        prev = row;
    }
    rc = 0;
out:
    free(b), free(z), free(raw);
    if (rc) free(img->rgb), img->rgb = NULL;
    return rc;
}

/* Not blank: at least 2% of the pixels are not (near) white, and the
 * report's blue (#4e79a7, the headings' rule and the links) is there. */
static int not_blank(const image *img, double *ink, size_t *blue) {
    size_t n = (size_t)img->w * img->h, dark = 0;
    *blue = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = img->rgb + i * 3;
        dark += p[0] < 235 || p[1] < 235 || p[2] < 235;
        *blue += abs(p[0] - 0x4e) < 24 && abs(p[1] - 0x79) < 24 && abs(p[2] - 0xa7) < 24;
    }
    *ink = (double)dark / (double)n;
    return *ink >= 0.02 && *blue >= 200;
}

static int screenshot(const char *page, const char *png) {
    char cmd[2048], *prof = tu_path(tu_dir, "chromium-profile");
    tu_rmrf(prof);
    snprintf(cmd, sizeof cmd,
             "timeout 180 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
             "--disable-component-update --disable-sync --no-first-run --user-data-dir='%s' --window-size=1200,1600 "
             "--screenshot='%s' 'file://%s' >/dev/null 2>&1",
             prof, png, page);
    int rc = tu_run(cmd, NULL, NULL);
    tu_rmrf(prof);
    free(prof);
    return rc;
}

static void test_screenshot(void **state) {
    (void)state;
    if (!have("chromium")) {
        print_message("chromium missing (Debian chromium): the screenshot test is skipped\n");
        skip();
    }
    assert_non_null(g_page);
    char *png = tu_path(tu_dir, "page.png"), *blank = tu_path(tu_dir, "blank.html"), *bpng = tu_path(tu_dir, "blank.png");
    assert_int_equal(screenshot(g_page, png), 0);
    image img = {0};
    assert_int_equal(png_read(png, &img), 0);
    assert_int_equal(img.w, 1200);
    double ink;
    size_t blue;
    if (!not_blank(&img, &ink, &blue)) fail_msg("the screenshot looks blank: %.2f%% ink, %zu blue pixels", 100 * ink, blue);
    print_message("report screenshot %ux%u: %.1f%% ink, %zu blue pixels\n", img.w, img.h, 100 * ink, blue);
    free(img.rgb);
    /* the check fails on an empty page */
    const char *empty = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"/></head><body></body></html>";
    assert_int_equal(tu_write_file(blank, empty, strlen(empty)), 0);
    assert_int_equal(screenshot(blank, bpng), 0);
    image bimg = {0};
    assert_int_equal(png_read(bpng, &bimg), 0);
    assert_false(not_blank(&bimg, &ink, &blue));
    free(bimg.rgb);
    free(png), free(blank), free(bpng);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_text), cmocka_unit_test(test_lines),      cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_page),     cmocka_unit_test(test_screenshot),
    };
    int rc = cmocka_run_group_tests(tests, tu_dir_setup, tu_dir_teardown);
    free(g_page);
    return rc;
}
