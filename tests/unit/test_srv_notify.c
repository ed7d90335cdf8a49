/* test_srv_notify.c: notification delivery to agents (srv_notify.c)
 * against the fake database (fake_db.c), with the real srv_router and
 * srv_zap: every row of the agent-session table at the top of srv_notify.c,
 * the publisher (rows too large for a frame, the loop's timer), the acks,
 * sessions moved in their table, and "nothing missed, nothing sent twice"
 * with an agent's and a subscriber's replays racing the publisher in random
 * orders. The environment and the model of the notifications table are in
 * notify_support.h; the subscriber sessions are tested in
 * test_srv_notify_sub.c. */
#include "notify_support.h"

/* ---- agent sessions ------------------------------------------------------------------------- */

/* (none) + Hello{last_seq} -> REPLAYING: the unit's rows after last_seq;
 * a segment of fewer than SRV_NOTIFY_BATCH rows -> LIVE: the publisher's
 * rows for the unit with seq > cursor are pushed, others' are not. */
static void test_hello_replay_then_live(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(9); /* xa-a: 1, 4, 7 */
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b");
    s_hello(e, a, 1);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_expect_agent_replay(e, "xa-a", 1);
    assert_int_equal(s_stats(e)->replays, 1);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){4, 7}, 2);
    assert_int_equal(s_stats(e)->replayed, 2);
    assert_int_equal(fake_db_jobs(e->db), 0);
    /* LIVE: the publisher's rows after 9 for xa-a only. */
    s_commit(e, "xa-a", "deadline.today");
    s_commit(e, "xa-b", "deadline.today");
    s_commit(e, "xa-a", "report.received");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){4, 7, 10, 12}, 4);
    s_expect_seqs(e, b, NULL, 0); /* no session */
    assert_int_equal(s_stats(e)->pushed, 2);
    assert_int_equal(s_stats(e)->published, 3);
    assert_int_equal(srv_notify_last_published(e->n), 12);
    s_env_end(e);
}

/* REPLAYING: a full segment (SRV_NOTIFY_BATCH rows) asks for the next from
 * the last seq sent; fewer -> LIVE. Rows the publisher sees meanwhile are
 * not pushed to it (it is replaying) and come with the replay. */
static void test_replay_segments(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    s_commit_n(e, 2 * SRV_NOTIFY_BATCH + 100, "xa-a", "deadline.approaching");
    s_hello(e, a, 0);
    s_expect_agent_replay(e, "xa-a", 0);
    s_exec(e);
    s_expect_agent_replay(e, "xa-a", SRV_NOTIFY_BATCH);
    /* The publisher reads rows while the session replays: none pushed. */
    s_commit(e, "xa-a", "deadline.today"); /* 1101 */
    s_publish(e);
    assert_int_equal(fake_db_jobs(e->db), 2);
    s_exec(e); /* the replay's second segment; its third queued after the publisher */
    s_expect_agent_replay_at(e, 1, "xa-a", 2 * SRV_NOTIFY_BATCH);
    s_exec(e); /* the publisher: 500 rows, then the next ones */
    assert_int_equal(s_stats(e)->pushed, 0);
    s_exec_all(e); /* the replay's last segment (101 rows: LIVE), the publisher */
    uint64_t want[1200];
    size_t n = s_range(want, 1, 2 * SRV_NOTIFY_BATCH + 101);
    s_expect_seqs(e, a, want, n);
    assert_int_equal(s_stats(e)->pushed, 0);
    assert_int_equal(srv_notify_last_published(e->n), 2 * SRV_NOTIFY_BATCH + 101);
    /* LIVE now. */
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    want[n] = e->top;
    s_expect_seqs(e, a, want, n + 1);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* REPLAYING + Hello: ignored (the replay covers it); LIVE + Hello{last_seq}
 * -> REPLAYING from what the agent says it holds (the truth: what it lost
 * is sent again). */
static void test_hello_while_replaying(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(12); /* xa-a: 1, 4, 7, 10 */
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_hello(e, a, 0);
    s_hello(e, a, 7);
    assert_int_equal(fake_db_jobs(e->db), 1);
    assert_int_equal(s_stats(e)->replays, 1);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7, 10}, 4);
    s_clear(a);
    /* LIVE: a Hello (a reconnect, or the heartbeat) replays again. */
    s_hello(e, a, 4);
    assert_int_equal(fake_db_jobs(e->db), 1);
    s_expect_agent_replay(e, "xa-a", 4);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){7, 10}, 2);
    s_clear(a);
    s_hello(e, a, 10);
    s_exec(e);
    s_expect_seqs(e, a, NULL, 0);
    assert_int_equal(s_stats(e)->replays, 3);
    s_env_end(e);
}

