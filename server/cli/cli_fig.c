/* cli_fig.c: options and output of the figure commands (see cli_fig.h).
 *
 * Every filter is checked before the database is touched, with the same
 * message wherever it appears, so `--period 2024Q5` reads the same in status
 * and in dossiers. Codes are compared in upper case (officers type 2024s1),
 * except unit codes, which are lower case by their CHECK. */
#include "cli_fig.h"
#include "cchc_period.h"
#include "cchc_wire.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const cli_fig_spec_t *spec;
    cli_fig_opts_t *o;
    int json, csv;
} s_parse_t;

/* s upper-cased into buf; -1 when it does not fit or is not printable ASCII. */
static int s_upper(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    if (n == 0 || n >= len)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i < n && (ch < 0x21 || ch > 0x7E))
            return -1;
        buf[i] = (char)toupper(ch);
    }
    return 0;
}

static int s_one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words && words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

static void s_list(FILE *f, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        fprintf(f, "%s%s", i ? ", " : "", words[i]);
}

/* --period: a period id in any case (2024s1), or an inspection's or task's
 * code. Four digits first means a period: it must then parse. */
static int s_period(cli_fig_opts_t *o, const char *v)
{
    cchc_period_t p;
    if (s_upper(v, o->period_buf, sizeof o->period_buf) != 0) {
        fprintf(stderr,
                "cchc: --period '%s' is neither a period id (2024Q1, 2024S1, 2024N9, "
                "2024, 202406) nor an inspection or task code\n",
                v);
        return CLI_EXIT_USAGE;
    }
    int digits = strspn(o->period_buf, "0123456789") >= 4;
    if (digits && cchc_period_parse(o->period_buf, &p) != 0) {
        fprintf(stderr,
                "cchc: --period '%s' is not a period id: use 2024Q1-2024Q4, 2024S1, 2024S2, "
                "2024N9, 2024 or a month 202406\n",
                v);
        return CLI_EXIT_USAGE;
    }
    o->period = o->period_buf;
    return 0;
}

static int s_on_opt(int c, const char *v, void *arg)
{
    s_parse_t *p = arg;
    cli_fig_opts_t *o = p->o;
    const cli_fig_spec_t *spec = p->spec;
    switch (c) {
    case 'p':
        return s_period(o, v);
    case 't':
        if (s_upper(v, o->type_buf, sizeof o->type_buf) != 0) {
            fprintf(stderr, "cchc: --type '%s' is not a report type code ('cchc type list')\n", v);
            return CLI_EXIT_USAGE;
        }
        o->type = o->type_buf;
        return 0;
    case 'u':
        if (!cchc_wire_text_ok(v, strlen(v)) || strlen(v) > 63) {
            fprintf(stderr, "cchc: --unit '%s' is not a unit code ('cchc unit list')\n", v);
            return CLI_EXIT_USAGE;
        }
        o->unit = v;
        return 0;
    case 'f':
        if (s_upper(v, o->field_buf, sizeof o->field_buf) != 0) {
            fprintf(stderr, "cchc: --field '%s' is not a field code such as HO_TICH\n", v);
            return CLI_EXIT_USAGE;
        }
        o->field = o->field_buf;
        return 0;
    case 'd': {
        char *b = o->dimension_buf;
        int ok = s_upper(v, b, sizeof o->dimension_buf) == 0 && strlen(b) == 2 &&
                 ((b[0] == 'D' && b[1] >= '1' && b[1] <= '8') ||
                  (b[0] == 'L' && b[1] >= '1' && b[1] <= '8') ||
                  (b[0] == 'S' && b[1] >= '1' && b[1] <= '5'));
        if (!ok) {
            fprintf(stderr,
                    "cchc: --dimension '%s' is not one of D1-D8 (PAPI), L1-L8 (PAR), "
                    "S1-S5 (SIPAS)\n",
                    v);
            return CLI_EXIT_USAGE;
        }
        o->dimension = b;
        return 0;
    }
    case 'x': {
        static const char *const idx[] = {"PAPI", "PAR", "SIPAS", NULL};
        if (s_upper(v, o->index_buf, sizeof o->index_buf) != 0 || !s_one_of(o->index_buf, idx)) {
            fprintf(stderr, "cchc: --index '%s' is not one of PAPI, PAR, SIPAS\n", v);
            return CLI_EXIT_USAGE;
        }
        o->index = o->index_buf;
        return 0;
    }
    case 's':
        if (!s_one_of(v, spec->statuses)) {
            fprintf(stderr, "cchc: --status '%s' is not one of ", v);
            s_list(stderr, spec->statuses);
            fputc('\n', stderr);
            return CLI_EXIT_USAGE;
        }
        o->status = v;
        return 0;
    case 'i':
        if (!cchc_wire_text_ok(v, strlen(v)) || strlen(v) > 64) {
            fprintf(stderr, "cchc: --inspection '%s' is not an inspection code\n", v);
            return CLI_EXIT_USAGE;
        }
        o->inspection = v;
        return 0;
    case 'b':
        if (!s_one_of(v, spec->bys)) {
            fprintf(stderr, "cchc: --by '%s' is not one of ", v);
            s_list(stderr, spec->bys);
            fputc('\n', stderr);
            return CLI_EXIT_USAGE;
        }
        o->by = v;
        return 0;
    case 'a':
        o->all = 1;
        return 0;
    case 'r':
        o->rates = 1;
        return 0;
    case 'F':
        o->findings = 1;
        return 0;
    case 'o':
        o->out = v;
        return 0;
    case 'S': {
        cchc_day_t day;
        if (cchc_day_parse(v, &day) != 0) {
            fprintf(stderr, "cchc: --since '%s' is not a valid date of the form YYYY-MM-DD\n", v);
            return CLI_EXIT_USAGE;
        }
        o->since = v;
        return 0;
    }
    case 'R':
        o->rollup = 1;
        return 0;
    case 'j':
        p->json = 1;
        return 0;
    default: /* 'c' */
        p->csv = 1;
        return 0;
    }
}

