/* cli_subscriber.c: `cchc subscriber add|list|revoke`.
 *
 * A subscriber is the third kind of principal beside agents and operators: a
 * program (the district's chat bridge, a dashboard) that connects with its own
 * CURVE key and may only subscribe to and replay notifications whose topic
 * ("<kind>.<unit_code>") starts with one of its prefixes. The row and NOTIFY
 * cchc_keys go in one transaction, so the server's ZAP handler knows the key
 * exactly when it is visible. The subscribers_audit trigger (migration 005)
 * records every change; revoking only sets revoked_at, names stay taken.
 *
 * Without --key, --out DIR makes the key pair here (DIR/NAME.pub and
 * DIR/NAME.key, 0600; DIR is made when missing, as by key issue): the files
 * are written inside the transaction and
 * removed again if it does not commit, so a key file never names a subscriber
 * the database does not know. */
#include "cli_db.h"
#include "cchc_keys.h"
#include "cchc_log.h"
#include "cchc_mem.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_NAME_MAX 63
#define S_TOPIC_MAX 200
#define S_TOPICS_MAX 64

typedef struct {
    const char *topics, *key, *out;
    int json;
} s_opts_t;

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] subscriber add NAME --topics PREFIX[,PREFIX...]\n"
          "                 (--key PUBLIC_KEY_FILE | --out DIR)\n"
          "       cchc [-c admin.ini] subscriber list [--json]\n"
          "       cchc [-c admin.ini] subscriber revoke NAME\n"
          "\n"
          "Subscribers (bên nhận thông báo) connect with their own CURVE key and may only\n"
          "subscribe to and replay notifications whose topic, '<kind>.<unit>', starts with\n"
          "one of their prefixes (report.overdue., deadline., task.due.xa-van-son, ...).\n"
          "subscriber add     NAME: 1 to 63 characters a-z, 0-9, '.', '_', '-', starting\n"
          "                   with a letter or digit; prefixes: a-z, 0-9, '.', '_', '@', '-'.\n"
          "                   --key registers an existing public key (NAME.pub, 40 Z85\n"
          "                   characters); --out DIR makes a pair DIR/NAME.pub, DIR/NAME.key\n"
          "                   (give the .key to the subscriber only) and prints the paths;\n"
          "                   DIR is made (0755) if it does not exist, as by key issue.\n"
          "subscriber list    every subscriber, its topics and whether it is revoked.\n"
          "subscriber revoke  the server refuses the subscriber's key from now on.\n",
          f);
}

static int s_on_opt(int c, const char *optarg, void *arg)
{
    s_opts_t *o = arg;
    if (c == 't')
        o->topics = optarg;
    else if (c == 'k')
        o->key = optarg;
    else if (c == 'o')
        o->out = optarg;
    else
        o->json = 1;
    return 0;
}

static int s_in(char c, const char *extra)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

/* subscribers.name's CHECK: ^[a-z0-9][a-z0-9._-]{0,62}$ */
static int s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > S_NAME_MAX || !s_in(name[0], ""))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!s_in(name[i], "._-"))
            return 0;
    return 1;
}

/* Comma-separated prefixes, each 1 to S_TOPIC_MAX of [a-z0-9._@-]. */
static int s_topics_ok(const char *topics)
{
    size_t count = 0;
    const char *p = topics;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len > S_TOPIC_MAX || ++count > S_TOPICS_MAX)
            return 0;
        for (size_t i = 0; i < len; i++)
            if (!s_in(p[i], "._@-"))
                return 0;
        if (!p[len])
            return 1;
        p += len + 1;
    }
}

