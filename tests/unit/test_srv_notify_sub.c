/* test_srv_notify_sub.c: notification delivery to subscribers
 * (srv_notify_sub.c) against the fake database (fake_db.c), with the real
 * srv_router and srv_zap: one-shot and follow replays, ReplayEnd, topics,
 * max_pending turning a session back to replaying, grants and sends, the
 * database away, the window of replays, the cap on replays. The
 * environment is notify_support.h's, shared with test_srv_notify.c. */
#include "notify_support.h"

/* ---- subscribers ---------------------------------------------------------------------------- */

/* A one-shot Replay: the rows after since in the requested topics that
 * are its own, then ReplayEnd{the highest seq covered}; no session after. */
static void test_sub_oneshot(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(30);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", "agent.", NULL}; /* agent.: not its own */
    /* A requested prefix that meets none of its own is refused. */
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"agent.", NULL}, 0), CCHC_EPERM);
    assert_int_equal(s_stats(e)->refused_topic, 1);
    assert_int_equal(s_replay(e, s, 4, want, 0), CCHC_EPERM);
    /* Narrower than its own is fine. */
    const char *narrow[] = {"deadline.approaching.xa-b", NULL};
    assert_int_equal(s_replay(e, s, 4, narrow, 0), CCHC_OK);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_exec(e);
    uint64_t w[64];
    size_t n = s_rows_topic(e, narrow, 4, w, 64);
    assert_true(n > 0);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_replay_end(e, s), 30);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 1);
    s_clear(s);
    /* No topics: all its own. */
    assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_OK);
    s_exec(e);
    n = s_rows_topic(e, (const char *[]){"deadline.", "report.received.", NULL}, 0, w, 64);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_replay_end(e, s), 30);
    s_clear(s);
    /* No session: a later row is not pushed. */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, s, NULL, 0);
    /* Too many or too long prefixes. */
    const char *many[SRV_NOTIFY_MAX_TOPICS + 2];
    for (size_t i = 0; i <= SRV_NOTIFY_MAX_TOPICS; i++)
        many[i] = "deadline.";
    many[SRV_NOTIFY_MAX_TOPICS + 1] = NULL;
    assert_int_equal(s_replay(e, s, 0, many, 0), CCHC_EINVAL);
    char longt[SRV_NOTIFY_MAX_TOPIC_LEN + 2];
    memset(longt, 'x', sizeof longt - 1);
    memcpy(longt, "deadline.", 9);
    longt[sizeof longt - 1] = '\0';
    assert_int_equal(s_replay(e, s, 0, (const char *[]){longt, NULL}, 0), CCHC_EINVAL);
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_env_end(e);
}

/* Replay{follow}: the rows, ReplayEnd, then live pushes of the rows in its
 * topics only, each once (none at or below the ReplayEnd's last_seq). */
static void test_sub_follow(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(12);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", NULL};
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_OK);
    assert_int_equal(s_stats(e)->sub_sessions, 1);
    s_commit(e, "xa-a", "deadline.today"); /* 13: before the replay runs */
    s_exec(e);
    assert_int_equal(s_replay_end(e, s), 13);
    s_commit(e, "xa-b", "deadline.today");  /* 14: pushed */
    s_commit(e, "xa-b", "report.received"); /* 15: not in its request */
    s_commit(e, "xa-b", "agent.silent");    /* 16: not its own */
    s_publish(e);                           /* reads 13..16 */
    s_exec_all(e);
    uint64_t w[64];
    size_t n = s_rows_topic(e, want, 0, w, 64);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(w[n - 1], 14);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* A live subscriber at max_pending unacked pushes turns back to REPLAYING
 * from its cursor (lagging); each replay segment is parked until the acks
 * leave room for a whole one; then ReplayEnd and LIVE again. Nothing
 * missed, nothing twice. */