/* LIVE: a row the replay already sent (seq <= cursor) is not pushed again
 * when the publisher sees it later. */
static void test_live_no_twice(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3); /* xa-a: 1 */
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_commit(e, "xa-a", "deadline.today"); /* 4: committed before the replay runs */
    s_commit(e, "xa-b", "deadline.today"); /* 5 */
    s_exec(e);                             /* the replay sees 1, 4 */
    s_expect_seqs(e, a, (const uint64_t[]){1, 4}, 2);
    s_commit(e, "xa-a", "deadline.today"); /* 6 */
    s_publish(e);                          /* reads 4, 5, 6 */
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 6}, 3);
    assert_int_equal(s_stats(e)->pushed, 1);
    s_env_end(e);
}

/* Only the unit's latest session gets its rows: a Hello from another
 * connection of the same unit takes them over. */
static void test_unit_session_moves(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a1 = s_client(e, "xa-a");
    s_hello(e, a1, 0);
    s_exec(e);
    /* The same unit on a second connection. */
    s_client_t *a2 = s_client(e, "xa-a#2");
    srv_notify_hello(e->n, (const uint8_t *)a2->rid, strlen(a2->rid), "xa-a", 0);
    s_exec(e);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a1, NULL, 0);
    s_expect_seqs(e, a2, (const uint64_t[]){1}, 1);
    s_env_end(e);
}

/* Keys as SRV_ZAP_KEYS_SQL gives them with the units' closing (migration
 * 020): the subscriber's, and xa-a's (key id a7) whose unit closed at
 * closes_ms (0: open). */
static void s_keys_closing(s_env_t *e, int64_t closes_ms)
{
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1], closes[24];
    assert_int_equal(cchc_keys_generate(pub, sec), CCHC_OK);
    snprintf(closes, sizeof closes, "%" PRId64, closes_ms);
    const char *cells[12] = {e->sub_pub, S_SUB, S_SUB_TOPICS, S_SUB_KEY_ID,
                             NULL,       NULL,  pub,          "xa-a",
                             NULL,       "a7",  NULL,         closes_ms ? closes : NULL};
    PGresult *res = fake_db_tuples(6, 2, cells);
    assert_int_equal(srv_zap_load(e->zap, res), CCHC_OK);
    PQclear(res);
}

/* A closed unit (DOMAIN.md section 1): from its closing, its Hello starts
 * no replay (what was queued for it stays unsent) and a live session of it
 * is dropped at the next row for it, not pushed; its key works for the
 * grace after its closing, then is refused (SRV_ZAP_KEY_CLOSED). */
