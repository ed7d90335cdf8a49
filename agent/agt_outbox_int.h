/* agt_outbox_int.h: what the outbox's files lend each other.
 *
 * agt_outbox_notif.c keeps the notification rows in the same SQLite file; it
 * borrows the connection and the error mapping. agt_outbox_schema.c makes
 * and migrates the file's schema for agt_outbox_new. Nothing else includes
 * this header. */
#ifndef AGT_OUTBOX_INT_H
#define AGT_OUTBOX_INT_H

#include "agt_outbox.h"

#include <sqlite3.h>
#include <stddef.h>

/* The connection (borrowed). */
sqlite3 *agt_outbox_db(agt_outbox_t *self);
/* Logs the connection's last error once (event=outbox_error) and maps it to
 * CCHC_EAGAIN (busy, locked) or CCHC_EIO. */
int agt_outbox_fail(agt_outbox_t *self, const char *op);

/* Brings the schema of the open file at path (for messages) to the current
 * version: a new file gets version 1 with a new random epoch, then every
 * later step; the file of an older agent gets the steps it lacks, in place
 * (its rows and epoch kept). One IMMEDIATE transaction, so that two
 * processes opening the file at once migrate it once. CCHC_OK; CCHC_EINVAL
 * for a file of a newer agent; CCHC_EIO, with err. */
int agt_outbox_schema_migrate(sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