static void test_sub_max_pending(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    size_t max = (size_t)e->cfg.sub_max_pending;
    assert_int_equal(max, 2 * SRV_NOTIFY_BATCH);
    s_client_t *s = s_client(e, S_SUB);
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    assert_int_equal(s_replay_end(e, s), 0);
    s_commit_n(e, max, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, max);    /* 1..1000, unacked */
    s_commit_n(e, 600, "xa-a", "deadline.today"); /* 1001..1600 */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, max);
    assert_int_equal(s_stats(e)->lagging, 1);
    assert_int_equal(fake_db_jobs(e->db), 0); /* parked: no room for a segment */
    s_sub_ack(e, s, 499);                     /* 501 unacked: still no room */
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_sub_ack(e, s, 500); /* 500 unacked: room for 500 */
    assert_int_equal(fake_db_jobs(e->db), 1);
    const fake_db_job_t *j = fake_db_job(e->db, 0);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), max);
    s_exec(e); /* 1001..1500: a full segment; parked again */
    assert_int_equal(fake_db_jobs(e->db), 0);
    s_commit(e, "xa-a", "deadline.today"); /* 1601: while parked */
    s_publish(e);
    s_exec_all(e);
    s_sub_ack(e, s, 1500);
    s_exec_all(e); /* 1501..1601, ReplayEnd: LIVE */
    assert_int_equal(s_replay_end(e, s), 1601);
    s_commit(e, "xa-a", "deadline.today"); /* 1602: live */
    s_publish(e);
    s_exec_all(e);
    uint64_t w[2000];
    size_t n = s_range(w, 1, 1602);
    s_expect_seqs(e, s, w, n);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 2);
    /* A Replay while parked starts again from what it says it holds. */
    s_sub_ack(e, s, 1602);
    s_commit_n(e, max + 1, "xa-a", "deadline.today"); /* the last one lags */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->lagging, 2);
    s_pump(e);
    assert_int_equal(s->last, 1602 + max);
    s_clear(s);
    assert_int_equal(s_replay(e, s, s->last, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec_all(e);
    s_expect_seqs(e, s, (const uint64_t[]){1603 + max}, 1);
    assert_int_equal(s_replay_end(e, s), 1603 + max);
    s_env_end(e);
}

/* Each push checks the subscriber's grant: a key revoked ends the session
 * with NACK_KEY_REVOKED, changed topics with NACK_BUSY; a push or a replay
 * that cannot be sent drops it (a one-shot replay ends without ReplayEnd). */
static void test_sub_grant_and_send(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *s = s_client(e, S_SUB);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    s_exec(e);
    s_keys(e, NULL); /* revoked */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_KEY_REVOKED);
    assert_int_equal(s_stats(e)->revoked, 1);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_expect_seqs(e, s, NULL, 0);
    /* Topics changed. */
    s_keys(e, S_SUB_TOPICS);
    s_clear(s);
    assert_int_equal(s_replay(e, s, e->top, NULL, 1), CCHC_OK);
    s_exec(e);
    s_keys(e, "[\"deadline.\"]");
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_non_null(strstr(s->msgs[s->nmsgs - 1].detail, "topics changed"));
    s_expect_seqs(e, s, NULL, 0);
    s_keys(e, S_SUB_TOPICS);
    /* A subscriber gone: the one-shot replay is abandoned, the session
     * dropped. */
    Cchc__V1__Replay req = CCHC__V1__REPLAY__INIT;
    const char *const *own = NULL;
    size_t n_own = 0;
    assert_true(srv_zap_subscriber(e->zap, S_SUB, &own, &n_own));
    assert_int_equal(
        srv_notify_replay(e->n, s_ghost, sizeof s_ghost - 1, S_SUB, S_SUB_KEY_ID, &req, own, n_own),
        CCHC_OK);
    s_exec(e);
    req.follow = 1;
    req.since_seq = e->top;
    assert_int_equal(
        srv_notify_replay(e->n, s_ghost, sizeof s_ghost - 1, S_SUB, S_SUB_KEY_ID, &req, own, n_own),
        CCHC_OK);
    s_exec(e); /* nothing to replay; its ReplayEnd fails: dropped */
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_env_end(e);
}

