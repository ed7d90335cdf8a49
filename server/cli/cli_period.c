/* cli_period.c: `cchc period lock|reopen|list`, closing a period to revisions
 * and opening it again, audited.
 *
 * E006 (common/cchc_validate.c) refuses a revision of a report when its
 * period is locked (periods.locked_at) or when the type's expiry_days after
 * the due date have passed, and tells the officer to ask Home Affairs to
 * reopen it. This is how Home Affairs answers:
 *
 *   command                      writes                          E006 for revisions of TYPE PERIOD
 *   ---------------------------  ------------------------------  --------------------------------
 *   period lock TYPE PERIOD      periods.locked_at, lock_reason; refused
 *                                ended_at of its running
 *                                reopenings
 *   period reopen TYPE PERIOD    a period_reopenings row         let through, lock and expiry
 *     [--unit U] --until DAY                                      alike, for U (or every unit)
 *                                                                 until DAY inclusive
 *
 * A reopening runs until the end of its day, Vietnam civil date, as the
 * agents and the server judge it: by the injectable clock (cchc_clock), never
 * the database's current_date. A lock ends the running ones early.
 *
 * Both tables are audited by trigger with the database login, and announced
 * (NOTIFY cchc_meta): the server tells connected agents to sync again, and the
 * unit's metadata carries "reopened_until" (migration 014), so the agent's
 * offline check and the server's decide alike. This file writes no audit rows.
 *
 * A period the database does not know yet (no report, no scheduler tick) is
 * created with its data window and due date computed here by cchc_period from
 * the type's rules and the calendar, as the scheduler computes them. Only
 * periodic types have periods: KHAC_PHUC and NV_KH (one report per inspection
 * or task) are refused. Every check runs before the first write, in one
 * transaction: a refusal changes nothing. */
#include "cli_db.h"
#include "srv_calendar.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_period.h"
#include "cchc_wire.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define S_REASON_MIN 3
#define S_REASON_MAX 500
#define S_TYPE_MAX 64

/* An operator's message: a Vietnamese line first, then the English one, each
 * naming the field and the fix. Both formats take the same arguments (at
 * least one). */
#define S_SAY(vi, en, ...)                                                                         \
    do {                                                                                           \
        fprintf(stderr, "cchc: " vi "\n", __VA_ARGS__);                                            \
        fprintf(stderr, "cchc: " en "\n", __VA_ARGS__);                                            \
    } while (0)

typedef struct {
    const char *unit, *until, *reason, *type, *year;
    int json;
} s_opts_t;

/* What a lock or a reopening is about, checked. */
typedef struct {
    const char *type;                 /* borrowed from argv */
    char period[16];                  /* the id, upper case: "2024S1" */
    cchc_period_t p;                  /* parsed */
    char *reason;                     /* NFC copy, owned */
    const char *unit;                 /* NULL: every unit (reopen) */
    char until[16];                   /* reopen: YYYY-MM-DD */
    char today[16];                   /* the clock's civil date */
    char cutoff_rule[16];             /* the type's, from report_types */
    char due_rule[64];                /* idem */
    char start[16], end[16], due[16]; /* the period's window and due date ("" unknown) */
} s_target_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] period lock TYPE PERIOD --reason TEXT\n"
          "       cchc [-c admin.ini] period reopen TYPE PERIOD [--unit UNIT]\n"
          "                 --until YYYY-MM-DD --reason TEXT\n"
          "       cchc [-c admin.ini] period list [--type TYPE] [--year YYYY] [--json]\n"
          "\n"
          "Khoá và mở lại kỳ báo cáo: a revision of a report is refused (E006) once its\n"
          "period is locked, or once the type's expiry days after the due date have passed.\n"
          "period lock    locks TYPE PERIOD to revisions, and ends every reopening of it\n"
          "               still running.\n"
          "period reopen  lets revisions of TYPE PERIOD through again, past the lock and the\n"
          "               expiry alike, until the end of --until (Vietnam time; today or\n"
          "               later), for UNIT or, without --unit, for every unit.\n"
          "period list    the periods: data cut-off window, due date, last day of revisions,\n"
          "               locked or not and why, and the reopenings running.\n"
          "\n"
          "PERIOD is a period id such as 2024Q1, 2024S1, 2024N9, 2024 or 202406 (any case);\n"
          "only periodic report types have periods (not KHAC_PHUC, NV_KH). --reason (3 to\n"
          "500 characters) is required by lock and reopen. Both are written to the audit\n"
          "log ('cchc audit --table periods', '--table period_reopenings'), and agents\n"
          "learn of them at their next sync.\n"
          "  --json  with list: a JSON array\n",
          f);
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    switch (c) {
    case 'u':
        o->unit = optarg;
        break;
    case 'U':
        o->until = optarg;
        break;
    case 'r':
        o->reason = optarg;
        break;
    case 't':
        o->type = optarg;
        break;
    case 'y':
        o->year = optarg;
        break;
    default:
        o->json = 1;
        break;
    }
    return 0;
}

