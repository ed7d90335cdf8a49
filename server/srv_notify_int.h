/* srv_notify_int.h: what srv_notify.c (agents, the publisher) and
 * srv_notify_sub.c (subscribers) share. Not part of the module's API. */
#ifndef SRV_NOTIFY_INT_H
#define SRV_NOTIFY_INT_H

#include "srv_map.h"
#include "srv_notify.h"
#include "srv_router.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Columns of a notification, in the order sn_pack_row reads them. */
#define S_COLS                                                                                     \
    "seq, kind, unit_code, coalesce(about, ''), topic, dedup_key, text_vi, text_en, "              \
    "facts::text, (extract(epoch FROM created_at) * 1000)::bigint"
#define S_NCOLS 10

typedef struct s_job s_job_t;

typedef struct {
    uint8_t *rid;
    size_t rid_len;
    char *unit;      /* an agent's unit, or a subscriber's principal */
    uint64_t cursor; /* highest seq sent to it (or that it said it holds) */
    int replaying;
    int64_t heard_ms;
    /* Subscribers only (subscriber != 0). */
    int subscriber;
    char **want, **own; /* the prefixes it asked for, and those it may see */
    size_t n_want, n_own;
    char *key_id;
    uint64_t *unacked; /* pushed live, not acked: a FIFO in [ua_head, ua_head + ua_len) */
    size_t ua_head, ua_len, ua_cap;
    s_job_t *parked; /* a replay segment waiting for acks */
    uint64_t gen; /* unique per session: a job of an earlier session at the same rid is not its */
    uint64_t zap_gen; /* subscribers: the key cache's generation its grant was read in */
} s_session_t;

typedef struct {
    char *unit;
    uint64_t seq;
} s_ack_t;

/* One database job; arg of its callback. */
struct s_job {
    srv_notify_t *n;
    uint8_t rid[256];
    size_t rid_len;
    char *principal;
    uint64_t since;
    char *want, *own;    /* subscriber replays: PostgreSQL array literals */
    int follow;          /* a subscriber session's replay */
    uint64_t gen;        /* the session's gen (agents' and follow replays) */
    uint64_t window_end; /* subscriber replays: the segment's last seq looked at */
    s_ack_t *acks;       /* ack writes: what this job carries */
    size_t n_acks;
};

struct srv_notify {
    srv_router_t *router; /* borrowed: pushes and answers */
    srv_db_t *db;
    srv_zap_t *zap; /* subscribers' keys and grants */
    size_t sub_max_pending;
    uint64_t last_published;
    int started;
    int fetch_inflight;
    int64_t fetch_due_ms; /* monotonic: the next fetch (poll or kick) */
    s_session_t *sessions;
    size_t n_sessions, cap_sessions;
    /* Indexes into sessions (index + 1): by routing id, and each unit's
     * latest agent session; and the subscriber sessions' indexes, so that a
     * row is pushed without walking every agent's session. */
    srv_map_t *by_rid, *by_unit;
    size_t *subs;
    size_t n_subs, cap_subs;
    s_ack_t *acks; /* waiting to be written */
    size_t n_acks, cap_acks;
    int ack_inflight;
    int64_t ack_due_ms; /* -1: nothing waiting */
    int64_t prune_due_ms;
    size_t replays; /* subscriber replays in flight */
    uint64_t next_gen;
    srv_notify_stats_t stats;
};

/* ---- srv_notify.c ---------------------------------------------------------------- */

uint64_t sn_u64(const PGresult *r, int row, int col);
void sn_u64_text(char buf[24], uint64_t v);
/* A PostgreSQL array literal of n strings: {"a","b\"c"}. Caller frees. */
char *sn_pg_array(const char *const *v, size_t n);
void sn_log_db_error(const char *event, int rc, const PGresult *res);
/* Packs row `row` of r (notification columns from col0) as an Envelope.
 * 0, or CCHC_EENCODING / CCHC_ETOOBIG (logged, counted: the row is skipped). */
int sn_pack_row(srv_notify_t *n, const PGresult *r, int row, int col0, uint64_t *seq_p,
                const char **topic_p, const char **unit_p, uint8_t **buf_p, size_t *len_p);
/* Sends one frame to rid over the ROUTER. 0 or CCHC_EAGAIN. */
int sn_send(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal,
            const uint8_t *buf, size_t len);
s_session_t *sn_session_find(srv_notify_t *n, const uint8_t *rid, size_t rid_len);
s_session_t *sn_session_add(srv_notify_t *n, const uint8_t *rid, size_t rid_len,
                            const char *principal);
/* Frees the session (its parked job too) and moves the last one into its slot. */
void sn_session_drop(srv_notify_t *n, s_session_t *s);
s_job_t *sn_job_new(srv_notify_t *n, const uint8_t *rid, size_t rid_len, const char *principal);
void sn_job_free(s_job_t *job);

/* ---- srv_notify_sub.c ------------------------------------------------------------- */

char **sn_strv_dup(const char *const *v, size_t n);
void sn_strv_free(char **v, size_t n);
/* Records seq as sent to the subscriber and not yet acked. */
void sn_ua_push(s_session_t *s, uint64_t seq);
/* Whether a live subscriber session takes the row (see srv_notify_sub.c);
 * may drop the session or turn it to catching up. */
int sn_sub_takes(srv_notify_t *n, s_session_t *s, const char *topic, uint64_t seq);

#endif