/* A subscriber with the database away: a Replay is refused (CCHC_EAGAIN:
 * NACK_BUSY) and opens no session; a replay whose connection is lost ends
 * the session with NACK_BUSY; so does a parked replay that cannot be sent
 * when the acks make room. */
static void test_sub_db_away(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(6);
    s_client_t *s = s_client(e, S_SUB);
    const char *want[] = {"deadline.", NULL};
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_OK);
    fake_db_lose(e->db);
    s_pump(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[0].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_non_null(strstr(s->msgs[0].detail, "interrupted"));
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    assert_int_equal(s_replay(e, s, 0, want, 1), CCHC_EAGAIN);
    assert_int_equal(s_replay(e, s, 0, want, 0), CCHC_EAGAIN);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    fake_db_reconnect(e->db);
    s_exec_all(e);
    /* Parked, then the database goes away. */
    s_clear(s);
    assert_int_equal(s_replay(e, s, e->top, want, 1), CCHC_OK);
    s_exec(e);
    s_commit_n(e, (size_t)e->cfg.sub_max_pending + 1, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->lagging, 1);
    fake_db_lose(e->db);
    s_sub_ack(e, s, e->top);
    s_pump(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_NACK), 1);
    assert_int_equal(s->msgs[s->nmsgs - 1].reason, CCHC__V1__NACK_REASON__NACK_BUSY);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    fake_db_reconnect(e->db);
    s_exec_all(e);
    s_env_end(e);
}

/* A replay looks at S_SUB_WINDOW (20000) seqs per segment at most: rare
 * topics are found window after window, none missed, and ReplayEnd says
 * the highest seq covered. */
static void test_sub_window(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *s = s_client(e, S_SUB);
    s_commit(e, "xa-a", "deadline.today");        /* 1 */
    s_commit_n(e, 25000, "xa-b", "agent.silent"); /* 2..25001 */
    s_commit(e, "xa-a", "deadline.today");        /* 25002 */
    s_commit_n(e, 20000, "xa-b", "agent.silent"); /* ..45002 */
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 0), CCHC_OK);
    s_exec(e);
    assert_int_equal(fake_db_jobs(e->db), 1); /* the next window */
    const fake_db_job_t *j = fake_db_job(e->db, 0);
    assert_int_equal(strtoull(j->stmts[0].values[0], NULL, 10), 20000);
    assert_int_equal(strtoull(j->stmts[0].values[4], NULL, 10), 40000);
    s_exec_all(e);
    s_expect_seqs(e, s, (const uint64_t[]){1, 25002}, 2);
    assert_int_equal(s_replay_end(e, s), 45002);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END), 1);
    s_env_end(e);
}

/* At most SRV_NOTIFY_MAX_REPLAYS subscriber replays at once: one more is
 * refused (CCHC_EAGAIN), a follow one with no session left; room again
 * when one ends. */
static void test_sub_max_replays(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    s_client_t *s = s_client(e, S_SUB);
    for (int i = 0; i < SRV_NOTIFY_MAX_REPLAYS; i++)
        assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_OK);
    assert_int_equal(s_stats(e)->replays, SRV_NOTIFY_MAX_REPLAYS);
    assert_int_equal(s_replay(e, s, 0, NULL, 0), CCHC_EAGAIN);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_EAGAIN);
    assert_int_equal(s_stats(e)->sub_sessions, 0);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    assert_int_equal(s_stats(e)->sub_sessions, 1);
    s_exec_all(e);
    assert_int_equal(s_count_kind(e, s, CCHC__V1__ENVELOPE__BODY_REPLAY_END),
                     SRV_NOTIFY_MAX_REPLAYS + 1);
    s_env_end(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sub_oneshot),     cmocka_unit_test(test_sub_follow),
        cmocka_unit_test(test_sub_max_pending), cmocka_unit_test(test_sub_grant_and_send),
        cmocka_unit_test(test_sub_db_away),     cmocka_unit_test(test_sub_window),
        cmocka_unit_test(test_sub_max_replays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