/* ---- checks that need no database --------------------------------------------------------- */

/* The period id, in any case, into t. 0 or CLI_EXIT_USAGE after saying why. */
static int s_check_period(s_target_t *t, const char *id)
{
    size_t n = strlen(id);
    if (n < sizeof t->period) {
        for (size_t i = 0; i <= n; i++)
            t->period[i] = id[i] >= 'a' && id[i] <= 'z' ? (char)(id[i] - 'a' + 'A') : id[i];
        if (cchc_period_parse(t->period, &t->p) == 0) {
            cchc_period_format(&t->p, t->period, sizeof t->period);
            return 0;
        }
    }
    const char *shown = n <= 32 && cchc_wire_text_ok(id, n) ? id : "?";
    S_SAY("kỳ báo cáo \"%s\" không đúng định dạng: ghi ví dụ 2024Q1, 2024S1, 2024N9, 2024 hoặc "
          "202406 (KHAC_PHUC, NV_KH không có kỳ).",
          "PERIOD \"%s\" is not a period id: write e.g. 2024Q1, 2024S1, 2024N9, 2024 or 202406 "
          "(KHAC_PHUC and NV_KH have no periods).",
          shown);
    return CLI_EXIT_USAGE;
}

/* --reason, into t->reason (NFC): 3 to 500 characters, white space around
 * not counted (as the CHECK of migration 014). 0 or CLI_EXIT_USAGE. */
