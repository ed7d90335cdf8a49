/* web_db.h: cchc-web's one connection to PostgreSQL, as cchc_viewer.
 *
 * Connected with [database] conninfo, the session at once does SET ROLE
 * cchc_viewer (migration 011: it can read every figure and change nothing),
 * makes transactions read-only by default and bounds every statement
 * (statement_timeout). It is a connection of its own: a slow page holds
 * nothing the server's ingest needs. Each page reads in one read-only
 * REPEATABLE READ transaction, so its tables agree with one another, with
 * cchc.now set from the injectable clock as the CLI does.
 *
 * The connection is made at the first page and made again when it was lost
 * (at most once a second: a database that is down is not hammered); until
 * then pages answer 503. Not thread-safe: cchc-web answers one request at a
 * time on libmicrohttpd's thread. */
#ifndef WEB_DB_H
#define WEB_DB_H

#include <libpq-fe.h>
#include <stdint.h>

typedef struct web_db web_db_t;

/* conninfo borrowed ("" uses the PG* environment variables). */
web_db_t *web_db_new(const char *conninfo, int64_t statement_timeout_ms);
void web_db_destroy(web_db_t **self_p);

/* Opens one page's read-only transaction, connecting first when needed.
 * 0, or -1 when the database cannot be used now (logged once per cause). */
int web_db_begin(web_db_t *self);
/* Ends it (rolls back: nothing was written). */
void web_db_end(web_db_t *self);

/* Runs sql with text parameters inside the page's transaction. The rows
 * (caller PQclears), or NULL after logging "what" and the server's message. */
PGresult *web_db_query(web_db_t *self, const char *what, const char *sql, int nparams,
                       const char *const *params);

/* web_db_query as a cli_figs_query_fn (arg is the web_db_t). */
PGresult *web_db_query_fn(void *arg, const char *what, const char *sql, int nparams,
                          const char *const *params);

#endif
