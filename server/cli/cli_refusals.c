/* cli_refusals.c: `cchc refusals`, the principals the server refused.
 *
 * cchc-server counts in the table refusals (migration 015, written by
 * srv_refusals.c) what an authenticated principal sent and may not: an
 * agent's report or message for another unit, a message on a revoked or
 * expired key, a subscriber's topic outside its grant, a message its kind of
 * principal may not send, a closed unit's key past its grace (020). One row per principal, kind and
 * minute of the server's clock, with how many times; this command lists them, oldest first, from
 * the view cchc_refusals (Vietnamese labels), as a table, JSON or CSV. Viewers may run it; nobody
 * but the server writes the table. */
#include "cli_fig.h"

static void s_usage(FILE *f)
{
    fputs(
        "usage: cchc [-c admin.ini] refusals [--since YYYY-MM-DD] [--json | --csv]\n"
        "\n"
        "What the server refused from an agent or a subscriber whose key it knows\n"
        "(bên gửi bị từ chối), oldest first, one row per sender, kind and minute, with\n"
        "how many times:\n"
        "  unit_mismatch  a report or message for another unit (claimed: that unit)\n"
        "  key_revoked    a message on a key revoked since it connected\n"
        "  key_expired    a message or a connection on an expired key\n"
        "  topic_outside  a subscriber asking for a topic outside its grant (claimed:\n"
        "                 the topic)\n"
        "  not_allowed    a message its kind of sender may not send (a subscriber's\n"
        "                 report, an agent's replay)\n"
        "  unit_closed    a message or a connection on a key of a unit closed longer than\n"
        "                 [units] closed_key_grace_days of server.ini\n"
        "The sender is a unit's code, or sub:NAME for a subscriber; the key is the id of\n"
        "'cchc key list' (agents: 'cchc key revoke ID') or of the subscriber.\n"
        "  --since DAY       only minutes from that day on (Vietnam time)\n" CLI_FIG_USAGE_FORMATS,
        f);
}

static const cli_fig_spec_t s_spec = {
    .name = "refusals",
    .accept = CLI_FIG_SINCE,
    .usage = s_usage,
};

static const cli_out_col_t s_cols[] = {
    {"minute", "Phút", CLI_OUT_TIME, 0, 0},
    {"first_at", "Lần đầu", CLI_OUT_TIME, CLI_OUT_JSON_ONLY, 0},
    {"last_at", "Lần cuối", CLI_OUT_TIME, CLI_OUT_JSON_ONLY, 0},
    {"kind", "Loại", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"kind_vi", "Lý do từ chối", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"principal", "Bên gửi", CLI_OUT_TEXT, 0, 0},
    {"key_id", "Mã khoá", CLI_OUT_INT, 0, 0},
    {"claimed", "Khai là", CLI_OUT_TEXT, 0, 40},
    {"message", "Loại tin", CLI_OUT_TEXT, 0, 0},
    {"count", "Số lần", CLI_OUT_INT, 0, 0},
};

/* $1: a day, from 00:00 Vietnam time, or NULL. */
static const char s_sql[] =
    "SELECT (extract(epoch FROM r.minute) * 1000)::int8, "
    "(extract(epoch FROM r.first_at) * 1000)::int8, (extract(epoch FROM r.last_at) * 1000)::int8, "
    "r.kind, r.kind_vi, r.principal, r.key_id, r.claimed, r.message, r.count "
    "FROM cchc_refusals r WHERE $1::date IS NULL "
    "OR r.minute >= ($1::date::timestamp - interval '7 hours') AT TIME ZONE 'UTC' "
    "ORDER BY r.minute, r.kind, r.principal";

int cli_refusals_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[1] = {o.since};
    return cli_fig_print(ctx, &o, "could not list the refusals", s_cols,
                         (int)(sizeof s_cols / sizeof s_cols[0]), s_sql, 1, params,
                         o.since ? "no refusals recorded since that day" : "no refusals recorded");
}
