/* test_outbox.c: the agent's SQLite outbox: durability settings, the epoch,
 * ids, the row state machine (queued -> delivered | refused | superseded |
 * held, held -> queued on a new key, nothing else), the heads of the queue
 * per report key, and the migrations of older files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agt_outbox.h"
#include "cchc_err.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir[64], s_path[128];

static int s_setup(void **state)
{
    snprintf(s_dir, sizeof s_dir, "/tmp/cchc-test-outbox-XXXXXX");
    assert_non_null(mkdtemp(s_dir));
    snprintf(s_path, sizeof s_path, "%s/outbox.db", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd);
}

static int64_t s_insert_rev(agt_outbox_t *o, const char *type, const char *period, int64_t revision)
{
    static const uint8_t payload[] = {0x0a, 0x05, 'N', 'V', '_', 'K', 'H'};
    agt_outbox_entry_t e = {.report_type = type,
                            .unit = "xa-van-son",
                            .period = period,
                            .revision = revision,
                            .kind = "periodic",
                            .source = "r.json",
                            .payload = payload,
                            .payload_len = sizeof payload};
    int64_t id = 0;
    assert_int_equal(agt_outbox_insert(o, &e, 1000, &id), CCHC_OK);
    return id;
}

static int64_t s_insert(agt_outbox_t *o, const char *type)
{
    return s_insert_rev(o, type, "2024Q3", 1);
}

static void s_pragma(const char *sql, const char *want)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(s_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_create_and_epoch(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    assert_non_null(o);
    uint64_t epoch = agt_outbox_epoch(o);
    assert_true(epoch != 0);
    agt_outbox_destroy(&o);
    assert_null(o);
    o = agt_outbox_new(s_path, err, sizeof err);
    assert_true(agt_outbox_epoch(o) == epoch); /* the epoch belongs to the file */
    agt_outbox_destroy(&o);
    s_pragma("PRAGMA journal_mode", "wal");
    s_pragma("PRAGMA user_version", "4");
    s_pragma("SELECT sql LIKE '%AUTOINCREMENT%' FROM sqlite_master WHERE name = 'outbox'", "1");

    /* another outbox gets another epoch */
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", s_dir);
    agt_outbox_t *o2 = agt_outbox_new(other, err, sizeof err);
    assert_true(agt_outbox_epoch(o2) != epoch);
    agt_outbox_destroy(&o2);
}

static void test_state_machine(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    int64_t a = s_insert(o, "CCHC_DK"), b = s_insert(o, "NV_KH"), c = s_insert(o, "KHAC_PHUC");
    assert_true(a < b && b < c);
    int64_t ids[8];
    size_t n;
    assert_int_equal(agt_outbox_queued_ids(o, ids, 8, &n), CCHC_OK);
    assert_int_equal(n, 3);
    assert_true(ids[0] == a && ids[2] == c);

    assert_int_equal(agt_outbox_mark_sent(o, a, 2000), CCHC_OK);
    assert_int_equal(agt_outbox_mark_delivered(o, a, 3000, 77, NULL), CCHC_OK);
    assert_int_equal(agt_outbox_mark_refused(o, b, "INVALID", "[{\"code\":\"E016\"}]"), CCHC_OK);
    /* a late duplicate Ack, or a Nack after delivery, changes nothing */
    assert_int_equal(agt_outbox_mark_delivered(o, a, 4000, 78, NULL), CCHC_ENOTFOUND);
    assert_int_equal(agt_outbox_mark_refused(o, a, "INVALID", NULL), CCHC_ENOTFOUND);
    assert_int_equal(agt_outbox_mark_delivered(o, b, 4000, 79, NULL), CCHC_ENOTFOUND);
    uint8_t *buf;
    size_t len;
    assert_int_equal(agt_outbox_payload(o, a, &buf, &len), CCHC_ENOTFOUND);
    assert_int_equal(agt_outbox_payload(o, c, &buf, &len), CCHC_OK);
    assert_int_equal(len, 7);
    free(buf);

    agt_outbox_counts_t counts;
    assert_int_equal(agt_outbox_counts(o, &counts), CCHC_OK);
    assert_int_equal(counts.queued, 1);
    assert_int_equal(counts.delivered, 1);
    assert_int_equal(counts.refused, 1);
    assert_int_equal(counts.oldest_queued_at, 1000);
    assert_int_equal(agt_outbox_queued_ids(o, ids, 8, &n), CCHC_OK);
    assert_int_equal(n, 1);
    assert_true(ids[0] == c);
    agt_outbox_destroy(&o);

    /* everything survives a reopen; ids are never reused */
    o = agt_outbox_new(s_path, err, sizeof err);
    assert_int_equal(agt_outbox_counts(o, &counts), CCHC_OK);
    assert_int_equal(counts.delivered + counts.refused + counts.queued, 3);
    assert_true(s_insert(o, "CCHC_DK") > c);
    agt_outbox_destroy(&o);
}

