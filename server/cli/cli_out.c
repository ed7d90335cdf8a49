/* cli_out.c: a figure as a text table, JSON or CSV (see cli_out.h).
 *
 * The text table reuses cli_db_table (padding by display width); long text is
 * cut there only, so JSON and CSV always carry the whole value. JSON numbers
 * are written from the database's own decimal text (jansson would print
 * 93.33 as 93.329999999999998), so the text, the JSON and the CSV show the
 * same digits. */
#include "cli_out.h"
#include "cchc_clock.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cli_db.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define S_TOTAL_LABEL "Tổng cộng"

int cli_out_human(const cli_out_col_t *col)
{
    return !(col->flags & (CLI_OUT_JSON_ONLY | CLI_OUT_TOTAL));
}

int cli_out_is_total(const cli_out_t *out, int row)
{
    for (int c = 0; c < out->ncols; c++)
        if (out->cols[c].flags & CLI_OUT_TOTAL)
            return !PQgetisnull(out->res, row, c) && PQgetvalue(out->res, row, c)[0] == 't';
    return 0;
}

/* The first column that shows "Tổng cộng" on a total row: the first human
 * text column whose cell is NULL there. */
static int s_total_label_col(const cli_out_t *out, int row)
{
    for (int c = 0; c < out->ncols; c++)
        if (cli_out_human(&out->cols[c]) && out->cols[c].type == CLI_OUT_TEXT &&
            PQgetisnull(out->res, row, c))
            return c;
    return -1;
}

/* ms since the epoch as Vietnam civil time: "YYYY-MM-DD HH:MM" (with_seconds:
 * ":SS"), without the host's time zone. */
static void s_local_time(long long ms, int with_seconds, char *buf, size_t len)
{
    int y, m, d;
    cchc_day_to_ymd(cchc_day_of_instant(ms), &y, &m, &d);
    long long s = (ms + CCHC_CLOCK_VN_OFFSET_MS) / 1000 % 86400;
    if (s < 0)
        s += 86400;
    if (with_seconds)
        snprintf(buf, len, "%04d-%02d-%02d %02lld:%02lld:%02lld", y, m, d, s / 3600, s / 60 % 60,
                 s % 60);
    else
        snprintf(buf, len, "%04d-%02d-%02d %02lld:%02lld", y, m, d, s / 3600, s / 60 % 60);
}

/* The cell for people; TIME with seconds when exact (CSV) or without. */
static const char *s_cell(const cli_out_t *out, int row, int col, int exact, char *buf, size_t len)
{
    const PGresult *r = out->res;
    if (PQgetisnull(r, row, col))
        return row >= 0 && cli_out_is_total(out, row) && s_total_label_col(out, row) == col
                   ? S_TOTAL_LABEL
                   : NULL;
    const char *v = PQgetvalue(r, row, col);
    switch (out->cols[col].type) {
    case CLI_OUT_TIME:
        s_local_time(strtoll(v, NULL, 10), exact, buf, len);
        return buf;
    case CLI_OUT_BOOL:
        return v[0] == 't' ? "có" : "không";
    default:
        return v;
    }
}

const char *cli_out_cell(const cli_out_t *out, int row, int col, char *buf, size_t len)
{
    return s_cell(out, row, col, 0, buf, len);
}

/* s cut to at most w display columns, "…" included, into a new string. */
static char *s_cut(const char *s, int w)
{
    if (w <= 0 || cli_db_display_width(s) <= (size_t)w)
        return cchc_strdup(s);
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t width = 0, bytes = 0;
    while (p[bytes]) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p + bytes, -1, &cp);
        int cw = 1; /* a byte that does not decode counts one column */
        if (n <= 0)
            n = 1;
        else
            cw = utf8proc_charwidth(cp);
        if (width + (size_t)(cw > 0 ? cw : 0) > (size_t)w - 1)
            break;
        width += (size_t)(cw > 0 ? cw : 0);
        bytes += (size_t)n;
    }
    char *c = cchc_malloc(bytes + sizeof "…");
    memcpy(c, s, bytes);
    memcpy(c + bytes, "…", sizeof "…");
    return c;
}

