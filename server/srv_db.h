/* srv_db.h: the server's one PostgreSQL connection, driven from the poll loop.
 *
 * At start the connection is blocking (srv_db_connect, then migrations and the
 * first key load on srv_db_conn). srv_db_start turns it nonblocking; from then
 * on work is a FIFO of jobs, one statement each, run one at a time, each
 * finished by a callback. The connection is re-made with backoff when it is
 * lost, LISTEN is issued again for every channel, and the on_connect hook
 * tells the owner.
 *
 * The seam for group commit is srv_db_submit: a later version may gather
 * several jobs into one pipeline without changing its callers. */
#ifndef SRV_DB_H
#define SRV_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_db srv_db_t;

/* Called exactly once per submitted job.
 *   rc == 0:           res (borrowed, never NULL) is the statement's result;
 *                      the callee checks PQresultStatus itself. An error
 *                      result here means the connection is still good.
 *   rc == CCHC_EAGAIN: the outcome is unknown (connection lost, or the job
 *                      was abandoned at shutdown); res is NULL.
 * The callback must not keep res. It may submit new jobs. */
typedef void srv_db_cb_t(srv_db_t *db, int rc, const PGresult *res, void *arg);

typedef struct {
    /* LISTENed on every connection: a NULL-terminated array of our own
     * constant names (borrowed, must outlive the srv_db); may be NULL. */
    const char *const *listen_channels;
    /* A NOTIFY arrived (strings borrowed for the call). */
    void (*on_notify)(const char *channel, const char *extra, void *arg);
    /* An async reconnect is done and LISTEN is in place. */
    void (*on_connect)(void *arg);
    void *arg;
} srv_db_hooks_t;

/* conninfo: libpq connection string ("" = PG* environment). Copied. */
srv_db_t *srv_db_new(const char *conninfo, const srv_db_hooks_t *hooks);
/* Fails every job still queued with CCHC_EAGAIN, closes the connection. */
void srv_db_destroy(srv_db_t **self_p);

/* Blocking connect with backoff (1 s doubling) for up to timeout_ms, then
 * LISTEN. 0, or CCHC_EAGAIN with err naming the last libpq error. */
int srv_db_connect(srv_db_t *db, int64_t timeout_ms, char *err, size_t errlen);
/* The connection, borrowed; only for blocking use between srv_db_connect and
 * srv_db_start. */
PGconn *srv_db_conn(srv_db_t *db);
/* Switches to nonblocking mode; jobs may be submitted from now on. 0 or
 * CCHC_EIO. */
int srv_db_start(srv_db_t *db, char *err, size_t errlen);

/* Queues one statement. sql is borrowed and must live as long as the job (a
 * string literal); values/lengths/formats are copied (lengths and formats
 * may be NULL for all-text parameters; a NULL value is SQL NULL).
 * Returns 0 (cb will be called exactly once) or CCHC_EAGAIN when the
 * connection is not up (cb is never called, arg stays the caller's). */
int srv_db_submit(srv_db_t *db, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, srv_db_cb_t *cb, void *arg);

/* True when jobs can be submitted. */
int srv_db_ready(const srv_db_t *db);
/* Jobs queued or in flight. */
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
