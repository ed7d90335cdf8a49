/* srv_metrics.h: /metrics, the server's health in the Prometheus text
 * format (exposition format 0.0.4), served by cchc-server itself on its own
 * address ([metrics] listen).
 *
 * Two threads, and data goes one way. The loop's thread owns every count
 * (srv_counters_t, the notification stats, the peer table, the batch) and
 * never waits for a scrape: each turn it calls srv_metrics_on_timer, which
 * at most every SRV_METRICS_PUBLISH_MS copies what /metrics shows into a
 * snapshot, under a mutex that the loop only tries (a scrape holds it for
 * one memcpy; when it is taken, the loop tries again SRV_METRICS_RETRY_MS
 * later). libmicrohttpd's own thread (its internal polling thread) answers
 * HTTP: it copies the snapshot, adds the scheduler's counts (relaxed
 * atomics, srv_sched_stats) and the process's figures from /proc, and
 * formats. A count is at most SRV_METRICS_PUBLISH_MS older than the loop's.
 *
 * Only GET and HEAD of /metrics are answered (200); another method is 405,
 * another path 404, a GET with a body 400; libmicrohttpd answers malformed
 * requests (400) and overlong headers (431) itself, and bounds connections
 * and their idle time.
 *
 * srv_metrics.c holds the thread, the HTTP and the snapshot;
 * srv_metrics_text.c the text, the /proc figures and the address parser, so
 * that those have unit tests without a server. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include "srv_notify.h"
#include "srv_peers.h"
#include "srv_router.h"
#include "srv_sched.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* The loop publishes a snapshot at most this often... */
#define SRV_METRICS_PUBLISH_MS 250
/* ...and, when a scrape held the snapshot's lock, tries again this soon. */
#define SRV_METRICS_RETRY_MS 10

typedef struct srv_metrics srv_metrics_t;
typedef struct srv_batch srv_batch_t;
typedef struct srv_zap srv_zap_t;

/* Where the loop reads the counts, borrowed; they must outlive the
 * srv_metrics_t. All are read in the loop's thread, but sched, whose stats
 * the HTTP thread reads (atomics); sched may be NULL. */
typedef struct {
    srv_router_t *router;
    srv_notify_t *notify;
    srv_zap_t *zap;
    srv_peers_t *peers;
    srv_batch_t *batch;
    srv_sched_t *sched;
} srv_metrics_sources_t;

/* What one scrape shows. */
typedef struct {
    srv_counters_t c;
    srv_notify_stats_t notify;
    uint64_t notify_last_seq;
    unsigned long long zap_accepted, zap_refused;
    uint64_t agents, agents_queued, agents_queued_max, pending;
    srv_sched_stats_t sched;
    /* The process (srv_metrics_proc); < 0 when it could not be read. */
    double rss_bytes, vsize_bytes, start_time_s, cpu_s, open_fds, max_fds;
} srv_metrics_snapshot_t;

/* Parses [metrics] listen: "HOST:PORT" (an IPv4 address or a name) or
 * "[IPv6]:PORT", port 1..65535; a name is resolved (its first address).
 * 0 with the address in *sa and *salen, or CCHC_EINVAL with err saying what
 * is wrong and what is expected. */
int srv_metrics_listen_parse(const char *text, struct sockaddr_storage *sa, socklen_t *salen,
                             char *err, size_t errlen);

/* The check of the configuration at start: 0 when listen is empty (off)
 * or srv_metrics_listen_parse takes it, else CCHC_EINVAL with err. */
int srv_metrics_check(const char *listen, char *err, size_t errlen);

/* Serves /metrics on listen (a non-empty address that
 * srv_metrics_listen_parse takes) from libmicrohttpd's thread, and publishes
 * a first snapshot. Call in the loop's thread. NULL with err (the address
 * and the reason: a bad address, the port taken...) on failure. */
srv_metrics_t *srv_metrics_new(const char *listen, const srv_metrics_sources_t *src, char *err,
                               size_t errlen);
/* Stops the HTTP thread (waiting for a scrape in progress) and frees. */
void srv_metrics_destroy(srv_metrics_t **self_p);

/* The loop's side; self may be NULL (metrics off): -1, nothing. Monotonic
 * ms when a snapshot is due to be published, or -1 when it is current. */
int64_t srv_metrics_next_timer(const srv_metrics_t *self);
/* Call every turn of the loop, after its work: the counts may have moved;
 * publishes them when due. */
void srv_metrics_on_timer(srv_metrics_t *self, int64_t now_ms);

/* The text of snap (srv_metrics_text.c), written to f. version and commit
 * label cchc_build_info. */
void srv_metrics_format(FILE *f, const srv_metrics_snapshot_t *snap, const char *version,
                        const char *commit);
/* Fills the process's figures of snap from /proc/self and its limits;
 * -1 for what cannot be read. */
void srv_metrics_proc(srv_metrics_snapshot_t *snap);

#endif
