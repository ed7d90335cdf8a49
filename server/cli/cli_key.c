/* cli_key.c: `cchc key add UNIT PUBLIC_KEY_FILE`, register an agent's key.
 *
 * The server's ZAP handler admits a CURVE client only if its public key is
 * in agent_keys, and answers for the unit the key belongs to. A key is written
 * together with NOTIFY cchc_keys in one transaction, so the server reloads its
 * key cache exactly when the key becomes visible. Only the public key ever
 * reaches the CLI: the agent keeps its secret. */
#include "cli_db.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_wire.h"

#include "cchc_clock.h"
#include "cchc_endpoints.h"
#include "cchc_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_DEFAULT_ENDPOINT "tcp://127.0.0.1:7470"
#define S_DEFAULT_OVERLAP_HOURS 72
#define S_MAX_OVERLAP_HOURS (24 * 365)

typedef struct {
    const char *out, *server_key, *unit, *id;
    char endpoints[2048]; /* every --endpoint, joined by commas; "" none */
    long overlap_hours;
    int json;
} s_opts_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] key add UNIT PUBLIC_KEY_FILE\n"
          "       cchc [-c admin.ini] key issue UNIT --out DIR [--server-key FILE]\n"
          "                 [--endpoint tcp://HOST:PORT[,tcp://HOST:PORT...]]...\n"
          "       cchc [-c admin.ini] key rotate UNIT --out DIR [--server-key FILE]\n"
          "                 [--overlap-hours N] [--endpoint tcp://HOST:PORT[,...]]...\n"
          "       cchc [-c admin.ini] key revoke ID|KEY|UNIT | --id ID | --unit UNIT\n"
          "       cchc [-c admin.ini] key list [--unit U] [--json]\n"
          "\n"
          "key add     registers the CURVE public key of a unit's agent (the agent's NAME.pub\n"
          "            file: 40 Z85 characters). The server accepts the agent at once.\n"
          "key issue   makes a key pair for UNIT, registers it and writes a ready agent\n"
          "            bundle in DIR (made, 0755, if it does not exist): agent.ini, agent.pub,\n"
          "            agent.key (0600), server.pub (a copy of --server-key). Defaults:\n"
          "            admin.ini [server] public_key and endpoints (or endpoint); without\n"
          "            them the endpoint is " S_DEFAULT_ENDPOINT ". Several servers (--endpoint\n"
          "            repeated or comma-separated, or [server] endpoints) are written as\n"
          "            endpoints = A, B: the agent moves to the next when one stops answering.\n"
          "key rotate  issues a new bundle as key issue does; the unit's other active keys\n"
          "            keep working for --overlap-hours (default 72; 0: refused at once).\n"
          "key revoke  the server refuses the key from now on, on open connections too:\n"
          "              ID    the number in the first column of 'cchc key list' (simplest);\n"
          "              KEY   the key or a unique prefix of 8 or more of its characters, as\n"
          "                    key list prints it (the '...' may stay); quote it, since Z85\n"
          "                    holds < > * { } & $ # and the like, and put -- before one\n"
          "                    that begins with '-';\n"
          "              UNIT  every active key of the unit.\n"
          "            Digits that are both a key's id and a unit's code are refused: say\n"
          "            --id ID or --unit UNIT.\n"
          "key list    every key: id, unit, prefix, created, state.\n",
          f);
}

/* Fails with the name of the unit that already holds key (or a generic
 * message if it cannot tell). Returns CLI_EXIT_FAIL. */
static int s_duplicate(cli_ctx_t *ctx, const char *key)
{
    const char *params[1] = {key};
    PGresult *r = cli_db_query(ctx, "could not look the key up",
                               "SELECT unit_code, revoked_at IS NOT NULL FROM agent_keys "
                               "WHERE public_key = $1",
                               1, params, PGRES_TUPLES_OK);
    if (r && PQntuples(r) == 1) {
        int revoked = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        fprintf(stderr, "cchc: key %.8s... is already registered for unit '%s'%s\n", key,
                PQgetvalue(r, 0, 0),
                revoked ? " and was revoked: make a new key pair for the agent" : "");
    } else if (r) {
        fprintf(stderr, "cchc: key %.8s... is already registered\n", key);
    }
    PQclear(r);
    return CLI_EXIT_FAIL;
}