/* Superseded and refused are final; held goes back to queued, once, when
 * the daemon starts with a key other than the one it last ran with. */
static void test_superseded_and_held(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    int64_t r1 = s_insert_rev(o, "CCHC_DK", "2024S1", 1),
            r3 = s_insert_rev(o, "CCHC_DK", "2024S1", 3);
    int64_t r2 = s_insert_rev(o, "CCHC_DK", "2024S1", 2), h = s_insert(o, "NV_KH");
    int newer = -1;
    assert_int_equal(agt_outbox_newer_stored(o, r1, 0, &newer), CCHC_OK);
    assert_false(newer);
    assert_int_equal(agt_outbox_newer_stored(o, r1, 2, &newer), CCHC_OK); /* the server said 2 */
    assert_true(newer);
    assert_int_equal(agt_outbox_newer_stored(o, r1, 1, &newer), CCHC_OK); /* the same revision */
    assert_false(newer);
    assert_int_equal(agt_outbox_newer_stored(o, 999, 5, &newer), CCHC_ENOTFOUND);
    assert_int_equal(agt_outbox_mark_delivered(o, r3, 2000, 7, NULL), CCHC_OK);
    assert_int_equal(agt_outbox_newer_stored(o, r1, 0, &newer), CCHC_OK); /* 3 was delivered */
    assert_true(newer);
    assert_int_equal(agt_outbox_mark_superseded(o, r1, "SUPERSEDED: 3", "[{\"code\":\"E007\"}]"),
                     CCHC_OK);
    assert_int_equal(agt_outbox_mark_superseded(o, r1, "again", NULL), CCHC_ENOTFOUND);
    assert_int_equal(agt_outbox_mark_delivered(o, r1, 3000, 8, NULL), CCHC_ENOTFOUND);

    /* the first start records the key; the held rows it found go back */
    int changed = -1;
    int64_t requeued = -1;
    assert_int_equal(agt_outbox_key_changed(o, "KEY-A", &changed, &requeued), CCHC_OK);
    assert_true(changed);
    assert_int_equal(requeued, 0);
    assert_int_equal(agt_outbox_mark_held(o, h, "KEY_REVOKED: revoked"), CCHC_OK);
    assert_int_equal(agt_outbox_mark_held(o, r2, "KEY_REVOKED: revoked"), CCHC_OK);
    assert_int_equal(agt_outbox_mark_held(o, r2, "KEY_REVOKED: revoked"), CCHC_ENOTFOUND);
    agt_outbox_counts_t c;
    assert_int_equal(agt_outbox_counts(o, &c), CCHC_OK);
    assert_int_equal(c.queued, 0);
    assert_int_equal(c.delivered, 1);
    assert_int_equal(c.superseded, 1);
    assert_int_equal(c.held, 2);
    assert_int_equal(c.refused, 0);
    /* the same key again: nothing moves */
    assert_int_equal(agt_outbox_key_changed(o, "KEY-A", &changed, &requeued), CCHC_OK);
    assert_false(changed);
    assert_int_equal(requeued, 0);
    agt_outbox_destroy(&o);
    o = agt_outbox_new(s_path, err, sizeof err);
    assert_int_equal(agt_outbox_key_changed(o, "KEY-B", &changed, &requeued), CCHC_OK);
    assert_true(changed);
    assert_int_equal(requeued, 2);
    assert_int_equal(agt_outbox_counts(o, &c), CCHC_OK);
    assert_int_equal(c.queued, 2);
    assert_int_equal(c.held, 0);
    char *v = NULL;
    assert_int_equal(agt_outbox_state_get(o, AGT_OUTBOX_AGENT_KEY, &v), CCHC_OK);
    assert_string_equal(v, "KEY-B");
    free(v);
    agt_outbox_destroy(&o);
}

/* One row per report key is offered, the lowest revision first whatever the
 * order of submission; the next comes up when it leaves the queue. */
