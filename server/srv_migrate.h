/* srv_migrate.h: the schema migrations embedded in the server and the CLI.
 *
 * server/sql/NNN_name.sql files are compiled in (embed_sql.cmake). Applying
 * takes a session advisory lock, so two servers starting at once do not race;
 * each migration runs in its own transaction and is recorded in
 * schema_migrations. A database that has a migration newer than this build
 * knows is refused: an older binary must not write to a newer schema. */
#ifndef SRV_MIGRATE_H
#define SRV_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

typedef struct {
    int version;
    const char *name;
    const char *sql;
} srv_migration_t;

extern const srv_migration_t srv_migrations[];
extern const int srv_migrations_count;

/* Highest version this build knows. */
int srv_migrate_latest(void);

/* Applies every missing migration on a blocking connection. Returns 0 (and
 * *applied = how many were applied, may be NULL), CCHC_EAGAIN if the database
 * could not be reached mid-way, or CCHC_EINVAL if the database is newer than
 * this build or a migration fails; err says which. */
int srv_migrate_apply(PGconn *conn, int *applied, char *err, size_t errlen);

/* Checks without changing anything that the schema is exactly this build's.
 * 0, or CCHC_EINVAL with err ("database schema is at N, this build knows M"). */
int srv_migrate_check(PGconn *conn, char *err, size_t errlen);

#endif
