/* srv_migrate.h: the schema migrations embedded in the server and the CLI.
 *
 * server/sql/NNN_name.sql files are compiled in (embed_sql.cmake), each with
 * the sha256 of its bytes. Applying takes a session advisory lock, so two
 * servers starting at once do not race; each migration runs in its own
 * transaction and is recorded in schema_migrations with its checksum (from
 * 019 on, which adds the column). Before anything is written, the database is
 * compared with this build: a migration this build does not carry (a newer
 * database), or one applied with other bytes than the embedded file's (an
 * applied migration edited), is refused. An older binary must not write to a
 * newer schema, and an edited migration would leave databases that claim the
 * same version but differ. */
#ifndef SRV_MIGRATE_H
#define SRV_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    int version;
    const char *name;   /* "003_functions": the file name without .sql */
    const char *sql;    /* the file's bytes */
    const char *sha256; /* lowercase hex of the file's sha256, 64 characters */
} srv_migration_t;

extern const srv_migration_t srv_migrations[];
extern const int srv_migrations_count;

/* What one run did, for the caller to report. */
typedef struct {
    int applied; /* migrations applied by this run */
    int trusted; /* rows applied before checksums were kept that were given the
                    embedded checksum (trust on first use) */
} srv_migrate_report_t;

/* Highest version this build knows. */
int srv_migrate_latest(void);

/* Verifies the applied migrations against this build, then applies every
 * missing one, on a blocking connection. Returns 0 (and fills *report, which
 * may be NULL), CCHC_EAGAIN if the database could not be reached mid-way, or
 * CCHC_EINVAL if the database has a migration this build does not carry, an
 * applied migration differs from the embedded one (nothing is written then),
 * or a migration fails; err says which, and what to do. */
int srv_migrate_run(PGconn *conn, srv_migrate_report_t *report, char *err, size_t errlen);

/* srv_migrate_run, counting only the migrations applied (*applied may be NULL). */
int srv_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen);

/* Checks without changing anything that the schema is exactly this build's:
 * every embedded migration applied, none other, and no recorded checksum
 * different from the embedded one. 0, or CCHC_EINVAL / CCHC_EAGAIN with err
 * ("database schema is at N, this build knows M", "migration X has changed..."). */
int srv_migrate_check(PGconn *conn, char *err, size_t errlen);

#endif
