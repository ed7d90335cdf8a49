/* web_db.c: the viewer's connection of cchc-web (see web_db.h).
 *
 * States of the connection, driven by web_db_begin:
 *
 *   state      event                                   next       function
 *   ---------  --------------------------------------  ---------  -------------
 *   none       a page, 1 s since the last attempt      up / none  s_connect
 *   none       a page, sooner                          none       (503)
 *   up         a page, PQstatus OK                     in page    web_db_begin
 *   up         a page, the connection was lost         none       s_drop, then
 *                                                                 as none
 *   in page    web_db_end                              up         ROLLBACK
 *
 * s_connect fails (and drops what it made) when the server cannot be
 * reached, SET ROLE cchc_viewer is refused (the login is not a member), or
 * the schema is not this build's. */
#include "web_db.h"
#include "cchc_clock.h"
#include "cchc_log.h"
#include "cchc_mem.h"
#include "srv_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RETRY_MS 1000

struct web_db {
    char *conninfo;
    int64_t statement_timeout_ms;
    PGconn *conn;        /* NULL when none */
    int64_t last_try_ms; /* monotonic, of the last connection attempt */
    char last_err[256];  /* the last failure logged, not to repeat it every second */
};

/* A server message on one line without double quotes, for a log value. */
static void s_clean(char *buf, size_t len, const char *msg)
{
    snprintf(buf, len, "%s", msg ? msg : "");
    for (char *p = buf; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\r' || *p == '\t')
            *p = *p == '"' ? '\'' : ' ';
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
}

/* Logs a failure to connect once, until it changes or a connection works. */
static void s_fail(web_db_t *self, const char *event, const char *msg, const char *hint)
{
    char clean[sizeof self->last_err];
    s_clean(clean, sizeof clean, msg);
    if (strcmp(clean, self->last_err) == 0)
        return;
    snprintf(self->last_err, sizeof self->last_err, "%s", clean);
    CCHC_LOG(CCHC_LOG_ERROR, event, "err=\"%s\"%s%s%s", clean, hint ? " hint=\"" : "",
             hint ? hint : "", hint ? "\"" : "");
}

static void s_drop(web_db_t *self)
{
    if (self->conn)
        PQfinish(self->conn);
    self->conn = NULL;
}

static void s_on_notice(void *arg, const char *message)
{
    char msg[256];
    s_clean(msg, sizeof msg, message);
    CCHC_LOG(CCHC_LOG_DEBUG, "db_notice", "msg=\"%s\"", msg);
}

/* One statement without parameters or rows; 0 or -1 (message in the connection). */
static int s_exec(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

static int s_connect(web_db_t *self)
{
    /* dbname is expanded as a full conninfo string; keys before it are
     * defaults it may override, keys after it always win. */
    const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name",
                          "client_encoding", NULL};
    const char *vals[] = {"5", self->conninfo, "cchc-web", "UTF8", NULL};
    self->last_try_ms = cchc_clock_mono_ms();
    self->conn = PQconnectdbParams(keys, vals, 1);
    if (!self->conn || PQstatus(self->conn) != CONNECTION_OK) {
        s_fail(self, "db_connect", self->conn ? PQerrorMessage(self->conn) : "out of memory",
               "set [database] conninfo in web.ini, or the variables PGHOST, PGDATABASE and "
               "PGUSER");
        s_drop(self);
        return -1;
    }
    PQsetNoticeProcessor(self->conn, s_on_notice, NULL);
    if (s_exec(self->conn, "SET ROLE cchc_viewer") != 0) {
        char hint[160];
        snprintf(hint, sizeof hint, "GRANT cchc_viewer TO %.60s (the login of [database] conninfo)",
                 PQuser(self->conn));
        s_fail(self, "db_role", PQerrorMessage(self->conn), hint);
        s_drop(self);
        return -1;
    }
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%lld", (long long)self->statement_timeout_ms);
    const char *params[1] = {timeout};
    PGresult *r = PQexecParams(self->conn,
                               "SELECT set_config('default_transaction_read_only', 'on', false), "
                               "set_config('statement_timeout', $1, false)",
                               1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
        s_fail(self, "db_session", PQerrorMessage(self->conn), NULL);
        s_drop(self);
        return -1;
    }
    char err[512];
    if (srv_migrate_check(self->conn, err, sizeof err) != 0) {
        s_fail(self, "db_schema", err, "run this build's 'cchc migrate' (or its cchc-server)");
        s_drop(self);
        return -1;
    }
    self->last_err[0] = '\0';
    CCHC_LOG(CCHC_LOG_INFO, "db_connected", "user=%s role=cchc_viewer", PQuser(self->conn));
    return 0;
}

web_db_t *web_db_new(const char *conninfo, int64_t statement_timeout_ms)
{
    web_db_t *self = cchc_calloc(1, sizeof *self);
    self->conninfo = cchc_strdup(conninfo ? conninfo : "");
    self->statement_timeout_ms = statement_timeout_ms;
    self->last_try_ms = cchc_clock_mono_ms() - S_RETRY_MS;
    return self;
}

void web_db_destroy(web_db_t **self_p)
{
    web_db_t *self = *self_p;
    if (!self)
        return;
    s_drop(self);
    free(self->conninfo);
    free(self);
    *self_p = NULL;
}

int web_db_begin(web_db_t *self)
{
    if (self->conn && PQstatus(self->conn) != CONNECTION_OK) {
        CCHC_LOG(CCHC_LOG_WARN, "db_lost", "reconnecting=yes");
        s_drop(self);
    }
    if (!self->conn) {
        if (cchc_clock_mono_ms() - self->last_try_ms < S_RETRY_MS)
            return -1;
        if (s_connect(self) != 0)
            return -1;
    }
    if (s_exec(self->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0) {
        s_fail(self, "db_begin", PQerrorMessage(self->conn), NULL);
        s_drop(self);
        return -1;
    }
    /* The views judge "today" by cchc.now (013_figures.sql): this
     * program's clock, injectable like every program's. Local to the
     * transaction. */
    char now[40];
    cchc_clock_format_utc(cchc_clock_now_ms(), now, sizeof now);
    const char *params[1] = {now};
    PGresult *r = web_db_query(self, "could not set the clock",
                               "SELECT set_config('cchc.now', $1, true)", 1, params);
    if (!r) {
        web_db_end(self);
        return -1;
    }
    PQclear(r);
    return 0;
}

void web_db_end(web_db_t *self)
{
    if (self->conn && PQstatus(self->conn) == CONNECTION_OK &&
        PQtransactionStatus(self->conn) != PQTRANS_IDLE)
        (void)s_exec(self->conn, "ROLLBACK");
}

PGresult *web_db_query(web_db_t *self, const char *what, const char *sql, int nparams,
                       const char *const *params)
{
    PGresult *r = PQexecParams(self->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    char msg[512];
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    s_clean(msg, sizeof msg, primary ? primary : PQerrorMessage(self->conn));
    CCHC_LOG(CCHC_LOG_ERROR, "db_query", "what=\"%s\" err=\"%s\"", what, msg);
    PQclear(r);
    return NULL;
}

PGresult *web_db_query_fn(void *arg, const char *what, const char *sql, int nparams,
                          const char *const *params)
{
    return web_db_query(arg, what, sql, nparams, params);
}
