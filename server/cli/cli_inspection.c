/* cli_inspection.c: `cchc inspection add|show|list` and `cchc finding add`.
 *
 * The district inspects units' PAR work (DOMAIN.md section 6). The operator
 * records the inspection and its conclusion notice, then its findings one by
 * one; the inspected unit answers with KHAC_PHUC remediation reports whose
 * subject is the inspection's code, which the server stores and judges.
 *
 * Lifecycle (inspections.status; this file only creates, the server moves it):
 *
 *   state                  event                              next
 *   awaiting_remediation   a remediation report is accepted   remediation_received
 *   awaiting_remediation   the due date passes                remediation_overdue
 *   remediation_overdue    a remediation report is accepted   remediation_received
 *   remediation_received   every finding remedied             closed
 *
 * The remediation due date defaults to the KHAC_PHUC type's due rule
 * (wd_after_event:N, 15 if the type is not loaded) counted in working days
 * from the conclusion's date, on the calendar in calendar_days. */
#include "cli_db.h"
#include "srv_calendar.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define S_TEAM_MAX 500
#define S_FINDING_MAX 4000
#define S_NUMBER_MAX 100
#define S_QUOTE_(x) #x
#define S_QUOTE(x) S_QUOTE_(x)
#define S_DEFAULT_RULE "wd_after_event:15"

typedef struct {
    const char *team, *date, *conclusion, *conclusion_number, *conclusion_date, *due, *code, *unit;
    int json;
} s_opts_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] inspection add UNIT --team TEXT --date YYYY-MM-DD\n"
          "                 (--conclusion NUMBER/YYYY-MM-DD | --conclusion 'NUMBER ngày D/M/YYYY'\n"
          "                  | --conclusion-number NUMBER --conclusion-date DATE)\n"
          "                 [--due YYYY-MM-DD] [--code CODE]\n"
          "       cchc [-c admin.ini] inspection show CODE [--json]\n"
          "       cchc [-c admin.ini] inspection list [--unit UNIT] [--json]\n"
          "       cchc [-c admin.ini] finding add INSPECTION_CODE TEXT\n"
          "\n"
          "inspection add   records an inspection of UNIT by a team (name and decision) on\n"
          "                 a date, with its conclusion notice (thông báo kết luận): its\n"
          "                 number and date, in one of the forms officers write:\n"
          "                   --conclusion 12/TB-UBND/2024-06-05\n"
          "                   --conclusion '12/TB-UBND ngày 05/6/2024'   (or ngày 05/06/2024,\n"
          "                                 ngày 2024-06-05; 'ngay' and a space before a\n"
          "                                 YYYY-MM-DD date are read too)\n"
          "                   --conclusion-number 12/TB-UBND --conclusion-date 2024-06-05\n"
          "                                 (the date also as 05/6/2024)\n"
          "                 The number has no space and not the word 'ngày'; the date must\n"
          "                 exist. Anything else is refused (exit 2), never stored cut.\n"
          "                 The remediation is due --due, or by default the KHAC_PHUC\n"
          "                 type's rule (15 working days after the conclusion). The code\n"
          "                 is --code, or KT-<year>-<NN>. Prints the code and the due date.\n"
          "finding add      adds the next numbered finding to an inspection.\n"
          "inspection show  the inspection, its findings and the remediation reports\n"
          "                 received for it.\n"
          "inspection list  every inspection (or one unit's) with its progress.\n",
          f);
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    switch (c) {
    case 't':
        o->team = optarg;
        break;
    case 'd':
        o->date = optarg;
        break;
    case 'C':
        o->conclusion = optarg;
        break;
    case 'N':
        o->conclusion_number = optarg;
        break;
    case 'A':
        o->conclusion_date = optarg;
        break;
    case 'D':
        o->due = optarg;
        break;
    case 'k':
        o->code = optarg;
        break;
    case 'u':
        o->unit = optarg;
        break;
    default:
        o->json = 1;
        break;
    }
    return 0;
}

