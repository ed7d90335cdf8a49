/* fake_db.c: the srv_db API over an in-memory FIFO (see fake_db.h).
 *
 * Owns the instances, their queued jobs (with copies of what was submitted)
 * and the error fields of the results fake_db_error made. A check that
 * fails is a cmocka failure of the running test: the code under test used
 * srv_db in a way srv_db.h does not allow, or the test drove the fake in a
 * way the real connection cannot behave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_db.h"
#include "cchc_err.h"
#include "cchc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHECK(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg("fake_db: " __VA_ARGS__);                                                     \
    } while (0)

/* One queued job: the view the test reads, the copies it points to, and
 * what the caller handed in (borrowed, checked unchanged at the callback). */
typedef struct s_job {
    struct s_job *next;
    fake_db_job_t view;
    fake_db_stmt_t *stmts;
    srv_db_stmt_t *borrowed; /* segments: the caller's array, copied; its pointers borrowed */
    srv_db_cb_t *cb;
    srv_db_seg_cb_t *seg_cb;
    void *arg;
} s_job_t;

typedef struct {
    char *name, *sql;
} s_prepared_t;

struct srv_db {
    char *conninfo;
    srv_db_hooks_t hooks;
    const char *name;
    s_prepared_t *prepared;
    size_t n_prepared;
    int64_t query_timeout_ms;
    int connected; /* srv_db_connect succeeded */
    int started;   /* srv_db_start ran */
    int ready;
    int abandoned;
    int in_callback; /* one of this instance's callbacks is running */
    s_job_t *head, *tail;
    size_t pending;
    size_t refused;
    char *connect_err; /* the next srv_db_connect fails with it */
    fake_db_exec_fn *exec;
    void *exec_arg;
    char conn_token; /* its address is srv_db_conn's PGconn */
};

static srv_db_t **s_dbs;
static size_t s_ndbs;
static int s_in_callback; /* any instance's callback is running */
static int s_in_submit;   /* any instance is inside a submit */

/* ---- error fields -------------------------------------------------------------------- */

/* The fields of the error results fake_db_error made and nobody cleared. */
typedef struct s_errfields {
    struct s_errfields *next;
    const PGresult *res;
    char *sqlstate, *primary;
} s_errfields_t;

static s_errfields_t *s_errors;

/* The linker's names for the wrapped libpq functions (ld --wrap). */
char *__real_PQresultErrorField(const PGresult *res, int fieldcode);
char *__wrap_PQresultErrorField(const PGresult *res, int fieldcode);
void __real_PQclear(PGresult *res);
void __wrap_PQclear(PGresult *res);
PGresult *__real_PQexec(PGconn *conn, const char *query);
PGresult *__wrap_PQexec(PGconn *conn, const char *query);

char *__wrap_PQresultErrorField(const PGresult *res, int fieldcode)
{
    for (s_errfields_t *e = s_errors; res && e; e = e->next) {
        if (e->res != res)
            continue;
        if (fieldcode == PG_DIAG_SQLSTATE)
            return e->sqlstate;
        if (fieldcode == PG_DIAG_MESSAGE_PRIMARY)
            return e->primary;
        if (fieldcode == PG_DIAG_SEVERITY)
            return (char *)"ERROR";
        return NULL;
    }
    return __real_PQresultErrorField(res, fieldcode);
}

void __wrap_PQclear(PGresult *res)
{
    for (s_errfields_t **p = &s_errors; res && *p; p = &(*p)->next) {
        if ((*p)->res != res)
            continue;
        s_errfields_t *e = *p;
        *p = e->next;
        free(e->sqlstate);
        free(e->primary);
        free(e);
        break;
    }
    __real_PQclear(res);
}

PGresult *__wrap_PQexec(PGconn *conn, const char *query)
{
    for (size_t i = 0; i < s_ndbs; i++) {
        srv_db_t *db = s_dbs[i];
        if (conn != (PGconn *)(void *)&db->conn_token)
            continue;
        S_CHECK(db->connected && !db->started,
                "PQexec on srv_db_conn outside srv_db_connect .. srv_db_start");
        PGresult *res = db->exec ? db->exec(query, db->exec_arg) : NULL;
        return res ? res : PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    }
    return __real_PQexec(conn, query);
}

