/* agt_cmd_deadlines.c: `cchc-agent deadlines [--json]`.
 *
 * Owns the officer's view of the unit's obligations (DOMAIN.md section 3):
 * every report due, with its due date and status, from the data last synced,
 * so it works offline. When the district's metadata carries "expectations"
 * ([{"type", "period", "subject", "due", "status", "grace_days"}], the
 * server's own record), those are shown; else they are computed here: for
 * each assigned periodic type, the periods of the current year whose data
 * window has started, due by the type's due rule and the synced calendar.
 * Open inspections (remediation due) and the unit's tasks (due) are added
 * either way. A report the outbox has delivered (or the metadata lists as
 * received) counts as submitted: on time when it arrived by due + grace days.
 * The server decides; this is the officer's best view between two syncs.
 *
 * A unit that answers for closed predecessors (the metadata's
 * "predecessors", DOMAIN.md section 1) also lists the obligations each left
 * open at closure, naming it ("nộp thay"): they are settled against its
 * revisions and against what the outbox holds for its unit. */
#include "agt_config.h"
#include "agt_outbox.h"
#include "agt_sync.h"

#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "cchc_validate.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One obligation. Strings are owned. */
typedef struct {
    cchc_day_t due;
    char *type, *period, *subject;
    char status[16];   /* expected | on_time | late | overdue | exempt | cancelled | submitted */
    int grace;         /* days */
    cchc_day_t done;   /* day the report arrived; CCHC_DAY_NONE if not (or not known) */
    int queued;        /* a report for it waits in the outbox */
    char *unit;        /* the unit that owes it: this one, or a predecessor */
    char *for_name;    /* a predecessor's name, NULL for this unit's own */
    const json_t *src; /* what lists its revisions: the document or the predecessor's entry */
} agt_deadline_t;

typedef struct {
    agt_deadline_t *v;
    size_t n, cap;
} agt_deadlines_t;

/* What the outbox holds, as far as deadlines care. */
typedef struct {
    char *type, *unit, *period, *subject;
    int delivered, queued;
    cchc_day_t day;
} agt_sent_t;

typedef struct {
    agt_sent_t *v;
    size_t n, cap;
} agt_sents_t;

static char *s_dup(const char *s)
{
    return cchc_strdup(s ? s : "");
}

static int s_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int s_collect(const agt_outbox_row_t *row, void *arg)
{
    agt_sents_t *s = arg;
    int delivered = row->state && strcmp(row->state, AGT_OUTBOX_DELIVERED) == 0;
    int queued = row->state && strcmp(row->state, AGT_OUTBOX_QUEUED) == 0;
    if (!delivered && !queued)
        return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = cchc_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (agt_sent_t){s_dup(row->report_type),
                                s_dup(row->unit),
                                s_dup(row->period),
                                s_dup(row->subject),
                                delivered,
                                queued,
                                cchc_day_of_instant(row->delivered_at)};
    return 0;
}

static agt_deadline_t *s_add(agt_deadlines_t *d, cchc_day_t due, const char *type,
                             const char *period, const char *subject, const char *status, int grace,
                             const char *unit)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = cchc_realloc(d->v, d->cap * sizeof *d->v);
    }
    agt_deadline_t *x = &d->v[d->n++];
    *x = (agt_deadline_t){.due = due,
                          .type = s_dup(type),
                          .period = s_dup(period),
                          .subject = s_dup(subject),
                          .grace = grace,
                          .done = CCHC_DAY_NONE,
                          .unit = s_dup(unit)};
    snprintf(x->status, sizeof x->status, "%s", status);
    return x;
}

/* Settles x against what was sent and what the server listed as received
 * (doc: the unit's own metadata, or its predecessor's entry), and against
 * today. */
