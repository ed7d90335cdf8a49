/* test_srv_batch_lanes.c: srv_batch against the fake database, the rest of
 * the lane's lifecycle table at the top of server/srv_batch.c: a
 * connection lost in each state (WAIT_DB), libpq refusing a segment
 * (CCHC_EIO), srv_batch_abandon; the admission caps; and the lanes (a unit
 * always on the same one, its reports in order; units spread over them).
 * The environment is batch_support.h. */
#include "batch_support.h"

/* ---- WAIT_DB -----------------------------------------------------------------------------------
 */

/* CONTEXT, connection lost -> WAIT_DB: nothing answered, the lane's new
 * reports refused; the lane's on_connect resends the same context. */
static void test_context_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 2});
    srv_db_t *db = s_lane_db(e, 0), *other = s_lane_db(e, 1);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    uint64_t c = s_send(e, "xa-b"); /* the other lane */
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    const char *first = s_keep(e, cchc_strdup(s_head(db)->stmts[1].values[0]));
    fake_db_lose(db);
    s_unanswered(e, a);
    s_unanswered(e, b);
    assert_int_equal(srv_batch_pending(e->batch), 3);
    uint64_t refused = 0;
    const char *why = NULL;
    assert_int_equal(s_offer(e, "xa-a", &refused, &why), CCHC_EFULL);
    assert_string_equal(why, "database unavailable; resend later");
    assert_int_equal(s_counters(e)->refused_busy_db, 1);
    uint64_t d = s_send(e, "xa-b"); /* its lane is up */
    s_expect_context(other, (const char *[]){"xa-b", NULL}, IDS(c, d));
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->db_reconnects, 1);
    assert_int_equal(s_counters(e)->resent_batches, 1);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a, b));
    assert_string_equal(s_head(db)->stmts[1].values[0], first);
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_answer_context(e, other, NULL, NULL);
    s_answer_store(e, other, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, c, s_rid(c), 0);
    s_expect_ack(e, d, s_rid(d), 0);
    s_env_end(e);
}

/* STORE, connection lost -> WAIT_DB; on_connect resends the same stage:
 * the range on top of the split stack, and the rest of the stack after. */
static void test_store_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 4});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[4];
    for (int i = 0; i < 4; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    s_expect_store(e, db, id, 4);
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* id[3] is the poison */
    s_expect_store(e, db, IDS(id[0], id[1]));
    const char *half = s_keep(e, cchc_strdup(s_head(db)->stmts[0].values[0]));
    fake_db_lose(db);
    s_pump(e);
    assert_int_equal(e->nanswers, 0);
    assert_int_equal(e->commits, 0);
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->resent_batches, 1);
    s_expect_store(e, db, IDS(id[0], id[1]));
    assert_string_equal(s_head(db)->stmts[0].values[0], half);
    s_answer_store(e, db, NULL);
    assert_int_equal(e->commits, 1);
    s_expect_store(e, db, IDS(id[2], id[3]));
    /* Lost again in the second half, before its split. */
    fake_db_lose(db);
    fake_db_reconnect(db);
    s_expect_store(e, db, IDS(id[2], id[3]));
    uint64_t log[8][2];
    s_store_until_done(e, db, id[3], "22023", log, 8);
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    s_expect_ack(e, id[1], s_rid(id[1]), 0);
    s_expect_ack(e, id[2], s_rid(id[2]), 0);
    s_expect_nack(e, id[3], CCHC__V1__NACK_REASON__NACK_INVALID, "22023");
    assert_int_equal(e->commits, 2);
    assert_int_equal(s_counters(e)->db_reconnects, 2);
    s_env_end(e);
}

/* The lane's connection lost while reports wait (IDLE): no batch starts
 * without it, and none is due; on_connect starts it. */
static void test_idle_lost(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 3});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a");
    fake_db_lose(db);
    srv_batch_drain(e->batch);
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(db), 0);
    assert_int_equal(fake_db_refused(db), 0);
    assert_int_equal(srv_batch_next_timer(e->batch), -1);
    fake_db_reconnect(db);
    assert_int_equal(s_counters(e)->resent_batches, 0);
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(a));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_expect_ack(e, a, s_rid(a), 0);
    s_env_end(e);
}

