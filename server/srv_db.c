/* srv_db.c: the one libpq connection and its FIFO of segments (see srv_db.h).
 *
 * Owns the PGconn, the queued and in-flight segments (with copies of the
 * parameters of single statements) and the reconnect timer. Nothing here
 * blocks once srv_db_start has run: the server's zmq_poll loop polls PQsocket
 * and calls back in. The connection stays in pipeline mode; each segment is
 * its statements then one PQpipelineSync, and is finished when its
 * PGRES_PIPELINE_SYNC is read.
 *
 * Connection states:
 *
 *   state       event                                    next        function
 *   ----------  ---------------------------------------  ----------  ----------------
 *   DOWN        srv_db_connect succeeds (at start)       BLOCKING    srv_db_connect
 *   BLOCKING    srv_db_start (prepare, pipeline mode)    READY       srv_db_start
 *   READY       send, flush or read fails; results out   DOWN        s_lost
 *               of step with the statements sent
 *   DOWN        reconnect timer due                      CONNECTING  s_connect_begin
 *   CONNECTING  PQconnectPoll returns OK: the setup      READY (not  s_connect_step
 *               segment (prepare, LISTEN) is queued      prepared)
 *   READY (not  setup segment succeeds                   READY       s_on_setup
 *   prepared)   setup segment fails                      DOWN        s_on_setup
 *   CONNECTING  PQconnectPoll fails, or the host's       DOWN        s_connect_failed
 *               deadline passes; another host of the
 *               conninfo not tried yet in this round:
 *               it is tried at once
 *   CONNECTING  the same, every host tried (or only one) DOWN        s_connect_failed
 *               backoff
 *   any         srv_db_abandon                           DOWN, no    srv_db_abandon
 *                                                        timer
 *
 * Entering DOWN fails the in-flight segment and every queued one with
 * CCHC_EAGAIN: their outcome is unknown or they were never sent; owners
 * resend (the report insert is idempotent). The first reconnect is tried at
 * once, then after 1 s, doubling to 30 s.
 *
 * Failover: a conninfo that lists several hosts ("host=a,b port=p1,p2
 * target_session_attrs=read-write", a primary and its standby) is tried
 * one host at a time (srv_dbhosts.h says why: libpq's own walk through the
 * hosts has no per-host timeout from PQconnectPoll), each for its
 * connect_timeout (2 s unless the conninfo says). A round starts at the host
 * that worked last, so that a promoted standby stays preferred and an old
 * primary started again by mistake is not; libpq turns away a host that
 * target_session_attrs does not accept (read-write unless the conninfo says
 * otherwise: a standby still in recovery). The blocking connect at start
 * leaves the walk to libpq, whose blocking connect honours connect_timeout
 * per host. */
#include "srv_db.h"
#include "cchc_clock.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_dbhosts.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define S_BACKOFF_FIRST_MS 1000
#define S_BACKOFF_MAX_MS 30000
#define S_CONNECT_DEADLINE_MS 10000
/* connect_timeout unless the conninfo says: libpq's floor. */
#define S_CONNECT_TIMEOUT_S 2
#define S_STR2(x) #x
#define S_STR(x) S_STR2(x)

typedef enum { S_DOWN, S_CONNECTING, S_BLOCKING, S_READY } s_state_t;

/* One segment: statements, their results as they come, and who to tell. */
typedef struct s_job {
    struct s_job *next;
    srv_db_stmt_t *stmts; /* these two point into the same allocation */
    PGresult **results;
    size_t n;
    size_t cur; /* in flight: the statement whose results are being read */
    srv_db_seg_cb_t *seg_cb;
    srv_db_cb_t *cb; /* single statements (srv_db_submit) */
    void *arg;
} s_job_t;

typedef struct {
    const char *name, *sql;
} s_prepared_t;

