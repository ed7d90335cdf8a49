/* cchc_endpoints.c: endpoint lists and the choice of the next (see cchc_endpoints.h). */
#include "cchc_endpoints.h"

#include "cchc_err.h"
#include "cchc_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SEPARATORS ", \t\r\n"

/* Whether an item has the form of an endpoint we can connect to; *why says
 * what is wrong when it has not. Only the form: whether the host resolves is
 * the connection's business. */
static int s_item_ok(const char *item, const char **why)
{
    if (strncmp(item, "ipc://", 6) == 0 || strncmp(item, "inproc://", 9) == 0) {
        if (!strchr(item, '/')[2]) {
            *why = "has no path or name after ://";
            return 0;
        }
        return 1;
    }
    if (strncmp(item, "tcp://", 6) != 0) {
        *why = "does not begin with tcp://";
        return 0;
    }
    const char *host = item + 6;
    const char *colon = strrchr(host, ':');
    if (!colon || colon == host) {
        *why = "has no HOST:PORT after tcp://";
        return 0;
    }
    if (host[0] == '[' && colon[-1] != ']') {
        *why = "has an IPv6 address without its closing ]";
        return 0;
    }
    if (strchr(host, '*')) {
        *why = "names no host (* is for listening, not for connecting)";
        return 0;
    }
    const char *port = colon + 1;
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 1 || p > 65535 || *port == '+' || *port == '-') {
        *why = "has no port 1-65535 after the last :";
        return 0;
    }
    return 1;
}

int cchc_endpoints_parse(const char *text, cchc_endpoints_t *out, char *err, size_t errlen)
{
    cchc_endpoints_free(out);
    const char *p = text ? text : "";
    while (*p) {
        p += strspn(p, S_SEPARATORS);
        size_t len = strcspn(p, S_SEPARATORS);
        if (len == 0)
            break;
        char *item = cchc_strndup(p, len);
        const char *why = NULL;
        p += len;
        if (!s_item_ok(item, &why)) {
            snprintf(err, errlen,
                     "\"%s\" %s: write tcp://HOST:PORT, e.g. tcp://district.example:7470", item,
                     why);
            free(item);
            goto fail;
        }
        for (size_t i = 0; i < out->n; i++) {
            if (strcmp(out->v[i], item) == 0) {
                snprintf(err, errlen, "\"%s\" is listed twice: list each server once", item);
                free(item);
                goto fail;
            }
        }
        if (out->n == CCHC_ENDPOINTS_MAX) {
            snprintf(err, errlen, "more than %d servers listed", CCHC_ENDPOINTS_MAX);
            free(item);
            goto fail;
        }
        out->v[out->n++] = item;
    }
    if (out->n == 0) {
        snprintf(err, errlen,
                 "no server listed: write tcp://HOST:PORT, several separated by commas");
        return CCHC_EINVAL;
    }
    return CCHC_OK;
fail:
    cchc_endpoints_free(out);
    return CCHC_EINVAL;
}

int cchc_endpoints_from_config(const char *file, const char *section, const char *one,
                               const char *list, const char *def, cchc_endpoints_t *out, char *err,
                               size_t errlen)
{
    char why[384] = "";
    int has_one = one && *one, has_list = list && *list;
    const char *key = has_list ? "endpoints" : "endpoint";
    cchc_endpoints_free(out);
    if (has_one && has_list) {
        snprintf(err, errlen,
                 "%s: [%s] endpoint and [%s] endpoints are both set: keep one (endpoints lists "
                 "every server, endpoint = X is the same as endpoints = X)",
                 file, section, section);
        return CCHC_EINVAL;
    }
    const char *text = has_list ? list : has_one ? one : def;
    if (!text) {
        snprintf(err, errlen, "%s: set [%s] endpoints (or endpoint)", file, section);
        return CCHC_EINVAL;
    }
    if (cchc_endpoints_parse(text, out, why, sizeof why) != CCHC_OK) {
        snprintf(err, errlen, "%s: [%s] %s: %s", file, section, key, why);
        return CCHC_EINVAL;
    }
    if (has_one && out->n > 1) {
        cchc_endpoints_free(out);
        snprintf(err, errlen,
                 "%s: [%s] endpoint holds several servers: call the key endpoints to list them",
                 file, section);
        return CCHC_EINVAL;
    }
    return CCHC_OK;
}

void cchc_endpoints_free(cchc_endpoints_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    memset(l, 0, sizeof *l);
}

char *cchc_endpoints_join(const cchc_endpoints_t *l)
{
    size_t len = 1;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->v[i]) + 2;
    char *s = cchc_calloc(1, len), *p = s;
    for (size_t i = 0; i < l->n; i++)
        p += sprintf(p, "%s%s", i ? ", " : "", l->v[i]);
    return s;
}

int cchc_endpoints_is_other(const cchc_endpoints_t *l, size_t cur, const char *text)
{
    for (size_t i = 0; text && i < l->n; i++)
        if (i != cur && strcmp(l->v[i], text) == 0)
            return 1;
    return 0;
}

size_t cchc_endpoints_next(cchc_endpoints_t *l, size_t cur, int64_t now, int64_t holddown_ms)
{
    if (l->n <= 1)
        return 0;
    if (cur < l->n) {
        l->failed[cur] = 1;
        l->failed_at[cur] = now;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (i == cur)
            continue;
        if (!l->failed[i] || now - l->failed_at[i] >= holddown_ms)
            return i;
    }
    return cur < l->n ? (cur + 1) % l->n : 0;
}
