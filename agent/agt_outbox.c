/* agt_outbox.c: the SQLite outbox (see agt_outbox.h).
 *
 * Owns the database handle, the outbox epoch, the unit's synced metadata (one
 * row) and every prepared statement of the queue. The schema and its
 * migrations are agt_outbox_schema.c's, the notification rows
 * agt_outbox_notif.c's. Statements are prepared once at open and then bound,
 * stepped and reset; nothing else in the agent builds SQL.
 *
 * Row lifecycle. A row is born queued. Delivered, refused and superseded are
 * final: a row in them is never sent again (the UPDATEs all say
 * "WHERE state = 'queued'", so a late duplicate answer changes nothing).
 * Held is the one state a row comes back from: it waits for a new key.
 * Only the head of a report key (the queued row of its type, unit, period
 * and subject with the lowest revision) is offered for sending, so an older
 * revision never overtakes a newer one on the wire (agt_window keeps one
 * row of a key in flight at most). The table: */
/* clang-format off */
/*
 *   state      event                                     next        function
 *   ---------  ----------------------------------------  ----------  --------------------------
 *   (none)     officer submits a valid report            queued      agt_outbox_insert(_capped)
 *   (none)     ... but the queue is at its cap           (none)      agt_outbox_insert_capped
 *   queued     head of its report key, window has room   queued      agt_outbox_queued_heads
 *   queued     sent or resent (window, timer)            queued      agt_outbox_mark_sent
 *   queued     Nack with a transient reason              queued      (none: agt_link backs off)
 *   queued     no answer before the timeout              queued      (none: agt_link resends)
 *   queued     Ack (epoch and msg_id match)              delivered   agt_outbox_mark_delivered
 *   queued     Nack INVALID whose only error is E007     superseded  agt_outbox_mark_superseded
 *              and a newer revision is stored
 *   queued     Nack KEY_REVOKED (key revoked, expired)   held        agt_outbox_mark_held
 *   queued     Nack with another permanent reason        refused     agt_outbox_mark_refused
 *   queued     payload cannot be sent at all             refused     agt_outbox_mark_refused
 *   held       the daemon starts with another key        queued      agt_outbox_key_changed
 *   delivered  (final: kept for status)                  -           -
 *   refused    (final: shown with its reasons, to fix)   -           -
 *   superseded (final: shown apart, nothing to fix)      -           -
 */
/* clang-format on */
#include "agt_outbox.h"
#include "agt_outbox_int.h"

#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define S_ROW_COLUMNS                                                                              \
    "id, created_at, state, report_type, unit, period, subject, kind, source, revision, "          \
    "attempts, last_sent_at, delivered_at, server_report_id, reason, findings"

enum {
    ST_INSERT,
    ST_QUEUED_IDS,
    ST_QUEUED_HEADS,
    ST_QUEUED_SIZE,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_DATA_VERSION,
    ST_QUEUED_COUNT,
    ST_PAYLOAD,
    ST_MARK_SENT,
    ST_MARK_DELIVERED,
    ST_MARK_REFUSED,
    ST_MARK_SUPERSEDED,
    ST_MARK_HELD,
    ST_NEWER_STORED,
    ST_REQUEUE_HELD,
    ST_COUNTS,
    ST_LIST_ASC,
    ST_LIST_DESC,
    ST_STATE_SET,
    ST_STATE_DEL,
    ST_STATE_GET,
    ST_META_SAVE,
    ST_META_TOUCH,
    ST_META_LOAD,
    ST_COUNT_
};

