/* agt_outbox.h: the agent's SQLite outbox, the only code that touches SQLite.
 *
 * Every report an officer submits is a row here before the officer is told
 * "saved"; the daemon (agt_link) sends queued rows and records the server's
 * answer on them. Two processes (submit while run is running) may hold the
 * file at once: WAL and a busy timeout make that safe. The row lifecycle is
 * documented in agt_outbox.c. All functions return 0 or a negative CCHC_E*
 * code, and log the SQLite error once (event=outbox_error). */
#ifndef AGT_OUTBOX_H
#define AGT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

typedef struct agt_outbox_t agt_outbox_t;

#define AGT_OUTBOX_QUEUED "queued"
#define AGT_OUTBOX_DELIVERED "delivered"
#define AGT_OUTBOX_REFUSED "refused"
#define AGT_OUTBOX_SUPERSEDED "superseded" /* refused only because a newer one is stored */
#define AGT_OUTBOX_HELD "held"             /* refused for this agent's key: goes out again */

/* Keys of the small state table. */
#define AGT_OUTBOX_LAST_CONTACT "last_contact_ms"
#define AGT_OUTBOX_LAST_ERROR "last_error"
/* While no connection works: a JSON object {"since_ms", "endpoint",
 * "attempts", "last_attempt_ms", "endpoints"} (agt_endpoints writes it,
 * status reads it); absent once connected. */
#define AGT_OUTBOX_UNREACHABLE "unreachable"
/* The server the daemon is connected to or last tried: a JSON object
 * {"endpoint", "connected", "since_ms", "endpoints", and "last_attempt_ms",
 * "stopped_ms" when known} (agt_endpoints writes it, status reads it). */
#define AGT_OUTBOX_SERVER "server"
/* The public key (Z85) the daemon last ran with (agt_outbox_key_changed). */
#define AGT_OUTBOX_AGENT_KEY "agent_public_key"

/* What submit queues. Strings may be NULL or empty (stored as NULL). */
typedef struct {
    const char *report_type;
    const char *unit;
    const char *period;
    const char *subject; /* the inspection or task a report answers */
    int64_t revision;
    const char *kind;       /* periodic | remediation | task_progress */
    const char *source;     /* the file's name, for the officer */
    const uint8_t *payload; /* the packed Report (cchc_wire_pack_report) */
    size_t payload_len;
} agt_outbox_entry_t;

/* One row as listed; every pointer is borrowed and valid only during the
 * callback. Absent numbers are 0, absent text is NULL. */
typedef struct {
    int64_t id;
    int64_t created_at;
    const char *state;
    const char *report_type, *unit, *period, *subject, *kind, *source;
    int64_t revision;
    int64_t attempts;
    int64_t last_sent_at;
    int64_t delivered_at;
    int64_t server_report_id;
    const char *reason;
    const char *findings; /* JSON array text */
} agt_outbox_row_t;

typedef struct {
    int64_t queued, delivered, refused, superseded, held;
    int64_t oldest_queued_at; /* created_at of the oldest queued row; 0 if none */
    int64_t queued_bytes;     /* payload bytes of the queued rows */
} agt_outbox_counts_t;

/* How much waits to be sent: queued rows and their payload bytes. Delivered
 * and refused rows never count. Also used for the caps of submit. */
typedef struct {
    int64_t reports, bytes;
} agt_outbox_size_t;

/* Return non-zero to stop the listing early. */
typedef int (*agt_outbox_row_fn)(const agt_outbox_row_t *row, void *arg);

/* Opens the outbox at path, creating the file, the schema and the epoch on
 * first use, and migrating an older agent's file in place (user_version 1:
 * adds the metadata table; 2: adds the notifications table and each row's
 * payload_bytes; 3: the states superseded and held, and the index of queued
 * rows by report key). NULL on failure, with the reason in err. */
agt_outbox_t *agt_outbox_new(const char *path, char *err, size_t errlen);
/* Closes the outbox; accepts NULL and sets *self_p to NULL. */
void agt_outbox_destroy(agt_outbox_t **self_p);

