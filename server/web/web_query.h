/* web_query.h: a request's target, read strictly: the path as sent and the
 * query string's parameters decoded, or the reason it is refused.
 *
 * cchc-web never lets libmicrohttpd unescape for it: the raw target (from
 * MHD_OPTION_URI_LOG_CALLBACK) comes here, and anything not plainly a
 * short, valid query (a '%' not followed by two hex digits, an encoded NUL
 * or control character, bytes that are not UTF-8, a value or a target too
 * long, a parameter given twice) is refused before any page or the
 * database sees it. Then each value is checked for what it must be (a
 * period id, a type code, a year). Pure functions, unit-tested
 * (tests/unit/test_web.c). */
#ifndef WEB_QUERY_H
#define WEB_QUERY_H

#include <stddef.h>

#define WEB_TARGET_MAX 1024    /* bytes of the whole request target */
#define WEB_PATH_MAX 64        /* bytes of its path: every route is shorter */
#define WEB_QUERY_PARAMS_MAX 4 /* parameters in one query string */
#define WEB_QUERY_NAME_MAX 15  /* bytes of a parameter's name */
#define WEB_QUERY_VALUE_MAX 64 /* bytes of a parameter's decoded value */

typedef struct {
    char name[WEB_QUERY_NAME_MAX + 1];
    char value[WEB_QUERY_VALUE_MAX + 1];
} web_param_t;

typedef struct {
    char path[WEB_PATH_MAX + 1]; /* as sent, never unescaped */
    web_param_t params[WEB_QUERY_PARAMS_MAX];
    int nparams;
} web_target_t;

/* Why a target or a value is refused: an HTTP status and a short message in
 * Vietnamese and in English (static strings). */
typedef struct {
    int status;
    const char *vi, *en;
} web_refusal_t;

/* Reads the raw request target ("/status?period=2024S1&type=CCHC_DK") into t.
 * 0, or -1 with why filled: 414 for a target over WEB_TARGET_MAX, 404 for a
 * path over WEB_PATH_MAX (no route is that long), 400 for the rest (a name
 * without '=' among them). An empty value ("type=", as a form sends "all")
 * counts as not given. */
int web_target_parse(const char *raw, web_target_t *t, web_refusal_t *why);

/* The decoded value of parameter name, or NULL when not given. Borrowed. */
const char *web_target_get(const web_target_t *t, const char *name);

/* 0 when every parameter is one of allowed (NULL-terminated); else -1 with
 * why (400). */
int web_target_only(const web_target_t *t, const char *const *allowed, web_refusal_t *why);

/* A period id in any case ("2024s1") into buf in upper case (at least 8
 * bytes). 0, or -1 with why (400). */
int web_value_period(const char *v, char *buf, size_t len, web_refusal_t *why);
/* A report type code (letters, digits, '_', 1-32) into buf in upper case
 * (at least 33 bytes). Whether such a type exists is the database's to
 * say. 0, or -1 with why (400). */
int web_value_type(const char *v, char *buf, size_t len, web_refusal_t *why);
/* A year 2000-2199. 0, or -1 with why (400). */
int web_value_year(const char *v, int *year, web_refusal_t *why);

#endif
