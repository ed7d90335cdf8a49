/* srv_batch.h: group commit of reports, and the report record it carries.
 *
 * srv_handle_report checks a Report on arrival and hands it here as an
 * srv_report_t. Reports wait until batch_max_rows are there or the oldest
 * has waited batch_max_delay_ms, then go to PostgreSQL as one batch in two
 * pipelined segments: the context of every report (validated in C as the
 * results come), then one cchc_store_report per report, committed together
 * at the segment's sync. Every report is answered exactly once, after the
 * sync that made its outcome durable (or NACK_BUSY when it cannot be). The
 * lifecycle table is in srv_batch.c.
 *
 * The per-report work (parameters, validation, answers) is in
 * srv_handle_report.c, behind the srv_report_ functions below. */
#ifndef SRV_BATCH_H
#define SRV_BATCH_H

#include "srv_config.h"
#include "srv_db.h"
#include "srv_server.h"

#include <stddef.h>
#include <stdint.h>

#define SRV_REPORT_CONTEXT_STMT "cchc_report_context"
#define SRV_REPORT_CONTEXT_NPARAMS 7
#define SRV_REPORT_STORE_STMT "cchc_store_report"
#define SRV_REPORT_STORE_NPARAMS 20

/* One report between its arrival and its answer. The parameter arrays point
 * into the report itself, so a statement can borrow them until its segment
 * is finished. */
typedef struct srv_report {
    struct srv_report *next; /* the queue of reports waiting for a batch */
    char *unit;              /* the key's unit */
    uint64_t epoch, msg_id;
    char epoch_s[24], msg_id_s[24], revision_s[24], sent_at_s[24], sealed_at_s[24];
    int has_sent_at;
    char *type, *kind, *period, *subject;
    uint8_t *payload; /* the packed report, as stored and as validated */
    size_t payload_len;
    char *body; /* its JSON */
    int64_t arrived_ms;
    const char *ctx_values[SRV_REPORT_CONTEXT_NPARAMS];
    int ctx_lengths[SRV_REPORT_CONTEXT_NPARAMS], ctx_formats[SRV_REPORT_CONTEXT_NPARAMS];
    /* Set by srv_report_on_context for the store. */
    char *findings_text;
    int errors;
    char start[16], end[16], due[16];
    char received_at_s[24]; /* the receipt instant (cchc_clock_now_ms), ms */
    /* Set on arrival: the agent's clock minus ours on this message (ms), and
     * the sealed instant when that skew is within max_clock_skew_ms. */
    char skew_s[24], trusted_sealed_s[24];
    int has_skew, sealed_trusted;
    const char *store_values[SRV_REPORT_STORE_NPARAMS];
    int store_lengths[SRV_REPORT_STORE_NPARAMS], store_formats[SRV_REPORT_STORE_NPARAMS];
    size_t rid_len;
    uint8_t rid[];
} srv_report_t;

/* ---- srv_handle_report.c -------------------------------------------------------- */

/* Registers the two prepared statements with db (before srv_db_start). */
void srv_report_prepare(srv_db_t *db);
/* Frees *r and sets it to NULL; accepts NULL. */
void srv_report_free(srv_report_t **r);
/* The peer to answer, borrowed from r. */
srv_peer_t srv_report_peer(const srv_report_t *r);
/* Answers NACK_BUSY with detail: the agent keeps the report and resends. */
void srv_report_busy(srv_server_t *server, const srv_report_t *r, const char *detail);
/* Statement 1's result (PGRES_TUPLES_OK) read: answers a report stored
 * before, else validates and fills the store parameters. 1 when r goes on to
 * the store, 0 when it was answered. */
int srv_report_on_context(srv_server_t *server, srv_report_t *r, const PGresult *res);
/* Statement 2's result, from a segment whose sync arrived: answers r from
 * the stored row, or by the error when r failed alone. */
void srv_report_on_stored(srv_server_t *server, srv_report_t *r, const PGresult *res);
/* An error result (PGRES_FATAL_ERROR) of r's own statement: NACK_INVALID
 * when the data is to blame (SQLSTATE class 22 or 23), else NACK_BUSY. */
void srv_report_failed(srv_server_t *server, const srv_report_t *r, const PGresult *res,
                       const char *stage);

/* ---- srv_batch.c -------------------------------------------------------------------- */

typedef struct srv_batch srv_batch_t;

/* Reads batch_max_rows, batch_max_delay_ms, max_pending,
 * peer_max_inflight and max_clock_skew_ms from cfg; server and db are
 * borrowed. */
srv_batch_t *srv_batch_new(srv_server_t *server, srv_db_t *db, const srv_config_t *cfg);
/* [scheduler] max_clock_skew_ms: how far an agent's clock may be from ours
 * for its sealed time to be trusted. */
int64_t srv_batch_max_clock_skew_ms(const srv_batch_t *self);
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