/* The random non-zero 64-bit epoch made with this outbox. */
uint64_t agt_outbox_epoch(const agt_outbox_t *self);
/* The file's path (borrowed). */
const char *agt_outbox_path(const agt_outbox_t *self);

/* A descriptor that becomes readable when the outbox's files may have been
 * written (by `submit` in another process, or by this one): inotify on
 * their directory, made on first call and owned by the outbox; -1 when the
 * system refuses (logged): then the caller polls. */
int agt_outbox_watch_fd(agt_outbox_t *self);
/* Reads the watch's events; 1 when one was about the outbox's files. */
int agt_outbox_watch_changed(agt_outbox_t *self);

/* Inserts a queued row made at now_ms; *id_out gets its id. */
int agt_outbox_insert(agt_outbox_t *self, const agt_outbox_entry_t *e, int64_t now_ms,
                      int64_t *id_out);
/* Inserts a queued row as agt_outbox_insert does, but only if the queue
 * stays within cap afterwards; the check and the insert are one IMMEDIATE
 * transaction, so two processes submitting at once cannot both pass it.
 * *queued_out (may be NULL) gets the queue's size before the insert.
 * 0; CCHC_EFULL when the row does not fit (nothing is changed); CCHC_EAGAIN
 * when another process holds the file longer than the busy timeout; else
 * CCHC_EIO or CCHC_EINVAL. */
int agt_outbox_insert_capped(agt_outbox_t *self, const agt_outbox_entry_t *e, int64_t now_ms,
                             const agt_outbox_size_t *cap, int64_t *id_out,
                             agt_outbox_size_t *queued_out);
/* Queued rows and their payload bytes: the sizes stored with each row
 * (payload_bytes, schema version 3), read from an index, not the payloads. */
int agt_outbox_queued_size(agt_outbox_t *self, agt_outbox_size_t *out);
/* The ids of the oldest queued rows, ascending, at most max of them. */
int agt_outbox_queued_ids(agt_outbox_t *self, int64_t *ids, size_t max, size_t *n_out);
/* The heads of the queue: for each report key (type, unit, period, subject),
 * the queued row with the lowest revision (then the lowest id), the only one
 * of its key that may be sent now. At most max of them, by ascending id, with
 * each one's payload length in bytes[i] and a hash of its report key in
 * keys[i] (equal keys, equal hashes). Read from a partial index of the queued
 * rows, so a long run of revisions of one report costs a lookup each. */
int agt_outbox_queued_heads(agt_outbox_t *self, int64_t *ids, int64_t *bytes, uint64_t *keys,
                            size_t max, size_t *n_out);
/* Number of queued rows. */
int agt_outbox_queued_count(agt_outbox_t *self, int64_t *n_out);
/* The payload of a queued row into a new buffer (caller frees).
 * CCHC_ENOTFOUND if the row is not queued any more. */
int agt_outbox_payload(agt_outbox_t *self, int64_t id, uint8_t **buf_p, size_t *len_p);

/* Transitions (see the table in agt_outbox.c). Each applies only to a queued
 * row and returns CCHC_ENOTFOUND when the row is not queued. findings may be
 * NULL. */
int agt_outbox_mark_sent(agt_outbox_t *self, int64_t id, int64_t now_ms);
int agt_outbox_mark_delivered(agt_outbox_t *self, int64_t id, int64_t now_ms,
                              int64_t server_report_id, const char *findings);
int agt_outbox_mark_refused(agt_outbox_t *self, int64_t id, const char *reason,
                            const char *findings);
int agt_outbox_mark_superseded(agt_outbox_t *self, int64_t id, const char *reason,
                               const char *findings);
int agt_outbox_mark_held(agt_outbox_t *self, int64_t id, const char *reason);