static int s_add(cli_ctx_t *ctx, const char *unit, const char *path)
{
    char key[CCHC_KEY_Z85_LEN + 1], err[512];
    if (cchc_keys_read(path, 0, key, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        return CLI_EXIT_FAIL;

    int rc = CLI_EXIT_FAIL;
    PGresult *r = NULL;
    const char *params[2] = {unit, key};
    /* Text the database cannot hold cannot name a unit either. */
    if (cchc_wire_text_ok(unit, strlen(unit))) {
        r = cli_db_query(ctx, "could not look the unit up", "SELECT 1 FROM units WHERE code = $1",
                         1, params, PGRES_TUPLES_OK);
        if (!r)
            goto out;
    }
    if (!r || PQntuples(r) == 0) {
        fprintf(stderr, "cchc: unknown unit '%s': import it with 'cchc unit import'\n", unit);
        goto out;
    }
    PQclear(r);
    /* DO NOTHING rather than catching the unique violation: no error to parse,
     * and no race with another operator adding the same key. */
    r = cli_db_query(ctx, "could not register the key",
                     "INSERT INTO agent_keys (unit_code, public_key) VALUES ($1, $2) "
                     "ON CONFLICT (public_key) DO NOTHING RETURNING id",
                     2, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        rc = s_duplicate(ctx, key);
        goto out;
    }
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_keys", 0, NULL) != 0 ||
        cli_db_commit(ctx) != 0)
        goto out;
    printf("key %.8s... registered for %s\n", key, unit);
    CCHC_LOG(CCHC_LOG_INFO, "key_added", "unit=%s key=%.8s", unit, key);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    if (rc != CLI_EXIT_OK)
        cli_db_rollback(ctx);
    return rc;
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    char *end = NULL;
    switch (c) {
    case 'o':
        o->out = optarg;
        break;
    case 'e': {
        size_t used = strlen(o->endpoints);
        if (used + strlen(optarg) + 2 > sizeof o->endpoints) {
            fprintf(stderr, "cchc: --endpoint: too many servers\n");
            return CLI_EXIT_USAGE;
        }
        snprintf(o->endpoints + used, sizeof o->endpoints - used, "%s%s", used ? "," : "", optarg);
        break;
    }
    case 's':
        o->server_key = optarg;
        break;
    case 'u':
        o->unit = optarg;
        break;
    case 'i':
        o->id = optarg;
        break;
    case 'O':
        errno = 0;
        o->overlap_hours = strtol(optarg, &end, 10);
        if (errno || !*optarg || *end || o->overlap_hours < 0 ||
            o->overlap_hours > S_MAX_OVERLAP_HOURS) {
            fprintf(stderr, "cchc: --overlap-hours must be a whole number 0 to %d, not '%s'\n",
                    S_MAX_OVERLAP_HOURS, optarg);
            return CLI_EXIT_USAGE;
        }
        break;
    default:
        o->json = 1;
    }
    return 0;
}

static char *s_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *p = cchc_calloc(1, len);
    snprintf(p, len, "%s/%s", dir, name);
    return p;
}

