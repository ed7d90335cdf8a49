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

static const struct {
    int opt;
    int value;
    const char *name;
} s_int_opts[] = {
    {ZMQ_IMMEDIATE, 1, "ZMQ_IMMEDIATE"},
    {ZMQ_LINGER, 1000, "ZMQ_LINGER"},
    {ZMQ_RECONNECT_IVL, 1000, "ZMQ_RECONNECT_IVL"},
    {ZMQ_RECONNECT_IVL_MAX, 60000, "ZMQ_RECONNECT_IVL_MAX"},
    {ZMQ_HEARTBEAT_IVL, 10000, "ZMQ_HEARTBEAT_IVL"},
    {ZMQ_HEARTBEAT_TIMEOUT, 30000, "ZMQ_HEARTBEAT_TIMEOUT"},
    /* Under 65 s: the TTL travels in deciseconds in 16 bits. */
    {ZMQ_HEARTBEAT_TTL, 60000, "ZMQ_HEARTBEAT_TTL"},
};

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
                          const agt_config_t *cfg, const char *server_pub, const char *pub,
                          const char *sec, char *err, size_t errlen)
{
    int64_t maxmsg = cfg->max_frame;
    const char *what = "ZMQ_CURVE keys";
    if (zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_pub, CCHC_KEY_Z85_LEN + 1) ||
        zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, pub, CCHC_KEY_Z85_LEN + 1) ||
        zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, sec, CCHC_KEY_Z85_LEN + 1))
        goto fail;
    for (size_t i = 0; i < sizeof s_int_opts / sizeof s_int_opts[0]; i++) {
        what = s_int_opts[i].name;
        if (zmq_setsockopt(dealer, s_int_opts[i].opt, &s_int_opts[i].value, sizeof(int)))
            goto fail;
    }
    what = "ZMQ_MAXMSGSIZE";
    if (zmq_setsockopt(dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg))
        goto fail;
    what = "zmq_socket_monitor";
    if (zmq_socket_monitor(dealer, monitor_ep, ZMQ_EVENT_ALL) || zmq_connect(monitor, monitor_ep))
        goto fail;
    if (zmq_connect(dealer, cfg->server_endpoint)) {
        snprintf(err, errlen, "[server] endpoint \"%s\": %s", cfg->server_endpoint,
                 zmq_strerror(errno));
        return CCHC_EINVAL;
    }
    return CCHC_OK;
fail:
    snprintf(err, errlen, "could not set up the socket (%s): %s", what, zmq_strerror(errno));
    return CCHC_EIO;
}
