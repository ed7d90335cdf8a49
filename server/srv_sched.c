/* srv_sched.c: the deadline scheduler (see srv_sched.h).
 *
 * One tick at instant now, T = its civil date in Asia/Ho_Chi_Minh, one
 * transaction:
 *
 *   1. pg_try_advisory_xact_lock(SRV_SCHED_LOCK_KEY), else skip;
 *   2. periods: for every periodic type, every period it lists in the years
 *      T-1, T, T+1: cut-off window and due date (cchc_period_range,
 *      cchc_due_date, the calendar from calendar_days), upserted (unchanged
 *      rows are not written, so the audit trigger stays quiet);
 *   3. cchc_sched_expectations(start_date, T): periods x assigned units open
 *      on the cut-off end, inspections, plan tasks x lead units; none for a
 *      unit closed on T (migration 020); met by reports already there;
 *   4. expected -> overdue when T > due + grace;
 *   5. on a working day T only, cchc_sched_rules: the rules below, each
 *      once its local hour has come (the first tick at or after it).
 *
 *   rule                  when (T a working day)                     to
 *   --------------------  -----------------------------------------  -------------
 *   deadline.approaching  approaching_at, due = T + 3 wd or + 1 wd   the unit
 *   deadline.today        today_at, due = T                          the unit
 *   report.overdue        overdue_at, k = wd in (due+grace, T] >= 1  the unit
 *                         and (k - 1) % overdue_repeat_wd = 0
 *   digest.overdue        overdue_at, a report.overdue day of the    @home_affairs
 *                         (type, period): every unit missing
 *   report.escalated      overdue_at, k = escalate_after_wd + 1      @leadership
 *                         (overdue for that many full wd), digest
 *   agent.silent          any tick, last_seen < now - silent_hours   @home_affairs
 *   remediation.due/      as deadline.* / report.overdue for         the unit
 *     .overdue            remediation types (KHAC_PHUC)
 *   task.due/.overdue     the same for task_progress (NV_KH)         the lead unit
 *
 *   rule                  dedup key
 *   --------------------  -------------------------------------------------
 *   deadline.approaching  deadline.approaching:<exp>:<3|1>
 *   deadline.today        deadline.today:<exp>
 *   report.overdue        report.overdue:<exp>:<T>
 *   digest.overdue        digest.overdue:<type>:<period>:<T>
 *   report.escalated      report.escalated:<type>:<period>:<T>
 *   agent.silent          agent.silent:<unit>:<last_seen date>
 *   remediation.*         remediation.due:<exp>:<3|1|0>, remediation.overdue:<exp>:<T>
 *   task.*                task.due:<exp>:<3|1|0>, task.overdue:<exp>:<T>
 *
 *   "The unit" is the expectation's unit while it is open on T; once it is
 *   closed (valid_to < T), its heir on T (its successor, or the successor's
 *   while that one is closed too), the text and facts naming the
 *   predecessor; nobody when it has no heir open. Digests list heirs.
 *   (<period> is the inspection or task code for event types.) On receipt
 *   cchc_store_batch (017, 020) adds report.accepted:<report>,
 *   report.rejected:<report> and report.resolved:<exp>:<unit|@home_affairs>,
 *   to the unit that sent the report (a successor sending its predecessor's).
 *
 * In the server the ticks run in a thread of their own (srv_sched_start) on
 * the scheduler's own blocking connection, so that ingest never waits for a
 * tick: the loop keeps reading its own connection's results, so a segment
 * of the loop holding a lock the tick wants (the notification counter) is
 * released; lock_timeout bounds any other wait. The loop and the thread
 * share two pipes and nothing else: requests (kick, stop) go in, "a tick
 * committed notifications" comes out, and the loop calls the publisher's
 * callback (srv_notify stays in the loop's thread); the thread's counts
 * (srv_sched_stats) are relaxed atomics that /metrics reads from its own
 * thread. Stopping cancels the running statement (PQcancel): the tick rolls
 * back and its rows are made by a later tick, once (dedup keys).
 *
 * "Nothing accepted" is judged as of now (a report received later does not
 * count), so a tick depends only on the data and its instant. Silences
 * (silences: unit and/or kind, until >= T, not removed) skip a row. An
 * overdue unit whose agent is silent gets facts.agent_silent. */