struct srv_db {
    char *conninfo;
    const char *name;
    char **listen_sql; /* "LISTEN channel" per channel */
    size_t n_listen;
    s_prepared_t *prepared;
    size_t n_prepared;
    srv_db_stmt_t *setup; /* PREPARE each, then LISTEN each */
    srv_db_hooks_t hooks;
    PGconn *conn;
    s_state_t state;
    int ready;                             /* READY and statements prepared */
    PostgresPollingStatusType poll_status; /* CONNECTING: what PQconnectPoll waits for */
    int flushing;                          /* READY: PQflush returned 1 */
    s_job_t *head, *tail;                  /* queued, not yet sent */
    s_job_t *inflight;
    size_t pending;   /* queued + in flight */
    int64_t timer_ms; /* DOWN: next attempt; CONNECTING: give up; else -1 */
    int64_t backoff_ms;
    unsigned attempts;
    srv_dbhosts_t *hosts;     /* several hosts: one per attempt; else NULL */
    size_t host_first;        /* a round starts here: the host that worked last */
    size_t host_tried;        /* CONNECTING: hosts tried in this round, this one included */
    int64_t host_deadline;    /* ms one host may take (0: S_CONNECT_DEADLINE_MS) */
    int64_t query_timeout_ms; /* 0: wait forever for the segment in flight */
    int in_submit;            /* inside srv_db_submit*: no callback may run */
    int64_t inflight_since_ms;
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
    /* Keepalives notice a silent network. The server writes: a standby
     * still in recovery (hot standby) is no use to it, whatever host list
     * the conninfo gives (libpq then tries the next host). */
    static const char *const keys[] = {
        "connect_timeout",  "fallback_application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "target_session_attrs",      "dbname",          NULL};
    const char *const vals[] = {
        S_STR(S_CONNECT_TIMEOUT_S), db->name, "30", "10", "3", "read-write", db->conninfo, NULL};
    PGconn *conn;
    if (blocking) {
        conn = PQconnectdbParams(keys, vals, 1);
    } else if (db->hosts) {
        /* The conninfo already taken apart: our keywords but the last,
         * dbname, which is not to be expanded now. */
        const char *dkeys[sizeof keys / sizeof *keys];
        memcpy(dkeys, keys, sizeof keys);
        dkeys[sizeof keys / sizeof *keys - 2] = NULL;
        const char *const *k, *const *v;
        size_t i = (db->host_first + db->host_tried - 1) % srv_dbhosts_count(db->hosts);
        srv_dbhosts_params(db->hosts, i, dkeys, vals, &k, &v);
        conn = PQconnectStartParams(k, v, 0);
    } else {
        conn = PQconnectStartParams(keys, vals, 1);
    }
    if (conn)
        PQsetNoticeProcessor(conn, s_notice, NULL);
    return conn;
}

/* A segment of n statements; the array is copied, what it points to is not. */
static s_job_t *s_job_new(const srv_db_stmt_t *stmts, size_t n, size_t extra)
{
    /* One block: the job, the statements, the result pointers, then extra
     * bytes for the caller (parameter copies of a single statement). */
    s_job_t *job = cchc_calloc(1, sizeof *job + n * (sizeof *stmts + sizeof(PGresult *)) + extra);
    job->stmts = (srv_db_stmt_t *)(void *)(job + 1);
    job->results = (PGresult **)(void *)(job->stmts + n);
    memcpy(job->stmts, stmts, n * sizeof *stmts);
    job->n = n;
    return job;
}

/* A segment of one statement that owns copies of its parameters. */
static s_job_t *s_job_single(const char *sql, int n, const char *const *values, const int *lengths,
                             const int *formats)
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
    size_t arrays = (size_t)n * (sizeof(char *) + 2 * sizeof(int));
    srv_db_stmt_t st = {.sql = sql, .nparams = n};
    s_job_t *job = s_job_new(&st, 1, arrays + data);
    /* After the result pointer: the pointer array, two int arrays, bytes.
     * The block so far is a multiple of the pointer alignment. */
    char *p = (char *)(job->results + 1);
    const char **vals = (const char **)(void *)p;
    p += (size_t)n * sizeof(char *);
    int *lens = (int *)(void *)p;
    p += (size_t)n * sizeof(int);
    int *fmts = (int *)(void *)p;
    p += (size_t)n * sizeof(int);
    for (int i = 0; i < n; i++) {
        if (!values[i])
            continue;
        size_t len = formats && formats[i] ? (size_t)lengths[i] : strlen(values[i]) + 1;
        memcpy(p, values[i], len);
        vals[i] = p;
        lens[i] = formats && formats[i] ? lengths[i] : (int)len - 1;
        fmts[i] = formats && formats[i] ? 1 : 0;
        p += len;
    }
    job->stmts[0].values = vals;
    job->stmts[0].lengths = lens;
    job->stmts[0].formats = fmts;
    return job;
}