static void test_closed_unit(void **state)
{
    (void)state;
    int64_t now = cchc_day_instant(cchc_day_from_ymd(2025, 7, 10), 9, 0);
    int64_t closes = cchc_day_instant(cchc_day_from_ymd(2025, 7, 1), 0, 0);
    cchc_clock_set(now);
    s_env_t *e = s_env_new(9); /* xa-a: 1, 4, 7 */
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b");
    s_keys_closing(e, now + 86400000); /* closes tomorrow: open */
    s_hello(e, a, 0);
    s_hello(e, b, 0);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    s_keys_closing(e, closes);             /* closed on 01/07 */
    s_commit(e, "xa-a", "deadline.today"); /* 10 */
    s_commit(e, "xa-b", "deadline.today"); /* 11 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    s_expect_seqs(e, b, (const uint64_t[]){2, 5, 8, 11}, 4);
    s_hello(e, a, 0);
    assert_int_equal(fake_db_jobs(e->db), 0); /* no replay */
    s_expect_seqs(e, a, (const uint64_t[]){1, 4, 7}, 3);
    /* The key: 30 days of grace from 01/07 00:00. */
    srv_zap_set_closed_grace(e->zap, 30 * 86400000LL);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", now), SRV_ZAP_KEY_VALID);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", closes + 30 * 86400000LL - 1),
                     SRV_ZAP_KEY_VALID);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", closes + 30 * 86400000LL), SRV_ZAP_KEY_CLOSED);
    assert_true(srv_zap_unit_closed(e->zap, "xa-a", now));
    assert_false(srv_zap_unit_closed(e->zap, "xa-a", closes - 1));
    assert_false(srv_zap_unit_closed(e->zap, "xa-b", now));
    assert_int_equal(srv_zap_key_state(e->zap, S_SUB_KEY_ID, now), SRV_ZAP_KEY_VALID);
    assert_int_equal(srv_zap_key_state(e->zap, "a8", now), SRV_ZAP_KEY_GONE);
    assert_int_equal(srv_zap_key_state(e->zap, "", now), SRV_ZAP_KEY_GONE);
    /* Loaded again without xa-a's key: its id is gone, the subscriber's
     * key and topics stay. */
    s_keys(e, S_SUB_TOPICS);
    assert_int_equal(srv_zap_key_state(e->zap, "a7", now), SRV_ZAP_KEY_GONE);
    assert_int_equal(srv_zap_key_state(e->zap, S_SUB_KEY_ID, now), SRV_ZAP_KEY_VALID);
    const char *const *topics = NULL;
    size_t ntopics = 0;
    assert_true(srv_zap_subscriber(e->zap, S_SUB, &topics, &ntopics));
    assert_int_equal(ntopics, 2);
    assert_false(srv_zap_subscriber(e->zap, "xa-a", &topics, &ntopics));
    s_env_end(e);
    cchc_clock_set(0);
}

/* any + a send that fails (the peer gone): the session is dropped, in a
 * replay or live; its unit's later rows go nowhere until the next Hello. */
static void test_send_fails_drops(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    /* A replay to a peer gone. */
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "xa-a", 0);
    s_exec(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    assert_int_equal(s_stats(e)->replayed, 0);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->pushed, 0);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 1);
    /* A live push to a peer gone. */
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "xa-a", e->top);
    s_exec(e); /* nothing to replay: LIVE */
    assert_int_equal(s_stats(e)->dropped, 1);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 2);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 2);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(srv_router_counters(e->router)->send_failed, 2);
    assert_int_equal(s_stats(e)->pushed, 0);
    s_env_end(e);
}

/* any + silent SRV_PEERS_IDLE_MS: dropped at the next prune. */
static void test_idle_drops(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    s_exec(e);
    int64_t heard = cchc_clock_mono_ms();
    /* Not silent long enough: kept. */
    srv_notify_on_timer(e->n, heard + SRV_PEERS_IDLE_MS - 2000);
    s_exec_all(e); /* the poll's fetch */
    assert_int_equal(s_stats(e)->dropped, 0);
    srv_notify_on_timer(e->n, heard + SRV_PEERS_IDLE_MS + 60000);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, NULL, 0);
    s_env_end(e);
}

/* The database away: a Hello opens no session (the next one asks again);
 * a replay whose connection is lost drops its session; the reconnect
 * makes the publisher look again. */