/* inspections.code's CHECK: ^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$ */
static int s_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64 || strchr("._/-", s[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._/-", s[i])))
            return 0;
    return 1;
}

/* ---- the conclusion notice: its number and date ------------------------------------- */

/* What officers write, as the help and every refusal list it. */
#define S_CONCLUSION_FORMS                                                                         \
    "12/TB-UBND/2024-06-05 or 12/TB-UBND ngày 05/6/2024 (also ngày 05/06/2024, ngày "           \
    "2024-06-05), or give --conclusion-number 12/TB-UBND --conclusion-date 2024-06-05"

/* A date as officers write it: YYYY-MM-DD, or D/M/YYYY with one or two
 * digits for the day and the month. 0 with *day set, 1 when it has one of
 * these shapes but is no day of the calendar (2024-02-30, 31/6/2024), -1 when
 * it has neither shape. */
static int s_parse_date(const char *s, cchc_day_t *day)
{
    char iso[16];
    size_t d = strspn(s, "0123456789");
    if (d == 4 && strlen(s) == 10 && s[4] == '-' && strspn(s + 5, "0123456789") == 2 &&
        s[7] == '-' && strspn(s + 8, "0123456789") == 2) {
        snprintf(iso, sizeof iso, "%s", s);
    } else if (d >= 1 && d <= 2 && s[d] == '/') {
        const char *m = s + d + 1;
        size_t md = strspn(m, "0123456789");
        if (md < 1 || md > 2 || m[md] != '/' || strspn(m + md + 1, "0123456789") != 4 ||
            m[md + 5] != '\0')
            return -1;
        snprintf(iso, sizeof iso, "%.4s-%02d-%02d", m + md + 1, atoi(m), atoi(s));
    } else {
        return -1;
    }
    return cchc_day_parse(iso, day) == 0 ? 0 : 1;
}

/* The word "ngày" (or "ngay", any case) at s, NFC: its length, else 0. */
static size_t s_ngay_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if ((p[0] | 0x20) != 'n' || (p[1] | 0x20) != 'g')
        return 0;
    if ((p[2] | 0x20) == 'a' && (p[3] | 0x20) == 'y')
        return 4;
    /* à is C3 A0, À is C3 80 */
    if (p[2] == 0xC3 && (p[3] == 0xA0 || p[3] == 0x80) && (p[4] | 0x20) == 'y')
        return 5;
    return 0;
}

/* The first "ngày" in s standing as a word (space or an end on both sides),
 * or NULL; *len gets its length. */
