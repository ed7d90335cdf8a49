/* web_config.h: the settings of cchc-web (web.ini) and the table that reads
 * them, with the checks that span keys (the listen address, the user and
 * its password hash go together). */
#ifndef WEB_CONFIG_H
#define WEB_CONFIG_H

#include "cchc_config.h"

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

typedef struct {
    char *listen;                 /* [web] listen, HOST:PORT */
    int64_t refresh_seconds;      /* [web] refresh_seconds: pages reload themselves; 0 never */
    char *auth_user;              /* [web] auth_user: "" = no authentication */
    char *auth_hash;              /* [web] auth_hash: crypt(3), $y$ or $6$ */
    int64_t max_connections;      /* [web] max_connections */
    int64_t max_per_ip;           /* [web] max_connections_per_ip */
    int64_t timeout_seconds;      /* [web] connection_timeout_seconds: idle connections */
    char *conninfo;               /* [database] conninfo, "" = PG* environment */
    int64_t statement_timeout_ms; /* [database] statement_timeout_ms */
    int log_level;                /* [log] level */
    /* Derived by web_config_load from listen. */
    struct sockaddr_storage addr;
    socklen_t addrlen;
} web_config_t;

/* Loads path (NULL: the defaults only), then checks the keys together. 0,
 * CCHC_EIO (cannot read) or CCHC_EINVAL; err names the file, the key and the
 * fix. */
int web_config_load(web_config_t *cfg, const char *path, char *err, size_t errlen);
void web_config_free(web_config_t *cfg);
/* "  [section] name = default   help" for --help. */
void web_config_describe(FILE *f);
/* "section.name=default" per line for --config-keys. */
void web_config_list_keys(FILE *f);

/* Parses "HOST:PORT" (an IPv4 address, "[IPv6]", "localhost" or "*" for
 * every IPv4 address) into addr. 0, or -1. Unit-tested. */
int web_config_parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *len);

#endif
