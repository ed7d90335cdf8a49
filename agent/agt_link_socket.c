/* agt_link_socket.c: agt_link's socket setup (see agt_link_socket.h).
 *
 * Owns nothing after it returns: the sockets are agt_link's. Split from
 * agt_link.c so that file keeps to the loop, the window and the messages. */
#include "agt_link_socket.h"

#include "cchc_err.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    int opt;
    int value;
    const char *name;
} agt_sockopt_t;

/* The options DESIGN.md ("Messaging") asks of an agent's DEALER, into v
 * (room for 8); returns how many. IMMEDIATE: nothing is queued for a peer
 * that is not there (the outbox is the queue); LINGER: close waits at most a
 * second (everything is on disk); RECONNECT 1 s doubling to 60 s; heartbeats
 * so a frozen or black-holed peer is noticed and the connection redialled.
 * No HEARTBEAT_TTL (DESIGN.md asked for one): a TTL in our PINGs makes the
 * server's libzmq arm a timer for this connection and cancel it at the next
 * message, and libzmq cancels a timer by walking all of its I/O thread's
 * timers: with 10,000 agents that saturated the server's I/O thread. The
 * server finds a dead agent by TCP keepalive instead (srv_router.c). */
static size_t s_int_opts(const agt_config_t *cfg, agt_sockopt_t *v)
{
    size_t n = 0;
    v[n++] = (agt_sockopt_t){ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE"};
    v[n++] = (agt_sockopt_t){ZMQ_LINGER, 1000, "ZMQ_LINGER"};
    v[n++] = (agt_sockopt_t){ZMQ_RECONNECT_IVL, 1000, "ZMQ_RECONNECT_IVL"};
    v[n++] = (agt_sockopt_t){ZMQ_RECONNECT_IVL_MAX, 60000, "ZMQ_RECONNECT_IVL_MAX"};
    v[n++] = (agt_sockopt_t){ZMQ_HEARTBEAT_IVL, (int)cfg->heartbeat_ivl_ms, "ZMQ_HEARTBEAT_IVL"};
    v[n++] = (agt_sockopt_t){ZMQ_HEARTBEAT_TIMEOUT, (int)cfg->heartbeat_timeout_ms,
                             "ZMQ_HEARTBEAT_TIMEOUT"};
    /* Heartbeats do not run during the handshake: a greeting lost on a bad
     * link would otherwise hold the connection for libzmq's 30 s default. */
    v[n++] =
        (agt_sockopt_t){ZMQ_HANDSHAKE_IVL, (int)cfg->heartbeat_timeout_ms, "ZMQ_HANDSHAKE_IVL"};
    return n;
}

/* Reads the three keys and checks that the pair is one pair. */
int agt_link_socket_keys(const agt_config_t *cfg, char server_pub[], char pub[], char sec[],
                         char *err, size_t errlen)
{
    char kerr[256], derived[CCHC_KEY_Z85_LEN + 1];
    if (cchc_keys_read(cfg->server_public_key, 0, server_pub, kerr, sizeof kerr) != CCHC_OK) {
        snprintf(err, errlen, "[server] public_key: %s", kerr);
        return CCHC_EINVAL;
    }
    if (cchc_keys_read(cfg->public_key, 0, pub, kerr, sizeof kerr) != CCHC_OK) {
        snprintf(err, errlen, "[agent] public_key: %s (make one with `cchc-agent keygen`)", kerr);
        return CCHC_EINVAL;
    }
    if (cchc_keys_read(cfg->secret_key, 1, sec, kerr, sizeof kerr) != CCHC_OK) {
        snprintf(err, errlen, "[agent] secret_key: %s", kerr);
        return CCHC_EINVAL;
    }
    if (cchc_keys_public_of(sec, derived) != CCHC_OK || strcmp(derived, pub) != 0) {
        snprintf(err, errlen,
                 "%s is not the public key of %s: run `cchc-agent keygen --force` and have the "
                 "district register the new public key",
                 cfg->public_key, cfg->secret_key);
        return CCHC_EINVAL;
    }
    return CCHC_OK;
}

int agt_link_socket_setup(void *dealer, void *monitor, const char *monitor_ep,
                          const agt_config_t *cfg, const char *endpoint, const char *server_pub,
                          const char *pub, const char *sec, char *err, size_t errlen)
{
    int64_t maxmsg = cfg->max_frame;
    const char *what = "ZMQ_CURVE keys";
    if (zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_pub, CCHC_KEY_Z85_LEN + 1) ||
        zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, pub, CCHC_KEY_Z85_LEN + 1) ||
        zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, sec, CCHC_KEY_Z85_LEN + 1))
        goto fail;
    agt_sockopt_t opts[8];
    size_t nopts = s_int_opts(cfg, opts);
    for (size_t i = 0; i < nopts; i++) {
        what = opts[i].name;
        if (zmq_setsockopt(dealer, opts[i].opt, &opts[i].value, sizeof(int)))
            goto fail;
    }
    what = "ZMQ_MAXMSGSIZE";
    if (zmq_setsockopt(dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
        goto fail;
    what = "zmq_socket_monitor";
    if (zmq_socket_monitor(dealer, monitor_ep, ZMQ_EVENT_ALL) || zmq_connect(monitor, monitor_ep))
        goto fail;
    if (zmq_connect(dealer, endpoint)) {
        snprintf(err, errlen, "[server] endpoints: \"%s\": %s", endpoint, zmq_strerror(errno));
        return CCHC_EINVAL;
    }
    return CCHC_OK;
fail:
    snprintf(err, errlen, "could not set up the socket (%s): %s", what, zmq_strerror(errno));
    return CCHC_EIO;
}