/* ---- CCHC_EIO, abandon -------------------------------------------------------------------------
 */

/* CONTEXT, libpq refused to send -> IDLE: the batch answered NACK_BUSY; the
 * next batch goes. */
static void test_context_refused(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-a");
    uint64_t c = s_send(e, "xa-a"), d = s_send(e, "xa-a");
    fake_db_fail(db, CCHC_EIO);
    s_expect_nack(e, a, CCHC__V1__NACK_REASON__NACK_BUSY, "resend later");
    s_expect_nack(e, b, CCHC__V1__NACK_REASON__NACK_BUSY, "resend later");
    assert_true(srv_db_ready(db));
    s_expect_context(db, (const char *[]){"xa-a", NULL}, IDS(c, d));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_env_end(e);
}

/* STORE, libpq refused to send -> IDLE: every range the split stack still
 * holds is answered NACK_BUSY; what was committed before is not answered
 * again. */
static void test_store_refused(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 6});
    srv_db_t *db = s_lane_db(e, 0);
    uint64_t id[6];
    for (int i = 0; i < 6; i++)
        id[i] = s_send(e, "xa-a");
    s_answer_context(e, db, NULL, NULL);
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* [0..2] [3..5] */
    fake_db_finish1(db, fake_db_error("22023", "bad value")); /* [0] [1, 2] [3..5] */
    s_expect_store(e, db, IDS(id[0]));
    s_answer_store(e, db, NULL);
    s_expect_store(e, db, IDS(id[1], id[2]));
    uint64_t x = s_send(e, "xa-a");
    fake_db_fail(db, CCHC_EIO);
    s_expect_ack(e, id[0], s_rid(id[0]), 0);
    for (int i = 1; i < 6; i++)
        s_expect_nack(e, id[i], CCHC__V1__NACK_REASON__NACK_BUSY, "not stored");
    assert_int_equal(e->commits, 1);
    assert_int_equal(srv_batch_pending(e->batch), 1);
    s_unanswered(e, x);
    srv_batch_drain(e->batch);
    s_expect_context(db, NULL, IDS(x));
    s_answer_context(e, db, NULL, NULL);
    s_answer_store(e, db, NULL);
    s_env_end(e);
}

/* srv_batch_abandon -> IDLE: every report, waiting or in flight in any
 * stage (CONTEXT, STORE, WAIT_DB), answered NACK_BUSY exactly once; the
 * connections' work is abandoned. */
static void test_abandon(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 3});
    srv_db_t *l0 = s_lane_db(e, 0), *l1 = s_lane_db(e, 1), *l2 = s_lane_db(e, 2);
    uint64_t a1 = s_send(e, "xa-a"), a2 = s_send(e, "xa-a"); /* lane 1: STORE, split */
    s_answer_context(e, l0, NULL, NULL);
    fake_db_finish1(l0, fake_db_error("22023", "bad value"));
    s_expect_store(e, l0, IDS(a1));
    uint64_t b1 = s_send(e, "xa-b"), b2 = s_send(e, "xa-b"); /* lane 2: CONTEXT */
    s_expect_context(l1, (const char *[]){"xa-b", NULL}, IDS(b1, b2));
    uint64_t c1 = s_send(e, "xa-c"), c2 = s_send(e, "xa-c"); /* lane 3: WAIT_DB */
    fake_db_lose(l2);
    uint64_t d1 = s_send(e, "xa-d"); /* lane 1 again: waiting */
    assert_int_equal(srv_batch_pending(e->batch), 7);
    srv_batch_abandon(e->batch);
    const uint64_t all[] = {a1, a2, b1, b2, c1, c2, d1};
    for (size_t i = 0; i < 7; i++)
        s_expect_nack(e, all[i], CCHC__V1__NACK_REASON__NACK_BUSY, "server stopping");
    assert_int_equal(srv_batch_pending(e->batch), 0);
    assert_int_equal(fake_db_jobs(l0) + fake_db_jobs(l1) + fake_db_jobs(l2), 0);
    assert_false(srv_db_ready(l0));
    assert_int_equal(e->commits, 0);
    s_env_end(e);
}