static const char *const s_sql[ST_COUNT_] = {
    [ST_INSERT] = "INSERT INTO outbox (created_at, state, report_type, unit, period, subject,"
                  " revision, kind, source, payload, payload_bytes) VALUES (?1, 'queued', ?2, ?3,"
                  " ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_QUEUED_IDS] = "SELECT id FROM outbox WHERE state = 'queued' ORDER BY id LIMIT ?1",
    /* A queued row is a head when no queued row of its report key comes before
     * it by (revision, id); the subquery is a lookup in outbox_queued_key. */
    [ST_QUEUED_HEADS] =
        "SELECT o.id, o.payload_bytes, o.report_type, o.unit, o.period, o.subject FROM outbox o"
        " WHERE o.state = 'queued' AND NOT EXISTS (SELECT 1 FROM outbox p"
        " WHERE p.state = 'queued' AND p.report_type IS o.report_type AND p.unit IS o.unit"
        " AND p.period IS o.period AND p.subject IS o.subject AND (p.revision < o.revision"
        " OR (p.revision = o.revision AND p.id < o.id))) ORDER BY o.id LIMIT ?1",
    [ST_QUEUED_SIZE] = "SELECT count(*), coalesce(sum(payload_bytes), 0) FROM outbox"
                       " WHERE state = 'queued'",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_QUEUED_COUNT] = "SELECT count(*) FROM outbox WHERE state = 'queued'",
    [ST_PAYLOAD] = "SELECT payload FROM outbox WHERE id = ?1 AND state = 'queued'",
    [ST_MARK_SENT] = "UPDATE outbox SET attempts = attempts + 1, last_sent_at = ?2"
                     " WHERE id = ?1 AND state = 'queued'",
    [ST_MARK_DELIVERED] = "UPDATE outbox SET state = 'delivered', delivered_at = ?2,"
                          " server_report_id = ?3, findings = ?4"
                          " WHERE id = ?1 AND state = 'queued'",
    [ST_MARK_REFUSED] = "UPDATE outbox SET state = 'refused', reason = ?2, findings = ?3"
                        " WHERE id = ?1 AND state = 'queued'",
    [ST_MARK_SUPERSEDED] = "UPDATE outbox SET state = 'superseded', reason = ?2, findings = ?3"
                           " WHERE id = ?1 AND state = 'queued'",
    [ST_MARK_HELD] = "UPDATE outbox SET state = 'held', reason = ?2, findings = NULL"
                     " WHERE id = ?1 AND state = 'queued'",
    [ST_NEWER_STORED] =
        "SELECT ?2 > o.revision OR EXISTS (SELECT 1 FROM outbox n WHERE n.state = 'delivered'"
        " AND n.report_type IS o.report_type AND n.unit IS o.unit AND n.period IS o.period"
        " AND n.subject IS o.subject AND n.revision > o.revision) FROM outbox o WHERE o.id = ?1",
    [ST_REQUEUE_HELD] = "UPDATE outbox SET state = 'queued', reason = NULL WHERE state = 'held'",
    [ST_COUNTS] =
        "SELECT coalesce(sum(state = 'queued'), 0), coalesce(sum(state = 'delivered'), 0),"
        " coalesce(sum(state = 'refused'), 0), coalesce(sum(state = 'superseded'), 0),"
        " coalesce(sum(state = 'held'), 0),"
        " coalesce(min(CASE WHEN state = 'queued' THEN created_at END), 0),"
        " coalesce(sum(CASE WHEN state = 'queued' THEN payload_bytes END), 0) FROM outbox",
    [ST_LIST_ASC] = "SELECT " S_ROW_COLUMNS " FROM outbox WHERE ?1 IS NULL OR state = ?1"
                    " ORDER BY id LIMIT ?2",
    [ST_LIST_DESC] = "SELECT " S_ROW_COLUMNS " FROM outbox WHERE ?1 IS NULL OR state = ?1"
                     " ORDER BY id DESC LIMIT ?2",
    [ST_STATE_SET] = "INSERT INTO state (key, value) VALUES (?1, ?2)"
                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_STATE_DEL] = "DELETE FROM state WHERE key = ?1",
    [ST_STATE_GET] = "SELECT value FROM state WHERE key = ?1",
    [ST_META_SAVE] =
        "INSERT INTO metadata (id, version, document, synced_at) VALUES (1, ?1, ?2, ?3)"
        " ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
        " document = excluded.document, synced_at = excluded.synced_at",
    [ST_META_TOUCH] = "UPDATE metadata SET synced_at = ?1 WHERE id = 1",
    [ST_META_LOAD] = "SELECT version, document, synced_at FROM metadata WHERE id = 1",
};