/* Writes text to path (mode 0644), refusing to overwrite. 0 or -1 after saying why. */
static int s_write_text(const char *path, const char *text)
{
    FILE *f = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (!f) {
        fprintf(stderr, "cchc: could not create %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "cchc: could not write %s\n", path);
        return -1;
    }
    return 0;
}

/* Issues a key for unit and writes the bundle in o->out; with rotate, the
 * unit's other active keys expire after o->overlap_hours. */
static int s_issue(cli_ctx_t *ctx, const char *unit, const s_opts_t *o, int rotate)
{
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1], spub[CCHC_KEY_Z85_LEN + 1];
    char err[512];
    const char *endpoint = o->endpoints[0]           ? o->endpoints
                           : ctx->server_endpoint[0] ? ctx->server_endpoint
                                                     : S_DEFAULT_ENDPOINT;
    cchc_endpoints_t eps = {0};
    const char *server_key = o->server_key        ? o->server_key
                             : ctx->server_key[0] ? ctx->server_key
                                                  : NULL;
    const char *verb = rotate ? "rotate" : "issue";
    if (!o->out) {
        fprintf(stderr, "cchc: key %s needs --out DIR for the agent bundle\n", verb);
        return CLI_EXIT_USAGE;
    }
    if (!server_key) {
        fprintf(stderr,
                "cchc: key %s needs the server's public key (server.pub), which goes into "
                "the bundle: give --server-key FILE or set [server] public_key in admin.ini\n",
                verb);
        return CLI_EXIT_USAGE;
    }
    if (cchc_endpoints_parse(endpoint, &eps, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s: %s\n", o->endpoints[0] ? "--endpoint" : "[server] endpoints",
                err);
        return CLI_EXIT_USAGE;
    }
    /* What agent.ini gets: one server under the key every agent knows,
     * several as the list. */
    char eplist[sizeof o->endpoints + 2 * CCHC_ENDPOINTS_MAX] = "";
    const char *epkey = eps.n > 1 ? "endpoints" : "endpoint";
    for (size_t i = 0; i < eps.n; i++) {
        if (strncmp(eps.v[i], "tcp://", 6) != 0 || strpbrk(eps.v[i], "\"#;")) {
            fprintf(stderr, "cchc: --endpoint must look like tcp://HOST:PORT, not '%s'\n",
                    eps.v[i]);
            cchc_endpoints_free(&eps);
            return CLI_EXIT_USAGE;
        }
        size_t used = strlen(eplist);
        snprintf(eplist + used, sizeof eplist - used, "%s%s", i ? ", " : "", eps.v[i]);
    }
    cchc_endpoints_free(&eps);
    if (!cchc_wire_text_ok(unit, strlen(unit)) || strpbrk(unit, "\r\n")) {
        fprintf(stderr, "cchc: unknown unit '%s'\n", unit);
        return CLI_EXIT_FAIL;
    }
    if (cchc_keys_read(server_key, 0, spub, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (cchc_keys_generate(pub, sec) != 0) {
        fprintf(stderr, "cchc: could not make a key pair\n");
        return CLI_EXIT_FAIL;
    }
    char *p_ini = s_path(o->out, "agent.ini"), *p_pub = s_path(o->out, "agent.pub");
    char *p_sec = s_path(o->out, "agent.key"), *p_srv = s_path(o->out, "server.pub");
    int rc = CLI_EXIT_FAIL, written = 0;
    PGresult *r = NULL;
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        goto out;
    if (cli_db_unit_known(ctx, unit) != 0)
        goto out;
    char now_s[32], hours_s[32];
    snprintf(now_s, sizeof now_s, "%lld", (long long)cchc_clock_now_ms());
    snprintf(hours_s, sizeof hours_s, "%ld", o->overlap_hours);
    const char *params[4] = {unit, pub, now_s, hours_s};
    r = cli_db_query(ctx, "could not register the key",
                     "INSERT INTO agent_keys (unit_code, public_key) VALUES ($1, $2) "
                     "ON CONFLICT (public_key) DO NOTHING RETURNING id",
                     2, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        rc = s_duplicate(ctx, pub);
        goto out;
    }
    PQclear(r);
    r = NULL;
    /* The overlap counts from the clock every program reads (cchc_clock),
     * which is what the server compares with. */
    if (rotate) {
        r = cli_db_query(ctx, "could not set the old keys' expiry",
                         "UPDATE agent_keys SET expires_at = to_timestamp($3::bigint / 1000.0) "
                         "+ make_interval(hours => $4::int) WHERE unit_code = $1 "
                         "AND public_key <> $2 AND revoked_at IS NULL AND (expires_at IS NULL "
                         "OR expires_at > to_timestamp($3::bigint / 1000.0) "
                         "+ make_interval(hours => $4::int)) RETURNING left(public_key, 8)",
                         4, params, PGRES_TUPLES_OK);
        if (!r)
            goto out;
    }
    if (cli_db_make_dir(o->out) != 0)
        goto out;
    char *ini = cchc_asprintf("[agent]\nunit = %s\n[server]\n%s = %s\n", unit, epkey, eplist);
    char spub_line[CCHC_KEY_Z85_LEN + 2];
    snprintf(spub_line, sizeof spub_line, "%s\n", spub);
    written = 1;
    if (cchc_keys_write_files(p_pub, p_sec, pub, sec, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        written = 0;
        free(ini);
        goto out;
    }
    int ok = s_write_text(p_srv, spub_line) == 0 && s_write_text(p_ini, ini) == 0;
    free(ini);
    if (!ok)
        goto out;
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_keys", 0, NULL) != 0 ||
        cli_db_commit(ctx) != 0)
        goto out;
    written = 0; /* committed: the files stay */
    printf("key %.8s... issued for %s\nagent bundle in %s (agent.ini, agent.pub, agent.key, "
           "server.pub)\n",
           pub, unit, o->out);
    for (int i = 0; rotate && i < PQntuples(r); i++)
        printf("key %s... of %s expires in %ld hours\n", PQgetvalue(r, i, 0), unit,
               o->overlap_hours);
    CCHC_LOG(CCHC_LOG_INFO, rotate ? "key_rotated" : "key_issued", "unit=%s key=%.8s", unit, pub);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    if (rc != CLI_EXIT_OK) {
        if (ctx->conn)
            cli_db_rollback(ctx);
        if (written) {
            unlink(p_sec);
            unlink(p_pub);
            unlink(p_srv);
            unlink(p_ini);
        }
    }
    memset(sec, 0, sizeof sec);
    free(p_ini);
    free(p_pub);
    free(p_sec);
    free(p_srv);
    return rc;
}

/* Prints and logs the keys an UPDATE ... RETURNING left(public_key, 8), unit_code revoked. */
static void s_revoked_print(const PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++) {
        printf("key %s... of %s revoked\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        CCHC_LOG(CCHC_LOG_INFO, "key_revoked", "unit=%s key=%s", PQgetvalue(r, i, 1),
                 PQgetvalue(r, i, 0));
    }
}

/* True when s is an id as `key list` prints it: 1 to 18 digits. */
static int s_is_id(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 18 && s[n] == '\0';
}

/* Looks up key id in the open transaction: 1 found (*revoked set, unit and
 * prefix copied), 0 none, -1 after saying why. */
static int s_key_by_id(cli_ctx_t *ctx, const char *id, int *revoked, char *unit, size_t ulen,
                       char *prefix, size_t plen)
{
    const char *params[1] = {id};
    PGresult *r = cli_db_query(ctx, "could not look the key up",
                               "SELECT revoked_at IS NOT NULL, unit_code, left(public_key, 8) "
                               "FROM agent_keys WHERE id = $1::bigint",
                               1, params, PGRES_TUPLES_OK);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        *revoked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        snprintf(unit, ulen, "%s", PQgetvalue(r, 0, 1));
        snprintf(prefix, plen, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return found;
}

/* 1 when a unit has code code, 0 when none, -1 after saying why. */
static int s_unit_exists(cli_ctx_t *ctx, const char *code)
{
    const char *params[1] = {code};
    PGresult *r = cli_db_query(ctx, "could not look the unit up",
                               "SELECT 1 FROM units WHERE code = $1", 1, params, PGRES_TUPLES_OK);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    PQclear(r);
    return found;
}

/* Revokes key id (the first column of `key list`), in the open transaction.
 * Returns the UPDATE's result (caller clears; no row: already revoked). */
static PGresult *s_revoke_id(cli_ctx_t *ctx, const char *id)
{
    const char *params[1] = {id};
    return cli_db_query(ctx, "could not revoke the key",
                        "UPDATE agent_keys SET revoked_at = now() "
                        "WHERE id = $1::bigint AND revoked_at IS NULL "
                        "RETURNING left(public_key, 8), unit_code",
                        1, params, PGRES_TUPLES_OK);
}

/* `key revoke ID|KEY|UNIT`, `key revoke --id ID`, `key revoke --unit UNIT`.
 *
 * The argument is tried, in this order, as the id `key list` prints (digits
 * only), as a key or a unique prefix of 8 or more of its characters (the
 * "..." that `key list` prints after the prefix may stay), then as a unit
 * (all its active keys). Digits that are both a key's id and a unit's code
 * are refused as ambiguous: --id or --unit says which. */
static int s_revoke(cli_ctx_t *ctx, const char *arg, const s_opts_t *o)
{
    const char *what = o->id ? o->id : o->unit ? o->unit : arg;
    size_t len = strlen(what);
    if (o->id && !s_is_id(o->id)) {
        fprintf(stderr,
                "cchc: --id '%s' is not a key id: give the number in the first column of "
                "'cchc key list'\n",
                o->id);
        return CLI_EXIT_USAGE;
    }
    if (!cchc_wire_text_ok(what, len)) {
        fprintf(stderr, "cchc: no key or unit '%s': see 'cchc key list'\n", what);
        return CLI_EXIT_FAIL;
    }
    /* A prefix copied from `key list` ends with "...". */
    char key[CCHC_KEY_Z85_LEN + 1] = "";
    if (!o->id && !o->unit && len >= 8 + 3 && len - 3 <= CCHC_KEY_Z85_LEN &&
        strcmp(what + len - 3, "...") == 0)
        snprintf(key, sizeof key, "%.*s", (int)(len - 3), what);
    else if (!o->id && !o->unit && len <= CCHC_KEY_Z85_LEN)
        snprintf(key, sizeof key, "%s", what);
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_FAIL;
    PGresult *r = NULL;

    if (o->id || (!o->unit && s_is_id(what))) {
        int revoked = 0;
        char unit[128] = "", prefix[16] = "";
        int found = s_key_by_id(ctx, what, &revoked, unit, sizeof unit, prefix, sizeof prefix);
        if (found < 0)
            goto out;
        int unit_too = found && !o->id ? s_unit_exists(ctx, what) : 0;
        if (unit_too < 0)
            goto out;
        if (unit_too) {
            fprintf(stderr,
                    "cchc: '%s' is both the id of key %s... (unit '%s') and a unit's code: say "
                    "'cchc key revoke --id %s' for the key or 'cchc key revoke --unit %s' for "
                    "the unit's keys\n",
                    what, prefix, unit, what, what);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        if (found && revoked) {
            fprintf(stderr, "cchc: key %s (%s... of unit '%s') is already revoked\n", what, prefix,
                    unit);
            goto out;
        }
        if (found) {
            if (!(r = s_revoke_id(ctx, what)))
                goto out;
        } else if (o->id) {
            fprintf(stderr, "cchc: no key with id %s: 'cchc key list' shows the ids\n", what);
            goto out;
        }
    }
    /* A key prefix of 8 or more characters (unique among all keys), else a
     * unit's active keys. */
    size_t klen = strlen(key);
    if (!r && klen >= 8) {
        const char *kparams[1] = {key};
        r = cli_db_query(ctx, "could not look the key up",
                         "SELECT id, revoked_at IS NOT NULL FROM agent_keys "
                         "WHERE left(public_key, length($1)) = $1",
                         1, kparams, PGRES_TUPLES_OK);
        if (!r)
            goto out;
        if (PQntuples(r) > 1) {
            fprintf(stderr,
                    "cchc: key prefix '%s' matches %d keys: give the id from 'cchc key list' "
                    "instead\n",
                    key, PQntuples(r));
            goto out;
        }
        if (PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0) {
            fprintf(stderr, "cchc: key %s (%s...) is already revoked\n", PQgetvalue(r, 0, 0), key);
            goto out;
        }
        char id[24] = "";
        if (PQntuples(r) == 1)
            snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        r = NULL;
        if (id[0] && !(r = s_revoke_id(ctx, id)))
            goto out;
    }
    const char *params[1] = {what};
    if (!r && !o->id)
        r = cli_db_query(ctx, "could not revoke the unit's keys",
                         "UPDATE agent_keys SET revoked_at = now() "
                         "WHERE unit_code = $1 AND revoked_at IS NULL "
                         "RETURNING left(public_key, 8), unit_code",
                         1, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        if (o->unit)
            fprintf(stderr, "cchc: unit '%s' has no active key: see 'cchc key list --unit %s'\n",
                    what, what);
        else
            fprintf(stderr,
                    "cchc: no key id, active key or unit '%s': give the id in the first column "
                    "of 'cchc key list'\n",
                    what);
        goto out;
    }
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_keys", 0, NULL) != 0 ||
        cli_db_commit(ctx) != 0)
        goto out;
    s_revoked_print(r);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    if (rc != CLI_EXIT_OK)
        cli_db_rollback(ctx);
    return rc;
}

/* State of a key as of the injected clock ($2, ms): the server's view. */
#define S_STATE_SQL(now)                                                                           \
    "CASE WHEN revoked_at IS NOT NULL THEN 'revoked at ' || " CLI_SQL_LOCAL(                       \
        "revoked_at") " WHEN expires_at IS NULL THEN 'active' WHEN expires_at > to_timestamp(" now \
                      "::bigint / 1000.0) THEN 'expiring at ' || " CLI_SQL_LOCAL(                  \
                          "expires_at") " ELSE 'expired' END"

static int s_list(cli_ctx_t *ctx, const s_opts_t *o)
{
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    char now_s[32];
    snprintf(now_s, sizeof now_s, "%lld", (long long)cchc_clock_now_ms());
    const char *params[2] = {o->unit, now_s};
    if (o->json)
        return cli_db_print_json(
            ctx, "could not list the keys",
            "SELECT coalesce(json_agg(json_build_object('id', id, 'unit', unit_code, 'key', "
            "left(public_key, 8) || '...', 'created', " CLI_SQL_UTC(
                "created_at") ", 'state', "
                              "CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at IS "
                              "NULL THEN "
                              "'active' WHEN expires_at > to_timestamp($2::bigint / 1000.0) THEN "
                              "'expiring' "
                              "ELSE 'expired' END, 'expires', " CLI_SQL_UTC(
                                  "expires_at") ", 'revoked', " CLI_SQL_UTC("revoked_at") ") ORDER "
                                                                                          "BY id), "
                                                                                          "'[]'::"
                                                                                          "json) "
                                                                                          "FROM "
                                                                                          "agent_"
                                                                                          "keys "
                                                                                          "WHERE "
                                                                                          "$1::"
                                                                                          "text IS "
                                                                                          "NULL OR "
                                                                                          "unit_"
                                                                                          "code = "
                                                                                          "$1",
            2, params);
    return cli_db_print_table(ctx, "could not list the keys",
                              "SELECT id, unit_code AS unit, left(public_key, 8) || '...' AS key, "
                              "" CLI_SQL_LOCAL("created_at") " AS created, " S_STATE_SQL(
                                  "$2") " AS state FROM agent_keys "
                                        "WHERE $1::text IS NULL OR unit_code = $1 ORDER BY id",
                              2, params, "no keys");
}

int cli_key_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"out", required_argument, NULL, 'o'},
        {"endpoint", required_argument, NULL, 'e'},
        {"server-key", required_argument, NULL, 's'},
        {"unit", required_argument, NULL, 'u'},
        {"overlap-hours", required_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'j'},
        {"id", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        fprintf(stderr, "cchc: key needs a subcommand: add, issue, rotate, revoke, list\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    s_opts_t o = {.overlap_hours = S_DEFAULT_OVERLAP_HOURS};
    int nargs = 0;
    char **args = NULL;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    int revoke = strcmp(verb, "revoke") == 0;
    int want = strcmp(verb, "add") == 0 ? 2 : strcmp(verb, "list") == 0 ? 0 : 1;
    if (strcmp(verb, "add") != 0 && strcmp(verb, "issue") != 0 && strcmp(verb, "rotate") != 0 &&
        !revoke && strcmp(verb, "list") != 0) {
        fprintf(stderr, "cchc: unknown subcommand 'key %s'\n", verb);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (o.id && !revoke) {
        fprintf(stderr, "cchc: --id is for 'key revoke'\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    /* key revoke takes one of ID|KEY|UNIT, --id ID and --unit UNIT. */
    if (revoke && (o.id || o.unit))
        want = 0;
    if (nargs != want || (revoke && o.id && o.unit)) {
        fprintf(stderr, "cchc: key %s needs %s\n", verb,
                want == 2   ? "UNIT and PUBLIC_KEY_FILE"
                : revoke    ? "one of ID (the first column of 'cchc key list'), KEY or UNIT, "
                              "--id ID and --unit UNIT"
                : want == 0 ? "no argument"
                            : "UNIT");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(verb, "add") == 0)
        return s_add(ctx, args[0], args[1]);
    if (strcmp(verb, "issue") == 0)
        return s_issue(ctx, args[0], &o, 0);
    if (strcmp(verb, "rotate") == 0)
        return s_issue(ctx, args[0], &o, 1);
    if (strcmp(verb, "revoke") == 0)
        return s_revoke(ctx, nargs ? args[0] : NULL, &o);
    return s_list(ctx, &o);
}