#include "srv_sched.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "cchc_period.h"
#include "srv_calendar.h"
#include "srv_migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* After a change is announced, wait this long for more before ticking. */
#define S_KICK_COALESCE_MS 1000
/* Requests to the thread, one byte each, and its one answer. */
#define S_REQ_KICK 'k'
#define S_REQ_STOP 'q'
#define S_ANS_COMMITTED 'c'
/* The periods' text arrays: every period of every periodic type in 3 years. */
#define S_ARRAY_MAX 65536

/* Rows already so are left alone: ON CONFLICT DO UPDATE locks a row even
 * when its WHERE says no, and the tick holds its locks to its commit, which
 * would stall every report of those periods meanwhile. */
#define S_UPSERT_PERIODS_SQL                                                                       \
    "INSERT INTO periods AS p (type_code, period, cutoff_start, cutoff_end, due) "                 \
    "SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::date[], $5::date[]) "            \
    "AS w (type_code, period, cutoff_start, cutoff_end, due) "                                     \
    "WHERE NOT EXISTS (SELECT 1 FROM periods q WHERE q.type_code = w.type_code "                   \
    "AND q.period = w.period AND (q.cutoff_start, q.cutoff_end, q.due) IS NOT DISTINCT FROM "      \
    "(w.cutoff_start, w.cutoff_end, w.due)) "                                                      \
    "ON CONFLICT (type_code, period) DO UPDATE SET cutoff_start = EXCLUDED.cutoff_start, "         \
    "cutoff_end = EXCLUDED.cutoff_end, due = EXCLUDED.due "                                        \
    "WHERE (p.cutoff_start, p.cutoff_end, p.due) IS DISTINCT FROM "                                \
    "(EXCLUDED.cutoff_start, EXCLUDED.cutoff_end, EXCLUDED.due)"

#define S_MARK_OVERDUE_SQL                                                                         \
    "UPDATE expectations SET status = 'overdue', updated_at = now() "                              \
    "WHERE status = 'expected' AND due + grace_days < $1::date"

#define S_RULES_SQL                                                                                \
    "SELECT rule, inserted FROM cchc_sched_rules(to_timestamp($1::bigint / 1000.0), $2::date, "    \
    "$3::date, $4::date, $5::boolean, $6::boolean, $7::boolean, $8::int, $9::int, $10::int)"

struct srv_sched {
    char *conninfo;
    PGconn *conn;
    cchc_day_t start_date;
    int approaching_min, today_min, overdue_min; /* local minutes after midnight */
    int repeat_wd, escalate_wd, silent_hours;
    int enabled;
    int64_t interval_ms;
    /* The thread (srv_sched_start); req: loop -> thread, ans: thread -> loop. */
    pthread_t thread;
    int running;
    int req[2], ans[2];
    atomic_int stopping;
    pthread_mutex_t cancel_lock; /* guards cancel, the handle of conn */
    PGcancel *cancel;
    int connected_before;
    /* srv_sched_stats: written by the thread, read by any. */
    atomic_ullong n_committed, n_skipped, n_failed, n_inserted, n_reconnects;
    atomic_llong last_tick_ms;
};

static void (*s_committed_cb)(void *);
static void *s_committed_arg;

void srv_sched_stats(srv_sched_t *self, srv_sched_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (!self)
        return;
    out->committed = atomic_load_explicit(&self->n_committed, memory_order_relaxed);
    out->skipped = atomic_load_explicit(&self->n_skipped, memory_order_relaxed);
    out->failed = atomic_load_explicit(&self->n_failed, memory_order_relaxed);
    out->inserted = atomic_load_explicit(&self->n_inserted, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&self->n_reconnects, memory_order_relaxed);
    out->last_tick_ms = atomic_load_explicit(&self->last_tick_ms, memory_order_relaxed);
}

