/* cli_calendar.c: `cchc calendar import FILE.csv` and `cchc calendar list`.
 *
 * The working-day calendar is data (DOMAIN.md section 2): public holidays,
 * weekdays swapped off and Saturdays worked in their place, announced each
 * year. Deadlines count working days on it, so a wrong row moves every due
 * date after it: the import refuses a holiday or swap_off that falls on a
 * weekend (it would change nothing, so the date is surely mistyped) and a
 * swap_work on a weekday, naming the weekday. All or nothing (cli_csv.h);
 * days are upserted, and days already stored but absent from the file stay. */
#include "cli_csv.h"
#include "cli_db.h"
#include "cchc_period.h"

#include <getopt.h>
#include <string.h>

enum { F_DATE, F_KIND, F_NOTE, S_NFIELDS };
static const char *const s_fields[S_NFIELDS] = {"date", "kind", "note"};
#define S_NOTE_MAX 500

static const char *const s_weekdays[8] = {"",         "Monday", "Tuesday",  "Wednesday",
                                          "Thursday", "Friday", "Saturday", "Sunday"};

/* Pass 1: one row on its own (cli_csv_check_fn). */
static void s_check_row(cli_csv_t *csv, cli_csv_row_t *row, void *arg)
{
    char ex[72];
    char **f = row->f;
    cchc_day_t day = CCHC_DAY_NONE;
    cchc_cal_kind_t kind = CCHC_CAL_HOLIDAY;
    if (!(row->bad & 1u << F_DATE) && cchc_day_parse(f[F_DATE], &day) != 0) {
        cli_csv_problem(csv, row->line, "date '%s' is not a valid date of the form YYYY-MM-DD",
                        cli_csv_excerpt(f[F_DATE], ex));
        row->bad |= 1u << F_DATE;
    }
    if (!(row->bad & 1u << F_KIND) && cchc_cal_kind_parse(f[F_KIND], &kind) != 0) {
        cli_csv_problem(csv, row->line, "kind '%s' is not one of holiday, swap_off, swap_work",
                        cli_csv_excerpt(f[F_KIND], ex));
        row->bad |= 1u << F_KIND;
    }
    if (!(row->bad & 1u << F_NOTE) && !cli_csv_text(csv, row, F_NOTE, 0, S_NOTE_MAX))
        row->bad |= 1u << F_NOTE;
    if (row->bad & (1u << F_DATE | 1u << F_KIND))
        return;
    int wd = cchc_day_weekday(day), weekend = wd >= 6;
    if (kind != CCHC_CAL_SWAP_WORK && weekend)
        cli_csv_problem(csv, row->line,
                        "%s is a %s, not a working day: a %s must fall on a weekday "
                        "(check the date)",
                        f[F_DATE], s_weekdays[wd], f[F_KIND]);
    else if (kind == CCHC_CAL_SWAP_WORK && !weekend)
        cli_csv_problem(csv, row->line,
                        "%s is a %s, already a working day: a swap_work must fall on a "
                        "Saturday or Sunday (check the date)",
                        f[F_DATE], s_weekdays[wd]);
}

static const char s_upsert_sql[] =
    "INSERT INTO calendar_days AS c (day, kind, note) VALUES ($1::date, $2, $3) "
    "ON CONFLICT (day) DO UPDATE SET kind = EXCLUDED.kind, note = EXCLUDED.note "
    "WHERE (c.kind, c.note) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.note) "
    "RETURNING (xmax = 0)"; /* no row: unchanged; true: inserted; false: updated */

/* Writes one day (cli_csv_import_t.write). */
static int s_write_row(cli_ctx_t *ctx, const cli_csv_row_t *row, const char *what, void *arg)
{
    char **f = row->f;
    const char *params[3] = {f[F_DATE], f[F_KIND], f[F_NOTE]};
    return cli_csv_upsert(ctx, what, s_upsert_sql, 3, params);
}

static const cli_csv_import_t s_import_spec = {
    .fields = s_fields,
    .nfields = S_NFIELDS,
    .check = s_check_row,
    .key = F_DATE,
    .key_label = "date",
    .item = "day",
    .key_bare = 1,
    .write = s_write_row,
    .things = "calendar days",
    .event = "calendar_imported",
    .log_key = "days",
};

static int s_list(cli_ctx_t *ctx, const char *year, int json)
{
    const char *params[1] = {year};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (json)
        return cli_db_print_json(
            ctx, "could not list the calendar",
            "SELECT coalesce(json_agg(json_build_object('date', day::text, 'weekday', "
            "to_char(day, 'FMDay'), 'kind', kind, 'note', note) ORDER BY day), '[]') "
            "FROM calendar_days WHERE $1::int IS NULL OR extract(year FROM day) = $1::int",
            1, params);
    return cli_db_print_table(ctx, "could not list the calendar",
                              "SELECT day::text AS date, to_char(day, 'Dy') AS weekday, kind, "
                              "note FROM calendar_days "
                              "WHERE $1::int IS NULL OR extract(year FROM day) = $1::int "
                              "ORDER BY day",
                              1, params,
                              year ? "no calendar days in that year: load them with "
                                     "'cchc calendar import FILE.csv'"
                                   : "no calendar days yet: load them with "
                                     "'cchc calendar import FILE.csv'");
}

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] calendar import FILE.csv\n"
          "       cchc [-c admin.ini] calendar list [--year YYYY] [--json]\n"
          "\n"
          "import  adds or updates days of the working-day calendar from a UTF-8 CSV file\n"
          "        whose header is exactly date,kind,note (the format of\n"
          "        deploy/data/holidays.csv). kind is holiday or swap_off (a weekday off)\n"
          "        or swap_work (a Saturday or Sunday worked). All or nothing: any bad\n"
          "        row is reported as FILE:LINE: reason and nothing is written.\n"
          "list    shows the days off and worked weekend days; --year YYYY only that year;\n"
          "        --json for a JSON array.\n",
          f);
}

typedef struct {
    int json;
    const char *year;
} s_opts_t;

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    if (c == 'j') {
        o->json = 1;
        return 0;
    }
    if (strlen(optarg) != 4 || strspn(optarg, "0123456789") != 4 || optarg[0] == '0') {
        fprintf(stderr, "cchc: --year must be a year such as 2024, not '%s'\n", optarg);
        return CLI_EXIT_USAGE;
    }
    o->year = optarg;
    return 0;
}

int cli_calendar_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"year", required_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0, NULL};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    if (strcmp(verb, "import") == 0 && nargs == 1 && !o.json && !o.year)
        return cli_csv_import(ctx, &s_import_spec, args[0]);
    if (strcmp(verb, "list") == 0 && nargs == 0)
        return s_list(ctx, o.year, o.json);
    if (strcmp(verb, "import") == 0 && (o.json || o.year))
        fprintf(stderr, "cchc: --json and --year are for 'calendar list'\n");
    else if (strcmp(verb, "import") == 0)
        fprintf(stderr, "cchc: calendar import needs exactly one FILE.csv\n");
    else if (strcmp(verb, "list") == 0)
        fprintf(stderr, "cchc: calendar list takes no arguments, only --year and --json\n");
    else
        fprintf(stderr, "cchc: unknown subcommand 'calendar %s'\n", verb);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
