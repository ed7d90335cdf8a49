/* cli_unit.c: `cchc unit`: dispatch of its subcommands, and `cchc unit list`.
 *
 * The import, the larger half, lives in cli_unit_import.c. */
#include "cli_db.h"
#include "cchc_clock.h"

#include <getopt.h>
#include <string.h>

static int s_list(cli_ctx_t *ctx, int json)
{
    static const char *const cols[] = {"code",        "kind",        "name",         "parent",
                                       "valid_from",  "valid_to",    "successor",    "last_seen",
                                       "active_keys", "queue_depth", "agent_version"};
    if (cli_db_connect(ctx, 1) != 0)
        return CLI_EXIT_FAIL;
    PGresult *r = cli_db_query(
        ctx, "could not list the units",
        "SELECT u.code, u.kind, u.name, u.parent, u.valid_from::text, u.valid_to::text, "
        "u.successor, (extract(epoch FROM c.last_seen) * 1000)::int8, "
        "count(k.id) FILTER (WHERE k.revoked_at IS NULL), c.queue_depth, c.agent_version "
        "FROM units u LEFT JOIN unit_contacts c ON c.unit_code = u.code "
        "LEFT JOIN agent_keys k ON k.unit_code = u.code "
        "GROUP BY u.code, c.unit_code ORDER BY u.code COLLATE \"C\"",
        0, NULL, PGRES_TUPLES_OK);
    if (!r)
        return CLI_EXIT_FAIL;
    int n = PQntuples(r), rc = CLI_EXIT_OK;
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            json_t *o = json_object();
            for (int c = 0; c < 7; c++)
                json_object_set_new(o, cols[c], cli_db_json_text(r, i, c));
            char when[32];
            if (!PQgetisnull(r, i, 7))
                cchc_clock_format_utc(cli_db_int(r, i, 7), when, sizeof when);
            json_object_set_new(o, cols[7], PQgetisnull(r, i, 7) ? json_null() : json_string(when));
            json_object_set_new(o, cols[8], cli_db_json_int(r, i, 8));
            json_object_set_new(o, cols[9], cli_db_json_int(r, i, 9));
            json_object_set_new(o, cols[10], cli_db_json_text(r, i, 10));
            json_array_append_new(arr, o);
        }
        if (cli_db_json_print(&arr) != 0)
            rc = CLI_EXIT_FAIL;
    } else if (n == 0) {
        printf("no units yet: load them with 'cchc unit import FILE.csv'\n");
    } else {
        cli_table_t *t = cli_db_table_new(11, cols);
        for (int i = 0; i < n; i++) {
            const char *cells[11];
            char when[32];
            for (int c = 0; c < 11; c++)
                cells[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
            if (cells[7]) {
                cchc_clock_format_local(cli_db_int(r, i, 7), when, sizeof when);
                cells[7] = when;
            }
            cli_db_table_add(t, cells);
        }
        cli_db_table_print(t, stdout);
        cli_db_table_destroy(&t);
    }
    PQclear(r);
    return rc;
}

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] unit import FILE.csv\n"
          "       cchc [-c admin.ini] unit list [--json]\n"
          "\n"
          "import  adds or updates units (by code) from a UTF-8 CSV file whose header is\n"
          "        exactly " CLI_UNIT_CSV_HEADER "\n"
          "        (the format of deploy/data/units.csv). kind is one of\n"
          "        " CLI_UNIT_KINDS ";\n"
          "        dates are YYYY-MM-DD; parent and successor name units in the file or\n"
          "        already in the database. All or nothing: any bad row is reported as\n"
          "        FILE:LINE: reason and nothing is written. Importing twice is harmless.\n"
          "list    shows every unit with its last contact, number of active keys, and the\n"
          "        reports its agent still had to send and its version at that contact;\n"
          "        --json prints a JSON array instead of a table.\n",
          f);
}

int cli_unit_run(cli_ctx_t *ctx, int argc, char **argv)
{
    return cli_db_import_list_run(ctx, argc, argv, s_usage, cli_unit_import, s_list);
}
