/* srv_db.c: the one libpq connection and its FIFO of jobs (see srv_db.h).
 *
 * Owns the PGconn, the queued and in-flight jobs (with copies of their
 * parameters) and the reconnect timer. Nothing here blocks once srv_db_start
 * has run: the server's zmq_poll loop polls PQsocket and calls back in.
 *
 * Connection states:
 *
 *   state       event                                    next        function
 *   ----------  ---------------------------------------  ----------  ----------------
 *   DOWN        srv_db_connect succeeds (at start)       BLOCKING    srv_db_connect
 *   BLOCKING    srv_db_start                             READY       srv_db_start
 *   READY       send, flush or read fails; a result      DOWN        s_lost
 *               arrives with the connection gone
 *   DOWN        reconnect timer due                      CONNECTING  s_connect_begin
 *   CONNECTING  PQconnectPoll returns OK                 READY       s_connect_step
 *   CONNECTING  PQconnectPoll fails, or 10 s pass        DOWN        s_connect_failed
 *   any         srv_db_abandon                           DOWN, no    srv_db_abandon
 *                                                        timer
 *
 * Entering DOWN fails the in-flight job and every queued one with
 * CCHC_EAGAIN: their outcome is unknown or they were never sent, and the
 * agents resend (the insert is idempotent). The first reconnect is tried at
 * once, then after 1 s, doubling to 30 s. */
#include "srv_db.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_BACKOFF_FIRST_MS 1000
#define S_BACKOFF_MAX_MS 30000
#define S_CONNECT_DEADLINE_MS 10000

typedef enum { S_DOWN, S_CONNECTING, S_BLOCKING, S_READY } s_state_t;

typedef struct s_job {
    struct s_job *next;
    const char *sql;
    int nparams;
    const char **values; /* these three point into the same allocation */
    int *lengths;
    int *formats;
    srv_db_cb_t *cb;
    void *arg;
} s_job_t;

struct srv_db {
    char *conninfo;
    char **listen_sql; /* "LISTEN channel" per channel */
    size_t n_listen;
    srv_db_hooks_t hooks;
    PGconn *conn;
    s_state_t state;
    PostgresPollingStatusType poll_status; /* CONNECTING: what PQconnectPoll waits for */
    int flushing;                          /* READY: PQflush returned 1 */
    s_job_t *head, *tail;                  /* queued, not yet sent */
    s_job_t *inflight;
    PGresult *result; /* result of inflight, kept until PQgetResult says NULL */
    size_t pending;   /* queued + in flight */
    int64_t timer_ms; /* DOWN: next attempt; CONNECTING: give up; else -1 */
    int64_t backoff_ms;
    unsigned attempts;
};

static void s_kick(srv_db_t *db);

/* Copies a libpq message (which ends with a newline and may span lines) into
 * buf as one line. */
static void s_oneline(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg && *msg ? msg : "unknown error");
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t' || *p == '"')
            *p = *p == '"' ? '\'' : ' ';
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
}

/* Notices (NOTICE, WARNING from the server) go to our log, not raw to
 * stderr where they would break the one-line-per-event format. */
static void s_notice(void *arg, const char *message)
{
    char msg[512];
    s_oneline(msg, sizeof msg, message);
    CCHC_LOG(CCHC_LOG_DEBUG, "db_notice", "msg=\"%s\"", msg);
}

/* Connection keywords: ours come before dbname, so that anything the
 * operator's conninfo says (expanded from dbname) overrides them. */
static PGconn *s_connect_start(const srv_db_t *db, int blocking)
{
    static const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                       NULL};
    const char *const vals[] = {"2", "cchc-server", db->conninfo, NULL};
    PGconn *conn =
        blocking ? PQconnectdbParams(keys, vals, 1) : PQconnectStartParams(keys, vals, 1);
    if (conn)
        PQsetNoticeProcessor(conn, s_notice, NULL);
    return conn;
}

