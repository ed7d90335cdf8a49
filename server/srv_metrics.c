/* srv_metrics.c: the /metrics endpoint's thread and HTTP, and the snapshot
 * the loop publishes to it (see srv_metrics.h).
 *
 * Owns the libmicrohttpd daemon (its internal polling thread answers every
 * connection), the published snapshot and the mutex over it. The loop's
 * side (srv_metrics_on_timer) gathers from the sources in the loop's thread
 * and only ever tries the mutex; the HTTP side copies the snapshot under it
 * and formats outside it, so a slow client or a long format never holds up
 * the loop. The scheduler's counts are read from the HTTP thread directly
 * (atomics), since a tick that writes nothing does not wake the loop. */
#include "srv_metrics.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_batch.h"
#include "srv_build_commit.h"
#include "srv_zap.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Connections at once (a Prometheus keeps one), their idle time, and the
 * memory each may use for its request (headers past it: 431). */
#define S_MAX_CONNECTIONS 32
#define S_PER_IP_CONNECTIONS 16
#define S_IDLE_TIMEOUT_S 10
#define S_REQUEST_MEMORY 65536

#define S_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct srv_metrics {
    srv_metrics_sources_t src;
    struct MHD_Daemon *httpd;
    char where[300]; /* the address, for logs */
    /* While starting, libmicrohttpd's messages in the starting thread go to
     * start_err (both set and read by that thread only). */
    pthread_t starter;
    char *start_err;
    size_t start_errlen;
    /* The loop's side. */
    int dirty;
    int64_t due_ms;
    /* Shared: the snapshot, under lock. */
    pthread_mutex_t lock;
    srv_metrics_snapshot_t snap;
};

/* ---- the loop's side --------------------------------------------------------------------- */

/* Gathers what /metrics shows, in the loop's thread; 0 when published, -1
 * when a scrape held the lock. */
static int s_publish(srv_metrics_t *self)
{
    srv_metrics_snapshot_t s;
    const srv_metrics_sources_t *src = &self->src;
    memset(&s, 0, sizeof s);
    s.c = *srv_router_counters(src->router);
    if (src->notify) {
        s.notify = *srv_notify_stats(src->notify);
        s.notify_last_seq = srv_notify_last_published(src->notify);
    }
    srv_zap_stats(src->zap, &s.zap_accepted, &s.zap_refused);
    s.agents = srv_peers_count(src->peers);
    srv_peers_queued(src->peers, &s.agents_queued, &s.agents_queued_max);
    s.pending = srv_batch_pending(src->batch);
    if (pthread_mutex_trylock(&self->lock) != 0)
        return -1;
    self->snap = s;
    pthread_mutex_unlock(&self->lock);
    return 0;
}

int64_t srv_metrics_next_timer(const srv_metrics_t *self)
{
    return self && self->dirty ? self->due_ms : -1;
}

void srv_metrics_on_timer(srv_metrics_t *self, int64_t now_ms)
{
    if (!self)
        return;
    self->dirty = 1;
    if (now_ms < self->due_ms)
        return;
    if (s_publish(self) == 0) {
        self->dirty = 0;
        self->due_ms = now_ms + SRV_METRICS_PUBLISH_MS;
    } else {
        self->due_ms = now_ms + SRV_METRICS_RETRY_MS;
    }
}

/* ---- the HTTP thread ----------------------------------------------------------------------- */

