/* test_srv_batch.c: a lane's batch through srv_batch, against the fake
 * database: the rows of the lane's lifecycle table at the top of
 * server/srv_batch.c that go IDLE -> CONTEXT (full, delay over, light load,
 * draining), CONTEXT -> STORE or IDLE, and STORE (commit, retries, the
 * split down to the poison report, rejections). Connections lost, refusals,
 * abandon, admission and the lanes are in test_srv_batch_lanes.c; the
 * environment is batch_support.h. */
#include "batch_support.h"

/* ---- IDLE -> CONTEXT ------------------------------------------------------------------------ */

/* The store connections are made and started by the batch, one per lane,
 * with the three statements prepared; a connection that cannot be made is
 * named in the error. */
static void test_lanes_made(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.lanes = 3});
    assert_int_equal(srv_batch_dbs(e->batch), 3);
    /* The units' connection and three lanes. */
    assert_int_equal(fake_db_count(), 4);
    for (size_t k = 0; k < 3; k++) {
        srv_db_t *db = s_lane_db(e, k);
        assert_ptr_not_equal(db, e->main_db);
        assert_string_equal(fake_db_name(db), "cchc-server-store");
        assert_true(srv_db_ready(db));
        assert_int_equal(fake_db_prepared(db), 3);
        assert_string_equal(fake_db_prepared_name(db, 0), S_CONTEXT_STMT);
        assert_string_equal(fake_db_prepared_name(db, 1), S_STORE_STMT);
        assert_string_equal(fake_db_prepared_name(db, 2), S_DOC_STMT);
    }
    srv_batch_t *b = s_batch_new(e);
    fake_db_fail_connect(srv_batch_db(b, 1), "connection refused");
    char err[256] = "";
    assert_int_equal(srv_batch_connect(b, 10, err, sizeof err), CCHC_EAGAIN);
    assert_string_equal(err, "store connection 2: connection refused");
    srv_batch_destroy(&b);
    assert_null(b);
    s_env_end(e);
}

static int s_no_extra(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    (void)id;
    cells[5] = NULL;
    return 1;
}

/* IDLE -> CONTEXT when batch_max_rows reports wait: not before. (The
 * context gives no extra document: validated against the unit's alone.) */
static void test_due_when_full(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3, .delay_ms = 1000});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    int64_t now = cchc_clock_mono_ms(), t = srv_batch_next_timer(e->batch);
    assert_true(t > now && t <= now + 1000);
    srv_batch_on_timer(e->batch, now);
    assert_int_equal(fake_db_jobs(db), 0);
    uint64_t c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 1);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b, c));
    assert_int_equal(srv_batch_next_timer(e->batch), -1);
    assert_int_equal(s_counters(e)->batches, 1);
    assert_int_equal(s_counters(e)->batch_rows, 3);
    assert_int_equal(fake_db_jobs(e->main_db), 0);
    s_answer_context(e, db, s_no_extra, NULL);
    s_expect_store(e, db, IDS(a, b, c));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    s_env_end(e);
}

/* The lane's batch comes due delay_ms after the report sent at `before`, not
 * sooner: waits for it and starts it. */
static void s_due_after(s_env_t *e, srv_db_t *db, int64_t before, int64_t delay_ms)
{
    int64_t t = srv_batch_next_timer(e->batch);
    assert_true(t >= before + delay_ms && t <= cchc_clock_mono_ms() + delay_ms);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    if (cchc_clock_mono_ms() < t)
        assert_int_equal(fake_db_jobs(db), 0);
    while (cchc_clock_mono_ms() < t)
        s_wait_ms(5);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
}

/* IDLE -> CONTEXT when the oldest has waited batch_max_delay_ms (the first
 * batch is taken as under load), or at once when the lane's last batch was
 * light (under an eighth of batch_max_rows), after the burst that brought the
 * reports; after a batch of an eighth or more, the delay holds again. */
static void test_due_after_delay(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 16, .delay_ms = 30});
    srv_db_t *db = s_lane_db(e, 0);
    int64_t before = cchc_clock_mono_ms();
    uint64_t a = s_send(e, "xa-a");
    s_due_after(e, db, before, 30);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    /* One report, under 16 / 8: the next batch is due at once, and takes the
     * reports of the burst (not the first alone from srv_batch_add). */
    uint64_t b = s_send(e, "xa-a"), c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    assert_true(srv_batch_next_timer(e->batch) <= cchc_clock_mono_ms());
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_expect_context(db, NULL, IDS(b, c));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    /* Two reports, an eighth of 16: the delay holds again. */
    before = cchc_clock_mono_ms();
    uint64_t d = s_send(e, "xa-a");
    s_due_after(e, db, before, 30);
    s_expect_context(db, NULL, IDS(d));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* IDLE -> CONTEXT at once when draining, whatever the batch's size. */