int cli_fig_parse(const cli_fig_spec_t *spec, int argc, char **argv, cli_fig_opts_t *o)
{
    /* Every option is known to getopt, so that one the command does not take
     * is named as such rather than as unknown. */
    static const struct option opts[] = {
        {"period", required_argument, NULL, 'p'},
        {"type", required_argument, NULL, 't'},
        {"unit", required_argument, NULL, 'u'},
        {"field", required_argument, NULL, 'f'},
        {"dimension", required_argument, NULL, 'd'},
        {"index", required_argument, NULL, 'x'},
        {"status", required_argument, NULL, 's'},
        {"inspection", required_argument, NULL, 'i'},
        {"by", required_argument, NULL, 'b'},
        {"all", no_argument, NULL, 'a'},
        {"rates", no_argument, NULL, 'r'},
        {"findings", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'},
        {"csv", no_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},
        {"since", required_argument, NULL, 'S'},
        {"rollup", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        int c;
        unsigned bit;
        const char *name;
    } bits[] = {
        {'p', CLI_FIG_PERIOD, "--period"},
        {'t', CLI_FIG_TYPE, "--type"},
        {'u', CLI_FIG_UNIT, "--unit"},
        {'f', CLI_FIG_FIELD, "--field"},
        {'d', CLI_FIG_DIMENSION, "--dimension"},
        {'x', CLI_FIG_INDEX, "--index"},
        {'s', CLI_FIG_STATUS, "--status"},
        {'i', CLI_FIG_INSPECTION, "--inspection"},
        {'b', CLI_FIG_BY, "--by"},
        {'a', CLI_FIG_ALL, "--all"},
        {'r', CLI_FIG_RATES, "--rates"},
        {'F', CLI_FIG_FINDINGS, "--findings"},
        {'o', CLI_FIG_OUT, "--out"},
        {'S', CLI_FIG_SINCE, "--since"},
        {'R', CLI_FIG_ROLLUP, "--rollup"},
    };
    memset(o, 0, sizeof *o);
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        spec->usage(stdout);
        return CLI_EXIT_OK;
    }
    s_parse_t p = {.spec = spec, .o = o};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            spec->usage(stdout);
            return CLI_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            cli_db_bad_option(c, argv);
            spec->usage(stderr);
            return CLI_EXIT_USAGE;
        }
        for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
            if (bits[i].c == c && !(spec->accept & bits[i].bit)) {
                fprintf(stderr, "cchc: %s does not take %s\n", spec->name, bits[i].name);
                spec->usage(stderr);
                return CLI_EXIT_USAGE;
            }
        if (s_on_opt(c, optarg, &p) != 0) {
            spec->usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cchc: %s takes no arguments, only options (got '%s')\n", spec->name,
                argv[optind]);
        spec->usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (p.json && p.csv) {
        fprintf(stderr, "cchc: %s: choose one of --json and --csv\n", spec->name);
        spec->usage(stderr);
        return CLI_EXIT_USAGE;
    }
    o->fmt = p.json ? CLI_FMT_JSON : p.csv ? CLI_FMT_CSV : CLI_FMT_TABLE;
    if (!o->by && spec->bys)
        o->by = spec->bys[0];
    return -1;
}

int cli_fig_connect(cli_ctx_t *ctx, const cli_fig_opts_t *o)
{
    if (cli_db_connect(ctx, 1) != 0)
        return -1;
    if (o->unit && cli_db_unit_known(ctx, o->unit) != 0)
        return -1;
    if (o->rollup && cli_db_exec(ctx, "could not ask for rolled-up figures", "SET cchc.rollup = on",
                                 0, NULL) != 0)
        return -1;
    return 0;
}

int cli_fig_print(cli_ctx_t *ctx, const cli_fig_opts_t *o, const char *what,
                  const cli_out_col_t *cols, int ncols, const char *sql, int nparams,
                  const char *const *params, const char *empty)
{
    PGresult *r = cli_db_query(ctx, what, sql, nparams, params, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    if (PQnfields(r) != ncols) {
        /* A programmer's mismatch between the query and its columns. */
        fprintf(stderr, "cchc: %s: the query gave %d columns, %d expected\n", what, PQnfields(r),
                ncols);
        PQclear(r);
        return CLI_EXIT_FAIL;
    }
    cli_out_t out = {.cols = cols, .ncols = ncols, .res = r};
    int rc = cli_out_print(&out, o->fmt, empty, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    PQclear(r);
    return rc;
}

int cli_fig_print_def(cli_ctx_t *ctx, const cli_fig_opts_t *o, const char *what,
                      const cli_figs_def_t *def, const char *const *params, const char *empty)
{
    return cli_fig_print(ctx, o, what, def->cols, def->ncols, def->sql, def->nparams, params,
                         empty);
}
