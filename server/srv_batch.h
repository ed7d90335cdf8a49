/* srv_batch.h: group commit of reports.
 *
 * srv_handle_report checks a Report on arrival and hands it here as an
 * srv_report_t (srv_report.h). Reports wait until batch_max_rows are there
 * or the oldest has waited batch_max_delay_ms, then go to PostgreSQL as one
 * batch in two pipelined segments of one statement each, whatever the
 * batch's size: the batch's context (cchc_batch_context), validated in C
 * against each unit's kept context (srv_units), then the whole store
 * (cchc_store_batch), committed at the segment's sync. Every report is
 * answered exactly once, after the sync that made its outcome durable (or
 * NACK_BUSY when it cannot be). The lifecycle table is in srv_batch.c.
 *
 * The batch answers through the router and reports each commit to its
 * on_commit hook (the server then looks for the notifications it made); it
 * knows nothing of the loop. */
#ifndef SRV_BATCH_H
#define SRV_BATCH_H

#include "srv_config.h"
#include "srv_db.h"
#include "srv_report.h"
#include "srv_router.h"
#include "srv_units.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_batch srv_batch_t;

typedef struct {
    /* A store segment committed (receipts were written). */
    void (*on_commit)(void *arg);
    void *arg;
} srv_batch_hooks_t;

/* Registers the batch's prepared statements with db (before srv_db_start). */
void srv_batch_prepare(srv_db_t *db);

/* Reads batch_max_rows, batch_max_delay_ms, max_pending and
 * peer_max_inflight from cfg; router, db and units are borrowed. */
srv_batch_t *srv_batch_new(srv_router_t *router, srv_db_t *db, srv_units_t *units,
                           const srv_config_t *cfg, const srv_batch_hooks_t *hooks);
/* Answers what is left NACK_BUSY (srv_batch_abandon) and frees. */
void srv_batch_destroy(srv_batch_t **self_p);

/* 0 when one more report from peer may be taken, else CCHC_EFULL: the
 * server-wide (max_pending) or the peer's (peer_max_inflight) cap is full;
 * counted, and *why says which for the Nack. */
int srv_batch_admit(srv_batch_t *self, const srv_peer_t *peer, const char **why);
/* Takes *r (set to NULL) into the queue; it is answered exactly once. */
void srv_batch_add(srv_batch_t *self, srv_report_t **r);
/* Reports taken and not yet answered. */
size_t srv_batch_pending(const srv_batch_t *self);

/* Monotonic ms when the waiting reports are due to go as a batch, or -1. */
int64_t srv_batch_next_timer(const srv_batch_t *self);
/* Starts a batch when one is due; call after every poll. */
void srv_batch_on_timer(srv_batch_t *self, int64_t now_ms);
/* The database is back (statements prepared): resends a batch whose outcome
 * was lost with the connection, then goes on. */
void srv_batch_on_connect(srv_batch_t *self);
/* Shutdown: from now on a batch goes as soon as the previous one is done. */
void srv_batch_drain(srv_batch_t *self);
/* Answers every waiting and in-flight report NACK_BUSY, abandoning the
 * database's work too (srv_db_abandon): the agents resend. */
void srv_batch_abandon(srv_batch_t *self);

#endif