/* Tells the owner and frees the job; the job is already off every list. */
static void s_finish(srv_db_t *db, s_job_t *job, int rc)
{
    assert(!db->in_submit);
    if (job->cb) {
        if (rc == 0 && !job->results[0])
            rc = CCHC_EAGAIN;
        job->cb(db, rc, rc == 0 ? job->results[0] : NULL, job->arg);
    } else {
        job->seg_cb(db, rc, rc == 0 ? job->results : NULL, job->n, job->arg);
    }
    for (size_t i = 0; i < job->n; i++)
        PQclear(job->results[i]);
    free(job);
}

/* Fails the in-flight segment and every queued one. The lists are detached
 * first, so a callback that submits sees an empty queue (and, when the
 * connection is down, is refused). */
static void s_fail_all(srv_db_t *db)
{
    s_job_t *inflight = db->inflight;
    s_job_t *job = db->head;
    db->inflight = NULL;
    db->head = db->tail = NULL;
    db->pending = 0;
    if (inflight)
        s_finish(db, inflight, CCHC_EAGAIN);
    while (job) {
        s_job_t *next = job->next;
        s_finish(db, job, CCHC_EAGAIN);
        job = next;
    }
}

/* Closes the connection and fails the work. backoff: wait before the next
 * attempt (the server answered but refused us), else retry at once. */
static void s_lost(srv_db_t *db, const char *why, int backoff)
{
    char msg[512];
    s_oneline(msg, sizeof msg, why);
    CCHC_LOG(CCHC_LOG_WARN, "db_lost", "db=%s pending=%zu err=\"%s\"", db->name, db->pending, msg);
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = S_DOWN;
    db->ready = 0;
    db->flushing = 0;
    if (!backoff)
        db->backoff_ms = 0;
    db->timer_ms = cchc_clock_mono_ms() + (backoff ? db->backoff_ms : 0);
    s_fail_all(db);
}

/* "host:port" of the host a connection is for (the last one libpq tried,
 * when it walks a list itself), for the logs. */
static const char *s_host(const PGconn *conn, char *buf, size_t len)
{
    const char *h = conn ? PQhost(conn) : NULL, *p = conn ? PQport(conn) : NULL;
    snprintf(buf, len, "%s:%s", h && *h ? h : "-", p && *p ? p : "-");
    return buf;
}

static void s_connect_failed(srv_db_t *db, const char *why)
{
    char msg[512], host[300];
    s_oneline(msg, sizeof msg, why);
    s_host(db->conn, host, sizeof host);
    PQfinish(db->conn);
    db->conn = NULL;
    db->state = S_DOWN;
    db->ready = 0;
    if (db->hosts && db->host_tried < srv_dbhosts_count(db->hosts)) {
        /* Another host of this round, at once: it may be the one to take
         * over (a standby promoted). */
        db->timer_ms = cchc_clock_mono_ms();
        CCHC_LOG(CCHC_LOG_WARN, "db_connect_failed",
                 "db=%s host=%s attempt=%u next=\"the next host at once\" err=\"%s\"", db->name,
                 host, db->attempts, msg);
        return;
    }
    db->host_tried = 0;
    db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : S_BACKOFF_FIRST_MS;
    if (db->backoff_ms > S_BACKOFF_MAX_MS)
        db->backoff_ms = S_BACKOFF_MAX_MS;
    db->timer_ms = cchc_clock_mono_ms() + db->backoff_ms;
    CCHC_LOG(CCHC_LOG_WARN, "db_connect_failed",
             "db=%s host=%s attempt=%u retry_in_ms=%lld err=\"%s\"", db->name, host, db->attempts,
             (long long)db->backoff_ms, msg);
}

