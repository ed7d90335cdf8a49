/* srv_migrate.c: apply the embedded schema migrations (see srv_migrate.h).
 *
 * Order of work, on a blocking connection:
 *   1. pg_advisory_lock(k): one migrator at a time across every server/CLI;
 *   2. create schema_migrations if missing, read the applied versions;
 *   3. refuse if the database has a version this build does not know;
 *   4. apply each missing migration in its own transaction, recording it;
 *   5. unlock (also released if the connection dies).
 * Cost: a few round trips when nothing is missing. */
#include "srv_migrate.h"
#include "cchc_err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV_MIGRATE_LOCK_KEY "7469636863" /* arbitrary, fixed */

int srv_migrate_latest(void)
{
    int v = 0;
    for (int i = 0; i < srv_migrations_count; i++)
        if (srv_migrations[i].version > v)
            v = srv_migrations[i].version;
    return v;
}

static int s_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int rc = CCHC_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(conn));
        size_t n = strlen(err);
        while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        rc = PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
    }
    PQclear(r);
    return rc;
}

/* Highest applied version, or -1 when schema_migrations does not exist. */
static int s_db_version(PGconn *conn, int *version, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "could not read schema version: %s", PQerrorMessage(conn));
        PQclear(r);
        return PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
    }
    int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists) {
        *version = -1;
        return CCHC_OK;
    }
    r = PQexec(conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "could not read schema version: %s", PQerrorMessage(conn));
        PQclear(r);
        return PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
    }
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return CCHC_OK;
}

static int s_is_applied(PGconn *conn, int version, int *applied, char *err, size_t errlen)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[1] = {v};
    PGresult *r = PQexecParams(conn, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1,
                               NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "could not read schema_migrations: %s", PQerrorMessage(conn));
        PQclear(r);
        return PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
    }
    *applied = PQntuples(r) > 0;
    PQclear(r);
    return CCHC_OK;
}

static int s_apply_one(PGconn *conn, const srv_migration_t *m, char *err, size_t errlen)
{
    char e[512];
    int rc = s_exec(conn, "BEGIN", e, sizeof e);
    if (rc == CCHC_OK)
        rc = s_exec(conn, m->sql, e, sizeof e);
    if (rc == CCHC_OK) {
        char v[16];
        snprintf(v, sizeof v, "%d", m->version);
        const char *params[2] = {v, m->name};
        PGresult *r = PQexecParams(conn,
                                   "INSERT INTO schema_migrations (version, name) "
                                   "VALUES ($1::int, $2)",
                                   2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(e, sizeof e, "%s", PQerrorMessage(conn));
            rc = PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
        }
        PQclear(r);
    }
    if (rc == CCHC_OK)
        rc = s_exec(conn, "COMMIT", e, sizeof e);
    if (rc != CCHC_OK) {
        char ignore[64];
        s_exec(conn, "ROLLBACK", ignore, sizeof ignore);
        snprintf(err, errlen, "migration %s failed: %s", m->name, e);
    }
    return rc;
}

int srv_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
{
    int count = 0, version, rc;
    if (applied)
        *applied = 0;
    rc = s_exec(conn, "SELECT pg_advisory_lock(" SRV_MIGRATE_LOCK_KEY ")", err, errlen);
    if (rc != CCHC_OK)
        return rc;
    rc = s_exec(conn,
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY,"
                " name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())",
                err, errlen);
    if (rc != CCHC_OK)
        goto out;
    rc = s_db_version(conn, &version, err, errlen);
    if (rc != CCHC_OK)
        goto out;
    if (version > srv_migrate_latest()) {
        snprintf(err, errlen,
                 "database schema is at version %d, newer than this build (%d): "
                 "run a newer cchc-server",
                 version, srv_migrate_latest());
        rc = CCHC_EINVAL;
        goto out;
    }
    for (int i = 0; i < srv_migrations_count; i++) {
        int done;
        rc = s_is_applied(conn, srv_migrations[i].version, &done, err, errlen);
        if (rc != CCHC_OK)
            goto out;
        if (done)
            continue;
        rc = s_apply_one(conn, &srv_migrations[i], err, errlen);
        if (rc != CCHC_OK)
            goto out;
        count++;
    }
out:;
    char ignore[64];
    s_exec(conn, "SELECT pg_advisory_unlock(" SRV_MIGRATE_LOCK_KEY ")", ignore, sizeof ignore);
    if (applied)
        *applied = count;
    return rc;
}

int srv_migrate_check(PGconn *conn, char *err, size_t errlen)
{
    int version;
    int rc = s_db_version(conn, &version, err, errlen);
    if (rc != CCHC_OK)
        return rc;
    if (version > srv_migrate_latest()) {
        snprintf(err, errlen,
                 "database schema is at version %d, newer than this build (%d): "
                 "use a newer cchc",
                 version, srv_migrate_latest());
        return CCHC_EINVAL;
    }
    if (version != srv_migrate_latest()) {
        snprintf(err, errlen,
                 "database schema is at version %d, this build knows %d: "
                 "run 'cchc migrate' or start cchc-server once",
                 version < 0 ? 0 : version, srv_migrate_latest());
        return CCHC_EINVAL;
    }
    return CCHC_OK;
}