struct agt_outbox_t {
    sqlite3 *db;
    char *path;
    uint64_t epoch;
    sqlite3_stmt *st[ST_COUNT_];
    /* The queue's size as of PRAGMA data_version `seen` (valid if `known`):
     * while no other connection commits, a bulk submit need not scan the
     * queue again for every file. */
    int known;
    int64_t seen;
    agt_outbox_size_t queued;
    int watch_fd; /* inotify on the file's directory, -1 until asked for or when refused */
    int watch_tried;
};

/* Logs the connection's last error once and maps it: a busy or locked file is
 * worth retrying (another process holds it for longer than busy_timeout). */
static int s_fail(agt_outbox_t *self, const char *op)
{
    int code = sqlite3_errcode(self->db);
    CCHC_LOG(CCHC_LOG_ERROR, "outbox_error", "op=%s path=\"%s\" err=\"%s\"", op, self->path,
             sqlite3_errmsg(self->db));
    code &= 0xff;
    return (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? CCHC_EAGAIN : CCHC_EIO;
}

sqlite3 *agt_outbox_db(agt_outbox_t *self)
{
    return self->db;
}

int agt_outbox_fail(agt_outbox_t *self, const char *op)
{
    return s_fail(self, op);
}

/* Ends a use of a prepared statement so it can be bound again. Its return
 * code repeats the step's, which the caller has already checked. */
static void s_done(sqlite3_stmt *st)
{
    (void)sqlite3_reset(st);
    (void)sqlite3_clear_bindings(st);
}

static int s_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s || !*s)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

static const char *s_col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/* Runs one PRAGMA that answers a single value and checks the answer (NULL:
 * any answer). */
static int s_pragma(agt_outbox_t *self, const char *sql, const char *want, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(self->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
            const char *got = rc == SQLITE_ROW ? s_col_text(st, 0) : NULL;
            rc = SQLITE_OK;
            if (want && (!got || strcmp(got, want) != 0)) {
                snprintf(err, errlen, "%s: %s answered \"%s\", expected \"%s\"", self->path, sql,
                         got ? got : "", want);
                sqlite3_finalize(st);
                return CCHC_EIO;
            }
        }
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "%s: %s: %s", self->path, sql, sqlite3_errmsg(self->db));
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? CCHC_OK : CCHC_EIO;
}

