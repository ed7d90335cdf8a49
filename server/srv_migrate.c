/* srv_migrate.c: apply and verify the embedded schema migrations (see srv_migrate.h).
 *
 * Order of work, on a blocking connection:
 *   1. pg_advisory_lock(k): one migrator at a time across every server/CLI;
 *   2. read every applied row of schema_migrations (made if missing): version,
 *      name and, once 019 has added the column, the checksum;
 *   3. verify before writing anything: refuse a version this build does not
 *      carry (a newer database, or one another build migrated), a name that
 *      is not the embedded file's, and a checksum that is not the embedded
 *      file's sha256 (the file was edited after it was applied) or one of
 *      the other texts of it that builds shipped (s_also_shipped);
 *   4. apply each missing migration in its own transaction, recording its
 *      checksum as soon as the column exists (019 records its own);
 *   5. trust on first use: the rows applied before 019 have no checksum, so
 *      they are given this build's (one statement); from then on an edit of
 *      any of them is caught by step 3. Whether the files of such a build were
 *      the ones applied is vouched for by server/sql/CHECKSUMS, which the test
 *      suite compares with the files;
 *   6. unlock (also released if the connection dies).
 * Cost: five round trips when nothing is missing. */
#include "srv_migrate.h"
#include "cchc_err.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRV_MIGRATE_LOCK_KEY "7469636863" /* arbitrary, fixed */
#define S_NAME_MAX 128
#define S_SUM_LEN 64

/* One row of schema_migrations. */
typedef struct {
    int version;
    char name[S_NAME_MAX];
    char checksum[S_SUM_LEN + 1]; /* "" when none was recorded */
} s_applied_t;

/* What the database holds: exists is 0 when schema_migrations is missing. */
typedef struct {
    int exists;
    int has_checksums; /* the checksum column exists (019 applied) */
    s_applied_t *rows;
    int count;
} s_state_t;

int srv_migrate_latest(void)
{
    int v = 0;
    for (int i = 0; i < srv_migrations_count; i++)
        if (srv_migrations[i].version > v)
            v = srv_migrations[i].version;
    return v;
}

/* Other texts of a migration that builds shipped, with the same SQL: only
 * comments differ. A database that recorded one of them is as migrated as
 * one that recorded the file's sha256, and is not refused. */
static const struct {
    int version;
    const char *sha256;
} s_also_shipped[] = {
    /* 031_store_truncate as stop 25's build (27fbfa6) shipped it; stop 26's
     * (9381e1a) and stop 27's (1370c2c) carry 74600d1c..., whose header
     * comment alone differs. Databases in the field hold either. */
    {31, "6ee63dbad9604967f161671fb074d8429c5979de722577d897b387dee9d8826a"},
};

static int s_shipped(int version, const char *sha256)
{
    for (size_t i = 0; i < sizeof s_also_shipped / sizeof s_also_shipped[0]; i++)
        if (s_also_shipped[i].version == version && strcmp(s_also_shipped[i].sha256, sha256) == 0)
            return 1;
    return 0;
}

static const srv_migration_t *s_embedded(int version)
{
    for (int i = 0; i < srv_migrations_count; i++)
        if (srv_migrations[i].version == version)
            return &srv_migrations[i];
    return NULL;
}

static const s_applied_t *s_applied(const s_state_t *st, int version)
{
    for (int i = 0; i < st->count; i++)
        if (st->rows[i].version == version)
            return &st->rows[i];
    return NULL;
}

/* CCHC_EAGAIN when the connection is gone (worth retrying), else CCHC_EINVAL. */
static int s_fail(PGconn *conn, const char *what, char *err, size_t errlen)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (what)
        snprintf(err, errlen, "%s: %s", what, msg);
    else
        snprintf(err, errlen, "%s", msg);
    return PQstatus(conn) == CONNECTION_OK ? CCHC_EINVAL : CCHC_EAGAIN;
}

static int s_exec(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int rc = CCHC_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = s_fail(conn, NULL, err, errlen);
    PQclear(r);
    return rc;
}