static void s_settle(agt_deadline_t *x, const agt_sents_t *sents, const json_t *doc,
                     cchc_day_t today)
{
    const json_t *r;
    size_t i;
    for (i = 0; i < sents->n; i++) {
        const agt_sent_t *s = &sents->v[i];
        int match = s_eq(s->period, x->period) && s_eq(s->subject, x->subject) &&
                    (!*x->type || s_eq(s->type, x->type)) && (!*s->unit || s_eq(s->unit, x->unit));
        if (!match)
            continue;
        x->queued |= s->queued;
        if (s->delivered && (x->done == CCHC_DAY_NONE || s->day < x->done))
            x->done = s->day;
    }
    json_array_foreach(json_object_get(doc, "revisions"), i, r)
    {
        cchc_day_t day;
        if (s_eq(agt_sync_str(r, "type", ""), x->type) &&
            s_eq(agt_sync_str(r, "period", ""), x->period) &&
            s_eq(agt_sync_str(r, "subject", ""), x->subject) &&
            cchc_day_parse(agt_sync_str(r, "first_received", ""), &day) == CCHC_OK &&
            (x->done == CCHC_DAY_NONE || day < x->done))
            x->done = day;
    }
    int open = strcmp(x->status, "expected") == 0 || strcmp(x->status, "overdue") == 0;
    if (open && x->done != CCHC_DAY_NONE)
        snprintf(x->status, sizeof x->status, "%s",
                 x->due == CCHC_DAY_NONE || x->done <= x->due + x->grace ? "on_time" : "late");
    else if (strcmp(x->status, "expected") == 0 && x->due != CCHC_DAY_NONE &&
             today > x->due + x->grace)
        snprintf(x->status, sizeof x->status, "overdue");
}

static const char *s_label(const agt_deadline_t *x, cchc_day_t today)
{
    if (strcmp(x->status, "expected") == 0) {
        if (x->due == CCHC_DAY_NONE || today < x->due)
            return "chưa đến hạn";
        return today == x->due ? "đến hạn hôm nay" : "quá hạn, còn trong thời gian gia hạn";
    }
    static const struct {
        const char *code, *vi;
    } labels[] = {
        {"on_time", "đã nộp đúng hạn"}, {"late", "nộp muộn"},    {"overdue", "quá hạn"},
        {"exempt", "được miễn"},        {"cancelled", "đã hủy"}, {"submitted", "đã nộp"},
    };
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (strcmp(labels[i].code, x->status) == 0)
            return labels[i].vi;
    return x->status;
}

/* 1 when a type's "periods" list holds code. */
static int s_lists(const json_t *type, const char *code)
{
    const json_t *v;
    size_t i;
    json_array_foreach(json_object_get(type, "periods"), i, v)
    {
        if (s_eq(json_string_value(v), code))
            return 1;
    }
    return 0;
}

/* Expectations of one assigned periodic type, computed here: the periods
 * whose data window has started and whose cut-off end the unit is open on
 * (as the server makes them: a unit opened on 1 July owes no S1). */
