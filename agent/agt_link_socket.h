/* agt_link_socket.h: setting up agt_link's DEALER socket (internal to agt_link).
 *
 * Reading and checking the CURVE key files, the socket options that make a
 * link survive a mountain commune's network (heartbeats, reconnect intervals,
 * no queueing while disconnected), the monitor, and the first connect. */
#ifndef AGT_LINK_SOCKET_H
#define AGT_LINK_SOCKET_H

#include "agt_config.h"

#include "cchc_keys.h"

#include <stddef.h>

/* Reads the server's public key and this agent's pair (Z85, each
 * CCHC_KEY_Z85_LEN + 1 bytes) and checks that the pair is one pair.
 * 0 or CCHC_EINVAL with the reason (naming the file and the fix) in err. */
int agt_link_socket_keys(const agt_config_t *cfg, char server_pub[], char pub[], char sec[],
                         char *err, size_t errlen);

/* Sets the keys and options on dealer, attaches the monitor socket (a PAIR)
 * at monitor_ep, and connects to endpoint (the first of [server]
 * endpoints). 0, CCHC_EINVAL (a bad endpoint) or CCHC_EIO, with the reason
 * in err. */
int agt_link_socket_setup(void *dealer, void *monitor, const char *monitor_ep,
                          const agt_config_t *cfg, const char *endpoint, const char *server_pub,
                          const char *pub, const char *sec, char *err, size_t errlen);

#endif