/* The first segment of a connection: every statement prepared, every
 * channel LISTENed. Any failure means the schema is not what we expect (or
 * the server is going away): drop the connection and try again later. */
/* Settings of every session of the server, sent when it connects. Not
 * connection options: PGOPTIONS and a pooler stay the operator's; where one
 * is not supported it fails, harmlessly, and is logged.
 *  - A backend whose client went away (the query timeout) stops even while
 *    it waits on a lock (PostgreSQL 14+, Linux).
 *  - No JIT: every statement of the server is short, and a generic plan
 *    whose estimated cost crosses jit_above_cost (PostgreSQL's default is
 *    on) is compiled at each execution: cchc_batch_context took 800 ms
 *    instead of 4 ms so on a database a benchmark had filled. */
static const char *const s_session_settings[] = {
    "SET client_connection_check_interval = 10000",
    "SET jit = off",
};

static void s_on_session_set(srv_db_t *db, int rc, const PGresult *res, void *arg)
{
    (void)db;
    if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK) {
        char msg[300];
        s_oneline(msg, sizeof msg, PQresultErrorMessage(res));
        CCHC_LOG(CCHC_LOG_INFO, "db_setting_unset", "stmt=\"%s\" err=\"%s\"", (const char *)arg,
                 msg);
    }
}

static void s_on_setup(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg)
{
    (void)arg;
    if (rc != 0)
        return; /* lost again; the next connection sets up again */
    for (size_t i = 0; i < n; i++) {
        if (PQresultStatus(results[i]) != PGRES_COMMAND_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "could not set up the connection: %s",
                     PQresultErrorMessage(results[i]));
            db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : S_BACKOFF_FIRST_MS;
            if (db->backoff_ms > S_BACKOFF_MAX_MS)
                db->backoff_ms = S_BACKOFF_MAX_MS;
            s_lost(db, msg, 1);
            return;
        }
    }
    db->ready = 1;
    db->backoff_ms = 0;
    for (size_t i = 0; i < sizeof s_session_settings / sizeof *s_session_settings; i++)
        srv_db_submit(db, s_session_settings[i], 0, NULL, NULL, NULL, s_on_session_set,
                      (void *)s_session_settings[i]);
    if (db->hooks.on_connect)
        db->hooks.on_connect(db->hooks.arg);
}

static void s_connect_begin(srv_db_t *db)
{
    db->attempts++;
    if (db->hosts)
        db->host_tried++;
    db->conn = s_connect_start(db, 0);
    if (!db->conn || PQstatus(db->conn) == CONNECTION_BAD) {
        s_connect_failed(db, db->conn ? PQerrorMessage(db->conn) : "out of memory");
        return;
    }
    db->state = S_CONNECTING;
    /* libpq: before the first PQconnectPoll, behave as if it asked to write. */
    db->poll_status = PGRES_POLLING_WRITING;
    db->timer_ms = cchc_clock_mono_ms() +
                   (db->hosts && db->host_deadline > 0 ? db->host_deadline : S_CONNECT_DEADLINE_MS);
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
    if (PQsetnonblocking(db->conn, 1) != 0 || PQenterPipelineMode(db->conn) != 1) {
        s_connect_failed(db, PQerrorMessage(db->conn));
        return;
    }
    char host[300];
    CCHC_LOG(CCHC_LOG_INFO, "db_connected", "db=%s host=%s attempts=%u", db->name,
             s_host(db->conn, host, sizeof host), db->attempts);
    if (db->hosts) {
        db->host_first = (db->host_first + db->host_tried - 1) % srv_dbhosts_count(db->hosts);
        db->host_tried = 0;
    }
    db->state = S_READY;
    db->timer_ms = -1;
    db->attempts = 0;
    /* Nothing can be queued ahead of it: every job failed when we went down,
     * and submissions are refused until it is done. */
    size_t n = db->n_prepared + db->n_listen;
    if (n == 0) {
        s_on_setup(db, 0, NULL, 0, NULL);
        return;
    }
    s_job_t *job = s_job_new(db->setup, n, 0);
    job->seg_cb = s_on_setup;
    db->head = db->tail = job;
    db->pending++;
    s_kick(db);
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
        s_lost(db, PQerrorMessage(db->conn), 0);
        return -1;
    }
    db->flushing = rc == 1;
    return 0;
}