/* ---- results --------------------------------------------------------------------------- */

PGresult *fake_db_tuples(int ncols, int nrows, const char *const *cells)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc *attrs = cchc_calloc((size_t)ncols + 1, sizeof *attrs);
    char(*names)[16] = cchc_calloc((size_t)ncols + 1, sizeof *names);
    for (int c = 0; c < ncols; c++) {
        snprintf(names[c], sizeof names[c], "c%d", c);
        attrs[c] =
            (PGresAttDesc){.name = names[c], .typid = 25 /* text */, .typlen = -1, .atttypmod = -1};
    }
    S_CHECK(res && PQsetResultAttrs(res, ncols, attrs), "PQsetResultAttrs failed");
    for (int r = 0; r < nrows; r++) {
        for (int c = 0; c < ncols; c++) {
            const char *v = cells[(size_t)r * (size_t)ncols + (size_t)c];
            S_CHECK(PQsetvalue(res, r, c, (char *)v, v ? (int)strlen(v) : -1), "PQsetvalue failed");
        }
    }
    free(names);
    free(attrs);
    return res;
}

PGresult *fake_db_command_ok(void)
{
    return PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
}

PGresult *fake_db_error(const char *sqlstate, const char *primary)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
    s_errfields_t *e = cchc_calloc(1, sizeof *e);
    e->res = res;
    e->sqlstate = cchc_strdup(sqlstate);
    e->primary = cchc_strdup(primary ? primary : "fake error");
    e->next = s_errors;
    s_errors = e;
    return res;
}

PGresult *fake_db_aborted(void)
{
    return PQmakeEmptyPGresult(NULL, PGRES_PIPELINE_ABORTED);
}

/* ---- instances --------------------------------------------------------------------------- */

void fake_db_reset(void)
{
    free(s_dbs);
    s_dbs = NULL;
    s_ndbs = 0;
    s_in_callback = 0;
    s_in_submit = 0;
}

size_t fake_db_count(void)
{
    return s_ndbs;
}

srv_db_t *fake_db_at(size_t i)
{
    S_CHECK(i < s_ndbs, "no instance %zu (%zu live)", i, s_ndbs);
    return s_dbs[i];
}

const char *fake_db_name(const srv_db_t *db)
{
    return db->name;
}

size_t fake_db_prepared(const srv_db_t *db)
{
    return db->n_prepared;
}

const char *fake_db_prepared_name(const srv_db_t *db, size_t i)
{
    S_CHECK(i < db->n_prepared, "no prepared statement %zu", i);
    return db->prepared[i].name;
}

size_t fake_db_refused(const srv_db_t *db)
{
    return db->refused;
}

srv_db_t *srv_db_new(const char *conninfo, const srv_db_hooks_t *hooks)
{
    srv_db_t *db = cchc_calloc(1, sizeof *db);
    db->conninfo = cchc_strdup(conninfo ? conninfo : "");
    if (hooks)
        db->hooks = *hooks;
    db->name = db->hooks.name ? db->hooks.name : "cchc-server";
    s_dbs = cchc_realloc(s_dbs, (s_ndbs + 1) * sizeof *s_dbs);
    s_dbs[s_ndbs++] = db;
    return db;
}

static void s_job_free(s_job_t *job)
{
    for (size_t i = 0; i < job->view.n; i++) {
        fake_db_stmt_t *st = &job->stmts[i];
        for (int p = 0; p < st->nparams; p++)
            free((char *)st->values[p]);
        free((void *)st->values);
        free((void *)st->lengths);
        free((void *)st->formats);
        free((char *)st->name);
        free((char *)st->sql);
    }
    free(job->stmts);
    free(job->borrowed);
    free(job);
}

/* Calls the job's callback, as the loop would. */
static void s_call(srv_db_t *db, s_job_t *job, int rc, PGresult **results, size_t n)
{
    S_CHECK(!s_in_submit, "a callback would run inside a submit");
    s_in_callback++;
    db->in_callback++;
    if (job->cb)
        job->cb(db, rc, rc == 0 ? results[0] : NULL, job->arg);
    else
        job->seg_cb(db, rc, rc == 0 ? results : NULL, job->view.n, job->arg);
    db->in_callback--;
    s_in_callback--;
}