static int s_read_epoch(agt_outbox_t *self, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    const char *text = NULL;
    int rc =
        sqlite3_prepare_v2(self->db, "SELECT value FROM meta WHERE key = 'epoch'", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        text = s_col_text(st, 0);
    char *end = NULL;
    errno = 0;
    uint64_t epoch = text ? strtoull(text, &end, 16) : 0;
    if (!text || strlen(text) != 16 || *end != '\0' || errno != 0 || epoch == 0) {
        snprintf(err, errlen, "%s: the outbox has no valid epoch (meta.epoch \"%s\")", self->path,
                 text ? text : "");
        sqlite3_finalize(st);
        return CCHC_EINVAL;
    }
    self->epoch = epoch;
    sqlite3_finalize(st);
    return CCHC_OK;
}

agt_outbox_t *agt_outbox_new(const char *path, char *err, size_t errlen)
{
    agt_outbox_t *self = cchc_calloc(1, sizeof *self);
    self->path = cchc_strdup(path);
    self->watch_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &self->db, flags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: could not open: %s", path,
                 self->db ? sqlite3_errmsg(self->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(self->db, 1);
    /* A small lookaside (16 kB instead of 120): the daemon stays on small
     * machines for months; its statements are few and simple. */
    sqlite3_db_config(self->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 512, 32);
    if (s_pragma(self, "PRAGMA busy_timeout = 5000", NULL, err, errlen) != CCHC_OK ||
        s_pragma(self, "PRAGMA journal_mode = WAL", "wal", err, errlen) != CCHC_OK ||
        s_pragma(self, "PRAGMA synchronous = FULL", NULL, err, errlen) != CCHC_OK ||
        s_pragma(self, "PRAGMA foreign_keys = ON", NULL, err, errlen) != CCHC_OK)
        goto fail;
    if (agt_outbox_schema_migrate(self->db, self->path, err, errlen) != CCHC_OK ||
        s_read_epoch(self, err, errlen) != CCHC_OK)
        goto fail;
    /* Every statement is checked now, and prepared again when first used. */
    for (int i = 0; i < ST_COUNT_; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(self->db, s_sql[i], -1, &st, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: could not prepare statement %d: %s", path, i,
                     sqlite3_errmsg(self->db));
            goto fail;
        }
        sqlite3_finalize(st);
    }
    return self;
fail:
    agt_outbox_destroy(&self);
    return NULL;
}

void agt_outbox_destroy(agt_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    agt_outbox_t *self = *self_p;
    for (int i = ST_COUNT_ - 1; i >= 0; i--)
        sqlite3_finalize(self->st[i]);
    if (self->db && sqlite3_close(self->db) != SQLITE_OK)
        CCHC_LOG(CCHC_LOG_WARN, "outbox_close", "path=\"%s\" err=\"%s\"", self->path,
                 sqlite3_errmsg(self->db));
    if (self->watch_fd >= 0)
        close(self->watch_fd);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* ---- the watch ------------------------------------------------------------------------------- */

int agt_outbox_watch_fd(agt_outbox_t *self)
{
    if (self->watch_tried)
        return self->watch_fd;
    self->watch_tried = 1;
    char *dir = cchc_strdup(self->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd >= 0 &&
        inotify_add_watch(fd, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        CCHC_LOG(CCHC_LOG_INFO, "outbox_watch_unavailable", "dir=\"%s\" err=\"%s\"", dir,
                 strerror(errno));
    free(dir);
    self->watch_fd = fd;
    return fd;
}

int agt_outbox_watch_changed(agt_outbox_t *self)
{
    if (self->watch_fd < 0)
        return 0;
    const char *base = strrchr(self->path, '/');
    base = base ? base + 1 : self->path;
    size_t blen = strlen(base);
    int changed = 0;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(self->watch_fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            /* the file, its -wal or -journal (-shm changes by mmap, unseen,
             * and on every read); another file of the directory is not ours */
            if (ev->len && strncmp(ev->name, base, blen) == 0 &&
                (strcmp(ev->name + blen, "") == 0 || strcmp(ev->name + blen, "-wal") == 0 ||
                 strcmp(ev->name + blen, "-journal") == 0))
                changed = 1;
            if (ev->mask & IN_Q_OVERFLOW)
                changed = 1;
            p += sizeof *ev + ev->len;
        }
    }
    return changed;
}

uint64_t agt_outbox_epoch(const agt_outbox_t *self)
{
    return self->epoch;
}

const char *agt_outbox_path(const agt_outbox_t *self)
{
    return self->path;
}

/* Statement which, prepared on first use: the daemon uses few of them, and
 * each costs memory for as long as the outbox is open (agt_outbox_new has
 * checked them all). NULL after logging when SQLite refuses. */
static sqlite3_stmt *s_st(agt_outbox_t *self, int which)
{
    if (!self->st[which] &&
        sqlite3_prepare_v3(self->db, s_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &self->st[which],
                           NULL) != SQLITE_OK) {
        CCHC_LOG(CCHC_LOG_ERROR, "outbox_prepare", "path=\"%s\" statement=%d err=\"%s\"",
                 self->path, which, sqlite3_errmsg(self->db));
        self->st[which] = NULL;
    }
    return self->st[which];
}

/* Runs a statement that answers one row of integers into out[0..n). */
static int s_ints(agt_outbox_t *self, int which, const char *op, int64_t *out, int n)
{
    sqlite3_stmt *st = s_st(self, which);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = s_fail(self, op);
        s_done(st);
        return rc;
    }
    for (int i = 0; i < n; i++)
        out[i] = sqlite3_column_int64(st, i);
    s_done(st);
    return CCHC_OK;
}

static int s_queued_size(agt_outbox_t *self, agt_outbox_size_t *out)
{
    int64_t v[2] = {0, 0};
    int rc = s_ints(self, ST_QUEUED_SIZE, "queued_size", v, 2);
    if (rc == CCHC_OK)
        *out = (agt_outbox_size_t){v[0], v[1]};
    return rc;
}

int agt_outbox_queued_size(agt_outbox_t *self, agt_outbox_size_t *out)
{
    return s_queued_size(self, out);
}

/* FNV-1a over the four columns of a report key, each ended by a NUL (a NULL
 * column by a 0x01 instead): equal keys give equal hashes. */
static uint64_t s_key_hash(sqlite3_stmt *st, int first)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int c = first; c < first + 4; c++) {
        const unsigned char *t = sqlite3_column_text(st, c);
        for (const unsigned char *p = t; p && *p; p++)
            h = (h ^ *p) * 0x100000001b3ULL;
        h = (h ^ (t ? 0x00 : 0x01)) * 0x100000001b3ULL;
    }
    return h;
}

