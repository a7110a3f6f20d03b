/*
 * svg.c — line charts and heat maps as standalone SVG elements (svg.h),
 * and XML escaping.
 *
 * Layout of a line chart: the plot area sits inside margins for the tick
 * labels (left, bottom) and the title; the legend is a grid of entries
 * below it.  Ticks are "nice" steps (1, 2 or 5 × 10^k) covering the data.
 * Leaves out: anything interactive, axes other than linear.
 */
#include "wordbench/svg.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static const char *const palette[10] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

const char *wb_svg_color(size_t i) { return palette[i % 10]; }

/* Length of the well-formed UTF-8 sequence at p, 0 when there is none. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (!n || (size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))) return 0; /* overlong, surrogate */
    if (n == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0; /* overlong, > U+10FFFF */
    return n;
}

void wb_xml_text(FILE *f, const char *s, size_t n, size_t max_chars) {
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t chars = 0;
    while (p < end) {
        if (max_chars && chars == max_chars) {
            fputs("\xE2\x80\xA6", f); /* … */
            return;
        }
        size_t l = utf8_len(p, end);
        chars++;
        if (!l) {
            fputs("\xEF\xBF\xBD", f);
            p++;
            continue;
        }
        unsigned c = *p;
        if (l > 1) fwrite(p, 1, l, f);
        else if (c == '&') fputs("&amp;", f);
        else if (c == '<') fputs("&lt;", f);
        else if (c == '>') fputs("&gt;", f);
        else if (c == '"') fputs("&quot;", f);
        else if (c == '\'') fputs("&#39;", f);
        else if (c < 0x20 && c != '\t' && c != '\n') fputs("\xEF\xBF\xBD", f);
        else fputc((int)c, f);
        p += l;
    }
}

/* A nice tick step for a range: 1, 2 or 5 × 10^k, about `want` ticks. */
static double nice_step(double range, int want) {
    if (!(range > 0)) return 1;
    double raw = range / want, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

static void open_svg(FILE *f, double w, double h) {
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
            "font-family=\"sans-serif\" font-size=\"11\">\n",
            w, h, w, h);
}

int wb_svg_lines(FILE *f, const wb_chart *c, const wb_series *s, size_t ns) {
    double W = c->width > 200 ? c->width : 200, H = c->height > 150 ? c->height : 150;
    /* data range */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < ns; i++)
        for (size_t k = 0; k < s[i].n; k++) {
            if (!isfinite(s[i].y[k]) || !isfinite(s[i].x[k])) continue;
            x0 = fmin(x0, s[i].x[k]), x1 = fmax(x1, s[i].x[k]);
            y0 = fmin(y0, s[i].y[k]), y1 = fmax(y1, s[i].y[k]);
        }
    int empty = !(x0 <= x1);
    if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (isfinite(c->ymin)) y0 = c->ymin;
    if (isfinite(c->ymax)) y1 = c->ymax;
    if (!(y1 > y0)) y0 -= 0.5, y1 += 0.5;
    if (!(x1 > x0)) x0 -= 0.5, x1 += 0.5;
    double ystep = nice_step(y1 - y0, 5), xstep = nice_step(x1 - x0, 8);
    if (!isfinite(c->ymin)) y0 = floor(y0 / ystep) * ystep;
    if (!isfinite(c->ymax)) y1 = ceil(y1 / ystep) * ystep;
    if (xstep < 1 && floor(x0) == x0 && floor(x1) == x1) xstep = 1; /* epochs: whole numbers */
    /* legend entries: distinct names */
    size_t nleg = 0;
    for (size_t i = 0; i < ns; i++) {
        if (!s[i].name) continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++) dup |= s[j].name && !strcmp(s[j].name, s[i].name);
        nleg += !dup;
    }
    double colw = 170, rowh = 16;
    size_t percol = (size_t)((W - 20) / colw) ? (size_t)((W - 20) / colw) : 1;
    size_t legrows = (nleg + percol - 1) / percol;
    double ml = 58, mr = 16, mt = c->title ? 26 : 12, mb = 40 + (double)legrows * rowh + (legrows ? 6 : 0);
    double pw = W - ml - mr, ph = H - mt - mb;
    if (ph < 60) {
        H += 60 - ph;
        ph = 60;
    }
    open_svg(f, W, H);
    if (c->title) {
        fprintf(f, "<text x=\"%.2f\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">", W / 2);
        wb_xml_text(f, c->title, strlen(c->title), 0);
        fputs("</text>\n", f);
    }
    fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#fff\" stroke=\"#999\"/>\n", ml, mt, pw,
            ph);