/* ---- admission ---------------------------------------------------------------------------------
 */

/* srv_batch_admit refuses (counted, with why) when the server-wide cap
 * max_pending is full, when one connection's peer_max_inflight is, and when
 * the unit's store connection is away; other lanes and peers still get in. */
static void test_admit(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .lanes = 2, .max_pending = 10, .peer_max = 6});
    const char *why = NULL;
    uint64_t id = 0;
    for (int i = 0; i < 6; i++)
        s_send(e, "xa-a");
    assert_int_equal(s_offer(e, "xa-a", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "too many reports in flight from this connection; resend later");
    assert_int_equal(s_counters(e)->refused_busy_peer, 1);
    for (int i = 0; i < 4; i++)
        s_send(e, "xa-b");
    assert_int_equal(srv_batch_pending(e->batch), 10);
    assert_int_equal(s_offer(e, "xa-c", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "server queue full; resend later");
    assert_int_equal(s_counters(e)->refused_busy_pending, 1);
    /* Answered: room again. */
    srv_batch_drain(e->batch);
    for (size_t k = 0; k < 2; k++) {
        s_answer_context(e, s_lane_db(e, k), NULL, NULL);
        s_answer_store(e, s_lane_db(e, k), NULL);
    }
    assert_int_equal(srv_batch_pending(e->batch), 0);
    /* xa-a and xa-c share lane 1 (xa-b has lane 2): its connection away. */
    fake_db_lose(s_lane_db(e, 0));
    assert_int_equal(s_offer(e, "xa-a", &id, &why), CCHC_EFULL);
    assert_string_equal(why, "database unavailable; resend later");
    assert_int_equal(s_offer(e, "xa-c", &id, &why), CCHC_EFULL);
    assert_int_equal(s_counters(e)->refused_busy_db, 2);
    s_send(e, "xa-b");
    /* Draining: the loop's next on_timer starts it. */
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_answer_context(e, s_lane_db(e, 1), NULL, NULL);
    s_answer_store(e, s_lane_db(e, 1), NULL);
    fake_db_reconnect(s_lane_db(e, 0));
    s_send(e, "xa-a");
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_answer_context(e, s_lane_db(e, 0), NULL, NULL);
    s_answer_store(e, s_lane_db(e, 0), NULL);
    s_env_end(e);
}

/* ---- lanes -------------------------------------------------------------------------------------
 */

/* Which lane's segments hold msg_id: the lane of each report, from the
 * context segments the test answered (recorded by s_ctx_lane). */
static int s_lane_of[S_MAX_SENT + 1];

static void s_record_lane(s_env_t *e, size_t k)
{
    const fake_db_job_t *j = s_head(s_lane_db(e, k));
    json_t *a = s_param(&j->stmts[j->n - 1]);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_int_t id = json_integer_value(json_object_get(json_array_get(a, i), "msg_id"));
        assert_true(id > 0 && id <= S_MAX_SENT);
        s_lane_of[id] = (int)k + 1;
    }
    json_decref(a);
}

/* Runs every lane's batches to the end, one stage at a time across lanes,
 * recording the lane of each report. */
static void s_run_lanes(s_env_t *e)
{
    for (int busy = 1; busy;) {
        busy = 0;
        for (size_t k = 0; k < srv_batch_dbs(e->batch); k++) {
            srv_db_t *db = s_lane_db(e, k);
            if (!fake_db_jobs(db))
                continue;
            busy = 1;
            const fake_db_job_t *j = s_head(db);
            if (strcmp(j->stmts[j->n - 1].name, S_CONTEXT_STMT) == 0) {
                s_record_lane(e, k);
                s_answer_context(e, db, NULL, NULL);
            } else {
                s_answer_store(e, db, NULL);
            }
        }
    }
    s_pump(e);
}

/* Under load (batch_max_rows 2: no batch is light), a unit is given, on its
 * first report, to the lane with the fewest units, its home,
 * and keeps it: all its reports go through that lane, and are stored in
 * the order they came, batch after batch; lanes do not wait on each other. */