static s_job_t *s_job_new(const char *sql, int n, const char *const *values, const int *lengths,
                          const int *formats, srv_db_cb_t *cb, void *arg)
{
    size_t data = 0;
    for (int i = 0; i < n; i++) {
        if (!values[i])
            continue;
        if (formats && formats[i]) {
            assert(lengths && lengths[i] >= 0);
            data += (size_t)lengths[i];
        } else {
            data += strlen(values[i]) + 1;
        }
    }
    /* One block: the job, then the pointer array, the two int arrays and the
     * bytes. sizeof(s_job_t) is a multiple of the pointer alignment. */
    size_t arrays = (size_t)n * (sizeof(char *) + 2 * sizeof(int));
    s_job_t *job = cchc_calloc(1, sizeof *job + arrays + data);
    char *p = (char *)(job + 1);
    job->values = (const char **)(void *)p;
    p += (size_t)n * sizeof(char *);
    job->lengths = (int *)(void *)p;
    p += (size_t)n * sizeof(int);
    job->formats = (int *)(void *)p;
    p += (size_t)n * sizeof(int);
    for (int i = 0; i < n; i++) {
        if (!values[i])
            continue;
        size_t len = formats && formats[i] ? (size_t)lengths[i] : strlen(values[i]) + 1;
        memcpy(p, values[i], len);
        job->values[i] = p;
        job->lengths[i] = formats && formats[i] ? lengths[i] : (int)len - 1;
        job->formats[i] = formats && formats[i] ? 1 : 0;
        p += len;
    }
    job->sql = sql;
    job->nparams = n;
    job->cb = cb;
    job->arg = arg;
    return job;
}

/* Fails the in-flight job and every queued one. The lists are detached
 * first, so a callback that submits sees an empty queue (and, when the
 * connection is down, is refused). */
static void s_fail_all(srv_db_t *db)
{
    s_job_t *inflight = db->inflight;
    s_job_t *job = db->head;
    db->inflight = NULL;
    db->head = db->tail = NULL;
    db->pending = 0;
    PQclear(db->result);
    db->result = NULL;
    if (inflight) {
        inflight->cb(db, CCHC_EAGAIN, NULL, inflight->arg);
        free(inflight);
    }
    while (job) {
        s_job_t *next = job->next;
        job->cb(db, CCHC_EAGAIN, NULL, job->arg);
        free(job);
        job = next;
    }
}

static void s_lost(srv_db_t *db, const char *why)
{
    char msg[512];
    s_oneline(msg, sizeof msg, why);
    CCHC_LOG(CCHC_LOG_WARN, "db_lost", "pending=%zu err=\"%s\"", db->pending, msg);
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = S_DOWN;
    db->flushing = 0;
    db->backoff_ms = 0;
    db->timer_ms = cchc_clock_mono_ms();
    s_fail_all(db);
}

static void s_connect_failed(srv_db_t *db, const char *why)
{
    char msg[512];
    s_oneline(msg, sizeof msg, why);
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = S_DOWN;
    db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : S_BACKOFF_FIRST_MS;
    if (db->backoff_ms > S_BACKOFF_MAX_MS)
        db->backoff_ms = S_BACKOFF_MAX_MS;
    db->timer_ms = cchc_clock_mono_ms() + db->backoff_ms;
    CCHC_LOG(CCHC_LOG_WARN, "db_connect_failed", "attempt=%u retry_in_ms=%lld err=\"%s\"",
             db->attempts, (long long)db->backoff_ms, msg);
}

/* arg is non-NULL on the last LISTEN: the owner hears of the connection
 * once every channel is in place. */
static void s_on_listen(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    if (rc != 0)
        return; /* lost again; the next connection will LISTEN */
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char msg[512];
        s_oneline(msg, sizeof msg, PQresultErrorMessage(res));
        CCHC_LOG(CCHC_LOG_ERROR, "db_listen", "err=\"%s\"", msg);
    }
    if (arg && db->hooks.on_connect)
        db->hooks.on_connect(db->hooks.arg);
}

static void s_connect_begin(srv_db_t *db)
{
    db->attempts++;
    db->conn = s_connect_start(db, 0);
    if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
        s_connect_failed(db, db->conn ? PQerrorMessage(db->conn) : "out of memory");
        return;
    }
    db->state = S_CONNECTING;
    /* libpq: before the first PQconnectPoll, behave as if it asked to write. */
    db->poll_status = PGRES_POLLING_WRITING;
    db->timer_ms = cchc_clock_mono_ms() + S_CONNECT_DEADLINE_MS;
}

static void s_connect_step(srv_db_t *db)
{
    db->poll_status = PQconnectPoll(db->conn);
    if (db->poll_status == PGRES_POLLING_FAILED) {
        s_connect_failed(db, PQerrorMessage(db->conn));
        return;
    }
    if (db->poll_status != PGRES_POLLING_OK)
        return;
    if (PQsetnonblocking(db->conn, 1) != 0) {
        s_connect_failed(db, PQerrorMessage(db->conn));
        return;
    }
    CCHC_LOG(CCHC_LOG_INFO, "db_connected", "attempts=%u", db->attempts);
    db->state = S_READY;
    db->timer_ms = -1;
    db->backoff_ms = 0;
    db->attempts = 0;
    if (!db->n_listen) {
        if (db->hooks.on_connect)
            db->hooks.on_connect(db->hooks.arg);
        return;
    }
    /* Nothing can be queued ahead of them: every job failed when we went down. */
    for (size_t i = 0; i < db->n_listen; i++)
        srv_db_submit(db, db->listen_sql[i], 0, NULL, NULL, NULL, s_on_listen,
                      i + 1 == db->n_listen ? db : NULL);
}

