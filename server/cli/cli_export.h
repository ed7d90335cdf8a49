/* cli_export.h: figures (cli_out.h) as an Excel workbook and as one printable
 * HTML page, the two forms of the consolidated report (cchc summary).
 *
 * The workbook has one sheet per figure, named by its title: Vietnamese
 * headers in a frozen first row with a filter, integers and rates stored as
 * numbers, dates and instants as dates, total rows in bold. The page is self
 * contained (its style inline, nothing fetched), prints on A4 landscape and
 * repeats each table's header on every printed page. */
#ifndef CLI_EXPORT_H
#define CLI_EXPORT_H

#include "cli_out.h"

#include <stddef.h>
#include <stdio.h>

/* Writes the n figures to a new workbook at path, replacing it whole or not
 * at all (written beside it, then renamed). title and subject go to the
 * document's properties. 0, or -1 with the reason in err. */
int cli_export_xlsx(const char *path, const char *title, const char *subject, const cli_out_t *outs,
                    int n, char *err, size_t errlen);

/* Writes a page: title (h1), the lines of the subtitle (p), then each figure
 * as a numbered section (h2) and a table. 0, or -1 if f could not be written. */
int cli_export_html(FILE *f, const char *title, const char *const *subtitle, int nsub,
                    const cli_out_t *outs, int n);

/* One figure as an HTML <table> (the cells escaped), for pages that frame it
 * themselves. */
void cli_export_html_table(FILE *f, const cli_out_t *out);

/* The same, every cell with a class saying what it holds ("n" number, "d"
 * date or time, "c" short text, "w" long text), for cchc-web's style sheet. */
void cli_export_html_table_classed(FILE *f, const cli_out_t *out);

/* s with &, <, >, " and ' escaped for HTML text and attribute values. */
void cli_export_html_text(FILE *f, const char *s);

#endif
