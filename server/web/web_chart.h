/* web_chart.h: a horizontal bar chart as inline SVG, built in C: no script,
 * no library, nothing fetched. The dossier page draws each unit's on-time
 * rate against the district's average with it.
 *
 * The drawing has a fixed coordinate system (viewBox 400 wide) and scales to
 * the width of its box, so it reads on a phone as on a desk. Colours are
 * classes of the style sheet (the Content-Security-Policy allows no inline
 * style); geometry is attributes. */
#ifndef WEB_CHART_H
#define WEB_CHART_H

#include <stdio.h>

typedef struct {
    const char *label; /* the unit's name (escaped here; cut to fit, whole in <title>) */
    const char *value; /* a percentage as the database writes it ("98.70"), or NULL */
} web_bar_t;

/* Writes <svg> with one bar per item, scaled 0-100, a bar below avg in the
 * second colour, and a dashed line at avg with avg_label (avg NULL: no
 * line). id names the chart's title element (unique in the page). */
void web_chart_bars(FILE *f, const char *id, const char *title, const web_bar_t *bars, int n,
                    const char *avg, const char *avg_label);

#endif
