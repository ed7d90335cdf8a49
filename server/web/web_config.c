/* web_config.c: the declarative table of web.ini (see web_config.h).
 *
 * The table checks each key alone (cchc_config: FILE:LINE on a bad value);
 * web_config_load then checks what spans keys, naming the file and keys. */
#include "web_config.h"
#include "cchc_err.h"
#include "web_auth.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define S_ENTRY(sec, key, type, def, lo, hi, member, help)                                         \
    {                                                                                              \
        (sec), (key), (type), (def), (lo), (hi), offsetof(web_config_t, member), (help)            \
    }

static const cchc_cfg_entry_t s_table[] = {
    S_ENTRY("web", "listen", CCHC_CFG_STRING, "127.0.0.1:7480", 0, 0, listen,
            "address and port of the dashboard: 127.0.0.1:7480, [::1]:7480, *:7480 (every "
            "IPv4 address; put a TLS proxy in front)"),
    S_ENTRY("web", "refresh_seconds", CCHC_CFG_INT, "60", 0, 86400, refresh_seconds,
            "pages reload themselves this often (0: never)"),
    S_ENTRY("web", "auth_user", CCHC_CFG_STRING, "", 0, 0, auth_user,
            "HTTP basic authentication: the user name (empty: no authentication)"),
    S_ENTRY("web", "auth_hash", CCHC_CFG_STRING, "", 0, 0, auth_hash,
            "its password's crypt(3) hash, " WEB_AUTH_SCHEMES ": cchc-web --hash-password"),
    S_ENTRY("web", "max_connections", CCHC_CFG_INT, "64", 1, 10000, max_connections,
            "HTTP connections open at once, all clients"),
    S_ENTRY("web", "max_connections_per_ip", CCHC_CFG_INT, "16", 1, 10000, max_per_ip,
            "HTTP connections open at once from one address"),
    S_ENTRY("web", "connection_timeout_seconds", CCHC_CFG_INT, "30", 1, 3600, timeout_seconds,
            "an HTTP connection idle this long is closed"),
    S_ENTRY("database", "conninfo", CCHC_CFG_STRING, "", 0, 0, conninfo,
            "libpq connection string (a login in cchc_viewer); empty: the PG* variables"),
    S_ENTRY("database", "statement_timeout_ms", CCHC_CFG_INT, "30000", 0, 3600000,
            statement_timeout_ms, "a page's query is cancelled after this long (0: never)"),
    S_ENTRY("log", "level", CCHC_CFG_LOGLEVEL, "info", 0, 0, log_level,
            "debug, info, warn or error"),
};
#define S_N (sizeof s_table / sizeof s_table[0])

int web_config_parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *len)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
        return -1;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535 || !isdigit((unsigned char)colon[1]))
        return -1;
    char host[64];
    size_t hlen = (size_t)(colon - s);
    if (hlen >= sizeof host)
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(addr, 0, sizeof *addr);
    if (host[0] == '[') {
        if (hlen < 3 || host[hlen - 1] != ']')
            return -1;
        host[hlen - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return -1;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    if (strcmp(host, "*") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return -1;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return 0;
}

/* The checks across keys; 0 or CCHC_EINVAL with err. */
static int s_check(web_config_t *cfg, const char *file, char *err, size_t errlen)
{
    char why[256];
    if (web_config_parse_listen(cfg->listen, &cfg->addr, &cfg->addrlen) != 0) {
        snprintf(err, errlen,
                 "%s: [web] listen '%s' is not HOST:PORT (127.0.0.1:7480, [::1]:7480, *:7480)",
                 file, cfg->listen);
        return CCHC_EINVAL;
    }
    int user = cfg->auth_user[0] != '\0', hash = cfg->auth_hash[0] != '\0';
    if (user != hash) {
        snprintf(err, errlen,
                 "%s: [web] auth_user and auth_hash go together: set both (the hash from "
                 "'cchc-web --hash-password'), or neither for no authentication",
                 file);
        return CCHC_EINVAL;
    }
    for (const char *p = cfg->auth_user; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == ':' || *p == 0x7F) {
            snprintf(err, errlen, "%s: [web] auth_user may hold neither ':' nor control characters",
                     file);
            return CCHC_EINVAL;
        }
    if (hash && web_auth_hash_ok(cfg->auth_hash, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: [web] auth_hash: %s", file, why);
        return CCHC_EINVAL;
    }
    return 0;
}

int web_config_load(web_config_t *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = path ? cchc_config_load(path, s_table, S_N, cfg, err, errlen)
                  : cchc_config_defaults(s_table, S_N, cfg, err, errlen);
    if (rc != 0)
        return rc;
    return s_check(cfg, path ? path : "(defaults)", err, errlen);
}

void web_config_free(web_config_t *cfg)
{
    cchc_config_free(s_table, S_N, cfg);
    memset(cfg, 0, sizeof *cfg);
}

void web_config_describe(FILE *f)
{
    cchc_config_describe(s_table, S_N, f);
}

void web_config_list_keys(FILE *f)
{
    cchc_config_list_keys(s_table, S_N, f);
}