void srv_sched_on_committed(void (*cb)(void *), void *arg)
{
    s_committed_cb = cb;
    s_committed_arg = arg;
}

static const char *const s_rule_names[SRV_SCHED_RULES] = {
    [SRV_SCHED_APPROACHING] = "approaching", [SRV_SCHED_TODAY] = "today",
    [SRV_SCHED_OVERDUE] = "overdue",         [SRV_SCHED_DIGEST] = "digest",
    [SRV_SCHED_ESCALATED] = "escalated",     [SRV_SCHED_SILENT] = "silent",
};

/* "HH:MM" into minutes after midnight; -1 when it does not parse. */
static int s_parse_hhmm(const char *s)
{
    int hh, mm, n = 0;
    if (!s || sscanf(s, "%2d:%2d%n", &hh, &mm, &n) != 2 || s[n] != '\0' || hh < 0 || hh > 23 ||
        mm < 0 || mm > 59)
        return -1;
    return hh * 60 + mm;
}

srv_sched_t *srv_sched_new(const srv_config_t *cfg, char *err, size_t errlen)
{
    srv_sched_t *self = cchc_calloc(1, sizeof *self);
    self->conninfo = cchc_strdup(cfg->conninfo ? cfg->conninfo : "");
    self->approaching_min = s_parse_hhmm(cfg->approaching_at);
    self->today_min = s_parse_hhmm(cfg->today_at);
    self->overdue_min = s_parse_hhmm(cfg->overdue_at);
    self->repeat_wd = (int)cfg->overdue_repeat_wd;
    self->escalate_wd = (int)cfg->escalate_after_wd;
    self->silent_hours = (int)cfg->silent_hours;
    self->enabled = cfg->sched_enabled;
    self->interval_ms = cfg->tick_interval_ms;
    self->req[0] = self->req[1] = self->ans[0] = self->ans[1] = -1;
    atomic_init(&self->stopping, 0);
    atomic_init(&self->n_committed, 0);
    atomic_init(&self->n_skipped, 0);
    atomic_init(&self->n_failed, 0);
    atomic_init(&self->n_inserted, 0);
    atomic_init(&self->n_reconnects, 0);
    atomic_init(&self->last_tick_ms, 0);
    pthread_mutex_init(&self->cancel_lock, NULL);
    if (self->approaching_min < 0 || self->today_min < 0 || self->overdue_min < 0) {
        snprintf(err, errlen, "[scheduler] approaching_at, today_at and overdue_at are HH:MM");
        srv_sched_destroy(&self);
        return NULL;
    }
    if (cchc_day_parse(cfg->start_date ? cfg->start_date : "", &self->start_date) != 0) {
        snprintf(err, errlen, "[scheduler] start_date is not a date (YYYY-MM-DD)");
        srv_sched_destroy(&self);
        return NULL;
    }
    return self;
}

/* Closes the connection and forgets its cancel handle. */
static void s_disconnect(srv_sched_t *self)
{
    pthread_mutex_lock(&self->cancel_lock);
    if (self->cancel)
        PQfreeCancel(self->cancel);
    self->cancel = NULL;
    pthread_mutex_unlock(&self->cancel_lock);
    if (self->conn)
        PQfinish(self->conn);
    self->conn = NULL;
}