static void test_lanes(void **state)
{
    (void)state;
    memset(s_lane_of, 0, sizeof s_lane_of);
    s_env_t *e = s_env_new((s_opts_t){.rows = 2, .lanes = 2});
    srv_db_t *l0 = s_lane_db(e, 0), *l1 = s_lane_db(e, 1);
    uint64_t u1a = s_send(e, "u1"), u1b = s_send(e, "u1"); /* u1: lane 1 */
    s_expect_context(l0, (const char *[]){"u1", NULL}, IDS(u1a, u1b));
    s_record_lane(e, 0);
    uint64_t u2a = s_send(e, "u2"); /* lane 2 */
    uint64_t u3a = s_send(e, "u3"); /* lane 1 (one unit each: the first) */
    uint64_t u1c = s_send(e, "u1");
    uint64_t u4a = s_send(e, "u4"); /* lane 2 */
    s_expect_context(l1, (const char *[]){"u2", "u4", NULL}, IDS(u2a, u4a));
    s_record_lane(e, 1);
    /* Lane 2 goes through both stages while lane 1 is still in CONTEXT. */
    s_answer_context(e, l1, NULL, NULL);
    s_answer_store(e, l1, NULL);
    s_expect_ack(e, u2a, s_rid(u2a), 0);
    s_expect_ack(e, u4a, s_rid(u4a), 0);
    s_unanswered(e, u1a);
    /* More of u2 while lane 1 is busy and lane 2 idle: still lane 2. */
    uint64_t u2b = s_send(e, "u2"), u2c = s_send(e, "u2");
    s_expect_context(l1, NULL, IDS(u2b, u2c));
    /* u1's third report waits behind its first two, in lane 1. */
    s_answer_context(e, l0, NULL, NULL);
    s_answer_store(e, l0, NULL);
    s_expect_context(l0, (const char *[]){"u3", NULL}, IDS(u3a, u1c));
    uint64_t u5a = s_send(e, "u5"); /* a tie: the first lane */
    uint64_t u6a = s_send(e, "u6"); /* then the second */
    uint64_t u1d = s_send(e, "u1"), u1e = s_send(e, "u1");
    s_run_lanes(e);
    /* u1e and u6a wait for a full batch: draining sends them. */
    s_unanswered(e, u1e);
    srv_batch_drain(e->batch);
    s_run_lanes(e);
    const uint64_t lane1[] = {u1a, u1b, u3a, u1c, u5a, u1d, u1e};
    const uint64_t lane2[] = {u2a, u4a, u2b, u2c, u6a};
    for (size_t i = 0; i < sizeof lane1 / sizeof lane1[0]; i++)
        if (s_lane_of[lane1[i]] != 1)
            fail_msg("msg_id %llu went through lane %d", (unsigned long long)lane1[i],
                     s_lane_of[lane1[i]]);
    for (size_t i = 0; i < sizeof lane2 / sizeof lane2[0]; i++)
        if (s_lane_of[lane2[i]] != 2)
            fail_msg("msg_id %llu went through lane %d", (unsigned long long)lane2[i],
                     s_lane_of[lane2[i]]);
    /* u1's reports were stored in the order they came. */
    const uint64_t u1[] = {u1a, u1b, u1c, u1d, u1e};
    size_t pos[5];
    for (size_t i = 0; i < 5; i++) {
        pos[i] = SIZE_MAX;
        for (size_t k = 0; k < e->nanswers; k++)
            if (e->answers[k].msg_id == u1[i])
                pos[i] = k;
        assert_true(pos[i] != SIZE_MAX);
        if (i)
            assert_true(pos[i] > pos[i - 1]);
    }
    s_env_end(e);
}

/* Light load: while the first lane's last batch was light (under an eighth
 * of batch_max_rows, 24) and under an eighth waits there, a unit with no
 * report here goes to the first lane, whatever its home, the others idle;
 * when an eighth waits there as its batch starts, the reports of units whose
 * home is another lane go home first, in their order. */
