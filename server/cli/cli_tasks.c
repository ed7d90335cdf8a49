/* cli_tasks.c: `cchc tasks`, the plan's tasks and their progress.
 *
 * A progress report meets the duty to report, never the task itself
 * (DOMAIN.md section 7): a lead unit has done its task only when its latest
 * report received on or before the due date says done, and the task is
 * overdue once the due date passes without that. Per task (view cchc_tasks,
 * the default), per task and lead unit (cchc_task_units) or per index
 * dimension and target (cchc_task_dimensions, with a total row). */
#include "cli_fig.h"

#include <string.h>

static const char *const s_bys[] = {"task", "unit", "dimension", NULL};
static const char *const s_statuses[] = {"done",         "overdue", "in_progress", "blocked",
                                         "not_reported", "exempt",  NULL};

static void s_usage(FILE *f)
{
    fputs("usage: cchc [-c admin.ini] tasks [--by task|unit|dimension] [--index I]\n"
          "                 [--dimension D] [--unit U] [--status S] [--rollup] [--json | --csv]\n"
          "\n"
          "The plan's tasks (nhiệm vụ Kế hoạch) and their progress. A lead unit has done\n"
          "a task only when its latest progress report received by the due date says\n"
          "done; past the due date without that, it is overdue (a report at 60 % is\n"
          "progress, not completion).\n"
          "  --by task       one row per task: lead units done, overdue, in progress, not\n"
          "                  reported, completion rate and average percent (default)\n"
          "  --by unit       one row per task and lead unit: the latest report's status,\n"
          "                  percent and result\n"
          "  --by dimension  one row per index dimension and target (maintain duy trì,\n"
          "                  improve cải thiện), with a total row\n"
          "  --index I       PAPI, PAR or SIPAS\n"
          "  --dimension D   D1-D8 (PAPI), L1-L8 (PAR), S1-S5 (SIPAS)\n"
          "  --unit U        with --by unit: one lead unit\n"
          "  --status S      with --by task: done, overdue or in_progress; with --by unit\n"
          "                  also blocked, not_reported or exempt\n" CLI_FIG_USAGE_ROLLUP
              CLI_FIG_USAGE_FORMATS,
          f);
}

static const cli_fig_spec_t s_spec = {
    .name = "tasks",
    .accept = CLI_FIG_BY | CLI_FIG_INDEX | CLI_FIG_DIMENSION | CLI_FIG_UNIT | CLI_FIG_STATUS |
              CLI_FIG_ROLLUP,
    .statuses = s_statuses,
    .bys = s_bys,
    .usage = s_usage,
};

int cli_tasks_run(cli_ctx_t *ctx, int argc, char **argv)
{
    static const char *const task_states[] = {"done", "overdue", "in_progress", NULL};
    cli_fig_opts_t o;
    int rc = cli_fig_parse(&s_spec, argc, argv, &o);
    if (rc >= 0)
        return rc;
    int by = strcmp(o.by, "task") == 0 ? 0 : strcmp(o.by, "unit") == 0 ? 1 : 2;
    const char *bad = NULL;
    if (o.unit && by != 1)
        bad = "--unit goes with --by unit";
    else if (o.status && by == 2)
        bad = "--status goes with --by task or --by unit";
    else if (o.status && by == 0 &&
             !(strcmp(o.status, task_states[0]) == 0 || strcmp(o.status, task_states[1]) == 0 ||
               strcmp(o.status, task_states[2]) == 0))
        bad = "a task's --status is done, overdue or in_progress (the others are a unit's: "
              "--by unit)";
    if (bad) {
        fprintf(stderr, "cchc: tasks: %s\n", bad);
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_fig_connect(ctx, &o) != 0)
        return CLI_EXIT_FAIL;
    const char *params[4] = {o.index, o.dimension, o.status, o.unit};
    const char *empty = "no tasks match: 'cchc plan import' loads the plan's task table";
    static const char *const whats[] = {"could not list the tasks",
                                        "could not list the tasks' units",
                                        "could not list the dimensions"};
    return cli_fig_print_def(ctx, &o, whats[by], &cli_figs_tasks[by], params, empty);
}