int agt_outbox_queued_heads(agt_outbox_t *self, int64_t *ids, int64_t *bytes, uint64_t *keys,
                            size_t max, size_t *n_out)
{
    sqlite3_stmt *st = s_st(self, ST_QUEUED_HEADS);
    if (!st)
        return CCHC_EIO;
    size_t n = 0;
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
            ids[n] = sqlite3_column_int64(st, 0);
            bytes[n] = sqlite3_column_int64(st, 1);
            keys[n++] = s_key_hash(st, 2);
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = s_fail(self, "queued_heads");
        s_done(st);
        return rc;
    }
    s_done(st);
    *n_out = n;
    return CCHC_OK;
}

/* Binds and steps the INSERT (inside the caller's transaction, if any). */
static int s_insert_row(agt_outbox_t *self, const agt_outbox_entry_t *e, int64_t now_ms,
                        int64_t *id_out)
{
    sqlite3_stmt *st = s_st(self, ST_INSERT);
    if (!st)
        return CCHC_EIO;
    int rc = SQLITE_OK;
    /* A zero-length blob would bind as NULL and break NOT NULL: refuse it here. */
    if (!e->payload || e->payload_len == 0 || e->payload_len > INT32_MAX)
        return CCHC_EINVAL;
    if (sqlite3_bind_int64(st, 1, now_ms) != SQLITE_OK ||
        s_bind_text(st, 2, e->report_type) != SQLITE_OK ||
        s_bind_text(st, 3, e->unit) != SQLITE_OK || s_bind_text(st, 4, e->period) != SQLITE_OK ||
        s_bind_text(st, 5, e->subject) != SQLITE_OK ||
        sqlite3_bind_int64(st, 6, e->revision) != SQLITE_OK ||
        s_bind_text(st, 7, e->kind) != SQLITE_OK || s_bind_text(st, 8, e->source) != SQLITE_OK ||
        sqlite3_bind_blob(st, 9, e->payload, (int)e->payload_len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 10, (sqlite3_int64)e->payload_len) != SQLITE_OK)
        rc = SQLITE_ERROR;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = s_fail(self, "insert");
        s_done(st);
        return rc;
    }
    *id_out = sqlite3_last_insert_rowid(self->db);
    s_done(st);
    return CCHC_OK;
}

int agt_outbox_insert(agt_outbox_t *self, const agt_outbox_entry_t *e, int64_t now_ms,
                      int64_t *id_out)
{
    self->known = 0;
    return s_insert_row(self, e, now_ms, id_out);
}

/* Steps a statement that takes no parameters and answers no rows. */
static int s_exec(agt_outbox_t *self, int which, const char *op)
{
    sqlite3_stmt *st = s_st(self, which);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        rc = s_fail(self, op);
        s_done(st);
        return rc;
    }
    s_done(st);
    return CCHC_OK;
}