static void test_due_draining(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .delay_ms = 1000});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 0);
    srv_batch_drain(e->batch);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    /* One batch at a time per lane: the next gathers meanwhile. */
    uint64_t c = s_send(e, "xa-a");
    assert_int_equal(fake_db_jobs(db), 1);
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    s_answer_store(e, db, NULL);
    /* Draining: the next batch goes as soon as the previous one is done. */
    s_expect_context(db, NULL, IDS(c));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, c, s_rid(c), 0);
    s_env_end(e);
}

/* ---- CONTEXT ----------------------------------------------------------------------------------
 */

/* CONTEXT sync, some validated -> STORE; STORE committed -> answered after
 * the sync, on_commit once; no range left -> IDLE, and the next batch goes.
 * The document read with the batch is kept: the unit's next batch reads
 * none. */
static void test_context_store_commit(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-a", "xa-b", NULL}, IDS(a, b));
    const char *param = s_keep(e, cchc_strdup(s_head(db)->stmts[2].values[0]));
    assert_non_null(strstr(param, "\"unit\":\"xa-a\""));
    assert_non_null(strstr(param, "\"type\":\"CCHC_DK\""));
    assert_non_null(strstr(param, "\"period\":\"2024S1\""));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    /* Nothing is answered before the store's sync. */
    s_unanswered(e, a);
    s_unanswered(e, b);
    assert_int_equal(srv_batch_pending(e->batch), 2);
    assert_int_equal(e->commits, 0);
    /* The next batch gathers while this one is stored. */
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-b");
    assert_int_equal(fake_db_jobs(db), 1);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    assert_int_equal(e->commits, 1);
    assert_int_equal(s_counters(e)->stored, 2);
    assert_int_equal(s_counters(e)->accepted, 2);
    /* The documents are kept: no read this time. */
    s_expect_context(db, NULL, IDS(c, d));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(c, d));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, c, s_rid(c), 0);
    s_expect_ack(e, d, s_rid(d), 0);
    assert_int_equal(e->commits, 2);
    assert_int_equal(srv_batch_pending(e->batch), 0);
    s_env_end(e);
}

/* Sends one report of the fixture `name` with its subject field (task or
 * inspection) set to subject (NULL: as it is). */
static uint64_t s_send_kind(s_env_t *e, const char *unit, const char *name, const char *field,
                            const char *subject)
{
    json_t *keep = e->fixture;
    e->fixture = s_fixture(name);
    if (field)
        json_object_set_new(e->fixture, field, json_string(subject));
    uint64_t id = s_send(e, unit);
    json_decref(e->fixture);
    e->fixture = keep;
    return id;
}

/* The "kept" flag of the context's object of ord i (0 or 1). */
static int s_kept(srv_db_t *db, size_t i)
{
    const fake_db_job_t *j = s_head(db);
    json_t *a = s_param(&j->stmts[j->n - 1]);
    json_t *k = json_object_get(json_array_get(a, i), "kept");
    int kept = json_is_true(k);
    if (k && !kept)
        fail_msg("\"kept\" is %s, expected true or absent", json_dumps(k, JSON_ENCODE_ANY));
    json_decref(a);
    return kept;
}

/* The context statement reads a report's task or inspection only when the
 * unit's kept context does not hold it (026): not at the unit's first
 * batch (its document is read in the same segment), nor for a task or an
 * inspection the document lacks; a periodic report names neither. */
static void test_context_kept(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 1});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    assert_false(s_kept(db, 0));
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    struct {
        const char *fixture, *field, *subject;
        int kept;
    } cases[] = {
        {"periodic.json", NULL, NULL, 1},
        {"task_progress.json", "task", "KH87-07", 1},
        {"task_progress.json", "task", "KH87-99", 0},
        {"remediation.json", "inspection", "KT-2024-05", 1},
        {"remediation.json", "inspection", "KT-2099-01", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t id = s_send_kind(e, "xa-a", cases[i].fixture, cases[i].field, cases[i].subject);
        s_expect_context(db, NULL, IDS(id));
        if (s_kept(db, 0) != cases[i].kept)
            fail_msg("%s %s: kept %d, expected %d", cases[i].fixture,
                     cases[i].subject ? cases[i].subject : "", !cases[i].kept, cases[i].kept);
        s_answer_context(e, db, NULL, NULL);
        s_expect_store(e, db, IDS(id));
        s_answer_store(e, db, NULL);
    }
    s_env_end(e);
}