static void test_heads(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    int64_t s3 = s_insert_rev(o, "CCHC_DK", "2024S1", 3);
    int64_t q1 = s_insert_rev(o, "CCHC_DK", "2024Q1", 1);
    int64_t s1 = s_insert_rev(o, "CCHC_DK", "2024S1", 1);
    int64_t s2 = s_insert_rev(o, "CCHC_DK", "2024S1", 2);
    int64_t s1b = s_insert_rev(o, "CCHC_DK", "2024S1", 1); /* the same revision again */
    int64_t ids[8], bytes[8];
    uint64_t keys[8];
    size_t n = 0;
    assert_int_equal(agt_outbox_queued_heads(o, ids, bytes, keys, 8, &n), CCHC_OK);
    assert_int_equal(n, 2);
    assert_true(ids[0] == q1 && ids[1] == s1);
    assert_int_equal(bytes[0], 7);
    assert_true(keys[0] != keys[1]);
    uint64_t s_key = keys[1];
    int64_t expect[] = {s1b, s2, s3};
    int64_t last = s1;
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(agt_outbox_mark_delivered(o, last, 2000, 1, NULL), CCHC_OK);
        assert_int_equal(agt_outbox_queued_heads(o, ids, bytes, keys, 8, &n), CCHC_OK);
        assert_int_equal(n, 2);
        /* by id: revision 3 was submitted first, before q1 */
        size_t at = ids[0] == q1 ? 1 : 0;
        assert_true(ids[1 - at] == q1 && ids[at] == expect[k]);
        assert_true(keys[at] == s_key);
        last = expect[k];
    }
    assert_int_equal(agt_outbox_queued_heads(o, ids, bytes, keys, 1, &n), CCHC_OK);
    assert_int_equal(n, 1);
    agt_outbox_destroy(&o);
}

static void test_state_table(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    char *v = NULL;
    assert_int_equal(agt_outbox_state_get(o, AGT_OUTBOX_LAST_ERROR, &v), CCHC_OK);
    assert_null(v);
    assert_int_equal(agt_outbox_state_set(o, AGT_OUTBOX_LAST_ERROR, "handshake refused"), CCHC_OK);
    assert_int_equal(agt_outbox_state_get(o, AGT_OUTBOX_LAST_ERROR, &v), CCHC_OK);
    assert_string_equal(v, "handshake refused");
    free(v);
    assert_int_equal(agt_outbox_state_set(o, AGT_OUTBOX_LAST_ERROR, NULL), CCHC_OK);
    assert_int_equal(agt_outbox_state_get(o, AGT_OUTBOX_LAST_ERROR, &v), CCHC_OK);
    assert_null(v);
    agt_outbox_destroy(&o);
}

/* A version-2 file (an older agent's) is migrated in place: its rows keep
 * their ids, each gets its payload size, and the notifications table appears. */
static void test_migrate_v2(void **state)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s_path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                     "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT);"
                     "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                     " created_at INTEGER NOT NULL, state TEXT NOT NULL, report_type TEXT,"
                     " unit TEXT, period TEXT, subject TEXT, revision INTEGER, kind TEXT,"
                     " source TEXT, payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
                     " last_sent_at INTEGER, delivered_at INTEGER, server_report_id INTEGER,"
                     " reason TEXT, findings TEXT);"
                     "CREATE INDEX outbox_state_id ON outbox (state, id);"
                     "CREATE TABLE metadata (id INTEGER PRIMARY KEY CHECK (id = 1),"
                     " version INTEGER NOT NULL, document TEXT NOT NULL,"
                     " synced_at INTEGER NOT NULL);"
                     "INSERT INTO meta VALUES ('epoch', '00000000000000aa');"
                     "INSERT INTO outbox (created_at, state, payload) VALUES"
                     " (1, 'queued', x'0102030405'), (2, 'delivered', x'01');"
                     "PRAGMA user_version = 2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    assert_non_null(o);
    assert_true(agt_outbox_epoch(o) == 0xaa);
    agt_outbox_size_t q;
    assert_int_equal(agt_outbox_queued_size(o, &q), CCHC_OK);
    assert_int_equal(q.reports, 1);
    assert_int_equal(q.bytes, 5);
    int64_t id = s_insert(o, "CCHC_DK");
    assert_int_equal(id, 3);
    assert_int_equal(agt_outbox_queued_size(o, &q), CCHC_OK);
    assert_int_equal(q.bytes, 12);
    agt_outbox_counts_t counts;
    assert_int_equal(agt_outbox_counts(o, &counts), CCHC_OK);
    assert_int_equal(counts.queued_bytes, 12);
    agt_outbox_destroy(&o);
    s_pragma("PRAGMA user_version", "4");
    s_pragma("SELECT group_concat(b) FROM (SELECT payload_bytes AS b FROM outbox ORDER BY id)",
             "5,1,7");
    s_pragma("SELECT count(*) FROM notifications", "0");
}

/* A version-3 file (the agent before the states superseded and held) is
 * rebuilt: ids and the AUTOINCREMENT counter kept (an id is never used
 * twice, even past rows that are gone), a refusal for a revoked key becomes
 * held, and a refusal by E007 alone with a newer revision delivered becomes
 * superseded; any other refusal stays. */