#define PX(x) (ml + ((x) - x0) / (x1 - x0) * pw)
#define PY(y) (mt + ph - ((y) - y0) / (y1 - y0) * ph)
    /* grid and ticks */
    for (double t = ceil(y0 / ystep - 1e-9) * ystep; t <= y1 + ystep * 1e-9; t += ystep) {
        double py = PY(t);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>", ml, py, ml + pw, py);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%.4g</text>\n", ml - 5, py + 4, fabs(t) < ystep * 1e-9 ? 0.0 : t);
    }
    for (double t = ceil(x0 / xstep - 1e-9) * xstep; t <= x1 + xstep * 1e-9; t += xstep) {
        double px = PX(t);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>", px, mt, px, mt + ph);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%.4g</text>\n", px, mt + ph + 14, t);
    }
    if (c->xlabel) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", ml + pw / 2, mt + ph + 30);
        wb_xml_text(f, c->xlabel, strlen(c->xlabel), 0);
        fputs("</text>\n", f);
    }
    if (c->ylabel) {
        fprintf(f, "<text x=\"12\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 12 %.2f)\">", mt + ph / 2,
                mt + ph / 2);
        wb_xml_text(f, c->ylabel, strlen(c->ylabel), 0);
        fputs("</text>\n", f);
    }
    if (empty)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n", ml + pw / 2,
                mt + ph / 2);
    /* the lines: polylines broken at gaps */
    for (size_t i = 0; i < ns; i++) {
        const wb_series *q = &s[i];
        const char *col = wb_svg_color(q->color);
        fprintf(f, "<g stroke=\"%s\" fill=\"none\" stroke-width=\"1.8\"%s>", col, q->dashed ? " stroke-dasharray=\"5 3\"" : "");
        if (q->name) {
            fputs("<title>", f);
            wb_xml_text(f, q->name, strlen(q->name), 0);
            fputs("</title>", f);
        }
        int open = 0;
        for (size_t k = 0; k < q->n; k++) {
            int fin = isfinite(q->y[k]) && isfinite(q->x[k]);
            if (fin && !open) fputs("<polyline points=\"", f), open = 1;
            else if (!fin && open) fputs("\"/>", f), open = 0;
            if (fin) {
                double y = fmin(fmax(q->y[k], y0), y1);
                fprintf(f, "%.2f,%.2f ", PX(q->x[k]), PY(y));
            }
        }
        if (open) fputs("\"/>", f);
        if (q->n <= 40)
            for (size_t k = 0; k < q->n; k++)
                if (isfinite(q->y[k]) && isfinite(q->x[k]))
                    fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.2\" fill=\"%s\"/>", PX(q->x[k]),
                            PY(fmin(fmax(q->y[k], y0), y1)), col);
        fputs("</g>\n", f);
    }
#undef PX
#undef PY
    /* legend */
    size_t e = 0;
    for (size_t i = 0; i < ns; i++) {
        if (!s[i].name) continue;
        int dup = 0;
        for (size_t j = 0; j < i; j++) dup |= s[j].name && !strcmp(s[j].name, s[i].name);
        if (dup) continue;
        double lx = 10 + (double)(e % percol) * colw, ly = mt + ph + 46 + (double)(e / percol) * rowh;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>", lx, ly - 4,
                lx + 22, ly - 4, wb_svg_color(s[i].color), s[i].dashed ? " stroke-dasharray=\"5 3\"" : "");
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", lx + 27, ly);
        wb_xml_text(f, s[i].name, strlen(s[i].name), 26);
        fputs("</text>\n", f);
        e++;
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}

