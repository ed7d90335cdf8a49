/* cchc_endpoints.h: a list of server endpoints, and which one to try next.
 *
 * Several cchc-server processes may share one database (DESIGN.md "Scale"):
 * an agent ([server] endpoints) and `cchc watch` ([watch] endpoints) list
 * them and move to another when the one they talk to stops answering. This
 * module owns the list (parsed from "a, b c": commas and/or spaces) and the
 * memory of when each endpoint was last given up on; the caller decides when
 * to give up (its liveness) and how long a failure counts against an
 * endpoint (holddown_ms). It keeps no clock and no socket. */
#ifndef CCHC_ENDPOINTS_H
#define CCHC_ENDPOINTS_H

#include <stddef.h>
#include <stdint.h>

/* More servers than this for one district would be a mistake in the file. */
#define CCHC_ENDPOINTS_MAX 16

typedef struct {
    size_t n;
    char *v[CCHC_ENDPOINTS_MAX];           /* "tcp://HOST:PORT" (or ipc://, inproc://) */
    int64_t failed_at[CCHC_ENDPOINTS_MAX]; /* monotonic ms when last given up on */
    int failed[CCHC_ENDPOINTS_MAX];        /* given up on at least once */
} cchc_endpoints_t;

/* Parses a list (items separated by commas and/or white space) into out,
 * which is emptied first. Each item is tcp://HOST:PORT (HOST a name, an
 * IPv4 address or [IPv6], PORT 1-65535), ipc://PATH or inproc://NAME; an
 * item listed twice, an empty list or more than CCHC_ENDPOINTS_MAX items are
 * refused. 0, or CCHC_EINVAL with the item and the expected form in err. */
int cchc_endpoints_parse(const char *text, cchc_endpoints_t *out, char *err, size_t errlen);

/* Resolves a configuration section's two keys: `endpoint` (one server, the
 * old key) and `endpoints` (a list). Both set (non-empty) is an error naming
 * both; neither set gives def (an error when def is NULL). file and section
 * name the place in err ("agent.ini: [server] ..."). 0 or CCHC_EINVAL. */
int cchc_endpoints_from_config(const char *file, const char *section, const char *one,
                               const char *list, const char *def, cchc_endpoints_t *out, char *err,
                               size_t errlen);

/* Frees the strings; the list is empty after. Accepts an empty list. */
void cchc_endpoints_free(cchc_endpoints_t *l);

/* The list as "a, b" (caller frees), for logs, status and agent.ini. */
char *cchc_endpoints_join(const cchc_endpoints_t *l);

/* True when text names an endpoint of the list other than cur (events of a
 * connection already left behind can arrive after a move). */
int cchc_endpoints_is_other(const cchc_endpoints_t *l, size_t cur, const char *text);

/* Gives up on endpoint cur at now (monotonic ms) and returns the index to try
 * next: the first of the list, in order, other than cur, that was never given
 * up on or not within holddown_ms; when every other one failed that
 * recently, the one after cur (plain cycling). So a list goes back to its
 * first server once that one has had holddown_ms to recover, and a server
 * that just failed is not tried again before the others. With one endpoint,
 * returns 0. */
size_t cchc_endpoints_next(cchc_endpoints_t *l, size_t cur, int64_t now, int64_t holddown_ms);

#endif
