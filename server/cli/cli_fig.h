/* cli_fig.h: what the figure commands share (cchc status, overdue, dossiers,
 * remediation, tasks, agents): their filter options, checked the same way
 * everywhere, and running one query of the views (013_figures.sql) into a
 * table, JSON or CSV (cli_out.h). The queries themselves are cli_figs.h's,
 * which cchc-web shows too. */
#ifndef CLI_FIG_H
#define CLI_FIG_H

#include "cli_db.h"
#include "cli_figs.h"
#include "cli_out.h"

/* The options a command accepts (cli_fig_spec_t.accept). */
enum {
    CLI_FIG_PERIOD = 1u << 0,     /* --period P: a period id (any case), or an inspection's or
                                     task's code */
    CLI_FIG_TYPE = 1u << 1,       /* --type T (any case) */
    CLI_FIG_UNIT = 1u << 2,       /* --unit U: checked against the units */
    CLI_FIG_FIELD = 1u << 3,      /* --field F: a procedure field (any case) */
    CLI_FIG_DIMENSION = 1u << 4,  /* --dimension D: D1-D8, L1-L8, S1-S5 (any case) */
    CLI_FIG_INDEX = 1u << 5,      /* --index PAPI|PAR|SIPAS (any case) */
    CLI_FIG_STATUS = 1u << 6,     /* --status S: one of spec.statuses */
    CLI_FIG_INSPECTION = 1u << 7, /* --inspection CODE */
    CLI_FIG_BY = 1u << 8,         /* --by X: one of spec.bys, the first the default */
    CLI_FIG_ALL = 1u << 9,        /* --all */
    CLI_FIG_RATES = 1u << 10,     /* --rates */
    CLI_FIG_FINDINGS = 1u << 11,  /* --findings */
    CLI_FIG_OUT = 1u << 12,       /* --out FILE */
    CLI_FIG_SINCE = 1u << 13,     /* --since YYYY-MM-DD: from 00:00 that day, Vietnam time */
    CLI_FIG_ROLLUP = 1u << 14,    /* --rollup: a predecessor's rows under its last successor */
};

typedef struct {
    const char *name; /* the command, for messages */
    unsigned accept;
    const char *const *statuses; /* NULL-terminated; with CLI_FIG_STATUS */
    const char *const *bys;      /* NULL-terminated; with CLI_FIG_BY */
    void (*usage)(FILE *f);
} cli_fig_spec_t;

typedef struct {
    /* NULL when not given; period, type, field, dimension and index are
     * normalised (upper case) into the buffers below. */
    const char *period, *type, *unit, *field, *dimension, *index, *status, *inspection, *by, *out,
        *since;
    int all, rates, findings, rollup;
    cli_fmt_t fmt;
    char period_buf[72], type_buf[40], field_buf[72], dimension_buf[8], index_buf[8];
} cli_fig_opts_t;

/* Parses `cchc <command> [options]` (argv[0] the command). -1 to go on, or the
 * exit code (CLI_EXIT_OK after --help, CLI_EXIT_USAGE after saying what is
 * wrong and printing the usage). */
int cli_fig_parse(const cli_fig_spec_t *spec, int argc, char **argv, cli_fig_opts_t *o);

/* Connects (the schema checked) and checks --unit names a unit; with
 * --rollup, sets cchc.rollup for the session, so that the views (migration
 * 020) show a closed unit's rows under the last unit of its successor chain.
 * 0, or -1 after saying why. */
int cli_fig_connect(cli_ctx_t *ctx, const cli_fig_opts_t *o);

/* Runs sql (columns as cols describes them) and writes the figure to stdout
 * in o->fmt. Returns the exit code. */
int cli_fig_print(cli_ctx_t *ctx, const cli_fig_opts_t *o, const char *what,
                  const cli_out_col_t *cols, int ncols, const char *sql, int nparams,
                  const char *const *params, const char *empty);

/* --rollup, as every figure command that takes it documents it. */
#define CLI_FIG_USAGE_ROLLUP                                                                       \
    "  --rollup          a successor's rows include its predecessors' history: the rows of a\n"    \
    "                    closed unit are shown under the last unit of its successor chain\n"       \
    "                    (--unit names that successor)\n"

/* The same for a command whose rows are each of one unit. */
#define CLI_FIG_USAGE_ROLLUP_ROWS                                                                  \
    CLI_FIG_USAGE_ROLLUP "                    (and each row names the unit it is of: Đơn vị "  \
                         "gốc)\n"

/* cli_fig_print of a definition (cli_figs.h), with its own parameter count. */
int cli_fig_print_def(cli_ctx_t *ctx, const cli_fig_opts_t *o, const char *what,
                      const cli_figs_def_t *def, const char *const *params, const char *empty);

/* The output options every figure command documents. */
#define CLI_FIG_USAGE_FORMATS                                                                      \
    "  --json            a JSON array (English keys, codes, UTC times)\n"                          \
    "  --csv             CSV for Excel: UTF-8 with a byte order mark, Vietnamese headers\n"

#endif
