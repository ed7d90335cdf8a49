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

int cli_agents_run(cli_ctx_t *ctx, int argc, char **argv)
{
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[2] = {o.unit, o.all || o.unit ? "t" : "f"};
    return cli_fig_print_def(ctx, &o, "could not list the agents", &cli_figs_agents, params,
                             o.all
                                 ? "no units yet: 'cchc unit import FILE.csv' loads them"
                                 : "no open units: 'cchc agents --all' shows the closed ones too");
}