/* Fails every queued job with CCHC_EAGAIN; the queue is detached first, so
 * a callback that submits sees it empty (as srv_db's s_fail_all). */
static void s_fail_all(srv_db_t *db)
{
    s_job_t *job = db->head;
    db->head = db->tail = NULL;
    db->pending = 0;
    while (job) {
        s_job_t *next = job->next;
        s_call(db, job, CCHC_EAGAIN, NULL, 0);
        s_job_free(job);
        job = next;
    }
}

void srv_db_destroy(srv_db_t **self_p)
{
    S_CHECK(self_p, "srv_db_destroy(NULL)");
    srv_db_t *db = *self_p;
    if (!db)
        return;
    S_CHECK(!db->in_callback, "srv_db_destroy from one of its own callbacks");
    srv_db_abandon(db);
    for (size_t i = 0; i < s_ndbs; i++) {
        if (s_dbs[i] == db) {
            memmove(&s_dbs[i], &s_dbs[i + 1], (s_ndbs - i - 1) * sizeof *s_dbs);
            s_ndbs--;
            break;
        }
    }
    if (s_ndbs == 0) {
        free(s_dbs);
        s_dbs = NULL;
    }
    for (size_t i = 0; i < db->n_prepared; i++) {
        free(db->prepared[i].name);
        free(db->prepared[i].sql);
    }
    free(db->prepared);
    free(db->connect_err);
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
    S_CHECK(name && sql && !db->started, "srv_db_prepare after srv_db_start");
    db->prepared = cchc_realloc(db->prepared, (db->n_prepared + 1) * sizeof *db->prepared);
    db->prepared[db->n_prepared++] = (s_prepared_t){cchc_strdup(name), cchc_strdup(sql)};
}

int srv_db_connect(srv_db_t *db, int64_t timeout_ms, char *err, size_t errlen)
{
    (void)timeout_ms;
    S_CHECK(!db->connected && !db->in_callback, "srv_db_connect twice, or from a callback");
    if (db->connect_err) {
        snprintf(err, errlen, "%s", db->connect_err);
        free(db->connect_err);
        db->connect_err = NULL;
        return CCHC_EAGAIN;
    }
    db->connected = 1;
    return CCHC_OK;
}

PGconn *srv_db_conn(srv_db_t *db)
{
    S_CHECK(db->connected && !db->started, "srv_db_conn outside srv_db_connect .. srv_db_start");
    return (PGconn *)(void *)&db->conn_token;
}

int srv_db_start(srv_db_t *db, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    S_CHECK(db->connected && !db->started, "srv_db_start without srv_db_connect, or twice");
    db->started = 1;
    db->ready = 1;
    return CCHC_OK;
}

/* A job of n statements, with copies of what the view shows. */
static s_job_t *s_job_new(const srv_db_stmt_t *stmts, size_t n, int segment)
{
    s_job_t *job = cchc_calloc(1, sizeof *job);
    job->stmts = cchc_calloc(n, sizeof *job->stmts);
    for (size_t i = 0; i < n; i++) {
        const srv_db_stmt_t *in = &stmts[i];
        fake_db_stmt_t *st = &job->stmts[i];
        S_CHECK(in->name || in->sql, "a statement with neither name nor sql");
        S_CHECK(in->nparams >= 0 && (in->nparams == 0 || in->values),
                "a statement with parameters but no values");
        st->name = in->name ? cchc_strdup(in->name) : NULL;
        st->sql = in->sql ? cchc_strdup(in->sql) : NULL;
        st->nparams = in->nparams;
        char **values = cchc_calloc((size_t)in->nparams + 1, sizeof *values);
        int *lengths = cchc_calloc((size_t)in->nparams + 1, sizeof *lengths);
        int *formats = cchc_calloc((size_t)in->nparams + 1, sizeof *formats);
        for (int p = 0; p < in->nparams; p++) {
            formats[p] = in->formats ? in->formats[p] : 0;
            S_CHECK(formats[p] == 0 || formats[p] == 1, "parameter %d of format %d", p, formats[p]);
            if (!in->values[p])
                continue;
            if (formats[p]) {
                S_CHECK(in->lengths && in->lengths[p] >= 0,
                        "binary parameter %d without its length", p);
                lengths[p] = in->lengths[p];
            } else {
                lengths[p] = (int)strlen(in->values[p]);
            }
            values[p] = cchc_malloc((size_t)lengths[p] + 1);
            memcpy(values[p], in->values[p], (size_t)lengths[p]);
            values[p][lengths[p]] = '\0';
        }
        st->values = (const char *const *)values;
        st->lengths = lengths;
        st->formats = formats;
    }
    if (segment) {
        job->borrowed = cchc_calloc(n, sizeof *job->borrowed);
        memcpy(job->borrowed, stmts, n * sizeof *stmts);
    }
    job->view = (fake_db_job_t){.segment = segment, .n = n, .stmts = job->stmts};
    return job;
}