void srv_sched_destroy(srv_sched_t **self_p)
{
    srv_sched_t *self = *self_p;
    if (!self)
        return;
    srv_sched_join(self);
    s_disconnect(self);
    for (int i = 0; i < 2; i++) {
        if (self->req[i] >= 0)
            close(self->req[i]);
        if (self->ans[i] >= 0)
            close(self->ans[i]);
    }
    pthread_mutex_destroy(&self->cancel_lock);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

int srv_sched_connect(srv_sched_t *self, int migrate, char *err, size_t errlen)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK)
        return CCHC_OK;
    s_disconnect(self);
    /* Named, so that pg_stat_activity tells it from the loop's connection;
     * the operator's conninfo may still say otherwise. A tick holds the
     * scheduler's advisory lock for its transaction: a server frozen in the
     * middle of one (SIGSTOP, a hung machine) would hold it, and stop every
     * other server's scheduler, for as long as its session lives. So the
     * database ends a session idle in a transaction for a minute (a tick sends
     * its statements back to back), and TCP keepalives end a dead peer's.
     * No JIT, as srv_db.c says. */
    static const char *const keys[] = {"connect_timeout", "fallback_application_name",
                                       "options", "keepalives_idle", "keepalives_interval",
                                       "keepalives_count", "dbname", NULL};
    const char *const vals[] = {"10", "cchc-server-scheduler",
                                "-c idle_in_transaction_session_timeout=60s -c jit=off", "30",
                                "10", "3",
                                self->conninfo, NULL};
    self->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(self->conn) != CONNECTION_OK) {
        snprintf(err, errlen, "could not connect to PostgreSQL: %s", PQerrorMessage(self->conn));
        s_disconnect(self);
        return CCHC_EAGAIN;
    }
    if (self->connected_before)
        atomic_fetch_add_explicit(&self->n_reconnects, 1, memory_order_relaxed);
    self->connected_before = 1;
    pthread_mutex_lock(&self->cancel_lock);
    self->cancel = PQgetCancel(self->conn);
    pthread_mutex_unlock(&self->cancel_lock);
    if (migrate) {
        char msg[512] = "";
        int rc = srv_migrate_apply(self->conn, NULL, msg, sizeof msg);
        if (rc != 0) {
            snprintf(err, errlen, "could not migrate the database: %s", msg);
            return rc;
        }
    }
    return CCHC_OK;
}

/* ---- one tick ------------------------------------------------------------------- */

/* Runs sql with text parameters; the result, or NULL with err (cleared). */
static PGresult *s_exec(srv_sched_t *self, const char *sql, int n, const char *const *values,
                        ExecStatusType want, char *err, size_t errlen)
{
    /* Stopping: abandon the tick between statements (ROLLBACK still runs). */
    if (atomic_load(&self->stopping) && strcmp(sql, "ROLLBACK") != 0) {
        snprintf(err, errlen, "scheduler stopping");
        return NULL;
    }
    PGresult *r = PQexecParams(self->conn, sql, n, NULL, values, NULL, NULL, 0);
    if (PQresultStatus(r) == want)
        return r;
    snprintf(err, errlen, "%s",
             PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(self->conn));
    size_t len = strlen(err);
    if (len && err[len - 1] == '\n')
        err[len - 1] = '\0';
    PQclear(r);
    return NULL;
}

static int s_command(srv_sched_t *self, const char *sql, int n, const char *const *values,
                     long *rows, char *err, size_t errlen)
{
    PGresult *r = s_exec(self, sql, n, values, PGRES_COMMAND_OK, err, errlen);
    if (!r)
        return CCHC_EIO;
    if (rows)
        *rows = atol(PQcmdTuples(r));
    PQclear(r);
    return CCHC_OK;
}

static cchc_calendar_t *s_load_calendar(srv_sched_t *self, char *err, size_t errlen)
{
    PGresult *r = s_exec(self, SRV_CALENDAR_SQL, 0, NULL, PGRES_TUPLES_OK, err, errlen);
    if (!r)
        return NULL;
    cchc_calendar_t *cal = srv_calendar_from_result(r);
    PQclear(r);
    return cal;
}

/* A growing "{a,b,c}" text array literal of plain tokens. */
typedef struct {
    char buf[S_ARRAY_MAX];
    size_t len;
    int n;
} s_array_t;

static int s_array_add(s_array_t *a, const char *v)
{
    size_t vl = strlen(v);
    if (a->len + vl + 3 >= sizeof a->buf)
        return CCHC_EFULL;
    a->buf[a->len++] = a->n++ ? ',' : '{';
    memcpy(a->buf + a->len, v, vl);
    a->len += vl;
    a->buf[a->len] = '\0';
    return CCHC_OK;
}

