/* cli_summary.c: `cchc summary --period P --out FILE`, the consolidated report
 * (báo cáo tổng hợp) that the district forwards to the province (DOMAIN.md
 * section 9), as an Excel workbook (.xlsx) or one printable page (.html).
 *
 * The six tables and their queries are cli_figs_summary.c's, shared with
 * cchc-web's /summary and /summary.xlsx; this file is the command: its
 * options and the files it writes, beside the target and renamed over it.
 * Statuses are as of now (the injectable clock). */
#include "cli_export.h"
#include "cli_fig.h"
#include "cli_figs.h"
#include "cchc_err.h"
#include "cchc_mem.h"

#include <errno.h>
#include <strings.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] summary --period P [--type T] [--rollup]\n"
          "                 --out FILE.xlsx|FILE.html\n"
          "\n"
          "The consolidated report of a period (báo cáo tổng hợp) for the province: who has\n"
          "reported (units x status, reporting and on-time rates), the district's dossier\n"
          "totals per field (Form 06) with their rates, every overdue dossier with its\n"
          "cause and remedy, remediation per inspection, the plan's tasks per index\n"
          "dimension (maintain and improve side by side), and the units that have not\n"
          "reported. Each table ends with its total.\n"
          "  --period P   a period id such as 2024S1 (any case)\n"
          "  --type T     one periodic report type (default: every type with that period)\n"
          "  --out FILE   FILE.xlsx: an Excel workbook, one sheet per table, numbers as\n"
          "               numbers, dates as dates, the header row frozen;\n"
          "               FILE.html: one self-contained page to print (A4 landscape).\n"
          "               An existing file is replaced.\n"
          "  --rollup     a successor's rows include its predecessors' history: a closed\n"
          "               unit's rows are shown under the last unit of its successor chain\n",
          f);
}

typedef struct {
    const char *out;
    int html;
} s_opts_t;

/* cli_figs_summary_load's queries, through the session (errors on stderr). */
static PGresult *s_query(void *arg, const char *what, const char *sql, int nparams,
                         const char *const *params)
{
    return cli_db_query(arg, what, sql, nparams, params, PGRES_TUPLES_OK);
}

static int s_write(const s_opts_t *o, const cli_figs_summary_t *sum)
{
    int rc = CLI_EXIT_FAIL;
    if (!o->html) {
        char err[512];
        if (cli_export_xlsx(o->out, sum->title, sum->subject, sum->outs, CLI_FIGS_SUMMARY_TABLES,
                            err, sizeof err) == 0)
            rc = CLI_EXIT_OK;
        else
            fprintf(stderr, "cchc: %s\n", err);
        return rc;
    }
    char *tmp = cchc_asprintf("%s.tmp-%ld", o->out, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "cchc: could not create file \"%s\": %s\n", tmp, strerror(errno));
    } else {
        int w = cli_export_html(f, sum->title, (const char *const *)sum->lines, 3, sum->outs,
                                CLI_FIGS_SUMMARY_TABLES);
        if (fclose(f) != 0 || w != 0)
            fprintf(stderr, "cchc: could not write file \"%s\": %s\n", tmp, strerror(errno));
        else if (rename(tmp, o->out) != 0)
            fprintf(stderr, "cchc: could not rename \"%s\" to \"%s\": %s\n", tmp, o->out,
                    strerror(errno));
        else
            rc = CLI_EXIT_OK;
        if (rc != CLI_EXIT_OK)
            unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* --out's format, by its extension. 0, or CLI_EXIT_USAGE after saying why. */
static int s_out(s_opts_t *o, const char *path)
{
    size_t n = strlen(path);
    o->out = path;
    if (n > 5 && strcasecmp(path + n - 5, ".xlsx") == 0)
        o->html = 0;
    else if (n > 5 && strcasecmp(path + n - 5, ".html") == 0)
        o->html = 1;
    else if (n > 4 && strcasecmp(path + n - 4, ".htm") == 0)
        o->html = 1;
    else {
        fprintf(stderr, "cchc: --out '%s' must end in .xlsx (Excel) or .html (a page to print)\n",
                path);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_summary_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const cli_fig_spec_t spec = {.name = "summary",
                                        .accept = CLI_FIG_PERIOD | CLI_FIG_TYPE | CLI_FIG_OUT |
                                                  CLI_FIG_ROLLUP,
                                        .usage = s_usage};
    s_opts_t o = {0};
    cli_fig_opts_t f;
    int rc = cli_fig_parse(&spec, argc, argv, &f);
    if (rc >= 0)
        return rc;
    if (!f.period || !f.out || f.fmt != CLI_FMT_TABLE) {
        fprintf(stderr, "cchc: summary needs --period P and --out FILE.xlsx|FILE.html%s\n",
                f.fmt != CLI_FMT_TABLE ? " (its format is the file's, not --json or --csv)" : "");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if ((rc = s_out(&o, f.out)) != 0) {
        s_usage(stderr);
        return rc;
    }
    if (cli_fig_connect(ctx, &f) != 0)
        return CLI_EXIT_FAIL;
    cli_figs_summary_t sum;
    rc = cli_figs_summary_load(&sum, f.period, f.type, s_query, ctx);
    if (rc == CCHC_ENOTFOUND)
        fprintf(stderr,
                "cchc: no periodic report type has a period %s yet%s: 'cchc period list' shows "
                "the periods (the server records them once it runs)\n",
                f.period, f.type ? " of that type" : "");
    if (rc != 0) {
        cli_figs_summary_free(&sum);
        return CLI_EXIT_FAIL;
    }
    rc = s_write(&o, &sum);
    if (rc == CLI_EXIT_OK)
        printf("wrote %s: the consolidated report of %s (%s), %d tables\n", o.out, f.period,
               PQgetvalue(sum.period, 0, 0), CLI_FIGS_SUMMARY_TABLES);
    cli_figs_summary_free(&sum);
    return rc;
}
