/* agt_outbox_schema.c: the outbox file's schema and its migrations (see
 * agt_outbox_int.h): what a new file is made with, and the steps that bring
 * the file of an older agent up to date in place. The queue itself is
 * agt_outbox.c's, the notification rows agt_outbox_notif.c's.
 *
 * Versions (PRAGMA user_version): 1 the outbox, its meta (the epoch) and
 * state tables; 2 the unit's synced metadata; 3 the notifications and each
 * row's payload size; 4 the states superseded and held. */
#include "agt_outbox_int.h"

#include "cchc_err.h"
#include "cchc_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define S_SCHEMA_VERSION 4

static const char s_schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created_at INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('queued','delivered','refused')),"
    " report_type TEXT, unit TEXT, period TEXT, subject TEXT, revision INTEGER,"
    " kind TEXT, source TEXT,"
    " payload BLOB NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_sent_at INTEGER, delivered_at INTEGER, server_report_id INTEGER,"
    " reason TEXT, findings TEXT);"
    /* The daemon asks for the oldest queued rows every 500 ms. */
    "CREATE INDEX outbox_state_id ON outbox (state, id);";

/* Version 2: the unit's metadata as last synced from the server (one row). */
static const char s_schema_v2[] = "CREATE TABLE metadata ("
                                  " id INTEGER PRIMARY KEY CHECK (id = 1),"
                                  " version INTEGER NOT NULL,"
                                  " document TEXT NOT NULL,"
                                  " synced_at INTEGER NOT NULL);";

/* Version 3: the unit's notifications as the server pushed them (rows first,
 * by sequence; alerted: 0 pending, 1 on_alert ran, 2 it failed, 3 no command
 * was configured), and each row's payload size, so that the queue's size is
 * read from an index instead of from every payload. */
static const char s_schema_v3[] =
    "CREATE TABLE notifications ("
    " seq INTEGER PRIMARY KEY, kind TEXT, unit TEXT, about TEXT, topic TEXT, dedup_key TEXT,"
    " text_vi TEXT, text_en TEXT, facts TEXT, created_at INTEGER, received_at INTEGER,"
    " alerted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX notifications_pending ON notifications (seq) WHERE alerted = 0;"
    "ALTER TABLE outbox ADD COLUMN payload_bytes INTEGER;"
    "UPDATE outbox SET payload_bytes = length(payload);"
    "DROP INDEX outbox_state_id;"
    "CREATE INDEX outbox_state_id_bytes ON outbox (state, id, payload_bytes);";

/* Version 4: the states superseded and held. SQLite cannot change a CHECK
 * constraint, so the table is rebuilt: same columns, same ids, and the
 * AUTOINCREMENT counter carried over (the server keys reports on
 * (epoch, id): an id must never be used twice). Rows an older agent refused
 * for a revoked key (UNIT_MISMATCH from an older server, or the reason it did
 * not know, KEY_REVOKED, with its detail from a newer one) become held; rows it refused only with
 * E007 while a newer revision of theirs was delivered become superseded. The partial index finds
 * the head of each report key among the queued rows. */