/* *newer = 1 when a newer revision than row id's is known to be stored:
 * stored_revision (what the server said it holds; 0 if unknown) is higher
 * than the row's, or a delivered row of the same report key has a higher
 * revision. CCHC_ENOTFOUND when there is no row id. */
int agt_outbox_newer_stored(agt_outbox_t *self, int64_t id, int64_t stored_revision, int *newer);

/* The daemon's key at start: when public_key (Z85) is not the one it last
 * ran with (or none was recorded), every held row is queued again and the
 * key recorded, in one transaction. *changed (may be NULL) says whether it
 * was another key, *requeued (may be NULL) how many rows went back. */
int agt_outbox_key_changed(agt_outbox_t *self, const char *public_key, int *changed,
                           int64_t *requeued);

int agt_outbox_counts(agt_outbox_t *self, agt_outbox_counts_t *out);
/* Calls fn for rows in state (NULL: every row), oldest first or newest first,
 * at most limit rows (negative: all). The payload is not read. */
int agt_outbox_list(agt_outbox_t *self, const char *state, int newest_first, int64_t limit,
                    agt_outbox_row_fn fn, void *arg);

/* The state table: value NULL deletes the key. get sets *value_p to a new
 * string (caller frees) or NULL when the key is absent. */
int agt_outbox_state_set(agt_outbox_t *self, const char *key, const char *value);
int agt_outbox_state_get(agt_outbox_t *self, const char *key, char **value_p);

/* The unit's metadata as last synced (one row; schema version 2).
 * save replaces it (document is the JSON text as received); touch only
 * records that the server confirmed it unchanged at synced_at (ms) and
 * returns CCHC_ENOTFOUND when nothing was ever saved; load returns
 * CCHC_ENOTFOUND when nothing was ever saved, else fills whichever of its
 * outputs are not NULL (*document_p is a new string, caller frees). */
int agt_outbox_meta_save(agt_outbox_t *self, uint64_t version, const char *document,
                         int64_t synced_at);
int agt_outbox_meta_touch(agt_outbox_t *self, int64_t synced_at);
int agt_outbox_meta_load(agt_outbox_t *self, uint64_t *version, char **document_p,
                         int64_t *synced_at);

/* ---- notifications (schema version 3; agt_outbox_notif.c) ---------------------
 *
 * The unit's notifications as the server pushed them, one row per sequence
 * number. alerted: what became of [agent] on_alert for the row. */
enum {
    AGT_ALERT_PENDING = 0, /* the command has yet to run */
    AGT_ALERT_DONE = 1,    /* it ran and exited 0 */
    AGT_ALERT_FAILED = 2,  /* it failed, was killed or could not start: not retried */
    AGT_ALERT_NONE = 3,    /* no command was configured when the row arrived */
};

/* One notification; pointers borrowed (valid during the call or callback). */
typedef struct {
    int64_t seq;
    const char *kind, *unit, *about, *topic, *dedup_key, *text_vi, *text_en;
    const char *facts; /* JSON object text */
    int64_t created_at, received_at;
    int alerted;
} agt_notif_t;

typedef int (*agt_notif_fn)(const agt_notif_t *n, void *arg);

/* Stores n unless a row with its seq exists (INSERT OR IGNORE: a replayed
 * duplicate is harmless). *inserted (may be NULL) says whether it was new. */
int agt_outbox_notif_store(agt_outbox_t *self, const agt_notif_t *n, int *inserted);
/* How many rows, and the highest seq stored (0 when none). */
int agt_outbox_notif_stats(agt_outbox_t *self, int64_t *count, int64_t *max_seq);
/* Calls fn for at most limit rows (negative: all): newest first, or, with
 * pending_only, the rows still AGT_ALERT_PENDING, oldest first. */
int agt_outbox_notif_list(agt_outbox_t *self, int pending_only, int64_t limit, agt_notif_fn fn,
                          void *arg);
/* Sets a row's alerted (AGT_ALERT_*). */
int agt_outbox_notif_mark(agt_outbox_t *self, int64_t seq, int alerted);

#endif