static void s_type_periods(agt_deadlines_t *d, const json_t *t, const cchc_calendar_t *cal,
                           cchc_day_t today, const char *unit, const json_t *doc)
{
    const json_t *u = json_object_get(doc, "unit");
    cchc_day_t from = CCHC_DAY_NONE, to = CCHC_DAY_NONE;
    if (cchc_day_parse(agt_sync_str(u, "valid_from", ""), &from) != CCHC_OK)
        from = CCHC_DAY_NONE;
    if (cchc_day_parse(agt_sync_str(u, "valid_to", ""), &to) != CCHC_OK)
        to = CCHC_DAY_NONE;
    cchc_cutoff_t cutoff = CCHC_CUTOFF_DEC09;
    cchc_due_rule_t rule;
    const char *code = agt_sync_str(t, "code", NULL);
    (void)cchc_cutoff_parse(agt_sync_str(t, "cutoff_rule", "dec09"), &cutoff);
    if (!code || cchc_due_rule_parse(agt_sync_str(t, "due_rule", ""), &rule) != CCHC_OK)
        return;
    int y, m, dd, grace = (int)json_integer_value(json_object_get(t, "grace_days"));
    cchc_day_to_ymd(today, &y, &m, &dd);
    cchc_period_t all[21];
    size_t n = 0;
    for (int i = 1; i <= 12; i++)
        all[n++] = (cchc_period_t){y, CCHC_PERIOD_MONTH, i};
    for (int i = 1; i <= 4; i++)
        all[n++] = (cchc_period_t){y, CCHC_PERIOD_QUARTER, i};
    all[n++] = (cchc_period_t){y, CCHC_PERIOD_HALF, 1};
    all[n++] = (cchc_period_t){y, CCHC_PERIOD_HALF, 2};
    all[n++] = (cchc_period_t){y, CCHC_PERIOD_NINE, 9};
    all[n++] = (cchc_period_t){y, CCHC_PERIOD_YEAR, 0};
    for (size_t i = 0; i < n; i++) {
        cchc_day_t start, end, due;
        char id[16];
        if (!s_lists(t, cchc_period_code(&all[i])))
            continue;
        cchc_period_range(&all[i], cutoff, &start, &end);
        if (start > today || (from != CCHC_DAY_NONE && end < from) ||
            (to != CCHC_DAY_NONE && end > to) ||
            cchc_due_date(&rule, cal, &all[i], cutoff, CCHC_DAY_NONE, &due) != 0)
            continue;
        cchc_period_format(&all[i], id, sizeof id);
        s_add(d, due, code, id, "", "expected", grace, unit);
    }
}

/* 1 when d already has an obligation of the unit about subject. */
static int s_has_subject(const agt_deadlines_t *d, const char *subject)
{
    for (size_t i = 0; i < d->n; i++)
        if (!d->v[i].for_name && s_eq(d->v[i].subject, subject))
            return 1;
    return 0;
}

/* The obligations the closed predecessors left open, which this unit submits
 * for them (the metadata's "predecessors"). */
static void s_predecessors(agt_deadlines_t *d, const json_t *doc)
{
    const json_t *p, *o;
    size_t i, j;
    json_array_foreach(json_object_get(doc, "predecessors"), i, p)
    {
        const json_t *pu = json_object_get(p, "unit");
        const char *code = agt_sync_str(pu, "code", NULL);
        if (!code)
            continue;
        json_array_foreach(json_object_get(p, "obligations"), j, o)
        {
            cchc_day_t due;
            if (cchc_day_parse(agt_sync_str(o, "due", ""), &due) != CCHC_OK)
                continue;
            agt_deadline_t *x =
                s_add(d, due, agt_sync_str(o, "type", ""), agt_sync_str(o, "period", ""),
                      agt_sync_str(o, "subject", ""), "expected",
                      (int)json_integer_value(json_object_get(o, "grace_days")), code);
            x->for_name = s_dup(agt_sync_str(pu, "name", code));
            x->src = p;
        }
    }
}

/* Open inspections and the unit's tasks, with their due dates. */
static void s_events(agt_deadlines_t *d, const json_t *doc, const char *unit)
{
    const json_t *x, *rt = agt_sync_type_for(doc, "remediation");
    const json_t *tt = agt_sync_type_for(doc, "task_progress");
    size_t i;
    cchc_day_t due;
    json_array_foreach(json_object_get(doc, "inspections"), i, x)
    {
        const char *code = agt_sync_str(x, "code", NULL);
        if (!code || !agt_sync_inspection_open(x, unit) || s_has_subject(d, code) ||
            cchc_day_parse(agt_sync_str(x, "due", ""), &due) != CCHC_OK)
            continue;
        const char *st = agt_sync_str(x, "status", "");
        s_add(d, due, agt_sync_str(rt, "code", ""), "", code,
              strcmp(st, "remediation_received") == 0  ? "submitted"
              : strcmp(st, "remediation_overdue") == 0 ? "overdue"
                                                       : "expected",
              0, unit);
    }
    json_array_foreach(json_object_get(doc, "tasks"), i, x)
    {
        const char *code = agt_sync_str(x, "code", NULL);
        if (!code || agt_sync_task_role(doc, x, unit) == AGT_ROLE_NONE || s_has_subject(d, code) ||
            cchc_day_parse(agt_sync_str(x, "due", ""), &due) != CCHC_OK)
            continue;
        s_add(d, due, agt_sync_str(tt, "code", ""), "", code, "expected", 0, unit);
    }
}