static int s_send_stmt(PGconn *conn, const srv_db_stmt_t *st)
{
    if (st->name && st->sql)
        return PQsendPrepare(conn, st->name, st->sql, 0, NULL);
    if (st->name)
        return PQsendQueryPrepared(conn, st->name, st->nparams, st->values, st->lengths,
                                   st->formats, 0);
    return PQsendQueryParams(conn, st->sql, st->nparams, NULL, st->values, st->lengths, st->formats,
                             0);
}

/* Sends the next segment, statements then sync, when nothing is in flight.
 * libpq buffers what the socket does not take; s_flush pushes it out as the
 * socket allows, while the loop keeps reading. */
static void s_kick(srv_db_t *db)
{
    while (db->state == S_READY && !db->inflight && db->head) {
        s_job_t *job = db->head;
        db->head = job->next;
        if (!db->head)
            db->tail = NULL;
        job->next = NULL;
        job->cur = 0;
        db->inflight = job;
        db->inflight_since_ms = cchc_clock_mono_ms();
        size_t sent = 0;
        while (sent < job->n && s_send_stmt(db->conn, &job->stmts[sent]))
            sent++;
        if (sent == job->n && PQpipelineSync(db->conn)) {
            s_flush(db);
            return;
        }
        if (sent > 0 || PQstatus(db->conn) != CONNECTION_OK) {
            /* Part of it is in the pipeline already: the connection is no
             * longer in step with our queue. */
            s_lost(db, PQerrorMessage(db->conn), 0);
            return;
        }
        /* Refused before anything was sent (libpq could not build it). */
        char msg[512];
        s_oneline(msg, sizeof msg, PQerrorMessage(db->conn));
        CCHC_LOG(CCHC_LOG_ERROR, "db_send", "db=%s err=\"%s\"", db->name, msg);
        db->inflight = NULL;
        db->pending--;
        s_finish(db, job, CCHC_EIO);
    }
}

/* Reads results while libpq has whole ones. Per statement: one result (the
 * expected one, PGRES_FATAL_ERROR or PGRES_PIPELINE_ABORTED), then NULL;
 * after the last, PGRES_PIPELINE_SYNC, which finishes the segment (the
 * implicit transaction has committed by then) and starts the next. */
static void s_collect(srv_db_t *db)
{
    while (db->state == S_READY && db->inflight && !PQisBusy(db->conn)) {
        s_job_t *job = db->inflight;
        PGresult *r = PQgetResult(db->conn);
        if (!r) {
            if (job->cur < job->n && job->results[job->cur]) {
                job->cur++;
                continue;
            }
            s_lost(db,
                   PQstatus(db->conn) != CONNECTION_OK ? PQerrorMessage(db->conn)
                                                       : "pipeline out of step: no result",
                   0);
            return;
        }
        db->inflight_since_ms = cchc_clock_mono_ms(); /* progress: not hung */
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (job->cur != job->n) {
                s_lost(db, "pipeline out of step: early sync", 0);
                return;
            }
            db->inflight = NULL;
            db->pending--;
            s_finish(db, job, 0);
            s_kick(db);
            continue;
        }
        if (job->cur >= job->n) {
            char msg[512];
            snprintf(msg, sizeof msg, "pipeline out of step: extra result %s: %s", PQresStatus(st),
                     PQresultErrorMessage(r));
            PQclear(r);
            s_lost(db, msg, 0);
            return;
        }
        /* One statement gives one result; should there be more, the first
         * error is the one that says what went wrong. */
        PGresult **slot = &job->results[job->cur];
        if (!*slot || (PQresultStatus(*slot) != PGRES_FATAL_ERROR && st == PGRES_FATAL_ERROR)) {
            PQclear(*slot);
            *slot = r;
        } else {
            PQclear(r);
        }
    }
}