static void test_lanes_light(void **state)
{
    (void)state;
    s_env_t *e = s_env_new((s_opts_t){.rows = 24, .lanes = 2});
    srv_db_t *l0 = s_lane_db(e, 0), *l1 = s_lane_db(e, 1);
    srv_batch_drain(e->batch); /* batches start at the loop's next on_timer */
    /* No batch yet, none light: their homes (the fewest units, the first of
     * a tie): xa-a and xa-x lane 1, xa-b lane 2. */
    uint64_t a = s_send(e, "xa-a"), b = s_send(e, "xa-b"), x = s_send(e, "xa-x");
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_expect_context(l0, (const char *[]){"xa-a", "xa-x", NULL}, IDS(a, x));
    s_expect_context(l1, (const char *[]){"xa-b", NULL}, IDS(b));
    for (size_t k = 0; k < 2; k++) {
        s_answer_context(e, s_lane_db(e, k), NULL, NULL);
        s_answer_store(e, s_lane_db(e, k), NULL);
    }
    s_expect_ack(e, a, s_rid(a), 0);
    s_expect_ack(e, b, s_rid(b), 0);
    s_expect_ack(e, x, s_rid(x), 0);
    /* Both light (2 and 1 of 24): xa-b's next report goes to lane 1, lane 2
     * stays idle. */
    uint64_t c = s_send(e, "xa-b");
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_expect_context(l0, NULL, IDS(c));
    assert_int_equal(fake_db_jobs(l1), 0);
    /* While it is in the database: xa-b's next waits behind it in lane 1,
     * which holds c; xa-c and xa-g (no home yet) go to lane 1 with 1 and 2
     * waiting there; with 3, an eighth of 24, xa-h goes home: lane 2 (1 unit
     * against 2). */
    uint64_t d = s_send(e, "xa-b"), f = s_send(e, "xa-c"), g = s_send(e, "xa-g");
    uint64_t h = s_send(e, "xa-h");
    srv_batch_on_timer(e->batch, cchc_clock_mono_ms());
    s_expect_context(l1, (const char *[]){"xa-h", NULL}, IDS(h));
    s_unanswered(e, d);
    /* c stored; lane 1's next batch starts with 3 of 24 waiting: d goes home
     * behind h's batch (after c), xa-c's home is lane 1 (a tie) and it
     * stays, xa-g's is lane 2 (3 units against 2). */
    s_answer_context(e, l0, NULL, NULL);
    s_answer_store(e, l0, NULL);
    s_expect_ack(e, c, s_rid(c), 0);
    s_expect_context(l0, (const char *[]){"xa-c", NULL}, IDS(f));
    s_answer_context(e, l1, NULL, NULL);
    s_answer_store(e, l1, NULL);
    s_expect_ack(e, h, s_rid(h), 0);
    s_expect_context(l1, (const char *[]){"xa-g", NULL}, IDS(d, g));
    s_run_lanes(e);
    s_expect_ack(e, d, s_rid(d), 0);
    s_expect_ack(e, f, s_rid(f), 0);
    s_expect_ack(e, g, s_rid(g), 0);
    s_env_end(e);
}

/* Units spread evenly over the lanes. */
static void test_lanes_spread(void **state)
{
    (void)state;
    memset(s_lane_of, 0, sizeof s_lane_of);
    s_env_t *e = s_env_new((s_opts_t){.rows = 100, .lanes = 3});
    char unit[16];
    uint64_t first[9];
    for (int i = 0; i < 9; i++) {
        snprintf(unit, sizeof unit, "xa-%d", i);
        first[i] = s_send(e, unit);
    }
    srv_batch_drain(e->batch);
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(fake_db_jobs(s_lane_db(e, k)), 1);
        s_record_lane(e, k);
    }
    int per_lane[4] = {0};
    for (int i = 0; i < 9; i++) {
        per_lane[s_lane_of[first[i]]]++;
        assert_int_equal(s_lane_of[first[i]], i % 3 + 1);
    }
    assert_int_equal(per_lane[1], 3);
    assert_int_equal(per_lane[2], 3);
    assert_int_equal(per_lane[3], 3);
    s_run_lanes(e);
    s_env_end(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_lost),  cmocka_unit_test(test_store_lost),
        cmocka_unit_test(test_idle_lost),     cmocka_unit_test(test_context_refused),
        cmocka_unit_test(test_store_refused), cmocka_unit_test(test_abandon),
        cmocka_unit_test(test_admit),         cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_lanes_light),   cmocka_unit_test(test_lanes_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
