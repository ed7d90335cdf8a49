/* srv_server.h: the cchc-server object and its loop.
 *
 * The server owns the zmq context, the router (srv_router: the ROUTER that
 * agents and subscribers connect to), the ZAP handler, the database
 * connection, the units' metadata, the batch, notification delivery, the
 * scheduler and the signal self-pipe, all driven by one zmq_poll loop in one
 * thread (the scheduler's ticks have a thread of their own). It reads and
 * decodes each frame once, checks its principal, and hands it to the
 * handler of its kind (srv_handle.h) with what handlers may use; nothing
 * calls back into this object. */
#ifndef SRV_SERVER_H
#define SRV_SERVER_H

#include "srv_config.h"

#include <stddef.h>

/* How long the first connection to PostgreSQL may take, retries included. */
#define SRV_SERVER_DB_START_MS 30000

typedef struct srv_server srv_server_t;

/* Connects to the database (retrying up to SRV_SERVER_DB_START_MS), applies
 * migrations, loads the key cache, binds the ZAP handler then the ROUTER.
 * secret_z85 is the server's secret key (copied into the socket only).
 * NULL on failure, err says what and why. */
srv_server_t *srv_server_new(const srv_config_t *cfg, const char *secret_z85, char *err,
                             size_t errlen);
/* Fails what is still queued (NACK_BUSY), closes sockets, disconnects. */
void srv_server_destroy(srv_server_t **self_p);

/* Runs until SIGTERM/SIGINT and a drain of queued work (bounded by
 * shutdown_grace_ms). 0 on a clean stop, CCHC_EIO if the loop failed. */
int srv_server_run(srv_server_t *self);

#endif