/* The session's plans made again (DISCARD PLANS ahead of the context) at
 * its 16th and 32nd batch and at no other; and again at the 16th of a new
 * session, after the connection is made again. */
static void test_context_discard_plans(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 1});
    srv_db_t *db = s_lane_db(e, 0);
    for (int i = 1; i <= 33; i++) {
        uint64_t a = s_send(e, "xa-a");
        s_expect_context(db, i == 1 ? (const char *[]){"xa-a", NULL} : NULL, IDS(a));
        int want = i == 16 || i == 32;
        if ((int)s_discards(s_head(db)) != want)
            fail_msg("batch %d: DISCARD PLANS %s", i, want ? "missing" : "sent");
        s_answer_context(e, db, NULL, NULL);
        s_expect_store(e, db, IDS(a));
        s_answer_store(e, db, NULL);
        s_expect_ack(e, a, s_rid(a), 0);
    }
    fake_db_lose(db);
    fake_db_reconnect(db);
    for (int i = 1; i <= 16; i++) {
        uint64_t a = s_send(e, "xa-a");
        s_expect_context(db, NULL, IDS(a));
        if ((int)s_discards(s_head(db)) != (i == 16))
            fail_msg("batch %d of the new session: DISCARD PLANS %s", i,
                     i == 16 ? "missing" : "sent");
        s_answer_context(e, db, NULL, NULL);
        s_expect_store(e, db, IDS(a));
        s_answer_store(e, db, NULL);
        s_expect_ack(e, a, s_rid(a), 0);
    }
    s_env_end(e);
}

static uint64_t s_dup_a, s_dup_b, s_dup_c;

static int s_stored_before(s_env_t *e, uint64_t id, const char **cells)
{
    if (id == s_dup_a) {
        cells[1] = "77", cells[2] = "accepted", cells[3] = "[]";
        cells[4] = s_payload_hex(e, id);
    } else if (id == s_dup_b) {
        cells[1] = "78", cells[2] = "rejected";
        cells[3] = "[{\"code\":\"E016\",\"path\":\"$.overdue_dossiers[0]\","
                   "\"message_vi\":\"x\",\"message_en\":\"x\"}]";
        cells[4] = s_payload_hex(e, id);
    } else if (id == s_dup_c) {
        cells[1] = "79", cells[2] = "accepted", cells[3] = "[]";
        cells[4] = "\\x0a00"; /* another message under the same id */
    }
    return 1;
}

/* CONTEXT sync, none to store -> IDLE: every report answered from the row
 * of its earlier delivery (Ack duplicate, its stored findings, E008 for a
 * reused id); nothing stored, no on_commit; the next batch goes at once. */
static void test_context_none_to_store(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3});
    srv_db_t *db = s_lane_db(e, 0);
    s_dup_a = s_send(e, "xa-a");
    s_dup_b = s_send(e, "xa-a");
    s_dup_c = s_send(e, "xa-a");
    uint64_t d = s_send(e, "xa-a"), f = s_send(e, "xa-a"), g = s_send(e, "xa-a");
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(s_dup_a, s_dup_b, s_dup_c));
    s_answer_context(e, db, s_stored_before, NULL);
    s_expect_ack(e, s_dup_a, 77, 1);
    const s_answer_t *x =
        s_expect_nack(e, s_dup_b, CCHC__V1__NACK_REASON__NACK_INVALID, "breaks the rules");
    assert_string_equal(x->code, "E016");
    x = s_expect_nack(e, s_dup_c, CCHC__V1__NACK_REASON__NACK_INVALID, "reused");
    assert_string_equal(x->code, "E008");
    assert_int_equal(e->commits, 0);
    assert_int_equal(s_counters(e)->duplicates, 1);
    /* IDLE, and the three waiting are a full batch: they go now. */
    s_expect_context(db, NULL, IDS(d, f, g));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static uint64_t s_missing;

static int s_leave_out(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    (void)cells;
    return id != s_missing;
}