/* Why an insert met a conflict: the name or the key is taken. CLI_EXIT_FAIL. */
static int s_duplicate(cli_ctx_t *ctx, const char *name, const char *key)
{
    const char *params[2] = {name, key};
    PGresult *r = cli_db_query(ctx, "could not look the subscriber up",
                               "SELECT name, name = $1, revoked_at IS NOT NULL FROM subscribers "
                               "WHERE name = $1 OR public_key = $2 ORDER BY name = $1 DESC",
                               2, params, PGRES_TUPLES_OK);
    if (r && PQntuples(r) >= 1 && strcmp(PQgetvalue(r, 0, 1), "t") == 0)
        fprintf(stderr, "cchc: subscriber '%s' already exists%s\n", name,
                strcmp(PQgetvalue(r, 0, 2), "t") == 0 ? " (revoked): choose another name" : "");
    else if (r && PQntuples(r) >= 1)
        fprintf(stderr, "cchc: key %.8s... is already registered for subscriber '%s'\n", key,
                PQgetvalue(r, 0, 0));
    else if (r)
        fprintf(stderr, "cchc: subscriber '%s' or its key is already registered\n", name);
    PQclear(r);
    return CLI_EXIT_FAIL;
}

static int s_add(cli_ctx_t *ctx, const char *name, const s_opts_t *o)
{
    char pub[CCHC_KEY_Z85_LEN + 1], sec[CCHC_KEY_Z85_LEN + 1], err[512];
    char *prefix = NULL, *pub_path = NULL, *sec_path = NULL;
    int rc = CLI_EXIT_USAGE, written = 0;
    PGresult *r = NULL;

    if (!s_name_ok(name)) {
        fprintf(stderr,
                "cchc: subscriber name '%s' is not valid: use 1 to 63 characters a-z, 0-9, "
                "'.', '_' or '-', starting with a letter or digit\n",
                name);
        goto out;
    }
    if (!o->topics || !s_topics_ok(o->topics)) {
        fprintf(stderr,
                "cchc: subscriber add needs --topics PREFIX[,PREFIX...]: each prefix 1 to %d "
                "characters a-z, 0-9, '.', '_', '@' or '-'%s%s%s\n",
                S_TOPIC_MAX, o->topics ? " ('" : "", o->topics ? o->topics : "",
                o->topics ? "' is not)" : "");
        goto out;
    }
    if (!o->key == !o->out) {
        fprintf(stderr, "cchc: subscriber add needs either --key PUBLIC_KEY_FILE or --out DIR\n");
        goto out;
    }
    rc = CLI_EXIT_FAIL;
    if (o->key && cchc_keys_read(o->key, 0, pub, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        goto out;
    }
    if (o->out) {
        size_t len = strlen(o->out) + strlen(name) + 8;
        prefix = cchc_calloc(1, len);
        pub_path = cchc_calloc(1, len);
        sec_path = cchc_calloc(1, len);
        snprintf(prefix, len, "%s/%s", o->out, name);
        snprintf(pub_path, len, "%s.pub", prefix);
        snprintf(sec_path, len, "%s.key", prefix);
        if (cchc_keys_generate(pub, sec) != 0) {
            fprintf(stderr, "cchc: could not make a key pair\n");
            goto out;
        }
    }
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        goto out;
    const char *params[3] = {name, pub, o->topics};
    r = cli_db_query(ctx, "could not register the subscriber",
                     "INSERT INTO subscribers (name, public_key, topics) "
                     "VALUES ($1, $2, string_to_array($3, ',')) "
                     "ON CONFLICT DO NOTHING RETURNING id",
                     3, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        rc = s_duplicate(ctx, name, pub);
        goto out;
    }
    if (o->out) {
        if (cli_db_make_dir(o->out) != 0)
            goto out;
        if (cchc_keys_write_pair(prefix, pub, sec, err, sizeof err) != 0) {
            fprintf(stderr, "cchc: %s\n", err);
            goto out;
        }
        written = 1;
    }
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_keys", 0, NULL) != 0 ||
        cli_db_commit(ctx) != 0)
        goto out;
    written = 0; /* committed: the files stay */
    printf("subscriber %s registered with key %.8s... for topics %s\n", name, pub, o->topics);
    if (o->out)
        printf("public key  %s\nsecret key  %s  (give it to the subscriber only)\n", pub_path,
               sec_path);
    CCHC_LOG(CCHC_LOG_INFO, "subscriber_added", "name=%s key=%.8s topics=%s", name, pub, o->topics);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    if (rc != CLI_EXIT_OK && ctx->conn)
        cli_db_rollback(ctx);
    if (written) {
        unlink(pub_path);
        unlink(sec_path);
    }
    memset(sec, 0, sizeof sec);
    free(prefix);
    free(pub_path);
    free(sec_path);
    return rc;
}

