/* cli_migrate.c: `cchc migrate`, apply the schema migrations of this build.
 *
 * The same embedded migrations, checks and advisory lock as cchc-server
 * (srv_migrate), so an operator can prepare or verify a database before the
 * first server start, and a CLI and a server starting together do not race. */
#include "cli_db.h"
#include "srv_migrate.h"

#include <getopt.h>
#include <stdio.h>

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] migrate\n"
          "\n"
          "Applies every schema migration this build carries that the database lacks,\n"
          "each in its own transaction, and records its sha256 in schema_migrations.\n"
          "Before writing anything it refuses, exit 1, a database newer than this build\n"
          "(or migrated by another build) and a database where an applied migration's\n"
          "recorded sha256 is not that of this build's file (the file was edited after\n"
          "it was applied: never edit an applied migration, add a new one; to go back,\n"
          "install the build that matches). The migrations applied before checksums were\n"
          "kept (001-018) are given this build's checksums on the first run (trust on\n"
          "first use). With nothing to apply it only verifies.\n",
          f);
}

int cli_migrate_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
        if (c == 'h') {
            s_usage(stdout);
            return CLI_EXIT_OK;
        }
        cli_db_bad_option(c, argv);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (optind != argc) {
        fprintf(stderr, "cchc: migrate takes no arguments\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    if (cli_db_connect(ctx, 0) != 0)
        return CLI_EXIT_FAIL;
    char err[1024];
    srv_migrate_report_t rep;
    if (srv_migrate_run(ctx->conn, &rep, err, sizeof err) != 0) {
        fprintf(stderr, "cchc: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    printf("schema at version %d (applied %d)\n", srv_migrate_latest(), rep.applied);
    if (rep.trusted > 0)
        printf("recorded the checksums of %d migration(s) applied before checksums were kept: "
               "this build's files are taken as the ones applied (trust on first use)\n",
               rep.trusted);
    return CLI_EXIT_OK;
}
