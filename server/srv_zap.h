/* srv_zap.h: the ZAP handler (RFC 27) and the cache of keys behind it.
 *
 * libzmq asks the handler, over inproc://zeromq.zap.01, whether a CURVE
 * client key may connect. The answer comes from an in-memory copy of
 * agent_keys and subscribers (active rows only), so a handshake never waits
 * for the database; the copy is replaced whole when a key table changes. The
 * User-Id of an accepted connection is its principal: the unit code for an
 * agent's key, "sub:<name>" for a subscriber's. Every message on the
 * connection carries it (zmq_msg_gets "User-Id").
 *
 * One domain, SRV_ZAP_DOMAIN (the ROUTER), for agents and subscribers. */
#ifndef SRV_ZAP_H
#define SRV_ZAP_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The ZMQ_ZAP_DOMAIN our CURVE sockets use; other domains are refused. */
#define SRV_ZAP_DOMAIN "cchc"
/* The ZAP metadata property naming the key row behind a connection: "a<id>"
 * for agent_keys, "s<id>" for subscribers. Every message carries it. */
#define SRV_ZAP_KEY_ID_PROP "X-Key-Id"
/* The statement whose result srv_zap_load takes: key, principal, for
 * subscribers their topic prefixes as a JSON array, the key id (as in
 * SRV_ZAP_KEY_ID_PROP), when the key expires (ms since the epoch, NULL:
 * never) and when its unit closed (the end of its valid_to in Vietnam, ms
 * since the epoch; NULL: open). Expired keys and closed units' keys are
 * loaded too: the cache compares with cchc_clock_now_ms(), so an expiry or
 * the end of a closed unit's grace takes effect without a reload. */
#define SRV_ZAP_KEYS_SQL                                                                           \
    "SELECT k.public_key, k.unit_code, NULL::text, 'a' || k.id, "                                  \
    "(extract(epoch FROM k.expires_at) * 1000)::bigint, "                                          \
    "(extract(epoch FROM (u.valid_to + 1)::timestamp - interval '7 hours') * 1000)::bigint "       \
    "FROM agent_keys k JOIN units u ON u.code = k.unit_code WHERE k.revoked_at IS NULL "           \
    "UNION ALL SELECT public_key, 'sub:' || name, array_to_json(topics)::text, 's' || id, "        \
    "NULL::bigint, NULL::bigint FROM subscribers WHERE revoked_at IS NULL"

typedef struct srv_zap srv_zap_t;

/* Binds the handler socket in ctx. Must run before any CURVE socket binds,
 * or libzmq lets clients in unchecked. NULL on failure, err says why. */
srv_zap_t *srv_zap_new(void *ctx, char *err, size_t errlen);
void srv_zap_destroy(srv_zap_t **self_p);

/* The handler socket, borrowed, for zmq_poll. */
void *srv_zap_socket(srv_zap_t *zap);

/* Answers every request waiting on the socket; never blocks. */
void srv_zap_handle(srv_zap_t *zap);

/* Replaces the cache with the rows of a SRV_ZAP_KEYS_SQL result (borrowed;
 * a result without the last column, the units' closing, is taken as all
 * open). 0, or CCHC_EINVAL when res is not such a result (the cache is
 * unchanged). */
int srv_zap_load(srv_zap_t *zap, const PGresult *res);

/* How long a closed unit's keys keep working after its closing ([units]
 * closed_key_grace_days, in ms; 0 by default): so its agent can flush its
 * queue (DOMAIN.md section 1). */
void srv_zap_set_closed_grace(srv_zap_t *zap, int64_t grace_ms);

/* True when unit's keys say it closed at or before now_ms (whatever the
 * grace): it gets no notification any more. A unit without a key: false. */
int srv_zap_unit_closed(const srv_zap_t *zap, const char *unit, int64_t now_ms);

/* Bumped by every srv_zap_load: what was read from the cache before may
 * have changed (a subscriber's topics, a key revoked). */
uint64_t srv_zap_generation(const srv_zap_t *zap);

/* A subscriber's topic prefixes (borrowed until the next load) by its
 * principal ("sub:<name>"). 1 when it is active, 0 when unknown or revoked. */
int srv_zap_subscriber(const srv_zap_t *zap, const char *principal, const char *const **topics,
                       size_t *n);

/* True when the key of SRV_ZAP_KEY_ID_PROP key_id is in the cache (neither
 * revoked nor removed) and not expired at now_ms. NULL key_id: false. */
int srv_zap_key_valid(const srv_zap_t *zap, const char *key_id, int64_t now_ms);

/* What srv_zap_key_valid decides, and why a key is not valid. */
typedef enum {
    SRV_ZAP_KEY_VALID,
    SRV_ZAP_KEY_EXPIRED, /* in the cache, expired at now_ms */
    SRV_ZAP_KEY_GONE,    /* revoked or removed since the handshake (or NULL) */
    SRV_ZAP_KEY_CLOSED,  /* in the cache, its unit closed longer ago than the grace */
} srv_zap_key_state_t;
srv_zap_key_state_t srv_zap_key_state(const srv_zap_t *zap, const char *key_id, int64_t now_ms);

/* Called for a handshake refused because its key expired (state
 * SRV_ZAP_KEY_EXPIRED) or its unit's grace is over (SRV_ZAP_KEY_CLOSED): the
 * key's principal and SRV_ZAP_KEY_ID_PROP id (borrowed for the call). A key
 * that is not in the cache (unknown, revoked) names no principal and is not
 * told. fn NULL: nobody is told. */
typedef void srv_zap_refused_fn(void *arg, srv_zap_key_state_t state, const char *principal,
                                const char *key_id);
void srv_zap_on_refused(srv_zap_t *zap, srv_zap_refused_fn *fn, void *arg);

/* Sets ZMQ_ZAP_ENFORCE_DOMAIN (a draft option of libzmq 4.3) on sock, before
 * its bind: a ZAP domain we do not serve is refused rather than let in. A
 * libzmq without it logs a warning; the handler refuses other domains anyway. */
void srv_zap_enforce_domain(void *sock);

/* Keys in the cache. */
size_t srv_zap_count(const srv_zap_t *zap);

/* Requests accepted and refused since start. */
void srv_zap_stats(const srv_zap_t *zap, unsigned long long *accepted, unsigned long long *refused);

#endif