/* CONTEXT sync, the context statement failed -> IDLE: every report of the
 * batch answered NACK_BUSY (the statement is the batch's: no report is to
 * blame, and the agents resend), whatever the SQLSTATE; then the next
 * batch goes. */
static void test_context_failed(void **state)
{
    (void)state;
    static const char *const states[] = {"57014", "22P02", "23505"};
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-a");
        const fake_db_job_t *j = s_head(db);
        PGresult *res[2] = {NULL, fake_db_error(states[i], "context failed")};
        if (j->n == 2) {
            const char *cell[1] = {s_doc(e, "xa-a")};
            res[0] = fake_db_tuples(1, 1, cell);
            fake_db_finish(db, res, 2);
        } else {
            fake_db_finish(db, &res[1], 1);
        }
        s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
        s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
        assert_int_equal(e->commits, 0);
        s_expect_context(db, NULL, IDS(c, d));
        a = c, b = d;
    }
    /* A context of the wrong number of rows is no answer either. */
    s_missing = b;
    s_answer_context(e, db, s_leave_out, NULL);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    /* A document read that fails aborts the rest of the segment. */
    a = s_send(e, "xa-z"), b = s_send(e, "xa-z");
    s_expect_context(db, (const char *[]){"xa-z", NULL}, IDS(a, b));
    PGresult *res[2] = {fake_db_error("XX000", "doc failed"), fake_db_aborted()};
    fake_db_finish(db, res, 2);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, NULL);
    assert_int_equal(fake_db_jobs(db), 0);
    s_env_end(e);
}

static uint64_t s_bad_extra;

static int s_not_json(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    if (id == s_bad_extra)
        cells[5] = "{not json";
    return 1;
}

/* CONTEXT sync: a report whose unit has no document (no context to
 * validate against), or whose extra document is not JSON, is answered
 * NACK_BUSY (our SQL's fault, not the officer's); the others of the batch
 * go on to STORE. The unit's document is read again with its next batch. */
static void test_context_no_document(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-a", "xa-b", NULL}, IDS(a, b));
    s_answer_context(e, db, NULL, "xa-b");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-b");
    s_expect_context(db, (const char *[]){"xa-b", NULL}, IDS(c, d));
    s_bad_extra = c;
    s_answer_context(e, db, s_not_json, NULL);
    s_expect_nack(e, c, CCHC__V1__NACK_REASON__NACK_BUSY, "cannot check reports");
    s_expect_store(e, db, IDS(d));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* ---- STORE ------------------------------------------------------------------------------------
 */

/* STORE failed on a transient SQLSTATE: sent again whole, the same
 * statement, S_TRANSIENT_RETRIES (3) times; then split in halves, each with
 * its own retries; a range of one that still fails is answered by its
 * error (reason by its SQLSTATE's class). */
static void s_transient(const char *sqlstate, Cchc__V1__NackReason last)
{
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, IDS(a, b));
    const char *first = s_keep(e, cchc_strdup(s_head(db)->stmts[0].values[0]));
    for (int i = 0; i < 3; i++) {
        fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
        s_expect_store(e, db, IDS(a, b));
        assert_string_equal(s_head(db)->stmts[0].values[0], first);
        s_unanswered(e, a);
        s_unanswered(e, b);
    }
    assert_int_equal(s_counters(e)->batch_splits, 0);
    fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
    assert_int_equal(s_counters(e)->batch_splits, 1);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    assert_int_equal(e->commits, 1);
    s_expect_store(e, db, IDS(b));
    for (int i = 0; i < 3; i++) {
        fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
        s_expect_store(e, db, IDS(b));
        s_unanswered(e, b);
    }
    fake_db_finish1(db, fake_db_error(sqlstate, "could not serialize"));
    s_expect_nack(e, b, last, sqlstate);
    assert_int_equal(fake_db_jobs(db), 0);
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static void test_store_deadlock(void **state)
{
    (void)state;
    s_transient("40P01", CCHC__V1__NACK_REASON__NACK_BUSY);
}

static void test_store_serialization(void **state)
{
    (void)state;
    s_transient("40001", CCHC__V1__NACK_REASON__NACK_BUSY);
}

/* A unique violation is another server storing the same message: even
 * alone after its retries, the report is answered BUSY (resent, it is
 * answered from that row), never set aside as invalid. */
static void test_store_unique_violation(void **state)
{
    (void)state;
    s_transient("23505", CCHC__V1__NACK_REASON__NACK_BUSY);
}

/* STORE failed, n > 1: replaced by its halves, the first on top, until the
 * poison report is alone and answered by its error (NACK_INVALID for a data
 * SQLSTATE); the others are stored and acked; on_commit once per committed
 * range. */
static void test_store_split_poison(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 5});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[5];
    for (int i = 0; i < 5; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, id, 5);
    uint64_t log[16][2];
    size_t n = s_store_until_done(e, db, id[2], "22023", log, 16);
    /* [1..5] fails: [1,2] then [3..5]; [3..5] fails: [3] then [4,5]. */
    const uint64_t want[][2] = {{id[0], 5}, {id[0], 2}, {id[2], 3}, {id[2], 1}, {id[3], 2}};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(log[i][0], want[i][0]);
        assert_int_equal(log[i][1], want[i][1]);
    }
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    s_expect_ack(e, id[1], s_rid(id[1]), 0);
    s_expect_nack(e, id[2], CCHC__V1__NACK_REASON__NACK_INVALID, "22023");
    s_expect_ack(e, id[3], s_rid(id[3]), 0);
    s_expect_ack(e, id[4], s_rid(id[4]), 0);
    assert_int_equal(e->commits, 2);
    assert_int_equal(s_counters(e)->batch_splits, 2);
    /* A failure that is the server's (disk full), alone: NACK_BUSY. */
    for (int i = 0; i < 4; i++)
        id[i] = s_send(e, "xa-a");
    uint64_t x = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    n = s_store_until_done(e, db, id[0], "53100", log, 16);
    const uint64_t want2[][2] = {{id[0], 5}, {id[0], 2}, {id[0], 1}, {id[1], 1}, {id[2], 3}};
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(log[i][0], want2[i][0]);
        assert_int_equal(log[i][1], want2[i][1]);
    }
    s_expect_nack(e, id[0], CCHC__V1__NACK_REASON__NACK_BUSY, "53100");
    s_expect_ack(e, x, s_rid(x), 0);
    assert_int_equal(e->commits, 4);
    s_env_end(e);
}