static void s_enqueue(srv_db_t *db, s_job_t *job)
{
    if (db->tail)
        db->tail->next = job;
    else
        db->head = job;
    db->tail = job;
    db->pending++;
}

int srv_db_submit(srv_db_t *db, const char *sql, int nparams, const char *const *values,
                  const int *lengths, const int *formats, srv_db_cb_t *cb, void *arg)
{
    S_CHECK(sql && cb && nparams >= 0 && (nparams == 0 || values), "srv_db_submit misused");
    if (!db->ready) {
        db->refused++;
        return CCHC_EAGAIN;
    }
    s_in_submit++;
    srv_db_stmt_t st = {
        .sql = sql, .nparams = nparams, .values = values, .lengths = lengths, .formats = formats};
    s_job_t *job = s_job_new(&st, 1, 0);
    job->cb = cb;
    job->arg = arg;
    s_enqueue(db, job);
    s_in_submit--;
    return CCHC_OK;
}

int srv_db_submit_segment(srv_db_t *db, const srv_db_stmt_t *stmts, size_t n, srv_db_seg_cb_t *cb,
                          void *arg)
{
    S_CHECK(stmts && n > 0 && cb, "srv_db_submit_segment misused");
    if (!db->ready) {
        db->refused++;
        return CCHC_EAGAIN;
    }
    s_in_submit++;
    s_job_t *job = s_job_new(stmts, n, 1);
    job->seg_cb = cb;
    job->arg = arg;
    s_enqueue(db, job);
    s_in_submit--;
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
    (void)db;
    *fd = -1;
    *events = 0;
}

void srv_db_on_ready(srv_db_t *db, short revents)
{
    (void)revents;
    S_CHECK(!db->in_callback, "srv_db_on_ready from one of its own callbacks");
}

int64_t srv_db_next_timer(const srv_db_t *db)
{
    (void)db;
    return -1;
}

void srv_db_on_timer(srv_db_t *db, int64_t now_ms)
{
    (void)now_ms;
    S_CHECK(!db->in_callback, "srv_db_on_timer from one of its own callbacks");
}

void srv_db_abandon(srv_db_t *db)
{
    S_CHECK(!s_in_submit, "srv_db_abandon inside a submit");
    db->ready = 0;
    db->abandoned = 1;
    s_fail_all(db);
}

/* ---- the queue and driving it -------------------------------------------------------------- */

size_t fake_db_jobs(const srv_db_t *db)
{
    return db->pending;
}

const fake_db_job_t *fake_db_job(const srv_db_t *db, size_t k)
{
    s_job_t *job = db->head;
    while (job && k--)
        job = job->next;
    return job ? &job->view : NULL;
}

/* The head job, off the queue; the test may drive the connection. */
static s_job_t *s_pop(srv_db_t *db, const char *what)
{
    S_CHECK(!s_in_callback, "%s from inside a callback", what);
    S_CHECK(db->ready, "%s: the connection is not ready, no job can finish", what);
    s_job_t *job = db->head;
    S_CHECK(job, "%s: no job queued on %s", what, db->name);
    db->head = job->next;
    if (!db->head)
        db->tail = NULL;
    db->pending--;
    return job;
}