int agt_outbox_insert_capped(agt_outbox_t *self, const agt_outbox_entry_t *e, int64_t now_ms,
                             const agt_outbox_size_t *cap, int64_t *id_out,
                             agt_outbox_size_t *queued_out)
{
    agt_outbox_size_t q = {0, 0};
    if (!e->payload || e->payload_len == 0 || e->payload_len > INT32_MAX)
        return CCHC_EINVAL;
    int rc = s_exec(self, ST_BEGIN, "begin");
    if (rc != CCHC_OK)
        return rc;
    /* Another connection's commit (the daemon, another submit) changes
     * data_version; our own do not, so the size we left is still exact. */
    int64_t dv = -1;
    rc = s_ints(self, ST_DATA_VERSION, "data_version", &dv, 1);
    if (rc == CCHC_OK && self->known && dv == self->seen)
        q = self->queued;
    else if (rc == CCHC_OK)
        rc = s_queued_size(self, &q);
    self->known = 0;
    if (queued_out)
        *queued_out = q;
    if (rc == CCHC_OK &&
        (q.reports + 1 > cap->reports || q.bytes + (int64_t)e->payload_len > cap->bytes))
        rc = CCHC_EFULL;
    if (rc == CCHC_OK)
        rc = s_insert_row(self, e, now_ms, id_out);
    if (rc == CCHC_OK)
        rc = s_exec(self, ST_COMMIT, "commit");
    if (rc == CCHC_OK || rc == CCHC_EFULL) {
        self->known = 1;
        self->seen = dv;
        self->queued = q;
        if (rc == CCHC_OK) {
            self->queued.reports += 1;
            self->queued.bytes += (int64_t)e->payload_len;
        }
    }
    if (rc != CCHC_OK && sqlite3_get_autocommit(self->db) == 0)
        (void)s_exec(self, ST_ROLLBACK, "rollback");
    return rc;
}

int agt_outbox_queued_ids(agt_outbox_t *self, int64_t *ids, size_t max, size_t *n_out)
{
    sqlite3_stmt *st = s_st(self, ST_QUEUED_IDS);
    if (!st)
        return CCHC_EIO;
    size_t n = 0;
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
            ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = s_fail(self, "queued_ids");
        s_done(st);
        return rc;
    }
    s_done(st);
    *n_out = n;
    return CCHC_OK;
}

int agt_outbox_queued_count(agt_outbox_t *self, int64_t *n_out)
{
    return s_ints(self, ST_QUEUED_COUNT, "queued_count", n_out, 1);
}

int agt_outbox_counts(agt_outbox_t *self, agt_outbox_counts_t *out)
{
    int64_t v[7];
    int rc = s_ints(self, ST_COUNTS, "counts", v, 7);
    if (rc != CCHC_OK)
        return rc;
    out->queued = v[0];
    out->delivered = v[1];
    out->refused = v[2];
    out->superseded = v[3];
    out->held = v[4];
    out->oldest_queued_at = v[5];
    out->queued_bytes = v[6];
    return CCHC_OK;
}

int agt_outbox_payload(agt_outbox_t *self, int64_t id, uint8_t **buf_p, size_t *len_p)
{
    sqlite3_stmt *st = s_st(self, ST_PAYLOAD);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        s_done(st);
        return CCHC_ENOTFOUND;
    }
    if (rc != SQLITE_ROW) {
        rc = s_fail(self, "payload");
        s_done(st);
        return rc;
    }
    const void *blob = sqlite3_column_blob(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    if (!blob || len <= 0) {
        s_done(st);
        return CCHC_EMALFORMED;
    }
    *buf_p = cchc_malloc((size_t)len);
    memcpy(*buf_p, blob, (size_t)len);
    *len_p = (size_t)len;
    s_done(st);
    return CCHC_OK;
}