static const char s_schema_v4[] =
    "CREATE TABLE outbox_v4 ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " created_at INTEGER NOT NULL,"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('queued','delivered','refused','superseded','held')),"
    " report_type TEXT, unit TEXT, period TEXT, subject TEXT, revision INTEGER,"
    " kind TEXT, source TEXT,"
    " payload BLOB NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_sent_at INTEGER, delivered_at INTEGER, server_report_id INTEGER,"
    " reason TEXT, findings TEXT, payload_bytes INTEGER);"
    "INSERT INTO outbox_v4 (id, created_at, state, report_type, unit, period, subject, revision,"
    " kind, source, payload, attempts, last_sent_at, delivered_at, server_report_id, reason,"
    " findings, payload_bytes)"
    " SELECT id, created_at, state, report_type, unit, period, subject, revision, kind, source,"
    " payload, attempts, last_sent_at, delivered_at, server_report_id, reason, findings,"
    " payload_bytes FROM outbox;"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v4', 0"
    " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox_v4');"
    "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence"
    " WHERE name = 'outbox'), 0)) WHERE name = 'outbox_v4';"
    "DROP TABLE outbox;"
    "ALTER TABLE outbox_v4 RENAME TO outbox;"
    "CREATE INDEX outbox_state_id_bytes ON outbox (state, id, payload_bytes);"
    "CREATE INDEX outbox_queued_key ON outbox (report_type, unit, period, subject, revision, id)"
    " WHERE state = 'queued';"
    "UPDATE outbox SET state = 'held'"
    " WHERE state = 'refused' AND (reason LIKE 'UNIT_MISMATCH: key revoked%'"
    " OR reason LIKE 'UNSPECIFIED: %(key revoked or expired%');"
    "UPDATE outbox SET state = 'superseded'"
    " WHERE state = 'refused' AND json_valid(findings)"
    " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(outbox.findings)"
    "  THEN outbox.findings ELSE '[]' END) f WHERE json_extract(f.value, '$.code') = 'E007')"
    " AND NOT EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(outbox.findings)"
    "  THEN outbox.findings ELSE '[]' END) f WHERE json_extract(f.value, '$.code') LIKE 'E%'"
    "  AND json_extract(f.value, '$.code') <> 'E007')"
    " AND EXISTS (SELECT 1 FROM outbox n WHERE n.state = 'delivered'"
    "  AND n.report_type IS outbox.report_type AND n.unit IS outbox.unit"
    "  AND n.period IS outbox.period AND n.subject IS outbox.subject"
    "  AND n.revision > outbox.revision);";

/* A random non-zero 64-bit value: getrandom(2), /dev/urandom if that fails. */
static int s_random_u64(uint64_t *out)
{
    uint64_t v = 0;
    while (v == 0) {
        if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v)
            continue;
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return CCHC_EIO;
        ssize_t n = read(fd, &v, sizeof v);
        close(fd);
        if (n != (ssize_t)sizeof v)
            return CCHC_EIO;
    }
    *out = v;
    return CCHC_OK;
}

static int s_user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Creates the version-1 schema and the epoch (a new file). */
static int s_create_v1(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    uint64_t epoch;
    if (s_random_u64(&epoch) != CCHC_OK) {
        snprintf(err, errlen, "%s: no random source for the epoch: %s", path, strerror(errno));
        return CCHC_EIO;
    }
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO meta (key, value) VALUES ('epoch', '%016" PRIx64 "');",
             epoch);
    int rc = sqlite3_exec(db, s_schema_v1, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: could not create the outbox: %s", path, sqlite3_errmsg(db));
        return CCHC_EIO;
    }
    CCHC_LOG(CCHC_LOG_INFO, "outbox_created", "path=\"%s\" epoch=%016" PRIx64, path, epoch);
    return CCHC_OK;
}

/* Brings the schema to S_SCHEMA_VERSION (see agt_outbox_int.h): a new file gets version 1 and then
 * every later step; a file of an older agent gets the steps it lacks, in place
 * (its rows and its epoch are kept). All in one IMMEDIATE transaction, so that
 * two processes opening the file at once migrate it once. */
int agt_outbox_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    int version = 0, from = 0, rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = s_user_version(db, &version);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: could not open the outbox: %s", path, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return CCHC_EIO;
    }
    if (version > S_SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "%s: outbox schema version %d is newer than this cchc-agent (%d): "
                 "upgrade cchc-agent",
                 path, version, S_SCHEMA_VERSION);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return CCHC_EINVAL;
    }
    from = version;
    if (version == 0) {
        int crc = s_create_v1(db, path, err, errlen);
        if (crc != CCHC_OK) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return crc;
        }
        version = 1;
    }
    if (version == 1) {
        rc = sqlite3_exec(db, s_schema_v2, NULL, NULL, NULL);
        version = 2;
    }
    if (rc == SQLITE_OK && version == 2) {
        rc = sqlite3_exec(db, s_schema_v3, NULL, NULL, NULL);
        version = 3;
    }
    if (rc == SQLITE_OK && version == 3) {
        rc = sqlite3_exec(db, s_schema_v4, NULL, NULL, NULL);
        version = 4;
    }
    if (rc == SQLITE_OK && from != version) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: could not migrate the outbox to schema version %d: %s", path,
                 version, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return CCHC_EIO;
    }
    if (from != 0 && from != version)
        CCHC_LOG(CCHC_LOG_INFO, "outbox_migrated", "path=\"%s\" from=%d to=%d", path, from,
                 version);
    return CCHC_OK;
}
