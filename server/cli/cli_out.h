/* cli_out.h: the district's figures as a text table for people, JSON for
 * scripts, CSV for Excel, and (cli_export.c) .xlsx sheets and HTML tables.
 *
 * A figure is the result of one query whose columns are described, in order,
 * by an array of cli_out_col_t: the JSON member, the Vietnamese header that
 * people read (text table, CSV, spreadsheet, page), the value's type and
 * where it shows. Every output is written from the same PGresult, so the
 * numbers cannot differ between formats. Rates are computed by the views
 * (server/sql/013_figures.sql); this module only presents them. */
#ifndef CLI_OUT_H
#define CLI_OUT_H

#include <libpq-fe.h>
#include <stdio.h>

typedef enum {
    CLI_OUT_TEXT, /* a string */
    CLI_OUT_INT,  /* an integer */
    CLI_OUT_NUM,  /* a decimal such as a rate in percent ("93.33"); a JSON number */
    CLI_OUT_DATE, /* a civil date YYYY-MM-DD */
    CLI_OUT_TIME, /* an instant as int8 ms since the epoch: Vietnam time for people,
                     UTC ISO 8601 in JSON */
    CLI_OUT_BOOL, /* t or f */
} cli_out_type_t;

/* Where a column shows (flags of cli_out_col_t). */
#define CLI_OUT_JSON_ONLY 1u  /* JSON only (codes, ids that people read elsewhere) */
#define CLI_OUT_HUMAN_ONLY 2u /* text table, CSV, xlsx, HTML only (Vietnamese labels) */
#define CLI_OUT_TOTAL                                                                              \
    4u /* a BOOL marking total rows: JSON shows it, people see the row                             \
          set apart and its first NULL text cell as "Tổng cộng" */

typedef struct {
    const char *key;   /* JSON member name */
    const char *label; /* Vietnamese header */
    cli_out_type_t type;
    unsigned flags;
    int max_width; /* text table only: cut longer cells with "…" (0: never) */
} cli_out_col_t;

typedef enum { CLI_FMT_TABLE, CLI_FMT_JSON, CLI_FMT_CSV } cli_fmt_t;

/* One figure: the columns (borrowed, ncols of them) and the rows (borrowed). */
typedef struct {
    const char *title; /* sheet and section name (xlsx, HTML); may be NULL elsewhere */
    const cli_out_col_t *cols;
    int ncols;
    const PGresult *res;
} cli_out_t;

/* Writes the figure to f in fmt:
 *   TABLE  columns padded by display width (Vietnamese names line up), NULL as
 *          "-", `empty` alone when there are no rows;
 *   JSON   an array of objects, numbers as numbers, NULL as null;
 *   CSV    UTF-8 with a byte order mark, Vietnamese headers, CRLF, RFC 4180
 *          quoting; a text cell that a spreadsheet would read as a formula
 *          (=, +, -, @ first) gets a leading apostrophe.
 * 0, or -1 if f could not be written (said on stderr). */
int cli_out_print(const cli_out_t *out, cli_fmt_t fmt, const char *empty, FILE *f);

/* ---- helpers for renderers -------------------------------------------------------- */

/* True when column c shows to people (HUMAN_ONLY or neither flag, not TOTAL). */
int cli_out_human(const cli_out_col_t *col);
/* True when row i is a total row (a TOTAL column holds t). */
int cli_out_is_total(const cli_out_t *out, int row);
/* The text people see in a cell (a TIME as local "YYYY-MM-DD HH:MM"; NULL as
 * NULL, or "Tổng cộng" in the first human text column of a total row).
 * buf holds the formatted value when one was needed (at least 40 bytes). */
const char *cli_out_cell(const cli_out_t *out, int row, int col, char *buf, size_t len);

#endif