/* White (#f7fbff) to dark blue (#08306b) for t in [0, 1]. */
static void blue(double t, int *r, int *g, int *b) {
    t = fmin(fmax(t, 0), 1);
    *r = (int)lround(247 + (8 - 247) * t);
    *g = (int)lround(251 + (48 - 251) * t);
    *b = (int)lround(255 + (107 - 255) * t);
}

int wb_svg_heatmap(FILE *f, const char *title, const char *const *rlab, const char *const *clab, const double *v,
                   size_t R, size_t C) {
    double cell = R > C ? 560.0 / (double)R : 560.0 / (double)(C ? C : 1);
    if (cell > 56) cell = 56;
    if (cell < 6) cell = 6;
    /* margins from the longest labels (≈ 6.5 px a character at 11 px, cut to 24) */
    size_t rmax = 1, cmax = 1;
    for (size_t i = 0; i < R; i++) rmax = strlen(rlab[i]) > rmax ? strlen(rlab[i]) : rmax;
    for (size_t j = 0; j < C; j++) cmax = strlen(clab[j]) > cmax ? strlen(clab[j]) : cmax;
    rmax = rmax > 25 ? 25 : rmax, cmax = cmax > 25 ? 25 : cmax;
    double ml = 30 + 6.5 * (double)rmax, mt = (title ? 26 : 8) + 22 + 5.7 * (double)cmax;
    double W = ml + cell * (double)C + 30, H = mt + cell * (double)R + 12;
    if (W < 300) W = 300;
    open_svg(f, W, H);
    if (title) {
        fprintf(f, "<text x=\"%.2f\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">", W / 2);
        wb_xml_text(f, title, strlen(title), 0);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#555\">predicted</text>\n",
            ml + cell * (double)C / 2, (title ? 26.0 : 8.0) + 10);
    fprintf(f, "<text x=\"12\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#555\" transform=\"rotate(-90 12 %.2f)\">true</text>\n",
            mt + cell * (double)R / 2, mt + cell * (double)R / 2);
    double fs = cell < 11 ? cell - 1 : 11;
    for (size_t j = 0; j < C; j++) {
        double x = ml + cell * ((double)j + 0.5) + fs / 3, y = mt - 4;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" transform=\"rotate(-60 %.2f %.2f)\">", x, y, fs, x, y);
        wb_xml_text(f, clab[j], strlen(clab[j]), 24);
        fputs("</text>\n", f);
    }
    for (size_t i = 0; i < R; i++) {
        double sum = 0;
        for (size_t j = 0; j < C; j++) sum += v[i * C + j];
        double y = mt + cell * (double)i;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"%.1f\">", ml - 4, y + cell / 2 + fs / 3, fs);
        wb_xml_text(f, rlab[i], strlen(rlab[i]), 24);
        fputs("</text>\n", f);
        for (size_t j = 0; j < C; j++) {
            double val = v[i * C + j], t = sum > 0 ? val / sum : 0;
            int r, g, b;
            blue(t, &r, &g, &b);
            double x = ml + cell * (double)j;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%02x%02x%02x\" stroke=\"#fff\" stroke-width=\"0.5\"><title>",
                    x, y, cell, cell, r, g, b);
            wb_xml_text(f, rlab[i], strlen(rlab[i]), 0);
            fputs(" \xE2\x86\x92 ", f);
            wb_xml_text(f, clab[j], strlen(clab[j]), 0);
            fprintf(f, ": %.0f</title></rect>", val);
            if (cell >= 22 && val > 0)
                fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"%.1f\" fill=\"%s\">%.0f</text>",
                        x + cell / 2, y + cell / 2 + 4, val >= 1000 ? 8.0 : 10.0, t > 0.5 ? "#fff" : "#222", val);
            fputc('\n', f);
        }
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -1 : 0;
}