static void test_db_away(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(3);
    s_client_t *a = s_client(e, "xa-a");
    s_hello(e, a, 0);
    fake_db_lose(e->db);
    assert_int_equal(s_stats(e)->dropped, 1);
    s_hello(e, a, 0);
    assert_int_equal(fake_db_refused(e->db), 1);
    assert_int_equal(s_stats(e)->dropped, 2);
    s_commit(e, "xa-a", "deadline.today");
    fake_db_reconnect(e->db);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(e->db), 1); /* the fetch */
    s_exec_all(e);
    assert_int_equal(srv_notify_last_published(e->n), 4);
    s_expect_seqs(e, a, NULL, 0);
    s_hello(e, a, 0);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){1, 4}, 2);
    s_env_end(e);
}

/* NotificationAck: coalesced per unit (the highest), written at most every
 * SRV_NOTIFY_ACK_EVERY_MS in one statement; written again after a lost
 * connection. */
static void test_acks(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a");
    const uint8_t *rid = (const uint8_t *)a->rid;
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 5);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 9);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-a", 7);
    srv_notify_ack(e->n, rid, strlen(a->rid), "xa-b", 3);
    int64_t now = cchc_clock_mono_ms();
    srv_notify_on_timer(e->n, now);
    s_exec_all(e);
    assert_int_equal(e->ack_statements, 0); /* not yet */
    srv_notify_on_timer(e->n, now + SRV_NOTIFY_ACK_EVERY_MS + 10);
    assert_true(fake_db_jobs(e->db) >= 1);
    fake_db_lose(e->db); /* the write lost */
    assert_int_equal(e->ack_statements, 0);
    assert_int_equal(s_stats(e)->ack_writes, 0);
    fake_db_reconnect(e->db);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms() + SRV_NOTIFY_ACK_EVERY_MS + 10);
    s_exec_all(e);
    assert_int_equal(e->ack_statements, 1);
    assert_int_equal(e->nack_units, 2);
    assert_string_equal(e->ack_unit[0], "xa-a");
    assert_int_equal(e->ack_seq[0], 9);
    assert_string_equal(e->ack_unit[1], "xa-b");
    assert_int_equal(e->ack_seq[1], 3);
    assert_int_equal(s_stats(e)->acks, 4);
    assert_int_equal(s_stats(e)->ack_writes, 2);
    s_env_end(e);
}

/* ---- sessions, the publisher, the timer ----------------------------------------------------- */

/* Dropping a session moves the last one into its slot: the moved agent
 * and subscriber sessions keep getting their rows. A Hello on a routing id
 * whose session is another unit's replaces it; the old replay's answer is
 * then for nobody. */
static void test_sessions_reindexed(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    s_client_t *a = s_client(e, "xa-a"), *b = s_client(e, "xa-b"), *s = s_client(e, S_SUB);
    srv_notify_hello(e->n, s_ghost, sizeof s_ghost - 1, "@lead", 0); /* slot 0 */
    s_exec(e);
    s_hello(e, a, 0);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 0, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    s_hello(e, b, 0); /* the last slot */
    s_exec(e);
    assert_int_equal(s_stats(e)->dropped, 0);
    s_commit(e, "@lead", "deadline.today"); /* 1: its send fails, b moves to slot 0 */
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 1);
    /* A new session takes the last slot, where b was. */
    s_client_t *c = s_client(e, "xa-c");
    s_hello(e, c, 1);
    s_exec(e);
    s_commit(e, "xa-a", "deadline.today");  /* 2 */
    s_commit(e, "xa-b", "deadline.today");  /* 3 */
    s_commit(e, "xa-b", "report.received"); /* 4 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){2}, 1);
    s_expect_seqs(e, b, (const uint64_t[]){3, 4}, 2);
    s_expect_seqs(e, c, NULL, 0);
    s_expect_seqs(e, s, (const uint64_t[]){1, 2, 3}, 3);
    /* Drop a (slot 1): the subscriber, now last, moves into it. */
    s_clear(a), s_clear(b), s_clear(s);
    srv_notify_on_timer(e->n, cchc_clock_mono_ms() + SRV_PEERS_IDLE_MS + 60000);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->dropped, 5); /* all silent */
    s_hello(e, b, 4);
    s_exec(e);
    s_hello(e, a, 2);
    s_exec(e);
    assert_int_equal(s_replay(e, s, 4, (const char *[]){"deadline.", NULL}, 1), CCHC_OK);
    s_exec(e);
    /* b (slot 0) replaced on its routing id by another unit's session. */
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-c", 0);
    assert_int_equal(s_stats(e)->dropped, 6);
    s_commit(e, "xa-a", "deadline.today"); /* 5 */
    s_commit(e, "xa-c", "deadline.today"); /* 6 */
    s_commit(e, "xa-b", "deadline.today"); /* 7 */
    s_exec(e);                             /* xa-c's replay: 6 */
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){5}, 1);
    s_expect_seqs(e, b, (const uint64_t[]){6}, 1);
    s_expect_seqs(e, s, (const uint64_t[]){5, 6, 7}, 3);
    /* A replay answered after its session was replaced sends nothing. */
    s_clear(b);
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-b", 0);
    srv_notify_hello(e->n, (const uint8_t *)b->rid, strlen(b->rid), "xa-c", 6);
    assert_int_equal(fake_db_jobs(e->db), 2);
    s_exec_all(e);
    s_expect_seqs(e, b, NULL, 0);
    s_env_end(e);
}

