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

static const cli_out_col_t s_task_cols[] = {
    {"task", "Mã nhiệm vụ", CLI_OUT_TEXT, 0, 0},
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"target", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"target_vi", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"due", "Hạn", CLI_OUT_DATE, 0, 0},
    {"lead", "Chủ trì", CLI_OUT_TEXT, 0, 20},
    {"leads", "Số đơn vị chủ trì", CLI_OUT_INT, 0, 0},
    {"done", "Hoàn thành", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"in_progress", "Đang thực hiện", CLI_OUT_INT, 0, 0},
    {"not_reported", "Chưa báo cáo", CLI_OUT_INT, 0, 0},
    {"exempt", "Miễn", CLI_OUT_INT, CLI_OUT_JSON_ONLY, 0},
    {"done_rate", "Tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"avg_percent", "Tiến độ bình quân (%)", CLI_OUT_NUM, 0, 0},
    {"state", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"state_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"title", "Tên nhiệm vụ", CLI_OUT_TEXT, 0, 40},
};

/* $1 index, $2 dimension, $3 status. */
static const char s_task_sql[] =
    "SELECT k.task_code, k.index_name, k.dimension, k.target, cchc_label_vi(k.target), "
    "k.due::text, k.lead, k.leads, k.done, k.overdue, k.in_progress, k.not_reported, k.exempt, "
    "k.done_rate, k.avg_percent, k.state, k.state_vi, k.title FROM cchc_tasks k "
    "WHERE ($1::text IS NULL OR k.index_name = $1) AND ($2::text IS NULL OR k.dimension = $2) "
    "AND ($3::text IS NULL OR k.state = $3) ORDER BY k.due, k.task_code";

static const cli_out_col_t s_unit_cols[] = {
    {"task", "Mã nhiệm vụ", CLI_OUT_TEXT, 0, 0},
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"due", "Hạn", CLI_OUT_DATE, 0, 0},
    {"unit", "Mã đơn vị", CLI_OUT_TEXT, 0, 0},
    {"unit_name", "Đơn vị", CLI_OUT_TEXT, 0, 0},
    {"progress_status", "Báo cáo gần nhất", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"progress_status_vi", "Báo cáo gần nhất", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"percent", "Tiến độ (%)", CLI_OUT_INT, 0, 0},
    {"done_by_due", "Hoàn thành đúng hạn", CLI_OUT_BOOL, CLI_OUT_JSON_ONLY, 0},
    {"state", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"state_vi", "Tình trạng", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"report_id", "Báo cáo", CLI_OUT_INT, 0, 0},
    {"received_at", "Nhận lúc", CLI_OUT_TIME, 0, 0},
    {"result", "Kết quả", CLI_OUT_TEXT, 0, 40},
};

/* $1 index, $2 dimension, $3 status, $4 unit. */
static const char s_unit_sql[] =
    "SELECT k.task_code, k.index_name, k.dimension, k.due::text, k.unit_code, k.unit_name, "
    "k.progress_status, cchc_label_vi(k.progress_status), k.percent, "
    "coalesce(k.done_by_due, false), k.state, k.state_vi, k.report_id, "
    "(extract(epoch FROM k.received_at) * 1000)::int8, k.result FROM cchc_task_units k "
    "WHERE ($1::text IS NULL OR k.index_name = $1) AND ($2::text IS NULL OR k.dimension = $2) "
    "AND ($3::text IS NULL OR k.state = $3) AND ($4::text IS NULL OR k.unit_code = $4) "
    "ORDER BY k.due, k.task_code, k.unit_code";

static const cli_out_col_t s_dim_cols[] = {
    {"index", "Chỉ số", CLI_OUT_TEXT, 0, 0},
    {"dimension", "Nội dung", CLI_OUT_TEXT, 0, 0},
    {"target", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_JSON_ONLY, 0},
    {"target_vi", "Mục tiêu", CLI_OUT_TEXT, CLI_OUT_HUMAN_ONLY, 0},
    {"tasks", "Số nhiệm vụ", CLI_OUT_INT, 0, 0},
    {"done", "Hoàn thành", CLI_OUT_INT, 0, 0},
    {"overdue", "Quá hạn", CLI_OUT_INT, 0, 0},
    {"in_progress", "Đang thực hiện", CLI_OUT_INT, 0, 0},
    {"done_rate", "Tỷ lệ hoàn thành (%)", CLI_OUT_NUM, 0, 0},
    {"avg_percent", "Tiến độ bình quân (%)", CLI_OUT_NUM, 0, 0},
    {"total", "Tổng", CLI_OUT_BOOL, CLI_OUT_TOTAL, 0},
};

/* $1 index, $2 dimension. The total is over the tasks, not the dimensions. */
static const char s_dim_sql[] =
    "WITH k AS (SELECT * FROM cchc_tasks k WHERE ($1::text IS NULL OR k.index_name = $1) "
    "AND ($2::text IS NULL OR k.dimension = $2)) "
    "SELECT k.index_name, k.dimension, k.target, cchc_label_vi(k.target), count(*), "
    "count(*) FILTER (WHERE k.state = 'done'), count(*) FILTER (WHERE k.state = 'overdue'), "
    "count(*) FILTER (WHERE k.state = 'in_progress'), "
    "cchc_rate(count(*) FILTER (WHERE k.state = 'done'), count(*)), "
    "round(avg(k.avg_percent), 1), false FROM k GROUP BY k.index_name, k.dimension, k.target "
    "UNION ALL SELECT NULL, NULL, NULL, NULL, count(*), "
    "count(*) FILTER (WHERE k.state = 'done'), count(*) FILTER (WHERE k.state = 'overdue'), "
    "count(*) FILTER (WHERE k.state = 'in_progress'), "
    "cchc_rate(count(*) FILTER (WHERE k.state = 'done'), count(*)), "
    "round(avg(k.avg_percent), 1), true FROM k HAVING count(*) > 0 "
    "ORDER BY 11, 1, 2, 3";

#define S_N(a) ((int)(sizeof(a) / sizeof(a)[0]))

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
    if (by == 0)
        return cli_fig_print(ctx, &o, "could not list the tasks", s_task_cols, S_N(s_task_cols),
                             s_task_sql, 3, params, empty);
    if (by == 1)
        return cli_fig_print(ctx, &o, "could not list the tasks' units", s_unit_cols,
                             S_N(s_unit_cols), s_unit_sql, 4, params, empty);
    return cli_fig_print(ctx, &o, "could not list the dimensions", s_dim_cols, S_N(s_dim_cols),
                         s_dim_sql, 2, params, empty);
}
