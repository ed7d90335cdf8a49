/* web_server.h: cchc-web's HTTP side: libmicrohttpd on one thread, the
 * routes, the checks every request goes through, and the headers every
 * response carries.
 *
 * Every request, in this order:
 *
 *   check                                   refused with
 *   --------------------------------------  -----------------------------------
 *   method GET or HEAD                      405 (Allow: GET, HEAD)
 *   no request body                         400
 *   credentials, when [web] auth_user       401 (WWW-Authenticate: Basic)
 *   the target reads (web_query.h)          400, 404 or 414
 *   a route for the path                    404
 *   only the route's parameters, valid      400
 *   the database readable                   503
 *
 * Before libmicrohttpd sees a connection, web_gate.h refuses a first line
 * that is not an HTTP/1.x request line (400). libmicrohttpd itself then
 * refuses what else it cannot parse, headers past the memory
 * limit of a connection (16 KiB) and connections past the limits of
 * web.ini, before any of this. Pages run one at a time: a page never waits
 * for another's query, and the server's ingest never waits for a page
 * (another process, another connection). */
#ifndef WEB_SERVER_H
#define WEB_SERVER_H

#include "web_config.h"

#include <stddef.h>

/* Every response carries it (no inline script or style anywhere). */
#define WEB_CSP                                                                                    \
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "              \
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

typedef struct web web_t;

/* Binds [web] listen and starts answering (cfg borrowed until destroy).
 * NULL with the reason in err. */
web_t *web_new(const web_config_t *cfg, char *err, size_t errlen);
/* Stops answering (requests in flight are finished or dropped), closes
 * the database connection. */
void web_destroy(web_t **self_p);

#endif