static const char *s_array_text(s_array_t *a)
{
    if (a->n == 0)
        return "{}";
    a->buf[a->len] = '}';
    a->buf[a->len + 1] = '\0';
    return a->buf;
}

/* The periods a type lists in one year, by their codes ("M" = 12 months). */
static size_t s_year_periods(const char *codes, int year, cchc_period_t *out, size_t max)
{
    size_t n = 0;
    char list[256];
    snprintf(list, sizeof list, "%s", codes);
    char *save = NULL;
    for (char *c = strtok_r(list, "{},\" ", &save); c; c = strtok_r(NULL, "{},\" ", &save)) {
        if (strcmp(c, "M") == 0) {
            for (int m = 1; m <= 12 && n < max; m++)
                out[n++] = (cchc_period_t){year, CCHC_PERIOD_MONTH, m};
            continue;
        }
        cchc_period_t p = {year, CCHC_PERIOD_YEAR, 0};
        if (c[0] == 'Q' && c[1] >= '1' && c[1] <= '4' && !c[2])
            p = (cchc_period_t){year, CCHC_PERIOD_QUARTER, c[1] - '0'};
        else if (c[0] == 'S' && (c[1] == '1' || c[1] == '2') && !c[2])
            p = (cchc_period_t){year, CCHC_PERIOD_HALF, c[1] - '0'};
        else if (strcmp(c, "N9") == 0)
            p = (cchc_period_t){year, CCHC_PERIOD_NINE, 9};
        else if (strcmp(c, "Y") != 0)
            continue;
        if (n < max)
            out[n++] = p;
    }
    return n;
}

/* Step 2: every periodic type's periods around T, computed and upserted. */
static int s_upsert_periods(srv_sched_t *self, const cchc_calendar_t *cal, cchc_day_t today,
                            char *err, size_t errlen)
{
    PGresult *r = s_exec(self,
                         "SELECT code, periods::text, cutoff_rule, due_rule FROM report_types "
                         "WHERE content_kind = 'periodic' ORDER BY code",
                         0, NULL, PGRES_TUPLES_OK, err, errlen);
    if (!r)
        return CCHC_EIO;
    static s_array_t types, ids, starts, ends, dues;
    s_array_t *arrays[] = {&types, &ids, &starts, &ends, &dues};
    for (size_t i = 0; i < 5; i++)
        arrays[i]->len = 0, arrays[i]->n = 0;
    int y, m, d, rc = CCHC_OK;
    cchc_day_to_ymd(today, &y, &m, &d);
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        cchc_cutoff_t cutoff;
        cchc_due_rule_t rule;
        if (cchc_cutoff_parse(PQgetvalue(r, i, 2), &cutoff) != 0 ||
            cchc_due_rule_parse(PQgetvalue(r, i, 3), &rule) != 0)
            continue;
        for (int year = y - 1; year <= y + 1 && rc == 0; year++) {
            cchc_period_t ps[32];
            size_t n = s_year_periods(PQgetvalue(r, i, 1), year, ps, 32);
            for (size_t k = 0; k < n && rc == 0; k++) {
                cchc_day_t start, end, due;
                cchc_period_range(&ps[k], cutoff, &start, &end);
                if (cchc_due_date(&rule, cal, &ps[k], cutoff, CCHC_DAY_NONE, &due) != 0)
                    continue;
                char id[16], s1[16], s2[16], s3[16];
                cchc_period_format(&ps[k], id, sizeof id);
                cchc_day_format(start, s1, sizeof s1);
                cchc_day_format(end, s2, sizeof s2);
                cchc_day_format(due, s3, sizeof s3);
                if (s_array_add(&types, PQgetvalue(r, i, 0)) != 0 || s_array_add(&ids, id) != 0 ||
                    s_array_add(&starts, s1) != 0 || s_array_add(&ends, s2) != 0 ||
                    s_array_add(&dues, s3) != 0) {
                    snprintf(err, errlen, "too many periods");
                    rc = CCHC_EIO;
                }
            }
        }
    }
    PQclear(r);
    if (rc != 0 || types.n == 0)
        return rc;
    const char *values[5] = {s_array_text(&types), s_array_text(&ids), s_array_text(&starts),
                             s_array_text(&ends), s_array_text(&dues)};
    return s_command(self, S_UPSERT_PERIODS_SQL, 5, values, NULL, err, errlen);
}