static const char *s_ngay_word(const char *s, size_t *len)
{
    for (const char *p = s; *p; p++) {
        size_t n = s_ngay_at(p);
        if (n && (p == s || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) {
            *len = n;
            return p;
        }
    }
    return NULL;
}

/* A copy of s[0..n) without the spaces around it. */
static char *s_trimmed(const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    return cchc_strndup(s, n);
}

/* The conclusion's number as it is stored: no space, at least one digit, no
 * "ngày", not a date, not starting or ending with a separator. 0, or -1 after
 * saying what is wrong (`shown` is what the operator gave). */
static int s_number_ok(const char *number, const char *shown)
{
    const char *why = NULL;
    cchc_day_t day;
    size_t n = strlen(number), chars = 0;
    int ngay = 0;
    for (size_t i = 0; i < n; i++) {
        chars += ((unsigned char)number[i] & 0xC0) != 0x80;
        ngay = ngay || s_ngay_at(number + i);
    }
    if (ngay)
        why = "must not contain 'ngày': the date goes after it, or in --conclusion-date";
    else if (n == 0)
        why = "is empty: write it before the date";
    else if (chars > S_NUMBER_MAX)
        why = "is longer than " S_QUOTE(S_NUMBER_MAX) " characters";
    else if (strpbrk(number, " \t"))
        why = "must not contain a space: write it as on the notice, such as 12/TB-UBND";
    else if (!strpbrk(number, "0123456789"))
        why = "has no digit: write it as on the notice, such as 12/TB-UBND";
    else if (s_parse_date(number, &day) >= 0)
        why = "is a date, not a number";
    else if (strchr("/-.", number[0]) || strchr("/-.", number[n - 1]))
        why = "must not begin or end with '/', '-' or '.'";
    if (!why)
        return 0;
    fprintf(stderr, "cchc: the conclusion's number in '%s' %s; accepted: " S_CONCLUSION_FORMS "\n",
            shown, why);
    return -1;
}

/* Says that text's date `date` is wrong (-1: not a date, 1: no such day). */
static void s_bad_date(const char *shown, const char *date, int how)
{
    if (how > 0)
        fprintf(stderr, "cchc: the conclusion's date '%s' in '%s' does not exist\n", date, shown);
    else
        fprintf(stderr,
                "cchc: '%s' is not a conclusion cchc can read: write " S_CONCLUSION_FORMS "\n",
                shown);
}

/* --conclusion: the notice's number and date in one of the forms of
 * S_CONCLUSION_FORMS, read on its NFC form, so "ngày" typed decomposed is
 * found too. The date comes after " ngày " (ISO or D/M/YYYY), else after the
 * last '/' or space (ISO only: 12/TB-UBND/05/06/2024 is ambiguous). Nothing
 * else is guessed: a number that would be cut or carry the date's words is
 * refused rather than stored. number: the caller's to free. 0 or -1. */
static int s_parse_conclusion(const char *text, char **number, cchc_day_t *day)
{
    char *nfc = cli_db_text_arg("--conclusion", text, S_NUMBER_MAX + 40);
    if (!nfc)
        return -1;
    char *num = NULL, *date = NULL;
    int rc = -1, how = -1;
    size_t wlen = 0;
    const char *w = s_ngay_word(nfc, &wlen);
    if (w) {
        num = s_trimmed(nfc, (size_t)(w - nfc));
        date = s_trimmed(w + wlen, strlen(w + wlen));
        how = s_parse_date(date, day);
    } else {
        const char *slash = strrchr(nfc, '/'), *space = strrchr(nfc, ' ');
        const char *sep = slash > space ? slash : space;
        if (sep) {
            date = s_trimmed(sep + 1, strlen(sep + 1));
            num = s_trimmed(nfc, (size_t)(sep - nfc));
            /* D/M/YYYY after a '/' or a space is no form: it would be cut. */
            how =
                strchr(date, '/') || strspn(date, "0123456789") != 4 ? -1 : s_parse_date(date, day);
        }
    }
    if (how != 0) {
        s_bad_date(nfc, date ? date : "", how);
        goto out;
    }
    if (s_number_ok(num, nfc) != 0)
        goto out;
    *number = num;
    num = NULL;
    rc = 0;
out:
    free(num);
    free(date);
    free(nfc);
    return rc;
}

/* --conclusion-number and --conclusion-date, given apart. 0 or -1. */
static int s_conclusion_parts(const char *number_arg, const char *date_arg, char **number,
                              cchc_day_t *day)
{
    if (number_arg[strspn(number_arg, " ")] == '\0')
        return s_number_ok("", number_arg);
    char *num = cli_db_text_arg("--conclusion-number", number_arg, S_NUMBER_MAX);
    if (!num) {
        fprintf(stderr, "cchc: accepted: " S_CONCLUSION_FORMS "\n");
        return -1;
    }
    char *trimmed = s_trimmed(num, strlen(num));
    free(num);
    int how = s_parse_date(date_arg, day);
    if (how != 0) {
        fprintf(stderr,
                how > 0 ? "cchc: --conclusion-date '%s' does not exist\n"
                        : "cchc: --conclusion-date '%s' is not a date: write 2024-06-05 or "
                          "05/6/2024\n",
                date_arg);
        free(trimmed);
        return -1;
    }
    if (s_number_ok(trimmed, number_arg) != 0) {
        free(trimmed);
        return -1;
    }
    *number = trimmed;
    return 0;
}

/* The date of an option: 0, or -1 after naming the option. */
static int s_day_opt(const char *name, const char *text, cchc_day_t *day)
{
    if (cchc_day_parse(text, day) == 0)
        return 0;
    fprintf(stderr, "cchc: %s '%s' is not a valid date of the form YYYY-MM-DD\n", name, text);
    return -1;
}

/* The default remediation due date: KHAC_PHUC's rule from `from`, on the
 * calendar of calendar_days. 0, or -1 after saying why. */
static int s_default_due(cli_ctx_t *ctx, cchc_day_t from, cchc_day_t *due, int *days)
{
    cchc_calendar_t *cal = NULL;
    PGresult *r = NULL;
    int rc = -1;
    cchc_due_rule_t rule;
    char rule_text[64];

    r = cli_db_query(ctx, "could not read the KHAC_PHUC report type",
                     "SELECT due_rule FROM report_types WHERE code = 'KHAC_PHUC'", 0, NULL,
                     PGRES_TUPLES_OK);
    if (!r)
        goto out;
    snprintf(rule_text, sizeof rule_text, "%s",
             PQntuples(r) ? PQgetvalue(r, 0, 0) : S_DEFAULT_RULE);
    PQclear(r);
    if (cchc_due_rule_parse(rule_text, &rule) != 0 || rule.kind != CCHC_DUE_WD_AFTER_EVENT) {
        fprintf(stderr,
                "cchc: the KHAC_PHUC type's due rule '%s' does not count from an event: "
                "give the date with --due\n",
                rule_text);
        r = NULL;
        goto out;
    }
    r = cli_db_query(ctx, "could not read the calendar", SRV_CALENDAR_SQL, 0, NULL,
                     PGRES_TUPLES_OK);
    if (!r)
        goto out;
    cal = srv_calendar_from_result(r);
    if (cchc_due_date(&rule, cal, NULL, CCHC_CUTOFF_CALENDAR, from, due) != 0) {
        fprintf(stderr, "cchc: could not compute the due date from '%s': give it with --due\n",
                rule_text);
        goto out;
    }
    *days = rule.n;
    rc = 0;
out:
    PQclear(r);
    cchc_calendar_destroy(&cal);
    return rc;
}

/* The next free KT-<year>-NN. 0, or -1 (reported). */
static int s_next_code(cli_ctx_t *ctx, int year, char *code, size_t len)
{
    char y[8];
    snprintf(y, sizeof y, "%04d", year);
    const char *params[1] = {y};
    PGresult *r = cli_db_query(ctx, "could not number the inspection",
                               "SELECT coalesce(max(substring(code FROM '[0-9]+$')::int), 0) + 1 "
                               "FROM inspections WHERE code ~ ('^KT-' || $1 || '-[0-9]{1,9}$')",
                               1, params, PGRES_TUPLES_OK);
    if (!r)
        return -1;
    snprintf(code, len, "KT-%s-%02d", y, (int)cli_db_int(r, 0, 0));
    PQclear(r);
    return 0;
}

static int s_add(cli_ctx_t *ctx, const s_opts_t *o)
{
    char *team = NULL, *number = NULL, code[80];
    cchc_day_t on, concluded, due;
    int rc = CLI_EXIT_USAGE, days = -1;

    int parts = o->conclusion_number || o->conclusion_date;
    if (!o->team || !o->date || (!o->conclusion && !parts)) {
        fprintf(stderr, "cchc: inspection add needs --team, --date and --conclusion (or "
                        "--conclusion-number with --conclusion-date)\n");
        s_usage(stderr);
        goto out;
    }
    if (o->conclusion && parts) {
        fprintf(stderr, "cchc: give either --conclusion or --conclusion-number with "
                        "--conclusion-date, not both\n");
        goto out;
    }
    if (parts && (!o->conclusion_number || !o->conclusion_date)) {
        fprintf(stderr, "cchc: --conclusion-number and --conclusion-date go together: give "
                        "both, or --conclusion alone\n");
        goto out;
    }
    if (o->code && !s_code_ok(o->code)) {
        fprintf(stderr,
                "cchc: --code '%s' is not valid: use 1 to 64 characters A-Z, a-z, 0-9, "
                "'.', '_', '/' or '-', starting with a letter or digit\n",
                o->code);
        goto out;
    }
    if (!(team = cli_db_text_arg("--team", o->team, S_TEAM_MAX)) ||
        s_day_opt("--date", o->date, &on) != 0 ||
        (o->conclusion ? s_parse_conclusion(o->conclusion, &number, &concluded)
                       : s_conclusion_parts(o->conclusion_number, o->conclusion_date, &number,
                                            &concluded)) != 0 ||
        (o->due && s_day_opt("--due", o->due, &due) != 0))
        goto out;
    rc = CLI_EXIT_FAIL;
    if (concluded < on) {
        char concluded_s[16];
        cchc_day_format(concluded, concluded_s, sizeof concluded_s);
        fprintf(stderr, "cchc: the conclusion (%s) cannot come before the inspection (%s)\n",
                concluded_s, o->date);
        goto out;
    }
    if (cli_db_connect(ctx, 1) != 0 || cli_db_unit_known(ctx, o->unit) != 0)
        goto out;
    if (!o->due && s_default_due(ctx, concluded, &due, &days) != 0)
        goto out;
    if (due < concluded) {
        fprintf(stderr, "cchc: --due %s is before the conclusion's date\n", o->due);
        goto out;
    }
    int year;
    cchc_day_to_ymd(on, &year, &(int){0}, &(int){0});
    if (o->code)
        snprintf(code, sizeof code, "%s", o->code);
    else if (s_next_code(ctx, year, code, sizeof code) != 0)
        goto out;
    char on_s[16], concluded_s[16], due_s[16];
    cchc_day_format(on, on_s, sizeof on_s);
    cchc_day_format(concluded, concluded_s, sizeof concluded_s);
    cchc_day_format(due, due_s, sizeof due_s);
    const char *params[7] = {code, o->unit, team, on_s, number, concluded_s, due_s};
    PGresult *r = cli_db_query(
        ctx, "could not record the inspection",
        "INSERT INTO inspections (code, unit_code, team, inspected_on, conclusion_number, "
        "conclusion_date, remediation_due, status) "
        "VALUES ($1, $2, $3, $4::date, $5, $6::date, $7::date, 'awaiting_remediation') "
        "ON CONFLICT (code) DO NOTHING RETURNING id",
        7, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    int inserted = PQntuples(r) == 1;
    PQclear(r);
    if (!inserted) {
        fprintf(stderr, "cchc: inspection %s already exists: 'cchc inspection show %s'\n", code,
                code);
        goto out;
    }
    printf("inspection %s of %s: remediation due %s", code, o->unit, due_s);
    if (days >= 0)
        printf(" (%d working days after the conclusion of %s)", days, concluded_s);
    printf("\n");
    CCHC_LOG(CCHC_LOG_INFO, "inspection_added", "code=%s unit=%s due=%s", code, o->unit, due_s);
    rc = CLI_EXIT_OK;
out:
    free(team);
    free(number);
    return rc;
}

static int s_finding_add(cli_ctx_t *ctx, const char *code, const char *text_arg)
{
    char *text = cli_db_text_arg("the finding", text_arg, S_FINDING_MAX);
    if (!text)
        return CLI_EXIT_USAGE;
    int rc = CLI_EXIT_FAIL;
    const char *params[2] = {code, text};
    PGresult *r = NULL;
    if (cli_db_connect(ctx, 1) != 0)
        goto out;
    r = cli_db_query(ctx, "could not add the finding",
                     "INSERT INTO inspection_findings (inspection_id, no, text) "
                     "SELECT i.id, coalesce((SELECT max(f.no) FROM inspection_findings f "
                     "WHERE f.inspection_id = i.id), 0) + 1, $2 "
                     "FROM inspections i WHERE i.code = $1 RETURNING no",
                     2, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) != 1) {
        fprintf(stderr, "cchc: unknown inspection '%s': 'cchc inspection list' shows them\n", code);
        goto out;
    }
    printf("finding %s added to %s\n", PQgetvalue(r, 0, 0), code);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    free(text);
    return rc;
}

/* ---- show and list ------------------------------------------------------------------- */

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_show_json_sql[] =
    "SELECT json_build_object('code', i.code, 'unit', i.unit_code, 'unit_name', u.name, "
    "'team', i.team, 'inspected_on', i.inspected_on::text, "
    "'conclusion_number', i.conclusion_number, 'conclusion_date', i.conclusion_date::text, "
    "'remediation_due', i.remediation_due::text, 'status', i.status, "
    "'created_at', " CLI_SQL_UTC("i.created_at") ", "
    "'findings', coalesce((SELECT json_agg(json_build_object("
    "'no', f.no, 'status', f.status, 'text', f.text) ORDER BY f.no) "
    "FROM inspection_findings f WHERE f.inspection_id = i.id), '[]'), "
    "'reports', coalesce((SELECT json_agg(json_build_object("
    "'id', r.id, 'unit', r.unit_code, 'revision', r.revision, 'status', r.status, "
    "'received_at', " CLI_SQL_UTC("r.received_at") ") ORDER BY r.received_at, r.id) "
    "FROM reports r WHERE r.subject = i.code AND r.content_kind = 'remediation'), '[]')) "
    "FROM inspections i JOIN units u ON u.code = i.unit_code WHERE i.code = $1";
/* clang-format on */

static int s_show(cli_ctx_t *ctx, const char *code, int json)
{
    const char *params[1] = {code};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    PGresult *r = cli_db_query(ctx, "could not read the inspection", s_show_json_sql, 1, params,
                               PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    if (PQntuples(r) != 1) {
        PQclear(r);
        fprintf(stderr, "cchc: unknown inspection '%s': 'cchc inspection list' shows them\n", code);
        return CLI_EXIT_FAIL;
    }
    json_t *o = cli_db_json_value(r, 0, 0);
    PQclear(r);
    if (json)
        return cli_db_json_print(&o) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;

    json_t *findings = json_object_get(o, "findings"), *reports = json_object_get(o, "reports");
    size_t remedied = 0, k;
    json_t *v;
    json_array_foreach(findings, k, v) remedied +=
        strcmp(json_string_value(json_object_get(v, "status")), "remedied") == 0;
#define S_STR(key) json_string_value(json_object_get(o, key))
    printf("inspection   %s\n"
           "unit         %s (%s)\n"
           "team         %s\n"
           "inspected    %s\n"
           "conclusion   %s of %s\n"
           "due          %s\n"
           "status       %s\n"
           "remediated   %zu of %zu findings\n",
           S_STR("code"), S_STR("unit"), S_STR("unit_name"), S_STR("team"), S_STR("inspected_on"),
           S_STR("conclusion_number"), S_STR("conclusion_date"), S_STR("remediation_due"),
           S_STR("status"), remedied, json_array_size(findings));
#undef S_STR
    static const char *const fcols[] = {"no", "status", "finding"};
    static const char *const rcols[] = {"report", "unit", "revision", "status", "received_at"};
    printf("\nfindings:\n");
    if (json_array_size(findings) == 0)
        printf("none yet: add them with 'cchc finding add %s TEXT'\n", code);
    cli_table_t *t = json_array_size(findings) ? cli_db_table_new(3, fcols) : NULL;
    json_array_foreach(findings, k, v)
    {
        char no[24];
        snprintf(no, sizeof no, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "no")));
        const char *cells[3] = {no, json_string_value(json_object_get(v, "status")),
                                json_string_value(json_object_get(v, "text"))};
        cli_db_table_add(t, cells);
    }
    if (t)
        cli_db_table_print(t, stdout);
    cli_db_table_destroy(&t);
    printf("\nremediation reports:\n");
    if (json_array_size(reports) == 0)
        printf("none received\n");
    t = json_array_size(reports) ? cli_db_table_new(5, rcols) : NULL;
    json_array_foreach(reports, k, v)
    {
        char id[24], rev[24], when[32] = "-";
        int64_t ms;
        if (cchc_clock_parse(json_string_value(json_object_get(v, "received_at")), &ms) == 0)
            cchc_clock_format_local(ms, when, sizeof when);
        snprintf(id, sizeof id, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "id")));
        snprintf(rev, sizeof rev, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(v, "revision")));
        const char *cells[5] = {id, json_string_value(json_object_get(v, "unit")), rev,
                                json_string_value(json_object_get(v, "status")), when};
        cli_db_table_add(t, cells);
    }
    if (t)
        cli_db_table_print(t, stdout);
    cli_db_table_destroy(&t);
    json_decref(o);
    return CLI_EXIT_OK;
}

