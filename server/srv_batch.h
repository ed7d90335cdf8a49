/* srv_batch.h: group commit of reports.
 *
 * srv_handle_report checks a Report on arrival and hands it here as an
 * srv_report_t (srv_report.h). Reports wait until batch_max_rows are there
 * or the oldest has waited batch_max_delay_ms, then go to PostgreSQL as one
 * batch in two pipelined segments of one statement each, whatever the
 * batch's size, on one of the batch's own connections (store_connections;
 * a unit always on the same one): the batch's context (cchc_batch_context),
 * validated in C against each unit's kept context (srv_units), then the
 * whole store (cchc_store_batch), committed at the segment's sync. Every report is
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
    /* A report was answered NACK_UNIT_MISMATCH: its unit is neither the
     * sender's nor a predecessor the sender answers for (r borrowed for the
     * call). NULL: nobody is told. */
    void (*on_mismatch)(void *arg, const struct srv_report *r);
    void *arg;
} srv_batch_hooks_t;

/* Reads batch_max_rows, batch_max_delay_ms, max_pending, peer_max_inflight,
 * store_connections, conninfo and query_timeout_ms from cfg; router and
 * units are borrowed. Makes the store connections (srv_db), not connected. */
srv_batch_t *srv_batch_new(srv_router_t *router, srv_units_t *units, const srv_config_t *cfg,
                           const srv_batch_hooks_t *hooks);
/* Connects the store connections (blocking, each for up to timeout_ms) and
 * starts them; after the migrations (the statements are prepared on them).
 * 0, or an error with err naming the connection and libpq's reason. */
int srv_batch_connect(srv_batch_t *self, int64_t timeout_ms, char *err, size_t errlen);
/* Answers what is left NACK_BUSY (srv_batch_abandon), closes the
 * connections and frees. */
void srv_batch_destroy(srv_batch_t **self_p);

/* The store connections, for the loop to poll (srv_db_pollfd, on_ready,
 * next_timer, on_timer): how many, and each. A lost one reconnects by itself
 * and its batch is sent again. */
size_t srv_batch_dbs(const srv_batch_t *self);
srv_db_t *srv_batch_db(srv_batch_t *self, size_t i);

/* 0 when one more report from peer may be taken, else CCHC_EFULL: its
 * store connection is away, or the server-wide (max_pending) or the peer's
 * (peer_max_inflight) cap is full; counted, and *why says which for the
 * Nack. */
int srv_batch_admit(srv_batch_t *self, const srv_peer_t *peer, const char **why);
/* Takes *r (set to NULL) into the queue; it is answered exactly once. */
void srv_batch_add(srv_batch_t *self, srv_report_t **r);
/* Reports taken and not yet answered. */
size_t srv_batch_pending(const srv_batch_t *self);

/* Monotonic ms when the waiting reports are due to go as a batch, or -1. */
int64_t srv_batch_next_timer(const srv_batch_t *self);
/* Starts a batch when one is due; call after every poll. */
void srv_batch_on_timer(srv_batch_t *self, int64_t now_ms);
/* Shutdown: from now on a batch goes as soon as the previous one is done. */
void srv_batch_drain(srv_batch_t *self);
/* Answers every waiting and in-flight report NACK_BUSY, abandoning the
 * store connections' work too (srv_db_abandon): the agents resend. */
void srv_batch_abandon(srv_batch_t *self);

#endif