/* What a segment's statements point to is borrowed until its callback:
 * the caller must not have changed it meanwhile. */
static void s_check_borrowed(const s_job_t *job)
{
    for (size_t i = 0; job->borrowed && i < job->view.n; i++) {
        const srv_db_stmt_t *b = &job->borrowed[i];
        const fake_db_stmt_t *c = &job->stmts[i];
        S_CHECK((!b->name) == (!c->name) && (!b->name || strcmp(b->name, c->name) == 0),
                "statement %zu's name changed before its callback", i);
        S_CHECK((!b->sql) == (!c->sql) && (!b->sql || strcmp(b->sql, c->sql) == 0),
                "statement %zu's sql changed before its callback", i);
        S_CHECK(b->nparams == c->nparams, "statement %zu's nparams changed", i);
        for (int p = 0; p < b->nparams; p++)
            S_CHECK((!b->values[p]) == (!c->values[p]) &&
                        (!b->values[p] ||
                         (c->formats[p]
                              ? b->lengths[p] == c->lengths[p] &&
                                    memcmp(b->values[p], c->values[p], (size_t)c->lengths[p]) == 0
                              : strcmp(b->values[p], c->values[p]) == 0)),
                    "statement %zu's parameter %d changed before its callback", i, p);
    }
}

void fake_db_finish(srv_db_t *db, PGresult **results, size_t n)
{
    s_job_t *job = s_pop(db, "fake_db_finish");
    S_CHECK(n == job->view.n, "%zu results for a job of %zu statements", n, job->view.n);
    /* As a pipeline gives them: the statements after one that failed are
     * aborted, and only those. */
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        S_CHECK(results[i], "result %zu is NULL", i);
        ExecStatusType st = PQresultStatus(results[i]);
        S_CHECK(failed == (st == PGRES_PIPELINE_ABORTED),
                "result %zu is %s: in a pipeline, the statements after one that failed are "
                "PGRES_PIPELINE_ABORTED, and only those",
                i, PQresStatus(st));
        failed |= st == PGRES_FATAL_ERROR;
    }
    s_check_borrowed(job);
    s_call(db, job, 0, results, n);
    for (size_t i = 0; i < n; i++)
        PQclear(results[i]);
    s_job_free(job);
}

void fake_db_finish1(srv_db_t *db, PGresult *res)
{
    fake_db_finish(db, &res, 1);
}

void fake_db_fail(srv_db_t *db, int rc)
{
    if (rc == CCHC_EAGAIN) {
        fake_db_lose(db);
        return;
    }
    S_CHECK(rc == CCHC_EIO, "a job fails with CCHC_EIO or CCHC_EAGAIN only");
    s_job_t *job = s_pop(db, "fake_db_fail");
    s_check_borrowed(job);
    s_call(db, job, CCHC_EIO, NULL, 0);
    s_job_free(job);
}

void fake_db_lose(srv_db_t *db)
{
    S_CHECK(!s_in_callback, "fake_db_lose from inside a callback");
    S_CHECK(db->ready, "fake_db_lose: the connection is already down");
    db->ready = 0;
    s_fail_all(db);
}

void fake_db_reconnect(srv_db_t *db)
{
    S_CHECK(!s_in_callback, "fake_db_reconnect from inside a callback");
    S_CHECK(db->started && !db->ready && !db->abandoned,
            "fake_db_reconnect: only a started connection that was lost comes back");
    db->ready = 1;
    if (db->hooks.on_connect) {
        /* srv_db calls it from the setup segment's callback. */
        s_in_callback++;
        db->in_callback++;
        db->hooks.on_connect(db->hooks.arg);
        db->in_callback--;
        s_in_callback--;
    }
}

void fake_db_fail_connect(srv_db_t *db, const char *err)
{
    free(db->connect_err);
    db->connect_err = cchc_strdup(err);
}

void fake_db_on_exec(srv_db_t *db, fake_db_exec_fn *fn, void *arg)
{
    db->exec = fn;
    db->exec_arg = arg;
}