srv_db_t *srv_db_new(const char *conninfo, const srv_db_hooks_t *hooks)
{
    srv_db_t *db = cchc_calloc(1, sizeof *db);
    db->conninfo = cchc_strdup(conninfo ? conninfo : "");
    if (hooks)
        db->hooks = *hooks;
    db->name = db->hooks.name ? db->hooks.name : "cchc-server";
    for (size_t i = 0; db->hooks.listen_channels && db->hooks.listen_channels[i]; i++) {
        /* A channel is our own constant; quoting keeps it an identifier. */
        const char *channel = db->hooks.listen_channels[i];
        for (const char *p = channel; *p; p++)
            assert(*p != '"');
        db->listen_sql = cchc_realloc(db->listen_sql, (i + 1) * sizeof *db->listen_sql);
        db->listen_sql[i] = cchc_asprintf("LISTEN \"%s\"", channel);
        db->n_listen = i + 1;
    }
    db->hosts = srv_dbhosts_new(db->conninfo);
    if (db->hosts)
        db->host_deadline = srv_dbhosts_timeout_ms(db->hosts, S_CONNECT_TIMEOUT_S);
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
    free(db->prepared);
    free(db->setup);
    srv_dbhosts_destroy(&db->hosts);
    free(db->conninfo);
    free(db);
    *self_p = NULL;
}

void srv_db_set_query_timeout(srv_db_t *db, int64_t ms)
{
    db->query_timeout_ms = ms > 0 ? ms : 0;
}

void srv_db_prepare(srv_db_t *db, const char *name, const char *sql)
{
    assert(name && sql && db->state != S_READY);
    db->prepared = cchc_realloc(db->prepared, (db->n_prepared + 1) * sizeof *db->prepared);
    db->prepared[db->n_prepared++] = (s_prepared_t){.name = name, .sql = sql};
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
        CCHC_LOG(CCHC_LOG_WARN, "db_connect_failed", "db=%s attempt=%u retry_in_ms=%lld err=\"%s\"",
                 db->name, attempt, (long long)wait, err);
        struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff * 2;
    }
    db->state = S_BLOCKING;
    /* Before the migrations and the loads the caller runs on it (failure is
     * harmless, as in s_on_setup). */
    for (size_t i = 0; i < sizeof s_session_settings / sizeof *s_session_settings; i++)
        PQclear(PQexec(db->conn, s_session_settings[i]));
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
    /* The setup segment of every later connection: the same work. */
    free(db->setup);
    db->setup = cchc_calloc(db->n_prepared + db->n_listen + 1, sizeof *db->setup);
    for (size_t i = 0; i < db->n_prepared; i++)
        db->setup[i] = (srv_db_stmt_t){.name = db->prepared[i].name, .sql = db->prepared[i].sql};
    for (size_t i = 0; i < db->n_listen; i++)
        db->setup[db->n_prepared + i] = (srv_db_stmt_t){.sql = db->listen_sql[i]};
    for (size_t i = 0; i < db->n_prepared; i++) {
        PGresult *r = PQprepare(db->conn, db->prepared[i].name, db->prepared[i].sql, 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            snprintf(err, errlen, "could not prepare %s: %s", db->prepared[i].name,
                     PQresultErrorMessage(r));
        PQclear(r);
        if (!ok)
            return CCHC_EIO;
    }
    if (PQsetnonblocking(db->conn, 1) != 0 || PQenterPipelineMode(db->conn) != 1) {
        s_oneline(err, errlen, PQerrorMessage(db->conn));
        return CCHC_EIO;
    }
    db->state = S_READY;
    db->ready = 1;
    return CCHC_OK;
}