/* A row too large for a frame is counted and skipped, by the publisher
 * and by the replays, and does not stop the rows after it. */
static void test_oversize(void **state)
{
    (void)state;
    s_env_t *e = s_env_new_frame(0, 1024);
    s_client_t *a = s_client(e, "xa-a"), *s = s_client(e, S_SUB);
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_commit(e, "xa-a", "deadline.today");
    s_hello(e, a, 0);
    s_exec(e);
    s_expect_seqs(e, a, (const uint64_t[]){2}, 1);
    assert_int_equal(s_stats(e)->oversize, 1);
    assert_int_equal(s_replay(e, s, 0, NULL, 1), CCHC_OK);
    s_exec(e);
    s_expect_seqs(e, s, (const uint64_t[]){2}, 1);
    assert_int_equal(s_replay_end(e, s), 2);
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_commit(e, "xa-a", "deadline.today");
    s_publish(e);
    s_exec_all(e);
    s_expect_seqs(e, a, (const uint64_t[]){2, 4}, 2);
    s_expect_seqs(e, s, (const uint64_t[]){2, 4}, 2);
    assert_int_equal(srv_notify_last_published(e->n), 4);
    assert_int_equal(s_stats(e)->oversize, 4); /* 1 twice by the replays, 1 and 3 */
    /* The last row a fetch reads is too large: the publisher goes past it. */
    s_commit(e, "xa-a", "deadline.today");
    e->rows[e->nrows - 1].big = 1;
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(srv_notify_last_published(e->n), 5);
    s_publish(e);
    s_exec_all(e);
    assert_int_equal(s_stats(e)->oversize, 5); /* 5 once */
    s_env_end(e);
}

/* The loop's timer: the poll every SRV_NOTIFY_POLL_MS, at once after a
 * kick, none while a fetch is in flight; ack writes due after
 * SRV_NOTIFY_ACK_EVERY_MS. */
static void test_timers(void **state)
{
    (void)state;
    s_env_t *e = s_env_new(0);
    int64_t now = cchc_clock_mono_ms(), t = srv_notify_next_timer(e->n);
    assert_true(t > now - 10 && t <= now + SRV_NOTIFY_POLL_MS);
    srv_notify_kick(e->n);
    assert_true(srv_notify_next_timer(e->n) <= cchc_clock_mono_ms());
    srv_notify_on_timer(e->n, cchc_clock_mono_ms());
    assert_int_equal(fake_db_jobs(e->db), 1);
    /* In flight: only the prune is left (a minute away). */
    assert_true(srv_notify_next_timer(e->n) > cchc_clock_mono_ms() + SRV_NOTIFY_POLL_MS);
    s_exec_all(e);
    t = srv_notify_next_timer(e->n);
    assert_true(t > cchc_clock_mono_ms() + SRV_NOTIFY_POLL_MS / 2);
    srv_notify_committed(e->n);
    assert_true(srv_notify_next_timer(e->n) <= cchc_clock_mono_ms());
    s_env_end(e);
}

