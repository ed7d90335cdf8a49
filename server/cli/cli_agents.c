/* cli_agents.c: `cchc agents`, which agents have not synced lately.
 *
 * One row per unit (view cchc_agents, or cchc_agents_all with --all): its
 * agent's last contact, version, queued reports and clock skew as the agent
 * last told them, since when it is silent (the scheduler's agent.silent),
 * its active keys, and the reports it had refused that no accepted revision
 * has answered yet. Oldest contact first, units never heard from at the top:
 * the ones to call. Units closed (or not yet open) are left out unless --all. */
#include "cli_fig.h"

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] agents [--unit U] [--all] [--json | --csv]\n"
          "\n"
          "The agents' sync health (tình trạng đồng bộ), the longest silent first: last\n"
          "contact, silent since (when the server raised agent.silent), agent version,\n"
          "reports still queued on the agent, its clock's offset from the server's,\n"
          "active keys, and reports refused and not yet fixed. Units open today only.\n"
          "  --all      units closed (or not yet open) too\n"
          "  --unit U   one unit\n" CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "agents",
    .accept = CLI_FIG_UNIT | CLI_FIG_ALL,
    .usage = s_usage,
};

static const cli_out_col_t s_cols[] = {
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"kind", "Loại", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"kind_vi", "Loại", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"last_seen", "Liên lạc lần cuối", CLI_OUT_TIME, 0, 0},
    {"silent_since", "Im lặng từ", CLI_OUT_TIME, 0, 0},
    {"agent_version", "Phiên bản", CLI_OUT_TEXT, 0, 0},
    {"queue_depth", "Đang chờ gửi", CLI_OUT_INT, 0, 0},
    {"clock_skew_ms", "Lệch đồng hồ (ms)", CLI_OUT_INT, 0, 0},
    {"active_keys", "Khoá hiệu lực", CLI_OUT_INT, 0, 0},
    {"refused_open", "Báo cáo bị từ chối chưa sửa", CLI_OUT_INT, 0, 0},
    {"open", "Đang hoạt động", CLI_OUT_BOOL, 0, 0},
    {"valid_from", "Hoạt động từ", CLI_OUT_DATE, CLI_OUT_JSON_ONLY, 0},
    {"valid_to", "Đến", CLI_OUT_DATE, CLI_OUT_JSON_ONLY, 0},
};

/* $1 unit, $2 't' for units not open today too. */
static const char s_sql[] =
    "SELECT a.unit_code, a.unit_name, a.unit_kind, cchc_label_vi(a.unit_kind), "
    "(extract(epoch FROM a.last_seen) * 1000)::int8, "
    "(extract(epoch FROM a.silent_since) * 1000)::int8, nullif(a.agent_version, ''), "
    "a.queue_depth, a.clock_skew_ms, a.active_keys, a.refused_open, a.is_open, "
    "a.valid_from::text, a.valid_to::text FROM cchc_agents_all a "
    "WHERE ($1::text IS NULL OR a.unit_code = $1) AND ($2::boolean OR a.is_open) "
    "ORDER BY a.last_seen NULLS FIRST, a.unit_code";

int cli_agents_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[2] = {o.unit, o.all || o.unit ? "t" : "f"};
    return cli_fig_print(ctx, &o, "could not list the agents", s_cols,
                         (int)(sizeof s_cols / sizeof s_cols[0]), s_sql, 2, params,
                         o.all ? "no units yet: 'cchc unit import FILE.csv' loads them"
                               : "no open units: 'cchc agents --all' shows the closed ones too");
}