/* STORE sync with a row missing: not committed as far as we know (the
 * statement's answer is incomplete): split like a failure; alone, answered
 * NACK_BUSY. */
static void test_store_rows_missing(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    s_missing = b;
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, s_leave_out);
    s_unanswered(e, a);
    s_expect_store(e, db, IDS(a));
    s_answer_store(e, db, s_leave_out);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_store(e, db, IDS(b));
    s_answer_store(e, db, s_leave_out);
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "not stored");
    assert_int_equal(e->commits, 1);
    s_env_end(e);
}

static uint64_t s_rejected;

static int s_reject(s_env_t *e, uint64_t id, const char **cells)
{
    (void)e;
    if (id == s_rejected) {
        cells[3] = "rejected";
        cells[4] = "[{\"code\":\"E016\",\"path\":\"$\",\"message_vi\":\"x\","
                   "\"message_en\":\"x\"}]";
    }
    return 1;
}

/* STORE committed with a report the rules refused: stored as rejected,
 * answered NACK_INVALID with its findings, in the same commit. */
static void test_store_rejected(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    s_rejected = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, s_reject);
    s_expect_ack(e, a, s_rid(a), 0);
    const s_answer_t *x =
        s_expect_nack(e, s_rejected, CCHC__V1__NACK_REASON__NACK_INVALID, "breaks the rules");
    assert_string_equal(x->code, "E016");
    assert_int_equal(e->commits, 1);
    assert_int_equal(s_counters(e)->rejected, 1);
    s_env_end(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_made),
        cmocka_unit_test(test_due_when_full),
        cmocka_unit_test(test_due_after_delay),
        cmocka_unit_test(test_due_draining),
        cmocka_unit_test(test_context_store_commit),
        cmocka_unit_test(test_context_kept),
        cmocka_unit_test(test_context_discard_plans),
        cmocka_unit_test(test_context_none_to_store),
        cmocka_unit_test(test_context_failed),
        cmocka_unit_test(test_context_no_document),
        cmocka_unit_test(test_store_deadlock),
        cmocka_unit_test(test_store_serialization),
        cmocka_unit_test(test_store_unique_violation),
        cmocka_unit_test(test_store_split_poison),
        cmocka_unit_test(test_store_rows_missing),
        cmocka_unit_test(test_store_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
