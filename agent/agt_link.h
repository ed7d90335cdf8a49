/* agt_link.h: the agent's connection to the district server.
 *
 * Owns the ZeroMQ context, the CURVE DEALER socket, its monitor and the window
 * of reports in flight (agt_window: [agent] window reports and window_bytes
 * bytes at most). It reads queued rows from the outbox, sends them in
 * Envelopes, resends them on reconnect and on timeouts (with backoff and
 * jitter, forever), backs off a report the server answers "busy", and records
 * each Ack or Nack on the row. Hello goes on connect and every
 * [agent] hello_interval_ms; ZMTP heartbeats ([server] heartbeat_*) drop a
 * dead or frozen connection so it is redialled. It also keeps
 * the unit's metadata in sync (agt_sync): MetaRequest after Hello, Meta and
 * MetaChanged from the server; and stores the unit's notifications (agt_notify):
 * Notification in, NotificationAck and Hello.last_seq out, [agent] on_alert. */
#ifndef AGT_LINK_H
#define AGT_LINK_H

#include "agt_config.h"
#include "agt_outbox.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct agt_link_t agt_link_t;

/* How agt_link_run ends; negative values are CCHC_E* codes. */
enum {
    AGT_LINK_STOPPED = 0,     /* *stop was set (SIGTERM, SIGINT) */
    AGT_LINK_DRAINED = 1,     /* drain asked, no row is queued and the metadata was synced */
    AGT_LINK_TIMED_OUT = 2,   /* timeout_ms passed */
    AGT_LINK_SYNCED = 3,      /* sync_once asked and the server answered the MetaRequest */
    AGT_LINK_KEY_REVOKED = 4, /* sync_once asked and the server refused this agent's key */
};

typedef struct {
    int drain;                   /* return once no row is queued and one metadata sync was
                                    answered (or the server refused the key) */
    int sync_once;               /* send no report; return once the metadata sync is answered */
    int64_t timeout_ms;          /* 0: no limit */
    volatile sig_atomic_t *stop; /* set by a signal handler; checked every loop */
} agt_link_opts_t;

/* What a run saw, for the commands that explain how it ended. */
typedef struct {
    int connected;        /* a handshake succeeded */
    int handshake_failed; /* a handshake failed (the key, or the link mid-handshake) */
    int key_revoked;      /* the server refused this agent's key on an open connection */
    uint64_t attempts;    /* connection attempts while not connected (the last stretch) */
    int sync;             /* AGT_SYNC_* of the last metadata answer */
} agt_link_seen_t;

/* Reads the key files, makes and connects the socket. cfg and outbox are
 * borrowed and must outlive the link. NULL on failure, with the reason (in
 * English, naming the file and the fix) in err. */
agt_link_t *agt_link_new(const agt_config_t *cfg, agt_outbox_t *outbox, char *err, size_t errlen);
/* Closes the sockets (LINGER bounds the wait); accepts NULL. */
void agt_link_destroy(agt_link_t **self_p);

/* Runs the loop until one of the ends above. */
int agt_link_run(agt_link_t *self, const agt_link_opts_t *opts);
/* What the runs so far saw. */
void agt_link_seen(const agt_link_t *self, agt_link_seen_t *out);

#endif