static int s_table(const cli_out_t *out, const char *empty, FILE *f)
{
    const PGresult *r = out->res;
    int n = PQntuples(r), k = 0;
    if (n == 0) {
        fprintf(f, "%s\n", empty ? empty : "");
        return 0;
    }
    const char **headers = cchc_calloc((size_t)out->ncols, sizeof *headers);
    int *map = cchc_calloc((size_t)out->ncols, sizeof *map);
    for (int c = 0; c < out->ncols; c++)
        if (cli_out_human(&out->cols[c])) {
            map[k] = c;
            headers[k++] = out->cols[c].label;
        }
    cli_table_t *t = cli_db_table_new(k, headers);
    char **cells = cchc_calloc((size_t)k, sizeof *cells);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < k; j++) {
            char buf[64];
            const char *v = s_cell(out, i, map[j], 0, buf, sizeof buf);
            cells[j] = v ? s_cut(v, out->cols[map[j]].max_width) : NULL;
        }
        cli_db_table_add(t, (const char *const *)cells);
        for (int j = 0; j < k; j++)
            free(cells[j]);
    }
    cli_db_table_print(t, f);
    cli_db_table_destroy(&t);
    free(cells);
    free(map);
    free(headers);
    return 0;
}

/* A JSON number from the database's decimal text, keeping its digits. */
static json_t *s_json_num(const char *v)
{
    char *end;
    double d = strtod(v, &end);
    if (*end)
        return json_string(v);
    return json_real(d);
}

static json_t *s_json_cell(const cli_out_t *out, int row, int col)
{
    const PGresult *r = out->res;
    if (PQgetisnull(r, row, col))
        return json_null();
    const char *v = PQgetvalue(r, row, col);
    char buf[40];
    switch (out->cols[col].type) {
    case CLI_OUT_INT:
        return json_integer(strtoll(v, NULL, 10));
    case CLI_OUT_NUM:
        return s_json_num(v);
    case CLI_OUT_TIME:
        cchc_clock_format_utc(strtoll(v, NULL, 10), buf, sizeof buf);
        return json_string(buf);
    case CLI_OUT_BOOL:
        return json_boolean(v[0] == 't');
    default:
        return json_string(v);
    }
}

static int s_json(const cli_out_t *out, FILE *f)
{
    json_t *arr = json_array();
    for (int i = 0; i < PQntuples(out->res); i++) {
        json_t *o = json_object();
        for (int c = 0; c < out->ncols; c++)
            if (!(out->cols[c].flags & CLI_OUT_HUMAN_ONLY))
                json_object_set_new(o, out->cols[c].key, s_json_cell(out, i, c));
        json_array_append_new(arr, o);
    }
    /* %.10g keeps the database's two decimals (93.33) without binary noise. */
    int rc = json_dumpf(arr, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(arr);
    return rc == 0 && fputc('\n', f) != EOF ? 0 : -1;
}

/* One CSV field: quoted when it holds a separator, a quote, a line break or
 * edge spaces; a text that a spreadsheet would run as a formula is defused. */
static void s_csv_field(FILE *f, const char *v, int text)
{
    if (!v)
        return;
    int formula = text && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' ||
                           v[0] == '\t' || v[0] == '\r');
    size_t n = strlen(v);
    int quote = formula || strpbrk(v, ",\"\r\n") || (n && (v[0] == ' ' || v[n - 1] == ' '));
    if (!quote) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static int s_csv(const cli_out_t *out, FILE *f)
{
    fputs("\xEF\xBB\xBF", f);
    int first = 1;
    for (int c = 0; c < out->ncols; c++)
        if (cli_out_human(&out->cols[c])) {
            if (!first)
                fputc(',', f);
            s_csv_field(f, out->cols[c].label, 0);
            first = 0;
        }
    fputs("\r\n", f);
    for (int i = 0; i < PQntuples(out->res); i++) {
        first = 1;
        for (int c = 0; c < out->ncols; c++) {
            if (!cli_out_human(&out->cols[c]))
                continue;
            char buf[64];
            if (!first)
                fputc(',', f);
            s_csv_field(f, s_cell(out, i, c, 1, buf, sizeof buf),
                        out->cols[c].type == CLI_OUT_TEXT);
            first = 0;
        }
        fputs("\r\n", f);
    }
    return 0;
}

int cli_out_print(const cli_out_t *out, cli_fmt_t fmt, const char *empty, FILE *f)
{
    int rc = fmt == CLI_FMT_JSON  ? s_json(out, f)
             : fmt == CLI_FMT_CSV ? s_csv(out, f)
                                  : s_table(out, empty, f);
    if (rc != 0 || ferror(f) || fflush(f) != 0) {
        fprintf(stderr, "cchc: could not write the output\n");
        return -1;
    }
    return 0;
}
