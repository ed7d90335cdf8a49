/* srv_units.h: each unit's metadata as the server keeps it.
 *
 * The document an agent syncs (SQL cchc_unit_metadata_doc, versioned by the
 * FNV-1a hash of its text) and the validation context built from it, per
 * unit, read once and kept until NOTIFY cchc_meta says it changed; reports
 * are validated against it and MetaRequests answered from it, without
 * asking the database each time.
 *
 * A change ("<table>:<unit>", or "<table>" for every unit) makes the
 * documents concerned stale. Those of connected units (is_connected) are
 * read again, a few units per statement with one statement in flight per
 * connection (the server's, and the store lanes' while they have no batch),
 * so that reports and new connections are never held up long; a unit whose
 * version differs from the one it had is told to the owner (on_changed:
 * the server sends it MetaChanged), the others are not. A MetaRequest's
 * unit goes to the head of the queue.
 *
 *   entry     event                                       next
 *   --------  ------------------------------------------  --------
 *   (none)    want, or read with a batch (srv_units_put)  fresh
 *   fresh     NOTIFY for it, or for every unit            stale
 *   fresh     a report of it stored (srv_units_touched)   touched
 *   touched   want, or a NOTIFY                           stale
 *   stale     read again at the current generation        fresh (on_changed if
 *                                                          the version moved)
 *   stale     read at an older generation                 stale (read again)
 *
 * A touched entry's document is not served (its revisions are old) but its
 * validation context is used: what a report needs of the stored revisions
 * comes with the batch. */
#ifndef SRV_UNITS_H
#define SRV_UNITS_H

#include "cchc_validate.h"
#include "srv_db.h"

#include <stddef.h>
#include <stdint.h>

typedef struct srv_units srv_units_t;

typedef struct {
    /* Connected units are refreshed when their document goes stale. */
    int (*is_connected)(void *arg, const char *unit);
    /* A connected unit's document has a new version (unit borrowed). */
    void (*on_changed)(void *arg, const char *unit);
    void *arg;
} srv_units_hooks_t;

/* Units per read statement, and how long a want may wait to be joined by others. */
#define SRV_UNITS_PER_READ 25
#define SRV_UNITS_GATHER_MS 2

/* The connections reads may go through: the server's, and others added. */
#define SRV_UNITS_READERS_MAX 8

/* The statement that reads one document ($1 the unit): for segments of
 * others (the batch), with srv_units_gen before and srv_units_put after. */
#define SRV_UNITS_READ_ONE_SQL "SELECT cchc_unit_metadata_doc($1)"

srv_units_t *srv_units_new(srv_db_t *db, const srv_units_hooks_t *hooks);
void srv_units_destroy(srv_units_t **self_p);
/* Another connection for reading documents (borrowed; it must outlive the
 * reads, which are answered as failed if it is abandoned): a store lane's.
 * A read goes on it only when nothing else is pending on it, so that it
 * runs on another backend (another core) beside the server's connection,
 * as during a connection storm, and never ahead of a waiting batch (a
 * batch that comes meanwhile waits for that one read, a few ms a unit).
 * A read lost with such a connection is sent again, its wants kept: that
 * connection's reconnect does not queue the documents again as the
 * server's does. */
void srv_units_add_reader(srv_units_t *self, srv_db_t *db);

/* The unit's document (borrowed until the entry next changes), its length
 * and version, when fresh; NULL otherwise. */
const char *srv_units_doc(srv_units_t *self, const char *unit, size_t *len, uint64_t *version);
/* The unit's validation context, built from the fresh document on first use
 * (borrowed until the entry next changes); NULL when not fresh, or when the
 * document does not make one (logged). */
const cchc_vctx_t *srv_units_vctx(srv_units_t *self, const char *unit);

/* Calls cb(arg, unit, ok) once the unit's document is fresh (ok 1), or could
 * not be read (ok 0: database lost or refused); never from inside this call. */
typedef void srv_units_cb_t(void *arg, const char *unit, int ok);
void srv_units_want(srv_units_t *self, const char *unit, srv_units_cb_t *cb, void *arg);

/* The generations a read was sent at: the unit's (changes for it), every
 * unit's, and the unit's stored reports'. */
typedef struct {
    uint64_t gen, all, touch;
} srv_units_gen_t;

/* For readers of their own: the generations to pass to srv_units_put for a
 * read sent now; and the document read (len bytes). */
srv_units_gen_t srv_units_gen(srv_units_t *self, const char *unit);
void srv_units_put(srv_units_t *self, const char *unit, const char *doc, size_t len,
                   srv_units_gen_t gen);

/* A change for unit, or for every unit (unit NULL). */
void srv_units_changed(srv_units_t *self, const char *unit);
/* A report of unit was stored: the revisions in its document changed. The
 * document is read again when next asked for, and nobody is told; the
 * validation context stays (the batch reads the revisions it needs fresh,
 * cchc_batch_context). */
void srv_units_touched(srv_units_t *self, const char *unit);
/* The database connection is back: changes may have been missed. */
void srv_units_on_connect(srv_units_t *self);

/* The FNV-1a hash of a document: its version (never 0). */
uint64_t srv_units_version(const char *doc, size_t len);

int64_t srv_units_next_timer(const srv_units_t *self);
void srv_units_on_timer(srv_units_t *self, int64_t now_ms);

#endif