static void s_notifies(srv_db_t *db)
{
    PGnotify *n;
    while (db->conn && (n = PQnotifies(db->conn)) != NULL) {
        if (db->hooks.on_notify)
            db->hooks.on_notify(n->relname, n->extra, db->hooks.arg);
        PQfreemem(n);
    }
}

/* 0, or -1 when the connection was lost (and the jobs failed). */
static int s_flush(srv_db_t *db)
{
    int rc = PQflush(db->conn);
    if (rc < 0) {
        s_lost(db, PQerrorMessage(db->conn));
        return -1;
    }
    db->flushing = rc == 1;
    return 0;
}

/* Sends the next job when nothing is in flight. */
static void s_kick(srv_db_t *db)
{
    while (db->state == S_READY && !db->inflight && db->head) {
        s_job_t *job = db->head;
        db->head = job->next;
        if (!db->head)
            db->tail = NULL;
        job->next = NULL;
        db->inflight = job;
        if (PQsendQueryParams(db->conn, job->sql, job->nparams, NULL, job->values, job->lengths,
                              job->formats, 0)) {
            s_flush(db);
            return;
        }
        if (PQstatus(db->conn) != CONNECTION_OK) {
            s_lost(db, PQerrorMessage(db->conn));
            return;
        }
        /* Refused before anything was sent (libpq could not build it). */
        char msg[512];
        s_oneline(msg, sizeof msg, PQerrorMessage(db->conn));
        CCHC_LOG(CCHC_LOG_ERROR, "db_send", "err=\"%s\"", msg);
        db->inflight = NULL;
        db->pending--;
        job->cb(db, CCHC_EAGAIN, NULL, job->arg);
        free(job);
    }
}

/* Reads results while libpq has whole ones; finishes the in-flight job when
 * PQgetResult says NULL, then starts the next. */
static void s_collect(srv_db_t *db)
{
    while (db->state == S_READY && db->inflight && !PQisBusy(db->conn)) {
        PGresult *r = PQgetResult(db->conn);
        if (r) {
            /* One statement gives one result; should there be more, the
             * first error is the one that says what went wrong. */
            if (db->result && PQresultStatus(db->result) == PGRES_FATAL_ERROR) {
                PQclear(r);
            } else {
                PQclear(db->result);
                db->result = r;
            }
            continue;
        }
        if (PQstatus(db->conn) != CONNECTION_OK) {
            s_lost(db, db->result ? PQresultErrorMessage(db->result) : PQerrorMessage(db->conn));
            return;
        }
        s_job_t *job = db->inflight;
        PGresult *res = db->result;
        db->inflight = NULL;
        db->result = NULL;
        db->pending--;
        if (res)
            job->cb(db, 0, res, job->arg);
        else
            job->cb(db, CCHC_EAGAIN, NULL, job->arg);
        PQclear(res);
        free(job);
        s_kick(db);
    }
}

srv_db_t *srv_db_new(const char *conninfo, const srv_db_hooks_t *hooks)
{
    srv_db_t *db = cchc_calloc(1, sizeof *db);
    db->conninfo = cchc_strdup(conninfo ? conninfo : "");
    if (hooks)
        db->hooks = *hooks;
    for (size_t i = 0; db->hooks.listen_channels && db->hooks.listen_channels[i]; i++) {
        /* A channel is our own constant; quoting keeps it an identifier. */
        const char *channel = db->hooks.listen_channels[i];
        for (const char *p = channel; *p; p++)
            assert(*p != '"');
        db->listen_sql = cchc_realloc(db->listen_sql, (i + 1) * sizeof *db->listen_sql);
        db->listen_sql[i] = cchc_asprintf("LISTEN \"%s\"", channel);
        db->n_listen = i + 1;
    }
    db->state = S_DOWN;
    db->timer_ms = -1;
    return db;
}

void srv_db_destroy(srv_db_t **self_p)
{
    assert(self_p);
    srv_db_t *db = *self_p;
    if (!db)
        return;
    srv_db_abandon(db);
    for (size_t i = 0; i < db->n_listen; i++)
        free(db->listen_sql[i]);
    free(db->listen_sql);
    free(db->conninfo);
    free(db);
    *self_p = NULL;
}