static enum MHD_Result s_reply(struct MHD_Connection *conn, unsigned int status, const char *text,
                               const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* The page: the snapshot, the scheduler's counts, the process. */
static enum MHD_Result s_metrics(srv_metrics_t *self, struct MHD_Connection *conn)
{
    srv_metrics_snapshot_t *s = cchc_malloc(sizeof *s);
    pthread_mutex_lock(&self->lock);
    *s = self->snap;
    pthread_mutex_unlock(&self->lock);
    srv_sched_stats(self->src.sched, &s->sched);
    srv_metrics_proc(s);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(s);
        return s_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
    }
    srv_metrics_format(f, s, CCHC_VERSION, SRV_BUILD_COMMIT);
    free(s);
    if (fclose(f) != 0 || !text) {
        free(text);
        return s_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, S_CONTENT_TYPE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* Every request. A refusal (405, 404) goes at the first call, before any
 * body is read (libmicrohttpd then closes the connection). A scrape is
 * answered at the second call, once the request is complete, so that its
 * connection stays open for the next one (a Prometheus keeps it); a GET
 * that carries a body is refused then (400), the body read and dropped. The
 * path comes without its query string, which is ignored. */
static enum MHD_Result s_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **req_cls)
{
    static int s_seen, s_body;
    (void)version;
    (void)upload_data;
    srv_metrics_t *self = cls;
    if (!*req_cls) {
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
            return s_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD are served here\n",
                           "GET, HEAD");
        if (strcmp(url, "/metrics") != 0)
            return s_reply(conn, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n",
                           NULL);
        *req_cls = &s_seen;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* read and dropped */
        *req_cls = &s_body;
        return MHD_YES;
    }
    if (*req_cls == &s_body)
        return s_reply(conn, MHD_HTTP_BAD_REQUEST, "a GET of /metrics has no body\n", NULL);
    return s_metrics(self, conn);
}

/* The path is compared as it came, not %-decoded: "/metrics%00" would
 * decode to "/metrics" and a NUL, and is another path (404). The query
 * string, decoded by the same function, is never used. */
static size_t s_no_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* libmicrohttpd's messages: while starting, into the caller's error (the
 * reason a bind failed); afterwards, a bad request is the client's business:
 * debug level. */
static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv_metrics_t *self = cls;
    char msg[400];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\r\n")] = '\0';
    if (pthread_equal(pthread_self(), self->starter) && self->start_err) {
        if (!self->start_err[0])
            snprintf(self->start_err, self->start_errlen, "%s", msg);
        return;
    }
    char esc[500];
    CCHC_LOG(CCHC_LOG_DEBUG, "metrics_http", "where=%s msg=%s", self->where,
             srv_logstr(esc, sizeof esc, msg));
}

/* ---- life ----------------------------------------------------------------------------------- */

srv_metrics_t *srv_metrics_new(const char *listen, const srv_metrics_sources_t *src, char *err,
                               size_t errlen)
{
    struct sockaddr_storage sa;
    socklen_t salen;
    char why[300] = "";
    if (srv_metrics_listen_parse(listen, &sa, &salen, err, errlen) != 0)
        return NULL;
    srv_metrics_t *self = cchc_calloc(1, sizeof *self);
    self->src = *src;
    snprintf(self->where, sizeof self->where, "%s", listen);
    pthread_mutex_init(&self->lock, NULL);
    s_publish(self);
    self->starter = pthread_self();
    self->start_err = why;
    self->start_errlen = sizeof why;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (sa.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint16_t port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                                             : ntohs(((struct sockaddr_in *)&sa)->sin_port);
    /* Signals are the loop's (its self-pipe): the thread starts with them
     * blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    self->httpd = MHD_start_daemon(
        flags, port, NULL, NULL, s_answer, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_UNESCAPE_CALLBACK, s_no_unescape,
        NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)S_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)S_PER_IP_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)S_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)S_REQUEST_MEMORY, MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    self->start_err = NULL;
    if (!self->httpd) {
        snprintf(err, errlen, "could not serve /metrics on %s ([metrics] listen): %s", listen,
                 why[0] ? why : "libmicrohttpd could not start");
        srv_metrics_destroy(&self);
        return NULL;
    }
    self->due_ms = cchc_clock_mono_ms() + SRV_METRICS_PUBLISH_MS;
    CCHC_LOG(CCHC_LOG_INFO, "metrics_listening", "address=%s path=/metrics", listen);
    return self;
}

void srv_metrics_destroy(srv_metrics_t **self_p)
{
    srv_metrics_t *self = *self_p;
    if (!self)
        return;
    if (self->httpd)
        MHD_stop_daemon(self->httpd);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