static int s_by_due(const void *a, const void *b)
{
    const agt_deadline_t *x = a, *y = b;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    int c = strcmp(x->type, y->type);
    if (!c)
        c = strcmp(*x->period ? x->period : x->subject, *y->period ? y->period : y->subject);
    return c ? c : strcmp(x->unit, y->unit);
}

/* Prints s padded with spaces to width characters (UTF-8 aware). */
static void s_pad(const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        chars += (*p & 0xC0) != 0x80;
    fputs(s, stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

static void s_days(const agt_deadline_t *x, cchc_day_t today, char *buf, size_t len)
{
    char day[16];
    if (x->done != CCHC_DAY_NONE) {
        cchc_day_format(x->done, day, sizeof day);
        snprintf(buf, len, "nộp %s", day);
    } else if (strcmp(x->status, "expected") != 0 && strcmp(x->status, "overdue") != 0) {
        snprintf(buf, len, "-");
    } else if (x->due > today) {
        snprintf(buf, len, "còn %d ngày", (int)(x->due - today));
    } else if (x->due == today) {
        snprintf(buf, len, "hôm nay");
    } else {
        snprintf(buf, len, "quá %d ngày", (int)(today - x->due));
    }
    if (x->queued && strlen(buf) + 24 < len)
        strcat(buf, " (đã lưu, chờ gửi)");
}

static void s_print_text(const agt_deadlines_t *d, const agt_config_t *cfg, cchc_day_t today,
                         int from_server)
{
    char t[16], due[16], days[96], forw[200];
    cchc_day_format(today, t, sizeof t);
    printf("Nghĩa vụ báo cáo của đơn vị %s, hôm nay %s: %zu\n(the unit's obligations; %s)\n\n",
           cfg->unit, t, d->n,
           from_server ? "as the district server computed them at the last sync"
                       : "computed here from the synced types, calendar, inspections and tasks");
    s_pad("Hạn", 11);
    s_pad("Loại", 14);
    s_pad("Kỳ / đối tượng", 16);
    s_pad("Trạng thái", 38);
    s_pad("Số ngày", 32);
    printf("Nộp thay (for)\n");
    for (size_t i = 0; i < d->n; i++) {
        const agt_deadline_t *x = &d->v[i];
        cchc_day_format(x->due, due, sizeof due);
        s_days(x, today, days, sizeof days);
        s_pad(due, 11);
        s_pad(*x->type ? x->type : "-", 14);
        s_pad(*x->period ? x->period : x->subject, 16);
        s_pad(s_label(x, today), 38);
        s_pad(days, 32);
        if (x->for_name)
            snprintf(forw, sizeof forw, "%s (%s)", x->unit, x->for_name);
        printf("%s\n", x->for_name ? forw : "-");
    }
    if (d->n == 0)
        printf("(không có; none)\n");
}

static void s_print_json(const agt_deadlines_t *d, const agt_config_t *cfg, cchc_day_t today,
                         int from_server)
{
    char t[16], due[16], done[16];
    cchc_day_format(today, t, sizeof t);
    json_t *list = json_array();
    for (size_t i = 0; i < d->n; i++) {
        const agt_deadline_t *x = &d->v[i];
        cchc_day_format(x->due, due, sizeof due);
        cchc_day_format(x->done, done, sizeof done);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "due", due, "type", x->type,
                      "period", x->period, "subject", x->subject, "status", x->status, "label_vi",
                      s_label(x, today), "grace_days", x->grace, "queued", x->queued);
        json_object_set_new(o, "received",
                            x->done != CCHC_DAY_NONE ? json_string(done) : json_null());
        json_object_set_new(o, "days_left", json_integer((json_int_t)(x->due - today)));
        json_object_set_new(o, "unit", json_string(x->unit));
        json_object_set_new(o, "for",
                            x->for_name
                                ? json_pack("{s:s, s:s}", "unit", x->unit, "name", x->for_name)
                                : json_null());
        json_array_append_new(list, o);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "unit", cfg->unit, "today", t, "source",
                          from_server ? "server" : "local", "deadlines", list);
    json_dumpf(o, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(o);
}

int agt_cmd_deadlines(const agt_config_t *cfg, int argc, char **argv)
{
    int as_json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr, "deadlines: tùy chọn không hợp lệ \"%s\" (unknown option)\n", argv[i]);
            return AGT_EXIT_USAGE;
        }
        as_json = 1;
    }
    json_t *doc = NULL;
    int rc = agt_sync_load(cfg, &doc, NULL, NULL);
    if (rc == CCHC_ENOTFOUND) {
        agt_sync_print_never_synced(as_json ? stderr : stdout);
        return AGT_EXIT_FAILED;
    }
    if (rc != CCHC_OK)
        return AGT_EXIT_FAILED;
    char err[512] = "";
    agt_sents_t sents = {0};
    agt_outbox_t *outbox = agt_outbox_new(cfg->outbox, err, sizeof err);
    if (!outbox || agt_outbox_list(outbox, NULL, 0, -1, s_collect, &sents) != CCHC_OK) {
        fprintf(stderr, "Không đọc được hàng đợi gửi (%s)\n(could not read the outbox)\n", err);
        agt_outbox_destroy(&outbox);
        json_decref(doc);
        return AGT_EXIT_FAILED;
    }
    agt_outbox_destroy(&outbox);
    cchc_vctx_t *ctx = cchc_vctx_new(doc, err, sizeof err); /* parsed once already: cannot fail */
    cchc_day_t today = cchc_day_of_instant(cchc_clock_now_ms());
    agt_deadlines_t d = {0};
    const json_t *expectations = json_object_get(doc, "expectations"), *x;
    size_t i;
    json_array_foreach(expectations, i, x)
    {
        cchc_day_t due;
        if (cchc_day_parse(agt_sync_str(x, "due", ""), &due) != CCHC_OK)
            continue;
        s_add(&d, due, agt_sync_str(x, "type", ""), agt_sync_str(x, "period", ""),
              agt_sync_str(x, "subject", ""), agt_sync_str(x, "status", "expected"),
              (int)json_integer_value(json_object_get(x, "grace_days")), cfg->unit);
    }
    if (!json_is_array(expectations) && ctx) {
        json_array_foreach(json_object_get(doc, "types"), i, x)
        {
            if (json_is_true(json_object_get(x, "assigned")) &&
                strcmp(agt_sync_str(x, "content_kind", ""), "periodic") == 0)
                s_type_periods(&d, x, cchc_vctx_calendar(ctx), today, cfg->unit, doc);
        }
    }
    s_events(&d, doc, cfg->unit);
    s_predecessors(&d, doc);
    for (i = 0; i < d.n; i++)
        s_settle(&d.v[i], &sents, d.v[i].src ? d.v[i].src : doc, today);
    qsort(d.v, d.n, sizeof *d.v, s_by_due);
    if (as_json)
        s_print_json(&d, cfg, today, json_is_array(expectations));
    else
        s_print_text(&d, cfg, today, json_is_array(expectations));
    for (i = 0; i < d.n; i++) {
        free(d.v[i].type);
        free(d.v[i].period);
        free(d.v[i].subject);
        free(d.v[i].unit);
        free(d.v[i].for_name);
    }
    free(d.v);
    for (i = 0; i < sents.n; i++) {
        free(sents.v[i].type);
        free(sents.v[i].unit);
        free(sents.v[i].period);
        free(sents.v[i].subject);
    }
    free(sents.v);
    cchc_vctx_destroy(&ctx);
    json_decref(doc);
    return AGT_EXIT_OK;
}
