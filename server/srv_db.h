/* srv_db.h: the server's one PostgreSQL connection, driven from the poll loop.
 *
 * At start the connection is blocking (srv_db_connect, then migrations and the
 * first key load on srv_db_conn). srv_db_start prepares the registered
 * statements, enters libpq pipeline mode and turns the connection
 * nonblocking; from then on work is a FIFO of segments. A segment is one or
 * more statements followed by one PQpipelineSync: PostgreSQL runs them as one
 * implicit transaction that commits at the sync, so a segment is all or
 * nothing. One segment is in flight at a time; each is finished by exactly
 * one callback, after its PGRES_PIPELINE_SYNC (or when its outcome becomes
 * unknown).
 *
 * The connection is re-made with backoff when it is lost; the first segment
 * on a new connection prepares the statements again and LISTENs on every
 * channel, then the on_connect hook tells the owner. A conninfo listing
 * several hosts (a primary and its standby, target_session_attrs=read-write)
 * is tried one host at a time, each for its connect_timeout, so that a host
 * that never answers does not hold up the one that took over (srv_db.c). */
#ifndef SRV_DB_H
#define SRV_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_db srv_db_t;

/* One statement of a segment.
 *   name set, sql NULL: run the prepared statement name (srv_db_prepare);
 *   name NULL, sql set: run sql as an unnamed statement.
 * values/lengths/formats as for PQsendQueryParams (lengths and formats may be
 * NULL for all-text parameters; a NULL value is SQL NULL). */
typedef struct {
    const char *name;
    const char *sql;
    int nparams;
    const char *const *values;
    const int *lengths;
    const int *formats;
} srv_db_stmt_t;

/* A single statement's callback (srv_db_submit), called exactly once.
 *   rc == 0:           res (borrowed, never NULL) is the statement's result;
 *                      the callee checks PQresultStatus itself. An error
 *                      result here means the connection is still good.
 *   rc == CCHC_EAGAIN: the outcome is unknown (connection lost, or the job
 *                      was abandoned at shutdown); res is NULL.
 *   rc == CCHC_EIO:    libpq refused to send it; res is NULL.
 * The callback must not keep res. It may submit new jobs. */
typedef void srv_db_cb_t(srv_db_t *db, int rc, const PGresult *res, void *arg);

/* A segment's callback (srv_db_submit_segment), called exactly once.
 *   rc == 0: the PGRES_PIPELINE_SYNC arrived; results[i] (borrowed, never
 *            NULL) is statement i's result: the expected status, or
 *            PGRES_FATAL_ERROR for the statement that failed and
 *            PGRES_PIPELINE_ABORTED for every one after it. If any is not
 *            the expected status, nothing of the segment was committed.
 *   rc == CCHC_EAGAIN: the outcome is unknown (connection lost or shutdown):
 *            it may or may not have committed; results is NULL.
 *   rc == CCHC_EIO: libpq refused to send it, nothing ran; results is NULL.
 * The callback must not keep the results. It may submit new work. */
typedef void srv_db_seg_cb_t(srv_db_t *db, int rc, PGresult *const *results, size_t n, void *arg);

typedef struct {
    /* The connection's name: its application_name and the db= of its log
     * lines (a constant, borrowed); NULL: "cchc-server". */
    const char *name;
    /* LISTENed on every connection: a NULL-terminated array of our own
     * constant names (borrowed, must outlive the srv_db); may be NULL. */
    const char *const *listen_channels;
    /* A NOTIFY arrived (strings borrowed for the call). */
    void (*on_notify)(const char *channel, const char *extra, void *arg);
    /* An async reconnect is done: statements prepared, LISTEN in place. */
    void (*on_connect)(void *arg);
    void *arg;
} srv_db_hooks_t;

/* conninfo: libpq connection string ("" = PG* environment). Copied. */
srv_db_t *srv_db_new(const char *conninfo, const srv_db_hooks_t *hooks);
/* Fails every job still queued with CCHC_EAGAIN, closes the connection. */
void srv_db_destroy(srv_db_t **self_p);

/* A segment in flight longer than ms (0: no limit) means the connection is
 * hung: it is dropped like a lost one, its work failed with
 * CCHC_EAGAIN (outcome unknown), and a new connection is made at once. */
void srv_db_set_query_timeout(srv_db_t *db, int64_t ms);

/* Registers a statement prepared on every connection, before srv_db_start.
 * name and sql are borrowed (string literals). */
void srv_db_prepare(srv_db_t *db, const char *name, const char *sql);

/* Blocking connect with backoff (1 s doubling) for up to timeout_ms, then
 * LISTEN. 0, or CCHC_EAGAIN with err naming the last libpq error. */
int srv_db_connect(srv_db_t *db, int64_t timeout_ms, char *err, size_t errlen);
/* The connection, borrowed; only for blocking use between srv_db_connect and
 * srv_db_start. */
PGconn *srv_db_conn(srv_db_t *db);
/* Prepares the registered statements, enters pipeline mode and switches to
 * nonblocking mode; work may be submitted from now on. 0 or CCHC_EIO. */
int srv_db_start(srv_db_t *db, char *err, size_t errlen);

/* Queues one statement as a segment of its own. sql is borrowed and must
 * live as long as the job (a string literal); values/lengths/formats are
 * copied. Returns 0 (cb will be called exactly once, from the loop:
 * srv_db_on_ready or srv_db_on_timer, never from inside this call) or
 * CCHC_EAGAIN when the connection is not ready (cb is never called, arg
 * stays the caller's). The segment is sent at the next srv_db_on_timer
 * (srv_db_next_timer says it is due at once). */
int srv_db_submit(srv_db_t *db, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, srv_db_cb_t *cb, void *arg);

/* Queues n >= 1 statements as one segment. The array is copied; what its
 * entries point to (names, sql, parameters) is borrowed until cb. 0 (cb will
 * be called exactly once, from the loop, as for srv_db_submit) or CCHC_EAGAIN
 * when the connection is not ready. */
int srv_db_submit_segment(srv_db_t *db, const srv_db_stmt_t *stmts, size_t n, srv_db_seg_cb_t *cb,
                          void *arg);

/* True when work can be submitted: connected and statements prepared. */
int srv_db_ready(const srv_db_t *db);
/* Segments queued or in flight. */
size_t srv_db_pending(const srv_db_t *db);

/* What to poll: *fd (-1 when there is no socket) and ZMQ_POLLIN/POLLOUT bits. */
void srv_db_pollfd(const srv_db_t *db, int *fd, short *events);
/* The socket polled by srv_db_pollfd is ready (revents from zmq_poll). */
void srv_db_on_ready(srv_db_t *db, short revents);
/* Monotonic ms of the next timer (reconnect), or -1 when none. */
int64_t srv_db_next_timer(const srv_db_t *db);
/* Runs due timers; call after every poll. */
void srv_db_on_timer(srv_db_t *db, int64_t now_ms);
/* Fails every queued and in-flight job with CCHC_EAGAIN (shutdown). */
void srv_db_abandon(srv_db_t *db);

#endif
