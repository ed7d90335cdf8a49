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

#include <getopt.h>
#include <string.h>

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] key add UNIT PUBLIC_KEY_FILE\n"
          "\n"
          "Registers the CURVE public key of a unit's agent (the agent's NAME.pub file:\n"
          "40 Z85 characters). The server accepts the agent as that unit at once.\n",
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

int cli_key_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    if (argc < 2) {
        fprintf(stderr, "cchc: key needs a subcommand: add\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(stdout);
        return CLI_EXIT_OK;
    }
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            s_usage(stdout);
            return CLI_EXIT_OK;
        }
        cli_db_bad_option(c, argv + 1);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "add") != 0) {
        fprintf(stderr, "cchc: unknown subcommand 'key %s'\n", argv[1]);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (argc - 1 - optind != 2) {
        fprintf(stderr, "cchc: key add needs UNIT and PUBLIC_KEY_FILE\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return s_add(ctx, argv[1 + optind], argv[2 + optind]);
}
