/*
 * wordbench/svg.h — the drawings of the report as standalone SVG 1.1
 * elements (well-formed XML with the SVG namespace, so they can be checked
 * by xmllint and inlined in HTML): line charts (learning curves) and heat
 * maps (confusion matrices), plus XML text escaping.
 *
 * Everything is written to a stdio stream; the library draws nothing by
 * itself (no fonts, no scripts): text uses the page's sans-serif font.
 * Numbers are written with %.2f (pixels) and %.4g (values), so the same
 * input gives the same bytes.
 *
 * Deliberately not here: interactivity, log axes, bar charts.
 */
#ifndef WORDBENCH_SVG_H
#define WORDBENCH_SVG_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The i-th colour of the palette (Tableau 10, cycling): "#4e79a7"... */
const char *wb_svg_color(size_t i);

/* Text for XML content or attribute values: & < > " ' escaped, control
 * characters other than TAB and LF and bytes that are not valid UTF-8
 * written as U+FFFD, at most max_chars characters (0 = all; an ellipsis
 * marks a cut). */
void wb_xml_text(FILE *f, const char *s, size_t n, size_t max_chars);

/* One line of a chart: n points (x[i], y[i]); a point with a NaN y is a
 * gap.  color indexes wb_svg_color; dashed draws it dashed (validation
 * curves are solid, training dashed, in the report). */
typedef struct wb_series {
    const char *name;            /* legend text, NULL = not in the legend */
    const double *x, *y;         /* (n) */
    size_t n;
    size_t color;
    int dashed;
} wb_series;

/* Axes and frame of a line chart. */
typedef struct wb_chart {
    const char *title;           /* above the plot, or NULL */
    const char *xlabel, *ylabel; /* axis titles, or NULL */
    double width, height;        /* pixels of the whole drawing (legend included) */
    double ymin, ymax;           /* NaN = from the data (with a margin) */
} wb_chart;

/* Draw the series as one <svg> element: nice ticks on both axes, grid
 * lines, markers when a series has at most 40 points, a legend below (one
 * entry per distinct name).  Series with no finite point are skipped; with
 * none at all the frame says "no data".  Returns 0, or -1 when writing
 * failed (ferror). */
int wb_svg_lines(FILE *f, const wb_chart *c, const wb_series *s, size_t ns);

/* A heat map of R × C values v (row-major): cell colour by v / the row's
 * sum (white to dark blue; a row summing to 0 stays white), the count in
 * the cell when cells are large enough, row labels on the left (the true
 * label), column labels above, rotated (the prediction), each cut to 24
 * characters, and a <title> per cell with both labels and the count.
 * Returns 0 or -1 (ferror). */
int wb_svg_heatmap(FILE *f, const char *title, const char *const *rlab, const char *const *clab, const double *v,
                   size_t R, size_t C);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_SVG_H */