/* Steps an UPDATE bound by the caller; ENOTFOUND when no queued row matched. */
static int s_update(agt_outbox_t *self, sqlite3_stmt *st, int bind_rc, const char *op)
{
    int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
    self->known = 0; /* a queued row may have left the queue */
    if (rc != SQLITE_DONE) {
        rc = s_fail(self, op);
        s_done(st);
        return rc;
    }
    int changed = sqlite3_changes(self->db);
    s_done(st);
    return changed > 0 ? CCHC_OK : CCHC_ENOTFOUND;
}

int agt_outbox_mark_sent(agt_outbox_t *self, int64_t id, int64_t now_ms)
{
    sqlite3_stmt *st = s_st(self, ST_MARK_SENT);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, now_ms);
    return s_update(self, st, rc, "mark_sent");
}

int agt_outbox_mark_delivered(agt_outbox_t *self, int64_t id, int64_t now_ms,
                              int64_t server_report_id, const char *findings)
{
    sqlite3_stmt *st = s_st(self, ST_MARK_DELIVERED);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, now_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, server_report_id);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 4, findings);
    return s_update(self, st, rc, "mark_delivered");
}

int agt_outbox_mark_refused(agt_outbox_t *self, int64_t id, const char *reason,
                            const char *findings)
{
    sqlite3_stmt *st = s_st(self, ST_MARK_REFUSED);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 2, reason);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 3, findings);
    return s_update(self, st, rc, "mark_refused");
}

int agt_outbox_mark_superseded(agt_outbox_t *self, int64_t id, const char *reason,
                               const char *findings)
{
    sqlite3_stmt *st = s_st(self, ST_MARK_SUPERSEDED);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 2, reason);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 3, findings);
    return s_update(self, st, rc, "mark_superseded");
}

int agt_outbox_mark_held(agt_outbox_t *self, int64_t id, const char *reason)
{
    sqlite3_stmt *st = s_st(self, ST_MARK_HELD);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = s_bind_text(st, 2, reason);
    return s_update(self, st, rc, "mark_held");
}

int agt_outbox_newer_stored(agt_outbox_t *self, int64_t id, int64_t stored_revision, int *newer)
{
    sqlite3_stmt *st = s_st(self, ST_NEWER_STORED);
    if (!st)
        return CCHC_EIO;
    *newer = 0;
    int rc = sqlite3_bind_int64(st, 1, id);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, stored_revision);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *newer = sqlite3_column_int(st, 0) != 0;
        rc = CCHC_OK;
    } else if (rc == SQLITE_DONE) {
        rc = CCHC_ENOTFOUND;
    } else {
        rc = s_fail(self, "newer_stored");
    }
    s_done(st);
    return rc;
}

int agt_outbox_key_changed(agt_outbox_t *self, const char *public_key, int *changed,
                           int64_t *requeued)
{
    char *was = NULL;
    int differs = 0;
    int64_t moved = 0;
    int rc = s_exec(self, ST_BEGIN, "begin");
    if (rc != CCHC_OK)
        return rc;
    rc = agt_outbox_state_get(self, AGT_OUTBOX_AGENT_KEY, &was);
    differs = rc == CCHC_OK && (!was || strcmp(was, public_key) != 0);
    if (differs) {
        rc = s_exec(self, ST_REQUEUE_HELD, "requeue_held");
        moved = rc == CCHC_OK ? sqlite3_changes(self->db) : 0;
        self->known = 0;
    }
    if (differs && rc == CCHC_OK)
        rc = agt_outbox_state_set(self, AGT_OUTBOX_AGENT_KEY, public_key);
    if (rc == CCHC_OK)
        rc = s_exec(self, ST_COMMIT, "commit");
    if (rc != CCHC_OK && sqlite3_get_autocommit(self->db) == 0) {
        (void)s_exec(self, ST_ROLLBACK, "rollback");
        differs = 0;
        moved = 0;
    }
    free(was);
    if (changed)
        *changed = differs;
    if (requeued)
        *requeued = moved;
    return rc;
}

