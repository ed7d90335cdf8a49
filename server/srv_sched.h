/* srv_sched.h: the deadline scheduler (DOMAIN.md sections 2, 3 and 8).
 *
 * A tick, at an instant `now`, is one transaction on the scheduler's own
 * blocking connection: it takes pg_try_advisory_xact_lock(SRV_SCHED_LOCK_KEY)
 * (another instance holds it: the tick is skipped), upserts every periodic
 * type's periods around now (cut-off and due date computed here from the
 * type's rules and the calendar), creates the expectations, marks what is
 * past due + grace overdue and, on working days, inserts the notification
 * rows of the rules whose local hour has come (006_scheduler.sql). Every row
 * has a unique dedup key, so repeated, late or concurrent ticks insert each
 * notification once. The rules table is in srv_sched.c's banner. */
#ifndef SRV_SCHED_H
#define SRV_SCHED_H

#include "srv_config.h"

#include <stddef.h>
#include <stdint.h>

/* The advisory lock of a tick ("cchc" "sched"). */
#define SRV_SCHED_LOCK_KEY 0x63636863736368LL

typedef struct srv_sched srv_sched_t;

/* Rows one tick inserted, per rule. */
typedef enum {
    SRV_SCHED_APPROACHING,
    SRV_SCHED_TODAY,
    SRV_SCHED_OVERDUE,
    SRV_SCHED_DIGEST,
    SRV_SCHED_ESCALATED,
    SRV_SCHED_SILENT,
    SRV_SCHED_RULES
} srv_sched_rule_t;

typedef struct {
    int skipped;                 /* the lock was held by another tick */
    int working_day;             /* today is a working day */
    long expectations;           /* expectations created */
    long marked_overdue;         /* expected -> overdue */
    long rules[SRV_SCHED_RULES]; /* notifications per rule */
    long inserted;               /* notifications, all rules */
} srv_sched_result_t;

/* Reads the [scheduler] settings of cfg (copied; nothing of cfg is kept).
 * NULL with err when a setting does not parse. Does not connect. */
srv_sched_t *srv_sched_new(const srv_config_t *cfg, char *err, size_t errlen);
void srv_sched_destroy(srv_sched_t **self_p);

/* Connects (blocking) if not connected; with migrate, applies migrations.
 * 0, or CCHC_EAGAIN / CCHC_EINVAL with err. */
int srv_sched_connect(srv_sched_t *self, int migrate, char *err, size_t errlen);

/* One tick at instant now_ms (ms since the epoch). wait_lock: when the lock
 * is held, retry for up to that many ms before skipping (0: skip at once).
 * 0 (committed, or skipped: out->skipped), else CCHC_EIO with err; nothing
 * of a failed tick is committed. After a commit that inserted
 * notifications, the callback of srv_sched_on_committed is called. In the
 * calling thread: not for use while the thread (below) runs. */
int srv_sched_tick(srv_sched_t *self, int64_t now_ms, int64_t wait_lock_ms, srv_sched_result_t *out,
                   char *err, size_t errlen);

/* ---- in the server: a thread of its own ----------------------------------------
 *
 * srv_sched_start starts the thread (nothing when [scheduler] enabled is
 * false): it connects on its own, ticks at once and then every
 * tick_interval_ms, and never touches anything of the loop. The loop polls
 * srv_sched_fd (-1 when no thread) for POLLIN and then calls
 * srv_sched_on_ready, which calls the srv_sched_on_committed callback in
 * the loop's thread when a tick committed notifications. Only the loop's
 * thread calls these. */
int srv_sched_start(srv_sched_t *self, char *err, size_t errlen);
int srv_sched_fd(const srv_sched_t *self);
void srv_sched_on_ready(srv_sched_t *self);
/* Something the expectations derive from changed (NOTIFY cchc_meta): tick
 * soon; coalesced with other changes and the regular tick. */
void srv_sched_kick(srv_sched_t *self);
/* Asks the thread to stop and cancels the running statement (the tick
 * rolls back); does not wait. srv_sched_join waits for the thread (and asks
 * it to stop first); srv_sched_destroy joins too. */
void srv_sched_stop(srv_sched_t *self);
void srv_sched_join(srv_sched_t *self);

/* What the thread's ticks did since start. Counted with relaxed atomics:
 * any thread may read them (the metrics thread does, srv_metrics.c). */
typedef struct {
    unsigned long long committed;  /* ticks committed */
    unsigned long long skipped;    /* ticks skipped: another instance held the lock */
    unsigned long long failed;     /* ticks failed and rolled back (the next redoes them) */
    unsigned long long inserted;   /* notification rows that committed ticks inserted */
    unsigned long long reconnects; /* the scheduler's connection made again after a loss */
    int64_t last_tick_ms;          /* the instant of the last tick committed or skipped; 0: none */
} srv_sched_stats_t;
/* Zeros when self is NULL. */
void srv_sched_stats(srv_sched_t *self, srv_sched_stats_t *out);

/* Registers the one callback called after each tick that committed
 * notifications (the delivery side publishes them); NULL unregisters. */
void srv_sched_on_committed(void (*cb)(void *), void *arg);

#endif