/* ---- races ---------------------------------------------------------------------------------- */

/* Nothing missed, nothing sent twice: an agent and a subscriber that say
 * what they hold (Hello, Replay{follow}) at random moments, while rows are
 * committed, the publisher reads and the statements run in random orders
 * (FIFO on the connection). */
static void test_race(void **state)
{
    (void)state;
    static const char *const units[] = {"xa-a", "xa-b", "@lead"};
    static const char *const kinds[] = {"deadline.approaching", "report.received", "agent.silent"};
    for (unsigned seed = 1; seed <= 40; seed++) {
        srand(seed);
        s_env_t *e = s_env_new(30);
        s_client_t *a = s_client(e, "xa-a"), *s = s_client(e, S_SUB);
        const char *want[] = {"deadline.", NULL};
        a->last = 10;
        s->last = 5;
        s_hello(e, a, a->last);
        assert_int_equal(s_replay(e, s, s->last, want, 1), CCHC_OK);
        for (int step = 0; step < 400; step++) {
            int r = rand() % 100;
            if (r < 25) {
                for (int k = rand() % 3; k >= 0; k--)
                    s_commit(e, units[rand() % 3], kinds[rand() % 3]);
            } else if (r < 27) {
                s_commit_n(e, SRV_NOTIFY_BATCH + 20, units[rand() % 3], kinds[rand() % 2]);
            } else if (r < 60) {
                if (fake_db_jobs(e->db))
                    s_exec(e);
            } else if (r < 75) {
                s_publish(e);
            } else if (r < 80) {
                s_pump(e);
                s_hello(e, a, a->last);
            } else if (r < 88) {
                s_pump(e);
                s_sub_ack(e, s, s->last);
            } else if (r < 91) {
                s_pump(e);
                if (s_replay(e, s, s->last, want, 1) != CCHC_OK)
                    fail_msg("seed %u: Replay refused", seed);
            }
            s_pump(e);
        }
        /* Quiet: everything runs to the end, the subscriber acking. */
        for (int round = 0; round < 50; round++) {
            s_pump(e);
            s_sub_ack(e, s, s->last);
            s_publish(e);
            s_exec_all(e);
        }
        assert_int_equal(srv_notify_last_published(e->n), e->top);
        uint64_t got[8192], w[8192];
        size_t n = s_rows_of(e, "xa-a", 10, w, 8192), k = s_seqs(a, got, 8192);
        for (size_t i = 0; i < n || i < k; i++)
            if (i >= n || i >= k || got[i] != w[i])
                fail_msg("seed %u: agent's notification %zu is %" PRIu64 ", expected %" PRIu64
                         " (%zu read, %zu rows)",
                         seed, i, i < k ? got[i] : 0, i < n ? w[i] : 0, k, n);
        n = s_rows_topic(e, want, 5, w, 8192);
        k = s_seqs(s, got, 8192);
        for (size_t i = 0; i < n || i < k; i++)
            if (i >= n || i >= k || got[i] != w[i])
                fail_msg("seed %u: subscriber's notification %zu is %" PRIu64 ", expected %" PRIu64
                         " (%zu read, %zu rows)",
                         seed, i, i < k ? got[i] : 0, i < n ? w[i] : 0, k, n);
        assert_int_equal(s_stats(e)->dropped, 0);
        s_env_end(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_replay_then_live),
        cmocka_unit_test(test_replay_segments),
        cmocka_unit_test(test_hello_while_replaying),
        cmocka_unit_test(test_live_no_twice),
        cmocka_unit_test(test_unit_session_moves),
        cmocka_unit_test(test_send_fails_drops),
        cmocka_unit_test(test_idle_drops),
        cmocka_unit_test(test_db_away),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_sessions_reindexed),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_race),
        cmocka_unit_test(test_closed_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
