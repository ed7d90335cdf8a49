/* web_gate.h: the first look at a connection, before libmicrohttpd.
 *
 * libmicrohttpd answers a request line it cannot read (no method, target
 * and version) by closing the connection without a word, and an HTTP
 * version other than 1.0 or 1.1 with 505. cchc-web answers every bad
 * request with a 4xx that says what is wrong, so it accepts connections
 * itself: the gate peeks at the request line (MSG_PEEK: nothing is taken
 * from the socket), refuses those two with a 400, and hands every other
 * connection to libmicrohttpd (MHD_add_connection), which then reads the
 * request from its first byte and applies its own checks and limits.
 *
 * A connection waits at the gate until its request line has arrived, at
 * most [web] connection_timeout_seconds; the gate holds at most
 * [web] max_connections of them, [web] max_connections_per_ip from one
 * address. One thread, poll(2); a waiting socket wakes it only when more
 * bytes arrive (SO_RCVLOWAT), never in a loop.
 *
 *   first bytes of the connection         the gate
 *   ------------------------------------  -------------------------------------
 *   METHOD SP TARGET SP HTTP/1.x (CR)LF    handed to libmicrohttpd
 *   a line that is not HTTP                400, closed
 *   HTTP/x.y other than 1.0 and 1.1        400, closed
 *   no line end in the first 16 KiB        414, closed
 *   nothing more before the timeout        closed
 *   closed by the client                   closed */
#ifndef WEB_GATE_H
#define WEB_GATE_H

#include <stddef.h>

struct MHD_Daemon;

typedef enum {
    WEB_LINE_MORE,     /* no line end yet: wait for more */
    WEB_LINE_PASS,     /* an HTTP/1.x request line: libmicrohttpd reads it */
    WEB_LINE_NOT_HTTP, /* not METHOD SP TARGET SP HTTP/d.d */
    WEB_LINE_VERSION,  /* HTTP, in a version other than 1.0 and 1.1 */
    WEB_LINE_TOO_LONG, /* no line end in the first limit bytes */
} web_line_t;

/* What the first n bytes of a connection say (empty lines before the
 * request line are skipped, as RFC 9112 allows). Pure. */
web_line_t web_gate_line(const char *buf, size_t n, size_t limit);

typedef struct web_gate web_gate_t;

/* Starts accepting on listen_fd (owned from now on, closed by destroy)
 * for mhd, which must run with MHD_USE_NO_LISTEN_SOCKET. line_max is the
 * longest request line read. NULL with the reason in err (listen_fd is
 * then still the caller's). */
web_gate_t *web_gate_new(int listen_fd, struct MHD_Daemon *mhd, unsigned max_waiting,
                         unsigned max_per_ip, int timeout_s, size_t line_max, char *err,
                         size_t errlen);
/* Stops accepting and closes the connections still waiting. */
void web_gate_destroy(web_gate_t **self_p);

#endif