static int s_list(cli_ctx_t *ctx, int json)
{
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    if (json)
        return cli_db_print_json(
            ctx, "could not list the subscribers",
            "SELECT coalesce(json_agg(json_build_object('name', name, 'public_key', public_key, "
            "'topics', topics, 'created_at', " CLI_SQL_UTC(
                "created_at") ", 'revoked_at', " CLI_SQL_UTC("revoked_at") ") ORDER BY name), "
                                                                           "'[]') FROM subscribers",
            0, NULL);
    return cli_db_print_table(
        ctx, "could not list the subscribers",
        "SELECT name, left(public_key, 8) || '...' AS key, "
        "array_to_string(topics, ',') AS topics, "
        "CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'revoked' END "
        "AS state, " CLI_SQL_LOCAL("created_at") " AS created_at, " CLI_SQL_LOCAL(
            "revoked_at") " AS revoked_at "
                          "FROM subscribers ORDER BY name",
        0, NULL, "no subscribers registered");
}

static int s_revoke(cli_ctx_t *ctx, const char *name)
{
    if (!s_name_ok(name)) {
        fprintf(stderr, "cchc: unknown subscriber '%s': 'cchc subscriber list' shows them\n", name);
        return CLI_EXIT_FAIL;
    }
    if (cli_db_connect(ctx, 1) != 0 || cli_db_begin(ctx) != 0)
        return CLI_EXIT_FAIL;
    const char *params[1] = {name};
    int rc = CLI_EXIT_FAIL;
    PGresult *r = cli_db_query(ctx, "could not revoke the subscriber",
                               "UPDATE subscribers SET revoked_at = now() "
                               "WHERE name = $1 AND revoked_at IS NULL RETURNING id",
                               1, params, PGRES_TUPLES_OK);
    if (!r)
        goto out;
    if (PQntuples(r) == 0) {
        PQclear(r);
        r = cli_db_query(ctx, "could not look the subscriber up",
                         "SELECT " CLI_SQL_LOCAL("revoked_at") " FROM subscribers WHERE name = $1",
                         1, params, PGRES_TUPLES_OK);
        if (r && PQntuples(r) == 1)
            fprintf(stderr, "cchc: subscriber '%s' was already revoked at %s\n", name,
                    PQgetvalue(r, 0, 0));
        else if (r)
            fprintf(stderr, "cchc: unknown subscriber '%s': 'cchc subscriber list' shows them\n",
                    name);
        goto out;
    }
    if (cli_db_exec(ctx, "could not notify the server", "NOTIFY cchc_keys", 0, NULL) != 0 ||
        cli_db_commit(ctx) != 0)
        goto out;
    printf("subscriber %s revoked\n", name);
    CCHC_LOG(CCHC_LOG_INFO, "subscriber_revoked", "name=%s", name);
    rc = CLI_EXIT_OK;
out:
    PQclear(r);
    if (rc != CLI_EXIT_OK)
        cli_db_rollback(ctx);
    return rc;
}

int cli_subscriber_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"topics", required_argument, NULL, 't'}, {"key", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    s_opts_t o = {0};
    int nargs;
    char **args;
    int rc = cli_db_parse_opts(argc, argv, opts, s_usage, s_on_opt, &o, &nargs, &args);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    int add_opts = o.topics || o.key || o.out;
    if (strcmp(verb, "add") == 0 && nargs == 1 && !o.json)
        return s_add(ctx, args[0], &o);
    if (strcmp(verb, "list") == 0 && nargs == 0 && !add_opts)
        return s_list(ctx, o.json);
    if (strcmp(verb, "revoke") == 0 && nargs == 1 && !add_opts && !o.json)
        return s_revoke(ctx, args[0]);
    if (strcmp(verb, "add") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "revoke") == 0)
        fprintf(stderr, "cchc: wrong arguments or options for 'subscriber %s'\n", verb);
    else
        fprintf(stderr, "cchc: unknown subcommand 'subscriber %s'\n", verb);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
