/* fake_db.h: a test double of server/srv_db.h, for the unit tests of the
 * modules that drive a database connection (srv_batch, srv_notify).
 *
 * fake_db.c implements the whole srv_db API without a network. Each srv_db
 * instance keeps the jobs submitted to it (single statements and segments,
 * their statement names or SQL and parameter values copied) in a FIFO, as
 * the real connection does, and calls a job's callback only when the test
 * finishes that job: with results the test built (fake_db_tuples,
 * fake_db_error, ...), with CCHC_EIO (libpq refused it), or by losing the
 * connection (every job CCHC_EAGAIN, as srv_db's s_lost). Nothing is ever
 * called back from inside a submit (srv_db.h's contract).
 *
 * The fake fails the running cmocka test when it is used in a way the real
 * srv_db could not be: a job finished while the connection is down, a
 * callback that re-enters the loop's entry points (on_ready, on_timer,
 * destroy) or the test's driving functions, a segment whose borrowed
 * statements changed before its callback, a result count that does not
 * match the job or that a pipeline could not give (a statement after one
 * that failed is PGRES_PIPELINE_ABORTED, and only such a one).
 *
 * What is not simulated: the setup statements of a real reconnect (PREPARE,
 * LISTEN, SET client_connection_check_interval) are srv_db's own and run
 * before on_connect; notifications (on_notify); the query timeout.
 *
 * SQLSTATEs: PQmakeEmptyPGresult cannot set the fields PQresultErrorField
 * reads, so a program linked with the fake wraps libpq's PQresultErrorField,
 * PQclear and PQexec (ld --wrap, see tests/CMakeLists.txt): the fields of an
 * fake_db_error result come from a table kept here, and PQexec on
 * srv_db_conn's connection is answered by fake_db_on_exec. */
#ifndef FAKE_DB_H
#define FAKE_DB_H

#include "srv_db.h"

#include <libpq-fe.h>
#include <stddef.h>

/* One statement of a queued job, as submitted (copies). */
typedef struct {
    const char *name; /* a prepared statement's name, or NULL */
    const char *sql;  /* an unnamed statement's text, or NULL */
    int nparams;
    const char *const *values; /* each parameter (text NUL-terminated); NULL is SQL NULL */
    const int *lengths;        /* each parameter's length in bytes (text: strlen) */
    const int *formats;        /* each parameter's format: 0 text, 1 binary */
} fake_db_stmt_t;

/* A queued job. */
typedef struct {
    int segment; /* srv_db_submit_segment; 0: srv_db_submit */
    size_t n;    /* statements */
    const fake_db_stmt_t *stmts;
} fake_db_job_t;

/* ---- instances ------------------------------------------------------------------------ */

/* Forgets what a test that failed left behind (cmocka leaves it by a long
 * jump, maybe from inside a callback): the instances it did not destroy
 * (dropped, not freed: they may be in any state) and the callback or
 * submit it was in. Call at the start of each test. */
void fake_db_reset(void);

/* The live instances, in the order they were made (srv_db_new). */
size_t fake_db_count(void);
srv_db_t *fake_db_at(size_t i);
/* hooks->name of db ("cchc-server" when none), borrowed. */
const char *fake_db_name(const srv_db_t *db);
/* The statements registered with srv_db_prepare: how many, and the i-th name. */
size_t fake_db_prepared(const srv_db_t *db);
const char *fake_db_prepared_name(const srv_db_t *db, size_t i);
/* Submits refused because the connection was not ready. */
size_t fake_db_refused(const srv_db_t *db);

/* ---- the queue ------------------------------------------------------------------------- */

/* Jobs queued (equal to srv_db_pending). */
size_t fake_db_jobs(const srv_db_t *db);
/* The k-th queued job (0: the head, the one "in flight"), borrowed until it
 * is finished; NULL when there are not that many. */
const fake_db_job_t *fake_db_job(const srv_db_t *db, size_t k);

/* ---- driving it ------------------------------------------------------------------------ */

/* Finishes the head job with rc 0: its callback gets results[0..n) (taken:
 * cleared after the callback). n must be the job's statement count. */
void fake_db_finish(srv_db_t *db, PGresult **results, size_t n);
/* The same for a job of one statement. */
void fake_db_finish1(srv_db_t *db, PGresult *res);
/* Finishes the head job with an error code:
 *   CCHC_EIO:    libpq refused to send it; the connection stays up;
 *   CCHC_EAGAIN: the connection is lost (fake_db_lose). */
void fake_db_fail(srv_db_t *db, int rc);
/* The connection is lost: not ready from now on, and every job, the head
 * first, fails with CCHC_EAGAIN (a callback that submits is refused). */
void fake_db_lose(srv_db_t *db);
/* The connection is back: ready, then the on_connect hook. */
void fake_db_reconnect(srv_db_t *db);
/* Makes the next srv_db_connect of db fail with CCHC_EAGAIN and err. */
void fake_db_fail_connect(srv_db_t *db, const char *err);
/* What PQexec on srv_db_conn(db) returns (a result of the callee's; NULL:
 * a PGRES_FATAL_ERROR result). */
typedef PGresult *fake_db_exec_fn(const char *sql, void *arg);
void fake_db_on_exec(srv_db_t *db, fake_db_exec_fn *fn, void *arg);

/* ---- results ------------------------------------------------------------------------- */

/* PGRES_TUPLES_OK with ncols text columns and nrows rows; cells holds
 * nrows * ncols strings, row by row, NULL for SQL NULL. */
PGresult *fake_db_tuples(int ncols, int nrows, const char *const *cells);
/* PGRES_COMMAND_OK. */
PGresult *fake_db_command_ok(void);
/* PGRES_FATAL_ERROR whose PQresultErrorField gives sqlstate and the
 * primary message. */
PGresult *fake_db_error(const char *sqlstate, const char *primary);
/* PGRES_PIPELINE_ABORTED (a statement after the one that failed). */
PGresult *fake_db_aborted(void);

#endif
