/* web_chart.c: a horizontal bar chart as SVG (see web_chart.h).
 *
 *   0        148 152                       342        400
 *   |  label   | |=========== bar ========|     | value |
 *
 * One row of S_ROW units per bar under a header row for the average's
 * label, an axis at 0, 50 and 100 under them. */
#include "web_chart.h"
#include "cli_export.h"

#include <stdlib.h>
#include <string.h>

#define S_W 400
#define S_LABEL_END 148
#define S_X0 152
#define S_BAR_W 190
#define S_ROW 22
#define S_TOP 22
#define S_LABEL_CHARS 19 /* characters of a label shown; longer ones end in "…" */

/* v as a percentage clamped to 0-100; -1 when NULL or not a number. */
static double s_pct(const char *v)
{
    if (!v || !*v)
        return -1;
    char *end;
    double d = strtod(v, &end);
    if (*end || d != d) /* not a number, or NaN */
        return -1;
    return d < 0 ? 0 : d > 100 ? 100 : d;
}

/* s escaped, cut after max characters (UTF-8 code points) with "…". */
static void s_label(FILE *f, const char *s, int max)
{
    size_t bytes = 0;
    int chars = 0;
    while (s[bytes] && chars < max) {
        bytes++;
        while ((s[bytes] & 0xC0) == 0x80)
            bytes++;
        chars++;
    }
    char *cut = strndup(s, bytes);
    cli_export_html_text(f, cut ? cut : "");
    free(cut);
    if (s[bytes])
        fputs("…", f);
}

void web_chart_bars(FILE *f, const char *id, const char *title, const web_bar_t *bars, int n,
                    const char *avg, const char *avg_label)
{
    int h = S_TOP + n * S_ROW + 22;
    double a = s_pct(avg);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-labelledby=\"%s\">\n<title id=\"%s\">",
            S_W, h, id, id);
    cli_export_html_text(f, title);
    fputs("</title>\n", f);
    for (int i = 0; i < n; i++) {
        double v = s_pct(bars[i].value);
        int y = S_TOP + i * S_ROW;
        fputs("<g><title>", f);
        cli_export_html_text(f, bars[i].label);
        fputs(": ", f);
        cli_export_html_text(f, bars[i].value ? bars[i].value : "không có số liệu");
        fputs(bars[i].value ? " %</title>" : "</title>", f);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", S_LABEL_END, y + 15);
        s_label(f, bars[i].label ? bars[i].label : "", S_LABEL_CHARS);
        fputs("</text>", f);
        fprintf(f, "<rect class=\"track\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"14\"/>", S_X0,
                y + 4, S_BAR_W);
        if (v >= 0)
            fprintf(f, "<rect class=\"bar%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\"/>",
                    a >= 0 && v < a ? " below" : "", S_X0, y + 4, v / 100.0 * S_BAR_W);
        fprintf(f, "<text class=\"v\" x=\"%d\" y=\"%d\">", S_X0 + S_BAR_W + 6, y + 15);
        cli_export_html_text(f, bars[i].value ? bars[i].value : "-");
        fputs("</text></g>\n", f);
    }
    int axis_y = S_TOP + n * S_ROW + 14;
    for (int k = 0; k <= 2; k++)
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%d</text>",
                S_X0 + k * S_BAR_W / 2, axis_y, k * 50);
    fputc('\n', f);
    if (a >= 0) {
        double x = S_X0 + a / 100.0 * S_BAR_W;
        fprintf(f, "<line class=\"avg\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", x,
                S_TOP - 4, x, S_TOP + n * S_ROW);
        fprintf(f, "<text class=\"avgl\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">", x, S_TOP - 8,
                a > 60 ? "end" : "start");
        cli_export_html_text(f, avg_label ? avg_label : "");
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}
