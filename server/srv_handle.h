/* srv_handle.h: the message handlers, one file each (srv_handle_<kind>.c),
 * and what they may use.
 *
 * The server's loop reads a frame, decodes it once, checks the principal
 * (srv_server.c) and calls the handler of its kind with the peer and the
 * envelope. A handler decides, answers through the router and hands work to
 * the batch, notify or the units' metadata; it never reaches back into the
 * loop: srv_handlers_t is all it gets. */
#ifndef SRV_HANDLE_H
#define SRV_HANDLE_H

#include "cchc_wire.h"
#include "srv_db.h"
#include "srv_map.h"
#include "srv_notify.h"
#include "srv_peers.h"
#include "srv_refusals.h"
#include "srv_router.h"
#include "srv_units.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_batch srv_batch_t;
typedef struct srv_zap srv_zap_t;

/* Borrowed from the server for every call. */
typedef struct {
    srv_router_t *router; /* answers and counters */
    srv_db_t *db;
    srv_batch_t *batch;
    srv_notify_t *notify;
    srv_units_t *units;
    srv_zap_t *zap;
    srv_refusals_t *refusals;
    srv_peers_t *peers;
    srv_map_t *contacts;   /* per unit code: monotonic ms its contact row was last written */
    size_t max_pending;    /* also the bound on other database work queued */
    int64_t max_clock_skew_ms;
} srv_handlers_t;

/* One handler per message kind. env and peer are borrowed for the call. */
void srv_handle_hello(srv_handlers_t *h, const srv_peer_t *peer, const cchc_envelope_t *env);
/* A Report: frame/len are the received bytes (the stored payload is cut from
 * them); *env_p is taken (set to NULL) when the report is kept for the batch. */
void srv_handle_report(srv_handlers_t *h, const srv_peer_t *peer, cchc_envelope_t **env_p,
                       const uint8_t *frame, size_t len);
void srv_handle_meta_request(srv_handlers_t *h, const srv_peer_t *peer,
                             const cchc_envelope_t *env);
void srv_handle_notification_ack(srv_handlers_t *h, const srv_peer_t *peer,
                                 const cchc_envelope_t *env);
void srv_handle_replay(srv_handlers_t *h, const srv_peer_t *peer, const cchc_envelope_t *env);

/* Any message from unit: records the contact (last_seen, on the server's
 * injectable clock), at most once per SRV_CONTACT_EVERY_MS per unit by now_ms,
 * the monotonic clock (srv_handle_hello.c). */
void srv_handle_contact(srv_handlers_t *h, const char *unit, int64_t now_ms);
#define SRV_CONTACT_EVERY_MS 10000

/* MetaChanged to unit's agent, when connected (srv_handle_meta.c). srv_units
 * calls it for a connected unit whose document's version moved: a change for
 * every unit reaches the agents as their documents are read again, a few
 * units per statement, never all at once. */
void srv_handle_meta_changed(srv_handlers_t *h, const char *unit);

#endif
