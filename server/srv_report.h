/* srv_report.h: one report from its arrival to its answer.
 *
 * A report is decoded once, by the loop; this record keeps the decoded
 * envelope, the report's bytes as received (cut from the frame, the payload
 * column) and its JSON (the body column), and, as the batch goes on, what
 * its validation found. The batch (srv_batch.c) owns the records; this
 * module owns what is in them and how a report is answered.
 *
 *   step      what                                         answered when it ends here
 *   --------  -------------------------------------------  ---------------------------------
 *   arrival   srv_handle_report: the key's unit, what the  NACK_UNIT_MISMATCH, NACK_INVALID
 *             table needs, the database up, the caps;      (E000), NACK_BUSY
 *             srv_report_new
 *   context   the batch's context statement: a stored      Ack duplicate, NACK_INVALID (the
 *             row of the same message, or the report's     stored findings, or E008)
 *             "extra" (srv_report_context_json)
 *   validate  srv_report_validate against its unit's       NACK_BUSY (no context: our bug)
 *             kept context and that extra
 *   store     the batch's store statement                  Ack with warnings, NACK_INVALID
 *             (srv_report_store_json, srv_report_answer)   with every finding */
#ifndef SRV_REPORT_H
#define SRV_REPORT_H

#include "cchc_validate.h"
#include "cchc_wire.h"
#include "srv_router.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* A growing text buffer (the batch's JSON parameters). */
typedef struct {
    char *p;
    size_t n, cap;
} srv_buf_t;
void srv_buf_put(srv_buf_t *b, const char *s, size_t n);
void srv_buf_puts(srv_buf_t *b, const char *s);
void srv_buf_free(srv_buf_t *b);

typedef struct srv_report {
    struct srv_report *next; /* the batch's queue */
    cchc_envelope_t *env;    /* the decoded envelope; env->report is the report */
    char *unit;              /* the key's unit: the sender */
    char *for_unit;          /* the report's unit when it is not the sender's (a predecessor
                                the sender answers for, DOMAIN.md section 1), else NULL */
    char *key_id;            /* the connection's SRV_ZAP_KEY_ID_PROP, or NULL */
    uint64_t epoch, msg_id;
    const char *type, *kind, *period, *subject; /* borrowed from env (kind: static) */
    uint8_t *payload;                           /* the report's bytes as received */
    size_t payload_len;
    char *body;          /* its JSON */
    int64_t received_ms; /* the server's clock at arrival */
    int64_t arrived_mono;
    int guest; /* srv_batch's: waits in a lane that may not be its unit's home */
    int has_skew;
    int64_t skew_ms; /* the agent's clock minus ours on this message */
    int sealed_trusted;
    /* Set by srv_report_validate. */
    int errors;
    char *store_json; /* its entry of the store statement's array */
    size_t rid_len;
    uint8_t rid[];
} srv_report_t;

/* A record of the report in *env_p (taken: set to NULL) from peer, frame the
 * bytes it came in. max_skew_ms: how far the agent's clock may be from ours
 * for its sealed time to be trusted. A report whose unit is not the key's is
 * recorded for its unit (for_unit), sent by the key's: the caller has checked
 * that the key's unit may answer for it. NULL with *why when it cannot be
 * kept (text that is not UTF-8, a report that has no JSON form): the caller
 * answers NACK_INVALID. */
srv_report_t *srv_report_new(const srv_peer_t *peer, cchc_envelope_t **env_p, const uint8_t *frame,
                             size_t len, int64_t max_skew_ms, const char **why);
void srv_report_free(srv_report_t **r_p);
/* The peer to answer, borrowed from r. */
srv_peer_t srv_report_peer(const srv_report_t *r);
/* The unit the report is of (for_unit, else the sender's), borrowed. */
const char *srv_report_unit(const srv_report_t *r);

/* r's object of the context statement's array (ord its place in the batch).
 * kept: the sender's kept context (NULL: none yet). When it holds the task or
 * inspection the report names (or the report names none), the object says
 * "kept": the statement does not read them again (026). */
void srv_report_context_json(const srv_report_t *r, const cchc_vctx_t *kept, int ord, srv_buf_t *b);
/* Validates r against ctx (the sender's kept context; for a predecessor's
 * report, the context in which the sender answers for it is derived from
 * it) and extra (the context statement's document for it, NULL: none), and
 * builds its store entry. 0; SRV_REPORT_NOT_HEIR when the sender does not
 * answer for the report's unit (answer it srv_report_mismatch); or -1 when
 * the context cannot be made (logged): answer it NACK_BUSY. */
#define SRV_REPORT_NOT_HEIR (-2)
int srv_report_validate(srv_report_t *r, const cchc_vctx_t *ctx, const char *extra, int ord);
/* NACK_UNIT_MISMATCH: the report is of a unit its key's unit does not answer for. */
void srv_report_mismatch(srv_router_t *router, const srv_report_t *r);

/* The answers. A row stored before (by an earlier delivery): its id, status,
 * findings (JSON text, may be NULL), and whether its payload is r's. */
void srv_report_answer_stored(srv_router_t *router, const srv_report_t *r, int64_t id,
                              const char *status, const char *findings, int same_payload);
/* The store statement's row for r (id, duplicate, status, findings, same_payload). */
void srv_report_answer(srv_router_t *router, const srv_report_t *r, const PGresult *res, int row);
/* NACK_BUSY with detail: the agent keeps the report and resends. */
void srv_report_busy(srv_router_t *router, const srv_report_t *r, const char *detail);
/* An error result of r's own statement: NACK_INVALID when the data is to
 * blame (SQLSTATE class 22 or 23), else NACK_BUSY. */
void srv_report_failed(srv_router_t *router, const srv_report_t *r, const PGresult *res,
                       const char *stage);

#endif