/* Takes the tick's lock, retrying for up to wait_ms. 1 taken, 0 not, or
 * CCHC_EIO. */
static int s_lock(srv_sched_t *self, int64_t wait_ms, char *err, size_t errlen)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)SRV_SCHED_LOCK_KEY);
    const char *values[1] = {key};
    int64_t until = cchc_clock_mono_ms() + wait_ms;
    for (;;) {
        PGresult *r = s_exec(self, "SELECT pg_try_advisory_xact_lock($1::bigint)", 1, values,
                             PGRES_TUPLES_OK, err, errlen);
        if (!r)
            return CCHC_EIO;
        int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (got || cchc_clock_mono_ms() >= until)
            return got;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int s_tick_body(srv_sched_t *self, int64_t now_ms, int64_t wait_ms, srv_sched_result_t *out,
                       char *err, size_t errlen)
{
    int got = s_lock(self, wait_ms, err, errlen);
    if (got <= 0) {
        out->skipped = 1;
        return got;
    }
    cchc_day_t today = cchc_day_of_instant(now_ms);
    cchc_calendar_t *cal = s_load_calendar(self, err, errlen);
    if (!cal)
        return CCHC_EIO;
    int rc = s_upsert_periods(self, cal, today, err, errlen);
    char t_s[16], start_s[16], d1_s[16], d3_s[16], now_s[24];
    cchc_day_format(today, t_s, sizeof t_s);
    cchc_day_format(self->start_date, start_s, sizeof start_s);
    if (rc == 0) {
        const char *values[2] = {start_s, t_s};
        PGresult *r = s_exec(self, "SELECT cchc_sched_expectations($1::date, $2::date)", 2, values,
                             PGRES_TUPLES_OK, err, errlen);
        if (!r)
            rc = CCHC_EIO;
        else
            out->expectations = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (rc == 0) {
        const char *values[1] = {t_s};
        rc = s_command(self, S_MARK_OVERDUE_SQL, 1, values, &out->marked_overdue, err, errlen);
    }
    out->working_day = cchc_calendar_is_working(cal, today);
    if (rc == 0 && out->working_day) {
        int minute = (int)((now_ms - cchc_day_instant(today, 0, 0)) / 60000);
        char repeat[16], escalate[16], silent[16];
        cchc_day_format(cchc_calendar_add_working(cal, today, 1), d1_s, sizeof d1_s);
        cchc_day_format(cchc_calendar_add_working(cal, today, 3), d3_s, sizeof d3_s);
        snprintf(now_s, sizeof now_s, "%" PRId64, now_ms);
        snprintf(repeat, sizeof repeat, "%d", self->repeat_wd);
        snprintf(escalate, sizeof escalate, "%d", self->escalate_wd);
        snprintf(silent, sizeof silent, "%d", self->silent_hours);
        const char *values[10] = {now_s,
                                  t_s,
                                  d1_s,
                                  d3_s,
                                  minute >= self->approaching_min ? "true" : "false",
                                  minute >= self->today_min ? "true" : "false",
                                  minute >= self->overdue_min ? "true" : "false",
                                  repeat,
                                  escalate,
                                  silent};
        PGresult *r = s_exec(self, S_RULES_SQL, 10, values, PGRES_TUPLES_OK, err, errlen);
        if (!r) {
            rc = CCHC_EIO;
        } else {
            for (int i = 0; i < PQntuples(r); i++) {
                long n = atol(PQgetvalue(r, i, 1));
                for (int k = 0; k < SRV_SCHED_RULES; k++)
                    if (strcmp(PQgetvalue(r, i, 0), s_rule_names[k]) == 0)
                        out->rules[k] += n;
                out->inserted += n;
            }
            PQclear(r);
        }
    }
    cchc_calendar_destroy(&cal);
    return rc;
}

/* srv_sched_tick without the callback. */
static int s_tick(srv_sched_t *self, int64_t now_ms, int64_t wait_lock_ms, srv_sched_result_t *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = srv_sched_connect(self, 0, err, errlen);
    if (rc != 0)
        return CCHC_EIO;
    rc = s_command(self, "BEGIN", 0, NULL, NULL, err, errlen);
    /* A row lock held too long (a stuck transaction) fails the tick, which
     * the next one redoes, instead of stalling the server's loop. */
    if (rc == 0)
        rc = s_command(self, "SET LOCAL lock_timeout = '5s'", 0, NULL, NULL, err, errlen);
    if (rc == 0)
        rc = s_tick_body(self, now_ms, wait_lock_ms, out, err, errlen);
    char ignored[256];
    if (rc == 0 && out->skipped)
        rc = s_command(self, "ROLLBACK", 0, NULL, NULL, err, errlen);
    else if (rc == 0)
        rc = s_command(self, "COMMIT", 0, NULL, NULL, err, errlen);
    else
        s_command(self, "ROLLBACK", 0, NULL, NULL, ignored, sizeof ignored);
    if (PQstatus(self->conn) != CONNECTION_OK)
        s_disconnect(self); /* reconnected at the next tick */
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return CCHC_EIO;
    }
    return CCHC_OK;
}

int srv_sched_tick(srv_sched_t *self, int64_t now_ms, int64_t wait_lock_ms, srv_sched_result_t *out,
                   char *err, size_t errlen)
{
    int rc = s_tick(self, now_ms, wait_lock_ms, out, err, errlen);
    if (rc == 0 && !out->skipped && out->inserted > 0 && s_committed_cb)
        s_committed_cb(s_committed_arg);
    return rc;
}

/* ---- the thread ---------------------------------------------------------------------- */

/* One tick at the present instant, logged; 1 when it committed notifications. */
static int s_timed_tick(srv_sched_t *self)
{
    srv_sched_result_t res;
    char err[512] = "", at[32];
    int64_t now = cchc_clock_now_ms();
    cchc_clock_format_utc(now, at, sizeof at);
    int64_t t0 = cchc_clock_mono_ms();
    if (s_tick(self, now, 0, &res, err, sizeof err) != 0) {
        for (char *p = err; *p; p++)
            if (*p == '"' || *p == '\n')
                *p = '\'';
        if (atomic_load(&self->stopping)) {
            CCHC_LOG(CCHC_LOG_INFO, "tick_abandoned", "at=%s", at);
        } else {
            CCHC_LOG(CCHC_LOG_ERROR, "tick_failed", "at=%s err=\"%s\"", at, err);
            atomic_fetch_add_explicit(&self->n_failed, 1, memory_order_relaxed);
        }
        return 0;
    }
    atomic_fetch_add_explicit(res.skipped ? &self->n_skipped : &self->n_committed, 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&self->n_inserted, (unsigned long long)res.inserted,
                              memory_order_relaxed);
    atomic_store_explicit(&self->last_tick_ms, now, memory_order_relaxed);
    CCHC_LOG(res.inserted ? CCHC_LOG_INFO : CCHC_LOG_DEBUG, "tick",
             "at=%s skipped=%d inserted=%ld expectations=%ld overdue_marked=%ld approaching=%ld "
             "today=%ld overdue=%ld digest=%ld escalated=%ld silent=%ld ms=%lld",
             at, res.skipped, res.inserted, res.expectations, res.marked_overdue,
             res.rules[SRV_SCHED_APPROACHING], res.rules[SRV_SCHED_TODAY],
             res.rules[SRV_SCHED_OVERDUE], res.rules[SRV_SCHED_DIGEST],
             res.rules[SRV_SCHED_ESCALATED], res.rules[SRV_SCHED_SILENT],
             (long long)(cchc_clock_mono_ms() - t0));
    return !res.skipped && res.inserted > 0;
}

/* Reads the pending requests: the new due time, or -1 when asked to stop. */
static int64_t s_read_requests(srv_sched_t *self, int64_t due)
{
    char buf[64];
    ssize_t got;
    while ((got = read(self->req[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] == S_REQ_STOP)
                return -1;
            int64_t soon = cchc_clock_mono_ms() + S_KICK_COALESCE_MS;
            if (buf[i] == S_REQ_KICK && soon < due)
                due = soon;
        }
    }
    return due;
}

/* Ticks at once, then every interval_ms or a coalesced kick, until stopped. */
static void *s_thread_main(void *arg)
{
    srv_sched_t *self = arg;
    int64_t due = cchc_clock_mono_ms();
    while (!atomic_load(&self->stopping)) {
        int64_t now = cchc_clock_mono_ms();
        int64_t wait = due <= now ? 0 : due - now;
        struct pollfd pfd = {.fd = self->req[0], .events = POLLIN};
        int n = poll(&pfd, 1, wait > 3600000 ? 3600000 : (int)wait);
        if (n < 0 && errno != EINTR) {
            CCHC_LOG(CCHC_LOG_ERROR, "sched_poll", "err=\"%s\"", strerror(errno));
            break;
        }
        if (n > 0 && (due = s_read_requests(self, due)) < 0)
            break;
        now = cchc_clock_mono_ms();
        if (now < due)
            continue;
        due = now + self->interval_ms;
        char c = S_ANS_COMMITTED;
        if (s_timed_tick(self) && write(self->ans[1], &c, 1) < 0) {
            /* Pipe full: the loop has a wake-up pending already. */
        }
    }
    s_disconnect(self);
    return NULL;
}

static int s_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

int srv_sched_start(srv_sched_t *self, char *err, size_t errlen)
{
    if (!self->enabled || self->running)
        return CCHC_OK;
    if ((self->req[0] < 0 && s_pipe(self->req) != 0) ||
        (self->ans[0] < 0 && s_pipe(self->ans) != 0)) {
        snprintf(err, errlen, "scheduler: pipe: %s", strerror(errno));
        return CCHC_EIO;
    }
    /* The clock reads CCHC_CLOCK once: here, before two threads can. */
    (void)cchc_clock_now_ms();
    atomic_store(&self->stopping, 0);
    /* Signals are the loop's: the thread starts with them blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&self->thread, NULL, s_thread_main, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "scheduler: pthread_create: %s", strerror(rc));
        return CCHC_EIO;
    }
    self->running = 1;
    return CCHC_OK;
}

int srv_sched_fd(const srv_sched_t *self)
{
    return self && self->running ? self->ans[0] : -1;
}

void srv_sched_on_ready(srv_sched_t *self)
{
    char buf[64];
    int committed = 0;
    while (read(self->ans[0], buf, sizeof buf) > 0)
        committed = 1;
    if (committed && s_committed_cb)
        s_committed_cb(s_committed_arg);
}

static void s_request(srv_sched_t *self, char c)
{
    if (self->req[1] >= 0 && write(self->req[1], &c, 1) < 0) {
        /* Pipe full: the thread has requests to read already. */
    }
}

void srv_sched_kick(srv_sched_t *self)
{
    if (self && self->running)
        s_request(self, S_REQ_KICK);
}

void srv_sched_stop(srv_sched_t *self)
{
    if (!self || !self->running || atomic_exchange(&self->stopping, 1))
        return;
    s_request(self, S_REQ_STOP);
    char msg[256];
    pthread_mutex_lock(&self->cancel_lock);
    if (self->cancel && !PQcancel(self->cancel, msg, sizeof msg))
        CCHC_LOG(CCHC_LOG_WARN, "sched_cancel", "err=\"%s\"", msg);
    pthread_mutex_unlock(&self->cancel_lock);
}

void srv_sched_join(srv_sched_t *self)
{
    if (!self || !self->running)
        return;
    srv_sched_stop(self);
    pthread_join(self->thread, NULL);
    self->running = 0;
    /* What the thread committed last is published by the loop's poll. */
}