/* *yes = the first value of a one-row boolean query. */
static int s_query_bool(PGconn *conn, const char *sql, int *yes, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int rc = CCHC_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        rc = s_fail(conn, "could not read schema_migrations", err, errlen);
    else
        *yes = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

static int s_has_checksum_column(PGconn *conn, int *yes, char *err, size_t errlen)
{
    return s_query_bool(conn,
                        "SELECT EXISTS (SELECT 1 FROM pg_attribute"
                        " WHERE attrelid = 'schema_migrations'::regclass"
                        " AND attname = 'checksum' AND NOT attisdropped)",
                        yes, err, errlen);
}

static void s_state_free(s_state_t *st)
{
    free(st->rows);
    *st = (s_state_t){0};
}

/* Reads schema_migrations into *st (to free with s_state_free). The checksum
 * is read through to_jsonb so that one query serves before and after 019. */
static int s_read_state(PGconn *conn, s_state_t *st, char *err, size_t errlen)
{
    *st = (s_state_t){0};
    int rc = s_query_bool(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", &st->exists,
                          err, errlen);
    if (rc != CCHC_OK || !st->exists)
        return rc;
    rc = s_has_checksum_column(conn, &st->has_checksums, err, errlen);
    if (rc != CCHC_OK)
        return rc;
    PGresult *r = PQexec(conn, "SELECT version, name, coalesce(to_jsonb(m) ->> 'checksum', '')"
                               " FROM schema_migrations m ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        rc = s_fail(conn, "could not read schema_migrations", err, errlen);
        PQclear(r);
        return rc;
    }
    st->count = PQntuples(r);
    st->rows = cchc_calloc(st->count ? (size_t)st->count : 1, sizeof *st->rows);
    for (int i = 0; i < st->count; i++) {
        s_applied_t *a = &st->rows[i];
        a->version = atoi(PQgetvalue(r, i, 0));
        snprintf(a->name, sizeof a->name, "%s", PQgetvalue(r, i, 1));
        snprintf(a->checksum, sizeof a->checksum, "%s", PQgetvalue(r, i, 2));
    }
    PQclear(r);
    return CCHC_OK;
}

/* Highest applied version, 0 if none. */
static int s_state_version(const s_state_t *st)
{
    return st->count ? st->rows[st->count - 1].version : 0;
}

/* Step 3: is every applied migration one of this build's, as it was applied?
 * who: the programs to run when the database is newer. */
static int s_verify(const s_state_t *st, const char *who, char *err, size_t errlen)
{
    int version = s_state_version(st);
    if (version > srv_migrate_latest()) {
        const s_applied_t *a = s_applied(st, version);
        snprintf(err, errlen,
                 "database schema is at version %d (%s), newer than this build (%d): "
                 "run the %s that applied it, or a newer one; a database is never "
                 "migrated down",
                 version, a->name, srv_migrate_latest(), who);
        return CCHC_EINVAL;
    }
    const s_applied_t *edited = NULL;
    const srv_migration_t *edited_m = NULL;
    int n_edited = 0;
    for (int i = 0; i < st->count; i++) {
        const s_applied_t *a = &st->rows[i];
        const srv_migration_t *m = s_embedded(a->version);
        if (!m) {
            snprintf(err, errlen,
                     "the database has migration %s (version %d), which this build does "
                     "not carry: another build applied it. Run that build, or one that "
                     "carries every migration the database has",
                     a->name, a->version);
            return CCHC_EINVAL;
        }
        if (strcmp(a->name, m->name) != 0) {
            snprintf(err, errlen,
                     "migration %d was applied as %s, but this build carries it as %s: "
                     "never rename or edit an applied migration; add a new one. To go "
                     "back, install the build that applied %s",
                     a->version, a->name, m->name, a->name);
            return CCHC_EINVAL;
        }
        if (a->checksum[0] && strcmp(a->checksum, m->sha256) != 0 &&
            !s_shipped(a->version, a->checksum)) {
            if (!edited) {
                edited = a;
                edited_m = m;
            }
            n_edited++;
        }
    }
    if (edited) {
        char others[48] = "";
        if (n_edited > 1)
            snprintf(others, sizeof others, " (and %d other migration%s)", n_edited - 1,
                     n_edited > 2 ? "s" : "");
        snprintf(err, errlen,
                 "migration %s%s has changed since it was applied: the database recorded "
                 "sha256 %s, this build carries %s. Never edit an applied migration; add a "
                 "new one. To go back, install the build whose server/sql/CHECKSUMS lists "
                 "the recorded sha256 for %s.sql (or put the file back as it was and rebuild)",
                 edited->name, others, edited->checksum, edited_m->sha256, edited->name);
        return CCHC_EINVAL;
    }
    return CCHC_OK;
}

/* Step 4: one migration and its row, in one transaction. *has_checksums
 * becomes 1 once the column exists (the migration itself may add it). */
static int s_apply_one(PGconn *conn, const srv_migration_t *m, int *has_checksums, char *err,
                       size_t errlen)
{
    char e[512];
    int with_sum = *has_checksums;
    int rc = s_exec(conn, "BEGIN", e, sizeof e);
    if (rc == CCHC_OK)
        rc = s_exec(conn, m->sql, e, sizeof e);
    if (rc == CCHC_OK && !with_sum)
        rc = s_has_checksum_column(conn, &with_sum, e, sizeof e);
    if (rc == CCHC_OK) {
        char v[16];
        snprintf(v, sizeof v, "%d", m->version);
        const char *params[3] = {v, m->name, m->sha256};
        PGresult *r = PQexecParams(conn,
                                   with_sum ? "INSERT INTO schema_migrations (version, name, "
                                              "checksum) VALUES ($1::int, $2, $3)"
                                            : "INSERT INTO schema_migrations (version, name) "
                                              "VALUES ($1::int, $2)",
                                   with_sum ? 3 : 2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = s_fail(conn, NULL, e, sizeof e);
        PQclear(r);
    }
    if (rc == CCHC_OK)
        rc = s_exec(conn, "COMMIT", e, sizeof e);
    if (rc != CCHC_OK) {
        char ignore[64];
        s_exec(conn, "ROLLBACK", ignore, sizeof ignore);
        snprintf(err, errlen, "migration %s failed: %s", m->name, e);
        return rc;
    }
    *has_checksums = with_sum;
    CCHC_LOG(CCHC_LOG_INFO, "migration_applied", "name=%s sha256=%s", m->name, m->sha256);
    return CCHC_OK;
}

/* Step 5: every row without a checksum gets the embedded one; *trusted = how
 * many. One statement over two arrays, so it is all or nothing. */
static int s_trust(PGconn *conn, int *trusted, char *err, size_t errlen)
{
    size_t cap = (size_t)srv_migrations_count * (S_SUM_LEN + 16) + 8;
    char *versions = cchc_malloc(cap), *sums = cchc_malloc(cap);
    size_t nv = 0, ns = 0;
    versions[nv++] = '{';
    sums[ns++] = '{';
    for (int i = 0; i < srv_migrations_count; i++) {
        const char *sep = i ? "," : "";
        nv += (size_t)snprintf(versions + nv, cap - nv, "%s%d", sep, srv_migrations[i].version);
        ns += (size_t)snprintf(sums + ns, cap - ns, "%s%s", sep, srv_migrations[i].sha256);
    }
    snprintf(versions + nv, cap - nv, "}");
    snprintf(sums + ns, cap - ns, "}");
    const char *params[2] = {versions, sums};
    PGresult *r = PQexecParams(conn,
                               "UPDATE schema_migrations m SET checksum = e.sum"
                               " FROM unnest($1::int[], $2::text[]) AS e(version, sum)"
                               " WHERE m.version = e.version AND m.checksum IS NULL"
                               " RETURNING m.version",
                               2, NULL, params, NULL, NULL, 0);
    int rc = CCHC_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = s_fail(conn, "could not record the checksums of the applied migrations", err, errlen);
    else
        *trusted = PQntuples(r);
    PQclear(r);
    free(versions);
    free(sums);
    if (rc == CCHC_OK && *trusted > 0)
        CCHC_LOG(CCHC_LOG_INFO, "migrations_trusted",
                 "count=%d note=\"applied before checksums were kept: recorded this build's "
                 "(trust on first use)\"",
                 *trusted);
    return rc;
}

int srv_migrate_run(PGconn *conn, srv_migrate_report_t *report, char *err, size_t errlen)
{
    srv_migrate_report_t rep = {0};
    s_state_t st = {0};
    int rc = s_exec(conn, "SELECT pg_advisory_lock(" SRV_MIGRATE_LOCK_KEY ")", err, errlen);
    if (rc != CCHC_OK)
        goto out;
    rc = s_read_state(conn, &st, err, errlen);
    /* Only when missing: CREATE ... IF NOT EXISTS needs CREATE on the schema
     * even when the table exists, which the owner of the tables may lack (a
     * database restored by a superuser, owned by another role). */
    if (rc == CCHC_OK && !st.exists) {
        rc = s_exec(conn,
                    "CREATE TABLE schema_migrations ("
                    " version integer PRIMARY KEY,"
                    " name text NOT NULL,"
                    " applied_at timestamptz NOT NULL DEFAULT now())",
                    err, errlen);
        st.exists = 1;
    }
    if (rc == CCHC_OK)
        rc = s_verify(&st, "cchc-server and cchc", err, errlen);
    for (int i = 0; rc == CCHC_OK && i < srv_migrations_count; i++) {
        if (s_applied(&st, srv_migrations[i].version))
            continue;
        rc = s_apply_one(conn, &srv_migrations[i], &st.has_checksums, err, errlen);
        if (rc == CCHC_OK)
            rep.applied++;
    }
    /* Rows without a checksum: read so, or inserted before the column existed. */
    int unsummed = rep.applied > 0;
    for (int i = 0; i < st.count; i++)
        unsummed |= st.rows[i].checksum[0] == '\0';
    if (rc == CCHC_OK && st.has_checksums && unsummed)
        rc = s_trust(conn, &rep.trusted, err, errlen);
    char ignore[64];
    s_exec(conn, "SELECT pg_advisory_unlock(" SRV_MIGRATE_LOCK_KEY ")", ignore, sizeof ignore);
out:
    s_state_free(&st);
    if (report)
        *report = rep;
    return rc;
}

int srv_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen)
{
    srv_migrate_report_t report;
    int rc = srv_migrate_run(conn, &report, err, errlen);
    if (applied)
        *applied = report.applied;
    return rc;
}

int srv_migrate_check(PGconn *conn, char *err, size_t errlen)
{
    s_state_t st;
    int rc = s_read_state(conn, &st, err, errlen);
    if (rc == CCHC_OK)
        rc = s_verify(&st, "cchc", err, errlen);
    for (int i = 0; rc == CCHC_OK && i < srv_migrations_count; i++) {
        if (s_applied(&st, srv_migrations[i].version))
            continue;
        snprintf(err, errlen,
                 "database schema is at version %d, this build knows %d (%s is missing): "
                 "run 'cchc migrate' or start cchc-server once",
                 s_state_version(&st), srv_migrate_latest(), srv_migrations[i].name);
        rc = CCHC_EINVAL;
    }
    s_state_free(&st);
    return rc;
}