int srv_db_connect(srv_db_t *db, int64_t timeout_ms, char *err, size_t errlen)
{
    assert(db->state == S_DOWN && !db->conn);
    int64_t deadline = cchc_clock_mono_ms() + timeout_ms;
    int64_t backoff = S_BACKOFF_FIRST_MS;
    for (unsigned attempt = 1;; attempt++) {
        PGconn *conn = s_connect_start(db, 1);
        if (PQstatus(conn) == CONNECTION_OK) {
            db->conn = conn;
            break;
        }
        s_oneline(err, errlen, conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        int64_t left = deadline - cchc_clock_mono_ms();
        if (left <= 0)
            return CCHC_EAGAIN;
        int64_t wait = backoff < left ? backoff : left;
        CCHC_LOG(CCHC_LOG_WARN, "db_connect_failed", "attempt=%u retry_in_ms=%lld err=\"%s\"",
                 attempt, (long long)wait, err);
        struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
    }
    db->state = S_BLOCKING;
    for (size_t i = 0; i < db->n_listen; i++) {
        PGresult *r = PQexec(db->conn, db->listen_sql[i]);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            s_oneline(err, errlen, PQerrorMessage(db->conn));
        PQclear(r);
        if (!ok) {
            PQfinish(db->conn);
            db->conn = NULL;
            db->state = S_DOWN;
            return CCHC_EAGAIN;
        }
    }
    return CCHC_OK;
}

PGconn *srv_db_conn(srv_db_t *db)
{
    assert(db->state == S_BLOCKING);
    return db->conn;
}

int srv_db_start(srv_db_t *db, char *err, size_t errlen)
{
    assert(db->state == S_BLOCKING);
    if (PQsetnonblocking(db->conn, 1) != 0) {
        s_oneline(err, errlen, PQerrorMessage(db->conn));
        return CCHC_EIO;
    }
    db->state = S_READY;
    return CCHC_OK;
}

int srv_db_submit(srv_db_t *db, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, srv_db_cb_t *cb, void *arg)
{
    assert(sql && cb && nparams >= 0 && (nparams == 0 || values));
    if (db->state != S_READY)
        return CCHC_EAGAIN;
    s_job_t *job = s_job_new(sql, nparams, values, lengths, formats, cb, arg);
    if (db->tail)
        db->tail->next = job;
    else
        db->head = job;
    db->tail = job;
    db->pending++;
    s_kick(db);
    return CCHC_OK;
}

int srv_db_ready(const srv_db_t *db)
{
    return db->state == S_READY;
}

size_t srv_db_pending(const srv_db_t *db)
{
    return db->pending;
}

void srv_db_pollfd(const srv_db_t *db, int *fd, short *events)
{
    *fd = -1;
    *events = 0;
    if (!db->conn)
        return;
    if (db->state == S_CONNECTING) {
        *fd = PQsocket(db->conn);
        *events = db->poll_status == PGRES_POLLING_READING ? ZMQ_POLLIN : ZMQ_POLLOUT;
    } else if (db->state == S_READY) {
        *fd = PQsocket(db->conn);
        *events = ZMQ_POLLIN | (db->flushing ? ZMQ_POLLOUT : 0);
    }
}

void srv_db_on_ready(srv_db_t *db, short revents)
{
    if (db->state == S_CONNECTING) {
        s_connect_step(db);
        return;
    }
    if (db->state != S_READY)
        return;
    /* libpq: while a flush is pending, input must still be consumed, or the
     * server may block writing to us while we block writing to it. */
    if (revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
        if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK) {
            s_lost(db, PQerrorMessage(db->conn));
            return;
        }
        s_notifies(db);
    }
    if (db->state == S_READY && db->flushing && s_flush(db) < 0)
        return;
    s_collect(db);
    s_notifies(db);
}

int64_t srv_db_next_timer(const srv_db_t *db)
{
    return db->timer_ms;
}

void srv_db_on_timer(srv_db_t *db, int64_t now_ms)
{
    if (db->timer_ms < 0 || now_ms < db->timer_ms)
        return;
    if (db->state == S_DOWN)
        s_connect_begin(db);
    else if (db->state == S_CONNECTING)
        s_connect_failed(db, "connection attempt timed out");
}

void srv_db_abandon(srv_db_t *db)
{
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = S_DOWN;
    db->flushing = 0;
    db->timer_ms = -1;
    s_fail_all(db);
}