static int s_list(cli_ctx_t *ctx, const char *unit, int json)
{
    const char *params[1] = {unit};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (unit && cli_db_unit_known(ctx, unit) != 0)
        return CLI_EXIT_FAIL;
#define S_COUNTS                                                                                   \
    "(SELECT count(*) FROM inspection_findings f WHERE f.inspection_id = i.id) AS findings, "      \
    "(SELECT count(*) FROM inspection_findings f WHERE f.inspection_id = i.id "                    \
    "AND f.status = 'remedied') AS remedied, "                                                     \
    "(SELECT count(*) FROM reports r WHERE r.subject = i.code "                                    \
    "AND r.content_kind = 'remediation') AS reports "
    if (json)
        return cli_db_print_json(
            ctx, "could not list the inspections",
            "SELECT coalesce(json_agg(json_build_object('code', code, 'unit', unit_code, "
            "'team', team, 'inspected_on', inspected_on, 'conclusion_number', conclusion_number, "
            "'conclusion_date', conclusion_date, 'remediation_due', remediation_due, 'status', "
            "status, 'findings', findings, 'remedied', remedied, 'reports', reports) "
            "ORDER BY inspected_on, code), '[]') FROM (SELECT i.*, " S_COUNTS
            "FROM inspections i WHERE $1::text IS NULL OR i.unit_code = $1) x",
            1, params);
    return cli_db_print_table(ctx, "could not list the inspections",
                              "SELECT i.code, i.unit_code AS unit, i.inspected_on::text AS date, "
                              "i.conclusion_number || ' ' || i.conclusion_date AS conclusion, "
                              "i.remediation_due::text AS due, i.status, " S_COUNTS
                              "FROM inspections i WHERE $1::text IS NULL OR i.unit_code = $1 "
                              "ORDER BY i.inspected_on, i.code",
                              1, params, "no inspections recorded");
#undef S_COUNTS
}