static void test_migrate_v3(void **state)
{
    char err[256];
    agt_outbox_t *o = agt_outbox_new(s_path, err, sizeof err);
    agt_outbox_destroy(&o);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s_path, &db), SQLITE_OK);
    /* Down to what an agent of version 3 left: its table with its CHECK. */
    assert_int_equal(
        sqlite3_exec(
            db,
            "DROP TABLE outbox;"
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " created_at INTEGER NOT NULL,"
            " state TEXT NOT NULL CHECK (state IN ('queued','delivered','refused')),"
            " report_type TEXT, unit TEXT, period TEXT, subject TEXT, revision INTEGER,"
            " kind TEXT, source TEXT, payload BLOB NOT NULL,"
            " attempts INTEGER NOT NULL DEFAULT 0, last_sent_at INTEGER, delivered_at INTEGER,"
            " server_report_id INTEGER, reason TEXT, findings TEXT, payload_bytes INTEGER);"
            "CREATE INDEX outbox_state_id_bytes ON outbox (state, id, payload_bytes);"
            "INSERT INTO outbox (id, created_at, state, report_type, period, revision, payload,"
            " payload_bytes, reason, findings) VALUES"
            " (1, 1, 'refused', 'CCHC_DK', '2024S1', 1, x'01', 1, 'INVALID: the report breaks"
            " the rules', '[{\"code\":\"E007\",\"message_en\":\"Revision 2 is already"
            " stored\"},{\"code\":\"W031\"}]'),"
            " (2, 1, 'delivered', 'CCHC_DK', '2024S1', 2, x'01', 1, NULL, NULL),"
            " (3, 1, 'refused', 'CCHC_DK', '2024S1', 2, x'01', 1, 'INVALID: the report breaks"
            " the rules', '[{\"code\":\"E007\"}]'),"
            " (4, 1, 'refused', 'CCHC_DK', '2024S1', 1, x'01', 1, 'INVALID: the report breaks"
            " the rules', '[{\"code\":\"E007\"},{\"code\":\"E016\"}]'),"
            " (5, 1, 'refused', 'CCHC_DK', '2024Q1', 1, x'01', 1, 'UNIT_MISMATCH: key revoked:"
            " ask the district for a new key', NULL),"
            " (6, 1, 'refused', 'CCHC_DK', '2024Q1', 1, x'01', 1, 'INVALID', 'not json'),"
            " (7, 1, 'queued', 'CCHC_DK', '2024Q3', 1, x'01', 1, NULL, NULL),"
            " (8, 1, 'refused', 'NV_KH', NULL, 1, x'01', 1, 'UNSPECIFIED: Khoá đã bị thu hồi"
            " hoặc hết hạn (key revoked or expired, nothing was stored)', NULL);"
            "UPDATE sqlite_sequence SET seq = 9 WHERE name = 'outbox';"
            "PRAGMA user_version = 3;",
            NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    o = agt_outbox_new(s_path, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(s_insert(o, "NV_KH"), 10);
    agt_outbox_counts_t c;
    assert_int_equal(agt_outbox_counts(o, &c), CCHC_OK);
    assert_int_equal(c.queued, 2);
    assert_int_equal(c.superseded, 1);
    assert_int_equal(c.held, 2);
    assert_int_equal(c.refused, 3);
    agt_outbox_destroy(&o);
    s_pragma("PRAGMA user_version", "4");
    s_pragma("SELECT group_concat(id || ':' || state) FROM (SELECT id, state FROM outbox"
             " ORDER BY id)",
             "1:superseded,2:delivered,3:refused,4:refused,5:held,6:refused,7:queued,8:held,"
             "10:queued");
    s_pragma("SELECT count(*) FROM sqlite_master WHERE name IN ('outbox_queued_key',"
             " 'outbox_state_id_bytes', 'outbox_v4')",
             "2");
}

static void test_bad_file(void **state)
{
    char err[256] = "";
    char path[160];
    snprintf(path, sizeof path, "%s/garbage.db", s_dir);
    FILE *f = fopen(path, "w");
    fputs("this is not an SQLite database, it is a text file that is long enough", f);
    fclose(f);
    agt_outbox_t *o = agt_outbox_new(path, err, sizeof err);
    assert_null(o);
    assert_true(strlen(err) > 0);
    o = agt_outbox_new("/nonexistent-dir/x/outbox.db", err, sizeof err);
    assert_null(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_epoch, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_machine, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_superseded_and_held, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_heads, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_state_table, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v2, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrate_v3, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_file, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