static int s_check_reason(s_target_t *t, const char *reason, const char *verb)
{
    if (!reason) {
        S_SAY("period %s cần --reason TEXT (lý do, %d đến %d ký tự): lý do được ghi vào nhật ký "
              "thay đổi.",
              "period %s needs --reason TEXT (%d to %d characters), for the audit log.", verb,
              S_REASON_MIN, S_REASON_MAX);
        return CLI_EXIT_USAGE;
    }
    if (!(t->reason = cli_db_text_arg("--reason", reason, S_REASON_MAX)))
        return CLI_EXIT_USAGE;
    size_t chars = 0, trailing = 0;
    const char *p = t->reason;
    while (*p == ' ')
        p++;
    for (; *p; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        chars++;
        trailing = *p == ' ' ? trailing + 1 : 0;
    }
    if (chars - trailing < S_REASON_MIN) {
        S_SAY("--reason phải có ít nhất %d ký tự: ghi rõ lý do (ví dụ \"Xã bổ sung số liệu hộ "
              "tịch\").",
              "--reason must be at least %d characters: say why (e.g. \"the commune corrects "
              "its figures\").",
              S_REASON_MIN);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* --until: a real date, today or later by the clock. 0 or CLI_EXIT_USAGE. */
static int s_check_until(s_target_t *t, const char *until)
{
    cchc_day_t day, today = cchc_day_of_instant(cchc_clock_now_ms());
    cchc_day_format(today, t->today, sizeof t->today);
    if (!until) {
        S_SAY("period reopen cần --until YYYY-MM-DD: ngày cuối cùng (giờ Việt Nam, từ hôm nay %s "
              "trở đi) còn nhận bản sửa đổi.",
              "period reopen needs --until YYYY-MM-DD: the last day (Vietnam time, today %s or "
              "later) that revisions are let through.",
              t->today);
        return CLI_EXIT_USAGE;
    }
    if (cchc_day_parse(until, &day) != 0) {
        S_SAY("--until \"%s\" không phải ngày hợp lệ: ghi dạng YYYY-MM-DD, ví dụ 2024-06-30.",
              "--until \"%s\" is not a valid date: write YYYY-MM-DD, e.g. 2024-06-30.",
              cchc_wire_text_ok(until, strlen(until)) ? until : "?");
        return CLI_EXIT_USAGE;
    }
    if (day < today) {
        S_SAY("--until %s đã qua (hôm nay là %s): chọn hôm nay hoặc một ngày sau đó.",
              "--until %s is in the past (today is %s): choose today or a later day.", until,
              t->today);
        return CLI_EXIT_USAGE;
    }
    cchc_day_format(day, t->until, sizeof t->until);
    return 0;
}

/* ---- checks against the database ---------------------------------------------------------- */

/* Looks TYPE up: it must exist and be periodic. With want_period (t->p set),
 * the period must be one of the type's. Fills the type's rules into t.
 * 0, or the exit code after saying why. */
static int s_check_type(cli_ctx_t *ctx, s_target_t *t, int want_period)
{
    PGresult *r = NULL;
    const char *params[1] = {t->type};
    size_t n = strlen(t->type);
    if (n <= S_TYPE_MAX && cchc_wire_text_ok(t->type, n)) {
        r = cli_db_query(ctx, "could not look the report type up",
                         "SELECT content_kind, array_to_string(periods, ','), cutoff_rule, "
                         "due_rule FROM report_types WHERE code = $1",
                         1, params, PGRES_TUPLES_OK);
        if (!r)
            return CLI_EXIT_FAIL;
    }
    if (!r || PQntuples(r) != 1) {
        PQclear(r);
        S_SAY("loại báo cáo \"%s\" không có trong danh mục: 'cchc type list' liệt kê các loại "
              "(ví dụ CCHC_DK).",
              "unknown report type \"%s\": 'cchc type list' shows them (e.g. CCHC_DK).",
              n <= S_TYPE_MAX && cchc_wire_text_ok(t->type, n) ? t->type : "?");
        return CLI_EXIT_FAIL;
    }
    const char *kind = PQgetvalue(r, 0, 0);
    if (strcmp(kind, "periodic") != 0) {
        int insp = strcmp(kind, "remediation") == 0;
        fprintf(stderr,
                "cchc: loại báo cáo %s không có kỳ báo cáo (mỗi báo cáo gắn với một %s): không "
                "có kỳ nào để khoá hay mở lại; chọn một loại báo cáo định kỳ như CCHC_DK.\n"
                "cchc: report type %s has no periods (one report per %s): there is no period to "
                "lock or reopen; choose a periodic type such as CCHC_DK.\n",
                t->type, insp ? "cuộc kiểm tra" : "nhiệm vụ", t->type,
                insp ? "inspection" : "task");
        PQclear(r);
        return CLI_EXIT_FAIL;
    }
    snprintf(t->cutoff_rule, sizeof t->cutoff_rule, "%s", PQgetvalue(r, 0, 2));
    snprintf(t->due_rule, sizeof t->due_rule, "%s", PQgetvalue(r, 0, 3));
    char periods[128];
    snprintf(periods, sizeof periods, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    if (!want_period)
        return 0;
    const char *code = cchc_period_code(&t->p);
    char list[128], *save = NULL;
    int listed = 0;
    snprintf(list, sizeof list, "%s", periods);
    for (char *c = strtok_r(list, ",", &save); c && !listed; c = strtok_r(NULL, ",", &save))
        listed = strcmp(c, code) == 0;
    if (!listed) {
        S_SAY("kỳ %s không phải kỳ báo cáo của loại %s (các kỳ của loại này: %s): chọn đúng kỳ.",
              "%s is not a period of report type %s (its periods: %s): choose one of them.",
              t->period, t->type, periods[0] ? periods : "-");
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* --unit must name a unit. 0, or the exit code after saying why. */
static int s_check_unit(cli_ctx_t *ctx, const char *unit)
{
    PGresult *r = NULL;
    const char *params[1] = {unit};
    size_t n = strlen(unit);
    if (n <= S_TYPE_MAX && cchc_wire_text_ok(unit, n)) {
        r = cli_db_query(ctx, "could not look the unit up", "SELECT 1 FROM units WHERE code = $1",
                         1, params, PGRES_TUPLES_OK);
        if (!r)
            return CLI_EXIT_FAIL;
    }
    int known = r && PQntuples(r) == 1;
    PQclear(r);
    if (known)
        return 0;
    S_SAY("--unit: đơn vị \"%s\" không có trong danh mục: 'cchc unit list' liệt kê mã các đơn vị "
          "(ví dụ xa-van-son); bỏ --unit để mở lại cho mọi đơn vị.",
          "--unit: unknown unit \"%s\": 'cchc unit list' shows the unit codes (e.g. "
          "xa-van-son); leave --unit out to reopen for every unit.",
          n <= S_TYPE_MAX && cchc_wire_text_ok(unit, n) ? unit : "?");
    return CLI_EXIT_FAIL;
}

/* The calendar of calendar_days, for the due date. NULL after saying why. */
static cchc_calendar_t *s_load_calendar(cli_ctx_t *ctx)
{
    PGresult *r = cli_db_query(ctx, "could not read the calendar", SRV_CALENDAR_SQL, 0, NULL,
                               PGRES_TUPLES_OK);
    if (!r)
        return NULL;
    cchc_calendar_t *cal = srv_calendar_from_result(r);
    PQclear(r);
    return cal;
}

/* The period's data window and due date by the type's rules (cchc_period,
 * as the scheduler and the server compute them), into t->start, end, due.
 * The due date stays "" when the rule cannot give one. 0 or CLI_EXIT_FAIL. */
static int s_period_dates(cli_ctx_t *ctx, s_target_t *t)
{
    cchc_cutoff_t cutoff;
    cchc_due_rule_t rule;
    cchc_day_t start, end, due;
    if (cchc_cutoff_parse(t->cutoff_rule, &cutoff) != 0)
        cutoff = CCHC_CUTOFF_DEC09;
    cchc_period_range(&t->p, cutoff, &start, &end);
    cchc_day_format(start, t->start, sizeof t->start);
    cchc_day_format(end, t->end, sizeof t->end);
    t->due[0] = '\0';
    if (cchc_due_rule_parse(t->due_rule, &rule) != 0)
        return 0;
    cchc_calendar_t *cal = s_load_calendar(ctx);
    if (!cal)
        return CLI_EXIT_FAIL;
    if (cchc_due_date(&rule, cal, &t->p, cutoff, CCHC_DAY_NONE, &due) == 0)
        cchc_day_format(due, t->due, sizeof t->due);
    cchc_calendar_destroy(&cal);
    return 0;
}

/* ---- lock and reopen ------------------------------------------------------------------------ */

/* Creates the periods row when missing, then locks it and ends its running
 * reopenings; in the caller's transaction. *ended: how many. 0 or the exit code. */
static int s_lock_write(cli_ctx_t *ctx, const s_target_t *t, int *ended)
{
    const char *params[6] = {t->type,  t->period, t->start, t->end, t->due[0] ? t->due : NULL,
                             t->reason};
    if (cli_db_exec(ctx, "could not lock the period",
                    "INSERT INTO periods (type_code, period, cutoff_start, cutoff_end, due, "
                    "locked_at, lock_reason) VALUES ($1, $2, $3::date, $4::date, $5::date, now(), "
                    "$6) ON CONFLICT (type_code, period) DO UPDATE "
                    "SET locked_at = now(), lock_reason = EXCLUDED.lock_reason",
                    6, params) != 0)
        return CLI_EXIT_FAIL;
    /* Running: not ended, and its day not over by the clock (one that ran
     * out ended by itself, and keeps ended_at NULL). */
    const char *eparams[3] = {t->type, t->period, t->today};
    PGresult *r = cli_db_query(ctx, "could not end the period's reopenings",
                               "UPDATE period_reopenings SET ended_at = now() "
                               "WHERE type_code = $1 AND period = $2 AND ended_at IS NULL "
                               "AND until >= $3::date RETURNING id",
                               3, eparams, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    *ended = PQntuples(r);
    PQclear(r);
    return 0;
}

/* Creates the periods row when missing, then the reopening; in the caller's
 * transaction. Its id into id. 0 or the exit code. */
static int s_reopen_write(cli_ctx_t *ctx, const s_target_t *t, char *id, size_t idlen)
{
    const char *params[5] = {t->type, t->period, t->start, t->end, t->due[0] ? t->due : NULL};
    if (cli_db_exec(ctx, "could not record the period",
                    "INSERT INTO periods (type_code, period, cutoff_start, cutoff_end, due) "
                    "VALUES ($1, $2, $3::date, $4::date, $5::date) "
                    "ON CONFLICT (type_code, period) DO NOTHING",
                    5, params) != 0)
        return CLI_EXIT_FAIL;
    const char *rparams[5] = {t->type, t->period, t->unit, t->until, t->reason};
    PGresult *r = cli_db_query(ctx, "could not reopen the period",
                               "INSERT INTO period_reopenings (type_code, period, unit_code, "
                               "until, reason) VALUES ($1, $2, $3, $4::date, $5) RETURNING id",
                               5, rparams, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    snprintf(id, idlen, "%s", PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
    PQclear(r);
    return 0;
}

/* `period lock` and `period reopen`: checks, then one transaction. */
static int s_change(cli_ctx_t *ctx, int reopen, char **args, const s_opts_t *o)
{
    s_target_t t = {.type = args[0], .unit = o->unit};
    const char *verb = reopen ? "reopen" : "lock";
    int ended = 0;
    char id[24] = "";
    int rc = s_check_period(&t, args[1]);
    if (rc == 0)
        rc = s_check_reason(&t, o->reason, verb);
    if (rc == 0 && reopen)
        rc = s_check_until(&t, o->until);
    if (rc == 0 && !reopen)
        cchc_day_format(cchc_day_of_instant(cchc_clock_now_ms()), t.today, sizeof t.today);
    if (rc != 0)
        goto out;

    rc = CLI_EXIT_FAIL;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        goto out;
    rc = s_check_type(ctx, &t, 1);
    if (rc == 0 && t.unit)
        rc = s_check_unit(ctx, t.unit);
    if (rc == 0)
        rc = s_period_dates(ctx, &t);
    if (rc == 0)
        rc = reopen ? s_reopen_write(ctx, &t, id, sizeof id) : s_lock_write(ctx, &t, &ended);
    if (rc != 0) {
        cli_db_rollback(ctx);
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (cli_db_commit(ctx) != 0)
        goto out;
    if (reopen) {
        printf("Đã mở lại kỳ %s %s cho %s đến hết ngày %s (lần mở lại %s): bản sửa đổi được nhận "
               "dù kỳ đã khoá hay quá hạn sửa đổi.\n"
               "reopened %s %s for %s until the end of %s (reopening %s): revisions are let "
               "through past the lock and the expiry.\n",
               t.type, t.period, t.unit ? t.unit : "mọi đơn vị", t.until, id, t.type, t.period,
               t.unit ? t.unit : "every unit", t.until, id);
        CCHC_LOG(CCHC_LOG_INFO, "period_reopened", "id=%s type=%s period=%s unit=%s until=%s", id,
                 t.type, t.period, t.unit ? t.unit : "*", t.until);
    } else {
        printf("Đã khoá kỳ %s %s: không nhận bản sửa đổi nữa; %d lần mở lại đang chạy đã kết "
               "thúc.\n"
               "locked %s %s: revisions are refused; %d running reopening(s) ended.\n",
               t.type, t.period, ended, t.type, t.period, ended);
        CCHC_LOG(CCHC_LOG_INFO, "period_locked", "type=%s period=%s reopenings_ended=%d", t.type,
                 t.period, ended);
    }
    rc = CLI_EXIT_OK;
out:
    free(t.reason);
    return rc;
}

/* ---- list ----------------------------------------------------------------------------------- */

/* $1 type, $2 year (NULL: any), $3 today (the clock's civil date). A
 * reopening is listed while it runs: not ended, its day not over. */
#define S_FILTER                                                                                   \
    "FROM periods p JOIN report_types t ON t.code = p.type_code "                                  \
    "WHERE ($1::text IS NULL OR p.type_code = $1) "                                                \
    "AND ($2::text IS NULL OR left(p.period, 4) = $2) "
#define S_ORDER "p.type_code, p.cutoff_end, p.period"
#define S_RUNNING                                                                                  \
    "FROM period_reopenings o WHERE o.type_code = p.type_code AND o.period = p.period "            \
    "AND o.ended_at IS NULL AND o.until >= $3::date"
#define S_YMD(col) "to_char(" col ", 'YYYY-MM-DD')"
#define S_LAST_DAY "CASE WHEN t.expiry_days > 0 THEN p.due + t.expiry_days END"
#define S_STATE(locked, expired, open)                                                             \
    "CASE WHEN p.locked_at IS NOT NULL THEN '" locked "' WHEN " S_LAST_DAY                         \
    " < $3::date THEN '" expired "' ELSE '" open "' END"

/* Strings glued to macros: clang-format cannot lay them out. */
/* clang-format off */
static const char s_list_sql[] =
    "SELECT p.type_code AS type, p.period, "
    S_YMD("p.cutoff_start") " || '..' || " S_YMD("p.cutoff_end") " AS cutoff, "
    S_YMD("p.due") " AS due, " S_YMD(S_LAST_DAY) " AS revisions_until, "
    S_STATE("đã khoá", "hết hạn sửa", "mở") " AS state, "
    "CASE WHEN p.locked_at IS NOT NULL THEN coalesce(p.lock_reason, '-') || ' (' || "
    CLI_SQL_LOCAL("p.locked_at") " || ')' END AS why, "
    "(SELECT string_agg(coalesce(o.unit_code, 'mọi đơn vị') || ' đến ' || " S_YMD("o.until")
    " || ' (' || o.created_by || ': ' || o.reason || ')', '; ' ORDER BY o.id) " S_RUNNING
    ") AS reopened "
    S_FILTER "ORDER BY " S_ORDER;
static const char s_list_json_sql[] =
    "SELECT coalesce(json_agg(json_build_object('type', p.type_code, 'period', p.period, "
    "'cutoff_start', " S_YMD("p.cutoff_start") ", 'cutoff_end', " S_YMD("p.cutoff_end") ", "
    "'due', " S_YMD("p.due") ", 'revisions_until', " S_YMD(S_LAST_DAY) ", "
    "'state', " S_STATE("locked", "expired", "open") ", "
    "'locked_at', " CLI_SQL_UTC("p.locked_at") ", 'lock_reason', p.lock_reason, "
    "'reopenings', coalesce((SELECT json_agg(json_build_object('id', o.id, "
    "'unit', o.unit_code, 'until', " S_YMD("o.until") ", 'reason', o.reason, "
    "'created_by', o.created_by, 'created_at', " CLI_SQL_UTC("o.created_at") ") "
    "ORDER BY o.id) " S_RUNNING "), '[]')) ORDER BY " S_ORDER "), '[]') "
    S_FILTER;
/* clang-format on */

static int s_list(cli_ctx_t *ctx, const s_opts_t *o)
{
    s_target_t t = {.type = o->type};
    if (o->year && (strlen(o->year) != 4 || strspn(o->year, "0123456789") != 4 ||
                    atoi(o->year) < 2000 || atoi(o->year) > 2199)) {
        S_SAY("--year \"%s\" không phải một năm: ghi 4 chữ số, ví dụ 2024.",
              "--year \"%s\" is not a year: write 4 digits, e.g. 2024.",
              cchc_wire_text_ok(o->year, strlen(o->year)) ? o->year : "?");
        return CLI_EXIT_USAGE;
    }
    cchc_day_format(cchc_day_of_instant(cchc_clock_now_ms()), t.today, sizeof t.today);
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    int rc;
    if (o->type && (rc = s_check_type(ctx, &t, 0)) != 0)
        return rc;
    const char *params[3] = {o->type, o->year, t.today};
    if (o->json)
        return cli_db_print_json(ctx, "could not list the periods", s_list_json_sql, 3, params);
    return cli_db_print_table(ctx, "could not list the periods", s_list_sql, 3, params,
                              "no periods recorded yet (the server records them as it runs)");
}

int cli_period_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, 'u'},   {"until", required_argument, NULL, 'U'},
        {"reason", required_argument, NULL, 'r'}, {"type", required_argument, NULL, 't'},
        {"year", required_argument, NULL, 'y'},   {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    int list_opts = o.type || o.year || o.json;
    if (strcmp(verb, "lock") == 0 && nargs == 2 && !list_opts && !o.unit && !o.until)
        return s_change(ctx, 0, args, &o);
    if (strcmp(verb, "reopen") == 0 && nargs == 2 && !list_opts)
        return s_change(ctx, 1, args, &o);
    if (strcmp(verb, "list") == 0 && nargs == 0 && !o.unit && !o.until && !o.reason)
        return s_list(ctx, &o);
    if (strcmp(verb, "lock") == 0 && (o.unit || o.until))
        S_SAY("period %s không nhận --unit hay --until: khoá là cho cả kỳ, mọi đơn vị; để cho "
              "một đơn vị gửi bản sửa đổi, dùng period reopen --unit.",
              "period %s takes no --unit or --until: a lock is for the whole period, every "
              "unit; to let one unit revise, use period reopen --unit.",
              verb);
    else if (strcmp(verb, "lock") == 0 || strcmp(verb, "reopen") == 0)
        S_SAY("period %s cần TYPE và PERIOD (ví dụ CCHC_DK 2024S1) và chỉ các tuỳ chọn ghi "
              "trong hướng dẫn dưới đây.",
              "period %s takes TYPE and PERIOD (e.g. CCHC_DK 2024S1) and only the options "
              "below.",
              verb);
    else if (strcmp(verb, "list") == 0)
        S_SAY("period %s không nhận tham số, chỉ các tuỳ chọn --type, --year và --json.",
              "period %s takes no arguments, only --type, --year and --json.", verb);
    else
        S_SAY("không có lệnh con 'period %s': dùng lock, reopen hoặc list.",
              "unknown subcommand 'period %s': use lock, reopen or list.", verb);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
