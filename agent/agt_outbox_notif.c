/* agt_outbox_notif.c: the notification rows of the outbox file (see agt_outbox.h).
 *
 * Owns the SQL of the notifications table (schema version 3, created by
 * agt_outbox.c's migration). Notifications are rare and the officer commands
 * run once, so each call prepares its statement and finalizes it: nothing
 * here outlives a call. */
#include "agt_outbox.h"
#include "agt_outbox_int.h"

#include "cchc_err.h"

#include <sqlite3.h>
#include <stddef.h>

#define S_COLUMNS                                                                                  \
    "seq, kind, unit, about, topic, dedup_key, text_vi, text_en, facts, created_at, received_at, " \
    "alerted"

static int s_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s || !*s)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

static const char *s_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

static int s_prepare(agt_outbox_t *self, const char *sql, sqlite3_stmt **st, const char *op)
{
    if (sqlite3_prepare_v2(agt_outbox_db(self), sql, -1, st, NULL) != SQLITE_OK)
        return agt_outbox_fail(self, op);
    return CCHC_OK;
}

int agt_outbox_notif_store(agt_outbox_t *self, const agt_notif_t *n, int *inserted)
{
    sqlite3_stmt *st = NULL;
    int rc = s_prepare(self,
                       "INSERT OR IGNORE INTO notifications (" S_COLUMNS ")"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                       &st, "notif_store");
    if (rc != CCHC_OK)
        return rc;
    int b = sqlite3_bind_int64(st, 1, n->seq);
    const char *texts[] = {n->kind,      n->unit,    n->about,   n->topic,
                           n->dedup_key, n->text_vi, n->text_en, n->facts};
    for (int i = 0; b == SQLITE_OK && i < 8; i++)
        b = s_bind_text(st, 2 + i, texts[i]);
    if (b == SQLITE_OK)
        b = sqlite3_bind_int64(st, 10, n->created_at);
    if (b == SQLITE_OK)
        b = sqlite3_bind_int64(st, 11, n->received_at);
    if (b == SQLITE_OK)
        b = sqlite3_bind_int(st, 12, n->alerted);
    if (b == SQLITE_OK)
        b = sqlite3_step(st);
    if (b != SQLITE_DONE)
        rc = agt_outbox_fail(self, "notif_store");
    else if (inserted)
        *inserted = sqlite3_changes(agt_outbox_db(self)) > 0;
    sqlite3_finalize(st);
    return rc;
}

int agt_outbox_notif_stats(agt_outbox_t *self, int64_t *count, int64_t *max_seq)
{
    sqlite3_stmt *st = NULL;
    int rc = s_prepare(self, "SELECT count(*), coalesce(max(seq), 0) FROM notifications", &st,
                       "notif_stats");
    if (rc != CCHC_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (count)
            *count = sqlite3_column_int64(st, 0);
        if (max_seq)
            *max_seq = sqlite3_column_int64(st, 1);
    } else {
        rc = agt_outbox_fail(self, "notif_stats");
    }
    sqlite3_finalize(st);
    return rc;
}

int agt_outbox_notif_list(agt_outbox_t *self, int pending_only, int64_t limit, agt_notif_fn fn,
                          void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc = s_prepare(self,
                       pending_only ? "SELECT " S_COLUMNS " FROM notifications WHERE alerted = 0"
                                      " ORDER BY seq LIMIT ?1"
                                    : "SELECT " S_COLUMNS " FROM notifications"
                                      " ORDER BY seq DESC LIMIT ?1",
                       &st, "notif_list");
    if (rc != CCHC_OK)
        return rc;
    int s = sqlite3_bind_int64(st, 1, limit < 0 ? -1 : limit);
    while (s == SQLITE_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        agt_notif_t n = {
            .seq = sqlite3_column_int64(st, 0),
            .kind = s_text(st, 1),
            .unit = s_text(st, 2),
            .about = s_text(st, 3),
            .topic = s_text(st, 4),
            .dedup_key = s_text(st, 5),
            .text_vi = s_text(st, 6),
            .text_en = s_text(st, 7),
            .facts = s_text(st, 8),
            .created_at = sqlite3_column_int64(st, 9),
            .received_at = sqlite3_column_int64(st, 10),
            .alerted = sqlite3_column_int(st, 11),
        };
        if (fn(&n, arg) != 0) {
            s = SQLITE_DONE;
            break;
        }
        s = SQLITE_OK;
    }
    if (s != SQLITE_DONE)
        rc = agt_outbox_fail(self, "notif_list");
    sqlite3_finalize(st);
    return rc;
}

int agt_outbox_notif_mark(agt_outbox_t *self, int64_t seq, int alerted)
{
    sqlite3_stmt *st = NULL;
    int rc =
        s_prepare(self, "UPDATE notifications SET alerted = ?2 WHERE seq = ?1", &st, "notif_mark");
    if (rc != CCHC_OK)
        return rc;
    int s = sqlite3_bind_int64(st, 1, seq);
    if (s == SQLITE_OK)
        s = sqlite3_bind_int(st, 2, alerted);
    if (s == SQLITE_OK)
        s = sqlite3_step(st);
    if (s != SQLITE_DONE)
        rc = agt_outbox_fail(self, "notif_mark");
    else if (sqlite3_changes(agt_outbox_db(self)) == 0)
        rc = CCHC_ENOTFOUND;
    sqlite3_finalize(st);
    return rc;
}