static int s_run(cli_ctx_t *ctx, int argc, char **argv, int finding)
{
    static const struct option opts[] = {
        {"team", required_argument, NULL, 't'},
        {"date", required_argument, NULL, 'd'},
        {"conclusion", required_argument, NULL, 'C'},
        {"conclusion-number", required_argument, NULL, 'N'},
        {"conclusion-date", required_argument, NULL, 'A'},
        {"due", required_argument, NULL, 'D'},
        {"code", required_argument, NULL, 'k'},
        {"unit", required_argument, NULL, 'u'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    int add_opts = o.team || o.date || o.conclusion || o.conclusion_number || o.conclusion_date ||
                   o.due || o.code;
    if (finding && strcmp(verb, "add") == 0 && nargs == 2 && !add_opts && !o.unit && !o.json)
        return s_finding_add(ctx, args[0], args[1]);
    if (finding) {
        fprintf(stderr, "cchc: usage: finding add INSPECTION_CODE TEXT (quote the text)\n");
    } else if (strcmp(verb, "add") == 0 && nargs == 1 && !o.unit && !o.json) {
        o.unit = args[0];
        return s_add(ctx, &o);
    } else if (strcmp(verb, "show") == 0 && nargs == 1 && !add_opts && !o.unit) {
        return s_show(ctx, args[0], o.json);
    } else if (strcmp(verb, "list") == 0 && nargs == 0 && !add_opts) {
        return s_list(ctx, o.unit, o.json);
    } else if (strcmp(verb, "add") == 0 || strcmp(verb, "show") == 0 || strcmp(verb, "list") == 0) {
        fprintf(stderr, "cchc: wrong arguments or options for 'inspection %s'\n", verb);
    } else {
        fprintf(stderr, "cchc: unknown subcommand 'inspection %s'\n", verb);
    }
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}

int cli_inspection_run(cli_ctx_t *ctx, int argc, char **argv)
{
    return s_run(ctx, argc, argv, 0);
}

int cli_finding_run(cli_ctx_t *ctx, int argc, char **argv)
{
    return s_run(ctx, argc, argv, 1);
}