/* Queues the job. It is sent from the loop (srv_db_on_timer, which
 * srv_db_next_timer makes due at once, or after the segment in flight):
 * never from inside a submit, so no callback ever runs inside one, not even
 * when sending fails. */
static void s_enqueue(srv_db_t *db, s_job_t *job)
{
    if (db->tail)
        db->tail->next = job;
    else
        db->head = job;
    db->tail = job;
    db->pending++;
}

/* The next segment can be sent now. */
static int s_kick_due(const srv_db_t *db)
{
    return db->state == S_READY && !db->inflight && db->head;
}

int srv_db_submit(srv_db_t *db, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, srv_db_cb_t *cb, void *arg)
{
    assert(sql && cb && nparams >= 0 && (nparams == 0 || values));
    if (!db->ready)
        return CCHC_EAGAIN;
    s_job_t *job = s_job_single(sql, nparams, values, lengths, formats);
    job->cb = cb;
    job->arg = arg;
    db->in_submit = 1;
    s_enqueue(db, job);
    db->in_submit = 0;
    return CCHC_OK;
}

int srv_db_submit_segment(srv_db_t *db, const srv_db_stmt_t *stmts, size_t n, srv_db_seg_cb_t *cb,
                          void *arg)
{
    assert(stmts && n > 0 && cb);
    if (!db->ready)
        return CCHC_EAGAIN;
    s_job_t *job = s_job_new(stmts, n, 0);
    job->seg_cb = cb;
    job->arg = arg;
    db->in_submit = 1;
    s_enqueue(db, job);
    db->in_submit = 0;
    return CCHC_OK;
}

int srv_db_ready(const srv_db_t *db)
{
    return db->ready;
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
            s_lost(db, PQerrorMessage(db->conn), 0);
            return;
        }
        s_notifies(db);
    }
    if (db->state == S_READY && db->flushing && s_flush(db) < 0)
        return;
    s_collect(db);
    s_notifies(db);
}

/* When the segment in flight has waited too long, or -1. */
static int64_t s_hang_due(const srv_db_t *db)
{
    return db->state == S_READY && db->inflight && db->query_timeout_ms > 0
               ? db->inflight_since_ms + db->query_timeout_ms
               : -1;
}

int64_t srv_db_next_timer(const srv_db_t *db)
{
    if (s_kick_due(db))
        return cchc_clock_mono_ms();
    int64_t hang = s_hang_due(db);
    return hang >= 0 && (db->timer_ms < 0 || hang < db->timer_ms) ? hang : db->timer_ms;
}

/* PostgreSQL holds the connection open but gives no result for
 * query_timeout_ms after the segment was sent or its last result came (a
 * stopped or wedged backend, a network that drops without a reset): drop
 * the connection like a lost one, and wait the backoff before the next. No PQcancel: it waits for
 * the postmaster to answer, which may hang too. The segment's outcome is unknown (CCHC_EAGAIN): its
 * owner resends it on the new connection, and the stores are idempotent. */
static void s_hung(srv_db_t *db)
{
    char why[160];
    snprintf(why, sizeof why, "no answer from PostgreSQL for %lld ms (query_timeout_ms)",
             (long long)db->query_timeout_ms);
    /* Not at once: if it hangs again, the orphans must not pile up faster
     * than PostgreSQL notices them gone. */
    db->backoff_ms = db->backoff_ms ? db->backoff_ms * 2 : S_BACKOFF_FIRST_MS;
    if (db->backoff_ms > S_BACKOFF_MAX_MS)
        db->backoff_ms = S_BACKOFF_MAX_MS;
    s_lost(db, why, 1);
}

void srv_db_on_timer(srv_db_t *db, int64_t now_ms)
{
    if (s_kick_due(db))
        s_kick(db);
    int64_t hang = s_hang_due(db);
    if (hang >= 0 && now_ms >= hang) {
        s_hung(db);
        return;
    }
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
    db->host_tried = 0;
    db->state = S_DOWN;
    db->ready = 0;
    db->flushing = 0;
    db->timer_ms = -1;
    s_fail_all(db);
}
