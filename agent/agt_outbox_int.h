/* agt_outbox_int.h: what agt_outbox.c lends the other outbox file.
 *
 * agt_outbox_notif.c keeps the notification rows in the same SQLite file; it
 * borrows the connection and the error mapping, and nothing else includes
 * this header. */
#ifndef AGT_OUTBOX_INT_H
#define AGT_OUTBOX_INT_H

#include "agt_outbox.h"

#include <sqlite3.h>

/* The connection (borrowed). */
sqlite3 *agt_outbox_db(agt_outbox_t *self);
/* Logs the connection's last error once (event=outbox_error) and maps it to
 * CCHC_EAGAIN (busy, locked) or CCHC_EIO. */
int agt_outbox_fail(agt_outbox_t *self, const char *op);

#endif