int agt_outbox_list(agt_outbox_t *self, const char *state, int newest_first, int64_t limit,
                    agt_outbox_row_fn fn, void *arg)
{
    sqlite3_stmt *st = s_st(self, newest_first ? ST_LIST_DESC : ST_LIST_ASC);
    if (!st)
        return CCHC_EIO;
    int rc = s_bind_text(st, 1, state);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, limit < 0 ? -1 : limit);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            agt_outbox_row_t row = {
                .id = sqlite3_column_int64(st, 0),
                .created_at = sqlite3_column_int64(st, 1),
                .state = s_col_text(st, 2),
                .report_type = s_col_text(st, 3),
                .unit = s_col_text(st, 4),
                .period = s_col_text(st, 5),
                .subject = s_col_text(st, 6),
                .kind = s_col_text(st, 7),
                .source = s_col_text(st, 8),
                .revision = sqlite3_column_int64(st, 9),
                .attempts = sqlite3_column_int64(st, 10),
                .last_sent_at = sqlite3_column_int64(st, 11),
                .delivered_at = sqlite3_column_int64(st, 12),
                .server_report_id = sqlite3_column_int64(st, 13),
                .reason = s_col_text(st, 14),
                .findings = s_col_text(st, 15),
            };
            if (fn(&row, arg) != 0) {
                rc = SQLITE_DONE;
                break;
            }
        }
    }
    if (rc != SQLITE_DONE) {
        rc = s_fail(self, "list");
        s_done(st);
        return rc;
    }
    s_done(st);
    return CCHC_OK;
}

int agt_outbox_state_set(agt_outbox_t *self, const char *key, const char *value)
{
    sqlite3_stmt *st = s_st(self, value ? ST_STATE_SET : ST_STATE_DEL);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK && value)
        rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    rc = s_update(self, st, rc, "state_set");
    /* Deleting an absent key is not a failure. */
    return rc == CCHC_ENOTFOUND ? CCHC_OK : rc;
}

int agt_outbox_state_get(agt_outbox_t *self, const char *key, char **value_p)
{
    sqlite3_stmt *st = s_st(self, ST_STATE_GET);
    if (!st)
        return CCHC_EIO;
    *value_p = NULL;
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = s_col_text(st, 0);
        *value_p = v ? cchc_strdup(v) : NULL;
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        rc = s_fail(self, "state_get");
        s_done(st);
        return rc;
    }
    s_done(st);
    return CCHC_OK;
}

int agt_outbox_meta_save(agt_outbox_t *self, uint64_t version, const char *document,
                         int64_t synced_at)
{
    sqlite3_stmt *st = s_st(self, ST_META_SAVE);
    if (!st)
        return CCHC_EIO;
    /* The version is a 64-bit hash: stored as the signed integer of its bits. */
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, document ? document : "{}", -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, synced_at);
    return s_update(self, st, rc, "meta_save");
}

int agt_outbox_meta_touch(agt_outbox_t *self, int64_t synced_at)
{
    sqlite3_stmt *st = s_st(self, ST_META_TOUCH);
    if (!st)
        return CCHC_EIO;
    int rc = sqlite3_bind_int64(st, 1, synced_at);
    return s_update(self, st, rc, "meta_touch");
}

int agt_outbox_meta_load(agt_outbox_t *self, uint64_t *version, char **document_p,
                         int64_t *synced_at)
{
    sqlite3_stmt *st = s_st(self, ST_META_LOAD);
    if (!st)
        return CCHC_EIO;
    if (document_p)
        *document_p = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        s_done(st);
        return CCHC_ENOTFOUND;
    }
    if (rc != SQLITE_ROW) {
        rc = s_fail(self, "meta_load");
        s_done(st);
        return rc;
    }
    if (version)
        *version = (uint64_t)sqlite3_column_int64(st, 0);
    if (document_p) {
        const char *doc = s_col_text(st, 1);
        *document_p = cchc_strdup(doc ? doc : "{}");
    }
    if (synced_at)
        *synced_at = sqlite3_column_int64(st, 2);
    s_done(st);
    return CCHC_OK;
}
